//! Storage scenarios, each written once against `dyn Store` and run on both backends: SQLite
//! always (a fresh file per test), PostgreSQL when `PRACTICA_TEST_POSTGRES_URL` names a server
//! (a fresh database per test, created through that URL and dropped afterwards).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use mastery::BktParams;
use practica::storage::postgres::PgStore;
use practica::storage::sqlite::SqliteStore;
use practica::storage::*;
use serde_json::json;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
use sqlx::{AssertSqlSafe, Connection, PgConnection};
use time::OffsetDateTime;
use uuid::Uuid;

const POSTGRES_URL_VAR: &str = "PRACTICA_TEST_POSTGRES_URL";

// ---------------------------------------------------------------------------------------------
// Fixtures

/// Direct access to the test database, for what the traits cannot do (departments, revoking a
/// key) or do not show (history rows). The SQL given must be valid in both dialects.
enum Raw {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl Raw {
    async fn exec(&self, sql: &'static str) {
        match self {
            Raw::Sqlite(pool) => sqlx::query(sql).execute(pool).await.map(drop),
            Raw::Postgres(pool) => sqlx::query(sql).execute(pool).await.map(drop),
        }
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    async fn count(&self, sql: &'static str) -> i64 {
        match self {
            Raw::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
            Raw::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
        }
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }
}

/// Removes what a test created, also when it panics.
enum Cleanup {
    SqliteFile(PathBuf),
    PostgresDatabase { admin_url: String, name: String },
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        match self {
            Cleanup::SqliteFile(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let mut p = path.clone().into_os_string();
                    p.push(suffix);
                    let _ = std::fs::remove_file(p);
                }
            }
            Cleanup::PostgresDatabase { admin_url, name } => {
                // Drop runs inside the test's runtime, which cannot be blocked on: a thread with
                // its own runtime does the dropping. FORCE ends the store's pooled connections.
                let (admin_url, name) = (admin_url.clone(), name.clone());
                let dropped = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
                    rt.block_on(async {
                        let mut admin = PgConnection::connect(&admin_url).await?;
                        sqlx::query(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
                            .execute(&mut admin)
                            .await?;
                        admin.close().await
                    })
                    .map_err(std::io::Error::other)
                })
                .join();
                if !matches!(dropped, Ok(Ok(()))) {
                    eprintln!("could not drop test database: {dropped:?}");
                }
            }
        }
    }
}

struct Fixture {
    // Fields drop in order: the store's connections go before the database does.
    store: Arc<dyn Store>,
    raw: Raw,
    /// The test database's URL, on PostgreSQL: for a second process's store.
    pg_url: Option<String>,
    _cleanup: Cleanup,
}

impl Fixture {
    async fn sqlite() -> Fixture {
        let path = std::env::temp_dir().join(format!("practica-storage-{}.db", Uuid::new_v4().simple()));
        let cleanup = Cleanup::SqliteFile(path.clone());
        let store = SqliteStore::open(path.to_str().expect("temp path is UTF-8"))
            .await
            .expect("open SQLite store");
        assert_eq!(store.backend(), "sqlite");
        let raw = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(
                SqliteConnectOptions::new()
                    .filename(&path)
                    .busy_timeout(Duration::from_secs(10)),
            )
            .await
            .expect("raw SQLite pool");
        Fixture {
            store: Arc::new(store),
            raw: Raw::Sqlite(raw),
            pg_url: None,
            _cleanup: cleanup,
        }
    }

    /// None when no server is configured.
    async fn postgres() -> Option<Fixture> {
        let admin_url = std::env::var(POSTGRES_URL_VAR).ok().filter(|u| !u.is_empty())?;
        let name = format!("practica_test_{}", Uuid::new_v4().simple());
        let mut admin = PgConnection::connect(&admin_url)
            .await
            .expect("connect to PRACTICA_TEST_POSTGRES_URL");
        sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .expect("create test database");
        admin.close().await.expect("close admin connection");
        let cleanup = Cleanup::PostgresDatabase {
            admin_url: admin_url.clone(),
            name: name.clone(),
        };
        let url = with_database(&admin_url, &name);
        let store = PgStore::connect(&url).await.expect("connect PostgreSQL store");
        assert_eq!(store.backend(), "postgres");
        let raw = PgPoolOptions::new()
            .max_connections(2)
            .connect(&url)
            .await
            .expect("raw PostgreSQL pool");
        Some(Fixture {
            store: Arc::new(store),
            raw: Raw::Postgres(raw),
            pg_url: Some(url),
            _cleanup: cleanup,
        })
    }
}

/// `url` with its database (the path) replaced by `database`, query string kept.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[authority_start..]
        .find('/')
        .map_or(base.len(), |i| authority_start + i);
    let mut out = format!("{}/{database}", &base[..path_start]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// One test per backend for each scenario: `scenario::sqlite` and `scenario::postgres`.
macro_rules! scenarios {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                let f = super::Fixture::sqlite().await;
                super::$name(f.store.clone(), &f.raw).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                match super::Fixture::postgres().await {
                    Some(f) => super::$name(f.store.clone(), &f.raw).await,
                    None => println!("skipped: {} is not set", super::POSTGRES_URL_VAR),
                }
            }
        }
    )*};
}

scenarios!(
    record_and_read_back,
    idempotency,
    concurrent_mastery_updates,
    outbox,
    profiles_and_api_keys,
    teaches,
    topics_and_exercises,
    adhoc_attempts,
    simulation_content,
    retention_pruning,
);

// ---------------------------------------------------------------------------------------------
// Builders

// ---------------------------------------------------------------------------------------------
// Simulation content

