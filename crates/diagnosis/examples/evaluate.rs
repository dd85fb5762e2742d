//! Generates the labelled evaluation set and prints the report of docs/diagnosis.md:
//! accuracy per procedure, false diagnoses on unexplained answers, calibration, and what the
//! deep search (asynchronous classifier) adds on the answers the engine leaves UNCLASSIFIED.
//!
//! `cargo run --release -p diagnosis --example evaluate -- [CASES] [SEED]`

use diagnosis::Options;
use diagnosis::evalset::{self, DeepReport, DeepTally, Tally};

fn pct(x: f64) -> String {
    format!("{:.1}%", 100.0 * x)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(20_000);
    let seed: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(2026);
    let cases = evalset::generate(n, seed);
    let started = std::time::Instant::now();
    let r = evalset::evaluate(&cases, &Options::default());
    let elapsed = started.elapsed();
    let buggy = r.unique.cases + r.ambiguous.cases;
    println!(
        "Evaluation set: {} cases (seed {seed}), 19 families, {} errors; diagnosed in {:.0} ms.\n",
        r.cases,
        r.errors,
        elapsed.as_secs_f64() * 1000.0
    );
    println!("| measure | cases | result | target |");
    println!("|---|---:|---:|---|");
    let row = |what: &str, t: &Tally, target: &str| {
        println!("| {what} | {} | {} | {target} |", t.cases, pct(t.tag_accuracy()));
    };
    row(
        "buggy answers exactly one procedure explains: top-1 tag",
        &r.unique,
        ">= 97%",
    );
    println!(
        "| same: top-1 procedure (errorSubtag) | {} | {} | |",
        r.unique.cases,
        pct(r.unique.procedure_accuracy())
    );
    row(
        "buggy answers several procedures explain: top-1 tag is the generating one's",
        &r.ambiguous,
        "",
    );
    println!(
        "| buggy answers left UNCLASSIFIED | {buggy} | {} | |",
        pct(r.buggy_unclassified as f64 / buggy.max(1) as f64)
    );
    row("correct answers judged CORRECT", &r.correct, "100%");
    println!(
        "| random wrong answers no procedure explains: false diagnoses | {} | {} | <= 3% |",
        r.unexplained.cases,
        pct(r.false_diagnosis_rate())
    );
    let random = r.unexplained.cases + r.coincidences;
    println!(
        "| random wrong answers a procedure happens to produce | {random} | {} | |",
        pct(r.coincidences as f64 / random.max(1) as f64)
    );
    println!("\nAccuracy per procedure (buggy answers only that procedure produces):\n");
    println!("| procedure | cases | top-1 tag | top-1 procedure |");
    println!("|---|---:|---:|---:|");
    for (name, t) in &r.per_procedure {
        println!(
            "| {name} | {} | {} | {} |",
            t.cases,
            pct(t.tag_accuracy()),
            pct(t.procedure_accuracy())
        );
    }
    println!("\nCalibration (every wrong answer the engine tagged; right = the tag of the procedure that made it):\n");
    println!("| reported confidence | answers | observed accuracy |");
    println!("|---|---:|---:|");
    for (i, (n, ok)) in r.calibration.iter().enumerate() {
        if *n > 0 {
            println!(
                "| {:.1}–{:.1} | {n} | {} |",
                i as f64 / 10.0,
                (i + 1) as f64 / 10.0,
                pct(*ok as f64 / *n as f64)
            );
        }
    }
    deep_section(n, seed, &cases);
}

fn pct2(x: f64) -> String {
    format!("{:.2}%", 100.0 * x)
}

fn deep_rows(set: &str, r: &DeepReport) {
    let row = |what: &str, t: &DeepTally| {
        if t.unclassified > 0 {
            println!(
                "| {set} | {what} | {} | {} ({}) | {} ({}) | {} |",
                t.unclassified,
                t.right,
                pct2(t.right_rate()),
                t.wrong,
                pct2(t.wrong_rate()),
                t.unclassified - t.right - t.wrong
            );
        }
    };
    row("buggy, one procedure explains", &r.unique);
    row("buggy, several procedures explain", &r.ambiguous);
    row("random, no procedure explains", &r.noise);
    row("random, a procedure happens to produce", &r.coincidences);
}

/// The deep search on the same set and on `generate_deep` (multi-step and other-operation
/// versions of its wrong answers).
fn deep_section(n: usize, seed: u64, cases: &[evalset::Case]) {
    let options = Options::default();
    let standard = evalset::evaluate_deep(cases, &options);
    let multi = evalset::generate_deep(n, seed);
    let deep = evalset::evaluate_deep(&multi, &options);
    println!(
        "\nDeep search on the wrong answers the engine leaves UNCLASSIFIED (the set above, and the {} wrong answers of `generate_deep({n}, {seed})`; {} errors):\n",
        deep.cases,
        standard.errors + deep.errors
    );
    println!(
        "| set | answers | left UNCLASSIFIED by the engine | deep search: right tag | another tag (random: any) | still UNCLASSIFIED |"
    );
    println!("|---|---|---:|---:|---:|---:|");
    deep_rows("generated", &standard);
    deep_rows("multi-step / other operation", &deep);
    println!("\nBy deciding strategy (right / other tag), both sets:\n");
    println!("| strategy | right | other tag |");
    println!("|---|---:|---:|");
    let mut per = standard.per_strategy.clone();
    for (k, (right, wrong)) in &deep.per_strategy {
        let e = per.entry(k).or_default();
        e.0 += right;
        e.1 += wrong;
    }
    for (k, (right, wrong)) in &per {
        println!("| {k} | {right} | {wrong} |");
    }
    let runs = [&standard, &deep]
        .iter()
        .map(|r| r.unique.unclassified + r.ambiguous.unclassified + r.noise.unclassified + r.coincidences.unclassified)
        .sum::<u64>();
    let time = standard.deep_time + deep.deep_time;
    println!(
        "\nDeep search time: {:.1} ms for {runs} attempts ({:.1} µs each).",
        time.as_secs_f64() * 1000.0,
        time.as_secs_f64() * 1e6 / runs.max(1) as f64
    );
}
