//! Jobs and classification on PostgreSQL. Claims use `FOR UPDATE SKIP LOCKED`: concurrent
//! workers (in any number of processes) each lock different due rows and never wait for one
//! another; a claimed row is `running` under a lease until it is finished or swept.

use async_trait::async_trait;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};
use time::OffsetDateTime;
use uuid::Uuid;

use super::postgres::{OUTBOX_LOCK_SPACE, PgStore};
use super::*;

/// Inserts jobs in the caller's transaction (a PENDING attempt's classification is enqueued
/// with the attempt). A job whose key exists already is skipped. Returns how many were new.
pub(super) async fn insert_jobs(tx: &mut PgConnection, jobs: &[&NewJob]) -> Result<u64> {
    if jobs.is_empty() {
        return Ok(0);
    }
    let now = OffsetDateTime::now_utc();
    let mut q = sqlx::QueryBuilder::<sqlx::Postgres>::new(super::jobs_sql::INSERT_JOBS);
    q.push_values(jobs, |mut row, j| {
        row.push_bind(j.id)
            .push_bind(j.kind.clone())
            .push_bind(j.dedupe_key.clone())
            .push_bind(j.payload.clone())
            .push_bind("queued")
            .push_bind(0i32)
            .push_bind(j.max_attempts)
            .push_bind(j.run_after)
            .push_bind(now)
            .push_bind(now);
    });
    q.push(" ON CONFLICT (dedupe_key) DO NOTHING");
    Ok(q.build().execute(&mut *tx).await?.rows_affected())
}

fn claimed(r: PgRow) -> Result<ClaimedJob> {
    Ok(ClaimedJob {
        id: r.try_get("id")?,
        kind: r.try_get("kind")?,
        payload: r.try_get("payload")?,
        attempts: r.try_get("attempts")?,
        max_attempts: r.try_get("max_attempts")?,
        created_at: r.try_get("created_at")?,
    })
}

fn job_record(r: PgRow) -> Result<JobRecord> {
    let status: String = r.try_get("status")?;
    Ok(JobRecord {
        id: r.try_get("id")?,
        kind: r.try_get("kind")?,
        dedupe_key: r.try_get("dedupe_key")?,
        status: JobStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("job status {status:?}")))?,
        attempts: r.try_get("attempts")?,
        max_attempts: r.try_get("max_attempts")?,
        lease_owner: r.try_get("lease_owner")?,
        last_error: r.try_get("last_error")?,
        run_after: r.try_get("run_after")?,
    })
}

/// Adds a classification's event inside the caller's transaction, after the ordering key's lock:
/// the same ordering rule as the attempts' own events (see postgres_writer).
async fn insert_event_in(tx: &mut PgConnection, event: &OutboxEvent, at: OffsetDateTime) -> Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
        .bind(OUTBOX_LOCK_SPACE)
        .bind(&event.ordering_key)
        .execute(&mut *tx)
        .await?;
    sqlx::query(super::jobs_sql::INSERT_EVENT)
        .bind(event.event_id)
        .bind(&event.event_type)
        .bind(&event.ordering_key)
        .bind(&event.payload)
        .bind(at)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// Marks a job done inside the caller's transaction, if `owner` still holds it. The owner stays
/// on the row: who ran it.
async fn complete_in(tx: &mut PgConnection, id: Uuid, owner: &str, now: OffsetDateTime) -> Result<bool> {
    let done = sqlx::query(super::jobs_sql::COMPLETE_JOB)
        .bind(id)
        .bind(owner)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    Ok(done.rows_affected() == 1)
}

#[async_trait]
impl JobStore for PgStore {
    async fn enqueue(&self, job: &NewJob) -> Result<bool> {
        let mut conn = self.pool.acquire().await?;
        Ok(insert_jobs(&mut conn, &[job]).await? == 1)
    }

