//! SQLite's side of group commit (see [`super::group_commit`]): a group of attempts in one
//! `BEGIN IMMEDIATE` transaction on the single writer connection.

use std::collections::HashMap;

use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool};

use super::group_commit::{Groups, MasteryKey, WriteJob, apply_mastery, mastery_key, with_mastery};
use super::sqlite::{SqliteStore, ts};
use super::{Recorded, Result};

/// Groups on the single writer connection.
pub(super) struct SqliteGroups(pub(super) SqlitePool);

#[async_trait::async_trait]
impl Groups for SqliteGroups {
    async fn write_group(&self, group: &[WriteJob]) -> Result<Vec<Recorded>> {
        write_group(&self.0, group).await
    }
}

async fn write_group(pool: &SqlitePool, group: &[WriteJob]) -> Result<Vec<Recorded>> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    // A key used before answers as before. Claims are made one after the other in this
    // transaction, so a key repeated within the group finds the group's own first claim.
    let mut results: Vec<Option<Recorded>> = Vec::with_capacity(group.len());
    for job in group {
        results.push(match &job.idempotency {
            Some(c) => SqliteStore::claim_idempotency(&mut tx, c).await?,
            None => None,
        });
    }
    let live: Vec<usize> = (0..group.len()).filter(|&i| results[i].is_none()).collect();
    if live.is_empty() {
        tx.commit().await?;
        return Ok(results.into_iter().map(|r| r.expect("every job answered")).collect());
    }

    let mut q = QueryBuilder::<Sqlite>::new(
        "INSERT INTO attempt (id, student_id, topic_code, course_id, exercise_id, status, is_correct, error_tag_code, \
         error_subtag, classifier_source, classifier_name, confidence, diagnosis, first_wrong_step, expected_answer, \
         client_expected_answer, student_answer, trace_id, created_by, via_agent, created_at, signature, origin, \
         problem, grade_level, photo_id) ",
    );
    q.push_values(live.iter().map(|&i| &group[i].attempt), |mut row, a| {
        row.push_bind(a.id.to_string())
            .push_bind(a.student_id.clone())
            .push_bind(a.topic_code.clone())
            .push_bind(a.course_id.clone())
            .push_bind(a.exercise_id.clone())
            .push_bind(a.status.as_str())
            .push_bind(a.is_correct)
            .push_bind(a.error_tag_code.clone())
            .push_bind(a.error_subtag.clone())
            .push_bind(a.classifier_source.as_str())
            .push_bind(a.classifier_name.clone())
            .push_bind(a.confidence)
            .push_bind(a.diagnosis.to_string())
            .push_bind(a.first_wrong_step)
            .push_bind(a.expected_answer.clone())
            .push_bind(a.client_expected_answer.clone())
            .push_bind(a.student_answer.clone())
            .push_bind(a.trace_id.clone())
            .push_bind(a.created_by.clone())
            .push_bind(a.via_agent)
            .push_bind(ts(a.created_at))
            .push_bind(a.signature.clone())
            .push_bind(a.origin.as_str())
            .push_bind(a.problem.clone())
            .push_bind(a.grade_level)
            .push_bind(a.photo_id.map(|p| p.to_string()));
    });
    q.build().execute(&mut *tx).await?;
    let jobs: Vec<&super::NewJob> = live
        .iter()
        .filter_map(|&i| group[i].attempt.classification_job.as_ref())
        .collect();
    super::sqlite_jobs::insert_jobs(&mut tx, &jobs).await?;

    let steps: Vec<(String, i64, &super::NewStep)> = live
        .iter()
        .flat_map(|&i| {
            let a = &group[i].attempt;
            a.steps
                .iter()
                .enumerate()
                .map(move |(k, s)| (a.id.to_string(), k as i64, s))
        })
        .collect();
    if !steps.is_empty() {
        let mut q =
            QueryBuilder::<Sqlite>::new("INSERT INTO attempt_step (attempt_id, idx, expression, is_final, parsed_ok) ");
        q.push_values(steps, |mut row, (id, k, s)| {
            row.push_bind(id)
                .push_bind(k)
                .push_bind(s.expression.clone())
                .push_bind(s.is_final)
                .push_bind(s.parsed_ok);
        });
        q.build().execute(&mut *tx).await?;
    }

    for &i in &live {
        results[i] = Some(Recorded::New { p_known: None });
    }
    let updates = with_mastery(group, &live);
    if !updates.is_empty() {
        write_mastery(&mut tx, group, &updates, &mut results).await?;
    }

    // The outbox in arrival order: the relay publishes in this order.
    let mut q =
        QueryBuilder::<Sqlite>::new("INSERT INTO outbox (event_id, event_type, ordering_key, payload, created_at) ");
    q.push_values(live.iter().map(|&i| &group[i]), |mut row, job| {
        row.push_bind(job.event.event_id.to_string())
            .push_bind(job.event.event_type.clone())
            .push_bind(job.event.ordering_key.clone())
            .push_bind(job.event.payload.to_string())
            .push_bind(ts(job.attempt.created_at));
    });
    q.build().execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(results.into_iter().map(|r| r.expect("every job answered")).collect())
}

