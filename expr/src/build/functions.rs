//! The expression language's functions: one table from each name to the handler that
//! builds it. The elementwise ops come from the op table (`ScalarOp::ALL` under their `pp`
//! names, and [`ALIASES`] under NumPy's and Theano's other spellings); the reductions from
//! `ReduceOp::ALL` and `ArgOp`; every other op kind's names are its `OpInfo::cli`, checked
//! against [`FUNCTIONS`] by the conformance test. Lookup ([`handler`]) and the list of names
//! ([`known_functions`]) read the same tables, so they cannot disagree.

use super::{checked, conv, Args, Builder, ExprError, Val, R};
use crate::parse::ast::Number;
use crate::parse::Span;
use tensorlift_ir as tl;
use tl::{ArgOp, Axes, CumOp, DType, ReduceOp, ScalarOp, Term, Var};

/// Builds a call's result from its bound arguments; `n` is the name it was called by.
pub(super) type Handler = fn(&mut Builder<'_>, &str, Args, Span) -> R<Var>;

/// The functions that are neither elementwise ops nor reductions, by name.
pub(super) const FUNCTIONS: &[(&str, Handler)] = &[
    ("logsumexp", logsumexp),
    ("softmax", softmax),
    ("log_softmax", softmax),
    ("logsoftmax", softmax),
    ("dot", dot),
    ("outer", outer),
    ("batched_dot", batched_dot),
    ("transpose", transpose),
    ("dimshuffle", dimshuffle),
    ("reshape", reshape),
    ("flatten", flatten),
    ("concatenate", concatenate),
    ("stack", concatenate),
    ("join", join),
    ("cast", cast),
    ("astype", cast),
    ("relu", relu),
    ("zeros_like", zeros_like),
    ("ones_like", zeros_like),
    ("shape", shape),
    ("shape_i", shape_i),
    ("alloc", alloc),
    ("arange", arange),
    ("take", take),
    ("ifelse", ifelse),
    ("addbroadcast", rebroadcast),
    ("unbroadcast", rebroadcast),
    ("patternbroadcast", rebroadcast),
    ("zero_grad", grad_barrier),
    ("disconnected_grad", grad_barrier),
    ("conv2d", conv::conv2d),
    ("conv2d_grad_wrt_inputs", conv::conv2d_grad),
    ("conv2d_transpose", conv::conv2d_grad),
    ("conv2d_grad_wrt_weights", conv::conv2d_grad),
    ("pool_2d", conv::pool_2d),
    ("cumsum", cumulative),
    ("cumprod", cumulative),
    ("sort", sort),
    ("argsort", sort),
    ("repeat", repeat),
    ("tile", tile),
    ("roll", roll),
    ("eye", eye),
    ("identity_like", identity_like),
];

/// Functions whose first argument is an indexed region (`x[1:]`), not a value: the
/// builder reads their arguments itself.
pub(super) const REGION_FUNCTIONS: [&str; 2] = ["set_subtensor", "inc_subtensor"];

/// Other names of elementwise ops (`theano.tensor` and NumPy spellings).
pub const ALIASES: &[(&str, ScalarOp)] = &[
    ("abs_", ScalarOp::Abs),
    ("sgn", ScalarOp::Sign),
    ("inv", ScalarOp::Reciprocal),
    ("power", ScalarOp::Pow),
    ("true_divide", ScalarOp::Div),
    ("divide", ScalarOp::Div),
    ("subtract", ScalarOp::Sub),
    ("multiply", ScalarOp::Mul),
    ("and_", ScalarOp::And),
    ("bitwise_and", ScalarOp::And),
    ("logical_and", ScalarOp::And),
    ("or_", ScalarOp::Or),
    ("bitwise_or", ScalarOp::Or),
    ("logical_or", ScalarOp::Or),
    ("invert", ScalarOp::Not),
    ("bitwise_not", ScalarOp::Not),
    ("logical_not", ScalarOp::Not),
    ("where", ScalarOp::Switch),
    ("fill", ScalarOp::Second),
    ("greater", ScalarOp::Gt),
    ("less", ScalarOp::Lt),
    ("greater_equal", ScalarOp::Ge),
    ("less_equal", ScalarOp::Le),
    ("equal", ScalarOp::Eq),
    ("not_equal", ScalarOp::Neq),
];

/// The elementwise op a function name stands for.
pub(super) fn scalar_op(name: &str) -> Option<ScalarOp> {
    ALIASES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, op)| *op)
        .or_else(|| ScalarOp::ALL.into_iter().find(|o| o.name() == name))
}

