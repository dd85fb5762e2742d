//! The MCP server at `/mcp`: the simulation-attempt operations (`sim::OPERATIONS`) as tools for
//! AI agents, over MCP's streamable-HTTP transport (the `rmcp` SDK). A tool call runs
//! `sim::dispatch`, the same code the `POST /api/v5/artifacts/attempt/*` routes run, for the
//! caller the REST credentials on the MCP request name, marked as an agent call.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation, JsonObject, ListToolsResult,
    PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};
use serde_json::{Map, Value, json};
use tracing::Instrument;

use crate::app::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::{sim, trace};

/// Where each operation's REST route is in the OpenAPI document (`{prefix}{name}`, POST).
const OPERATION_PATH_PREFIX: &str = "/api/v5/artifacts/attempt/";
const TOOL_PREFIX: &str = "attempt_";
/// Deepest `$ref` chain inlined; a deeper one is surely a mistake in the document, and the
/// schema below it is left open rather than recursing without end.
const MAX_REF_DEPTH: usize = 32;

const INSTRUCTIONS: &str = "Tools of practica for running simulation attempts for a learner: \
    attempt_start creates an attempt, attempt_message sends the learner's message in a chat and \
    attempt_stop stops the persona's reply, attempt_next moves to the next scenario, attempt_end \
    and attempt_end_all end chats, attempt_grade grades a chat, attempt_response submits a video \
    question response, attempt_use_previous copies grades from an earlier attempt, \
    attempt_audio_start/attempt_audio_frame/attempt_audio_stop stream audio from uploaded files, \
    and attempt_get, attempt_search, attempt_docs, attempt_export, attempt_archive and \
    attempt_refresh read, find, document, export, archive and refresh attempts. Each tool takes the \
    JSON body of the REST operation POST /api/v5/artifacts/attempt/{name} and answers its JSON; \
    a failure is a tool error carrying the REST error body {statusCode, code, message, traceId}. \
    Each call runs with the REST credentials its HTTP request carries and is recorded as an agent call.";

/// The MCP endpoint, to mount at `/mcp`. Every request must carry the REST API's credentials
/// (`X-Api-Key` or `Authorization: Bearer`); without valid ones it is answered 401 with the
/// service's JSON error body before any MCP handling.
pub fn service(state: AppState) -> Router {
    let tools = Arc::new(Tools::from_openapi(&state.openapi));
    // Stateless: each POST is served on its own, with no session kept in this process's memory,
    // so any replica behind a load balancer can answer any request (no sticky sessions, nothing
    // lost on a restart or scale-down). The tools need nothing a session gives: they never send
    // the client requests or notifications, and every call carries its own credentials. JSON
    // responses (rather than an SSE stream) for the same reason: one request, one answer.
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None)
        // The same body limit as the REST routes (rmcp's own default is 4 MiB).
        .with_max_request_body_bytes(state.config.body_limit_bytes)
        // rmcp by default accepts only loopback `Host`s, against DNS rebinding of servers that
        // trust whoever reaches them. This one trusts no one without an API key or a bearer
        // token in a header, which a rebinding page cannot supply, and it is served under
        // hostnames this code does not know.
        .disable_allowed_hosts();
    let handler_state = state.clone();
    let mcp = StreamableHttpService::new(
        move || {
            Ok(Server {
                state: handler_state.clone(),
                tools: tools.clone(),
            })
        },
        Arc::new(NeverSessionManager::default()),
        config,
    );
    // A fallback, so the service answers whatever path it is mounted under (`nest_service`
    // hands it `/`, `route_service` the full path). `layer` covers the fallback too.
    Router::new()
        .fallback_service(mcp)
        .layer(axum::middleware::from_fn_with_state(state, authenticate))
}

/// The request's trace id, carried to the tool handler in the request's extensions: rmcp runs
/// the handler in a task of its own, where `trace::current()` (a task-local) is empty.
#[derive(Clone, Debug)]
struct TraceId(String);

