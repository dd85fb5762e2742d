//! Ad-hoc problems: `POST /attempts/solve-adhoc` and the `solve-adhoc` job.
//!
//! A student scans a problem that has no exercise behind it. The request stores a PENDING attempt
//! (origin ADHOC, under the placeholder topic ADHOC) with its job, in one transaction; a worker
//! solves the problem exactly with the `cas` crate, checks the final answer by equivalence and
//! each step against the one before, matches a wrong answer or step against algebra
//! misconceptions, and writes it all back in one transaction: the topic the problem turned out
//! to be, the verdict, the expected answer, the solution steps, the tag, the mastery update on
//! that topic, the `attempt.classified` event, the job done. A wrong answer no misconception
//! explains goes to the LLM when one is configured, choosing among the topic's catalogue tags
//! (as the classifier does for exercises); a provider that is down makes the job retry. A
//! problem that cannot be read or solved ends CLASSIFIED as UNCLASSIFIED with the reason, and
//! updates no mastery.

use std::sync::Arc;

use async_trait::async_trait;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::app::AppState;
use crate::attempts::{authorize_acting_for, field_error, idempotency_key, json_body, record, request_hash};
use crate::auth::Caller;
use crate::catalog::Catalog;
use crate::classify::{MAX_INVALID_ANSWERS, classified_event, now_micros, pending_attempt};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::jobs::{JobFailure, JobHandler};
use crate::llm::ChatModel;
use crate::llm_classifier::{self, ProblemForPrompt, TagChoice};
use crate::storage::{
    ADHOC_TOPIC, AdhocSolved, AttemptOrigin, AttemptRecord, AttemptStatus, ClaimedJob, Classification,
    ClassifierSource, IdempotencyClaim, MasteryUpdate, NewAttempt, NewJob, NewStep, OutboxEvent, Store,
};

/// The job kind.
pub const KIND: &str = "solve-adhoc";

/// Recorded as the classifier of the solver's verdicts.
pub const SOLVER_NAME: &str = concat!("practica-cas/", env!("CARGO_PKG_VERSION"));

/// Longest problem, answer or step: the solver's own parser limit, so that what is accepted here
/// can be read there.
pub const MAX_LATEX: usize = 1_000;
pub const MAX_STEPS: usize = 100;
const MAX_ID: usize = 128;
/// The spec's default grade.
const DEFAULT_GRADE: i32 = 7;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(solve_adhoc))
}

/// The body of `POST /attempts/solve-adhoc`.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SolveAdhoc {
    /// The student's profile id; must be the caller unless the caller is staff or an agent.
    student_id: String,
    /// LaTeX of the problem as read from the scan (at most 1,000 bytes).
    problem_latex: String,
    /// The student's final answer, possibly symbolic (`x=2`).
    student_final_answer: String,
    /// The student's intermediate steps in LaTeX, in order (at most 100).
    student_steps: Option<Vec<String>>,
    course_id: Option<String>,
    /// 1 to 12; 7 when omitted.
    grade_level: Option<i64>,
    /// The photo the problem was read from (`POST /attempts/ocr-extract`'s `photoId`).
    #[allow(dead_code)]
    photo_id: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AdhocCreated {
    attempt_id: Uuid,
    /// PENDING until the solver has written its verdict (poll GET /attempts/{id}/status).
    status: String,
}

/// A string field: `required` ones present and not blank, all within `max` bytes.
fn text(v: &Value, name: &str, required: bool, max: usize) -> ApiResult<()> {
    match v.get(name) {
        None | Some(Value::Null) if required => Err(field_error(name, "is required")),
        None | Some(Value::Null) => Ok(()),
        Some(Value::String(s)) if s.trim().is_empty() => Err(field_error(name, "must not be empty")),
        Some(Value::String(s)) if s.len() > max => Err(field_error(name, format!("longer than {max} bytes"))),
        Some(Value::String(_)) => Ok(()),
        Some(_) => Err(field_error(name, "must be a string")),
    }
}

