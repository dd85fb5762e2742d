//! The deep search: the engine's part of the asynchronous classifier, for wrong answers the
//! normal diagnosis leaves UNCLASSIFIED.
//!
//! It may spend milliseconds (it runs in a background worker, not on the request path) and tries,
//! in order, each only when the previous did not decide:
//!
//! 1. **`engine`**: the normal [`diagnose`] with compositions on, at the caller's threshold. A
//!    correct answer or a classified one is returned as is.
//! 2. **`step-replay`**: every step that is a binary operation on two literals with a claimed
//!    result (`53 - 26 = 33`, `3/4 + 1/2 = 4/6`, `9 • 6 = 15`) whose claim is false is diagnosed
//!    as a problem of its own: its operands, the true value as the expected answer, the claim as
//!    the answer, under the family of the step's operation and numbers. The first such step that
//!    a procedure explains at the threshold *after* the discount [`STEP_DISCOUNT`] and that
//!    **leads to the answer** decides. A step leads to the answer when its claim is the answer,
//!    or when following the later steps that use the claim — each a true equation whose
//!    left-hand side contains the current value as a literal, the value becoming that step's
//!    result — reaches the answer. A false step in that chain, a step with a variable, or a chain
//!    that ends elsewhere breaks the link (a marked-final step whose claim is not the answer
//!    does not lead to it either).
//! 3. **`all-families`**: on the operands (the body's, else the first step's), the procedures of
//!    every other operation on the same kind of numbers are run, with that operation's result as
//!    the expected answer. An answer one of them explains at the threshold after the discount
//!    [`SWAP_DISCOUNT`] is reported only in the words of the exercise's family, so a teacher of
//!    a subtraction topic never reads an addition tag:
//!    - a tag of the exercise's family (the topic's, or the one the engine resolved) is reported
//!      as is (fractions: a subtraction answered with the addition's bug);
//!    - otherwise the family's "did the other operation" tag, when the catalogue has one, with
//!      the other operation's procedure as the second procedure (`with`) of a composition:
//!      `ARITH_SUB_ADD_INSTEAD_OF_SUBTRACT_G3` (addition in a whole-number subtraction),
//!      `ARITH_MUL_ADD_INSTEAD_G3` (addition in a multiplication), `INT_SUB_AS_ADD_SIGN_ERROR_G7`
//!      (addition in an integer subtraction);
//!    - otherwise nothing (the reason says what the other operation would explain). The
//!      transversal slips (`ARITH_TRANSV_*`) found under another operation are treated the same
//!      way: a transposition of a sum the exercise never asked for would mislead the teacher.
//! 4. **`lower-bar`**: the engine's best tag (posterior mass of its candidates) below the
//!    threshold but at least [`LOWER_BAR_FLOOR`], and at least [`LOWER_BAR_MARGIN`] times the
//!    runner-up tag's, is returned with its honest (sub-threshold) confidence — only when the
//!    problem the engine ran on is the exercise (no `expectedDisagrees` evidence: candidates of
//!    a problem read from an intermediate step say little about the answer).
//! 5. **`none`**: UNCLASSIFIED, with the reason (the notes of every strategy tried). An attempt
//!    without a family (a topic with no procedures) goes straight here.
//!
//! Every tag returned is one a procedure emits, so it is in the catalogue. The confidence of a
//! `step-replay` or `all-families` result is the sub-diagnosis's, discounted; of `lower-bar`,
//! below the threshold: consumers should read [`DeepDiagnosis::strategy`] beside it. The
//! caller's `compositions` flag is ignored: the deep search always searches them.

use serde::Serialize;

use crate::engine::{MAX_STEPS_READ, binary_in, round4, widen};
use crate::expr::{Node, NodeId, Statement};
use crate::family::{Family, Kind, Op};
use crate::number::{Number, Q};
use crate::procedure::Proc;
use crate::procedures::apply;
use crate::{Attempt, Candidate, Diagnosis, Evidence, InputError, Options, UNCLASSIFIED, catalog, diagnose};