/// The handler of a function name, if it is one.
pub(super) fn handler(name: &str) -> Option<Handler> {
    if scalar_op(name).is_some() {
        return Some(elementwise);
    }
    if ReduceOp::ALL.iter().any(|r| r.name() == name) || ArgOp::ALL.iter().any(|a| a.name() == name) {
        return Some(reduction);
    }
    FUNCTIONS.iter().find(|(n, _)| *n == name).map(|(_, h)| *h)
}

/// True when `name` is a function of the expression language.
pub fn is_function(name: &str) -> bool {
    handler(name).is_some() || REGION_FUNCTIONS.contains(&name)
}

/// Every function name the expression language knows, for suggestions.
pub fn known_functions() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = ScalarOp::ALL.iter().map(|o| o.name()).collect();
    v.extend(ALIASES.iter().map(|(n, _)| *n));
    v.extend(ReduceOp::ALL.iter().map(|r| r.name()));
    v.extend(ArgOp::ALL.iter().map(|a| a.name()));
    v.extend(FUNCTIONS.iter().map(|(n, _)| *n));
    v.extend(REGION_FUNCTIONS);
    v
}

/// `x, axis=None, keepdims=False`: the arguments of every reduction.
fn reduce_args(b: &mut Builder<'_>, args: Args) -> R<(Var, Axes, bool)> {
    let a = args.bind(&["x", "axis", "keepdims"], 1)?;
    let (x, s) = a[0].clone().expect("required");
    let x = b.to_var(x, s)?;
    let axes = b.axes(a[1].as_ref())?;
    let keep = match &a[2] {
        Some((v, s)) => b.boolean(v, *s, "keepdims")?,
        None => false,
    };
    Ok((x, axes, keep))
}

/// `sum`, `max`, …, `argmax`, `argmin`: the reduction of that name.
fn reduction(b: &mut Builder<'_>, n: &str, args: Args, _span: Span) -> R<Var> {
    let (x, a, k) = reduce_args(b, args)?;
    match ReduceOp::ALL.into_iter().find(|r| r.name() == n) {
        Some(op) => Ok(tl::reduce(op, &x, a, k)),
        None => {
            let op = ArgOp::ALL.into_iter().find(|o| o.name() == n).expect("a reduction's name");
            Ok(tl::arg_reduce(op, &x, a, k))
        }
    }
}

fn logsumexp(b: &mut Builder<'_>, _n: &str, args: Args, _span: Span) -> R<Var> {
    let (x, a, k) = reduce_args(b, args)?;
    Ok(tl::logsumexp(&x, a, k))
}

fn softmax(b: &mut Builder<'_>, n: &str, args: Args, _span: Span) -> R<Var> {
    let a = args.bind(&["x", "axis"], 1)?;
    let (x, s) = a[0].clone().expect("required");
    let x = b.to_var(x, s)?;
    let axis = match &a[1] {
        Some((v, s)) => b.isize(v, *s, "axis")?,
        None => -1,
    };
    Ok(if n == "softmax" { tl::softmax(&x, axis) } else { tl::log_softmax(&x, axis) })
}

fn dot(b: &mut Builder<'_>, _n: &str, args: Args, _span: Span) -> R<Var> {
    let a = args.bind(&["a", "b"], 2)?;
    let (x, sx) = a[0].clone().expect("required");
    let (y, sy) = a[1].clone().expect("required");
    Ok(tl::dot(b.to_term(x, sx)?, b.to_term(y, sy)?))
}

fn outer(b: &mut Builder<'_>, _n: &str, args: Args, _span: Span) -> R<Var> {
    let a = args.bind(&["x", "y"], 2)?;
    let (x, sx) = a[0].clone().expect("required");
    let (y, sy) = a[1].clone().expect("required");
    Ok(tl::outer(&b.to_var(x, sx)?, &b.to_var(y, sy)?))
}

