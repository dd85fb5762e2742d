//! AI providers: the [`ChatModel`] abstraction the classifier (JSON answers) and the role-play
//! personas (streamed free text) talk to, a client for OpenAI-compatible chat completion APIs
//! (OpenAI, Ollama, vLLM, llama.cpp, …), a token [`Budget`] checked before every call, and a
//! [`Transcriber`] for OpenAI-compatible speech-to-text.
//!
//! Prompts carry student work: they are never logged above debug level, and even there only
//! their sizes are.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use futures::StreamExt;
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::{Date, OffsetDateTime};
use tokio::sync::mpsc::UnboundedSender;

/// Longest part of an error response body kept in [`LlmError::Status`].
const MAX_ERROR_BODY_CHARS: usize = 500;
/// First delay of the exponential backoff (doubled per retry, capped at `max_backoff`).
const BASE_BACKOFF: Duration = Duration::from_millis(250);

/// Who said a message of a conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChatRole {
    System,
    User,
    Assistant,
}

/// One message of a conversation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub role: ChatRole,
    pub content: String,
}

impl ChatMessage {
    pub fn user(content: impl Into<String>) -> ChatMessage {
        ChatMessage {
            role: ChatRole::User,
            content: content.into(),
        }
    }

    pub fn assistant(content: impl Into<String>) -> ChatMessage {
        ChatMessage {
            role: ChatRole::Assistant,
            content: content.into(),
        }
    }
}

/// A request for a JSON answer following `schema`. The conversation sent is `system`, then
/// `history` (earlier turns, e.g. a first question and the model's invalid answer), then `user`.
#[derive(Clone, Debug)]
pub struct ChatRequest {
    pub system: String,
    pub user: String,
    /// The schema's name (`[a-zA-Z0-9_-]{1,64}` for OpenAI).
    pub schema_name: String,
    pub schema: Value,
    /// Most tokens the reply may have.
    pub max_tokens: u32,
    pub history: Vec<ChatMessage>,
    /// Images sent with the user's message (`data:` URLs), for vision models.
    pub images: Vec<String>,
}

/// What one image is taken to cost in tokens when a request is estimated (OpenAI bills a
/// high-detail photo at a few hundred to about a thousand tokens).
const IMAGE_TOKENS: u64 = 1_000;

impl ChatRequest {
    /// The request's size in tokens, estimated (4 bytes a token): the prompt plus the most the
    /// reply may take. What a [`Budget`] is asked for before a call.
    pub fn estimated_tokens(&self) -> u64 {
        self.prompt_estimate() + u64::from(self.max_tokens)
    }

    fn prompt_estimate(&self) -> u64 {
        let bytes = self.system.len()
            + self.user.len()
            + self.history.iter().map(|m| m.content.len()).sum::<usize>()
            + self.schema.to_string().len();
        estimate_tokens(bytes) + IMAGE_TOKENS * self.images.len() as u64
    }
}

/// A free-text reply (an AI persona's line), streamed.
#[derive(Clone, Debug)]
pub struct TextRequest {
    pub system: String,
    /// The conversation so far, oldest first (user = learner, assistant = persona).
    pub history: Vec<ChatMessage>,
    pub max_tokens: u32,
    pub temperature: f32,
}

impl TextRequest {
    /// The request's size in tokens, estimated as for [`ChatRequest::estimated_tokens`].
    pub fn estimated_tokens(&self) -> u64 {
        self.prompt_estimate() + u64::from(self.max_tokens)
    }

    fn prompt_estimate(&self) -> u64 {
        estimate_tokens(self.system.len() + self.history.iter().map(|m| m.content.len()).sum::<usize>())
    }
}

/// A model's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChatReply {
    /// The message content (the JSON text, not yet validated).
    pub content: String,
    /// The model that answered, as the provider names it.
    pub model: String,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    #[error("the AI token budget is spent")]
    BudgetSpent,
    #[error("the AI provider did not answer in time")]
    Timeout,
    #[error("the AI provider is rate limiting{}", retry_after_note(*.retry_after))]
    RateLimited { retry_after: Option<Duration> },
    #[error("the AI provider answered HTTP {status}: {body}")]
    Status { status: u16, body: String },
    #[error("could not reach the AI provider: {0}")]
    Transport(String),
    #[error("the AI provider's reply is unusable: {0}")]
    Malformed(String),
    /// A 2xx whose body is no chat completion at all (not JSON, an HTML page, no choices): the
    /// provider or a proxy before it is broken, not the model's answer, so worth retrying.
    #[error("the AI provider's reply is not a chat completion: {0}")]
    NotACompletion(String),
    #[error("invalid AI provider configuration: {0}")]
    InvalidConfig(String),
}

impl LlmError {
    /// Whether the same request may succeed later: timeouts, rate limiting, server errors,
    /// transport errors, a reply that is no chat completion, and a spent budget (it refills the
    /// next day). A client error, the model's unusable reply (a refusal, no content) or a bad
    /// configuration will not.
    pub fn retryable(&self) -> bool {
        match self {
            LlmError::BudgetSpent
            | LlmError::Timeout
            | LlmError::RateLimited { .. }
            | LlmError::Transport(_)
            | LlmError::NotACompletion(_) => true,
            LlmError::Status { status, .. } => retryable_status(*status),
            LlmError::Malformed(_) | LlmError::InvalidConfig(_) => false,
        }
    }
}

fn retry_after_note(retry_after: Option<Duration>) -> String {
    retry_after
        .map(|d| format!(" (retry after {} s)", d.as_secs()))
        .unwrap_or_default()
}

fn retryable_status(status: u16) -> bool {
    status == 408 || status == 429 || status >= 500
}

/// A chat model answering in JSON.
#[async_trait]
pub trait ChatModel: Send + Sync {
    /// The configured model name.
    fn model(&self) -> &str;
    /// Asks for a JSON answer following `request.schema`. The reply's content is the model's
    /// text: a provider may ignore the schema, so the caller validates it.
    async fn complete_json(&self, request: &ChatRequest) -> Result<ChatReply, LlmError>;

