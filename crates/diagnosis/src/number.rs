//! Exact numbers: every answer and operand is a rational, never a binary float.
//!
//! A student's `0.1`, `1/10` and `0,1` are the same [`Q`]. The written form is kept beside the value
//! ([`Form`]) because some misconceptions live in the notation: decimal places as written
//! (`2,50` vs `2,5`), an unreduced fraction, a mixed number's whole part.

use std::cmp::Ordering;
use std::fmt;

use num_integer::Integer;
use num_rational::Ratio;
use num_traits::Signed;

/// Most significant digits accepted in one number. i128 holds 38; the margin keeps the products
/// that procedures form (a × b of two operands) from overflowing silently: they are checked, and
/// an overflow makes that procedure inapplicable rather than wrong.
pub const MAX_DIGITS: usize = 30;

/// Fractional digits from which a decimal is taken to be a binary float printed in full
/// (`0.5333333333333333`), and read back as the simple fraction it approximates (8/15).
/// People do not write twelve decimals; JSON encoders of floats do.
const FLOAT_RECOVERY_MIN_DECIMALS: usize = 12;
/// Largest denominator a recovered float may have.
const FLOAT_RECOVERY_MAX_DENOM: i128 = 1_000_000;

/// An exact rational, always in lowest terms with a positive denominator.
#[derive(Clone, Copy)]
pub struct Q(Ratio<i128>);

// The arithmetic is checked and returns `Option`, so the operator traits do not fit it.
#[allow(clippy::should_implement_trait)]
impl Q {
    pub const ZERO: Q = Q(Ratio::new_raw(0, 1));
    pub const ONE: Q = Q(Ratio::new_raw(1, 1));

    pub const fn int(n: i128) -> Q {
        Q(Ratio::new_raw(n, 1))
    }

    /// `n/d` reduced; `None` for a zero denominator or an overflow while normalising.
    pub fn new(n: i128, d: i128) -> Option<Q> {
        if d == 0 || n == i128::MIN || d == i128::MIN {
            return None;
        }
        if d == 1 {
            return Some(Q::int(n));
        }
        if n == 0 {
            return Some(Q::ZERO);
        }
        let (mut n, mut d) = match (i64::try_from(n), i64::try_from(d)) {
            // 64-bit division is an instruction; 128-bit division is a library call.
            (Ok(n64), Ok(d64)) => {
                let g = num_integer::gcd(n64.unsigned_abs(), d64.unsigned_abs()) as i64;
                (i128::from(n64 / g), i128::from(d64 / g))
            }
            _ => {
                let g = num_integer::gcd(n.unsigned_abs(), d.unsigned_abs()) as i128;
                (n / g, d / g)
            }
        };
        if d < 0 {
            n = -n;
            d = -d;
        }
        Some(Q(Ratio::new_raw(n, d)))
    }

