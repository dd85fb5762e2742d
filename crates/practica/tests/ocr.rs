//! `POST /attempts/ocr-extract` end to end: photos checked by content and size, read, kept in
//! object storage and linked from the attempts made from them (signed, expiring links); a vision
//! model (a local OpenAI-compatible server started by the test) when configured.

mod common;

use std::io::Cursor;
use std::time::Duration;

use common::fake_llm::{self, Behaviour};
use common::{Backend, TestApp, assert_error_shape, backends, spec_example};
use image::{GrayImage, ImageFormat, Luma};
use practica::storage::Role;
use serde_json::{Value, json};

/// A white page with a few dark strokes, encoded as `format`.
fn photo(width: u32, height: u32, format: ImageFormat) -> Vec<u8> {
    let mut img = GrayImage::from_pixel(width, height, Luma([235]));
    // A "1", a "-" and a "7"-like pair of strokes: something for the reader to find.
    for y in height / 3..2 * height / 3 {
        for x in width / 10..width / 10 + 4 {
            img.put_pixel(x, y, Luma([20]));
        }
    }
    for x in width / 4..width / 4 + width / 10 {
        for y in height / 2..height / 2 + 4 {
            img.put_pixel(x, y, Luma([20]));
        }
    }
    let mut out = Cursor::new(Vec::new());
    image::DynamicImage::ImageLuma8(img).write_to(&mut out, format).unwrap();
    out.into_inner()
}

