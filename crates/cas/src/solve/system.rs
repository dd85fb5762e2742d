//! Systems of two linear equations in two variables, solved the way school teaches: by
//! substitution when a variable has coefficient ±1 (or is alone in an equation), otherwise by
//! elimination after clearing fractions. A system whose left sides are proportional has no
//! solution or infinitely many, and the steps say which and why.

use num_integer::Integer;
use num_traits::{One, Signed, Zero};

use super::{Answer, Solution, SolutionKind, relation_vars, solve_in};
use crate::ast::{Expr, RelOp, Statement};
use crate::error::MathError;
use crate::eval::evaluate;
use crate::number::Rational;
use crate::poly::term_text;

/// `coeffs[0]·vars[0] + coeffs[1]·vars[1] + constant`.
#[derive(Clone, Debug)]
pub(crate) struct Linear {
    pub coeffs: [Rational; 2],
    pub constant: Rational,
}

impl Linear {
    fn constant(c: Rational) -> Linear {
        Linear {
            coeffs: [Rational::ZERO, Rational::ZERO],
            constant: c,
        }
    }

    fn is_constant(&self) -> bool {
        self.coeffs.iter().all(Rational::is_zero)
    }

    fn zip(
        &self,
        o: &Linear,
        f: impl Fn(&Rational, &Rational) -> Result<Rational, MathError>,
    ) -> Result<Linear, MathError> {
        Ok(Linear {
            coeffs: [f(&self.coeffs[0], &o.coeffs[0])?, f(&self.coeffs[1], &o.coeffs[1])?],
            constant: f(&self.constant, &o.constant)?,
        })
    }

    fn scale(&self, k: &Rational) -> Result<Linear, MathError> {
        Ok(Linear {
            coeffs: [self.coeffs[0].checked_mul(k)?, self.coeffs[1].checked_mul(k)?],
            constant: self.constant.checked_mul(k)?,
        })
    }

    /// `e` as a linear form in `vars`; products of variables, division by a variable and
    /// powers of a variable are not linear.
    pub fn from_expr(e: &Expr, vars: &[char; 2]) -> Result<Linear, MathError> {
        if e.variables().is_empty() {
            return Ok(Linear::constant(evaluate(e)?));
        }
        let not_linear = || MathError::NotPolynomial(format!("not linear: {e}"));
        match e {
            Expr::Var(v) => {
                let mut l = Linear::constant(Rational::ZERO);
                let k = vars.iter().position(|x| x == v).ok_or_else(not_linear)?;
                l.coeffs[k] = Rational::ONE;
                Ok(l)
            }
            Expr::Neg(a) => Linear::from_expr(a, vars)?.scale(&Rational::integer(-1)),
            Expr::Percent(a) => Linear::from_expr(a, vars)?.scale(&Rational::new(1, 100)?),
            Expr::Add(a, b) => Linear::from_expr(a, vars)?.zip(&Linear::from_expr(b, vars)?, |x, y| x.checked_add(y)),
            Expr::Sub(a, b) => Linear::from_expr(a, vars)?.zip(&Linear::from_expr(b, vars)?, |x, y| x.checked_sub(y)),
            Expr::Mul(a, b) => {
                let (x, y) = (Linear::from_expr(a, vars)?, Linear::from_expr(b, vars)?);
                match (x.is_constant(), y.is_constant()) {
                    (true, _) => y.scale(&x.constant),
                    (_, true) => x.scale(&y.constant),
                    _ => Err(not_linear()),
                }
            }
            Expr::Div(a, b) => {
                let y = Linear::from_expr(b, vars)?;
                if !y.is_constant() {
                    return Err(not_linear());
                }
                Linear::from_expr(a, vars)?.scale(&y.constant.recip()?)
            }
            Expr::Pow(a, b) if b.variables().is_empty() && evaluate(b)? == Rational::ONE => Linear::from_expr(a, vars),
            _ => Err(not_linear()),
        }
    }
}

/// `a·x + b·y = c` in school form: `2x + 3y = 12`, `x - y = 1`, `-y = 4`, `0 = 3`.
fn eq_text(vars: &[char], coeffs: &[Rational], rhs: &Rational) -> String {
    let mut left = String::new();
    for (v, c) in vars.iter().zip(coeffs) {
        if c.is_zero() {
            continue;
        }
        if left.is_empty() {
            left = term_text(c, *v, 1);
        } else {
            let sign = if c.is_negative() { "-" } else { "+" };
            let mag = c.abs().unwrap_or_else(|_| c.clone());
            left = format!("{left} {sign} {}", term_text(&mag, *v, 1));
        }
    }
    if left.is_empty() {
        left = "0".into();
    }
    format!("{left} = {rhs}")
}

