//! The attempt flow: start, next, end, end-all, use-previous, and `get`, which composes the
//! attempt bundle (derived fields from the rules engine, content, chats, messages, grades).

use std::collections::{BTreeMap, HashMap};

use serde_json::{Value, json};
use simulation::attempt::{Attempt, AttemptChat, AttemptSource, ChatEntry, StartAttempt};
use simulation::rubric::Rubric;

use super::wire::*;
use super::{Access, Loaded, access, ensure_player, load, mutate, new_id, refused, rfc3339, us, writer};
use crate::app::AppState;
use crate::auth::Caller;
use crate::content::Simulation;
use crate::error::{ApiError, ApiResult};
use crate::storage::sim_store::{SimAttemptRow, SimChatRow, SimGradeRow, SimWrite};

/// A chat entry's id: one per scenario slot of a home or practice (the content bundle has no
/// chat entries of its own, so the slot is named by both).
pub(crate) fn chat_entry_id(source_id: &str, scenario_id: &str) -> String {
    format!("{source_id}/{scenario_id}")
}

pub(crate) fn source_id(source: &AttemptSource) -> &str {
    match source {
        AttemptSource::Home(id) | AttemptSource::Practice(id) => id,
    }
}

pub(crate) async fn simulation_of(state: &AppState, simulation_id: &str) -> ApiResult<Simulation> {
    state
        .store
        .simulation(simulation_id)
        .await?
        .ok_or_else(|| ApiError::Conflict(format!("simulation {simulation_id:?} is not in the content any more")))
}

/// The rubric in force for a scenario: its own, else the simulation's.
pub(crate) async fn rubric_for(state: &AppState, sim: &Simulation, scenario_id: &str) -> ApiResult<Rubric> {
    let rubric_id = sim
        .scenarios
        .iter()
        .find(|s| s.id == scenario_id)
        .and_then(|s| s.rubric_id.clone())
        .unwrap_or_else(|| sim.rubric_id.clone());
    state
        .sim
        .rubric(state.store.as_ref(), &rubric_id)
        .await?
        .map(|r| (*r).clone())
        .ok_or_else(|| ApiError::Conflict(format!("rubric {rubric_id:?} is not in the content any more")))
}

async fn chat_entries(state: &AppState, source_id: &str, sim: &Simulation) -> ApiResult<Vec<ChatEntry>> {
    let mut entries = Vec::with_capacity(sim.scenarios.len());
    for (position, scenario) in sim.scenarios.iter().enumerate() {
        let rubric = rubric_for(state, sim, &scenario.id).await?;
        entries.push(ChatEntry {
            chat_entry_id: chat_entry_id(source_id, &scenario.id),
            scenario_id: scenario.id.clone(),
            scenario_name: scenario.name.clone(),
            position: position as u32,
            rubric_points: rubric.total_points(),
            pass_points: rubric.pass_points(),
        });
    }
    Ok(entries)
}

fn chat_row(loaded: &Loaded, chat: &AttemptChat, rubric: &Rubric, caller: &Caller) -> ApiResult<SimChatRow> {
    let position = loaded
        .attempt
        .chats
        .iter()
        .position(|c| c.chat_id == chat.chat_id)
        .unwrap_or(loaded.attempt.chats.len()) as i64;
    Ok(SimChatRow {
        id: chat.chat_id.clone(),
        attempt_id: loaded.row.id.clone(),
        profile_id: loaded.row.profile_id.clone(),
        chat_entry_id: chat.chat_entry_id.clone(),
        scenario_id: chat.scenario_id.clone(),
        position,
        started_at: us(chat.started_at),
        ended_at: chat.ended_at.map(us),
        rubric: serde_json::to_value(rubric).map_err(|e| ApiError::Internal(e.into()))?,
        created_by: caller.id.clone(),
        via_agent: caller.via_agent,
    })
}

