//! Workers for the jobs table (see [`crate::storage::JobStore`]): every kind of asynchronous
//! work (classification now; ad-hoc solving, OCR, grading, exports later) is a [`JobHandler`].
//!
//! A worker claims due jobs under a lease, keeps the lease alive while a handler runs, and
//! records the outcome: done; failed and queued again after an exponential backoff with jitter;
//! or dead after the job's last attempt, with the last error kept. A worker that vanishes
//! (killed, partitioned) stops renewing its leases; the sweeper puts those jobs back in the
//! queue. So a job runs at least once, and handlers make a second run change nothing (the
//! classification, for one, writes only while its attempt is still PENDING).
//!
//! The same loop runs inside `practica serve` and as `practica worker` processes; any number of
//! them may share one PostgreSQL (claims use `FOR UPDATE SKIP LOCKED`).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use time::OffsetDateTime;
use tokio::sync::{Notify, Semaphore, watch};
use tokio::task::JoinSet;

use crate::storage::{ClaimedJob, JobOutcome, Store};

/// Why a run failed.
#[derive(Debug, Clone)]
pub struct JobFailure {
    pub error: String,
    /// Worth another attempt (a timeout, a rate limit, a database hiccup); otherwise the job dies.
    pub retryable: bool,
    /// Not before this (e.g. a provider's Retry-After).
    pub retry_after: Option<Duration>,
}

impl JobFailure {
    pub fn retry(error: impl Into<String>) -> Self {
        JobFailure {
            error: error.into(),
            retryable: true,
            retry_after: None,
        }
    }
    pub fn fatal(error: impl Into<String>) -> Self {
        JobFailure {
            error: error.into(),
            retryable: false,
            retry_after: None,
        }
    }
}

impl From<crate::storage::StoreError> for JobFailure {
    fn from(e: crate::storage::StoreError) -> Self {
        match e {
            crate::storage::StoreError::Corrupt(_) => JobFailure::fatal(e.to_string()),
            _ => JobFailure::retry(e.to_string()),
        }
    }
}

/// One kind of job.
#[async_trait]
pub trait JobHandler: Send + Sync + 'static {
    fn kind(&self) -> &'static str;
    /// Does the work. `owner` holds the job's lease; a handler that finishes the job in its own
    /// transaction passes it on (see `ClassificationStore::finish_classification`).
    async fn run(&self, job: &ClaimedJob, owner: &str) -> Result<(), JobFailure>;
    /// Called once a job is dead (out of attempts), to leave its subject in a final state.
    async fn dead(&self, _job: &ClaimedJob, _error: &str) -> anyhow::Result<()> {
        Ok(())
    }
    /// Periodic upkeep of the kind, run by the sweeper (e.g. deadlines).
    async fn sweep(&self) -> anyhow::Result<()> {
        Ok(())
    }
}

/// The most slots one kind of job may hold when this process runs several kinds: all of them
/// but an eighth (at least one) from 4 slots up. A dependency that hangs (an AI provider) holds
/// each of its jobs for a call's timeout and retries; without a cap its kind could take every
/// slot, and an export or an ad-hoc solve queued behind it would wait for the whole backlog. The
/// slots kept back go unused while only that kind has work: the price of the guarantee.
pub fn kind_cap(concurrency: usize, kinds: usize) -> usize {
    if kinds < 2 || concurrency < 4 {
        concurrency
    } else {
        concurrency - (concurrency / 8).max(1)
    }
}

/// How often published events and idempotency records past their retention are pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

