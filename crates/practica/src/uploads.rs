//! Uploads: files kept in object storage (`object_store`), photos of handwritten work for now.
//!
//! The bytes go to a local directory (`<data dir>/uploads` by default) or to S3-compatible
//! storage (`uploads_url = "s3://bucket/prefix"`); the `upload` row says what they are and who
//! sent them. Clients get signed, expiring links, never a path: S3's own presigned URLs, or for
//! the local store `/uploads/{id}?expires=…&signature=…`, an HMAC-SHA256 (keyed by a key derived
//! from the data dir's secret) over the id and the expiry, served by [`router`] without other
//! credentials — the link is the credential, which is what lets an `<img>` tag show it.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, KeyInit, Mac};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::signer::Signer;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use serde::Deserialize;
use sha2::Sha256;
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::app::AppState;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::storage::UploadRecord;

/// Where uploads are kept, and how links to them are made.
pub struct Uploads {
    store: Arc<dyn ObjectStore>,
    /// S3's presigner, when the store is S3: links go straight to the bucket.
    s3: Option<Arc<AmazonS3>>,
    /// Prefix of every object key (`s3://bucket/prefix`).
    prefix: Path,
    /// Signs local links.
    link_key: Vec<u8>,
    link_ttl: Duration,
}

impl Uploads {
    /// The store `uploads_url` names (None: `<data_dir>/uploads`, created if missing).
    pub fn open(
        uploads_url: Option<&str>,
        data_dir: &std::path::Path,
        secret: &[u8],
        link_ttl: Duration,
    ) -> anyhow::Result<Uploads> {
        // A key of its own, so that a link's signature says nothing about the JWT secret.
        let link_key = {
            let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret)?;
            mac.update(b"practica upload links v1");
            mac.finalize().into_bytes().to_vec()
        };
        let (store, s3, prefix): (Arc<dyn ObjectStore>, _, _) = match uploads_url {
            Some(url) if url.starts_with("s3://") => {
                let rest = &url["s3://".len()..];
                let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
                anyhow::ensure!(!bucket.is_empty(), "uploads_url {url:?} names no bucket");
                let s3 = Arc::new(AmazonS3Builder::from_env().with_bucket_name(bucket).build()?);
                (s3.clone(), Some(s3), Path::from(prefix))
            }
            other => {
                let dir = match other {
                    Some(url) => std::path::PathBuf::from(url.strip_prefix("file://").unwrap_or(url)),
                    None => data_dir.join("uploads"),
                };
                std::fs::create_dir_all(&dir)?;
                (Arc::new(LocalFileSystem::new_with_prefix(&dir)?), None, Path::from(""))
            }
        };
        Ok(Uploads {
            store,
            s3,
            prefix,
            link_key,
            link_ttl,
        })
    }

    fn path(&self, key: &str) -> Path {
        key.split('/').fold(self.prefix.clone(), |p, part| p.clone().join(part))
    }

    /// Stores `bytes` under `key`.
    pub async fn put(&self, key: &str, bytes: Bytes) -> anyhow::Result<()> {
        self.store.put(&self.path(key), PutPayload::from(bytes)).await?;
        Ok(())
    }

    pub async fn get(&self, key: &str) -> anyhow::Result<Bytes> {
        Ok(self.store.get(&self.path(key)).await?.bytes().await?)
    }

    /// Bytes `range` of the object (for HTTP Range requests).
    pub async fn get_range(&self, key: &str, range: std::ops::Range<u64>) -> anyhow::Result<Bytes> {
        Ok(self.store.get_range(&self.path(key), range).await?)
    }

    /// A signed link to `upload` that expires after the configured time.
    pub async fn link(&self, upload: &UploadRecord) -> anyhow::Result<String> {
        if let Some(s3) = &self.s3 {
            let url = s3
                .signed_url(axum::http::Method::GET, &self.path(&upload.object_key), self.link_ttl)
                .await?;
            return Ok(url.to_string());
        }
        let expires = OffsetDateTime::now_utc().unix_timestamp() + self.link_ttl.as_secs() as i64;
        Ok(format!(
            "/uploads/{}?expires={expires}&signature={}",
            upload.id,
            self.signature(upload.id, expires)
        ))
    }

    fn mac(&self, id: Uuid, expires: i64) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.link_key).expect("HMAC takes any key length");
        mac.update(format!("{id}:{expires}").as_bytes());
        mac
    }

    fn signature(&self, id: Uuid, expires: i64) -> String {
        hex::encode(self.mac(id, expires).finalize().into_bytes())
    }

    /// Whether `signature` is this store's for `id` until `expires` (compared in constant time).
    fn verify(&self, id: Uuid, expires: i64, signature: &str) -> bool {
        hex::decode(signature).is_ok_and(|sig| self.mac(id, expires).verify_slice(&sig).is_ok())
    }
}

