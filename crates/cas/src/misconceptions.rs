//! Algebra misconceptions modelled as procedures.
//!
//! A misconception is a buggy procedure: given the statement the student started from (the
//! problem, or their previous step), it returns what a student with that bug would write next —
//! one statement for each place where the bug can strike, so that "applied at every applicable
//! site" is literal. The caller ([`crate::assess`]) compares the solution set of each output with
//! the student's step, or with their final answer: a procedure explains the student's work only
//! when running it reproduces what they wrote. A rule that never looks at the answer is not a
//! diagnosis.
//!
//! Structural bugs (distributing over the first term only, losing the sign of a bracket, squaring
//! a sum term by term, cancelling across a fraction, combining unlike terms) rewrite the tree at
//! one node. Bugs of the solving procedure (moving a term without changing its sign, dividing one
//! term, subtracting the coefficient, not reversing an inequality, losing a root, dropping the
//! `-b` of the quadratic formula) work on the collected sides. The order-of-operations bugs need
//! the text, because the tree has already applied the precedence the student ignored.

use crate::ast::{Expr, RelOp, Statement};
use crate::equivalence::{Reading, SolutionSet, of_relation};
use crate::lexer::{Tok, tokenize};
use crate::number::Rational;
use crate::poly::Poly;

/// The statement a procedure runs on: the problem or the student's previous step.
pub struct Start<'a> {
    pub statement: &'a Statement,
    /// Its source text (only the order-of-operations procedures read it).
    pub text: &'a str,
    pub reading: Reading,
}

/// One buggy procedure of the library.
pub struct Procedure {
    /// The procedure's name, reported as `errorSubtag` (`TRANSPOSE-WITHOUT-SIGN-CHANGE`).
    pub subtag: &'static str,
    /// The catalogue code it is reported under (`diagnosis::catalog::ERROR_TAGS`).
    pub tag: &'static str,
    /// Relative base rate among wrong answers where it applies; the same scale as the
    /// diagnosis engine's procedure weights (a common, specific bug gets 3, a rarer one 1.5).
    pub weight: f64,
    run: fn(&Start<'_>, &mut Vec<Statement>),
}

impl Procedure {
    /// What a student with this bug would write from `start`, one statement per site/variant
    /// (possibly repeated or equivalent to a correct step; the caller filters).
    pub fn outputs(&self, start: &Start<'_>) -> Vec<Statement> {
        let mut out = Vec::new();
        (self.run)(start, &mut out);
        out
    }
}

/// Every procedure, specific ones first (ties in ranking keep this order).
pub static LIBRARY: &[Procedure] = &[
    Procedure {
        subtag: "TRANSPOSE-WITHOUT-SIGN-CHANGE",
        tag: "ALGEBRA_EQ_LINEAR_SIGN_FLIP_TRANSPOSE_G8",
        weight: 3.0,
        run: transpose_without_sign_change,
    },
    Procedure {
        subtag: "DIVIDES-ONE-TERM",
        tag: "ALGEBRA_EQ_LINEAR_DIVIDES_ONE_TERM_G8",
        weight: 1.5,
        run: divides_one_term,
    },
    Procedure {
        subtag: "SUBTRACTS-COEFFICIENT",
        tag: "ALGEBRA_EQ_LINEAR_SUBTRACTS_COEFFICIENT_G8",
        weight: 1.5,
        run: subtracts_coefficient,
    },
    Procedure {
        subtag: "DISTRIBUTES-FIRST-TERM-ONLY",
        tag: "ALGEBRA_EQ_LINEAR_DISTRIBUTES_FIRST_TERM_ONLY_G8",
        weight: 2.0,
        run: distributes_first_term_only,
    },
    Procedure {
        subtag: "COMBINES-UNLIKE-TERMS",
        tag: "ALGEBRA_EQ_LINEAR_COMBINES_UNLIKE_TERMS_G8",
        weight: 1.5,
        run: combines_unlike_terms,
    },
];

/// Every catalogue code a procedure of the library can report.
pub fn tags() -> impl Iterator<Item = &'static str> {
    LIBRARY.iter().map(|p| p.tag)
}

// ── Building blocks ─────────────────────────────────────────────────────────────────────────

fn bx(e: Expr) -> Box<Expr> {
    Box::new(e)
}

