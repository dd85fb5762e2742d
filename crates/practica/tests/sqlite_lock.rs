//! One `serve` per SQLite file: a second process on the same data dir is refused with a clear
//! message (two would each relay the outbox), while commands that only read or add rows (`token`,
//! `api-key`) still run beside it; the lock goes with the process, however it ends.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn practica() -> Command {
    Command::new(env!("CARGO_BIN_EXE_practica"))
}

/// `practica serve` on `dir`, once it says it listens.
fn serve(dir: &std::path::Path) -> Child {
    let mut child = practica()
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let listening = lines
        .by_ref()
        .map_while(Result::ok)
        .any(|l| l.starts_with("practica listening"));
    assert!(listening, "the first serve did not start");
    // Keep reading its log so that it never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    child
}

#[test]
fn a_second_serve_on_one_sqlite_file_is_refused() {
    let dir = std::env::temp_dir().join(format!("practica-lock-{}", std::process::id()));
    let mut first = serve(&dir);

    let started = Instant::now();
    let second = practica()
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(!second.status.success());
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(err.contains("another practica process is serving"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(10));
    let worker = practica().args(["worker", "--data-dir"]).arg(&dir).output().unwrap();
    assert!(!worker.status.success(), "a worker on the same file too");
    let err = String::from_utf8_lossy(&worker.stderr);
    assert!(err.contains("another practica process is serving"), "{err}");

    // Commands that do not relay run beside it.
    let token = practica()
        .args(["token", "--sub", "adm", "--role", "admin", "--data-dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(token.status.success(), "{}", String::from_utf8_lossy(&token.stderr));

    // Killed outright, the first leaves no lock behind.
    first.kill().unwrap();
    first.wait().unwrap();
    let mut again = serve(&dir);
    again.kill().unwrap();
    again.wait().unwrap();
    let _ = std::fs::remove_dir_all(dir);
}
