//! The agent path of `end` and `grade`: a caller with an API key (or a teacher/admin token)
//! supplies the score and the grade's entries instead of letting the service grade. They are
//! stored as given once they pass these checks; each failure names the request field.

use serde::{Deserialize, Serialize};

use crate::error::{Result, SimulationError};
use crate::rubric::{Rubric, passes, percentage};

/// Longest text accepted in one entry field, in characters. Decided here (the spec is silent):
/// generous for feedback prose, small enough that one grade cannot fill a database page set.
pub const MAX_TEXT_CHARS: usize = 20_000;
/// Most entries accepted in one list of a supplied grade (same reasoning).
pub const MAX_ENTRIES: usize = 200;

/// The grade fields of the `end` and `grade` request bodies (spec names; all optional).
/// Integers are `i64` so a negative value reaches validation and gets a 422 naming the field
/// instead of a deserialisation error.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuppliedGrade {
    #[serde(default)]
    pub score: Option<i64>,
    #[serde(default)]
    pub passed: Option<bool>,
    #[serde(default)]
    pub time_taken: Option<i64>,
    #[serde(default)]
    pub feedbacks: Option<Vec<AttemptGradeFeedbackEntry>>,
    #[serde(default)]
    pub strengths: Option<Vec<AttemptGradeStrengthEntry>>,
    #[serde(default)]
    pub improvements: Option<Vec<AttemptGradeImprovementEntry>>,
    #[serde(default)]
    pub analyses: Option<Vec<AttemptGradeAnalysisEntry>>,
    #[serde(default)]
    pub highlights: Option<Vec<AttemptGradeHighlightEntry>>,
    #[serde(default)]
    pub replacements: Option<Vec<AttemptGradeReplacementEntry>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptGradeFeedbackEntry {
    pub feedback: String,
    #[serde(default)]
    pub total: Option<i64>,
}

/// A strength; an improvement has the same shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptGradeStrengthEntry {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub message_id: Option<String>,
}

