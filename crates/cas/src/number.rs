//! Exact rational numbers of any size, within a limit.
//!
//! School answers must be compared exactly (`0.1 + 0.2 = 0.3` has to hold), so we never use
//! floats. Almost every number in a school problem fits in an `i128`, so that is the fast
//! path; when an operation would overflow it, the value moves to a big integer
//! (`num-bigint`) and back again as soon as it fits. `2^{200}` or a product of 30-digit
//! numbers is therefore exact.
//!
//! Big integers make hostile input a resource problem instead of an overflow one
//! (`2^{2^{30}}` would take gigabytes), so numerators and denominators are limited to
//! [`MAX_BITS`] bits; beyond it an operation fails with [`MathError::Overflow`], before the
//! work is done where that can be known in advance (powers).

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::fmt;

use num_bigint::{BigInt, Sign};
use num_integer::Integer;
use num_traits::{One, Signed, ToPrimitive, Zero};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::MathError;

/// Largest size, in bits, of a numerator or denominator: about 1,230 decimal digits, far
/// beyond school work and still fast to multiply.
pub const MAX_BITS: u64 = 4096;

/// A rational number in lowest terms with a positive denominator.
///
/// Not `Copy` (a big value owns heap memory): methods take `&self`, and their operand as a
/// value or a reference (`a.checked_add(b)`, `a.checked_add(&b)`), so callers rarely clone.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Rational(Repr);

/// Canonical: `Small` exactly when both parts fit in an i128, so the derived `Eq` and `Hash`
/// compare values.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
enum Repr {
    Small { num: i128, den: i128 },
    Big(Box<(BigInt, BigInt)>),
}

pub(crate) fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        let t = a % b;
        a = b;
        b = t;
    }
    a
}

/// `num/den` in lowest terms as a small rational; `None` when that needs more than i128
/// (only around `i128::MIN`). `den` must not be zero.
fn small(num: i128, den: i128) -> Option<Rational> {
    if num == 0 {
        return Some(Rational::ZERO);
    }
    let g = i128::try_from(gcd(num.unsigned_abs(), den.unsigned_abs())).ok()?;
    let (mut num, mut den) = (num / g, den / g);
    if den < 0 {
        num = num.checked_neg()?;
        den = den.checked_neg()?;
    }
    Some(Rational(Repr::Small { num, den }))
}

fn small_add(a: i128, b: i128, c: i128, d: i128) -> Option<Rational> {
    // b, d > 0, so the gcd fits in i128.
    let g = gcd(b.unsigned_abs(), d.unsigned_abs()) as i128;
    let x = a.checked_mul(d / g)?;
    let y = c.checked_mul(b / g)?;
    let den = (b / g).checked_mul(d)?;
    small(x.checked_add(y)?, den)
}

fn small_mul(a: i128, b: i128, c: i128, d: i128) -> Option<Rational> {
    if a == 0 || c == 0 {
        return Some(Rational::ZERO);
    }
    // Cross-reduce first so that products stay as small as possible.
    let g1 = i128::try_from(gcd(a.unsigned_abs(), d.unsigned_abs())).ok()?;
    let g2 = i128::try_from(gcd(c.unsigned_abs(), b.unsigned_abs())).ok()?;
    let num = (a / g1).checked_mul(c / g2)?;
    let den = (b / g2).checked_mul(d / g1)?;
    small(num, den)
}

impl Rational {
    pub const ZERO: Rational = Rational(Repr::Small { num: 0, den: 1 });
    pub const ONE: Rational = Rational(Repr::Small { num: 1, den: 1 });

    /// `num/den` reduced to lowest terms.
    pub fn new(num: i128, den: i128) -> Result<Self, MathError> {
        if den == 0 {
            return Err(MathError::DivisionByZero);
        }
        match small(num, den) {
            Some(r) => Ok(r),
            None => Rational::from_bigints(BigInt::from(num), BigInt::from(den)),
        }
    }

