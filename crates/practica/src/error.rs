//! The service's one error type, mapped to HTTP in one place: every 4xx and 5xx is JSON
//! `{"statusCode", "code", "message", "traceId"}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::storage::StoreError;
use crate::trace;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    /// The request is well-formed JSON but not a valid request (missing field, wrong type,
    /// unknown reference, value out of range).
    #[error("{0}")]
    Validation(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("request body larger than {0} bytes")]
    PayloadTooLarge(usize),
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// A `Range` the file (of this many bytes) cannot satisfy.
    #[error("range not satisfiable: the file has {0} bytes")]
    RangeNotSatisfiable(u64),
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("{0}")]
    Unavailable(String),
    /// The database could not be reached (down, restarting, out of connections): the same
    /// request may succeed shortly, so 503 with `Retry-After` rather than 500.
    #[error("the database is unavailable; retry shortly")]
    DatabaseUnavailable,
    /// A rate limit is spent: retry after this many seconds (sent as `Retry-After`).
    #[error("too many requests: retry after {0} s")]
    TooManyRequests(u64),
    /// A valid request for something this version does not do yet.
    #[error("{0}")]
    NotImplemented(String),
    #[error("internal error")]
    Internal(anyhow::Error),
}

/// Seconds a client is told to wait (`Retry-After`) when the database is unavailable: enough
/// for a restarting server to come back, short enough that a brief blip costs little.
pub const DATABASE_RETRY_AFTER_SECS: u32 = 1;

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        if e.is_unavailable() {
            tracing::warn!(error = %e, "database unavailable");
            return ApiError::DatabaseUnavailable;
        }
        ApiError::Internal(anyhow::Error::new(e))
    }
}

/// An error from code that wraps storage errors in `anyhow` is still a database outage when
/// one is in its chain.
impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> Self {
        let unavailable = e.chain().any(|cause| {
            cause
                .downcast_ref::<StoreError>()
                .is_some_and(StoreError::is_unavailable)
                || cause
                    .downcast_ref::<sqlx::Error>()
                    .is_some_and(crate::storage::sqlx_unavailable)
        });
        if unavailable {
            tracing::warn!(error = format!("{e:#}"), "database unavailable");
            return ApiError::DatabaseUnavailable;
        }
        ApiError::Internal(e)
    }
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    pub status_code: u16,
    /// Stable machine-readable code (`VALIDATION_FAILED`, `NOT_FOUND`, …).
    pub code: &'static str,
    pub message: String,
    pub trace_id: String,
}

impl ApiError {
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "BAD_REQUEST"),
            ApiError::Validation(_) => (StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED"),
            ApiError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "UNAUTHORIZED"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "FORBIDDEN"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "NOT_FOUND"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "CONFLICT"),
            ApiError::PayloadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE"),
            ApiError::UnsupportedMediaType(_) => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE"),
            ApiError::RangeNotSatisfiable(_) => (StatusCode::RANGE_NOT_SATISFIABLE, "RANGE_NOT_SATISFIABLE"),
            ApiError::MethodNotAllowed(_) => (StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED"),
            ApiError::Unavailable(_) | ApiError::DatabaseUnavailable => {
                (StatusCode::SERVICE_UNAVAILABLE, "UNAVAILABLE")
            }
            ApiError::TooManyRequests(_) => (StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED"),
            ApiError::NotImplemented(_) => (StatusCode::NOT_IMPLEMENTED, "NOT_IMPLEMENTED"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if let ApiError::Internal(e) = &self {
            // The cause goes to the log with the trace id, never to the client.
            tracing::error!(error = format!("{e:#}"), "internal error");
        }
        let body = ErrorBody {
            status_code: status.as_u16(),
            code,
            message: self.to_string(),
            trace_id: trace::current(),
        };
        let mut response = (status, axum::Json(body)).into_response();
        let retry_after = match self {
            ApiError::TooManyRequests(secs) => Some(secs.max(1)),
            ApiError::DatabaseUnavailable => Some(u64::from(DATABASE_RETRY_AFTER_SECS)),
            _ => None,
        };
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    /// A database that cannot be reached is a 503 with Retry-After, wrapped in anyhow or not;
    /// another database error stays a 500.
    #[tokio::test]
    async fn an_unreachable_database_is_503_with_retry_after() {
        let refused = || sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        for e in [
            ApiError::from(StoreError::Database(sqlx::Error::PoolTimedOut)),
            ApiError::from(StoreError::Database(refused())),
            ApiError::from(anyhow::Error::new(StoreError::Database(refused())).context("loading the attempt")),
        ] {
            let response = e.into_response();
            assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(response.headers()[axum::http::header::RETRY_AFTER], "1");
            let body = axum::body::to_bytes(response.into_body(), 4096).await.unwrap();
            let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(
                (body["statusCode"].as_u64(), body["code"].as_str()),
                (Some(503), Some("UNAVAILABLE"))
            );
        }
        let other = ApiError::from(StoreError::Database(sqlx::Error::RowNotFound)).into_response();
        assert_eq!(other.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(other.headers().get(axum::http::header::RETRY_AFTER).is_none());
    }
}
