//! Configuration: built-in defaults, then a TOML file, then `PRACTICA_*` environment variables,
//! then command-line flags (each overriding the one before).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Where to listen.
    pub addr: SocketAddr,
    /// Where the embedded database, the signing secret and uploads live.
    pub data_dir: PathBuf,
    /// `postgres://…` to use PostgreSQL instead of the embedded SQLite file.
    pub database_url: Option<String>,
    /// `nats://…` to publish events to NATS JetStream instead of in-process subscribers: one
    /// server, or a cluster's seeds separated by commas. `nats://user:password@…` or
    /// `nats://token@…` authenticates (percent-encoded).
    pub nats_url: Option<String>,
    /// A NATS credentials file (`.creds`: the user's JWT and NKey seed, NATS's decentralised
    /// auth) to authenticate with.
    pub nats_credentials_file: Option<PathBuf>,
    /// JetStream stream the events go to (created if missing).
    pub nats_stream: String,
    /// Events are published on `<prefix>.<event type>`; the stream takes `<prefix>.>`. Streams
    /// on one server may not share subjects, so each stream needs a prefix of its own.
    pub nats_subject_prefix: String,
    /// An SQS FIFO queue's URL to send events to instead (a build with the `sqs` feature; not
    /// with `nats_url`). Credentials and region come from the usual AWS chain (`AWS_*`
    /// variables, profiles, web identity, container and instance roles).
    pub sqs_queue_url: Option<String>,
    /// Another SQS endpoint (moto, LocalStack…); `AWS_ENDPOINT_URL_SQS` works too.
    pub sqs_endpoint_url: Option<String>,
    /// Whether this process runs the outbox relay. Off, events stay in the outbox for another
    /// process (or a test) to relay.
    pub relay_enabled: bool,
    /// A file holding the HS256 secret (hex, at least 32 bytes) instead of `<data dir>/jwt-secret`:
    /// a secret mounted in every process of a deployment. Never created: missing is an error.
    pub jwt_secret_file: Option<PathBuf>,
    /// JWKS endpoint of an external identity provider (RS256/ES256 tokens).
    pub jwks_url: Option<String>,
    /// Expected `aud` and `iss` of externally issued tokens.
    pub jwt_audience: Option<String>,
    pub jwt_issuer: Option<String>,
    /// Largest request body accepted.
    pub body_limit_bytes: usize,
    /// The most a request may take until its response starts (a stream's body may go on);
    /// past it the client gets a 503 and the handler is dropped, as when a client goes away.
    /// It bounds requests held by a dependency that hangs (a database behind a partition). Long
    /// enough for a reply from the AI persona with all its retries. 0: no limit.
    pub request_timeout_secs: u64,
    /// Below this posterior a wrong answer is UNCLASSIFIED and goes to the asynchronous classifier.
    pub diagnosis_threshold: f64,
    /// `json` (default) or `text` logs.
    pub log_format: String,
    /// Jobs this process runs at once (classification, later solving, OCR…); 0 runs none here
    /// (another `practica worker` process does). Jobs mostly wait (on a model, on the
    /// database), so this is well above the core count.
    pub workers: usize,
    /// A claimed job's lease; a worker that stops renewing it loses the job to the sweeper.
    pub job_lease_secs: u64,
    /// Runs of a job before it is dead.
    pub job_max_attempts: i32,
    /// First retry delay (doubling, with jitter) and the most it grows to.
    pub job_backoff_ms: u64,
    pub job_backoff_max_secs: u64,
    /// How often idle workers look for due jobs, and how often the sweeper runs.
    pub job_poll_ms: u64,
    pub job_sweep_secs: u64,
    /// Done jobs are deleted this many hours after they finished; dead ones are kept.
    pub job_retention_hours: u64,
    /// Published events are deleted from the outbox this many hours after they left (the
    /// stream or queue has them); 0 keeps them all. Unpublished events are never deleted.
    pub outbox_retention_hours: u64,
    /// `Idempotency-Key` records are kept this many hours: a retry later than that is a new
    /// request. 0 keeps them all.
    pub idempotency_retention_hours: u64,
    /// No attempt stays PENDING longer: past this, the sweeper writes UNCLASSIFIED with the reason.
    pub classification_deadline_secs: u64,
    /// An OpenAI-compatible endpoint (`https://api.openai.com/v1`, `http://127.0.0.1:11434/v1` for
    /// Ollama, a vLLM or llama.cpp server…) for the LLM classifier; none: no LLM is called.
    pub llm_base_url: Option<String>,
    pub llm_api_key: Option<String>,
    pub llm_model: String,
    pub llm_timeout_secs: u64,
    /// Retries of one call on 429, 5xx and timeouts.
    pub llm_max_retries: u32,
    /// Tokens all processes together may spend per UTC day; none: no limit.
    pub llm_daily_token_budget: Option<u64>,
    /// Teachers' reports that teach a signature's tag: this many reports…
    pub learn_min_reports: i64,
    /// …from this many different teachers…
    pub learn_min_reporters: i64,
    /// …with this share of the signature's reports agreeing on the tag.
    pub learn_min_agreement: f64,
    /// Mastery levels: below the first p_known is at risk, below the second developing, below
    /// the third proficient, the rest mastered.
    pub mastery_at_risk_below: f64,
    pub mastery_developing_below: f64,
    pub mastery_proficient_below: f64,
    /// Refit the topics' BKT parameters from the stored attempts this often (a job); 0: never.
    pub mastery_refit_hours: u64,
    /// Topics with fewer responses keep their parameters.
    pub mastery_refit_min_responses: i64,
    /// Where photos are kept: a local directory (default `<data dir>/uploads`), `file:///path`,
    /// or `s3://bucket/prefix` (S3-compatible; credentials, region and endpoint from the usual
    /// `AWS_*` variables, e.g. `AWS_ENDPOINT` for MinIO).
    pub uploads_url: Option<String>,
    /// How long a link to a photo handed to a client stays valid.
    pub upload_link_secs: u64,
    /// Photos with more pixels are refused before decoding (decompression bombs).
    pub ocr_max_pixels: u64,
    /// An OpenAI-compatible vision model that reads photos too: its endpoint (default: the
    /// LLM's), key (default: the LLM's) and model; without a model, only the built-in reader.
    pub vision_base_url: Option<String>,
    pub vision_api_key: Option<String>,
    pub vision_model: Option<String>,
    /// `fallback`: ask the vision model when the built-in reading is less confident than
    /// `vision_below` (or found nothing); `always`: ask it for every photo.
    pub vision_mode: String,
    pub vision_below: f64,
    /// An OpenAI-compatible `/audio/transcriptions` endpoint for the learners' spoken turns:
    /// its base URL (default: the LLM's when a transcription model is set), key (default: the
    /// LLM's) and model; without a model, audio is kept but not transcribed.
    pub transcription_base_url: Option<String>,
    pub transcription_api_key: Option<String>,
    pub transcription_model: Option<String>,
    /// Largest assembled audio recording of one session, in bytes.
    pub audio_max_bytes: u64,
    /// Exports of more rows than this are built by a job rather than within the request.
    pub export_inline_rows: u64,
    /// Requests a second (sustained) one client IP may make, and how many at once; 0 per
    /// second: no per-IP limit (the default: behind a proxy every request would come from the
    /// proxy's address unless `trust_forwarded_for` is set). Burst 0: as many as per second.
    /// Over the limit: 429 with `Retry-After`. Health and metrics routes are never limited.
    pub rate_limit_per_ip_per_sec: u32,
    pub rate_limit_per_ip_burst: u32,
    /// The same per credential: an API key, or the caller a bearer token authenticated as
    /// (every token of one caller shares the budget). 0 per second: no limit (the default).
    pub rate_limit_per_key_per_sec: u32,
    pub rate_limit_per_key_burst: u32,
    /// The client IP of the per-IP limit is the rightmost `X-Forwarded-For` address instead of
    /// the peer's: set it only behind a proxy that appends that header, or clients choose it.
    pub trust_forwarded_for: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("./data"),
            database_url: None,
            nats_url: None,
            nats_credentials_file: None,
            nats_stream: "PRACTICA_EVENTS".to_string(),
            nats_subject_prefix: crate::events::SUBJECT_PREFIX.to_string(),
            sqs_queue_url: None,
            sqs_endpoint_url: None,
            relay_enabled: true,
            jwt_secret_file: None,
            jwks_url: None,
            jwt_audience: None,
            jwt_issuer: None,
            body_limit_bytes: 1 << 20,
            request_timeout_secs: 300,
            diagnosis_threshold: 0.5,
            log_format: "json".to_string(),
            workers: 16,
            job_lease_secs: 60,
            job_max_attempts: 5,
            job_backoff_ms: 1_000,
            job_backoff_max_secs: 300,
            job_poll_ms: 500,
            job_sweep_secs: 5,
            job_retention_hours: 7 * 24,
            outbox_retention_hours: 7 * 24,
            idempotency_retention_hours: 7 * 24,
            classification_deadline_secs: 600,
            llm_base_url: None,
            llm_api_key: None,
            llm_model: "gpt-4o-mini".to_string(),
            llm_timeout_secs: 30,
            llm_max_retries: 3,
            llm_daily_token_budget: None,
            learn_min_reports: 3,
            learn_min_reporters: 2,
            learn_min_agreement: 0.75,
            mastery_at_risk_below: 0.4,
            mastery_developing_below: 0.6,
            mastery_proficient_below: 0.95,
            mastery_refit_hours: 24,
            mastery_refit_min_responses: 200,
            uploads_url: None,
            upload_link_secs: 900,
            ocr_max_pixels: 40_000_000,
            vision_base_url: None,
            vision_api_key: None,
            vision_model: None,
            transcription_base_url: None,
            transcription_api_key: None,
            transcription_model: None,
            audio_max_bytes: 100 << 20,
            export_inline_rows: 20_000,
            rate_limit_per_ip_per_sec: 0,
            rate_limit_per_ip_burst: 0,
            rate_limit_per_key_per_sec: 0,
            rate_limit_per_key_burst: 0,
            trust_forwarded_for: false,
            vision_mode: "fallback".to_string(),
            vision_below: 0.5,
        }
    }
}

