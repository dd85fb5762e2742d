//! Assessing a student's work: the final answer judged by equivalence, every step checked
//! against the one before it, and what is wrong matched against misconceptions modelled as
//! procedures ([`crate::misconceptions`]).
//!
//! ```
//! let a = cas::assess("2x + 3 = 11", Some("x = 7"), &["2x = 14", "x = 7"]).unwrap();
//! assert_eq!(a.is_correct, Some(false));
//! assert_eq!(a.first_wrong_step, Some(0));
//! assert_eq!(a.error_tag_code, "ALGEBRA_EQ_LINEAR_SIGN_FLIP_TRANSPOSE_G8");
//! assert_eq!(a.error_subtag.as_deref(), Some("TRANSPOSE-WITHOUT-SIGN-CHANGE"));
//! ```
//!
//! Ranking follows the diagnosis engine (docs/diagnosis.md): for a procedure with prior weight
//! `w` that can write `n` distinct wrong things from the statement it starts on,
//!
//! ```text
//! P(procedure | what was written) ∝ (1 − ρ) · w / Σw · 1/n      P(noise) ∝ ρ · p_noise
//! ```
//!
//! with ρ = [`NOISE_SHARE`] and `p_noise` uniform over answers of the problem's size. A wrong
//! step explained by a procedure is stronger evidence than the answer alone: when both point to
//! the same tag the two confidences combine as independent evidence.

use serde::Serialize;

use crate::arithmetic;
use crate::ast::{RelOp, Statement};
use crate::check::check;
use crate::equivalence::{self, Reading, SolutionSet};
use crate::error::CasError;
use crate::misconceptions::{LIBRARY, Procedure, Start};
use crate::number::Rational;
use crate::parser::{parse, parse_list};
use crate::solve::{Answer, Solution, SolutionKind, solve};

