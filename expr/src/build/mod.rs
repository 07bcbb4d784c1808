//! From syntax tree to graph: each node of an `Expr` becomes a `tensorlift::Var` built
//! with the library's own builders, and each builder's type check runs at once, so a type
//! error points at the part of the expression that caused it (with the library's message).
//!
//! Names resolve in this order: declared variables (`--var`), numbers (`inf`, `nan`, `pi`,
//! `e`), modules (`T`, `tensor`, `theano`, `nnet`, `np`, … so `T.nnet.sigmoid(x)` pastes
//! in), then the functions of the `functions` table under their `theano.tensor` names. An unknown name
//! lists the closest known ones.

use crate::parse::ast::{BinOp, Expr, ExprKind, Number, Subscript, UnOp};
use crate::parse::{caret, parse, ParseError, Span};
use crate::values::{self, Scalar};
use tensorlift_ir as tl;
use tl::{Axes, DType, Index, ScalarOp, SliceBound, Term, Var};

mod args;
mod conv;
mod functions;

pub use args::{closest, edit_distance};
use args::{did_you_mean, Args};

pub use functions::{is_function, known_functions, ALIASES};

/// An error in an expression (syntax, name, argument or type), with where it is.
#[derive(Clone, Debug, PartialEq)]
pub struct ExprError {
    /// The part of the expression it is about.
    pub span: Span,
    /// What is wrong.
    pub message: String,
}

impl ExprError {
    fn new(span: Span, message: impl Into<String>) -> ExprError {
        ExprError { span, message: message.into() }
    }

    /// The message, the expression, and a caret line under the offending part.
    pub fn render(&self, source: &str) -> String {
        format!("{}\n{}", self.message, caret(source, self.span))
    }
}

impl From<ParseError> for ExprError {
    fn from(e: ParseError) -> ExprError {
        ExprError { span: e.span, message: format!("syntax error: {}", e.message) }
    }
}

type R<T> = Result<T, ExprError>;

/// The declared variables an expression may use.
#[derive(Clone, Debug, Default)]
pub struct Scope {
    vars: Vec<(String, Var)>,
}

impl Scope {
    /// An empty scope.
    pub fn new() -> Scope {
        Scope::default()
    }

    /// Declares `name` as `var` (a later declaration of the same name replaces it).
    pub fn declare(&mut self, name: &str, var: Var) {
        self.vars.retain(|(n, _)| n != name);
        self.vars.push((name.to_string(), var));
    }

    /// The variable declared as `name`.
    pub fn get(&self, name: &str) -> Option<&Var> {
        self.vars.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// The declared names, in declaration order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.vars.iter().map(|(n, _)| n.as_str())
    }
}

/// A built expression and the declared variables it reads, in declaration order.
#[derive(Clone, Debug)]
pub struct Built {
    /// The graph of the expression.
    pub var: Var,
    /// Names of the variables it uses.
    pub used: Vec<String>,
}

/// Parses and builds `src` with the variables of `scope`.
pub fn build(src: &str, scope: &Scope) -> R<Built> {
    let e = parse(src)?;
    build_expr(&e, scope)
}

/// Builds a parsed expression.
pub fn build_expr(e: &Expr, scope: &Scope) -> R<Built> {
    let mut b = Builder { scope, used: vec![false; scope.vars.len()] };
    let v = b.eval(e)?;
    let var = b.to_var(v, e.span)?;
    let used = scope.vars.iter().zip(&b.used).filter(|(_, u)| **u).map(|((n, _), _)| n.clone()).collect();
    Ok(Built { var, used })
}

/// Module names stripped from dotted paths: `T.exp`, `theano.tensor.nnet.sigmoid`, `np.pi`.
pub const MODULES: [&str; 18] = [
    "T",
    "TT",
    "tt",
    "at",
    "pt",
    "tensor",
    "theano",
    "pytensor",
    "aesara",
    "nnet",
    "np",
    "numpy",
    "math",
    "basic",
    "signal",
    "pool",
    "conv",
    "abstract_conv",
];

/// A callable: a named function, or one of `pp`'s braced forms.
#[derive(Clone, Debug)]
enum Func {
    Named(String),
    Cast(DType),
    DimShuffle(String),
}

