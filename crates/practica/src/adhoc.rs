//! `POST /attempts/solve-adhoc` and `POST /attempts/ocr-extract`: requests are read and checked
//! here, so clients get the same 4xx they will get when the solver and the reader exist; a valid
//! request is answered 501 until they do (nothing is stored: an attempt that no worker would
//! ever classify would stay PENDING forever).

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Multipart, State};
use axum::http::HeaderMap;
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;
use crate::attempts::json_body;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::storage::Role;

const MAX_LATEX: usize = 4_000;
const MAX_STEPS: usize = 100;
/// Largest photo accepted by `ocr-extract`.
pub const MAX_IMAGE_BYTES: usize = 10 << 20;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(solve_adhoc))
        .routes(routes!(ocr_extract))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct SolveAdhoc {
    student_id: String,
    /// LaTeX of the problem as read from the scan.
    problem_latex: String,
    /// The student's final answer, possibly symbolic (`x=2`).
    student_final_answer: String,
    student_steps: Option<Vec<String>>,
    course_id: Option<String>,
    /// 1 to 12; 7 when omitted.
    grade_level: Option<i64>,
}

fn field(name: &str, message: impl std::fmt::Display) -> ApiError {
    ApiError::Validation(format!("{name}: {message}"))
}

fn text(v: &Value, name: &str, required: bool, max: usize) -> ApiResult<()> {
    match v.get(name) {
        None | Some(Value::Null) if required => Err(field(name, "is required")),
        None | Some(Value::Null) => Ok(()),
        Some(Value::String(s)) if required && s.trim().is_empty() => Err(field(name, "must not be empty")),
        Some(Value::String(s)) if s.len() > max => Err(field(name, format!("longer than {max} bytes"))),
        Some(Value::String(_)) => Ok(()),
        Some(_) => Err(field(name, "must be a string")),
    }
}

/// Queue an ad-hoc problem for the solver.
#[utoipa::path(post, path = "/attempts/solve-adhoc", tag = "attempts", request_body = SolveAdhoc,
    responses((status = 201, description = "Created, PENDING until solved"),
              (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 422, body = ErrorBody), (status = 501, description = "Valid, but the solver is not in this version", body = ErrorBody)))]
async fn solve_adhoc(
    caller: Caller,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<()> {
    let v = json_body(&headers, body, state.config.body_limit_bytes)?;
    if !v.is_object() {
        return Err(ApiError::Validation("body must be a JSON object".into()));
    }
    text(&v, "studentId", true, 128)?;
    text(&v, "problemLatex", true, MAX_LATEX)?;
    text(&v, "studentFinalAnswer", true, MAX_LATEX)?;
    text(&v, "courseId", false, 128)?;
    match v.get("studentSteps") {
        None | Some(Value::Null) => {}
        Some(Value::Array(steps)) if steps.len() > MAX_STEPS => {
            return Err(field("studentSteps", format!("more than {MAX_STEPS} steps")));
        }
        Some(Value::Array(steps)) => {
            for (i, s) in steps.iter().enumerate() {
                match s {
                    Value::String(s) if s.len() <= MAX_LATEX => {}
                    Value::String(_) => {
                        return Err(field(
                            &format!("studentSteps[{i}]"),
                            format!("longer than {MAX_LATEX} bytes"),
                        ));
                    }
                    _ => return Err(field(&format!("studentSteps[{i}]"), "must be a string")),
                }
            }
        }
        Some(_) => return Err(field("studentSteps", "must be an array of strings")),
    }
    match v.get("gradeLevel") {
        None | Some(Value::Null) => {}
        Some(g) if g.as_i64().is_some_and(|g| (1..=12).contains(&g)) => {}
        Some(_) => return Err(field("gradeLevel", "must be an integer from 1 to 12")),
    }
    let student = v["studentId"].as_str().unwrap_or_default();
    if caller.role == Role::Student && caller.id != student {
        return Err(ApiError::Forbidden("studentId must be the caller's own id".into()));
    }
    Err(ApiError::NotImplemented(
        "the ad-hoc solver is not available in this version; the request is valid".into(),
    ))
}

/// Read handwritten work from a photo (multipart field `image`, JPEG or PNG).
#[utoipa::path(post, path = "/attempts/ocr-extract", tag = "attempts",
    request_body(content_type = "multipart/form-data", description = "Field `image`: a JPEG or PNG, at most 10 MiB"),
    responses((status = 201, description = "Exercises read from the image"),
              (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 413, body = ErrorBody),
              (status = 415, body = ErrorBody), (status = 422, body = ErrorBody),
              (status = 501, description = "Valid, but the reader is not in this version", body = ErrorBody)))]
async fn ocr_extract(_caller: Caller, mut multipart: Multipart) -> ApiResult<()> {
    let mut image = None;
    while let Some(part) = multipart.next_field().await.map_err(multipart_error)? {
        if part.name() == Some("image") {
            let bytes = part.bytes().await.map_err(multipart_error)?;
            image = Some(bytes);
        }
    }
    let image = image.ok_or_else(|| field("image", "is required (multipart/form-data field)"))?;
    if image.is_empty() {
        return Err(field("image", "is empty"));
    }
    let png = image.starts_with(b"\x89PNG\r\n\x1a\n");
    let jpeg = image.starts_with(&[0xFF, 0xD8, 0xFF]);
    if !png && !jpeg {
        return Err(ApiError::UnsupportedMediaType("image must be a JPEG or a PNG".into()));
    }
    Err(ApiError::NotImplemented(
        "handwriting recognition is not available in this version; the image is valid".into(),
    ))
}

fn multipart_error(e: axum::extract::multipart::MultipartError) -> ApiError {
    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::PayloadTooLarge(MAX_IMAGE_BYTES)
    } else {
        ApiError::BadRequest(format!("unreadable multipart body: {}", e.body_text()))
    }
}
