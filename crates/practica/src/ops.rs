//! Operations endpoints: liveness, readiness, Prometheus metrics, the OpenAPI document and its
//! browsable page.

use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use serde_json::json;

use crate::app::AppState;
use crate::error::{ApiError, ApiResult};

/// How often histogram samples are folded into their buckets when nobody scrapes.
const METRICS_UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// The process-wide Prometheus recorder (installed once, shared by every app in the process).
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: std::sync::OnceLock<PrometheusHandle> = std::sync::OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets(&[
                    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                ])
                .expect("static buckets")
                .build_recorder();
            let handle = recorder.handle();
            // Another recorder may already be installed (tests); the handle still renders ours.
            let _ = metrics::set_global_recorder(recorder);
            // A recorder that is built rather than installed has no upkeep of its own: each
            // histogram sample is kept until something drains it, which a scrape does. Without
            // scrapes (no Prometheus, or a slow one) memory grew by every request's samples, about
            // 20 bytes an attempt, for as long as the process lived. A thread, not a task: the
            // recorder is the process's and outlives any one runtime.
            let upkeep = handle.clone();
            let _ = std::thread::Builder::new()
                .name("metrics-upkeep".into())
                .spawn(move || {
                    loop {
                        std::thread::sleep(METRICS_UPKEEP_EVERY);
                        upkeep.run_upkeep();
                    }
                });
            handle
        })
        .clone()
}

/// Answers 503 for a request whose response has not started within `limit`
/// (`request_timeout_secs`) and drops its handler, which every handler already allows for: a
/// client that goes away drops it the same way (work that must finish runs in tasks of its own).
pub async fn deadline(State(limit): State<Option<Duration>>, req: Request, next: Next) -> Response {
    let Some(limit) = limit else {
        return next.run(req).await;
    };
    let (method, path) = (req.method().clone(), req.uri().path().to_string());
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(%method, path, limit_secs = limit.as_secs(), "request cut at the request timeout");
            ApiError::Unavailable(format!("the request did not finish within {} s", limit.as_secs())).into_response()
        }
    }
}

/// Request latency by method, route template and status.
pub async fn track(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let response = next.run(req).await;
    metrics::histogram!("practica_http_request_duration_seconds",
        "method" => method, "route" => route, "status" => response.status().as_u16().to_string())
    .record(started.elapsed().as_secs_f64());
    response
}

pub async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

/// Past this age, the oldest unpublished outbox event makes the service `degraded`: the relay
/// is not getting events out (a sink refusing them, SQS unreachable), connected or not.
pub const OUTBOX_STALE_SECS: f64 = 60.0;

/// Readiness (decision 45 in docs/decisions.md). 503 only when the database does not answer:
/// nothing can be served then. An event sink that is down does not make the service unready:
/// attempts are still accepted durably (their events wait in the outbox), so the answer is 200
/// with `"status": "degraded"`, which a load balancer keeps routing to, while monitoring sees
/// it. Always the outbox's backlog (`unpublished`, `oldestSeconds`) and the sink with its state.
pub async fn readyz(State(state): State<AppState>) -> ApiResult<Json<serde_json::Value>> {
    state
        .store
        .ping()
        .await
        .map_err(|e| ApiError::Unavailable(format!("database: {e}")))?;
    let (unpublished, oldest_seconds) = state
        .store
        .outbox_lag()
        .await
        .map_err(|e| ApiError::Unavailable(format!("database: {e}")))?;
    // Connected: the NATS client's connection state; SQS has no connection to look at (each
    // send is a request), so null, and a stuck relay shows in the outbox's age instead.
    let (sink, connected) = match &state.nats {
        Some(client) => (
            "nats",
            Some(client.connection_state() == async_nats::connection::State::Connected),
        ),
        None if state.config.sqs_queue_url.is_some() => ("sqs", None),
        None => ("embedded", Some(true)),
    };
    let degraded = connected == Some(false) || oldest_seconds > OUTBOX_STALE_SECS;
    Ok(Json(json!({
        "status": if degraded { "degraded" } else { "ready" },
        "database": state.store.backend(),
        "events": sink,
        "eventsConnected": connected,
        "outbox": { "unpublished": unpublished, "oldestSeconds": (oldest_seconds * 10.0).round() / 10.0 },
    })))
}

pub async fn metrics(State(state): State<AppState>) -> Response {
    if let Ok((count, age)) = state.store.outbox_lag().await {
        metrics::gauge!("practica_outbox_unpublished").set(count as f64);
        metrics::gauge!("practica_outbox_oldest_seconds").set(age);
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}

pub async fn openapi(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        state.openapi.as_str().to_string(),
    )
        .into_response()
}

/// A self-contained page listing the API from /openapi.json (no assets fetched from elsewhere,
/// so it works on an offline deployment).
pub async fn docs() -> Html<&'static str> {
    Html(include_str!("docs.html"))
}
