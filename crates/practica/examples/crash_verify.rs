//! The checking side of the crash test (`scripts/crash-test.sh`): after `crash_load` ran against
//! a server killed and restarted under it, reads the database (PostgreSQL or the SQLite file, by
//! URL) and the JetStream stream and checks that nothing acknowledged was lost and nothing was
//! doubled:
//!
//! - every acknowledged key's attempt is stored, once, with the id the 201 named; no key has
//!   two rows; a key that never reached the server has none; every row belongs to a key sent;
//!   the idempotency table replays the stored attempt;
//! - the outbox holds one `attempt.created` per stored attempt and, once drained, nothing
//!   unpublished;
//! - the stream holds each stored attempt's `attempt.created` exactly once (counted by the
//!   payload's attemptId), none for an attempt that is not stored, each student's in the order
//!   the attempts were created;
//! - mastery equals a replay of the stored attempts, per (student, topic, course) in creation
//!   order, through `mastery::BktParams::update` with the topic's stored parameters (within
//!   1e-9), with one history row per attempt holding the value after it.
//!
//! Prints the counts as a table and a `summary` line; exits 1 on any loss, duplicate or
//! mismatch (2 when it could not check).
//!
//! `cargo run --release -p practica --example crash_verify -- --database-url URL --acks acks.jsonl
//!  --nats-url nats://127.0.0.1:4222 --stream S --subject-prefix P [--drain-secs 60]
//!  [--label sqlite] [--extra "name=value"]... [--delete-stream]`
//!
//! `--tries tries.jsonl --outage FROM_MS:TO_MS --outage-kind database|events [--hang-ms 12000]`
//! (the dependency-fault test, `scripts/fault-test.sh`) also judges every request `crash_load
//! --tries` recorded, against the outage of a dependency from FROM_MS to TO_MS (ms since the
//! epoch). `database`: a request may fail only as 503 with the JSON error body and `Retry-After`,
//! some must (the fault bit), none may hang past `--hang-ms` or go unanswered, and the first 201
//! after the database came back is timed. `events` (the event sink down): every request is a
//! 201 within `--hang-ms`.
//!
//! `--probe` (no `--acks`), with the server dead after a kill: prints how many of the outbox's
//! unpublished events are on the stream already (the relay died between publishing and
//! marking; they will be published again, and JetStream must drop the copies).

use std::collections::{HashMap, HashSet};
use std::str::FromStr;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow};
use async_nats::jetstream::{self, consumer};
use futures::StreamExt;
use mastery::BktParams;
use serde_json::Value;
use sqlx::Row;
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

const TOLERANCE: f64 = 1e-9;
const EVENT: &str = "attempt.created";

struct Args {
    database_url: String,
    acks: String,
    nats_url: String,
    stream: String,
    subject_prefix: String,
    drain_secs: f64,
    label: String,
    extras: Vec<(String, String)>,
    delete_stream: bool,
    probe: bool,
    tries: Option<String>,
    outage: Option<(f64, f64)>,
    outage_kind: String,
    hang_ms: f64,
}

fn parse_args() -> Args {
    let mut a = Args {
        database_url: String::new(),
        acks: String::new(),
        nats_url: "nats://127.0.0.1:4222".into(),
        stream: String::new(),
        subject_prefix: String::new(),
        drain_secs: 60.0,
        label: String::new(),
        extras: Vec::new(),
        delete_stream: false,
        probe: false,
        tries: None,
        outage: None,
        outage_kind: String::new(),
        hang_ms: 12_000.0,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--delete-stream" || flag == "--probe" {
            a.delete_stream |= flag == "--delete-stream";
            a.probe |= flag == "--probe";
            continue;
        }
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--database-url" => a.database_url = value,
            "--acks" => a.acks = value,
            "--nats-url" => a.nats_url = value,
            "--stream" => a.stream = value,
            "--subject-prefix" => a.subject_prefix = value,
            "--drain-secs" => a.drain_secs = value.parse().expect("--drain-secs"),
            "--label" => a.label = value,
            "--tries" => a.tries = Some(value),
            "--outage" => {
                let (from, to) = value.split_once(':').expect("--outage FROM_MS:TO_MS");
                a.outage = Some((from.parse().expect("--outage"), to.parse().expect("--outage")));
            }
            "--outage-kind" => a.outage_kind = value,
            "--hang-ms" => a.hang_ms = value.parse().expect("--hang-ms"),
            "--extra" => {
                let (k, v) = value.split_once('=').expect("--extra name=value");
                a.extras.push((k.to_string(), v.to_string()));
            }
            _ => panic!("unknown flag {flag}"),
        }
    }
    assert!(
        !a.database_url.is_empty()
            && (a.probe || !a.acks.is_empty())
            && !a.stream.is_empty()
            && !a.subject_prefix.is_empty(),
        "--database-url, --acks, --stream and --subject-prefix are required"
    );
    assert!(
        a.tries.is_none() || (a.outage.is_some() && matches!(a.outage_kind.as_str(), "database" | "events")),
        "--tries needs --outage FROM_MS:TO_MS and --outage-kind database|events"
    );
    if a.label.is_empty() {
        a.label = if is_postgres(&a.database_url) {
            "postgres"
        } else {
            "sqlite"
        }
        .into();
    }
    a
}

fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

enum Db {
    Pg(sqlx::PgPool),
    Lite(sqlx::SqlitePool),
}

/// The same read on either backend: `$pg` and `$lite` are the backend's SQL, `$row` maps a row
/// (columns decoded as text, integers, reals and booleans only, so the mapping is shared).
macro_rules! load {
    ($db:expr, $pg:expr, $lite:expr, |$r:ident| $row:expr) => {{
        let mut out = Vec::new();
        match $db {
            Db::Pg(pool) => {
                for $r in sqlx::query($pg).fetch_all(pool).await? {
                    out.push($row);
                }
            }
            Db::Lite(pool) => {
                for $r in sqlx::query($lite).fetch_all(pool).await? {
                    out.push($row);
                }
            }
        }
        out
    }};
}

impl Db {
    async fn open(url: &str) -> anyhow::Result<Db> {
        if is_postgres(url) {
            let pool = PgPoolOptions::new().max_connections(2).connect(url).await?;
            return Ok(Db::Pg(pool));
        }
        let url = if url.starts_with("sqlite:") {
            url.to_string()
        } else {
            format!("sqlite://{url}")
        };
        let options = SqliteConnectOptions::from_str(&url)?.create_if_missing(false);
        Ok(Db::Lite(
            SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(options)
                .await?,
        ))
    }

    async fn unpublished(&self) -> anyhow::Result<i64> {
        let n: Vec<i64> = load!(
            self,
            "SELECT COUNT(*) FROM outbox WHERE published_at IS NULL",
            "SELECT COUNT(*) FROM outbox WHERE published_at IS NULL",
            |r| r.try_get::<i64, _>(0)?
        );
        Ok(n[0])
    }
}

struct Attempt {
    id: String,
    student: String,
    topic: String,
    course: String,
    key: Option<String>,
    correct: bool,
    created: OffsetDateTime,
}

type MasteryKey = (String, String, String);

struct History {
    attempt: String,
    key: MasteryKey,
    p: f64,
}

struct Outbox {
    event_type: String,
    payload: Value,
    published: bool,
}

struct Ack {
    key: String,
    state: String,
    attempt_id: Option<String>,
    tries: u64,
    /// When the key's last failed try failed, µs since the epoch.
    last_failed_us: Option<i128>,
}

/// One message of the stream.
struct Streamed {
    subject: String,
    msg_id: Option<String>,
    ordering_key: Option<String>,
    payload: Value,
}

fn parse_time(s: &str) -> anyhow::Result<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339).with_context(|| format!("timestamp {s:?}"))
}

fn read_acks(path: &str) -> anyhow::Result<Vec<Ack>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
    let mut acks = Vec::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line).with_context(|| format!("{path}:{}", i + 1))?;
        let s = |k: &str| v[k].as_str().map(str::to_string);
        acks.push(Ack {
            key: s("key").ok_or_else(|| anyhow!("{path}:{}: no key", i + 1))?,
            state: s("state").unwrap_or_default(),
            attempt_id: s("attemptId"),
            tries: v["tries"].as_u64().unwrap_or(0),
            last_failed_us: v["lastFailedUs"].as_u64().map(i128::from),
        });
    }
    Ok(acks)
}

