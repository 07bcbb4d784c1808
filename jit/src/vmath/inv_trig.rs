//! `arcsin`, `arccos`, `arctan`: fdlibm's algorithms with every interval computed and the
//! lane's own selected.

use super::M;
use cranelift_codegen::ir::condcodes::FloatCC;
use cranelift_codegen::ir::Value;

const PIO2_HI: f64 = std::f64::consts::FRAC_PI_2; // 0x3FF921FB 54442D18
const PIO2_LO: f64 = 6.123_233_995_736_766_035_87e-17;
/// `p(z)/z` of fdlibm's `R(z) = p(z)/q(z)` for `asin`/`acos`.
const PS: [f64; 6] = [
    1.666_666_666_666_666_574_15e-1,
    -3.255_658_186_224_009_154_05e-1,
    2.012_125_321_348_629_258_81e-1,
    -4.005_553_450_067_941_140_27e-2,
    7.915_349_942_898_145_321_76e-4,
    3.479_331_075_960_211_675_70e-5,
];
const QS: [f64; 5] = [
    1.0,
    -2.403_394_911_734_414_218_78e0,
    2.020_945_760_233_505_694_71e0,
    -6.882_839_716_054_532_930_30e-1,
    7.703_815_055_590_193_527_91e-2,
];
/// fdlibm's `0x3fef3333` threshold (about 0.975) of `asin`.
const ASIN_NEAR_ONE: u64 = 0x3fef_3333_0000_0000;

/// fdlibm's `R(z) = z·P(z)/Q(z)`.
fn rat(m: &mut M<'_, '_>, z: Value) -> Value {
    let p = m.poly(z, &PS);
    let p = m.mul(z, p);
    let q = m.poly(z, &QS);
    m.div(p, q)
}

/// `arcsin(x)` (fdlibm): `a + a·R(a²)` below ½; with `z = (1-a)/2`, `s = √z`,
/// `π/2 - 2(s + s·R(z))` above 0.975, and the split-`s` form between; the sign of `x`.
pub(super) fn emit_asin(m: &mut M<'_, '_>, x: Value) -> Value {
    let a = m.abs(x);
    let small = m.cmpc(FloatCC::LessThan, a, 0.5);
    let a2 = m.mul(a, a);
    let om = m.csub(1.0, a);
    let zb = m.mulc(om, 0.5);
    let z = m.sel(small, a2, zb);
    let r = rat(m, z);
    let res_small = m.mla(a, r, a);
    let s = m.sqrt(z);
    // |x| ≥ 0.975: PIO2_HI - (2(s + s·R) - PIO2_LO)
    let t = m.mla(s, r, s);
    let t = m.add(t, t);
    let t = m.addc(t, -PIO2_LO);
    let res_near = m.csub(PIO2_HI, t);
    // else: f = s with its low word cleared, c = (z - f²)/(s + f),
    // PIO2_HI/2 - (2s·R - (PIO2_LO - 2c) - (PIO2_HI/2 - 2f))
    let f = m.clear_low_word(s);
    let ff = m.mul(f, f);
    let num = m.sub(z, ff);
    let den = m.add(s, f);
    let c = m.div(num, den);
    let s2 = m.add(s, s);
    let sr = m.mul(s2, r);
    let c2 = m.add(c, c);
    let lo = m.csub(PIO2_LO, c2);
    let u = m.sub(sr, lo);
    let f2 = m.add(f, f);
    let hi = m.csub(0.5 * PIO2_HI, f2);
    let u = m.sub(u, hi);
    let res_mid = m.csub(0.5 * PIO2_HI, u);
    let near = m.cmpc(FloatCC::GreaterThanOrEqual, a, f64::from_bits(ASIN_NEAR_ONE));
    let big = m.sel(near, res_near, res_mid);
    let y = m.sel(small, res_small, big);
    m.copysign(y, x)
}

