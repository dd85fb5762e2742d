//! The glyphs the reader knows and the bitmap a glyph is handed over in.
//!
//! [`Glyph`] lists every symbol a line of school arithmetic can hold, each with a stable index
//! and its text. The classifier sees only a glyph's *shape*, scaled to a fixed size, so symbols
//! that differ only by size or position in the line share one network class:
//!
//! * `.` and `·` (and `•`) are one class, [`Glyph::Dot`]: a filled blob. The reader tells them
//!   apart by vertical position (on the baseline: `.`; at mid-height: `·`, a multiplication).
//! * Everything else is a class of its own, but a few classes need the reader's geometry as well:
//!   a [`Glyph::Comma`] is a short hooked stroke much like a small `)` or `/`, and a `-` is a flat
//!   bar whatever its length; see [`Glyph::is_small`].
//!
//! The network's classes are the first [`NUM_CLASSES`] variants in index order; [`Glyph::MidDot`]
//! comes last and shares [`Glyph::Dot`]'s output.

/// Every symbol a line can hold. The discriminant is the stable index (`Glyph::index`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Glyph {
    Digit0 = 0,
    Digit1,
    Digit2,
    Digit3,
    Digit4,
    Digit5,
    Digit6,
    Digit7,
    Digit8,
    Digit9,
    /// `+`
    Plus,
    /// `-`
    Minus,
    /// `×`: the cross and the letter-like `x` a student writes for a product.
    Times,
    /// `÷`: a bar with a dot above and below (merged by the segmenter).
    Divide,
    /// `:` as a division: two dots one above the other (merged by the segmenter).
    Colon,
    /// `/`
    Slash,
    /// `=`: two bars (merged by the segmenter).
    Equals,
    /// `(`
    LeftParen,
    /// `)`
    RightParen,
    /// `,` as a decimal separator.
    Comma,
    /// `.`, a decimal point on the baseline; also the network class of every dot (see `MidDot`).
    Dot,
    /// `%`
    Percent,
    /// `·` or `•` at mid-height, a product. Not a network class: the network says [`Glyph::Dot`]
    /// and the reader decides by the dot's height in the line.
    MidDot,
}

/// How many outputs the network has: every glyph but [`Glyph::MidDot`].
pub const NUM_CLASSES: usize = 22;

impl Glyph {
    /// Every glyph in index order.
    pub const ALL: [Glyph; 23] = [
        Glyph::Digit0,
        Glyph::Digit1,
        Glyph::Digit2,
        Glyph::Digit3,
        Glyph::Digit4,
        Glyph::Digit5,
        Glyph::Digit6,
        Glyph::Digit7,
        Glyph::Digit8,
        Glyph::Digit9,
        Glyph::Plus,
        Glyph::Minus,
        Glyph::Times,
        Glyph::Divide,
        Glyph::Colon,
        Glyph::Slash,
        Glyph::Equals,
        Glyph::LeftParen,
        Glyph::RightParen,
        Glyph::Comma,
        Glyph::Dot,
        Glyph::Percent,
        Glyph::MidDot,
    ];

    /// The operators and punctuation the training program synthesises from strokes (the digits
    /// come from MNIST); every network class that is not a digit.
    pub const SYNTHESISED: [Glyph; 12] = [
        Glyph::Plus,
        Glyph::Minus,
        Glyph::Times,
        Glyph::Divide,
        Glyph::Colon,
        Glyph::Slash,
        Glyph::Equals,
        Glyph::LeftParen,
        Glyph::RightParen,
        Glyph::Comma,
        Glyph::Dot,
        Glyph::Percent,
    ];

    /// The stable index (0..23); digits are their value.
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The glyph with this stable index.
    pub fn from_index(index: usize) -> Option<Glyph> {
        Glyph::ALL.get(index).copied()
    }

    /// The network output this glyph is read from (`MidDot` shares `Dot`'s).
    pub const fn class(self) -> usize {
        match self {
            Glyph::MidDot => Glyph::Dot as usize,
            other => other as usize,
        }
    }

    /// The glyph a network output stands for (`Dot` for the dot class).
    pub fn from_class(class: usize) -> Option<Glyph> {
        if class < NUM_CLASSES {
            Glyph::from_index(class)
        } else {
            None
        }
    }

    /// The digit 0..9 of this glyph.
    pub fn digit(d: u8) -> Option<Glyph> {
        Glyph::from_index(usize::from(d)).filter(|g| g.is_digit())
    }

