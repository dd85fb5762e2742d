//! The body of the fuzz target (`crates/cas/fuzz`), kept in the crate so that the bounded run
//! in `tests/fuzz.rs` exercises exactly the same calls on stable Rust.

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
/// both. Panics only when the CAS does: a value it computes must be accepted back as the
/// answer.
pub fn fuzz_one(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let _ = parse(s);
    let _ = parse_expr(s);
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