/// Mastery: the stored values of every key the group touches, then each attempt applied in
/// arrival order (as one transaction per attempt would).
async fn write_mastery(
    tx: &mut sqlx::Transaction<'_, Sqlite>,
    group: &[WriteJob],
    updates: &[(usize, &super::MasteryUpdate)],
    results: &mut [Option<Recorded>],
) -> Result<()> {
    let mut keys: Vec<MasteryKey> = Vec::new();
    for (_, m) in updates {
        let k = mastery_key(m);
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    let mut q = QueryBuilder::<Sqlite>::new(
        "SELECT student_id, topic_code, course_id, p_known FROM mastery WHERE (student_id, topic_code, course_id) IN (",
    );
    let mut list = q.separated(", ");
    for (s, t, c) in &keys {
        list.push("(")
            .push_bind_unseparated(s.clone())
            .push_unseparated(", ")
            .push_bind_unseparated(t.clone());
        list.push_unseparated(", ")
            .push_bind_unseparated(c.clone())
            .push_unseparated(")");
    }
    q.push(")");
    let mut stored: HashMap<MasteryKey, f64> = HashMap::new();
    for row in q.build().fetch_all(&mut **tx).await? {
        stored.insert((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?), row.try_get(3)?);
    }
    let (after, totals) = apply_mastery(updates, stored);
    for (&(i, _), &p) in updates.iter().zip(&after) {
        results[i] = Some(Recorded::New { p_known: Some(p) });
    }
    let now = ts(group[updates[0].0].attempt.created_at);
    let mut q = QueryBuilder::<Sqlite>::new(
        "INSERT INTO mastery (student_id, topic_code, course_id, p_known, attempts, last_at, version) ",
    );
    q.push_values(keys.iter().map(|k| (k, totals[k])), |mut row, ((s, t, c), (p, n))| {
        row.push_bind(s.clone())
            .push_bind(t.clone())
            .push_bind(c.clone())
            .push_bind(p)
            .push_bind(n)
            .push_bind(now.clone())
            .push_bind(n);
    });
    q.push(
        " ON CONFLICT (student_id, topic_code, course_id) DO UPDATE SET p_known = excluded.p_known, \
         attempts = mastery.attempts + excluded.attempts, last_at = excluded.last_at, \
         version = mastery.version + excluded.version",
    );
    q.build().execute(&mut **tx).await?;

    let mut q = QueryBuilder::<Sqlite>::new(
        "INSERT INTO mastery_history (student_id, topic_code, course_id, attempt_id, p_known, recorded_at) ",
    );
    q.push_values(updates.iter().zip(after), |mut row, (&(i, m), p)| {
        let a = &group[i].attempt;
        row.push_bind(m.student_id.clone())
            .push_bind(m.topic_code.clone())
            .push_bind(m.course_id.clone())
            .push_bind(a.id.to_string())
            .push_bind(p)
            .push_bind(ts(a.created_at));
    });
    q.build().execute(&mut **tx).await?;
    Ok(())
}
