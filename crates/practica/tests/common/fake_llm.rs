//! A local OpenAI-compatible server for service-level tests, on 127.0.0.1:0 (`base_url` ends in
//! `/v1`). It records every request it received in `requests` (in arrival order):
//!
//! - `POST /v1/chat/completions` answers as its [`Behaviour`] says, after an optional delay:
//!   the first code the request's JSON schema offers, a scripted content, a status, or a
//!   streamed reply (Server-Sent Events) for `"stream": true` requests. The request's JSON body
//!   is what is recorded.
//! - `POST /v1/audio/transcriptions` (multipart: `file`, `model`, `response_format`) answers
//!   `{"text": <the transcript>}` (set with [`FakeLlm::set_transcript`], default
//!   [`DEFAULT_TRANSCRIPT`]), or the behaviour's status when it is [`Behaviour::Status`]. What
//!   is recorded is a summary: `{"endpoint": "audio/transcriptions", "model", "file_name",
//!   "file_bytes", "mime", "response_format", "authorization"}`.
//!
//! Streams count how they ended: [`FakeLlm::streams_completed`] (every event written) and
//! [`FakeLlm::streams_dropped`] (the client went away mid-way), so a test can see that a
//! cancelled reply really stopped the server's work.
//!
//! ```ignore
//! let fake = fake_llm::start(
//!     Behaviour::Stream { chunks: vec!["Hola".into(), ", Ana".into()], gap: Duration::from_millis(20) },
//!     Duration::ZERO,
//! )
//! .await;
//! let fake = fake_llm::start(Behaviour::FirstCode, Duration::ZERO).await;
//! fake.set_transcript("me llamo Ana");
//! ```

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::serve::ListenerExt;
use serde_json::{Value, json};

/// What the transcription route answers until [`FakeLlm::set_transcript`] says otherwise.
pub const DEFAULT_TRANSCRIPT: &str = "the fake transcript";

/// The model name the fake answers with.
pub const FAKE_MODEL: &str = "fake-llm-1";

/// How the fake answers a request.
#[derive(Clone)]
pub enum Behaviour {
    /// The first code of the schema's enum (a valid, in-catalog answer).
    FirstCode,
    /// Always this HTTP status, with `Retry-After: 0` when 429 (both routes).
    Status(u16),
    /// Always this message content (e.g. a vision model's JSON answer).
    Content(String),
    /// For a `"stream": true` request, a `text/event-stream` as OpenAI shapes it: a role-only
    /// chunk, one chunk per element of `chunks` (`gap` between two of them), a chunk with
    /// `finish_reason: "stop"`, a usage chunk when `stream_options.include_usage` is asked
    /// (`prompt_tokens` 200, `completion_tokens` the number of chunks), then `data: [DONE]`.
    /// A request without `stream` gets the chunks joined, as one completion.
    Stream { chunks: Vec<String>, gap: Duration },
    /// The response body written verbatim, one body frame (a separate write, `Nagle` off) per
    /// piece, `gap` between two of them, as `text/event-stream`, whatever the request: for
    /// events split across network chunks, comments, CRLF…
    RawSse { pieces: Vec<Vec<u8>>, gap: Duration },
    /// Always this body with this content type and status 200, whatever the request: what a
    /// proxy's HTML page or a wrong endpoint gives (not a chat completion).
    Raw { content_type: &'static str, body: String },
    /// One behaviour per request, in order (both routes count); the last one repeats. E.g.
    /// `Sequence(vec![Status(429), Status(500), Stream {..}])`.
    Sequence(Vec<Behaviour>),
}

pub struct FakeLlm {
    pub base_url: String,
    pub requests: Arc<Mutex<Vec<Value>>>,
    transcript: Arc<Mutex<String>>,
    streams: Arc<StreamCounts>,
}

impl FakeLlm {
    pub fn request_count(&self) -> usize {
        self.requests.lock().unwrap().len()
    }

    /// What `POST /audio/transcriptions` answers from now on.
    pub fn set_transcript(&self, text: &str) {
        *self.transcript.lock().unwrap() = text.to_string();
    }

