//! The `POST /attempts` body as the engine reads it, shared by the CLI and the service so both
//! validate the same way.

use serde::Deserialize;

use crate::{Attempt, DeepDiagnosis, Diagnosis, Family, InputError, Number, NumberError, Options, Step, catalog};

/// Longest accepted step expression, in bytes.
pub const MAX_EXPRESSION_LEN: usize = 1_000;
/// Most steps in one attempt.
pub const MAX_STEPS: usize = 100;
/// Longest accepted identifier (topic code, student, exercise and course ids).
pub const MAX_ID_LEN: usize = 128;

/// A number as JSON may carry it: a JSON number, or a string (`"8/15"`, `"3,75"`, `"x = 4"`).
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum NumberField {
    Number(serde_json::Number),
    Text(String),
}

impl NumberField {
    pub fn to_number(&self) -> Result<Number, NumberError> {
        match self {
            NumberField::Number(n) => {
                if let Some(i) = n.as_i64() {
                    Ok(Number::int(i.into()))
                } else if let Some(u) = n.as_u64() {
                    Ok(Number::int(u.into()))
                } else {
                    Number::from_f64(n.as_f64().ok_or(NumberError::Invalid)?)
                }
            }
            NumberField::Text(s) => Number::parse(s),
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawStep {
    pub expression: String,
    #[serde(default)]
    pub is_final: bool,
}

/// A `POST /attempts` body; `studentId` is optional here (the CLI has no caller identity).
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttemptBody {
    #[serde(default)]
    pub student_id: Option<String>,
    pub topic_code: String,
    #[serde(default)]
    pub exercise_id: Option<String>,
    #[serde(default)]
    pub course_id: Option<String>,
    /// Required by the API; a batch line without it is read as having no steps.
    #[serde(default)]
    pub raw_steps: Vec<RawStep>,
    pub expected_answer: NumberField,
    pub student_answer: NumberField,
    #[serde(default)]
    pub minuend: Option<NumberField>,
    #[serde(default)]
    pub subtrahend: Option<NumberField>,
}

#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum RequestError {
    #[error("invalid JSON body: {0}")]
    Json(String),
    #[error("{field}: {message}")]
    Field { field: &'static str, message: String },
    #[error("topicCode: unknown topic {0:?}")]
    UnknownTopic(String),
    #[error("{0}")]
    Input(#[from] InputError),
}

impl RequestError {
    fn field(field: &'static str, message: impl Into<String>) -> RequestError {
        RequestError::Field {
            field,
            message: message.into(),
        }
    }
}

fn number(field: &'static str, v: &NumberField) -> Result<Number, RequestError> {
    v.to_number().map_err(|e| RequestError::field(field, e.to_string()))
}

impl AttemptBody {
    pub fn from_json(text: &str) -> Result<AttemptBody, RequestError> {
        serde_json::from_str(text).map_err(|e| RequestError::Json(e.to_string()))
    }

    /// Checks sizes and identifiers; numbers are checked when read.
    pub fn validate(&self) -> Result<(), RequestError> {
        let id = |field: &'static str, v: &str| {
            if v.trim().is_empty() {
                Err(RequestError::field(field, "must not be empty"))
            } else if v.len() > MAX_ID_LEN {
                Err(RequestError::field(field, format!("longer than {MAX_ID_LEN} bytes")))
            } else {
                Ok(())
            }
        };
        id("topicCode", &self.topic_code)?;
        for (field, v) in [
            ("studentId", &self.student_id),
            ("exerciseId", &self.exercise_id),
            ("courseId", &self.course_id),
        ] {
            if let Some(v) = v {
                id(field, v)?;
            }
        }
        if self.raw_steps.len() > MAX_STEPS {
            return Err(RequestError::field("rawSteps", format!("more than {MAX_STEPS} steps")));
        }
        if let Some(i) = self
            .raw_steps
            .iter()
            .position(|s| s.expression.len() > MAX_EXPRESSION_LEN)
        {
            return Err(RequestError::Field {
                field: "rawSteps",
                message: format!("step {i}: expression longer than {MAX_EXPRESSION_LEN} bytes"),
            });
        }
        Ok(())
    }

    /// The family of the body's topic in the built-in catalog.
    pub fn builtin_family(&self) -> Result<Option<Family>, RequestError> {
        let topic = catalog::topic(self.topic_code.trim())
            .ok_or_else(|| RequestError::UnknownTopic(self.topic_code.clone()))?;
        Ok(Family::from_code(topic.family))
    }

    /// Diagnoses with the topic looked up in the built-in catalog.
    pub fn diagnose(&self, options: &Options) -> Result<Diagnosis, RequestError> {
        let family = self.builtin_family()?;
        self.diagnose_as(family, options)
    }

    /// Diagnoses under a family the caller resolved (from its own topic table).
    pub fn diagnose_as(&self, family: Option<Family>, options: &Options) -> Result<Diagnosis, RequestError> {
        self.with_attempt(family, |attempt| Ok(crate::diagnose(attempt, options)?))
    }

    /// The deep search ([`crate::deep_diagnose`]) under a family the caller resolved: what the
    /// asynchronous classifier runs on an UNCLASSIFIED attempt.
    pub fn deep_diagnose_as(&self, family: Option<Family>, options: &Options) -> Result<DeepDiagnosis, RequestError> {
        self.with_attempt(family, |attempt| Ok(crate::deep_diagnose(attempt, options)?))
    }

    /// The misconception signature ([`crate::signature`]) of this body under a family the caller
    /// resolved, given its diagnosis: the synchronous one from [`AttemptBody::diagnose_as`], so
    /// that an attempt's signature is the same on the request path and in the reports on it.
    /// `None` for a correct answer.
    pub fn signature_as(&self, family: Option<Family>, diagnosis: &Diagnosis) -> Result<Option<String>, RequestError> {
        self.with_attempt(family, |attempt| Ok(crate::signature(attempt, diagnosis)))
    }

    /// Validates the body, reads its numbers and steps, and hands the attempt to `f`.
    fn with_attempt<R>(
        &self,
        family: Option<Family>,
        f: impl FnOnce(&Attempt<'_>) -> Result<R, RequestError>,
    ) -> Result<R, RequestError> {
        self.validate()?;
        let expected = number("expectedAnswer", &self.expected_answer)?;
        let answer = number("studentAnswer", &self.student_answer)?;
        let operands = match (&self.minuend, &self.subtrahend) {
            (Some(a), Some(b)) => Some((number("minuend", a)?, number("subtrahend", b)?)),
            _ => None,
        };
        let steps: Vec<Step<'_>> = self
            .raw_steps
            .iter()
            .map(|s| Step {
                expression: &s.expression,
                is_final: s.is_final,
            })
            .collect();
        let attempt = Attempt {
            family,
            expected: Some(expected),
            answer,
            operands,
            steps: &steps,
        };
        f(&attempt)
    }
}
