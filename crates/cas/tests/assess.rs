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
fn multiplies_by_coefficient() {
    assert_eq!(from_answer("3x = 12", "x = 36"), "MULTIPLIES-BY-COEFFICIENT");
    assert_eq!(from_answer("2x + 1 = 9", "x = 16"), "MULTIPLIES-BY-COEFFICIENT");
    assert_eq!(
        from_step("4x - 2 = 10", &["4x = 12", "x = 48"], "x = 48"),
        (Some(1), "MULTIPLIES-BY-COEFFICIENT".into())
    );
    assert_eq!(
        from_step("5x = 20", &["x = 100"], "x = 100"),
        (Some(0), "MULTIPLIES-BY-COEFFICIENT".into())
    );
}

#[test]
fn coefficient_not_divided() {
    assert_eq!(from_answer("3x + 5 = 20", "x = 15"), "COEFFICIENT-NOT-DIVIDED");
    assert_eq!(from_answer("4x - 3 = 9", "x = 12"), "COEFFICIENT-NOT-DIVIDED");
    assert_eq!(
        from_step("3x + 5 = 20", &["3x = 15", "x = 15"], "x = 15"),
        (Some(1), "COEFFICIENT-NOT-DIVIDED".into())
    );
    assert_eq!(
        from_step("7x = 21 + 7", &["x = 28"], "x = 28"),
        (Some(0), "COEFFICIENT-NOT-DIVIDED".into())
    );
}

