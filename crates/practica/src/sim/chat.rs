//! Chat: the learner's message and the persona's reply. The reply is the agent's (supplied
//! `assistant_content`), the AI provider's (streamed into the stored message as it comes, so
//! `get` shows it growing and `stop` can cut it), or the scenario's scripted lines when no
//! provider is configured.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use simulation::persona::{PersonaBrief, PersonaPrompt, ScenarioBrief, Speaker, Turn};

use super::grading::active_path;
use super::wire::*;
use super::{MAX_MESSAGE_CHARS, ensure_may_supply, ensure_player, load_chat, new_id, refused, us};
use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::llm::{ChatMessage, ChatRequest, TextRequest};
use crate::storage::sim_store::{SimMessageRow, SimWrite};

tokio::task_local! {
    /// Where a streaming `message` request (`Accept: text/event-stream`) wants the reply's
    /// pieces as they come; unset for a plain JSON request.
    pub(super) static STREAM: tokio::sync::mpsc::UnboundedSender<StreamEvent>;
}

/// What a streaming `message` request is sent, in order.
#[derive(Debug)]
pub(super) enum StreamEvent {
    /// The learner's message and the reply's row are stored.
    Started {
        user_message_id: String,
        assistant_message_id: String,
    },
    /// A piece of the reply.
    Delta(String),
    /// The request's answer.
    Done(Box<ApiResult<MessageResponse>>),
}

fn emit(sink: &Option<tokio::sync::mpsc::UnboundedSender<StreamEvent>>, event: StreamEvent) {
    if let Some(tx) = sink {
        // A client that hung up does not stop the reply: it is stored all the same.
        let _ = tx.send(event);
    }
}

const MAX_HINTS: usize = 20;
const MAX_HINT_CHARS: usize = 2_000;
const MAX_CONTENTS: usize = 20;
/// How often a growing reply is written (and a stop from another process is seen).
const PROGRESS_EVERY: Duration = Duration::from_millis(150);
/// A reply still `streaming` after this long without a write belongs to a process that died;
/// it no longer blocks new messages.
pub(super) const STALE_STREAM: Duration = Duration::from_secs(120);
const PERSONA_MAX_TOKENS: u32 = 600;

