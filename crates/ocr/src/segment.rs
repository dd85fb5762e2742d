//! From an upright ink mask to lines of glyphs.
//!
//! * **Connected components**, 8-connected (a pen stroke drawn diagonally touches only at
//!   corners), by two-pass labelling with union-find: no recursion, memory linear in the image.
//! * **Noise**: components far smaller than the page's typical glyph (a speck, JPEG dirt), and
//!   components far larger (a shadow, the page edge) are dropped.
//! * **Lines** from the horizontal projection of what is left: runs of inked rows separated by
//!   empty rows. Each component joins the line its vertical centre falls in, so a line whose
//!   baseline wobbles is one line as long as it does not touch the next one.
//! * **Glyphs**: within a line, components stacked one above the other — the bars of `=`, the
//!   bar and dots of `÷`, the dots of `:` (also offset sideways by a slanted hand), the slash and
//!   circles of `%`, a `5`'s detached flag — are merged into one glyph by geometry before
//!   anything is classified (the classifier was trained on whole symbols). Side-by-side
//!   components are not merged here.

use crate::glyphs::GrayBitmap;
use crate::preprocess::Mask;

/// An axis-aligned box, exclusive ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Rect {
    pub x0: usize,
    pub y0: usize,
    pub x1: usize,
    pub y1: usize,
}

impl Rect {
    pub fn width(&self) -> usize {
        self.x1 - self.x0
    }
    pub fn height(&self) -> usize {
        self.y1 - self.y0
    }
    pub fn union(&self, o: &Rect) -> Rect {
        Rect {
            x0: self.x0.min(o.x0),
            y0: self.y0.min(o.y0),
            x1: self.x1.max(o.x1),
            y1: self.y1.max(o.y1),
        }
    }
    fn x_overlap(&self, o: &Rect) -> usize {
        self.x1.min(o.x1).saturating_sub(self.x0.max(o.x0))
    }
    fn y_overlap(&self, o: &Rect) -> usize {
        self.y1.min(o.y1).saturating_sub(self.y0.max(o.y0))
    }
    pub fn cy(&self) -> f64 {
        (self.y0 + self.y1) as f64 / 2.0
    }
}

/// One connected component: its label in [`Labels`], box and pixel count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Component {
    pub label: u32,
    pub rect: Rect,
    pub area: usize,
}

/// The label of every pixel (0 = paper) and the components.
#[derive(Debug, Clone)]
pub struct Labels {
    pub width: usize,
    pub height: usize,
    pub labels: Vec<u32>,
    pub components: Vec<Component>,
}

fn find(parent: &mut [u32], mut x: u32) -> u32 {
    // Iterative, with path halving.
    while parent[x as usize] != x {
        let p = parent[parent[x as usize] as usize];
        parent[x as usize] = p;
        x = p;
    }
    x
}

