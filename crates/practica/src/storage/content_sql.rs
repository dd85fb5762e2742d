//! Content bundles into the database: one transaction per bundle, every row an upsert by id,
//! memberships replaced by what the bundle says (so importing the same bundle twice changes
//! nothing). Written once for both backends: the statements are the same SQL on SQLite and
//! PostgreSQL (`$n` parameters, `ON CONFLICT … DO UPDATE`); only the transaction and the
//! timestamp differ, so the backends pass those in.

use mastery::BktParams;
use sqlx::{Database, Encode, Executor, IntoArguments, Type};

use super::Result;
use crate::content::{Bundle, ImportSummary, RefKind, Reference};

/// The references no stored row answers.
pub(crate) async fn missing<'c, DB, E>(conn: E, refs: &[Reference]) -> Result<Vec<Reference>>
where
    DB: Database,
    for<'q> <DB as Database>::Arguments: IntoArguments<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    E: Executor<'c, Database = DB> + Copy,
{
    let mut out = Vec::new();
    for r in refs {
        let sql = match r.kind {
            RefKind::Department => "SELECT 1 FROM department WHERE id = $1",
            RefKind::Cohort => "SELECT 1 FROM cohort WHERE id = $1",
            RefKind::Profile => "SELECT 1 FROM profile WHERE id = $1",
            RefKind::Topic => "SELECT 1 FROM topic WHERE code = $1",
        };
        if sqlx::query(sql)
            .bind(r.id.clone())
            .fetch_optional(conn)
            .await?
            .is_none()
        {
            out.push(r.clone());
        }
    }
    Ok(out)
}

