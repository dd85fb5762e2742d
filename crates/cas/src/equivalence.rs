//! Solution sets: what "equivalent" means when a student's step is compared with the previous one.
//!
//! Two equations are equivalent when they have the same solutions, two expressions when they
//! are the same polynomial (or the same number), two inequalities when they describe the same
//! ray. Comparing sets rather than forms is what lets a step do several correct things at once
//! (`2x + 3 = 11` → `x = 4`) and still be accepted, and what lets a buggy procedure explain a
//! step the student also simplified (`2x + 3 = 11` → `2x = 14` is "`2x = 11 + 3`").
//!
//! Everything is exact; a statement this module cannot describe (two variables, a cubic, a
//! quadratic inequality) gives an error, and the caller treats the step as unchecked.

use crate::ast::{Expr, RelOp, Statement};
use crate::error::MathError;
use crate::eval::eval_with;
use crate::number::Rational;
use crate::poly::Poly;
use crate::solve::Answer;

/// Most values one statement may stand for through `\pm` (`x = 1 \pm 2`).
const MAX_PLUS_MINUS: usize = 8;

/// How a chain of statements is read: as values of one expression, or as relations whose
/// solutions must be kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    /// Evaluation or simplification: every step is the same expression rewritten; `A = B` is a
    /// chain of equalities, not an equation.
    Expression,
    /// Equations and inequalities in `var`: every step must keep the solutions; a bare number
    /// `4` is read as `var = 4`.
    Relation(char),
    /// A system in two variables (alphabetical): a step is a consequence of the system, so it
    /// must hold at the system's solution; an answer is a point.
    System([char; 2]),
}

#[derive(Debug, Clone, PartialEq)]
pub enum SolutionSet {
    /// The value of a numeric expression.
    Value(Rational),
    /// An expression in a variable, expanded and collected (degree at least 1).
    Expression(Poly),
    /// Finitely many rational solutions, ascending and without repeats; empty: no solution.
    Points(Vec<Rational>),
    /// The two irrational roots of `x^2 + p x + q = 0`, kept as `(p, q)`: comparing the monic
    /// polynomial compares the pair of surds exactly.
    Conjugates(Rational, Rational),
    /// `var op bound`, with `op` one of `<`, `>`, `≤`, `≥`.
    Ray(RelOp, Rational),
    /// Every real number.
    Everything,
    /// The unique solution of a system, values in the order of [`Reading::System`]'s variables.
    Point(Vec<Rational>),
}

impl SolutionSet {
    /// The set as a student would write it, for evidence and notes.
    pub fn describe(&self, var: char) -> String {
        match self {
            SolutionSet::Value(v) => v.to_string(),
            SolutionSet::Expression(p) => p.to_string(),
            SolutionSet::Points(ps) if ps.is_empty() => "no solution".into(),
            SolutionSet::Points(ps) => ps
                .iter()
                .map(|p| format!("{var} = {p}"))
                .collect::<Vec<_>>()
                .join(" or "),
            SolutionSet::Conjugates(p, q) => format!("the roots of {var}^2 + ({p}){var} + ({q}) = 0"),
            SolutionSet::Ray(op, b) => format!("{var} {} {b}", op.symbol()),
            SolutionSet::Everything => "every real number".into(),
            SolutionSet::Point(vs) => format!(
                "({})",
                vs.iter().map(Rational::to_string).collect::<Vec<_>>().join(", ")
            ),
        }
    }
}

/// The set the solver's answer stands for, when it is one of these kinds.
pub fn of_answer(answer: &Answer) -> Option<SolutionSet> {
    Some(match answer {
        Answer::Number { value } => SolutionSet::Value(value.clone()),
        Answer::Expression { poly } if poly.degree() == 0 => SolutionSet::Value(poly.coeff(0)),
        Answer::Expression { poly } => SolutionSet::Expression(poly.clone()),
        Answer::Roots { roots, .. } => SolutionSet::Points(sorted_unique(roots.clone())),
        Answer::SurdRoots { roots, .. } => {
            // x = c ± k√m are the roots of x² − 2c·x + (c² − k²m) = 0.
            let p = Rational::integer(-2).checked_mul(&roots.center).ok()?;
            let k2m = roots
                .coeff
                .checked_mul(&roots.coeff)
                .ok()?
                .checked_mul(Rational::from(i128::from(roots.radicand)))
                .ok()?;
            let q = roots.center.checked_mul(&roots.center).ok()?.checked_sub(&k2m).ok()?;
            SolutionSet::Conjugates(p, q)
        }
        Answer::Inequality { op, bound, .. } => SolutionSet::Ray(*op, bound.clone()),
        Answer::AllReals { .. } => SolutionSet::Everything,
        Answer::NoSolution { .. } => SolutionSet::Points(Vec::new()),
        Answer::Point { values, .. } => SolutionSet::Point(values.clone()),
        _ => return None,
    })
}

