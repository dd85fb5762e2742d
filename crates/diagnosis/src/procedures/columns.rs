//! Column arithmetic on whole numbers, correct and buggy: subtraction, addition and long
//! multiplication as students do them on paper, one column at a time.
//!
//! Each simulator takes a set of bug flags, so single bugs and compositions of two bugs run
//! through the same code (as in DEBUGGY). Results are built from what the student writes in each
//! column: a column result of 10 or more is written whole only in the leftmost column.

pub const MAX_COLUMNS: usize = 19;

#[derive(Clone, Copy)]
pub struct Digits {
    pub d: [u8; MAX_COLUMNS + 2],
    pub len: usize,
}

impl Digits {
    pub fn of(n: u128) -> Option<Digits> {
        // Operands fit in 64 bits; 64-bit division is an instruction, 128-bit a library call.
        let mut n = u64::try_from(n).ok()?;
        let mut d = [0u8; MAX_COLUMNS + 2];
        let mut len = 0;
        loop {
            if len >= MAX_COLUMNS {
                return None;
            }
            d[len] = (n % 10) as u8;
            n /= 10;
            len += 1;
            if n == 0 {
                break;
            }
        }
        Some(Digits { d, len })
    }
    pub fn get(&self, i: usize) -> u8 {
        if i < self.len { self.d[i] } else { 0 }
    }
}

/// Σ written[i] × 10^i; the leftmost entry may be 10 or more (written whole).
fn assemble(written: &[u32]) -> Option<u128> {
    let mut v: u128 = 0;
    let mut p: u128 = 1;
    for &w in written {
        v = v.checked_add(p.checked_mul(u128::from(w))?)?;
        p = p.checked_mul(10)?;
    }
    Some(v)
}

/// Concatenation of column results as written side by side, leftmost column first.
fn concatenate(written_right_to_left: &[u32]) -> Option<u128> {
    let mut v: u128 = 0;
    for &w in written_right_to_left.iter().rev() {
        let width = if w == 0 { 1 } else { w.ilog10() + 1 };
        v = v.checked_mul(10u128.checked_pow(width)?)?.checked_add(u128::from(w))?;
    }
    Some(v)
}

pub mod sub {
    //! Subtraction bugs as flags.
    pub const SMALLER_FROM_LARGER: u16 = 1;
    pub const BORROW_NO_DECREMENT: u16 = 1 << 1;
    pub const BORROW_FROM_ZERO: u16 = 1 << 2;
    pub const DONT_DECREMENT_ZERO: u16 = 1 << 3;
    pub const BORROW_ACROSS_ZERO: u16 = 1 << 4;
    pub const STOPS_BORROW_AT_ZERO: u16 = 1 << 5;
    pub const ZERO_MINUS_N_IS_N: u16 = 1 << 6;
    pub const ZERO_MINUS_N_IS_ZERO: u16 = 1 << 7;
    pub const N_MINUS_ZERO_IS_ZERO: u16 = 1 << 8;
    pub const ZERO_INSTEAD_OF_BORROW: u16 = 1 << 9;
}

/// What a subtraction run wrote, and where it first needed a borrow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SubRun {
    pub value: u128,
    /// Column (0 = units) of the first column whose top digit was smaller than the bottom one.
    pub first_borrow: Option<usize>,
    /// Column where the bug first changed what was written.
    pub first_bug_column: Option<usize>,
}

/// Column subtraction `a − b` (a ≥ b expected by the correct procedure) with bug flags.
pub fn subtract(top: &Digits, bottom: &Digits, bugs: u16) -> Option<SubRun> {
    use sub::*;
    if bottom.len > top.len {
        return None;
    }
    let written_zero = *top;
    let mut t = [0i32; MAX_COLUMNS + 2];
    for (i, slot) in t.iter_mut().enumerate().take(top.len) {
        *slot = i32::from(top.d[i]);
    }
    let mut written = [0u32; MAX_COLUMNS + 2];
    let mut first_borrow = None;
    let mut first_bug_column = None;
    let mark = |col: usize, first: &mut Option<usize>| {
        if first.is_none() {
            *first = Some(col);
        }
    };
    for i in 0..top.len {
        let d = i32::from(bottom.get(i));
        let has_bottom = i < bottom.len;
        // The zero bugs concern a 0 the student wrote, not one a borrow produced.
        let top_is_written_zero = written_zero.d[i] == 0 && t[i] == 0;
        if t[i] < d {
            first_borrow.get_or_insert(i);
            if bugs & SMALLER_FROM_LARGER != 0 {
                written[i] = (d - t[i]) as u32;
                mark(i, &mut first_bug_column);
                continue;
            }
            if top_is_written_zero && bugs & ZERO_MINUS_N_IS_N != 0 {
                written[i] = d as u32;
                mark(i, &mut first_bug_column);
                continue;
            }
            if top_is_written_zero && bugs & ZERO_MINUS_N_IS_ZERO != 0 {
                written[i] = 0;
                mark(i, &mut first_bug_column);
                continue;
            }
            if bugs & ZERO_INSTEAD_OF_BORROW != 0 {
                written[i] = 0;
                mark(i, &mut first_bug_column);
                continue;
            }
            t[i] += 10;
            if bugs & BORROW_NO_DECREMENT != 0 {
                mark(i, &mut first_bug_column);
            } else {
                let j = i + 1;
                if j >= top.len {
                    return None;
                }
                if t[j] == 0 {
                    if bugs & BORROW_FROM_ZERO != 0 {
                        t[j] = 9;
                        mark(j, &mut first_bug_column);
                    } else if bugs & STOPS_BORROW_AT_ZERO != 0 {
                        mark(j, &mut first_bug_column);
                    } else if bugs & BORROW_ACROSS_ZERO != 0 {
                        let k = (j..top.len).find(|&k| t[k] > 0)?;
                        t[k] -= 1;
                        mark(j, &mut first_bug_column);
                    } else {
                        let zero_becomes = if bugs & DONT_DECREMENT_ZERO != 0 {
                            mark(j, &mut first_bug_column);
                            10
                        } else {
                            9
                        };
                        let mut k = j;
                        while k < top.len && t[k] == 0 {
                            t[k] = zero_becomes;
                            k += 1;
                        }
                        if k >= top.len {
                            return None;
                        }
                        t[k] -= 1;
                    }
                } else {
                    t[j] -= 1;
                }
            }
            written[i] = (t[i] - d) as u32;
        } else if has_bottom && d == 0 && t[i] > 0 && bugs & N_MINUS_ZERO_IS_ZERO != 0 {
            written[i] = 0;
            mark(i, &mut first_bug_column);
        } else {
            written[i] = (t[i] - d) as u32;
        }
    }
    Some(SubRun {
        value: assemble(&written[..top.len])?,
        first_borrow,
        first_bug_column,
    })
}

