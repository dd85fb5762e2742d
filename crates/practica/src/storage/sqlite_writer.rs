//! Group commit for the embedded store. SQLite has one writer, and through sqlx every statement
//! is a hand-off to the connection's thread; writing attempts one transaction at a time spends
//! most of its time in those hand-offs. So attempts go to one writer task that takes whatever is
//! waiting (up to a bound), writes it with a handful of multi-row statements in one transaction,
//! and answers each request. Under load a group holds dozens of attempts; alone, an attempt is
//! written at once. If a group fails as a whole, its attempts are written one by one so that one
//! bad attempt fails alone.

use std::collections::HashMap;

use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool};
use tokio::sync::{mpsc, oneshot};

use super::sqlite::{SqliteStore, record_one, ts};
use super::{IdempotencyClaim, MasteryUpdate, NewAttempt, OutboxEvent, Recorded, Result, StoreError};

/// Attempts per group, and steps per group (SQLite allows 32,766 bound values per statement;
/// a step row binds 5).
const MAX_GROUP: usize = 64;
const MAX_GROUP_STEPS: usize = 2_000;

pub(crate) struct WriteJob {
    attempt: NewAttempt,
    mastery: MasteryUpdate,
    event: OutboxEvent,
    idempotency: Option<IdempotencyClaim>,
    reply: oneshot::Sender<Result<Recorded>>,
}

pub(super) fn spawn(pool: SqlitePool) -> mpsc::Sender<WriteJob> {
    let (tx, rx) = mpsc::channel(4 * MAX_GROUP);
    tokio::spawn(writer(pool, rx));
    tx
}

pub(super) async fn submit(
    writer: &mpsc::Sender<WriteJob>,
    a: &NewAttempt,
    m: &MasteryUpdate,
    event: &OutboxEvent,
    idempotency: Option<&IdempotencyClaim>,
) -> Result<Recorded> {
    let (reply, answer) = oneshot::channel();
    let job = WriteJob {
        attempt: a.clone(),
        mastery: m.clone(),
        event: event.clone(),
        idempotency: idempotency.cloned(),
        reply,
    };
    let gone = || StoreError::Corrupt("the SQLite writer has stopped".into());
    writer.send(job).await.map_err(|_| gone())?;
    answer.await.map_err(|_| gone())?
}

async fn writer(pool: SqlitePool, mut rx: mpsc::Receiver<WriteJob>) {
    while let Some(first) = rx.recv().await {
        let mut steps = first.attempt.steps.len();
        let mut group = vec![first];
        while group.len() < MAX_GROUP && steps < MAX_GROUP_STEPS {
            match rx.try_recv() {
                Ok(job) => {
                    steps += job.attempt.steps.len();
                    group.push(job);
                }
                Err(_) => break,
            }
        }
        match write_group(&pool, &group).await {
            Ok(results) => {
                for (job, result) in group.into_iter().zip(results) {
                    let _ = job.reply.send(Ok(result));
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, attempts = group.len(), "group commit failed; writing one by one");
                for job in group {
                    let r = record_one(&pool, &job.attempt, &job.mastery, &job.event, job.idempotency.as_ref()).await;
                    let _ = job.reply.send(r);
                }
            }
        }
    }
}

type MasteryKey = (String, String, String);

async fn write_group(pool: &SqlitePool, group: &[WriteJob]) -> Result<Vec<Recorded>> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let mut results: Vec<Option<Recorded>> = vec![None; group.len()];

    // Idempotency: a key seen earlier (stored, or earlier in this group) answers as before.
    let mut claimed: HashMap<(&str, &str), usize> = HashMap::new();
    for (i, job) in group.iter().enumerate() {
        let Some(c) = &job.idempotency else { continue };
        if let Some(&j) = claimed.get(&(c.caller_id.as_str(), c.key.as_str())) {
            let first = group[j].idempotency.as_ref().expect("claimed jobs have a claim");
            results[i] = Some(if first.request_hash == c.request_hash {
                Recorded::Replayed {
                    status: first.status,
                    response: first.response.clone(),
                }
            } else {
                Recorded::KeyReused
            });
            continue;
        }
        if let Some(earlier) = SqliteStore::claim_idempotency(&mut tx, c).await? {
            results[i] = Some(earlier);
            continue;
        }
        claimed.insert((c.caller_id.as_str(), c.key.as_str()), i);
    }
    let live: Vec<usize> = (0..group.len()).filter(|&i| results[i].is_none()).collect();
    if live.is_empty() {
        tx.commit().await?;
        return Ok(results.into_iter().map(|r| r.expect("every job answered")).collect());
    }

    let mut q = QueryBuilder::<Sqlite>::new(
        "INSERT INTO attempt (id, student_id, topic_code, course_id, exercise_id, status, is_correct, error_tag_code, \
         error_subtag, classifier_source, classifier_name, confidence, diagnosis, first_wrong_step, expected_answer, \
         client_expected_answer, student_answer, trace_id, created_by, via_agent, created_at) ",
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
            .push_bind(ts(a.created_at));
    });
    q.build().execute(&mut *tx).await?;

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

    // Mastery: the current values of every key the group touches, then each attempt applied in
    // arrival order (a student's attempts in one group update one after the other, as they
    // would one transaction at a time).
    let key = |m: &MasteryUpdate| -> MasteryKey { (m.student_id.clone(), m.topic_code.clone(), m.course_id.clone()) };
    let mut keys: Vec<MasteryKey> = Vec::new();
    for &i in &live {
        let k = key(&group[i].mastery);
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
    let mut current: HashMap<MasteryKey, (f64, i64)> = HashMap::new();
    for row in q.build().fetch_all(&mut *tx).await? {
        current.insert(
            (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?),
            (row.try_get(3)?, 0),
        );
    }
    let mut history = Vec::with_capacity(live.len());
    for &i in &live {
        let m = &group[i].mastery;
        let entry = current.entry(key(m)).or_insert((m.params.p_init, 0));
        entry.0 = m.params.update(entry.0, m.correct);
        entry.1 += 1;
        history.push((i, entry.0));
        results[i] = Some(Recorded::New { p_known: entry.0 });
    }
    let now = ts(group[live[0]].attempt.created_at);
    let mut q = QueryBuilder::<Sqlite>::new(
        "INSERT INTO mastery (student_id, topic_code, course_id, p_known, attempts, last_at, version) ",
    );
    q.push_values(keys.iter().map(|k| (k, current[k])), |mut row, ((s, t, c), (p, n))| {
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
    q.build().execute(&mut *tx).await?;

    let mut q = QueryBuilder::<Sqlite>::new(
        "INSERT INTO mastery_history (student_id, topic_code, course_id, attempt_id, p_known, recorded_at) ",
    );
    q.push_values(&history, |mut row, &(i, p)| {
        let (a, m) = (&group[i].attempt, &group[i].mastery);
        row.push_bind(m.student_id.clone())
            .push_bind(m.topic_code.clone())
            .push_bind(m.course_id.clone())
            .push_bind(a.id.to_string())
            .push_bind(p)
            .push_bind(ts(a.created_at));
    });
    q.build().execute(&mut *tx).await?;

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
