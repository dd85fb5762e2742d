//! Exercise attempts: `POST /attempts` (diagnose, update mastery, emit the event — one
//! transaction), status and detail reads, teachers' reports.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use diagnosis::request::{MAX_EXPRESSION_LEN, MAX_ID_LEN, MAX_STEPS, NumberField};
use diagnosis::{AttemptBody, Family, Options, UNCLASSIFIED};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::storage::{
    AttemptOrigin, AttemptRecord, AttemptStatus, ClassifierSource, IdempotencyClaim, MasteryUpdate, NewAttempt, NewJob,
    NewReport, NewStep, OutboxEvent, Recorded, Role,
};
use crate::trace;

/// Longest `Idempotency-Key`.
const MAX_IDEMPOTENCY_KEY: usize = 255;
/// Longest report comment (the spec's limit).
const MAX_COMMENT_CHARS: usize = 500;
/// Recorded as the classifier of rule-engine diagnoses.
pub const ENGINE_NAME: &str = concat!("practica-diagnosis/", env!("CARGO_PKG_VERSION"));

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_attempt))
        .routes(routes!(attempt_status))
        .routes(routes!(attempt_detail))
        .routes(routes!(report_attempt))
}

/// Reads a JSON body: 413 past the size limit, 415 for another content type, 400 for
/// malformed JSON.
pub fn json_body(headers: &HeaderMap, body: Result<Bytes, BytesRejection>, limit: usize) -> ApiResult<Value> {
    if let Some(ct) = headers.get("content-type").and_then(|v| v.to_str().ok()) {
        let mime = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        if mime != "application/json" && !mime.ends_with("+json") {
            return Err(ApiError::UnsupportedMediaType(format!(
                "expected application/json, got {mime}"
            )));
        }
    }
    let bytes = body_bytes(body, limit)?;
    serde_json::from_slice(&bytes).map_err(|e| ApiError::BadRequest(format!("malformed JSON: {e}")))
}

/// The request body within `limit` bytes: 413 past it.
pub fn body_bytes(body: Result<Bytes, BytesRejection>, limit: usize) -> ApiResult<Bytes> {
    let bytes = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge(limit)
        } else {
            ApiError::BadRequest(format!("unreadable body: {e}"))
        }
    })?;
    if bytes.len() > limit {
        return Err(ApiError::PayloadTooLarge(limit));
    }
    Ok(bytes)
}

/// The body of `POST /attempts` (documentation; the handler validates field by field).
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct CreateAttempt {
    /// The student's profile id; must be the caller unless the caller is staff or an agent.
    student_id: String,
    /// Curriculum topic code (e.g. T-SUB-BORROW).
    topic_code: String,
    exercise_id: Option<String>,
    course_id: Option<String>,
    raw_steps: Vec<StepInput>,
    /// Number or string (`27`, `"8/15"`, `"3,75"`).
    #[schema(value_type = Object)]
    expected_answer: Value,
    #[schema(value_type = Object)]
    student_answer: Value,
    #[schema(value_type = Object)]
    minuend: Option<Value>,
    #[schema(value_type = Object)]
    subtrahend: Option<Value>,
    /// The photo the work was read from (`POST /attempts/ocr-extract`'s `photoId`).
    photo_id: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct StepInput {
    expression: String,
    is_final: Option<bool>,
}

#[derive(Serialize, Deserialize, ToSchema, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct AttemptCreated {
    pub attempt_id: Uuid,
    pub is_correct: bool,
    pub error_tag_code: String,
    /// The buggy procedure behind the tag, when known.
    pub error_subtag: Option<String>,
    /// RULE, or LLM for an UNCLASSIFIED attempt handed to the asynchronous classifier.
    pub classifier_source: String,
    pub confidence: f64,
    /// PENDING (asynchronous classification under way) or CLASSIFIED.
    pub status: String,
    /// What produced the tag: the engine (`practica-diagnosis/…`), `learned-from-reports` (a
    /// tag teachers' reports taught for answers that look like this one), or `llm:<model>`.
    pub classifier: String,
}