/// Runs the REST API's `Caller` extractor, answering its error (401 …) as the REST API would;
/// on success leaves the caller, marked as an agent, in the request's extensions, where the
/// tool handler finds it (rmcp forwards the HTTP `Parts`).
async fn authenticate(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    let mut caller = match Caller::from_request_parts(&mut parts, &state).await {
        Ok(caller) => caller,
        Err(e) => return e.into_response(),
    };
    // Whatever the headers say: a call through MCP is an agent's.
    caller.via_agent = true;
    parts.extensions.insert(caller);
    parts.extensions.insert(TraceId(trace::current()));
    next.run(Request::from_parts(parts, body)).await
}

/// The tools, made once from `sim::OPERATIONS` and the OpenAPI document.
struct Tools {
    list: Vec<Tool>,
    /// Operation name by tool name.
    operations: HashMap<String, &'static str>,
}

impl Tools {
    fn from_openapi(openapi: &str) -> Tools {
        let doc: Value = serde_json::from_str(openapi).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "the OpenAPI document is not JSON: MCP tools take any object");
            Value::Null
        });
        let mut list = Vec::with_capacity(sim::OPERATIONS.len());
        let mut operations = HashMap::with_capacity(sim::OPERATIONS.len());
        for &(operation, description) in sim::OPERATIONS {
            let name = tool_name(operation);
            list.push(Tool::new(name.clone(), description, input_schema(&doc, operation)));
            operations.insert(name, operation);
        }
        Tools { list, operations }
    }
}

/// `end-all` → `attempt_end_all`, `audio/frame` → `attempt_audio_frame`: MCP tool names allow
/// letters, digits, `_`, `-` and `.`; `/` is not allowed, and `_` throughout reads as one name.
pub fn tool_name(operation: &str) -> String {
    format!("{TOOL_PREFIX}{}", operation.replace(['-', '/'], "_"))
}

/// The JSON Schema of operation `operation`'s request body in the OpenAPI document `doc`, with
/// every `$ref` inlined so that it stands alone (an MCP client has no `components` to look in),
/// as an object schema. An operation without a request body (or not in the document) takes an
/// empty object.
pub fn input_schema(doc: &Value, operation: &str) -> JsonObject {
    let path = format!("{OPERATION_PATH_PREFIX}{operation}");
    let Some(post) = doc.get("paths").and_then(|p| p.get(&path)).and_then(|p| p.get("post")) else {
        if !doc.is_null() {
            tracing::debug!(
                path,
                "no POST operation in the OpenAPI document: MCP tool takes an empty object"
            );
        }
        return empty_object();
    };
    let schema = post
        .get("requestBody")
        // A request body may itself be a `$ref` (to `components.requestBodies`).
        .and_then(|body| follow_refs(doc, body))
        .and_then(|body| body.get("content"))
        .and_then(|content| content.get("application/json"))
        .and_then(|media| media.get("schema"));
    match schema {
        Some(schema) => as_object_schema(inline(doc, schema, &mut Vec::new())),
        None => empty_object(),
    }
}

fn empty_object() -> JsonObject {
    let mut schema = Map::new();
    schema.insert("type".into(), json!("object"));
    schema.insert("properties".into(), json!({}));
    schema
}

/// The value a (chain of) `$ref` object(s) points to in `doc`, or the value itself.
fn follow_refs<'a>(doc: &'a Value, mut value: &'a Value) -> Option<&'a Value> {
    for _ in 0..MAX_REF_DEPTH {
        match value.get("$ref").and_then(Value::as_str) {
            Some(reference) => value = resolve(doc, reference)?,
            None => return Some(value),
        }
    }
    None
}

/// A local reference (`#/components/schemas/Name`, a JSON pointer) in `doc`.
fn resolve<'a>(doc: &'a Value, reference: &str) -> Option<&'a Value> {
    doc.pointer(reference.strip_prefix('#')?)
}

/// Keywords whose value is one schema.
const SCHEMA_KEYWORDS: &[&str] = &[
    "items",
    "additionalProperties",
    "not",
    "contains",
    "propertyNames",
    "if",
    "then",
    "else",
    "unevaluatedItems",
    "unevaluatedProperties",
    "contentSchema",
    "additionalItems",
];
/// Keywords whose value is an array of schemas.
const SCHEMA_ARRAY_KEYWORDS: &[&str] = &["allOf", "anyOf", "oneOf", "prefixItems", "items"];
/// Keywords whose value maps names to schemas.
const SCHEMA_MAP_KEYWORDS: &[&str] = &[
    "properties",
    "patternProperties",
    "$defs",
    "definitions",
    "dependentSchemas",
];
/// OpenAPI's own keywords, meaningless to a JSON Schema validator; `discriminator.mapping` even
/// names `components` entries a tool's schema does not have.
const OPENAPI_KEYWORDS: &[&str] = &["discriminator", "xml", "externalDocs"];

