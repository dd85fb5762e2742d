//! Composing photos of handwritten lines, for the evaluation and the tests: digits from a source
//! the caller supplies (MNIST test-split samples in `examples/eval_lines.rs`), operators from
//! [`crate::synth::render`], with random size, spacing, baseline wobble, rotation, lighting,
//! noise, and JPEG compression. Pure: bitmaps in, images and bytes out.

use std::io::Cursor;

use image::{GrayImage, Luma};

use crate::glyphs::{Glyph, GrayBitmap};
use crate::synth::{Rng, Style};

/// An ink canvas, 0 paper .. 1 full ink.
#[derive(Debug, Clone)]
pub struct Canvas {
    pub width: usize,
    pub height: usize,
    pub ink: Vec<f32>,
}

impl Canvas {
    pub fn new(width: usize, height: usize) -> Canvas {
        Canvas {
            width,
            height,
            ink: vec![0.0; width * height],
        }
    }

    /// Pastes `bitmap` (ink high, 0..255) scaled by `scale` with its top-left at (x, y), taking
    /// the maximum where strokes overlap (pen on paper does not add up).
    pub fn paste(&mut self, bitmap: &GrayBitmap, x: f32, y: f32, scale: f32) {
        let (bw, bh) = (bitmap.width(), bitmap.height());
        if bw == 0 || bh == 0 || scale <= 0.0 {
            return;
        }
        let (dw, dh) = ((bw as f32 * scale).ceil() as usize, (bh as f32 * scale).ceil() as usize);
        for dy in 0..dh {
            for dx in 0..dw {
                let (tx, ty) = (x + dx as f32, y + dy as f32);
                if tx < 0.0 || ty < 0.0 || tx as usize >= self.width || ty as usize >= self.height {
                    continue;
                }
                let v = bilinear(bitmap, (dx as f32 + 0.5) / scale - 0.5, (dy as f32 + 0.5) / scale - 0.5) / 255.0;
                let i = ty as usize * self.width + tx as usize;
                self.ink[i] = self.ink[i].max(v);
            }
        }
    }
}

fn bilinear(b: &GrayBitmap, x: f32, y: f32) -> f32 {
    if x < -1.0 || y < -1.0 {
        return 0.0;
    }
    let (x0, y0) = (x.floor(), y.floor());
    let (fx, fy) = (x - x0, y - y0);
    let get = |xx: f32, yy: f32| {
        if xx < 0.0 || yy < 0.0 {
            0.0
        } else {
            f32::from(b.get(xx as usize, yy as usize))
        }
    };
    let top = get(x0, y0) * (1.0 - fx) + get(x0 + 1.0, y0) * fx;
    let bottom = get(x0, y0 + 1.0) * (1.0 - fx) + get(x0 + 1.0, y0 + 1.0) * fx;
    top * (1.0 - fy) + bottom * fy
}

/// The glyphs of a text (spaces ignored); `None` if a character is not a glyph.
pub fn glyphs_of(text: &str) -> Option<Vec<Glyph>> {
    text.chars()
        .filter(|c| !c.is_whitespace())
        .map(Glyph::from_text)
        .collect()
}

/// Draws `text` as one handwritten line with its digits' top at `top` starting at `left`,
/// digits `digit_height` tall, and returns where it ended (x). Digits come from `digit`
/// (any bitmap of that digit, ink high; it is cropped and scaled to the line's height).
/// Spacing is tighter inside a number than around an operator; the baseline wobbles along a
/// slow sine plus a per-glyph jitter.
pub fn draw_line(
    canvas: &mut Canvas,
    text: &str,
    left: f32,
    top: f32,
    digit_height: f32,
    rng: &mut Rng,
    digit: &mut dyn FnMut(u8, &mut Rng) -> GrayBitmap,
) -> f32 {
    let Some(glyphs) = glyphs_of(text) else {
        return left;
    };
    let style = Style::random(rng, digit_height);
    let wobble = digit_height * rng.range(0.0, 0.08);
    let period = digit_height * rng.range(4.0, 10.0);
    let phase = rng.range(0.0, std::f32::consts::TAU);
    let mut x = left;
    let mut prev_digit = false;
    for (i, &g) in glyphs.iter().enumerate() {
        let is_digit = g.is_digit();
        if i > 0 {
            let gap = if is_digit && prev_digit {
                rng.range(0.08, 0.3)
            } else {
                rng.range(0.25, 0.7)
            };
            x += gap * digit_height;
        }
        let dy =
            wobble * ((x - left) / period * std::f32::consts::TAU + phase).sin() + rng.normal() * 0.02 * digit_height;
        if let Some(d) = g.digit_value() {
            let b = digit(d, rng).cropped();
            if b.height() == 0 {
                continue;
            }
            let h = digit_height * rng.range(0.88, 1.06);
            let scale = h / b.height() as f32;
            // Bottom-aligned on the baseline, as digits are written.
            canvas.paste(&b, x, top + dy + digit_height - h, scale);
            x += b.width() as f32 * scale;
        } else if let Some(b) = crate::synth::render(g, rng, &style) {
            // The synthesised canvas has the digit band at rows band_top..baseline.
            canvas.paste(&b, x, top + dy - style.band_top(), 1.0);
            x += b.width() as f32;
        }
        prev_digit = is_digit;
    }
    x
}