    /// Streams a free-text reply: each piece of text goes to `deltas` as it arrives; the whole
    /// reply is returned at the end. Cancelling = dropping the future (the HTTP stream is dropped
    /// with it); the caller keeps what `deltas` delivered.
    ///
    /// By default a model cannot stream: [`LlmError::InvalidConfig`] (not a new variant, which
    /// would break exhaustive matches on [`LlmError`]), so configuring such a model for a
    /// persona fails clearly and is not retried.
    async fn stream_text(&self, request: &TextRequest, deltas: UnboundedSender<String>) -> Result<ChatReply, LlmError> {
        let _ = (request, deltas);
        Err(LlmError::InvalidConfig(format!(
            "the AI model {} does not support streamed replies",
            self.model()
        )))
    }
}

/// A limit on the tokens spent. Asked before each call with an estimate (refusing makes the
/// call fail with [`LlmError::BudgetSpent`], nothing sent), told afterwards what was used.
#[async_trait]
pub trait Budget: Send + Sync {
    /// Reserves `estimated_tokens`; false when they are not available.
    async fn try_spend(&self, estimated_tokens: u64) -> bool;
    /// Replaces a reservation of `estimated_tokens` by what the call used.
    async fn record(&self, estimated_tokens: u64, actual_tokens: u64);
}

/// No limit.
pub struct Unlimited;

#[async_trait]
impl Budget for Unlimited {
    async fn try_spend(&self, _estimated_tokens: u64) -> bool {
        true
    }

    async fn record(&self, _estimated_tokens: u64, _actual_tokens: u64) {}
}

/// An in-memory budget of tokens per UTC day (reset when the process restarts). A call is
/// allowed when its estimate fits in what is left; its estimate is reserved until it is
/// replaced by the tokens the call used.
pub struct DailyBudget {
    limit: Option<u64>,
    clock: Box<dyn Fn() -> Date + Send + Sync>,
    state: Mutex<DayTally>,
}

struct DayTally {
    day: Date,
    spent: u64,
}

impl DailyBudget {
    /// `limit` tokens a UTC day; None for no limit (tokens are still counted).
    pub fn new(limit: Option<u64>) -> DailyBudget {
        DailyBudget::with_clock(limit, || OffsetDateTime::now_utc().date())
    }

    /// As [`DailyBudget::new`], with the day given by `clock` (for tests).
    pub fn with_clock(limit: Option<u64>, clock: impl Fn() -> Date + Send + Sync + 'static) -> DailyBudget {
        let day = clock();
        DailyBudget {
            limit,
            clock: Box::new(clock),
            state: Mutex::new(DayTally { day, spent: 0 }),
        }
    }

    pub fn limit(&self) -> Option<u64> {
        self.limit
    }

    /// Tokens spent (and reserved) today.
    pub fn spent_today(&self) -> u64 {
        let today = (self.clock)();
        self.tally(today, |t| t.spent)
    }

    fn tally<T>(&self, today: Date, f: impl FnOnce(&mut DayTally) -> T) -> T {
        let mut tally = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if tally.day != today {
            *tally = DayTally { day: today, spent: 0 };
        }
        f(&mut tally)
    }

    fn try_spend_on(&self, today: Date, estimated_tokens: u64) -> bool {
        self.tally(today, |t| match self.limit {
            Some(limit) if t.spent.saturating_add(estimated_tokens) > limit => false,
            _ => {
                t.spent = t.spent.saturating_add(estimated_tokens);
                true
            }
        })
    }

    fn record_on(&self, today: Date, estimated_tokens: u64, actual_tokens: u64) {
        // A reservation made before midnight is gone with yesterday's tally: the subtraction
        // saturates and the call counts (whole) on the new day.
        self.tally(today, |t| {
            t.spent = t.spent.saturating_sub(estimated_tokens).saturating_add(actual_tokens);
        });
    }
}

#[async_trait]
impl Budget for DailyBudget {
    async fn try_spend(&self, estimated_tokens: u64) -> bool {
        self.try_spend_on((self.clock)(), estimated_tokens)
    }

    async fn record(&self, estimated_tokens: u64, actual_tokens: u64) {
        self.record_on((self.clock)(), estimated_tokens, actual_tokens);
    }
}

/// How to reach an OpenAI-compatible chat completions API.
#[derive(Clone)]
pub struct OpenAiConfig {
    /// The API root, `/chat/completions` is appended: `http://127.0.0.1:11434/v1`,
    /// `https://api.openai.com/v1`.
    pub base_url: String,
    /// Sent as a Bearer token when set.
    pub api_key: Option<String>,
    pub model: String,
    /// Longest wait for one HTTP call (the whole response). For a streamed reply, the longest
    /// wait for the response to start and then between two of its chunks: a long reply may
    /// take longer in all.
    pub timeout: Duration,
    /// Retries after a 408, 429, 5xx, timeout or transport error (0: one call only).
    pub max_retries: u32,
    /// Longest wait between two calls, `Retry-After` included.
    pub max_backoff: Duration,
}

impl std::fmt::Debug for OpenAiConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiConfig")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("model", &self.model)
            .field("timeout", &self.timeout)
            .field("max_retries", &self.max_retries)
            .field("max_backoff", &self.max_backoff)
            .finish()
    }
}

/// A [`ChatModel`] over an OpenAI-compatible `POST /chat/completions`: JSON answers with
/// structured output (`response_format: json_schema`, strict) at temperature 0, and free text
/// streamed as Server-Sent Events.
pub struct OpenAiCompatible {
    config: OpenAiConfig,
    url: String,
    http: reqwest::Client,
    budget: Arc<dyn Budget>,
}

/// What one HTTP call gave.
enum Attempt {
    Done(ChatReply),
    /// Worth another call, after the given wait if the server named one.
    Retry(LlmError, Option<Duration>),
    Fail(LlmError),
}

