//! The mastery reads, the same SQL on both backends (`$n` parameters; the backends bind their
//! own timestamp types). The value a week ago is the last history row at or before the window's
//! start, found through the history's (student, topic, course, recorded_at) index.

use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Row, Type};

const COLUMNS: &str = "SELECT m.student_id, m.topic_code, m.course_id, m.p_known, m.attempts, m.last_at, \
       (SELECT h.p_known FROM mastery_history h \
        WHERE h.student_id = m.student_id AND h.topic_code = m.topic_code AND h.course_id = m.course_id \
          AND h.recorded_at <= $2 \
        ORDER BY h.recorded_at DESC LIMIT 1) AS p_before \
     FROM mastery m ";

/// $1 student, $2 window start, $3 course or NULL for all.
pub(super) fn student() -> String {
    format!(
        "{COLUMNS} WHERE m.student_id = $1 AND (CAST($3 AS TEXT) IS NULL OR m.course_id = $3) ORDER BY m.topic_code, m.course_id"
    )
}

/// $1 course, $2 window start.
pub(super) fn course() -> String {
    format!("{COLUMNS} WHERE m.course_id = $1 ORDER BY m.student_id, m.topic_code")
}

const TEACHES_COURSE: &str =
    "SELECT 1 FROM course_member WHERE profile_id = $1 AND course_id = $2 AND role = 'teacher'";

/// Every attempt's correctness, one sequence per (student, course) within each topic, in time
/// order: the data a refit learns from. Ad-hoc attempts not (or not yet) solved keep the
/// placeholder topic ADHOC and say nothing about a skill.
const RESPONSES: &str = "SELECT topic_code, student_id, COALESCE(course_id, '') AS course_id, is_correct \
     FROM attempt WHERE topic_code <> 'ADHOC' ORDER BY topic_code, student_id, course_id, created_at, id";

/// A topic's fitted parameters, with when and on how many responses.
const CALIBRATE_TOPIC: &str = "INSERT INTO topic \
       (code, family, name, p_init, p_learn, p_slip, p_guess, p_forget, calibrated_at, calibrated_on_rows) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
     ON CONFLICT (code) DO UPDATE SET p_init = excluded.p_init, p_learn = excluded.p_learn, \
       p_slip = excluded.p_slip, p_guess = excluded.p_guess, p_forget = excluded.p_forget, \
       calibrated_at = excluded.calibrated_at, calibrated_on_rows = excluded.calibrated_on_rows";

/// Builds per-topic sequences from rows sorted by topic, student, course, time.
#[derive(Default)]
struct SequenceBuilder {
    topics: Vec<(String, mastery::Sequences)>,
    key: Option<(String, String, String)>,
    current: Vec<bool>,
}

impl SequenceBuilder {
    pub(super) fn push(&mut self, topic: String, student: String, course: String, correct: bool) {
        let key = (topic, student, course);
        if self.key.as_ref() != Some(&key) {
            self.flush();
            if self.topics.last().is_none_or(|(t, _)| *t != key.0) {
                self.topics.push((key.0.clone(), mastery::Sequences::new()));
            }
            self.key = Some(key);
        }
        self.current.push(correct);
    }

    fn flush(&mut self) {
        if !self.current.is_empty()
            && let Some((_, seqs)) = self.topics.last_mut()
        {
            seqs.push(&self.current);
        }
        self.current.clear();
    }

    pub(super) fn finish(mut self) -> Vec<(String, mastery::Sequences)> {
        self.flush();
        self.topics
    }
}

/// [`super::MasteryStore::response_sequences`] on either backend.
pub(super) async fn response_sequences<'c, DB, E>(conn: E) -> super::Result<Vec<(String, mastery::Sequences)>>
where
    DB: Database,
    E: Executor<'c, Database = DB> + 'c,
    for<'q> <DB as Database>::Arguments: IntoArguments<DB>,
    for<'r> String: Decode<'r, DB> + Type<DB>,
    for<'r> bool: Decode<'r, DB> + Type<DB>,
    for<'a> &'a str: ColumnIndex<DB::Row>,
{
    use futures::TryStreamExt;
    let mut rows = sqlx::query::<DB>(RESPONSES).fetch(conn);
    let mut builder = SequenceBuilder::default();
    while let Some(r) = rows.try_next().await? {
        builder.push(
            r.try_get("topic_code")?,
            r.try_get("student_id")?,
            r.try_get("course_id")?,
            r.try_get("is_correct")?,
        );
    }
    Ok(builder.finish())
}