/// Factor applied to the confidence of a step explained by replay: the link from the step to
/// the answer is read from the steps, not proved.
pub const STEP_DISCOUNT: f64 = 0.9;
/// Factor applied to the confidence of an explanation found under another operation: doing the
/// other operation is a second error the procedure's posterior does not count.
pub const SWAP_DISCOUNT: f64 = 0.8;
/// Lowest posterior the `lower-bar` strategy reports.
pub const LOWER_BAR_FLOOR: f64 = 0.3;
/// How many times the runner-up tag's posterior the best must be for `lower-bar`.
pub const LOWER_BAR_MARGIN: f64 = 2.0;

/// Most notes (one per strategy and wrong step tried) written into the reason.
const MAX_NOTES: usize = 8;

/// The deep search's verdict: the final diagnosis (same shape as [`diagnose`]'s), which strategy
/// decided, and why it stayed UNCLASSIFIED when it did.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeepDiagnosis {
    pub diagnosis: Diagnosis,
    /// `"engine"`, `"step-replay"`, `"all-families"`, `"lower-bar"` or `"none"`.
    pub strategy: &'static str,
    /// Why the answer is UNCLASSIFIED, when it is.
    pub reason: Option<String>,
}

impl DeepDiagnosis {
    pub const ENGINE: &'static str = "engine";
    pub const STEP_REPLAY: &'static str = "step-replay";
    pub const ALL_FAMILIES: &'static str = "all-families";
    pub const LOWER_BAR: &'static str = "lower-bar";
    pub const NONE: &'static str = "none";

    /// Whether a tag (not CORRECT, not UNCLASSIFIED) was found.
    pub fn is_classified(&self) -> bool {
        !self.diagnosis.is_correct && self.diagnosis.error_tag_code != UNCLASSIFIED
    }
}

/// Searches harder than [`diagnose`] for the misconception behind a wrong answer (module docs).
/// Fails only where [`diagnose`] fails: no expected answer and no problem to compute it from.
pub fn deep_diagnose(attempt: &Attempt<'_>, options: &Options) -> Result<DeepDiagnosis, InputError> {
    let opts = Options {
        threshold: options.threshold,
        compositions: true,
    };
    let base = diagnose(attempt, &opts)?;
    if base.is_correct || base.error_tag_code != UNCLASSIFIED {
        return Ok(DeepDiagnosis {
            diagnosis: base,
            strategy: DeepDiagnosis::ENGINE,
            reason: None,
        });
    }
    if attempt.family.is_none() {
        return Ok(DeepDiagnosis {
            diagnosis: base,
            strategy: DeepDiagnosis::NONE,
            reason: Some("the topic has no family: only correctness is judged".to_string()),
        });
    }
    let parsed: Vec<Option<Statement>> = attempt
        .steps
        .iter()
        .take(MAX_STEPS_READ)
        .map(|s| Statement::parse(s.expression).ok())
        .collect();
    let mut notes = Vec::new();
    if let Some(d) = step_replay(attempt, &parsed, &base, &opts, &mut notes) {
        return Ok(d);
    }
    if let Some(d) = all_families(attempt, &parsed, &base, &opts, &mut notes) {
        return Ok(d);
    }
    if let Some(d) = lower_bar(&base, &opts, &mut notes) {
        return Ok(d);
    }
    let mut reason = String::new();
    for n in notes.iter().take(MAX_NOTES) {
        if !reason.is_empty() {
            reason.push_str("; ");
        }
        reason.push_str(n);
    }
    if notes.len() > MAX_NOTES {
        reason.push_str(&format!("; and {} more", notes.len() - MAX_NOTES));
    }
    Ok(DeepDiagnosis {
        diagnosis: base,
        strategy: DeepDiagnosis::NONE,
        reason: Some(reason),
    })
}

