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
    assert!(a.steps[0].note.contains("at 8"), "{}", a.steps[0].note);
    assert_eq!(a.steps[1].status, StepStatus::Equivalent);
    assert_eq!(a.is_correct, Some(true));
    // A leading `=` continuing a chain does not shift the position.
    let a = assess("3 + 4 \\cdot 2", Some("11"), &["= 3 + * 8"]).unwrap();
    assert_eq!(a.steps[0].status, StepStatus::Unreadable);
    assert!(a.steps[0].note.contains("at 6"), "{}", a.steps[0].note);
}

/// The subtag from the answer alone, and from a wrong step (the step's candidates).
fn from_answer(problem: &str, answer: &str) -> String {
    let a = assess(problem, Some(answer), &[]).unwrap();
    assert_eq!(a.is_correct, Some(false), "{problem}: {answer}");
    a.error_subtag
        .unwrap_or_else(|| format!("UNCLASSIFIED {:?}", a.candidates))
}

fn from_step(problem: &str, steps: &[&str], answer: &str) -> (Option<usize>, String) {
    let a = assess(problem, Some(answer), steps).unwrap();
    (
        a.first_wrong_step,
        a.error_subtag
            .unwrap_or_else(|| format!("UNCLASSIFIED {:?} {:?}", a.candidates, a.steps)),
    )
}

#[test]
fn transpose_without_sign_change() {
    assert_eq!(from_answer("2x + 3 = 11", "x = 7"), "TRANSPOSE-WITHOUT-SIGN-CHANGE");
    assert_eq!(from_answer("3x - 5 = 10", "x = 5/3"), "TRANSPOSE-WITHOUT-SIGN-CHANGE");
    assert_eq!(from_answer("4x = x + 9", "x = 9/5"), "TRANSPOSE-WITHOUT-SIGN-CHANGE");
    assert_eq!(
        from_step("2x + 3 = 11", &["2x = 14", "x = 7"], "x = 7"),
        (Some(0), "TRANSPOSE-WITHOUT-SIGN-CHANGE".into())
    );
    assert_eq!(
        from_step("5x - 4 = 2x + 8", &["5x + 2x = 8 + 4", "7x = 12"], "x = 12/7"),
        (Some(0), "TRANSPOSE-WITHOUT-SIGN-CHANGE".into())
    );
    // The same bug in an inequality.
    assert_eq!(from_answer("2x + 3 < 11", "x < 7"), "TRANSPOSE-WITHOUT-SIGN-CHANGE");
}

#[test]
fn divides_one_term() {
    assert_eq!(from_answer("2x + 3 = 11", "x = 5/2"), "DIVIDES-ONE-TERM");
    assert_eq!(from_answer("4x + 6 = 30", "x = 28.5"), "DIVIDES-ONE-TERM");
    assert_eq!(
        from_step("2x + 3 = 11", &["x + 3 = 11/2", "x = 5/2"], "x = 5/2"),
        (Some(0), "DIVIDES-ONE-TERM".into())
    );
    assert_eq!(
        from_step("4x + 6 = 30", &["x + 6 = 30/4"], "x = 1.5"),
        (Some(0), "DIVIDES-ONE-TERM".into())
    );
}

#[test]
fn subtracts_coefficient() {
    assert_eq!(from_answer("2x = 8", "x = 6"), "SUBTRACTS-COEFFICIENT");
    assert_eq!(from_answer("5x + 1 = 21", "x = 15"), "SUBTRACTS-COEFFICIENT");
    assert_eq!(
        from_step("3x + 2 = 14", &["3x = 12", "x = 9"], "x = 9"),
        (Some(1), "SUBTRACTS-COEFFICIENT".into())
    );
    assert_eq!(
        from_step("7x = 21", &["x = 21 - 7"], "x = 14"),
        (Some(0), "SUBTRACTS-COEFFICIENT".into())
    );
}

