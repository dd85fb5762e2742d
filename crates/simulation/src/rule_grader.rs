//! The rule grader (used when no AI provider is configured) and the evidence check the AI
//! grader shares: a quote offered as evidence must be a substring of what the learner wrote.

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::error::{Result, SimulationError};
use crate::rubric::{CriterionChoice, Rubric, compile_evidence};

/// A rubric with its evidence patterns compiled once, ready to grade many chats.
#[derive(Debug, Clone)]
pub struct RuleGrader {
    criteria: Vec<CompiledCriterion>,
}

#[derive(Debug, Clone)]
struct CompiledCriterion {
    id: String,
    levels: Vec<CompiledLevel>,
}

#[derive(Debug, Clone)]
struct CompiledLevel {
    id: String,
    points: u32,
    patterns: Vec<Regex>,
}

/// Where a quote was found: which learner message, at which byte.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceQuote {
    pub message_index: usize,
    pub start: usize,
    pub quote: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleChoice {
    pub criterion_id: String,
    pub level_id: String,
    /// The matched text of each of the chosen level's patterns that matched (first match
    /// each); empty when the level was chosen as the baseline.
    pub evidence: Vec<EvidenceQuote>,
}

impl RuleGrader {
    /// Validates the rubric (so every pattern compiles) and compiles it.
    pub fn new(rubric: &Rubric) -> Result<Self> {
        // The shape only: the patterns are compiled below, once, and kept.
        rubric.validate_shape()?;
        let mut criteria = Vec::with_capacity(rubric.criteria.len());
        for (c, criterion) in rubric.criteria.iter().enumerate() {
            let mut levels = Vec::with_capacity(criterion.levels.len());
            for (l, level) in criterion.levels.iter().enumerate() {
                let patterns = level
                    .evidence
                    .iter()
                    .enumerate()
                    .map(|(p, pat)| compile_evidence(pat, &format!("criteria[{c}].levels[{l}].evidence[{p}]")))
                    .collect::<Result<Vec<_>>>()?;
                levels.push(CompiledLevel {
                    id: level.id.clone(),
                    points: level.points,
                    patterns,
                });
            }
            criteria.push(CompiledCriterion {
                id: criterion.id.clone(),
                levels,
            });
        }
        Ok(Self { criteria })
    }

    /// One level per criterion, deterministically (same messages, same levels):
    /// 1. a level *shows* when any of its patterns matches any learner message with a
    ///    non-empty match (an empty match quotes nothing, so it is no evidence);
    /// 2. of the levels that show, the one with the most points wins — the learner is credited
    ///    with the best behaviour the conversation shows; ties go to the level written first;
    /// 3. when none shows, the baseline: the fewest-points level among those without patterns
    ///    (the rubric's "nothing observed" level), or the fewest-points level of all when every
    ///    level has patterns; ties again to the first written.
    pub fn grade(&self, learner_messages: &[&str]) -> Vec<RuleChoice> {
        self.criteria
            .iter()
            .filter_map(|criterion| {
                let mut best: Option<(&CompiledLevel, Vec<EvidenceQuote>)> = None;
                for level in &criterion.levels {
                    let evidence = level_evidence(level, learner_messages);
                    if evidence.is_empty() {
                        continue;
                    }
                    if best.as_ref().is_none_or(|(b, _)| level.points > b.points) {
                        best = Some((level, evidence));
                    }
                }
                let (level, evidence) = match best {
                    Some(found) => found,
                    None => (baseline(&criterion.levels)?, Vec::new()),
                };
                Some(RuleChoice {
                    criterion_id: criterion.id.clone(),
                    level_id: level.id.clone(),
                    evidence,
                })
            })
            .collect()
    }
}

fn level_evidence(level: &CompiledLevel, messages: &[&str]) -> Vec<EvidenceQuote> {
    level
        .patterns
        .iter()
        .filter_map(|pattern| {
            messages.iter().enumerate().find_map(|(message_index, message)| {
                pattern
                    .find_iter(message)
                    .find(|m| !m.as_str().is_empty())
                    .map(|m| EvidenceQuote {
                        message_index,
                        start: m.start(),
                        quote: m.as_str().to_owned(),
                    })
            })
        })
        .collect()
}

fn baseline(levels: &[CompiledLevel]) -> Option<&CompiledLevel> {
    lowest(levels.iter().filter(|l| l.patterns.is_empty())).or_else(|| lowest(levels.iter()))
}

