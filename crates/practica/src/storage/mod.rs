//! Storage: one trait per area, each with a SQLite and a PostgreSQL implementation
//! ([`sqlite::SqliteStore`], [`postgres::PgStore`]). The service holds an `Arc<dyn Store>`.

mod content_sql;
mod group_commit;
mod jobs_sql;
mod mastery_sql;
pub mod postgres;
mod postgres_jobs;
mod postgres_mastery;
mod postgres_writer;
pub(crate) mod sim_sql;
pub mod sim_store;
pub mod sqlite;
mod sqlite_jobs;
mod sqlite_mastery;
mod sqlite_writer;
mod uploads_sql;

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

impl StoreError {
    /// Whether the database could not be reached or is going away (no connection within the
    /// pool's acquire timeout, a connection broken mid-query, the server shutting down or still
    /// starting up): the request may succeed unchanged once it is back, so callers answer 503,
    /// not 500, and the group writer does not retry the group one attempt at a time.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Database(e) => sqlx_unavailable(e),
            StoreError::Migrate(sqlx::migrate::MigrateError::Execute(e)) => sqlx_unavailable(e),
            _ => false,
        }
    }
}

/// See [`StoreError::is_unavailable`].
pub fn sqlx_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::Tls(_) => true,
        // SQLSTATE class 08 (connection exception), 57P01-57P03 (admin shutdown, crash shutdown,
        // cannot connect now: the server stopping or starting), 53300 (too many connections).
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|c| c.starts_with("08") || matches!(c.as_ref(), "57P01" | "57P02" | "57P03" | "53300")),
        _ => false,
    }
}

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

/// Where an attempt came from: an exercise (`POST /attempts`, diagnosed on arrival) or an
/// ad-hoc problem (`POST /attempts/solve-adhoc`, solved by a worker).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum AttemptOrigin {
    Exercise,
    Adhoc,
}

impl AttemptOrigin {
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptOrigin::Exercise => "EXERCISE",
            AttemptOrigin::Adhoc => "ADHOC",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "EXERCISE" => Some(AttemptOrigin::Exercise),
            "ADHOC" => Some(AttemptOrigin::Adhoc),
            _ => None,
        }
    }
}

pub(super) fn origin(s: &str) -> Result<AttemptOrigin> {
    AttemptOrigin::parse(s).ok_or_else(|| StoreError::Corrupt(format!("attempt origin {s:?}")))
}

/// The topic of an ad-hoc attempt until the solver knows what kind of problem it is.
pub const ADHOC_TOPIC: &str = "ADHOC";

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
    /// What the wrong answer looks like ([`diagnosis::signature`]); None for a right answer.
    pub signature: Option<String>,
    /// The asynchronous classification of a PENDING attempt, enqueued in the same transaction
    /// so that no attempt is left PENDING without a job.
    pub classification_job: Option<NewJob>,
    pub origin: AttemptOrigin,
    /// An ad-hoc attempt's problem (LaTeX).
    pub problem: Option<String>,
    pub grade_level: Option<i32>,
    /// The photo of the work it was read from ([`UploadRecord`]).
    pub photo_id: Option<Uuid>,
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
    /// Written; the student's mastery after it (None for an attempt without a mastery update).
    New { p_known: Option<f64> },
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
    pub classified_at: Option<OffsetDateTime>,
    pub steps: Vec<StepRecord>,
    pub reports: Vec<ReportRecord>,
    pub signature: Option<String>,
    /// How the asynchronous chain decided (strategy, model, prompt version, rationale) or why
    /// nothing could.
    pub classification: Option<Value>,
    pub origin: AttemptOrigin,
    pub problem: Option<String>,
    pub grade_level: Option<i32>,
    pub photo_id: Option<Uuid>,
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

/// The API key statements both backends run (`$n` parameters, which SQLite reads too).
pub(crate) const API_KEYS: &str =
    "SELECT id, name, role, owner_id, created_at, revoked_at FROM api_key ORDER BY created_at, id";
pub(crate) const REVOKE_API_KEY: &str = "UPDATE api_key SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL";

