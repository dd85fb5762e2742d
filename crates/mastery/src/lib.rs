//! Bayesian Knowledge Tracing: the probability that a student knows a topic, updated after each
//! attempt, and the fitting of its parameters from response data (EM), with the metrics to
//! evaluate a fit and a synthetic-data generator. Pure: the service stores the result.

mod csv;
mod fit;
mod metrics;
mod sequences;
pub mod synth;

pub use csv::{CsvError, RowError, read_csv};
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
