//! The diagnosis of one attempt: read the problem (from the operands or the steps), judge the
//! answer, run every procedure, rank, and check the steps.

use crate::expr::{Node, NodeId, Statement};
use crate::family::{Family, Kind, Op};
use crate::number::{Form, Number, Q};
use crate::procedures::{self, Problem, apply};
use crate::search::{Search, noise_likelihood};
use crate::{Attempt, CORRECT, Candidate, Diagnosis, Evidence, InputError, Options, UNCLASSIFIED};

/// Steps beyond this many are not read (the request layer bounds the count too).
pub(crate) const MAX_STEPS_READ: usize = 64;

pub fn diagnose(attempt: &Attempt<'_>, options: &Options) -> Result<Diagnosis, InputError> {
    let mut evidence = Vec::new();
    let parsed: Vec<Option<Statement>> = attempt
        .steps
        .iter()
        .take(MAX_STEPS_READ)
        .enumerate()
        .map(|(i, step)| match Statement::parse(step.expression) {
            Ok(st) => Some(st),
            Err(e) => {
                evidence.push(Evidence::UnparseableStep {
                    step: i,
                    position: e.pos,
                    expected: e.expected,
                });
                None
            }
        })
        .collect();
    let expected = attempt.expected.map(|n| n.value);
    let problem = attempt
        .family
        .and_then(|f| read_problem(f, attempt, &parsed, expected, &mut evidence));
    let family = problem.as_ref().map(Problem::family).or(attempt.family);
    let computed = problem.as_ref().and_then(Problem::solve);
    let correct = match (expected, computed) {
        (Some(e), Some(c)) => {
            if e != c {
                evidence.push(Evidence::ExpectedDisagrees { computed: c });
            }
            e
        }
        (Some(e), None) => e,
        (None, Some(c)) => c,
        (None, None) => return Err(InputError::NoExpectedAnswer),
    };
    let first_wrong_step = first_wrong_step(&parsed, correct);
    if let Some((step, shows)) = first_wrong_step {
        evidence.push(Evidence::FirstWrongStep { step, shows });
    }
    let answer = attempt.answer.value;
    let mut diagnosis = Diagnosis {
        is_correct: answer == correct,
        error_tag_code: CORRECT,
        error_subtag: None,
        confidence: 1.0,
        candidates: Vec::new(),
        evidence,
        first_wrong_step: first_wrong_step.map(|(i, _)| i),
        family,
        correct_answer: correct,
    };
    if diagnosis.is_correct {
        if let Form::Fraction { num, den } = attempt.answer.form
            && num_integer::gcd(num, den) > 1
        {
            diagnosis.evidence.push(Evidence::NotInLowestTerms);
        }
        return Ok(diagnosis);
    }

    let mut search = Search::new(answer, correct);
    run_singles(problem.as_ref(), family, correct, &mut search);
    let whole_numbers = family.and_then(Family::broad_kind) == Some(Kind::Whole);
    let noise = noise_likelihood(correct, answer, whole_numbers);
    let mut ranked = search.rank(noise);
    if options.compositions && best_tag(&ranked).is_none_or(|(_, c)| c < options.threshold) {
        procedures::compositions(problem.as_ref(), &mut search);
        ranked = search.rank(noise);
    }
    for c in &mut ranked {
        c.confidence = round4(c.confidence);
    }
    match best_tag(&ranked) {
        Some((tag, conf)) if conf >= options.threshold => {
            diagnosis.error_tag_code = tag;
            diagnosis.error_subtag = ranked.iter().find(|c| c.tag == tag).map(|c| c.subtag);
            diagnosis.confidence = round4(conf);
        }
        _ => {
            diagnosis.error_tag_code = UNCLASSIFIED;
            diagnosis.confidence = 0.0;
        }
    }
    diagnosis.candidates = ranked;
    Ok(diagnosis)
}

