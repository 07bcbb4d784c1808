//! `arcsin`, `arccos`, `arctan`: fdlibm's algorithms with every interval computed and the
//! lane's own selected.

use super::{Algorithm, Cmp, Lanes};

const PIO2_HI: f64 = std::f64::consts::FRAC_PI_2; // 0x3FF921FB 54442D18
const PIO2_LO: f64 = ATANLO[3];
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
#[inline(always)]
fn rat<L: Lanes>(l: &mut L, z: L::F) -> L::F {
    let p = l.poly(z, &PS);
    let p = l.mul(z, p);
    let q = l.poly(z, &QS);
    l.div(p, q)
}

/// `arcsin(x)` (fdlibm): `a + a·R(a²)` below ½; with `z = (1-a)/2`, `s = √z`,
/// `π/2 - 2(s + s·R(z))` above 0.975, and the split-`s` form between; the sign of `x`.
pub(crate) struct Asin;

impl Algorithm for Asin {
    #[inline(always)]
    fn eval<L: Lanes>(l: &mut L, x: L::F) -> L::F {
        let a = l.abs(x);
        let small = l.cmpc(Cmp::Lt, a, 0.5);
        let a2 = l.mul(a, a);
        let om = l.csub(1.0, a);
        let zb = l.mulc(om, 0.5);
        let z = l.sel(small, a2, zb);
        let r = rat(l, z);
        let res_small = l.mla(a, r, a);
        let s = l.sqrt(z);
        // |x| ≥ 0.975: PIO2_HI - (2(s + s·R) - PIO2_LO)
        let t = l.mla(s, r, s);
        let t = l.add(t, t);
        let t = l.addc(t, -PIO2_LO);
        let res_near = l.csub(PIO2_HI, t);
        // else: f = s with its low word cleared, c = (z - f²)/(s + f),
        // PIO2_HI/2 - (2s·R - (PIO2_LO - 2c) - (PIO2_HI/2 - 2f))
        let f = l.clear_low_word(s);
        let ff = l.mul(f, f);
        let num = l.sub(z, ff);
        let den = l.add(s, f);
        let c = l.div(num, den);
        let s2 = l.add(s, s);
        let sr = l.mul(s2, r);
        let c2 = l.add(c, c);
        let lo = l.csub(PIO2_LO, c2);
        let u = l.sub(sr, lo);
        let f2 = l.add(f, f);
        let hi = l.csub(0.5 * PIO2_HI, f2);
        let u = l.sub(u, hi);
        let res_mid = l.csub(0.5 * PIO2_HI, u);
        let near = l.cmpc(Cmp::Ge, a, f64::from_bits(ASIN_NEAR_ONE));
        let big = l.sel(near, res_near, res_mid);
        let y = l.sel(small, res_small, big);
        l.copysign(y, x)
    }
}

/// `arccos(x)` (fdlibm): `π/2 - (x - (PIO2_LO - x·R(x²)))` below ½ in magnitude; with
/// `z = (1-|x|)/2`, `s = √z`: `2(π/2 - (s + R(z)·s - PIO2_LO))` for `x ≤ -½`, and
/// `2(f + R(z)·s + c)` (split `s = f + c`) for `x ≥ ½`; `acos(1) = 0`.
pub(crate) struct Acos;

impl Algorithm for Acos {
    #[inline(always)]
    fn eval<L: Lanes>(l: &mut L, x: L::F) -> L::F {
        let a = l.abs(x);
        let small = l.cmpc(Cmp::Lt, a, 0.5);
        let a2 = l.mul(x, x);
        let om = l.csub(1.0, a);
        let zb = l.mulc(om, 0.5);
        let z = l.sel(small, a2, zb);
        let r = rat(l, z);
        // small
        let xr = l.mul(x, r);
        let t = l.csub(PIO2_LO, xr);
        let t = l.sub(x, t);
        let res_small = l.csub(PIO2_HI, t);
        let s = l.sqrt(z);
        // x ≤ -1/2
        let w = l.mul(r, s);
        let w = l.addc(w, -PIO2_LO);
        let sw = l.add(s, w);
        let t = l.csub(PIO2_HI, sw);
        let res_neg = l.add(t, t);
        // x ≥ 1/2
        let df = l.clear_low_word(s);
        let dd = l.mul(df, df);
        let num = l.sub(z, dd);
        let den = l.add(s, df);
        let c = l.div(num, den);
        let w = l.mla(r, s, c);
        let t = l.add(df, w);
        let res_pos = l.add(t, t);
        let neg = l.cmpc(Cmp::Lt, x, 0.0);
        let big = l.sel(neg, res_neg, res_pos);
        let y = l.sel(small, res_small, big);
        let one = l.cmpc(Cmp::Eq, x, 1.0);
        l.selc(one, 0.0, y)
    }
}

const ATANHI: [f64; 4] = [
    4.636_476_090_008_060_935_15e-1,
    std::f64::consts::FRAC_PI_4,
    9.827_937_232_473_290_540_82e-1,
    std::f64::consts::FRAC_PI_2,
];
/// The low parts of `atan(½)`, `π/4`, `atan(1.5)`, `π/2`.
pub(super) const ATANLO: [f64; 4] = [
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
pub(crate) struct Atan;

impl Algorithm for Atan {
    #[inline(always)]
    fn eval<L: Lanes>(l: &mut L, x: L::F) -> L::F {
        let a = l.abs(x);
        // Beyond 2^66 atan is π/2 to the last bit; clamping keeps -1/a finite and 0·a zero.
        let a = l.min_keep_nan(a, 1e300);
        // (A, B, C, D, hi, lo) per interval, from the last (a ≥ 2.4375, and NaN) down.
        let rows: [(f64, [f64; 6]); 4] = [
            (2.4375, [1.0, -1.5, 1.5, 1.0, ATANHI[2], ATANLO[2]]),
            (1.1875, [1.0, -1.0, 1.0, 1.0, ATANHI[1], ATANLO[1]]),
            (0.6875, [2.0, -1.0, 1.0, 2.0, ATANHI[0], ATANLO[0]]),
            (0.4375, [1.0, 0.0, 0.0, 1.0, 0.0, 0.0]),
        ];
        let mut k = [0.0, -1.0, 1.0, 0.0, ATANHI[3], ATANLO[3]].map(|v| l.c(v));
        for (bound, vals) in rows {
            let below = l.cmpc(Cmp::Lt, a, bound);
            for (slot, v) in k.iter_mut().zip(vals) {
                let c = l.c(v);
                *slot = l.sel(below, c, *slot);
            }
        }
        let num = l.mla(a, k[0], k[1]);
        let den = l.mla(a, k[2], k[3]);
        let t = l.div(num, den);
        let z = l.mul(t, t);
        let p = l.poly(z, &AT);
        let s = l.mul(z, p);
        // hi - ((t·s - lo) - t)
        let ts = l.mul(t, s);
        let u = l.sub(ts, k[5]);
        let u = l.sub(u, t);
        let y = l.sub(k[4], u);
        l.copysign(y, x)
    }
}
