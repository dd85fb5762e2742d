//! The AI provider failing under the classification jobs (docs/reliability.md, "Dependency
//! faults"): a provider that accepts connections and never answers, and one that answers 200
//! with garbage. Each call is bounded by the client's timeout, a job retries with backoff and is
//! dead-lettered after its last attempt (the attempt finalised UNCLASSIFIED with the reason), and
//! `POST /attempts`, which never waits on the provider, is as fast with it hanging as with it
//! healthy. Prints its figures (`--nocapture`).

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::fake_llm::{self, Behaviour};
use common::{TestApp, await_classified, backends, unexplained};
use practica::config::Config;
use practica::storage::{JobStatus, Role};
use tokio::io::AsyncReadExt;

/// Calls to the hanging provider: when each connection was accepted, and when the client closed it.
type Calls = Arc<Mutex<Vec<(Instant, Option<Instant>)>>>;

/// A provider that accepts every connection, reads what is sent and never answers. Each
/// connection is one call: when it was accepted and when the client gave up on it (closed it).
struct Hanging {
    base_url: String,
    calls: Calls,
}

async fn hanging_provider() -> Hanging {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}/v1", listener.local_addr().unwrap());
    let calls: Calls = Arc::default();
    let record = calls.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let i = {
                let mut calls = record.lock().unwrap();
                calls.push((Instant::now(), None));
                calls.len() - 1
            };
            let record = record.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 8192];
                while let Ok(n) = socket.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                }
                record.lock().unwrap()[i].1 = Some(Instant::now());
            });
        }
    });
    Hanging { base_url, calls }
}

/// The job settings of these tests: small backoff and poll so that dead-lettering takes
/// seconds; `attempts` runs of a job, `retries` HTTP retries within a run, `timeout_secs` per call.
fn ai_config(c: &mut Config, url: String, attempts: i32, retries: u32, timeout_secs: u64) {
    c.llm_base_url = Some(url);
    c.llm_timeout_secs = timeout_secs;
    c.llm_max_retries = retries;
    c.job_max_attempts = attempts;
    c.job_backoff_ms = 300;
    c.job_poll_ms = 20;
    // Every job of the latency phase runs at once: none waits for a worker slot.
    c.workers = 64;
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// p50 and p99 of `samples`, in ms.
fn p50_p99(samples: &mut [f64]) -> (f64, f64) {
    samples.sort_by(f64::total_cmp);
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.99))
}

/// `n` attempts that each need the LLM, 4 at a time; each request's time in ms and the ids.
async fn post_unexplained(app: &TestApp, token: &str, run: &str, n: usize) -> (Vec<f64>, Vec<String>) {
    let mut times = Vec::with_capacity(n);
    let mut ids = Vec::with_capacity(n);
    for chunk in (0..n).collect::<Vec<_>>().chunks(4) {
        let requests = chunk.iter().map(|i| {
            let body = unexplained(&format!("stu_{run}_{i}"));
            async move {
                let started = Instant::now();
                let (status, created) = app.post("/attempts", token, &body).await;
                (started.elapsed(), status, created)
            }
        });
        for (took, status, created) in futures::future::join_all(requests).await {
            assert_eq!(status, 201, "{created}");
            assert_eq!(created["status"], "PENDING", "{created}");
            times.push(ms(took));
            ids.push(created["attemptId"].as_str().unwrap().to_string());
        }
    }
    (times, ids)
}

async fn job_of(app: &TestApp, attempt: &str) -> practica::storage::JobRecord {
    app.state
        .store
        .job_by_key(&format!("classify:{attempt}"))
        .await
        .unwrap()
        .expect("a classification job")
}