/// 8-connected components by two passes: provisional labels with equivalences recorded in a
/// union-find, then every pixel relabelled to a dense final label (1..=n, in raster order of
/// first appearance).
pub fn components(mask: &Mask) -> Labels {
    let (w, h) = (mask.width, mask.height);
    let mut labels = vec![0u32; w * h];
    let mut parent: Vec<u32> = vec![0];
    for y in 0..h {
        for x in 0..w {
            if mask.ink[y * w + x] == 0 {
                continue;
            }
            // Already-labelled neighbours: W, NW, N, NE.
            let mut best = 0u32;
            let mut neigh = [0u32; 4];
            if x > 0 {
                neigh[0] = labels[y * w + x - 1];
            }
            if y > 0 {
                let up = (y - 1) * w;
                if x > 0 {
                    neigh[1] = labels[up + x - 1];
                }
                neigh[2] = labels[up + x];
                if x + 1 < w {
                    neigh[3] = labels[up + x + 1];
                }
            }
            for &n in &neigh {
                if n != 0 {
                    let r = find(&mut parent, n);
                    if best == 0 || r < best {
                        best = r;
                    }
                }
            }
            if best == 0 {
                best = parent.len() as u32;
                parent.push(best);
            } else {
                for &n in &neigh {
                    if n != 0 {
                        let r = find(&mut parent, n);
                        if r != best {
                            parent[r as usize] = best;
                        }
                    }
                }
            }
            labels[y * w + x] = best;
        }
    }
    // Dense final labels.
    let mut dense = vec![0u32; parent.len()];
    let mut components: Vec<Component> = Vec::new();
    for (i, slot) in labels.iter_mut().enumerate() {
        let l = *slot;
        if l == 0 {
            continue;
        }
        let r = find(&mut parent, l) as usize;
        if dense[r] == 0 {
            components.push(Component {
                label: components.len() as u32 + 1,
                rect: Rect {
                    x0: usize::MAX,
                    y0: usize::MAX,
                    x1: 0,
                    y1: 0,
                },
                area: 0,
            });
            dense[r] = components.len() as u32;
        }
        let d = dense[r];
        *slot = d;
        let (x, y) = (i % w, i / w);
        let c = &mut components[d as usize - 1];
        c.area += 1;
        c.rect.x0 = c.rect.x0.min(x);
        c.rect.y0 = c.rect.y0.min(y);
        c.rect.x1 = c.rect.x1.max(x + 1);
        c.rect.y1 = c.rect.y1.max(y + 1);
    }
    Labels {
        width: w,
        height: h,
        labels,
        components,
    }
}

/// A glyph: one or more components merged, its box and its ink as a bitmap (ink high) for the
/// classifier.
#[derive(Debug, Clone)]
pub struct GlyphBox {
    pub rect: Rect,
    pub labels: Vec<u32>,
    pub area: usize,
}

impl GlyphBox {
    /// This glyph and another as one (their components together).
    pub fn merged_with(&self, other: &GlyphBox) -> GlyphBox {
        let mut labels = self.labels.clone();
        labels.extend_from_slice(&other.labels);
        GlyphBox {
            rect: self.rect.union(&other.rect),
            labels,
            area: self.area + other.area,
        }
    }
}

/// A line: its glyphs left to right and its vertical extent.
#[derive(Debug, Clone)]
pub struct Line {
    pub top: usize,
    pub bottom: usize,
    pub glyphs: Vec<GlyphBox>,
}

/// Segmentation tuning; the defaults are what the evaluation was measured with.
#[derive(Debug, Clone, Copy)]
pub struct SegmentParams {
    /// Components whose longer side is under this fraction of the typical glyph height are noise.
    pub min_side: f64,
    /// Components taller than this many typical glyph heights are not writing.
    pub max_height: f64,
}

impl Default for SegmentParams {
    fn default() -> Self {
        SegmentParams {
            min_side: 0.04,
            max_height: 5.0,
        }
    }
}

/// The typical glyph height: the median height of components that are not specks (at least 6
/// pixels tall), weighting none by size so that many small operators do not drag it far.
fn typical_height(comps: &[Component]) -> f64 {
    let mut hs: Vec<usize> = comps.iter().map(|c| c.rect.height()).filter(|&h| h >= 6).collect();
    if hs.is_empty() {
        return 0.0;
    }
    hs.sort_unstable();
    // The upper half's median: digits are the tall majority; bars and dots are the short rest.
    hs[hs.len() * 3 / 4] as f64
}

