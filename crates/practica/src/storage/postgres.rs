//! The shared store: PostgreSQL, for several service processes behind one database. Behaves as
//! [`super::sqlite::SqliteStore`] does; where SQLite serialises writers with one connection,
//! this store relies on row locks, so concurrent attempts of one student queue on their mastery
//! row and nothing else.

use async_trait::async_trait;
use serde_json::Value;
use sqlx::Row;
use sqlx::postgres::{PgConnection, PgPool, PgPoolOptions, PgRow};
use time::OffsetDateTime;
use uuid::Uuid;

use super::*;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The first half of the two-key advisory locks on outbox ordering keys ("outb"); two-key locks
/// never collide with the one-key (bigint) locks other code may take.
pub(super) const OUTBOX_LOCK_SPACE: i32 = 0x6f75_7462;

/// The one-key advisory lock the leading outbox relay holds ("practica" in ASCII).
const RELAY_LOCK: i64 = 0x7072_6163_7469_6361;

/// The longest a query waits for a connection (pooled or new) before failing as unavailable.
pub const ACQUIRE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

pub struct PgStore {
    pub(super) pool: PgPool,
    /// Attempts go to one writer task that commits them in groups (see `group_commit`).
    writer: tokio::sync::mpsc::Sender<super::group_commit::WriteJob>,
    /// The session the relay lock lives in, and whether it holds the lock.
    relay_session: tokio::sync::Mutex<Option<(PgConnection, bool)>>,
}

fn role(s: &str) -> Result<Role> {
    Role::parse(s).ok_or_else(|| StoreError::Corrupt(format!("role {s:?}")))
}

fn outbox_row(r: PgRow) -> Result<OutboxRow> {
    Ok(OutboxRow {
        seq: r.try_get("seq")?,
        event_id: r.try_get("event_id")?,
        event_type: r.try_get("event_type")?,
        ordering_key: r.try_get("ordering_key")?,
        payload: r.try_get("payload")?,
    })
}

impl PgStore {
    /// Connects to the database at `url` and migrates it. Several processes may start at once:
    /// the migrator holds an advisory lock while it runs.
    pub async fn connect(url: &str) -> Result<PgStore> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            // sqlx waits 30 s by default for a connection; with the database down that is a
            // request hanging for 30 s. Past this, the request fails with 503 and the client
            // retries; the pool keeps reconnecting on its own (each acquire tries again, and
            // a pooled connection is tested before it is lent, so none broken by a restart is
            // handed out).
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .test_before_acquire(true)
            .connect(url)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(PgStore {
            writer: super::group_commit::spawn(super::postgres_writer::PgGroups(pool.clone()), 4),
            pool,
            relay_session: Default::default(),
        })
    }

    pub(super) async fn claim_idempotency(tx: &mut PgConnection, claim: &IdempotencyClaim) -> Result<Option<Recorded>> {
        // A concurrent claim of the same key blocks this insert until it commits or rolls back,
        // so exactly one request wins and the others see its row below.
        let inserted: Option<i32> = sqlx::query_scalar(
            "INSERT INTO idempotency (caller_id, key, request_hash, status, response, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (caller_id, key) DO NOTHING RETURNING 1",
        )
        .bind(&claim.caller_id)
        .bind(&claim.key)
        .bind(&claim.request_hash)
        .bind(i32::from(claim.status))
        .bind(&claim.response)
        .bind(OffsetDateTime::now_utc())
        .fetch_optional(&mut *tx)
        .await?;
        if inserted.is_some() {
            return Ok(None);
        }
        // READ COMMITTED: this statement's snapshot includes the row the insert collided with.
        let row =
            sqlx::query("SELECT request_hash, status, response FROM idempotency WHERE caller_id = $1 AND key = $2")
                .bind(&claim.caller_id)
                .bind(&claim.key)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| {
                    StoreError::Conflict(format!("idempotency key {:?} vanished while claimed", claim.key))
                })?;
        let hash: String = row.try_get("request_hash")?;
        if hash != claim.request_hash {
            return Ok(Some(Recorded::KeyReused));
        }
        let status: i32 = row.try_get("status")?;
        let status = u16::try_from(status).map_err(|_| StoreError::Corrupt(format!("idempotency status {status}")))?;
        Ok(Some(Recorded::Replayed {
            status,
            response: row.try_get("response")?,
        }))
    }
}