    /// Streamed responses the client went away from before their end.
    pub fn streams_dropped(&self) -> usize {
        self.streams.dropped.load(Ordering::SeqCst)
    }

    /// Streamed responses written to their end.
    pub fn streams_completed(&self) -> usize {
        self.streams.completed.load(Ordering::SeqCst)
    }
}

#[derive(Default)]
struct StreamCounts {
    dropped: AtomicUsize,
    completed: AtomicUsize,
}

#[derive(Clone)]
struct Fake {
    behaviour: Behaviour,
    delay: Duration,
    requests: Arc<Mutex<Vec<Value>>>,
    transcript: Arc<Mutex<String>>,
    streams: Arc<StreamCounts>,
    /// Requests so far, for [`Behaviour::Sequence`].
    calls: Arc<AtomicUsize>,
}

impl Fake {
    /// The behaviour for the next request.
    fn next_behaviour(&self) -> Behaviour {
        let call = self.calls.fetch_add(1, Ordering::SeqCst);
        let mut behaviour = self.behaviour.clone();
        while let Behaviour::Sequence(list) = behaviour {
            behaviour = list
                .get(call)
                .or(list.last())
                .cloned()
                .unwrap_or(Behaviour::Status(500));
        }
        behaviour
    }
}

pub async fn start(behaviour: Behaviour, delay: Duration) -> FakeLlm {
    let requests = Arc::new(Mutex::new(Vec::new()));
    let transcript = Arc::new(Mutex::new(DEFAULT_TRANSCRIPT.to_string()));
    let streams = Arc::new(StreamCounts::default());
    let fake = Fake {
        behaviour,
        delay,
        requests: requests.clone(),
        transcript: transcript.clone(),
        streams: streams.clone(),
        calls: Arc::new(AtomicUsize::new(0)),
    };
    let app = Router::new()
        .route("/v1/chat/completions", post(complete))
        .route("/v1/audio/transcriptions", post(transcribe))
        .with_state(fake);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}/v1", listener.local_addr().unwrap());
    // Nagle off: each body frame of a stream leaves as its own TCP segment, so a client sees
    // events split the way a test wrote them.
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    FakeLlm {
        base_url,
        requests,
        transcript,
        streams,
    }
}

async fn complete(State(fake): State<Fake>, Json(body): Json<Value>) -> Response {
    fake.requests.lock().unwrap().push(body.clone());
    let behaviour = fake.next_behaviour();
    tokio::time::sleep(fake.delay).await;
    match behaviour {
        Behaviour::Status(status) => status_response(status),
        Behaviour::FirstCode => {
            let code = body["response_format"]["json_schema"]["schema"]["properties"]["errorTagCode"]["enum"][0]
                .as_str()
                .unwrap_or("UNCLASSIFIED")
                .to_string();
            let content =
                json!({"errorTagCode": code, "confidence": 0.7, "rationale": "The fake picked the first tag."});
            completion(&content.to_string())
        }
        Behaviour::Content(content) => completion(&content),
        Behaviour::Raw { content_type, body } => ([("content-type", content_type)], body).into_response(),
        Behaviour::Stream { chunks, gap } => {
            if body["stream"] != json!(true) {
                return completion(&chunks.concat());
            }
            let include_usage = body["stream_options"]["include_usage"] == json!(true);
            sse_response(stream_frames(&chunks, include_usage), gap, true, fake.streams.clone())
        }
        Behaviour::RawSse { pieces, gap } => {
            let frames = pieces.into_iter().map(Bytes::from).collect();
            sse_response(frames, gap, false, fake.streams.clone())
        }
        Behaviour::Sequence(_) => unreachable!("next_behaviour resolves sequences"),
    }
}

fn status_response(status: u16) -> Response {
    let status = StatusCode::from_u16(status).unwrap();
    (
        status,
        [("retry-after", "0")],
        Json(json!({"error": {"message": "scripted"}})),
    )
        .into_response()
}

