//! The one error type of the crate. Every variant that comes from a caller's input names the
//! field (a JSON path such as `feedbacks[2].total` or `previous_chat_map.ce-2`) so the service
//! can answer a 4xx that tells the client exactly what to fix.

use thiserror::Error;

/// How the service should answer an error. The engine does not speak HTTP; this is the
/// classification the spec and SIMULATION.md imply (400 for a malformed request, 404 for an
/// id that names nothing, 409 for a request the attempt's state does not allow, 422 for values
/// that are well-formed but break a rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    BadRequest,
    NotFound,
    Conflict,
    Unprocessable,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SimulationError {
    // --- content -------------------------------------------------------------------------
    #[error("{field}: {reason}")]
    InvalidRubric { field: String, reason: String },
    #[error("{field}: invalid evidence pattern: {reason}")]
    InvalidEvidencePattern { field: String, reason: String },

    // --- grades --------------------------------------------------------------------------
    #[error("{field}: no criterion {criterion_id:?} in the rubric")]
    UnknownCriterion { field: String, criterion_id: String },
    #[error("{field}: no level {level_id:?} in criterion {criterion_id:?}")]
    UnknownLevel {
        field: String,
        criterion_id: String,
        level_id: String,
    },
    #[error("{field}: criterion {criterion_id:?} chosen twice")]
    DuplicateCriterion { field: String, criterion_id: String },
    #[error("{field}: no level chosen for criterion {criterion_id:?}")]
    MissingCriterion { field: String, criterion_id: String },
    #[error("{field}: {value} is outside 0..={max}")]
    ScoreOutOfRange { field: String, value: i64, max: u64 },
    #[error("{field}: {supplied} contradicts the score ({computed} by the rubric's pass points)")]
    InconsistentPassed {
        field: String,
        supplied: bool,
        computed: bool,
    },
    #[error("{field}: {reason}")]
    InvalidField { field: String, reason: String },
    #[error("{field}: quote is not in the learner's messages")]
    QuoteNotFound { field: String },

    // --- attempt flow --------------------------------------------------------------------
    #[error("home_id or practice_id is required")]
    MissingHomeOrPractice,
    #[error("home_id and practice_id are exclusive: give one")]
    BothHomeAndPractice,
    #[error("infinite_mode: only a practice may be played in infinite mode")]
    InfiniteModeRequiresPractice,
    #[error("the simulation has no scenarios to play")]
    NoScenarios,
    #[error("chat_entries[{index}]: {reason}")]
    InvalidChatEntries { index: usize, reason: String },
    #[error("the attempt has ended")]
    AttemptEnded,
    #[error("the attempt's time limit has run out")]
    TimeLimitExceeded,
    #[error("chat {chat_id:?} has not ended; end it before moving on")]
    CurrentChatNotEnded { chat_id: String },
    #[error("chat {chat_id:?} has ended")]
    ChatEnded { chat_id: String },
    #[error("every scenario of the attempt has been played")]
    NoMoreScenarios,
    #[error("chat_id: no chat {chat_id:?} in this attempt")]
    UnknownChat { chat_id: String },

    // --- use-previous --------------------------------------------------------------------
    #[error("previous_chat_map: nothing to copy")]
    EmptyPreviousChatMap,
    #[error("previous_chat_map: grades cannot be copied into an infinite-mode attempt")]
    UsePreviousInInfiniteMode,
    #[error("{field}: no chat entry {chat_entry_id:?} in this attempt")]
    UnknownChatEntry { field: String, chat_entry_id: String },
    #[error("{field}: chat entry {chat_entry_id:?} already has a chat in this attempt")]
    ChatEntryAlreadyPlayed { field: String, chat_entry_id: String },
    #[error("{field}: no earlier chat {chat_id:?} of this learner")]
    UnknownPreviousChat { field: String, chat_id: String },
    #[error("{field}: chat {chat_id:?} belongs to chat entry {actual:?}, not {expected:?}")]
    PreviousChatOtherEntry {
        field: String,
        chat_id: String,
        expected: String,
        actual: String,
    },
    #[error("{field}: chat {chat_id:?} has not ended with a grade")]
    PreviousChatNotGraded { field: String, chat_id: String },

    // --- video questions -----------------------------------------------------------------
    #[error("option_ids: choose at least one option")]
    NoOptionChosen,
    #[error("{field}: no option {option_id:?} in question {question_id:?}")]
    UnknownOption {
        field: String,
        question_id: String,
        option_id: String,
    },
    #[error("option_ids: question {question_id:?} takes one option")]
    MultipleChoiceNotAllowed { question_id: String },
}

impl SimulationError {
    /// The request field the error is about, when there is one.
    pub fn field(&self) -> Option<&str> {
        use SimulationError::*;
        match self {
            InvalidRubric { field, .. }
            | InvalidEvidencePattern { field, .. }
            | UnknownCriterion { field, .. }
            | UnknownLevel { field, .. }
            | DuplicateCriterion { field, .. }
            | MissingCriterion { field, .. }
            | ScoreOutOfRange { field, .. }
            | InconsistentPassed { field, .. }
            | InvalidField { field, .. }
            | QuoteNotFound { field }
            | UnknownChatEntry { field, .. }
            | ChatEntryAlreadyPlayed { field, .. }
            | UnknownPreviousChat { field, .. }
            | PreviousChatOtherEntry { field, .. }
            | PreviousChatNotGraded { field, .. }
            | UnknownOption { field, .. } => Some(field),
            MissingHomeOrPractice | BothHomeAndPractice => Some("home_id"),
            InfiniteModeRequiresPractice => Some("infinite_mode"),
            UnknownChat { .. } | CurrentChatNotEnded { .. } | ChatEnded { .. } => Some("chat_id"),
            EmptyPreviousChatMap | UsePreviousInInfiniteMode => Some("previous_chat_map"),
            NoOptionChosen | MultipleChoiceNotAllowed { .. } => Some("option_ids"),
            InvalidChatEntries { .. } | NoScenarios | AttemptEnded | TimeLimitExceeded | NoMoreScenarios => None,
        }
    }

    pub fn class(&self) -> ErrorClass {
        use SimulationError::*;
        match self {
            // SIMULATION.md: `start` 400s without home_id or practice_id.
            MissingHomeOrPractice | BothHomeAndPractice | InfiniteModeRequiresPractice => ErrorClass::BadRequest,
            UnknownChat { .. } => ErrorClass::NotFound,
            // Content that cannot be played is the deployment's problem, but the request that
            // hit it cannot succeed either; 409 says "not in this state".
            NoScenarios
            | InvalidChatEntries { .. }
            | AttemptEnded
            | TimeLimitExceeded
            | CurrentChatNotEnded { .. }
            | ChatEnded { .. }
            | NoMoreScenarios => ErrorClass::Conflict,
            // SIMULATION.md: a score out of range and a bad previous_chat_map are 422s; the
            // other value checks follow them.
            _ => ErrorClass::Unprocessable,
        }
    }
}

pub type Result<T, E = SimulationError> = std::result::Result<T, E>;
