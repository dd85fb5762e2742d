//! Search, archive, export, refresh and docs: the attempt operations over many attempts.

use std::collections::BTreeSet;

use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime, Time};

use super::wire::*;
use super::{Access, access, ids, us, writer};
use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::storage::Role;
use crate::storage::sim_store::{SimExportRow, SimFilter, SimScope, SimWrite};

const DEFAULT_PAGE: i64 = 20;
const MAX_PAGE: i64 = 200;
/// Most rows one export holds (all four files together).
const MAX_EXPORT_ROWS: usize = 500_000;
/// The tag of the composed docs in the process's cache.
const DOCS_TAG: &str = "attempt-docs";

/// Which attempts the caller may see (search) and archive.
async fn scope(state: &AppState, caller: &Caller) -> ApiResult<SimScope> {
    Ok(match caller.role {
        Role::Admin | Role::Agent => SimScope::All,
        Role::Teacher => {
            SimScope::OwnOrDepartments(caller.id.clone(), state.store.profile_departments(&caller.id).await?)
        }
        Role::Student => SimScope::Own(caller.id.clone()),
    })
}

/// A date bound: RFC 3339, or a calendar date (`2026-12-01`: from its first microsecond, or
/// to its last for an end).
fn date_bound(field: &str, value: &Option<String>, end: bool) -> ApiResult<Option<i64>> {
    let Some(v) = value.as_deref().map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if let Ok(t) = OffsetDateTime::parse(v, &Rfc3339) {
        return Ok(Some(us(t)));
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let day = Date::parse(v, &format)
        .map_err(|_| ApiError::Validation(format!("{field}: {v:?} is not a date (YYYY-MM-DD or RFC 3339)")))?;
    let t = if end {
        day.with_time(Time::MAX).assume_utc()
    } else {
        day.with_time(Time::MIDNIGHT).assume_utc()
    };
    Ok(Some(us(t)))
}

fn section(
    options: Vec<crate::storage::sim_store::SimFacet>,
    selected: &Option<Vec<String>>,
    search: &Option<String>,
) -> ListFilterSection {
    ListFilterSection {
        options: options
            .into_iter()
            .map(|f| ListFilterOption {
                value: Some(f.id.clone()),
                id: f.id,
                name: f.name,
                count: f.count,
                hex_code: f.hex_code,
                kind: None,
            })
            .collect(),
        selected_ids: selected.clone().unwrap_or_default(),
        search: search.clone(),
    }
}

pub async fn search(state: AppState, caller: Caller, req: SearchRequest) -> ApiResult<SearchResponse> {
    let limit = req.page_size.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::Validation(format!("page_size: 1 to {MAX_PAGE}")));
    }
    let offset = req.page_offset.unwrap_or(0);
    if offset < 0 {
        return Err(ApiError::Validation("page_offset: must be 0 or more".into()));
    }
    let filter = SimFilter {
        search: req.search.clone(),
        simulation_ids: ids("simulation_ids", &req.simulation_ids)?,
        department_ids: ids("department_ids", &req.department_ids)?,
        practice: req.practice,
        is_archived: req.is_archived,
        infinite_mode: req.infinite_mode,
        start: date_bound("start_date", &req.start_date, false)?,
        end: date_bound("end_date", &req.end_date, true)?,
        simulation_search: req.simulation_search.clone(),
        department_search: req.department_search.clone(),
        ..Default::default()
    };
    let scope = scope(&state, &caller).await?;
    let page = state.store.sim_search(&scope, &filter, limit, offset).await?;
    Ok(SearchResponse {
        actor_name: super::actor_name(&state, &caller).await?,
        attempts: Some(
            page.rows
                .into_iter()
                .map(|r| SearchAttemptItem {
                    date: super::rfc3339(r.attempt.created_at),
                    practice: r.attempt.practice_id.is_some(),
                    attempt_id: r.attempt.id,
                    profile_id: r.attempt.profile_id,
                    profile_name: r.profile_name,
                    simulation_id: r.attempt.simulation_id,
                    simulation_name: r.simulation_name,
                    department_id: r.attempt.department_id,
                    cohort_id: r.attempt.cohort_id,
                    infinite_mode: r.attempt.infinite_mode,
                    num_chats: r.num_chats,
                    is_archived: r.attempt.is_archived,
                    scenario_ids: r.scenario_ids,
                })
                .collect(),
        ),
        simulation_filter: Some(section(page.simulations, &req.simulation_ids, &req.simulation_search)),
        department_filter: Some(section(page.departments, &req.department_ids, &req.department_search)),
        total_count: Some(page.total_count),
    })
}