#[test]
fn system_values_swapped() {
    assert_eq!(
        from_answer("x + y = 5 \\\\ x - y = 1", "x = 2, y = 3"),
        "SYSTEM-VALUES-SWAPPED"
    );
    assert_eq!(
        from_answer("2x + y = 7 \\\\ x - y = -1", "x = 3, y = 2"),
        "SYSTEM-VALUES-SWAPPED"
    );
    // Equal values cannot be swapped.
    let a = assess("x + y = 4 \\\\ x - y = 0", Some("x = 2, y = 3"), &[]).unwrap();
    assert_ne!(a.error_subtag.as_deref(), Some("SYSTEM-VALUES-SWAPPED"));
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
fn order_of_operations_inside_a_chain_of_equalities() {
    // `A = B` with A the line before rewritten: the slip is between A and B.
    assert_eq!(
        from_step("10 - 2 \\cdot 3", &["10 - 2 \\cdot 3 = 24"], "24"),
        (Some(0), "LEFT-TO-RIGHT".into())
    );
    assert_eq!(
        from_step("2 + 6 \\cdot 3 - 4", &["= 2 + 18 - 4", "= 20 - 4 = 16"], "16").0,
        None,
        "a correct chain"
    );
    assert_eq!(
        from_step("1 + 12 : 2 \\cdot 3", &["= 1 + 12 : 2 \\cdot 3 = 3"], "3"),
        (Some(0), "MULTIPLIES-BEFORE-DIVIDING".into())
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

/// A tiny deterministic generator (xorshift), so that the figures in docs/cas.md reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Uniform in `lo..=hi`.
    fn int(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }

    fn nonzero(&mut self, lo: i64, hi: i64) -> i64 {
        loop {
            let v = self.int(lo, hi);
            if v != 0 {
                return v;
            }
        }
    }
}

/// A linear equation with an integer solution, in one of the shapes of a school worksheet,
/// and that solution.
fn linear_equation(rng: &mut Rng) -> (String, i64) {
    let x = rng.int(-10, 10);
    let a = rng.int(2, 9);
    let b = rng.nonzero(-20, 20);
    let sign = |v: i64| if v < 0 { format!("- {}", -v) } else { format!("+ {v}") };
    let p = match rng.int(0, 3) {
        0 => format!("{a}x {} = {}", sign(b), a * x + b),
        1 => {
            let c = loop {
                let c = rng.int(1, 9);
                if c != a {
                    break c;
                }
            };
            let d = a * x + b - c * x;
            format!("{a}x {} = {c}x {}", sign(b), sign(d))
        }
        2 => format!("{a}(x {}) = {}", sign(b), a * (x + b)),
        _ => {
            let d = rng.nonzero(-9, 9);
            format!("{a}(x {}) {} = {}", sign(b), sign(d), a * (x + b) + d)
        }
    };
    (p, x)
}

/// A wrong answer no misconception was asked to produce: half near the solution, a quarter any
/// integer of the problem's size, a quarter a fraction.
fn random_wrong_answer(rng: &mut Rng, x: i64) -> String {
    loop {
        let text = match rng.int(0, 3) {
            0 | 1 => format!("x = {}", x + rng.nonzero(-20, 20)),
            2 => format!("x = {}", rng.int(-100, 100)),
            _ => format!("x = \\frac{{{}}}{{{}}}", rng.int(-60, 60), rng.int(2, 9)),
        };
        if !assess(&format!("x = {x}"), Some(&text), &[])
            .unwrap()
            .is_correct
            .unwrap()
        {
            return text;
        }
    }
}

/// The share of random wrong answers to generated linear equations that get a misconception's
/// tag, and the share of those answers that a procedure of the library does produce (the
/// coincidences, which no engine that looks only at the answer can tell from the bug).
fn false_classification(seed: u64, n: usize) -> (f64, f64) {
    let mut rng = Rng(seed);
    let (mut tagged, mut produced) = (0, 0);
    for _ in 0..n {
        let (problem, x) = linear_equation(&mut rng);
        let answer = random_wrong_answer(&mut rng, x);
        let a = assess(&problem, Some(&answer), &[]).unwrap();
        assert_eq!(a.is_correct, Some(false), "{problem}: {answer}");
        if !a.candidates.is_empty() {
            produced += 1;
        }
        if a.error_tag_code != "UNCLASSIFIED" {
            tagged += 1;
        }
    }
    (tagged as f64 / n as f64, produced as f64 / n as f64)
}

#[test]
fn random_wrong_answers_are_rarely_classified() {
    // `cargo test -p cas --test assess random_wrong -- --nocapture` prints the figure in docs/cas.md.
    let (tagged, produced) = false_classification(2026, 1000);
    println!(
        "1000 random wrong answers to generated linear equations: {:.1}% tagged, {:.1}% produced by some procedure",
        100.0 * tagged,
        100.0 * produced
    );
    assert!(tagged <= 0.05, "{tagged}");
    assert!(
        tagged <= produced + 1e-12,
        "a tag without a procedure producing the answer"
    );
}

#[test]
fn generated_buggy_answers_are_classified() {
    // Each procedure's own output on generated equations comes back with its tag.
    let mut rng = Rng(7);
    let mut checked = 0;
    for _ in 0..300 {
        let (problem, _) = linear_equation(&mut rng);
        let statement = cas::parse(&problem).unwrap();
        let start = cas::misconceptions::Start {
            statement: &statement,
            text: &problem,
            reading: cas::equivalence::Reading::Relation('x'),
        };
        for p in cas::misconceptions::LIBRARY {
            let outs = p.outputs(&start);
            let distinct: Vec<_> = outs
                .iter()
                .filter_map(|o| cas::equivalence::of_statement(o, start.reading).ok())
                .collect();
            // Only procedures with a single distinct wrong output are unambiguous on their own.
            let Some(cas::equivalence::SolutionSet::Points(ps)) = distinct.first() else {
                continue;
            };
            if distinct.iter().any(|d| d != &distinct[0]) || ps.len() != 1 {
                continue;
            }
            let answer = format!("x = {}", ps[0]);
            let a = assess(&problem, Some(&answer), &[]).unwrap();
            if a.is_correct == Some(true) {
                continue;
            }
            checked += 1;
            assert!(
                a.candidates.iter().any(|c| c.error_subtag == p.subtag),
                "{problem}: {answer} should be explained by {}: {:?}",
                p.subtag,
                a.candidates
            );
        }
    }
    assert!(checked > 200, "{checked}");
}

#[test]
fn the_solvers_own_steps_are_equivalent() {
    // The solver's explanation, written as a student would, is a chain of equivalent steps.
    let mut rng = Rng(99);
    let mut problems: Vec<String> = (0..200).map(|_| linear_equation(&mut rng).0).collect();
    problems.extend(
        [
            "-2x + 1 > 9",
            "3x - 4 \\le 5x + 2",
            "x^2 - 5x + 6 = 0",
            "2x^2 = 18",
            "3 + 4 \\cdot 2 - 6 : 3",
            "2(x+3) - x",
        ]
        .map(String::from),
    );
    for problem in &problems {
        let solution = cas::solve(problem).unwrap();
        let steps: Vec<&str> = solution
            .steps
            .iter()
            .filter_map(|s| s.rsplit_once(": ").map(|(_, t)| t))
            .filter(|t| cas::parse_list(t).is_ok())
            .collect();
        let answer = solution.answer_text.replace(" or ", ", ");
        let a = assess(problem, Some(&answer), &steps).unwrap();
        assert_eq!(a.error_tag_code, "CORRECT", "{problem} {answer}: {a:?}");
        for s in &a.steps {
            assert!(
                matches!(s.status, StepStatus::Equivalent | StepStatus::Unchecked),
                "{problem}: {s:?}"
            );
        }
        assert_eq!(a.first_wrong_step, None, "{problem}: {:?}", a.steps);
    }
}

#[test]
fn a_correct_answer_after_a_wrong_step_is_correct() {
    let a = assess("2x + 3 = 11", Some("x = 4"), &["2x = 14", "x = 4"]).unwrap();
    assert_eq!(a.is_correct, Some(true));
    assert_eq!(a.error_tag_code, "CORRECT");
    assert_eq!(a.first_wrong_step, Some(0));
    assert_eq!(
        a.steps[1].status,
        StepStatus::NotEquivalent,
        "x = 4 does not follow from 2x = 14"
    );
    assert_eq!(a.candidates[0].error_subtag, "TRANSPOSE-WITHOUT-SIGN-CHANGE");
}

#[test]
fn without_an_answer_the_steps_decide() {
    let a = assess("2x + 3 = 11", None, &["2x = 14"]).unwrap();
    assert_eq!(a.is_correct, None);
    assert_eq!(a.error_subtag.as_deref(), Some("TRANSPOSE-WITHOUT-SIGN-CHANGE"));
    let a = assess("2x + 3 = 11", None, &[]).unwrap();
    assert_eq!((a.is_correct, a.error_tag_code.as_str()), (None, "CORRECT"));
    assert_eq!(a.expected, "x = 4");
}

#[test]
fn unexplained_wrong_answers_stay_unclassified() {
    for (problem, answer) in [
        ("2x + 3 = 11", "x = 13"),
        ("3 + 4 \\cdot 2", "12"),
        ("(x+1)^2", "x^2 + 3x + 1"),
        ("x^2 = 9", "x = 5"),
    ] {
        let a = assess(problem, Some(answer), &[]).unwrap();
        assert_eq!(
            a.error_tag_code, "UNCLASSIFIED",
            "{problem}: {answer} {:?}",
            a.candidates
        );
        assert_eq!(a.confidence, 0.0);
    }
    // An unreadable answer is wrong, and unclassified.
    let a = assess("2x + 3 = 11", Some("x = = 4"), &[]).unwrap();
    assert_eq!((a.is_correct, a.error_tag_code.as_str()), (Some(false), "UNCLASSIFIED"));
    // The problem itself unreadable or unsolvable: an error.
    assert!(assess("2x + = 11", Some("x = 4"), &[]).is_err());
    assert!(assess("x^3 = 8", Some("x = 2"), &[]).is_err());
}

#[test]
fn ambiguous_answers_list_every_procedure() {
    // 5x + 2 = 3x + 10 answered 6: moving 2 without its sign, or 2x = 8 read as x = 8 - 2.
    let a = assess("5x + 2 = 3x + 10", Some("x = 6"), &[]).unwrap();
    let subtags: Vec<&str> = a.candidates.iter().map(|c| c.error_subtag.as_str()).collect();
    assert!(
        subtags.contains(&"TRANSPOSE-WITHOUT-SIGN-CHANGE") && subtags.contains(&"SUBTRACTS-COEFFICIENT"),
        "{subtags:?}"
    );
    // The steps tell them apart.
    let a = assess("5x + 2 = 3x + 10", Some("x = 6"), &["2x = 8", "x = 6"]).unwrap();
    assert_eq!(a.error_subtag.as_deref(), Some("SUBTRACTS-COEFFICIENT"));
    assert_eq!(a.first_wrong_step, Some(1));
    let a = assess("5x + 2 = 3x + 10", Some("x = 6"), &["2x = 12", "x = 6"]).unwrap();
    assert_eq!(a.error_subtag.as_deref(), Some("TRANSPOSE-WITHOUT-SIGN-CHANGE"));
    assert!(a.confidence > 0.8, "{}", a.confidence);
}

#[test]
fn serializes_in_camel_case() {
    let a = assess("2x + 3 = 11", Some("x = 7"), &["2x = 14", "x = = 7"]).unwrap();
    let v = serde_json::to_value(&a).unwrap();
    for key in [
        "solution",
        "topic",
        "isCorrect",
        "expected",
        "feedback",
        "errorTagCode",
        "errorSubtag",
        "confidence",
        "candidates",
        "steps",
        "firstWrongStep",
    ] {
        assert!(v.get(key).is_some(), "{key}: {v}");
    }
    assert_eq!(v["steps"][0]["status"], "notEquivalent");
    assert_eq!(v["steps"][1]["status"], "unreadable");
    assert_eq!(v["candidates"][0]["errorSubtag"], "TRANSPOSE-WITHOUT-SIGN-CHANGE");
}

mod garbage {
    use proptest::prelude::*;

    fn soup() -> impl Strategy<Value = String> {
        let pieces = prop::sample::select(vec![
            "1",
            "2",
            "0",
            "7",
            "3,5",
            "0.25",
            "x",
            "y",
            "+",
            "-",
            "\\cdot",
            ":",
            "/",
            "^",
            "(",
            ")",
            "{",
            "}",
            "\\frac",
            "\\sqrt",
            "=",
            "<",
            ">",
            "\\le",
            "\\pm",
            "\\%",
            ",",
            " ",
            "\\emptyset",
            "99999999999999999999",
            "\\\\",
        ]);
        prop::collection::vec(pieces, 0..24).prop_map(|v| v.concat())
    }

    /// Small well-formed expressions in x: the shapes of school problems, nested at random.
    fn expr() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            (0u32..13).prop_map(|n| n.to_string()),
            Just("x".to_string()),
            Just("2x".to_string())
        ];
        leaf.prop_recursive(3, 12, 2, |inner| {
            prop_oneof![
                (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} + {b}")),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} - ({b})")),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) \\cdot ({b})")),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("\\frac{{{a}}}{{{b}}}")),
                inner.clone().prop_map(|a| format!("({a})^2")),
                inner.clone().prop_map(|a| format!("-{a}")),
                inner.prop_map(|a| format!("{a}\\%")),
            ]
        })
    }

    fn statement() -> impl Strategy<Value = String> {
        prop_oneof![
            expr(),
            (expr(), expr()).prop_map(|(a, b)| format!("{a} = {b}")),
            (expr(), expr()).prop_map(|(a, b)| format!("{a} < {b}")),
            (expr(), expr()).prop_map(|(a, b)| format!("{a} + y = {b}, x - y = 1")),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]
        #[test]
        fn assess_never_panics(problem in soup(), answer in soup(), steps in prop::collection::vec(soup(), 0..4)) {
            let steps: Vec<&str> = steps.iter().map(String::as_str).collect();
            if let Ok(a) = cas::assess(&problem, Some(&answer), &steps) {
                prop_assert_eq!(a.steps.len(), steps.len());
                prop_assert!((0.0..=1.0).contains(&a.confidence));
                prop_assert!(a.first_wrong_step.is_none_or(|i| i < steps.len()));
            }
        }

        #[test]
        fn generated_problems_give_well_formed_assessments(
            problem in statement(),
            answer in prop_oneof![(-20i32..20).prop_map(|n| format!("x = {n}")), (-20i32..20).prop_map(|n| n.to_string()), expr()],
            steps in prop::collection::vec(statement(), 0..3),
        ) {
            let steps: Vec<&str> = steps.iter().map(String::as_str).collect();
            if let Ok(a) = cas::assess(&problem, Some(&answer), &steps) {
                prop_assert_eq!(a.is_correct == Some(true), a.error_tag_code == "CORRECT", "{} {}", problem, answer);
                prop_assert!((0.0..=1.0).contains(&a.confidence));
                prop_assert_eq!(a.error_tag_code == "UNCLASSIFIED", a.confidence == 0.0);
                for c in &a.candidates {
                    prop_assert!(diagnosis::catalog::error_tag(&c.error_tag_code).is_some(), "{}", c.error_tag_code);
                }
                prop_assert!(diagnosis::catalog::topic(a.topic).is_some());
            }
        }

        #[test]
        fn random_steps_on_a_real_problem_never_panic(steps in prop::collection::vec(soup(), 0..6), answer in soup()) {
            let steps: Vec<&str> = steps.iter().map(String::as_str).collect();
            for problem in ["2x + 3 = 11", "3 + 4 \\cdot 2", "(x+3)^2", "x^2 - 5x + 6 = 0", "-2x > 8"] {
                let a = cas::assess(problem, Some(&answer), &steps).unwrap();
                prop_assert_eq!(a.steps.len(), steps.len());
            }
        }
    }
}