#[test]
fn distributes_first_term_only() {
    assert_eq!(from_answer("2(x + 3) = 14", "x = 11/2"), "DISTRIBUTES-FIRST-TERM-ONLY");
    assert_eq!(from_answer("3(x - 2) = 9", "x = 11/3"), "DISTRIBUTES-FIRST-TERM-ONLY");
    assert_eq!(
        from_step("2(x + 3) = 14", &["2x + 3 = 14", "2x = 11"], "x = 5.5"),
        (Some(0), "DISTRIBUTES-FIRST-TERM-ONLY".into())
    );
    assert_eq!(
        from_step("4(x + 5) = 2x", &["4x + 5 = 2x"], "x = -5/2"),
        (Some(0), "DISTRIBUTES-FIRST-TERM-ONLY".into())
    );
}

#[test]
fn combines_unlike_terms() {
    assert_eq!(from_answer("2x + 3 = 11", "x = 11/5"), "COMBINES-UNLIKE-TERMS");
    assert_eq!(from_answer("4x + 4 = 24", "x = 3"), "COMBINES-UNLIKE-TERMS");
    assert_eq!(
        from_step("2x + 3 = 11", &["5x = 11"], "x = 11/5"),
        (Some(0), "COMBINES-UNLIKE-TERMS".into())
    );
    assert_eq!(
        from_step("3x + 5 = 2x + 11", &["8x = 13x"], "x = 0"),
        (Some(0), "COMBINES-UNLIKE-TERMS".into())
    );
}

#[test]
fn sign_lost_removing_parentheses() {
    assert_eq!(from_answer("10 - (x + 3)", "-x + 13"), "SIGN-LOST-REMOVING-PARENTHESES");
    assert_eq!(from_answer("5x - (2x - 4)", "3x - 4"), "SIGN-LOST-REMOVING-PARENTHESES");
    assert_eq!(
        from_answer("20 - (x + 4) = 10", "x = 14"),
        "SIGN-LOST-REMOVING-PARENTHESES"
    );
    assert_eq!(
        from_step("3x - (x + 5)", &["3x - x + 5", "2x + 5"], "2x + 5"),
        (Some(0), "SIGN-LOST-REMOVING-PARENTHESES".into())
    );
    assert_eq!(
        from_step("12 - 2(x - 1) = 4", &["12 - 2x - 2 = 4"], "x = 3"),
        (Some(0), "SIGN-LOST-REMOVING-PARENTHESES".into())
    );
}

#[test]
fn square_of_sum() {
    assert_eq!(from_answer("(x + 3)^2", "x^2 + 9"), "SQUARE-OF-SUM-AS-SUM-OF-SQUARES");
    assert_eq!(from_answer("(2x - 1)^2", "4x^2 - 1"), "SQUARE-OF-SUM-AS-SUM-OF-SQUARES");
    assert_eq!(
        from_answer("(x + 3)^2 = x^2 + 2x + 21", "x = -6"),
        "SQUARE-OF-SUM-AS-SUM-OF-SQUARES"
    );
    assert_eq!(
        from_step("(x + 5)^2 - x^2", &["x^2 + 25 - x^2"], "25"),
        (Some(0), "SQUARE-OF-SUM-AS-SUM-OF-SQUARES".into())
    );
    assert_eq!(
        from_step("(x + 1)^2 = x^2 + 7", &["x^2 + 1 = x^2 + 7"], "\\emptyset"),
        (Some(0), "SQUARE-OF-SUM-AS-SUM-OF-SQUARES".into())
    );
}

#[test]
fn cancels_terms_across_a_fraction() {
    assert_eq!(
        from_answer("\\frac{x + 6}{3}", "x + 2"),
        "CANCELS-TERMS-ACROSS-FRACTION"
    );
    assert_eq!(
        from_answer("\\frac{x + 3}{3} = 5", "x = 5"),
        "CANCELS-TERMS-ACROSS-FRACTION"
    );
    assert_eq!(
        from_step("\\frac{2x + 6}{2} = 10", &["x + 6 = 10"], "x = 4"),
        (Some(0), "CANCELS-TERMS-ACROSS-FRACTION".into())
    );
    assert_eq!(
        from_step("\\frac{x + 6}{3} = 4", &["x + 2 = 4"], "x = 2"),
        (Some(0), "CANCELS-TERMS-ACROSS-FRACTION".into())
    );
}

