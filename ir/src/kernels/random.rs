//! Random draws: the Philox4x32-10 counter-based generator (Salmon, Moraes, Dror and Shaw,
//! "Parallel random numbers: as easy as 1, 2, 3", SC 2011) and every distribution of
//! `Op::Random`, written once and shared by the reference interpreter and the runtime's
//! threaded path (the draws that pick among items are in the submodule `picks`).
//!
//! # Layout
//! A state is `[key, counter]` (int64, read as unsigned). Block `b` of a draw is
//! `philox4x32_10([lo32(c), hi32(c), j, stream], [lo32(key), hi32(key)])` with `c = counter +
//! b`, `stream` the draw's stream number and `j` a sub-draw index (0 unless an element needs
//! more randomness: rejection, `n` trials). Each element of a draw (each row of a
//! permutation or multinomial, each pick of a choice) owns one slot: slot `s` is word `s %
//! per_block` of block `s / per_block`. A block serves two 64-bit words (`per_block` 2), or
//! four 32-bit words for float32 uniform and normal draws (`per_block` 4). So element `i` is
//! a pure function of `(key, counter + i / per_block, stream)`: any split of a draw over
//! threads, on any engine, gives the same bits, and a draw uses `ceil(elements /
//! per_block)` blocks — how far the state's update advances the counter.
//!
//! # Transforms
//! - float64 uniform: `lo + (hi - lo) * u`, `u` the 52 high bits of a word as a multiple of
//!   2^-52 in `[0, 1)` (built from the bits, so the conversion vectorizes); float32: 24
//!   bits, a multiple of 2^-24.
//! - normal: Box–Muller on the two words of a block (float64) or each pair of 32-bit words
//!   (float32, computed in float64 and rounded): `u1` in `(0, 1]`, `u2` in `[0, 1)`, `r =
//!   sqrt(-2 ln u1)`, elements `avg + std * r cos(2π u2)` and `avg + std * r sin(2π u2)`.
//!   One routine (`normal`: its own vectorizable `ln` and `sin`/`cos` of a turn, within 2 ulp)
//!   on every engine: identical everywhere.
//! - truncated normal (Theano's MRG `normal(truncate=True)`): the same pair; an element whose
//!   standard value is beyond ±2 keeps its angle and takes the radius `sqrt(-2 ln v)`, `v =
//!   e^-2 + (1 - e^-2) u` on `[e^-2, 1)`, `u` from the element's slot in sub-draw `j = 1`, so
//!   the radius, and the element, is at most 2.
//! - binomial: the number of `k < n` with `u(slot, j = k) < p` (`n = 1`: Theano's MRG
//!   `cast(uniform < p)`).
//! - integers on `[low, high]`: Lemire's multiply-shift with rejection (exact), retrying
//!   with `j + 1`.
//! - choice, permutation: integers in shrinking ranges (a Fisher–Yates shuffle); weighted
//!   picks invert the normalized cumulative probabilities with one uniform (without
//!   replacement, those of the items not yet picked). A choice by the rows of a probability
//!   matrix draws each row in turn, pick `t` of row `r` from slot `r * picks + t`.
//! - multinomial: `n` categorical picks per row, pick `t` using sub-draw `j = t` of the row's
//!   slot.

use super::KernelInput;
use crate::dtype::{DType, Element};
use crate::error::ValueError;
use crate::op::{Dim, Distribution, Op};
use crate::types::TensorType;
use crate::value::{check_alloc, Tensor, TensorElement};
use ndarray::{ArrayD, IxDyn};
use std::mem::MaybeUninit;

mod normal;
mod picks;

use normal::{box_muller, box_muller_truncated};

/// Philox4x32 multipliers.
const M0: u32 = 0xD251_1F53;
const M1: u32 = 0xCD9E_8D57;
/// Philox4x32 key increments (the golden ratio and sqrt(3) - 1).
const W0: u32 = 0x9E37_79B9;
const W1: u32 = 0xBB67_AE85;

