//! From a decoded photo to an upright ink mask: downscale, adaptive threshold, deskew.
//!
//! * **Downscale first.** A 12 MP phone photo of a few lines of arithmetic has glyphs hundreds of
//!   pixels tall; the classifier looks at 28×28. Averaging boxes down to [`WORK_LONG_SIDE`] pixels on
//!   the long side keeps glyphs large enough for their strokes to survive and makes every later
//!   stage cost milliseconds (the latency target is < 150 ms a photo).
//! * **Sauvola threshold** from integral images of the values and their squares: a pixel is ink
//!   when it is darker than `m · (1 + k · (s/R − 1))` over a window around it. Local, so shadows
//!   and uneven lighting across a photo do not matter; the `s` term keeps flat paper (low local
//!   deviation) from turning noise into ink.
//! * **Deskew** by a projection-profile search: the angle at which the rows of ink are most
//!   peaked (sum of squared row counts) is the angle of the lines. The mask is then rotated by
//!   a per-column vertical shift (see [`rotate`]), so everything after works on horizontal lines.

use image::GrayImage;

/// The long side of the working image, in pixels (photos are never scaled up).
pub const WORK_LONG_SIDE: usize = 1600;

/// A binary image, row-major, 1 = ink.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mask {
    pub width: usize,
    pub height: usize,
    pub ink: Vec<u8>,
}

impl Mask {
    pub fn new(width: usize, height: usize) -> Mask {
        Mask {
            width,
            height,
            ink: vec![0; width * height],
        }
    }

    pub fn get(&self, x: usize, y: usize) -> bool {
        x < self.width && y < self.height && self.ink[y * self.width + x] != 0
    }

    pub fn set(&mut self, x: usize, y: usize, ink: bool) {
        if x < self.width && y < self.height {
            self.ink[y * self.width + x] = u8::from(ink);
        }
    }
}

/// The grayscale working image (paper high, as photographed) and the factor it was reduced by.
#[derive(Debug, Clone)]
pub struct Work {
    pub width: usize,
    pub height: usize,
    pub gray: Vec<u8>,
    pub factor: usize,
}

/// Box-averages `img` by the smallest integer factor that brings its long side to at most
/// `long_side`. Integer factors keep it a single pass with no interpolation.
pub fn downscale(img: &GrayImage, long_side: usize) -> Work {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let long = w.max(h);
    let factor = long.div_ceil(long_side.max(1)).max(1);
    let src = img.as_raw();
    if factor == 1 {
        return Work {
            width: w,
            height: h,
            gray: src.clone(),
            factor,
        };
    }
    let (nw, nh) = ((w / factor).max(1), (h / factor).max(1));
    // Column sums over a band of `factor` rows, then sums of `factor` columns: every source
    // pixel is added once, in row order (cache friendly).
    let mut cols = vec![0u32; w];
    let mut gray = Vec::with_capacity(nw * nh);
    let n = (factor * factor) as u32;
    for by in 0..nh {
        cols.iter_mut().for_each(|s| *s = 0);
        for y in by * factor..((by + 1) * factor).min(h) {
            for (c, &v) in cols.iter_mut().zip(&src[y * w..(y + 1) * w]) {
                *c += u32::from(v);
            }
        }
        gray.extend(
            cols.chunks_exact(factor)
                .take(nw)
                .map(|c| (c.iter().sum::<u32>() / n) as u8),
        );
    }
    Work {
        width: nw,
        height: nh,
        gray,
        factor,
    }
}

