//! Latency of the simulation-attempt API over HTTP: `--concurrency` clients in a closed loop,
//! each playing turns of the test bundle's practice (learner `stu_ana`, practice `prac-1`):
//! `start` → 3 × `message` (no AI provider: the scenario's scripted lines answer) → `end` with
//! `grade: true` (the rule grader) → `get`. Each round also times, with the same clients,
//! `POST /attempts` (the exercise API, the load generator's body) and `GET /healthz`, so the
//! figures have a reference measured in the same session on the same (noisy) machine.
//!
//! Rounds: `--rounds` times [turns for `--seconds`, `POST /attempts` for `--baseline-seconds`,
//! `GET /healthz` for half that], after a short warm-up that is not counted. Percentiles pool
//! every round's samples; rates are the median of the rounds. Prints one JSON line.
//!
//! `cargo run --release -p practica --example sim_turns -- --url http://127.0.0.1:8080
//!  --learner-token T --admin-token A [--concurrency 1] [--rounds 3] [--seconds 3]
//!  [--baseline-seconds 1.5] [--practice prac-1]`

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The learner's lines: the first scenario's rubric finds empathy ("that sounds") and a
/// concrete plan ("by Friday") in them, so the rule grader gives 10 of 10.
const LINES: [&str; 3] = [
    "Hi, how can I help?",
    "That sounds stressful. What happened?",
    "Let's set a new date: hand it in by Friday.",
];
const EXPECTED_SCORE: i64 = 10;

struct Args {
    url: String,
    learner_token: String,
    admin_token: String,
    practice: String,
    concurrency: usize,
    rounds: usize,
    seconds: f64,
    baseline_seconds: f64,
}

fn parse_args() -> Args {
    let mut a = Args {
        url: "http://127.0.0.1:8080".into(),
        learner_token: String::new(),
        admin_token: String::new(),
        practice: "prac-1".into(),
        concurrency: 1,
        rounds: 3,
        seconds: 3.0,
        baseline_seconds: 1.5,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--url" => a.url = value,
            "--learner-token" => a.learner_token = value,
            "--admin-token" => a.admin_token = value,
            "--practice" => a.practice = value,
            "--concurrency" => a.concurrency = value.parse().expect("--concurrency"),
            "--rounds" => a.rounds = value.parse().expect("--rounds"),
            "--seconds" => a.seconds = value.parse().expect("--seconds"),
            "--baseline-seconds" => a.baseline_seconds = value.parse().expect("--baseline-seconds"),
            _ => panic!("unknown flag {flag}"),
        }
    }
    assert!(
        a.concurrency >= 1 && a.rounds >= 1,
        "--concurrency and --rounds must be at least 1"
    );
    a
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

fn summary(samples: &mut [u64]) -> Value {
    samples.sort_unstable();
    json!({
        "n": samples.len(),
        "p50": percentile(samples, 0.50),
        "p99": percentile(samples, 0.99),
        "max": percentile(samples, 1.0),
    })
}

/// One simulation operation: its latency in µs (send to the whole body read) and the body, or
/// None when it failed (transport error, a status other than 200, a body that is not JSON).
async fn sim_op(client: &reqwest::Client, args: &Args, name: &str, body: Value) -> Option<(u64, Value)> {
    let t = Instant::now();
    let r = client
        .post(format!("{}/api/v5/artifacts/attempt/{name}", args.url))
        .bearer_auth(&args.learner_token)
        .json(&body)
        .send()
        .await
        .ok()?;
    let status = r.status().as_u16();
    let value: Value = r.json().await.ok()?;
    let us = t.elapsed().as_micros() as u64;
    if status != 200 {
        eprintln!("{name}: {status} {value}");
        return None;
    }
    Some((us, value))
}

#[derive(Default)]
struct Turns {
    start: Vec<u64>,
    message: Vec<u64>,
    end: Vec<u64>,
    get: Vec<u64>,
    turn: Vec<u64>,
    errors: u64,
}

