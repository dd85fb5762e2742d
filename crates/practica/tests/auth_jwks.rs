//! Tokens from an external identity provider: the test runs its own JWKS server (one RSA key,
//! one P-256 key, counting fetches), points the service at it and talks to the service over real
//! HTTP. The keys are test-only keys shipped in `tests/data` (see its README).

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use common::{Backend, TestApp, spec_example};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use practica::storage::{Profile, Role};
use serde_json::{Value, json};

const AUDIENCE: &str = "practica-tests";
const ISSUER: &str = "https://idp.test/";

// Test-only keys: they protect nothing and are used nowhere else.
const TEST_RSA_1: &[u8] = include_bytes!("data/test-only-rsa-1.pem");
const TEST_RSA_1_PUBLIC: &[u8] = include_bytes!("data/test-only-rsa-1.pub.pem");
const TEST_EC_1: &[u8] = include_bytes!("data/test-only-ec-1.pem");
const TEST_RSA_ROGUE: &[u8] = include_bytes!("data/test-only-rsa-rogue.pem");
const TEST_EC_ROGUE: &[u8] = include_bytes!("data/test-only-ec-rogue.pem");
/// The public JWKs of `TEST_RSA_1` (kid `rsa-1`, RS256) and `TEST_EC_1` (kid `ec-1`, ES256).
const TEST_JWKS: &str = include_str!("data/test-only-jwks.json");

// ---------------------------------------------------------------------------------------------
// The stand-in identity provider.

/// What the JWKS endpoint answers.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    /// The key set.
    Serve = 0,
    /// 503.
    Fail = 1,
    /// 200 with a body that is not a key set.
    Garbage = 2,
}

#[derive(Clone, Default)]
struct Idp {
    fetches: Arc<AtomicUsize>,
    mode: Arc<AtomicUsize>,
}

struct JwksServer {
    url: String,
    idp: Idp,
}

impl JwksServer {
    async fn start() -> JwksServer {
        let idp = Idp::default();
        let router = Router::new()
            .route("/.well-known/jwks.json", get(serve_jwks))
            .with_state(idp.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/.well-known/jwks.json", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        JwksServer { url, idp }
    }

    fn fetches(&self) -> usize {
        self.idp.fetches.load(Ordering::SeqCst)
    }

    fn set_mode(&self, mode: Mode) {
        self.idp.mode.store(mode as usize, Ordering::SeqCst);
    }
}

async fn serve_jwks(State(idp): State<Idp>) -> Response {
    idp.fetches.fetch_add(1, Ordering::SeqCst);
    let json = [(header::CONTENT_TYPE, "application/json")];
    match idp.mode.load(Ordering::SeqCst) {
        m if m == Mode::Serve as usize => (json, TEST_JWKS).into_response(),
        m if m == Mode::Fail as usize => (StatusCode::SERVICE_UNAVAILABLE, "down for maintenance").into_response(),
        _ => (json, r#"{"keys": [{"kty": "RSA""#).into_response(),
    }
}

/// The service, trusting tokens of the JWKS at `jwks_url` for `AUDIENCE` from `ISSUER`.
async fn spawn_app(jwks_url: &str) -> TestApp {
    let url = jwks_url.to_string();
    TestApp::spawn_with(Backend::Sqlite, move |config| {
        config.jwks_url = Some(url);
        config.jwt_audience = Some(AUDIENCE.into());
        config.jwt_issuer = Some(ISSUER.into());
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// Tokens.

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// Valid claims for `sub`: our audience, the provider's issuer, ten minutes to live.
fn claims(sub: &str) -> Value {
    json!({"sub": sub, "aud": AUDIENCE, "iss": ISSUER, "iat": now(), "exp": now() + 600})
}

/// `claims` with the fields of `extra` set (a `null` removes the field).
fn merged(mut claims: Value, extra: Value) -> Value {
    for (k, v) in extra.as_object().unwrap() {
        if v.is_null() {
            claims.as_object_mut().unwrap().remove(k);
        } else {
            claims[k] = v.clone();
        }
    }
    claims
}

fn sign(alg: Algorithm, kid: Option<&str>, key: &EncodingKey, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_string);
    jsonwebtoken::encode(&header, claims, key).unwrap()
}

fn rsa(pem: &[u8]) -> EncodingKey {
    EncodingKey::from_rsa_pem(pem).unwrap()
}

fn ec(pem: &[u8]) -> EncodingKey {
    EncodingKey::from_ec_pem(pem).unwrap()
}

/// Signed by the provider's RSA key, kid `rsa-1`.
fn rs256(claims: &Value) -> String {
    sign(Algorithm::RS256, Some("rsa-1"), &rsa(TEST_RSA_1), claims)
}

/// Signed by the provider's P-256 key, kid `ec-1`.
fn es256(claims: &Value) -> String {
    sign(Algorithm::ES256, Some("ec-1"), &ec(TEST_EC_1), claims)
}

/// Signed by a key the provider does not publish, under a kid it does not publish.
fn unknown_kid(claims: &Value) -> String {
    sign(Algorithm::RS256, Some("rsa-rogue"), &rsa(TEST_RSA_ROGUE), claims)
}

fn b64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char);
        }
    }
    out
}

