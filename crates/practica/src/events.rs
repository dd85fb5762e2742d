//! Telemetry events: the transactional outbox, relayed after commit to a sink — in-process
//! subscribers by default, NATS JetStream or (with the `sqs` feature) an SQS FIFO queue when
//! configured. Events leave in commit order (so in order per student); a crash between
//! publishing and marking republishes, and the message id (the event id) lets JetStream, or
//! SQS's deduplication id, drop the duplicate. Processes sharing a database elect one
//! relay ([`OutboxStore::try_lead_relay`]): two publishing at once could interleave their
//! batches and break the per-student order.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream;
use async_nats::jetstream::message::PublishMessage;
use serde_json::Value;
use tokio::sync::{Notify, broadcast, watch};
use uuid::Uuid;

use crate::storage::{OutboxRow, OutboxStore};

// Beside this file rather than declared in lib.rs: the SQS sink is part of the relay.
#[cfg(feature = "sqs")]
#[path = "events_sqs.rs"]
mod sqs;
#[cfg(feature = "sqs")]
pub use sqs::{SqsSink, sqs_config_loader};

/// Subjects are `<prefix>.<event type>`, by default `practica.events.<event type>`.
pub const SUBJECT_PREFIX: &str = "practica.events";
const BATCH: i64 = 256;
const IDLE_POLL: Duration = Duration::from_millis(500);
const COALESCE: Duration = Duration::from_millis(5);
/// How often a relay that is not the leader asks again.
const LEAD_POLL: Duration = Duration::from_secs(1);

/// An event as in-process subscribers receive it.
#[derive(Clone, Debug)]
pub struct Event {
    pub seq: i64,
    pub id: Uuid,
    pub event_type: String,
    pub ordering_key: String,
    pub payload: Value,
}

#[derive(Clone)]
pub enum Sink {
    Embedded(broadcast::Sender<Arc<Event>>),
    Nats {
        js: Box<jetstream::Context>,
        /// Subjects are `<subject_prefix>.<event type>`.
        subject_prefix: String,
    },
    /// An SQS FIFO queue, grouped by ordering key.
    #[cfg(feature = "sqs")]
    Sqs(SqsSink),
}

/// The SQS FIFO sink for `queue_url`, with credentials and region from the standard AWS chain
/// and, when given, another endpoint (moto, LocalStack…).
#[cfg(feature = "sqs")]
pub async fn connect_sqs(queue_url: &str, endpoint_url: Option<&str>) -> anyhow::Result<Sink> {
    let sdk = sqs_config_loader().load().await;
    Ok(Sink::Sqs(SqsSink::connect(&sdk, queue_url, endpoint_url).await?))
}

/// Without the `sqs` feature there is no SQS sink: a configured queue is an error, not events
/// silently kept in-process.
#[cfg(not(feature = "sqs"))]
pub async fn connect_sqs(queue_url: &str, _endpoint_url: Option<&str>) -> anyhow::Result<Sink> {
    anyhow::bail!("sqs_queue_url is {queue_url}, but this binary was built without the `sqs` feature")
}

/// Connects to NATS and makes sure the stream exists (created if missing) and takes the
/// subjects `<subject_prefix>.>`. Streams may not overlap in subjects, so a second stream on one
/// server (a test, another deployment) needs its own prefix.
pub async fn connect_nats(
    url: &str,
    credentials_file: Option<&std::path::Path>,
    stream: &str,
    subject_prefix: &str,
) -> anyhow::Result<(async_nats::Client, jetstream::Context)> {
    let servers = nats_servers(url)?;
    // Shown in errors and logs without the credentials the URL may hold.
    let shown = servers
        .iter()
        .map(|s| format!("{}:{}", s.host(), s.port()))
        .collect::<Vec<_>>()
        .join(",");
    let mut options =
        nats_url_auth(async_nats::ConnectOptions::new(), &servers)?.connection_timeout(Duration::from_secs(5));
    if let Some(path) = credentials_file {
        options = options
            .credentials_file(path)
            .await
            .map_err(|e| anyhow::anyhow!("NATS credentials file {}: {e}", path.display()))?;
    }
    let client = options
        .connect(servers)
        .await
        .map_err(|e| anyhow::anyhow!("NATS at {shown}: {e}"))?;
    let js = jetstream::new(client.clone());
    let subjects = format!("{subject_prefix}.>");
    let existing = js
        .get_or_create_stream(jetstream::stream::Config {
            name: stream.to_string(),
            subjects: vec![subjects.clone()],
            // Long enough to cover a relay restart: a republished event within it is dropped.
            duplicate_window: Duration::from_secs(600),
            ..Default::default()
        })
        .await
        .map_err(|e| anyhow::anyhow!("JetStream stream {stream}: {e}"))?;
    // An existing stream is taken as it is: without the subjects, every publish would fail.
    let taken = &existing.cached_info().config.subjects;
    anyhow::ensure!(
        taken.contains(&subjects),
        "JetStream stream {stream} takes {taken:?}, not {subjects}: change nats_subject_prefix or the stream"
    );
    Ok((client, js))
}

