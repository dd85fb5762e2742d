//! Tokeniser for the LaTeX subset students type.
//!
//! Kept separate from the parser so that LaTeX's spelling variants (`\le`, `\leq`, `≤`,
//! `\left(`, `\cdot`, `×`, ...) collapse into one token each and the grammar stays small.

use crate::error::ParseError;
use crate::number::Rational;

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    Num(Rational),
    Var(char),
    Plus,
    Minus,
    /// `\pm` — only meaningful in answers (`x = 1 \pm \sqrt{2}`).
    PlusMinus,
    /// `*`, `\cdot`, `\times`, `·`, `×`
    Times,
    /// `/`, `\div`, `:`, `÷`
    Divide,
    Caret,
    LParen,
    RParen,
    LBrace,
    RBrace,
    LBracket,
    RBracket,
    Frac,
    Sqrt,
    Eq,
    Lt,
    Gt,
    Le,
    Ge,
    Comma,
    Semicolon,
    /// `\text{o}`, `\text{or}`, `\lor`, `\vee`: separates alternatives in an answer.
    Or,
    /// `\emptyset`, `\varnothing`, `∅`: "no solution".
    EmptySet,
    /// `\mathbb{R}`, `ℝ`: "every real number".
    Reals,
    Eof,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub tok: Tok,
    /// Byte offset of the token's first character.
    pub pos: usize,
}

