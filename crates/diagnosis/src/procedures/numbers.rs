//! Fractions, integers, decimals, percentages and proportions.

use super::Problem;
use crate::Detail;
use crate::family::{Family, Op};
use crate::number::{Form, Number, Q, pow10};
use crate::procedure::Proc;
use crate::search::Search;
use num_integer::Integer;

pub(super) fn fractions(problem: &Problem<'_>, s: &mut Search) {
    let Problem::Binary { family, op, a, b, .. } = problem else {
        return;
    };
    let (n1, d1) = a.fraction_parts();
    let (n2, d2) = b.fraction_parts();
    match family {
        Family::FractAddSub => {
            let sign = if *op == Op::Sub { -1 } else { 1 };
            s.emit(
                Proc::FracAddNumeratorsAndDenominators,
                "FRACT_ADDSUB_SUM_NUMERATOR_AND_DENOMINATOR_G5",
                n1.checked_add(sign * n2)
                    .zip(d1.checked_add(sign * d2))
                    .and_then(|(n, d)| Q::new(n, d)),
                Detail::None,
            );
            // The result left as the numerator over the common denominator, the denominator then
            // dropped: 5/2 + 1/2 = 6/2 answered 6.
            let common = d1.lcm(&d2);
            if common > 1 {
                let n = n1
                    .checked_mul(common / d1)
                    .zip(n2.checked_mul(common / d2))
                    .and_then(|(x, y)| x.checked_add(sign * y));
                if let Some(n) = n
                    && n.abs() >= common
                {
                    s.emit(
                        Proc::FracImproperNotReduced,
                        "FRACT_ADDSUB_IMPROPER_NOT_REDUCED_G5",
                        Some(Q::int(n)),
                        Detail::None,
                    );
                }
            }
            let correct = s.correct;
            s.emit(
                Proc::FracInverted,
                "FRACT_ADDSUB_INVERTED_FRACTION_G5",
                correct.recip(),
                Detail::None,
            );
            whole_number_lost(a, b, *op, correct, s);
        }
        Family::FractMul => s.emit(
            Proc::FracCrossMultiplies,
            "FRACT_MUL_CROSS_MULTIPLIES_G6",
            n1.checked_mul(d2)
                .zip(d1.checked_mul(n2))
                .and_then(|(n, d)| Q::new(n, d)),
            Detail::None,
        ),
        Family::FractDiv => {
            s.emit(
                Proc::FracNoReciprocal,
                "FRACT_DIV_NO_RECIPROCAL_G7",
                n1.checked_mul(n2)
                    .zip(d1.checked_mul(d2))
                    .and_then(|(n, d)| Q::new(n, d)),
                Detail::None,
            );
            s.emit(
                Proc::FracInvertsFirst,
                "FRACT_DIV_INVERTS_FIRST_FRACTION_G7",
                d1.checked_mul(n2)
                    .zip(n1.checked_mul(d2))
                    .and_then(|(n, d)| Q::new(n, d)),
                Detail::None,
            );
        }
        _ => {}
    }
}

/// The whole part of a mixed number dropped: of the result, or of the operands.
fn whole_number_lost(a: &Number, b: &Number, op: Op, correct: Q, s: &mut Search) {
    let tag = "FRACT_ADDSUB_WHOLE_NUMBER_LOST_G5";
    let mixed = |n: &Number| matches!(n.form, Form::Mixed { .. });
    if !mixed(a) && !mixed(b) && correct.abs() < Q::ONE {
        return;
    }
    let fractional = |q: Q| q.sub(Q::int(q.floor()));
    if !correct.is_integer() && correct > Q::ONE {
        s.emit(
            Proc::FracWholeNumberLost,
            tag,
            fractional(correct),
            Detail::Variant("whole part of the result dropped"),
        );
    }
    if mixed(a) || mixed(b) {
        let parts = fractional(a.value).zip(fractional(b.value));
        s.emit(
            Proc::FracWholeNumberLost,
            tag,
            parts.and_then(|(x, y)| super::apply(op, x, y)),
            Detail::Variant("whole parts of the operands dropped"),
        );
    }
}

