//! Running every candidate procedure and ranking them.
//!
//! Each procedure is run on the problem and emits its outputs (one, or a few variants). A
//! procedure whose output equals the student's answer explains it. Ranking is Bayesian: with
//! `w` the procedure's prior weight among the procedures that apply here and `n` the number of
//! distinct wrong answers it can produce on this problem,
//!
//! ```text
//! P(procedure | answer) ∝ (1 − ρ) · w / Σw · 1/n        P(noise | answer) ∝ ρ · p_noise(answer)
//! ```
//!
//! so a specific procedure (one output) outranks a generic slip (many outputs), a procedure that
//! only applies in a special situation outranks a general one when the situation is there, and
//! a large answer space makes a coincidence less likely. ρ is the share of wrong answers no
//! procedure produces; the threshold on the resulting posterior decides UNCLASSIFIED.

use crate::number::Q;
use crate::procedure::Proc;
use crate::{Candidate, Detail};

/// Share of wrong answers that no procedure produces (careless or random answers). BUGGY-style
/// studies find a large part of wrong answers unexplained; 0.3 keeps confidences conservative.
pub const NOISE_SHARE: f64 = 0.3;
/// Weight of a composition relative to the single procedure it extends.
pub const COMPOSITION_WEIGHT: f64 = 0.04;

#[derive(Clone, Copy, Debug)]
pub(crate) struct Hyp {
    pub proc: Proc,
    /// Second procedure of a composition (a second bug, or a basic-fact slip).
    pub with: Option<Proc>,
    pub tag: &'static str,
    pub outputs: u32,
    pub matched: bool,
    pub detail: Detail,
    pub weight: f64,
}

pub(crate) struct Search {
    pub answer: Q,
    pub correct: Q,
    pub hyps: Vec<Hyp>,
    /// The last value emitted, to skip a procedure repeating itself.
    last: Option<Q>,
    /// Every distinct output of every procedure, when asked for (evaluation, deeper search).
    pub record: Option<Vec<crate::ProcedureOutput>>,
}

impl Search {
    pub fn new(answer: Q, correct: Q) -> Search {
        Search {
            answer,
            correct,
            hyps: Vec::new(),
            last: None,
            record: None,
        }
    }

    /// Records one output of `proc`. Outputs equal to the correct answer, or that could not be
    /// computed (`None`), do not count: a bug that changes nothing here cannot be told apart.
    pub fn emit(&mut self, proc: Proc, tag: &'static str, value: Option<Q>, detail: Detail) {
        self.emit_weighted(proc, None, proc.weight(), tag, value, detail)
    }

    pub fn emit_weighted(
        &mut self,
        proc: Proc,
        with: Option<Proc>,
        weight: f64,
        tag: &'static str,
        value: Option<Q>,
        detail: Detail,
    ) {
        let Some(v) = value else { return };
        if v == self.correct {
            return;
        }
        let idx = match self.hyps.last() {
            Some(h) if h.proc == proc && h.with == with => self.hyps.len() - 1,
            _ => {
                if self.hyps.is_empty() {
                    self.hyps.reserve(24);
                }
                self.hyps.push(Hyp {
                    proc,
                    with,
                    tag,
                    outputs: 0,
                    matched: false,
                    detail,
                    weight,
                });
                self.last = None;
                self.hyps.len() - 1
            }
        };
        if self.last == Some(v) {
            return;
        }
        self.last = Some(v);
        let h = &mut self.hyps[idx];
        h.outputs += 1;
        if let Some(r) = &mut self.record
            && with.is_none()
        {
            r.push(crate::ProcedureOutput {
                procedure: proc,
                tag,
                value: v,
            });
        }
        if v == self.answer && !h.matched {
            h.matched = true;
            h.tag = tag;
            h.detail = detail;
        }
    }

    /// Posterior of every explaining hypothesis, best first, given the noise likelihood of the
    /// answer.
    pub fn rank(&self, noise_likelihood: f64) -> Vec<Candidate> {
        let total_weight: f64 = self.hyps.iter().filter(|h| h.outputs > 0).map(|h| h.weight).sum();
        if total_weight <= 0.0 {
            return Vec::new();
        }
        let mut out: Vec<Candidate> = Vec::new();
        let mut sum = NOISE_SHARE * noise_likelihood;
        for h in self.hyps.iter().filter(|h| h.matched) {
            let score = (1.0 - NOISE_SHARE) * h.weight / total_weight / f64::from(h.outputs);
            sum += score;
            out.push(Candidate {
                tag: h.tag,
                subtag: h.proc.name(),
                with: h.with.map(Proc::name),
                confidence: score,
                detail: h.detail,
            });
        }
        for c in &mut out {
            c.confidence /= sum;
        }
        // Stable sort: ties keep library order, which lists specific procedures first.
        out.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
        out
    }
}

/// How likely a wrong answer this far from the truth is to be noise: uniform over the answers a
/// student could plausibly write for a problem of this size (integers up to ten times the
/// magnitude of the truth, either sign), with non-integers rarer for whole-number problems.
pub(crate) fn noise_likelihood(correct: Q, answer: Q, whole_numbers: bool) -> f64 {
    let size = |q: Q| q.abs().floor().unsigned_abs();
    let magnitude = size(correct).max(size(answer).min(size(correct).saturating_mul(100)));
    let digits = if magnitude == 0 { 1 } else { magnitude.ilog10() + 1 };
    let span = 2.0 * 10f64.powi(digits as i32 + 1);
    let shape = if answer.is_integer() {
        1.0
    } else if whole_numbers {
        1.0 / 100.0
    } else {
        1.0 / 20.0
    };
    shape / span
}
