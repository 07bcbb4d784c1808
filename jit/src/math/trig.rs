//! `sin`, `cos`, `tan`: fdlibm's reduction by `π/2` and its kernels, branch-free.
//!
//! Reduction (fdlibm's `__rem_pio2` medium case with all three rounds always done):
//! `n = round(x·2/π)`, and `x - n·π/2` as `y0 + y1` with `π/2` in three 33-bit parts and a
//! tail, exact for `|n| < 2^20`. Lanes with `|x| > LIMIT` (or infinite) are beyond that:
//! the three functions declare it ([`Algorithm::LIMIT`]), and the callers recompute those
//! lanes with the reference function.

use super::inv_trig::ATANLO;
use super::{Algorithm, Cmp, Lanes};

/// The largest `|x|` reduced inline: 1.5·2^20, so `|n| ≤ 2^20`.
const LIMIT: f64 = 1_572_864.0;

const INV_PIO2: f64 = std::f64::consts::FRAC_2_PI;
const PIO2_1: f64 = 1.570_796_326_734_125_614_17e0; // 0x3FF921FB 54400000
const PIO2_2: f64 = 6.077_100_506_303_965_976_60e-11; // 0x3DD0B461 1A600000
const PIO2_2T: f64 = 2.022_266_248_795_950_631_54e-21;
const PIO2_3: f64 = 2.022_266_248_711_166_455_80e-21; // 0x3BA3198A 2E000000
const PIO2_3T: f64 = 8.478_427_660_368_899_569_97e-32;

const S: [f64; 6] = [
    -1.666_666_666_666_663_243_48e-1,
    8.333_333_333_322_489_461_24e-3,
    -1.984_126_982_985_794_931_34e-4,
    2.755_731_370_707_006_767_89e-6,
    -2.505_076_025_340_686_341_95e-8,
    1.589_690_995_211_550_102_21e-10,
];
const C: [f64; 6] = [
    4.166_666_666_666_660_190_37e-2,
    -1.388_888_888_887_410_957_49e-3,
    2.480_158_728_947_672_941_78e-5,
    -2.755_731_435_139_066_330_35e-7,
    2.087_572_321_298_174_827_90e-9,
    -1.135_964_755_778_819_482_65e-11,
];
const T: [f64; 13] = [
    3.333_333_333_333_340_919_86e-1,
    1.333_333_333_332_012_426_99e-1,
    5.396_825_397_622_605_213_77e-2,
    2.186_948_829_485_954_245_99e-2,
    8.863_239_823_599_300_057_37e-3,
    3.592_079_107_591_312_353_56e-3,
    1.456_209_454_325_290_255_16e-3,
    5.880_412_408_202_640_968_74e-4,
    2.464_631_348_184_699_068_12e-4,
    7.817_944_429_395_570_923_00e-5,
    7.140_724_913_826_081_903_05e-5,
    -1.855_863_748_552_754_566_54e-5,
    2.590_730_518_636_337_128_84e-5,
];
const PIO4: f64 = std::f64::consts::FRAC_PI_4;

/// `x - n·π/2 = y0 + y1` and the integer `n`, for `|x| ≤ LIMIT` (fdlibm's `PIO2_1T` unused).
#[inline(always)]
fn reduce<L: Lanes>(l: &mut L, x: L::F) -> (L::F, L::F, L::I) {
    // Round 1: n·PIO2_1 is exact (31-bit constant, |n| ≤ 2^20) and so is the difference.
    let (kd, fnv, r) = l.round_reduce(x, INV_PIO2, PIO2_1);
    // Rounds 2 and 3: subtract n·PIO2_i (exact products), tracking the error (Fast2Sum).
    let mut r = r;
    let mut w = l.c(0.0);
    for (p, pt) in [(PIO2_2, PIO2_2T), (PIO2_3, PIO2_3T)] {
        let t = r;
        let wp = l.mulc(fnv, p);
        r = l.sub(t, wp);
        let tr = l.sub(t, r);
        let e = l.sub(tr, wp);
        let wt = l.mulc(fnv, pt);
        w = l.sub(wt, e);
    }
    let y0 = l.sub(r, w);
    let d = l.sub(r, y0);
    let y1 = l.sub(d, w);
    let n = l.shifted_int(kd);
    (y0, y1, n)
}