pub mod add {
    pub const NO_CARRY: u16 = 1;
    pub const WRITES_WHOLE_COLUMN_SUM: u16 = 1 << 1;
    pub const CARRY_TO_WRONG_COLUMN: u16 = 1 << 2;
    pub const CARRY_ALWAYS_ONE_EXTRA: u16 = 1 << 3;
}

/// Column addition `a + b` with bug flags; also returns the first column that carried.
pub fn add(x: &Digits, y: &Digits, bugs: u16) -> Option<(u128, Option<usize>)> {
    use add::*;
    let cols = x.len.max(y.len);
    let mut written = [0u32; MAX_COLUMNS + 4];
    let mut incoming = [0u32; MAX_COLUMNS + 4];
    let mut first_carry = None;
    let mut n = cols;
    for i in 0..cols {
        let s = u32::from(x.get(i)) + u32::from(y.get(i)) + incoming[i];
        if s >= 10 {
            first_carry.get_or_insert(i);
        }
        let leftmost = i + 1 == cols;
        if bugs & WRITES_WHOLE_COLUMN_SUM != 0 {
            written[i] = s;
            continue;
        }
        if leftmost && bugs & (NO_CARRY | CARRY_TO_WRONG_COLUMN) == 0 {
            written[i] = s;
            continue;
        }
        if bugs & NO_CARRY != 0 {
            written[i] = if leftmost { s } else { s % 10 };
            continue;
        }
        written[i] = s % 10;
        let carry = if bugs & CARRY_ALWAYS_ONE_EXTRA != 0 { 1 } else { s / 10 };
        let target = if bugs & CARRY_TO_WRONG_COLUMN != 0 {
            i + 2
        } else {
            i + 1
        };
        incoming[target] += carry;
        if target >= cols && carry > 0 {
            n = n.max(target + 1);
        }
    }
    if bugs & WRITES_WHOLE_COLUMN_SUM != 0 {
        return Some((concatenate(&written[..cols])?, first_carry));
    }
    written[cols..n].copy_from_slice(&incoming[cols..n]);
    Some((assemble(&written[..n])?, first_carry))
}

pub mod mul {
    pub const PARTIAL_NOT_SHIFTED: u16 = 1;
    pub const CARRY_ADDED_BEFORE_MULTIPLYING: u16 = 1 << 1;
    pub const CARRY_IGNORED: u16 = 1 << 2;
    pub const ZERO_TIMES_N_IS_N: u16 = 1 << 3;
}

/// One partial product `top × digit` written right to left.
fn partial(top: &Digits, digit: u32, bugs: u16) -> Option<u128> {
    use mul::*;
    let mut written = [0u32; MAX_COLUMNS + 2];
    let mut carry = 0u32;
    for (i, slot) in written.iter_mut().enumerate().take(top.len) {
        let x = u32::from(top.d[i]);
        let leftmost = i + 1 == top.len;
        let fact = |x: u32, y: u32| {
            if bugs & ZERO_TIMES_N_IS_N != 0 && (x == 0 || y == 0) {
                x + y
            } else {
                x * y
            }
        };
        let p = if bugs & CARRY_ADDED_BEFORE_MULTIPLYING != 0 {
            fact(x + carry, digit)
        } else if bugs & CARRY_IGNORED != 0 {
            fact(x, digit)
        } else {
            fact(x, digit) + carry
        };
        if leftmost {
            *slot = p;
        } else {
            *slot = p % 10;
            carry = p / 10;
        }
    }
    assemble(&written[..top.len])
}

