//! The exercise attempts API end to end: a real server on port 0, a real HTTP client, a fresh
//! database per test — SQLite always, PostgreSQL too when `PRACTICA_TEST_POSTGRES_URL` is set.

mod common;

use common::{Backend, TestApp, assert_error_shape, backends, spec_example};
use practica::storage::{Profile, Role};
use serde_json::{Value, json};

async fn spec_example_flow(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = app.token("stu_abc123", Role::Student);
    let (status, created) = app.post("/attempts", &token, &spec_example("stu_abc123")).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["isCorrect"], false);
    assert_eq!(created["errorTagCode"], "ARITH_SUB_BORROW_OMITTED_TENS_G3");
    assert_eq!(created["classifierSource"], "RULE");
    assert!(created["confidence"].as_f64().unwrap() >= 0.85);
    let id = created["attemptId"].as_str().unwrap().to_string();

    let (status, s) = app.get(&format!("/attempts/{id}/status"), &token).await;
    assert_eq!(status, 200);
    assert_eq!(s["status"], "CLASSIFIED");
    assert_eq!(s["errorTagCode"], "ARITH_SUB_BORROW_OMITTED_TENS_G3");
    assert_eq!(s["errorTagName"], "Borrow omitido — decenas");

    let (status, d) = app.get(&format!("/attempts/{id}/detail"), &token).await;
    assert_eq!(status, 200);
    let steps = d["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 2);
    assert_eq!(steps[0]["expression"], "53 - 26");
    assert_eq!(steps[1]["isFinal"], true);
    assert_eq!(d["firstWrongStep"], 1);
    assert_eq!(d["reports"], json!([]));

    // Mastery moved once for (student, topic, course).
    let m = app
        .state
        .store
        .mastery("stu_abc123", "T-SUB-BORROW", "crs_def456")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m.attempts, 1);
    assert!((m.p_known - mastery::BktParams::default().update(0.3, false)).abs() < 1e-12);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spec_example_is_created_read_and_tracked() {
    for b in backends() {
        spec_example_flow(b).await;
    }
}