/// The set a list of statements stands for (an answer or step may list alternatives:
/// `x = 2, x = 3`): the union of each one's.
pub fn of_list(statements: &[Statement], reading: Reading) -> Result<SolutionSet, MathError> {
    if let Reading::System(vars) = reading {
        return point_of_list(statements, vars);
    }
    let mut acc: Option<SolutionSet> = None;
    for s in statements {
        let next = of_statement(s, reading)?;
        acc = Some(match acc {
            None => next,
            Some(prev) => union(prev, next)?,
        });
    }
    acc.ok_or_else(|| MathError::Unsupported("nothing to compare".into()))
}

fn union(a: SolutionSet, b: SolutionSet) -> Result<SolutionSet, MathError> {
    match (a, b) {
        (SolutionSet::Points(mut x), SolutionSet::Points(y)) => {
            x.extend(y);
            Ok(SolutionSet::Points(sorted_unique(x)))
        }
        (SolutionSet::Points(x), other) | (other, SolutionSet::Points(x)) if x.is_empty() => Ok(other),
        (SolutionSet::Everything, SolutionSet::Everything) => Ok(SolutionSet::Everything),
        _ => Err(MathError::Unsupported("a list of answers of different kinds".into())),
    }
}

fn sorted_unique(mut v: Vec<Rational>) -> Vec<Rational> {
    v.sort();
    v.dedup();
    v
}

/// The set one statement stands for under `reading`.
pub fn of_statement(s: &Statement, reading: Reading) -> Result<SolutionSet, MathError> {
    match (s, reading) {
        (Statement::Expr(e), Reading::Expression) => of_expression(e),
        (Statement::Expr(e), Reading::Relation(v)) => {
            if !e.variables().is_empty() {
                return Err(MathError::Unsupported(
                    "an expression where a relation was expected".into(),
                ));
            }
            of_relation(&Expr::Var(v), RelOp::Eq, e)
        }
        // In a chain of equalities the step claims its right side; the caller checks the left.
        (Statement::Relation { op: RelOp::Eq, rhs, .. }, Reading::Expression) => of_expression(rhs),
        (Statement::Relation { lhs, op, rhs }, Reading::Relation(_)) => of_relation(lhs, *op, rhs),
        (Statement::EmptySet, Reading::Relation(_)) => Ok(SolutionSet::Points(Vec::new())),
        (Statement::System(eqs), Reading::System(vars)) => solve_2x2(eqs, vars),
        (Statement::AllReals, Reading::Relation(_)) => Ok(SolutionSet::Everything),
        _ => Err(MathError::Unsupported("this kind of statement here".into())),
    }
}

/// The value or collected polynomial of an expression.
pub fn of_expression(e: &Expr) -> Result<SolutionSet, MathError> {
    let p = Poly::from_expr(e)?;
    Ok(if p.degree() == 0 {
        SolutionSet::Value(p.coeff(0))
    } else {
        SolutionSet::Expression(Poly {
            var: p.var,
            coeffs: p.coeffs,
        })
    })
}

/// The solutions of `lhs op rhs` in at most one variable.
pub fn of_relation(lhs: &Expr, op: RelOp, rhs: &Expr) -> Result<SolutionSet, MathError> {
    if op == RelOp::Eq
        && let Some(set) = surd_pair(lhs, rhs).or_else(|| surd_pair(rhs, lhs))
    {
        return Ok(set);
    }
    let (ls, rs) = (expand_plus_minus(lhs)?, expand_plus_minus(rhs)?);
    if ls.len() * rs.len() > 1 {
        if op != RelOp::Eq {
            return Err(MathError::Unsupported("± in an inequality".into()));
        }
        let mut acc = SolutionSet::Points(Vec::new());
        for l in &ls {
            for r in &rs {
                acc = union(acc, of_plain_relation(l, op, r)?)?;
            }
        }
        return Ok(acc);
    }
    of_plain_relation(lhs, op, rhs)
}

