//! The glyph classifier: any cropped glyph → a 28×28 input made the way MNIST digits were made
//! ([`normalize`]) → a small convolutional network → a probability per network class
//! ([`Classifier::classify`], indexed by [`Glyph::class`]).
//!
//! The network is conv 5×5 (`c1` maps) → ReLU → max-pool 2 → conv 5×5 (`c2` maps) → ReLU →
//! max-pool 2 → dense (`hidden`) → ReLU → dense ([`NUM_CLASSES`]) → softmax. Its weights are
//! committed in `weights/glyphs.bin` and compiled in ([`Classifier::builtin`]); they are trained
//! by `examples/train.rs` (see docs/ocr.md, "Glyph classifier"). The layer functions are public
//! ([`layers`]) because the training program runs the same forward pass it differentiates.

use crate::glyphs::{Glyph, GrayBitmap, NUM_CLASSES};

/// The network input's side: 28×28 pixels, as MNIST.
pub const INPUT_SIDE: usize = 28;
/// The network input's size.
pub const INPUT_LEN: usize = INPUT_SIDE * INPUT_SIDE;
/// The side of the box a glyph's longer side is scaled to (MNIST's 20 px inside 28).
pub const GLYPH_BOX: f32 = 20.0;
/// Both convolutions' kernel side.
pub const KERNEL: usize = 5;

/// One network input: 784 values, row-major, 0 paper .. 1 full ink.
pub type Input = [f32; INPUT_LEN];

/// A glyph turned into the network input exactly as MNIST digits were made: the ink's bounding
/// box scaled (area-averaged, so anti-aliased) until its longer side is 20 px, the aspect ratio
/// kept (a `-` stays a flat bar, a `1` a thin stroke), and placed in 28×28 with its centre of
/// mass at the centre. Training re-normalises the MNIST digits and the synthesised operators
/// through this same function, so what the network learnt from is what it is shown. A blank
/// bitmap gives a blank input.
pub fn normalize(bitmap: &GrayBitmap) -> Input {
    normalize_at(bitmap, (0.0, 0.0))
}

/// [`normalize`] with the centre of mass placed `offset` pixels from the centre (the training
/// program's random shifts).
pub fn normalize_at(bitmap: &GrayBitmap, offset: (f32, f32)) -> Input {
    let mut input = [0.0f32; INPUT_LEN];
    let Some((x0, y0, x1, y1)) = bitmap.ink_bounds(0) else {
        return input;
    };
    let (w, h) = (x1 - x0, y1 - y0);
    let scale = GLYPH_BOX / w.max(h) as f32;

    // Centre of mass of the ink, in continuous coordinates relative to the box (pixel x covers
    // [x, x + 1), so its centre is x + 0.5).
    let (mut mass, mut mx, mut my) = (0.0f64, 0.0f64, 0.0f64);
    for y in 0..h {
        for x in 0..w {
            let v = f64::from(bitmap.get(x0 + x, y0 + y));
            mass += v;
            mx += v * (x as f64 + 0.5);
            my += v * (y as f64 + 0.5);
        }
    }
    // ink_bounds found ink, so mass > 0.
    let (cx, cy) = ((mx / mass) as f32, (my / mass) as f32);
    let centre = INPUT_SIDE as f32 / 2.0;
    let wx = box_weights(w, cx, scale, centre + offset.0);
    let wy = box_weights(h, cy, scale, centre + offset.1);

    // Separable area averaging: rows first (h × 28), then columns.
    let mut rows = vec![0.0f32; h * INPUT_SIDE];
    for y in 0..h {
        let src = &bitmap.pixels()[(y0 + y) * bitmap.width() + x0..][..w];
        for (ox, taps) in wx.iter().enumerate() {
            rows[y * INPUT_SIDE + ox] = taps.iter().map(|&(x, t)| t * f32::from(src[x])).sum();
        }
    }
    for (oy, taps) in wy.iter().enumerate() {
        for ox in 0..INPUT_SIDE {
            let v: f32 = taps.iter().map(|&(y, t)| t * rows[y * INPUT_SIDE + ox]).sum();
            input[oy * INPUT_SIDE + ox] = (v / 255.0).min(1.0);
        }
    }
    input
}

