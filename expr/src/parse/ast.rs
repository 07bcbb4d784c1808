//! The syntax tree of an expression. Every node keeps its `Span` so that later errors
//! (unknown name, wrong argument, type error) point at the part of the source they are about.

/// A byte range `[start, end)` of the source text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// The range `[start, end)`.
    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span { start: self.start.min(other.start), end: self.end.max(other.end) }
    }
}

/// Binary operators, by their Python spelling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `//`, floor division
    FloorDiv,
    /// `%`, the remainder with the divisor's sign
    Mod,
    /// `**`
    Pow,
    /// `@` or `\dot`
    Dot,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `&`
    And,
    /// `|`
    Or,
}

impl BinOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::FloorDiv => "//",
            BinOp::Mod => "%",
            BinOp::Pow => "**",
            BinOp::Dot => "@",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::And => "&",
            BinOp::Or => "|",
        }
    }

    /// True for the comparisons (which Python does not let chain without meaning `and`).
    pub fn is_comparison(self) -> bool {
        matches!(self, BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge | BinOp::Eq | BinOp::Ne)
    }
}

/// Unary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    /// `-x`
    Neg,
    /// `+x` (no-op)
    Pos,
    /// `~x` (logical/bitwise not)
    Invert,
    /// `|x|` (absolute value, as `pp` prints it)
    Abs,
}

/// A number as written: integers stay integers (their dtype follows the tensors around them).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Number {
    /// An integer literal.
    Int(i64),
    /// A float literal (also `inf`, `nan`).
    Float(f64),
}

/// One entry of a subscript `x[...]`.
#[derive(Clone, Debug, PartialEq)]
pub enum Subscript {
    /// A single position (an expression: a number or an integer scalar).
    At(Expr),
    /// `start:stop:step`, each part optional.
    Slice(Option<Expr>, Option<Expr>, Option<Expr>),
}

/// A keyword argument `name=value`.
#[derive(Clone, Debug, PartialEq)]
pub struct Kwarg {
    /// The keyword.
    pub name: String,
    /// Where the keyword is written.
    pub name_span: Span,
    /// Its value.
    pub value: Expr,
}

/// An expression node with its source span.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    /// What it is.
    pub kind: ExprKind,
    /// Where it is written.
    pub span: Span,
}

/// The kinds of expression.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// A number literal.
    Num(Number),
    /// `True` / `False`.
    Bool(bool),
    /// `None`.
    None,
    /// A string literal `'x'` (dimshuffle patterns, dtype names).
    Str(String),
    /// A name: a variable, a constant (`inf`, `pi`), a module (`T`) or a function.
    Name(String),
    /// A name with a brace argument as `pp` prints it: `TensorConstant{2.0}`, `cast{float32}`,
    /// `DimShuffle{0,x}`. The text between the braces is kept raw.
    Braced(String, String),
    /// `@i` inside `reshape(x, [@0,-1])`: keep the length of input axis `i` (as `pp` prints).
    KeepAxis(usize),
    /// A unary operation.
    Unary(UnOp, Box<Expr>),
    /// A binary operation.
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `base.name`.
    Attr(Box<Expr>, String),
    /// `callee(args, kw=value)`.
    Call(Box<Expr>, Vec<Expr>, Vec<Kwarg>),
    /// `base[entries]`.
    Index(Box<Expr>, Vec<Subscript>),
    /// `[a, b, ...]`.
    List(Vec<Expr>),
    /// `(a, b, ...)` or `(a,)`.
    Tuple(Vec<Expr>),
}

impl Expr {
    /// A node.
    pub fn new(kind: ExprKind, span: Span) -> Expr {
        Expr { kind, span }
    }
}

impl Drop for Expr {
    /// Drops a flat chain of binary operations (`x + x + … + x`, a tree as deep as it is
    /// long) along its left operands without recursion; everything else nests no deeper
    /// than the parser's limit.
    fn drop(&mut self) {
        let ExprKind::Binary(_, lhs, _) = &mut self.kind else { return };
        if !matches!(lhs.kind, ExprKind::Binary(..)) {
            return;
        }
        let mut next = std::mem::replace(&mut **lhs, Expr::new(ExprKind::None, Span::default()));
        // Each step detaches the left operand before the node is dropped, so dropping the
        // node recurses only into its right operand.
        while let ExprKind::Binary(_, lhs, _) = &mut next.kind {
            let inner = std::mem::replace(&mut **lhs, Expr::new(ExprKind::None, Span::default()));
            next = inner;
        }
    }
}