    /// `num/den` of any size reduced to lowest terms; more than [`MAX_BITS`] bits in either
    /// part (after reducing) is [`MathError::Overflow`].
    pub fn from_bigints(num: BigInt, den: BigInt) -> Result<Self, MathError> {
        if den.is_zero() {
            return Err(MathError::DivisionByZero);
        }
        if num.is_zero() {
            return Ok(Self::ZERO);
        }
        let g = num.gcd(&den);
        let (mut num, mut den) = (num / &g, den / &g);
        if den.is_negative() {
            num = -num;
            den = -den;
        }
        if num.bits() > MAX_BITS || den.bits() > MAX_BITS {
            return Err(MathError::Overflow);
        }
        Ok(match (num.to_i128(), den.to_i128()) {
            (Some(num), Some(den)) => Rational(Repr::Small { num, den }),
            _ => Rational(Repr::Big(Box::new((num, den)))),
        })
    }

    pub const fn integer(n: i128) -> Self {
        Rational(Repr::Small { num: n, den: 1 })
    }

    /// The numerator (carrying the sign).
    pub fn numer(&self) -> BigInt {
        match &self.0 {
            Repr::Small { num, .. } => BigInt::from(*num),
            Repr::Big(b) => b.0.clone(),
        }
    }

    /// The denominator, always positive.
    pub fn denom(&self) -> BigInt {
        match &self.0 {
            Repr::Small { den, .. } => BigInt::from(*den),
            Repr::Big(b) => b.1.clone(),
        }
    }

    /// Numerator and denominator as i128, when both fit.
    pub fn to_i128_parts(&self) -> Option<(i128, i128)> {
        match self.0 {
            Repr::Small { num, den } => Some((num, den)),
            Repr::Big(_) => None,
        }
    }

    /// The value as an i128 when it is an integer that fits.
    pub fn to_i128(&self) -> Option<i128> {
        match self.0 {
            Repr::Small { num, den: 1 } => Some(num),
            _ => None,
        }
    }

    fn big_parts(&self) -> (BigInt, BigInt) {
        (self.numer(), self.denom())
    }

    fn sign(&self) -> Ordering {
        match &self.0 {
            Repr::Small { num, .. } => num.cmp(&0),
            Repr::Big(b) => match b.0.sign() {
                Sign::Minus => Ordering::Less,
                Sign::NoSign => Ordering::Equal,
                Sign::Plus => Ordering::Greater,
            },
        }
    }

    pub fn is_zero(&self) -> bool {
        self.sign() == Ordering::Equal
    }

    pub fn is_integer(&self) -> bool {
        match &self.0 {
            Repr::Small { den, .. } => *den == 1,
            Repr::Big(b) => b.1.is_one(),
        }
    }

    pub fn is_negative(&self) -> bool {
        self.sign() == Ordering::Less
    }

    pub fn is_positive(&self) -> bool {
        self.sign() == Ordering::Greater
    }

    /// Size of the larger of numerator and denominator, in bits.
    pub fn bits(&self) -> u64 {
        match &self.0 {
            Repr::Small { num, den } => {
                let b = |x: i128| u64::from(128 - x.unsigned_abs().leading_zeros());
                b(*num).max(b(*den))
            }
            Repr::Big(b) => b.0.bits().max(b.1.bits()),
        }
    }

    /// Parses the digits of a decimal literal: `int_part` and `frac_part` are ASCII digits.
    pub fn from_decimal(int_part: &str, frac_part: &str) -> Result<Self, MathError> {
        if int_part.len() + frac_part.len() <= 38 {
            // 10^38 < 2^127: the fast path cannot overflow.
            let mut num: i128 = 0;
            for b in int_part.bytes().chain(frac_part.bytes()) {
                num = num * 10 + i128::from(b - b'0');
            }
            return Rational::new(num, 10i128.pow(frac_part.len() as u32));
        }
        let digits = format!("{int_part}{frac_part}");
        let num = BigInt::parse_bytes(digits.as_bytes(), 10)
            .ok_or_else(|| MathError::Unsupported(format!("not a number: {digits}")))?;
        let den_bits = (frac_part.len() as u64).saturating_mul(4);
        if den_bits > MAX_BITS + 4 || digits.len() as u64 > MAX_BITS {
            return Err(MathError::Overflow);
        }
        let den = num_traits::pow(BigInt::from(10), frac_part.len());
        Rational::from_bigints(num, den)
    }

