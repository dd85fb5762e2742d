//! practica's service: the exercise attempts API over a SQLite or PostgreSQL store, with an
//! outbox relayed to in-process subscribers or NATS JetStream.

pub mod adhoc;
pub mod admin;
pub mod app;
pub mod attempts;
pub mod auth;
pub mod catalog;
pub mod config;
pub mod content;
pub mod error;
pub mod events;
pub mod ops;
pub mod storage;
pub mod trace;