/// An API key as an operator lists it (`practica api-key list`).
#[derive(Clone, Debug)]
pub struct ApiKeySummary {
    pub id: String,
    pub name: String,
    pub role: Role,
    pub owner_id: String,
    pub created_at: OffsetDateTime,
    pub revoked_at: Option<OffsetDateTime>,
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
    /// (serialised per student, topic and course; none for an ad-hoc attempt, whose topic and
    /// verdict the solver finds later), the outbox event.
    async fn record_attempt(
        &self,
        attempt: &NewAttempt,
        mastery: Option<&MasteryUpdate>,
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
    /// Every API key, without its secret's hash, oldest first.
    async fn api_keys(&self) -> Result<Vec<ApiKeySummary>>;
    /// Revokes key `id` as of `at`: from the next request it is refused. False when there is no
    /// such key or it was revoked already (the first revocation's time stays).
    async fn revoke_api_key(&self, id: &str, at: OffsetDateTime) -> Result<bool>;
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
    async fn persona(&self, id: &str) -> Result<Option<crate::content::Persona>>;
    /// A rubric with its criteria and levels in bundle order, as the grading rules take it.
    async fn rubric(&self, id: &str) -> Result<Option<simulation::rubric::Rubric>>;
    /// A simulation with its scenarios in play order, each with its personas and questions.
    async fn simulation(&self, id: &str) -> Result<Option<crate::content::Simulation>>;
    async fn home(&self, id: &str) -> Result<Option<crate::content::Home>>;
    async fn practice(&self, id: &str) -> Result<Option<crate::content::Practice>>;
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

/// A job to enqueue.
#[derive(Clone, Debug)]
pub struct NewJob {
    pub id: Uuid,
    pub kind: String,
    /// At most one job per key: enqueueing a key again does nothing.
    pub dedupe_key: Option<String>,
    pub payload: Value,
    pub max_attempts: i32,
    pub run_after: OffsetDateTime,
}

/// A job a worker holds under a lease.
#[derive(Clone, Debug)]
pub struct ClaimedJob {
    pub id: Uuid,
    pub kind: String,
    pub payload: Value,
    /// Including this one.
    pub attempts: i32,
    pub max_attempts: i32,
    pub created_at: OffsetDateTime,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    Queued,
    Running,
    Done,
    Dead,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Done => "done",
            JobStatus::Dead => "dead",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "queued" => JobStatus::Queued,
            "running" => JobStatus::Running,
            "done" => JobStatus::Done,
            "dead" => JobStatus::Dead,
            _ => return None,
        })
    }
}

/// A job as stored (for operators and tests).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobRecord {
    pub id: Uuid,
    pub kind: String,
    pub dedupe_key: Option<String>,
    pub status: JobStatus,
    pub attempts: i32,
    pub max_attempts: i32,
    pub lease_owner: Option<String>,
    pub last_error: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub run_after: OffsetDateTime,
}

/// How a run of a job ended.
#[derive(Clone, Debug)]
pub enum JobOutcome {
    Done,
    /// Failed; queued again for `run_after`.
    Retry {
        error: String,
        run_after: OffsetDateTime,
    },
    /// Failed for the last time.
    Dead {
        error: String,
    },
}

/// Jobs of one kind in one state.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueDepth {
    pub kind: String,
    pub status: JobStatus,
    pub jobs: i64,
    /// Age of the oldest such job (queued: since it became due).
    pub oldest_seconds: f64,
}

/// What a sweep of expired leases did.
#[derive(Clone, Debug, Default)]
pub struct Swept {
    /// Jobs whose worker vanished, queued again.
    pub requeued: u64,
    /// Jobs whose lease expired on their last attempt: now dead.
    pub dead: Vec<ClaimedJob>,
}

/// The asynchronous work queue shared by every process on one database. Owners are worker ids;
/// a call naming an owner that no longer holds the job's lease changes nothing (false).
#[async_trait]
pub trait JobStore: Send + Sync {
    /// False when a job with the same dedupe key exists.
    async fn enqueue(&self, job: &NewJob) -> Result<bool>;
    /// Up to `limit` due jobs of `kinds`, oldest first, leased to `owner` until `lease_until`
    /// (their attempt count goes up by one). Concurrent claimers never get the same job.
    async fn claim_jobs(
        &self,
        kinds: &[&str],
        owner: &str,
        limit: i64,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
    ) -> Result<Vec<ClaimedJob>>;
    async fn extend_lease(&self, id: Uuid, owner: &str, lease_until: OffsetDateTime) -> Result<bool>;
    async fn finish_job(&self, id: Uuid, owner: &str, outcome: &JobOutcome, now: OffsetDateTime) -> Result<bool>;
    /// Running jobs whose lease expired before `now` go back to the queue, or die when that
    /// was their last attempt.
    async fn sweep_expired_leases(&self, now: OffsetDateTime) -> Result<Swept>;
    async fn queue_depths(&self, now: OffsetDateTime) -> Result<Vec<QueueDepth>>;
    /// Deletes jobs done before `before` (dead ones stay for operators); how many.
    async fn purge_done_jobs(&self, before: OffsetDateTime) -> Result<u64>;
    /// Deletes outbox events published before `events_before` (never an unpublished one) and
    /// idempotency records written before `idempotency_before`, in batches; `None` deletes none.
    async fn prune_retained(
        &self,
        events_before: Option<OffsetDateTime>,
        idempotency_before: Option<OffsetDateTime>,
    ) -> Result<Pruned>;
    async fn job(&self, id: Uuid) -> Result<Option<JobRecord>>;
    async fn job_by_key(&self, dedupe_key: &str) -> Result<Option<JobRecord>>;
}