pub async fn start(state: AppState, caller: Caller, req: StartRequest) -> ApiResult<StartResponse> {
    let request = StartAttempt {
        home_id: req.home_id.clone(),
        practice_id: req.practice_id.clone(),
        infinite_mode: req.infinite_mode,
    };
    let source = request.source().map_err(refused)?;
    let (simulation_id, home) = match &source {
        AttemptSource::Home(id) => {
            let home = state
                .store
                .home(id)
                .await?
                .ok_or_else(|| ApiError::NotFound(format!("home_id: no home {id:?}")))?;
            (home.simulation_id.clone(), Some(home))
        }
        AttemptSource::Practice(id) => {
            let practice = state
                .store
                .practice(id)
                .await?
                .ok_or_else(|| ApiError::NotFound(format!("practice_id: no practice {id:?}")))?;
            (practice.simulation_id, None)
        }
    };
    let sim = simulation_of(&state, &simulation_id).await?;
    let sid = source_id(&source).to_owned();
    let entries = chat_entries(&state, &sid, &sim).await?;
    let at = super::now();
    let attempt_id = new_id();
    let chat_id = new_id();
    let attempt = Attempt::start(
        attempt_id.clone(),
        &request,
        entries,
        chat_id.clone(),
        sim.time_limit,
        at,
    )
    .map_err(refused)?;
    // SIMULATION.md: a home's department; for a practice, the learner's first department.
    let (department_id, cohort_id) = match &home {
        Some(h) => (h.department_id.clone(), h.cohort_id.clone()),
        None => (
            state.store.profile_departments(&caller.id).await?.into_iter().next(),
            None,
        ),
    };
    let row = SimAttemptRow {
        id: attempt_id.clone(),
        profile_id: caller.id.clone(),
        home_id: home.as_ref().map(|h| h.id.clone()),
        practice_id: matches!(source, AttemptSource::Practice(_)).then(|| sid.clone()),
        simulation_id: sim.id.clone(),
        department_id,
        cohort_id,
        infinite_mode: attempt.infinite_mode,
        is_archived: false,
        created_at: us(at),
        ended_at: None,
        state: serde_json::to_value(&attempt).map_err(|e| ApiError::Internal(e.into()))?,
        version: 1,
        created_by: caller.id.clone(),
        via_agent: caller.via_agent,
    };
    let first = attempt
        .chats
        .first()
        .cloned()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("a started attempt has no chat")))?;
    let rubric = rubric_for(&state, &sim, &first.scenario_id).await?;
    let loaded = Loaded {
        row: row.clone(),
        attempt,
    };
    let chat = chat_row(&loaded, &first, &rubric, &caller)?;
    state
        .store
        .sim_write(&[
            SimWrite::InsertAttempt(row),
            SimWrite::InsertChat(chat),
            SimWrite::Link {
                attempt_id: attempt_id.clone(),
                chat_id: chat_id.clone(),
                position: 0,
                linked: false,
                at: us(at),
                by: writer(&caller),
            },
        ])
        .await?;
    Ok(StartResponse {
        attempt_id,
        chat_entry_id: Some(first.chat_entry_id),
        attempt_chat_id: Some(chat_id),
    })
}

