//! The lexer: source text to tokens, each with its byte span. Numbers follow Python
//! (`1`, `1.`, `.5`, `1e-3`); identifiers may be followed directly by a brace argument as
//! `pp` prints them (`TensorConstant{2.0}`), which is kept as raw text.

use super::ast::Span;
use super::ParseError;

/// A token kind.
#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    /// An integer literal.
    Int(i64),
    /// The integer literal `9223372036854775808` (2^63): out of int64's range by itself, it
    /// is the magnitude of int64's minimum and stands only after a unary minus
    /// (`-9223372036854775808`).
    IntMinMagnitude,
    /// A float literal.
    Float(f64),
    /// A name.
    Ident(String),
    /// A name with a brace argument: `TensorConstant{2.0}` is `("TensorConstant", "2.0")`.
    Braced(String, String),
    /// A string literal (quotes removed).
    Str(String),
    /// An operator or punctuation, by its spelling (`+`, `**`, `<=`, `(`, `\dot`, ...).
    Sym(&'static str),
    /// The end of the input.
    Eof,
}

impl Tok {
    /// The token as an error message shows it.
    pub fn describe(&self) -> String {
        match self {
            Tok::Int(v) => format!("number `{v}`"),
            Tok::IntMinMagnitude => format!("number `{}`", INT_MIN_MAGNITUDE),
            Tok::Float(v) => format!("number `{v}`"),
            Tok::Ident(s) => format!("name `{s}`"),
            Tok::Braced(n, b) => format!("`{n}{{{b}}}`"),
            Tok::Str(s) => format!("string {s:?}"),
            Tok::Sym(s) => format!("`{s}`"),
            Tok::Eof => "end of input".into(),
        }
    }
}

/// A token with where it is.
#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    /// What it is.
    pub tok: Tok,
    /// Where it is.
    pub span: Span,
}

/// The digits of 2^63, the magnitude of int64's minimum.
pub const INT_MIN_MAGNITUDE: &str = "9223372036854775808";

/// Operators and punctuation, longest first so that `**` wins over `*` and `//` over `/`.
const SYMBOLS: [&str; 26] = [
    "**", "//", "<=", ">=", "==", "!=", "\\dot", "+", "-", "*", "/", "%", "<", ">", "(", ")", "[", "]", ",",
    ":", ".", "=", "&", "|", "~", "@",
];

/// Splits `src` into tokens, ending with `Tok::Eof`.
pub fn lex(src: &str) -> Result<Vec<Token>, ParseError> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < src.len() {
        let c = src[i..].chars().next().expect("in bounds");
        if c.is_whitespace() {
            i += c.len_utf8();
            continue;
        }
        let start = i;
        if c.is_ascii_digit() || (c == '.' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)) {
            let (tok, end) = number(src, i)?;
            out.push(Token { tok, span: Span::new(start, end) });
            i = end;
            continue;
        }
        if c.is_alphabetic() || c == '_' {
            let mut end = i;
            for ch in src[i..].chars() {
                if ch.is_alphanumeric() || ch == '_' {
                    end += ch.len_utf8();
                } else {
                    break;
                }
            }
            let name = src[i..end].to_string();
            if bytes.get(end) == Some(&b'{') {
                let (body, close) = braced(src, end)?;
                out.push(Token { tok: Tok::Braced(name, body), span: Span::new(start, close) });
                i = close;
            } else {
                out.push(Token { tok: Tok::Ident(name), span: Span::new(start, end) });
                i = end;
            }
            continue;
        }
        if c == '\'' || c == '"' {
            let rest = &src[i + 1..];
            match rest.find(c) {
                Some(k) => {
                    let end = i + 1 + k + 1;
                    out.push(Token { tok: Tok::Str(rest[..k].to_string()), span: Span::new(start, end) });
                    i = end;
                }
                None => {
                    return Err(ParseError::new(
                        Span::new(start, src.len()),
                        format!("unterminated string: expected a closing {c}"),
                    ))
                }
            }
            continue;
        }
        if let Some(sym) = SYMBOLS.iter().find(|s| src[i..].starts_with(**s)) {
            // `\dot` must not run into a longer name (`\dots`).
            let end = i + sym.len();
            if *sym == "\\dot"
                && src[end..].chars().next().is_some_and(|ch| ch.is_alphanumeric() || ch == '_')
            {
                return Err(ParseError::new(Span::new(start, end + 1), "unknown operator: expected `\\dot`"));
            }
            out.push(Token { tok: Tok::Sym(sym), span: Span::new(start, end) });
            i = end;
            continue;
        }
        let what = match c {
            '{' | '}' => "a brace only follows a name, as in `TensorConstant{2.0}`".to_string(),
            '\\' => "the only backslash operator is `\\dot`".to_string(),
            _ => "expected a number, a name, an operator or a bracket".to_string(),
        };
        return Err(ParseError::new(
            Span::new(start, start + c.len_utf8()),
            format!("unexpected character `{c}`: {what}"),
        ));
    }
    out.push(Token { tok: Tok::Eof, span: Span::new(src.len(), src.len()) });
    Ok(out)
}

