//! `docs`: the attempt analytics described from what the service is — the OpenAPI document
//! (operations, their parameters and results), the database (tables' and views' columns, the
//! views' definitions) and the role rules below — so the description cannot drift from the
//! code the way hand-written text does.

use serde_json::Value;

use super::wire::*;
use crate::app::AppState;
use crate::error::{ApiError, ApiResult};
use crate::storage::sim_sql::VIEWS;

/// Who may call each operation: the rules `sim/` enforces (`access`, `ensure_player`,
/// `ensure_may_supply`, the search scope), stated once for the docs.
pub const PERMISSIONS: &[(&str, &str)] = &[
    (
        "get",
        "Any caller; the attempt's data only to its learner, admins, agents and teachers of its department (others get access_denied: true).",
    ),
    (
        "archive",
        "Learners their own attempts; teachers their own and their departments'; admins and agents any.",
    ),
    ("refresh", "Teachers, admins and agents."),
    ("docs", "Any authenticated caller."),
    ("export", "Whoever may see the attempt."),
    ("start", "Any authenticated caller, as the learner of the new attempt."),
    ("next", "The attempt's learner, admins and agents."),
    (
        "end",
        "The learner, admins and agents; a supplied grade needs an API key or a teacher's or admin's token.",
    ),
    ("end-all", "The learner, admins and agents."),
    (
        "message",
        "The learner, admins and agents; assistant_content, hints and contents need an API key or a teacher's or admin's token.",
    ),
    (
        "grade",
        "Whoever may see the attempt; a supplied grade needs an API key or a teacher's or admin's token.",
    ),
    ("stop", "The learner, admins and agents."),
    ("response", "The learner, admins and agents."),
    (
        "use-previous",
        "The learner, admins and agents; only the learner's own earlier chats.",
    ),
    ("audio/start", "The learner, admins and agents."),
    ("audio/frame", "The learner, admins and agents, with their own uploads."),
    ("audio/stop", "The learner, admins and agents."),
    (
        "search",
        "Learners see their own attempts; teachers theirs and their departments'; admins and agents all.",
    ),
];

/// An entity of the attempt analytics: name, kind, description, tables, view.
type Entity = (
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
    Option<&'static str>,
);

const ENTITIES: &[Entity] = &[
    (
        "attempt",
        "artifact",
        "One learner's run through a home (assigned) or a practice (self-directed) of a simulation.",
        &["sim_attempt", "sim_attempt_chat"],
        Some("sim_attempt_summary"),
    ),
    (
        "attempt_chat",
        "entry",
        "A played scenario: a chat with the AI persona, with the rubric it snapshotted.",
        &["sim_chat"],
        None,
    ),
    (
        "attempt_message",
        "entry",
        "A message of a chat: the learner's query or the persona's response (branches share a parent).",
        &["sim_message"],
        None,
    ),
    (
        "attempt_grade",
        "entry",
        "A grade of a chat (agent, AI, rules or copied); the latest finished one wins.",
        &["sim_grade"],
        None,
    ),
    (
        "attempt_response",
        "entry",
        "An answer to a video question.",
        &["sim_response"],
        None,
    ),
    (
        "attempt_audio",
        "entry",
        "An audio session of a chat and its frames.",
        &["sim_audio", "sim_audio_frame"],
        None,
    ),
    (
        "simulation",
        "resource",
        "A simulation and its scenarios, personas and video questions.",
        &[
            "simulation",
            "scenario",
            "scenario_persona",
            "question",
            "question_option",
        ],
        Some("sim_simulation_summary"),
    ),
    (
        "persona",
        "resource",
        "An AI persona a scenario's learner talks to.",
        &["persona"],
        None,
    ),
    (
        "rubric",
        "resource",
        "A rubric: criteria (standard groups) and their levels (standards).",
        &["rubric", "rubric_criterion", "rubric_level"],
        None,
    ),
    (
        "home",
        "resource",
        "Assigned training: a simulation for a cohort and department.",
        &["home"],
        None,
    ),
    (
        "practice",
        "resource",
        "Self-directed training on a simulation.",
        &["practice"],
        None,
    ),
];

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => r
            .strip_prefix("#/")
            .map(|p| p.split('/').fold(doc, |v, k| v.get(k).unwrap_or(&Value::Null)))
            .unwrap_or(&Value::Null),
        None => schema,
    }
}

fn type_name(schema: &Value) -> String {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        return r.rsplit('/').next().unwrap_or(r).to_owned();
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(list) = schema.get(key).and_then(Value::as_array) {
            let names: Vec<String> = list.iter().map(type_name).filter(|n| n != "null").collect();
            if !names.is_empty() {
                return names.join(" | ");
            }
        }
    }
    match schema.get("type") {
        Some(Value::String(t)) if t == "array" => {
            format!(
                "{}[]",
                schema.get("items").map(type_name).unwrap_or_else(|| "any".into())
            )
        }
        Some(Value::String(t)) => t.clone(),
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .filter(|t| *t != "null")
            .collect::<Vec<_>>()
            .join(" | "),
        _ => "object".into(),
    }
}