pub async fn next(state: AppState, caller: Caller, req: NextRequest) -> ApiResult<NextResponse> {
    let first = load(&state, &req.attempt_id).await?;
    ensure_player(&state, &caller, &first.row).await?;
    let sim = simulation_of(&state, &first.row.simulation_id).await?;
    let draft = req
        .draft_id
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(str::to_owned);
    if let Some(d) = &draft
        && !first
            .attempt
            .chat_entries
            .iter()
            .any(|e| &e.chat_entry_id == d || &e.scenario_id == d)
    {
        return Err(ApiError::NotFound(format!("draft_id: no draft {d:?} in this attempt")));
    }
    // The rubrics as the content has them now: the new chat snapshots them.
    let mut rubrics = HashMap::new();
    for entry in &first.attempt.chat_entries {
        rubrics.insert(
            entry.scenario_id.clone(),
            rubric_for(&state, &sim, &entry.scenario_id).await?,
        );
    }
    let chat_id = new_id();
    mutate(&state, &caller, &req.attempt_id, |loaded, at| {
        for entry in &mut loaded.attempt.chat_entries {
            if let Some(r) = rubrics.get(&entry.scenario_id) {
                entry.rubric_points = r.total_points();
                entry.pass_points = r.pass_points();
            }
        }
        let chat = match &draft {
            Some(d) => loaded.attempt.next_entry(chat_id.clone(), d, at),
            None => loaded.attempt.next(chat_id.clone(), at),
        }
        .map_err(refused)?
        .clone();
        let rubric = rubrics
            .get(&chat.scenario_id)
            .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("no rubric for scenario {}", chat.scenario_id)))?;
        let row = chat_row(loaded, &chat, rubric, &caller)?;
        let position = row.position;
        Ok((
            (),
            vec![
                SimWrite::InsertChat(row),
                SimWrite::Link {
                    attempt_id: req.attempt_id.clone(),
                    chat_id: chat_id.clone(),
                    position,
                    linked: false,
                    at: us(at),
                    by: writer(&caller),
                },
            ],
        ))
    })
    .await?;
    Ok(NextResponse {
        attempt_id: req.attempt_id,
        chat_id,
    })
}

pub async fn end(state: AppState, caller: Caller, req: EndRequest) -> ApiResult<EndResponse> {
    let first = load(&state, &req.attempt_id).await?;
    let standing = access(&state, &caller, &first.row).await?;
    let supplied = super::grading::supplied(&req.supplied);
    if supplied.is_supplied() {
        super::ensure_may_supply(&caller, "grades")?;
    }
    if standing == Access::Teacher && !supplied.is_supplied() {
        return Err(ApiError::Forbidden(
            "teachers end a chat only with the grade they supply".into(),
        ));
    }
    if standing == Access::None {
        return Err(ApiError::Forbidden("not an attempt you may act on".into()));
    }
    if !first.attempt.chats.iter().any(|c| c.chat_id == req.chat_id) {
        return Err(ApiError::NotFound(format!(
            "chat_id: no chat {:?} in this attempt",
            req.chat_id
        )));
    }
    let checked = supplied
        .time_taken
        .map(|t| u64::try_from(t).ok())
        .map(|t| t.ok_or_else(|| ApiError::Validation("time_taken: must be 0 or more seconds".into())));
    let time_taken = checked.transpose()?;
    let outcome = mutate(&state, &caller, &req.attempt_id, |loaded, at| {
        let outcome = loaded.attempt.end_chat(&req.chat_id, time_taken, at).map_err(refused)?;
        let writes = if outcome.newly_ended {
            vec![SimWrite::EndChat {
                chat_id: req.chat_id.clone(),
                ended_at: us(at),
            }]
        } else {
            Vec::new()
        };
        Ok((outcome, writes))
    })
    .await?;
    let mut response = EndResponse {
        chat_id: req.chat_id.clone(),
        is_attempt_finished: Some(outcome.is_attempt_finished),
        grade_id: None,
        score: None,
        passed: None,
    };
    if supplied.is_supplied() || req.grade {
        let graded = super::grading::grade_chat(
            &state,
            &caller,
            &req.attempt_id,
            &req.chat_id,
            &supplied,
            super::grading::Ask::default(),
        )
        .await?;
        response.grade_id = Some(graded.grade_id);
        response.score = graded.score;
        response.passed = graded.passed;
    }
    Ok(response)
}

