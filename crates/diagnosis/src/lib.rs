//! practica's diagnosis engine: given a topic family, the expected answer, the student's answer,
//! optional operands and the work steps, it says whether the answer is correct and which
//! misconception produced it.
//!
//! Pure: no I/O, no async, no global state. Every buggy procedure of the library
//! ([`procedure::Proc`]) is run on the problem and compared with the answer; the ones that
//! reproduce it are ranked by posterior probability ([`search`]), and the best is reported when
//! it is confident enough. Numbers are exact rationals ([`number::Q`]).
//!
//! For the asynchronous classifier: [`deep_diagnose`] searches harder when the answer is left
//! UNCLASSIFIED (wrong steps replayed, other operations, a lower bar), and [`signature`] groups
//! wrong answers that look the same so that teachers' reports can be reused.

pub mod catalog;
mod deep;
mod engine;
pub mod evalset;
pub mod expr;
pub mod family;
pub mod number;
pub mod procedure;
mod procedures;
pub mod request;
mod search;
mod signature;

pub use deep::{DeepDiagnosis, LOWER_BAR_FLOOR, LOWER_BAR_MARGIN, STEP_DISCOUNT, SWAP_DISCOUNT, deep_diagnose};
pub use engine::{diagnose, procedure_outputs};
pub use family::Family;
pub use number::{Number, NumberError, Q};
pub use request::{AttemptBody, RequestError};
pub use signature::{MAX_SIGNATURE_LEN, SIGNATURE_VERSION, signature};

use serde::Serialize;

pub const CORRECT: &str = "CORRECT";
pub const UNCLASSIFIED: &str = "UNCLASSIFIED";

/// One work step as the student wrote it.
#[derive(Clone, Copy, Debug)]
pub struct Step<'a> {
    pub expression: &'a str,
    pub is_final: bool,
}

/// What the engine is asked to judge.
#[derive(Clone, Debug)]
pub struct Attempt<'a> {
    /// `None` for a topic whose family has no procedures: only correctness is judged.
    pub family: Option<Family>,
    pub expected: Option<Number>,
    pub answer: Number,
    /// `minuend` and `subtrahend` of the API, used as the operands a and b by every family.
    pub operands: Option<(Number, Number)>,
    pub steps: &'a [Step<'a>],
}

#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Below this posterior a wrong answer is UNCLASSIFIED (and goes to the asynchronous
    /// classifier).
    pub threshold: f64,
    /// Search compositions (two bugs, bug plus slip) when no single procedure explains the answer.
    pub compositions: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            threshold: 0.5,
            compositions: true,
        }
    }
}

/// Where in the work a candidate shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Detail {
    None,
    /// Column counted from the units (0).
    Column(u8),
    /// Two columns (digit positions, or top/bottom digit positions of a product).
    Columns(u8, u8),
    /// Decimal places the result is shifted by.
    Shift(i8),
    /// Which reading of the procedure produced the answer.
    Variant(&'static str),
}

/// A procedure that reproduces the answer, with its posterior probability.
#[derive(Clone, Copy, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Candidate {
    #[serde(rename = "errorTagCode")]
    pub tag: &'static str,
    #[serde(rename = "errorSubtag")]
    pub subtag: &'static str,
    /// The second procedure of a composition.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub with: Option<&'static str>,
    pub confidence: f64,
    #[serde(skip_serializing_if = "is_none_detail")]
    pub detail: Detail,
}

impl Serialize for Detail {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        match *self {
            Detail::None => {}
            Detail::Column(c) => m.serialize_entry("column", &c)?,
            Detail::Columns(a, b) => m.serialize_entry("columns", &[a, b])?,
            Detail::Shift(k) => m.serialize_entry("shift", &k)?,
            Detail::Variant(v) => m.serialize_entry("reading", v)?,
        }
        m.end()
    }
}

fn is_none_detail(d: &Detail) -> bool {
    *d == Detail::None
}

/// What the engine noticed beyond the ranking: how the problem was read, and the steps.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Evidence {
    /// A step could not be parsed; it is ignored.
    #[serde(rename_all = "camelCase")]
    UnparseableStep {
        step: usize,
        position: usize,
        expected: &'static str,
    },
    /// The first step whose claim is false (`53 - 26 = 33`), and what it shows.
    #[serde(rename_all = "camelCase")]
    FirstWrongStep { step: usize, shows: Option<Q> },
    /// Operands were read from a step because the body had none.
    #[serde(rename_all = "camelCase")]
    OperandsFromStep { step: usize, a: Q, b: Q },
    /// The problem was read from a step (expressions, equations, percentages, proportions).
    #[serde(rename_all = "camelCase")]
    ProblemFromStep { step: usize },
    /// The family used differs from the topic's: the topic is broader, or the operands and the
    /// expected answer show another operation.
    #[serde(rename_all = "camelCase")]
    FamilyInferred { from: Option<Family>, to: Family },
    /// The problem as read gives another answer than `expectedAnswer`; the expected answer is
    /// used for correctness.
    #[serde(rename_all = "camelCase")]
    ExpectedDisagrees { computed: Q },
    /// No operands or steps to run the family's procedures on: only slips visible from the
    /// answers alone were searched.
    NoProblem,
    /// The operands are outside what the family's procedures handle (e.g. negative numbers in
    /// column subtraction).
    #[serde(rename_all = "camelCase")]
    OutOfRange { what: &'static str },
    /// The answer is right in value but written unreduced (`6/4` for `3/2`).
    NotInLowestTerms,
    /// Deep search ([`deep_diagnose`]): a wrong step, replayed as a problem of its own under
    /// `family`, is explained by a procedure with `confidence` (the step's own, before the
    /// discount), and the answer derives from it.
    #[serde(rename_all = "camelCase")]
    StepExplains {
        step: usize,
        family: Family,
        confidence: f64,
    },
    /// Deep search ([`deep_diagnose`]): the answer is what a procedure of another `operation`
    /// (`+`, `-`, `×`, `÷`; its procedures are `family`'s) writes on the same operands, with
    /// `confidence` there (before the discount): the student did that operation instead of the
    /// exercise's.
    #[serde(rename_all = "camelCase")]
    OperationSwapped {
        operation: char,
        family: Family,
        confidence: f64,
    },
}

/// The engine's verdict.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Diagnosis {
    pub is_correct: bool,
    pub error_tag_code: &'static str,
    pub error_subtag: Option<&'static str>,
    pub confidence: f64,
    pub candidates: Vec<Candidate>,
    pub evidence: Vec<Evidence>,
    pub first_wrong_step: Option<usize>,
    /// The family the procedures ran under.
    pub family: Option<Family>,
    /// The correct answer used for the verdict.
    pub correct_answer: Q,
}

/// Errors in what was asked, as opposed to a wrong answer.
#[derive(Clone, Debug, PartialEq, thiserror::Error, Serialize)]
pub enum InputError {
    #[error("expectedAnswer is required when the operands and steps do not determine the answer")]
    NoExpectedAnswer,
}

/// One wrong answer a procedure produces on a problem (see [`procedure_outputs`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProcedureOutput {
    pub procedure: procedure::Proc,
    pub tag: &'static str,
    pub value: Q,
}