/// Sauvola's threshold with a `window`-pixel square window, `k` = 0.25, R = 128. Additionally
/// a pixel must be at least 12 grey levels darker than its window's mean: on clean paper `s` is
/// tiny and JPEG ringing or sensor noise would otherwise pass.
///
/// The window statistics are computed per 4×4 block (sums of values and of squares, so the
/// deviation still sees fine strokes) from an integral image of blocks, and each pixel is
/// compared with its block's threshold: the window is tens of pixels wide, so a threshold that
/// changes every 4 pixels is as local as one that changes every pixel, at a sixteenth of the cost.
pub fn sauvola(work: &Work, window: usize) -> Mask {
    const B: usize = 4;
    const K: f64 = 0.25;
    const R: f64 = 128.0;
    let (w, h) = (work.width, work.height);
    let mut mask = Mask::new(w, h);
    if w == 0 || h == 0 {
        return mask;
    }
    let (bw, bh) = (w.div_ceil(B), h.div_ceil(B));
    let mut bsum = vec![0u64; bw * bh];
    let mut bsq = vec![0u64; bw * bh];
    let mut bcount = vec![0u64; bw * bh];
    for y in 0..h {
        let row = &work.gray[y * w..(y + 1) * w];
        let base = (y / B) * bw;
        for (x, &v) in row.iter().enumerate() {
            let v = u64::from(v);
            let i = base + x / B;
            bsum[i] += v;
            bsq[i] += v * v;
            bcount[i] += 1;
        }
    }
    // Integral images over blocks, with a zero row and column in front.
    let iw = bw + 1;
    let integral = |t: &[u64]| {
        let mut out = vec![0u64; iw * (bh + 1)];
        for y in 0..bh {
            let mut run = 0u64;
            for x in 0..bw {
                run += t[y * bw + x];
                out[(y + 1) * iw + x + 1] = out[y * iw + x + 1] + run;
            }
        }
        out
    };
    let (isum, isq, icount) = (integral(&bsum), integral(&bsq), integral(&bcount));
    let r = (window / 2).div_ceil(B).max(1);
    // Per block: (mean, threshold), both already folded into one cut-off: ink iff v < cut.
    let mut cut = vec![0f64; bw * bh];
    for by in 0..bh {
        let (y0, y1) = (by.saturating_sub(r), (by + r + 1).min(bh));
        for bx in 0..bw {
            let (x0, x1) = (bx.saturating_sub(r), (bx + r + 1).min(bw));
            let rect = |t: &[u64]| t[y1 * iw + x1] + t[y0 * iw + x0] - t[y0 * iw + x1] - t[y1 * iw + x0];
            let n = rect(&icount).max(1) as f64;
            let m = rect(&isum) as f64 / n;
            let var = (rect(&isq) as f64 / n - m * m).max(0.0);
            let t = m * (1.0 + K * (var.sqrt() / R - 1.0));
            cut[by * bw + bx] = t.min(m - 12.0);
        }
    }
    for y in 0..h {
        let crow = &cut[(y / B) * bw..(y / B + 1) * bw];
        for x in 0..w {
            if f64::from(work.gray[y * w + x]) < crow[x / B] {
                mask.ink[y * w + x] = 1;
            }
        }
    }
    mask
}

/// The skew of the lines, in radians (positive: lines rise to the right in image coordinates,
/// i.e. y decreases with x), searched in [-`max_deg`, `max_deg`].
pub fn estimate_skew(mask: &Mask, max_deg: f64) -> f64 {
    // Ink pixel coordinates, subsampled to at most ~60k so the search costs the same on any page.
    let total: usize = mask.ink.iter().map(|&v| usize::from(v)).sum();
    if total < 50 {
        return 0.0;
    }
    let stride = total.div_ceil(60_000).max(1);
    let mut pts: Vec<(f64, f64)> = Vec::with_capacity(total / stride + 1);
    let mut seen = 0usize;
    for y in 0..mask.height {
        for x in 0..mask.width {
            if mask.ink[y * mask.width + x] != 0 {
                if seen.is_multiple_of(stride) {
                    pts.push((x as f64, y as f64));
                }
                seen += 1;
            }
        }
    }
    let cx = mask.width as f64 / 2.0;
    let span = mask.height + mask.width;
    let mut bins = vec![0u32; span * 2 + 2];
    let mut score = |angle: f64| -> f64 {
        bins.iter_mut().for_each(|b| *b = 0);
        let t = angle.tan();
        for &(x, y) in &pts {
            // Row of the point once the page is turned by `angle`: y + (x - cx)·tan.
            let yy = y + (x - cx) * t + span as f64;
            if yy >= 0.0 && (yy as usize) < bins.len() {
                bins[yy as usize] += 1;
            }
        }
        bins.iter().map(|&b| f64::from(b) * f64::from(b)).sum()
    };
    let mut best = (score(0.0), 0.0);
    let coarse = 0.5f64;
    let steps = (max_deg / coarse).round() as i32;
    for i in -steps..=steps {
        let a = (f64::from(i) * coarse).to_radians();
        let s = score(a);
        // Strictly better only: ties keep the smaller rotation.
        if s > best.0 * 1.0001 {
            best = (s, a);
        }
    }
    let centre = best.1;
    for i in -4..=4 {
        let a = centre + (f64::from(i) * 0.1).to_radians();
        let s = score(a);
        if s > best.0 * 1.0001 {
            best = (s, a);
        }
    }
    best.1
}

