//! Simulation attempts over real HTTP, on SQLite and PostgreSQL: a full scenario (import ->
//! start -> messages -> end with grade -> next -> end-all -> get -> search -> export -> the ZIP's
//! CSVs), access for each role, agent-supplied replies and grades, video responses, audio
//! sessions, use-previous, archive, refresh, docs, and a 4xx for bad input on every endpoint.

mod common;

use std::io::Read;

use common::{Backend, TestApp, assert_error_shape, backends};
use practica::storage::Role;
use serde_json::{Value, json};

async fn import(app: &TestApp) {
    common::import_sim_bundle(app).await;
}

async fn op(app: &TestApp, name: &str, token: &str, body: Value) -> (u16, Value) {
    app.sim_op(name, token, body).await
}

/// An operation called with an API key (an agent program), optionally marked X-MCP.
async fn op_key(app: &TestApp, name: &str, key: &str, body: Value, mcp: bool) -> (u16, Value) {
    let mut req = app
        .http
        .post(app.url(&format!("/api/v5/artifacts/attempt/{name}")))
        .header("x-api-key", key)
        .json(&body);
    if mcp {
        req = req.header("x-mcp", "yes");
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn api_key(app: &TestApp, role: Role, owner: &str) -> String {
    let (key, record) = practica::auth::new_api_key("test", role, owner);
    app.state.store.create_api_key(&record).await.unwrap();
    key
}

fn ok(status: u16, body: &Value) {
    assert_eq!(status, 200, "{body}");
}

async fn full_scenario(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    import(&app).await;
    let ana = app.token("stu_ana", Role::Student);

    let (s, started) = op(&app, "start", &ana, json!({"home_id": "home-1"})).await;
    ok(s, &started);
    let attempt_id = started["attempt_id"].as_str().unwrap().to_string();
    let chat1 = started["attempt_chat_id"].as_str().unwrap().to_string();
    assert_eq!(started["chat_entry_id"], "home-1/scn-1");

    // No provider: the scenario's scripted lines, in order.
    let (s, m1) = op(
        &app,
        "message",
        &ana,
        json!({"attempt_id": attempt_id, "chat_id": chat1, "message": "Hi, how can I help?"}),
    )
    .await;
    ok(s, &m1);
    assert_eq!(m1["assistant_content"], "Hi… I could not finish the homework.");
    let (s, m2) = op(
        &app,
        "message",
        &ana,
        json!({"attempt_id": attempt_id, "chat_id": chat1,
        "message": "That sounds stressful. Let's set a new date: hand it in by Friday."}),
    )
    .await;
    ok(s, &m2);
    assert_eq!(m2["assistant_content"], "I had two exams this week.");

    // A video question: single choice; multiple options refused; is_correct from the options.
    let (s, r) = op(
        &app,
        "response",
        &ana,
        json!({"chat_id": chat1, "question_id": "q1", "option_ids": ["o1"]}),
    )
    .await;
    ok(s, &r);
    assert_eq!(r["is_correct"], true);
    let (s, r) = op(
        &app,
        "response",
        &ana,
        json!({"chat_id": chat1, "question_id": "q1", "option_ids": ["o1", "o2"]}),
    )
    .await;
    assert_eq!(s, 422, "{r}");
    let (s, r) = op(
        &app,
        "response",
        &ana,
        json!({"chat_id": chat1, "question_id": "q2", "option_ids": ["o1", "o3"]}),
    )
    .await;
    ok(s, &r);
    assert_eq!(r["is_correct"], false);

    // next refuses while the chat runs; end with grade=true uses the rule grader (no provider).
    let (s, r) = op(&app, "next", &ana, json!({"attempt_id": attempt_id})).await;
    assert_eq!(s, 409, "{r}");
    let (s, ended) = op(
        &app,
        "end",
        &ana,
        json!({"attempt_id": attempt_id, "chat_id": chat1, "grade": true}),
    )
    .await;
    ok(s, &ended);
    assert_eq!(ended["score"], 10, "empathy 4 + concrete plan 6: {ended}");
    assert_eq!(ended["passed"], true);
    assert_eq!(ended["is_attempt_finished"], false);

    // Between chats: the lobby.
    let (s, got) = op(&app, "get", &ana, json!({"attempt_id": attempt_id})).await;
    ok(s, &got);
    assert_eq!(got["is_lobby"], true, "{got}");
    assert_eq!(got["is_own_attempt"], true);
    assert_eq!(got["actor_name"], "Ana");
    assert_eq!(got["expected_chat_count"], 3);

    let (s, nx) = op(&app, "next", &ana, json!({"attempt_id": attempt_id})).await;
    ok(s, &nx);
    let chat2 = nx["chat_id"].as_str().unwrap().to_string();
    let (s, m) = op(
        &app,
        "message",
        &ana,
        json!({"attempt_id": attempt_id, "chat_id": chat2, "message": "What happened?"}),
    )
    .await;
    ok(s, &m);
    assert_eq!(m["assistant_content"], "My exam grade is wrong!");
    // Scripted lines: after the last, the last repeats.
    let (s, m) = op(
        &app,
        "message",
        &ana,
        json!({"attempt_id": attempt_id, "chat_id": chat2, "message": "Tell me more"}),
    )
    .await;
    ok(s, &m);
    assert_eq!(m["assistant_content"], "My exam grade is wrong!");
    let (s, e) = op(
        &app,
        "end",
        &ana,
        json!({"attempt_id": attempt_id, "chat_id": chat2, "grade": true}),
    )
    .await;
    ok(s, &e);
    assert_eq!(e["score"], 0);
    assert_eq!(e["passed"], false);

    // The third scenario has no script: with no provider the reply cannot be made (409, saying
    // how to configure one), and nothing is written.
    let (s, nx) = op(&app, "next", &ana, json!({"attempt_id": attempt_id})).await;
    ok(s, &nx);
    let chat3 = nx["chat_id"].as_str().unwrap().to_string();
    let (s, r) = op(
        &app,
        "message",
        &ana,
        json!({"attempt_id": attempt_id, "chat_id": chat3, "message": "Hello?"}),
    )
    .await;
    assert_eq!(s, 409, "{r}");
    assert_error_shape(&r, 409);
    assert!(r["message"].as_str().unwrap().contains("assistant_content"), "{r}");
    assert!(
        app.state
            .store
            .sim_messages(std::slice::from_ref(&chat3))
            .await
            .unwrap()
            .is_empty()
    );

    let (s, all) = op(&app, "end-all", &ana, json!({"attempt_id": attempt_id})).await;
    ok(s, &all);
    assert_eq!(all["success"], true);
    assert_eq!(all["all_scenarios_complete"], true);

    let (s, got) = op(&app, "get", &ana, json!({"attempt_id": attempt_id})).await;
    ok(s, &got);
    assert_eq!(got["show_results"], true, "{got}");
    assert_eq!(got["is_active"], false);
    assert_eq!(got["has_messages"], true);
    let agg = &got["aggregated_results"];
    assert_eq!(agg["total_score"], 10, "{agg}");
    assert_eq!(agg["total_possible_points"], 30);
    assert_eq!(agg["percentage"], 33.33);
    assert_eq!(agg["total_chats"], 3);
    assert_eq!(got["attempt"]["department_id"], "dep-math");
    assert_eq!(got["attempt"]["cohort_id"], "coh-2026a");
    assert_eq!(got["simulation"]["name"], "Office hours practice");
    assert_eq!(got["entries"]["attempt_chat"].as_array().unwrap().len(), 3);
    assert_eq!(got["entries"]["attempt_message"].as_array().unwrap().len(), 8);
    assert!(
        got["rubric_structure"]["standards_mapping"]["lvl-e4"].is_object(),
        "{}",
        got["rubric_structure"]
    );
    // Learners do not see which options are right.
    assert!(got["resources"]["options"]["q1/o1"].get("is_correct").is_none());

    // Search: the teacher of the department sees it, with facets.
    let tch = app.token("tch_math", Role::Teacher);
    let (s, found) = op(&app, "search", &tch, json!({"search": "office", "page_size": 10})).await;
    ok(s, &found);
    assert_eq!(found["total_count"], 1, "{found}");
    let item = &found["attempts"][0];
    assert_eq!(item["attempt_id"], attempt_id.as_str());
    assert_eq!(item["num_chats"], 3);
    assert_eq!(item["practice"], false);
    assert_eq!(item["profile_name"], "Ana");
    assert_eq!(found["simulation_filter"]["options"][0]["count"], 1);
    assert_eq!(found["department_filter"]["options"][0]["hex_code"], "#3366ff");
    let (s, none) = op(&app, "search", &tch, json!({"search": "biology-nothing"})).await;
    ok(s, &none);
    assert_eq!(none["total_count"], 0);
    let (s, none) = op(&app, "search", &app.token("tch_bio", Role::Teacher), json!({})).await;
    ok(s, &none);
    assert_eq!(
        none["total_count"], 0,
        "another department's teacher sees nothing: {none}"
    );

    // Export -> download -> the four CSVs.
    let (s, ex) = op(&app, "export", &ana, json!({"attempt_id": attempt_id})).await;
    ok(s, &ex);
    assert_eq!(ex["row_count"], 1 + 3 + 8 + 2, "{ex}");
    let upload = ex["upload_id"].as_str().unwrap();
    let r = app
        .http
        .get(app.url(&format!("/api/v5/uploads/{upload}")))
        .bearer_auth(&ana)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let bytes = r.bytes().await.unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let mut csv_of = |name: &str| {
        let mut text = String::new();
        zip.by_name(name).unwrap().read_to_string(&mut text).unwrap();
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let headers: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
        let rows: Vec<Vec<String>> = reader
            .records()
            .map(|r| r.unwrap().iter().map(str::to_owned).collect())
            .collect();
        (headers, rows)
    };
    let (h, rows) = csv_of("attempts.csv");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][h.iter().position(|c| c == "attempt_id").unwrap()], attempt_id);
    assert_eq!(rows[0][h.iter().position(|c| c == "total_score").unwrap()], "10");
    assert_eq!(csv_of("chats.csv").1.len(), 3);
    let (h, rows) = csv_of("messages.csv");
    assert_eq!(rows.len(), 8);
    let content = h.iter().position(|c| c == "content").unwrap();
    assert!(
        rows.iter()
            .any(|r| r[content] == "Hi… I could not finish the homework.")
    );
    assert_eq!(csv_of("grades.csv").1.len(), 2);

    // Refresh: the views hold the attempt afterwards (staff only).
    let (s, r) = op(&app, "refresh", &ana, json!({})).await;
    assert_eq!(s, 403, "{r}");
    let (s, r) = op(&app, "refresh", &tch, json!({})).await;
    ok(s, &r);
    assert_eq!(
        r["refreshed_views"],
        json!(["sim_attempt_summary", "sim_simulation_summary"])
    );

    // Archive by id; then search with is_archived.
    let (s, r) = op(&app, "archive", &ana, json!({"archived": true})).await;
    assert_eq!(s, 400, "{r}");
    let (s, r) = op(
        &app,
        "archive",
        &tch,
        json!({"archived": true, "attempt_ids": [attempt_id]}),
    )
    .await;
    ok(s, &r);
    assert_eq!(r["updated_count"], 1);
    assert_eq!(r["profile_ids_to_invalidate"], json!(["stu_ana"]));
    let (s, r) = op(&app, "search", &tch, json!({"is_archived": false})).await;
    ok(s, &r);
    assert_eq!(r["total_count"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_scenario_on_each_backend() {
    for backend in backends() {
        full_scenario(backend).await;
    }
}

async fn access_and_agents(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    import(&app).await;
    let ana = app.token("stu_ana", Role::Student);
    let (s, started) = op(&app, "start", &ana, json!({"practice_id": "prac-1"})).await;
    ok(s, &started);
    let attempt_id = started["attempt_id"].as_str().unwrap().to_string();
    let chat = started["attempt_chat_id"].as_str().unwrap().to_string();

    // get: other learners and other departments' teachers are told "no access", not given data.
    for (who, role) in [("stu_ben", Role::Student), ("tch_bio", Role::Teacher)] {
        let (s, got) = op(&app, "get", &app.token(who, role), json!({"attempt_id": attempt_id})).await;
        ok(s, &got);
        assert_eq!(got["access_denied"], true, "{who}: {got}");
        assert_eq!(got["attempt_exists"], true);
        assert!(got["attempt"].is_null() && got["entries"].is_null(), "{got}");
    }
    for (who, role) in [("tch_math", Role::Teacher), ("adm_1", Role::Admin)] {
        let (s, got) = op(&app, "get", &app.token(who, role), json!({"attempt_id": attempt_id})).await;
        ok(s, &got);
        assert_eq!(got["access_denied"], false, "{who}: {got}");
        assert_eq!(got["is_own_attempt"], false);
    }
    let (s, got) = op(&app, "get", &ana, json!({"attempt_id": "nope"})).await;
    ok(s, &got);
    assert_eq!(got["attempt_exists"], false);

    // Playing is for the learner (and agents): others get 403.
    let body = json!({"attempt_id": attempt_id, "chat_id": chat, "message": "hello"});
    let (s, r) = op(&app, "message", &app.token("stu_ben", Role::Student), body.clone()).await;
    assert_eq!(s, 403, "{r}");
    let (s, r) = op(&app, "message", &app.token("tch_math", Role::Teacher), body.clone()).await;
    assert_eq!(s, 403, "{r}");

    // A learner's own token may not write the persona's reply or their grade.
    let (s, r) = op(
        &app,
        "message",
        &ana,
        json!({"attempt_id": attempt_id, "chat_id": chat, "message": "hi", "assistant_content": "I am fine"}),
    )
    .await;
    assert_eq!(s, 403, "{r}");
    let (s, r) = op(
        &app,
        "end",
        &ana,
        json!({"attempt_id": attempt_id, "chat_id": chat, "score": 10}),
    )
    .await;
    assert_eq!(s, 403, "{r}");

    // An agent key acting for the learner: replies and grades supplied, no AI, rows marked.
    let key = api_key(&app, Role::Student, "stu_ana").await;
    let (s, m) = op_key(
        &app,
        "message",
        &key,
        json!({"attempt_id": attempt_id, "chat_id": chat,
        "message": "I understand, that sounds hard.", "assistant_content": "Thanks for listening.",
        "hints": [{"hint": "Ask about the deadline", "idx": 0}]}),
        true,
    )
    .await;
    ok(s, &m);
    assert_eq!(m["assistant_content"], "Thanks for listening.");
    assert_eq!(m["hints"][0]["hint"], "Ask about the deadline");
    let stored = app.state.store.sim_messages(std::slice::from_ref(&chat)).await.unwrap();
    assert_eq!(stored.len(), 2);
    assert!(stored.iter().all(|m| m.via_agent), "X-MCP marks every row");
    assert_eq!(stored[1].parent_message_id.as_deref(), Some(stored[0].id.as_str()));

    // A branch: answering from the first message again makes a sibling.
    let (s, b) = op_key(
        &app,
        "message",
        &key,
        json!({"attempt_id": attempt_id, "chat_id": chat,
        "message": "Let me try again", "assistant_content": "Sure.", "parent_message_id": stored[0].id}),
        false,
    )
    .await;
    ok(s, &b);
    let (_, got) = op(&app, "get", &ana, json!({"attempt_id": attempt_id})).await;
    let msgs = got["entries"]["attempt_message"].as_array().unwrap();
    let siblings: Vec<&Value> = msgs
        .iter()
        .filter(|m| m["parent_message_id"] == json!(stored[0].id))
        .collect();
    assert_eq!(siblings.len(), 2, "{msgs:?}");
    assert!(siblings.iter().all(|m| m["sibling_count"] == 2));

    // Supplied grades are validated against the rubric (total 10 points) and stored as given.
    let (s, r) = op_key(
        &app,
        "end",
        &key,
        json!({"attempt_id": attempt_id, "chat_id": chat, "score": 11}),
        true,
    )
    .await;
    assert_eq!(s, 422, "{r}");
    let (s, r) = op_key(
        &app,
        "end",
        &key,
        json!({"attempt_id": attempt_id, "chat_id": chat, "score": 4, "passed": true}),
        true,
    )
    .await;
    assert_eq!(s, 422, "passed contradicts the score: {r}");
    let (s, e) = op_key(&app, "end", &key, json!({"attempt_id": attempt_id, "chat_id": chat, "score": 7,
        "feedbacks": [{"feedback": "Good listening", "total": 7}], "strengths": [{"name": "Empathy", "description": "Named the feeling"}]}), true).await;
    ok(s, &e);
    assert_eq!(e["score"], 7);
    assert_eq!(e["passed"], true);
    let grades = app.state.store.sim_grades(std::slice::from_ref(&chat)).await.unwrap();
    assert_eq!(grades.len(), 1);
    assert_eq!(grades[0].source, "agent");
    assert!(grades[0].via_agent);
    assert_eq!(grades[0].detail["feedbacks"][0]["feedback"], "Good listening");
    // A re-grade by the department's teacher through `grade`: the latest wins.
    let (s, g) = op(
        &app,
        "grade",
        &app.token("tch_math", Role::Teacher),
        json!({"attempt_id": attempt_id, "chat_id": chat, "score": 3}),
    )
    .await;
    ok(s, &g);
    let (_, got) = op(&app, "get", &ana, json!({"attempt_id": attempt_id})).await;
    assert_eq!(
        got["aggregated_results"]["total_score"], 3,
        "{}",
        got["aggregated_results"]
    );

    // Infinite mode only for practices.
    let (s, r) = op(&app, "start", &ana, json!({"home_id": "home-1", "infinite_mode": true})).await;
    assert_eq!(s, 400, "{r}");
    let (s, r) = op(&app, "start", &ana, json!({})).await;
    assert_eq!(s, 400, "{r}");
    assert_error_shape(&r, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_control_and_agent_paths_on_each_backend() {
    for backend in backends() {
        access_and_agents(backend).await;
    }
}

async fn infinite_use_previous_and_audio(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    import(&app).await;
    let ana = app.token("stu_ana", Role::Student);
    let key = api_key(&app, Role::Agent, "stu_ana").await;

    // Infinite mode cycles through the scenarios; a draft picks one.
    let (s, st) = op(
        &app,
        "start",
        &ana,
        json!({"practice_id": "prac-1", "infinite_mode": true}),
    )
    .await;
    ok(s, &st);
    let inf = st["attempt_id"].as_str().unwrap().to_string();
    let mut chat = st["attempt_chat_id"].as_str().unwrap().to_string();
    let mut scenarios = vec![];
    for i in 0..4 {
        let (s, e) = op(&app, "end", &ana, json!({"attempt_id": inf, "chat_id": chat})).await;
        ok(s, &e);
        let body = if i == 3 {
            json!({"attempt_id": inf, "draft_id": "scn-2"})
        } else {
            json!({"attempt_id": inf})
        };
        let (s, n) = op(&app, "next", &ana, body).await;
        ok(s, &n);
        chat = n["chat_id"].as_str().unwrap().to_string();
        let row = app.state.store.sim_chat(&chat).await.unwrap().unwrap();
        scenarios.push(row.scenario_id);
    }
    assert_eq!(scenarios, ["scn-2", "scn-3", "scn-1", "scn-2"]);
    let (s, r) = op(&app, "next", &ana, json!({"attempt_id": inf, "draft_id": "no-such"})).await;
    assert!(s == 404 || s == 409, "{s} {r}");
    let (_, got) = op(&app, "get", &ana, json!({"attempt_id": inf})).await;
    assert!(got["expected_chat_count"].is_null(), "unbounded in infinite mode");

    // A home played once, graded; a second attempt copies the first chat's grade.
    let (_, first) = op(&app, "start", &ana, json!({"home_id": "home-1"})).await;
    let a1 = first["attempt_id"].as_str().unwrap().to_string();
    let c1 = first["attempt_chat_id"].as_str().unwrap().to_string();
    let (s, e) = op_key(
        &app,
        "end",
        &key,
        json!({"attempt_id": a1, "chat_id": c1, "score": 8}),
        false,
    )
    .await;
    ok(s, &e);
    let (_, second) = op(&app, "start", &ana, json!({"home_id": "home-1"})).await;
    let a2 = second["attempt_id"].as_str().unwrap().to_string();
    let c2 = second["attempt_chat_id"].as_str().unwrap().to_string();
    let (s, e) = op(&app, "end", &ana, json!({"attempt_id": a2, "chat_id": c2})).await;
    ok(s, &e);
    // The lobby offers the earlier chat of the remaining entries (none for scn-2 yet: no offer).
    let (s, r) = op(
        &app,
        "use-previous",
        &ana,
        json!({"attempt_id": a2, "previous_chat_map": {"home-1/scn-1": c1}}),
    )
    .await;
    assert_eq!(s, 422, "scn-1 already has a chat in this attempt: {r}");
    let (s, r) = op(
        &app,
        "use-previous",
        &ana,
        json!({"attempt_id": a2, "previous_chat_map": {"home-1/scn-2": c1}}),
    )
    .await;
    assert_eq!(s, 422, "a chat of another entry: {r}");
    let (s, r) = op(
        &app,
        "use-previous",
        &app.token("stu_ben", Role::Student),
        json!({"attempt_id": a2, "previous_chat_map": {"home-1/scn-2": c1}}),
    )
    .await;
    assert_eq!(s, 403, "{r}");
    // Play scn-2 in a third attempt... simpler: play it in a1, then copy it into a2.
    let (s, n) = op(&app, "next", &ana, json!({"attempt_id": a1})).await;
    ok(s, &n);
    let a1c2 = n["chat_id"].as_str().unwrap().to_string();
    let (s, e) = op_key(
        &app,
        "end",
        &key,
        json!({"attempt_id": a1, "chat_id": a1c2, "score": 9}),
        false,
    )
    .await;
    ok(s, &e);
    let (_, got) = op(&app, "get", &ana, json!({"attempt_id": a2})).await;
    let options = &got["available_continuation_options"]["options"];
    assert_eq!(options[0]["scenarios"][0]["attempt_chat_id"], a1c2.as_str(), "{got}");
    let (s, r) = op(
        &app,
        "use-previous",
        &ana,
        json!({"attempt_id": a2, "previous_chat_map": {"home-1/scn-2": a1c2}}),
    )
    .await;
    ok(s, &r);
    let (_, got) = op(&app, "get", &ana, json!({"attempt_id": a2})).await;
    assert_eq!(
        got["aggregated_results"]["total_score"], 9,
        "{}",
        got["aggregated_results"]
    );
    assert_eq!(got["aggregated_results"]["chats_completed"], 2);

    // Audio: start, frames in order, stop -> one WAV stored with the chat; frames after stop refused.
    let (_, n) = op(&app, "next", &ana, json!({"attempt_id": a2})).await;
    let c3 = n["chat_id"].as_str().unwrap().to_string();
    let (s, st) = op(&app, "audio/start", &ana, json!({"chat_id": c3})).await;
    ok(s, &st);
    assert_eq!(st["attempt_id"], a2.as_str());
    let run = st["run_id"].as_str().unwrap().to_string();
    let (s, again) = op(&app, "audio/start", &ana, json!({"chat_id": c3})).await;
    ok(s, &again);
    assert_eq!(again["run_id"], run.as_str(), "one open session a chat");
    let (s, r) = op(
        &app,
        "audio/frame",
        &ana,
        json!({"chat_id": c3, "upload_id": uuid::Uuid::nil().to_string()}),
    )
    .await;
    assert_eq!(s, 404, "{r}");
    for i in 0..3u8 {
        let pcm: Vec<u8> = (0..4800u32)
            .flat_map(|n| ((n as i16).wrapping_mul(i as i16 + 1)).to_le_bytes())
            .collect();
        let up = upload(&app, &ana, pcm).await;
        let (s, r) = op(&app, "audio/frame", &ana, json!({"chat_id": c3, "upload_id": up})).await;
        ok(s, &r);
        assert_eq!(r["accepted"], true);
    }
    let (s, r) = op(&app, "audio/stop", &ana, json!({"chat_id": c3})).await;
    ok(s, &r);
    assert_eq!(r["stopped"], true);
    let sessions = app.state.store.sim_audio_sessions(&c3).await.unwrap();
    assert_eq!(sessions[0].frame_count, 3);
    let file = sessions[0].upload_id.clone().expect("the assembled recording");
    let record = app
        .state
        .store
        .upload(uuid::Uuid::parse_str(&file).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.content_type, "audio/wav");
    assert_eq!(record.bytes, 44 + 3 * 9600, "one WAV of the three PCM frames");
    let up = upload(&app, &ana, vec![0u8; 100]).await;
    let (s, r) = op(&app, "audio/frame", &ana, json!({"chat_id": c3, "upload_id": up})).await;
    assert_eq!(s, 409, "frames of a stopped session are rejected: {r}");
    let (s, r) = op(&app, "audio/stop", &ana, json!({"chat_id": c3})).await;
    ok(s, &r);
    assert_eq!(r["stopped"], false);
}

async fn upload(app: &TestApp, token: &str, bytes: Vec<u8>) -> String {
    let part = reqwest::multipart::Part::bytes(bytes).file_name("frame.pcm");
    let r = app
        .http
        .post(app.url("/api/v5/uploads"))
        .bearer_auth(token)
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    r.json::<Value>().await.unwrap()["upload_id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn infinite_mode_use_previous_and_audio_on_each_backend() {
    for backend in backends() {
        infinite_use_previous_and_audio(backend).await;
    }
}

/// Every operation answers bad input with a 4xx JSON error, never a 5xx.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_4xx_on_every_endpoint() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    import(&app).await;
    let ana = app.token("stu_ana", Role::Student);
    let (_, st) = op(&app, "start", &ana, json!({"home_id": "home-1"})).await;
    let attempt = st["attempt_id"].as_str().unwrap();
    let chat = st["attempt_chat_id"].as_str().unwrap();
    let long = "x".repeat(20_001);
    let cases: Vec<(&str, Value, u16)> = vec![
        ("get", json!({}), 422),
        ("get", json!({"attempt_id": 5}), 422),
        ("archive", json!({}), 422),
        ("archive", json!({"archived": true, "start_date": "yesterday"}), 422),
        ("docs", json!({"entity_id": "nothing"}), 404),
        ("export", json!({"attempt_id": "missing"}), 404),
        ("start", json!({"home_id": "no-home"}), 404),
        ("start", json!({"home_id": "home-1", "practice_id": "prac-1"}), 400),
        ("next", json!({"attempt_id": "missing"}), 404),
        ("end", json!({"attempt_id": attempt}), 422),
        ("end", json!({"attempt_id": attempt, "chat_id": "nope"}), 404),
        ("end-all", json!({"attempt_id": []}), 422),
        (
            "message",
            json!({"attempt_id": attempt, "chat_id": chat, "message": ""}),
            422,
        ),
        (
            "message",
            json!({"attempt_id": attempt, "chat_id": chat, "message": long}),
            422,
        ),
        (
            "message",
            json!({"attempt_id": attempt, "chat_id": chat, "message": "hi", "parent_message_id": "nope"}),
            404,
        ),
        (
            "grade",
            json!({"attempt_id": attempt, "chat_id": chat, "resource_types": ["poems"]}),
            422,
        ),
        ("stop", json!({"chat_id": "nope"}), 404),
        (
            "response",
            json!({"chat_id": chat, "question_id": "q1", "option_ids": []}),
            422,
        ),
        (
            "response",
            json!({"chat_id": chat, "question_id": "q9", "option_ids": ["o1"]}),
            404,
        ),
        (
            "use-previous",
            json!({"attempt_id": attempt, "previous_chat_map": {}}),
            422,
        ),
        (
            "use-previous",
            json!({"attempt_id": attempt, "previous_chat_map": []}),
            422,
        ),
        ("audio/start", json!({"chat_id": "nope"}), 404),
        ("audio/frame", json!({"chat_id": chat, "upload_id": "not-a-uuid"}), 409),
        ("audio/stop", json!({}), 422),
        ("search", json!({"page_size": 0}), 422),
        ("search", json!({"page_offset": -1}), 422),
        ("search", json!({"start_date": "2026-13-45"}), 422),
    ];
    for (name, body, want) in cases {
        let (s, r) = op(&app, name, &ana, body.clone()).await;
        assert_eq!(s, want, "{name} {body}: {r}");
        assert_error_shape(&r, want);
    }
    // Not JSON, not an object, no credentials.
    let r = app
        .http
        .post(app.url("/api/v5/artifacts/attempt/get"))
        .bearer_auth(&ana)
        .header("content-type", "application/json")
        .body("{nope")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let (s, r) = op(&app, "get", &ana, json!([1, 2])).await;
    assert_eq!(s, 422, "{r}");
    let r = app
        .http
        .post(app.url("/api/v5/artifacts/attempt/get"))
        .json(&json!({"attempt_id": attempt}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // Every operation is in the OpenAPI document, its fields snake_case.
    let spec: Value = app
        .http
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for name in [
        "get",
        "archive",
        "refresh",
        "docs",
        "export",
        "start",
        "next",
        "end",
        "end-all",
        "message",
        "grade",
        "stop",
        "response",
        "use-previous",
        "audio/start",
        "audio/frame",
        "audio/stop",
        "search",
    ] {
        let path = format!("/api/v5/artifacts/attempt/{name}");
        assert!(
            spec["paths"][&path]["post"].is_object(),
            "{path} missing from the OpenAPI document"
        );
    }
    assert!(spec["components"]["schemas"]["GetResponse"]["properties"]["available_continuation_options"].is_object());
    assert!(spec["paths"]["/api/v5/uploads/{upload_id}"]["get"].is_object());
    // The docs are composed from the OpenAPI document and the database.
    let (s, docs) = op(&app, "docs", &ana, json!({})).await;
    ok(s, &docs);
    assert_eq!(docs["api_operations"].as_array().unwrap().len(), 18);
    let start = docs["api_operations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "start")
        .unwrap();
    assert!(
        start["params"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "home_id"),
        "{start}"
    );
    let table = &docs["artifact"]["tables"][0];
    assert_eq!(table["name"], "sim_attempt");
    assert!(
        table["columns"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "via_agent")
    );
    assert!(
        docs["artifact"]["materialized_view"]["definition"]
            .as_str()
            .unwrap()
            .starts_with("SELECT")
    );
}

/// Messages sent at once to one chat (a double submit, parallel agents) are all numbered
/// apart or refused with a 409 — never a 5xx, never two with one number.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_messages_in_one_chat_on_each_backend() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        import(&app).await;
        let ana = app.token("stu_ana", Role::Student);
        let key = api_key(&app, Role::Student, "stu_ana").await;
        let (_, st) = op(&app, "start", &ana, json!({"practice_id": "prac-1"})).await;
        let attempt = st["attempt_id"].as_str().unwrap().to_string();
        let chat = st["attempt_chat_id"].as_str().unwrap().to_string();
        let sends = (0..12).map(|i| {
            let body = json!({"attempt_id": attempt, "chat_id": chat, "message": format!("m{i}"), "assistant_content": format!("r{i}")});
            let app = &app;
            let key = key.clone();
            async move { op_key(app, "message", &key, body, false).await }
        });
        let results = futures::future::join_all(sends).await;
        let mut written = 0;
        for (s, body) in &results {
            assert!(*s == 200 || *s == 409, "{s} {body}");
            written += usize::from(*s == 200);
        }
        assert!(written >= 1);
        let stored = app.state.store.sim_messages(std::slice::from_ref(&chat)).await.unwrap();
        assert_eq!(stored.len(), written * 2);
        let mut seqs: Vec<i64> = stored.iter().map(|m| m.seq).collect();
        seqs.dedup();
        assert_eq!(seqs.len(), stored.len(), "every message has its own number");
    }
}

/// An export larger than `export_inline_rows` is built by a job: the id comes at once, the
/// download answers 409 until the file is there, then the ZIP.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_exports_are_built_by_a_job_on_each_backend() {
    for backend in backends() {
        let app = TestApp::spawn_with(backend, |c| c.export_inline_rows = 0).await;
        import(&app).await;
        let ana = app.token("stu_ana", Role::Student);
        let (_, st) = op(&app, "start", &ana, json!({"home_id": "home-1"})).await;
        let attempt = st["attempt_id"].as_str().unwrap().to_string();
        let chat = st["attempt_chat_id"].as_str().unwrap().to_string();
        let (s, m) = op(
            &app,
            "message",
            &ana,
            json!({"attempt_id": attempt, "chat_id": chat, "message": "=1+1"}),
        )
        .await;
        ok(s, &m);
        let (s, ex) = op(&app, "export", &ana, json!({"attempt_id": attempt})).await;
        ok(s, &ex);
        assert_eq!(ex["row_count"], 1 + 1 + 2);
        let url = app.url(&format!("/api/v5/uploads/{}", ex["upload_id"].as_str().unwrap()));
        // Someone else may not read it, whether or not it is ready.
        let r = app
            .http
            .get(&url)
            .bearer_auth(app.token("stu_ben", Role::Student))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let bytes = loop {
            let r = app.http.get(&url).bearer_auth(&ana).send().await.unwrap();
            match r.status().as_u16() {
                200 => break r.bytes().await.unwrap(),
                409 => assert_error_shape(&r.json().await.unwrap(), 409),
                other => panic!("download answered {other}"),
            }
            assert!(std::time::Instant::now() < deadline, "the export job never finished");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        };
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
        let mut text = String::new();
        zip.by_name("messages.csv").unwrap().read_to_string(&mut text).unwrap();
        // A learner's "=1+1" is not a formula when the file is opened in a spreadsheet.
        assert!(text.contains("'=1+1"), "{text}");
    }
}

/// A reply left `streaming` by a process that died does not block the chat and is swept to
/// `failed`, its text kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_left_streaming_by_a_dead_process_are_swept_on_each_backend() {
    use practica::storage::sim_store::{SimMessageRow, SimWrite};
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        import(&app).await;
        let ana = app.token("stu_ana", Role::Student);
        let (_, st) = op(&app, "start", &ana, json!({"home_id": "home-1"})).await;
        let attempt = st["attempt_id"].as_str().unwrap().to_string();
        let chat = st["attempt_chat_id"].as_str().unwrap().to_string();
        let long_ago = (time::OffsetDateTime::now_utc().unix_timestamp() - 3_600) * 1_000_000;
        app.state
            .store
            .sim_write(&[SimWrite::InsertMessage(SimMessageRow {
                id: "orphan".into(),
                chat_id: chat.clone(),
                seq: 0,
                parent_message_id: None,
                kind: "response".into(),
                content: "half a sen".into(),
                hints: json!([]),
                contents: json!([]),
                status: "streaming".into(),
                source: "ai".into(),
                created_by: "stu_ana".into(),
                via_agent: false,
                created_at: long_ago,
                updated_at: long_ago,
            })])
            .await
            .unwrap();
        // The chat is not blocked by it.
        let (s, m) = op(
            &app,
            "message",
            &ana,
            json!({"attempt_id": attempt, "chat_id": chat, "message": "hello?"}),
        )
        .await;
        ok(s, &m);
        let now = time::OffsetDateTime::now_utc().unix_timestamp() * 1_000_000;
        let swept = app
            .state
            .store
            .sim_fail_stale_streams(now - 120_000_000, now)
            .await
            .unwrap();
        assert_eq!(swept, 1);
        let orphan = app.state.store.sim_message("orphan").await.unwrap().unwrap();
        assert_eq!(
            (orphan.status.as_str(), orphan.content.as_str()),
            ("failed", "half a sen")
        );
    }
}

/// The timer runs past the limit: `get` shows it exceeded and negative, messages are refused,
/// ending the chat is still allowed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attempt_past_its_time_limit_on_each_backend() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        import(&app).await;
        let fast = "simulations:\n  - {id: sim-fast, name: Quick round, rubric_id: rub-oh, time_limit: 1,\n     scenarios: [{id: scn-f, name: Quick, persona_ids: [per-student], problem_statement: Be quick, script: [Hi]}]}\npractices: [{id: prac-fast, simulation_id: sim-fast}]\n";
        let r = app
            .http
            .post(app.url("/admin/import"))
            .bearer_auth(app.token("adm_1", Role::Admin))
            .header("content-type", "application/yaml")
            .body(fast)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.text().await.unwrap());
        let ana = app.token("stu_ana", Role::Student);
        let (s, st) = op(&app, "start", &ana, json!({"practice_id": "prac-fast"})).await;
        ok(s, &st);
        let attempt = st["attempt_id"].as_str().unwrap().to_string();
        let chat = st["attempt_chat_id"].as_str().unwrap().to_string();
        let (_, got) = op(&app, "get", &ana, json!({"attempt_id": attempt})).await;
        assert_eq!(got["timer"]["limit"], 1);
        assert_eq!(got["is_active"], true);
        tokio::time::sleep(std::time::Duration::from_millis(2_100)).await;
        let (_, got) = op(&app, "get", &ana, json!({"attempt_id": attempt})).await;
        let timer = &got["timer"];
        assert_eq!(timer["exceeded"], true, "{timer}");
        assert_eq!(timer["negative"], true);
        assert!(timer["formatted"].as_str().unwrap().starts_with('-'), "{timer}");
        assert_eq!(got["is_active"], false);
        assert_eq!(got["should_show_controls"], false);
        let (s, r) = op(
            &app,
            "message",
            &ana,
            json!({"attempt_id": attempt, "chat_id": chat, "message": "still there?"}),
        )
        .await;
        assert_eq!(s, 409, "{r}");
        let (s, r) = op(
            &app,
            "end",
            &ana,
            json!({"attempt_id": attempt, "chat_id": chat, "grade": true}),
        )
        .await;
        ok(s, &r);
        let (_, got) = op(&app, "get", &ana, json!({"attempt_id": attempt})).await;
        assert_eq!(got["show_results"], true, "{got}");
    }
}
