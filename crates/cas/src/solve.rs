//! Solving with explanations.
//!
//! Every transformation is applied to both sides and recorded as a human-readable step, in
//! the order a teacher would write them: simplify each side, gather the variable on one
//! side, the constants on the other, then divide (flipping an inequality for a negative
//! divisor). Quadratics go through the discriminant; irrational roots stay exact as surds.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ast::{Expr, RelOp, Statement};
use crate::error::{CasError, MathError};
use crate::eval::evaluate_with_steps;
use num_integer::Integer;
use num_traits::{One, ToPrimitive, Zero};

use crate::number::{Rational, split_square_big};
use crate::parser::parse;
use crate::poly::{Poly, term_text};

mod rational;
pub(crate) mod system;

use system::solve_system;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SolutionKind {
    /// A numeric expression such as `3 + 4 \cdot 2`.
    Evaluation,
    /// An expression with a variable, expanded and collected.
    Simplification,
    LinearEquation,
    LinearInequality,
    QuadraticEquation,
    /// An equation or inequality whose variable cancels out.
    Degenerate,
    /// Two linear equations in two variables.
    LinearSystem,
    /// `a/b = c/d` (also `a:b = c:d`), solved by cross-multiplying.
    Proportion,
    /// An equation with the variable in a denominator, other than a proportion.
    RationalEquation,
    /// A computation or an equation with a percent sign (`15\% de 200`, `x\% \cdot 80 = 20`).
    Percentage,
}

/// The pair of numbers `center ± coeff·√radicand`, with `coeff > 0` and `radicand > 1`
/// square-free.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Surd {
    pub center: Rational,
    pub coeff: Rational,
    /// `u64` rather than `i128` because serde's internally tagged enums cannot hold i128.
    pub radicand: u64,
}

impl fmt::Display for Surd {
    /// School form over a common denominator: `(5 ± √5)/2`, `1 ± 2√3`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (c, s) = (&self.center, &self.coeff);
        let d = c.denom().lcm(&s.denom());
        let p = c.numer() * (&d / c.denom());
        let q = s.numer() * (&d / s.denom());
        let root = if q.is_one() {
            format!("√{}", self.radicand)
        } else {
            format!("{q}√{}", self.radicand)
        };
        let top = if p.is_zero() {
            format!("±{root}")
        } else {
            format!("{p} ± {root}")
        };
        if d.is_one() {
            write!(f, "{top}")
        } else if p.is_zero() {
            write!(f, "{top}/{d}")
        } else {
            write!(f, "({top})/{d}")
        }
    }
}

/// What the problem asks for, in a form [`crate::check`] can compare against.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Answer {
    Number {
        value: Rational,
    },
    Expression {
        poly: Poly,
    },
    /// Rational solutions in ascending order (one or two).
    Roots {
        var: char,
        roots: Vec<Rational>,
    },
    /// Two irrational solutions `center ± coeff√radicand`.
    SurdRoots {
        var: char,
        roots: Surd,
    },
    /// `var op bound`, always with the variable on the left.
    Inequality {
        var: char,
        op: RelOp,
        bound: Rational,
    },
    AllReals {
        var: char,
    },
    NoSolution {
        var: char,
    },
    /// Every number except those making a denominator zero (`\frac{2x}{x} = 2`).
    AllRealsExcept {
        var: char,
        excluded: Vec<Rational>,
    },
    /// The unique solution of a system: `values[k]` is the value of `vars[k]`; the variables
    /// are in alphabetical order, as a point `(x, y)` lists them.
    Point {
        vars: Vec<char>,
        values: Vec<Rational>,
    },
    /// A system whose equations contradict each other.
    SystemNoSolution {
        vars: Vec<char>,
    },
    /// A system whose equations are the same line `coeffs · vars = rhs` (coefficients
    /// integers, coprime, the first non-zero one positive); every point of it is a solution.
    /// All coefficients zero means every pair of numbers.
    SystemInfinite {
        vars: Vec<char>,
        coeffs: Vec<Rational>,
        rhs: Rational,
    },
}

