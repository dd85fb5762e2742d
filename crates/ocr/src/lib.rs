//! `ocr`: practica's built-in reader of handwritten arithmetic, offline and in pure Rust.
//!
//! A photo goes through: decoding within limits ([`photo`]) → grayscale, adaptive threshold and
//! deskew ([`preprocess`]) → lines and glyphs, with the parts of `=`, `÷`, `:` and `%` merged
//! ([`segment`]) → each glyph classified by a small network whose weights are committed in
//! `weights/` ([`classifier`], trained by `examples/train.rs` on MNIST digits and synthesised
//! operators, [`synth`]) → each line read as the most probable *well-formed* expression
//! ([`reader`]), not glyph by glyph → lines grouped into exercises by vertical space
//! ([`exercise`]).
//!
//! The grammar constrains the form of a line (number, operator, number, `=`, number), never its
//! arithmetic truth: a student's wrong answer is read as written.
//!
//! The crate is pure: bytes in ([`read_photo`]), structs out; no I/O, no panic on any input, no
//! recursion over image-sized data.

pub mod classifier;
pub mod compose;
pub mod exercise;
pub mod glyphs;
pub mod photo;
pub mod preprocess;
pub mod reader;
pub mod segment;
pub mod synth;

use std::sync::OnceLock;

use image::GrayImage;
use serde::Serialize;

pub use exercise::{Exercise, RawStep};
pub use glyphs::{Glyph, GrayBitmap};
pub use reader::LineReading;

use classifier::Classifier;
use exercise::PlacedLine;
use reader::{GlyphInput, MergedInput};
use segment::SegmentParams;

/// Bounds on the work a photo may cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Most pixels (width × height, from the header, before decoding) a photo may have.
    pub max_pixels: u64,
    /// Most lines read (the first ones, top to bottom); the rest are ignored.
    pub max_lines: usize,
    /// Most glyphs read in a line (the first ones, left to right).
    pub max_glyphs_per_line: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_pixels: 40_000_000,
            max_lines: 40,
            max_glyphs_per_line: 64,
        }
    }
}

/// Why a photo could not be read. A photo that decodes but holds nothing legible is not an
/// error: it reads as no exercises.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OcrError {
    /// Not PNG or JPEG by its magic bytes (the service answers 415).
    #[error("not a PNG or JPEG image")]
    UnsupportedFormat,
    /// PNG or JPEG by its magic bytes, but it does not decode (422).
    #[error("the image does not decode: {0}")]
    Undecodable(String),
    /// The header declares more pixels than allowed; nothing was decoded (422).
    #[error("the image is {width}×{height}, more than {max} pixels")]
    TooManyPixels { width: u32, height: u32, max: u64 },
}

/// What a photo holds.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PhotoReading {
    /// Top to bottom.
    pub exercises: Vec<Exercise>,
    /// The decoded image's size (after EXIF orientation).
    pub width: u32,
    pub height: u32,
}

/// The built-in classifier, loaded once per process.
pub fn builtin_classifier() -> &'static Classifier {
    static CLASSIFIER: OnceLock<Classifier> = OnceLock::new();
    CLASSIFIER.get_or_init(Classifier::builtin)
}

/// Reads a photo (PNG or JPEG bytes) with the built-in classifier.
pub fn read_photo(bytes: &[u8], limits: &Limits) -> Result<PhotoReading, OcrError> {
    let gray = photo::decode_gray(bytes, limits)?;
    Ok(read_image(&gray, limits, builtin_classifier()))
}

/// Reads a decoded grayscale image (paper light, ink dark).
pub fn read_image(gray: &GrayImage, limits: &Limits, classifier: &Classifier) -> PhotoReading {
    let lines = read_lines(gray, limits, classifier);
    let exercises = exercise::group(&lines)
        .iter()
        .filter_map(|g| exercise::exercise(g))
        .collect();
    PhotoReading {
        exercises,
        width: gray.width(),
        height: gray.height(),
    }
}

