//! Work steps as students write them: `53 - 26 = 33`, `9 • 6 = 15`, `96 : 8`, `2,5 + 1,25`,
//! `15% de 200`, `2x + 3 = 11`, `√(9+16)`, `(2^3)^2`, `\frac{2}{3} \cdot \frac{4}{5}`.
//!
//! A small tokenizer and precedence-climbing parser into an arena. Two school conventions shape
//! the grammar: `a/b` between two integers is one fraction (so `2/3 : 4/5` is a quotient of
//! fractions, not `((2/3):4)/5`), and a number followed by a letter or a parenthesis multiplies
//! (`2x`, `2(x+3)`). Errors carry the byte position and what was expected; nothing panics.

use smallvec::SmallVec;

use crate::number::{Form, Number, Q};

/// Longest step expression accepted (bytes).
pub const MAX_STEP_LEN: usize = 500;
/// Most nodes in one parsed step; deeper nesting is refused instead of recursing without bound.
const MAX_NODES: usize = 256;
const MAX_DEPTH: u32 = 48;

pub type NodeId = u16;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Node {
    Num(Number),
    Var(u8),
    Neg(NodeId),
    Add(NodeId, NodeId),
    Sub(NodeId, NodeId),
    Mul(NodeId, NodeId),
    Div(NodeId, NodeId),
    Pow(NodeId, NodeId),
    Sqrt(NodeId),
    /// `p%`, worth p/100.
    Percent(NodeId),
    /// `p% de N` / `p% of N`.
    PercentOf(NodeId, NodeId),
}

/// One parsed step: one or more sides joined by `=`.
#[derive(Clone, Debug, Default)]
pub struct Statement {
    nodes: Vec<Node>,
    sides: SmallVec<[NodeId; 3]>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[error("at {pos}: expected {expected}")]
pub struct ParseError {
    pub pos: usize,
    pub expected: &'static str,
}

/// What an expression evaluates to when it has one variable and is linear in it: `coef·x + konst`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Linear {
    pub coef: Q,
    pub konst: Q,
}

impl Statement {
    pub fn parse(text: &str) -> Result<Statement, ParseError> {
        if text.len() > MAX_STEP_LEN {
            return Err(ParseError {
                pos: MAX_STEP_LEN,
                expected: "a shorter expression",
            });
        }
        let mut tokens = Tokens::new();
        tokenize(text, &mut tokens)?;
        let mut p = Parser {
            tokens: &tokens,
            i: 0,
            st: Statement {
                nodes: Vec::with_capacity(tokens.len()),
                sides: SmallVec::new(),
            },
            depth: 0,
            end: text.len(),
        };
        let first = p.expr()?;
        p.st.sides.push(first);
        while p.eat(&Tok::Eq) {
            let side = p.expr()?;
            p.st.sides.push(side);
        }
        if p.i < p.tokens.len() {
            return Err(ParseError {
                pos: p.tokens[p.i].1,
                expected: "an operator or the end",
            });
        }
        Ok(p.st)
    }

