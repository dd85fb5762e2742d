//! The MCP server at `/mcp`, spoken to over real HTTP as an MCP client would (streamable HTTP):
//! initialize, the attempt operations as tools, a tool call answered with the REST error body,
//! and the REST credentials required before any MCP handling.

mod common;

use common::{TestApp, assert_error_shape, backends};
use practica::storage::Role;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

const PROTOCOL_VERSION: &str = "2025-06-18";

enum Auth<'a> {
    Bearer(&'a str),
    ApiKey(&'a str),
    None,
}

struct Answer {
    status: u16,
    headers: HeaderMap,
    /// The JSON-RPC message answering the request (from a JSON body or an SSE stream), or the
    /// JSON body of a non-MCP answer (the service's error body).
    body: Value,
}

/// POSTs one JSON-RPC message to `/mcp` the way the streamable-HTTP transport says to.
async fn post(app: &TestApp, auth: Auth<'_>, session: Option<&str>, message: &Value) -> Answer {
    let mut req = app
        .http
        .post(app.url("/mcp"))
        .header("accept", "application/json, text/event-stream")
        .header("x-trace-id", "mcp-test-trace")
        .json(message);
    if message["method"] != "initialize" {
        req = req.header("mcp-protocol-version", PROTOCOL_VERSION);
    }
    req = match auth {
        Auth::Bearer(token) => req.bearer_auth(token),
        Auth::ApiKey(key) => req.header("x-api-key", key),
        Auth::None => req,
    };
    if let Some(session) = session {
        req = req.header("mcp-session-id", session);
    }
    let response = req.send().await.expect("POST /mcp");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let is_sse = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    let text = response.text().await.expect("body");
    let body = if is_sse {
        sse_answer(&text)
    } else {
        serde_json::from_str(&text).unwrap_or(Value::Null)
    };
    Answer { status, headers, body }
}

/// The JSON-RPC response among an SSE stream's events (`data:` lines, events split by a blank
/// line; priming events and notifications skipped).
fn sse_answer(text: &str) -> Value {
    text.replace("\r\n", "\n")
        .split("\n\n")
        .filter_map(|event| {
            let data: Vec<&str> = event
                .lines()
                .filter_map(|line| line.strip_prefix("data:"))
                .map(str::trim_start)
                .collect();
            serde_json::from_str::<Value>(&data.join("\n")).ok()
        })
        .find(|message| message.get("result").is_some() || message.get("error").is_some())
        .unwrap_or(Value::Null)
}

fn request(id: u64, method: &str, params: Value) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params })
}

