//! Hostile credentials over real HTTP: tokens that are expired, not yet valid, for another
//! audience or issuer, unsigned, signed with the wrong key or algorithm, tampered with after
//! signing, or for an unknown key; garbage, empty and oversized `Authorization` headers; revoked
//! and malformed API keys. Every one is a 401 with the JSON error body (never a 500), and none of
//! them writes anything: the database's row counts are the same before and after.
//!
//! The service's own HS256 tokens are tried on a service without an identity provider and on one
//! that trusts a JWKS (the test-only keys of `tests/data`, as in `auth_jwks.rs`).

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::http::header;
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{Backend, TestApp, assert_error_shape, spec_example};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use practica::storage::Role;
use reqwest::header::{HeaderName, HeaderValue};
use serde_json::{Value, json};

const AUDIENCE: &str = "practica-tests";
const ISSUER: &str = "https://idp.test/";

// Test-only keys (see tests/data/README.md): they protect nothing.
const TEST_RSA_1: &[u8] = include_bytes!("data/test-only-rsa-1.pem");
const TEST_RSA_1_PUBLIC: &[u8] = include_bytes!("data/test-only-rsa-1.pub.pem");
const TEST_EC_1: &[u8] = include_bytes!("data/test-only-ec-1.pem");
const TEST_RSA_ROGUE: &[u8] = include_bytes!("data/test-only-rsa-rogue.pem");
const TEST_JWKS: &str = include_str!("data/test-only-jwks.json");

/// Serves the test JWKS; its URL.
async fn jwks_server() -> String {
    let router = Router::new().route(
        "/.well-known/jwks.json",
        get(|| async { ([(header::CONTENT_TYPE, "application/json")], TEST_JWKS) }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/.well-known/jwks.json", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    url
}

/// The service, trusting the JWKS at `jwks_url` (when given) for `AUDIENCE` from `ISSUER`.
async fn spawn_app(jwks_url: Option<String>) -> TestApp {
    TestApp::spawn_with(Backend::Sqlite, move |config| {
        if let Some(url) = jwks_url {
            config.jwks_url = Some(url);
            config.jwt_audience = Some(AUDIENCE.into());
            config.jwt_issuer = Some(ISSUER.into());
        }
    })
    .await
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
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

/// An unsecured JWT (`alg: none`, empty signature).
fn unsigned(alg: &str, kid: Option<&str>, claims: &Value) -> String {
    let mut header = json!({"alg": alg, "typ": "JWT"});
    if let Some(kid) = kid {
        header["kid"] = json!(kid);
    }
    format!(
        "{}.{}.",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    )
}

/// `token` with its payload replaced by `claims`, header and signature kept.
fn with_payload(token: &str, claims: &Value) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    format!("{}.{}.{}", parts[0], b64(claims.to_string().as_bytes()), parts[2])
}

/// `token` with one byte of its signature changed.
fn with_bad_signature(token: &str) -> String {
    let (signed, signature) = token.rsplit_once('.').unwrap();
    let mut sig = URL_SAFE_NO_PAD.decode(signature).unwrap();
    let middle = sig.len() / 2;
    sig[middle] ^= 0x01;
    format!("{signed}.{}", b64(&sig))
}

/// What one hostile request carries.
#[derive(Clone)]
enum Cred {
    Bearer(String),
    /// A raw `Authorization` value.
    Authorization(Vec<u8>),
    ApiKey(Vec<u8>),
}

/// A request with `cred` to `method path` (POST bodies are the spec's example attempt, with an
/// idempotency key); its status and body.
async fn send(app: &TestApp, method: reqwest::Method, path: &str, cred: &Cred) -> (u16, Value) {
    let mut request = app.http.request(method.clone(), app.url(path));
    request = match cred {
        Cred::Bearer(token) => request.bearer_auth(token),
        Cred::Authorization(raw) => request.header(header::AUTHORIZATION, HeaderValue::from_bytes(raw).unwrap()),
        Cred::ApiKey(raw) => request.header(
            HeaderName::from_static("x-api-key"),
            HeaderValue::from_bytes(raw).unwrap(),
        ),
    };
    if method == reqwest::Method::POST {
        request = request
            .header("idempotency-key", format!("hostile-{}", uuid::Uuid::new_v4()))
            .json(&spec_example("stu_h"));
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// A body for an assertion message, cut short.
fn excerpt(body: &Value) -> String {
    body.to_string().chars().take(300).collect()
}

/// What is wrong with the answers to a read and a write with `cred`, if anything: each must be
/// a 401 with the JSON error body.
async fn refusal_problems(app: &TestApp, what: &str, cred: &Cred) -> Vec<String> {
    let mut problems = Vec::new();
    for (method, path) in [
        (reqwest::Method::GET, "/catalog/topics"),
        (reqwest::Method::POST, "/attempts"),
    ] {
        let (status, body) = send(app, method.clone(), path, cred).await;
        let shaped = body["statusCode"] == 401
            && body["code"] == "UNAUTHORIZED"
            && body["message"].is_string()
            && body["traceId"].as_str().is_some_and(|t| !t.is_empty());
        if status != 401 || !shaped {
            problems.push(format!("{what}: {method} {path} answered {status} {}", excerpt(&body)));
        }
    }
    problems
}

/// A read and a write with `cred` succeed (the positive control of each case list).
async fn assert_accepted(app: &TestApp, what: &str, cred: &Cred) {
    let (status, body) = send(app, reqwest::Method::GET, "/catalog/topics", cred).await;
    assert_eq!(status, 200, "{what}: {}", excerpt(&body));
    let (status, body) = send(app, reqwest::Method::POST, "/attempts", cred).await;
    assert_eq!(status, 201, "{what}: {}", excerpt(&body));
}

/// Rows in every table of the service's SQLite database.
async fn row_counts(app: &TestApp) -> Vec<(String, i64)> {
    use sqlx::{Connection, Row};
    let path = app.data_dir.join("practica.db");
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}?mode=ro", path.display()))
        .await
        .expect("open the database read-only");
    let tables: Vec<String> =
        sqlx::query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
            .fetch_all(&mut conn)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.get::<String, _>(0))
            .collect();
    let mut counts = Vec::new();
    for table in tables {
        // The names come from sqlite_master, not from input.
        let n: i64 = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM \"{table}\"")))
            .fetch_one(&mut conn)
            .await
            .unwrap()
            .get(0);
        counts.push((table, n));
    }
    counts
}