impl Turns {
    fn extend(&mut self, other: Turns) {
        self.start.extend(other.start);
        self.message.extend(other.message);
        self.end.extend(other.end);
        self.get.extend(other.get);
        self.turn.extend(other.turn);
        self.errors += other.errors;
    }
}

/// One turn: start → 3 × message → end with grade → get. Latencies go into `out` as they come;
/// false when an operation failed or answered something unexpected (the turn is abandoned).
async fn turn(client: &reqwest::Client, args: &Args, out: &mut Turns) -> bool {
    let t = Instant::now();
    let Some((us, started)) = sim_op(client, args, "start", json!({"practice_id": args.practice})).await else {
        return false;
    };
    out.start.push(us);
    let (Some(attempt), Some(chat)) = (
        started["attempt_id"].as_str().map(str::to_owned),
        started["attempt_chat_id"].as_str().map(str::to_owned),
    ) else {
        eprintln!("start answered {started}");
        return false;
    };
    for line in LINES {
        let body = json!({"attempt_id": attempt, "chat_id": chat, "message": line});
        let Some((us, reply)) = sim_op(client, args, "message", body).await else {
            return false;
        };
        out.message.push(us);
        if !reply["assistant_content"].is_string() {
            eprintln!("message answered {reply}");
            return false;
        }
    }
    let body = json!({"attempt_id": attempt, "chat_id": chat, "grade": true});
    let Some((us, ended)) = sim_op(client, args, "end", body).await else {
        return false;
    };
    out.end.push(us);
    if ended["score"].as_i64() != Some(EXPECTED_SCORE) {
        eprintln!("end answered {ended}");
        return false;
    }
    let Some((us, got)) = sim_op(client, args, "get", json!({"attempt_id": attempt})).await else {
        return false;
    };
    out.get.push(us);
    if got["entries"]["attempt_message"].as_array().map(Vec::len) != Some(2 * LINES.len()) {
        eprintln!("get answered {}", got["entries"]);
        return false;
    }
    out.turn.push(t.elapsed().as_micros() as u64);
    true
}

/// The load generator's `POST /attempts` body (a borrow bug, explained on the spot).
fn attempt_body(n: u64) -> Value {
    let student = n.wrapping_mul(2_654_435_761) % 10_000;
    let (a, b) = (50 + n % 900, 10 + n % 40);
    let answer = if n.is_multiple_of(3) { a - b } else { a - b + 10 };
    json!({
        "studentId": format!("stu_{student}"),
        "topicCode": "T-SUB-BORROW",
        "courseId": "crs_bench",
        "rawSteps": [{"expression": format!("{a} - {b}"), "isFinal": true}],
        "expectedAnswer": a - b,
        "studentAnswer": answer,
        "minuend": a,
        "subtrahend": b
    })
}

#[derive(Clone, Copy)]
enum Baseline {
    Attempts,
    Healthz,
}

/// One request of a baseline: its latency in µs, or None on an error.
async fn baseline_op(client: &reqwest::Client, args: &Args, kind: Baseline, n: u64) -> Option<u64> {
    let t = Instant::now();
    let r = match kind {
        Baseline::Attempts => client
            .post(format!("{}/attempts", args.url))
            .bearer_auth(&args.admin_token)
            .json(&attempt_body(n))
            .send()
            .await
            .ok()?,
        Baseline::Healthz => client.get(format!("{}/healthz", args.url)).send().await.ok()?,
    };
    let ok = r.status().is_success();
    let _ = r.bytes().await.ok()?;
    ok.then(|| t.elapsed().as_micros() as u64)
}

/// `concurrency` clients playing turns until `seconds` have passed (a turn begun goes on to its
/// end). Returns the samples and the time from the first start to the last end.
async fn run_turns(client: &reqwest::Client, args: &Arc<Args>, seconds: f64) -> (Turns, f64) {
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(seconds);
    let mut tasks = Vec::new();
    for _ in 0..args.concurrency {
        let (client, args) = (client.clone(), args.clone());
        tasks.push(tokio::spawn(async move {
            let mut out = Turns::default();
            while Instant::now() < deadline {
                if !turn(&client, &args, &mut out).await {
                    out.errors += 1;
                }
            }
            out
        }));
    }
    let mut all = Turns::default();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    (all, started.elapsed().as_secs_f64())
}

