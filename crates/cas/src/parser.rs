//! Recursive-descent parser for the LaTeX subset.
//!
//! Precedence, lowest first: relations; `+ - \pm`; `\cdot \times \div : /` and implicit
//! multiplication (`2x`, `3(x+1)`); unary minus; `^` (right-associative); atoms. So `-x^2`
//! is `-(x^2)` and `2^3^2` is `2^(3^2)`, as in school.
//!
//! The input length and nesting depth are bounded so that hostile input produces an error
//! instead of exhausting the stack.

use crate::ast::{Expr, RelOp, Statement};
use crate::error::ParseError;
use crate::lexer::{Tok, Token, tokenize};
use crate::number::Rational;

/// Longest accepted input in bytes.
pub const MAX_INPUT_LEN: usize = 1_000;
/// Deepest accepted nesting (parentheses, groups, unary minus chains, exponents).
pub const MAX_DEPTH: usize = 64;
/// Tallest accepted expression tree. `1+1+...+1` nests left, so its height grows with the
/// number of terms although the source has no parentheses.
pub const MAX_TREE_HEIGHT: usize = 200;

/// Height of `e`, computed with an explicit stack so that it cannot overflow itself.
fn height(e: &Expr) -> usize {
    let mut max = 0;
    let mut stack = vec![(e, 1usize)];
    while let Some((e, h)) = stack.pop() {
        max = max.max(h);
        match e {
            Expr::Num(_) | Expr::Var(_) => {}
            Expr::Neg(a) | Expr::Percent(a) => stack.push((a, h + 1)),
            Expr::Add(a, b)
            | Expr::Sub(a, b)
            | Expr::PlusMinus(a, b)
            | Expr::Mul(a, b)
            | Expr::Div(a, b)
            | Expr::Pow(a, b)
            | Expr::Root(a, b) => {
                stack.push((a, h + 1));
                stack.push((b, h + 1));
            }
        }
    }
    max
}

fn check_height(e: &Expr) -> Result<(), ParseError> {
    if height(e) > MAX_TREE_HEIGHT {
        return Err(ParseError::TooComplex { max: MAX_TREE_HEIGHT });
    }
    Ok(())
}

/// Most equations in a system.
pub const MAX_SYSTEM_LEN: usize = 8;

/// Parses one statement: an expression (`3 + 4 \cdot 2`), a relation (`2x+3=11`,
/// `x \ge 4`), or a system of relations separated by `\\`, `,` or `;`
/// (`x + y = 5 \\ x - y = 1`, also inside `\begin{cases} ... \end{cases}`).
pub fn parse(input: &str) -> Result<Statement, ParseError> {
    let mut p = Parser::new(input)?;
    let first = p.statement()?;
    if matches!(first, Statement::Relation { .. }) && p.at_separator() {
        let mut equations = vec![first];
        while p.at_separator() {
            p.next();
            // A trailing `\\` before `\end{cases}` is common.
            if *p.peek() == Tok::Eof {
                break;
            }
            let pos = p.pos();
            let s = p.statement()?;
            if !matches!(s, Statement::Relation { .. }) {
                return Err(ParseError::Expected {
                    pos,
                    expected: "an equation".into(),
                });
            }
            if equations.len() == MAX_SYSTEM_LEN {
                return Err(ParseError::Expected {
                    pos,
                    expected: format!("at most {MAX_SYSTEM_LEN} equations"),
                });
            }
            equations.push(s);
        }
        p.expect_end()?;
        return Ok(if equations.len() == 1 {
            equations.remove(0)
        } else {
            Statement::System(equations)
        });
    }
    p.expect_end()?;
    Ok(first)
}

/// Parses an expression; a relation is an error.
pub fn parse_expr(input: &str) -> Result<Expr, ParseError> {
    let mut p = Parser::new(input)?;
    let e = p.expr()?;
    p.expect_end()?;
    check_height(&e)?;
    Ok(e)
}

/// Parses an answer that may list several statements: `x=2, x=3`, `x = 3 \text{ o } x = 2`,
/// `2; 3`, `x = 2 \\ y = 3`, `x = 2 \text{ y } y = 3`, `(2, 3)` (a point: its coordinates
/// are listed as expressions). Note that `2,3` (no space) is the decimal 2.3.
pub fn parse_list(input: &str) -> Result<Vec<Statement>, ParseError> {
    let mut p = Parser::new(input)?;
    // `(2, 3)`: the parentheses of a point group nothing; read the coordinates.
    let point = *p.peek() == Tok::LParen && p.is_point();
    if point {
        p.next();
    }
    let mut out = vec![p.statement()?];
    while p.at_separator() || *p.peek() == Tok::Or {
        p.next();
        if *p.peek() == Tok::Eof || (point && *p.peek() == Tok::RParen) {
            break;
        }
        out.push(p.statement()?);
    }
    if point {
        p.expect(Tok::RParen, "')'")?;
    }
    p.expect_end()?;
    Ok(out)
}

