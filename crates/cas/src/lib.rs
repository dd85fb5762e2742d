//! `cas`: a small, exact, explainable computer algebra system for school problems.
//!
//! Pure (no I/O). Input is a LaTeX subset ([`parser`]); numbers are exact rationals over
//! i128 with checked arithmetic ([`number`]); one-variable polynomials do expand/collect
//! ([`poly`]); [`solve`] explains its work step by step; [`check`] decides whether a student's
//! answer is mathematically equivalent to the solution.
//!
//! ```
//! let s = cas::solve("2x+3=11").unwrap();
//! assert_eq!(s.answer_text, "x = 4");
//! assert_eq!(s.steps, ["subtract 3 from both sides: 2x = 8", "divide both sides by 2: x = 4"]);
//!
//! assert!(cas::check("2x+3=11", "x = \\frac{8}{2}").unwrap().is_correct);
//! assert!(cas::check("x^2-5x+6=0", "x=3 \\text{ o } x=2").unwrap().is_correct);
//! assert!(!cas::check("2x > 8", "x < 4").unwrap().is_correct);
//! ```

pub mod ast;
pub mod check;
pub mod error;
pub mod eval;
pub mod lexer;
pub mod number;
pub mod parser;
pub mod poly;
pub mod solve;

pub use ast::{Expr, RelOp, Statement};
pub use check::{Verdict, check};
pub use error::{CasError, MathError, ParseError};
pub use number::Rational;
pub use parser::{parse, parse_expr, parse_list};
pub use poly::Poly;
pub use solve::{Answer, Solution, SolutionKind, Surd, solve};

mod arithmetic;
pub mod assess;
pub mod equivalence;
pub mod misconceptions;

pub use assess::{Assessment, Misconception, StepCheck, StepStatus, assess};

#[doc(hidden)]
pub mod fuzz;
#[doc(hidden)]
pub use fuzz::fuzz_one;