/// For each output pixel along one axis, the source pixels it overlaps and by how much (scaled
/// so a fully covered output pixel's weights sum to 1). Output coordinate u maps to source
/// coordinate `com + (u - target) / scale`.
fn box_weights(len: usize, com: f32, scale: f32, target: f32) -> Vec<Vec<(usize, f32)>> {
    (0..INPUT_SIDE)
        .map(|o| {
            let lo = com + (o as f32 - target) / scale;
            let hi = com + (o as f32 + 1.0 - target) / scale;
            let first = lo.floor().max(0.0) as usize;
            let last = (hi.ceil().max(0.0) as usize).min(len);
            (first..last)
                .filter_map(|s| {
                    let overlap = (hi.min(s as f32 + 1.0) - lo.max(s as f32)) * scale;
                    (overlap > 0.0).then_some((s, overlap))
                })
                .collect()
        })
        .collect()
}

/// The sizes a weights blob declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// Feature maps of the first convolution.
    pub c1: usize,
    /// Feature maps of the second convolution.
    pub c2: usize,
    /// Units of the hidden dense layer.
    pub hidden: usize,
}

impl Shape {
    /// Side of the first convolution's output (valid convolution).
    pub const SIDE1: usize = INPUT_SIDE - KERNEL + 1; // 24
    /// After the first pooling.
    pub const POOL1: usize = Self::SIDE1 / 2; // 12
    /// Side of the second convolution's output.
    pub const SIDE2: usize = Self::POOL1 - KERNEL + 1; // 8
    /// After the second pooling.
    pub const POOL2: usize = Self::SIDE2 / 2; // 4

    /// Inputs of the hidden dense layer.
    pub fn flat(&self) -> usize {
        self.c2 * Self::POOL2 * Self::POOL2
    }

    /// Every parameter's count, in storage order: conv1 w, b; conv2 w, b; dense1 w, b; dense2 w, b.
    pub fn tensor_lens(&self) -> [usize; 8] {
        [
            self.c1 * KERNEL * KERNEL,
            self.c1,
            self.c2 * self.c1 * KERNEL * KERNEL,
            self.c2,
            self.hidden * self.flat(),
            self.hidden,
            NUM_CLASSES * self.hidden,
            NUM_CLASSES,
        ]
    }

    pub fn parameters(&self) -> usize {
        self.tensor_lens().iter().sum()
    }
}

/// The network's parameters, flat row-major tensors: `conv1_w[c1][5][5]`,
/// `conv2_w[c2][c1][5][5]`, `dense1_w[hidden][flat]`, `dense2_w[classes][hidden]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Weights {
    pub shape: Shape,
    pub conv1_w: Vec<f32>,
    pub conv1_b: Vec<f32>,
    pub conv2_w: Vec<f32>,
    pub conv2_b: Vec<f32>,
    pub dense1_w: Vec<f32>,
    pub dense1_b: Vec<f32>,
    pub dense2_w: Vec<f32>,
    pub dense2_b: Vec<f32>,
}

/// Why a weights blob was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WeightsError {
    #[error("not a glyph classifier weights file (bad magic)")]
    BadMagic,
    #[error("weights format version {0} is not supported (expected {FORMAT_VERSION})")]
    UnsupportedVersion(u32),
    #[error("weights are for {found} classes, this build knows {NUM_CLASSES}")]
    ClassCount { found: usize },
    #[error("weights declare an unsupported shape (input {input}, kernel {kernel}, c1 {c1}, c2 {c2}, hidden {hidden})")]
    BadShape {
        input: usize,
        kernel: usize,
        c1: usize,
        c2: usize,
        hidden: usize,
    },
    #[error("weights blob is {found} bytes, its header implies {expected}")]
    Length { expected: usize, found: usize },
    #[error("weights checksum mismatch: the blob is corrupt")]
    Checksum,
    #[error("weights hold a non-finite value")]
    NotFinite,
}

/// The blob's first bytes.
pub const MAGIC: [u8; 8] = *b"PRGLYPHS";
/// The blob layout's version.
pub const FORMAT_VERSION: u32 = 1;
/// Magic, version, then six u32 sizes (input side, kernel, c1, c2, hidden, classes).
const HEADER_LEN: usize = 8 + 4 + 6 * 4;
/// A trailing FNV-1a 64 checksum of everything before it.
const CHECKSUM_LEN: usize = 8;
/// Refuse absurd sizes before multiplying them (a corrupt header must not allocate gigabytes).
const MAX_WIDTH: usize = 1024;