/// Elements a threaded draw's chunks are whole multiples of (whole blocks of any layout).
pub const CHUNK_UNIT: usize = 32;

/// One Philox4x32 round.
#[inline(always)]
fn round(x: [u32; 4], k0: u32, k1: u32) -> [u32; 4] {
    let p0 = (x[0] as u64) * (M0 as u64);
    let p1 = (x[2] as u64) * (M1 as u64);
    [((p1 >> 32) as u32) ^ x[1] ^ k0, p1 as u32, ((p0 >> 32) as u32) ^ x[3] ^ k1, p0 as u32]
}

/// Philox4x32-10 of one counter under one key (Random123's `philox4x32_R(10, ctr, key)`).
#[inline(always)]
pub fn philox4x32_10(ctr: [u32; 4], key: [u32; 2]) -> [u32; 4] {
    let (mut k0, mut k1) = (key[0], key[1]);
    let mut x = ctr;
    for r in 0..10 {
        if r > 0 {
            k0 = k0.wrapping_add(W0);
            k1 = k1.wrapping_add(W1);
        }
        x = round(x, k0, k1);
    }
    x
}

/// The generator of one draw: its key, first counter and stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Philox {
    key: [u32; 2],
    counter: u64,
    stream: u32,
}

impl Philox {
    /// The generator of a state `[key, counter]` for a draw of stream `stream`.
    pub fn new(state: [i64; 2], stream: u32) -> Philox {
        let key = state[0] as u64;
        Philox { key: [key as u32, (key >> 32) as u32], counter: state[1] as u64, stream }
    }

    /// Block `b` of the draw, sub-draw `j`.
    #[inline(always)]
    pub fn block(&self, b: u64, j: u32) -> [u32; 4] {
        let c = self.counter.wrapping_add(b);
        philox4x32_10([c as u32, (c >> 32) as u32, j, self.stream], self.key)
    }

    /// The 64-bit word of slot `s` (two per block), sub-draw `j`.
    #[inline]
    pub fn word64(&self, s: u64, j: u32) -> u64 {
        let x = self.block(s / 2, j);
        let lane = (s % 2) as usize * 2;
        (x[lane] as u64) | ((x[lane + 1] as u64) << 32)
    }

    /// The 32-bit word of slot `s` (four per block), sub-draw `j`.
    #[inline]
    pub fn word32(&self, s: u64, j: u32) -> u32 {
        self.block(s / 4, j)[(s % 4) as usize]
    }
}

/// `[0, 1)` from the 52 high bits of a word, a multiple of 2^-52.
#[inline(always)]
fn unit52(w: u64) -> f64 {
    f64::from_bits(0x3FF0_0000_0000_0000 | (w >> 12)) - 1.0
}

/// `(0, 1]` from the 52 high bits of a word.
#[inline(always)]
fn unit52_open0(w: u64) -> f64 {
    2.0 - f64::from_bits(0x3FF0_0000_0000_0000 | (w >> 12))
}

/// `[0, 1)` from the 24 high bits of a 32-bit word, a multiple of 2^-24.
#[inline(always)]
fn unit24(x: u32) -> f32 {
    ((x >> 8) as i32) as f32 * (1.0 / 16_777_216.0)
}

/// Where a generated element goes: an initialized element or an uninitialized one.
pub trait Slot<T>: Send {
    /// Writes the element.
    fn put(&mut self, v: T);
}

macro_rules! slots {
    ($($t:ty),*) => {$(
        impl Slot<$t> for $t {
            #[inline(always)]
            fn put(&mut self, v: $t) {
                *self = v;
            }
        }
        impl Slot<$t> for MaybeUninit<$t> {
            #[inline(always)]
            fn put(&mut self, v: $t) {
                self.write(v);
            }
        }
    )*};
}
slots!(bool, i32, i64, f32, f64);

/// Elements `first..first + out.len()` of a draw of one element type, written by any
/// engine: the draws that are elementwise implement it.
pub trait Fill<T>: Sync {
    /// Writes elements `first..first + out.len()` (`first` a multiple of [`CHUNK_UNIT`]
    /// unless it is the whole draw's start).
    fn fill<S: Slot<T>>(&self, first: usize, out: &mut [S]);
}