pub async fn end_all(state: AppState, caller: Caller, req: AttemptIdRequest) -> ApiResult<EndAllResponse> {
    let first = load(&state, &req.attempt_id).await?;
    ensure_player(&state, &caller, &first.row).await?;
    let outcome = mutate(&state, &caller, &req.attempt_id, |loaded, at| {
        let outcome = loaded.attempt.end_all(at);
        let writes = outcome
            .ended_chat_ids
            .iter()
            .map(|id| SimWrite::EndChat {
                chat_id: id.clone(),
                ended_at: us(at),
            })
            .collect();
        Ok((outcome, writes))
    })
    .await?;
    let message = if outcome.already_ended {
        "the attempt had already ended".to_owned()
    } else if outcome.ended_chat_ids.is_empty() {
        "the attempt has ended".to_owned()
    } else {
        format!(
            "the attempt has ended; {} running chat(s) ended",
            outcome.ended_chat_ids.len()
        )
    };
    Ok(EndAllResponse {
        attempt_id: req.attempt_id,
        success: true,
        all_scenarios_complete: outcome.all_scenarios_complete,
        message: Some(message),
    })
}

/// The learner's chats for these chat entries in other attempts, as the rules engine sees them
/// (with the grade their attempt recorded).
pub(crate) async fn earlier_chats(
    state: &AppState,
    profile_id: &str,
    entry_ids: &[String],
    except_attempt: &str,
) -> ApiResult<Vec<AttemptChat>> {
    let rows = state.store.sim_learner_chats(profile_id, entry_ids).await?;
    let mut attempts: HashMap<String, Attempt> = HashMap::new();
    let mut out = Vec::new();
    for row in rows {
        if row.attempt_id == except_attempt {
            continue;
        }
        if !attempts.contains_key(&row.attempt_id) {
            let Some(a) = state.store.sim_attempt(&row.attempt_id).await? else {
                continue;
            };
            attempts.insert(row.attempt_id.clone(), super::decode_state(&a)?);
        }
        if let Some(chat) = attempts[&row.attempt_id].chats.iter().find(|c| c.chat_id == row.id) {
            out.push(chat.clone());
        }
    }
    Ok(out)
}

pub async fn use_previous(state: AppState, caller: Caller, req: UsePreviousRequest) -> ApiResult<SuccessResponse> {
    if req.previous_chat_map.len() > super::MAX_IDS {
        return Err(ApiError::Validation(format!(
            "previous_chat_map: at most {} entries",
            super::MAX_IDS
        )));
    }
    let first = load(&state, &req.attempt_id).await?;
    ensure_player(&state, &caller, &first.row).await?;
    let entry_ids: Vec<String> = req.previous_chat_map.keys().cloned().collect();
    // Only the learner's own chats are offered to the rules (SIMULATION.md: same learner).
    let earlier = earlier_chats(&state, &first.row.profile_id, &entry_ids, &req.attempt_id).await?;
    let map: BTreeMap<String, String> = req.previous_chat_map.clone();
    let linked = mutate(&state, &caller, &req.attempt_id, |loaded, at| {
        let linked = loaded.attempt.use_previous(&map, &earlier, at).map_err(refused)?;
        let writes = linked
            .iter()
            .map(|chat_id| {
                let position = loaded
                    .attempt
                    .chats
                    .iter()
                    .position(|c| &c.chat_id == chat_id)
                    .unwrap_or(0) as i64;
                SimWrite::Link {
                    attempt_id: req.attempt_id.clone(),
                    chat_id: chat_id.clone(),
                    position,
                    linked: true,
                    at: us(at),
                    by: writer(&caller),
                }
            })
            .collect();
        Ok((linked, writes))
    })
    .await?;
    Ok(SuccessResponse {
        success: true,
        message: Some(format!(
            "{} earlier chat(s) and their grades now count in this attempt",
            linked.len()
        )),
    })
}