/// Below this confidence the best candidate is not reported (`UNCLASSIFIED`, candidates kept),
/// as in the diagnosis engine.
pub const THRESHOLD: f64 = 0.5;
/// Share of wrong answers no procedure produces (careless or random answers); the diagnosis
/// engine's value, so that the two report comparable confidences.
pub const NOISE_SHARE: f64 = 0.3;
/// How much an explained step's confidence keeps when the final answer does not follow from
/// the student's own chain (another error came later).
const ANSWER_ELSEWHERE: f64 = 0.8;
/// Weight of a composition of two bugs relative to the single procedures, as in the diagnosis
/// engine: it is only searched when no single procedure explains what was written.
const COMPOSITION_WEIGHT: f64 = 0.04;
/// Outputs of the first procedure the second one is run on.
const COMPOSED_STARTS: usize = 4;
/// Wrong steps that are matched against the procedures; later ones are only reported.
const MAX_EXPLAINED_STEPS: usize = 3;
/// Weight of a procedure whose output has the step's solutions but not its shape.
const OTHER_SHAPE: f64 = 0.1;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Assessment {
    pub solution: Solution,
    /// Catalogue topic code for the problem's kind, e.g. `ALGEBRA_EQ_LINEAR`.
    pub topic: &'static str,
    /// `None` when no answer was given.
    pub is_correct: Option<bool>,
    /// The correct answer as text.
    pub expected: String,
    /// For the student; empty when everything is correct.
    pub feedback: String,
    /// `CORRECT`, `UNCLASSIFIED` or a catalogue code.
    pub error_tag_code: String,
    /// The buggy procedure, e.g. `TRANSPOSE-WITHOUT-SIGN-CHANGE`.
    pub error_subtag: Option<String>,
    /// 1.0 for CORRECT, 0.0 for UNCLASSIFIED, else the reported tag's posterior.
    pub confidence: f64,
    /// Every procedure that reproduces the wrong answer or a wrong step, best first.
    pub candidates: Vec<Misconception>,
    /// One per student step, in order.
    pub steps: Vec<StepCheck>,
    /// Index into `steps` of the first step that does not follow from the one before.
    pub first_wrong_step: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Misconception {
    pub error_tag_code: String,
    pub error_subtag: String,
    pub confidence: f64,
    /// What the procedure would have written, and on which statement.
    pub evidence: String,
    /// The step it explains; `None` when it explains the final answer from the problem.
    pub step: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StepCheck {
    pub index: usize,
    pub latex: String,
    pub status: StepStatus,
    /// The parse error with its position, why the step is not equivalent, or what explains it.
    pub note: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum StepStatus {
    /// Same solutions (or value, or polynomial) as the previous readable statement.
    Equivalent,
    NotEquivalent,
    /// Could not be parsed; skipped for the chain.
    Unreadable,
    /// Parsed, but outside what can be compared (two variables, a cubic, a quadratic
    /// inequality, or a previous statement that could not be compared); skipped for the chain.
    Unchecked,
}

/// A ranked explanation before it is turned into a [`Misconception`].
struct Explained {
    procedure: &'static Procedure,
    /// The second procedure of a composition of two bugs.
    then: Option<&'static Procedure>,
    confidence: f64,
    /// What the procedure writes that matches.
    wrote: Statement,
}

/// What a procedure's output must reproduce.
#[derive(Clone, Copy)]
enum Target<'a> {
    /// The solutions of the student's step or answer.
    Set(&'a SolutionSet),
    /// A system's step: it must hold at the point the buggy procedure reaches.
    HoldsAt(&'a [Statement], [char; 2]),
}

impl Target<'_> {
    fn matches(&self, set: &SolutionSet) -> bool {
        match (self, set) {
            (Target::Set(got), _) => *got == set,
            (Target::HoldsAt(step, vars), SolutionSet::Point(p)) => {
                equivalence::holds_at(step, *vars, p).unwrap_or(false)
            }
            _ => false,
        }
    }
}

/// How likely a random wrong step of a system is to hold at one given wrong point: about as
/// likely as guessing one small integer.
const STEP_NOISE: f64 = 1.0 / 200.0;

impl Explained {
    /// The procedure's name, `A+B` for a composition (as in the diagnosis engine's signatures).
    fn subtag(&self) -> String {
        match self.then {
            Some(b) => format!("{}+{}", self.procedure.subtag, b.subtag),
            None => self.procedure.subtag.to_string(),
        }
    }
}

/// The statement the next step is compared with.
struct Link {
    statement: Option<Statement>,
    text: String,
    set: Option<SolutionSet>,
}

/// Assesses a student's answer and steps for `problem` (all LaTeX).
///
/// Errors only when the problem cannot be parsed or solved; unreadable answers and steps are
/// part of the assessment.
pub fn assess(problem: &str, answer: Option<&str>, steps: &[&str]) -> Result<Assessment, CasError> {
    let solution = solve(problem)?;
    let statement = parse(problem)?;
    let reading = reading_of(&statement);
    let topic = topic_of(&solution, &statement);
    // The solver's answer is authoritative; the statement's own set covers what it leaves out.
    let correct = equivalence::of_answer(&solution.answer)
        .or_else(|| reading.and_then(|r| equivalence::of_statement(&statement, r).ok()));

    let mut checks = Vec::with_capacity(steps.len());
    let mut step_candidates: Vec<(usize, Vec<Explained>)> = Vec::new();
    let problem_link = Link {
        statement: Some(statement.clone()),
        text: problem.to_string(),
        set: correct.clone(),
    };
    let mut prev = Link {
        statement: Some(statement.clone()),
        text: problem.to_string(),
        set: correct.clone(),
    };
    for (index, raw) in steps.iter().enumerate() {
        // A system's steps are each a consequence of the system, so each is compared with it.
        let against = if matches!(reading, Some(Reading::System(_))) {
            &problem_link
        } else {
            &prev
        };
        // Only the first few wrong steps are explained (the diagnosis uses the first): a long
        // list of wrong lines must not multiply the work.
        let wrong_so_far = checks
            .iter()
            .filter(|c: &&StepCheck| c.status == StepStatus::NotEquivalent)
            .count();
        let unexplained;
        let against = if wrong_so_far >= MAX_EXPLAINED_STEPS {
            unexplained = Link {
                statement: None,
                text: String::new(),
                set: against.set.clone(),
            };
            &unexplained
        } else {
            against
        };
        let (check, next, explained) = check_step(index, raw, against, reading);
        if check.status == StepStatus::NotEquivalent && !explained.is_empty() {
            step_candidates.push((index, explained));
        }
        checks.push(check);
        if let Some(next) = next {
            prev = next;
        }
    }
    let first_wrong_step = checks.iter().position(|c| c.status == StepStatus::NotEquivalent);
    let chain_end = prev.set;

    let verdict = match answer {
        Some(a) => Some(check(problem, a)?),
        None => None,
    };
    let is_correct = verdict.as_ref().map(|v| v.is_correct);
    let mut feedback = verdict.as_ref().map(|v| v.feedback.clone()).unwrap_or_default();
    if let Some(i) = first_wrong_step {
        if !feedback.is_empty() {
            feedback.push_str("; ");
        }
        feedback.push_str(&format!(
            "step {} ({}) does not follow from the line before it",
            i + 1,
            steps[i].trim()
        ));
    }

    // The final answer explained from the problem alone.
    let answer_set = match (answer, reading) {
        (Some(a), Some(r)) if is_correct == Some(false) => {
            parse_list(a).ok().and_then(|s| equivalence::of_list(&s, r).ok())
        }
        _ => None,
    };
    let from_answer = match (&answer_set, &correct) {
        (Some(got), Some(correct)) => {
            let start = Start {
                statement: &statement,
                text: problem,
                reading: reading.unwrap_or(Reading::Expression),
            };
            explain(&start, correct, Target::Set(got), None)
        }
        _ => Vec::new(),
    };
    let answer_follows = answer_set.is_some() && answer_set == chain_end;

    let mut candidates = merge(
        &step_candidates,
        &from_answer,
        answer_follows || is_correct.is_none(),
        &statement,
        steps,
        reading,
        answer_set.as_ref(),
    );
    candidates.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));

    let (mut error_tag_code, mut error_subtag, mut confidence) = match is_correct {
        Some(true) => ("CORRECT".to_string(), None, 1.0),
        None if first_wrong_step.is_none() => ("CORRECT".to_string(), None, 1.0),
        _ => match candidates.first() {
            Some(best) if best.confidence >= THRESHOLD => (
                best.error_tag_code.clone(),
                Some(best.error_subtag.clone()),
                best.confidence,
            ),
            _ => ("UNCLASSIFIED".to_string(), None, 0.0),
        },
    };

    // A one-operation numeric problem is also the diagnosis engine's: its family is the topic,
    // and its diagnosis stands where it is the more confident.
    let mut topic = topic;
    if let Answer::Number { value } = &solution.answer
        && solution.kind == SolutionKind::Evaluation
        && let Some(engine) = arithmetic::diagnose(problem, value, answer, steps)
    {
        topic = engine.family;
        if is_correct == Some(false)
            && let Some((tag, subtag, conf)) = engine.tag
            && (error_tag_code == "UNCLASSIFIED" || conf > confidence)
        {
            (error_tag_code, error_subtag, confidence) = (tag, subtag, conf);
        }
        if is_correct == Some(false) {
            candidates.extend(engine.candidates);
            candidates.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
        }
    }

    // The diagnosed procedure's hint (the first one's, for two bugs at once).
    if let Some(sub) = &error_subtag
        && let Some(p) = LIBRARY.iter().find(|p| sub.split('+').next() == Some(p.subtag))
    {
        if !feedback.is_empty() {
            feedback.push_str("; ");
        }
        feedback.push_str(p.hint);
    }

    Ok(Assessment {
        expected: solution.answer_text.clone(),
        solution,
        topic,
        is_correct,
        feedback,
        error_tag_code,
        error_subtag,
        confidence,
        candidates,
        steps: checks,
        first_wrong_step,
    })
}

/// Checks one step against the previous readable statement; returns the check, the link for
/// the next step (when this one can serve as one) and, for a wrong step, what explains it.
fn check_step(
    index: usize,
    raw: &str,
    prev: &Link,
    reading: Option<Reading>,
) -> (StepCheck, Option<Link>, Vec<Explained>) {
    let latex = raw.to_string();
    let mk = |status, note: String| StepCheck {
        index,
        latex: latex.clone(),
        status,
        note,
    };
    // Students continue a chain of equalities with a leading `=` (`= 3 + 8`); it is blanked
    // rather than cut so that parse error positions still point into what they wrote.
    let text = match raw.trim_start().strip_prefix('=') {
        Some(rest) => format!("{}{rest}", " ".repeat(raw.len() - rest.len())),
        None => raw.to_string(),
    };
    let text = text.as_str();
    let statements = match parse_list(text) {
        Ok(s) => s,
        Err(e) => {
            return (
                mk(StepStatus::Unreadable, format!("could not read the step: {e}")),
                None,
                Vec::new(),
            );
        }
    };
    let Some(reading) = reading else {
        return (
            mk(
                StepStatus::Unchecked,
                "this kind of problem has no step check yet".into(),
            ),
            None,
            Vec::new(),
        );
    };
    if let Reading::System(vars) = reading {
        return check_system_step(mk, &statements, prev, vars);
    }
    // `11 - 3 = 8` in the middle of an equation is a computation on the side, not a new
    // equation: it is judged by being true and leaves the chain where it was.
    if let (Reading::Relation(_), [Statement::Relation { lhs, op, rhs }]) = (reading, statements.as_slice())
        && lhs.variables().is_empty()
        && rhs.variables().is_empty()
    {
        let holds = equivalence::of_relation(lhs, *op, rhs).map(|s| s == SolutionSet::Everything);
        return match holds {
            Ok(true) => (
                mk(StepStatus::Equivalent, "a computation on the side; it is true".into()),
                None,
                Vec::new(),
            ),
            Ok(false) => (
                mk(
                    StepStatus::NotEquivalent,
                    "a computation on the side that is false".into(),
                ),
                None,
                Vec::new(),
            ),
            Err(e) => (
                mk(StepStatus::Unchecked, format!("cannot check this computation: {e}")),
                None,
                Vec::new(),
            ),
        };
    }
    let set = match equivalence::of_list(&statements, reading) {
        Ok(s) => s,
        Err(e) => {
            return (
                mk(StepStatus::Unchecked, format!("cannot compare this step: {e}")),
                None,
                Vec::new(),
            );
        }
    };
    let single = match statements.as_slice() {
        [s] => Some(s.clone()),
        _ => None,
    };
    let next = Link {
        statement: single.clone(),
        text: text.to_string(),
        set: Some(set.clone()),
    };
    let Some(prev_set) = &prev.set else {
        return (
            mk(StepStatus::Unchecked, "the line before it could not be compared".into()),
            Some(next),
            Vec::new(),
        );
    };
    // In a chain of equalities `A = B`, the left side must also be what came before.
    if reading == Reading::Expression
        && let Some(Statement::Relation { lhs, op: RelOp::Eq, .. }) = &single
        && equivalence::of_expression(lhs).ok().as_ref() != Some(prev_set)
    {
        return (
            mk(
                StepStatus::NotEquivalent,
                "its left side is not equal to the line before it".into(),
            ),
            Some(next),
            Vec::new(),
        );
    }
    if set == *prev_set {
        return (mk(StepStatus::Equivalent, String::new()), Some(next), Vec::new());
    }
    let var = var_of(Some(reading));
    let mut note = format!(
        "not equivalent to the line before it: it gives {}, the line before gives {}",
        set.describe(var),
        prev_set.describe(var)
    );
    // In a chain `A = B` whose left side is the line before rewritten, the slip is between A
    // and B: the procedures start from A as the student wrote it.
    let own_left = match (&single, reading) {
        (Some(Statement::Relation { lhs, op: RelOp::Eq, .. }), Reading::Expression) => {
            last_equals(text).map(|at| (Statement::Expr(lhs.clone()), text[..at].to_string()))
        }
        _ => None,
    };
    let from = match (&own_left, &prev.statement) {
        (Some((st, t)), _) => Some((st, t.as_str())),
        (None, Some(st)) => Some((st, prev.text.as_str())),
        (None, None) => None,
    };
    let explained = match from {
        Some((st, t)) => {
            let start = Start {
                statement: st,
                text: t,
                reading,
            };
            explain(&start, prev_set, Target::Set(&set), single.as_ref())
        }
        None => Vec::new(),
    };
    if let Some(best) = explained.first() {
        note.push_str(&format!(
            "; {} would write {} (confidence {:.2})",
            best.subtag(),
            best.wrote,
            best.confidence
        ));
    }
    (mk(StepStatus::NotEquivalent, note), Some(next), explained)
}

/// A step of a system: correct when it holds at the solution; a wrong one is explained by the
/// procedures run on the system.
fn check_system_step(
    mk: impl Fn(StepStatus, String) -> StepCheck,
    statements: &[Statement],
    problem: &Link,
    vars: [char; 2],
) -> (StepCheck, Option<Link>, Vec<Explained>) {
    let Some(correct @ SolutionSet::Point(point)) = &problem.set else {
        return (
            mk(
                StepStatus::Unchecked,
                "the system has no unique solution to check against".into(),
            ),
            None,
            Vec::new(),
        );
    };
    match equivalence::holds_at(statements, vars, point) {
        Err(e) => (
            mk(StepStatus::Unchecked, format!("cannot check this step: {e}")),
            None,
            Vec::new(),
        ),
        Ok(true) => (mk(StepStatus::Equivalent, String::new()), None, Vec::new()),
        Ok(false) => {
            let mut note = format!("does not hold at the solution {}", correct.describe(vars[0]));
            let explained = match &problem.statement {
                Some(st) => {
                    let start = Start {
                        statement: st,
                        text: &problem.text,
                        reading: Reading::System(vars),
                    };
                    explain(&start, correct, Target::HoldsAt(statements, vars), None)
                }
                None => Vec::new(),
            };
            if let Some(best) = explained.first() {
                note.push_str(&format!(
                    "; {} would write {} (confidence {:.2})",
                    best.subtag(),
                    best.wrote,
                    best.confidence
                ));
            }
            (mk(StepStatus::NotEquivalent, note), None, explained)
        }
    }
}

/// Byte position of the last `=` of a step, from its tokens (so that `\le` or a `=` inside a
/// command cannot be mistaken for one).
fn last_equals(text: &str) -> Option<usize> {
    let toks = crate::lexer::tokenize(text).ok()?;
    toks.iter()
        .rev()
        .find(|t| t.tok == crate::lexer::Tok::Eq)
        .map(|t| t.pos)
}

/// Runs every procedure from `start` and ranks those whose output has the set `got`.
///
/// `written` is the student's step when one is explained (`None` for a final answer): among
/// procedures whose output has the step's solutions, those whose output also has the step's
/// shape (the same coefficient of the variable once gathered: `2x = 12` is `5x - 3x = 10 + 2`,
/// not `x = 6`) are preferred, since every wrong linear step has *some* single solution.
fn explain(
    start: &Start<'_>,
    correct: &SolutionSet,
    target: Target<'_>,
    written: Option<&Statement>,
) -> Vec<Explained> {
    let written_shape = written.and_then(shape);
    let mut runs: Vec<Run> = Vec::new();
    for procedure in LIBRARY {
        let mut run = Run::new(procedure, None, procedure.weight);
        for out in procedure.outputs(start) {
            run.record(out, start.reading, correct, &target, written_shape.as_ref(), &[]);
        }
        if !run.distinct.is_empty() {
            runs.push(run);
        }
    }
    // Two bugs at once, only when no single one explains what was written (simpler beats
    // compound): each composable procedure run again on the outputs of another. Only for
    // expressions: a polynomial is a large answer space, while a single number (the solution of
    // an equation) is hit by some pair of bugs by chance too often (it doubled the share of
    // random wrong answers to linear equations that get a tag, 3.0% → 5.9%).
    if !runs.iter().any(|r| r.matched.is_some()) && matches!(target, Target::Set(SolutionSet::Expression(_))) {
        let singles: Vec<SolutionSet> = runs.iter().flat_map(|r| r.distinct.iter().cloned()).collect();
        let mut pairs: Vec<Run> = Vec::new();
        for (i, first) in runs.iter().enumerate().filter(|(_, r)| r.procedure.composable) {
            for second in runs[i + 1..].iter().filter(|r| r.procedure.composable) {
                let weight = COMPOSITION_WEIGHT * (first.procedure.weight + second.procedure.weight) / 2.0;
                let mut pair = Run::new(first.procedure, Some(second.procedure), weight);
                for (a, b) in [(first, second), (second, first)] {
                    for out in a.firsts.iter().take(COMPOSED_STARTS) {
                        let next = Start {
                            statement: out,
                            text: "",
                            reading: start.reading,
                        };
                        for out2 in b.procedure.outputs(&next) {
                            pair.record(out2, start.reading, correct, &target, written_shape.as_ref(), &singles);
                        }
                    }
                }
                if !pair.distinct.is_empty() {
                    pairs.push(pair);
                }
            }
        }
        runs.extend(pairs);
    }
    let total_weight: f64 = runs.iter().map(|r| r.weight).sum();
    let mut out: Vec<Explained> = Vec::new();
    let mut sum = NOISE_SHARE
        * match target {
            Target::Set(got) => noise_likelihood(correct, got),
            Target::HoldsAt(..) => STEP_NOISE,
        };
    for r in runs {
        let Some((wrote, same_shape)) = r.matched else { continue };
        let shape_factor = if same_shape { 1.0 } else { OTHER_SHAPE };
        let score = (1.0 - NOISE_SHARE) * r.weight / total_weight / r.distinct.len() as f64 * shape_factor;
        sum += score;
        out.push(Explained {
            procedure: r.procedure,
            then: r.then,
            confidence: score,
            wrote,
        });
    }
    for e in &mut out {
        e.confidence /= sum;
    }
    // Stable: ties keep library order, which lists specific procedures first.
    out.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
    out
}

/// One procedure (or pair) run from a statement: its distinct wrong outputs and the one that
/// reproduces what was written.
struct Run {
    procedure: &'static Procedure,
    /// The second procedure of a composition.
    then: Option<&'static Procedure>,
    weight: f64,
    distinct: Vec<SolutionSet>,
    /// One output per distinct set, the starts of compositions.
    firsts: Vec<Statement>,
    /// The matching output and whether it also has the written step's shape.
    matched: Option<(Statement, bool)>,
}

impl Run {
    fn new(procedure: &'static Procedure, then: Option<&'static Procedure>, weight: f64) -> Run {
        Run {
            procedure,
            then,
            weight,
            distinct: Vec::new(),
            firsts: Vec::new(),
            matched: None,
        }
    }

    /// Counts one output; outputs equal to the correct set (a bug that changes nothing here
    /// cannot be told apart from correct work) or to one in `exclude` do not count.
    fn record(
        &mut self,
        out: Statement,
        reading: Reading,
        correct: &SolutionSet,
        target: &Target<'_>,
        written_shape: Option<&Rational>,
        exclude: &[SolutionSet],
    ) {
        let Ok(set) = equivalence::of_statement(&out, reading) else {
            return;
        };
        if set == *correct || exclude.contains(&set) {
            return;
        }
        if target.matches(&set) && !self.matched.as_ref().is_some_and(|m| m.1) {
            let same_shape = written_shape.is_none() || shape(&out).as_ref() == written_shape;
            self.matched = Some((out.clone(), same_shape));
        }
        if !self.distinct.contains(&set) {
            self.distinct.push(set);
            self.firsts.push(out);
        }
    }
}

/// Combines the explanations of the first explained wrong step with those of the answer.
fn merge(
    step_candidates: &[(usize, Vec<Explained>)],
    from_answer: &[Explained],
    answer_follows: bool,
    problem: &Statement,
    steps: &[&str],
    reading: Option<Reading>,
    answer_set: Option<&SolutionSet>,
) -> Vec<Misconception> {
    let var = var_of(reading);
    let mut out = Vec::new();
    if let Some((index, explained)) = step_candidates.first() {
        for e in explained {
            let also = from_answer
                .iter()
                .find(|a| a.procedure.tag == e.procedure.tag)
                .map_or(0.0, |a| a.confidence);
            // The answer follows from the wrong step when the chain leads to it, or (in a
            // system, whose steps are not chained) when it is where the buggy procedure ends.
            let ends_there = reading.is_some_and(|r| {
                answer_set.is_some() && equivalence::of_statement(&e.wrote, r).ok().as_ref() == answer_set
            });
            let confidence = if answer_follows || ends_there {
                1.0 - (1.0 - e.confidence) * (1.0 - also)
            } else {
                e.confidence * ANSWER_ELSEWHERE
            };
            out.push(Misconception {
                error_tag_code: e.procedure.tag.to_string(),
                error_subtag: e.subtag(),
                confidence,
                evidence: format!(
                    "step {}: {} on the line before writes {}, equivalent to {}",
                    index + 1,
                    e.subtag(),
                    e.wrote,
                    steps[*index].trim()
                ),
                step: Some(*index),
            });
        }
    }
    for a in from_answer {
        if out.iter().any(|m| m.error_subtag == a.subtag()) {
            continue;
        }
        // With a wrong step explained otherwise, the answer alone is weaker evidence.
        let confidence = if out.is_empty() {
            a.confidence
        } else {
            a.confidence * ANSWER_ELSEWHERE
        };
        out.push(Misconception {
            error_tag_code: a.procedure.tag.to_string(),
            error_subtag: a.subtag(),
            confidence,
            evidence: format!(
                "answer: {} on the problem {problem} writes {}, which gives {}",
                a.subtag(),
                a.wrote,
                answer_set.map_or_else(String::new, |s| s.describe(var))
            ),
            step: None,
        });
    }
    out
}

/// The gathered coefficient of a relation's highest power, up to sign: what a step "looks
/// like" beyond its solutions. `None` for expressions and lists.
fn shape(s: &Statement) -> Option<Rational> {
    let Statement::Relation { lhs, rhs, .. } = s else {
        return None;
    };
    let diff = crate::poly::Poly::from_expr(lhs)
        .ok()?
        .sub(&crate::poly::Poly::from_expr(rhs).ok()?)
        .ok()?;
    diff.coeff(diff.degree()).abs().ok()
}

fn reading_of(s: &Statement) -> Option<Reading> {
    match s {
        Statement::Expr(_) => Some(Reading::Expression),
        Statement::Relation { lhs, rhs, .. } => {
            let v = lhs.variables().first().or(rhs.variables().first()).copied();
            Some(Reading::Relation(v.unwrap_or('x')))
        }
        Statement::System(eqs) => {
            let mut vars: Vec<char> = Vec::new();
            for e in eqs {
                if let Statement::Relation { lhs, rhs, .. } = e {
                    vars.extend(lhs.variables());
                    vars.extend(rhs.variables());
                }
            }
            vars.sort_unstable();
            vars.dedup();
            match vars.as_slice() {
                [u, v] => Some(Reading::System([*u, *v])),
                _ => None,
            }
        }
        _ => None,
    }
}

fn var_of(reading: Option<Reading>) -> char {
    match reading {
        Some(Reading::Relation(v)) => v,
        _ => 'x',
    }
}

/// The catalogue topic (`diagnosis::catalog::TOPICS`) of a problem's kind.
fn topic_of(solution: &Solution, statement: &Statement) -> &'static str {
    let k = solution.kind;
    let is_eq = matches!(statement, Statement::Relation { op: RelOp::Eq, .. });
    if matches!(k, SolutionKind::Evaluation) {
        "ARITH_ORDER_OPS"
    } else if matches!(k, SolutionKind::Simplification) {
        "ALGEBRA_EXPR"
    } else if matches!(k, SolutionKind::LinearEquation) || (matches!(k, SolutionKind::Degenerate) && is_eq) {
        "ALGEBRA_EQ_LINEAR"
    } else if matches!(k, SolutionKind::LinearInequality | SolutionKind::Degenerate) {
        "ALGEBRA_INEQ_LINEAR"
    } else if matches!(k, SolutionKind::QuadraticEquation) {
        "ALGEBRA_EQ_QUADRATIC"
    } else if matches!(k, SolutionKind::LinearSystem) {
        "ALGEBRA_SYSTEM_LINEAR"
    } else if matches!(k, SolutionKind::Proportion) {
        "RATIO_PROPORTION"
    } else if matches!(k, SolutionKind::Percentage) {
        "RATIO_PERCENT"
    } else if matches!(k, SolutionKind::RationalEquation) {
        // Solved by clearing denominators into a linear (or quadratic) equation.
        "ALGEBRA_EQ_LINEAR"
    } else {
        "ADHOC"
    }
}

