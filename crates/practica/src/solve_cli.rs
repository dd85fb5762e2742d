//! `practica solve`: an ad-hoc problem solved exactly, with its steps; a student's answer checked
//! by equivalence, each of their steps against the one before, and a wrong answer or step
//! matched against algebra misconceptions (the `cas` crate, as the `solve-adhoc` worker runs it).
//! Prints `{"isCorrect", "errorTagCode", "errorSubtag", "solutions", "steps", …}` with `--json`,
//! a readable account otherwise. `isCorrect` and `errorTagCode` are null when no answer was given.

use std::process::ExitCode;

use serde_json::json;

use practica::adhoc::{MAX_LATEX, MAX_STEPS};

#[derive(clap::Args)]
pub struct Args {
    /// The problem in LaTeX: `2x+3=11`, `x^2-5x+6=0`, `3(x-1) > 6`, `\frac{3}{4}+\frac{1}{2}`.
    #[arg(long, allow_hyphen_values = true)]
    latex: String,
    /// The student's final answer (`x=4`, `4`, `x = 8/2`, `4,0`).
    #[arg(long, allow_hyphen_values = true)]
    answer: Option<String>,
    /// The student's steps, in order (repeat the flag): each is checked against the one before.
    #[arg(long = "steps", visible_alias = "step", allow_hyphen_values = true)]
    steps: Vec<String>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let texts = std::iter::once(("--latex", &args.latex))
        .chain(args.answer.iter().map(|a| ("--answer", a)))
        .chain(args.steps.iter().map(|s| ("--steps", s)));
    for (name, text) in texts {
        anyhow::ensure!(text.len() <= MAX_LATEX, "{name}: longer than {MAX_LATEX} bytes");
    }
    anyhow::ensure!(args.steps.len() <= MAX_STEPS, "more than {MAX_STEPS} steps");
    let steps: Vec<&str> = args.steps.iter().map(String::as_str).collect();
    let assessment = match cas::assess(&args.latex, args.answer.as_deref(), &steps) {
        Ok(a) => a,
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
    let answered = assessment.is_correct.is_some();
    let solution = &assessment.solution;
    let solutions: Vec<String> = solution.answer_text.split(" or ").map(str::to_string).collect();
    if args.json {
        println!(
            "{}",
            serde_json::to_string(&json!({
                "isCorrect": assessment.is_correct,
                "errorTagCode": answered.then_some(&assessment.error_tag_code),
                "errorSubtag": assessment.error_subtag,
                "confidence": answered.then_some(assessment.confidence),
                "solutions": solutions,
                "steps": solution.steps,
                "kind": solution.kind,
                "answer": solution.answer,
                "topic": assessment.topic,
                "feedback": Some(&assessment.feedback).filter(|f| !f.is_empty()),
                "candidates": assessment.candidates,
                "studentSteps": assessment.steps,
                "firstWrongStep": assessment.first_wrong_step,
            }))?
        );
        return Ok(ExitCode::SUCCESS);
    }
    println!("{}", args.latex);
    for (i, step) in solution.steps.iter().enumerate() {
        println!("  {}. {step}", i + 1);
    }
    println!("answer: {}", solution.answer_text);
    for check in &assessment.steps {
        let wrong = assessment.first_wrong_step == Some(check.index);
        println!(
            "  step {} {:?}: {:?}{}{}",
            check.index + 1,
            check.latex,
            check.status,
            if check.note.is_empty() {
                String::new()
            } else {
                format!(" ({})", check.note)
            },
            if wrong { "  <- first wrong step" } else { "" }
        );
    }
    if let (Some(ok), Some(answer)) = (assessment.is_correct, &args.answer) {
        println!(
            "student's answer {answer:?}: {}{}",
            if ok { "correct" } else { "incorrect" },
            if assessment.feedback.is_empty() {
                String::new()
            } else {
                format!(" ({})", assessment.feedback)
            }
        );
        if !ok {
            let name = diagnosis::catalog::error_tag(&assessment.error_tag_code).map_or("", |t| t.name_en);
            println!(
                "diagnosis: {} {name} (confidence {:.2}{})",
                assessment.error_tag_code,
                assessment.confidence,
                assessment
                    .error_subtag
                    .as_deref()
                    .map(|s| format!(", {s}"))
                    .unwrap_or_default()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
