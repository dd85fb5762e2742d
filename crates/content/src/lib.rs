//! Content bundles (CONTENT.md): departments, cohorts, profiles, courses, topics, exercises,
//! extra error tags and simulation content (personas, rubrics, simulations with their scenarios
//! and video questions, homes, practices), loaded by `practica import FILE` or
//! `POST /admin/import`. A bundle is read strictly (unknown fields refused, each error naming its
//! path) and its references are checked against itself; what it names but does not define is
//! returned for the service to look up in what is already stored, before it applies the bundle
//! in one transaction (practica's `content::import`).
//!
//! Pure (no I/O) and outside the service, so that the reader of untrusted admin uploads can be
//! fuzzed without building the service (`fuzz/`, target `bundle`).

use std::collections::HashSet;

use diagnosis::Number;
use mastery::BktParams;
use serde::{Deserialize, Serialize};

/// The roles a bundle's profile may have: people, not agents (an agent's API key is issued by an
/// admin, never imported). The service's `Role` parses each of them.
pub const PROFILE_ROLES: [&str; 3] = ["student", "teacher", "admin"];

/// Most rows in one bundle section.
pub const MAX_ROWS: usize = 100_000;
const MAX_ID: usize = 128;
const MAX_TEXT: usize = 10_000;
/// Most items in a list inside a row (criteria, levels, scenarios, questions, options,
/// objectives, script lines, persona ids, evidence patterns): enough for any real simulation,
/// small enough that one row cannot carry an unbounded payload.
const MAX_LIST: usize = 1_000;
/// Most points a criterion or level may carry; keeps every sum of them far inside the integer
/// columns that store them.
const MAX_POINTS: u32 = 1_000_000;
/// Longest time limit: a week, in seconds (also well inside a 32-bit column).
const MAX_TIME_LIMIT: u32 = 7 * 24 * 3600;

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
    #[serde(default)]
    pub personas: Vec<Persona>,
    #[serde(default)]
    pub rubrics: Vec<RubricIn>,
    #[serde(default)]
    pub simulations: Vec<Simulation>,
    #[serde(default)]
    pub homes: Vec<Home>,
    #[serde(default)]
    pub practices: Vec<Practice>,
}

