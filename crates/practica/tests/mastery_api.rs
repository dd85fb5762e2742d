//! The mastery read API: a student's topics with level and 7-day trend, a course's heatmap,
//! the students at risk; who may read what.

mod common;

use common::{TestApp, backends};
use practica::storage::Role;
use serde_json::{Value, json};

fn attempt(student: &str, answer: i64) -> Value {
    json!({
        "studentId": student,
        "topicCode": "T-SUB-BORROW",
        "courseId": "crs_1",
        "rawSteps": [],
        "expectedAnswer": 27,
        "studentAnswer": answer,
        "minuend": 53,
        "subtrahend": 26
    })
}

#[tokio::test]
async fn students_teachers_and_courses_read_mastery() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let store = &app.state.store;
        app.enroll(
            "crs_1",
            &[
                ("tch_1", Role::Teacher),
                ("stu_a", Role::Student),
                ("stu_b", Role::Student),
            ],
        )
        .await;
        app.add_profiles(&[("tch_2", Role::Teacher)]).await;
        let stu_a = app.token("stu_a", Role::Student);
        let stu_b = app.token("stu_b", Role::Student);
        let tch_1 = app.token("tch_1", Role::Teacher);
        let tch_2 = app.token("tch_2", Role::Teacher);
        let admin = app.token("adm", Role::Admin);
        // stu_a keeps making the borrow error; stu_b answers right.
        for _ in 0..3 {
            assert_eq!(app.post("/attempts", &stu_a, &attempt("stu_a", 33)).await.0, 201);
            assert_eq!(app.post("/attempts", &stu_b, &attempt("stu_b", 27)).await.0, 201);
        }
        let stored_a = store.mastery("stu_a", "T-SUB-BORROW", "crs_1").await.unwrap().unwrap();

        let (status, mine) = app.get("/mastery/students/stu_a", &stu_a).await;
        assert_eq!(status, 200, "{mine}");
        let topic = &mine["topics"][0];
        assert_eq!(topic["topicCode"], "T-SUB-BORROW");
        assert_eq!(topic["courseId"], "crs_1");
        assert_eq!(topic["attempts"], 3);
        // serde_json parses floats to within an ulp.
        assert!(
            (topic["pKnown"].as_f64().unwrap() - stored_a.p_known).abs() < 1e-12,
            "{topic}"
        );
        assert_eq!(topic["level"], "AT_RISK");
        // Every attempt is inside the window: the trend is from the topic's p_init.
        let p_init = app.state.catalog.topic("T-SUB-BORROW").unwrap().bkt.p_init;
        let delta = topic["trend"]["delta"].as_f64().unwrap();
        assert!((delta - (stored_a.p_known - p_init)).abs() < 1e-9, "{topic}");
        assert_eq!(topic["trend"]["direction"], "down");
        assert!(topic["lastAttemptAt"].is_string());

        let (_, b) = app.get("/mastery/students/stu_b", &stu_b).await;
        assert_eq!(b["topics"][0]["trend"]["direction"], "up", "{b}");
        assert_ne!(b["topics"][0]["level"], "AT_RISK");

        // Who reads whom.
        assert_eq!(app.get("/mastery/students/stu_a", &stu_b).await.0, 403);
        assert_eq!(app.get("/mastery/students/stu_a", &tch_1).await.0, 200);
        assert_eq!(app.get("/mastery/students/stu_a", &tch_2).await.0, 403);
        assert_eq!(app.get("/mastery/students/stu_a", &admin).await.0, 200);
        let (_, other) = app.get("/mastery/students/stu_a?courseId=crs_9", &admin).await;
        assert_eq!(other["topics"], json!([]), "another course's rows only");
        let (_, filtered) = app.get("/mastery/students/stu_a?courseId=crs_1", &stu_a).await;
        assert_eq!(filtered["topics"].as_array().unwrap().len(), 1);
        let long = "x".repeat(200);
        assert_eq!(app.get(&format!("/mastery/students/{long}"), &admin).await.0, 422);

        // The heatmap and the at-risk list: the course's teacher and admins only.
        let (status, heat) = app.get("/mastery/courses/crs_1", &tch_1).await;
        assert_eq!(status, 200, "{heat}");
        assert_eq!(heat["topics"], json!(["T-SUB-BORROW"]));
        let rows = heat["students"].as_array().unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0]["studentId"], "stu_a");
        assert_eq!(rows[0]["cells"][0]["level"], "AT_RISK");
        assert_eq!(rows[1]["studentId"], "stu_b");
        assert_eq!(app.get("/mastery/courses/crs_1", &stu_a).await.0, 403);
        assert_eq!(app.get("/mastery/courses/crs_1", &tch_2).await.0, 403);
        assert_eq!(app.get("/mastery/courses/crs_1", &admin).await.0, 200);

        let (status, risk) = app.get("/mastery/courses/crs_1/at-risk", &tch_1).await;
        assert_eq!(status, 200, "{risk}");
        let at_risk = risk["students"].as_array().unwrap();
        assert_eq!(at_risk.len(), 1, "{risk}");
        assert_eq!(at_risk[0]["studentId"], "stu_a");
        assert_eq!(at_risk[0]["level"], "AT_RISK");
        assert_eq!(at_risk[0]["trend"]["direction"], "down");
        assert_eq!(app.get("/mastery/courses/crs_1/at-risk", &tch_2).await.0, 403);

        // In the OpenAPI document.
        let (_, doc) = app.get("/openapi.json", &admin).await;
        for path in [
            "/mastery/students/{studentId}",
            "/mastery/courses/{courseId}",
            "/mastery/courses/{courseId}/at-risk",
        ] {
            assert!(doc["paths"][path].is_object(), "{path} documented");
        }
    }
}

