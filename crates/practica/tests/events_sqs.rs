//! The outbox relay to an SQS FIFO queue (the `sqs` feature), against the SQS-compatible server
//! named by `PRACTICA_TEST_SQS_URL` (CI's moto): every event arrives once, in order per student,
//! grouped by student and deduplicated by event id, through relays killed between sending and
//! marking, and through the `practica serve` binary configured from the environment. Skipped,
//! and passing, without the server.
//!
//! moto forgets a deduplication id once its message is deleted (SQS remembers it for five
//! minutes whatever happens to the message), so every scenario publishes everything before it
//! receives anything.
#![cfg(feature = "sqs")]

mod common;

use std::collections::{HashMap, HashSet};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::config::{Credentials, Region};
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, MessageSystemAttributeName, QueueAttributeName};
use common::{Backend, TestApp, backends, spec_example};
use practica::events::{self, Relay, Sink, SqsSink};
use practica::storage::{self, OutboxRow, OutboxStore, Role, Store};
use serde_json::Value;
use tokio::sync::{mpsc, watch};
use uuid::Uuid;

const STUDENTS: usize = 10;
const PER_STUDENT: usize = 30;
const REGION: &str = "us-east-1";
const KEY_ID: &str = "practica-test";
const SECRET: &str = "practica-test-secret";

fn sqs_url() -> Option<String> {
    match std::env::var("PRACTICA_TEST_SQS_URL") {
        Ok(url) if !url.is_empty() => {
            common::mark_suite_ran("sqs");
            Some(url)
        }
        _ => {
            eprintln!("PRACTICA_TEST_SQS_URL is not set: SQS relay test skipped");
            None
        }
    }
}

/// The AWS configuration of the tests: the sink's loader with moto's fixed region and any
/// credentials (given here, not through the environment, which the tests share).
async fn sdk_config(endpoint: &str) -> aws_config::SdkConfig {
    events::sqs_config_loader()
        .region(Region::new(REGION))
        .credentials_provider(Credentials::new(KEY_ID, SECRET, None, None, "practica-test"))
        .endpoint_url(endpoint)
        .load()
        .await
}

/// A FIFO queue of its own, deduplicating by the ids it is given only.
async fn create_queue(client: &Client) -> String {
    let name = format!("practica-test-{}.fifo", Uuid::new_v4().simple());
    client
        .create_queue()
        .queue_name(name)
        .attributes(QueueAttributeName::FifoQueue, "true")
        .attributes(QueueAttributeName::ContentBasedDeduplication, "false")
        .send()
        .await
        .expect("create the FIFO queue")
        .queue_url()
        .expect("a queue URL")
        .to_string()
}

/// Runs `scenario` on a new queue, and deletes the queue whether it passed or not.
async fn with_queue<F, Fut>(endpoint: &str, scenario: F)
where
    F: FnOnce(aws_config::SdkConfig, String) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let sdk = sdk_config(endpoint).await;
    let client = Client::new(&sdk);
    let queue = create_queue(&client).await;
    let outcome = tokio::spawn(scenario(sdk, queue.clone())).await;
    let deleted = client.delete_queue().queue_url(&queue).send().await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
    deleted.expect("delete the queue");
}

/// A message as received.
struct Received {
    group: String,
    dedup: String,
    event_type: Option<String>,
    ordering_key: Option<String>,
    body: Value,
}

/// Receives and deletes until the queue stays empty; the messages in the order received (per
/// group, SQS FIFO's order: a group's next message is handed out only once the earlier ones are
/// deleted).
async fn receive_all(client: &Client, queue: &str) -> Vec<Received> {
    let mut received = Vec::new();
    let mut empty = 0;
    while empty < 2 {
        let out = client
            .receive_message()
            .queue_url(queue)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .visibility_timeout(120)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await
            .expect("receive");
        if out.messages().is_empty() {
            empty += 1;
            continue;
        }
        empty = 0;
        let mut receipts = Vec::new();
        for (i, m) in out.messages().iter().enumerate() {
            let system = m.attributes().expect("system attributes");
            let attribute = |name: &str| {
                m.message_attributes()
                    .and_then(|a| a.get(name))
                    .and_then(|v| v.string_value())
                    .map(str::to_string)
            };
            received.push(Received {
                group: system[&MessageSystemAttributeName::MessageGroupId].clone(),
                dedup: system[&MessageSystemAttributeName::MessageDeduplicationId].clone(),
                event_type: attribute("Practica-Event-Type"),
                ordering_key: attribute("Practica-Ordering-Key"),
                body: serde_json::from_str(m.body().expect("a body")).expect("a JSON body"),
            });
            receipts.push(
                DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(m.receipt_handle().expect("a receipt handle"))
                    .build()
                    .unwrap(),
            );
        }
        let deleted = client
            .delete_message_batch()
            .queue_url(queue)
            .set_entries(Some(receipts))
            .send()
            .await
            .expect("delete");
        assert!(deleted.failed().is_empty(), "{:?}", deleted.failed());
    }
    received
}

