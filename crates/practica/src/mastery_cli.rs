//! `practica mastery fit`: BKT parameters fitted (EM) from a response log in pyBKT's CSV columns
//! (`order_id,user_id,skill_name,correct`), printed as
//! `{"skills": {"<skill>": {"p_init", "p_learn", "p_slip", "p_guess", "p_forget"}}, "log_likelihood"}`.
//! `practica mastery evaluate`: the same fit on most students, judged on the students held out
//! (log-likelihood, AUC, RMSE of the predicted P(correct) before each response).

use std::io::BufReader;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use mastery::{CsvError, FitOptions, ResponseLog, Sequences, fit_all, read_csv_with_students};
use serde_json::{Map, json};

#[derive(clap::Args)]
pub struct FitArgs {
    /// The response log (CSV with a header: order_id, user_id, skill_name, correct).
    #[arg(long)]
    input: PathBuf,
    /// Refuse the whole file when a row is malformed (default: report it and skip it).
    #[arg(long)]
    strict: bool,
    /// Model forgetting (known → unknown between opportunities).
    #[arg(long)]
    forgetting: bool,
    /// EM runs from different starting points per skill; the best likelihood wins.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=100))]
    restarts: u32,
    /// Upper bounds of slip and guess (knowledge-tracing practice: 0.3, against degenerate fits).
    #[arg(long, default_value_t = 0.3)]
    max_slip: f64,
    #[arg(long, default_value_t = 0.3)]
    max_guess: f64,
    /// Seed of the restarts' starting points.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Threads (default: one per core); skills are fitted in parallel.
    #[arg(long, default_value_t = 0)]
    threads: usize,
}

/// The log, or None when --strict refused it (the rows are printed); skipped rows are printed.
fn read_log(args: &FitArgs) -> anyhow::Result<Option<(ResponseLog, usize)>> {
    for (name, v) in [("--max-slip", args.max_slip), ("--max-guess", args.max_guess)] {
        anyhow::ensure!(v > 0.0 && v < 1.0, "{name} must be between 0 and 1");
    }
    let file = std::fs::File::open(&args.input).with_context(|| format!("opening {}", args.input.display()))?;
    let (log, skipped) = match read_csv_with_students(BufReader::new(file), args.strict) {
        Ok(read) => read,
        Err(CsvError::Rejected(rows)) => {
            for r in rows.iter().take(20) {
                eprintln!("{}: {r}", args.input.display());
            }
            if rows.len() > 20 {
                eprintln!("… and {} more malformed rows", rows.len() - 20);
            }
            eprintln!(
                "{}: {} malformed rows; nothing fitted (--strict)",
                args.input.display(),
                rows.len()
            );
            return Ok(None);
        }
        Err(e) => return Err(e).with_context(|| format!("reading {}", args.input.display())),
    };
    for r in skipped.iter().take(20) {
        eprintln!("{}: {r} (skipped)", args.input.display());
    }
    if skipped.len() > 20 {
        eprintln!("… and {} more rows skipped", skipped.len() - 20);
    }
    anyhow::ensure!(!log.skills.is_empty(), "{}: no valid rows to fit", args.input.display());
    Ok(Some((log, skipped.len())))
}

fn options(args: &FitArgs) -> FitOptions {
    FitOptions {
        restarts: args.restarts as usize,
        forgetting: args.forgetting,
        max_slip: args.max_slip,
        max_guess: args.max_guess,
        seed: args.seed,
        threads: args.threads,
        ..FitOptions::default()
    }
}

fn fit_with_progress(skills: &[(String, Sequences)], options: &FitOptions) -> Vec<(String, mastery::FitResult)> {
    let bar = ProgressBar::with_draw_target(Some(skills.len() as u64), ProgressDrawTarget::stderr());
    bar.set_style(ProgressStyle::with_template("{bar:30} {pos}/{len} skills fitted ({elapsed})").expect("template"));
    let fitted = fit_all(skills, options, |_| bar.inc(1));
    bar.finish_and_clear();
    fitted
}

pub fn fit(args: FitArgs) -> anyhow::Result<ExitCode> {
    let Some((log, skipped)) = read_log(&args)? else {
        return Ok(ExitCode::from(1));
    };
    let fitted = fit_with_progress(&log.skills, &options(&args));

    let mut out = Map::new();
    let mut total = 0.0;
    for (skill, result) in fitted {
        total += result.log_likelihood;
        out.insert(
            skill,
            json!({
                "p_init": result.params.p_init,
                "p_learn": result.params.p_learn,
                "p_slip": result.params.p_slip,
                "p_guess": result.params.p_guess,
                "p_forget": result.params.p_forget,
                "log_likelihood": result.log_likelihood,
                "iterations": result.iterations,
                "converged": result.converged,
            }),
        );
    }
    println!(
        "{}",
        serde_json::to_string_pretty(&json!({
            "skills": out,
            "log_likelihood": total,
            "skipped_rows": skipped,
        }))?
    );
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Args)]
pub struct EvaluateArgs {
    #[command(flatten)]
    fit: FitArgs,
    /// Share of the students held out (all their responses, in every skill).
    #[arg(long, default_value_t = 0.2)]
    holdout: f64,
}

/// Whether a student is held out: a hash of the id, so the split is the same on every run and
/// does not depend on the file's order.
fn held_out(student_id: &str, share: f64, seed: u64) -> bool {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (seed, student_id).hash(&mut h);
    (h.finish() % 1_000_000) as f64 / 1_000_000.0 < share
}

pub fn evaluate(args: EvaluateArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        args.holdout > 0.0 && args.holdout < 1.0,
        "--holdout must be between 0 and 1"
    );
    let Some((log, skipped)) = read_log(&args.fit)? else {
        return Ok(ExitCode::from(1));
    };
    let test_student: Vec<bool> = log
        .student_ids
        .iter()
        .map(|id| held_out(id, args.holdout, args.fit.seed))
        .collect();
    let mut train = Vec::new();
    let mut test = Vec::new();
    for ((name, seqs), students) in log.skills.iter().zip(&log.students) {
        let (mut tr, mut te) = (Sequences::new(), Sequences::new());
        for (seq, &student) in seqs.iter().zip(students) {
            if test_student[student as usize] {
                te.push(seq)
            } else {
                tr.push(seq)
            }
        }
        train.push((name.clone(), tr));
        test.push(te);
    }
    let fitted = fit_with_progress(&train, &options(&args.fit));
    let (mut pred, mut actual, mut ll) = (Vec::new(), Vec::new(), 0.0);
    let mut skills = Map::new();
    for ((name, result), te) in fitted.iter().zip(&test) {
        let p = mastery::predict(&result.params, te);
        ll += mastery::log_likelihood(&result.params, te);
        skills.insert(
            name.clone(),
            json!({
                "params": result.params,
                "held_out_responses": te.total_responses(),
                "auc": mastery::auc(&p, te.responses()),
                "rmse": mastery::rmse(&p, te.responses()),
            }),
        );
        pred.extend(p);
        actual.extend_from_slice(te.responses());
    }
    anyhow::ensure!(
        !actual.is_empty(),
        "no held-out responses: raise --holdout or add students"
    );
    println!(
        "{}",
        serde_json::to_string_pretty(&json!({
            "students": log.student_ids.len(),
            "held_out_students": test_student.iter().filter(|&&t| t).count(),
            "held_out_responses": actual.len(),
            "log_likelihood": ll,
            "auc": mastery::auc(&pred, &actual),
            "rmse": mastery::rmse(&pred, &actual),
            "skills": skills,
            "skipped_rows": skipped,
        }))?
    );
    Ok(ExitCode::SUCCESS)
}