/// The topic's kind of number and operation, as the engine reads steps under it.
fn topic_reading(family: Option<Family>) -> (Kind, Option<Op>) {
    let kind = family.and_then(Family::broad_kind).unwrap_or(Kind::Whole);
    (kind, family.and_then(Family::binary).map(|(_, op)| op))
}

/// The candidates of a sub-diagnosis with their confidences multiplied by `factor`.
fn discounted(candidates: &[Candidate], factor: f64) -> Vec<Candidate> {
    candidates
        .iter()
        .map(|c| Candidate {
            confidence: round4(c.confidence * factor),
            ..*c
        })
        .collect()
}

fn step_replay(
    attempt: &Attempt<'_>,
    parsed: &[Option<Statement>],
    base: &Diagnosis,
    opts: &Options,
    notes: &mut Vec<String>,
) -> Option<DeepDiagnosis> {
    let (topic_kind, topic_op) = topic_reading(attempt.family);
    let answer = attempt.answer.value;
    let mut wrong = 0;
    for (i, st) in parsed.iter().enumerate() {
        let Some(st) = st else { continue };
        if !st.is_equation() {
            continue;
        }
        let Some((x, y, op)) = binary_in(st, topic_kind, topic_op) else {
            continue;
        };
        let (Some(claim), Some(truth)) = (st.eval(st.last()), apply(op, x.value, y.value)) else {
            continue;
        };
        if claim == truth {
            continue;
        }
        wrong += 1;
        let Some(family) = Family::of(widen(topic_kind, &x, &y), op) else {
            notes.push(format!(
                "step {i} is wrong but no family has procedures for its operation"
            ));
            continue;
        };
        let step = Attempt {
            family: Some(family),
            expected: Some(Number::from_q(truth)),
            answer: st.number(st.last()).unwrap_or_else(|| Number::from_q(claim)),
            operands: Some((x, y)),
            steps: &[],
        };
        let Ok(d) = diagnose(&step, opts) else { continue };
        if d.is_correct || d.error_tag_code == UNCLASSIFIED {
            notes.push(format!("step {i} is wrong but no procedure explains it confidently"));
            continue;
        }
        let confidence = round4(d.confidence * STEP_DISCOUNT);
        if confidence < opts.threshold {
            notes.push(format!(
                "step {i} is explained by {} at {} only ({confidence} after the step discount)",
                d.error_tag_code, d.confidence
            ));
            continue;
        }
        if !leads_to_answer(parsed, i, claim, answer) {
            notes.push(format!(
                "step {i} is explained by {} but the answer does not follow from it",
                d.error_tag_code
            ));
            continue;
        }
        let mut out = base.clone();
        out.error_tag_code = d.error_tag_code;
        out.error_subtag = d.error_subtag;
        out.confidence = confidence;
        out.candidates = discounted(&d.candidates, STEP_DISCOUNT);
        out.family = d.family;
        out.evidence.push(Evidence::StepExplains {
            step: i,
            family: d.family.unwrap_or(family),
            confidence: d.confidence,
        });
        return Some(DeepDiagnosis {
            diagnosis: out,
            strategy: DeepDiagnosis::STEP_REPLAY,
            reason: None,
        });
    }
    if wrong == 0 {
        notes.push("no step is a two-operand operation with a false claimed result".to_string());
    }
    None
}

/// Whether `id` (a subtree of `st`) contains a literal worth `v`.
fn mentions(st: &Statement, id: NodeId, v: Q) -> bool {
    if st.number(id).is_some_and(|n| n.value == v) {
        return true;
    }
    match *st.node(id) {
        Node::Neg(a) | Node::Sqrt(a) | Node::Percent(a) => mentions(st, a, v),
        Node::Add(a, b)
        | Node::Sub(a, b)
        | Node::Mul(a, b)
        | Node::Div(a, b)
        | Node::Pow(a, b)
        | Node::PercentOf(a, b) => mentions(st, a, v) || mentions(st, b, v),
        Node::Num(_) | Node::Var(_) => false,
    }
}

