//! Photos in S3-compatible storage: with `PRACTICA_TEST_S3_URL` naming an S3 endpoint (CI starts
//! moto's server, which speaks the S3 protocol), a photo read by `ocr-extract` is put in the
//! bucket, and an attempt's detail links to it with a presigned URL that fetches it back.
//! Its own test binary: the `AWS_*` variables it sets are the process's.

mod common;

use std::io::Cursor;

use common::{Backend, TestApp, mark_suite_ran, spec_example};
use image::{GrayImage, ImageFormat, Luma};
use practica::storage::Role;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn photos_go_to_the_bucket_and_come_back_by_presigned_links() {
    let Ok(endpoint) = std::env::var("PRACTICA_TEST_S3_URL") else {
        eprintln!("PRACTICA_TEST_S3_URL is not set: the S3 test is skipped");
        return;
    };
    let bucket = format!("practica-test-{}", uuid::Uuid::new_v4().simple());
    practica::install_tls_provider();
    let http = reqwest::Client::new();
    // moto creates a bucket on an unsigned PUT, as a local S3 does.
    let created = http.put(format!("{endpoint}/{bucket}")).send().await.unwrap();
    assert!(created.status().is_success(), "create bucket: {}", created.status());
    // SAFETY: this binary has one test; nothing else reads the environment concurrently.
    unsafe {
        std::env::set_var("AWS_ENDPOINT", &endpoint);
        std::env::set_var("AWS_ALLOW_HTTP", "true");
        std::env::set_var("AWS_ACCESS_KEY_ID", "practica-test");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "practica-test-secret");
        std::env::set_var("AWS_REGION", "us-east-1");
    }
    let url = format!("s3://{bucket}/photos");
    let app = TestApp::spawn_with(Backend::Sqlite, move |c| c.uploads_url = Some(url)).await;
    let token = app.token("stu_abc123", Role::Student);

    let mut png = Cursor::new(Vec::new());
    image::DynamicImage::ImageLuma8(GrayImage::from_pixel(320, 200, Luma([230])))
        .write_to(&mut png, ImageFormat::Png)
        .unwrap();
    let bytes = png.into_inner();
    let form = reqwest::multipart::Form::new().part("image", reqwest::multipart::Part::bytes(bytes.clone()));
    let r = app
        .http
        .post(app.url("/attempts/ocr-extract"))
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let read: Value = r.json().await.unwrap();
    let mut body = spec_example("stu_abc123");
    body["photoId"] = json!(read["photoId"]);
    let (status, created) = app.post("/attempts", &token, &body).await;
    assert_eq!(status, 201, "{created}");
    let (_, detail) = app
        .get(
            &format!("/attempts/{}/detail", created["attemptId"].as_str().unwrap()),
            &token,
        )
        .await;
    let link = detail["photos"][0].as_str().expect("a presigned link").to_string();
    assert!(
        link.starts_with(&format!("{endpoint}/{bucket}/photos/photos/")),
        "{link}"
    );
    assert!(link.contains("X-Amz-Signature="), "{link}");
    let fetched = http.get(&link).send().await.unwrap();
    assert_eq!(fetched.status(), 200);
    assert_eq!(fetched.bytes().await.unwrap().as_ref(), bytes.as_slice());
    mark_suite_ran("s3");
}