/// Splits `input` into tokens, ending with [`Tok::Eof`].
///
/// A comma directly between two digits (`3,5`) is a decimal separator, as written in most of
/// Europe; a comma followed by a space or a non-digit separates list items (`x=2, x=3`).
pub fn tokenize(input: &str) -> Result<Vec<Token>, ParseError> {
    let bytes = input.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < input.len() {
        let c = input[i..].chars().next().unwrap_or(' ');
        let start = i;
        let simple = |t: Tok| Some(t);
        let tok = match c {
            ' ' | '\t' | '\n' | '\r' | '$' => None,
            '0'..='9' | '.' if c != '.' || bytes.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                let mut j = i;
                while j < bytes.len() && bytes[j].is_ascii_digit() {
                    j += 1;
                }
                let int_part = &input[i..j];
                let mut frac_part = "";
                if j + 1 < bytes.len() && (bytes[j] == b'.' || bytes[j] == b',') && bytes[j + 1].is_ascii_digit() {
                    let k = j + 1;
                    let mut e = k;
                    while e < bytes.len() && bytes[e].is_ascii_digit() {
                        e += 1;
                    }
                    frac_part = &input[k..e];
                    j = e;
                }
                let value =
                    Rational::from_decimal(int_part, frac_part).map_err(|_| ParseError::NumberTooLarge { pos: i })?;
                out.push(Token {
                    tok: Tok::Num(value),
                    pos: start,
                });
                i = j;
                continue;
            }
            'a'..='z' | 'A'..='Z' => simple(Tok::Var(c)),
            '+' => simple(Tok::Plus),
            '-' | '−' => simple(Tok::Minus),
            '±' => simple(Tok::PlusMinus),
            '*' | '·' | '×' => simple(Tok::Times),
            '/' | ':' | '÷' => simple(Tok::Divide),
            '^' => simple(Tok::Caret),
            '(' => simple(Tok::LParen),
            ')' => simple(Tok::RParen),
            '{' => simple(Tok::LBrace),
            '}' => simple(Tok::RBrace),
            '[' => simple(Tok::LBracket),
            ']' => simple(Tok::RBracket),
            '=' => simple(Tok::Eq),
            '<' => {
                if bytes.get(i + 1) == Some(&b'=') {
                    i += 1;
                    simple(Tok::Le)
                } else {
                    simple(Tok::Lt)
                }
            }
            '>' => {
                if bytes.get(i + 1) == Some(&b'=') {
                    i += 1;
                    simple(Tok::Ge)
                } else {
                    simple(Tok::Gt)
                }
            }
            '≤' => simple(Tok::Le),
            '≥' => simple(Tok::Ge),
            '∅' => simple(Tok::EmptySet),
            'ℝ' => simple(Tok::Reals),
            '√' => simple(Tok::Sqrt),
            ',' => simple(Tok::Comma),
            ';' => simple(Tok::Semicolon),
            '\\' => {
                let mut j = i + 1;
                while j < bytes.len() && bytes[j].is_ascii_alphabetic() {
                    j += 1;
                }
                if j == i + 1 {
                    // Control symbols: `\,` `\;` `\!` `\ ` are spacing; `\{` `\}` are braces of a set.
                    match bytes.get(j) {
                        Some(b',' | b';' | b'!' | b' ' | b':') => {
                            i = j + 1;
                            continue;
                        }
                        Some(b'{') => {
                            i = j + 1;
                            out.push(Token {
                                tok: Tok::LBrace,
                                pos: start,
                            });
                            continue;
                        }
                        Some(b'}') => {
                            i = j + 1;
                            out.push(Token {
                                tok: Tok::RBrace,
                                pos: start,
                            });
                            continue;
                        }
                        _ => {
                            return Err(ParseError::Expected {
                                pos: j,
                                expected: "a command name".into(),
                            });
                        }
                    }
                }
                let name = &input[i + 1..j];
                i = j;
                let tok = match name {
                    // `\left(` and `\right)`: the delimiter that follows is an ordinary token.
                    "left" | "right" | "displaystyle" | "quad" | "qquad" => continue,
                    "cdot" | "times" | "ast" => Tok::Times,
                    "div" => Tok::Divide,
                    "frac" | "dfrac" | "tfrac" => Tok::Frac,
                    "sqrt" => Tok::Sqrt,
                    "le" | "leq" | "leqslant" => Tok::Le,
                    "ge" | "geq" | "geqslant" => Tok::Ge,
                    "lt" => Tok::Lt,
                    "gt" => Tok::Gt,
                    "pm" => Tok::PlusMinus,
                    "lor" | "vee" => Tok::Or,
                    "emptyset" | "varnothing" => Tok::EmptySet,
                    "mathbb" => {
                        let rest = input[i..].trim_start();
                        if !rest.starts_with("{R}") {
                            return Err(ParseError::Expected {
                                pos: i,
                                expected: "{R}".into(),
                            });
                        }
                        i = input.len() - rest.len() + 3;
                        out.push(Token {
                            tok: Tok::Reals,
                            pos: start,
                        });
                        continue;
                    }
                    "text" | "mathrm" | "textrm" | "mbox" => {
                        let (tok, next) = lex_text(input, i, start)?;
                        i = next;
                        out.push(Token { tok, pos: start });
                        continue;
                    }
                    _ => {
                        return Err(ParseError::UnknownCommand {
                            pos: start,
                            name: name.to_string(),
                        });
                    }
                };
                out.push(Token { tok, pos: start });
                continue;
            }
            _ => return Err(ParseError::UnexpectedChar { pos: i, ch: c }),
        };
        if let Some(tok) = tok {
            out.push(Token { tok, pos: start });
        }
        i += c.len_utf8();
    }
    out.push(Token {
        tok: Tok::Eof,
        pos: input.len(),
    });
    Ok(out)
}

/// `\text{ o }` and friends: only the words for "or" are meaningful here.
fn lex_text(input: &str, mut i: usize, start: usize) -> Result<(Tok, usize), ParseError> {
    let bytes = input.as_bytes();
    while i < bytes.len() && bytes[i] == b' ' {
        i += 1;
    }
    if bytes.get(i) != Some(&b'{') {
        return Err(ParseError::Expected {
            pos: i,
            expected: "'{'".into(),
        });
    }
    let Some(close) = input[i..].find('}') else {
        return Err(ParseError::Expected {
            pos: input.len(),
            expected: "'}'".into(),
        });
    };
    let word = input[i + 1..i + close].trim().to_lowercase();
    match word.as_str() {
        "o" | "or" | "ou" | "oder" | "of" => Ok((Tok::Or, i + close + 1)),
        _ => Err(ParseError::Expected {
            pos: start,
            expected: "\\text{o} or \\text{or}".into(),
        }),
    }
}
