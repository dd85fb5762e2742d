//! One-operation numeric problems (`53 - 26`, `\frac{1}{2} + \frac{1}{3}`, `-4 \cdot 3`,
//! `2,5 + 1,25`, `2^3 \cdot 2^4`) are the diagnosis engine's ground: its library models the
//! column algorithms (borrows, carries, partial products) and the fraction, integer, decimal and
//! power bugs one procedure at a time (docs/diagnosis.md). An ad-hoc evaluation is handed to it
//! as well, so that a scanned `53 - 26 = 33` gets the same diagnosis, and the same topic for
//! mastery (`ARITH_SUB`), as the exercise would on `POST /attempts`.

use diagnosis::{Attempt, Evidence, Family, Number, Options, Q, Step, UNCLASSIFIED};

use crate::assess::Misconception;
use crate::number::Rational;
use crate::parser::parse_expr;

/// The broad families: the engine resolves the concrete family (`ARITH_SUB`, `FRACT_ADDSUB`,
/// …) from the problem and the kind of number.
const BROAD: [Family; 6] = [
    Family::Arith,
    Family::Fract,
    Family::Dec,
    Family::Int,
    Family::Pow,
    Family::Ratio,
];

/// The broad family the problem's writing points to, offered the problem first: `100 - 27`
/// is whole-number subtraction even if another family could also read it.
fn written_kind(problem: &str) -> Family {
    let b = problem.as_bytes();
    let digit_sep_digit = (1..b.len().saturating_sub(1))
        .any(|i| matches!(b[i], b'.' | b',') && b[i - 1].is_ascii_digit() && b[i + 1].is_ascii_digit());
    // A minus that is a sign: at the start, or after an operator or an opening bracket.
    let signed = problem.trim_start().starts_with('-')
        || ["(-", "( -", "\\cdot -", "\\times -", "+ -", "- -", ": -", "=-", "= -"]
            .iter()
            .any(|p| problem.contains(p));
    if problem.contains('%') {
        Family::Ratio
    } else if problem.contains('^') || problem.contains("sqrt") || problem.contains('√') {
        Family::Pow
    } else if problem.contains("frac") || problem.contains('/') {
        Family::Fract
    } else if digit_sep_digit {
        Family::Dec
    } else if signed {
        Family::Int
    } else {
        Family::Arith
    }
}

/// What the engine makes of a problem it could read.
#[derive(Debug)]
pub(crate) struct EngineVerdict {
    /// The concrete family it ran under: a catalogue topic code too.
    pub family: &'static str,
    /// The tag, procedure and confidence, when one is confident enough.
    pub tag: Option<(String, Option<String>, f64)>,
    pub candidates: Vec<Misconception>,
}

/// The engine's verdict on `answer` for `problem`, whose value is `expected`; None when no
/// family of the engine reads the problem as one of its own (a longer expression, say).
/// Without an answer only the family is of use (for the topic).
pub(crate) fn diagnose(
    problem: &str,
    expected: &Rational,
    answer: Option<&str>,
    steps: &[&str],
) -> Option<EngineVerdict> {
    let (n, d) = expected.to_i128_parts()?;
    let expected = Number::from_q(Q::new(n, d)?);
    let answer = match answer {
        Some(a) => student_number(a)?,
        None => expected,
    };
    // The problem is the first line of the work, as a student writes it on the page.
    let mut lines = vec![Step {
        expression: problem,
        is_final: false,
    }];
    lines.extend(steps.iter().map(|s| Step {
        expression: s,
        is_final: false,
    }));
    let options = Options::default();
    let first = written_kind(problem);
    let order = std::iter::once(first).chain(BROAD.into_iter().filter(|f| *f != first));
    // The first family that reads the problem as one of its own decides.
    for broad in order {
        let attempt = Attempt {
            family: Some(broad),
            expected: Some(expected),
            answer,
            operands: None,
            steps: &lines,
        };
        let Ok(d) = diagnosis::diagnose(&attempt, &options) else {
            continue;
        };
        let Some(family) = d.family.filter(|f| !f.is_broad()) else {
            continue;
        };
        // A reading that computes another value is a misreading of the problem.
        if d.evidence
            .iter()
            .any(|e| matches!(e, Evidence::ExpectedDisagrees { .. }))
        {
            continue;
        }
        let tag = (d.error_tag_code != UNCLASSIFIED && !d.is_correct).then(|| {
            (
                d.error_tag_code.to_string(),
                d.error_subtag.map(str::to_string),
                d.confidence,
            )
        });
        let verdict = EngineVerdict {
            family: family.code(),
            candidates: d
                .candidates
                .iter()
                .map(|c| Misconception {
                    error_tag_code: c.tag.to_string(),
                    error_subtag: match c.with {
                        Some(w) => format!("{}+{w}", c.subtag),
                        None => c.subtag.to_string(),
                    },
                    confidence: c.confidence,
                    evidence: format!("the diagnosis engine's {} reproduces the answer", c.subtag),
                    step: None,
                })
                .collect(),
            tag,
        };
        return Some(verdict);
    }
    None
}

/// The student's answer as the engine reads numbers (`3,75`, `8/15`, `2 1/2`, keeping how it
/// was written), or its exact value when it is written as LaTeX (`\frac{2}{5}`).
fn student_number(answer: &str) -> Option<Number> {
    if let Ok(n) = Number::parse(answer) {
        return Some(n);
    }
    let value = crate::eval::evaluate(&parse_expr(answer).ok()?).ok()?;
    let (n, d) = value.to_i128_parts()?;
    Some(Number::from_q(Q::new(n, d)?))
}
