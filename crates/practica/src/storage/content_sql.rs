//! Content bundles into the database: one transaction per bundle, every row an upsert by id,
//! memberships replaced by what the bundle says (so importing the same bundle twice changes
//! nothing). Written once for both backends: the statements are the same SQL on SQLite and
//! PostgreSQL (`$n` parameters, `ON CONFLICT … DO UPDATE`); only the transaction and the
//! timestamp differ, so the backends pass those in. Simulation content is read back the same
//! way, generic over the backend.

use mastery::BktParams;
use sqlx::types::Json;
use sqlx::{Database, Decode, Encode, Executor, IntoArguments, Row, Type};

use super::Result;
use crate::content::{
    Bundle, Home, ImportSummary, Persona, Practice, Question, QuestionOption, RefKind, Reference, Scenario, Simulation,
};

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
            RefKind::Persona => "SELECT 1 FROM persona WHERE id = $1",
            RefKind::Rubric => "SELECT 1 FROM rubric WHERE id = $1",
            RefKind::Simulation => "SELECT 1 FROM simulation WHERE id = $1",
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
    for<'q> i32: Encode<'q, DB> + Type<DB>,
    for<'q> bool: Encode<'q, DB> + Type<DB>,
    for<'q> Json<Vec<String>>: Encode<'q, DB> + Type<DB>,
    for<'r> String: Decode<'r, DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
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
    apply_simulation_content::<DB>(tx, bundle, &mut s).await?;
    Ok(s)
}

/// Validated points, positions and time limits fit a 32-bit column (content.rs caps them).
fn int(n: impl TryInto<i32>) -> i32 {
    n.try_into().unwrap_or(i32::MAX)
}