pub(crate) async fn scenario_brief(state: &AppState, attempt_id: &str, scenario_id: &str) -> ApiResult<ScenarioBrief> {
    let row = state
        .store
        .sim_attempt(attempt_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no attempt {attempt_id:?}")))?;
    let sim = super::flow::simulation_of(state, &row.simulation_id).await?;
    let scenario = sim
        .scenarios
        .iter()
        .find(|s| s.id == scenario_id)
        .ok_or_else(|| ApiError::Conflict(format!("scenario {scenario_id:?} is not in the content any more")))?;
    Ok(ScenarioBrief {
        name: scenario.name.clone(),
        problem_statement: scenario.problem_statement.clone(),
        objectives: scenario.objectives.clone(),
    })
}

fn check_text(field: &str, text: &str, required: bool) -> ApiResult<()> {
    if required && text.trim().is_empty() {
        return Err(ApiError::Validation(format!("{field}: must not be empty")));
    }
    let n = text.chars().count();
    if n > MAX_MESSAGE_CHARS {
        return Err(ApiError::Validation(format!(
            "{field}: at most {MAX_MESSAGE_CHARS} characters, got {n}"
        )));
    }
    Ok(())
}

fn check_request(req: &MessageRequest) -> ApiResult<()> {
    check_text("message", &req.message, true)?;
    if let Some(a) = &req.assistant_content {
        check_text("assistant_content", a, true)?;
    }
    if let Some(hints) = &req.hints {
        if hints.len() > MAX_HINTS {
            return Err(ApiError::Validation(format!("hints: at most {MAX_HINTS}")));
        }
        for (i, h) in hints.iter().enumerate() {
            if h.hint.trim().is_empty() || h.hint.chars().count() > MAX_HINT_CHARS {
                return Err(ApiError::Validation(format!(
                    "hints[{i}].hint: 1 to {MAX_HINT_CHARS} characters"
                )));
            }
            if h.idx.is_some_and(|i| i < 0) {
                return Err(ApiError::Validation(format!("hints[{i}].idx: must be 0 or more")));
            }
        }
    }
    if let Some(contents) = &req.contents {
        if contents.len() > MAX_CONTENTS {
            return Err(ApiError::Validation(format!("contents: at most {MAX_CONTENTS}")));
        }
        for (i, c) in contents.iter().enumerate() {
            check_text(&format!("contents[{i}].content"), &c.content, true)?;
        }
    }
    Ok(())
}

pub async fn message(state: AppState, caller: Caller, req: MessageRequest) -> ApiResult<MessageResponse> {
    let sink = STREAM.try_with(Clone::clone).ok();
    check_request(&req)?;
    if req.assistant_content.is_some() || req.hints.is_some() || req.contents.is_some() {
        ensure_may_supply(&caller, "assistant_content, hints and contents")?;
    }
    let (chat, loaded) = load_chat(&state, &req.chat_id).await?;
    if loaded.row.id != req.attempt_id
        && !state
            .store
            .sim_attempt_chats(&req.attempt_id)
            .await?
            .iter()
            .any(|c| c.id == chat.id)
    {
        return Err(ApiError::NotFound(format!(
            "chat_id: no chat {:?} in attempt {:?}",
            req.chat_id, req.attempt_id
        )));
    }
    ensure_player(&state, &caller, &loaded.row).await?;
    let at = super::now();
    loaded.attempt.ensure_chat_open(&chat.id, at).map_err(refused)?;
    let messages = state.store.sim_messages(std::slice::from_ref(&chat.id)).await?;
    let stale_before = us(at) - STALE_STREAM.as_micros() as i64;
    if messages
        .iter()
        .any(|m| m.status == "streaming" && m.updated_at > stale_before)
    {
        return Err(ApiError::Conflict(
            "a reply is being generated in this chat; wait for it or stop it".into(),
        ));
    }
    let parent = match req
        .parent_message_id
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        Some(p) => Some(
            messages
                .iter()
                .find(|m| m.id == p)
                .ok_or_else(|| ApiError::NotFound(format!("parent_message_id: no message {p:?} in this chat")))?,
        ),
        None => active_path(&messages).last().copied(),
    };
    // The conversation the reply answers: the branch up to the parent, then this message.
    let mut branch: Vec<&SimMessageRow> = Vec::new();
    let mut cursor = parent;
    while let Some(m) = cursor {
        if branch.len() > messages.len() {
            break;
        }
        branch.push(m);
        cursor = m
            .parent_message_id
            .as_deref()
            .and_then(|p| messages.iter().find(|x| x.id == p));
    }
    branch.reverse();

    let user_id = new_id();
    let reply_id = new_id();
    let user_row = SimMessageRow {
        id: user_id.clone(),
        chat_id: chat.id.clone(),
        seq: 0,
        parent_message_id: parent.map(|p| p.id.clone()),
        kind: "query".into(),
        content: req.message.clone(),
        hints: json!([]),
        contents: json!([]),
        status: "complete".into(),
        source: if caller.via_agent { "agent" } else { "learner" }.into(),
        created_by: caller.id.clone(),
        via_agent: caller.via_agent,
        created_at: us(at),
        updated_at: us(at),
    };
    let supplied_hints: Option<Value> = req
        .hints
        .as_ref()
        .map(|h| serde_json::to_value(h).unwrap_or_else(|_| json!([])));
    let contents = req
        .contents
        .as_ref()
        .map(|c| serde_json::to_value(c).unwrap_or_else(|_| json!([])))
        .unwrap_or_else(|| json!([]));
    let reply_row = |content: String, status: &str, source: &str, hints: Value| SimMessageRow {
        id: reply_id.clone(),
        chat_id: chat.id.clone(),
        seq: 0,
        parent_message_id: Some(user_id.clone()),
        kind: "response".into(),
        content,
        hints,
        contents: contents.clone(),
        status: status.into(),
        source: source.into(),
        created_by: caller.id.clone(),
        via_agent: caller.via_agent,
        created_at: us(at),
        updated_at: us(at),
    };

    // The agent path: the reply is given, no AI is called.
    if let Some(content) = &req.assistant_content {
        let hints = supplied_hints.clone().unwrap_or_else(|| json!([]));
        super::write_numbered(
            &state,
            &[
                SimWrite::InsertMessage(user_row),
                SimWrite::InsertMessage(reply_row(content.clone(), "complete", "agent", hints.clone())),
            ],
        )
        .await?;
        emit(
            &sink,
            StreamEvent::Started {
                user_message_id: user_id.clone(),
                assistant_message_id: reply_id.clone(),
            },
        );
        emit(&sink, StreamEvent::Delta(content.clone()));
        return Ok(MessageResponse {
            chat_id: chat.id,
            user_message_id: Some(user_id),
            assistant_message_id: Some(reply_id),
            assistant_content: Some(content.clone()),
            hints: hints.as_array().cloned(),
        });
    }

    let sim = super::flow::simulation_of(&state, &loaded.row.simulation_id).await?;
    let scenario = sim.scenarios.iter().find(|s| s.id == chat.scenario_id).ok_or_else(|| {
        ApiError::Conflict(format!(
            "scenario {:?} is not in the content any more",
            chat.scenario_id
        ))
    })?;

    let Some(llm) = state.llm.clone() else {
        // No provider: the scenario's scripted lines, one per reply of this branch.
        let replies_so_far = branch.iter().filter(|m| m.kind == "response").count();
        let Some(line) = simulation::persona::scripted_line(&scenario.script, replies_so_far) else {
            return Err(ApiError::Conflict(
                "no AI provider is configured and the scenario has no scripted lines: set PRACTICA_LLM_BASE_URL \
                 (and PRACTICA_LLM_MODEL, PRACTICA_LLM_API_KEY) to an OpenAI-compatible provider, or pass \
                 assistant_content with the persona's reply"
                    .into(),
            ));
        };
        let hints = supplied_hints.clone().unwrap_or_else(|| json!([]));
        let line = line.to_owned();
        super::write_numbered(
            &state,
            &[
                SimWrite::InsertMessage(user_row),
                SimWrite::InsertMessage(reply_row(line.clone(), "complete", "script", hints.clone())),
            ],
        )
        .await?;
        emit(
            &sink,
            StreamEvent::Started {
                user_message_id: user_id.clone(),
                assistant_message_id: reply_id.clone(),
            },
        );
        emit(&sink, StreamEvent::Delta(line.clone()));
        return Ok(MessageResponse {
            chat_id: chat.id,
            user_message_id: Some(user_id),
            assistant_message_id: Some(reply_id),
            assistant_content: Some(line),
            hints: hints.as_array().cloned(),
        });
    };

    // The AI persona: the reply row exists (empty, streaming) before the model is called.
    super::write_numbered(
        &state,
        &[
            SimWrite::InsertMessage(user_row),
            SimWrite::InsertMessage(reply_row(String::new(), "streaming", "ai", json!([]))),
        ],
    )
    .await?;
    emit(
        &sink,
        StreamEvent::Started {
            user_message_id: user_id.clone(),
            assistant_message_id: reply_id.clone(),
        },
    );
    let persona = match scenario.persona_ids.first() {
        Some(id) => state.store.persona(id).await?,
        None => None,
    };
    let persona = PersonaBrief {
        id: persona.as_ref().map(|p| p.id.clone()).unwrap_or_default(),
        name: persona
            .as_ref()
            .map(|p| p.name.clone())
            .unwrap_or_else(|| "Student".into()),
        instructions: persona.map(|p| p.instructions).unwrap_or_default(),
    };
    let brief = ScenarioBrief {
        name: scenario.name.clone(),
        problem_statement: scenario.problem_statement.clone(),
        objectives: scenario.objectives.clone(),
    };
    let mut transcript: Vec<Turn> = branch
        .iter()
        .map(|m| Turn {
            speaker: if m.kind == "query" {
                Speaker::Learner
            } else {
                Speaker::Persona
            },
            text: m.content.clone(),
        })
        .collect();
    transcript.push(Turn {
        speaker: Speaker::Learner,
        text: req.message.clone(),
    });
    let prompt = PersonaPrompt::build(&persona, &brief, &transcript);
    let request = TextRequest {
        system: prompt.system,
        history: prompt
            .history
            .into_iter()
            .map(|(speaker, text)| match speaker {
                Speaker::Learner => ChatMessage::user(text),
                Speaker::Persona => ChatMessage::assistant(text),
            })
            .collect(),
        max_tokens: PERSONA_MAX_TOKENS,
        temperature: 0.7,
    };
    let want_hints = sim.hints_enabled && supplied_hints.is_none();
    // The generation runs in its own task: a client that hangs up does not leave the reply
    // half-written and `streaming`; it finishes (or is stopped) all the same.
    let task_state = state.clone();
    let task_reply = reply_id.clone();
    let generated = tokio::spawn(async move {
        let outcome = generate(&task_state, &task_reply, llm.clone(), request, sink).await;
        let hints = match (&outcome, want_hints) {
            (Ok((text, false)), true) => hints_for(llm.as_ref(), &persona, &brief, &transcript, text).await,
            _ => None,
        };
        if let Some(h) = &hints {
            let _ = task_state.store.sim_message_hints(&task_reply, h).await;
        }
        (outcome, hints)
    })
    .await
    .map_err(|e| ApiError::Internal(anyhow::anyhow!("the reply's task failed: {e}")))?;
    let (outcome, hints) = generated;
    let (text, _stopped) = outcome?;
    let hints = hints.or(supplied_hints);
    if let (Some(h), false) = (&hints, want_hints) {
        state.store.sim_message_hints(&reply_id, h).await?;
    }
    Ok(MessageResponse {
        chat_id: chat.id,
        user_message_id: Some(user_id),
        assistant_message_id: Some(reply_id),
        assistant_content: Some(text),
        hints: hints.and_then(|h| h.as_array().cloned()),
    })
}

