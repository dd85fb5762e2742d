//! Group commit. Writing attempts one transaction at a time spends most of the time in round
//! trips (SQLite: a hand-off to the connection's thread per statement; PostgreSQL: a network
//! round trip per statement and a WAL flush per commit). So attempts go to one writer task per
//! process that takes whatever is waiting (up to a bound), writes it with a handful of multi-row
//! statements in one transaction, and answers each request. Under load a group holds dozens of
//! attempts; alone, an attempt is written at once. If a group fails as a whole (a deadlock with
//! another process, say), its attempts are written one by one so that one bad attempt fails
//! alone (as a group of one). Each backend supplies how a group is written ([`Groups`]).

use std::collections::HashMap;

use async_trait::async_trait;
use tokio::sync::{mpsc, oneshot};

use super::{IdempotencyClaim, MasteryUpdate, NewAttempt, OutboxEvent, Recorded, Result, StoreError};

/// Attempts per group, and steps per group (SQLite allows 32,766 bound values per statement;
/// a step row binds 5).
const MAX_GROUP: usize = 64;
const MAX_GROUP_STEPS: usize = 2_000;

pub(crate) struct WriteJob {
    pub attempt: NewAttempt,
    pub mastery: Option<MasteryUpdate>,
    pub event: OutboxEvent,
    pub idempotency: Option<IdempotencyClaim>,
    reply: oneshot::Sender<Result<Recorded>>,
}

/// How a backend writes a group in one transaction.
#[async_trait]
pub(super) trait Groups: Send + Sync + 'static {
    /// One result per job, in order; an error fails the whole group (rolled back). A group of
    /// one is how an attempt is written alone.
    async fn write_group(&self, group: &[WriteJob]) -> Result<Vec<Recorded>>;
}

/// Starts `writers` writer tasks sharing one queue. SQLite takes one (it has one writer);
/// PostgreSQL several, so a group is being built and sent while another waits for its commit.
pub(super) fn spawn(groups: impl Groups, writers: usize) -> mpsc::Sender<WriteJob> {
    let (tx, rx) = mpsc::channel(4 * MAX_GROUP);
    let rx = std::sync::Arc::new(tokio::sync::Mutex::new(rx));
    let groups = std::sync::Arc::new(groups);
    for _ in 0..writers.max(1) {
        tokio::spawn(writer(groups.clone(), rx.clone()));
    }
    tx
}

pub(super) async fn submit(
    writer: &mpsc::Sender<WriteJob>,
    a: &NewAttempt,
    m: Option<&MasteryUpdate>,
    event: &OutboxEvent,
    idempotency: Option<&IdempotencyClaim>,
) -> Result<Recorded> {
    let (reply, answer) = oneshot::channel();
    let job = WriteJob {
        attempt: a.clone(),
        mastery: m.cloned(),
        event: event.clone(),
        idempotency: idempotency.cloned(),
        reply,
    };
    let gone = || StoreError::Corrupt("the SQLite writer has stopped".into());
    writer.send(job).await.map_err(|_| gone())?;
    answer.await.map_err(|_| gone())?
}

async fn writer(groups: std::sync::Arc<impl Groups>, rx: std::sync::Arc<tokio::sync::Mutex<mpsc::Receiver<WriteJob>>>) {
    loop {
        // The queue is held only while a group is taken from it, not while it is written.
        let group = {
            let mut rx = rx.lock().await;
            let Some(first) = rx.recv().await else { return };
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
            group
        };
        match groups.write_group(&group).await {
            Ok(results) => {
                for (job, result) in group.into_iter().zip(results) {
                    let _ = job.reply.send(Ok(result));
                }
            }
            // The database is unreachable: writing the attempts one by one would make each
            // wait out the pool's acquire timeout in turn. They all fail now, as unavailable.
            Err(e) if e.is_unavailable() => {
                tracing::warn!(error = %e, attempts = group.len(), "group commit failed: the database is unavailable");
                let reason = e.to_string();
                let mut first = Some(e);
                for job in group {
                    let error = first.take().unwrap_or_else(|| unavailable_again(&reason));
                    let _ = job.reply.send(Err(error));
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, attempts = group.len(), "group commit failed; writing one by one");
                for job in group {
                    let r = groups
                        .write_group(std::slice::from_ref(&job))
                        .await
                        .and_then(|mut r| r.pop().ok_or_else(|| StoreError::Corrupt("empty group result".into())));
                    let _ = job.reply.send(r);
                }
            }
        }
    }
}

/// The same unavailability for the other attempts of a failed group (sqlx errors are not
/// `Clone`): an I/O error naming the first one's cause, which maps to 503 as that one does.
fn unavailable_again(reason: &str) -> StoreError {
    StoreError::Database(sqlx::Error::Io(std::io::Error::new(
        std::io::ErrorKind::NotConnected,
        reason.to_string(),
    )))
}

/// The mastery key of an update.
pub(super) type MasteryKey = (String, String, String);

pub(super) fn mastery_key(m: &MasteryUpdate) -> MasteryKey {
    (m.student_id.clone(), m.topic_code.clone(), m.course_id.clone())
}

/// The live jobs that update mastery, each with its update.
pub(super) fn with_mastery<'g>(group: &'g [WriteJob], live: &[usize]) -> Vec<(usize, &'g MasteryUpdate)> {
    live.iter()
        .filter_map(|&i| group[i].mastery.as_ref().map(|m| (i, m)))
        .collect()
}

/// Applies the group's BKT updates in arrival order on top of the stored values: returns each
/// updating job's p_known after its attempt, and per key the final value and how many attempts.
pub(super) fn apply_mastery(
    updates: &[(usize, &MasteryUpdate)],
    mut current: HashMap<MasteryKey, f64>,
) -> (Vec<f64>, HashMap<MasteryKey, (f64, i64)>) {
    let mut totals: HashMap<MasteryKey, (f64, i64)> = HashMap::new();
    let mut after = Vec::with_capacity(updates.len());
    for &(_, m) in updates {
        let key = mastery_key(m);
        let prior = totals
            .get(&key)
            .map(|t| t.0)
            .or_else(|| current.remove(&key))
            .unwrap_or(m.params.p_init);
        let p = m.params.update(prior, m.correct);
        let entry = totals.entry(key).or_insert((p, 0));
        entry.0 = p;
        entry.1 += 1;
        after.push(p);
    }
    (after, totals)
}
