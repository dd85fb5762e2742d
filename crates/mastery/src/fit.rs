//! Fitting BKT parameters by expectation–maximisation (Baum–Welch on the two-state HMM).
//!
//! States: 0 = unknown, 1 = known. The observation at step t comes from the state at t; the
//! transition (learning, forgetting) happens after it, as in [`BktParams::update`].

use std::sync::atomic::{AtomicUsize, Ordering};

use serde::{Deserialize, Serialize};

use crate::{BktParams, Sequences};

/// Lowest value any fitted parameter takes (except `p_forget` when forgetting is off: 0).
pub const PARAM_MIN: f64 = 1e-4;
/// Highest value any fitted parameter takes.
pub const PARAM_MAX: f64 = 1.0 - 1e-4;

/// How [`fit_skill`] and [`fit_all`] search.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FitOptions {
    /// Number of EM runs from different starting points (the first from the default
    /// parameters, the others random); the best log-likelihood wins. At least 1 is used.
    pub restarts: usize,
    /// Maximum EM iterations per run.
    pub max_iter: usize,
    /// A run stops when the log-likelihood improves by less than `tol · |log-likelihood|`.
    pub tol: f64,
    /// Upper bound on `p_slip`.
    pub max_slip: f64,
    /// Upper bound on `p_guess`.
    pub max_guess: f64,
    /// Fit `p_forget`; when false it stays 0.
    pub forgetting: bool,
    /// Seed of the random starting points (the same for every skill).
    pub seed: u64,
    /// Threads for [`fit_all`]; 0 = the available parallelism.
    pub threads: usize,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            restarts: 5,
            max_iter: 200,
            tol: 1e-8,
            max_slip: 0.3,
            max_guess: 0.3,
            forgetting: false,
            seed: 0,
            threads: 0,
        }
    }
}

/// The outcome of fitting one skill.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct FitResult {
    /// The parameters with the best log-likelihood found.
    pub params: BktParams,
    /// Natural-log likelihood of the data under `params`.
    pub log_likelihood: f64,
    /// EM iterations of the winning run.
    pub iterations: usize,
    /// EM iterations of all runs together.
    pub total_iterations: usize,
    /// The winning run stopped on the tolerance rather than on `max_iter`.
    pub converged: bool,
}

/// Expected counts gathered by the E-step.
#[derive(Clone, Copy, Debug, Default)]
struct Stats {
    sequences: f64,
    init_known: f64,
    learn_num: f64,
    learn_den: f64,
    forget_num: f64,
    forget_den: f64,
    guess_num: f64,
    unknown: f64,
    slip_num: f64,
    known: f64,
    log_likelihood: f64,
}

/// Sequences handled together by the E-step kernel: independent recursions interleaved, so the
/// processor overlaps their latencies.
const LANES: usize = 4;

/// Buffers reused across iterations: the scaled forward variables and inverse scaling factors,
/// and the plan grouping the sequences into batches of `LANES` of equal length.
struct Workspace {
    alpha: Vec<[[f64; LANES]; 2]>,
    inv_c: Vec<[f64; LANES]>,
    alpha1: Vec<[[f64; 1]; 2]>,
    inv_c1: Vec<[f64; 1]>,
    batches: Vec<[usize; LANES]>,
    singles: Vec<usize>,
}

impl Workspace {
    fn new(seqs: &Sequences) -> Self {
        let max_len = seqs.max_len();
        let mut order: Vec<usize> = (0..seqs.len()).filter(|&i| !seqs.get(i).is_empty()).collect();
        order.sort_by_key(|&i| seqs.get(i).len());
        let (mut batches, mut singles) = (Vec::new(), Vec::new());
        for group in order.chunk_by(|&a, &b| seqs.get(a).len() == seqs.get(b).len()) {
            let mut chunks = group.chunks_exact(LANES);
            batches.extend(
                chunks
                    .by_ref()
                    .map(|c| <[usize; LANES]>::try_from(c).expect("chunk of LANES")),
            );
            singles.extend_from_slice(chunks.remainder());
        }
        Workspace {
            alpha: vec![[[0.0; LANES]; 2]; max_len],
            inv_c: vec![[0.0; LANES]; max_len],
            alpha1: vec![[[0.0; 1]; 2]; max_len],
            inv_c1: vec![[0.0; 1]; max_len],
            batches,
            singles,
        }
    }
}

/// The model's probabilities as the kernel uses them.
struct Model {
    init: f64,
    learn: f64,
    forget: f64,
    stay_unknown: f64,
    stay_known: f64,
    /// Emission probabilities indexed by the response (0 = wrong, 1 = right), per state.
    e0: [f64; 2],
    e1: [f64; 2],
}

