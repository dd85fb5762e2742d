//! `practica`: the attempts engine of practice platforms. This binary is the command-line
//! interface; the service (`practica serve`) arrives with the API.

mod diagnose;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "practica", version, about = "The attempts engine of practice platforms")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Diagnose answers: which misconception produced them (one attempt from flags, or a JSONL
    /// batch of `POST /attempts` bodies).
    Diagnose(diagnose::Args),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Diagnose(args) => diagnose::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}
