//! Reading a line: the most probable *well-formed* expression, not the most probable glyph one at
//! a time.
//!
//! The grammar of a line is a finite-state machine (with a bounded parenthesis depth):
//!
//! ```text
//! number  := digit+ [ (',' | '.') digit+ ]
//! operand := ['-'] ( number ['%'] | '(' expr ')' )
//! expr    := operand ( op operand )*            op := + - × · ÷ : /
//! line    := ['='] expr ( '=' expr )*
//! ```
//!
//! Each glyph offers every symbol with the classifier's probability times a geometry factor (a
//! network class sees a glyph scaled to 28×28 and cannot tell a decimal point on the baseline from
//! a product dot at mid-height, a `-` from a long `.`, a small `,` from a `)`), renormalised, plus
//! "skip" at a small probability (a speck the noise filter let through must not force a wrong
//! reading). A Viterbi pass over (glyph × grammar state) finds the reading that maximises the
//! product of the chosen probabilities; a forward pass sums the products of every well-formed
//! reading, and the ratio is the reading's probability given that the line is well formed.
//!
//! Nothing here looks at the arithmetic: `53 - 26 = 33` and `53 - 26 = 27` are equally well
//! formed, and a student's wrong answer is read as written.

use crate::glyphs::{Glyph, NUM_CLASSES};
use crate::segment::Rect;

/// One glyph of a line as the reader gets it: where it is and the classifier's probabilities.
#[derive(Debug, Clone)]
pub struct GlyphInput {
    pub rect: Rect,
    pub probs: [f32; NUM_CLASSES],
    /// How far the ink leans right per unit of height going up (the principal axis's dx/dy,
    /// [`crate::segment::lean`]): about 0 for an upright stroke, 1 for a `/` at 45°.
    pub lean: f64,
}

/// Another segmentation of a line: the neighbouring glyphs `first` and `first + 1` read as one
/// glyph, classified on their merged bitmap. The segmenter keeps side-by-side components apart;
/// a `×` written as `)(` whose arcs do not touch, a digit whose stroke the threshold broke, or a
/// digit's fragment beside it are one symbol all the same, and only the reader, weighing both
/// segmentations in the grammar, can tell.
#[derive(Debug, Clone)]
pub struct MergedInput {
    pub first: usize,
    pub input: GlyphInput,
}

/// The pairs of neighbouring glyphs worth reading as one (see [`MergedInput`]): boxes that
/// overlap or nearly touch sideways (a gap under 0.12 digit heights), whose union is no wider
/// than 1.6 and no taller than 1.4 digit heights, and where one part is short (under 0.7 digit
/// heights: a fragment, a half of `)(`) or the two share half the narrower one's columns. Two
/// whole digits side by side are not offered: a thin `1` beside a digit would otherwise be
/// swallowed by it whenever the pair looks like one digit. Their merged bitmaps are classified
/// and handed to [`read_lattice`].
pub fn merge_candidates(rects: &[Rect]) -> Vec<usize> {
    let refs = references(rects);
    (0..rects.len().saturating_sub(1))
        .filter(|&i| {
            let (a, b) = (&rects[i], &rects[i + 1]);
            let rh = (refs[i].1 - refs[i].0).max(1.0);
            let gap = b.x0 as f64 - a.x1 as f64;
            let u = a.union(b);
            let short = (a.height().min(b.height()) as f64) < 0.7 * rh;
            let ox = (a.x1.min(b.x1) as f64 - a.x0.max(b.x0) as f64) / a.width().min(b.width()).max(1) as f64;
            (short || ox >= 0.5)
                && gap <= 0.12 * rh
                && (u.width() as f64) <= 1.6 * rh
                && (u.height() as f64) <= 1.4 * rh
        })
        .collect()
}

/// What a symbol does in the reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Digit,
    DecimalSeparator,
    BinaryOp,
    UnaryMinus,
    Equals,
    Open,
    Close,
    Percent,
}

/// One chosen symbol: the glyph it reads as, its role, and which input glyphs it came from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Symbol {
    pub glyph: Glyph,
    pub role: Role,
    /// The first input glyph it was read from.
    pub index: usize,
    /// How many neighbouring input glyphs it was read from (2 when two parts were read as one).
    pub span: usize,
    /// The symbol's probability at its glyph (after geometry, renormalised).
    pub probability: f64,
}

