//! `practica ocr IMAGE`: a photo of handwritten work read by the built-in reader, printed as
//! `POST /attempts/ocr-extract` answers (`{"exercises": [...]}`, without the stored photo's id).

use std::path::PathBuf;
use std::process::ExitCode;

use practica::ocr::{MAX_IMAGE_BYTES, OcrExercise};
use serde_json::json;

#[derive(clap::Args)]
pub struct Args {
    /// The photo (JPEG or PNG, at most 10 MiB).
    image: PathBuf,
    /// Refuse photos with more pixels than this.
    #[arg(long, default_value_t = ocr::Limits::default().max_pixels)]
    max_pixels: u64,
    /// Pretty-print.
    #[arg(long)]
    pretty: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let size = std::fs::metadata(&args.image)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.image.display()))?
        .len();
    anyhow::ensure!(
        size <= MAX_IMAGE_BYTES as u64,
        "{}: larger than {MAX_IMAGE_BYTES} bytes",
        args.image.display()
    );
    let bytes = std::fs::read(&args.image)?;
    let limits = ocr::Limits {
        max_pixels: args.max_pixels,
        ..ocr::Limits::default()
    };
    let reading = match ocr::read_photo(&bytes, &limits) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{}: {e}", args.image.display());
            return Ok(ExitCode::from(1));
        }
    };
    let exercises: Vec<OcrExercise> = reading.exercises.into_iter().map(OcrExercise::from).collect();
    let out = json!({ "exercises": exercises });
    if args.pretty {
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!("{out}");
    }
    Ok(ExitCode::SUCCESS)
}
