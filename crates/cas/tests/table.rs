//! Table of school problems: the expected answer text, answers that must be accepted and
//! answers that must be rejected.

use cas::{SolutionKind, check, solve};

struct Case {
    problem: &'static str,
    expected: &'static str,
    right: &'static [&'static str],
    wrong: &'static [&'static str],
}

const fn case(
    problem: &'static str,
    expected: &'static str,
    right: &'static [&'static str],
    wrong: &'static [&'static str],
) -> Case {
    Case {
        problem,
        expected,
        right,
        wrong,
    }
}

const CASES: &[Case] = &[
    // Numeric evaluation and order of operations.
    case(
        "3 + 4 \\cdot 2",
        "11",
        &["11", "11.0", "\\frac{22}{2}"],
        &["14", "x = 11"],
    ),
    case("(3 + 4) \\cdot 2", "14", &["14"], &["11"]),
    case("12 : 4 \\cdot 3", "9", &["9"], &["1"]),
    case("12 \\div (4 \\cdot 3)", "1", &["1"], &["9"]),
    case("2^3^2", "512", &["512"], &["64"]),
    case("-3^2", "-9", &["-9"], &["9"]),
    case("(-3)^2", "9", &["9"], &["-9"]),
    case(
        "\\frac{1}{2} + \\frac{1}{3}",
        "5/6",
        &["\\frac{5}{6}", "5/6", "\\frac{10}{12}"],
        &["\\frac{2}{5}", "0.83"],
    ),
    case(
        "0.1 + 0.2",
        "3/10",
        &["0.3", "0,3", "\\frac{3}{10}"],
        &["0.30000000000000004"],
    ),
    case("3,5 \\times 2", "7", &["7", "7,0"], &["6"]),
    case("\\sqrt{16} + \\sqrt[3]{27}", "7", &["7"], &["6"]),
    case("2^{-2}", "1/4", &["0.25", "\\frac{1}{4}"], &["-4"]),
    case("\\left(1 + 2\\right)^2 - 5", "4", &["4"], &["0"]),
    case("10 - 4 - 3", "3", &["3"], &["9"]),
    case("100 : 10 : 2", "5", &["5"], &["20"]),
    case("-2 \\cdot (-3)", "6", &["6"], &["-6"]),
    case(
        "\\frac{3}{4} \\div \\frac{1}{2}",
        "3/2",
        &["1.5", "1,5", "\\frac{3}{2}"],
        &["\\frac{3}{8}"],
    ),
    case("2 \\cdot 3^2", "18", &["18"], &["36"]),
    case("\\sqrt{\\frac{9}{4}}", "3/2", &["1.5"], &["2.25"]),
    case("5 - (2 - 7)", "10", &["10"], &["0"]),
    // Big numbers: exact beyond i128.
    case(
        "2^{200}",
        "1606938044258990275541962092341162602522202993782792835301376",
        &[
            "1606938044258990275541962092341162602522202993782792835301376",
            "2^{200}",
            "4^{100}",
        ],
        &[
            "1606938044258990275541962092341162602522202993782792835301377",
            "2^{199}",
        ],
    ),
    case("\\frac{10^{30}}{10^{28}}", "100", &["100", "10^2"], &["10"]),
    case(
        "123456789012345678901234567890 \\cdot 987654321098765432109876543210",
        "121932631137021795226185032733622923332237463801111263526900",
        &["121932631137021795226185032733622923332237463801111263526900"],
        &["121932631137021795226185032733622923332237463801111263526901"],
    ),
    // Simplification.
    case(
        "2(x+3) - x",
        "x + 6",
        &["x + 6", "6 + x", "x+6"],
        &["x + 3", "2x + 6", "2(x+3) - x", "2x + 6 - x"],
    ),
    case(
        "(x+1)^2",
        "x^2 + 2x + 1",
        &["x^2+2x+1", "1 + 2x + x^2"],
        &["x^2 + 1", "(x+1)^2", "(x+1)(x+1)"],
    ),
    case("(x-2)(x+2)", "x^2 - 4", &["x^2 - 4"], &["x^2 + 4"]),
    case("3a - 2(a - 1)", "a + 2", &["a + 2"], &["a - 2", "x + 2"]),
    case("\\frac{4x + 2}{2}", "2x + 1", &["2x + 1"], &["4x + 1"]),
    case("x \\cdot x \\cdot x", "x^3", &["x^3"], &["3x"]),
    case("-(x - 5)", "-x + 5", &["5 - x"], &["x - 5"]),
    case(
        "\\frac{x}{3} + \\frac{x}{6}",
        "(1/2)x",
        &["\\frac{x}{2}", "0.5x", "\\frac{1}{2}x"],
        &["\\frac{x}{9}"],
    ),
    // Linear equations.
    case(
        "2x+3=11",
        "x = 4",
        &["x=4", "4", "x = 8/2", "4.0", "4,0", "\\frac{8}{2}", "4 = x"],
        &["x=5", "y=4", "x=-4", "2x = 8"],
    ),
    case("3x - 5 = 10", "x = 5", &["x = 5", "5"], &["x = 15"]),
    case("5 - x = 2", "x = 3", &["x=3"], &["x=-3"]),
    case("2(x + 3) = 10", "x = 2", &["x = 2"], &["x = 3.5"]),
    case("4x + 1 = 2x + 9", "x = 4", &["x = 4"], &["x = 5"]),
    case("11 = 2x + 3", "x = 4", &["x = 4"], &["x = 7"]),
    case("\\frac{x}{2} = 3", "x = 6", &["x = 6"], &["x = 1.5"]),
    case(
        "3x = 2",
        "x = 2/3",
        &["x = \\frac{2}{3}", "x = 2/3", "\\frac{4}{6}"],
        &["x = 0.67", "x = 1.5"],
    ),
    case("0,5x + 1 = 2", "x = 2", &["x = 2"], &["x = 1"]),
    case("-x = 7", "x = -7", &["x = -7", "-7"], &["x = 7"]),
    case("7 = 7 - 3y", "y = 0", &["y = 0", "0"], &["x = 0", "y = 7"]),
    case("x - 2(x - 1) = 5", "x = -3", &["x = -3"], &["x = 3"]),
    case("x + x + x = 3x", "every real number", &["\\mathbb{R}"], &["x = 0"]),
    case(
        "x + 1 = x + 2",
        "no solution",
        &["\\emptyset", "\\varnothing"],
        &["x = 0"],
    ),
    // Linear inequalities.
    case(
        "2x > 8",
        "x > 4",
        &["x > 4", "4 < x", "x > \\frac{8}{2}"],
        &["x < 4", "x \\ge 4", "x > 5", "4"],
    ),
    case("-2x + 1 > 9", "x < -4", &["x < -4", "-4 > x"], &["x > -4"]),
    case(
        "3x - 2 \\le 7",
        "x ≤ 3",
        &["x \\le 3", "x \\leq 3", "3 \\geq x", "x <= 3"],
        &["x < 3", "x \\ge 3"],
    ),
    case("-x \\geq 2", "x ≤ -2", &["x \\le -2"], &["x \\ge -2"]),
    case("5 - 2x < 1", "x > 2", &["x > 2"], &["x < 2"]),
    case("4 < 2x", "x > 2", &["x > 2", "2 < x"], &["x < 2"]),
    case("\\frac{x}{-3} \\ge 1", "x ≤ -3", &["x \\le -3"], &["x \\ge -3"]),
    case("2(x - 1) < x + 3", "x < 5", &["x < 5"], &["x > 5"]),
    case("x < x + 1", "every real number", &["\\mathbb{R}"], &["x < 1"]),
    // Quadratic equations.
    case(
        "x^2 - 5x + 6 = 0",
        "x = 2 or x = 3",
        &["x=2, x=3", "x=3 \\text{ o } x=2", "3; 2", "x = 2 \\text{ or } x = 3"],
        &["x = 2", "x=2, x=4", "x = 2, x = 3, x = 4"],
    ),
    case(
        "x^2 = 9",
        "x = -3 or x = 3",
        &["x = \\pm 3", "x = 3, x = -3"],
        &["x = 3"],
    ),
    case("x^2 - 4x + 4 = 0", "x = 2", &["x = 2", "x = 2, x = 2"], &["x = -2"]),
    case("x^2 + 1 = 0", "no solution", &["\\emptyset"], &["x = 1", "x = -1"]),
    case(
        "2x^2 - 8 = 0",
        "x = -2 or x = 2",
        &["x = 2, x = -2"],
        &["x = 4, x = -4"],
    ),
    case(
        "x^2 - 2x - 2 = 0",
        "x = 1 ± √3",
        &[
            "x = 1 \\pm \\sqrt{3}",
            "x = 1 + \\sqrt{3}, x = 1 - \\sqrt{3}",
            "x = \\frac{2 \\pm \\sqrt{12}}{2}",
        ],
        &["x = 1 + \\sqrt{3}", "x = 1 \\pm \\sqrt{2}", "x = 2.732, x = -0.732"],
    ),
    case(
        "x^2 - 5x + 5 = 0",
        "x = (5 ± √5)/2",
        &["x = \\frac{5 \\pm \\sqrt{5}}{2}", "x = 2.5 \\pm \\frac{\\sqrt{5}}{2}"],
        &["x = 5 \\pm \\sqrt{5}"],
    ),
    case("x(x - 3) = 0", "x = 0 or x = 3", &["x = 0, x = 3"], &["x = 3"]),
    case(
        "(x + 1)(x - 4) = 0",
        "x = -1 or x = 4",
        &["x = 4 \\text{ o } x = -1"],
        &["x = 1, x = -4"],
    ),
    case(
        "x^2 = 2x + 3",
        "x = -1 or x = 3",
        &["x = -1, x = 3"],
        &["x = 1, x = -3"],
    ),
    case("-x^2 + 4 = 0", "x = -2 or x = 2", &["x = \\pm 2"], &["x = 4"]),
    case(
        "6x^2 - 5x + 1 = 0",
        "x = 1/3 or x = 1/2",
        &["x = \\frac{1}{2}, x = \\frac{1}{3}", "0.5; \\frac{2}{6}"],
        &["x = 2, x = 3"],
    ),
    case(
        "x^2 = 2",
        "x = ±√2",
        &["x = \\pm\\sqrt{2}", "x = \\sqrt{2}, x = -\\sqrt{2}"],
        &["x = \\sqrt{2}", "x = 1.41, x = -1.41"],
    ),
    case("x^2 + x + 1 = x^2 + 4", "x = 3", &["x = 3"], &["x = -3"]),
];