    async fn claim_jobs(
        &self,
        kinds: &[&str],
        owner: &str,
        limit: i64,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
    ) -> Result<Vec<ClaimedJob>> {
        let kinds: Vec<String> = kinds.iter().map(|k| k.to_string()).collect();
        let rows = sqlx::query(
            "UPDATE job SET status = 'running', attempts = attempts + 1, lease_owner = $3, lease_until = $4, \
               updated_at = $5 \
             WHERE id IN (SELECT id FROM job WHERE status = 'queued' AND run_after <= $5 AND kind = ANY($1) \
                          ORDER BY run_after LIMIT $2 FOR UPDATE SKIP LOCKED) \
             RETURNING id, kind, payload, attempts, max_attempts, created_at",
        )
        .bind(&kinds)
        .bind(limit)
        .bind(owner)
        .bind(lease_until)
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        let mut jobs = rows.into_iter().map(claimed).collect::<Result<Vec<_>>>()?;
        jobs.sort_by_key(|j| j.created_at);
        Ok(jobs)
    }

    async fn extend_lease(&self, id: Uuid, owner: &str, lease_until: OffsetDateTime) -> Result<bool> {
        let r = sqlx::query(super::jobs_sql::EXTEND_LEASE)
            .bind(id)
            .bind(owner)
            .bind(lease_until)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn finish_job(&self, id: Uuid, owner: &str, outcome: &JobOutcome, now: OffsetDateTime) -> Result<bool> {
        let r = match outcome {
            JobOutcome::Done => {
                let mut conn = self.pool.acquire().await?;
                return complete_in(&mut conn, id, owner, now).await;
            }
            JobOutcome::Retry { error, run_after } => sqlx::query(super::jobs_sql::RETRY_JOB)
                .bind(id)
                .bind(owner)
                .bind(error)
                .bind(run_after)
                .bind(now),
            JobOutcome::Dead { error } => sqlx::query(super::jobs_sql::BURY_JOB)
                .bind(id)
                .bind(owner)
                .bind(error)
                .bind(now),
        }
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn sweep_expired_leases(&self, now: OffsetDateTime) -> Result<Swept> {
        let requeued = sqlx::query(super::jobs_sql::REQUEUE_EXPIRED)
            .bind(now)
            .execute(&self.pool)
            .await?
            .rows_affected();
        let dead = sqlx::query(super::jobs_sql::BURY_EXPIRED)
            .bind(now)
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(claimed)
            .collect::<Result<Vec<_>>>()?;
        Ok(Swept { requeued, dead })
    }

    async fn queue_depths(&self, now: OffsetDateTime) -> Result<Vec<QueueDepth>> {
        // Done jobs are history, not queue: only their count is cheap enough to skip.
        let rows = sqlx::query(
            "SELECT kind, status, COUNT(*) AS jobs, \
               COALESCE(EXTRACT(EPOCH FROM ($1 - MIN(CASE WHEN status = 'queued' THEN run_after ELSE updated_at END))), 0)::float8 AS oldest \
             FROM job WHERE status <> 'done' GROUP BY kind, status ORDER BY kind, status",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                let status: String = r.try_get("status")?;
                Ok(QueueDepth {
                    kind: r.try_get("kind")?,
                    status: JobStatus::parse(&status)
                        .ok_or_else(|| StoreError::Corrupt(format!("job status {status:?}")))?,
                    jobs: r.try_get("jobs")?,
                    oldest_seconds: r.try_get::<f64, _>("oldest")?.max(0.0),
                })
            })
            .collect()
    }

    async fn prune_retained(
        &self,
        events_before: Option<OffsetDateTime>,
        idempotency_before: Option<OffsetDateTime>,
    ) -> Result<Pruned> {
        super::jobs_sql::prune_retained(events_before, idempotency_before, |sql, before| async move {
            Ok(sqlx::query(sql)
                .bind(before)
                .bind(super::jobs_sql::PRUNE_BATCH)
                .execute(&self.pool)
                .await?
                .rows_affected())
        })
        .await
    }

    async fn purge_done_jobs(&self, before: OffsetDateTime) -> Result<u64> {
        Ok(sqlx::query(super::jobs_sql::PURGE_DONE)
            .bind(before)
            .execute(&self.pool)
            .await?
            .rows_affected())
    }

    async fn job(&self, id: Uuid) -> Result<Option<JobRecord>> {
        sqlx::query(super::jobs_sql::JOB_BY_ID)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .map(job_record)
            .transpose()
    }

    async fn job_by_key(&self, dedupe_key: &str) -> Result<Option<JobRecord>> {
        sqlx::query(super::jobs_sql::JOB_BY_KEY)
            .bind(dedupe_key)
            .fetch_optional(&self.pool)
            .await?
            .map(job_record)
            .transpose()
    }
}

#[async_trait]
impl ClassificationStore for PgStore {
    async fn finish_classification(
        &self,
        c: &Classification,
        event: &OutboxEvent,
        job: Option<(Uuid, &str)>,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let updated = sqlx::query(super::jobs_sql::CLASSIFY_ATTEMPT)
            .bind(c.attempt_id)
            .bind(&c.error_tag_code)
            .bind(&c.error_subtag)
            .bind(c.source.as_str())
            .bind(&c.classifier_name)
            .bind(c.confidence)
            .bind(&c.details)
            .bind(c.classified_at)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
        if updated {
            insert_event_in(&mut tx, event, c.classified_at).await?;
        }
        if let Some((id, owner)) = job {
            complete_in(&mut tx, id, owner, c.classified_at).await?;
        }
        tx.commit().await?;
        Ok(updated)
    }

