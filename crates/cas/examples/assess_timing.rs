//! Time per `cas::assess` on a typical linear equation with three steps:
//! `cargo run --release -p cas --example assess_timing [iterations]`.
//!
//! Prints the median of 15 rounds, for a correct attempt and for a wrong one (whose wrong step
//! and answer run every procedure of the library).

use std::hint::black_box;
use std::time::Instant;

fn per_call(iterations: u32, f: &dyn Fn()) -> f64 {
    let mut rounds: Vec<f64> = (0..15)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..iterations {
                f();
            }
            t.elapsed().as_secs_f64() * 1e6 / f64::from(iterations)
        })
        .collect();
    rounds.sort_by(f64::total_cmp);
    rounds[rounds.len() / 2]
}

fn main() {
    let iterations: u32 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(2_000);
    let correct = || {
        black_box(cas::assess("2x + 3 = 11", Some("x = 4"), &["2x = 11 - 3", "2x = 8", "x = 4"]).ok());
    };
    let wrong = || {
        black_box(cas::assess("2x + 3 = 11", Some("x = 7"), &["2x = 11 + 3", "2x = 14", "x = 7"]).ok());
    };
    let answer_only = || {
        black_box(cas::assess("5x - 4 = 2x + 8", Some("x = 12/7"), &[]).ok());
    };
    println!(
        "2x + 3 = 11, 3 correct steps, correct answer: {:.1} µs per assess",
        per_call(iterations, &correct)
    );
    println!(
        "2x + 3 = 11, wrong step then 2 steps, wrong answer: {:.1} µs per assess",
        per_call(iterations, &wrong)
    );
    println!(
        "5x - 4 = 2x + 8, wrong answer, no steps: {:.1} µs per assess",
        per_call(iterations, &answer_only)
    );
}