impl fmt::Display for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Answer::Number { value } => write!(f, "{value}"),
            Answer::Expression { poly } => write!(f, "{poly}"),
            Answer::Roots { var, roots } => {
                let parts: Vec<String> = roots.iter().map(|r| format!("{var} = {r}")).collect();
                write!(f, "{}", parts.join(" or "))
            }
            Answer::SurdRoots { var, roots } => write!(f, "{var} = {roots}"),
            Answer::Inequality { var, op, bound } => write!(f, "{var} {} {bound}", op.symbol()),
            Answer::AllReals { .. } => write!(f, "every real number"),
            Answer::NoSolution { .. } => write!(f, "no solution"),
            Answer::AllRealsExcept { var, excluded } => {
                let ex: Vec<String> = excluded.iter().map(|r| format!("{var} ≠ {r}")).collect();
                write!(f, "every real number with {}", ex.join(" and "))
            }
            Answer::Point { vars, values } => {
                let parts: Vec<String> = vars.iter().zip(values).map(|(v, x)| format!("{v} = {x}")).collect();
                write!(f, "{}", parts.join(", "))
            }
            Answer::SystemNoSolution { .. } => write!(f, "no solution"),
            Answer::SystemInfinite { vars, coeffs, rhs } => {
                if coeffs.iter().all(Rational::is_zero) {
                    let names: Vec<String> = vars.iter().map(char::to_string).collect();
                    write!(f, "infinitely many solutions: every ({})", names.join(", "))
                } else {
                    write!(
                        f,
                        "infinitely many solutions: every point with {}",
                        system::line_text(vars, coeffs, rhs)
                    )
                }
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Solution {
    pub kind: SolutionKind,
    pub answer: Answer,
    /// `answer` as text, e.g. `x = 4` or `x = 2 or x = 3`.
    pub answer_text: String,
    pub steps: Vec<String>,
}

impl Solution {
    fn new(kind: SolutionKind, answer: Answer, steps: Vec<String>) -> Solution {
        Solution {
            kind,
            answer_text: answer.to_string(),
            answer,
            steps,
        }
    }
}

/// Solves or evaluates a problem given in LaTeX.
///
/// * numeric expression → its exact value, one operation per step;
/// * expression with a variable → expanded and collected;
/// * linear equation / inequality in one variable → solved with steps;
/// * quadratic equation → solved via the discriminant, exact (surd form if irrational).
pub fn solve(problem: &str) -> Result<Solution, CasError> {
    match parse(problem)? {
        Statement::Expr(e) => Ok(solve_expr(&e)?),
        Statement::Relation { lhs, op, rhs } => Ok(solve_relation(&lhs, op, &rhs)?),
        Statement::System(eqs) => Ok(solve_system(&eqs)?),
        Statement::EmptySet | Statement::AllReals => Err(MathError::Unsupported("nothing to solve".into()).into()),
    }
}

fn solve_expr(e: &Expr) -> Result<Solution, MathError> {
    if e.variables().is_empty() {
        let (value, steps) = evaluate_with_steps(e)?;
        let kind = if has_percent(e) {
            SolutionKind::Percentage
        } else {
            SolutionKind::Evaluation
        };
        return Ok(Solution::new(kind, Answer::Number { value }, steps));
    }
    let poly = Poly::from_expr(e)?;
    let mut steps = Vec::new();
    if poly.to_string() != e.to_string() {
        steps.push(format!("expand and collect like terms: {poly}"));
    }
    Ok(Solution::new(
        SolutionKind::Simplification,
        Answer::Expression { poly },
        steps,
    ))
}

pub(crate) fn rel(l: &Poly, op: RelOp, r: &Poly) -> String {
    format!("{l} {} {r}", op.symbol())
}

/// Rational in a product or power: parenthesised if negative or a fraction.
fn paren(r: &Rational) -> String {
    if r.is_negative() || !r.is_integer() {
        format!("({r})")
    } else {
        r.to_string()
    }
}

/// Variables of both sides, in order of first appearance.
pub(crate) fn relation_vars(lhs: &Expr, rhs: &Expr) -> Vec<char> {
    let mut vars = lhs.variables();
    for v in rhs.variables() {
        if !vars.contains(&v) {
            vars.push(v);
        }
    }
    vars
}

fn solve_relation(lhs: &Expr, op: RelOp, rhs: &Expr) -> Result<Solution, MathError> {
    let var = match relation_vars(lhs, rhs).as_slice() {
        [v] => *v,
        [] => return Err(MathError::Unsupported("a relation without a variable".into())),
        [a, b, ..] => return Err(MathError::MultipleVariables(*a, *b)),
    };
    if let Some(s) = rational::solve_rational(var, lhs, op, rhs)? {
        return Ok(s);
    }
    let mut s = solve_in(var, lhs, op, rhs, Vec::new())?;
    if has_percent(lhs) || has_percent(rhs) {
        s.kind = SolutionKind::Percentage;
    }
    Ok(s)
}

/// Whether `e` contains a percent sign anywhere.
pub(crate) fn has_percent(e: &Expr) -> bool {
    match e {
        Expr::Percent(_) => true,
        Expr::Num(_) | Expr::Var(_) => false,
        Expr::Neg(a) => has_percent(a),
        Expr::Add(a, b)
        | Expr::Sub(a, b)
        | Expr::PlusMinus(a, b)
        | Expr::Mul(a, b)
        | Expr::Div(a, b)
        | Expr::Pow(a, b)
        | Expr::Root(a, b) => has_percent(a) || has_percent(b),
    }
}

/// Solves the polynomial relation `lhs op rhs` in `var`, continuing `steps`.
pub(crate) fn solve_in(
    var: char,
    lhs: &Expr,
    op: RelOp,
    rhs: &Expr,
    mut steps: Vec<String>,
) -> Result<Solution, MathError> {
    let with_var = |p: Poly| Poly { var: Some(var), ..p };
    let l = with_var(Poly::from_expr(lhs)?);
    let r = with_var(Poly::from_expr(rhs)?);
    let as_written = l.to_string() == lhs.to_string() && r.to_string() == rhs.to_string();
    if !as_written {
        steps.push(format!("expand and collect like terms: {}", rel(&l, op, &r)));
    }
    let standard = r.is_zero() && l.to_string() == lhs.to_string();
    solve_polys(var, l, op, r, standard, steps)
}

/// Solves `l op r` for polynomials already expanded and collected (and shown in `steps`).
/// `standard` says that `l = 0` is already how the problem reads.
pub(crate) fn solve_polys(
    var: char,
    mut l: Poly,
    op: RelOp,
    mut r: Poly,
    standard: bool,
    mut steps: Vec<String>,
) -> Result<Solution, MathError> {
    let with_var = |p: Poly| Poly { var: Some(var), ..p };
    l = with_var(l);
    r = with_var(r);
    let diff = l.sub(&r)?;
    match diff.degree() {
        0 => Ok(degenerate(var, diff.coeff(0), op, steps)),
        1 => {
            if l.degree() > 1 || r.degree() > 1 {
                // The squares cancel; restart from `diff op 0`.
                l = diff;
                r = with_var(Poly::constant(Rational::ZERO));
                steps.push(format!("bring all terms to the left side: {}", rel(&l, op, &r)));
            }
            linear(var, l, op, r, steps)
        }
        2 if op == RelOp::Eq => quadratic(var, diff, standard, steps),
        2 => Err(MathError::Unsupported("quadratic inequalities".into())),
        d => Err(MathError::Unsupported(format!("equations of degree {d}"))),
    }
}

fn degenerate(var: char, d: Rational, op: RelOp, mut steps: Vec<String>) -> Solution {
    let holds = match op {
        RelOp::Eq => d.is_zero(),
        RelOp::Lt => d.is_negative(),
        RelOp::Gt => d.is_positive(),
        RelOp::Le => !d.is_positive(),
        RelOp::Ge => !d.is_negative(),
    };
    steps.push(format!(
        "bring all terms to the left side; {var} cancels: {d} {} 0",
        op.symbol()
    ));
    let answer = if holds {
        steps.push("this is always true, so every number is a solution".to_string());
        Answer::AllReals { var }
    } else {
        steps.push("this is never true, so there is no solution".to_string());
        Answer::NoSolution { var }
    };
    Solution::new(SolutionKind::Degenerate, answer, steps)
}

fn linear(var: char, mut l: Poly, mut op: RelOp, mut r: Poly, mut steps: Vec<String>) -> Result<Solution, MathError> {
    if l.coeff(1).is_zero() {
        (l, r, op) = (r, l, op.swap());
        steps.push(format!("swap the sides: {}", rel(&l, op, &r)));
    }
    let c = r.coeff(1);
    if !c.is_zero() {
        let term = Poly::monomial(c.clone(), var, 1);
        let verb = if c.is_positive() {
            format!("subtract {term} from both sides")
        } else {
            format!("add {} to both sides", term_text(&c.abs()?, var, 1))
        };
        l = l.sub(&term)?;
        r = r.sub(&term)?;
        steps.push(format!("{verb}: {}", rel(&l, op, &r)));
    }
    let b = l.coeff(0);
    if !b.is_zero() {
        let verb = if b.is_positive() {
            format!("subtract {b} from both sides")
        } else {
            format!("add {} to both sides", b.abs()?)
        };
        let k = Poly::constant(b);
        l = l.sub(&k)?;
        r = r.sub(&k)?;
        steps.push(format!("{verb}: {}", rel(&l, op, &r)));
    }
    let a = l.coeff(1);
    let bound = r.coeff(0).checked_div(&a)?;
    if a != Rational::ONE {
        if a.is_negative() {
            op = op.swap();
        }
        let flip = if a.is_negative() && op != RelOp::Eq {
            ", which reverses the inequality sign"
        } else {
            ""
        };
        // `(2/3)x = 4` reads better as "multiply by 3/2" than "divide by 2/3".
        let verb = if a == Rational::integer(-1) {
            format!("multiply both sides by -1{flip}")
        } else if !a.is_integer() {
            format!("multiply both sides by {}{flip}", a.recip()?)
        } else {
            format!("divide both sides by {a}{flip}")
        };
        steps.push(format!("{verb}: {var} {} {bound}", op.symbol()));
    }
    Ok(if op == RelOp::Eq {
        Solution::new(
            SolutionKind::LinearEquation,
            Answer::Roots {
                var,
                roots: vec![bound],
            },
            steps,
        )
    } else {
        Solution::new(
            SolutionKind::LinearInequality,
            Answer::Inequality { var, op, bound },
            steps,
        )
    })
}

fn quadratic(var: char, mut p: Poly, already_standard: bool, mut steps: Vec<String>) -> Result<Solution, MathError> {
    let zero = Poly {
        var: Some(var),
        coeffs: vec![],
    };
    if !already_standard {
        steps.push(format!(
            "bring all terms to the left side: {}",
            rel(&p, RelOp::Eq, &zero)
        ));
    }
    if p.coeff(2).is_negative() {
        p = p.neg()?;
        steps.push(format!("multiply both sides by -1: {}", rel(&p, RelOp::Eq, &zero)));
    }
    let (a, b, c) = (p.coeff(2), p.coeff(1), p.coeff(0));
    steps.push(format!("a = {a}, b = {b}, c = {c}"));
    let four_ac = Rational::integer(4).checked_mul(&a)?.checked_mul(&c)?;
    let disc = b.checked_mul(&b)?.checked_sub(four_ac)?;
    steps.push(format!(
        "discriminant: D = b^2 - 4ac = {}^2 - 4 · {} · {} = {disc}",
        paren(&b),
        paren(&a),
        paren(&c)
    ));
    let two_a = Rational::integer(2).checked_mul(&a)?;
    let neg_b = b.checked_neg()?;
    if disc.is_negative() {
        steps.push("D < 0, so there is no real solution".into());
        return Ok(Solution::new(
            SolutionKind::QuadraticEquation,
            Answer::NoSolution { var },
            steps,
        ));
    }
    if disc.is_zero() {
        let root = neg_b.checked_div(two_a)?;
        steps.push(format!(
            "D = 0, so there is exactly one solution: {var} = -b / (2a) = {root}"
        ));
        return Ok(Solution::new(
            SolutionKind::QuadraticEquation,
            Answer::Roots { var, roots: vec![root] },
            steps,
        ));
    }
    if let Some(s) = disc.sqrt() {
        let r1 = neg_b.checked_sub(&s)?.checked_div(&two_a)?;
        let r2 = neg_b.checked_add(&s)?.checked_div(&two_a)?;
        steps.push(format!(
            "√D = {s}, so {var} = (-b ± √D) / (2a) = ({neg_b} ± {s}) / {two_a}"
        ));
        steps.push(format!("{var} = {r1} or {var} = {r2}"));
        let mut roots = vec![r1, r2];
        roots.sort();
        return Ok(Solution::new(
            SolutionKind::QuadraticEquation,
            Answer::Roots { var, roots },
            steps,
        ));
    }
    // √(p/q) = √(pq)/q = (k/q)√m with m square-free.
    let (k, m) = split_square_big(&(disc.numer() * disc.denom()));
    // The radicand is a u64 (see `Surd`); a larger one is no school problem.
    let m = m.to_u64().ok_or(MathError::Overflow)?;
    let coeff = Rational::from_bigints(k, disc.denom())?.checked_div(&two_a)?;
    let roots = Surd {
        center: neg_b.checked_div(&two_a)?,
        coeff,
        radicand: m,
    };
    steps.push(format!(
        "√D = √{disc} is irrational, so {var} = (-b ± √D) / (2a) = ({neg_b} ± √{disc}) / {two_a}"
    ));
    steps.push(format!("simplify: {var} = {roots}"));
    Ok(Solution::new(
        SolutionKind::QuadraticEquation,
        Answer::SurdRoots { var, roots },
        steps,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_steps() {
        let s = solve("2x+3=11").unwrap();
        assert_eq!(s.answer_text, "x = 4");
        assert_eq!(
            s.steps,
            vec!["subtract 3 from both sides: 2x = 8", "divide both sides by 2: x = 4"]
        );
    }

    #[test]
    fn inequality_flips() {
        let s = solve("-2x + 1 > 9").unwrap();
        assert_eq!(s.answer_text, "x < -4");
        assert_eq!(
            s.steps.last().unwrap(),
            "divide both sides by -2, which reverses the inequality sign: x < -4"
        );
    }

    #[test]
    fn quadratic_surd() {
        let s = solve("x^2 - 5x + 5 = 0").unwrap();
        assert_eq!(s.answer_text, "x = (5 ± √5)/2");
        let s = solve("x^2 - 2x - 2 = 0").unwrap();
        assert_eq!(s.answer_text, "x = 1 ± √3");
    }
}