/// What [`JobStore::prune_retained`] deleted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pruned {
    pub events: u64,
    pub idempotency_keys: u64,
}

/// The final tag of a PENDING attempt.
#[derive(Clone, Debug)]
pub struct Classification {
    pub attempt_id: Uuid,
    pub error_tag_code: String,
    pub error_subtag: Option<String>,
    pub source: ClassifierSource,
    pub classifier_name: String,
    pub confidence: f64,
    pub details: Value,
    pub classified_at: OffsetDateTime,
}

/// A tag learned from reports that agree on a signature.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LearnedRule {
    pub signature: String,
    pub error_tag_code: String,
    pub reports: i64,
    pub reporters: i64,
    pub agreement: f64,
    #[serde(with = "time::serde::rfc3339")]
    pub learned_at: OffsetDateTime,
}

/// Reports of one tag on attempts of one signature (teachers' and admins' reports only).
#[derive(Clone, Debug, PartialEq)]
pub struct SignatureTally {
    pub error_tag_code: String,
    pub reports: i64,
    pub reporters: i64,
}

/// A report whose tag differs from the attempt's classification.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Disagreement {
    pub report_id: Uuid,
    pub attempt_id: Uuid,
    pub topic_code: String,
    pub signature: Option<String>,
    pub classified_tag: Option<String>,
    pub classifier_source: String,
    pub classifier_name: Option<String>,
    pub confidence: Option<f64>,
    pub reported_tag: String,
    pub reporter_role: String,
    pub comment: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub reported_at: OffsetDateTime,
}

/// What the asynchronous classifier reads and writes.
#[async_trait]
pub trait ClassificationStore: Send + Sync {
    /// One transaction: the attempt gets its final tag (only if still PENDING: a second run
    /// changes nothing), the `attempt.classified` event goes to the outbox, and the job (when
    /// given, with its owner) is done. True if the attempt was PENDING.
    async fn finish_classification(
        &self,
        classification: &Classification,
        event: &OutboxEvent,
        job: Option<(Uuid, &str)>,
    ) -> Result<bool>;
    /// PENDING attempts created before `before`, oldest first.
    async fn pending_before(&self, before: OffsetDateTime, limit: i64) -> Result<Vec<Uuid>>;
    async fn signature_tally(&self, signature: &str) -> Result<Vec<SignatureTally>>;
    async fn upsert_learned_rule(&self, rule: &LearnedRule) -> Result<()>;
    async fn learned_rules(&self) -> Result<Vec<LearnedRule>>;
    async fn delete_learned_rule(&self, signature: &str) -> Result<()>;
    /// Reports that disagree with the classification, newest first, older than `before`
    /// (a report id: the cursor of the previous page).
    async fn disagreements(&self, limit: i64, before: Option<Uuid>) -> Result<Vec<Disagreement>>;
    /// Adds `tokens` to today's use of `model`; returns the day's total over all models.
    async fn add_ai_usage(&self, day: time::Date, model: &str, calls: i64, tokens: i64) -> Result<i64>;
    async fn ai_usage(&self, day: time::Date) -> Result<i64>;
}

/// A file kept in object storage (a photo of handwritten work).
#[derive(Clone, Debug, PartialEq)]
pub struct UploadRecord {
    pub id: Uuid,
    /// `photo`, or `file` for `POST /api/v5/uploads`.
    pub kind: String,
    /// The name the file was sent with, if any.
    pub file_name: Option<String>,
    /// Where the bytes are in the object store.
    pub object_key: String,
    pub content_type: String,
    pub bytes: i64,
    /// Hex SHA-256 of the bytes.
    pub sha256: String,
    pub created_by: String,
    pub via_agent: bool,
    pub created_at: OffsetDateTime,
}