fn num(r: Rational) -> Expr {
    Expr::Num(r)
}

fn has_var(e: &Expr) -> bool {
    !e.variables().is_empty()
}

/// The top-level terms of a sum with their signs (`true` = subtracted): `2x - 3 + y` →
/// `[(+, 2x), (-, 3), (+, y)]`.
fn terms(e: &Expr) -> Vec<(bool, Expr)> {
    let mut out = Vec::new();
    collect_terms(e, false, &mut out);
    out
}

fn collect_terms(e: &Expr, negative: bool, out: &mut Vec<(bool, Expr)>) {
    match e {
        Expr::Add(a, b) => {
            collect_terms(a, negative, out);
            collect_terms(b, negative, out);
        }
        Expr::Sub(a, b) => {
            collect_terms(a, negative, out);
            collect_terms(b, !negative, out);
        }
        other => out.push((negative, other.clone())),
    }
}

/// The sum of signed terms; `0` when there are none.
fn sum(terms: &[(bool, Expr)]) -> Expr {
    let mut it = terms.iter();
    let Some((neg, first)) = it.next() else {
        return Expr::num(0);
    };
    let mut acc = if *neg {
        Expr::Neg(bx(first.clone()))
    } else {
        first.clone()
    };
    for (neg, t) in it {
        acc = if *neg {
            Expr::Sub(bx(acc), bx(t.clone()))
        } else {
            Expr::Add(bx(acc), bx(t.clone()))
        };
    }
    acc
}

/// A polynomial written back as a sum of monomials, highest power first (`3x + 6`).
fn poly_expr(p: &Poly, var: char) -> Expr {
    let mut ts = Vec::new();
    for k in (0..p.coeffs.len()).rev() {
        let c = p.coeffs[k].clone();
        if c.is_zero() {
            continue;
        }
        let (neg, mag) = match c.checked_neg() {
            Ok(m) if c.is_negative() => (true, m),
            _ => (false, c),
        };
        let power = match k {
            0 => None,
            1 => Some(Expr::Var(var)),
            _ => Some(Expr::Pow(bx(Expr::Var(var)), bx(Expr::num(k as i128)))),
        };
        let t = match power {
            None => num(mag),
            Some(v) if mag == Rational::ONE => v,
            Some(v) => Expr::Mul(bx(num(mag)), bx(v)),
        };
        ts.push((neg, t));
    }
    sum(&ts)
}

fn relation(lhs: Expr, op: RelOp, rhs: Expr) -> Statement {
    Statement::Relation { lhs, op, rhs }
}

/// The variable of a statement, if it has exactly one.
fn variable(s: &Statement) -> Option<char> {
    let vars = match s {
        Statement::Expr(e) => e.variables(),
        Statement::Relation { lhs, rhs, .. } => {
            let mut v = lhs.variables();
            for c in rhs.variables() {
                if !v.contains(&c) {
                    v.push(c);
                }
            }
            v
        }
        _ => return None,
    };
    match vars.as_slice() {
        [v] => Some(*v),
        _ => None,
    }
}

/// Every tree obtained from `e` by rewriting one node with `f` (one tree per node and variant).
fn each_site(e: &Expr, f: &dyn Fn(&Expr) -> Vec<Expr>, out: &mut Vec<Expr>) {
    out.extend(f(e));
    let mut inner = Vec::new();
    match e {
        Expr::Neg(a) => {
            each_site(a, f, &mut inner);
            out.extend(inner.into_iter().map(|a| Expr::Neg(bx(a))));
        }
        Expr::Add(a, b) | Expr::Sub(a, b) | Expr::Mul(a, b) | Expr::Div(a, b) | Expr::Pow(a, b) => {
            let rebuild = |x: Expr, y: Expr| match e {
                Expr::Add(..) => Expr::Add(bx(x), bx(y)),
                Expr::Sub(..) => Expr::Sub(bx(x), bx(y)),
                Expr::Mul(..) => Expr::Mul(bx(x), bx(y)),
                Expr::Div(..) => Expr::Div(bx(x), bx(y)),
                _ => Expr::Pow(bx(x), bx(y)),
            };
            each_site(a, f, &mut inner);
            for a2 in inner.drain(..) {
                out.push(rebuild(a2, (**b).clone()));
            }
            each_site(b, f, &mut inner);
            for b2 in inner {
                out.push(rebuild((**a).clone(), b2));
            }
        }
        _ => {}
    }
}

