//! The asynchronous classifier: what happens to a wrong answer the synchronous diagnosis left
//! UNCLASSIFIED. POST /attempts stores such an attempt PENDING with a `classify` job in the same
//! transaction; a worker runs the chain below and writes the final tag, with the
//! `attempt.classified` event, in one transaction that also completes the job.
//!
//! The chain, first answer wins:
//! 1. a tag learned from teachers' reports on the attempt's signature ([`crate::feedback`]);
//! 2. the engine's deeper search (`diagnosis::deep`): step-by-step replay, every family that
//!    fits the operands, compositions, a lower bar for a lone candidate;
//! 3. the LLM, when one is configured ([`crate::llm_classifier`]), choosing among the catalog
//!    tags of the family;
//! 4. otherwise UNCLASSIFIED, CLASSIFIED, with the reason in the attempt's `classification`.
//!
//! A provider that is down or rate limited makes the job retry later (backoff); when the job
//! runs out of attempts, or the attempt has been PENDING past the deadline, the attempt is
//! finalised UNCLASSIFIED with the reason. So every attempt ends CLASSIFIED.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use diagnosis::{AttemptBody, Family, Options, UNCLASSIFIED};
use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::attempts::ENGINE_NAME;
use crate::catalog::Catalog;
use crate::feedback::{LEARNED_CLASSIFIER, LearnedRules, learned_confidence};
use crate::jobs::{JobFailure, JobHandler};
use crate::llm::{Budget, ChatModel};
use crate::llm_classifier::{self, ProblemForPrompt, TagChoice};
use crate::storage::{AttemptRecord, AttemptStatus, ClaimedJob, Classification, ClassifierSource, OutboxEvent, Store};

/// The job kind.
pub const KIND: &str = "classify";

/// Invalid LLM answers asked again before giving up on the model.
pub(crate) const MAX_INVALID_ANSWERS: u32 = 2;

/// A classification job's payload: the attempt and the problem as the engine reads it (no
/// student id: the attempt row has it).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Payload {
    pub attempt_id: Uuid,
    pub request: Value,
}

/// The payload of the job for `attempt_id`, from the problem's fields.
pub fn payload(attempt_id: Uuid, request: Value) -> Value {
    json!({ "attemptId": attempt_id, "request": request })
}

/// The dedupe key of an attempt's classification job: one per attempt.
pub fn job_key(attempt_id: Uuid) -> String {
    format!("{KIND}:{attempt_id}")
}

pub struct Classifier {
    pub store: Arc<dyn Store>,
    pub catalog: Arc<Catalog>,
    pub learned: Arc<LearnedRules>,
    pub llm: Option<Arc<dyn ChatModel>>,
    pub threshold: f64,
    /// No attempt stays PENDING longer.
    pub deadline: Duration,
}

/// What the chain concluded.
struct Verdict {
    tag: String,
    subtag: Option<String>,
    source: ClassifierSource,
    classifier: String,
    confidence: f64,
    details: Value,
}

impl Verdict {
    fn unclassified(source: ClassifierSource, classifier: String, details: Value) -> Verdict {
        Verdict {
            tag: UNCLASSIFIED.to_string(),
            subtag: None,
            source,
            classifier,
            confidence: 0.0,
            details,
        }
    }
}

