//! Proportions (`\frac{x}{4} = \frac{6}{8}`, `2:4 = 3:x`) and other equations with the
//! variable in a denominator (`\frac{3}{x} + 1 = 2`).
//!
//! A proportion is solved by cross-multiplying; any other rational equation first becomes one
//! fraction per side. Values that make a denominator zero are excluded up front (the step a
//! teacher writes first) and every candidate is checked against the original equation, so an
//! extraneous root introduced by clearing denominators is dropped with a step saying why.

use super::{Answer, Solution, SolutionKind, rel, solve_in, solve_polys};
use crate::ast::{Expr, RelOp};
use crate::error::MathError;
use crate::eval::eval_with;
use crate::poly::{MAX_DEGREE, Poly};

/// `num / den`, both polynomials in one variable.
struct RatFn {
    num: Poly,
    den: Poly,
}

impl RatFn {
    fn poly(p: Poly) -> RatFn {
        RatFn {
            num: p,
            den: Poly::constant(crate::number::Rational::ONE),
        }
    }

    /// Folds a constant denominator into the numerator so that `x/2` stays a polynomial.
    fn tidy(self) -> Result<RatFn, MathError> {
        match self.den.as_constant() {
            Some(c) => Ok(RatFn::poly(self.num.scale(c.recip()?)?)),
            None => Ok(self),
        }
    }

    fn from_expr(e: &Expr) -> Result<RatFn, MathError> {
        if !matches!(
            e,
            Expr::Div(..) | Expr::Add(..) | Expr::Sub(..) | Expr::Mul(..) | Expr::Neg(_) | Expr::Pow(..)
        ) {
            return Ok(RatFn::poly(Poly::from_expr(e)?));
        }
        let r = match e {
            Expr::Neg(a) => {
                let a = RatFn::from_expr(a)?;
                RatFn {
                    num: a.num.neg()?,
                    den: a.den,
                }
            }
            Expr::Add(a, b) | Expr::Sub(a, b) => {
                let (x, y) = (RatFn::from_expr(a)?, RatFn::from_expr(b)?);
                let y_num = if matches!(e, Expr::Sub(..)) {
                    y.num.neg()?
                } else {
                    y.num
                };
                if x.den == y.den {
                    RatFn {
                        num: x.num.add(&y_num)?,
                        den: x.den,
                    }
                } else {
                    RatFn {
                        num: x.num.mul(&y.den)?.add(&y_num.mul(&x.den)?)?,
                        den: x.den.mul(&y.den)?,
                    }
                }
            }
            Expr::Mul(a, b) => {
                let (x, y) = (RatFn::from_expr(a)?, RatFn::from_expr(b)?);
                RatFn {
                    num: x.num.mul(&y.num)?,
                    den: x.den.mul(&y.den)?,
                }
            }
            Expr::Div(a, b) => {
                let (x, y) = (RatFn::from_expr(a)?, RatFn::from_expr(b)?);
                if y.num.is_zero() {
                    return Err(MathError::DivisionByZero);
                }
                RatFn {
                    num: x.num.mul(&y.den)?,
                    den: x.den.mul(&y.num)?,
                }
            }
            Expr::Pow(a, k) => {
                let k = Poly::from_expr(k)?
                    .as_constant()
                    .and_then(|k| k.to_i128())
                    .filter(|k| k.unsigned_abs() <= MAX_DEGREE as u128)
                    .ok_or_else(|| MathError::NotPolynomial(format!("exponent in {e}")))?;
                let x = RatFn::from_expr(a)?;
                let (mut num, mut den) = (
                    Poly::constant(crate::number::Rational::ONE),
                    Poly::constant(crate::number::Rational::ONE),
                );
                for _ in 0..k.unsigned_abs() {
                    num = num.mul(&x.num)?;
                    den = den.mul(&x.den)?;
                }
                if k < 0 {
                    if x.num.is_zero() {
                        return Err(MathError::DivisionByZero);
                    }
                    (num, den) = (den, num);
                }
                RatFn { num, den }
            }
            _ => unreachable!("filtered above"),
        };
        r.tidy()
    }
}

/// Whether `e` has `var` in a denominator (`\frac{3}{x}`, `2 : x`, `x^{-1}`).
fn var_in_denominator(e: &Expr) -> bool {
    match e {
        Expr::Div(a, b) => !b.variables().is_empty() || var_in_denominator(a) || var_in_denominator(b),
        Expr::Pow(a, b) => {
            (!a.variables().is_empty() && matches!(&**b, Expr::Neg(_))
                || matches!(&**b, Expr::Num(k) if k.is_negative() && !a.variables().is_empty()))
                || var_in_denominator(a)
        }
        Expr::Num(_) | Expr::Var(_) => false,
        Expr::Neg(a) | Expr::Percent(a) => var_in_denominator(a),
        Expr::Add(a, b) | Expr::Sub(a, b) | Expr::PlusMinus(a, b) | Expr::Mul(a, b) | Expr::Root(a, b) => {
            var_in_denominator(a) || var_in_denominator(b)
        }
    }
}

