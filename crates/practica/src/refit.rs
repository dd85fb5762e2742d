//! Refitting the topics' BKT parameters from the stored attempts: `practica mastery refit`, and
//! the `mastery-refit` job the sweeper schedules every `mastery_refit_hours`. Each topic with
//! enough responses gets the EM fit of its sequences (one per student and course, in time
//! order); the topic row records when and on how many responses. Mastery values already
//! stored are not recomputed: new parameters apply from the next attempt on.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use mastery::{BktParams, FitOptions};
use serde::Serialize;
use serde_json::json;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::catalog::Catalog;
use crate::jobs::{JobFailure, JobHandler};
use crate::storage::{ClaimedJob, NewJob, Store, TopicRecord};

/// The job kind.
pub const KIND: &str = "mastery-refit";

/// What a refit did to one topic.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TopicRefit {
    pub topic_code: String,
    pub responses: i64,
    pub sequences: usize,
    pub before: BktParams,
    /// None when the topic was left as it was (see `skipped`).
    pub after: Option<BktParams>,
    pub log_likelihood: Option<f64>,
    pub skipped: Option<String>,
}

#[derive(Clone, Debug)]
pub struct RefitOptions {
    pub fit: FitOptions,
    /// Topics with fewer responses keep their parameters.
    pub min_responses: i64,
    /// Fit and report, store nothing.
    pub dry_run: bool,
}

/// Fits every topic with enough responses and stores the new parameters (unless a dry run);
/// `progress` is told each time a topic's fit ends.
pub async fn refit(
    store: &dyn Store,
    catalog: &Catalog,
    options: &RefitOptions,
    progress: Arc<dyn Fn(usize) + Send + Sync>,
) -> anyhow::Result<Vec<TopicRefit>> {
    let skills = store.response_sequences().await?;
    let mut report = Vec::new();
    let mut to_fit = Vec::new();
    for (code, seqs) in skills {
        let Some(topic) = catalog.topic(&code) else { continue };
        let responses = seqs.total_responses() as i64;
        let entry = TopicRefit {
            topic_code: code.clone(),
            responses,
            sequences: seqs.len(),
            before: topic.bkt,
            after: None,
            log_likelihood: None,
            skipped: None,
        };
        if responses < options.min_responses {
            report.push(TopicRefit {
                skipped: Some(format!("{responses} responses, fewer than {}", options.min_responses)),
                ..entry
            });
        } else {
            report.push(entry);
            to_fit.push((code, seqs));
        }
    }
    let fit_options = options.fit.clone();
    // EM is CPU work on its own threads: off the async runtime.
    let fitted = tokio::task::spawn_blocking(move || mastery::fit_all(&to_fit, &fit_options, |n| progress(n))).await?;
    let now = OffsetDateTime::now_utc();
    for (code, result) in fitted {
        let Some(entry) = report.iter_mut().find(|r| r.topic_code == code) else {
            continue;
        };
        entry.after = Some(result.params);
        entry.log_likelihood = Some(result.log_likelihood);
        if !options.dry_run
            && let Some(topic) = catalog.topic(&code)
        {
            let record = TopicRecord {
                code: code.clone(),
                family: topic.family.clone(),
                name: topic.name_es.clone(),
                bkt: result.params,
            };
            store.record_calibration(&record, now, entry.responses).await?;
        }
    }
    if !options.dry_run {
        catalog.refresh(store).await?;
    }
    Ok(report)
}

/// The scheduled refit, as a job: the sweeper of every process enqueues one per period (a
/// dedupe key per period, so one process's enqueue wins) and one worker runs it.
pub struct RefitJob {
    pub store: Arc<dyn Store>,
    pub catalog: Arc<Catalog>,
    pub every: Option<Duration>,
    pub min_responses: i64,
    /// The last period this process enqueued (the sweep runs every few seconds; the insert is
    /// needed once a period).
    pub enqueued: std::sync::atomic::AtomicI64,
}

#[async_trait]
impl JobHandler for RefitJob {
    fn kind(&self) -> &'static str {
        KIND
    }

    async fn run(&self, _job: &ClaimedJob, _owner: &str) -> Result<(), JobFailure> {
        let options = RefitOptions {
            fit: FitOptions::default(),
            min_responses: self.min_responses,
            dry_run: false,
        };
        let report = refit(self.store.as_ref(), &self.catalog, &options, Arc::new(|_| {}))
            .await
            .map_err(|e| JobFailure::retry(format!("{e:#}")))?;
        let fitted = report.iter().filter(|r| r.after.is_some()).count();
        tracing::info!(topics = fitted, "mastery parameters refitted");
        Ok(())
    }

    async fn sweep(&self) -> anyhow::Result<()> {
        let Some(every) = self.every else { return Ok(()) };
        let now = OffsetDateTime::now_utc();
        let period = now.unix_timestamp() / every.as_secs().max(1) as i64;
        if self.enqueued.load(std::sync::atomic::Ordering::Relaxed) == period {
            return Ok(());
        }
        self.store
            .enqueue(&NewJob {
                id: Uuid::now_v7(),
                kind: KIND.to_string(),
                dedupe_key: Some(format!("{KIND}:{}:{period}", every.as_secs())),
                payload: json!({}),
                max_attempts: 3,
                run_after: now,
            })
            .await?;
        self.enqueued.store(period, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }
}