/// Whether the answer derives from `value`, the claim of step `from`: it is the answer, or the
/// later true steps that use it (a literal of their left-hand side) carry it to the answer.
fn leads_to_answer(parsed: &[Option<Statement>], from: usize, value: Q, answer: Q) -> bool {
    let mut current = value;
    if current == answer {
        return true;
    }
    for st in parsed.iter().skip(from + 1).flatten() {
        if !st.is_equation() || !mentions(st, st.lhs(), current) {
            continue;
        }
        let values: Option<Vec<Q>> = st.sides().iter().map(|&s| st.eval(s)).collect();
        match values {
            Some(v) if v.windows(2).all(|w| w[0] == w[1]) => current = v[0],
            // A second error in the chain, or a step that cannot be evaluated: no link.
            _ => return false,
        }
        if current == answer {
            return true;
        }
    }
    false
}

/// The catalogue's "did `other` instead" procedure of a family, where there is one.
fn swap_procedure(family: Family, other: Op) -> Option<(Proc, &'static str)> {
    Some(match (family, other) {
        (Family::ArithSub, Op::Add) => (Proc::SubAddInsteadOfSubtract, "ARITH_SUB_ADD_INSTEAD_OF_SUBTRACT_G3"),
        (Family::ArithMul, Op::Add) => (Proc::MulAddInstead, "ARITH_MUL_ADD_INSTEAD_G3"),
        (Family::IntSub, Op::Add) => (Proc::IntSubAsAdd, "INT_SUB_AS_ADD_SIGN_ERROR_G7"),
        _ => return None,
    })
}

fn all_families(
    attempt: &Attempt<'_>,
    parsed: &[Option<Statement>],
    base: &Diagnosis,
    opts: &Options,
    notes: &mut Vec<String>,
) -> Option<DeepDiagnosis> {
    let (topic_kind, topic_op) = topic_reading(attempt.family);
    let operands = attempt.operands.or_else(|| {
        parsed.iter().flatten().find_map(|st| {
            let (a, b, _) = binary_in(st, topic_kind, topic_op)?;
            Some((a, b))
        })
    });
    let (Some(resolved), Some((a, b))) = (base.family, operands) else {
        notes.push("no two-operand problem to try other operations on".to_string());
        return None;
    };
    let Some((kind, nominal)) = resolved.binary() else {
        notes.push("no two-operand problem to try other operations on".to_string());
        return None;
    };
    // The operation the engine read: the one of the family that gives the correct answer
    // (FRACT_ADDSUB is both addition and subtraction), else the family's.
    let op = [Op::Add, Op::Sub, Op::Mul, Op::Div]
        .into_iter()
        .find(|&op| Family::of(kind, op) == Some(resolved) && apply(op, a.value, b.value) == Some(base.correct_answer))
        .unwrap_or(nominal);
    let answer = attempt.answer.value;
    let own = |tag: &str| {
        catalog::error_tag(tag)
            .is_some_and(|t| t.family == resolved.code() || attempt.family.is_some_and(|f| f.code() == t.family))
    };
    let mut found: Vec<(Candidate, Op, Family, f64)> = Vec::new();
    for other in [Op::Add, Op::Sub, Op::Mul, Op::Div] {
        if other == op {
            continue;
        }
        let (Some(family), Some(value)) = (Family::of(kind, other), apply(other, a.value, b.value)) else {
            continue;
        };
        if value == base.correct_answer {
            continue;
        }
        if value == answer {
            // The other operation done right: the engine's own "did the other operation"
            // procedure, where the family has one, already had its chance.
            if swap_procedure(resolved, other).is_none() {
                notes.push(format!(
                    "the answer is a {} b: another operation than the exercise's, which the catalogue has no tag for",
                    other.symbol()
                ));
            }
            continue;
        }
        let run = Attempt {
            family: Some(family),
            expected: Some(Number::from_q(value)),
            answer: attempt.answer,
            operands: Some((a, b)),
            steps: &[],
        };
        let Ok(d) = diagnose(&run, opts) else { continue };
        if d.is_correct || d.error_tag_code == UNCLASSIFIED {
            continue;
        }
        let Some(best) = d
            .candidates
            .iter()
            .find(|c| c.tag == d.error_tag_code && Some(c.subtag) == d.error_subtag)
            .copied()
        else {
            continue;
        };
        let confidence = round4(d.confidence * SWAP_DISCOUNT);
        let ran = d.family.unwrap_or(family);
        let candidate = if catalog::error_tag(best.tag).is_some_and(|t| t.family == "ARITH") {
            notes.push(format!(
                "under {ran} the answer is a slip ({}) on a result the exercise did not ask for: not reported",
                best.subtag
            ));
            continue;
        } else if own(best.tag) {
            Candidate { confidence, ..best }
        } else if let Some((proc, tag)) = swap_procedure(resolved, other) {
            if best.with.is_some() {
                notes.push(format!(
                    "under {ran} the answer is a composition ({}), which with the change of operation makes three errors: not reported",
                    best.subtag
                ));
                continue;
            }
            Candidate {
                tag,
                subtag: proc.name(),
                with: Some(best.subtag),
                confidence,
                detail: best.detail,
            }
        } else {
            notes.push(format!(
                "under {ran} the answer is explained by {} ({}), a tag of another family: not reported",
                best.tag, best.subtag
            ));
            continue;
        };
        if confidence < opts.threshold {
            notes.push(format!(
                "under {ran} the answer is explained by {} at {} only ({confidence} after the discount)",
                best.tag, d.confidence
            ));
            continue;
        }
        found.push((candidate, other, ran, d.confidence));
    }
    found.sort_by(|x, y| y.0.confidence.total_cmp(&x.0.confidence));
    let &(best, other, family, confidence) = found.first()?;
    let mut out = base.clone();
    out.error_tag_code = best.tag;
    out.error_subtag = Some(best.subtag);
    out.confidence = best.confidence;
    out.candidates = found.iter().map(|f| f.0).collect();
    out.evidence.push(Evidence::OperationSwapped {
        operation: other.symbol(),
        family,
        confidence,
    });
    Some(DeepDiagnosis {
        diagnosis: out,
        strategy: DeepDiagnosis::ALL_FAMILIES,
        reason: None,
    })
}