#[async_trait]
impl AttemptStore for PgStore {
    async fn record_attempt(
        &self,
        a: &NewAttempt,
        m: Option<&MasteryUpdate>,
        event: &OutboxEvent,
        idempotency: Option<&IdempotencyClaim>,
    ) -> Result<Recorded> {
        super::group_commit::submit(&self.writer, a, m, event, idempotency).await
    }

    async fn attempt(&self, id: Uuid) -> Result<Option<AttemptRecord>> {
        let Some(r) = sqlx::query("SELECT * FROM attempt WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        let steps = sqlx::query(
            "SELECT idx, expression, is_final, parsed_ok FROM attempt_step WHERE attempt_id = $1 ORDER BY idx",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(|s| {
            Ok(StepRecord {
                index: s.try_get("idx")?,
                expression: s.try_get("expression")?,
                is_final: s.try_get("is_final")?,
                parsed_ok: s.try_get("parsed_ok")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
        let reports = sqlx::query(
            "SELECT id, error_tag_code, reporter_id, reporter_role, comment, created_at FROM attempt_report \
             WHERE attempt_id = $1 ORDER BY created_at, id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(|s| {
            Ok(ReportRecord {
                id: s.try_get("id")?,
                error_tag_code: s.try_get("error_tag_code")?,
                reporter_id: s.try_get("reporter_id")?,
                reporter_role: s.try_get("reporter_role")?,
                comment: s.try_get("comment")?,
                created_at: s.try_get("created_at")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
        let status: String = r.try_get("status")?;
        let source: String = r.try_get("classifier_source")?;
        Ok(Some(AttemptRecord {
            id,
            student_id: r.try_get("student_id")?,
            topic_code: r.try_get("topic_code")?,
            course_id: r.try_get("course_id")?,
            exercise_id: r.try_get("exercise_id")?,
            status: AttemptStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("status {status:?}")))?,
            is_correct: r.try_get("is_correct")?,
            error_tag_code: r.try_get("error_tag_code")?,
            error_subtag: r.try_get("error_subtag")?,
            classifier_source: ClassifierSource::parse(&source)
                .ok_or_else(|| StoreError::Corrupt(format!("classifier source {source:?}")))?,
            classifier_name: r.try_get("classifier_name")?,
            confidence: r.try_get("confidence")?,
            diagnosis: r.try_get::<Value, _>("diagnosis")?,
            first_wrong_step: r.try_get("first_wrong_step")?,
            expected_answer: r.try_get("expected_answer")?,
            client_expected_answer: r.try_get("client_expected_answer")?,
            student_answer: r.try_get("student_answer")?,
            trace_id: r.try_get("trace_id")?,
            via_agent: r.try_get("via_agent")?,
            created_at: r.try_get("created_at")?,
            classified_at: r.try_get("classified_at")?,
            steps,
            reports,
            signature: r.try_get("signature")?,
            classification: r.try_get("classification")?,
            origin: origin(&r.try_get::<String, _>("origin")?)?,
            problem: r.try_get("problem")?,
            grade_level: r.try_get("grade_level")?,
            photo_id: r.try_get("photo_id")?,
        }))
    }

    async fn add_report(&self, report: &NewReport) -> Result<()> {
        sqlx::query(
            "INSERT INTO attempt_report (id, attempt_id, error_tag_code, reporter_id, reporter_role, comment, via_agent, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(report.id)
        .bind(report.attempt_id)
        .bind(&report.error_tag_code)
        .bind(&report.reporter_id)
        .bind(report.reporter_role.as_str())
        .bind(&report.comment)
        .bind(report.via_agent)
        .bind(report.created_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn mastery(&self, student_id: &str, topic_code: &str, course_id: &str) -> Result<Option<MasteryRecord>> {
        // No need to skip rows with 0 attempts: the transaction that creates one updates it
        // before it commits, so no other transaction ever sees it so.
        let row = sqlx::query(
            "SELECT p_known, attempts, version FROM mastery WHERE student_id = $1 AND topic_code = $2 AND course_id = $3",
        )
        .bind(student_id)
        .bind(topic_code)
        .bind(course_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(MasteryRecord {
                p_known: r.try_get("p_known")?,
                attempts: r.try_get("attempts")?,
                version: r.try_get("version")?,
            })
        })
        .transpose()
    }
}

#[async_trait]
impl IdentityStore for PgStore {
    async fn profile(&self, id: &str) -> Result<Option<Profile>> {
        let row = sqlx::query("SELECT id, name, role FROM profile WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            Ok(Profile {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                role: role(&r.try_get::<String, _>("role")?)?,
            })
        })
        .transpose()
    }

    async fn upsert_profile(&self, p: &Profile) -> Result<()> {
        sqlx::query(
            "INSERT INTO profile (id, name, role, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, role = excluded.role",
        )
        .bind(&p.id)
        .bind(&p.name)
        .bind(p.role.as_str())
        .bind(OffsetDateTime::now_utc())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn teaches(&self, teacher_id: &str, student_id: &str, course_id: Option<&str>) -> Result<bool> {
        // The three ways of sqlite.rs: a course both are members of (teacher and student), the
        // course asked about taught by the teacher, or a department shared with a teacher.
        let found: Option<i32> = sqlx::query_scalar(
            "SELECT 1 FROM course_member t JOIN course_member s ON s.course_id = t.course_id \
             WHERE t.profile_id = $1 AND t.role = 'teacher' AND s.profile_id = $2 AND s.role = 'student' \
             UNION ALL SELECT 1 FROM course_member t WHERE t.profile_id = $1 AND t.role = 'teacher' AND t.course_id = $3 \
             UNION ALL SELECT 1 FROM profile_department t JOIN profile_department s ON s.department_id = t.department_id \
             JOIN profile tp ON tp.id = t.profile_id AND tp.role = 'teacher' \
             WHERE t.profile_id = $1 AND s.profile_id = $2 LIMIT 1",
        )
        .bind(teacher_id)
        .bind(student_id)
        .bind(course_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(found.is_some())
    }

    async fn add_course_member(&self, course_id: &str, profile_id: &str, member_role: Role) -> Result<()> {
        sqlx::query("INSERT INTO course (id, name) VALUES ($1, $1) ON CONFLICT (id) DO NOTHING")
            .bind(course_id)
            .execute(&self.pool)
            .await?;
        sqlx::query(
            "INSERT INTO course_member (course_id, profile_id, role) VALUES ($1, $2, $3) \
             ON CONFLICT (course_id, profile_id) DO UPDATE SET role = excluded.role",
        )
        .bind(course_id)
        .bind(profile_id)
        .bind(member_role.as_str())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn create_api_key(&self, k: &ApiKeyRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO api_key (id, name, secret_hash, role, owner_id, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&k.id)
        .bind(&k.name)
        .bind(&k.secret_hash)
        .bind(k.role.as_str())
        .bind(&k.owner_id)
        .bind(OffsetDateTime::now_utc())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn api_key(&self, id: &str) -> Result<Option<ApiKeyRecord>> {
        let row = sqlx::query("SELECT id, name, secret_hash, role, owner_id, revoked_at FROM api_key WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            Ok(ApiKeyRecord {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                secret_hash: r.try_get("secret_hash")?,
                role: role(&r.try_get::<String, _>("role")?)?,
                owner_id: r.try_get("owner_id")?,
                revoked: r.try_get::<Option<OffsetDateTime>, _>("revoked_at")?.is_some(),
            })
        })
        .transpose()
    }

    async fn api_keys(&self) -> Result<Vec<ApiKeySummary>> {
        sqlx::query(super::API_KEYS)
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(|r| {
                Ok(ApiKeySummary {
                    id: r.try_get("id")?,
                    name: r.try_get("name")?,
                    role: role(&r.try_get::<String, _>("role")?)?,
                    owner_id: r.try_get("owner_id")?,
                    created_at: r.try_get("created_at")?,
                    revoked_at: r.try_get("revoked_at")?,
                })
            })
            .collect()
    }

    async fn revoke_api_key(&self, id: &str, at: OffsetDateTime) -> Result<bool> {
        let done = sqlx::query(super::REVOKE_API_KEY)
            .bind(at)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }
}

#[async_trait]
impl CatalogStore for PgStore {
    async fn topics(&self) -> Result<Vec<TopicRecord>> {
        // COLLATE "C": the byte order SQLite sorts text in, whatever the database's locale.
        sqlx::query(
            "SELECT code, family, name, p_init, p_learn, p_slip, p_guess, p_forget FROM topic ORDER BY code COLLATE \"C\"",
        )
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(|r| {
            Ok(TopicRecord {
                code: r.try_get("code")?,
                family: r.try_get("family")?,
                name: r.try_get("name")?,
                bkt: BktParams {
                    p_init: r.try_get("p_init")?,
                    p_learn: r.try_get("p_learn")?,
                    p_slip: r.try_get("p_slip")?,
                    p_guess: r.try_get("p_guess")?,
                    p_forget: r.try_get("p_forget")?,
                },
            })
        })
        .collect()
    }

    async fn upsert_topic(&self, t: &TopicRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO topic (code, family, name, p_init, p_learn, p_slip, p_guess, p_forget) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (code) DO UPDATE SET family = excluded.family, name = excluded.name, p_init = excluded.p_init, \
             p_learn = excluded.p_learn, p_slip = excluded.p_slip, p_guess = excluded.p_guess, p_forget = excluded.p_forget",
        )
        .bind(&t.code)
        .bind(&t.family)
        .bind(&t.name)
        .bind(t.bkt.p_init)
        .bind(t.bkt.p_learn)
        .bind(t.bkt.p_slip)
        .bind(t.bkt.p_guess)
        .bind(t.bkt.p_forget)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn exercise(&self, id: &str) -> Result<Option<ExerciseRecord>> {
        let row = sqlx::query("SELECT id, topic_code, problem, expected_answer FROM exercise WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            Ok(ExerciseRecord {
                id: r.try_get("id")?,
                topic_code: r.try_get("topic_code")?,
                problem: r.try_get("problem")?,
                expected_answer: r.try_get("expected_answer")?,
            })
        })
        .transpose()
    }

    async fn upsert_exercise(&self, e: &ExerciseRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO exercise (id, topic_code, problem, expected_answer) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (id) DO UPDATE SET topic_code = excluded.topic_code, problem = excluded.problem, \
             expected_answer = excluded.expected_answer",
        )
        .bind(&e.id)
        .bind(&e.topic_code)
        .bind(&e.problem)
        .bind(&e.expected_answer)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

#[async_trait]
impl OutboxStore for PgStore {
    async fn unpublished(&self, limit: i64) -> Result<Vec<OutboxRow>> {
        sqlx::query(
            "SELECT seq, event_id, event_type, ordering_key, payload FROM outbox \
             WHERE published_at IS NULL ORDER BY seq LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(outbox_row)
        .collect()
    }

    async fn mark_published(&self, seqs: &[i64]) -> Result<()> {
        sqlx::query("UPDATE outbox SET published_at = $1 WHERE seq = ANY($2)")
            .bind(OffsetDateTime::now_utc())
            .bind(seqs)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn outbox_lag(&self) -> Result<(i64, f64)> {
        let row = sqlx::query("SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM outbox WHERE published_at IS NULL")
            .fetch_one(&self.pool)
            .await?;
        let n: i64 = row.try_get("n")?;
        let oldest: Option<OffsetDateTime> = row.try_get("oldest")?;
        // The age against this process's clock, as created_at was stamped by one like it (the
        // database's now() could disagree with it).
        let age = oldest.map_or(0.0, |t| (OffsetDateTime::now_utc() - t).as_seconds_f64().max(0.0));
        Ok((n, age))
    }

    /// A session-level advisory lock: the server frees it when the session ends, so a process
    /// that dies or loses its connection gives leadership up without anyone cleaning up.
    async fn try_lead_relay(&self) -> Result<bool> {
        let mut session = self.relay_session.lock().await;
        if session.is_none() {
            // A connection of its own, out of the pool: the lock belongs to the session, and a
            // pooled connection would be lent to other queries and closed when idle.
            *session = Some((self.pool.acquire().await?.detach(), false));
        }
        let (conn, leading) = session.as_mut().expect("set above");
        // Taking the lock again on the session holding it would stack it; a round trip is
        // enough to know the session, and so the lock, is still there.
        let ask = if *leading {
            sqlx::query_scalar("SELECT true")
        } else {
            sqlx::query_scalar("SELECT pg_try_advisory_lock($1)").bind(RELAY_LOCK)
        };
        // Bounded: on a silent network this costs a reconnect, not a relay stuck for as long as
        // TCP takes to give up.
        match tokio::time::timeout(std::time::Duration::from_secs(5), ask.fetch_one(&mut *conn)).await {
            Ok(Ok(lead)) => {
                *leading = lead;
                Ok(lead)
            }
            // The session is dead or in doubt, and the lock with it: not leading, and a new
            // session next time.
            Ok(Err(e)) => {
                *session = None;
                Err(e.into())
            }
            Err(_) => {
                *session = None;
                let timeout = std::io::Error::new(std::io::ErrorKind::TimedOut, "relay lock session: no answer");
                Err(sqlx::Error::Io(timeout).into())
            }
        }
    }
}

#[async_trait]
impl Store for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }
    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
    async fn migrations(&self) -> Result<Vec<(i64, String)>> {
        let rows = sqlx::query("SELECT version, description FROM _sqlx_migrations WHERE success ORDER BY version")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect()
    }
}

#[async_trait]
impl UploadStore for PgStore {
    async fn record_upload(&self, u: &UploadRecord) -> Result<()> {
        sqlx::query(super::uploads_sql::INSERT_UPLOAD)
            .bind(u.id)
            .bind(&u.kind)
            .bind(&u.object_key)
            .bind(&u.content_type)
            .bind(u.bytes)
            .bind(&u.sha256)
            .bind(&u.created_by)
            .bind(u.via_agent)
            .bind(u.created_at)
            .bind(&u.file_name)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn upload(&self, id: Uuid) -> Result<Option<UploadRecord>> {
        let Some(r) = sqlx::query(super::uploads_sql::UPLOAD_BY_ID)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(UploadRecord {
            id,
            kind: r.try_get("kind")?,
            file_name: r.try_get("file_name")?,
            object_key: r.try_get("object_key")?,
            content_type: r.try_get("content_type")?,
            bytes: r.try_get("bytes")?,
            sha256: r.try_get("sha256")?,
            created_by: r.try_get("created_by")?,
            via_agent: r.try_get("via_agent")?,
            created_at: r.try_get("created_at")?,
        }))
    }
}

/// `CONCURRENTLY`: readers of the views are not blocked while they refresh (the unique indexes
/// of migration 0007 allow it).
async fn refresh_sim_views(pool: &PgPool) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for (name, _) in super::sim_sql::VIEWS {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "REFRESH MATERIALIZED VIEW CONCURRENTLY {name}"
        )))
        .execute(pool)
        .await?;
        names.push((*name).to_owned());
    }
    Ok(names)
}

super::sim_sql::impl_sim_store!(
    PgStore,
    sqlx::Postgres,
    read: pool,
    write: pool,
    insert_jobs: super::postgres_jobs::insert_jobs,
    refresh: refresh_sim_views,
    // pg_attribute rather than information_schema: it lists materialized views' columns too.
    columns: "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull \
              FROM pg_attribute a WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped \
              ORDER BY a.attnum"
);