/// Every case is refused (all are tried, and every one that is not is reported), and the
/// database holds the same rows afterwards.
async fn assert_all_refused_writing_nothing(app: &TestApp, cases: &[(&str, Cred)]) {
    let before = row_counts(app).await;
    let mut problems = Vec::new();
    for (what, cred) in cases {
        problems.extend(refusal_problems(app, what, cred).await);
    }
    assert!(
        problems.is_empty(),
        "{} refusals went wrong:\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert_eq!(row_counts(app).await, before, "a refused request wrote something");
}

/// Self-issued claims: the service's audience and issuer, ten minutes to live. `nobody_h` has
/// no profile, so the token's `role` claim is what the service would go by.
fn own_claims() -> Value {
    json!({"sub": "nobody_h", "role": "student", "aud": "practica", "iss": "practica",
           "iat": now(), "exp": now() + 600})
}

/// The hostile variants of the service's own HS256 tokens (signed with `secret`).
fn hostile_own_tokens(secret: &[u8]) -> Vec<(&'static str, Cred)> {
    let own = EncodingKey::from_secret(secret);
    let hs = |claims: Value| sign(Algorithm::HS256, None, &own, &claims);
    let c = own_claims;
    let genuine = hs(c());
    let random: [u8; 32] = rand::random();
    let bearer = |s: String| Cred::Bearer(s);
    vec![
        (
            "expired an hour ago",
            bearer(hs(merged(c(), json!({"iat": now() - 7200, "exp": now() - 3600})))),
        ),
        (
            "expired past the leeway",
            bearer(hs(merged(c(), json!({"exp": now() - 120})))),
        ),
        (
            "not valid for another hour (nbf)",
            bearer(hs(merged(c(), json!({"nbf": now() + 3600})))),
        ),
        ("nbf not a number", bearer(hs(merged(c(), json!({"nbf": "soon"}))))),
        ("no expiry", bearer(hs(merged(c(), json!({"exp": null}))))),
        ("exp not a number", bearer(hs(merged(c(), json!({"exp": "never"}))))),
        (
            "wrong audience",
            bearer(hs(merged(c(), json!({"aud": "another-service"})))),
        ),
        ("no audience", bearer(hs(merged(c(), json!({"aud": null}))))),
        (
            "wrong issuer",
            bearer(hs(merged(c(), json!({"iss": "https://evil.test/"})))),
        ),
        ("no issuer", bearer(hs(merged(c(), json!({"iss": null}))))),
        ("no subject", bearer(hs(merged(c(), json!({"sub": null}))))),
        ("empty subject", bearer(hs(merged(c(), json!({"sub": ""}))))),
        (
            "subject too long",
            bearer(hs(merged(c(), json!({"sub": "s".repeat(200)})))),
        ),
        (
            "alg none",
            bearer(unsigned("none", None, &merged(c(), json!({"role": "admin"})))),
        ),
        ("alg None", bearer(unsigned("None", None, &c()))),
        ("alg NONE", bearer(unsigned("NONE", None, &c()))),
        (
            "alg HS256 with the signature left off",
            bearer(unsigned("HS256", None, &merged(c(), json!({"role": "admin"})))),
        ),
        (
            "HS256 with a random secret",
            bearer(sign(
                Algorithm::HS256,
                None,
                &EncodingKey::from_secret(&random),
                &merged(c(), json!({"role": "admin"})),
            )),
        ),
        (
            "HS256 with an empty secret",
            bearer(sign(Algorithm::HS256, None, &EncodingKey::from_secret(b""), &c())),
        ),
        (
            "HS512 with the service's own secret",
            bearer(sign(Algorithm::HS512, None, &own, &c())),
        ),
        (
            "payload changed (role student → admin), signature kept",
            bearer(with_payload(&genuine, &merged(c(), json!({"role": "admin"})))),
        ),
        (
            "payload changed (subject), signature kept",
            bearer(with_payload(&genuine, &merged(c(), json!({"sub": "adm_h"})))),
        ),
        ("signature changed", bearer(with_bad_signature(&genuine))),
        (
            "signature of another token",
            bearer(with_payload(
                &hs(merged(c(), json!({"sub": "other"}))),
                &merged(c(), json!({"role": "admin"})),
            )),
        ),
        (
            "signature cut off",
            bearer(genuine.rsplit_once('.').unwrap().0.to_string()),
        ),
        (
            "signature empty",
            bearer(format!("{}.", genuine.rsplit_once('.').unwrap().0)),
        ),
        ("an extra segment", bearer(format!("{genuine}.{}", b64(b"more")))),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_self_issued_tokens_are_401_and_write_nothing() {
    let app = spawn_app(None).await;
    let secret = practica::auth::load_or_create_secret(&app.data_dir).unwrap();
    let genuine = Cred::Bearer(sign(
        Algorithm::HS256,
        None,
        &EncodingKey::from_secret(&secret),
        &merged(own_claims(), json!({"sub": "stu_h"})),
    ));
    assert_accepted(&app, "a genuine self-issued token", &genuine).await;
    let already_valid = sign(
        Algorithm::HS256,
        None,
        &EncodingKey::from_secret(&secret),
        &merged(own_claims(), json!({"sub": "stu_h", "nbf": now() - 60})),
    );
    assert_accepted(
        &app,
        "a self-issued token whose nbf has passed",
        &Cred::Bearer(already_valid),
    )
    .await;

    let mut cases = hostile_own_tokens(&secret);
    // No identity provider is configured: its algorithms are refused too.
    let provider = json!({"sub": "stu_h", "aud": AUDIENCE, "iss": ISSUER, "exp": now() + 600});
    cases.push((
        "RS256 without an identity provider",
        Cred::Bearer(sign(
            Algorithm::RS256,
            Some("rsa-1"),
            &EncodingKey::from_rsa_pem(TEST_RSA_1).unwrap(),
            &provider,
        )),
    ));
    cases.push((
        "HS256 keyed with an RSA public key, no identity provider",
        Cred::Bearer(sign(
            Algorithm::HS256,
            Some("rsa-1"),
            &EncodingKey::from_secret(TEST_RSA_1_PUBLIC),
            &provider,
        )),
    ));
    assert_all_refused_writing_nothing(&app, &cases).await;
    assert_accepted(&app, "the genuine token afterwards", &genuine).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_provider_tokens_are_401_and_write_nothing() {
    let app = spawn_app(Some(jwks_server().await)).await;
    let rsa = EncodingKey::from_rsa_pem(TEST_RSA_1).unwrap();
    let ec = EncodingKey::from_ec_pem(TEST_EC_1).unwrap();
    let c = || {
        json!({"sub": "ext_h", "aud": AUDIENCE, "iss": ISSUER, "iat": now(), "exp": now() + 600,
               "app_metadata": {"role": "student"}})
    };
    let rs256 = |claims: Value| sign(Algorithm::RS256, Some("rsa-1"), &rsa, &claims);
    let es256 = |claims: Value| sign(Algorithm::ES256, Some("ec-1"), &ec, &claims);
    // `ext_h` acts for `stu_h` only if it is an admin: the positive control posts for itself.
    let control = |claims: Value| merged(claims, json!({"sub": "stu_h"}));
    assert_accepted(&app, "a genuine RS256 token", &Cred::Bearer(rs256(control(c())))).await;
    assert_accepted(&app, "a genuine ES256 token", &Cred::Bearer(es256(control(c())))).await;
    let already_valid = rs256(merged(control(c()), json!({"nbf": now() - 60})));
    assert_accepted(&app, "a token whose nbf has passed", &Cred::Bearer(already_valid)).await;

    // The key-confusion secrets: the bytes an implementation that takes "the key" for an HMAC
    // secret would use — the PEM, its DER body, the JWK's modulus, the JWK and the set as JSON.
    let jwks: Value = serde_json::from_str(TEST_JWKS).unwrap();
    let jwk = jwks["keys"][0].clone();
    let pem = std::str::from_utf8(TEST_RSA_1_PUBLIC).unwrap();
    let der = base64::engine::general_purpose::STANDARD
        .decode(pem.lines().filter(|l| !l.starts_with("-----")).collect::<String>())
        .unwrap();
    let modulus = URL_SAFE_NO_PAD.decode(jwk["n"].as_str().unwrap()).unwrap();
    let confusion_secrets: Vec<(&str, Vec<u8>)> = vec![
        ("PEM", TEST_RSA_1_PUBLIC.to_vec()),
        ("PEM without its last newline", pem.trim_end().as_bytes().to_vec()),
        ("DER", der),
        ("JWK modulus", modulus),
        ("JWK JSON", jwk.to_string().into_bytes()),
        ("JWKS JSON", TEST_JWKS.as_bytes().to_vec()),
    ];
    let admin = merged(c(), json!({"app_metadata": {"role": "admin"}}));
    let mut cases: Vec<(String, Cred)> = Vec::new();
    for (what, secret) in &confusion_secrets {
        for (alg, kid) in [
            (Algorithm::HS256, Some("rsa-1")),
            (Algorithm::HS256, None),
            (Algorithm::HS384, Some("rsa-1")),
            (Algorithm::HS512, Some("rsa-1")),
        ] {
            let key = EncodingKey::from_secret(secret);
            cases.push((
                format!("{alg:?} keyed with the provider's public key ({what}), kid {kid:?}"),
                Cred::Bearer(sign(alg, kid, &key, &admin)),
            ));
        }
    }
    let genuine = rs256(c());
    let genuine_es = es256(c());
    let provider_cases: Vec<(&str, String)> = vec![
        (
            "expired",
            rs256(merged(c(), json!({"iat": now() - 7200, "exp": now() - 3600}))),
        ),
        (
            "expired (ES256)",
            es256(merged(c(), json!({"iat": now() - 7200, "exp": now() - 3600}))),
        ),
        (
            "not valid for another hour (nbf)",
            rs256(merged(c(), json!({"nbf": now() + 3600}))),
        ),
        (
            "not valid for another hour (nbf, ES256)",
            es256(merged(c(), json!({"nbf": now() + 3600}))),
        ),
        ("wrong audience", rs256(merged(c(), json!({"aud": "another-service"})))),
        (
            "the service's own audience",
            rs256(merged(c(), json!({"aud": "practica"}))),
        ),
        ("wrong issuer", rs256(merged(c(), json!({"iss": "https://evil.test/"})))),
        (
            "the service's own issuer",
            es256(merged(c(), json!({"iss": "practica"}))),
        ),
        ("alg none, kid rsa-1", unsigned("none", Some("rsa-1"), &admin)),
        ("alg none, no kid", unsigned("none", None, &admin)),
        (
            "alg RS256 with the signature left off",
            unsigned("RS256", Some("rsa-1"), &admin),
        ),
        (
            "payload changed (app_metadata.role student → admin), signature kept",
            with_payload(&genuine, &admin),
        ),
        (
            "payload changed (role → admin, ES256), signature kept",
            with_payload(&genuine_es, &admin),
        ),
        ("signature changed", with_bad_signature(&genuine)),
        ("signature changed (ES256)", with_bad_signature(&genuine_es)),
        ("unknown kid", sign(Algorithm::RS256, Some("nope"), &rsa, &c())),
        (
            "unknown kid, signed by a key the provider does not publish",
            sign(
                Algorithm::RS256,
                Some("rsa-rogue"),
                &EncodingKey::from_rsa_pem(TEST_RSA_ROGUE).unwrap(),
                &admin,
            ),
        ),
        ("an empty kid", sign(Algorithm::RS256, Some(""), &rsa, &c())),
        (
            "a kid of 10 000 bytes",
            sign(Algorithm::RS256, Some(&"k".repeat(10_000)), &rsa, &c()),
        ),
        ("no kid", sign(Algorithm::RS256, None, &rsa, &c())),
    ];
    cases.extend(
        provider_cases
            .into_iter()
            .map(|(what, token)| (what.to_string(), Cred::Bearer(token))),
    );
    // The service's own tokens keep all their checks when a provider is trusted too.
    let secret = practica::auth::load_or_create_secret(&app.data_dir).unwrap();
    cases.extend(
        hostile_own_tokens(&secret)
            .into_iter()
            .map(|(what, cred)| (format!("self-issued: {what}"), cred)),
    );
    let cases: Vec<(&str, Cred)> = cases.iter().map(|(w, c)| (w.as_str(), c.clone())).collect();
    assert_all_refused_writing_nothing(&app, &cases).await;
    assert_accepted(&app, "the genuine token afterwards", &Cred::Bearer(rs256(control(c())))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_headers_and_api_keys_are_401_and_write_nothing() {
    let app = spawn_app(None).await;
    let (key, record) = practica::auth::new_api_key("hostile-bot", Role::Agent, "agent:hostile");
    app.state.store.create_api_key(&record).await.unwrap();
    assert_accepted(&app, "a valid API key", &Cred::ApiKey(key.clone().into_bytes())).await;
    let (revoked, revoked_record) = practica::auth::new_api_key("revoked-bot", Role::Agent, "agent:revoked");
    app.state.store.create_api_key(&revoked_record).await.unwrap();
    assert_accepted(
        &app,
        "the key before it is revoked",
        &Cred::ApiKey(revoked.clone().into_bytes()),
    )
    .await;
    let revoked_now = app
        .state
        .store
        .revoke_api_key(&revoked_record.id, time::OffsetDateTime::now_utc())
        .await
        .unwrap();
    assert!(revoked_now);
    let genuine = TestApp::token(&app, "stu_h", Role::Student);
    let (id, secret) = key.strip_prefix("pk_").unwrap().split_once('.').unwrap();
    let raw = |s: &str| s.as_bytes().to_vec();
    let auth = |s: &str| Cred::Authorization(raw(s));
    let api = |s: &str| Cred::ApiKey(raw(s));
    let long_token = format!(
        "{}.{}.{}",
        b64(br#"{"alg":"HS256","typ":"JWT"}"#),
        b64(json!({"sub": "stu_h", "pad": "x".repeat(200_000)})
            .to_string()
            .as_bytes()),
        b64(&[0u8; 32])
    );
    let cases: Vec<(&str, Cred)> = vec![
        ("no credentials (empty Authorization)", auth("")),
        ("Authorization: Bearer", auth("Bearer")),
        ("Authorization: Bearer and spaces", auth("Bearer    ")),
        ("Authorization: Basic", auth("Basic dXNlcjpwYXNz")),
        ("Authorization: a bare token", auth(&genuine)),
        ("Authorization: Token scheme", auth(&format!("Token {genuine}"))),
        ("Authorization: garbage", auth("garbage")),
        ("Bearer garbage", auth("Bearer garbage")),
        ("Bearer with three dots", auth("Bearer ...")),
        ("Bearer with bad base64", auth("Bearer !!!.@@@.###")),
        (
            "Bearer with a JSON array header",
            auth(&format!("Bearer {}.{}.", b64(b"[]"), b64(b"{}"))),
        ),
        (
            "Bearer with a non-JSON payload",
            auth(&format!(
                "Bearer {}.{}.{}",
                b64(br#"{"alg":"HS256"}"#),
                b64(b"\xff\xfe"),
                b64(b"x")
            )),
        ),
        ("Bearer, two tokens", auth(&format!("Bearer {genuine} {genuine}"))),
        (
            "Bearer, non-ASCII bytes",
            Cred::Authorization(b"Bearer \xff\xfe\xfd".to_vec()),
        ),
        (
            "Bearer of 16 KiB of garbage",
            auth(&format!("Bearer {}", "a".repeat(16 * 1024))),
        ),
        ("Bearer of 200 KiB, JWT-shaped", auth(&format!("Bearer {long_token}"))),
        ("X-Api-Key empty", api("")),
        ("X-Api-Key garbage", api("garbage")),
        ("X-Api-Key pk_", api("pk_")),
        ("X-Api-Key pk_.", api("pk_.")),
        ("X-Api-Key without a secret", api(&format!("pk_{id}"))),
        ("X-Api-Key with an empty secret", api(&format!("pk_{id}."))),
        ("X-Api-Key without the prefix", api(&format!("{id}.{secret}"))),
        (
            "X-Api-Key with the wrong secret",
            api(&format!("pk_{id}.{}", "0".repeat(64))),
        ),
        (
            "X-Api-Key with a truncated secret",
            api(&format!("pk_{id}.{}", &secret[..63])),
        ),
        ("X-Api-Key with a longer secret", api(&format!("{key}0"))),
        (
            "X-Api-Key with the secret's hash",
            api(&format!("pk_{id}.{}", record.secret_hash)),
        ),
        (
            "X-Api-Key with an unknown id",
            api(&format!("pk_0011223344556677.{secret}")),
        ),
        ("X-Api-Key with quotes", api("pk_' OR '1'='1.' OR '1'='1")),
        ("X-Api-Key, non-ASCII bytes", Cred::ApiKey(b"pk_\xff.\xfe".to_vec())),
        (
            "X-Api-Key of 16 KiB",
            api(&format!("pk_{}.{secret}", "a".repeat(16 * 1024))),
        ),
        ("a revoked API key", api(&revoked)),
    ];
    assert_all_refused_writing_nothing(&app, &cases).await;

    // A request with a bad X-Api-Key and a good token is refused: the key is what was presented.
    let r = app
        .http
        .get(app.url("/catalog/topics"))
        .bearer_auth(&genuine)
        .header("x-api-key", "pk_nope.nope")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_error_shape(&r.json().await.unwrap(), 401);

    // Headers past what the HTTP server reads at all are refused before any handler, and
    // never with a 5xx.
    let huge = format!("Bearer {}", "a".repeat(1 << 20));
    match app
        .http
        .get(app.url("/catalog/topics"))
        .header(header::AUTHORIZATION, huge)
        .timeout(Duration::from_secs(10))
        .send()
        .await
    {
        Ok(r) => assert!(
            r.status().is_client_error(),
            "a 1 MiB Authorization header: {}",
            r.status()
        ),
        Err(e) => assert!(!e.is_timeout(), "a 1 MiB Authorization header: {e}"),
    }

    // The valid key and token still work afterwards.
    assert_accepted(&app, "the valid API key afterwards", &Cred::ApiKey(key.into_bytes())).await;
    assert_accepted(&app, "the genuine token afterwards", &Cred::Bearer(genuine)).await;
}