/// The line of an infinite system as text (`x + y = 5`).
pub(crate) fn line_text(vars: &[char], coeffs: &[Rational], rhs: &Rational) -> String {
    eq_text(vars, coeffs, rhs)
}

/// One equation `a·x + b·y = c`, labelled (1) or (2) in the steps.
#[derive(Clone, Debug)]
struct Eq2 {
    a: [Rational; 2],
    c: Rational,
}

impl Eq2 {
    fn text(&self, vars: &[char; 2]) -> String {
        eq_text(vars, &self.a, &self.c)
    }

    fn scale(&self, k: &Rational) -> Result<Eq2, MathError> {
        Ok(Eq2 {
            a: [self.a[0].checked_mul(k)?, self.a[1].checked_mul(k)?],
            c: self.c.checked_mul(k)?,
        })
    }
}

/// Solves a system of two linear equations in two variables, with steps.
pub(crate) fn solve_system(eqs: &[Statement]) -> Result<Solution, MathError> {
    let mut sides = Vec::new();
    let mut all_vars: Vec<char> = Vec::new();
    for s in eqs {
        let Statement::Relation { lhs, op, rhs } = s else {
            return Err(MathError::Unsupported(
                "a system of something other than equations".into(),
            ));
        };
        if *op != RelOp::Eq {
            return Err(MathError::Unsupported("systems of inequalities".into()));
        }
        for v in relation_vars(lhs, rhs) {
            if !all_vars.contains(&v) {
                all_vars.push(v);
            }
        }
        sides.push((lhs, rhs));
    }
    all_vars.sort_unstable();
    let vars: [char; 2] = match all_vars.as_slice() {
        [a, b] => [*a, *b],
        [] | [_] => return Err(MathError::Unsupported("a system needs two variables".into())),
        [a, b, ..] => return Err(MathError::MultipleVariables(*a, *b)),
    };
    if sides.len() != 2 {
        return Err(MathError::Unsupported(format!("systems of {} equations", sides.len())));
    }
    let mut steps = Vec::new();
    let mut system = Vec::new();
    let mut rewritten = false;
    for (lhs, rhs) in &sides {
        let d = Linear::from_expr(lhs, &vars)?.zip(&Linear::from_expr(rhs, &vars)?, |x, y| x.checked_sub(y))?;
        let e = Eq2 {
            a: d.coeffs,
            c: d.constant.checked_neg()?,
        };
        rewritten |= e.text(&vars) != format!("{lhs} = {rhs}");
        system.push(e);
    }
    let (e1, e2) = (system[0].clone(), system[1].clone());
    if rewritten {
        steps.push(format!(
            "write each equation as ax + by = c: (1) {}, (2) {}",
            e1.text(&vars),
            e2.text(&vars)
        ));
    }
    let (a1, b1, a2, b2) = (&e1.a[0], &e1.a[1], &e2.a[0], &e2.a[1]);
    let det = a1.checked_mul(b2)?.checked_sub(a2.checked_mul(b1)?)?;
    if det.is_zero() {
        return dependent(vars, &e1, &e2, steps);
    }
    let (x, y) = match substitution_choice(&system) {
        Some((k, v)) => substitution(vars, &system, k, v, &mut steps)?,
        None => elimination(vars, &system, &mut steps)?,
    };
    steps.push(format!("solution: {} = {x}, {} = {y}", vars[0], vars[1]));
    Ok(Solution::new(
        SolutionKind::LinearSystem,
        Answer::Point {
            vars: vars.to_vec(),
            values: vec![x, y],
        },
        steps,
    ))
}

/// The equation and variable to isolate: a coefficient ±1, or a variable alone in its
/// equation; `None` means elimination is the easier way.
fn substitution_choice(system: &[Eq2]) -> Option<(usize, usize)> {
    // A variable alone in its equation first (`2y = 4` gives y at once), then a coefficient ±1.
    for (k, e) in system.iter().enumerate() {
        for v in 0..2 {
            if !e.a[v].is_zero() && e.a[1 - v].is_zero() {
                return Some((k, v));
            }
        }
    }
    let unit = |c: &Rational| c.abs().is_ok_and(|a| a == Rational::ONE);
    for (k, e) in system.iter().enumerate() {
        for v in 0..2 {
            if unit(&e.a[v]) {
                return Some((k, v));
            }
        }
    }
    None
}