    pub fn checked_neg(&self) -> Result<Self, MathError> {
        if let Repr::Small { num, den } = self.0
            && let Some(n) = num.checked_neg()
        {
            return Ok(Rational(Repr::Small { num: n, den }));
        }
        let (n, d) = self.big_parts();
        Rational::from_bigints(-n, d)
    }

    pub fn abs(&self) -> Result<Self, MathError> {
        if self.is_negative() {
            self.checked_neg()
        } else {
            Ok(self.clone())
        }
    }

    pub fn checked_add(&self, o: impl Borrow<Rational>) -> Result<Self, MathError> {
        let o = o.borrow();
        if let (Repr::Small { num: a, den: b }, Repr::Small { num: c, den: d }) = (&self.0, &o.0)
            && let Some(r) = small_add(*a, *b, *c, *d)
        {
            return Ok(r);
        }
        let ((a, b), (c, d)) = (self.big_parts(), o.big_parts());
        Rational::from_bigints(a * &d + c * &b, b * d)
    }

    pub fn checked_sub(&self, o: impl Borrow<Rational>) -> Result<Self, MathError> {
        self.checked_add(o.borrow().checked_neg()?)
    }

    pub fn checked_mul(&self, o: impl Borrow<Rational>) -> Result<Self, MathError> {
        let o = o.borrow();
        if let (Repr::Small { num: a, den: b }, Repr::Small { num: c, den: d }) = (&self.0, &o.0)
            && let Some(r) = small_mul(*a, *b, *c, *d)
        {
            return Ok(r);
        }
        if self.is_zero() || o.is_zero() {
            return Ok(Self::ZERO);
        }
        let ((a, b), (c, d)) = (self.big_parts(), o.big_parts());
        // Both operands are at most MAX_BITS wide, so the products are at most twice that
        // before reducing: bounded.
        Rational::from_bigints(a * c, b * d)
    }

    pub fn recip(&self) -> Result<Self, MathError> {
        if self.is_zero() {
            return Err(MathError::DivisionByZero);
        }
        if let Repr::Small { num, den } = self.0
            && let Some(r) = small(den, num)
        {
            return Ok(r);
        }
        let (n, d) = self.big_parts();
        Rational::from_bigints(d, n)
    }

    pub fn checked_div(&self, o: impl Borrow<Rational>) -> Result<Self, MathError> {
        self.checked_mul(o.borrow().recip()?)
    }

    /// `self^exp`; negative exponents invert. A result wider than [`MAX_BITS`] is refused
    /// before it is computed, so `2^{10^{30}}` fails at once instead of running out of memory.
    pub fn pow(&self, exp: i128) -> Result<Self, MathError> {
        if exp < 0 {
            return self.recip()?.pow_unsigned(exp.unsigned_abs());
        }
        self.pow_unsigned(exp.unsigned_abs())
    }

    fn pow_unsigned(&self, exp: u128) -> Result<Self, MathError> {
        if exp == 0 {
            return Ok(Self::ONE);
        }
        // 0, 1 and -1 have powers of every size: answer them without any work.
        if self.is_zero() || *self == Self::ONE {
            return Ok(self.clone());
        }
        if *self == Self::integer(-1) {
            return Ok(if exp.is_multiple_of(2) { Self::ONE } else { self.clone() });
        }
        // |self| ≠ 0, 1, so its wider part has at least 2 bits and the result at least
        // (bits - 1)·exp + 1 bits.
        let grow = u128::from(self.bits() - 1);
        if grow.saturating_mul(exp) > u128::from(MAX_BITS) {
            return Err(MathError::Overflow);
        }
        let e = exp as u32; // at most MAX_BITS after the check above
        if let Repr::Small { num, den } = self.0
            && let (Some(n), Some(d)) = (num.checked_pow(e), den.checked_pow(e))
        {
            // Powers of coprime numbers are coprime and the denominator stays positive.
            return Ok(Rational(Repr::Small { num: n, den: d }));
        }
        let (n, d) = self.big_parts();
        Rational::from_bigints(num_traits::pow(n, e as usize), num_traits::pow(d, e as usize))
    }

