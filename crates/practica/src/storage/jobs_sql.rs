//! The job and classification statements that are the same SQL on SQLite and PostgreSQL (`$n`
//! parameters, `ON CONFLICT`, `RETURNING`); the backends bind their own types (PostgreSQL uuid
//! and timestamptz, SQLite text and Unix milliseconds for job times). Claims and queue metrics
//! differ (`SKIP LOCKED`, time arithmetic) and stay in each backend's file.

use time::OffsetDateTime;

use super::{Pruned, Result};

/// The head of a multi-row insert (the backends push the VALUES).
pub(super) const INSERT_JOBS: &str = "INSERT INTO job \
     (id, kind, dedupe_key, payload, status, attempts, max_attempts, run_after, created_at, updated_at) ";

pub(super) const COMPLETE_JOB: &str = "UPDATE job \
     SET status = 'done', lease_until = NULL, finished_at = $3, updated_at = $3 \
     WHERE id = $1 AND lease_owner = $2 AND status = 'running'";

pub(super) const EXTEND_LEASE: &str = "UPDATE job \
     SET lease_until = $3 \
     WHERE id = $1 AND lease_owner = $2 AND status = 'running'";

pub(super) const RETRY_JOB: &str = "UPDATE job \
     SET status = 'queued', lease_owner = NULL, lease_until = NULL, last_error = $3, run_after = $4, updated_at = $5 \
     WHERE id = $1 AND lease_owner = $2 AND status = 'running'";

pub(super) const BURY_JOB: &str = "UPDATE job \
     SET status = 'dead', lease_until = NULL, last_error = $3, finished_at = $4, updated_at = $4 \
     WHERE id = $1 AND lease_owner = $2 AND status = 'running'";

pub(super) const REQUEUE_EXPIRED: &str = "UPDATE job \
     SET status = 'queued', lease_owner = NULL, lease_until = NULL, run_after = $1, updated_at = $1, \
       last_error = COALESCE(last_error, 'lease expired') \
     WHERE status = 'running' AND lease_until < $1 AND attempts < max_attempts";

pub(super) const BURY_EXPIRED: &str = "UPDATE job \
     SET status = 'dead', lease_owner = NULL, lease_until = NULL, finished_at = $1, updated_at = $1, \
       last_error = 'lease expired on the last attempt' \
     WHERE status = 'running' AND lease_until < $1 AND attempts >= max_attempts \
     RETURNING id, kind, payload, attempts, max_attempts, created_at";

pub(super) const PURGE_DONE: &str = "DELETE FROM job \
     WHERE status = 'done' AND finished_at < $1";

/// Rows deleted by one statement of retention pruning: a short write each.
pub(super) const PRUNE_BATCH: i64 = 5_000;

pub(super) const PRUNE_EVENTS: &str = "DELETE FROM outbox WHERE seq IN \
     (SELECT seq FROM outbox WHERE published_at IS NOT NULL AND published_at < $1 LIMIT $2)";

pub(super) const PRUNE_IDEMPOTENCY: &str = "DELETE FROM idempotency WHERE (caller_id, key) IN \
     (SELECT caller_id, key FROM idempotency WHERE created_at < $1 LIMIT $2)";

/// Retention pruning on either backend: `delete(sql, before)` runs one batch of a `PRUNE_*`
/// statement and says how many rows it deleted; batches repeat until one comes back short.
pub(super) async fn prune_retained<F, Fut>(
    events_before: Option<OffsetDateTime>,
    idempotency_before: Option<OffsetDateTime>,
    delete: F,
) -> Result<Pruned>
where
    F: Fn(&'static str, OffsetDateTime) -> Fut,
    Fut: std::future::Future<Output = Result<u64>>,
{
    let mut pruned = Pruned::default();
    for (sql, before, count) in [
        (PRUNE_EVENTS, events_before, &mut pruned.events),
        (PRUNE_IDEMPOTENCY, idempotency_before, &mut pruned.idempotency_keys),
    ] {
        let Some(before) = before else { continue };
        loop {
            let n = delete(sql, before).await?;
            *count += n;
            if n < PRUNE_BATCH as u64 {
                break;
            }
        }
    }
    Ok(pruned)
}

pub(super) const JOB_BY_ID: &str = "SELECT * \
     FROM job \
     WHERE id = $1";

pub(super) const JOB_BY_KEY: &str = "SELECT * \
     FROM job \
     WHERE dedupe_key = $1";

pub(super) const CLASSIFY_ATTEMPT: &str = "UPDATE attempt \
     SET status = 'CLASSIFIED', error_tag_code = $2, error_subtag = $3, classifier_source = $4, \
       classifier_name = $5, confidence = $6, classification = $7, classified_at = $8 \
     WHERE id = $1 AND status = 'PENDING'";

pub(super) const INSERT_EVENT: &str = "INSERT INTO outbox (event_id, event_type, ordering_key, payload, created_at) \
     VALUES ($1, $2, $3, $4, $5)";

pub(super) const PENDING_BEFORE: &str = "SELECT id \
     FROM attempt \
     WHERE status = 'PENDING' AND created_at < $1 \
     ORDER BY created_at LIMIT $2";

pub(super) const SIGNATURE_TALLY: &str = "SELECT r.error_tag_code, COUNT(*) AS reports, \
       COUNT(DISTINCT r.reporter_id) AS reporters \
     FROM attempt_report r \
     JOIN attempt a ON a.id = r.attempt_id \
     WHERE a.signature = $1 AND r.reporter_role IN ('teacher', 'admin') \
     GROUP BY r.error_tag_code \
     ORDER BY reports DESC, r.error_tag_code";

pub(super) const UPSERT_LEARNED_RULE: &str = "INSERT INTO learned_rule (signature, error_tag_code, reports, \
       reporters, agreement, learned_at) \
     VALUES ($1, $2, $3, $4, $5, $6) \
     ON CONFLICT (signature) DO UPDATE SET error_tag_code = excluded.error_tag_code, \
       reports = excluded.reports, reporters = excluded.reporters, agreement = excluded.agreement, \
       learned_at = excluded.learned_at";

pub(super) const LEARNED_RULES: &str = "SELECT * \
     FROM learned_rule \
     ORDER BY signature";

pub(super) const DELETE_LEARNED_RULE: &str = "DELETE \
     FROM learned_rule \
     WHERE signature = $1";

pub(super) const ADD_AI_USAGE: &str = "INSERT INTO ai_usage (day, model, calls, tokens) \
     VALUES ($1, $2, $3, $4) \
     ON CONFLICT (day, model) DO UPDATE SET calls = ai_usage.calls + excluded.calls, \
       tokens = ai_usage.tokens + excluded.tokens";

/// An ad-hoc attempt solved: the verdict and the topic the problem turned out to be.
pub(super) const SOLVE_ADHOC_ATTEMPT: &str = "UPDATE attempt \
     SET status = 'CLASSIFIED', topic_code = $2, is_correct = $3, expected_answer = $4, first_wrong_step = $5, \
       diagnosis = $6, error_tag_code = $7, error_subtag = $8, classifier_source = $9, classifier_name = $10, \
       confidence = $11, classification = $12, classified_at = $13 \
     WHERE id = $1 AND status = 'PENDING'";

pub(super) const STEP_PARSED: &str = "UPDATE attempt_step SET parsed_ok = $3 WHERE attempt_id = $1 AND idx = $2";
