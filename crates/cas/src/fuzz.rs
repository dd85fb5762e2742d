//! The body of the fuzz target `latex` (`fuzz/`), kept in the crate so that the bounded run in
//! `tests/fuzz.rs` exercises exactly the same calls on stable Rust.

use crate::ast::Expr;
use crate::error::ParseError;
use crate::eval::eval_with;
use crate::number::Rational;
use crate::solve::Answer;
use crate::{check, parse, parse_expr, parse_list, solve};

/// Problems whose checking reads arbitrary answers.
const PROBLEMS: &[&str] = &[
    "2x+3=11",
    "x^2-5x+6=0",
    "x^2 - 2x - 2 = 0",
    "x + y = 5 \\\\ x - y = 1",
    "x + y = 5; 2x + 2y = 10",
    "15\\% de 200",
    "2(x+3) - x",
    "\\frac{3}{x} = \\frac{6}{8}",
    "-2x + 1 > 9",
];

/// Runs the parser, the solver and the checker on `data` (UTF-8; anything else is ignored).
/// `problem|answer` splits the input into a problem and an answer; without `|` the input is
/// both. Panics only when the CAS does: a printed expression must read back with its value,
/// and a value it computes must be accepted back as the answer.
pub fn fuzz_one(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let _ = parse(s);
    if let Ok(e) = parse_expr(s) {
        printing_keeps_the_value(s, &e);
    }
    let _ = parse_list(s);
    let (problem, answer) = s.split_once('|').unwrap_or((s, s));
    if let Ok(solution) = solve(problem)
        && let Answer::Number { value } = &solution.answer
    {
        let text = value.to_string();
        if text.len() <= crate::parser::MAX_INPUT_LEN {
            let verdict = check(problem, &text).expect("a solvable problem checks");
            assert!(
                verdict.is_correct,
                "{problem}: its own value {text} rejected: {}",
                verdict.feedback
            );
        }
    }
    let _ = check(problem, answer);
    for p in PROBLEMS {
        let _ = check(p, s);
    }
}

/// Steps and feedback show expressions as [`Expr`]'s `Display` prints them, so the print must
/// mean what was parsed: read back, it has the same value (each variable given a small value of
/// its own). Roots other than square ones print as `root[n](a)`, a form for people that the
/// parser does not read, and prints beyond the parser's limits cannot be read back at all.
fn printing_keeps_the_value(input: &str, e: &Expr) {
    let env = |c: char| Some(Rational::integer(i128::from(u32::from(c) % 7) + 2));
    let Ok(value) = eval_with(e, &env) else {
        return;
    };
    let printed = e.to_string();
    if printed.contains("root[") {
        return;
    }
    match parse_expr(&printed) {
        Ok(again) => assert_eq!(
            eval_with(&again, &env),
            Ok(value),
            "{input:?} printed as {printed:?} reads back as {again}"
        ),
        Err(ParseError::TooLong { .. } | ParseError::TooDeep { .. } | ParseError::TooComplex { .. }) => {}
        Err(err) => panic!("{input:?} printed as {printed:?} does not read back: {err}"),
    }
}
