//! Mastery reads on SQLite (the SQL is shared: `mastery_sql.rs`).

use async_trait::async_trait;
use sqlx::Row;
use sqlx::sqlite::SqliteRow;
use time::OffsetDateTime;

use super::sqlite::{SqliteStore, ts};
use super::*;

fn mastery_row(r: SqliteRow) -> Result<MasteryRow> {
    Ok(MasteryRow {
        student_id: r.try_get("student_id")?,
        topic_code: r.try_get("topic_code")?,
        course_id: r.try_get("course_id")?,
        p_known: r.try_get("p_known")?,
        attempts: r.try_get("attempts")?,
        last_at: super::sqlite::parse_ts(&r.try_get::<String, _>("last_at")?)?,
        p_before: r.try_get("p_before")?,
    })
}

#[async_trait]
impl MasteryStore for SqliteStore {
    async fn student_mastery(
        &self,
        student_id: &str,
        course_id: Option<&str>,
        since: OffsetDateTime,
    ) -> Result<Vec<MasteryRow>> {
        sqlx::query(sqlx::AssertSqlSafe(super::mastery_sql::student()))
            .bind(student_id)
            .bind(ts(since))
            .bind(course_id)
            .fetch_all(&self.read)
            .await?
            .into_iter()
            .map(mastery_row)
            .collect()
    }

    async fn course_mastery(&self, course_id: &str, since: OffsetDateTime) -> Result<Vec<MasteryRow>> {
        sqlx::query(sqlx::AssertSqlSafe(super::mastery_sql::course()))
            .bind(course_id)
            .bind(ts(since))
            .fetch_all(&self.read)
            .await?
            .into_iter()
            .map(mastery_row)
            .collect()
    }

    async fn teaches_course(&self, teacher_id: &str, course_id: &str) -> Result<bool> {
        super::mastery_sql::teaches_course(&self.read, teacher_id, course_id).await
    }

    async fn response_sequences(&self) -> Result<Vec<(String, mastery::Sequences)>> {
        super::mastery_sql::response_sequences(&self.read).await
    }

    async fn record_calibration(&self, t: &TopicRecord, at: OffsetDateTime, responses: i64) -> Result<()> {
        super::mastery_sql::record_calibration(&self.write, t, ts(at), responses).await
    }
}
