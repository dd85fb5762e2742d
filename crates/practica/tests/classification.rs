//! The asynchronous classifier end to end: an UNCLASSIFIED attempt is PENDING, a worker runs the
//! chain (learned rules, the engine's deeper search, the LLM) and the status ends CLASSIFIED
//! with an `attempt.classified` event; without an LLM, with a local OpenAI-compatible fake, with
//! a provider that keeps failing, past the deadline; and the teachers' feedback loop.

mod common;

use std::time::Duration;

use common::fake_llm::{self, Behaviour};
use common::{TestApp, await_classified, backends, unexplained};
use practica::storage::Role;
use serde_json::{Value, json};

#[tokio::test]
async fn without_an_llm_the_attempt_ends_classified_with_the_reason() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let admin = app.token("adm", Role::Admin);
        let mut events = app.state.events.subscribe();
        let (status, created) = app.post("/attempts", &admin, &unexplained("stu_a")).await;
        assert_eq!(status, 201, "{created}");
        assert_eq!(created["errorTagCode"], "UNCLASSIFIED", "{created}");
        assert_eq!(created["classifierSource"], "LLM");
        assert_eq!(created["status"], "PENDING");
        let id = created["attemptId"].as_str().unwrap().to_string();

        let status = await_classified(&app, &id, &admin, Duration::from_secs(10)).await;
        assert_eq!(status["errorTagCode"], "UNCLASSIFIED", "{status}");
        assert_eq!(status["confidence"], 0.0);
        let (_, detail) = app.get(&format!("/attempts/{id}/detail"), &admin).await;
        let reason = detail["classification"]["reason"].as_str().unwrap_or_default();
        assert!(reason.contains("no LLM is configured"), "{detail}");
        assert!(detail["classifiedAt"].is_string());

        // Both events, created then classified, in order.
        let mut types = Vec::new();
        while types.len() < 2 {
            let e = tokio::time::timeout(Duration::from_secs(5), events.recv())
                .await
                .expect("events")
                .unwrap();
            if e.payload["attempt"]["attemptId"] == id.as_str() {
                types.push(e.event_type.clone());
                if e.event_type == "attempt.classified" {
                    assert_eq!(e.payload["attempt"]["errorTagCode"], "UNCLASSIFIED");
                    assert_eq!(e.payload["attempt"]["status"], "CLASSIFIED");
                }
            }
        }
        assert_eq!(types, ["attempt.created", "attempt.classified"], "{backend:?}");

        // The job is done and ran once.
        let job = app
            .state
            .store
            .job_by_key(&format!("classify:{id}"))
            .await
            .unwrap()
            .expect("a job");
        assert_eq!(job.status, practica::storage::JobStatus::Done);
        assert_eq!(job.attempts, 1);

        // The classification does not apply the mastery update again.
        let m = app
            .state
            .store
            .mastery("stu_a", "T-SUB-BORROW", "crs_1")
            .await
            .unwrap()
            .unwrap();
        assert_eq!((m.attempts, m.version), (1, 1), "{backend:?}");
    }
}

#[tokio::test]
async fn the_llm_classifies_with_a_catalog_tag_and_never_sees_who_the_student_is() {
    for backend in backends() {
        let fake = fake_llm::start(Behaviour::FirstCode, Duration::ZERO).await;
        let url = fake.base_url.clone();
        let app = TestApp::spawn_with(backend, move |c| c.llm_base_url = Some(url)).await;
        let admin = app.token("adm", Role::Admin);
        let (_, created) = app.post("/attempts", &admin, &unexplained("stu_secret_42")).await;
        assert_eq!(created["status"], "PENDING", "{created}");
        let id = created["attemptId"].as_str().unwrap().to_string();
        let status = await_classified(&app, &id, &admin, Duration::from_secs(10)).await;
        assert_eq!(status["classifierSource"], "LLM", "{status}");
        assert_eq!(status["classifier"], "llm:fake-llm-1");
        let tag = status["errorTagCode"].as_str().unwrap();
        assert!(
            tag.starts_with("ARITH_"),
            "a tag of the family or a transversal one: {tag}"
        );
        assert!(app.state.catalog.has_error_tag(tag));
        assert_eq!(status["confidence"], 0.7);
        let (_, detail) = app.get(&format!("/attempts/{id}/detail"), &admin).await;
        assert_eq!(detail["classification"]["promptVersion"], "classify-v1", "{detail}");
        assert_eq!(detail["classification"]["model"], "fake-llm-1");
        assert_eq!(detail["classification"]["rationale"], "The fake picked the first tag.");

        assert_eq!(fake.request_count(), 1);
        let today = time::OffsetDateTime::now_utc().date();
        assert_eq!(
            app.state.store.ai_usage(today).await.unwrap(),
            220,
            "the provider's token count"
        );
        let request = fake.requests.lock().unwrap()[0].to_string();
        assert!(!request.contains("stu_secret_42"), "no student id in the prompt");
        assert!(!request.contains("crs_1"), "no course id in the prompt");
        assert!(
            request.contains("91") && request.contains("53"),
            "the problem is in the prompt"
        );
    }
}

