//! A Pratt parser with Python's precedence, lowest first: comparisons (not chained), `|`,
//! `&`, `+ -`, `* / // % @ \dot`, unary `- + ~`, `**` (right-associative, and binding tighter
//! than a unary minus on its left: `-x**2` is `-(x**2)`, `2**-1` is `2**(-1)`), then calls,
//! subscripts and attributes (`f(x, axis=1)`, `x[1:, ::2]`, `x.T`).

use super::ast::{BinOp, Expr, ExprKind, Kwarg, Number, Span, Subscript, UnOp};
use super::lexer::{lex, Tok, Token, INT_MIN_MAGNITUDE};
use super::ParseError;

/// Deepest nesting accepted: deeper input is refused with an error instead of risking the
/// stack (in the parser, the builder, or when the tree is dropped).
pub const MAX_DEPTH: usize = 200;

/// Parses a whole expression.
pub fn parse(src: &str) -> Result<Expr, ParseError> {
    let tokens = lex(src)?;
    let mut p = Parser { tokens, pos: 0, src };
    let (e, _) = p.expr(0, 0)?;
    let t = p.peek().clone();
    if t.tok != Tok::Eof {
        let hint = match &t.tok {
            Tok::Sym(")") | Tok::Sym("]") => {
                format!("{} without a matching opening bracket", t.tok.describe())
            }
            Tok::Sym("=") => "`=` (keyword arguments go inside a call; compare with `==`)".to_string(),
            other => other.describe(),
        };
        return Err(ParseError::new(
            t.span,
            format!("expected an operator or the end of the expression, found {hint}"),
        ));
    }
    Ok(e)
}

struct Parser<'a> {
    tokens: Vec<Token>,
    pos: usize,
    src: &'a str,
}

/// An expression with the depth of its tree.
type Parsed = (Expr, usize);

fn infix(tok: &Tok) -> Option<(BinOp, u8, u8)> {
    // (operator, left binding power, right binding power)
    Some(match tok {
        Tok::Sym("<") => (BinOp::Lt, 10, 11),
        Tok::Sym("<=") => (BinOp::Le, 10, 11),
        Tok::Sym(">") => (BinOp::Gt, 10, 11),
        Tok::Sym(">=") => (BinOp::Ge, 10, 11),
        Tok::Sym("==") => (BinOp::Eq, 10, 11),
        Tok::Sym("!=") => (BinOp::Ne, 10, 11),
        Tok::Sym("|") => (BinOp::Or, 20, 21),
        Tok::Sym("&") => (BinOp::And, 30, 31),
        Tok::Sym("+") => (BinOp::Add, 40, 41),
        Tok::Sym("-") => (BinOp::Sub, 40, 41),
        Tok::Sym("*") => (BinOp::Mul, 50, 51),
        Tok::Sym("/") => (BinOp::Div, 50, 51),
        Tok::Sym("@") | Tok::Sym("\\dot") => (BinOp::Dot, 50, 51),
        Tok::Sym("//") => (BinOp::FloorDiv, 50, 51),
        Tok::Sym("%") => (BinOp::Mod, 50, 51),
        // Right-associative; the right side is a unary expression (`2**-1`).
        Tok::Sym("**") => (BinOp::Pow, 70, UNARY_BP),
        _ => return None,
    })
}

const UNARY_BP: u8 = 60;
const POSTFIX_BP: u8 = 80;
/// Inside `|x|` the operand stops before a bare `|` (which would be `or`).
const ABS_BP: u8 = 21;