/// Streams the persona's reply into its message. Returns the text and whether it was stopped.
async fn generate(
    state: &AppState,
    message_id: &str,
    llm: std::sync::Arc<dyn crate::llm::ChatModel>,
    request: TextRequest,
    sink: Option<tokio::sync::mpsc::UnboundedSender<StreamEvent>>,
) -> ApiResult<(String, bool)> {
    let interrupt = state.sim.register(message_id);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let stream = tokio::spawn(async move { llm.stream_text(&request, tx).await });
    let mut text = String::new();
    let mut written = Instant::now();
    let mut dirty = false;
    let mut stopped = false;
    let mut tick = tokio::time::interval(PROGRESS_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            delta = rx.recv() => match delta {
                Some(d) => {
                    text.push_str(&d);
                    dirty = true;
                    emit(&sink, StreamEvent::Delta(d));
                }
                None => break,
            },
            _ = interrupt.notified() => {
                stopped = true;
                break;
            }
            _ = tick.tick() => {}
        }
        if written.elapsed() >= PROGRESS_EVERY {
            // The write tells whether the reply is still wanted: a stop from any process
            // turns the row `stopped`, and this write then touches nothing.
            let still = if dirty {
                state
                    .store
                    .sim_message_progress(message_id, &text, us(super::now()))
                    .await
            } else {
                state
                    .store
                    .sim_message(message_id)
                    .await
                    .map(|m| m.is_some_and(|m| m.status == "streaming"))
            };
            written = Instant::now();
            dirty = false;
            match still {
                Ok(true) => {}
                Ok(false) => {
                    stopped = true;
                    break;
                }
                Err(e) => tracing::warn!(error = %e, "writing a reply's progress failed"),
            }
        }
    }
    state.sim.unregister(message_id);
    let at = us(super::now());
    if stopped {
        // Dropping the stream's task drops the HTTP stream: the provider stops generating.
        stream.abort();
        while let Ok(d) = rx.try_recv() {
            text.push_str(&d);
        }
        state.store.sim_message_finish(message_id, &text, "stopped", at).await?;
        return Ok((text, true));
    }
    match stream.await {
        Ok(Ok(reply)) => {
            let full = if reply.content.is_empty() { text } else { reply.content };
            state
                .store
                .sim_message_finish(message_id, &full, "complete", at)
                .await?;
            Ok((full, false))
        }
        Ok(Err(e)) => {
            state.store.sim_message_finish(message_id, &text, "failed", at).await?;
            Err(ApiError::Unavailable(format!("the AI provider could not reply: {e}")))
        }
        Err(e) => {
            state.store.sim_message_finish(message_id, &text, "failed", at).await?;
            Err(ApiError::Internal(anyhow::anyhow!(
                "the reply's stream task failed: {e}"
            )))
        }
    }
}

