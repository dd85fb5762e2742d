//! The wire types of the attempt API: the spec's request and response bodies, snake_case, as
//! `simulation-attempts-api.txt` names them. Optional response fields are written as `null`
//! rather than left out, as the spec's `| null` says.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema, Debug)]
pub struct AttemptIdRequest {
    pub attempt_id: String,
}

#[derive(Serialize, ToSchema, Debug, Default)]
pub struct GetResponse {
    pub actor_name: Option<String>,
    pub attempt_exists: Option<bool>,
    pub access_denied: Option<bool>,
    pub attempt: Option<AttemptData>,
    pub simulation: Option<SimulationData>,
    pub timer: Option<TimerData>,
    pub aggregated_results: Option<AggregatedResults>,
    pub current_chat_index: Option<i64>,
    pub expected_chat_count: Option<i64>,
    pub is_active: Option<bool>,
    pub is_lobby: Option<bool>,
    pub show_results: Option<bool>,
    pub should_show_controls: Option<bool>,
    pub is_own_attempt: Option<bool>,
    pub current_chat_id: Option<String>,
    pub has_messages: bool,
    /// `{options: [{scenarios: [...], total_score, total_percentage, total_time}]}`.
    #[schema(value_type = Option<Object>)]
    pub available_continuation_options: Option<Value>,
    /// `{standard_groups, standard_groups_mapping, standards_mapping}`.
    #[schema(value_type = Option<Object>)]
    pub rubric_structure: Option<Value>,
    pub training_id: Option<String>,
    pub chat_entry_id: Option<String>,
    /// Maps by id: scenarios, personas, questions, options, rubrics, standard_groups, standards.
    #[schema(value_type = Option<Object>)]
    pub resources: Option<Value>,
    /// attempt, attempt_chat (with grade and feedbacks), attempt_message.
    #[schema(value_type = Option<Object>)]
    pub entries: Option<Value>,
}

#[derive(Serialize, ToSchema, Debug, Clone)]
pub struct AttemptData {
    pub id: String,
    pub created_at: String,
    pub infinite_mode: bool,
    pub profile_id: String,
    pub profile_name: Option<String>,
    pub user_persona_id: Option<String>,
    pub department_id: Option<String>,
    pub cohort_id: Option<String>,
    pub is_archived: Option<bool>,
    pub home_id: Option<String>,
    pub practice_id: Option<String>,
    pub ended_at: Option<String>,
}

#[derive(Serialize, ToSchema, Debug, Clone)]
pub struct SimulationData {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub time_limit: i64,
    pub hints_enabled: bool,
    pub objectives_enabled: bool,
    pub image_input_active: bool,
    pub copy_paste_allowed: bool,
    pub practice_simulation: bool,
    pub rubric_id: String,
}

#[derive(Serialize, ToSchema, Debug, Clone)]
pub struct TimerData {
    pub elapsed: i64,
    /// Seconds; 0 = no limit.
    pub limit: i64,
    pub exceeded: bool,
    pub formatted: String,
    pub negative: bool,
}

#[derive(Serialize, ToSchema, Debug, Clone)]
pub struct AggregatedResults {
    pub total_score: i64,
    pub total_possible_points: i64,
    pub percentage: f64,
    pub passed: bool,
    pub chats_completed: i64,
    pub total_chats: i64,
}

#[derive(Deserialize, ToSchema, Debug, Default)]
pub struct ArchiveRequest {
    pub archived: bool,
    pub attempt_ids: Option<Vec<String>>,
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    pub cohort_ids: Option<Vec<String>>,
    pub department_ids: Option<Vec<String>>,
    pub simulation_ids: Option<Vec<String>>,
    pub scenario_ids: Option<Vec<String>>,
    pub profile_ids_filter: Option<Vec<String>>,
    pub infinite_mode: Option<bool>,
}

#[derive(Serialize, ToSchema, Debug)]
pub struct ArchiveResponse {
    pub updated_count: i64,
    pub profile_ids_to_invalidate: Option<Vec<String>>,
}