/// `batched_dot(x, y)` as Theano's: one product per index of the leading axis.
fn batched_dot(b: &mut Builder<'_>, _n: &str, args: Args, span: Span) -> R<Var> {
    let a = args.bind(&["x", "y"], 2)?;
    let (x, sx) = a[0].clone().expect("required");
    let (y, sy) = a[1].clone().expect("required");
    checked(tl::batched_dot(b.to_var(x, sx)?, b.to_var(y, sy)?), span)
}

fn transpose(b: &mut Builder<'_>, _n: &str, args: Args, span: Span) -> R<Var> {
    let pos = args.positional(1)?;
    let mut it = pos.into_iter();
    let (x, s) = it.next().expect("min 1");
    let x = b.to_var(x, s)?;
    let rest: Vec<(Val, Span)> = it.collect();
    let axes: Vec<(Val, Span)> = match rest.as_slice() {
        [(Val::Tuple(items) | Val::List(items), _)] => items.clone(),
        [(Val::None, _)] | [] => return checked(x.t(), span),
        _ => rest,
    };
    let axes: Vec<usize> = axes
        .iter()
        .map(|(v, s)| {
            let i = b.int(v, *s, "an axis")?;
            usize::try_from(i).map_err(|_| ExprError::new(*s, "transpose axes must be non-negative"))
        })
        .collect::<R<_>>()?;
    Ok(x.transpose(&axes))
}

/// The first of at least `min` positional arguments as a variable, and the rest: given one by
/// one (`f(x, 1, 0)`) or as one list or tuple (`f(x, (1, 0))`).
fn var_and_entries(b: &mut Builder<'_>, args: Args, min: usize) -> R<(Var, Vec<(Val, Span)>)> {
    let mut it = args.positional(min)?.into_iter();
    let (x, s) = it.next().expect("at least one positional argument");
    let x = b.to_var(x, s)?;
    let rest: Vec<(Val, Span)> = it.collect();
    let entries = match rest.as_slice() {
        [(Val::Tuple(items) | Val::List(items), _)] => items.clone(),
        _ => rest,
    };
    Ok((x, entries))
}

fn dimshuffle(b: &mut Builder<'_>, _n: &str, args: Args, span: Span) -> R<Var> {
    let (x, entries) = var_and_entries(b, args, 1)?;
    if let [(Val::Str(p), _)] = entries.as_slice() {
        return checked(x.dimshuffle_pattern(p), span);
    }
    let parts: Vec<String> = entries
        .iter()
        .map(|(v, s)| match v {
            Val::Str(p) if p == "x" => Ok("x".to_string()),
            Val::Num(Number::Int(i)) if *i >= 0 => Ok(i.to_string()),
            other => Err(ExprError::new(
                *s,
                format!("a dimshuffle entry is an axis number or 'x', found {}", other.describe()),
            )),
        })
        .collect::<R<_>>()?;
    Ok(x.dimshuffle_pattern(&parts.join(",")))
}

fn reshape(b: &mut Builder<'_>, _n: &str, args: Args, _span: Span) -> R<Var> {
    let (x, entries) = var_and_entries(b, args, 2)?;
    let mut dims = Vec::with_capacity(entries.len());
    for (v, s) in &entries {
        dims.push(match v {
            Val::KeepAxis(i) => tl::ReshapeDim::Keep(*i),
            Val::Num(Number::Int(-1)) => tl::ReshapeDim::Infer,
            Val::Num(Number::Int(i)) if *i >= 0 => tl::ReshapeDim::Fixed(*i as usize),
            other => {
                return Err(ExprError::new(
                    *s,
                    format!("a reshape length is a non-negative integer or -1, found {}", other.describe()),
                ))
            }
        });
    }
    Ok(tl::apply(tl::Op::Reshape { shape: dims }, vec![x]))
}

fn flatten(b: &mut Builder<'_>, _n: &str, args: Args, _span: Span) -> R<Var> {
    let a = args.bind(&["x", "ndim"], 1)?;
    let (x, s) = a[0].clone().expect("required");
    let x = b.to_var(x, s)?;
    let nd = match &a[1] {
        Some((v, s)) => {
            let i = b.int(v, *s, "ndim")?;
            usize::try_from(i).map_err(|_| ExprError::new(*s, "ndim must be positive"))?
        }
        None => 1,
    };
    Ok(x.flatten(nd))
}