/// The fewest-points level, the first written among equals.
fn lowest<'a>(levels: impl Iterator<Item = &'a CompiledLevel>) -> Option<&'a CompiledLevel> {
    levels.fold(None, |acc: Option<&CompiledLevel>, l| match acc {
        Some(a) if a.points <= l.points => Some(a),
        _ => Some(l),
    })
}

/// The choices of a rule grade, for `Rubric::grade`.
pub fn choices(rule: &[RuleChoice]) -> Vec<CriterionChoice> {
    rule.iter()
        .map(|c| CriterionChoice {
            criterion_id: c.criterion_id.clone(),
            level_id: c.level_id.clone(),
        })
        .collect()
}

/// Finds a quote in the learner's messages. The quote is trimmed (models pad quotes with
/// spaces) and must then lie wholly inside one message, byte for byte: a quote stitched across
/// messages, or paraphrased, is not evidence. Case, punctuation and inner whitespace are not
/// normalised — a fabricated quote must not pass by being close. `None` for a blank quote.
pub fn locate_quote(learner_messages: &[&str], quote: &str) -> Option<EvidenceQuote> {
    let quote = quote.trim();
    if quote.is_empty() {
        return None;
    }
    learner_messages
        .iter()
        .enumerate()
        .find_map(|(message_index, message)| {
            message.find(quote).map(|start| EvidenceQuote {
                message_index,
                start,
                quote: quote.to_owned(),
            })
        })
}

/// Verifies every quote of an AI grade, naming the first that fails as `{field}[i]`.
pub fn verify_quotes(learner_messages: &[&str], quotes: &[String], field: &str) -> Result<Vec<EvidenceQuote>> {
    quotes
        .iter()
        .enumerate()
        .map(|(i, q)| {
            locate_quote(learner_messages, q).ok_or_else(|| SimulationError::QuoteNotFound {
                field: format!("{field}[{i}]"),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grader() -> (Rubric, RuleGrader) {
        let r: Rubric = serde_json::from_str(include_str!("../tests/data/rubric-office-hours.json")).unwrap();
        let g = RuleGrader::new(&r).unwrap();
        (r, g)
    }

    #[test]
    fn best_matching_level_wins_with_its_quotes() {
        let (r, g) = grader();
        let msgs = [
            "Thanks for coming.",
            "That sounds stressful. Let's see: new deadline Friday?",
        ];
        let rule = g.grade(&msgs);
        assert_eq!(rule[0].level_id, "lvl-e4");
        assert_eq!(rule[0].evidence[0].quote, "That sounds");
        assert_eq!(rule[0].evidence[0].message_index, 1);
        assert_eq!(rule[1].level_id, "lvl-p6");
        let outcome = r.grade(&choices(&rule)).unwrap();
        assert_eq!(outcome.score, 10);
        // Every quote the rule grader gives is verifiable.
        for c in &rule {
            for q in &c.evidence {
                assert_eq!(locate_quote(&msgs, &q.quote).unwrap().message_index, q.message_index);
            }
        }
    }

    #[test]
    fn no_evidence_gives_the_baseline_level() {
        let (r, g) = grader();
        let rule = g.grade(&["Not my problem."]);
        assert_eq!(rule[0].level_id, "lvl-e0");
        assert_eq!(rule[1].level_id, "lvl-p0");
        assert!(rule.iter().all(|c| c.evidence.is_empty()));
        assert_eq!(r.grade(&choices(&rule)).unwrap().score, 0);
        assert_eq!(g.grade(&[]).len(), 2);
    }

    #[test]
    fn quotes_must_be_inside_one_message() {
        let msgs = ["I understand.", "Let's meet"];
        assert!(locate_quote(&msgs, "  I understand ").is_some());
        assert!(locate_quote(&msgs, "understand. Let's").is_none());
        assert!(locate_quote(&msgs, "i understand").is_none());
        assert!(locate_quote(&msgs, "   ").is_none());
        let e = verify_quotes(&msgs, &["Let's".into(), "made up".into()], "evidence").unwrap_err();
        assert_eq!(e.field(), Some("evidence[1]"));
    }

    #[test]
    fn patterns_that_only_match_empty_are_no_evidence() {
        let mut r: Rubric = serde_json::from_str(include_str!("../tests/data/rubric-office-hours.json")).unwrap();
        r.criteria[0].levels[2].evidence = vec!["x*".into()];
        let rule = RuleGrader::new(&r).unwrap().grade(&["hello"]);
        assert_eq!(rule[0].level_id, "lvl-e0");
    }
}