    async fn pending_before(&self, before: OffsetDateTime, limit: i64) -> Result<Vec<Uuid>> {
        Ok(sqlx::query_scalar(super::jobs_sql::PENDING_BEFORE)
            .bind(before)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?)
    }

    async fn signature_tally(&self, signature: &str) -> Result<Vec<SignatureTally>> {
        let rows = sqlx::query(super::jobs_sql::SIGNATURE_TALLY)
            .bind(signature)
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter()
            .map(|r| {
                Ok(SignatureTally {
                    error_tag_code: r.try_get("error_tag_code")?,
                    reports: r.try_get("reports")?,
                    reporters: r.try_get("reporters")?,
                })
            })
            .collect()
    }

    async fn upsert_learned_rule(&self, rule: &LearnedRule) -> Result<()> {
        sqlx::query(super::jobs_sql::UPSERT_LEARNED_RULE)
            .bind(&rule.signature)
            .bind(&rule.error_tag_code)
            .bind(rule.reports as i32)
            .bind(rule.reporters as i32)
            .bind(rule.agreement)
            .bind(rule.learned_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn learned_rules(&self) -> Result<Vec<LearnedRule>> {
        let rows = sqlx::query(super::jobs_sql::LEARNED_RULES)
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter()
            .map(|r| {
                Ok(LearnedRule {
                    signature: r.try_get("signature")?,
                    error_tag_code: r.try_get("error_tag_code")?,
                    reports: i64::from(r.try_get::<i32, _>("reports")?),
                    reporters: i64::from(r.try_get::<i32, _>("reporters")?),
                    agreement: r.try_get("agreement")?,
                    learned_at: r.try_get("learned_at")?,
                })
            })
            .collect()
    }

    async fn delete_learned_rule(&self, signature: &str) -> Result<()> {
        sqlx::query(super::jobs_sql::DELETE_LEARNED_RULE)
            .bind(signature)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn disagreements(&self, limit: i64, before: Option<Uuid>) -> Result<Vec<Disagreement>> {
        let rows = sqlx::query(
            "SELECT r.id AS report_id, r.attempt_id, a.topic_code, a.signature, a.error_tag_code AS classified_tag, \
               a.classifier_source, a.classifier_name, a.confidence, r.error_tag_code AS reported_tag, r.reporter_role, \
               r.comment, r.created_at \
             FROM attempt_report r JOIN attempt a ON a.id = r.attempt_id \
             WHERE a.status = 'CLASSIFIED' AND a.error_tag_code IS DISTINCT FROM r.error_tag_code \
               AND ($2::uuid IS NULL OR r.id < $2) \
             ORDER BY r.id DESC LIMIT $1",
        )
        .bind(limit)
        .bind(before)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(Disagreement {
                    report_id: r.try_get("report_id")?,
                    attempt_id: r.try_get("attempt_id")?,
                    topic_code: r.try_get("topic_code")?,
                    signature: r.try_get("signature")?,
                    classified_tag: r.try_get("classified_tag")?,
                    classifier_source: r.try_get("classifier_source")?,
                    classifier_name: r.try_get("classifier_name")?,
                    confidence: r.try_get("confidence")?,
                    reported_tag: r.try_get("reported_tag")?,
                    reporter_role: r.try_get("reporter_role")?,
                    comment: r.try_get("comment")?,
                    reported_at: r.try_get("created_at")?,
                })
            })
            .collect()
    }

    async fn add_ai_usage(&self, day: time::Date, model: &str, calls: i64, tokens: i64) -> Result<i64> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(super::jobs_sql::ADD_AI_USAGE)
            .bind(day)
            .bind(model)
            .bind(calls)
            .bind(tokens)
            .execute(&mut *tx)
            .await?;
        let total: Option<i64> = sqlx::query_scalar("SELECT SUM(tokens)::bigint FROM ai_usage WHERE day = $1")
            .bind(day)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(total.unwrap_or(0))
    }

