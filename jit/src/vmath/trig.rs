//! `sin`, `cos`, `tan`: fdlibm's reduction by `π/2` and its kernels, branch-free.
//!
//! Reduction (fdlibm's `__rem_pio2` medium case with all three rounds always done):
//! `n = round(x·2/π)`, and `x - n·π/2` as `y0 + y1` with `π/2` in three 33-bit parts and a
//! tail, exact for `|n| < 2^20`. Lanes with `|x| > LIMIT` (or infinite) are beyond that:
//! when a vector has any, a slow block recomputes the whole vector with the std function,
//! lane by lane, which is rare and always right.

use super::M;
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{BlockArg, FuncRef, InstBuilder, Value};

/// The largest `|x|` reduced inline: 1.5·2^20, so `|n| ≤ 2^20`.
pub(crate) const LIMIT: f64 = 1_572_864.0;

const INV_PIO2: f64 = std::f64::consts::FRAC_2_PI;
const PIO2_1: f64 = 1.570_796_326_734_125_614_17e0; // 0x3FF921FB 54400000
const PIO2_2: f64 = 6.077_100_506_303_965_976_60e-11; // 0x3DD0B461 1A600000
const PIO2_2T: f64 = 2.022_266_248_795_950_631_54e-21;
const PIO2_3: f64 = 2.022_266_248_711_166_455_80e-21; // 0x3BA3198A 2E000000
const PIO2_3T: f64 = 8.478_427_660_368_899_569_97e-32;
const SHIFTER: f64 = 6_755_399_441_055_744.0;
const SHIFTER_BITS: i64 = 0x4338_0000_0000_0000;

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
const PIO4_LO: f64 = 3.061_616_997_868_383_017_93e-17;

/// `x - n·π/2 = y0 + y1` and `n` (fdlibm's first-round tail `PIO2_1T` is not needed: the
/// second and third rounds always run) (an integer, `I64`/`I64X2`), for `|x| ≤ LIMIT`.
fn reduce(m: &mut M<'_, '_>, x: Value) -> (Value, Value, Value) {
    let inv = m.c(INV_PIO2);
    let sh = m.c(SHIFTER);
    let kd = m.mla(x, inv, sh);
    let fnv = m.sub(kd, sh);
    // Round 1: n·PIO2_1 is exact (31-bit constant, |n| ≤ 2^20) and so is the difference.
    let p1 = m.c(-PIO2_1);
    let r = m.mla(fnv, p1, x);
    // Rounds 2 and 3: subtract n·PIO2_i (exact products), tracking the error (Fast2Sum).
    let mut r = r;
    let mut w = m.c(0.0);
    for (p, pt) in [(PIO2_2, PIO2_2T), (PIO2_3, PIO2_3T)] {
        let t = r;
        let wp = m.mulc(fnv, p);
        r = m.sub(t, wp);
        let tr = m.sub(t, r);
        let e = m.sub(tr, wp);
        let wt = m.mulc(fnv, pt);
        w = m.sub(wt, e);
    }
    let y0 = m.sub(r, w);
    let d = m.sub(r, y0);
    let y1 = m.sub(d, w);
    let kb = m.bits_of(kd);
    let shb = m.ci(SHIFTER_BITS);
    let n = m.b.ins().isub(kb, shb);
    (y0, y1, n)
}

/// fdlibm's `__kernel_sin(x, y, 1)`: `sin(x + y)` for `|x| ≤ π/4`.
fn k_sin(m: &mut M<'_, '_>, x: Value, y: Value) -> Value {
    let z = m.mul(x, x);
    let r = m.poly(z, &S[1..]);
    let v = m.mul(z, x);
    // x - ((z·(y/2 - v·r) - y) - v·S1)
    let hy = m.mulc(y, 0.5);
    let vr = m.mul(v, r);
    let t = m.sub(hy, vr);
    let t = m.mul(z, t);
    let t = m.sub(t, y);
    let vs = m.mulc(v, S[0]);
    let t = m.sub(t, vs);
    m.sub(x, t)
}

/// fdlibm's `__kernel_cos(x, y)`: `cos(x + y)` for `|x| ≤ π/4`.
fn k_cos(m: &mut M<'_, '_>, x: Value, y: Value) -> Value {
    let z = m.mul(x, x);
    let p = m.poly(z, &C);
    let r = m.mul(z, p);
    let hz = m.mulc(z, 0.5);
    let w = m.csub(1.0, hz);
    // w + (((1 - w) - hz) + (z·r - x·y))
    let a = m.csub(1.0, w);
    let a = m.sub(a, hz);
    let zr = m.mul(z, r);
    let xy = m.mul(x, y);
    let b = m.sub(zr, xy);
    let a = m.add(a, b);
    m.add(w, a)
}

