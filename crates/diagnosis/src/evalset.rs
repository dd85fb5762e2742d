//! The engine's own labelled evaluation set, generated: random problems of every family; for
//! each, a correct answer, a buggy answer made by running a procedure of the library (chosen with
//! the library's prior weights), or a random wrong answer. Each case records which procedures
//! produce its answer, so accuracy can be measured where exactly one does, and false diagnoses
//! where none does.
//!
//! Deterministic for a seed. `cargo run --release -p diagnosis --example evaluate` prints the
//! report (docs/diagnosis.md).

use fastrand::Rng;

use crate::engine::binary_in;
use crate::expr::Statement;
use crate::family::{CONCRETE, Family, Op};
use crate::number::{Form, Number, Q};
use crate::procedure::Proc;
use crate::request::{AttemptBody, NumberField, RawStep};
use crate::{Attempt, Options, Step, UNCLASSIFIED, procedure_outputs};

/// Share of generated answers that are correct, buggy, and random.
pub const CORRECT_SHARE: f64 = 0.15;
pub const NOISE_SHARE: f64 = 0.25;

#[derive(Clone, Debug, PartialEq)]
pub enum Label {
    Correct,
    /// Made by running `procedure`; `explained_by` lists every procedure that produces the same
    /// answer (the generating one included).
    Buggy {
        procedure: Proc,
        tag: &'static str,
        explained_by: Vec<Proc>,
    },
    /// A random wrong answer; `explained_by` is empty unless it coincides with a procedure.
    Random {
        explained_by: Vec<Proc>,
    },
}

#[derive(Clone, Debug)]
pub struct Case {
    pub family: Family,
    pub body: AttemptBody,
    pub label: Label,
}

/// A problem as a request: operands in the body or the problem as the first step.
struct Problem {
    expected: Q,
    operands: Option<(String, String)>,
    step: Option<String>,
}

fn body(p: &Problem, family: Family, answer: Q) -> AttemptBody {
    AttemptBody {
        student_id: None,
        topic_code: family.code().to_string(),
        exercise_id: None,
        course_id: None,
        raw_steps: p
            .step
            .iter()
            .map(|e| RawStep {
                expression: e.clone(),
                is_final: false,
            })
            .collect(),
        expected_answer: NumberField::Text(p.expected.to_string()),
        student_answer: NumberField::Text(answer.to_string()),
        minuend: p.operands.as_ref().map(|o| NumberField::Text(o.0.clone())),
        subtrahend: p.operands.as_ref().map(|o| NumberField::Text(o.1.clone())),
    }
}

/// Generates `n` cases, families in turn.
pub fn generate(n: usize, seed: u64) -> Vec<Case> {
    let mut rng = Rng::with_seed(seed);
    let mut out = Vec::with_capacity(n);
    let mut i = 0;
    while out.len() < n {
        let family = CONCRETE[i % CONCRETE.len()];
        i += 1;
        if let Some(case) = generate_case(&mut rng, family) {
            out.push(case);
        }
    }
    out
}

fn generate_case(rng: &mut Rng, family: Family) -> Option<Case> {
    let p = problem(rng, family)?;
    let expected = Number::from_q(p.expected);
    let steps: Vec<Step<'_>> = p
        .step
        .iter()
        .map(|e| Step {
            expression: e,
            is_final: false,
        })
        .collect();
    let operands = match &p.operands {
        Some((a, b)) => Some((Number::parse(a).ok()?, Number::parse(b).ok()?)),
        None => None,
    };
    let attempt = Attempt {
        family: Some(family),
        expected: Some(expected),
        answer: expected,
        operands,
        steps: &steps,
    };
    let outputs = procedure_outputs(&attempt).ok()?;
    let explained_by = |v: Q| -> Vec<Proc> {
        let mut procs: Vec<Proc> = outputs.iter().filter(|o| o.value == v).map(|o| o.procedure).collect();
        procs.dedup();
        procs
    };
    let roll = rng.f64();
    let (answer, label) = if roll < CORRECT_SHARE || outputs.is_empty() {
        (p.expected, Label::Correct)
    } else if roll < 1.0 - NOISE_SHARE {
        // A procedure chosen by prior weight among those that apply, then one of its outputs.
        let mut procs: Vec<Proc> = outputs.iter().map(|o| o.procedure).collect();
        procs.dedup();
        let total: f64 = procs.iter().map(|p| p.weight()).sum();
        let mut pick = rng.f64() * total;
        let chosen = *procs.iter().find(|p| {
            pick -= p.weight();
            pick <= 0.0
        })?;
        let mine: Vec<_> = outputs.iter().filter(|o| o.procedure == chosen).collect();
        let o = mine[rng.usize(..mine.len())];
        (
            o.value,
            Label::Buggy {
                procedure: chosen,
                tag: o.tag,
                explained_by: explained_by(o.value),
            },
        )
    } else {
        let v = random_wrong(rng, p.expected)?;
        (
            v,
            Label::Random {
                explained_by: explained_by(v),
            },
        )
    };
    Some(Case {
        family,
        body: body(&p, family, answer),
        label,
    })
}