impl OpenAiCompatible {
    pub fn new(config: OpenAiConfig, budget: Arc<dyn Budget>) -> Result<Self, LlmError> {
        crate::install_tls_provider();
        let base = checked_base_url(&config.base_url)?;
        if config.model.trim().is_empty() {
            return Err(LlmError::InvalidConfig("no model name".into()));
        }
        if config.timeout.is_zero() {
            return Err(LlmError::InvalidConfig("a zero timeout".into()));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(config.timeout)
            .build()
            .map_err(|e| LlmError::InvalidConfig(format!("HTTP client: {e}")))?;
        Ok(OpenAiCompatible {
            url: format!("{base}/chat/completions"),
            config,
            http,
            budget,
        })
    }

    fn body(&self, request: &ChatRequest) -> Value {
        let mut messages = Vec::with_capacity(request.history.len() + 2);
        messages.push(json!({"role": "system", "content": request.system}));
        for m in &request.history {
            messages.push(json!({"role": m.role, "content": m.content}));
        }
        if request.images.is_empty() {
            messages.push(json!({"role": "user", "content": request.user}));
        } else {
            // The chat-completions form for images: content parts, the text first.
            let mut parts = vec![json!({"type": "text", "text": request.user})];
            parts.extend(
                request
                    .images
                    .iter()
                    .map(|url| json!({"type": "image_url", "image_url": {"url": url}})),
            );
            messages.push(json!({"role": "user", "content": parts}));
        }
        json!({
            "model": self.config.model,
            "messages": messages,
            "temperature": 0,
            "max_tokens": request.max_tokens,
            "response_format": {
                "type": "json_schema",
                "json_schema": {
                    "name": request.schema_name,
                    "strict": true,
                    "schema": request.schema,
                },
            },
        })
    }

    fn text_body(&self, request: &TextRequest) -> Result<Value, LlmError> {
        if !request.temperature.is_finite() || request.temperature < 0.0 {
            return Err(LlmError::InvalidConfig(format!(
                "temperature {} is not a number ≥ 0",
                request.temperature
            )));
        }
        let mut messages = Vec::with_capacity(request.history.len() + 1);
        messages.push(json!({"role": "system", "content": request.system}));
        for m in &request.history {
            messages.push(json!({"role": m.role, "content": m.content}));
        }
        // Through f32's shortest decimal form: widening 0.7f32 to f64 would send 0.699999988….
        let temperature: f64 = request.temperature.to_string().parse().unwrap_or(0.0);
        Ok(json!({
            "model": self.config.model,
            "messages": messages,
            "max_tokens": request.max_tokens,
            "temperature": temperature,
            "stream": true,
            // Without it OpenAI sends no token counts in a stream and the budget gets estimates.
            "stream_options": {"include_usage": true},
        }))
    }

    /// The wait before retry number `retry` (1-based): the server's `Retry-After` when given,
    /// else exponential backoff with jitter; never more than `max_backoff`.
    fn backoff(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        let wait = match retry_after {
            Some(d) => d,
            None => {
                let exp = BASE_BACKOFF.saturating_mul(1u32 << (retry.saturating_sub(1)).min(16));
                let capped = exp.min(self.config.max_backoff);
                // Between half and all of it.
                capped.mul_f64(rand::rng().random_range(0.5..=1.0))
            }
        };
        wait.min(self.config.max_backoff)
    }

    /// Makes calls until one is done, fails for good or `max_retries` retries are spent.
    async fn with_retries<F, Fut>(&self, mut call: F) -> Result<ChatReply, LlmError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Attempt>,
    {
        let mut retry = 0;
        loop {
            match call().await {
                Attempt::Done(reply) => {
                    tracing::debug!(
                        model = %reply.model,
                        prompt_tokens = reply.prompt_tokens,
                        completion_tokens = reply.completion_tokens,
                        "AI provider reply"
                    );
                    return Ok(reply);
                }
                Attempt::Fail(e) => return Err(e),
                Attempt::Retry(e, retry_after) => {
                    if retry >= self.config.max_retries {
                        tracing::warn!(
                            model = %self.config.model,
                            calls = retry + 1,
                            error = %loggable(&e),
                            "AI provider call failed"
                        );
                        return Err(e);
                    }
                    retry += 1;
                    let wait = self.backoff(retry, retry_after);
                    tracing::info!(
                        model = %self.config.model,
                        retry,
                        wait_ms = wait.as_millis() as u64,
                        error = %loggable(&e),
                        "AI provider call failed, retrying"
                    );
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    async fn call_once(&self, body: &Value, request: &ChatRequest) -> Attempt {
        let estimate = request.estimated_tokens();
        if !self.budget.try_spend(estimate).await {
            metrics::counter!("practica_llm_calls_total", "outcome" => "budget_spent").increment(1);
            return Attempt::Fail(LlmError::BudgetSpent);
        }
        let started = Instant::now();
        let (attempt, used) = self.send(body, request).await;
        metrics::histogram!("practica_llm_call_seconds").record(started.elapsed().as_secs_f64());
        self.budget.record(estimate, used).await;
        record_outcome(&attempt);
        attempt
    }

    /// One HTTP call; the tokens it is taken to have used.
    async fn send(&self, body: &Value, request: &ChatRequest) -> (Attempt, u64) {
        let mut builder = self.http.post(&self.url).timeout(self.config.timeout).json(body);
        if let Some(key) = &self.config.api_key {
            builder = builder.bearer_auth(key);
        }
        let response = match builder.send().await {
            Ok(r) => r,
            // The provider may have processed (and billed) a prompt it did not answer in time.
            Err(e) if e.is_timeout() => return (Attempt::Retry(LlmError::Timeout, None), request.prompt_estimate()),
            Err(e) if e.is_builder() => return (Attempt::Fail(LlmError::Transport(error_chain(&e))), 0),
            Err(e) => return (Attempt::Retry(LlmError::Transport(error_chain(&e)), None), 0),
        };
        let status = response.status().as_u16();
        let retry_after = retry_after(&response);
        let bytes = match response.bytes().await {
            Ok(b) => b,
            Err(e) if e.is_timeout() => return (Attempt::Retry(LlmError::Timeout, None), request.prompt_estimate()),
            Err(e) => return (Attempt::Retry(LlmError::Transport(error_chain(&e)), None), 0),
        };
        if !(200..300).contains(&status) {
            return (status_attempt(status, retry_after, &bytes), 0);
        }
        match parse_completion(&bytes, &self.config.model) {
            Ok(mut reply) => {
                if reply.prompt_tokens == 0 && reply.completion_tokens == 0 {
                    reply.prompt_tokens = request.prompt_estimate();
                    reply.completion_tokens = estimate_tokens(reply.content.len());
                }
                let used = reply.prompt_tokens + reply.completion_tokens;
                (Attempt::Done(reply), used)
            }
            Err(e) => (
                Attempt::Fail(e),
                request.prompt_estimate() + estimate_tokens(bytes.len()),
            ),
        }
    }

    /// One streamed call, metered like [`Self::call_once`]. Its reservation is settled even
    /// when this future is dropped (a cancelled reply still cost the tokens it streamed).
    async fn stream_once(&self, body: &Value, request: &TextRequest, deltas: &UnboundedSender<String>) -> Attempt {
        let estimate = request.estimated_tokens();
        if !self.budget.try_spend(estimate).await {
            metrics::counter!("practica_llm_calls_total", "outcome" => "budget_spent").increment(1);
            return Attempt::Fail(LlmError::BudgetSpent);
        }
        let mut reservation = Reservation {
            budget: self.budget.clone(),
            estimate,
            used: 0,
            settled: false,
        };
        let started = Instant::now();
        let attempt = self.stream_send(body, request, deltas, &mut reservation).await;
        metrics::histogram!("practica_llm_call_seconds").record(started.elapsed().as_secs_f64());
        reservation.settle().await;
        record_outcome(&attempt);
        attempt
    }

    /// One streamed HTTP call. `reservation.used` follows the tokens the call is taken to have
    /// used so far. A failure once text went to `deltas` is never a retry: a second call
    /// would deliver the reply's start again.
    async fn stream_send(
        &self,
        body: &Value,
        request: &TextRequest,
        deltas: &UnboundedSender<String>,
        reservation: &mut Reservation,
    ) -> Attempt {
        let timeout = self.config.timeout;
        let mut builder = self
            .http
            .post(&self.url)
            .header(reqwest::header::ACCEPT, "text/event-stream")
            .json(body);
        if let Some(key) = &self.config.api_key {
            builder = builder.bearer_auth(key);
        }
        // No reqwest timeout: it would bound the whole reply. The configured one bounds the
        // wait for the response head here, then the wait for each chunk below.
        let response = match tokio::time::timeout(timeout, builder.send()).await {
            Ok(Ok(r)) => r,
            Ok(Err(e)) if e.is_builder() => return Attempt::Fail(LlmError::Transport(error_chain(&e))),
            Ok(Err(e)) => return Attempt::Retry(LlmError::Transport(error_chain(&e)), None),
            Err(_) => {
                reservation.used = request.prompt_estimate();
                return Attempt::Retry(LlmError::Timeout, None);
            }
        };
        reservation.used = request.prompt_estimate();
        let status = response.status().as_u16();
        let is_json = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("application/json"));
        if !(200..300).contains(&status) || is_json {
            let retry_after = retry_after(&response);
            let bytes = match tokio::time::timeout(timeout, response.bytes()).await {
                Ok(Ok(b)) => b,
                Ok(Err(e)) => return Attempt::Retry(LlmError::Transport(error_chain(&e)), None),
                Err(_) => return Attempt::Retry(LlmError::Timeout, None),
            };
            if !(200..300).contains(&status) {
                reservation.used = 0;
                return status_attempt(status, retry_after, &bytes);
            }
            // A server that ignores `stream` answers one completion: the whole reply is then
            // its single delta.
            return match parse_completion(&bytes, &self.config.model) {
                Ok(mut reply) => {
                    if reply.prompt_tokens == 0 && reply.completion_tokens == 0 {
                        reply.prompt_tokens = request.prompt_estimate();
                        reply.completion_tokens = estimate_tokens(reply.content.len());
                    }
                    reservation.used = reply.prompt_tokens + reply.completion_tokens;
                    let _ = deltas.send(reply.content.clone());
                    Attempt::Done(reply)
                }
                Err(e) => {
                    reservation.used += estimate_tokens(bytes.len());
                    Attempt::Fail(e)
                }
            };
        }

        let mut stream = std::pin::pin!(response.bytes_stream());
        let mut parser = SseParser::default();
        let mut reply = StreamedReply::default();
        let mut events = Vec::new();
        let failed = |reply: &StreamedReply, e: LlmError| {
            if reply.delivered || !e.retryable() {
                Attempt::Fail(e)
            } else {
                Attempt::Retry(e, None)
            }
        };
        while !reply.done {
            let chunk = match tokio::time::timeout(timeout, stream.next()).await {
                Ok(Some(Ok(chunk))) => chunk,
                Ok(Some(Err(e))) => return failed(&reply, LlmError::Transport(error_chain(&e))),
                Ok(None) => {
                    // Some servers close without `[DONE]`; what came is the reply.
                    parser.finish(&mut events);
                    if let Err(e) = reply.apply_all(&mut events, deltas) {
                        return Attempt::Fail(e);
                    }
                    break;
                }
                Err(_) => return failed(&reply, LlmError::Timeout),
            };
            if let Err(e) = parser.feed(&chunk, &mut events) {
                return Attempt::Fail(e);
            }
            let applied = reply.apply_all(&mut events, deltas);
            reservation.used = request.prompt_estimate() + estimate_tokens(reply.content.len());
            if let Err(e) = applied {
                return Attempt::Fail(e);
            }
        }
        // `[DONE]` seen (or the body ended): the stream is dropped, nothing more is read.
        match reply.finish(&self.config.model, request) {
            Ok(reply) => {
                reservation.used = reply.prompt_tokens + reply.completion_tokens;
                Attempt::Done(reply)
            }
            Err(e) => Attempt::Fail(e),
        }
    }
}

#[async_trait]
impl ChatModel for OpenAiCompatible {
    fn model(&self) -> &str {
        &self.config.model
    }

    async fn complete_json(&self, request: &ChatRequest) -> Result<ChatReply, LlmError> {
        let body = self.body(request);
        tracing::debug!(
            model = %self.config.model,
            system_bytes = request.system.len(),
            user_bytes = request.user.len(),
            history = request.history.len(),
            "AI provider request"
        );
        self.with_retries(|| self.call_once(&body, request)).await
    }

    async fn stream_text(&self, request: &TextRequest, deltas: UnboundedSender<String>) -> Result<ChatReply, LlmError> {
        let body = self.text_body(request)?;
        tracing::debug!(
            model = %self.config.model,
            system_bytes = request.system.len(),
            history = request.history.len(),
            "AI provider streamed request"
        );
        self.with_retries(|| self.stream_once(&body, request, &deltas)).await
    }
}

/// Counts a call by how it ended, and the tokens of a done one.
fn record_outcome(attempt: &Attempt) {
    let outcome = match attempt {
        Attempt::Done(_) => "ok",
        Attempt::Retry(e, _) | Attempt::Fail(e) => match e {
            LlmError::Timeout => "timeout",
            LlmError::RateLimited { .. } => "rate_limited",
            LlmError::Status { status, .. } if *status >= 500 => "server_error",
            LlmError::Status { .. } => "client_error",
            LlmError::Transport(_) => "transport",
            LlmError::Malformed(_) => "malformed",
            LlmError::NotACompletion(_) => "not_a_completion",
            LlmError::BudgetSpent => "budget_spent",
            LlmError::InvalidConfig(_) => "invalid_config",
        },
    };
    metrics::counter!("practica_llm_calls_total", "outcome" => outcome).increment(1);
    if let Attempt::Done(reply) = attempt {
        metrics::counter!("practica_llm_tokens_total", "kind" => "prompt").increment(reply.prompt_tokens);
        metrics::counter!("practica_llm_tokens_total", "kind" => "completion").increment(reply.completion_tokens);
    }
}

/// A response's `Retry-After`, when it has a usable one.
fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, OffsetDateTime::now_utc()))
}

/// What a non-2xx answer means: a 429 is rate limiting, 408 and 5xx are worth a retry.
fn status_attempt(status: u16, retry_after: Option<Duration>, body: &[u8]) -> Attempt {
    if status == 429 {
        return Attempt::Retry(LlmError::RateLimited { retry_after }, retry_after);
    }
    let error = status_error(status, body);
    if retryable_status(status) {
        Attempt::Retry(error, retry_after)
    } else {
        Attempt::Fail(error)
    }
}

fn status_error(status: u16, body: &[u8]) -> LlmError {
    LlmError::Status {
        status,
        body: truncate_chars(&String::from_utf8_lossy(body), MAX_ERROR_BODY_CHARS).to_string(),
    }
}

/// `base_url` without trailing slashes, once it is known to be an http(s) URL.
fn checked_base_url(base_url: &str) -> Result<String, LlmError> {
    let base = base_url.trim_end_matches('/');
    let parsed = reqwest::Url::parse(base).map_err(|e| LlmError::InvalidConfig(format!("base URL {base:?}: {e}")))?;
    match parsed.scheme() {
        "http" | "https" => Ok(base.to_string()),
        other => Err(LlmError::InvalidConfig(format!(
            "base URL {base:?}: unsupported scheme {other}"
        ))),
    }
}

/// Tokens reserved with the budget for one call. Settled with what the call used; when the
/// call's future is dropped first (the learner interrupted the persona), settled from `Drop`,
/// on a task, with what had streamed by then, so a cancelled reply is not left counted at its
/// full estimate.
struct Reservation {
    budget: Arc<dyn Budget>,
    estimate: u64,
    used: u64,
    settled: bool,
}

impl Reservation {
    async fn settle(mut self) {
        self.settled = true;
        self.budget.record(self.estimate, self.used).await;
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        metrics::counter!("practica_llm_calls_total", "outcome" => "cancelled").increment(1);
        let (budget, estimate, used) = (self.budget.clone(), self.estimate, self.used);
        // Outside a runtime (a future dropped by a test harness), there is nowhere to settle;
        // the reservation then stays counted, which errs on the side of the limit.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move { budget.record(estimate, used).await });
        }
    }
}