/// `schema` with its `$ref`s replaced by what they point to, walking only the places that hold
/// schemas (so an `example` or `default` value with a `$ref` key is left alone). `stack` holds
/// the references being inlined: a recursive one is cut there with an open schema.
fn inline(doc: &Value, schema: &Value, stack: &mut Vec<String>) -> Value {
    let Value::Object(object) = schema else {
        // `true`/`false` schemas, or a malformed value, as they are.
        return schema.clone();
    };
    if let Some(reference) = object.get("$ref").and_then(Value::as_str) {
        let resolved = if stack.iter().any(|r| r == reference) || stack.len() >= MAX_REF_DEPTH {
            json!({ "description": format!("(recursive: {})", ref_name(reference)) })
        } else if let Some(target) = resolve(doc, reference) {
            stack.push(reference.to_string());
            let inlined = inline(doc, target, stack);
            stack.pop();
            inlined
        } else {
            tracing::warn!(
                reference,
                "unresolvable $ref in the OpenAPI document: left open in the MCP tool schema"
            );
            json!({})
        };
        // OpenAPI 3.1 allows keywords beside a `$ref` (a description, say): they refine it.
        let siblings: Map<String, Value> = object
            .iter()
            .filter(|(k, _)| k.as_str() != "$ref")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if siblings.is_empty() {
            return resolved;
        }
        let mut merged = match resolved {
            Value::Object(map) => map,
            other => return other,
        };
        if let Value::Object(siblings) = inline(doc, &Value::Object(siblings), stack) {
            merged.extend(siblings);
        }
        return Value::Object(merged);
    }
    let mut out = Map::with_capacity(object.len());
    for (key, value) in object {
        let key_str = key.as_str();
        if OPENAPI_KEYWORDS.contains(&key_str) {
            continue;
        }
        let value = match value {
            Value::Array(items) if SCHEMA_ARRAY_KEYWORDS.contains(&key_str) => {
                Value::Array(items.iter().map(|s| inline(doc, s, stack)).collect())
            }
            Value::Object(map) if SCHEMA_MAP_KEYWORDS.contains(&key_str) => Value::Object(
                map.iter()
                    .map(|(name, s)| (name.clone(), inline(doc, s, stack)))
                    .collect(),
            ),
            _ if SCHEMA_KEYWORDS.contains(&key_str) => inline(doc, value, stack),
            _ => value.clone(),
        };
        out.insert(key.clone(), value);
    }
    Value::Object(out)
}

fn ref_name(reference: &str) -> &str {
    reference.rsplit('/').next().unwrap_or(reference)
}

/// MCP requires a tool's input schema to be of `type: object`. A composed schema (`allOf` …)
/// without a type gets it; an optional body (`["object", "null"]`) becomes required-object,
/// since the arguments are always an object; a body that is not an object at all cannot be
/// given as MCP arguments, and is left open (dispatch then answers the validation error).
fn as_object_schema(schema: Value) -> JsonObject {
    let Value::Object(mut schema) = schema else {
        return empty_object();
    };
    let is_object = match schema.get("type") {
        None => true,
        Some(Value::String(t)) => t == "object",
        Some(Value::Array(types)) => types.iter().any(|t| t == "object"),
        Some(_) => false,
    };
    if !is_object {
        let schema = Value::Object(schema);
        tracing::warn!(%schema, "a request body that is not an object: the MCP tool takes any object");
        let mut open = Map::new();
        open.insert("type".into(), json!("object"));
        return open;
    }
    schema.insert("type".into(), json!("object"));
    schema
}

/// One MCP server instance (rmcp makes one per request in stateless mode: a cheap clone).
#[derive(Clone)]
struct Server {
    state: AppState,
    tools: Arc<Tools>,
}