/// FNV-1a, 64 bits: enough to catch a damaged or truncated file (not an integrity guarantee
/// against tampering; the blob is compiled in).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

impl Weights {
    /// Reads and validates a blob: magic, version, sizes against this build's classes and
    /// layers, exact length, checksum, finite values.
    pub fn from_bytes(blob: &[u8]) -> Result<Weights, WeightsError> {
        if blob.len() < HEADER_LEN + CHECKSUM_LEN || blob[..8] != MAGIC {
            return Err(WeightsError::BadMagic);
        }
        let word = |i: usize| {
            let at = 8 + 4 * i;
            u32::from_le_bytes([blob[at], blob[at + 1], blob[at + 2], blob[at + 3]])
        };
        let version = word(0);
        if version != FORMAT_VERSION {
            return Err(WeightsError::UnsupportedVersion(version));
        }
        let [input, kernel, c1, c2, hidden, classes] = [1, 2, 3, 4, 5, 6].map(|i| word(i) as usize);
        if classes != NUM_CLASSES {
            return Err(WeightsError::ClassCount { found: classes });
        }
        let widths_ok = [c1, c2, hidden].iter().all(|&n| (1..=MAX_WIDTH).contains(&n));
        if input != INPUT_SIDE || kernel != KERNEL || !widths_ok {
            return Err(WeightsError::BadShape {
                input,
                kernel,
                c1,
                c2,
                hidden,
            });
        }
        let shape = Shape { c1, c2, hidden };
        let expected = HEADER_LEN + 4 * shape.parameters() + CHECKSUM_LEN;
        if blob.len() != expected {
            return Err(WeightsError::Length {
                expected,
                found: blob.len(),
            });
        }
        let (body, sum) = blob.split_at(expected - CHECKSUM_LEN);
        let mut stored = [0u8; 8];
        stored.copy_from_slice(sum);
        if fnv1a(body) != u64::from_le_bytes(stored) {
            return Err(WeightsError::Checksum);
        }
        let mut values = body[HEADER_LEN..]
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]));
        let mut take = |n: usize| -> Vec<f32> { values.by_ref().take(n).collect() };
        let [l0, l1, l2, l3, l4, l5, l6, l7] = shape.tensor_lens();
        let weights = Weights {
            shape,
            conv1_w: take(l0),
            conv1_b: take(l1),
            conv2_w: take(l2),
            conv2_b: take(l3),
            dense1_w: take(l4),
            dense1_b: take(l5),
            dense2_w: take(l6),
            dense2_b: take(l7),
        };
        if weights.tensors().iter().any(|t| t.iter().any(|v| !v.is_finite())) {
            return Err(WeightsError::NotFinite);
        }
        Ok(weights)
    }

    /// The blob [`Weights::from_bytes`] reads: header, f32 little-endian tensors, checksum.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut blob = Vec::with_capacity(HEADER_LEN + 4 * self.shape.parameters() + CHECKSUM_LEN);
        blob.extend_from_slice(&MAGIC);
        let Shape { c1, c2, hidden } = self.shape;
        for word in [FORMAT_VERSION as usize, INPUT_SIDE, KERNEL, c1, c2, hidden, NUM_CLASSES] {
            blob.extend_from_slice(&(word as u32).to_le_bytes());
        }
        for tensor in self.tensors() {
            for v in tensor {
                blob.extend_from_slice(&v.to_le_bytes());
            }
        }
        let sum = fnv1a(&blob);
        blob.extend_from_slice(&sum.to_le_bytes());
        blob
    }

    /// The tensors in storage order.
    pub fn tensors(&self) -> [&Vec<f32>; 8] {
        [
            &self.conv1_w,
            &self.conv1_b,
            &self.conv2_w,
            &self.conv2_b,
            &self.dense1_w,
            &self.dense1_b,
            &self.dense2_w,
            &self.dense2_b,
        ]
    }

    /// Mutable tensors in storage order (the training program's optimiser steps them).
    pub fn tensors_mut(&mut self) -> [&mut Vec<f32>; 8] {
        [
            &mut self.conv1_w,
            &mut self.conv1_b,
            &mut self.conv2_w,
            &mut self.conv2_b,
            &mut self.dense1_w,
            &mut self.dense1_b,
            &mut self.dense2_w,
            &mut self.dense2_b,
        ]
    }

    /// All-zero parameters of this shape.
    pub fn zeros(shape: Shape) -> Weights {
        let [l0, l1, l2, l3, l4, l5, l6, l7] = shape.tensor_lens();
        Weights {
            shape,
            conv1_w: vec![0.0; l0],
            conv1_b: vec![0.0; l1],
            conv2_w: vec![0.0; l2],
            conv2_b: vec![0.0; l3],
            dense1_w: vec![0.0; l4],
            dense1_b: vec![0.0; l5],
            dense2_w: vec![0.0; l6],
            dense2_b: vec![0.0; l7],
        }
    }
}

