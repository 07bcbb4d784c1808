//! The expression language's convolution and pooling functions, with Theano's parameters:
//! `conv2d(input, filters, border_mode='valid', subsample=(1, 1), filter_flip=True,
//! filter_dilation=(1, 1), num_groups=1)`, its gradients `conv2d_grad_wrt_inputs`,
//! `conv2d_grad_wrt_weights` and `conv2d_transpose`, and `pool_2d(input, ws, ignore_border,
//! stride, pad, mode)`.

use super::{Args, Builder, ExprError, Val, R};
use crate::parse::ast::Number;
use crate::parse::Span;
use tensorlift_ir as tl;
use tl::{BorderMode, ConvParams, Length, PoolMode, PoolParams, Var};

type Arg = Option<(Val, Span)>;

/// A non-negative integer.
fn count(b: &Builder<'_>, v: &Val, s: Span, what: &str) -> R<usize> {
    let i = b.int(v, s, what)?;
    usize::try_from(i).map_err(|_| ExprError::new(s, format!("{what} must be non-negative, found {i}")))
}

/// Two non-negative integers `(a, b)` (or one for both), `default` when absent or `None`.
fn pair(b: &Builder<'_>, v: &Arg, default: [usize; 2], what: &str) -> R<[usize; 2]> {
    match v {
        None | Some((Val::None, _)) => Ok(default),
        Some((Val::Tuple(items) | Val::List(items), s)) => match &items[..] {
            [(x, sx), (y, sy)] => Ok([count(b, x, *sx, what)?, count(b, y, *sy, what)?]),
            _ => Err(ExprError::new(*s, format!("{what} takes two numbers, found {}", items.len()))),
        },
        Some((v, s)) => {
            let n = count(b, v, *s, what)?;
            Ok([n, n])
        }
    }
}

/// Theano's `border_mode`: `'valid'`, `'full'`, `'half'`, an integer, or a pair whose
/// entries are integers or `(before, after)` pairs.
fn border_mode(b: &Builder<'_>, v: &Arg) -> R<BorderMode> {
    let side = |v: &Val, s: Span| -> R<(usize, usize)> {
        match v {
            Val::Tuple(items) | Val::List(items) => match &items[..] {
                [(x, sx), (y, sy)] => Ok((count(b, x, *sx, "a padding")?, count(b, y, *sy, "a padding")?)),
                _ => Err(ExprError::new(s, "an asymmetric padding is a pair (before, after)")),
            },
            v => {
                let n = count(b, v, s, "a padding")?;
                Ok((n, n))
            }
        }
    };
    match v {
        None => Ok(BorderMode::Valid),
        Some((Val::Str(name), s)) => BorderMode::from_name(name).ok_or_else(|| {
            ExprError::new(
                *s,
                format!(
                    "invalid border_mode '{name}', which must be 'valid', 'full', 'half', an integer or a \
                     pair"
                ),
            )
        }),
        Some((Val::Tuple(items) | Val::List(items), s)) => match &items[..] {
            [(r, sr), (c, sc)] => Ok(BorderMode::Pad([side(r, *sr)?, side(c, *sc)?]).canonical()),
            _ => Err(ExprError::new(*s, "a border_mode tuple has two entries (rows, columns)")),
        },
        Some((v, s)) => {
            let n = count(b, v, *s, "border_mode")?;
            Ok(BorderMode::symmetric(n, n))
        }
    }
}

/// The convolution parameters from the arguments `border_mode, subsample, filter_flip,
/// filter_dilation, num_groups`.
fn params(b: &Builder<'_>, a: &[Arg]) -> R<ConvParams> {
    let filter_flip = match &a[2] {
        Some((v, s)) => b.boolean(v, *s, "filter_flip")?,
        None => true,
    };
    let groups = match &a[4] {
        Some((v, s)) => count(b, v, *s, "num_groups")?,
        None => 1,
    };
    Ok(ConvParams {
        border: border_mode(b, &a[0])?,
        subsample: pair(b, &a[1], [1, 1], "subsample")?,
        filter_flip,
        dilation: pair(b, &a[3], [1, 1], "filter_dilation")?,
        groups,
    })
}

/// Checks a static shape argument (`input_shape`, `filter_shape`: four lengths or `None`s)
/// against the variable's type where both are known.
fn check_shape(b: &Builder<'_>, v: &Arg, x: &Var, what: &str) -> R<()> {
    let Some((v, s)) = v else { return Ok(()) };
    let items = match v {
        Val::None => return Ok(()),
        Val::Tuple(items) | Val::List(items) if items.len() == 4 => items,
        _ => return Err(ExprError::new(*s, format!("{what} is a tuple of four lengths"))),
    };
    for (k, (v, s)) in items.iter().enumerate() {
        if let Val::None = v {
            continue;
        }
        let n = count(b, v, *s, what)?;
        if matches!(x.ty().shape.get(k), Some(Some(m)) if *m != n) {
            return Err(ExprError::new(
                *s,
                format!("{what}[{k}] is {n}, but {} has {}", x.describe(), x.ty()),
            ));
        }
    }
    Ok(())
}

/// `conv2d(input, filters, input_shape=None, filter_shape=None, border_mode='valid',
/// subsample=(1, 1), filter_flip=True, filter_dilation=(1, 1), num_groups=1)`.
pub(super) fn conv2d(b: &mut Builder<'_>, _n: &str, args: Args, _span: Span) -> R<Var> {
    let a = args.bind(
        &[
            "input",
            "filters",
            "input_shape",
            "filter_shape",
            "border_mode",
            "subsample",
            "filter_flip",
            "filter_dilation",
            "num_groups",
        ],
        2,
    )?;
    let (x, sx) = a[0].clone().expect("required");
    let (w, sw) = a[1].clone().expect("required");
    let (x, w) = (b.to_var(x, sx)?, b.to_var(w, sw)?);
    check_shape(b, &a[2], &x, "input_shape")?;
    check_shape(b, &a[3], &w, "filter_shape")?;
    Ok(tl::conv2d(&x, &w, &params(b, &a[4..])?))
}