/// The stream's messages from `tail` before its end (all of it when `None`); with the stream's
/// message count.
async fn read_stream(args: &Args, tail: Option<u64>) -> anyhow::Result<(u64, Vec<Streamed>)> {
    let client = async_nats::ConnectOptions::new()
        .connection_timeout(Duration::from_secs(5))
        .connect(&args.nats_url)
        .await
        .map_err(|e| anyhow!("NATS at {}: {e}", args.nats_url))?;
    let js = jetstream::new(client);
    let stream = js
        .get_stream(&args.stream)
        .await
        .map_err(|e| anyhow!("stream {}: {e}", args.stream))?;
    let state = stream.get_info().await.map_err(|e| anyhow!("stream info: {e}"))?.state;
    let total = state.messages;
    let (deliver_policy, wanted) = match tail {
        Some(n) if n < total => (
            consumer::DeliverPolicy::ByStartSequence {
                start_sequence: state.last_sequence + 1 - n,
            },
            n,
        ),
        _ => (consumer::DeliverPolicy::All, total),
    };
    let name = format!("crash-verify-{}", std::process::id());
    let consumer: consumer::PullConsumer = stream
        .create_consumer(consumer::pull::Config {
            name: Some(name.clone()),
            deliver_policy,
            ack_policy: consumer::AckPolicy::None,
            inactive_threshold: Duration::from_secs(120),
            ..Default::default()
        })
        .await
        .map_err(|e| anyhow!("consumer: {e}"))?;
    let mut out = Vec::with_capacity(wanted as usize);
    let mut last_seq = 0;
    while (out.len() as u64) < wanted {
        let mut batch = consumer
            .batch()
            // No more than are left: a batch waits out its expiry for the messages it lacks.
            .max_messages((wanted - out.len() as u64).min(1000) as usize)
            .expires(Duration::from_secs(2))
            .messages()
            .await
            .map_err(|e| anyhow!("fetch: {e}"))?;
        let before = out.len();
        while let Some(m) = batch.next().await {
            let m = m.map_err(|e| anyhow!("message: {e}"))?;
            let seq = m.info().map_err(|e| anyhow!("message info: {e}"))?.stream_sequence;
            anyhow::ensure!(seq > last_seq, "stream read out of order: {seq} after {last_seq}");
            last_seq = seq;
            let header = |h: &str| {
                m.headers
                    .as_ref()
                    .and_then(|hs| hs.get(h))
                    .map(|v| v.as_str().to_string())
            };
            out.push(Streamed {
                subject: m.subject.to_string(),
                msg_id: header("Nats-Msg-Id"),
                ordering_key: header("Practica-Ordering-Key"),
                payload: serde_json::from_slice(&m.payload).unwrap_or(Value::Null),
            });
        }
        if out.len() == before {
            break;
        }
    }
    anyhow::ensure!(
        out.len() as u64 == wanted,
        "read {} of the stream's {wanted} messages",
        out.len()
    );
    let _ = stream.delete_consumer(&name).await;
    if args.delete_stream {
        js.delete_stream(&args.stream)
            .await
            .map_err(|e| anyhow!("deleting stream {}: {e}", args.stream))?;
    }
    Ok((total, out))
}

