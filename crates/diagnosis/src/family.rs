//! Topic families: which procedures a diagnosis runs.

use std::fmt;

/// A diagnosis family. The concrete ones name one operation on one kind of number; the broad
/// ones (`Arith`, `Fract`, `Int`, `Dec`, `Pow`, `Ratio`) are topics wider than one operation,
/// resolved to a concrete family from the steps or the operands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Family {
    ArithAdd,
    ArithSub,
    ArithMul,
    ArithDiv,
    FractAddSub,
    FractMul,
    FractDiv,
    IntAdd,
    IntSub,
    IntMul,
    DecAdd,
    DecSub,
    DecMul,
    DecDiv,
    RatioPercent,
    RatioProportion,
    AlgebraEqLinear,
    PowPower,
    PowRoot,
    Arith,
    Fract,
    Int,
    Dec,
    Pow,
    Ratio,
}

/// The operation of a two-operand family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Add,
    Sub,
    Mul,
    Div,
}

impl Op {
    pub fn symbol(self) -> char {
        match self {
            Op::Add => '+',
            Op::Sub => '-',
            Op::Mul => '×',
            Op::Div => '÷',
        }
    }
}

/// The kind of number a two-operand family works on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Whole,
    Fraction,
    Integer,
    Decimal,
}

pub const CONCRETE: [Family; 19] = [
    Family::ArithAdd,
    Family::ArithSub,
    Family::ArithMul,
    Family::ArithDiv,
    Family::FractAddSub,
    Family::FractMul,
    Family::FractDiv,
    Family::IntAdd,
    Family::IntSub,
    Family::IntMul,
    Family::DecAdd,
    Family::DecSub,
    Family::DecMul,
    Family::DecDiv,
    Family::RatioPercent,
    Family::RatioProportion,
    Family::AlgebraEqLinear,
    Family::PowPower,
    Family::PowRoot,
];

impl Family {
    pub fn code(self) -> &'static str {
        match self {
            Family::ArithAdd => "ARITH_ADD",
            Family::ArithSub => "ARITH_SUB",
            Family::ArithMul => "ARITH_MUL",
            Family::ArithDiv => "ARITH_DIV",
            Family::FractAddSub => "FRACT_ADDSUB",
            Family::FractMul => "FRACT_MUL",
            Family::FractDiv => "FRACT_DIV",
            Family::IntAdd => "INT_ADD",
            Family::IntSub => "INT_SUB",
            Family::IntMul => "INT_MUL",
            Family::DecAdd => "DEC_ADD",
            Family::DecSub => "DEC_SUB",
            Family::DecMul => "DEC_MUL",
            Family::DecDiv => "DEC_DIV",
            Family::RatioPercent => "RATIO_PERCENT",
            Family::RatioProportion => "RATIO_PROPORTION",
            Family::AlgebraEqLinear => "ALGEBRA_EQ_LINEAR",
            Family::PowPower => "POW_POWER",
            Family::PowRoot => "POW_ROOT",
            Family::Arith => "ARITH",
            Family::Fract => "FRACT",
            Family::Int => "INT",
            Family::Dec => "DEC",
            Family::Pow => "POW",
            Family::Ratio => "RATIO",
        }
    }

    pub fn from_code(code: &str) -> Option<Family> {
        const ALL: [Family; 25] = [
            Family::ArithAdd,
            Family::ArithSub,
            Family::ArithMul,
            Family::ArithDiv,
            Family::FractAddSub,
            Family::FractMul,
            Family::FractDiv,
            Family::IntAdd,
            Family::IntSub,
            Family::IntMul,
            Family::DecAdd,
            Family::DecSub,
            Family::DecMul,
            Family::DecDiv,
            Family::RatioPercent,
            Family::RatioProportion,
            Family::AlgebraEqLinear,
            Family::PowPower,
            Family::PowRoot,
            Family::Arith,
            Family::Fract,
            Family::Int,
            Family::Dec,
            Family::Pow,
            Family::Ratio,
        ];
        ALL.into_iter().find(|f| f.code().eq_ignore_ascii_case(code.trim()))
    }

    pub fn is_broad(self) -> bool {
        matches!(
            self,
            Family::Arith | Family::Fract | Family::Int | Family::Dec | Family::Pow | Family::Ratio
        )
    }

    /// Operation and number kind of a two-operand family.
    pub fn binary(self) -> Option<(Kind, Op)> {
        Some(match self {
            Family::ArithAdd => (Kind::Whole, Op::Add),
            Family::ArithSub => (Kind::Whole, Op::Sub),
            Family::ArithMul => (Kind::Whole, Op::Mul),
            Family::ArithDiv => (Kind::Whole, Op::Div),
            Family::FractAddSub => (Kind::Fraction, Op::Add),
            Family::FractMul => (Kind::Fraction, Op::Mul),
            Family::FractDiv => (Kind::Fraction, Op::Div),
            Family::IntAdd => (Kind::Integer, Op::Add),
            Family::IntSub => (Kind::Integer, Op::Sub),
            Family::IntMul => (Kind::Integer, Op::Mul),
            Family::DecAdd => (Kind::Decimal, Op::Add),
            Family::DecSub => (Kind::Decimal, Op::Sub),
            Family::DecMul => (Kind::Decimal, Op::Mul),
            Family::DecDiv => (Kind::Decimal, Op::Div),
            _ => return None,
        })
    }

    /// The kind of numbers of a broad two-operand family.
    pub fn broad_kind(self) -> Option<Kind> {
        Some(match self {
            Family::Arith => Kind::Whole,
            Family::Fract => Kind::Fraction,
            Family::Int => Kind::Integer,
            Family::Dec => Kind::Decimal,
            f => return f.binary().map(|(k, _)| k),
        })
    }

    /// The concrete family for a kind of number and an operation, where one exists.
    pub fn of(kind: Kind, op: Op) -> Option<Family> {
        Some(match (kind, op) {
            (Kind::Whole, Op::Add) => Family::ArithAdd,
            (Kind::Whole, Op::Sub) => Family::ArithSub,
            (Kind::Whole, Op::Mul) => Family::ArithMul,
            (Kind::Whole, Op::Div) => Family::ArithDiv,
            (Kind::Fraction, Op::Add | Op::Sub) => Family::FractAddSub,
            (Kind::Fraction, Op::Mul) => Family::FractMul,
            (Kind::Fraction, Op::Div) => Family::FractDiv,
            (Kind::Integer, Op::Add) => Family::IntAdd,
            (Kind::Integer, Op::Sub) => Family::IntSub,
            (Kind::Integer, Op::Mul) => Family::IntMul,
            (Kind::Decimal, Op::Add) => Family::DecAdd,
            (Kind::Decimal, Op::Sub) => Family::DecSub,
            (Kind::Decimal, Op::Mul) => Family::DecMul,
            (Kind::Decimal, Op::Div) => Family::DecDiv,
            (Kind::Integer, Op::Div) => return None,
        })
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl serde::Serialize for Family {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}