async fn post_photo(app: &TestApp, token: &str, bytes: Vec<u8>, field: &'static str) -> (u16, Value) {
    let form = reqwest::multipart::Form::new().part(field, reqwest::multipart::Part::bytes(bytes));
    let r = app
        .http
        .post(app.url("/attempts/ocr-extract"))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_photo_is_read_stored_and_linked_from_its_attempts() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let token = app.token("stu_abc123", Role::Student);
        let bytes = photo(600, 300, ImageFormat::Png);
        let (status, read) = post_photo(&app, &token, bytes.clone(), "image").await;
        assert_eq!(status, 201, "{read}");
        assert!(read["exercises"].is_array(), "{read}");
        assert_eq!(read["reader"], "builtin");
        let photo_id = read["photoId"].as_str().expect("photoId").to_string();

        // An attempt made from it links to it; its detail hands out a signed link.
        let mut body = spec_example("stu_abc123");
        body["photoId"] = json!(photo_id);
        let (status, created) = app.post("/attempts", &token, &body).await;
        assert_eq!(status, 201, "{created}");
        let id = created["attemptId"].as_str().unwrap();
        let (_, detail) = app.get(&format!("/attempts/{id}/detail"), &token).await;
        let link = detail["photos"][0].as_str().expect("a photo link").to_string();
        assert!(link.starts_with(&format!("/uploads/{photo_id}?expires=")), "{link}");

        // The link needs no other credential, and gives the photo back as sent.
        let r = app.http.get(app.url(&link)).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "image/png");
        assert!(r.headers()["cache-control"].to_str().unwrap().contains("private"));
        assert_eq!(r.bytes().await.unwrap().as_ref(), bytes.as_slice());
        // A tampered link, or one for another id, is refused.
        // Another last hex digit: never the one the link has.
        let last = if link.ends_with('0') { '1' } else { '0' };
        let tampered = format!("{}{last}", &link[..link.len() - 1]);
        let r = app.http.get(app.url(&tampered)).send().await.unwrap();
        assert_eq!(r.status(), 403);
        assert_error_shape(&r.json().await.unwrap(), 403);
        let other = link.replace(&photo_id, &uuid::Uuid::now_v7().to_string());
        assert_eq!(app.http.get(app.url(&other)).send().await.unwrap().status(), 403);

        // Ad-hoc problems attach photos too.
        let adhoc = json!({"studentId": "stu_abc123", "problemLatex": "53 - 26", "studentFinalAnswer": "33", "photoId": photo_id});
        let (status, created) = app.post("/attempts/solve-adhoc", &token, &adhoc).await;
        assert_eq!(status, 201, "{created}");
        let (_, detail) = app
            .get(
                &format!("/attempts/{}/detail", created["attemptId"].as_str().unwrap()),
                &token,
            )
            .await;
        assert_eq!(detail["photos"].as_array().map(Vec::len), Some(1), "{detail}");

        // Another student cannot attach someone else's photo; nor a made-up id.
        let other = app.token("stu_other", Role::Student);
        let mut theirs = spec_example("stu_other");
        theirs["photoId"] = json!(photo_id);
        let (status, err) = app.post("/attempts", &other, &theirs).await;
        assert_eq!(status, 422, "{err}");
        assert_error_shape(&err, 422);
        theirs["photoId"] = json!("not-a-uuid");
        assert_eq!(app.post("/attempts", &other, &theirs).await.0, 422);
        // Nothing was written by the refused requests.
        let (_, mine) = app.get("/mastery/students/stu_other", &other).await;
        assert_eq!(mine["topics"].as_array().map(Vec::len), Some(0));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn photos_are_checked_by_content_and_size() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| c.ocr_max_pixels = 100_000).await;
    let token = app.token("stu_s", Role::Student);
    // JPEG is read as well as PNG.
    let (status, read) = post_photo(&app, &token, photo(400, 200, ImageFormat::Jpeg), "image").await;
    assert_eq!(status, 201, "{read}");
    for (bytes, field, want) in [
        (b"plain text".to_vec(), "image", 415),
        (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;".to_vec(), "image", 415),
        ([b"\x89PNG\r\n\x1a\n".as_slice(), &[7u8; 200]].concat(), "image", 422),
        ([[0xFF, 0xD8, 0xFF].as_slice(), &[1u8; 200]].concat(), "image", 422),
        // 500 × 400 = 200,000 pixels, over this server's 100,000: refused before decoding.
        (photo(500, 400, ImageFormat::Png), "image", 422),
        (Vec::new(), "image", 422),
        (photo(100, 100, ImageFormat::Png), "photo", 422),
    ] {
        let (status, body) = post_photo(&app, &token, bytes, field).await;
        assert_eq!(status, want, "{field}: {body}");
        assert_error_shape(&body, want);
    }
    let (_, body) = post_photo(&app, &token, photo(500, 400, ImageFormat::Png), "image").await;
    assert!(body["message"].as_str().unwrap().contains("pixels"), "{body}");
    // No credentials, no reading.
    let form = reqwest::multipart::Form::new().part(
        "image",
        reqwest::multipart::Part::bytes(photo(50, 50, ImageFormat::Png)),
    );
    let r = app
        .http
        .post(app.url("/attempts/ocr-extract"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_expire() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| c.upload_link_secs = 1).await;
    let token = app.token("stu_abc123", Role::Student);
    let (_, read) = post_photo(&app, &token, photo(300, 200, ImageFormat::Png), "image").await;
    let mut body = spec_example("stu_abc123");
    body["photoId"] = read["photoId"].clone();
    let (_, created) = app.post("/attempts", &token, &body).await;
    let (_, detail) = app
        .get(
            &format!("/attempts/{}/detail", created["attemptId"].as_str().unwrap()),
            &token,
        )
        .await;
    let link = detail["photos"][0].as_str().unwrap().to_string();
    assert_eq!(app.http.get(app.url(&link)).send().await.unwrap().status(), 200);
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    assert_eq!(app.http.get(app.url(&link)).send().await.unwrap().status(), 403);
}

/// A service whose vision model is a local fake answering `content`; `always` or fallback mode.
async fn with_vision(content: String, always: bool) -> (fake_llm::FakeLlm, TestApp, String) {
    let fake = fake_llm::start(Behaviour::Content(content), Duration::ZERO).await;
    let url = fake.base_url.clone();
    let app = TestApp::spawn_with(Backend::Sqlite, move |c| {
        c.llm_base_url = Some(url);
        c.vision_model = Some("fake-vision".into());
        if always {
            c.vision_mode = "always".into();
        } else {
            // Only a reading with nothing in it is unsure enough.
            c.vision_below = 0.0;
        }
    })
    .await;
    let token = app.token("stu_v", Role::Student);
    (fake, app, token)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vision_model_reads_the_photo_when_configured() {
    let answer = json!({"exercises": [{
        "problem": "53 - 26",
        "rawSteps": [{"expression": "53 - 26 = 33", "isFinal": true}],
        "finalAnswer": "33",
        "topicHint": "T-SUB-BORROW",
        "confidence": 0.93,
    }]});
    let (fake, app, token) = with_vision(answer.to_string(), true).await;
    let (status, read) = post_photo(&app, &token, photo(400, 200, ImageFormat::Png), "image").await;
    assert_eq!(status, 201, "{read}");
    assert_eq!(read["reader"], "vision:fake-vision");
    assert_eq!(read["exercises"], answer["exercises"]);
    assert_eq!(fake.request_count(), 1);
    let request = fake.requests.lock().unwrap()[0].clone();
    assert_eq!(request["model"], "fake-vision");
    let parts = request["messages"][1]["content"].as_array().expect("content parts");
    assert!(
        parts[1]["image_url"]["url"]
            .as_str()
            .unwrap()
            .starts_with("data:image/png;base64,"),
        "{request}"
    );
    assert_eq!(request["response_format"]["json_schema"]["name"], "ocr_exercises");

    // An answer out of shape leaves the built-in reading standing.
    let (bad, app, token) = with_vision(r#"{"exercises": [{"problem": 5}]}"#.into(), true).await;
    let (status, read) = post_photo(&app, &token, photo(400, 200, ImageFormat::Png), "image").await;
    assert_eq!(status, 201, "{read}");
    assert_eq!(read["reader"], "builtin");
    assert_eq!(bad.request_count(), 1);

    // In fallback mode a confident built-in reading is not sent; a blank page (nothing read) is.
    let (fake, app, token) = with_vision(answer.to_string(), false).await;
    let blank = {
        let mut out = Cursor::new(Vec::new());
        image::DynamicImage::ImageLuma8(GrayImage::from_pixel(300, 200, Luma([240])))
            .write_to(&mut out, ImageFormat::Png)
            .unwrap();
        out.into_inner()
    };
    let (_, read) = post_photo(&app, &token, blank, "image").await;
    assert_eq!(read["reader"], "vision:fake-vision", "{read}");
    assert_eq!(fake.request_count(), 1);
}
