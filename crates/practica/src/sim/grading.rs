//! Grading a chat against the rubric it snapshotted: a grade an agent supplies (validated,
//! stored as given), the AI grader (an asynchronous job: the model picks one level per
//! criterion and quotes evidence, the points come from the rubric), or, with no AI provider,
//! the rule grader (levels' evidence patterns). The latest grade of a chat wins.

use async_trait::async_trait;
use serde_json::{Value, json};
use simulation::rubric::Rubric;
use simulation::supplied::SuppliedGrade;

use super::wire::*;
use super::{Access, access, load, mutate, new_id, refused, us};
use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::jobs::{JobFailure, JobHandler};
use crate::llm::ChatRequest;
use crate::storage::sim_store::{SimChatRow, SimGradeRow, SimMessageRow, SimWrite};
use crate::storage::{ClaimedJob, NewJob, Role};

pub const GRADE_JOB: &str = "sim-grade";
/// What `grade.resource_types` may name (SIMULATION.md).
const RESOURCE_TYPES: &[&str] = &[
    "feedbacks",
    "strengths",
    "improvements",
    "analyses",
    "highlights",
    "replacements",
];
const MAX_INSTRUCTIONS: usize = 10;
const MAX_INSTRUCTION_CHARS: usize = 2_000;

/// The request's grade fields as the rules engine checks them.
pub(crate) fn supplied(f: &SuppliedFields) -> SuppliedGrade {
    SuppliedGrade {
        score: f.score,
        passed: f.passed,
        time_taken: f.time_taken,
        feedbacks: f.feedbacks.as_ref().map(|v| {
            v.iter()
                .map(|e| simulation::supplied::AttemptGradeFeedbackEntry {
                    feedback: e.feedback.clone(),
                    total: e.total,
                })
                .collect()
        }),
        strengths: f.strengths.as_ref().map(|v| v.iter().map(strength).collect()),
        improvements: f.improvements.as_ref().map(|v| {
            v.iter()
                .map(|e| simulation::supplied::AttemptGradeStrengthEntry {
                    name: e.name.clone(),
                    description: e.description.clone(),
                    message_id: e.message_id.clone(),
                })
                .collect()
        }),
        analyses: f.analyses.as_ref().map(|v| {
            v.iter()
                .map(|e| simulation::supplied::AttemptGradeAnalysisEntry {
                    content: e.content.clone(),
                })
                .collect()
        }),
        highlights: f.highlights.as_ref().map(|v| {
            v.iter()
                .map(|e| simulation::supplied::AttemptGradeHighlightEntry {
                    strength_id: e.strength_id.clone(),
                    section: e.section.clone(),
                    idx: e.idx,
                })
                .collect()
        }),
        replacements: f.replacements.as_ref().map(|v| {
            v.iter()
                .map(|e| simulation::supplied::AttemptGradeReplacementEntry {
                    improvement_id: e.improvement_id.clone(),
                    section: e.section.clone(),
                    replace: e.replace.clone(),
                    idx: e.idx,
                })
                .collect()
        }),
    }
}

fn strength(e: &AttemptGradeStrengthEntry) -> simulation::supplied::AttemptGradeStrengthEntry {
    simulation::supplied::AttemptGradeStrengthEntry {
        name: e.name.clone(),
        description: e.description.clone(),
        message_id: e.message_id.clone(),
    }
}

/// What a grader is asked for.
#[derive(Clone, Debug, Default)]
pub(crate) struct Ask {
    pub resource_types: Option<Vec<String>>,
    pub user_instructions: Option<Vec<String>>,
}

impl Ask {
    fn check(&self) -> ApiResult<()> {
        if let Some(types) = &self.resource_types {
            for (i, t) in types.iter().enumerate() {
                if !RESOURCE_TYPES.contains(&t.as_str()) {
                    return Err(ApiError::Validation(format!(
                        "resource_types[{i}]: {t:?} is not one of {}",
                        RESOURCE_TYPES.join(", ")
                    )));
                }
            }
        }
        if let Some(list) = &self.user_instructions {
            if list.len() > MAX_INSTRUCTIONS {
                return Err(ApiError::Validation(format!(
                    "user_instructions: at most {MAX_INSTRUCTIONS} instructions"
                )));
            }
            for (i, s) in list.iter().enumerate() {
                if s.chars().count() > MAX_INSTRUCTION_CHARS {
                    return Err(ApiError::Validation(format!(
                        "user_instructions[{i}]: at most {MAX_INSTRUCTION_CHARS} characters"
                    )));
                }
            }
        }
        Ok(())
    }

