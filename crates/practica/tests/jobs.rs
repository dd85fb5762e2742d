//! The job queue (`JobStore`) and the worker runtime (`practica::jobs::Workers`), each scenario
//! run on SQLite (a temp file) and, when `PRACTICA_TEST_POSTGRES_URL` is set, on a fresh
//! PostgreSQL database (dropped afterwards). The storage scenarios move time through the `now`
//! parameters instead of sleeping; only the worker runtime runs on the wall clock.

mod common;

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use common::{Backend, backends, fresh_postgres_database, temp_dir};
use practica::jobs::{JobFailure, JobHandler, WorkerOptions, Workers};
use practica::storage::{self, ClaimedJob, JobOutcome, JobRecord, JobStatus, NewJob, Store, Swept};
use serde_json::json;
use sqlx::{AssertSqlSafe, Connection, PgConnection};
use time::OffsetDateTime;
use tokio::sync::{Barrier, Notify, watch};
use tokio::task::JoinSet;
use uuid::Uuid;

// ---------------------------------------------------------------------------------------------
// Fixtures

/// Removes what a test created, also when it panics.
enum Cleanup {
    Dir(PathBuf),
    /// The test database's URL.
    Postgres(String),
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        match self {
            Cleanup::Dir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Postgres(url) => {
                let Ok(admin_url) = std::env::var("PRACTICA_TEST_POSTGRES_URL") else {
                    return;
                };
                let name = url.rsplit('/').next().unwrap_or_default().to_string();
                // Only what fresh_postgres_database made (a generated name) is ever dropped.
                if !name.starts_with("practica_test_") || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    eprintln!("not dropping {name:?}: not a test database");
                    return;
                }
                // Drop runs inside the test's runtime, which cannot be blocked on: a thread with
                // its own runtime does the dropping. FORCE ends the stores' pooled connections.
                let dropped = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
                    rt.block_on(async {
                        let mut admin = PgConnection::connect(&admin_url).await?;
                        sqlx::query(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
                            .execute(&mut admin)
                            .await?;
                        admin.close().await
                    })
                    .map_err(std::io::Error::other)
                })
                .join();
                if !matches!(dropped, Ok(Ok(()))) {
                    eprintln!("could not drop test database: {dropped:?}");
                }
            }
        }
    }
}

struct Db {
    /// What `storage::open` was given: a second store on it is a second process.
    url: String,
    // Fields drop in order: the store's connections go before the database does.
    store: Arc<dyn Store>,
    _cleanup: Cleanup,
}

impl Db {
    async fn open(backend: Backend) -> Db {
        let (url, cleanup) = match backend {
            Backend::Sqlite => {
                let dir = temp_dir();
                let path = dir.join("jobs.db").to_str().expect("temp path is UTF-8").to_string();
                (path, Cleanup::Dir(dir))
            }
            Backend::Postgres => {
                let url = fresh_postgres_database().await;
                (url.clone(), Cleanup::Postgres(url))
            }
        };
        let store = storage::open(&url).await.expect("open the store");
        let expected = match backend {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        };
        assert_eq!(store.backend(), expected);
        Db {
            url,
            store,
            _cleanup: cleanup,
        }
    }

    /// Another store on the same database, as another process would open it.
    async fn another_store(&self) -> Arc<dyn Store> {
        storage::open(&self.url).await.expect("open a second store")
    }
}

// ---------------------------------------------------------------------------------------------
// Builders and shorthands

/// Whole seconds: both backends keep them exactly (SQLite keeps milliseconds, PostgreSQL
/// microseconds).
fn base() -> OffsetDateTime {
    OffsetDateTime::now_utc().replace_nanosecond(0).expect("0 ns is valid")
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn new_job(kind: &str, run_after: OffsetDateTime, max_attempts: i32) -> NewJob {
    NewJob {
        id: Uuid::new_v4(),
        kind: kind.to_string(),
        dedupe_key: None,
        payload: json!({ "kind": kind }),
        max_attempts,
        run_after,
    }
}

async fn enqueue(store: &dyn Store, job: &NewJob) {
    assert!(store.enqueue(job).await.expect("enqueue"), "job {} is new", job.id);
}

async fn record(store: &dyn Store, id: Uuid) -> JobRecord {
    store
        .job(id)
        .await
        .expect("job")
        .unwrap_or_else(|| panic!("job {id} is stored"))
}

/// Claims with a 30 s lease from `now`.
async fn claim(store: &dyn Store, kinds: &[&str], owner: &str, limit: i64, now: OffsetDateTime) -> Vec<ClaimedJob> {
    store
        .claim_jobs(kinds, owner, limit, now, now + secs(30))
        .await
        .expect("claim_jobs")
}

async fn finish(store: &dyn Store, id: Uuid, owner: &str, outcome: JobOutcome, now: OffsetDateTime) -> bool {
    store.finish_job(id, owner, &outcome, now).await.expect("finish_job")
}

async fn sweep(store: &dyn Store, now: OffsetDateTime) -> Swept {
    store.sweep_expired_leases(now).await.expect("sweep_expired_leases")
}

fn ids(jobs: &[ClaimedJob]) -> Vec<Uuid> {
    jobs.iter().map(|j| j.id).collect()
}

fn retry(error: &str, run_after: OffsetDateTime) -> JobOutcome {
    JobOutcome::Retry {
        error: error.to_string(),
        run_after,
    }
}

fn dead(error: &str) -> JobOutcome {
    JobOutcome::Dead {
        error: error.to_string(),
    }
}

/// (status, attempts, lease owner, last error): what most assertions compare.
fn state(r: &JobRecord) -> (JobStatus, i32, Option<&str>, Option<&str>) {
    (r.status, r.attempts, r.lease_owner.as_deref(), r.last_error.as_deref())
}

/// Polls `check` every 20 ms until it holds; fails the test after `within`.
async fn wait_until<F, Fut>(what: &str, within: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if check().await {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {within:?} waiting for {what}"
        );
        tokio::time::sleep(ms(20)).await;
    }
}