#[test]
fn table_has_enough_problems() {
    assert!(CASES.len() >= 60, "only {} problems", CASES.len());
}

#[test]
fn solutions_match_the_table() {
    let mut failures = Vec::new();
    for c in CASES {
        match solve(c.problem) {
            Ok(s) if s.answer_text == c.expected => {}
            Ok(s) => failures.push(format!("{}: got {:?}, want {:?}", c.problem, s.answer_text, c.expected)),
            Err(e) => failures.push(format!("{}: error {e}", c.problem)),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn answers_are_judged_by_equivalence() {
    let mut failures = Vec::new();
    for c in CASES {
        for a in c.right {
            let v = check(c.problem, a).unwrap();
            if !v.is_correct {
                failures.push(format!("{} / {a}: rejected ({})", c.problem, v.feedback));
            }
        }
        for a in c.wrong {
            let v = check(c.problem, a).unwrap();
            if v.is_correct {
                failures.push(format!("{} / {a}: accepted", c.problem));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn steps_explain_the_work() {
    let s = solve("2x+3=11").unwrap();
    assert_eq!(s.kind, SolutionKind::LinearEquation);
    assert_eq!(
        s.steps,
        ["subtract 3 from both sides: 2x = 8", "divide both sides by 2: x = 4"]
    );

    let s = solve("4x + 1 = 2x + 9").unwrap();
    assert_eq!(
        s.steps,
        [
            "subtract 2x from both sides: 2x + 1 = 9",
            "subtract 1 from both sides: 2x = 8",
            "divide both sides by 2: x = 4"
        ]
    );

    let s = solve("2(x + 3) = 10").unwrap();
    assert_eq!(s.steps[0], "expand and collect like terms: 2x + 6 = 10");

    let s = solve("\\frac{2}{3}x = 4").unwrap();
    assert_eq!(s.steps.last().unwrap(), "multiply both sides by 3/2: x = 6");

    let s = solve("-2x + 1 > 9").unwrap();
    assert_eq!(s.kind, SolutionKind::LinearInequality);
    assert!(s.steps.last().unwrap().contains("reverses the inequality sign"));

    let s = solve("x^2 - 5x + 6 = 0").unwrap();
    assert_eq!(s.kind, SolutionKind::QuadraticEquation);
    assert!(
        s.steps
            .iter()
            .any(|st| st.starts_with("discriminant: D = b^2 - 4ac = (-5)^2 - 4 · 1 · 6 = 1"))
    );

    let s = solve("3 + 4 \\cdot 2").unwrap();
    assert_eq!(s.kind, SolutionKind::Evaluation);
    assert_eq!(s.steps, ["4 · 2 = 8, so 3 + 8", "3 + 8 = 11"]);
}

#[test]
fn solution_serialises() {
    let s = solve("x^2 - 2x - 2 = 0").unwrap();
    let json = serde_json::to_string(&s).unwrap();
    assert!(json.contains("\"kind\":\"quadratic_equation\""), "{json}");
    let back: cas::Solution = serde_json::from_str(&json).unwrap();
    assert_eq!(back, s);
}

#[test]
fn unreadable_answers_are_incorrect_not_errors() {
    let v = check("2x+3=11", "x = ").unwrap();
    assert!(!v.is_correct);
    assert_eq!(
        v.feedback,
        "could not read the answer: expected a number, a variable or '(' at 4"
    );
    assert!(check("2x + = 11", "4").is_err());
}

#[test]
fn parser_error_positions() {
    let cases: &[(&str, &str)] = &[
        ("2x + 3 = ", "expected a number, a variable or '(' at 9"),
        ("(1 + 2", "expected ')' at 6"),
        ("1 + * 2", "expected a number, a variable or '(' at 4"),
        ("\\frac{1}{2", "expected '}' at 10"),
        ("\\frac{1}", "expected '{' at 8"),
        ("2 # 3", "unexpected character '#' at 2"),
        ("\\alpha + 1", "unknown command '\\alpha' at 0"),
        ("1 + 2)", "expected an operator or the end of the input at 5"),
        ("x = = 2", "expected a number, a variable or '(' at 4"),
    ];
    for (input, msg) in cases {
        assert_eq!(cas::parse(input).unwrap_err().to_string(), *msg, "{input}");
    }
}

#[test]
fn long_and_deep_inputs_are_bounded() {
    let long_sum = vec!["1"; 150].join("+");
    assert_eq!(solve(&long_sum).unwrap().answer_text, "150");
    let long_x = vec!["x"; 199].join("+") + "=1";
    assert_eq!(solve(&long_x).unwrap().answer_text, "x = 1/199");
    assert!(matches!(
        solve(&vec!["1"; 500].join("+")),
        Err(cas::CasError::Parse(cas::ParseError::TooComplex { .. }))
    ));
    assert!(solve(&"x".repeat(900)).is_err());
    assert!(solve(&"2^".repeat(300)).is_err());
    assert!(solve("2^{10000000000}").is_err());
    assert!(solve("(x+1)^{100000000000} = 0").is_err());
    assert!(
        check(
            "x^2 = 2",
            &format!("x = ({})^{{-170141183460469231731687303715884105728}}", "1+\\sqrt{2}")
        )
        .is_ok()
    );
    assert!(solve("99999999999999999999999999999999999999 x^2 + 99999999999999999999999999999999999999x = 1").is_err());
}
