//! Evaluates the built-in glyph classifier (the committed weights, or `--weights FILE`):
//!
//! * MNIST digits of the test split (samples 800..min(1000, n) of each digit, never trained on),
//!   each normalised by `classifier::normalize` exactly as at inference: accuracy per digit and
//!   overall, and the most frequent confusions (a digit read as any of the 22 classes counts);
//! * operators and punctuation freshly synthesised with a seed the training never uses;
//! * the time to normalise and classify one glyph.
//!
//! ```sh
//! scripts/fetch-mnist.sh
//! cargo run --release -p ocr --example eval_glyphs            # --mnist DIR, --weights FILE
//! cargo run --release -p ocr --example eval_glyphs -- --fixture crates/ocr/tests/data/mnist-test-40.bin
//! ```
//!
//! `--fixture` writes the small test-split sample `cargo test` uses without the data: the first
//! four test digits of each digit, a record per digit of one label byte and 784 pixel bytes.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use ocr::classifier::{Classifier, best_class, normalize};
use ocr::glyphs::{Glyph, GrayBitmap};
use ocr::synth::{self, Rng, Style, TEST_SPLIT};

/// The synthesised operators' seed: the training program draws from `Rng::for_item(seed, ..)`
/// streams with seed 1, this is a plain generator from another seed.
const EVAL_SEED: u64 = 0x0e7a_2026;
const OPERATORS_PER_CLASS: usize = 500;

fn main() {
    if let Err(e) = run() {
        eprintln!("eval_glyphs: {e}");
        std::process::exit(1);
    }
}

fn default_mnist_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("MNIST_DIR") {
        return PathBuf::from(dir);
    }
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(target) => workspace.join(target).join("mnist"),
        None => workspace.join("target/mnist"),
    }
}

fn run() -> Result<(), String> {
    let mut mnist = default_mnist_dir();
    let mut weights: Option<PathBuf> = None;
    let mut fixture: Option<PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().map(PathBuf::from).ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--mnist" => mnist = value()?,
            "--weights" => weights = Some(value()?),
            "--fixture" => fixture = Some(value()?),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    let classifier = match &weights {
        Some(path) => {
            let blob = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
            Classifier::from_bytes(&blob).map_err(|e| format!("{}: {e}", path.display()))?
        }
        None => Classifier::builtin(),
    };
    let shape = classifier.weights().shape;
    println!("classifier: {shape:?}, {} parameters", shape.parameters());

    let mut test: Vec<(u8, Vec<GrayBitmap>)> = Vec::new();
    for d in 0..10u8 {
        test.push((
            d,
            synth::mnist_digits(&mnist, d, TEST_SPLIT).map_err(|e| e.to_string())?,
        ));
    }
    if let Some(path) = fixture {
        let mut bytes = Vec::new();
        for (d, samples) in &test {
            for s in samples.iter().take(4) {
                bytes.push(*d);
                bytes.extend_from_slice(s.pixels());
            }
        }
        std::fs::write(&path, &bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        println!("wrote {} ({} bytes)", path.display(), bytes.len());
    }

    // Digits.
    println!("\nMNIST test split (samples 800..min(1000, n) of each digit):\n");
    println!("| digit | samples | correct | accuracy |");
    println!("|---|---|---|---|");
    let (mut total, mut right, mut right_as_digit) = (0usize, 0usize, 0usize);
    let mut confusions: BTreeMap<(char, char), usize> = BTreeMap::new();
    for (d, samples) in &test {
        let mut ok = 0;
        for s in samples {
            let probabilities = classifier.classify(&normalize(s));
            let (g, _) = best_class(&probabilities);
            // Where the grammar wants a digit, the reader compares the ten digit classes only.
            let best_digit = (0..10).fold(0, |b, i| if probabilities[i] > probabilities[b] { i } else { b });
            right_as_digit += usize::from(best_digit == usize::from(*d));
            if g.digit_value() == Some(*d) {
                ok += 1;
            } else {
                *confusions.entry((char::from(b'0' + d), g.text())).or_default() += 1;
            }
        }
        println!(
            "| {d} | {} | {ok} | {:.2}% |",
            samples.len(),
            100.0 * ok as f64 / samples.len() as f64
        );
        total += samples.len();
        right += ok;
    }
    println!(
        "| all | {total} | {right} | **{:.2}%** |",
        100.0 * right as f64 / total as f64
    );
    println!(
        "\namong the ten digit classes only (where the grammar wants a digit): {right_as_digit}/{total} = {:.2}%",
        100.0 * right_as_digit as f64 / total as f64
    );
    let mut pairs: Vec<((char, char), usize)> = confusions.into_iter().collect();
    pairs.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let listed: Vec<String> = pairs
        .iter()
        .take(12)
        .map(|((t, p), n)| format!("{t}→{p} ×{n}"))
        .collect();
    println!("\nconfusions (true→read): {}", listed.join(", "));

    // Synthesised operators.
    println!("\nsynthesised operators ({OPERATORS_PER_CLASS} a class, seed {EVAL_SEED:#x}, digit height 18..72 px):\n");
    println!("| glyph | accuracy | most frequent misreading |");
    println!("|---|---|---|");
    let mut rng = Rng::new(EVAL_SEED);
    let (mut op_total, mut op_right) = (0usize, 0usize);
    let mut timing_inputs = Vec::new();
    let classes = Glyph::SYNTHESISED
        .iter()
        .copied()
        .filter(|g| *g != Glyph::Dot)
        .chain([Glyph::Dot, Glyph::MidDot]);
    for glyph in classes {
        let mut ok = 0;
        let mut wrong: BTreeMap<char, usize> = BTreeMap::new();
        for _ in 0..OPERATORS_PER_CLASS {
            let height = rng.range(18.0, 72.0);
            let style = Style::random(&mut rng, height);
            let Some(bitmap) = synth::render(glyph, &mut rng, &style) else {
                continue;
            };
            let (g, _) = best_class(&classifier.classify(&normalize(&bitmap)));
            if g.class() == glyph.class() {
                ok += 1;
            } else {
                *wrong.entry(g.text()).or_default() += 1;
            }
            if timing_inputs.len() < 200 {
                timing_inputs.push(bitmap);
            }
        }
        let worst = wrong
            .iter()
            .max_by_key(|(_, n)| **n)
            .map(|(c, n)| format!("{c} ×{n}"))
            .unwrap_or_default();
        println!(
            "| {} | {:.1}% | {worst} |",
            glyph.text(),
            100.0 * ok as f64 / OPERATORS_PER_CLASS as f64
        );
        op_total += OPERATORS_PER_CLASS;
        op_right += ok;
    }
    println!("| all | **{:.2}%** | |", 100.0 * op_right as f64 / op_total as f64);

    // Speed: normalise + classify, one glyph at a time as the reader does.
    let glyphs: Vec<&GrayBitmap> = test
        .iter()
        .flat_map(|(_, s)| s.iter().take(20))
        .chain(timing_inputs.iter())
        .collect();
    let start = Instant::now();
    let mut sink = 0.0f32;
    let rounds = 5;
    for _ in 0..rounds {
        for g in &glyphs {
            sink += classifier.classify(&normalize(g))[0];
        }
    }
    let per = start.elapsed().as_secs_f64() * 1e6 / (rounds * glyphs.len()) as f64;
    println!(
        "\nnormalize + classify: {per:.0} µs a glyph ({} glyphs × {rounds}; checksum {sink:.3})",
        glyphs.len()
    );
    Ok(())
}
