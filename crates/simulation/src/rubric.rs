//! Rubrics and the arithmetic of a grade. A grader (AI, rules, or a person) only ever chooses
//! one level per criterion; the points, the percentage and `passed` are computed here from the
//! rubric, so a model can never award points the rubric does not have.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::error::{Result, SimulationError};

/// Longest evidence pattern accepted, in bytes. Patterns are written by content authors; a cap
/// keeps a pasted essay from becoming a multi-megabyte automaton.
pub const MAX_PATTERN_LEN: usize = 1_000;

/// A rubric as the content bundle writes it (CONTENT.md: `rubrics > criteria > levels`).
/// The spec calls criteria "standard groups" and levels "standards".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rubric {
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub criteria: Vec<Criterion>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Criterion {
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// The most this criterion can contribute; the rubric's total is the sum of these.
    pub points: u32,
    #[serde(default)]
    pub pass_points: u32,
    #[serde(default)]
    pub levels: Vec<Level>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Level {
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub points: u32,
    /// Regular expressions; a learner message matching one is evidence for this level (the
    /// rule grader, `crate::rule_grader`). Optional.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<String>,
}

impl Rubric {
    /// Checks what the arithmetic relies on, naming the path of the first problem:
    /// - at least one criterion, each with at least one level (a grader must be able to choose);
    /// - ids non-blank; criterion ids unique; level ids unique across the whole rubric, because
    ///   `standards_mapping` is keyed by level id alone;
    /// - `pass_points <= points` and each level's `points <= ` its criterion's `points` (else a
    ///   grade could exceed the rubric's total and the percentage pass 100);
    /// - every evidence pattern compiles (within [`MAX_PATTERN_LEN`]).
    pub fn validate(&self) -> Result<()> {
        self.validate_shape()?;
        for_each_pattern(self, |pattern, field| compile_evidence(pattern, &field).map(drop))
    }

    /// Everything [`Rubric::validate`] checks but the patterns, which the rule grader compiles
    /// once for itself (so it checks the shape, then keeps what it compiles).
    pub(crate) fn validate_shape(&self) -> Result<()> {
        let bad = |field: String, reason: &str| SimulationError::InvalidRubric {
            field,
            reason: reason.to_owned(),
        };
        if self.id.trim().is_empty() {
            return Err(bad("id".into(), "must not be blank"));
        }
        if self.criteria.is_empty() {
            return Err(bad("criteria".into(), "a rubric needs at least one criterion"));
        }
        let mut criterion_ids = HashSet::new();
        let mut level_ids = HashSet::new();
        for (c, criterion) in self.criteria.iter().enumerate() {
            let at = format!("criteria[{c}]");
            if criterion.id.trim().is_empty() {
                return Err(bad(format!("{at}.id"), "must not be blank"));
            }
            if !criterion_ids.insert(criterion.id.as_str()) {
                return Err(bad(format!("{at}.id"), "duplicate criterion id"));
            }
            if criterion.pass_points > criterion.points {
                return Err(bad(format!("{at}.pass_points"), "exceeds the criterion's points"));
            }
            if criterion.levels.is_empty() {
                return Err(bad(format!("{at}.levels"), "a criterion needs at least one level"));
            }
            for (l, level) in criterion.levels.iter().enumerate() {
                let at = format!("{at}.levels[{l}]");
                if level.id.trim().is_empty() {
                    return Err(bad(format!("{at}.id"), "must not be blank"));
                }
                if !level_ids.insert(level.id.as_str()) {
                    return Err(bad(format!("{at}.id"), "duplicate level id in the rubric"));
                }
                if level.points > criterion.points {
                    return Err(bad(format!("{at}.points"), "exceeds the criterion's points"));
                }
            }
        }
        Ok(())
    }

    /// The rubric's total: the most a chat graded against it can score.
    pub fn total_points(&self) -> u64 {
        self.criteria.iter().map(|c| u64::from(c.points)).sum()
    }

    /// The rubric's pass mark: the sum of its criteria's pass points.
    pub fn pass_points(&self) -> u64 {
        self.criteria.iter().map(|c| u64::from(c.pass_points)).sum()
    }

    /// SIMULATION.md: `passed = score >= pass_points`, or `score > 0` when pass_points is 0
    /// (a rubric without a pass mark still does not pass an empty performance).
    pub fn passes(&self, score: u64) -> bool {
        passes(score, self.pass_points())
    }

    fn criterion(&self, id: &str) -> Option<&Criterion> {
        self.criteria.iter().find(|c| c.id == id)
    }

    /// Scores a choice of one level per criterion. Rejects, naming `choices[i]…`: an unknown
    /// criterion, a level that is not one of that criterion's levels, a criterion chosen twice,
    /// and (field `choices`) any criterion left without a level. Callers validate the rubric
    /// first; an unvalidated one still cannot make this panic.
    pub fn grade(&self, choices: &[CriterionChoice]) -> Result<GradeOutcome> {
        let mut chosen: BTreeMap<&str, (&Criterion, &Level)> = BTreeMap::new();
        for (i, choice) in choices.iter().enumerate() {
            let criterion = self
                .criterion(&choice.criterion_id)
                .ok_or_else(|| SimulationError::UnknownCriterion {
                    field: format!("choices[{i}].criterion_id"),
                    criterion_id: choice.criterion_id.clone(),
                })?;
            let level = criterion
                .levels
                .iter()
                .find(|l| l.id == choice.level_id)
                .ok_or_else(|| SimulationError::UnknownLevel {
                    field: format!("choices[{i}].level_id"),
                    criterion_id: criterion.id.clone(),
                    level_id: choice.level_id.clone(),
                })?;
            if chosen.insert(criterion.id.as_str(), (criterion, level)).is_some() {
                return Err(SimulationError::DuplicateCriterion {
                    field: format!("choices[{i}].criterion_id"),
                    criterion_id: criterion.id.clone(),
                });
            }
        }
        let mut criteria = Vec::with_capacity(self.criteria.len());
        for criterion in &self.criteria {
            let Some((_, level)) = chosen.get(criterion.id.as_str()) else {
                return Err(SimulationError::MissingCriterion {
                    field: "choices".into(),
                    criterion_id: criterion.id.clone(),
                });
            };
            criteria.push(CriterionScore {
                criterion_id: criterion.id.clone(),
                level_id: level.id.clone(),
                // Capped so an unvalidated rubric cannot push a criterion past its maximum.
                points: level.points.min(criterion.points),
                max_points: criterion.points,
                passed: passes(
                    u64::from(level.points.min(criterion.points)),
                    u64::from(criterion.pass_points),
                ),
            });
        }
        let score = criteria.iter().map(|c| u64::from(c.points)).sum();
        let max_score = self.total_points();
        let pass_points = self.pass_points();
        Ok(GradeOutcome {
            score,
            max_score,
            pass_points,
            percentage: percentage(score, max_score),
            passed: passes(score, pass_points),
            criteria,
        })
    }

    /// The spec's `RubricStructureData` of this rubric.
    pub fn structure(&self) -> RubricStructureData {
        let mut out = RubricStructureData::default();
        for criterion in &self.criteria {
            out.standard_groups.insert(
                criterion.id.clone(),
                criterion.levels.iter().map(|l| l.id.clone()).collect(),
            );
            out.standard_groups_mapping.insert(
                criterion.id.clone(),
                StandardGroupInfo {
                    name: criterion.name.clone(),
                    description: criterion.description.clone(),
                    points: criterion.points,
                    pass_points: criterion.pass_points,
                },
            );
            for level in &criterion.levels {
                out.standards_mapping.insert(
                    level.id.clone(),
                    StandardInfo {
                        name: level.name.clone(),
                        description: level.description.clone(),
                        points: level.points,
                    },
                );
            }
        }
        out
    }
}

/// Calls `f` with each evidence pattern of the rubric and its field path
/// (`criteria[c].levels[l].evidence[p]`), stopping at the first error.
fn for_each_pattern(rubric: &Rubric, mut f: impl FnMut(&str, String) -> Result<()>) -> Result<()> {
    for (c, criterion) in rubric.criteria.iter().enumerate() {
        for (l, level) in criterion.levels.iter().enumerate() {
            for (p, pattern) in level.evidence.iter().enumerate() {
                f(pattern, format!("criteria[{c}].levels[{l}].evidence[{p}]"))?;
            }
        }
    }
    Ok(())
}

pub(crate) fn compile_evidence(pattern: &str, field: &str) -> Result<regex::Regex> {
    if pattern.len() > MAX_PATTERN_LEN {
        return Err(SimulationError::InvalidEvidencePattern {
            field: field.to_owned(),
            reason: format!("longer than {MAX_PATTERN_LEN} bytes"),
        });
    }
    regex::RegexBuilder::new(pattern)
        // Bounds the compiled program; the default (10 MiB) is generous for one pattern.
        .size_limit(1 << 20)
        .build()
        .map_err(|e| SimulationError::InvalidEvidencePattern {
            field: field.to_owned(),
            reason: e.to_string(),
        })
}

/// `passed` from a score and a pass mark (SIMULATION.md's rule, shared by every grade path).
pub fn passes(score: u64, pass_points: u64) -> bool {
    if pass_points == 0 {
        score > 0
    } else {
        score >= pass_points
    }
}

/// `score / max * 100` rounded half up to 2 decimals and kept within 0–100; 0 when nothing
/// can be scored (a 0-point rubric is not a 100% success). Integer arithmetic, so equal
/// inputs give bit-identical output on every platform.
pub fn percentage(score: u64, max: u64) -> f64 {
    if max == 0 {
        return 0.0;
    }
    let score = u128::from(score.min(max));
    let max = u128::from(max);
    let hundredths = (score * 20_000 + max) / (2 * max);
    hundredths as f64 / 100.0
}

/// One level chosen for one criterion: what every grader produces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CriterionChoice {
    pub criterion_id: String,
    pub level_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GradeOutcome {
    pub score: u64,
    pub max_score: u64,
    pub pass_points: u64,
    pub percentage: f64,
    pub passed: bool,
    /// In the rubric's order.
    pub criteria: Vec<CriterionScore>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CriterionScore {
    pub criterion_id: String,
    pub level_id: String,
    pub points: u32,
    pub max_points: u32,
    /// The criterion's own pass mark met (informative; `GradeOutcome::passed` is the rubric's).
    pub passed: bool,
}

/// The spec's `RubricStructureData`. BTreeMaps so the JSON is the same on every call.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RubricStructureData {
    pub standard_groups: BTreeMap<String, Vec<String>>,
    pub standard_groups_mapping: BTreeMap<String, StandardGroupInfo>,
    pub standards_mapping: BTreeMap<String, StandardInfo>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StandardGroupInfo {
    pub name: String,
    pub description: String,
    pub points: u32,
    pub pass_points: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StandardInfo {
    pub name: String,
    pub description: String,
    pub points: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn office_hours() -> Rubric {
        serde_json::from_str(include_str!("../tests/data/rubric-office-hours.json")).unwrap()
    }

    fn choose(pairs: &[(&str, &str)]) -> Vec<CriterionChoice> {
        pairs
            .iter()
            .map(|(c, l)| CriterionChoice {
                criterion_id: (*c).into(),
                level_id: (*l).into(),
            })
            .collect()
    }

    #[test]
    fn the_bundle_rubric_is_valid_and_totals_its_criteria() {
        let r = office_hours();
        r.validate().unwrap();
        assert_eq!(r.total_points(), 10);
        assert_eq!(r.pass_points(), 5);
    }

    #[test]
    fn a_grade_sums_the_chosen_levels() {
        let g = office_hours()
            .grade(&choose(&[("crit-empathy", "lvl-e4"), ("crit-plan", "lvl-p3")]))
            .unwrap();
        assert_eq!((g.score, g.max_score, g.passed), (7, 10, true));
        assert_eq!(g.percentage, 70.0);
        assert!(g.criteria.iter().all(|c| c.passed));
    }

    #[test]
    fn pass_is_at_the_pass_points_and_zero_pass_points_needs_a_point() {
        assert!(passes(5, 5));
        assert!(!passes(4, 5));
        assert!(!passes(0, 0));
        assert!(passes(1, 0));
    }

    #[test]
    fn percentage_rounds_to_two_decimals() {
        assert_eq!(percentage(1, 3), 33.33);
        assert_eq!(percentage(2, 3), 66.67);
        assert_eq!(percentage(0, 0), 0.0);
        assert_eq!(percentage(9, 4), 100.0);
    }

    #[test]
    fn grade_errors_name_the_field() {
        let r = office_hours();
        let e = r.grade(&choose(&[("crit-x", "lvl-e4")])).unwrap_err();
        assert_eq!(e.field(), Some("choices[0].criterion_id"));
        // A level of another criterion is not a level of this one.
        let e = r
            .grade(&choose(&[("crit-empathy", "lvl-p3"), ("crit-plan", "lvl-p3")]))
            .unwrap_err();
        assert!(matches!(e, SimulationError::UnknownLevel { .. }));
        assert_eq!(e.field(), Some("choices[0].level_id"));
        let e = r.grade(&choose(&[("crit-empathy", "lvl-e4")])).unwrap_err();
        assert!(matches!(e, SimulationError::MissingCriterion { ref criterion_id, .. } if criterion_id == "crit-plan"));
        let e = r
            .grade(&choose(&[("crit-empathy", "lvl-e4"), ("crit-empathy", "lvl-e0")]))
            .unwrap_err();
        assert_eq!(e.field(), Some("choices[1].criterion_id"));
    }

    #[test]
    fn validation_names_the_path() {
        let mut r = office_hours();
        r.criteria[1].levels[0].points = 99;
        assert_eq!(r.validate().unwrap_err().field(), Some("criteria[1].levels[0].points"));
        let mut r = office_hours();
        r.criteria[0].levels[1].evidence.push("(unclosed".into());
        assert_eq!(
            r.validate().unwrap_err().field(),
            Some("criteria[0].levels[1].evidence[2]")
        );
        let mut r = office_hours();
        r.criteria[1].levels[0].id = "lvl-e0".into();
        assert!(r.validate().is_err());
    }

    #[test]
    fn structure_maps_groups_and_standards() {
        let s = office_hours().structure();
        assert_eq!(s.standard_groups["crit-empathy"], vec!["lvl-e0", "lvl-e2", "lvl-e4"]);
        assert_eq!(s.standard_groups_mapping["crit-plan"].pass_points, 3);
        assert_eq!(s.standards_mapping["lvl-e4"].points, 4);
        let json = serde_json::to_value(&s).unwrap();
        assert!(json.get("standards_mapping").is_some());
    }
}
