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

/// One chosen symbol: the glyph it reads as, its role, and which input glyph it came from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Symbol {
    pub glyph: Glyph,
    pub role: Role,
    pub index: usize,
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
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Each glyph's geometry against the nearest tall glyphs (up to two on each side): local, so a
/// line whose baseline wobbles or drifts still gives each dot the right neighbours to compare with.
fn geometry(glyphs: &[GlyphInput]) -> Vec<Geometry> {
    let mut hs: Vec<f64> = glyphs.iter().map(|g| g.rect.height() as f64).collect();
    if hs.is_empty() {
        return Vec::new();
    }
    hs.sort_by(|a, b| a.total_cmp(b));
    let big = hs[(hs.len() * 3) / 4];
    let tall: Vec<usize> = (0..glyphs.len())
        .filter(|&i| glyphs[i].rect.height() as f64 >= 0.6 * big)
        .collect();
    glyphs
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let pos = tall.partition_point(|&t| t < i);
            let mut near: Vec<usize> = Vec::new();
            near.extend(tall[..pos].iter().rev().take(2));
            near.extend(tall[pos..].iter().filter(|&&t| t != i).take(2));
            if near.is_empty() {
                near.push(i);
            }
            let mut tops: Vec<f64> = near.iter().map(|&t| glyphs[t].rect.y0 as f64).collect();
            let mut bots: Vec<f64> = near.iter().map(|&t| glyphs[t].rect.y1 as f64).collect();
            let (top, bot) = (median(&mut tops), median(&mut bots));
            let rh = (bot - top).max(1.0);
            Geometry {
                rel_h: g.rect.height() as f64 / rh,
                centre: (g.rect.cy() - top) / rh,
                bottom: (g.rect.y1 as f64 - top) / rh,
                aspect: g.rect.height() as f64 / g.rect.width().max(1) as f64,
            }
        })
        .collect()
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
    if glyphs.is_empty() {
        return None;
    }
    let geom = geometry(glyphs);
    let neg = f64::NEG_INFINITY;
    // Viterbi (max) and forward (sum) in log space, with back pointers per glyph.
    let mut best = vec![neg; NSTATES];
    let mut total = vec![neg; NSTATES];
    best[sid(St::Start, 0)] = 0.0;
    total[sid(St::Start, 0)] = 0.0;
    // back[i][state] = (previous state, symbol, role, probability)
    type Back = Option<(usize, Option<Glyph>, Option<Role>, f64)>;
    let mut back: Vec<[Back; NSTATES]> = Vec::with_capacity(glyphs.len());
    let mut next_states = Vec::with_capacity(2);
    for (i, (input, g)) in glyphs.iter().zip(&geom).enumerate() {
        let alts = alternatives(input, g);
        // The gap to the previous glyph in digit heights (the reference height is rel_h's
        // denominator); none before the first glyph.
        let gap = (i > 0).then(|| {
            let prev = &glyphs[i - 1].rect;
            let rh = input.rect.height() as f64 / g.rel_h.max(1e-6);
            (input.rect.x0 as f64 - prev.x1 as f64) / rh.max(1.0)
        });
        let mut nb = vec![neg; NSTATES];
        let mut nt = vec![neg; NSTATES];
        let mut bp: [Back; NSTATES] = [None; NSTATES];
        for (s_idx, &st) in ST.iter().enumerate() {
            for depth in 0..=MAX_DEPTH {
                let from = s_idx * (MAX_DEPTH + 1) + depth;
                if total[from] == neg {
                    continue;
                }
                for &(sym, p) in &alts {
                    let lp = p.ln();
                    match sym {
                        None => {
                            let to = from;
                            if best[from] + lp > nb[to] {
                                nb[to] = best[from] + lp;
                                bp[to] = Some((from, None, None, p));
                            }
                            nt[to] = log_add(nt[to], total[from] + lp);
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
                                let lp = match gap {
                                    Some(gap) if !neutral => lp + spacing_factor(gap, tight).ln(),
                                    _ => lp,
                                };
                                if best[from] + lp > nb[to] {
                                    nb[to] = best[from] + lp;
                                    bp[to] = Some((from, Some(glyph), Some(role), p));
                                }
                                nt[to] = log_add(nt[to], total[from] + lp);
                            }
                        }
                    }
                }
            }
        }
        best = nb;
        total = nt;
        back.push(bp);
    }
    let mut end = None;
    let mut end_best = neg;
    let mut end_total = neg;
    for (s_idx, &st) in ST.iter().enumerate() {
        for depth in 0..=MAX_DEPTH {
            let s = s_idx * (MAX_DEPTH + 1) + depth;
            if accepting(st, depth) {
                end_total = log_add(end_total, total[s]);
                if best[s] > end_best {
                    end_best = best[s];
                    end = Some(s);
                }
            }
        }
    }
    let mut state = end?;
    let mut symbols = Vec::new();
    for i in (0..glyphs.len()).rev() {
        let (prev, glyph, role, p) = back[i][state]?;
        if let (Some(glyph), Some(role)) = (glyph, role) {
            symbols.push(Symbol {
                glyph,
                role,
                index: i,
                probability: p,
            });
        }
        state = prev;
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
    fn nothing_well_formed() {
        assert!(read_line(&[]).is_none());
    }
}