fn concatenate(b: &mut Builder<'_>, n: &str, args: Args, span: Span) -> R<Var> {
    let a = args.bind(&["tensors", "axis"], 1)?;
    let xs = b.tensors(a[0].clone().expect("required"), n)?;
    let axis = match &a[1] {
        Some((v, s)) => b.isize(v, *s, "axis")?,
        None => 0,
    };
    if xs.is_empty() {
        return Err(ExprError::new(span, format!("{n}() needs at least one tensor")));
    }
    Ok(if n == "stack" { tl::stack(&xs, axis) } else { tl::concatenate(&xs, axis) })
}

fn join(b: &mut Builder<'_>, _n: &str, args: Args, _span: Span) -> R<Var> {
    let pos = args.positional(2)?;
    let axis = b.isize(&pos[0].0, pos[0].1, "axis")?;
    let xs: Vec<Var> = pos[1..].iter().map(|(v, s)| b.to_var(v.clone(), *s)).collect::<R<_>>()?;
    Ok(tl::concatenate(&xs, axis))
}

fn cast(b: &mut Builder<'_>, _n: &str, args: Args, _span: Span) -> R<Var> {
    let a = args.bind(&["x", "dtype"], 2)?;
    let (x, s) = a[0].clone().expect("required");
    let (d, ds) = a[1].clone().expect("required");
    Ok(tl::cast(b.to_term(x, s)?, dtype(&d, ds)?))
}

/// A dtype argument: `'float64'`, `'int32'`, …, or `'floatX'`, `'float'`, `'int'`.
fn dtype(d: &Val, ds: Span) -> R<DType> {
    match d {
        Val::Str(name) => DType::from_name(name).or(match name.as_str() {
            "float" | "double" => Some(DType::F64),
            "int" => Some(DType::I64),
            "floatX" => Some(tl::config::float_x()),
            _ => None,
        }),
        _ => None,
    }
    .ok_or_else(|| ExprError::new(ds, "dtype must be one of 'bool', 'int32', 'int64', 'float32', 'float64'"))
}

/// `relu(x)`, `relu(x, alpha)` (leaky) as Theano's.
fn relu(b: &mut Builder<'_>, _n: &str, args: Args, _span: Span) -> R<Var> {
    let a = args.bind(&["x", "alpha"], 1)?;
    let (x, s) = a[0].clone().expect("required");
    let alpha = match a[1].clone() {
        Some((Val::Num(Number::Int(i)), _)) => i as f64,
        Some((Val::Num(Number::Float(f)), _)) => f,
        Some((v, s)) => {
            return Err(ExprError::new(s, format!("relu's alpha is a number, found {}", v.describe())))
        }
        None => 0.0,
    };
    Ok(tl::nnet::relu(b.to_term(x, s)?, alpha))
}

fn zeros_like(b: &mut Builder<'_>, n: &str, args: Args, _span: Span) -> R<Var> {
    let a = args.bind(&["x"], 1)?;
    let (x, s) = a[0].clone().expect("required");
    let fill = if n == "zeros_like" { 0 } else { 1 };
    Ok(tl::elemwise(ScalarOp::Second, vec![b.to_term(x, s)?, Term::Int(fill)]))
}

fn shape(b: &mut Builder<'_>, _n: &str, args: Args, _span: Span) -> R<Var> {
    let a = args.bind(&["x"], 1)?;
    let (x, s) = a[0].clone().expect("required");
    Ok(tl::shape(b.to_var(x, s)?))
}

fn shape_i(b: &mut Builder<'_>, _n: &str, args: Args, _span: Span) -> R<Var> {
    let a = args.bind(&["x", "i"], 2)?;
    let (x, s) = a[0].clone().expect("required");
    let (i, si) = a[1].clone().expect("required");
    Ok(tl::shape_i(b.to_var(x, s)?, b.isize(&i, si, "an axis")?))
}

