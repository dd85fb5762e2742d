//! `practica diagnose`: the diagnosis engine from the command line.

use std::io::{BufRead, BufWriter, Write};
use std::process::ExitCode;

use anyhow::{Context, bail};
use diagnosis::request::{NumberField, RawStep};
use diagnosis::{AttemptBody, Diagnosis, Options};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::json;

/// Longest input line accepted in batch mode (the API's body limit).
const MAX_LINE_BYTES: usize = 1 << 20;

#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("mode").required(true).args(["batch", "topic"])))]
pub struct Args {
    /// Read JSONL from standard input (each line a `POST /attempts` body; studentId optional)
    /// and write one JSON result per line, in order. A bad line gives `{"error": …}`.
    #[arg(long)]
    batch: bool,
    /// Topic code (e.g. T-SUB-BORROW) or family (e.g. ARITH_SUB) of a single attempt.
    #[arg(long)]
    topic: Option<String>,
    /// The expected answer (`27`, `8/15`, `3,75`).
    #[arg(long, requires = "topic", allow_hyphen_values = true)]
    expected: Option<String>,
    /// The student's answer.
    #[arg(long, requires = "topic", allow_hyphen_values = true)]
    answer: Option<String>,
    /// First operand (the API's `minuend`).
    #[arg(long, requires = "subtrahend", allow_hyphen_values = true)]
    minuend: Option<String>,
    /// Second operand (the API's `subtrahend`).
    #[arg(long, requires = "minuend", allow_hyphen_values = true)]
    subtrahend: Option<String>,
    /// A work step as written (`53 - 26 = 33`); repeat for several, in order.
    #[arg(long = "step", allow_hyphen_values = true)]
    steps: Vec<String>,
    /// Posterior below which a wrong answer is UNCLASSIFIED.
    #[arg(long, default_value_t = 0.5)]
    threshold: f64,
    /// Do not search compositions of two bugs.
    #[arg(long)]
    no_compositions: bool,
    /// Pretty-print the single result.
    #[arg(long)]
    pretty: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if !(0.0..=1.0).contains(&args.threshold) {
        bail!("--threshold must be between 0 and 1");
    }
    let options = Options {
        threshold: args.threshold,
        compositions: !args.no_compositions,
    };
    if args.batch {
        let stdin = std::io::stdin();
        let stdout = std::io::stdout();
        let stats = batch(stdin.lock(), BufWriter::new(stdout.lock()), &options, true)?;
        return Ok(if stats.errors > 0 {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        });
    }
    let body = AttemptBody {
        student_id: None,
        topic_code: args.topic.unwrap_or_default(),
        exercise_id: None,
        course_id: None,
        raw_steps: args
            .steps
            .into_iter()
            .map(|expression| RawStep {
                expression,
                is_final: false,
            })
            .collect(),
        expected_answer: NumberField::Text(args.expected.context("--expected is required with --topic")?),
        student_answer: NumberField::Text(args.answer.context("--answer is required with --topic")?),
        minuend: args.minuend.map(NumberField::Text),
        subtrahend: args.subtrahend.map(NumberField::Text),
    };
    let (text, failed) = match diagnose_body(&body, &options) {
        Ok(d) if args.pretty => (serde_json::to_string_pretty(&d)?, false),
        Ok(d) => (serde_json::to_string(&d)?, false),
        Err(e) => (json!({ "error": e }).to_string(), true),
    };
    println!("{text}");
    Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// Diagnoses one body with its topic resolved in the built-in catalog; a family code is accepted
/// as a topic too.
fn diagnose_body(body: &AttemptBody, options: &Options) -> Result<Diagnosis, String> {
    let family = match body.builtin_family() {
        Ok(f) => Ok(f),
        Err(e) => diagnosis::Family::from_code(&body.topic_code).map(Some).ok_or(e),
    };
    family
        .and_then(|f| body.diagnose_as(f, options))
        .map_err(|e| e.to_string())
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct BatchStats {
    pub lines: u64,
    pub errors: u64,
}

/// One output line per input line, in order; a line that cannot be read or diagnosed gives an
/// `{"error": …}` line and the run goes on.
pub fn batch(
    mut input: impl BufRead,
    mut output: impl Write,
    options: &Options,
    progress: bool,
) -> anyhow::Result<BatchStats> {
    let bar = if progress {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {pos} attempts diagnosed ({per_sec})").expect("template"),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let mut stats = BatchStats::default();
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let n = read_bounded_line(&mut input, &mut buf)?;
        if n == 0 {
            break;
        }
        stats.lines += 1;
        let result = if buf.len() > MAX_LINE_BYTES {
            Err(format!("line longer than {MAX_LINE_BYTES} bytes"))
        } else {
            match std::str::from_utf8(&buf) {
                Err(_) => Err("line is not UTF-8".to_string()),
                Ok(line) if line.trim().is_empty() => Err("empty line".to_string()),
                Ok(line) => AttemptBody::from_json(line)
                    .map_err(|e| e.to_string())
                    .and_then(|body| diagnose_body(&body, options)),
            }
        };
        match result {
            Ok(d) => serde_json::to_writer(&mut output, &d)?,
            Err(e) => {
                stats.errors += 1;
                serde_json::to_writer(&mut output, &json!({ "error": e }))?;
            }
        }
        output.write_all(b"\n")?;
        bar.inc(1);
    }
    output.flush()?;
    bar.finish_and_clear();
    Ok(stats)
}

/// Reads one line without its terminator; past `MAX_LINE_BYTES` the rest of the line is
/// consumed but not kept (the buffer is left one byte over the limit to say so). Returns the
/// bytes consumed.
fn read_bounded_line(input: &mut impl BufRead, buf: &mut Vec<u8>) -> std::io::Result<usize> {
    let mut consumed = 0;
    loop {
        let chunk = input.fill_buf()?;
        if chunk.is_empty() {
            return Ok(consumed);
        }
        let (take, done) = match chunk.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (chunk.len(), false),
        };
        let room = (MAX_LINE_BYTES + 1).saturating_sub(buf.len());
        let data = &chunk[..take];
        let data = if done { &data[..data.len() - 1] } else { data };
        buf.extend_from_slice(&data[..data.len().min(room)]);
        input.consume(take);
        consumed += take;
        if done {
            if buf.last() == Some(&b'\r') {
                buf.pop();
            }
            return Ok(consumed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_batch(input: &str) -> (Vec<serde_json::Value>, BatchStats) {
        let mut out = Vec::new();
        let stats = batch(input.as_bytes(), &mut out, &Options::default(), false).unwrap();
        let lines = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        (lines, stats)
    }

    #[test]
    fn batch_keeps_order_and_reports_bad_lines() {
        let input = concat!(
            r#"{"topicCode":"T-SUB-BORROW","expectedAnswer":27,"studentAnswer":33,"minuend":53,"subtrahend":26,"rawSteps":[]}"#,
            "\n",
            "not json\n",
            "\n",
            r#"{"topicCode":"NO-SUCH-TOPIC","expectedAnswer":1,"studentAnswer":1,"rawSteps":[]}"#,
            "\n",
            r#"{"topicCode":"T-MUL","expectedAnswer":54,"studentAnswer":15,"rawSteps":[{"expression":"9 • 6 = 15","isFinal":true}]}"#,
        );
        let (out, stats) = run_batch(input);
        assert_eq!(stats, BatchStats { lines: 5, errors: 3 });
        assert_eq!(out[0]["errorTagCode"], "ARITH_SUB_BORROW_OMITTED_TENS_G3");
        assert_eq!(out[0]["errorSubtag"], "SMALLER-FROM-LARGER");
        assert_eq!(out[0]["isCorrect"], false);
        assert!(out[0]["confidence"].as_f64().unwrap() >= 0.85);
        assert!(out[1]["error"].as_str().unwrap().contains("invalid JSON"));
        assert_eq!(out[2]["error"], "empty line");
        assert!(out[3]["error"].as_str().unwrap().contains("unknown topic"));
        assert_eq!(out[4]["errorTagCode"], "ARITH_MUL_ADD_INSTEAD_G3");
    }

    #[test]
    fn oversized_lines_are_refused_and_the_run_goes_on() {
        let big = format!(
            "{}\n{}\n",
            "x".repeat(MAX_LINE_BYTES + 10),
            r#"{"topicCode":"ARITH_ADD","expectedAnswer":65,"studentAnswer":65,"rawSteps":[]}"#
        );
        let (out, stats) = run_batch(&big);
        assert_eq!(stats.lines, 2);
        assert!(out[0]["error"].as_str().unwrap().contains("longer than"));
        assert_eq!(out[1]["errorTagCode"], "CORRECT");
    }
}
