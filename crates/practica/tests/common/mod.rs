//! Test support: the service spawned on port 0 with a fresh database (a temp SQLite file, or a
//! fresh PostgreSQL database when `PRACTICA_TEST_POSTGRES_URL` is set), and callers with tokens.

#![allow(dead_code)]

use std::path::PathBuf;
use std::time::Duration;

use practica::app::{App, AppState};
use practica::auth;
use practica::config::Config;
use practica::storage::Role;
use serde_json::Value;
use uuid::Uuid;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The backends to run a scenario on: SQLite always, PostgreSQL when configured.
pub fn backends() -> Vec<Backend> {
    let mut b = vec![Backend::Sqlite];
    if std::env::var_os("PRACTICA_TEST_POSTGRES_URL").is_some() {
        b.push(Backend::Postgres);
        mark_suite_ran("postgres");
    } else {
        eprintln!("PRACTICA_TEST_POSTGRES_URL is not set: PostgreSQL variants skipped");
    }
    b
}

/// Leaves a marker in `PRACTICA_TEST_MARKER_DIR` (when set) saying a suite that needs an
/// external service really ran: CI fails when a marker it expects is missing, so a suite can't
/// be skipped silently.
pub fn mark_suite_ran(suite: &str) {
    if let Some(dir) = std::env::var_os("PRACTICA_TEST_MARKER_DIR") {
        let _ = std::fs::create_dir_all(&dir);
        let _ = std::fs::write(PathBuf::from(dir).join(suite), b"ran");
    }
}

/// A fresh, empty PostgreSQL database on the configured server; its URL.
pub async fn fresh_postgres_database() -> String {
    use sqlx::Connection;
    let admin_url = std::env::var("PRACTICA_TEST_POSTGRES_URL").expect("PRACTICA_TEST_POSTGRES_URL");
    let name = format!("practica_test_{}", Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect(&admin_url)
        .await
        .expect("connect to PostgreSQL");
    // The name is generated here (a uuid), not taken from input.
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .expect("create database");
    let (base, _) = admin_url.rsplit_once('/').expect("database URL with a path");
    format!("{base}/{name}")
}

pub fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("practica-test-{}", Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub state: AppState,
    pub data_dir: PathBuf,
    pub backend: Backend,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> TestApp {
        Self::spawn_with(backend, |_| {}).await
    }

    pub async fn spawn_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> TestApp {
        let data_dir = temp_dir();
        let mut config = Config {
            data_dir: data_dir.clone(),
            ..Config::default()
        };
        if backend == Backend::Postgres {
            config.database_url = Some(fresh_postgres_database().await);
        }
        adjust(&mut config);
        let app = App::build(config).await.expect("build the app");
        let state = app.state.clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(app.run(listener, std::future::pending()));
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        TestApp {
            base,
            http,
            state,
            data_dir,
            backend,
        }
    }

    /// Creates these profiles.
    pub async fn add_profiles(&self, profiles: &[(&str, Role)]) {
        for (id, role) in profiles {
            self.state
                .store
                .upsert_profile(&practica::storage::Profile {
                    id: id.to_string(),
                    name: id.to_string(),
                    role: *role,
                })
                .await
                .expect("upsert profile");
        }
    }

    /// Creates these profiles and makes them members of `course` (teachers as teachers, the
    /// others as students).
    pub async fn enroll(&self, course: &str, profiles: &[(&str, Role)]) {
        self.add_profiles(profiles).await;
        for (id, role) in profiles {
            let member = if *role == Role::Teacher {
                Role::Teacher
            } else {
                Role::Student
            };
            self.state
                .store
                .add_course_member(course, id, member)
                .await
                .expect("add course member");
        }
    }

    pub fn token(&self, sub: &str, role: Role) -> String {
        let secret = auth::load_or_create_secret(&self.data_dir).unwrap();
        auth::issue_token(&secret, sub, role, Duration::from_secs(3600)).unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// POST JSON as `sub` with `role`; returns status and body.
    /// A simulation attempt operation (`POST /api/v5/artifacts/attempt/{name}`) with a bearer token.
    pub async fn sim_op(&self, name: &str, token: &str, body: Value) -> (u16, Value) {
        self.post(&format!("/api/v5/artifacts/attempt/{name}"), token, &body)
            .await
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> (u16, Value) {
        let r = self
            .http
            .post(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str, token: &str) -> (u16, Value) {
        let r = self.http.get(self.url(path)).bearer_auth(token).send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }
}

/// The JSON error shape every 4xx/5xx has.
pub fn assert_error_shape(body: &Value, status: u16) {
    assert_eq!(body["statusCode"], status, "{body}");
    assert!(body["code"].as_str().is_some_and(|c| !c.is_empty()), "{body}");
    assert!(body["message"].as_str().is_some(), "{body}");
    assert!(body["traceId"].as_str().is_some_and(|t| !t.is_empty()), "{body}");
}

/// Polls an attempt's status until it is CLASSIFIED (or fails after `within`).
pub async fn await_classified(app: &TestApp, id: &str, token: &str, within: Duration) -> Value {
    let start = std::time::Instant::now();
    loop {
        let (status, body) = app.get(&format!("/attempts/{id}/status"), token).await;
        assert_eq!(status, 200, "{body}");
        if body["status"] == "CLASSIFIED" {
            return body;
        }
        assert!(start.elapsed() < within, "still {body} after {within:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A wrong answer no procedure of the engine explains (53 − 26 answered 91, no steps): the
/// attempt is PENDING with a classification job (which asks the LLM when one is configured).
pub fn unexplained(student: &str) -> Value {
    serde_json::json!({
        "studentId": student,
        "topicCode": "T-SUB-BORROW",
        "courseId": "crs_1",
        "rawSteps": [],
        "expectedAnswer": 27,
        "studentAnswer": 91,
        "minuend": 53,
        "subtrahend": 26
    })
}

/// The spec's example body, for a given student.
pub fn spec_example(student: &str) -> Value {
    serde_json::json!({
        "studentId": student,
        "topicCode": "T-SUB-BORROW",
        "exerciseId": "ex_xyz789",
        "courseId": "crs_def456",
        "rawSteps": [
            { "expression": "53 - 26", "isFinal": false },
            { "expression": "53 - 26 = 33", "isFinal": true }
        ],
        "expectedAnswer": 27,
        "studentAnswer": 33,
        "minuend": 53,
        "subtrahend": 26
    })
}

pub mod fake_llm;

/// The simulation content of the attempt tests (`data/sim-bundle.yaml`).
pub const SIM_BUNDLE: &str = include_str!("../data/sim-bundle.yaml");

/// Imports the simulation test bundle, as an admin.
pub async fn import_sim_bundle(app: &TestApp) {
    let r = app
        .http
        .post(app.url("/admin/import"))
        .bearer_auth(app.token("adm_1", Role::Admin))
        .header("content-type", "application/yaml")
        .body(SIM_BUNDLE)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
}
