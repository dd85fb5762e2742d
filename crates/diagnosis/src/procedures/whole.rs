//! Whole-number families: column subtraction, addition, multiplication, long division, and the
//! transversal slips.

use super::columns::{self, Digits, add, mul, sub};
use crate::Detail;
use crate::number::Q;
use crate::procedure::Proc;
use crate::search::{COMPOSITION_WEIGHT, Search};

/// Largest operand the column procedures take (18 digits keeps every product inside i128).
const MAX_OPERAND: i128 = 999_999_999_999_999_999;

fn whole(q: Q) -> Option<u128> {
    let n = q.to_integer()?;
    (0..=MAX_OPERAND).contains(&n).then_some(n as u128)
}

/// Both operands as whole numbers and as columns of digits.
fn columns_of(a: Q, b: Q) -> Option<(u128, u128, Digits, Digits)> {
    let (x, y) = (whole(a)?, whole(b)?);
    Some((x, y, Digits::of(x)?, Digits::of(y)?))
}

fn qv(v: Option<u128>) -> Option<Q> {
    v.map(|v| Q::int(v as i128))
}

const SUB_BUGS: [(u16, Proc); 10] = [
    (sub::SMALLER_FROM_LARGER, Proc::SubSmallerFromLarger),
    (sub::BORROW_NO_DECREMENT, Proc::SubBorrowNoDecrement),
    (sub::BORROW_FROM_ZERO, Proc::SubBorrowFromZero),
    (sub::DONT_DECREMENT_ZERO, Proc::SubDontDecrementZero),
    (sub::BORROW_ACROSS_ZERO, Proc::SubBorrowAcrossZero),
    (sub::STOPS_BORROW_AT_ZERO, Proc::SubStopsBorrowAtZero),
    (sub::ZERO_MINUS_N_IS_N, Proc::SubZeroMinusNIsN),
    (sub::ZERO_MINUS_N_IS_ZERO, Proc::SubZeroMinusNIsZero),
    (sub::N_MINUS_ZERO_IS_ZERO, Proc::SubNMinusZeroIsZero),
    (sub::ZERO_INSTEAD_OF_BORROW, Proc::SubZeroInsteadOfBorrow),
];

/// The coarse tag of a subtraction bug; the borrow-omitted ones are named by the column the
/// borrow should have come from.
fn sub_tag(proc: Proc, first_borrow: Option<usize>) -> &'static str {
    match proc {
        Proc::SubSmallerFromLarger | Proc::SubBorrowNoDecrement => match first_borrow {
            Some(0) | None => "ARITH_SUB_BORROW_OMITTED_TENS_G3",
            Some(_) => "ARITH_SUB_BORROW_OMITTED_HUNDREDS_G3",
        },
        Proc::SubBorrowFromZero | Proc::SubDontDecrementZero | Proc::SubBorrowAcrossZero => {
            "ARITH_SUB_BORROW_FROM_ZERO_G3"
        }
        Proc::SubStopsBorrowAtZero => "ARITH_SUB_BORROW_PROPAGATION_STOP_G3",
        Proc::SubZeroMinusNIsN => "ARITH_SUB_ZERO_MINUS_N_IS_N_G3",
        Proc::SubZeroMinusNIsZero => "ARITH_SUB_ZERO_MINUS_N_IS_ZERO_G3",
        Proc::SubNMinusZeroIsZero => "ARITH_SUB_N_MINUS_ZERO_IS_ZERO_G3",
        Proc::SubZeroInsteadOfBorrow => "ARITH_SUB_ZERO_INSTEAD_OF_BORROW_G3",
        Proc::SubAddInsteadOfSubtract => "ARITH_SUB_ADD_INSTEAD_OF_SUBTRACT_G3",
        _ => "ARITH_SUB_MINUEND_SUBTRAHEND_SWAPPED_G3",
    }
}

pub(super) fn subtraction(a: Q, b: Q, s: &mut Search) {
    let Some((x, y, dx, dy)) = columns_of(a, b) else {
        return;
    };
    if x >= y {
        for (flag, proc) in SUB_BUGS {
            if let Some(run) = columns::subtract(&dx, &dy, flag) {
                let detail = run.first_bug_column.map_or(Detail::None, |c| Detail::Column(c as u8));
                s.emit(proc, sub_tag(proc, run.first_borrow), qv(Some(run.value)), detail);
            }
        }
    } else {
        // The smaller number on top: the student subtracts the other way round.
        s.emit(
            Proc::SubSwapped,
            sub_tag(Proc::SubSwapped, None),
            Some(Q::int((y - x) as i128)),
            Detail::None,
        );
    }
    s.emit(
        Proc::SubAddInsteadOfSubtract,
        sub_tag(Proc::SubAddInsteadOfSubtract, None),
        qv(x.checked_add(y)),
        Detail::None,
    );
}