pub(crate) fn field_error(field: &str, message: impl std::fmt::Display) -> ApiError {
    ApiError::Validation(format!("{field}: {message}"))
}

/// Field-by-field checks with messages naming the field, then the typed body.
fn read_attempt_body(mut v: Value) -> ApiResult<AttemptBody> {
    let obj = v
        .as_object()
        .ok_or_else(|| ApiError::Validation("body must be a JSON object".into()))?;
    let string = |name: &str, required: bool| -> ApiResult<()> {
        match obj.get(name) {
            None | Some(Value::Null) if required => Err(field_error(name, "is required")),
            None | Some(Value::Null) => Ok(()),
            Some(Value::String(s)) if s.trim().is_empty() => Err(field_error(name, "must not be empty")),
            Some(Value::String(s)) if s.len() > MAX_ID_LEN => {
                Err(field_error(name, format!("longer than {MAX_ID_LEN} bytes")))
            }
            Some(Value::String(_)) => Ok(()),
            Some(_) => Err(field_error(name, "must be a string")),
        }
    };
    let number = |name: &str, required: bool| -> ApiResult<()> {
        match obj.get(name) {
            None | Some(Value::Null) if required => Err(field_error(name, "is required")),
            None | Some(Value::Null) => Ok(()),
            Some(Value::Number(_) | Value::String(_)) => Ok(()),
            Some(_) => Err(field_error(name, "must be a number or a string")),
        }
    };
    string("studentId", true)?;
    string("topicCode", true)?;
    string("exerciseId", false)?;
    string("courseId", false)?;
    number("expectedAnswer", true)?;
    number("studentAnswer", true)?;
    number("minuend", false)?;
    number("subtrahend", false)?;
    let steps = match obj.get("rawSteps") {
        None | Some(Value::Null) => return Err(field_error("rawSteps", "is required")),
        Some(Value::Array(steps)) => steps,
        Some(_) => return Err(field_error("rawSteps", "must be an array")),
    };
    if steps.len() > MAX_STEPS {
        return Err(field_error("rawSteps", format!("more than {MAX_STEPS} steps")));
    }
    for (i, step) in steps.iter().enumerate() {
        let expression = step.get("expression");
        match expression {
            Some(Value::String(e)) if e.len() > MAX_EXPRESSION_LEN => {
                return Err(field_error(
                    &format!("rawSteps[{i}].expression"),
                    format!("longer than {MAX_EXPRESSION_LEN} bytes"),
                ));
            }
            Some(Value::String(_)) => {}
            _ => return Err(field_error(&format!("rawSteps[{i}].expression"), "must be a string")),
        }
        if !matches!(step.get("isFinal"), None | Some(Value::Bool(_)) | Some(Value::Null)) {
            return Err(field_error(&format!("rawSteps[{i}].isFinal"), "must be a boolean"));
        }
    }
    if let Some(steps) = v.get_mut("rawSteps").and_then(Value::as_array_mut) {
        for step in steps {
            if step.get("isFinal").is_some_and(Value::is_null) {
                step.as_object_mut().map(|o| o.remove("isFinal"));
            }
        }
    }
    serde_json::from_value(v).map_err(|e| ApiError::Validation(e.to_string()))
}

/// The problem as the engine reads it, for the classification job (no student id).
fn problem_json(body: &AttemptBody) -> Value {
    json!({
        "topicCode": body.topic_code,
        "expectedAnswer": number_text(&body.expected_answer),
        "studentAnswer": number_text(&body.student_answer),
        "minuend": body.minuend.as_ref().map(number_text),
        "subtrahend": body.subtrahend.as_ref().map(number_text),
        "rawSteps": body.raw_steps.iter().map(|s| json!({"expression": s.expression, "isFinal": s.is_final})).collect::<Vec<_>>(),
    })
}

/// A number field as text, as stored (the request's own writing when it was a string).
pub(crate) fn number_text(n: &NumberField) -> String {
    match n {
        NumberField::Number(n) => n.to_string(),
        NumberField::Text(s) => s.trim().to_string(),
    }
}

