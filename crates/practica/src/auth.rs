//! Who is calling: a JWT bearer token (HS256 signed with the data dir's secret, or RS256/ES256
//! from an identity provider's JWKS) or an `X-Api-Key`. The role comes from the caller's profile
//! when there is one, else from a claim the issuer controls — never from user-editable metadata.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::sync::RwLock;

use crate::app::AppState;
use crate::error::ApiError;
use crate::storage::{ApiKeyRecord, Role, Store};

/// Issuer and audience of the tokens this service signs itself.
pub const SELF_ISSUER: &str = "practica";
const SECRET_FILE: &str = "jwt-secret";
const API_KEY_HEADER: &str = "x-api-key";
const AGENT_HEADER: &str = "x-mcp";
/// An unknown `kid` refetches the JWKS at most this often.
const JWKS_REFRESH: Duration = Duration::from_secs(30);
/// Longest bearer token looked at: identity providers' tokens are a few KiB at most, and a
/// longer one is refused before it is decoded.
const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// The authenticated caller of a request.
#[derive(Clone, Debug)]
pub struct Caller {
    pub id: String,
    pub role: Role,
    /// The request comes from an AI agent (`X-MCP` header, or an agent key).
    pub via_agent: bool,
    /// Authenticated by an `X-Api-Key` (a program's credential) rather than a person's token.
    pub via_api_key: bool,
}

impl Caller {
    pub fn is_staff(&self) -> bool {
        matches!(self.role, Role::Teacher | Role::Admin)
    }

    /// Whether the caller may act for a student and read the student's work (attempts,
    /// mastery): students for themselves, teachers for the students they teach (in `course_id`
    /// when given), admins and agent keys for anyone. The one place this rule is written.
    pub async fn acts_for(
        &self,
        store: &dyn Store,
        student_id: &str,
        course_id: Option<&str>,
    ) -> Result<bool, crate::storage::StoreError> {
        Ok(match self.role {
            Role::Admin | Role::Agent => true,
            Role::Student => self.id == student_id,
            Role::Teacher => self.id == student_id || store.teaches(&self.id, student_id, course_id).await?,
        })
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    #[serde(default)]
    role: Option<String>,
    /// Supabase-style: set by the server, so trusted.
    #[serde(default)]
    app_metadata: Option<serde_json::Value>,
    exp: u64,
    #[serde(default)]
    iat: u64,
}

struct Jwks {
    url: String,
    keys: RwLock<(HashMap<String, DecodingKey>, Option<Instant>)>,
    http: reqwest::Client,
    validation: Validation,
}

pub struct Authenticator {
    secret: Vec<u8>,
    jwks: Option<Jwks>,
    store: Arc<dyn Store>,
    /// Stored roles by profile id, kept briefly: every request needs its caller's role, and a
    /// database read per request costs more than the rest of authentication.
    roles: std::sync::Mutex<HashMap<String, (Option<Role>, Instant)>>,
}

/// How long a stored role is trusted before it is read again (a changed role applies within it).
const ROLE_TTL: Duration = Duration::from_secs(5);
const ROLE_CACHE_MAX: usize = 50_000;

/// The HS256 secret of the deployment: `jwt_secret_file` when set (a secret shared by every
/// process; never created), else the data dir's, created on first use.
pub fn load_secret(config: &crate::config::Config) -> anyhow::Result<Vec<u8>> {
    match &config.jwt_secret_file {
        Some(path) => {
            read_secret(path)?.ok_or_else(|| anyhow::anyhow!("jwt_secret_file {}: no such file", path.display()))
        }
        None => load_or_create_secret(&config.data_dir),
    }
}

/// The secret kept in the data dir, created on first use (readable by the owner only).
pub fn load_or_create_secret(data_dir: &Path) -> anyhow::Result<Vec<u8>> {
    let path = data_dir.join(SECRET_FILE);
    if let Some(secret) = read_secret(&path)? {
        return Ok(secret);
    }
    std::fs::create_dir_all(data_dir)?;
    let mut secret = vec![0u8; 32];
    rand::rng().fill_bytes(&mut secret);
    // Written whole under another name, then linked into place: a process starting at the same
    // moment never reads a half-written file, and the one that loses the race takes the
    // winner's secret instead of failing or overwriting it.
    let staged = data_dir.join(format!(".{SECRET_FILE}.{}", uuid::Uuid::new_v4().simple()));
    write_private(&staged, &hex::encode(&secret))?;
    let linked = std::fs::hard_link(&staged, &path);
    let _ = std::fs::remove_file(&staged);
    match linked {
        Ok(()) => Ok(secret),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            read_secret(&path)?.ok_or_else(|| anyhow::anyhow!("{} vanished while it was created", path.display()))
        }
        Err(e) => Err(anyhow::anyhow!("{}: {e}", path.display())),
    }
}