async fn auth_flow(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let store = &app.state.store;
    for (id, role) in [
        ("stu_a", Role::Student),
        ("stu_b", Role::Student),
        ("tch_1", Role::Teacher),
        ("tch_2", Role::Teacher),
    ] {
        store
            .upsert_profile(&Profile {
                id: id.into(),
                name: id.into(),
                role,
            })
            .await
            .unwrap();
    }
    store.add_course_member("crs_1", "tch_1", Role::Teacher).await.unwrap();
    store.add_course_member("crs_1", "stu_a", Role::Student).await.unwrap();

    // No credentials, a bad token, a bad key: 401 with the error shape.
    let r = app
        .http
        .post(app.url("/attempts"))
        .json(&spec_example("stu_a"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_error_shape(&r.json().await.unwrap(), 401);
    let (status, body) = app.post("/attempts", "not-a-jwt", &spec_example("stu_a")).await;
    assert_eq!(status, 401);
    assert_error_shape(&body, 401);
    let r = app
        .http
        .get(app.url("/catalog/topics"))
        .header("x-api-key", "pk_nope.nope")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    let a = app.token("stu_a", Role::Student);
    let b = app.token("stu_b", Role::Student);
    // A student acts for themselves only.
    let (status, body) = app.post("/attempts", &a, &spec_example("stu_b")).await;
    assert_eq!(status, 403);
    assert_error_shape(&body, 403);
    let mut own = spec_example("stu_a");
    own["courseId"] = json!("crs_1");
    let (status, created) = app.post("/attempts", &a, &own).await;
    assert_eq!(status, 201);
    let path = format!("/attempts/{}/status", created["attemptId"].as_str().unwrap());
    assert_eq!(app.get(&path, &a).await.0, 200);
    assert_eq!(app.get(&path, &b).await.0, 403);
    // The teacher of the course reads it; another teacher does not.
    assert_eq!(app.get(&path, &app.token("tch_1", Role::Teacher)).await.0, 200);
    assert_eq!(app.get(&path, &app.token("tch_2", Role::Teacher)).await.0, 403);
    // The profile's role wins over the token's claim: stu_b claiming admin is still a student.
    assert_eq!(app.get(&path, &app.token("stu_b", Role::Admin)).await.0, 403);
    // An admin reads everything.
    assert_eq!(app.get(&path, &app.token("adm_1", Role::Admin)).await.0, 200);

    // API keys: stored hashed, usable as X-Api-Key.
    let (key, record) = practica::auth::new_api_key("tutor-bot", Role::Agent, "agent:tutor");
    store.create_api_key(&record).await.unwrap();
    assert!(!record.secret_hash.contains(key.split('.').nth(1).unwrap()));
    let r = app
        .http
        .post(app.url("/attempts"))
        .header("x-api-key", &key)
        .header("x-mcp", "1")
        .json(&spec_example("stu_b"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.unwrap();
    let detail = app
        .get(
            &format!("/attempts/{}/detail", created["attemptId"].as_str().unwrap()),
            &app.token("adm_1", Role::Admin),
        )
        .await
        .1;
    assert_eq!(detail["viaAgent"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callers_act_and_read_within_their_rights() {
    for b in backends() {
        auth_flow(b).await;
    }
}

async fn bad_input_flow(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = app.token("stu_x", Role::Student);
    let send_raw = |body: String| {
        app.http
            .post(app.url("/attempts"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let cases: Vec<(String, u16)> = vec![
        ("{not json".into(), 400),
        ("[]".into(), 422),
        (r#"{"studentId":"stu_x"}"#.into(), 422),
        (
            spec_example("stu_x")
                .to_string()
                .replace("\"studentAnswer\":33", "\"studentAnswer\":true"),
            422,
        ),
        (
            spec_example("stu_x")
                .to_string()
                .replace("\"studentAnswer\":33", "\"studentAnswer\":1e309"),
            400,
        ),
        (
            spec_example("stu_x").to_string().replace(
                "\"studentAnswer\":33",
                "\"studentAnswer\":10000000000000000000000000000000000000000",
            ),
            422,
        ),
        (
            spec_example("stu_x")
                .to_string()
                .replace("\"studentAnswer\":33", "\"studentAnswer\":\"\""),
            422,
        ),
        (
            spec_example("stu_x")
                .to_string()
                .replace("T-SUB-BORROW", "NO-SUCH-TOPIC"),
            422,
        ),
        (spec_example("stu_x").to_string().replace("T-SUB-BORROW", "ADHOC"), 422),
        (
            spec_example("stu_x")
                .to_string()
                .replace("\"rawSteps\":[", "\"rawSteps\":[7,"),
            422,
        ),
    ];
    for (body, want) in cases {
        let r = send_raw(body.clone()).await.unwrap();
        let status = r.status().as_u16();
        let json: Value = r.json().await.unwrap();
        assert_eq!(status, want, "{body} -> {json}");
        assert_error_shape(&json, want);
    }
    // Too large: 413, and nothing written.
    let huge = json!({"studentId": "stu_x", "topicCode": "T-SUB-BORROW", "expectedAnswer": 1, "studentAnswer": 1,
                      "rawSteps": [{"expression": "x".repeat(2 << 20)}]});
    // Its own client: the server closes a connection whose body it refused unread, and a pooled
    // connection closing under the next request would make that request fail.
    let r = reqwest::Client::new()
        .post(app.url("/attempts"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(huge.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert_error_shape(&r.json().await.unwrap(), 413);
    assert!(
        app.state
            .store
            .mastery("stu_x", "T-SUB-BORROW", "crs_def456")
            .await
            .unwrap()
            .is_none()
    );
    // Unknown ids and routes: 404 JSON.
    for path in [
        "/attempts/00000000-0000-0000-0000-000000000000/status",
        "/attempts/not-a-uuid/detail",
        "/nowhere",
    ] {
        let (status, body) = app.get(path, &token).await;
        assert_eq!(status, 404, "{path}");
        assert_error_shape(&body, 404);
    }
    // Another content type: 415.
    let r = app
        .http
        .post(app.url("/attempts"))
        .bearer_auth(&token)
        .header("content-type", "text/plain")
        .body("hi")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_clear_4xx_and_writes_nothing() {
    for b in backends() {
        bad_input_flow(b).await;
    }
}

async fn trace_and_idempotency_flow(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = app.token("stu_i", Role::Student);
    // x-trace-id is echoed and stored; one is generated when missing.
    let r = app
        .http
        .post(app.url("/attempts"))
        .bearer_auth(&token)
        .header("x-trace-id", "trace-123")
        .json(&spec_example("stu_i"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-trace-id"], "trace-123");
    let created: Value = r.json().await.unwrap();
    let detail = app
        .get(
            &format!("/attempts/{}/detail", created["attemptId"].as_str().unwrap()),
            &token,
        )
        .await
        .1;
    assert_eq!(detail["traceId"], "trace-123");
    let r = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert!(!r.headers()["x-trace-id"].is_empty());

    // A retried POST with the same Idempotency-Key returns the first response, creates nothing.
    let post = |key: &'static str, body: Value| {
        app.http
            .post(app.url("/attempts"))
            .bearer_auth(&token)
            .header("idempotency-key", key)
            .json(&body)
            .send()
    };
    let first: Value = post("key-1", spec_example("stu_i"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let r = post("key-1", spec_example("stu_i")).await.unwrap();
    assert_eq!(r.status(), 201);
    let second: Value = r.json().await.unwrap();
    assert_eq!(first, second);
    let m = app
        .state
        .store
        .mastery("stu_i", "T-SUB-BORROW", "crs_def456")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m.attempts, 2, "one attempt without a key, one with");
    // The same key with another body is refused.
    let mut other = spec_example("stu_i");
    other["studentAnswer"] = json!(27);
    let r = post("key-1", other).await.unwrap();
    assert_eq!(r.status(), 409);
    assert_error_shape(&r.json().await.unwrap(), 409);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trace_ids_and_idempotency_keys() {
    for b in backends() {
        trace_and_idempotency_flow(b).await;
    }
}

async fn report_flow(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = app.token("stu_r", Role::Student);
    let created = app.post("/attempts", &token, &spec_example("stu_r")).await.1;
    let id = created["attemptId"].as_str().unwrap();
    let path = format!("/attempts/{id}/report");
    let (status, body) = app.post(&path, &token, &json!({"errorTagCode": "NOPE"})).await;
    assert_eq!(status, 422);
    assert_error_shape(&body, 422);
    let (status, _) = app
        .post(
            &path,
            &token,
            &json!({"errorTagCode": "ARITH_SUB_BORROW_FROM_ZERO_G3", "comment": "x".repeat(501)}),
        )
        .await;
    assert_eq!(status, 422);
    let (status, body) = app
        .post(
            &path,
            &token,
            &json!({"errorTagCode": "ARITH_SUB_BORROW_FROM_ZERO_G3", "comment": "á".repeat(500)}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body, json!({"attemptId": id, "reported": true}));
    let detail = app.get(&format!("/attempts/{id}/detail"), &token).await.1;
    assert_eq!(detail["reports"][0]["errorTagCode"], "ARITH_SUB_BORROW_FROM_ZERO_G3");
    // The classification is untouched.
    assert_eq!(detail["errorTagCode"], "ARITH_SUB_BORROW_OMITTED_TENS_G3");
    // Someone else's attempt: 403.
    let (status, _) = app
        .post(
            &path,
            &app.token("stu_other", Role::Student),
            &json!({"errorTagCode": "CORRECT"}),
        )
        .await;
    assert_eq!(status, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_are_their_own_records() {
    for b in backends() {
        report_flow(b).await;
    }
}

async fn exercise_truth_flow(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.state
        .store
        .upsert_exercise(&practica::storage::ExerciseRecord {
            id: "ex_known".into(),
            topic_code: "T-SUB-BORROW".into(),
            problem: "53 - 26".into(),
            expected_answer: "27".into(),
        })
        .await
        .unwrap();
    let token = app.token("stu_e", Role::Student);
    let mut body = spec_example("stu_e");
    body["exerciseId"] = json!("ex_known");
    body["expectedAnswer"] = json!(33);
    let (status, created) = app.post("/attempts", &token, &body).await;
    assert_eq!(status, 201);
    assert_eq!(
        created["isCorrect"], false,
        "the stored answer decides, not the client's"
    );
    let detail = app
        .get(
            &format!("/attempts/{}/detail", created["attemptId"].as_str().unwrap()),
            &token,
        )
        .await
        .1;
    assert_eq!(detail["expectedAnswer"], "27");
    assert_eq!(detail["clientExpectedAnswer"], "33");
    // An unknown exercise is accepted and recorded.
    body["exerciseId"] = json!("ex_elsewhere");
    body["expectedAnswer"] = json!(27);
    assert_eq!(app.post("/attempts", &token, &body).await.0, 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_known_exercise_answer_is_the_truth() {
    for b in backends() {
        exercise_truth_flow(b).await;
    }
}

async fn concurrent_flow(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = app.token("stu_c", Role::Student);
    let mut handles = Vec::new();
    for _ in 0..50 {
        let (http, url, token, body) = (
            app.http.clone(),
            app.url("/attempts"),
            token.clone(),
            spec_example("stu_c"),
        );
        handles.push(tokio::spawn(async move {
            http.post(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    for h in handles {
        assert_eq!(h.await.unwrap(), 201);
    }
    let m = app
        .state
        .store
        .mastery("stu_c", "T-SUB-BORROW", "crs_def456")
        .await
        .unwrap()
        .unwrap();
    let params = mastery::BktParams::default();
    let sequential = (0..50).fold(params.p_init, |p, _| params.update(p, false));
    assert_eq!(m.attempts, 50);
    assert!((m.p_known - sequential).abs() < 1e-12, "{} vs {sequential}", m.p_known);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_attempts_update_mastery_as_if_sequential() {
    for b in backends() {
        concurrent_flow(b).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_reach_in_process_subscribers_without_free_text() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let mut events = app.state.events.subscribe();
    let token = app.token("stu_ev", Role::Student);
    let created = app.post("/attempts", &token, &spec_example("stu_ev")).await.1;
    let event = tokio::time::timeout(std::time::Duration::from_secs(5), events.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(event.event_type, "attempt.created");
    assert_eq!(event.ordering_key, "stu_ev");
    assert_eq!(event.payload["attempt"]["attemptId"], created["attemptId"]);
    assert_eq!(
        event.payload["attempt"]["errorTagCode"],
        "ARITH_SUB_BORROW_OMITTED_TENS_G3"
    );
    let text = event.payload.to_string();
    assert!(
        !text.contains("53 - 26"),
        "the student's steps are not in events: {text}"
    );
    assert!(event.payload["traceId"].as_str().is_some_and(|t| !t.is_empty()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_endpoints() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let token = app.token("stu_o", Role::Student);
    assert_eq!(app.http.get(app.url("/healthz")).send().await.unwrap().status(), 200);
    let ready: Value = app
        .http
        .get(app.url("/readyz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["status"], "ready");
    assert_eq!(
        (&ready["events"], &ready["eventsConnected"]),
        (&json!("embedded"), &json!(true))
    );
    assert!(
        ready["outbox"]["unpublished"].is_u64() && ready["outbox"]["oldestSeconds"].is_number(),
        "{ready}"
    );
    app.post("/attempts", &token, &spec_example("stu_o")).await;
    let metrics = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("practica_http_request_duration_seconds"), "{metrics}");
    assert!(metrics.contains("practica_attempts_total"));
    assert!(metrics.contains("practica_outbox_unpublished"));
    let doc: Value = app
        .http
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/attempts",
        "/attempts/{id}/status",
        "/attempts/{id}/detail",
        "/attempts/{id}/report",
        "/catalog/topics",
        "/catalog/error-tags",
    ] {
        assert!(
            doc["paths"].get(path).is_some(),
            "{path} missing from the OpenAPI document"
        );
    }
    assert_eq!(app.http.get(app.url("/docs")).send().await.unwrap().status(), 200);
    let (status, topics) = app.get("/catalog/topics", &token).await;
    assert_eq!(status, 200);
    assert!(
        topics
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["code"] == "T-SUB-BORROW" && t["family"] == "ARITH_SUB")
    );
    let (status, tags) = app.get("/catalog/error-tags", &token).await;
    assert_eq!(status, 200);
    let tag = tags
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["code"] == "ARITH_SUB_BORROW_OMITTED_TENS_G3")
        .unwrap();
    for field in ["nameEs", "nameEn", "family", "severity", "description", "remediation"] {
        assert!(tag[field].as_str().is_some_and(|s| !s.is_empty()), "{field}");
    }
    // Method not allowed is JSON too.
    let r = app
        .http
        .delete(app.url("/attempts"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    assert_error_shape(&r.json().await.unwrap(), 405);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ocr_extract_validates_its_request() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let token = app.token("stu_s", Role::Student);
    let ocr = |part: reqwest::multipart::Part, name: &'static str| {
        let form = reqwest::multipart::Form::new().part(name, part);
        app.http
            .post(app.url("/attempts/ocr-extract"))
            .bearer_auth(&token)
            .multipart(form)
            .send()
    };
    // PNG by its magic bytes, but nothing a decoder can read.
    let png = [b"\x89PNG\r\n\x1a\n".as_slice(), &[0u8; 64]].concat();
    let r = ocr(reqwest::multipart::Part::bytes(png), "image").await.unwrap();
    assert_eq!(r.status(), 422);
    let r = ocr(reqwest::multipart::Part::bytes(b"plain text".to_vec()), "image")
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    let r = ocr(reqwest::multipart::Part::bytes(b"x".to_vec()), "photo")
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let r = ocr(reqwest::multipart::Part::bytes(vec![0xFF; 11 << 20]), "image")
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert_error_shape(&r.json().await.unwrap(), 413);
}

const BUNDLE: &str = include_str!("data/bundle-example.yaml");

async fn import_flow(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.token("adm", Role::Admin);
    let import = |token: String, body: String| {
        app.http
            .post(app.url("/admin/import"))
            .bearer_auth(token)
            .header("content-type", "application/yaml")
            .body(body)
            .send()
    };
    // Only admins.
    assert_eq!(
        import(app.token("stu_abc123", Role::Student), BUNDLE.into())
            .await
            .unwrap()
            .status(),
        403
    );
    // A dangling reference refuses the whole bundle, naming the path; nothing is applied.
    let bad = format!("{BUNDLE}\n").replace("teacher_ids: [tch_1]", "teacher_ids: [tch_9]");
    let r = import(admin.clone(), bad).await.unwrap();
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("courses[0].teacher_ids[0]"),
        "{body}"
    );
    assert!(app.state.store.profile("stu_abc123").await.unwrap().is_none());
    let r = import(admin.clone(), "profiles: [{id: x, role: student, colour: red}]".into())
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    // Each kind of bad simulation content: 422 naming the path, nothing of the bundle applied.
    for (from, to, path) in [
        (
            "hints_enabled: true",
            "hints_enabled: true\n    mood: sad",
            "simulations[0]",
        ),
        (
            "    rubric_id: rub-oh\n    hints",
            "    rubric_id: r9\n    hints",
            "simulations[0].rubric_id: no rubric \"r9\"",
        ),
        (
            "        rubric_id: rub-oh",
            "        rubric_id: r9",
            "simulations[0].scenarios[0].rubric_id",
        ),
        (
            "persona_ids: [per-student]",
            "persona_ids: [per-9]",
            "simulations[0].scenarios[0].persona_ids[0]",
        ),
        (
            "{id: prac-1, simulation_id: sim-oh}",
            "{id: prac-1, simulation_id: sim-9}",
            "practices[0].simulation_id",
        ),
        (
            "cohort_id: coh-2026a, department_id",
            "cohort_id: coh-9, department_id",
            "homes[0].cohort_id",
        ),
        (
            "\"(?i)that sounds\"",
            "\"(?i)that (sounds\"",
            "rubrics[0].criteria[0].levels[1].evidence[0]",
        ),
        (
            "{id: o2, option_text: Refuse}",
            "{id: o1, option_text: Refuse}",
            "simulations[0].scenarios[0].questions[0].options[1].id",
        ),
        ("pass_points: 2", "pass_points: 5", "rubrics[0].criteria[0].pass_points"),
    ] {
        assert!(BUNDLE.contains(from), "{from}");
        let r = import(admin.clone(), BUNDLE.replacen(from, to, 1)).await.unwrap();
        assert_eq!(r.status(), 422, "{to}");
        let body: Value = r.json().await.unwrap();
        assert!(body["message"].as_str().unwrap().contains(path), "{path}: {body}");
        assert!(app.state.store.profile("stu_abc123").await.unwrap().is_none());
        assert!(app.state.store.simulation("sim-oh").await.unwrap().is_none());
    }
    // The documented example imports, twice (upsert by id).
    for _ in 0..2 {
        let r = import(admin.clone(), BUNDLE.into()).await.unwrap();
        assert_eq!(r.status(), 201);
        let summary: Value = r.json().await.unwrap();
        assert_eq!(summary["courses"], json!(["crs_def456"]));
        assert_eq!(summary["simulations"], json!(["sim-oh"]));
        assert_eq!(summary["homes"], json!(["home-1"]));
    }
    let sim = app.state.store.simulation("sim-oh").await.unwrap().unwrap();
    assert_eq!(sim.scenarios[0].questions[0].options.len(), 2);
    // Its content is in force: the topic's BKT parameters, the exercise's answer, the course's
    // teacher, the extra error tag.
    let student = app.token("stu_abc123", Role::Student);
    let mut body = spec_example("stu_abc123");
    body["expectedAnswer"] = json!(33);
    let created = app.post("/attempts", &student, &body).await.1;
    assert_eq!(created["isCorrect"], false);
    let m = app
        .state
        .store
        .mastery("stu_abc123", "T-SUB-BORROW", "crs_def456")
        .await
        .unwrap()
        .unwrap();
    let params = mastery::BktParams {
        p_init: 0.35,
        ..mastery::BktParams::default()
    };
    assert!((m.p_known - params.update(0.35, false)).abs() < 1e-12);
    let id = created["attemptId"].as_str().unwrap();
    assert_eq!(
        app.get(&format!("/attempts/{id}/detail"), &app.token("tch_1", Role::Teacher))
            .await
            .0,
        200
    );
    let (status, _) = app
        .post(
            &format!("/attempts/{id}/report"),
            &app.token("tch_1", Role::Teacher),
            &json!({"errorTagCode": "SUB_BORROW_NO_REGROUP"}),
        )
        .await;
    assert_eq!(status, 201);
    let tags = app.get("/catalog/error-tags", &student).await.1;
    assert!(
        tags.as_array()
            .unwrap()
            .iter()
            .any(|t| t["code"] == "SUB_BORROW_NO_REGROUP" && t["nameEs"] == "Resta sin reagrupar")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_bundles_import_all_or_nothing() {
    for b in backends() {
        import_flow(b).await;
    }
}

async fn concurrent_retries_flow(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = app.token("stu_k", Role::Student);
    let mut handles = Vec::new();
    for _ in 0..12 {
        let (http, url, token) = (app.http.clone(), app.url("/attempts"), token.clone());
        handles.push(tokio::spawn(async move {
            let r = http
                .post(url)
                .bearer_auth(token)
                .header("idempotency-key", "same-key")
                .json(&spec_example("stu_k"))
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }));
    }
    let mut bodies = Vec::new();
    for h in handles {
        let (status, body) = h.await.unwrap();
        assert_eq!(status, 201, "{body}");
        bodies.push(body);
    }
    assert!(
        bodies.windows(2).all(|w| w[0] == w[1]),
        "every retry gets the first response"
    );
    let m = app
        .state
        .store
        .mastery("stu_k", "T-SUB-BORROW", "crs_def456")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m.attempts, 1, "concurrent retries of one key create one attempt");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_retries_with_one_key_create_one_attempt() {
    for b in backends() {
        concurrent_retries_flow(b).await;
    }
}