/// `c0 + c1·w` as a school expression: `5 - y`, `y - 1`, `-2y`, `3/2`.
fn affine(c0: &Rational, c1: &Rational, w: char) -> Result<Expr, MathError> {
    let term = |c: &Rational| -> Expr {
        if *c == Rational::ONE {
            Expr::Var(w)
        } else {
            Expr::Mul(Box::new(Expr::Num(c.clone())), Box::new(Expr::Var(w)))
        }
    };
    Ok(match (c0.is_zero(), c1.is_zero()) {
        (_, true) => Expr::Num(c0.clone()),
        (true, false) if c1.is_negative() => Expr::Neg(Box::new(term(&c1.abs()?))),
        (true, false) => term(c1),
        (false, false) if c1.is_negative() => Expr::Sub(Box::new(Expr::Num(c0.clone())), Box::new(term(&c1.abs()?))),
        (false, false) if c0.is_negative() => Expr::Sub(Box::new(term(c1)), Box::new(Expr::Num(c0.abs()?))),
        (false, false) => Expr::Add(Box::new(term(c1)), Box::new(Expr::Num(c0.clone()))),
    })
}

/// The value of the only variable of a one-variable linear solution.
fn single_root(s: &Solution) -> Result<Rational, MathError> {
    match &s.answer {
        Answer::Roots { roots, .. } if roots.len() == 1 => Ok(roots[0].clone()),
        _ => Err(MathError::Unsupported("a system step without a unique value".into())),
    }
}

/// Isolates `vars[v]` in equation `k` and substitutes it into the other.
fn substitution(
    vars: [char; 2],
    system: &[Eq2],
    k: usize,
    v: usize,
    steps: &mut Vec<String>,
) -> Result<(Rational, Rational), MathError> {
    let (e, other) = (&system[k], &system[1 - k]);
    let (name, w) = (vars[v], vars[1 - v]);
    // name = c/a - (b/a)·w
    let a = &e.a[v];
    let c0 = e.c.checked_div(a)?;
    let c1 = e.a[1 - v].checked_neg()?.checked_div(a)?;
    let isolated = affine(&c0, &c1, w)?;
    steps.push(format!("solve ({}) for {name}: {name} = {isolated}", k + 1));
    // The other equation with `name` replaced, its terms in their original order.
    let replaced = {
        // `coef·x`, with the sign left for the sum to show.
        let with = |coef: &Rational, x: Expr| -> Result<Expr, MathError> {
            let mag = coef.abs()?;
            Ok(if mag == Rational::ONE {
                x
            } else {
                Expr::Mul(Box::new(Expr::Num(mag)), Box::new(x))
            })
        };
        let mut terms = [
            (other.a[0].clone(), Expr::Var(vars[0])),
            (other.a[1].clone(), Expr::Var(vars[1])),
        ];
        terms[v].1 = isolated.clone();
        let mut sum: Option<Expr> = None;
        for (coef, x) in terms {
            if coef.is_zero() {
                continue;
            }
            let t = with(&coef, x)?;
            sum = Some(match sum {
                None if coef.is_negative() => Expr::Neg(Box::new(t)),
                None => t,
                Some(s) if coef.is_negative() => Expr::Sub(Box::new(s), Box::new(t)),
                Some(s) => Expr::Add(Box::new(s), Box::new(t)),
            });
        }
        sum.unwrap_or(Expr::num(0))
    };
    let rhs = Expr::Num(other.c.clone());
    steps.push(format!("substitute into ({}): {replaced} = {rhs}", 2 - k));
    let sub = solve_in(w, &replaced, RelOp::Eq, &rhs, Vec::new())?;
    steps.extend(sub.steps.iter().cloned());
    let w_value = single_root(&sub)?;
    let name_value = c0.checked_add(c1.checked_mul(&w_value)?)?;
    if !c1.is_zero() {
        steps.push(format!(
            "substitute {w} = {w_value} into {name} = {isolated}: {name} = {name_value}"
        ));
    }
    Ok(if v == 0 {
        (name_value, w_value)
    } else {
        (w_value, name_value)
    })
}

/// Multiplies an equation so that its coefficients are integers (`1/2 x + 1/3 y = 1` by 6).
fn clear_fractions(e: &Eq2) -> Result<Rational, MathError> {
    let mut l = num_bigint::BigInt::one();
    for c in e.a.iter().chain([&e.c]) {
        l = l.lcm(&c.denom());
    }
    Rational::from_bigints(l, num_bigint::BigInt::one())
}