struct Parser<'a> {
    src: &'a str,
    toks: Vec<Token>,
    i: usize,
    depth: usize,
}

impl<'a> Parser<'a> {
    fn new(input: &'a str) -> Result<Self, ParseError> {
        if input.len() > MAX_INPUT_LEN {
            return Err(ParseError::TooLong {
                len: input.len(),
                max: MAX_INPUT_LEN,
            });
        }
        Ok(Parser {
            src: input,
            toks: tokenize(input)?,
            i: 0,
            depth: 0,
        })
    }

    fn peek(&self) -> &Tok {
        &self.toks[self.i].tok
    }

    fn pos(&self) -> usize {
        self.toks[self.i].pos
    }

    fn next(&mut self) -> Tok {
        let t = self.toks[self.i].tok.clone();
        if self.i + 1 < self.toks.len() {
            self.i += 1;
        }
        t
    }

    fn err<T>(&self, expected: &str) -> Result<T, ParseError> {
        Err(ParseError::Expected {
            pos: self.pos(),
            expected: expected.to_string(),
        })
    }

    fn expect(&mut self, tok: Tok, what: &str) -> Result<(), ParseError> {
        if *self.peek() == tok {
            self.next();
            Ok(())
        } else {
            self.err(what)
        }
    }

    fn expect_end(&self) -> Result<(), ParseError> {
        if *self.peek() == Tok::Eof {
            Ok(())
        } else {
            self.err("an operator or the end of the input")
        }
    }

    fn at_separator(&self) -> bool {
        matches!(self.peek(), Tok::Comma | Tok::Semicolon | Tok::RowSep)
    }

    /// Whether the `(` here opens a point `(a, b)`: a top-level comma or semicolon before its
    /// matching `)`, which closes the input.
    fn is_point(&self) -> bool {
        let mut level = 0usize;
        let mut comma = false;
        for (k, t) in self.toks.iter().enumerate().skip(self.i) {
            match t.tok {
                Tok::LParen | Tok::LBracket | Tok::LBrace => level += 1,
                Tok::RParen | Tok::RBracket | Tok::RBrace => {
                    level = level.saturating_sub(1);
                    if level == 0 {
                        return comma
                            && t.tok == Tok::RParen
                            && self.toks.get(k + 1).is_some_and(|n| n.tok == Tok::Eof);
                    }
                }
                Tok::Comma | Tok::Semicolon if level == 1 => comma = true,
                _ => {}
            }
        }
        false
    }

    /// The digits of the integer literal at token `k`, if it is one (`12`, not `1,5` or `.5`).
    fn integer_literal(&self, k: usize) -> Option<&'a str> {
        let t = self.toks.get(k)?;
        if !matches!(t.tok, Tok::Num(_)) {
            return None;
        }
        let rest = &self.src[t.pos..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let b = rest.as_bytes();
        let decimal = b.len() > digits + 1 && matches!(b[digits], b'.' | b',') && b[digits + 1].is_ascii_digit();
        (digits > 0 && !decimal).then(|| &rest[..digits])
    }

    /// TeX reads an unbraced argument as one character, so `\frac12` is 1/2: split the
    /// integer literal here into its first digit and the rest.
    fn split_first_digit(&mut self) {
        let Some(digits) = self.integer_literal(self.i) else {
            return;
        };
        if digits.len() < 2 {
            return;
        }
        let pos = self.toks[self.i].pos;
        let value = |d: &str| Rational::from_decimal(d, "").unwrap_or(Rational::ZERO);
        let (first, rest) = digits.split_at(1);
        self.toks[self.i].tok = Tok::Num(value(first));
        self.toks.insert(
            self.i + 1,
            Token {
                tok: Tok::Num(value(rest)),
                pos: pos + 1,
            },
        );
    }

    /// A `%` after a factor: `15\%` is 15/100.
    fn percent(&mut self, e: Expr) -> Expr {
        if *self.peek() == Tok::Percent {
            self.next();
            return Expr::Percent(Box::new(e));
        }
        e
    }

