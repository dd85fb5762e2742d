//! `response`: a learner's answer to a scenario's video question.

use serde::{Deserialize, Serialize};

use crate::error::{Result, SimulationError};

/// A video question as the bundle writes it (CONTENT.md `scenarios[].questions[]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    pub id: String,
    #[serde(default)]
    pub question_text: String,
    #[serde(default)]
    pub allow_multiple: bool,
    #[serde(default)]
    pub options: Vec<QuestionOption>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionOption {
    pub id: String,
    #[serde(default)]
    pub option_text: String,
    #[serde(default)]
    pub is_correct: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionAnswer {
    /// The chosen options, once each, in the question's order (what the service stores).
    pub option_ids: Vec<String>,
    /// True when the chosen set is exactly the set of correct options (for a multiple-choice
    /// question, every correct option and no other). `None` for a question with no correct
    /// option at all (a poll: nothing to be right about — decided).
    pub is_correct: Option<bool>,
}

impl Question {
    /// Rules: at least one option; every id one of this question's options (`option_ids[i]`);
    /// a repeated id counts once (a double click is not a second answer — decided); more than
    /// one distinct option only when `allow_multiple`.
    pub fn answer(&self, option_ids: &[String]) -> Result<QuestionAnswer> {
        if option_ids.is_empty() {
            return Err(SimulationError::NoOptionChosen);
        }
        let mut chosen = vec![false; self.options.len()];
        for (i, id) in option_ids.iter().enumerate() {
            let at = self
                .options
                .iter()
                .position(|o| &o.id == id)
                .ok_or_else(|| SimulationError::UnknownOption {
                    field: format!("option_ids[{i}]"),
                    question_id: self.id.clone(),
                    option_id: id.clone(),
                })?;
            chosen[at] = true;
        }
        if !self.allow_multiple && chosen.iter().filter(|c| **c).count() > 1 {
            return Err(SimulationError::MultipleChoiceNotAllowed {
                question_id: self.id.clone(),
            });
        }
        let any_correct = self.options.iter().any(|o| o.is_correct);
        let is_correct = any_correct.then(|| self.options.iter().zip(&chosen).all(|(o, c)| o.is_correct == *c));
        Ok(QuestionAnswer {
            option_ids: self
                .options
                .iter()
                .zip(&chosen)
                .filter(|(_, c)| **c)
                .map(|(o, _)| o.id.clone())
                .collect(),
            is_correct,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(multiple: bool) -> Question {
        serde_json::from_value(serde_json::json!({
            "id": "q1", "question_text": "What first?", "allow_multiple": multiple,
            "options": [
                {"id": "o1", "option_text": "Listen", "is_correct": true},
                {"id": "o2", "option_text": "Refuse"},
                {"id": "o3", "option_text": "Ask why", "is_correct": multiple}
            ]
        }))
        .unwrap()
    }

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn single_choice() {
        assert_eq!(q(false).answer(&ids(&["o1"])).unwrap().is_correct, Some(true));
        assert_eq!(q(false).answer(&ids(&["o2"])).unwrap().is_correct, Some(false));
        assert_eq!(q(false).answer(&ids(&["o1", "o1"])).unwrap().option_ids, ids(&["o1"]));
        assert!(matches!(
            q(false).answer(&ids(&["o1", "o2"])),
            Err(SimulationError::MultipleChoiceNotAllowed { .. })
        ));
    }

    #[test]
    fn multiple_choice_needs_exactly_the_correct_set() {
        assert_eq!(q(true).answer(&ids(&["o3", "o1"])).unwrap().is_correct, Some(true));
        assert_eq!(q(true).answer(&ids(&["o1"])).unwrap().is_correct, Some(false));
        assert_eq!(
            q(true).answer(&ids(&["o1", "o2", "o3"])).unwrap().is_correct,
            Some(false)
        );
    }

    #[test]
    fn bad_choices_name_the_field() {
        assert_eq!(q(true).answer(&[]).unwrap_err().field(), Some("option_ids"));
        assert_eq!(
            q(true).answer(&ids(&["o1", "o9"])).unwrap_err().field(),
            Some("option_ids[1]")
        );
    }

    #[test]
    fn a_poll_has_no_correct_answer() {
        let mut poll = q(false);
        poll.options.iter_mut().for_each(|o| o.is_correct = false);
        assert_eq!(poll.answer(&ids(&["o2"])).unwrap().is_correct, None);
    }
}