/// Longest Server-Sent Events line or event kept while it is incomplete: a persona's reply
/// chunk is a few bytes, so more means the server is not sending what we expect.
const MAX_SSE_EVENT_BYTES: usize = 1 << 20;

/// An incremental Server-Sent Events parser: bytes in, as the network splits them, the `data`
/// of each complete event out. Lines end with LF, CRLF or CR (a CRLF split between two chunks
/// included); comments (`:`…) and fields other than `data` are skipped.
#[derive(Default)]
struct SseParser {
    /// The current line, not yet ended.
    line: Vec<u8>,
    /// The current event's data lines, joined by LF.
    data: Vec<u8>,
    has_data: bool,
    /// The last byte was a CR: a LF right after it ends no second line.
    after_cr: bool,
}

impl SseParser {
    fn feed(&mut self, bytes: &[u8], events: &mut Vec<String>) -> Result<(), LlmError> {
        for &b in bytes {
            if std::mem::take(&mut self.after_cr) && b == b'\n' {
                continue;
            }
            match b {
                b'\r' => {
                    self.after_cr = true;
                    self.end_line(events)?;
                }
                b'\n' => self.end_line(events)?,
                _ => {
                    self.line.push(b);
                    if self.line.len() + self.data.len() > MAX_SSE_EVENT_BYTES {
                        return Err(LlmError::Malformed(format!(
                            "a streamed event longer than {MAX_SSE_EVENT_BYTES} bytes"
                        )));
                    }
                }
            }
        }
        Ok(())
    }

