//! Generates the labelled evaluation set and prints the report of docs/diagnosis.md:
//! accuracy per procedure, false diagnoses on unexplained answers, calibration.
//!
//! `cargo run --release -p diagnosis --example evaluate -- [CASES] [SEED]`

use std::collections::BTreeMap;

use diagnosis::evalset::{self, Label};
use diagnosis::{Options, UNCLASSIFIED};

#[derive(Default)]
struct Tally {
    n: u64,
    tag_ok: u64,
    subtag_ok: u64,
}

fn pct(a: u64, b: u64) -> String {
    if b == 0 {
        "—".into()
    } else {
        format!("{:.1}%", 100.0 * a as f64 / b as f64)
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(20_000);
    let seed: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(2026);
    let options = Options::default();
    let cases = evalset::generate(n, seed);

    let mut per_proc: BTreeMap<&str, Tally> = BTreeMap::new();
    let (mut unique, mut ambiguous) = (Tally::default(), Tally::default());
    let (mut correct_n, mut correct_ok) = (0u64, 0u64);
    let (mut noise_n, mut noise_false, mut coincidences) = (0u64, 0u64, 0u64);
    // Calibration over every wrong answer the engine tagged: confidence bucket -> (n, right).
    let mut buckets = [(0u64, 0u64); 10];
    let mut unclassified_buggy = 0u64;
    let mut errors = 0u64;
    for case in &cases {
        let d = match case.body.diagnose_as(Some(case.family), &options) {
            Ok(d) => d,
            Err(e) => {
                errors += 1;
                eprintln!("error on {:?}: {e}", case.body);
                continue;
            }
        };
        let tagged = !d.is_correct && d.error_tag_code != UNCLASSIFIED;
        let right = match &case.label {
            Label::Correct => {
                correct_n += 1;
                correct_ok += u64::from(d.is_correct && d.error_tag_code == "CORRECT");
                continue;
            }
            Label::Buggy {
                procedure,
                tag,
                explained_by,
            } => {
                let tag_ok = d.error_tag_code == *tag;
                let subtag_ok = d.error_subtag == Some(procedure.name());
                let t = if explained_by.len() == 1 {
                    &mut unique
                } else {
                    &mut ambiguous
                };
                t.n += 1;
                t.tag_ok += u64::from(tag_ok);
                t.subtag_ok += u64::from(subtag_ok);
                if explained_by.len() == 1 {
                    let p = per_proc.entry(procedure.name()).or_default();
                    p.n += 1;
                    p.tag_ok += u64::from(tag_ok);
                    p.subtag_ok += u64::from(subtag_ok);
                }
                if !tagged {
                    unclassified_buggy += 1;
                }
                tag_ok
            }
            Label::Random { explained_by } => {
                if explained_by.is_empty() {
                    noise_n += 1;
                    noise_false += u64::from(tagged);
                } else {
                    coincidences += 1;
                }
                false
            }
        };
        if tagged {
            let b = ((d.confidence * 10.0) as usize).min(9);
            buckets[b].0 += 1;
            buckets[b].1 += u64::from(right);
        }
    }

    println!(
        "Evaluation set: {} cases (seed {seed}), {} families; {errors} errors.\n",
        cases.len(),
        19
    );
    println!("| measure | cases | result | target |");
    println!("|---|---:|---:|---|");
    println!(
        "| buggy answers explained by exactly one procedure: top-1 tag | {} | {} | >= 97% |",
        unique.n,
        pct(unique.tag_ok, unique.n)
    );
    println!(
        "| same, top-1 procedure (errorSubtag) | {} | {} | |",
        unique.n,
        pct(unique.subtag_ok, unique.n)
    );
    println!(
        "| buggy answers several procedures explain: top-1 tag is the generating one | {} | {} | |",
        ambiguous.n,
        pct(ambiguous.tag_ok, ambiguous.n)
    );
    println!(
        "| buggy answers left UNCLASSIFIED | {} | {} | |",
        unique.n + ambiguous.n,
        pct(unclassified_buggy, unique.n + ambiguous.n)
    );
    println!(
        "| correct answers judged CORRECT | {correct_n} | {} | 100% |",
        pct(correct_ok, correct_n)
    );
    println!(
        "| random wrong answers no procedure explains: false diagnoses | {noise_n} | {} | <= 3% |",
        pct(noise_false, noise_n)
    );
    println!(
        "| random wrong answers that a procedure happens to produce | {} | {} | |",
        noise_n + coincidences,
        pct(coincidences, noise_n + coincidences)
    );
    println!("\nAccuracy per procedure (buggy answers only it explains):\n");
    println!("| procedure | cases | top-1 tag | top-1 procedure |");
    println!("|---|---:|---:|---:|");
    for (name, t) in &per_proc {
        println!(
            "| {name} | {} | {} | {} |",
            t.n,
            pct(t.tag_ok, t.n),
            pct(t.subtag_ok, t.n)
        );
    }
    println!("\nCalibration (every wrong answer the engine tagged; right = the tag of the procedure that made it):\n");
    println!("| reported confidence | answers | observed accuracy |");
    println!("|---|---:|---:|");
    for (i, (n, ok)) in buckets.iter().enumerate() {
        if *n > 0 {
            println!(
                "| {:.1}–{:.1} | {n} | {} |",
                i as f64 / 10.0,
                (i + 1) as f64 / 10.0,
                pct(*ok, *n)
            );
        }
    }
}