/// The committed weights, compiled in: no file is read and nothing downloaded at run time.
static BUILTIN_WEIGHTS: &[u8] = include_bytes!("../weights/glyphs.bin");

/// Every activation of one forward pass (the training program differentiates through them).
#[derive(Debug, Clone)]
pub struct Activations {
    /// After conv1 and ReLU: `[c1][24][24]`.
    pub conv1: Vec<f32>,
    /// After the first pooling: `[c1][12][12]`, and which of each 2×2 window won.
    pub pool1: Vec<f32>,
    pub pool1_arg: Vec<u32>,
    /// After conv2 and ReLU: `[c2][8][8]`.
    pub conv2: Vec<f32>,
    /// After the second pooling (the dense layer's input): `[c2][4][4]`, and the winners.
    pub pool2: Vec<f32>,
    pub pool2_arg: Vec<u32>,
    /// After dense1 and ReLU.
    pub hidden: Vec<f32>,
    /// Softmax probabilities per class.
    pub probabilities: [f32; NUM_CLASSES],
}

/// The layers, shared by inference and the training program.
pub mod layers {
    /// A valid convolution with a square kernel `k`: `input[in_c][side][side]`,
    /// `weights[out_c][in_c][k][k]` → `[out_c][side-k+1][side-k+1]`, bias added, ReLU applied.
    pub fn conv_relu(input: &[f32], in_c: usize, side: usize, weights: &[f32], bias: &[f32], k: usize) -> Vec<f32> {
        let out_c = bias.len();
        let out_side = side - k + 1;
        let plane = out_side * out_side;
        let taps = in_c * k * k;
        // im2col: row j = (ic, ky, kx) holds the input under that tap for every output pixel,
        // so each output plane is a sum of long contiguous axpys (vectorised). Every output
        // still accumulates bias + Σ_j w_j·x_j in the order j = 0, 1, …: the same rounding as
        // the direct loop.
        let mut cols = vec![0.0f32; taps * plane];
        for ic in 0..in_c {
            let in_plane = &input[ic * side * side..][..side * side];
            for ky in 0..k {
                for kx in 0..k {
                    let row = &mut cols[((ic * k + ky) * k + kx) * plane..][..plane];
                    for oy in 0..out_side {
                        row[oy * out_side..][..out_side]
                            .copy_from_slice(&in_plane[(oy + ky) * side + kx..][..out_side]);
                    }
                }
            }
        }
        let mut out = vec![0.0f32; out_c * plane];
        for (oc, out_plane) in out.chunks_exact_mut(plane).enumerate() {
            out_plane.fill(bias[oc]);
            for (w, col) in weights[oc * taps..][..taps].iter().zip(cols.chunks_exact(plane)) {
                for (d, s) in out_plane.iter_mut().zip(col) {
                    *d += w * s;
                }
            }
            for v in out_plane.iter_mut() {
                *v = v.max(0.0);
            }
        }
        out
    }

    /// 2×2 max pooling of `[c][side][side]`; also returns, per output, the input index that won.
    pub fn max_pool2(input: &[f32], c: usize, side: usize) -> (Vec<f32>, Vec<u32>) {
        let half = side / 2;
        let mut out = Vec::with_capacity(c * half * half);
        let mut arg = Vec::with_capacity(c * half * half);
        for ch in 0..c {
            for y in 0..half {
                for x in 0..half {
                    let mut best = ch * side * side + 2 * y * side + 2 * x;
                    for (dy, dx) in [(0, 1), (1, 0), (1, 1)] {
                        let i = ch * side * side + (2 * y + dy) * side + 2 * x + dx;
                        if input[i] > input[best] {
                            best = i;
                        }
                    }
                    out.push(input[best]);
                    arg.push(best as u32);
                }
            }
        }
        (out, arg)
    }