/// Tags by posterior mass (their candidates summed), best first; ties keep the ranking's order.
fn tag_masses(candidates: &[Candidate]) -> Vec<(&'static str, f64)> {
    let mut masses: Vec<(&'static str, f64)> = Vec::new();
    for c in candidates {
        match masses.iter_mut().find(|(t, _)| *t == c.tag) {
            Some(m) => m.1 += c.confidence,
            None => masses.push((c.tag, c.confidence)),
        }
    }
    masses.sort_by(|x, y| y.1.total_cmp(&x.1));
    masses
}

fn lower_bar(base: &Diagnosis, opts: &Options, notes: &mut Vec<String>) -> Option<DeepDiagnosis> {
    if base
        .evidence
        .iter()
        .any(|e| matches!(e, Evidence::ExpectedDisagrees { .. }))
    {
        // The candidates were computed on a problem that is not the exercise (a step of it).
        notes.push("the problem read from the steps is not the exercise: no lower bar".to_string());
        return None;
    }
    let masses = tag_masses(&base.candidates);
    let Some(&(tag, mass)) = masses.first() else {
        notes.push("no procedure reproduces the answer".to_string());
        return None;
    };
    let runner_up = masses.get(1).map_or(0.0, |m| m.1);
    let mass = round4(mass);
    if mass < LOWER_BAR_FLOOR || mass >= opts.threshold {
        notes.push(format!(
            "the best candidate, {tag}, has posterior {mass}, outside the lower bar [{LOWER_BAR_FLOOR}, {})",
            opts.threshold
        ));
        return None;
    }
    if mass < LOWER_BAR_MARGIN * runner_up {
        notes.push(format!(
            "the best candidate, {tag} at {mass}, is too close to the runner-up at {}",
            round4(runner_up)
        ));
        return None;
    }
    let mut out = base.clone();
    out.error_tag_code = tag;
    out.error_subtag = base.candidates.iter().find(|c| c.tag == tag).map(|c| c.subtag);
    out.confidence = mass;
    Some(DeepDiagnosis {
        diagnosis: out,
        strategy: DeepDiagnosis::LOWER_BAR,
        reason: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Step;

    struct Case {
        family: &'static str,
        expected: &'static str,
        answer: &'static str,
        operands: Option<(&'static str, &'static str)>,
        steps: &'static [&'static str],
    }

    fn run(c: &Case) -> (Diagnosis, DeepDiagnosis) {
        let steps: Vec<Step<'_>> = c
            .steps
            .iter()
            .map(|e| Step {
                expression: e,
                is_final: false,
            })
            .collect();
        let n = |s: &str| Number::parse(s).unwrap();
        let attempt = Attempt {
            family: Family::from_code(c.family),
            expected: Some(n(c.expected)),
            answer: n(c.answer),
            operands: c.operands.map(|(a, b)| (n(a), n(b))),
            steps: &steps,
        };
        let options = Options::default();
        let base = diagnose(&attempt, &options).unwrap();
        let deep = deep_diagnose(&attempt, &options).unwrap();
        if deep.is_classified() {
            assert!(catalog::error_tag(deep.diagnosis.error_tag_code).is_some());
            assert!(deep.diagnosis.error_subtag.is_some());
            assert!(deep.reason.is_none());
        }
        (base, deep)
    }

    /// The normal engine leaves it UNCLASSIFIED; the deep search finds `tag` with `strategy`.
    fn explains(c: &Case, strategy: &str, tag: &str, subtag: &str) -> DeepDiagnosis {
        let (base, deep) = run(c);
        assert_eq!(base.error_tag_code, UNCLASSIFIED, "{:?}", base.candidates);
        assert_eq!(deep.strategy, strategy, "{:?}", deep.reason);
        assert_eq!(deep.diagnosis.error_tag_code, tag);
        assert_eq!(deep.diagnosis.error_subtag, Some(subtag));
        assert!(!deep.diagnosis.is_correct);
        assert_eq!(deep.diagnosis.correct_answer, base.correct_answer);
        deep
    }

    #[test]
    fn what_the_engine_classifies_is_returned_as_is() {
        let (base, deep) = run(&Case {
            family: "ARITH_SUB",
            expected: "27",
            answer: "33",
            operands: Some(("53", "26")),
            steps: &[],
        });
        assert_eq!(deep.strategy, DeepDiagnosis::ENGINE);
        assert_eq!(deep.diagnosis.error_tag_code, base.error_tag_code);
        assert_eq!(deep.diagnosis.confidence, base.confidence);
        assert_eq!(deep.diagnosis.error_tag_code, "ARITH_SUB_BORROW_OMITTED_TENS_G3");
        let (_, deep) = run(&Case {
            family: "ARITH_SUB",
            expected: "27",
            answer: "27",
            operands: Some(("53", "26")),
            steps: &[],
        });
        assert_eq!(deep.strategy, DeepDiagnosis::ENGINE);
        assert!(deep.diagnosis.is_correct && !deep.is_classified());
    }

    #[test]
    fn step_replay_finds_the_borrow_bug_in_a_two_step_problem() {
        // 53 − 26 + 14: the first step omits the borrow, the second adds correctly.
        let deep = explains(
            &Case {
                family: "ARITH_SUB",
                expected: "41",
                answer: "47",
                operands: None,
                steps: &["53 - 26 = 33", "33 + 14 = 47"],
            },
            DeepDiagnosis::STEP_REPLAY,
            "ARITH_SUB_BORROW_OMITTED_TENS_G3",
            "SMALLER-FROM-LARGER",
        );
        let Some(Evidence::StepExplains {
            step,
            family,
            confidence,
        }) = deep.diagnosis.evidence.last()
        else {
            panic!("{:?}", deep.diagnosis.evidence)
        };
        assert_eq!((*step, *family), (0, Family::ArithSub));
        assert_eq!(deep.diagnosis.confidence, round4(confidence * STEP_DISCOUNT));
        assert!(deep.diagnosis.confidence >= 0.5);
        assert_eq!(deep.diagnosis.family, Some(Family::ArithSub));
        assert_eq!(deep.diagnosis.first_wrong_step, Some(0));
    }

    #[test]
    fn step_replay_finds_one_wrong_step_of_a_fraction_problem() {
        // 3/4 + 1/2 + 1/3: numerators and denominators added in the first step only.
        let deep = explains(
            &Case {
                family: "FRACT_ADDSUB",
                expected: "19/12",
                answer: "1",
                operands: None,
                steps: &["3/4 + 1/2 = 4/6", "4/6 + 1/3 = 1"],
            },
            DeepDiagnosis::STEP_REPLAY,
            "FRACT_ADDSUB_SUM_NUMERATOR_AND_DENOMINATOR_G5",
            "ADD-NUMERATORS-AND-DENOMINATORS",
        );
        assert!(matches!(
            deep.diagnosis.evidence.last(),
            Some(Evidence::StepExplains { step: 0, .. })
        ));
    }

    #[test]
    fn step_replay_finds_a_wrong_last_step() {
        // (6 + 3) × 6: the product of the last step is a sum.
        let deep = explains(
            &Case {
                family: "ARITH_MUL",
                expected: "54",
                answer: "15",
                operands: None,
                steps: &["6 + 3 = 9", "9 • 6 = 15"],
            },
            DeepDiagnosis::STEP_REPLAY,
            "ARITH_MUL_ADD_INSTEAD_G3",
            "ADD-INSTEAD",
        );
        assert!(matches!(
            deep.diagnosis.evidence.last(),
            Some(Evidence::StepExplains { step: 1, .. })
        ));
    }

    #[test]
    fn step_replay_needs_the_answer_to_follow_from_the_step() {
        // The borrow bug shows in the first step, but the answer is not what follows from it.
        let (base, deep) = run(&Case {
            family: "ARITH_SUB",
            expected: "41",
            answer: "50",
            operands: None,
            steps: &["53 - 26 = 33", "33 + 14 = 47"],
        });
        assert_eq!(base.error_tag_code, UNCLASSIFIED);
        assert_ne!(deep.strategy, DeepDiagnosis::STEP_REPLAY);
        assert!(!deep.is_classified());
        assert!(deep.reason.unwrap().contains("does not follow"));
        // Nor does a chain broken by a second wrong step carry it.
        let (_, deep) = run(&Case {
            family: "ARITH_SUB",
            expected: "41",
            answer: "57",
            operands: None,
            steps: &["53 - 26 = 33", "33 + 14 = 57"],
        });
        assert!(!matches!(
            deep.diagnosis.evidence.last(),
            Some(Evidence::StepExplains { step: 0, .. })
        ));
    }

    #[test]
    fn all_families_finds_an_addition_bug_in_a_subtraction() {
        // 58 − 27 answered 75: added (85) and forgot the carry.
        let deep = explains(
            &Case {
                family: "ARITH_SUB",
                expected: "31",
                answer: "75",
                operands: Some(("58", "27")),
                steps: &[],
            },
            DeepDiagnosis::ALL_FAMILIES,
            "ARITH_SUB_ADD_INSTEAD_OF_SUBTRACT_G3",
            "ADD-INSTEAD-OF-SUBTRACT",
        );
        assert_eq!(deep.diagnosis.candidates[0].with, Some("NO-CARRY"));
        assert!(matches!(
            deep.diagnosis.evidence.last(),
            Some(Evidence::OperationSwapped {
                operation: '+',
                family: Family::ArithAdd,
                ..
            })
        ));
        assert!(deep.diagnosis.confidence >= 0.5 && deep.diagnosis.confidence <= SWAP_DISCOUNT);
        assert_eq!(deep.diagnosis.family, Some(Family::ArithSub));
    }

    #[test]
    fn all_families_finds_a_fraction_subtraction_done_as_an_addition() {
        explains(
            &Case {
                family: "FRACT_ADDSUB",
                expected: "1/4",
                answer: "4/6",
                operands: None,
                steps: &["3/4 - 1/2"],
            },
            DeepDiagnosis::ALL_FAMILIES,
            "FRACT_ADDSUB_SUM_NUMERATOR_AND_DENOMINATOR_G5",
            "ADD-NUMERATORS-AND-DENOMINATORS",
        );
    }

    #[test]
    fn all_families_does_not_report_a_tag_of_an_unrelated_family() {
        // 53 + 26 answered 33: a subtraction with the borrow omitted, in an addition topic,
        // which has no "subtracted instead" tag.
        let (base, deep) = run(&Case {
            family: "ARITH_ADD",
            expected: "79",
            answer: "33",
            operands: Some(("53", "26")),
            steps: &[],
        });
        assert_eq!(base.error_tag_code, UNCLASSIFIED);
        assert_eq!(deep.strategy, DeepDiagnosis::NONE);
        assert_eq!(deep.diagnosis.error_tag_code, UNCLASSIFIED);
        let reason = deep.reason.unwrap();
        assert!(reason.contains("ARITH_SUB_BORROW_OMITTED_TENS_G3") && reason.contains("another family"));
    }

    #[test]
    fn lower_bar_returns_a_lone_weak_candidate_with_its_confidence() {
        // 24 − 16 answered 2: smaller-from-larger gives 12, and one fact slip in the tens.
        let deep = explains(
            &Case {
                family: "ARITH_SUB",
                expected: "8",
                answer: "2",
                operands: Some(("24", "16")),
                steps: &[],
            },
            DeepDiagnosis::LOWER_BAR,
            "ARITH_SUB_BORROW_OMITTED_TENS_G3",
            "SMALLER-FROM-LARGER",
        );
        let c = deep.diagnosis.confidence;
        assert!((LOWER_BAR_FLOOR..0.5).contains(&c), "{c}");
    }

    #[test]
    fn otherwise_unclassified_with_a_reason() {
        let (_, deep) = run(&Case {
            family: "ARITH_SUB",
            expected: "27",
            answer: "1234",
            operands: Some(("53", "26")),
            steps: &[],
        });
        assert_eq!(deep.strategy, DeepDiagnosis::NONE);
        assert_eq!(deep.diagnosis.error_tag_code, UNCLASSIFIED);
        assert_eq!(deep.diagnosis.confidence, 0.0);
        assert!(deep.reason.unwrap().contains("no procedure reproduces the answer"));
        // A topic without a family: nothing is searched.
        let (_, deep) = run(&Case {
            family: "NOPE",
            expected: "27",
            answer: "33",
            operands: Some(("53", "26")),
            steps: &["53 - 26 = 33"],
        });
        assert_eq!(deep.strategy, DeepDiagnosis::NONE);
        assert!(deep.reason.unwrap().contains("no family"));
    }

    #[test]
    fn serializes_in_camel_case() {
        let (_, deep) = run(&Case {
            family: "ARITH_SUB",
            expected: "41",
            answer: "47",
            operands: None,
            steps: &["53 - 26 = 33", "33 + 14 = 47"],
        });
        let v = serde_json::to_value(&deep).unwrap();
        assert_eq!(v["strategy"], "step-replay");
        assert_eq!(v["reason"], serde_json::Value::Null);
        assert_eq!(v["diagnosis"]["errorTagCode"], "ARITH_SUB_BORROW_OMITTED_TENS_G3");
        let ev = v["diagnosis"]["evidence"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(ev["kind"], "stepExplains");
        assert_eq!(ev["family"], "ARITH_SUB");
    }
}