#[test]
fn percent_of_the_wrong_base() {
    // The price before a 20% discount is 40: the 20% taken of 40.
    assert_eq!(from_answer("x - 20\\% x = 40", "x = 48"), "PERCENT-OF-WRONG-BASE");
    assert_eq!(from_answer("x(1 - 20\\%) = 40", "x = 48"), "PERCENT-OF-WRONG-BASE");
    // 15 is 20% of what? The 20% of the part.
    assert_eq!(from_answer("20\\% \\cdot x = 15", "x = 3"), "PERCENT-OF-WRONG-BASE");
    // What percent of 60 is 15? Part and whole swapped.
    assert_eq!(from_answer("x\\% \\cdot 60 = 15", "x = 400"), "PERCENT-OF-WRONG-BASE");
    // From 40 to 50: the change divided by the new value.
    assert_eq!(
        from_answer("x\\% \\cdot 40 = 50 - 40", "x = 20"),
        "PERCENT-OF-WRONG-BASE"
    );
    assert_eq!(
        from_step("x + 15\\% x = 230", &["x + 34.5 = 230"], "x = 195.5"),
        (Some(0), "PERCENT-OF-WRONG-BASE".into())
    );
    assert_eq!(
        from_step("x - 20\\% x = 40", &["x - 8 = 40", "x = 48"], "x = 48"),
        (Some(0), "PERCENT-OF-WRONG-BASE".into())
    );
    assert_eq!(
        assess("x - 20\\% x = 40", Some("x = 50"), &[]).unwrap().topic,
        "RATIO_PERCENT"
    );
}