fn of_plain_relation(lhs: &Expr, op: RelOp, rhs: &Expr) -> Result<SolutionSet, MathError> {
    let diff = match (Poly::from_expr(lhs), Poly::from_expr(rhs)) {
        (Ok(l), Ok(r)) => l.sub(&r)?,
        (Err(MathError::NotPolynomial(_)), _) | (_, Err(MathError::NotPolynomial(_))) if op == RelOp::Eq => {
            return of_rational_equation(lhs, rhs);
        }
        (Err(e), _) | (_, Err(e)) => return Err(e),
    };
    of_poly_relation(&diff, op)
}

/// `lhs = rhs` with the unknown in a denominator: both sides brought to one fraction, the
/// numerators cross-multiplied, and the values that make a denominator zero taken out.
fn of_rational_equation(lhs: &Expr, rhs: &Expr) -> Result<SolutionSet, MathError> {
    let (n1, d1) = fraction(lhs, 0)?;
    let (n2, d2) = fraction(rhs, 0)?;
    let cross = n1.mul(&d2)?.sub(&n2.mul(&d1)?)?;
    match of_poly_relation(&cross, RelOp::Eq)? {
        SolutionSet::Points(ps) => {
            let mut kept = Vec::new();
            for p in ps {
                if !d1.eval(&p)?.is_zero() && !d2.eval(&p)?.is_zero() {
                    kept.push(p);
                }
            }
            Ok(SolutionSet::Points(kept))
        }
        SolutionSet::Everything => Err(MathError::Unsupported("every number but the excluded ones".into())),
        other => Ok(other),
    }
}

/// `e` as numerator and denominator polynomials.
fn fraction(e: &Expr, depth: usize) -> Result<(Poly, Poly), MathError> {
    if depth > 64 {
        return Err(MathError::Unsupported("too deep".into()));
    }
    let one = || Poly::constant(Rational::ONE);
    let f = |x: &Expr| fraction(x, depth + 1);
    Ok(match e {
        Expr::Add(a, b) | Expr::Sub(a, b) => {
            let ((n1, d1), (n2, d2)) = (f(a)?, f(b)?);
            let (x, y) = (n1.mul(&d2)?, n2.mul(&d1)?);
            let n = if matches!(e, Expr::Add(..)) {
                x.add(&y)?
            } else {
                x.sub(&y)?
            };
            (n, d1.mul(&d2)?)
        }
        Expr::Mul(a, b) => {
            let ((n1, d1), (n2, d2)) = (f(a)?, f(b)?);
            (n1.mul(&n2)?, d1.mul(&d2)?)
        }
        Expr::Div(a, b) => {
            let ((n1, d1), (n2, d2)) = (f(a)?, f(b)?);
            if n2.is_zero() {
                return Err(MathError::DivisionByZero);
            }
            (n1.mul(&d2)?, d1.mul(&n2)?)
        }
        Expr::Neg(a) => {
            let (n, d) = f(a)?;
            (n.neg()?, d)
        }
        other => (Poly::from_expr(other)?, one()),
    })
}

/// The solutions of `diff op 0` for a polynomial `diff`.
fn of_poly_relation(diff: &Poly, op: RelOp) -> Result<SolutionSet, MathError> {
    let holds = |d: Rational| match op {
        RelOp::Eq => d.is_zero(),
        RelOp::Lt => d.is_negative(),
        RelOp::Gt => d.is_positive(),
        RelOp::Le => !d.is_positive(),
        RelOp::Ge => !d.is_negative(),
    };
    match diff.degree() {
        0 => Ok(if holds(diff.coeff(0)) {
            SolutionSet::Everything
        } else {
            SolutionSet::Points(Vec::new())
        }),
        1 => {
            let (a, b) = (diff.coeff(1), diff.coeff(0));
            let root = b.checked_neg()?.checked_div(&a)?;
            if op == RelOp::Eq {
                Ok(SolutionSet::Points(vec![root]))
            } else {
                // a·x + b op 0: dividing by a negative a reverses the relation.
                Ok(SolutionSet::Ray(if a.is_negative() { op.swap() } else { op }, root))
            }
        }
        2 if op == RelOp::Eq => {
            let (a, b, c) = (diff.coeff(2), diff.coeff(1), diff.coeff(0));
            let disc = b
                .checked_mul(&b)?
                .checked_sub(Rational::integer(4).checked_mul(&a)?.checked_mul(&c)?)?;
            let two_a = Rational::integer(2).checked_mul(&a)?;
            let neg_b = b.checked_neg()?;
            if disc.is_negative() {
                return Ok(SolutionSet::Points(Vec::new()));
            }
            match disc.sqrt() {
                Some(s) => Ok(SolutionSet::Points(sorted_unique(vec![
                    neg_b.checked_sub(&s)?.checked_div(&two_a)?,
                    neg_b.checked_add(&s)?.checked_div(&two_a)?,
                ]))),
                None => Ok(SolutionSet::Conjugates(b.checked_div(&a)?, c.checked_div(&a)?)),
            }
        }
        2 => Err(MathError::Unsupported("quadratic inequalities".into())),
        d => Err(MathError::Unsupported(format!("relations of degree {d}"))),
    }
}