/// Ingest one attempt: diagnosed synchronously; mastery and the telemetry event in the same
/// transaction. An UNCLASSIFIED answer is PENDING for the asynchronous classifier.
#[utoipa::path(post, path = "/attempts", tag = "attempts", request_body = CreateAttempt,
    params(("Idempotency-Key" = Option<String>, Header, description = "A retried POST with the same key returns the first response"),
           ("x-trace-id" = Option<String>, Header, description = "Correlation id, echoed and stored")),
    responses((status = 201, description = "Created and diagnosed", body = AttemptCreated),
              (status = 400, description = "Malformed JSON", body = ErrorBody),
              (status = 401, description = "No credentials", body = ErrorBody),
              (status = 403, description = "studentId is not the caller", body = ErrorBody),
              (status = 409, description = "Idempotency-Key reused with another request", body = ErrorBody),
              (status = 413, description = "Body too large", body = ErrorBody),
              (status = 422, description = "Invalid field or unknown topic", body = ErrorBody)))]
async fn create_attempt(
    caller: Caller,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let value = json_body(&headers, body, state.config.body_limit_bytes)?;
    // The request a retry must repeat, as canonical JSON (keys sorted), before the body is read.
    let request_hash = request_hash(&headers, &value);
    let photo_field = value.get("photoId").cloned();
    let mut body = read_attempt_body(value)?;
    let student_id = body.student_id.clone().unwrap_or_default();
    authorize_acting_for(&state, &caller, &student_id, body.course_id.as_deref()).await?;
    let photo_id = crate::ocr::attachable_photo(&state, &caller, photo_field.as_ref(), &student_id).await?;
    let idempotency_key = idempotency_key(&headers)?;
    let topic = state
        .catalog
        .topic(body.topic_code.trim())
        .ok_or_else(|| field_error("topicCode", format!("unknown topic {:?}", body.topic_code)))?;
    if topic.code == crate::storage::ADHOC_TOPIC {
        return Err(field_error(
            "topicCode",
            "ADHOC is the topic of problems sent to POST /attempts/solve-adhoc, not of exercises",
        ));
    }

    // A known exercise's stored answer is the truth; the client's is recorded, not trusted.
    let client_expected = number_text(&body.expected_answer);
    let mut recorded_client_expected = None;
    if let Some(exercise_id) = &body.exercise_id
        && let Some(exercise) = state.store.exercise(exercise_id).await?
    {
        if exercise.expected_answer.trim() != client_expected {
            recorded_client_expected = Some(client_expected.clone());
        }
        body.expected_answer = NumberField::Text(exercise.expected_answer.clone());
    }
    let options = Options {
        threshold: state.config.diagnosis_threshold,
        ..Options::default()
    };
    let diagnosis = body
        .diagnose_as(Family::from_code(&topic.family), &options)
        .map_err(|e| ApiError::Validation(e.to_string()))?;

    // What the wrong answer looks like; a tag teachers taught for that look wins (feedback.rs).
    let signature = if diagnosis.is_correct {
        None
    } else {
        // The body was read once already: an error here cannot happen, and would only cost
        // the attempt its signature.
        body.signature_as(Family::from_code(&topic.family), &diagnosis)
            .ok()
            .flatten()
    };
    let learned = signature.as_deref().and_then(|s| state.learned.get(s));
    let (tag, subtag, confidence, classifier) = match &learned {
        Some(rule) => (
            rule.error_tag_code.clone(),
            None,
            crate::feedback::learned_confidence(rule.reports, rule.agreement),
            crate::feedback::LEARNED_CLASSIFIER.to_string(),
        ),
        None => (
            diagnosis.error_tag_code.to_string(),
            diagnosis.error_subtag.map(str::to_string),
            diagnosis.confidence,
            ENGINE_NAME.to_string(),
        ),
    };
    let unclassified = tag == UNCLASSIFIED;
    let (status, source) = if unclassified {
        (AttemptStatus::Pending, ClassifierSource::Llm)
    } else {
        (AttemptStatus::Classified, ClassifierSource::Rule)
    };
    // Microseconds: what PostgreSQL keeps, so both backends return the same instant.
    let now = OffsetDateTime::now_utc();
    let now = now.replace_nanosecond(now.nanosecond() / 1_000 * 1_000).unwrap_or(now);
    let attempt_id = Uuid::now_v7();
    let trace_id = trace::current();
    let response = AttemptCreated {
        attempt_id,
        is_correct: diagnosis.is_correct,
        error_tag_code: tag.clone(),
        error_subtag: subtag.clone(),
        classifier_source: source.as_str().to_string(),
        confidence,
        status: status.as_str().to_string(),
        classifier: classifier.clone(),
    };
    let parsed_ok: Vec<bool> = {
        let mut ok = vec![true; body.raw_steps.len()];
        for e in &diagnosis.evidence {
            if let diagnosis::Evidence::UnparseableStep { step, .. } = e
                && let Some(slot) = ok.get_mut(*step)
            {
                *slot = false;
            }
        }
        ok
    };
    let attempt = NewAttempt {
        id: attempt_id,
        student_id: student_id.clone(),
        topic_code: topic.code.clone(),
        course_id: body.course_id.clone(),
        exercise_id: body.exercise_id.clone(),
        status,
        is_correct: diagnosis.is_correct,
        error_tag_code: tag.clone(),
        error_subtag: subtag.clone(),
        classifier_source: source,
        classifier_name: classifier.clone(),
        confidence,
        diagnosis: serde_json::to_value(&diagnosis).map_err(anyhow::Error::from)?,
        first_wrong_step: diagnosis.first_wrong_step.map(|s| s as i32),
        expected_answer: number_text(&body.expected_answer),
        client_expected_answer: recorded_client_expected,
        student_answer: number_text(&body.student_answer),
        trace_id: trace_id.clone(),
        created_by: caller.id.clone(),
        via_agent: caller.via_agent,
        created_at: now,
        steps: body
            .raw_steps
            .iter()
            .zip(parsed_ok)
            .map(|(s, parsed_ok)| NewStep {
                expression: s.expression.clone(),
                is_final: s.is_final,
                parsed_ok,
            })
            .collect(),
        origin: AttemptOrigin::Exercise,
        problem: None,
        grade_level: None,
        photo_id,
        classification_job: unclassified.then(|| NewJob {
            id: Uuid::now_v7(),
            kind: crate::classify::KIND.to_string(),
            dedupe_key: Some(crate::classify::job_key(attempt_id)),
            payload: crate::classify::payload(attempt_id, problem_json(&body)),
            max_attempts: state.config.job_max_attempts,
            run_after: now,
        }),
        signature,
    };
    let mastery = MasteryUpdate {
        student_id: student_id.clone(),
        topic_code: topic.code.clone(),
        course_id: body.course_id.clone().unwrap_or_default(),
        params: topic.bkt,
        correct: diagnosis.is_correct,
    };
    let event_id = Uuid::now_v7();
    let event = OutboxEvent {
        event_id,
        event_type: "attempt.created".into(),
        ordering_key: student_id.clone(),
        // No free text of the student: ids, the verdict and the diagnosis, nothing they wrote.
        payload: json!({
            "type": "attempt.created",
            "id": event_id,
            "occurredAt": now.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
            "traceId": trace_id,
            "attempt": {
                "attemptId": attempt_id,
                "studentId": student_id,
                "topicCode": topic.code,
                "family": diagnosis.family,
                "courseId": body.course_id,
                "exerciseId": body.exercise_id,
                "isCorrect": diagnosis.is_correct,
                "errorTagCode": tag,
                "errorSubtag": subtag,
                "confidence": confidence,
                "classifierSource": source.as_str(),
                "classifier": classifier,
                "status": status.as_str(),
                "viaAgent": caller.via_agent,
            }
        }),
    };
    let response_value = serde_json::to_value(&response).map_err(anyhow::Error::from)?;
    let claim = idempotency_key
        .zip(request_hash)
        .map(|(key, request_hash)| IdempotencyClaim {
            caller_id: caller.id.clone(),
            key,
            request_hash,
            status: StatusCode::CREATED.as_u16(),
            response: response_value.clone(),
        });
    record(&state, &attempt, Some(&mastery), &event, claim.as_ref(), response_value).await
}