/// Personas, rubrics, simulations (with scenarios), homes and practices. A row's children —
/// a rubric's criteria and levels, a scenario's personas and questions — are replaced by what
/// the bundle says, like memberships above; nothing refers to them by foreign key, so replacing
/// them is the simplest way to make a second import equal the first. A simulation's scenarios
/// are upserted by id (they are ids the APIs use) and those it no longer lists are removed with
/// their children, so the stored simulation plays exactly the bundle's list.
async fn apply_simulation_content<DB>(
    tx: &mut <DB as Database>::Connection,
    bundle: &Bundle,
    s: &mut ImportSummary,
) -> Result<()>
where
    DB: Database,
    for<'q> <DB as Database>::Arguments: IntoArguments<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Encode<'q, DB> + Type<DB>,
    for<'q> i32: Encode<'q, DB> + Type<DB>,
    for<'q> bool: Encode<'q, DB> + Type<DB>,
    for<'q> Json<Vec<String>>: Encode<'q, DB> + Type<DB>,
    for<'r> String: Decode<'r, DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
    for<'e> &'e mut <DB as Database>::Connection: Executor<'e, Database = DB>,
{
    for p in &bundle.personas {
        sqlx::query(
            "INSERT INTO persona (id, name, instructions, color, icon) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, instructions = excluded.instructions, \
             color = excluded.color, icon = excluded.icon",
        )
        .bind(p.id.clone())
        .bind(p.name.clone())
        .bind(p.instructions.clone())
        .bind(p.color.clone())
        .bind(p.icon.clone())
        .execute(&mut *tx)
        .await?;
        s.personas.push(p.id.clone());
    }
    for r in &bundle.rubrics {
        sqlx::query(
            "INSERT INTO rubric (id, name) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET name = excluded.name",
        )
        .bind(r.id.clone())
        .bind(r.name.clone())
        .execute(&mut *tx)
        .await?;
        // Levels go with their criterion (ON DELETE CASCADE).
        sqlx::query("DELETE FROM rubric_criterion WHERE rubric_id = $1")
            .bind(r.id.clone())
            .execute(&mut *tx)
            .await?;
        for (c, criterion) in r.criteria.iter().enumerate() {
            sqlx::query(
                "INSERT INTO rubric_criterion (rubric_id, id, position, name, points, pass_points) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(r.id.clone())
            .bind(criterion.id.clone())
            .bind(int(c))
            .bind(criterion.name.clone())
            .bind(int(criterion.points))
            .bind(int(criterion.pass_points))
            .execute(&mut *tx)
            .await?;
            for (l, level) in criterion.levels.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO rubric_level (rubric_id, criterion_id, id, position, name, points, evidence) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(r.id.clone())
                .bind(criterion.id.clone())
                .bind(level.id.clone())
                .bind(int(l))
                .bind(level.name.clone())
                .bind(int(level.points))
                .bind(Json(level.evidence.clone()))
                .execute(&mut *tx)
                .await?;
            }
        }
        s.rubrics.push(r.id.clone());
    }
    for sim in &bundle.simulations {
        sqlx::query(
            "INSERT INTO simulation (id, name, rubric_id, hints_enabled, time_limit) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, rubric_id = excluded.rubric_id, \
             hints_enabled = excluded.hints_enabled, time_limit = excluded.time_limit",
        )
        .bind(sim.id.clone())
        .bind(sim.name.clone())
        .bind(sim.rubric_id.clone())
        .bind(sim.hints_enabled)
        .bind(int(sim.time_limit))
        .execute(&mut *tx)
        .await?;
        let stored: Vec<String> = sqlx::query("SELECT id FROM scenario WHERE simulation_id = $1")
            .bind(sim.id.clone())
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .map(|r| r.try_get(0))
            .collect::<std::result::Result<_, _>>()?;
        for id in stored.iter().filter(|id| !sim.scenarios.iter().any(|sc| &sc.id == *id)) {
            sqlx::query("DELETE FROM scenario WHERE id = $1")
                .bind(id.clone())
                .execute(&mut *tx)
                .await?;
        }
        for (j, sc) in sim.scenarios.iter().enumerate() {
            // Upserting moves a scenario another simulation listed before into this one.
            sqlx::query(
                "INSERT INTO scenario (id, simulation_id, position, name, problem_statement, objectives, rubric_id, script) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (id) DO UPDATE SET simulation_id = excluded.simulation_id, position = excluded.position, \
                 name = excluded.name, problem_statement = excluded.problem_statement, objectives = excluded.objectives, \
                 rubric_id = excluded.rubric_id, script = excluded.script",
            )
            .bind(sc.id.clone())
            .bind(sim.id.clone())
            .bind(int(j))
            .bind(sc.name.clone())
            .bind(sc.problem_statement.clone())
            .bind(Json(sc.objectives.clone()))
            .bind(sc.rubric_id.clone())
            .bind(Json(sc.script.clone()))
            .execute(&mut *tx)
            .await?;
            for table in ["scenario_persona", "question"] {
                // `table` is one of two constants, never input. Options go with their question.
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DELETE FROM {table} WHERE scenario_id = $1"
                )))
                .bind(sc.id.clone())
                .execute(&mut *tx)
                .await?;
            }
            for (k, p) in sc.persona_ids.iter().enumerate() {
                sqlx::query("INSERT INTO scenario_persona (scenario_id, persona_id, position) VALUES ($1, $2, $3)")
                    .bind(sc.id.clone())
                    .bind(p.clone())
                    .bind(int(k))
                    .execute(&mut *tx)
                    .await?;
            }
            for (k, q) in sc.questions.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO question (scenario_id, id, position, question_text, allow_multiple) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(sc.id.clone())
                .bind(q.id.clone())
                .bind(int(k))
                .bind(q.question_text.clone())
                .bind(q.allow_multiple)
                .execute(&mut *tx)
                .await?;
                for (o, opt) in q.options.iter().enumerate() {
                    sqlx::query(
                        "INSERT INTO question_option (scenario_id, question_id, id, position, option_text, is_correct) \
                         VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(sc.id.clone())
                    .bind(q.id.clone())
                    .bind(opt.id.clone())
                    .bind(int(o))
                    .bind(opt.option_text.clone())
                    .bind(opt.is_correct)
                    .execute(&mut *tx)
                    .await?;
                }
            }
        }
        s.simulations.push(sim.id.clone());
    }
    for h in &bundle.homes {
        sqlx::query(
            "INSERT INTO home (id, simulation_id, cohort_id, department_id) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (id) DO UPDATE SET simulation_id = excluded.simulation_id, cohort_id = excluded.cohort_id, \
             department_id = excluded.department_id",
        )
        .bind(h.id.clone())
        .bind(h.simulation_id.clone())
        .bind(h.cohort_id.clone())
        .bind(h.department_id.clone())
        .execute(&mut *tx)
        .await?;
        s.homes.push(h.id.clone());
    }
    for p in &bundle.practices {
        sqlx::query(
            "INSERT INTO practice (id, simulation_id) VALUES ($1, $2) \
             ON CONFLICT (id) DO UPDATE SET simulation_id = excluded.simulation_id",
        )
        .bind(p.id.clone())
        .bind(p.simulation_id.clone())
        .execute(&mut *tx)
        .await?;
        s.practices.push(p.id.clone());
    }
    Ok(())
}

