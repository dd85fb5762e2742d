//! Bayesian Knowledge Tracing: the probability that a student knows a topic, updated after each
//! attempt, and the fitting of its parameters from response data (EM), with the metrics to
//! evaluate a fit and a synthetic-data generator. Pure: the service stores the result.

mod csv;
mod fit;
mod metrics;
mod sequences;
pub mod synth;

pub use csv::{CsvError, ResponseLog, RowError, read_csv, read_csv_with_students};
pub use fit::{FitOptions, FitResult, PARAM_MAX, PARAM_MIN, fit_all, fit_from, fit_skill};
pub use metrics::{auc, log_likelihood, predict, rmse};
pub use sequences::{Sequences, Skills};

use serde::{Deserialize, Serialize};

/// The four (five with forgetting) parameters of the two-state BKT model.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct BktParams {
    /// P(known) before the first attempt.
    pub p_init: f64,
    /// P(unknown → known) after an attempt.
    pub p_learn: f64,
    /// P(wrong answer | known).
    pub p_slip: f64,
    /// P(right answer | unknown).
    pub p_guess: f64,
    /// P(known → unknown) after an attempt.
    #[serde(default)]
    pub p_forget: f64,
}

impl Default for BktParams {
    /// The usual starting values in knowledge-tracing practice, used until a topic is fitted.
    fn default() -> Self {
        BktParams {
            p_init: 0.3,
            p_learn: 0.1,
            p_slip: 0.1,
            p_guess: 0.2,
            p_forget: 0.0,
        }
    }
}

impl BktParams {
    /// Every probability inside [0, 1] and the model identifiable (slip + guess < 1).
    pub fn is_valid(&self) -> bool {
        let unit = |p: f64| (0.0..=1.0).contains(&p);
        unit(self.p_init)
            && unit(self.p_learn)
            && unit(self.p_slip)
            && unit(self.p_guess)
            && unit(self.p_forget)
            && self.p_slip + self.p_guess < 1.0
    }

    /// P(known) after observing one answer: the posterior given the answer, then the transition
    /// (learning, and forgetting when modelled).
    pub fn update(&self, p_known: f64, correct: bool) -> f64 {
        let (known, unknown) = if correct {
            (p_known * (1.0 - self.p_slip), (1.0 - p_known) * self.p_guess)
        } else {
            (p_known * self.p_slip, (1.0 - p_known) * (1.0 - self.p_guess))
        };
        let evidence = known + unknown;
        let posterior = if evidence > 0.0 { known / evidence } else { p_known };
        (posterior * (1.0 - self.p_forget) + (1.0 - posterior) * self.p_learn).clamp(0.0, 1.0)
    }

    /// P(correct answer) at the next attempt.
    pub fn predict_correct(&self, p_known: f64) -> f64 {
        p_known * (1.0 - self.p_slip) + (1.0 - p_known) * self.p_guess
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn update_matches_hand_computed_values() {
        let p = BktParams {
            p_init: 0.3,
            p_learn: 0.1,
            p_slip: 0.1,
            p_guess: 0.2,
            p_forget: 0.0,
        };
        // Correct: 0.3·0.9 / (0.27 + 0.7·0.2) = 0.27/0.41 = 0.658537; then + (1 − 0.658537)·0.1.
        let after = p.update(0.3, true);
        assert!((after - (0.27 / 0.41 + (1.0 - 0.27 / 0.41) * 0.1)).abs() < 1e-12);
        assert!((after - 0.692683).abs() < 1e-6);
        // Wrong: 0.3·0.1 / (0.03 + 0.7·0.8) = 0.03/0.59 = 0.050847; then learning.
        let after = p.update(0.3, false);
        assert!((after - (0.03 / 0.59 + (1.0 - 0.03 / 0.59) * 0.1)).abs() < 1e-12);
    }

    #[test]
    fn forgetting_pulls_mastery_down() {
        let p = BktParams {
            p_forget: 0.05,
            ..BktParams::default()
        };
        assert!(p.update(0.99, true) < BktParams::default().update(0.99, true));
        assert!(p.is_valid());
        assert!(
            !BktParams {
                p_slip: 0.6,
                p_guess: 0.5,
                ..BktParams::default()
            }
            .is_valid()
        );
    }
}

/// Where a probability of knowing a topic stands, for teachers and dashboards.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Level {
    AtRisk,
    Developing,
    Proficient,
    Mastered,
}

/// The cut-offs between levels: below `at_risk` is at risk, below `developing` developing,
/// below `proficient` proficient, the rest mastered.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cutoffs {
    pub at_risk: f64,
    pub developing: f64,
    pub proficient: f64,
}

impl Default for Cutoffs {
    fn default() -> Self {
        Cutoffs {
            at_risk: 0.4,
            developing: 0.6,
            proficient: 0.95,
        }
    }
}

impl Cutoffs {
    /// Increasing and inside (0, 1].
    pub fn is_valid(&self) -> bool {
        0.0 < self.at_risk
            && self.at_risk < self.developing
            && self.developing < self.proficient
            && self.proficient <= 1.0
    }

    pub fn level(&self, p_known: f64) -> Level {
        if p_known < self.at_risk {
            Level::AtRisk
        } else if p_known < self.developing {
            Level::Developing
        } else if p_known < self.proficient {
            Level::Proficient
        } else {
            Level::Mastered
        }
    }
}

/// How mastery moved over a window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Up,
    Flat,
    Down,
}

/// A change of less than this is flat: one attempt moves p_known by more than that.
pub const TREND_FLAT: f64 = 0.02;

/// The change from `before` to `now` and its direction.
pub fn trend(before: f64, now: f64) -> (f64, Direction) {
    let delta = now - before;
    let direction = if delta > TREND_FLAT {
        Direction::Up
    } else if delta < -TREND_FLAT {
        Direction::Down
    } else {
        Direction::Flat
    };
    (delta, direction)
}

#[cfg(test)]
mod level_tests {
    use super::*;

    #[test]
    fn levels_follow_the_cutoffs() {
        let c = Cutoffs::default();
        assert!(c.is_valid());
        assert_eq!(c.level(0.0), Level::AtRisk);
        assert_eq!(c.level(0.399), Level::AtRisk);
        assert_eq!(c.level(0.4), Level::Developing);
        assert_eq!(c.level(0.6), Level::Proficient);
        assert_eq!(c.level(0.95), Level::Mastered);
        assert!(
            !Cutoffs {
                at_risk: 0.6,
                developing: 0.4,
                proficient: 0.9
            }
            .is_valid()
        );
        assert_eq!(trend(0.3, 0.5).1, Direction::Up);
        assert_eq!(trend(0.5, 0.49).1, Direction::Flat);
        assert_eq!(trend(0.5, 0.3).1, Direction::Down);
        assert_eq!(serde_json::to_value(Level::AtRisk).unwrap(), "AT_RISK");
    }
}
