//! Line accuracy of the whole reader on composed photos: 2- and 3-digit operation lines
//! (`53 - 26 = 33`, `47 + 38 = 85`, `9 × 6 = 54`, `96 : 8 = 12`, a third with wrong answers)
//! drawn with MNIST **test-split** digits (samples 800.. of each digit, never seen in training)
//! and synthesised operators, at random size, spacing, baseline wobble, rotation up to 5°, paper
//! and ink levels, lighting, noise, then JPEG-compressed at quality 40..90 and handed to
//! `read_photo` as bytes. A line counts only if the photo reads as exactly one exercise whose one
//! step is the line, character for character.
//!
//! ```sh
//! scripts/fetch-mnist.sh /work/target/mnist   # or any directory; MNIST_DIR points at it
//! MNIST_DIR=/work/target/mnist cargo run --release -p ocr --example eval_lines -- 500
//! ```

use std::time::Instant;

use ocr::compose::{self, Camera, Canvas};
use ocr::synth::{self, Rng};
use ocr::{GrayBitmap, Limits};

fn main() {
    let n: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(500);
    let seed: u64 = std::env::args().nth(2).and_then(|s| s.parse().ok()).unwrap_or(7);
    let dir = std::env::var("MNIST_DIR").unwrap_or_else(|_| "/work/target/mnist".to_string());
    let digits: Vec<Vec<GrayBitmap>> = (0..10u8)
        .map(
            |d| match synth::mnist_digits(std::path::Path::new(&dir), d, synth::TEST_SPLIT) {
                Ok(v) if !v.is_empty() => v,
                Ok(_) => panic!("no test-split samples of {d} in {dir}"),
                Err(e) => panic!("{e}"),
            },
        )
        .collect();
    let mut rng = Rng::new(seed);
    let (mut exact, mut by_op) = (0usize, std::collections::BTreeMap::<&str, (usize, usize)>::new());
    let mut failures = Vec::new();
    let max_failures: usize = std::env::var("EVAL_FAILURES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(25);
    let mut times = Vec::new();
    for i in 0..n {
        let text = compose::random_operation(&mut rng);
        let dh = rng.range(24.0, 70.0);
        let glyphs = text.chars().filter(|c| !c.is_whitespace()).count() as f32;
        let (w, h) = ((dh * (glyphs * 1.3 + 3.0)) as usize, (dh * 3.0) as usize);
        let mut canvas = Canvas::new(w, h);
        compose::draw_line(&mut canvas, &text, dh * 1.2, dh, dh, &mut rng, &mut |d, rng| {
            let v = &digits[usize::from(d)];
            v[rng.below(v.len())].clone()
        });
        let camera = Camera::random(&mut rng, 5.0);
        let photo = compose::photograph(&canvas, &camera, &mut rng);
        let quality = 40 + rng.below(51) as u8;
        let bytes = compose::jpeg(&photo, quality);
        let t = Instant::now();
        let reading = ocr::read_photo(&bytes, &Limits::default());
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        let got: Vec<String> = match &reading {
            Ok(r) => r
                .exercises
                .iter()
                .flat_map(|e| e.raw_steps.iter().map(|s| s.expression.clone()))
                .collect(),
            Err(e) => vec![format!("error: {e}")],
        };
        let ok = got.len() == 1 && got[0] == text;
        let op = ["-", "+", "×", "·", ":", "÷"]
            .into_iter()
            .find(|o| text.contains(&format!(" {o} ")))
            .unwrap_or("?");
        let entry = by_op.entry(op).or_default();
        entry.1 += 1;
        if ok {
            exact += 1;
            entry.0 += 1;
        } else if failures.len() < max_failures {
            failures.push(format!(
                "#{i} {text:?} -> {got:?} (dh {dh:.0}, rot {:.1}°, q {quality})",
                camera.rotation_deg
            ));
            if std::env::var("EVAL_DUMP").is_ok() {
                let _ = photo.save(format!("/tmp/eval_fail_{i}.png"));
            }
            if std::env::var("EVAL_VERBOSE").is_ok() {
                failures.push(describe_glyphs(&bytes));
            }
        }
    }
    times.sort_by(|a, b| a.total_cmp(b));
    println!(
        "lines read exactly: {exact}/{n} = {:.1}%",
        100.0 * exact as f64 / n as f64
    );
    for (op, (ok, all)) in &by_op {
        println!("  {op}: {ok}/{all} = {:.1}%", 100.0 * *ok as f64 / *all as f64);
    }
    println!("median read_photo per line photo: {:.2} ms", times[times.len() / 2]);
    println!("first failures:");
    for f in failures {
        println!("  {f}");
    }
}

/// Each glyph the segmenter found in a photo's lines: its box, how many components it merges,
/// and the classifier's three most probable classes (for looking into failures).
fn describe_glyphs(bytes: &[u8]) -> String {
    let Ok(gray) = ocr::photo::decode_gray(bytes, &Limits::default()) else {
        return "    (undecodable)".to_string();
    };
    let page = ocr::preprocess::preprocess(&gray);
    let (labels, lines) = ocr::segment::segment(&page.mask, &ocr::segment::SegmentParams::default(), 40);
    let classifier = ocr::builtin_classifier();
    let mut out = String::new();
    for line in &lines {
        out.push_str(&format!("    line {}..{}\n", line.top, line.bottom));
        let rects: Vec<_> = line.glyphs.iter().map(|g| g.rect).collect();
        let merges = ocr::reader::merge_candidates(&rects);
        let joined = merges.iter().map(|&i| line.glyphs[i].merged_with(&line.glyphs[i + 1]));
        for (k, g) in line.glyphs.iter().cloned().chain(joined).enumerate() {
            if k == line.glyphs.len() {
                out.push_str("      merged:\n");
            }
            let g = &g;
            let bitmap = ocr::segment::glyph_bitmap(&labels, &page.gray, g);
            let probs = classifier.classify(&ocr::classifier::normalize(&bitmap));
            let mut top: Vec<(usize, f32)> = probs.iter().copied().enumerate().collect();
            top.sort_by(|a, b| b.1.total_cmp(&a.1));
            let best: Vec<String> = top
                .iter()
                .take(3)
                .filter_map(|&(c, p)| ocr::Glyph::from_class(c).map(|g| format!("{g} {p:.2}")))
                .collect();
            let r = g.rect;
            out.push_str(&format!(
                "      x {}..{} y {}..{} lean {:.2} parts {} : {}\n",
                r.x0,
                r.x1,
                r.y0,
                r.y1,
                ocr::segment::lean(&bitmap),
                g.labels.len(),
                best.join(", ")
            ));
        }
    }
    out
}
