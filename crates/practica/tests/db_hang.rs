//! A database that hangs rather than refusing connections (a network partition: bytes neither
//! delivered nor refused), emulated by a TCP proxy between the service and PostgreSQL that stops
//! forwarding. A request held by it is answered 503 at `request_timeout_secs`, not after TCP
//! gives up; what does not touch the database is not held; once the partition heals the
//! service serves again by itself, and a retry with the same `Idempotency-Key` makes one
//! attempt, whether or not the cut request had committed.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::{TestApp, assert_error_shape, backends, spec_example};
use practica::storage::Role;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// A proxy to `upstream`; sending `true` on the returned sender partitions it (every
/// connection, open or new, stops forwarding), `false` heals it.
async fn partition_proxy(upstream: SocketAddr) -> (SocketAddr, watch::Sender<bool>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (partitioned, watching) = watch::channel(false);
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let Ok(server) = TcpStream::connect(upstream).await else {
                continue;
            };
            let (client_read, client_write) = client.into_split();
            let (server_read, server_write) = server.into_split();
            tokio::spawn(pump(client_read, server_write, watching.clone()));
            tokio::spawn(pump(server_read, client_write, watching.clone()));
        }
    });
    (addr, partitioned)
}

/// Copies `from` to `to`, holding what it read while partitioned.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut partitioned: watch::Receiver<bool>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if partitioned.wait_for(|p| !*p).await.is_err() || to.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_database_is_a_503_at_the_request_timeout_and_service_resumes() {
    if !backends().contains(&common::Backend::Postgres) {
        return;
    }
    let direct = common::fresh_postgres_database().await;
    let mut url = reqwest::Url::parse(&direct).unwrap();
    let upstream: SocketAddr = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap_or(5432))
        .parse()
        .expect("PRACTICA_TEST_POSTGRES_URL with a numeric host");
    let (proxy, partition) = partition_proxy(upstream).await;
    url.set_host(Some(&proxy.ip().to_string())).unwrap();
    url.set_port(Some(proxy.port())).unwrap();
    let via_proxy = url.to_string();
    let app = TestApp::spawn_with(common::Backend::Postgres, move |c| {
        c.database_url = Some(via_proxy);
        c.request_timeout_secs = 2;
    })
    .await;
    let token = app.token("stu_hang", Role::Student);
    let post = |key: &'static str| {
        app.http
            .post(app.url("/attempts"))
            .bearer_auth(&token)
            .header("idempotency-key", key)
            .json(&spec_example("stu_hang"))
            .send()
    };
    assert_eq!(post("before").await.unwrap().status(), 201);

    partition.send(true).unwrap();
    let started = Instant::now();
    let r = post("during").await.unwrap();
    let cut_after = started.elapsed();
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, 503, "{body}");
    assert_error_shape(&body, 503);
    assert_eq!(body["code"], "UNAVAILABLE");
    assert!(
        (Duration::from_millis(1900)..Duration::from_secs(5)).contains(&cut_after),
        "cut after {cut_after:?}, the request timeout being 2 s"
    );
    // /readyz asks the database: cut the same way. /healthz does not: not held.
    let r = app.http.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(r.status(), 503);
    let started = Instant::now();
    let r = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(started.elapsed() < Duration::from_secs(1), "{:?}", started.elapsed());

    partition.send(false).unwrap();
    let healed = Instant::now();
    let status = loop {
        let status = post("during").await.unwrap().status().as_u16();
        if status == 201 || healed.elapsed() > Duration::from_secs(15) {
            break status;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(status, 201, "the retry after the partition healed");
    eprintln!(
        "request cut after {} ms; the retry's 201 {} ms after the partition healed",
        cut_after.as_millis(),
        healed.elapsed().as_millis()
    );

    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(&direct).await.unwrap();
    let (n,): (i64,) = sqlx::query_as("SELECT count(*) FROM attempt WHERE student_id = 'stu_hang'")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(n, 2, "one attempt before the partition, one for the key used during it");
}