/// The denominators of `e` that contain the variable, as polynomials, to list the values
/// they exclude.
fn variable_denominators(e: &Expr, out: &mut Vec<Poly>) {
    match e {
        Expr::Div(a, b) => {
            if !b.variables().is_empty()
                && let Ok(p) = Poly::from_expr(b)
            {
                out.push(p);
            }
            variable_denominators(a, out);
            variable_denominators(b, out);
        }
        Expr::Num(_) | Expr::Var(_) => {}
        Expr::Neg(a) | Expr::Percent(a) => variable_denominators(a, out),
        Expr::Add(a, b)
        | Expr::Sub(a, b)
        | Expr::PlusMinus(a, b)
        | Expr::Mul(a, b)
        | Expr::Pow(a, b)
        | Expr::Root(a, b) => {
            variable_denominators(a, out);
            variable_denominators(b, out);
        }
    }
}

/// Rational zeros of a polynomial of degree 1 or 2 (others are not listed; candidates are
/// still checked against the equation).
fn rational_zeros(p: &Poly) -> Vec<crate::number::Rational> {
    let zeros = || -> Result<Vec<crate::number::Rational>, MathError> {
        Ok(match p.degree() {
            1 => vec![p.coeff(0).checked_neg()?.checked_div(p.coeff(1))?],
            2 => {
                let (a, b, c) = (p.coeff(2), p.coeff(1), p.coeff(0));
                let d = b
                    .checked_mul(&b)?
                    .checked_sub(crate::number::Rational::integer(4).checked_mul(&a)?.checked_mul(&c)?)?;
                match d.sqrt() {
                    Some(s) if !d.is_negative() => {
                        let two_a = a.checked_mul(crate::number::Rational::integer(2))?;
                        let mut v = vec![
                            b.checked_neg()?.checked_sub(&s)?.checked_div(&two_a)?,
                            b.checked_neg()?.checked_add(&s)?.checked_div(&two_a)?,
                        ];
                        v.sort();
                        v.dedup();
                        v
                    }
                    _ => vec![],
                }
            }
            _ => vec![],
        })
    };
    zeros().unwrap_or_default()
}

/// `N/D` as text for a step: `3x / (2x^2)`, `(x + 1) / (x - 2)`, or just `N` when `D = 1`.
fn frac_text(f: &RatFn) -> String {
    let wrap = |p: &Poly| {
        let t = p.to_string();
        if t.contains(' ') { format!("({t})") } else { t }
    };
    if f.den.as_constant().is_some_and(|c| c == crate::number::Rational::ONE) {
        f.num.to_string()
    } else {
        format!("{} / {}", wrap(&f.num), wrap(&f.den))
    }
}

/// Solves `lhs op rhs` when it is a proportion or has `var` in a denominator; `None` when it
/// is neither (an ordinary polynomial relation).
pub(crate) fn solve_rational(var: char, lhs: &Expr, op: RelOp, rhs: &Expr) -> Result<Option<Solution>, MathError> {
    let proportion = matches!((lhs, rhs), (Expr::Div(a, b), Expr::Div(c, d))
        if [a, b, c, d].iter().all(|x| Poly::from_expr(x).is_ok()));
    let rational = var_in_denominator(lhs) || var_in_denominator(rhs);
    if !(proportion || rational) || op != RelOp::Eq {
        if rational {
            return Err(MathError::Unsupported(
                "inequalities with the variable in a denominator".into(),
            ));
        }
        return Ok(None);
    }
    let mut steps = Vec::new();
    let mut dens = Vec::new();
    variable_denominators(lhs, &mut dens);
    variable_denominators(rhs, &mut dens);
    let mut excluded = Vec::new();
    for d in &dens {
        for z in rational_zeros(d) {
            if !excluded.contains(&z) {
                excluded.push(z);
            }
        }
    }
    excluded.sort();
    if !excluded.is_empty() {
        let ex: Vec<String> = excluded.iter().map(|z| format!("{var} ≠ {z}")).collect();
        steps.push(format!("a denominator cannot be zero, so {}", ex.join(" and ")));
    }
    let same_den = |b: &Expr, d: &Expr| matches!((Poly::from_expr(b), Poly::from_expr(d)), (Ok(p), Ok(q)) if p == q);
    let (kind, solution) = if let (true, Expr::Div(a, b), Expr::Div(c, d)) = (proportion, lhs, rhs)
        && same_den(b, d)
    {
        steps.push(format!(
            "the denominators are equal, so the numerators are equal: {a} = {c}"
        ));
        (SolutionKind::Proportion, solve_in(var, a, RelOp::Eq, c, steps)?)
    } else if let (true, Expr::Div(a, b), Expr::Div(c, d)) = (proportion, lhs, rhs) {
        let left = Expr::Mul(a.clone(), d.clone());
        let right = Expr::Mul(c.clone(), b.clone());
        steps.push(format!("cross-multiply: {left} = {right}"));
        (
            SolutionKind::Proportion,
            solve_in(var, &left, RelOp::Eq, &right, steps)?,
        )
    } else {
        let with_var = |p: Poly| Poly { var: Some(var), ..p };
        let (l, r) = (RatFn::from_expr(lhs)?, RatFn::from_expr(rhs)?);
        let single = format!("{} = {}", frac_text(&l), frac_text(&r));
        if single != format!("{lhs} = {rhs}") {
            steps.push(format!("write each side as a single fraction: {single}"));
        }
        let (left, right) = if l.den == r.den {
            let (left, right) = (with_var(l.num), with_var(r.num));
            steps.push(format!(
                "the denominators are equal, so the numerators are equal: {}",
                rel(&left, RelOp::Eq, &right)
            ));
            (left, right)
        } else {
            let left = with_var(l.num.mul(&r.den)?);
            let right = with_var(r.num.mul(&l.den)?);
            steps.push(format!(
                "multiply both sides by the denominators (cross-multiply): {}",
                rel(&left, RelOp::Eq, &right)
            ));
            (left, right)
        };
        (
            SolutionKind::RationalEquation,
            solve_polys(var, left, RelOp::Eq, right, false, steps)?,
        )
    };
    Ok(Some(exclude(var, lhs, rhs, kind, solution, excluded)?))
}