/// An unsecured JWT (`alg: none`, empty signature).
fn unsigned(kid: Option<&str>, claims: &Value) -> String {
    let mut header = json!({"alg": "none", "typ": "JWT"});
    if let Some(kid) = kid {
        header["kid"] = json!(kid);
    }
    format!(
        "{}.{}.",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes())
    )
}

// ---------------------------------------------------------------------------------------------
// Checks.

fn assert_error_shape(body: &Value, status: u16) {
    assert_eq!(body["statusCode"], status, "{body}");
    assert!(body["code"].as_str().is_some_and(|c| !c.is_empty()), "{body}");
    assert!(body["message"].as_str().is_some(), "{body}");
    assert!(body["traceId"].as_str().is_some_and(|t| !t.is_empty()), "{body}");
}

/// A response body for an assertion message, cut short.
fn excerpt(body: &Value) -> String {
    body.to_string().chars().take(300).collect()
}

/// GET /catalog/topics and POST /attempts with `token` are both refused with 401 and the JSON
/// error shape.
async fn assert_rejected(app: &TestApp, what: &str, token: &str) {
    let (status, body) = app.get("/catalog/topics", token).await;
    assert_eq!(status, 401, "{what}: GET /catalog/topics answered {}", excerpt(&body));
    assert_error_shape(&body, 401);
    let (status, body) = app.post("/attempts", token, &spec_example("ext_x")).await;
    assert_eq!(status, 401, "{what}: POST /attempts answered {}", excerpt(&body));
    assert_error_shape(&body, 401);
}

/// The provider is unreachable or broken: 401 or 503 with the JSON error shape, never a 500.
async fn assert_refused_without_500(app: &TestApp, what: &str, token: &str) -> u16 {
    let (status, body) = app.get("/catalog/topics", token).await;
    assert!(matches!(status, 401 | 503), "{what}: {status} {body}");
    assert_error_shape(&body, status);
    status
}

// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_tokens_are_verified_against_the_jwks() {
    let idp = JwksServer::start().await;
    let app = spawn_app(&idp.url).await;

    // RS256 and ES256 with the right aud/iss/exp: accepted, and the caller acts as themselves.
    for (what, sub, token) in [
        ("RS256", "ext_rs", rs256(&claims("ext_rs"))),
        ("ES256", "ext_es", es256(&claims("ext_es"))),
    ] {
        let (status, body) = app.get("/catalog/topics", &token).await;
        assert_eq!(status, 200, "{what}: {}", excerpt(&body));
        let (status, body) = app.post("/attempts", &token, &spec_example(sub)).await;
        assert_eq!(status, 201, "{what}: {body}");
    }
    // An audience list holding ours is fine too.
    let token = rs256(&merged(claims("ext_rs"), json!({"aud": ["other-api", AUDIENCE]})));
    assert_eq!(app.get("/catalog/topics", &token).await.0, 200);

    let random_secret: [u8; 32] = rand::random();
    let genuine = rs256(&claims("ext_victim"));
    let forged_payload = {
        // A genuine header and signature around someone else's claims.
        let parts: Vec<&str> = genuine.split('.').collect();
        let payload = b64url(
            merged(claims("ext_victim"), json!({"sub": "ext_intruder"}))
                .to_string()
                .as_bytes(),
        );
        format!("{}.{payload}.{}", parts[0], parts[2])
    };
    let c = || claims("ext_x");
    let rejected: Vec<(&str, String)> = vec![
        ("wrong audience", rs256(&merged(c(), json!({"aud": "another-service"})))),
        (
            "wrong audience (ES256)",
            es256(&merged(c(), json!({"aud": "another-service"}))),
        ),
        (
            "audience list without ours",
            rs256(&merged(c(), json!({"aud": ["a", "b"]}))),
        ),
        ("no audience", rs256(&merged(c(), json!({"aud": null})))),
        (
            "wrong issuer",
            rs256(&merged(c(), json!({"iss": "https://evil.test/"}))),
        ),
        (
            "wrong issuer (ES256)",
            es256(&merged(c(), json!({"iss": "https://evil.test/"}))),
        ),
        ("no issuer", es256(&merged(c(), json!({"iss": null})))),
        (
            "expired",
            rs256(&merged(c(), json!({"iat": now() - 7200, "exp": now() - 3600}))),
        ),
        (
            "expired (ES256)",
            es256(&merged(c(), json!({"iat": now() - 7200, "exp": now() - 3600}))),
        ),
        ("no expiry", rs256(&merged(c(), json!({"exp": null})))),
        ("empty subject", rs256(&merged(c(), json!({"sub": ""})))),
        ("unknown kid (RSA)", unknown_kid(&c())),
        (
            "unknown kid (EC)",
            sign(Algorithm::ES256, Some("ec-rogue"), &ec(TEST_EC_ROGUE), &c()),
        ),
        ("no kid", sign(Algorithm::RS256, None, &rsa(TEST_RSA_1), &c())),
        (
            "kid rsa-1, signed by another RSA key",
            sign(Algorithm::RS256, Some("rsa-1"), &rsa(TEST_RSA_ROGUE), &c()),
        ),
        (
            "kid ec-1, signed by another EC key",
            sign(Algorithm::ES256, Some("ec-1"), &ec(TEST_EC_ROGUE), &c()),
        ),
        (
            "kid rsa-1, signed by the EC key",
            sign(Algorithm::ES256, Some("rsa-1"), &ec(TEST_EC_1), &c()),
        ),
        (
            "kid ec-1, signed by the RSA key",
            sign(Algorithm::RS256, Some("ec-1"), &rsa(TEST_RSA_1), &c()),
        ),
        (
            "RS384 with the listed RSA key",
            sign(Algorithm::RS384, Some("rsa-1"), &rsa(TEST_RSA_1), &c()),
        ),
        ("alg none", unsigned(Some("rsa-1"), &c())),
        ("alg none, no kid", unsigned(None, &c())),
        (
            "HS256 with a random secret",
            sign(Algorithm::HS256, None, &EncodingKey::from_secret(&random_secret), &c()),
        ),
        (
            "HS256 with a random secret, the service's own aud/iss",
            sign(
                Algorithm::HS256,
                None,
                &EncodingKey::from_secret(&random_secret),
                &merged(c(), json!({"aud": "practica", "iss": "practica", "role": "admin"})),
            ),
        ),
        (
            "HS256 keyed with the provider's RSA public key",
            sign(
                Algorithm::HS256,
                Some("rsa-1"),
                &EncodingKey::from_secret(TEST_RSA_1_PUBLIC),
                &c(),
            ),
        ),
        ("payload swapped under a genuine signature", forged_payload),
    ];
    for (what, token) in &rejected {
        assert_rejected(&app, what, token).await;
    }

    // The genuine tokens still work afterwards.
    assert_eq!(app.get("/catalog/topics", &genuine).await.0, 200);
    assert_eq!(app.get("/catalog/topics", &es256(&claims("ext_es"))).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_roles_come_from_app_metadata_never_user_metadata() {
    let idp = JwksServer::start().await;
    let app = spawn_app(&idp.url).await;

    // A student creates an attempt with their own token.
    let student = rs256(&claims("ext_stu"));
    let (status, created) = app.post("/attempts", &student, &spec_example("ext_stu")).await;
    assert_eq!(status, 201, "{created}");
    let id = created["attemptId"].as_str().unwrap().to_string();
    let path = format!("/attempts/{id}/status");
    assert_eq!(app.get(&path, &student).await.0, 200);

    let token = |sub: &str, extra: Value| es256(&merged(claims(sub), extra));
    // Roles the user can set themselves, or that only API keys may have: still a student.
    for (what, extra) in [
        ("user_metadata.role admin", json!({"user_metadata": {"role": "admin"}})),
        ("top-level role admin", json!({"role": "admin"})),
        (
            "user_metadata admin, app_metadata without a role",
            json!({"user_metadata": {"role": "admin"}, "app_metadata": {"provider": "email"}}),
        ),
        ("app_metadata.role agent", json!({"app_metadata": {"role": "agent"}})),
        (
            "app_metadata.role unknown",
            json!({"app_metadata": {"role": "superuser"}}),
        ),
    ] {
        let mallory = token("ext_mallory", extra);
        let (status, body) = app.get(&path, &mallory).await;
        assert_eq!(status, 403, "{what}: {body}");
        assert_error_shape(&body, 403);
        let (status, body) = app.post("/attempts", &mallory, &spec_example("ext_stu")).await;
        assert_eq!(status, 403, "{what}: acting for another student answered {body}");
    }

    // app_metadata.role admin is honoured, whatever user_metadata says.
    for extra in [
        json!({"app_metadata": {"role": "admin"}}),
        json!({"app_metadata": {"role": "admin"}, "user_metadata": {"role": "student"}}),
    ] {
        let admin = token("ext_admin", extra);
        let (status, body) = app.get(&path, &admin).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["attemptId"], id.as_str(), "{body}");
    }
    let admin = rs256(&merged(claims("ext_admin"), json!({"app_metadata": {"role": "admin"}})));
    assert_eq!(app.post("/attempts", &admin, &spec_example("ext_stu")).await.0, 201);

    // app_metadata.role teacher is honoured: a report a teacher files on their own attempt is
    // recorded as a teacher's; with the role only in user_metadata, as a student's.
    for (sub, extra, expected) in [
        ("ext_tch", json!({"app_metadata": {"role": "teacher"}}), "teacher"),
        ("ext_fake_tch", json!({"user_metadata": {"role": "teacher"}}), "student"),
    ] {
        let caller = token(sub, extra);
        let (status, created) = app.post("/attempts", &caller, &spec_example(sub)).await;
        assert_eq!(status, 201, "{created}");
        let own = created["attemptId"].as_str().unwrap();
        let (status, body) = app
            .post(
                &format!("/attempts/{own}/report"),
                &caller,
                &json!({"errorTagCode": "ARITH_SUB_BORROW_FROM_ZERO_G3"}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        let (status, detail) = app.get(&format!("/attempts/{own}/detail"), &caller).await;
        assert_eq!(status, 200, "{detail}");
        assert_eq!(detail["reports"][0]["reporterId"], sub, "{detail}");
        assert_eq!(detail["reports"][0]["reporterRole"], expected, "{detail}");
    }

    // A stored profile wins over the token: a student profile claiming admin stays a student.
    app.state
        .store
        .upsert_profile(&Profile {
            id: "ext_demoted".into(),
            name: "ext_demoted".into(),
            role: Role::Student,
        })
        .await
        .unwrap();
    let demoted = token("ext_demoted", json!({"app_metadata": {"role": "admin"}}));
    assert_eq!(app.get(&path, &demoted).await.0, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_jwks_is_cached_and_unknown_kids_refetch_rarely() {
    let idp = JwksServer::start().await;
    let app = spawn_app(&idp.url).await;
    assert_eq!(idp.fetches(), 0, "the key set is fetched on first use, not at start");

    // A concurrent burst of first requests, then many more: one fetch.
    let tokens: Vec<String> = (0..16u32)
        .map(|i| {
            let c = claims(&format!("ext_{i}"));
            if i.is_multiple_of(2) { rs256(&c) } else { es256(&c) }
        })
        .collect();
    let burst = futures::future::join_all(tokens.iter().map(|t| app.get("/catalog/topics", t))).await;
    assert!(burst.iter().all(|(s, _)| *s == 200), "{burst:?}");
    for t in tokens.iter().cycle().take(40) {
        assert_eq!(app.get("/catalog/topics", t).await.0, 200);
    }
    assert_eq!(idp.fetches(), 1, "valid tokens are checked against the cached key set");

    // Unknown kids, one after another and concurrently: at most one refetch per 30 s window
    // (and the window started with the fetch above, so none at all here).
    let rogue = unknown_kid(&claims("ext_rogue"));
    for _ in 0..20 {
        assert_rejected(&app, "unknown kid", &rogue).await;
    }
    let burst = futures::future::join_all((0..16).map(|_| app.get("/catalog/topics", &rogue))).await;
    assert!(burst.iter().all(|(s, _)| *s == 401), "{burst:?}");
    assert!(
        idp.fetches() <= 2,
        "{} JWKS fetches for 36 unknown-kid requests",
        idp.fetches()
    );
    // Known keys are unaffected.
    assert_eq!(app.get("/catalog/topics", &tokens[0]).await.0, 200);
    assert_eq!(app.get("/catalog/topics", &tokens[1]).await.0, 200);

    // A fresh service whose first token has an unknown kid: that fetches the set once, and
    // neither more unknown kids nor the valid tokens after them fetch it again.
    let idp = JwksServer::start().await;
    let app = spawn_app(&idp.url).await;
    for _ in 0..20 {
        assert_rejected(&app, "unknown kid first", &rogue).await;
    }
    assert_eq!(idp.fetches(), 1);
    assert_eq!(app.get("/catalog/topics", &tokens[0]).await.0, 200);
    assert_eq!(app.get("/catalog/topics", &tokens[1]).await.0, 200);
    assert_eq!(idp.fetches(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jwks_outage_is_401_or_503_never_500() {
    let valid = [rs256(&claims("ext_a")), es256(&claims("ext_b"))];
    let rogue = unknown_kid(&claims("ext_rogue"));

    // Nothing listens on the JWKS URL.
    let closed = {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        format!("http://{}/.well-known/jwks.json", listener.local_addr().unwrap())
    };
    let app = spawn_app(&closed).await;
    for _ in 0..3 {
        for token in valid.iter().chain([&rogue]) {
            assert_refused_without_500(&app, "JWKS port closed", token).await;
        }
    }
    // The service's own tokens do not depend on the provider.
    assert_eq!(
        app.get("/catalog/topics", &app.token("stu_local", Role::Student))
            .await
            .0,
        200
    );

    // The provider answers 503, or a body that is not a key set: refused, and not asked again
    // on every request.
    for mode in [Mode::Fail, Mode::Garbage] {
        let idp = JwksServer::start().await;
        idp.set_mode(mode);
        let app = spawn_app(&idp.url).await;
        for _ in 0..5 {
            for token in valid.iter().chain([&rogue]) {
                assert_refused_without_500(&app, &format!("{mode:?}"), token).await;
            }
        }
        assert!(
            idp.fetches() <= 2,
            "{mode:?}: {} JWKS fetches for 15 requests",
            idp.fetches()
        );
    }

    // The provider goes down after the keys were fetched: known keys keep working from the
    // cache, unknown ones are refused without hammering the provider.
    let idp = JwksServer::start().await;
    let app = spawn_app(&idp.url).await;
    assert_eq!(app.get("/catalog/topics", &valid[0]).await.0, 200);
    idp.set_mode(Mode::Fail);
    for _ in 0..5 {
        assert_eq!(app.get("/catalog/topics", &valid[0]).await.0, 200);
        assert_eq!(app.get("/catalog/topics", &valid[1]).await.0, 200);
        assert_refused_without_500(&app, "down after the first fetch", &rogue).await;
    }
    assert!(idp.fetches() <= 2, "{} JWKS fetches", idp.fetches());

    // The provider accepts connections but never answers: the fetch times out into a refusal.
    let hanging = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/.well-known/jwks.json", hanging.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = hanging.accept().await {
            held.push(socket);
        }
    });
    let app = spawn_app(&url).await;
    let started = Instant::now();
    assert_refused_without_500(&app, "JWKS never answers", &valid[0]).await;
    assert_refused_without_500(&app, "JWKS never answers", &valid[1]).await;
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
}