/// `arccos(x)` (fdlibm): `π/2 - (x - (PIO2_LO - x·R(x²)))` below ½ in magnitude; with
/// `z = (1-|x|)/2`, `s = √z`: `2(π/2 - (s + R(z)·s - PIO2_LO))` for `x ≤ -½`, and
/// `2(f + R(z)·s + c)` (split `s = f + c`) for `x ≥ ½`; `acos(1) = 0`.
pub(super) fn emit_acos(m: &mut M<'_, '_>, x: Value) -> Value {
    let a = m.abs(x);
    let small = m.cmpc(FloatCC::LessThan, a, 0.5);
    let a2 = m.mul(x, x);
    let om = m.csub(1.0, a);
    let zb = m.mulc(om, 0.5);
    let z = m.sel(small, a2, zb);
    let r = rat(m, z);
    // small
    let xr = m.mul(x, r);
    let t = m.csub(PIO2_LO, xr);
    let t = m.sub(x, t);
    let res_small = m.csub(PIO2_HI, t);
    let s = m.sqrt(z);
    // x ≤ -1/2
    let w = m.mul(r, s);
    let w = m.addc(w, -PIO2_LO);
    let sw = m.add(s, w);
    let t = m.csub(PIO2_HI, sw);
    let res_neg = m.add(t, t);
    // x ≥ 1/2
    let df = m.clear_low_word(s);
    let dd = m.mul(df, df);
    let num = m.sub(z, dd);
    let den = m.add(s, df);
    let c = m.div(num, den);
    let w = m.mla(r, s, c);
    let t = m.add(df, w);
    let res_pos = m.add(t, t);
    let neg = m.cmpc(FloatCC::LessThan, x, 0.0);
    let big = m.sel(neg, res_neg, res_pos);
    let y = m.sel(small, res_small, big);
    let one = m.cmpc(FloatCC::Equal, x, 1.0);
    m.selc(one, 0.0, y)
}

const ATANHI: [f64; 4] = [
    4.636_476_090_008_060_935_15e-1,
    std::f64::consts::FRAC_PI_4,
    9.827_937_232_473_290_540_82e-1,
    std::f64::consts::FRAC_PI_2,
];
const ATANLO: [f64; 4] = [
    2.269_877_745_296_168_709_24e-17,
    3.061_616_997_868_383_017_93e-17,
    1.390_331_103_123_099_845_16e-17,
    6.123_233_995_736_766_035_87e-17,
];
const AT: [f64; 11] = [
    3.333_333_333_333_293_180_27e-1,
    -1.999_999_999_987_648_324_76e-1,
    1.428_571_427_250_346_637_11e-1,
    -1.111_111_040_546_235_578_80e-1,
    9.090_887_133_436_506_561_96e-2,
    -7.691_876_205_044_829_994_95e-2,
    6.661_073_137_387_531_206_69e-2,
    -5.833_570_133_790_573_486_45e-2,
    4.976_877_994_615_932_360_17e-2,
    -3.653_157_274_421_691_552_70e-2,
    1.628_582_011_536_578_236_23e-2,
];

/// `arctan(x)` (fdlibm): `|x|` mapped into `[-7/16, 7/16]` by one of five Möbius maps
/// `t = (A·a + B)/(C·a + D)` chosen by interval, then `atan_hi - ((t·S(t²) - atan_lo) - t)`;
/// the sign of `x`.
pub(super) fn emit_atan(m: &mut M<'_, '_>, x: Value) -> Value {
    let a = m.abs(x);
    // Beyond 2^66 atan is π/2 to the last bit; clamping keeps -1/a finite and 0·a zero.
    let a = m.min_keep_nan(a, 1e300);
    // (A, B, C, D, hi, lo) per interval, from the last (a ≥ 2.4375, and NaN) down.
    let rows: [(f64, [f64; 6]); 4] = [
        (2.4375, [1.0, -1.5, 1.5, 1.0, ATANHI[2], ATANLO[2]]),
        (1.1875, [1.0, -1.0, 1.0, 1.0, ATANHI[1], ATANLO[1]]),
        (0.6875, [2.0, -1.0, 1.0, 2.0, ATANHI[0], ATANLO[0]]),
        (0.4375, [1.0, 0.0, 0.0, 1.0, 0.0, 0.0]),
    ];
    let mut k: Vec<Value> = [0.0, -1.0, 1.0, 0.0, ATANHI[3], ATANLO[3]].iter().map(|&v| m.c(v)).collect();
    for (bound, vals) in rows {
        let below = m.cmpc(FloatCC::LessThan, a, bound);
        for (slot, v) in k.iter_mut().zip(vals) {
            let c = m.c(v);
            *slot = m.sel(below, c, *slot);
        }
    }
    let num = m.mla(a, k[0], k[1]);
    let den = m.mla(a, k[2], k[3]);
    let t = m.div(num, den);
    let z = m.mul(t, t);
    let p = m.poly(z, &AT);
    let s = m.mul(z, p);
    // hi - ((t·s - lo) - t)
    let ts = m.mul(t, s);
    let u = m.sub(ts, k[5]);
    let u = m.sub(u, t);
    let y = m.sub(k[4], u);
    m.copysign(y, x)
}
