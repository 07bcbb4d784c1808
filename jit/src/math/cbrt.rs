//! `cbrt`: fdlibm's algorithm (FreeBSD's `s_cbrt.c`), branch-free: the high word divided by 3
//! plus a bias (from `x·2^54` for subnormals), a polynomial step to 23 bits rounded away
//! from zero, and one Newton step to 53 bits (error below 0.667 ulp).

use super::{Algorithm, Cmp, Lanes, SHIFTER, SHIFTER_BITS};

/// `(1023 - 1023/3 - 0.03306235651) · 2^20`: the bias of the first approximation's high word.
const B1: i64 = 715_094_163;
/// The same for `x·2^54` (`- 54/3` in the exponent).
const B2: i64 = 696_219_795;
/// The polynomial step: `P(r) + r³·Q(r)` is near `1/cbrt(r)` for `r = t³/x`.
const P: [f64; 3] =
    [1.875_951_824_271_770_096_43, -1.884_979_795_433_771_698_75, 1.621_429_720_105_354_466_14];
const Q: [f64; 2] = [-0.758_397_934_778_766_047_437, 0.145_996_192_886_612_446_982];

/// The first approximation of `cbrt(a)` (`a > 0`): the float whose high word is
/// `floor(h / 3) + bias`, `h` the high word of `a`. Lanes have no integer division: `h` goes
/// through a float (`h < 2^31`), and `floor(h / 3) = round((h - 1) / 3)` for an integer `h`.
#[inline(always)]
fn first<L: Lanes>(l: &mut L, a: L::F, bias: i64) -> L::F {
    let b = l.bits(a);
    let h = l.ushr(b, 32);
    let sb = l.ci(SHIFTER_BITS);
    let hs = l.iadd(h, sb);
    let hf = l.float(hs);
    let hf = l.addc(hf, -SHIFTER);
    let (third, minus_third) = (l.c(1.0 / 3.0), l.c(-1.0 / 3.0));
    let q = l.mla(hf, third, minus_third);
    let kd = l.addc(q, SHIFTER);
    let k = l.shifted_int(kd);
    let bias = l.ci(bias);
    let hi = l.iadd(k, bias);
    let t = l.shl(hi, 32);
    l.float(t)
}

/// `cbrt(x)`.
pub(crate) struct Cbrt;

impl Algorithm for Cbrt {
    #[inline(always)]
    fn eval<L: Lanes>(l: &mut L, x: L::F) -> L::F {
        let a = l.abs(x);
        let scaled = l.mulc(a, 18_014_398_509_481_984.0); // 2^54
        let t_norm = first(l, a, B1);
        let t_sub = first(l, scaled, B2);
        let subnormal = l.cmpc(Cmp::Lt, a, f64::MIN_POSITIVE);
        let t = l.sel(subnormal, t_sub, t_norm);
        let tt = l.mul(t, t);
        let ta = l.div(t, a);
        let r = l.mul(tt, ta);
        let p = l.poly(r, &P);
        let r2 = l.mul(r, r);
        let r3 = l.mul(r2, r);
        let q = l.poly(r, &Q);
        let pq = l.mla(r3, q, p);
        let t = l.mul(t, pq);
        // Rounded away from zero to 23 bits: t·t below is exact.
        let tb = l.bits(t);
        let half = l.ci(0x8000_0000);
        let tb = l.iadd(tb, half);
        let mask = l.ci(0xffff_ffff_c000_0000_u64 as i64);
        let tb = l.iand(tb, mask);
        let t = l.float(tb);
        // One Newton step: t + t·(a/t² - t)/(2t + a/t²).
        let s = l.mul(t, t);
        let r = l.div(a, s);
        let w = l.add(t, t);
        let num = l.sub(r, t);
        let den = l.add(w, r);
        let r = l.div(num, den);
        let t = l.mla(t, r, t);
        let y = l.copysign(t, x);
        // ±0 and ±inf are their own cube roots; NaN stays NaN.
        let zero = l.cmpc(Cmp::Eq, a, 0.0);
        let y = l.sel(zero, x, y);
        let inf = l.cmpc(Cmp::Eq, a, f64::INFINITY);
        let y = l.sel(inf, x, y);
        l.keep_nan(x, y)
    }
}
