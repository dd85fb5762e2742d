//! Video-question responses and audio sessions. An audio session takes uploaded frames in
//! order while it is open; stopping it assembles one recording (WAV when the frames are PCM),
//! keeps it as an upload of the chat, and — with a transcription endpoint configured — turns
//! what the learner said into their message.

use serde_json::json;
use simulation::video::{Question, QuestionOption};

use super::wire::*;
use super::{ensure_player, load_chat, new_id, refused, us};
use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::storage::Role;
use crate::storage::sim_store::{SimAudioFrameRow, SimAudioRow, SimResponseRow, SimWrite};

/// Most frames one audio session takes.
const MAX_FRAMES: i64 = 10_000;

pub async fn response(state: AppState, caller: Caller, req: ResponseRequest) -> ApiResult<ResponseResponse> {
    if req.option_ids.len() > 100 {
        return Err(ApiError::Validation("option_ids: at most 100".into()));
    }
    let (chat, loaded) = load_chat(&state, &req.chat_id).await?;
    ensure_player(&state, &caller, &loaded.row).await?;
    let at = super::now();
    loaded.attempt.ensure_chat_open(&chat.id, at).map_err(refused)?;
    let sim = super::flow::simulation_of(&state, &loaded.row.simulation_id).await?;
    let question = sim
        .scenarios
        .iter()
        .find(|s| s.id == chat.scenario_id)
        .and_then(|s| s.questions.iter().find(|q| q.id == req.question_id))
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "question_id: no question {:?} in this chat's scenario",
                req.question_id
            ))
        })?;
    let question = Question {
        id: question.id.clone(),
        question_text: question.question_text.clone(),
        allow_multiple: question.allow_multiple,
        options: question
            .options
            .iter()
            .map(|o| QuestionOption {
                id: o.id.clone(),
                option_text: o.option_text.clone(),
                is_correct: o.is_correct,
            })
            .collect(),
    };
    let answer = question.answer(&req.option_ids).map_err(refused)?;
    let id = new_id();
    state
        .store
        .sim_write(&[SimWrite::InsertResponse(SimResponseRow {
            id: id.clone(),
            chat_id: chat.id.clone(),
            question_id: question.id.clone(),
            option_ids: json!(answer.option_ids),
            is_correct: answer.is_correct,
            created_by: caller.id.clone(),
            via_agent: caller.via_agent,
            created_at: us(at),
        })])
        .await?;
    Ok(ResponseResponse {
        success: true,
        message: Some("response recorded".into()),
        is_correct: answer.is_correct,
        response_id: Some(id),
    })
}

pub async fn audio_start(state: AppState, caller: Caller, req: ChatIdRequest) -> ApiResult<AudioStartResponse> {
    let (chat, loaded) = load_chat(&state, &req.chat_id).await?;
    ensure_player(&state, &caller, &loaded.row).await?;
    let at = super::now();
    loaded.attempt.ensure_chat_open(&chat.id, at).map_err(refused)?;
    let sessions = state.store.sim_audio_sessions(&chat.id).await?;
    // One open session a chat: starting again answers the open one (a retried request).
    if let Some(open) = sessions.iter().find(|s| s.state == "open") {
        return Ok(AudioStartResponse {
            chat_id: chat.id,
            run_id: open.run_id.clone(),
            group_id: open.group_id.clone(),
            attempt_id: open.attempt_id.clone(),
        });
    }
    // The sessions of one chat share a group: one conversation by voice.
    let group_id = sessions.first().map(|s| s.group_id.clone()).unwrap_or_else(new_id);
    let run_id = new_id();
    state
        .store
        .sim_write(&[SimWrite::InsertAudio(SimAudioRow {
            run_id: run_id.clone(),
            chat_id: chat.id.clone(),
            attempt_id: loaded.row.id.clone(),
            group_id: group_id.clone(),
            state: "open".into(),
            frame_count: 0,
            byte_len: 0,
            upload_id: None,
            transcript: None,
            message_id: None,
            created_by: caller.id.clone(),
            via_agent: caller.via_agent,
            created_at: us(at),
            stopped_at: None,
        })])
        .await?;
    Ok(AudioStartResponse {
        chat_id: chat.id,
        run_id,
        group_id,
        attempt_id: loaded.row.id,
    })
}

fn open_session(sessions: &[SimAudioRow]) -> ApiResult<&SimAudioRow> {
    sessions.iter().rev().find(|s| s.state == "open").ok_or_else(|| {
        ApiError::Conflict(if sessions.is_empty() {
            "no audio session in this chat: call audio/start first".into()
        } else {
            "the chat's audio session has stopped: frames are no longer taken; call audio/start for a new one".into()
        })
    })
}

