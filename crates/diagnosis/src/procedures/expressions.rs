//! Misconceptions that live in an expression's structure: laws of exponents and roots, and the
//! steps of solving a linear equation. Each is a buggy evaluator applied wherever its pattern
//! occurs (a student who adds exponents in a power of a power does so every time).

use crate::Detail;
use crate::expr::{Linear, Node, NodeId, Statement};
use crate::family::Family;
use crate::number::Q;
use crate::procedure::Proc;
use crate::search::Search;

const POWER_BUGS: [(Proc, &str); 5] = [
    (
        Proc::PowProductMultipliesExponents,
        "POW_POWER_PRODUCT_MULTIPLIES_EXPONENTS_G8",
    ),
    (Proc::PowPowerAddsExponents, "POW_POWER_OF_POWER_ADDS_EXPONENTS_G8"),
    (
        Proc::PowQuotientDividesExponents,
        "POW_POWER_QUOTIENT_DIVIDES_EXPONENTS_G8",
    ),
    (Proc::PowZeroExponentIsZero, "POW_POWER_ZERO_EXPONENT_EQUALS_ZERO_G8"),
    (Proc::PowBaseTimesExponent, "POW_POWER_BASE_TIMES_EXPONENT_G7"),
];
const ROOT_BUGS: [(Proc, &str); 2] = [
    (Proc::RootOfSumDistributes, "POW_ROOT_OF_SUM_DISTRIBUTES_G9"),
    (Proc::RootHalvesRadicand, "POW_ROOT_SQUARE_ROOT_HALVES_RADICAND_G8"),
];

pub(super) fn powers(family: Family, st: &Statement, root: NodeId, s: &mut Search) {
    let bugs: &[(Proc, &str)] = if family == Family::PowRoot {
        &ROOT_BUGS
    } else {
        &POWER_BUGS
    };
    for &(bug, tag) in bugs {
        s.emit(bug, tag, eval_with(st, root, bug, 0), Detail::None);
    }
}

/// `base^exp` of a node, when it is a power.
fn as_power(st: &Statement, id: NodeId) -> Option<(NodeId, NodeId)> {
    match *st.node(id) {
        Node::Pow(b, e) => Some((b, e)),
        _ => None,
    }
}

/// Evaluates with one misconception applied at every node it fits.
fn eval_with(st: &Statement, id: NodeId, bug: Proc, depth: u32) -> Option<Q> {
    if depth > 64 {
        return None;
    }
    let ev = |i: NodeId| eval_with(st, i, bug, depth + 1);
    let same_base_powers = |x: NodeId, y: NodeId| -> Option<(Q, Q, Q)> {
        let (b1, e1) = as_power(st, x)?;
        let (b2, e2) = as_power(st, y)?;
        let base = ev(b1)?;
        (base == ev(b2)?).then_some(())?;
        Some((base, ev(e1)?, ev(e2)?))
    };
    Some(match *st.node(id) {
        Node::Mul(x, y) if bug == Proc::PowProductMultipliesExponents && same_base_powers(x, y).is_some() => {
            let (base, m, n) = same_base_powers(x, y)?;
            base.pow(m.mul(n)?.to_integer()?)?
        }
        Node::Div(x, y) if bug == Proc::PowQuotientDividesExponents && same_base_powers(x, y).is_some() => {
            let (base, m, n) = same_base_powers(x, y)?;
            base.pow(m.div(n)?.to_integer()?)?
        }
        Node::Pow(inner, n) if bug == Proc::PowPowerAddsExponents && as_power(st, inner).is_some() => {
            let (b, m) = as_power(st, inner)?;
            ev(b)?.pow(ev(m)?.add(ev(n)?)?.to_integer()?)?
        }
        Node::Pow(b, e) if bug == Proc::PowZeroExponentIsZero && ev(e)?.is_zero() => {
            let _ = ev(b)?;
            Q::ZERO
        }
        Node::Pow(b, e) if bug == Proc::PowBaseTimesExponent => ev(b)?.mul(ev(e)?)?,
        Node::Sqrt(r) if bug == Proc::RootOfSumDistributes && matches!(st.node(r), Node::Add(..) | Node::Sub(..)) => {
            match *st.node(r) {
                Node::Add(x, y) => ev(x)?.sqrt()?.add(ev(y)?.sqrt()?)?,
                Node::Sub(x, y) => ev(x)?.sqrt()?.sub(ev(y)?.sqrt()?)?,
                _ => return None,
            }
        }
        Node::Sqrt(r) if bug == Proc::RootHalvesRadicand => ev(r)?.div(Q::int(2))?,
        Node::Num(n) => n.value,
        Node::Var(_) => return None,
        Node::Neg(a) => ev(a)?.neg(),
        Node::Add(a, b) => ev(a)?.add(ev(b)?)?,
        Node::Sub(a, b) => ev(a)?.sub(ev(b)?)?,
        Node::Mul(a, b) => ev(a)?.mul(ev(b)?)?,
        Node::Div(a, b) => ev(a)?.div(ev(b)?)?,
        Node::Pow(a, b) => ev(a)?.pow(ev(b)?.to_integer()?)?,
        Node::Sqrt(a) => ev(a)?.sqrt()?,
        Node::Percent(a) => ev(a)?.div(Q::int(100))?,
        Node::PercentOf(p, n) => ev(p)?.mul(ev(n)?)?,
    })
}

