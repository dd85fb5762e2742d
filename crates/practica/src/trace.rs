//! Trace ids: `x-trace-id` taken from the request (or generated), echoed on the response,
//! recorded on what the request writes, and carried in logs and events.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

pub const HEADER: &str = "x-trace-id";
/// Longest trace id accepted from a client; a longer or non-printable one is replaced.
const MAX_LEN: usize = 128;

tokio::task_local! {
    static TRACE_ID: String;
}

/// The trace id of the request being served ("" outside one).
pub fn current() -> String {
    TRACE_ID.try_with(Clone::clone).unwrap_or_default()
}

/// Runs `f` under a trace id: work a request hands to another task (the MCP server's handler)
/// keeps the request's id.
pub async fn scope<F: std::future::Future>(id: String, f: F) -> F::Output {
    TRACE_ID.scope(id, f).await
}

fn acceptable(v: &str) -> bool {
    !v.is_empty() && v.len() <= MAX_LEN && v.bytes().all(|b| b.is_ascii_graphic())
}

pub async fn middleware(req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable(v))
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let span = tracing::info_span!("request", trace_id = %id, method = %req.method(), path = %req.uri().path());
    let mut response = TRACE_ID.scope(id.clone(), next.run(req).instrument(span)).await;
    if let Ok(v) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(HEADER, v);
    }
    response
}