/// Drops candidates at which the original equation is undefined (or, defensively, false).
fn exclude(
    var: char,
    lhs: &Expr,
    rhs: &Expr,
    kind: SolutionKind,
    s: Solution,
    excluded: Vec<crate::number::Rational>,
) -> Result<Solution, MathError> {
    let mut steps = s.steps;
    let answer = match s.answer {
        Answer::Roots { roots, .. } => {
            let mut kept = Vec::new();
            for r in roots {
                let at = |e: &Expr| eval_with(e, &|c| (c == var).then(|| r.clone()));
                match (at(lhs), at(rhs)) {
                    (Ok(a), Ok(b)) if a == b => kept.push(r),
                    (Err(MathError::DivisionByZero), _) | (_, Err(MathError::DivisionByZero)) => {
                        steps.push(format!("{var} = {r} makes a denominator zero, so it is not a solution"));
                    }
                    (Ok(_), Ok(_)) => {
                        steps.push(format!("{var} = {r} does not satisfy the original equation"));
                    }
                    // Cannot be checked exactly (e.g. an irrational value): keep it.
                    _ => kept.push(r),
                }
            }
            if kept.is_empty() {
                steps.push("no candidate is left, so there is no solution".into());
                Answer::NoSolution { var }
            } else {
                Answer::Roots { var, roots: kept }
            }
        }
        Answer::AllReals { .. } if !excluded.is_empty() => {
            let ex: Vec<String> = excluded.iter().map(|z| format!("{var} = {z}")).collect();
            steps.push(format!("every number is a solution except {}", ex.join(" and ")));
            Answer::AllRealsExcept { var, excluded }
        }
        other => other,
    };
    Ok(Solution::new(kind, answer, steps))
}

#[cfg(test)]
mod tests {
    use crate::solve::{SolutionKind, solve};

    #[test]
    fn proportions_cross_multiply() {
        let s = solve("\\frac{3}{x} = \\frac{6}{8}").unwrap();
        assert_eq!(s.kind, SolutionKind::Proportion);
        assert_eq!(s.answer_text, "x = 4");
        assert_eq!(s.steps[0], "a denominator cannot be zero, so x ≠ 0");
        assert_eq!(s.steps[1], "cross-multiply: 3 · 8 = 6x");
        let s = solve("2:4 = 3:x").unwrap();
        assert_eq!(s.answer_text, "x = 6");
        let s = solve("\\frac{x}{4} = \\frac{6}{8}").unwrap();
        assert_eq!(s.answer_text, "x = 3");
    }

    #[test]
    fn extraneous_roots_are_dropped() {
        let s = solve("\\frac{x^2}{x - 1} = \\frac{1}{x - 1}").unwrap();
        assert_eq!(s.answer_text, "x = -1");
        assert!(
            s.steps
                .iter()
                .any(|t| t == "x = 1 makes a denominator zero, so it is not a solution"),
            "{:?}",
            s.steps
        );
        let s = solve("\\frac{1}{x} + \\frac{1}{2x} = 3").unwrap();
        assert_eq!(s.kind, SolutionKind::RationalEquation);
        assert_eq!(s.answer_text, "x = 1/2");
        assert_eq!(
            solve("\\frac{2x}{x} = 2").unwrap().answer_text,
            "every real number with x ≠ 0"
        );
        assert_eq!(solve("\\frac{1}{x} = 0").unwrap().answer_text, "no solution");
    }
}
