//! practica's service: the exercise attempts API over a SQLite or PostgreSQL store, with an
//! outbox relayed to in-process subscribers or NATS JetStream.

pub mod adhoc;
pub mod admin;
pub mod app;
pub mod attempts;
pub mod auth;
pub mod catalog;
pub mod classify;
pub mod config;
pub mod content;
pub mod error;
pub mod events;
pub mod feedback;
pub mod jobs;
pub mod llm;
pub mod llm_classifier;
pub mod mastery_api;
pub mod mcp;
pub mod ocr;
pub mod ops;
pub mod ratelimit;
pub mod refit;
pub mod sim;
pub mod storage;
pub mod trace;
pub mod uploads;

/// Makes rustls use the ring crypto provider (reqwest is built with `rustls-no-provider`, to
/// keep aws-lc's C build out). Idempotent; called before any HTTPS client is built.
pub fn install_tls_provider() {
    // An error means a provider is installed already, which is all this wants.
    let _ = rustls::crypto::ring::default_provider().install_default();
}