/// The servers of `nats_url`: one URL, or a cluster's seeds separated by commas (the client
/// learns the other members from the servers themselves).
fn nats_servers(url: &str) -> anyhow::Result<Vec<async_nats::ServerAddr>> {
    let servers = url
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<async_nats::ServerAddr>()
                .map_err(|e| anyhow::anyhow!("nats_url: {e}"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    anyhow::ensure!(!servers.is_empty(), "nats_url names no server");
    Ok(servers)
}

/// Credentials written in the URL: async-nats parses `user:password@` and `token@` but never
/// sends them, so they become connect options here (from the first server that has any; a
/// cluster's members share one account).
fn nats_url_auth(
    options: async_nats::ConnectOptions,
    servers: &[async_nats::ServerAddr],
) -> anyhow::Result<async_nats::ConnectOptions> {
    let decode = |part: &str| {
        percent_encoding::percent_decode_str(part)
            .decode_utf8()
            .map(|s| s.into_owned())
            .map_err(|_| anyhow::anyhow!("nats_url: the credentials are not UTF-8 once decoded"))
    };
    let Some(server) = servers.iter().find(|s| s.has_user_pass()) else {
        return Ok(options);
    };
    Ok(match (server.username(), server.password()) {
        (Some(user), Some(password)) => options.user_and_password(decode(user)?, decode(password)?),
        (Some(token), None) => options.token(decode(token)?),
        _ => options,
    })
}

impl Sink {
    /// In-process subscribers: their events belong to the serving process, so other processes
    /// (`practica worker`) leave them to it.
    pub fn is_embedded(&self) -> bool {
        matches!(self, Sink::Embedded(_))
    }

    /// Publishes a batch; returns the seqs of the rows the sink accepted (per ordering key, a
    /// prefix of that key's rows, so the next pass resumes each key where it stopped) and the
    /// first failure.
    async fn publish(&self, rows: &[OutboxRow]) -> (Vec<i64>, Option<anyhow::Error>) {
        let (accepted, error) = match self {
            Sink::Embedded(tx) => {
                for row in rows {
                    // No subscriber is not an error: in-process delivery is best effort.
                    let _ = tx.send(Arc::new(Event {
                        seq: row.seq,
                        id: row.event_id,
                        event_type: row.event_type.clone(),
                        ordering_key: row.ordering_key.clone(),
                        payload: row.payload.clone(),
                    }));
                }
                (rows.len(), None)
            }
            Sink::Nats { js, subject_prefix } => publish_nats(js, subject_prefix, rows).await,
            #[cfg(feature = "sqs")]
            Sink::Sqs(sqs) => return sqs.publish(rows).await,
        };
        (rows[..accepted].iter().map(|r| r.seq).collect(), error)
    }
}

/// Publishes to JetStream in order; returns how many were acknowledged before the first failure.
async fn publish_nats(
    js: &jetstream::Context,
    subject_prefix: &str,
    rows: &[OutboxRow],
) -> (usize, Option<anyhow::Error>) {
    // Publishes are pipelined on one connection (which keeps their order); acks are awaited in
    // order so the published prefix is known.
    let mut acks = Vec::with_capacity(rows.len());
    for row in rows {
        let subject = format!("{subject_prefix}.{}", row.event_type);
        let publish = PublishMessage::build()
            .message_id(row.event_id.to_string())
            .header("Practica-Ordering-Key", row.ordering_key.as_str())
            .payload(row.payload.to_string().into());
        match js.send_publish(subject, publish).await {
            Ok(ack) => acks.push(ack),
            Err(e) => return (0, Some(anyhow::anyhow!("publish: {e}"))),
        }
    }
    for (i, ack) in acks.into_iter().enumerate() {
        if let Err(e) = ack.await {
            return (i, Some(anyhow::anyhow!("ack: {e}")));
        }
    }
    (rows.len(), None)
}

/// Moves committed events from the outbox to the sink. One per store: leadership is held by the
/// store (the process), so two relays on one store would both lead.
pub struct Relay {
    pub store: Arc<dyn OutboxStore>,
    pub sink: Sink,
    pub wake: Arc<Notify>,
}

impl Relay {
    /// Runs until `stop` turns true, then publishes what is left and returns. Publishes only
    /// while it leads; otherwise it waits and asks again.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let mut backoff = Duration::from_millis(100);
        let mut leading = None;
        loop {
            // A dropped sender counts as a stop: `changed()` would return at once from then on.
            let stopping = *stop.borrow() || stop.has_changed().is_err();
            // Asked before every batch, not once: leadership can be lost at any time (the
            // database connection holding it drops), and then another process may take over.
            let lead = match self.store.try_lead_relay().await {
                Ok(lead) => lead,
                Err(e) => {
                    tracing::warn!(error = format!("{e:#}"), "outbox relay: cannot ask for leadership");
                    false
                }
            };
            if leading != Some(lead) {
                leading = Some(lead);
                tracing::info!(leading = lead, "outbox relay: leadership");
            }
            if !lead {
                // The leader drains the outbox on its own stop; there is nothing to hand over.
                if stopping {
                    return;
                }
                tokio::select! {
                    _ = tokio::time::sleep(LEAD_POLL) => {}
                    _ = stop.changed() => {}
                }
                continue;
            }
            match self.pass().await {
                Ok(0) if stopping => return,
                Ok(0) => {
                    tokio::select! {
                        _ = self.wake.notified() => {}
                        _ = tokio::time::sleep(IDLE_POLL) => {}
                        _ = stop.changed() => {}
                    }
                }
                Ok(n) => {
                    backoff = Duration::from_millis(100);
                    // A part batch under load: wait a moment so the next pass carries more events
                    // (fewer writes competing with attempts; events leave at most this much later).
                    if (n as i64) < BATCH {
                        tokio::time::sleep(COALESCE).await;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = format!("{e:#}"), "outbox relay: will retry");
                    if stopping {
                        return;
                    }
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(10));
                }
            }
        }
    }

    /// One batch: returns how many events were published.
    pub async fn pass(&self) -> anyhow::Result<usize> {
        let rows = self.store.unpublished(BATCH).await?;
        if rows.is_empty() {
            return Ok(0);
        }
        let (seqs, error) = self.sink.publish(&rows).await;
        if !seqs.is_empty() {
            self.store.mark_published(&seqs).await?;
        }
        match error {
            Some(e) => Err(e),
            None => Ok(seqs.len()),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::config::Config;

    fn load(mut overrides: serde_json::Value) -> anyhow::Result<Config> {
        // A data dir of its own: no practica.toml of the working directory is read.
        let dir = std::env::temp_dir().join(format!("practica-events-{}", uuid::Uuid::new_v4()));
        overrides["data_dir"] = json!(dir);
        Config::load(None, &overrides)
    }

    #[test]
    fn the_sqs_sink_is_chosen_by_its_queue_url_alone() {
        let queue = "https://sqs.eu-west-3.amazonaws.com/123456789012/events.fifo";
        let loaded = load(json!({ "sqs_queue_url": queue }));
        if cfg!(feature = "sqs") {
            assert_eq!(loaded.unwrap().sqs_queue_url.as_deref(), Some(queue));
            let both = load(json!({ "sqs_queue_url": queue, "nats_url": "nats://127.0.0.1:4222" }));
            assert!(both.unwrap_err().to_string().contains("both set"));
            let standard = load(json!({ "sqs_queue_url": "https://sqs.eu-west-3.amazonaws.com/1/events" }));
            assert!(standard.unwrap_err().to_string().contains("FIFO"));
        } else {
            let e = loaded.unwrap_err().to_string();
            assert!(e.contains("built without the `sqs` feature"), "{e}");
        }
    }

    #[cfg(not(feature = "sqs"))]
    #[tokio::test]
    async fn without_the_feature_no_sqs_sink_is_made() {
        let e = super::connect_sqs("https://sqs.eu-west-3.amazonaws.com/1/events.fifo", None).await;
        assert!(e.is_err_and(|e| e.to_string().contains("without the `sqs` feature")));
    }
}