impl ServerHandler for Server {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("practica", env!("CARGO_PKG_VERSION")).with_title("practica"))
            .with_instructions(INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        Ok(ListToolsResult::with_all_items(self.tools.list.clone()))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.tools.list.iter().find(|t| t.name == name).cloned()
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let Some(&operation) = self.tools.operations.get(request.name.as_ref()) else {
            // The spec's answer to an unknown tool: a protocol error, invalid params.
            return Err(McpError::invalid_params(
                format!("unknown tool {:?}", request.name),
                None,
            ));
        };
        let parts = context.extensions.get::<Parts>();
        // `authenticate` put it there; a request reaching here without one is a wiring bug.
        let caller = parts
            .and_then(|p| p.extensions.get::<Caller>())
            .ok_or_else(|| McpError::internal_error("no authenticated caller on the MCP request", None))?;
        let trace_id = parts
            .and_then(|p| p.extensions.get::<TraceId>())
            .map(|t| t.0.clone())
            .unwrap_or_default();
        let body = Value::Object(request.arguments.unwrap_or_default());
        let span = tracing::info_span!("mcp_tool", tool = %request.name, trace_id = %trace_id);
        let result = async {
            match sim::dispatch(&self.state, caller, operation, body).await {
                Ok(value) => tool_result(value, false),
                Err(e) => tool_result(error_body(e, &trace_id).await, true),
            }
        }
        .instrument(span);
        let result = crate::trace::scope(trace_id.clone(), result).await;
        Ok(result.into())
    }
}

/// A tool result with the JSON as text, and as structured content too when it is an object
/// (MCP's `structuredContent` is an object).
fn tool_result(value: Value, is_error: bool) -> CallToolResult {
    match (value.is_object(), is_error) {
        (true, false) => CallToolResult::structured(value),
        (true, true) => CallToolResult::structured_error(value),
        (false, false) => CallToolResult::success(vec![ContentBlock::text(value.to_string())]),
        (false, true) => CallToolResult::error(vec![ContentBlock::text(value.to_string())]),
    }
}