#[test]
fn substitution_sign_error_in_a_system() {
    // x + y = 5 gives x = 5 + y; then 2(5 + y) + y = 7, y = -1, x = 4.
    assert_eq!(
        from_answer("x + y = 5, 2x + y = 7", "x = 4, y = -1"),
        "SUBSTITUTION-SIGN-ERROR"
    );
    assert_eq!(
        from_answer("x - y = 1 \\\\ 3x + 2y = 13", "(11, -10)"),
        "SUBSTITUTION-SIGN-ERROR"
    );
    assert_eq!(
        from_step(
            "x + y = 5, 2x + y = 7",
            &["x = 5 + y", "2(5 + y) + y = 7", "y = -1"],
            "x = 4, y = -1"
        ),
        (Some(0), "SUBSTITUTION-SIGN-ERROR".into())
    );
    assert_eq!(
        from_step(
            "2x + y = 8, x - y = 1",
            &["y = 8 + 2x", "x - 8 - 2x = 1"],
            "x = -9, y = -10"
        ),
        (Some(0), "SUBSTITUTION-SIGN-ERROR".into())
    );
    let a = assess(
        "x + y = 5, 2x + y = 7",
        Some("x = 2, y = 3"),
        &["x = 5 - y", "2(5 - y) + y = 7", "y = 3"],
    )
    .unwrap();
    assert_eq!(
        (a.error_tag_code.as_str(), a.first_wrong_step),
        ("CORRECT", None),
        "{:?}",
        a.steps
    );
    assert_eq!(a.topic, "ALGEBRA_SYSTEM_LINEAR");
}

