//! Checking a student's answer by mathematical equivalence, not by string comparison.
//!
//! The problem is solved first; the student's answer is then parsed and evaluated exactly
//! and compared with the solution: `x = 8/2`, `4`, `4,0` and `\frac{8}{2}` all equal 4;
//! roots are compared as sets (any order, `\pm` allowed); `4 < x` equals `x > 4`.
//! Irrational roots are compared exactly in Q(√m) ([`QVal`]), never with floats.

use serde::{Deserialize, Serialize};

use crate::ast::{Expr, RelOp, Statement};
use crate::error::{CasError, MathError};
use num_traits::ToPrimitive;

use crate::eval::root_index;
use crate::number::{Rational, split_square_big};
use crate::parser::parse_list;
use crate::poly::Poly;
use crate::solve::system::line_of;
use crate::solve::{Answer, solve};

/// Most values a single answer may expand to through `\pm`.
const MAX_VALUES: usize = 8;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    pub is_correct: bool,
    /// The correct answer as text.
    pub expected: String,
    /// Why the answer is wrong (or empty when it is right), for the student.
    pub feedback: String,
}

/// Decides whether `answer` is a correct answer to `problem` (both LaTeX).
///
/// Errors only when the problem itself cannot be solved; an unreadable answer is simply
/// incorrect, with the parse error in the feedback.
pub fn check(problem: &str, answer: &str) -> Result<Verdict, CasError> {
    let solution = solve(problem)?;
    let expected = solution.answer_text.clone();
    let verdict = |ok: bool, feedback: String| Verdict {
        is_correct: ok,
        expected: expected.clone(),
        feedback,
    };
    // `(2,3)` for a point: with one comma and no semicolon, the comma separates the
    // coordinates rather than marking decimals (write `(2,5; 3)` for a decimal coordinate).
    let spaced;
    let answer =
        if matches!(solution.answer, Answer::Point { .. }) && !answer.contains(';') && answer.matches(',').count() == 1
        {
            spaced = answer.replace(',', ", ");
            spaced.as_str()
        } else {
            answer
        };
    let statements = match parse_list(answer) {
        Ok(s) => s,
        Err(e) => return Ok(verdict(false, format!("could not read the answer: {e}"))),
    };
    Ok(match compare(&solution.answer, &statements) {
        Ok(()) => verdict(true, String::new()),
        Err(why) => verdict(false, why),
    })
}