/// Lines of glyphs, top to bottom, at most `max_lines` (the first ones).
pub fn segment(mask: &Mask, params: &SegmentParams, max_lines: usize) -> (Labels, Vec<Line>) {
    let labels = components(mask);
    let th = typical_height(&labels.components);
    if th <= 0.0 {
        return (labels, Vec::new());
    }
    let keep: Vec<&Component> = labels
        .components
        .iter()
        .filter(|c| {
            let side = c.rect.width().max(c.rect.height()) as f64;
            side >= (params.min_side * th).max(2.0) && (c.rect.height() as f64) <= params.max_height * th
        })
        .collect();
    // Row profile from the kept components' boxes, weighted by their ink per row (area spread
    // evenly over the box's rows: exact enough to find empty rows, no second pass over pixels).
    let mut profile = vec![0f64; mask.height + 1];
    for c in &keep {
        let per_row = c.area as f64 / c.rect.height() as f64;
        for p in &mut profile[c.rect.y0..c.rect.y1] {
            *p += per_row;
        }
    }
    let mut bands: Vec<(usize, usize)> = Vec::new();
    let mut start = None;
    for (y, &p) in profile.iter().enumerate() {
        match (start, p > 0.0) {
            (None, true) => start = Some(y),
            (Some(s), false) => {
                bands.push((s, y));
                start = None;
            }
            _ => {}
        }
    }
    // Bands thinner than a third of a glyph next to a line are its stray parts (a `÷`'s dot
    // separated by an empty row, an accent): glued to the nearer band if close enough.
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for b in bands {
        merged.push(b);
        while merged.len() >= 2 {
            let n = merged.len();
            let (a, c) = (merged[n - 2], merged[n - 1]);
            let gap = c.0 - a.1;
            let thin = |x: (usize, usize)| ((x.1 - x.0) as f64) < 0.45 * th;
            if (thin(a) || thin(c)) && (gap as f64) < 0.35 * th {
                merged[n - 2] = (a.0, c.1);
                merged.pop();
            } else {
                break;
            }
        }
    }
    let bands: Vec<(usize, usize)> = merged
        .into_iter()
        .filter(|b| ((b.1 - b.0) as f64) >= 0.3 * th)
        .collect();
    let mut per_band: Vec<Vec<&Component>> = vec![Vec::new(); bands.len()];
    for c in &keep {
        let cy = c.rect.cy();
        // The band holding the centre, or the nearest one.
        let mut best = None;
        let mut best_d = f64::INFINITY;
        for (i, b) in bands.iter().enumerate() {
            let d = if cy < b.0 as f64 {
                b.0 as f64 - cy
            } else if cy > b.1 as f64 {
                cy - b.1 as f64
            } else {
                0.0
            };
            if d < best_d {
                best_d = d;
                best = Some(i);
            }
        }
        if let Some(i) = best {
            per_band[i].push(c);
        }
    }
    let mut lines = Vec::new();
    for (b, comps) in bands.iter().zip(per_band) {
        if comps.is_empty() {
            continue;
        }
        if lines.len() >= max_lines {
            break;
        }
        lines.push(Line {
            top: b.0,
            bottom: b.1,
            glyphs: merge_stacked(comps, th),
        });
    }
    (labels, lines)
}

/// Merges components stacked one above the other into glyphs, left to right.
fn merge_stacked(mut comps: Vec<&Component>, th: f64) -> Vec<GlyphBox> {
    comps.sort_by_key(|c| (c.rect.x0, c.rect.y0));
    let mut glyphs: Vec<GlyphBox> = Vec::new();
    for c in comps {
        // Compare with the last few glyphs (a dot of `÷` may come after the bar's x0 but the
        // glyph before it may start earlier still).
        let mut target = None;
        for (i, g) in glyphs.iter().enumerate().rev().take(3) {
            if stacked(&g.rect, &c.rect) || flag(&g.rect, &c.rect) || slanted_dots(&g.rect, &c.rect, th) {
                target = Some(i);
                break;
            }
        }
        match target {
            Some(i) => {
                let g = &mut glyphs[i];
                g.rect = g.rect.union(&c.rect);
                g.labels.push(c.label);
                g.area += c.area;
            }
            None => glyphs.push(GlyphBox {
                rect: c.rect,
                labels: vec![c.label],
                area: c.area,
            }),
        }
    }
    glyphs.sort_by_key(|g| g.rect.x0);
    glyphs
}