    /// The body ended: an event not followed by a blank line still counts (lenient servers).
    fn finish(&mut self, events: &mut Vec<String>) {
        if !self.line.is_empty() {
            // An over-long or non-UTF-8 tail is dropped: the body is over either way.
            let _ = self.end_line(events);
        }
        let _ = self.end_line(events);
    }

    fn end_line(&mut self, events: &mut Vec<String>) -> Result<(), LlmError> {
        let line = std::mem::take(&mut self.line);
        if line.is_empty() {
            if std::mem::take(&mut self.has_data) {
                let data = std::mem::take(&mut self.data);
                let data =
                    String::from_utf8(data).map_err(|_| LlmError::Malformed("a streamed event is not UTF-8".into()))?;
                events.push(data);
            }
            return Ok(());
        }
        if line[0] == b':' {
            return Ok(());
        }
        let (field, value) = match line.iter().position(|&c| c == b':') {
            Some(i) => {
                let value = &line[i + 1..];
                (&line[..i], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (&line[..], &[][..]),
        };
        // `event`, `id` and `retry` mean nothing to a chat completion stream.
        if field == b"data" {
            if self.has_data {
                self.data.push(b'\n');
            }
            self.data.extend_from_slice(value);
            self.has_data = true;
        }
        Ok(())
    }
}

/// A streamed reply as its chunks arrive.
#[derive(Default)]
struct StreamedReply {
    content: String,
    model: Option<String>,
    usage: Option<Usage>,
    finish_reason: Option<String>,
    /// `[DONE]` came.
    done: bool,
    /// Some text went to the caller.
    delivered: bool,
}

impl StreamedReply {
    /// Applies (and drains) the events parsed so far; those after `[DONE]` are ignored.
    fn apply_all(&mut self, events: &mut Vec<String>, deltas: &UnboundedSender<String>) -> Result<(), LlmError> {
        for data in events.drain(..) {
            if self.done {
                continue;
            }
            self.apply(&data, deltas)?;
        }
        Ok(())
    }

    fn apply(&mut self, data: &str, deltas: &UnboundedSender<String>) -> Result<(), LlmError> {
        if data.trim() == "[DONE]" {
            self.done = true;
            return Ok(());
        }
        let chunk: StreamChunk =
            serde_json::from_str(data).map_err(|e| LlmError::Malformed(format!("not a chat completion chunk: {e}")))?;
        if let Some(error) = chunk.error {
            // OpenAI-compatible servers report a failure mid-stream as an `error` event.
            let message = error
                .get("message")
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| error.to_string());
            return Err(LlmError::Malformed(format!(
                "the stream reported an error: {}",
                truncate_chars(&message, MAX_ERROR_BODY_CHARS)
            )));
        }
        if let Some(model) = chunk.model.filter(|m| !m.is_empty()) {
            self.model = Some(model);
        }
        if let Some(usage) = chunk.usage {
            self.usage = Some(usage);
        }
        if let Some(choice) = chunk.choices.into_iter().next() {
            if let Some(delta) = choice.delta {
                if let Some(refusal) = delta.refusal.filter(|r| !r.trim().is_empty()) {
                    return Err(LlmError::Malformed(format!(
                        "the model refused: {}",
                        truncate_chars(&refusal, MAX_ERROR_BODY_CHARS)
                    )));
                }
                if let Some(text) = delta.content.filter(|t| !t.is_empty()) {
                    self.content.push_str(&text);
                    self.delivered = true;
                    // A caller that stopped listening still gets the whole reply returned.
                    let _ = deltas.send(text);
                }
            }
            if let Some(reason) = choice.finish_reason {
                self.finish_reason = Some(reason);
            }
        }
        Ok(())
    }

    fn finish(self, configured_model: &str, request: &TextRequest) -> Result<ChatReply, LlmError> {
        if self.content.trim().is_empty() {
            return Err(LlmError::Malformed(format!(
                "no content (finish reason {})",
                self.finish_reason.as_deref().unwrap_or("unknown")
            )));
        }
        let (prompt_tokens, completion_tokens) = match self.usage {
            Some(u) if u.prompt_tokens > 0 || u.completion_tokens > 0 => (u.prompt_tokens, u.completion_tokens),
            _ => (request.prompt_estimate(), estimate_tokens(self.content.len())),
        };
        Ok(ChatReply {
            content: self.content,
            model: self.model.unwrap_or_else(|| configured_model.to_string()),
            prompt_tokens,
            completion_tokens,
        })
    }
}

#[derive(Deserialize)]
struct StreamChunk {
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    choices: Vec<StreamChoice>,
    #[serde(default)]
    usage: Option<Usage>,
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Deserialize)]
struct StreamChoice {
    #[serde(default)]
    delta: Option<Delta>,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct Delta {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    refusal: Option<String>,
}

/// A client for an OpenAI-compatible `POST /audio/transcriptions` (OpenAI's Whisper API,
/// faster-whisper-server, LocalAI, whisper.cpp's server…): audio in, its text out.
///
/// One call, no retries: the audio is the learner's turn, the caller knows whether it is worth
/// sending again ([`LlmError::retryable`] says whether it might succeed).
#[derive(Clone)]
pub struct Transcriber {
    http: reqwest::Client,
    url: String,
    api_key: Option<String>,
    model: String,
    timeout: Duration,
}

impl std::fmt::Debug for Transcriber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transcriber")
            .field("url", &self.url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("model", &self.model)
            .field("timeout", &self.timeout)
            .finish()
    }
}

