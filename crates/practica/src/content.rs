//! Content bundles (CONTENT.md): departments, cohorts, profiles, courses, topics, exercises and
//! extra error tags, loaded by `practica import FILE` or `POST /admin/import`. A bundle is read
//! strictly (unknown fields refused, each error naming its path), its references are checked
//! against itself and what is already stored, and it is applied in one transaction — all or
//! nothing. Importing the same bundle again updates in place.

use std::collections::HashSet;

use diagnosis::Number;
use mastery::BktParams;
use serde::{Deserialize, Serialize};

use crate::storage::Role;

/// Most rows in one bundle section.
pub const MAX_ROWS: usize = 100_000;
const MAX_ID: usize = 128;
const MAX_TEXT: usize = 10_000;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    #[serde(default)]
    pub departments: Vec<Department>,
    #[serde(default)]
    pub cohorts: Vec<Cohort>,
    #[serde(default)]
    pub profiles: Vec<ProfileIn>,
    #[serde(default)]
    pub courses: Vec<Course>,
    #[serde(default)]
    pub topics: Vec<TopicIn>,
    #[serde(default)]
    pub exercises: Vec<ExerciseIn>,
    #[serde(default)]
    pub error_tags: Vec<ErrorTagIn>,
    // Simulation content (personas, rubrics, simulations, homes, practices) is read so the
    // refusal can name it; this version does not store it yet.
    #[serde(default)]
    pub personas: Option<serde_json::Value>,
    #[serde(default)]
    pub rubrics: Option<serde_json::Value>,
    #[serde(default)]
    pub simulations: Option<serde_json::Value>,
    #[serde(default)]
    pub homes: Option<serde_json::Value>,
    #[serde(default)]
    pub practices: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Department {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub hex_code: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cohort {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub department_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileIn {
    pub id: String,
    #[serde(default)]
    pub name: String,
    pub role: String,
    #[serde(default)]
    pub department_ids: Vec<String>,
    #[serde(default)]
    pub cohort_ids: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Course {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub teacher_ids: Vec<String>,
    #[serde(default)]
    pub student_ids: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopicIn {
    pub code: String,
    #[serde(default)]
    pub name: String,
    pub family: String,
    #[serde(default)]
    pub bkt: Option<BktIn>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BktIn {
    pub p_init: f64,
    pub p_learn: f64,
    pub p_slip: f64,
    pub p_guess: f64,
    #[serde(default)]
    pub p_forget: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExerciseIn {
    pub id: String,
    pub topic_code: String,
    pub problem: String,
    /// A number as students write it (`27`, `8/15`, `3,75`).
    pub expected_answer: serde_json::Value,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorTagIn {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub name_en: Option<String>,
    #[serde(default)]
    pub family: String,
    #[serde(default = "default_severity")]
    pub severity: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub remediation: String,
}

fn default_severity() -> String {
    "MED".into()
}

/// What an import created or updated, by kind.
#[derive(Debug, Default, Serialize, PartialEq, utoipa::ToSchema)]
pub struct ImportSummary {
    pub departments: Vec<String>,
    pub cohorts: Vec<String>,
    pub profiles: Vec<String>,
    pub courses: Vec<String>,
    pub topics: Vec<String>,
    pub exercises: Vec<String>,
    pub error_tags: Vec<String>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
#[error("{path}: {message}")]
pub struct BundleError {
    pub path: String,
    pub message: String,
}

fn err(path: impl Into<String>, message: impl Into<String>) -> BundleError {
    BundleError {
        path: path.into(),
        message: message.into(),
    }
}

/// Reads a bundle from JSON or YAML text (JSON when it starts with `{`).
pub fn parse(text: &str) -> Result<Bundle, BundleError> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') {
        let de = &mut serde_json::Deserializer::from_str(text);
        serde_path_to_error::deserialize(de).map_err(|e| err(e.path().to_string(), e.inner().to_string()))
    } else {
        let de = yaml_serde::Deserializer::from_str(text);
        serde_path_to_error::deserialize(de).map_err(|e| err(e.path().to_string(), e.inner().to_string()))
    }
}

/// A reference to a stored row the bundle does not define: what it must exist as, and where it
/// was named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub kind: RefKind,
    pub id: String,
    pub path: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefKind {
    Department,
    Cohort,
    Profile,
    Topic,
}

impl RefKind {
    pub fn noun(self) -> &'static str {
        match self {
            RefKind::Department => "department",
            RefKind::Cohort => "cohort",
            RefKind::Profile => "profile",
            RefKind::Topic => "topic",
        }
    }
}

fn check_id(path: &str, id: &str) -> Result<(), BundleError> {
    if id.trim().is_empty() {
        Err(err(path, "must not be empty"))
    } else if id.len() > MAX_ID {
        Err(err(path, format!("longer than {MAX_ID} bytes")))
    } else {
        Ok(())
    }
}

fn check_text(path: &str, text: &str) -> Result<(), BundleError> {
    if text.len() > MAX_TEXT {
        Err(err(path, format!("longer than {MAX_TEXT} bytes")))
    } else {
        Ok(())
    }
}

fn unique<'a>(section: &str, ids: impl Iterator<Item = &'a str>) -> Result<HashSet<&'a str>, BundleError> {
    let mut seen = HashSet::new();
    for (i, id) in ids.enumerate() {
        check_id(&format!("{section}[{i}].id"), id)?;
        if !seen.insert(id) {
            return Err(err(format!("{section}[{i}].id"), format!("duplicate id {id:?}")));
        }
    }
    Ok(seen)
}

impl Bundle {
    /// Checks values and references within the bundle; returns the references to rows it does
    /// not define, which must already be stored (or, for topics, be built in).
    pub fn validate(&self, builtin_topic: impl Fn(&str) -> bool) -> Result<Vec<Reference>, BundleError> {
        for (name, section) in [
            ("personas", &self.personas),
            ("rubrics", &self.rubrics),
            ("simulations", &self.simulations),
            ("homes", &self.homes),
            ("practices", &self.practices),
        ] {
            if section
                .as_ref()
                .is_some_and(|v| !v.is_null() && v.as_array().is_none_or(|a| !a.is_empty()))
            {
                return Err(err(
                    name,
                    "simulation content is not supported by this version of practica",
                ));
            }
        }
        let sizes = [
            ("departments", self.departments.len()),
            ("cohorts", self.cohorts.len()),
            ("profiles", self.profiles.len()),
            ("courses", self.courses.len()),
            ("topics", self.topics.len()),
            ("exercises", self.exercises.len()),
            ("error_tags", self.error_tags.len()),
        ];
        if let Some((name, _)) = sizes.iter().find(|(_, n)| *n > MAX_ROWS) {
            return Err(err(*name, format!("more than {MAX_ROWS} rows")));
        }
        let departments = unique("departments", self.departments.iter().map(|d| d.id.as_str()))?;
        let cohorts = unique("cohorts", self.cohorts.iter().map(|c| c.id.as_str()))?;
        let profiles = unique("profiles", self.profiles.iter().map(|p| p.id.as_str()))?;
        unique("courses", self.courses.iter().map(|c| c.id.as_str()))?;
        unique("exercises", self.exercises.iter().map(|e| e.id.as_str()))?;
        let mut topics = HashSet::new();
        for (i, t) in self.topics.iter().enumerate() {
            check_id(&format!("topics[{i}].code"), &t.code)?;
            if !topics.insert(t.code.as_str()) {
                return Err(err(format!("topics[{i}].code"), format!("duplicate code {:?}", t.code)));
            }
            check_id(&format!("topics[{i}].family"), &t.family)?;
            check_text(&format!("topics[{i}].name"), &t.name)?;
            if let Some(b) = &t.bkt {
                let params = BktParams {
                    p_init: b.p_init,
                    p_learn: b.p_learn,
                    p_slip: b.p_slip,
                    p_guess: b.p_guess,
                    p_forget: b.p_forget,
                };
                if !params.is_valid() {
                    return Err(err(
                        format!("topics[{i}].bkt"),
                        "probabilities must be in [0, 1] with p_slip + p_guess < 1",
                    ));
                }
            }
        }
        let mut refs = Vec::new();
        let mut need = |kind: RefKind, id: &str, path: String, defined: bool| {
            if !defined {
                refs.push(Reference {
                    kind,
                    id: id.to_string(),
                    path,
                });
            }
        };
        for (i, d) in self.departments.iter().enumerate() {
            check_text(&format!("departments[{i}].name"), &d.name)?;
            if let Some(hex) = &d.hex_code
                && !(hex.len() == 7 && hex.starts_with('#') && hex[1..].bytes().all(|b| b.is_ascii_hexdigit()))
            {
                return Err(err(
                    format!("departments[{i}].hex_code"),
                    "must be a colour like #3366ff",
                ));
            }
        }
        for (i, c) in self.cohorts.iter().enumerate() {
            check_text(&format!("cohorts[{i}].name"), &c.name)?;
            if let Some(d) = &c.department_id {
                need(
                    RefKind::Department,
                    d,
                    format!("cohorts[{i}].department_id"),
                    departments.contains(d.as_str()),
                );
            }
        }
        for (i, p) in self.profiles.iter().enumerate() {
            check_text(&format!("profiles[{i}].name"), &p.name)?;
            if !matches!(Role::parse(&p.role), Some(Role::Student | Role::Teacher | Role::Admin)) {
                return Err(err(
                    format!("profiles[{i}].role"),
                    format!("{:?} is not student, teacher or admin", p.role),
                ));
            }
            for (j, d) in p.department_ids.iter().enumerate() {
                need(
                    RefKind::Department,
                    d,
                    format!("profiles[{i}].department_ids[{j}]"),
                    departments.contains(d.as_str()),
                );
            }
            for (j, c) in p.cohort_ids.iter().enumerate() {
                need(
                    RefKind::Cohort,
                    c,
                    format!("profiles[{i}].cohort_ids[{j}]"),
                    cohorts.contains(c.as_str()),
                );
            }
        }
        for (i, c) in self.courses.iter().enumerate() {
            check_text(&format!("courses[{i}].name"), &c.name)?;
            for (field, ids) in [("teacher_ids", &c.teacher_ids), ("student_ids", &c.student_ids)] {
                for (j, p) in ids.iter().enumerate() {
                    need(
                        RefKind::Profile,
                        p,
                        format!("courses[{i}].{field}[{j}]"),
                        profiles.contains(p.as_str()),
                    );
                }
            }
        }
        for (i, e) in self.exercises.iter().enumerate() {
            check_text(&format!("exercises[{i}].problem"), &e.problem)?;
            let path = format!("exercises[{i}].expected_answer");
            let text = match &e.expected_answer {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Number(n) => n.to_string(),
                _ => return Err(err(path, "must be a number or a string")),
            };
            Number::parse(&text).map_err(|e| err(&path, e.to_string()))?;
            let defined = topics.contains(e.topic_code.as_str()) || builtin_topic(&e.topic_code);
            need(
                RefKind::Topic,
                &e.topic_code,
                format!("exercises[{i}].topic_code"),
                defined,
            );
        }
        for (i, t) in self.error_tags.iter().enumerate() {
            let path = format!("error_tags[{i}].code");
            check_id(&path, &t.code)?;
            if !t
                .code
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
            {
                return Err(err(path, "must be upper-case letters, digits and underscores"));
            }
            if !matches!(t.severity.as_str(), "LOW" | "MED" | "HIGH") {
                return Err(err(format!("error_tags[{i}].severity"), "must be LOW, MED or HIGH"));
            }
            for (field, text) in [
                ("name", &t.name),
                ("description", &t.description),
                ("remediation", &t.remediation),
            ] {
                check_text(&format!("error_tags[{i}].{field}"), text)?;
            }
        }
        Ok(refs)
    }

    /// The expected answer of an exercise as stored (its text as written).
    pub fn answer_text(e: &ExerciseIn) -> String {
        match &e.expected_answer {
            serde_json::Value::String(s) => s.trim().to_string(),
            other => other.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// CONTENT.md's example (p_init 0.35, so tests can tell its parameters from the defaults).
    const EXAMPLE: &str = include_str!("../tests/data/bundle-example.yaml");

    #[test]
    fn the_documented_example_reads_and_validates() {
        let b = parse(EXAMPLE).unwrap();
        assert_eq!(b.profiles.len(), 2);
        assert_eq!(b.validate(|_| false).unwrap(), vec![]);
    }

    #[test]
    fn errors_name_their_path() {
        let e = parse("profiles: [{id: p, role: student, colour: red}]").unwrap_err();
        assert!(e.path.starts_with("profiles[0]"), "{e}");
        let b = parse("courses: [{id: c, name: C, teacher_ids: [t9]}]").unwrap();
        assert_eq!(
            b.validate(|_| false).unwrap(),
            vec![Reference {
                kind: RefKind::Profile,
                id: "t9".into(),
                path: "courses[0].teacher_ids[0]".into()
            }]
        );
        let b = parse(r#"{"exercises": [{"id": "e", "topic_code": "T", "problem": "1+1", "expected_answer": "dos"}]}"#)
            .unwrap();
        assert_eq!(b.validate(|_| true).unwrap_err().path, "exercises[0].expected_answer");
        let b = parse(
            "topics: [{code: T, family: ARITH_ADD, bkt: {p_init: 0.3, p_learn: 0.1, p_slip: 0.6, p_guess: 0.5}}]",
        )
        .unwrap();
        assert_eq!(b.validate(|_| false).unwrap_err().path, "topics[0].bkt");
        let b = parse("simulations: [{id: s}]").unwrap();
        assert_eq!(b.validate(|_| false).unwrap_err().path, "simulations");
        let b = parse("profiles: [{id: a, role: student}, {id: a, role: teacher}]").unwrap();
        assert_eq!(b.validate(|_| false).unwrap_err().path, "profiles[1].id");
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Bundle(#[from] BundleError),
    #[error(transparent)]
    Store(#[from] crate::storage::StoreError),
}

/// Reads, checks and applies a bundle: nothing is written unless all of it is valid.
pub async fn import(store: &dyn crate::storage::Store, text: &str) -> Result<ImportSummary, ImportError> {
    let bundle = parse(text)?;
    let refs = bundle.validate(|code| diagnosis::catalog::topic(code).is_some())?;
    if let Some(r) = store.missing(&refs).await?.into_iter().next() {
        return Err(err(r.path, format!("no {} {:?}", r.kind.noun(), r.id)).into());
    }
    Ok(store.import(&bundle).await?)
}