/// Whether two parts belong to one glyph: they share most of the narrower one's columns, and
/// either they are one above the other (little shared rows: `=`, `÷`, `:`) or the smaller lies
/// within the larger's columns (`%`'s circles beside its slash, a detached flag).
fn stacked(a: &Rect, b: &Rect) -> bool {
    let minw = a.width().min(b.width()).max(1);
    let ox = a.x_overlap(b);
    if (ox as f64) < 0.5 * minw as f64 {
        return false;
    }
    let minh = a.height().min(b.height()).max(1);
    let oy = a.y_overlap(b);
    if (oy as f64) <= 0.25 * minh as f64 {
        return true;
    }
    let (small, large) = if a.width() * a.height() <= b.width() * b.height() {
        (a, b)
    } else {
        (b, a)
    };
    (small.x_overlap(large) as f64) >= 0.8 * small.width() as f64 && small.height() * 10 <= large.height() * 6
}

/// The two dots of a `:` written in a slanted hand: the upper dot sits to the right of the lower
/// one by the slant times their distance, so their columns may not overlap at all. Both must be
/// small and blob-like (not a bar of `=`, not a digit), one clearly above the other, and offset
/// sideways by no more than a steep italic slant (0.45) of their vertical distance plus a dot's
/// width.
fn slanted_dots(a: &Rect, b: &Rect, th: f64) -> bool {
    let dot = |r: &Rect| {
        let (w, h) = (r.width() as f64, r.height() as f64);
        w.max(h) <= 0.35 * th && w <= 2.0 * h + 2.0 && h <= 2.0 * w + 2.0
    };
    if !dot(a) || !dot(b) || a.y_overlap(b) > 0 {
        return false;
    }
    let (upper, lower) = if a.y0 <= b.y0 { (a, b) } else { (b, a) };
    let dy = lower.cy() - upper.cy();
    let gap = lower.y0 as f64 - upper.y1 as f64;
    let cx = |r: &Rect| (r.x0 + r.x1) as f64 / 2.0;
    let dx = (cx(upper) - cx(lower)).abs();
    let wmax = upper.width().max(lower.width()) as f64;
    gap <= 0.7 * th && dy >= 0.15 * th && dx <= 0.45 * dy + 0.5 * wmax
}

/// A detached flag: a short stroke touching the top of a taller glyph from its right, as the
/// flag of a `5` written in two strokes. Only the top 30% of the glyph: an `=`'s upper bar next
/// to a digit sits lower.
fn flag(a: &Rect, b: &Rect) -> bool {
    let (small, large) = if a.height() <= b.height() { (a, b) } else { (b, a) };
    let lh = large.height() as f64;
    (small.height() as f64) <= 0.4 * lh
        && (small.y1 as f64) <= large.y0 as f64 + 0.3 * lh
        && small.x0 < large.x1
        && small.x1 > large.x1
        && small.x_overlap(large) >= 1
}