/// A wrong answer of about the same size and shape as the correct one: what a guess, a miscopy
/// or an unmodelled error looks like. Half are near misses (two digits of the correct answer
/// changed), the hardest case for a diagnosis that must not see slips everywhere.
fn random_wrong(rng: &mut Rng, correct: Q) -> Option<Q> {
    if rng.bool()
        && let Some(c) = correct.to_integer()
        && c.unsigned_abs() >= 10
    {
        let text = c.unsigned_abs().to_string();
        let mut digits: Vec<u8> = text.bytes().map(|b| b - b'0').collect();
        let (i, j) = (rng.usize(..digits.len()), rng.usize(..digits.len()));
        digits[i] = (digits[i] + rng.u8(1..10)) % 10;
        digits[j] = (digits[j] + rng.u8(1..10)) % 10;
        let v: i128 = digits.iter().fold(0, |acc, &d| acc * 10 + i128::from(d));
        let v = Q::int(c.signum() * v);
        if v != correct {
            return Some(v);
        }
    }
    for _ in 0..20 {
        let magnitude = correct.abs().to_f64().max(1.0);
        let limit = (magnitude * 10.0).min(1e15) as i128 + 10;
        let v = if correct.is_integer() || rng.bool() {
            let sign = if correct.is_negative() && rng.f64() < 0.7 {
                -1
            } else {
                1
            };
            Q::int(sign * rng.i128(0..limit))
        } else {
            let den = correct.denom().clamp(2, 1000);
            Q::new(rng.i128(0..limit * den), den)?
        };
        if v != correct {
            return Some(v);
        }
    }
    None
}

/// A whole number of a length in `lengths` whose digits are 0 one time in five.
fn digits_with_zeros(rng: &mut Rng, lengths: std::ops::Range<u32>) -> u64 {
    let len = rng.u32(lengths);
    let mut n: u64 = rng.u64(1..10);
    for _ in 1..len {
        let d = if rng.f64() < 0.2 { 0 } else { rng.u64(0..10) };
        n = n * 10 + d;
    }
    n
}

fn dec(mantissa: i64, scale: u32) -> String {
    Q::new(i128::from(mantissa), 10i128.pow(scale))
        .map(|q| q.to_string().replace('.', ","))
        .unwrap_or_default()
}

fn frac(rng: &mut Rng) -> (i64, i64) {
    let d = rng.i64(2..13);
    (rng.i64(1..2 * d), d)
}