#[test]
fn proportions() {
    assert_eq!(from_answer("2 : 4 = 3 : x", "x = 5"), "ADDITIVE-STRATEGY");
    assert_eq!(
        from_answer("\\frac{3}{5} = \\frac{x}{20}", "x = 18"),
        "ADDITIVE-STRATEGY"
    );
    assert_eq!(from_answer("2 : 4 = 3 : x", "x = 1.5"), "WRONG-CROSS-PRODUCT");
    assert_eq!(
        from_answer("\\frac{4}{x} = \\frac{2}{3}", "x = 8/3"),
        "WRONG-CROSS-PRODUCT"
    );
    assert_eq!(
        from_step("2 : 4 = 3 : x", &["2 \\cdot 3 = 4x"], "x = 1.5"),
        (Some(0), "WRONG-CROSS-PRODUCT".into())
    );
    assert_eq!(
        from_step("\\frac{4}{x} = \\frac{2}{3}", &["4 \\cdot 2 = 3x"], "x = 8/3"),
        (Some(0), "WRONG-CROSS-PRODUCT".into())
    );
    assert_eq!(
        from_step("\\frac{3}{5} = \\frac{x}{20}", &["5 - 3 = 20 - x"], "x = 18"),
        (Some(0), "ADDITIVE-STRATEGY".into())
    );
    assert_eq!(
        from_step("6 : 9 = x : 12", &["9 - 6 = 12 - x"], "x = 9"),
        (Some(0), "ADDITIVE-STRATEGY".into())
    );
    let a = assess("2 : 4 = 3 : x", Some("x = 6"), &["2x = 12", "x = 6"]).unwrap();
    assert_eq!(
        (a.error_tag_code.as_str(), a.first_wrong_step, a.topic),
        ("CORRECT", None, "RATIO_PROPORTION")
    );
}

#[test]
fn steps_with_the_unknown_in_a_denominator_are_compared() {
    let a = assess("\\frac{3}{x} + 1 = 2", Some("x = 3"), &["\\frac{3}{x} = 1", "3 = x"]).unwrap();
    assert!(
        a.steps.iter().all(|s| s.status == StepStatus::Equivalent),
        "{:?}",
        a.steps
    );
    let a = assess("\\frac{3}{x} + 1 = 2", Some("x = 1"), &["\\frac{3}{x} = 3", "x = 1"]).unwrap();
    assert_eq!(a.first_wrong_step, Some(0));
    assert_eq!(
        a.error_subtag.as_deref(),
        Some("TRANSPOSE-WITHOUT-SIGN-CHANGE"),
        "{:?}",
        a.candidates
    );
}

#[test]
fn computations_on_the_side_are_judged_by_being_true() {
    let a = assess(
        "2x + 3 = 11",
        Some("x = 4"),
        &["11 - 3 = 8", "2x = 8", "8 : 2 = 4", "x = 4"],
    )
    .unwrap();
    assert!(
        a.steps.iter().all(|s| s.status == StepStatus::Equivalent),
        "{:?}",
        a.steps
    );
    let a = assess("2x + 3 = 11", Some("x = 4"), &["11 - 3 = 7", "2x = 8", "x = 4"]).unwrap();
    assert_eq!(a.first_wrong_step, Some(0));
    assert_eq!(
        a.steps[1].status,
        StepStatus::Equivalent,
        "the chain goes on from the problem"
    );
}