/// `x = a ± b` (also `x = (a ± b)/d`) with `b` an irrational square root, as the monic quadratic
/// whose roots the two values are: `x^2 - 2a·x + (a^2 - b^2) = 0`. This is how answers from the
/// quadratic formula are written; the parts are exact because `b^2` is rational.
fn surd_pair(var_side: &Expr, value_side: &Expr) -> Option<SolutionSet> {
    if !matches!(var_side, Expr::Var(_)) || !value_side.variables().is_empty() {
        return None;
    }
    let (center, spread, over) = match value_side {
        Expr::PlusMinus(a, b) => (a, b, None),
        Expr::Div(top, d) => match &**top {
            Expr::PlusMinus(a, b) => (a, b, Some(Poly::from_expr(d).ok()?.as_constant()?)),
            _ => return None,
        },
        _ => return None,
    };
    let mut a = Poly::from_expr(center).ok()?.as_constant()?;
    let mut b2 = square(spread, 0)?;
    if let Some(d) = over {
        a = a.checked_div(&d).ok()?;
        b2 = b2.checked_div(d.checked_mul(&d).ok()?).ok()?;
    }
    if b2.sqrt().is_some() {
        return None; // rational after all: the ± expansion handles it
    }
    let p = Rational::integer(-2).checked_mul(&a).ok()?;
    let q = a.checked_mul(&a).ok()?.checked_sub(&b2).ok()?;
    Some(SolutionSet::Conjugates(p, q))
}

/// The rational square of a product or quotient of numbers and square roots (`3\sqrt{5}`).
fn square(e: &Expr, depth: usize) -> Option<Rational> {
    if depth > 16 {
        return None;
    }
    match e {
        Expr::Root(n, r) if **n == Expr::num(2) => Poly::from_expr(r).ok()?.as_constant(),
        Expr::Mul(a, b) => square(a, depth + 1)?.checked_mul(square(b, depth + 1)?).ok(),
        Expr::Div(a, b) => square(a, depth + 1)?.checked_div(square(b, depth + 1)?).ok(),
        Expr::Neg(a) => square(a, depth + 1),
        other => {
            let v = Poly::from_expr(other).ok()?.as_constant()?;
            v.checked_mul(&v).ok()
        }
    }
}

/// The expressions `e` stands for when each `a ± b` is read as `a + b` and as `a - b`.
fn expand_plus_minus(e: &Expr) -> Result<Vec<Expr>, MathError> {
    let bin = |a: &Expr, b: &Expr, make: &dyn Fn(Expr, Expr) -> Vec<Expr>| -> Result<Vec<Expr>, MathError> {
        let (xs, ys) = (expand_plus_minus(a)?, expand_plus_minus(b)?);
        let mut out = Vec::new();
        for x in &xs {
            for y in &ys {
                out.extend(make(x.clone(), y.clone()));
            }
        }
        if out.len() > MAX_PLUS_MINUS {
            return Err(MathError::Unsupported("too many ±".into()));
        }
        Ok(out)
    };
    let b = Box::new;
    match e {
        Expr::PlusMinus(x, y) => bin(x, y, &|x, y| {
            vec![Expr::Add(b(x.clone()), b(y.clone())), Expr::Sub(b(x), b(y))]
        }),
        Expr::Add(x, y) => bin(x, y, &|x, y| vec![Expr::Add(b(x), b(y))]),
        Expr::Sub(x, y) => bin(x, y, &|x, y| vec![Expr::Sub(b(x), b(y))]),
        Expr::Mul(x, y) => bin(x, y, &|x, y| vec![Expr::Mul(b(x), b(y))]),
        Expr::Div(x, y) => bin(x, y, &|x, y| vec![Expr::Div(b(x), b(y))]),
        Expr::Neg(x) => Ok(expand_plus_minus(x)?.into_iter().map(|x| Expr::Neg(b(x))).collect()),
        other => Ok(vec![other.clone()]),
    }
}