    fn enter(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ParseError::TooDeep {
                pos: self.pos(),
                max: MAX_DEPTH,
            });
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    fn statement(&mut self) -> Result<Statement, ParseError> {
        if *self.peek() == Tok::EmptySet {
            self.next();
            return Ok(Statement::EmptySet);
        }
        if *self.peek() == Tok::Reals {
            self.next();
            return Ok(Statement::AllReals);
        }
        let lhs = self.expr()?;
        check_height(&lhs)?;
        let op = match self.peek() {
            Tok::Eq => RelOp::Eq,
            Tok::Lt => RelOp::Lt,
            Tok::Gt => RelOp::Gt,
            Tok::Le => RelOp::Le,
            Tok::Ge => RelOp::Ge,
            _ => return Ok(Statement::Expr(lhs)),
        };
        self.next();
        let rhs = self.expr()?;
        check_height(&rhs)?;
        Ok(Statement::Relation { lhs, op, rhs })
    }

    fn expr(&mut self) -> Result<Expr, ParseError> {
        self.enter()?;
        let mut lhs = self.term()?;
        loop {
            let make: fn(Box<Expr>, Box<Expr>) -> Expr = match self.peek() {
                Tok::Plus => Expr::Add,
                Tok::Minus => Expr::Sub,
                Tok::PlusMinus => Expr::PlusMinus,
                _ => break,
            };
            self.next();
            let rhs = self.term()?;
            lhs = make(Box::new(lhs), Box::new(rhs));
        }
        self.leave();
        Ok(lhs)
    }

