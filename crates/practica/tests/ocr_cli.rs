//! `practica ocr IMAGE`: the built-in reading printed as `{"exercises": [...]}`; unreadable files
//! exit 1 with the reason.

use std::io::Cursor;
use std::process::Command;

use image::{GrayImage, ImageFormat, Luma};
use serde_json::Value;

fn run(path: &std::path::Path, extra: &[&str]) -> (i32, Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_practica"))
        .arg("ocr")
        .arg(path)
        .args(extra)
        .output()
        .expect("run practica");
    (
        out.status.code().unwrap_or(-1),
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn prints_the_exercises_of_a_photo() {
    let dir = std::env::temp_dir().join(format!("practica-ocr-cli-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let page = dir.join("page.png");
    let mut png = Cursor::new(Vec::new());
    image::DynamicImage::ImageLuma8(GrayImage::from_pixel(400, 300, Luma([235])))
        .write_to(&mut png, ImageFormat::Png)
        .unwrap();
    std::fs::write(&page, png.into_inner()).unwrap();
    let (code, out, _) = run(&page, &[]);
    assert_eq!(code, 0);
    assert_eq!(
        out["exercises"],
        serde_json::json!([]),
        "a blank page holds no exercise"
    );

    let (code, _, err) = run(&page, &["--max-pixels", "1000"]);
    assert_eq!(code, 1);
    assert!(err.contains("pixels"), "{err}");

    let text = dir.join("notes.txt");
    std::fs::write(&text, "not an image").unwrap();
    let (code, _, err) = run(&text, &[]);
    assert_eq!(code, 1);
    assert!(err.contains("PNG or JPEG"), "{err}");
    let (code, _, _) = run(&dir.join("missing.png"), &[]);
    assert_ne!(code, 0);
    let _ = std::fs::remove_dir_all(&dir);
}