/// The `Idempotency-Key` header, if any: 1 to 255 printable ASCII characters.
pub(crate) fn idempotency_key(headers: &HeaderMap) -> ApiResult<Option<String>> {
    let Some(v) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = v
        .to_str()
        .ok()
        .filter(|k| !k.is_empty() && k.len() <= MAX_IDEMPOTENCY_KEY && k.bytes().all(|b| b.is_ascii_graphic()));
    key.map(|k| Some(k.to_string())).ok_or_else(|| {
        field_error(
            "Idempotency-Key",
            format!("must be 1 to {MAX_IDEMPOTENCY_KEY} printable characters"),
        )
    })
}

/// With an `Idempotency-Key`: the hash of the request a retry must repeat, as canonical JSON
/// (serde_json sorts keys), taken before the body is read.
pub(crate) fn request_hash(headers: &HeaderMap, body: &Value) -> Option<String> {
    headers
        .contains_key("idempotency-key")
        .then(|| hex::encode(Sha256::digest(body.to_string().as_bytes())))
}

/// Writes an attempt (with its mastery update, if any) and answers as `POST /attempts` does:
/// 201 with `response`, the first response again for a replayed key, 409 for a reused one.
pub(crate) async fn record(
    state: &AppState,
    attempt: &NewAttempt,
    mastery: Option<&MasteryUpdate>,
    event: &OutboxEvent,
    claim: Option<&IdempotencyClaim>,
    response: Value,
) -> ApiResult<Response> {
    match state.store.record_attempt(attempt, mastery, event, claim).await? {
        Recorded::New { .. } => {
            state.outbox.notify_one();
            if attempt.classification_job.is_some() {
                state.jobs_wake.notify_one();
            }
            metrics::counter!("practica_attempts_total", "tag" => attempt.error_tag_code.clone(), "origin" => attempt.origin.as_str())
                .increment(1);
            Ok((StatusCode::CREATED, Json(response)).into_response())
        }
        Recorded::Replayed { status, response } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::CREATED);
            Ok((status, Json(response)).into_response())
        }
        Recorded::KeyReused => Err(ApiError::Conflict(
            "Idempotency-Key was already used with a different request".into(),
        )),
    }
}

