//! Storage: one trait per area, each with a SQLite and a PostgreSQL implementation
//! ([`sqlite::SqliteStore`], [`postgres::PgStore`]). The service holds an `Arc<dyn Store>`.

mod content_sql;
mod group_commit;
pub mod postgres;
mod postgres_writer;
pub mod sqlite;
mod sqlite_writer;

use async_trait::async_trait;
use mastery::BktParams;
use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("{0}")]
    Conflict(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Student,
    Teacher,
    Admin,
    /// An API key for an AI agent acting for learners.
    Agent,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Student => "student",
            Role::Teacher => "teacher",
            Role::Admin => "admin",
            Role::Agent => "agent",
        }
    }
    pub fn parse(s: &str) -> Option<Role> {
        Some(match s {
            "student" => Role::Student,
            "teacher" => Role::Teacher,
            "admin" => Role::Admin,
            "agent" => Role::Agent,
            _ => return None,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum AttemptStatus {
    Pending,
    Classified,
}

impl AttemptStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptStatus::Pending => "PENDING",
            AttemptStatus::Classified => "CLASSIFIED",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "PENDING" => Some(AttemptStatus::Pending),
            "CLASSIFIED" => Some(AttemptStatus::Classified),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ClassifierSource {
    Rule,
    Llm,
}

impl ClassifierSource {
    pub fn as_str(self) -> &'static str {
        match self {
            ClassifierSource::Rule => "RULE",
            ClassifierSource::Llm => "LLM",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "RULE" => Some(ClassifierSource::Rule),
            "LLM" => Some(ClassifierSource::Llm),
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct NewStep {
    pub expression: String,
    pub is_final: bool,
    pub parsed_ok: bool,
}

/// An attempt as diagnosed, ready to be written.
#[derive(Clone, Debug)]
pub struct NewAttempt {
    pub id: Uuid,
    pub student_id: String,
    pub topic_code: String,
    pub course_id: Option<String>,
    pub exercise_id: Option<String>,
    pub status: AttemptStatus,
    pub is_correct: bool,
    pub error_tag_code: String,
    pub error_subtag: Option<String>,
    pub classifier_source: ClassifierSource,
    pub classifier_name: String,
    pub confidence: f64,
    /// The engine's full output (candidates, evidence).
    pub diagnosis: Value,
    pub first_wrong_step: Option<i32>,
    pub expected_answer: String,
    pub client_expected_answer: Option<String>,
    pub student_answer: String,
    pub trace_id: String,
    pub created_by: String,
    pub via_agent: bool,
    pub created_at: OffsetDateTime,
    pub steps: Vec<NewStep>,
}

/// The BKT update an attempt applies, in the same transaction.
#[derive(Clone, Debug)]
pub struct MasteryUpdate {
    pub student_id: String,
    pub topic_code: String,
    /// "" when the attempt has no course.
    pub course_id: String,
    pub params: BktParams,
    pub correct: bool,
}

#[derive(Clone, Debug)]
pub struct OutboxEvent {
    pub event_id: Uuid,
    pub event_type: String,
    pub ordering_key: String,
    pub payload: Value,
}

/// An `Idempotency-Key` and the response to store with the attempt.
#[derive(Clone, Debug)]
pub struct IdempotencyClaim {
    pub caller_id: String,
    pub key: String,
    pub request_hash: String,
    pub status: u16,
    pub response: Value,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Recorded {
    /// Written; the student's mastery after it.
    New { p_known: f64 },
    /// The key was used before with the same request: the first response.
    Replayed { status: u16, response: Value },
    /// The key was used before with another request.
    KeyReused,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StepRecord {
    pub index: i32,
    pub expression: String,
    pub is_final: bool,
    pub parsed_ok: bool,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportRecord {
    pub id: Uuid,
    pub error_tag_code: String,
    pub reporter_id: String,
    pub reporter_role: String,
    pub comment: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

#[derive(Clone, Debug)]
pub struct AttemptRecord {
    pub id: Uuid,
    pub student_id: String,
    pub topic_code: String,
    pub course_id: Option<String>,
    pub exercise_id: Option<String>,
    pub status: AttemptStatus,
    pub is_correct: bool,
    pub error_tag_code: Option<String>,
    pub error_subtag: Option<String>,
    pub classifier_source: ClassifierSource,
    pub classifier_name: Option<String>,
    pub confidence: Option<f64>,
    pub diagnosis: Value,
    pub first_wrong_step: Option<i32>,
    pub expected_answer: String,
    pub client_expected_answer: Option<String>,
    pub student_answer: String,
    pub trace_id: String,
    pub via_agent: bool,
    pub created_at: OffsetDateTime,
    pub steps: Vec<StepRecord>,
    pub reports: Vec<ReportRecord>,
}

#[derive(Clone, Debug)]
pub struct NewReport {
    pub id: Uuid,
    pub attempt_id: Uuid,
    pub error_tag_code: String,
    pub reporter_id: String,
    pub reporter_role: Role,
    pub comment: Option<String>,
    pub via_agent: bool,
    pub created_at: OffsetDateTime,
}

#[derive(Clone, Debug, PartialEq)]
pub struct MasteryRecord {
    pub p_known: f64,
    pub attempts: i64,
    pub version: i64,
}

#[derive(Clone, Debug)]
pub struct Profile {
    pub id: String,
    pub name: String,
    pub role: Role,
}

#[derive(Clone, Debug)]
pub struct ApiKeyRecord {
    pub id: String,
    pub name: String,
    pub secret_hash: String,
    pub role: Role,
    pub owner_id: String,
    pub revoked: bool,
}

#[derive(Clone, Debug)]
pub struct TopicRecord {
    pub code: String,
    pub family: String,
    pub name: String,
    pub bkt: BktParams,
}

#[derive(Clone, Debug)]
pub struct ExerciseRecord {
    pub id: String,
    pub topic_code: String,
    pub problem: String,
    pub expected_answer: String,
}

#[derive(Clone, Debug)]
pub struct OutboxRow {
    pub seq: i64,
    pub event_id: Uuid,
    pub event_type: String,
    pub ordering_key: String,
    pub payload: Value,
}

#[async_trait]
pub trait AttemptStore: Send + Sync {
    /// One transaction: the idempotency claim, the attempt and its steps, the mastery update
    /// (serialised per student, topic and course), the outbox event.
    async fn record_attempt(
        &self,
        attempt: &NewAttempt,
        mastery: &MasteryUpdate,
        event: &OutboxEvent,
        idempotency: Option<&IdempotencyClaim>,
    ) -> Result<Recorded>;
    async fn attempt(&self, id: Uuid) -> Result<Option<AttemptRecord>>;
    async fn add_report(&self, report: &NewReport) -> Result<()>;
    async fn mastery(&self, student_id: &str, topic_code: &str, course_id: &str) -> Result<Option<MasteryRecord>>;
}

#[async_trait]
pub trait IdentityStore: Send + Sync {
    async fn profile(&self, id: &str) -> Result<Option<Profile>>;
    async fn upsert_profile(&self, profile: &Profile) -> Result<()>;
    /// Whether `teacher_id` teaches `student_id` (in `course_id` when given), directly or by
    /// sharing a department.
    async fn teaches(&self, teacher_id: &str, student_id: &str, course_id: Option<&str>) -> Result<bool>;
    async fn add_course_member(&self, course_id: &str, profile_id: &str, role: Role) -> Result<()>;
    async fn create_api_key(&self, key: &ApiKeyRecord) -> Result<()>;
    async fn api_key(&self, id: &str) -> Result<Option<ApiKeyRecord>>;
}

#[async_trait]
pub trait CatalogStore: Send + Sync {
    async fn topics(&self) -> Result<Vec<TopicRecord>>;
    async fn upsert_topic(&self, topic: &TopicRecord) -> Result<()>;
    async fn exercise(&self, id: &str) -> Result<Option<ExerciseRecord>>;
    async fn upsert_exercise(&self, exercise: &ExerciseRecord) -> Result<()>;
}

#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// Unpublished events in commit order.
    async fn unpublished(&self, limit: i64) -> Result<Vec<OutboxRow>>;
    async fn mark_published(&self, seqs: &[i64]) -> Result<()>;
    /// Unpublished events and the age in seconds of the oldest.
    async fn outbox_lag(&self) -> Result<(i64, f64)>;
    /// Takes, or checks it still holds, the right to relay the outbox: of the processes sharing
    /// the store, one relays at a time, or their batches could interleave out of order. Once
    /// taken it is kept until lost (false from then on, until taken again).
    async fn try_lead_relay(&self) -> Result<bool>;
}

/// Content bundles (see [`crate::content`]).
#[async_trait]
pub trait ContentStore: Send + Sync {
    /// The references no stored row answers.
    async fn missing(&self, refs: &[crate::content::Reference]) -> Result<Vec<crate::content::Reference>>;
    /// Applies a validated bundle in one transaction.
    async fn import(&self, bundle: &crate::content::Bundle) -> Result<crate::content::ImportSummary>;
    /// Error tags added by bundles.
    async fn error_tags(&self) -> Result<Vec<ErrorTagRecord>>;
}

/// An error tag from a content bundle.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorTagRecord {
    pub code: String,
    pub family: String,
    pub name_es: String,
    pub name_en: String,
    pub severity: String,
    pub description: String,
    pub remediation: String,
}

#[async_trait]
pub trait Store: AttemptStore + IdentityStore + CatalogStore + OutboxStore + ContentStore {
    fn backend(&self) -> &'static str;
    async fn ping(&self) -> Result<()>;
}

/// Opens the store a URL names: `postgres://…` or a SQLite file path / `sqlite:` URL.
pub async fn open(database_url: &str) -> Result<std::sync::Arc<dyn Store>> {
    if database_url.starts_with("postgres://") || database_url.starts_with("postgresql://") {
        Ok(std::sync::Arc::new(postgres::PgStore::connect(database_url).await?))
    } else {
        Ok(std::sync::Arc::new(sqlite::SqliteStore::open(database_url).await?))
    }
}
