//! Misconception signatures: a short string that groups wrong answers that look the same, so
//! that teachers' reports on some attempts can teach the service how to classify later ones.

use crate::engine::{MAX_STEPS_READ, binary_in};
use crate::expr::Statement;
use crate::family::{Family, Kind};
use crate::number::{Form, Number, Q};
use crate::{Attempt, Diagnosis};

/// The signature format's version, its first field. Bump it whenever a field's meaning or
/// spelling changes, and when a procedure of the library is renamed or the ranking changes
/// which procedure comes first: signatures of different versions must not be compared.
pub const SIGNATURE_VERSION: &str = "v1";
/// Longest signature, in bytes (they are ASCII).
pub const MAX_SIGNATURE_LEN: usize = 200;

/// The misconception signature of a wrong answer; `None` for a correct one.
///
/// Seven fields separated by `|`, ASCII, at most [`MAX_SIGNATURE_LEN`] bytes, never containing
/// the problem's numbers, so two problems with the same bug pattern share it:
///
/// ```text
/// v1|ARITH_SUB|2d,2d|2d|gt.-.c0-1|SMALLER-FROM-LARGER|nostep
/// ```
///
/// 1. **version**: [`SIGNATURE_VERSION`].
/// 2. **family**: the code of the family the procedures ran under (else the topic's), `-` if none.
/// 3. **operand shapes**: `a,b` from the body's operands, else from the first step that is a
///    two-operand operation; `-` when neither. A shape is an optional `-` (negative), then
///    `<k>d` for an integer with k significant digits (`0d` for zero), `<k>d.<p>` for a decimal
///    with k integer digits (`0d` when the integer part is 0) and p decimal places as written,
///    `fr` for a fraction, `mx` for a mixed number.
/// 4. **answer shape**: the same for the student's answer.
/// 5. **relation** between the answer A and the correct answer C, three parts joined by `.`:
///    - `gt` or `lt` (A > C, A < C);
///    - the first exact relation that holds, else `-`: `neg` (A = −C), `p+k` / `p-k`
///      (A = C·10^±k, k ≤ 6: a place-value shift), `inv` (A = 1/C), `perm` (integers of the same
///      sign whose digits are the same, reordered);
///    - for two integers, the columns that differ: `c<lo>-<hi>` (digit positions of |A| and |C|
///      counted from the units, 0, lowest and highest that differ; `c-` when none do); else,
///      when A is written as a decimal (or an integer) and C is a terminating decimal, A's
///      decimal places as written against C's: `plt`, `peq`, `pgt`; else the denominators in
///      lowest terms: `aint` (A is an integer, C is not), `cint` (C is, A is not), `deq`
///      (equal), `ddiv` (one divides the other), `dne` (neither).
/// 6. **procedure**: the procedure (`errorSubtag`) of the diagnosis's tag, else the best
///    candidate's even below the threshold, `A+B` for a composition; `-` when none reproduces
///    the answer.
/// 7. **step**: `step<i>` for the first step whose claim is false (`step9` for 9 and beyond),
///    `nostep` when none is (or there are no steps).
///
/// Deterministic: the same attempt and diagnosis always give the same string, and so do two
/// engine versions with the same [`SIGNATURE_VERSION`] (field 6 follows the library's names and
/// ranking; the version is bumped when they change).
pub fn signature(attempt: &Attempt<'_>, diagnosis: &Diagnosis) -> Option<String> {
    if diagnosis.is_correct {
        return None;
    }
    let family = diagnosis.family.or(attempt.family).map_or("-", Family::code);
    let operands = attempt
        .operands
        .or_else(|| step_operands(attempt))
        .map_or_else(|| "-".to_string(), |(a, b)| format!("{},{}", shape(&a), shape(&b)));
    let answer = shape(&attempt.answer);
    let relation = relation(&attempt.answer, diagnosis.correct_answer);
    let best = match diagnosis.error_subtag {
        Some(sub) => diagnosis
            .candidates
            .iter()
            .find(|c| c.tag == diagnosis.error_tag_code && c.subtag == sub)
            .or(diagnosis.candidates.first()),
        None => diagnosis.candidates.first(),
    };
    let procedure = match best {
        Some(c) => match c.with {
            Some(w) => format!("{}+{w}", c.subtag),
            None => c.subtag.to_string(),
        },
        None => diagnosis.error_subtag.unwrap_or("-").to_string(),
    };
    let step = match diagnosis.first_wrong_step {
        Some(i) => format!("step{}", i.min(9)),
        None => "nostep".to_string(),
    };
    let mut s = format!("{SIGNATURE_VERSION}|{family}|{operands}|{answer}|{relation}|{procedure}|{step}");
    // Cannot happen with the library's names and the number limits (about 130 bytes at most);
    // the bound is kept even so. Every field is ASCII, so any byte is a char boundary.
    s.truncate(MAX_SIGNATURE_LEN);
    Some(s)
}