/// The latest finished grade of each chat, and the latest of any state.
pub(crate) fn latest_grades(grades: &[SimGradeRow]) -> (HashMap<&str, &SimGradeRow>, HashMap<&str, &SimGradeRow>) {
    let mut done: HashMap<&str, &SimGradeRow> = HashMap::new();
    let mut any: HashMap<&str, &SimGradeRow> = HashMap::new();
    // Rows come ordered by (chat, created_at, id): later ones replace earlier ones.
    for g in grades {
        any.insert(g.chat_id.as_str(), g);
        if g.state == "done" {
            done.insert(g.chat_id.as_str(), g);
        }
    }
    (done, any)
}

fn grade_json(g: &SimGradeRow) -> Value {
    json!({
        "id": g.id,
        "chat_id": g.chat_id,
        "source": g.source,
        "state": g.state,
        "score": g.score,
        "max_score": g.max_score,
        "passed": g.passed,
        "percentage": g.score.map(|s| simulation::rubric::percentage(s.max(0) as u64, g.max_score.max(0) as u64)),
        "detail": g.detail,
        "request": g.request,
        "error": g.error,
        "via_agent": g.via_agent,
        "created_at": rfc3339(g.created_at),
        "finished_at": g.finished_at.map(rfc3339),
    })
}

