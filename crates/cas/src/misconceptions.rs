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
use crate::equivalence::{Reading, SolutionSet, line, of_relation};
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
    /// One sentence for the student when this procedure is the diagnosis.
    pub hint: &'static str,
    /// The catalogue code it is reported under (`diagnosis::catalog::ERROR_TAGS`).
    pub tag: &'static str,
    /// Relative base rate among wrong answers where it applies; the same scale as the
    /// diagnosis engine's procedure weights (a common, specific bug gets 3, a rarer one 1.5).
    pub weight: f64,
    /// Whether it is tried together with another composable procedure when no single one
    /// explains the work (the structural and linear-solving bugs, which strike different places).
    pub composable: bool,
    run: fn(&Start<'_>, &mut Vec<Statement>),
}

impl Procedure {
    /// What a student with this bug would write from `start`, one statement per site/variant
    /// (possibly repeated or equivalent to a correct step; the caller filters).
    pub fn outputs(&self, start: &Start<'_>) -> Vec<Statement> {
        let mut out = Vec::new();
        if size(start.statement) > MAX_NODES {
            return out;
        }
        (self.run)(start, &mut out);
        out.truncate(MAX_OUTPUTS);
        out
    }
}

/// Most outputs one procedure returns. A school problem has a handful of sites; this bounds the
/// work (every output is expanded and solved) on a long hostile input.
pub const MAX_OUTPUTS: usize = 24;

/// Largest statement (in tree nodes) the procedures run on. School problems have a few dozen
/// nodes; every output is expanded and solved, so a 1,000-byte hostile input would otherwise cost
/// tens of milliseconds per line.
pub const MAX_NODES: usize = 100;

/// Number of nodes of a statement's trees (counted with an explicit stack).
pub fn size(s: &Statement) -> usize {
    let mut stack: Vec<&Expr> = match s {
        Statement::Expr(e) => vec![e],
        Statement::Relation { lhs, rhs, .. } => vec![lhs, rhs],
        Statement::System(eqs) => return eqs.iter().map(size).sum(),
        _ => return 1,
    };
    let mut n = 0;
    while let Some(e) = stack.pop() {
        n += 1;
        match e {
            Expr::Neg(a) | Expr::Percent(a) => stack.push(a),
            Expr::Add(a, b)
            | Expr::Sub(a, b)
            | Expr::PlusMinus(a, b)
            | Expr::Mul(a, b)
            | Expr::Div(a, b)
            | Expr::Pow(a, b)
            | Expr::Root(a, b) => {
                stack.push(a);
                stack.push(b);
            }
            _ => {}
        }
    }
    n
}

