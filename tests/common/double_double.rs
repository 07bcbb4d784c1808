//! Double-double arithmetic (about 106 significant bits) and an evaluator of a
//! `FunctionGraph` in it: the higher-precision reference of the differential fuzz test
//! (`tests/fuzz_diff.rs`).
//!
//! A value is `hi + lo` with `|lo| ≤ ulp(hi)/2`. Sums and products use the error-free
//! transformations (two-sum, FMA two-product); `exp` reduces by `ln 2` and `2^10` and runs a
//! Taylor series, `log` and `log1p` are Newton iterations on `expm1`, `expm1` a Taylor series
//! near 0. The exponent range is `f64`'s: a result that overflows or underflows (where the
//! low part loses its bits) marks the evaluation *tainted*, and then it is no reference; so
//! does an invalid operation (`inf/inf`), whose limit the stable forms compute.
//!
//! The evaluator covers the ops the fuzz generator emits (elementwise arithmetic and
//! transcendental functions, comparisons, `switch`, reductions, the softmax family, `dot`);
//! ops that only move elements (dimshuffle, indexing, reshape) run the reference kernel on
//! the high and the low parts separately. Comparisons and `switch` decide on the
//! double-double values, so they follow the exact result, not the rounded one.

#![allow(dead_code)]

use ndarray::{ArrayD, Axis, IxDyn};
use tensorlift as tl;
use tl::kernels::KernelInput;
use tl::{FunctionGraph, Op, ReduceOp, ScalarOp, Tensor, TensorType};

/// A double-double number `hi + lo`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dd {
    /// The leading part: the value rounded to `f64`.
    pub hi: f64,
    /// The rest.
    pub lo: f64,
}

const LN2: Dd = Dd { hi: std::f64::consts::LN_2, lo: 2.319_046_813_846_299_6e-17 };

fn two_sum(a: f64, b: f64) -> Dd {
    let s = a + b;
    let bb = s - a;
    Dd { hi: s, lo: (a - (s - bb)) + (b - bb) }
}

fn quick_two_sum(a: f64, b: f64) -> Dd {
    let s = a + b;
    Dd { hi: s, lo: b - (s - a) }
}

/// `2^k` for `-1022 ≤ k ≤ 1023`.
fn pow2(k: i64) -> f64 {
    f64::from_bits(((k + 1023) as u64) << 52)
}

impl Dd {
    /// The exact value of an `f64`.
    pub const fn new(v: f64) -> Dd {
        Dd { hi: v, lo: 0.0 }
    }

    /// The nearest `f64`.
    pub fn to_f64(self) -> f64 {
        self.hi + self.lo
    }

    fn is_nan(self) -> bool {
        self.hi.is_nan()
    }

    fn finite(self) -> bool {
        self.hi.is_finite()
    }

    /// `self + o`.
    pub fn add(self, o: Dd) -> Dd {
        let s = two_sum(self.hi, o.hi);
        if !s.hi.is_finite() {
            return Dd::new(self.hi + o.hi);
        }
        let t = two_sum(self.lo, o.lo);
        let r = quick_two_sum(s.hi, s.lo + t.hi);
        let r = quick_two_sum(r.hi, r.lo + t.lo);
        if r.hi == 0.0 {
            // Keep IEEE's sign of an exact zero sum.
            return Dd::new(self.hi + o.hi);
        }
        r
    }

    /// `-self`.
    pub fn neg(self) -> Dd {
        Dd { hi: -self.hi, lo: -self.lo }
    }

    /// `self - o`.
    pub fn sub(self, o: Dd) -> Dd {
        self.add(o.neg())
    }

    /// `self * o`.
    pub fn mul(self, o: Dd) -> Dd {
        let p = self.hi * o.hi;
        if !p.is_finite() || p == 0.0 {
            return Dd::new(p);
        }
        let e = self.hi.mul_add(o.hi, -p) + (self.hi * o.lo + self.lo * o.hi);
        quick_two_sum(p, e)
    }

    /// `self * 2^k`, exactly while the result stays normal.
    fn scale(self, k: i64) -> Dd {
        let mut r = self;
        let mut k = k;
        while k != 0 {
            let step = k.clamp(-1000, 1000);
            let f = pow2(step);
            r = Dd { hi: r.hi * f, lo: r.lo * f };
            k -= step;
        }
        r
    }

    /// `self / o`.
    pub fn div(self, o: Dd) -> Dd {
        let q1 = self.hi / o.hi;
        if !q1.is_finite() || q1 == 0.0 || !o.hi.is_finite() {
            return Dd::new(q1);
        }
        let r = self.sub(o.mul(Dd::new(q1)));
        let q2 = r.hi / o.hi;
        let r = r.sub(o.mul(Dd::new(q2)));
        let q3 = r.hi / o.hi;
        quick_two_sum(q1, q2).add(Dd::new(q3))
    }