/// Long multiplication `a × b` with `a` on top, one partial product per digit of `b`.
pub fn multiply(top: &Digits, bottom: &Digits, bugs: u16) -> Option<u128> {
    let mut total: u128 = 0;
    for j in 0..bottom.len {
        let p = partial(top, u32::from(bottom.d[j]), bugs)?;
        let shift = if bugs & mul::PARTIAL_NOT_SHIFTED != 0 {
            0
        } else {
            j as u32
        };
        total = total.checked_add(p.checked_mul(10u128.checked_pow(shift)?)?)?;
    }
    Some(total)
}

/// Multiplies only digits in corresponding places (units by units, tens by tens), carrying as in
/// addition; digits of the longer number with no partner are brought down.
pub fn multiply_corresponding(x: &Digits, y: &Digits) -> Option<u128> {
    let cols = x.len.max(y.len);
    let mut written = [0u32; MAX_COLUMNS + 2];
    let mut carry = 0;
    for (i, slot) in written.iter_mut().enumerate().take(cols) {
        let p = if i < x.len && i < y.len {
            u32::from(x.d[i]) * u32::from(y.d[i])
        } else {
            u32::from(x.get(i)) + u32::from(y.get(i))
        } + carry;
        if i + 1 == cols {
            *slot = p;
        } else {
            *slot = p % 10;
            carry = p / 10;
        }
    }
    assemble(&written[..cols])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(n: u128) -> Digits {
        Digits::of(n).unwrap()
    }

    #[test]
    fn subtraction_bugs_reproduce_the_library_examples() {
        assert_eq!(subtract(&d(53), &d(26), 0).unwrap().value, 27);
        assert_eq!(subtract(&d(253), &d(118), sub::SMALLER_FROM_LARGER).unwrap().value, 145);
        assert_eq!(subtract(&d(143), &d(28), sub::BORROW_NO_DECREMENT).unwrap().value, 125);
        assert_eq!(subtract(&d(602), &d(437), sub::BORROW_FROM_ZERO).unwrap().value, 265);
        assert_eq!(subtract(&d(100), &d(27), sub::DONT_DECREMENT_ZERO).unwrap().value, 83);
        assert_eq!(subtract(&d(904), &d(237), sub::BORROW_ACROSS_ZERO).unwrap().value, 577);
        assert_eq!(
            subtract(&d(404), &d(187), sub::STOPS_BORROW_AT_ZERO).unwrap().value,
            227
        );
        assert_eq!(subtract(&d(140), &d(21), sub::ZERO_MINUS_N_IS_N).unwrap().value, 121);
        assert_eq!(subtract(&d(140), &d(21), sub::ZERO_MINUS_N_IS_ZERO).unwrap().value, 120);
        assert_eq!(
            subtract(&d(352), &d(101), sub::N_MINUS_ZERO_IS_ZERO).unwrap().value,
            201
        );
        assert_eq!(subtract(&d(53), &d(26), sub::ZERO_INSTEAD_OF_BORROW).unwrap().value, 30);
        assert_eq!(subtract(&d(1000), &d(1), 0).unwrap().value, 999);
        assert_eq!(subtract(&d(26), &d(53), 0), None);
    }

    #[test]
    fn addition_bugs_reproduce_the_library_examples() {
        assert_eq!(add(&d(38), &d(27), 0).unwrap().0, 65);
        assert_eq!(add(&d(38), &d(27), add::NO_CARRY).unwrap().0, 55);
        assert_eq!(add(&d(908), &d(867), add::NO_CARRY).unwrap().0, 1765);
        assert_eq!(add(&d(47), &d(38), add::WRITES_WHOLE_COLUMN_SUM).unwrap().0, 715);
        assert_eq!(add(&d(38), &d(27), add::CARRY_TO_WRONG_COLUMN).unwrap().0, 155);
        assert_eq!(add(&d(31), &d(25), add::CARRY_ALWAYS_ONE_EXTRA).unwrap().0, 66);
        assert_eq!(add(&d(999), &d(1), 0).unwrap().0, 1000);
    }

    #[test]
    fn multiplication_bugs() {
        assert_eq!(multiply(&d(12), &d(13), 0), Some(156));
        assert_eq!(multiply(&d(12), &d(13), mul::PARTIAL_NOT_SHIFTED), Some(48));
        assert_eq!(multiply(&d(27), &d(4), mul::CARRY_ADDED_BEFORE_MULTIPLYING), Some(168));
        assert_eq!(multiply(&d(27), &d(4), mul::CARRY_IGNORED), Some(88));
        assert_eq!(multiply(&d(0), &d(5), mul::ZERO_TIMES_N_IS_N), Some(5));
        assert_eq!(multiply(&d(305), &d(2), mul::ZERO_TIMES_N_IS_N), Some(630));
        assert_eq!(multiply_corresponding(&d(23), &d(45)), Some(95));
        assert_eq!(
            multiply(&d(987654321), &d(123456789), 0),
            Some(987654321u128 * 123456789)
        );
    }
}