/// A new photo's object key: by day, so that a bucket lists in time order.
pub fn photo_key(id: Uuid, at: OffsetDateTime, extension: &str) -> String {
    format!(
        "photos/{:04}/{:02}/{:02}/{id}.{extension}",
        at.year(),
        u8::from(at.month()),
        at.day()
    )
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(signed_upload))
        .routes(routes!(download))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(upload_file))
                .layer(axum::extract::DefaultBodyLimit::max(MAX_FILE_BYTES + 64 * 1024)),
        )
}

/// Largest file `POST /api/v5/uploads` takes (audio frames, attachments).
pub const MAX_FILE_BYTES: usize = 25 << 20;
/// Longest file name kept.
const MAX_FILE_NAME: usize = 255;

#[derive(serde::Serialize, ToSchema)]
pub struct Uploaded {
    upload_id: Uuid,
    file_name: String,
    byte_len: u64,
    mime_type: String,
}

/// A file name as given, without any directory and control characters, within bounds.
fn clean_file_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let clean: String = base.chars().filter(|c| !c.is_control()).collect();
    let mut clean = clean.trim().to_string();
    while clean.len() > MAX_FILE_NAME {
        clean.pop();
    }
    if clean.is_empty() { "upload".to_string() } else { clean }
}

/// Upload a file (multipart field `file`): audio frames and exports refer to it by `upload_id`.
#[utoipa::path(post, path = "/api/v5/uploads", tag = "uploads",
    request_body(content_type = "multipart/form-data", description = "Field `file`, at most 25 MiB"),
    responses((status = 201, body = Uploaded), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn upload_file(
    caller: crate::auth::Caller,
    State(state): State<AppState>,
    multipart: Result<axum::extract::Multipart, axum::extract::multipart::MultipartRejection>,
) -> ApiResult<(axum::http::StatusCode, axum::Json<Uploaded>)> {
    // Not multipart, or no boundary: the JSON error shape, not axum's plain text.
    let mut multipart = multipart.map_err(crate::uploads::multipart_rejection)?;
    let too_large = |e: axum::extract::multipart::MultipartError| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge(MAX_FILE_BYTES)
        } else {
            ApiError::BadRequest(format!("unreadable multipart body: {}", e.body_text()))
        }
    };
    let mut file = None;
    while let Some(part) = multipart.next_field().await.map_err(too_large)? {
        if part.name() == Some("file") {
            let name = clean_file_name(part.file_name().unwrap_or(""));
            let mime = part
                .content_type()
                .filter(|m| m.len() <= 127 && m.contains('/') && m.is_ascii())
                .unwrap_or("application/octet-stream")
                .to_string();
            let bytes = part.bytes().await.map_err(too_large)?;
            file = Some((name, mime, bytes));
        }
    }
    let (file_name, mime_type, bytes) =
        file.ok_or_else(|| ApiError::Validation("file: is required (multipart/form-data field)".into()))?;
    if bytes.is_empty() {
        return Err(ApiError::Validation("file: is empty".into()));
    }
    let stored = store_file(
        &state,
        None,
        &caller.id,
        caller.via_agent,
        "file",
        &file_name,
        &mime_type,
        bytes,
    )
    .await?;
    let id = stored.id;
    Ok((
        axum::http::StatusCode::CREATED,
        axum::Json(Uploaded {
            upload_id: id,
            file_name,
            byte_len: stored.bytes as u64,
            mime_type,
        }),
    ))
}