pub async fn audio_frame(state: AppState, caller: Caller, req: AudioFrameRequest) -> ApiResult<AudioFrameResponse> {
    let (chat, loaded) = load_chat(&state, &req.chat_id).await?;
    ensure_player(&state, &caller, &loaded.row).await?;
    let sessions = state.store.sim_audio_sessions(&chat.id).await?;
    let session = open_session(&sessions)?;
    let not_found = || ApiError::NotFound(format!("upload_id: no upload {:?}", req.upload_id));
    let upload_id = uuid::Uuid::parse_str(req.upload_id.trim()).map_err(|_| not_found())?;
    let upload = state.store.upload(upload_id).await?.ok_or_else(not_found)?;
    if upload.created_by != caller.id && !matches!(caller.role, Role::Admin | Role::Agent) {
        return Err(ApiError::Forbidden("upload_id: not an upload of yours".into()));
    }
    if session.frame_count >= MAX_FRAMES {
        return Err(ApiError::Validation(format!(
            "an audio session takes at most {MAX_FRAMES} frames"
        )));
    }
    if (session.byte_len + upload.bytes) as u64 > state.config.audio_max_bytes {
        return Err(ApiError::PayloadTooLarge(state.config.audio_max_bytes as usize));
    }
    state
        .store
        .sim_write(&[SimWrite::AppendAudioFrame(SimAudioFrameRow {
            run_id: session.run_id.clone(),
            seq: 0,
            upload_id: upload.id.to_string(),
            byte_len: upload.bytes,
            created_by: caller.id.clone(),
            via_agent: caller.via_agent,
            created_at: us(super::now()),
        })])
        .await
        .map_err(super::store_error)?;
    Ok(AudioFrameResponse { accepted: true })
}

pub async fn audio_stop(state: AppState, caller: Caller, req: ChatIdRequest) -> ApiResult<AudioStopResponse> {
    let (chat, loaded) = load_chat(&state, &req.chat_id).await?;
    ensure_player(&state, &caller, &loaded.row).await?;
    let sessions = state.store.sim_audio_sessions(&chat.id).await?;
    let Some(session) = sessions.iter().rev().find(|s| s.state == "open") else {
        // Nothing open: stopping is done already (a retried request).
        return Ok(AudioStopResponse {
            chat_id: chat.id,
            stopped: Some(false),
        });
    };
    let frames = state.store.sim_audio_frames(&session.run_id).await?;
    let mut bytes = Vec::with_capacity(frames.len());
    for f in &frames {
        let id = uuid::Uuid::parse_str(&f.upload_id)
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("frame upload id {}: {e}", f.upload_id)))?;
        let upload = state
            .store
            .upload(id)
            .await?
            .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("frame upload {id} is gone")))?;
        bytes.push(
            state
                .uploads
                .get(&upload.object_key)
                .await
                .map_err(ApiError::Internal)?,
        );
    }
    let mut upload_id = None;
    let mut transcript = None;
    let mut message_id = None;
    if !bytes.is_empty() {
        let parts: Vec<&[u8]> = bytes.iter().map(|b| b.as_ref()).collect();
        let audio = simulation::audio::assemble(&parts, state.config.audio_max_bytes as usize).map_err(refused)?;
        let file_name = format!("audio-{}.{}", session.run_id, audio.extension);
        let record = crate::uploads::store_file(
            &state,
            None,
            &caller.id,
            caller.via_agent,
            "audio",
            &file_name,
            audio.mime_type,
            audio.bytes.clone().into(),
        )
        .await?;
        upload_id = Some(record.id.to_string());
        if let Some(t) = &state.transcriber {
            match t.transcribe(audio.bytes, &file_name, audio.mime_type).await {
                Ok(text) if !text.trim().is_empty() => {
                    let text = text.trim().to_owned();
                    // What the learner said is their message; the persona answers it as if
                    // it had been typed. When no reply can be made, the message alone is kept.
                    let said = super::chat::message(
                        state.clone(),
                        caller.clone(),
                        MessageRequest {
                            attempt_id: loaded.row.id.clone(),
                            chat_id: chat.id.clone(),
                            message: text.clone(),
                            parent_message_id: None,
                            assistant_content: None,
                            hints: None,
                            contents: None,
                        },
                    )
                    .await;
                    match said {
                        Ok(r) => message_id = r.user_message_id,
                        Err(e) => tracing::warn!(error = %e, "the transcript's reply failed"),
                    }
                    transcript = Some(text);
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "transcription failed; the recording is kept"),
            }
        }
    }
    let stopped = state
        .store
        .sim_write(&[SimWrite::StopAudio {
            run_id: session.run_id.clone(),
            upload_id,
            transcript,
            message_id,
            stopped_at: us(super::now()),
        }])
        .await;
    match stopped {
        Ok(()) => Ok(AudioStopResponse {
            chat_id: chat.id,
            stopped: Some(true),
        }),
        // Stopped by a concurrent request meanwhile.
        Err(crate::storage::StoreError::Conflict(_)) => Ok(AudioStopResponse {
            chat_id: chat.id,
            stopped: Some(false),
        }),
        Err(e) => Err(e.into()),
    }
}