    fn lt(self, o: Dd) -> bool {
        self.hi < o.hi || (self.hi == o.hi && self.lo < o.lo)
    }

    fn eq(self, o: Dd) -> bool {
        self.hi == o.hi && self.lo == o.lo
    }

    fn abs(self) -> Dd {
        if self.hi.is_sign_negative() {
            self.neg()
        } else {
            self
        }
    }

    /// `e^self`.
    pub fn exp(self) -> Dd {
        if self.is_nan() {
            return self;
        }
        if self.hi > 709.8 {
            return Dd::new(f64::INFINITY);
        }
        if self.hi < -745.2 {
            return Dd::new(0.0);
        }
        let k = (self.hi / LN2.hi).round();
        let r = self.sub(LN2.mul(Dd::new(k))).scale(-10);
        // expm1(r) by Taylor (|r| < 3.4e-4), then doubled ten times: (1+s)² - 1 = 2s + s².
        let mut term = r;
        let mut s = r;
        for n in 2..=12 {
            term = term.mul(r).div(Dd::new(n as f64));
            s = s.add(term);
        }
        for _ in 0..10 {
            s = s.scale(1).add(s.mul(s));
        }
        Dd::new(1.0).add(s).scale(k as i64)
    }

    /// `e^self - 1`.
    pub fn expm1(self) -> Dd {
        if self.is_nan() || self.hi.abs() >= 0.5 {
            return self.exp().sub(Dd::new(1.0));
        }
        if self.hi == 0.0 {
            return self;
        }
        let mut term = self;
        let mut s = self;
        for n in 2..=40 {
            term = term.mul(self).div(Dd::new(n as f64));
            s = s.add(term);
            if term.hi.abs() < 1e-36 * s.hi.abs() {
                break;
            }
        }
        s
    }

    /// `log(1 + d)` for `|d| < 0.5`: Newton on `expm1`, from `f64`'s `ln_1p`.
    fn log1p_small(d: Dd) -> Dd {
        if d.hi == 0.0 {
            return d;
        }
        let mut y = Dd::new(d.hi.ln_1p());
        for _ in 0..3 {
            let t = y.expm1();
            y = y.sub(t.sub(d).div(t.add(Dd::new(1.0))));
        }
        y
    }

    /// Natural logarithm.
    pub fn ln(self) -> Dd {
        if self.is_nan() || self.hi < 0.0 {
            return Dd::new(f64::NAN);
        }
        if self.hi == 0.0 || self.hi == f64::INFINITY {
            return Dd::new(self.hi.ln());
        }
        // self = m · 2^e with m in [0.75, 1.5).
        let mut x = self;
        let mut e = 0i64;
        if x.hi < 1e-300 {
            x = x.scale(600);
            e -= 600;
        }
        let bits = ((x.hi.to_bits() >> 52) & 0x7ff) as i64 - 1023;
        let mut m = x.scale(-bits);
        e += bits;
        if m.hi >= 1.5 {
            m = m.scale(-1);
            e += 1;
        }
        Dd::log1p_small(m.sub(Dd::new(1.0))).add(LN2.mul(Dd::new(e as f64)))
    }

    /// `log(1 + self)`.
    pub fn ln_1p(self) -> Dd {
        if self.hi.abs() < 0.5 {
            Dd::log1p_small(self)
        } else {
            Dd::new(1.0).add(self).ln()
        }
    }

    /// Square root.
    pub fn sqrt(self) -> Dd {
        if self.hi <= 0.0 || !self.finite() {
            return Dd::new(self.hi.sqrt());
        }
        let s = self.hi.sqrt();
        let r = self.sub(Dd::new(s).mul(Dd::new(s)));
        quick_two_sum(s, r.hi / (2.0 * s))
    }

    /// `self ** y` for an `f64` exponent.
    pub fn pow(self, y: f64) -> Dd {
        if y == 0.0 {
            return Dd::new(1.0);
        }
        if y.fract() == 0.0 && y.abs() <= 16.0 {
            let mut r = Dd::new(1.0);
            for _ in 0..y.abs() as u32 {
                r = r.mul(self);
            }
            return if y < 0.0 { Dd::new(1.0).div(r) } else { r };
        }
        if self.hi <= 0.0 || !self.finite() {
            return Dd::new(self.hi.powf(y));
        }
        self.ln().mul(Dd::new(y)).exp()
    }