/// The value of a subexpression while building.
#[derive(Clone, Debug)]
enum Val {
    Tensor(Var),
    Num(Number),
    Bool(bool),
    Str(String),
    None,
    List(Vec<(Val, Span)>),
    Tuple(Vec<(Val, Span)>),
    KeepAxis(usize),
    Module,
    Func(Func),
    Method(Var, String),
}

impl Val {
    fn describe(&self) -> &'static str {
        match self {
            Val::Tensor(_) => "a tensor",
            Val::Num(_) => "a number",
            Val::Bool(_) => "a boolean",
            Val::Str(_) => "a string",
            Val::None => "None",
            Val::List(_) => "a list",
            Val::Tuple(_) => "a tuple",
            Val::KeepAxis(_) => "an `@axis` reshape entry",
            Val::Module => "a module",
            Val::Func(_) | Val::Method(..) => "a function",
        }
    }
}

struct Builder<'a> {
    scope: &'a Scope,
    used: Vec<bool>,
}

/// Checks a freshly built `Var`, reporting the library's type error at `span`.
fn checked(v: Var, span: Span) -> R<Var> {
    match v.check() {
        Ok(()) => Ok(v),
        Err(e) => Err(ExprError::new(span, format!("type error: {}", e.kind))),
    }
}

/// Python's arithmetic on two number literals, so `x ** (1/2)` keeps `x`'s dtype.
fn fold(op: BinOp, a: Number, b: Number) -> Option<Number> {
    use Number::{Float, Int};
    let f = |n: Number| match n {
        Int(i) => i as f64,
        Float(f) => f,
    };
    Some(match (op, a, b) {
        (BinOp::Add, Int(x), Int(y)) => x.checked_add(y).map_or(Float(x as f64 + y as f64), Int),
        (BinOp::Sub, Int(x), Int(y)) => x.checked_sub(y).map_or(Float(x as f64 - y as f64), Int),
        (BinOp::Mul, Int(x), Int(y)) => x.checked_mul(y).map_or(Float(x as f64 * y as f64), Int),
        (BinOp::Pow, Int(x), Int(y)) if y >= 0 => {
            u32::try_from(y).ok().and_then(|y| x.checked_pow(y)).map_or(Float((x as f64).powf(y as f64)), Int)
        }
        (BinOp::Add, a, b) => Float(f(a) + f(b)),
        (BinOp::Sub, a, b) => Float(f(a) - f(b)),
        (BinOp::Mul, a, b) => Float(f(a) * f(b)),
        (BinOp::Div, a, b) => Float(f(a) / f(b)),
        (BinOp::Pow, a, b) => Float(f(a).powf(f(b))),
        _ => return None,
    })
}