/// The glyph's ink as a bitmap for [`crate::classifier::normalize`], cropped to its box (one
/// pixel of margin). Pixels of the glyph's components and their immediate neighbours that belong
/// to no other component carry the grey level stretched between the glyph's paper and its
/// darkest ink (anti-aliased edges, as in MNIST); everything else — paper, and other glyphs
/// reaching into the box — is blank.
pub fn glyph_bitmap(labels: &Labels, gray: &[u8], glyph: &GlyphBox) -> GrayBitmap {
    let r = glyph.rect;
    let (w, h) = (labels.width, labels.height);
    let (x0, y0) = (r.x0.saturating_sub(1), r.y0.saturating_sub(1));
    let (x1, y1) = ((r.x1 + 1).min(w), (r.y1 + 1).min(h));
    let mine = |x: usize, y: usize| {
        let l = labels.labels[y * w + x];
        l != 0 && glyph.labels.contains(&l)
    };
    let member = |x: usize, y: usize| -> bool {
        if mine(x, y) {
            return true;
        }
        if labels.labels[y * w + x] != 0 {
            return false;
        }
        let (ax, ay) = (x.saturating_sub(1), y.saturating_sub(1));
        (ay..(y + 2).min(h)).any(|yy| (ax..(x + 2).min(w)).any(|xx| mine(xx, yy)))
    };
    // Paper: the brightest grey in the box; ink: the darkest among the glyph's own pixels.
    let (mut paper, mut ink) = (0u8, 255u8);
    for y in y0..y1 {
        for x in x0..x1 {
            let v = gray.get(y * w + x).copied().unwrap_or(255);
            paper = paper.max(v);
            if mine(x, y) {
                ink = ink.min(v);
            }
        }
    }
    let range = f32::from(paper.saturating_sub(ink)).max(1.0);
    GrayBitmap::from_fn(x1 - x0, y1 - y0, |dx, dy| {
        let (x, y) = (x0 + dx, y0 + dy);
        if !member(x, y) {
            return 0;
        }
        let v = gray.get(y * w + x).copied().unwrap_or(255);
        let level = (f32::from(paper.saturating_sub(v)) / range * 255.0).clamp(0.0, 255.0) as u8;
        // Thresholded pixels are ink for certain, however light the scan made them.
        if mine(x, y) { level.max(128) } else { level }
    })
}

