//! `POST /attempts/ocr-extract`: a photo of handwritten work read into exercises that feed
//! `POST /attempts` or `POST /attempts/solve-adhoc`.
//!
//! The built-in reader (`crates/ocr`: offline, pure Rust, weights in the repository) reads every
//! photo; an OpenAI-compatible vision model reads it too when one is configured, for every photo
//! (`vision_mode = "always"`) or when the built-in reading is less confident than `vision_below`
//! or found nothing (`fallback`, the default). A vision model that fails or answers out of shape
//! leaves the built-in reading standing. The photo is kept in object storage ([`crate::uploads`])
//! and its id returned, so that the attempts made from it link to it (`photoId`) and their detail
//! can hand out a signed, expiring link.

use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::llm::{ChatModel, ChatRequest};
use crate::storage::{Role, UploadRecord};

/// Largest photo accepted by `ocr-extract`.
pub const MAX_IMAGE_BYTES: usize = 10 << 20;
/// Most exercises and steps kept from one photo, and the longest text of one (a vision model's
/// answer is held to the same bounds as the built-in reader's).
const MAX_EXERCISES: usize = 20;
const MAX_STEPS: usize = 30;
const MAX_TEXT: usize = 200;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(ocr_extract))
}

fn field(name: &str, message: impl std::fmt::Display) -> ApiError {
    ApiError::Validation(format!("{name}: {message}"))
}

/// One exercise read from a photo.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OcrExercise {
    /// The exercise as posed (`53 - 26`).
    pub problem: String,
    /// Every line of the work, in order; the last one is final.
    pub raw_steps: Vec<OcrStep>,
    /// The right side of the last line's `=`.
    pub final_answer: Option<String>,
    /// A topic code for the operation (`T-SUB-BORROW`).
    pub topic_hint: Option<String>,
    /// The reading's probability.
    pub confidence: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OcrStep {
    pub expression: String,
    pub is_final: bool,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OcrResponse {
    pub exercises: Vec<OcrExercise>,
    /// The stored photo: pass it as `photoId` to `POST /attempts` or `/attempts/solve-adhoc`.
    pub photo_id: Uuid,
    /// Which reader's exercises these are: `builtin` or `vision:<model>`.
    pub reader: String,
}

impl From<ocr::Exercise> for OcrExercise {
    fn from(e: ocr::Exercise) -> Self {
        OcrExercise {
            problem: e.problem,
            raw_steps: e
                .raw_steps
                .into_iter()
                .map(|s| OcrStep {
                    expression: s.expression,
                    is_final: s.is_final,
                })
                .collect(),
            final_answer: e.final_answer,
            topic_hint: e.topic_hint,
            confidence: e.confidence,
        }
    }
}

/// A photo as received, its type checked by content.
pub struct Photo {
    pub bytes: Bytes,
    pub content_type: &'static str,
    pub extension: &'static str,
}

impl Photo {
    /// JPEG or PNG by magic bytes (the decoder checks the rest).
    pub fn sniff(bytes: Bytes) -> Option<Photo> {
        let (content_type, extension) = if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            ("image/png", "png")
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            ("image/jpeg", "jpg")
        } else {
            return None;
        };
        Some(Photo {
            bytes,
            content_type,
            extension,
        })
    }
}

/// Why a reader gave nothing.
#[derive(Debug, thiserror::Error)]
pub enum ReadFailure {
    /// The photo itself is at fault (undecodable, too many pixels): the client's to fix.
    #[error(transparent)]
    Rejected(ocr::OcrError),
    /// The reader failed (a provider down, an answer out of shape).
    #[error("{0}")]
    Failed(String),
}

/// A reader of photos.
#[async_trait]
pub trait OcrEngine: Send + Sync {
    /// Recorded with the exercises it read: `builtin`, `vision:<model>`.
    fn name(&self) -> String;
    async fn read(&self, photo: &Photo) -> Result<Vec<OcrExercise>, ReadFailure>;
}

/// The built-in reader (`crates/ocr`), on a blocking thread: it is CPU work. A decoded 40 MP
/// photo takes a few hundred MB, so photos are read a few at a time (`readers` permits), the
/// others waiting their turn rather than all decoding at once.
pub struct Builtin {
    pub limits: ocr::Limits,
    pub readers: tokio::sync::Semaphore,
}

impl Builtin {
    /// One reading at a time per core.
    pub fn new(limits: ocr::Limits) -> Builtin {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Builtin {
            limits,
            readers: tokio::sync::Semaphore::new(cores),
        }
    }
}

#[async_trait]
impl OcrEngine for Builtin {
    fn name(&self) -> String {
        "builtin".into()
    }

