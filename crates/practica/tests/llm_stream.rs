//! Streamed persona replies and audio transcription in the OpenAI-compatible client, against
//! the local fake server of `common::fake_llm`.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use common::fake_llm::{self, Behaviour, FAKE_MODEL};
use practica::llm::{
    ChatMessage, ChatModel, ChatReply, ChatRequest, DailyBudget, LlmError, OpenAiCompatible, OpenAiConfig, TextRequest,
    Transcriber, Unlimited,
};
use serde_json::json;
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

/// A test never waits longer than this for a call that should end by itself.
const NO_HANG: Duration = Duration::from_secs(10);

fn config(base_url: &str) -> OpenAiConfig {
    OpenAiConfig {
        base_url: base_url.to_string(),
        api_key: Some("sk-stream".into()),
        model: "persona-model".into(),
        timeout: Duration::from_millis(300),
        max_retries: 2,
        max_backoff: Duration::from_millis(50),
    }
}

fn client(base_url: &str) -> OpenAiCompatible {
    OpenAiCompatible::new(config(base_url), Arc::new(Unlimited)).unwrap()
}

fn request() -> TextRequest {
    TextRequest {
        system: "You are Ana, a shopkeeper in Madrid. Answer in Spanish.".into(),
        history: vec![
            ChatMessage::user("Buenos días."),
            ChatMessage::assistant("¡Buenos días! ¿Qué desea?"),
            ChatMessage::user("Quiero pan, por favor."),
        ],
        max_tokens: 120,
        temperature: 0.7,
    }
}

fn chunks(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| w.to_string()).collect()
}

fn drain(rx: &mut UnboundedReceiver<String>) -> Vec<String> {
    let mut out = Vec::new();
    while let Ok(d) = rx.try_recv() {
        out.push(d);
    }
    out
}

async fn stream(model: &OpenAiCompatible, request: &TextRequest) -> (Result<ChatReply, LlmError>, Vec<String>) {
    let (tx, mut rx) = unbounded_channel();
    let result = tokio::time::timeout(NO_HANG, model.stream_text(request, tx))
        .await
        .expect("the call ends by itself");
    (result, drain(&mut rx))
}

#[tokio::test]
async fn deltas_arrive_in_order_as_they_come_and_join_to_the_reply() {
    let words = chunks(&["¡Claro", "!", " ¿Una", " barra", " o", " dos?"]);
    let fake = fake_llm::start(
        Behaviour::Stream {
            chunks: words.clone(),
            gap: Duration::from_millis(60),
        },
        Duration::ZERO,
    )
    .await;
    let model = Arc::new(client(&fake.base_url));
    let (tx, mut rx) = unbounded_channel();
    let started = Instant::now();
    let task = tokio::spawn({
        let model = model.clone();
        async move { model.stream_text(&request(), tx).await }
    });
    let first = tokio::time::timeout(NO_HANG, rx.recv()).await.unwrap().unwrap();
    assert_eq!(first, "¡Claro");
    assert!(
        !task.is_finished(),
        "the first delta came {:?} in, before the reply ended",
        started.elapsed()
    );
    let reply = tokio::time::timeout(NO_HANG, task).await.unwrap().unwrap().unwrap();
    let mut deltas = vec![first];
    deltas.extend(drain(&mut rx));
    assert_eq!(deltas, words);
    assert_eq!(reply.content, "¡Claro! ¿Una barra o dos?");
    assert_eq!(reply.content, deltas.concat());
    assert_eq!(reply.model, FAKE_MODEL);
    assert_eq!(
        (reply.prompt_tokens, reply.completion_tokens),
        (200, 6),
        "the usage chunk's counts"
    );
    assert_eq!((fake.streams_completed(), fake.streams_dropped()), (1, 0));

    let sent = fake.requests.lock().unwrap()[0].clone();
    assert_eq!(sent["model"], "persona-model");
    assert_eq!(sent["stream"], true);
    assert_eq!(sent["stream_options"], json!({"include_usage": true}));
    assert_eq!(sent["max_tokens"], 120);
    assert_eq!(sent["temperature"], json!(0.7), "f32 sent without widening noise");
    assert_eq!(
        sent["messages"],
        json!([
            {"role": "system", "content": "You are Ana, a shopkeeper in Madrid. Answer in Spanish."},
            {"role": "user", "content": "Buenos días."},
            {"role": "assistant", "content": "¡Buenos días! ¿Qué desea?"},
            {"role": "user", "content": "Quiero pan, por favor."},
        ])
    );
    assert!(sent.get("response_format").is_none(), "free text, no schema");
}