const ADD_BUGS: [(u16, Proc, &str); 4] = [
    (add::NO_CARRY, Proc::AddNoCarry, "ARITH_ADD_CARRY_OMITTED_G3"),
    (
        add::WRITES_WHOLE_COLUMN_SUM,
        Proc::AddWritesWholeColumnSum,
        "ARITH_ADD_WRITES_WHOLE_COLUMN_SUM_G3",
    ),
    (
        add::CARRY_TO_WRONG_COLUMN,
        Proc::AddCarryToWrongColumn,
        "ARITH_ADD_CARRY_WRONG_COLUMN_G3",
    ),
    (
        add::CARRY_ALWAYS_ONE_EXTRA,
        Proc::AddCarryAlwaysOneExtra,
        "ARITH_ADD_CARRY_ALWAYS_ONE_EXTRA_G3",
    ),
];

pub(super) fn addition(a: Q, b: Q, s: &mut Search) {
    let Some((_, _, dx, dy)) = columns_of(a, b) else {
        return;
    };
    for (flag, proc, tag) in ADD_BUGS {
        if let Some((v, first_carry)) = columns::add(&dx, &dy, flag) {
            let detail = first_carry.map_or(Detail::None, |c| Detail::Column(c as u8));
            s.emit(proc, tag, qv(Some(v)), detail);
        }
    }
}

const MUL_BUGS: [(u16, Proc, &str); 3] = [
    (
        mul::ZERO_TIMES_N_IS_N,
        Proc::MulZeroTimesNIsN,
        "ARITH_MUL_ZERO_TIMES_N_EQUALS_N_G3",
    ),
    (
        mul::CARRY_ADDED_BEFORE_MULTIPLYING,
        Proc::MulCarryAddedBeforeMultiplying,
        "ARITH_MUL_CARRY_ADDED_BEFORE_MULTIPLYING_G4",
    ),
    (mul::CARRY_IGNORED, Proc::MulCarryIgnored, "ARITH_MUL_CARRY_IGNORED_G4"),
];

fn power_of_ten(n: u128) -> bool {
    n >= 10 && {
        let mut m = n;
        while m.is_multiple_of(10) {
            m /= 10;
        }
        m == 1
    }
}

/// The number a student writes on top: the longer one (the first when they are as long).
fn top_bottom<'d>(x: &'d Digits, y: &'d Digits) -> (&'d Digits, &'d Digits) {
    if y.len > x.len { (y, x) } else { (x, y) }
}

pub(super) fn multiplication(a: Q, b: Q, s: &mut Search) {
    let Some((x, y, dx, dy)) = columns_of(a, b) else {
        return;
    };
    let (top, bottom) = top_bottom(&dx, &dy);
    for (flag, proc, tag) in MUL_BUGS {
        s.emit(proc, tag, qv(columns::multiply(top, bottom, flag)), Detail::None);
    }
    s.emit(
        Proc::MulAddInstead,
        "ARITH_MUL_ADD_INSTEAD_G3",
        qv(x.checked_add(y)),
        Detail::None,
    );
    for (p, other) in [(y, x), (x, y)] {
        if power_of_ten(p) {
            s.emit(
                Proc::MulPowerOfTenNoZeros,
                "ARITH_MUL_BY_POWER_OF_TEN_NO_ZEROS_G4",
                qv(Some(other)),
                Detail::None,
            );
        }
    }
    table_recall(x, y, s);
    let pns = "ARITH_MUL_PARTIAL_NOT_SHIFTED_G5";
    s.emit(
        Proc::MulPartialNotShifted,
        pns,
        qv(columns::multiply(top, bottom, mul::PARTIAL_NOT_SHIFTED)),
        Detail::Variant("longer number on top"),
    );
    s.emit(
        Proc::MulPartialNotShifted,
        pns,
        qv(columns::multiply(bottom, top, mul::PARTIAL_NOT_SHIFTED)),
        Detail::Variant("shorter number on top"),
    );
    s.emit(
        Proc::MulOnlyCorrespondingDigits,
        "ARITH_MUL_ONLY_CORRESPONDING_DIGITS_G5",
        qv(columns::multiply_corresponding(&dx, &dy)),
        Detail::None,
    );
}

/// One multiplication fact recalled as its neighbour in the table (7×8 → 7×7 = 49): the product
/// of two digits d·e read as d·(e±1) changes the result by ±d in that place.
fn table_recall(x: u128, y: u128, s: &mut Search) {
    let (Some(dx), Some(dy)) = (Digits::of(x), Digits::of(y)) else {
        return;
    };
    let correct = x as i128 * y as i128;
    let tag = "ARITH_MUL_TABLE_RECALL_ERROR_G3";
    for i in 0..dx.len {
        for j in 0..dy.len {
            let (d, e) = (i128::from(dx.d[i]), i128::from(dy.d[j]));
            // 0 and 1 facts are rules, not table entries.
            if d < 2 || e < 2 {
                continue;
            }
            let Some(place) = 10i128.checked_pow((i + j) as u32) else {
                continue;
            };
            for delta in [-d, d, -e, e] {
                let v = correct + delta * place;
                if v > 0 {
                    s.emit(
                        Proc::MulTableRecall,
                        tag,
                        Some(Q::int(v)),
                        Detail::Columns(i as u8, j as u8),
                    );
                }
            }
        }
    }
}