/// The last two lengths of a shape argument: integers or integer scalar tensors.
fn spatial(b: &Builder<'_>, v: (Val, Span), what: &str) -> R<[Length; 2]> {
    let (v, s) = v;
    let items = match v {
        Val::Tuple(items) | Val::List(items) if items.len() >= 2 => items,
        Val::Tensor(t) => {
            return Ok([tl::Length::Var(t.get(tl::idx![-2])), tl::Length::Var(t.get(tl::idx![-1]))])
        }
        _ => return Err(ExprError::new(s, format!("{what} is a tuple of lengths"))),
    };
    let length = |(v, s): &(Val, Span)| -> R<Length> {
        match v {
            Val::Num(Number::Int(_)) => Ok(Length::Fixed(count(b, v, *s, what)?)),
            v => Ok(Length::Var(b.to_var(v.clone(), *s)?)),
        }
    };
    let n = items.len();
    Ok([length(&items[n - 2])?, length(&items[n - 1])?])
}

/// `conv2d_grad_wrt_inputs(output_grad, filters, input_shape, …)`,
/// `conv2d_transpose(input, filters, output_shape, filter_shape=None, border_mode='valid',
/// input_dilation=(1, 1), …)` and `conv2d_grad_wrt_weights(input, output_grad, filter_shape,
/// …)`.
pub(super) fn conv2d_grad(b: &mut Builder<'_>, n: &str, args: Args, _span: Span) -> R<Var> {
    let names: [&str; 9] = match n {
        "conv2d_grad_wrt_weights" => [
            "input",
            "output_grad",
            "filter_shape",
            "input_shape",
            "border_mode",
            "subsample",
            "filter_flip",
            "filter_dilation",
            "num_groups",
        ],
        "conv2d_transpose" => [
            "input",
            "filters",
            "output_shape",
            "filter_shape",
            "border_mode",
            "input_dilation",
            "filter_flip",
            "filter_dilation",
            "num_groups",
        ],
        _ => [
            "output_grad",
            "filters",
            "input_shape",
            "filter_shape",
            "border_mode",
            "subsample",
            "filter_flip",
            "filter_dilation",
            "num_groups",
        ],
    };
    let a = args.bind(&names, 3)?;
    let (p, sp) = a[0].clone().expect("required");
    let (q, sq) = a[1].clone().expect("required");
    let (p, q) = (b.to_var(p, sp)?, b.to_var(q, sq)?);
    let lengths = spatial(b, a[2].clone().expect("required"), names[2])?;
    let conv = params(b, &a[4..])?;
    Ok(if n == "conv2d_grad_wrt_weights" {
        tl::conv2d_grad_wrt_weights(&p, &q, lengths, &conv)
    } else {
        tl::conv2d_grad_wrt_inputs(&p, &q, lengths, &conv)
    })
}

/// `pool_2d(input, ws=None, ignore_border=None, stride=None, pad=(0, 0), mode='max', ds=None,
/// st=None, padding=None)`: `ds`, `st` and `padding` are Theano's older names; `ignore_border`
/// is false unless given, as in Theano.
pub(super) fn pool_2d(b: &mut Builder<'_>, _n: &str, args: Args, span: Span) -> R<Var> {
    let a =
        args.bind(&["input", "ws", "ignore_border", "stride", "pad", "mode", "ds", "st", "padding"], 1)?;
    let (x, sx) = a[0].clone().expect("required");
    let x = b.to_var(x, sx)?;
    let given = |k: usize| a[k].as_ref().filter(|(v, _)| !matches!(v, Val::None)).cloned();
    let either = |k: usize, old: usize, what: &str| -> R<Arg> {
        match (given(k), given(old)) {
            (Some(_), Some((_, s))) => Err(ExprError::new(
                s,
                format!(
                    "give only one of `{what}` and its older name `{}`",
                    ["ds", "st", "padding"][old - 6]
                ),
            )),
            (v, None) | (None, v) => Ok(v),
        }
    };
    let ws = either(1, 6, "ws")?;
    let Some(_) = ws else {
        return Err(ExprError::new(span, "pool_2d() needs the window size `ws`"));
    };
    let ws = pair(b, &ws, [1, 1], "ws")?;
    let stride = pair(b, &either(3, 7, "stride")?, ws, "stride")?;
    let pad = pair(b, &either(4, 8, "pad")?, [0, 0], "pad")?;
    let ignore_border = match &given(2) {
        Some((v, s)) => b.boolean(v, *s, "ignore_border")?,
        None => false,
    };
    let mode = match &a[5] {
        None | Some((Val::None, _)) => PoolMode::Max,
        Some((Val::Str(m), s)) => PoolMode::from_name(m).ok_or_else(|| {
            ExprError::new(
                *s,
                format!(
                    "pool mode must be 'max', 'sum', 'average_inc_pad' or 'average_exc_pad', found '{m}'"
                ),
            )
        })?,
        Some((v, s)) => {
            return Err(ExprError::new(*s, format!("pool mode must be a string, found {}", v.describe())))
        }
    };
    Ok(tl::pool_2d(&x, &PoolParams { ws, stride, pad, ignore_border, mode }))
}