/// Events split mid-line, mid-JSON, mid-character and between CR and LF, with comments, other
/// fields and blank lines, each piece written (and sent) on its own.
#[tokio::test]
async fn a_reply_split_into_events_across_tcp_chunks_parses() {
    let body = concat!(
        ": OPENROUTER PROCESSING\r\n\r\n",
        "event: message\r\n",
        "data: {\"model\":\"split-model\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\"}}]}\r\n\r\n",
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Dos barras, \"}}]}\r\n\r\n",
        "\n",
        "data:{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"señora\"}}]}\n\n",
        ": keep-alive\n\n",
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\" ñandú.\"},\"finish_reason\":\"stop\"}]}\n\n",
        "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":31,\"completion_tokens\":5}}\n\n",
        "data: [DONE]\n\n",
    )
    .as_bytes();
    let cut_at = |needle: &str, offset: usize| {
        body.windows(needle.len())
            .position(|w| w == needle.as_bytes())
            .expect("needle in body")
            + offset
    };
    let mut cuts = vec![
        5,                              // in a comment
        cut_at("data: {\"model", 3),    // in "data"
        cut_at("\"content\":\"Dos", 4), // in the JSON
        cut_at("\r\n\r\n\n", 1),        // between a CR and its LF
        cut_at("ñandú", 1),             // inside "ñ" (two bytes)
        cut_at("[DONE]", 2),
    ];
    cuts.sort();
    let mut pieces = Vec::new();
    let mut from = 0;
    for cut in cuts {
        pieces.push(body[from..cut].to_vec());
        from = cut;
    }
    pieces.push(body[from..].to_vec());
    let fake = fake_llm::start(
        Behaviour::RawSse {
            pieces,
            gap: Duration::from_millis(30),
        },
        Duration::ZERO,
    )
    .await;
    let (reply, deltas) = stream(&client(&fake.base_url), &request()).await;
    let reply = reply.unwrap();
    assert_eq!(deltas, ["Dos barras, ", "señora", " ñandú."]);
    assert_eq!(reply.content, "Dos barras, señora ñandú.");
    assert_eq!(reply.model, "split-model");
    assert_eq!((reply.prompt_tokens, reply.completion_tokens), (31, 5));
}