    /// Its value if it is a digit.
    pub fn digit_value(self) -> Option<u8> {
        if self.is_digit() { Some(self as u8) } else { None }
    }

    pub const fn is_digit(self) -> bool {
        (self as u8) <= 9
    }

    /// The text it reads as. `Times` is `×` and `MidDot` is `·` whatever the student drew.
    pub const fn text(self) -> char {
        match self {
            Glyph::Digit0 => '0',
            Glyph::Digit1 => '1',
            Glyph::Digit2 => '2',
            Glyph::Digit3 => '3',
            Glyph::Digit4 => '4',
            Glyph::Digit5 => '5',
            Glyph::Digit6 => '6',
            Glyph::Digit7 => '7',
            Glyph::Digit8 => '8',
            Glyph::Digit9 => '9',
            Glyph::Plus => '+',
            Glyph::Minus => '-',
            Glyph::Times => '×',
            Glyph::Divide => '÷',
            Glyph::Colon => ':',
            Glyph::Slash => '/',
            Glyph::Equals => '=',
            Glyph::LeftParen => '(',
            Glyph::RightParen => ')',
            Glyph::Comma => ',',
            Glyph::Dot => '.',
            Glyph::Percent => '%',
            Glyph::MidDot => '·',
        }
    }

    /// The glyph a text reads as: the inverse of [`Glyph::text`], plus the variants a class
    /// covers (`x`, `X`, `*` for `×`; `•`, `∙`, `⋅` for `·`; `−` for `-`).
    pub fn from_text(c: char) -> Option<Glyph> {
        let glyph = match c {
            '0'..='9' => return Glyph::digit(c as u8 - b'0'),
            '+' => Glyph::Plus,
            '-' | '−' | '–' => Glyph::Minus,
            '×' | 'x' | 'X' | '*' => Glyph::Times,
            '÷' => Glyph::Divide,
            ':' => Glyph::Colon,
            '/' => Glyph::Slash,
            '=' => Glyph::Equals,
            '(' => Glyph::LeftParen,
            ')' => Glyph::RightParen,
            ',' => Glyph::Comma,
            '.' => Glyph::Dot,
            '%' => Glyph::Percent,
            '·' | '•' | '∙' | '⋅' => Glyph::MidDot,
            _ => return None,
        };
        Some(glyph)
    }

    /// A dot: `.` or `·`, one network class; the reader decides by vertical position.
    pub const fn is_dot_like(self) -> bool {
        matches!(self, Glyph::Dot | Glyph::MidDot)
    }

    /// Glyphs written much smaller than a digit (dots and the comma). Scaled to the network's
    /// input they are as large as any other, so the reader should check a glyph's height against
    /// the line's digit height: a small glyph the network calls `1`, `/` or `)` is likely a comma,
    /// and a large "dot" is likely a filled `0`.
    pub const fn is_small(self) -> bool {
        matches!(self, Glyph::Dot | Glyph::MidDot | Glyph::Comma)
    }

    /// Binary operators of a line (`+ - × · ÷ : /`).
    pub const fn is_operator(self) -> bool {
        matches!(
            self,
            Glyph::Plus | Glyph::Minus | Glyph::Times | Glyph::MidDot | Glyph::Divide | Glyph::Colon | Glyph::Slash
        )
    }
}

impl std::fmt::Display for Glyph {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.text())
    }
}

/// A grayscale bitmap of one glyph (or of a canvas synthesised strokes are drawn on), row-major,
/// **ink high**: 0 is paper, 255 full ink. Any size; [`crate::classifier::normalize`] scales it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrayBitmap {
    width: usize,
    height: usize,
    pixels: Vec<u8>,
}

/// A bitmap's pixels do not match its dimensions.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a {width}×{height} bitmap needs {} pixels, got {len}", width * height)]
pub struct BitmapSizeError {
    pub width: usize,
    pub height: usize,
    pub len: usize,
}

impl GrayBitmap {
    /// A bitmap from row-major pixels, ink high; `pixels.len()` must be `width * height`.
    pub fn new(width: usize, height: usize, pixels: Vec<u8>) -> Result<GrayBitmap, BitmapSizeError> {
        if width.checked_mul(height) != Some(pixels.len()) {
            return Err(BitmapSizeError {
                width,
                height,
                len: pixels.len(),
            });
        }
        Ok(GrayBitmap { width, height, pixels })
    }