/// `e` with the first variant of `f` applied at every node where it applies (outermost first);
/// `None` when it applies nowhere. The student who has the bug usually has it everywhere.
fn every_site(e: &Expr, f: &dyn Fn(&Expr) -> Vec<Expr>) -> Option<Expr> {
    if let Some(r) = f(e).into_iter().next() {
        return Some(r);
    }
    let b = |x: &Expr| every_site(x, f);
    match e {
        Expr::Neg(a) => b(a).map(|a| Expr::Neg(bx(a))),
        Expr::Add(x, y) | Expr::Sub(x, y) | Expr::Mul(x, y) | Expr::Div(x, y) | Expr::Pow(x, y) => {
            let (x2, y2) = (b(x), b(y));
            if x2.is_none() && y2.is_none() {
                return None;
            }
            let (x2, y2) = (x2.unwrap_or_else(|| (**x).clone()), y2.unwrap_or_else(|| (**y).clone()));
            Some(match e {
                Expr::Add(..) => Expr::Add(bx(x2), bx(y2)),
                Expr::Sub(..) => Expr::Sub(bx(x2), bx(y2)),
                Expr::Mul(..) => Expr::Mul(bx(x2), bx(y2)),
                Expr::Div(..) => Expr::Div(bx(x2), bx(y2)),
                _ => Expr::Pow(bx(x2), bx(y2)),
            })
        }
        _ => None,
    }
}

/// A structural bug applied to a statement: once at each site of either side, and at every
/// site at once when there are several.
fn structural(s: &Statement, f: &dyn Fn(&Expr) -> Vec<Expr>, out: &mut Vec<Statement>) {
    match s {
        Statement::Expr(e) => {
            let mut v = Vec::new();
            each_site(e, f, &mut v);
            let several = v.len() > 1;
            out.extend(v.into_iter().map(Statement::Expr));
            if several && let Some(all) = every_site(e, f) {
                out.push(Statement::Expr(all));
            }
        }
        Statement::Relation { lhs, op, rhs } => {
            let (mut l, mut r) = (Vec::new(), Vec::new());
            each_site(lhs, f, &mut l);
            each_site(rhs, f, &mut r);
            let several = l.len() + r.len() > 1;
            out.extend(l.into_iter().map(|l| relation(l, *op, rhs.clone())));
            out.extend(r.into_iter().map(|r| relation(lhs.clone(), *op, r)));
            if several {
                let l = every_site(lhs, f).unwrap_or_else(|| lhs.clone());
                let r = every_site(rhs, f).unwrap_or_else(|| rhs.clone());
                out.push(relation(l, *op, r));
            }
        }
        _ => {}
    }
}

/// A relation with each side expanded and collected on its own (`3(x+2) = 2x + 10` →
/// `3x + 6 = 2x + 10`), the form a student reaches before gathering terms.
fn collected_sides(s: &Statement) -> Option<Statement> {
    let Statement::Relation { lhs, op, rhs } = s else {
        return None;
    };
    let v = variable(s)?;
    let l = poly_expr(&Poly::from_expr(lhs).ok()?, v);
    let r = poly_expr(&Poly::from_expr(rhs).ok()?, v);
    Some(relation(l, *op, r))
}

/// `a1·x + b1 op a2·x + b2`, when both sides are at most linear in one variable.
struct LinearSides {
    var: char,
    op: RelOp,
    a1: Rational,
    b1: Rational,
    a2: Rational,
    b2: Rational,
}

fn linear_sides(s: &Statement) -> Option<LinearSides> {
    let Statement::Relation { lhs, op, rhs } = s else {
        return None;
    };
    let var = variable(s)?;
    let (l, r) = (Poly::from_expr(lhs).ok()?, Poly::from_expr(rhs).ok()?);
    if l.degree() > 1 || r.degree() > 1 {
        return None;
    }
    Some(LinearSides {
        var,
        op: *op,
        a1: l.coeff(1),
        b1: l.coeff(0),
        a2: r.coeff(1),
        b2: r.coeff(0),
    })
}

