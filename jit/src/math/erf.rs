//! `erf`: fdlibm's algorithm, as the `libm` crate (the reference) implements it, with all
//! four intervals computed and the lane's own selected.
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

/// `erf(x)`.
pub(crate) struct Erf;

impl Algorithm for Erf {
    fn eval<L: Lanes>(l: &mut L, x: L::F) -> L::F {
        let a = l.abs(x);
        // |x| < 0.84375: a + a·P(z)/Q(z), z = a²
        let z = l.mul(a, a);
        let p = l.poly(z, &PP);
        let q = l.poly(z, &QQ);
        let y = l.div(p, q);
        let res_a = l.mla(a, y, a);
        // |x| < 1.25: 1 - ((1 - erx) - P(s)/Q(s)), s = a - 1
        let s = l.addc(a, -1.0);
        let p = l.poly(s, &PA);
        let q = l.poly(s, &QA);
        let pq = l.div(p, q);
        let t = l.csub(1.0 - ERX, pq);
        let res_b = l.csub(1.0, t);
        // |x| < 6: 1 - e^(-z²-0.5625)·e^((z-a)(z+a) + R/S)/a, s = 1/a²
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
        let e1 = l.csub(-0.5625, zz);
        let e1 = exp_scaled(l, e1, 0);
        let d = l.sub(zl, a);
        let sum = l.add(zl, a);
        let rs = l.div(r, big_s);
        let e2 = l.mla(d, sum, rs);
        let e2 = exp_scaled(l, e2, 0);
        let e = l.mul(e1, e2);
        let e = l.div(e, a);
        let res_c = l.csub(1.0, e);
        let in_c = l.cmpc(Cmp::Lt, a, 6.0);
        let y = l.sel(in_c, res_c, one);
        let in_b = l.cmpc(Cmp::Lt, a, 1.25);
        let y = l.sel(in_b, res_b, y);
        let in_a = l.cmpc(Cmp::Lt, a, 0.84375);
        let y = l.sel(in_a, res_a, y);
        let y = l.copysign(y, x);
        l.keep_nan(x, y)
    }
}
