//! Configuration: built-in defaults, then a TOML file, then `PRACTICA_*` environment variables,
//! then command-line flags (each overriding the one before).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

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
    /// `nats://…` to publish events to NATS JetStream instead of in-process subscribers.
    pub nats_url: Option<String>,
    /// JetStream stream the events go to (created if missing).
    pub nats_stream: String,
    /// Events are published on `<prefix>.<event type>`; the stream takes `<prefix>.>`. Streams
    /// on one server may not share subjects, so each stream needs a prefix of its own.
    pub nats_subject_prefix: String,
    /// Whether this process runs the outbox relay. Off, events stay in the outbox for another
    /// process (or a test) to relay.
    pub relay_enabled: bool,
    /// JWKS endpoint of an external identity provider (RS256/ES256 tokens).
    pub jwks_url: Option<String>,
    /// Expected `aud` and `iss` of externally issued tokens.
    pub jwt_audience: Option<String>,
    pub jwt_issuer: Option<String>,
    /// Largest request body accepted.
    pub body_limit_bytes: usize,
    /// Below this posterior a wrong answer is UNCLASSIFIED and goes to the asynchronous classifier.
    pub diagnosis_threshold: f64,
    /// `json` (default) or `text` logs.
    pub log_format: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("./data"),
            database_url: None,
            nats_url: None,
            nats_stream: "PRACTICA_EVENTS".to_string(),
            nats_subject_prefix: crate::events::SUBJECT_PREFIX.to_string(),
            relay_enabled: true,
            jwks_url: None,
            jwt_audience: None,
            jwt_issuer: None,
            body_limit_bytes: 1 << 20,
            diagnosis_threshold: 0.5,
            log_format: "json".to_string(),
        }
    }
}

impl Config {
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
        anyhow::ensure!(
            config.body_limit_bytes >= 1024,
            "body_limit_bytes must be at least 1024"
        );
        Ok(config)
    }

    /// The database the service uses: the configured URL or the data dir's SQLite file.
    pub fn database(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| self.data_dir.join("practica.db").display().to_string())
    }
}