    /// `self^exp` for a rational exponent, which must be an integer. An exponent beyond i128
    /// is fine for 0, 1 and -1 and too large for everything else.
    pub fn pow_rational(&self, exp: &Rational) -> Result<Self, MathError> {
        if !exp.is_integer() {
            return Err(MathError::Unsupported(format!("fractional exponent {exp}")));
        }
        if let Some(e) = exp.to_i128() {
            return self.pow(e);
        }
        if self.is_zero() {
            return if exp.is_negative() {
                Err(MathError::DivisionByZero)
            } else {
                Ok(Self::ZERO)
            };
        }
        if *self == Self::ONE {
            return Ok(Self::ONE);
        }
        if *self == Self::integer(-1) {
            return Ok(if exp.numer().is_even() { Self::ONE } else { self.clone() });
        }
        Err(MathError::Overflow)
    }

    /// The exact n-th root when it is rational (`n >= 1`), else `None`.
    pub fn nth_root(&self, n: u32) -> Option<Self> {
        if n == 0 || (self.is_negative() && n.is_multiple_of(2)) {
            return None;
        }
        if let Repr::Small { num, den } = self.0 {
            let r_num = int_nth_root(num.unsigned_abs(), n)?;
            let r_den = int_nth_root(den.unsigned_abs(), n)?;
            let sign = if num < 0 { -1 } else { 1 };
            return Rational::new(sign * i128::try_from(r_num).ok()?, i128::try_from(r_den).ok()?).ok();
        }
        let root = |x: &BigInt| {
            // `Roots::nth_root` rounds towards zero and handles negative odd roots.
            let r = x.nth_root(n);
            (num_traits::pow(r.clone(), n as usize) == *x).then_some(r)
        };
        let (num, den) = self.big_parts();
        Rational::from_bigints(root(&num)?, root(&den)?).ok()
    }

    /// The exact square root when it is rational.
    pub fn sqrt(&self) -> Option<Self> {
        self.nth_root(2)
    }

    /// LaTeX form, e.g. `-\frac{3}{2}`.
    pub fn to_latex(&self) -> String {
        let (num, den) = self.big_parts();
        if den.is_one() {
            num.to_string()
        } else if num.is_negative() {
            format!("-\\frac{{{}}}{{{den}}}", num.magnitude())
        } else {
            format!("\\frac{{{num}}}{{{den}}}")
        }
    }
}

impl From<i128> for Rational {
    fn from(n: i128) -> Self {
        Rational::integer(n)
    }
}

impl From<i64> for Rational {
    fn from(n: i64) -> Self {
        Rational::integer(i128::from(n))
    }
}

/// Exact integer n-th root of `x`, if `x` is a perfect n-th power.
fn int_nth_root(x: u128, n: u32) -> Option<u128> {
    if x < 2 || n == 1 {
        return Some(x);
    }
    let (mut lo, mut hi) = (1u128, x.min(1u128 << (128 / n + 1)));
    while lo <= hi {
        let mid = lo + (hi - lo) / 2;
        match mid.checked_pow(n) {
            Some(p) if p == x => return Some(mid),
            Some(p) if p < x => lo = mid + 1,
            _ => hi = mid - 1,
        }
    }
    None
}

/// Largest `k` with `k^2 | x`, returned as `(k, x / k^2)`. Used to write `√12` as `2√3`.
/// Trial division is fine for school-sized numbers; we stop at 10^6 to bound the work.
pub fn split_square(mut x: u128) -> (u128, u128) {
    let mut k = 1u128;
    let mut p = 2u128;
    while p <= 1_000_000 && p * p <= x {
        while x.is_multiple_of(p * p) {
            x /= p * p;
            k *= p;
        }
        p += 1;
    }
    if let Some(r) = int_nth_root(x, 2) {
        return (k * r, 1);
    }
    (k, x)
}