/// The operands of the first step that is a two-operand operation, read as the engine does.
fn step_operands(attempt: &Attempt<'_>) -> Option<(Number, Number)> {
    let kind = attempt.family.and_then(Family::broad_kind).unwrap_or(Kind::Whole);
    let op = attempt.family.and_then(Family::binary).map(|(_, op)| op);
    attempt.steps.iter().take(MAX_STEPS_READ).find_map(|s| {
        let st = Statement::parse(s.expression).ok()?;
        let (a, b, _) = binary_in(&st, kind, op)?;
        Some((a, b))
    })
}

/// Significant digits of a non-negative integer (0 for zero).
fn digits(n: u128) -> u32 {
    if n == 0 { 0 } else { n.ilog10() + 1 }
}

fn shape(n: &Number) -> String {
    let sign = if n.value.is_negative() { "-" } else { "" };
    let int_digits = || digits(n.value.abs().floor().unsigned_abs());
    match n.form {
        Form::Integer => format!("{sign}{}d", int_digits()),
        Form::Decimal { scale, .. } => format!("{sign}{}d.{scale}", int_digits()),
        Form::Fraction { .. } | Form::Recovered => format!("{sign}fr"),
        Form::Mixed { .. } => format!("{sign}mx"),
    }
}

/// Decimal places of a terminating decimal in lowest terms; `None` for other rationals.
fn places(q: Q) -> Option<u32> {
    let mut d = q.denom();
    let (mut twos, mut fives) = (0u32, 0u32);
    while d % 2 == 0 {
        d /= 2;
        twos += 1;
    }
    while d % 5 == 0 {
        d /= 5;
        fives += 1;
    }
    (d == 1).then_some(twos.max(fives))
}

fn relation(answer: &Number, c: Q) -> String {
    let a = answer.value;
    let order = if a > c { "gt" } else { "lt" };
    let special = special_relation(a, c);
    let written_decimal = matches!(answer.form, Form::Integer | Form::Decimal { .. });
    let detail = match (a.to_integer(), c.to_integer()) {
        (Some(x), Some(y)) => columns(x.unsigned_abs(), y.unsigned_abs()),
        _ if written_decimal && places(c).is_some() => {
            let (pa, pc) = (u32::from(answer.scale()), places(c).unwrap_or(0));
            match pa.cmp(&pc) {
                std::cmp::Ordering::Less => "plt",
                std::cmp::Ordering::Equal => "peq",
                std::cmp::Ordering::Greater => "pgt",
            }
            .to_string()
        }
        (Some(_), None) => "aint".to_string(),
        (None, Some(_)) => "cint".to_string(),
        (None, None) => {
            let (da, dc) = (a.denom(), c.denom());
            if da == dc {
                "deq"
            } else if da % dc == 0 || dc % da == 0 {
                "ddiv"
            } else {
                "dne"
            }
            .to_string()
        }
    };
    format!("{order}.{special}.{detail}")
}