/// Forward–backward with per-step scaling over `L` non-empty sequences of equal length,
/// accumulating the expected counts and the log-likelihood into `st`.
fn forward_backward<const L: usize>(
    m: &Model,
    seqs: [&[bool]; L],
    alpha: &mut [[[f64; L]; 2]],
    inv_c: &mut [[f64; L]],
    st: &mut Stats,
) {
    let n = seqs[0].len();
    assert!(n > 0 && seqs.iter().all(|s| s.len() == n));
    let (alpha, inv_c) = (&mut alpha[..n], &mut inv_c[..n]);
    let (l, f, nl, nf, e0, e1) = (m.learn, m.forget, m.stay_unknown, m.stay_known, m.e0, m.e1);
    // Forward. The product of the scaling factors is the sequence's likelihood; it is folded
    // into the log only when it gets small, to save a logarithm per step.
    let (mut a0, mut a1) = ([0.0; L], [0.0; L]);
    let mut prod = [1.0; L];
    let mut ll = 0.0;
    for t in 0..n {
        for j in 0..L {
            let o = usize::from(seqs[j][t]);
            let (p0, p1) = if t == 0 {
                (1.0 - m.init, m.init)
            } else {
                (a0[j] * nl + a1[j] * f, a0[j] * l + a1[j] * nf)
            };
            let (x0, x1) = (p0 * e0[o], p1 * e1[o]);
            let c = x0 + x1;
            let ic = 1.0 / c;
            a0[j] = x0 * ic;
            a1[j] = x1 * ic;
            inv_c[t][j] = ic;
            prod[j] *= c;
            if prod[j] < 1e-250 {
                ll += prod[j].ln();
                prod[j] = 1.0;
            }
        }
        alpha[t] = [a0, a1];
    }
    ll += prod.iter().map(|p| p.ln()).sum::<f64>();
    // Backward, accumulating the posteriors on the fly (gamma_t = alpha_t · beta_t).
    let (mut b0, mut b1) = ([1.0; L], [1.0; L]);
    let [g0, g1] = alpha[n - 1];
    let (mut unknown, mut known, mut guess_num, mut slip_num) = (g0, g1, [0.0; L], [0.0; L]);
    for j in 0..L {
        let r = f64::from(u8::from(seqs[j][n - 1]));
        guess_num[j] = g0[j] * r;
        slip_num[j] = g1[j] * (1.0 - r);
    }
    let (mut learn_num, mut learn_den, mut forget_num, mut forget_den) = ([0.0; L], [0.0; L], [0.0; L], [0.0; L]);
    let mut first_known = g1;
    for t in (0..n - 1).rev() {
        let [a0, a1] = alpha[t];
        let ic = inv_c[t + 1];
        for j in 0..L {
            let on = usize::from(seqs[j][t + 1]);
            let w0 = e0[on] * b0[j] * ic[j];
            let w1 = e1[on] * b1[j] * ic[j];
            let x00 = a0[j] * nl * w0;
            let x01 = a0[j] * l * w1;
            let x10 = a1[j] * f * w0;
            let x11 = a1[j] * nf * w1;
            let (g0, g1) = (x00 + x01, x10 + x11);
            learn_num[j] += x01;
            learn_den[j] += g0;
            forget_num[j] += x10;
            forget_den[j] += g1;
            b0[j] = nl * w0 + l * w1;
            b1[j] = f * w0 + nf * w1;
            let r = f64::from(u8::from(seqs[j][t]));
            unknown[j] += g0;
            known[j] += g1;
            guess_num[j] += g0 * r;
            slip_num[j] += g1 * (1.0 - r);
            first_known[j] = g1;
        }
    }
    let sum = |v: [f64; L]| v.iter().sum::<f64>();
    st.sequences += L as f64;
    st.log_likelihood += ll;
    st.init_known += sum(first_known);
    st.learn_num += sum(learn_num);
    st.learn_den += sum(learn_den);
    st.forget_num += sum(forget_num);
    st.forget_den += sum(forget_den);
    st.unknown += sum(unknown);
    st.known += sum(known);
    st.guess_num += sum(guess_num);
    st.slip_num += sum(slip_num);
}

