//! Exact rational numbers over `i128`.
//!
//! School answers must be compared exactly (`0.1 + 0.2 = 0.3` has to hold), so we never use
//! floats. We do not depend on a big-integer crate, so every operation is checked and an
//! overflow becomes [`MathError::Overflow`] instead of a panic or a wrong answer.

use std::cmp::Ordering;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::MathError;

/// A rational number in lowest terms with a positive denominator.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Rational {
    num: i128,
    den: i128,
}

pub(crate) fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        let t = a % b;
        a = b;
        b = t;
    }
    a
}

fn ovf<T>(x: Option<T>) -> Result<T, MathError> {
    x.ok_or(MathError::Overflow)
}

impl Rational {
    pub const ZERO: Rational = Rational { num: 0, den: 1 };
    pub const ONE: Rational = Rational { num: 1, den: 1 };

    /// `num/den` reduced to lowest terms.
    pub fn new(num: i128, den: i128) -> Result<Self, MathError> {
        if den == 0 {
            return Err(MathError::DivisionByZero);
        }
        if num == 0 {
            return Ok(Self::ZERO);
        }
        let g = gcd(num.unsigned_abs(), den.unsigned_abs());
        // g divides both, so g <= |num| and the casts below only fail for g = 2^127, which
        // happens only when both are i128::MIN; treat that as overflow.
        let g = i128::try_from(g).map_err(|_| MathError::Overflow)?;
        let (mut num, mut den) = (num / g, den / g);
        if den < 0 {
            num = ovf(num.checked_neg())?;
            den = ovf(den.checked_neg())?;
        }
        Ok(Rational { num, den })
    }

    pub const fn integer(n: i128) -> Self {
        Rational { num: n, den: 1 }
    }

    pub fn numer(self) -> i128 {
        self.num
    }

    pub fn denom(self) -> i128 {
        self.den
    }

    pub fn is_zero(self) -> bool {
        self.num == 0
    }

    pub fn is_integer(self) -> bool {
        self.den == 1
    }

    pub fn is_negative(self) -> bool {
        self.num < 0
    }

    pub fn is_positive(self) -> bool {
        self.num > 0
    }

    /// Parses the digits of a decimal literal: `int_part` and `frac_part` are ASCII digits.
    pub fn from_decimal(int_part: &str, frac_part: &str) -> Result<Self, MathError> {
        let mut num: i128 = 0;
        let mut den: i128 = 1;
        for b in int_part.bytes().chain(frac_part.bytes()) {
            num = ovf(num.checked_mul(10).and_then(|n| n.checked_add(i128::from(b - b'0'))))?;
        }
        for _ in 0..frac_part.len() {
            den = ovf(den.checked_mul(10))?;
        }
        Rational::new(num, den)
    }

    pub fn checked_neg(self) -> Result<Self, MathError> {
        Ok(Rational {
            num: ovf(self.num.checked_neg())?,
            den: self.den,
        })
    }

    pub fn abs(self) -> Result<Self, MathError> {
        if self.num < 0 { self.checked_neg() } else { Ok(self) }
    }

    pub fn checked_add(self, o: Self) -> Result<Self, MathError> {
        let g = gcd(self.den.unsigned_abs(), o.den.unsigned_abs()) as i128;
        let a = ovf(self.num.checked_mul(o.den / g))?;
        let b = ovf(o.num.checked_mul(self.den / g))?;
        let den = ovf((self.den / g).checked_mul(o.den))?;
        Rational::new(ovf(a.checked_add(b))?, den)
    }

    pub fn checked_sub(self, o: Self) -> Result<Self, MathError> {
        self.checked_add(o.checked_neg()?)
    }

    pub fn checked_mul(self, o: Self) -> Result<Self, MathError> {
        if self.num == 0 || o.num == 0 {
            return Ok(Self::ZERO);
        }
        // Cross-reduce first so that products stay as small as possible.
        let g1 = gcd(self.num.unsigned_abs(), o.den.unsigned_abs()) as i128;
        let g2 = gcd(o.num.unsigned_abs(), self.den.unsigned_abs()) as i128;
        let num = ovf((self.num / g1).checked_mul(o.num / g2))?;
        let den = ovf((self.den / g2).checked_mul(o.den / g1))?;
        Rational::new(num, den)
    }

