//! `practica mastery fit` on a response log in pyBKT's columns: parameters recovered from data
//! generated with known ones; malformed rows reported by line, skipped or (with --strict) fatal.

use std::io::Write;
use std::process::Command;

use serde_json::Value;

fn practica(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_practica"))
        .args(args)
        .output()
        .expect("run practica");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A CSV of `students` × `skills` × `opportunities` responses from known parameters, rows of
/// different students and skills interleaved (pyBKT's files are in time order, not grouped).
fn synthetic_csv(students: usize, skills: usize, opportunities: usize) -> (Vec<mastery::BktParams>, String) {
    let (truth, data) = mastery::synth::generate(students, skills, opportunities, 7);
    let mut rows = Vec::new();
    for (skill, seqs) in &data {
        for (student, seq) in seqs.iter().enumerate() {
            for (t, &correct) in seq.iter().enumerate() {
                rows.push((t, student, skill.clone(), correct));
            }
        }
    }
    rows.sort_by_key(|r| (r.0, r.1));
    let mut csv = String::from("order_id,user_id,skill_name,correct\n");
    for (order, (_, student, skill, correct)) in rows.iter().enumerate() {
        csv.push_str(&format!("{order},u{student},{skill},{}\n", u8::from(*correct)));
    }
    (truth, csv)
}

fn write_temp(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("practica-mastery-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::File::create(&path)
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    path
}

#[test]
fn fit_recovers_known_parameters_from_a_pybkt_csv() {
    let (truth, csv) = synthetic_csv(1500, 2, 30);
    let path = write_temp("responses.csv", &csv);
    let (code, stdout, stderr) = practica(&["mastery", "fit", "--input", path.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    let out: Value = serde_json::from_str(&stdout).expect("JSON on stdout");
    let skills = out["skills"].as_object().expect("skills");
    assert_eq!(skills.len(), 2, "{stdout}");
    assert!(out["log_likelihood"].as_f64().unwrap() < 0.0);
    let mut names: Vec<&String> = skills.keys().collect();
    names.sort();
    for (name, truth) in names.into_iter().zip(&truth) {
        let fitted = &skills[name];
        for (field, want) in [
            ("p_init", truth.p_init),
            ("p_learn", truth.p_learn),
            ("p_slip", truth.p_slip),
            ("p_guess", truth.p_guess),
        ] {
            let got = fitted[field].as_f64().unwrap();
            assert!((got - want).abs() < 0.06, "{name} {field}: fitted {got}, true {want}");
        }
        assert_eq!(fitted["p_forget"], 0.0);
        assert!(fitted["p_slip"].as_f64().unwrap() <= 0.3 && fitted["p_guess"].as_f64().unwrap() <= 0.3);
    }
}

#[test]
fn malformed_rows_are_reported_by_line_and_skipped_or_refused() {
    let csv = "order_id,user_id,skill_name,correct\n\
               1,u1,add,1\n\
               2,u1,add,maybe\n\
               3,u1,add\n\
               4,u2,add,0\n\
               5,u2,add,1\n";
    let path = write_temp("bad.csv", csv);
    let file = path.to_str().unwrap();
    let (code, stdout, stderr) = practica(&["mastery", "fit", "--input", file]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("line 3") && stderr.contains("line 4"),
        "lines named: {stderr}"
    );
    let out: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(out["skipped_rows"], 2);
    assert!(out["skills"]["add"]["p_init"].is_number());

    let (code, stdout, stderr) = practica(&["mastery", "fit", "--input", file, "--strict"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stdout.is_empty(), "nothing fitted: {stdout}");
    assert!(stderr.contains("line 3") && stderr.contains("--strict"), "{stderr}");

    let (code, _, stderr) = practica(&["mastery", "fit", "--input", "/nonexistent/responses.csv"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("opening"), "{stderr}");
    let header_only = write_temp("empty.csv", "order_id,user_id,skill_name,correct\n");
    let (code, _, stderr) = practica(&["mastery", "fit", "--input", header_only.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(stderr.contains("no valid rows"), "{stderr}");
}

#[test]
fn evaluate_reports_held_out_metrics_and_the_true_model_scores_alike() {
    let (truth, csv) = synthetic_csv(1500, 2, 30);
    let path = write_temp("responses.csv", &csv);
    let (code, stdout, stderr) = practica(&["mastery", "evaluate", "--input", path.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    let out: Value = serde_json::from_str(&stdout).expect("JSON on stdout");
    let held = out["held_out_students"].as_u64().unwrap();
    assert!((200..=400).contains(&held), "about a fifth of 1500 held out: {held}");
    assert_eq!(out["students"], 1500);
    let auc = out["auc"].as_f64().unwrap();
    assert!(auc > 0.6 && auc < 1.0, "{auc}");
    let rmse = out["rmse"].as_f64().unwrap();
    assert!(rmse > 0.0 && rmse < 0.5, "{rmse}");
    assert!(out["log_likelihood"].as_f64().unwrap() < 0.0);
    // The fitted parameters are near the ones that generated the data.
    let skills = out["skills"].as_object().unwrap();
    let mut names: Vec<&String> = skills.keys().collect();
    names.sort();
    for (name, truth) in names.into_iter().zip(&truth) {
        let p_learn = skills[name]["params"]["p_learn"].as_f64().unwrap();
        assert!(
            (p_learn - truth.p_learn).abs() < 0.06,
            "{name}: {p_learn} vs {}",
            truth.p_learn
        );
    }
    let (code, _, stderr) = practica(&[
        "mastery",
        "evaluate",
        "--input",
        path.to_str().unwrap(),
        "--holdout",
        "1.5",
    ]);
    assert_eq!(code, 2);
    assert!(stderr.contains("--holdout"), "{stderr}");
}
