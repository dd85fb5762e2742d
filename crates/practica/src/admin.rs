//! Administration over HTTP: `POST /admin/import` loads a content bundle (admins only).

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;
use crate::attempts::body_bytes;
use crate::auth::Caller;
use crate::content::{self, ImportError, ImportSummary};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::storage::Role;

/// Largest bundle accepted over HTTP (the CLI reads any size).
pub const MAX_BUNDLE_BYTES: usize = 16 << 20;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(import))
}

/// Load a content bundle (JSON or YAML): applied in one transaction, or refused whole with the
/// path of the first problem.
#[utoipa::path(post, path = "/admin/import", tag = "admin",
    request_body(content = String, description = "A content bundle, JSON or YAML", content_type = "application/yaml"),
    responses((status = 201, description = "Imported: the ids created or updated", body = ImportSummary),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 413, body = ErrorBody),
              (status = 422, description = "Invalid bundle; nothing applied", body = ErrorBody)))]
async fn import(
    caller: Caller,
    State(state): State<AppState>,
    _headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<ImportSummary>)> {
    if caller.role != Role::Admin {
        return Err(ApiError::Forbidden("only admins import content".into()));
    }
    let bytes = body_bytes(body, MAX_BUNDLE_BYTES)?;
    let text = std::str::from_utf8(&bytes).map_err(|_| ApiError::BadRequest("bundle is not UTF-8".into()))?;
    let summary = content::import(state.store.as_ref(), text).await.map_err(|e| match e {
        ImportError::Bundle(b) => ApiError::Validation(b.to_string()),
        ImportError::Store(s) => s.into(),
    })?;
    state.catalog.refresh(state.store.as_ref()).await?;
    Ok((StatusCode::CREATED, Json(summary)))
}