    async fn read(&self, photo: &Photo) -> Result<Vec<OcrExercise>, ReadFailure> {
        let _turn = self
            .readers
            .acquire()
            .await
            .map_err(|e| ReadFailure::Failed(format!("the built-in reader is closed: {e}")))?;
        let bytes = photo.bytes.clone();
        let limits = self.limits.clone();
        let reading = tokio::task::spawn_blocking(move || ocr::read_photo(&bytes, &limits))
            .await
            .map_err(|e| ReadFailure::Failed(format!("the built-in reader failed: {e}")))?
            .map_err(ReadFailure::Rejected)?;
        Ok(reading.exercises.into_iter().map(OcrExercise::from).collect())
    }
}

/// An OpenAI-compatible vision model, asked for the exercises under a JSON schema.
pub struct Vision {
    pub model: Arc<dyn ChatModel>,
}

/// The schema of a vision model's answer: the endpoint's own shape.
fn exercises_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "exercises": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "problem": {"type": "string"},
                        "rawSteps": {"type": "array", "items": {
                            "type": "object",
                            "properties": {"expression": {"type": "string"}, "isFinal": {"type": "boolean"}},
                            "required": ["expression", "isFinal"],
                            "additionalProperties": false,
                        }},
                        "finalAnswer": {"type": ["string", "null"]},
                        "topicHint": {"type": ["string", "null"]},
                        "confidence": {"type": "number"},
                    },
                    "required": ["problem", "rawSteps", "finalAnswer", "topicHint", "confidence"],
                    "additionalProperties": false,
                },
            },
        },
        "required": ["exercises"],
        "additionalProperties": false,
    })
}

const VISION_PROMPT: &str = "You read photos of school students' handwritten arithmetic. \
For each exercise on the page (exercises are separated by vertical space) give: problem (the \
operation as posed, e.g. \"53 - 26\"), rawSteps (every written line in order, as plain text with \
spaces around operators, e.g. \"53 - 26 = 33\"; the last one has isFinal true), finalAnswer (the \
right side of the last line's =, or null), topicHint (one of T-SUB-BORROW, T-ADD-CARRY, T-MUL, \
T-DIV, T-FRACT, T-DEC, T-INT, T-RATIO, or null) and confidence (0 to 1). Transcribe exactly what \
is written, including wrong answers: never correct the student's arithmetic.";

/// Keeps a vision model's answer within the reader's bounds; None if it is out of shape.
fn validated(reply: &str) -> Option<Vec<OcrExercise>> {
    #[derive(Deserialize)]
    struct Answer {
        exercises: Vec<OcrExercise>,
    }
    let answer: Answer = serde_json::from_str(reply).ok()?;
    if answer.exercises.len() > MAX_EXERCISES {
        return None;
    }
    let text_ok = |s: &str| s.len() <= MAX_TEXT;
    for e in &answer.exercises {
        let ok = text_ok(&e.problem)
            && e.raw_steps.len() <= MAX_STEPS
            && e.raw_steps.iter().all(|s| text_ok(&s.expression))
            && e.final_answer.as_deref().is_none_or(text_ok)
            && e.topic_hint
                .as_deref()
                .is_none_or(|t| diagnosis::catalog::topic(t).is_some())
            && (0.0..=1.0).contains(&e.confidence);
        if !ok {
            return None;
        }
    }
    Some(answer.exercises)
}

#[async_trait]
impl OcrEngine for Vision {
    fn name(&self) -> String {
        format!("vision:{}", self.model.model())
    }

    async fn read(&self, photo: &Photo) -> Result<Vec<OcrExercise>, ReadFailure> {
        use base64::Engine;
        let data_url = format!(
            "data:{};base64,{}",
            photo.content_type,
            base64::engine::general_purpose::STANDARD.encode(&photo.bytes)
        );
        let request = ChatRequest {
            system: VISION_PROMPT.to_string(),
            user: "Read the exercises in this photo.".to_string(),
            schema_name: "ocr_exercises".to_string(),
            schema: exercises_schema(),
            max_tokens: 1_500,
            history: Vec::new(),
            images: vec![data_url],
        };
        let reply = self
            .model
            .complete_json(&request)
            .await
            .map_err(|e| ReadFailure::Failed(format!("the vision model failed: {e}")))?;
        validated(&reply.content).ok_or_else(|| ReadFailure::Failed("the vision model's answer is out of shape".into()))
    }
}

/// The readers of this process and when to ask the second.
pub struct Readers {
    pub builtin: Arc<dyn OcrEngine>,
    pub vision: Option<Arc<dyn OcrEngine>>,
    /// Ask the vision model for every photo.
    pub vision_always: bool,
    /// Otherwise ask it when the built-in reading's least confident exercise is below this.
    pub vision_below: f64,
}