/// Elimination: scale both equations so that one variable has opposite (or equal)
/// coefficients, add (or subtract), solve for the other, and substitute back.
fn elimination(vars: [char; 2], system: &[Eq2], steps: &mut Vec<String>) -> Result<(Rational, Rational), MathError> {
    let mut eqs = system.to_vec();
    for (k, e) in eqs.iter_mut().enumerate() {
        let m = clear_fractions(e)?;
        if m != Rational::ONE {
            *e = e.scale(&m)?;
            steps.push(format!(
                "multiply ({}) by {m} to clear the fractions: {}",
                k + 1,
                e.text(&vars)
            ));
        }
    }
    // Eliminate the variable whose coefficients have the smaller least common multiple.
    let lcm = |v: usize| eqs[0].a[v].numer().abs().lcm(&eqs[1].a[v].numer().abs());
    let (l0, l1) = (lcm(0), lcm(1));
    let gone = if l0 < l1 { 0 } else { 1 };
    let l = Rational::from_bigints(if gone == 0 { l0 } else { l1 }, num_bigint::BigInt::one())?;
    let mut scaled = Vec::new();
    for (k, e) in eqs.iter().enumerate() {
        let m = l.checked_div(e.a[gone].abs()?)?;
        let s = e.scale(&m)?;
        if m != Rational::ONE {
            steps.push(format!("multiply ({}) by {m}: {}", k + 1, s.text(&vars)));
        }
        scaled.push(s);
    }
    let same_sign = scaled[0].a[gone].is_negative() == scaled[1].a[gone].is_negative();
    let combined = if same_sign {
        Eq2 {
            a: [
                scaled[0].a[0].checked_sub(&scaled[1].a[0])?,
                scaled[0].a[1].checked_sub(&scaled[1].a[1])?,
            ],
            c: scaled[0].c.checked_sub(&scaled[1].c)?,
        }
    } else {
        Eq2 {
            a: [
                scaled[0].a[0].checked_add(&scaled[1].a[0])?,
                scaled[0].a[1].checked_add(&scaled[1].a[1])?,
            ],
            c: scaled[0].c.checked_add(&scaled[1].c)?,
        }
    };
    let verb = if same_sign {
        "subtract the second equation from the first"
    } else {
        "add the equations"
    };
    steps.push(format!("{verb}, {} cancels: {}", vars[gone], combined.text(&vars)));
    let kept = 1 - gone;
    let value = combined.c.checked_div(&combined.a[kept])?;
    if combined.a[kept] != Rational::ONE {
        steps.push(format!(
            "divide both sides by {}: {} = {value}",
            combined.a[kept], vars[kept]
        ));
    }
    // Back-substitute into the original equation (1), or (2) if (1) lacks the other variable.
    let back = if system[0].a[gone].is_zero() { 1 } else { 0 };
    let e = &system[back];
    let known = Expr::Mul(
        Box::new(Expr::Num(e.a[kept].clone())),
        Box::new(Expr::Num(value.clone())),
    );
    let unknown = if e.a[gone] == Rational::ONE {
        Expr::Var(vars[gone])
    } else {
        Expr::Mul(Box::new(Expr::Num(e.a[gone].clone())), Box::new(Expr::Var(vars[gone])))
    };
    let (lhs, rhs) = (
        if kept == 0 {
            Expr::Add(Box::new(known), Box::new(unknown))
        } else {
            Expr::Add(Box::new(unknown), Box::new(known))
        },
        Expr::Num(e.c.clone()),
    );
    steps.push(format!(
        "substitute {} = {value} into ({}): {lhs} = {rhs}",
        vars[kept],
        back + 1
    ));
    let sub = solve_in(vars[gone], &lhs, RelOp::Eq, &rhs, Vec::new())?;
    steps.extend(sub.steps.iter().cloned());
    let other = single_root(&sub)?;
    Ok(if kept == 0 { (value, other) } else { (other, value) })
}

