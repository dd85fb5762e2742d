//! The OpenAI-compatible client and the LLM classifier against a fake chat completions server
//! (axum on 127.0.0.1:0) that plays scripted responses and records what it received.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use practica::llm::{Budget, ChatModel, DailyBudget, LlmError, OpenAiCompatible, OpenAiConfig, Unlimited};
use practica::llm_classifier::{PROMPT_VERSION, ProblemForPrompt, TagChoice, build_prompt, classify};
use serde_json::{Value, json};
use time::macros::date;

/// One scripted response.
#[derive(Clone)]
struct Scripted {
    delay: Duration,
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: String,
}

impl Scripted {
    fn status(status: u16, body: &str) -> Scripted {
        Scripted {
            delay: Duration::ZERO,
            status,
            headers: Vec::new(),
            body: body.to_string(),
        }
    }

    /// A chat completion whose message content is `content`, with usage.
    fn content(content: &str) -> Scripted {
        Scripted::completion(content, Some((120, 30)))
    }

    fn completion(content: &str, usage: Option<(u64, u64)>) -> Scripted {
        let mut body = json!({
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "model": "fake-model-2025",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        });
        if let Some((p, c)) = usage {
            body["usage"] = json!({"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c});
        }
        Scripted::status(200, &body.to_string())
    }

    fn answer(code: &str, confidence: f64, rationale: &str) -> Scripted {
        Scripted::content(&json!({"errorTagCode": code, "confidence": confidence, "rationale": rationale}).to_string())
    }

    fn header(mut self, name: &'static str, value: &str) -> Scripted {
        self.headers.push((name, value.to_string()));
        self
    }

    fn delayed(mut self, delay: Duration) -> Scripted {
        self.delay = delay;
        self
    }
}

struct Received {
    at: Instant,
    authorization: Option<String>,
    body: Value,
}

#[derive(Default)]
struct Fake {
    /// Played in order; the last one repeats.
    script: Mutex<VecDeque<Scripted>>,
    received: Mutex<Vec<Received>>,
}

impl Fake {
    fn received(&self) -> std::sync::MutexGuard<'_, Vec<Received>> {
        self.received.lock().unwrap()
    }

    fn count(&self) -> usize {
        self.received().len()
    }

    fn body(&self, i: usize) -> Value {
        self.received()[i].body.clone()
    }
}

async fn chat_completions(State(fake): State<Arc<Fake>>, headers: HeaderMap, body: Bytes) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    fake.received.lock().unwrap().push(Received {
        at: Instant::now(),
        authorization: headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        body,
    });
    let scripted = {
        let mut script = fake.script.lock().unwrap();
        if script.len() > 1 {
            script.pop_front().unwrap()
        } else {
            script.front().cloned().expect("a scripted response")
        }
    };
    tokio::time::sleep(scripted.delay).await;
    let mut response = (
        StatusCode::from_u16(scripted.status).unwrap(),
        [("content-type", "application/json")],
        scripted.body,
    )
        .into_response();
    for (name, value) in scripted.headers {
        response.headers_mut().insert(name, value.parse().unwrap());
    }
    response
}

/// A fake server playing `script`; its base URL (`…/v1`).
async fn fake(script: Vec<Scripted>) -> (Arc<Fake>, String) {
    let fake = Arc::new(Fake {
        script: Mutex::new(script.into()),
        received: Mutex::default(),
    });
    let app = Router::new()
        .route("/v1/chat/completions", post(chat_completions))
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (fake, format!("http://{addr}/v1"))
}

fn config(base_url: &str) -> OpenAiConfig {
    OpenAiConfig {
        base_url: base_url.to_string(),
        api_key: None,
        model: "fake-model".into(),
        timeout: Duration::from_millis(300),
        max_retries: 2,
        max_backoff: Duration::from_millis(1500),
    }
}

fn client(config: OpenAiConfig) -> OpenAiCompatible {
    OpenAiCompatible::new(config, Arc::new(Unlimited)).unwrap()
}

fn problem() -> ProblemForPrompt {
    ProblemForPrompt {
        topic_code: "T-SUB-BORROW".into(),
        topic_name: "Subtraction with borrowing".into(),
        family: "ARITH_SUB".into(),
        problem: None,
        operands: Some(("53".into(), "26".into())),
        expected_answer: "27".into(),
        student_answer: "33".into(),
        steps: vec!["53 - 26".into(), "6 - 3 = 3".into(), "5 - 2 = 3".into()],
    }
}

