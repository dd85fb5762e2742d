//! The SQS FIFO sink (the `sqs` feature). Each event is one message: its group is the event's
//! ordering key (the student), so SQS keeps each student's events in order and lets consumers
//! work on different students at once; its deduplication id is the event id, so an event
//! republished after a crash between sending and marking is dropped by SQS (within its
//! five-minute deduplication interval).
//!
//! Messages go out with SendMessageBatch. SQS reports each entry of a batch on its own, and an
//! entry it refuses does not stop the entries after it; so a batch never holds two events of one
//! group (a refused event followed by an accepted one of its student would be out of order),
//! and batches are sent one after another, stopping at the first refusal. What SQS accepted is
//! then, per student, a prefix of that student's events: it is marked published, and the next
//! pass resumes every student where it stopped.

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use aws_config::{ConfigLoader, SdkConfig};
use aws_sdk_sqs::Client;
use aws_sdk_sqs::config::timeout::TimeoutConfig;
use aws_sdk_sqs::config::{BehaviorVersion, Region};
use aws_sdk_sqs::error::DisplayErrorContext;
use aws_sdk_sqs::types::{MessageAttributeValue, QueueAttributeName, SendMessageBatchRequestEntry};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use sha2::{Digest, Sha256};

use crate::storage::OutboxRow;

/// Message attributes carried by every message (the body is the event as NATS gets it).
pub const EVENT_TYPE_ATTRIBUTE: &str = "Practica-Event-Type";
pub const ORDERING_KEY_ATTRIBUTE: &str = "Practica-Ordering-Key";
/// SendMessageBatch takes at most 10 entries…
const MAX_ENTRIES: usize = 10;
/// …of at most 256 KiB together (bodies and attributes). AWS has since raised it to 1 MiB, but
/// older queues, LocalStack and the documentation of many tools keep the old limit, and events
/// are small: a batch of ten is far below either.
const MAX_BATCH_BYTES: usize = 256 * 1024;
/// A message group id: 1 to 128 printable ASCII characters.
const MAX_GROUP_ID: usize = 128;

/// The AWS configuration loader the sink uses: the standard chain for credentials and region
/// (environment, profiles, web identity, container and instance credentials), over an HTTPS
/// client on the process's rustls with ring (the SDK's own default would bring aws-lc).
pub fn sqs_config_loader() -> ConfigLoader {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .build_https();
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(http)
        // Bounded, so an unanswered call fails and the relay retries instead of waiting forever.
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(5))
                .operation_attempt_timeout(Duration::from_secs(10))
                .operation_timeout(Duration::from_secs(30))
                .build(),
        )
}

#[derive(Clone, Debug)]
pub struct SqsSink {
    client: Client,
    queue_url: String,
}

