//! The expression tree and its plain-text display.
//!
//! The display puts in only the parentheses that are needed (plus parentheses around negative
//! right operands, `2 · (-3)`, as school books do), so that evaluation steps read naturally.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::number::Rational;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Expr {
    Num(Rational),
    Var(char),
    Neg(Box<Expr>),
    Add(Box<Expr>, Box<Expr>),
    Sub(Box<Expr>, Box<Expr>),
    /// `a ± b`; only valid in answers, where it stands for two values.
    PlusMinus(Box<Expr>, Box<Expr>),
    Mul(Box<Expr>, Box<Expr>),
    Div(Box<Expr>, Box<Expr>),
    Pow(Box<Expr>, Box<Expr>),
    /// `\sqrt[index]{radicand}`; plain `\sqrt{}` has index 2.
    Root(Box<Expr>, Box<Expr>),
    /// `a\%`, that is `a/100`; kept as written so that steps read "15% of 200".
    Percent(Box<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RelOp {
    Eq,
    Lt,
    Gt,
    Le,
    Ge,
}

impl RelOp {
    /// The relation with its sides swapped: `a < b` iff `b > a`.
    pub fn swap(self) -> RelOp {
        match self {
            RelOp::Eq => RelOp::Eq,
            RelOp::Lt => RelOp::Gt,
            RelOp::Gt => RelOp::Lt,
            RelOp::Le => RelOp::Ge,
            RelOp::Ge => RelOp::Le,
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            RelOp::Eq => "=",
            RelOp::Lt => "<",
            RelOp::Gt => ">",
            RelOp::Le => "≤",
            RelOp::Ge => "≥",
        }
    }
}

/// One parsed statement: an expression to evaluate/simplify, or a relation to solve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Statement {
    Expr(Expr),
    Relation {
        lhs: Expr,
        op: RelOp,
        rhs: Expr,
    },
    /// `\emptyset`: the answer "no solution".
    EmptySet,
    /// `\mathbb{R}`: the answer "every real number".
    AllReals,
    /// Equations to hold together, e.g. `x + y = 5 \\ x - y = 1`; each is a `Relation`.
    System(Vec<Statement>),
}

impl Expr {
    pub fn num(n: i128) -> Expr {
        Expr::Num(Rational::integer(n))
    }

    /// The variables that occur, in order of first appearance.
    pub fn variables(&self) -> Vec<char> {
        let mut out = Vec::new();
        self.collect_vars(&mut out);
        out
    }

    fn collect_vars(&self, out: &mut Vec<char>) {
        match self {
            Expr::Num(_) => {}
            Expr::Var(c) => {
                if !out.contains(c) {
                    out.push(*c)
                }
            }
            Expr::Neg(a) | Expr::Percent(a) => a.collect_vars(out),
            Expr::Add(a, b)
            | Expr::Sub(a, b)
            | Expr::PlusMinus(a, b)
            | Expr::Mul(a, b)
            | Expr::Div(a, b)
            | Expr::Pow(a, b)
            | Expr::Root(a, b) => {
                a.collect_vars(out);
                b.collect_vars(out);
            }
        }
    }

    fn prec(&self) -> u8 {
        match self {
            Expr::Add(..) | Expr::Sub(..) | Expr::PlusMinus(..) => 1,
            Expr::Mul(..) | Expr::Div(..) => 2,
            Expr::Neg(_) => 3,
            Expr::Num(r) if r.is_negative() => 3,
            Expr::Pow(..) | Expr::Percent(_) => 4,
            Expr::Num(r) if !r.is_integer() => 4,
            Expr::Num(_) | Expr::Var(_) | Expr::Root(..) => 5,
        }
    }

    fn is_negative_like(&self) -> bool {
        matches!(self, Expr::Neg(_)) || matches!(self, Expr::Num(r) if r.is_negative())
    }
}

fn child(f: &mut fmt::Formatter<'_>, e: &Expr, min_prec: u8, right: bool) -> fmt::Result {
    if e.prec() < min_prec || (right && e.is_negative_like()) {
        write!(f, "({e})")
    } else {
        write!(f, "{e}")
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Num(r) => write!(f, "{r}"),
            Expr::Var(c) => write!(f, "{c}"),
            Expr::Neg(a) => {
                write!(f, "-")?;
                child(f, a, 3, true)
            }
            Expr::Add(a, b) | Expr::Sub(a, b) | Expr::PlusMinus(a, b) => {
                let op = match self {
                    Expr::Add(..) => "+",
                    Expr::Sub(..) => "-",
                    _ => "±",
                };
                child(f, a, 1, false)?;
                write!(f, " {op} ")?;
                child(f, b, 2, true)
            }
            Expr::Mul(a, b) => {
                // `2x`, `2x^2`: the implicit product reads as written in school.
                let implicit = matches!(&**a, Expr::Num(r) if r.is_integer() && !r.is_negative())
                    && (matches!(**b, Expr::Var(_))
                        || matches!(&**b, Expr::Pow(base, _) if matches!(**base, Expr::Var(_))));
                child(f, a, 2, false)?;
                if !implicit {
                    write!(f, " · ")?;
                }
                child(f, b, 3, true)
            }
            Expr::Div(a, b) => {
                child(f, a, 2, false)?;
                write!(f, " / ")?;
                // A fraction prints as `n/d`: after `/` bare, `1 / 11/50` would read as two
                // divisions, so it is bracketed as a divisor.
                if matches!(&**b, Expr::Num(r) if !r.is_integer()) {
                    write!(f, "({b})")
                } else {
                    child(f, b, 3, true)
                }
            }
            Expr::Pow(a, b) => {
                child(f, a, 5, false)?;
                write!(f, "^")?;
                child(f, b, 5, true)
            }
            Expr::Percent(a) => {
                child(f, a, 5, false)?;
                write!(f, "%")
            }
            Expr::Root(n, a) => {
                if **n != Expr::num(2) {
                    write!(f, "root[{n}]")?;
                } else {
                    write!(f, "√")?;
                }
                write!(f, "({a})")
            }
        }
    }
}

impl fmt::Display for Statement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Statement::Expr(e) => write!(f, "{e}"),
            Statement::Relation { lhs, op, rhs } => write!(f, "{lhs} {} {rhs}", op.symbol()),
            Statement::EmptySet => write!(f, "∅"),
            Statement::AllReals => write!(f, "ℝ"),
            Statement::System(eqs) => {
                for (k, e) in eqs.iter().enumerate() {
                    if k > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{e}")?;
                }
                Ok(())
            }
        }
    }
}