    /// `weights[out][in] · input + bias`.
    pub fn dense(input: &[f32], weights: &[f32], bias: &[f32]) -> Vec<f32> {
        bias.iter()
            .enumerate()
            .map(|(o, b)| {
                b + weights[o * input.len()..][..input.len()]
                    .iter()
                    .zip(input)
                    .map(|(w, x)| w * x)
                    .sum::<f32>()
            })
            .collect()
    }

    /// Softmax, shifted by the maximum so large logits do not overflow.
    pub fn softmax<const N: usize>(logits: &[f32]) -> [f32; N] {
        let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let mut p = [0.0f32; N];
        let mut sum = 0.0;
        for (p, l) in p.iter_mut().zip(logits) {
            *p = (l - max).exp();
            sum += *p;
        }
        for p in p.iter_mut() {
            *p /= sum;
        }
        p
    }
}

impl Weights {
    /// The forward pass, keeping every activation.
    pub fn forward(&self, input: &Input) -> Activations {
        let Shape { c1, c2, .. } = self.shape;
        let conv1 = layers::conv_relu(input, 1, INPUT_SIDE, &self.conv1_w, &self.conv1_b, KERNEL);
        let (pool1, pool1_arg) = layers::max_pool2(&conv1, c1, Shape::SIDE1);
        let conv2 = layers::conv_relu(&pool1, c1, Shape::POOL1, &self.conv2_w, &self.conv2_b, KERNEL);
        let (pool2, pool2_arg) = layers::max_pool2(&conv2, c2, Shape::SIDE2);
        let mut hidden = layers::dense(&pool2, &self.dense1_w, &self.dense1_b);
        for h in hidden.iter_mut() {
            *h = h.max(0.0);
        }
        let logits = layers::dense(&hidden, &self.dense2_w, &self.dense2_b);
        let probabilities = layers::softmax::<NUM_CLASSES>(&logits);
        Activations {
            conv1,
            pool1,
            pool1_arg,
            conv2,
            pool2,
            pool2_arg,
            hidden,
            probabilities,
        }
    }
}

/// The glyph classifier: validated weights and the forward pass.
#[derive(Debug, Clone)]
pub struct Classifier {
    weights: Weights,
    /// The dense layers' weights transposed (`[in][out]`), so inference runs them as
    /// contiguous axpys over the outputs; same products, same per-output order as
    /// [`layers::dense`], hence the same probabilities as [`Weights::forward`] (tested).
    dense1_t: Vec<f32>,
    dense2_t: Vec<f32>,
}

impl Classifier {
    /// The classifier with the committed weights. They are validated by the tests, so this
    /// cannot fail in a build that passed them; [`Classifier::from_bytes`] is the fallible form.
    pub fn builtin() -> Classifier {
        match Classifier::from_bytes(BUILTIN_WEIGHTS) {
            Ok(classifier) => classifier,
            // Unreachable in a tested build: `builtin_weights_load` checks this very blob.
            Err(e) => panic!("the committed glyph classifier weights are invalid: {e}"),
        }
    }

    /// A classifier from a weights blob (validated: see [`Weights::from_bytes`]).
    pub fn from_bytes(blob: &[u8]) -> Result<Classifier, WeightsError> {
        Weights::from_bytes(blob).map(Classifier::new)
    }

    pub fn new(weights: Weights) -> Classifier {
        let transpose = |w: &[f32], outputs: usize| -> Vec<f32> {
            let inputs = w.len() / outputs.max(1);
            let mut t = vec![0.0f32; w.len()];
            for o in 0..outputs {
                for i in 0..inputs {
                    t[i * outputs + o] = w[o * inputs + i];
                }
            }
            t
        };
        let dense1_t = transpose(&weights.dense1_w, weights.shape.hidden);
        let dense2_t = transpose(&weights.dense2_w, NUM_CLASSES);
        Classifier {
            weights,
            dense1_t,
            dense2_t,
        }
    }

    pub fn weights(&self) -> &Weights {
        &self.weights
    }