/// The E-step: expected counts and log-likelihood of `p` over every sequence.
fn e_step(p: &BktParams, seqs: &Sequences, ws: &mut Workspace) -> Stats {
    let m = Model {
        init: p.p_init,
        learn: p.p_learn,
        forget: p.p_forget,
        stay_unknown: 1.0 - p.p_learn,
        stay_known: 1.0 - p.p_forget,
        e0: [1.0 - p.p_guess, p.p_guess],
        e1: [p.p_slip, 1.0 - p.p_slip],
    };
    let mut st = Stats::default();
    for batch in &ws.batches {
        forward_backward(&m, batch.map(|i| seqs.get(i)), &mut ws.alpha, &mut ws.inv_c, &mut st);
    }
    for &i in &ws.singles {
        forward_backward(&m, [seqs.get(i)], &mut ws.alpha1, &mut ws.inv_c1, &mut st);
    }
    st
}

/// `x` within `[lo, hi]`; `fallback` when `x` is not a number.
fn bounded(x: f64, hi: f64, fallback: f64) -> f64 {
    let hi = hi.clamp(PARAM_MIN, PARAM_MAX);
    let x = if x.is_nan() { fallback } else { x };
    x.max(PARAM_MIN).min(hi)
}

/// `p` moved inside the bounds of `opts`.
fn clamp_params(p: &BktParams, opts: &FitOptions) -> BktParams {
    let d = BktParams::default();
    BktParams {
        p_init: bounded(p.p_init, PARAM_MAX, d.p_init),
        p_learn: bounded(p.p_learn, PARAM_MAX, d.p_learn),
        p_slip: bounded(p.p_slip, opts.max_slip, d.p_slip),
        p_guess: bounded(p.p_guess, opts.max_guess, d.p_guess),
        p_forget: if opts.forgetting {
            bounded(p.p_forget, PARAM_MAX, PARAM_MIN)
        } else {
            0.0
        },
    }
}

/// Closed-form maximisation of the expected complete-data log-likelihood, then the bounds.
/// Each parameter's objective is a concave Bernoulli term, so clamping it keeps the step an
/// improvement and the log-likelihood non-decreasing.
fn m_step(st: &Stats, prev: &BktParams, opts: &FitOptions) -> BktParams {
    let ratio = |num: f64, den: f64, fallback: f64| if den > 0.0 { num / den } else { fallback };
    clamp_params(
        &BktParams {
            p_init: ratio(st.init_known, st.sequences, prev.p_init),
            p_learn: ratio(st.learn_num, st.learn_den, prev.p_learn),
            p_slip: ratio(st.slip_num, st.known, prev.p_slip),
            p_guess: ratio(st.guess_num, st.unknown, prev.p_guess),
            p_forget: ratio(st.forget_num, st.forget_den, prev.p_forget),
        },
        opts,
    )
}

/// One EM run from `start`; `on_iter` sees the log-likelihood at each iteration (of the
/// parameters before that iteration's M-step).
fn em_run(
    seqs: &Sequences,
    start: &BktParams,
    opts: &FitOptions,
    ws: &mut Workspace,
    on_iter: &mut dyn FnMut(f64),
) -> FitResult {
    let mut params = clamp_params(start, opts);
    let mut best = FitResult {
        params,
        log_likelihood: f64::NEG_INFINITY,
        iterations: 0,
        total_iterations: 0,
        converged: false,
    };
    for it in 1..=opts.max_iter.max(1) {
        let st = e_step(&params, seqs, ws);
        let ll = st.log_likelihood;
        on_iter(ll);
        let prev = best.log_likelihood;
        if ll >= prev || !prev.is_finite() {
            best.params = params;
            best.log_likelihood = ll;
        }
        best.iterations = it;
        best.total_iterations = it;
        if prev.is_finite() && ll - prev <= opts.tol * prev.abs() {
            best.converged = true;
            break;
        }
        params = m_step(&st, &params, opts);
    }
    best
}

/// A random starting point inside the bounds.
fn random_start(rng: &mut fastrand::Rng, opts: &FitOptions) -> BktParams {
    let mut u = |lo: f64, hi: f64| lo + (hi - lo) * rng.f64();
    let p = BktParams {
        p_init: u(0.05, 0.9),
        p_learn: u(0.01, 0.5),
        p_slip: u(0.01, opts.max_slip.min(0.5)),
        p_guess: u(0.01, opts.max_guess.min(0.5)),
        p_forget: if opts.forgetting { u(0.0, 0.2) } else { 0.0 },
    };
    clamp_params(&p, opts)
}

/// One EM run starting from `start` (no restarts).
pub fn fit_from(seqs: &Sequences, start: &BktParams, opts: &FitOptions) -> FitResult {
    let mut ws = Workspace::new(seqs);
    em_run(seqs, start, opts, &mut ws, &mut |_| {})
}