/// How a draw is computed: serially by the reference kernel, split over threads by the
/// runtime, or fused into the kernel that consumes it. [`draw`] checks the parameters and
/// hands an elementwise draw to [`make`](Exec::make) as a [`Fill`]; other draws are computed
/// whole and handed to [`whole`](Exec::whole).
pub trait Exec {
    /// What the execution makes of a draw: the draw itself, or its consumer's result.
    type Out;

    /// The elementwise draw of `shape` whose elements `f` writes.
    fn make<T, F: Fill<T>>(&self, shape: &[usize], f: &F) -> Result<Self::Out, ValueError>
    where
        T: TensorElement + Slot<T>,
        MaybeUninit<T>: Slot<T>,
        Tensor: From<ArrayD<T>>;

    /// A draw that is not elementwise (choice without replacement or weighted,
    /// permutation, multinomial), computed whole.
    fn whole(&self, t: Tensor) -> Result<Self::Out, ValueError>;
}

/// The reference execution: one thread, a zeroed buffer.
#[derive(Clone, Copy, Debug, Default)]
pub struct Serial;

impl Exec for Serial {
    type Out = Tensor;

    fn make<T, F: Fill<T>>(&self, shape: &[usize], f: &F) -> Result<Tensor, ValueError>
    where
        T: TensorElement + Slot<T>,
        MaybeUninit<T>: Slot<T>,
        Tensor: From<ArrayD<T>>,
    {
        let n = crate::value::checked_len("random", shape, T::DTYPE)?;
        check_alloc("random", shape, T::DTYPE)?;
        let mut v = vec![T::zero(); n];
        f.fill(0, &mut v);
        finish(v, shape)
    }

    fn whole(&self, t: Tensor) -> Result<Tensor, ValueError> {
        Ok(t)
    }
}

/// A parameter broadcast to the draw's elements: one value, or one per element.
#[derive(Clone, Debug)]
enum Param<T> {
    One(T),
    Each(Vec<T>),
}

impl<T: Copy> Param<T> {
    #[inline(always)]
    fn at(&self, i: usize) -> T {
        match self {
            Param::One(v) => *v,
            Param::Each(v) => v[i],
        }
    }

    /// Every value (one, or one per element).
    fn all(&self) -> &[T] {
        match self {
            Param::One(v) => std::slice::from_ref(v),
            Param::Each(v) => v,
        }
    }
}

/// What a float draw makes of its words (a const parameter of the fills, so each variate
/// has its own loop).
const UNIFORM: u8 = 0;
/// Standard normals (Box–Muller).
const NORMAL: u8 = 1;
/// Standard normals truncated at 2 ([`box_muller_truncated`]).
const TRUNCATED: u8 = 2;

/// Uniform or normal float draws.
struct Continuous<T> {
    gen: Philox,
    /// `UNIFORM`, `NORMAL` or `TRUNCATED`.
    variate: u8,
    a: Param<T>,
    b: Param<T>,
}

/// The two float64 variates of block `b`, sub-draw `j`: uniforms in `[0, 1)`, or a standard
/// normal pair (a truncated pair redraws a radius from the words of sub-draw `j + 1` of the
/// block, the cosine element's from the first, the sine element's from the second).
#[inline(always)]
fn pair64<const MODE: u8>(gen: &Philox, b: u64, j: u32) -> (f64, f64) {
    let x = gen.block(b, j);
    let w0 = (x[0] as u64) | ((x[1] as u64) << 32);
    let w1 = (x[2] as u64) | ((x[3] as u64) << 32);
    match MODE {
        UNIFORM => (unit52(w0), unit52(w1)),
        NORMAL => box_muller(unit52_open0(w0), unit52(w1)),
        _ => box_muller_truncated(unit52_open0(w0), unit52(w1), |k| {
            unit52(gen.word64(2 * b + k as u64, j + 1))
        }),
    }
}

