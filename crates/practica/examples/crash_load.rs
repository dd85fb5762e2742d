//! The load side of the crash test (`scripts/crash-test.sh`): `POST /attempts` at a steady rate
//! for `--students` students while the server is killed and restarted under it. Every attempt
//! carries an `Idempotency-Key`; a request whose outcome is unknown (connection refused, reset,
//! timed out, 5xx) is retried with the same key and body once the server answers again, so a
//! 201 — fresh or the replay of the first response — acknowledges it. A share `--abandon` of the
//! requests that fail is not retried: their outcome stays unknown ("in doubt").
//!
//! A student has one attempt in flight at a time, as a learner does: their attempts are created
//! in the order they are made, so mastery can be replayed in creation order. The rate is held by
//! ticks that idle students take; a tick no student is free to take (everyone waiting for the
//! server) is skipped, not queued, so the load does not burst when the server comes back.
//!
//! Writes one JSON line per key to `--out` (`key`, `student`, `state`: `acked`, `in_doubt`,
//! `undelivered` — never reached the server: every try failed to connect — or `rejected`, with
//! `attemptId`, `tries`, `status`, and `lastFailedUs`: when the last failed try failed) and prints a JSON summary: counts, and the outages seen
//! (first failure to the next success, in ms).
//!
//! `cargo run --release -p practica --example crash_load -- --url http://127.0.0.1:8080 --token T
//!  --out acks.jsonl [--rate 200] [--students 100] [--seconds 20] [--settle 30] [--abandon 0.2]
//!  [--run ID] [--seed N] [--timeout 10] [--tries tries.jsonl]`
//!
//! `--tries` (the dependency-fault test, `scripts/fault-test.sh`) writes one JSON line per
//! request: `atMs` (when it was sent, ms since the epoch), `ms` (how long it took), `status` (or
//! null), `error` (`connect`, `timeout`, `other`, or null), and for a non-201 whether its body is
//! the service's JSON error (`errorBody`: `statusCode` equal to the status, `code`, `message`,
//! `traceId`) and carries `Retry-After` (`retryAfter`); `crash_verify --tries` judges them.
//!
//! Each key's body names the key as its `exerciseId` (an id no exercise has, so the client's
//! expected answer is used), so rows can be told apart per key without the idempotency table.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use tokio::sync::mpsc;

struct Args {
    url: String,
    token: String,
    out: String,
    rate: f64,
    students: u64,
    seconds: f64,
    settle: f64,
    abandon: f64,
    run: String,
    seed: u64,
    timeout: f64,
    tries: Option<String>,
}

fn parse_args() -> Args {
    let mut a = Args {
        url: "http://127.0.0.1:8080".into(),
        token: String::new(),
        out: "crash-acks.jsonl".into(),
        rate: 200.0,
        students: 100,
        seconds: 20.0,
        settle: 30.0,
        abandon: 0.2,
        run: format!("r{}", std::process::id()),
        seed: 1,
        timeout: 10.0,
        tries: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--url" => a.url = value,
            "--token" => a.token = value,
            "--out" => a.out = value,
            "--rate" => a.rate = value.parse().expect("--rate"),
            "--students" => a.students = value.parse().expect("--students"),
            "--seconds" => a.seconds = value.parse().expect("--seconds"),
            "--settle" => a.settle = value.parse().expect("--settle"),
            "--abandon" => a.abandon = value.parse().expect("--abandon"),
            "--run" => a.run = value,
            "--seed" => a.seed = value.parse().expect("--seed"),
            "--timeout" => a.timeout = value.parse().expect("--timeout"),
            "--tries" => a.tries = Some(value),
            _ => panic!("unknown flag {flag}"),
        }
    }
    assert!(a.rate > 0.0 && a.students > 0, "--rate and --students must be positive");
    assert!((0.0..=1.0).contains(&a.abandon), "--abandon must be in [0, 1]");
    a
}