/// The mask with its lines made horizontal: every column shifted vertically by
/// `(x - cx)·tan(angle)`, the inverse of the tilt [`estimate_skew`] measured. For the few degrees
/// a photo is tilted a vertical shear is a rotation to within a glyph's own slant (cos 5° =
/// 0.996), and as a whole-pixel shift per column it moves every ink pixel once, leaving no holes
/// and costing one pass.
pub fn rotate(mask: &Mask, angle: f64) -> Mask {
    Mask {
        width: mask.width,
        height: mask.height,
        ink: shear(&mask.ink, mask.width, mask.height, angle, 0),
    }
}

/// The per-column shift of [`rotate`] on any row-major plane, `fill` where nothing lands.
fn shear(plane: &[u8], w: usize, h: usize, angle: f64, fill: u8) -> Vec<u8> {
    let mut out = vec![fill; w * h];
    let t = angle.tan();
    let cx = w as f64 / 2.0;
    let shifts: Vec<isize> = (0..w).map(|x| ((x as f64 - cx) * t).round() as isize).collect();
    for y in 0..h {
        for (x, &shift) in shifts.iter().enumerate() {
            let v = plane[y * w + x];
            if v != fill {
                let ny = y as isize + shift;
                if ny >= 0 && (ny as usize) < h {
                    out[ny as usize * w + x] = v;
                }
            }
        }
    }
    out
}

/// What the preprocessing hands on: the upright ink mask, the working grayscale image turned the
/// same way (glyphs are given to the classifier with their grey levels, as MNIST digits are
/// anti-aliased, not as hard masks), and the skew that was undone.
#[derive(Debug, Clone)]
pub struct Page {
    pub mask: Mask,
    pub gray: Vec<u8>,
    pub angle: f64,
}

/// The whole stage: downscale, threshold, deskew.
pub fn preprocess(img: &GrayImage) -> Page {
    let work = downscale(img, WORK_LONG_SIDE);
    let long = work.width.max(work.height);
    let window = ((long / 25).max(21)) | 1;
    let mask = sauvola(&work, window);
    let angle = estimate_skew(&mask, 6.0);
    if angle.abs() < 0.3f64.to_radians() {
        Page {
            mask,
            gray: work.gray,
            angle,
        }
    } else {
        // Paper where the shear uncovers nothing: 255 is never ink.
        let gray = shear(&work.gray, work.width, work.height, angle, 255);
        Page {
            mask: rotate(&mask, angle),
            gray,
            angle,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(w: u32, h: u32, mut ink: impl FnMut(u32, u32) -> bool) -> GrayImage {
        GrayImage::from_fn(w, h, |x, y| image::Luma([if ink(x, y) { 40 } else { 215 }]))
    }

    #[test]
    fn downscale_averages_boxes() {
        let img = page(3200, 100, |x, _| x < 1600);
        let work = downscale(&img, 1600);
        assert_eq!((work.width, work.height, work.factor), (1600, 50, 2));
        assert_eq!(work.gray[0], 40);
        assert_eq!(work.gray[1599], 215);
    }

    #[test]
    fn sauvola_finds_dark_strokes_under_a_shadow() {
        // A bar on paper that darkens from left to right: the bar is found all along, the
        // shadowed paper is not ink.
        let img = GrayImage::from_fn(400, 100, |x, y| {
            let paper = 230 - (x / 4) as u8; // 230 .. 130
            image::Luma([if (45..55).contains(&y) { paper / 3 } else { paper }])
        });
        let mask = sauvola(&downscale(&img, 1600), 31);
        for x in (10..390).step_by(20) {
            assert!(mask.get(x, 50), "bar missing at x={x}");
            assert!(!mask.get(x, 10) && !mask.get(x, 90), "paper taken for ink at x={x}");
        }
    }

    #[test]
    fn skew_is_found_and_undone() {
        // Three horizontal bars rotated by 3 degrees.
        let a = 3f64.to_radians();
        let img = page(600, 300, |x, y| {
            let (xf, yf) = (x as f64 - 300.0, y as f64 - 150.0);
            let yr = yf * a.cos() + xf * a.sin(); // the unrotated row
            let xr = xf * a.cos() - yf * a.sin();
            xr.abs() < 250.0 && [-80.0, 0.0, 80.0].iter().any(|&c| (yr - c).abs() < 4.0)
        });
        let page = preprocess(&img);
        let (mask, angle) = (page.mask, page.angle);
        assert!(
            (angle.to_degrees().abs() - 3.0).abs() < 0.35,
            "angle {}",
            angle.to_degrees()
        );
        // After rotation the middle bar is one row band: the row through it is nearly all ink.
        let row: usize = (100..500).filter(|&x| mask.get(x, 150)).count();
        assert!(row > 360, "row ink {row}");
    }
}
