//! The simulation-attempt store, written once for both backends. The statements are the same
//! SQL on SQLite and PostgreSQL (`$n` parameters, `RETURNING`, integer µs times, JSON bound as
//! `Json<Value>`: jsonb on PostgreSQL, text on SQLite), so a macro stamps the one
//! implementation onto each store type with its own pools; only the refresh of the analytics
//! views differs (materialized views vs tables rebuilt), and each backend passes its own.

/// The SELECT each analytics view is defined by (PostgreSQL's migration 0007 creates the
/// materialized views from the same text; SQLite's refresh inserts it into tables).
pub(crate) const ATTEMPT_SUMMARY_SELECT: &str = "SELECT a.id AS attempt_id, a.profile_id, a.simulation_id, a.department_id, a.cohort_id, \
       (a.practice_id IS NOT NULL) AS practice, a.infinite_mode, a.is_archived, a.created_at, a.ended_at, \
       (SELECT COUNT(*) FROM sim_attempt_chat l WHERE l.attempt_id = a.id) AS num_chats, \
       (SELECT COUNT(*) FROM sim_attempt_chat l \
         WHERE l.attempt_id = a.id \
           AND EXISTS (SELECT 1 FROM sim_grade g WHERE g.chat_id = l.chat_id AND g.state = 'done')) AS chats_graded, \
       (SELECT CAST(COALESCE(SUM(g.score), 0) AS BIGINT) \
          FROM sim_attempt_chat l \
          JOIN sim_grade g ON g.chat_id = l.chat_id AND g.state = 'done' \
         WHERE l.attempt_id = a.id \
           AND NOT EXISTS (SELECT 1 FROM sim_grade n \
                            WHERE n.chat_id = g.chat_id AND n.state = 'done' \
                              AND (n.created_at > g.created_at OR (n.created_at = g.created_at AND n.id > g.id)))) AS total_score \
  FROM sim_attempt a";

pub(crate) const SIMULATION_SUMMARY_SELECT: &str = "SELECT a.simulation_id, COALESCE(a.department_id, '') AS department_id, \
       COUNT(*) AS attempts, \
       COUNT(DISTINCT a.profile_id) AS learners, \
       CAST(SUM(CASE WHEN a.is_archived THEN 1 ELSE 0 END) AS BIGINT) AS archived_attempts, \
       CAST(SUM(CASE WHEN a.ended_at IS NOT NULL THEN 1 ELSE 0 END) AS BIGINT) AS ended_attempts, \
       MAX(a.created_at) AS last_attempt_at \
  FROM sim_attempt a \
 GROUP BY a.simulation_id, COALESCE(a.department_id, '')";

/// The analytics views and what each holds (for `docs`).
pub(crate) const VIEWS: &[(&str, &str)] = &[
    ("sim_attempt_summary", ATTEMPT_SUMMARY_SELECT),
    ("sim_simulation_summary", SIMULATION_SUMMARY_SELECT),
];

/// Longest free-text search term kept (longer ones are cut, never an error).
pub(crate) const MAX_SEARCH_CHARS: usize = 200;

