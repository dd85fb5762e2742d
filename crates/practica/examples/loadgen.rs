//! A load generator for `POST /attempts`: many students (so mastery rows do not all contend),
//! closed loop (`--concurrency` clients as fast as they go) or open loop (`--rate` requests per
//! second, latency measured from when each request was due, so a slow server cannot hide its
//! queueing). Prints one JSON line: requests, errors, throughput, latency percentiles.
//!
//! `cargo run --release -p practica --example loadgen -- --url http://127.0.0.1:8080 --token T
//!  [--url http://127.0.0.1:8081 …] [--concurrency 32] [--seconds 20] [--rate 2000]
//!  [--students 10000] [--unexplained 0.0] [--steps 1] [--step-bytes 0]`
//!
//! `--url` given more than once: the requests go round-robin to the servers (request n to the
//! n-th modulo their count), as a round-robin balancer in front of several processes would.
//!
//! `--unexplained F`: the share of answers no procedure explains (they go PENDING, to the
//! asynchronous classifier); the rest are two right answers for one borrow bug.
//!
//! `--steps N --step-bytes B`: N steps instead of one, the N - 1 before the final one padded
//! to about B bytes each (large bodies: 100 steps of 1,000 bytes is the most an attempt holds).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;

struct Args {
    urls: Vec<String>,
    token: String,
    concurrency: usize,
    seconds: u64,
    rate: Option<f64>,
    students: u64,
    unexplained: f64,
    steps: usize,
    step_bytes: usize,
}

fn parse_args() -> Args {
    let mut a = Args {
        urls: Vec::new(),
        token: String::new(),
        concurrency: 32,
        seconds: 20,
        rate: None,
        students: 10_000,
        unexplained: 0.0,
        steps: 1,
        step_bytes: 0,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--url" => a.urls.push(value.trim_end_matches('/').to_string()),
            "--token" => a.token = value,
            "--concurrency" => a.concurrency = value.parse().expect("--concurrency"),
            "--seconds" => a.seconds = value.parse().expect("--seconds"),
            "--rate" => a.rate = Some(value.parse().expect("--rate")),
            "--students" => a.students = value.parse().expect("--students"),
            "--unexplained" => a.unexplained = value.parse().expect("--unexplained"),
            "--steps" => a.steps = value.parse().expect("--steps"),
            "--step-bytes" => a.step_bytes = value.parse().expect("--step-bytes"),
            _ => panic!("unknown flag {flag}"),
        }
    }
    if a.urls.is_empty() {
        a.urls.push("http://127.0.0.1:8080".into());
    }
    assert!(a.steps >= 1, "--steps must be at least 1");
    a
}

fn body(n: u64, args: &Args) -> String {
    let (students, unexplained) = (args.students, args.unexplained);
    let student = n.wrapping_mul(2_654_435_761) % students;
    let (a, b) = (50 + n % 900, 10 + n % 40);
    // Spread over n so that any share is met exactly over 1000 requests.
    let odd = ((n % 1000) as f64) < unexplained * 1000.0;
    let answer = if odd {
        (a - b) * 7 + 3
    } else if n.is_multiple_of(3) {
        a - b
    } else {
        a - b + 10
    };
    json!({
        "studentId": format!("stu_{student}"),
        "topicCode": "T-SUB-BORROW",
        "courseId": "crs_bench",
        "rawSteps": steps(a, b, args),
        "expectedAnswer": a - b,
        "studentAnswer": answer,
        "minuend": a,
        "subtrahend": b
    })
    .to_string()
}

/// The final step `a - b`, after `steps - 1` steps `a - b + 0 + 0 …` of about `step_bytes`.
fn steps(a: u64, b: u64, args: &Args) -> serde_json::Value {
    let mut padded = format!("{a} - {b}");
    while padded.len() + 4 <= args.step_bytes {
        padded.push_str(" + 0");
    }
    let mut steps: Vec<_> = (1..args.steps)
        .map(|_| json!({"expression": padded, "isFinal": false}))
        .collect();
    steps.push(json!({"expression": format!("{a} - {b}"), "isFinal": true}));
    serde_json::Value::Array(steps)
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
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
    let errors = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.seconds);
    let mut tasks = Vec::new();
    for _ in 0..args.concurrency {
        let (client, args, next, errors) = (client.clone(), args.clone(), next.clone(), errors.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies: Vec<u64> = Vec::with_capacity(100_000);
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                // Open loop: request n is due at n / rate; latency counts from then.
                let due = match args.rate {
                    Some(rate) => {
                        let due = started + Duration::from_secs_f64(n as f64 / rate);
                        if due > Instant::now() {
                            tokio::time::sleep_until(due.into()).await;
                        }
                        due
                    }
                    None => Instant::now(),
                };
                if due >= deadline {
                    break;
                }
                let r = client
                    .post(format!("{}/attempts", args.urls[n as usize % args.urls.len()]))
                    .bearer_auth(&args.token)
                    .header("content-type", "application/json")
                    .body(body(n, &args))
                    .send()
                    .await;
                match r {
                    Ok(resp) if resp.status().as_u16() == 201 => {
                        let _ = resp.bytes().await;
                    }
                    _ => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
                latencies.push(due.elapsed().as_micros() as u64);
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let elapsed = started.elapsed().as_secs_f64().min(args.seconds as f64 + 5.0);
    all.sort_unstable();
    let errors = errors.load(Ordering::Relaxed);
    println!(
        "{}",
        json!({
            "mode": if args.rate.is_some() { "open" } else { "closed" },
            "concurrency": args.concurrency,
            "servers": args.urls.len(),
            "target_rate": args.rate,
            "requests": all.len(),
            "errors": errors,
            "throughput_per_s": ((all.len() as u64 - errors) as f64 / elapsed).round(),
            "latency_ms": { "p50": percentile(&all, 0.50), "p90": percentile(&all, 0.90), "p99": percentile(&all, 0.99), "max": percentile(&all, 1.0) }
        })
    );
}