const BUNDLE: &str = include_str!("data/bundle-example.yaml");

/// Rows of every simulation-content table, in one tuple so two imports compare at a glance.
async fn simulation_rows(raw: &Raw) -> Vec<i64> {
    let mut out = Vec::new();
    for sql in [
        "SELECT COUNT(*) FROM persona",
        "SELECT COUNT(*) FROM rubric",
        "SELECT COUNT(*) FROM rubric_criterion",
        "SELECT COUNT(*) FROM rubric_level",
        "SELECT COUNT(*) FROM simulation",
        "SELECT COUNT(*) FROM scenario",
        "SELECT COUNT(*) FROM scenario_persona",
        "SELECT COUNT(*) FROM question",
        "SELECT COUNT(*) FROM question_option",
        "SELECT COUNT(*) FROM home",
        "SELECT COUNT(*) FROM practice",
    ] {
        out.push(raw.count(sql).await);
    }
    out
}

async fn simulation_content(store: Arc<dyn Store>, raw: &Raw) {
    use practica::content;
    let bundle = content::parse(BUNDLE).expect("parse");
    let read_back = || async {
        assert_eq!(
            store.persona("per-student").await.unwrap().as_ref(),
            Some(&bundle.personas[0])
        );
        assert_eq!(
            store.rubric("rub-oh").await.unwrap(),
            Some(bundle.rubrics[0].to_rubric())
        );
        assert_eq!(
            store.simulation("sim-oh").await.unwrap().as_ref(),
            Some(&bundle.simulations[0])
        );
        assert_eq!(store.home("home-1").await.unwrap().as_ref(), Some(&bundle.homes[0]));
        assert_eq!(
            store.practice("prac-1").await.unwrap().as_ref(),
            Some(&bundle.practices[0])
        );
    };
    let summary = content::import(&*store, BUNDLE).await.expect("import");
    assert_eq!(summary.simulations, ["sim-oh"]);
    assert_eq!(summary.rubrics, ["rub-oh"]);
    assert_eq!(summary.personas, ["per-student"]);
    assert_eq!((summary.homes.len(), summary.practices.len()), (1, 1));
    read_back().await;
    let rows = simulation_rows(raw).await;
    assert_eq!(rows, [1, 1, 1, 2, 1, 1, 1, 1, 2, 1, 1]);
    // Importing again changes nothing.
    content::import(&*store, BUNDLE).await.expect("re-import");
    read_back().await;
    assert_eq!(simulation_rows(raw).await, rows);
    // The grading rules accept what was stored.
    store
        .rubric("rub-oh")
        .await
        .unwrap()
        .unwrap()
        .validate()
        .expect("valid rubric");

    // A shorter scenario list replaces the old one; references resolve against stored rows
    // (rub-oh, per-student are not in this bundle).
    let next = "simulations:\n  - {id: sim-oh, name: Renamed, rubric_id: rub-oh, time_limit: 0,\n     \
                scenarios: [{id: scn-2, name: Second, persona_ids: [per-student], script: [Hello]}]}\n";
    content::import(&*store, next).await.expect("import a shorter list");
    let sim = store.simulation("sim-oh").await.unwrap().unwrap();
    assert_eq!(sim.name, "Renamed");
    assert!(!sim.hints_enabled);
    assert_eq!(sim.scenarios.len(), 1);
    assert_eq!(sim.scenarios[0].id, "scn-2");
    assert_eq!(sim.scenarios[0].persona_ids, ["per-student"]);
    assert_eq!(sim.scenarios[0].script, ["Hello"]);
    assert_eq!(simulation_rows(raw).await, [1, 1, 1, 2, 1, 1, 1, 0, 0, 1, 1]);

    // Dangling references to stored rows refuse the bundle, naming the path; nothing applies.
    for (text, path) in [
        (
            "personas: [{id: per-2, name: P}]\npractices: [{id: prac-2, simulation_id: sim-9}]",
            "practices[0].simulation_id",
        ),
        (
            "personas: [{id: per-2, name: P}]\nhomes: [{id: h2, simulation_id: sim-oh, cohort_id: coh-9}]",
            "homes[0].cohort_id",
        ),
        (
            "personas: [{id: per-2, name: P}]\nsimulations: [{id: s2, name: S, rubric_id: r9}]",
            "simulations[0].rubric_id",
        ),
    ] {
        match content::import(&*store, text).await {
            Err(content::ImportError::Bundle(e)) => assert_eq!(e.path, path, "{e}"),
            other => panic!("{text}: {other:?}"),
        }
        assert!(store.persona("per-2").await.unwrap().is_none());
    }
    assert!(store.simulation("sim-9").await.unwrap().is_none());
}

/// Whole seconds: both backends keep them exactly (PostgreSQL keeps microseconds only).
fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc().replace_nanosecond(0).expect("0 ns is valid")
}

fn new_attempt(student: &str, topic: &str, course: Option<&str>, correct: bool) -> NewAttempt {
    NewAttempt {
        id: Uuid::new_v4(),
        student_id: student.to_string(),
        topic_code: topic.to_string(),
        course_id: course.map(str::to_string),
        exercise_id: None,
        status: AttemptStatus::Classified,
        is_correct: correct,
        error_tag_code: if correct { "NONE".into() } else { "SIGN_ERROR".into() },
        error_subtag: None,
        classifier_source: ClassifierSource::Rule,
        classifier_name: "rules".into(),
        confidence: 0.9,
        diagnosis: json!({"candidates": []}),
        first_wrong_step: None,
        expected_answer: "5".into(),
        client_expected_answer: None,
        student_answer: if correct { "5".into() } else { "-5".into() },
        trace_id: "trace".into(),
        created_by: student.to_string(),
        via_agent: false,
        created_at: now(),
        steps: Vec::new(),
        signature: None,
        classification_job: None,
        origin: AttemptOrigin::Exercise,
        problem: None,
        grade_level: None,
        photo_id: None,
    }
}

