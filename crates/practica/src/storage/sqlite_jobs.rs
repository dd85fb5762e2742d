//! Jobs and classification on SQLite. A claim is one `BEGIN IMMEDIATE` transaction: it takes
//! the database's write lock before it reads, so two claimers (tasks, or processes sharing the
//! file) are serialised and never select the same due row. Job times are Unix milliseconds.

use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};
use time::OffsetDateTime;
use uuid::Uuid;

use super::sqlite::{SqliteStore, parse_json, parse_uuid, ts};
use super::*;

pub(super) fn ms(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

fn from_ms(v: i64) -> Result<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(v) * 1_000_000)
        .map_err(|e| StoreError::Corrupt(format!("job time {v}: {e}")))
}

/// Inserts jobs in the caller's transaction (a PENDING attempt's classification is enqueued
/// with the attempt). A job whose key exists already is skipped. Returns how many were new.
pub(super) async fn insert_jobs(tx: &mut SqliteConnection, jobs: &[&NewJob]) -> Result<u64> {
    if jobs.is_empty() {
        return Ok(0);
    }
    let now = ms(OffsetDateTime::now_utc());
    let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(super::jobs_sql::INSERT_JOBS);
    q.push_values(jobs, |mut row, j| {
        row.push_bind(j.id.to_string())
            .push_bind(j.kind.clone())
            .push_bind(j.dedupe_key.clone())
            .push_bind(j.payload.to_string())
            .push_bind("queued")
            .push_bind(0i64)
            .push_bind(i64::from(j.max_attempts))
            .push_bind(ms(j.run_after))
            .push_bind(now)
            .push_bind(now);
    });
    q.push(" ON CONFLICT (dedupe_key) DO NOTHING");
    Ok(q.build().execute(&mut *tx).await?.rows_affected())
}

fn claimed(r: SqliteRow) -> Result<ClaimedJob> {
    Ok(ClaimedJob {
        id: parse_uuid(&r.try_get::<String, _>("id")?)?,
        kind: r.try_get("kind")?,
        payload: parse_json(&r.try_get::<String, _>("payload")?)?,
        attempts: r.try_get::<i64, _>("attempts")? as i32,
        max_attempts: r.try_get::<i64, _>("max_attempts")? as i32,
        created_at: from_ms(r.try_get("created_at")?)?,
    })
}

fn job_record(r: SqliteRow) -> Result<JobRecord> {
    let status: String = r.try_get("status")?;
    Ok(JobRecord {
        id: parse_uuid(&r.try_get::<String, _>("id")?)?,
        kind: r.try_get("kind")?,
        dedupe_key: r.try_get("dedupe_key")?,
        status: JobStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("job status {status:?}")))?,
        attempts: r.try_get::<i64, _>("attempts")? as i32,
        max_attempts: r.try_get::<i64, _>("max_attempts")? as i32,
        lease_owner: r.try_get("lease_owner")?,
        last_error: r.try_get("last_error")?,
        run_after: from_ms(r.try_get("run_after")?)?,
    })
}