/// The table: (name, count, verdict) with verdict "ok", "FAIL" or "" (information).
#[derive(Default)]
struct Table {
    rows: Vec<(String, String, &'static str)>,
    failed: bool,
}

impl Table {
    fn info(&mut self, name: &str, value: impl ToString) {
        self.rows.push((name.to_string(), value.to_string(), ""));
    }
    /// A count that must be zero.
    fn zero(&mut self, name: &str, n: usize) {
        let verdict = if n == 0 { "ok" } else { "FAIL" };
        self.failed |= n != 0;
        self.rows.push((name.to_string(), n.to_string(), verdict));
    }
    fn print(&self, title: &str) {
        println!("{title}");
        let w = self.rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
        let v = self.rows.iter().map(|r| r.1.len()).max().unwrap_or(0);
        for (name, value, verdict) in &self.rows {
            println!("  {name:<w$}  {value:>v$}  {verdict}");
        }
    }
}

fn examples(label: &str, items: &[String]) {
    if !items.is_empty() {
        let shown: Vec<&str> = items.iter().take(5).map(String::as_str).collect();
        eprintln!("crash_verify: {label}: {} (e.g. {})", items.len(), shown.join(", "));
    }
}

async fn run(args: &Args) -> anyhow::Result<bool> {
    let db = Db::open(&args.database_url).await?;
    let mut t = Table::default();
    for (k, v) in &args.extras {
        t.info(k, v);
    }

    // The relay publishes what the last server left; give it the time it needs.
    let drain_start = Instant::now();
    let mut unpublished = db.unpublished().await?;
    while unpublished > 0 && drain_start.elapsed().as_secs_f64() < args.drain_secs {
        tokio::time::sleep(Duration::from_millis(200)).await;
        unpublished = db.unpublished().await?;
    }
    let drain_ms = drain_start.elapsed().as_millis();

    let acks = read_acks(&args.acks)?;
    let attempts: Vec<Attempt> = load!(
        &db,
        "SELECT id::text AS id, student_id, topic_code, COALESCE(course_id, '') AS course_id, exercise_id, is_correct, \
         to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') AS created_at FROM attempt",
        "SELECT id, student_id, topic_code, COALESCE(course_id, '') AS course_id, exercise_id, is_correct, created_at \
         FROM attempt",
        |r| Attempt {
            id: r.try_get("id")?,
            student: r.try_get("student_id")?,
            topic: r.try_get("topic_code")?,
            course: r.try_get("course_id")?,
            key: r.try_get("exercise_id")?,
            correct: r.try_get("is_correct")?,
            created: parse_time(&r.try_get::<String, _>("created_at")?)?,
        }
    );
    let history: Vec<History> = load!(
        &db,
        "SELECT attempt_id::text AS attempt_id, student_id, topic_code, course_id, p_known FROM mastery_history ORDER BY id",
        "SELECT attempt_id, student_id, topic_code, course_id, p_known FROM mastery_history ORDER BY id",
        |r| History {
            attempt: r.try_get("attempt_id")?,
            key: (
                r.try_get("student_id")?,
                r.try_get("topic_code")?,
                r.try_get("course_id")?
            ),
            p: r.try_get("p_known")?,
        }
    );
    let mastery_rows: Vec<(MasteryKey, f64, i64)> = load!(
        &db,
        "SELECT student_id, topic_code, course_id, p_known, attempts FROM mastery",
        "SELECT student_id, topic_code, course_id, p_known, attempts FROM mastery",
        |r| (
            (
                r.try_get("student_id")?,
                r.try_get("topic_code")?,
                r.try_get("course_id")?
            ),
            r.try_get::<f64, _>("p_known")?,
            r.try_get::<i64, _>("attempts")?
        )
    );
    let outbox: Vec<Outbox> = load!(
        &db,
        "SELECT event_type, payload::text AS payload, \
         CASE WHEN published_at IS NULL THEN 0::bigint ELSE 1::bigint END AS published FROM outbox ORDER BY seq",
        "SELECT event_type, payload, CASE WHEN published_at IS NULL THEN 0 ELSE 1 END AS published FROM outbox \
         ORDER BY seq",
        |r| Outbox {
            event_type: r.try_get("event_type")?,
            payload: serde_json::from_str(&r.try_get::<String, _>("payload")?)?,
            published: r.try_get::<i64, _>("published")? == 1,
        }
    );
    let idempotency: Vec<(String, Value)> = load!(
        &db,
        "SELECT key, response::text AS response FROM idempotency",
        "SELECT key, response FROM idempotency",
        |r| (
            r.try_get::<String, _>("key")?,
            serde_json::from_str::<Value>(&r.try_get::<String, _>("response")?)?
        )
    );
    let topics: HashMap<String, BktParams> = load!(
        &db,
        "SELECT code, p_init, p_learn, p_slip, p_guess, p_forget FROM topic",
        "SELECT code, p_init, p_learn, p_slip, p_guess, p_forget FROM topic",
        |r| (
            r.try_get::<String, _>("code")?,
            BktParams {
                p_init: r.try_get("p_init")?,
                p_learn: r.try_get("p_learn")?,
                p_slip: r.try_get("p_slip")?,
                p_guess: r.try_get("p_guess")?,
                p_forget: r.try_get("p_forget")?,
            }
        )
    )
    .into_iter()
    .collect();
    let (stream_total, streamed) = read_stream(args, None).await?;

    let by_id: HashMap<&str, &Attempt> = attempts.iter().map(|a| (a.id.as_str(), a)).collect();

    // --- The driver's view.
    let count = |state: &str| acks.iter().filter(|a| a.state == state).count();
    t.info("keys sent", acks.len());
    t.info("acknowledged (201)", count("acked"));
    t.info(
        "  of which after a retry",
        acks.iter().filter(|a| a.state == "acked" && a.tries > 1).count(),
    );
    // The row of a key acknowledged after a retry was created before the last failed try: by an
    // earlier try, whose commit the 201 replayed (across a restart).
    let replayed = acks
        .iter()
        .filter(|a| a.state == "acked")
        .filter(|a| {
            let row = a.attempt_id.as_deref().and_then(|id| by_id.get(id));
            matches!((row, a.last_failed_us), (Some(r), Some(f)) if r.created.unix_timestamp_nanos() / 1000 < f)
        })
        .count();
    t.info("    committed before the failure (a replay)", replayed);
    t.info("in doubt (abandoned, may be stored)", count("in_doubt"));
    t.info("never delivered (abandoned)", count("undelivered"));
    t.zero("rejected (4xx)", count("rejected"));
    t.zero(
        "keys reported twice by the driver",
        acks.len() - acks.iter().map(|a| &a.key).collect::<HashSet<_>>().len(),
    );

    // --- The attempts.
    let mut by_key: HashMap<&str, Vec<&Attempt>> = HashMap::new();
    for a in &attempts {
        if let Some(k) = &a.key {
            by_key.entry(k.as_str()).or_default().push(a);
        }
    }
    let idem: HashMap<&str, &Value> = idempotency.iter().map(|(k, v)| (k.as_str(), v)).collect();
    let ack_of: HashMap<&str, &Ack> = acks.iter().map(|a| (a.key.as_str(), a)).collect();
    t.info("attempts stored", attempts.len());
    let mut lost = Vec::new();
    let mut wrong_id = Vec::new();
    let mut idem_wrong = Vec::new();
    let (mut doubt_stored, mut doubt_absent) = (0, 0);
    let mut phantom = Vec::new();
    for a in &acks {
        let rows = by_key.get(a.key.as_str()).map_or(0, Vec::len);
        match a.state.as_str() {
            "acked" => {
                let id = a.attempt_id.as_deref().unwrap_or_default();
                match by_id.get(id) {
                    None => lost.push(format!("{} ({id})", a.key)),
                    Some(row) if row.key.as_deref() != Some(a.key.as_str()) => wrong_id.push(a.key.clone()),
                    Some(_) => {}
                }
                if idem.get(a.key.as_str()).and_then(|v| v["attemptId"].as_str()) != Some(id) {
                    idem_wrong.push(a.key.clone());
                }
            }
            "in_doubt" if rows > 0 => doubt_stored += 1,
            "in_doubt" => doubt_absent += 1,
            "undelivered" if rows > 0 => phantom.push(a.key.clone()),
            _ => {}
        }
    }
    let dup_keys: Vec<String> = by_key
        .iter()
        .filter(|(_, v)| v.len() > 1)
        .map(|(k, v)| format!("{k} x{}", v.len()))
        .collect();
    let unknown: Vec<String> = attempts
        .iter()
        .filter(|a| a.key.as_deref().is_none_or(|k| !ack_of.contains_key(k)))
        .map(|a| a.id.clone())
        .collect();
    let idem_dangling: Vec<String> = idempotency
        .iter()
        .filter(|(_, v)| v["attemptId"].as_str().is_none_or(|id| !by_id.contains_key(id)))
        .map(|(k, _)| k.clone())
        .collect();
    t.info("  in doubt: stored", doubt_stored);
    t.info("  in doubt: not stored", doubt_absent);
    t.zero("acknowledged but not stored (LOST)", lost.len());
    t.zero("acknowledged id is another key's row", wrong_id.len());
    t.zero("keys with more than one row (DUPLICATE)", dup_keys.len());
    t.zero("rows of keys never delivered", phantom.len());
    t.zero("rows of no key sent", unknown.len());
    t.zero(
        "acknowledged keys the idempotency table does not replay",
        idem_wrong.len(),
    );
    t.zero("idempotency responses naming no stored attempt", idem_dangling.len());
    examples("lost", &lost);
    examples("wrong id", &wrong_id);
    examples("duplicate keys", &dup_keys);
    examples("phantom", &phantom);
    examples("unknown rows", &unknown);
    examples("idempotency not replaying the ack", &idem_wrong);
    examples("idempotency dangling", &idem_dangling);

    // --- The outbox.
    let mut outbox_per: HashMap<&str, usize> = HashMap::new();
    for o in outbox.iter().filter(|o| o.event_type == EVENT) {
        *outbox_per
            .entry(o.payload["attempt"]["attemptId"].as_str().unwrap_or_default())
            .or_default() += 1;
    }
    t.info("outbox rows", outbox.len());
    t.info("outbox drained in (ms)", drain_ms);
    t.zero(
        "outbox rows unpublished after the drain",
        outbox.iter().filter(|o| !o.published).count(),
    );
    t.zero(
        "stored attempts without exactly one outbox event",
        attempts
            .iter()
            .filter(|a| outbox_per.get(a.id.as_str()) != Some(&1))
            .count(),
    );
    t.zero(
        "outbox events of no stored attempt",
        outbox_per.keys().filter(|id| !by_id.contains_key(*id)).count(),
    );

    // --- The stream.
    let subject = format!("{}.{EVENT}", args.subject_prefix);
    let created: Vec<&Streamed> = streamed.iter().filter(|m| m.subject == subject).collect();
    let mut per_attempt: HashMap<&str, usize> = HashMap::new();
    let mut msg_ids = HashSet::new();
    let mut dup_msg_ids = 0;
    let mut bad_headers = 0;
    let mut stream_order: HashMap<&str, Vec<&str>> = HashMap::new();
    for m in &created {
        let id = m.payload["attempt"]["attemptId"].as_str().unwrap_or_default();
        let n = per_attempt.entry(id).or_default();
        *n += 1;
        if *n == 1 {
            let student = m.payload["attempt"]["studentId"].as_str().unwrap_or_default();
            stream_order.entry(student).or_default().push(id);
        }
        let event_id = m.payload["id"].as_str();
        if m.msg_id.as_deref() != event_id || m.ordering_key.as_deref() != m.payload["attempt"]["studentId"].as_str() {
            bad_headers += 1;
        }
        if !msg_ids.insert(m.msg_id.clone()) {
            dup_msg_ids += 1;
        }
    }
    let acked_ids: HashSet<&str> = acks
        .iter()
        .filter(|a| a.state == "acked")
        .filter_map(|a| a.attempt_id.as_deref())
        .collect();
    let missing_acked: Vec<String> = acked_ids
        .iter()
        .filter(|id| !per_attempt.contains_key(**id))
        .map(|id| id.to_string())
        .collect();
    let missing_other: Vec<String> = attempts
        .iter()
        .filter(|a| !acked_ids.contains(a.id.as_str()) && !per_attempt.contains_key(a.id.as_str()))
        .map(|a| a.id.clone())
        .collect();
    let doubled: Vec<String> = per_attempt
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(id, n)| format!("{id} x{n}"))
        .collect();
    let orphans: Vec<String> = per_attempt
        .keys()
        .filter(|id| !by_id.contains_key(**id))
        .map(|id| id.to_string())
        .collect();
    // Each student's events in the order of their attempts' creation.
    let mut created_order: HashMap<&str, Vec<&Attempt>> = HashMap::new();
    for a in &attempts {
        created_order.entry(a.student.as_str()).or_default().push(a);
    }
    let mut out_of_order = Vec::new();
    for (student, list) in &mut created_order {
        list.sort_by(|x, y| (x.created, &x.id).cmp(&(y.created, &y.id)));
        let expected: Vec<&str> = list
            .iter()
            .map(|a| a.id.as_str())
            .filter(|id| per_attempt.contains_key(id))
            .collect();
        if stream_order.get(student).map(Vec::as_slice).unwrap_or_default() != expected.as_slice() {
            out_of_order.push(student.to_string());
        }
    }
    t.info("stream messages", stream_total);
    t.info(&format!("  on {subject}"), created.len());
    t.zero("acknowledged attempts without their event (LOST)", missing_acked.len());
    t.zero("other stored attempts without their event", missing_other.len());
    t.zero("attempts with their event more than once (DUPLICATE)", doubled.len());
    t.zero("events of no stored attempt", orphans.len());
    t.zero("messages whose Nats-Msg-Id repeats", dup_msg_ids);
    t.zero("messages with wrong Nats-Msg-Id / ordering key", bad_headers);
    t.zero("students whose events are out of creation order", out_of_order.len());
    examples("events missing (acked)", &missing_acked);
    examples("events missing (other)", &missing_other);
    examples("events doubled", &doubled);
    examples("orphan events", &orphans);
    examples("students out of order", &out_of_order);

