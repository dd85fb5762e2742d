//! The outbox relay against real infrastructure: NATS JetStream when `PRACTICA_TEST_NATS_URL` is
//! set (relays killed mid-flight lose, duplicate and reorder nothing), and relay leadership on a
//! shared PostgreSQL when `PRACTICA_TEST_POSTGRES_URL` is set. Each is skipped, and passes,
//! without its service.

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_nats::jetstream::{self, consumer};
use async_trait::async_trait;
use common::{Backend, TestApp, backends, spec_example};
use futures::StreamExt;
use practica::events::{self, Relay, Sink};
use practica::storage::{self, OutboxRow, OutboxStore, Role, Store};
use serde_json::Value;
use sqlx::Connection;
use tokio::sync::{broadcast, mpsc, watch};
use uuid::Uuid;

const STUDENTS: usize = 20;
const PER_STUDENT: usize = 50;

fn nats_url() -> Option<String> {
    match std::env::var("PRACTICA_TEST_NATS_URL") {
        Ok(url) if !url.is_empty() => {
            common::mark_suite_ran("nats");
            Some(url)
        }
        _ => {
            eprintln!("PRACTICA_TEST_NATS_URL is not set: NATS relay test skipped");
            None
        }
    }
}

/// The outbox as a relay sees it, made to die between publishing and marking: the `stall_at`-th
/// mark never returns (its seqs are reported instead), as if the process died right after
/// JetStream acknowledged the batch.
struct Stalling {
    inner: Arc<dyn Store>,
    stall_at: usize,
    marks: AtomicUsize,
    marked: AtomicUsize,
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
        self.inner.mark_published(seqs).await?;
        self.marked.fetch_add(seqs.len(), Ordering::SeqCst);
        Ok(())
    }
    async fn outbox_lag(&self) -> storage::Result<(i64, f64)> {
        self.inner.outbox_lag().await
    }
    async fn try_lead_relay(&self) -> storage::Result<bool> {
        self.inner.try_lead_relay().await
    }
}