    /// Probabilities per network class (index = [`Glyph::class`]), summing to 1.
    pub fn classify(&self, input: &Input) -> [f32; NUM_CLASSES] {
        let w = &self.weights;
        let Shape { c1, c2, .. } = w.shape;
        let conv1 = layers::conv_relu(input, 1, INPUT_SIDE, &w.conv1_w, &w.conv1_b, KERNEL);
        let (pool1, _) = layers::max_pool2(&conv1, c1, Shape::SIDE1);
        let conv2 = layers::conv_relu(&pool1, c1, Shape::POOL1, &w.conv2_w, &w.conv2_b, KERNEL);
        let (pool2, _) = layers::max_pool2(&conv2, c2, Shape::SIDE2);
        let mut hidden = dense_transposed(&pool2, &self.dense1_t, &w.dense1_b);
        for h in hidden.iter_mut() {
            *h = h.max(0.0);
        }
        let logits = dense_transposed(&hidden, &self.dense2_t, &w.dense2_b);
        layers::softmax::<NUM_CLASSES>(&logits)
    }

    /// [`normalize`] then [`Classifier::classify`].
    pub fn classify_bitmap(&self, bitmap: &GrayBitmap) -> [f32; NUM_CLASSES] {
        self.classify(&normalize(bitmap))
    }

    /// The most probable glyph and its probability.
    pub fn best(&self, input: &Input) -> (Glyph, f32) {
        best_class(&self.classify(input))
    }
}

/// [`layers::dense`] with `[in][out]` weights: each output accumulates its products in input
/// order from -0.0 as `Iterator::sum` does; inputs that are zero (most, after ReLU and pooling)
/// add only a signed zero and are skipped.
fn dense_transposed(input: &[f32], weights_t: &[f32], bias: &[f32]) -> Vec<f32> {
    let outputs = bias.len();
    let mut acc = vec![-0.0f32; outputs];
    for (&x, row) in input.iter().zip(weights_t.chunks_exact(outputs)) {
        if x == 0.0 {
            continue;
        }
        for (a, w) in acc.iter_mut().zip(row) {
            *a += w * x;
        }
    }
    for (a, b) in acc.iter_mut().zip(bias) {
        *a += b;
    }
    acc
}