fn solve(l: Linear, r: Linear) -> Option<Q> {
    r.konst.sub(l.konst)?.div(l.coef.sub(r.coef)?)
}

pub(super) fn linear(st: &Statement, lhs: NodeId, rhs: NodeId, s: &mut Search) {
    let (Some(l), Some(r)) = (st.linear(lhs), st.linear(rhs)) else {
        return;
    };
    let (a1, b1, a2, b2) = (l.coef, l.konst, r.coef, r.konst);
    let tag = "ALGEBRA_EQ_LINEAR_SIGN_FLIP_TRANSPOSE_G8";
    let p = Proc::EqTransposeWithoutSignChange;
    // Moving a term across `=` without changing its sign: the constant, the x-term, or both.
    if !b1.is_zero() {
        s.emit(
            p,
            tag,
            b2.add(b1).zip(a1.sub(a2)).and_then(|(k, a)| k.div(a)),
            Detail::Variant("constant moved without changing sign"),
        );
    }
    if !a2.is_zero() {
        s.emit(
            p,
            tag,
            b2.sub(b1).zip(a1.add(a2)).and_then(|(k, a)| k.div(a)),
            Detail::Variant("x-term moved without changing sign"),
        );
        if !b1.is_zero() {
            s.emit(
                p,
                tag,
                b2.add(b1).zip(a1.add(a2)).and_then(|(k, a)| k.div(a)),
                Detail::Variant("both terms moved without changing sign"),
            );
        }
    }
    // After collecting terms: A·x + B = C.
    let (Some(a), Some(k)) = (a1.sub(a2), b2.sub(b1)) else {
        return;
    };
    if a.is_zero() {
        return;
    }
    if a != Q::ONE && !b1.is_zero() {
        let tag = "ALGEBRA_EQ_LINEAR_DIVIDES_ONE_TERM_G8";
        s.emit(
            Proc::EqDividesOneTerm,
            tag,
            b2.div(a).and_then(|c| c.sub(b1)),
            Detail::Variant("only the right-hand side divided"),
        );
        s.emit(
            Proc::EqDividesOneTerm,
            tag,
            b1.div(a).and_then(|c| b2.sub(c)),
            Detail::Variant("only the constant divided"),
        );
    }
    if a != Q::ONE {
        s.emit(
            Proc::EqSubtractsCoefficient,
            "ALGEBRA_EQ_LINEAR_SUBTRACTS_COEFFICIENT_G8",
            k.sub(a),
            Detail::None,
        );
    }
    for (bug, tag) in [
        (
            Proc::EqDistributesFirstTermOnly,
            "ALGEBRA_EQ_LINEAR_DISTRIBUTES_FIRST_TERM_ONLY_G8",
        ),
        (
            Proc::EqCombinesUnlikeTerms,
            "ALGEBRA_EQ_LINEAR_COMBINES_UNLIKE_TERMS_G8",
        ),
    ] {
        let (bl, bapplied) = linear_with(st, lhs, bug, 0);
        let (br, bapplied2) = linear_with(st, rhs, bug, 0);
        if bapplied || bapplied2 {
            s.emit(bug, tag, bl.zip(br).and_then(|(l, r)| solve(l, r)), Detail::None);
        }
    }
}