/// Every wrong answer each single procedure of the family produces on this problem (the answer
/// in `attempt` is ignored). What the evaluation set is generated from, and what a deeper
/// classifier can show a teacher ("a student with this misconception would have written …").
pub fn procedure_outputs(attempt: &Attempt<'_>) -> Result<Vec<crate::ProcedureOutput>, InputError> {
    let parsed: Vec<Option<Statement>> = attempt
        .steps
        .iter()
        .take(MAX_STEPS_READ)
        .map(|s| Statement::parse(s.expression).ok())
        .collect();
    let expected = attempt.expected.map(|n| n.value);
    let mut evidence = Vec::new();
    let problem = attempt
        .family
        .and_then(|f| read_problem(f, attempt, &parsed, expected, &mut evidence));
    let family = problem.as_ref().map(Problem::family).or(attempt.family);
    let correct = expected
        .or_else(|| problem.as_ref().and_then(Problem::solve))
        .ok_or(InputError::NoExpectedAnswer)?;
    let mut search = Search::new(attempt.answer.value, correct);
    search.record = Some(Vec::new());
    run_singles(problem.as_ref(), family, correct, &mut search);
    Ok(search.record.unwrap_or_default())
}

/// Every single procedure of the family, and the slips visible from the correct answer alone.
fn run_singles(problem: Option<&Problem<'_>>, family: Option<Family>, correct: Q, search: &mut Search) {
    if let Some(p) = problem {
        procedures::run(p, search);
    } else if family == Some(Family::FractAddSub) {
        procedures::fraction_answer_only(correct, search);
    }
    procedures::transversal(family, correct, search);
}

pub(crate) fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// The tag with the most posterior mass (its candidates summed), ties to the first listed.
fn best_tag(ranked: &[Candidate]) -> Option<(&'static str, f64)> {
    let mut best: Option<(&'static str, f64)> = None;
    for (i, c) in ranked.iter().enumerate() {
        if ranked[..i].iter().any(|p| p.tag == c.tag) {
            continue;
        }
        let mass: f64 = ranked[i..]
            .iter()
            .filter(|o| o.tag == c.tag)
            .map(|o| o.confidence)
            .sum();
        if best.is_none_or(|(_, m)| mass > m + 1e-12) {
            best = Some((c.tag, mass));
        }
    }
    best
}

fn read_problem<'s>(
    family: Family,
    attempt: &Attempt<'_>,
    parsed: &'s [Option<Statement>],
    expected: Option<Q>,
    ev: &mut Vec<Evidence>,
) -> Option<Problem<'s>> {
    let problem = match family {
        Family::PowPower | Family::PowRoot | Family::Pow => expression_problem(family, parsed, ev),
        Family::RatioPercent | Family::RatioProportion | Family::Ratio => {
            let percent = if family == Family::RatioProportion {
                None
            } else {
                percent_problem(parsed, ev)
            };
            percent.or_else(|| {
                if family == Family::RatioPercent {
                    None
                } else {
                    proportion_problem(parsed, ev)
                }
            })
        }
        Family::AlgebraEqLinear => linear_problem(parsed, ev),
        _ => binary_problem(family, attempt, parsed, expected, ev),
    };
    if problem.is_none() {
        ev.push(Evidence::NoProblem);
    }
    if let Some(p) = &problem
        && p.family() != family
    {
        ev.push(Evidence::FamilyInferred {
            from: Some(family),
            to: p.family(),
        });
    }
    problem
}

/// `a op b` with two literal operands at the root of a step's left-hand side.
pub(crate) fn binary_in(st: &Statement, kind: Kind, family_op: Option<Op>) -> Option<(Number, Number, Op)> {
    let root = st.lhs();
    let (x, y, op) = match *st.node(root) {
        Node::Add(x, y) => (x, y, Op::Add),
        Node::Sub(x, y) => (x, y, Op::Sub),
        Node::Mul(x, y) => (x, y, Op::Mul),
        Node::Div(x, y) => (x, y, Op::Div),
        // `96/8` lexes as one fraction; in a division topic it is the division.
        Node::Num(n) if family_op == Some(Op::Div) && kind != Kind::Fraction => {
            if let Form::Fraction { num, den } = n.form {
                return Some((Number::int(num), Number::int(den), Op::Div));
            }
            return None;
        }
        _ => return None,
    };
    Some((st.number(x)?, st.number(y)?, op))
}

