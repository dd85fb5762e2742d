//! Work steps as students type them (`53 - 26 = 33`, `2,5 + 1,25`, `15% de 200`) into the
//! diagnosis engine's expression parser, and answers into its number reader. Beyond not
//! panicking: an error points inside the step, every side of a parsed step can be evaluated,
//! a side without a variable is linear with the value it evaluates to, surrounding spaces change
//! nothing, and a number printed by the engine reads back as itself.
#![no_main]

use diagnosis::Number;
use diagnosis::expr::{MAX_STEP_LEN, Statement};
use libfuzzer_sys::fuzz_target;

/// The number reader takes a decimal with this many places for a float's noise and recovers
/// the fraction behind it (`0.533333333333` → 8/15), so such a print does not read back as
/// itself by design.
const FLOAT_RECOVERY_MIN_DECIMALS: usize = 12;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let step = Statement::parse(text);
    match &step {
        Ok(step) => {
            assert!(!step.sides().is_empty(), "{text:?}: a step with no side");
            let variable = step.variable();
            for &side in step.sides() {
                let value = step.eval(side);
                let linear = step.linear(side);
                let _ = step.number(side);
                if variable.is_none()
                    && let (Some(value), Some(linear)) = (value, linear)
                {
                    assert!(
                        linear.coef.is_zero() && linear.konst == value,
                        "{text:?}: evaluates to {value} but is linear as {linear:?}"
                    );
                }
            }
        }
        Err(e) => assert!(e.pos <= text.len(), "{text:?}: error {e} outside the step"),
    }
    if text.len() + 2 <= MAX_STEP_LEN {
        let padded = Statement::parse(&format!(" {text} "));
        match (&step, &padded) {
            (Ok(a), Ok(b)) => {
                let values = |s: &Statement| s.sides().iter().map(|&id| s.eval(id)).collect::<Vec<_>>();
                assert_eq!(values(a), values(b), "{text:?}: spaces around it change its value");
            }
            (Err(_), Err(_)) => {}
            _ => panic!("{text:?}: read {step:?} alone but {padded:?} between spaces"),
        }
    }
    if let Ok(n) = Number::parse(text) {
        let printed = n.value.to_string();
        let decimals = printed.split_once('.').map_or(0, |(_, d)| d.len());
        if decimals < FLOAT_RECOVERY_MIN_DECIMALS {
            let again = Number::parse(&printed).map(|m| m.value);
            assert_eq!(
                again,
                Ok(n.value),
                "{text:?}: read as {printed}, which reads back differently"
            );
        }
    }
});