/// `arange(stop)`, `arange(start, stop)`, `arange(start, stop, step)` as NumPy's, each
/// bound a number or a numeric scalar expression (`arange(shape_i(y, 0))`).
fn arange(b: &mut Builder<'_>, _n: &str, args: Args, _span: Span) -> R<Var> {
    let a = args.bind(&["start", "stop", "step"], 1)?;
    let term = |k: usize| -> R<Option<Term>> { a[k].clone().map(|(v, s)| b.to_term(v, s)).transpose() };
    let (first, second, step) = (term(0)?, term(1)?, term(2)?);
    let (start, stop) = match second {
        Some(stop) => (first.expect("required"), stop),
        None => (Term::Int(0), first.expect("required")),
    };
    Ok(tl::arange((start, stop, step.unwrap_or(Term::Int(1)))))
}

/// `addbroadcast(x, *axes)`, `unbroadcast(x, *axes)` and `patternbroadcast(x, [flags])` as
/// Theano's: the static broadcastability of axes changed.
fn rebroadcast(b: &mut Builder<'_>, n: &str, args: Args, span: Span) -> R<Var> {
    let (x, entries) = var_and_entries(b, args, 1)?;
    if n == "patternbroadcast" {
        let flags = entries
            .iter()
            .map(|(v, s)| match v {
                Val::Num(Number::Int(i)) if (0..=1).contains(i) => Ok(*i == 1),
                Val::Bool(f) => Ok(*f),
                other => Err(ExprError::new(
                    *s,
                    format!("a broadcast flag is 0, 1, True or False, found {}", other.describe()),
                )),
            })
            .collect::<R<Vec<bool>>>()?;
        return checked(tl::patternbroadcast(&x, &flags), span);
    }
    let axes = entries.iter().map(|(v, s)| b.isize(v, *s, "an axis")).collect::<R<Vec<isize>>>()?;
    let out = if n == "addbroadcast" { tl::addbroadcast(&x, &axes) } else { tl::unbroadcast(&x, &axes) };
    checked(out, span)
}

/// `ifelse(condition, then_branch, else_branch)` as Theano's: lazy, only the branch taken is
/// computed.
fn ifelse(b: &mut Builder<'_>, _n: &str, args: Args, _span: Span) -> R<Var> {
    let a = args.bind(&["condition", "then_branch", "else_branch"], 3)?;
    let term = |k: usize| -> R<Term> {
        let (v, s) = a[k].clone().expect("required");
        b.to_term(v, s)
    };
    let (cond, then, other) = (term(0)?, term(1)?, term(2)?);
    Ok(tl::ifelse(cond, then, other))
}

/// `take(a, indices, axis=None)` as NumPy's: the slices of `a` at integer `indices` along
/// `axis`, or the elements of `a` flattened.
fn take(b: &mut Builder<'_>, _n: &str, args: Args, _span: Span) -> R<Var> {
    let a = args.bind(&["a", "indices", "axis"], 2)?;
    let (x, s) = a[0].clone().expect("required");
    let (i, si) = a[1].clone().expect("required");
    let indices = match i {
        l @ Val::List(_) => b.list_constant(&l, si)?,
        other => b.to_var(other, si)?,
    };
    let axis = match a[2].clone() {
        None | Some((Val::None, _)) => None,
        Some((v, sa)) => Some(b.isize(&v, sa, "an axis")?),
    };
    Ok(tl::take(b.to_var(x, s)?, indices, axis))
}

/// `alloc(value, n0, n1, …)`: each length a non-negative integer or an integer scalar
/// expression.
fn alloc(b: &mut Builder<'_>, _n: &str, args: Args, _span: Span) -> R<Var> {
    let pos = args.positional(1)?;
    let mut it = pos.into_iter();
    let (v, s) = it.next().expect("min 1");
    let value = b.to_term(v, s)?;
    let lengths = it
        .map(|(v, s)| match v {
            Val::Num(Number::Int(i)) => usize::try_from(i)
                .map(tl::Length::Fixed)
                .map_err(|_| ExprError::new(s, format!("an alloc length is non-negative, found {i}"))),
            v => b.to_var(v, s).map(tl::Length::Var),
        })
        .collect::<R<Vec<_>>>()?;
    Ok(tl::alloc(value, &lengths))
}