    /// Hyperbolic tangent: `-t / (t + 2)` with `t = expm1(-2|x|)`, with the sign of `x`.
    pub fn tanh(self) -> Dd {
        if self.is_nan() || self.hi == 0.0 {
            return self;
        }
        let t = self.abs().scale(1).neg().expm1();
        let r = t.neg().div(t.add(Dd::new(2.0)));
        if self.hi < 0.0 {
            r.neg()
        } else {
            r
        }
    }

    /// `1 / (1 + e^-x)`.
    pub fn sigmoid(self) -> Dd {
        if self.is_nan() {
            return self;
        }
        if self.hi >= 0.0 {
            Dd::new(1.0).div(Dd::new(1.0).add(self.neg().exp()))
        } else {
            let e = self.exp();
            e.div(Dd::new(1.0).add(e))
        }
    }

    /// `log(1 + e^x)`.
    pub fn softplus(self) -> Dd {
        if self.is_nan() {
            return self;
        }
        let m = if self.hi > 0.0 { self } else { Dd::new(0.0) };
        m.add(self.abs().neg().exp().ln_1p())
    }

    /// The larger of two (`max`) or the smaller, NaN if either is NaN.
    fn extremum(self, o: Dd, max: bool) -> Dd {
        if self.is_nan() || o.is_nan() {
            return Dd::new(f64::NAN);
        }
        let o_wins = if max { self.lt(o) } else { o.lt(self) };
        if o_wins {
            o
        } else {
            self
        }
    }

    fn max_nan(self, o: Dd) -> Dd {
        self.extremum(o, true)
    }

    fn min_nan(self, o: Dd) -> Dd {
        self.extremum(o, false)
    }
}

fn truth(b: bool) -> Dd {
    Dd::new(if b { 1.0 } else { 0.0 })
}

/// The value of one elementwise op on double-double operands, or `None` for an op the
/// evaluator does not cover.
fn scalar(op: ScalarOp, a: &[Dd]) -> Option<Dd> {
    use ScalarOp::*;
    Some(match op {
        Add => a[1..].iter().fold(a[0], |s, &t| s.add(t)),
        Mul => a[1..].iter().fold(a[0], |s, &t| s.mul(t)),
        Sub => a[0].sub(a[1]),
        Div => a[0].div(a[1]),
        Pow => {
            if a[1].lo != 0.0 {
                return None;
            }
            a[0].pow(a[1].hi)
        }
        Maximum => a[0].max_nan(a[1]),
        Minimum => a[0].min_nan(a[1]),
        Neg => a[0].neg(),
        Abs => a[0].abs(),
        Sqr => a[0].mul(a[0]),
        Sqrt => a[0].sqrt(),
        Reciprocal => Dd::new(1.0).div(a[0]),
        Exp => a[0].exp(),
        Expm1 => a[0].expm1(),
        Log => a[0].ln(),
        Log1p => a[0].ln_1p(),
        Tanh => a[0].tanh(),
        Sigmoid => a[0].sigmoid(),
        Softplus => a[0].softplus(),
        Lt => truth(a[0].lt(a[1])),
        Gt => truth(a[1].lt(a[0])),
        Le => truth(!a[0].is_nan() && !a[1].is_nan() && !a[1].lt(a[0])),
        Ge => truth(!a[0].is_nan() && !a[1].is_nan() && !a[0].lt(a[1])),
        Eq => truth(a[0].eq(a[1])),
        Neq => truth(!a[0].eq(a[1])),
        Switch => {
            if a[0].hi != 0.0 {
                a[1]
            } else {
                a[2]
            }
        }
        Cast(_) => a[0],
        _ => return None,
    })
}

/// Ops whose result can leave `f64`'s range or lose the low part's bits to underflow.
fn scales(op: ScalarOp) -> bool {
    use ScalarOp::*;
    matches!(op, Mul | Div | Pow | Sqr | Reciprocal | Exp | Expm1 | Sigmoid | Softplus | Tanh)
}

/// A double-double array: high and low parts.
#[derive(Clone, Debug)]
pub struct DdArray(pub ArrayD<Dd>);

impl DdArray {
    /// The exact value of a tensor.
    pub fn of(t: &Tensor) -> DdArray {
        DdArray(t.to_f64_array().mapv(Dd::new))
    }

    fn parts(&self) -> (Tensor, Tensor) {
        (Tensor::from(self.0.mapv(|d| d.hi)), Tensor::from(self.0.mapv(|d| d.lo)))
    }

    /// The values rounded to `f64`.
    pub fn to_f64(&self) -> ArrayD<f64> {
        self.0.mapv(Dd::to_f64)
    }
}