#[derive(Serialize, ToSchema, Debug)]
pub struct RefreshResponse {
    pub success: bool,
    pub refreshed_views: Vec<String>,
    pub invalidated_tags: Vec<String>,
}

#[derive(Deserialize, ToSchema, Debug, Default)]
pub struct DocsRequest {
    pub entity_id: Option<String>,
}

#[derive(Serialize, ToSchema, Debug, Clone)]
pub struct DocsPage {
    pub name: String,
    #[serde(rename = "type")]
    #[schema(rename = "type")]
    pub kind: String,
    pub description: String,
    pub artifact: Option<DocsResponse>,
    pub entries: Vec<DocsResponse>,
    pub resources: Vec<DocsResponse>,
    pub permissions: Vec<OperationInfo>,
    pub api_operations: Vec<OperationInfo>,
    pub page_metadata: Option<DocsApiResponse>,
}

#[derive(Serialize, ToSchema, Debug, Clone)]
pub struct DocsResponse {
    pub name: String,
    #[serde(rename = "type")]
    #[schema(rename = "type")]
    pub kind: String,
    pub description: String,
    pub materialized_view: Option<MaterializedViewInfo>,
    pub tables: Vec<TableInfo>,
    pub operations: Vec<OperationInfo>,
}

#[derive(Serialize, ToSchema, Debug, Clone)]
pub struct MaterializedViewInfo {
    pub name: String,
    pub definition: String,
    pub columns: Vec<String>,
}

#[derive(Serialize, ToSchema, Debug, Clone)]
pub struct TableInfo {
    pub name: String,
    pub columns: Vec<ColumnInfo>,
}

#[derive(Serialize, ToSchema, Debug, Clone)]
pub struct ColumnInfo {
    pub name: String,
    #[serde(rename = "type")]
    #[schema(rename = "type")]
    pub kind: String,
    pub nullable: bool,
}

#[derive(Serialize, ToSchema, Debug, Clone)]
pub struct OperationInfo {
    pub name: String,
    pub description: String,
    pub params: Vec<ParamInfo>,
    pub returns: String,
}

#[derive(Serialize, ToSchema, Debug, Clone)]
pub struct ParamInfo {
    pub name: String,
    #[serde(rename = "type")]
    #[schema(rename = "type")]
    pub kind: String,
    pub required: bool,
    #[schema(value_type = Option<Object>)]
    pub default: Option<Value>,
}

#[derive(Serialize, ToSchema, Debug, Clone)]
pub struct DocsApiResponse {
    pub list: PageText,
    pub detail: PageText,
    pub new: PageText,
}

#[derive(Serialize, ToSchema, Debug, Clone)]
pub struct PageText {
    pub title: String,
    pub description: String,
}

#[derive(Serialize, ToSchema, Debug)]
pub struct ExportResponse {
    pub upload_id: String,
    pub file_name: String,
    pub row_count: i64,
}

#[derive(Deserialize, ToSchema, Debug, Default)]
pub struct StartRequest {
    pub home_id: Option<String>,
    pub practice_id: Option<String>,
    #[serde(default)]
    pub infinite_mode: bool,
}

#[derive(Serialize, ToSchema, Debug)]
pub struct StartResponse {
    pub attempt_id: String,
    pub chat_entry_id: Option<String>,
    pub attempt_chat_id: Option<String>,
}

#[derive(Deserialize, ToSchema, Debug)]
pub struct NextRequest {
    pub attempt_id: String,
    pub draft_id: Option<String>,
}

#[derive(Serialize, ToSchema, Debug)]
pub struct NextResponse {
    pub attempt_id: String,
    pub chat_id: String,
}

