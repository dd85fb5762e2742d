//! Administration over HTTP (admins only): `POST /admin/import` loads a content bundle;
//! `GET /admin/report-disagreements` is the review queue of reports that disagree with the
//! classification; `GET /admin/learned-rules` what reports taught; `GET /admin/jobs` the queue.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;
use crate::attempts::body_bytes;
use crate::auth::Caller;
use crate::content::{self, ImportError, ImportSummary};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::storage::{Disagreement, LearnedRule, QueueDepth, Role};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// Largest bundle accepted over HTTP (the CLI reads any size).
pub const MAX_BUNDLE_BYTES: usize = 16 << 20;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(import))
        .routes(routes!(report_disagreements))
        .routes(routes!(learned_rules))
        .routes(routes!(jobs))
}

fn admin_only(caller: &Caller) -> ApiResult<()> {
    if caller.role == Role::Admin {
        Ok(())
    } else {
        Err(ApiError::Forbidden("admins only".into()))
    }
}

/// Most rows in one page.
const MAX_PAGE: i64 = 500;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Page {
    /// Rows in the page (1 to 500; default 100).
    limit: Option<i64>,
    /// The `nextBefore` of the previous page.
    before: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DisagreementPage {
    #[schema(value_type = Vec<Object>)]
    items: Vec<Disagreement>,
    /// Pass as `before` for the next (older) page; null on the last page.
    next_before: Option<Uuid>,
}

/// Reports whose tag differs from the attempt's classification, newest first: the queue a
/// curriculum expert reviews.
#[utoipa::path(get, path = "/admin/report-disagreements", tag = "admin", params(Page),
    responses((status = 200, body = DisagreementPage), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn report_disagreements(
    caller: Caller,
    State(state): State<AppState>,
    page: Result<Query<Page>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<DisagreementPage>> {
    admin_only(&caller)?;
    let Query(page) = page.map_err(|e| ApiError::Validation(e.body_text()))?;
    let limit = page.limit.unwrap_or(100);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::Validation(format!("limit: must be 1 to {MAX_PAGE}")));
    }
    let before = match page.before.as_deref() {
        None | Some("") => None,
        Some(b) => Some(Uuid::parse_str(b).map_err(|_| ApiError::Validation("before: not a report id".into()))?),
    };
    let items = state.store.disagreements(limit, before).await?;
    let next_before = (items.len() as i64 == limit)
        .then(|| items.last().map(|d| d.report_id))
        .flatten();
    Ok(Json(DisagreementPage { items, next_before }))
}

/// Tags learned from teachers' reports, by signature.
#[utoipa::path(get, path = "/admin/learned-rules", tag = "admin",
    responses((status = 200, body = Vec<Object>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn learned_rules(caller: Caller, State(state): State<AppState>) -> ApiResult<Json<Vec<LearnedRule>>> {
    admin_only(&caller)?;
    Ok(Json(state.store.learned_rules().await?))
}

/// Jobs by kind and state (queued, running, dead) with the age of the oldest.
#[utoipa::path(get, path = "/admin/jobs", tag = "admin",
    responses((status = 200, body = Vec<Object>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn jobs(caller: Caller, State(state): State<AppState>) -> ApiResult<Json<Vec<QueueDepth>>> {
    admin_only(&caller)?;
    Ok(Json(state.store.queue_depths(time::OffsetDateTime::now_utc()).await?))
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
    admin_only(&caller)?;
    let bytes = body_bytes(body, MAX_BUNDLE_BYTES)?;
    let text = std::str::from_utf8(&bytes).map_err(|_| ApiError::BadRequest("bundle is not UTF-8".into()))?;
    let summary = content::import(state.store.as_ref(), text).await.map_err(|e| match e {
        ImportError::Bundle(b) => ApiError::Validation(b.to_string()),
        ImportError::Store(s) => s.into(),
    })?;
    state.catalog.refresh(state.store.as_ref()).await?;
    state.sim.clear_content();
    Ok((StatusCode::CREATED, Json(summary)))
}
