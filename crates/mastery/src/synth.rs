//! Synthetic data: students simulated from known BKT parameters, to test parameter recovery.

use crate::{BktParams, Sequences, Skills};

/// Random true parameters in the usual ranges: p_init 0.1–0.5, p_learn 0.05–0.3, p_slip
/// 0.05–0.2, p_guess 0.1–0.3, no forgetting.
pub fn random_params(rng: &mut fastrand::Rng) -> BktParams {
    let mut u = |lo: f64, hi: f64| lo + (hi - lo) * rng.f64();
    BktParams {
        p_init: u(0.1, 0.5),
        p_learn: u(0.05, 0.3),
        p_slip: u(0.05, 0.2),
        p_guess: u(0.1, 0.3),
        p_forget: 0.0,
    }
}

/// `students` response sequences of length `opportunities` simulated from `params`.
pub fn simulate(params: &BktParams, students: usize, opportunities: usize, rng: &mut fastrand::Rng) -> Sequences {
    let mut out = Sequences::with_capacity(students, students * opportunities);
    let mut seq = Vec::with_capacity(opportunities);
    for _ in 0..students {
        seq.clear();
        let mut known = rng.f64() < params.p_init;
        for _ in 0..opportunities {
            seq.push(if known {
                rng.f64() >= params.p_slip
            } else {
                rng.f64() < params.p_guess
            });
            known = if known {
                rng.f64() >= params.p_forget
            } else {
                rng.f64() < params.p_learn
            };
        }
        out.push(&seq);
    }
    out
}

/// `skills` skills named `skill_0`, `skill_1`, …, each with its random true parameters and
/// `students` sequences of `opportunities` responses; sequence `i` of every skill is student `i`.
/// Deterministic for a given seed.
pub fn generate(students: usize, skills: usize, opportunities: usize, seed: u64) -> (Vec<BktParams>, Skills) {
    let mut rng = fastrand::Rng::with_seed(seed);
    let truth: Vec<BktParams> = (0..skills).map(|_| random_params(&mut rng)).collect();
    let data = truth
        .iter()
        .enumerate()
        .map(|(k, p)| {
            let mut skill_rng = fastrand::Rng::with_seed(seed ^ (k as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
            (
                format!("skill_{k}"),
                simulate(p, students, opportunities, &mut skill_rng),
            )
        })
        .collect();
    (truth, data)
}