fn special_relation(a: Q, c: Q) -> String {
    if a == c.neg() {
        return "neg".to_string();
    }
    if !c.is_zero() {
        for k in (-6i32..=6).filter(|&k| k != 0) {
            if c.shift10(k) == Some(a) {
                return format!("p{k:+}");
            }
        }
        if c.recip() == Some(a) {
            return "inv".to_string();
        }
    }
    if let (Some(x), Some(y)) = (a.to_integer(), c.to_integer())
        && x.signum() == y.signum()
    {
        let sorted = |n: i128| {
            let mut d: Vec<u8> = n.unsigned_abs().to_string().into_bytes();
            d.sort_unstable();
            d
        };
        if sorted(x) == sorted(y) {
            return "perm".to_string();
        }
    }
    "-".to_string()
}

/// `c<lo>-<hi>`: the lowest and highest digit positions (from the units) where x and y differ.
fn columns(x: u128, y: u128) -> String {
    let (mut x, mut y) = (x, y);
    let (mut lo, mut hi) = (None, 0u32);
    let mut k = 0u32;
    while x > 0 || y > 0 {
        if x % 10 != y % 10 {
            lo.get_or_insert(k);
            hi = k;
        }
        x /= 10;
        y /= 10;
        k += 1;
    }
    match lo {
        Some(lo) => format!("c{lo}-{hi}"),
        None => "c-".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Candidate, Detail, Options, Step, diagnose};

    fn sig(family: &str, a: &str, b: &str, expected: &str, answer: &str, steps: &[&str]) -> Option<String> {
        let steps: Vec<Step<'_>> = steps
            .iter()
            .map(|e| Step {
                expression: e,
                is_final: false,
            })
            .collect();
        let n = |s: &str| Number::parse(s).unwrap();
        let attempt = Attempt {
            family: Family::from_code(family),
            expected: Some(n(expected)),
            answer: n(answer),
            operands: (!a.is_empty()).then(|| (n(a), n(b))),
            steps: &steps,
        };
        let d = diagnose(&attempt, &Options::default()).unwrap();
        signature(&attempt, &d)
    }

    #[test]
    fn the_same_bug_on_other_numbers_shares_the_signature() {
        // Smaller-from-larger in the units, on two different problems.
        let s1 = sig("ARITH_SUB", "53", "26", "27", "33", &[]).unwrap();
        let s2 = sig("ARITH_SUB", "72", "48", "24", "36", &[]).unwrap();
        assert_eq!(s1, "v1|ARITH_SUB|2d,2d|2d|gt.-.c0-1|SMALLER-FROM-LARGER|nostep");
        assert_eq!(s1, s2);
        // Numerators and denominators added, operands in a step.
        let f1 = sig("FRACT_ADDSUB", "", "", "5/4", "4/6", &["3/4 + 1/2"]).unwrap();
        let f2 = sig("FRACT_ADDSUB", "", "", "11/15", "3/8", &["2/5 + 1/3"]).unwrap();
        assert_eq!(
            f1,
            "v1|FRACT_ADDSUB|fr,fr|fr|lt.-.dne|ADD-NUMERATORS-AND-DENOMINATORS|nostep"
        );
        assert_eq!(f1, f2);
        // Decimals aligned on the right, with the problem's numbers nowhere in the string.
        let d1 = sig("DEC_ADD", "", "", "4.75", "2,50", &["2,5 + 2,25"]).unwrap();
        let d2 = sig("DEC_ADD", "", "", "8.85", "3,36", &["6,1 + 2,75"]).unwrap();
        assert_eq!(
            d1,
            "v1|DEC_ADD|1d.1,1d.2|1d.2|lt.-.peq|RIGHT-ALIGNED-LIKE-INTEGERS|nostep"
        );
        assert_eq!(d1, d2);
        for number in ["53", "26", "27", "33", "72", "48", "36", "2,5", "2,25", "2,50", "4,75"] {
            assert!(!s1.contains(number) && !d1.contains(number), "{number} in {s1} / {d1}");
        }
    }

    #[test]
    fn another_bug_pattern_gives_another_signature() {
        let borrow = sig("ARITH_SUB", "53", "26", "27", "33", &[]).unwrap();
        // Borrowed without decrementing the tens: 37.
        let no_decrement = sig("ARITH_SUB", "53", "26", "27", "37", &[]).unwrap();
        assert_eq!(
            no_decrement,
            "v1|ARITH_SUB|2d,2d|2d|gt.-.c1-1|BORROW-NO-DECREMENT|nostep"
        );
        // Digits transposed, place value shifted, order swapped: the relation says so.
        let transposed = sig("ARITH_SUB", "53", "26", "27", "72", &[]).unwrap();
        let shifted = sig("ARITH_SUB", "53", "26", "27", "270", &[]).unwrap();
        let negated = sig("INT_SUB", "26", "53", "-27", "27", &[]).unwrap();
        assert!(transposed.contains("|gt.perm."), "{transposed}");
        assert!(shifted.contains("|gt.p+1."), "{shifted}");
        assert!(negated.contains("|gt.neg.c-|"), "{negated}");
        let all = [&borrow, &no_decrement, &transposed, &shifted, &negated];
        for (i, x) in all.iter().enumerate() {
            for y in &all[i + 1..] {
                assert_ne!(x, y);
            }
        }
        // The same answer shown in a wrong step is another pattern than without steps.
        let in_step = sig("ARITH_SUB", "53", "26", "27", "33", &["53 - 26 = 33"]).unwrap();
        assert!(in_step.ends_with("|step0"), "{in_step}");
        assert_ne!(in_step, borrow);
        // Nothing reproduces it: the procedure is `-`.
        let noise = sig("ARITH_SUB", "53", "26", "27", "1234", &[]).unwrap();
        assert_eq!(noise, "v1|ARITH_SUB|2d,2d|4d|gt.-.c0-3|-|nostep");
    }

    #[test]
    fn correct_answers_have_none() {
        assert_eq!(sig("ARITH_SUB", "53", "26", "27", "27", &[]), None);
        assert_eq!(sig("FRACT_ADDSUB", "", "", "5/4", "10/8", &["3/4 + 1/2"]), None);
    }

    #[test]
    fn signatures_are_short_even_at_the_limits() {
        let big = "-123456789012345678901234567,891";
        let s = sig(
            "DEC_SUB",
            big,
            big,
            "1",
            "-98765432109876543210987654321",
            &["1 - 1 = 3"],
        )
        .unwrap();
        assert!(s.len() <= MAX_SIGNATURE_LEN && s.is_ascii(), "{s}");
        // The longest procedure names, as a composition, under the longest family code.
        let steps = [Step {
            expression: "1 + 1 = 3",
            is_final: true,
        }; 12];
        let attempt = Attempt {
            family: Some(Family::AlgebraEqLinear),
            expected: Some(Number::parse(big).unwrap()),
            answer: Number::parse("-1 1/2").unwrap(),
            operands: Some((Number::parse(big).unwrap(), Number::parse("-7/3").unwrap())),
            steps: &steps,
        };
        let long = "CARRY-ADDED-BEFORE-MULTIPLYING";
        let d = Diagnosis {
            is_correct: false,
            error_tag_code: crate::UNCLASSIFIED,
            error_subtag: None,
            confidence: 0.0,
            candidates: vec![Candidate {
                tag: "ARITH_MUL_CARRY_ADDED_BEFORE_MULTIPLYING_G4",
                subtag: long,
                with: Some(long),
                confidence: 0.2,
                detail: Detail::None,
            }],
            evidence: Vec::new(),
            first_wrong_step: Some(11),
            family: Some(Family::AlgebraEqLinear),
            correct_answer: Number::parse(big).unwrap().value,
        };
        let s = signature(&attempt, &d).unwrap();
        assert!(s.len() <= MAX_SIGNATURE_LEN, "{} bytes: {s}", s.len());
        assert_eq!(
            s,
            "v1|ALGEBRA_EQ_LINEAR|-27d.3,-fr|-mx|gt.-.ddiv|CARRY-ADDED-BEFORE-MULTIPLYING+CARRY-ADDED-BEFORE-MULTIPLYING|step9"
        );
    }
}