/// Fits one skill: `opts.restarts` EM runs (the first from [`BktParams::default`], the others
/// from seeded random points), keeping the best log-likelihood. With no response at all the
/// result is the default parameters, log-likelihood 0, no iteration.
pub fn fit_skill(seqs: &Sequences, opts: &FitOptions) -> FitResult {
    if seqs.total_responses() == 0 {
        return FitResult {
            params: clamp_params(&BktParams::default(), opts),
            log_likelihood: 0.0,
            iterations: 0,
            total_iterations: 0,
            converged: true,
        };
    }
    let mut ws = Workspace::new(seqs);
    let mut rng = fastrand::Rng::with_seed(opts.seed);
    let mut best: Option<FitResult> = None;
    let mut total = 0;
    for restart in 0..opts.restarts.max(1) {
        let start = if restart == 0 {
            BktParams::default()
        } else {
            random_start(&mut rng, opts)
        };
        let run = em_run(seqs, &start, opts, &mut ws, &mut |_| {});
        total += run.iterations;
        if best.is_none_or(|b| run.log_likelihood > b.log_likelihood) {
            best = Some(run);
        }
    }
    let mut best = best.expect("at least one restart");
    best.total_iterations = total;
    best
}

/// Fits every skill, skills spread over `opts.threads` threads. `progress` is called (from the
/// worker threads) with the number of skills finished so far after each one. The result is in
/// the order of `skills` and equals fitting each with [`fit_skill`].
pub fn fit_all<N: Clone + Sync>(
    skills: &[(N, Sequences)],
    opts: &FitOptions,
    progress: impl Fn(usize) + Sync,
) -> Vec<(N, FitResult)> {
    let threads = match opts.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
    .min(skills.len())
    .max(1);
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let mut results: Vec<Option<FitResult>> = vec![None; skills.len()];
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some((_, seqs)) = skills.get(i) else { break };
                        out.push((i, fit_skill(seqs, opts)));
                        progress(done.fetch_add(1, Ordering::Relaxed) + 1);
                    }
                    out
                })
            })
            .collect();
        for w in workers {
            for (i, r) in w.join().expect("a fitting thread panicked") {
                results[i] = Some(r);
            }
        }
    });
    skills
        .iter()
        .zip(results)
        .map(|((name, _), r)| (name.clone(), r.expect("every skill fitted")))
        .collect()
}

#[cfg(test)]
pub(crate) fn log_likelihood_trace(seqs: &Sequences, start: &BktParams, opts: &FitOptions) -> Vec<f64> {
    let mut ws = Workspace::new(seqs);
    let mut trace = Vec::new();
    em_run(seqs, start, opts, &mut ws, &mut |ll| trace.push(ll));
    trace
}

