//! Error types. Parsing errors carry a byte position so a front end can point at the
//! offending character; mathematical errors are separate because they arise after parsing.

use thiserror::Error;

/// A problem found while reading LaTeX input. `pos` is a byte offset into the input.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParseError {
    /// The parser wanted something else at `pos`.
    #[error("expected {expected} at {pos}")]
    Expected { pos: usize, expected: String },
    /// A character the lexer does not know.
    #[error("unexpected character '{ch}' at {pos}")]
    UnexpectedChar { pos: usize, ch: char },
    /// A `\command` outside the supported subset.
    #[error("unknown command '\\{name}' at {pos}")]
    UnknownCommand { pos: usize, name: String },
    /// A literal wider than [`crate::number::MAX_BITS`] bits.
    #[error("number too large at {pos}")]
    NumberTooLarge { pos: usize },
    /// Input longer than [`crate::parser::MAX_INPUT_LEN`]; bounds the work per request.
    #[error("input is {len} bytes, the limit is {max}")]
    TooLong { len: usize, max: usize },
    /// An expression tree taller than [`crate::parser::MAX_TREE_HEIGHT`], e.g. a sum of
    /// hundreds of terms; every later stage recurses over the tree, so this bounds their stack.
    #[error("expression too long: more than {max} nested operations")]
    TooComplex { max: usize },
    /// Nesting deeper than [`crate::parser::MAX_DEPTH`]; prevents stack overflow.
    #[error("nesting deeper than {max} at {pos}")]
    TooDeep { pos: usize, max: usize },
}

/// A problem found while computing.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MathError {
    /// A value wider than [`crate::number::MAX_BITS`] bits (or a radicand beyond what a
    /// surd holds); we refuse rather than exhaust memory, wrap or panic.
    #[error("number too large")]
    Overflow,
    #[error("division by zero")]
    DivisionByZero,
    /// E.g. `1/x`, `\sqrt{x}` or `x^{1/2}` where a polynomial was needed.
    #[error("not a polynomial: {0}")]
    NotPolynomial(String),
    #[error("more than one variable: {0} and {1}")]
    MultipleVariables(char, char),
    /// The exact value is irrational and cannot be represented here.
    #[error("irrational value: {0}")]
    Irrational(String),
    /// Outside what this slice of the CAS can do (e.g. cubic equations).
    #[error("unsupported: {0}")]
    Unsupported(String),
}

/// Any error from the high-level API.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CasError {
    #[error(transparent)]
    Parse(#[from] ParseError),
    #[error(transparent)]
    Math(#[from] MathError),
}