/// The float64 variates of elements `first..first + out.len()` (two per block, sub-draw
/// `j`): `put(slot, k, v)` writes variate `v` of element `first + k` into `out[k]`. A plain
/// loop over whole blocks, which the compiler vectorizes across blocks.
#[inline(always)]
fn fill64<const MODE: u8, S>(
    gen: &Philox,
    first: usize,
    j: u32,
    out: &mut [S],
    mut put: impl FnMut(&mut S, usize, f64),
) {
    let n = out.len();
    let mut k = 0;
    if first % 2 == 1 && n > 0 {
        let (_, b) = pair64::<MODE>(gen, (first / 2) as u64, j);
        put(&mut out[0], 0, b);
        k = 1;
    }
    let b0 = ((first + k) / 2) as u64;
    let body = (n - k) / 2 * 2;
    for (i, pair) in out[k..k + body].chunks_exact_mut(2).enumerate() {
        let (a, b) = pair64::<MODE>(gen, b0 + i as u64, j);
        put(&mut pair[0], k + 2 * i, a);
        put(&mut pair[1], k + 2 * i + 1, b);
    }
    if k + body < n {
        let (a, _) = pair64::<MODE>(gen, b0 + (body / 2) as u64, j);
        put(&mut out[n - 1], n - 1, a);
    }
}

/// The float32 variate of word `lane` (0..4) of block `b`'s words `x` (a truncated normal
/// redraws its radius from word `lane` of sub-draw 1 of the block).
#[inline(always)]
fn raw32<const MODE: u8>(gen: &Philox, b: u64, x: [u32; 4], lane: usize) -> f32 {
    if MODE == UNIFORM {
        return unit24(x[lane]);
    }
    let pair = lane & !1;
    let u1 = 1.0 - unit24(x[pair]) as f64;
    let u2 = unit24(x[pair + 1]) as f64;
    let (c, s) = if MODE == NORMAL {
        box_muller(u1, u2)
    } else {
        box_muller_truncated(u1, u2, |k| unit24(gen.block(b, 1)[pair + k]) as f64)
    };
    (if lane.is_multiple_of(2) { c } else { s }) as f32
}

impl Fill<f64> for Continuous<f64> {
    #[inline(always)]
    fn fill<S: Slot<f64>>(&self, first: usize, out: &mut [S]) {
        match self.variate {
            UNIFORM => self.fill64::<UNIFORM, S>(first, out),
            NORMAL => self.fill64::<NORMAL, S>(first, out),
            _ => self.fill64::<TRUNCATED, S>(first, out),
        }
    }
}

impl Continuous<f64> {
    /// [`Fill::fill`] of one kind of variate.
    #[inline(always)]
    fn fill64<const MODE: u8, S: Slot<f64>>(&self, first: usize, out: &mut [S]) {
        match (&self.a, &self.b) {
            // Uniform: lo + (hi - lo) * u; normal: avg + std * z.
            (Param::One(a), Param::One(b)) if MODE == UNIFORM => {
                let (lo, span) = (*a, b - a);
                fill64::<MODE, S>(&self.gen, first, 0, out, |s, _, u| s.put(lo + span * u));
            }
            (Param::One(avg), Param::One(std)) => {
                let (avg, std) = (*avg, *std);
                fill64::<MODE, S>(&self.gen, first, 0, out, |s, _, z| s.put(avg + std * z));
            }
            (a, b) if MODE == UNIFORM => fill64::<MODE, S>(&self.gen, first, 0, out, |s, k, u| {
                let (x, y) = (a.at(first + k), b.at(first + k));
                s.put(x + (y - x) * u)
            }),
            (a, b) => fill64::<MODE, S>(&self.gen, first, 0, out, |s, k, z| {
                s.put(a.at(first + k) + b.at(first + k) * z)
            }),
        }
    }
}