/// A body that is not multipart (415) or whose multipart header is broken (400), as JSON.
pub fn multipart_rejection(e: axum::extract::multipart::MultipartRejection) -> ApiError {
    let message = format!("expected a multipart/form-data body: {}", e.body_text());
    if e.status() == axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE {
        ApiError::UnsupportedMediaType(message)
    } else {
        ApiError::BadRequest(message)
    }
}

/// Keeps a file in object storage and records it as an upload of `created_by` (an uploaded
/// file, an assembled audio recording, an export).
#[allow(clippy::too_many_arguments)]
pub async fn store_file(
    state: &AppState,
    id: Option<Uuid>,
    created_by: &str,
    via_agent: bool,
    kind: &str,
    file_name: &str,
    mime_type: &str,
    bytes: Bytes,
) -> ApiResult<UploadRecord> {
    let now = crate::classify::now_micros();
    let id = id.unwrap_or_else(Uuid::now_v7);
    let key = format!(
        "files/{:04}/{:02}/{:02}/{id}",
        now.year(),
        u8::from(now.month()),
        now.day()
    );
    state
        .uploads
        .put(&key, bytes.clone())
        .await
        .map_err(ApiError::Internal)?;
    let record = UploadRecord {
        id,
        kind: kind.into(),
        file_name: Some(file_name.to_owned()),
        object_key: key,
        content_type: mime_type.to_owned(),
        bytes: bytes.len() as i64,
        sha256: hex::encode(<Sha256 as sha2::Digest>::digest(&bytes)),
        created_by: created_by.to_owned(),
        via_agent,
        created_at: now,
    };
    state.store.record_upload(&record).await?;
    Ok(record)
}

/// The byte range a `Range` header asks of a file of `len` bytes: None for the whole file
/// (no header, or one this server does not serve, such as several ranges), Err for an
/// unsatisfiable range (416).
fn requested_range(header: Option<&str>, len: u64) -> Result<Option<std::ops::Range<u64>>, ()> {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let (start, end) = spec.split_once('-').ok_or(())?;
    let range = match (start.trim(), end.trim()) {
        ("", suffix) => {
            let n: u64 = suffix.parse().map_err(|_| ())?;
            if n == 0 {
                return Err(());
            }
            len.saturating_sub(n)..len
        }
        (first, "") => first.parse::<u64>().map_err(|_| ())?..len,
        (first, last) => {
            let (a, b): (u64, u64) = (first.parse().map_err(|_| ())?, last.parse().map_err(|_| ())?);
            if b < a {
                return Err(());
            }
            a..b.saturating_add(1).min(len)
        }
    };
    if range.start >= len { Err(()) } else { Ok(Some(range)) }
}

/// Download an uploaded file (its sender, admins and agents); `Range: bytes=…` is served as 206.
#[utoipa::path(get, path = "/api/v5/uploads/{upload_id}", tag = "uploads",
    params(("upload_id" = String, Path, description = "Upload id"),
           ("Range" = Option<String>, Header, description = "bytes=start-end, start-, or -suffix")),
    responses((status = 200, description = "The file"), (status = 206, description = "The range asked for"),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 416, description = "Range not satisfiable", body = ErrorBody)))]
