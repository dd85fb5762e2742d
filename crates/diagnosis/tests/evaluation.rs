//! The evaluation targets hold on a fresh generated set (another seed than the documented
//! report): >= 97% top-1 on buggy answers one procedure explains, every correct answer CORRECT,
//! <= 3% false diagnoses on unexplained wrong answers, and confidences that mean something.

use diagnosis::Options;
use diagnosis::evalset::{self, Label};

#[test]
fn evaluation_targets_hold() {
    let cases = evalset::generate(4_000, 99);
    // Every family and every kind of label is represented.
    assert!(cases.iter().any(|c| matches!(c.label, Label::Correct)));
    assert!(cases.iter().any(|c| matches!(c.label, Label::Random { .. })));
    let r = evalset::evaluate(&cases, &Options::default());
    assert_eq!(r.errors, 0);
    assert!(r.unique.cases > 1_000, "{} unique cases", r.unique.cases);
    assert!(r.unique.tag_accuracy() >= 0.97, "top-1 {}", r.unique.tag_accuracy());
    assert_eq!(r.correct.tag_right, r.correct.cases);
    assert!(r.unexplained.cases > 300);
    assert!(
        r.false_diagnosis_rate() <= 0.03,
        "false diagnoses {}",
        r.false_diagnosis_rate()
    );
    // Calibration: answers reported at 0.9 or more are right at least 9 times in 10.
    let (n, ok) = r.calibration[9];
    assert!(n > 0 && ok as f64 / n as f64 >= 0.9, "{ok}/{n} right at >= 0.9");
}

/// Every tag code written in the procedures is in the built-in catalog (names, description,
/// remediation), so clients can always show what a diagnosis means.
#[test]
fn every_emitted_tag_is_in_the_catalog() {
    let sources = [
        include_str!("../src/procedures/whole.rs"),
        include_str!("../src/procedures/numbers.rs"),
        include_str!("../src/procedures/expressions.rs"),
    ];
    let mut seen = 0;
    for src in sources {
        for quoted in src.split('"').skip(1).step_by(2) {
            let looks_like_tag = quoted.len() > 6
                && quoted
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
                && quoted.contains('_');
            if looks_like_tag {
                seen += 1;
                assert!(
                    diagnosis::catalog::error_tag(quoted).is_some(),
                    "{quoted} is not in the catalog"
                );
            }
        }
    }
    assert!(seen > 50, "only {seen} tags found in the sources");
}