/// Every line of an image that has a well-formed reading, top to bottom, with its extent in the
/// working (downscaled, deskewed) image.
pub fn read_lines(gray: &GrayImage, limits: &Limits, classifier: &Classifier) -> Vec<PlacedLine> {
    let page = preprocess::preprocess(gray);
    let (labels, lines) = segment::segment(&page.mask, &SegmentParams::default(), limits.max_lines);
    lines
        .iter()
        .filter_map(|line| {
            let boxes = &line.glyphs[..line.glyphs.len().min(limits.max_glyphs_per_line)];
            let input = |g: &segment::GlyphBox| {
                let bitmap = segment::glyph_bitmap(&labels, &page.gray, g);
                GlyphInput {
                    rect: g.rect,
                    probs: classify_shifted(classifier, &bitmap),
                    lean: segment::lean(&bitmap),
                }
            };
            let inputs: Vec<GlyphInput> = boxes.iter().map(input).collect();
            // Neighbours that may be one glyph the segmenter kept apart, classified merged; the
            // reader weighs both segmentations.
            let rects: Vec<segment::Rect> = boxes.iter().map(|g| g.rect).collect();
            let merged: Vec<MergedInput> = reader::merge_candidates(&rects)
                .into_iter()
                .map(|i| {
                    let joined = boxes[i].merged_with(&boxes[i + 1]);
                    MergedInput {
                        first: i,
                        input: input(&joined),
                    }
                })
                .collect();
            reader::read_lattice(&inputs, &merged).map(|reading| PlacedLine {
                top: line.top,
                bottom: line.bottom,
                reading,
            })
        })
        .collect()
}

/// The classifier's probabilities for a glyph; when it is unsure, averaged over the glyph placed
/// at its centre and shifted by a pixel each way (of the 28×28 input, the 8 neighbours): a small
/// CNN's answer on a borderline glyph flips with sub-pixel placement, and the average over
/// placements is steadier than any one of them. Sure answers (most glyphs) cost one pass.
/// The classifier itself is untouched: this only asks it more than once.
fn classify_shifted(classifier: &Classifier, bitmap: &GrayBitmap) -> [f32; glyphs::NUM_CLASSES] {
    let centre = classifier.classify(&classifier::normalize(bitmap));
    // 0.9: on the tuning seed, averaging only below it read as many lines as averaging always.
    if centre.iter().copied().fold(0.0, f32::max) >= 0.9 {
        return centre;
    }
    let mut sum = centre;
    for dy in [-1.0f32, 0.0, 1.0] {
        for dx in [-1.0f32, 0.0, 1.0] {
            if dx == 0.0 && dy == 0.0 {
                continue;
            }
            let p = classifier.classify(&classifier::normalize_at(bitmap, (dx, dy)));
            for (s, p) in sum.iter_mut().zip(p) {
                *s += p;
            }
        }
    }
    let total: f32 = sum.iter().sum();
    if total > 0.0 {
        for s in &mut sum {
            *s /= total;
        }
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shifted_classification_is_a_distribution_and_keeps_sure_answers() {
        let mut rng = synth::Rng::new(3);
        let style = synth::Style::random(&mut rng, 40.0);
        let classifier = builtin_classifier();
        for glyph in [glyphs::Glyph::Plus, glyphs::Glyph::Equals, glyphs::Glyph::Times] {
            let Some(bitmap) = synth::render(glyph, &mut rng, &style) else {
                panic!("{glyph} renders");
            };
            let p = classify_shifted(classifier, &bitmap);
            let sum: f32 = p.iter().sum();
            assert!((sum - 1.0).abs() < 1e-3, "{glyph}: sum {sum}");
            let plain = classifier.classify(&classifier::normalize(&bitmap));
            if plain.iter().copied().fold(0.0, f32::max) >= 0.9 {
                assert_eq!(p, plain);
            }
        }
        // A blank glyph is no panic.
        let p = classify_shifted(classifier, &GrayBitmap::blank(5, 5));
        assert!(p.iter().all(|v| v.is_finite()));
    }
}
