//! Ad-hoc problems end to end: `POST /attempts/solve-adhoc` stores a PENDING attempt, the
//! in-process `solve-adhoc` worker solves it with the CAS and writes the verdict, the tag, the
//! solution steps and the mastery update back; SQLite always, PostgreSQL too when configured.

mod common;

use std::time::{Duration, Instant};

use common::{Backend, TestApp, assert_error_shape, await_classified, backends};
use practica::storage::Role;
use serde_json::{Value, json};

fn problem(student: &str, latex: &str, answer: &str, steps: &[&str]) -> Value {
    json!({
        "studentId": student,
        "problemLatex": latex,
        "studentFinalAnswer": answer,
        "studentSteps": steps,
        "courseId": "crs_alg",
    })
}

/// Posts a problem and waits for its verdict: (status body, detail body, turnaround).
async fn solve(app: &TestApp, token: &str, body: &Value) -> (Value, Value, Duration) {
    let start = Instant::now();
    let (status, created) = app.post("/attempts/solve-adhoc", token, body).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["status"], "PENDING");
    let id = created["attemptId"].as_str().expect("attemptId").to_string();
    let verdict = await_classified(app, &id, token, Duration::from_secs(10)).await;
    let took = start.elapsed();
    let (status, detail) = app.get(&format!("/attempts/{id}/detail"), token).await;
    assert_eq!(status, 200, "{detail}");
    (verdict, detail, took)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_correct_answer_is_solved_with_steps_and_counts_for_mastery() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let token = app.token("stu_a", Role::Student);
        let (verdict, detail, took) = solve(&app, &token, &problem("stu_a", "2x+3=11", "x = \\frac{8}{2}", &[])).await;
        assert_eq!(verdict["isCorrect"], true, "{verdict}");
        assert_eq!(verdict["errorTagCode"], "CORRECT");
        assert_eq!(verdict["classifierSource"], "RULE");
        assert_eq!(verdict["confidence"], 1.0);
        assert!(verdict["classifier"].as_str().unwrap().starts_with("practica-cas/"));
        // In-process workers are woken by the request: well under the spec's 5 s.
        assert!(took < Duration::from_secs(3), "took {took:?}");

        assert_eq!(detail["origin"], "ADHOC");
        assert_eq!(detail["problem"], "2x+3=11");
        assert_eq!(detail["gradeLevel"], 7);
        assert_eq!(detail["topicCode"], "ALGEBRA_EQ_LINEAR");
        assert_eq!(detail["expectedAnswer"], "x = 4");
        assert_eq!(detail["solution"]["answer"], "x = 4");
        let steps = detail["solution"]["steps"].as_array().expect("solution steps");
        assert!(!steps.is_empty(), "{detail}");

        let (status, mastery) = app.get("/mastery/students/stu_a", &token).await;
        assert_eq!(status, 200, "{mastery}");
        let topic = &mastery["topics"][0];
        assert_eq!(topic["topicCode"], "ALGEBRA_EQ_LINEAR", "{mastery}");
        assert_eq!(topic["courseId"], "crs_alg");
        assert_eq!(topic["attempts"], 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_step_is_pointed_at_and_named() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let token = app.token("stu_b", Role::Student);
        // 2x + 3 = 11 -> 2x = 14: the 3 crossed the = without changing sign.
        let body = problem("stu_b", "2x + 3 = 11", "x = 7", &["2x = 11 + 3", "2x = 14", "x = 7"]);
        let (verdict, detail, _) = solve(&app, &token, &body).await;
        assert_eq!(verdict["isCorrect"], false, "{verdict}");
        assert_eq!(
            verdict["errorTagCode"], "ALGEBRA_EQ_LINEAR_SIGN_FLIP_TRANSPOSE_G8",
            "{detail}"
        );
        assert!(verdict["errorTagName"].as_str().is_some_and(|n| !n.is_empty()));
        assert!(verdict["confidence"].as_f64().unwrap() >= 0.5);
        assert_eq!(detail["errorSubtag"], "TRANSPOSE-WITHOUT-SIGN-CHANGE");
        assert_eq!(detail["firstWrongStep"], 0, "{detail}");
        assert_eq!(detail["steps"].as_array().unwrap().len(), 3);
        assert_eq!(detail["expectedAnswer"], "x = 4");

        // A wrong answer lowers mastery below the prior.
        let (_, mastery) = app.get("/mastery/students/stu_b", &token).await;
        let p_init = app.state.catalog.topic("ALGEBRA_EQ_LINEAR").unwrap().bkt.p_init;
        assert!(mastery["topics"][0]["pKnown"].as_f64().unwrap() < p_init, "{mastery}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scanned_subtraction_is_diagnosed_as_the_exercise_would_be() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let token = app.token("stu_g", Role::Student);
        let body = problem("stu_g", "53 - 26", "33", &["53 - 26 = 33"]);
        let (verdict, detail, _) = solve(&app, &token, &body).await;
        assert_eq!(verdict["errorTagCode"], "ARITH_SUB_BORROW_OMITTED_TENS_G3", "{detail}");
        assert_eq!(detail["errorSubtag"], "SMALLER-FROM-LARGER");
        assert_eq!(detail["topicCode"], "ARITH_SUB");
        let (_, mastery) = app.get("/mastery/students/stu_g", &token).await;
        assert_eq!(mastery["topics"][0]["topicCode"], "ARITH_SUB", "{mastery}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_problem_that_cannot_be_read_ends_unclassified_with_the_reason() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let token = app.token("stu_c", Role::Student);
        let body = problem("stu_c", "2x + = 11", "x=4", &["2x = 8"]);
        let (verdict, detail, _) = solve(&app, &token, &body).await;
        assert_eq!(verdict["errorTagCode"], "UNCLASSIFIED", "{verdict}");
        assert_eq!(verdict["isCorrect"], false);
        assert_eq!(verdict["confidence"], 0.0);
        let reason = detail["classification"]["reason"].as_str().unwrap_or_default();
        assert!(reason.contains("could not be solved"), "{detail}");
        assert!(reason.contains(" at "), "the position is named: {reason}");
        assert_eq!(detail["topicCode"], "ADHOC");
        assert!(detail["solution"].is_null());
        // Nothing is learned about a skill from a problem nobody could read.
        let (_, mastery) = app.get("/mastery/students/stu_c", &token).await;
        assert_eq!(mastery["topics"].as_array().map(Vec::len), Some(0), "{mastery}");

        // A problem the solver does not cover (degree 4) ends the same way.
        let (verdict, detail, _) = solve(&app, &token, &problem("stu_c", "x^4 + x = 1", "x=2", &[])).await;
        assert_eq!(verdict["errorTagCode"], "UNCLASSIFIED", "{detail}");
        assert!(detail["classification"]["reason"].as_str().is_some());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_are_validated_field_by_field() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let token = app.token("stu_s", Role::Student);
    let valid = json!({"studentId": "stu_s", "problemLatex": "2x+3=11", "studentFinalAnswer": "x=4", "gradeLevel": 8});
    let long = "x".repeat(1_001);
    for (mutate, want) in [
        (json!({"problemLatex": null}), 422),
        (json!({"problemLatex": "  "}), 422),
        (json!({"problemLatex": long}), 422),
        (json!({"studentFinalAnswer": 4}), 422),
        (json!({"studentId": null}), 422),
        (json!({"gradeLevel": 0}), 422),
        (json!({"gradeLevel": 13}), 422),
        (json!({"gradeLevel": "7"}), 422),
        (json!({"gradeLevel": 7.5}), 422),
        (json!({"studentSteps": [1]}), 422),
        (json!({"studentSteps": "2x = 8"}), 422),
        (json!({"studentSteps": vec!["x"; 101]}), 422),
        (json!({"courseId": 5}), 422),
        (json!({"studentId": "stu_other"}), 403),
    ] {
        let mut body = valid.clone();
        for (k, v) in mutate.as_object().unwrap() {
            body[k] = v.clone();
        }
        let (status, json) = app.post("/attempts/solve-adhoc", &token, &body).await;
        assert_eq!(status, want, "{body} -> {json}");
        assert_error_shape(&json, want);
    }
    // Not JSON, not an object, no credentials.
    let r = app
        .http
        .post(app.url("/attempts/solve-adhoc"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_error_shape(&r.json().await.unwrap(), 400);
    let (status, _) = app.post("/attempts/solve-adhoc", &token, &json!([1, 2])).await;
    assert_eq!(status, 422);
    let r = app
        .http
        .post(app.url("/attempts/solve-adhoc"))
        .json(&valid)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // Nothing half-written: only the valid requests below create attempts.
    let (status, created) = app.post("/attempts/solve-adhoc", &token, &valid).await;
    assert_eq!(status, 201, "{created}");
    let (_, detail) = app
        .get(
            &format!("/attempts/{}/detail", created["attemptId"].as_str().unwrap()),
            &token,
        )
        .await;
    assert_eq!(detail["gradeLevel"], 8);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_with_the_same_key_returns_the_first_attempt() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let teacher = app.token("tch_1", Role::Teacher);
        app.enroll("crs_alg", &[("tch_1", Role::Teacher), ("stu_d", Role::Student)])
            .await;
        let body = problem("stu_d", "x^2 - 5x + 6 = 0", "x = 3, x = 2", &[]);
        let post = |body: Value| {
            app.http
                .post(app.url("/attempts/solve-adhoc"))
                .bearer_auth(&teacher)
                .header("idempotency-key", "scan-42")
                .json(&body)
                .send()
        };
        let first: Value = post(body.clone()).await.unwrap().json().await.unwrap();
        let again = post(body.clone()).await.unwrap();
        assert_eq!(again.status(), 201);
        let again: Value = again.json().await.unwrap();
        assert_eq!(first["attemptId"], again["attemptId"]);
        let mut other = body.clone();
        other["studentFinalAnswer"] = json!("x = 1");
        assert_eq!(post(other).await.unwrap().status(), 409);

        let id = first["attemptId"].as_str().unwrap();
        let verdict = await_classified(&app, id, &teacher, Duration::from_secs(10)).await;
        assert_eq!(verdict["isCorrect"], true, "{verdict}");
        let (_, detail) = app.get(&format!("/attempts/{id}/detail"), &teacher).await;
        assert_eq!(detail["topicCode"], "ALGEBRA_EQ_QUADRATIC", "{detail}");
        // Another student may not read it.
        let other = app.token("stu_e", Role::Student);
        assert_eq!(app.get(&format!("/attempts/{id}/status"), &other).await.0, 403);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_answer_no_misconception_explains_goes_to_the_llm() {
    use common::fake_llm::{self, Behaviour};
    for backend in backends() {
        let fake = fake_llm::start(Behaviour::FirstCode, Duration::ZERO).await;
        let url = fake.base_url.clone();
        let app = TestApp::spawn_with(backend, move |c| c.llm_base_url = Some(url)).await;
        let token = app.token("stu_f", Role::Student);

        // Explained by the CAS: the model is not asked.
        let (verdict, _, _) = solve(&app, &token, &problem("stu_f", "2x + 3 = 11", "x = 7", &[])).await;
        assert_eq!(verdict["classifierSource"], "RULE", "{verdict}");
        assert_eq!(fake.request_count(), 0);

        // No procedure gives 123: the model chooses among the topic's tags.
        let (verdict, detail, _) = solve(&app, &token, &problem("stu_f", "2x + 3 = 11", "x = 123", &[])).await;
        assert_eq!(verdict["classifierSource"], "LLM", "{verdict}");
        assert_eq!(verdict["classifier"], "llm:fake-llm-1");
        let tag = verdict["errorTagCode"].as_str().unwrap();
        assert!(tag.starts_with("ALGEBRA_EQ_LINEAR_"), "a tag of the topic: {tag}");
        assert_eq!(detail["classification"]["strategy"], "cas+llm", "{detail}");
        assert_eq!(detail["classification"]["promptVersion"], "classify-v1");
        assert_eq!(detail["expectedAnswer"], "x = 4", "the solver's answer stays");
        assert_eq!(fake.request_count(), 1);
        let request = fake.requests.lock().unwrap()[0].to_string();
        assert!(request.contains("2x + 3 = 11"), "the problem is in the prompt");
        assert!(
            !request.contains("stu_f") && !request.contains("crs_alg"),
            "no ids in the prompt"
        );

        // Unreadable problems are not sent.
        let (verdict, _, _) = solve(&app, &token, &problem("stu_f", "2x + = 11", "x = 4", &[])).await;
        assert_eq!(verdict["errorTagCode"], "UNCLASSIFIED");
        assert_eq!(fake.request_count(), 1);
    }
}
