//! `practica solve`: an ad-hoc problem solved exactly, with its steps, and a student's answer
//! checked by equivalence (the `cas` crate). Prints
//! `{"isCorrect", "errorTagCode", "errorSubtag", "solutions", "steps", …}` with `--json`, a
//! readable account otherwise. `isCorrect` is null when no answer was given.

use std::process::ExitCode;

use serde_json::json;

/// Longest problem or answer accepted (the parser's own limit).
const MAX_LATEX: usize = 1_000;

#[derive(clap::Args)]
pub struct Args {
    /// The problem in LaTeX: `2x+3=11`, `x^2-5x+6=0`, `3(x-1) > 6`, `\frac{3}{4}+\frac{1}{2}`.
    #[arg(long, allow_hyphen_values = true)]
    latex: String,
    /// The student's final answer (`x=4`, `4`, `x = 8/2`, `4,0`).
    #[arg(long, allow_hyphen_values = true)]
    answer: Option<String>,
    /// The student's steps, in order (recorded; step-by-step checking comes later).
    #[arg(long = "steps", allow_hyphen_values = true)]
    steps: Vec<String>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    for (name, text) in std::iter::once(("--latex", &args.latex)).chain(args.answer.iter().map(|a| ("--answer", a))) {
        anyhow::ensure!(text.len() <= MAX_LATEX, "{name}: longer than {MAX_LATEX} bytes");
    }
    let solution = match cas::solve(&args.latex) {
        Ok(s) => s,
        Err(e) => {
            if args.json {
                println!(
                    "{}",
                    json!({"isCorrect": null, "errorTagCode": "UNCLASSIFIED", "errorSubtag": null,
                           "solutions": [], "steps": [], "error": e.to_string()})
                );
            } else {
                eprintln!("cannot solve {:?}: {e}", args.latex);
            }
            return Ok(ExitCode::from(1));
        }
    };
    let verdict = match &args.answer {
        Some(a) => Some(cas::check(&args.latex, a)?),
        None => None,
    };
    let is_correct = verdict.as_ref().map(|v| v.is_correct);
    // Misconception matching for algebra comes with the rest of issue 6: a wrong answer is
    // UNCLASSIFIED until then.
    let tag = is_correct.map(|ok| {
        if ok {
            diagnosis::CORRECT
        } else {
            diagnosis::UNCLASSIFIED
        }
    });
    let solutions: Vec<String> = solution.answer_text.split(" or ").map(str::to_string).collect();
    if args.json {
        println!(
            "{}",
            serde_json::to_string(&json!({
                "isCorrect": is_correct,
                "errorTagCode": tag,
                "errorSubtag": null,
                "solutions": solutions,
                "steps": solution.steps,
                "kind": solution.kind,
                "answer": solution.answer,
                "feedback": verdict.as_ref().map(|v| v.feedback.clone()).filter(|f| !f.is_empty()),
                "studentSteps": args.steps,
            }))?
        );
    } else {
        println!("{}", args.latex);
        for (i, step) in solution.steps.iter().enumerate() {
            println!("  {}. {step}", i + 1);
        }
        println!("answer: {}", solution.answer_text);
        if let Some(v) = &verdict {
            println!(
                "student's answer {:?}: {}{}",
                args.answer.as_deref().unwrap_or_default(),
                if v.is_correct { "correct" } else { "incorrect" },
                if v.feedback.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", v.feedback)
                }
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
