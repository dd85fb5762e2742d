//! The LaTeX subset students and problems are written in: `cas::fuzz_one` parses it, checks that
//! printing a parsed expression keeps its value, and runs the solver and the checker behind it.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| cas::fuzz_one(data));
