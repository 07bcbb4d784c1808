//! `erf` and `erfc`: fdlibm's algorithms, as the `libm` crate (the reference) implements
//! them, with all four intervals computed and the lane's own selected.
//!
//! With `a = |x|`: below 0.84375, `a + a·P(a²)/Q(a²)`; below 1.25, `erx + P(a-1)/Q(a-1)`;
//! below 6, `1 - e^(-z² - 0.5625)·e^((z-a)(z+a) + R(1/a²)/S(1/a²))/a` (`z` = `a` with its low
//! word cleared, two coefficient sets split at 1/0.35); beyond, 1. The sign of `x`.

use super::exp::exp_scaled;
use super::{Algorithm, Cmp, Lanes};

const ERX: f64 = 8.450_629_115_104_675_292_97e-1;
const PP: [f64; 5] = [
    1.283_791_670_955_125_585_61e-1,
    -3.250_421_072_470_014_993_70e-1,
    -2.848_174_957_559_851_047_66e-2,
    -5.770_270_296_489_441_591_57e-3,
    -2.376_301_665_665_016_260_84e-5,
];
const QQ: [f64; 6] = [
    1.0,
    3.979_172_239_591_553_528_19e-1,
    6.502_224_998_876_729_444_85e-2,
    5.081_306_281_875_765_627_76e-3,
    1.324_947_380_043_216_445_26e-4,
    -3.960_228_278_775_368_123_20e-6,
];
const PA: [f64; 7] = [
    -2.362_118_560_752_659_440_77e-3,
    4.148_561_186_837_483_316_66e-1,
    -3.722_078_760_357_013_238_47e-1,
    3.183_466_199_011_617_536_74e-1,
    -1.108_946_942_823_966_774_76e-1,
    3.547_830_432_561_823_593_71e-2,
    -2.166_375_594_868_790_843_00e-3,
];
const QA: [f64; 7] = [
    1.0,
    1.064_208_804_008_442_282_86e-1,
    5.403_979_177_021_710_489_37e-1,
    7.182_865_441_419_626_628_68e-2,
    1.261_712_198_087_616_421_12e-1,
    1.363_708_391_202_905_073_62e-2,
    1.198_449_984_679_910_741_70e-2,
];
const RA: [f64; 8] = [
    -9.864_944_034_847_148_227_05e-3,
    -6.938_585_727_071_817_643_72e-1,
    -1.055_862_622_532_329_098_14e1,
    -6.237_533_245_032_600_603_96e1,
    -1.623_966_694_625_734_703_55e2,
    -1.846_050_929_067_110_359_94e2,
    -8.128_743_550_630_659_342_46e1,
    -9.814_329_344_169_145_485_92e0,
];
const SA: [f64; 9] = [
    1.0,
    1.965_127_166_743_925_712_92e1,
    1.376_577_541_435_190_426_00e2,
    4.345_658_774_752_292_288_21e2,
    6.453_872_717_332_678_803_36e2,
    4.290_081_400_275_678_333_86e2,
    1.086_350_055_417_794_351_34e2,
    6.570_249_770_319_281_701_35e0,
    -6.042_441_521_485_809_874_38e-2,
];
const RB: [f64; 7] = [
    -9.864_942_924_700_099_285_97e-3,
    -7.992_832_376_805_230_065_74e-1,
    -1.775_795_491_775_475_198_89e1,
    -1.606_363_848_558_219_160_62e2,
    -6.375_664_433_683_896_277_22e2,
    -1.025_095_131_611_077_249_54e3,
    -4.835_191_916_086_513_970_19e2,
];
const SB: [f64; 8] = [
    1.0,
    3.033_806_074_348_245_829_24e1,
    3.257_925_129_965_739_188_26e2,
    1.536_729_586_084_436_959_94e3,
    3.199_858_219_508_595_539_08e3,
    2.553_050_406_433_164_425_83e3,
    4.745_285_412_069_553_672_15e2,
    -2.244_095_244_658_581_833_62e1,
];

/// The interval formulas at `a = |x|`: `y` with `erf(a) = a + a·y` below 0.84375, `pq` with
/// `erf(a) = erx + pq` below 1.25, and `tail = erfc(a)` by the asymptotic form from 1.25.
struct Parts<F> {
    y: F,
    pq: F,
    tail: F,
}