fn mastery_update(a: &NewAttempt, params: BktParams) -> MasteryUpdate {
    MasteryUpdate {
        student_id: a.student_id.clone(),
        topic_code: a.topic_code.clone(),
        course_id: a.course_id.clone().unwrap_or_default(),
        params,
        correct: a.is_correct,
    }
}

fn event(a: &NewAttempt) -> OutboxEvent {
    OutboxEvent {
        event_id: Uuid::new_v4(),
        event_type: "attempt.recorded".into(),
        ordering_key: a.student_id.clone(),
        payload: json!({"attemptId": a.id.to_string(), "correct": a.is_correct}),
    }
}

async fn record(store: &dyn Store, a: &NewAttempt, idempotency: Option<&IdempotencyClaim>) -> Recorded {
    store
        .record_attempt(
            a,
            Some(&mastery_update(a, BktParams::default())),
            &event(a),
            idempotency,
        )
        .await
        .expect("record_attempt")
}

fn profile(id: &str, role: Role) -> Profile {
    Profile {
        id: id.into(),
        name: format!("{id}'s name"),
        role,
    }
}

// ---------------------------------------------------------------------------------------------
// Scenarios

async fn record_and_read_back(store: Arc<dyn Store>, _raw: &Raw) {
    let params = BktParams::default();
    let mut a = new_attempt("s1", "integers.add", Some("c1"), false);
    a.exercise_id = Some("ex-7".into());
    a.error_subtag = Some("dropped-minus".into());
    a.classifier_source = ClassifierSource::Llm;
    a.status = AttemptStatus::Pending;
    a.diagnosis = json!({"candidates": [{"tag": "SIGN_ERROR", "score": 0.75}], "evidence": {"steps": [1, 2]}});
    a.first_wrong_step = Some(1);
    a.client_expected_answer = Some("5".into());
    a.via_agent = true;
    a.steps = vec![
        NewStep {
            expression: "-2 + 7".into(),
            is_final: false,
            parsed_ok: true,
        },
        NewStep {
            expression: "-(2 + 7)".into(),
            is_final: false,
            parsed_ok: true,
        },
        NewStep {
            expression: "-5".into(),
            is_final: true,
            parsed_ok: false,
        },
    ];
    let recorded = record(&*store, &a, None).await;
    assert_eq!(
        recorded,
        Recorded::New {
            p_known: Some(params.update(params.p_init, false))
        }
    );

    let got = store
        .attempt(a.id)
        .await
        .expect("attempt")
        .expect("attempt was written");
    assert_eq!(got.id, a.id);
    assert_eq!(got.student_id, "s1");
    assert_eq!(got.topic_code, "integers.add");
    assert_eq!(got.course_id.as_deref(), Some("c1"));
    assert_eq!(got.exercise_id.as_deref(), Some("ex-7"));
    assert_eq!(got.status, AttemptStatus::Pending);
    assert!(!got.is_correct);
    assert_eq!(got.error_tag_code.as_deref(), Some("SIGN_ERROR"));
    assert_eq!(got.error_subtag.as_deref(), Some("dropped-minus"));
    assert_eq!(got.classifier_source, ClassifierSource::Llm);
    assert_eq!(got.classifier_name.as_deref(), Some("rules"));
    assert_eq!(got.confidence, Some(0.9));
    assert_eq!(got.diagnosis, a.diagnosis);
    assert_eq!(got.first_wrong_step, Some(1));
    assert_eq!(got.expected_answer, "5");
    assert_eq!(got.client_expected_answer.as_deref(), Some("5"));
    assert_eq!(got.student_answer, "-5");
    assert_eq!(got.trace_id, "trace");
    assert!(got.via_agent);
    assert_eq!(got.created_at, a.created_at);
    let steps: Vec<_> = got
        .steps
        .iter()
        .map(|s| (s.index, s.expression.as_str(), s.is_final, s.parsed_ok))
        .collect();
    assert_eq!(
        steps,
        [
            (0, "-2 + 7", false, true),
            (1, "-(2 + 7)", false, true),
            (2, "-5", true, false)
        ]
    );
    assert!(got.reports.is_empty());

    // Reports come back oldest first, whatever order they were added in.
    let later = NewReport {
        id: Uuid::new_v4(),
        attempt_id: a.id,
        error_tag_code: "NONE".into(),
        reporter_id: "s1".into(),
        reporter_role: Role::Student,
        comment: None,
        via_agent: false,
        created_at: a.created_at + time::Duration::minutes(5),
    };
    let earlier = NewReport {
        id: Uuid::new_v4(),
        error_tag_code: "ARITHMETIC".into(),
        reporter_id: "t1".into(),
        reporter_role: Role::Teacher,
        comment: Some("a slip, not a sign error".into()),
        created_at: a.created_at + time::Duration::minutes(1),
        ..later.clone()
    };
    store.add_report(&later).await.expect("add report");
    store.add_report(&earlier).await.expect("add report");
    let reports = store.attempt(a.id).await.expect("attempt").expect("attempt").reports;
    assert_eq!(reports.len(), 2);
    assert_eq!(reports[0].id, earlier.id);
    assert_eq!(reports[0].error_tag_code, "ARITHMETIC");
    assert_eq!(reports[0].reporter_id, "t1");
    assert_eq!(reports[0].reporter_role, "teacher");
    assert_eq!(reports[0].comment.as_deref(), Some("a slip, not a sign error"));
    assert_eq!(reports[0].created_at, earlier.created_at);
    assert_eq!(reports[1].id, later.id);
    assert_eq!(reports[1].comment, None);
    // The classification itself is never rewritten by a report.
    assert_eq!(
        store
            .attempt(a.id)
            .await
            .expect("attempt")
            .expect("attempt")
            .error_tag_code
            .as_deref(),
        Some("SIGN_ERROR")
    );

    let orphan = NewReport {
        id: Uuid::new_v4(),
        attempt_id: Uuid::new_v4(),
        ..earlier.clone()
    };
    assert!(
        matches!(store.add_report(&orphan).await, Err(StoreError::Database(_))),
        "report of no attempt"
    );

    assert_eq!(
        store.mastery("s1", "integers.add", "c1").await.expect("mastery"),
        Some(MasteryRecord {
            p_known: params.update(params.p_init, false),
            attempts: 1,
            version: 1
        })
    );
    assert_eq!(
        store.mastery("s1", "integers.add", "").await.expect("mastery"),
        None,
        "other course"
    );
    assert_eq!(
        store.mastery("s2", "integers.add", "c1").await.expect("mastery"),
        None,
        "other student"
    );

    // No course, no steps: mastery under course "", which is a course like any other.
    let b = new_attempt("s1", "integers.add", None, true);
    let recorded = record(&*store, &b, None).await;
    assert_eq!(
        recorded,
        Recorded::New {
            p_known: Some(params.update(params.p_init, true))
        }
    );
    let got = store.attempt(b.id).await.expect("attempt").expect("attempt");
    assert_eq!(got.course_id, None);
    assert_eq!(got.exercise_id, None);
    assert_eq!(got.first_wrong_step, None);
    assert!(got.steps.is_empty());
    assert_eq!(
        store
            .mastery("s1", "integers.add", "")
            .await
            .expect("mastery")
            .map(|m| m.attempts),
        Some(1)
    );
    assert_eq!(
        store
            .mastery("s1", "integers.add", "c1")
            .await
            .expect("mastery")
            .map(|m| m.attempts),
        Some(1)
    );

    assert!(store.attempt(Uuid::new_v4()).await.expect("attempt").is_none());
    store.ping().await.expect("ping");
}

