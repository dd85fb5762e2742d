//! Fits BKT on synthetic data and prints the figures as JSON.
//!
//! `cargo run --release -p mastery --example fit_synth -- [--students 20000] [--skills 10]
//! [--opportunities 50] [--seed 1] [--restarts 5] [--max-iter 200] [--tol 1e-6] [--threads 0]
//! [--csv PREFIX]`
//!
//! Students are split 80/20: the first 80 % train, the others are held out for AUC and RMSE.
//! With `--csv PREFIX`, the data are also written as `PREFIX_train.csv` and `PREFIX_test.csv` in
//! pyBKT's columns (order_id,user_id,skill_name,correct), for the comparison with pyBKT.

use std::io::Write;
use std::time::Instant;

use mastery::{BktParams, FitOptions, Sequences, auc, fit_all, log_likelihood, predict, rmse, synth};
use serde_json::json;

fn write_csv(path: &str, data: &[(String, Sequences)], first_student: usize) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(out, "order_id,user_id,skill_name,correct")?;
    let mut order = 0u64;
    for (name, seqs) in data {
        for (i, seq) in seqs.iter().enumerate() {
            for &c in seq {
                writeln!(out, "{order},{},{name},{}", first_student + i, u8::from(c))?;
                order += 1;
            }
        }
    }
    out.flush()
}

fn parse<T: std::str::FromStr>(key: &str, value: &str) -> T {
    value.parse().unwrap_or_else(|_| panic!("bad value for {key}: {value}"))
}

fn main() {
    let mut students = 20_000;
    let mut skills = 10;
    let mut opportunities = 50;
    let mut seed = 1;
    let mut csv = None;
    let mut opts = FitOptions::default();
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        let [key, value] = pair else {
            panic!("arguments come in pairs: --name value")
        };
        match key.as_str() {
            "--students" => students = parse(key, value),
            "--skills" => skills = parse(key, value),
            "--opportunities" => opportunities = parse(key, value),
            "--seed" => seed = parse(key, value),
            "--restarts" => opts.restarts = parse(key, value),
            "--max-iter" => opts.max_iter = parse(key, value),
            "--tol" => opts.tol = parse(key, value),
            "--threads" => opts.threads = parse(key, value),
            "--csv" => csv = Some(value.clone()),
            _ => panic!("unknown argument {key}"),
        }
    }

    let started = Instant::now();
    let (truth, data) = synth::generate(students, skills, opportunities, seed);
    let generate_seconds = started.elapsed().as_secs_f64();
    let n_train = students * 4 / 5;
    let train: Vec<(String, Sequences)> = data
        .iter()
        .map(|(name, s)| (name.clone(), s.subset(0..n_train)))
        .collect();
    let test: Vec<(String, Sequences)> = data
        .iter()
        .map(|(name, s)| (name.clone(), s.subset(n_train..students)))
        .collect();
    if let Some(prefix) = &csv {
        write_csv(&format!("{prefix}_train.csv"), &train, 0).expect("writing the training CSV");
        write_csv(&format!("{prefix}_test.csv"), &test, n_train).expect("writing the test CSV");
    }

    let started = Instant::now();
    let fitted = fit_all(&train, &opts, |_| {});
    let fit_seconds = started.elapsed().as_secs_f64();

    let field = |p: &BktParams| [p.p_init, p.p_learn, p.p_slip, p.p_guess];
    let mut abs_err = [0.0; 4];
    let (mut pred, mut actual, mut true_pred) = (Vec::new(), Vec::new(), Vec::new());
    let (mut train_ll, mut test_ll) = (0.0, 0.0);
    let mut per_skill = Vec::new();
    for (((name, fit), t), (_, held_out)) in fitted.iter().zip(&truth).zip(&test) {
        for (e, (a, b)) in abs_err.iter_mut().zip(field(&fit.params).into_iter().zip(field(t))) {
            *e += (a - b).abs();
        }
        train_ll += fit.log_likelihood;
        test_ll += log_likelihood(&fit.params, held_out);
        let p = predict(&fit.params, held_out);
        let skill_auc = auc(&p, held_out.responses());
        pred.extend(p);
        true_pred.extend(predict(t, held_out));
        actual.extend_from_slice(held_out.responses());
        per_skill.push(json!({
            "skill": name, "true": t, "fitted": fit.params, "iterations": fit.iterations,
            "total_iterations": fit.total_iterations, "converged": fit.converged,
            "train_log_likelihood": fit.log_likelihood, "held_out_auc": skill_auc,
        }));
    }
    let n = skills.max(1) as f64;
    let mae: Vec<f64> = abs_err.iter().map(|e| e / n).collect();
    let report = json!({
        "students": students, "skills": skills, "opportunities": opportunities, "seed": seed,
        "options": opts,
        "threads": if opts.threads == 0 { std::thread::available_parallelism().map_or(1, |n| n.get()) } else { opts.threads },
        "train_students": n_train,
        "generate_seconds": generate_seconds,
        "fit_seconds": fit_seconds,
        "mae": { "p_init": mae[0], "p_learn": mae[1], "p_slip": mae[2], "p_guess": mae[3],
                 "mean": mae.iter().sum::<f64>() / 4.0 },
        "held_out_auc": auc(&pred, &actual),
        "held_out_auc_true_params": auc(&true_pred, &actual),
        "held_out_rmse": rmse(&pred, &actual),
        "held_out_rmse_true_params": rmse(&true_pred, &actual),
        "train_log_likelihood": train_ll,
        "held_out_log_likelihood": test_ll,
        "per_skill": per_skill,
    });
    println!("{}", serde_json::to_string_pretty(&report).expect("JSON"));
}
