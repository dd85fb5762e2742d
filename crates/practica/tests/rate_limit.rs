//! Rate limits over real HTTP: per client IP (the peer address, or `X-Forwarded-For` when a
//! proxy is trusted) and per credential (an API key, or the caller a token authenticated as).
//! Over the burst: 429 with `Retry-After` and the JSON error body; the budget comes back after
//! the period; other clients and keys are not affected; health and metrics are never limited;
//! and none of it is on unless configured.
//!
//! Limits are 1 request a second with a small burst, so "after the burst" is a few requests
//! made within milliseconds and "after the period" a sleep of `Retry-After` seconds.

mod common;

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use common::{Backend, TestApp, assert_error_shape};
use practica::config::Config;
use practica::storage::Role;
use reqwest::RequestBuilder;
use serde_json::Value;

const BURST: u32 = 3;

async fn spawn(adjust: impl FnOnce(&mut Config)) -> TestApp {
    TestApp::spawn_with(Backend::Sqlite, adjust).await
}

/// A client whose connections come from `ip` (any 127.x address is this host's loopback).
fn client_from(ip: [u8; 4]) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::V4(Ipv4Addr::from(ip)))
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// Sends `request`; status, `Retry-After`, body.
async fn send(request: RequestBuilder) -> (u16, Option<String>, Value) {
    let r = request.send().await.unwrap();
    let status = r.status().as_u16();
    let retry_after = r.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string());
    (status, retry_after, r.json().await.unwrap_or(Value::Null))
}

/// A 429 as specified: `Retry-After` a whole number of seconds, at least 1; the JSON error body
/// with code `RATE_LIMITED`. The seconds.
fn assert_limited(what: &str, (status, retry_after, body): &(u16, Option<String>, Value)) -> u64 {
    assert_eq!(*status, 429, "{what}: {status} {body}");
    assert_error_shape(body, 429);
    assert_eq!(body["code"], "RATE_LIMITED", "{what}: {body}");
    let secs: u64 = retry_after
        .as_deref()
        .unwrap_or_else(|| panic!("{what}: 429 without Retry-After"))
        .parse()
        .unwrap_or_else(|_| panic!("{what}: Retry-After {retry_after:?} is not whole seconds"));
    assert!(secs >= 1, "{what}: Retry-After {secs}");
    secs
}

/// Spends a budget of `BURST` with `request()`: the first `BURST` requests are not limited, and
/// one of the next few is (a slow machine may earn back one request while sending). The 429.
async fn exhaust(what: &str, request: impl Fn() -> RequestBuilder) -> (u16, Option<String>, Value) {
    for i in 0..BURST {
        let (status, _, body) = send(request()).await;
        assert_ne!(
            status,
            429,
            "{what}: request {} of a burst of {BURST} was limited: {body}",
            i + 1
        );
    }
    for _ in 0..3 {
        let answer = send(request()).await;
        if answer.0 == 429 {
            return answer;
        }
    }
    panic!("{what}: never limited after a burst of {BURST}");
}