    fn json(&self) -> Value {
        json!({"resource_types": self.resource_types, "user_instructions": self.user_instructions})
    }
}

pub(crate) struct Graded {
    pub grade_id: String,
    pub score: Option<i64>,
    pub passed: Option<bool>,
}

pub(crate) fn rubric_of(chat: &SimChatRow) -> ApiResult<Rubric> {
    serde_json::from_value(chat.rubric.clone())
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("chat {} has a corrupt rubric: {e}", chat.id)))
}

/// The conversation as the learner sees it now: from the latest message back to the first
/// through the parents (other branches are alternatives the learner left).
pub(crate) fn active_path(messages: &[SimMessageRow]) -> Vec<&SimMessageRow> {
    let Some(mut at) = messages.iter().max_by_key(|m| m.seq) else {
        return Vec::new();
    };
    let mut path = vec![at];
    while let Some(parent) = at.parent_message_id.as_deref() {
        match messages.iter().find(|m| m.id == parent) {
            // A cycle cannot be written (a parent exists before its child), but a bound keeps
            // a corrupt row from looping.
            Some(p) if path.len() <= messages.len() => {
                path.push(p);
                at = p;
            }
            _ => break,
        }
    }
    path.reverse();
    path
}

/// A grade of `chat_id` asked for now by `caller`: pending, until the grader fills it in.
fn base_row(
    grade_id: &str,
    chat_id: &str,
    attempt_id: &str,
    rubric: &Rubric,
    ask: &Ask,
    caller: &Caller,
    at: time::OffsetDateTime,
) -> SimGradeRow {
    SimGradeRow {
        id: grade_id.to_owned(),
        chat_id: chat_id.to_owned(),
        attempt_id: attempt_id.to_owned(),
        source: "ai".into(),
        state: "pending".into(),
        score: None,
        max_score: rubric.total_points() as i64,
        passed: None,
        detail: json!({}),
        request: ask.json(),
        error: None,
        created_by: caller.id.clone(),
        via_agent: caller.via_agent,
        created_at: us(at),
        finished_at: None,
    }
}