pub async fn get(state: AppState, caller: Caller, req: AttemptIdRequest) -> ApiResult<GetResponse> {
    let actor_name = super::actor_name(&state, &caller).await?;
    let Some(row) = state.store.sim_attempt(req.attempt_id.trim()).await? else {
        return Ok(GetResponse {
            actor_name,
            attempt_exists: Some(false),
            ..Default::default()
        });
    };
    let standing = access(&state, &caller, &row).await?;
    if standing == Access::None {
        // Not a 500 and not the data: the client shows "no access".
        return Ok(GetResponse {
            actor_name,
            attempt_exists: Some(true),
            access_denied: Some(true),
            is_own_attempt: Some(false),
            ..Default::default()
        });
    }
    let attempt = super::decode_state(&row)?;
    let at = super::now();
    let progress = attempt.progress(at);
    let results = attempt.aggregated_results();
    let sim = state.sim.simulation(state.store.as_ref(), &row.simulation_id).await?;
    let chats = state.store.sim_attempt_chats(&row.id).await?;
    let chat_ids: Vec<String> = chats.iter().map(|c| c.id.clone()).collect();
    let messages = state.store.sim_messages(&chat_ids).await?;
    let grades = state.store.sim_grades(&chat_ids).await?;
    let responses = state.store.sim_responses(&chat_ids).await?;
    let (latest_done, latest_any) = latest_grades(&grades);
    let staff = standing != Access::Owner;

    let continuation = if matches!(attempt.source, AttemptSource::Home(_)) && progress.is_lobby {
        let remaining: Vec<String> = attempt.remaining_entries().map(|e| e.chat_entry_id.clone()).collect();
        let earlier = earlier_chats(&state, &row.profile_id, &remaining, &row.id).await?;
        attempt
            .continuation_options(&earlier, at)
            .map(|o| serde_json::to_value(o).unwrap_or(Value::Null))
    } else {
        None
    };

    let current_chat = progress
        .current_chat_id
        .as_ref()
        .and_then(|id| chats.iter().find(|c| &c.id == id));
    let rubric_structure = current_chat
        .and_then(|c| serde_json::from_value::<Rubric>(c.rubric.clone()).ok())
        .map(|r| serde_json::to_value(r.structure()).unwrap_or(Value::Null));

    // Messages with their branch position: siblings share a parent.
    let mut siblings: HashMap<(&str, Option<&str>), Vec<&str>> = HashMap::new();
    for m in &messages {
        siblings
            .entry((m.chat_id.as_str(), m.parent_message_id.as_deref()))
            .or_default()
            .push(m.id.as_str());
    }
    let message_entries: Vec<Value> = messages
        .iter()
        .map(|m| {
            let group = &siblings[&(m.chat_id.as_str(), m.parent_message_id.as_deref())];
            json!({
                "id": m.id,
                "chat_id": m.chat_id,
                "seq": m.seq,
                "type": m.kind,
                "content": m.content,
                "parent_message_id": m.parent_message_id,
                "contents": m.contents,
                "hints": m.hints,
                "status": m.status,
                "source": m.source,
                "via_agent": m.via_agent,
                "sibling_index": group.iter().position(|id| *id == m.id).unwrap_or(0),
                "sibling_count": group.len(),
                "created_at": rfc3339(m.created_at),
                "updated_at": rfc3339(m.updated_at),
            })
        })
        .collect();
    let chat_entries: Vec<Value> = chats
        .iter()
        .map(|c| {
            let engine = attempt.chats.iter().find(|a| a.chat_id == c.id);
            json!({
                "id": c.id,
                "attempt_id": c.attempt_id,
                "linked": c.attempt_id != row.id,
                "chat_entry_id": c.chat_entry_id,
                "scenario_id": c.scenario_id,
                "position": attempt.chats.iter().position(|a| a.chat_id == c.id),
                "started_at": rfc3339(c.started_at),
                "ended_at": engine.and_then(|e| e.ended_at).map(|t| rfc3339(us(t))),
                "time_taken": engine.and_then(|e| e.time_taken()),
                "rubric_points": engine.map(|e| e.rubric_points),
                "pass_points": engine.map(|e| e.pass_points),
                "grade": latest_done.get(c.id.as_str()).map(|g| grade_json(g)),
                "grading": latest_any.get(c.id.as_str()).filter(|g| g.state != "done").map(|g| grade_json(g)),
                "feedbacks": latest_done.get(c.id.as_str()).map(|g| g.detail.get("feedbacks").cloned().unwrap_or(Value::Null)),
                "responses": responses.iter().filter(|r| r.chat_id == c.id).map(|r| json!({
                    "id": r.id, "question_id": r.question_id, "option_ids": r.option_ids,
                    "is_correct": r.is_correct, "created_at": rfc3339(r.created_at), "via_agent": r.via_agent,
                })).collect::<Vec<_>>(),
                "via_agent": c.via_agent,
            })
        })
        .collect();

    let attempt_data = AttemptData {
        id: row.id.clone(),
        created_at: rfc3339(row.created_at),
        infinite_mode: row.infinite_mode,
        profile_id: row.profile_id.clone(),
        profile_name: state.store.profile(&row.profile_id).await?.map(|p| p.name),
        user_persona_id: None,
        department_id: row.department_id.clone(),
        cohort_id: row.cohort_id.clone(),
        is_archived: row.practice_id.is_some().then_some(row.is_archived),
        home_id: row.home_id.clone(),
        practice_id: row.practice_id.clone(),
        ended_at: row.ended_at.map(rfc3339),
    };

    let mut resources = json!({});
    let simulation_data = match &sim {
        Some(s) => {
            resources = resources_of(&state, s, &chats, staff).await?;
            Some(SimulationData {
                id: s.id.clone(),
                name: s.name.clone(),
                description: None,
                time_limit: i64::from(s.time_limit),
                hints_enabled: s.hints_enabled,
                objectives_enabled: s.scenarios.iter().any(|sc| !sc.objectives.is_empty()),
                image_input_active: false,
                copy_paste_allowed: true,
                practice_simulation: row.practice_id.is_some(),
                rubric_id: s.rubric_id.clone(),
            })
        }
        None => None,
    };

    Ok(GetResponse {
        actor_name,
        attempt_exists: Some(true),
        access_denied: Some(false),
        attempt: Some(attempt_data.clone()),
        simulation: simulation_data,
        timer: Some(TimerData {
            elapsed: progress.timer.elapsed,
            limit: progress.timer.limit,
            exceeded: progress.timer.exceeded,
            formatted: progress.timer.formatted.clone(),
            negative: progress.timer.negative,
        }),
        aggregated_results: Some(AggregatedResults {
            total_score: results.total_score as i64,
            total_possible_points: results.total_possible_points as i64,
            percentage: results.percentage,
            passed: results.passed,
            chats_completed: results.chats_completed as i64,
            total_chats: results.total_chats as i64,
        }),
        current_chat_index: progress.current_chat_index.map(|i| i as i64),
        expected_chat_count: progress.expected_chat_count.map(|i| i as i64),
        is_active: Some(progress.is_active),
        is_lobby: Some(progress.is_lobby),
        show_results: Some(progress.show_results),
        should_show_controls: Some(progress.should_show_controls),
        is_own_attempt: Some(standing == Access::Owner),
        current_chat_id: progress.current_chat_id.clone(),
        has_messages: !messages.is_empty(),
        available_continuation_options: continuation,
        rubric_structure,
        training_id: progress.chat_entry_id.clone(),
        chat_entry_id: progress.chat_entry_id.clone(),
        resources: Some(resources),
        entries: Some(json!({
            "attempt": attempt_data,
            "attempt_chat": chat_entries,
            "attempt_message": message_entries,
        })),
    })
}