/// How far a glyph's ink leans right per unit of height going up: the slope of the regression of
/// x on y over the ink (weighted by its grey level), which for a single stroke is its principal
/// axis. About 0 for an upright `1`, about 1 for a `/` at 45°; negative for a `\`. 0 for blank
/// or flat ink (no vertical extent to lean over).
pub fn lean(bitmap: &GrayBitmap) -> f64 {
    let (mut m, mut sx, mut sy) = (0.0f64, 0.0f64, 0.0f64);
    for y in 0..bitmap.height() {
        for x in 0..bitmap.width() {
            let v = f64::from(bitmap.get(x, y));
            m += v;
            sx += v * x as f64;
            sy += v * y as f64;
        }
    }
    if m <= 0.0 {
        return 0.0;
    }
    let (cx, cy) = (sx / m, sy / m);
    let (mut syy, mut sxy) = (0.0f64, 0.0f64);
    for y in 0..bitmap.height() {
        for x in 0..bitmap.width() {
            let v = f64::from(bitmap.get(x, y));
            let (dx, dy) = (x as f64 - cx, y as f64 - cy);
            syy += v * dy * dy;
            sxy += v * dx * dy;
        }
    }
    if syy <= 1e-9 * m {
        return 0.0;
    }
    // y grows downwards: a stroke leaning right going up has x falling as y grows.
    -sxy / syy
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mask_of(w: usize, h: usize, rects: &[(usize, usize, usize, usize)]) -> Mask {
        let mut m = Mask::new(w, h);
        for &(x0, y0, x1, y1) in rects {
            for y in y0..y1 {
                for x in x0..x1 {
                    m.set(x, y, true);
                }
            }
        }
        m
    }

    #[test]
    fn components_are_eight_connected() {
        // Two blocks touching only at a corner are one; a third apart is another.
        let mut m = mask_of(40, 20, &[(0, 0, 5, 5), (5, 5, 10, 10), (20, 0, 25, 5)]);
        // A U shape: its arms get different provisional labels that must be unified.
        for y in 10..20 {
            m.set(30, y, true);
            m.set(38, y, true);
        }
        for x in 30..39 {
            m.set(x, 19, true);
        }
        let l = components(&m);
        assert_eq!(l.components.len(), 3);
        let areas: Vec<usize> = l.components.iter().map(|c| c.area).collect();
        assert_eq!(areas, vec![50, 25, 10 + 10 + 7]);
    }

    #[test]
    fn lines_and_stacked_parts() {
        // Line 1: a "digit" (tall block), an "=" (two bars), a "digit".
        // Line 2: a "digit", a "÷" (bar with a dot above and below), a "digit", and a speck.
        let m = mask_of(
            300,
            200,
            &[
                (10, 10, 25, 50),
                (40, 22, 60, 26),
                (40, 34, 60, 38),
                (75, 10, 90, 50),
                (10, 110, 25, 150),
                (47, 115, 53, 121),
                (40, 128, 60, 132),
                (47, 139, 53, 145),
                (75, 110, 90, 150),
                (150, 120, 151, 121),
            ],
        );
        let (_, lines) = segment(&m, &SegmentParams::default(), 10);
        assert_eq!(lines.len(), 2);
        let counts: Vec<usize> = lines.iter().map(|l| l.glyphs.len()).collect();
        assert_eq!(counts, vec![3, 3]);
        assert_eq!(lines[0].glyphs[1].labels.len(), 2);
        assert_eq!(lines[1].glyphs[1].labels.len(), 3);
        // Side-by-side digits are never merged even when close.
        let m = mask_of(100, 60, &[(10, 10, 25, 50), (27, 10, 42, 50)]);
        let (_, lines) = segment(&m, &SegmentParams::default(), 10);
        assert_eq!(lines[0].glyphs.len(), 2);
    }

    #[test]
    fn a_slanted_colon_is_one_glyph() {
        // Digit, `:` whose upper dot sits right of the lower one with no shared column (a
        // slanted hand), digit; and a decimal point beside a digit stays apart.
        let m = mask_of(
            200,
            60,
            &[(10, 10, 25, 50), (46, 18, 52, 24), (38, 36, 44, 42), (65, 10, 80, 50)],
        );
        let (_, lines) = segment(&m, &SegmentParams::default(), 10);
        assert_eq!(lines[0].glyphs.len(), 3);
        assert_eq!(lines[0].glyphs[1].labels.len(), 2);
        let m = mask_of(200, 60, &[(10, 10, 25, 50), (28, 44, 34, 50), (37, 10, 52, 50)]);
        let (_, lines) = segment(&m, &SegmentParams::default(), 10);
        assert_eq!(lines[0].glyphs.len(), 3);
    }

    #[test]
    fn lean_of_drawn_strokes() {
        // A stroke from (x0, bottom) to (x1, top), 4 px wide.
        let stroke = |x0: f64, x1: f64| {
            GrayBitmap::from_fn(60, 40, |x, y| {
                let t = 1.0 - y as f64 / 39.0;
                let cx = x0 + (x1 - x0) * t;
                if (x as f64 - cx).abs() < 2.0 { 255 } else { 0 }
            })
        };
        let upright = lean(&stroke(20.0, 20.0));
        let slash = lean(&stroke(5.0, 45.0));
        let back = lean(&stroke(45.0, 15.0));
        assert!(upright.abs() < 0.05, "upright {upright}");
        assert!((slash - 1.0).abs() < 0.1, "slash {slash}");
        assert!((back + 0.77).abs() < 0.1, "backslash {back}");
        assert_eq!(lean(&GrayBitmap::blank(10, 10)), 0.0);
        // A flat bar has no height to lean over.
        assert_eq!(lean(&GrayBitmap::from_fn(10, 1, |_, _| 255)), 0.0);
    }

    #[test]
    fn max_lines_is_respected() {
        let rects: Vec<_> = (0..8).map(|i| (10, 10 + i * 60, 25, 50 + i * 60)).collect();
        let m = mask_of(50, 500, &rects);
        assert_eq!(segment(&m, &SegmentParams::default(), 100).1.len(), 8);
        assert_eq!(segment(&m, &SegmentParams::default(), 3).1.len(), 3);
    }
}
