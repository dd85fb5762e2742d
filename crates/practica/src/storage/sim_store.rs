//! Storage of simulation attempts: the rows, the writes that change them (always in one
//! transaction, see [`SimStore::sim_write`]), and the reads the service composes `get`, search,
//! archive and export from. Times are microseconds since the Unix epoch on both backends.

use async_trait::async_trait;
use serde_json::Value;

use super::{NewJob, Result};

#[derive(Clone, Debug, PartialEq)]
pub struct SimAttemptRow {
    pub id: String,
    pub profile_id: String,
    pub home_id: Option<String>,
    pub practice_id: Option<String>,
    pub simulation_id: String,
    pub department_id: Option<String>,
    pub cohort_id: Option<String>,
    pub infinite_mode: bool,
    pub is_archived: bool,
    pub created_at: i64,
    pub ended_at: Option<i64>,
    /// `simulation::attempt::Attempt` as JSON.
    pub state: Value,
    pub version: i64,
    pub created_by: String,
    pub via_agent: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SimChatRow {
    pub id: String,
    /// The attempt the chat was played in.
    pub attempt_id: String,
    pub profile_id: String,
    pub chat_entry_id: String,
    pub scenario_id: String,
    pub position: i64,
    pub started_at: i64,
    pub ended_at: Option<i64>,
    /// The rubric in force when the chat opened (`simulation::rubric::Rubric`).
    pub rubric: Value,
    pub created_by: String,
    pub via_agent: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SimMessageRow {
    pub id: String,
    pub chat_id: String,
    /// Order within the chat.
    pub seq: i64,
    pub parent_message_id: Option<String>,
    /// `query` (the learner) or `response` (the persona).
    pub kind: String,
    pub content: String,
    pub hints: Value,
    pub contents: Value,
    /// `complete`, `streaming`, `stopped` or `failed`.
    pub status: String,
    /// `learner`, `agent`, `ai`, `script` or `audio`.
    pub source: String,
    pub created_by: String,
    pub via_agent: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SimGradeRow {
    pub id: String,
    pub chat_id: String,
    pub attempt_id: String,
    /// `agent`, `ai`, `rules` or `previous`.
    pub source: String,
    /// `pending`, `done` or `failed`.
    pub state: String,
    pub score: Option<i64>,
    pub max_score: i64,
    pub passed: Option<bool>,
    pub detail: Value,
    pub request: Value,
    pub error: Option<String>,
    pub created_by: String,
    pub via_agent: bool,
    pub created_at: i64,
    pub finished_at: Option<i64>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SimResponseRow {
    pub id: String,
    pub chat_id: String,
    pub question_id: String,
    pub option_ids: Value,
    pub is_correct: Option<bool>,
    pub created_by: String,
    pub via_agent: bool,
    pub created_at: i64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SimAudioRow {
    pub run_id: String,
    pub chat_id: String,
    pub attempt_id: String,
    pub group_id: String,
    /// `open` or `stopped`.
    pub state: String,
    pub frame_count: i64,
    pub byte_len: i64,
    pub upload_id: Option<String>,
    pub transcript: Option<String>,
    pub message_id: Option<String>,
    pub created_by: String,
    pub via_agent: bool,
    pub created_at: i64,
    pub stopped_at: Option<i64>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SimAudioFrameRow {
    pub run_id: String,
    pub seq: i64,
    pub upload_id: String,
    pub byte_len: i64,
    pub created_by: String,
    pub via_agent: bool,
    pub created_at: i64,
}

/// An export built by a job: where it stands.
#[derive(Clone, Debug, PartialEq)]
pub struct SimExportRow {
    /// The upload id the export has once built.
    pub id: String,
    pub attempt_id: String,
    /// `pending`, `done` or `failed`.
    pub state: String,
    pub file_name: String,
    pub row_count: i64,
    pub error: Option<String>,
    pub created_by: String,
    pub via_agent: bool,
    pub created_at: i64,
    pub finished_at: Option<i64>,
}

/// Who wrote a change.
#[derive(Clone, Debug, PartialEq)]
pub struct Writer {
    pub id: String,
    pub via_agent: bool,
}

/// One change of a [`SimStore::sim_write`] batch. The conditional ones fail the whole batch
/// with `StoreError::Conflict` when their condition does not hold.
#[derive(Clone, Debug)]
pub enum SimWrite {
    InsertAttempt(SimAttemptRow),
    /// The attempt's new state, if it is still at `expected_version` (else Conflict).
    UpdateState {
        attempt_id: String,
        expected_version: i64,
        state: Value,
        ended_at: Option<i64>,
        at: i64,
        by: Writer,
    },
    InsertChat(SimChatRow),
    /// Sets the end time of a chat that has none.
    EndChat {
        chat_id: String,
        ended_at: i64,
    },
    Link {
        attempt_id: String,
        chat_id: String,
        position: i64,
        linked: bool,
        at: i64,
        by: Writer,
    },
    InsertMessage(SimMessageRow),
    InsertGrade(SimGradeRow),
    /// Finishes a pending grade (else Conflict).
    FinishGrade {
        grade_id: String,
        state: String,
        score: Option<i64>,
        passed: Option<bool>,
        detail: Value,
        error: Option<String>,
        finished_at: i64,
    },
    InsertResponse(SimResponseRow),
    InsertAudio(SimAudioRow),
    /// Appends a frame to an open session (else Conflict).
    AppendAudioFrame(SimAudioFrameRow),
    /// Closes an open session (else Conflict).
    StopAudio {
        run_id: String,
        upload_id: Option<String>,
        transcript: Option<String>,
        message_id: Option<String>,
        stopped_at: i64,
    },
    InsertExport(SimExportRow),
    /// Finishes a pending export (else Conflict).
    FinishExport {
        id: String,
        state: String,
        error: Option<String>,
        finished_at: i64,
    },
    Enqueue(NewJob),
}

/// Who may see which attempts.
#[derive(Clone, Debug, PartialEq)]
pub enum SimScope {
    All,
    /// A learner: their own.
    Own(String),
    /// A teacher: their own and those of these departments.
    OwnOrDepartments(String, Vec<String>),
}

/// The filters of search and archive (archive uses ids or the date range).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SimFilter {
    pub attempt_ids: Option<Vec<String>>,
    pub search: Option<String>,
    pub simulation_ids: Option<Vec<String>>,
    pub department_ids: Option<Vec<String>>,
    pub cohort_ids: Option<Vec<String>>,
    pub scenario_ids: Option<Vec<String>>,
    pub profile_ids: Option<Vec<String>>,
    pub practice: Option<bool>,
    pub is_archived: Option<bool>,
    pub infinite_mode: Option<bool>,
    /// Inclusive bounds on created_at, µs.
    pub start: Option<i64>,
    pub end: Option<i64>,
    pub simulation_search: Option<String>,
    pub department_search: Option<String>,
}

/// One attempt of a search page.
#[derive(Clone, Debug, PartialEq)]
pub struct SimSearchRow {
    pub attempt: SimAttemptRow,
    pub profile_name: Option<String>,
    pub simulation_name: Option<String>,
    pub num_chats: i64,
    pub scenario_ids: Vec<String>,
}

/// A facet option: id, name, how many attempts, colour.
#[derive(Clone, Debug, PartialEq)]
pub struct SimFacet {
    pub id: String,
    pub name: String,
    pub count: i64,
    pub hex_code: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SimSearchPage {
    pub rows: Vec<SimSearchRow>,
    pub total_count: i64,
    pub simulations: Vec<SimFacet>,
    pub departments: Vec<SimFacet>,
}

#[async_trait]
pub trait SimStore: Send + Sync {
    /// Applies every write in one transaction: all or nothing.
    async fn sim_write(&self, writes: &[SimWrite]) -> Result<()>;
    async fn sim_attempt(&self, id: &str) -> Result<Option<SimAttemptRow>>;
    async fn sim_chat(&self, id: &str) -> Result<Option<SimChatRow>>;
    /// The chats a learner played for any of these chat entries (for use-previous and the
    /// continuation options), oldest first.
    async fn sim_learner_chats(&self, profile_id: &str, chat_entry_ids: &[String]) -> Result<Vec<SimChatRow>>;
    /// The chats of an attempt (its own and linked ones), in position order.
    async fn sim_attempt_chats(&self, attempt_id: &str) -> Result<Vec<SimChatRow>>;
    async fn sim_messages(&self, chat_ids: &[String]) -> Result<Vec<SimMessageRow>>;
    async fn sim_message(&self, id: &str) -> Result<Option<SimMessageRow>>;
    async fn sim_grades(&self, chat_ids: &[String]) -> Result<Vec<SimGradeRow>>;
    async fn sim_grade(&self, id: &str) -> Result<Option<SimGradeRow>>;
    async fn sim_responses(&self, chat_ids: &[String]) -> Result<Vec<SimResponseRow>>;
    async fn sim_audio_sessions(&self, chat_id: &str) -> Result<Vec<SimAudioRow>>;
    async fn sim_audio_frames(&self, run_id: &str) -> Result<Vec<SimAudioFrameRow>>;
    /// A streaming reply's text so far; false when it is no longer streaming (stopped).
    async fn sim_message_progress(&self, id: &str, content: &str, at: i64) -> Result<bool>;
    /// The final text of a reply: `complete` (or `failed`) if it was still streaming; a stopped
    /// reply keeps `stopped` and gets the text it had when it stopped.
    async fn sim_message_finish(&self, id: &str, content: &str, status: &str, at: i64) -> Result<()>;
    /// Sets a reply's hints.
    async fn sim_message_hints(&self, id: &str, hints: &Value) -> Result<()>;
    /// Replies still `streaming` with no write since `before` (their process died): `failed`,
    /// keeping their text. How many.
    async fn sim_fail_stale_streams(&self, before: i64, at: i64) -> Result<u64>;
    /// Marks the chat's streaming replies stopped; how many were.
    async fn sim_stop_chat(&self, chat_id: &str, at: i64) -> Result<u64>;
    async fn sim_search(&self, scope: &SimScope, filter: &SimFilter, limit: i64, offset: i64) -> Result<SimSearchPage>;
    /// Sets `is_archived` on the matching attempts; the (attempt id, profile id) changed.
    async fn sim_archive(
        &self,
        scope: &SimScope,
        filter: &SimFilter,
        archived: bool,
        at: i64,
        by: &Writer,
    ) -> Result<Vec<(String, String)>>;
    async fn sim_export(&self, id: &str) -> Result<Option<SimExportRow>>;
    /// Refreshes the analytics views; their names.
    async fn sim_refresh(&self) -> Result<Vec<String>>;
    /// A table's (or view's) columns: name, type, nullable — read from the database itself, so
    /// the docs describe what is there.
    async fn sim_columns(&self, table: &str) -> Result<Vec<(String, String, bool)>>;
    /// The departments a profile belongs to.
    async fn profile_departments(&self, profile_id: &str) -> Result<Vec<String>>;
    /// Display names of profiles, simulations, departments and scenarios by id (`kind` is the
    /// table: `profile`, `simulation`, `department`, `scenario`).
    async fn names(&self, kind: &str, ids: &[String]) -> Result<Vec<(String, String)>>;
}