fn binary_problem<'s>(
    family: Family,
    attempt: &Attempt<'_>,
    parsed: &'s [Option<Statement>],
    expected: Option<Q>,
    ev: &mut Vec<Evidence>,
) -> Option<Problem<'s>> {
    let kind = family.broad_kind()?;
    let family_op = family.binary().map(|(_, op)| op);
    let (a, b, step_op) = match attempt.operands {
        Some((a, b)) => (a, b, None),
        None => {
            let (i, (a, b, op)) = parsed.iter().enumerate().find_map(|(i, st)| {
                st.as_ref()
                    .and_then(|st| binary_in(st, kind, family_op))
                    .map(|t| (i, t))
            })?;
            ev.push(Evidence::OperandsFromStep {
                step: i,
                a: a.value,
                b: b.value,
            });
            (a, b, Some(op))
        }
    };
    let gives_expected = |op: Op| expected.is_some_and(|e| apply(op, a.value, b.value) == Some(e));
    let op = match (step_op, family_op) {
        (Some(op), _) => op,
        // The operands and the expected answer show the operation: the topic's unless another
        // one is the one that gives the expected answer.
        (None, Some(op)) if gives_expected(op) || expected.is_none() => op,
        (None, fallback) => [Op::Add, Op::Sub, Op::Mul, Op::Div]
            .into_iter()
            .find(|&op| gives_expected(op))
            .or(fallback)?,
    };
    // The numbers can be of a wider kind than the topic says (negative numbers under a
    // subtraction topic, decimals under an integer one): the procedures follow the numbers.
    let kind = widen(kind, &a, &b);
    let family = Family::of(kind, op).or_else(|| {
        ev.push(Evidence::OutOfRange {
            what: "no procedures for this operation on these numbers",
        });
        None
    })?;
    Some(Problem::Binary { family, op, a, b })
}

/// The kind the procedures follow: the topic's, widened to what the numbers are (negative numbers
/// under a whole-number topic, decimals under an integer one).
pub(crate) fn widen(kind: Kind, a: &Number, b: &Number) -> Kind {
    match (kind, kind_of(a, b)) {
        (Kind::Whole, seen) | (Kind::Integer, seen @ (Kind::Decimal | Kind::Fraction)) => seen,
        (kind, _) => kind,
    }
}

/// The narrowest kind of number both operands belong to.
pub(crate) fn kind_of(a: &Number, b: &Number) -> Kind {
    let decimal = |n: &Number| matches!(n.form, Form::Decimal { .. });
    if decimal(a) || decimal(b) {
        Kind::Decimal
    } else if !a.value.is_integer() || !b.value.is_integer() {
        Kind::Fraction
    } else if a.value.is_negative() || b.value.is_negative() {
        Kind::Integer
    } else {
        Kind::Whole
    }
}

fn has_node(st: &Statement, root: NodeId, pred: &impl Fn(&Node) -> bool) -> bool {
    let n = st.node(root);
    if pred(n) {
        return true;
    }
    match *n {
        Node::Neg(a) | Node::Sqrt(a) | Node::Percent(a) => has_node(st, a, pred),
        Node::Add(a, b)
        | Node::Sub(a, b)
        | Node::Mul(a, b)
        | Node::Div(a, b)
        | Node::Pow(a, b)
        | Node::PercentOf(a, b) => has_node(st, a, pred) || has_node(st, b, pred),
        Node::Num(_) | Node::Var(_) => false,
    }
}