/// Field-by-field checks with messages naming the field, then the typed body.
fn read_body(v: Value) -> ApiResult<SolveAdhoc> {
    if !v.is_object() {
        return Err(ApiError::Validation("body must be a JSON object".into()));
    }
    text(&v, "studentId", true, MAX_ID)?;
    text(&v, "problemLatex", true, MAX_LATEX)?;
    text(&v, "studentFinalAnswer", true, MAX_LATEX)?;
    text(&v, "courseId", false, MAX_ID)?;
    text(&v, "photoId", false, MAX_ID)?;
    match v.get("studentSteps") {
        None | Some(Value::Null) => {}
        Some(Value::Array(steps)) if steps.len() > MAX_STEPS => {
            return Err(field_error("studentSteps", format!("more than {MAX_STEPS} steps")));
        }
        Some(Value::Array(steps)) => {
            for (i, s) in steps.iter().enumerate() {
                match s {
                    Value::String(s) if s.len() <= MAX_LATEX => {}
                    Value::String(_) => {
                        return Err(field_error(
                            &format!("studentSteps[{i}]"),
                            format!("longer than {MAX_LATEX} bytes"),
                        ));
                    }
                    _ => return Err(field_error(&format!("studentSteps[{i}]"), "must be a string")),
                }
            }
        }
        Some(_) => return Err(field_error("studentSteps", "must be an array of strings")),
    }
    match v.get("gradeLevel") {
        None | Some(Value::Null) => {}
        Some(g) if g.as_i64().is_some_and(|g| (1..=12).contains(&g)) => {}
        Some(_) => return Err(field_error("gradeLevel", "must be an integer from 1 to 12")),
    }
    serde_json::from_value(v).map_err(|e| ApiError::Validation(e.to_string()))
}