    // --- Mastery, replayed.
    let mut sequences: HashMap<MasteryKey, Vec<&Attempt>> = HashMap::new();
    for a in attempts.iter().filter(|a| a.topic != "ADHOC") {
        sequences
            .entry((a.student.clone(), a.topic.clone(), a.course.clone()))
            .or_default()
            .push(a);
    }
    let mut history_of: HashMap<&str, Vec<&History>> = HashMap::new();
    let mut applied_order: HashMap<&MasteryKey, Vec<&str>> = HashMap::new();
    for h in &history {
        history_of.entry(h.attempt.as_str()).or_default().push(h);
        applied_order.entry(&h.key).or_default().push(h.attempt.as_str());
    }
    let stored: HashMap<&MasteryKey, (f64, i64)> = mastery_rows.iter().map(|(k, p, n)| (k, (*p, *n))).collect();
    let mut mismatched = Vec::new();
    let mut history_bad = 0;
    let mut reordered = 0;
    let mut max_delta: f64 = 0.0;
    for (key, list) in &mut sequences {
        list.sort_by(|x, y| (x.created, &x.id).cmp(&(y.created, &y.id)));
        let params = topics.get(&key.1).copied().unwrap_or_default();
        let mut p = params.p_init;
        for a in list.iter() {
            p = params.update(p, a.correct);
            match history_of.get(a.id.as_str()).map(Vec::as_slice) {
                Some([h]) if h.key == *key && (h.p - p).abs() <= TOLERANCE => {}
                _ => history_bad += 1,
            }
        }
        let order: Vec<&str> = list.iter().map(|a| a.id.as_str()).collect();
        if applied_order.get(key).map(Vec::as_slice).unwrap_or_default() != order.as_slice() {
            reordered += 1;
        }
        match stored.get(key) {
            Some(&(sp, n)) => {
                max_delta = max_delta.max((sp - p).abs());
                if (sp - p).abs() > TOLERANCE || n != list.len() as i64 {
                    mismatched.push(format!(
                        "{key:?}: stored {sp} after {n}, replay {p} after {}",
                        list.len()
                    ));
                }
            }
            None => mismatched.push(format!("{key:?}: no mastery row")),
        }
    }
    let extra_rows = stored.keys().filter(|k| !sequences.contains_key(**k)).count();
    t.info("mastery rows", mastery_rows.len());
    t.info("  max |stored - replayed|", format!("{max_delta:.1e}"));
    t.zero("mastery rows unequal to the replay", mismatched.len());
    t.zero("mastery rows without attempts", extra_rows);
    t.zero("attempts without exactly one matching history row", history_bad);
    t.zero("keys whose updates were applied out of creation order", reordered);
    t.zero(
        "history rows of no stored attempt",
        history
            .iter()
            .filter(|h| !by_id.contains_key(h.attempt.as_str()))
            .count(),
    );
    examples("mastery mismatches", &mismatched);

