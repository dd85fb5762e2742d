//! `practica worker` processes sharing one PostgreSQL with the service: they never run the same
//! job (counted over the classification jobs; the sweepers also schedule a mastery refit), and a worker killed in the middle of its jobs loses none of them (their leases expire,
//! the sweeper queues them again, another worker finishes them). Runs when
//! `PRACTICA_TEST_POSTGRES_URL` is set.

mod common;

use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::fake_llm::{self, Behaviour, FakeLlm};
use common::{Backend, TestApp};
use practica::storage::Role;
use serde_json::json;
use sqlx::PgPool;

/// The service on a fresh PostgreSQL database, running no jobs itself; and that database's URL.
async fn service() -> Option<(TestApp, String)> {
    if std::env::var_os("PRACTICA_TEST_POSTGRES_URL").is_none() {
        eprintln!("PRACTICA_TEST_POSTGRES_URL is not set: worker process tests skipped");
        return None;
    }
    common::mark_suite_ran("postgres-workers");
    let url = Arc::new(Mutex::new(None));
    let seen = url.clone();
    let app = TestApp::spawn_with(Backend::Postgres, move |c| {
        c.workers = 0;
        *seen.lock().unwrap() = c.database_url.clone();
    })
    .await;
    let url = url.lock().unwrap().clone().expect("database url");
    Some((app, url))
}

fn worker(database_url: &str, fake: &FakeLlm, concurrency: usize, log: &str) -> Child {
    worker_with(database_url, fake, concurrency, log, &[])
}