pub async fn archive(state: AppState, caller: Caller, req: ArchiveRequest) -> ApiResult<ArchiveResponse> {
    let attempt_ids = ids("attempt_ids", &req.attempt_ids)?.filter(|l| !l.is_empty());
    let start = date_bound("start_date", &req.start_date, false)?;
    let end = date_bound("end_date", &req.end_date, true)?;
    if attempt_ids.is_none() && start.is_none() && end.is_none() {
        return Err(ApiError::BadRequest(
            "attempt_ids or a date range (start_date, end_date) is required".into(),
        ));
    }
    if let (Some(s), Some(e)) = (start, end)
        && s > e
    {
        return Err(ApiError::Validation("end_date: is before start_date".into()));
    }
    let filter = SimFilter {
        attempt_ids,
        cohort_ids: ids("cohort_ids", &req.cohort_ids)?,
        department_ids: ids("department_ids", &req.department_ids)?,
        simulation_ids: ids("simulation_ids", &req.simulation_ids)?,
        scenario_ids: ids("scenario_ids", &req.scenario_ids)?,
        profile_ids: ids("profile_ids_filter", &req.profile_ids_filter)?,
        infinite_mode: req.infinite_mode,
        start,
        end,
        ..Default::default()
    };
    let scope = scope(&state, &caller).await?;
    let changed = state
        .store
        .sim_archive(&scope, &filter, req.archived, us(super::now()), &writer(&caller))
        .await?;
    let profiles: BTreeSet<String> = changed.iter().map(|(_, p)| p.clone()).collect();
    Ok(ArchiveResponse {
        updated_count: changed.len() as i64,
        profile_ids_to_invalidate: Some(profiles.into_iter().collect()),
    })
}

pub async fn refresh(state: AppState, caller: Caller, _req: super::Empty) -> ApiResult<RefreshResponse> {
    if caller.role == Role::Student {
        return Err(ApiError::Forbidden(
            "refreshing the analytics views is for staff and agents".into(),
        ));
    }
    let refreshed_views = state.store.sim_refresh().await?;
    let mut invalidated_tags = Vec::new();
    if state.sim.clear_docs() {
        invalidated_tags.push(DOCS_TAG.to_owned());
    }
    invalidated_tags.extend(refreshed_views.iter().map(|v| format!("view:{v}")));
    Ok(RefreshResponse {
        success: true,
        refreshed_views,
        invalidated_tags,
    })
}

pub async fn docs(state: AppState, caller: Caller, req: DocsRequest) -> ApiResult<DocsPage> {
    let _ = caller;
    let key = req.entity_id.clone().unwrap_or_default();
    if let Some(page) = state.sim.cached_docs(&key) {
        return Ok(page);
    }
    let page = super::docs::compose(&state, req.entity_id.as_deref()).await?;
    state.sim.cache_docs(&key, page.clone());
    Ok(page)
}

pub const EXPORT_JOB: &str = "sim-export";

pub async fn export(state: AppState, caller: Caller, req: AttemptIdRequest) -> ApiResult<ExportResponse> {
    let loaded = super::load(&state, &req.attempt_id).await?;
    if access(&state, &caller, &loaded.row).await? == Access::None {
        return Err(ApiError::Forbidden("not an attempt you may export".into()));
    }
    let tables = export_tables(&state, &loaded).await?;
    let row_count = simulation::export::row_count(&tables);
    let file_name = format!("attempt-{}.zip", loaded.row.id);
    if row_count as u64 > state.config.export_inline_rows {
        // Large: a job builds it; the id is handed out now and the download answers 409
        // until the file is there.
        let id = uuid::Uuid::now_v7();
        let at = us(super::now());
        state
            .store
            .sim_write(&[
                SimWrite::InsertExport(SimExportRow {
                    id: id.to_string(),
                    attempt_id: loaded.row.id.clone(),
                    state: "pending".into(),
                    file_name: file_name.clone(),
                    row_count: row_count as i64,
                    error: None,
                    created_by: caller.id.clone(),
                    via_agent: caller.via_agent,
                    created_at: at,
                    finished_at: None,
                }),
                SimWrite::Enqueue(crate::storage::NewJob {
                    id: uuid::Uuid::now_v7(),
                    kind: EXPORT_JOB.into(),
                    dedupe_key: Some(format!("{EXPORT_JOB}:{id}")),
                    payload: serde_json::json!({"export_id": id.to_string()}),
                    max_attempts: 3,
                    run_after: time::OffsetDateTime::now_utc(),
                }),
            ])
            .await?;
        state.jobs_wake.notify_waiters();
        return Ok(ExportResponse {
            upload_id: id.to_string(),
            file_name,
            row_count: row_count as i64,
        });
    }
    let record = write_export(&state, None, &caller.id, caller.via_agent, &file_name, tables).await?;
    Ok(ExportResponse {
        upload_id: record.id.to_string(),
        file_name,
        row_count: row_count as i64,
    })
}