    pub fn numer(&self) -> i128 {
        *self.0.numer()
    }
    pub fn denom(&self) -> i128 {
        *self.0.denom()
    }
    pub fn is_integer(&self) -> bool {
        self.denom() == 1
    }
    pub fn to_integer(&self) -> Option<i128> {
        self.is_integer().then(|| self.numer())
    }
    pub fn is_zero(&self) -> bool {
        self.numer() == 0
    }
    pub fn is_negative(&self) -> bool {
        self.numer() < 0
    }
    pub fn abs(&self) -> Q {
        Q(self.0.abs())
    }
    // Integers and common denominators take fast paths: most of the engine's arithmetic is on
    // whole numbers, and i128 division (inside the general rational path) is slow.
    pub fn add(self, o: Q) -> Option<Q> {
        if self.denom() == o.denom() {
            let n = self.numer().checked_add(o.numer())?;
            return if self.denom() == 1 {
                Some(Q::int(n))
            } else {
                Q::new(n, self.denom())
            };
        }
        Q::new(
            self.numer()
                .checked_mul(o.denom())?
                .checked_add(o.numer().checked_mul(self.denom())?)?,
            self.denom().checked_mul(o.denom())?,
        )
    }
    pub fn sub(self, o: Q) -> Option<Q> {
        self.add(o.neg())
    }
    pub fn mul(self, o: Q) -> Option<Q> {
        if self.denom() == 1 && o.denom() == 1 {
            return self.numer().checked_mul(o.numer()).map(Q::int);
        }
        Q::new(
            self.numer().checked_mul(o.numer())?,
            self.denom().checked_mul(o.denom())?,
        )
    }
    pub fn div(self, o: Q) -> Option<Q> {
        if o.is_zero() {
            return None;
        }
        if self.denom() == 1 && o.denom() == 1 {
            return Q::new(self.numer(), o.numer());
        }
        Q::new(
            self.numer().checked_mul(o.denom())?,
            self.denom().checked_mul(o.numer())?,
        )
    }
    pub fn neg(self) -> Q {
        // Numerators are bounded by parsing far below i128::MIN, so negation cannot overflow.
        Q(Ratio::new_raw(-self.numer(), self.denom()))
    }
    pub fn recip(self) -> Option<Q> {
        Q::new(self.denom(), self.numer())
    }
    /// Integer power with a bounded exponent; `None` on overflow or 0^negative.
    pub fn pow(self, e: i128) -> Option<Q> {
        if e.unsigned_abs() > 128 {
            return None;
        }
        let base = if e < 0 { self.recip()? } else { self };
        let mut acc = Q::ONE;
        for _ in 0..e.unsigned_abs() {
            acc = acc.mul(base)?;
        }
        Some(acc)
    }
    /// Exact square root when the value is the square of a rational.
    pub fn sqrt(self) -> Option<Q> {
        if self.is_negative() {
            return None;
        }
        let n = isqrt(self.numer())?;
        let d = isqrt(self.denom())?;
        Q::new(n, d)
    }
    /// `self × 10^k` for a small signed k.
    pub fn shift10(self, k: i32) -> Option<Q> {
        let p = *POW10.get(k.unsigned_abs() as usize)?;
        if k >= 0 {
            self.mul(Q::int(p))
        } else {
            self.div(Q::int(p))
        }
    }
    pub fn floor(&self) -> i128 {
        if self.is_integer() {
            return self.numer();
        }
        Integer::div_floor(&self.numer(), &self.denom())
    }
    pub fn to_f64(&self) -> f64 {
        self.numer() as f64 / self.denom() as f64
    }
}

impl PartialEq for Q {
    fn eq(&self, other: &Self) -> bool {
        // Both sides are normalised, so equality is structural (no cross-multiplication).
        self.numer() == other.numer() && self.denom() == other.denom()
    }
}
impl Eq for Q {}
impl std::hash::Hash for Q {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.numer().hash(state);
        self.denom().hash(state);
    }
}
impl PartialOrd for Q {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Q {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.cmp(&other.0)
    }
}

impl fmt::Debug for Q {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Q {
    /// Integers as integers, terminating decimals as decimals, anything else as `n/d`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_integer() {
            return write!(f, "{}", self.numer());
        }
        let mut d = self.denom();
        let mut scale = 0u32;
        while d % 2 == 0 || d % 5 == 0 {
            if d % 10 == 0 {
                d /= 10;
            } else if d % 2 == 0 {
                d /= 2;
            } else {
                d /= 5;
            }
            scale += 1;
        }
        // As a decimal only within the digits the reader takes back (`Number::parse`): a
        // 31-digit decimal is refused there, while the same value as a fraction (each side at
        // most 30 digits) reads back.
        if d == 1
            && scale <= 12
            && let Some(m) = self.shift10(scale as i32).and_then(|v| v.to_integer())
            && m.unsigned_abs() < 10u128.pow(MAX_DIGITS as u32)
        {
            {
                let neg = m < 0;
                let digits = m.unsigned_abs().to_string();
                let width = scale as usize + 1;
                let padded = format!("{digits:0>width$}");
                let (int, frac) = padded.split_at(padded.len() - scale as usize);
                return write!(f, "{}{}.{}", if neg { "-" } else { "" }, int, frac);
            }
        }
        write!(f, "{}/{}", self.numer(), self.denom())
    }
}