/// fdlibm's `__kernel_tan(x, y, odd)`, both branches computed: `tan(x + y)` (even) or
/// `-1/tan(x + y)` (odd), for `|x| ≤ π/4`. `odd` is a lane mask.
fn k_tan(m: &mut M<'_, '_>, x: Value, y: Value, odd: Value) -> Value {
    let ax = m.abs(x);
    let big = m.cmpc(FloatCC::GreaterThanOrEqual, ax, 0.674_335_479_736_328_1);
    let neg = m.cmpc(FloatCC::LessThan, x, 0.0);
    let ny = m.neg(y);
    let ya = m.sel(neg, ny, y);
    // big: x = (π/4 - |x|) + (π/4_lo - y·sign), y = 0
    let a = m.csub(PIO4, ax);
    let b = m.csub(PIO4_LO, ya);
    let xb = m.add(a, b);
    let x = m.sel(big, xb, x);
    let zero = m.c(0.0);
    let y = m.sel(big, zero, y);
    let z = m.mul(x, x);
    let w = m.mul(z, z);
    let r = m.poly(w, &[T[1], T[3], T[5], T[7], T[9], T[11]]);
    let v = m.poly(w, &[T[2], T[4], T[6], T[8], T[10], T[12]]);
    let v = m.mul(z, v);
    let s = m.mul(z, x);
    // r = y + z·(s·(r + v) + y) + s·T0
    let rv = m.add(r, v);
    let t = m.mla(s, rv, y);
    let t = m.mla(z, t, y);
    let st = m.mulc(s, T[0]);
    let r = m.add(t, st);
    let w = m.add(x, r);
    // big: v = sg - 2·(x + (r - w²/(w + sg))), negated for negative inputs.
    let one = m.c(1.0);
    let sg = m.selc(odd, -1.0, one);
    let ww = m.mul(w, w);
    let wsg = m.add(w, sg);
    let q = m.div(ww, wsg);
    let q = m.sub(r, q);
    let q = m.add(x, q);
    let q = m.add(q, q);
    let vb = m.sub(sg, q);
    let nvb = m.neg(vb);
    let big_res = m.sel(neg, nvb, vb);
    // small, odd: -1/(x + r) with extra precision.
    let w0 = m.clear_low_word(w);
    let d = m.sub(w0, x);
    let v = m.sub(r, d);
    let mone = m.c(-1.0);
    let a = m.div(mone, w);
    let a0 = m.clear_low_word(a);
    let t = m.mla(a0, w0, one);
    let t = m.mla(a0, v, t);
    let odd_res = m.mla(a, t, a0);
    let small_res = m.sel(odd, odd_res, w);
    m.sel(big, big_res, small_res)
}

/// The lane mask of `n & bit != 0`.
fn bit_set(m: &mut M<'_, '_>, n: Value, bit: i64) -> Value {
    let c = m.ci(bit);
    let b = m.b.ins().band(n, c);
    m.b.ins().icmp(IntCC::Equal, b, c)
}

/// `y` with its sign flipped where bit 1 of `n` is set.
fn flip_by_bit1(m: &mut M<'_, '_>, y: Value, n: Value) -> Value {
    let c = m.ci(2);
    let b = m.b.ins().band(n, c);
    let s = m.b.ins().ishl_imm_u(b, 62i64);
    let yb = m.bits_of(y);
    let r = m.b.ins().bxor(yb, s);
    m.float_of(r)
}

/// Replaces the result by the std function's, lane by lane, when any lane of `x` has
/// `|x| > LIMIT` (a branch around a rarely taken block).
fn with_fallback(m: &mut M<'_, '_>, x: Value, fast: Value, f: FuncRef) -> Value {
    let ax = m.abs(x);
    let huge = m.cmpc(FloatCC::GreaterThan, ax, LIMIT);
    let any = if m.vector() { m.b.ins().vany_true(huge) } else { huge };
    let slow = m.b.create_block();
    let merge = m.b.create_block();
    let ty = m.ty;
    let res = m.b.append_block_param(merge, ty);
    m.b.ins().brif(any, slow, &[], merge, &[BlockArg::Value(fast)]);
    m.b.set_cold_block(slow);
    m.b.switch_to_block(slow);
    let out = if m.vector() {
        let mut acc = fast;
        for lane in 0..ty.lane_count() as u8 {
            let xi = m.b.ins().extractlane(x, lane);
            let call = m.b.ins().call(f, &[xi]);
            let yi = m.b.inst_results(call)[0];
            acc = m.b.ins().insertlane(acc, yi, lane);
        }
        acc
    } else {
        let call = m.b.ins().call(f, &[x]);
        m.b.inst_results(call)[0]
    };
    m.b.ins().jump(merge, &[BlockArg::Value(out)]);
    m.b.switch_to_block(merge);
    res
}

/// `sin(x)`: by quadrant `n mod 4`, `sin`, `cos`, `-sin`, `-cos` of the reduced argument.
pub(super) fn emit_sin(m: &mut M<'_, '_>, x: Value, f: FuncRef) -> Value {
    let (y0, y1, n) = reduce(m, x);
    let s = k_sin(m, y0, y1);
    let c = k_cos(m, y0, y1);
    let odd = bit_set(m, n, 1);
    let y = m.sel(odd, c, s);
    let y = flip_by_bit1(m, y, n);
    with_fallback(m, x, y, f)
}

/// `cos(x)`: by quadrant, `cos`, `-sin`, `-cos`, `sin` of the reduced argument.
pub(super) fn emit_cos(m: &mut M<'_, '_>, x: Value, f: FuncRef) -> Value {
    let (y0, y1, n) = reduce(m, x);
    let s = k_sin(m, y0, y1);
    let c = k_cos(m, y0, y1);
    let odd = bit_set(m, n, 1);
    let y = m.sel(odd, s, c);
    let one = m.ci(1);
    let n1 = m.b.ins().iadd(n, one);
    let y = flip_by_bit1(m, y, n1);
    with_fallback(m, x, y, f)
}

/// `tan(x)`: `tan` or `-1/tan` of the reduced argument by the parity of `n`.
pub(super) fn emit_tan(m: &mut M<'_, '_>, x: Value, f: FuncRef) -> Value {
    let (y0, y1, n) = reduce(m, x);
    let odd = bit_set(m, n, 1);
    let y = k_tan(m, y0, y1, odd);
    let y = m.keep_zero(x, y);
    with_fallback(m, x, y, f)
}