/// Every event once, each message grouped by its student and deduplicated by its event id, and
/// each student's attempts in the order they were created.
fn check_delivery(received: &[Received], created: &HashMap<String, Vec<String>>) {
    let mut seen = HashSet::new();
    let mut per_student: HashMap<String, Vec<String>> = HashMap::new();
    for m in received {
        let event_id = m.body["id"].as_str().expect("an event id").to_string();
        let student = m.body["attempt"]["studentId"].as_str().expect("a student").to_string();
        assert_eq!(m.dedup, event_id, "the deduplication id is the event id");
        assert_eq!(m.group, student, "the group is the student");
        assert_eq!(m.event_type.as_deref(), Some("attempt.created"));
        assert_eq!(m.ordering_key.as_deref(), Some(student.as_str()));
        assert!(seen.insert(event_id.clone()), "event {event_id} delivered twice");
        per_student
            .entry(student)
            .or_default()
            .push(m.body["attempt"]["attemptId"].as_str().unwrap().to_string());
    }
    let expected: usize = created.values().map(Vec::len).sum();
    assert_eq!(seen.len(), expected, "every event delivered");
    assert_eq!(per_student.len(), created.len());
    for (student, ids) in created {
        assert_eq!(per_student.get(student), Some(ids), "{student}'s events in order");
    }
}

/// The outbox as a relay sees it, made to die between publishing and marking: the `stall_at`-th
/// mark never returns (its seqs are reported instead), as if the process died right after SQS
/// accepted the batch.
struct Stalling {
    inner: Arc<dyn Store>,
    stall_at: usize,
    marks: AtomicUsize,
    stranded: mpsc::UnboundedSender<Vec<i64>>,
}

#[async_trait]
impl OutboxStore for Stalling {
    async fn unpublished(&self, limit: i64) -> storage::Result<Vec<OutboxRow>> {
        self.inner.unpublished(limit).await
    }
    async fn mark_published(&self, seqs: &[i64]) -> storage::Result<()> {
        if self.marks.fetch_add(1, Ordering::SeqCst) + 1 >= self.stall_at {
            let _ = self.stranded.send(seqs.to_vec());
            std::future::pending::<()>().await;
        }
        self.inner.mark_published(seqs).await
    }
    async fn outbox_lag(&self) -> storage::Result<(i64, f64)> {
        self.inner.outbox_lag().await
    }
    async fn try_lead_relay(&self) -> storage::Result<bool> {
        self.inner.try_lead_relay().await
    }
}

/// The outbox of a relay whose process dies after every publish: nothing it sends is marked.
struct Forgetful(Arc<dyn Store>);

#[async_trait]
impl OutboxStore for Forgetful {
    async fn unpublished(&self, limit: i64) -> storage::Result<Vec<OutboxRow>> {
        self.0.unpublished(limit).await
    }
    async fn mark_published(&self, _seqs: &[i64]) -> storage::Result<()> {
        Ok(())
    }
    async fn outbox_lag(&self) -> storage::Result<(i64, f64)> {
        self.0.outbox_lag().await
    }
    async fn try_lead_relay(&self) -> storage::Result<bool> {
        self.0.try_lead_relay().await
    }
}