impl Parser<'_> {
    fn peek(&self) -> &Token {
        &self.tokens[self.pos]
    }

    fn next(&mut self) -> Token {
        let t = self.tokens[self.pos].clone();
        if t.tok != Tok::Eof {
            self.pos += 1;
        }
        t
    }

    fn eat(&mut self, sym: &str) -> bool {
        if matches!(&self.peek().tok, Tok::Sym(s) if *s == sym) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn column(&self, span: Span) -> usize {
        self.src.get(..span.start).map_or(span.start, |s| s.chars().count()) + 1
    }

    /// Expects the closing `close` of the `open` token at `open_span`.
    fn close(&mut self, close: &str, open_span: Span, what: &str) -> Result<Span, ParseError> {
        let t = self.peek().clone();
        if matches!(&t.tok, Tok::Sym(s) if *s == close) {
            self.pos += 1;
            return Ok(t.span);
        }
        let open = &self.src[open_span.start..open_span.end];
        Err(ParseError::new(
            t.span,
            format!(
                "expected {what}`{close}` to close the `{open}` at column {}, found {}",
                self.column(open_span),
                t.tok.describe()
            ),
        ))
    }

    fn check_depth(&self, depth: usize, span: Span) -> Result<(), ParseError> {
        if depth > MAX_DEPTH {
            return Err(ParseError::new(
                span,
                format!("expression nested too deeply (more than {MAX_DEPTH} levels)"),
            ));
        }
        Ok(())
    }

    fn expr(&mut self, min_bp: u8, nesting: usize) -> Result<Parsed, ParseError> {
        self.check_depth(nesting, self.peek().span)?;
        let (mut lhs, mut depth) = self.prefix(nesting)?;
        let mut lhs_is_comparison = false;
        loop {
            let t = self.peek().clone();
            // Postfix: call, subscript, attribute.
            if POSTFIX_BP >= min_bp {
                match t.tok {
                    Tok::Sym("(") => {
                        self.pos += 1;
                        let (args, kwargs, d, end) = self.call_args(t.span, nesting)?;
                        let span = lhs.span.to(end);
                        depth = depth.max(d) + 1;
                        lhs = Expr::new(ExprKind::Call(Box::new(lhs), args, kwargs), span);
                        self.check_depth(depth, span)?;
                        lhs_is_comparison = false;
                        continue;
                    }
                    Tok::Sym("[") => {
                        self.pos += 1;
                        let (subs, d, end) = self.subscripts(t.span, nesting)?;
                        let span = lhs.span.to(end);
                        depth = depth.max(d) + 1;
                        lhs = Expr::new(ExprKind::Index(Box::new(lhs), subs), span);
                        self.check_depth(depth, span)?;
                        lhs_is_comparison = false;
                        continue;
                    }
                    Tok::Sym(".") => {
                        self.pos += 1;
                        let n = self.next();
                        let name = match n.tok {
                            Tok::Ident(s) => s,
                            other => {
                                return Err(ParseError::new(
                                    n.span,
                                    format!(
                                        "expected an attribute name after `.` (such as `T`), found {}",
                                        other.describe()
                                    ),
                                ))
                            }
                        };
                        let span = lhs.span.to(n.span);
                        depth += 1;
                        lhs = Expr::new(ExprKind::Attr(Box::new(lhs), name), span);
                        self.check_depth(depth, span)?;
                        lhs_is_comparison = false;
                        continue;
                    }
                    _ => {}
                }
            }
            let Some((op, lbp, rbp)) = infix(&t.tok) else { break };
            if lbp < min_bp {
                break;
            }
            if op.is_comparison() && lhs_is_comparison {
                return Err(ParseError::new(
                    t.span,
                    format!(
                        "chained comparison: `a {} b {} c` is not elementwise; write `and_(a {} b, b {} c)` or add parentheses",
                        "<", op.symbol(), "<", op.symbol()
                    ),
                ));
            }
            self.pos += 1;
            let (rhs, d) = self.expr(rbp, nesting + 1)?;
            let span = lhs.span.to(rhs.span);
            // A left operand continues a flat chain (`x + x + … + x`, which the builder
            // walks without recursion and `Expr` drops without recursion); only the right
            // operand nests.
            depth = depth.max(d + 1);
            lhs = Expr::new(ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)), span);
            self.check_depth(depth, span)?;
            lhs_is_comparison = op.is_comparison();
        }
        Ok((lhs, depth))
    }

    fn prefix(&mut self, nesting: usize) -> Result<Parsed, ParseError> {
        let t = self.next();
        let leaf = |k: ExprKind| Ok((Expr::new(k, t.span), 1));
        match t.tok {
            Tok::Int(v) => leaf(ExprKind::Num(Number::Int(v))),
            Tok::Float(v) => leaf(ExprKind::Num(Number::Float(v))),
            Tok::Str(ref s) => leaf(ExprKind::Str(s.clone())),
            Tok::Braced(ref n, ref b) => leaf(ExprKind::Braced(n.clone(), b.clone())),
            Tok::Ident(ref s) => match s.as_str() {
                "True" => leaf(ExprKind::Bool(true)),
                "False" => leaf(ExprKind::Bool(false)),
                "None" => leaf(ExprKind::None),
                _ => leaf(ExprKind::Name(s.clone())),
            },
            Tok::IntMinMagnitude => Err(ParseError::new(
                t.span,
                format!(
                    "integer literal {INT_MIN_MAGNITUDE} out of range of int64 (only -{INT_MIN_MAGNITUDE}, int64's minimum, is in range; write it as a float, e.g. `9.223372036854775808e18`)"
                ),
            )),
            // `-9223372036854775808` is one literal, int64's minimum (unless `**` binds the
            // magnitude first: `-a**b` is `-(a**b)`).
            Tok::Sym("-")
                if self.peek().tok == Tok::IntMinMagnitude
                    && self.tokens.get(self.pos + 1).is_none_or(|n| n.tok != Tok::Sym("**")) =>
            {
                let n = self.next();
                Ok((Expr::new(ExprKind::Num(Number::Int(i64::MIN)), t.span.to(n.span)), 1))
            }
            Tok::Sym(sym @ ("-" | "+" | "~")) => {
                let op = match sym {
                    "-" => UnOp::Neg,
                    "+" => UnOp::Pos,
                    _ => UnOp::Invert,
                };
                let (e, d) = self.expr(UNARY_BP, nesting + 1)?;
                let span = t.span.to(e.span);
                Ok((Expr::new(ExprKind::Unary(op, Box::new(e)), span), d + 1))
            }
            Tok::Sym("|") => {
                let (e, d) = self.expr(ABS_BP, nesting + 1)?;
                let end = self.close("|", t.span, "")?;
                Ok((Expr::new(ExprKind::Unary(UnOp::Abs, Box::new(e)), t.span.to(end)), d + 1))
            }
            Tok::Sym("@") => {
                let n = self.next();
                match n.tok {
                    Tok::Int(i) if i >= 0 => {
                        Ok((Expr::new(ExprKind::KeepAxis(i as usize), t.span.to(n.span)), 1))
                    }
                    other => Err(ParseError::new(
                        n.span,
                        format!(
                            "expected an axis number after `@` (as in `reshape(x, [@0,-1])`), found {}",
                            other.describe()
                        ),
                    )),
                }
            }
            Tok::Sym("(") => {
                if self.eat(")") {
                    return Ok((
                        Expr::new(ExprKind::Tuple(vec![]), t.span.to(self.tokens[self.pos - 1].span)),
                        1,
                    ));
                }
                let (first, mut depth) = self.expr(0, nesting + 1)?;
                if !matches!(self.peek().tok, Tok::Sym(",")) {
                    let end = self.close(")", t.span, "an operator or ")?;
                    let _ = end;
                    return Ok((first, depth));
                }
                let mut items = vec![first];
                while self.eat(",") {
                    if matches!(self.peek().tok, Tok::Sym(")")) {
                        break;
                    }
                    let (e, d) = self.expr(0, nesting + 1)?;
                    depth = depth.max(d);
                    items.push(e);
                }
                let end = self.close(")", t.span, "`,` or ")?;
                Ok((Expr::new(ExprKind::Tuple(items), t.span.to(end)), depth + 1))
            }
            Tok::Sym("[") => {
                let mut items = Vec::new();
                let mut depth = 0;
                loop {
                    if matches!(self.peek().tok, Tok::Sym("]")) {
                        break;
                    }
                    let (e, d) = self.expr(0, nesting + 1)?;
                    depth = depth.max(d);
                    items.push(e);
                    if !self.eat(",") {
                        break;
                    }
                }
                let end = self.close("]", t.span, "`,` or ")?;
                Ok((Expr::new(ExprKind::List(items), t.span.to(end)), depth + 1))
            }
            other => Err(ParseError::new(
                t.span,
                format!(
                    "expected an expression (a number, a name, `(`, `[` or a unary operator), found {}",
                    other.describe()
                ),
            )),
        }
    }

    /// Arguments after `(`: positional, then `name=value` keywords; consumes the `)`.
    fn call_args(
        &mut self,
        open: Span,
        nesting: usize,
    ) -> Result<(Vec<Expr>, Vec<Kwarg>, usize, Span), ParseError> {
        let mut args = Vec::new();
        let mut kwargs: Vec<Kwarg> = Vec::new();
        let mut depth = 0;
        loop {
            if matches!(self.peek().tok, Tok::Sym(")")) {
                break;
            }
            let is_kw = matches!(self.peek().tok, Tok::Ident(_))
                && matches!(self.tokens.get(self.pos + 1).map(|t| &t.tok), Some(Tok::Sym("=")));
            if is_kw {
                let n = self.next();
                self.pos += 1; // `=`
                let Tok::Ident(name) = n.tok else { unreachable!("checked") };
                if kwargs.iter().any(|k| k.name == name) {
                    return Err(ParseError::new(n.span, format!("keyword argument `{name}` repeated")));
                }
                let (value, d) = self.expr(0, nesting + 1)?;
                depth = depth.max(d);
                kwargs.push(Kwarg { name, name_span: n.span, value });
            } else {
                let start = self.peek().span;
                let (e, d) = self.expr(0, nesting + 1)?;
                if !kwargs.is_empty() {
                    return Err(ParseError::new(
                        start.to(e.span),
                        "positional argument after a keyword argument: expected `name=value`",
                    ));
                }
                depth = depth.max(d);
                args.push(e);
            }
            if !self.eat(",") {
                break;
            }
        }
        let end = self.close(")", open, "`,` or ")?;
        Ok((args, kwargs, depth, end))
    }

    /// Entries after `[`: positions and `start:stop:step` slices; consumes the `]`.
    fn subscripts(
        &mut self,
        open: Span,
        nesting: usize,
    ) -> Result<(Vec<Subscript>, usize, Span), ParseError> {
        let mut subs = Vec::new();
        let mut depth = 0;
        let is = |p: &Self, s: &str| matches!(&p.peek().tok, Tok::Sym(x) if *x == s);
        loop {
            if is(self, "]") {
                break;
            }
            let mut part = |p: &mut Self| -> Result<Option<Expr>, ParseError> {
                if is(p, ":") || is(p, ",") || is(p, "]") {
                    Ok(None)
                } else {
                    let (e, d) = p.expr(0, nesting + 1)?;
                    depth = depth.max(d);
                    Ok(Some(e))
                }
            };
            let start = part(self)?;
            if self.eat(":") {
                let stop = part(self)?;
                let step = if self.eat(":") { part(self)? } else { None };
                subs.push(Subscript::Slice(start, stop, step));
            } else {
                match start {
                    Some(e) => subs.push(Subscript::At(e)),
                    None => {
                        let t = self.peek().clone();
                        return Err(ParseError::new(
                            t.span,
                            format!(
                                "expected an index or a slice such as `1:` or `::2`, found {}",
                                t.tok.describe()
                            ),
                        ));
                    }
                }
            }
            if !self.eat(",") {
                break;
            }
        }
        let end = self.close("]", open, "`,` or ")?;
        if subs.is_empty() {
            return Err(ParseError::new(
                open.to(end),
                "empty subscript: expected an index or a slice inside `[]`",
            ));
        }
        Ok((subs, depth + 1, end))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A compact rendering of the tree, fully parenthesized.
    fn show(e: &Expr) -> String {
        match &e.kind {
            ExprKind::Num(Number::Int(v)) => v.to_string(),
            ExprKind::Num(Number::Float(v)) => format!("{v:?}"),
            ExprKind::Bool(b) => b.to_string(),
            ExprKind::None => "None".into(),
            ExprKind::Str(s) => format!("{s:?}"),
            ExprKind::Name(n) => n.clone(),
            ExprKind::Braced(n, b) => format!("{n}{{{b}}}"),
            ExprKind::KeepAxis(i) => format!("@{i}"),
            ExprKind::Unary(op, x) => format!("({op:?} {})", show(x)),
            ExprKind::Binary(op, a, b) => format!("({} {} {})", show(a), op.symbol(), show(b)),
            ExprKind::Attr(b, n) => format!("{}.{n}", show(b)),
            ExprKind::Call(f, a, k) => {
                let mut parts: Vec<String> = a.iter().map(show).collect();
                parts.extend(k.iter().map(|k| format!("{}={}", k.name, show(&k.value))));
                format!("{}({})", show(f), parts.join(", "))
            }
            ExprKind::Index(b, s) => format!("{}[{}]", show(b), s.len()),
            ExprKind::List(items) => format!("[{}]", items.iter().map(show).collect::<Vec<_>>().join(", ")),
            ExprKind::Tuple(items) => {
                format!("tuple({})", items.iter().map(show).collect::<Vec<_>>().join(", "))
            }
        }
    }

    fn p(s: &str) -> String {
        show(&parse(s).unwrap())
    }

    #[test]
    fn precedence() {
        assert_eq!(p("-x**2"), "(Neg (x ** 2))");
        assert_eq!(p("2**-1"), "(2 ** (Neg 1))");
        assert_eq!(p("2**3**2"), "(2 ** (3 ** 2))");
        assert_eq!(p("a+b*c"), "(a + (b * c))");
        assert_eq!(p("a-b-c"), "((a - b) - c)");
        assert_eq!(p("a < b + 1"), "(a < (b + 1))");
        assert_eq!(p("a | b & c"), "(a | (b & c))");
        assert_eq!(p("-x.T"), "(Neg x.T)");
        assert_eq!(p("1/(1+exp(-x))"), "(1 / (1 + exp((Neg x))))");
        assert_eq!(p("sum(x, axis=1, keepdims=True)"), "sum(x, axis=1, keepdims=true)");
        assert_eq!(p("(W \\dot x)"), "(W @ x)");
        assert_eq!(p("|x| + 1"), "((Abs x) + 1)");
        assert_eq!(p("(a | b)"), "(a | b)");
        assert_eq!(p("(1,)"), "tuple(1)");
        assert_eq!(p("x[1:, ::2]"), "x[2]");
    }

    #[test]
    fn errors_point_at_the_column() {
        let e = parse("(x + 1").unwrap_err();
        assert_eq!(e.span.start, 6);
        assert!(e.message.contains("expected"), "{}", e.message);
        let e = parse("x + * 2").unwrap_err();
        assert_eq!(e.span.start, 4);
        assert!(parse("a < b < c").is_err());
        assert!(parse("f(a=1, 2)").is_err());
        assert!(parse("x[]").is_err());
        let deep = "(".repeat(10_000) + "x" + &")".repeat(10_000);
        assert!(parse(&deep).is_err());
        // A flat chain is not nesting (#12 item 24); a right-nested one is.
        let long = vec!["x"; 10_000].join("+");
        assert!(parse(&long).is_ok());
        assert!(parse(&vec!["x"; 10_000].join("**")).is_err());
    }

    #[test]
    fn int64_minimum_and_unsupported_operators() {
        assert_eq!(p("-9223372036854775808"), "-9223372036854775808");
        assert_eq!(p("x - -9223372036854775808"), "(x - -9223372036854775808)");
        assert!(parse("9223372036854775808").unwrap_err().message.contains("out of range of int64"));
        assert!(parse("-9223372036854775808 ** 2").is_err());
        assert_eq!(p("a // b % c + d"), "(((a // b) % c) + d)");
    }
}