impl SqsSink {
    /// A sink for `queue_url` with `sdk`'s credentials and region (or the region in the queue's
    /// URL, `https://sqs.<region>.amazonaws.com/…`), at `endpoint_url` when given. Asks for the
    /// queue's attributes first, so wrong credentials, a missing queue or a standard queue stop
    /// the start rather than leave events piling up in the outbox.
    pub async fn connect(sdk: &SdkConfig, queue_url: &str, endpoint_url: Option<&str>) -> anyhow::Result<SqsSink> {
        let mut config = aws_sdk_sqs::config::Builder::from(sdk);
        if sdk.region().is_none() {
            let region = region_in_url(queue_url).ok_or_else(|| {
                anyhow::anyhow!("SQS queue {queue_url}: no AWS region (set AWS_REGION or a profile's region)")
            })?;
            config = config.region(Region::new(region));
        }
        if let Some(endpoint) = endpoint_url {
            config = config.endpoint_url(endpoint);
        }
        let client = Client::from_conf(config.build());
        let attributes = client
            .get_queue_attributes()
            .queue_url(queue_url)
            .attribute_names(QueueAttributeName::FifoQueue)
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("SQS queue {queue_url}: {}", DisplayErrorContext(&e)))?;
        let fifo = attributes
            .attributes()
            .and_then(|a| a.get(&QueueAttributeName::FifoQueue))
            .is_some_and(|v| v == "true");
        anyhow::ensure!(
            fifo,
            "SQS queue {queue_url} is not a FIFO queue: events need one to stay in order per student"
        );
        Ok(SqsSink {
            client,
            queue_url: queue_url.to_string(),
        })
    }

    /// Sends `rows`; returns the seqs SQS accepted and why it stopped, if it did.
    pub(super) async fn publish(&self, rows: &[OutboxRow]) -> (Vec<i64>, Option<anyhow::Error>) {
        let messages: Vec<Message> = rows.iter().map(Message::new).collect();
        publish_in_batches(rows, &messages, |batch| self.send_batch(rows, &messages, batch)).await
    }

    async fn send_batch(&self, rows: &[OutboxRow], messages: &[Message], batch: Vec<usize>) -> anyhow::Result<Sent> {
        let mut request = self.client.send_message_batch().queue_url(&self.queue_url);
        for &i in &batch {
            request = request.entries(messages[i].entry(i, &rows[i])?);
        }
        let output = request
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("SQS SendMessageBatch: {}", DisplayErrorContext(&e)))?;
        let ok: std::collections::HashSet<&str> = output.successful().iter().map(|s| s.id()).collect();
        let accepted: Vec<usize> = batch
            .iter()
            .copied()
            .filter(|i| ok.contains(i.to_string().as_str()))
            .collect();
        let refused = (accepted.len() < batch.len()).then(|| match output.failed().first() {
            Some(f) => {
                let event = f.id().parse::<usize>().ok().and_then(|i| rows.get(i));
                let event = event.map_or_else(|| format!("entry {}", f.id()), |r| r.event_id.to_string());
                anyhow::anyhow!(
                    "SQS refused event {event}: {} {} ({} fault)",
                    f.code(),
                    f.message().unwrap_or_default(),
                    if f.sender_fault() { "sender's" } else { "SQS's" }
                )
            }
            None => anyhow::anyhow!("SQS reported {} of {} messages as sent", accepted.len(), batch.len()),
        });
        Ok(Sent { accepted, refused })
    }
}

/// One row as a message: what batching needs to know before building the entry.
struct Message {
    group_id: String,
    body: String,
}

impl Message {
    fn new(row: &OutboxRow) -> Message {
        Message {
            group_id: group_id(&row.ordering_key),
            body: row.payload.to_string(),
        }
    }

    /// What SQS counts against a batch's size: the body and the attributes' names, types and
    /// values.
    fn size(&self, row: &OutboxRow) -> usize {
        self.body.len()
            + EVENT_TYPE_ATTRIBUTE.len()
            + row.event_type.len()
            + ORDERING_KEY_ATTRIBUTE.len()
            + row.ordering_key.len()
            + 2 * "String".len()
    }

    /// The batch entry, identified by the row's index in the pass.
    fn entry(&self, index: usize, row: &OutboxRow) -> anyhow::Result<SendMessageBatchRequestEntry> {
        let string = |value: &str| {
            MessageAttributeValue::builder()
                .data_type("String")
                .string_value(value)
                .build()
        };
        let mut entry = SendMessageBatchRequestEntry::builder()
            .id(index.to_string())
            .message_body(&self.body)
            .message_group_id(&self.group_id)
            .message_deduplication_id(row.event_id.to_string())
            .message_attributes(EVENT_TYPE_ATTRIBUTE, string(&row.event_type)?);
        // SQS refuses empty attribute values; the group id stands for the key then.
        if !row.ordering_key.is_empty() {
            entry = entry.message_attributes(ORDERING_KEY_ATTRIBUTE, string(&row.ordering_key)?);
        }
        Ok(entry.build()?)
    }
}

/// The message group of an ordering key: the key itself when SQS takes it as a group id,
/// otherwise (empty, too long, not printable ASCII) `sha256-<hex of the key>`, which keeps one
/// group per key instead of a message SQS would refuse on every retry.
fn group_id(key: &str) -> String {
    if !key.is_empty() && key.len() <= MAX_GROUP_ID && key.bytes().all(|b| b.is_ascii_graphic()) {
        key.to_string()
    } else {
        format!("sha256-{}", hex::encode(Sha256::digest(key.as_bytes())))
    }
}

/// The region of an AWS queue URL: `https://sqs.<region>.amazonaws.com/…` or the older
/// `https://<region>.queue.amazonaws.com/…`.
fn region_in_url(queue_url: &str) -> Option<String> {
    let host = queue_url.split_once("://")?.1.split(['/', ':']).next()?;
    let labels: Vec<&str> = host.split('.').collect();
    match labels.as_slice() {
        ["sqs", region, "amazonaws", ..] | [region, "queue", "amazonaws", ..] => Some(region.to_string()),
        _ => None,
    }
}