/// Waits out a `Retry-After`.
async fn wait(secs: u64) {
    tokio::time::sleep(Duration::from_secs(secs) + Duration::from_millis(100)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_limits_unless_configured() {
    let defaults = Config::default();
    assert_eq!(
        (
            defaults.rate_limit_per_ip_per_sec,
            defaults.rate_limit_per_key_per_sec,
            defaults.trust_forwarded_for
        ),
        (0, 0, false)
    );
    let app = spawn(|_| {}).await;
    let token = app.token("stu_r", Role::Student);
    for i in 0..200 {
        let (status, _, body) = send(app.http.get(app.url("/catalog/topics")).bearer_auth(&token)).await;
        assert_eq!(status, 200, "request {i}: {body}");
    }
    let burst =
        futures::future::join_all((0..64).map(|_| send(app.http.get(app.url("/catalog/topics")).bearer_auth(&token))))
            .await;
    assert!(burst.iter().all(|(s, _, _)| *s == 200), "{burst:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_ip_limit() {
    let app = spawn(|c| {
        c.rate_limit_per_ip_per_sec = 1;
        c.rate_limit_per_ip_burst = BURST;
    })
    .await;
    let a = client_from([127, 0, 0, 11]);
    let b = client_from([127, 0, 0, 12]);
    let topics = |client: &reqwest::Client, token: &str| client.get(app.url("/catalog/topics")).bearer_auth(token);

    // Every request of one address counts, whatever its credentials (none, or another caller's).
    let tokens = ["stu_1", "stu_2", "stu_3", "stu_4", "stu_5", "stu_6"].map(|s| app.token(s, Role::Student));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let limited = exhaust("per IP, a token per request", || {
        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        topics(&a, &tokens[i % tokens.len()])
    })
    .await;
    let secs = assert_limited("per IP", &limited);
    assert_limited("per IP, no credentials", &send(a.get(app.url("/catalog/topics"))).await);
    assert_limited(
        "per IP, a write",
        &send(
            a.post(app.url("/attempts"))
                .bearer_auth(&tokens[0])
                .json(&common::spec_example("stu_1")),
        )
        .await,
    );

    // Health and metrics answer regardless.
    for path in ["/healthz", "/readyz", "/metrics"] {
        let (status, _, _) = send(a.get(app.url(path))).await;
        assert_eq!(status, 200, "{path} while the address is limited");
    }
    // Another address has its own budget.
    assert_eq!(send(topics(&b, &tokens[0])).await.0, 200, "another address");

    // Without a trusted proxy, X-Forwarded-For is the client's word and changes nothing.
    let spoofed = send(topics(&a, &tokens[0]).header("x-forwarded-for", "203.0.113.77")).await;
    assert_limited("X-Forwarded-For not trusted", &spoofed);

    // The budget comes back after the period.
    wait(secs).await;
    assert_eq!(send(topics(&a, &tokens[0])).await.0, 200, "after Retry-After");

    let metrics = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("practica_rate_limited_total{scope=\"ip\"}"),
        "{}",
        metrics
            .lines()
            .filter(|l| l.contains("rate_limited"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_ip_limit_behind_a_trusted_proxy() {
    let app = spawn(|c| {
        c.rate_limit_per_ip_per_sec = 1;
        c.rate_limit_per_ip_burst = BURST;
        c.trust_forwarded_for = true;
    })
    .await;
    let token = app.token("stu_p", Role::Student);
    // The proxy's connections all come from one address; the clients are told apart by the
    // address the proxy appended (the rightmost), not by what a client put before it.
    let via_proxy = |xff: &str| {
        app.http
            .get(app.url("/catalog/topics"))
            .bearer_auth(&token)
            .header("x-forwarded-for", xff.to_string())
    };
    let limited = exhaust("client 198.51.100.1 via the proxy", || via_proxy("198.51.100.1")).await;
    let secs = assert_limited("via the proxy", &limited);
    assert_limited(
        "a spoofed leftmost entry",
        &send(via_proxy("203.0.113.5, 198.51.100.1")).await,
    );
    assert_eq!(
        send(via_proxy("198.51.100.2")).await.0,
        200,
        "another client of the proxy"
    );
    assert_eq!(
        send(via_proxy("198.51.100.1, 198.51.100.3")).await.0,
        200,
        "another client, whatever it claimed before"
    );
    // A request without the header counts under the proxy's own address.
    assert_eq!(
        send(app.http.get(app.url("/catalog/topics")).bearer_auth(&token))
            .await
            .0,
        200
    );
    wait(secs).await;
    assert_eq!(send(via_proxy("198.51.100.1")).await.0, 200, "after Retry-After");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_key_limit() {
    let app = spawn(|c| {
        c.rate_limit_per_key_per_sec = 1;
        c.rate_limit_per_key_burst = BURST;
    })
    .await;
    let topics = || app.http.get(app.url("/catalog/topics"));
    let alice = app.token("stu_alice", Role::Student);
    let bob = app.token("stu_bob", Role::Student);
    let (key, record) = practica::auth::new_api_key("bot-1", Role::Agent, "agent:bot-1");
    app.state.store.create_api_key(&record).await.unwrap();
    let (other_key, record) = practica::auth::new_api_key("bot-2", Role::Agent, "agent:bot-2");
    app.state.store.create_api_key(&record).await.unwrap();

    // Forged tokens naming Bob (no valid signature) do not spend Bob's budget.
    for i in 0..10 {
        let forged = format!("{}x{i}", &bob[..bob.len() - 2]);
        let (status, _, body) = send(topics().bearer_auth(&forged)).await;
        assert!(matches!(status, 401 | 429), "{status} {body}");
    }

    // Alice spends hers; the same address is not limited for anyone else.
    let limited = exhaust("Alice's token", || topics().bearer_auth(&alice)).await;
    let secs = assert_limited("Alice", &limited);
    assert_limited(
        "Alice, a write",
        &send(
            app.http
                .post(app.url("/attempts"))
                .bearer_auth(&alice)
                .json(&common::spec_example("stu_alice")),
        )
        .await,
    );
    for _ in 0..BURST {
        assert_eq!(send(topics().bearer_auth(&bob)).await.0, 200, "Bob has his own budget");
    }
    assert_eq!(
        send(topics().header("x-api-key", &key)).await.0,
        200,
        "an API key has its own"
    );
    // Another token of Alice's (issued later, so another string) shares her budget once it has
    // authenticated.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let alice_again = practica::auth::issue_token(
        &practica::auth::load_or_create_secret(&app.data_dir).unwrap(),
        "stu_alice",
        Role::Student,
        Duration::from_secs(7200),
    )
    .unwrap();
    assert_ne!(alice_again, alice);
    // (The wait earned Alice a request or two back: spend them.)
    let mut spent = false;
    for _ in 0..5 {
        if send(topics().bearer_auth(&alice)).await.0 == 429 {
            spent = true;
            break;
        }
    }
    assert!(spent, "Alice's budget never ran out again");
    let first = send(topics().bearer_auth(&alice_again)).await;
    assert_ne!(first.0, 500);
    assert_limited("Alice's second token", &send(topics().bearer_auth(&alice_again)).await);

    // API keys: one key spent, the other untouched.
    let limited = exhaust("API key bot-1", || topics().header("x-api-key", &key)).await;
    assert_limited("bot-1", &limited);
    assert_eq!(send(topics().header("x-api-key", &other_key)).await.0, 200, "bot-2");
    assert_eq!(
        send(app.http.get(app.url("/healthz")).header("x-api-key", &key))
            .await
            .0,
        200
    );

    // The budgets come back after the period (Alice's for both her tokens).
    wait(secs).await;
    assert_eq!(
        send(topics().bearer_auth(&alice_again)).await.0,
        200,
        "Alice after Retry-After"
    );
    assert_eq!(
        send(topics().header("x-api-key", &key)).await.0,
        200,
        "bot-1 after Retry-After"
    );

    let metrics = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("practica_rate_limited_total{scope=\"key\"}"));
}