pub(super) fn division(a: Q, b: Q, s: &mut Search) {
    let (Some(x), Some(y)) = (whole(a), whole(b)) else {
        return;
    };
    if y == 0 {
        return;
    }
    let swapped = "ARITH_DIV_DIVISOR_DIVIDEND_SWAPPED_G4";
    if let Some(whole_quotient) = y.checked_div(x) {
        s.emit(
            Proc::DivSwapped,
            swapped,
            Some(Q::int(whole_quotient as i128)),
            Detail::Variant("whole quotient"),
        );
        s.emit(
            Proc::DivSwapped,
            swapped,
            Q::new(y as i128, x as i128),
            Detail::Variant("exact quotient"),
        );
    }
    if x % y != 0 {
        return;
    }
    let q = x / y;
    let Some(digits) = Digits::of(q) else { return };
    // Quotient digits one off: too large (the partial product overshoots) or too small (a
    // remainder as large as the divisor is left and carried on).
    for k in 0..digits.len {
        let place = 10u128.pow(k as u32);
        if digits.d[k] <= 8 {
            s.emit(
                Proc::DivPartialQuotientTooLarge,
                "ARITH_DIV_PARTIAL_QUOTIENT_TOO_LARGE_G5",
                qv(Some(q + place)),
                Detail::Column(k as u8),
            );
        }
    }
    for k in 0..digits.len {
        let place = 10u128.pow(k as u32);
        if digits.d[k] >= 1 {
            s.emit(
                Proc::DivRemainderGeDivisor,
                "ARITH_DIV_REMAINDER_GE_DIVISOR_G4",
                qv(Some(q - place)),
                Detail::Column(k as u8),
            );
        }
    }
    // A zero in the quotient not written (the bring-down that gave a partial dividend smaller
    // than the divisor): each zero alone, then all of them.
    let zeros: Vec<usize> = (0..digits.len).filter(|&k| digits.d[k] == 0).collect();
    for &k in &zeros {
        s.emit(
            Proc::DivQuotientZeroSkipped,
            "ARITH_DIV_QUOTIENT_ZERO_SKIPPED_G5",
            qv(drop_digits(&digits, |i| i == k)),
            Detail::Column(k as u8),
        );
    }
    if zeros.len() > 1 {
        s.emit(
            Proc::DivQuotientZeroSkipped,
            "ARITH_DIV_QUOTIENT_ZERO_SKIPPED_G5",
            qv(drop_digits(&digits, |i| digits.d[i] == 0)),
            Detail::None,
        );
    }
}

fn drop_digits(d: &Digits, drop: impl Fn(usize) -> bool) -> Option<u128> {
    let mut v: u128 = 0;
    for i in (0..d.len).rev() {
        if !drop(i) {
            v = v.checked_mul(10)?.checked_add(u128::from(d.d[i]))?;
        }
    }
    Some(v)
}

/// Two digits of the correct result written in each other's places (27 → 72).
pub(super) fn digit_transposition(correct: Q, s: &mut Search) {
    let Some(c) = correct.to_integer() else { return };
    let Some(d) = Digits::of(c.unsigned_abs()) else { return };
    let sign = c.signum();
    for i in 0..d.len {
        for j in i + 1..d.len {
            if d.d[i] == d.d[j] || (j + 1 == d.len && d.d[i] == 0) {
                continue;
            }
            let mut e = d;
            e.d.swap(i, j);
            let v = drop_digits(&e, |_| false).map(|v| sign * v as i128);
            s.emit(
                Proc::DigitTransposition,
                "ARITH_TRANSV_DIGIT_TRANSPOSITION",
                v.map(Q::int),
                Detail::Columns(i as u8, j as u8),
            );
        }
    }
}

/// The right digits in the wrong place value: the result ×10, ×100, ÷10, ÷100.
pub(super) fn place_value(correct: Q, s: &mut Search) {
    if correct.is_zero() {
        return;
    }
    for k in [1i8, 2, -1, -2] {
        s.emit(
            Proc::PlaceValue,
            "ARITH_TRANSV_PLACE_VALUE_ERROR",
            correct.shift10(i32::from(k)),
            Detail::Shift(k),
        );
    }
}