/// The grade fields an agent may supply on `end` and `grade`.
#[derive(Deserialize, Serialize, ToSchema, Debug, Default, Clone)]
pub struct SuppliedFields {
    pub score: Option<i64>,
    pub passed: Option<bool>,
    pub time_taken: Option<i64>,
    pub feedbacks: Option<Vec<AttemptGradeFeedbackEntry>>,
    pub strengths: Option<Vec<AttemptGradeStrengthEntry>>,
    pub improvements: Option<Vec<AttemptGradeImprovementEntry>>,
    pub analyses: Option<Vec<AttemptGradeAnalysisEntry>>,
    pub highlights: Option<Vec<AttemptGradeHighlightEntry>>,
    pub replacements: Option<Vec<AttemptGradeReplacementEntry>>,
}

#[derive(Deserialize, Serialize, ToSchema, Debug, Clone)]
pub struct AttemptGradeFeedbackEntry {
    pub feedback: String,
    pub total: Option<i64>,
}

#[derive(Deserialize, Serialize, ToSchema, Debug, Clone)]
pub struct AttemptGradeStrengthEntry {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub message_id: Option<String>,
}

#[derive(Deserialize, Serialize, ToSchema, Debug, Clone)]
pub struct AttemptGradeImprovementEntry {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub message_id: Option<String>,
}

#[derive(Deserialize, Serialize, ToSchema, Debug, Clone)]
pub struct AttemptGradeAnalysisEntry {
    pub content: String,
}

#[derive(Deserialize, Serialize, ToSchema, Debug, Clone)]
pub struct AttemptGradeHighlightEntry {
    pub strength_id: Option<String>,
    pub section: String,
    pub idx: Option<i64>,
}

#[derive(Deserialize, Serialize, ToSchema, Debug, Clone)]
pub struct AttemptGradeReplacementEntry {
    pub improvement_id: Option<String>,
    pub section: String,
    pub replace: String,
    pub idx: Option<i64>,
}

#[derive(Deserialize, ToSchema, Debug)]
pub struct EndRequest {
    pub attempt_id: String,
    pub chat_id: String,
    #[serde(default)]
    pub grade: bool,
    #[serde(flatten)]
    #[schema(inline)]
    pub supplied: SuppliedFields,
}

#[derive(Serialize, ToSchema, Debug)]
pub struct EndResponse {
    pub chat_id: String,
    pub is_attempt_finished: Option<bool>,
    pub grade_id: Option<String>,
    pub score: Option<i64>,
    pub passed: Option<bool>,
}

#[derive(Serialize, ToSchema, Debug)]
pub struct EndAllResponse {
    pub attempt_id: String,
    pub success: bool,
    pub all_scenarios_complete: bool,
    pub message: Option<String>,
}

#[derive(Deserialize, Serialize, ToSchema, Debug, Clone)]
#[schema(as = HintEntryInput)]
pub struct HintEntry {
    pub hint: String,
    pub idx: Option<i64>,
    pub message_id: Option<String>,
}

#[derive(Deserialize, Serialize, ToSchema, Debug, Clone)]
#[schema(as = ContentEntryInput)]
pub struct ContentEntry {
    pub content: String,
    pub persona_id: Option<String>,
}

#[derive(Deserialize, ToSchema, Debug)]
pub struct MessageRequest {
    pub attempt_id: String,
    pub chat_id: String,
    pub message: String,
    pub parent_message_id: Option<String>,
    pub assistant_content: Option<String>,
    pub hints: Option<Vec<HintEntry>>,
    pub contents: Option<Vec<ContentEntry>>,
}

#[derive(Serialize, ToSchema, Debug)]
pub struct MessageResponse {
    pub chat_id: String,
    pub user_message_id: Option<String>,
    pub assistant_message_id: Option<String>,
    pub assistant_content: Option<String>,
    #[schema(value_type = Option<Vec<Object>>)]
    pub hints: Option<Vec<Value>>,
}

#[derive(Deserialize, ToSchema, Debug)]
pub struct GradeRequest {
    pub attempt_id: String,
    pub chat_id: Option<String>,
    pub resource_types: Option<Vec<String>>,
    pub user_instructions: Option<Vec<String>>,
    #[serde(flatten)]
    #[schema(inline)]
    pub supplied: SuppliedFields,
}