/// The secret in `path`, `None` when there is no such file (any other failure is an error: a
/// secret that cannot be read must not be replaced by a new one).
fn read_secret(path: &Path) -> anyhow::Result<Option<Vec<u8>>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => anyhow::bail!("{}: {e}", path.display()),
    };
    let secret = hex::decode(text.trim()).map_err(|e| anyhow::anyhow!("{} is not hex: {e}", path.display()))?;
    anyhow::ensure!(
        secret.len() >= 32,
        "{} holds a secret shorter than 32 bytes",
        path.display()
    );
    Ok(Some(secret))
}

fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    Ok(())
}

pub fn issue_token(secret: &[u8], sub: &str, role: Role, ttl: Duration) -> anyhow::Result<String> {
    let now = time::OffsetDateTime::now_utc().unix_timestamp() as u64;
    #[derive(Serialize)]
    struct Issued<'a> {
        sub: &'a str,
        role: &'a str,
        iss: &'a str,
        aud: &'a str,
        iat: u64,
        exp: u64,
    }
    let claims = Issued {
        sub,
        role: role.as_str(),
        iss: SELF_ISSUER,
        aud: SELF_ISSUER,
        iat: now,
        exp: now + ttl.as_secs(),
    };
    Ok(jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret),
    )?)
}

/// A new API key: the id and secret the client uses (`pk_<id>.<secret>`) and the record to store.
pub fn new_api_key(name: &str, role: Role, owner_id: &str) -> (String, ApiKeyRecord) {
    let mut id = [0u8; 8];
    let mut secret = [0u8; 32];
    rand::rng().fill_bytes(&mut id);
    rand::rng().fill_bytes(&mut secret);
    let (id, secret) = (hex::encode(id), hex::encode(secret));
    let record = ApiKeyRecord {
        id: id.clone(),
        name: name.to_string(),
        secret_hash: hash_secret(&secret),
        role,
        owner_id: owner_id.to_string(),
        revoked: false,
    };
    (format!("pk_{id}.{secret}"), record)
}

fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Equal-length comparison in constant time.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Authenticator {
    pub fn new(
        secret: Vec<u8>,
        store: Arc<dyn Store>,
        jwks_url: Option<String>,
        audience: Option<String>,
        issuer: Option<String>,
    ) -> Authenticator {
        let jwks = jwks_url.map(|url| {
            let mut validation = Validation::new(Algorithm::RS256);
            validation.algorithms = vec![Algorithm::RS256, Algorithm::ES256];
            // jsonwebtoken ignores `nbf` unless told: a token not valid yet must not pass.
            validation.validate_nbf = true;
            // jsonwebtoken checks `aud`/`iss` only when the token carries them: a configured
            // audience or issuer must also make the claim required, or a token without it passes.
            let mut required = vec!["exp"];
            match &audience {
                Some(aud) => {
                    validation.set_audience(&[aud]);
                    required.push("aud");
                }
                None => validation.validate_aud = false,
            }
            if let Some(iss) = &issuer {
                validation.set_issuer(&[iss]);
                required.push("iss");
            }
            validation.set_required_spec_claims(&required);
            Jwks {
                url,
                keys: RwLock::new((HashMap::new(), None)),
                http: {
                    crate::install_tls_provider();
                    reqwest::Client::builder()
                        .timeout(Duration::from_secs(5))
                        .build()
                        .unwrap_or_default()
                },
                validation,
            }
        });
        Authenticator {
            secret,
            jwks,
            store,
            roles: std::sync::Mutex::new(HashMap::new()),
        }
    }

    async fn caller_for_api_key(&self, presented: &str) -> Result<Caller, ApiError> {
        let invalid = || ApiError::Unauthorized("invalid API key".into());
        let (id, secret) = presented
            .strip_prefix("pk_")
            .and_then(|k| k.split_once('.'))
            .ok_or_else(invalid)?;
        // Keys are `pk_<16 hex>.<64 hex>` (`new_api_key`): anything far from that shape is
        // refused without a database read.
        let shaped = |part: &str, max: usize| {
            !part.is_empty() && part.len() <= max && part.bytes().all(|b| b.is_ascii_alphanumeric())
        };
        if !shaped(id, 64) || !shaped(secret, 128) {
            return Err(invalid());
        }
        let key = self.store.api_key(id).await?.ok_or_else(invalid)?;
        if key.revoked || !same(&key.secret_hash, &hash_secret(secret)) {
            return Err(invalid());
        }
        Ok(Caller {
            id: key.owner_id,
            role: key.role,
            via_agent: key.role == Role::Agent,
            via_api_key: true,
        })
    }

    async fn caller_for_bearer(&self, token: &str) -> Result<Caller, ApiError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(ApiError::Unauthorized(format!(
                "invalid token: longer than {MAX_TOKEN_BYTES} bytes"
            )));
        }
        let header =
            jsonwebtoken::decode_header(token).map_err(|e| ApiError::Unauthorized(format!("invalid token: {e}")))?;
        let (claims, self_issued) = if header.alg == Algorithm::HS256 {
            let mut validation = Validation::new(Algorithm::HS256);
            validation.set_audience(&[SELF_ISSUER]);
            validation.set_issuer(&[SELF_ISSUER]);
            // `issue_token` always writes `aud`, `iss` and `exp`: a token without one is not ours
            // (jsonwebtoken checks `aud`/`iss` only when present unless they are required), and
            // one whose `nbf` is still ahead is not valid yet.
            validation.set_required_spec_claims(&["exp", "aud", "iss"]);
            validation.validate_nbf = true;
            let data = jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(&self.secret), &validation)
                .map_err(|e| ApiError::Unauthorized(format!("invalid token: {e}")))?;
            (data.claims, true)
        } else {
            let jwks = self
                .jwks
                .as_ref()
                .ok_or_else(|| ApiError::Unauthorized("token algorithm not accepted".into()))?;
            if !jwks.validation.algorithms.contains(&header.alg) {
                return Err(ApiError::Unauthorized("token algorithm not accepted".into()));
            }
            let kid = header
                .kid
                .ok_or_else(|| ApiError::Unauthorized("token has no kid".into()))?;
            let key = jwks.key(&kid).await?;
            // jsonwebtoken refuses (InvalidAlgorithm) any Validation listing an algorithm of
            // another family than the key's, so with [RS256, ES256] no token ever passed: check
            // against the token's own (accepted) algorithm, which must then match the key's family.
            let mut validation = jwks.validation.clone();
            validation.algorithms = vec![header.alg];
            let data = jsonwebtoken::decode::<Claims>(token, &key, &validation)
                .map_err(|e| ApiError::Unauthorized(format!("invalid token: {e}")))?;
            (data.claims, false)
        };
        if claims.sub.is_empty() || claims.sub.len() > 128 {
            return Err(ApiError::Unauthorized("token subject missing or too long".into()));
        }
        let role = match self.stored_role(&claims.sub).await? {
            Some(role) => role,
            None => {
                // Our own tokens carry the role `practica token` was given; an identity
                // provider's only in app_metadata, which users cannot edit.
                let claimed = if self_issued {
                    claims.role.clone()
                } else {
                    claims
                        .app_metadata
                        .as_ref()
                        .and_then(|m| m.get("role"))
                        .and_then(|r| r.as_str())
                        .map(str::to_string)
                };
                claimed
                    .as_deref()
                    .and_then(Role::parse)
                    .filter(|r| *r != Role::Agent)
                    .unwrap_or(Role::Student)
            }
        };
        Ok(Caller {
            id: claims.sub,
            role,
            via_agent: false,
            via_api_key: false,
        })
    }
}

impl Authenticator {
    async fn stored_role(&self, id: &str) -> Result<Option<Role>, ApiError> {
        let cached = self.roles.lock().unwrap_or_else(|e| e.into_inner()).get(id).copied();
        if let Some((role, at)) = cached
            && at.elapsed() < ROLE_TTL
        {
            return Ok(role);
        }
        let role = self.store.profile(id).await?.map(|p| p.role);
        let mut roles = self.roles.lock().unwrap_or_else(|e| e.into_inner());
        if roles.len() >= ROLE_CACHE_MAX {
            roles.clear();
        }
        roles.insert(id.to_string(), (role, Instant::now()));
        Ok(role)
    }
}