/// The reading of a line.
#[derive(Debug, Clone)]
pub struct LineReading {
    pub symbols: Vec<Symbol>,
    /// In practica's plain notation: `53 - 26 = 33`, `2,5 + 1,25`, `(-3) × 4`, `15% · 80`.
    pub text: String,
    /// Product of the chosen symbols' probabilities (skips included).
    pub product: f64,
    /// `product` over the sum of the products of every well-formed reading: the reading's
    /// probability given that the line is a well-formed expression.
    pub probability: f64,
}

/// Grammar states (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum St {
    /// Nothing read yet.
    Start,
    /// After an operator, `=` or `(`: an operand must follow.
    Operand,
    /// After a unary minus: a number or `(` must follow.
    Unary,
    /// In a number's integer part.
    Int,
    /// After a decimal separator: a digit must follow.
    Sep,
    /// In a number's fractional part.
    Frac,
    /// After `)` or `%`: the operand is complete.
    Closed,
}

const ST: [St; 7] = [
    St::Start,
    St::Operand,
    St::Unary,
    St::Int,
    St::Sep,
    St::Frac,
    St::Closed,
];
const MAX_DEPTH: usize = 3;
const NSTATES: usize = ST.len() * (MAX_DEPTH + 1);

fn sid(st: St, depth: usize) -> usize {
    (st as usize) * (MAX_DEPTH + 1) + depth
}

/// The state after reading `glyph` in (`st`, `depth`), and the role it plays; `None` where the
/// grammar forbids it. A `-` may be binary or unary: both are returned.
fn step(st: St, depth: usize, glyph: Glyph, out: &mut Vec<(St, usize, Role)>) {
    use St::*;
    out.clear();
    let complete = matches!(st, Int | Frac | Closed);
    let expecting = matches!(st, Start | Operand | Unary);
    match glyph {
        g if g.is_digit() => match st {
            Start | Operand | Unary | Int => out.push((Int, depth, Role::Digit)),
            Sep | Frac => out.push((Frac, depth, Role::Digit)),
            Closed => {}
        },
        Glyph::Dot | Glyph::Comma if st == Int => out.push((Sep, depth, Role::DecimalSeparator)),
        Glyph::Equals if depth == 0 && (complete || st == Start) => out.push((Operand, depth, Role::Equals)),
        Glyph::LeftParen if expecting && depth < MAX_DEPTH => out.push((Operand, depth + 1, Role::Open)),
        Glyph::RightParen if complete && depth > 0 => out.push((Closed, depth - 1, Role::Close)),
        Glyph::Percent if matches!(st, Int | Frac) => out.push((Closed, depth, Role::Percent)),
        g if g.is_operator() => {
            if complete {
                out.push((Operand, depth, Role::BinaryOp));
            }
            if g == Glyph::Minus && matches!(st, Start | Operand) {
                out.push((Unary, depth, Role::UnaryMinus));
            }
        }
        _ => {}
    }
}

fn accepting(st: St, depth: usize) -> bool {
    depth == 0 && matches!(st, St::Int | St::Frac | St::Closed)
}

