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
    /// `\\`: a new row, which separates the equations of a system.
    RowSep,
    /// `%`, `\%`: the postfix percent sign.
    Percent,
    /// `de`, `del`, `of` right after a percent sign (`15\% de 200`): "of" means times.
    Of,
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
    let mut i = instruction_prefix(input);
    while i < input.len() {
        let c = input[i..].chars().next().unwrap_or(' ');
        let start = i;
        let simple = |t: Tok| Some(t);
        let tok = match c {
            ' ' | '\t' | '\n' | '\r' | '$' => None,
            // A full stop ending the statement ("2x + 3 = 11."), as a scanned problem has it.
            '.' if only_closing(&input[i + 1..]) => None,
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
            // Column separators of `cases` and `array` carry no meaning here.
            '&' => None,
            '%' => {
                out.push(Token {
                    tok: Tok::Percent,
                    pos: start,
                });
                i = lex_of(input, i + 1, &mut out);
                continue;
            }
            '\\' => {
                let mut j = i + 1;
                while j < bytes.len() && bytes[j].is_ascii_alphabetic() {
                    j += 1;
                }
                if j == i + 1 {
                    // Control symbols: `\,` `\;` `\!` `\ ` are spacing; `\{` `\}` are braces of a set;
                    // `\\` ends a row; `\%` is the percent sign (a bare `%` starts a comment in
                    // LaTeX, but students type it too).
                    match bytes.get(j) {
                        Some(b',' | b';' | b'!' | b' ' | b':') => {
                            i = j + 1;
                            continue;
                        }
                        // `\[ … \]` and `\( … \)` delimit display and inline maths, as `$` does:
                        // OCR output and typed LaTeX often keep them.
                        Some(b'[' | b']' | b'(' | b')') => {
                            i = j + 1;
                            continue;
                        }
                        Some(b'\\') => {
                            i = j + 1;
                            out.push(Token {
                                tok: Tok::RowSep,
                                pos: start,
                            });
                            continue;
                        }
                        Some(b'%') => {
                            out.push(Token {
                                tok: Tok::Percent,
                                pos: start,
                            });
                            i = lex_of(input, j + 1, &mut out);
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
                    // `\left(` and `\right)`: the delimiter that follows is an ordinary token,
                    // except the invisible `.` and the brace that opens a system
                    // (`\left\{ \begin{array}{l} ... \end{array} \right.`).
                    "left" | "right" => {
                        let rest = input[i..].trim_start();
                        let skip = if rest.starts_with('.') {
                            1
                        } else if name == "left"
                            && rest.starts_with("\\{")
                            && rest[2..].trim_start().starts_with("\\begin")
                        {
                            2
                        } else {
                            0
                        };
                        i = input.len() - rest.len() + skip;
                        continue;
                    }
                    "displaystyle" | "quad" | "qquad" => continue,
                    // Environments that lay out a system: the rows are what matters.
                    "begin" | "end" => {
                        i = lex_environment(input, i, name == "begin")?;
                        continue;
                    }
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
                        let after_percent = out.last().is_some_and(|t| t.tok == Tok::Percent);
                        let (tok, next) = lex_text(input, i, after_percent)?;
                        i = next;
                        if let Some(tok) = tok {
                            out.push(Token { tok, pos: start });
                        }
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

/// Where the maths starts after an instruction that a scan keeps in front of it ("Resuelve:",
/// "Calcula el valor de x:", "Solve:"): words of letters and spaces, one of at least three
/// letters (variables are single letters, so `a:b = c:x` stays a proportion), then a colon.
fn instruction_prefix(input: &str) -> usize {
    let Some(colon) = input.find(':') else { return 0 };
    let words = &input[..colon];
    let letters_and_spaces = words.chars().all(|c| c.is_alphabetic() || c == ' ');
    let mut run = 0;
    let mut longest = 0;
    for c in words.chars() {
        run = if c.is_alphabetic() { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    if letters_and_spaces && longest >= 3 {
        colon + 1
    } else {
        0
    }
}

/// Whether only closing delimiters and spaces follow (`$`, `\]`, `\)`).
fn only_closing(rest: &str) -> bool {
    let rest = rest.trim();
    rest.is_empty() || rest.chars().all(|c| matches!(c, '$' | ' ')) || matches!(rest, "\\]" | "\\)" | "\\]$")
}

/// After a percent sign, the words `de`, `del` (Spanish) and `of` mean "of", that is times:
/// `15\% de 200`. Returns where lexing goes on.
fn lex_of(input: &str, i: usize, out: &mut Vec<Token>) -> usize {
    let rest = input[i..].trim_start();
    let at = input.len() - rest.len();
    for word in ["del", "de", "of"] {
        if let Some(after) = rest.strip_prefix(word)
            && !after.starts_with(|c: char| c.is_ascii_alphabetic())
        {
            out.push(Token { tok: Tok::Of, pos: at });
            return at + word.len();
        }
    }
    i
}

/// Environments a system may be written in. `array` and `tabular` take a column
/// specification (`{ll}`), skipped with the name.
const ENVIRONMENTS: &[&str] = &[
    "cases", "array", "aligned", "align", "align*", "gathered", "split", "rcases",
];

/// `\begin{name}` / `\end{name}`, from just after the command; returns where lexing goes on.
fn lex_environment(input: &str, i: usize, begin: bool) -> Result<usize, ParseError> {
    let (name, mut next) = brace_group(input, i)?;
    if !ENVIRONMENTS.contains(&name.trim()) {
        return Err(ParseError::Expected {
            pos: i,
            expected: "{cases}, {array} or {aligned}".into(),
        });
    }
    if begin && name.trim() == "array" {
        next = brace_group(input, next)?.1;
    }
    Ok(next)
}

/// The text of a `{...}` group (no nesting) that starts at `i` after optional spaces, and
/// the position after its `}`.
fn brace_group(input: &str, mut i: usize) -> Result<(&str, usize), ParseError> {
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
    Ok((&input[i + 1..i + close], i + close + 1))
}

/// `\text{...}`: words for "or" separate alternatives (`x = 2 \text{ o } x = 3`), words for
/// "and" separate the values of a system (`x = 2 \text{ y } y = 3`), `de`/`of` after a
/// percent sign mean times, "no solution" and "infinitely many" are the answers they say;
/// any other text (units, "Respuesta:") is ignored.
fn lex_text(input: &str, i: usize, after_percent: bool) -> Result<(Option<Tok>, usize), ParseError> {
    let (text, next) = brace_group(input, i)?;
    let word = text.trim().to_lowercase();
    let tok = match word.as_str() {
        "de" | "del" | "of" if after_percent => Some(Tok::Of),
        "o" | "or" | "ou" | "oder" | "of" => Some(Tok::Or),
        "y" | "and" | "e" | "et" | "und" => Some(Tok::Comma),
        w if ["no tiene sol", "sin sol", "no hay sol", "no sol", "ninguna", "no real"]
            .iter()
            .any(|p| w.starts_with(p)) =>
        {
            Some(Tok::EmptySet)
        }
        w if w.contains("infinit") || w.starts_with("todos los") || w.starts_with("all real") => Some(Tok::Reals),
        _ => None,
    };
    Ok((tok, next))
}