    if let Some(path) = &args.tries {
        judge_tries(args, path, &mut t)?;
    }

    let verdict = if t.failed { "FAIL" } else { "PASS" };
    t.print(&format!("crash test, {}: {verdict}", args.label));
    println!(
        "summary {} keys={} acked={} in_doubt={} in_doubt_stored={} undelivered={} stored={} events={} lost={} \
         duplicated={} mismatched={} result={verdict}",
        args.label,
        acks.len(),
        count("acked"),
        count("in_doubt"),
        doubt_stored,
        count("undelivered"),
        attempts.len(),
        created.len(),
        lost.len() + missing_acked.len(),
        dup_keys.len() + doubled.len(),
        mismatched.len() + history_bad,
    );
    Ok(!t.failed)
}

/// One request as `crash_load --tries` recorded it.
struct Try {
    at: f64,
    ms: f64,
    status: Option<u64>,
    error_body: bool,
    retry_after: bool,
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

/// p50 / p99 / max of the requests' times, in ms.
fn latencies(tries: &[&Try]) -> String {
    let mut ms: Vec<f64> = tries.iter().map(|t| t.ms).collect();
    ms.sort_by(f64::total_cmp);
    format!(
        "{:.1} / {:.1} / {:.1}",
        percentile(&ms, 0.5),
        percentile(&ms, 0.99),
        ms.last().copied().unwrap_or(0.0)
    )
}

/// `--tries`: every request of the run against the outage's claims (see the module's doc).
fn judge_tries(args: &Args, path: &str, t: &mut Table) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
    let mut tries = Vec::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line).with_context(|| format!("{path}:{}", i + 1))?;
        tries.push(Try {
            at: v["atMs"].as_f64().unwrap_or_default(),
            ms: v["ms"].as_f64().unwrap_or_default(),
            status: v["status"].as_u64(),
            error_body: v["errorBody"].as_bool().unwrap_or(false),
            retry_after: v["retryAfter"].as_bool().unwrap_or(false),
        });
    }
    let (from, to) = args.outage.expect("checked with the arguments");
    let during: Vec<&Try> = tries.iter().filter(|r| r.at >= from && r.at < to).collect();
    let outside: Vec<&Try> = tries.iter().filter(|r| r.at < from || r.at >= to).collect();
    let status_is = |r: &Try, s: u64| r.status == Some(s);
    let other = |r: &Try| r.status.is_some_and(|s| s != 201 && s != 503);
    t.info("outage (s)", format!("{:.1}", (to - from) / 1000.0));
    t.info("requests", tries.len());
    t.info("  sent during the outage", during.len());
    t.info(
        "    answered 201 / 503 / other / none",
        format!(
            "{} / {} / {} / {}",
            during.iter().filter(|r| status_is(r, 201)).count(),
            during.iter().filter(|r| status_is(r, 503)).count(),
            during.iter().filter(|r| other(r)).count(),
            during.iter().filter(|r| r.status.is_none()).count()
        ),
    );
    t.info("  ms p50 / p99 / max, sent outside the outage", latencies(&outside));
    t.info("  ms p50 / p99 / max, sent during it", latencies(&during));
    t.zero(
        &format!("requests longer than {} ms (a hang)", args.hang_ms),
        tries.iter().filter(|r| r.ms > args.hang_ms).count(),
    );
    t.zero(
        "requests with no answer (connection error, client timeout)",
        tries.iter().filter(|r| r.status.is_none()).count(),
    );
    if args.outage_kind == "events" {
        t.zero(
            "requests not answered 201 (the sink is down, attempts are still taken)",
            tries.iter().filter(|r| r.status.is_some_and(|s| s != 201)).count(),
        );
        return Ok(());
    }
    let unavailable: Vec<&Try> = tries.iter().filter(|r| status_is(r, 503)).collect();
    t.zero(
        "answers other than 201 and 503",
        tries.iter().filter(|r| other(r)).count(),
    );
    t.zero(
        "503s without the JSON error body",
        unavailable.iter().filter(|r| !r.error_body).count(),
    );
    t.zero(
        "503s without Retry-After",
        unavailable.iter().filter(|r| !r.retry_after).count(),
    );
    t.zero(
        "outage without a single 503 (the fault did not bite)",
        usize::from(unavailable.is_empty()),
    );
    let end = |r: &Try| r.at + r.ms;
    let first_201 = tries
        .iter()
        .filter(|r| status_is(r, 201) && end(r) >= to)
        .map(end)
        .min_by(f64::total_cmp);
    match first_201 {
        Some(e) => t.info("database back -> first 201 (ms)", format!("{:.0}", e - to)),
        None => t.zero("database back, and no 201 after it", 1),
    }
    let late: Vec<f64> = unavailable
        .iter()
        .filter(|r| end(r) >= to)
        .map(|r| end(r) - to)
        .collect();
    t.info(
        "503s answered after the database was back (the last, ms after)",
        format!("{} ({:.0})", late.len(), late.iter().copied().fold(0.0, f64::max)),
    );
    Ok(())
}