/// How a canvas is photographed.
#[derive(Debug, Clone, Copy)]
pub struct Camera {
    /// Rotation in degrees.
    pub rotation_deg: f32,
    /// Gaussian noise's standard deviation in grey levels.
    pub noise: f32,
    /// Paper and ink grey levels.
    pub paper: f32,
    pub ink: f32,
    /// Brightness change from left to right edge (a shadow), grey levels.
    pub gradient: f32,
}

impl Camera {
    /// Rotation within ±`max_rotation_deg`, noise σ 0..10, paper 190..245, ink 10..90, a
    /// lighting gradient up to ±25.
    pub fn random(rng: &mut Rng, max_rotation_deg: f32) -> Camera {
        Camera {
            rotation_deg: rng.range(-max_rotation_deg, max_rotation_deg),
            noise: rng.range(0.0, 10.0),
            paper: rng.range(190.0, 245.0),
            ink: rng.range(10.0, 90.0),
            gradient: rng.range(-25.0, 25.0),
        }
    }
}

/// The canvas as a grayscale photo: rotated about its centre (bilinear), ink laid on paper,
/// lighting and noise added.
pub fn photograph(canvas: &Canvas, camera: &Camera, rng: &mut Rng) -> GrayImage {
    let (w, h) = (canvas.width, canvas.height);
    let (s, c) = camera.rotation_deg.to_radians().sin_cos();
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    let ink_at = |x: f32, y: f32| -> f32 {
        let (x0, y0) = (x.floor(), y.floor());
        if x0 < 0.0 || y0 < 0.0 || x0 as usize + 1 >= w || y0 as usize + 1 >= h {
            return 0.0;
        }
        let (fx, fy) = (x - x0, y - y0);
        let i = y0 as usize * w + x0 as usize;
        let top = canvas.ink[i] * (1.0 - fx) + canvas.ink[i + 1] * fx;
        let bottom = canvas.ink[i + w] * (1.0 - fx) + canvas.ink[i + w + 1] * fx;
        top * (1.0 - fy) + bottom * fy
    };
    let mut img = GrayImage::new(w as u32, h as u32);
    for y in 0..h {
        for x in 0..w {
            let (dx, dy) = (x as f32 - cx, y as f32 - cy);
            let v = ink_at(cx + dx * c + dy * s, cy - dx * s + dy * c);
            let paper = camera.paper + camera.gradient * (x as f32 / w as f32 - 0.5);
            let grey = paper - v * (paper - camera.ink) + camera.noise * rng.normal();
            img.put_pixel(x as u32, y as u32, Luma([grey.clamp(0.0, 255.0) as u8]));
        }
    }
    img
}

/// JPEG bytes at `quality` (1..100).
pub fn jpeg(img: &GrayImage, quality: u8) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality);
    // Encoding an in-memory grayscale image cannot fail short of a bug in the encoder.
    if img.write_with_encoder(enc).is_err() {
        return Vec::new();
    }
    out.into_inner()
}

/// PNG bytes.
pub fn png(img: &GrayImage) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    if img.write_to(&mut out, image::ImageFormat::Png).is_err() {
        return Vec::new();
    }
    out.into_inner()
}

/// A random 2- or 3-digit operation line in plain notation, e.g. `53 - 26 = 33`, `9 × 6 = 54`,
/// `96 : 8 = 12`. A third of the answers are wrong (off by a borrow, a carry or a random amount):
/// the reader must read them as written.
pub fn random_operation(rng: &mut Rng) -> String {
    let digits = |rng: &mut Rng| if rng.chance(0.6) { 2 } else { 3 };
    let number = |rng: &mut Rng, n: u32| {
        let lo = 10i64.pow(n - 1);
        lo + rng.below((9 * lo) as usize) as i64
    };
    let (a, op, b, right) = match rng.below(4) {
        0 => {
            let n = digits(rng);
            let a = number(rng, n);
            let b = 10 + rng.below((a - 9).max(1) as usize) as i64;
            let b = b.min(a);
            (a, "-", b, a - b)
        }
        1 => {
            let n = digits(rng);
            let (a, b) = (number(rng, n), number(rng, 2));
            (a, "+", b, a + b)
        }
        2 => {
            let a = if rng.chance(0.5) {
                2 + rng.below(8) as i64
            } else {
                number(rng, 2)
            };
            let b = 2 + rng.below(8) as i64;
            (a, if rng.chance(0.8) { "×" } else { "·" }, b, a * b)
        }
        _ => {
            let b = 2 + rng.below(8) as i64;
            let q = 2 + rng.below(98) as i64;
            (b * q, if rng.chance(0.7) { ":" } else { "÷" }, b, q)
        }
    };
    let answer = if rng.chance(0.33) {
        let off = [10i64, -10, 1, -1, 9, 11][rng.below(6)];
        (right + off).max(0)
    } else {
        right
    };
    format!("{a} {op} {b} = {answer}")
}
