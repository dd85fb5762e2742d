//! Mastery reads on PostgreSQL (the SQL is shared: `mastery_sql.rs`).

use async_trait::async_trait;
use sqlx::Row;
use sqlx::postgres::PgRow;
use time::OffsetDateTime;

use super::postgres::PgStore;
use super::*;

fn mastery_row(r: PgRow) -> Result<MasteryRow> {
    Ok(MasteryRow {
        student_id: r.try_get("student_id")?,
        topic_code: r.try_get("topic_code")?,
        course_id: r.try_get("course_id")?,
        p_known: r.try_get("p_known")?,
        attempts: r.try_get("attempts")?,
        last_at: r.try_get("last_at")?,
        p_before: r.try_get("p_before")?,
    })
}

#[async_trait]
impl MasteryStore for PgStore {
    async fn student_mastery(
        &self,
        student_id: &str,
        course_id: Option<&str>,
        since: OffsetDateTime,
    ) -> Result<Vec<MasteryRow>> {
        sqlx::query(sqlx::AssertSqlSafe(super::mastery_sql::student()))
            .bind(student_id)
            .bind(since)
            .bind(course_id)
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(mastery_row)
            .collect()
    }

    async fn course_mastery(&self, course_id: &str, since: OffsetDateTime) -> Result<Vec<MasteryRow>> {
        sqlx::query(sqlx::AssertSqlSafe(super::mastery_sql::course()))
            .bind(course_id)
            .bind(since)
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(mastery_row)
            .collect()
    }

    async fn teaches_course(&self, teacher_id: &str, course_id: &str) -> Result<bool> {
        super::mastery_sql::teaches_course(&self.pool, teacher_id, course_id).await
    }

    async fn response_sequences(&self) -> Result<Vec<(String, mastery::Sequences)>> {
        super::mastery_sql::response_sequences(&self.pool).await
    }

    async fn record_calibration(&self, t: &TopicRecord, at: OffsetDateTime, responses: i64) -> Result<()> {
        super::mastery_sql::record_calibration(&self.pool, t, at, responses).await
    }
}