fn tags() -> Vec<TagChoice> {
    vec![
        TagChoice {
            code: "SUB_SMALLER_FROM_LARGER".into(),
            name_en: "Smaller from larger".into(),
            description: "Subtracts the smaller digit from the larger in each column".into(),
        },
        TagChoice {
            code: "SUB_BORROW_NO_DECREMENT".into(),
            name_en: "Borrow without decrement".into(),
            description: "Borrows but does not decrease the next column".into(),
        },
    ]
}

#[tokio::test]
async fn a_valid_answer_and_the_request_sent() {
    let (fake, url) = fake(vec![Scripted::answer(
        "SUB_SMALLER_FROM_LARGER",
        0.9,
        "Took 3 - 6 as 6 - 3.",
    )])
    .await;
    let model = client(OpenAiConfig {
        api_key: Some("sk-test-123".into()),
        ..config(&url)
    });

    let verdict = classify(&model, &problem(), &tags(), 2).await;

    assert_eq!(verdict.tag.as_deref(), Some("SUB_SMALLER_FROM_LARGER"));
    assert_eq!(verdict.confidence, 0.9);
    assert_eq!(verdict.rationale, "Took 3 - 6 as 6 - 3.");
    assert_eq!(verdict.model, "fake-model-2025", "the model the provider names");
    assert_eq!(verdict.prompt_version, PROMPT_VERSION);
    assert_eq!((verdict.calls, verdict.tokens), (1, 150));
    assert_eq!((verdict.reason.as_deref(), verdict.retry_later), (None, false));
    let json = serde_json::to_value(&verdict).unwrap();
    assert_eq!(json["promptVersion"], "classify-v1");
    assert_eq!(json["retryLater"], false);

    assert_eq!(fake.count(), 1);
    let received = fake.received();
    let request = &received[0];
    assert_eq!(request.authorization.as_deref(), Some("Bearer sk-test-123"));
    let body = &request.body;
    assert_eq!(body["model"], "fake-model");
    assert_eq!(body["temperature"], 0);
    assert_eq!(body["max_tokens"], 400);
    let format = &body["response_format"];
    assert_eq!(format["type"], "json_schema");
    assert_eq!(format["json_schema"]["name"], "error_tag_verdict");
    assert_eq!(format["json_schema"]["strict"], true);
    let schema = &format["json_schema"]["schema"];
    assert_eq!(
        schema["properties"]["errorTagCode"]["enum"],
        json!(["SUB_SMALLER_FROM_LARGER", "SUB_BORROW_NO_DECREMENT", "UNCLASSIFIED"])
    );
    assert_eq!(schema["required"], json!(["errorTagCode", "confidence", "rationale"]));
    assert_eq!(schema["additionalProperties"], false);
    assert_eq!(schema["properties"]["confidence"]["maximum"], 1);

    let messages = body["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0]["role"], "system");
    assert!(messages[0]["content"].as_str().unwrap().contains("UNCLASSIFIED"));
    assert_eq!(messages[1]["role"], "user");
    let user = messages[1]["content"].as_str().unwrap();
    for expected in [
        "T-SUB-BORROW",
        "Subtraction with borrowing",
        "\"53\" and \"26\"",
        "Correct answer: \"27\"",
        "Student's answer: \"33\"",
        "1. \"53 - 26\"",
        "2. \"6 - 3 = 3\"",
        "3. \"5 - 2 = 3\"",
        "- SUB_BORROW_NO_DECREMENT: Borrow without decrement. Borrows but does not decrease the next column",
    ] {
        assert!(user.contains(expected), "{expected:?} missing from the prompt:\n{user}");
    }
}

#[tokio::test]
async fn no_authorization_without_an_api_key() {
    let (fake, url) = fake(vec![Scripted::answer("UNCLASSIFIED", 0.2, "No tag fits.")]).await;
    let verdict = classify(&client(config(&url)), &problem(), &tags(), 2).await;
    assert_eq!(verdict.tag, None);
    assert_eq!(verdict.confidence, 0.2);
    assert!(!verdict.retry_later);
    assert!(verdict.reason.unwrap().contains("no fitting"));
    assert_eq!(fake.received()[0].authorization, None);
}

#[tokio::test]
async fn invalid_json_is_asked_again() {
    let (fake, url) = fake(vec![
        Scripted::content("Sure! The answer is SUB_SMALLER_FROM_LARGER"),
        Scripted::answer("SUB_BORROW_NO_DECREMENT", 0.7, "Borrowed, no decrement."),
    ])
    .await;

    let verdict = classify(&client(config(&url)), &problem(), &tags(), 2).await;

    assert_eq!(verdict.tag.as_deref(), Some("SUB_BORROW_NO_DECREMENT"));
    assert_eq!(verdict.calls, 2);
    assert_eq!(fake.count(), 2);
    // The second call carries the conversation: the question, the invalid answer, the correction.
    let first = fake.body(0);
    let second = fake.body(1);
    let messages = second["messages"].as_array().unwrap();
    let roles: Vec<&str> = messages.iter().map(|m| m["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["system", "user", "assistant", "user"]);
    assert_eq!(messages[1]["content"], first["messages"][1]["content"]);
    assert_eq!(messages[2]["content"], "Sure! The answer is SUB_SMALLER_FROM_LARGER");
    let correction = messages[3]["content"].as_str().unwrap();
    assert!(correction.contains("not valid JSON"), "{correction}");
    assert!(correction.contains("SUB_BORROW_NO_DECREMENT"), "{correction}");
}

#[tokio::test]
async fn a_code_outside_the_catalog_every_time_is_unclassified() {
    let (fake, url) = fake(vec![Scripted::answer("SUB_MADE_UP", 0.95, "Invented.")]).await;

    let verdict = classify(&client(config(&url)), &problem(), &tags(), 2).await;

    assert_eq!(verdict.tag, None);
    assert_eq!(verdict.calls, 3, "one call and max_invalid = 2 more");
    assert_eq!(fake.count(), 3);
    assert_eq!(verdict.confidence, 0.0);
    assert_eq!(verdict.rationale, "");
    let reason = verdict.reason.unwrap();
    assert!(
        reason.contains("SUB_MADE_UP") && reason.contains("not one of the listed codes"),
        "{reason}"
    );
    assert!(!verdict.retry_later, "invalid answers are final");
}

#[tokio::test]
async fn out_of_range_confidence_and_missing_fields_are_invalid() {
    let (fake, url) = fake(vec![
        Scripted::content(r#"{"errorTagCode":"SUB_SMALLER_FROM_LARGER","confidence":"high","rationale":"x"}"#),
        Scripted::content(r#"{"errorTagCode":"SUB_SMALLER_FROM_LARGER","confidence":85,"rationale":"x"}"#),
        Scripted::content(r#"{"errorTagCode":"SUB_SMALLER_FROM_LARGER","confidence":0.85}"#),
    ])
    .await;
    let verdict = classify(&client(config(&url)), &problem(), &tags(), 2).await;
    assert_eq!((verdict.tag, verdict.calls), (None, 3));
    assert!(verdict.reason.unwrap().contains("rationale is missing"));
    let second = fake.body(1);
    let correction = second["messages"][3]["content"].as_str().unwrap();
    assert!(correction.contains("confidence is not a number"), "{correction}");
    let third = fake.body(2);
    assert!(
        third["messages"][5]["content"]
            .as_str()
            .unwrap()
            .contains("not between 0 and 1")
    );
}

#[tokio::test]
async fn rate_limited_waits_for_retry_after() {
    let (fake, url) = fake(vec![
        Scripted::status(429, r#"{"error":{"message":"slow down"}}"#).header("retry-after", "1"),
        Scripted::answer("SUB_SMALLER_FROM_LARGER", 0.8, "Swapped."),
    ])
    .await;

    let verdict = classify(&client(config(&url)), &problem(), &tags(), 2).await;

    assert_eq!(verdict.tag.as_deref(), Some("SUB_SMALLER_FROM_LARGER"));
    assert_eq!(verdict.calls, 1, "HTTP retries are the client's");
    assert_eq!(fake.count(), 2);
    let received = fake.received();
    let waited = received[1].at - received[0].at;
    assert!(waited >= Duration::from_millis(950), "waited {waited:?}");
    assert!(waited < Duration::from_millis(1400), "waited {waited:?}");
}

#[tokio::test]
async fn retry_after_is_capped_at_max_backoff() {
    let (fake, url) = fake(vec![
        Scripted::status(429, "{}").header("retry-after", "30"),
        Scripted::answer("SUB_SMALLER_FROM_LARGER", 0.8, "Swapped."),
    ])
    .await;
    let model = client(OpenAiConfig {
        max_backoff: Duration::from_millis(200),
        ..config(&url)
    });
    let started = Instant::now();
    let reply = model.complete_json(&request()).await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(reply.model, "fake-model-2025");
    assert_eq!(fake.count(), 2);
}

#[tokio::test]
async fn rate_limited_every_time_is_worth_retrying_later() {
    let (fake, url) = fake(vec![Scripted::status(429, "{}").header("retry-after", "0")]).await;
    let model = client(config(&url));
    let err = model.complete_json(&request()).await.unwrap_err();
    assert!(
        matches!(err, LlmError::RateLimited { retry_after: Some(d) } if d.is_zero()),
        "{err:?}"
    );
    assert!(err.retryable());
    assert_eq!(fake.count(), 3, "one call and max_retries = 2 more");

    let verdict = classify(&model, &problem(), &tags(), 2).await;
    assert_eq!((verdict.tag, verdict.calls, verdict.retry_later), (None, 1, true));
    assert!(verdict.reason.unwrap().contains("rate limited"));
}

#[tokio::test]
async fn a_server_error_is_retried() {
    let (fake, url) = fake(vec![
        Scripted::status(500, r#"{"error":"boom"}"#),
        Scripted::answer("SUB_SMALLER_FROM_LARGER", 0.6, "Swapped."),
    ])
    .await;
    let verdict = classify(&client(config(&url)), &problem(), &tags(), 2).await;
    assert_eq!(verdict.tag.as_deref(), Some("SUB_SMALLER_FROM_LARGER"));
    assert_eq!(verdict.calls, 1);
    assert_eq!(fake.count(), 2);
}

#[tokio::test]
async fn server_errors_every_time_end_in_a_status_error() {
    let long_body = "x".repeat(5000);
    let (fake, url) = fake(vec![Scripted::status(503, &long_body)]).await;
    let model = client(OpenAiConfig {
        max_retries: 1,
        ..config(&url)
    });
    match model.complete_json(&request()).await {
        Err(LlmError::Status { status: 503, body }) => assert!(body.len() <= 500, "body kept whole"),
        other => panic!("{other:?}"),
    }
    assert_eq!(fake.count(), 2);
}

#[tokio::test]
async fn a_client_error_is_not_retried() {
    let (fake, url) = fake(vec![Scripted::status(400, r#"{"error":{"message":"bad schema"}}"#)]).await;
    let verdict = classify(&client(config(&url)), &problem(), &tags(), 2).await;
    assert_eq!(fake.count(), 1);
    assert_eq!((verdict.tag, verdict.calls, verdict.retry_later), (None, 1, false));
    assert!(verdict.reason.unwrap().contains("HTTP 400"));
}

#[tokio::test]
async fn a_timeout_is_retried_then_left_for_later() {
    let (fake, url) = fake(vec![
        Scripted::answer("SUB_SMALLER_FROM_LARGER", 0.6, "Swapped.").delayed(Duration::from_secs(2)),
    ])
    .await;
    let model = client(OpenAiConfig {
        max_retries: 1,
        ..config(&url)
    });
    let started = Instant::now();

    let verdict = classify(&model, &problem(), &tags(), 2).await;

    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(600),
        "two calls of 300 ms: {elapsed:?}"
    );
    assert!(elapsed < Duration::from_millis(1800), "{elapsed:?}");
    assert_eq!(fake.count(), 2, "the timed-out call is retried once");
    assert_eq!(verdict.tag, None);
    assert_eq!(verdict.calls, 1);
    assert!(verdict.retry_later);
    assert!(verdict.reason.unwrap().contains("timed out"));
}

#[tokio::test]
async fn an_unreachable_provider_is_worth_retrying_later() {
    // A port that was just free: nothing listens there.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let model = client(OpenAiConfig {
        max_retries: 1,
        ..config(&format!("http://{addr}/v1"))
    });
    let verdict = classify(&model, &problem(), &tags(), 2).await;
    assert_eq!((verdict.tag, verdict.retry_later), (None, true));
    assert!(verdict.reason.unwrap().contains("unreachable"));
}

#[tokio::test]
async fn a_refusal_is_final() {
    let body = json!({
        "model": "fake-model-2025",
        "choices": [{"message": {"role": "assistant", "content": null, "refusal": "I can't help with that."}}],
    });
    let (fake, url) = fake(vec![Scripted::status(200, &body.to_string())]).await;
    let verdict = classify(&client(config(&url)), &problem(), &tags(), 2).await;
    assert_eq!(fake.count(), 1);
    assert_eq!((verdict.tag, verdict.calls, verdict.retry_later), (None, 1, false));
    assert!(verdict.reason.unwrap().contains("refused"));
}

#[tokio::test]
async fn missing_usage_is_estimated() {
    let content = json!({"errorTagCode": "SUB_SMALLER_FROM_LARGER", "confidence": 0.5, "rationale": "r"}).to_string();
    let (_fake, url) = fake(vec![Scripted::completion(&content, None)]).await;
    let reply = client(config(&url)).complete_json(&request()).await.unwrap();
    assert!(reply.prompt_tokens > 0, "estimated from the prompt");
    assert_eq!(reply.completion_tokens, (content.len() as u64).div_ceil(4));
}

#[tokio::test]
async fn a_spent_daily_budget_stops_calls() {
    // Each call reports 1000 + 500 tokens; a call's estimate (prompt / 4 + 400) is well under
    // 1000, so with 2000 a day the first call fits and the second does not.
    let (fake, url) = fake(vec![Scripted::completion(
        &json!({"errorTagCode": "SUB_SMALLER_FROM_LARGER", "confidence": 0.5, "rationale": "r"}).to_string(),
        Some((1000, 500)),
    )])
    .await;
    let day = Arc::new(Mutex::new(date!(2025 - 03 - 01)));
    let clock = day.clone();
    let budget = Arc::new(DailyBudget::with_clock(Some(2000), move || *clock.lock().unwrap()));
    let model = OpenAiCompatible::new(config(&url), budget.clone()).unwrap();

    let first = classify(&model, &problem(), &tags(), 2).await;
    assert_eq!(first.tag.as_deref(), Some("SUB_SMALLER_FROM_LARGER"));
    assert_eq!(
        budget.spent_today(),
        1500,
        "the estimate replaced by the reported usage"
    );

    let second = classify(&model, &problem(), &tags(), 2).await;
    assert_eq!(fake.count(), 1, "no request once the budget is spent");
    assert_eq!(second.tag, None);
    assert!(second.retry_later, "the budget refills tomorrow");
    assert!(second.reason.unwrap().contains("budget"));
    // 1500 spent: a request that may take 600 more tokens does not fit either.
    let big = practica::llm::ChatRequest {
        max_tokens: 600,
        ..request()
    };
    assert!(matches!(model.complete_json(&big).await, Err(LlmError::BudgetSpent)));
    assert_eq!(fake.count(), 1);

    *day.lock().unwrap() = date!(2025 - 03 - 02);
    let tomorrow = classify(&model, &problem(), &tags(), 2).await;
    assert_eq!(tomorrow.tag.as_deref(), Some("SUB_SMALLER_FROM_LARGER"));
    assert_eq!(fake.count(), 2);
}

#[tokio::test]
async fn a_budget_too_small_for_one_call_makes_none() {
    let (fake, url) = fake(vec![Scripted::answer("SUB_SMALLER_FROM_LARGER", 0.5, "r")]).await;
    let budget: Arc<dyn Budget> = Arc::new(DailyBudget::new(Some(100)));
    let model = OpenAiCompatible::new(config(&url), budget).unwrap();
    let verdict = classify(&model, &problem(), &tags(), 2).await;
    assert_eq!(fake.count(), 0);
    assert_eq!((verdict.tag, verdict.retry_later), (None, true));
}

#[test]
fn the_prompt_holds_the_work_and_only_the_offered_tags() {
    let (system, user) = build_prompt(&problem(), &tags());
    assert!(system.contains("exactly one"));
    assert!(user.contains("Student's steps, in order:\n1. \"53 - 26\"\n2. \"6 - 3 = 3\"\n3. \"5 - 2 = 3\"\n"));
    let tag_lines: Vec<&str> = user.lines().filter(|l| l.starts_with("- ")).collect();
    assert_eq!(tag_lines.len(), 3, "{user}");
    assert!(tag_lines[2].starts_with("- UNCLASSIFIED:"));

    let no_steps = ProblemForPrompt {
        steps: Vec::new(),
        operands: None,
        ..problem()
    };
    let (_, user) = build_prompt(&no_steps, &tags());
    assert!(user.contains("Student's steps: none written"));
    assert!(!user.contains("Operands"));
}

#[test]
fn https_is_accepted_and_bad_urls_are_not() {
    // Building a client with TLS needs the crypto provider (installed by `new`); no call is made.
    assert!(OpenAiCompatible::new(config("https://api.openai.com/v1"), Arc::new(Unlimited)).is_ok());
    assert!(matches!(
        OpenAiCompatible::new(config("not a url"), Arc::new(Unlimited)),
        Err(LlmError::InvalidConfig(_))
    ));
    assert!(matches!(
        OpenAiCompatible::new(config("ftp://example.com/v1"), Arc::new(Unlimited)),
        Err(LlmError::InvalidConfig(_))
    ));
}

/// A bare request for the client tests.
fn request() -> practica::llm::ChatRequest {
    practica::llm::ChatRequest {
        system: "Answer in JSON.".into(),
        user: "Which tag?".into(),
        schema_name: "t".into(),
        schema: json!({"type": "object"}),
        max_tokens: 50,
        history: Vec::new(),
        images: Vec::new(),
    }
}