#[derive(Clone, Debug)]
pub struct WorkerOptions {
    /// Jobs run at once by this process.
    pub concurrency: usize,
    /// How long a claim lasts without renewal; renewed every third of it while the job runs.
    pub lease: Duration,
    /// How often to look for due jobs when not woken.
    pub poll: Duration,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// How often the sweeper runs (expired leases, handlers' upkeep, queue metrics).
    pub sweep_every: Duration,
    /// How long a stopping worker waits for running jobs before leaving them to their leases.
    pub drain: Duration,
    /// Done jobs are deleted this long after they finished (dead ones are kept).
    pub retention: Duration,
    /// Published events are deleted from the outbox this long after they left; `None` keeps them.
    pub outbox_retention: Option<Duration>,
    /// `Idempotency-Key` records are deleted this long after they were written; `None` keeps them.
    pub idempotency_retention: Option<Duration>,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        WorkerOptions {
            concurrency: 16,
            lease: Duration::from_secs(60),
            poll: Duration::from_millis(500),
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(300),
            sweep_every: Duration::from_secs(5),
            drain: Duration::from_secs(20),
            retention: Duration::from_secs(7 * 24 * 3600),
            outbox_retention: Some(Duration::from_secs(7 * 24 * 3600)),
            idempotency_retention: Some(Duration::from_secs(7 * 24 * 3600)),
        }
    }
}

/// The delay before attempt `attempts + 1`: base·2^(attempts−1), capped, times a random factor
/// in [0.5, 1.5) so that jobs failing together do not retry together.
pub fn backoff(attempts: i32, base: Duration, max: Duration) -> Duration {
    let exp = attempts.clamp(1, 30) as u32 - 1;
    let raw = base.saturating_mul(1u32 << exp.min(20)).min(max);
    raw.mul_f64(0.5 + rand::random::<f64>())
}

/// The workers of one process.
pub struct Workers {
    store: Arc<dyn Store>,
    handlers: HashMap<&'static str, Arc<dyn JobHandler>>,
    options: WorkerOptions,
    /// Woken when this process enqueues work, so it starts without waiting for the next poll.
    wake: Arc<Notify>,
    owner: String,
}