/// Zips the tables (on a blocking thread: deflate is CPU work) and keeps the file as an upload.
async fn write_export(
    state: &AppState,
    id: Option<uuid::Uuid>,
    created_by: &str,
    via_agent: bool,
    file_name: &str,
    tables: simulation::export::ExportTables,
) -> ApiResult<crate::storage::UploadRecord> {
    let bytes = tokio::task::spawn_blocking(move || simulation::export::write_zip(&tables))
        .await
        .map_err(|e| ApiError::Internal(e.into()))?
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("{e}")))?;
    crate::uploads::store_file(
        state,
        id,
        created_by,
        via_agent,
        "export",
        file_name,
        "application/zip",
        bytes.into(),
    )
    .await
}

/// The attempt as four denormalized tables.
async fn export_tables(state: &AppState, loaded: &super::Loaded) -> ApiResult<simulation::export::ExportTables> {
    use simulation::export::{AttemptRow, ChatRow, ExportTables, GradeRow, MessageKind, MessageRow};
    let row = &loaded.row;
    let attempt = &loaded.attempt;
    let chats = state.store.sim_attempt_chats(&row.id).await?;
    let chat_ids: Vec<String> = chats.iter().map(|c| c.id.clone()).collect();
    let messages = state.store.sim_messages(&chat_ids).await?;
    let grades = state.store.sim_grades(&chat_ids).await?;
    if chats.len() + messages.len() + grades.len() + 1 > MAX_EXPORT_ROWS {
        return Err(ApiError::PayloadTooLarge(MAX_EXPORT_ROWS));
    }
    let name = |kind: &'static str, id: String| async move {
        Ok::<_, ApiError>(
            state
                .store
                .names(kind, std::slice::from_ref(&id))
                .await?
                .into_iter()
                .next()
                .map(|(_, n)| n),
        )
    };
    let results = attempt.aggregated_results();
    let scenario_ids: Vec<String> = chats.iter().map(|c| c.scenario_id.clone()).collect();
    let scenario_names = state.store.names("scenario", &scenario_ids).await?;
    Ok(ExportTables {
        attempts: vec![AttemptRow {
            attempt_id: row.id.clone(),
            created_at: super::rfc3339(row.created_at),
            profile_id: row.profile_id.clone(),
            profile_name: name("profile", row.profile_id.clone()).await?,
            simulation_id: row.simulation_id.clone(),
            simulation_name: name("simulation", row.simulation_id.clone()).await?,
            home_id: row.home_id.clone(),
            practice_id: row.practice_id.clone(),
            department_id: row.department_id.clone(),
            cohort_id: row.cohort_id.clone(),
            infinite_mode: row.infinite_mode,
            is_archived: row.is_archived,
            ended_at: row.ended_at.map(super::rfc3339),
            total_score: results.total_score,
            total_possible_points: results.total_possible_points,
            percentage: results.percentage,
            passed: results.passed,
        }],
        chats: chats
            .iter()
            .map(|c| {
                let engine = attempt.chats.iter().find(|a| a.chat_id == c.id);
                ChatRow {
                    attempt_id: row.id.clone(),
                    chat_id: c.id.clone(),
                    chat_entry_id: c.chat_entry_id.clone(),
                    scenario_id: c.scenario_id.clone(),
                    scenario_name: scenario_names
                        .iter()
                        .find(|(id, _)| id == &c.scenario_id)
                        .map(|(_, n)| n.clone()),
                    position: attempt.chats.iter().position(|a| a.chat_id == c.id).unwrap_or(0) as u32,
                    started_at: super::rfc3339(c.started_at),
                    ended_at: engine.and_then(|e| e.ended_at).map(|t| super::rfc3339(us(t))),
                    time_taken: engine.and_then(|e| e.time_taken()),
                    linked_from_attempt_id: (c.attempt_id != row.id).then(|| c.attempt_id.clone()),
                }
            })
            .collect(),
        messages: messages
            .iter()
            .map(|m| MessageRow {
                chat_id: m.chat_id.clone(),
                message_id: m.id.clone(),
                parent_message_id: m.parent_message_id.clone(),
                seq: m.seq.max(0) as u64,
                kind: if m.kind == "query" {
                    MessageKind::Query
                } else {
                    MessageKind::Response
                },
                content: m.content.clone(),
                status: Some(m.status.clone()),
                created_at: super::rfc3339(m.created_at),
                via_agent: m.via_agent,
            })
            .collect(),
        grades: grades
            .iter()
            .map(|g| GradeRow {
                chat_id: g.chat_id.clone(),
                grade_id: g.id.clone(),
                source: g.source.clone(),
                state: Some(g.state.clone()),
                score: g.score.map(|s| s.max(0) as u64),
                max_score: Some(g.max_score.max(0) as u64),
                passed: g.passed,
                percentage: g
                    .score
                    .map(|s| simulation::rubric::percentage(s.max(0) as u64, g.max_score.max(0) as u64)),
                feedback: feedback_text(&g.detail),
                created_at: super::rfc3339(g.created_at),
                via_agent: g.via_agent,
            })
            .collect(),
        generated_at: Some(time::OffsetDateTime::now_utc()),
    })
}