    fn term(&mut self) -> Result<Expr, ParseError> {
        let first = self.unary()?;
        let mut lhs = self.percent(first);
        loop {
            match self.peek() {
                Tok::Times | Tok::Of => {
                    self.next();
                    let rhs = self.unary()?;
                    lhs = Expr::Mul(Box::new(lhs), Box::new(self.percent(rhs)));
                }
                Tok::Divide => {
                    self.next();
                    let rhs = self.unary()?;
                    lhs = Expr::Div(Box::new(lhs), Box::new(self.percent(rhs)));
                }
                // Implicit multiplication: `2x`, `3(x+1)`, `x\sqrt{2}`. A number right after
                // something else (`x2`, `2 3`) is rejected as almost certainly a typo.
                Tok::Var(_) | Tok::LParen | Tok::Frac | Tok::Sqrt | Tok::LBrace => {
                    let rhs = self.power()?;
                    lhs = Expr::Mul(Box::new(lhs), Box::new(self.percent(rhs)));
                }
                _ => break,
            }
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> Result<Expr, ParseError> {
        self.enter()?;
        let e = match self.peek() {
            Tok::Minus => {
                self.next();
                Expr::Neg(Box::new(self.unary()?))
            }
            Tok::Plus => {
                self.next();
                self.unary()?
            }
            // `x = \pm 3` in answers means `0 ± 3`.
            Tok::PlusMinus => {
                self.next();
                Expr::PlusMinus(Box::new(Expr::num(0)), Box::new(self.unary()?))
            }
            _ => self.power()?,
        };
        self.leave();
        Ok(e)
    }

    fn power(&mut self) -> Result<Expr, ParseError> {
        let base = self.primary()?;
        if *self.peek() == Tok::Caret {
            self.next();
            let exp = self.exponent()?;
            return Ok(Expr::Pow(Box::new(base), Box::new(exp)));
        }
        Ok(base)
    }

    /// What follows `^`: a group `{...}`, a signed atom (`x^-1`), or an atom with its own `^`.
    fn exponent(&mut self) -> Result<Expr, ParseError> {
        self.enter()?;
        let e = if *self.peek() == Tok::Minus {
            self.next();
            Expr::Neg(Box::new(self.exponent()?))
        } else {
            self.power()?
        };
        self.leave();
        Ok(e)
    }

    /// A `{...}` group or a single atom, as LaTeX command arguments may be.
    fn argument(&mut self) -> Result<Expr, ParseError> {
        if *self.peek() == Tok::LBrace {
            self.next();
            let e = self.expr()?;
            self.expect(Tok::RBrace, "'}'")?;
            Ok(e)
        } else {
            self.primary()
        }
    }

    /// `\frac{a}{b}`, from the `\frac` token.
    fn frac(&mut self) -> Result<Expr, ParseError> {
        self.next();
        let mut args = Vec::with_capacity(2);
        for _ in 0..2 {
            if *self.peek() == Tok::Eof {
                return self.err("'{'");
            }
            self.split_first_digit();
            args.push(self.argument()?);
        }
        let den = args.pop().unwrap_or(Expr::num(1));
        let num = args.pop().unwrap_or(Expr::num(1));
        Ok(Expr::Div(Box::new(num), Box::new(den)))
    }

    /// `2\frac{1}{2}` is the mixed number 5/2 when an integer literal is followed by a proper
    /// fraction of integer literals; otherwise (`2\frac{x}{2}`, `2\frac{3}{2}`) the `\frac`
    /// is left to implicit multiplication.
    fn mixed_number(&mut self, whole: &Rational) -> Result<Option<Expr>, ParseError> {
        let save = self.i;
        let frac = self.frac()?;
        if let Expr::Div(n, d) = &frac
            && let (Expr::Num(n), Expr::Num(d)) = (&**n, &**d)
            && n.is_integer()
            && n.is_positive()
            && n < d
        {
            let value = whole.checked_add(n.checked_div(d).map_err(|_| self.too_large(save))?);
            return Ok(Some(Expr::Num(value.map_err(|_| self.too_large(save))?)));
        }
        self.i = save;
        Ok(None)
    }

    fn too_large(&self, k: usize) -> ParseError {
        ParseError::NumberTooLarge { pos: self.toks[k].pos }
    }

    fn primary(&mut self) -> Result<Expr, ParseError> {
        match self.peek().clone() {
            Tok::Num(r) => {
                let k = self.i;
                self.next();
                if *self.peek() == Tok::Frac
                    && self.integer_literal(k).is_some()
                    && let Some(mixed) = self.mixed_number(&r)?
                {
                    return Ok(mixed);
                }
                Ok(Expr::Num(r))
            }
            Tok::Var(c) => {
                self.next();
                Ok(Expr::Var(c))
            }
            Tok::LParen => {
                self.next();
                let e = self.expr()?;
                self.expect(Tok::RParen, "')'")?;
                Ok(e)
            }
            Tok::LBracket => {
                self.next();
                let e = self.expr()?;
                self.expect(Tok::RBracket, "']'")?;
                Ok(e)
            }
            Tok::LBrace => self.argument(),
            Tok::Frac => self.frac(),
            Tok::Sqrt => {
                self.next();
                let index = if *self.peek() == Tok::LBracket {
                    self.next();
                    let e = self.expr()?;
                    self.expect(Tok::RBracket, "']'")?;
                    e
                } else {
                    Expr::num(2)
                };
                if *self.peek() == Tok::Eof {
                    return self.err("'{'");
                }
                let radicand = self.argument()?;
                Ok(Expr::Root(Box::new(index), Box::new(radicand)))
            }
            _ => self.err("a number, a variable or '('"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(s: &str) -> String {
        parse(s).unwrap().to_string()
    }

    #[test]
    fn precedence_and_forms() {
        assert_eq!(show("2x+3=11"), "2x + 3 = 11");
        assert_eq!(show("3(x+1)"), "3 · (x + 1)");
        assert_eq!(show("-x^2"), "-x^2");
        assert_eq!(show("2^3^2"), "2^(3^2)");
        assert_eq!(show("\\frac{8}{2}"), "8 / 2");
        assert_eq!(show("3,5 + 0.5"), "7/2 + 1/2");
        assert_eq!(show("12 : 4 \\cdot 3"), "12 / 4 · 3");
        assert_eq!(show("\\left(1+2\\right)\\times 3"), "(1 + 2) · 3");
        assert_eq!(show("x \\geq 4"), "x ≥ 4");
        assert_eq!(show("\\sqrt[3]{8}"), "root[3](8)");
        assert_eq!(show("x^{-1}"), "x^(-1)");
        // A fraction divisor keeps its brackets: `1/5 / 11/50` would be 1/5 ÷ 11 ÷ 50.
        assert_eq!(show(".2 / .22"), "1/5 / (11/50)");
        assert_eq!(show("3,5 : 0,5"), "7/2 / (1/2)");
    }

    #[test]
    fn errors_have_positions() {
        assert_eq!(
            parse("2x + 3 = ").unwrap_err().to_string(),
            "expected a number, a variable or '(' at 9"
        );
        assert_eq!(
            parse("(1+2").unwrap_err(),
            ParseError::Expected {
                pos: 4,
                expected: "')'".into()
            }
        );
        assert!(matches!(
            parse("\\foo{x}"),
            Err(ParseError::UnknownCommand { pos: 0, .. })
        ));
        assert!(matches!(
            parse("2 # 3"),
            Err(ParseError::UnexpectedChar { pos: 2, ch: '#' })
        ));
    }

    #[test]
    fn limits() {
        let deep = format!("{}1{}", "(".repeat(200), ")".repeat(200));
        assert!(matches!(parse(&deep), Err(ParseError::TooDeep { .. })));
        assert!(matches!(parse(&"-".repeat(500)), Err(ParseError::TooDeep { .. })));
        assert!(matches!(parse(&"1+".repeat(600)), Err(ParseError::TooLong { .. })));
        assert!(matches!(
            parse(&vec!["1"; 300].join("+")),
            Err(ParseError::TooComplex { .. })
        ));
        assert!(parse(&vec!["1"; 150].join("+")).is_ok());
    }
}