#[tokio::test]
async fn a_provider_that_keeps_failing_ends_in_unclassified_with_the_last_error() {
    for backend in backends() {
        let fake = fake_llm::start(Behaviour::Status(503), Duration::ZERO).await;
        let url = fake.base_url.clone();
        let app = TestApp::spawn_with(backend, move |c| {
            c.llm_base_url = Some(url);
            c.llm_max_retries = 0;
            c.job_max_attempts = 3;
            c.job_backoff_ms = 50;
            c.job_poll_ms = 20;
        })
        .await;
        let admin = app.token("adm", Role::Admin);
        let (_, created) = app.post("/attempts", &admin, &unexplained("stu_a")).await;
        let id = created["attemptId"].as_str().unwrap().to_string();
        let status = await_classified(&app, &id, &admin, Duration::from_secs(15)).await;
        assert_eq!(status["errorTagCode"], "UNCLASSIFIED");
        let (_, detail) = app.get(&format!("/attempts/{id}/detail"), &admin).await;
        let reason = detail["classification"]["reason"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(reason.contains("failed 3 times") && reason.contains("503"), "{reason}");
        let job = app
            .state
            .store
            .job_by_key(&format!("classify:{id}"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(job.status, practica::storage::JobStatus::Dead);
        assert_eq!(job.attempts, 3);
        assert!(job.last_error.unwrap_or_default().contains("503"));
        assert_eq!(fake.request_count(), 3, "one call per attempt, none after the job died");
    }
}

#[tokio::test]
async fn a_spent_budget_makes_no_call_and_the_attempt_still_ends_classified() {
    for backend in backends() {
        let fake = fake_llm::start(Behaviour::FirstCode, Duration::ZERO).await;
        let url = fake.base_url.clone();
        let app = TestApp::spawn_with(backend, move |c| {
            c.llm_base_url = Some(url);
            // Less than one call's estimate: nothing may be sent.
            c.llm_daily_token_budget = Some(100);
            c.job_max_attempts = 2;
            c.job_backoff_ms = 50;
            c.job_poll_ms = 20;
        })
        .await;
        let admin = app.token("adm", Role::Admin);
        let (_, created) = app.post("/attempts", &admin, &unexplained("stu_a")).await;
        let id = created["attemptId"].as_str().unwrap().to_string();
        let status = await_classified(&app, &id, &admin, Duration::from_secs(15)).await;
        assert_eq!(status["errorTagCode"], "UNCLASSIFIED");
        let (_, detail) = app.get(&format!("/attempts/{id}/detail"), &admin).await;
        let reason = detail["classification"]["reason"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(reason.contains("budget"), "{reason}");
        assert_eq!(fake.request_count(), 0, "no request once the budget is spent");
    }
}

#[tokio::test]
async fn no_attempt_stays_pending_past_the_deadline() {
    for backend in backends() {
        // No worker runs jobs here (another process would); the sweeper still keeps the bound.
        let app = TestApp::spawn_with(backend, |c| {
            c.workers = 0;
            c.classification_deadline_secs = 1;
            c.job_sweep_secs = 1;
        })
        .await;
        let admin = app.token("adm", Role::Admin);
        let (_, created) = app.post("/attempts", &admin, &unexplained("stu_a")).await;
        let id = created["attemptId"].as_str().unwrap().to_string();
        let (_, early) = app.get(&format!("/attempts/{id}/status"), &admin).await;
        assert_eq!(early["status"], "PENDING");
        assert_eq!(early["errorTagCode"], Value::Null, "null while PENDING");
        await_classified(&app, &id, &admin, Duration::from_secs(10)).await;
        let (_, detail) = app.get(&format!("/attempts/{id}/detail"), &admin).await;
        let reason = detail["classification"]["reason"].as_str().unwrap_or_default();
        assert!(reason.contains("no classification within 1 s"), "{detail}");
    }
}

#[tokio::test]
async fn teachers_reports_that_agree_teach_the_classifier() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        app.enroll(
            "crs_1",
            &[
                ("stu_a", Role::Student),
                ("stu_b", Role::Student),
                ("stu_c", Role::Student),
                ("stu_d", Role::Student),
                ("tch_1", Role::Teacher),
                ("tch_2", Role::Teacher),
            ],
        )
        .await;
        let admin = app.token("adm", Role::Admin);
        let tch_1 = app.token("tch_1", Role::Teacher);
        let tch_2 = app.token("tch_2", Role::Teacher);
        let stu_c = app.token("stu_c", Role::Student);
        let taught = "ARITH_SUB_MINUEND_SUBTRAHEND_SWAPPED_G3";
        let mut ids = Vec::new();
        for s in ["stu_a", "stu_b", "stu_c"] {
            let (_, created) = app.post("/attempts", &admin, &unexplained(s)).await;
            ids.push(created["attemptId"].as_str().unwrap().to_string());
        }
        for id in &ids {
            await_classified(&app, id, &admin, Duration::from_secs(10)).await;
        }
        let report = |tag: &str| json!({"errorTagCode": tag, "comment": "reads the digits crosswise"});
        // A student's report is kept but does not teach.
        let (status, _) = app
            .post(&format!("/attempts/{}/report", ids[2]), &stu_c, &report(taught))
            .await;
        assert_eq!(status, 201);
        // Two reports from one teacher are not enough.
        for id in &ids[..2] {
            let (status, body) = app
                .post(&format!("/attempts/{id}/report"), &tch_1, &report(taught))
                .await;
            assert_eq!(status, 201, "{body}");
        }
        let (_, still) = app.post("/attempts", &admin, &unexplained("stu_d")).await;
        assert_eq!(still["errorTagCode"], "UNCLASSIFIED", "{still}");
        // A third report, from a second teacher: 3 reports, 2 teachers, all agreeing.
        let (status, _) = app
            .post(&format!("/attempts/{}/report", ids[2]), &tch_2, &report(taught))
            .await;
        assert_eq!(status, 201);

        let (status, learned) = app.post("/attempts", &admin, &unexplained("stu_d")).await;
        assert_eq!(status, 201);
        assert_eq!(learned["errorTagCode"], taught, "{learned}");
        assert_eq!(learned["classifierSource"], "RULE");
        assert_eq!(learned["classifier"], "learned-from-reports");
        assert_eq!(learned["status"], "CLASSIFIED");
        let c = learned["confidence"].as_f64().unwrap();
        assert!(c > 0.5 && c < 1.0, "{c}");

        // The review queue: the reports disagree with the attempts' UNCLASSIFIED; admins only.
        let (status, _) = app.get("/admin/report-disagreements", &tch_1).await;
        assert_eq!(status, 403);
        let (status, page) = app.get("/admin/report-disagreements?limit=2", &admin).await;
        assert_eq!(status, 200, "{page}");
        assert_eq!(page["items"].as_array().unwrap().len(), 2);
        assert_eq!(page["items"][0]["reportedTag"], taught);
        assert_eq!(page["items"][0]["classifiedTag"], "UNCLASSIFIED");
        let next = page["nextBefore"].as_str().unwrap();
        let (_, rest) = app
            .get(&format!("/admin/report-disagreements?before={next}"), &admin)
            .await;
        assert_eq!(rest["items"].as_array().unwrap().len(), 2, "{rest}");
        assert_eq!(rest["nextBefore"], Value::Null);
        let (status, bad) = app.get("/admin/report-disagreements?limit=0", &admin).await;
        assert_eq!(status, 422, "{bad}");
        let (_, rules) = app.get("/admin/learned-rules", &admin).await;
        assert_eq!(rules.as_array().unwrap().len(), 1, "{rules}");
        assert_eq!(rules[0]["errorTagCode"], taught);
        assert_eq!(rules[0]["reporters"], 2);

        // Teachers then disagree: the rule is withdrawn.
        for (id, token) in [(&ids[0], &tch_2), (&ids[1], &tch_2)] {
            app.post(
                &format!("/attempts/{id}/report"),
                token,
                &report("ARITH_TRANSV_FACT_ERROR"),
            )
            .await;
        }
        let (_, after) = app.post("/attempts", &admin, &unexplained("stu_d")).await;
        assert_eq!(after["errorTagCode"], "UNCLASSIFIED", "contested: {after}");
        let (_, rules) = app.get("/admin/learned-rules", &admin).await;
        assert_eq!(rules.as_array().unwrap().len(), 0, "{rules}");
    }
}
