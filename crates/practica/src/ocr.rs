//! `POST /attempts/ocr-extract`: the request is read and checked here, so clients get the same
//! 4xx they will get when the reader exists; a valid image is answered 501 until it does.

use axum::extract::Multipart;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};

/// Largest photo accepted by `ocr-extract`.
pub const MAX_IMAGE_BYTES: usize = 10 << 20;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(ocr_extract))
}

fn field(name: &str, message: impl std::fmt::Display) -> ApiError {
    ApiError::Validation(format!("{name}: {message}"))
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