/// `A·x + B op C` after gathering the variable on the side where it has the larger
/// coefficient (where students gather it): `(A, B, C, op)` with `A ≠ 0`.
fn gathered(ls: &LinearSides) -> Option<(Rational, Rational, Rational, RelOp)> {
    let left = ls.a1.checked_sub(&ls.a2).ok()?;
    if left.is_zero() {
        return None;
    }
    // 11 = 2x + 3 is solved as 2x + 3 = 11: read the relation from the variable's side.
    if ls.a1.is_zero() && !ls.a2.is_zero() {
        return Some((left.checked_neg().ok()?, ls.b2.clone(), ls.b1.clone(), ls.op.swap()));
    }
    Some((left, ls.b1.clone(), ls.b2.clone(), ls.op))
}

// ── The linear-equation procedures (DIAGNOSIS.md) ───────────────────────────────────────────

/// A term moved to the other side keeping its sign: `2x + 3 = 11` → `2x = 11 + 3`. The moves
/// a student makes: a constant away from a side with the variable, a variable term away from a
/// side when the other side has the variable too; each alone, and all of them at once.
fn transpose_without_sign_change(start: &Start<'_>, out: &mut Vec<Statement>) {
    let s = start.statement;
    let mut forms = vec![s.clone()];
    if let Some(c) = collected_sides(s)
        && c != *s
    {
        forms.push(c);
    }
    for form in &forms {
        let Statement::Relation { lhs, op, rhs } = form else {
            return;
        };
        let (l, r) = (terms(lhs), terms(rhs));
        let side_has_var = |ts: &[(bool, Expr)]| ts.iter().any(|(_, t)| has_var(t));
        let movable = |ts: &[(bool, Expr)], other: &[(bool, Expr)], t: &Expr| {
            if has_var(t) {
                side_has_var(other)
            } else {
                side_has_var(ts)
            }
        };
        for (i, (_, t)) in l.iter().enumerate() {
            if movable(&l, &r, t) {
                let mut l2 = l.clone();
                let moved = l2.remove(i);
                let mut r2 = r.clone();
                r2.push(moved);
                out.push(relation(sum(&l2), *op, sum(&r2)));
            }
        }
        for (i, (_, t)) in r.iter().enumerate() {
            if movable(&r, &l, t) {
                let mut r2 = r.clone();
                let moved = r2.remove(i);
                let mut l2 = l.clone();
                l2.push(moved);
                out.push(relation(sum(&l2), *op, sum(&r2)));
            }
        }
        // Everything gathered at once, variable terms left and constants right (or the
        // mirror), every moved term keeping its sign.
        let (lv, lc): (Vec<_>, Vec<_>) = l.iter().cloned().partition(|(_, t)| has_var(t));
        let (rv, rc): (Vec<_>, Vec<_>) = r.iter().cloned().partition(|(_, t)| has_var(t));
        if !lc.is_empty() && !rv.is_empty() {
            let left: Vec<_> = lv.iter().chain(&rv).cloned().collect();
            let right: Vec<_> = rc.iter().chain(&lc).cloned().collect();
            out.push(relation(sum(&left), *op, sum(&right)));
            let left: Vec<_> = lc.iter().chain(&rc).cloned().collect();
            let right: Vec<_> = rv.iter().chain(&lv).cloned().collect();
            out.push(relation(sum(&left), *op, sum(&right)));
        }
    }
}

/// The coefficient divides only one term: `2x + 3 = 11` → `x + 3 = 11/2` (the other side only)
/// or `x + 3/2 = 11` (the constant only).
fn divides_one_term(start: &Start<'_>, out: &mut Vec<Statement>) {
    let Some(ls) = linear_sides(start.statement) else {
        return;
    };
    let Some((a, b, c, op)) = gathered(&ls) else {
        return;
    };
    if a == Rational::ONE || b.is_zero() {
        return;
    }
    let op = if a.is_negative() { op.swap() } else { op };
    let x = Expr::Var(ls.var);
    let (Ok(c_over_a), Ok(b_over_a)) = (c.checked_div(&a), b.checked_div(&a)) else {
        return;
    };
    out.push(relation(Expr::Add(bx(x.clone()), bx(num(b))), op, num(c_over_a)));
    out.push(relation(Expr::Add(bx(x), bx(num(b_over_a))), op, num(c)));
}