#[derive(Deserialize)]
struct Transcription {
    text: String,
}

impl Transcriber {
    /// `base_url` is the API root (`/audio/transcriptions` is appended); `timeout` bounds a
    /// whole call, the audio's upload included.
    pub fn new(base_url: String, api_key: Option<String>, model: String, timeout: Duration) -> Result<Self, LlmError> {
        crate::install_tls_provider();
        let base = checked_base_url(&base_url)?;
        if model.trim().is_empty() {
            return Err(LlmError::InvalidConfig("no transcription model name".into()));
        }
        if timeout.is_zero() {
            return Err(LlmError::InvalidConfig("a zero timeout".into()));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(timeout)
            .build()
            .map_err(|e| LlmError::InvalidConfig(format!("HTTP client: {e}")))?;
        Ok(Transcriber {
            http,
            url: format!("{base}/audio/transcriptions"),
            api_key,
            model,
            timeout,
        })
    }

    pub fn model(&self) -> &str {
        &self.model
    }

    /// The text spoken in `audio` (a file's bytes, e.g. `turn.webm`, `audio/webm`).
    pub async fn transcribe(&self, audio: Vec<u8>, file_name: &str, mime_type: &str) -> Result<String, LlmError> {
        let audio_bytes = audio.len();
        let file = reqwest::multipart::Part::bytes(audio)
            .file_name(file_name.to_string())
            .mime_str(mime_type)
            .map_err(|e| LlmError::InvalidConfig(format!("audio MIME type {mime_type:?}: {e}")))?;
        let form = reqwest::multipart::Form::new()
            .part("file", file)
            .text("model", self.model.clone())
            .text("response_format", "json");
        let mut builder = self.http.post(&self.url).timeout(self.timeout).multipart(form);
        if let Some(key) = &self.api_key {
            builder = builder.bearer_auth(key);
        }
        tracing::debug!(model = %self.model, audio_bytes, "transcription request");
        let started = Instant::now();
        let result = self.send(builder).await;
        metrics::histogram!("practica_transcription_seconds").record(started.elapsed().as_secs_f64());
        let outcome = match &result {
            Ok(_) => "ok",
            Err(LlmError::Timeout) => "timeout",
            Err(LlmError::RateLimited { .. }) => "rate_limited",
            Err(LlmError::Status { status, .. }) if *status >= 500 => "server_error",
            Err(LlmError::Status { .. }) => "client_error",
            Err(LlmError::Transport(_)) => "transport",
            Err(_) => "malformed",
        };
        metrics::counter!("practica_transcriptions_total", "outcome" => outcome).increment(1);
        if let Err(e) = &result {
            tracing::warn!(model = %self.model, error = %loggable(e), "transcription failed");
        }
        result
    }

    async fn send(&self, builder: reqwest::RequestBuilder) -> Result<String, LlmError> {
        let response = builder.send().await.map_err(|e| {
            if e.is_timeout() {
                LlmError::Timeout
            } else {
                LlmError::Transport(error_chain(&e))
            }
        })?;
        let status = response.status().as_u16();
        let retry_after = retry_after(&response);
        let bytes = response.bytes().await.map_err(|e| {
            if e.is_timeout() {
                LlmError::Timeout
            } else {
                LlmError::Transport(error_chain(&e))
            }
        })?;
        if status == 429 {
            return Err(LlmError::RateLimited { retry_after });
        }
        if !(200..300).contains(&status) {
            return Err(status_error(status, &bytes));
        }
        let transcription: Transcription =
            serde_json::from_slice(&bytes).map_err(|e| LlmError::Malformed(format!("not a transcription: {e}")))?;
        Ok(transcription.text)
    }
}

#[derive(Deserialize)]
struct Completion {
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    choices: Vec<Choice>,
    #[serde(default)]
    usage: Option<Usage>,
}

#[derive(Deserialize)]
struct Choice {
    message: Option<Message>,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct Message {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    refusal: Option<String>,
}

#[derive(Deserialize)]
struct Usage {
    #[serde(default)]
    prompt_tokens: u64,
    #[serde(default)]
    completion_tokens: u64,
}

/// A chat completion's first choice. Missing usage gives zero counts (estimated by the caller).
fn parse_completion(bytes: &[u8], configured_model: &str) -> Result<ChatReply, LlmError> {
    let completion: Completion = serde_json::from_slice(bytes)
        .map_err(|e| LlmError::NotACompletion(truncate_chars(&e.to_string(), 200).into()))?;
    let choice = completion
        .choices
        .into_iter()
        .next()
        .ok_or_else(|| LlmError::NotACompletion("no choices".into()))?;
    let message = choice
        .message
        .ok_or_else(|| LlmError::NotACompletion("no message".into()))?;
    if let Some(refusal) = message.refusal.filter(|r| !r.trim().is_empty()) {
        return Err(LlmError::Malformed(format!(
            "the model refused: {}",
            truncate_chars(&refusal, MAX_ERROR_BODY_CHARS)
        )));
    }
    let content = message.content.filter(|c| !c.trim().is_empty()).ok_or_else(|| {
        LlmError::Malformed(format!(
            "no content (finish reason {})",
            choice.finish_reason.as_deref().unwrap_or("unknown")
        ))
    })?;
    let usage = completion.usage.unwrap_or(Usage {
        prompt_tokens: 0,
        completion_tokens: 0,
    });
    Ok(ChatReply {
        content,
        model: completion
            .model
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| configured_model.to_string()),
        prompt_tokens: usage.prompt_tokens,
        completion_tokens: usage.completion_tokens,
    })
}

/// A `Retry-After` value: delta-seconds, or an HTTP date (IMF-fixdate, RFC 2822 style) taken
/// relative to `now` (a past date is no wait).
pub fn parse_retry_after(value: &str, now: OffsetDateTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(1e9)));
    }
    let at = OffsetDateTime::parse(value, &time::format_description::well_known::Rfc2822).ok()?;
    let delta = at - now;
    Some(if delta.is_negative() {
        Duration::ZERO
    } else {
        delta.try_into().unwrap_or(Duration::ZERO)
    })
}