/// The linear form of a side read with one structural misconception; also whether it applied.
fn linear_with(st: &Statement, id: NodeId, bug: Proc, depth: u32) -> (Option<Linear>, bool) {
    if depth > 64 {
        return (None, false);
    }
    let applied = std::cell::Cell::new(false);
    let sub = |i: NodeId| {
        let (l, a) = linear_with(st, i, bug, depth + 1);
        applied.set(applied.get() | a);
        l
    };
    let k = |q: Q| Linear {
        coef: Q::ZERO,
        konst: q,
    };
    let add = |x: Linear, y: Linear, sign: i128| -> Option<Linear> {
        Some(Linear {
            coef: x.coef.add(y.coef.mul(Q::int(sign))?)?,
            konst: x.konst.add(y.konst.mul(Q::int(sign))?)?,
        })
    };
    let result = (|| -> Option<Linear> {
        Some(match *st.node(id) {
            Node::Add(x, y) | Node::Sub(x, y) => {
                let sign = if matches!(st.node(id), Node::Sub(..)) { -1 } else { 1 };
                let (l, r) = (sub(x)?, sub(y)?);
                let pure_x = |t: &Linear| !t.coef.is_zero() && t.konst.is_zero();
                let pure_k = |t: &Linear| t.coef.is_zero() && !t.konst.is_zero();
                if bug == Proc::EqCombinesUnlikeTerms && ((pure_x(&l) && pure_k(&r)) || (pure_k(&l) && pure_x(&r))) {
                    // 2x + 3 read as 5x.
                    applied.set(true);
                    let coef = l.coef.add(l.konst)?.add(r.coef.add(r.konst)?.mul(Q::int(sign))?)?;
                    Linear { coef, konst: Q::ZERO }
                } else {
                    add(l, r, sign)?
                }
            }
            Node::Mul(x, y) => {
                // 2(x + 3) read as 2x + 3: the factor reaches the first term only.
                let distributes = |f: NodeId, group: NodeId| -> Option<(NodeId, NodeId, i128)> {
                    let _ = st.eval(f)?;
                    match *st.node(group) {
                        Node::Add(u, v) => Some((u, v, 1)),
                        Node::Sub(u, v) => Some((u, v, -1)),
                        _ => None,
                    }
                };
                let pattern = if bug == Proc::EqDistributesFirstTermOnly {
                    distributes(x, y)
                        .map(|g| (x, g))
                        .or_else(|| distributes(y, x).map(|g| (y, g)))
                } else {
                    None
                };
                if let Some((f, (u, v, sign))) = pattern {
                    applied.set(true);
                    let factor = st.eval(f)?;
                    let first = sub(u)?;
                    let first = Linear {
                        coef: first.coef.mul(factor)?,
                        konst: first.konst.mul(factor)?,
                    };
                    add(first, sub(v)?, sign)?
                } else {
                    let (l, r) = (sub(x)?, sub(y)?);
                    if !l.coef.is_zero() && !r.coef.is_zero() {
                        return None;
                    }
                    Linear {
                        coef: l.coef.mul(r.konst)?.add(r.coef.mul(l.konst)?)?,
                        konst: l.konst.mul(r.konst)?,
                    }
                }
            }
            Node::Div(x, y) => {
                let (l, r) = (sub(x)?, sub(y)?);
                if !r.coef.is_zero() {
                    return None;
                }
                Linear {
                    coef: l.coef.div(r.konst)?,
                    konst: l.konst.div(r.konst)?,
                }
            }
            Node::Neg(x) => {
                let l = sub(x)?;
                Linear {
                    coef: l.coef.neg(),
                    konst: l.konst.neg(),
                }
            }
            Node::Var(_) => Linear {
                coef: Q::ONE,
                konst: Q::ZERO,
            },
            _ => k(st.eval(id)?),
        })
    })();
    (result, applied.get())
}