#[test]
fn percent_computations() {
    assert_eq!(from_answer("15\\% de 200", "3"), "PERCENT-DECIMAL-SHIFT");
    assert_eq!(from_answer("15\\% de 200", "3000"), "PERCENT-DECIMAL-SHIFT");
    assert_eq!(from_answer("15\\% de 200", "\\frac{40}{3}"), "DIVIDES-BY-PERCENT");
    assert_eq!(from_answer("25\\% \\cdot 80", "3,2"), "DIVIDES-BY-PERCENT");
    assert_eq!(
        from_step("15\\% de 200", &["0,015 \\cdot 200"], "3"),
        (Some(0), "PERCENT-DECIMAL-SHIFT".into())
    );
    assert_eq!(
        from_step("40\\% de 30", &["30 : 40"], "0,75"),
        (Some(0), "DIVIDES-BY-PERCENT".into())
    );
}

#[test]
fn two_bugs_in_one_expression() {
    // 3(x + 2) - 2(x - 1): the 3 reaches only x and the minus only 2x: 3x + 2 - 2x - 1.
    let a = assess("3(x+2) - 2(x - 1)", Some("x + 1"), &[]).unwrap();
    assert_eq!(
        a.error_subtag.as_deref(),
        Some("DISTRIBUTES-FIRST-TERM-ONLY+SIGN-LOST-REMOVING-PARENTHESES")
    );
    assert_eq!(a.error_tag_code, "ALGEBRA_EQ_LINEAR_DISTRIBUTES_FIRST_TERM_ONLY_G8");
    // (x + 3)^2 - (x + 1): squared term by term and the bracket's sign lost.
    let a = assess("(x+3)^2 - (x + 1)", Some("x^2 - x + 10"), &[]).unwrap();
    assert_eq!(
        a.error_subtag.as_deref(),
        Some("SIGN-LOST-REMOVING-PARENTHESES+SQUARE-OF-SUM-AS-SUM-OF-SQUARES")
    );
    // A single bug is preferred when it explains the answer.
    assert_eq!(
        from_answer("(x+3)^2 - (x + 1)", "x^2 + 5x + 10"),
        "SIGN-LOST-REMOVING-PARENTHESES"
    );
}

#[test]
fn random_wrong_simplifications_are_rarely_classified() {
    // `cargo test -p cas --test assess random_wrong -- --nocapture` prints this figure too.
    let mut rng = Rng(4242);
    let (mut tagged, n) = (0, 1000);
    for _ in 0..n {
        let (a, b, c, d) = (rng.int(2, 9), rng.nonzero(-9, 9), rng.int(2, 9), rng.nonzero(-9, 9));
        let sign = |v: i64| if v < 0 { format!("- {}", -v) } else { format!("+ {v}") };
        let problem = format!("{a}(x {}) - {c}(x {})", sign(b), sign(d));
        let (p, q) = (a - c, a * b - c * d);
        // Near the truth: each coefficient off by up to 3, at least one of them off.
        let answer = loop {
            let (dp, dq) = (rng.int(-3, 3), rng.int(-3, 3));
            if (dp, dq) != (0, 0) && p + dp != 0 {
                break format!("{}x {}", p + dp, sign(q + dq));
            }
        };
        let a = assess(&problem, Some(&answer), &[]).unwrap();
        if a.is_correct == Some(false) && a.error_tag_code != "UNCLASSIFIED" {
            tagged += 1;
        }
    }
    let rate = tagged as f64 / n as f64;
    println!(
        "1000 random near-miss simplifications of a(x + b) - c(x + d): {:.1}% tagged",
        100.0 * rate
    );
    assert!(rate <= 0.10, "{rate}");
}

#[test]
fn more_steps_for_the_numeric_procedures() {
    assert_eq!(
        from_step("-5^2 + 30", &["25 + 30"], "55"),
        (Some(0), "NEGATIVE-BASE-SQUARED".into())
    );
    assert_eq!(
        from_step("12 - 3 \\cdot 2", &["= 9 \\cdot 2", "= 18"], "18"),
        (Some(0), "LEFT-TO-RIGHT".into())
    );
    assert_eq!(
        from_step("25\\% \\cdot 80", &["80 : 25"], "3,2"),
        (Some(0), "DIVIDES-BY-PERCENT".into())
    );
    assert_eq!(
        from_step("30\\% de 50", &["30 \\cdot 50"], "1500"),
        (Some(0), "PERCENT-DECIMAL-SHIFT".into())
    );
}

#[test]
fn a_systems_wrong_step_and_answer_reinforce_each_other() {
    let with_steps = assess("x + y = 5, 2x + y = 7", Some("x = 4, y = -1"), &["x = 5 + y"]).unwrap();
    let answer_only = assess("x + y = 5, 2x + y = 7", Some("x = 4, y = -1"), &[]).unwrap();
    assert_eq!(with_steps.error_subtag.as_deref(), Some("SUBSTITUTION-SIGN-ERROR"));
    assert!(
        with_steps.confidence >= answer_only.confidence,
        "{} {}",
        with_steps.confidence,
        answer_only.confidence
    );
    assert_eq!(with_steps.candidates[0].step, Some(0));
}