/// Published events and idempotency records past their retention go; unpublished events never
/// do, whatever their age; a key whose record went is a new request again.
async fn retention_pruning(store: Arc<dyn Store>, _raw: &Raw) {
    let claim = |key: &str| IdempotencyClaim {
        caller_id: "key:prune".into(),
        key: key.into(),
        request_hash: "hash".into(),
        status: 201,
        response: json!({"id": key}),
    };
    for (student, key) in [("p1", "k1"), ("p2", "k2")] {
        let a = new_attempt(student, "t", None, true);
        assert!(matches!(
            record(&*store, &a, Some(&claim(key))).await,
            Recorded::New { .. }
        ));
    }
    let rows = store.unpublished(10).await.expect("unpublished");
    assert_eq!(rows.len(), 2);
    store.mark_published(&[rows[0].seq]).await.expect("mark_published");

    let now = time::OffsetDateTime::now_utc();
    // Cut-offs in the past delete nothing; None deletes nothing.
    let past = now - time::Duration::hours(1);
    assert_eq!(
        store.prune_retained(Some(past), Some(past)).await.unwrap(),
        Pruned::default()
    );
    assert_eq!(store.prune_retained(None, None).await.unwrap(), Pruned::default());

    let future = now + time::Duration::seconds(5);
    let pruned = store.prune_retained(Some(future), Some(future)).await.unwrap();
    assert_eq!(
        pruned,
        Pruned {
            events: 1,
            idempotency_keys: 2
        }
    );
    let left = store.unpublished(10).await.expect("unpublished");
    assert_eq!(left.len(), 1, "the unpublished event stays");
    assert_eq!(left[0].seq, rows[1].seq);
    assert_eq!(
        store.prune_retained(Some(future), Some(future)).await.unwrap(),
        Pruned::default()
    );

    // The key's record is gone: the same key is a new request.
    let again = new_attempt("p1", "t", None, true);
    assert!(matches!(
        record(&*store, &again, Some(&claim("k1"))).await,
        Recorded::New { .. }
    ));
}

async fn idempotency(store: Arc<dyn Store>, _raw: &Raw) {
    let claim = IdempotencyClaim {
        caller_id: "key:abc".into(),
        key: "retry-1".into(),
        request_hash: "hash-1".into(),
        status: 201,
        response: json!({"id": "first", "pKnown": 0.5, "nested": {"list": [1, 2, 3]}}),
    };
    let first = new_attempt("s1", "t", None, true);
    assert!(matches!(
        record(&*store, &first, Some(&claim)).await,
        Recorded::New { .. }
    ));

    // A retry carries a new attempt id and a response of its own: the first one is what counts.
    let retry = new_attempt("s1", "t", None, true);
    let retry_claim = IdempotencyClaim {
        response: json!({"id": "second"}),
        status: 200,
        ..claim.clone()
    };
    assert_eq!(
        record(&*store, &retry, Some(&retry_claim)).await,
        Recorded::Replayed {
            status: 201,
            response: claim.response.clone()
        }
    );

    let other = new_attempt("s1", "t", None, false);
    let other_claim = IdempotencyClaim {
        request_hash: "hash-2".into(),
        ..claim.clone()
    };
    assert_eq!(record(&*store, &other, Some(&other_claim)).await, Recorded::KeyReused);

    // Neither the replay nor the reuse wrote anything.
    for id in [retry.id, other.id] {
        assert!(store.attempt(id).await.expect("attempt").is_none());
    }
    let m = store.mastery("s1", "t", "").await.expect("mastery").expect("mastery");
    assert_eq!((m.attempts, m.version), (1, 1));
    assert_eq!(store.unpublished(100).await.expect("unpublished").len(), 1);

    // Keys belong to their caller.
    let elsewhere = new_attempt("s1", "t", None, true);
    let elsewhere_claim = IdempotencyClaim {
        caller_id: "key:def".into(),
        ..other_claim.clone()
    };
    assert!(matches!(
        record(&*store, &elsewhere, Some(&elsewhere_claim)).await,
        Recorded::New { .. }
    ));
    assert_eq!(
        store.mastery("s1", "t", "").await.expect("mastery").map(|m| m.attempts),
        Some(2)
    );
}