fn estimate_tokens(bytes: usize) -> u64 {
    (bytes as u64).div_ceil(4)
}

/// At most `max` characters of `s`.
pub(crate) fn truncate_chars(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// An error for logs: without a status error's body, which could quote the request.
fn loggable(e: &LlmError) -> String {
    match e {
        LlmError::Status { status, .. } => format!("the AI provider answered HTTP {status}"),
        other => other.to_string(),
    }
}

/// An error with its sources (reqwest's own message is often just "error sending request").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut message = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = datetime!(2015-10-21 07:28:00 UTC);
        assert_eq!(parse_retry_after("1", now), Some(Duration::from_secs(1)));
        assert_eq!(parse_retry_after(" 120 ", now), Some(Duration::from_secs(120)));
        assert_eq!(parse_retry_after("0.5", now), Some(Duration::from_millis(500)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("-3", now), None);
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn daily_budget_reserves_and_resets_each_day() {
        let day = Arc::new(Mutex::new(date!(2025 - 03 - 01)));
        let clock = day.clone();
        let budget = DailyBudget::with_clock(Some(100), move || *clock.lock().unwrap());
        let today = *day.lock().unwrap();
        assert!(budget.try_spend_on(today, 60));
        assert!(
            !budget.try_spend_on(today, 60),
            "60 reserved, 60 more do not fit in 100"
        );
        budget.record_on(today, 60, 20);
        assert_eq!(budget.spent_today(), 20);
        assert!(budget.try_spend_on(today, 60));
        budget.record_on(today, 60, 90);
        assert_eq!(budget.spent_today(), 110);
        assert!(!budget.try_spend_on(today, 1));
        *day.lock().unwrap() = date!(2025 - 03 - 02);
        assert_eq!(budget.spent_today(), 0);
        assert!(budget.try_spend_on(date!(2025 - 03 - 02), 100));
    }

    #[test]
    fn unlimited_daily_budget_counts() {
        let budget = DailyBudget::new(None);
        let today = OffsetDateTime::now_utc().date();
        assert!(budget.try_spend_on(today, u64::MAX));
        assert!(budget.try_spend_on(today, 5));
    }

    #[test]
    fn completion_parsing() {
        let ok = br#"{"model":"m-1","choices":[{"message":{"role":"assistant","content":"{}"},"finish_reason":"stop"}],
            "usage":{"prompt_tokens":7,"completion_tokens":3}}"#;
        let reply = parse_completion(ok, "cfg").unwrap();
        assert_eq!((reply.content.as_str(), reply.model.as_str()), ("{}", "m-1"));
        assert_eq!((reply.prompt_tokens, reply.completion_tokens), (7, 3));
        let refusal = br#"{"choices":[{"message":{"content":null,"refusal":"no"}}]}"#;
        assert!(matches!(parse_completion(refusal, "cfg"), Err(LlmError::Malformed(m)) if m.contains("refused")));
        // Not the model's answer but a broken provider (or proxy): worth retrying later.
        for garbage in [&b"<html>"[..], br#"{"choices":[]}"#, br#"{"unexpected":true}"#] {
            let e = parse_completion(garbage, "cfg").unwrap_err();
            assert!(matches!(e, LlmError::NotACompletion(_)) && e.retryable(), "{e:?}");
        }
    }

    /// The events of `body` fed in pieces of `split` bytes (0: all at once).
    fn sse_events(body: &[u8], split: usize) -> Vec<String> {
        let mut parser = SseParser::default();
        let mut events = Vec::new();
        let pieces: Vec<&[u8]> = if split == 0 {
            vec![body]
        } else {
            body.chunks(split).collect()
        };
        for piece in pieces {
            parser.feed(piece, &mut events).unwrap();
        }
        parser.finish(&mut events);
        events
    }

    #[test]
    fn sse_events_whatever_the_network_splits() {
        let body = ": keep-alive\r\n\r\ndata: {\"a\":\"ñandú\"}\r\n\r\nevent: message\nid: 7\ndata:one\ndata: two\n\n\n\
                    data: cr\r\rdata: [DONE]\n\n";
        let expected = vec![
            r#"{"a":"ñandú"}"#.to_string(),
            "one\ntwo".into(),
            "cr".into(),
            "[DONE]".into(),
        ];
        for split in 0..=body.len() {
            assert_eq!(
                sse_events(body.as_bytes(), split),
                expected,
                "split every {split} bytes"
            );
        }
        // Every cut into two pieces, through each CRLF and each multi-byte character too.
        for cut in 1..body.len() {
            let mut parser = SseParser::default();
            let mut events = Vec::new();
            parser.feed(&body.as_bytes()[..cut], &mut events).unwrap();
            parser.feed(&body.as_bytes()[cut..], &mut events).unwrap();
            parser.finish(&mut events);
            assert_eq!(events, expected, "cut at {cut}");
        }
    }

    #[test]
    fn sse_last_event_without_blank_line_counts() {
        assert_eq!(sse_events(b"data: x\n\ndata: y", 0), vec!["x", "y"]);
        assert_eq!(sse_events(b"data: x\n\ndata: y\n", 3), vec!["x", "y"]);
        assert!(sse_events(b": only a comment\n\n", 0).is_empty());
    }

    #[test]
    fn sse_oversized_event_is_refused() {
        let mut parser = SseParser::default();
        let mut events = Vec::new();
        let big = vec![b'x'; MAX_SSE_EVENT_BYTES + 1];
        assert!(matches!(parser.feed(&big, &mut events), Err(LlmError::Malformed(_))));
    }

    #[test]
    fn streamed_chunks_make_a_reply() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let request = TextRequest {
            system: "You are Ana.".into(),
            history: vec![ChatMessage::user("Hola")],
            max_tokens: 50,
            temperature: 0.7,
        };
        let mut reply = StreamedReply::default();
        let mut events = vec![
            r#"{"model":"m-2","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}],"usage":null}"#.to_string(),
            r#"{"choices":[{"index":0,"delta":{"content":"Ho"},"finish_reason":null}]}"#.into(),
            r#"{"choices":[{"index":0,"delta":{"content":"la"},"finish_reason":null}]}"#.into(),
            r#"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#.into(),
            r#"{"choices":[],"usage":{"prompt_tokens":11,"completion_tokens":2}}"#.into(),
            "[DONE]".into(),
            r#"{"choices":[{"index":0,"delta":{"content":"ignored"}}]}"#.into(),
        ];
        reply.apply_all(&mut events, &tx).unwrap();
        assert!(reply.done && reply.delivered);
        let reply = reply.finish("cfg", &request).unwrap();
        assert_eq!(
            (
                reply.content.as_str(),
                reply.model.as_str(),
                reply.prompt_tokens,
                reply.completion_tokens
            ),
            ("Hola", "m-2", 11, 2)
        );
        assert_eq!(
            (rx.try_recv().unwrap(), rx.try_recv().unwrap()),
            ("Ho".into(), "la".into())
        );
        assert!(rx.try_recv().is_err(), "empty deltas are not sent");

        let mut failing = StreamedReply::default();
        let mut events = vec![r#"{"error":{"message":"overloaded"}}"#.to_string()];
        assert!(matches!(failing.apply_all(&mut events, &tx), Err(LlmError::Malformed(m)) if m.contains("overloaded")));
        let mut garbled = StreamedReply::default();
        assert!(matches!(
            garbled.apply_all(&mut vec!["{not json".into()], &tx),
            Err(LlmError::Malformed(_))
        ));
        // No usage: estimated from the sizes.
        let mut estimated = StreamedReply::default();
        estimated
            .apply_all(
                &mut vec![r#"{"choices":[{"delta":{"content":"12345678"}}]}"#.into()],
                &tx,
            )
            .unwrap();
        let reply = estimated.finish("cfg", &request).unwrap();
        assert_eq!((reply.model.as_str(), reply.completion_tokens), ("cfg", 2));
        assert_eq!(reply.prompt_tokens, request.prompt_estimate());
        assert!(matches!(
            StreamedReply::default().finish("cfg", &request),
            Err(LlmError::Malformed(_))
        ));
    }

    #[test]
    fn truncation_respects_characters() {
        assert_eq!(truncate_chars("ñandú", 3), "ñan");
        assert_eq!(truncate_chars("ab", 3), "ab");
    }
}