    /// A blank (inkless) bitmap.
    pub fn blank(width: usize, height: usize) -> GrayBitmap {
        GrayBitmap {
            width,
            height,
            pixels: vec![0; width * height],
        }
    }

    /// A bitmap whose pixel (x, y) is `ink(x, y)`.
    pub fn from_fn(width: usize, height: usize, mut ink: impl FnMut(usize, usize) -> u8) -> GrayBitmap {
        let mut pixels = Vec::with_capacity(width * height);
        for y in 0..height {
            for x in 0..width {
                pixels.push(ink(x, y));
            }
        }
        GrayBitmap { width, height, pixels }
    }

    pub fn width(&self) -> usize {
        self.width
    }

    pub fn height(&self) -> usize {
        self.height
    }

    /// Row-major pixels, ink high.
    pub fn pixels(&self) -> &[u8] {
        &self.pixels
    }

    pub fn into_pixels(self) -> Vec<u8> {
        self.pixels
    }

    /// The ink at (x, y); 0 outside the bitmap.
    pub fn get(&self, x: usize, y: usize) -> u8 {
        if x < self.width && y < self.height {
            self.pixels[y * self.width + x]
        } else {
            0
        }
    }

    /// Sets the ink at (x, y); ignored outside the bitmap.
    pub fn set(&mut self, x: usize, y: usize, ink: u8) {
        if x < self.width && y < self.height {
            self.pixels[y * self.width + x] = ink;
        }
    }

    /// The smallest rectangle `(x0, y0, x1, y1)` (exclusive ends) holding every pixel with more
    /// ink than `threshold`; `None` for a blank bitmap.
    pub fn ink_bounds(&self, threshold: u8) -> Option<(usize, usize, usize, usize)> {
        let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0, 0);
        for y in 0..self.height {
            for x in 0..self.width {
                if self.pixels[y * self.width + x] > threshold {
                    x0 = x0.min(x);
                    y0 = y0.min(y);
                    x1 = x1.max(x + 1);
                    y1 = y1.max(y + 1);
                }
            }
        }
        (x1 > 0).then_some((x0, y0, x1, y1))
    }

    /// The part of the bitmap inside its ink bounds (a blank bitmap stays as it is).
    pub fn cropped(&self) -> GrayBitmap {
        match self.ink_bounds(0) {
            Some((x0, y0, x1, y1)) => GrayBitmap::from_fn(x1 - x0, y1 - y0, |x, y| self.get(x0 + x, y0 + y)),
            None => self.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indices_are_stable_and_classes_cover_every_glyph() {
        for (i, g) in Glyph::ALL.iter().enumerate() {
            assert_eq!(g.index(), i);
            assert_eq!(Glyph::from_index(i), Some(*g));
            assert!(g.class() < NUM_CLASSES);
            assert_eq!(Glyph::from_text(g.text()), Some(*g));
        }
        assert_eq!(Glyph::MidDot.class(), Glyph::Dot.class());
        assert_eq!(Glyph::from_class(NUM_CLASSES), None);
        assert_eq!(Glyph::from_text('x'), Some(Glyph::Times));
        assert_eq!(Glyph::from_text('•'), Some(Glyph::MidDot));
        assert_eq!(Glyph::digit(7).and_then(Glyph::digit_value), Some(7));
        assert_eq!(Glyph::digit(10), None);
        assert!(Glyph::Dot.is_dot_like() && Glyph::MidDot.is_dot_like() && !Glyph::Comma.is_dot_like());
        let synthesised: usize = Glyph::SYNTHESISED.len();
        assert_eq!(synthesised + 10, NUM_CLASSES);
    }

    #[test]
    fn a_bitmap_checks_its_size_and_crops_to_its_ink() {
        assert!(GrayBitmap::new(3, 2, vec![0; 5]).is_err());
        let mut b = GrayBitmap::blank(10, 8);
        assert_eq!(b.ink_bounds(0), None);
        b.set(3, 2, 200);
        b.set(6, 4, 10);
        b.set(99, 99, 255); // outside: ignored
        assert_eq!(b.ink_bounds(0), Some((3, 2, 7, 5)));
        let c = b.cropped();
        assert_eq!((c.width(), c.height()), (4, 3));
        assert_eq!(c.get(0, 0), 200);
        assert_eq!(c.get(3, 2), 10);
    }
}