/// [`super::MasteryStore::record_calibration`] on either backend; `at` in the backend's
/// timestamp type.
pub(super) async fn record_calibration<'c, DB, E, T>(
    conn: E,
    t: &super::TopicRecord,
    at: T,
    responses: i64,
) -> super::Result<()>
where
    DB: Database,
    E: Executor<'c, Database = DB>,
    for<'q> <DB as Database>::Arguments: IntoArguments<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> f64: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> T: Encode<'q, DB> + Type<DB> + Send + 'q,
{
    sqlx::query(CALIBRATE_TOPIC)
        .bind(t.code.clone())
        .bind(t.family.clone())
        .bind(t.name.clone())
        .bind(t.bkt.p_init)
        .bind(t.bkt.p_learn)
        .bind(t.bkt.p_slip)
        .bind(t.bkt.p_guess)
        .bind(t.bkt.p_forget)
        .bind(at)
        .bind(responses)
        .execute(conn)
        .await?;
    Ok(())
}

/// [`super::MasteryStore::teaches_course`] on either backend.
pub(super) async fn teaches_course<'c, DB, E>(conn: E, teacher_id: &str, course_id: &str) -> super::Result<bool>
where
    DB: Database,
    E: Executor<'c, Database = DB>,
    for<'q> <DB as Database>::Arguments: IntoArguments<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
{
    Ok(sqlx::query(TEACHES_COURSE)
        .bind(teacher_id.to_string())
        .bind(course_id.to_string())
        .fetch_optional(conn)
        .await?
        .is_some())
}

/// One attempt's mastery update, outside group commit: the row created if missing, read (under
/// a row lock on PostgreSQL, the write lock on SQLite), then written with its history.
const ENSURE_MASTERY: &str = "INSERT INTO mastery \
       (student_id, topic_code, course_id, p_known, attempts, last_at, version) \
     VALUES ($1, $2, $3, $4, 0, $5, 0) \
     ON CONFLICT (student_id, topic_code, course_id) DO NOTHING";

const READ_MASTERY: &str = "SELECT p_known FROM mastery \
     WHERE student_id = $1 AND topic_code = $2 AND course_id = $3";

const WRITE_MASTERY: &str = "UPDATE mastery \
     SET p_known = $4, attempts = attempts + 1, version = version + 1, last_at = $5 \
     WHERE student_id = $1 AND topic_code = $2 AND course_id = $3";

const INSERT_MASTERY_HISTORY: &str = "INSERT INTO mastery_history \
       (student_id, topic_code, course_id, attempt_id, p_known, recorded_at) \
     VALUES ($1, $2, $3, $4, $5, $6)";

/// One attempt's BKT update outside group commit (an ad-hoc attempt, once solved), inside the
/// caller's transaction: the row created at p_init if missing, read under a row lock
/// (`lock` = " FOR UPDATE" on PostgreSQL; SQLite's transaction holds the write lock already),
/// updated, and its history row written. `attempt_id` and `at` in the backend's types.
pub(super) async fn apply_update<DB, I, T>(
    conn: &mut DB::Connection,
    m: &super::MasteryUpdate,
    attempt_id: I,
    at: T,
    lock: &'static str,
) -> super::Result<f64>
where
    DB: Database,
    for<'e> &'e mut DB::Connection: Executor<'e, Database = DB>,
    for<'q> <DB as Database>::Arguments: IntoArguments<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> f64: Encode<'q, DB> + Type<DB>,
    for<'r> f64: Decode<'r, DB>,
    for<'q> I: Encode<'q, DB> + Type<DB> + Send + 'q,
    for<'q> T: Encode<'q, DB> + Type<DB> + Send + Clone + 'q,
    usize: ColumnIndex<DB::Row>,
{
    sqlx::query::<DB>(ENSURE_MASTERY)
        .bind(m.student_id.as_str())
        .bind(m.topic_code.as_str())
        .bind(m.course_id.as_str())
        .bind(m.params.p_init)
        .bind(at.clone())
        .execute(&mut *conn)
        .await?;
    let row = sqlx::query::<DB>(sqlx::AssertSqlSafe(format!("{READ_MASTERY}{lock}")))
        .bind(m.student_id.as_str())
        .bind(m.topic_code.as_str())
        .bind(m.course_id.as_str())
        .fetch_one(&mut *conn)
        .await?;
    let p = m.params.update(row.try_get(0)?, m.correct);
    sqlx::query::<DB>(WRITE_MASTERY)
        .bind(m.student_id.as_str())
        .bind(m.topic_code.as_str())
        .bind(m.course_id.as_str())
        .bind(p)
        .bind(at.clone())
        .execute(&mut *conn)
        .await?;
    sqlx::query::<DB>(INSERT_MASTERY_HISTORY)
        .bind(m.student_id.as_str())
        .bind(m.topic_code.as_str())
        .bind(m.course_id.as_str())
        .bind(attempt_id)
        .bind(p)
        .bind(at)
        .execute(&mut *conn)
        .await?;
    Ok(p)
}