/// Grades one chat of an attempt, as `end` (grade=true or supplied fields) and `grade` do.
pub(crate) async fn grade_chat(
    state: &AppState,
    caller: &Caller,
    attempt_id: &str,
    chat_id: &str,
    supplied: &SuppliedGrade,
    ask: Ask,
) -> ApiResult<Graded> {
    ask.check()?;
    let chat = state
        .store
        .sim_chat(chat_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("chat_id: no chat {chat_id:?}")))?;
    if chat.attempt_id != attempt_id {
        return Err(ApiError::Conflict(format!(
            "chat_id: chat {chat_id:?} was played in another attempt; grade it there"
        )));
    }
    let rubric = rubric_of(&chat)?;
    let at = super::now();
    let grade_id = new_id();
    let messages = state.store.sim_messages(&[chat_id.to_owned()]).await?;
    if supplied.is_supplied() {
        let checked = supplied.check(&rubric).map_err(refused)?;
        for (field, list) in [
            ("strengths", &supplied.strengths),
            ("improvements", &supplied.improvements),
        ] {
            for (i, e) in list.iter().flatten().enumerate() {
                if let Some(mid) = &e.message_id
                    && !messages.iter().any(|m| &m.id == mid)
                {
                    return Err(ApiError::Validation(format!(
                        "{field}[{i}].message_id: no message {mid:?} in this chat"
                    )));
                }
            }
        }
        let score = checked.score.map(|s| s as i64);
        let passed = checked.passed;
        let row = SimGradeRow {
            source: "agent".into(),
            state: "done".into(),
            score,
            passed,
            detail: json!({
                "feedbacks": supplied.feedbacks, "strengths": supplied.strengths,
                "improvements": supplied.improvements, "analyses": supplied.analyses,
                "highlights": supplied.highlights, "replacements": supplied.replacements,
                "time_taken": checked.time_taken, "percentage": checked.percentage,
            }),
            finished_at: Some(us(at)),
            ..base_row(&grade_id, chat_id, attempt_id, &rubric, &ask, caller, at)
        };
        mutate(state, caller, attempt_id, |loaded, _| {
            if let Some(s) = checked.score {
                loaded.attempt.record_grade(chat_id, s).map_err(refused)?;
            }
            Ok(((), vec![SimWrite::InsertGrade(row.clone())]))
        })
        .await?;
        return Ok(Graded {
            grade_id,
            score,
            passed,
        });
    }
    if state.llm.is_some() {
        // The AI grader runs as a job: the request returns at once, `get` shows `grading`.
        let row = base_row(&grade_id, chat_id, attempt_id, &rubric, &ask, caller, at);
        let job = NewJob {
            id: uuid::Uuid::now_v7(),
            kind: GRADE_JOB.into(),
            dedupe_key: Some(format!("{GRADE_JOB}:{grade_id}")),
            payload: json!({"grade_id": grade_id}),
            max_attempts: 4,
            run_after: time::OffsetDateTime::now_utc(),
        };
        state
            .store
            .sim_write(&[SimWrite::InsertGrade(row), SimWrite::Enqueue(job)])
            .await?;
        state.jobs_wake.notify_waiters();
        return Ok(Graded {
            grade_id,
            score: None,
            passed: None,
        });
    }
    // No provider: the rule grader, at once.
    let path = active_path(&messages);
    let learner: Vec<&str> = path
        .iter()
        .filter(|m| m.kind == "query")
        .map(|m| m.content.as_str())
        .collect();
    let grader = simulation::rule_grader::RuleGrader::new(&rubric).map_err(refused)?;
    let choices = grader.grade(&learner);
    let outcome = rubric
        .grade(&simulation::rule_grader::choices(&choices))
        .map_err(refused)?;
    let score = outcome.score as i64;
    let passed = outcome.passed;
    let row = SimGradeRow {
        source: "rules".into(),
        state: "done".into(),
        score: Some(score),
        max_score: outcome.max_score as i64,
        passed: Some(passed),
        detail: json!({"criteria": choices, "outcome": outcome}),
        finished_at: Some(us(at)),
        ..base_row(&grade_id, chat_id, attempt_id, &rubric, &ask, caller, at)
    };
    mutate(state, caller, attempt_id, |loaded, _| {
        loaded.attempt.record_grade(chat_id, outcome.score).map_err(refused)?;
        Ok(((), vec![SimWrite::InsertGrade(row.clone())]))
    })
    .await?;
    Ok(Graded {
        grade_id,
        score: Some(score),
        passed: Some(passed),
    })
}

pub async fn grade(state: AppState, caller: Caller, req: GradeRequest) -> ApiResult<GradeResponse> {
    let loaded = load(&state, &req.attempt_id).await?;
    let supplied = supplied(&req.supplied);
    if supplied.is_supplied() {
        super::ensure_may_supply(&caller, "grades")?;
    }
    match access(&state, &caller, &loaded.row).await? {
        Access::None => return Err(ApiError::Forbidden("not an attempt you may grade".into())),
        Access::Owner | Access::Operator | Access::Teacher => {}
    }
    let chat_id = match req.chat_id.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        Some(c) => c.to_owned(),
        // Without a chat: the latest chat played in this attempt that has ended.
        None => loaded
            .attempt
            .chats
            .iter()
            .filter(|c| c.attempt_id == loaded.row.id && c.ended_at.is_some())
            .max_by_key(|c| c.ended_at)
            .map(|c| c.chat_id.clone())
            .ok_or_else(|| ApiError::Conflict("no chat of this attempt has ended yet; give chat_id".into()))?,
    };
    if !loaded.attempt.chats.iter().any(|c| c.chat_id == chat_id) {
        return Err(ApiError::NotFound(format!(
            "chat_id: no chat {chat_id:?} in this attempt"
        )));
    }
    let graded = grade_chat(
        &state,
        &caller,
        &req.attempt_id,
        &chat_id,
        &supplied,
        Ask {
            resource_types: req.resource_types.clone(),
            user_instructions: req.user_instructions.clone(),
        },
    )
    .await?;
    Ok(GradeResponse {
        chat_id,
        grade_id: Some(graded.grade_id),
        score: graded.score,
        passed: graded.passed,
    })
}