/// The feedback texts of a grade, one per line.
fn feedback_text(detail: &Value) -> Option<String> {
    let list = detail.get("feedbacks")?.as_array()?;
    let lines: Vec<&str> = list
        .iter()
        .filter_map(|f| f.get("feedback").and_then(Value::as_str))
        .collect();
    (!lines.is_empty()).then(|| lines.join("\n"))
}

/// Builds an export too large for its request (`sim-export`).
pub struct ExportJob {
    pub state: AppState,
}

impl ExportJob {
    async fn finish(&self, id: &str, outcome: Result<(), String>) -> Result<(), crate::jobs::JobFailure> {
        let (state, error) = match outcome {
            Ok(()) => ("done", None),
            Err(e) => ("failed", Some(e)),
        };
        match self
            .state
            .store
            .sim_write(&[SimWrite::FinishExport {
                id: id.to_owned(),
                state: state.into(),
                error,
                finished_at: us(super::now()),
            }])
            .await
        {
            // Finished by an earlier run whose lease expired: nothing left to do.
            Ok(()) | Err(crate::storage::StoreError::Conflict(_)) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

#[async_trait::async_trait]
impl crate::jobs::JobHandler for ExportJob {
    fn kind(&self) -> &'static str {
        EXPORT_JOB
    }

    async fn run(&self, job: &crate::storage::ClaimedJob, _owner: &str) -> Result<(), crate::jobs::JobFailure> {
        use crate::jobs::JobFailure;
        let id = job
            .payload
            .get("export_id")
            .and_then(Value::as_str)
            .ok_or_else(|| JobFailure::fatal("sim-export job without export_id"))?;
        let Some(x) = self.state.store.sim_export(id).await? else {
            return Err(JobFailure::fatal(format!("no export {id}")));
        };
        if x.state != "pending" {
            return Ok(());
        }
        let upload_id = uuid::Uuid::parse_str(id).map_err(|e| JobFailure::fatal(e.to_string()))?;
        // A run that stored the file and then lost its lease: the file is there, finish.
        if self.state.store.upload(upload_id).await?.is_none() {
            let loaded = super::load(&self.state, &x.attempt_id)
                .await
                .map_err(|e| JobFailure::retry(e.to_string()))?;
            let tables = match export_tables(&self.state, &loaded).await {
                Ok(t) => t,
                Err(ApiError::PayloadTooLarge(n)) => {
                    return self.finish(id, Err(format!("more than {n} rows"))).await;
                }
                Err(e) => return Err(JobFailure::retry(e.to_string())),
            };
            write_export(
                &self.state,
                Some(upload_id),
                &x.created_by,
                x.via_agent,
                &x.file_name,
                tables,
            )
            .await
            .map_err(|e| JobFailure::retry(e.to_string()))?;
        }
        self.finish(id, Ok(())).await
    }

    async fn dead(&self, job: &crate::storage::ClaimedJob, error: &str) -> anyhow::Result<()> {
        if let Some(id) = job.payload.get("export_id").and_then(Value::as_str) {
            self.finish(id, Err(error.to_owned()))
                .await
                .map_err(|f| anyhow::anyhow!(f.error))?;
        }
        Ok(())
    }
}