fn expression_problem<'s>(
    family: Family,
    parsed: &'s [Option<Statement>],
    ev: &mut Vec<Evidence>,
) -> Option<Problem<'s>> {
    let (i, st) = parsed.iter().enumerate().find_map(|(i, st)| {
        let st = st.as_ref()?;
        (has_node(st, st.lhs(), &|n| matches!(n, Node::Pow(..) | Node::Sqrt(_))) && st.eval(st.lhs()).is_some())
            .then_some((i, st))
    })?;
    let root = st.lhs();
    let family = match family {
        Family::Pow if has_node(st, root, &|n| matches!(n, Node::Sqrt(_))) => Family::PowRoot,
        Family::Pow => Family::PowPower,
        f => f,
    };
    ev.push(Evidence::ProblemFromStep { step: i });
    Some(Problem::Expression {
        family,
        st: st.clone(),
        root,
    })
}

fn percent_problem<'s>(parsed: &'s [Option<Statement>], ev: &mut Vec<Evidence>) -> Option<Problem<'s>> {
    parsed.iter().enumerate().find_map(|(i, st)| {
        let st = st.as_ref()?;
        let Node::PercentOf(p, n) = *st.node(st.lhs()) else {
            return None;
        };
        let p = match *st.node(p) {
            Node::Percent(x) => st.eval(x)?,
            _ => st.eval(p)?.mul(Q::int(100))?,
        };
        let n = st.eval(n)?;
        ev.push(Evidence::ProblemFromStep { step: i });
        Some(Problem::Percent { p, n })
    })
}

/// `a:b = c:x` (or with `/`, or a fraction literal on one side), one unknown among four terms.
fn proportion_problem<'s>(parsed: &'s [Option<Statement>], ev: &mut Vec<Evidence>) -> Option<Problem<'s>> {
    parsed.iter().enumerate().find_map(|(i, st)| {
        let st = st.as_ref()?;
        if st.sides().len() != 2 {
            return None;
        }
        let mut terms = [None; 4];
        for (k, &side) in st.sides().iter().enumerate() {
            let term = |id: NodeId| -> Option<Option<Q>> {
                match *st.node(id) {
                    Node::Var(_) => Some(None),
                    _ => st.number(id).map(|n| Some(n.value)),
                }
            };
            let (u, v) = match *st.node(side) {
                Node::Div(u, v) => (term(u)?, term(v)?),
                Node::Num(n) => match n.form {
                    Form::Fraction { num, den } => (Some(Q::int(num)), Some(Q::int(den))),
                    _ => return None,
                },
                _ => return None,
            };
            terms[2 * k] = u;
            terms[2 * k + 1] = v;
        }
        if terms.iter().filter(|t| t.is_none()).count() != 1 {
            return None;
        }
        let problem = Problem::Proportion { terms };
        problem.solve()?;
        ev.push(Evidence::ProblemFromStep { step: i });
        Some(problem)
    })
}

fn linear_problem<'s>(parsed: &'s [Option<Statement>], ev: &mut Vec<Evidence>) -> Option<Problem<'s>> {
    parsed.iter().enumerate().find_map(|(i, st)| {
        let st = st.as_ref()?;
        if st.sides().len() != 2 || st.variable().is_none() {
            return None;
        }
        let (lhs, rhs) = (st.sides()[0], st.sides()[1]);
        let problem = Problem::Linear { st, lhs, rhs };
        problem.solve()?;
        ev.push(Evidence::ProblemFromStep { step: i });
        Some(problem)
    })
}

/// The first step whose claim is false: sides that are not equal, or an equation whose solution
/// is not the correct answer. Returns the step and what it shows.
fn first_wrong_step(parsed: &[Option<Statement>], correct: Q) -> Option<(usize, Option<Q>)> {
    parsed.iter().enumerate().find_map(|(i, st)| {
        let st = st.as_ref()?;
        if !st.is_equation() {
            return None;
        }
        if st.variable().is_none() {
            let values: Option<Vec<Q>> = st.sides().iter().map(|&s| st.eval(s)).collect();
            let values = values?;
            return values
                .windows(2)
                .any(|w| w[0] != w[1])
                .then(|| (i, values.last().copied()));
        }
        let (l, r) = (st.linear(st.lhs())?, st.linear(st.last())?);
        let solution = r.konst.sub(l.konst)?.div(l.coef.sub(r.coef)?)?;
        (solution != correct).then_some((i, Some(solution)))
    })
}