impl serde::Serialize for Q {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

pub fn pow10(k: u32) -> Option<i128> {
    POW10.get(k as usize).copied()
}

const POW10: [i128; 39] = {
    let mut t = [1i128; 39];
    let mut i = 1;
    while i < 39 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

fn isqrt(n: i128) -> Option<i128> {
    if n < 0 {
        return None;
    }
    let mut r = (n as f64).sqrt() as i128;
    while r > 0 && r.checked_mul(r).is_none_or(|sq| sq > n) {
        r -= 1;
    }
    while (r + 1).checked_mul(r + 1).is_some_and(|sq| sq <= n) {
        r += 1;
    }
    (r * r == n).then_some(r)
}

/// How a number was written: what notation-level procedures look at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    Integer,
    /// `mantissa × 10^-scale` exactly as written: `2,50` is mantissa 250, scale 2.
    Decimal {
        mantissa: i128,
        scale: u8,
    },
    /// `num/den` as written, possibly unreduced.
    Fraction {
        num: i128,
        den: i128,
    },
    /// `whole num/den` (a mixed number), sign applying to all of it.
    Mixed {
        whole: i128,
        num: i128,
        den: i128,
    },
    /// A long decimal recognised as a float approximation of a simple fraction.
    Recovered,
}

/// A number with its written form.
#[derive(Clone, Copy, Debug)]
pub struct Number {
    pub value: Q,
    pub form: Form,
}

impl PartialEq for Number {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl Number {
    pub fn int(n: i128) -> Number {
        Number {
            value: Q::int(n),
            form: Form::Integer,
        }
    }
    pub fn from_q(value: Q) -> Number {
        let form = if value.is_integer() {
            Form::Integer
        } else {
            Form::Fraction {
                num: value.numer(),
                den: value.denom(),
            }
        };
        Number { value, form }
    }

    /// Decimal places as written (0 for integers and fractions).
    pub fn scale(&self) -> u8 {
        match self.form {
            Form::Decimal { scale, .. } => scale,
            _ => 0,
        }
    }
    /// The digits as written with the point removed: `2,5` -> 25 (what a student who ignores the
    /// point works with). Integers are their own mantissa.
    pub fn mantissa(&self) -> Option<i128> {
        match self.form {
            Form::Decimal { mantissa, .. } => Some(mantissa),
            _ => self.value.to_integer(),
        }
    }
    /// As a fraction n/d in the form written (unreduced when written so).
    pub fn fraction_parts(&self) -> (i128, i128) {
        match self.form {
            Form::Fraction { num, den } => (num, den),
            Form::Mixed { whole, num, den } => {
                let sign = if whole < 0 || (whole == 0 && num < 0) { -1 } else { 1 };
                (sign * (whole.abs() * den + num.abs()), den)
            }
            _ => (self.value.numer(), self.value.denom()),
        }
    }

    /// Reads a float that arrived as JSON. Non-finite values are refused. The float is printed in
    /// its shortest round-trip form first, so `0.1` is read as 1/10, not as the binary value.
    pub fn from_f64(x: f64) -> Result<Number, NumberError> {
        if !x.is_finite() {
            return Err(NumberError::NotFinite);
        }
        if x.abs() >= 1e30 {
            return Err(NumberError::TooLarge);
        }
        let text = format!("{x}");
        Number::parse(&text)
    }