/// The AI grader's job: one pending grade.
pub struct GradeJob {
    pub state: AppState,
}

impl GradeJob {
    async fn finish(&self, grade: &SimGradeRow, outcome: Result<(i64, bool, Value), String>) -> Result<(), JobFailure> {
        let caller = Caller {
            id: grade.created_by.clone(),
            role: Role::Agent,
            via_agent: grade.via_agent,
            via_api_key: false,
        };
        let at = super::now();
        let newer = self
            .state
            .store
            .sim_grades(std::slice::from_ref(&grade.chat_id))
            .await?
            .iter()
            .any(|g| g.created_at > grade.created_at && g.state == "done");
        let write = match &outcome {
            Ok((score, passed, detail)) => SimWrite::FinishGrade {
                grade_id: grade.id.clone(),
                state: "done".into(),
                score: Some(*score),
                passed: Some(*passed),
                detail: detail.clone(),
                error: None,
                finished_at: us(at),
            },
            Err(e) => SimWrite::FinishGrade {
                grade_id: grade.id.clone(),
                state: "failed".into(),
                score: None,
                passed: None,
                detail: json!({}),
                error: Some(e.clone()),
                finished_at: us(at),
            },
        };
        let result = mutate(&self.state, &caller, &grade.attempt_id, |loaded, _| {
            // The latest grade wins: a grade asked for later and finished first stays.
            if let (Ok((score, _, _)), false) = (&outcome, newer) {
                loaded
                    .attempt
                    .record_grade(&grade.chat_id, (*score).max(0) as u64)
                    .map_err(refused)?;
            }
            Ok(((), vec![write.clone()]))
        })
        .await;
        match result {
            Ok(()) => Ok(()),
            // Finished by another run meanwhile (a lease that expired): nothing left to do.
            Err(ApiError::Conflict(_))
                if self
                    .state
                    .store
                    .sim_grade(&grade.id)
                    .await?
                    .is_some_and(|g| g.state != "pending") =>
            {
                Ok(())
            }
            Err(e) => Err(JobFailure::retry(e.to_string())),
        }
    }
}

impl GradeJob {
    /// `grade.resource_types` names the parts to (re)generate; the others stay as the chat's
    /// latest finished grade had them (the score and criteria are always graded anew).
    async fn keep_unasked_parts(&self, grade: &SimGradeRow, mut detail: Value) -> Result<Value, JobFailure> {
        let Some(asked) = grade.request.get("resource_types").and_then(Value::as_array) else {
            return Ok(detail);
        };
        let grades = self
            .state
            .store
            .sim_grades(std::slice::from_ref(&grade.chat_id))
            .await?;
        let Some(previous) = grades
            .iter()
            .filter(|g| g.state == "done" && g.id != grade.id)
            .max_by_key(|g| (g.created_at, g.id.clone()))
        else {
            return Ok(detail);
        };
        for part in RESOURCE_TYPES {
            if !asked.iter().any(|a| a.as_str() == Some(part))
                && let Some(kept) = previous.detail.get(*part)
            {
                detail[*part] = kept.clone();
            }
        }
        Ok(detail)
    }
}