impl Workers {
    pub fn new(
        store: Arc<dyn Store>,
        handlers: Vec<Arc<dyn JobHandler>>,
        options: WorkerOptions,
        wake: Arc<Notify>,
    ) -> Workers {
        let owner = format!(
            "{}-{}",
            std::process::id(),
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        Workers {
            store,
            handlers: handlers.into_iter().map(|h| (h.kind(), h)).collect(),
            options,
            wake,
            owner,
        }
    }

    /// This process's worker id (the lease owner of the jobs it runs).
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// Claims and runs jobs, and sweeps, until `stop` turns true; then waits up to the drain
    /// time for running jobs.
    pub async fn run(self, stop: watch::Receiver<bool>) {
        let this = Arc::new(self);
        let sweeper = tokio::spawn(this.clone().sweep_loop(stop.clone()));
        if this.options.concurrency > 0 {
            this.clone().claim_loop(stop).await;
        } else {
            let mut stop = stop;
            let _ = stop.wait_for(|s| *s).await;
        }
        sweeper.abort();
    }

    async fn claim_loop(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        let kinds: Vec<&'static str> = self.handlers.keys().copied().collect();
        let cap = kind_cap(self.options.concurrency, kinds.len());
        // Jobs of each kind running here, so that no kind holds more than `cap` slots.
        let per_kind: Arc<std::sync::Mutex<HashMap<&'static str, usize>>> = Arc::default();
        let slots = Arc::new(Semaphore::new(self.options.concurrency));
        let mut running = JoinSet::new();
        loop {
            if *stop.borrow() {
                break;
            }
            while running.try_join_next().is_some() {}
            let free = slots.available_permits();
            // The kinds below their cap, and the most one of them may still take: one claim
            // can then not take a kind past its cap, whatever mix of kinds it returns.
            let (open, room) = {
                let per_kind = per_kind.lock().unwrap_or_else(|e| e.into_inner());
                let held = |k: &&'static str| per_kind.get(k).copied().unwrap_or(0);
                let open: Vec<&'static str> = kinds.iter().filter(|k| held(k) < cap).copied().collect();
                let room = open.iter().map(|k| cap - held(k)).max().unwrap_or(0);
                (open, room)
            };
            let limit = free.min(room);
            let mut claimed = Vec::new();
            if limit > 0 {
                let now = OffsetDateTime::now_utc();
                match self
                    .store
                    .claim_jobs(&open, &self.owner, limit as i64, now, now + self.options.lease)
                    .await
                {
                    Ok(jobs) => claimed = jobs,
                    Err(e) => tracing::warn!(error = %e, "claiming jobs failed"),
                }
            }
            let got = claimed.len();
            for job in claimed {
                let Some((&kind, _)) = self.handlers.get_key_value(job.kind.as_str()) else {
                    continue;
                };
                *per_kind
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .entry(kind)
                    .or_default() += 1;
                let permit = slots.clone().acquire_owned().await.expect("semaphore open");
                let this = self.clone();
                let per_kind = per_kind.clone();
                running.spawn(async move {
                    this.run_one(job).await;
                    if let Some(n) = per_kind.lock().unwrap_or_else(|e| e.into_inner()).get_mut(kind) {
                        *n -= 1;
                    }
                    drop(permit);
                });
            }
            if got > 0 && got == limit {
                // Probably more due: claim again once a slot frees up.
                tokio::select! {
                    _ = slots.acquire() => {}
                    _ = stop.changed() => {}
                }
                continue;
            }
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(self.options.poll) => {}
                _ = stop.changed() => {}
                Some(_) = running.join_next(), if !running.is_empty() => {}
            }
        }
        let drained = tokio::time::timeout(self.options.drain, async {
            while running.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            tracing::warn!(
                jobs = running.len(),
                "stopping with jobs still running; their leases will expire and another worker will run them"
            );
            running.abort_all();
        }
    }

    async fn run_one(&self, job: ClaimedJob) {
        let Some(handler) = self.handlers.get(job.kind.as_str()).cloned() else {
            return;
        };
        let started = std::time::Instant::now();
        // Renew the lease while the handler runs, so a slow job is not swept from under it.
        let renew_every = self.options.lease / 3;
        let result = {
            let work = handler.run(&job, &self.owner);
            tokio::pin!(work);
            let mut renew = tokio::time::interval_at(tokio::time::Instant::now() + renew_every, renew_every);
            loop {
                tokio::select! {
                    r = &mut work => break r,
                    _ = renew.tick() => {
                        let until = OffsetDateTime::now_utc() + self.options.lease;
                        match self.store.extend_lease(job.id, &self.owner, until).await {
                            Ok(true) => {}
                            Ok(false) => tracing::warn!(job = %job.id, "lease lost while running; the job may run again elsewhere"),
                            Err(e) => tracing::warn!(job = %job.id, error = %e, "renewing a lease failed"),
                        }
                    }
                }
            }
        };
        let now = OffsetDateTime::now_utc();
        let (outcome, label) = match &result {
            Ok(()) => (JobOutcome::Done, "done"),
            Err(f) if f.retryable && job.attempts < job.max_attempts => {
                let wait = backoff(job.attempts, self.options.backoff_base, self.options.backoff_max)
                    .max(f.retry_after.unwrap_or_default());
                (
                    JobOutcome::Retry {
                        error: f.error.clone(),
                        run_after: now + wait,
                    },
                    "retry",
                )
            }
            Err(f) => (JobOutcome::Dead { error: f.error.clone() }, "dead"),
        };
        metrics::counter!("practica_jobs_total", "kind" => job.kind.clone(), "outcome" => label).increment(1);
        metrics::histogram!("practica_job_seconds", "kind" => job.kind.clone()).record(started.elapsed().as_secs_f64());
        if let Err(f) = &result {
            tracing::warn!(kind = %job.kind, job = %job.id, attempt = job.attempts, error = %f.error, outcome = label, "job failed");
        }
        match self.store.finish_job(job.id, &self.owner, &outcome, now).await {
            Ok(true) => {}
            // The lease was lost (swept while this worker stalled): the job is another
            // worker's now, and whatever it concludes stands; this run's outcome is void.
            Ok(false) => return,
            Err(e) => {
                // The lease will expire and the sweeper will queue the job again.
                tracing::warn!(job = %job.id, error = %e, "recording a job's outcome failed");
                return;
            }
        }
        if let JobOutcome::Dead { error } = &outcome
            && let Err(e) = handler.dead(&job, error).await
        {
            tracing::error!(job = %job.id, error = %e, "finalising a dead job failed");
        }
    }

    async fn sweep_loop(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        let mut tick = tokio::time::interval(self.options.sweep_every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut seen: HashSet<(String, &'static str)> = HashSet::new();
        // Pruning scans whole tables, so it runs hourly (and once soon after start), not on
        // every sweep.
        let mut pruned_at: Option<std::time::Instant> = None;
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stop.changed() => return,
            }
            if pruned_at.is_none_or(|t| t.elapsed() >= PRUNE_EVERY) {
                pruned_at = Some(std::time::Instant::now());
                self.prune_retained().await;
            }
            self.sweep_once(&mut seen).await;
        }
    }

    /// Published events and idempotency records past their retention, deleted in batches (a
    /// batch is one short write, so attempts are not held behind a large delete).
    pub async fn prune_retained(&self) {
        let now = OffsetDateTime::now_utc();
        let cutoff = |keep: Option<Duration>| keep.map(|k| now - k);
        match self
            .store
            .prune_retained(
                cutoff(self.options.outbox_retention),
                cutoff(self.options.idempotency_retention),
            )
            .await
        {
            Ok(p) if p.events + p.idempotency_keys == 0 => {}
            Ok(p) => tracing::info!(
                events = p.events,
                idempotency_keys = p.idempotency_keys,
                "pruned published events and idempotency records past their retention"
            ),
            Err(e) => tracing::warn!(error = %e, "pruning past retention failed"),
        }
    }

    /// Expired leases back to the queue (or dead), each kind's upkeep, queue metrics.
    pub async fn sweep_once(&self, seen: &mut HashSet<(String, &'static str)>) {
        let now = OffsetDateTime::now_utc();
        match self.store.sweep_expired_leases(now).await {
            Ok(swept) => {
                if swept.requeued > 0 {
                    tracing::info!(jobs = swept.requeued, "expired leases: jobs queued again");
                }
                for job in swept.dead {
                    metrics::counter!("practica_jobs_total", "kind" => job.kind.clone(), "outcome" => "dead")
                        .increment(1);
                    if let Some(h) = self.handlers.get(job.kind.as_str())
                        && let Err(e) = h.dead(&job, "lease expired on the last attempt").await
                    {
                        tracing::error!(job = %job.id, error = %e, "finalising a dead job failed");
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "sweeping expired leases failed"),
        }
        match self.store.purge_done_jobs(now - self.options.retention).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(jobs = n, "purged done jobs past their retention"),
            Err(e) => tracing::warn!(error = %e, "purging done jobs failed"),
        }
        for h in self.handlers.values() {
            if let Err(e) = h.sweep().await {
                tracing::warn!(kind = h.kind(), error = %e, "job upkeep failed");
            }
        }
        match self.store.queue_depths(now).await {
            Ok(depths) => {
                let mut now_seen = HashSet::new();
                for d in depths {
                    let status = d.status.as_str();
                    metrics::gauge!("practica_jobs", "kind" => d.kind.clone(), "status" => status).set(d.jobs as f64);
                    metrics::gauge!("practica_job_oldest_seconds", "kind" => d.kind.clone(), "status" => status)
                        .set(d.oldest_seconds);
                    now_seen.insert((d.kind, status));
                }
                for (kind, status) in seen.difference(&now_seen) {
                    metrics::gauge!("practica_jobs", "kind" => kind.clone(), "status" => *status).set(0.0);
                    metrics::gauge!("practica_job_oldest_seconds", "kind" => kind.clone(), "status" => *status)
                        .set(0.0);
                }
                *seen = now_seen;
            }
            Err(e) => tracing::warn!(error = %e, "reading queue depths failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_is_capped_and_jittered() {
        let base = Duration::from_secs(1);
        let max = Duration::from_secs(60);
        for attempts in 1..40 {
            let d = backoff(attempts, base, max);
            let nominal = (base * 2u32.pow((attempts - 1).min(20) as u32)).min(max);
            assert!(
                d >= nominal.mul_f64(0.5) && d < nominal.mul_f64(1.5),
                "{attempts}: {d:?}"
            );
        }
        let draws: HashSet<u128> = (0..20).map(|_| backoff(3, base, max).as_micros()).collect();
        assert!(draws.len() > 1, "jitter varies the delay");
    }
}