/// Where a glyph sits relative to the digits around it.
#[derive(Debug, Clone, Copy)]
struct Geometry {
    /// Height over the reference (digit) height.
    rel_h: f64,
    /// Vertical centre: 0 at the digits' top, 1 at their bottom (the baseline).
    centre: f64,
    /// Bottom edge on the same scale.
    bottom: f64,
    /// Height over width.
    aspect: f64,
    /// The ink's lean ([`GlyphInput::lean`]).
    lean: f64,
    /// The reference digit height in pixels.
    rh: f64,
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Each glyph's reference digit band (top, bottom) from the nearest tall glyphs (up to two on
/// each side): local, so a line whose baseline wobbles or drifts still gives each dot the right
/// neighbours to compare with.
fn references(rects: &[Rect]) -> Vec<(f64, f64)> {
    let mut hs: Vec<f64> = rects.iter().map(|r| r.height() as f64).collect();
    if hs.is_empty() {
        return Vec::new();
    }
    hs.sort_by(|a, b| a.total_cmp(b));
    let big = hs[(hs.len() * 3) / 4];
    let tall: Vec<usize> = (0..rects.len())
        .filter(|&i| rects[i].height() as f64 >= 0.6 * big)
        .collect();
    (0..rects.len())
        .map(|i| {
            let pos = tall.partition_point(|&t| t < i);
            let mut near: Vec<usize> = Vec::new();
            near.extend(tall[..pos].iter().rev().take(2));
            near.extend(tall[pos..].iter().filter(|&&t| t != i).take(2));
            if near.is_empty() {
                near.push(i);
            }
            let mut tops: Vec<f64> = near.iter().map(|&t| rects[t].y0 as f64).collect();
            let mut bots: Vec<f64> = near.iter().map(|&t| rects[t].y1 as f64).collect();
            (median(&mut tops), median(&mut bots))
        })
        .collect()
}

/// A box's geometry against a reference digit band.
fn geometry_of(rect: &Rect, lean: f64, (top, bot): (f64, f64)) -> Geometry {
    let rh = (bot - top).max(1.0);
    Geometry {
        rel_h: rect.height() as f64 / rh,
        centre: (rect.cy() - top) / rh,
        bottom: (rect.y1 as f64 - top) / rh,
        aspect: rect.height() as f64 / rect.width().max(1) as f64,
        lean,
        rh,
    }
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// How well a glyph's geometry suits a symbol, in (0, 1]. Soft, with floors, so a classifier that
/// is sure still wins against a borderline measurement.
fn geometry_factor(glyph: Glyph, g: &Geometry) -> f64 {
    let small = ((0.5 - g.rel_h) / 0.2).clamp(0.02, 1.0); // dots, commas
    // A dot is about as wide as tall; a short thick `-` the network may take for a blob is not.
    let round = if g.aspect < 0.6 { 0.05 } else { 1.0 };
    let mid_height = if (0.15..=0.85).contains(&g.centre) { 1.0 } else { 0.15 };
    match glyph {
        Glyph::Digit1 => ((g.rel_h - 0.2) / 0.3).clamp(0.01, 1.0) * sigmoid((1.0 - g.lean) / 0.1).max(0.05),
        d if d.is_digit() => ((g.rel_h - 0.2) / 0.3).clamp(0.01, 1.0),
        Glyph::Dot => round * small * sigmoid((g.centre - 0.65) * 14.0).max(0.01),
        Glyph::MidDot => round * small * (1.0 - sigmoid((g.centre - 0.65) * 14.0)).max(0.01) * mid_height,
        Glyph::Comma => {
            let low = if g.bottom > 0.8 { 1.0 } else { 0.05 };
            ((0.8 - g.rel_h) / 0.3).clamp(0.02, 1.0) * low
        }
        Glyph::Minus => {
            let flat = if g.aspect < 0.6 { 1.0 } else { 0.05 };
            flat * mid_height
        }
        Glyph::Equals | Glyph::Plus | Glyph::Times | Glyph::Divide | Glyph::Colon => mid_height,
        Glyph::LeftParen | Glyph::RightParen => ((g.rel_h - 0.4) / 0.4).clamp(0.05, 1.0),
        // A `/` leans well past a handwritten `1`: MNIST's 1s lean 0.28 in the median and 0.65 at
        // the 95th percentile, a fraction bar or division slash is drawn at 45–55° (lean 0.7–1).
        // Soft, and the two factors cross at 0.85, so a steep 1 still reads 1 when the
        // classifier is sure and the grammar decides the borderline ones.
        Glyph::Slash => sigmoid((g.lean - 0.7) / 0.1).max(0.02),
        _ => 1.0,
    }
}

/// The weight of skipping a glyph as noise, against the symbols' weights (classifier
/// probability × geometry factor): small, larger for tiny glyphs. Weighed in the same pool as the
/// symbols, so a speck that fits no symbol's geometry (a digit-shaped blob a fifth of a digit
/// tall, above the line) is skipped rather than read as the least bad symbol.
fn skip_weight(g: &Geometry) -> f64 {
    if g.rel_h < 0.3 { 0.05 } else { 0.002 }
}

/// The weight of reading two neighbouring glyphs as one against reading each on its own. A path
/// through the merged glyph has one probability factor where the separate reading has two, so
/// merging is favoured when both readings are confident; the candidates are restricted by
/// geometry instead ([`merge_candidates`]), and within them no further price helped on the
/// tuning seed (0.3 lost 12 lines of 500, 1 to 10 were equal; docs/ocr.md).
const MERGE_WEIGHT: f64 = 1.0;

/// A glyph's alternatives: (symbol, probability), `None` for "skip".
fn alternatives(input: &GlyphInput, g: &Geometry) -> Vec<(Option<Glyph>, f64)> {
    let mut alts: Vec<(Option<Glyph>, f64)> = Glyph::ALL
        .iter()
        .map(|&glyph| {
            let p = f64::from(input.probs[glyph.class()]).max(1e-6);
            (Some(glyph), p * geometry_factor(glyph, g))
        })
        .collect();
    alts.push((None, skip_weight(g)));
    let total: f64 = alts.iter().map(|a| a.1).sum();
    for a in &mut alts {
        a.1 /= total;
    }
    alts
}

/// How well the gap before a glyph suits the transition: digits of one number (and a decimal
/// separator) are written closer together than an operator to its operands. `gap` is in digit
/// heights; `tight` says whether the symbol continues a number. Soft, floored at 0.1: spacing
/// only tips close calls such as `913` against `9 / 3`.
fn spacing_factor(gap: f64, tight: bool) -> f64 {
    if tight {
        sigmoid((0.45 - gap) / 0.1).max(0.1)
    } else {
        sigmoid((gap - 0.12) / 0.08).max(0.1)
    }
}

fn log_add(a: f64, b: f64) -> f64 {
    if a == f64::NEG_INFINITY {
        return b;
    }
    if b == f64::NEG_INFINITY {
        return a;
    }
    let m = a.max(b);
    m + ((a - m).exp() + (b - m).exp()).ln()
}

/// The most probable well-formed reading of a line; `None` when no reading is well formed (every
/// glyph skipped would be an empty line, which is not one) or the line is empty.
pub fn read_line(glyphs: &[GlyphInput]) -> Option<LineReading> {
    read_lattice(glyphs, &[])
}

/// One way to read glyphs `start..end`: its symbol alternatives and the gap before it.
struct Hypothesis {
    start: usize,
    end: usize,
    alts: Vec<(Option<Glyph>, f64)>,
    gap: Option<f64>,
}

/// [`read_line`] over a lattice: every glyph on its own, and each [`MergedInput`] as one glyph in
/// place of its two (at [`MERGE_WEIGHT`]). The Viterbi runs over (glyph boundary × grammar
/// state), so the segmentation and the symbols are chosen together; the forward sum runs over
/// every segmentation too, so the probability is that of the reading among all of them.
pub fn read_lattice(glyphs: &[GlyphInput], merged: &[MergedInput]) -> Option<LineReading> {
    let n = glyphs.len();
    if n == 0 {
        return None;
    }
    let rects: Vec<Rect> = glyphs.iter().map(|g| g.rect).collect();
    let refs = references(&rects);
    // The gap before a glyph starting at `start` in digit heights; none before the first.
    let gap_before = |start: usize, rect: &Rect, g: &Geometry| {
        (start > 0).then(|| (rect.x0 as f64 - glyphs[start - 1].rect.x1 as f64) / g.rh)
    };
    // Hypotheses by start position.
    let mut by_start: Vec<Vec<Hypothesis>> = (0..n).map(|_| Vec::new()).collect();
    for (i, input) in glyphs.iter().enumerate() {
        let g = geometry_of(&input.rect, input.lean, refs[i]);
        by_start[i].push(Hypothesis {
            start: i,
            end: i + 1,
            alts: alternatives(input, &g),
            gap: gap_before(i, &input.rect, &g),
        });
    }
    for m in merged {
        if m.first + 1 >= n {
            continue;
        }
        let g = geometry_of(&m.input.rect, m.input.lean, refs[m.first]);
        let mut alts = alternatives(&m.input, &g);
        // No skip: skipping both parts is already a path through the single glyphs.
        alts.retain(|a| a.0.is_some());
        for a in &mut alts {
            a.1 *= MERGE_WEIGHT;
        }
        by_start[m.first].push(Hypothesis {
            start: m.first,
            end: m.first + 2,
            alts,
            gap: gap_before(m.first, &m.input.rect, &g),
        });
    }
    let neg = f64::NEG_INFINITY;
    // Viterbi (max) and forward (sum) in log space at each glyph boundary, with back pointers.
    let mut best = vec![[neg; NSTATES]; n + 1];
    let mut total = vec![[neg; NSTATES]; n + 1];
    best[0][sid(St::Start, 0)] = 0.0;
    total[0][sid(St::Start, 0)] = 0.0;
    // back[boundary][state] = (previous boundary, previous state, symbol, role, probability)
    type Back = Option<(usize, usize, Option<Glyph>, Option<Role>, f64)>;
    let mut back: Vec<[Back; NSTATES]> = vec![[None; NSTATES]; n + 1];
    let mut next_states = Vec::with_capacity(2);
    for hyps in &by_start {
        for h in hyps {
            let (i, j) = (h.start, h.end);
            for (s_idx, &st) in ST.iter().enumerate() {
                for depth in 0..=MAX_DEPTH {
                    let from = s_idx * (MAX_DEPTH + 1) + depth;
                    let (b_from, t_from) = (best[i][from], total[i][from]);
                    if t_from == neg {
                        continue;
                    }
                    for &(sym, p) in &h.alts {
                        let lp = p.ln();
                        match sym {
                            None => {
                                let to = from;
                                if b_from + lp > best[j][to] {
                                    best[j][to] = b_from + lp;
                                    back[j][to] = Some((i, from, None, None, p));
                                }
                                total[j][to] = log_add(total[j][to], t_from + lp);
                            }
                            Some(glyph) => {
                                step(st, depth, glyph, &mut next_states);
                                for &(ns, nd, role) in &next_states {
                                    let to = sid(ns, nd);
                                    let tight = match role {
                                        Role::Digit => matches!(st, St::Int | St::Sep | St::Frac),
                                        Role::DecimalSeparator => true,
                                        _ => false,
                                    };
                                    let neutral =
                                        matches!(role, Role::Open | Role::Close | Role::Percent | Role::UnaryMinus)
                                            || st == St::Start;
                                    let lp = match h.gap {
                                        Some(gap) if !neutral => lp + spacing_factor(gap, tight).ln(),
                                        _ => lp,
                                    };
                                    if b_from + lp > best[j][to] {
                                        best[j][to] = b_from + lp;
                                        back[j][to] = Some((i, from, Some(glyph), Some(role), p));
                                    }
                                    total[j][to] = log_add(total[j][to], t_from + lp);
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    let mut end = None;
    let mut end_best = neg;
    let mut end_total = neg;
    for (s_idx, &st) in ST.iter().enumerate() {
        for depth in 0..=MAX_DEPTH {
            let s = s_idx * (MAX_DEPTH + 1) + depth;
            if accepting(st, depth) {
                end_total = log_add(end_total, total[n][s]);
                if best[n][s] > end_best {
                    end_best = best[n][s];
                    end = Some(s);
                }
            }
        }
    }
    let mut state = end?;
    let mut pos = n;
    let mut symbols = Vec::new();
    // Every step moves back at least one boundary, so this ends within n steps.
    while pos > 0 {
        let (prev_pos, prev, glyph, role, p) = back[pos][state]?;
        if let (Some(glyph), Some(role)) = (glyph, role) {
            symbols.push(Symbol {
                glyph,
                role,
                index: prev_pos,
                span: pos - prev_pos,
                probability: p,
            });
        }
        state = prev;
        pos = prev_pos;
    }
    symbols.reverse();
    Some(LineReading {
        text: render(&symbols),
        product: end_best.exp(),
        probability: (end_best - end_total).exp().clamp(0.0, 1.0),
        symbols,
    })
}

/// Plain notation: spaces around binary operators and `=`, none inside a number, after `(` and a
/// unary minus, or before `)` and `%`.
pub fn render(symbols: &[Symbol]) -> String {
    let mut s = String::new();
    for sym in symbols {
        match sym.role {
            Role::BinaryOp | Role::Equals => {
                if !s.is_empty() {
                    s.push(' ');
                }
                s.push(sym.glyph.text());
                s.push(' ');
            }
            _ => s.push(sym.glyph.text()),
        }
    }
    s.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A glyph at `x` with the given box height and vertical centre (digits are 0..40 tall),
    /// whose classifier output puts `p` on `glyph` and spreads the rest evenly.
    fn glyph(x: usize, y0: usize, y1: usize, w: usize, dist: &[(Glyph, f32)]) -> GlyphInput {
        let mut probs = [0.0f32; NUM_CLASSES];
        let rest = 1.0 - dist.iter().map(|d| d.1).sum::<f32>();
        for p in probs.iter_mut() {
            *p = rest / NUM_CLASSES as f32;
        }
        for &(g, p) in dist {
            probs[g.class()] += p;
        }
        GlyphInput {
            rect: Rect {
                x0: x,
                y0,
                x1: x + w,
                y1,
            },
            probs,
            lean: 0.0,
        }
    }

    fn digit(x: usize, d: u8) -> GlyphInput {
        glyph(x, 0, 40, 20, &[(Glyph::digit(d).unwrap(), 0.9)])
    }

    #[test]
    fn reads_a_clean_line() {
        let line = vec![
            digit(0, 5),
            digit(25, 3),
            glyph(60, 18, 22, 20, &[(Glyph::Minus, 0.9)]),
            digit(100, 2),
            digit(125, 6),
            glyph(160, 14, 26, 20, &[(Glyph::Equals, 0.9)]),
            digit(200, 3),
            digit(225, 3),
        ];
        let r = read_line(&line).unwrap();
        assert_eq!(r.text, "53 - 26 = 33");
        assert!(r.probability > 0.5 && r.probability <= 1.0);
    }

    #[test]
    fn the_grammar_overrides_the_best_glyph() {
        // The operator glyph looks a bit more like a 1 than a +: "5 1 3" is a number, but then
        // "513 = 8" would be read; with a `+` more likely than `=` at the second operator
        // position the grammar still has to choose. Here: "5 ? 3 = 8" where ? is 1 (0.45) or
        // + (0.40), and the line "5 1 3 = 8" is well formed too — so instead make a position
        // where the top glyph is ungrammatical: "= 5 +" ends with an operator.
        let line = vec![
            digit(0, 5),
            glyph(40, 10, 30, 20, &[(Glyph::Plus, 0.9)]),
            digit(80, 3),
            glyph(120, 10, 30, 20, &[(Glyph::Plus, 0.5), (Glyph::Digit4, 0.4)]),
        ];
        let r = read_line(&line).unwrap();
        assert_eq!(r.text, "5 + 34");
    }

    #[test]
    fn a_wrong_answer_is_read_as_written() {
        // 53 - 26 = 33 (wrong) with the 3 of the answer slightly ambiguous with 7 (right would
        // be 27): the reading follows the glyphs, never the arithmetic.
        let line = vec![
            digit(0, 5),
            digit(25, 3),
            glyph(60, 18, 22, 20, &[(Glyph::Minus, 0.9)]),
            digit(100, 2),
            digit(125, 6),
            glyph(160, 14, 26, 20, &[(Glyph::Equals, 0.9)]),
            glyph(200, 0, 40, 20, &[(Glyph::Digit3, 0.5), (Glyph::Digit2, 0.4)]),
            glyph(225, 0, 40, 20, &[(Glyph::Digit3, 0.5), (Glyph::Digit7, 0.4)]),
        ];
        assert_eq!(read_line(&line).unwrap().text, "53 - 26 = 33");
    }

    #[test]
    fn dots_by_height() {
        let dot = |x, y0, y1| glyph(x, y0, y1, 6, &[(Glyph::Dot, 0.9)]);
        // 2.5 (dot on the baseline) and 9 · 6 (dot at mid-height).
        let line = vec![digit(0, 2), dot(24, 34, 40), digit(34, 5)];
        assert_eq!(read_line(&line).unwrap().text, "2.5");
        let line = vec![
            digit(0, 9),
            dot(30, 17, 23),
            digit(45, 6),
            glyph(80, 14, 26, 20, &[(Glyph::Equals, 0.9)]),
            digit(120, 5),
            digit(145, 4),
        ];
        assert_eq!(read_line(&line).unwrap().text, "9 · 6 = 54");
    }

    #[test]
    fn parentheses_unary_minus_and_percent() {
        let line = vec![
            glyph(0, -0i32 as usize, 44, 10, &[(Glyph::LeftParen, 0.9)]),
            glyph(15, 18, 22, 15, &[(Glyph::Minus, 0.9)]),
            digit(35, 3),
            glyph(60, 0, 44, 10, &[(Glyph::RightParen, 0.9)]),
            glyph(80, 10, 30, 20, &[(Glyph::Times, 0.9)]),
            digit(110, 1),
            digit(135, 5),
            glyph(160, 0, 40, 20, &[(Glyph::Percent, 0.9)]),
        ];
        assert_eq!(read_line(&line).unwrap().text, "(-3) × 15%");
    }

    #[test]
    fn one_against_slash_by_lean() {
        // A stroke the classifier finds a little more `/` than `1`, between two digits with an
        // operator's gaps on both sides: upright it is a 1 (`314`), leaning at 45° a `/`.
        let stroke = |lean| GlyphInput {
            lean,
            ..glyph(45, 0, 40, 14, &[(Glyph::Slash, 0.5), (Glyph::Digit1, 0.45)])
        };
        let line = |lean| vec![digit(0, 3), stroke(lean), digit(80, 4)];
        assert_eq!(read_line(&line(1.0)).unwrap().text, "3 / 4");
        assert_eq!(read_line(&line(0.2)).unwrap().text, "314");
        // With a classifier that is sure, the lean does not override it either way.
        let sure = |g, lean| GlyphInput {
            lean,
            ..glyph(45, 0, 40, 14, &[(g, 0.99)])
        };
        let line = vec![digit(0, 3), sure(Glyph::Digit1, 0.8), digit(80, 4)];
        assert_eq!(read_line(&line).unwrap().text, "314");
        let line = vec![digit(0, 3), sure(Glyph::Slash, 0.6), digit(80, 4)];
        assert_eq!(read_line(&line).unwrap().text, "3 / 4");
    }

    fn with_rect(mut g: GlyphInput, x0: usize, x1: usize) -> GlyphInput {
        g.rect.x0 = x0;
        g.rect.x1 = x1;
        g
    }

    #[test]
    fn a_times_split_in_two_arcs_is_merged() {
        // 9 )( 6: the arcs are apart, each read as a parenthesis (which the grammar cannot use
        // here); merged, the pair is a `×`.
        let arc = |x, g| glyph(x, 10, 30, 8, &[(g, 0.9)]);
        let line = vec![
            digit(0, 9),
            arc(35, Glyph::RightParen),
            arc(45, Glyph::LeftParen),
            digit(75, 6),
        ];
        let merged = vec![MergedInput {
            first: 1,
            input: glyph(35, 10, 30, 18, &[(Glyph::Times, 0.9)]),
        }];
        assert_eq!(
            merge_candidates(&line.iter().map(|g| g.rect).collect::<Vec<_>>()),
            vec![1]
        );
        let r = read_lattice(&line, &merged).unwrap();
        assert_eq!(r.text, "9 × 6");
        assert_eq!((r.symbols[1].index, r.symbols[1].span), (1, 2));
    }

    #[test]
    fn a_digit_fragment_is_not_a_decimal_point() {
        // 3 5 9 where the 5's tail came apart: a low blob overlapping the 5 reads `.` alone
        // (3.59) but the two read together are a 5.
        let line = vec![
            digit(0, 3),
            glyph(28, 28, 40, 12, &[(Glyph::Dot, 0.9)]),
            with_rect(digit(0, 5), 37, 57),
            digit(65, 9),
        ];
        let rects: Vec<Rect> = line.iter().map(|g| g.rect).collect();
        assert_eq!(merge_candidates(&rects), vec![1]);
        let merged = vec![MergedInput {
            first: 1,
            input: with_rect(digit(0, 5), 28, 57),
        }];
        assert_eq!(read_lattice(&line, &merged).unwrap().text, "359");
        // Without the merged hypothesis it is the decimal point it looks like.
        assert_eq!(read_line(&line).unwrap().text, "3.59");
    }

    #[test]
    fn whole_digits_side_by_side_are_not_merge_candidates() {
        // `12` written tight: the 1 is thin, but both are full height and barely share columns.
        let rects = vec![
            glyph(0, 0, 40, 6, &[]).rect,
            glyph(8, 0, 40, 20, &[]).rect,
            glyph(40, 0, 40, 20, &[]).rect,
        ];
        assert!(merge_candidates(&rects).is_empty());
    }

    #[test]
    fn nothing_well_formed() {
        assert!(read_line(&[]).is_none());
    }
}