/// `--probe`, run with the server dead: how many events the outbox still holds as unpublished
/// are on the stream already — published by the relay that was killed before it could mark
/// them, so the next relay publishes them again and JetStream must drop the copies.
async fn probe(args: &Args) -> anyhow::Result<()> {
    let db = Db::open(&args.database_url).await?;
    let unpublished: HashSet<String> = load!(
        &db,
        "SELECT event_id::text AS event_id FROM outbox WHERE published_at IS NULL",
        "SELECT event_id FROM outbox WHERE published_at IS NULL",
        |r| r.try_get::<String, _>("event_id")?
    )
    .into_iter()
    .collect();
    // What a relay published but did not mark is among the stream's last messages.
    let (_, tail) = read_stream(args, Some(unpublished.len() as u64 + 2048)).await?;
    let on_stream = tail
        .iter()
        .filter(|m| m.msg_id.as_ref().is_some_and(|id| unpublished.contains(id)))
        .count();
    println!("probe unpublished={} on_stream={on_stream}", unpublished.len());
    Ok(())
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = parse_args();
    if args.probe {
        return match probe(&args).await {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("crash_verify --probe: {e:#}");
                std::process::ExitCode::from(2)
            }
        };
    }
    match run(&args).await {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => std::process::ExitCode::from(1),
        Err(e) => {
            eprintln!("crash_verify ({}): could not check: {e:#}", args.label);
            std::process::ExitCode::from(2)
        }
    }
}