fn worker_with(database_url: &str, fake: &FakeLlm, concurrency: usize, log: &str, extra: &[&str]) -> Child {
    let data_dir = common::temp_dir();
    Command::new(env!("CARGO_BIN_EXE_practica"))
        .args([
            "worker",
            "--database-url",
            database_url,
            "--concurrency",
            &concurrency.to_string(),
        ])
        .args(extra)
        .arg("--data-dir")
        .arg(&data_dir)
        .env("PRACTICA_LLM_BASE_URL", &fake.base_url)
        .env("PRACTICA_JOB_POLL_MS", "20")
        .env("PRACTICA_JOB_LEASE_SECS", "2")
        .env("PRACTICA_JOB_SWEEP_SECS", "1")
        .env("PRACTICA_LOG_FORMAT", "text")
        .env_remove("PRACTICA_DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(data_dir.join(log)).unwrap())
        .spawn()
        .expect("start practica worker")
}

/// Posts `n` attempts the engine cannot explain; their ids.
async fn pending_attempts(app: &TestApp, n: usize) -> Vec<String> {
    let admin = app.token("adm", Role::Admin);
    let mut ids = Vec::new();
    for i in 0..n {
        let body = json!({
            "studentId": format!("stu_{}", i % 17),
            "topicCode": "T-SUB-BORROW",
            "rawSteps": [],
            "expectedAnswer": 27,
            "studentAnswer": 91,
            "minuend": 53,
            "subtrahend": 26
        });
        let (status, created) = app.post("/attempts", &admin, &body).await;
        assert_eq!(status, 201, "{created}");
        assert_eq!(created["status"], "PENDING");
        ids.push(created["attemptId"].as_str().unwrap().to_string());
    }
    ids
}

async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn wait_until_none_pending(pool: &PgPool, within: Duration) {
    let start = Instant::now();
    loop {
        let pending = count(pool, "SELECT COUNT(*) FROM attempt WHERE status = 'PENDING'").await;
        if pending == 0 {
            return;
        }
        assert!(
            start.elapsed() < within,
            "{pending} attempts still PENDING after {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every attempt got exactly one `attempt.classified` event.
async fn one_classified_event_each(pool: &PgPool, attempts: usize) {
    let events = count(
        pool,
        "SELECT COUNT(*) FROM outbox WHERE event_type = 'attempt.classified'",
    )
    .await;
    let distinct = count(
        pool,
        "SELECT COUNT(DISTINCT payload->'attempt'->>'attemptId') FROM outbox WHERE event_type = 'attempt.classified'",
    )
    .await;
    assert_eq!((events, distinct), (attempts as i64, attempts as i64));
}

#[tokio::test]
async fn two_worker_processes_never_run_the_same_job() {
    let Some((app, url)) = service().await else { return };
    let pool = PgPool::connect(&url).await.unwrap();
    let fake = fake_llm::start(Behaviour::FirstCode, Duration::from_millis(30)).await;
    // One of them answers health and metrics on a port of its own.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let ops = format!("127.0.0.1:{port}");
    let mut a = worker_with(&url, &fake, 4, "a.log", &["--addr", &ops]);
    let mut b = worker(&url, &fake, 4, "b.log");
    let n = 120;
    pending_attempts(&app, n).await;
    wait_until_none_pending(&pool, Duration::from_secs(60)).await;
    let get = |path: &str| {
        let url = format!("http://{ops}{path}");
        async move {
            let r = reqwest::get(&url).await.expect("the worker's ops port answers");
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    assert_eq!(get("/healthz").await.0, 200);
    let (status, ready) = get("/readyz").await;
    assert_eq!(status, 200, "{ready}");
    let (status, metrics) = get("/metrics").await;
    assert_eq!(status, 200);
    // The jobs this worker ran are counted in its own process.
    assert!(
        metrics.contains("practica_jobs_total{kind=\"classify\",outcome=\"done\"}"),
        "{metrics}"
    );
    for w in [&mut a, &mut b] {
        let _ = w.kill();
        let _ = w.wait();
    }

    // Each job claimed once (a second claim would count a second attempt), each model call
    // made once, and both processes took part.
    assert_eq!(
        count(
            &pool,
            "SELECT COUNT(*) FROM job WHERE kind = 'classify' AND status = 'done' AND attempts = 1"
        )
        .await,
        n as i64
    );
    assert_eq!(
        count(&pool, "SELECT COUNT(*) FROM job WHERE kind = 'classify'").await,
        n as i64
    );
    assert_eq!(fake.request_count(), n);
    assert_eq!(
        count(
            &pool,
            "SELECT COUNT(DISTINCT lease_owner) FROM job WHERE kind = 'classify'"
        )
        .await,
        2
    );
    assert_eq!(
        count(
            &pool,
            "SELECT COUNT(*) FROM attempt WHERE classifier_source = 'LLM' AND error_tag_code <> 'UNCLASSIFIED'"
        )
        .await,
        n as i64
    );
    one_classified_event_each(&pool, n).await;
}

#[tokio::test]
async fn a_worker_killed_mid_job_loses_nothing() {
    let Some((app, url)) = service().await else { return };
    let pool = PgPool::connect(&url).await.unwrap();
    // Slow model: the first worker is killed while its calls are in flight.
    let fake = fake_llm::start(Behaviour::FirstCode, Duration::from_millis(1500)).await;
    let mut doomed = worker(&url, &fake, 4, "doomed.log");
    let n = 8;
    pending_attempts(&app, n).await;
    let start = Instant::now();
    while count(
        &pool,
        "SELECT COUNT(*) FROM job WHERE kind = 'classify' AND status = 'running'",
    )
    .await
        < 4
    {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the first worker never claimed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    doomed.kill().unwrap(); // SIGKILL: no drain, no goodbye
    doomed.wait().unwrap();
    let mut survivor = worker(&url, &fake, 8, "survivor.log");
    wait_until_none_pending(&pool, Duration::from_secs(60)).await;
    let _ = survivor.kill();
    let _ = survivor.wait();

    assert_eq!(
        count(
            &pool,
            "SELECT COUNT(*) FROM job WHERE kind = 'classify' AND status = 'done'"
        )
        .await,
        n as i64
    );
    let rerun = count(
        &pool,
        "SELECT COUNT(*) FROM job WHERE kind = 'classify' AND attempts = 2",
    )
    .await;
    assert!(rerun >= 4, "the killed worker's jobs ran again: {rerun}");
    assert_eq!(
        count(
            &pool,
            "SELECT COUNT(*) FROM attempt WHERE error_tag_code <> 'UNCLASSIFIED'"
        )
        .await,
        n as i64,
        "every attempt classified by the model"
    );
    one_classified_event_each(&pool, n).await;
}
