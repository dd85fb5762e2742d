//! Median `read_photo` latency on a phone-sized photo: 3000×4000 JPEG (quality 90), six lines
//! of operations in two exercises, digits about 170 px tall, rotated 2°.
//!
//! Digits come from MNIST's test split when `MNIST_DIR` is set; otherwise from blobs drawn by
//! hand here (the latency does not depend on what the digits look like, only on how many glyphs
//! there are and how big the photo is).
//!
//! ```sh
//! MNIST_DIR=/work/target/mnist cargo run --release -p ocr --example latency -- 21
//! SAVE_PHOTO=/tmp/page.jpg cargo run --release -p ocr --example latency -- 1   # keep the photo
//! ```

use std::time::Instant;

use ocr::compose::{self, Camera, Canvas};
use ocr::synth::{self, Rng};
use ocr::{GrayBitmap, Limits};

fn main() {
    let runs: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(21);
    let digits: Option<Vec<Vec<GrayBitmap>>> = std::env::var("MNIST_DIR").ok().and_then(|dir| {
        (0..10u8)
            .map(|d| synth::mnist_digits(std::path::Path::new(&dir), d, synth::TEST_SPLIT).ok())
            .collect()
    });
    let mut rng = Rng::new(11);
    let (w, h) = (3000usize, 4000usize);
    let mut canvas = Canvas::new(w, h);
    let dh = 170.0;
    let lines = [
        "53 - 26 = 33",
        "47 + 38 = 85",
        "9 × 6 = 54",
        "96 : 8 = 12",
        "345 - 128 = 217",
        "72 + 19 = 91",
    ];
    for (i, text) in lines.iter().enumerate() {
        // Two exercises of three lines: 1.6 line heights apart inside, 4 between.
        let top = 500.0 + i as f32 * dh * 1.6 + if i >= 3 { dh * 2.4 } else { 0.0 };
        compose::draw_line(
            &mut canvas,
            text,
            300.0,
            top,
            dh,
            &mut rng,
            &mut |d, rng| match &digits {
                Some(v) => v[usize::from(d)][rng.below(v[usize::from(d)].len())].clone(),
                None => GrayBitmap::from_fn(14, 20, |x, y| if x < 3 || y < 3 || x > 10 || y > 16 { 255 } else { 0 }),
            },
        );
    }
    let camera = Camera {
        rotation_deg: 2.0,
        noise: 4.0,
        paper: 225.0,
        ink: 40.0,
        gradient: 15.0,
    };
    let photo = compose::photograph(&canvas, &camera, &mut rng);
    let bytes = compose::jpeg(&photo, 90);
    println!("photo: {w}×{h} JPEG, {} KB, {} lines", bytes.len() / 1024, lines.len());
    // `SAVE_PHOTO=path`: keep the photo, for timing the HTTP endpoint on it (scripts/bench-ocr.sh).
    if let Ok(path) = std::env::var("SAVE_PHOTO") {
        std::fs::write(&path, &bytes).expect("write SAVE_PHOTO");
    }
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..runs {
        let t = Instant::now();
        let r = ocr::read_photo(&bytes, &Limits::default());
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        last = Some(r);
    }
    times.sort_by(|a, b| a.total_cmp(b));
    println!(
        "read_photo over {runs} runs: median {:.1} ms, min {:.1} ms, max {:.1} ms",
        times[runs / 2],
        times[0],
        times[runs - 1]
    );
    if let Some(Ok(r)) = last {
        for e in &r.exercises {
            let steps: Vec<&str> = e.raw_steps.iter().map(|s| s.expression.as_str()).collect();
            println!("  exercise {:?} confidence {:.3}: {steps:?}", e.problem, e.confidence);
        }
    }
}
