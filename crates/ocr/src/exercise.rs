//! From read lines to exercises: lines grouped by vertical space, each group's problem, steps,
//! final answer, topic hint and confidence.

use serde::Serialize;

use crate::glyphs::Glyph;
use crate::reader::{LineReading, Role, Symbol, render};

/// One exercise found in a photo.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Exercise {
    /// The left side of the first line's first `=` (the whole first line when it has none).
    pub problem: String,
    /// Every line, top to bottom; the last one `is_final`.
    pub raw_steps: Vec<RawStep>,
    /// The right side of the last `=` of the last line; `None` when that line has no `=`.
    pub final_answer: Option<String>,
    /// A built-in topic code from the problem's operation (see [`topic_hint`]).
    pub topic_hint: Option<String>,
    /// The reading's probability: the product over the exercise's lines of each line's
    /// probability given that it is well formed (see [`crate::reader::LineReading::probability`]).
    pub confidence: f64,
}

/// One line as written.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RawStep {
    pub expression: String,
    pub is_final: bool,
}

/// A read line with its vertical extent in the working image.
#[derive(Debug, Clone)]
pub struct PlacedLine {
    pub top: usize,
    pub bottom: usize,
    pub reading: LineReading,
}

/// Groups lines (top to bottom) into exercises: a new exercise starts where the gap to the line
/// above is clearly more than the line spacing — more than the median line height, or more than
/// twice the smallest gap and half a line height (two blocks written with tight spacing inside
/// and a blank line between).
pub fn group(lines: &[PlacedLine]) -> Vec<Vec<&PlacedLine>> {
    let mut groups: Vec<Vec<&PlacedLine>> = Vec::new();
    if lines.is_empty() {
        return groups;
    }
    let mut heights: Vec<usize> = lines.iter().map(|l| l.bottom.saturating_sub(l.top)).collect();
    heights.sort_unstable();
    let h = heights[heights.len() / 2] as f64;
    let gaps: Vec<f64> = lines
        .windows(2)
        .map(|w| w[1].top.saturating_sub(w[0].bottom) as f64)
        .collect();
    let min_gap = gaps.iter().copied().fold(f64::INFINITY, f64::min);
    groups.push(vec![&lines[0]]);
    for (i, line) in lines.iter().enumerate().skip(1) {
        let gap = gaps[i - 1];
        let breaks = gap > h || (gap > 2.0 * min_gap.max(1.0) && gap > 0.5 * h);
        if breaks {
            groups.push(vec![line]);
        } else if let Some(g) = groups.last_mut() {
            g.push(line);
        }
    }
    groups
}

fn side(symbols: &[Symbol]) -> Option<String> {
    let text = render(symbols);
    (!text.is_empty()).then_some(text)
}

/// The exercise a group of lines holds.
pub fn exercise(lines: &[&PlacedLine]) -> Option<Exercise> {
    let first = &lines.first()?.reading;
    let last = &lines.last()?.reading;
    let eq = |s: &Symbol| s.role == Role::Equals;
    let problem_symbols = match first.symbols.iter().position(eq) {
        Some(0) => {
            &first.symbols[1..first
                .symbols
                .iter()
                .skip(1)
                .position(eq)
                .map_or(first.symbols.len(), |p| p + 1)]
        }
        Some(p) => &first.symbols[..p],
        None => &first.symbols[..],
    };
    let problem = side(problem_symbols).unwrap_or_else(|| first.text.clone());
    let final_answer = last
        .symbols
        .iter()
        .rposition(eq)
        .and_then(|p| side(&last.symbols[p + 1..]));
    let raw_steps = lines
        .iter()
        .enumerate()
        .map(|(i, l)| RawStep {
            expression: l.reading.text.clone(),
            is_final: i + 1 == lines.len(),
        })
        .collect();
    let confidence = lines.iter().map(|l| l.reading.probability).product::<f64>();
    Some(Exercise {
        problem,
        raw_steps,
        final_answer,
        topic_hint: topic_hint(problem_symbols).map(str::to_string),
        confidence: (confidence * 10_000.0).round() / 10_000.0,
    })
}

/// The built-in topic code an operation suggests. What a problem is *about* goes before its
/// operator: `%` is a ratio (T-RATIO), a `/` between numbers a fraction (T-FRACT), a decimal
/// separator a decimal (T-DEC), a negative number integers (T-INT); otherwise the operator
/// decides: `-` T-SUB-BORROW, `+` T-ADD-CARRY, `×`/`·` T-MUL, `÷`/`:` T-DIV.
pub fn topic_hint(symbols: &[Symbol]) -> Option<&'static str> {
    let has = |f: &dyn Fn(&Symbol) -> bool| symbols.iter().any(f);
    if has(&|s| s.role == Role::Percent) {
        return Some("T-RATIO");
    }
    if has(&|s| s.role == Role::BinaryOp && s.glyph == Glyph::Slash) {
        return Some("T-FRACT");
    }
    if has(&|s| s.role == Role::DecimalSeparator) {
        return Some("T-DEC");
    }
    if has(&|s| s.role == Role::UnaryMinus) {
        return Some("T-INT");
    }
    symbols
        .iter()
        .find(|s| s.role == Role::BinaryOp)
        .and_then(|s| match s.glyph {
            Glyph::Minus => Some("T-SUB-BORROW"),
            Glyph::Plus => Some("T-ADD-CARRY"),
            Glyph::Times | Glyph::MidDot => Some("T-MUL"),
            Glyph::Divide | Glyph::Colon => Some("T-DIV"),
            _ => None,
        })
}