#[test]
fn order_of_operations() {
    assert_eq!(from_answer("3 + 4 \\cdot 2", "14"), "LEFT-TO-RIGHT");
    assert_eq!(from_answer("20 - 2 \\cdot 5 + 1", "91"), "LEFT-TO-RIGHT");
    assert_eq!(from_answer("12 : 2 \\cdot 3", "2"), "MULTIPLIES-BEFORE-DIVIDING");
    assert_eq!(from_answer("10 - 3 + 2", "5"), "MULTIPLIES-BEFORE-DIVIDING");
    assert_eq!(from_answer("-3^2 + 1", "10"), "NEGATIVE-BASE-SQUARED");
    assert_eq!(from_answer("-2^2 \\cdot 3", "12"), "NEGATIVE-BASE-SQUARED");
    assert_eq!(
        from_step("3 + 4 \\cdot 2", &["7 \\cdot 2", "14"], "14"),
        (Some(0), "LEFT-TO-RIGHT".into())
    );
    assert_eq!(
        from_step("10 - 3 + 2", &["= 10 - 5", "= 5"], "5"),
        (Some(0), "MULTIPLIES-BEFORE-DIVIDING".into())
    );
    assert_eq!(
        from_step("-4^2 - 1", &["16 - 1"], "15"),
        (Some(0), "NEGATIVE-BASE-SQUARED".into())
    );
}

#[test]
fn inequality_not_reversed() {
    assert_eq!(from_answer("-2x > 8", "x > -4"), "INEQUALITY-NOT-REVERSED");
    assert_eq!(from_answer("5 - 3x \\le 11", "x \\le -2"), "INEQUALITY-NOT-REVERSED");
    assert_eq!(
        from_step("-2x + 1 > 9", &["-2x > 8", "x > -4"], "x > -4"),
        (Some(1), "INEQUALITY-NOT-REVERSED".into())
    );
    assert_eq!(
        from_step("4 - x < 1", &["-x < -3", "x < 3"], "x < 3"),
        (Some(1), "INEQUALITY-NOT-REVERSED".into())
    );
}

#[test]
fn quadratic_root_lost() {
    assert_eq!(from_answer("x^2 = 9", "x = 3"), "QUADRATIC-ROOT-LOST");
    assert_eq!(from_answer("x^2 - 5x + 6 = 0", "x = 3"), "QUADRATIC-ROOT-LOST");
    assert_eq!(
        from_step("x^2 = 3x", &["x = 3"], "x = 3"),
        (Some(0), "QUADRATIC-ROOT-LOST".into())
    );
    assert_eq!(
        from_step("x^2 - 16 = 0", &["x^2 = 16", "x = 4"], "x = 4"),
        (Some(1), "QUADRATIC-ROOT-LOST".into())
    );
}

#[test]
fn quadratic_formula_sign() {
    assert_eq!(
        from_answer("x^2 - 5x + 6 = 0", "x = -2, x = -3"),
        "QUADRATIC-FORMULA-MINUS-B-DROPPED"
    );
    assert_eq!(
        from_answer("x^2 + x - 12 = 0", "x = 4 \\text{ o } x = -3"),
        "QUADRATIC-FORMULA-MINUS-B-DROPPED"
    );
    assert_eq!(
        from_step("x^2 - 5x + 6 = 0", &["x = \\frac{-5 \\pm 1}{2}"], "x = -2, x = -3"),
        (Some(0), "QUADRATIC-FORMULA-MINUS-B-DROPPED".into())
    );
    assert_eq!(
        from_step("x^2 - 7x + 10 = 0", &["x = \\frac{-7 \\pm 3}{2}"], "x = -2, x = -5"),
        (Some(0), "QUADRATIC-FORMULA-MINUS-B-DROPPED".into())
    );
}
