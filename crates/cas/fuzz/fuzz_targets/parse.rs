//! Arbitrary bytes into the parser, the solver and the checker: none may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| cas::fuzz_one(data));
