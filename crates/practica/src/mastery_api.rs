//! Mastery for people: a student's topics, a course's heatmap, the students at risk. Each
//! (student, topic, course) row carries its probability of knowing the topic (BKT, updated by
//! every attempt), its level by the configured cut-offs, and its 7-day trend.

use axum::Json;
use axum::extract::{Path, Query, State};
use mastery::{Cutoffs, Direction, Level};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::storage::{MasteryRow, Role};

/// The trend window.
const TREND_DAYS: i64 = 7;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(student_mastery))
        .routes(routes!(course_mastery))
        .routes(routes!(course_at_risk))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Trend {
    /// p_known now minus p_known 7 days ago (the topic's p_init if every attempt is newer).
    delta: f64,
    #[schema(value_type = String, example = "up")]
    direction: Direction,
    /// The window's start (RFC 3339).
    since: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TopicMastery {
    topic_code: String,
    topic_name: Option<String>,
    /// Null for attempts made outside any course.
    course_id: Option<String>,
    p_known: f64,
    /// AT_RISK, DEVELOPING, PROFICIENT or MASTERED.
    #[schema(value_type = String, example = "DEVELOPING")]
    level: Level,
    attempts: i64,
    last_attempt_at: String,
    trend: Trend,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StudentMastery {
    student_id: String,
    topics: Vec<TopicMastery>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct StudentQuery {
    /// Only this course's rows.
    course_id: Option<String>,
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn cutoffs(state: &AppState) -> Cutoffs {
    Cutoffs {
        at_risk: state.config.mastery_at_risk_below,
        developing: state.config.mastery_developing_below,
        proficient: state.config.mastery_proficient_below,
    }
}

fn view(state: &AppState, row: MasteryRow, since: OffsetDateTime) -> TopicMastery {
    let topic = state.catalog.topic(&row.topic_code);
    let before = row
        .p_before
        .unwrap_or_else(|| topic.as_ref().map_or(row.p_known, |t| t.bkt.p_init));
    let (delta, direction) = mastery::trend(before, row.p_known);
    TopicMastery {
        topic_name: topic.map(|t| t.name_es),
        topic_code: row.topic_code,
        course_id: (!row.course_id.is_empty()).then_some(row.course_id),
        level: cutoffs(state).level(row.p_known),
        p_known: row.p_known,
        attempts: row.attempts,
        last_attempt_at: rfc3339(row.last_at),
        trend: Trend {
            delta,
            direction,
            since: rfc3339(since),
        },
    }
}

fn window_start() -> OffsetDateTime {
    OffsetDateTime::now_utc() - time::Duration::days(TREND_DAYS)
}

fn check_id(what: &str, id: &str) -> ApiResult<()> {
    if id.is_empty() || id.len() > diagnosis::request::MAX_ID_LEN {
        return Err(ApiError::Validation(format!(
            "{what}: must be 1 to {} bytes",
            diagnosis::request::MAX_ID_LEN
        )));
    }
    Ok(())
}

/// Whether the caller may read a course's mastery: its teachers, admins and agents.
async fn may_read_course(state: &AppState, caller: &Caller, course_id: &str) -> ApiResult<()> {
    let allowed = match caller.role {
        Role::Admin | Role::Agent => true,
        Role::Teacher => state.store.teaches_course(&caller.id, course_id).await?,
        Role::Student => false,
    };
    if allowed {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "only the course's teachers read its mastery".into(),
        ))
    }
}

/// A student's mastery per topic (and course): p_known, level, attempts, last attempt, 7-day
/// trend. Students read their own; teachers the students they teach.
#[utoipa::path(get, path = "/mastery/students/{studentId}", tag = "mastery",
    params(("studentId" = String, Path, description = "The student's profile id"), StudentQuery),
    responses((status = 200, body = StudentMastery), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn student_mastery(
    caller: Caller,
    State(state): State<AppState>,
    Path(student_id): Path<String>,
    query: Result<Query<StudentQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<StudentMastery>> {
    let Query(query) = query.map_err(|e| ApiError::Validation(e.body_text()))?;
    check_id("studentId", &student_id)?;
    if let Some(c) = &query.course_id {
        check_id("courseId", c)?;
    }
    if !caller
        .acts_for(state.store.as_ref(), &student_id, query.course_id.as_deref())
        .await?
    {
        return Err(ApiError::Forbidden("not a student whose mastery you may read".into()));
    }
    let since = window_start();
    let rows = state
        .store
        .student_mastery(&student_id, query.course_id.as_deref(), since)
        .await?;
    Ok(Json(StudentMastery {
        student_id,
        topics: rows.into_iter().map(|r| view(&state, r, since)).collect(),
    }))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HeatmapCell {
    topic_code: String,
    p_known: f64,
    #[schema(value_type = String, example = "PROFICIENT")]
    level: Level,
    attempts: i64,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HeatmapRow {
    student_id: String,
    cells: Vec<HeatmapCell>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CourseMastery {
    course_id: String,
    /// The columns: every topic some student of the course has attempted, sorted.
    topics: Vec<String>,
    /// One row per student with attempts in the course; a missing cell is a topic not attempted.
    students: Vec<HeatmapRow>,
}

/// The class heatmap: students × topics, p_known and level per cell. The course's teachers,
/// admins and agents.
#[utoipa::path(get, path = "/mastery/courses/{courseId}", tag = "mastery",
    params(("courseId" = String, Path, description = "Course id")),
    responses((status = 200, body = CourseMastery), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn course_mastery(
    caller: Caller,
    State(state): State<AppState>,
    Path(course_id): Path<String>,
) -> ApiResult<Json<CourseMastery>> {
    check_id("courseId", &course_id)?;
    may_read_course(&state, &caller, &course_id).await?;
    let rows = state.store.course_mastery(&course_id, window_start()).await?;
    let cut = cutoffs(&state);
    let mut topics: Vec<String> = rows.iter().map(|r| r.topic_code.clone()).collect();
    topics.sort();
    topics.dedup();
    let mut students: Vec<HeatmapRow> = Vec::new();
    for r in rows {
        // Rows come sorted by student, then topic.
        if students.last().is_none_or(|s| s.student_id != r.student_id) {
            students.push(HeatmapRow {
                student_id: r.student_id.clone(),
                cells: Vec::new(),
            });
        }
        if let Some(row) = students.last_mut() {
            row.cells.push(HeatmapCell {
                level: cut.level(r.p_known),
                topic_code: r.topic_code,
                p_known: r.p_known,
                attempts: r.attempts,
            });
        }
    }
    Ok(Json(CourseMastery {
        course_id,
        topics,
        students,
    }))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AtRiskEntry {
    student_id: String,
    #[serde(flatten)]
    mastery: TopicMastery,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AtRisk {
    course_id: String,
    /// Below the at-risk cut-off, lowest p_known first.
    students: Vec<AtRiskEntry>,
}

/// The course's students at risk in some topic (p_known below the at-risk cut-off), lowest
/// first, with their trend. The course's teachers, admins and agents.
#[utoipa::path(get, path = "/mastery/courses/{courseId}/at-risk", tag = "mastery",
    params(("courseId" = String, Path, description = "Course id")),
    responses((status = 200, body = AtRisk), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn course_at_risk(
    caller: Caller,
    State(state): State<AppState>,
    Path(course_id): Path<String>,
) -> ApiResult<Json<AtRisk>> {
    check_id("courseId", &course_id)?;
    may_read_course(&state, &caller, &course_id).await?;
    let since = window_start();
    let cut = cutoffs(&state);
    let mut students: Vec<AtRiskEntry> = state
        .store
        .course_mastery(&course_id, since)
        .await?
        .into_iter()
        .filter(|r| cut.level(r.p_known) == Level::AtRisk)
        .map(|r| AtRiskEntry {
            student_id: r.student_id.clone(),
            mastery: view(&state, r, since),
        })
        .collect();
    students.sort_by(|a, b| a.mastery.p_known.total_cmp(&b.mastery.p_known));
    Ok(Json(AtRisk { course_id, students }))
}
