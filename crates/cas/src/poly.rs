//! Polynomials in one variable with rational coefficients.
//!
//! Converting an expression to a `Poly` is how we expand and collect like terms:
//! `2(x+3) - x` becomes `x + 6`. The canonical display (descending powers, `x` not `1x`,
//! `- 3` not `+ -3`) is what steps and answers show.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ast::Expr;
use crate::error::MathError;
use crate::eval::root_index;
use crate::number::Rational;

/// Highest degree we expand to; keeps `(x+1)^{1000}` from doing unbounded work.
pub const MAX_DEGREE: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Poly {
    /// The variable, or `None` for a polynomial built only from numbers.
    pub var: Option<char>,
    /// `coeffs[k]` is the coefficient of `var^k`; no trailing zeros (zero is `[]`).
    pub coeffs: Vec<Rational>,
}

impl Poly {
    pub fn constant(c: Rational) -> Poly {
        let mut p = Poly {
            var: None,
            coeffs: vec![c],
        };
        p.trim();
        p
    }

    pub fn var(v: char) -> Poly {
        Poly {
            var: Some(v),
            coeffs: vec![Rational::ZERO, Rational::ONE],
        }
    }

    /// `c · v^k`.
    pub fn monomial(c: Rational, v: char, k: usize) -> Poly {
        let mut coeffs = vec![Rational::ZERO; k + 1];
        coeffs[k] = c;
        let mut p = Poly { var: Some(v), coeffs };
        p.trim();
        p
    }

    fn trim(&mut self) {
        while self.coeffs.last().is_some_and(|c| c.is_zero()) {
            self.coeffs.pop();
        }
    }

    /// Degree, with the zero polynomial having degree 0.
    pub fn degree(&self) -> usize {
        self.coeffs.len().saturating_sub(1)
    }

    pub fn coeff(&self, k: usize) -> Rational {
        self.coeffs.get(k).cloned().unwrap_or(Rational::ZERO)
    }

    pub fn is_zero(&self) -> bool {
        self.coeffs.is_empty()
    }

    /// The value if the polynomial is a constant.
    pub fn as_constant(&self) -> Option<Rational> {
        (self.degree() == 0).then(|| self.coeff(0))
    }

    fn merge_var(&self, o: &Poly) -> Result<Option<char>, MathError> {
        match (self.var, o.var) {
            (Some(a), Some(b)) if a != b => Err(MathError::MultipleVariables(a, b)),
            (a, b) => Ok(a.or(b)),
        }
    }

    pub fn add(&self, o: &Poly) -> Result<Poly, MathError> {
        let var = self.merge_var(o)?;
        let n = self.coeffs.len().max(o.coeffs.len());
        let coeffs = (0..n)
            .map(|k| self.coeff(k).checked_add(o.coeff(k)))
            .collect::<Result<_, _>>()?;
        let mut p = Poly { var, coeffs };
        p.trim();
        Ok(p)
    }

    pub fn neg(&self) -> Result<Poly, MathError> {
        let coeffs = self.coeffs.iter().map(|c| c.checked_neg()).collect::<Result<_, _>>()?;
        Ok(Poly { var: self.var, coeffs })
    }

    pub fn sub(&self, o: &Poly) -> Result<Poly, MathError> {
        self.add(&o.neg()?)
    }

    pub fn mul(&self, o: &Poly) -> Result<Poly, MathError> {
        let var = self.merge_var(o)?;
        if self.is_zero() || o.is_zero() {
            return Ok(Poly { var, coeffs: vec![] });
        }
        if self.degree() + o.degree() > MAX_DEGREE {
            return Err(MathError::Unsupported(format!("degree above {MAX_DEGREE}")));
        }
        let mut coeffs = vec![Rational::ZERO; self.coeffs.len() + o.coeffs.len() - 1];
        for (i, a) in self.coeffs.iter().enumerate() {
            for (j, b) in o.coeffs.iter().enumerate() {
                coeffs[i + j] = coeffs[i + j].checked_add(a.checked_mul(b)?)?;
            }
        }
        let mut p = Poly { var, coeffs };
        p.trim();
        Ok(p)
    }

    pub fn scale(&self, c: Rational) -> Result<Poly, MathError> {
        self.mul(&Poly::constant(c))
    }

    /// Evaluates at `x` by Horner's rule.
    pub fn eval(&self, x: impl std::borrow::Borrow<Rational>) -> Result<Rational, MathError> {
        let x = x.borrow();
        self.coeffs
            .iter()
            .rev()
            .try_fold(Rational::ZERO, |acc, c| acc.checked_mul(x)?.checked_add(c))
    }

    /// Expands and collects `e`. Fails for non-polynomials (`1/x`, `\sqrt{x}`, `x^{1/2}`),
    /// two variables, irrational constants (`\sqrt{2}`), or overflow.
    ///
    /// The recursive part is kept tiny and the per-operator work lives in [`Poly::combine`],
    /// so that the stack frame per tree level stays small.
    pub fn from_expr(e: &Expr) -> Result<Poly, MathError> {
        match e {
            Expr::Num(r) => Ok(Poly::constant(r.clone())),
            Expr::Var(c) => Ok(Poly::var(*c)),
            Expr::Neg(a) => Poly::from_expr(a)?.neg(),
            Expr::Percent(a) => Poly::from_expr(a)?.scale(Rational::new(1, 100)?),
            Expr::Add(a, b)
            | Expr::Sub(a, b)
            | Expr::PlusMinus(a, b)
            | Expr::Mul(a, b)
            | Expr::Div(a, b)
            | Expr::Pow(a, b)
            | Expr::Root(a, b) => {
                let x = Poly::from_expr(a)?;
                let y = Poly::from_expr(b)?;
                Poly::combine(e, x, y)
            }
        }
    }