fn problem(rng: &mut Rng, family: Family) -> Option<Problem> {
    let q = |n: i64| Q::int(i128::from(n));
    let binary = |a: String, b: String, op: &str, value: Q, as_step: bool| {
        if as_step {
            Problem {
                expected: value,
                operands: None,
                step: Some(format!("{a} {op} {b}")),
            }
        } else {
            Problem {
                expected: value,
                operands: Some((a, b)),
                step: None,
            }
        }
    };
    let as_step = rng.f64() < 0.3;
    Some(match family {
        Family::ArithSub => {
            let a = digits_with_zeros(rng, 2..5);
            let b = rng.u64(1..a);
            // One time in ten the smaller number comes first (a negative result).
            let (a, b) = if rng.f64() < 0.1 { (b, a) } else { (a, b) };
            binary(a.to_string(), b.to_string(), "-", q(a as i64 - b as i64), as_step)
        }
        Family::ArithAdd => {
            let a = digits_with_zeros(rng, 2..5);
            let b = digits_with_zeros(rng, 1..5);
            binary(a.to_string(), b.to_string(), "+", q((a + b) as i64), as_step)
        }
        Family::ArithMul => {
            let a = if rng.f64() < 0.1 {
                0
            } else {
                digits_with_zeros(rng, 1..4)
            };
            let b = if rng.f64() < 0.15 {
                10u64.pow(rng.u32(1..4))
            } else {
                digits_with_zeros(rng, 1..3)
            };
            binary(a.to_string(), b.to_string(), "×", q((a * b) as i64), as_step)
        }
        Family::ArithDiv => {
            let b = rng.u64(2..13);
            let quotient = digits_with_zeros(rng, 1..4);
            binary(
                (b * quotient).to_string(),
                b.to_string(),
                ":",
                q(quotient as i64),
                as_step,
            )
        }
        Family::FractAddSub | Family::FractMul | Family::FractDiv => {
            let ((n1, d1), (n2, d2)) = (frac(rng), frac(rng));
            let (x, y) = (Q::new(n1.into(), d1.into())?, Q::new(n2.into(), d2.into())?);
            let (op, value) = match family {
                Family::FractMul => ("×", x.mul(y)?),
                Family::FractDiv => (":", x.div(y)?),
                _ if rng.bool() && x > y => ("-", x.sub(y)?),
                _ => ("+", x.add(y)?),
            };
            let mixed = family == Family::FractAddSub && rng.f64() < 0.2;
            let a = if mixed {
                format!("{} {}/{}", rng.i64(1..4), n1 % d1, d1)
            } else {
                format!("{n1}/{d1}")
            };
            let a_value = Number::parse(&a).ok()?.value;
            let value = if mixed {
                match op {
                    "-" => a_value.sub(y)?,
                    _ => a_value.add(y)?,
                }
            } else {
                value
            };
            Problem {
                expected: value,
                operands: None,
                step: Some(format!("{a} {op} {n2}/{d2}")),
            }
        }
        Family::IntAdd | Family::IntSub | Family::IntMul => {
            let mut pick = || {
                let v = rng.i64(1..30);
                if rng.bool() { -v } else { v }
            };
            let (a, b) = (pick(), pick());
            let (op, value) = match family {
                Family::IntAdd => ("+", a + b),
                Family::IntSub => ("-", a - b),
                _ => ("•", a * b),
            };
            let b_text = if b < 0 && as_step {
                format!("({b})")
            } else {
                b.to_string()
            };
            binary(a.to_string(), b_text, op, q(value), as_step)
        }
        Family::DecAdd | Family::DecSub => {
            let (s1, s2) = (rng.u32(0..3), rng.u32(1..3));
            let (m1, m2) = (rng.i64(10..2000), rng.i64(1..1000));
            let (x, y) = (Q::new(m1.into(), 10i128.pow(s1))?, Q::new(m2.into(), 10i128.pow(s2))?);
            let (op, value) = if family == Family::DecAdd {
                ("+", x.add(y)?)
            } else {
                ("-", x.sub(y)?)
            };
            if value.is_negative() {
                return None;
            }
            Problem {
                expected: value,
                operands: None,
                step: Some(format!("{} {op} {}", dec(m1, s1), dec(m2, s2))),
            }
        }
        Family::DecMul => {
            let (s1, m1) = (rng.u32(1..3), rng.i64(1..100));
            let (m2, s2) = if rng.f64() < 0.3 {
                (1, rng.u32(1..3))
            } else {
                (rng.i64(1..50), rng.u32(0..3))
            };
            let value = Q::new(i128::from(m1 * m2), 10i128.pow(s1 + s2))?;
            Problem {
                expected: value,
                operands: None,
                step: Some(format!("{} × {}", dec(m1, s1), dec(m2, s2))),
            }
        }
        Family::DecDiv => {
            let (m2, s2) = (rng.i64(2..10), rng.u32(0..2));
            let quotient = Q::new(rng.i64(2..60).into(), 10i128.pow(rng.u32(0..2)))?;
            let divisor = Q::new(m2.into(), 10i128.pow(s2))?;
            let dividend = quotient.mul(divisor)?;
            let text = dividend.to_string().replace('.', ",");
            Problem {
                expected: quotient,
                operands: None,
                step: Some(format!("{text} : {}", dec(m2, s2))),
            }
        }
        Family::RatioPercent => {
            let p = [5, 10, 15, 20, 25, 30, 40, 60, 75][rng.usize(..9)];
            let n = 20 * rng.i64(1..50);
            Problem {
                expected: Q::new((p * n).into(), 100)?,
                operands: None,
                step: Some(format!("{p}% de {n}")),
            }
        }
        Family::RatioProportion => {
            let (a, k) = (rng.i64(1..10), rng.i64(2..6));
            let (b, c) = (a * k, rng.i64(1..12));
            Problem {
                expected: q(c * k),
                operands: None,
                step: Some(format!("{a}:{b} = {c}:x")),
            }
        }
        Family::AlgebraEqLinear => {
            let (a, x, b) = (rng.i64(2..10), rng.i64(-5..15), rng.i64(1..20));
            let step = match rng.u32(0..3) {
                0 => format!("{a}x + {b} = {}", a * x + b),
                1 => format!("{a}(x + {b}) = {}", a * (x + b)),
                _ => {
                    let c = rng.i64(1..a);
                    format!("{a}x + {b} = {c}x + {}", (a - c) * x + b)
                }
            };
            Problem {
                expected: q(x),
                operands: None,
                step: Some(step),
            }
        }
        Family::PowPower => {
            let (base, m, n) = (rng.i64(2..6), rng.i64(1..5), rng.i64(1..4));
            let pow = |e: i64| Q::int(i128::from(base)).pow(i128::from(e));
            let (step, value) = match rng.u32(0..4) {
                0 => (format!("{base}^{m} • {base}^{n}"), pow(m + n)?),
                1 => (format!("({base}^{m})^{n}"), pow(m * n)?),
                2 => (format!("{base}^{} : {base}^{n}", m * n), pow(m * n - n)?),
                _ => (format!("{base}^0"), Q::ONE),
            };
            Problem {
                expected: value,
                operands: None,
                step: Some(step),
            }
        }
        Family::PowRoot => {
            const TRIPLES: [(i64, i64, i64); 5] = [(3, 4, 5), (6, 8, 10), (5, 12, 13), (8, 15, 17), (9, 12, 15)];
            if rng.bool() {
                let (a, b, c) = TRIPLES[rng.usize(..TRIPLES.len())];
                Problem {
                    expected: q(c),
                    operands: None,
                    step: Some(format!("√({} + {})", a * a, b * b)),
                }
            } else {
                let r = rng.i64(2..20);
                Problem {
                    expected: q(r),
                    operands: None,
                    step: Some(format!("√{}", r * r)),
                }
            }
        }
        _ => return None,
    })
}

