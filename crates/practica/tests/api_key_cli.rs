//! `practica api-key create | list | revoke` against a running service's store: a revoked key is
//! refused from the next request on, revoking twice changes nothing, an unknown key is an error,
//! and the list never shows a secret.

mod common;

use std::process::Command;

use common::{TestApp, backends, spec_example};

/// Runs `practica api-key <args>` on the app's store; (success, stdout, stderr).
fn api_key(app: &TestApp, args: &[&str]) -> (bool, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_practica"));
    cmd.arg("api-key").args(args).arg("--data-dir").arg(&app.data_dir);
    if let Some(url) = &app.state.config.database_url {
        cmd.args(["--database-url", url]);
    }
    let out = cmd.output().unwrap();
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_key_is_refused_from_the_next_request() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (ok, key, err) = api_key(&app, &["create", "--name", "tutor-bot", "--role", "agent"]);
        assert!(ok, "{backend:?}: {err}");
        let key = key.trim().to_string();
        let (id, secret) = key.strip_prefix("pk_").unwrap().split_once('.').unwrap();
        let post = || {
            app.http
                .post(app.url("/attempts"))
                .header("x-api-key", &key)
                .json(&spec_example("stu_k"))
                .send()
        };
        assert_eq!(post().await.unwrap().status(), 201, "{backend:?}");

        let (ok, list, err) = api_key(&app, &["list"]);
        assert!(ok, "{err}");
        let lines: Vec<&str> = list.lines().collect();
        assert_eq!(lines[0], "id\tname\trole\towner\tcreated\trevoked");
        let row: Vec<&str> = lines[1].split('\t').collect();
        assert_eq!(
            (row[0], row[1], row[2], row[3], row[5]),
            (id, "tutor-bot", "agent", "key:tutor-bot", "-"),
            "{backend:?}: {list}"
        );
        assert!(!list.contains(secret), "the list shows no secret");

        let (ok, out, err) = api_key(&app, &["revoke", &key]);
        assert!(ok, "{err}");
        assert_eq!(out.trim(), format!("revoked {id}"));
        let r = post().await.unwrap();
        assert_eq!(r.status(), 401, "{backend:?}: a revoked key");
        common::assert_error_shape(&r.json().await.unwrap(), 401);

        let (ok, list, _) = api_key(&app, &["list"]);
        assert!(ok);
        let revoked_at = list.lines().nth(1).unwrap().split('\t').nth(5).unwrap().to_string();
        assert_ne!(revoked_at, "-");
        time::OffsetDateTime::parse(&revoked_at, &time::format_description::well_known::Rfc3339)
            .expect("an RFC 3339 time");

        // Again, by its id: nothing changes, not even the time.
        let (ok, out, err) = api_key(&app, &["revoke", id]);
        assert!(ok, "{err}");
        assert_eq!(out.trim(), format!("{id} was revoked already"));
        let (_, list, _) = api_key(&app, &["list"]);
        assert_eq!(list.lines().nth(1).unwrap().split('\t').nth(5).unwrap(), revoked_at);

        let (ok, _, err) = api_key(&app, &["revoke", "pk_0000000000000000"]);
        assert!(!ok);
        assert!(err.contains("no API key 0000000000000000"), "{err}");
    }
}