/// `a·u + b·v + c` for an expression linear in the two variables, read by evaluating it at
/// four points (exact, and checked at a fifth so that `uv` or `u^2` is refused).
pub fn linear2(e: &Expr, vars: [char; 2]) -> Result<[Rational; 3], MathError> {
    let at = |u: i128, v: i128| {
        eval_with(e, &|c| {
            if c == vars[0] {
                Some(Rational::integer(u))
            } else if c == vars[1] {
                Some(Rational::integer(v))
            } else {
                None
            }
        })
    };
    let c = at(0, 0)?;
    let a = at(1, 0)?.checked_sub(&c)?;
    let b = at(0, 1)?.checked_sub(&c)?;
    let expect = |u: i128, v: i128| -> Result<Rational, MathError> {
        Rational::integer(u)
            .checked_mul(&a)?
            .checked_add(Rational::integer(v).checked_mul(&b)?)?
            .checked_add(&c)
    };
    if at(1, 1)? != expect(1, 1)? || at(2, 3)? != expect(2, 3)? {
        return Err(MathError::Unsupported("not linear in the two unknowns".into()));
    }
    Ok([a, b, c])
}

/// `lhs = rhs` as `a·u + b·v = k`.
pub fn line(lhs: &Expr, rhs: &Expr, vars: [char; 2]) -> Result<[Rational; 3], MathError> {
    let [a1, b1, c1] = linear2(lhs, vars)?;
    let [a2, b2, c2] = linear2(rhs, vars)?;
    Ok([a1.checked_sub(&a2)?, b1.checked_sub(&b2)?, c2.checked_sub(&c1)?])
}

/// The unique solution of two linear equations, by Cramer's rule.
fn solve_2x2(eqs: &[Statement], vars: [char; 2]) -> Result<SolutionSet, MathError> {
    let lines: Vec<[Rational; 3]> = eqs
        .iter()
        .map(|e| match e {
            Statement::Relation {
                lhs,
                op: RelOp::Eq,
                rhs,
            } => line(lhs, rhs, vars),
            _ => Err(MathError::Unsupported("a system of other than equations".into())),
        })
        .collect::<Result<_, _>>()?;
    let [[a, b, k], [c, d, m]] = lines.as_slice() else {
        return Err(MathError::Unsupported("a system of other than two equations".into()));
    };
    let det = a.checked_mul(d)?.checked_sub(b.checked_mul(c)?)?;
    if det.is_zero() {
        return Err(MathError::Unsupported("a system without a unique solution".into()));
    }
    let u = k.checked_mul(d)?.checked_sub(b.checked_mul(m)?)?.checked_div(&det)?;
    let v = a.checked_mul(m)?.checked_sub(k.checked_mul(c)?)?.checked_div(&det)?;
    Ok(SolutionSet::Point(vec![u, v]))
}

/// A point from an answer or a step: `x = 2, y = 3` (any order), `(2, 3)`, or two equations.
fn point_of_list(statements: &[Statement], vars: [char; 2]) -> Result<SolutionSet, MathError> {
    let mut values: [Option<Rational>; 2] = [None, None];
    let mut assigned = true;
    for s in statements {
        match s {
            Statement::Relation {
                lhs: Expr::Var(v),
                op: RelOp::Eq,
                rhs,
            } if rhs.variables().is_empty() => {
                let i = vars
                    .iter()
                    .position(|x| x == v)
                    .ok_or(MathError::Unsupported("another unknown".into()))?;
                values[i] = Some(Poly::from_expr(rhs)?.coeff(0));
            }
            _ => assigned = false,
        }
    }
    if assigned && let [Some(u), Some(v)] = values {
        return Ok(SolutionSet::Point(vec![u, v]));
    }
    match statements {
        [Statement::Expr(a), Statement::Expr(b)] if a.variables().is_empty() && b.variables().is_empty() => {
            Ok(SolutionSet::Point(vec![
                Poly::from_expr(a)?.coeff(0),
                Poly::from_expr(b)?.coeff(0),
            ]))
        }
        [Statement::System(eqs)] => solve_2x2(eqs, vars),
        _ => solve_2x2(statements, vars),
    }
}

