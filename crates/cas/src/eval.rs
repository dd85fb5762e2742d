//! Exact numeric evaluation, optionally explained one operation at a time.
//!
//! The tree already encodes the order of operations, so "the next step" is simply the
//! leftmost innermost operation whose operands are both numbers: for `3 + 4 · 2` that is
//! `4 · 2`, then `3 + 8`. Each step records the operation and the whole expression after it.

use crate::ast::Expr;
use crate::error::MathError;
use crate::number::Rational;

const HUNDRED: Rational = Rational::integer(100);

/// Largest root index we try to take exactly.
const MAX_ROOT_INDEX: i128 = 64;

/// Evaluates `e`, looking variables up in `env`. Unknown variables are an error.
pub fn eval_with(e: &Expr, env: &dyn Fn(char) -> Option<Rational>) -> Result<Rational, MathError> {
    match e {
        Expr::Num(r) => Ok(r.clone()),
        Expr::Var(c) => env(*c).ok_or_else(|| MathError::Unsupported(format!("no value for the variable {c}"))),
        Expr::Neg(a) => eval_with(a, env)?.checked_neg(),
        Expr::Percent(a) => eval_with(a, env)?.checked_div(HUNDRED),
        Expr::Add(a, b)
        | Expr::Sub(a, b)
        | Expr::PlusMinus(a, b)
        | Expr::Mul(a, b)
        | Expr::Div(a, b)
        | Expr::Pow(a, b)
        | Expr::Root(a, b) => apply(e, eval_with(a, env)?, eval_with(b, env)?),
    }
}

/// Evaluates an expression without variables.
pub fn evaluate(e: &Expr) -> Result<Rational, MathError> {
    eval_with(e, &|_| None)
}

/// A root index as the small integer it must be (1 to [`MAX_ROOT_INDEX`]).
pub(crate) fn root_index(n: &Rational) -> Result<u32, MathError> {
    match n.to_i128() {
        Some(k) if (1..=MAX_ROOT_INDEX).contains(&k) => Ok(k as u32),
        _ => Err(MathError::Unsupported(format!("root index {n}"))),
    }
}

/// Applies the binary operation at the root of `op` to already evaluated operands.
fn apply(op: &Expr, a: Rational, b: Rational) -> Result<Rational, MathError> {
    match op {
        Expr::Add(..) => a.checked_add(b),
        Expr::Sub(..) => a.checked_sub(b),
        Expr::Mul(..) => a.checked_mul(b),
        Expr::Div(..) => a.checked_div(b),
        Expr::Pow(..) => a.pow_rational(&b),
        Expr::Root(..) => {
            // `a` is the index, `b` the radicand.
            let n = root_index(&a)?;
            b.nth_root(n).ok_or_else(|| MathError::Irrational(op.to_string()))
        }
        Expr::PlusMinus(..) => Err(MathError::Unsupported("± has two values".into())),
        Expr::Num(_) | Expr::Var(_) | Expr::Neg(_) | Expr::Percent(_) => {
            unreachable!("apply is only called on binary nodes")
        }
    }
}

/// Turns `-(number)` into a negative number so that `-3` is not a "step".
fn fold_negatives(e: &mut Expr) {
    match e {
        Expr::Neg(a) => {
            fold_negatives(a);
            if let Expr::Num(r) = &**a
                && let Ok(n) = r.checked_neg()
            {
                *e = Expr::Num(n);
            }
        }
        Expr::Add(a, b)
        | Expr::Sub(a, b)
        | Expr::PlusMinus(a, b)
        | Expr::Mul(a, b)
        | Expr::Div(a, b)
        | Expr::Pow(a, b)
        | Expr::Root(a, b) => {
            fold_negatives(a);
            fold_negatives(b);
        }
        Expr::Percent(a) => fold_negatives(a),
        Expr::Num(_) | Expr::Var(_) => {}
    }
}

/// Rebuilds a binary node from new operands.
type Rebuild = fn(Box<Expr>, Box<Expr>) -> Expr;

