//! `practica solve`: the DESIGN.md contract (`--json` prints isCorrect, errorTagCode,
//! errorSubtag, solutions, steps; isCorrect null without an answer).

use std::process::Command;

use serde_json::Value;

fn solve(args: &[&str]) -> (i32, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_practica"))
        .arg("solve")
        .args(args)
        .output()
        .expect("run practica");
    let stdout = String::from_utf8_lossy(&out.stdout);
    (
        out.status.code().unwrap_or(-1),
        serde_json::from_str(&stdout).unwrap_or(Value::Null),
    )
}

#[test]
fn solves_and_checks_by_equivalence() {
    for answer in ["x=4", "4", "x = 8/2", "4.0", "4,0", "\\frac{8}{2}"] {
        let (code, out) = solve(&["--latex", "2x+3=11", "--answer", answer, "--json"]);
        assert_eq!(code, 0);
        assert_eq!(out["isCorrect"], true, "{answer}: {out}");
        assert_eq!(out["errorTagCode"], "CORRECT");
        assert_eq!(out["solutions"], serde_json::json!(["x = 4"]));
        assert_eq!(out["steps"].as_array().unwrap().len(), 2, "{out}");
    }
    // 2x = 11 + 3: the 3 crossed the = without changing sign.
    let (_, wrong) = solve(&["--latex", "2x+3=11", "--answer", "x=7", "--json"]);
    assert_eq!(wrong["isCorrect"], false);
    assert_eq!(
        wrong["errorTagCode"], "ALGEBRA_EQ_LINEAR_SIGN_FLIP_TRANSPOSE_G8",
        "{wrong}"
    );
    let (_, stepped) = solve(&[
        "--latex",
        "2(x+3)=10",
        "--answer",
        "x=7/2",
        "--steps",
        "2x+3=10",
        "--steps",
        "2x=7",
        "--json",
    ]);
    assert_eq!(stepped["isCorrect"], false);
    assert_eq!(stepped["firstWrongStep"], 0, "{stepped}");
    assert_eq!(stepped["studentSteps"].as_array().unwrap().len(), 2);
    let (_, noise) = solve(&["--latex", "2x+3=11", "--answer", "x=123", "--json"]);
    assert_eq!(noise["errorTagCode"], "UNCLASSIFIED", "{noise}");
    let (_, roots) = solve(&["--latex", "x^2-5x+6=0", "--answer", "x=3, x=2", "--json"]);
    assert_eq!(roots["isCorrect"], true, "{roots}");
    assert_eq!(roots["solutions"].as_array().unwrap().len(), 2);
    let (_, none) = solve(&["--latex", "2x+3=11", "--json"]);
    assert_eq!(none["isCorrect"], Value::Null);
    assert_eq!(none["errorTagCode"], Value::Null);
    let (code, bad) = solve(&["--latex", "2x+=", "--json"]);
    assert_eq!(code, 1);
    assert!(
        bad["error"].as_str().unwrap().contains("at "),
        "the position is named: {bad}"
    );
}