impl Classifier {
    async fn decide(&self, attempt: &AttemptRecord, request: &Value) -> Result<Verdict, JobFailure> {
        // 1. What teachers taught.
        if let Some(signature) = &attempt.signature
            && let Some(rule) = self.learned.get(signature)
        {
            return Ok(Verdict {
                tag: rule.error_tag_code.clone(),
                subtag: None,
                source: ClassifierSource::Rule,
                classifier: LEARNED_CLASSIFIER.to_string(),
                confidence: learned_confidence(rule.reports, rule.agreement),
                details: json!({
                    "strategy": "learned-from-reports",
                    "signature": signature,
                    "reports": rule.reports,
                    "reporters": rule.reporters,
                    "agreement": rule.agreement,
                }),
            });
        }

        // 2. The engine's deeper search.
        let topic = self.catalog.topic(&attempt.topic_code);
        let topic_family = topic.as_ref().map(|t| t.family.clone()).unwrap_or_default();
        let body: Option<AttemptBody> = serde_json::from_value(request.clone()).ok();
        let options = Options {
            threshold: self.threshold,
            compositions: true,
        };
        let deep = body
            .as_ref()
            .map(|b| b.deep_diagnose_as(Family::from_code(&topic_family), &options));
        let mut engine_reason = match &deep {
            None => "the stored problem could not be read".to_string(),
            Some(Err(e)) => e.to_string(),
            Some(Ok(d)) => d.reason.clone().unwrap_or_default(),
        };
        if let Some(Ok(d)) = &deep {
            if d.diagnosis.error_tag_code != UNCLASSIFIED && !d.diagnosis.is_correct {
                return Ok(Verdict {
                    tag: d.diagnosis.error_tag_code.to_string(),
                    subtag: d.diagnosis.error_subtag.map(str::to_string),
                    source: ClassifierSource::Rule,
                    classifier: format!("{ENGINE_NAME}/{}", d.strategy),
                    confidence: d.diagnosis.confidence,
                    details: json!({
                        "strategy": d.strategy,
                        "candidates": d.diagnosis.candidates,
                        "evidence": d.diagnosis.evidence,
                    }),
                });
            }
            if engine_reason.is_empty() {
                engine_reason = "no procedure of the engine explains the answer".to_string();
            }
        }
        let family = match &deep {
            Some(Ok(d)) => d
                .diagnosis
                .family
                .map(|f| f.code().to_string())
                .unwrap_or(topic_family.clone()),
            _ => topic_family.clone(),
        };

        // 3. The LLM.
        let Some(llm) = &self.llm else {
            return Ok(Verdict::unclassified(
                ClassifierSource::Rule,
                ENGINE_NAME.to_string(),
                json!({
                    "strategy": "none",
                    "reason": format!("{engine_reason}; no LLM is configured"),
                }),
            ));
        };
        let tags: Vec<TagChoice> = self
            .catalog
            .tags_for_family(&family)
            .into_iter()
            .map(|t| TagChoice {
                code: t.code,
                name_en: t.name_en,
                description: t.description,
            })
            .collect();
        let problem = ProblemForPrompt {
            topic_code: attempt.topic_code.clone(),
            topic_name: topic.map(|t| t.name_en).unwrap_or_default(),
            family: family.clone(),
            problem: None,
            operands: body.as_ref().and_then(operands),
            expected_answer: attempt.expected_answer.clone(),
            student_answer: attempt.student_answer.clone(),
            steps: attempt.steps.iter().map(|s| s.expression.clone()).collect(),
        };
        let verdict = llm_classifier::classify(llm.as_ref(), &problem, &tags, MAX_INVALID_ANSWERS).await;
        let details = json!({
            "strategy": if verdict.tag.is_some() { "llm" } else { "none" },
            "model": verdict.model,
            "promptVersion": verdict.prompt_version,
            "rationale": verdict.rationale,
            "calls": verdict.calls,
            "tokens": verdict.tokens,
            "reason": verdict.reason,
            "engine": engine_reason,
        });
        match verdict.tag {
            Some(tag) => Ok(Verdict {
                tag,
                subtag: None,
                source: ClassifierSource::Llm,
                classifier: format!("llm:{}", verdict.model),
                confidence: verdict.confidence,
                details,
            }),
            None if verdict.retry_later => Err(JobFailure::retry(
                verdict
                    .reason
                    .unwrap_or_else(|| "the AI provider is unavailable".into()),
            )),
            None => Ok(Verdict::unclassified(
                ClassifierSource::Llm,
                format!("llm:{}", verdict.model),
                details,
            )),
        }
    }

    /// Writes the final tag (if the attempt is still PENDING), its event, and completes `job`.
    async fn finish(
        &self,
        attempt: &AttemptRecord,
        verdict: Verdict,
        job: Option<(Uuid, &str)>,
    ) -> Result<bool, crate::storage::StoreError> {
        let tag = verdict.tag.clone();
        let classification = Classification {
            attempt_id: attempt.id,
            error_tag_code: verdict.tag,
            error_subtag: verdict.subtag,
            source: verdict.source,
            classifier_name: verdict.classifier,
            confidence: verdict.confidence,
            details: verdict.details,
            classified_at: now_micros(),
        };
        let event = classified_event(attempt, &attempt.topic_code, attempt.is_correct, &classification);
        let written = self.store.finish_classification(&classification, &event, job).await?;
        if written {
            metrics::counter!("practica_classifications_total", "source" => classification.source.as_str(), "tag" => tag)
                .increment(1);
        }
        Ok(written)
    }

    /// Leaves a PENDING attempt CLASSIFIED as UNCLASSIFIED, saying why.
    async fn give_up(&self, attempt_id: Uuid, reason: &str) -> anyhow::Result<()> {
        let Some(attempt) = self.store.attempt(attempt_id).await? else {
            return Ok(());
        };
        if attempt.status != AttemptStatus::Pending {
            return Ok(());
        }
        let source = if self.llm.is_some() {
            ClassifierSource::Llm
        } else {
            ClassifierSource::Rule
        };
        let verdict = Verdict::unclassified(
            source,
            ENGINE_NAME.to_string(),
            json!({ "strategy": "none", "reason": reason }),
        );
        if self.finish(&attempt, verdict, None).await? {
            tracing::warn!(attempt = %attempt_id, reason, "attempt finalised UNCLASSIFIED");
        }
        Ok(())
    }
}

