//! The embedded store: one SQLite file in the data directory, WAL mode. Writes go through one
//! connection (SQLite has one writer anyway; a single connection never waits on a lock), reads
//! through a small pool.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqliteConnection};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use super::*;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

pub struct SqliteStore {
    pub(super) write: SqlitePool,
    pub(super) read: SqlitePool,
    /// Attempts go to one writer task that commits them in groups (see `group_commit`).
    writer: tokio::sync::mpsc::Sender<super::group_commit::WriteJob>,
    checkpointer: tokio::task::AbortHandle,
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        self.checkpointer.abort();
    }
}

/// WAL frames past which a checkpoint may briefly block the writer to reset the log (~100 MiB).
const WAL_RESET_FRAMES: i64 = 25_000;

/// Copies the WAL into the database file twice a second without blocking the writer
/// (`PASSIVE`). Under continuous writes a passive checkpoint never finds the log idle, so past a
/// bound a `TRUNCATE` checkpoint waits for a gap between two transactions, copies the rest and
/// empties the file: the WAL on disk stays bounded.
async fn checkpoint_loop(pool: SqlitePool) {
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").fetch_one(&pool).await {
            Ok(row) => {
                let frames: i64 = row.try_get(1).unwrap_or(0);
                if frames > WAL_RESET_FRAMES
                    && let Err(e) = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&pool).await
                {
                    tracing::warn!(error = %e, "SQLite checkpoint (TRUNCATE) failed");
                }
            }
            Err(e) => tracing::warn!(error = %e, "SQLite checkpoint failed"),
        }
    }
}

/// RFC 3339 in UTC with a fixed six-digit fraction, so that text order is time order: `time`'s
/// own RFC 3339 output trims the fraction (`…:00Z`, `…:00.5Z`, `…:00.52Z`), and `Z` sorts after
/// the digits, so rows written within one second would come back misordered by `ORDER BY`.
const STORED_TS: &[time::format_description::BorrowedFormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");

pub(super) fn ts(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC).format(STORED_TS).unwrap_or_default()
}

pub(super) fn parse_ts(s: &str) -> Result<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339).map_err(|e| StoreError::Corrupt(format!("timestamp {s:?}: {e}")))
}

pub(super) fn parse_uuid(s: &str) -> Result<Uuid> {
    Uuid::parse_str(s).map_err(|e| StoreError::Corrupt(format!("uuid {s:?}: {e}")))
}

pub(super) fn parse_json(s: &str) -> Result<Value> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt(format!("json: {e}")))
}

fn role(s: &str) -> Result<Role> {
    Role::parse(s).ok_or_else(|| StoreError::Corrupt(format!("role {s:?}")))
}

impl SqliteStore {
    /// Opens (creating if missing) and migrates the database at `path` (a file path or a
    /// `sqlite:` URL).
    pub async fn open(path: &str) -> Result<SqliteStore> {
        let url = if path.starts_with("sqlite:") {
            path.to_string()
        } else {
            format!("sqlite://{path}")
        };
        let options = SqliteConnectOptions::from_str(&url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true)
            // No checkpoint inside commits: a background task does them (below), so the writer
            // never stops to copy the WAL into the database file.
            .pragma("wal_autocheckpoint", "0");
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        MIGRATOR.run(&write).await?;
        let read = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.clone().read_only(true))
            .await?;
        let writer = super::group_commit::spawn(super::sqlite_writer::SqliteGroups(write.clone()), 1);
        let checkpoints = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await?;
        let checkpointer = tokio::spawn(checkpoint_loop(checkpoints)).abort_handle();
        Ok(SqliteStore {
            write,
            read,
            writer,
            checkpointer,
        })
    }

    pub(super) async fn claim_idempotency(
        tx: &mut SqliteConnection,
        claim: &IdempotencyClaim,
    ) -> Result<Option<Recorded>> {
        let existing =
            sqlx::query("SELECT request_hash, status, response FROM idempotency WHERE caller_id = ? AND key = ?")
                .bind(&claim.caller_id)
                .bind(&claim.key)
                .fetch_optional(&mut *tx)
                .await?;
        if let Some(row) = existing {
            let hash: String = row.try_get("request_hash")?;
            if hash != claim.request_hash {
                return Ok(Some(Recorded::KeyReused));
            }
            let status: i64 = row.try_get("status")?;
            let response: String = row.try_get("response")?;
            return Ok(Some(Recorded::Replayed {
                status: status as u16,
                response: parse_json(&response)?,
            }));
        }
        sqlx::query(
            "INSERT INTO idempotency (caller_id, key, request_hash, status, response, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&claim.caller_id)
        .bind(&claim.key)
        .bind(&claim.request_hash)
        .bind(i64::from(claim.status))
        .bind(claim.response.to_string())
        .bind(ts(OffsetDateTime::now_utc()))
        .execute(&mut *tx)
        .await?;
        Ok(None)
    }
}

