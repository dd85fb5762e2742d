//! A bounded fuzz run on stable Rust: the same function as the cargo-fuzz target
//! (`cas::fuzz_one`), on strings biased towards the LaTeX the parser reads, and on raw bytes.

use proptest::prelude::*;

/// Pieces of school LaTeX, including the malformed and the hostile.
const TOKENS: &[&str] = &[
    "0",
    "1",
    "2",
    "7",
    "12",
    "3,5",
    "0.25",
    ".5",
    "99999999999999999999999",
    "x",
    "y",
    "a",
    "+",
    "-",
    "\\cdot",
    "\\times",
    "\\div",
    ":",
    "/",
    "*",
    "^",
    "^{",
    "(",
    ")",
    "{",
    "}",
    "[",
    "]",
    "\\left(",
    "\\right)",
    "\\left.",
    "\\right.",
    "\\left\\{",
    "\\frac",
    "\\frac12",
    "\\frac{",
    "2\\frac{1}{2}",
    "-",
    "\\sqrt",
    "\\sqrt[3]",
    "√",
    "=",
    "<",
    ">",
    "\\le",
    "\\ge",
    "<=",
    ",",
    ", ",
    ";",
    "\\\\",
    "\\%",
    "%",
    " de ",
    " of ",
    "\\text{ o }",
    "\\text{y}",
    "\\text{de}",
    "\\text{infinitas soluciones}",
    "\\text{cm}",
    "\\text{",
    "\\begin{cases}",
    "\\end{cases}",
    "\\begin{array}{ll}",
    "\\end{array}",
    "&",
    "\\pm",
    "±",
    "\\emptyset",
    "\\mathbb{R}",
    "|",
    " ",
    "$",
    "#",
    "\\",
    "^{200}",
    "^{-1}",
    "^{99999}",
    "10^{30}",
    "\\mathbb",
    "é",
    "\u{0}",
];

fn latexish() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        8 => prop::sample::select(TOKENS).prop_map(str::to_string),
        1 => any::<char>().prop_map(|c| c.to_string()),
    ];
    prop::collection::vec(piece, 0..48).prop_map(|v| v.concat())
}

/// Inputs the cargo-fuzz target once crashed on, kept as regressions.
#[test]
fn fuzz_regressions() {
    // 1/21^666 fits the size limit, but checking it squared it (a conjugate for a rational).
    cas::fuzz_one(b"21^-666");
    // `.2/.22` printed as `1/5 / 11/50`, which reads back as 1/5 ÷ 11 ÷ 50.
    cas::fuzz_one(b"$.2/+$.22  ");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn fuzz_latexish(s in latexish()) {
        cas::fuzz_one(s.as_bytes());
    }

    #[test]
    fn fuzz_problem_and_answer(p in latexish(), a in latexish()) {
        cas::fuzz_one(format!("{p}|{a}").as_bytes());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn fuzz_bytes(data in prop::collection::vec(any::<u8>(), 0..96)) {
        cas::fuzz_one(&data);
    }
}