/// `Ok(())` if `statements` express `expected`, else the reason why not.
fn compare(expected: &Answer, statements: &[Statement]) -> Result<(), String> {
    let single = || match statements {
        [s] => Ok(s),
        _ => Err("expected a single answer".to_string()),
    };
    match expected {
        Answer::Number { value } => match single()? {
            Statement::Expr(e) if e.variables().is_empty() => {
                let got = values(e)?;
                if got == [QVal::rational(value.clone())] {
                    Ok(())
                } else {
                    Err("the value is not correct".into())
                }
            }
            _ => Err("expected a number".into()),
        },
        Answer::Expression { poly } => match single()? {
            Statement::Expr(e) => {
                let got = Poly::from_expr(e).map_err(|e| format!("could not simplify the answer: {e}"))?;
                let same_var = got.var == poly.var || got.degree() == 0;
                if !(same_var && got.coeffs == poly.coeffs) {
                    Err("the expression is not equivalent".into())
                } else if !is_collected(e, &got) {
                    // Copying `2(x+3) - x` back is "equivalent" but does not answer "simplify".
                    Err("equivalent, but not simplified: expand and collect like terms".into())
                } else {
                    Ok(())
                }
            }
            _ => Err("expected an expression".into()),
        },
        Answer::Roots { var, roots } => {
            let want: Vec<QVal> = roots.iter().map(|r| QVal::rational(r.clone())).collect();
            compare_roots(*var, &want, statements)
        }
        Answer::SurdRoots { var, roots } => {
            let m = i128::from(roots.radicand);
            let plus = QVal {
                a: roots.center.clone(),
                b: roots.coeff.clone(),
                m,
            };
            let minus = QVal {
                a: roots.center.clone(),
                b: roots.coeff.checked_neg().map_err(|e| e.to_string())?,
                m,
            };
            compare_roots(*var, &[plus, minus], statements)
        }
        Answer::Inequality { var, op, bound } => {
            let (got_op, e) = match single()? {
                Statement::Relation {
                    lhs: Expr::Var(v),
                    op,
                    rhs,
                } if v == var => (*op, rhs),
                Statement::Relation {
                    lhs,
                    op,
                    rhs: Expr::Var(v),
                } if v == var => (op.swap(), lhs),
                _ => return Err(format!("write the answer as {var} < number, {var} ≥ number, ...")),
            };
            if !e.variables().is_empty() {
                return Err(format!("the bound must not contain {var}"));
            }
            if got_op != *op {
                return Err("the direction of the inequality is not correct".into());
            }
            if values(e)? != [QVal::rational(bound.clone())] {
                return Err("the boundary value is not correct".into());
            }
            Ok(())
        }
        Answer::AllReals { .. } => match single()? {
            Statement::AllReals => Ok(()),
            _ => Err("every number is a solution".into()),
        },
        Answer::NoSolution { .. } => match single()? {
            Statement::EmptySet => Ok(()),
            _ => Err("there is no solution".into()),
        },
        Answer::AllRealsExcept { var, excluded } => {
            let ex: Vec<String> = excluded.iter().map(|z| format!("{var} = {z}")).collect();
            Err(format!("every number except {} is a solution", ex.join(" and ")))
        }
        Answer::Point { vars, values } => compare_point(vars, values, statements),
        Answer::SystemNoSolution { .. } => match single()? {
            Statement::EmptySet => Ok(()),
            _ => Err("the system has no solution: its equations contradict each other".into()),
        },
        Answer::SystemInfinite { vars, coeffs, rhs } => {
            let wrong = || {
                Err(Answer::SystemInfinite {
                    vars: vars.clone(),
                    coeffs: coeffs.clone(),
                    rhs: rhs.clone(),
                }
                .to_string())
            };
            match single()? {
                Statement::AllReals => Ok(()),
                // `y = 5 - x` or `x + y = 5`: the same line.
                Statement::Relation {
                    lhs,
                    op: RelOp::Eq,
                    rhs: r,
                } => match line_of(lhs, r, vars) {
                    Ok((c, k)) if c == *coeffs && k == *rhs => Ok(()),
                    _ => wrong(),
                },
                _ => wrong(),
            }
        }
    }
}