impl Fill<f32> for Continuous<f32> {
    #[inline(always)]
    fn fill<S: Slot<f32>>(&self, first: usize, out: &mut [S]) {
        match self.variate {
            UNIFORM => self.fill32::<UNIFORM, S>(first, out),
            NORMAL => self.fill32::<NORMAL, S>(first, out),
            _ => self.fill32::<TRUNCATED, S>(first, out),
        }
    }
}

impl Continuous<f32> {
    /// [`Fill::fill`] of one kind of variate.
    #[inline(always)]
    fn fill32<const MODE: u8, S: Slot<f32>>(&self, first: usize, out: &mut [S]) {
        let (a, b) = (&self.a, &self.b);
        let value = |i: usize, v: f32| {
            let (x, y) = (a.at(i), b.at(i));
            if MODE == UNIFORM {
                x + (y - x) * v
            } else {
                x + y * v
            }
        };
        let gen = &self.gen;
        let one = |e: usize| {
            let b = (e / 4) as u64;
            value(e, raw32::<MODE>(gen, b, gen.block(b, 0), e % 4))
        };
        let n = out.len();
        // A lone head and tail, element by element; whole blocks in a plain loop.
        let head = ((4 - first % 4) % 4).min(n);
        for (k, slot) in out[..head].iter_mut().enumerate() {
            slot.put(one(first + k));
        }
        let b0 = ((first + head) / 4) as u64;
        let body = (n - head) / 4 * 4;
        match (a, b) {
            (Param::One(a), Param::One(b)) if MODE == UNIFORM => {
                let (a, span) = (*a, b - a);
                for (i, quad) in out[head..head + body].chunks_exact_mut(4).enumerate() {
                    let x = gen.block(b0 + i as u64, 0);
                    for (slot, &w) in quad.iter_mut().zip(&x) {
                        slot.put(a + span * unit24(w));
                    }
                }
            }
            _ => {
                for (i, quad) in out[head..head + body].chunks_exact_mut(4).enumerate() {
                    let b = b0 + i as u64;
                    let x = gen.block(b, 0);
                    for (lane, slot) in quad.iter_mut().enumerate() {
                        slot.put(value(first + head + 4 * i + lane, raw32::<MODE>(gen, b, x, lane)));
                    }
                }
            }
        }
        for (k, slot) in out.iter_mut().enumerate().skip(head + body) {
            slot.put(one(first + k));
        }
    }
}

/// Binomial counts: successes among `n` trials of probability `p`.
struct Binomial {
    gen: Philox,
    n: Param<i64>,
    p: Param<f64>,
    max_n: i64,
}

/// Elements a binomial or integer draw works on at once.
const TILE: usize = 256;

impl<T: Element> Fill<T> for Binomial {
    #[inline(always)]
    fn fill<S: Slot<T>>(&self, first: usize, out: &mut [S]) {
        let mut u = [0.0f64; TILE];
        let mut count = [0i64; TILE];
        for (t, tile) in out.chunks_mut(TILE).enumerate() {
            let start = first + t * TILE;
            let len = tile.len();
            count[..len].fill(0);
            for trial in 0..self.max_n {
                fill64::<UNIFORM, f64>(&self.gen, start, trial as u32, &mut u[..len], |s, _, v| *s = v);
                for k in 0..len {
                    let i = start + k;
                    count[k] += (trial < self.n.at(i) && u[k] < self.p.at(i)) as i64;
                }
            }
            for (slot, &c) in tile.iter_mut().zip(&count[..len]) {
                slot.put(T::from_i64(c));
            }
        }
    }
}

/// Integers uniform on `[low, high]`, both included.
struct Integers {
    gen: Philox,
    low: Param<i64>,
    high: Param<i64>,
}

/// `low + ` a uniform integer below `range` (`range` 0: all of 2^64) from slot `s`:
/// Lemire's multiply-shift, a rejected word replaced by sub-draw `j + 1`.
#[inline]
fn bounded(gen: &Philox, s: u64, mut w: u64, range: u64) -> u64 {
    if range == 0 {
        return w;
    }
    let mut m = (w as u128) * (range as u128);
    if (m as u64) < range {
        let threshold = range.wrapping_neg() % range;
        let mut j = 0;
        while (m as u64) < threshold {
            j += 1;
            w = gen.word64(s, j);
            m = (w as u128) * (range as u128);
        }
    }
    (m >> 64) as u64
}