#[cfg(test)]
pub(crate) fn e_step_log_likelihood(p: &BktParams, seqs: &Sequences) -> f64 {
    e_step(p, seqs, &mut Workspace::new(seqs)).log_likelihood
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{log_likelihood, synth};

    fn params_mae(a: &BktParams, b: &BktParams) -> [f64; 4] {
        [
            (a.p_init - b.p_init).abs(),
            (a.p_learn - b.p_learn).abs(),
            (a.p_slip - b.p_slip).abs(),
            (a.p_guess - b.p_guess).abs(),
        ]
    }

    #[test]
    fn em_recovers_known_parameters() {
        let truth = BktParams {
            p_init: 0.3,
            p_learn: 0.15,
            p_slip: 0.1,
            p_guess: 0.2,
            p_forget: 0.0,
        };
        let mut rng = fastrand::Rng::with_seed(7);
        let seqs = synth::simulate(&truth, 2000, 50, &mut rng);
        let opts = FitOptions {
            restarts: 3,
            ..FitOptions::default()
        };
        let fit = fit_skill(&seqs, &opts);
        let err = params_mae(&fit.params, &truth);
        assert!(err.iter().all(|&e| e < 0.03), "errors {err:?}, fitted {:?}", fit.params);
        assert_eq!(fit.params.p_forget, 0.0);
        assert!(fit.converged);
        // The reported log-likelihood is the one of the reported parameters, and it beats the truth's.
        let ll = log_likelihood(&fit.params, &seqs);
        assert!((ll - fit.log_likelihood).abs() < 1e-6 * ll.abs());
        assert!(fit.log_likelihood >= log_likelihood(&truth, &seqs) - 1e-6 * ll.abs());
    }

    #[test]
    fn e_step_log_likelihood_equals_the_predictive_one() {
        let mut rng = fastrand::Rng::with_seed(3);
        let p = BktParams {
            p_forget: 0.05,
            ..synth::random_params(&mut rng)
        };
        let seqs = synth::simulate(&p, 50, 30, &mut rng);
        let mut varied = Sequences::new();
        for (i, s) in seqs.iter().enumerate() {
            varied.push(&s[..i % 31]);
        }
        for s in [&seqs, &varied] {
            let a = e_step_log_likelihood(&p, s);
            let b = log_likelihood(&p, s);
            assert!((a - b).abs() < 1e-9 * b.abs().max(1.0), "{a} vs {b}");
        }
        // Very long sequences: the scaled product never underflows.
        let long = synth::simulate(&p, 3, 5000, &mut rng);
        let a = e_step_log_likelihood(&p, &long);
        assert!(a.is_finite() && (a - log_likelihood(&p, &long)).abs() < 1e-8 * a.abs());
    }

    #[test]
    fn log_likelihood_never_decreases() {
        let mut rng = fastrand::Rng::with_seed(11);
        let truth = synth::random_params(&mut rng);
        let seqs = synth::simulate(&truth, 100, 20, &mut rng);
        for forgetting in [false, true] {
            let opts = FitOptions {
                max_iter: 100,
                tol: 0.0,
                forgetting,
                ..FitOptions::default()
            };
            for _ in 0..5 {
                let start = random_start(&mut rng, &opts);
                let trace = log_likelihood_trace(&seqs, &start, &opts);
                assert!(trace.len() > 5);
                for w in trace.windows(2) {
                    assert!(w[1] >= w[0] - 1e-9 * w[0].abs(), "{} then {}", w[0], w[1]);
                }
            }
        }
    }

    #[test]
    fn bounds_are_respected() {
        // Very noisy answers push slip and guess up: the bounds hold them.
        let truth = BktParams {
            p_init: 0.5,
            p_learn: 0.05,
            p_slip: 0.45,
            p_guess: 0.45,
            p_forget: 0.0,
        };
        let mut rng = fastrand::Rng::with_seed(5);
        let seqs = synth::simulate(&truth, 300, 20, &mut rng);
        for (max_slip, max_guess, forgetting) in [(0.3, 0.3, false), (0.1, 0.2, true)] {
            let opts = FitOptions {
                restarts: 3,
                max_slip,
                max_guess,
                forgetting,
                ..FitOptions::default()
            };
            let p = fit_skill(&seqs, &opts).params;
            assert!(p.is_valid(), "{p:?}");
            assert!(p.p_slip <= max_slip && p.p_guess <= max_guess, "{p:?}");
            for x in [p.p_init, p.p_learn, p.p_slip, p.p_guess] {
                assert!((PARAM_MIN..=PARAM_MAX).contains(&x), "{p:?}");
            }
            if forgetting {
                assert!((PARAM_MIN..=PARAM_MAX).contains(&p.p_forget), "{p:?}");
            } else {
                assert_eq!(p.p_forget, 0.0);
            }
        }
        // All answers right: degenerate but bounded, finite.
        let all_right = Sequences::from_nested(vec![vec![true; 10]; 20]);
        let fit = fit_skill(&all_right, &FitOptions::default());
        assert!(fit.log_likelihood.is_finite() && fit.params.is_valid());
        // No data at all.
        let empty = fit_skill(&Sequences::from_nested([Vec::<bool>::new()]), &FitOptions::default());
        assert_eq!((empty.log_likelihood, empty.iterations), (0.0, 0));
    }

    #[test]
    fn fit_all_equals_fitting_each_skill() {
        let (_, data) = synth::generate(200, 3, 15, 9);
        let opts = FitOptions {
            restarts: 2,
            threads: 2,
            ..FitOptions::default()
        };
        let calls = AtomicUsize::new(0);
        let all = fit_all(&data, &opts, |_| {
            calls.fetch_add(1, Ordering::Relaxed);
        });
        assert_eq!(calls.into_inner(), 3);
        for ((name, fit), (expected_name, seqs)) in all.iter().zip(&data) {
            assert_eq!(name, expected_name);
            assert_eq!(*fit, fit_skill(seqs, &opts));
        }
        assert!(fit_all::<String>(&[], &opts, |_| {}).is_empty());
    }

    #[test]
    fn true_parameters_predict_held_out_students() {
        let (truth, data) = synth::generate(500, 1, 30, 21);
        let held_out = data[0].1.subset(400..500);
        let pred = crate::predict(&truth[0], &held_out);
        let auc = crate::auc(&pred, held_out.responses()).unwrap();
        assert!(auc > 0.6, "AUC {auc}");
    }
}