/// Students act for themselves; teachers for the students they teach; admins and agent keys for
/// anyone.
pub(crate) async fn authorize_acting_for(
    state: &AppState,
    caller: &Caller,
    student_id: &str,
    course_id: Option<&str>,
) -> ApiResult<()> {
    if caller.acts_for(state.store.as_ref(), student_id, course_id).await? {
        Ok(())
    } else {
        Err(ApiError::Forbidden("studentId must be the caller's own id".into()))
    }
}

/// Students read their own attempts; teachers those of students they teach; admins and agents all.
async fn readable(state: &AppState, caller: &Caller, id: &str) -> ApiResult<AttemptRecord> {
    let not_found = || ApiError::NotFound(format!("no attempt {id}"));
    let uuid = Uuid::parse_str(id).map_err(|_| not_found())?;
    let attempt = state.store.attempt(uuid).await?.ok_or_else(not_found)?;
    if caller
        .acts_for(state.store.as_ref(), &attempt.student_id, attempt.course_id.as_deref())
        .await?
    {
        Ok(attempt)
    } else {
        Err(ApiError::Forbidden("not an attempt you may read".into()))
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttemptStatusView {
    attempt_id: Uuid,
    /// PENDING while the asynchronous classifier works; CLASSIFIED once the final tag is written.
    status: String,
    is_correct: bool,
    error_tag_code: Option<String>,
    error_tag_name: Option<String>,
    classifier_source: String,
    confidence: Option<f64>,
    /// What produced the tag (`practica-diagnosis/…`, `learned-from-reports`, `llm:<model>`);
    /// null while PENDING.
    classifier: Option<String>,
}

fn status_view(state: &AppState, a: &AttemptRecord) -> AttemptStatusView {
    let pending = a.status == AttemptStatus::Pending;
    let tag = if pending { None } else { a.error_tag_code.clone() };
    AttemptStatusView {
        attempt_id: a.id,
        status: a.status.as_str().to_string(),
        is_correct: a.is_correct,
        error_tag_name: tag.as_deref().and_then(|c| state.catalog.error_tag_name(c)),
        error_tag_code: tag,
        classifier_source: a.classifier_source.as_str().to_string(),
        confidence: if pending { None } else { a.confidence },
        classifier: if pending { None } else { a.classifier_name.clone() },
    }
}

/// Live classification status of an attempt.
#[utoipa::path(get, path = "/attempts/{id}/status", tag = "attempts",
    params(("id" = String, Path, description = "Attempt id")),
    responses((status = 200, body = AttemptStatusView), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn attempt_status(
    caller: Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<AttemptStatusView>> {
    let attempt = readable(&state, &caller, &id).await?;
    Ok(Json(status_view(&state, &attempt)))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttemptDetail {
    #[serde(flatten)]
    status: AttemptStatusView,
    error_subtag: Option<String>,
    student_id: String,
    topic_code: String,
    course_id: Option<String>,
    exercise_id: Option<String>,
    student_answer: String,
    expected_answer: String,
    /// The client's expectedAnswer when it differed from the exercise's stored answer.
    client_expected_answer: Option<String>,
    first_wrong_step: Option<i32>,
    #[schema(value_type = Vec<Object>)]
    steps: Vec<crate::storage::StepRecord>,
    /// Ranked alternatives and evidence from the diagnosis engine.
    #[schema(value_type = Object)]
    diagnosis: Value,
    /// How the asynchronous classifier decided (strategy, model and prompt version, rationale),
    /// or why nothing could (`reason`); null for attempts classified on arrival.
    #[schema(value_type = Option<Object>)]
    classification: Option<Value>,
    /// When the final tag was written by the asynchronous classifier (RFC 3339).
    classified_at: Option<String>,
    #[schema(value_type = Vec<Object>)]
    reports: Vec<crate::storage::ReportRecord>,
    /// Signed, expiring links to scanned work (none for typed attempts).
    photos: Vec<String>,
    /// Present when the attempt came from a guide submission scan.
    #[schema(value_type = Option<Object>)]
    submission: Option<Value>,
    trace_id: String,
    via_agent: bool,
    created_at: String,
    /// EXERCISE (`POST /attempts`) or ADHOC (`POST /attempts/solve-adhoc`).
    origin: String,
    /// An ad-hoc attempt's problem, as the scan read it (LaTeX).
    problem: Option<String>,
    grade_level: Option<i32>,
    /// An ad-hoc problem's solution: `kind`, `answer` and the `steps` that reach it; null for
    /// exercises and while PENDING.
    #[schema(value_type = Option<Object>)]
    solution: Option<Value>,
}

/// Full attempt detail: steps in order, the diagnosis, reports.
#[utoipa::path(get, path = "/attempts/{id}/detail", tag = "attempts",
    params(("id" = String, Path, description = "Attempt id")),
    responses((status = 200, body = AttemptDetail), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn attempt_detail(
    caller: Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<AttemptDetail>> {
    let a = readable(&state, &caller, &id).await?;
    Ok(Json(AttemptDetail {
        status: status_view(&state, &a),
        error_subtag: a.error_subtag.clone(),
        student_id: a.student_id.clone(),
        topic_code: a.topic_code.clone(),
        course_id: a.course_id.clone(),
        exercise_id: a.exercise_id.clone(),
        student_answer: a.student_answer.clone(),
        expected_answer: a.expected_answer.clone(),
        client_expected_answer: a.client_expected_answer.clone(),
        first_wrong_step: a.first_wrong_step,
        steps: a.steps.clone(),
        diagnosis: a.diagnosis.clone(),
        classification: a.classification.clone(),
        classified_at: a
            .classified_at
            .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok()),
        reports: a.reports.clone(),
        photos: photo_links(&state, a.photo_id).await,
        submission: None,
        trace_id: a.trace_id.clone(),
        via_agent: a.via_agent,
        created_at: a
            .created_at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        origin: a.origin.as_str().to_string(),
        problem: a.problem.clone(),
        grade_level: a.grade_level,
        solution: a.diagnosis.get("solution").filter(|s| !s.is_null()).cloned(),
    }))
}

/// Signed, expiring links to an attempt's photo; a photo that cannot be linked (its row or the
/// store gone) is left out and logged, not an error for the reader of the detail.
async fn photo_links(state: &AppState, photo_id: Option<Uuid>) -> Vec<String> {
    let Some(id) = photo_id else { return Vec::new() };
    let link = async {
        let upload = state
            .store
            .upload(id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("no upload row"))?;
        state.uploads.link(&upload).await
    };
    match link.await {
        Ok(url) => vec![url],
        Err(e) => {
            tracing::warn!(photo = %id, error = %e, "no link to an attempt's photo");
            Vec::new()
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct ReportRequest {
    /// A code of the catalog (GET /catalog/error-tags).
    error_tag_code: String,
    /// At most 500 characters.
    comment: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReportCreated {
    attempt_id: Uuid,
    reported: bool,
}

/// Report the right error tag for an attempt: stored as its own record, never overwriting the
/// classification.
#[utoipa::path(post, path = "/attempts/{id}/report", tag = "attempts", request_body = ReportRequest,
    params(("id" = String, Path, description = "Attempt id")),
    responses((status = 201, body = ReportCreated), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn report_attempt(
    caller: Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<ReportCreated>)> {
    let value = json_body(&headers, body, state.config.body_limit_bytes)?;
    let code = match value.get("errorTagCode") {
        Some(Value::String(c)) => c.trim().to_string(),
        None | Some(Value::Null) => return Err(field_error("errorTagCode", "is required")),
        Some(_) => return Err(field_error("errorTagCode", "must be a string")),
    };
    let comment = match value.get("comment") {
        None | Some(Value::Null) => None,
        Some(Value::String(c)) if c.chars().count() > MAX_COMMENT_CHARS => {
            return Err(field_error(
                "comment",
                format!("longer than {MAX_COMMENT_CHARS} characters"),
            ));
        }
        Some(Value::String(c)) => Some(c.clone()),
        Some(_) => return Err(field_error("comment", "must be a string")),
    };
    let attempt = readable(&state, &caller, &id).await?;
    if !state.catalog.has_error_tag(&code) {
        return Err(field_error("errorTagCode", format!("unknown error tag {code:?}")));
    }
    let report = NewReport {
        id: Uuid::now_v7(),
        attempt_id: attempt.id,
        error_tag_code: code,
        reporter_id: caller.id.clone(),
        reporter_role: caller.role,
        comment,
        via_agent: caller.via_agent,
        created_at: OffsetDateTime::now_utc(),
    };
    state.store.add_report(&report).await?;
    // Teachers' reports teach the classifier (feedback.rs); a failure to learn loses nothing:
    // the report is stored and the next report on the signature re-reads them all.
    if matches!(caller.role, Role::Teacher | Role::Admin)
        && let Some(signature) = &attempt.signature
        && let Err(e) = state
            .learned
            .learn(state.store.as_ref(), &state.learning, signature)
            .await
    {
        tracing::warn!(error = %e, signature, "learning from a report failed");
    }
    Ok((
        StatusCode::CREATED,
        Json(ReportCreated {
            attempt_id: attempt.id,
            reported: true,
        }),
    ))
}