/// Fraction slips that need only the correct result (no operands known).
pub(crate) fn fraction_answer_only(correct: Q, s: &mut Search) {
    if correct.is_zero() {
        return;
    }
    // The numerator of the unreduced result n/k for a small denominator k.
    for k in 2..=10 {
        s.emit(
            Proc::FracImproperNotReduced,
            "FRACT_ADDSUB_IMPROPER_NOT_REDUCED_G5",
            correct.mul(Q::int(k)).filter(Q::is_integer),
            Detail::None,
        );
    }
    s.emit(
        Proc::FracInverted,
        "FRACT_ADDSUB_INVERTED_FRACTION_G5",
        correct.recip(),
        Detail::None,
    );
    if !correct.is_integer() && correct > Q::ONE {
        s.emit(
            Proc::FracWholeNumberLost,
            "FRACT_ADDSUB_WHOLE_NUMBER_LOST_G5",
            correct.sub(Q::int(correct.floor())),
            Detail::None,
        );
    }
}

pub(super) fn integers(family: Family, a: Q, b: Q, s: &mut Search) {
    let (pa, pb) = (!a.is_negative(), !b.is_negative());
    match family {
        Family::IntAdd => {
            if a.is_zero() || b.is_zero() {
                return;
            }
            if pa == pb {
                let diff = a.abs().sub(b.abs());
                let tag = "INT_ADD_SAME_SIGN_SUBTRACTS_G7";
                s.emit(
                    Proc::IntSameSignSubtracts,
                    tag,
                    diff.map(|d| if pa { d } else { d.neg() }),
                    Detail::None,
                );
                s.emit(
                    Proc::IntSameSignSubtracts,
                    tag,
                    diff.map(|d| if pa { d.neg() } else { d }),
                    Detail::None,
                );
            } else {
                let sum = a.abs().add(b.abs());
                let tag = "INT_ADD_DIFF_SIGN_ADDS_MAGNITUDES_G7";
                s.emit(Proc::IntDiffSignAddsMagnitudes, tag, sum, Detail::None);
                s.emit(Proc::IntDiffSignAddsMagnitudes, tag, sum.map(Q::neg), Detail::None);
                s.emit(
                    Proc::IntKeepsWrongSign,
                    "INT_ADD_KEEPS_WRONG_SIGN_G7",
                    a.add(b).map(Q::neg),
                    Detail::None,
                );
            }
        }
        Family::IntSub => {
            if !pb {
                // 5 − (−3) read as 5 − 3.
                s.emit(
                    Proc::IntDoubleNegativeNotApplied,
                    "INT_SUB_DOUBLE_NEGATIVE_NOT_APPLIED_G7",
                    a.sub(b.abs()),
                    Detail::None,
                );
            }
            s.emit(
                Proc::IntSubAsAdd,
                "INT_SUB_AS_ADD_SIGN_ERROR_G7",
                a.add(b),
                Detail::None,
            );
        }
        Family::IntMul => {
            let product = a.mul(b);
            if !pa && !pb {
                s.emit(
                    Proc::IntNegTimesNegIsNeg,
                    "INT_SIGN_NEG_TIMES_NEG_IS_NEG_G7",
                    product.map(Q::neg),
                    Detail::None,
                );
            } else if pa != pb && !a.is_zero() && !b.is_zero() {
                s.emit(
                    Proc::IntNegTimesPosIsPos,
                    "INT_SIGN_NEG_TIMES_POS_IS_POS_G7",
                    product.map(|p| p.abs()),
                    Detail::None,
                );
            }
        }
        _ => {}
    }
}

fn scaled(mantissa: Option<i128>, scale: u32) -> Option<Q> {
    Q::new(mantissa?, pow10(scale)?)
}

/// `10^k` when the value is a power of ten (0,1 → −1; 100 → 2).
fn power_of_ten_exponent(q: Q) -> Option<i32> {
    let digits_of = |mut n: i128| {
        let mut k = 0;
        while n > 1 && n % 10 == 0 {
            n /= 10;
            k += 1;
        }
        (n == 1).then_some(k)
    };
    if q.numer() == 1 {
        digits_of(q.denom()).filter(|&k| k > 0).map(|k| -k)
    } else if q.denom() == 1 {
        digits_of(q.numer()).filter(|&k| k > 0)
    } else {
        None
    }
}