/// `concurrency` clients sending one baseline request after another for `seconds`.
async fn run_baseline(
    client: &reqwest::Client,
    args: &Arc<Args>,
    kind: Baseline,
    seconds: f64,
    next: &Arc<AtomicU64>,
) -> (Vec<u64>, u64, f64) {
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(seconds);
    let mut tasks = Vec::new();
    for _ in 0..args.concurrency {
        let (client, args, next) = (client.clone(), args.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let (mut took, mut errors) = (Vec::new(), 0u64);
            while Instant::now() < deadline {
                let n = next.fetch_add(1, Ordering::Relaxed);
                match baseline_op(&client, &args, kind, n).await {
                    Some(us) => took.push(us),
                    None => errors += 1,
                }
            }
            (took, errors)
        }));
    }
    let (mut all, mut errors) = (Vec::new(), 0);
    for t in tasks {
        let (took, e) = t.await.unwrap();
        all.extend(took);
        errors += e;
    }
    (all, errors, started.elapsed().as_secs_f64())
}

#[tokio::main]
async fn main() {
    let args = Arc::new(parse_args());
    practica::install_tls_provider();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency * 2)
        .build()
        .unwrap();
    let next = Arc::new(AtomicU64::new(0));

    // Warm-up: connections, statement caches, the first rows. Not counted.
    let (warm, _) = run_turns(&client, &args, 0.5).await;
    assert!(
        !warm.turn.is_empty(),
        "no turn succeeded in the warm-up (is the bundle imported, is the token stu_ana's?)"
    );
    run_baseline(&client, &args, Baseline::Attempts, 0.3, &next).await;

    let mut turns = Turns::default();
    let (mut attempts, mut health) = (Vec::new(), Vec::new());
    let (mut attempt_errors, mut health_errors) = (0, 0);
    let (mut turn_rates, mut op_rates, mut attempt_rates, mut health_rates) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..args.rounds {
        let (round, elapsed) = run_turns(&client, &args, args.seconds).await;
        let ops = round.start.len() + round.message.len() + round.end.len() + round.get.len();
        turn_rates.push(round.turn.len() as f64 / elapsed);
        op_rates.push(ops as f64 / elapsed);
        turns.extend(round);

        let (took, errors, elapsed) =
            run_baseline(&client, &args, Baseline::Attempts, args.baseline_seconds, &next).await;
        attempt_rates.push(took.len() as f64 / elapsed);
        attempts.extend(took);
        attempt_errors += errors;

        let (took, errors, elapsed) =
            run_baseline(&client, &args, Baseline::Healthz, args.baseline_seconds / 2.0, &next).await;
        health_rates.push(took.len() as f64 / elapsed);
        health.extend(took);
        health_errors += errors;
    }
    let round1 = |v: f64| (v * 10.0).round() / 10.0;
    println!(
        "{}",
        json!({
            "concurrency": args.concurrency,
            "rounds": args.rounds,
            "seconds_each": args.seconds,
            "turns": turns.turn.len(),
            "turn_errors": turns.errors,
            "turns_per_s": round1(median(&mut turn_rates)),
            "ops_per_s": round1(median(&mut op_rates)),
            "ops_per_s_rounds": op_rates.iter().map(|r| round1(*r)).collect::<Vec<_>>(),
            "ms": {
                "start": summary(&mut turns.start),
                "message": summary(&mut turns.message),
                "end_grade": summary(&mut turns.end),
                "get": summary(&mut turns.get),
                "turn": summary(&mut turns.turn),
                "post_attempts": summary(&mut attempts),
                "healthz": summary(&mut health),
            },
            "post_attempts_per_s": round1(median(&mut attempt_rates)),
            "post_attempts_errors": attempt_errors,
            "healthz_per_s": round1(median(&mut health_rates)),
            "healthz_errors": health_errors,
        })
    );
}