    async fn ai_usage(&self, day: time::Date) -> Result<i64> {
        let total: Option<i64> = sqlx::query_scalar("SELECT SUM(tokens)::bigint FROM ai_usage WHERE day = $1")
            .bind(day)
            .fetch_one(&self.pool)
            .await?;
        Ok(total.unwrap_or(0))
    }
}

#[async_trait]
impl AdhocStore for PgStore {
    async fn finish_adhoc(
        &self,
        solved: &AdhocSolved,
        mastery: Option<&MasteryUpdate>,
        event: &OutboxEvent,
        job: Option<(Uuid, &str)>,
    ) -> Result<bool> {
        let c = &solved.classification;
        let at = c.classified_at;
        let mut tx = self.pool.begin().await?;
        let updated = sqlx::query(super::jobs_sql::SOLVE_ADHOC_ATTEMPT)
            .bind(c.attempt_id)
            .bind(&solved.topic_code)
            .bind(solved.is_correct)
            .bind(&solved.expected_answer)
            .bind(solved.first_wrong_step)
            .bind(&solved.diagnosis)
            .bind(&c.error_tag_code)
            .bind(&c.error_subtag)
            .bind(c.source.as_str())
            .bind(&c.classifier_name)
            .bind(c.confidence)
            .bind(&c.details)
            .bind(at)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
        if updated {
            for (idx, parsed) in solved.steps_parsed.iter().enumerate() {
                sqlx::query(super::jobs_sql::STEP_PARSED)
                    .bind(c.attempt_id)
                    .bind(idx as i32)
                    .bind(*parsed)
                    .execute(&mut *tx)
                    .await?;
            }
            if let Some(m) = mastery {
                // The row lock serialises this update with POST /attempts' group writers.
                super::mastery_sql::apply_update::<sqlx::Postgres, _, _>(&mut tx, m, c.attempt_id, at, " FOR UPDATE")
                    .await?;
            }
            insert_event_in(&mut tx, event, at).await?;
        }
        if let Some((job_id, owner)) = job {
            complete_in(&mut tx, job_id, owner, at).await?;
        }
        tx.commit().await?;
        Ok(updated)
    }
}