/// What one SendMessageBatch did: the indices (into the pass's rows) SQS accepted, and why it
/// refused the others.
struct Sent {
    accepted: Vec<usize>,
    refused: Option<anyhow::Error>,
}

/// Batches of at most [`MAX_ENTRIES`] and [`MAX_BATCH_BYTES`], no two of one group in a batch,
/// each group's rows in increasing batches in their order: a row goes to the first batch after
/// its group's previous one that has room. Returns indices into `rows`.
fn plan(rows: &[OutboxRow], messages: &[Message]) -> Vec<Vec<usize>> {
    let mut batches: Vec<(Vec<usize>, usize)> = Vec::new();
    let mut next_for_group: HashMap<&str, usize> = HashMap::new();
    for (i, (row, message)) in rows.iter().zip(messages).enumerate() {
        let size = message.size(row);
        let from = next_for_group.get(message.group_id.as_str()).copied().unwrap_or(0);
        let fits =
            |(entries, bytes): &(Vec<usize>, usize)| entries.len() < MAX_ENTRIES && bytes + size <= MAX_BATCH_BYTES;
        let b = match (from..batches.len()).find(|&b| fits(&batches[b])) {
            Some(b) => b,
            // A new batch, even for a message over the limit alone: SQS then refuses it and says
            // why, rather than the relay skipping it.
            None => {
                batches.push((Vec::new(), 0));
                batches.len() - 1
            }
        };
        batches[b].0.push(i);
        batches[b].1 += size;
        next_for_group.insert(&message.group_id, b + 1);
    }
    batches.into_iter().map(|(entries, _)| entries).collect()
}

