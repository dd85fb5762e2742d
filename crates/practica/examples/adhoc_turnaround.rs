//! Turnaround of `POST /attempts/solve-adhoc`: from the POST until `GET /attempts/:id/status`
//! says CLASSIFIED, for a mix of problems (linear with steps, quadratic, proportion, percent,
//! an unreadable one), `--concurrency` clients in a closed loop, polling every `--poll-ms`.
//! Prints one JSON line: attempts, errors, throughput, turnaround percentiles (ms).
//!
//! `cargo run --release -p practica --example adhoc_turnaround -- --url http://127.0.0.1:8080
//!  --token T [--concurrency 4] [--attempts 400] [--poll-ms 5]`

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const PROBLEMS: &[(&str, &str, &[&str])] = &[
    ("2x + 3 = 11", "x = 7", &["2x = 11 + 3", "2x = 14", "x = 7"]),
    ("2x + 3 = 11", "x = 4", &["2x = 8", "x = 4"]),
    ("3(x - 2) = 2x + 5", "x = 11", &["3x - 6 = 2x + 5", "x = 11"]),
    ("x^2 - 5x + 6 = 0", "x = 2, x = 3", &[]),
    ("x^2 - 2x - 2 = 0", "x = 1 \\pm \\sqrt{3}", &[]),
    ("\\frac{x}{4} = \\frac{6}{8}", "x = 3", &[]),
    ("15\\% \\text{ de } 200", "30", &[]),
    ("\\frac{1}{2} + \\frac{1}{3}", "\\frac{2}{5}", &[]),
    ("-2x + 1 > 9", "x > -4", &[]),
    ("2x + = 11", "x = 4", &[]),
];

struct Args {
    url: String,
    token: String,
    concurrency: usize,
    attempts: u64,
    poll: Duration,
}

fn parse_args() -> Args {
    let mut a = Args {
        url: "http://127.0.0.1:8080".into(),
        token: String::new(),
        concurrency: 4,
        attempts: 400,
        poll: Duration::from_millis(5),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--url" => a.url = value,
            "--token" => a.token = value,
            "--concurrency" => a.concurrency = value.parse().expect("--concurrency"),
            "--attempts" => a.attempts = value.parse().expect("--attempts"),
            "--poll-ms" => a.poll = Duration::from_millis(value.parse().expect("--poll-ms")),
            _ => panic!("unknown flag {flag}"),
        }
    }
    a
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

/// One problem posted and polled to CLASSIFIED: its turnaround in µs, or None on an error.
async fn one(client: &reqwest::Client, args: &Args, n: u64) -> Option<u64> {
    let (problem, answer, steps) = PROBLEMS[(n as usize) % PROBLEMS.len()];
    let start = Instant::now();
    let created: Value = client
        .post(format!("{}/attempts/solve-adhoc", args.url))
        .bearer_auth(&args.token)
        .json(&json!({
            "studentId": format!("stu_{}", n % 500),
            "problemLatex": problem,
            "studentFinalAnswer": answer,
            "studentSteps": steps,
            "courseId": "crs_bench",
        }))
        .send()
        .await
        .ok()?
        .json()
        .await
        .ok()?;
    let id = created["attemptId"].as_str()?.to_string();
    // Give up on one attempt after 30 s: the spec's polling cap.
    while start.elapsed() < Duration::from_secs(30) {
        let status: Value = client
            .get(format!("{}/attempts/{id}/status", args.url))
            .bearer_auth(&args.token)
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        if status["status"] == "CLASSIFIED" {
            return Some(start.elapsed().as_micros() as u64);
        }
        tokio::time::sleep(args.poll).await;
    }
    None
}

#[tokio::main]
async fn main() {
    let args = Arc::new(parse_args());
    practica::install_tls_provider();
    let client = reqwest::Client::new();
    let next = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..args.concurrency {
        let (client, args, next, errors) = (client.clone(), args.clone(), next.clone(), errors.clone());
        tasks.push(tokio::spawn(async move {
            let mut took = Vec::new();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= args.attempts {
                    break;
                }
                match one(&client, &args, n).await {
                    Some(us) => took.push(us),
                    None => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            took
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort_unstable();
    println!(
        "{}",
        json!({
            "concurrency": args.concurrency,
            "attempts": all.len(),
            "errors": errors.load(Ordering::Relaxed),
            "throughput_per_s": (all.len() as f64 / elapsed).round(),
            "turnaround_ms": { "p50": percentile(&all, 0.50), "p90": percentile(&all, 0.90), "p99": percentile(&all, 0.99), "max": percentile(&all, 1.0) }
        })
    );
}