/// The result shape of broadcasting `shapes` together (NumPy's rule).
fn broadcast_shape(shapes: &[&[usize]]) -> Vec<usize> {
    let n = shapes.iter().map(|s| s.len()).max().unwrap_or(0);
    (0..n)
        .map(|i| {
            shapes.iter().filter_map(|s| (i + s.len()).checked_sub(n).map(|j| s[j])).fold(1, |acc, l| {
                if l == 1 {
                    acc
                } else {
                    l
                }
            })
        })
        .collect()
}

/// Reduces `a` over `axes` with `f` from `init`, keeping the axes when `keepdims`.
fn fold_axes(
    a: &ArrayD<Dd>,
    axes: &[usize],
    keepdims: bool,
    init: Dd,
    f: impl Fn(Dd, Dd) -> Dd,
) -> ArrayD<Dd> {
    let mut sorted = axes.to_vec();
    sorted.sort_unstable();
    let mut cur = a.clone();
    for &ax in sorted.iter().rev() {
        cur = cur.map_axis(Axis(ax), |lane| lane.iter().fold(init, |s, &x| f(s, x)));
    }
    if keepdims {
        for &ax in &sorted {
            cur.insert_axis_inplace(Axis(ax));
        }
    }
    cur
}

/// The softmax family's shift: the maximum over `axes` (kept), 0 where it is not finite.
fn shift(a: &ArrayD<Dd>, axes: &[usize]) -> ArrayD<Dd> {
    fold_axes(a, axes, true, Dd::new(f64::NEG_INFINITY), Dd::max_nan).mapv(|m| {
        if m.finite() {
            m
        } else {
            Dd::new(0.0)
        }
    })
}

fn zip2(a: &ArrayD<Dd>, b: &ArrayD<Dd>, f: impl Fn(Dd, Dd) -> Dd) -> ArrayD<Dd> {
    let shape = broadcast_shape(&[a.shape(), b.shape()]);
    let (a, b) =
        (a.broadcast(IxDyn(&shape)).expect("broadcasts"), b.broadcast(IxDyn(&shape)).expect("broadcasts"));
    ndarray::Zip::from(&a).and(&b).map_collect(|&x, &y| f(x, y))
}

/// `dot` of vectors and matrices: `a` as rows of length `k`, `b` as `k` rows.
fn dot(a: &ArrayD<Dd>, b: &ArrayD<Dd>) -> ArrayD<Dd> {
    let k = b.shape()[0];
    let a2 = a.to_shape((a.len() / k.max(1), k)).expect("rows of a");
    let b2 = b.to_shape((k, b.len() / k.max(1))).expect("rows of b");
    let mut shape: Vec<usize> = a.shape()[..a.ndim() - 1].to_vec();
    shape.extend_from_slice(&b.shape()[1..]);
    let cells: Vec<Dd> = a2
        .rows()
        .into_iter()
        .flat_map(|row| {
            b2.columns()
                .into_iter()
                .map(move |col| row.iter().zip(col.iter()).fold(Dd::new(0.0), |s, (&x, &y)| s.add(x.mul(y))))
        })
        .collect();
    ArrayD::from_shape_vec(IxDyn(&shape), cells).expect("shape")
}

/// The outcome of a double-double evaluation.
pub struct DdEval {
    /// The graph's outputs.
    pub outputs: Vec<DdArray>,
    /// True when an intermediate result overflowed or underflowed from finite operands:
    /// the values are then no reference.
    pub tainted: bool,
}