async fn download(
    caller: crate::auth::Caller,
    State(state): State<AppState>,
    UrlPath(id): UrlPath<String>,
    headers: axum::http::HeaderMap,
) -> ApiResult<Response> {
    let not_found = || ApiError::NotFound(format!("no upload {id}"));
    let uuid = Uuid::parse_str(&id).map_err(|_| not_found())?;
    let Some(upload) = state.store.upload(uuid).await? else {
        // An export still being built by its job has its id already.
        return match state.store.sim_export(&id).await? {
            Some(x)
                if x.created_by == caller.id
                    || matches!(caller.role, crate::storage::Role::Admin | crate::storage::Role::Agent) =>
            {
                Err(match x.state.as_str() {
                    "pending" => ApiError::Conflict("the export is being prepared; try again in a few seconds".into()),
                    _ => ApiError::Conflict(format!(
                        "the export failed: {}",
                        x.error.unwrap_or_else(|| "no reason recorded".into())
                    )),
                })
            }
            Some(_) => Err(ApiError::Forbidden("not an upload you may read".into())),
            None => Err(not_found()),
        };
    };
    let allowed = upload.created_by == caller.id
        || matches!(caller.role, crate::storage::Role::Admin | crate::storage::Role::Agent);
    if !allowed {
        return Err(ApiError::Forbidden("not an upload you may read".into()));
    }
    let len = upload.bytes.max(0) as u64;
    let range = requested_range(headers.get(header::RANGE).and_then(|v| v.to_str().ok()), len)
        .map_err(|()| ApiError::RangeNotSatisfiable(len))?;
    let (status, body, content_range) = match range {
        Some(r) => {
            let bytes = state
                .uploads
                .get_range(&upload.object_key, r.clone())
                .await
                .map_err(ApiError::Internal)?;
            let cr = format!("bytes {}-{}/{len}", r.start, r.end - 1);
            (axum::http::StatusCode::PARTIAL_CONTENT, bytes, Some(cr))
        }
        None => (
            axum::http::StatusCode::OK,
            state
                .uploads
                .get(&upload.object_key)
                .await
                .map_err(ApiError::Internal)?,
            None,
        ),
    };
    let mut response = (status, Body::from(body)).into_response();
    let h = response.headers_mut();
    if let Ok(ct) = HeaderValue::from_str(&upload.content_type) {
        h.insert(header::CONTENT_TYPE, ct);
    }
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    if let Some(cr) = content_range.and_then(|c| HeaderValue::from_str(&c).ok()) {
        h.insert(header::CONTENT_RANGE, cr);
    }
    if let Some(name) = &upload.file_name {
        // The name as an RFC 5987 parameter: any character survives, none can break the header.
        let encoded: String = name
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"._-".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename*=UTF-8''{encoded}")) {
            h.insert(header::CONTENT_DISPOSITION, v);
        }
    }
    Ok(response)
}

#[derive(Deserialize, IntoParams)]
pub struct LinkQuery {
    /// Unix time after which the link is refused.
    expires: i64,
    /// Hex HMAC-SHA256 of the id and `expires`.
    signature: String,
}

/// A photo behind a signed link (as handed out in an attempt's detail); the link is the
/// credential, so no other is asked for.
#[utoipa::path(get, path = "/uploads/{id}", tag = "attempts", security(()),
    params(("id" = String, Path, description = "Upload id"), LinkQuery),
    responses((status = 200, description = "The file, with its content type"),
              (status = 403, description = "Signature wrong or link expired", body = ErrorBody),
              (status = 404, body = ErrorBody)))]
async fn signed_upload(
    State(state): State<AppState>,
    UrlPath(id): UrlPath<String>,
    link: Result<Query<LinkQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Response> {
    let refused = || ApiError::Forbidden("the link is not valid or has expired".into());
    // A link without its expiry or signature is not a link: 403, like a wrong one.
    let Query(link) = link.map_err(|_| refused())?;
    let id = Uuid::parse_str(&id).map_err(|_| refused())?;
    if !state.uploads.verify(id, link.expires, &link.signature) {
        return Err(refused());
    }
    if OffsetDateTime::now_utc().unix_timestamp() > link.expires {
        return Err(refused());
    }
    let upload = state
        .store
        .upload(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no upload {id}")))?;
    let bytes = state
        .uploads
        .get(&upload.object_key)
        .await
        .map_err(ApiError::Internal)?;
    let mut response = Body::from(bytes).into_response();
    let headers = response.headers_mut();
    if let Ok(ct) = HeaderValue::from_str(&upload.content_type) {
        headers.insert(header::CONTENT_TYPE, ct);
    }
    // Private: a child's work must not sit in shared caches.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=300"));
    Ok(response)
}
