//! The peer platform's 93 cases as bodies with their families, for the benchmark and the
//! instruction-count workload.

use diagnosis::{AttemptBody, Family};

pub const SUITE: &str = include_str!("../../tests/data/rule-engine-cases.jsonl");

pub fn peer_suite() -> Vec<(AttemptBody, Option<Family>)> {
    SUITE
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let case: serde_json::Value = serde_json::from_str(line).expect("suite line");
            let body = AttemptBody::from_json(&case["input"].to_string()).expect("suite body");
            (body, Family::from_code(case["topic"].as_str().expect("topic")))
        })
        .collect()
}