/// How likely the set `got` is as a random wrong answer (docs/diagnosis.md): uniform over the
/// values a student could plausibly write for a problem of this size (up to a hundred times
/// the truth, either sign), non-integers twenty times rarer.
fn noise_likelihood(correct: &SolutionSet, got: &SolutionSet) -> f64 {
    let scale = match correct {
        SolutionSet::Value(v) | SolutionSet::Ray(_, v) => v.clone(),
        SolutionSet::Points(ps) => ps
            .iter()
            .max_by(|a, b| abs_cmp(a, b))
            .cloned()
            .unwrap_or(Rational::ZERO),
        SolutionSet::Expression(p) => p
            .coeffs
            .iter()
            .max_by(|a, b| abs_cmp(a, b))
            .cloned()
            .unwrap_or(Rational::ZERO),
        SolutionSet::Conjugates(p, q) => abs_max(p, q).clone(),
        SolutionSet::Everything => Rational::ZERO,
        SolutionSet::Point(vs) => vs
            .iter()
            .max_by(|a, b| abs_cmp(a, b))
            .cloned()
            .unwrap_or(Rational::ZERO),
    };
    let one = |v: &Rational| value_likelihood(&scale, v);
    match got {
        SolutionSet::Value(v) => one(v),
        SolutionSet::Points(ps) if ps.is_empty() => 1.0 / 20.0,
        SolutionSet::Points(ps) => ps.iter().map(one).product(),
        SolutionSet::Ray(_, b) => one(b) / 4.0,
        SolutionSet::Expression(p) => p.coeffs.iter().map(one).product(),
        SolutionSet::Conjugates(p, q) => one(p) * one(q),
        SolutionSet::Everything => 1.0 / 20.0,
        SolutionSet::Point(vs) => vs.iter().map(one).product(),
    }
}

