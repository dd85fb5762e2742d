//! Runs the buggy procedures of a family on a problem and reports their outputs to the search.

pub mod columns;
mod expressions;
mod numbers;
mod whole;

pub(crate) use numbers::fraction_answer_only;

use crate::expr::{NodeId, Statement};
use crate::family::{Family, Op};
use crate::number::{Number, Q};
use crate::search::Search;

/// A problem the procedures can run on, read from the operands or the steps.
#[derive(Clone, Debug)]
pub(crate) enum Problem<'s> {
    /// `a op b` on whole numbers, fractions, integers or decimals.
    Binary {
        family: Family,
        op: Op,
        a: Number,
        b: Number,
    },
    /// A numeric expression with powers or roots (`2^3 • 2^2`, `√(9+16)`), at `root`.
    Expression {
        family: Family,
        st: Statement,
        root: NodeId,
    },
    /// `p% de n`.
    Percent { p: Q, n: Q },
    /// `t0 : t1 = t2 : t3` with exactly one unknown.
    Proportion { terms: [Option<Q>; 4] },
    /// A linear equation `lhs = rhs` in one variable.
    Linear {
        st: &'s Statement,
        lhs: NodeId,
        rhs: NodeId,
    },
}

impl Problem<'_> {
    pub fn family(&self) -> Family {
        match self {
            Problem::Binary { family, .. } | Problem::Expression { family, .. } => *family,
            Problem::Percent { .. } => Family::RatioPercent,
            Problem::Proportion { .. } => Family::RatioProportion,
            Problem::Linear { .. } => Family::AlgebraEqLinear,
        }
    }

    /// The exact correct answer.
    pub fn solve(&self) -> Option<Q> {
        match self {
            Problem::Binary { op, a, b, .. } => apply(*op, a.value, b.value),
            Problem::Expression { st, root, .. } => st.eval(*root),
            Problem::Percent { p, n } => p.mul(*n)?.div(Q::int(100)),
            Problem::Proportion { terms } => numbers::solve_proportion(terms),
            Problem::Linear { st, lhs, rhs } => {
                let (l, r) = (st.linear(*lhs)?, st.linear(*rhs)?);
                r.konst.sub(l.konst)?.div(l.coef.sub(r.coef)?)
            }
        }
    }
}

pub(crate) fn apply(op: Op, a: Q, b: Q) -> Option<Q> {
    match op {
        Op::Add => a.add(b),
        Op::Sub => a.sub(b),
        Op::Mul => a.mul(b),
        Op::Div => a.div(b),
    }
}

/// Every single procedure of the problem's family.
pub(crate) fn run(problem: &Problem<'_>, s: &mut Search) {
    match problem {
        Problem::Binary { family, a, b, .. } => match family {
            Family::ArithSub => whole::subtraction(a.value, b.value, s),
            Family::ArithAdd => whole::addition(a.value, b.value, s),
            Family::ArithMul => whole::multiplication(a.value, b.value, s),
            Family::ArithDiv => whole::division(a.value, b.value, s),
            Family::FractAddSub | Family::FractMul | Family::FractDiv => numbers::fractions(problem, s),
            Family::IntAdd | Family::IntSub | Family::IntMul => numbers::integers(*family, a.value, b.value, s),
            Family::DecAdd | Family::DecSub | Family::DecMul | Family::DecDiv => numbers::decimals(*family, a, b, s),
            _ => {}
        },
        Problem::Expression { st, root, family } => expressions::powers(*family, st, *root, s),
        Problem::Percent { p, n } => numbers::percent(*p, *n, s),
        Problem::Proportion { terms } => numbers::proportion(terms, s),
        Problem::Linear { st, lhs, rhs } => expressions::linear(st, *lhs, *rhs, s),
    }
}

/// The slips any whole-number family may show, computed from the correct answer alone (they
/// need no operands): digits transposed, a place-value shift, one basic fact off.
pub(crate) fn transversal(family: Option<Family>, correct: Q, s: &mut Search) {
    let Some(family) = family else { return };
    let (transposition, place_value, fact) = match family {
        Family::ArithAdd | Family::ArithSub | Family::ArithMul | Family::ArithDiv | Family::Arith => (true, true, true),
        Family::FractAddSub => (false, false, true),
        _ => (false, false, false),
    };
    if transposition {
        whole::digit_transposition(correct, s);
    }
    if place_value {
        whole::place_value(correct, s);
    }
    if fact {
        whole::fact_error(correct, s);
    }
}

/// Compositions, searched when no single procedure explains the answer: two bugs of a column
/// procedure at once, or one bug plus a basic-fact slip in one column.
pub(crate) fn compositions(problem: Option<&Problem<'_>>, s: &mut Search) {
    let Some(Problem::Binary { family, a, b, .. }) = problem else {
        return;
    };
    whole::compositions(*family, a.value, b.value, s);
}