/// The coefficient is subtracted instead of divided, as if `2x` meant `2 + x`: `2x = 8` →
/// `x = 8 - 2`.
fn subtracts_coefficient(start: &Start<'_>, out: &mut Vec<Statement>) {
    let Some(ls) = linear_sides(start.statement) else {
        return;
    };
    let Some((a, b, c, op)) = gathered(&ls) else {
        return;
    };
    if a == Rational::ONE {
        return;
    }
    let Ok(k) = c.checked_sub(&b) else { return };
    if let Ok(v) = k.checked_sub(&a) {
        out.push(relation(Expr::Var(ls.var), op, num(v)));
    }
}

/// The factor reaches only the first term of the bracket: `2(x + 3)` → `2x + 3`.
fn distributes_first_term_only(start: &Start<'_>, out: &mut Vec<Statement>) {
    structural(start.statement, &first_term_only, out);
}

fn first_term_only(e: &Expr) -> Vec<Expr> {
    let Expr::Mul(a, b) = e else { return Vec::new() };
    let is_sum = |x: &Expr| matches!(x, Expr::Add(..) | Expr::Sub(..));
    let (factor, group, factor_first) = if is_sum(b) && !is_sum(a) {
        (a, b, true)
    } else if is_sum(a) && !is_sum(b) {
        (b, a, false)
    } else {
        return Vec::new();
    };
    let mut ts = terms(group);
    let (neg, first) = ts[0].clone();
    let product = if factor_first {
        Expr::Mul(factor.clone(), bx(first))
    } else {
        Expr::Mul(bx(first), factor.clone())
    };
    ts[0] = (neg, product);
    vec![sum(&ts)]
}

/// A variable term and a constant added into one term: `2x + 3` → `5x`.
fn combines_unlike_terms(start: &Start<'_>, out: &mut Vec<Statement>) {
    structural(start.statement, &combine_unlike, out);
    if let Some(c) = collected_sides(start.statement)
        && c != *start.statement
    {
        structural(&c, &combine_unlike, out);
    }
}

fn combine_unlike(e: &Expr) -> Vec<Expr> {
    let (a, b, minus) = match e {
        Expr::Add(a, b) => (a, b, false),
        Expr::Sub(a, b) => (a, b, true),
        _ => return Vec::new(),
    };
    // `k·x` (a single first-degree monomial) and a nonzero constant, in either order.
    let monomial = |x: &Expr| -> Option<(char, Rational)> {
        let p = Poly::from_expr(x).ok()?;
        (p.degree() == 1 && p.coeff(0).is_zero()).then_some((p.var?, p.coeff(1)))
    };
    let constant = |x: &Expr| -> Option<Rational> {
        if has_var(x) {
            return None;
        }
        Poly::from_expr(x).ok()?.as_constant().filter(|c| !c.is_zero())
    };
    let (var, k) = match (monomial(a), constant(b), constant(a), monomial(b)) {
        (Some((v, k)), Some(c), _, _) => (v, if minus { k.checked_sub(&c) } else { k.checked_add(&c) }),
        (_, _, Some(c), Some((v, k))) => (v, if minus { c.checked_sub(&k) } else { c.checked_add(&k) }),
        _ => return Vec::new(),
    };
    match k {
        Ok(k) => vec![Expr::Mul(bx(num(k)), bx(Expr::Var(var)))],
        Err(_) => Vec::new(),
    }
}

/// The set of `var op value` for a procedure that ends in a value (used by tests and evidence).
pub fn ray_or_point(var: char, op: RelOp, value: Rational) -> Option<SolutionSet> {
    of_relation(&Expr::Var(var), op, &num(value)).ok()
}

/// The numeric part of a step's text after its last `=`, as tokens (`3 + 4 · 2 = 3 + 8` → the
/// tokens of `3 + 8`), for the order-of-operations procedures.
#[allow(dead_code)]
fn last_member(text: &str) -> Option<Vec<Tok>> {
    let toks = tokenize(text).ok()?;
    let start = toks.iter().rposition(|t| t.tok == Tok::Eq).map_or(0, |i| i + 1);
    Some(toks[start..].iter().map(|t| t.tok.clone()).collect())
}