/// fdlibm's `__kernel_sin(x, y, 1)`: `sin(x + y)` for `|x| ≤ π/4`, with `s` the odd
/// series' coefficients from `x³`'s.
#[inline(always)]
fn k_sin<L: Lanes>(l: &mut L, x: L::F, y: L::F, s: &[f64]) -> L::F {
    let z = l.mul(x, x);
    let r = l.poly(z, &s[1..]);
    let v = l.mul(z, x);
    // x - ((z·(y/2 - v·r) - y) - v·S1)
    let hy = l.mulc(y, 0.5);
    let vr = l.mul(v, r);
    let t = l.sub(hy, vr);
    let t = l.mul(z, t);
    let t = l.sub(t, y);
    let vs = l.mulc(v, s[0]);
    let t = l.sub(t, vs);
    l.sub(x, t)
}

/// fdlibm's `__kernel_cos(x, y)`: `cos(x + y)` for `|x| ≤ π/4`, with `c` the even series'
/// coefficients from `x⁴`'s.
#[inline(always)]
fn k_cos<L: Lanes>(l: &mut L, x: L::F, y: L::F, c: &[f64]) -> L::F {
    let z = l.mul(x, x);
    let p = l.poly(z, c);
    let r = l.mul(z, p);
    let hz = l.mulc(z, 0.5);
    let w = l.csub(1.0, hz);
    // w + (((1 - w) - hz) + (z·r - x·y))
    let a = l.csub(1.0, w);
    let a = l.sub(a, hz);
    let zr = l.mul(z, r);
    let xy = l.mul(x, y);
    let b = l.sub(zr, xy);
    let a = l.add(a, b);
    l.add(w, a)
}

/// fdlibm's `__kernel_tan(x, y, odd)`, both branches computed: `tan(x + y)` (even) or
/// `-1/tan(x + y)` (odd), for `|x| ≤ π/4`. `odd` is a lane mask.
#[inline(always)]
fn k_tan<L: Lanes>(l: &mut L, x: L::F, y: L::F, odd: L::M) -> L::F {
    let ax = l.abs(x);
    let big = l.cmpc(Cmp::Ge, ax, 0.674_335_479_736_328_1);
    let neg = l.cmpc(Cmp::Lt, x, 0.0);
    let ny = l.neg(y);
    let ya = l.sel(neg, ny, y);
    // big: x = (π/4 - |x|) + (π/4_lo - y·sign), y = 0
    let a = l.csub(PIO4, ax);
    let b = l.csub(ATANLO[1], ya);
    let xb = l.add(a, b);
    let x = l.sel(big, xb, x);
    let zero = l.c(0.0);
    let y = l.sel(big, zero, y);
    let z = l.mul(x, x);
    let w = l.mul(z, z);
    let r = l.poly(w, &[T[1], T[3], T[5], T[7], T[9], T[11]]);
    let v = l.poly(w, &[T[2], T[4], T[6], T[8], T[10], T[12]]);
    let v = l.mul(z, v);
    let s = l.mul(z, x);
    // r = y + z·(s·(r + v) + y) + s·T0
    let rv = l.add(r, v);
    let t = l.mla(s, rv, y);
    let t = l.mla(z, t, y);
    let st = l.mulc(s, T[0]);
    let r = l.add(t, st);
    let w = l.add(x, r);
    // big: v = sg - 2·(x + (r - w²/(w + sg))), negated for negative inputs.
    let one = l.c(1.0);
    let sg = l.selc(odd, -1.0, one);
    let ww = l.mul(w, w);
    let wsg = l.add(w, sg);
    let q = l.div(ww, wsg);
    let q = l.sub(r, q);
    let q = l.add(x, q);
    let q = l.add(q, q);
    let vb = l.sub(sg, q);
    let nvb = l.neg(vb);
    let big_res = l.sel(neg, nvb, vb);
    // small, odd: -1/(x + r) with extra precision.
    let w0 = l.clear_low_word(w);
    let d = l.sub(w0, x);
    let v = l.sub(r, d);
    let mone = l.c(-1.0);
    let a = l.div(mone, w);
    let a0 = l.clear_low_word(a);
    let t = l.mla(a0, w0, one);
    let t = l.mla(a0, v, t);
    let odd_res = l.mla(a, t, a0);
    let small_res = l.sel(odd, odd_res, w);
    l.sel(big, big_res, small_res)
}