// Reading simulation content back, once for both backends (`E` is a pool).

fn u32_of(n: i32) -> u32 {
    u32::try_from(n).unwrap_or(0)
}

async fn persona<'c, DB, E>(conn: E, id: &str) -> Result<Option<Persona>>
where
    DB: Database,
    for<'q> <DB as Database>::Arguments: IntoArguments<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB> + Decode<'q, DB>,
    for<'q> Option<String>: Decode<'q, DB> + Type<DB>,
    for<'a> &'a str: sqlx::ColumnIndex<DB::Row>,
    E: Executor<'c, Database = DB>,
{
    let Some(r) = sqlx::query("SELECT id, name, instructions, color, icon FROM persona WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(conn)
        .await?
    else {
        return Ok(None);
    };
    Ok(Some(Persona {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        instructions: r.try_get("instructions")?,
        color: r.try_get("color")?,
        icon: r.try_get("icon")?,
    }))
}

async fn rubric<'c, DB, E>(conn: E, id: &str) -> Result<Option<simulation::rubric::Rubric>>
where
    DB: Database,
    for<'q> <DB as Database>::Arguments: IntoArguments<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB> + Decode<'q, DB>,
    for<'q> i32: Decode<'q, DB> + Type<DB>,
    for<'q> Json<Vec<String>>: Decode<'q, DB> + Type<DB>,
    for<'a> &'a str: sqlx::ColumnIndex<DB::Row>,
    E: Executor<'c, Database = DB> + Copy,
{
    use simulation::rubric::{Criterion, Level, Rubric};
    let Some(r) = sqlx::query("SELECT name FROM rubric WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(conn)
        .await?
    else {
        return Ok(None);
    };
    let mut criteria = Vec::new();
    for c in
        sqlx::query("SELECT id, name, points, pass_points FROM rubric_criterion WHERE rubric_id = $1 ORDER BY position")
            .bind(id.to_string())
            .fetch_all(conn)
            .await?
    {
        let criterion_id: String = c.try_get("id")?;
        let mut levels = Vec::new();
        for l in sqlx::query(
            "SELECT id, name, points, evidence FROM rubric_level WHERE rubric_id = $1 AND criterion_id = $2 \
             ORDER BY position",
        )
        .bind(id.to_string())
        .bind(criterion_id.clone())
        .fetch_all(conn)
        .await?
        {
            let Json(evidence): Json<Vec<String>> = l.try_get("evidence")?;
            levels.push(Level {
                id: l.try_get("id")?,
                name: l.try_get("name")?,
                description: String::new(),
                points: u32_of(l.try_get("points")?),
                evidence,
            });
        }
        criteria.push(Criterion {
            id: criterion_id,
            name: c.try_get("name")?,
            description: String::new(),
            points: u32_of(c.try_get("points")?),
            pass_points: u32_of(c.try_get("pass_points")?),
            levels,
        });
    }
    Ok(Some(Rubric {
        id: id.to_string(),
        name: r.try_get("name")?,
        criteria,
    }))
}

async fn simulation<'c, DB, E>(conn: E, id: &str) -> Result<Option<Simulation>>
where
    DB: Database,
    for<'q> <DB as Database>::Arguments: IntoArguments<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB> + Decode<'q, DB>,
    for<'q> Option<String>: Decode<'q, DB> + Type<DB>,
    for<'q> i32: Decode<'q, DB> + Type<DB>,
    for<'q> bool: Decode<'q, DB> + Type<DB>,
    for<'q> Json<Vec<String>>: Decode<'q, DB> + Type<DB>,
    for<'a> &'a str: sqlx::ColumnIndex<DB::Row>,
    E: Executor<'c, Database = DB> + Copy,
{
    let Some(r) = sqlx::query("SELECT name, rubric_id, hints_enabled, time_limit FROM simulation WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(conn)
        .await?
    else {
        return Ok(None);
    };
    let mut scenarios = Vec::new();
    for sc in sqlx::query(
        "SELECT id, name, problem_statement, objectives, rubric_id, script FROM scenario \
         WHERE simulation_id = $1 ORDER BY position",
    )
    .bind(id.to_string())
    .fetch_all(conn)
    .await?
    {
        let scenario_id: String = sc.try_get("id")?;
        let persona_ids =
            sqlx::query("SELECT persona_id FROM scenario_persona WHERE scenario_id = $1 ORDER BY position")
                .bind(scenario_id.clone())
                .fetch_all(conn)
                .await?
                .into_iter()
                .map(|p| p.try_get("persona_id"))
                .collect::<std::result::Result<_, _>>()?;
        let mut questions = Vec::new();
        for q in sqlx::query(
            "SELECT id, question_text, allow_multiple FROM question WHERE scenario_id = $1 ORDER BY position",
        )
        .bind(scenario_id.clone())
        .fetch_all(conn)
        .await?
        {
            let question_id: String = q.try_get("id")?;
            let options = sqlx::query(
                "SELECT id, option_text, is_correct FROM question_option \
                 WHERE scenario_id = $1 AND question_id = $2 ORDER BY position",
            )
            .bind(scenario_id.clone())
            .bind(question_id.clone())
            .fetch_all(conn)
            .await?
            .into_iter()
            .map(|o| {
                Ok(QuestionOption {
                    id: o.try_get("id")?,
                    option_text: o.try_get("option_text")?,
                    is_correct: o.try_get("is_correct")?,
                })
            })
            .collect::<Result<_>>()?;
            questions.push(Question {
                id: question_id,
                question_text: q.try_get("question_text")?,
                allow_multiple: q.try_get("allow_multiple")?,
                options,
            });
        }
        let Json(objectives): Json<Vec<String>> = sc.try_get("objectives")?;
        let Json(script): Json<Vec<String>> = sc.try_get("script")?;
        scenarios.push(Scenario {
            id: scenario_id,
            name: sc.try_get("name")?,
            persona_ids,
            problem_statement: sc.try_get("problem_statement")?,
            objectives,
            rubric_id: sc.try_get("rubric_id")?,
            script,
            questions,
        });
    }
    Ok(Some(Simulation {
        id: id.to_string(),
        name: r.try_get("name")?,
        rubric_id: r.try_get("rubric_id")?,
        hints_enabled: r.try_get("hints_enabled")?,
        time_limit: u32_of(r.try_get("time_limit")?),
        scenarios,
    }))
}

async fn home<'c, DB, E>(conn: E, id: &str) -> Result<Option<Home>>
where
    DB: Database,
    for<'q> <DB as Database>::Arguments: IntoArguments<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB> + Decode<'q, DB>,
    for<'q> Option<String>: Decode<'q, DB> + Type<DB>,
    for<'a> &'a str: sqlx::ColumnIndex<DB::Row>,
    E: Executor<'c, Database = DB>,
{
    let Some(r) = sqlx::query("SELECT id, simulation_id, cohort_id, department_id FROM home WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(conn)
        .await?
    else {
        return Ok(None);
    };
    Ok(Some(Home {
        id: r.try_get("id")?,
        simulation_id: r.try_get("simulation_id")?,
        cohort_id: r.try_get("cohort_id")?,
        department_id: r.try_get("department_id")?,
    }))
}

async fn practice<'c, DB, E>(conn: E, id: &str) -> Result<Option<Practice>>
where
    DB: Database,
    for<'q> <DB as Database>::Arguments: IntoArguments<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB> + Decode<'q, DB>,
    for<'a> &'a str: sqlx::ColumnIndex<DB::Row>,
    E: Executor<'c, Database = DB>,
{
    let Some(r) = sqlx::query("SELECT id, simulation_id FROM practice WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(conn)
        .await?
    else {
        return Ok(None);
    };
    Ok(Some(Practice {
        id: r.try_get("id")?,
        simulation_id: r.try_get("simulation_id")?,
    }))
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
    async fn persona(&self, id: &str) -> Result<Option<Persona>> {
        persona(&self.read, id).await
    }
    async fn rubric(&self, id: &str) -> Result<Option<simulation::rubric::Rubric>> {
        rubric(&self.read, id).await
    }
    async fn simulation(&self, id: &str) -> Result<Option<Simulation>> {
        simulation(&self.read, id).await
    }
    async fn home(&self, id: &str) -> Result<Option<Home>> {
        home(&self.read, id).await
    }
    async fn practice(&self, id: &str) -> Result<Option<Practice>> {
        practice(&self.read, id).await
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
    async fn persona(&self, id: &str) -> Result<Option<Persona>> {
        persona(&self.pool, id).await
    }
    async fn rubric(&self, id: &str) -> Result<Option<simulation::rubric::Rubric>> {
        rubric(&self.pool, id).await
    }
    async fn simulation(&self, id: &str) -> Result<Option<Simulation>> {
        simulation(&self.pool, id).await
    }
    async fn home(&self, id: &str) -> Result<Option<Home>> {
        home(&self.pool, id).await
    }
    async fn practice(&self, id: &str) -> Result<Option<Practice>> {
        practice(&self.pool, id).await
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