/// A system's unique solution: `x = 2, y = 3` in any order, or the bare values `(2, 3)` /
/// `2, 3` in the order of the variables (alphabetical).
fn compare_point(vars: &[char], want: &[Rational], statements: &[Statement]) -> Result<(), String> {
    let names: Vec<String> = vars.iter().map(char::to_string).collect();
    let hint = format!(
        "write the answer as {} or as the point ({})",
        names.iter().map(|v| format!("{v} = …")).collect::<Vec<_>>().join(", "),
        names.join(", ")
    );
    let one_value = |e: &Expr| -> Result<QVal, String> {
        if let Some(v) = e.variables().first() {
            return Err(format!("a value must be a number, not contain {v}"));
        }
        match values(e)?.as_slice() {
            [v] => Ok(v.clone()),
            _ => Err("give one value for each variable".into()),
        }
    };
    let mut got: Vec<Option<QVal>> = vec![None; vars.len()];
    if statements.iter().all(|s| matches!(s, Statement::Expr(_))) {
        if statements.len() != vars.len() {
            return Err(format!("expected {} values: {hint}", vars.len()));
        }
        for (k, s) in statements.iter().enumerate() {
            if let Statement::Expr(e) = s {
                got[k] = Some(one_value(e)?);
            }
        }
    } else {
        for s in statements {
            let (v, e) = match s {
                Statement::Relation {
                    lhs: Expr::Var(v),
                    op: RelOp::Eq,
                    rhs,
                } if vars.contains(v) => (*v, rhs),
                Statement::Relation {
                    lhs,
                    op: RelOp::Eq,
                    rhs: Expr::Var(v),
                } if vars.contains(v) => (*v, lhs),
                _ => return Err(hint),
            };
            let k = vars.iter().position(|x| *x == v).unwrap_or(0);
            if got[k].is_some() {
                return Err(format!("{v} is given twice"));
            }
            got[k] = Some(one_value(e)?);
        }
    }
    if let Some(k) = got.iter().position(Option::is_none) {
        return Err(format!("give a value for {}", vars[k]));
    }
    let wrong: Vec<String> = vars
        .iter()
        .zip(want)
        .zip(&got)
        .filter(|((_, w), g)| g.as_ref() != Some(&QVal::rational((*w).clone())))
        .map(|((v, _), _)| v.to_string())
        .collect();
    match wrong.as_slice() {
        [] => Ok(()),
        [v] => Err(format!("the value of {v} is not correct")),
        _ => Err(format!("the values of {} are not correct", wrong.join(" and "))),
    }
}

/// Whether `e` is written as a sum of monomials, one per power: `x^2 + 2x + 1`, `6 + x`,
/// `\frac{x}{2}`, but not `(x+1)^2`, `2(x+3) - x` or `2x + 6 - x`.
fn is_collected(e: &Expr, poly: &Poly) -> bool {
    let mut terms = Vec::new();
    let mut stack = vec![e];
    while let Some(t) = stack.pop() {
        match t {
            Expr::Add(a, b) | Expr::Sub(a, b) => {
                stack.push(a);
                stack.push(b);
            }
            Expr::Neg(a) => stack.push(a),
            other => terms.push(other),
        }
    }
    let monomial = |t: &Expr| {
        let no_sums = !format!("{t}").contains(['+', '-', '±']);
        no_sums && Poly::from_expr(t).is_ok_and(|p| p.coeffs.iter().filter(|c| !c.is_zero()).count() <= 1)
    };
    let nonzero = poly.coeffs.iter().filter(|c| !c.is_zero()).count();
    terms.iter().all(|t| monomial(t)) && terms.len() == nonzero.max(1)
}

fn compare_roots(var: char, want: &[QVal], statements: &[Statement]) -> Result<(), String> {
    let mut got: Vec<QVal> = Vec::new();
    for s in statements {
        let e = match s {
            Statement::Relation {
                lhs: Expr::Var(v),
                op: RelOp::Eq,
                rhs,
            } if *v == var => rhs,
            Statement::Relation {
                lhs,
                op: RelOp::Eq,
                rhs: Expr::Var(v),
            } if *v == var => lhs,
            Statement::Expr(e) => e,
            _ => return Err(format!("write each solution as {var} = number")),
        };
        if !e.variables().is_empty() {
            return Err(format!("a solution must be a number, not contain {}", e.variables()[0]));
        }
        got.extend(values(e)?);
    }
    let got = unique(got);
    let want = unique(want.to_vec());
    let missing = want.iter().filter(|w| !got.contains(w)).count();
    let wrong = got.iter().filter(|g| !want.contains(g)).count();
    match (missing, wrong) {
        (0, 0) => Ok(()),
        (_, 0) => Err(format!("{missing} solution(s) missing")),
        _ => Err(format!("{wrong} value(s) are not solutions")),
    }
}

/// All values of an answer expression (`1 \pm \sqrt{2}` has two).
fn values(e: &Expr) -> Result<Vec<QVal>, String> {
    let v = eval_q(e).map_err(|e| format!("could not evaluate the answer: {e}"))?;
    Ok(unique(v))
}