#[inline(always)]
fn parts<L: Lanes>(l: &mut L, a: L::F) -> Parts<L::F> {
    // a + a·P(z)/Q(z), z = a²
    let z = l.mul(a, a);
    let p = l.poly(z, &PP);
    let q = l.poly(z, &QQ);
    let y = l.div(p, q);
    // erx + P(s)/Q(s), s = a - 1
    let s = l.addc(a, -1.0);
    let p = l.poly(s, &PA);
    let q = l.poly(s, &QA);
    let pq = l.div(p, q);
    // e^(-z²-0.5625 + (z-a)(z+a) + R/S)/a, s = 1/a²
    let one = l.c(1.0);
    let s = l.div(one, z);
    let ra = l.poly(s, &RA);
    let sa = l.poly(s, &SA);
    let rb = l.poly(s, &RB);
    let sb = l.poly(s, &SB);
    let first = l.cmpc(Cmp::Lt, a, f64::from_bits(0x4006_db6d_0000_0000));
    let r = l.sel(first, ra, rb);
    let big_s = l.sel(first, sa, sb);
    let zl = l.clear_low_word(a);
    let zz = l.mul(zl, zl);
    let u = l.csub(-0.5625, zz); // exact: z has 21 significant bits
    let d = l.sub(zl, a);
    let sum = l.add(zl, a);
    let rs = l.div(r, big_s);
    let v = l.mla(d, sum, rs);
    // One exponential of u + v = s + err (Fast2Sum, |u| > 2 > |v|): e^s·(1 + err), where
    // fdlibm's e^u·e^v rounds twice.
    let s = l.add(u, v);
    let us = l.sub(u, s);
    let err = l.add(us, v);
    let e = exp_scaled(l, s, 0);
    let e = l.mla(e, err, e);
    let tail = l.div(e, a);
    Parts { y, pq, tail }
}

/// `erf(x)`.
pub(crate) struct Erf;

impl Algorithm for Erf {
    #[inline(always)]
    fn eval<L: Lanes>(l: &mut L, x: L::F) -> L::F {
        let a = l.abs(x);
        let Parts { y, pq, tail } = parts(l, a);
        let res_a = l.mla(a, y, a);
        let t = l.csub(1.0 - ERX, pq);
        let res_b = l.csub(1.0, t);
        let res_c = l.csub(1.0, tail);
        let in_c = l.cmpc(Cmp::Lt, a, 6.0);
        let one = l.c(1.0);
        let y = l.sel(in_c, res_c, one);
        let in_b = l.cmpc(Cmp::Lt, a, 1.25);
        let y = l.sel(in_b, res_b, y);
        let in_a = l.cmpc(Cmp::Lt, a, 0.84375);
        let y = l.sel(in_a, res_a, y);
        let y = l.copysign(y, x);
        l.keep_nan(x, y)
    }
}

/// `erfc(x) = 1 - erf(x)`, accurate where `erf(x)` is near 1: the same intervals, with
/// `1 - (x + x·y)` below 1/4, `0.5 - (x - 0.5 + x·y)` up to 0.84375, `(1 - erx) - pq` up to
/// 1.25, the tail up to 28 and 0 beyond; `2 - erfc(|x|)` for negative `x` from 0.84375.
pub(crate) struct Erfc;

impl Algorithm for Erfc {
    #[inline(always)]
    fn eval<L: Lanes>(l: &mut L, x: L::F) -> L::F {
        let a = l.abs(x);
        let Parts { y, pq, tail } = parts(l, a);
        let xy = l.mul(x, y);
        let s = l.add(x, xy);
        let near = l.csub(1.0, s);
        let h = l.addc(x, -0.5);
        let h = l.add(h, xy);
        let far = l.csub(0.5, h);
        let quarter = l.cmpc(Cmp::Lt, x, 0.25);
        let res_a = l.sel(quarter, near, far);
        let res_b = l.csub(1.0 - ERX, pq);
        let in_b = l.cmpc(Cmp::Lt, a, 1.25);
        let pos = l.sel(in_b, res_b, tail);
        let in_c = l.cmpc(Cmp::Lt, a, 28.0);
        let zero = l.c(0.0);
        let pos = l.sel(in_c, pos, zero);
        let neg = l.csub(2.0, pos);
        let negative = l.cmpc(Cmp::Lt, x, 0.0);
        let y = l.sel(negative, neg, pos);
        let in_a = l.cmpc(Cmp::Lt, a, 0.84375);
        let y = l.sel(in_a, res_a, y);
        l.keep_nan(x, y)
    }
}