async fn concurrent_mastery_updates(store: Arc<dyn Store>, raw: &Raw) {
    const N: usize = 50;
    let params = BktParams {
        p_init: 0.4,
        p_learn: 0.05,
        p_slip: 0.1,
        p_guess: 0.25,
        p_forget: 0.01,
    };
    // All answers wrong, so that every order of the updates gives the same sequence of values.
    let tasks: Vec<_> = (0..N)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut a = new_attempt("s1", "fractions.add", Some("c1"), false);
                a.steps = vec![NewStep {
                    expression: format!("step {i}"),
                    is_final: true,
                    parsed_ok: true,
                }];
                let m = mastery_update(&a, params);
                match store
                    .record_attempt(&a, Some(&m), &event(&a), None)
                    .await
                    .expect("record_attempt")
                {
                    Recorded::New { p_known } => p_known.expect("a mastery update"),
                    other => panic!("not recorded: {other:?}"),
                }
            })
        })
        .collect();
    let mut seen = Vec::with_capacity(N);
    for t in tasks {
        seen.push(t.await.expect("task"));
    }

    let sequence: Vec<f64> = std::iter::successors(Some(params.p_init), |&p| Some(params.update(p, false)))
        .skip(1)
        .take(N)
        .collect();
    let m = store
        .mastery("s1", "fractions.add", "c1")
        .await
        .expect("mastery")
        .expect("mastery");
    assert!(
        (m.p_known - sequence[N - 1]).abs() < 1e-12,
        "p_known {} after {N} updates, expected {}",
        m.p_known,
        sequence[N - 1]
    );
    assert_eq!((m.attempts, m.version), (N as i64, N as i64));
    // Each attempt saw the value the one before it left: every step of the sequence once.
    let mut seen_sorted = seen.clone();
    let mut expected = sequence.clone();
    seen_sorted.sort_by(f64::total_cmp);
    expected.sort_by(f64::total_cmp);
    for (s, e) in seen_sorted.iter().zip(&expected) {
        assert!(
            (s - e).abs() < 1e-12,
            "returned {seen:?}, expected the values {sequence:?}"
        );
    }

    assert_eq!(store.unpublished(1000).await.expect("unpublished").len(), N);
    assert_eq!(raw.count("SELECT COUNT(*) FROM attempt").await, N as i64);
    assert_eq!(raw.count("SELECT COUNT(*) FROM attempt_step").await, N as i64);
    assert_eq!(raw.count("SELECT COUNT(*) FROM mastery_history").await, N as i64);
    assert_eq!(raw.count("SELECT COUNT(*) FROM mastery").await, 1);
}

async fn outbox(store: Arc<dyn Store>, _raw: &Raw) {
    assert!(store.unpublished(10).await.expect("unpublished").is_empty());
    assert_eq!(store.outbox_lag().await.expect("lag"), (0, 0.0));
    store.mark_published(&[]).await.expect("nothing to mark");

    let mut events = Vec::new();
    for (i, student) in ["s1", "s2", "s3"].into_iter().enumerate() {
        let mut a = new_attempt(student, "t", None, true);
        // Oldest first: the first event is a minute old.
        a.created_at = now() - time::Duration::seconds(60 - i as i64);
        let e = event(&a);
        store
            .record_attempt(&a, Some(&mastery_update(&a, BktParams::default())), &e, None)
            .await
            .expect("record_attempt");
        events.push(e);
    }

    let rows = store.unpublished(10).await.expect("unpublished");
    assert_eq!(
        rows.iter().map(|r| r.event_id).collect::<Vec<_>>(),
        events.iter().map(|e| e.event_id).collect::<Vec<_>>()
    );
    assert!(rows.windows(2).all(|w| w[0].seq < w[1].seq), "in seq order");
    for (row, e) in rows.iter().zip(&events) {
        assert_eq!(row.event_type, e.event_type);
        assert_eq!(row.ordering_key, e.ordering_key);
        assert_eq!(row.payload, e.payload);
    }
    assert_eq!(store.unpublished(2).await.expect("unpublished").len(), 2, "limit");

    let (n, age) = store.outbox_lag().await.expect("lag");
    assert_eq!(n, 3);
    assert!((59.0..3600.0).contains(&age), "age of the oldest {age}");

    store
        .mark_published(&[rows[0].seq, rows[1].seq])
        .await
        .expect("mark_published");
    let left = store.unpublished(10).await.expect("unpublished");
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].seq, rows[2].seq);
    let (n, age) = store.outbox_lag().await.expect("lag");
    assert_eq!(n, 1);
    assert!((57.0..59.0 + 3600.0).contains(&age), "age of the oldest left {age}");

    // Marking again is harmless (a relay retrying after a crash between publish and mark).
    store
        .mark_published(&[rows[0].seq, rows[2].seq])
        .await
        .expect("mark_published");
    assert!(store.unpublished(10).await.expect("unpublished").is_empty());
    assert_eq!(store.outbox_lag().await.expect("lag"), (0, 0.0));
}