/// The `k`-th attempt of `student`: a two-digit borrow subtraction answered right, or with the
/// borrow omitted (smaller digit from larger) — both explained by the rules, so the attempt is
/// CLASSIFIED at once and no asynchronous job is involved.
fn body(run: &str, student: u64, k: u64, key: &str) -> Value {
    let h = (student.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ k.wrapping_mul(0xC2B2_AE3D_27D4_EB4F)).rotate_left(17);
    let (t1, u1) = (3 + h % 7, h / 7 % 5); // tens 3..9, ones 0..4
    let (t2, u2) = (1 + h / 35 % (t1 - 1), 5 + h / 300 % 5); // tens below t1, ones 5..9
    let (a, b) = (10 * t1 + u1, 10 * t2 + u2);
    let correct = (h >> 40).is_multiple_of(2);
    let answer = if correct { a - b } else { 10 * (t1 - t2) + (u2 - u1) };
    json!({
        "studentId": format!("stu_{run}_{student}"),
        "topicCode": "T-SUB-BORROW",
        "exerciseId": key,
        // Two mastery rows per student: the course alternates.
        "courseId": format!("crs_crash_{}", k % 2),
        "rawSteps": [{"expression": format!("{a} - {b}"), "isFinal": false},
                     {"expression": format!("{a} - {b} = {answer}"), "isFinal": true}],
        "expectedAnswer": a - b,
        "studentAnswer": answer,
        "minuend": a,
        "subtrahend": b
    })
}

enum Outcome {
    Acked(String),
    Rejected(u16, String),
    /// Outcome unknown. `reached`: the request may have reached the server (anything but a
    /// failure to connect). `timeout`: the server may still be working on it.
    Failed {
        reached: bool,
        timeout: bool,
        what: String,
    },
}

#[derive(Default)]
struct Stats {
    sent: AtomicU64,
    tries: AtomicU64,
    acked: AtomicU64,
    acked_after_retry: AtomicU64,
    in_doubt: AtomicU64,
    undelivered: AtomicU64,
    rejected: AtomicU64,
    skipped_ticks: AtomicU64,
    connect_errors: AtomicU64,
    other_errors: AtomicU64,
    timeouts: AtomicU64,
    server_errors: AtomicU64,
}

/// Outages as the clients see them: from the first failure after a success to the next success.
#[derive(Default)]
struct Outages {
    down_since: Option<Instant>,
    seen: Vec<u128>,
}

struct Shared {
    args: Args,
    client: reqwest::Client,
    stats: Stats,
    outages: Mutex<Outages>,
    records: mpsc::UnboundedSender<Value>,
    /// One line per request, with `--tries`.
    tries: Option<mpsc::UnboundedSender<Value>>,
    ticks: tokio::sync::Mutex<mpsc::Receiver<()>>,
    give_up_at: Instant,
}

impl Shared {
    async fn try_once(&self, key: &str, body: &Value) -> Outcome {
        let at_ms = epoch_ms();
        let started = Instant::now();
        let (outcome, status, error, error_body, retry_after) = self.try_once_inner(key, body).await;
        if let Some(tries) = &self.tries {
            let _ = tries.send(json!({
                "atMs": at_ms,
                "ms": started.elapsed().as_secs_f64() * 1000.0,
                "status": status,
                "error": error,
                "errorBody": error_body,
                "retryAfter": retry_after,
            }));
        }
        outcome
    }