/// One basic fact off by one or two in one column: the result ± 1 or 2 in one place.
pub(super) fn fact_error(correct: Q, s: &mut Search) {
    let tag = "ARITH_TRANSV_FACT_ERROR";
    if let Some(c) = correct.to_integer() {
        let places = Digits::of(c.unsigned_abs()).map_or(1, |d| d.len);
        for k in 0..places {
            let place = 10i128.pow(k as u32);
            for d in [-1, 1, -2, 2] {
                let v = c + d * place;
                if v >= 0 || c < 0 {
                    s.emit(Proc::FactError, tag, Some(Q::int(v)), Detail::Column(k as u8));
                }
            }
        }
    } else {
        // A fraction: one slip in the numerator over the result's denominator.
        let den = correct.denom();
        for d in [-1, 1, -2, 2] {
            s.emit(
                Proc::FactError,
                tag,
                Q::new(d, den).and_then(|q| correct.add(q)),
                Detail::None,
            );
        }
    }
}

/// Two bugs at once, and one bug plus a basic-fact slip, for the column families.
pub(super) fn compositions(family: crate::family::Family, a: Q, b: Q, s: &mut Search) {
    use crate::family::Family;
    let Some((x, y, dx, dy)) = columns_of(a, b) else {
        return;
    };
    let mut singles: Vec<(Proc, &'static str, u128)> = Vec::new();
    match family {
        Family::ArithSub if x >= y => {
            let alone: Vec<Option<u128>> = SUB_BUGS
                .iter()
                .map(|&(f, _)| columns::subtract(&dx, &dy, f).map(|r| r.value))
                .collect();
            for (i, &(f1, p1)) in SUB_BUGS.iter().enumerate() {
                if let Some(r) = columns::subtract(&dx, &dy, f1) {
                    singles.push((p1, sub_tag(p1, r.first_borrow), r.value));
                }
                for (j, &(f2, p2)) in SUB_BUGS.iter().enumerate().skip(i + 1) {
                    // A pair that writes what one of its bugs writes alone explains nothing more.
                    if let Some(r) = columns::subtract(&dx, &dy, f1 | f2)
                        && Some(r.value) != alone[i]
                        && Some(r.value) != alone[j]
                    {
                        let w = COMPOSITION_WEIGHT * p1.weight().min(p2.weight());
                        s.emit_weighted(
                            p1,
                            Some(p2),
                            w,
                            sub_tag(p1, r.first_borrow),
                            qv(Some(r.value)),
                            Detail::None,
                        );
                    }
                }
            }
        }
        Family::ArithAdd => {
            for (flag, proc, tag) in ADD_BUGS {
                if let Some((v, _)) = columns::add(&dx, &dy, flag) {
                    singles.push((proc, tag, v));
                }
            }
        }
        Family::ArithMul => {
            let (top, bottom) = top_bottom(&dx, &dy);
            let pns = columns::multiply(top, bottom, mul::PARTIAL_NOT_SHIFTED);
            let alone: Vec<Option<u128>> = MUL_BUGS
                .iter()
                .map(|&(f, _, _)| columns::multiply(top, bottom, f))
                .collect();
            for (i, &(f1, p1, t1)) in MUL_BUGS.iter().enumerate() {
                if let Some(v) = alone[i] {
                    singles.push((p1, t1, v));
                }
                let new = |v: Option<u128>, other: Option<u128>| v.filter(|&v| Some(v) != alone[i] && Some(v) != other);
                for (j, &(f2, p2, _)) in MUL_BUGS.iter().enumerate().skip(i + 1) {
                    let w = COMPOSITION_WEIGHT * p1.weight().min(p2.weight());
                    s.emit_weighted(
                        p1,
                        Some(p2),
                        w,
                        t1,
                        qv(new(columns::multiply(top, bottom, f1 | f2), alone[j])),
                        Detail::None,
                    );
                }
                let w = COMPOSITION_WEIGHT * p1.weight();
                let v = new(columns::multiply(top, bottom, f1 | mul::PARTIAL_NOT_SHIFTED), pns);
                s.emit_weighted(p1, Some(Proc::MulPartialNotShifted), w, t1, qv(v), Detail::None);
            }
        }
        _ => return,
    }
    let correct = s.correct;
    for (proc, tag, v) in singles {
        if Q::int(v as i128) == correct {
            continue;
        }
        let places = Digits::of(v).map_or(1, |d| d.len);
        let w = COMPOSITION_WEIGHT * proc.weight();
        for k in 0..places {
            let place = 10i128.pow(k as u32);
            for d in [-1, 1, -2, 2] {
                let out = v as i128 + d * place;
                if out >= 0 {
                    s.emit_weighted(
                        proc,
                        Some(Proc::FactError),
                        w,
                        tag,
                        Some(Q::int(out)),
                        Detail::Column(k as u8),
                    );
                }
            }
        }
    }
}
