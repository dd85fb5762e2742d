//! Classifications per second: the peer's 93-case suite and the generated evaluation set, each
//! case a full ranked search (every procedure of the family run and ranked, compositions when
//! nothing single explains the answer). Figures in docs/diagnosis.md.
//!
//! `cargo bench -p diagnosis --bench classify`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use diagnosis::{AttemptBody, Family, Number, Options, Step, diagnose, evalset};
use std::hint::black_box;

#[path = "support/suite.rs"]
mod suite;

/// An attempt with its numbers already read: what the engine gets from the request layer.
struct Prepared {
    family: Option<Family>,
    expected: Number,
    answer: Number,
    operands: Option<(Number, Number)>,
    steps: Vec<String>,
}

fn prepare(body: &AttemptBody, family: Option<Family>) -> Prepared {
    Prepared {
        family,
        expected: body.expected_answer.to_number().unwrap(),
        answer: body.student_answer.to_number().unwrap(),
        operands: match (&body.minuend, &body.subtrahend) {
            (Some(a), Some(b)) => Some((a.to_number().unwrap(), b.to_number().unwrap())),
            _ => None,
        },
        steps: body.raw_steps.iter().map(|s| s.expression.clone()).collect(),
    }
}

fn suite() -> Vec<Prepared> {
    suite::peer_suite()
        .iter()
        .map(|(body, family)| prepare(body, *family))
        .collect()
}

fn generated() -> Vec<Prepared> {
    evalset::generate(2_000, 7)
        .iter()
        .map(|c| prepare(&c.body, Some(c.family)))
        .collect()
}

fn run_all(cases: &[Prepared], options: &Options) -> usize {
    let mut tagged = 0;
    for c in cases {
        let steps: Vec<Step<'_>> = c
            .steps
            .iter()
            .map(|e| Step {
                expression: e,
                is_final: false,
            })
            .collect();
        let attempt = diagnosis::Attempt {
            family: c.family,
            expected: Some(c.expected),
            answer: c.answer,
            operands: c.operands,
            steps: &steps,
        };
        let d = diagnose(black_box(&attempt), options).unwrap();
        tagged += usize::from(d.confidence > 0.0);
    }
    tagged
}

fn bench(c: &mut Criterion) {
    let options = Options::default();
    let mut group = c.benchmark_group("classify");
    for (name, cases) in [("peer-suite-93", suite()), ("generated-2000", generated())] {
        group.throughput(Throughput::Elements(cases.len() as u64));
        group.bench_function(name, |b| b.iter(|| run_all(&cases, &options)));
    }
    // Baseline in the same run: single procedures only, no composition search.
    let singles = Options {
        compositions: false,
        ..Options::default()
    };
    let cases = suite();
    group.throughput(Throughput::Elements(cases.len() as u64));
    group.bench_function("peer-suite-93-no-compositions", |b| {
        b.iter(|| run_all(&cases, &singles))
    });
    // The request path too: numbers read from the JSON fields on every call.
    let bodies = suite::peer_suite();
    group.throughput(Throughput::Elements(bodies.len() as u64));
    group.bench_function("peer-suite-93-from-body", |b| {
        b.iter(|| {
            bodies
                .iter()
                .filter(|(body, f)| body.diagnose_as(*f, &options).is_ok())
                .count()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