/// Whether every statement of a step holds at `point` (each a consequence of the system).
pub fn holds_at(statements: &[Statement], vars: [char; 2], point: &[Rational]) -> Result<bool, MathError> {
    let env = |c: char| vars.iter().position(|v| *v == c).and_then(|i| point.get(i).cloned());
    let mut all = true;
    for s in statements {
        let (l, op, r) = match s {
            Statement::Relation { lhs, op, rhs } => (lhs, *op, rhs),
            Statement::System(eqs) => {
                all &= holds_at(eqs, vars, point)?;
                continue;
            }
            _ => return Err(MathError::Unsupported("a step that is not an equation".into())),
        };
        let d = eval_with(l, &env)?.checked_sub(eval_with(r, &env)?)?;
        all &= match op {
            RelOp::Eq => d.is_zero(),
            RelOp::Lt => d.is_negative(),
            RelOp::Gt => d.is_positive(),
            RelOp::Le => !d.is_positive(),
            RelOp::Ge => !d.is_negative(),
        };
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parser::{parse, parse_list};

    fn set(s: &str) -> SolutionSet {
        of_list(&parse_list(s).unwrap(), Reading::Relation('x')).unwrap()
    }

    #[test]
    fn relations_compare_by_solutions() {
        assert_eq!(set("2x + 3 = 11"), set("x = 4"));
        assert_eq!(set("2x + 3 = 11"), set("4"));
        assert_eq!(set("x^2 - 5x + 6 = 0"), set("x = 3, x = 2"));
        assert_eq!(set("x^2 = 9"), set("x = \\pm 3"));
        assert_ne!(set("x^2 = 9"), set("x = 3"));
        assert_eq!(set("-2x + 1 > 9"), set("x < -4"));
        assert_eq!(set("x^2 - 2x - 2 = 0"), set("2x^2 - 4x - 4 = 0"));
        assert_eq!(set("x^2 - 2x - 2 = 0"), set("x = 1 \\pm \\sqrt{3}"));
        assert_eq!(set("x^2 - 5x + 5 = 0"), set("x = \\frac{5 \\pm \\sqrt{5}}{2}"));
        assert_eq!(set("x + 1 = x + 1"), SolutionSet::Everything);
        assert_eq!(set("x + 1 = x"), SolutionSet::Points(vec![]));
        // The unknown in a denominator: cross-multiplied, zeros of a denominator excluded.
        assert_eq!(set("\\frac{4}{x} = \\frac{2}{3}"), set("x = 6"));
        assert_eq!(set("\\frac{3}{x} + 1 = 2"), set("x = 3"));
        assert_eq!(set("\\frac{x^2}{x} = 0"), SolutionSet::Points(vec![]));
    }

    #[test]
    fn expressions_compare_by_polynomial() {
        let e = |s: &str| of_statement(&parse(s).unwrap(), Reading::Expression).unwrap();
        assert_eq!(e("2(x+3) - x"), e("x + 6"));
        assert_eq!(e("3 + 4 \\cdot 2"), e("11"));
        assert_eq!(e("3 + 8 = 11"), e("11"));
        assert_ne!(e("3 + 4 \\cdot 2"), e("14"));
    }

    #[test]
    fn systems_read_points() {
        let vars = ['x', 'y'];
        let p = |s: &str| of_list(&parse_list(s).unwrap(), Reading::System(vars)).unwrap();
        let three_two = SolutionSet::Point(vec![Rational::integer(3), Rational::integer(2)]);
        assert_eq!(p("x + y = 5, x - y = 1"), three_two);
        assert_eq!(p("y = 2, x = 3"), three_two);
        assert_eq!(p("(3, 2)"), three_two);
        let point = [Rational::integer(3), Rational::integer(2)];
        assert!(holds_at(&parse_list("x = 5 - y").unwrap(), vars, &point).unwrap());
        assert!(!holds_at(&parse_list("x = 5 + y").unwrap(), vars, &point).unwrap());
    }
}