impl Readers {
    /// The exercises and the reader whose they are.
    pub async fn read(&self, photo: &Photo) -> Result<(Vec<OcrExercise>, String), ReadFailure> {
        let started = Instant::now();
        let builtin = self.builtin.read(photo).await?;
        metrics::histogram!("practica_ocr_seconds", "reader" => "builtin").record(started.elapsed().as_secs_f64());
        let Some(vision) = &self.vision else {
            return Ok((builtin, self.builtin.name()));
        };
        let least = builtin.iter().map(|e| e.confidence).fold(f64::INFINITY, f64::min);
        if !(self.vision_always || builtin.is_empty() || least < self.vision_below) {
            return Ok((builtin, self.builtin.name()));
        }
        let started = Instant::now();
        let read = vision.read(photo).await;
        metrics::histogram!("practica_ocr_seconds", "reader" => "vision").record(started.elapsed().as_secs_f64());
        match read {
            Ok(exercises) => Ok((exercises, vision.name())),
            Err(e) => {
                tracing::warn!(error = %e, "vision reading failed; the built-in reading stands");
                Ok((builtin, self.builtin.name()))
            }
        }
    }
}

/// Read handwritten work from a photo (multipart field `image`, JPEG or PNG).
#[utoipa::path(post, path = "/attempts/ocr-extract", tag = "attempts",
    request_body(content_type = "multipart/form-data", description = "Field `image`: a JPEG or PNG, at most 10 MiB"),
    responses((status = 201, description = "Exercises read from the image", body = OcrResponse),
              (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 413, body = ErrorBody),
              (status = 415, body = ErrorBody),
              (status = 422, description = "Missing field, undecodable image, too many pixels", body = ErrorBody)))]
async fn ocr_extract(
    caller: Caller,
    State(state): State<AppState>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> ApiResult<(StatusCode, Json<OcrResponse>)> {
    // Not multipart, or no boundary: the JSON error shape, not axum's plain text.
    let mut multipart = multipart.map_err(crate::uploads::multipart_rejection)?;
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
    let photo =
        Photo::sniff(image).ok_or_else(|| ApiError::UnsupportedMediaType("image must be a JPEG or a PNG".into()))?;
    let (exercises, reader) = state.readers.read(&photo).await.map_err(|e| match e {
        ReadFailure::Rejected(ocr::OcrError::UnsupportedFormat) => {
            ApiError::UnsupportedMediaType("image must be a JPEG or a PNG".into())
        }
        ReadFailure::Rejected(e) => field("image", e),
        ReadFailure::Failed(e) => ApiError::Internal(anyhow::anyhow!(e)),
    })?;
    metrics::counter!("practica_ocr_total", "reader" => reader.clone()).increment(1);

    let now = crate::classify::now_micros();
    let id = Uuid::now_v7();
    let key = crate::uploads::photo_key(id, now, photo.extension);
    state
        .uploads
        .put(&key, photo.bytes.clone())
        .await
        .map_err(ApiError::Internal)?;
    state
        .store
        .record_upload(&UploadRecord {
            id,
            kind: "photo".into(),
            file_name: None,
            object_key: key,
            content_type: photo.content_type.into(),
            bytes: photo.bytes.len() as i64,
            sha256: hex::encode(Sha256::digest(&photo.bytes)),
            created_by: caller.id.clone(),
            via_agent: caller.via_agent,
            created_at: now,
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(OcrResponse {
            exercises,
            photo_id: id,
            reader,
        }),
    ))
}

fn multipart_error(e: axum::extract::multipart::MultipartError) -> ApiError {
    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::PayloadTooLarge(MAX_IMAGE_BYTES)
    } else {
        ApiError::BadRequest(format!("unreadable multipart body: {}", e.body_text()))
    }
}

/// A request's `photoId`: None when absent; 422 unless it names a photo the caller may attach
/// (their own upload, one the student uploaded, or any for admins and agents).
pub async fn attachable_photo(
    state: &AppState,
    caller: &Caller,
    photo_id: Option<&Value>,
    student_id: &str,
) -> ApiResult<Option<Uuid>> {
    let id = match photo_id {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => Uuid::parse_str(s.trim()).map_err(|_| field("photoId", "must be a photo id"))?,
        Some(_) => return Err(field("photoId", "must be a string")),
    };
    let unknown = || field("photoId", format!("no photo {id} that this caller may attach"));
    let upload = state.store.upload(id).await?.ok_or_else(unknown)?;
    let allowed = upload.created_by == caller.id
        || upload.created_by == student_id
        || matches!(caller.role, Role::Admin | Role::Agent);
    if upload.kind != "photo" || !allowed {
        return Err(unknown());
    }
    Ok(Some(id))
}
