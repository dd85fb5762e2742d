//! `practica migrate`: applies the migrations (forward only) and lists them; running it again
//! changes nothing.

use std::process::Command;

#[test]
fn migrate_applies_and_lists_the_migrations() {
    let dir = std::env::temp_dir().join(format!("practica-migrate-{}", std::process::id()));
    for _ in 0..2 {
        let out = Command::new(env!("CARGO_BIN_EXE_practica"))
            .args(["migrate", "--data-dir"])
            .arg(&dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.starts_with("0001 "), "{text}");
        assert!(text.contains("simulation attempts"), "{text}");
        assert!(text.trim_end().ends_with("sqlite: up to date"), "{text}");
    }
    let _ = std::fs::remove_dir_all(dir);
}