#[async_trait]
impl AttemptStore for SqliteStore {
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
        let key = id.to_string();
        let Some(r) = sqlx::query("SELECT * FROM attempt WHERE id = ?")
            .bind(&key)
            .fetch_optional(&self.read)
            .await?
        else {
            return Ok(None);
        };
        let steps = sqlx::query(
            "SELECT idx, expression, is_final, parsed_ok FROM attempt_step WHERE attempt_id = ? ORDER BY idx",
        )
        .bind(&key)
        .fetch_all(&self.read)
        .await?
        .into_iter()
        .map(|s| {
            Ok(StepRecord {
                index: s.try_get::<i64, _>("idx")? as i32,
                expression: s.try_get("expression")?,
                is_final: s.try_get("is_final")?,
                parsed_ok: s.try_get("parsed_ok")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
        let reports = sqlx::query(
            "SELECT id, error_tag_code, reporter_id, reporter_role, comment, created_at FROM attempt_report \
             WHERE attempt_id = ? ORDER BY created_at, id",
        )
        .bind(&key)
        .fetch_all(&self.read)
        .await?
        .into_iter()
        .map(|s| {
            Ok(ReportRecord {
                id: parse_uuid(&s.try_get::<String, _>("id")?)?,
                error_tag_code: s.try_get("error_tag_code")?,
                reporter_id: s.try_get("reporter_id")?,
                reporter_role: s.try_get("reporter_role")?,
                comment: s.try_get("comment")?,
                created_at: parse_ts(&s.try_get::<String, _>("created_at")?)?,
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
            diagnosis: parse_json(&r.try_get::<String, _>("diagnosis")?)?,
            first_wrong_step: r.try_get::<Option<i64>, _>("first_wrong_step")?.map(|v| v as i32),
            expected_answer: r.try_get("expected_answer")?,
            client_expected_answer: r.try_get("client_expected_answer")?,
            student_answer: r.try_get("student_answer")?,
            trace_id: r.try_get("trace_id")?,
            via_agent: r.try_get("via_agent")?,
            created_at: parse_ts(&r.try_get::<String, _>("created_at")?)?,
            classified_at: r
                .try_get::<Option<String>, _>("classified_at")?
                .map(|t| parse_ts(&t))
                .transpose()?,
            steps,
            reports,
            signature: r.try_get("signature")?,
            classification: r
                .try_get::<Option<String>, _>("classification")?
                .map(|c| parse_json(&c))
                .transpose()?,
            origin: origin(&r.try_get::<String, _>("origin")?)?,
            problem: r.try_get("problem")?,
            grade_level: r.try_get::<Option<i64>, _>("grade_level")?.map(|g| g as i32),
            photo_id: r
                .try_get::<Option<String>, _>("photo_id")?
                .map(|p| parse_uuid(&p))
                .transpose()?,
        }))
    }

    async fn add_report(&self, report: &NewReport) -> Result<()> {
        sqlx::query(
            "INSERT INTO attempt_report (id, attempt_id, error_tag_code, reporter_id, reporter_role, comment, via_agent, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(report.id.to_string())
        .bind(report.attempt_id.to_string())
        .bind(&report.error_tag_code)
        .bind(&report.reporter_id)
        .bind(report.reporter_role.as_str())
        .bind(&report.comment)
        .bind(report.via_agent)
        .bind(ts(report.created_at))
        .execute(&self.write)
        .await?;
        Ok(())
    }

    async fn mastery(&self, student_id: &str, topic_code: &str, course_id: &str) -> Result<Option<MasteryRecord>> {
        let row = sqlx::query(
            "SELECT p_known, attempts, version FROM mastery WHERE student_id = ? AND topic_code = ? AND course_id = ?",
        )
        .bind(student_id)
        .bind(topic_code)
        .bind(course_id)
        .fetch_optional(&self.read)
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
impl IdentityStore for SqliteStore {
    async fn profile(&self, id: &str) -> Result<Option<Profile>> {
        let row = sqlx::query("SELECT id, name, role FROM profile WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.read)
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
            "INSERT INTO profile (id, name, role, created_at) VALUES (?, ?, ?, ?) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, role = excluded.role",
        )
        .bind(&p.id)
        .bind(&p.name)
        .bind(p.role.as_str())
        .bind(ts(OffsetDateTime::now_utc()))
        .execute(&self.write)
        .await?;
        Ok(())
    }

    async fn teaches(&self, teacher_id: &str, student_id: &str, course_id: Option<&str>) -> Result<bool> {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM course_member t JOIN course_member s ON s.course_id = t.course_id \
             WHERE t.profile_id = ? AND t.role = 'teacher' AND s.profile_id = ? AND s.role = 'student' \
             UNION ALL SELECT 1 FROM course_member t WHERE t.profile_id = ? AND t.role = 'teacher' AND t.course_id = ? \
             UNION ALL SELECT 1 FROM profile_department t JOIN profile_department s ON s.department_id = t.department_id \
             JOIN profile tp ON tp.id = t.profile_id AND tp.role = 'teacher' \
             WHERE t.profile_id = ? AND s.profile_id = ? LIMIT 1",
        )
        .bind(teacher_id)
        .bind(student_id)
        .bind(teacher_id)
        .bind(course_id)
        .bind(teacher_id)
        .bind(student_id)
        .fetch_optional(&self.read)
        .await?;
        Ok(found.is_some())
    }

    async fn add_course_member(&self, course_id: &str, profile_id: &str, member_role: Role) -> Result<()> {
        sqlx::query("INSERT INTO course (id, name) VALUES (?, ?) ON CONFLICT (id) DO NOTHING")
            .bind(course_id)
            .bind(course_id)
            .execute(&self.write)
            .await?;
        sqlx::query(
            "INSERT INTO course_member (course_id, profile_id, role) VALUES (?, ?, ?) \
             ON CONFLICT (course_id, profile_id) DO UPDATE SET role = excluded.role",
        )
        .bind(course_id)
        .bind(profile_id)
        .bind(member_role.as_str())
        .execute(&self.write)
        .await?;
        Ok(())
    }

    async fn create_api_key(&self, k: &ApiKeyRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO api_key (id, name, secret_hash, role, owner_id, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&k.id)
        .bind(&k.name)
        .bind(&k.secret_hash)
        .bind(k.role.as_str())
        .bind(&k.owner_id)
        .bind(ts(OffsetDateTime::now_utc()))
        .execute(&self.write)
        .await?;
        Ok(())
    }

    async fn api_key(&self, id: &str) -> Result<Option<ApiKeyRecord>> {
        let row = sqlx::query("SELECT id, name, secret_hash, role, owner_id, revoked_at FROM api_key WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.read)
            .await?;
        row.map(|r| {
            Ok(ApiKeyRecord {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                secret_hash: r.try_get("secret_hash")?,
                role: role(&r.try_get::<String, _>("role")?)?,
                owner_id: r.try_get("owner_id")?,
                revoked: r.try_get::<Option<String>, _>("revoked_at")?.is_some(),
            })
        })
        .transpose()
    }

    async fn api_keys(&self) -> Result<Vec<ApiKeySummary>> {
        sqlx::query(super::API_KEYS)
            .fetch_all(&self.read)
            .await?
            .into_iter()
            .map(|r| {
                Ok(ApiKeySummary {
                    id: r.try_get("id")?,
                    name: r.try_get("name")?,
                    role: role(&r.try_get::<String, _>("role")?)?,
                    owner_id: r.try_get("owner_id")?,
                    created_at: parse_ts(&r.try_get::<String, _>("created_at")?)?,
                    revoked_at: r
                        .try_get::<Option<String>, _>("revoked_at")?
                        .as_deref()
                        .map(parse_ts)
                        .transpose()?,
                })
            })
            .collect()
    }

    async fn revoke_api_key(&self, id: &str, at: OffsetDateTime) -> Result<bool> {
        let done = sqlx::query(super::REVOKE_API_KEY)
            .bind(ts(at))
            .bind(id)
            .execute(&self.write)
            .await?;
        Ok(done.rows_affected() == 1)
    }
}

#[async_trait]
impl CatalogStore for SqliteStore {
    async fn topics(&self) -> Result<Vec<TopicRecord>> {
        sqlx::query("SELECT code, family, name, p_init, p_learn, p_slip, p_guess, p_forget FROM topic ORDER BY code")
            .fetch_all(&self.read)
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
            "INSERT INTO topic (code, family, name, p_init, p_learn, p_slip, p_guess, p_forget) VALUES (?, ?, ?, ?, ?, ?, ?, ?) \
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
        .execute(&self.write)
        .await?;
        Ok(())
    }

    async fn exercise(&self, id: &str) -> Result<Option<ExerciseRecord>> {
        let row = sqlx::query("SELECT id, topic_code, problem, expected_answer FROM exercise WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.read)
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
            "INSERT INTO exercise (id, topic_code, problem, expected_answer) VALUES (?, ?, ?, ?) \
             ON CONFLICT (id) DO UPDATE SET topic_code = excluded.topic_code, problem = excluded.problem, \
             expected_answer = excluded.expected_answer",
        )
        .bind(&e.id)
        .bind(&e.topic_code)
        .bind(&e.problem)
        .bind(&e.expected_answer)
        .execute(&self.write)
        .await?;
        Ok(())
    }
}

#[async_trait]
impl OutboxStore for SqliteStore {
    async fn unpublished(&self, limit: i64) -> Result<Vec<OutboxRow>> {
        // From a reader: in WAL mode it sees every committed row, and leaves the single writer
        // connection to attempts.
        sqlx::query(
            "SELECT seq, event_id, event_type, ordering_key, payload FROM outbox WHERE published_at IS NULL ORDER BY seq LIMIT ?",
        )
        .bind(limit)
        .fetch_all(&self.read)
        .await?
        .into_iter()
        .map(|r| {
            Ok(OutboxRow {
                seq: r.try_get("seq")?,
                event_id: parse_uuid(&r.try_get::<String, _>("event_id")?)?,
                event_type: r.try_get("event_type")?,
                ordering_key: r.try_get("ordering_key")?,
                payload: parse_json(&r.try_get::<String, _>("payload")?)?,
            })
        })
        .collect()
    }

    async fn mark_published(&self, seqs: &[i64]) -> Result<()> {
        if seqs.is_empty() {
            return Ok(());
        }
        // One statement: the relay shares the single writer connection with attempts, so it
        // must hold it as briefly as possible.
        let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new("UPDATE outbox SET published_at = ");
        q.push_bind(ts(OffsetDateTime::now_utc())).push(" WHERE seq IN (");
        let mut list = q.separated(", ");
        for seq in seqs {
            list.push_bind(*seq);
        }
        q.push(")");
        q.build().execute(&self.write).await?;
        Ok(())
    }

    async fn outbox_lag(&self) -> Result<(i64, f64)> {
        let row = sqlx::query("SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM outbox WHERE published_at IS NULL")
            .fetch_one(&self.read)
            .await?;
        let n: i64 = row.try_get("n")?;
        let oldest: Option<String> = row.try_get("oldest")?;
        let age = match oldest {
            Some(t) => (OffsetDateTime::now_utc() - parse_ts(&t)?).as_seconds_f64().max(0.0),
            None => 0.0,
        };
        Ok((n, age))
    }

    /// Always: the embedded file belongs to one service process (a shared database is what
    /// PostgreSQL is for), so there is no other relay to defer to. Nothing enforces that: two
    /// processes pointed at one file would both relay.
    async fn try_lead_relay(&self) -> Result<bool> {
        Ok(true)
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }
    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.read).await?;
        Ok(())
    }
    async fn migrations(&self) -> Result<Vec<(i64, String)>> {
        let rows = sqlx::query("SELECT version, description FROM _sqlx_migrations WHERE success ORDER BY version")
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect()
    }
}

#[async_trait]
impl UploadStore for SqliteStore {
    async fn record_upload(&self, u: &UploadRecord) -> Result<()> {
        sqlx::query(super::uploads_sql::INSERT_UPLOAD)
            .bind(u.id.to_string())
            .bind(&u.kind)
            .bind(&u.object_key)
            .bind(&u.content_type)
            .bind(u.bytes)
            .bind(&u.sha256)
            .bind(&u.created_by)
            .bind(u.via_agent)
            .bind(ts(u.created_at))
            .bind(&u.file_name)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    async fn upload(&self, id: Uuid) -> Result<Option<UploadRecord>> {
        let Some(r) = sqlx::query(super::uploads_sql::UPLOAD_BY_ID)
            .bind(id.to_string())
            .fetch_optional(&self.read)
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
            created_at: parse_ts(&r.try_get::<String, _>("created_at")?)?,
        }))
    }
}

/// SQLite has no materialized views: the summary tables are rebuilt from the views' SELECTs in
/// one transaction, so a reader sees the old rows or the new, never half.
async fn refresh_sim_views(pool: &SqlitePool) -> Result<Vec<String>> {
    let mut tx = pool.begin().await?;
    let mut names = Vec::new();
    for (name, select) in super::sim_sql::VIEWS {
        sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {name}")))
            .execute(&mut *tx)
            .await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("INSERT INTO {name} {select}")))
            .execute(&mut *tx)
            .await?;
        names.push((*name).to_owned());
    }
    tx.commit().await?;
    Ok(names)
}

super::sim_sql::impl_sim_store!(
    SqliteStore,
    sqlx::Sqlite,
    read: read,
    write: write,
    insert_jobs: super::sqlite_jobs::insert_jobs,
    refresh: refresh_sim_views,
    columns: "SELECT name, type, \"notnull\" = 0 FROM pragma_table_info($1) ORDER BY cid"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_timestamps_sort_as_the_times_they_hold() {
        let base = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        let times: Vec<OffsetDateTime> = [0, 500_000_000, 520_000_000, 999_999_000, 1_000_000_000]
            .into_iter()
            .map(|ns| base + time::Duration::nanoseconds(ns))
            .collect();
        let stored: Vec<String> = times.iter().map(|&t| ts(t)).collect();
        let mut sorted = stored.clone();
        sorted.sort();
        assert_eq!(sorted, stored, "text order must be time order");
        for (t, s) in times.iter().zip(&stored) {
            assert_eq!(parse_ts(s).unwrap(), *t, "{s} reads back as written");
        }
        // Rows written before the fixed fraction (time's trimmed RFC 3339) still read.
        assert_eq!(
            parse_ts("2027-01-15T08:00:00.5Z").unwrap(),
            base + time::Duration::milliseconds(500)
        );
    }
}