pub type AttemptGradeImprovementEntry = AttemptGradeStrengthEntry;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptGradeAnalysisEntry {
    pub content: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptGradeHighlightEntry {
    #[serde(default)]
    pub strength_id: Option<String>,
    pub section: String,
    #[serde(default)]
    pub idx: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptGradeReplacementEntry {
    #[serde(default)]
    pub improvement_id: Option<String>,
    pub section: String,
    pub replace: String,
    #[serde(default)]
    pub idx: Option<i64>,
}

/// A supplied grade that passed validation, with what the engine derived from it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckedGrade {
    /// `None` when the caller supplied entries but no score: the service grades the score
    /// itself (AI or rules) and keeps the supplied entries.
    pub score: Option<u64>,
    /// Always computed from the score by the rubric's pass points (never taken as given).
    pub passed: Option<bool>,
    pub percentage: Option<f64>,
    pub max_score: u64,
    pub time_taken: Option<u64>,
}

impl SuppliedGrade {
    /// True when the caller supplied anything at all (the service then skips its own grader
    /// for the parts supplied).
    pub fn is_supplied(&self) -> bool {
        self.score.is_some()
            || self.passed.is_some()
            || self.time_taken.is_some()
            || self.feedbacks.is_some()
            || self.strengths.is_some()
            || self.improvements.is_some()
            || self.analyses.is_some()
            || self.highlights.is_some()
            || self.replacements.is_some()
    }

    /// Rules (SIMULATION.md where it speaks, decided here where it is silent):
    /// - `score` within `0..=` the rubric's total points (SIMULATION.md);
    /// - `passed` must agree with the score by the rubric's pass points, and needs a score:
    ///   points and pass are computed in code, so a contradicting flag is a client bug, not an
    ///   override (decided);
    /// - `time_taken` not negative;
    /// - every text field that carries the entry (`feedback`, `name`, `content`, `section`,
    ///   `replace`) non-blank and at most [`MAX_TEXT_CHARS`]; at most [`MAX_ENTRIES`] a list;
    /// - `feedbacks[i].total` within the same range as `score`; `idx` not negative.
    ///
    /// Ids inside entries (`message_id`, `strength_id`, `improvement_id`) name stored rows and
    /// are the service's to check.
    pub fn check(&self, rubric: &Rubric) -> Result<CheckedGrade> {
        let max_score = rubric.total_points();
        let score = match self.score {
            None => None,
            Some(value) => Some(in_score_range("score", value, max_score)?),
        };
        let passed = match (score, self.passed) {
            (None, Some(_)) => {
                return Err(SimulationError::InvalidField {
                    field: "passed".into(),
                    reason: "passed is computed from a score; supply the score".into(),
                });
            }
            (Some(score), Some(supplied)) if supplied != rubric.passes(score) => {
                return Err(SimulationError::InconsistentPassed {
                    field: "passed".into(),
                    supplied,
                    computed: rubric.passes(score),
                });
            }
            (Some(score), _) => Some(passes(score, rubric.pass_points())),
            (None, None) => None,
        };
        let time_taken = match self.time_taken {
            None => None,
            Some(t) => Some(u64::try_from(t).map_err(|_| SimulationError::InvalidField {
                field: "time_taken".into(),
                reason: "must not be negative".into(),
            })?),
        };
        if let Some(list) = &self.feedbacks {
            check_len("feedbacks", list.len())?;
            for (i, f) in list.iter().enumerate() {
                text(&format!("feedbacks[{i}].feedback"), &f.feedback)?;
                if let Some(total) = f.total {
                    in_score_range(&format!("feedbacks[{i}].total"), total, max_score)?;
                }
            }
        }
        for (name, list) in [("strengths", &self.strengths), ("improvements", &self.improvements)] {
            if let Some(list) = list {
                check_len(name, list.len())?;
                for (i, s) in list.iter().enumerate() {
                    text(&format!("{name}[{i}].name"), &s.name)?;
                    long(&format!("{name}[{i}].description"), &s.description)?;
                }
            }
        }
        if let Some(list) = &self.analyses {
            check_len("analyses", list.len())?;
            for (i, a) in list.iter().enumerate() {
                text(&format!("analyses[{i}].content"), &a.content)?;
            }
        }
        if let Some(list) = &self.highlights {
            check_len("highlights", list.len())?;
            for (i, h) in list.iter().enumerate() {
                text(&format!("highlights[{i}].section"), &h.section)?;
                idx(&format!("highlights[{i}].idx"), h.idx)?;
            }
        }
        if let Some(list) = &self.replacements {
            check_len("replacements", list.len())?;
            for (i, r) in list.iter().enumerate() {
                text(&format!("replacements[{i}].section"), &r.section)?;
                text(&format!("replacements[{i}].replace"), &r.replace)?;
                idx(&format!("replacements[{i}].idx"), r.idx)?;
            }
        }
        Ok(CheckedGrade {
            score,
            passed,
            percentage: score.map(|s| percentage(s, max_score)),
            max_score,
            time_taken,
        })
    }
}

fn in_score_range(field: &str, value: i64, max: u64) -> Result<u64> {
    match u64::try_from(value) {
        Ok(v) if v <= max => Ok(v),
        _ => Err(SimulationError::ScoreOutOfRange {
            field: field.to_owned(),
            value,
            max,
        }),
    }
}

fn check_len(field: &str, len: usize) -> Result<()> {
    if len > MAX_ENTRIES {
        return Err(SimulationError::InvalidField {
            field: field.to_owned(),
            reason: format!("at most {MAX_ENTRIES} entries"),
        });
    }
    Ok(())
}

fn text(field: &str, value: &str) -> Result<()> {
    if value.trim().is_empty() {
        return Err(SimulationError::InvalidField {
            field: field.to_owned(),
            reason: "must not be blank".into(),
        });
    }
    long(field, value)
}

fn long(field: &str, value: &str) -> Result<()> {
    // Bytes bound characters from above, so the cheap check settles most texts.
    if value.len() > MAX_TEXT_CHARS && value.chars().count() > MAX_TEXT_CHARS {
        return Err(SimulationError::InvalidField {
            field: field.to_owned(),
            reason: format!("longer than {MAX_TEXT_CHARS} characters"),
        });
    }
    Ok(())
}

fn idx(field: &str, value: Option<i64>) -> Result<()> {
    if value.is_some_and(|v| v < 0) {
        return Err(SimulationError::InvalidField {
            field: field.to_owned(),
            reason: "must not be negative".into(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rubric() -> Rubric {
        serde_json::from_str(include_str!("../tests/data/rubric-office-hours.json")).unwrap()
    }

    fn grade(json: &str) -> SuppliedGrade {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn a_valid_agent_grade_gets_passed_and_percentage_computed() {
        let g = grade(r#"{"score":7,"feedbacks":[{"feedback":"Good","total":7}],"strengths":[{"name":"Listens"}]}"#)
            .check(&rubric())
            .unwrap();
        assert_eq!(g.score, Some(7));
        assert_eq!(g.passed, Some(true));
        assert_eq!(g.percentage, Some(70.0));
    }

    #[test]
    fn out_of_range_scores_name_the_field() {
        for (json, field) in [
            (r#"{"score":11}"#, "score"),
            (r#"{"score":-1}"#, "score"),
            (r#"{"feedbacks":[{"feedback":"x","total":12}]}"#, "feedbacks[0].total"),
        ] {
            let e = grade(json).check(&rubric()).unwrap_err();
            assert!(matches!(e, SimulationError::ScoreOutOfRange { .. }), "{json}");
            assert_eq!(e.field(), Some(field));
        }
    }

    #[test]
    fn passed_must_agree_with_the_score() {
        let e = grade(r#"{"score":4,"passed":true}"#).check(&rubric()).unwrap_err();
        assert!(matches!(e, SimulationError::InconsistentPassed { computed: false, .. }));
        let e = grade(r#"{"passed":true}"#).check(&rubric()).unwrap_err();
        assert_eq!(e.field(), Some("passed"));
        assert!(grade(r#"{"score":5,"passed":true}"#).check(&rubric()).is_ok());
    }

    #[test]
    fn blank_texts_and_negative_indices_are_rejected() {
        for (json, field) in [
            (r#"{"strengths":[{"name":"ok"},{"name":"  "}]}"#, "strengths[1].name"),
            (r#"{"analyses":[{"content":""}]}"#, "analyses[0].content"),
            (r#"{"highlights":[{"section":"s","idx":-2}]}"#, "highlights[0].idx"),
            (
                r#"{"replacements":[{"section":"s","replace":""}]}"#,
                "replacements[0].replace",
            ),
            (r#"{"time_taken":-5}"#, "time_taken"),
        ] {
            assert_eq!(grade(json).check(&rubric()).unwrap_err().field(), Some(field), "{json}");
        }
    }
}