/// Counts of one slice of the evaluation: cases, right tags, right procedures.
#[derive(Clone, Copy, Debug, Default)]
pub struct Tally {
    pub cases: u64,
    pub tag_right: u64,
    pub procedure_right: u64,
}

impl Tally {
    fn add(&mut self, tag_right: bool, procedure_right: bool) {
        self.cases += 1;
        self.tag_right += u64::from(tag_right);
        self.procedure_right += u64::from(procedure_right);
    }
    pub fn tag_accuracy(&self) -> f64 {
        ratio(self.tag_right, self.cases)
    }
    pub fn procedure_accuracy(&self) -> f64 {
        ratio(self.procedure_right, self.cases)
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 1.0 } else { a as f64 / b as f64 }
}

/// What the evaluation measured.
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub cases: usize,
    pub errors: u64,
    /// Buggy answers exactly one procedure produces.
    pub unique: Tally,
    /// Buggy answers several procedures produce (right = the generating procedure's tag).
    pub ambiguous: Tally,
    pub buggy_unclassified: u64,
    pub correct: Tally,
    /// Random wrong answers no procedure produces; `tag_right` counts those left UNCLASSIFIED.
    pub unexplained: Tally,
    /// Random wrong answers some procedure happens to produce.
    pub coincidences: u64,
    pub per_procedure: std::collections::BTreeMap<&'static str, Tally>,
    /// Confidence deciles of every tagged wrong answer: (answers, right).
    pub calibration: [(u64, u64); 10],
}