/// Posts `PER_STUDENT` attempts for each of `STUDENTS` students, the students concurrently and
/// each one's attempts one after another; returns each student's attempt ids in creation order.
async fn post_attempts(app: Arc<TestApp>) -> HashMap<String, Vec<String>> {
    let mut tasks = Vec::new();
    for s in 0..STUDENTS {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            let student = format!("stu_nats_{s:02}");
            let token = app.token(&student, Role::Student);
            let mut ids = Vec::with_capacity(PER_STUDENT);
            for _ in 0..PER_STUDENT {
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

async fn kill_and_restart(backend: Backend, url: String, stream: String, prefix: String) {
    let app = Arc::new(
        TestApp::spawn_with(backend, |c| {
            c.nats_url = Some(url.clone());
            c.nats_stream = stream.clone();
            c.nats_subject_prefix = prefix.clone();
            c.relay_enabled = false;
        })
        .await,
    );
    let store = app.state.store.clone();
    let (_client, js) = events::connect_nats(&url, None, &stream, &prefix).await.unwrap();
    // The stream exists now, on its subjects: another prefix is refused, not silently unheard.
    let mismatch = events::connect_nats(&url, None, &stream, "practica.elsewhere").await;
    assert!(mismatch.is_err_and(|e| e.to_string().contains("nats_subject_prefix")));
    let sink = Sink::Nats {
        js: Box::new(js.clone()),
        subject_prefix: prefix.clone(),
    };
    let relay = |store: Arc<dyn OutboxStore>| Relay {
        store,
        sink: sink.clone(),
        wake: app.state.outbox.clone(),
    };
    // Kept alive to the end: a dropped sender would stop the relays.
    let (stop_tx, stop_rx) = watch::channel(false);
    let posting = tokio::spawn(post_attempts(app.clone()));

    // A relay dies between publishing a batch and marking it.
    let (stranded_tx, mut stranded_rx) = mpsc::unbounded_channel();
    let stalling = Arc::new(Stalling {
        inner: store.clone(),
        stall_at: 3,
        marks: AtomicUsize::new(0),
        marked: AtomicUsize::new(0),
        stranded: stranded_tx,
    });
    let first = tokio::spawn(relay(stalling.clone()).run(stop_rx.clone()));
    let stranded = tokio::time::timeout(Duration::from_secs(60), stranded_rx.recv())
        .await
        .expect("the first relay reached its third batch")
        .unwrap();
    first.abort();
    assert!(first.await.unwrap_err().is_cancelled());
    // Its last batch is in the stream and still in the outbox: the next relay publishes it again.
    let in_stream = js
        .get_stream(&stream)
        .await
        .unwrap()
        .get_info()
        .await
        .unwrap()
        .state
        .messages;
    assert_eq!(
        in_stream as usize,
        stalling.marked.load(Ordering::SeqCst) + stranded.len()
    );
    // (Not necessarily the oldest unpublished: on PostgreSQL a seq drawn by a transaction that
    // had not committed when the batch was read is published after it.)
    let pending: HashSet<i64> = store.unpublished(10_000).await.unwrap().iter().map(|r| r.seq).collect();
    assert!(
        stranded.iter().all(|seq| pending.contains(seq)),
        "{stranded:?} still unpublished"
    );

    // More deaths, at whatever point of a batch they land: publishing, awaiting acks, marking.
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

    // Read the whole stream back with a durable pull consumer.
    let consumer: consumer::PullConsumer = js
        .get_stream(&stream)
        .await
        .unwrap()
        .create_consumer(consumer::pull::Config {
            durable_name: Some("verify".into()),
            ack_policy: consumer::AckPolicy::Explicit,
            ..Default::default()
        })
        .await
        .unwrap();
    let mut seen_events = HashSet::new();
    let mut streamed: HashMap<String, Vec<String>> = HashMap::new();
    let mut last_seq = 0;
    loop {
        let mut batch = consumer.fetch().max_messages(256).messages().await.unwrap();
        let mut n = 0;
        while let Some(m) = batch.next().await {
            let m = m.unwrap();
            n += 1;
            let seq = m.info().unwrap().stream_sequence;
            assert!(seq > last_seq, "stream order");
            last_seq = seq;
            assert_eq!(m.subject.as_str(), format!("{prefix}.attempt.created"));
            let payload: Value = serde_json::from_slice(&m.payload).unwrap();
            let event_id = payload["id"].as_str().unwrap().to_string();
            let student = payload["attempt"]["studentId"].as_str().unwrap().to_string();
            let headers = m.headers.as_ref().expect("headers");
            assert_eq!(headers.get("Nats-Msg-Id").map(|v| v.as_str()), Some(event_id.as_str()));
            assert_eq!(
                headers.get("Practica-Ordering-Key").map(|v| v.as_str()),
                Some(student.as_str())
            );
            assert!(seen_events.insert(event_id.clone()), "event {event_id} delivered twice");
            streamed
                .entry(student)
                .or_default()
                .push(payload["attempt"]["attemptId"].as_str().unwrap().to_string());
            m.ack().await.unwrap();
        }
        if n == 0 {
            break;
        }
    }
    assert_eq!(seen_events.len(), STUDENTS * PER_STUDENT);
    // Every attempt once, and each student's in the order they were created.
    assert_eq!(streamed.len(), STUDENTS);
    for (student, ids) in &created {
        assert_eq!(streamed.get(student), Some(ids), "{student}'s events");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_relays_lose_duplicate_and_reorder_nothing() {
    let Some(url) = nats_url() else { return };
    for backend in backends() {
        // A stream and subjects of its own: streams on one server may not share subjects.
        let run = Uuid::new_v4().simple().to_string();
        let stream = format!("PRACTICA_TEST_{run}");
        let prefix = format!("practica.test.{run}");
        let outcome = tokio::spawn(kill_and_restart(backend, url.clone(), stream.clone(), prefix)).await;
        // Deleted whether the scenario passed or not.
        let client = async_nats::connect(&url).await.unwrap();
        let deleted = jetstream::new(client).delete_stream(&stream).await;
        if let Err(e) = outcome {
            std::panic::resume_unwind(e.into_panic());
        }
        deleted.unwrap();
    }
}

/// Ends the PostgreSQL session holding the relay lock, as when its process dies.
async fn end_leader_session(database_url: &str) {
    let mut admin = sqlx::PgConnection::connect(database_url).await.unwrap();
    // The relay lock is the only one-key advisory lock held between transactions.
    let ended: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 1 \
         AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    )
    .fetch_all(&mut admin)
    .await
    .unwrap();
    assert_eq!(ended, vec![true]);
}

async fn recv_events(rx: &mut broadcast::Receiver<Arc<events::Event>>, n: usize) {
    for _ in 0..n {
        tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .expect("an event")
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_relay_leads_per_postgres_database() {
    if std::env::var_os("PRACTICA_TEST_POSTGRES_URL").is_none() {
        eprintln!("PRACTICA_TEST_POSTGRES_URL is not set: relay leadership test skipped");
        return;
    }
    let app = TestApp::spawn_with(Backend::Postgres, |c| c.relay_enabled = false).await;
    let url = app.state.config.database_url.clone().unwrap();
    let ours = app.state.store.clone();
    let token = app.token("stu_lead", Role::Student);
    // Another process on the same database leads first, and keeps leading.
    let other = storage::open(&url).await.unwrap();
    assert!(other.try_lead_relay().await.unwrap());
    assert!(other.try_lead_relay().await.unwrap());
    assert!(!ours.try_lead_relay().await.unwrap());

    for _ in 0..5 {
        assert_eq!(app.post("/attempts", &token, &spec_example("stu_lead")).await.0, 201);
    }
    let (tx, mut rx) = broadcast::channel(64);
    let (stop_tx, stop_rx) = watch::channel(false);
    let relay = tokio::spawn(
        Relay {
            store: ours.clone(),
            sink: Sink::Embedded(tx),
            wake: app.state.outbox.clone(),
        }
        .run(stop_rx),
    );
    // Not the leader: publishes nothing.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(ours.outbox_lag().await.unwrap().0, 5);
    assert!(rx.is_empty());

    // The leader's process dies: ours takes over within a poll and publishes the backlog.
    end_leader_session(&url).await;
    recv_events(&mut rx, 5).await;
    wait_until_outbox_empty(ours.as_ref()).await;
    // The old leader learns it lost (its session is gone), and cannot take it back.
    let _ = other.try_lead_relay().await;
    assert!(!other.try_lead_relay().await.unwrap());

    // Ours loses its session in turn and the other takes over: ours publishes nothing more.
    end_leader_session(&url).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !other.try_lead_relay().await.unwrap_or(false) {
        assert!(tokio::time::Instant::now() < deadline, "the other process took over");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for _ in 0..3 {
        assert_eq!(app.post("/attempts", &token, &spec_example("stu_lead")).await.0, 201);
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(ours.outbox_lag().await.unwrap().0, 3);
    assert!(rx.is_empty());
    stop_tx.send(true).unwrap();
    relay.await.unwrap();
}

/// A private `nats-server` (with JetStream) started with `args` on a free port, killed on drop.
struct PrivateNats {
    child: std::process::Child,
    port: u16,
    store: std::path::PathBuf,
}

impl Drop for PrivateNats {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.store);
    }
}

fn private_nats(args: &[&str]) -> Option<PrivateNats> {
    let binary = [
        "/usr/sbin/nats-server",
        "/usr/local/bin/nats-server",
        "/usr/bin/nats-server",
    ]
    .into_iter()
    .find(|p| std::path::Path::new(p).exists());
    let Some(binary) = binary else {
        eprintln!("no nats-server binary: NATS authentication test skipped");
        return None;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let store = common::temp_dir();
    let child = std::process::Command::new(binary)
        .args(["-a", "127.0.0.1", "-p", &port.to_string(), "-js", "-sd"])
        .arg(&store)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let nats = PrivateNats { child, port, store };
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some(nats);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("nats-server did not listen on {port}");
}

/// Credentials in `nats_url` reach the server (async-nats parses them but does not send them on
/// its own), wrong ones are refused, and a list of servers is accepted.
#[tokio::test]
async fn nats_url_credentials_authenticate() {
    let Some(nats) = private_nats(&["--user", "practica", "--pass", "s3cr%t"]) else {
        return;
    };
    let port = nats.port;
    let (client, _js) = events::connect_nats(
        &format!("nats://practica:s3cr%25t@127.0.0.1:{port}"),
        None,
        "AUTH_TEST",
        "auth.test",
    )
    .await
    .expect("user and password from the URL");
    assert_eq!(client.connection_state(), async_nats::connection::State::Connected);
    let refused = events::connect_nats(
        &format!("nats://practica:wrong@127.0.0.1:{port}"),
        None,
        "AUTH_TEST",
        "auth.test",
    )
    .await;
    assert!(refused.is_err(), "a wrong password must not connect");
    let anonymous = events::connect_nats(&format!("nats://127.0.0.1:{port}"), None, "AUTH_TEST", "auth.test").await;
    assert!(anonymous.is_err(), "no credentials must not connect");
    // A cluster's seeds: the first is down, the client goes on to the next.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    events::connect_nats(
        &format!("nats://practica:s3cr%25t@127.0.0.1:{dead}, nats://practica:s3cr%25t@127.0.0.1:{port}"),
        None,
        "AUTH_TEST",
        "auth.test",
    )
    .await
    .expect("a list of servers");

    let Some(nats) = private_nats(&["--auth", "t0ken"]) else {
        return;
    };
    let port = nats.port;
    events::connect_nats(
        &format!("nats://t0ken@127.0.0.1:{port}"),
        None,
        "AUTH_TEST",
        "auth.test",
    )
    .await
    .expect("a token from the URL");
    let bad = events::connect_nats(
        &format!("nats://other@127.0.0.1:{port}"),
        None,
        "AUTH_TEST",
        "auth.test",
    )
    .await;
    assert!(bad.is_err(), "a wrong token must not connect");
    assert!(
        events::connect_nats(" , ", None, "AUTH_TEST", "auth.test")
            .await
            .is_err()
    );
}
