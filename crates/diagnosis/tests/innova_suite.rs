//! The peer platform's own rule-engine suite (93 cases), run against this engine. Each case's
//! `topic` is the family to diagnose under; `expected_tag`, and where present
//! `expected_is_correct` and `expected_confidence`, must hold.

use diagnosis::{AttemptBody, Family, Options};
use serde_json::Value;

const CASES: &str = include_str!("data/rule-engine-cases.jsonl");

fn check_confidence(spec: &str, actual: f64) -> bool {
    let (op, v) = spec.split_at(2);
    let v: f64 = v.parse().expect("confidence bound");
    match op {
        "==" => (actual - v).abs() < 1e-9,
        ">=" => actual >= v,
        "<=" => actual <= v,
        _ => panic!("unknown comparison {spec}"),
    }
}

#[test]
fn the_peer_suite_passes_in_full() {
    let mut failures = Vec::new();
    let mut count = 0;
    for line in CASES.lines().filter(|l| !l.trim().is_empty()) {
        count += 1;
        let case: Value = serde_json::from_str(line).unwrap();
        let id = case["id"].as_str().unwrap();
        let family = Family::from_code(case["topic"].as_str().unwrap());
        let body = AttemptBody::from_json(&case["input"].to_string()).unwrap();
        let d = match body.diagnose_as(family, &Options::default()) {
            Ok(d) => d,
            Err(e) => {
                failures.push(format!("{id}: error {e}"));
                continue;
            }
        };
        let expected_tag = case["expected_tag"].as_str().unwrap();
        let mut problems = Vec::new();
        if d.error_tag_code != expected_tag {
            problems.push(format!("tag {} (want {expected_tag})", d.error_tag_code));
        }
        if let Some(ic) = case.get("expected_is_correct").and_then(Value::as_bool)
            && d.is_correct != ic
        {
            problems.push(format!("isCorrect {} (want {ic})", d.is_correct));
        }
        if let Some(spec) = case.get("expected_confidence").and_then(Value::as_str)
            && !check_confidence(spec, d.confidence)
        {
            problems.push(format!("confidence {} (want {spec})", d.confidence));
        }
        if !problems.is_empty() {
            failures.push(format!("{id}: {} — candidates {:?}", problems.join(", "), d.candidates));
        }
    }
    assert_eq!(count, 93);
    assert!(
        failures.is_empty(),
        "{} of 93 cases fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
