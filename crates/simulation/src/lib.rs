//! The rules of simulation attempts (issue 8), as pure functions and state transitions: no
//! I/O, no clock, no async. The service loads content and attempts, calls these, and stores
//! what they return. docs/simulation.md describes every rule and the ones decided here.
//!
//! - [`rubric`]: rubrics, grade arithmetic (score, max, percentage, passed), `RubricStructureData`;
//! - [`supplied`]: validation of a grade an agent supplies on `end` / `grade`;
//! - [`rule_grader`]: the rule grader over levels' `evidence` patterns, and quote verification;
//! - [`timer`]: the attempt timer, `TimerData`;
//! - [`attempt`]: start, next, end, end-all, grades, use-previous, `get`'s derived fields,
//!   aggregated results and continuation options;
//! - [`video`]: answers to video questions;
//! - [`persona`]: the AI persona's prompt, hint requests and answers, scripted persona lines;
//! - [`ai_grader`]: the AI grader's schema and prompt, and the checks its answer must pass;
//! - [`audio`]: a recording's uploaded frames (WAV, raw PCM, WebM/Ogg/MP4/MP3 chunks) as one file;
//! - [`export`]: the attempt export, a ZIP of four CSV tables.

pub mod ai_grader;
pub mod attempt;
pub mod audio;
pub mod error;
pub mod export;
pub mod persona;
pub mod rubric;
pub mod rule_grader;
pub mod supplied;
pub mod timer;
pub mod video;

pub use error::{ErrorClass, Result, SimulationError};