/// Removes repeated values, keeping the first of each (QVal has no order to sort by).
fn unique(v: Vec<QVal>) -> Vec<QVal> {
    let mut out: Vec<QVal> = Vec::with_capacity(v.len());
    for x in v {
        if !out.contains(&x) {
            out.push(x);
        }
    }
    out
}

/// A number `a + b√m` of a quadratic field; `m = 1` and `b = 0` for rationals. Enough to
/// evaluate answers such as `\frac{5 + \sqrt{5}}{2}` exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QVal {
    pub a: Rational,
    pub b: Rational,
    pub m: i128,
}

impl QVal {
    pub fn rational(a: Rational) -> QVal {
        QVal {
            a,
            b: Rational::ZERO,
            m: 1,
        }
    }

    fn norm(self) -> QVal {
        if self.b.is_zero() || self.m == 1 {
            QVal::rational(self.a)
        } else {
            self
        }
    }

    fn common_m(x: &QVal, y: &QVal) -> Result<i128, MathError> {
        match (x.b.is_zero(), y.b.is_zero()) {
            (true, _) => Ok(y.m),
            (_, true) => Ok(x.m),
            _ if x.m == y.m => Ok(x.m),
            _ => Err(MathError::Unsupported("sum of different square roots".into())),
        }
    }

    fn add(&self, o: &QVal) -> Result<QVal, MathError> {
        let m = QVal::common_m(self, o)?;
        Ok(QVal {
            a: self.a.checked_add(&o.a)?,
            b: self.b.checked_add(&o.b)?,
            m,
        }
        .norm())
    }

    fn neg(&self) -> Result<QVal, MathError> {
        Ok(QVal {
            a: self.a.checked_neg()?,
            b: self.b.checked_neg()?,
            m: self.m,
        })
    }

    fn mul(&self, o: &QVal) -> Result<QVal, MathError> {
        if self.b.is_zero() && o.b.is_zero() {
            return Ok(QVal::rational(self.a.checked_mul(&o.a)?));
        }
        let m = QVal::common_m(self, o)?;
        let bb = self.b.checked_mul(&o.b)?.checked_mul(Rational::integer(m))?;
        let a = self.a.checked_mul(&o.a)?.checked_add(bb)?;
        let b = self.a.checked_mul(&o.b)?.checked_add(self.b.checked_mul(&o.a)?)?;
        Ok(QVal { a, b, m }.norm())
    }

    fn recip(&self) -> Result<QVal, MathError> {
        // A rational needs no conjugate; squaring it could exceed the size limit needlessly.
        if self.b.is_zero() {
            return Ok(QVal::rational(self.a.recip()?));
        }
        // 1/(a + b√m) = (a - b√m)/(a² - b²m)
        let bbm = self.b.checked_mul(&self.b)?.checked_mul(Rational::integer(self.m))?;
        let n = self.a.checked_mul(&self.a)?.checked_sub(bbm)?;
        Ok(QVal {
            a: self.a.checked_div(&n)?,
            b: self.b.checked_neg()?.checked_div(&n)?,
            m: self.m,
        }
        .norm())
    }

    fn pow(&self, e: &Rational) -> Result<QVal, MathError> {
        if self.b.is_zero() {
            return Ok(QVal::rational(self.a.pow_rational(e)?));
        }
        if !e.is_integer() {
            return Err(MathError::Unsupported(format!("fractional exponent {e}")));
        }
        // Repeated multiplication: bounded by a small exponent.
        let k = match e.to_i128() {
            Some(k) if k.unsigned_abs() <= 64 => k,
            _ => return Err(MathError::Overflow),
        };
        let mut r = QVal::rational(Rational::ONE);
        for _ in 0..k.unsigned_abs() {
            r = r.mul(self)?;
        }
        if k < 0 { r.recip() } else { Ok(r) }
    }