/// Performs the leftmost innermost operation. `None` when `e` is already a number.
fn reduce_once(e: &Expr) -> Result<Option<(Expr, String)>, MathError> {
    if let Expr::Mul(p, b) = e
        && let Expr::Percent(a) = &**p
    {
        return percent_of(a, b);
    }
    let (a, b, rebuild): (&Expr, &Expr, Rebuild) = match e {
        Expr::Percent(a) => {
            return Ok(match reduce_once(a)? {
                Some((a2, d)) => Some((Expr::Percent(Box::new(a2)), d)),
                None => {
                    let v = evaluate(e)?;
                    let desc = format!("{e} = {a}/100 = {v}");
                    Some((Expr::Num(v), desc))
                }
            });
        }
        Expr::Num(_) => return Ok(None),
        Expr::Var(c) => return Err(MathError::Unsupported(format!("no value for the variable {c}"))),
        Expr::Neg(a) => {
            return Ok(match reduce_once(a)? {
                Some((a2, d)) => Some((Expr::Neg(Box::new(a2)), d)),
                None => Some((Expr::Num(evaluate(e)?), String::new())),
            });
        }
        Expr::Add(a, b) => (a, b, Expr::Add),
        Expr::Sub(a, b) => (a, b, Expr::Sub),
        Expr::PlusMinus(a, b) => (a, b, Expr::PlusMinus),
        Expr::Mul(a, b) => (a, b, Expr::Mul),
        Expr::Div(a, b) => (a, b, Expr::Div),
        Expr::Pow(a, b) => (a, b, Expr::Pow),
        Expr::Root(a, b) => (a, b, Expr::Root),
    };
    if let Some((a2, d)) = reduce_once(a)? {
        return Ok(Some((rebuild(Box::new(a2), Box::new(b.clone())), d)));
    }
    if let Some((b2, d)) = reduce_once(b)? {
        return Ok(Some((rebuild(Box::new(a.clone()), Box::new(b2)), d)));
    }
    compute(e, a, b).map(Some)
}

/// `a% · b`, the way a teacher says it: "15% of 200 = 15 · 200 / 100 = 30", after reducing
/// `a` and `b` to numbers.
fn percent_of(a: &Expr, b: &Expr) -> Result<Option<(Expr, String)>, MathError> {
    let rebuild = |a: Expr, b: Expr| Expr::Mul(Box::new(Expr::Percent(Box::new(a))), Box::new(b));
    if let Some((a2, d)) = reduce_once(a)? {
        return Ok(Some((rebuild(a2, b.clone()), d)));
    }
    if let Some((b2, d)) = reduce_once(b)? {
        return Ok(Some((rebuild(a.clone(), b2), d)));
    }
    let (Expr::Num(x), Expr::Num(y)) = (a, b) else {
        unreachable!("both operands are reduced to numbers")
    };
    let v = x.checked_mul(y)?.checked_div(HUNDRED)?;
    let desc = format!(
        "{} of {} = {} · {} / 100 = {v}",
        Expr::Percent(Box::new(a.clone())),
        b,
        a,
        b
    );
    Ok(Some((Expr::Num(v), desc)))
}

/// The operation at `e` once both operands are numbers; out of line to keep the
/// recursive [`reduce_once`] frame small.
#[inline(never)]
fn compute(e: &Expr, a: &Expr, b: &Expr) -> Result<(Expr, String), MathError> {
    let (Expr::Num(x), Expr::Num(y)) = (a, b) else {
        unreachable!("both operands are reduced to numbers")
    };
    let v = apply(e, x.clone(), y.clone())?;
    let desc = format!("{e} = {v}");
    Ok((Expr::Num(v), desc))
}

/// Evaluates `e` and explains each operation in order, e.g. for `3 + 4 \cdot 2`:
/// `["4 · 2 = 8, so 3 + 8", "3 + 8 = 11"]`.
pub fn evaluate_with_steps(e: &Expr) -> Result<(Rational, Vec<String>), MathError> {
    let mut cur = e.clone();
    fold_negatives(&mut cur);
    let mut steps = Vec::new();
    while let Some((next, desc)) = reduce_once(&cur)? {
        cur = next;
        fold_negatives(&mut cur);
        if desc.is_empty() {
            continue;
        }
        match cur {
            Expr::Num(_) => steps.push(desc),
            _ => steps.push(format!("{desc}, so {cur}")),
        }
    }
    match cur {
        Expr::Num(v) => Ok((v, steps)),
        _ => unreachable!("reduction ends in a number"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parser::parse_expr;

    fn ev(s: &str) -> Result<(Rational, Vec<String>), MathError> {
        evaluate_with_steps(&parse_expr(s).unwrap())
    }

    #[test]
    fn order_of_operations_with_steps() {
        let (v, steps) = ev("3 + 4 \\cdot 2").unwrap();
        assert_eq!(v, Rational::integer(11));
        assert_eq!(steps, vec!["4 · 2 = 8, so 3 + 8", "3 + 8 = 11"]);
        assert_eq!(ev("2^3^2").unwrap().0, Rational::integer(512));
        assert_eq!(ev("-3^2").unwrap().0, Rational::integer(-9));
        assert_eq!(ev("(-3)^2").unwrap().0, Rational::integer(9));
        assert_eq!(ev("12 : 4 \\cdot 3").unwrap().0, Rational::integer(9));
        assert_eq!(ev("\\sqrt{16} + 2^{-1}").unwrap().0, Rational::new(9, 2).unwrap());
        assert_eq!(ev("1/0"), Err(MathError::DivisionByZero));
        assert!(matches!(ev("\\sqrt{2}"), Err(MathError::Irrational(_))));
    }
}