/// An `axis` argument that may be `None` (the flattened tensor); `default` when absent.
fn opt_axis(b: &Builder<'_>, v: Option<&(Val, Span)>, default: Option<isize>) -> R<Option<isize>> {
    match v {
        None => Ok(default),
        Some((Val::None, _)) => Ok(None),
        Some((v, s)) => Ok(Some(b.isize(v, *s, "axis")?)),
    }
}

/// `cumsum(x, axis=None)`, `cumprod(x, axis=None)` as Theano's: the running sum or product
/// along `axis`, or over `x` flattened.
fn cumulative(b: &mut Builder<'_>, n: &str, args: Args, _span: Span) -> R<Var> {
    let a = args.bind(&["x", "axis"], 1)?;
    let (x, s) = a[0].clone().expect("required");
    let x = b.to_var(x, s)?;
    let axis = opt_axis(b, a[1].as_ref(), None)?;
    let op = if n == "cumsum" { CumOp::Sum } else { CumOp::Prod };
    Ok(tl::cumulative(op, &x, axis))
}

/// `sort(a, axis=-1, kind='quicksort', order=None)` and `argsort(…)` as Theano's: every
/// kind sorts alike (NaN last; `argsort` keeps equal elements in order), `order` must be
/// `None`.
fn sort(b: &mut Builder<'_>, n: &str, args: Args, _span: Span) -> R<Var> {
    let a = args.bind(&["a", "axis", "kind", "order"], 1)?;
    let (x, s) = a[0].clone().expect("required");
    let x = b.to_var(x, s)?;
    let axis = opt_axis(b, a[1].as_ref(), Some(-1))?;
    match &a[2] {
        None => {}
        Some((Val::Str(k), _)) if ["quicksort", "mergesort", "heapsort", "stable"].contains(&k.as_str()) => {}
        Some((v, s)) => {
            return Err(ExprError::new(
                *s,
                format!(
                    "kind is one of 'quicksort', 'mergesort', 'heapsort', 'stable', found {}",
                    match v {
                        Val::Str(k) => format!("'{k}'"),
                        other => other.describe().to_string(),
                    }
                ),
            ))
        }
    }
    if let Some((v, s)) = &a[3] {
        if !matches!(v, Val::None) {
            return Err(ExprError::new(*s, "order (fields of a structured array) must be None"));
        }
    }
    Ok(if n == "sort" { tl::sort(&x, axis) } else { tl::argsort(&x, axis) })
}

/// `repeat(x, repeats, axis=None)` as Theano's: `repeats` an integer, a list of counts or an
/// integer tensor.
fn repeat(b: &mut Builder<'_>, _n: &str, args: Args, _span: Span) -> R<Var> {
    let a = args.bind(&["x", "repeats", "axis"], 2)?;
    let (x, s) = a[0].clone().expect("required");
    let (r, sr) = a[1].clone().expect("required");
    let x = b.to_var(x, s)?;
    let repeats = b.to_term(r, sr)?;
    let axis = opt_axis(b, a[2].as_ref(), None)?;
    Ok(tl::repeat(&x, repeats, axis))
}

/// One count of `tile`'s `reps`: a non-negative integer or an integer scalar expression.
fn tile_count(b: &Builder<'_>, v: Val, s: Span) -> R<tl::Length> {
    match v {
        Val::Num(Number::Int(i)) => usize::try_from(i)
            .map(tl::Length::Fixed)
            .map_err(|_| ExprError::new(s, format!("a tile count is non-negative, found {i}"))),
        v => b.to_var(v, s).map(tl::Length::Var),
    }
}