/// Proportional left sides: the same line (infinitely many solutions) or parallel lines
/// (none). Also covers equations where both variables cancel (`0 = 0`, `0 = 3`).
fn dependent(vars: [char; 2], e1: &Eq2, e2: &Eq2, mut steps: Vec<String>) -> Result<Solution, MathError> {
    let trivial = |e: &Eq2| e.a.iter().all(Rational::is_zero);
    let none = |mut steps: Vec<String>, why: String| {
        steps.push(why);
        Solution::new(
            SolutionKind::LinearSystem,
            Answer::SystemNoSolution { vars: vars.to_vec() },
            steps,
        )
    };
    for (k, e) in [e1, e2].into_iter().enumerate() {
        if trivial(e) && !e.c.is_zero() {
            return Ok(none(
                steps,
                format!(
                    "({}) says 0 = {}, which is never true: the system has no solution",
                    k + 1,
                    e.c
                ),
            ));
        }
    }
    // The line both equations describe (a trivial `0 = 0` describes every point).
    let line = if trivial(e1) { e2 } else { e1 };
    if !trivial(e1) && !trivial(e2) {
        let k = if e1.a[0].is_zero() {
            e2.a[1].checked_div(&e1.a[1])?
        } else {
            e2.a[0].checked_div(&e1.a[0])?
        };
        steps.push(format!(
            "the left side of (2) is {k} times the left side of (1) (a₁b₂ - a₂b₁ = 0), so {} cannot be eliminated without {} cancelling too",
            vars[0], vars[1]
        ));
        let kc = k.checked_mul(&e1.c)?;
        if kc != e2.c {
            return Ok(none(
                steps,
                format!(
                    "but {k} · {} = {kc} ≠ {}: the equations contradict each other (parallel lines), so there is no solution",
                    e1.c, e2.c
                ),
            ));
        }
        steps.push(format!(
            "and {k} · {} = {}: both equations are the same line, so every point of it is a solution",
            e1.c, e2.c
        ));
    } else {
        steps.push(
            "an equation says 0 = 0, which is always true: only the other equation restricts the solutions".into(),
        );
    }
    let (coeffs, rhs) = normal_line(line)?;
    Ok(Solution::new(
        SolutionKind::LinearSystem,
        Answer::SystemInfinite {
            vars: vars.to_vec(),
            coeffs,
            rhs,
        },
        steps,
    ))
}

/// The line scaled to coprime integer coefficients with the first non-zero one positive, so
/// that equal lines compare equal.
fn normal_line(e: &Eq2) -> Result<(Vec<Rational>, Rational), MathError> {
    let m = clear_fractions(e)?;
    let e = e.scale(&m)?;
    let mut g = num_bigint::BigInt::zero();
    for c in e.a.iter().chain([&e.c]) {
        g = g.gcd(&c.numer());
    }
    if g.is_zero() {
        return Ok((e.a.to_vec(), e.c));
    }
    let first_negative = e.a.iter().find(|c| !c.is_zero()).is_some_and(Rational::is_negative);
    if first_negative {
        g = -g;
    }
    let k = Rational::from_bigints(num_bigint::BigInt::one(), g)?;
    let e = e.scale(&k)?;
    Ok((e.a.to_vec(), e.c))
}

/// The line `lhs = rhs` in the normal form of [`Answer::SystemInfinite`], to compare a
/// student's description of the solutions with it.
pub(crate) fn line_of(lhs: &Expr, rhs: &Expr, vars: &[char]) -> Result<(Vec<Rational>, Rational), MathError> {
    let vars: [char; 2] = match vars {
        [a, b] => [*a, *b],
        _ => return Err(MathError::Unsupported("a line needs two variables".into())),
    };
    let d = Linear::from_expr(lhs, &vars)?.zip(&Linear::from_expr(rhs, &vars)?, |x, y| x.checked_sub(y))?;
    normal_line(&Eq2 {
        a: d.coeffs,
        c: d.constant.checked_neg()?,
    })
}

#[cfg(test)]
mod tests {
    use crate::solve::solve;

    #[test]
    fn substitution_steps() {
        let s = solve("x + y = 5 \\\\ x - y = 1").unwrap();
        assert_eq!(s.answer_text, "x = 3, y = 2");
        assert_eq!(s.steps[0], "solve (1) for x: x = 5 - y");
        assert_eq!(s.steps[1], "substitute into (2): 5 - y - y = 1");
    }

    #[test]
    fn elimination_steps() {
        let s = solve("2x + 3y = 12, 3x - 2y = 5").unwrap();
        assert_eq!(s.answer_text, "x = 3, y = 2");
        assert!(
            s.steps
                .iter()
                .any(|t| t.starts_with("add the equations, y cancels: 13x = 39")),
            "{:?}",
            s.steps
        );
    }

    #[test]
    fn dependent_systems() {
        let s = solve("x + y = 5; 2x + 2y = 10").unwrap();
        assert_eq!(s.answer_text, "infinitely many solutions: every point with x + y = 5");
        let s = solve("x + y = 5; 2x + 2y = 11").unwrap();
        assert_eq!(s.answer_text, "no solution");
    }
}