/// The JSON error body the REST route would answer, made by `ApiError`'s own response (which
/// also logs internal errors) so that the two cannot drift apart; with the request's trace id,
/// which the task-local read there does not have in rmcp's task.
async fn error_body(error: ApiError, trace_id: &str) -> Value {
    let (status, code) = error.status_and_code();
    let message = error.to_string();
    let bytes = axum::body::to_bytes(error.into_response().into_body(), 1024 * 1024).await;
    let mut body = bytes
        .ok()
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({ "statusCode": status.as_u16(), "code": code, "message": message }));
    if body.get("traceId").and_then(Value::as_str).is_none_or(str::is_empty) {
        body["traceId"] = json!(trace_id);
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small OpenAPI document in the shape utoipa writes: bodies by `$ref`, nested and
    /// recursive references, a body by `components.requestBodies`, an operation without a body.
    fn doc() -> Value {
        json!({
            "openapi": "3.1.0",
            "paths": {
                "/api/v5/artifacts/attempt/start": { "post": { "requestBody": { "required": true,
                    "content": { "application/json": { "schema": { "$ref": "#/components/schemas/StartBody" } } } } } },
                "/api/v5/artifacts/attempt/search": { "post": { "requestBody": { "$ref": "#/components/requestBodies/Search" } } },
                "/api/v5/artifacts/attempt/refresh": { "post": { "responses": { "200": { "description": "ok" } } } },
                "/api/v5/artifacts/attempt/audio/frame": { "post": { "requestBody": { "content": { "application/json": {
                    "schema": { "allOf": [ { "$ref": "#/components/schemas/ChatRef" },
                        { "type": "object", "properties": { "upload_id": { "type": "string", "format": "uuid" } } } ] } } } } } }
            },
            "components": {
                "schemas": {
                    "StartBody": {
                        "type": "object",
                        "required": ["simulation_id"],
                        "properties": {
                            "simulation_id": { "type": "string" },
                            "mode": { "$ref": "#/components/schemas/Mode", "description": "How the attempt runs." },
                            "default": { "$ref": "#/components/schemas/Mode" },
                            "tags": { "type": "array", "items": { "$ref": "#/components/schemas/Tag" } }
                        },
                        "example": { "$ref": "not a schema, an example" }
                    },
                    "Mode": { "type": "string", "enum": ["practice", "assessment"] },
                    "Tag": { "type": "object", "properties": { "name": { "type": "string" },
                        "children": { "type": "array", "items": { "$ref": "#/components/schemas/Tag" } } } },
                    "ChatRef": { "type": "object", "required": ["chat_id"], "properties": { "chat_id": { "type": "string" } } },
                    "SearchBody": { "type": ["object", "null"], "properties": { "q": { "type": "string" } },
                        "discriminator": { "propertyName": "q", "mapping": { "x": "#/components/schemas/Mode" } } }
                },
                "requestBodies": {
                    "Search": { "content": { "application/json": { "schema": { "$ref": "#/components/schemas/SearchBody" } } } }
                }
            }
        })
    }

    fn has_ref(value: &Value) -> bool {
        match value {
            Value::Object(map) => map.contains_key("$ref") || map.values().any(has_ref),
            Value::Array(items) => items.iter().any(has_ref),
            _ => false,
        }
    }

    #[test]
    fn request_bodies_are_inlined_into_standalone_object_schemas() {
        let doc = doc();
        let start = Value::Object(input_schema(&doc, "start"));
        assert_eq!(start["type"], "object");
        assert_eq!(start["required"], json!(["simulation_id"]));
        assert_eq!(start["properties"]["mode"]["enum"], json!(["practice", "assessment"]));
        assert_eq!(
            start["properties"]["mode"]["description"], "How the attempt runs.",
            "a sibling of $ref is kept"
        );
        assert_eq!(
            start["properties"]["default"]["type"], "string",
            "a property named like a keyword"
        );
        assert_eq!(
            start["properties"]["tags"]["items"]["properties"]["name"]["type"],
            "string"
        );
        assert_eq!(
            start["properties"]["tags"]["items"]["properties"]["children"]["items"]["description"], "(recursive: Tag)",
            "a recursive reference is cut, not followed forever"
        );
        assert_eq!(
            start["example"],
            json!({ "$ref": "not a schema, an example" }),
            "examples are data"
        );
        let start_without_example = {
            let mut s = start.clone();
            s.as_object_mut().unwrap().remove("example");
            s
        };
        assert!(!has_ref(&start_without_example), "{start}");

        let search = Value::Object(input_schema(&doc, "search"));
        assert_eq!(search["type"], "object", "an optional body is an object");
        assert_eq!(search["properties"]["q"]["type"], "string");
        assert!(search.get("discriminator").is_none(), "OpenAPI-only keywords dropped");

        let frame = Value::Object(input_schema(&doc, "audio/frame"));
        assert_eq!(frame["type"], "object", "a composed schema gets its type");
        assert_eq!(frame["allOf"][0]["required"], json!(["chat_id"]));
        assert!(!has_ref(&frame), "{frame}");
    }

    #[test]
    fn operations_without_a_body_or_document_take_an_empty_object() {
        let empty = Value::Object(empty_object());
        assert_eq!(Value::Object(input_schema(&doc(), "refresh")), empty, "no requestBody");
        assert_eq!(Value::Object(input_schema(&doc(), "get")), empty, "not in the document");
        assert_eq!(Value::Object(input_schema(&Value::Null, "start")), empty, "no document");
    }

    #[test]
    fn every_operation_is_a_validly_named_tool() {
        let tools = Tools::from_openapi(&doc().to_string());
        assert_eq!(tools.list.len(), sim::OPERATIONS.len());
        for tool in &tools.list {
            assert!(tool.name.starts_with(TOOL_PREFIX), "{}", tool.name);
            assert!(
                tool.name.len() <= 64 && tool.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                "{}",
                tool.name
            );
            assert_eq!(tool.input_schema.get("type"), Some(&json!("object")));
        }
        assert_eq!(tool_name("end-all"), "attempt_end_all");
        assert_eq!(tool_name("audio/frame"), "attempt_audio_frame");
        assert_eq!(tools.operations.get("attempt_audio_frame"), Some(&"audio/frame"));
        let start = tools.list.iter().find(|t| t.name == "attempt_start").unwrap();
        assert_eq!(start.input_schema["required"], json!(["simulation_id"]));
        // A document that is not JSON still gives every tool, open.
        assert_eq!(Tools::from_openapi("not json").list.len(), sim::OPERATIONS.len());
    }
}