    /// Parses a number as students and clients write it: `-27`, `3.75`, `3,75` (decimal comma),
    /// `1.234,5` (dot thousands), `8/15`, `2 1/2`, `1e3`, `−4` (Unicode minus), `x = 4`.
    pub fn parse(text: &str) -> Result<Number, NumberError> {
        let mut s = text.trim();
        if s.is_empty() {
            return Err(NumberError::Empty);
        }
        if s.len() > 200 {
            return Err(NumberError::TooLong);
        }
        // `x = 4`: an answer given as the solved equation.
        if let Some((lhs, rhs)) = s.split_once('=') {
            let lhs = lhs.trim();
            if lhs.chars().count() == 1 && lhs.chars().all(|c| c.is_alphabetic()) {
                s = rhs.trim();
            } else {
                return Err(NumberError::Invalid);
            }
        }
        let (neg, body) = strip_sign(s);
        let body = body.trim_start();
        if body.is_empty() {
            return Err(NumberError::Invalid);
        }
        let n = if let Some((whole, frac)) = body.split_once(' ') {
            let frac = frac.trim();
            let (num, den) = frac.split_once('/').ok_or(NumberError::Invalid)?;
            let whole = parse_digits(whole)?;
            let num = parse_digits(num.trim())?;
            let den = parse_digits(den.trim())?;
            if den == 0 {
                return Err(NumberError::ZeroDenominator);
            }
            let total = whole
                .checked_mul(den)
                .and_then(|w| w.checked_add(num))
                .ok_or(NumberError::TooLarge)?;
            let value = Q::new(total, den).ok_or(NumberError::TooLarge)?;
            Number {
                value,
                form: Form::Mixed { whole, num, den },
            }
        } else if let Some((num, den)) = body.split_once('/') {
            let num = parse_digits(num.trim())?;
            let den = parse_digits(den.trim())?;
            if den == 0 {
                return Err(NumberError::ZeroDenominator);
            }
            Number {
                value: Q::new(num, den).ok_or(NumberError::TooLarge)?,
                form: Form::Fraction { num, den },
            }
        } else {
            parse_decimal(body)?
        };
        // The digit limit is on the value too, not only on what was written: an exponent
        // (`2e30`), many decimals (a denominator of 10^30) or a mixed number can make more
        // digits than the text has, and the value printed (`Q`'s `Display`) must read back.
        let fits = |v: i128| v.unsigned_abs() < 10u128.pow(MAX_DIGITS as u32);
        if !fits(n.value.numer()) || !fits(n.value.denom()) {
            return Err(NumberError::TooLarge);
        }
        Ok(if neg { n.negated() } else { n })
    }