pub(super) fn decimals(family: Family, a: &Number, b: &Number, s: &mut Search) {
    let (Some(m1), Some(m2)) = (a.mantissa(), b.mantissa()) else {
        return;
    };
    let (s1, s2) = (u32::from(a.scale()), u32::from(b.scale()));
    match family {
        Family::DecAdd | Family::DecSub => {
            let tag = if family == Family::DecAdd {
                "DEC_ADD_RIGHT_ALIGNED_LIKE_INTEGERS_G5"
            } else {
                "DEC_SUB_MISALIGNED_POINTS_G5"
            };
            let digits = if family == Family::DecAdd {
                m1.checked_add(m2)
            } else {
                m1.checked_sub(m2)
            };
            // The digits lined up on the right like whole numbers, the point then put back with the
            // longer (or the shorter) number of decimals.
            s.emit(
                Proc::DecRightAligned,
                tag,
                scaled(digits, s1.max(s2)),
                Detail::Variant("point placed with the most decimals"),
            );
            s.emit(
                Proc::DecRightAligned,
                tag,
                scaled(digits, s1.min(s2)),
                Detail::Variant("point placed with the fewest decimals"),
            );
        }
        Family::DecMul => {
            let product = m1.checked_mul(m2);
            for k in 0..=(s1 + s2 + 1) {
                if k != s1 + s2 {
                    s.emit(
                        Proc::DecPointPlacement,
                        "DEC_MUL_POINT_PLACEMENT_ERROR_G6",
                        scaled(product, k),
                        Detail::Shift(k as i8),
                    );
                }
            }
            for (p, other) in [(b.value, a.value), (a.value, b.value)] {
                if let Some(k) = power_of_ten_exponent(p) {
                    s.emit(
                        Proc::DecPowerOfTenWrongDirection,
                        "DEC_MUL_BY_POWER_TEN_POINT_WRONG_DIRECTION_G6",
                        other.shift10(-k),
                        Detail::Shift(-k as i8),
                    );
                }
            }
        }
        Family::DecDiv => {
            if s2 > 0 {
                s.emit(
                    Proc::DecDivisorNotShifted,
                    "DEC_DIV_DIVISOR_DECIMAL_NOT_SHIFTED_G6",
                    a.value.div(Q::int(m2)),
                    Detail::None,
                );
            }
            if s1 > 0 {
                s.emit(
                    Proc::DecPointIgnored,
                    "DEC_DIV_POINT_IGNORED_G6",
                    Q::int(m1).div(b.value),
                    Detail::None,
                );
            }
        }
        _ => {}
    }
}

pub(super) fn percent(p: Q, n: Q, s: &mut Search) {
    let tag = "RATIO_PERCENT_DIVIDE_BY_PERCENT_G7";
    s.emit(
        Proc::PctDividesByPercent,
        tag,
        n.div(p),
        Detail::Variant("base divided by the percent"),
    );
    s.emit(
        Proc::PctDividesByPercent,
        tag,
        p.div(n),
        Detail::Variant("percent divided by the base"),
    );
    let correct = s.correct;
    for k in [-1i8, 1, -2, 2] {
        s.emit(
            Proc::PctDecimalShift,
            "RATIO_PERCENT_DECIMAL_SHIFT_ERROR_G7",
            correct.shift10(i32::from(k)),
            Detail::Shift(k),
        );
    }
}

/// The unknown's position, its diagonal partner and the two other terms.
fn proportion_roles(terms: &[Option<Q>; 4]) -> Option<(Q, Q, Q)> {
    let unknown = terms.iter().position(Option::is_none)?;
    if terms.iter().filter(|t| t.is_none()).count() != 1 {
        return None;
    }
    let diagonal = terms[3 - unknown]?;
    let mut others = (0..4).filter(|&i| i != unknown && i != 3 - unknown).map(|i| terms[i]);
    Some((diagonal, others.next()??, others.next()??))
}

pub(super) fn solve_proportion(terms: &[Option<Q>; 4]) -> Option<Q> {
    let (d, i, j) = proportion_roles(terms)?;
    i.mul(j)?.div(d)
}

pub(super) fn proportion(terms: &[Option<Q>; 4], s: &mut Search) {
    let Some((d, i, j)) = proportion_roles(terms) else {
        return;
    };
    // 2:4 = 3:x → x = 3 + (4 − 2): the difference kept instead of the ratio.
    s.emit(
        Proc::PropAdditive,
        "RATIO_PROPORTION_ADDITIVE_STRATEGY_G7",
        i.add(j).and_then(|v| v.sub(d)),
        Detail::None,
    );
    let tag = "RATIO_PROPORTION_CROSS_PRODUCT_ERROR_G7";
    s.emit(
        Proc::PropWrongCrossProduct,
        tag,
        d.mul(i).and_then(|v| v.div(j)),
        Detail::None,
    );
    s.emit(
        Proc::PropWrongCrossProduct,
        tag,
        d.mul(j).and_then(|v| v.div(i)),
        Detail::None,
    );
}