/// Posts `per_student` attempts for each of `students` students through the HTTP API, the
/// students concurrently and each one's attempts one after another; each student's attempt ids
/// in creation order.
async fn post_attempts(app: Arc<TestApp>, students: usize, per_student: usize) -> HashMap<String, Vec<String>> {
    let mut tasks = Vec::new();
    for s in 0..students {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            let student = format!("stu_sqs_{s:02}");
            let token = app.token(&student, Role::Student);
            let mut ids = Vec::with_capacity(per_student);
            for _ in 0..per_student {
                let (status, body) = app.post("/attempts", &token, &spec_example(&student)).await;
                assert_eq!(status, 201, "{body}");
                ids.push(body["attemptId"].as_str().unwrap().to_string());
            }
            (student, ids)
        }));
    }
    let mut created = HashMap::new();
    for t in tasks {
        let (student, ids) = t.await.unwrap();
        created.insert(student, ids);
    }
    created
}

async fn wait_until_outbox_empty(store: &dyn Store) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while store.outbox_lag().await.unwrap().0 > 0 {
        assert!(tokio::time::Instant::now() < deadline, "the outbox did not drain");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn kill_and_restart(backend: Backend, endpoint: String, sdk: aws_config::SdkConfig, queue: String) {
    let app = Arc::new(TestApp::spawn_with(backend, |c| c.relay_enabled = false).await);
    let store = app.state.store.clone();
    let sink = Sink::Sqs(SqsSink::connect(&sdk, &queue, Some(&endpoint)).await.unwrap());
    let relay = |store: Arc<dyn OutboxStore>| Relay {
        store,
        sink: sink.clone(),
        wake: app.state.outbox.clone(),
    };
    // Kept alive to the end: a dropped sender would stop the relays.
    let (stop_tx, stop_rx) = watch::channel(false);
    let posting = tokio::spawn(post_attempts(app.clone(), STUDENTS, PER_STUDENT));

    // A relay dies between sending a pass's batches and marking them: they are in the queue and
    // still in the outbox, so the next relay sends them again.
    let (stranded_tx, mut stranded_rx) = mpsc::unbounded_channel();
    let stalling = Arc::new(Stalling {
        inner: store.clone(),
        stall_at: 3,
        marks: AtomicUsize::new(0),
        stranded: stranded_tx,
    });
    let first = tokio::spawn(relay(stalling.clone()).run(stop_rx.clone()));
    let stranded = tokio::time::timeout(Duration::from_secs(60), stranded_rx.recv())
        .await
        .expect("the first relay reached its third pass")
        .unwrap();
    first.abort();
    assert!(first.await.unwrap_err().is_cancelled());
    let pending: HashSet<i64> = store.unpublished(10_000).await.unwrap().iter().map(|r| r.seq).collect();
    assert!(
        stranded.iter().all(|seq| pending.contains(seq)),
        "{stranded:?} still unpublished"
    );

    // More deaths, at whatever point of a pass they land: sending a batch, between batches,
    // marking.
    for i in 0..8u64 {
        let killed = tokio::spawn(relay(store.clone()).run(stop_rx.clone()));
        tokio::time::sleep(Duration::from_millis(5 + 17 * i)).await;
        killed.abort();
        // Gone before the next starts: one relay per store at a time.
        let _ = killed.await;
    }

    let last = tokio::spawn(relay(store.clone()).run(stop_rx));
    let created = posting.await.unwrap();
    wait_until_outbox_empty(store.as_ref()).await;
    stop_tx.send(true).unwrap();
    last.await.unwrap();

    let client = Client::new(&sdk);
    check_delivery(&receive_all(&client, &queue).await, &created);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_relays_lose_duplicate_and_reorder_nothing() {
    let Some(endpoint) = sqs_url() else { return };
    for backend in backends() {
        let e = endpoint.clone();
        with_queue(&endpoint, move |sdk, queue| kill_and_restart(backend, e, sdk, queue)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_published_twice_is_delivered_once() {
    let Some(endpoint) = sqs_url() else { return };
    let e = endpoint.clone();
    with_queue(&endpoint, move |sdk, queue| async move {
        let app = Arc::new(TestApp::spawn_with(Backend::Sqlite, |c| c.relay_enabled = false).await);
        let store = app.state.store.clone();
        let created = post_attempts(app.clone(), 3, 4).await;
        let sink = Sink::Sqs(SqsSink::connect(&sdk, &queue, Some(&e)).await.unwrap());
        // The first relay sends everything and dies before marking any of it…
        let forgetful = Relay {
            store: Arc::new(Forgetful(store.clone())),
            sink: sink.clone(),
            wake: app.state.outbox.clone(),
        };
        assert_eq!(forgetful.pass().await.unwrap(), 12);
        assert_eq!(store.outbox_lag().await.unwrap().0, 12);
        // …so the next sends it all again, and marks it.
        let relay = Relay {
            store: store.clone(),
            sink,
            wake: app.state.outbox.clone(),
        };
        assert_eq!(relay.pass().await.unwrap(), 12);
        assert_eq!(store.outbox_lag().await.unwrap().0, 0);
        // SQS kept the first of each pair: the deduplication id is the event id.
        let client = Client::new(&sdk);
        check_delivery(&receive_all(&client, &queue).await, &created);
    })
    .await;
}

/// Waits for the serving binary's "listening on" line in its log; its base URL.
async fn listening(child: &mut Child, log: &std::path::Path) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if let Some(rest) = text.split("practica listening on ").nth(1) {
            return rest.split_whitespace().next().unwrap().to_string();
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("practica serve exited with {status}: {text}");
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "practica serve did not start: {text}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `practica serve` configured by the environment only, as deployed: the queue and endpoint
/// from `PRACTICA_SQS_*`, credentials and region from `AWS_*`.
fn serve(data_dir: &std::path::Path, envs: &[(&str, &str)]) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_practica"));
    command
        .args(["serve", "--addr", "127.0.0.1:0"])
        .arg("--data-dir")
        .arg(data_dir)
        .env("PRACTICA_LOG_FORMAT", "text")
        .env("AWS_ACCESS_KEY_ID", KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("AWS_REGION", REGION)
        // Nothing of the machine's own AWS or practica setup.
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_ENDPOINT_URL_SQS")
        .env_remove("PRACTICA_DATABASE_URL")
        .env_remove("PRACTICA_NATS_URL")
        .envs(envs.iter().copied())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(data_dir.join("serve.log")).unwrap());
    command.spawn().expect("start practica serve")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_sends_its_events_to_the_configured_queue() {
    let Some(endpoint) = sqs_url() else { return };
    let e = endpoint.clone();
    with_queue(&endpoint, move |sdk, queue| async move {
        // Both sinks configured: refused at start, naming both.
        let data_dir = common::temp_dir();
        let both = serve(
            &data_dir,
            &[
                ("PRACTICA_SQS_QUEUE_URL", &queue),
                ("PRACTICA_NATS_URL", "nats://127.0.0.1:1"),
            ],
        )
        .wait_with_output()
        .unwrap();
        assert!(!both.status.success());
        let log = std::fs::read_to_string(data_dir.join("serve.log")).unwrap();
        assert!(log.contains("nats_url and sqs_queue_url are both set"), "{log}");

        let data_dir = common::temp_dir();
        let secret = practica::auth::load_or_create_secret(&data_dir).unwrap();
        let mut child = serve(
            &data_dir,
            &[("PRACTICA_SQS_QUEUE_URL", &queue), ("PRACTICA_SQS_ENDPOINT_URL", &e)],
        );
        let base = listening(&mut child, &data_dir.join("serve.log")).await;
        practica::install_tls_provider();
        let http = reqwest::Client::new();
        let mut created: HashMap<String, Vec<String>> = HashMap::new();
        for round in 0..4 {
            for s in 0..3 {
                let student = format!("stu_serve_{s}");
                let token =
                    practica::auth::issue_token(&secret, &student, Role::Student, Duration::from_secs(600)).unwrap();
                let r = http
                    .post(format!("{base}/attempts"))
                    .bearer_auth(token)
                    .json(&spec_example(&student))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 201, "round {round}");
                let body: Value = r.json().await.unwrap();
                created
                    .entry(student)
                    .or_default()
                    .push(body["attemptId"].as_str().unwrap().to_string());
            }
        }
        // The service's own relay drains its outbox into the queue.
        let client = Client::new(&sdk);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        let mut received = Vec::new();
        while received.len() < 12 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{} of 12 events arrived",
                received.len()
            );
            received.extend(receive_all(&client, &queue).await);
        }
        let _ = child.kill();
        let _ = child.wait();
        check_delivery(&received, &created);
    })
    .await;
}