    /// The outcome, and for `--tries`: the status, the kind of client error, whether a non-201
    /// body is the JSON error shape, whether it had `Retry-After`.
    async fn try_once_inner(
        &self,
        key: &str,
        body: &Value,
    ) -> (Outcome, Option<u16>, Option<&'static str>, Option<bool>, Option<bool>) {
        self.stats.tries.fetch_add(1, Ordering::Relaxed);
        let kind = |e: &reqwest::Error| {
            Some(if e.is_timeout() {
                "timeout"
            } else if e.is_connect() {
                "connect"
            } else {
                "other"
            })
        };
        let sent = self
            .client
            .post(format!("{}/attempts", self.args.url))
            .bearer_auth(&self.args.token)
            .header("idempotency-key", key)
            .json(body)
            .send()
            .await;
        let resp = match sent {
            Ok(resp) => resp,
            Err(e) => return (self.failed(&e), None, kind(&e), None, None),
        };
        let status = resp.status().as_u16();
        let retry_after = (status != 201).then(|| resp.headers().contains_key("retry-after"));
        let text = match resp.text().await {
            Ok(text) => text,
            Err(e) => return (self.failed(&e), Some(status), kind(&e), None, retry_after),
        };
        let error_body = (status != 201).then(|| is_error_body(&text, status));
        let outcome = match status {
            201 => match serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|v| v["attemptId"].as_str().map(str::to_string))
            {
                Some(id) => Outcome::Acked(id),
                None => Outcome::Rejected(status, format!("201 without attemptId: {text}")),
            },
            500..=599 => {
                self.stats.server_errors.fetch_add(1, Ordering::Relaxed);
                Outcome::Failed {
                    reached: true,
                    timeout: false,
                    what: format!("{status} {text}"),
                }
            }
            _ => Outcome::Rejected(status, text),
        };
        (outcome, Some(status), None, error_body, retry_after)
    }

    fn failed(&self, e: &reqwest::Error) -> Outcome {
        let counter = if e.is_timeout() {
            &self.stats.timeouts
        } else if e.is_connect() {
            &self.stats.connect_errors
        } else {
            &self.stats.other_errors
        };
        counter.fetch_add(1, Ordering::Relaxed);
        let mut o = self.outages.lock().unwrap();
        o.down_since.get_or_insert_with(Instant::now);
        Outcome::Failed {
            // A failed connect (refused or timed out) sent nothing; anything later may have
            // been received.
            reached: !e.is_connect(),
            timeout: e.is_timeout() && !e.is_connect(),
            what: format!("{e:?}"),
        }
    }

    fn up(&self) {
        let mut o = self.outages.lock().unwrap();
        if let Some(since) = o.down_since.take() {
            o.seen.push(since.elapsed().as_millis());
        }
    }

    async fn student(self: Arc<Self>, student: u64) {
        let mut rng = rand::rngs::StdRng::seed_from_u64(self.args.seed ^ student.wrapping_mul(0x2545_F491_4F6C_DD1D));
        let mut k = 0u64;
        loop {
            // One waiting student takes the next tick; the others wait for the lock.
            if self.ticks.lock().await.recv().await.is_none() {
                return;
            }
            k += 1;
            let key = format!("{}-{student}-{k}", self.args.run);
            let body = body(&self.args.run, student, k, &key);
            self.stats.sent.fetch_add(1, Ordering::Relaxed);
            let mut tries = 0u32;
            let mut reached = false;
            // When the last failed try failed (µs since the epoch): a stored attempt created
            // before it was created by an earlier try, and the 201 that followed was a replay.
            let mut last_failed_us = None;
            let record = loop {
                tries += 1;
                match self.try_once(&key, &body).await {
                    Outcome::Acked(id) => {
                        self.up();
                        self.stats.acked.fetch_add(1, Ordering::Relaxed);
                        if tries > 1 {
                            self.stats.acked_after_retry.fetch_add(1, Ordering::Relaxed);
                        }
                        break json!({"key": key, "student": student, "state": "acked", "attemptId": id, "tries": tries,
                                     "lastFailedUs": last_failed_us});
                    }
                    Outcome::Rejected(status, text) => {
                        self.up();
                        self.stats.rejected.fetch_add(1, Ordering::Relaxed);
                        eprintln!("crash_load: {key} rejected: {status} {text}");
                        break json!({"key": key, "student": student, "state": "rejected", "status": status, "error": text, "tries": tries});
                    }
                    Outcome::Failed {
                        reached: r,
                        timeout,
                        what,
                    } => {
                        reached |= r;
                        last_failed_us = Some(
                            std::time::SystemTime::now()
                                .duration_since(std::time::UNIX_EPOCH)
                                .map_or(0, |d| d.as_micros() as u64),
                        );
                        // Abandoned on the first failure, or when the run is over. Not after a
                        // timeout: the server may still be at it, and the student's next attempt
                        // would then race it.
                        let abandon = !timeout && tries == 1 && rng.random_bool(self.args.abandon);
                        if abandon || Instant::now() >= self.give_up_at {
                            let state = if reached { "in_doubt" } else { "undelivered" };
                            let counter = if reached {
                                &self.stats.in_doubt
                            } else {
                                &self.stats.undelivered
                            };
                            counter.fetch_add(1, Ordering::Relaxed);
                            break json!({"key": key, "student": student, "state": state, "tries": tries, "error": what});
                        }
                        let pause = 100 + rng.random_range(0..100);
                        tokio::time::sleep(Duration::from_millis(pause)).await;
                    }
                }
            };
            let _ = self.records.send(record);
        }
    }
}

