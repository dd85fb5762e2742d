//! `POST /api/v5/uploads` and `GET /api/v5/uploads/:upload_id`: files stored and fetched back by
//! their sender, in whole or by HTTP Range; on SQLite and PostgreSQL.

mod common;

use common::{Backend, TestApp, assert_error_shape, backends};
use practica::storage::Role;
use serde_json::Value;

async fn upload(app: &TestApp, token: &str, bytes: Vec<u8>, name: &str, mcp: bool) -> (u16, Value) {
    let part = reqwest::multipart::Part::bytes(bytes)
        .file_name(name.to_string())
        .mime_str("audio/wav")
        .unwrap();
    let mut req = app
        .http
        .post(app.url("/api/v5/uploads"))
        .bearer_auth(token)
        .multipart(reqwest::multipart::Form::new().part("file", part));
    if mcp {
        req = req.header("X-MCP", "true");
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_go_up_and_come_back_whole_or_by_range() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let token = app.token("stu_u", Role::Student);
        let bytes: Vec<u8> = (0..=255u8).cycle().take(1_000).collect();
        let (status, up) = upload(&app, &token, bytes.clone(), "../../etc/frame 1.wav", true).await;
        assert_eq!(status, 201, "{up}");
        assert_eq!(up["file_name"], "frame 1.wav", "no directories kept");
        assert_eq!(up["byte_len"], 1_000);
        assert_eq!(up["mime_type"], "audio/wav");
        let id = up["upload_id"].as_str().unwrap().to_string();
        let stored = app
            .state
            .store
            .upload(uuid::Uuid::parse_str(&id).unwrap())
            .await
            .unwrap()
            .unwrap();
        assert!(stored.via_agent, "X-MCP marks the row");
        assert_eq!(stored.kind, "file");

        let get = |range: Option<&'static str>| {
            let mut req = app
                .http
                .get(app.url(&format!("/api/v5/uploads/{id}")))
                .bearer_auth(&token);
            if let Some(r) = range {
                req = req.header("range", r);
            }
            req.send()
        };
        let whole = get(None).await.unwrap();
        assert_eq!(whole.status(), 200);
        assert_eq!(whole.headers()["accept-ranges"], "bytes");
        assert_eq!(whole.headers()["content-type"], "audio/wav");
        assert!(
            whole.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .contains("frame%201.wav")
        );
        assert_eq!(whole.bytes().await.unwrap().as_ref(), bytes.as_slice());
        for (range, want, content_range) in [
            ("bytes=2-5", &bytes[2..6], "bytes 2-5/1000"),
            ("bytes=990-", &bytes[990..], "bytes 990-999/1000"),
            ("bytes=-3", &bytes[997..], "bytes 997-999/1000"),
            ("bytes=995-5000", &bytes[995..], "bytes 995-999/1000"),
        ] {
            let r = get(Some(range)).await.unwrap();
            assert_eq!(r.status(), 206, "{range}");
            assert_eq!(r.headers()["content-range"], content_range, "{range}");
            assert_eq!(r.bytes().await.unwrap().as_ref(), want, "{range}");
        }
        for range in ["bytes=1000-", "bytes=5-2", "bytes=-0", "bytes=x-y"] {
            let r = get(Some(range)).await.unwrap();
            assert_eq!(r.status(), 416, "{range}");
            assert_error_shape(&r.json().await.unwrap(), 416);
        }

        // Only its sender (or an admin) reads it; unknown ids are 404.
        let other = app.token("stu_v", Role::Student);
        let r = app
            .http
            .get(app.url(&format!("/api/v5/uploads/{id}")))
            .bearer_auth(&other)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        let admin = app.token("adm", Role::Admin);
        let r = app
            .http
            .get(app.url(&format!("/api/v5/uploads/{id}")))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let r = app
            .http
            .get(app.url(&format!("/api/v5/uploads/{}", uuid::Uuid::now_v7())))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_uploads_are_refused() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let token = app.token("stu_u", Role::Student);
    let (status, body) = upload(&app, &token, Vec::new(), "empty.wav", false).await;
    assert_eq!(status, 422, "{body}");
    assert_error_shape(&body, 422);
    let r = app
        .http
        .post(app.url("/api/v5/uploads"))
        .bearer_auth(&token)
        .multipart(reqwest::multipart::Form::new().part("other", reqwest::multipart::Part::bytes(vec![1, 2, 3])))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let (status, body) = upload(&app, &token, vec![7u8; 26 << 20], "big.wav", false).await;
    assert_eq!(status, 413, "{body}");
    // A fresh connection: the server closes the one it refused a too-large body on, and a
    // pooled client may not have seen that yet (a broken pipe, not an answer).
    let r = reqwest::Client::new()
        .post(app.url("/api/v5/uploads"))
        .multipart(reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(vec![1])))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}