fn abs_cmp(a: &Rational, b: &Rational) -> std::cmp::Ordering {
    let (x, y) = (
        a.abs().unwrap_or_else(|_| a.clone()),
        b.abs().unwrap_or_else(|_| b.clone()),
    );
    x.cmp(&y)
}

fn abs_max<'a>(a: &'a Rational, b: &'a Rational) -> &'a Rational {
    if abs_cmp(a, b).is_ge() { a } else { b }
}

/// Digits of the integer part of |q| (1 for |q| < 10), by comparison only: exact for any size.
fn int_digits(q: &Rational) -> u32 {
    let a = q.abs().unwrap_or_else(|_| q.clone());
    let ten = Rational::integer(10);
    let mut bound = ten.clone();
    let mut digits = 1;
    while a >= bound && digits < 60 {
        match bound.checked_mul(&ten) {
            Ok(b) => bound = b,
            Err(_) => return digits + 1,
        }
        digits += 1;
    }
    digits
}

fn value_likelihood(correct: &Rational, answer: &Rational) -> f64 {
    let (dc, da) = (int_digits(correct), int_digits(answer));
    let digits = dc.max(da.min(dc + 2));
    let span = 2.0 * 10f64.powi(digits as i32 + 1);
    let shape = if answer.is_integer() { 1.0 } else { 1.0 / 20.0 };
    shape / span
}