/// Every procedure, specific ones first (ties in ranking keep this order).
pub static LIBRARY: &[Procedure] = &[
    Procedure {
        subtag: "TRANSPOSE-WITHOUT-SIGN-CHANGE",
        hint: "a term that changes side changes its sign: subtract it from both sides",
        tag: "ALGEBRA_EQ_LINEAR_SIGN_FLIP_TRANSPOSE_G8",
        weight: 3.0,
        composable: true,
        run: transpose_without_sign_change,
    },
    Procedure {
        subtag: "DIVIDES-ONE-TERM",
        hint: "divide every term of both sides, or isolate the term with the unknown first",
        tag: "ALGEBRA_EQ_LINEAR_DIVIDES_ONE_TERM_G8",
        weight: 1.5,
        composable: true,
        run: divides_one_term,
    },
    Procedure {
        subtag: "SUBTRACTS-COEFFICIENT",
        hint: "2x means 2 times x: undo it by dividing, not subtracting",
        tag: "ALGEBRA_EQ_LINEAR_SUBTRACTS_COEFFICIENT_G8",
        weight: 1.5,
        composable: true,
        run: subtracts_coefficient,
    },
    Procedure {
        subtag: "MULTIPLIES-BY-COEFFICIENT",
        hint: "2x means 2 times x: undo a multiplication by dividing",
        tag: "ALGEBRA_EQ_LINEAR_MULTIPLIES_BY_COEFFICIENT_G8",
        weight: 1.5,
        composable: true,
        run: multiplies_by_coefficient,
    },
    Procedure {
        subtag: "COEFFICIENT-NOT-DIVIDED",
        hint: "the last step divides both sides by the coefficient of the unknown",
        tag: "ALGEBRA_EQ_LINEAR_COEFFICIENT_NOT_DIVIDED_G8",
        weight: 1.5,
        composable: true,
        run: coefficient_not_divided,
    },
    Procedure {
        subtag: "DISTRIBUTES-FIRST-TERM-ONLY",
        hint: "the factor multiplies every term inside the brackets",
        tag: "ALGEBRA_EQ_LINEAR_DISTRIBUTES_FIRST_TERM_ONLY_G8",
        weight: 2.0,
        composable: true,
        run: distributes_first_term_only,
    },
    Procedure {
        subtag: "COMBINES-UNLIKE-TERMS",
        hint: "only like terms add up: 2x + 3 stays 2x + 3",
        tag: "ALGEBRA_EQ_LINEAR_COMBINES_UNLIKE_TERMS_G8",
        weight: 1.5,
        composable: true,
        run: combines_unlike_terms,
    },
    Procedure {
        subtag: "SIGN-LOST-REMOVING-PARENTHESES",
        hint: "a minus before a bracket changes the sign of every term inside it",
        tag: "ALGEBRA_EXPR_SIGN_LOST_PARENTHESES_G7",
        weight: 2.5,
        composable: true,
        run: sign_lost_removing_parentheses,
    },
    Procedure {
        subtag: "SQUARE-OF-SUM-AS-SUM-OF-SQUARES",
        hint: "(a + b)^2 = a^2 + 2ab + b^2, not a^2 + b^2",
        tag: "ALGEBRA_EXPR_SQUARE_OF_SUM_G9",
        weight: 3.0,
        composable: true,
        run: square_of_sum,
    },
    Procedure {
        subtag: "CANCELS-TERMS-ACROSS-FRACTION",
        hint: "only common factors cancel in a fraction, never terms of a sum",
        tag: "ALGEBRA_EXPR_CANCELS_TERMS_ACROSS_FRACTION_G8",
        weight: 2.0,
        composable: true,
        run: cancels_across_fraction,
    },
    Procedure {
        subtag: "LEFT-TO-RIGHT",
        hint: "multiply and divide before adding and subtracting",
        tag: "ARITH_ORDER_OPS_LEFT_TO_RIGHT_G6",
        weight: 3.0,
        composable: false,
        run: left_to_right,
    },
    Procedure {
        subtag: "MULTIPLIES-BEFORE-DIVIDING",
        hint: "multiplication and division have the same priority (as do addition and subtraction): go from left to right",
        tag: "ARITH_ORDER_OPS_PEMDAS_LITERAL_G6",
        weight: 1.5,
        composable: false,
        run: pemdas_literal,
    },
    Procedure {
        subtag: "NEGATIVE-BASE-SQUARED",
        hint: "-3^2 is -(3^2) = -9; only (-3)^2 is 9",
        tag: "ARITH_ORDER_OPS_NEGATIVE_BASE_SQUARED_G7",
        weight: 2.0,
        composable: false,
        run: negative_base_squared,
    },
    Procedure {
        subtag: "INEQUALITY-NOT-REVERSED",
        hint: "multiplying or dividing by a negative number reverses the inequality",
        tag: "ALGEBRA_INEQ_LINEAR_NOT_FLIPPED_G8",
        weight: 3.0,
        composable: false,
        run: inequality_not_reversed,
    },
    Procedure {
        subtag: "QUADRATIC-ROOT-LOST",
        hint: "a quadratic equation can have two solutions: x^2 = 9 gives x = 3 and x = -3",
        tag: "ALGEBRA_EQ_QUADRATIC_ROOT_LOST_G10",
        weight: 3.0,
        composable: false,
        run: quadratic_root_lost,
    },
    Procedure {
        subtag: "PERCENT-OF-WRONG-BASE",
        hint: "ask what the percentage is of: the original quantity is the 100%",
        tag: "RATIO_PERCENT_WRONG_BASE_G7",
        weight: 3.0,
        composable: false,
        run: percent_of_wrong_base,
    },
    Procedure {
        subtag: "DIVIDES-BY-PERCENT",
        hint: "p% of n is p hundredths of n: n · p / 100",
        tag: "RATIO_PERCENT_DIVIDE_BY_PERCENT_G7",
        weight: 2.0,
        composable: false,
        run: divides_by_percent,
    },
    Procedure {
        subtag: "PERCENT-DECIMAL-SHIFT",
        hint: "p% is p/100: 15% = 0.15",
        tag: "RATIO_PERCENT_DECIMAL_SHIFT_ERROR_G7",
        weight: 1.5,
        composable: false,
        run: percent_decimal_shift,
    },
    Procedure {
        subtag: "ADDITIVE-STRATEGY",
        hint: "equal ratios are multiples, not equal differences",
        tag: "RATIO_PROPORTION_ADDITIVE_STRATEGY_G7",
        weight: 2.0,
        composable: false,
        run: additive_strategy,
    },
    Procedure {
        subtag: "WRONG-CROSS-PRODUCT",
        hint: "in a/b = c/d multiply across: a · d = b · c",
        tag: "RATIO_PROPORTION_CROSS_PRODUCT_ERROR_G7",
        weight: 1.5,
        composable: false,
        run: wrong_cross_product,
    },
    Procedure {
        subtag: "SYSTEM-VALUES-SWAPPED",
        hint: "write each value next to its own unknown, and check the pair in both equations",
        tag: "ALGEBRA_SYSTEM_LINEAR_VALUES_SWAPPED_G9",
        weight: 2.0,
        composable: false,
        run: system_values_swapped,
    },
    Procedure {
        subtag: "SUBSTITUTION-SIGN-ERROR",
        hint: "isolate the unknown by doing the same to both sides and substitute it in brackets",
        tag: "ALGEBRA_SYSTEM_LINEAR_SUBSTITUTION_SIGN_G9",
        weight: 3.0,
        composable: false,
        run: substitution_sign_error,
    },
    Procedure {
        subtag: "QUADRATIC-FORMULA-MINUS-B-DROPPED",
        hint: "the formula starts with -b: write b with its sign, in brackets",
        tag: "ALGEBRA_EQ_QUADRATIC_FORMULA_SIGN_G10",
        weight: 1.5,
        composable: false,
        run: quadratic_formula_sign,
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
    if out.len() >= MAX_OUTPUTS {
        return;
    }
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

/// The coefficient undone by multiplying instead of dividing: `3x = 12` → `x = 12 · 3`.
fn multiplies_by_coefficient(start: &Start<'_>, out: &mut Vec<Statement>) {
    let Some(ls) = linear_sides(start.statement) else {
        return;
    };
    let Some((a, b, c, op)) = gathered(&ls) else {
        return;
    };
    // A whole-number coefficient: a fraction's is undone by multiplying, rightly.
    if !a.is_integer() || a == Rational::ONE || a == Rational::integer(-1) {
        return;
    }
    let op = if a.is_negative() { op.swap() } else { op };
    if let Ok(v) = c.checked_sub(&b).and_then(|k| k.checked_mul(&a)) {
        out.push(relation(Expr::Var(ls.var), op, num(v)));
    }
}

/// The work stops before the last division, the coefficient dropped: `3x + 5 = 20` → `3x = 15`
/// → `x = 15`.
fn coefficient_not_divided(start: &Start<'_>, out: &mut Vec<Statement>) {
    let Some(ls) = linear_sides(start.statement) else {
        return;
    };
    let Some((a, b, c, op)) = gathered(&ls) else {
        return;
    };
    // A whole-number coefficient left standing (`3x = 15` read as `x = 15`); a fraction's
    // dropped is another story (cancelling across a fraction, say).
    if !a.is_integer() || a == Rational::ONE {
        return;
    }
    if let Ok(v) = c.checked_sub(&b) {
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

// ── Expressions ─────────────────────────────────────────────────────────────────────────────

/// A minus in front of a bracket changes only its first term: `10 - (x + 3)` → `10 - x + 3`,
/// `-(x - 4)` → `-x - 4`, `a - 2(x - 4)` → `a - 2x - 8`.
fn sign_lost_removing_parentheses(start: &Start<'_>, out: &mut Vec<Statement>) {
    structural(start.statement, &sign_lost, out);
}

fn sign_lost(e: &Expr) -> Vec<Expr> {
    // The terms of `group` after "removing the bracket" with the minus reaching only the first.
    let lose = |group: &Expr, factor: Option<&Expr>| -> Option<Vec<(bool, Expr)>> {
        if !matches!(group, Expr::Add(..) | Expr::Sub(..)) {
            return None;
        }
        let scaled = |t: Expr| match factor {
            Some(f) => Expr::Mul(bx(f.clone()), bx(t)),
            None => t,
        };
        let mut ts: Vec<(bool, Expr)> = terms(group).into_iter().map(|(n, t)| (n, scaled(t))).collect();
        ts[0].0 = !ts[0].0;
        Some(ts)
    };
    let negated_factor = |x: &Expr| -> Option<Expr> {
        match x {
            Expr::Neg(f) => Some((**f).clone()),
            Expr::Num(r) if r.is_negative() => r.checked_neg().ok().map(Expr::Num),
            _ => None,
        }
    };
    match e {
        Expr::Sub(a, g) => {
            let inner = match &**g {
                Expr::Mul(f, grp) if !has_sum(f) => lose(grp, Some(f)),
                other => lose(other, None),
            };
            let Some(inner) = inner else { return Vec::new() };
            let mut ts = vec![(false, (**a).clone())];
            ts.extend(inner);
            vec![sum(&ts)]
        }
        Expr::Neg(g) => lose(g, None).map(|ts| vec![sum(&ts)]).unwrap_or_default(),
        Expr::Mul(f, g) => match negated_factor(f) {
            Some(f) => lose(g, Some(&f)).map(|ts| vec![sum(&ts)]).unwrap_or_default(),
            None => Vec::new(),
        },
        _ => Vec::new(),
    }
}

fn has_sum(e: &Expr) -> bool {
    matches!(e, Expr::Add(..) | Expr::Sub(..))
}

/// A power distributed over a sum: `(x + 3)^2` → `x^2 + 3^2`; for a difference both
/// `a^2 - b^2` and `a^2 + b^2` are written.
fn square_of_sum(start: &Start<'_>, out: &mut Vec<Statement>) {
    structural(start.statement, &power_of_sum, out);
}

fn power_of_sum(e: &Expr) -> Vec<Expr> {
    let Expr::Pow(base, n) = e else { return Vec::new() };
    let is_power = matches!(&**n, Expr::Num(r) if r.is_integer() && *r >= Rational::integer(2));
    if !has_sum(base) || !is_power {
        return Vec::new();
    }
    let ts = terms(base);
    let pow = |t: &Expr| Expr::Pow(bx(t.clone()), n.clone());
    let kept: Vec<(bool, Expr)> = ts.iter().map(|(neg, t)| (*neg, pow(t))).collect();
    let mut out = vec![sum(&kept)];
    if ts.iter().any(|(neg, _)| *neg) {
        let all_plus: Vec<(bool, Expr)> = ts.iter().map(|(_, t)| (false, pow(t))).collect();
        out.push(sum(&all_plus));
    }
    out
}

/// Cancelling across a fraction bar what is not a factor: one term of the numerator divided
/// (`(x + 6)/3` → `x + 2`), a term equal to the denominator struck out (`(x + 3)/3` → `x`), or a
/// term common to a numerator and denominator that are sums (`(x + 2)/(x + 5)` → `2/5`).
fn cancels_across_fraction(start: &Start<'_>, out: &mut Vec<Statement>) {
    structural(start.statement, &cancel_across, out);
}

fn cancel_across(e: &Expr) -> Vec<Expr> {
    let Expr::Div(top, bottom) = e else { return Vec::new() };
    let mut out = Vec::new();
    let same = |a: &Expr, b: &Expr| match (Poly::from_expr(a), Poly::from_expr(b)) {
        (Ok(p), Ok(q)) => p.coeffs == q.coeffs && (p.var == q.var || p.degree() == 0),
        _ => false,
    };
    if has_sum(top) {
        let ts = terms(top);
        for i in 0..ts.len() {
            let mut divided = ts.clone();
            divided[i].1 = Expr::Div(bx(ts[i].1.clone()), bottom.clone());
            out.push(sum(&divided));
            if same(&ts[i].1, bottom) {
                let mut struck = ts.clone();
                struck.remove(i);
                out.push(sum(&struck));
            }
        }
        if has_sum(bottom) {
            let bs = terms(bottom);
            for (i, t) in ts.iter().enumerate() {
                if let Some(j) = bs.iter().position(|b| b.0 == t.0 && same(&b.1, &t.1)) {
                    let (mut t2, mut b2) = (ts.clone(), bs.clone());
                    t2.remove(i);
                    b2.remove(j);
                    if !b2.is_empty() {
                        out.push(Expr::Div(bx(sum(&t2)), bx(sum(&b2))));
                    }
                }
            }
        }
    }
    out
}

// ── Order of operations ─────────────────────────────────────────────────────────────────────

/// The operations done in the order they are written: `3 + 4 · 2` → `14`.
fn left_to_right(start: &Start<'_>, out: &mut Vec<Statement>) {
    order_of_operations(start, &[&[Tok::Times, Tok::Divide, Tok::Plus, Tok::Minus]], out);
}

/// A priority mnemonic read literally: every product before any quotient, every sum before any
/// difference: `12 : 2 · 3` → `2`, `10 - 3 + 2` → `5`.
fn pemdas_literal(start: &Start<'_>, out: &mut Vec<Statement>) {
    order_of_operations(
        start,
        &[&[Tok::Times], &[Tok::Divide], &[Tok::Plus], &[Tok::Minus]],
        out,
    );
}

fn order_of_operations(start: &Start<'_>, levels: &[&[Tok]], out: &mut Vec<Statement>) {
    if start.reading != Reading::Expression {
        return;
    }
    let Ok(toks) = tokenize(start.text) else { return };
    // A chain of equalities claims its last member.
    let from = toks.iter().rposition(|t| t.tok == Tok::Eq).map_or(0, |i| i + 1);
    let toks: Vec<Tok> = toks[from..].iter().map(|t| t.tok.clone()).collect();
    let mut at = 0;
    if let Some(v) = buggy_eval(&toks, &mut at, levels, 0)
        && matches!(toks.get(at), Some(Tok::Eof) | None)
    {
        out.push(Statement::Expr(num(v)));
    }
}

/// Most nested groups the buggy evaluator follows (the parser allows 64).
const MAX_GROUPS: usize = 64;

/// Evaluates tokens from `at` to the end of the current group with the binary operators
/// grouped by `levels` (each level applied left to right, first level first). Parentheses,
/// braces, `\frac`, powers and unary minus keep their meaning: the student ignores the priority
/// of the four operations, not the brackets. `None` for anything else (variables, roots, ...).
fn buggy_eval(toks: &[Tok], at: &mut usize, levels: &[&[Tok]], depth: usize) -> Option<Rational> {
    if depth > MAX_GROUPS {
        return None;
    }
    let mut values = vec![operand(toks, at, levels, depth)?];
    let mut ops: Vec<Tok> = Vec::new();
    loop {
        match toks.get(*at) {
            Some(t @ (Tok::Plus | Tok::Minus | Tok::Times | Tok::Divide)) => {
                ops.push(t.clone());
                *at += 1;
            }
            // Implicit product: `2(3 + 1)`, `2\frac{1}{2}` is not a mixed number here.
            Some(Tok::LParen) => ops.push(Tok::Times),
            _ => break,
        }
        values.push(operand(toks, at, levels, depth)?);
    }
    for level in levels {
        let mut i = 0;
        while i < ops.len() {
            if level.contains(&ops[i]) {
                let (a, b) = (&values[i], &values[i + 1]);
                let v = match ops[i] {
                    Tok::Plus => a.checked_add(b),
                    Tok::Minus => a.checked_sub(b),
                    Tok::Times => a.checked_mul(b),
                    _ => a.checked_div(b),
                }
                .ok()?;
                values[i] = v;
                values.remove(i + 1);
                ops.remove(i);
            } else {
                i += 1;
            }
        }
    }
    if !ops.is_empty() {
        return None;
    }
    values.pop()
}

/// One operand: a number or group, with its power, possibly negated.
fn operand(toks: &[Tok], at: &mut usize, levels: &[&[Tok]], depth: usize) -> Option<Rational> {
    if depth > MAX_GROUPS {
        return None;
    }
    if toks.get(*at) == Some(&Tok::Minus) {
        *at += 1;
        return operand(toks, at, levels, depth + 1)?.checked_neg().ok();
    }
    let base = atom(toks, at, levels, depth)?;
    if toks.get(*at) == Some(&Tok::Caret) {
        *at += 1;
        let exp = if toks.get(*at) == Some(&Tok::Minus) {
            *at += 1;
            atom(toks, at, levels, depth + 1)?.checked_neg().ok()?
        } else {
            atom(toks, at, levels, depth + 1)?
        };
        if !exp.is_integer() || exp > Rational::integer(64) || exp < Rational::integer(-64) {
            return None;
        }
        let e = exp.to_string().parse::<i128>().ok()?;
        return base.pow(e).ok();
    }
    Some(base)
}

fn atom(toks: &[Tok], at: &mut usize, levels: &[&[Tok]], depth: usize) -> Option<Rational> {
    let group = |at: &mut usize, close: Tok| -> Option<Rational> {
        *at += 1;
        let v = buggy_eval(toks, at, levels, depth + 1)?;
        if toks.get(*at) != Some(&close) {
            return None;
        }
        *at += 1;
        Some(v)
    };
    match toks.get(*at)? {
        Tok::Num(r) => {
            *at += 1;
            Some(r.clone())
        }
        Tok::LParen => group(at, Tok::RParen),
        Tok::LBrace => group(at, Tok::RBrace),
        Tok::Frac => {
            *at += 1;
            if toks.get(*at) != Some(&Tok::LBrace) {
                return None;
            }
            let n = group(at, Tok::RBrace)?;
            if toks.get(*at) != Some(&Tok::LBrace) {
                return None;
            }
            let d = group(at, Tok::RBrace)?;
            n.checked_div(&d).ok()
        }
        _ => None,
    }
}

/// The minus sign squared with its number: `-3^2` → `(-3)^2 = 9`.
fn negative_base_squared(start: &Start<'_>, out: &mut Vec<Statement>) {
    structural(start.statement, &negative_base, out);
}

fn negative_base(e: &Expr) -> Vec<Expr> {
    match e {
        Expr::Neg(p) => match &**p {
            Expr::Pow(b, n) => vec![Expr::Pow(bx(Expr::Neg(b.clone())), n.clone())],
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

// ── Inequalities and quadratics ─────────────────────────────────────────────────────────────

/// Dividing by a negative coefficient without reversing the inequality: `-2x > 8` → `x > -4`.
/// It applies when the variable has a negative coefficient on a side.
fn inequality_not_reversed(start: &Start<'_>, out: &mut Vec<Statement>) {
    let Some(ls) = linear_sides(start.statement) else {
        return;
    };
    if ls.op == RelOp::Eq || !(ls.a1.is_negative() || ls.a2.is_negative()) {
        return;
    }
    let Some((a, b, c, op)) = gathered(&ls) else {
        return;
    };
    let Ok(bound) = c.checked_sub(&b).and_then(|k| k.checked_div(&a)) else {
        return;
    };
    // The correct result is `x op' bound` with op' reversed for a negative divisor; the bug
    // keeps the direction the relation had before dividing, whichever side it gathered on.
    let kept = if a.is_negative() { op } else { op.swap() };
    out.push(relation(Expr::Var(ls.var), kept, num(bound)));
}

/// The solutions `(var, roots)` of a quadratic equation with two distinct rational roots.
fn two_rational_roots(s: &Statement) -> Option<(char, Vec<Rational>)> {
    let Statement::Relation {
        lhs,
        op: RelOp::Eq,
        rhs,
    } = s
    else {
        return None;
    };
    let var = variable(s)?;
    let diff = Poly::from_expr(lhs).ok()?.sub(&Poly::from_expr(rhs).ok()?).ok()?;
    if diff.degree() != 2 {
        return None;
    }
    match of_relation(lhs, RelOp::Eq, rhs).ok()? {
        SolutionSet::Points(ps) if ps.len() == 2 => Some((var, ps)),
        _ => None,
    }
}

/// Only one root given: `x^2 = 9` → `x = 3`; `x^2 = 3x` → `x = 3` (divided by x).
fn quadratic_root_lost(start: &Start<'_>, out: &mut Vec<Statement>) {
    let Some((var, roots)) = two_rational_roots(start.statement) else {
        return;
    };
    // The positive (or nonzero) root is the one kept most often; listed first.
    for r in roots.iter().rev() {
        out.push(relation(Expr::Var(var), RelOp::Eq, num(r.clone())));
    }
}

/// The quadratic formula with `b` in place of `-b`: every root changes sign, which is solving
/// the equation with `x` replaced by `-x`.
fn quadratic_formula_sign(start: &Start<'_>, out: &mut Vec<Statement>) {
    let Statement::Relation {
        lhs,
        op: RelOp::Eq,
        rhs,
    } = start.statement
    else {
        return;
    };
    let Some(var) = variable(start.statement) else { return };
    let Ok(diff) = Poly::from_expr(lhs).and_then(|l| l.sub(&Poly::from_expr(rhs)?)) else {
        return;
    };
    if diff.degree() != 2 || diff.coeff(1).is_zero() {
        return;
    }
    let Ok(minus_b) = diff.coeff(1).checked_neg() else {
        return;
    };
    let mirrored = Poly {
        var: Some(var),
        coeffs: vec![diff.coeff(0), minus_b, diff.coeff(2)],
    };
    out.push(relation(poly_expr(&mirrored, var), RelOp::Eq, Expr::num(0)));
}

// ── Percentages ─────────────────────────────────────────────────────────────────────────────

/// The percentage taken of the wrong quantity. In `x - 20\% x = 40` (the price before a 20%
/// discount) the 20% is taken of the 40 the student knows: `x - 20\% · 40 = 40`, so 48 instead
/// of 50; `20\% x = 15` read as `x = 20\% · 15`; `x(1 - 20\%) = 40` as `x = 40(1 + 20\%)`;
/// in `x\% · 60 = 15` the base and the part swapped (`x\% · 15 = 60`), or the base replaced
/// by another number of the problem (`x\% · 50 = 50 - 40` for the change from 40 to 50).
fn percent_of_wrong_base(start: &Start<'_>, out: &mut Vec<Statement>) {
    let Statement::Relation {
        lhs,
        op: RelOp::Eq,
        rhs,
    } = start.statement
    else {
        return;
    };
    for (side, other, left) in [(lhs, rhs, true), (rhs, lhs, false)] {
        if !has_var(side) || has_var(other) {
            continue;
        }
        let put = |s: Expr, o: Expr| {
            if left {
                relation(s, RelOp::Eq, o)
            } else {
                relation(o, RelOp::Eq, s)
            }
        };
        let ts = terms(side);
        for (i, (neg, t)) in ts.iter().enumerate() {
            if let Some((percent, base)) = percent_of(t) {
                if has_var(base) && !has_var(percent) {
                    if ts.len() == 1 {
                        // p% of x = B read as x = p% of B.
                        out.push(put(base.clone(), Expr::Mul(bx(percent.clone()), bx(other.clone()))));
                    } else {
                        // The percent term of the unknown taken of the known quantity instead.
                        let mut wrong = ts.clone();
                        wrong[i] = (*neg, Expr::Mul(bx(percent.clone()), bx(other.clone())));
                        out.push(put(sum(&wrong), other.clone()));
                    }
                } else if let Expr::Percent(p) = percent
                    && has_var(p)
                    && !has_var(base)
                    && ts.len() == 1
                {
                    // x% of A = B: the part and the whole swapped, or another number as the base.
                    out.push(put(Expr::Mul(bx(percent.clone()), bx(other.clone())), base.clone()));
                    for n in literals(other) {
                        if Poly::from_expr(base).ok().and_then(|b| b.as_constant()) != Some(n.clone()) {
                            out.push(put(Expr::Mul(bx(percent.clone()), bx(num(n))), other.clone()));
                        }
                    }
                }
            }
            // x · (1 ± p%) = F: the change applied to F the other way, x = F · (2 - (1 ± p%)).
            if let Some((factor, unknown)) = scaled_by_percent_change(t)
                && ts.len() == 1
            {
                let two_minus = Expr::Sub(bx(Expr::num(2)), bx(factor.clone()));
                out.push(put(unknown.clone(), Expr::Mul(bx(other.clone()), bx(two_minus))));
            }
        }
    }
}

/// The quantity divided by the percentage number (or the other way round) instead of taking
/// that many hundredths of it: `15\% de 200` → `200 : 15`.
fn divides_by_percent(start: &Start<'_>, out: &mut Vec<Statement>) {
    structural(
        start.statement,
        &|e: &Expr| match percent_of(e) {
            Some((Expr::Percent(p), n)) => {
                vec![Expr::Div(bx(n.clone()), p.clone()), Expr::Div(p.clone(), bx(n.clone()))]
            }
            _ => Vec::new(),
        },
        out,
    );
}

/// The percentage turned into a decimal with the point in the wrong place: `15\%` as 0,015,
/// 1,5, 0,0015 or 15 (the hundredths forgotten).
fn percent_decimal_shift(start: &Start<'_>, out: &mut Vec<Statement>) {
    structural(
        start.statement,
        &|e: &Expr| match e {
            Expr::Percent(p) => [1000, 10, 10_000, 1]
                .iter()
                .map(|d| Expr::Div(p.clone(), bx(Expr::num(*d))))
                .collect(),
            _ => Vec::new(),
        },
        out,
    );
}

/// `(p%, u)` when `t` is `p% · u` or `u · p%` (also `p% de u`).
fn percent_of(t: &Expr) -> Option<(&Expr, &Expr)> {
    match t {
        Expr::Mul(a, b) if matches!(**a, Expr::Percent(_)) => Some((a, b)),
        Expr::Mul(a, b) if matches!(**b, Expr::Percent(_)) => Some((b, a)),
        _ => None,
    }
}

fn contains_percent(e: &Expr) -> bool {
    match e {
        Expr::Percent(_) => true,
        Expr::Neg(a) => contains_percent(a),
        Expr::Add(a, b) | Expr::Sub(a, b) | Expr::Mul(a, b) | Expr::Div(a, b) => {
            contains_percent(a) || contains_percent(b)
        }
        _ => false,
    }
}

/// `(factor, u)` when `t` is `u · factor` with a numeric factor containing a percent sign that is
/// a sum (`1 - 20\%`), the unknown `u` having the variable.
fn scaled_by_percent_change(t: &Expr) -> Option<(&Expr, &Expr)> {
    let Expr::Mul(a, b) = t else { return None };
    let change = |f: &Expr| has_sum(f) && contains_percent(f) && !has_var(f);
    if change(a) && has_var(b) {
        Some((a, b))
    } else if change(b) && has_var(a) {
        Some((b, a))
    } else {
        None
    }
}

/// The numbers written in an expression, in order.
fn literals(e: &Expr) -> Vec<Rational> {
    let mut out = Vec::new();
    let mut stack = vec![e];
    while let Some(e) = stack.pop() {
        match e {
            Expr::Num(r) => out.push(r.clone()),
            Expr::Neg(a) | Expr::Percent(a) => stack.push(a),
            Expr::Add(a, b) | Expr::Sub(a, b) | Expr::Mul(a, b) | Expr::Div(a, b) | Expr::Pow(a, b) => {
                stack.push(b);
                stack.push(a);
            }
            _ => {}
        }
    }
    out
}

// ── Systems ─────────────────────────────────────────────────────────────────────────────────

/// Substitution with a sign error: an unknown with coefficient ±1 isolated from one equation
/// with the other unknown's term keeping its sign (`x + y = 5` → `x = 5 + y`), or with both
/// signs wrong (`x = y - 5`), then substituted into the other equation; or isolated correctly
/// but substituted as if the term's sign were lost (no brackets: `2x - (5 - y)` as `2x - 5 - y`),
/// then back-substituted into the correct expression.
fn substitution_sign_error(start: &Start<'_>, out: &mut Vec<Statement>) {
    let (Statement::System(eqs), Reading::System(vars)) = (start.statement, start.reading) else {
        return;
    };
    let [first, second] = eqs.as_slice() else { return };
    let lines: Vec<[Rational; 3]> = [first, second]
        .iter()
        .filter_map(|e| match e {
            Statement::Relation {
                lhs,
                op: RelOp::Eq,
                rhs,
            } => line(lhs, rhs, vars).ok(),
            _ => None,
        })
        .collect();
    let [l0, l1] = lines.as_slice() else { return };
    let one = Rational::ONE;
    let minus_one = Rational::integer(-1);
    for (from, into) in [(l0, l1), (l1, l0)] {
        for k in 0..2 {
            let a = &from[k];
            if *a != one && *a != minus_one {
                continue;
            }
            let (v, w) = (Expr::Var(vars[k]), Expr::Var(vars[1 - k]));
            let (b, c) = (&from[1 - k], &from[2]);
            // v = (c - b·w)/a, with a = ±1 it is a·c - a·b·w.
            let (Ok(ac), Ok(ab)) = (a.checked_mul(c), a.checked_mul(b)) else {
                continue;
            };
            let isolated = |constant: &Rational, slope: &Rational| {
                sum(&[(false, num(constant.clone())), signed_product(slope, &w)])
            };
            let Ok(neg_ab) = ab.checked_neg() else { continue };
            let Ok(neg_ac) = ac.checked_neg() else { continue };
            let other = |isolated_v: &Expr| {
                // p·v + q·w = r with v replaced.
                let (p, q, r) = (&into[k], &into[1 - k], &into[2]);
                let mut ts = vec![signed_product(p, isolated_v)];
                if !q.is_zero() {
                    ts.push(signed_product(q, &w));
                }
                relation(sum(&ts), RelOp::Eq, num(r.clone()))
            };
            let system = |a: Statement, b: Statement| Statement::System(vec![a, b]);
            // The w-term keeps its sign: v = a·c + a·b·w.
            let kept = isolated(&ac, &ab);
            out.push(system(relation(v.clone(), RelOp::Eq, kept.clone()), other(&kept)));
            // Both signs wrong: v = -a·c + a·b·w.
            let both = isolated(&neg_ac, &ab);
            out.push(system(relation(v.clone(), RelOp::Eq, both.clone()), other(&both)));
            // Correct isolation, sign lost when substituting; back-substituted correctly.
            let correct = isolated(&ac, &neg_ab);
            out.push(system(relation(v.clone(), RelOp::Eq, correct), other(&kept)));
        }
    }
}

/// The system solved, the two values written against each other's unknown: `x + y = 5,
/// x - y = 1` → `x = 2, y = 3` instead of `x = 3, y = 2`.
fn system_values_swapped(start: &Start<'_>, out: &mut Vec<Statement>) {
    if !matches!(start.reading, Reading::System(_)) {
        return;
    }
    let Ok(solution) = crate::solve::solve(start.text) else {
        return;
    };
    let crate::solve::Answer::Point { vars, values } = solution.answer else {
        return;
    };
    let ([v, w], [p, q]) = (vars.as_slice(), values.as_slice()) else {
        return;
    };
    if p != q {
        out.push(Statement::System(vec![
            relation(Expr::Var(*v), RelOp::Eq, num(q.clone())),
            relation(Expr::Var(*w), RelOp::Eq, num(p.clone())),
        ]));
    }
}

/// `k·e` as a signed term as a student writes it: `y`, `- y`, `2(5 + y)`, `- 3y`.
fn signed_product(k: &Rational, e: &Expr) -> (bool, Expr) {
    let (neg, mag) = match k.checked_neg() {
        Ok(m) if k.is_negative() => (true, m),
        _ => (false, k.clone()),
    };
    if mag == Rational::ONE {
        (neg, e.clone())
    } else {
        (neg, Expr::Mul(bx(num(mag)), bx(e.clone())))
    }
}

// ── Proportions ─────────────────────────────────────────────────────────────────────────────

/// The four terms of `a/b = c/d` (also `a : b = c : d`), when the statement is a proportion.
fn proportion(s: &Statement) -> Option<[&Expr; 4]> {
    let Statement::Relation {
        lhs: Expr::Div(a, b),
        op: RelOp::Eq,
        rhs: Expr::Div(c, d),
    } = s
    else {
        return None;
    };
    let unknowns = [a, b, c, d].iter().filter(|t| has_var(t)).count();
    (unknowns == 1).then_some([&**a, &**b, &**c, &**d])
}

/// Ratios compared by differences: `2 : 4 = 3 : x` → `4 - 2 = x - 3`, so 5 instead of 6.
fn additive_strategy(start: &Start<'_>, out: &mut Vec<Statement>) {
    let Some([a, b, c, d]) = proportion(start.statement) else {
        return;
    };
    let diff = |x: &Expr, y: &Expr| Expr::Sub(bx(x.clone()), bx(y.clone()));
    out.push(relation(diff(b, a), RelOp::Eq, diff(d, c)));
}

/// The wrong pair multiplied: `2 : 4 = 3 : x` → `2 · 3 = 4x` (along the rows instead of
/// across), so 1,5 instead of 6.
fn wrong_cross_product(start: &Start<'_>, out: &mut Vec<Statement>) {
    let Some([a, b, c, d]) = proportion(start.statement) else {
        return;
    };
    let mul = |x: &Expr, y: &Expr| Expr::Mul(bx(x.clone()), bx(y.clone()));
    out.push(relation(mul(a, c), RelOp::Eq, mul(b, d)));
}
