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

/// Calls tool `name` with `arguments` over `/mcp`; whether the result is a tool error, and the
/// JSON its text content carries (checked against its structured content, when there is one).
async fn call_tool(app: &TestApp, auth: Auth<'_>, id: u64, name: &str, arguments: Value) -> (bool, Value) {
    let answer = post(
        app,
        auth,
        None,
        &request(id, "tools/call", json!({ "name": name, "arguments": arguments })),
    )
    .await;
    assert_eq!(answer.status, 200, "{name}: {}", answer.body);
    assert!(
        answer.body.get("error").is_none(),
        "{name}: a protocol error: {}",
        answer.body
    );
    let result = &answer.body["result"];
    let text = result["content"][0]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("{name}: no text content: {result}"));
    let value: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("{name}: {e}: {text}"));
    if !result["structuredContent"].is_null() {
        assert_eq!(
            result["structuredContent"], value,
            "{name}: structured and text content agree"
        );
    }
    (result["isError"] == true, value)
}

/// The property names a tool's input schema declares, its own and those of the schemas it is
/// composed of (`allOf` …: a flattened struct may be written either way).
fn schema_properties(schema: &Value) -> Vec<String> {
    let mut names: Vec<String> = schema["properties"]
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    for keyword in ["allOf", "anyOf", "oneOf"] {
        for part in schema[keyword].as_array().into_iter().flatten() {
            names.extend(schema_properties(part));
        }
    }
    names
}

