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