    /// Applies the binary operator at the root of `e` to its expanded operands.
    #[inline(never)]
    fn combine(e: &Expr, x: Poly, y: Poly) -> Result<Poly, MathError> {
        match e {
            Expr::Add(..) => x.add(&y),
            Expr::Sub(..) => x.sub(&y),
            Expr::Mul(..) => x.mul(&y),
            Expr::PlusMinus(..) => Err(MathError::Unsupported("± inside an expression".into())),
            Expr::Div(..) => match y.as_constant() {
                Some(d) => x.scale(d.recip()?),
                None => Err(MathError::NotPolynomial(format!("division by {e}"))),
            },
            Expr::Pow(..) => {
                let (base, exp) = (x, y);
                let exp = exp
                    .as_constant()
                    .ok_or_else(|| MathError::NotPolynomial(format!("variable exponent in {e}")))?;
                if !exp.is_integer() {
                    return Err(MathError::NotPolynomial(format!("fractional exponent in {e}")));
                }
                if let Some(c) = base.as_constant() {
                    return Ok(Poly {
                        var: base.var,
                        ..Poly::constant(c.pow_rational(&exp)?)
                    });
                }
                let k = match exp.to_i128() {
                    Some(k) if (0..=MAX_DEGREE as i128).contains(&k) => k,
                    _ => return Err(MathError::NotPolynomial(format!("exponent {exp} in {e}"))),
                };
                let mut result = Poly::constant(Rational::ONE);
                for _ in 0..k {
                    result = result.mul(&base)?;
                }
                Ok(result)
            }
            Expr::Root(..) => {
                let (index, radicand) = (x, y);
                let Some(n) = index.as_constant().and_then(|n| root_index(&n).ok()) else {
                    return Err(MathError::Unsupported(format!("root index in {e}")));
                };
                let Some(c) = radicand.as_constant() else {
                    return Err(MathError::NotPolynomial(format!("root of a variable in {e}")));
                };
                match c.nth_root(n) {
                    Some(r) => Ok(Poly {
                        var: radicand.var,
                        ..Poly::constant(r)
                    }),
                    None => Err(MathError::Irrational(e.to_string())),
                }
            }
            Expr::Num(_) | Expr::Var(_) | Expr::Neg(_) | Expr::Percent(_) => {
                unreachable!("combine is only called on binary nodes")
            }
        }
    }
}

/// One term's magnitude and variable part, e.g. `3x^2`, `x`, `(1/2)x`, `5`.
pub(crate) fn term_text(c: &Rational, v: char, k: usize) -> String {
    let var = match k {
        0 => String::new(),
        1 => v.to_string(),
        _ => format!("{v}^{k}"),
    };
    if k == 0 {
        c.to_string()
    } else if *c == Rational::ONE {
        var
    } else if *c == Rational::integer(-1) {
        format!("-{var}")
    } else if c.is_integer() {
        format!("{c}{var}")
    } else {
        format!("({c}){var}")
    }
}

impl fmt::Display for Poly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_zero() {
            return write!(f, "0");
        }
        let v = self.var.unwrap_or('x');
        let mut first = true;
        for k in (0..self.coeffs.len()).rev() {
            let c = &self.coeffs[k];
            if c.is_zero() {
                continue;
            }
            // |c| can only fail at the size limit; fall back to the signed form then.
            let mag = c.abs().unwrap_or_else(|_| c.clone());
            if first {
                write!(f, "{}", term_text(c, v, k))?;
            } else {
                let sign = if c.is_negative() { "-" } else { "+" };
                write!(f, " {sign} {}", term_text(&mag, v, k))?;
            }
            first = false;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parser::parse_expr;

    fn p(s: &str) -> String {
        Poly::from_expr(&parse_expr(s).unwrap()).unwrap().to_string()
    }

    #[test]
    fn expand_and_collect() {
        assert_eq!(p("2(x+3) - x"), "x + 6");
        assert_eq!(p("(x-2)(x-3)"), "x^2 - 5x + 6");
        assert_eq!(p("-(x+1)^2"), "-x^2 - 2x - 1");
        assert_eq!(p("\\frac{x}{2} + \\frac{x}{2}"), "x");
        assert_eq!(p("\\frac{x}{3}"), "(1/3)x");
        assert_eq!(p("x - x"), "0");
        assert_eq!(p("\\sqrt{9}x"), "3x");
    }

    #[test]
    fn rejects_non_polynomials() {
        assert!(Poly::from_expr(&parse_expr("1/x").unwrap()).is_err());
        assert!(Poly::from_expr(&parse_expr("x y").unwrap()).is_err());
        assert!(Poly::from_expr(&parse_expr("(x+1)^{100}").unwrap()).is_err());
        assert!(Poly::from_expr(&parse_expr("\\sqrt{2}").unwrap()).is_err());
    }
}