/// An ad-hoc attempt: written PENDING with no mastery update and its job; solved once (topic,
/// verdict, steps, mastery, event, job done in one transaction); a second finish changes nothing.
async fn adhoc_attempts(store: Arc<dyn Store>, raw: &Raw) {
    let mut a = new_attempt("s1", ADHOC_TOPIC, Some("c1"), false);
    a.status = AttemptStatus::Pending;
    a.origin = AttemptOrigin::Adhoc;
    a.problem = Some("2x+3=11".into());
    a.grade_level = Some(8);
    a.student_answer = "x=7".into();
    a.expected_answer = String::new();
    a.steps = vec![
        NewStep {
            expression: "2x = 14".into(),
            is_final: false,
            parsed_ok: true,
        },
        NewStep {
            expression: "x = 7 ++".into(),
            is_final: false,
            parsed_ok: true,
        },
    ];
    a.classification_job = Some(NewJob {
        id: Uuid::new_v4(),
        kind: "solve-adhoc".into(),
        dedupe_key: Some(format!("solve-adhoc:{}", a.id)),
        payload: json!({"attemptId": a.id}),
        max_attempts: 3,
        run_after: now() - time::Duration::seconds(1),
    });
    let recorded = store.record_attempt(&a, None, &event(&a), None).await.expect("record");
    assert_eq!(recorded, Recorded::New { p_known: None });
    assert_eq!(
        raw.count("SELECT COUNT(*) FROM mastery").await,
        0,
        "no mastery before solving"
    );
    let got = store.attempt(a.id).await.expect("attempt").expect("written");
    assert_eq!(got.origin, AttemptOrigin::Adhoc);
    assert_eq!(got.problem.as_deref(), Some("2x+3=11"));
    assert_eq!(got.grade_level, Some(8));
    assert_eq!(got.status, AttemptStatus::Pending);

    let t = now();
    let claimed = store
        .claim_jobs(&["solve-adhoc"], "w1", 10, t, t + time::Duration::seconds(60))
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 1);
    let params = BktParams::default();
    let solved = AdhocSolved {
        classification: Classification {
            attempt_id: a.id,
            error_tag_code: "ALGEBRA_EQ_LINEAR_SIGN_FLIP_TRANSPOSE_G8".into(),
            error_subtag: Some("TRANSPOSE-WITHOUT-SIGN-CHANGE".into()),
            source: ClassifierSource::Rule,
            classifier_name: "practica-cas".into(),
            confidence: 0.9,
            details: json!({"strategy": "cas"}),
            classified_at: t,
        },
        topic_code: "ALGEBRA_EQ_LINEAR".into(),
        is_correct: false,
        expected_answer: "x = 4".into(),
        first_wrong_step: Some(0),
        diagnosis: json!({"solution": {"answer": "x = 4"}}),
        steps_parsed: vec![true, false],
    };
    let mastery = MasteryUpdate {
        student_id: "s1".into(),
        topic_code: "ALGEBRA_EQ_LINEAR".into(),
        course_id: "c1".into(),
        params,
        correct: false,
    };
    let mut e = event(&a);
    e.event_type = "attempt.classified".into();
    assert!(
        store
            .finish_adhoc(&solved, Some(&mastery), &e, Some((claimed[0].id, "w1")))
            .await
            .expect("finish")
    );
    let got = store.attempt(a.id).await.expect("attempt").expect("written");
    assert_eq!(got.status, AttemptStatus::Classified);
    assert_eq!(got.topic_code, "ALGEBRA_EQ_LINEAR");
    assert_eq!(got.expected_answer, "x = 4");
    assert_eq!(got.first_wrong_step, Some(0));
    assert_eq!(got.error_subtag.as_deref(), Some("TRANSPOSE-WITHOUT-SIGN-CHANGE"));
    assert_eq!(got.diagnosis["solution"]["answer"], "x = 4");
    assert_eq!(got.steps.iter().map(|s| s.parsed_ok).collect::<Vec<_>>(), [true, false]);
    let m = store
        .mastery("s1", "ALGEBRA_EQ_LINEAR", "c1")
        .await
        .expect("mastery")
        .expect("a mastery row");
    assert_eq!(m.attempts, 1);
    assert!((m.p_known - params.update(params.p_init, false)).abs() < 1e-12);
    assert_eq!(raw.count("SELECT COUNT(*) FROM mastery_history").await, 1);
    let job = store.job(claimed[0].id).await.expect("job").expect("job");
    assert_eq!(job.status, JobStatus::Done);
    let events = store.unpublished(10).await.expect("unpublished");
    assert_eq!(events.len(), 2, "created and classified");

    // Once solved, a second run (a job run twice) changes nothing.
    let mut again = solved.clone();
    again.is_correct = true;
    assert!(
        !store
            .finish_adhoc(&again, Some(&mastery), &e, None)
            .await
            .expect("finish")
    );
    let m2 = store
        .mastery("s1", "ALGEBRA_EQ_LINEAR", "c1")
        .await
        .expect("m")
        .expect("m");
    assert_eq!(m2, m);
    assert!(!store.attempt(a.id).await.expect("a").expect("a").is_correct);
    assert_eq!(store.unpublished(10).await.expect("unpublished").len(), 2);

    // The refit learns from solved attempts only: not from the placeholder topic.
    let mut pending = new_attempt("s2", ADHOC_TOPIC, None, false);
    pending.status = AttemptStatus::Pending;
    pending.origin = AttemptOrigin::Adhoc;
    store
        .record_attempt(&pending, None, &event(&pending), None)
        .await
        .expect("record");
    let topics: Vec<String> = store
        .response_sequences()
        .await
        .expect("sequences")
        .into_iter()
        .map(|(t, _)| t)
        .collect();
    assert_eq!(topics, ["ALGEBRA_EQ_LINEAR"]);
}