/// The lane mask of `n & bit != 0`.
#[inline(always)]
fn bit_set<L: Lanes>(l: &mut L, n: L::I, bit: i64) -> L::M {
    let c = l.ci(bit);
    let b = l.iand(n, c);
    l.ieq(b, c)
}

/// `y` with its sign flipped where bit 1 of `n` is set.
#[inline(always)]
fn flip_by_bit1<L: Lanes>(l: &mut L, y: L::F, n: L::I) -> L::F {
    let c = l.ci(2);
    let b = l.iand(n, c);
    let s = l.shl(b, l.fmt().bits - 2);
    let yb = l.bits(y);
    let r = l.ixor(yb, s);
    l.float(r)
}

/// `sin(x + shift·π/2)` from the reduced `x - n·π/2 = y0 + y1`: by quadrant
/// `m = n + shift` (mod 4), `sin`, `cos`, `-sin`, `-cos` of the reduced argument, with the
/// kernels' coefficients `s` and `c`.
#[inline(always)]
fn sin_quadrant<L: Lanes>(
    l: &mut L,
    (y0, y1, n): (L::F, L::F, L::I),
    shift: i64,
    s: &[f64],
    c: &[f64],
) -> L::F {
    let sn = k_sin(l, y0, y1, s);
    let cs = k_cos(l, y0, y1, c);
    let k = l.ci(shift);
    let m = l.iadd(n, k);
    let odd = bit_set(l, m, 1);
    let y = l.sel(odd, cs, sn);
    flip_by_bit1(l, y, m)
}

/// `sin(x)`.
pub(crate) struct Sin;

impl Algorithm for Sin {
    const LIMIT: Option<f64> = Some(LIMIT);
    const F32: bool = true;
    const LIMIT_F32: Option<f64> = Some(LIMIT_F32);
    #[inline(always)]
    fn eval_f32<L: Lanes>(l: &mut L, x: L::F) -> L::F {
        let r = reduce_f32(l, x);
        let y = sin_quadrant(l, r, 0, &S_F32, &C_F32);
        l.keep_zero(x, y)
    }
    #[inline(always)]
    fn eval<L: Lanes>(l: &mut L, x: L::F) -> L::F {
        let r = reduce(l, x);
        sin_quadrant(l, r, 0, &S, &C)
    }
}

/// `cos(x) = sin(x + π/2)`.
pub(crate) struct Cos;

impl Algorithm for Cos {
    const LIMIT: Option<f64> = Some(LIMIT);
    const F32: bool = true;
    const LIMIT_F32: Option<f64> = Some(LIMIT_F32);
    #[inline(always)]
    fn eval_f32<L: Lanes>(l: &mut L, x: L::F) -> L::F {
        let r = reduce_f32(l, x);
        sin_quadrant(l, r, 1, &S_F32, &C_F32)
    }
    #[inline(always)]
    fn eval<L: Lanes>(l: &mut L, x: L::F) -> L::F {
        let r = reduce(l, x);
        sin_quadrant(l, r, 1, &S, &C)
    }
}