    fn root(&self, n: &Rational) -> Result<QVal, MathError> {
        if !self.b.is_zero() {
            return Err(MathError::Unsupported("the root of a surd".into()));
        }
        let n = root_index(n)?;
        if let Some(r) = self.a.nth_root(n) {
            return Ok(QVal::rational(r));
        }
        if n != 2 || self.a.is_negative() {
            return Err(MathError::Irrational(format!("root of {}", self.a)));
        }
        // √(p/q) = √(pq)/q = (k/q)√m
        let (k, m) = split_square_big(&(self.a.numer() * self.a.denom()));
        let m = m.to_i128().ok_or(MathError::Overflow)?;
        Ok(QVal {
            a: Rational::ZERO,
            b: Rational::from_bigints(k, self.a.denom())?,
            m,
        }
        .norm())
    }
}

/// Evaluates to every value `\pm` allows.
fn eval_q(e: &Expr) -> Result<Vec<QVal>, MathError> {
    type Op<'a> = &'a dyn Fn(&QVal, &QVal) -> Result<Vec<QVal>, MathError>;
    let bin = |a: &Expr, b: &Expr, f: Op| {
        let (xs, ys) = (eval_q(a)?, eval_q(b)?);
        let mut out = Vec::new();
        for x in &xs {
            for y in &ys {
                out.extend(f(x, y)?);
            }
        }
        if out.len() > MAX_VALUES {
            return Err(MathError::Unsupported("too many ±".into()));
        }
        Ok(out)
    };
    match e {
        Expr::Num(r) => Ok(vec![QVal::rational(r.clone())]),
        Expr::Var(c) => Err(MathError::Unsupported(format!("no value for the variable {c}"))),
        Expr::Neg(a) => eval_q(a)?.iter().map(QVal::neg).collect(),
        Expr::Percent(a) => {
            let hundredth = QVal::rational(Rational::new(1, 100)?);
            eval_q(a)?.iter().map(|x| x.mul(&hundredth)).collect()
        }
        Expr::Add(a, b) => bin(a, b, &|x, y| Ok(vec![x.add(y)?])),
        Expr::Sub(a, b) => bin(a, b, &|x, y| Ok(vec![x.add(&y.neg()?)?])),
        Expr::PlusMinus(a, b) => bin(a, b, &|x, y| Ok(vec![x.add(y)?, x.add(&y.neg()?)?])),
        Expr::Mul(a, b) => bin(a, b, &|x, y| Ok(vec![x.mul(y)?])),
        Expr::Div(a, b) => bin(a, b, &|x, y| Ok(vec![x.mul(&y.recip()?)?])),
        Expr::Pow(a, b) => bin(a, b, &|x, y| {
            if !y.b.is_zero() {
                return Err(MathError::Unsupported("irrational exponent".into()));
            }
            Ok(vec![x.pow(&y.a)?])
        }),
        Expr::Root(n, a) => bin(n, a, &|n, x| {
            if !n.b.is_zero() {
                return Err(MathError::Unsupported("irrational root index".into()));
            }
            Ok(vec![x.root(&n.a)?])
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(p: &str, a: &str) -> bool {
        check(p, a).unwrap().is_correct
    }

    #[test]
    fn equivalent_forms() {
        for a in ["x=4", "4", "x = 8/2", "4.0", "4,0", "\\frac{8}{2}", "4 = x"] {
            assert!(ok("2x+3=11", a), "{a}");
        }
        assert!(!ok("2x+3=11", "x=5"));
        assert!(ok("x^2-5x+6=0", "x=3 \\text{ o } x=2"));
        assert!(ok("x^2 - 2x - 2 = 0", "x = 1 \\pm \\sqrt{3}"));
        assert!(ok(
            "x^2 - 2x - 2 = 0",
            "x = \\frac{2 + \\sqrt{12}}{2}, x = \\frac{2 - \\sqrt{12}}{2}"
        ));
        assert!(ok("2x > 8", "4 < x"));
        assert!(!ok("2x > 8", "x < 4"));
    }
}
