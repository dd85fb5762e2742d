//! The AI paths of simulation attempts against a local OpenAI-compatible server (the fake of
//! `common::fake_llm`, speaking the real protocol): the persona's reply streamed into the
//! message, a stop in mid-stream that keeps the partial text and drops the provider's stream,
//! hints, the AI grader as a job (levels from the model, points from the rubric, quotes
//! verified), and audio turned into the learner's message by a transcription endpoint.

mod common;

use std::time::{Duration, Instant};

use common::fake_llm::{self, Behaviour};
use common::{TestApp, backends};
use practica::storage::Role;
use serde_json::{Value, json};

async fn op(app: &TestApp, name: &str, token: &str, body: Value) -> (u16, Value) {
    app.sim_op(name, token, body).await
}

async fn start_practice(app: &TestApp, token: &str) -> (String, String) {
    let (s, st) = op(app, "start", token, json!({"practice_id": "prac-1"})).await;
    assert_eq!(s, 200, "{st}");
    (
        st["attempt_id"].as_str().unwrap().to_string(),
        st["attempt_chat_id"].as_str().unwrap().to_string(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_persona_streams_its_reply_and_gives_hints() {
    for backend in backends() {
        let hints = json!({"hints": [{"hint": "Ask what got in the way."}]}).to_string();
        let fake = fake_llm::start(
            Behaviour::Sequence(vec![
                Behaviour::Stream {
                    chunks: vec!["Hi", "… I could", " not finish."]
                        .into_iter()
                        .map(String::from)
                        .collect(),
                    gap: Duration::from_millis(20),
                },
                Behaviour::Content(hints),
            ]),
            Duration::ZERO,
        )
        .await;
        let url = fake.base_url.clone();
        let app = TestApp::spawn_with(backend, move |c| c.llm_base_url = Some(url)).await;
        common::import_sim_bundle(&app).await;
        let ana = app.token("stu_ana", Role::Student);
        let (attempt, chat) = start_practice(&app, &ana).await;
        let (s, m) = op(
            &app,
            "message",
            &ana,
            json!({"attempt_id": attempt, "chat_id": chat, "message": "Hi, what's up?"}),
        )
        .await;
        assert_eq!(s, 200, "{m}");
        assert_eq!(m["assistant_content"], "Hi… I could not finish.");
        assert_eq!(m["hints"][0]["hint"], "Ask what got in the way.");
        let stored = app.state.store.sim_messages(std::slice::from_ref(&chat)).await.unwrap();
        let reply = &stored[1];
        assert_eq!((reply.status.as_str(), reply.source.as_str()), ("complete", "ai"));
        assert_eq!(reply.hints[0]["hint"], "Ask what got in the way.");
        // The persona's prompt carries the persona and the scenario; the history the message.
        let requests = fake.requests.lock().unwrap().clone();
        let first = &requests[0];
        assert_eq!(first["stream"], true);
        let system = first["messages"][0]["content"].as_str().unwrap();
        assert!(system.contains("Sam") && system.contains("extension"), "{system}");
        assert_eq!(
            first["messages"].as_array().unwrap().last().unwrap()["content"],
            "Hi, what's up?"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_cuts_a_reply_in_mid_stream() {
    for backend in backends() {
        let chunks: Vec<String> = (0..60).map(|i| format!("word{i} ")).collect();
        let fake = fake_llm::start(
            Behaviour::Stream {
                chunks,
                gap: Duration::from_millis(50),
            },
            Duration::ZERO,
        )
        .await;
        let url = fake.base_url.clone();
        let app = TestApp::spawn_with(backend, move |c| {
            c.llm_base_url = Some(url);
        })
        .await;
        common::import_sim_bundle(&app).await;
        let ana = app.token("stu_ana", Role::Student);
        let (attempt, chat) = start_practice(&app, &ana).await;

        // Nothing running: stop succeeds and says so.
        let (s, r) = op(&app, "stop", &ana, json!({"chat_id": chat})).await;
        assert_eq!(s, 200, "{r}");
        assert_eq!(r["success"], true);
        assert!(r["message"].as_str().unwrap().contains("nothing"), "{r}");

        let sender = {
            let (http, url, token) = (
                app.http.clone(),
                app.url("/api/v5/artifacts/attempt/message"),
                ana.clone(),
            );
            let body = json!({"attempt_id": attempt, "chat_id": chat, "message": "Tell me everything"});
            tokio::spawn(async move {
                let r = http.post(url).bearer_auth(token).json(&body).send().await.unwrap();
                (r.status().as_u16(), r.json::<Value>().await.unwrap())
            })
        };
        // Wait until part of the reply is stored, then stop it.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let msgs = app.state.store.sim_messages(std::slice::from_ref(&chat)).await.unwrap();
            if msgs.iter().any(|m| m.status == "streaming" && m.content.len() > 10) {
                break;
            }
            assert!(Instant::now() < deadline, "the reply never started: {msgs:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // Another message while one is generated is refused.
        let (s, r) = op(
            &app,
            "message",
            &ana,
            json!({"attempt_id": attempt, "chat_id": chat, "message": "hello?"}),
        )
        .await;
        assert_eq!(s, 409, "{r}");
        let (s, r) = op(&app, "stop", &ana, json!({"chat_id": chat})).await;
        assert_eq!(s, 200, "{r}");
        assert!(r["message"].as_str().unwrap().contains("stopped"), "{r}");
        let (s, m) = sender.await.unwrap();
        assert_eq!(s, 200, "{m}");
        let partial = m["assistant_content"].as_str().unwrap().to_string();
        assert!(partial.starts_with("word0 ") && partial.len() < 60 * 6, "{partial}");
        let msgs = app.state.store.sim_messages(std::slice::from_ref(&chat)).await.unwrap();
        let reply = msgs.iter().find(|m| m.kind == "response").unwrap();
        assert_eq!(reply.status, "stopped");
        assert_eq!(reply.content, partial, "the partial text is kept");
        // The provider's stream was dropped, not read to the end.
        let deadline = Instant::now() + Duration::from_secs(5);
        while fake.streams_dropped() == 0 {
            assert!(Instant::now() < deadline, "the stream to the provider was not dropped");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let (_, got) = op(&app, "get", &ana, json!({"attempt_id": attempt})).await;
        let stopped: Vec<&Value> = got["entries"]["attempt_message"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["status"] == "stopped")
            .collect();
        assert_eq!(stopped.len(), 1, "{got}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ai_grader_picks_levels_and_the_rubric_gives_the_points() {
    for backend in backends() {
        // The model picks empathy 4 and a vague plan (3), quotes one real and one invented line.
        let grade = json!({
            "criteria": [
                {"criterion_id": "crit-empathy", "level_id": "lvl-e4", "rationale": "named the feeling",
                 "evidence": ["I understand", "I will always help you"]},
                {"criterion_id": "crit-plan", "level_id": "lvl-p3", "rationale": "a plan without a date",
                 "evidence": ["let's find a time"]}
            ],
            "strengths": [{"name": "Empathy", "description": "Acknowledged the stress"}],
            "improvements": [{"name": "Plan", "description": "Agree on a date"}],
            "replacements": [{"section": "let's find a time", "replace": "let's meet on Tuesday at 3"}],
            "feedback": "Warm and attentive; make the plan concrete."
        });
        let fake = fake_llm::start(Behaviour::Content(grade.to_string()), Duration::ZERO).await;
        let url = fake.base_url.clone();
        let app = TestApp::spawn_with(backend, move |c| c.llm_base_url = Some(url)).await;
        common::import_sim_bundle(&app).await;
        let ana = app.token("stu_ana", Role::Student);
        let (key, record) = practica::auth::new_api_key("agent", Role::Student, "stu_ana");
        app.state.store.create_api_key(&record).await.unwrap();
        let (attempt, chat) = start_practice(&app, &ana).await;
        let r = app
            .http
            .post(app.url("/api/v5/artifacts/attempt/message"))
            .header("x-api-key", &key)
            .json(&json!({"attempt_id": attempt, "chat_id": chat,
                "message": "I understand this is a lot; let's find a time to go over it.",
                "assistant_content": "Okay, thanks."}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let (s, e) = op(
            &app,
            "end",
            &ana,
            json!({"attempt_id": attempt, "chat_id": chat, "grade": true}),
        )
        .await;
        assert_eq!(s, 200, "{e}");
        assert!(e["grade_id"].is_string() && e["score"].is_null(), "asynchronous: {e}");

        let deadline = Instant::now() + Duration::from_secs(20);
        let got = loop {
            let (_, got) = op(&app, "get", &ana, json!({"attempt_id": attempt})).await;
            // `get` reads the attempt, then its grades (no one snapshot): a grade finishing in
            // between shows in the chat a moment before the totals, so wait for both.
            if got["entries"]["attempt_chat"][0]["grade"].is_object() && got["aggregated_results"]["total_score"] != 0 {
                break got;
            }
            assert!(Instant::now() < deadline, "the AI grade never finished: {got}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let graded = &got["entries"]["attempt_chat"][0]["grade"];
        assert_eq!(graded["source"], "ai");
        assert_eq!(graded["score"], 7, "4 + 3 from the rubric: {graded}");
        assert_eq!(graded["passed"], true);
        assert_eq!(
            graded["detail"]["dropped_quotes"], 1,
            "the invented quote is dropped: {graded}"
        );
        assert_eq!(got["aggregated_results"]["total_score"], 7);
        // A teacher's grade with their feedback, then a regrade of only the strengths: the
        // feedback stays the teacher's, the strengths are the model's.
        let (s, t) = op(
            &app,
            "grade",
            &app.token("tch_math", Role::Teacher),
            json!({"attempt_id": attempt,
            "chat_id": chat, "score": 5, "feedbacks": [{"feedback": "Teacher's note", "total": 5}]}),
        )
        .await;
        assert_eq!(s, 200, "{t}");
        let (s, g) = op(
            &app,
            "grade",
            &ana,
            json!({"attempt_id": attempt, "chat_id": chat,
            "resource_types": ["strengths"], "user_instructions": ["Be brief"]}),
        )
        .await;
        assert_eq!(s, 200, "{g}");
        let second = g["grade_id"].as_str().unwrap().to_string();
        let deadline = Instant::now() + Duration::from_secs(20);
        let regraded = loop {
            let row = app.state.store.sim_grade(&second).await.unwrap().unwrap();
            if row.state != "pending" {
                break row;
            }
            assert!(Instant::now() < deadline, "the regrade never finished");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert_eq!(regraded.state, "done");
        assert_eq!(regraded.detail["strengths"][0]["name"], "Empathy");
        assert_eq!(
            regraded.detail["feedbacks"][0]["feedback"], "Teacher's note",
            "{}",
            regraded.detail
        );
        assert_eq!(regraded.request["user_instructions"][0], "Be brief");
        let prompt = fake.requests.lock().unwrap().last().unwrap().to_string();
        assert!(prompt.contains("Be brief"), "the grader's instructions reach the model");
        // The grader was asked with a strict schema naming the rubric's ids.
        let requests = fake.requests.lock().unwrap().clone();
        let schema = requests[0]["response_format"]["json_schema"].to_string();
        assert!(schema.contains("crit-empathy") && schema.contains("lvl-p6"), "{schema}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spoken_turns_are_transcribed_into_the_learners_message() {
    for backend in backends() {
        let fake = fake_llm::start(Behaviour::FirstCode, Duration::ZERO).await;
        fake.set_transcript("That sounds hard. Let's plan.");
        let url = fake.base_url.clone();
        let app = TestApp::spawn_with(backend, move |c| {
            c.transcription_base_url = Some(url);
            c.transcription_model = Some("whisper-1".into());
        })
        .await;
        common::import_sim_bundle(&app).await;
        let ana = app.token("stu_ana", Role::Student);
        let (attempt, chat) = start_practice(&app, &ana).await;
        let (s, st) = op(&app, "audio/start", &ana, json!({"chat_id": chat})).await;
        assert_eq!(s, 200, "{st}");
        let pcm: Vec<u8> = (0..2400i16).flat_map(|n| n.to_le_bytes()).collect();
        let part = reqwest::multipart::Part::bytes(pcm).file_name("f.pcm");
        let up: Value = app
            .http
            .post(app.url("/api/v5/uploads"))
            .bearer_auth(&ana)
            .multipart(reqwest::multipart::Form::new().part("file", part))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let (s, r) = op(
            &app,
            "audio/frame",
            &ana,
            json!({"chat_id": chat, "upload_id": up["upload_id"]}),
        )
        .await;
        assert_eq!(s, 200, "{r}");
        let (s, r) = op(&app, "audio/stop", &ana, json!({"chat_id": chat})).await;
        assert_eq!(s, 200, "{r}");
        let msgs = app.state.store.sim_messages(std::slice::from_ref(&chat)).await.unwrap();
        assert_eq!(msgs[0].content, "That sounds hard. Let's plan.", "{msgs:?}");
        assert_eq!(msgs[0].kind, "query");
        // No chat provider: the scripted line answers it.
        assert_eq!(msgs[1].content, "Hi… I could not finish the homework.");
        let session = &app.state.store.sim_audio_sessions(&chat).await.unwrap()[0];
        assert_eq!(session.transcript.as_deref(), Some("That sounds hard. Let's plan."));
        assert_eq!(session.message_id.as_deref(), Some(msgs[0].id.as_str()));
        let sent = fake.requests.lock().unwrap().clone();
        let t = sent.iter().find(|r| r["endpoint"] == "audio/transcriptions").unwrap();
        assert_eq!(t["model"], "whisper-1");
        assert_eq!(t["mime"], "audio/wav");
        let _ = attempt;
    }
}

/// Parses a server-sent events body into (event, data) pairs.
fn sse_events(body: &str) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for block in body.split("\n\n") {
        let mut event = String::new();
        let mut data = String::new();
        for line in block.lines() {
            if let Some(e) = line.strip_prefix("event:") {
                event = e.trim().to_string();
            } else if let Some(d) = line.strip_prefix("data:") {
                data.push_str(d.trim_start());
            }
        }
        if !event.is_empty() {
            out.push((event, serde_json::from_str(&data).unwrap_or(Value::Null)));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_can_read_the_reply_as_it_is_generated() {
    for backend in backends() {
        let fake = fake_llm::start(
            Behaviour::Stream {
                chunks: vec!["Hi", " — I", " missed it."]
                    .into_iter()
                    .map(String::from)
                    .collect(),
                gap: Duration::from_millis(30),
            },
            Duration::ZERO,
        )
        .await;
        let url = fake.base_url.clone();
        let app = TestApp::spawn_with(backend, move |c| c.llm_base_url = Some(url)).await;
        common::import_sim_bundle(&app).await;
        let ana = app.token("stu_ana", Role::Student);
        let (attempt, chat) = start_practice(&app, &ana).await;
        let send = |body: Value| {
            app.http
                .post(app.url("/api/v5/artifacts/attempt/message"))
                .bearer_auth(&ana)
                .header("accept", "text/event-stream")
                .json(&body)
                .send()
        };
        // Refused before anything is stored: a plain 4xx, not a stream.
        let r = send(json!({"attempt_id": attempt, "chat_id": chat, "message": ""}))
            .await
            .unwrap();
        assert_eq!(r.status(), 422);
        common::assert_error_shape(&r.json().await.unwrap(), 422);

        let r = send(json!({"attempt_id": attempt, "chat_id": chat, "message": "Hello"}))
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/event-stream")
        );
        let events = sse_events(&r.text().await.unwrap());
        let names: Vec<&str> = events.iter().map(|(e, _)| e.as_str()).collect();
        assert_eq!(names, ["message", "delta", "delta", "delta", "done"], "{events:?}");
        let text: String = events
            .iter()
            .filter(|(e, _)| e == "delta")
            .map(|(_, d)| d["text"].as_str().unwrap())
            .collect();
        assert_eq!(text, "Hi — I missed it.");
        let done = &events[4].1;
        assert_eq!(done["assistant_content"], "Hi — I missed it.");
        assert_eq!(done["user_message_id"], events[0].1["user_message_id"]);
    }
}