/// An AI agent runs a whole attempt for a learner through MCP tools alone, with an API key the
/// learner owns: start, a message with the persona's reply supplied (no AI), end with a supplied
/// grade, get, search. Every row is marked as an agent's though no `X-MCP` header is sent; the
/// tools' input schemas are the REST bodies'; bad arguments and a learner's own token supplying
/// the persona's reply are tool errors carrying the REST error body.
async fn agent_attempt_through_mcp(backend: common::Backend) {
    let app = TestApp::spawn(backend).await;
    common::import_sim_bundle(&app).await;
    let (key, record) = practica::auth::new_api_key("ana-agent", Role::Student, "stu_ana");
    app.state.store.create_api_key(&record).await.expect("create api key");
    let ana = app.token("stu_ana", Role::Student);

    // The input schemas are the REST request bodies, flattened fields included.
    let list = post(&app, Auth::ApiKey(&key), None, &request(1, "tools/list", json!({}))).await;
    assert_eq!(list.status, 200, "{}", list.body);
    let tools = list.body["result"]["tools"].as_array().cloned().unwrap_or_default();
    let schema_of = |name: &str| {
        tools
            .iter()
            .find(|t| t["name"] == name)
            .map(|t| t["inputSchema"].clone())
            .unwrap_or_else(|| panic!("no tool {name}"))
    };
    let start_schema = schema_of("attempt_start");
    let start_props = schema_properties(&start_schema);
    for field in ["home_id", "practice_id", "infinite_mode"] {
        assert!(start_props.iter().any(|p| p == field), "{field} in {start_schema}");
    }
    let end_schema = schema_of("attempt_end");
    let end_props = schema_properties(&end_schema);
    for field in ["attempt_id", "chat_id", "grade", "score", "passed", "feedbacks"] {
        assert!(end_props.iter().any(|p| p == field), "{field} in {end_schema}");
    }
    let message_schema = schema_of("attempt_message");
    let message_props = schema_properties(&message_schema);
    for field in ["attempt_id", "chat_id", "message", "assistant_content"] {
        assert!(message_props.iter().any(|p| p == field), "{field} in {message_schema}");
    }

    // Bad arguments: a tool error carrying the REST error body (start needs a home or a practice).
    let (is_error, body) = call_tool(&app, Auth::ApiKey(&key), 2, "attempt_start", json!({})).await;
    assert!(is_error, "{body}");
    assert_error_shape(&body, 400);
    assert_eq!(body["traceId"], "mcp-test-trace", "{body}");
    let (is_error, body) = call_tool(&app, Auth::ApiKey(&key), 3, "attempt_start", json!({ "home_id": 5 })).await;
    assert!(is_error, "{body}");
    assert_error_shape(&body, 422);

    // Start.
    let (is_error, started) = call_tool(
        &app,
        Auth::ApiKey(&key),
        4,
        "attempt_start",
        json!({ "practice_id": "prac-1" }),
    )
    .await;
    assert!(!is_error, "{started}");
    let attempt_id = started["attempt_id"].as_str().expect("attempt_id").to_string();
    let chat_id = started["attempt_chat_id"]
        .as_str()
        .expect("attempt_chat_id")
        .to_string();

    // The learner's own token, through MCP too, may not write the persona's reply: 403, and
    // nothing written.
    let (is_error, denied) = call_tool(
        &app,
        Auth::Bearer(&ana),
        5,
        "attempt_message",
        json!({ "attempt_id": attempt_id, "chat_id": chat_id, "message": "hi",
                "assistant_content": "I am fine" }),
    )
    .await;
    assert!(is_error, "{denied}");
    assert_error_shape(&denied, 403);
    assert_eq!(denied["code"], "FORBIDDEN", "{denied}");
    let stored = app
        .state
        .store
        .sim_messages(std::slice::from_ref(&chat_id))
        .await
        .expect("sim_messages");
    assert!(stored.is_empty(), "{stored:?}");

    // The agent's message with the persona's reply supplied: stored as given, no AI, no script.
    let learner_says = "I understand, that sounds hard. Let's agree: hand it in by Friday.";
    let persona_says = "Thank you, Friday works for me.";
    let (is_error, sent) = call_tool(
        &app,
        Auth::ApiKey(&key),
        6,
        "attempt_message",
        json!({ "attempt_id": attempt_id, "chat_id": chat_id, "message": learner_says,
                "assistant_content": persona_says }),
    )
    .await;
    assert!(!is_error, "{sent}");
    assert_eq!(sent["chat_id"], chat_id.as_str(), "{sent}");
    assert_eq!(sent["assistant_content"], persona_says, "{sent}");
    let user_message_id = sent["user_message_id"].as_str().expect("user_message_id").to_string();
    let assistant_message_id = sent["assistant_message_id"]
        .as_str()
        .expect("assistant_message_id")
        .to_string();

    // End with a supplied grade (the rubric has 10 points, 5 to pass).
    let (is_error, ended) = call_tool(
        &app,
        Auth::ApiKey(&key),
        7,
        "attempt_end",
        json!({ "attempt_id": attempt_id, "chat_id": chat_id, "score": 8,
                "feedbacks": [{ "feedback": "Named the feeling and set a date", "total": 8 }] }),
    )
    .await;
    assert!(!is_error, "{ended}");
    assert_eq!(ended["chat_id"], chat_id.as_str(), "{ended}");
    assert_eq!(ended["score"], 8, "{ended}");
    assert_eq!(ended["passed"], true, "{ended}");
    let grade_id = ended["grade_id"].as_str().expect("grade_id").to_string();

    // Get: the grade and the messages.
    let (is_error, got) = call_tool(
        &app,
        Auth::ApiKey(&key),
        8,
        "attempt_get",
        json!({ "attempt_id": attempt_id }),
    )
    .await;
    assert!(!is_error, "{got}");
    assert_eq!(got["attempt_exists"], true, "{got}");
    assert_eq!(got["access_denied"], false, "{got}");
    assert_eq!(
        got["aggregated_results"]["total_score"], 8,
        "{}",
        got["aggregated_results"]
    );
    let messages = got["entries"]["attempt_message"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(messages.len(), 2, "{messages:?}");
    let contents: Vec<&str> = messages.iter().filter_map(|m| m["content"].as_str()).collect();
    assert!(contents.contains(&learner_says), "{messages:?}");
    assert!(contents.contains(&persona_says), "{messages:?}");

    // Search finds it: the learner's own attempts, and the department's teacher's.
    let (is_error, found) = call_tool(
        &app,
        Auth::ApiKey(&key),
        9,
        "attempt_search",
        json!({ "practice": true, "page_size": 10 }),
    )
    .await;
    assert!(!is_error, "{found}");
    assert_eq!(found["total_count"], 1, "{found}");
    assert_eq!(found["attempts"][0]["attempt_id"], attempt_id.as_str(), "{found}");
    assert_eq!(found["attempts"][0]["practice"], true, "{found}");
    assert_eq!(found["attempts"][0]["profile_id"], "stu_ana", "{found}");
    let teacher = app.token("tch_math", Role::Teacher);
    let (is_error, found) = call_tool(
        &app,
        Auth::Bearer(&teacher),
        10,
        "attempt_search",
        json!({ "search": "office" }),
    )
    .await;
    assert!(!is_error, "{found}");
    assert_eq!(found["total_count"], 1, "{found}");
    assert_eq!(found["attempts"][0]["attempt_id"], attempt_id.as_str(), "{found}");

    // Every row written through MCP is an agent's, with no X-MCP header sent.
    let attempt = app
        .state
        .store
        .sim_attempt(&attempt_id)
        .await
        .expect("sim_attempt")
        .expect("the attempt row");
    assert_eq!(attempt.profile_id, "stu_ana");
    assert_eq!(attempt.practice_id.as_deref(), Some("prac-1"));
    assert!(attempt.via_agent, "the attempt row: {attempt:?}");
    let chat = app
        .state
        .store
        .sim_chat(&chat_id)
        .await
        .expect("sim_chat")
        .expect("the chat row");
    assert!(chat.via_agent, "the chat row: {chat:?}");
    assert!(chat.ended_at.is_some(), "{chat:?}");
    let stored = app
        .state
        .store
        .sim_messages(std::slice::from_ref(&chat_id))
        .await
        .expect("sim_messages");
    assert_eq!(stored.len(), 2, "{stored:?}");
    assert!(stored.iter().all(|m| m.via_agent), "{stored:?}");
    let query = stored
        .iter()
        .find(|m| m.id == user_message_id)
        .expect("the learner's message");
    assert_eq!(query.kind, "query");
    assert_eq!(query.content, learner_says);
    let reply = stored
        .iter()
        .find(|m| m.id == assistant_message_id)
        .expect("the persona's reply");
    assert_eq!(reply.kind, "response");
    assert_eq!(reply.content, persona_says);
    assert_eq!(reply.source, "agent", "supplied, not generated: {reply:?}");
    assert_eq!(reply.parent_message_id.as_deref(), Some(query.id.as_str()));
    let grades = app
        .state
        .store
        .sim_grades(std::slice::from_ref(&chat_id))
        .await
        .expect("sim_grades");
    assert_eq!(grades.len(), 1, "{grades:?}");
    let grade = &grades[0];
    assert_eq!(grade.id, grade_id);
    assert_eq!(grade.source, "agent", "{grade:?}");
    assert_eq!(grade.score, Some(8));
    assert_eq!(grade.passed, Some(true));
    assert!(grade.via_agent, "the grade row: {grade:?}");
    assert_eq!(
        grade.detail["feedbacks"][0]["feedback"], "Named the feeling and set a date",
        "{grade:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_runs_a_whole_attempt_through_mcp_tools_on_each_backend() {
    for backend in backends() {
        agent_attempt_through_mcp(backend).await;
    }
}