impl Config {
    /// `request_timeout_secs` as a limit, `None` for none.
    pub fn request_timeout(&self) -> Option<Duration> {
        (self.request_timeout_secs > 0).then(|| Duration::from_secs(self.request_timeout_secs))
    }

    /// Defaults, then `file` (or `<data dir>/practica.toml` when it exists), then the
    /// environment, then `overrides` (the flags that were given).
    pub fn load(file: Option<&Path>, overrides: &serde_json::Value) -> anyhow::Result<Config> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(file) = file {
            anyhow::ensure!(file.exists(), "config file {} not found", file.display());
            figment = figment.merge(Toml::file(file));
        } else {
            let data_dir = overrides
                .get("data_dir")
                .and_then(|v| v.as_str())
                .map(PathBuf::from)
                .unwrap_or_else(|| Config::default().data_dir);
            figment = figment.merge(Toml::file(data_dir.join("practica.toml")));
        }
        figment = figment
            .merge(Env::prefixed("PRACTICA_"))
            .merge(Serialized::defaults(overrides));
        let config: Config = figment.extract()?;
        anyhow::ensure!(
            (0.0..=1.0).contains(&config.diagnosis_threshold),
            "diagnosis_threshold must be in [0, 1]"
        );
        anyhow::ensure!(
            !config.nats_subject_prefix.is_empty()
                && !config.nats_subject_prefix.contains(['*', '>', ' '])
                && !config.nats_subject_prefix.starts_with('.')
                && !config.nats_subject_prefix.ends_with('.'),
            "nats_subject_prefix must be a subject without wildcards, e.g. practica.events"
        );
        if let Some(url) = &config.sqs_queue_url {
            anyhow::ensure!(
                cfg!(feature = "sqs"),
                "sqs_queue_url is set, but this binary was built without the `sqs` feature"
            );
            anyhow::ensure!(
                config.nats_url.is_none(),
                "nats_url and sqs_queue_url are both set: events go to one sink, choose one"
            );
            // FIFO queues' names end in .fifo; a standard queue would not keep students' order.
            anyhow::ensure!(
                (url.starts_with("https://") || url.starts_with("http://")) && url.ends_with(".fifo"),
                "sqs_queue_url must be the http(s) URL of a FIFO queue (its name ends in .fifo)"
            );
        }
        if let Some(url) = &config.sqs_endpoint_url {
            anyhow::ensure!(
                url.starts_with("https://") || url.starts_with("http://"),
                "sqs_endpoint_url must be an http(s) URL"
            );
        }
        anyhow::ensure!(
            config.body_limit_bytes >= 1024,
            "body_limit_bytes must be at least 1024"
        );
        anyhow::ensure!(config.job_lease_secs >= 1, "job_lease_secs must be at least 1");
        anyhow::ensure!(
            (1..=100).contains(&config.job_max_attempts),
            "job_max_attempts must be between 1 and 100"
        );
        anyhow::ensure!(
            config.job_poll_ms >= 10 && config.job_sweep_secs >= 1,
            "job_poll_ms must be at least 10 and job_sweep_secs at least 1"
        );
        anyhow::ensure!(
            config.classification_deadline_secs >= 1,
            "classification_deadline_secs must be at least 1"
        );
        anyhow::ensure!(
            config.learn_min_reports >= 1
                && config.learn_min_reporters >= 1
                && (0.5..=1.0).contains(&config.learn_min_agreement),
            "learn_min_reports and learn_min_reporters must be at least 1, learn_min_agreement in [0.5, 1]"
        );
        anyhow::ensure!(
            mastery::Cutoffs {
                at_risk: config.mastery_at_risk_below,
                developing: config.mastery_developing_below,
                proficient: config.mastery_proficient_below,
            }
            .is_valid(),
            "mastery_at_risk_below < mastery_developing_below < mastery_proficient_below must hold, within (0, 1]"
        );
        anyhow::ensure!(
            matches!(config.vision_mode.as_str(), "fallback" | "always"),
            "vision_mode must be fallback or always"
        );
        anyhow::ensure!(
            (0.0..=1.0).contains(&config.vision_below),
            "vision_below must be in [0, 1]"
        );
        anyhow::ensure!(
            config.upload_link_secs >= 1 && config.ocr_max_pixels >= 1,
            "upload_link_secs and ocr_max_pixels must be at least 1"
        );
        if config.vision_model.is_some() {
            let url = config.vision_base_url.as_ref().or(config.llm_base_url.as_ref());
            anyhow::ensure!(
                url.is_some_and(|u| u.starts_with("http://") || u.starts_with("https://")),
                "vision_model needs an http(s) vision_base_url (or llm_base_url)"
            );
        }
        if let Some(url) = &config.llm_base_url {
            anyhow::ensure!(
                url.starts_with("http://") || url.starts_with("https://"),
                "llm_base_url must be an http(s) URL"
            );
        }
        if config.transcription_model.is_some() {
            let url = config.transcription_base_url.as_ref().or(config.llm_base_url.as_ref());
            anyhow::ensure!(
                url.is_some_and(|u| u.starts_with("http://") || u.starts_with("https://")),
                "transcription_model needs an http(s) transcription_base_url (or llm_base_url)"
            );
        }
        anyhow::ensure!(config.audio_max_bytes >= 1, "audio_max_bytes must be at least 1");
        for (rate, burst, name) in [
            (config.rate_limit_per_ip_per_sec, config.rate_limit_per_ip_burst, "ip"),
            (
                config.rate_limit_per_key_per_sec,
                config.rate_limit_per_key_burst,
                "key",
            ),
        ] {
            anyhow::ensure!(
                rate > 0 || burst == 0,
                "rate_limit_per_{name}_burst needs rate_limit_per_{name}_per_sec (0 turns the limit off)"
            );
        }
        Ok(config)
    }

    /// The job workers' settings.
    pub fn worker_options(&self) -> crate::jobs::WorkerOptions {
        crate::jobs::WorkerOptions {
            concurrency: self.workers,
            lease: Duration::from_secs(self.job_lease_secs),
            poll: Duration::from_millis(self.job_poll_ms),
            backoff_base: Duration::from_millis(self.job_backoff_ms),
            backoff_max: Duration::from_secs(self.job_backoff_max_secs),
            sweep_every: Duration::from_secs(self.job_sweep_secs),
            drain: Duration::from_secs(20),
            retention: Duration::from_secs(self.job_retention_hours.saturating_mul(3600)),
            outbox_retention: hours(self.outbox_retention_hours),
            idempotency_retention: hours(self.idempotency_retention_hours),
        }
    }

    /// The SQLite file the store lives in, or `None` on PostgreSQL.
    pub fn sqlite_file(&self) -> Option<PathBuf> {
        let db = self.database();
        if db.starts_with("postgres://") || db.starts_with("postgresql://") {
            return None;
        }
        let path = db
            .strip_prefix("sqlite://")
            .or_else(|| db.strip_prefix("sqlite:"))
            .unwrap_or(&db);
        Some(PathBuf::from(path.split('?').next().unwrap_or(path)))
    }

    /// The database the service uses: the configured URL or the data dir's SQLite file.
    pub fn database(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| self.data_dir.join("practica.db").display().to_string())
    }
}

/// A retention in hours, where 0 means "keep forever".
fn hours(h: u64) -> Option<Duration> {
    (h > 0).then(|| Duration::from_secs(h.saturating_mul(3600)))
}