/// Applies the bundle's statements on `tx` (a transaction the caller commits).
/// `now_sql` is the backend's expression for the current time in its timestamp format.
pub(crate) async fn apply<DB>(
    tx: &mut <DB as Database>::Connection,
    bundle: &Bundle,
    now_sql: &'static str,
) -> Result<ImportSummary>
where
    DB: Database,
    for<'q> <DB as Database>::Arguments: IntoArguments<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Encode<'q, DB> + Type<DB>,
    for<'q> f64: Encode<'q, DB> + Type<DB>,
    for<'e> &'e mut <DB as Database>::Connection: Executor<'e, Database = DB>,
{
    let mut s = ImportSummary::default();
    for d in &bundle.departments {
        sqlx::query(
            "INSERT INTO department (id, name, hex_code) VALUES ($1, $2, $3) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, hex_code = excluded.hex_code",
        )
        .bind(d.id.clone())
        .bind(d.name.clone())
        .bind(d.hex_code.clone())
        .execute(&mut *tx)
        .await?;
        s.departments.push(d.id.clone());
    }
    for c in &bundle.cohorts {
        sqlx::query(
            "INSERT INTO cohort (id, name, department_id) VALUES ($1, $2, $3) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, department_id = excluded.department_id",
        )
        .bind(c.id.clone())
        .bind(c.name.clone())
        .bind(c.department_id.clone())
        .execute(&mut *tx)
        .await?;
        s.cohorts.push(c.id.clone());
    }
    for p in &bundle.profiles {
        // `now_sql` is one of two constants chosen by the backend, never input.
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO profile (id, name, role, created_at) VALUES ($1, $2, $3, {now_sql}) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, role = excluded.role"
        )))
        .bind(p.id.clone())
        .bind(p.name.clone())
        .bind(p.role.clone())
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM profile_department WHERE profile_id = $1")
            .bind(p.id.clone())
            .execute(&mut *tx)
            .await?;
        for d in &p.department_ids {
            sqlx::query(
                "INSERT INTO profile_department (profile_id, department_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            )
            .bind(p.id.clone())
            .bind(d.clone())
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("DELETE FROM profile_cohort WHERE profile_id = $1")
            .bind(p.id.clone())
            .execute(&mut *tx)
            .await?;
        for c in &p.cohort_ids {
            sqlx::query("INSERT INTO profile_cohort (profile_id, cohort_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(p.id.clone())
                .bind(c.clone())
                .execute(&mut *tx)
                .await?;
        }
        s.profiles.push(p.id.clone());
    }
    for c in &bundle.courses {
        sqlx::query(
            "INSERT INTO course (id, name) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET name = excluded.name",
        )
        .bind(c.id.clone())
        .bind(c.name.clone())
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM course_member WHERE course_id = $1")
            .bind(c.id.clone())
            .execute(&mut *tx)
            .await?;
        for (role, ids) in [("teacher", &c.teacher_ids), ("student", &c.student_ids)] {
            for p in ids {
                sqlx::query(
                    "INSERT INTO course_member (course_id, profile_id, role) VALUES ($1, $2, $3) \
                     ON CONFLICT (course_id, profile_id) DO UPDATE SET role = excluded.role",
                )
                .bind(c.id.clone())
                .bind(p.clone())
                .bind(role.to_string())
                .execute(&mut *tx)
                .await?;
            }
        }
        s.courses.push(c.id.clone());
    }
    for t in &bundle.topics {
        let b = t.bkt.as_ref().map_or(BktParams::default(), |b| BktParams {
            p_init: b.p_init,
            p_learn: b.p_learn,
            p_slip: b.p_slip,
            p_guess: b.p_guess,
            p_forget: b.p_forget,
        });
        sqlx::query(
            "INSERT INTO topic (code, family, name, p_init, p_learn, p_slip, p_guess, p_forget) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (code) DO UPDATE SET family = excluded.family, name = excluded.name, p_init = excluded.p_init, \
             p_learn = excluded.p_learn, p_slip = excluded.p_slip, p_guess = excluded.p_guess, p_forget = excluded.p_forget",
        )
        .bind(t.code.clone())
        .bind(t.family.clone())
        .bind(t.name.clone())
        .bind(b.p_init)
        .bind(b.p_learn)
        .bind(b.p_slip)
        .bind(b.p_guess)
        .bind(b.p_forget)
        .execute(&mut *tx)
        .await?;
        s.topics.push(t.code.clone());
    }
    for e in &bundle.exercises {
        sqlx::query(
            "INSERT INTO exercise (id, topic_code, problem, expected_answer) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (id) DO UPDATE SET topic_code = excluded.topic_code, problem = excluded.problem, \
             expected_answer = excluded.expected_answer",
        )
        .bind(e.id.clone())
        .bind(e.topic_code.clone())
        .bind(e.problem.clone())
        .bind(Bundle::answer_text(e))
        .execute(&mut *tx)
        .await?;
        s.exercises.push(e.id.clone());
    }
    for t in &bundle.error_tags {
        sqlx::query(
            "INSERT INTO error_tag (code, family, name_es, name_en, severity, description, remediation) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (code) DO UPDATE SET family = excluded.family, name_es = excluded.name_es, \
             name_en = excluded.name_en, severity = excluded.severity, description = excluded.description, \
             remediation = excluded.remediation",
        )
        .bind(t.code.clone())
        .bind(t.family.clone())
        .bind(t.name.clone())
        .bind(t.name_en.clone().unwrap_or_else(|| t.name.clone()))
        .bind(t.severity.clone())
        .bind(t.description.clone())
        .bind(t.remediation.clone())
        .execute(&mut *tx)
        .await?;
        s.error_tags.push(t.code.clone());
    }
    Ok(s)
}

const ERROR_TAGS_SQL: &str =
    "SELECT code, family, name_es, name_en, severity, description, remediation FROM error_tag ORDER BY code";

fn error_tag_row<R: sqlx::Row>(r: R) -> Result<super::ErrorTagRecord>
where
    usize: sqlx::ColumnIndex<R>,
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'q> String: sqlx::Decode<'q, R::Database> + Type<R::Database>,
{
    Ok(super::ErrorTagRecord {
        code: r.try_get("code")?,
        family: r.try_get("family")?,
        name_es: r.try_get("name_es")?,
        name_en: r.try_get("name_en")?,
        severity: r.try_get("severity")?,
        description: r.try_get("description")?,
        remediation: r.try_get("remediation")?,
    })
}

#[async_trait::async_trait]
impl super::ContentStore for super::sqlite::SqliteStore {
    async fn missing(&self, refs: &[Reference]) -> Result<Vec<Reference>> {
        missing(&self.write, refs).await
    }
    async fn import(&self, bundle: &Bundle) -> Result<ImportSummary> {
        let mut tx = self.write.begin_with("BEGIN IMMEDIATE").await?;
        let summary = apply::<sqlx::Sqlite>(&mut tx, bundle, "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')").await?;
        tx.commit().await?;
        Ok(summary)
    }
    async fn error_tags(&self) -> Result<Vec<super::ErrorTagRecord>> {
        sqlx::query(ERROR_TAGS_SQL)
            .fetch_all(&self.read)
            .await?
            .into_iter()
            .map(error_tag_row)
            .collect()
    }
}

#[async_trait::async_trait]
impl super::ContentStore for super::postgres::PgStore {
    async fn missing(&self, refs: &[Reference]) -> Result<Vec<Reference>> {
        missing(&self.pool, refs).await
    }
    async fn import(&self, bundle: &Bundle) -> Result<ImportSummary> {
        let mut tx = self.pool.begin().await?;
        let summary = apply::<sqlx::Postgres>(&mut tx, bundle, "now()").await?;
        tx.commit().await?;
        Ok(summary)
    }
    async fn error_tags(&self) -> Result<Vec<super::ErrorTagRecord>> {
        sqlx::query(ERROR_TAGS_SQL)
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(error_tag_row)
            .collect()
    }
}