impl Builder<'_> {
    fn eval(&mut self, e: &Expr) -> R<Val> {
        let span = e.span;
        match &e.kind {
            ExprKind::Num(n) => Ok(Val::Num(*n)),
            ExprKind::Bool(b) => Ok(Val::Bool(*b)),
            ExprKind::None => Ok(Val::None),
            ExprKind::Str(s) => Ok(Val::Str(s.clone())),
            ExprKind::KeepAxis(i) => Ok(Val::KeepAxis(*i)),
            ExprKind::Name(n) => self.name(n, span),
            ExprKind::Braced(n, body) => self.braced(n, body, span),
            ExprKind::List(items) => Ok(Val::List(self.eval_all(items)?)),
            ExprKind::Tuple(items) => Ok(Val::Tuple(self.eval_all(items)?)),
            ExprKind::Unary(op, x) => {
                let v = self.eval(x)?;
                match (op, v) {
                    (UnOp::Pos, v @ (Val::Num(_) | Val::Tensor(_))) => Ok(v),
                    (UnOp::Neg, Val::Num(Number::Int(i))) => {
                        Ok(Val::Num(i.checked_neg().map_or(Number::Float(-(i as f64)), Number::Int)))
                    }
                    (UnOp::Neg, Val::Num(Number::Float(f))) => Ok(Val::Num(Number::Float(-f))),
                    (op, v) => {
                        let t = self.to_term(v, x.span)?;
                        let sop = match op {
                            UnOp::Neg => ScalarOp::Neg,
                            UnOp::Pos => return self.to_term_val(t, span),
                            UnOp::Invert => ScalarOp::Not,
                            UnOp::Abs => ScalarOp::Abs,
                        };
                        self.elemwise(sop, vec![t], span)
                    }
                }
            }
            ExprKind::Binary(..) => self.chain(e),
            ExprKind::Attr(base, name) => self.attr(base, name, span),
            ExprKind::Call(callee, args, kwargs) => self.call(callee, args, kwargs, span),
            ExprKind::Index(base, subs) => {
                let bv = self.eval(base)?;
                let x = self.to_var(bv, base.span)?;
                let index = self.subscripts(subs)?;
                Ok(Val::Tensor(checked(x.get(&index), span)?))
            }
        }
    }

    /// A binary operation and the binary operations down its left operands (a flat chain
    /// such as `x + x + … + x` is a tree as deep as it is long), walked without recursion:
    /// the innermost left operand first, then each right operand applied in turn.
    fn chain(&mut self, e: &Expr) -> R<Val> {
        let mut spine = Vec::new();
        let mut bottom = e;
        while let ExprKind::Binary(op, a, b) = &bottom.kind {
            spine.push((*op, b.as_ref(), bottom.span));
            bottom = a;
        }
        let mut acc = self.eval(bottom)?;
        let mut acc_span = bottom.span;
        for (op, b, span) in spine.into_iter().rev() {
            let vb = self.eval(b)?;
            acc = self.binary(op, (acc, acc_span), (vb, b.span), span)?;
            acc_span = span;
        }
        Ok(acc)
    }

    /// `a op b` of two built operands.
    fn binary(
        &mut self,
        op: BinOp,
        (va, a_span): (Val, Span),
        (vb, b_span): (Val, Span),
        span: Span,
    ) -> R<Val> {
        if let (Val::Num(x), Val::Num(y)) = (&va, &vb) {
            if let Some(n) = fold(op, *x, *y) {
                return Ok(Val::Num(n));
            }
        }
        let ta = self.to_term(va, a_span)?;
        let tb = self.to_term(vb, b_span)?;
        let sop = match op {
            BinOp::Add => ScalarOp::Add,
            BinOp::Sub => ScalarOp::Sub,
            BinOp::Mul => ScalarOp::Mul,
            BinOp::Div => ScalarOp::Div,
            BinOp::Pow => ScalarOp::Pow,
            BinOp::Lt => ScalarOp::Lt,
            BinOp::Le => ScalarOp::Le,
            BinOp::Gt => ScalarOp::Gt,
            BinOp::Ge => ScalarOp::Ge,
            BinOp::Eq => ScalarOp::Eq,
            BinOp::Ne => ScalarOp::Neq,
            BinOp::And => ScalarOp::And,
            BinOp::Or => ScalarOp::Or,
            BinOp::FloorDiv => ScalarOp::IntDiv,
            BinOp::Mod => ScalarOp::Mod,
            BinOp::Dot => return Ok(Val::Tensor(checked(tl::dot(ta, tb), span)?)),
        };
        self.elemwise(sop, vec![ta, tb], span)
    }

    fn eval_all(&mut self, items: &[Expr]) -> R<Vec<(Val, Span)>> {
        items.iter().map(|i| Ok((self.eval(i)?, i.span))).collect()
    }

    fn to_term_val(&self, t: Term, span: Span) -> R<Val> {
        Ok(match t {
            Term::Var(v) => Val::Tensor(checked(v, span)?),
            Term::Int(i) => Val::Num(Number::Int(i)),
            Term::Float(f) => Val::Num(Number::Float(f)),
            Term::Bool(b) => Val::Bool(b),
        })
    }

    fn elemwise(&self, op: ScalarOp, terms: Vec<Term>, span: Span) -> R<Val> {
        match tl::try_elemwise(op, terms) {
            Ok(v) => Ok(Val::Tensor(v)),
            Err(e) => Err(ExprError::new(span, format!("type error: {}", e.kind))),
        }
    }

    fn name(&mut self, n: &str, span: Span) -> R<Val> {
        if let Some(k) = self.scope.vars.iter().position(|(name, _)| name == n) {
            self.used[k] = true;
            return Ok(Val::Tensor(self.scope.vars[k].1.clone()));
        }
        if let Some(v) = values::named_constant(n) {
            return Ok(Val::Num(Number::Float(v)));
        }
        if MODULES.contains(&n) {
            return Ok(Val::Module);
        }
        if functions::is_function(n) {
            return Ok(Val::Func(Func::Named(n.to_string())));
        }
        let mut candidates: Vec<&str> = self.scope.names().collect();
        candidates.extend(known_functions());
        candidates.extend(values::CONSTANT_NAMES.iter().map(|(c, _)| *c));
        let near = closest(n, candidates);
        Err(ExprError::new(
            span,
            format!(
                "unknown name `{n}`: declare the variable with --var {n}:TYPE (e.g. --var {n}:dvector) or --var {n}=VALUE{}",
                did_you_mean(&near)
            ),
        ))
    }

    fn braced(&mut self, n: &str, body: &str, span: Span) -> R<Val> {
        match n {
            "TensorConstant" | "Constant" | "ScalarConstant" => {
                let lit = values::parse_constant_body(body).map_err(|m| ExprError::new(span, m))?;
                if lit.shape.is_empty() {
                    return Ok(match lit.data[0] {
                        Scalar::Int(i) => Val::Num(Number::Int(i)),
                        Scalar::Float(f) => Val::Num(Number::Float(f)),
                        Scalar::Bool(b) => Val::Bool(b),
                    });
                }
                Ok(Val::Tensor(tl::constant(lit.to_tensor())))
            }
            "cast" => match DType::from_name(body.trim()) {
                Some(d) => Ok(Val::Func(Func::Cast(d))),
                None => Err(ExprError::new(span, format!("unknown dtype `{body}` in cast{{…}}: expected one of bool, int32, int64, float32, float64"))),
            },
            "DimShuffle" => Ok(Val::Func(Func::DimShuffle(body.to_string()))),
            "Composite" | "Elemwise" => Err(ExprError::new(
                span,
                format!("`{n}{{…}}` is a fused kernel made by the optimizer and cannot be rebuilt from text; use the expression before optimization"),
            )),
            _ => Err(ExprError::new(
                span,
                format!(
                    "unknown form `{n}{{…}}`: expected `TensorConstant{{…}}`, `cast{{dtype}}` or `DimShuffle{{…}}`{}",
                    did_you_mean(&closest(n, ["TensorConstant", "cast", "DimShuffle"]))
                ),
            )),
        }
    }

    fn attr(&mut self, base: &Expr, name: &str, span: Span) -> R<Val> {
        let bv = self.eval(base)?;
        match bv {
            Val::Module => {
                if MODULES.contains(&name) {
                    return Ok(Val::Module);
                }
                if let Some(v) = values::named_constant(name) {
                    return Ok(Val::Num(Number::Float(v)));
                }
                if functions::is_function(name) {
                    return Ok(Val::Func(Func::Named(name.to_string())));
                }
                Err(ExprError::new(
                    span,
                    format!("unknown function `{name}`{}", did_you_mean(&closest(name, known_functions()))),
                ))
            }
            Val::Tensor(v) => match name {
                "T" => Ok(Val::Tensor(checked(v.t(), span)?)),
                "ndim" => Ok(Val::Num(Number::Int(v.ndim() as i64))),
                "shape" => Ok(Val::Tensor(checked(tl::shape(&v), span)?)),
                _ if functions::is_function(name) => Ok(Val::Method(v, name.to_string())),
                _ => {
                    let mut c = vec!["T", "ndim", "shape"];
                    c.extend(known_functions());
                    Err(ExprError::new(
                        span,
                        format!("unknown attribute `.{name}` of a tensor{}", did_you_mean(&closest(name, c))),
                    ))
                }
            },
            other => Err(ExprError::new(
                span,
                format!("`.{name}` of {}: expected a tensor or a module such as `T`", other.describe()),
            )),
        }
    }

    fn to_term(&self, v: Val, span: Span) -> R<Term> {
        match v {
            Val::Tensor(v) => Ok(Term::Var(v)),
            Val::Num(Number::Int(i)) => Ok(Term::Int(i)),
            Val::Num(Number::Float(f)) => Ok(Term::Float(f)),
            Val::Bool(b) => Ok(Term::Bool(b)),
            Val::List(_) | Val::Tuple(_) => Ok(Term::Var(self.list_constant(&v, span)?)),
            Val::Func(Func::Named(n)) | Val::Method(_, n) => {
                Err(ExprError::new(span, format!("`{n}` is a function: call it, as in `{n}(x)`")))
            }
            other => Err(ExprError::new(
                span,
                format!("expected a tensor or a number, found {}", other.describe()),
            )),
        }
    }

    fn to_var(&self, v: Val, span: Span) -> R<Var> {
        match self.to_term(v, span)? {
            Term::Var(v) => checked(v, span),
            Term::Int(i) => Ok(tl::constant(i)),
            Term::Float(f) => Ok(tl::constant(f)),
            Term::Bool(b) => Ok(tl::constant(b)),
        }
    }

    /// A nested list of numbers as a constant tensor.
    fn list_constant(&self, v: &Val, span: Span) -> R<Var> {
        fn lit(v: &Val, span: Span) -> R<values::Literal> {
            match v {
                Val::Num(Number::Int(i)) => {
                    Ok(values::Literal { shape: vec![], data: vec![Scalar::Int(*i)] })
                }
                Val::Num(Number::Float(f)) => {
                    Ok(values::Literal { shape: vec![], data: vec![Scalar::Float(*f)] })
                }
                Val::Bool(b) => Ok(values::Literal { shape: vec![], data: vec![Scalar::Bool(*b)] }),
                Val::List(items) | Val::Tuple(items) => {
                    let parts: Vec<(values::Literal, Span)> =
                        items.iter().map(|(v, s)| Ok((lit(v, *s)?, *s))).collect::<R<_>>()?;
                    let inner = parts.first().map(|p| p.0.shape.clone()).unwrap_or_default();
                    let mut data = Vec::new();
                    for (k, (p, s)) in parts.iter().enumerate() {
                        if p.shape != inner {
                            return Err(ExprError::new(
                                *s,
                                format!("ragged nested list: element {k} has shape {:?}, element 0 has shape {inner:?}", p.shape),
                            ));
                        }
                        data.extend_from_slice(&p.data);
                    }
                    let mut shape = vec![parts.len()];
                    shape.extend(inner);
                    Ok(values::Literal { shape, data })
                }
                other => Err(ExprError::new(
                    span,
                    format!("a list constant holds numbers, found {}", other.describe()),
                )),
            }
        }
        Ok(tl::constant(lit(v, span)?.to_tensor()))
    }

    fn int(&self, v: &Val, span: Span, what: &str) -> R<i64> {
        match v {
            Val::Num(Number::Int(i)) => Ok(*i),
            other => Err(ExprError::new(
                span,
                format!("{what} must be an integer number, found {}", other.describe()),
            )),
        }
    }

    fn isize(&self, v: &Val, span: Span, what: &str) -> R<isize> {
        let i = self.int(v, span, what)?;
        isize::try_from(i).map_err(|_| ExprError::new(span, format!("{what} out of range")))
    }

    fn boolean(&self, v: &Val, span: Span, what: &str) -> R<bool> {
        match v {
            Val::Bool(b) => Ok(*b),
            Val::Num(Number::Int(i)) => Ok(*i != 0),
            other => {
                Err(ExprError::new(span, format!("{what} must be True or False, found {}", other.describe())))
            }
        }
    }

    fn axes(&self, v: Option<&(Val, Span)>) -> R<Axes> {
        match v {
            None | Some((Val::None, _)) => Ok(Axes::All),
            Some((Val::Tuple(items) | Val::List(items), _)) => {
                Ok(Axes::These(items.iter().map(|(v, s)| self.isize(v, *s, "an axis")).collect::<R<_>>()?))
            }
            Some((v, s)) => Ok(Axes::These(vec![self.isize(v, *s, "axis")?])),
        }
    }

    fn tensors(&self, v: (Val, Span), what: &str) -> R<Vec<Var>> {
        match v.0 {
            Val::List(items) | Val::Tuple(items) => {
                items.into_iter().map(|(v, s)| self.to_var(v, s)).collect()
            }
            other => Err(ExprError::new(
                v.1,
                format!("{what} takes a list of tensors such as `[a, b]`, found {}", other.describe()),
            )),
        }
    }

    fn subscripts(&mut self, subs: &[Subscript]) -> R<Vec<Index>> {
        let mut out = Vec::with_capacity(subs.len());
        for s in subs {
            match s {
                Subscript::At(e) => match self.eval(e)? {
                    Val::Num(Number::Int(i)) => out.push(Index::At(
                        isize::try_from(i).map_err(|_| ExprError::new(e.span, "index out of range"))?,
                    )),
                    // An integer scalar is a position; an integer array or a boolean mask
                    // (a tensor or a list) is advanced indexing.
                    Val::Tensor(v) => out.push(Index::AtVar(v)),
                    l @ Val::List(_) => out.push(Index::Array(self.list_constant(&l, e.span)?)),
                    other => {
                        return Err(ExprError::new(
                            e.span,
                            format!(
                                "an index must be an integer, an integer scalar variable or an index array, found {}",
                                other.describe()
                            ),
                        ))
                    }
                },
                Subscript::Slice(a, b, c) => {
                    // A bound is a number or an integer scalar variable (`x[i*2:(i+1)*2]`).
                    let mut bound = |p: &Option<Expr>, what: &str| -> R<Option<SliceBound>> {
                        match p {
                            None => Ok(None),
                            Some(e) => match self.eval(e)? {
                                Val::None => Ok(None),
                                Val::Tensor(v) if v.ndim() == 0 && v.dtype().is_int() => {
                                    Ok(Some(SliceBound::Var(v)))
                                }
                                v => Ok(Some(SliceBound::Const(self.isize(&v, e.span, what)?))),
                            },
                        }
                    };
                    let start = bound(a, "a slice bound")?;
                    let stop = bound(b, "a slice bound")?;
                    let step = bound(c, "a slice step")?.unwrap_or(SliceBound::Const(1));
                    if matches!(step, SliceBound::Const(0)) {
                        let sp = c.as_ref().map_or(Span::default(), |e| e.span);
                        return Err(ExprError::new(sp, "slice step cannot be zero"));
                    }
                    out.push(Index::range(start, stop, step));
                }
            }
        }
        Ok(out)
    }

    fn call(
        &mut self,
        callee: &Expr,
        args: &[Expr],
        kwargs: &[crate::parse::ast::Kwarg],
        span: Span,
    ) -> R<Val> {
        if let ExprKind::Name(n) = &callee.kind {
            let known = self.scope.get(n).is_some() || functions::is_function(n);
            if !known {
                return Err(ExprError::new(
                    callee.span,
                    format!("unknown function `{n}`{}", did_you_mean(&closest(n, known_functions()))),
                ));
            }
        }
        let f = self.eval(callee)?;
        let (func, this) = match f {
            Val::Func(func) => (func, None),
            Val::Method(v, name) => (Func::Named(name), Some((Val::Tensor(v), callee.span))),
            other => {
                return Err(ExprError::new(callee.span, format!("{} is not callable", other.describe())));
            }
        };
        // set/inc_subtensor read their first argument as an indexed region, not a value.
        if let Func::Named(n) = &func {
            if functions::REGION_FUNCTIONS.contains(&n.as_str()) {
                return self.subtensor_update(n, args, kwargs, span);
            }
        }
        let mut pos = Vec::with_capacity(args.len() + 1);
        pos.extend(this);
        pos.extend(self.eval_all(args)?);
        let mut kw = Vec::with_capacity(kwargs.len());
        for k in kwargs {
            kw.push((k.name.clone(), k.name_span, self.eval(&k.value)?, k.value.span));
        }
        let fname = match &func {
            Func::Named(n) => n.clone(),
            Func::Cast(d) => format!("cast{{{d}}}"),
            Func::DimShuffle(p) => format!("DimShuffle{{{p}}}"),
        };
        let args = Args { fname, call: span, pos, kw };
        let v = match func {
            Func::Cast(d) => {
                let a = args.bind(&["x"], 1)?;
                let x = self.to_term(a[0].clone().expect("required").0, span)?;
                tl::cast(x, d)
            }
            Func::DimShuffle(p) => {
                let a = args.bind(&["x"], 1)?;
                let (x, s) = a[0].clone().expect("required");
                self.to_var(x, s)?.dimshuffle_pattern(&p)
            }
            Func::Named(n) => self.named_call(&n, args, span)?,
        };
        Ok(Val::Tensor(checked(v, span)?))
    }

    fn named_call(&mut self, n: &str, args: Args, span: Span) -> R<Var> {
        match functions::handler(n) {
            Some(h) => h(self, n, args, span),
            None => Err(ExprError::new(span, format!("unknown function `{n}`"))),
        }
    }

    fn subtensor_update(
        &mut self,
        n: &str,
        args: &[Expr],
        kwargs: &[crate::parse::ast::Kwarg],
        span: Span,
    ) -> R<Val> {
        if let Some(k) = kwargs.first() {
            return Err(ExprError::new(k.name_span, format!("{n}() takes no keyword arguments")));
        }
        let [region, value] = args else {
            return Err(ExprError::new(span, format!("{n}() takes 2 arguments, as in `{n}(x[1:], y)`")));
        };
        let ExprKind::Index(base, subs) = &region.kind else {
            return Err(ExprError::new(
                region.span,
                format!("the first argument of {n}() is an indexed tensor, as in `x[1:]`"),
            ));
        };
        let bv = self.eval(base)?;
        let x = self.to_var(bv, base.span)?;
        let index = self.subscripts(subs)?;
        let vv = self.eval(value)?;
        let y = self.to_term(vv, value.span)?;
        let v = if n == "set_subtensor" {
            tl::set_subtensor(&x, &index, y)
        } else {
            tl::inc_subtensor(&x, &index, y)
        };
        Ok(Val::Tensor(checked(v, span)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> Scope {
        let mut s = Scope::new();
        s.declare("x", tl::dvector("x"));
        s.declare("m", tl::dmatrix("m"));
        s
    }

    #[test]
    fn builds_and_prints() {
        let s = scope();
        let b = build("1/(1+exp(-x))", &s).unwrap();
        assert_eq!(b.used, vec!["x"]);
        assert_eq!(tl::pp(&b.var), "(TensorConstant{1.0} / (TensorConstant{1.0} + exp((-x))))");
        let b = build("T.sum(m, axis=1, keepdims=True)", &s).unwrap();
        assert_eq!(tl::pp(&b.var), "sum(m, axis=(1,), keepdims=True)");
        assert_eq!(tl::pp(&build("m.T", &s).unwrap().var), "m.T");
        assert_eq!(tl::pp(&build("x ** (1/2)", &s).unwrap().var), "(x ** TensorConstant{0.5})");
    }

    #[test]
    fn flat_chains_build_without_recursion() {
        // #12 item 24: 5000 terms, on a test thread's stack.
        let s = scope();
        let b = build(&vec!["x"; 5000].join(" + "), &s).unwrap();
        assert_eq!(b.var.ndim(), 1);
        let src = vec!["x"; 3000].join(" - ") + " - y";
        let e = build(&src, &s).unwrap_err();
        assert_eq!(e.span, Span::new(src.len() - 1, src.len()), "{}", e.message);
        // Left-associative binary nodes, as before.
        let b = build("x - x * 2 - 1", &s).unwrap();
        assert_eq!(tl::pp(&b.var), "((x - (x * TensorConstant{2.0})) - TensorConstant{1.0})");
    }

    #[test]
    fn errors() {
        let s = scope();
        let e = build("epx(x)", &s).unwrap_err();
        assert!(e.message.contains("unknown function `epx`; did you mean `exp`"), "{}", e.message);
        let e = build("x + y", &s).unwrap_err();
        assert!(e.message.contains("--var y"), "{}", e.message);
        assert_eq!(e.span, Span::new(4, 5));
        let e = build("dot(x, m, m)", &s).unwrap_err();
        assert!(e.message.contains("at most 2"), "{}", e.message);
        let e = build("sum(x, axis=3)", &s).unwrap_err();
        assert!(e.message.starts_with("type error"), "{}", e.message);
    }
}