// Simulation content. Except for rubrics (read back as `simulation::rubric::Rubric`, the type
// the grading rules take), the stored rows are read back as these same types, so what was
// imported and what the service plays are the same shape.

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Persona {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub instructions: String,
    #[serde(default)]
    pub color: Option<String>,
    #[serde(default)]
    pub icon: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RubricIn {
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub criteria: Vec<CriterionIn>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CriterionIn {
    pub id: String,
    #[serde(default)]
    pub name: String,
    pub points: u32,
    #[serde(default)]
    pub pass_points: u32,
    #[serde(default)]
    pub levels: Vec<LevelIn>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LevelIn {
    pub id: String,
    #[serde(default)]
    pub name: String,
    pub points: u32,
    #[serde(default)]
    pub evidence: Vec<String>,
}

impl RubricIn {
    /// The rubric as the simulation rules take it (the bundle has no descriptions).
    pub fn to_rubric(&self) -> simulation::rubric::Rubric {
        use simulation::rubric::{Criterion, Level, Rubric};
        Rubric {
            id: self.id.clone(),
            name: self.name.clone(),
            criteria: self
                .criteria
                .iter()
                .map(|c| Criterion {
                    id: c.id.clone(),
                    name: c.name.clone(),
                    description: String::new(),
                    points: c.points,
                    pass_points: c.pass_points,
                    levels: c
                        .levels
                        .iter()
                        .map(|l| Level {
                            id: l.id.clone(),
                            name: l.name.clone(),
                            description: String::new(),
                            points: l.points,
                            evidence: l.evidence.clone(),
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Simulation {
    pub id: String,
    pub name: String,
    pub rubric_id: String,
    #[serde(default)]
    pub hints_enabled: bool,
    /// Seconds for the whole attempt; 0 = none.
    #[serde(default)]
    pub time_limit: u32,
    /// In play order.
    #[serde(default)]
    pub scenarios: Vec<Scenario>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub persona_ids: Vec<String>,
    #[serde(default)]
    pub problem_statement: String,
    #[serde(default)]
    pub objectives: Vec<String>,
    /// Overrides the simulation's rubric for this scenario.
    #[serde(default)]
    pub rubric_id: Option<String>,
    #[serde(default)]
    pub script: Vec<String>,
    #[serde(default)]
    pub questions: Vec<Question>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    pub id: String,
    pub question_text: String,
    #[serde(default)]
    pub allow_multiple: bool,
    #[serde(default)]
    pub options: Vec<QuestionOption>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct QuestionOption {
    pub id: String,
    pub option_text: String,
    #[serde(default)]
    pub is_correct: bool,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Home {
    pub id: String,
    pub simulation_id: String,
    #[serde(default)]
    pub cohort_id: Option<String>,
    #[serde(default)]
    pub department_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Practice {
    pub id: String,
    pub simulation_id: String,
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

#[derive(Debug, thiserror::Error, PartialEq)]
#[error("{path}: {message}")]
pub struct BundleError {
    pub path: String,
    pub message: String,
}

impl BundleError {
    /// An error at `path` (`profiles[0].role`): also for the service's checks against what is
    /// stored, so that they read like the bundle's own.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> BundleError {
        BundleError {
            path: path.into(),
            message: message.into(),
        }
    }
}

fn err(path: impl Into<String>, message: impl Into<String>) -> BundleError {
    BundleError::new(path, message)
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
    Persona,
    Rubric,
    Simulation,
}

impl RefKind {
    pub fn noun(self) -> &'static str {
        match self {
            RefKind::Department => "department",
            RefKind::Cohort => "cohort",
            RefKind::Profile => "profile",
            RefKind::Topic => "topic",
            RefKind::Persona => "persona",
            RefKind::Rubric => "rubric",
            RefKind::Simulation => "simulation",
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

fn check_len(path: &str, n: usize) -> Result<(), BundleError> {
    if n > MAX_LIST {
        Err(err(path, format!("more than {MAX_LIST} items")))
    } else {
        Ok(())
    }
}

fn check_points(path: &str, points: u32) -> Result<(), BundleError> {
    if points > MAX_POINTS {
        Err(err(path, format!("more than {MAX_POINTS}")))
    } else {
        Ok(())
    }
}

fn check_colour(path: &str, hex: &str) -> Result<(), BundleError> {
    if hex.len() == 7 && hex.starts_with('#') && hex[1..].bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(err(path, "must be a colour like #3366ff"))
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
        let sizes = [
            ("departments", self.departments.len()),
            ("cohorts", self.cohorts.len()),
            ("profiles", self.profiles.len()),
            ("courses", self.courses.len()),
            ("topics", self.topics.len()),
            ("exercises", self.exercises.len()),
            ("error_tags", self.error_tags.len()),
            ("personas", self.personas.len()),
            ("rubrics", self.rubrics.len()),
            ("simulations", self.simulations.len()),
            ("homes", self.homes.len()),
            ("practices", self.practices.len()),
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
            if let Some(hex) = &d.hex_code {
                check_colour(&format!("departments[{i}].hex_code"), hex)?;
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
            if !PROFILE_ROLES.contains(&p.role.as_str()) {
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
        self.validate_simulation_content(&departments, &cohorts, &mut need)?;
        Ok(refs)
    }

    /// Personas, rubrics, simulations, homes and practices: values, sizes and references
    /// (`need` as in [`Bundle::validate`]).
    fn validate_simulation_content(
        &self,
        departments: &HashSet<&str>,
        cohorts: &HashSet<&str>,
        need: &mut impl FnMut(RefKind, &str, String, bool),
    ) -> Result<(), BundleError> {
        let personas = unique("personas", self.personas.iter().map(|p| p.id.as_str()))?;
        let rubrics = unique("rubrics", self.rubrics.iter().map(|r| r.id.as_str()))?;
        let simulations = unique("simulations", self.simulations.iter().map(|s| s.id.as_str()))?;
        unique("homes", self.homes.iter().map(|h| h.id.as_str()))?;
        unique("practices", self.practices.iter().map(|p| p.id.as_str()))?;
        for (i, p) in self.personas.iter().enumerate() {
            let at = format!("personas[{i}]");
            check_text(&format!("{at}.name"), &p.name)?;
            check_text(&format!("{at}.instructions"), &p.instructions)?;
            if let Some(color) = &p.color {
                check_colour(&format!("{at}.color"), color)?;
            }
            if let Some(icon) = &p.icon {
                check_id(&format!("{at}.icon"), icon)?;
            }
        }
        for (i, r) in self.rubrics.iter().enumerate() {
            let at = format!("rubrics[{i}]");
            check_text(&format!("{at}.name"), &r.name)?;
            check_len(&format!("{at}.criteria"), r.criteria.len())?;
            for (c, criterion) in r.criteria.iter().enumerate() {
                let at = format!("{at}.criteria[{c}]");
                check_id(&format!("{at}.id"), &criterion.id)?;
                check_text(&format!("{at}.name"), &criterion.name)?;
                check_points(&format!("{at}.points"), criterion.points)?;
                check_len(&format!("{at}.levels"), criterion.levels.len())?;
                for (l, level) in criterion.levels.iter().enumerate() {
                    let at = format!("{at}.levels[{l}]");
                    check_id(&format!("{at}.id"), &level.id)?;
                    check_text(&format!("{at}.name"), &level.name)?;
                    check_points(&format!("{at}.points"), level.points)?;
                    check_len(&format!("{at}.evidence"), level.evidence.len())?;
                }
            }
            // The grading rules own what a valid rubric is (points, unique level ids, evidence
            // patterns that compile within their size limit); their paths are relative to the
            // rubric, so they are prefixed with its place in the bundle.
            r.to_rubric().validate().map_err(|e| match e {
                simulation::SimulationError::InvalidRubric { field, reason } => err(format!("{at}.{field}"), reason),
                simulation::SimulationError::InvalidEvidencePattern { field, reason } => {
                    err(format!("{at}.{field}"), format!("invalid evidence pattern: {reason}"))
                }
                other => err(at.clone(), other.to_string()),
            })?;
        }
        // Scenario ids are opaque ids the APIs use, so they are unique across the bundle, not
        // only within their simulation.
        let mut scenario_ids = HashSet::new();
        for (i, s) in self.simulations.iter().enumerate() {
            let at = format!("simulations[{i}]");
            check_text(&format!("{at}.name"), &s.name)?;
            need(
                RefKind::Rubric,
                &s.rubric_id,
                format!("{at}.rubric_id"),
                rubrics.contains(s.rubric_id.as_str()),
            );
            if s.time_limit > MAX_TIME_LIMIT {
                return Err(err(
                    format!("{at}.time_limit"),
                    format!("more than {MAX_TIME_LIMIT} seconds"),
                ));
            }
            check_len(&format!("{at}.scenarios"), s.scenarios.len())?;
            for (j, sc) in s.scenarios.iter().enumerate() {
                let at = format!("{at}.scenarios[{j}]");
                check_id(&format!("{at}.id"), &sc.id)?;
                if !scenario_ids.insert(sc.id.as_str()) {
                    return Err(err(format!("{at}.id"), format!("duplicate scenario id {:?}", sc.id)));
                }
                check_text(&format!("{at}.name"), &sc.name)?;
                check_text(&format!("{at}.problem_statement"), &sc.problem_statement)?;
                if let Some(r) = &sc.rubric_id {
                    need(
                        RefKind::Rubric,
                        r,
                        format!("{at}.rubric_id"),
                        rubrics.contains(r.as_str()),
                    );
                }
                check_len(&format!("{at}.persona_ids"), sc.persona_ids.len())?;
                let mut seen = HashSet::new();
                for (k, p) in sc.persona_ids.iter().enumerate() {
                    let path = format!("{at}.persona_ids[{k}]");
                    if !seen.insert(p.as_str()) {
                        return Err(err(path, format!("duplicate persona id {p:?}")));
                    }
                    need(RefKind::Persona, p, path, personas.contains(p.as_str()));
                }
                for (field, lines) in [("objectives", &sc.objectives), ("script", &sc.script)] {
                    check_len(&format!("{at}.{field}"), lines.len())?;
                    for (k, line) in lines.iter().enumerate() {
                        check_text(&format!("{at}.{field}[{k}]"), line)?;
                    }
                }
                check_len(&format!("{at}.questions"), sc.questions.len())?;
                let mut question_ids = HashSet::new();
                for (k, q) in sc.questions.iter().enumerate() {
                    let at = format!("{at}.questions[{k}]");
                    check_id(&format!("{at}.id"), &q.id)?;
                    if !question_ids.insert(q.id.as_str()) {
                        return Err(err(format!("{at}.id"), format!("duplicate question id {:?}", q.id)));
                    }
                    check_text(&format!("{at}.question_text"), &q.question_text)?;
                    check_len(&format!("{at}.options"), q.options.len())?;
                    let mut option_ids = HashSet::new();
                    for (o, opt) in q.options.iter().enumerate() {
                        let at = format!("{at}.options[{o}]");
                        check_id(&format!("{at}.id"), &opt.id)?;
                        if !option_ids.insert(opt.id.as_str()) {
                            return Err(err(format!("{at}.id"), format!("duplicate option id {:?}", opt.id)));
                        }
                        check_text(&format!("{at}.option_text"), &opt.option_text)?;
                    }
                }
            }
        }
        for (i, h) in self.homes.iter().enumerate() {
            need(
                RefKind::Simulation,
                &h.simulation_id,
                format!("homes[{i}].simulation_id"),
                simulations.contains(h.simulation_id.as_str()),
            );
            if let Some(c) = &h.cohort_id {
                need(
                    RefKind::Cohort,
                    c,
                    format!("homes[{i}].cohort_id"),
                    cohorts.contains(c.as_str()),
                );
            }
            if let Some(d) = &h.department_id {
                need(
                    RefKind::Department,
                    d,
                    format!("homes[{i}].department_id"),
                    departments.contains(d.as_str()),
                );
            }
        }
        for (i, p) in self.practices.iter().enumerate() {
            need(
                RefKind::Simulation,
                &p.simulation_id,
                format!("practices[{i}].simulation_id"),
                simulations.contains(p.simulation_id.as_str()),
            );
        }
        Ok(())
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

    /// CONTENT.md's example (p_init 0.35, so tests can tell its parameters from the defaults),
    /// kept with the service's tests, which import it.
    const EXAMPLE: &str = include_str!("../../practica/tests/data/bundle-example.yaml");

    #[test]
    fn the_documented_example_reads_and_validates() {
        let b = parse(EXAMPLE).unwrap();
        assert_eq!(b.profiles.len(), 2);
        assert_eq!(b.simulations[0].scenarios[0].questions[0].options.len(), 2);
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
        let e =
            parse("simulations: [{id: s, name: S, rubric_id: r, scenarios: [{id: a, name: A, mood: x}]}]").unwrap_err();
        assert!(e.path.starts_with("simulations[0].scenarios[0]"), "{e}");
        let b =
            parse("rubrics: [{id: r, criteria: [{id: c, points: 2, pass_points: 3, levels: [{id: l, points: 0}]}]}]")
                .unwrap();
        assert_eq!(
            b.validate(|_| false).unwrap_err().path,
            "rubrics[0].criteria[0].pass_points"
        );
        let b = parse(
            r#"rubrics: [{id: r, criteria: [{id: c, points: 2, levels: [{id: l, points: 0, evidence: ["(unclosed"]}]}]}]"#,
        )
        .unwrap();
        assert_eq!(
            b.validate(|_| false).unwrap_err().path,
            "rubrics[0].criteria[0].levels[0].evidence[0]"
        );
        let b =
            parse("simulations: [{id: s, name: S, rubric_id: r9, scenarios: [{id: a, name: A, persona_ids: [p9]}]}]")
                .unwrap();
        let refs = b.validate(|_| false).unwrap();
        let paths: Vec<_> = refs.iter().map(|r| r.path.as_str()).collect();
        assert_eq!(
            paths,
            ["simulations[0].rubric_id", "simulations[0].scenarios[0].persona_ids[0]"]
        );
        let b = parse(
            "simulations: [{id: s, name: S, rubric_id: r, scenarios: [{id: a, name: A}]}, \
             {id: t, name: T, rubric_id: r, scenarios: [{id: a, name: B}]}]",
        )
        .unwrap();
        assert_eq!(
            b.validate(|_| false).unwrap_err().path,
            "simulations[1].scenarios[0].id"
        );
        let b = parse("profiles: [{id: a, role: student}, {id: a, role: teacher}]").unwrap();
        assert_eq!(b.validate(|_| false).unwrap_err().path, "profiles[1].id");
    }
}
