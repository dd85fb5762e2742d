//! `ocr`: practica's built-in reader of handwritten arithmetic, offline and in pure Rust.
//!
//! A photo goes through: decoding within limits ([`photo`]) → grayscale, adaptive threshold and
//! deskew ([`preprocess`]) → lines and glyphs, with the parts of `=`, `÷`, `:` and `%` merged
//! ([`segment`]) → each glyph classified by a small network whose weights are committed in
//! `weights/` ([`classifier`], trained by `examples/train.rs` on MNIST digits and synthesised
//! operators, [`synth`]) → each line read as the most probable *well-formed* expression
//! ([`reader`]), not glyph by glyph → lines grouped into exercises by vertical space.
//!
//! The grammar constrains the form of a line (number, operator, number, `=`, number), never its
//! arithmetic truth: a student's wrong answer is read as written.

pub mod classifier;
pub mod glyphs;
pub mod photo;
pub mod preprocess;
pub mod reader;
pub mod segment;
pub mod synth;