/// The most probable class of a probability vector, as a glyph (`Dot` for the dot class).
pub fn best_class(probabilities: &[f32; NUM_CLASSES]) -> (Glyph, f32) {
    let (class, p) =
        probabilities.iter().enumerate().fold(
            (0, f32::NEG_INFINITY),
            |best, (i, &p)| if p > best.1 { (i, p) } else { best },
        );
    // class < NUM_CLASSES, so from_class succeeds; Digit0 is a harmless fallback.
    (Glyph::from_class(class).unwrap_or(Glyph::Digit0), p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn centre_of_mass(input: &Input) -> (f32, f32) {
        let (mut m, mut x, mut y) = (0.0, 0.0, 0.0);
        for (i, v) in input.iter().enumerate() {
            m += v;
            x += v * ((i % INPUT_SIDE) as f32 + 0.5);
            y += v * ((i / INPUT_SIDE) as f32 + 0.5);
        }
        (x / m, y / m)
    }

    /// The box of pixels with ink above `t` in an input.
    fn extent(input: &Input, t: f32) -> (usize, usize) {
        let (mut x0, mut x1, mut y0, mut y1) = (usize::MAX, 0, usize::MAX, 0);
        for (i, &v) in input.iter().enumerate() {
            if v > t {
                let (x, y) = (i % INPUT_SIDE, i / INPUT_SIDE);
                x0 = x0.min(x);
                x1 = x1.max(x + 1);
                y0 = y0.min(y);
                y1 = y1.max(y + 1);
            }
        }
        (x1 - x0, y1 - y0)
    }

    #[test]
    fn a_large_square_is_scaled_to_twenty_pixels_and_centred() {
        // A 100×100 filled square in the corner of a 300×200 bitmap.
        let b = GrayBitmap::from_fn(300, 200, |x, y| {
            if (10..110).contains(&x) && (50..150).contains(&y) {
                255
            } else {
                0
            }
        });
        let input = normalize(&b);
        let (cx, cy) = centre_of_mass(&input);
        assert!((cx - 14.0).abs() < 0.01 && (cy - 14.0).abs() < 0.01, "{cx} {cy}");
        assert_eq!(extent(&input, 0.5), (20, 20));
        assert!(
            (input.iter().sum::<f32>() - 400.0).abs() < 0.5,
            "area is kept: 20×20 of full ink"
        );
    }

    #[test]
    fn a_bar_keeps_its_aspect_and_a_stroke_its_thinness() {
        // A `-`: 60×6, becomes 20×2.
        let bar = GrayBitmap::from_fn(60, 6, |_, _| 255);
        let input = normalize(&bar);
        assert_eq!(extent(&input, 0.5), (20, 2));
        let (cx, cy) = centre_of_mass(&input);
        assert!((cx - 14.0).abs() < 0.01 && (cy - 14.0).abs() < 0.01);
        // A `1`: 4×40 becomes 2×20.
        let one = GrayBitmap::from_fn(4, 40, |_, _| 255);
        assert_eq!(extent(&normalize(&one), 0.5), (2, 20));
    }

    #[test]
    fn a_tiny_dot_is_enlarged_and_off_centre_mass_is_centred() {
        // A 3×3 dot scales up to 20×20.
        let dot = GrayBitmap::from_fn(3, 3, |_, _| 200);
        let input = normalize(&dot);
        assert_eq!(extent(&input, 0.1), (20, 20));
        assert!(input.iter().all(|&v| v <= 200.0 / 255.0 + 1e-5));
        // An L whose mass is low-left: the mass, not the box, is centred.
        let l = GrayBitmap::from_fn(20, 20, |x, y| if x < 4 || y >= 16 { 255 } else { 0 });
        let input = normalize(&l);
        let (cx, cy) = centre_of_mass(&input);
        assert!((cx - 14.0).abs() < 0.05 && (cy - 14.0).abs() < 0.05, "{cx} {cy}");
        assert!(normalize(&GrayBitmap::blank(5, 5)).iter().all(|&v| v == 0.0));
    }

    #[test]
    fn builtin_weights_load() {
        let weights = Weights::from_bytes(BUILTIN_WEIGHTS).expect("committed weights are valid");
        assert!(BUILTIN_WEIGHTS.len() < 1 << 20, "keep the weights well under 1 MiB");
        assert_eq!(weights.to_bytes(), BUILTIN_WEIGHTS, "round trip");
        let classifier = Classifier::builtin();
        let p = classifier.classify(&[0.0; INPUT_LEN]);
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-4);
        // The inference path (transposed dense layers) gives the training forward's numbers.
        let bar = normalize(&GrayBitmap::from_fn(30, 5, |_, _| 255));
        let ring = normalize(&GrayBitmap::from_fn(20, 30, |x, y| {
            let d = ((x as f32 - 10.0).powi(2) / 100.0 + (y as f32 - 15.0).powi(2) / 225.0).sqrt();
            if (0.7..1.0).contains(&d) { 255 } else { 0 }
        }));
        for input in [[0.0; INPUT_LEN], [1.0; INPUT_LEN], bar, ring] {
            assert_eq!(classifier.classify(&input), weights.forward(&input).probabilities);
        }
    }

    #[test]
    fn a_corrupt_blob_is_refused() {
        let good = BUILTIN_WEIGHTS.to_vec();
        let mut flipped = good.clone();
        flipped[HEADER_LEN + 1000] ^= 0x40;
        assert_eq!(Weights::from_bytes(&flipped), Err(WeightsError::Checksum));
        let truncated = &good[..good.len() - 4];
        assert!(matches!(
            Weights::from_bytes(truncated),
            Err(WeightsError::Length { .. })
        ));
        let mut magic = good.clone();
        magic[0] = b'X';
        assert_eq!(Weights::from_bytes(&magic), Err(WeightsError::BadMagic));
        let mut version = good.clone();
        version[8] = 9;
        assert_eq!(Weights::from_bytes(&version), Err(WeightsError::UnsupportedVersion(9)));
        let mut classes = good.clone();
        classes[8 + 4 * 6] = 5;
        assert_eq!(
            Weights::from_bytes(&classes),
            Err(WeightsError::ClassCount { found: 5 })
        );
        let mut huge = good.clone();
        huge[8 + 4 * 5..8 + 4 * 6].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(Weights::from_bytes(&huge), Err(WeightsError::BadShape { .. })));
        assert_eq!(Weights::from_bytes(&[]), Err(WeightsError::BadMagic));
        // A NaN with a matching checksum is still refused.
        let mut weights = Weights::from_bytes(&good).expect("valid");
        weights.conv1_b[0] = f32::NAN;
        assert_eq!(Weights::from_bytes(&weights.to_bytes()), Err(WeightsError::NotFinite));
    }
}