/// `%term%` for LIKE with `\` escaping, lower-cased (compared with `LOWER(column)`).
pub(crate) fn like_pattern(term: &str) -> String {
    let mut out = String::from("%");
    for c in term.chars().take(MAX_SEARCH_CHARS).flat_map(char::to_lowercase) {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// Which facet's own filter a facet count leaves out.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Omit {
    Nothing,
    Simulations,
    Departments,
}

macro_rules! impl_sim_store {
    ($store:ty, $db:ty, read: $read:ident, write: $write:ident, insert_jobs: $insert_jobs:path, refresh: $refresh:path, columns: $columns:literal) => {
        use $crate::storage::sim_sql::Omit as SimOmit;
        use $crate::storage::sim_store::*;

        fn sim_attempt_from(r: &<$db as sqlx::Database>::Row) -> $crate::storage::Result<SimAttemptRow> {
            use sqlx::Row;
            Ok(SimAttemptRow {
                id: r.try_get("id")?,
                profile_id: r.try_get("profile_id")?,
                home_id: r.try_get("home_id")?,
                practice_id: r.try_get("practice_id")?,
                simulation_id: r.try_get("simulation_id")?,
                department_id: r.try_get("department_id")?,
                cohort_id: r.try_get("cohort_id")?,
                infinite_mode: r.try_get("infinite_mode")?,
                is_archived: r.try_get("is_archived")?,
                created_at: r.try_get("created_at")?,
                ended_at: r.try_get("ended_at")?,
                state: r.try_get::<sqlx::types::Json<serde_json::Value>, _>("state")?.0,
                version: r.try_get("version")?,
                created_by: r.try_get("created_by")?,
                via_agent: r.try_get("via_agent")?,
            })
        }

        fn sim_chat_from(r: &<$db as sqlx::Database>::Row) -> $crate::storage::Result<SimChatRow> {
            use sqlx::Row;
            Ok(SimChatRow {
                id: r.try_get("id")?,
                attempt_id: r.try_get("attempt_id")?,
                profile_id: r.try_get("profile_id")?,
                chat_entry_id: r.try_get("chat_entry_id")?,
                scenario_id: r.try_get("scenario_id")?,
                position: r.try_get("position")?,
                started_at: r.try_get("started_at")?,
                ended_at: r.try_get("ended_at")?,
                rubric: r.try_get::<sqlx::types::Json<serde_json::Value>, _>("rubric")?.0,
                created_by: r.try_get("created_by")?,
                via_agent: r.try_get("via_agent")?,
            })
        }

        fn sim_message_from(r: &<$db as sqlx::Database>::Row) -> $crate::storage::Result<SimMessageRow> {
            use sqlx::Row;
            Ok(SimMessageRow {
                id: r.try_get("id")?,
                chat_id: r.try_get("chat_id")?,
                seq: r.try_get("seq")?,
                parent_message_id: r.try_get("parent_message_id")?,
                kind: r.try_get("kind")?,
                content: r.try_get("content")?,
                hints: r.try_get::<sqlx::types::Json<serde_json::Value>, _>("hints")?.0,
                contents: r.try_get::<sqlx::types::Json<serde_json::Value>, _>("contents")?.0,
                status: r.try_get("status")?,
                source: r.try_get("source")?,
                created_by: r.try_get("created_by")?,
                via_agent: r.try_get("via_agent")?,
                created_at: r.try_get("created_at")?,
                updated_at: r.try_get("updated_at")?,
            })
        }

        fn sim_grade_from(r: &<$db as sqlx::Database>::Row) -> $crate::storage::Result<SimGradeRow> {
            use sqlx::Row;
            Ok(SimGradeRow {
                id: r.try_get("id")?,
                chat_id: r.try_get("chat_id")?,
                attempt_id: r.try_get("attempt_id")?,
                source: r.try_get("source")?,
                state: r.try_get("state")?,
                score: r.try_get("score")?,
                max_score: r.try_get("max_score")?,
                passed: r.try_get("passed")?,
                detail: r.try_get::<sqlx::types::Json<serde_json::Value>, _>("detail")?.0,
                request: r.try_get::<sqlx::types::Json<serde_json::Value>, _>("request")?.0,
                error: r.try_get("error")?,
                created_by: r.try_get("created_by")?,
                via_agent: r.try_get("via_agent")?,
                created_at: r.try_get("created_at")?,
                finished_at: r.try_get("finished_at")?,
            })
        }

        fn sim_audio_from(r: &<$db as sqlx::Database>::Row) -> $crate::storage::Result<SimAudioRow> {
            use sqlx::Row;
            Ok(SimAudioRow {
                run_id: r.try_get("run_id")?,
                chat_id: r.try_get("chat_id")?,
                attempt_id: r.try_get("attempt_id")?,
                group_id: r.try_get("group_id")?,
                state: r.try_get("state")?,
                frame_count: r.try_get("frame_count")?,
                byte_len: r.try_get("byte_len")?,
                upload_id: r.try_get("upload_id")?,
                transcript: r.try_get("transcript")?,
                message_id: r.try_get("message_id")?,
                created_by: r.try_get("created_by")?,
                via_agent: r.try_get("via_agent")?,
                created_at: r.try_get("created_at")?,
                stopped_at: r.try_get("stopped_at")?,
            })
        }

        /// ` AND col IN ($a, $b, …)`; an empty list matches nothing.
        fn sim_push_in(q: &mut sqlx::QueryBuilder<$db>, column: &str, ids: &[String]) {
            if ids.is_empty() {
                q.push(" AND 1 = 0");
                return;
            }
            q.push(format!(" AND {column} IN ("));
            let mut list = q.separated(", ");
            for id in ids {
                list.push_bind(id.clone());
            }
            list.push_unseparated(")");
        }

        /// The WHERE of search and archive over `sim_attempt a` joined with `simulation s`,
        /// `department d` and `profile p`.
        fn sim_push_filter(q: &mut sqlx::QueryBuilder<$db>, scope: &SimScope, f: &SimFilter, omit: SimOmit) {
            q.push(" WHERE 1 = 1");
            match scope {
                SimScope::All => {}
                SimScope::Own(p) => {
                    q.push(" AND a.profile_id = ").push_bind(p.clone());
                }
                SimScope::OwnOrDepartments(p, deps) => {
                    q.push(" AND (a.profile_id = ").push_bind(p.clone());
                    if !deps.is_empty() {
                        q.push(" OR a.department_id IN (");
                        let mut list = q.separated(", ");
                        for d in deps {
                            list.push_bind(d.clone());
                        }
                        list.push_unseparated(")");
                    }
                    q.push(")");
                }
            }
            if let Some(ids) = &f.attempt_ids {
                sim_push_in(q, "a.id", ids);
            }
            if omit != SimOmit::Simulations
                && let Some(ids) = &f.simulation_ids
            {
                sim_push_in(q, "a.simulation_id", ids);
            }
            if omit != SimOmit::Departments
                && let Some(ids) = &f.department_ids
            {
                sim_push_in(q, "a.department_id", ids);
            }
            if let Some(ids) = &f.cohort_ids {
                sim_push_in(q, "a.cohort_id", ids);
            }
            if let Some(ids) = &f.profile_ids {
                sim_push_in(q, "a.profile_id", ids);
            }
            if let Some(ids) = &f.scenario_ids {
                q.push(" AND EXISTS (SELECT 1 FROM sim_attempt_chat l JOIN sim_chat c ON c.id = l.chat_id WHERE l.attempt_id = a.id");
                sim_push_in(q, "c.scenario_id", ids);
                q.push(")");
            }
            if let Some(practice) = f.practice {
                q.push(if practice { " AND a.practice_id IS NOT NULL" } else { " AND a.practice_id IS NULL" });
            }
            if let Some(archived) = f.is_archived {
                q.push(" AND a.is_archived = ").push_bind(archived);
            }
            if let Some(infinite) = f.infinite_mode {
                q.push(" AND a.infinite_mode = ").push_bind(infinite);
            }
            if let Some(start) = f.start {
                q.push(" AND a.created_at >= ").push_bind(start);
            }
            if let Some(end) = f.end {
                q.push(" AND a.created_at <= ").push_bind(end);
            }
            if let Some(term) = f.search.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
                let pattern = $crate::storage::sim_sql::like_pattern(term);
                q.push(" AND (LOWER(s.name) LIKE ").push_bind(pattern.clone());
                q.push(" ESCAPE '\\' OR LOWER(d.name) LIKE ").push_bind(pattern.clone());
                q.push(" ESCAPE '\\' OR LOWER(p.name) LIKE ").push_bind(pattern);
                q.push(" ESCAPE '\\')");
            }
        }

        const SIM_FROM: &str = " FROM sim_attempt a \
             LEFT JOIN simulation s ON s.id = a.simulation_id \
             LEFT JOIN department d ON d.id = a.department_id \
             LEFT JOIN profile p ON p.id = a.profile_id";

        #[async_trait::async_trait]
        impl SimStore for $store {
            async fn sim_write(&self, writes: &[SimWrite]) -> $crate::storage::Result<()> {
                use sqlx::types::Json;
                use $crate::storage::StoreError;
                let mut tx = self.$write.begin().await?;
                // A row another request wrote first (two messages numbered alike in one chat,
                // a link made twice) is a lost race, not a failure: Conflict, so the caller
                // answers 409 or tries again.
                let lost = |e: sqlx::Error| match e.as_database_error() {
                    Some(d) if d.is_unique_violation() => StoreError::Conflict(d.message().to_owned()),
                    _ => StoreError::Database(e),
                };
                for w in writes {
                    match w {
                        SimWrite::InsertAttempt(a) => {
                            sqlx::query(
                                "INSERT INTO sim_attempt (id, profile_id, home_id, practice_id, simulation_id, department_id, \
                                   cohort_id, infinite_mode, is_archived, created_at, ended_at, state, version, created_by, \
                                   via_agent, updated_at, updated_by, updated_via_agent) \
                                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $10, $14, $15)",
                            )
                            .bind(a.id.clone())
                            .bind(a.profile_id.clone())
                            .bind(a.home_id.clone())
                            .bind(a.practice_id.clone())
                            .bind(a.simulation_id.clone())
                            .bind(a.department_id.clone())
                            .bind(a.cohort_id.clone())
                            .bind(a.infinite_mode)
                            .bind(a.is_archived)
                            .bind(a.created_at)
                            .bind(a.ended_at)
                            .bind(Json(a.state.clone()))
                            .bind(a.version)
                            .bind(a.created_by.clone())
                            .bind(a.via_agent)
                            .execute(&mut *tx)
                            .await
                            .map_err(lost)?;
                        }
                        SimWrite::UpdateState { attempt_id, expected_version, state, ended_at, at, by } => {
                            let done = sqlx::query(
                                "UPDATE sim_attempt SET state = $1, version = version + 1, ended_at = $2, updated_at = $3, \
                                   updated_by = $4, updated_via_agent = $5 \
                                 WHERE id = $6 AND version = $7",
                            )
                            .bind(Json(state.clone()))
                            .bind(*ended_at)
                            .bind(*at)
                            .bind(by.id.clone())
                            .bind(by.via_agent)
                            .bind(attempt_id.clone())
                            .bind(*expected_version)
                            .execute(&mut *tx)
                            .await
                            .map_err(lost)?
                            .rows_affected();
                            if done == 0 {
                                return Err(StoreError::Conflict(format!("attempt {attempt_id} changed meanwhile")));
                            }
                        }
                        SimWrite::InsertChat(c) => {
                            sqlx::query(
                                "INSERT INTO sim_chat (id, attempt_id, profile_id, chat_entry_id, scenario_id, position, \
                                   started_at, ended_at, rubric, created_by, via_agent) \
                                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                            )
                            .bind(c.id.clone())
                            .bind(c.attempt_id.clone())
                            .bind(c.profile_id.clone())
                            .bind(c.chat_entry_id.clone())
                            .bind(c.scenario_id.clone())
                            .bind(c.position)
                            .bind(c.started_at)
                            .bind(c.ended_at)
                            .bind(Json(c.rubric.clone()))
                            .bind(c.created_by.clone())
                            .bind(c.via_agent)
                            .execute(&mut *tx)
                            .await
                            .map_err(lost)?;
                        }
                        SimWrite::EndChat { chat_id, ended_at } => {
                            sqlx::query("UPDATE sim_chat SET ended_at = $1 WHERE id = $2 AND ended_at IS NULL")
                                .bind(*ended_at)
                                .bind(chat_id.clone())
                                .execute(&mut *tx)
                                .await?;
                        }
                        SimWrite::Link { attempt_id, chat_id, position, linked, at, by } => {
                            sqlx::query(
                                "INSERT INTO sim_attempt_chat (attempt_id, chat_id, position, linked, created_by, via_agent, created_at) \
                                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                            )
                            .bind(attempt_id.clone())
                            .bind(chat_id.clone())
                            .bind(*position)
                            .bind(*linked)
                            .bind(by.id.clone())
                            .bind(by.via_agent)
                            .bind(*at)
                            .execute(&mut *tx)
                            .await
                            .map_err(lost)?;
                        }
                        SimWrite::InsertMessage(m) => {
                            // seq is the next in the chat, taken inside the transaction.
                            sqlx::query(
                                "INSERT INTO sim_message (id, chat_id, seq, parent_message_id, kind, content, hints, contents, \
                                   status, source, created_by, via_agent, created_at, updated_at) \
                                 VALUES ($1, $2, (SELECT COALESCE(MAX(seq), 0) + 1 FROM sim_message WHERE chat_id = $2), \
                                   $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)",
                            )
                            .bind(m.id.clone())
                            .bind(m.chat_id.clone())
                            .bind(m.parent_message_id.clone())
                            .bind(m.kind.clone())
                            .bind(m.content.clone())
                            .bind(Json(m.hints.clone()))
                            .bind(Json(m.contents.clone()))
                            .bind(m.status.clone())
                            .bind(m.source.clone())
                            .bind(m.created_by.clone())
                            .bind(m.via_agent)
                            .bind(m.created_at)
                            .execute(&mut *tx)
                            .await
                            .map_err(lost)?;
                        }
                        SimWrite::InsertGrade(g) => {
                            sqlx::query(
                                "INSERT INTO sim_grade (id, chat_id, attempt_id, source, state, score, max_score, passed, \
                                   detail, request, error, created_by, via_agent, created_at, finished_at) \
                                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
                            )
                            .bind(g.id.clone())
                            .bind(g.chat_id.clone())
                            .bind(g.attempt_id.clone())
                            .bind(g.source.clone())
                            .bind(g.state.clone())
                            .bind(g.score)
                            .bind(g.max_score)
                            .bind(g.passed)
                            .bind(Json(g.detail.clone()))
                            .bind(Json(g.request.clone()))
                            .bind(g.error.clone())
                            .bind(g.created_by.clone())
                            .bind(g.via_agent)
                            .bind(g.created_at)
                            .bind(g.finished_at)
                            .execute(&mut *tx)
                            .await
                            .map_err(lost)?;
                        }
                        SimWrite::FinishGrade { grade_id, state, score, passed, detail, error, finished_at } => {
                            let done = sqlx::query(
                                "UPDATE sim_grade SET state = $1, score = $2, passed = $3, detail = $4, error = $5, finished_at = $6 \
                                 WHERE id = $7 AND state = 'pending'",
                            )
                            .bind(state.clone())
                            .bind(*score)
                            .bind(*passed)
                            .bind(Json(detail.clone()))
                            .bind(error.clone())
                            .bind(*finished_at)
                            .bind(grade_id.clone())
                            .execute(&mut *tx)
                            .await
                            .map_err(lost)?
                            .rows_affected();
                            if done == 0 {
                                return Err(StoreError::Conflict(format!("grade {grade_id} is not pending")));
                            }
                        }
                        SimWrite::InsertResponse(r) => {
                            sqlx::query(
                                "INSERT INTO sim_response (id, chat_id, question_id, option_ids, is_correct, created_by, via_agent, created_at) \
                                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                            )
                            .bind(r.id.clone())
                            .bind(r.chat_id.clone())
                            .bind(r.question_id.clone())
                            .bind(Json(r.option_ids.clone()))
                            .bind(r.is_correct)
                            .bind(r.created_by.clone())
                            .bind(r.via_agent)
                            .bind(r.created_at)
                            .execute(&mut *tx)
                            .await
                            .map_err(lost)?;
                        }
                        SimWrite::InsertAudio(a) => {
                            sqlx::query(
                                "INSERT INTO sim_audio (run_id, chat_id, attempt_id, group_id, state, frame_count, byte_len, \
                                   upload_id, transcript, message_id, created_by, via_agent, created_at, stopped_at) \
                                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
                            )
                            .bind(a.run_id.clone())
                            .bind(a.chat_id.clone())
                            .bind(a.attempt_id.clone())
                            .bind(a.group_id.clone())
                            .bind(a.state.clone())
                            .bind(a.frame_count)
                            .bind(a.byte_len)
                            .bind(a.upload_id.clone())
                            .bind(a.transcript.clone())
                            .bind(a.message_id.clone())
                            .bind(a.created_by.clone())
                            .bind(a.via_agent)
                            .bind(a.created_at)
                            .bind(a.stopped_at)
                            .execute(&mut *tx)
                            .await
                            .map_err(lost)?;
                        }
                        SimWrite::AppendAudioFrame(f) => {
                            // The session's counter gives the frame its place, inside the
                            // transaction: concurrent frames get distinct, gapless numbers.
                            let row = sqlx::query(
                                "UPDATE sim_audio SET frame_count = frame_count + 1, byte_len = byte_len + $1 \
                                 WHERE run_id = $2 AND state = 'open' RETURNING frame_count",
                            )
                            .bind(f.byte_len)
                            .bind(f.run_id.clone())
                            .fetch_optional(&mut *tx)
                            .await?;
                            let Some(row) = row else {
                                return Err(StoreError::Conflict(format!("audio session {} is not open", f.run_id)));
                            };
                            let seq: i64 = sqlx::Row::try_get(&row, 0)?;
                            sqlx::query(
                                "INSERT INTO sim_audio_frame (run_id, seq, upload_id, byte_len, created_by, via_agent, created_at) \
                                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                            )
                            .bind(f.run_id.clone())
                            .bind(seq)
                            .bind(f.upload_id.clone())
                            .bind(f.byte_len)
                            .bind(f.created_by.clone())
                            .bind(f.via_agent)
                            .bind(f.created_at)
                            .execute(&mut *tx)
                            .await
                            .map_err(lost)?;
                        }
                        SimWrite::StopAudio { run_id, upload_id, transcript, message_id, stopped_at } => {
                            let done = sqlx::query(
                                "UPDATE sim_audio SET state = 'stopped', upload_id = $1, transcript = $2, message_id = $3, stopped_at = $4 \
                                 WHERE run_id = $5 AND state = 'open'",
                            )
                            .bind(upload_id.clone())
                            .bind(transcript.clone())
                            .bind(message_id.clone())
                            .bind(*stopped_at)
                            .bind(run_id.clone())
                            .execute(&mut *tx)
                            .await
                            .map_err(lost)?
                            .rows_affected();
                            if done == 0 {
                                return Err(StoreError::Conflict(format!("audio session {run_id} is not open")));
                            }
                        }
                        SimWrite::InsertExport(x) => {
                            sqlx::query(
                                "INSERT INTO sim_export (id, attempt_id, state, file_name, row_count, error, created_by, \
                                   via_agent, created_at, finished_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                            )
                            .bind(x.id.clone())
                            .bind(x.attempt_id.clone())
                            .bind(x.state.clone())
                            .bind(x.file_name.clone())
                            .bind(x.row_count)
                            .bind(x.error.clone())
                            .bind(x.created_by.clone())
                            .bind(x.via_agent)
                            .bind(x.created_at)
                            .bind(x.finished_at)
                            .execute(&mut *tx)
                            .await
                            .map_err(lost)?;
                        }
                        SimWrite::FinishExport { id, state, error, finished_at } => {
                            let done = sqlx::query(
                                "UPDATE sim_export SET state = $1, error = $2, finished_at = $3 WHERE id = $4 AND state = 'pending'",
                            )
                            .bind(state.clone())
                            .bind(error.clone())
                            .bind(*finished_at)
                            .bind(id.clone())
                            .execute(&mut *tx)
                            .await
                            .map_err(lost)?
                            .rows_affected();
                            if done == 0 {
                                return Err(StoreError::Conflict(format!("export {id} is not pending")));
                            }
                        }
                        SimWrite::Enqueue(job) => {
                            $insert_jobs(&mut *tx, &[job]).await?;
                        }
                    }
                }
                tx.commit().await.map_err(lost)?;
                Ok(())
            }

            async fn sim_attempt(&self, id: &str) -> $crate::storage::Result<Option<SimAttemptRow>> {
                sqlx::query("SELECT * FROM sim_attempt WHERE id = $1")
                    .bind(id.to_owned())
                    .fetch_optional(&self.$read)
                    .await?
                    .as_ref()
                    .map(sim_attempt_from)
                    .transpose()
            }

            async fn sim_chat(&self, id: &str) -> $crate::storage::Result<Option<SimChatRow>> {
                sqlx::query("SELECT * FROM sim_chat WHERE id = $1")
                    .bind(id.to_owned())
                    .fetch_optional(&self.$read)
                    .await?
                    .as_ref()
                    .map(sim_chat_from)
                    .transpose()
            }

            async fn sim_learner_chats(&self, profile_id: &str, chat_entry_ids: &[String]) -> $crate::storage::Result<Vec<SimChatRow>> {
                if chat_entry_ids.is_empty() {
                    return Ok(Vec::new());
                }
                let mut q = sqlx::QueryBuilder::<$db>::new("SELECT * FROM sim_chat WHERE profile_id = ");
                q.push_bind(profile_id.to_owned());
                sim_push_in(&mut q, "chat_entry_id", chat_entry_ids);
                q.push(" ORDER BY started_at, id");
                q.build().fetch_all(&self.$read).await?.iter().map(sim_chat_from).collect()
            }

            async fn sim_attempt_chats(&self, attempt_id: &str) -> $crate::storage::Result<Vec<SimChatRow>> {
                sqlx::query(
                    "SELECT c.* FROM sim_attempt_chat l JOIN sim_chat c ON c.id = l.chat_id \
                     WHERE l.attempt_id = $1 ORDER BY l.position, c.started_at, c.id",
                )
                .bind(attempt_id.to_owned())
                .fetch_all(&self.$read)
                .await?
                .iter()
                .map(sim_chat_from)
                .collect()
            }

            async fn sim_messages(&self, chat_ids: &[String]) -> $crate::storage::Result<Vec<SimMessageRow>> {
                if chat_ids.is_empty() {
                    return Ok(Vec::new());
                }
                let mut q = sqlx::QueryBuilder::<$db>::new("SELECT * FROM sim_message WHERE 1 = 1");
                sim_push_in(&mut q, "chat_id", chat_ids);
                q.push(" ORDER BY chat_id, seq");
                q.build().fetch_all(&self.$read).await?.iter().map(sim_message_from).collect()
            }

            async fn sim_message(&self, id: &str) -> $crate::storage::Result<Option<SimMessageRow>> {
                sqlx::query("SELECT * FROM sim_message WHERE id = $1")
                    .bind(id.to_owned())
                    .fetch_optional(&self.$read)
                    .await?
                    .as_ref()
                    .map(sim_message_from)
                    .transpose()
            }

            async fn sim_grades(&self, chat_ids: &[String]) -> $crate::storage::Result<Vec<SimGradeRow>> {
                if chat_ids.is_empty() {
                    return Ok(Vec::new());
                }
                let mut q = sqlx::QueryBuilder::<$db>::new("SELECT * FROM sim_grade WHERE 1 = 1");
                sim_push_in(&mut q, "chat_id", chat_ids);
                q.push(" ORDER BY chat_id, created_at, id");
                q.build().fetch_all(&self.$read).await?.iter().map(sim_grade_from).collect()
            }

            async fn sim_grade(&self, id: &str) -> $crate::storage::Result<Option<SimGradeRow>> {
                sqlx::query("SELECT * FROM sim_grade WHERE id = $1")
                    .bind(id.to_owned())
                    .fetch_optional(&self.$read)
                    .await?
                    .as_ref()
                    .map(sim_grade_from)
                    .transpose()
            }

            async fn sim_responses(&self, chat_ids: &[String]) -> $crate::storage::Result<Vec<SimResponseRow>> {
                use sqlx::Row;
                if chat_ids.is_empty() {
                    return Ok(Vec::new());
                }
                let mut q = sqlx::QueryBuilder::<$db>::new("SELECT * FROM sim_response WHERE 1 = 1");
                sim_push_in(&mut q, "chat_id", chat_ids);
                q.push(" ORDER BY chat_id, created_at, id");
                let rows = q.build().fetch_all(&self.$read).await?;
                rows.iter()
                    .map(|r| {
                        Ok(SimResponseRow {
                            id: r.try_get("id")?,
                            chat_id: r.try_get("chat_id")?,
                            question_id: r.try_get("question_id")?,
                            option_ids: r.try_get::<sqlx::types::Json<serde_json::Value>, _>("option_ids")?.0,
                            is_correct: r.try_get("is_correct")?,
                            created_by: r.try_get("created_by")?,
                            via_agent: r.try_get("via_agent")?,
                            created_at: r.try_get("created_at")?,
                        })
                    })
                    .collect()
            }

            async fn sim_audio_sessions(&self, chat_id: &str) -> $crate::storage::Result<Vec<SimAudioRow>> {
                sqlx::query("SELECT * FROM sim_audio WHERE chat_id = $1 ORDER BY created_at, run_id")
                    .bind(chat_id.to_owned())
                    .fetch_all(&self.$read)
                    .await?
                    .iter()
                    .map(sim_audio_from)
                    .collect()
            }

            async fn sim_audio_frames(&self, run_id: &str) -> $crate::storage::Result<Vec<SimAudioFrameRow>> {
                use sqlx::Row;
                let rows = sqlx::query("SELECT * FROM sim_audio_frame WHERE run_id = $1 ORDER BY seq")
                    .bind(run_id.to_owned())
                    .fetch_all(&self.$read)
                    .await?;
                rows.iter()
                    .map(|r| {
                        Ok(SimAudioFrameRow {
                            run_id: r.try_get("run_id")?,
                            seq: r.try_get("seq")?,
                            upload_id: r.try_get("upload_id")?,
                            byte_len: r.try_get("byte_len")?,
                            created_by: r.try_get("created_by")?,
                            via_agent: r.try_get("via_agent")?,
                            created_at: r.try_get("created_at")?,
                        })
                    })
                    .collect()
            }

            async fn sim_message_progress(&self, id: &str, content: &str, at: i64) -> $crate::storage::Result<bool> {
                let done = sqlx::query(
                    "UPDATE sim_message SET content = $1, updated_at = $2 WHERE id = $3 AND status = 'streaming'",
                )
                .bind(content.to_owned())
                .bind(at)
                .bind(id.to_owned())
                .execute(&self.$write)
                .await?
                .rows_affected();
                Ok(done == 1)
            }

            async fn sim_message_finish(&self, id: &str, content: &str, status: &str, at: i64) -> $crate::storage::Result<()> {
                sqlx::query(
                    "UPDATE sim_message SET content = $1, updated_at = $2, \
                       status = CASE WHEN status = 'streaming' THEN $3 ELSE status END \
                     WHERE id = $4 AND status IN ('streaming', 'stopped')",
                )
                .bind(content.to_owned())
                .bind(at)
                .bind(status.to_owned())
                .bind(id.to_owned())
                .execute(&self.$write)
                .await?;
                Ok(())
            }

            async fn sim_message_hints(&self, id: &str, hints: &serde_json::Value) -> $crate::storage::Result<()> {
                sqlx::query("UPDATE sim_message SET hints = $1 WHERE id = $2")
                    .bind(sqlx::types::Json(hints.clone()))
                    .bind(id.to_owned())
                    .execute(&self.$write)
                    .await?;
                Ok(())
            }

            async fn sim_fail_stale_streams(&self, before: i64, at: i64) -> $crate::storage::Result<u64> {
                Ok(sqlx::query(
                    "UPDATE sim_message SET status = 'failed', updated_at = $1 WHERE status = 'streaming' AND updated_at < $2",
                )
                .bind(at)
                .bind(before)
                .execute(&self.$write)
                .await?
                .rows_affected())
            }

            async fn sim_stop_chat(&self, chat_id: &str, at: i64) -> $crate::storage::Result<u64> {
                Ok(sqlx::query(
                    "UPDATE sim_message SET status = 'stopped', updated_at = $1 WHERE chat_id = $2 AND status = 'streaming'",
                )
                .bind(at)
                .bind(chat_id.to_owned())
                .execute(&self.$write)
                .await?
                .rows_affected())
            }

            async fn sim_search(&self, scope: &SimScope, filter: &SimFilter, limit: i64, offset: i64) -> $crate::storage::Result<SimSearchPage> {
                use sqlx::Row;
                let mut q = sqlx::QueryBuilder::<$db>::new("SELECT COUNT(*)");
                q.push(SIM_FROM);
                sim_push_filter(&mut q, scope, filter, SimOmit::Nothing);
                let total_count: i64 = q.build().fetch_one(&self.$read).await?.try_get(0)?;

                let mut q = sqlx::QueryBuilder::<$db>::new("SELECT a.*, s.name AS simulation_name, p.name AS profile_name");
                q.push(SIM_FROM);
                sim_push_filter(&mut q, scope, filter, SimOmit::Nothing);
                q.push(" ORDER BY a.created_at DESC, a.id DESC LIMIT ").push_bind(limit);
                q.push(" OFFSET ").push_bind(offset);
                let mut rows = Vec::new();
                for r in q.build().fetch_all(&self.$read).await? {
                    rows.push(SimSearchRow {
                        attempt: sim_attempt_from(&r)?,
                        profile_name: r.try_get("profile_name")?,
                        simulation_name: r.try_get("simulation_name")?,
                        num_chats: 0,
                        scenario_ids: Vec::new(),
                    });
                }
                if !rows.is_empty() {
                    let ids: Vec<String> = rows.iter().map(|r| r.attempt.id.clone()).collect();
                    let mut q = sqlx::QueryBuilder::<$db>::new(
                        "SELECT l.attempt_id, c.scenario_id FROM sim_attempt_chat l JOIN sim_chat c ON c.id = l.chat_id WHERE 1 = 1",
                    );
                    sim_push_in(&mut q, "l.attempt_id", &ids);
                    q.push(" ORDER BY l.attempt_id, l.position");
                    for r in q.build().fetch_all(&self.$read).await? {
                        let attempt_id: String = r.try_get(0)?;
                        let scenario_id: String = r.try_get(1)?;
                        if let Some(row) = rows.iter_mut().find(|row| row.attempt.id == attempt_id) {
                            row.num_chats += 1;
                            if !row.scenario_ids.contains(&scenario_id) {
                                row.scenario_ids.push(scenario_id);
                            }
                        }
                    }
                }

                let facet = |column: &str, names: &str, extra: &str, omit: SimOmit, search: Option<&str>| {
                    let mut q = sqlx::QueryBuilder::<$db>::new(format!(
                        "SELECT {column} AS id, {names} AS name, COUNT(*) AS n{extra}"
                    ));
                    q.push(SIM_FROM);
                    sim_push_filter(&mut q, scope, filter, omit);
                    q.push(format!(" AND {column} IS NOT NULL"));
                    if let Some(term) = search.map(str::trim).filter(|t| !t.is_empty()) {
                        q.push(format!(" AND LOWER({names}) LIKE "))
                            .push_bind($crate::storage::sim_sql::like_pattern(term));
                        q.push(" ESCAPE '\\'");
                    }
                    q.push(format!(" GROUP BY {column}, {names}{extra} ORDER BY n DESC, name LIMIT 200"));
                    q
                };
                let mut simulations = Vec::new();
                let mut q = facet("a.simulation_id", "s.name", "", SimOmit::Simulations, filter.simulation_search.as_deref());
                for r in q.build().fetch_all(&self.$read).await? {
                    simulations.push(SimFacet {
                        id: r.try_get("id")?,
                        name: r.try_get::<Option<String>, _>("name")?.unwrap_or_default(),
                        count: r.try_get("n")?,
                        hex_code: None,
                    });
                }
                let mut departments = Vec::new();
                let mut q = facet("a.department_id", "d.name", ", d.hex_code", SimOmit::Departments, filter.department_search.as_deref());
                for r in q.build().fetch_all(&self.$read).await? {
                    departments.push(SimFacet {
                        id: r.try_get("id")?,
                        name: r.try_get::<Option<String>, _>("name")?.unwrap_or_default(),
                        count: r.try_get("n")?,
                        hex_code: r.try_get("hex_code")?,
                    });
                }
                Ok(SimSearchPage { rows, total_count, simulations, departments })
            }

            async fn sim_archive(
                &self,
                scope: &SimScope,
                filter: &SimFilter,
                archived: bool,
                at: i64,
                by: &Writer,
            ) -> $crate::storage::Result<Vec<(String, String)>> {
                use sqlx::Row;
                let mut q = sqlx::QueryBuilder::<$db>::new("UPDATE sim_attempt SET is_archived = ");
                q.push_bind(archived);
                q.push(", updated_at = ").push_bind(at);
                q.push(", updated_by = ").push_bind(by.id.clone());
                q.push(", updated_via_agent = ").push_bind(by.via_agent);
                q.push(" WHERE id IN (SELECT a.id");
                q.push(SIM_FROM);
                sim_push_filter(&mut q, scope, filter, SimOmit::Nothing);
                q.push(" AND a.is_archived <> ").push_bind(archived);
                q.push(") RETURNING id, profile_id");
                let rows = q.build().fetch_all(&self.$write).await?;
                rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect()
            }

            async fn sim_export(&self, id: &str) -> $crate::storage::Result<Option<SimExportRow>> {
                use sqlx::Row;
                let Some(r) = sqlx::query("SELECT * FROM sim_export WHERE id = $1")
                    .bind(id.to_owned())
                    .fetch_optional(&self.$read)
                    .await?
                else {
                    return Ok(None);
                };
                Ok(Some(SimExportRow {
                    id: r.try_get("id")?,
                    attempt_id: r.try_get("attempt_id")?,
                    state: r.try_get("state")?,
                    file_name: r.try_get("file_name")?,
                    row_count: r.try_get("row_count")?,
                    error: r.try_get("error")?,
                    created_by: r.try_get("created_by")?,
                    via_agent: r.try_get("via_agent")?,
                    created_at: r.try_get("created_at")?,
                    finished_at: r.try_get("finished_at")?,
                }))
            }

            async fn sim_refresh(&self) -> $crate::storage::Result<Vec<String>> {
                $refresh(&self.$write).await
            }

            async fn sim_columns(&self, table: &str) -> $crate::storage::Result<Vec<(String, String, bool)>> {
                use sqlx::Row;
                let rows = sqlx::query($columns).bind(table.to_owned()).fetch_all(&self.$read).await?;
                rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?))).collect()
            }

            async fn profile_departments(&self, profile_id: &str) -> $crate::storage::Result<Vec<String>> {
                use sqlx::Row;
                let rows = sqlx::query("SELECT department_id FROM profile_department WHERE profile_id = $1 ORDER BY department_id")
                    .bind(profile_id.to_owned())
                    .fetch_all(&self.$read)
                    .await?;
                rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
            }

            async fn names(&self, kind: &str, ids: &[String]) -> $crate::storage::Result<Vec<(String, String)>> {
                use sqlx::Row;
                let table = match kind {
                    "profile" => "profile",
                    "simulation" => "simulation",
                    "department" => "department",
                    "scenario" => "scenario",
                    other => return Err($crate::storage::StoreError::Corrupt(format!("no names of {other}"))),
                };
                if ids.is_empty() {
                    return Ok(Vec::new());
                }
                let mut q = sqlx::QueryBuilder::<$db>::new(format!("SELECT id, name FROM {table} WHERE 1 = 1"));
                sim_push_in(&mut q, "id", ids);
                let rows = q.build().fetch_all(&self.$read).await?;
                rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect()
            }
        }
    };
}

pub(crate) use impl_sim_store;