/// `tan(x)`: `tan` or `-1/tan` of the reduced argument by the parity of `n`.
pub(crate) struct Tan;

impl Algorithm for Tan {
    const LIMIT: Option<f64> = Some(LIMIT);
    #[inline(always)]
    fn eval<L: Lanes>(l: &mut L, x: L::F) -> L::F {
        let (y0, y1, n) = reduce(l, x);
        let odd = bit_set(l, n, 1);
        let y = k_tan(l, y0, y1, odd);
        l.keep_zero(x, y)
    }
}

// ---------------------------------------------------------------------------------------
// `f32` algorithms: `n = round(x·2/π)` by the `f32` shifter, `x - n·π/2` in three rounds
// with `π/2` in three 12-bit parts (so `n·part` is exact for `|n| < 2^12`) plus a tail, the
// rounding error of every round carried (Fast2Sum) into the low part; fdlibm's kernels with
// Taylor polynomials short enough for `f32` (truncation below 0.05 ulp on `|x| ≤ π/4`).
// Checked exhaustively: every `f32` with `|x| ≤ LIMIT_F32` is within 1 ulp of the correctly
// rounded result and of glibc's `sinf`/`cosf`.

/// The largest `|x|` reduced on `f32` lanes: `|n| ≤ 4074 < 2^12`.
const LIMIT_F32: f64 = 6400.0;
const INV_PIO2_F32: f64 = 0.636_619_746_685_028_1;
/// `π/2` in 12-bit parts and the rest (60 bits in all).
const PIO2_F32: [f64; 4] =
    [1.570_800_781_25, -4.453_584_551_811_218e-6, -8.706_138_032_721_356e-10, 6.222_800_053_024_002e-14];
const PIO2_F32_TAIL: f64 = 5.721_188_916_458_728e-18;
/// `sin(x) = x + x³·Σ S_i·x^(2i)`: Taylor's `-1/3!`, `1/5!`, `-1/7!`, `1/9!` in `f32`.
const S_F32: [f64; 4] = [
    -0.166_666_671_633_720_4,
    0.008_333_333_767_950_535,
    -0.000_198_412_701_138_295_23,
    2.755_731_884_462_875_3e-6,
];
/// `cos(x) = 1 - x²/2 + x⁴·Σ C_i·x^(2i)`: `1/4!`, `-1/6!`, `1/8!`, `-1/10!` in `f32`.
const C_F32: [f64; 4] = [
    0.041_666_667_908_430_1,
    -0.001_388_888_922_519_981_9,
    2.480_158_764_228_690_4e-5,
    -2.755_731_998_149_713e-7,
];

/// `x - n·π/2 = y0 + y1` and the integer `n` on `f32` lanes, for `|x| ≤ LIMIT_F32`.
#[inline(always)]
fn reduce_f32<L: Lanes>(l: &mut L, x: L::F) -> (L::F, L::F, L::I) {
    // Round 1 is exact: n·PIO2_F32[0] has 24 bits and the difference is small.
    let (kd, fnv, mut r) = l.round_reduce(x, INV_PIO2_F32, PIO2_F32[0]);
    let mut err = l.c(0.0);
    for &p in &PIO2_F32[1..] {
        let np = l.mulc(fnv, p); // exact
        let nnp = l.neg(np);
        // Fast2Sum: |r| ≥ |n·p| or a difference it still gets exactly (every f32 in range
        // is checked by the exhaustive test).
        let (s, e) = l.fast_two_sum(r, nnp);
        r = s;
        err = l.add(err, e);
    }
    // w = n·tail - err: what is still to subtract.
    let nt = l.mulc(fnv, PIO2_F32_TAIL);
    let w = l.sub(nt, err);
    let y0 = l.sub(r, w);
    let d = l.sub(r, y0);
    let y1 = l.sub(d, w);
    (y0, y1, l.shifted_int(kd))
}
