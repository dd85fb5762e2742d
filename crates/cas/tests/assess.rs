//! Step-by-step checking and misconception matching (`cas::assess`).

use cas::{StepStatus, assess};

/// The tag and subtag reported for an answer without steps.
fn tag(problem: &str, answer: &str) -> (String, Option<String>) {
    let a = assess(problem, Some(answer), &[]).unwrap();
    (a.error_tag_code, a.error_subtag)
}

fn subtag(problem: &str, answer: &str, steps: &[&str]) -> Option<String> {
    assess(problem, Some(answer), steps).unwrap().error_subtag
}

#[test]
fn every_reported_code_is_in_the_catalogue() {
    for code in cas::misconceptions::tags() {
        let t = diagnosis::catalog::error_tag(code).unwrap_or_else(|| panic!("{code} is not in the catalogue"));
        assert!(!t.family.is_empty(), "{code}");
        assert!(
            diagnosis::catalog::topic(t.family).is_some(),
            "{code}: family {} has no topic",
            t.family
        );
    }
    for problem in [
        "3 + 4 \\cdot 2",
        "2(x+3) - x",
        "2x+3=11",
        "2x > 8",
        "x^2 = 9",
        "x + 1 = x + 1",
    ] {
        let topic = assess(problem, None, &[]).unwrap().topic;
        assert!(diagnosis::catalog::topic(topic).is_some(), "{problem}: topic {topic}");
    }
    assert!(diagnosis::catalog::topic("ADHOC").is_some());
}

#[test]
fn correct_answers_and_steps_are_never_flagged() {
    let a = assess("2x + 3 = 11", Some("x = 4"), &["2x = 11 - 3", "2x = 8", "x = 4"]).unwrap();
    assert_eq!(a.is_correct, Some(true));
    assert_eq!(a.error_tag_code, "CORRECT");
    assert_eq!(a.confidence, 1.0);
    assert_eq!(a.first_wrong_step, None);
    assert!(
        a.steps.iter().all(|s| s.status == StepStatus::Equivalent),
        "{:?}",
        a.steps
    );
    assert!(a.feedback.is_empty());
}

#[test]
fn linear_equation_procedures_from_the_answer() {
    let t = |p, a| tag(p, a).1.unwrap_or_default();
    assert_eq!(t("2x + 3 = 11", "x = 7"), "TRANSPOSE-WITHOUT-SIGN-CHANGE");
    assert_eq!(t("2x + 3 = 11", "x = 2.5"), "DIVIDES-ONE-TERM");
    assert_eq!(t("2x = 8", "x = 6"), "SUBTRACTS-COEFFICIENT");
    assert_eq!(t("2(x + 3) = 14", "x = 5.5"), "DISTRIBUTES-FIRST-TERM-ONLY");
    assert_eq!(t("2x + 3 = 11", "x = 11/5"), "COMBINES-UNLIKE-TERMS");
}

#[test]
fn a_wrong_step_is_found_and_explained() {
    let a = assess("2x + 3 = 11", Some("x = 7"), &["2x = 14", "x = 7"]).unwrap();
    assert_eq!(a.first_wrong_step, Some(0));
    assert_eq!(a.steps[0].status, StepStatus::NotEquivalent);
    assert_eq!(a.steps[1].status, StepStatus::Equivalent);
    assert_eq!(a.error_subtag.as_deref(), Some("TRANSPOSE-WITHOUT-SIGN-CHANGE"));
    assert_eq!(
        subtag("2(x + 3) = 14", "x = 5.5", &["2x + 3 = 14", "2x = 11"]).as_deref(),
        Some("DISTRIBUTES-FIRST-TERM-ONLY")
    );
}

#[test]
fn unreadable_steps_are_reported_with_their_position() {
    let a = assess("2x + 3 = 11", Some("x = 4"), &["2x = 8 +", "x = 4"]).unwrap();
    assert_eq!(a.steps[0].status, StepStatus::Unreadable);
    assert!(a.steps[0].note.contains("at 6"), "{}", a.steps[0].note);
    assert_eq!(a.steps[1].status, StepStatus::Equivalent);
    assert_eq!(a.is_correct, Some(true));
}