impl Report {
    pub fn false_diagnosis_rate(&self) -> f64 {
        1.0 - self.unexplained.tag_accuracy()
    }
}

/// Diagnoses every case and tallies the results against the labels.
pub fn evaluate(cases: &[Case], options: &Options) -> Report {
    let mut r = Report {
        cases: cases.len(),
        ..Report::default()
    };
    for case in cases {
        let Ok(d) = case.body.diagnose_as(Some(case.family), options) else {
            r.errors += 1;
            continue;
        };
        let tagged = !d.is_correct && d.error_tag_code != UNCLASSIFIED;
        let right = match &case.label {
            Label::Correct => {
                r.correct
                    .add(d.is_correct && d.error_tag_code == "CORRECT", d.is_correct);
                continue;
            }
            Label::Buggy {
                procedure,
                tag,
                explained_by,
            } => {
                let (tag_ok, proc_ok) = (d.error_tag_code == *tag, d.error_subtag == Some(procedure.name()));
                if explained_by.len() == 1 {
                    r.unique.add(tag_ok, proc_ok);
                    r.per_procedure
                        .entry(procedure.name())
                        .or_default()
                        .add(tag_ok, proc_ok);
                } else {
                    r.ambiguous.add(tag_ok, proc_ok);
                }
                r.buggy_unclassified += u64::from(!tagged);
                tag_ok
            }
            Label::Random { explained_by } => {
                if explained_by.is_empty() {
                    r.unexplained.add(!tagged, !tagged);
                } else {
                    r.coincidences += 1;
                }
                false
            }
        };
        if tagged {
            let bucket = ((d.confidence * 10.0) as usize).min(9);
            r.calibration[bucket].0 += 1;
            r.calibration[bucket].1 += u64::from(right);
        }
    }
    r
}

/// The texts of a case's two operands and its operation's symbol, and the operands as numbers:
/// from the body's operands, else from its step. `None` for the families that are not one
/// operation on two numbers.
fn binary_parts(case: &Case) -> Option<(String, Number, Number, Op)> {
    let (kind, op) = case.family.binary()?;
    let text = |f: &NumberField| match f {
        NumberField::Text(s) => s.clone(),
        NumberField::Number(n) => n.to_string(),
    };
    match (&case.body.minuend, &case.body.subtrahend) {
        (Some(a), Some(b)) => {
            let (na, nb) = (a.to_number().ok()?, b.to_number().ok()?);
            let symbol = match op {
                Op::Add => "+",
                Op::Sub => "-",
                Op::Mul => "×",
                Op::Div => ":",
            };
            let (ta, tb) = (text(a), text(b));
            let tb = if tb.starts_with('-') { format!("({tb})") } else { tb };
            Some((format!("{ta} {symbol} {tb}"), na, nb, op))
        }
        _ => {
            let expression = &case.body.raw_steps.first()?.expression;
            let st = Statement::parse(expression).ok()?;
            let (a, b, op) = binary_in(&st, kind, Some(op))?;
            Some((expression.clone(), a, b, op))
        }
    }
}

fn q_text(q: Q) -> String {
    q.to_string().replace('.', ",")
}

fn step(expression: String) -> RawStep {
    RawStep {
        expression,
        is_final: false,
    }
}

