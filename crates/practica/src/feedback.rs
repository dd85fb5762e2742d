//! The teachers' feedback loop. A report (POST /attempts/:id/report) never changes the attempt
//! it is about; it is evidence about the attempt's *signature* (what the wrong answer looks
//! like: family, shapes of operands and answer, how the answer relates to the right one; see
//! `diagnosis::signature`). Once teachers' reports on attempts of one signature agree, by
//! enough reports from enough different teachers, later attempts with that signature are
//! classified with the reported tag (`classifierSource` RULE, `classifier` "learned-from-reports").
//!
//! Students' reports are stored and listed but do not teach: a student may report in good faith
//! and be wrong, and a class could otherwise vote a misconception away.

use std::collections::HashMap;
use std::sync::RwLock;

use time::OffsetDateTime;

use crate::storage::{LearnedRule, SignatureTally, Store, StoreError};

/// The `classifier` of an attempt classified by a learned rule.
pub const LEARNED_CLASSIFIER: &str = "learned-from-reports";

/// The confidence of a learned tag: the reports' agreement, discounted while they are few
/// (Laplace: 3 agreeing reports give 0.8, 10 give 0.92).
pub fn learned_confidence(reports: i64, agreement: f64) -> f64 {
    let n = reports.max(0) as f64;
    ((agreement * n + 1.0) / (n + 2.0)).clamp(0.0, 1.0)
}

/// When reports agree enough to teach.
#[derive(Clone, Copy, Debug)]
pub struct LearningPolicy {
    pub min_reports: i64,
    pub min_reporters: i64,
    /// Share of the signature's teacher reports that name the winning tag.
    pub min_agreement: f64,
}

impl LearningPolicy {
    /// The rule the tallies support, if any. Tags that are outcomes, not misconceptions, teach
    /// nothing.
    pub fn decide(&self, signature: &str, tallies: &[SignatureTally], now: OffsetDateTime) -> Option<LearnedRule> {
        let total: i64 = tallies.iter().map(|t| t.reports).sum();
        let best = tallies
            .iter()
            .filter(|t| t.error_tag_code != diagnosis::CORRECT && t.error_tag_code != diagnosis::UNCLASSIFIED)
            .max_by(|a, b| {
                a.reports
                    .cmp(&b.reports)
                    .then_with(|| b.error_tag_code.cmp(&a.error_tag_code))
            })?;
        let agreement = best.reports as f64 / total.max(1) as f64;
        (best.reports >= self.min_reports && best.reporters >= self.min_reporters && agreement >= self.min_agreement)
            .then(|| LearnedRule {
                signature: signature.to_string(),
                error_tag_code: best.error_tag_code.clone(),
                reports: best.reports,
                reporters: best.reporters,
                agreement,
                learned_at: now,
            })
    }
}

/// The learned rules, in memory: every wrong answer looks its signature up. Each process
/// reloads them from the store periodically (the sweeper) and at once when it learns one.
#[derive(Default)]
pub struct LearnedRules {
    rules: RwLock<HashMap<String, LearnedRule>>,
}

impl LearnedRules {
    pub fn get(&self, signature: &str) -> Option<LearnedRule> {
        self.rules
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(signature)
            .cloned()
    }

    pub async fn reload(&self, store: &dyn Store) -> Result<(), StoreError> {
        let rules = store.learned_rules().await?;
        *self.rules.write().unwrap_or_else(|e| e.into_inner()) =
            rules.into_iter().map(|r| (r.signature.clone(), r)).collect();
        Ok(())
    }

    /// Re-reads the reports on `signature` after a new one, and learns (or forgets) its rule.
    pub async fn learn(
        &self,
        store: &dyn Store,
        policy: &LearningPolicy,
        signature: &str,
    ) -> Result<Option<LearnedRule>, StoreError> {
        let tallies = store.signature_tally(signature).await?;
        let rule = policy.decide(signature, &tallies, OffsetDateTime::now_utc());
        // The map is updated under its lock, the store after it (a std lock is not held
        // across an await).
        let (changed, withdrawn) = {
            let mut rules = self.rules.write().unwrap_or_else(|e| e.into_inner());
            match &rule {
                Some(r) => {
                    let old = rules.insert(signature.to_string(), r.clone());
                    (old.is_none_or(|old| old.error_tag_code != r.error_tag_code), false)
                }
                None => (false, rules.remove(signature).is_some()),
            }
        };
        if let Some(r) = &rule {
            store.upsert_learned_rule(r).await?;
            if changed {
                tracing::info!(signature, tag = %r.error_tag_code, reports = r.reports, reporters = r.reporters,
                    "learned a tag from teachers' reports");
                metrics::counter!("practica_learned_rules_total").increment(1);
            }
        } else if withdrawn {
            // Reports that no longer agree withdraw the rule.
            store.delete_learned_rule(signature).await?;
            tracing::info!(signature, "reports no longer agree; learned tag withdrawn");
        }
        Ok(rule)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(tag: &str, reports: i64, reporters: i64) -> SignatureTally {
        SignatureTally {
            error_tag_code: tag.into(),
            reports,
            reporters,
        }
    }

    #[test]
    fn agreement_needs_reports_reporters_and_a_clear_majority() {
        let p = LearningPolicy {
            min_reports: 3,
            min_reporters: 2,
            min_agreement: 0.75,
        };
        let now = OffsetDateTime::now_utc();
        assert!(p.decide("s", &[tally("A", 2, 2)], now).is_none(), "too few reports");
        assert!(p.decide("s", &[tally("A", 3, 1)], now).is_none(), "one teacher alone");
        let r = p.decide("s", &[tally("A", 3, 2)], now).expect("agreed");
        assert_eq!((r.error_tag_code.as_str(), r.reports, r.agreement), ("A", 3, 1.0));
        assert!(
            p.decide("s", &[tally("A", 3, 2), tally("B", 2, 2)], now).is_none(),
            "contested"
        );
        assert!(p.decide("s", &[tally("A", 6, 3), tally("B", 2, 2)], now).is_some());
        assert!(p.decide("s", &[tally("UNCLASSIFIED", 9, 4)], now).is_none());
    }
}