/// Content the attempt refers to, by id. Learners do not see which options are correct or the
/// personas' instructions (they would give the game away); staff do.
async fn resources_of(state: &AppState, sim: &Simulation, chats: &[SimChatRow], staff: bool) -> ApiResult<Value> {
    let mut scenarios = serde_json::Map::new();
    let mut personas = serde_json::Map::new();
    let mut questions = serde_json::Map::new();
    let mut options = serde_json::Map::new();
    for s in &sim.scenarios {
        scenarios.insert(
            s.id.clone(),
            json!({
                "id": s.id, "name": s.name, "problem_statement": s.problem_statement,
                "objectives": s.objectives, "persona_ids": s.persona_ids,
                "rubric_id": s.rubric_id.clone().unwrap_or_else(|| sim.rubric_id.clone()),
                "question_ids": s.questions.iter().map(|q| q.id.clone()).collect::<Vec<_>>(),
            }),
        );
        for pid in &s.persona_ids {
            if personas.contains_key(pid) {
                continue;
            }
            if let Some(p) = state.store.persona(pid).await? {
                let mut v = json!({"id": p.id, "name": p.name, "color": p.color, "icon": p.icon});
                if staff {
                    v["instructions"] = json!(p.instructions);
                }
                personas.insert(pid.clone(), v);
            }
        }
        for q in &s.questions {
            questions.insert(
                q.id.clone(),
                json!({"id": q.id, "scenario_id": s.id, "question_text": q.question_text,
                       "allow_multiple": q.allow_multiple,
                       "option_ids": q.options.iter().map(|o| o.id.clone()).collect::<Vec<_>>()}),
            );
            for o in &q.options {
                let mut v = json!({"id": o.id, "question_id": q.id, "option_text": o.option_text});
                if staff {
                    v["is_correct"] = json!(o.is_correct);
                }
                options.insert(format!("{}/{}", q.id, o.id), v);
            }
        }
    }
    let mut rubrics = serde_json::Map::new();
    let mut groups = serde_json::Map::new();
    let mut standards = serde_json::Map::new();
    for c in chats {
        let Ok(r) = serde_json::from_value::<Rubric>(c.rubric.clone()) else {
            continue;
        };
        let structure = serde_json::to_value(r.structure()).unwrap_or(Value::Null);
        rubrics.insert(
            r.id.clone(),
            json!({"id": r.id, "name": r.name, "total_points": r.total_points(), "pass_points": r.pass_points()}),
        );
        if let Some(m) = structure.get("standard_groups_mapping").and_then(Value::as_object) {
            groups.extend(m.clone());
        }
        if let Some(m) = structure.get("standards_mapping").and_then(Value::as_object) {
            standards.extend(m.clone());
        }
    }
    Ok(json!({
        "scenarios": scenarios, "personas": personas, "questions": questions, "options": options,
        "rubrics": rubrics, "standard_groups": groups, "standards": standards,
    }))
}