/// Evaluates `g` on `inputs` (one per graph input) in double-double, or `None` when the
/// graph has an op the evaluator does not cover.
pub fn eval_graph(g: &FunctionGraph, inputs: &[Tensor]) -> Option<DdEval> {
    let mut vals: Vec<Option<DdArray>> = vec![None; g.len()];
    for (&id, t) in g.inputs().iter().zip(inputs) {
        vals[id.index()] = Some(DdArray::of(t));
    }
    let mut tainted = false;
    for id in g.ids() {
        if vals[id.index()].is_some() {
            continue;
        }
        let node = g.node(id);
        let ins: Vec<&ArrayD<Dd>> =
            node.inputs.iter().map(|i| &vals[i.index()].as_ref().expect("topological").0).collect();
        let all_finite = ins.iter().all(|a| a.iter().all(|d| d.finite()));
        let out: ArrayD<Dd> = match &node.op {
            Op::Constant(t) => DdArray::of(t).0,
            Op::Elemwise(s) => {
                let shapes: Vec<&[usize]> = ins.iter().map(|a| a.shape()).collect();
                let shape = broadcast_shape(&shapes);
                let views: Vec<_> =
                    ins.iter().map(|a| a.broadcast(IxDyn(&shape)).expect("broadcasts")).collect();
                let mut out = Vec::with_capacity(shape.iter().product());
                let mut args = Vec::with_capacity(views.len());
                for idx in ndarray::indices(IxDyn(&shape)) {
                    args.clear();
                    args.extend(views.iter().map(|v| v[&idx]));
                    let r = scalar(*s, &args)?;
                    // An invalid operation (`inf/inf`, `0·inf`) has no value where its limit
                    // may have one: the formula is then no reference either.
                    tainted |= r.is_nan() && !args.iter().any(|d| d.is_nan());
                    if args.iter().all(|d| d.finite()) {
                        tainted |= !r.finite();
                        if scales(*s) && args.iter().all(|d| d.hi != 0.0) {
                            tainted |= r.hi.abs() < 1e-290;
                        }
                    }
                    out.push(r);
                }
                ArrayD::from_shape_vec(IxDyn(&shape), out).expect("shape")
            }
            Op::Reduce { op, axes, keepdims } => {
                let a = ins[0];
                match op {
                    ReduceOp::Sum => fold_axes(a, axes, *keepdims, Dd::new(0.0), Dd::add),
                    ReduceOp::Mean => {
                        let n: usize = axes.iter().map(|&ax| a.shape()[ax]).product();
                        fold_axes(a, axes, *keepdims, Dd::new(0.0), Dd::add)
                            .mapv(|s| s.div(Dd::new(n as f64)))
                    }
                    ReduceOp::Prod => fold_axes(a, axes, *keepdims, Dd::new(1.0), Dd::mul),
                    ReduceOp::Max => fold_axes(a, axes, *keepdims, Dd::new(f64::NEG_INFINITY), Dd::max_nan),
                    ReduceOp::Min => fold_axes(a, axes, *keepdims, Dd::new(f64::INFINITY), Dd::min_nan),
                    _ => return None,
                }
            }
            Op::Softmax { axis } | Op::LogSoftmax { axis } => {
                let a = ins[0];
                let z = zip2(a, &shift(a, &[*axis]), Dd::sub);
                let e = z.mapv(Dd::exp);
                let s = fold_axes(&e, &[*axis], true, Dd::new(0.0), Dd::add);
                if matches!(node.op, Op::Softmax { .. }) {
                    zip2(&e, &s, Dd::div)
                } else {
                    zip2(&z, &s.mapv(Dd::ln), Dd::sub)
                }
            }
            Op::LogSumExp { axes, keepdims } => {
                let a = ins[0];
                let m = shift(a, axes);
                let e = zip2(a, &m, Dd::sub).mapv(Dd::exp);
                let s = fold_axes(&e, axes, true, Dd::new(0.0), Dd::add);
                let mut r = zip2(&s.mapv(Dd::ln), &m, Dd::add);
                if !keepdims {
                    let mut sorted = axes.clone();
                    sorted.sort_unstable();
                    for &ax in sorted.iter().rev() {
                        r = r.index_axis_move(Axis(ax), 0);
                    }
                }
                r
            }
            Op::Dot => dot(ins[0], ins[1]),
            Op::DimShuffle { .. } | Op::Subtensor { .. } | Op::Reshape { .. } => {
                // Moves elements only: the high and low parts separately.
                let parts: Vec<(Tensor, Tensor)> = node
                    .inputs
                    .iter()
                    .map(|i| vals[i.index()].as_ref().expect("topological").parts())
                    .collect();
                let tys: Vec<&TensorType> = node.inputs.iter().map(|&i| g.ty(i)).collect();
                let run = |pick: fn(&(Tensor, Tensor)) -> &Tensor| {
                    let kin: Vec<KernelInput<'_>> = parts
                        .iter()
                        .zip(&tys)
                        .map(|(p, ty)| KernelInput { value: pick(p), ty, name: "" })
                        .collect();
                    tl::kernels::eval(&node.op, &kin, g.ty(id)).ok().map(|t| t.to_f64_array())
                };
                let (hi, lo) = (run(|p| &p.0)?, run(|p| &p.1)?);
                ndarray::Zip::from(&hi).and(&lo).map_collect(|&h, &l| Dd { hi: h, lo: l })
            }
            _ => return None,
        };
        if all_finite && !matches!(node.op, Op::Elemwise(_)) && out.iter().any(|d| !d.finite()) {
            tainted = true;
        }
        vals[id.index()] = Some(DdArray(out));
    }
    let outputs = g.outputs().iter().map(|o| vals[o.index()].clone().expect("evaluated")).collect();
    Some(DdEval { outputs, tainted })
}