    pub fn sides(&self) -> &[NodeId] {
        &self.sides
    }
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id as usize]
    }
    /// The left-hand side (the whole expression when there is no `=`).
    pub fn lhs(&self) -> NodeId {
        self.sides[0]
    }
    pub fn last(&self) -> NodeId {
        *self.sides.last().expect("a statement has at least one side")
    }
    pub fn is_equation(&self) -> bool {
        self.sides.len() >= 2
    }

    /// Exact value of a side without variables.
    pub fn eval(&self, id: NodeId) -> Option<Q> {
        Some(match *self.node(id) {
            Node::Num(n) => n.value,
            Node::Var(_) => return None,
            Node::Neg(a) => self.eval(a)?.neg(),
            Node::Add(a, b) => self.eval(a)?.add(self.eval(b)?)?,
            Node::Sub(a, b) => self.eval(a)?.sub(self.eval(b)?)?,
            Node::Mul(a, b) => self.eval(a)?.mul(self.eval(b)?)?,
            Node::Div(a, b) => self.eval(a)?.div(self.eval(b)?)?,
            Node::Pow(a, b) => self.eval(a)?.pow(self.eval(b)?.to_integer()?)?,
            Node::Sqrt(a) => self.eval(a)?.sqrt()?,
            Node::Percent(a) => self.eval(a)?.div(Q::int(100))?,
            Node::PercentOf(p, n) => self.eval(p)?.mul(self.eval(n)?)?,
        })
    }

    /// `coef·x + konst` for a side linear in its one variable (any letter).
    pub fn linear(&self, id: NodeId) -> Option<Linear> {
        let k = |q: Q| Linear {
            coef: Q::ZERO,
            konst: q,
        };
        Some(match *self.node(id) {
            Node::Num(n) => k(n.value),
            Node::Var(_) => Linear {
                coef: Q::ONE,
                konst: Q::ZERO,
            },
            Node::Neg(a) => {
                let l = self.linear(a)?;
                Linear {
                    coef: l.coef.neg(),
                    konst: l.konst.neg(),
                }
            }
            Node::Add(a, b) | Node::Sub(a, b) => {
                let (l, r) = (self.linear(a)?, self.linear(b)?);
                let r = if matches!(self.node(id), Node::Sub(..)) {
                    Linear {
                        coef: r.coef.neg(),
                        konst: r.konst.neg(),
                    }
                } else {
                    r
                };
                Linear {
                    coef: l.coef.add(r.coef)?,
                    konst: l.konst.add(r.konst)?,
                }
            }
            Node::Mul(a, b) => {
                let (l, r) = (self.linear(a)?, self.linear(b)?);
                if !l.coef.is_zero() && !r.coef.is_zero() {
                    return None;
                }
                Linear {
                    coef: l.coef.mul(r.konst)?.add(r.coef.mul(l.konst)?)?,
                    konst: l.konst.mul(r.konst)?,
                }
            }
            Node::Div(a, b) => {
                let (l, r) = (self.linear(a)?, self.linear(b)?);
                if !r.coef.is_zero() {
                    return None;
                }
                Linear {
                    coef: l.coef.div(r.konst)?,
                    konst: l.konst.div(r.konst)?,
                }
            }
            _ => k(self.eval(id)?),
        })
    }

    /// The variable letter a side uses, if any.
    pub fn variable(&self) -> Option<u8> {
        self.nodes
            .iter()
            .find_map(|n| if let Node::Var(v) = n { Some(*v) } else { None })
    }

    /// The number literal at `id`, if that node is one (a negated literal counts).
    pub fn number(&self, id: NodeId) -> Option<Number> {
        match *self.node(id) {
            Node::Num(n) => Some(n),
            Node::Neg(a) => self.number(a).map(Number::negated),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Num(Number),
    Var(u8),
    Plus,
    Minus,
    Times,
    Divide,
    Slash,
    Caret,
    Sqrt,
    Percent,
    Of,
    Eq,
    Open,
    Close,
    Frac,
}

type Tokens = SmallVec<[(Tok, usize); 16]>;

fn tokenize(text: &str, out: &mut Tokens) -> Result<(), ParseError> {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let start = i;
        match c {
            b' ' | b'\t' | b'\n' | b'\r' | b'$' => i += 1,
            b'0'..=b'9' => {
                let mut j = i;
                while j < b.len() && b[j].is_ascii_digit() {
                    j += 1;
                }
                let int = &text[i..j];
                let mut frac = "";
                // A decimal separator counts only between digits: `2,5` is a number, `x = 1, y`
                // and `5.` are not.
                if j + 1 < b.len() && (b[j] == b'.' || b[j] == b',') && b[j + 1].is_ascii_digit() {
                    let f = j + 1;
                    j += 1;
                    while j < b.len() && b[j].is_ascii_digit() {
                        j += 1;
                    }
                    frac = &text[f..j];
                }
                let n = Number::from_digits(int, frac).map_err(|_| ParseError {
                    pos: i,
                    expected: "a number of at most 30 digits",
                })?;
                out.push((Tok::Num(n), start));
                i = j;
            }
            b'+' => push(out, Tok::Plus, &mut i, 1, start),
            b'-' => push(out, Tok::Minus, &mut i, 1, start),
            b'*' | b'x' if c == b'*' => push(out, Tok::Times, &mut i, 1, start),
            b'/' => push(out, Tok::Slash, &mut i, 1, start),
            b':' => push(out, Tok::Divide, &mut i, 1, start),
            b'^' => push(out, Tok::Caret, &mut i, 1, start),
            b'%' => push(out, Tok::Percent, &mut i, 1, start),
            b'=' => push(out, Tok::Eq, &mut i, 1, start),
            b'(' | b'[' | b'{' => push(out, Tok::Open, &mut i, 1, start),
            b')' | b']' | b'}' => push(out, Tok::Close, &mut i, 1, start),
            b'\\' => {
                let mut j = i + 1;
                while j < b.len() && b[j].is_ascii_alphabetic() {
                    j += 1;
                }
                let cmd = &text[i + 1..j];
                let tok = match cmd {
                    "cdot" | "times" | "bullet" => Some(Tok::Times),
                    "div" => Some(Tok::Divide),
                    "frac" | "dfrac" | "tfrac" => Some(Tok::Frac),
                    "sqrt" => Some(Tok::Sqrt),
                    "%" => Some(Tok::Percent),
                    "left" | "right" | "," | ";" | "!" | "quad" | "" => None,
                    _ => {
                        return Err(ParseError {
                            pos: i,
                            expected: "a known LaTeX command",
                        });
                    }
                };
                if cmd.is_empty() && j < b.len() {
                    // `\%`, `\,`, `\{`: an escaped single character.
                    match b[j] {
                        b'%' => out.push((Tok::Percent, start)),
                        b'{' => out.push((Tok::Open, start)),
                        b'}' => out.push((Tok::Close, start)),
                        b',' | b';' | b'!' | b' ' => {}
                        _ => {
                            return Err(ParseError {
                                pos: i,
                                expected: "a known LaTeX command",
                            });
                        }
                    }
                    j += 1;
                }
                if let Some(t) = tok {
                    out.push((t, start));
                }
                i = j;
            }
            b'a'..=b'z' | b'A'..=b'Z' => {
                let mut j = i;
                while j < b.len() && b[j].is_ascii_alphabetic() {
                    j += 1;
                }
                let word = &text[i..j];
                match word {
                    "de" | "of" | "del" => out.push((Tok::Of, start)),
                    "x" if out.last().is_some_and(|(t, _)| matches!(t, Tok::Num(_) | Tok::Close))
                        && next_is_operand(b, j) =>
                    {
                        // `3 x 4`: a times sign written as the letter x between two numbers.
                        out.push((Tok::Times, start))
                    }
                    w if w.len() == 1 => out.push((Tok::Var(w.as_bytes()[0]), start)),
                    _ => {
                        return Err(ParseError {
                            pos: i,
                            expected: "a number, a variable or an operator",
                        });
                    }
                }
                i = j;
            }
            _ => {
                let ch = text[i..].chars().next().unwrap_or(' ');
                let tok = match ch {
                    '×' | '•' | '·' | '⋅' | '∙' => Tok::Times,
                    '÷' => Tok::Divide,
                    '−' | '–' => Tok::Minus,
                    '√' => Tok::Sqrt,
                    _ => {
                        return Err(ParseError {
                            pos: i,
                            expected: "a number, a variable or an operator",
                        });
                    }
                };
                out.push((tok, start));
                i += ch.len_utf8();
            }
        }
    }
    Ok(())
}