/// [`split_square`] for a non-negative integer of any size: `(k, m)` with `x = k²·m`.
/// Beyond u128 the trial division stops at 10^4 (each step costs a big division), so `m` is
/// square-free only up to that bound, which school problems never reach.
pub fn split_square_big(x: &BigInt) -> (BigInt, BigInt) {
    if let Some(small) = x.to_u128() {
        let (k, m) = split_square(small);
        return (BigInt::from(k), BigInt::from(m));
    }
    let mut x = x.clone();
    let mut k = BigInt::one();
    let mut p = 2u32;
    while p <= 10_000 {
        let pp = BigInt::from(p) * p;
        while (&x % &pp).is_zero() {
            x /= &pp;
            k *= p;
        }
        p += 1;
    }
    let r = x.sqrt();
    if &r * &r == x {
        return (k * r, BigInt::one());
    }
    (k, x)
}

impl Ord for Rational {
    fn cmp(&self, other: &Self) -> Ordering {
        if let (Repr::Small { num: a, den: b }, Repr::Small { num: c, den: d }) = (&self.0, &other.0) {
            return cmp_small(*a, *b, *c, *d);
        }
        // Denominators are positive, so cross-multiplying keeps the order.
        let ((a, b), (c, d)) = (self.big_parts(), other.big_parts());
        (a * d).cmp(&(c * b))
    }
}

/// Continued-fraction comparison of `n1/d1` and `n2/d2`: never multiplies, so it cannot
/// overflow.
fn cmp_small(mut n1: i128, mut d1: i128, mut n2: i128, mut d2: i128) -> Ordering {
    loop {
        let (q1, q2) = (n1.div_euclid(d1), n2.div_euclid(d2));
        if q1 != q2 {
            return q1.cmp(&q2);
        }
        let (r1, r2) = (n1.rem_euclid(d1), n2.rem_euclid(d2));
        match (r1 == 0, r2 == 0) {
            (true, true) => return Ordering::Equal,
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            // r1/d1 < r2/d2  <=>  d2/r2 < d1/r1
            _ => (n1, d1, n2, d2) = (d2, r2, d1, r1),
        }
    }
}

impl PartialOrd for Rational {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Rational {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::Small { num, den: 1 } => write!(f, "{num}"),
            Repr::Small { num, den } => write!(f, "{num}/{den}"),
            Repr::Big(b) if b.1.is_one() => write!(f, "{}", b.0),
            Repr::Big(b) => write!(f, "{}/{}", b.0, b.1),
        }
    }
}

impl std::str::FromStr for Rational {
    type Err = MathError;

    /// Reads `n` or `n/d` (the serialised form), of any size up to [`MAX_BITS`].
    fn from_str(s: &str) -> Result<Self, MathError> {
        let bad = || MathError::Unsupported(format!("not a rational: {s}"));
        let int = |t: &str| -> Result<BigInt, MathError> {
            let t = t.trim();
            // Refuse absurd lengths before parsing (decimal digits carry < 3.33 bits each).
            if t.len() as u64 > MAX_BITS {
                return Err(MathError::Overflow);
            }
            t.parse().map_err(|_| bad())
        };
        match s.split_once('/') {
            Some((n, d)) => Rational::from_bigints(int(n)?, int(d)?),
            None => Rational::from_bigints(int(s)?, BigInt::one()),
        }
    }
}

/// Serialised as a string (`"3/2"`) because JSON numbers cannot hold big integers or fractions.
impl Serialize for Rational {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Rational {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(n: i128, d: i128) -> Rational {
        Rational::new(n, d).unwrap()
    }

    fn big(s: &str) -> Rational {
        s.parse().unwrap()
    }

    #[test]
    fn arithmetic_and_normalisation() {
        assert_eq!(r(2, -4), r(-1, 2));
        assert_eq!(r(1, 10).checked_add(r(2, 10)).unwrap(), r(3, 10));
        assert_eq!(r(3, 4).checked_mul(r(4, 3)).unwrap(), Rational::ONE);
        assert_eq!(r(2, 3).pow(-2).unwrap(), r(9, 4));
        assert_eq!(Rational::from_decimal("3", "50").unwrap(), r(7, 2));
        assert_eq!(r(9, 4).sqrt(), Some(r(3, 2)));
        assert_eq!(r(2, 1).sqrt(), None);
        assert_eq!(r(-8, 27).nth_root(3), Some(r(-2, 3)));
        assert_eq!(split_square(12), (2, 3));
        assert_eq!(split_square(49), (7, 1));
    }