/// Uploads' rows (the bytes are in the object store, see [`crate::uploads`]).
#[async_trait]
pub trait UploadStore: Send + Sync {
    async fn record_upload(&self, upload: &UploadRecord) -> Result<()>;
    async fn upload(&self, id: Uuid) -> Result<Option<UploadRecord>>;
}

/// What the solver concluded about an ad-hoc attempt.
#[derive(Clone, Debug)]
pub struct AdhocSolved {
    pub classification: Classification,
    /// The topic the problem turned out to be (ALGEBRA_EQ_LINEAR, …), or ADHOC when it could
    /// not be read.
    pub topic_code: String,
    pub is_correct: bool,
    /// The correct answer as text ("" when the problem has none).
    pub expected_answer: String,
    pub first_wrong_step: Option<i32>,
    /// The solution, the step-by-step check and the candidates (the attempt's `diagnosis`).
    pub diagnosis: Value,
    /// Per stored step, whether it could be read.
    pub steps_parsed: Vec<bool>,
}

/// What the ad-hoc solver writes.
#[async_trait]
pub trait AdhocStore: Send + Sync {
    /// One transaction, only if the attempt is still PENDING (a second run changes nothing):
    /// the verdict, topic and diagnosis; the mastery update when given (the student's p_known
    /// is in the same order as POST /attempts takes them); the `attempt.classified` event; the
    /// job done (when given, with its owner). True if the attempt was PENDING.
    async fn finish_adhoc(
        &self,
        solved: &AdhocSolved,
        mastery: Option<&MasteryUpdate>,
        event: &OutboxEvent,
        job: Option<(Uuid, &str)>,
    ) -> Result<bool>;
}

/// A mastery row as read for dashboards, with its value a week before.
#[derive(Clone, Debug)]
pub struct MasteryRow {
    pub student_id: String,
    pub topic_code: String,
    /// "" when the attempts had no course.
    pub course_id: String,
    pub p_known: f64,
    pub attempts: i64,
    pub last_at: OffsetDateTime,
    /// The last value recorded at or before the window's start; None when every attempt is
    /// inside the window (the value before them was the topic's p_init).
    pub p_before: Option<f64>,
}

/// Mastery as teachers and students read it.
#[async_trait]
pub trait MasteryStore: Send + Sync {
    /// A student's rows (one course's, when given), with the value at `since`.
    async fn student_mastery(
        &self,
        student_id: &str,
        course_id: Option<&str>,
        since: OffsetDateTime,
    ) -> Result<Vec<MasteryRow>>;
    /// Every row of a course, with the value at `since`.
    async fn course_mastery(&self, course_id: &str, since: OffsetDateTime) -> Result<Vec<MasteryRow>>;
    /// Whether `teacher_id` teaches `course_id`.
    async fn teaches_course(&self, teacher_id: &str, course_id: &str) -> Result<bool>;
    /// Every attempt's correctness as BKT sequences: per topic, one per (student, course), in
    /// time order. Read as a stream; the sequences take a bit per attempt.
    async fn response_sequences(&self) -> Result<Vec<(String, mastery::Sequences)>>;
    /// Stores a topic's fitted parameters, when and on how many responses they were fitted.
    async fn record_calibration(&self, topic: &TopicRecord, at: OffsetDateTime, responses: i64) -> Result<()>;
}

#[async_trait]
pub trait Store:
    AttemptStore
    + IdentityStore
    + CatalogStore
    + OutboxStore
    + ContentStore
    + JobStore
    + ClassificationStore
    + MasteryStore
    + AdhocStore
    + UploadStore
    + sim_store::SimStore
{
    fn backend(&self) -> &'static str;
    async fn ping(&self) -> Result<()>;
    /// The migrations applied to the database (version, description), oldest first.
    async fn migrations(&self) -> Result<Vec<(i64, String)>>;
}

/// Opens the store a URL names: `postgres://…` or a SQLite file path / `sqlite:` URL.
pub async fn open(database_url: &str) -> Result<std::sync::Arc<dyn Store>> {
    if database_url.starts_with("postgres://") || database_url.starts_with("postgresql://") {
        Ok(std::sync::Arc::new(postgres::PgStore::connect(database_url).await?))
    } else {
        Ok(std::sync::Arc::new(sqlite::SqliteStore::open(database_url).await?))
    }
}