/// Adds a classification's event inside the caller's transaction.
async fn insert_event_in(tx: &mut SqliteConnection, event: &OutboxEvent, at: OffsetDateTime) -> Result<()> {
    sqlx::query(super::jobs_sql::INSERT_EVENT)
        .bind(event.event_id.to_string())
        .bind(&event.event_type)
        .bind(&event.ordering_key)
        .bind(event.payload.to_string())
        .bind(ts(at))
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// Marks a job done inside the caller's transaction, if `owner` still holds it. The owner stays
/// on the row: who ran it.
async fn complete_in(tx: &mut SqliteConnection, id: Uuid, owner: &str, now: OffsetDateTime) -> Result<bool> {
    let done = sqlx::query(super::jobs_sql::COMPLETE_JOB)
        .bind(id.to_string())
        .bind(owner)
        .bind(ms(now))
        .execute(&mut *tx)
        .await?;
    Ok(done.rows_affected() == 1)
}

#[async_trait]
impl JobStore for SqliteStore {
    async fn enqueue(&self, job: &NewJob) -> Result<bool> {
        let mut conn = self.write.acquire().await?;
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
        let kinds = serde_json::to_string(kinds).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut tx = self.write.begin_with("BEGIN IMMEDIATE").await?;
        let rows = sqlx::query(
            "UPDATE job SET status = 'running', attempts = attempts + 1, lease_owner = $3, lease_until = $4, \
               updated_at = $5 \
             WHERE id IN (SELECT id FROM job WHERE status = 'queued' AND run_after <= $5 \
                            AND kind IN (SELECT value FROM json_each($1)) ORDER BY run_after LIMIT $2) \
             RETURNING id, kind, payload, attempts, max_attempts, created_at",
        )
        .bind(kinds)
        .bind(limit)
        .bind(owner)
        .bind(ms(lease_until))
        .bind(ms(now))
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let mut jobs = rows.into_iter().map(claimed).collect::<Result<Vec<_>>>()?;
        jobs.sort_by_key(|j| j.created_at);
        Ok(jobs)
    }

    async fn extend_lease(&self, id: Uuid, owner: &str, lease_until: OffsetDateTime) -> Result<bool> {
        let r = sqlx::query(super::jobs_sql::EXTEND_LEASE)
            .bind(id.to_string())
            .bind(owner)
            .bind(ms(lease_until))
            .execute(&self.write)
            .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn finish_job(&self, id: Uuid, owner: &str, outcome: &JobOutcome, now: OffsetDateTime) -> Result<bool> {
        let r = match outcome {
            JobOutcome::Done => {
                let mut conn = self.write.acquire().await?;
                return complete_in(&mut conn, id, owner, now).await;
            }
            JobOutcome::Retry { error, run_after } => sqlx::query(super::jobs_sql::RETRY_JOB)
                .bind(id.to_string())
                .bind(owner)
                .bind(error)
                .bind(ms(*run_after))
                .bind(ms(now)),
            JobOutcome::Dead { error } => sqlx::query(super::jobs_sql::BURY_JOB)
                .bind(id.to_string())
                .bind(owner)
                .bind(error)
                .bind(ms(now)),
        }
        .execute(&self.write)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn sweep_expired_leases(&self, now: OffsetDateTime) -> Result<Swept> {
        let now = ms(now);
        let mut tx = self.write.begin_with("BEGIN IMMEDIATE").await?;
        let requeued = sqlx::query(super::jobs_sql::REQUEUE_EXPIRED)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let dead = sqlx::query(super::jobs_sql::BURY_EXPIRED)
            .bind(now)
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .map(claimed)
            .collect::<Result<Vec<_>>>()?;
        tx.commit().await?;
        Ok(Swept { requeued, dead })
    }

    async fn queue_depths(&self, now: OffsetDateTime) -> Result<Vec<QueueDepth>> {
        let rows = sqlx::query(
            "SELECT kind, status, COUNT(*) AS jobs, \
               MIN(CASE WHEN status = 'queued' THEN run_after ELSE updated_at END) AS oldest \
             FROM job WHERE status <> 'done' GROUP BY kind, status ORDER BY kind, status",
        )
        .fetch_all(&self.read)
        .await?;
        let now = ms(now);
        rows.into_iter()
            .map(|r| {
                let status: String = r.try_get("status")?;
                let oldest: Option<i64> = r.try_get("oldest")?;
                Ok(QueueDepth {
                    kind: r.try_get("kind")?,
                    status: JobStatus::parse(&status)
                        .ok_or_else(|| StoreError::Corrupt(format!("job status {status:?}")))?,
                    jobs: r.try_get("jobs")?,
                    oldest_seconds: oldest.map_or(0.0, |t| ((now - t) as f64 / 1000.0).max(0.0)),
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
                .bind(super::sqlite::ts(before))
                .bind(super::jobs_sql::PRUNE_BATCH)
                .execute(&self.write)
                .await?
                .rows_affected())
        })
        .await
    }

    async fn purge_done_jobs(&self, before: OffsetDateTime) -> Result<u64> {
        Ok(sqlx::query(super::jobs_sql::PURGE_DONE)
            .bind(ms(before))
            .execute(&self.write)
            .await?
            .rows_affected())
    }

    async fn job(&self, id: Uuid) -> Result<Option<JobRecord>> {
        sqlx::query(super::jobs_sql::JOB_BY_ID)
            .bind(id.to_string())
            .fetch_optional(&self.read)
            .await?
            .map(job_record)
            .transpose()
    }

    async fn job_by_key(&self, dedupe_key: &str) -> Result<Option<JobRecord>> {
        sqlx::query(super::jobs_sql::JOB_BY_KEY)
            .bind(dedupe_key)
            .fetch_optional(&self.read)
            .await?
            .map(job_record)
            .transpose()
    }
}

#[async_trait]
impl ClassificationStore for SqliteStore {
    async fn finish_classification(
        &self,
        c: &Classification,
        event: &OutboxEvent,
        job: Option<(Uuid, &str)>,
    ) -> Result<bool> {
        let mut tx = self.write.begin_with("BEGIN IMMEDIATE").await?;
        let updated = sqlx::query(super::jobs_sql::CLASSIFY_ATTEMPT)
            .bind(c.attempt_id.to_string())
            .bind(&c.error_tag_code)
            .bind(&c.error_subtag)
            .bind(c.source.as_str())
            .bind(&c.classifier_name)
            .bind(c.confidence)
            .bind(c.details.to_string())
            .bind(ts(c.classified_at))
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
        let ids: Vec<String> = sqlx::query_scalar(super::jobs_sql::PENDING_BEFORE)
            .bind(ts(before))
            .bind(limit)
            .fetch_all(&self.read)
            .await?;
        ids.iter().map(|s| parse_uuid(s)).collect()
    }

    async fn signature_tally(&self, signature: &str) -> Result<Vec<SignatureTally>> {
        let rows = sqlx::query(super::jobs_sql::SIGNATURE_TALLY)
            .bind(signature)
            .fetch_all(&self.read)
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
            .bind(rule.reports)
            .bind(rule.reporters)
            .bind(rule.agreement)
            .bind(ts(rule.learned_at))
            .execute(&self.write)
            .await?;
        Ok(())
    }

    async fn learned_rules(&self) -> Result<Vec<LearnedRule>> {
        let rows = sqlx::query(super::jobs_sql::LEARNED_RULES)
            .fetch_all(&self.read)
            .await?;
        rows.into_iter()
            .map(|r| {
                Ok(LearnedRule {
                    signature: r.try_get("signature")?,
                    error_tag_code: r.try_get("error_tag_code")?,
                    reports: r.try_get("reports")?,
                    reporters: r.try_get("reporters")?,
                    agreement: r.try_get("agreement")?,
                    learned_at: super::sqlite::parse_ts(&r.try_get::<String, _>("learned_at")?)?,
                })
            })
            .collect()
    }

    async fn delete_learned_rule(&self, signature: &str) -> Result<()> {
        sqlx::query(super::jobs_sql::DELETE_LEARNED_RULE)
            .bind(signature)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    async fn disagreements(&self, limit: i64, before: Option<Uuid>) -> Result<Vec<Disagreement>> {
        let rows = sqlx::query(
            "SELECT r.id AS report_id, r.attempt_id, a.topic_code, a.signature, a.error_tag_code AS classified_tag, \
               a.classifier_source, a.classifier_name, a.confidence, r.error_tag_code AS reported_tag, r.reporter_role, \
               r.comment, r.created_at \
             FROM attempt_report r JOIN attempt a ON a.id = r.attempt_id \
             WHERE a.status = 'CLASSIFIED' AND a.error_tag_code IS NOT r.error_tag_code \
               AND ($2 IS NULL OR r.id < $2) \
             ORDER BY r.id DESC LIMIT $1",
        )
        .bind(limit)
        .bind(before.map(|u| u.to_string()))
        .fetch_all(&self.read)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(Disagreement {
                    report_id: parse_uuid(&r.try_get::<String, _>("report_id")?)?,
                    attempt_id: parse_uuid(&r.try_get::<String, _>("attempt_id")?)?,
                    topic_code: r.try_get("topic_code")?,
                    signature: r.try_get("signature")?,
                    classified_tag: r.try_get("classified_tag")?,
                    classifier_source: r.try_get("classifier_source")?,
                    classifier_name: r.try_get("classifier_name")?,
                    confidence: r.try_get("confidence")?,
                    reported_tag: r.try_get("reported_tag")?,
                    reporter_role: r.try_get("reporter_role")?,
                    comment: r.try_get("comment")?,
                    reported_at: super::sqlite::parse_ts(&r.try_get::<String, _>("created_at")?)?,
                })
            })
            .collect()
    }

    async fn add_ai_usage(&self, day: time::Date, model: &str, calls: i64, tokens: i64) -> Result<i64> {
        let day = day.to_string();
        let mut tx = self.write.begin_with("BEGIN IMMEDIATE").await?;
        sqlx::query(super::jobs_sql::ADD_AI_USAGE)
            .bind(&day)
            .bind(model)
            .bind(calls)
            .bind(tokens)
            .execute(&mut *tx)
            .await?;
        let total: Option<i64> = sqlx::query_scalar("SELECT SUM(tokens) FROM ai_usage WHERE day = $1")
            .bind(&day)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(total.unwrap_or(0))
    }

    async fn ai_usage(&self, day: time::Date) -> Result<i64> {
        let total: Option<i64> = sqlx::query_scalar("SELECT SUM(tokens) FROM ai_usage WHERE day = $1")
            .bind(day.to_string())
            .fetch_one(&self.read)
            .await?;
        Ok(total.unwrap_or(0))
    }
}

#[async_trait]
impl AdhocStore for SqliteStore {
    async fn finish_adhoc(
        &self,
        solved: &AdhocSolved,
        mastery: Option<&MasteryUpdate>,
        event: &OutboxEvent,
        job: Option<(Uuid, &str)>,
    ) -> Result<bool> {
        let c = &solved.classification;
        let id = c.attempt_id.to_string();
        let at = ts(c.classified_at);
        let mut tx = self.write.begin_with("BEGIN IMMEDIATE").await?;
        let updated = sqlx::query(super::jobs_sql::SOLVE_ADHOC_ATTEMPT)
            .bind(&id)
            .bind(&solved.topic_code)
            .bind(solved.is_correct)
            .bind(&solved.expected_answer)
            .bind(solved.first_wrong_step)
            .bind(solved.diagnosis.to_string())
            .bind(&c.error_tag_code)
            .bind(&c.error_subtag)
            .bind(c.source.as_str())
            .bind(&c.classifier_name)
            .bind(c.confidence)
            .bind(c.details.to_string())
            .bind(&at)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
        if updated {
            for (idx, parsed) in solved.steps_parsed.iter().enumerate() {
                sqlx::query(super::jobs_sql::STEP_PARSED)
                    .bind(&id)
                    .bind(idx as i64)
                    .bind(*parsed)
                    .execute(&mut *tx)
                    .await?;
            }
            if let Some(m) = mastery {
                // The write lock is held (BEGIN IMMEDIATE): no other writer between read and write.
                super::mastery_sql::apply_update::<sqlx::Sqlite, _, _>(&mut tx, m, id.clone(), at.clone(), "").await?;
            }
            insert_event_in(&mut tx, event, c.classified_at).await?;
        }
        if let Some((job_id, owner)) = job {
            complete_in(&mut tx, job_id, owner, c.classified_at).await?;
        }
        tx.commit().await?;
        Ok(updated)
    }
}