async fn profiles_and_api_keys(store: Arc<dyn Store>, raw: &Raw) {
    assert!(store.profile("u1").await.expect("profile").is_none());
    store
        .upsert_profile(&profile("u1", Role::Student))
        .await
        .expect("upsert");
    let p = store.profile("u1").await.expect("profile").expect("profile");
    assert_eq!(
        (p.id.as_str(), p.name.as_str(), p.role),
        ("u1", "u1's name", Role::Student)
    );
    store
        .upsert_profile(&Profile {
            id: "u1".into(),
            name: "Ana".into(),
            role: Role::Teacher,
        })
        .await
        .expect("upsert");
    let p = store.profile("u1").await.expect("profile").expect("profile");
    assert_eq!((p.name.as_str(), p.role), ("Ana", Role::Teacher));
    store.upsert_profile(&profile("u2", Role::Admin)).await.expect("upsert");
    assert_eq!(
        store.profile("u2").await.expect("profile").map(|p| p.role),
        Some(Role::Admin)
    );

    assert!(store.api_key("k1").await.expect("api_key").is_none());
    let key = ApiKeyRecord {
        id: "k1".into(),
        name: "tutor bot".into(),
        secret_hash: "ab".repeat(32),
        role: Role::Agent,
        owner_id: "u2".into(),
        revoked: false,
    };
    store.create_api_key(&key).await.expect("create_api_key");
    let got = store.api_key("k1").await.expect("api_key").expect("api_key");
    assert_eq!(
        (
            got.id.as_str(),
            got.name.as_str(),
            got.secret_hash.as_str(),
            got.role,
            got.owner_id.as_str(),
            got.revoked
        ),
        ("k1", "tutor bot", key.secret_hash.as_str(), Role::Agent, "u2", false)
    );
    assert!(
        matches!(store.create_api_key(&key).await, Err(StoreError::Database(_))),
        "ids are unique"
    );

    raw.exec("UPDATE api_key SET revoked_at = CURRENT_TIMESTAMP WHERE id = 'k1'")
        .await;
    assert!(store.api_key("k1").await.expect("api_key").expect("api_key").revoked);
}

async fn teaches(store: Arc<dyn Store>, raw: &Raw) {
    for (id, role) in [
        ("t1", Role::Teacher),
        ("t2", Role::Teacher),
        ("s1", Role::Student),
        ("s2", Role::Student),
        ("s3", Role::Student),
    ] {
        store.upsert_profile(&profile(id, role)).await.expect("upsert");
    }
    store
        .add_course_member("c1", "t1", Role::Teacher)
        .await
        .expect("member");
    store
        .add_course_member("c1", "s1", Role::Student)
        .await
        .expect("member");
    store
        .add_course_member("c2", "s2", Role::Student)
        .await
        .expect("member");
    // Adding twice is an update, not an error.
    store
        .add_course_member("c1", "s1", Role::Student)
        .await
        .expect("member again");

    let teaches = |t: &'static str, s: &'static str, c: Option<&'static str>| {
        let store = store.clone();
        async move { store.teaches(t, s, c).await.expect("teaches") }
    };
    // A course both are members of.
    assert!(teaches("t1", "s1", None).await);
    assert!(teaches("t1", "s1", Some("c1")).await);
    assert!(!teaches("t2", "s1", None).await, "not a teacher of c1");
    assert!(!teaches("s1", "t1", None).await, "roles reversed");
    assert!(!teaches("t1", "s2", None).await, "s2 only takes c2");
    // The course asked about is the teacher's.
    assert!(teaches("t1", "s2", Some("c1")).await);
    assert!(!teaches("t1", "s2", Some("c2")).await);
    assert!(!teaches("t1", "s2", Some("no-such-course")).await);
    // A department shared with a teacher.
    assert!(!teaches("t2", "s2", None).await);
    raw.exec("INSERT INTO department (id, name) VALUES ('d1', 'Maths')")
        .await;
    raw.exec(
        "INSERT INTO profile_department (profile_id, department_id) VALUES ('t2', 'd1'), ('s2', 'd1'), ('s3', 'd1')",
    )
    .await;
    assert!(teaches("t2", "s2", None).await);
    assert!(teaches("t2", "s2", Some("c2")).await);
    assert!(!teaches("s3", "s2", None).await, "a student sharing a department");
    assert!(!teaches("t2", "s1", None).await, "s1 is not in d1");

    // A member's role is the last one given.
    store
        .add_course_member("c1", "s1", Role::Teacher)
        .await
        .expect("member");
    assert!(!teaches("t1", "s1", None).await);
}