#[tokio::test]
async fn a_refit_learns_the_topics_parameters_from_the_stored_attempts() {
    for backend in backends() {
        let app = TestApp::spawn_with(backend, |c| {
            c.job_sweep_secs = 1;
            c.mastery_refit_hours = 1;
            c.mastery_refit_min_responses = 1_000_000;
        })
        .await;
        let admin = app.token("adm", Role::Admin);
        // 12 students who get it wrong twice, then right four times: they learn.
        for s in 0..12 {
            for k in 0..6 {
                let answer = if k < 2 { 33 } else { 27 };
                let (status, _) = app
                    .post("/attempts", &admin, &attempt(&format!("stu_{s}"), answer))
                    .await;
                assert_eq!(status, 201);
            }
        }
        // A topic with a single response is left alone.
        let lonely = json!({"studentId": "stu_0", "topicCode": "T-MUL", "rawSteps": [],
                            "expectedAnswer": 54, "studentAnswer": 54});
        assert_eq!(app.post("/attempts", &admin, &lonely).await.0, 201);

        let before = app.state.catalog.topic("T-SUB-BORROW").unwrap().bkt;
        let options = |dry_run| practica::refit::RefitOptions {
            fit: mastery::FitOptions::default(),
            min_responses: 20,
            dry_run,
        };
        let dry = practica::refit::refit(
            app.state.store.as_ref(),
            &app.state.catalog,
            &options(true),
            std::sync::Arc::new(|_| {}),
        )
        .await
        .unwrap();
        assert_eq!(
            app.state.catalog.topic("T-SUB-BORROW").unwrap().bkt,
            before,
            "a dry run stores nothing"
        );
        let report = practica::refit::refit(
            app.state.store.as_ref(),
            &app.state.catalog,
            &options(false),
            std::sync::Arc::new(|_| {}),
        )
        .await
        .unwrap();
        assert_eq!(dry.len(), report.len());
        let sub = report.iter().find(|r| r.topic_code == "T-SUB-BORROW").expect("fitted");
        assert_eq!((sub.responses, sub.sequences), (72, 12));
        let after = sub.after.expect("new parameters");
        assert_ne!(after, before);
        assert!(
            after.p_learn > 0.1 && after.p_init < 0.5,
            "students start wrong and learn: {after:?}"
        );
        assert_eq!(
            app.state.catalog.topic("T-SUB-BORROW").unwrap().bkt,
            after,
            "the catalog uses them"
        );
        let mul = report.iter().find(|r| r.topic_code == "T-MUL").expect("reported");
        assert!(mul.after.is_none() && mul.skipped.as_deref().unwrap_or_default().contains("1 responses"));
        let stored = app.state.store.topics().await.unwrap();
        assert_eq!(
            stored.iter().find(|t| t.code == "T-SUB-BORROW").unwrap().bkt,
            after,
            "stored"
        );

        // The sweeper schedules the periodic refit as a job, once per period.
        let start = std::time::Instant::now();
        loop {
            let (_, jobs) = app.get("/admin/jobs", &admin).await;
            let depths = app
                .state
                .store
                .queue_depths(time::OffsetDateTime::now_utc())
                .await
                .unwrap();
            let scheduled = app
                .state
                .store
                .job_by_key(&format!(
                    "mastery-refit:3600:{}",
                    time::OffsetDateTime::now_utc().unix_timestamp() / 3600
                ))
                .await
                .unwrap();
            if let Some(job) = scheduled {
                assert!(
                    depths
                        .iter()
                        .all(|d| d.kind != "mastery-refit" || d.status != practica::storage::JobStatus::Dead),
                    "{jobs}"
                );
                assert_eq!(job.kind, "mastery-refit");
                break;
            }
            assert!(
                start.elapsed() < std::time::Duration::from_secs(10),
                "no refit job scheduled"
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
}