impl<T: Element> Fill<T> for Integers {
    #[inline(always)]
    fn fill<S: Slot<T>>(&self, first: usize, out: &mut [S]) {
        let mut words = [0u64; TILE];
        for (t, tile) in out.chunks_mut(TILE).enumerate() {
            let start = first + t * TILE;
            let len = tile.len();
            words64(&self.gen, start, &mut words[..len]);
            for (k, slot) in tile.iter_mut().enumerate() {
                let i = start + k;
                let (lo, hi) = (self.low.at(i), self.high.at(i));
                let range = (hi.wrapping_sub(lo) as u64).wrapping_add(1);
                let v = lo.wrapping_add(bounded(&self.gen, i as u64, words[k], range) as i64);
                slot.put(T::from_i64(v));
            }
        }
    }
}

/// The 64-bit words of slots `first..first + out.len()`, sub-draw 0.
#[inline(always)]
fn words64(gen: &Philox, first: usize, out: &mut [u64]) {
    let n = out.len();
    let mut k = 0;
    if first % 2 == 1 && n > 0 {
        out[0] = gen.word64(first as u64, 0);
        k = 1;
    }
    let b0 = ((first + k) / 2) as u64;
    let body = (n - k) / 2 * 2;
    for (i, pair) in out[k..k + body].chunks_exact_mut(2).enumerate() {
        let x = gen.block(b0 + i as u64, 0);
        pair[0] = (x[0] as u64) | ((x[1] as u64) << 32);
        pair[1] = (x[2] as u64) | ((x[3] as u64) << 32);
    }
    if k + body < n {
        out[n - 1] = gen.word64((first + n - 1) as u64, 0);
    }
}

/// The number of Philox blocks a draw of `elements` elements (slots) uses: how far its
/// state's counter advances.
pub fn blocks_used(dist: Distribution, dtype: DType, elements: u64) -> u64 {
    elements.div_ceil(dist.per_block(dtype) as u64)
}