/// The properties of an object schema, following `$ref`s and `allOf` (flattened fields).
fn params(doc: &Value, schema: &Value, out: &mut Vec<ParamInfo>) {
    let schema = resolve(doc, schema);
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        for s in all {
            params(doc, s, out);
        }
    }
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        for (name, p) in props {
            out.push(ParamInfo {
                name: name.clone(),
                kind: type_name(p),
                required: required.contains(&name.as_str()),
                default: p.get("default").cloned(),
            });
        }
    }
}

fn operations(doc: &Value) -> Vec<OperationInfo> {
    super::OPERATIONS
        .iter()
        .map(|(name, fallback)| {
            let op = &doc["paths"][format!("/api/v5/artifacts/attempt/{name}")]["post"];
            let description = op
                .get("description")
                .or_else(|| op.get("summary"))
                .and_then(Value::as_str)
                .unwrap_or(fallback)
                .trim()
                .to_owned();
            let mut list = Vec::new();
            if let Some(schema) = op.pointer("/requestBody/content/application~1json/schema") {
                params(doc, schema, &mut list);
            }
            let returns = op
                .pointer("/responses/200/content/application~1json/schema")
                .map(type_name)
                .unwrap_or_default();
            OperationInfo {
                name: (*name).to_owned(),
                description,
                params: list,
                returns,
            }
        })
        .collect()
}

async fn entity(
    state: &AppState,
    doc: &Value,
    e: &(&str, &str, &str, &[&str], Option<&str>),
) -> ApiResult<DocsResponse> {
    let (name, kind, description, tables, view) = *e;
    let mut infos = Vec::new();
    for t in tables {
        let columns = state.store.sim_columns(t).await?;
        infos.push(TableInfo {
            name: (*t).to_owned(),
            columns: columns
                .into_iter()
                .map(|(name, kind, nullable)| ColumnInfo { name, kind, nullable })
                .collect(),
        });
    }
    let materialized_view = match view {
        Some(v) => {
            let definition = VIEWS.iter().find(|(n, _)| *n == v).map(|(_, d)| *d).unwrap_or_default();
            let columns = state.store.sim_columns(v).await?.into_iter().map(|c| c.0).collect();
            Some(MaterializedViewInfo {
                name: v.to_owned(),
                definition: definition.split_whitespace().collect::<Vec<_>>().join(" "),
                columns,
            })
        }
        None => None,
    };
    let operations = if kind == "artifact" {
        operations(doc)
    } else {
        Vec::new()
    };
    Ok(DocsResponse {
        name: name.to_owned(),
        kind: kind.to_owned(),
        description: description.to_owned(),
        materialized_view,
        tables: infos,
        operations,
    })
}

pub(crate) async fn compose(state: &AppState, entity_id: Option<&str>) -> ApiResult<DocsPage> {
    let doc: Value = serde_json::from_str(&state.openapi).map_err(|e| ApiError::Internal(e.into()))?;
    let chosen = entity_id.map(str::trim).filter(|e| !e.is_empty()).unwrap_or("attempt");
    let main = ENTITIES.iter().find(|e| e.0 == chosen).ok_or_else(|| {
        ApiError::NotFound(format!(
            "entity_id: no entity {chosen:?}; one of {}",
            ENTITIES.iter().map(|e| e.0).collect::<Vec<_>>().join(", ")
        ))
    })?;
    let artifact = entity(state, &doc, main).await?;
    let mut entries = Vec::new();
    let mut resources = Vec::new();
    for e in ENTITIES.iter().filter(|e| e.0 != chosen) {
        let d = entity(state, &doc, e).await?;
        match e.1 {
            "entry" => entries.push(d),
            "resource" => resources.push(d),
            _ => {}
        }
    }
    let permissions = PERMISSIONS
        .iter()
        .map(|(op, rule)| OperationInfo {
            name: (*op).to_owned(),
            description: (*rule).to_owned(),
            params: Vec::new(),
            returns: String::new(),
        })
        .collect();
    Ok(DocsPage {
        name: artifact.name.clone(),
        kind: artifact.kind.clone(),
        description: artifact.description.clone(),
        api_operations: operations(&doc),
        artifact: Some(artifact),
        entries,
        resources,
        permissions,
        page_metadata: Some(DocsApiResponse {
            list: PageText {
                title: "Attempts".into(),
                description:
                    "Search the attempts you may see: filter by simulation, department, dates, practice, archived."
                        .into(),
            },
            detail: PageText {
                title: "Attempt".into(),
                description: "One attempt: its chats, messages, grades, timer and results.".into(),
            },
            new: PageText {
                title: "Start an attempt".into(),
                description: "Start a home (assigned) or a practice (self-directed; infinite mode allowed).".into(),
            },
        }),
    })
}