/// Sends the planned batches one after another with `send`, stopping at the first that fails or
/// has an entry refused; returns the seqs accepted and the failure.
async fn publish_in_batches<F, Fut>(
    rows: &[OutboxRow],
    messages: &[Message],
    mut send: F,
) -> (Vec<i64>, Option<anyhow::Error>)
where
    F: FnMut(Vec<usize>) -> Fut,
    Fut: Future<Output = anyhow::Result<Sent>>,
{
    let mut accepted = Vec::with_capacity(rows.len());
    for batch in plan(rows, messages) {
        match send(batch).await {
            Ok(sent) => {
                accepted.extend(sent.accepted.iter().map(|&i| rows[i].seq));
                if let Some(e) = sent.refused {
                    return (accepted, Some(e));
                }
            }
            Err(e) => return (accepted, Some(e)),
        }
    }
    (accepted, None)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use serde_json::json;
    use uuid::Uuid;

    use super::*;

    fn rows(keys: &[&str]) -> Vec<OutboxRow> {
        keys.iter()
            .enumerate()
            .map(|(i, key)| OutboxRow {
                seq: 100 + i as i64,
                event_id: Uuid::new_v4(),
                event_type: "attempt.created".into(),
                ordering_key: key.to_string(),
                payload: json!({ "n": i }),
            })
            .collect()
    }

    fn messages(rows: &[OutboxRow]) -> Vec<Message> {
        rows.iter().map(Message::new).collect()
    }

    #[test]
    fn batches_hold_one_event_per_student_in_order_and_at_most_ten() {
        let keys: Vec<String> = (0..25)
            .map(|i| format!("stu_{}", i % 12))
            .chain(std::iter::repeat_n("stu_a".to_string(), 3))
            .collect();
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        let rows = rows(&keys);
        let batches = plan(&rows, &messages(&rows));
        let mut batch_of = vec![usize::MAX; rows.len()];
        for (b, batch) in batches.iter().enumerate() {
            assert!(!batch.is_empty() && batch.len() <= MAX_ENTRIES, "{batches:?}");
            let groups: HashSet<&str> = batch.iter().map(|&i| keys[i]).collect();
            assert_eq!(groups.len(), batch.len(), "one event per student in {batch:?}");
            for &i in batch {
                batch_of[i] = b;
            }
        }
        assert!(batch_of.iter().all(|&b| b != usize::MAX), "every row planned");
        for i in 0..rows.len() {
            for j in i + 1..rows.len() {
                if keys[i] == keys[j] {
                    assert!(batch_of[i] < batch_of[j], "{} before {}", i, j);
                }
            }
        }
        // Later students' events fill the room the earlier ones left: the last student's three
        // events go to the first batch with room and the two after it.
        let sizes: Vec<usize> = batches.iter().map(Vec::len).collect();
        assert_eq!(sizes, vec![10, 10, 6, 1, 1]);
    }

    #[test]
    fn many_students_fill_batches_and_one_student_goes_one_by_one() {
        let keys: Vec<String> = (0..25).map(|i| format!("stu_{i}")).collect();
        let rows = rows(&keys.iter().map(String::as_str).collect::<Vec<_>>());
        let sizes: Vec<usize> = plan(&rows, &messages(&rows)).iter().map(Vec::len).collect();
        assert_eq!(sizes, vec![10, 10, 5]);
        let rows = super::tests::rows(&["stu_a"; 3]);
        assert_eq!(plan(&rows, &messages(&rows)), vec![vec![0], vec![1], vec![2]]);
    }

    #[test]
    fn batches_stay_under_the_size_limit() {
        let mut rows = rows(&["a", "b", "c", "d"]);
        for row in &mut rows {
            row.payload = json!({ "text": "x".repeat(100 * 1024) });
        }
        let batches = plan(&rows, &messages(&rows));
        assert_eq!(batches, vec![vec![0, 1], vec![2, 3]]);
    }

    #[tokio::test]
    async fn a_refused_entry_is_retried_and_nothing_after_it_in_its_group_is_sent() {
        // stu_a's second event is refused once: the batch's other students' events count as
        // sent, stu_a's third is not sent at all, and later batches wait for the retry.
        let rows = rows(&["stu_a", "stu_b", "stu_a", "stu_c", "stu_a", "stu_b"]);
        let messages = messages(&rows);
        let mut calls = Vec::new();
        let (seqs, error) = publish_in_batches(&rows, &messages, |batch| {
            calls.push(batch.clone());
            async move {
                let refused = batch.contains(&2);
                Ok(Sent {
                    accepted: batch.iter().copied().filter(|&i| i != 2).collect(),
                    refused: refused.then(|| anyhow::anyhow!("throttled")),
                })
            }
        })
        .await;
        assert_eq!(calls, vec![vec![0, 1, 3], vec![2, 5]]);
        assert_eq!(error.unwrap().to_string(), "throttled");
        // stu_b's second event went out with the refused one; stu_a resumes at its second.
        assert_eq!(seqs, vec![100, 101, 103, 105]);

        // The next pass: what is left, in order.
        let left: Vec<OutboxRow> = rows.iter().filter(|r| !seqs.contains(&r.seq)).cloned().collect();
        let left_messages: Vec<Message> = left.iter().map(Message::new).collect();
        let (seqs, error) = publish_in_batches(&left, &left_messages, |batch| async move {
            Ok(Sent {
                accepted: batch,
                refused: None,
            })
        })
        .await;
        assert!(error.is_none());
        assert_eq!(seqs, vec![102, 104]);
    }

    #[tokio::test]
    async fn a_failed_call_accepts_nothing_of_its_batch() {
        let rows = rows(&["stu_a", "stu_a"]);
        let messages = messages(&rows);
        let mut n = 0;
        let (seqs, error) = publish_in_batches(&rows, &messages, |batch| {
            n += 1;
            let fail = n == 2;
            async move {
                if fail {
                    anyhow::bail!("connection reset")
                }
                Ok(Sent {
                    accepted: batch,
                    refused: None,
                })
            }
        })
        .await;
        assert_eq!(seqs, vec![100]);
        assert!(error.is_some());
    }

    #[test]
    fn group_ids_are_the_key_when_sqs_takes_it() {
        assert_eq!(group_id("stu_abc123"), "stu_abc123");
        assert_eq!(group_id("a-b.c:d@e"), "a-b.c:d@e");
        for key in ["", "élève", "with space", &"x".repeat(129)] {
            let id = group_id(key);
            assert!(id.starts_with("sha256-") && id.len() == 71, "{key}: {id}");
            assert_eq!(id, group_id(key), "stable");
        }
        assert_ne!(group_id("élève"), group_id("eleve"));
    }

    #[test]
    fn regions_come_from_aws_queue_urls() {
        assert_eq!(
            region_in_url("https://sqs.eu-west-3.amazonaws.com/123456789012/events.fifo").as_deref(),
            Some("eu-west-3")
        );
        assert_eq!(
            region_in_url("https://us-east-2.queue.amazonaws.com/123456789012/events.fifo").as_deref(),
            Some("us-east-2")
        );
        assert_eq!(region_in_url("http://127.0.0.1:5055/123456789012/events.fifo"), None);
    }
}