#[tokio::test]
async fn cancelling_by_dropping_keeps_the_delivered_deltas_and_drops_the_stream() {
    let words: Vec<String> = (0..200).map(|i| format!("w{i} ")).collect();
    let fake = fake_llm::start(
        Behaviour::Stream {
            chunks: words.clone(),
            gap: Duration::from_millis(10),
        },
        Duration::ZERO,
    )
    .await;
    let model = client(&fake.base_url);
    let (tx, mut rx) = unbounded_channel();
    // The learner interrupts: the call's future is dropped mid-reply.
    let cut = tokio::time::timeout(Duration::from_millis(250), model.stream_text(&request(), tx)).await;
    assert!(cut.is_err(), "the reply was still streaming when cancelled");
    let delivered = drain(&mut rx);
    assert!(
        !delivered.is_empty() && delivered.len() < words.len(),
        "{} deltas",
        delivered.len()
    );
    assert_eq!(
        delivered[..],
        words[..delivered.len()],
        "a prefix of the reply, in order"
    );

    let waited = Instant::now();
    while fake.streams_dropped() == 0 {
        assert!(waited.elapsed() < NO_HANG, "the server never saw the stream dropped");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!((fake.streams_dropped(), fake.streams_completed()), (1, 0));
    assert_eq!(fake.request_count(), 1, "no retry after a cancel");
}

#[tokio::test]
async fn rate_limiting_and_server_errors_before_the_first_byte_are_retried() {
    let fake = fake_llm::start(
        Behaviour::Sequence(vec![
            Behaviour::Status(429),
            Behaviour::Status(500),
            Behaviour::Stream {
                chunks: chunks(&["Por", " fin."]),
                gap: Duration::ZERO,
            },
        ]),
        Duration::ZERO,
    )
    .await;
    let (reply, deltas) = stream(&client(&fake.base_url), &request()).await;
    assert_eq!(reply.unwrap().content, "Por fin.");
    assert_eq!(deltas, ["Por", " fin."], "only the successful call delivered text");
    assert_eq!(fake.request_count(), 3);

    // Out of retries: the last error.
    let fake = fake_llm::start(Behaviour::Status(503), Duration::ZERO).await;
    let (reply, deltas) = stream(&client(&fake.base_url), &request()).await;
    assert!(matches!(reply, Err(LlmError::Status { status: 503, .. })), "{reply:?}");
    assert!(deltas.is_empty());
    assert_eq!(fake.request_count(), 3, "one call and max_retries (2) retries");

    // A client error is not retried.
    let fake = fake_llm::start(Behaviour::Status(400), Duration::ZERO).await;
    let (reply, _) = stream(&client(&fake.base_url), &request()).await;
    assert!(matches!(reply, Err(LlmError::Status { status: 400, .. })), "{reply:?}");
    assert_eq!(fake.request_count(), 1);
}

#[tokio::test]
async fn a_slow_start_is_a_retried_timeout() {
    // Longer than the 300 ms timeout before the response starts, each time.
    let fake = fake_llm::start(
        Behaviour::Stream {
            chunks: chunks(&["late"]),
            gap: Duration::ZERO,
        },
        Duration::from_millis(600),
    )
    .await;
    let (reply, deltas) = stream(&client(&fake.base_url), &request()).await;
    assert!(matches!(reply, Err(LlmError::Timeout)), "{reply:?}");
    assert!(deltas.is_empty());
    assert_eq!(fake.request_count(), 3);
}

#[tokio::test]
async fn the_timeout_bounds_the_gaps_not_the_whole_reply() {
    // Eight 100 ms gaps: 800 ms in all, more than the 300 ms timeout, each gap well under it.
    let words = chunks(&["Un", " momento", ",", " por", " favor", ",", " ya", " voy", "."]);
    let fake = fake_llm::start(
        Behaviour::Stream {
            chunks: words.clone(),
            gap: Duration::from_millis(100),
        },
        Duration::ZERO,
    )
    .await;
    let started = Instant::now();
    let (reply, deltas) = stream(&client(&fake.base_url), &request()).await;
    assert!(started.elapsed() > Duration::from_millis(600));
    assert_eq!(reply.unwrap().content, words.concat());
    assert_eq!(deltas, words);
}

#[tokio::test]
async fn a_stall_after_text_was_delivered_is_an_error_and_never_retried() {
    let fake = fake_llm::start(
        Behaviour::Stream {
            chunks: chunks(&["Pues", " verá…"]),
            gap: Duration::from_millis(800),
        },
        Duration::ZERO,
    )
    .await;
    let (reply, deltas) = stream(&client(&fake.base_url), &request()).await;
    assert!(matches!(reply, Err(LlmError::Timeout)), "{reply:?}");
    assert_eq!(deltas, ["Pues"], "the caller keeps what came");
    assert_eq!(fake.request_count(), 1, "a retry would deliver the start again");
}

#[tokio::test]
async fn an_unreachable_server_is_an_error_not_a_hang() {
    // Nothing listens on the port any more: connection refused.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let model = client(&format!("http://127.0.0.1:{port}/v1"));
    let (reply, deltas) = stream(&model, &request()).await;
    assert!(matches!(reply, Err(LlmError::Transport(_))), "{reply:?}");
    assert!(deltas.is_empty());

    // A server that accepts connections and never answers: the timeout, each try.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let model = client(&format!("http://{}/v1", silent.local_addr().unwrap()));
    let started = Instant::now();
    let (reply, _) = stream(&model, &request()).await;
    assert!(matches!(reply, Err(LlmError::Timeout)), "{reply:?}");
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
    drop(silent);
}

#[tokio::test]
async fn a_server_that_ignores_stream_answers_one_delta() {
    // A scripted JSON completion stands for a server that ignores the `stream` flag.
    let fake = fake_llm::start(Behaviour::Content("Una barra, ahora mismo.".into()), Duration::ZERO).await;
    let (reply, deltas) = stream(&client(&fake.base_url), &request()).await;
    assert_eq!(reply.unwrap().content, "Una barra, ahora mismo.");
    assert_eq!(deltas, ["Una barra, ahora mismo."]);
}

#[tokio::test]
async fn the_budget_is_checked_and_told_the_streamed_usage() {
    let fake = fake_llm::start(
        Behaviour::Stream {
            chunks: chunks(&["Sí", "."]),
            gap: Duration::ZERO,
        },
        Duration::ZERO,
    )
    .await;
    let budget = Arc::new(DailyBudget::new(Some(10_000)));
    let model = OpenAiCompatible::new(config(&fake.base_url), budget.clone()).unwrap();
    let (reply, _) = stream(&model, &request()).await;
    reply.unwrap();
    assert_eq!(
        budget.spent_today(),
        202,
        "the usage chunk's 200 + 2, the estimate released"
    );

    let tiny = Arc::new(DailyBudget::new(Some(10)));
    let model = OpenAiCompatible::new(config(&fake.base_url), tiny).unwrap();
    let (reply, _) = stream(&model, &request()).await;
    assert!(matches!(reply, Err(LlmError::BudgetSpent)), "{reply:?}");
    assert_eq!(fake.request_count(), 1, "nothing sent once the budget is spent");
}

#[tokio::test]
async fn a_cancelled_stream_settles_its_budget_reservation() {
    let fake = fake_llm::start(
        Behaviour::Stream {
            chunks: (0..100).map(|i| format!("w{i} ")).collect(),
            gap: Duration::from_millis(10),
        },
        Duration::ZERO,
    )
    .await;
    let budget = Arc::new(DailyBudget::new(Some(100_000)));
    let model = OpenAiCompatible::new(config(&fake.base_url), budget.clone()).unwrap();
    let request = TextRequest {
        max_tokens: 50_000,
        ..request()
    };
    let (tx, _rx) = unbounded_channel();
    let cut = tokio::time::timeout(Duration::from_millis(150), model.stream_text(&request, tx)).await;
    assert!(cut.is_err());
    let waited = Instant::now();
    while budget.spent_today() >= 50_000 {
        assert!(
            waited.elapsed() < NO_HANG,
            "the 50 000-token reservation was never settled"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(budget.spent_today() > 0, "the prompt and the streamed text count");
}

/// A model with no streaming of its own.
struct JsonOnly;

#[async_trait]
impl ChatModel for JsonOnly {
    fn model(&self) -> &str {
        "json-only"
    }

    async fn complete_json(&self, _request: &ChatRequest) -> Result<ChatReply, LlmError> {
        Err(LlmError::Malformed("not used".into()))
    }
}

#[tokio::test]
async fn a_model_without_streaming_says_so() {
    let (tx, mut rx) = unbounded_channel();
    let err = JsonOnly.stream_text(&request(), tx).await.unwrap_err();
    assert!(
        matches!(&err, LlmError::InvalidConfig(m) if m.contains("stream")),
        "{err}"
    );
    assert!(!err.retryable());
    assert!(rx.try_recv().is_err());
}

#[tokio::test]
async fn transcription_returns_the_text_and_sends_the_model_and_the_file() {
    let fake = fake_llm::start(Behaviour::FirstCode, Duration::ZERO).await;
    fake.set_transcript("Quiero dos barras de pan.");
    let transcriber = Transcriber::new(
        format!("{}/", fake.base_url),
        Some("sk-audio".into()),
        "whisper-1".into(),
        Duration::from_secs(5),
    )
    .unwrap();
    let audio: Vec<u8> = (0..30_000u32).map(|i| (i % 251) as u8).collect();
    let text = tokio::time::timeout(NO_HANG, transcriber.transcribe(audio, "turn-3.webm", "audio/webm"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(text, "Quiero dos barras de pan.");
    let sent = fake.requests.lock().unwrap()[0].clone();
    assert_eq!(sent["endpoint"], "audio/transcriptions");
    assert_eq!(sent["model"], "whisper-1");
    assert_eq!(sent["file_bytes"], 30_000);
    assert_eq!(sent["file_name"], "turn-3.webm");
    assert_eq!(sent["mime"], "audio/webm");
    assert_eq!(sent["response_format"], "json");
    assert_eq!(sent["authorization"], "Bearer sk-audio");

    // No key, no Authorization header.
    let anonymous = Transcriber::new(fake.base_url.clone(), None, "whisper-1".into(), Duration::from_secs(5)).unwrap();
    anonymous.transcribe(vec![0; 10], "a.wav", "audio/wav").await.unwrap();
    assert!(fake.requests.lock().unwrap()[1]["authorization"].is_null());
}

#[tokio::test]
async fn transcription_errors() {
    for (status, retryable) in [(400, false), (401, false), (500, true), (503, true)] {
        let fake = fake_llm::start(Behaviour::Status(status), Duration::ZERO).await;
        let transcriber =
            Transcriber::new(fake.base_url.clone(), None, "whisper-1".into(), Duration::from_secs(5)).unwrap();
        let err = transcriber
            .transcribe(vec![1, 2, 3], "a.ogg", "audio/ogg")
            .await
            .unwrap_err();
        assert!(
            matches!(&err, LlmError::Status { status: s, .. } if *s == status),
            "{err}"
        );
        assert_eq!(err.retryable(), retryable, "{status}");
        assert_eq!(fake.request_count(), 1, "one call, no retries");
    }
    let fake = fake_llm::start(Behaviour::Status(429), Duration::ZERO).await;
    let transcriber =
        Transcriber::new(fake.base_url.clone(), None, "whisper-1".into(), Duration::from_secs(5)).unwrap();
    let err = transcriber.transcribe(vec![1], "a.ogg", "audio/ogg").await.unwrap_err();
    assert!(
        matches!(err, LlmError::RateLimited { retry_after: Some(d) } if d.is_zero()),
        "{err}"
    );

    // A server that never answers: the timeout.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let transcriber = Transcriber::new(
        format!("http://{}/v1", silent.local_addr().unwrap()),
        None,
        "whisper-1".into(),
        Duration::from_millis(300),
    )
    .unwrap();
    let err = tokio::time::timeout(NO_HANG, transcriber.transcribe(vec![1], "a.ogg", "audio/ogg"))
        .await
        .unwrap()
        .unwrap_err();
    assert!(matches!(err, LlmError::Timeout), "{err}");

    assert!(matches!(
        Transcriber::new("ftp://x".into(), None, "m".into(), Duration::from_secs(1)),
        Err(LlmError::InvalidConfig(_))
    ));
    assert!(matches!(
        Transcriber::new("http://x".into(), None, " ".into(), Duration::from_secs(1)),
        Err(LlmError::InvalidConfig(_))
    ));
}