/// The attempt a job is about while it is still PENDING; None once it is CLASSIFIED (an earlier
/// run, or the deadline sweeper, got there first: nothing left to do). A missing attempt is a
/// fatal failure.
pub(crate) async fn pending_attempt(store: &dyn Store, id: Uuid) -> Result<Option<AttemptRecord>, JobFailure> {
    let Some(attempt) = store.attempt(id).await? else {
        return Err(JobFailure::fatal(format!("attempt {id} not found")));
    };
    Ok((attempt.status == AttemptStatus::Pending).then_some(attempt))
}

/// Now, to the microsecond: what PostgreSQL keeps, so both backends return the same instant.
pub(crate) fn now_micros() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(now.nanosecond() / 1_000 * 1_000).unwrap_or(now)
}

/// The `attempt.classified` event of a final classification: ids, the verdict and the tag,
/// nothing the student wrote. `topic_code` and `is_correct` as they are after it (an ad-hoc
/// attempt learns both from the solver).
pub(crate) fn classified_event(
    attempt: &AttemptRecord,
    topic_code: &str,
    is_correct: bool,
    c: &Classification,
) -> OutboxEvent {
    let event_id = Uuid::now_v7();
    OutboxEvent {
        event_id,
        event_type: "attempt.classified".into(),
        ordering_key: attempt.student_id.clone(),
        payload: json!({
            "type": "attempt.classified",
            "id": event_id,
            "occurredAt": c.classified_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
            "traceId": attempt.trace_id,
            "attempt": {
                "attemptId": attempt.id,
                "studentId": attempt.student_id,
                "topicCode": topic_code,
                "courseId": attempt.course_id,
                "exerciseId": attempt.exercise_id,
                "origin": attempt.origin.as_str(),
                "isCorrect": is_correct,
                "errorTagCode": c.error_tag_code,
                "errorSubtag": c.error_subtag,
                "confidence": c.confidence,
                "classifierSource": c.source.as_str(),
                "classifier": c.classifier_name,
                "status": AttemptStatus::Classified.as_str(),
                "viaAgent": attempt.via_agent,
            }
        }),
    }
}

fn operands(body: &AttemptBody) -> Option<(String, String)> {
    let text = crate::attempts::number_text;
    Some((text(body.minuend.as_ref()?), text(body.subtrahend.as_ref()?)))
}

#[async_trait]
impl JobHandler for Classifier {
    fn kind(&self) -> &'static str {
        KIND
    }

    async fn run(&self, job: &ClaimedJob, owner: &str) -> Result<(), JobFailure> {
        let payload: Payload = serde_json::from_value(job.payload.clone())
            .map_err(|e| JobFailure::fatal(format!("classification payload: {e}")))?;
        let Some(attempt) = pending_attempt(self.store.as_ref(), payload.attempt_id).await? else {
            return Ok(());
        };
        let verdict = self.decide(&attempt, &payload.request).await?;
        self.finish(&attempt, verdict, Some((job.id, owner))).await?;
        Ok(())
    }

    async fn dead(&self, job: &ClaimedJob, error: &str) -> anyhow::Result<()> {
        let payload: Payload = serde_json::from_value(job.payload.clone())?;
        self.give_up(
            payload.attempt_id,
            &format!("classification failed {} times; last error: {error}", job.attempts),
        )
        .await
    }

    async fn sweep(&self) -> anyhow::Result<()> {
        self.learned.reload(self.store.as_ref()).await?;
        let before = OffsetDateTime::now_utc() - self.deadline;
        for id in self.store.pending_before(before, 100).await? {
            self.give_up(id, &format!("no classification within {} s", self.deadline.as_secs()))
                .await?;
        }
        Ok(())
    }
}

/// The daily token budget, kept in the database so that every process draws on one budget.
/// Checked before a call with the call's estimate, recorded after it with what it used (two
/// processes checking at once may together overshoot by one call each).
pub struct StoredBudget {
    pub store: Arc<dyn Store>,
    pub model: String,
    pub limit: Option<u64>,
}

#[async_trait]
impl Budget for StoredBudget {
    async fn try_spend(&self, estimated_tokens: u64) -> bool {
        let Some(limit) = self.limit else { return true };
        match self.store.ai_usage(OffsetDateTime::now_utc().date()).await {
            Ok(spent) => (spent.max(0) as u64).saturating_add(estimated_tokens) <= limit,
            Err(e) => {
                tracing::warn!(error = %e, "reading the AI budget failed; not calling");
                false
            }
        }
    }

    async fn record(&self, _estimated_tokens: u64, actual_tokens: u64) {
        let day = OffsetDateTime::now_utc().date();
        if let Err(e) = self
            .store
            .add_ai_usage(day, &self.model, 1, actual_tokens.min(i64::MAX as u64) as i64)
            .await
        {
            tracing::warn!(error = %e, "recording AI usage failed");
        }
    }
}