/// A problem of each kind the procedures cover, with small random numbers.
fn problem_of_kind(rng: &mut Rng, kind: usize) -> String {
    let sign = |v: i64| if v < 0 { format!("- {}", -v) } else { format!("+ {v}") };
    let (a, b, c, d) = (rng.int(2, 9), rng.nonzero(-9, 9), rng.int(2, 9), rng.nonzero(-9, 9));
    match kind {
        0 => linear_equation(rng).0,
        1 => format!("{}x {} < {}", -a, sign(b), rng.int(-20, 20)),
        2 => {
            let (r1, r2) = (rng.int(-6, 6), rng.int(1, 6));
            format!("x^2 {}x {} = 0", sign(-(r1 + r2)), sign(r1 * r2))
        }
        3 => format!("{a}(x {}) - {c}(x {})", sign(b), sign(d)),
        4 => format!("(x {})^2 - {c}x", sign(b)),
        5 => {
            let op = |rng: &mut Rng| if rng.int(0, 1) == 0 { "+" } else { "-" };
            let (n, o1, o2, e) = (rng.int(1, 20), op(rng), op(rng), rng.int(1, 9));
            format!("{n} {o1} {a} \\cdot {c} {o2} {e}")
        }
        6 => format!("{}\\% de {}", 5 * rng.int(1, 19), 10 * rng.int(1, 30)),
        7 => format!("{a} : {} = {c} : x", a * rng.int(2, 4)),
        _ => format!("x - {}\\% x = {}", 5 * rng.int(1, 8), 4 * rng.int(5, 30)),
    }
}

/// How a student would write a set as an answer.
fn answer_text(set: &cas::equivalence::SolutionSet) -> Option<String> {
    use cas::equivalence::SolutionSet::*;
    Some(match set {
        Value(v) => v.to_string(),
        Expression(p) => p.to_string(),
        Points(ps) if !ps.is_empty() => ps.iter().map(|p| format!("x = {p}")).collect::<Vec<_>>().join(", "),
        Ray(op, b) => format!("x {} {b}", op.symbol()),
        _ => return None,
    })
}

#[test]
fn procedures_are_recovered_from_their_own_answers() {
    // `cargo test -p cas --test assess recovered -- --nocapture` prints the figures in docs/cas.md.
    let kinds = [
        "linear equation",
        "linear inequality",
        "quadratic",
        "simplification",
        "square of a sum",
        "order of operations",
        "percent of",
        "proportion",
        "percent equation",
    ];
    let mut rng = Rng(31);
    let (mut unique, mut top1, mut shared, mut shared_top1) = (0, 0, 0, 0);
    for (kind, name) in kinds.iter().enumerate() {
        let (mut u, mut t) = (0, 0);
        for _ in 0..60 {
            let problem = problem_of_kind(&mut rng, kind);
            let Ok(solution) = cas::solve(&problem) else { continue };
            let statement = cas::parse(&problem).unwrap();
            let reading = match &statement {
                cas::Statement::Expr(_) => cas::equivalence::Reading::Expression,
                _ => cas::equivalence::Reading::Relation('x'),
            };
            let Some(correct) = cas::equivalence::of_answer(&solution.answer) else {
                continue;
            };
            let start = cas::misconceptions::Start {
                statement: &statement,
                text: &problem,
                reading,
            };
            // Which procedures produce each wrong set.
            let mut producers: Vec<(cas::equivalence::SolutionSet, Vec<&str>)> = Vec::new();
            for p in cas::misconceptions::LIBRARY {
                for out in p.outputs(&start) {
                    let Ok(set) = cas::equivalence::of_statement(&out, reading) else {
                        continue;
                    };
                    if set == correct {
                        continue;
                    }
                    match producers.iter_mut().find(|(s, _)| *s == set) {
                        Some((_, ps)) if !ps.contains(&p.subtag) => ps.push(p.subtag),
                        Some(_) => {}
                        None => producers.push((set, vec![p.subtag])),
                    }
                }
            }
            for (set, procs) in &producers {
                let Some(answer) = answer_text(set) else { continue };
                let a = assess(&problem, Some(&answer), &[]).unwrap();
                if a.is_correct != Some(false) {
                    continue;
                }
                let got = a.error_subtag.unwrap_or_default();
                if procs.len() == 1 {
                    u += 1;
                    t += usize::from(got == procs[0]);
                } else {
                    shared += 1;
                    shared_top1 += usize::from(procs.contains(&got.as_str()));
                }
            }
        }
        println!("{name}: {t} of {u} answers only one procedure produces get its subtag");
        unique += u;
        top1 += t;
    }
    println!(
        "all kinds: {top1} of {unique} ({:.1}%) single-explanation answers get their procedure; {shared_top1} of {shared} shared ones get one of theirs",
        100.0 * top1 as f64 / unique as f64
    );
    assert!(top1 as f64 >= 0.95 * unique as f64, "{top1} of {unique}");
}

