//! Property tests: no input makes the CAS panic, and expanding never changes a value.

use cas::eval::{eval_with, evaluate};
use cas::{Answer, Poly, Rational, check, parse, parse_expr, solve};
use proptest::prelude::*;

/// Random LaTeX-ish token soup, including malformed input.
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
        "\\times",
        "\\div",
        ":",
        "/",
        "^",
        "(",
        ")",
        "{",
        "}",
        "[",
        "]",
        "\\frac",
        "\\sqrt",
        "\\left(",
        "\\right)",
        "=",
        "<",
        ">",
        "\\le",
        "\\ge",
        ",",
        ";",
        "\\pm",
        "\\text{ o }",
        " ",
        "\\emptyset",
        "\\mathbb{R}",
        "99999999999999999999",
        "#",
        "\\",
        "√",
    ]);
    prop::collection::vec(pieces, 0..40).prop_map(|v| v.concat())
}

/// Well-formed expressions in `x`, fully parenthesised so the string determines the tree.
fn expr() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        (0i64..12).prop_map(|n| n.to_string()),
        Just("x".to_string()),
        Just("1,5".to_string()),
        Just("0.25".to_string()),
        Just("2\\frac{1}{3}".to_string()),
        Just("\\frac12".to_string()),
        Just("(25\\%)".to_string()),
        Just("(10^{30})".to_string()),
        Just("123456789012345678901234567890".to_string()),
    ];
    leaf.prop_recursive(5, 40, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) + ({b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) - ({b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) \\cdot ({b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("\\frac{{{a}}}{{{b}}}")),
            (inner.clone(), 0u32..4).prop_map(|(a, k)| format!("({a})^{{{k}}}")),
            inner.clone().prop_map(|a| format!("-({a})")),
            inner.prop_map(|a| format!("3({a})")),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn never_panics_on_soup(s in soup(), a in soup()) {
        let _ = parse(&s);
        let _ = solve(&s);
        let _ = check(&s, &a);
    }

    #[test]
    fn never_panics_on_arbitrary_strings(s in ".{0,60}") {
        let _ = solve(&s);
        let _ = check("2x+3=11", &s);
    }

    #[test]
    fn expansion_preserves_value(s in expr(), v in -5i128..6) {
        let e = parse_expr(&s).unwrap();
        let x = Rational::integer(v);
        let direct = eval_with(&e, &|c| (c == 'x').then(|| x.clone()));
        if let (Ok(direct), Ok(poly)) = (direct, Poly::from_expr(&e)) {
            // Expansion may overflow where direct evaluation does not; only compare values.
            if let Ok(expanded) = poly.eval(&x) {
                prop_assert_eq!(direct, expanded, "{} at x = {}", s, v);
            }
        }
    }

    /// Simplifying (expand and collect, as `solve` does) keeps the value at every point.
    #[test]
    fn simplification_preserves_value(s in expr(), v in -6i128..7) {
        let e = parse_expr(&s).unwrap();
        let x = Rational::integer(v);
        let direct = eval_with(&e, &|c| (c == 'x').then(|| x.clone()));
        if let (Ok(direct), Ok(sol)) = (direct, solve(&s)) {
            match &sol.answer {
                Answer::Expression { poly } => prop_assert_eq!(poly.eval(&x).unwrap(), direct, "{}", s),
                Answer::Number { value } => prop_assert_eq!(value, &direct, "{}", s),
                other => prop_assert!(false, "unexpected {:?}", other),
            }
        }
    }

    #[test]
    fn stepwise_evaluation_agrees(s in expr(), v in -5i64..6) {
        let numeric = s.replace('x', &format!("({v})"));
        let e = parse_expr(&numeric).unwrap();
        if let Ok(value) = evaluate(&e) {
            let sol = solve(&numeric).unwrap();
            prop_assert_eq!(sol.answer, Answer::Number { value });
        }
    }

    #[test]
    fn quadratic_roots_satisfy_the_equation(a in -6i128..7, b in -20i128..21, c in -20i128..21) {
        prop_assume!(a != 0);
        let problem = format!("{a}x^2 + ({b})x + ({c}) = 0");
        let sol = solve(&problem).unwrap();
        let p = Poly { var: Some('x'), coeffs: vec![Rational::integer(c), Rational::integer(b), Rational::integer(a)] };
        match &sol.answer {
            Answer::Roots { roots, .. } => {
                for r in roots {
                    prop_assert!(p.eval(r).unwrap().is_zero());
                }
                let answer = roots.iter().map(|r| format!("x = {r}")).collect::<Vec<_>>().join(", ");
                prop_assert!(check(&problem, &answer).unwrap().is_correct);
            }
            Answer::SurdRoots { roots, .. } => {
                let answer = format!("x = {roots}");
                prop_assert!(check(&problem, &answer).unwrap().is_correct, "{}", answer);
            }
            Answer::NoSolution { .. } => prop_assert!(b * b - 4 * a * c < 0),
            other => prop_assert!(false, "unexpected {:?}", other),
        }
    }

    #[test]
    fn linear_solutions_check_out(a in -9i128..10, b in -20i128..21, c in -20i128..21) {
        prop_assume!(a != 0);
        let problem = format!("{a}x + ({b}) = {c}");
        let sol = solve(&problem).unwrap();
        let x = Rational::new(c - b, a).unwrap();
        prop_assert_eq!(&sol.answer_text, &format!("x = {x}"));
        let right = format!("x = {x}");
        let wrong = format!("x = {}", x.checked_add(Rational::ONE).unwrap());
        prop_assert!(check(&problem, &right).unwrap().is_correct);
        prop_assert!(!check(&problem, &wrong).unwrap().is_correct);
    }
}

/// Schoolbook multiplication of decimal strings: an oracle for big products that shares no
/// code with the CAS.
fn mul_decimal(a: &str, b: &str) -> String {
    let (a, b): (Vec<u32>, Vec<u32>) = (
        a.bytes().rev().map(|d| u32::from(d - b'0')).collect(),
        b.bytes().rev().map(|d| u32::from(d - b'0')).collect(),
    );
    let mut out = vec![0u32; a.len() + b.len()];
    for (i, x) in a.iter().enumerate() {
        let mut carry = 0;
        for (j, y) in b.iter().enumerate() {
            let t = out[i + j] + x * y + carry;
            out[i + j] = t % 10;
            carry = t / 10;
        }
        let mut k = i + b.len();
        while carry > 0 {
            let t = out[k] + carry;
            out[k] = t % 10;
            carry = t / 10;
            k += 1;
        }
    }
    while out.len() > 1 && out.last() == Some(&0) {
        out.pop();
    }
    out.iter().rev().map(|d| char::from(b'0' + *d as u8)).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn big_products_are_exact(a in "[1-9][0-9]{15,40}", b in "[1-9][0-9]{15,40}") {
        let problem = format!("{a} \\cdot {b}");
        let want = mul_decimal(&a, &b);
        prop_assert_eq!(&solve(&problem).unwrap().answer_text, &want);
        prop_assert!(check(&problem, &want).unwrap().is_correct);
        let quotient = format!("\\frac{{{want}}}{{{b}}}");
        prop_assert_eq!(solve(&quotient).unwrap().answer_text, a);
    }

    #[test]
    fn systems_recover_their_solution(
        a1 in -6i128..7, b1 in -6i128..7, a2 in -6i128..7, b2 in -6i128..7, x in -9i128..10, y in -9i128..10,
    ) {
        prop_assume!(a1 * b2 - a2 * b1 != 0);
        let (c1, c2) = (a1 * x + b1 * y, a2 * x + b2 * y);
        let problem = format!("{a1}x + ({b1})y = {c1} \\\\ {a2}x + ({b2})y = {c2}");
        let sol = solve(&problem).unwrap();
        prop_assert_eq!(sol.answer, Answer::Point { vars: vec!['x', 'y'], values: vec![Rational::integer(x), Rational::integer(y)] });
        let (point, named, wrong) = (format!("({x}, {y})"), format!("y = {y}, x = {x}"), format!("({}, {y})", x + 1));
        prop_assert!(check(&problem, &point).unwrap().is_correct);
        prop_assert!(check(&problem, &named).unwrap().is_correct);
        prop_assert!(!check(&problem, &wrong).unwrap().is_correct);
    }

    #[test]
    fn dependent_systems_have_no_or_infinitely_many(a in -6i128..7, b in -6i128..7, c in -20i128..21, k in 2i128..5, shift in 0i128..3) {
        prop_assume!(a != 0 || b != 0);
        let problem = format!("{a}x + ({b})y = {c}; {}x + ({})y = {}", k * a, k * b, k * c + shift);
        let sol = solve(&problem).unwrap();
        if shift == 0 {
            prop_assert!(matches!(sol.answer, Answer::SystemInfinite { .. }), "{:?}", sol.answer);
            let line = format!("{a}x + ({b})y = {c}");
            prop_assert!(check(&problem, &line).unwrap().is_correct);
        } else {
            prop_assert!(matches!(sol.answer, Answer::SystemNoSolution { .. }), "{:?}", sol.answer);
            prop_assert!(check(&problem, "\\emptyset").unwrap().is_correct);
        }
    }

    #[test]
    fn proportions_cross_multiply(a in 1i128..30, b in 1i128..30, c in 1i128..30) {
        let problem = format!("\\frac{{{a}}}{{{b}}} = \\frac{{{c}}}{{x}}");
        let x = Rational::new(b * c, a).unwrap();
        let sol = solve(&problem).unwrap();
        prop_assert_eq!(&sol.answer_text, &format!("x = {x}"));
        let answer = format!("x = {x}");
        prop_assert!(check(&problem, &answer).unwrap().is_correct);
        let ratio = format!("{a}:{b} = {c}:x");
        prop_assert_eq!(solve(&ratio).unwrap().answer_text, answer);
    }

    #[test]
    fn percentages_of_quantities(p in 0i128..300, n in 0i128..2000) {
        let value = Rational::new(p * n, 100).unwrap();
        for problem in [format!("{p}\\% de {n}"), format!("{p}% of {n}"), format!("{p}\\% \\cdot {n}")] {
            prop_assert_eq!(&solve(&problem).unwrap().answer_text, &value.to_string());
        }
    }

    #[test]
    fn mixed_numbers_are_sums(w in 0i128..20, n in 1i128..12, d in 2i128..13) {
        prop_assume!(n < d);
        let value = Rational::new(w * d + n, d).unwrap();
        let (mixed, negative) = (format!("{w}\\frac{{{n}}}{{{d}}}"), format!("-{w}\\frac{{{n}}}{{{d}}}"));
        prop_assert_eq!(solve(&mixed).unwrap().answer, Answer::Number { value: value.clone() });
        prop_assert_eq!(solve(&negative).unwrap().answer, Answer::Number { value: value.checked_neg().unwrap() });
    }
}