fn next_is_operand(b: &[u8], mut j: usize) -> bool {
    while j < b.len() && b[j] == b' ' {
        j += 1;
    }
    j < b.len() && (b[j].is_ascii_digit() || b[j] == b'(')
}

fn push(out: &mut Tokens, t: Tok, i: &mut usize, len: usize, start: usize) {
    out.push((t, start));
    *i += len;
}

struct Parser<'t> {
    tokens: &'t [(Tok, usize)],
    i: usize,
    st: Statement,
    depth: u32,
    end: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.i).map(|(t, _)| t)
    }
    fn pos(&self) -> usize {
        self.tokens.get(self.i).map_or(self.end, |(_, p)| *p)
    }
    fn eat(&mut self, t: &Tok) -> bool {
        if self.peek() == Some(t) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn err(&self, expected: &'static str) -> ParseError {
        ParseError {
            pos: self.pos(),
            expected,
        }
    }
    fn add(&mut self, n: Node) -> Result<NodeId, ParseError> {
        if self.st.nodes.len() >= MAX_NODES {
            return Err(self.err("a shorter expression"));
        }
        self.st.nodes.push(n);
        Ok((self.st.nodes.len() - 1) as NodeId)
    }
    fn enter(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err("less nesting"));
        }
        Ok(())
    }

    fn expr(&mut self) -> Result<NodeId, ParseError> {
        self.enter()?;
        let mut lhs = self.term()?;
        loop {
            let node = match self.peek() {
                Some(Tok::Plus) => Node::Add as fn(NodeId, NodeId) -> Node,
                Some(Tok::Minus) => Node::Sub,
                _ => break,
            };
            self.i += 1;
            let rhs = self.term()?;
            lhs = self.add(node(lhs, rhs))?;
        }
        self.depth -= 1;
        Ok(lhs)
    }

    fn term(&mut self) -> Result<NodeId, ParseError> {
        let mut lhs = self.unary()?;
        loop {
            let node = match self.peek() {
                Some(Tok::Times) => Node::Mul as fn(NodeId, NodeId) -> Node,
                Some(Tok::Divide | Tok::Slash) => Node::Div,
                Some(Tok::Of) => Node::PercentOf,
                // Implicit product: `2x`, `2(x+3)`, `(x+1)(x-1)`, `3√2`.
                Some(Tok::Var(_) | Tok::Open | Tok::Sqrt | Tok::Frac) => {
                    let rhs = self.unary()?;
                    lhs = self.add(Node::Mul(lhs, rhs))?;
                    continue;
                }
                _ => break,
            };
            self.i += 1;
            let rhs = self.unary()?;
            lhs = self.add(node(lhs, rhs))?;
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> Result<NodeId, ParseError> {
        if self.eat(&Tok::Minus) {
            self.enter()?;
            let a = self.unary()?;
            self.depth -= 1;
            // A negated literal stays a literal, so `-3` is an operand, not an operation.
            if let Node::Num(n) = *self.st.node(a) {
                self.st.nodes[a as usize] = Node::Num(n.negated());
                return Ok(a);
            }
            return self.add(Node::Neg(a));
        }
        if self.eat(&Tok::Plus) {
            return self.unary();
        }
        self.power()
    }

    fn power(&mut self) -> Result<NodeId, ParseError> {
        let base = self.postfix()?;
        if self.eat(&Tok::Caret) {
            self.enter()?;
            let exp = self.unary()?;
            self.depth -= 1;
            return self.add(Node::Pow(base, exp));
        }
        Ok(base)
    }

    fn postfix(&mut self) -> Result<NodeId, ParseError> {
        let mut a = self.primary()?;
        while self.eat(&Tok::Percent) {
            a = self.add(Node::Percent(a))?;
        }
        Ok(a)
    }

    fn primary(&mut self) -> Result<NodeId, ParseError> {
        match self.peek().cloned() {
            Some(Tok::Num(n)) => {
                self.i += 1;
                // `2/3`: two integers around a slash are one fraction literal.
                if let (Some(Tok::Slash), Some(Tok::Num(d))) = (
                    self.tokens.get(self.i).map(|t| &t.0),
                    self.tokens.get(self.i + 1).map(|t| &t.0),
                ) && n.form == Form::Integer
                    && d.form == Form::Integer
                    && !self.followed_by_power(self.i + 2)
                {
                    let (num, den) = (n.value.numer(), d.value.numer());
                    if den == 0 {
                        return Err(self.err("a nonzero denominator"));
                    }
                    self.i += 2;
                    let value = Q::new(num, den).ok_or_else(|| self.err("a smaller fraction"))?;
                    return self.add(Node::Num(Number {
                        value,
                        form: Form::Fraction { num, den },
                    }));
                }
                self.add(Node::Num(n))
            }
            Some(Tok::Var(v)) => {
                self.i += 1;
                self.add(Node::Var(v))
            }
            Some(Tok::Open) => {
                self.i += 1;
                let e = self.expr()?;
                if !self.eat(&Tok::Close) {
                    return Err(self.err("a closing parenthesis"));
                }
                Ok(e)
            }
            Some(Tok::Sqrt) => {
                self.i += 1;
                self.enter()?;
                let a = self.power()?;
                self.depth -= 1;
                self.add(Node::Sqrt(a))
            }
            Some(Tok::Frac) => {
                self.i += 1;
                let n = self.primary()?;
                let d = self.primary()?;
                if let (Node::Num(a), Node::Num(b)) = (*self.st.node(n), *self.st.node(d))
                    && a.form == Form::Integer
                    && b.form == Form::Integer
                {
                    let (num, den) = (a.value.numer(), b.value.numer());
                    if den != 0
                        && let Some(value) = Q::new(num, den)
                    {
                        return self.add(Node::Num(Number {
                            value,
                            form: Form::Fraction { num, den },
                        }));
                    }
                }
                self.add(Node::Div(n, d))
            }
            _ => Err(self.err("a number, a variable or a parenthesis")),
        }
    }

    fn followed_by_power(&self, i: usize) -> bool {
        matches!(self.tokens.get(i), Some((Tok::Caret, _)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(s: &str) -> Q {
        let st = Statement::parse(s).unwrap();
        st.eval(st.lhs()).unwrap()
    }

    #[test]
    fn chilean_notation() {
        assert_eq!(value("9 • 6"), Q::int(54));
        assert_eq!(value("96 : 8"), Q::int(12));
        assert_eq!(value("2,5 + 1,25"), Q::new(15, 4).unwrap());
        assert_eq!(value("15% de 200"), Q::int(30));
        assert_eq!(value("5 - (-3)"), Q::int(8));
        assert_eq!(value("3 x 4"), Q::int(12));
        assert_eq!(value("7 · 8"), Q::int(56));
        assert_eq!(value("84 ÷ 4"), Q::int(21));
    }

    #[test]
    fn fractions_bind_before_operators() {
        assert_eq!(value("2/3 : 4/5"), Q::new(5, 6).unwrap());
        assert_eq!(value("2/3 × 4/5"), Q::new(8, 15).unwrap());
        assert_eq!(value("\\frac{2}{3} \\cdot \\frac{4}{5}"), Q::new(8, 15).unwrap());
    }

    #[test]
    fn powers_and_roots() {
        assert_eq!(value("2^3 • 2^2"), Q::int(32));
        assert_eq!(value("(2^3)^2"), Q::int(64));
        assert_eq!(value("2^6 : 2^3"), Q::int(8));
        assert_eq!(value("5^0"), Q::ONE);
        assert_eq!(value("√16"), Q::int(4));
        assert_eq!(value("√(9+16)"), Q::int(5));
        assert_eq!(value("\\sqrt{9+16}"), Q::int(5));
    }

    #[test]
    fn linear_equations() {
        let st = Statement::parse("2x + 3 = 11").unwrap();
        assert_eq!(
            st.linear(st.sides()[0]),
            Some(Linear {
                coef: Q::int(2),
                konst: Q::int(3)
            })
        );
        let st = Statement::parse("2(x + 3) = 14").unwrap();
        assert_eq!(
            st.linear(st.sides()[0]),
            Some(Linear {
                coef: Q::int(2),
                konst: Q::int(6)
            })
        );
        assert!(Statement::parse("x = 7").unwrap().is_equation());
    }

    #[test]
    fn errors_name_the_position() {
        assert_eq!(Statement::parse("53 - ").unwrap_err().pos, 5);
        assert!(Statement::parse("53 -- 26 = = ").is_err());
        assert!(Statement::parse("(((1").is_err());
        assert!(Statement::parse(&"(".repeat(400)).is_err());
        assert!(Statement::parse("hello world").is_err());
        assert!(Statement::parse("\\unknown{3}").is_err());
    }
}