/// A chat completion answering `content`, as OpenAI's API shapes it.
fn completion(content: &str) -> Response {
    Json(json!({
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "model": FAKE_MODEL,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 200, "completion_tokens": 20, "total_tokens": 220},
    }))
    .into_response()
}

fn chunk_event(choices: Value, usage: Option<Value>) -> Bytes {
    let mut chunk = json!({
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "model": FAKE_MODEL,
        "choices": choices,
    });
    if let Some(usage) = usage {
        chunk["usage"] = usage;
    }
    Bytes::from(format!("data: {chunk}\n\n"))
}

/// The frames of a streamed reply; the content chunks are frames 1..=chunks.len().
fn stream_frames(chunks: &[String], include_usage: bool) -> Vec<Bytes> {
    let mut frames = vec![chunk_event(
        json!([{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": null}]),
        None,
    )];
    for c in chunks {
        frames.push(chunk_event(
            json!([{"index": 0, "delta": {"content": c}, "finish_reason": null}]),
            None,
        ));
    }
    let mut last = chunk_event(json!([{"index": 0, "delta": {}, "finish_reason": "stop"}]), None).to_vec();
    if include_usage {
        let n = chunks.len();
        let usage = json!({"prompt_tokens": 200, "completion_tokens": n, "total_tokens": 200 + n});
        last.extend_from_slice(&chunk_event(json!([]), Some(usage)));
    }
    last.extend_from_slice(b"data: [DONE]\n\n");
    frames.push(Bytes::from(last));
    frames
}

/// Counts, when dropped, how the stream it lives in ended: hyper drops a response body early
/// when the client closed the connection.
struct EndGuard {
    finished: bool,
    counts: Arc<StreamCounts>,
}

impl Drop for EndGuard {
    fn drop(&mut self) {
        let counter = if self.finished {
            &self.counts.completed
        } else {
            &self.counts.dropped
        };
        counter.fetch_add(1, Ordering::SeqCst);
    }
}

/// `frames` as a `text/event-stream` body, `gap` before each frame after the first (with
/// `content_only`, only between the content chunks of [`stream_frames`]).
fn sse_response(frames: Vec<Bytes>, gap: Duration, content_only: bool, counts: Arc<StreamCounts>) -> Response {
    let total = frames.len();
    let guard = EndGuard {
        finished: false,
        counts,
    };
    let state = (frames.into_iter().enumerate(), guard);
    let body = futures::stream::unfold(state, move |(mut frames, mut guard)| async move {
        match frames.next() {
            Some((i, frame)) => {
                let waits = if content_only { i >= 2 && i < total - 1 } else { i >= 1 };
                if waits {
                    tokio::time::sleep(gap).await;
                }
                Some((Ok::<_, Infallible>(frame), (frames, guard)))
            }
            None => {
                guard.finished = true;
                drop(guard);
                None
            }
        }
    });
    (
        [("content-type", "text/event-stream"), ("cache-control", "no-cache")],
        Body::from_stream(body),
    )
        .into_response()
}

async fn transcribe(State(fake): State<Fake>, headers: HeaderMap, mut form: Multipart) -> Response {
    let mut record = json!({"endpoint": "audio/transcriptions"});
    record["authorization"] = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map_or(Value::Null, |v| json!(v));
    while let Ok(Some(field)) = form.next_field().await {
        let name = field.name().unwrap_or_default().to_string();
        if name == "file" {
            record["file_name"] = json!(field.file_name());
            record["mime"] = json!(field.content_type());
            let bytes = field.bytes().await.unwrap_or_default();
            record["file_bytes"] = json!(bytes.len());
        } else {
            let text = field.text().await.unwrap_or_default();
            record[name] = json!(text);
        }
    }
    fake.requests.lock().unwrap().push(record);
    let behaviour = fake.next_behaviour();
    tokio::time::sleep(fake.delay).await;
    match behaviour {
        Behaviour::Status(status) => status_response(status),
        _ => {
            let text = fake.transcript.lock().unwrap().clone();
            Json(json!({"text": text})).into_response()
        }
    }
}
