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
use utoipa::IntoParams;
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
    OpenApiRouter::new().routes(routes!(signed_upload))
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
    Query(link): Query<LinkQuery>,
) -> ApiResult<Response> {
    let refused = || ApiError::Forbidden("the link is not valid or has expired".into());
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