/// Wrong answers the normal engine cannot read, made from the generated set (same seed, same
/// labels) for the deep search's evaluation. Each wrong answer of a two-operand family becomes,
/// in turn:
///
/// - **after**: the problem as a step with the answer as its claim, then one more correct step
///   that uses it (`53 - 26 = 33`, `33 + 7 = 40`; expected answer 34, answer 40): the exercise
///   was a two-step one, and the engine reads the first step against the final expected answer;
/// - **before**: a correct step that produces the first operand, then the problem with the
///   answer as its claim (`40 + 13 = 53`, `53 - 26 = 33`; answer 33): the engine reads the
///   first step as the problem (whole first operands only);
/// - **swap** (whole-number subtraction and multiplication, integer subtraction): the answer
///   replaced by what a bug of *addition* writes on the same operands, labelled with the
///   family's "did the other operation" tag.
///
/// Correct answers are left out; the cases of the other families are kept as generated.
pub fn generate_deep(n: usize, seed: u64) -> Vec<Case> {
    let mut rng = Rng::with_seed(seed ^ 0x5eed_deeb);
    let mut out = Vec::new();
    for (i, case) in generate(n, seed).into_iter().enumerate() {
        if matches!(case.label, Label::Correct) {
            continue;
        }
        let Some((problem, a, b, op)) = binary_parts(&case) else {
            out.push(case);
            continue;
        };
        let (Ok(answer), Ok(expected)) = (
            case.body.student_answer.to_number(),
            case.body.expected_answer.to_number(),
        ) else {
            continue;
        };
        let (answer, expected) = (answer.value, expected.value);
        let mut body = case.body.clone();
        body.minuend = None;
        body.subtrahend = None;
        match i % 3 {
            0 => {
                let c = Q::int(rng.i128(1..20));
                let (Some(w), Some(e)) = (answer.add(c), expected.add(c)) else {
                    continue;
                };
                body.raw_steps = vec![
                    step(format!("{problem} = {}", q_text(answer))),
                    step(format!("{} + {} = {}", q_text(answer), q_text(c), q_text(w))),
                ];
                body.expected_answer = NumberField::Text(q_text(e));
                body.student_answer = NumberField::Text(q_text(w));
            }
            1 => {
                let Some(x) = a
                    .value
                    .to_integer()
                    .filter(|&x| x >= 2 && matches!(a.form, Form::Integer))
                else {
                    continue;
                };
                let m = rng.i128(1..x);
                body.raw_steps = vec![
                    step(format!("{} + {m} = {x}", x - m)),
                    step(format!("{problem} = {}", q_text(answer))),
                ];
            }
            _ => {
                let Some((label, value)) = swap_answer(&mut rng, &case, a, b, op) else {
                    continue;
                };
                body = case.body.clone();
                body.student_answer = NumberField::Text(q_text(value));
                out.push(Case {
                    family: case.family,
                    body,
                    label,
                });
                continue;
            }
        }
        out.push(Case {
            family: case.family,
            body,
            label: case.label,
        });
    }
    out
}

/// An answer a bug of addition writes on the operands of a subtraction or multiplication (not a
/// transversal slip, not the sum itself), labelled with the family's swap tag.
fn swap_answer(rng: &mut Rng, case: &Case, a: Number, b: Number, op: Op) -> Option<(Label, Q)> {
    let (procedure, tag) = match case.family {
        Family::ArithSub => (Proc::SubAddInsteadOfSubtract, "ARITH_SUB_ADD_INSTEAD_OF_SUBTRACT_G3"),
        Family::ArithMul => (Proc::MulAddInstead, "ARITH_MUL_ADD_INSTEAD_G3"),
        Family::IntSub => (Proc::IntSubAsAdd, "INT_SUB_AS_ADD_SIGN_ERROR_G7"),
        _ => return None,
    };
    let (kind, _) = case.family.binary()?;
    let sum = a.value.add(b.value)?;
    let add = Attempt {
        family: Family::of(kind, Op::Add),
        expected: Some(Number::from_q(sum)),
        answer: Number::from_q(sum),
        operands: Some((a, b)),
        steps: &[],
    };
    let correct = crate::procedures::apply(op, a.value, b.value)?;
    let outputs: Vec<_> = procedure_outputs(&add)
        .ok()?
        .into_iter()
        .filter(|o| o.value != correct && crate::catalog::error_tag(o.tag).is_some_and(|t| t.family != "ARITH"))
        .collect();
    if outputs.is_empty() {
        return None;
    }
    let o = outputs[rng.usize(..outputs.len())];
    Some((
        Label::Buggy {
            procedure,
            tag,
            explained_by: vec![procedure],
        },
        o.value,
    ))
}