    pub fn recip(self) -> Result<Self, MathError> {
        Rational::new(self.den, self.num)
    }

    pub fn checked_div(self, o: Self) -> Result<Self, MathError> {
        self.checked_mul(o.recip()?)
    }

    /// `self^exp` by repeated squaring; negative exponents invert.
    pub fn pow(self, exp: i128) -> Result<Self, MathError> {
        if exp < 0 {
            let e = ovf(exp.checked_neg())?;
            return self.recip()?.pow(e);
        }
        if exp == 0 {
            return Ok(Self::ONE);
        }
        // Cheap exits so that `1^{10^30}` does not loop forever-ish.
        if self.num == 0 || self == Self::ONE {
            return Ok(self);
        }
        if self == Self::integer(-1) {
            return Ok(if exp % 2 == 0 { Self::ONE } else { self });
        }
        let mut result = Self::ONE;
        let mut base = self;
        let mut e = exp;
        loop {
            if e & 1 == 1 {
                result = result.checked_mul(base)?;
            }
            e >>= 1;
            if e == 0 {
                break;
            }
            base = base.checked_mul(base)?;
        }
        Ok(result)
    }

    /// The exact n-th root when it is rational (`n >= 1`), else `None`.
    pub fn nth_root(self, n: u32) -> Option<Self> {
        if n == 0 {
            return None;
        }
        if self.num < 0 && n.is_multiple_of(2) {
            return None;
        }
        let r_num = int_nth_root(self.num.unsigned_abs(), n)?;
        let r_den = int_nth_root(self.den.unsigned_abs(), n)?;
        let sign = if self.num < 0 { -1 } else { 1 };
        Rational::new(sign * i128::try_from(r_num).ok()?, i128::try_from(r_den).ok()?).ok()
    }

    /// The exact square root when it is rational.
    pub fn sqrt(self) -> Option<Self> {
        self.nth_root(2)
    }

    /// LaTeX form, e.g. `-\frac{3}{2}`.
    pub fn to_latex(self) -> String {
        if self.den == 1 {
            self.num.to_string()
        } else if self.num < 0 {
            format!("-\\frac{{{}}}{{{}}}", self.num.unsigned_abs(), self.den)
        } else {
            format!("\\frac{{{}}}{{{}}}", self.num, self.den)
        }
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

impl Ord for Rational {
    /// Continued-fraction comparison: never multiplies, so it cannot overflow.
    fn cmp(&self, other: &Self) -> Ordering {
        let (mut n1, mut d1, mut n2, mut d2) = (self.num, self.den, other.num, other.den);
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
}

impl PartialOrd for Rational {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Rational {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.den == 1 {
            write!(f, "{}", self.num)
        } else {
            write!(f, "{}/{}", self.num, self.den)
        }
    }
}

impl std::str::FromStr for Rational {
    type Err = MathError;

    /// Reads `n` or `n/d` (the serialised form).
    fn from_str(s: &str) -> Result<Self, MathError> {
        let bad = || MathError::Unsupported(format!("not a rational: {s}"));
        match s.split_once('/') {
            Some((n, d)) => Rational::new(
                n.trim().parse().map_err(|_| bad())?,
                d.trim().parse().map_err(|_| bad())?,
            ),
            None => Ok(Rational::integer(s.trim().parse().map_err(|_| bad())?)),
        }
    }
}

/// Serialised as a string (`"3/2"`) because JSON numbers cannot hold i128 or fractions.
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
    fn overflow_is_an_error() {
        let big = Rational::integer(i128::MAX);
        assert_eq!(big.checked_add(Rational::ONE), Err(MathError::Overflow));
        assert_eq!(Rational::integer(10).pow(100), Err(MathError::Overflow));
        assert_eq!(Rational::integer(i128::MIN).checked_neg(), Err(MathError::Overflow));
        assert_eq!(
            Rational::ONE.checked_div(Rational::ZERO),
            Err(MathError::DivisionByZero)
        );
    }

    #[test]
    fn ordering_without_overflow() {
        let a = r(i128::MAX, i128::MAX - 1);
        let b = r(i128::MAX - 1, i128::MAX - 2);
        assert!(a < b);
        assert!(r(-1, 2) < r(1, 3));
        assert!(r(-1, 2) > r(-2, 3));
    }
}