#[async_trait]
impl JobHandler for GradeJob {
    fn kind(&self) -> &'static str {
        GRADE_JOB
    }

    async fn run(&self, job: &ClaimedJob, _owner: &str) -> Result<(), JobFailure> {
        let grade_id = job
            .payload
            .get("grade_id")
            .and_then(Value::as_str)
            .ok_or_else(|| JobFailure::fatal("sim-grade job without grade_id"))?;
        let Some(grade) = self.state.store.sim_grade(grade_id).await? else {
            return Err(JobFailure::fatal(format!("no grade {grade_id}")));
        };
        if grade.state != "pending" {
            return Ok(());
        }
        let Some(llm) = self.state.llm.clone() else {
            return self.finish(&grade, Err("no AI provider is configured".into())).await;
        };
        let chat = self
            .state
            .store
            .sim_chat(&grade.chat_id)
            .await?
            .ok_or_else(|| JobFailure::fatal(format!("no chat {}", grade.chat_id)))?;
        let rubric = rubric_of(&chat).map_err(|e| JobFailure::fatal(e.to_string()))?;
        let messages = self.state.store.sim_messages(std::slice::from_ref(&chat.id)).await?;
        let path = active_path(&messages);
        let turns: Vec<simulation::persona::Turn> = path
            .iter()
            .map(|m| simulation::persona::Turn {
                speaker: if m.kind == "query" {
                    simulation::persona::Speaker::Learner
                } else {
                    simulation::persona::Speaker::Persona
                },
                text: m.content.clone(),
            })
            .collect();
        let learner: Vec<&str> = path
            .iter()
            .filter(|m| m.kind == "query")
            .map(|m| m.content.as_str())
            .collect();
        let scenario = super::chat::scenario_brief(&self.state, &grade.attempt_id, &chat.scenario_id)
            .await
            .map_err(|e| JobFailure::retry(e.to_string()))?;
        let instructions: Vec<String> = grade
            .request
            .get("user_instructions")
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default();
        let (system, user) = simulation::ai_grader::grader_prompt(&rubric, &scenario, &turns, &instructions);
        let request = ChatRequest {
            system,
            user,
            schema_name: "rubric_grade".into(),
            schema: simulation::ai_grader::grader_schema(&rubric),
            max_tokens: 2_000,
            history: Vec::new(),
            images: Vec::new(),
        };
        let reply = match llm.complete_json(&request).await {
            Ok(r) => r,
            Err(e) if e.retryable() => return Err(JobFailure::retry(e.to_string())),
            Err(e) => return self.finish(&grade, Err(format!("AI grader: {e}"))).await,
        };
        match simulation::ai_grader::parse_grade(&reply.content, &rubric, &learner) {
            Ok(ai) => {
                let detail = json!({
                    "criteria": ai.criteria, "strengths": ai.strengths, "improvements": ai.improvements,
                    "replacements": ai.replacements,
                    "feedbacks": [{"feedback": ai.feedback, "total": ai.outcome.score}],
                    "outcome": ai.outcome, "dropped_quotes": ai.dropped_quotes, "model": reply.model,
                });
                let detail = self.keep_unasked_parts(&grade, detail).await?;
                self.finish(&grade, Ok((ai.outcome.score as i64, ai.outcome.passed, detail)))
                    .await
            }
            // A model that answers off the schema may do better on another try; the job's
            // attempts bound how often.
            Err(e) if job.attempts < job.max_attempts => Err(JobFailure::retry(format!("AI grade unusable: {e}"))),
            Err(e) => self.finish(&grade, Err(format!("AI grade unusable: {e}"))).await,
        }
    }

    /// Upkeep of the simulation chats (run by the sweeper with the job kinds' upkeep): a reply
    /// left `streaming` by a process that died is marked `failed`.
    async fn sweep(&self) -> anyhow::Result<()> {
        let at = super::now();
        let before = us(at) - super::chat::STALE_STREAM.as_micros() as i64;
        let n = self.state.store.sim_fail_stale_streams(before, us(at)).await?;
        if n > 0 {
            tracing::warn!(replies = n, "replies left streaming by a stopped process marked failed");
        }
        Ok(())
    }

    async fn dead(&self, job: &ClaimedJob, error: &str) -> anyhow::Result<()> {
        if let Some(id) = job.payload.get("grade_id").and_then(Value::as_str)
            && let Some(grade) = self.state.store.sim_grade(id).await?
            && grade.state == "pending"
        {
            self.finish(&grade, Err(error.to_owned()))
                .await
                .map_err(|f| anyhow::anyhow!(f.error))?;
        }
        Ok(())
    }
}