/// The reference kernel of a draw.
pub fn eval(op: &Op, inputs: &[KernelInput<'_>], out: &TensorType) -> Result<Tensor, ValueError> {
    draw(op, inputs, out, &Serial)
}

/// A draw computed with `exec` making and filling the elementwise draws' buffers.
pub fn draw<E: Exec>(
    op: &Op,
    inputs: &[KernelInput<'_>],
    _out: &TensorType,
    exec: &E,
) -> Result<E::Out, ValueError> {
    let Op::Random(d) = op else {
        return Err(ValueError::invalid(op.name(), "not a random draw"));
    };
    let name = d.dist.name();
    let gen = Philox::new(read_state(name, &inputs[0])?, d.stream);
    let n_params = d.dist.params().len();
    let params = &inputs[1..1 + n_params];
    let size = lengths(name, &d.shape, &inputs[1 + n_params..])?;
    match d.dist {
        Distribution::Uniform | Distribution::Normal { .. } => {
            let variate = match d.dist {
                Distribution::Normal { truncate: false } => NORMAL,
                Distribution::Normal { truncate: true } => TRUNCATED,
                _ => UNIFORM,
            };
            if variate != UNIFORM {
                let std = params[1].value.cast(DType::F64).into_array::<f64>()?;
                if std.iter().any(|&s| s < 0.0 || s.is_nan()) {
                    return Err(ValueError::invalid(name, format!("{} has a negative std", params[1].name)));
                }
            }
            match d.dtype {
                DType::F32 => {
                    let (a, b) =
                        (param::<f32>(name, &params[0], &size)?, param::<f32>(name, &params[1], &size)?);
                    exec.make(&size, &Continuous { gen, variate, a, b })
                }
                _ => {
                    let (a, b) =
                        (param::<f64>(name, &params[0], &size)?, param::<f64>(name, &params[1], &size)?);
                    exec.make(&size, &Continuous { gen, variate, a, b })
                }
            }
        }
        Distribution::Binomial => {
            let n = param::<i64>(name, &params[0], &size)?;
            let p = param::<f64>(name, &params[1], &size)?;
            let count = size.iter().product::<usize>();
            let max_n = n.all().iter().copied().max().unwrap_or(0);
            if count > 0 && n.all().iter().any(|&k| k < 0) {
                return Err(ValueError::invalid(
                    name,
                    format!("{} has a negative number of trials", params[0].name),
                ));
            }
            if count > 0 && p.all().iter().any(|x| !(0.0..=1.0).contains(x)) {
                return Err(ValueError::invalid(
                    name,
                    format!("{} has a probability outside [0, 1]", params[1].name),
                ));
            }
            let f = Binomial { gen, n, p, max_n };
            by_dtype(exec, d.dtype, &size, &f)
        }
        Distribution::Integers => {
            let low = param::<i64>(name, &params[0], &size)?;
            let high = param::<i64>(name, &params[1], &size)?;
            let count = size.iter().product::<usize>();
            let checked =
                if matches!((&low, &high), (Param::One(_), Param::One(_))) { count.min(1) } else { count };
            if (0..checked).any(|i| low.at(i) > high.at(i)) {
                return Err(ValueError::invalid(name, "low is greater than high"));
            }
            by_dtype(exec, d.dtype, &size, &Integers { gen, low, high })
        }
        Distribution::Choice { replace, weighted } => {
            let n = params[0].value.cast(DType::I64).scalar::<i64>()?;
            if n < 0 {
                return Err(ValueError::invalid(name, format!("cannot choose among {n} items")));
            }
            let count: usize = size.iter().product();
            if weighted && params[1].value.ndim() == 2 {
                let mut shape = vec![params[1].value.shape()[0]];
                shape.extend_from_slice(&size);
                check_alloc(name, &shape, DType::I64)?;
                let picks = picks::choice_rows(name, &gen, n as usize, &params[1], count, replace)?;
                return exec.whole(to_tensor(picks, &shape, d.dtype)?);
            }
            if n == 0 && count > 0 {
                return Err(ValueError::invalid(name, "cannot choose from an empty population"));
            }
            let p = if weighted { Some(picks::probabilities(name, &params[1], n as usize)?) } else { None };
            if replace && p.is_none() {
                let f = Integers { gen, low: Param::One(0), high: Param::One(n - 1) };
                return by_dtype(exec, d.dtype, &size, &f);
            }
            if !replace && count > n as usize {
                return Err(ValueError::invalid(
                    name,
                    format!("cannot take {count} distinct items from a population of {n}"),
                ));
            }
            let picks = match (&p, replace) {
                (Some(p), true) => picks::choice_weighted(&gen, 0, p, count),
                (Some(p), false) => picks::choice_weighted_distinct(name, &gen, 0, p, count)?,
                (None, _) => picks::choice_distinct(&gen, n as u64, count),
            };
            exec.whole(to_tensor(picks, &size, d.dtype)?)
        }
        Distribution::Permutation => {
            let n = params[0].value.cast(DType::I64).scalar::<i64>()?;
            let n = usize::try_from(n)
                .map_err(|_| ValueError::invalid(name, format!("cannot permute {n} items")))?;
            let mut shape = size.clone();
            shape.push(n);
            crate::value::checked_len(name, &shape, DType::I64)?;
            check_alloc(name, &shape, DType::I64)?;
            let rows: usize = size.iter().product();
            let mut out = Vec::with_capacity(rows * n);
            for r in 0..rows {
                out.extend(picks::shuffle(&gen, (r * n) as u64, n));
            }
            exec.whole(to_tensor(out, &shape, d.dtype)?)
        }
        Distribution::Multinomial => exec.whole(picks::multinomial(name, &gen, params, &size, d.dtype)?),
    }
}

/// The draw of an elementwise distribution computed as integers, in `dtype`.
fn by_dtype<E: Exec, F>(exec: &E, dtype: DType, size: &[usize], f: &F) -> Result<E::Out, ValueError>
where
    F: Fill<i32> + Fill<i64> + Fill<f32> + Fill<f64>,
{
    match dtype {
        DType::I32 => exec.make::<i32, F>(size, f),
        DType::F32 => exec.make::<f32, F>(size, f),
        DType::F64 => exec.make::<f64, F>(size, f),
        _ => exec.make::<i64, F>(size, f),
    }
}

/// A tensor of `shape` from its elements.
pub fn finish<T: TensorElement>(v: Vec<T>, shape: &[usize]) -> Result<Tensor, ValueError>
where
    Tensor: From<ArrayD<T>>,
{
    Ok(Tensor::from(ArrayD::from_shape_vec(IxDyn(shape), v)?))
}

/// int64 results in `dtype`.
fn to_tensor(v: Vec<i64>, shape: &[usize], dtype: DType) -> Result<Tensor, ValueError> {
    let t = finish(v, shape)?;
    Ok(if dtype == DType::I64 { t } else { t.cast(dtype) })
}

/// The state `[key, counter]` of a draw.
fn read_state(op: &str, state: &KernelInput<'_>) -> Result<[i64; 2], ValueError> {
    let v = state.value;
    if v.dtype() != DType::I64 || v.shape() != [2] {
        return Err(ValueError::invalid(
            op,
            format!(
                "the generator state {} must be an int64 vector [key, counter], got {} of shape {:?}",
                state.name,
                v.dtype(),
                v.shape()
            ),
        ));
    }
    let a = v.array::<i64>()?;
    Ok([a[[0]], a[[1]]])
}

/// The size of a draw from its fixed and symbolic lengths.
fn lengths(op: &str, shape: &[Dim], inputs: &[KernelInput<'_>]) -> Result<Vec<usize>, ValueError> {
    let mut held = inputs.iter();
    shape
        .iter()
        .map(|d| match d {
            Dim::Fixed(n) => Ok(*n),
            Dim::Input => {
                let len = held.next().ok_or_else(|| ValueError::invalid(op, "a length input is missing"))?;
                let n = len.value.cast(DType::I64).scalar::<i64>()?;
                usize::try_from(n)
                    .map_err(|_| ValueError::invalid(op, format!("length {n} ({}) is negative", len.name)))
            }
        })
        .collect()
}

/// A parameter in `T`, broadcast to `size` (aligned on its last axes).
fn param<T: TensorElement>(op: &str, p: &KernelInput<'_>, size: &[usize]) -> Result<Param<T>, ValueError> {
    let v = p.value.cast(T::DTYPE).into_array::<T>()?;
    if v.len() == 1 && v.ndim() <= size.len() {
        return Ok(Param::One(*v.iter().next().expect("one element")));
    }
    let b = v.broadcast(IxDyn(size)).ok_or_else(|| ValueError::ShapeMismatch {
        op: op.into(),
        operands: vec![(p.name.to_string(), v.shape().to_vec()), ("size".into(), size.to_vec())],
    })?;
    Ok(Param::Each(b.iter().copied().collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_answers() {
        // Random123's kat_vectors for philox4x32 with 10 rounds: counter, key, result.
        let kat: [([u32; 4], [u32; 2], [u32; 4]); 3] = [
            ([0; 4], [0; 2], [0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8]),
            ([u32::MAX; 4], [u32::MAX; 2], [0x408f_276d, 0x41c8_3b0e, 0xa20b_c7c6, 0x6d54_51fd]),
            (
                [0x243f_6a88, 0x85a3_08d3, 0x1319_8a2e, 0x0370_7344],
                [0xa409_3822, 0x299f_31d0],
                [0xd16c_fe09, 0x94fd_cceb, 0x5001_e420, 0x2412_6ea1],
            ),
        ];
        for (ctr, key, want) in kat {
            assert_eq!(philox4x32_10(ctr, key), want);
        }
    }
}
