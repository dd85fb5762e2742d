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
        let found: Option<i64> = sqlx::query_scalar(super::mastery_sql::TEACHES_COURSE)
            .bind(teacher_id)
            .bind(course_id)
            .fetch_optional(&self.read)
            .await?;
        Ok(found.is_some())
    }

    async fn response_sequences(&self) -> Result<Vec<(String, mastery::Sequences)>> {
        use futures::TryStreamExt;
        let mut rows = sqlx::query(super::mastery_sql::RESPONSES).fetch(&self.read);
        let mut builder = super::mastery_sql::SequenceBuilder::default();
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

    async fn record_calibration(&self, t: &TopicRecord, at: OffsetDateTime, responses: i64) -> Result<()> {
        sqlx::query(super::mastery_sql::CALIBRATE_TOPIC)
            .bind(&t.code)
            .bind(&t.family)
            .bind(&t.name)
            .bind(t.bkt.p_init)
            .bind(t.bkt.p_learn)
            .bind(t.bkt.p_slip)
            .bind(t.bkt.p_guess)
            .bind(t.bkt.p_forget)
            .bind(ts(at))
            .bind(responses)
            .execute(&self.write)
            .await?;
        Ok(())
    }
}