impl Jwks {
    async fn key(&self, kid: &str) -> Result<DecodingKey, ApiError> {
        if let Some(k) = self.keys.read().await.0.get(kid) {
            return Ok(k.clone());
        }
        let mut guard = self.keys.write().await;
        let recently = guard.1.is_some_and(|at| at.elapsed() < JWKS_REFRESH);
        if !recently {
            // A failed fetch counts too: an unreachable identity provider must not be asked (with
            // this lock held for up to the HTTP timeout) once per request.
            guard.1 = Some(Instant::now());
            let set: JwkSet = self
                .http
                .get(&self.url)
                .send()
                .await
                .and_then(|r| r.error_for_status())
                .map_err(|e| ApiError::Unavailable(format!("identity provider keys unreachable: {e}")))?
                .json()
                .await
                .map_err(|e| ApiError::Unavailable(format!("identity provider keys unreadable: {e}")))?;
            guard.0 = set
                .keys
                .iter()
                .filter_map(|jwk| Some((jwk.common.key_id.clone()?, DecodingKey::from_jwk(jwk).ok()?)))
                .collect();
        }
        if guard.0.is_empty() {
            // No keys yet because the last fetch failed: the provider's fault, not the token's.
            return Err(ApiError::Unavailable(
                "identity provider keys not loaded; retry later".into(),
            ));
        }
        guard
            .0
            .get(kid)
            .cloned()
            .ok_or_else(|| ApiError::Unauthorized("token signed by an unknown key".into()))
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
        let mut caller = if let Some(key) = header(API_KEY_HEADER) {
            state.auth.caller_for_api_key(key).await?
        } else if let Some(auth) = header("authorization") {
            let token = auth
                .strip_prefix("Bearer ")
                .or_else(|| auth.strip_prefix("bearer "))
                .ok_or_else(|| ApiError::Unauthorized("Authorization must be a Bearer token".into()))?;
            let caller = state.auth.caller_for_bearer(token.trim()).await?;
            // The rate limiter counts this token under its caller from now on.
            if let Some(presented) = parts.extensions.get::<crate::ratelimit::Presented>() {
                presented.authenticated(&caller.id);
            }
            caller
        } else {
            return Err(ApiError::Unauthorized(
                "missing credentials: a Bearer token or an X-Api-Key".into(),
            ));
        };
        // `X-MCP: true|1|yes` (any case): the spec's spellings; anything else is a person.
        if header(AGENT_HEADER).is_some_and(|v| ["true", "1", "yes"].iter().any(|t| v.eq_ignore_ascii_case(t))) {
            caller.via_agent = true;
        }
        Ok(caller)
    }
}

#[cfg(test)]
mod secret_tests {
    use super::*;

    fn fresh_dir() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("practica-secret-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn processes_starting_together_share_one_secret() {
        let dir = fresh_dir();
        let secrets: Vec<Vec<u8>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| s.spawn(|| load_or_create_secret(&dir).unwrap()))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(secrets.iter().all(|s| *s == secrets[0] && s.len() == 32));
        assert_eq!(load_or_create_secret(&dir).unwrap(), secrets[0], "later starts read it");
        // Nothing staged is left behind.
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_configured_secret_file_is_used_and_never_created() {
        let dir = fresh_dir();
        let mut config = crate::config::Config {
            data_dir: dir.join("data"),
            jwt_secret_file: Some(dir.join("mounted")),
            ..Default::default()
        };
        let missing = load_secret(&config).unwrap_err().to_string();
        assert!(missing.contains("no such file"), "{missing}");
        assert!(!dir.join("mounted").exists() && !dir.join("data").exists());
        std::fs::write(dir.join("mounted"), format!("{}\n", "ab".repeat(32))).unwrap();
        assert_eq!(load_secret(&config).unwrap(), vec![0xab; 32]);
        std::fs::write(dir.join("mounted"), "abcd").unwrap();
        assert!(
            load_secret(&config)
                .unwrap_err()
                .to_string()
                .contains("shorter than 32 bytes")
        );
        // A data-dir secret that cannot be read is an error, not replaced by a new one.
        config.jwt_secret_file = None;
        std::fs::create_dir_all(dir.join("data").join(SECRET_FILE)).unwrap();
        assert!(load_secret(&config).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