// ---------------------------------------------------------------------------------------------
// 1. Enqueue and claim

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_due_job_is_claimed_once_when_due_and_by_kind() {
    for backend in backends() {
        let db = Db::open(backend).await;
        let s = &*db.store;
        let t = base();
        let due = NewJob {
            payload: json!({ "attemptId": "a1", "n": [1, 2, 3] }),
            ..new_job("alpha", t - secs(1), 3)
        };
        let later = new_job("alpha", t + secs(60), 3);
        let other = new_job("beta", t - secs(5), 3);
        for j in [&due, &later, &other] {
            enqueue(s, j).await;
        }

        let queued = record(s, due.id).await;
        assert_eq!(state(&queued), (JobStatus::Queued, 0, None, None), "{backend:?}");
        assert_eq!(
            (
                queued.kind.as_str(),
                queued.max_attempts,
                queued.run_after,
                queued.dedupe_key
            ),
            ("alpha", 3, due.run_after, None),
            "{backend:?}"
        );

        let got = claim(s, &["alpha"], "w1", 10, t).await;
        assert_eq!(ids(&got), [due.id], "{backend:?}: only the due alpha job");
        let c = &got[0];
        assert_eq!(
            (c.kind.as_str(), c.attempts, c.max_attempts),
            ("alpha", 1, 3),
            "{backend:?}"
        );
        assert_eq!(c.payload, due.payload, "{backend:?}");
        let running = record(s, due.id).await;
        assert_eq!(
            state(&running),
            (JobStatus::Running, 1, Some("w1"), None),
            "{backend:?}"
        );

        assert!(
            claim(s, &["alpha"], "w2", 10, t).await.is_empty(),
            "{backend:?}: a claimed job is not claimed again"
        );
        assert!(
            claim(s, &["alpha"], "w2", 10, t + secs(59)).await.is_empty(),
            "{backend:?}: not due yet"
        );
        assert_eq!(record(s, later.id).await.status, JobStatus::Queued, "{backend:?}");
        let got = claim(s, &["alpha"], "w2", 10, t + secs(60)).await;
        assert_eq!(ids(&got), [later.id], "{backend:?}: claimable once due");
        assert_eq!(
            state(&record(s, due.id).await),
            (JobStatus::Running, 1, Some("w1"), None),
            "{backend:?}: the first claim is untouched"
        );

        // Kinds: the alpha claims above left the (due) beta job alone.
        assert_eq!(
            state(&record(s, other.id).await),
            (JobStatus::Queued, 0, None, None),
            "{backend:?}"
        );
        assert!(claim(s, &[], "w3", 10, t).await.is_empty(), "{backend:?}: no kinds");
        assert!(claim(s, &["gamma"], "w3", 10, t).await.is_empty(), "{backend:?}");
        let got = claim(s, &["gamma", "beta"], "w3", 10, t).await;
        assert_eq!(ids(&got), [other.id], "{backend:?}");
        assert_eq!(got[0].kind, "beta");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_claim_takes_at_most_limit_jobs_earliest_due_first() {
    for backend in backends() {
        let db = Db::open(backend).await;
        let s = &*db.store;
        let t = base();
        // Enqueued out of order; due 6, 5, …, 1 seconds ago.
        let mut by_age = HashMap::new();
        for age in [3u64, 6, 1, 5, 2, 4] {
            let j = new_job("lim", t - secs(age), 3);
            enqueue(s, &j).await;
            by_age.insert(age, j.id);
        }
        let got = claim(s, &["lim"], "w", 1, t).await;
        assert_eq!(ids(&got), [by_age[&6]], "{backend:?}: the earliest due");
        let got: HashSet<Uuid> = ids(&claim(s, &["lim"], "w", 2, t).await).into_iter().collect();
        assert_eq!(
            got,
            HashSet::from([by_age[&5], by_age[&4]]),
            "{backend:?}: the next two"
        );
        let got: HashSet<Uuid> = ids(&claim(s, &["lim"], "w", 10, t).await).into_iter().collect();
        assert_eq!(
            got,
            HashSet::from([by_age[&3], by_age[&2], by_age[&1]]),
            "{backend:?}: the rest"
        );
        assert!(claim(s, &["lim"], "w", 10, t).await.is_empty(), "{backend:?}");
        for id in by_age.values() {
            assert_eq!(
                state(&record(s, *id).await),
                (JobStatus::Running, 1, Some("w"), None),
                "{backend:?}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_dedupe_key_enqueues_one_job() {
    for backend in backends() {
        let db = Db::open(backend).await;
        let s = &*db.store;
        let t = base();
        let first = NewJob {
            dedupe_key: Some("classify:1".into()),
            payload: json!({ "first": true }),
            ..new_job("dd", t - secs(1), 3)
        };
        let second = NewJob {
            dedupe_key: Some("classify:1".into()),
            payload: json!({ "first": false }),
            ..new_job("dd", t - secs(1), 3)
        };
        assert!(s.enqueue(&first).await.expect("enqueue"), "{backend:?}");
        assert!(
            !s.enqueue(&second).await.expect("enqueue"),
            "{backend:?}: the key exists"
        );
        let by_key = s.job_by_key("classify:1").await.expect("job_by_key").expect("a job");
        assert_eq!(
            (by_key.id, by_key.dedupe_key.as_deref(), by_key.status),
            (first.id, Some("classify:1"), JobStatus::Queued),
            "{backend:?}"
        );
        assert!(s.job(second.id).await.expect("job").is_none(), "{backend:?}");
        assert!(s.job_by_key("classify:2").await.expect("job_by_key").is_none());
        let depths = s.queue_depths(t).await.expect("queue_depths");
        assert_eq!(
            depths
                .iter()
                .map(|d| (d.kind.as_str(), d.status, d.jobs))
                .collect::<Vec<_>>(),
            [("dd", JobStatus::Queued, 1)],
            "{backend:?}: one row"
        );
        let got = claim(s, &["dd"], "w", 10, t).await;
        assert_eq!(ids(&got), [first.id], "{backend:?}");
        assert_eq!(got[0].payload, first.payload, "{backend:?}: the first job's payload");

        // The key holds after the job ran, too.
        assert!(finish(s, first.id, "w", JobOutcome::Done, t).await);
        let third = NewJob {
            dedupe_key: Some("classify:1".into()),
            ..new_job("dd", t, 3)
        };
        assert!(!s.enqueue(&third).await.expect("enqueue"), "{backend:?}");
        // Jobs without a key never collide.
        enqueue(s, &new_job("dd", t, 3)).await;
        enqueue(s, &new_job("dd", t, 3)).await;
        assert_eq!(claim(s, &["dd"], "w", 10, t).await.len(), 2, "{backend:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// 2. Concurrent claimers

const CLAIMERS: usize = 8;
const BATCH: i64 = 7;

/// `jobs` due jobs of `kind`, claimed by `CLAIMERS` tasks (spread over `stores`) in batches
/// until none is left: each job goes to exactly one claimer.
async fn claim_concurrently(backend: Backend, stores: &[Arc<dyn Store>], kind: &'static str, jobs: usize) {
    let t = base();
    let mut expected = HashSet::new();
    for n in 0..jobs {
        let j = NewJob {
            payload: json!({ "n": n }),
            ..new_job(kind, t - secs(1), 3)
        };
        enqueue(&*stores[0], &j).await;
        expected.insert(j.id);
    }
    let start = Arc::new(Barrier::new(CLAIMERS));
    let mut claimers = JoinSet::new();
    for i in 0..CLAIMERS {
        let store = stores[i % stores.len()].clone();
        let start = start.clone();
        claimers.spawn(async move {
            let owner = format!("claimer-{i}");
            start.wait().await;
            let mut mine = Vec::new();
            loop {
                let now = OffsetDateTime::now_utc();
                let got = store
                    .claim_jobs(&[kind], &owner, BATCH, now, now + secs(60))
                    .await
                    .expect("claim_jobs");
                assert!(got.len() <= BATCH as usize, "{} jobs for a limit of {BATCH}", got.len());
                if got.is_empty() {
                    break;
                }
                mine.extend(got);
            }
            (owner, mine)
        });
    }
    let mut claimed_by: HashMap<Uuid, String> = HashMap::new();
    while let Some(done) = claimers.join_next().await {
        let (owner, mine) = done.expect("a claimer panicked");
        for j in mine {
            assert_eq!(j.attempts, 1, "{backend:?}: job {} claimed before", j.id);
            if let Some(before) = claimed_by.insert(j.id, owner.clone()) {
                panic!("{backend:?}: job {} claimed by {before} and by {owner}", j.id);
            }
        }
    }
    let claimed: HashSet<Uuid> = claimed_by.keys().copied().collect();
    assert_eq!(claimed.len(), jobs, "{backend:?}: every job claimed");
    assert_eq!(claimed, expected, "{backend:?}");
    let owners: HashSet<&String> = claimed_by.values().collect();
    assert!(
        owners.len() > 1,
        "{backend:?}: the claimers ran concurrently ({owners:?})"
    );
    for (id, owner) in &claimed_by {
        assert_eq!(
            state(&record(&*stores[0], *id).await),
            (JobStatus::Running, 1, Some(owner.as_str()), None),
            "{backend:?}: the store agrees on who holds job {id}"
        );
    }
    for store in stores {
        assert!(claim(&**store, &[kind], "late", 10, t + secs(3600)).await.is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_claimers_never_get_the_same_job() {
    for backend in backends() {
        let db = Db::open(backend).await;
        claim_concurrently(backend, std::slice::from_ref(&db.store), "one-store", 300).await;
        // As if in two processes: two stores (two pools) on one database. On SQLite, two
        // stores sharing the file, which the BEGIN IMMEDIATE claim serialises.
        let second = db.another_store().await;
        claim_concurrently(backend, &[db.store.clone(), second], "two-stores", 300).await;
    }
}

// ---------------------------------------------------------------------------------------------
// 3. Finishing

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn finishing_done_retry_and_dead_and_only_by_the_owner() {
    for backend in backends() {
        let db = Db::open(backend).await;
        let s = &*db.store;
        let t = base();

        // Done.
        let d = new_job("fin-done", t - secs(1), 3);
        enqueue(s, &d).await;
        assert_eq!(claim(s, &["fin-done"], "w1", 10, t).await.len(), 1);
        for outcome in [JobOutcome::Done, retry("x", t), dead("x")] {
            assert!(
                !finish(s, d.id, "intruder", outcome.clone(), t).await,
                "{backend:?}: {outcome:?} by a non-owner"
            );
        }
        assert_eq!(
            state(&record(s, d.id).await),
            (JobStatus::Running, 1, Some("w1"), None),
            "{backend:?}: a non-owner changes nothing"
        );
        assert!(
            finish(s, d.id, "w1", JobOutcome::Done, t + secs(1)).await,
            "{backend:?}"
        );
        assert_eq!(
            state(&record(s, d.id).await),
            (JobStatus::Done, 1, Some("w1"), None),
            "{backend:?}: done; attempts and who ran it kept"
        );
        assert!(
            !finish(s, d.id, "w1", JobOutcome::Done, t + secs(2)).await,
            "{backend:?}: finished once"
        );
        assert!(!s.extend_lease(d.id, "w1", t + secs(60)).await.expect("extend_lease"));
        assert!(claim(s, &["fin-done"], "w2", 10, t + secs(3600)).await.is_empty());
        let swept = sweep(s, t + secs(3600)).await;
        assert_eq!((swept.requeued, swept.dead.len()), (0, 0), "{backend:?}");
        assert_eq!(record(s, d.id).await.status, JobStatus::Done, "{backend:?}");

        // Retry.
        let r = new_job("fin-retry", t - secs(1), 3);
        enqueue(s, &r).await;
        assert_eq!(claim(s, &["fin-retry"], "w1", 10, t).await.len(), 1);
        assert!(
            finish(s, r.id, "w1", retry("timeout", t + secs(30)), t + secs(1)).await,
            "{backend:?}"
        );
        let rec = record(s, r.id).await;
        assert_eq!(
            state(&rec),
            (JobStatus::Queued, 1, None, Some("timeout")),
            "{backend:?}: queued again with the error"
        );
        assert_eq!(rec.run_after, t + secs(30), "{backend:?}");
        assert!(
            !finish(s, r.id, "w1", JobOutcome::Done, t + secs(2)).await,
            "{backend:?}: not running any more"
        );
        assert!(
            claim(s, &["fin-retry"], "w2", 10, t + secs(29)).await.is_empty(),
            "{backend:?}: not before run_after"
        );
        let got = claim(s, &["fin-retry"], "w2", 10, t + secs(30)).await;
        assert_eq!(ids(&got), [r.id], "{backend:?}: claimable at run_after");
        assert_eq!(got[0].attempts, 2, "{backend:?}");
        assert_eq!(
            state(&record(s, r.id).await),
            (JobStatus::Running, 2, Some("w2"), Some("timeout")),
            "{backend:?}"
        );
        assert!(
            !finish(s, r.id, "w1", JobOutcome::Done, t + secs(31)).await,
            "{backend:?}: the earlier owner no longer holds it"
        );
        assert!(finish(s, r.id, "w2", JobOutcome::Done, t + secs(31)).await);
        let rec = record(s, r.id).await;
        assert_eq!(
            (rec.status, rec.attempts, rec.lease_owner.as_deref()),
            (JobStatus::Done, 2, Some("w2")),
            "{backend:?}"
        );

        // Dead.
        let x = new_job("fin-dead", t - secs(1), 5);
        enqueue(s, &x).await;
        assert_eq!(claim(s, &["fin-dead"], "w1", 10, t).await.len(), 1);
        assert!(!finish(s, x.id, "w2", dead("bad payload"), t).await, "{backend:?}");
        assert!(
            finish(s, x.id, "w1", dead("bad payload"), t + secs(1)).await,
            "{backend:?}"
        );
        let rec = record(s, x.id).await;
        assert_eq!(
            (rec.status, rec.attempts, rec.max_attempts, rec.last_error.as_deref()),
            (JobStatus::Dead, 1, 5, Some("bad payload")),
            "{backend:?}: dead at once, attempts left or not"
        );
        assert!(
            claim(s, &["fin-dead"], "w2", 10, t + secs(86_400)).await.is_empty(),
            "{backend:?}: never claimed again"
        );
        assert!(!finish(s, x.id, "w1", JobOutcome::Done, t + secs(2)).await);
        let swept = sweep(s, t + secs(86_400)).await;
        assert_eq!((swept.requeued, swept.dead.len()), (0, 0), "{backend:?}");
        assert_eq!(
            state(&record(s, x.id).await),
            (JobStatus::Dead, 1, Some("w1"), Some("bad payload")),
            "{backend:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 4. Leases

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn leases_are_extended_by_their_owner_and_expired_ones_are_swept() {
    for backend in backends() {
        let db = Db::open(backend).await;
        let s = &*db.store;
        let t = base();
        let a = new_job("lease-a", t - secs(1), 3);
        let b = new_job("lease-b", t - secs(1), 1);
        let c = new_job("lease-c", t - secs(1), 3);
        for j in [&a, &b, &c] {
            enqueue(s, j).await;
        }
        let lease = |kind: &'static str, owner: &'static str, until: u64| async move {
            let got = s
                .claim_jobs(&[kind], owner, 1, t, t + secs(until))
                .await
                .expect("claim_jobs");
            assert_eq!(got.len(), 1, "{kind} claimed");
        };
        lease("lease-a", "w1", 10).await;
        lease("lease-b", "w2", 10).await;
        lease("lease-c", "w3", 100).await;

        assert!(
            !s.extend_lease(a.id, "w2", t + secs(20)).await.expect("extend_lease"),
            "{backend:?}: not w2's lease"
        );
        assert!(
            s.extend_lease(a.id, "w1", t + secs(20)).await.expect("extend_lease"),
            "{backend:?}"
        );
        assert!(
            !s.extend_lease(Uuid::new_v4(), "w1", t + secs(20))
                .await
                .expect("extend_lease")
        );

        // A lease ending at `now` has not expired before it.
        let swept = sweep(s, t + secs(10)).await;
        assert_eq!((swept.requeued, swept.dead.len()), (0, 0), "{backend:?}");

        // b's lease ran out on its last attempt: dead. a was extended; c's lease runs on.
        let swept = sweep(s, t + secs(15)).await;
        assert_eq!(swept.requeued, 0, "{backend:?}");
        assert_eq!(ids(&swept.dead), [b.id], "{backend:?}");
        let sd = &swept.dead[0];
        assert_eq!(
            (sd.kind.as_str(), sd.attempts, sd.max_attempts),
            ("lease-b", 1, 1),
            "{backend:?}"
        );
        let rb = record(s, b.id).await;
        assert_eq!((rb.status, rb.attempts), (JobStatus::Dead, 1), "{backend:?}");
        assert!(rb.last_error.is_some(), "{backend:?}: why it died: {rb:?}");
        assert_eq!(
            state(&record(s, a.id).await),
            (JobStatus::Running, 1, Some("w1"), None),
            "{backend:?}: the extended lease is untouched"
        );

        // a's extended lease runs out: attempts left, so queued again, due now.
        let swept = sweep(s, t + secs(25)).await;
        assert_eq!((swept.requeued, swept.dead.len()), (1, 0), "{backend:?}");
        let ra = record(s, a.id).await;
        assert_eq!(
            (ra.status, ra.attempts, ra.lease_owner.as_deref(), ra.run_after),
            (JobStatus::Queued, 1, None, t + secs(25)),
            "{backend:?}"
        );
        assert!(ra.last_error.is_some(), "{backend:?}: {ra:?}");
        assert_eq!(
            state(&record(s, c.id).await),
            (JobStatus::Running, 1, Some("w3"), None),
            "{backend:?}: an unexpired lease is untouched"
        );
        let again = sweep(s, t + secs(25)).await;
        assert_eq!((again.requeued, again.dead.len()), (0, 0), "{backend:?}");
        // The vanished worker can neither renew nor finish.
        assert!(!s.extend_lease(a.id, "w1", t + secs(60)).await.expect("extend_lease"));
        assert!(
            !finish(s, a.id, "w1", JobOutcome::Done, t + secs(26)).await,
            "{backend:?}"
        );

        // Its second attempt expires too, then its third and last: dead.
        let got = s
            .claim_jobs(&["lease-a"], "w4", 1, t + secs(25), t + secs(30))
            .await
            .expect("claim_jobs");
        assert_eq!((ids(&got), got[0].attempts), (vec![a.id], 2), "{backend:?}");
        assert_eq!(sweep(s, t + secs(31)).await.requeued, 1, "{backend:?}");
        let got = s
            .claim_jobs(&["lease-a"], "w5", 1, t + secs(31), t + secs(35))
            .await
            .expect("claim_jobs");
        assert_eq!((ids(&got), got[0].attempts), (vec![a.id], 3), "{backend:?}");
        let swept = sweep(s, t + secs(36)).await;
        assert_eq!(swept.requeued, 0, "{backend:?}");
        assert_eq!(ids(&swept.dead), [a.id], "{backend:?}");
        assert_eq!(swept.dead[0].attempts, 3, "{backend:?}");
        let ra = record(s, a.id).await;
        assert_eq!((ra.status, ra.attempts), (JobStatus::Dead, 3), "{backend:?}");
        assert!(
            claim(s, &["lease-a", "lease-b"], "w6", 10, t + secs(3600))
                .await
                .is_empty()
        );

        // c, untouched all along, expires last.
        assert_eq!(
            state(&record(s, c.id).await),
            (JobStatus::Running, 1, Some("w3"), None),
            "{backend:?}"
        );
        let swept = sweep(s, t + secs(101)).await;
        assert_eq!((swept.requeued, swept.dead.len()), (1, 0), "{backend:?}");
        assert_eq!(record(s, c.id).await.status, JobStatus::Queued, "{backend:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// 5. Queue depths

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn queue_depths_count_jobs_per_kind_and_status_with_the_oldest_age() {
    for backend in backends() {
        let db = Db::open(backend).await;
        let s = &*db.store;
        let t = base();
        assert!(s.queue_depths(t).await.expect("queue_depths").is_empty(), "{backend:?}");

        let x_oldest = new_job("x", t - secs(10), 3);
        let x_rest = [
            new_job("x", t - secs(5), 3),
            new_job("x", t - secs(1), 3),
            new_job("x", t + secs(60), 3),
        ];
        let y = [new_job("y", t - secs(20), 3), new_job("y", t - secs(20), 3)];
        let z = new_job("z", t - secs(3), 3);
        let future = new_job("f", t + secs(30), 3);
        for j in [&x_oldest, &z, &future].into_iter().chain(&x_rest).chain(&y) {
            enqueue(s, j).await;
        }
        assert_eq!(ids(&claim(s, &["x"], "w", 1, t).await), [x_oldest.id], "{backend:?}");
        assert_eq!(claim(s, &["y"], "w", 10, t).await.len(), 2, "{backend:?}");
        assert!(finish(s, y[0].id, "w", JobOutcome::Done, t + secs(1)).await);
        assert!(finish(s, y[1].id, "w", dead("no"), t + secs(1)).await);

        let depths = s.queue_depths(t + secs(10)).await.expect("queue_depths");
        let got: HashMap<(String, &str), (i64, f64)> = depths
            .iter()
            .map(|d| ((d.kind.clone(), d.status.as_str()), (d.jobs, d.oldest_seconds)))
            .collect();
        assert_eq!(got.len(), depths.len(), "{backend:?}: one row per kind and status");
        let expected = [
            // Queued: since the earliest became due (future ones count, but are not late).
            (("x", JobStatus::Queued), (3, 15.0)),
            // Running: since claimed.
            (("x", JobStatus::Running), (1, 10.0)),
            // Dead: since it died. Done jobs are not in the queue.
            (("y", JobStatus::Dead), (1, 9.0)),
            (("z", JobStatus::Queued), (1, 13.0)),
            // Nothing due yet: not late at all.
            (("f", JobStatus::Queued), (1, 0.0)),
        ];
        assert_eq!(
            got.keys().cloned().collect::<HashSet<_>>(),
            expected
                .iter()
                .map(|((k, st), _)| (k.to_string(), st.as_str()))
                .collect::<HashSet<_>>(),
            "{backend:?}: {depths:?}"
        );
        for ((kind, status), (jobs, oldest)) in expected {
            let (got_jobs, got_oldest) = got[&(kind.to_string(), status.as_str())];
            assert_eq!(got_jobs, jobs, "{backend:?}: {kind} {status:?}");
            assert!(
                (got_oldest - oldest).abs() < 0.01,
                "{backend:?}: {kind} {status:?} oldest {got_oldest}, expected {oldest}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 6. The worker runtime

#[derive(Clone, Copy, Debug)]
enum Behaviour {
    Succeed {
        work: Duration,
    },
    /// Fails retryably on attempts 1 and 2.
    FailTwice,
    AlwaysRetry,
    Fatal,
    /// While running, its lease is lost: swept and claimed by another worker (as after a stall
    /// longer than the lease). Then it fails fatally.
    LoseLeaseThenFail,
}

#[derive(Clone, Debug, PartialEq)]
struct Run {
    id: Uuid,
    attempts: i32,
    owner: String,
}

struct TestHandler {
    kind: &'static str,
    behaviour: Behaviour,
    store: Arc<dyn Store>,
    runs: Mutex<Vec<Run>>,
    /// What `dead` was called with: job, its attempts, the error.
    dead: Mutex<Vec<(Uuid, i32, String)>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

impl TestHandler {
    fn new(kind: &'static str, behaviour: Behaviour, store: Arc<dyn Store>) -> Arc<TestHandler> {
        Arc::new(TestHandler {
            kind,
            behaviour,
            store,
            runs: Mutex::new(Vec::new()),
            dead: Mutex::new(Vec::new()),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
        })
    }

    fn runs(&self) -> Vec<Run> {
        self.runs.lock().unwrap().clone()
    }

    fn dead_calls(&self) -> Vec<(Uuid, i32, String)> {
        self.dead.lock().unwrap().clone()
    }

    async fn act(&self, job: &ClaimedJob) -> Result<(), JobFailure> {
        match self.behaviour {
            Behaviour::Succeed { work } => {
                tokio::time::sleep(work).await;
                Ok(())
            }
            Behaviour::FailTwice if job.attempts <= 2 => {
                Err(JobFailure::retry(format!("flaky on attempt {}", job.attempts)))
            }
            Behaviour::FailTwice => Ok(()),
            Behaviour::AlwaysRetry => Err(JobFailure::retry(format!("always failing (attempt {})", job.attempts))),
            Behaviour::Fatal => Err(JobFailure::fatal("bad payload")),
            Behaviour::LoseLeaseThenFail => {
                let later = OffsetDateTime::now_utc() + secs(3600);
                let swept = self.store.sweep_expired_leases(later).await.expect("sweep");
                assert_eq!(swept.requeued, 1, "the job went back to the queue");
                let stolen = self
                    .store
                    .claim_jobs(&[self.kind], "other-worker", 1, later, later + secs(3600))
                    .await
                    .expect("claim_jobs");
                assert_eq!(ids(&stolen), [job.id], "another worker holds the job now");
                Err(JobFailure::fatal("failed after losing the lease"))
            }
        }
    }
}

#[async_trait]
impl JobHandler for TestHandler {
    fn kind(&self) -> &'static str {
        self.kind
    }

    async fn run(&self, job: &ClaimedJob, owner: &str) -> Result<(), JobFailure> {
        self.runs.lock().unwrap().push(Run {
            id: job.id,
            attempts: job.attempts,
            owner: owner.to_string(),
        });
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        let result = self.act(job).await;
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        result
    }

    async fn dead(&self, job: &ClaimedJob, error: &str) -> anyhow::Result<()> {
        self.dead
            .lock()
            .unwrap()
            .push((job.id, job.attempts, error.to_string()));
        Ok(())
    }
}

fn options() -> WorkerOptions {
    WorkerOptions {
        concurrency: 4,
        lease: secs(2),
        poll: ms(20),
        backoff_base: ms(10),
        backoff_max: ms(50),
        sweep_every: ms(100),
        drain: secs(2),
        retention: secs(3600),
        outbox_retention: None,
        idempotency_retention: None,
    }
}

struct Running {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    owner: String,
    wake: Arc<Notify>,
}

fn start(store: &Arc<dyn Store>, handler: &Arc<TestHandler>, options: WorkerOptions) -> Running {
    start_kinds(store, vec![handler.clone() as Arc<dyn JobHandler>], options)
}

fn start_kinds(store: &Arc<dyn Store>, handlers: Vec<Arc<dyn JobHandler>>, options: WorkerOptions) -> Running {
    let wake = Arc::new(Notify::new());
    let workers = Workers::new(store.clone(), handlers, options, wake.clone());
    let owner = workers.owner().to_string();
    let (stop, stop_rx) = watch::channel(false);
    let task = tokio::spawn(workers.run(stop_rx));
    Running {
        stop,
        task,
        owner,
        wake,
    }
}

impl Running {
    async fn stop(self) {
        let _ = self.stop.send(true);
        tokio::time::timeout(secs(5), self.task)
            .await
            .expect("the workers stop within the drain time")
            .expect("the workers did not panic");
    }
}

/// Enqueues one job of `kind`, due a second ago (on the wall clock, as the workers see it).
async fn enqueue_due(store: &dyn Store, kind: &str, max_attempts: i32) -> Uuid {
    let j = new_job(kind, OffsetDateTime::now_utc() - secs(1), max_attempts);
    enqueue(store, &j).await;
    j.id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn workers_run_every_job_exactly_once() {
    for backend in backends() {
        let db = Db::open(backend).await;
        let s = &*db.store;
        let handler = TestHandler::new("test", Behaviour::Succeed { work: ms(5) }, db.store.clone());
        let mut expected = HashSet::new();
        // Half queued before the workers start, half while they run (with a wake-up).
        for _ in 0..50 {
            expected.insert(enqueue_due(s, "test", 3).await);
        }
        let workers = start(&db.store, &handler, options());
        for _ in 0..50 {
            expected.insert(enqueue_due(s, "test", 3).await);
            workers.wake.notify_one();
        }
        let h = &*handler;
        wait_until("100 jobs run and done", secs(10), || async move {
            h.runs().len() >= 100
                && s.queue_depths(OffsetDateTime::now_utc())
                    .await
                    .expect("depths")
                    .is_empty()
        })
        .await;
        let owner = workers.owner.clone();
        workers.stop().await;

        let runs = handler.runs();
        assert_eq!(runs.len(), 100, "{backend:?}: each job ran once");
        let ran: HashSet<Uuid> = runs.iter().map(|r| r.id).collect();
        assert_eq!(ran, expected, "{backend:?}: every job ran, none twice");
        assert!(
            runs.iter().all(|r| r.attempts == 1 && r.owner == owner),
            "{backend:?}: {runs:?}"
        );
        let max = handler.max_in_flight.load(Ordering::SeqCst);
        assert!((2..=4).contains(&max), "{backend:?}: {max} jobs at once, concurrency 4");
        for id in &expected {
            assert_eq!(
                state(&record(s, *id).await),
                (JobStatus::Done, 1, Some(owner.as_str()), None),
                "{backend:?}"
            );
        }
        assert!(handler.dead_calls().is_empty(), "{backend:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn workers_retry_a_failing_job_until_it_succeeds() {
    for backend in backends() {
        let db = Db::open(backend).await;
        let s = &*db.store;
        let handler = TestHandler::new("flaky", Behaviour::FailTwice, db.store.clone());
        let id = enqueue_due(s, "flaky", 5).await;
        let workers = start(&db.store, &handler, options());
        wait_until("the flaky job done", secs(10), || async move {
            record(s, id).await.status == JobStatus::Done
        })
        .await;
        let owner = workers.owner.clone();
        workers.stop().await;

        let rec = record(s, id).await;
        assert_eq!(
            (rec.status, rec.attempts, rec.lease_owner.as_deref()),
            (JobStatus::Done, 3, Some(owner.as_str())),
            "{backend:?}"
        );
        let attempts: Vec<i32> = handler.runs().iter().map(|r| r.attempts).collect();
        assert_eq!(attempts, [1, 2, 3], "{backend:?}");
        assert!(handler.dead_calls().is_empty(), "{backend:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn workers_bury_a_job_that_fails_on_every_attempt() {
    for backend in backends() {
        let db = Db::open(backend).await;
        let s = &*db.store;
        let handler = TestHandler::new("doomed", Behaviour::AlwaysRetry, db.store.clone());
        let id = enqueue_due(s, "doomed", 3).await;
        let workers = start(&db.store, &handler, options());
        let h = &*handler;
        wait_until("the dead hook", secs(10), || async move { !h.dead_calls().is_empty() }).await;
        // A few more sweeps: the hook is not called again.
        tokio::time::sleep(ms(300)).await;
        workers.stop().await;

        let rec = record(s, id).await;
        assert_eq!(
            (rec.status, rec.attempts, rec.last_error.as_deref()),
            (JobStatus::Dead, 3, Some("always failing (attempt 3)")),
            "{backend:?}"
        );
        assert_eq!(
            handler.dead_calls(),
            [(id, 3, "always failing (attempt 3)".to_string())],
            "{backend:?}: the dead hook, once, with the last error"
        );
        let attempts: Vec<i32> = handler.runs().iter().map(|r| r.attempts).collect();
        assert_eq!(attempts, [1, 2, 3], "{backend:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn workers_bury_a_fatally_failed_job_at_once() {
    for backend in backends() {
        let db = Db::open(backend).await;
        let s = &*db.store;
        let handler = TestHandler::new("fatal", Behaviour::Fatal, db.store.clone());
        let id = enqueue_due(s, "fatal", 5).await;
        let workers = start(&db.store, &handler, options());
        let h = &*handler;
        wait_until("the dead hook", secs(10), || async move { !h.dead_calls().is_empty() }).await;
        tokio::time::sleep(ms(300)).await;
        let owner = workers.owner.clone();
        workers.stop().await;

        assert_eq!(
            state(&record(s, id).await),
            (JobStatus::Dead, 1, Some(owner.as_str()), Some("bad payload")),
            "{backend:?}: dead on its first attempt of five"
        );
        assert_eq!(
            handler.dead_calls(),
            [(id, 1, "bad payload".to_string())],
            "{backend:?}"
        );
        assert_eq!(handler.runs().len(), 1, "{backend:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn workers_renew_the_lease_of_a_job_that_outlasts_it() {
    for backend in backends() {
        let db = Db::open(backend).await;
        let s = &*db.store;
        let handler = TestHandler::new("slow", Behaviour::Succeed { work: secs(1) }, db.store.clone());
        let id = enqueue_due(s, "slow", 3).await;
        let workers = start(
            &db.store,
            &handler,
            WorkerOptions {
                lease: ms(300),
                ..options()
            },
        );
        let owner = workers.owner.clone();
        let h = &*handler;
        wait_until("the slow job started", secs(5), || async move { !h.runs().is_empty() }).await;
        // Over two lease lengths in, with the sweeper running every 100 ms: still this run.
        tokio::time::sleep(ms(700)).await;
        assert_eq!(
            state(&record(s, id).await),
            (JobStatus::Running, 1, Some(owner.as_str()), None),
            "{backend:?}: the lease was renewed, not swept"
        );
        wait_until("the slow job done", secs(5), || async move {
            record(s, id).await.status == JobStatus::Done
        })
        .await;
        workers.stop().await;

        assert_eq!(
            state(&record(s, id).await),
            (JobStatus::Done, 1, Some(owner.as_str()), None),
            "{backend:?}"
        );
        assert_eq!(handler.runs().len(), 1, "{backend:?}: ran once");
        assert!(handler.dead_calls().is_empty(), "{backend:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn workers_take_over_the_jobs_of_a_vanished_worker() {
    for backend in backends() {
        let db = Db::open(backend).await;
        let s = &*db.store;
        let handler = TestHandler::new("test", Behaviour::Succeed { work: ms(1) }, db.store.clone());
        let retried = enqueue_due(s, "test", 3).await;
        let last_try = enqueue_due(s, "test", 1).await;
        // A worker that claims both and vanishes: its leases run out 300 ms from now.
        let now = OffsetDateTime::now_utc();
        let got = s
            .claim_jobs(&["test"], "ghost", 10, now, now + ms(300))
            .await
            .expect("claim_jobs");
        assert_eq!(got.len(), 2, "{backend:?}");

        let workers = start(&db.store, &handler, options());
        let h = &*handler;
        wait_until("both jobs settled", secs(10), || async move {
            record(s, retried).await.status == JobStatus::Done && !h.dead_calls().is_empty()
        })
        .await;
        let owner = workers.owner.clone();
        workers.stop().await;

        let rec = record(s, retried).await;
        assert_eq!(
            (rec.status, rec.attempts, rec.lease_owner.as_deref()),
            (JobStatus::Done, 2, Some(owner.as_str())),
            "{backend:?}: swept back to the queue and run here"
        );
        assert_eq!(
            handler.runs(),
            [Run {
                id: retried,
                attempts: 2,
                owner: owner.clone()
            }],
            "{backend:?}: the job on its last attempt is not run again"
        );
        assert_eq!(record(s, last_try).await.status, JobStatus::Dead, "{backend:?}");
        assert_eq!(
            handler.dead_calls(),
            [(last_try, 1, "lease expired on the last attempt".to_string())],
            "{backend:?}: the sweeper calls the dead hook"
        );
    }
}

/// A run that fails for good after its worker lost the lease (swept, and claimed by another
/// worker, which is running it now) must not call the `dead` hook: `finish_job(Dead)` changes
/// nothing (false), the job is alive elsewhere, and finalising its subject (for classification,
/// writing the attempt UNCLASSIFIED) would override the other worker's result.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_run_that_lost_its_lease_does_not_finalise_the_job() {
    // Every backend is tried before failing: the bug is in the runtime, not in a store.
    let mut wrong = Vec::new();
    for backend in backends() {
        let db = Db::open(backend).await;
        let s = &*db.store;
        let handler = TestHandler::new("stolen", Behaviour::LoseLeaseThenFail, db.store.clone());
        let id = enqueue_due(s, "stolen", 3).await;
        let workers = start(&db.store, &handler, options());
        let h = &*handler;
        wait_until("the run", secs(10), || async move { !h.runs().is_empty() }).await;
        tokio::time::sleep(ms(300)).await;
        workers.stop().await;

        assert_eq!(handler.runs().len(), 1, "{backend:?}");
        assert_eq!(
            state(&record(s, id).await),
            (JobStatus::Running, 2, Some("other-worker"), Some("lease expired")),
            "{backend:?}: the job is alive, held by the other worker"
        );
        let calls = handler.dead_calls();
        if !calls.is_empty() {
            wrong.push(format!("{backend:?}: {calls:?}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "the dead hook ran for a job that is not dead (running under another worker): {wrong:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn done_jobs_are_purged_after_their_retention_and_dead_ones_are_kept() {
    for backend in backends() {
        let db = Db::open(backend).await;
        let s = &*db.store;
        let t = base();
        let done = new_job("purge", t - secs(1), 1);
        let dying = new_job("purge", t - secs(1), 1);
        enqueue(s, &done).await;
        enqueue(s, &dying).await;
        assert_eq!(claim(s, &["purge"], "w1", 10, t).await.len(), 2);
        assert!(finish(s, done.id, "w1", JobOutcome::Done, t).await);
        assert!(finish(s, dying.id, "w1", dead("gave up"), t).await);
        assert_eq!(s.purge_done_jobs(t - secs(1)).await.unwrap(), 0, "{backend:?}: not yet");
        assert_eq!(s.purge_done_jobs(t + secs(1)).await.unwrap(), 1, "{backend:?}");
        assert!(s.job(done.id).await.unwrap().is_none(), "{backend:?}");
        assert_eq!(
            record(s, dying.id).await.status,
            JobStatus::Dead,
            "{backend:?}: dead jobs stay"
        );
        assert_eq!(s.purge_done_jobs(t + secs(3600)).await.unwrap(), 0, "{backend:?}");
    }
}

/// A kind whose jobs each hold a slot for long (as with an AI provider hanging) cannot take
/// every slot: a job of another kind queued behind its backlog runs at once, not after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_kind_holding_its_slots_leaves_one_for_the_other_kinds() {
    assert_eq!(practica::jobs::kind_cap(16, 5), 14);
    assert_eq!(practica::jobs::kind_cap(4, 2), 3);
    assert_eq!(practica::jobs::kind_cap(16, 1), 16, "one kind: every slot");
    assert_eq!(practica::jobs::kind_cap(2, 5), 2, "too few slots to keep one back");
    for backend in backends() {
        let db = Db::open(backend).await;
        let s = &*db.store;
        let slow = TestHandler::new("slow", Behaviour::Succeed { work: secs(3) }, db.store.clone());
        let fast = TestHandler::new("fast", Behaviour::Succeed { work: ms(5) }, db.store.clone());
        for _ in 0..10 {
            enqueue_due(s, "slow", 3).await;
        }
        let other = enqueue_due(s, "fast", 3).await;
        let started = std::time::Instant::now();
        let workers = start_kinds(
            &db.store,
            vec![slow.clone() as Arc<dyn JobHandler>, fast.clone() as Arc<dyn JobHandler>],
            options(),
        );
        wait_until("the other kind's job done", secs(2), || async move {
            record(s, other).await.status == JobStatus::Done
        })
        .await;
        let took = started.elapsed();
        assert_eq!(
            slow.max_in_flight.load(Ordering::SeqCst),
            3,
            "{backend:?}: 3 of the 4 slots for the slow kind"
        );
        assert!(
            took < secs(3),
            "{backend:?}: done before any slow job finished ({took:?})"
        );
        assert_eq!(slow.runs().len(), 3, "{backend:?}: the other slow jobs wait");
        workers.stop().await;
    }
}