async fn topics_and_exercises(store: Arc<dyn Store>, _raw: &Raw) {
    assert!(store.topics().await.expect("topics").is_empty());
    let topic = |code: &str, p_init: f64| TopicRecord {
        code: code.into(),
        family: "integers".into(),
        name: format!("{code} name"),
        bkt: BktParams {
            p_init,
            ..BktParams::default()
        },
    };
    store
        .upsert_topic(&topic("integers.sub", 0.2))
        .await
        .expect("upsert_topic");
    store
        .upsert_topic(&topic("Integers.add", 0.3))
        .await
        .expect("upsert_topic");
    store
        .upsert_topic(&topic("decimals.mul", 0.4))
        .await
        .expect("upsert_topic");
    let codes: Vec<String> = store
        .topics()
        .await
        .expect("topics")
        .into_iter()
        .map(|t| t.code)
        .collect();
    // Byte order on both backends, whatever PostgreSQL's locale would say.
    assert_eq!(codes, ["Integers.add", "decimals.mul", "integers.sub"]);

    let changed = TopicRecord {
        family: "signed".into(),
        name: "Subtraction".into(),
        bkt: BktParams {
            p_init: 0.15,
            p_learn: 0.2,
            p_slip: 0.05,
            p_guess: 0.3,
            p_forget: 0.02,
        },
        ..topic("integers.sub", 0.0)
    };
    store.upsert_topic(&changed).await.expect("upsert_topic");
    let topics = store.topics().await.expect("topics");
    assert_eq!(topics.len(), 3);
    let sub = topics.iter().find(|t| t.code == "integers.sub").expect("integers.sub");
    assert_eq!(
        (sub.family.as_str(), sub.name.as_str(), sub.bkt),
        ("signed", "Subtraction", changed.bkt)
    );

    assert!(store.exercise("ex1").await.expect("exercise").is_none());
    let ex = ExerciseRecord {
        id: "ex1".into(),
        topic_code: "integers.sub".into(),
        problem: "3 - 8".into(),
        expected_answer: "-5".into(),
    };
    store.upsert_exercise(&ex).await.expect("upsert_exercise");
    let got = store.exercise("ex1").await.expect("exercise").expect("exercise");
    assert_eq!(
        (got.id, got.topic_code, got.problem, got.expected_answer),
        (
            ex.id.clone(),
            ex.topic_code.clone(),
            ex.problem.clone(),
            ex.expected_answer.clone()
        )
    );
    let ex2 = ExerciseRecord {
        problem: "3 - 9".into(),
        expected_answer: "-6".into(),
        topic_code: "integers.add".into(),
        ..ex
    };
    store.upsert_exercise(&ex2).await.expect("upsert_exercise");
    let got = store.exercise("ex1").await.expect("exercise").expect("exercise");
    assert_eq!(
        (
            got.topic_code.as_str(),
            got.problem.as_str(),
            got.expected_answer.as_str()
        ),
        ("integers.add", "3 - 9", "-6")
    );
}

/// Of the processes sharing a store one relays the outbox; leadership moves when the leader's
/// session dies or its process goes. Not a shared scenario: it needs a second store on the same
/// database, which only PostgreSQL has (an SQLite file belongs to one process, which always leads).
mod relay_leadership {
    use std::time::Duration;

    use practica::storage::Store;
    use practica::storage::postgres::PgStore;

    use super::Fixture;

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn sqlite() {
        let f = Fixture::sqlite().await;
        assert!(f.store.try_lead_relay().await.expect("lead"));
        assert!(f.store.try_lead_relay().await.expect("lead"), "kept");
    }

    /// Calls `try_lead_relay` until it says `want` (an error counts as not leading), for up to
    /// ten seconds: the server frees a dead session's locks soon, not at once.
    async fn until_leading(store: &dyn Store, want: bool) {
        for _ in 0..100 {
            if store.try_lead_relay().await.unwrap_or(false) == want {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("try_lead_relay never said {want}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn postgres() {
        let Some(f) = Fixture::postgres().await else {
            println!("skipped: {} is not set", super::POSTGRES_URL_VAR);
            return;
        };
        let Fixture {
            store: first,
            raw,
            pg_url,
            _cleanup,
        } = f;
        let second: std::sync::Arc<dyn Store> = std::sync::Arc::new(
            PgStore::connect(pg_url.as_deref().expect("PostgreSQL URL"))
                .await
                .expect("second store"),
        );

        assert!(first.try_lead_relay().await.expect("lead"));
        assert!(!second.try_lead_relay().await.expect("lead"));
        assert!(first.try_lead_relay().await.expect("lead"), "kept");
        assert!(!second.try_lead_relay().await.expect("lead"), "still not");

        // The leader's session dies (a network cut, a restart of its connection): the lock goes
        // with it, and the other process takes over. pg_locks spans the cluster: only this
        // database's sessions are ended, not other tests', and only one-key locks (the relay's;
        // the outbox's per-key locks have two keys and end with their transactions anyway). The
        // timeout makes the call wait for the session to be gone before the count below.
        raw.exec(
            "SELECT pg_terminate_backend(pid, 5000) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1 \
             AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        )
        .await;
        assert_eq!(
            raw.count(
                "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' \
                 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            )
            .await,
            0,
            "the leader's lock is gone with its session"
        );
        until_leading(&*second, true).await;
        until_leading(&*first, false).await;
        assert!(!first.try_lead_relay().await.expect("lead"), "the new leader keeps it");
        assert!(second.try_lead_relay().await.expect("lead"));

        // The leader's process goes.
        drop(second);
        until_leading(&*first, true).await;
        drop(first);
        drop(raw);
    }
}

#[test]
fn with_database_replaces_only_the_path() {
    assert_eq!(
        with_database("postgres://u@h:5432/postgres", "x"),
        "postgres://u@h:5432/x"
    );
    assert_eq!(with_database("postgres://u@h:5432", "x"), "postgres://u@h:5432/x");
    assert_eq!(
        with_database("postgres://u:p@h/db?sslmode=disable", "x"),
        "postgres://u:p@h/x?sslmode=disable"
    );
}
