//! A local OpenAI-compatible chat completions server for service-level tests: it answers with
//! the first code the request's JSON schema offers (or what `answer` says), after an optional
//! delay, and records every request body it received.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

/// How the fake answers a request.
#[derive(Clone)]
pub enum Behaviour {
    /// The first code of the schema's enum (a valid, in-catalog answer).
    FirstCode,
    /// Always this HTTP status, with `Retry-After: 0` when 429.
    Status(u16),
    /// Always this message content (e.g. a vision model's JSON answer).
    Content(String),
}

pub struct FakeLlm {
    pub base_url: String,
    pub requests: Arc<Mutex<Vec<Value>>>,
}

impl FakeLlm {
    pub fn request_count(&self) -> usize {
        self.requests.lock().unwrap().len()
    }
}

#[derive(Clone)]
struct Fake {
    behaviour: Behaviour,
    delay: Duration,
    requests: Arc<Mutex<Vec<Value>>>,
}

pub async fn start(behaviour: Behaviour, delay: Duration) -> FakeLlm {
    let requests = Arc::new(Mutex::new(Vec::new()));
    let fake = Fake {
        behaviour,
        delay,
        requests: requests.clone(),
    };
    let app = Router::new()
        .route("/v1/chat/completions", post(complete))
        .with_state(fake);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}/v1", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    FakeLlm { base_url, requests }
}

async fn complete(State(fake): State<Fake>, Json(body): Json<Value>) -> Response {
    fake.requests.lock().unwrap().push(body.clone());
    tokio::time::sleep(fake.delay).await;
    match &fake.behaviour {
        Behaviour::Status(status) => {
            let status = StatusCode::from_u16(*status).unwrap();
            (
                status,
                [("retry-after", "0")],
                Json(json!({"error": {"message": "scripted"}})),
            )
                .into_response()
        }
        Behaviour::FirstCode => {
            let code = body["response_format"]["json_schema"]["schema"]["properties"]["errorTagCode"]["enum"][0]
                .as_str()
                .unwrap_or("UNCLASSIFIED")
                .to_string();
            let content =
                json!({"errorTagCode": code, "confidence": 0.7, "rationale": "The fake picked the first tag."});
            completion(&content.to_string())
        }
        Behaviour::Content(content) => completion(content),
    }
}

/// A chat completion answering `content`, as OpenAI's API shapes it.
fn completion(content: &str) -> Response {
    Json(json!({
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "model": "fake-llm-1",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 200, "completion_tokens": 20, "total_tokens": 220},
    }))
    .into_response()
}