    pub fn negated(self) -> Number {
        let form = match self.form {
            Form::Decimal { mantissa, scale } => Form::Decimal {
                mantissa: -mantissa,
                scale,
            },
            Form::Fraction { num, den } => Form::Fraction { num: -num, den },
            Form::Mixed { whole, num, den } => Form::Mixed {
                whole: -whole,
                num: -num,
                den,
            },
            f => f,
        };
        Number {
            value: self.value.neg(),
            form,
        }
    }
}

fn strip_sign(s: &str) -> (bool, &str) {
    for (prefix, neg) in [("-", true), ("\u{2212}", true), ("\u{2013}", true), ("+", false)] {
        if let Some(rest) = s.strip_prefix(prefix) {
            return (neg, rest);
        }
    }
    (false, s)
}

fn parse_digits(s: &str) -> Result<i128, NumberError> {
    accumulate_digits(0, 0, s).map(|(v, _)| v)
}

/// Appends the digits of `s` to `acc` (which already has `significant` significant digits).
fn accumulate_digits(mut acc: i128, mut significant: usize, s: &str) -> Result<(i128, usize), NumberError> {
    if s.is_empty() {
        return Err(NumberError::Invalid);
    }
    for b in s.bytes() {
        if !b.is_ascii_digit() {
            return Err(NumberError::Invalid);
        }
        if acc != 0 || b != b'0' {
            significant += 1;
            if significant > MAX_DIGITS {
                return Err(NumberError::TooLarge);
            }
        }
        acc = acc * 10 + i128::from(b - b'0');
    }
    Ok((acc, significant))
}

/// Digits with at most one decimal separator, optional exponent.
fn parse_decimal(body: &str) -> Result<Number, NumberError> {
    let (mantissa_text, exp) = match body.find(['e', 'E']) {
        Some(i) => {
            let e: i32 = body[i + 1..].parse().map_err(|_| NumberError::Invalid)?;
            if e.abs() > MAX_DIGITS as i32 {
                return Err(NumberError::TooLarge);
            }
            (&body[..i], e)
        }
        None => (body, 0),
    };
    let has_dot = mantissa_text.contains('.');
    let has_comma = mantissa_text.contains(',');
    // `1.234,5`: Chilean thousands dots with a decimal comma. Otherwise either mark is a decimal
    // separator.
    let (mut mantissa, mut significant) = (0i128, 0usize);
    let frac_part = if has_dot && has_comma {
        let (i, f) = mantissa_text.rsplit_once(',').ok_or(NumberError::Invalid)?;
        for (k, group) in i.split('.').enumerate() {
            if k > 0 && group.len() != 3 {
                return Err(NumberError::Invalid);
            }
            (mantissa, significant) = accumulate_digits(mantissa, significant, group)?;
        }
        f
    } else if let Some((i, f)) = mantissa_text.split_once(['.', ',']) {
        if !i.is_empty() {
            (mantissa, significant) = accumulate_digits(mantissa, significant, i)?;
        } else if f.is_empty() {
            return Err(NumberError::Invalid);
        }
        f
    } else {
        (mantissa, significant) = accumulate_digits(mantissa, significant, mantissa_text)?;
        ""
    };
    if !frac_part.is_empty() {
        (mantissa, _) = accumulate_digits(mantissa, significant, frac_part)?;
    } else if mantissa_text.ends_with(['.', ',']) {
        return Err(NumberError::Invalid);
    }
    let scale = frac_part.len() as i32 - exp;
    let (mantissa, scale) = if scale < 0 {
        let m = mantissa.checked_mul(pow10(scale.unsigned_abs()).ok_or(NumberError::TooLarge)?);
        (m.ok_or(NumberError::TooLarge)?, 0)
    } else {
        (mantissa, scale as u32)
    };
    decimal(mantissa, scale)
}

/// `mantissa × 10^-scale` as written.
fn decimal(mantissa: i128, scale: u32) -> Result<Number, NumberError> {
    if scale > MAX_DIGITS as u32 {
        return Err(NumberError::TooLarge);
    }
    if scale == 0 {
        return Ok(Number::int(mantissa));
    }
    let value = Q::new(mantissa, pow10(scale).ok_or(NumberError::TooLarge)?).ok_or(NumberError::TooLarge)?;
    if scale as usize >= FLOAT_RECOVERY_MIN_DECIMALS
        && let Some(r) = recover_float(value, scale)
    {
        return Ok(Number {
            value: r,
            form: Form::Recovered,
        });
    }
    Ok(Number {
        value,
        form: Form::Decimal {
            mantissa,
            scale: scale as u8,
        },
    })
}

impl Number {
    /// A non-negative number from its integer and fractional digits (ASCII digits only), as a
    /// tokenizer that has already found them has them.
    pub fn from_digits(int: &str, frac: &str) -> Result<Number, NumberError> {
        let (mantissa, significant) = accumulate_digits(0, 0, int)?;
        if frac.is_empty() {
            return Ok(Number::int(mantissa));
        }
        let (mantissa, _) = accumulate_digits(mantissa, significant, frac)?;
        decimal(mantissa, frac.len() as u32)
    }
}

/// The simplest fraction within one unit of the last printed decimal place of `x`, if its
/// denominator is small: a float printed as `13.333333333333334` was 40/3.
fn recover_float(x: Q, scale: u32) -> Option<Q> {
    let eps = Q::new(1, pow10(scale)?)?;
    let r = simplest_between(x.sub(eps)?, x.add(eps)?)?;
    (r.denom() <= FLOAT_RECOVERY_MAX_DENOM && r.denom() < x.denom()).then_some(r)
}

/// The rational with the smallest denominator in the closed interval [lo, hi] (Stern–Brocot,
/// by continued fractions).
pub fn simplest_between(lo: Q, hi: Q) -> Option<Q> {
    if lo > hi {
        return None;
    }
    if lo.is_negative() && !hi.is_negative() {
        return Some(Q::ZERO);
    }
    if hi.is_negative() {
        return simplest_between(hi.neg(), lo.neg()).map(Q::neg);
    }
    simplest_nonneg(lo, hi, 0)
}

fn simplest_nonneg(lo: Q, hi: Q, depth: u32) -> Option<Q> {
    if depth > 200 {
        return None;
    }
    let fl = lo.floor();
    if lo.is_integer() {
        return Some(lo);
    }
    if Q::int(fl + 1) <= hi {
        return Some(Q::int(fl + 1));
    }
    let base = Q::int(fl);
    let inner = simplest_nonneg(hi.sub(base)?.recip()?, lo.sub(base)?.recip()?, depth + 1)?;
    base.add(inner.recip()?)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error, serde::Serialize)]
pub enum NumberError {
    #[error("empty number")]
    Empty,
    #[error("not a number")]
    Invalid,
    #[error("number too long")]
    TooLong,
    #[error("number out of range (more than {MAX_DIGITS} digits)")]
    TooLarge,
    #[error("not a finite number")]
    NotFinite,
    #[error("zero denominator")]
    ZeroDenominator,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(n: i128, d: i128) -> Q {
        Q::new(n, d).unwrap()
    }