/// `tile(x, reps, ndim=None)` as Theano's: `reps` an integer, a list of counts (numbers or
/// integer scalar expressions), or an integer vector (with `ndim`).
fn tile(b: &mut Builder<'_>, _n: &str, args: Args, span: Span) -> R<Var> {
    let a = args.bind(&["x", "reps", "ndim"], 2)?;
    let (x, s) = a[0].clone().expect("required");
    let (r, sr) = a[1].clone().expect("required");
    let x = b.to_var(x, s)?;
    let ndim = match &a[2] {
        None | Some((Val::None, _)) => None,
        Some((v, s)) => Some(
            usize::try_from(b.int(v, *s, "ndim")?)
                .map_err(|_| ExprError::new(*s, "ndim must be non-negative"))?,
        ),
    };
    let reps = match r {
        Val::List(items) | Val::Tuple(items) => {
            items.into_iter().map(|(v, s)| tile_count(b, v, s)).collect::<R<Vec<_>>>()?
        }
        Val::Tensor(v) if v.ndim() == 1 => {
            let Some(nd) = ndim else {
                return Err(ExprError::new(sr, "tile with a vector of counts needs ndim"));
            };
            return checked(tl::tile_vector(&x, &v, nd), span);
        }
        v => vec![tile_count(b, v, sr)?],
    };
    Ok(tl::tile(&x, &reps, ndim))
}

/// `roll(x, shift, axis=None)` as Theano's: `shift` an integer or an integer scalar
/// expression.
fn roll(b: &mut Builder<'_>, _n: &str, args: Args, _span: Span) -> R<Var> {
    let a = args.bind(&["x", "shift", "axis"], 2)?;
    let (x, s) = a[0].clone().expect("required");
    let (sh, ss) = a[1].clone().expect("required");
    let x = b.to_var(x, s)?;
    let shift = b.to_term(sh, ss)?;
    let axis = opt_axis(b, a[2].as_ref(), None)?;
    Ok(tl::roll(&x, shift, axis))
}

/// `eye(n, m=None, k=0, dtype=None)` as Theano's: each of `n`, `m`, `k` an integer or an
/// integer scalar expression; floatX unless `dtype` says.
fn eye(b: &mut Builder<'_>, _n: &str, args: Args, _span: Span) -> R<Var> {
    let a = args.bind(&["n", "m", "k", "dtype"], 1)?;
    let (n, sn) = a[0].clone().expect("required");
    let n = b.to_term(n, sn)?;
    let m = match a[1].clone() {
        None | Some((Val::None, _)) => None,
        Some((v, s)) => Some(b.to_term(v, s)?),
    };
    let k = match a[2].clone() {
        None => Term::Int(0),
        Some((v, s)) => b.to_term(v, s)?,
    };
    let dt = match &a[3] {
        None | Some((Val::None, _)) => None,
        Some((d, ds)) => Some(dtype(d, *ds)?),
    };
    Ok(tl::eye(n, m, k, dt))
}

/// `identity_like(x)`: the identity-like matrix of `x`'s shape and dtype.
fn identity_like(b: &mut Builder<'_>, _n: &str, args: Args, _span: Span) -> R<Var> {
    let a = args.bind(&["x"], 1)?;
    let (x, s) = a[0].clone().expect("required");
    Ok(tl::identity_like(b.to_var(x, s)?))
}

fn grad_barrier(b: &mut Builder<'_>, n: &str, args: Args, _span: Span) -> R<Var> {
    let a = args.bind(&["x"], 1)?;
    let (x, s) = a[0].clone().expect("required");
    let x = b.to_var(x, s)?;
    Ok(if n == "zero_grad" { tl::zero_grad(&x) } else { tl::disconnected_grad(&x) })
}

fn elementwise(b: &mut Builder<'_>, n: &str, args: Args, span: Span) -> R<Var> {
    let Some(op) = scalar_op(n) else {
        return Err(ExprError::new(span, format!("unknown function `{n}`")));
    };
    let pos = args.positional(1)?;
    match op.arity() {
        Some(k) if pos.len() != k => {
            return Err(ExprError::new(span, format!("{n}() takes {k} argument(s), got {}", pos.len())))
        }
        None if pos.len() < 2 => {
            return Err(ExprError::new(span, format!("{n}() takes two or more arguments, got {}", pos.len())))
        }
        _ => {}
    }
    let terms: Vec<Term> = pos.into_iter().map(|(v, s)| b.to_term(v, s)).collect::<R<_>>()?;
    Ok(match b.elemwise(op, terms, span)? {
        Val::Tensor(v) => v,
        _ => unreachable!("elemwise builds a tensor"),
    })
}