    #[test]
    fn big_values_are_exact() {
        let two_200 = Rational::integer(2).pow(200).unwrap();
        assert_eq!(
            two_200.to_string(),
            "1606938044258990275541962092341162602522202993782792835301376"
        );
        let ten = Rational::integer(10);
        assert_eq!(
            ten.pow(30).unwrap().checked_div(ten.pow(28).unwrap()).unwrap(),
            r(100, 1)
        );
        let a = big("123456789012345678901234567890");
        let b = big("987654321098765432109876543210");
        assert_eq!(
            a.checked_mul(&b).unwrap().to_string(),
            "121932631137021795226185032733622923332237463801111263526900"
        );
        // Back to the fast path once the value fits again.
        let q = a.checked_mul(&b).unwrap().checked_div(&b).unwrap();
        assert_eq!(q, a);
        assert_eq!(q.to_i128(), Some(123456789012345678901234567890));
        assert_eq!(
            two_200
                .checked_div(Rational::integer(2).pow(199).unwrap())
                .unwrap()
                .to_i128(),
            Some(2)
        );
        let max = Rational::integer(i128::MAX);
        assert_eq!(
            max.checked_add(Rational::ONE).unwrap().to_string(),
            "170141183460469231731687303715884105728"
        );
        assert_eq!(
            Rational::integer(i128::MIN)
                .checked_neg()
                .unwrap()
                .checked_neg()
                .unwrap(),
            Rational::integer(i128::MIN)
        );
        assert_eq!(two_200.sqrt(), Some(Rational::integer(2).pow(100).unwrap()));
        assert_eq!(two_200.checked_mul(&two_200).unwrap().nth_root(4), two_200.sqrt());
        assert_eq!(Rational::from_decimal("1", &"0".repeat(50)).unwrap(), Rational::ONE);
        let json = serde_json::to_string(&two_200).unwrap();
        assert_eq!(serde_json::from_str::<Rational>(&json).unwrap(), two_200);
    }

    #[test]
    fn limits_are_errors() {
        assert_eq!(Rational::integer(10).pow(100).unwrap().to_string().len(), 101);
        assert_eq!(Rational::integer(2).pow(5000), Err(MathError::Overflow));
        assert_eq!(Rational::integer(2).pow(i128::MAX), Err(MathError::Overflow));
        assert_eq!(r(1, 3).pow(i128::MIN), Err(MathError::Overflow));
        assert_eq!(Rational::integer(-1).pow(i128::MAX), Ok(Rational::integer(-1)));
        let huge = Rational::integer(2).pow(4000).unwrap();
        assert_eq!(huge.checked_mul(&huge), Err(MathError::Overflow));
        assert_eq!(
            Rational::ONE.checked_div(Rational::ZERO),
            Err(MathError::DivisionByZero)
        );
        assert_eq!(Rational::ZERO.pow(-1), Err(MathError::DivisionByZero));
        let e = Rational::integer(10).pow(40).unwrap();
        assert_eq!(Rational::integer(-1).pow_rational(&e), Ok(Rational::ONE));
        assert_eq!(Rational::integer(3).pow_rational(&e), Err(MathError::Overflow));
    }

    #[test]
    fn ordering() {
        let a = r(i128::MAX, i128::MAX - 1);
        let b = r(i128::MAX - 1, i128::MAX - 2);
        assert!(a < b);
        assert!(r(-1, 2) < r(1, 3));
        assert!(r(-1, 2) > r(-2, 3));
        let two_200 = Rational::integer(2).pow(200).unwrap();
        assert!(two_200 > Rational::integer(i128::MAX));
        assert!(two_200.checked_neg().unwrap() < Rational::integer(i128::MIN));
        assert!(two_200.recip().unwrap() < r(1, i128::MAX));
        assert!(two_200.recip().unwrap().is_positive());
    }

    #[test]
    fn big_square_parts() {
        let x = BigInt::from(10).pow(40u32) * 7;
        assert_eq!(split_square_big(&x), (BigInt::from(10).pow(20u32), BigInt::from(7)));
    }
}