fn epoch_ms() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

/// Whether `text` is the service's error body for `status`: JSON with `statusCode` equal to it
/// and non-empty `code`, a `message` and a non-empty `traceId`.
fn is_error_body(text: &str, status: u16) -> bool {
    let Ok(v) = serde_json::from_str::<Value>(text) else {
        return false;
    };
    let nonempty = |k: &str| v[k].as_str().is_some_and(|s| !s.is_empty());
    v["statusCode"].as_u64() == Some(u64::from(status))
        && nonempty("code")
        && v["message"].is_string()
        && nonempty("traceId")
}

/// Writes the lines of `rx` to `path`, one JSON value per line.
fn write_lines(path: String, mut rx: mpsc::UnboundedReceiver<Value>) -> tokio::task::JoinHandle<()> {
    tokio::task::spawn_blocking(move || {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap_or_else(|e| panic!("{path}: {e}")));
        while let Some(r) = rx.blocking_recv() {
            writeln!(out, "{r}").expect("write");
        }
        out.flush().expect("write");
    })
}

#[tokio::main]
async fn main() {
    let args = parse_args();
    practica::install_tls_provider();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs_f64(args.timeout))
        .connect_timeout(Duration::from_secs(2))
        .pool_max_idle_per_host(args.students as usize)
        .build()
        .unwrap();
    let started = Instant::now();
    let (tick_tx, tick_rx) = mpsc::channel::<()>(4);
    let (rec_tx, rec_rx) = mpsc::unbounded_channel::<Value>();
    let writer = write_lines(args.out.clone(), rec_rx);
    let (tries_tx, tries_writer) = match &args.tries {
        Some(path) => {
            let (tx, rx) = mpsc::unbounded_channel::<Value>();
            (Some(tx), Some(write_lines(path.clone(), rx)))
        }
        None => (None, None),
    };
    let shared = Arc::new(Shared {
        give_up_at: started + Duration::from_secs_f64(args.seconds + args.settle),
        client,
        stats: Stats::default(),
        outages: Mutex::new(Outages::default()),
        records: rec_tx,
        tries: tries_tx,
        ticks: tokio::sync::Mutex::new(tick_rx),
        args,
    });
    let students: Vec<_> = (0..shared.args.students)
        .map(|s| tokio::spawn(shared.clone().student(s)))
        .collect();

    // Tick n is due at n / rate; the sender is dropped at the end, which stops the students
    // once their attempt in hand is settled.
    let end = started + Duration::from_secs_f64(shared.args.seconds);
    let mut n = 0u64;
    loop {
        let due = started + Duration::from_secs_f64(n as f64 / shared.args.rate);
        if due >= end {
            break;
        }
        tokio::time::sleep_until(due.into()).await;
        if tick_tx.try_send(()).is_err() {
            shared.stats.skipped_ticks.fetch_add(1, Ordering::Relaxed);
        }
        n += 1;
    }
    drop(tick_tx);
    for s in students {
        s.await.unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let shared = Arc::into_inner(shared).expect("students done");
    let Shared {
        stats,
        outages,
        records,
        tries,
        ..
    } = shared;
    drop(records);
    drop(tries);
    writer.await.unwrap();
    if let Some(w) = tries_writer {
        w.await.unwrap();
    }
    let outages = outages.into_inner().unwrap();
    let unresolved = outages.down_since.map(|t| t.elapsed().as_millis());
    let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
    println!(
        "{}",
        json!({
            "ticks": n,
            "skipped_ticks": get(&stats.skipped_ticks),
            "keys": get(&stats.sent),
            "tries": get(&stats.tries),
            "acked": get(&stats.acked),
            "acked_after_retry": get(&stats.acked_after_retry),
            "in_doubt": get(&stats.in_doubt),
            "undelivered": get(&stats.undelivered),
            "rejected": get(&stats.rejected),
            "errors": {
                "connect": get(&stats.connect_errors),
                "timeout": get(&stats.timeouts),
                "other": get(&stats.other_errors),
                "5xx": get(&stats.server_errors),
            },
            "outages_ms": outages.seen,
            "down_at_end_ms": unresolved,
            "elapsed_s": (elapsed * 10.0).round() / 10.0,
        })
    );
}