#[test]
fn quadratic_formula_sign_with_irrational_roots() {
    // x^2 - 2x - 2 = 0 has x = 1 ± √3; with b for -b: -1 ± √3.
    assert_eq!(
        from_answer("x^2 - 2x - 2 = 0", "x = -1 \\pm \\sqrt{3}"),
        "QUADRATIC-FORMULA-MINUS-B-DROPPED"
    );
    assert_eq!(
        from_step(
            "x^2 - 5x + 5 = 0",
            &["x = \\frac{-5 \\pm \\sqrt{5}}{2}"],
            "x = \\frac{-5 \\pm \\sqrt{5}}{2}"
        ),
        (Some(0), "QUADRATIC-FORMULA-MINUS-B-DROPPED".into())
    );
    let a = assess(
        "x^2 - 2x - 2 = 0",
        Some("x = 1 \\pm \\sqrt{3}"),
        &["x = \\frac{2 \\pm \\sqrt{12}}{2}"],
    )
    .unwrap();
    assert_eq!(
        (a.error_tag_code.as_str(), a.first_wrong_step),
        ("CORRECT", None),
        "{:?}",
        a.steps
    );
}

#[test]
fn feedback_carries_the_procedures_hint() {
    let a = assess("2x + 3 = 11", Some("x = 7"), &[]).unwrap();
    assert!(a.feedback.contains("changes its sign"), "{}", a.feedback);
    for p in cas::misconceptions::LIBRARY {
        assert!(!p.hint.is_empty() && !p.hint.ends_with('.'), "{}", p.subtag);
    }
    assert!(assess("2x + 3 = 11", Some("x = 4"), &[]).unwrap().feedback.is_empty());
}

/// One-operation numeric problems go to the diagnosis engine too: its column, fraction, integer,
/// decimal and power procedures name the bug, and its family is the topic.
#[test]
fn one_operation_problems_get_the_diagnosis_engines_procedures() {
    let cases: &[(&str, &str, &str, &str, &str)] = &[
        (
            "53 - 26",
            "33",
            "ARITH_SUB",
            "ARITH_SUB_BORROW_OMITTED_TENS_G3",
            "SMALLER-FROM-LARGER",
        ),
        (
            "100 - 27",
            "83",
            "ARITH_SUB",
            "ARITH_SUB_BORROW_FROM_ZERO_G3",
            "DONT-DECREMENT-ZERO",
        ),
        (
            "47 + 38",
            "715",
            "ARITH_ADD",
            "ARITH_ADD_WRITES_WHOLE_COLUMN_SUM_G3",
            "WRITES-WHOLE-COLUMN-SUM",
        ),
        (
            "12 \\cdot 5",
            "17",
            "ARITH_MUL",
            "ARITH_MUL_ADD_INSTEAD_G3",
            "ADD-INSTEAD",
        ),
        (
            "\\frac{1}{2} + \\frac{1}{3}",
            "\\frac{2}{5}",
            "FRACT_ADDSUB",
            "FRACT_ADDSUB_SUM_NUMERATOR_AND_DENOMINATOR_G5",
            "ADD-NUMERATORS-AND-DENOMINATORS",
        ),
        (
            "-4 \\cdot (-3)",
            "-12",
            "INT_MUL",
            "INT_SIGN_NEG_TIMES_NEG_IS_NEG_G7",
            "NEG-TIMES-NEG-IS-NEG",
        ),
        (
            "2,5 + 1,25",
            "1,5",
            "DEC_ADD",
            "DEC_ADD_RIGHT_ALIGNED_LIKE_INTEGERS_G5",
            "RIGHT-ALIGNED-LIKE-INTEGERS",
        ),
        (
            "2^3 \\cdot 2^4",
            "2^{12}",
            "POW_POWER",
            "POW_POWER_PRODUCT_MULTIPLIES_EXPONENTS_G8",
            "PRODUCT-MULTIPLIES-EXPONENTS",
        ),
    ];
    for (problem, answer, topic, tag, subtag) in cases {
        let a = assess(problem, Some(answer), &[]).unwrap();
        assert_eq!(a.is_correct, Some(false), "{problem}");
        assert_eq!(a.topic, *topic, "{problem}");
        assert_eq!(a.error_tag_code, *tag, "{problem} = {answer}: {a:?}");
        assert_eq!(a.error_subtag.as_deref(), Some(*subtag), "{problem}");
        assert!(a.confidence >= 0.5, "{problem}");
    }
    // A correct answer takes the family as its topic too; a longer expression stays with the
    // order of operations.
    let right = assess("53 - 26", Some("27"), &["53 - 26 = 27"]).unwrap();
    assert_eq!((right.topic, right.error_tag_code.as_str()), ("ARITH_SUB", "CORRECT"));
    assert_eq!(
        assess("3 + 4 \\cdot 2", Some("14"), &[]).unwrap().topic,
        "ARITH_ORDER_OPS"
    );
    // Noise stays unexplained.
    assert_eq!(
        assess("53 - 26", Some("4"), &[]).unwrap().error_tag_code,
        "UNCLASSIFIED"
    );
}