    #[test]
    fn decimal_comma_and_point_are_the_same_value() {
        assert_eq!(Number::parse("0,1").unwrap().value, q(1, 10));
        assert_eq!(Number::parse("0.1").unwrap().value, q(1, 10));
        assert_eq!(Number::parse("1/10").unwrap().value, q(1, 10));
        assert_eq!(Number::parse("1.234,5").unwrap().value, q(12345, 10));
        assert_eq!(Number::parse("−4").unwrap().value, Q::int(-4));
        assert_eq!(Number::parse("x = 4").unwrap().value, Q::int(4));
        assert_eq!(Number::parse("2 1/2").unwrap().value, q(5, 2));
        assert_eq!(Number::parse("-2 1/2").unwrap().value, q(-5, 2));
        assert_eq!(Number::parse("1e3").unwrap().value, Q::int(1000));
    }

    #[test]
    fn written_form_is_kept() {
        assert_eq!(
            Number::parse("2,50").unwrap().form,
            Form::Decimal {
                mantissa: 250,
                scale: 2
            }
        );
        assert_eq!(
            Number::parse("10/12").unwrap().form,
            Form::Fraction { num: 10, den: 12 }
        );
        assert_eq!(Number::parse("10/12").unwrap().value, q(5, 6));
    }

    #[test]
    fn floats_printed_in_full_are_read_as_their_fraction() {
        assert_eq!(Number::from_f64(0.5333333333333333).unwrap().value, q(8, 15));
        assert_eq!(Number::from_f64(0.8333333333333334).unwrap().value, q(5, 6));
        assert_eq!(Number::from_f64(13.333333333333334).unwrap().value, q(40, 3));
        assert_eq!(Number::from_f64(0.1).unwrap().value, q(1, 10));
        assert_eq!(Number::from_f64(3.75).unwrap().value, q(15, 4));
        // A typed decimal with few places stays what it is.
        assert_eq!(Number::parse("3.14159").unwrap().value, q(314159, 100000));
    }

    #[test]
    fn bad_numbers_are_errors_not_panics() {
        assert_eq!(Number::parse(""), Err(NumberError::Empty));
        assert_eq!(Number::parse("abc"), Err(NumberError::Invalid));
        assert_eq!(Number::parse("1/0"), Err(NumberError::ZeroDenominator));
        assert_eq!(Number::parse(&"9".repeat(40)), Err(NumberError::TooLarge));
        assert_eq!(Number::from_f64(f64::NAN), Err(NumberError::NotFinite));
        assert_eq!(Number::from_f64(f64::INFINITY), Err(NumberError::NotFinite));
        assert_eq!(Number::from_f64(1e40), Err(NumberError::TooLarge));
        assert!(Number::parse("1e99999").is_err());
        // No value with more digits than may be written (found by fuzzing: each printed as a
        // fraction that did not read back).
        assert_eq!(Number::parse("2e30"), Err(NumberError::TooLarge));
        assert_eq!(Number::parse("0,5e31"), Err(NumberError::TooLarge));
        assert_eq!(
            Number::parse("0,000444444444444444440008974577"),
            Err(NumberError::TooLarge)
        );
        let most = "9".repeat(MAX_DIGITS);
        assert_eq!(Number::parse(&format!("{most} 1/7")), Err(NumberError::TooLarge));
        assert!(Number::parse(&format!("-{most}")).is_ok());
        assert_eq!(
            Number::parse("9e29").unwrap().value.to_string(),
            format!("9{}", "0".repeat(29))
        );
        assert!(Number::parse("-").is_err());
        assert!(Number::parse("1.2.3").is_err());
    }

    #[test]
    fn display_prefers_decimals_when_exact() {
        assert_eq!(q(15, 4).to_string(), "3.75");
        assert_eq!(q(-1, 20).to_string(), "-0.05");
        assert_eq!(q(8, 15).to_string(), "8/15");
        assert_eq!(Q::int(-27).to_string(), "-27");
        // More digits than the reader takes as a decimal: a fraction (found by fuzzing).
        let n = Number::parse("0444444444444444444444444442222/4").unwrap();
        assert_eq!(n.value.to_string(), "222222222222222222222222221111/2");
        assert_eq!(Number::parse(&n.value.to_string()).unwrap(), n);
    }
}