/// Counts of the deep search on the wrong answers the engine leaves UNCLASSIFIED.
#[derive(Clone, Copy, Debug, Default)]
pub struct DeepTally {
    /// Wrong answers of this kind the engine leaves UNCLASSIFIED.
    pub unclassified: u64,
    /// Of those, tagged by the deep search with the label's tag.
    pub right: u64,
    /// Tagged with another tag (for random answers: tagged at all).
    pub wrong: u64,
}

impl DeepTally {
    fn add(&mut self, tagged: bool, right: bool) {
        self.unclassified += 1;
        self.right += u64::from(tagged && right);
        self.wrong += u64::from(tagged && !right);
    }
    pub fn wrong_rate(&self) -> f64 {
        ratio(self.wrong, self.unclassified)
    }
    pub fn right_rate(&self) -> f64 {
        ratio(self.right, self.unclassified)
    }
}

/// What the deep search adds to the engine (see [`evaluate_deep`]).
#[derive(Clone, Debug, Default)]
pub struct DeepReport {
    pub cases: usize,
    pub errors: u64,
    /// Wrong answers the engine tags (the deep search returns them as they are).
    pub engine_tagged: u64,
    /// Buggy answers exactly one procedure explains, left UNCLASSIFIED by the engine.
    pub unique: DeepTally,
    /// Buggy answers several procedures explain (right = the generating procedure's tag), left
    /// UNCLASSIFIED by the engine.
    pub ambiguous: DeepTally,
    /// Random answers no procedure produces, left UNCLASSIFIED by the engine: `wrong` counts
    /// false classifications.
    pub noise: DeepTally,
    /// Random answers some procedure happens to produce, left UNCLASSIFIED by the engine.
    pub coincidences: DeepTally,
    /// Per deciding strategy: (right, wrong) over all the above.
    pub per_strategy: std::collections::BTreeMap<&'static str, (u64, u64)>,
    /// Wall time of the deep search over the cases it ran on.
    pub deep_time: std::time::Duration,
}

/// Runs the engine on every case and the deep search on the wrong answers it leaves
/// UNCLASSIFIED; tallies the deep search's results against the labels.
pub fn evaluate_deep(cases: &[Case], options: &Options) -> DeepReport {
    let mut r = DeepReport {
        cases: cases.len(),
        ..DeepReport::default()
    };
    for case in cases {
        let Ok(d) = case.body.diagnose_as(Some(case.family), options) else {
            r.errors += 1;
            continue;
        };
        if d.is_correct {
            continue;
        }
        if d.error_tag_code != UNCLASSIFIED {
            r.engine_tagged += 1;
            continue;
        }
        let started = std::time::Instant::now();
        let deep = case.body.deep_diagnose_as(Some(case.family), options);
        r.deep_time += started.elapsed();
        let Ok(deep) = deep else {
            r.errors += 1;
            continue;
        };
        let tagged = deep.is_classified();
        let (tally, right) = match &case.label {
            Label::Correct => continue,
            Label::Buggy { tag, explained_by, .. } => {
                let tally = if explained_by.len() <= 1 {
                    &mut r.unique
                } else {
                    &mut r.ambiguous
                };
                (tally, deep.diagnosis.error_tag_code == *tag)
            }
            Label::Random { explained_by } if explained_by.is_empty() => (&mut r.noise, false),
            Label::Random { .. } => (&mut r.coincidences, false),
        };
        tally.add(tagged, right);
        if tagged {
            let e = r.per_strategy.entry(deep.strategy).or_default();
            e.0 += u64::from(right);
            e.1 += u64::from(!right);
        }
    }
    r
}