fn has_ref(value: &Value) -> bool {
    match value {
        Value::Object(map) => map.contains_key("$ref") || map.values().any(has_ref),
        Value::Array(items) => items.iter().any(has_ref),
        _ => false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attempt_operations_are_mcp_tools_behind_the_rest_credentials() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let token = app.token("stu_mcp", Role::Student);

        // The handshake. The server may keep no session (it is stateless); a client sends the
        // session id back when it is given one.
        let init = post(
            &app,
            Auth::Bearer(&token),
            None,
            &request(
                1,
                "initialize",
                json!({ "protocolVersion": PROTOCOL_VERSION, "capabilities": {},
                        "clientInfo": { "name": "practica-test", "version": "0" } }),
            ),
        )
        .await;
        assert_eq!(init.status, 200, "{}", init.body);
        let result = &init.body["result"];
        assert_eq!(result["serverInfo"]["name"], "practica", "{}", init.body);
        assert!(result["capabilities"]["tools"].is_object(), "{}", init.body);
        let instructions = result["instructions"].as_str().unwrap_or_default();
        assert!(instructions.contains("attempt_start"), "{instructions}");
        let session = init
            .headers
            .get("mcp-session-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let session = session.as_deref();

        let initialized = post(
            &app,
            Auth::Bearer(&token),
            session,
            &json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }),
        )
        .await;
        assert_eq!(initialized.status, 202);

        // One tool per operation, named for MCP, each taking a standalone object schema.
        let list = post(
            &app,
            Auth::Bearer(&token),
            session,
            &request(2, "tools/list", json!({})),
        )
        .await;
        assert_eq!(list.status, 200, "{}", list.body);
        let tools = list.body["result"]["tools"].as_array().cloned().unwrap_or_default();
        assert_eq!(tools.len(), 18, "{}", list.body);
        let mut names: Vec<String> = tools
            .iter()
            .map(|t| t["name"].as_str().unwrap_or_default().to_string())
            .collect();
        names.sort();
        let mut expected: Vec<String> = practica::sim::OPERATIONS
            .iter()
            .map(|(op, _)| format!("attempt_{}", op.replace(['-', '/'], "_")))
            .collect();
        expected.sort();
        assert_eq!(names, expected);
        for name in [
            "attempt_start",
            "attempt_end_all",
            "attempt_audio_frame",
            "attempt_use_previous",
        ] {
            assert!(names.iter().any(|n| n == name), "{name} in {names:?}");
        }
        for tool in &tools {
            let name = tool["name"].as_str().unwrap_or_default();
            assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'), "{name}");
            assert!(tool["description"].as_str().is_some_and(|d| !d.is_empty()), "{tool}");
            assert_eq!(tool["inputSchema"]["type"], "object", "{tool}");
            assert!(!has_ref(&tool["inputSchema"]), "a $ref a client cannot resolve: {tool}");
        }

        // A call is answered with a tool result, not a protocol error; an operation's failure is
        // a tool error carrying the REST API's JSON error body, with the request's trace id.
        let call = post(
            &app,
            Auth::Bearer(&token),
            session,
            &request(
                3,
                "tools/call",
                json!({ "name": "attempt_get",
                        "arguments": { "attempt_id": "00000000-0000-0000-0000-000000000000" } }),
            ),
        )
        .await;
        assert_eq!(call.status, 200, "{}", call.body);
        assert!(call.body.get("error").is_none(), "{}", call.body);
        let result = &call.body["result"];
        let text = result["content"][0]["text"].as_str().expect("text content");
        let answered: Value = serde_json::from_str(text).expect("the text is JSON");
        if result["isError"] == true {
            let status = answered["statusCode"].as_u64().unwrap_or_default();
            assert!((400..600).contains(&status), "{answered}");
            assert_error_shape(&answered, status as u16);
            assert_eq!(answered["traceId"], "mcp-test-trace", "{answered}");
        }
        if !result["structuredContent"].is_null() {
            assert_eq!(
                result["structuredContent"], answered,
                "structured and text content agree"
            );
        }

        // A call without arguments is a call with `{}`: still a result.
        let bare = post(
            &app,
            Auth::Bearer(&token),
            session,
            &request(4, "tools/call", json!({ "name": "attempt_docs" })),
        )
        .await;
        assert_eq!(bare.status, 200, "{}", bare.body);
        assert!(bare.body["result"]["content"].is_array(), "{}", bare.body);

        // An unknown tool is a protocol error.
        let unknown = post(
            &app,
            Auth::Bearer(&token),
            session,
            &request(5, "tools/call", json!({ "name": "attempt_nope", "arguments": {} })),
        )
        .await;
        assert_eq!(unknown.body["error"]["code"], -32602, "{}", unknown.body);

        // An agent's API key is a credential too.
        let (key, record) = practica::auth::new_api_key("mcp-bot", Role::Agent, "agent:mcp");
        app.state.store.create_api_key(&record).await.expect("create api key");
        let by_key = post(&app, Auth::ApiKey(&key), None, &request(6, "tools/list", json!({}))).await;
        assert_eq!(by_key.status, 200, "{}", by_key.body);
        assert_eq!(by_key.body["result"]["tools"].as_array().map(Vec::len), Some(18));

        // Without valid credentials: the service's 401 JSON error, before MCP.
        for auth in [Auth::None, Auth::Bearer("not-a-token"), Auth::ApiKey("pk_nope.nope")] {
            let denied = post(&app, auth, None, &request(7, "tools/list", json!({}))).await;
            assert_eq!(denied.status, 401, "{}", denied.body);
            assert_error_shape(&denied.body, 401);
            assert_eq!(denied.body["code"], "UNAUTHORIZED");
        }
    }
}