/// Coaching hints for the learner after a reply; none when the model cannot give them (hints
/// are a help, never a reason to fail the message).
async fn hints_for(
    llm: &dyn crate::llm::ChatModel,
    persona: &PersonaBrief,
    scenario: &ScenarioBrief,
    transcript: &[Turn],
    reply: &str,
) -> Option<Value> {
    let mut turns = transcript.to_vec();
    turns.push(Turn {
        speaker: Speaker::Persona,
        text: reply.to_owned(),
    });
    let prompt = simulation::persona::hint_prompt(persona, scenario, &turns);
    let request = ChatRequest {
        system: prompt.system,
        user: prompt.user,
        schema_name: simulation::persona::HINT_SCHEMA_NAME.into(),
        schema: prompt.schema,
        max_tokens: 400,
        history: Vec::new(),
        images: Vec::new(),
    };
    match llm.complete_json(&request).await {
        Ok(r) => match simulation::persona::parse_hints(&r.content) {
            Ok(hints) => Some(Value::Array(
                hints
                    .into_iter()
                    .enumerate()
                    .map(|(i, h)| json!({"hint": h, "idx": i, "message_id": null}))
                    .collect(),
            )),
            Err(e) => {
                tracing::info!(error = %e, "hints unusable");
                None
            }
        },
        Err(e) => {
            tracing::info!(error = %e, "hints not generated");
            None
        }
    }
}

pub async fn stop(state: AppState, caller: Caller, req: ChatIdRequest) -> ApiResult<StopResponse> {
    let (chat, loaded) = load_chat(&state, &req.chat_id).await?;
    ensure_player(&state, &caller, &loaded.row).await?;
    let streaming: Vec<String> = state
        .store
        .sim_messages(std::slice::from_ref(&chat.id))
        .await?
        .into_iter()
        .filter(|m| m.status == "streaming")
        .map(|m| m.id)
        .collect();
    let stopped = state.store.sim_stop_chat(&chat.id, us(super::now())).await?;
    state.sim.interrupt(&streaming);
    Ok(StopResponse {
        chat_id: chat.id,
        success: true,
        message: Some(if stopped > 0 {
            "stopped the reply being generated; its text so far is kept".into()
        } else {
            "nothing was being generated".into()
        }),
    })
}