/// A number starting at byte `i`: `123`, `1.5`, `1.`, `.5`, `1e-3`, `2E+10`.
fn number(src: &str, start: usize) -> Result<(Tok, usize), ParseError> {
    let b = src.as_bytes();
    let mut i = start;
    let digits = |mut i: usize| {
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        i
    };
    i = digits(i);
    let mut float = false;
    if b.get(i) == Some(&b'.') && !b.get(i + 1).is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_') {
        float = true;
        i = digits(i + 1);
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        if matches!(b.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        if b.get(j).is_some_and(u8::is_ascii_digit) {
            float = true;
            i = digits(j);
        } else {
            return Err(ParseError::new(
                Span::new(start, j),
                "malformed number: expected digits after the exponent",
            ));
        }
    }
    if b.get(i).is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_') {
        return Err(ParseError::new(
            Span::new(start, i + 1),
            "malformed number: expected an operator or `)` after it",
        ));
    }
    let text = &src[start..i];
    let tok = if float {
        Tok::Float(text.parse().map_err(|_| ParseError::new(Span::new(start, i), "malformed number"))?)
    } else {
        match text.parse::<i64>() {
            Ok(v) => Tok::Int(v),
            Err(_) if text.trim_start_matches('0') == INT_MIN_MAGNITUDE => Tok::IntMinMagnitude,
            Err(_) => {
                return Err(ParseError::new(
                    Span::new(start, i),
                    "integer literal out of range of int64 (write it as a float, e.g. `1e20`)",
                ))
            }
        }
    };
    Ok((tok, i))
}

/// The raw text between the `{` at byte `open` and its matching `}`; returns it and the
/// byte after the `}`.
fn braced(src: &str, open: usize) -> Result<(String, usize), ParseError> {
    let mut depth = 0usize;
    for (k, ch) in src[open..].char_indices() {
        match ch {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Ok((src[open + 1..open + k].to_string(), open + k + 1));
                }
            }
            _ => {}
        }
    }
    Err(ParseError::new(Span::new(open, src.len()), "unterminated `{`: expected a closing `}`"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        lex(s).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn numbers() {
        assert_eq!(
            toks("1 1. .5 1e-3 2E+2"),
            vec![
                Tok::Int(1),
                Tok::Float(1.0),
                Tok::Float(0.5),
                Tok::Float(1e-3),
                Tok::Float(200.0),
                Tok::Eof
            ]
        );
    }

    #[test]
    fn operators_and_braces() {
        assert_eq!(
            toks("x**-2 \\dot TensorConstant{2.0}"),
            vec![
                Tok::Ident("x".into()),
                Tok::Sym("**"),
                Tok::Sym("-"),
                Tok::Int(2),
                Tok::Sym("\\dot"),
                Tok::Braced("TensorConstant".into(), "2.0".into()),
                Tok::Eof
            ]
        );
        assert_eq!(toks("x.T")[1], Tok::Sym("."));
    }

    #[test]
    fn errors() {
        assert!(lex("x $ y").is_err());
        assert!(lex("1e").is_err());
        assert!(lex("f{1").is_err());
        assert!(lex("'abc").is_err());
        assert!(lex("99999999999999999999").is_err());
    }
}