/// Queue an ad-hoc problem for the solver.
#[utoipa::path(post, path = "/attempts/solve-adhoc", tag = "attempts", request_body = SolveAdhoc,
    params(("Idempotency-Key" = Option<String>, Header, description = "A retried POST with the same key returns the first response"),
           ("x-trace-id" = Option<String>, Header, description = "Correlation id, echoed and stored")),
    responses((status = 201, description = "Created, PENDING until solved", body = AdhocCreated),
              (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 409, description = "Idempotency-Key reused with another request", body = ErrorBody),
              (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn solve_adhoc(
    caller: Caller,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let value = json_body(&headers, body, state.config.body_limit_bytes)?;
    let hash = request_hash(&headers, &value);
    let photo_field = value.get("photoId").cloned();
    let body = read_body(value)?;
    authorize_acting_for(&state, &caller, &body.student_id, body.course_id.as_deref()).await?;
    let photo_id = crate::ocr::attachable_photo(&state, &caller, photo_field.as_ref(), &body.student_id).await?;
    let key = idempotency_key(&headers)?;

    let now = now_micros();
    let attempt_id = Uuid::now_v7();
    let trace_id = crate::trace::current();
    let steps = body.student_steps.unwrap_or_default();
    let grade = body.grade_level.map_or(DEFAULT_GRADE, |g| g as i32);
    let attempt = NewAttempt {
        id: attempt_id,
        student_id: body.student_id.clone(),
        topic_code: ADHOC_TOPIC.to_string(),
        course_id: body.course_id.clone(),
        exercise_id: None,
        status: AttemptStatus::Pending,
        is_correct: false,
        error_tag_code: diagnosis::UNCLASSIFIED.to_string(),
        error_subtag: None,
        classifier_source: ClassifierSource::Rule,
        classifier_name: SOLVER_NAME.to_string(),
        confidence: 0.0,
        diagnosis: json!({}),
        first_wrong_step: None,
        expected_answer: String::new(),
        client_expected_answer: None,
        student_answer: body.student_final_answer.trim().to_string(),
        trace_id: trace_id.clone(),
        created_by: caller.id.clone(),
        via_agent: caller.via_agent,
        created_at: now,
        steps: steps
            .iter()
            .map(|s| NewStep {
                expression: s.clone(),
                is_final: false,
                // Until the solver has read it.
                parsed_ok: true,
            })
            .collect(),
        signature: None,
        classification_job: Some(NewJob {
            id: Uuid::now_v7(),
            kind: KIND.to_string(),
            dedupe_key: Some(format!("{KIND}:{attempt_id}")),
            payload: json!({ "attemptId": attempt_id }),
            max_attempts: state.config.job_max_attempts,
            run_after: now,
        }),
        origin: AttemptOrigin::Adhoc,
        problem: Some(body.problem_latex.trim().to_string()),
        grade_level: Some(grade),
        photo_id,
    };
    let event_id = Uuid::now_v7();
    let event = OutboxEvent {
        event_id,
        event_type: "attempt.created".into(),
        ordering_key: body.student_id.clone(),
        // No free text of the student (the problem and the answer are theirs too).
        payload: json!({
            "type": "attempt.created",
            "id": event_id,
            "occurredAt": now.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
            "traceId": trace_id,
            "attempt": {
                "attemptId": attempt_id,
                "studentId": body.student_id,
                "topicCode": ADHOC_TOPIC,
                "courseId": body.course_id,
                "exerciseId": null,
                "origin": AttemptOrigin::Adhoc.as_str(),
                "gradeLevel": grade,
                "status": AttemptStatus::Pending.as_str(),
                "viaAgent": caller.via_agent,
            }
        }),
    };
    let response = serde_json::to_value(AdhocCreated {
        attempt_id,
        status: AttemptStatus::Pending.as_str().to_string(),
    })
    .map_err(anyhow::Error::from)?;
    let claim = key.zip(hash).map(|(key, request_hash)| IdempotencyClaim {
        caller_id: caller.id.clone(),
        key,
        request_hash,
        status: StatusCode::CREATED.as_u16(),
        response: response.clone(),
    });
    record(&state, &attempt, None, &event, claim.as_ref(), response).await
}

/// The job's payload.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Payload {
    attempt_id: Uuid,
}

/// Runs `solve-adhoc` jobs.
pub struct AdhocSolver {
    pub store: Arc<dyn Store>,
    pub catalog: Arc<Catalog>,
    /// Asked about wrong answers no misconception explains, when configured.
    pub llm: Option<Arc<dyn ChatModel>>,
}

/// What the solver makes of an attempt, before it is written.
struct Outcome {
    solved: AdhocSolved,
    mastery: Option<MasteryUpdate>,
}

impl AdhocSolver {
    /// Solves and judges the attempt's problem. Pure CPU: run on a blocking thread.
    fn judge(attempt: &AttemptRecord, catalog: &Catalog) -> Outcome {
        let problem = attempt.problem.clone().unwrap_or_default();
        let steps: Vec<&str> = attempt.steps.iter().map(|s| s.expression.as_str()).collect();
        let grade = attempt.grade_level.unwrap_or(DEFAULT_GRADE);
        let now = now_micros();
        match cas::assess(&problem, Some(&attempt.student_answer), &steps) {
            Ok(a) => {
                // A kind of problem with no topic of its own says nothing about a skill.
                let topic = catalog.topic(a.topic).filter(|t| t.code != ADHOC_TOPIC);
                let is_correct = a.is_correct.unwrap_or(false);
                let steps_parsed = a
                    .steps
                    .iter()
                    .map(|s| !matches!(s.status, cas::StepStatus::Unreadable))
                    .collect();
                let solution = json!({
                    "kind": a.solution.kind,
                    "answer": a.solution.answer_text,
                    "steps": a.solution.steps,
                });
                let mastery = topic.as_ref().map(|t| MasteryUpdate {
                    student_id: attempt.student_id.clone(),
                    topic_code: t.code.clone(),
                    course_id: attempt.course_id.clone().unwrap_or_default(),
                    params: t.bkt,
                    correct: is_correct,
                });
                let classification = Classification {
                    attempt_id: attempt.id,
                    error_tag_code: a.error_tag_code.clone(),
                    error_subtag: a.error_subtag.clone(),
                    source: ClassifierSource::Rule,
                    classifier_name: SOLVER_NAME.to_string(),
                    confidence: a.confidence,
                    details: json!({
                        "strategy": "cas",
                        "gradeLevel": grade,
                        "feedback": a.feedback,
                        "expected": a.expected,
                    }),
                    classified_at: now,
                };
                Outcome {
                    solved: AdhocSolved {
                        classification,
                        topic_code: a.topic.to_string(),
                        is_correct,
                        expected_answer: a.expected.clone(),
                        first_wrong_step: a.first_wrong_step.map(|i| i as i32),
                        diagnosis: json!({ "solution": solution, "assessment": a }),
                        steps_parsed,
                    },
                    mastery,
                }
            }
            Err(e) => Outcome {
                solved: unsolved(attempt, &format!("the problem could not be solved: {e}"), grade),
                mastery: None,
            },
        }
    }

    /// A wrong answer to a solved problem that no misconception explains: the model chooses
    /// among the topic's catalogue tags. Err to retry later when the provider is unavailable.
    async fn ask_model(
        &self,
        llm: &dyn ChatModel,
        attempt: &AttemptRecord,
        outcome: &mut Outcome,
    ) -> Result<(), JobFailure> {
        let solved = &mut outcome.solved;
        let Some(topic) = self.catalog.topic(&solved.topic_code) else {
            return Ok(());
        };
        let tags: Vec<TagChoice> = self
            .catalog
            .tags_for_family(&topic.family)
            .into_iter()
            .map(|t| TagChoice {
                code: t.code,
                name_en: t.name_en,
                description: t.description,
            })
            .collect();
        if tags.is_empty() {
            return Ok(());
        }
        let problem = ProblemForPrompt {
            topic_code: topic.code.clone(),
            topic_name: topic.name_en.clone(),
            family: topic.family.clone(),
            problem: attempt.problem.clone(),
            operands: None,
            expected_answer: solved.expected_answer.clone(),
            student_answer: attempt.student_answer.clone(),
            steps: attempt.steps.iter().map(|s| s.expression.clone()).collect(),
        };
        let verdict = llm_classifier::classify(llm, &problem, &tags, MAX_INVALID_ANSWERS).await;
        if verdict.tag.is_none() && verdict.retry_later {
            return Err(JobFailure::retry(
                verdict
                    .reason
                    .unwrap_or_else(|| "the AI provider is unavailable".into()),
            ));
        }
        let c = &mut solved.classification;
        if let Value::Object(details) = &mut c.details {
            details.insert(
                "strategy".into(),
                json!(if verdict.tag.is_some() { "cas+llm" } else { "cas" }),
            );
            details.insert("model".into(), json!(verdict.model));
            details.insert("promptVersion".into(), json!(verdict.prompt_version));
            details.insert("rationale".into(), json!(verdict.rationale));
            details.insert("calls".into(), json!(verdict.calls));
            details.insert("tokens".into(), json!(verdict.tokens));
            details.insert("reason".into(), json!(verdict.reason));
        }
        c.source = ClassifierSource::Llm;
        c.classifier_name = format!("llm:{}", verdict.model);
        if let Some(tag) = verdict.tag {
            c.error_tag_code = tag;
            c.error_subtag = None;
            c.confidence = verdict.confidence;
        }
        Ok(())
    }

    async fn write(
        &self,
        attempt: &AttemptRecord,
        outcome: Outcome,
        job: Option<(Uuid, &str)>,
    ) -> crate::storage::Result<bool> {
        let Outcome { solved, mastery } = outcome;
        let event = classified_event(attempt, &solved.topic_code, solved.is_correct, &solved.classification);
        let written = self.store.finish_adhoc(&solved, mastery.as_ref(), &event, job).await?;
        if written {
            metrics::counter!("practica_classifications_total", "source" => solved.classification.source.as_str(), "tag" => solved.classification.error_tag_code.clone())
                .increment(1);
        }
        Ok(written)
    }
}

/// The verdict for a problem that could not be solved: UNCLASSIFIED, with the reason.
fn unsolved(attempt: &AttemptRecord, reason: &str, grade: i32) -> AdhocSolved {
    AdhocSolved {
        classification: Classification {
            attempt_id: attempt.id,
            error_tag_code: diagnosis::UNCLASSIFIED.to_string(),
            error_subtag: None,
            source: ClassifierSource::Rule,
            classifier_name: SOLVER_NAME.to_string(),
            confidence: 0.0,
            details: json!({ "strategy": "none", "reason": reason, "gradeLevel": grade }),
            classified_at: now_micros(),
        },
        topic_code: ADHOC_TOPIC.to_string(),
        is_correct: false,
        expected_answer: String::new(),
        first_wrong_step: None,
        diagnosis: json!({ "solution": null, "error": reason }),
        steps_parsed: attempt
            .steps
            .iter()
            .map(|s| cas::parse_list(&s.expression).is_ok())
            .collect(),
    }
}

#[async_trait]
impl JobHandler for AdhocSolver {
    fn kind(&self) -> &'static str {
        KIND
    }

    async fn run(&self, job: &ClaimedJob, owner: &str) -> Result<(), JobFailure> {
        let payload: Payload = serde_json::from_value(job.payload.clone())
            .map_err(|e| JobFailure::fatal(format!("solve-adhoc payload: {e}")))?;
        let Some(attempt) = pending_attempt(self.store.as_ref(), payload.attempt_id).await? else {
            return Ok(());
        };
        let attempt = Arc::new(attempt);
        let catalog = self.catalog.clone();
        let mut outcome = {
            let attempt = attempt.clone();
            tokio::task::spawn_blocking(move || Self::judge(&attempt, &catalog))
                .await
                // A panic in the solver is a bug; the job dies and `dead` records why.
                .map_err(|e| JobFailure::fatal(format!("the solver failed: {e}")))?
        };
        let unexplained = !outcome.solved.is_correct
            && outcome.solved.classification.error_tag_code == diagnosis::UNCLASSIFIED
            && outcome.solved.topic_code != ADHOC_TOPIC;
        if unexplained && let Some(llm) = &self.llm {
            self.ask_model(llm.as_ref(), &attempt, &mut outcome).await?;
        }
        self.write(&attempt, outcome, Some((job.id, owner))).await?;
        Ok(())
    }

    async fn dead(&self, job: &ClaimedJob, error: &str) -> anyhow::Result<()> {
        let payload: Payload = serde_json::from_value(job.payload.clone())?;
        let Some(attempt) = self.store.attempt(payload.attempt_id).await? else {
            return Ok(());
        };
        if attempt.status != AttemptStatus::Pending {
            return Ok(());
        }
        let grade = attempt.grade_level.unwrap_or(DEFAULT_GRADE);
        let reason = format!("solving failed {} times; last error: {error}", job.attempts);
        let outcome = Outcome {
            solved: unsolved(&attempt, &reason, grade),
            mastery: None,
        };
        if self.write(&attempt, outcome, None).await? {
            tracing::warn!(attempt = %attempt.id, reason, "ad-hoc attempt finalised UNCLASSIFIED");
        }
        Ok(())
    }
}
