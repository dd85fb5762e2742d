//! `practica mastery fit`: BKT parameters fitted (EM) from a response log in pyBKT's CSV columns
//! (`order_id,user_id,skill_name,correct`), printed as
//! `{"skills": {"<skill>": {"p_init", "p_learn", "p_slip", "p_guess", "p_forget"}}, "log_likelihood"}`.

use std::io::BufReader;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use mastery::{CsvError, FitOptions, fit_all, read_csv};
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

pub fn fit(args: FitArgs) -> anyhow::Result<ExitCode> {
    for (name, v) in [("--max-slip", args.max_slip), ("--max-guess", args.max_guess)] {
        anyhow::ensure!(v > 0.0 && v < 1.0, "{name} must be between 0 and 1");
    }
    let file = std::fs::File::open(&args.input).with_context(|| format!("opening {}", args.input.display()))?;
    let (skills, skipped) = match read_csv(BufReader::new(file), args.strict) {
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
            return Ok(ExitCode::from(1));
        }
        Err(e) => return Err(e).with_context(|| format!("reading {}", args.input.display())),
    };
    for r in skipped.iter().take(20) {
        eprintln!("{}: {r} (skipped)", args.input.display());
    }
    if skipped.len() > 20 {
        eprintln!("… and {} more rows skipped", skipped.len() - 20);
    }
    anyhow::ensure!(!skills.is_empty(), "{}: no valid rows to fit", args.input.display());

    let options = FitOptions {
        restarts: args.restarts as usize,
        forgetting: args.forgetting,
        max_slip: args.max_slip,
        max_guess: args.max_guess,
        seed: args.seed,
        threads: args.threads,
        ..FitOptions::default()
    };
    let bar = ProgressBar::with_draw_target(Some(skills.len() as u64), ProgressDrawTarget::stderr());
    bar.set_style(ProgressStyle::with_template("{bar:30} {pos}/{len} skills fitted ({elapsed})").expect("template"));
    let fitted = fit_all(&skills, &options, |_| bar.inc(1));
    bar.finish_and_clear();

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
            "skipped_rows": skipped.len(),
        }))?
    );
    Ok(ExitCode::SUCCESS)
}