#[derive(Serialize, ToSchema, Debug)]
pub struct GradeResponse {
    pub chat_id: String,
    pub grade_id: Option<String>,
    pub score: Option<i64>,
    pub passed: Option<bool>,
}

#[derive(Deserialize, ToSchema, Debug)]
pub struct ChatIdRequest {
    pub chat_id: String,
}

#[derive(Serialize, ToSchema, Debug)]
pub struct StopResponse {
    pub chat_id: String,
    pub success: bool,
    pub message: Option<String>,
}

#[derive(Deserialize, ToSchema, Debug)]
pub struct ResponseRequest {
    pub chat_id: String,
    pub question_id: String,
    pub option_ids: Vec<String>,
}

#[derive(Serialize, ToSchema, Debug)]
pub struct ResponseResponse {
    pub success: bool,
    pub message: Option<String>,
    pub is_correct: Option<bool>,
    pub response_id: Option<String>,
}

#[derive(Deserialize, ToSchema, Debug)]
pub struct UsePreviousRequest {
    pub attempt_id: String,
    /// Chat entry id of this attempt -> an earlier chat of the same learner for that entry.
    #[schema(value_type = Object)]
    pub previous_chat_map: std::collections::BTreeMap<String, String>,
}

#[derive(Serialize, ToSchema, Debug)]
pub struct SuccessResponse {
    pub success: bool,
    pub message: Option<String>,
}

#[derive(Serialize, ToSchema, Debug)]
pub struct AudioStartResponse {
    pub chat_id: String,
    pub run_id: String,
    pub group_id: String,
    pub attempt_id: String,
}

#[derive(Deserialize, ToSchema, Debug)]
pub struct AudioFrameRequest {
    pub chat_id: String,
    pub upload_id: String,
}

#[derive(Serialize, ToSchema, Debug)]
pub struct AudioFrameResponse {
    pub accepted: bool,
}

#[derive(Serialize, ToSchema, Debug)]
pub struct AudioStopResponse {
    pub chat_id: String,
    pub stopped: Option<bool>,
}

#[derive(Deserialize, ToSchema, Debug, Default)]
pub struct SearchRequest {
    pub search: Option<String>,
    pub simulation_ids: Option<Vec<String>>,
    pub department_ids: Option<Vec<String>>,
    pub practice: Option<bool>,
    pub is_archived: Option<bool>,
    pub infinite_mode: Option<bool>,
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    pub simulation_search: Option<String>,
    pub department_search: Option<String>,
    pub page_size: Option<i64>,
    pub page_offset: Option<i64>,
}

#[derive(Serialize, ToSchema, Debug)]
pub struct SearchResponse {
    pub actor_name: Option<String>,
    pub attempts: Option<Vec<SearchAttemptItem>>,
    pub simulation_filter: Option<ListFilterSection>,
    pub department_filter: Option<ListFilterSection>,
    pub total_count: Option<i64>,
}

#[derive(Serialize, ToSchema, Debug)]
pub struct SearchAttemptItem {
    pub attempt_id: String,
    pub date: String,
    pub profile_id: String,
    pub profile_name: Option<String>,
    pub simulation_id: String,
    pub simulation_name: Option<String>,
    pub department_id: Option<String>,
    pub cohort_id: Option<String>,
    pub practice: bool,
    pub infinite_mode: bool,
    pub num_chats: i64,
    pub is_archived: bool,
    pub scenario_ids: Vec<String>,
}

#[derive(Serialize, ToSchema, Debug)]
pub struct ListFilterSection {
    pub options: Vec<ListFilterOption>,
    pub selected_ids: Vec<String>,
    pub search: Option<String>,
}

#[derive(Serialize, ToSchema, Debug)]
pub struct ListFilterOption {
    pub id: String,
    pub name: String,
    pub count: i64,
    pub hex_code: Option<String>,
    pub value: Option<String>,
    #[serde(rename = "type")]
    #[schema(rename = "type")]
    pub kind: Option<String>,
}