async fn reason_of(app: &TestApp, token: &str, attempt: &str) -> String {
    let (_, detail) = app.get(&format!("/attempts/{attempt}/detail"), token).await;
    detail["classification"]["reason"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hanging_provider_is_bounded_retried_and_dead_lettered_and_posting_does_not_slow_down() {
    const N: usize = 40;
    const TIMEOUT_SECS: u64 = 1;
    for backend in backends() {
        // Healthy: the fake answers at once.
        let healthy = fake_llm::start(Behaviour::FirstCode, Duration::ZERO).await;
        let url = healthy.base_url.clone();
        let app = TestApp::spawn_with(backend, move |c| ai_config(c, url, 3, 1, TIMEOUT_SECS)).await;
        let admin = app.token("adm", Role::Admin);
        let (mut healthy_ms, ids) = post_unexplained(&app, &admin, "healthy", N).await;
        for id in &ids {
            let status = await_classified(&app, id, &admin, Duration::from_secs(30)).await;
            assert_eq!(status["classifierSource"], "LLM", "{status}");
        }
        let (h50, h99) = p50_p99(&mut healthy_ms);

        // Hanging: every call is held open until the client gives up on it.
        let hanging = hanging_provider().await;
        let url = hanging.base_url.clone();
        let app = TestApp::spawn_with(backend, move |c| ai_config(c, url, 3, 1, TIMEOUT_SECS)).await;
        let admin = app.token("adm", Role::Admin);

        // One attempt alone first, for the timeline of its calls.
        let started = Instant::now();
        let (_, created) = app.post("/attempts", &admin, &unexplained("stu_alone")).await;
        let alone = created["attemptId"].as_str().unwrap().to_string();
        let status = await_classified(&app, &alone, &admin, Duration::from_secs(40)).await;
        let dead_after = started.elapsed();
        assert_eq!(status["errorTagCode"], "UNCLASSIFIED", "{status}");
        let job = job_of(&app, &alone).await;
        assert_eq!((job.status, job.attempts), (JobStatus::Dead, 3), "{backend:?}: {job:?}");
        assert!(
            job.last_error.as_deref().unwrap_or_default().contains("timed out"),
            "{job:?}"
        );
        let reason = reason_of(&app, &admin, &alone).await;
        assert!(
            reason.contains("failed 3 times") && reason.contains("timed out"),
            "{reason}"
        );
        let calls = hanging.calls.lock().unwrap().clone();
        // 3 runs of the job, each a call and one HTTP retry.
        assert_eq!(calls.len(), 6, "{backend:?}: calls to the hanging provider");
        let timeline: Vec<String> = calls
            .iter()
            .map(|(at, end)| {
                let held = end.map_or(f64::NAN, |e| ms(e - *at));
                format!("+{:.0} ms held {held:.0} ms", ms(*at - started))
            })
            .collect();
        for (at, end) in &calls {
            let held = end.expect("the client closed every call") - *at;
            assert!(
                held >= Duration::from_millis(TIMEOUT_SECS * 1000 - 50)
                    && held < Duration::from_millis(TIMEOUT_SECS * 1000 + 700),
                "{backend:?}: a call held {held:?} against a {TIMEOUT_SECS} s timeout"
            );
        }
        // Between runs: the job's backoff (300 ms, then 600 ms, each ×[0.5, 1.5)) on top of
        // the poll; within a run, the client's retry backoff (at most 250 ms). The bounds leave
        // 50 ms for this server noticing a close later than the worker did.
        let gap = |a: usize, b: usize| calls[b].0 - calls[a].1.unwrap();
        let (gap12, gap23) = (gap(1, 2), gap(3, 4));
        assert!(
            gap12 >= Duration::from_millis(100),
            "{backend:?}: run 1 → 2 after {gap12:?}"
        );
        assert!(
            gap23 >= Duration::from_millis(250),
            "{backend:?}: run 2 → 3 after {gap23:?}"
        );

        // Load while it hangs: N more attempts, their jobs all stuck on the provider at once.
        let before = hanging.calls.lock().unwrap().len();
        let (mut hang_ms, ids) = post_unexplained(&app, &admin, "hanging", N).await;
        let (g50, g99) = p50_p99(&mut hang_ms);
        let stuck = hanging.calls.lock().unwrap().len() - before;
        let dead_started = Instant::now();
        for id in &ids {
            let status = await_classified(&app, id, &admin, Duration::from_secs(60)).await;
            assert_eq!(status["errorTagCode"], "UNCLASSIFIED", "{status}");
            assert_eq!(job_of(&app, id).await.status, JobStatus::Dead);
        }
        let all_dead = dead_started.elapsed();

        eprintln!(
            "ai_faults {backend:?}: provider hanging, timeout {TIMEOUT_SECS} s, 1 HTTP retry, 3 job attempts, job backoff 300 ms"
        );
        eprintln!(
            "  one attempt: dead-lettered after {:.1} s; calls: {}",
            dead_after.as_secs_f64(),
            timeline.join(", ")
        );
        eprintln!("  gaps between job runs: {:.0} ms, {:.0} ms", ms(gap12), ms(gap23));
        eprintln!(
            "  POST /attempts (n = {N}, 4 at a time) ms p50 / p99: healthy {h50:.1} / {h99:.1}, hanging {g50:.1} / {g99:.1} ({stuck} calls hanging while they were posted)"
        );
        eprintln!(
            "  all {N} dead-lettered {:.1} s after the last was posted",
            all_dead.as_secs_f64()
        );
        // A request that waited on the provider would take at least its timeout.
        assert!(
            g99 < TIMEOUT_SECS as f64 * 1000.0,
            "{backend:?}: POST /attempts p99 {g99:.1} ms with the provider hanging (healthy {h99:.1} ms)"
        );
        assert!(stuck > 0, "the provider was being called while attempts were posted");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn garbage_from_the_provider_is_retried_then_dead_lettered_and_an_invalid_answer_is_final() {
    let html = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>";
    let cases: Vec<(&str, Behaviour, bool)> = vec![
        (
            "200 text/html page",
            Behaviour::Raw {
                content_type: "text/html",
                body: html.into(),
            },
            true,
        ),
        (
            "200 JSON of the wrong shape",
            Behaviour::Raw {
                content_type: "application/json",
                body: r#"{"unexpected": true}"#.into(),
            },
            true,
        ),
        (
            "200 invalid JSON",
            Behaviour::Raw {
                content_type: "application/json",
                body: r#"{"choices": [{"message": "#.into(),
            },
            true,
        ),
        // A completion whose content is not the answer asked for: the model's answer, asked
        // again twice, then final (no retry of the job: asked the same, it answers the same).
        (
            "a completion whose content is not JSON",
            Behaviour::Content("I think it is 91.".into()),
            false,
        ),
    ];
    for backend in backends() {
        for (what, behaviour, dead_lettered) in &cases {
            let fake = fake_llm::start(behaviour.clone(), Duration::ZERO).await;
            let url = fake.base_url.clone();
            let app = TestApp::spawn_with(backend, move |c| ai_config(c, url, 3, 1, 2)).await;
            let admin = app.token("adm", Role::Admin);
            let started = Instant::now();
            let (status, created) = app.post("/attempts", &admin, &unexplained("stu_g")).await;
            assert_eq!(status, 201, "{created}");
            let id = created["attemptId"].as_str().unwrap().to_string();
            let status = await_classified(&app, &id, &admin, Duration::from_secs(30)).await;
            let took = started.elapsed();
            assert_eq!(status["errorTagCode"], "UNCLASSIFIED", "{what}: {status}");
            let job = job_of(&app, &id).await;
            let reason = reason_of(&app, &admin, &id).await;
            if *dead_lettered {
                assert_eq!(
                    (job.status, job.attempts),
                    (JobStatus::Dead, 3),
                    "{backend:?} {what}: {job:?}"
                );
                assert!(
                    reason.contains("failed 3 times") && reason.contains("not a chat completion"),
                    "{what}: {reason}"
                );
                // One call per run: an unusable reply is not retried within the run.
                assert_eq!(fake.request_count(), 3, "{backend:?} {what}");
            } else {
                assert_eq!(
                    (job.status, job.attempts),
                    (JobStatus::Done, 1),
                    "{backend:?} {what}: {job:?}"
                );
                assert!(reason.contains("invalid answer after 3 calls"), "{what}: {reason}");
                assert_eq!(
                    fake.request_count(),
                    3,
                    "{backend:?} {what}: asked, then asked again twice"
                );
            }
            eprintln!(
                "ai_faults {backend:?}: {what}: {} calls, job {:?} after {} attempt(s), attempt final in {:.1} s: {reason}",
                fake.request_count(),
                job.status,
                job.attempts,
                took.as_secs_f64()
            );
        }
    }
}

/// A chat message waits for the AI persona's reply; with the provider hanging it is cut at the
/// request timeout with a 503 (the reply goes on in its own task and stays readable), and what
/// does not wait on the provider is not held meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_message_held_by_a_hanging_provider_is_cut_at_the_request_timeout() {
    for backend in backends() {
        let provider = hanging_provider().await;
        let url = provider.base_url.clone();
        let app = TestApp::spawn_with(backend, move |c| {
            ai_config(c, url, 3, 1, 30);
            c.request_timeout_secs = 1;
        })
        .await;
        common::import_sim_bundle(&app).await;
        let ana = app.token("stu_ana", Role::Student);
        let (s, st) = app
            .sim_op("start", &ana, serde_json::json!({"practice_id": "prac-1"}))
            .await;
        assert_eq!(s, 200, "{st}");
        let started = Instant::now();
        let (s, body) = app
            .sim_op(
                "message",
                &ana,
                serde_json::json!({"attempt_id": st["attempt_id"], "chat_id": st["attempt_chat_id"], "message": "Hi"}),
            )
            .await;
        let took = started.elapsed();
        assert_eq!(s, 503, "{backend:?}: {body}");
        common::assert_error_shape(&body, 503);
        assert!(
            (Duration::from_millis(900)..Duration::from_secs(4)).contains(&took),
            "{backend:?}: cut after {took:?}, the request timeout being 1 s"
        );
        assert_eq!(
            provider.calls.lock().unwrap().len(),
            1,
            "{backend:?}: the reply is being asked for"
        );
        let (s, _) = app.post("/attempts", &ana, &common::spec_example("stu_ana")).await;
        assert_eq!(s, 201, "{backend:?}");
        eprintln!(
            "ai_faults {backend:?}: a message held by the provider cut after {} ms",
            took.as_millis()
        );
    }
}
