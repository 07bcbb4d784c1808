//! Values and gradients of scan programs computed by JAX's lax.scan in float64 by
//! benches/peers/make_scan_reference.py; regenerate with
//! `peers/bin/python benches/peers/make_scan_reference.py` (a venv with jax and numpy, see
//! benches/peers/README.md) and cross-check with
//! `THEANO_FLAGS=blas.ldflags= th10/bin/python benches/peers/make_scan_reference.py \
//! --check theano --record` (and `--check pytensor`, `--check tensorlift`).
//!
//! The programs follow Theano 1.0's `scan`: outputs exclude the initial state, sequence taps
//! `[-2, 0]` give `len - 2` steps, output taps `[-2, -1]` read `initial[0]` as `h[-2]`,
//! `go_backwards` returns the outputs in the order they were computed, and `n_steps` shorter
//! than a sequence uses its first rows. Inputs are rebuilt with [`v`]. For each case `CASE`:
//! `CASE_<OUTPUT>` (each forward output), `CASE_LOSS` and `CASE_GRAD_<INPUT>` (the gradient
//! of the loss with respect to each float input), row-major, each with its `_SHAPE`. The
//! numbers are the shortest decimals that read back to the computed doubles (exact).
//! Generated with jax 0.10.2, numpy 2.4.6.
//!
//! Cross-checks (largest absolute difference from the numbers below):
//! - theano 1.0.5 (`theano.scan` (its Python loop), `T.grad`; values, loss and gradients): 2.8e-14
//! - pytensor 3.0.7 (`pytensor.scan`, `T.grad`; values, loss and gradients): 2.8e-14
//! - pytensor 2.8.11 (`pytensor.scan` (its Python loop), `T.grad`; values, loss and gradients): 2.8e-14
//! - tensorlift 0.1.0 (`tensorlift.scan`, `T.grad`; values, loss and gradients): 2.8e-14
//! - numpy loops (values and loss; numpy 2.4.6): 1.1e-14

#![allow(dead_code)]

/// The array of `shape` whose flat element `i` (row-major) is `s * sin(a * i + b)`: the
/// inputs of the cases, as `(shape, data)`.
pub fn v(shape: &[usize], a: f64, b: f64, s: f64) -> (Vec<usize>, Vec<f64>) {
    let n: usize = shape.iter().product();
    (shape.to_vec(), (0..n).map(|i| s * (a * i as f64 + b).sin()).collect())
}

// ---- ACCUM -----------------------------------------------------------------------------------------------
// ACCUM: acc_t = 0.9 * acc_{t-1} + x_t**2 over the rows of x, acc_{-1} = a0; loss = sum(acc * v((7,3),
// 0.11, 0, 1)), the weights a constant. Inputs: x = v((7,3), 0.37, 0.1, 1); a0 = v((3,), 0.5, 0.2, 0.5).

/// ACCUM: forward output `acc`.
#[rustfmt::skip]
pub const ACCUM_ACC: &[f64] = &[
    0.09936790993715673, 0.49500394674141185, 0.9739109648051874, 0.9648084213061864, 1.44541884685857,
    1.7394860204247384, 1.404490466802195, 1.4913211210829138, 1.5721800191238187, 1.3449394060738498,
    1.716559087683495, 2.148516537441221, 2.1810207266353308, 2.5063587284637054, 2.6446304517140233,
    2.313045982333291, 2.3234047759647294, 2.3915334597935223, 2.2923778509482533, 2.652326502566468,
    3.032224070243581,
];
/// The shape of [`ACCUM_ACC`].
pub const ACCUM_ACC_SHAPE: &[usize] = &[7, 3];

/// ACCUM: the loss.
#[rustfmt::skip]
pub const ACCUM_LOSS: &[f64] = &[
    30.847988024940527,
];
/// The shape of [`ACCUM_LOSS`].
pub const ACCUM_LOSS_SHAPE: &[usize] = &[];

/// ACCUM: the gradient of the loss with respect to `x`.
#[rustfmt::skip]
pub const ACCUM_GRAD_X: &[f64] = &[
    0.6208646702955888, 3.0774965984253266, 5.428036029657572, 6.465113361821372, 7.306068234961441,
    7.073498769922956, 5.094639559853721, 3.129708147451641, 0.5948801842873772, -1.8113040051058455,
    -3.929075908129489, -5.479054140659078, -5.140693858343619, -5.054277848686996, -4.2402600935281605,
    -2.1568733365692228, -0.9176001571828643, 0.35890150373059004, 0.8421190264717912, 1.300888189529872,
    1.516739216010471,
];
/// The shape of [`ACCUM_GRAD_X`].
pub const ACCUM_GRAD_X_SHAPE: &[usize] = &[7, 3];

/// ACCUM: the gradient of the loss with respect to `a0`.
#[rustfmt::skip]
pub const ACCUM_GRAD_A0: &[f64] = &[
    2.7985529396573203, 3.0578834334368294, 3.2802508313532748,
];
/// The shape of [`ACCUM_GRAD_A0`].
pub const ACCUM_GRAD_A0_SHAPE: &[usize] = &[3];

// ---- POLY ------------------------------------------------------------------------------------------------
// POLY: the scan tutorial's polynomial: comp_i = coef[i] * x**i mapped over (coef, arange(6)) with x a
// non-sequence; loss = poly = sum(comp). Inputs: coef = v((6,), 0.5, 0.2, 1); x = 0.7 (0-d).

/// POLY: forward output `comp`.
#[rustfmt::skip]
pub const POLY_COMP: &[f64] = &[
    0.19866933079506122, 0.4509523810663837, 0.4566991521239408, 0.34014102998519663, 0.19411998655708354,
    0.07182973647089974,
];
/// The shape of [`POLY_COMP`].
pub const POLY_COMP_SHAPE: &[usize] = &[6];

/// POLY: the loss.
#[rustfmt::skip]
pub const POLY_LOSS: &[f64] = &[
    1.7124116169985655,
];
/// The shape of [`POLY_LOSS`].
pub const POLY_LOSS_SHAPE: &[usize] = &[];

/// POLY: the gradient of the loss with respect to `coef`.
#[rustfmt::skip]
pub const POLY_GRAD_COEF: &[f64] = &[
    1.0, 0.7, 0.48999999999999994, 0.3429999999999999, 0.24009999999999995, 0.16806999999999994,
];
/// The shape of [`POLY_GRAD_COEF`].
pub const POLY_GRAD_COEF_SHAPE: &[usize] = &[6];

/// POLY: the gradient of the loss with respect to `x`.
#[rustfmt::skip]
pub const POLY_GRAD_X: &[f64] = &[
    5.029146291218126,
];
/// The shape of [`POLY_GRAD_X`].
pub const POLY_GRAD_X_SHAPE: &[usize] = &[];

// ---- POWER -----------------------------------------------------------------------------------------------
// POWER: the scan tutorial's A**k, elementwise: r_t = r_{t-1} * A, r_{-1} = ones_like(A), n_steps = 5, no
// sequences; loss = sum(r[-1]) + 0.1 * sum(r). Inputs: a = v((4,), 0.3, 0.4, 0.9).

/// POWER: forward output `r`.
#[rustfmt::skip]
pub const POWER_R: &[f64] = &[
    0.35047650807778546, 0.579795918513922, 0.7573238863271069, 0.8672023668754737, 0.12283378271439802,
    0.33616330712540243, 0.5735394688015927, 0.7520399451144236, 0.04305035523972766, 0.19490611342545036,
    0.43435513947480664, 0.6521708203881295, 0.015088138175927945, 0.11300576905748766, 0.3289475222732131,
    0.5655640790477053, 0.005288037981294354, 0.0655202836680582, 0.2491198159656223, 0.4904585079699176,
];
/// The shape of [`POWER_R`].
pub const POWER_R_SHAPE: &[usize] = &[5, 4];

/// POWER: the loss.
#[rustfmt::skip]
pub const POWER_LOSS: &[f64] = &[
    1.5600716222066373,
];
/// The shape of [`POWER_LOSS`].
pub const POWER_LOSS_SHAPE: &[usize] = &[];

/// POWER: the gradient of the loss with respect to `a`.
#[rustfmt::skip]
pub const POWER_GRAD_A: &[f64] = &[
    0.30715033849337126, 1.0163023510267672, 2.4064800461984945, 3.870523219827053,
];
/// The shape of [`POWER_GRAD_A`].
pub const POWER_GRAD_A_SHAPE: &[usize] = &[4];

// ---- MATPOW ----------------------------------------------------------------------------------------------
// MATPOW: r_t = dot(r_{t-1}, A), r_{-1} = eye(3), n_steps = 4; loss = sum(r[-1]**2). Inputs: a = v((3,3),
// 0.3, 0.4, 0.8).

/// MATPOW: forward output `r`.
#[rustfmt::skip]
pub const MATPOW_R: &[f64] = &[
    0.31153467384692046, 0.5153741497901528, 0.6731767878463173, 0.7708465483337544, 0.7996588824332042,
    0.7570400701499316, 0.6467971230556723, 0.47877771528316526, 0.2679905201247241, 0.9297370471619464,
    0.8949824787868854, 0.7802817910644443, 1.3462110568000836, 1.399182627884695, 1.3271693819377242,
    0.7438993774442891, 0.8445092590616552, 0.8696816437277681, 1.4842234999762638, 1.5684246621964055,
    1.5125231205051943, 2.356355859747696, 2.4480903198485895, 2.321144162705371, 1.4452450824480556,
    1.4750900298931995, 1.3731695781566533, 2.649697424054622, 2.7432975008999256, 2.591846982218947,
    4.122497893933642, 4.283354166149115, 4.061591167607225, 2.4754741460333225, 2.581853793724014,
    2.45760413143053,
];
/// The shape of [`MATPOW_R`].
pub const MATPOW_R_SHAPE: &[usize] = &[4, 3, 3];

/// MATPOW: the loss.
#[rustfmt::skip]
pub const MATPOW_LOSS: &[f64] = &[
    91.93664233433316,
];
/// The shape of [`MATPOW_LOSS`].
pub const MATPOW_LOSS_SHAPE: &[usize] = &[];

/// MATPOW: the gradient of the loss with respect to `a`.
#[rustfmt::skip]
pub const MATPOW_GRAD_A: &[f64] = &[
    117.99689956576053, 166.07132013840874, 112.3560024856092, 135.39446553130847, 192.51308966137765,
    128.76710775479899, 115.3610267305129, 162.20810992400536, 109.84294317643116,
];
/// The shape of [`MATPOW_GRAD_A`].
pub const MATPOW_GRAD_A_SHAPE: &[usize] = &[3, 3];

// ---- ELMAN -----------------------------------------------------------------------------------------------
// ELMAN: an Elman network: h_t = tanh(dot(x_t, Win) + dot(h_{t-1}, Wh) + b), h_{-1} = h0, y_t = dot(h_t,
// Wout) (mapped, not fed back); loss = 0.5 * sum(h**2) + sum(sin(y)). Inputs: x = v((6,3,4), 0.21, 0.3,
// 1); h0 = v((3,5), 0.13, 0.7, 0.5); win = v((4,5), 0.17, 0.2, 0.5); wh = v((5,5), 0.19, 0.5, 0.5); b =
// v((5,), 0.23, 0.9, 0.1); wout = v((5,2), 0.29, 0.1, 1).

/// ELMAN: forward output `h`.
#[rustfmt::skip]
pub const ELMAN_H: &[f64] = &[
    0.7268937306448473, 0.6802305575637979, 0.6108899044321832, 0.5140383460318407, 0.38645352097835795,
    0.9078117217654655, 0.8987151978098108, 0.8787321082798237, 0.8431599888286435, 0.783903722613983,
    0.8396455104565985, 0.8454314882584776, 0.8397055138008178, 0.8215065604466981, 0.7878290038993867,
    0.4942067376897184, 0.5123642320012496, 0.5143365630064349, 0.5003949643526329, 0.470436372069203,
    -0.29237136640104355, -0.331433787975066, -0.3652783893640883, -0.3927323975301739, -0.4127347060826687,
    -0.5589282052711254, -0.6171959389449873, -0.660473940765014, -0.6901012416295145, -0.707220519581744,
    -0.2988918840459234, -0.38183419523509887, -0.4528276552846623, -0.5106902131323833,
    -0.5551566925581448, 0.22548411827999296, 0.23291700826782158, 0.23234687850182784, 0.22324714650008495,
    0.20534553342131348, 0.6905883913835533, 0.7270634690843288, 0.7479990493963163, 0.7550878847060364,
    0.7487568571087281, 0.7927180205878036, 0.8285823957115003, 0.848971088348713, 0.8571747730054337,
    0.8544933246025915, 0.5708194499938818, 0.5973363850816784, 0.6084643176696827, 0.6048244009960652,
    0.586333794463633, -0.08425592797328134, -0.11150737171191978, -0.13941423828149305,
    -0.1665906161640962, -0.19155230568815904, -0.5705374486469114, -0.6194297463973497,
    -0.6545990387642621, -0.6770493721151053, -0.6874631255482615, -0.5426044635158985, -0.6037827479872243,
    -0.6492538440569735, -0.6805112376298776, -0.6988622276923232, -0.13069105260060232,
    -0.15077636945344478, -0.1686245511254003, -0.18408771512978414, -0.19696374584563395,
    0.4894577917805114, 0.5282289948210592, 0.5527446312126245, 0.5631491743692453, 0.5593160865912318,
    0.7600284096092134, 0.7980303818997797, 0.820256472332398, 0.8296111407744405, 0.8272747366789037,
    0.6950168534654274, 0.733164078924643, 0.7550313242529376, 0.7628034907248542, 0.7572598059801098,
];
/// The shape of [`ELMAN_H`].
pub const ELMAN_H_SHAPE: &[usize] = &[6, 3, 5];

/// ELMAN: forward output `y`.
#[rustfmt::skip]
pub const ELMAN_Y: &[f64] = &[
    1.8327230478462617, 2.045626208258564, 2.8229921009952474, 3.007667950840918, 2.7272449969503483,
    2.8820677048857557, 1.6543379367408535, 1.7457246533507615, -1.2366018539565222, -1.2553154889158682,
    -2.205141516077382, -2.2627718248759225, -1.5600896699187892, -1.5464673231602972, 0.7410365111322487,
    0.7852943784931015, 2.460785492028732, 2.563424973327172, 2.799207884946201, 2.9177134468973036,
    1.9822623284845653, 2.0760561253654606, -0.4983879378694522, -0.4847429972522855, -2.176478528233935,
    -2.243825875988106, -2.1696292632683516, -2.222658049928418, -0.5759682451118033, -0.5810891309953293,
    1.819613696193641, 1.88578087068689, 2.704843607376583, 2.816623805029169, 2.4848135835961283,
    2.587268967741306,
];
/// The shape of [`ELMAN_Y`].
pub const ELMAN_Y_SHAPE: &[usize] = &[6, 3, 2];

/// ELMAN: the loss.
#[rustfmt::skip]
pub const ELMAN_LOSS: &[f64] = &[
    19.893171057660656,
];
/// The shape of [`ELMAN_LOSS`].
pub const ELMAN_LOSS_SHAPE: &[usize] = &[];

/// ELMAN: the gradient of the loss with respect to `x`.
#[rustfmt::skip]
pub const ELMAN_GRAD_X: &[f64] = &[
    -0.21083043185250322, -0.15352020828793705, 0.008188931806922553, 0.16432932223867755,
    -0.15922889007651217, -0.17414662901552913, -0.07063879004935544, 0.08090580725896436,
    -0.026958952308460044, -0.3413442155362494, -0.4236039060900506, -0.21779866156470673,
    0.4398857099754321, 0.35987389757241095, 0.03513570410802708, -0.31349595251221174,
    -0.36540932598776604, 0.5308472900154058, 1.066109854885536, 0.8763817817572696, -0.9329894786900473,
    -1.7093392340702587, -1.3232806914825832, -0.03734667323680034, -0.4623107774856241,
    -1.0747836271052171, -0.9563673812395215, -0.18758907867926553, 1.314542705809227, 2.2663003068994705,
    1.6768973063259989, -0.052852387789300015, -0.2726628685068208, 0.28739423114728313, 0.6520135660703801,
    0.573241697842347, -0.08963928856414544, -0.505655037666564, -0.5778083164193903, -0.25703246311138495,
    0.2456968832421551, -0.32219813824181776, -0.6709875649923935, -0.5634828297449499, 0.7704413991207931,
    2.758929923092465, 2.87125310071676, 1.0310273849936482, -1.0896547286033527, -1.9555324592791588,
    -1.4915822001071568, -0.013305766266370034, -1.0195284873077526, -2.0642954054744456,
    -1.705271864174126, -0.18660597353912944, 1.3669818733658392, 2.239095411187543, 1.5885485934585253,
    -0.1422648149837012, 0.12787657735365388, 0.2694358779717189, 0.22776969936246055, 0.031212447473307675,
    -0.2131008154340232, -0.35519950578116705, -0.25575055905046784, 0.01761738873322577,
    -0.23608098919148401, -0.3915585734701928, -0.28076312904270345, 0.02096070716196357,
];
/// The shape of [`ELMAN_GRAD_X`].
pub const ELMAN_GRAD_X_SHAPE: &[usize] = &[6, 3, 4];

/// ELMAN: the gradient of the loss with respect to `h0`.
#[rustfmt::skip]
pub const ELMAN_GRAD_H0: &[f64] = &[
    -0.21836638158159058, -0.0729149180548742, 0.1335396319772604, 0.22827040944367968, 0.13202244201951024,
    -0.18553158786992016, -0.12775818650887544, 0.03690203460434877, 0.17068876550119683,
    0.1616715023026763, -0.1554237127152645, -0.42792697434733395, -0.34241205629131405,
    0.029576368800908748, 0.3768202034497856,
];
/// The shape of [`ELMAN_GRAD_H0`].
pub const ELMAN_GRAD_H0_SHAPE: &[usize] = &[3, 5];

/// ELMAN: the gradient of the loss with respect to `win`.
#[rustfmt::skip]
pub const ELMAN_GRAD_WIN: &[f64] = &[
    0.9960951423039589, -0.5943965961687687, -0.02964562664464765, 1.741833365225744, 3.4818295264250603,
    0.8357061111658385, -0.7453343231895029, 0.0728334229287475, 2.1203234875200687, 3.8885824432886142,
    0.638597682384211, -0.863523423599901, 0.17211230514363435, 2.405650474794955, 4.124478161554597,
    0.4134304397200654, -0.9437708845487729, 0.2638288875410747, 2.5852775812205135, 4.179151854921413,
];
/// The shape of [`ELMAN_GRAD_WIN`].
pub const ELMAN_GRAD_WIN_SHAPE: &[usize] = &[4, 5];

/// ELMAN: the gradient of the loss with respect to `wh`.
#[rustfmt::skip]
pub const ELMAN_GRAD_WH: &[f64] = &[
    0.18678644523835225, 0.3267674705556458, -1.0103450840611883, -2.671489914612312, -3.2021124874664193,
    0.17432719408405367, 0.3532834607819728, -1.0483584874726848, -2.8141973334332113, -3.406749672771974,
    0.17513062597615936, 0.3944908749983909, -1.062194494989959, -2.924856390539979, -3.580938996414343,
    0.18352426090774193, 0.44587540147397986, -1.0521440739402996, -2.9997938150581875, -3.720636045615731,
    0.1887527712663882, 0.49547272752199917, -1.0194946210663764, -3.026678098697799, -3.808188398325204,
];
/// The shape of [`ELMAN_GRAD_WH`].
pub const ELMAN_GRAD_WH_SHAPE: &[usize] = &[5, 5];

/// ELMAN: the gradient of the loss with respect to `b`.
#[rustfmt::skip]
pub const ELMAN_GRAD_B: &[f64] = &[
    2.183767760047499, 1.1106185013494163, -0.5173578742802281, -1.7419677263342122, -1.3752239210046175,
];
/// The shape of [`ELMAN_GRAD_B`].
pub const ELMAN_GRAD_B_SHAPE: &[usize] = &[5];

/// ELMAN: the gradient of the loss with respect to `wout`.
#[rustfmt::skip]
pub const ELMAN_GRAD_WOUT: &[f64] = &[
    -3.885901381124137, -4.30080742329155, -3.97106205066064, -4.38303256413208, -3.992932041799001,
    -4.391504336425813, -3.950440906552064, -4.324296309865698, -3.8320593737720072, -4.168743626720923,
];
/// The shape of [`ELMAN_GRAD_WOUT`].
pub const ELMAN_GRAD_WOUT_SHAPE: &[usize] = &[5, 2];

// ---- MITSOT ----------------------------------------------------------------------------------------------
// MITSOT: two taps of one output: outputs_info=dict(initial=init, taps=[-2, -1]) (init[0] is h_{-2},
// init[1] is h_{-1}), h_t = 0.6 * h_{t-2} + 0.5 * tanh(h_{t-1} * w), n_steps = 8; loss = sum(out *
// v((8,3), 0.07, 0, 1)), the weights a constant. Inputs: w = 1 + v((3,), 0.4, 0.2, 1); init = v((2,3),
// 0.31, 0.5, 1).

/// MITSOT: forward output `out`.
#[rustfmt::skip]
pub const MITSOT_OUT: &[f64] = &[
    0.7024484573418776, 0.8908251667700038, 1.003378502266668, 0.9374971108841045, 1.0334360703624783,
    1.0081814962547053, 0.8259035794874986, 0.9965859340628542, 1.0782059971578828, 0.9411762926121245,
    1.0777151873604924, 1.086402701986128, 0.9007362958723584, 1.064784802124234, 1.1289578322226568,
    0.9612468979616916, 1.112140045504569, 1.1364418975216055, 0.9496854023467587, 1.108990089572115,
    1.1623873727863296, 0.9836784899104523, 1.1371161704546189, 1.1682250106066614,
];
/// The shape of [`MITSOT_OUT`].
pub const MITSOT_OUT_SHAPE: &[usize] = &[8, 3];

/// MITSOT: the loss.
#[rustfmt::skip]
pub const MITSOT_LOSS: &[f64] = &[
    16.16072745908326,
];
/// The shape of [`MITSOT_LOSS`].
pub const MITSOT_LOSS_SHAPE: &[usize] = &[];

/// MITSOT: the gradient of the loss with respect to `w`.
#[rustfmt::skip]
pub const MITSOT_GRAD_W: &[f64] = &[
    2.2002023928438996, 0.8805283598980521, 0.47000421152690286,
];
/// The shape of [`MITSOT_GRAD_W`].
pub const MITSOT_GRAD_W_SHAPE: &[usize] = &[3];

/// MITSOT: the gradient of the loss with respect to `init`.
#[rustfmt::skip]
pub const MITSOT_GRAD_INIT: &[f64] = &[
    1.064111132411224, 0.7921616585804222, 0.729366741688975, 1.4172277490587863, 1.0859181913446467,
    1.0735309296432138,
];
/// The shape of [`MITSOT_GRAD_INIT`].
pub const MITSOT_GRAD_INIT_SHAPE: &[usize] = &[2, 3];

// ---- SEQTAPS ---------------------------------------------------------------------------------------------
// SEQTAPS: two taps of one sequence: sequences=dict(input=x, taps=[-2, 0]), out = tanh(x[t] * w - x[t-2])
// for t = 2..8 (7 steps); loss = sum(out**2). Inputs: x = v((9,2), 0.27, 0.8, 1); w = 0.5 + v((2,), 0.3,
// FRAC_PI_2, 1) (b = pi/2 = 1.5707963267948966).

/// SEQTAPS: forward output `out`.
#[rustfmt::skip]
pub const SEQTAPS_OUT: &[f64] = &[
    0.6116217148746735, 0.3281636136710322, 0.017385508281609362, -0.3488414920765976, -0.5926116491536281,
    -0.7466730916071355, -0.8295700772232668, -0.8596309033857844, -0.8750175835760269, -0.8485088566651743,
    -0.8130935623851095, -0.6930086263733419, -0.5333174273038456, -0.21049079006060586,
];
/// The shape of [`SEQTAPS_OUT`].
pub const SEQTAPS_OUT_SHAPE: &[usize] = &[7, 2];

/// SEQTAPS: the loss.
#[rustfmt::skip]
pub const SEQTAPS_LOSS: &[f64] = &[
    5.895365197251897,
];
/// The shape of [`SEQTAPS_LOSS`].
pub const SEQTAPS_LOSS_SHAPE: &[usize] = &[];

/// SEQTAPS: the gradient of the loss with respect to `x`.
#[rustfmt::skip]
pub const SEQTAPS_GRAD_X: &[f64] = &[
    -0.7656511549396301, -0.5856464573719539, -0.03476050681837574, 0.612781672091379, 1.9174631593498161,
    1.5130874243897614, 0.5694830371670767, -0.44301652021333093, -0.7433689994340932, -0.48642914053569825,
    -0.2249329783590508, 0.06723117439086324, 0.1480886312163171, -0.28927630094177537, -0.8266206555753282,
    -1.0483767904763197, -1.1448818890215178, -0.5855246758711167,
];
/// The shape of [`SEQTAPS_GRAD_X`].
pub const SEQTAPS_GRAD_X_SHAPE: &[usize] = &[9, 2];

/// SEQTAPS: the gradient of the loss with respect to `w`.
#[rustfmt::skip]
pub const SEQTAPS_GRAD_W: &[f64] = &[
    2.362726038814606, 2.009138227101953,
];
/// The shape of [`SEQTAPS_GRAD_W`].
pub const SEQTAPS_GRAD_W_SHAPE: &[usize] = &[2];

// ---- BACKWARDS -------------------------------------------------------------------------------------------
// BACKWARDS: go_backwards=True: acc_t = acc_{t-1} * x_t + 1 visiting x[4], x[3], ..., x[0], acc_{-1} =
// ones(3); out[k] is the k-th computed (out[0] = x[4] + 1); loss = sum(out * v((5,3), 0.13, 0.2, 1)), the
// weights a constant. Inputs: x = v((5,3), 0.45, 0.3, 1).

/// BACKWARDS: forward output `out`.
#[rustfmt::skip]
pub const BACKWARDS_OUT: &[f64] = &[
    0.4493144574023624, 0.8672080911474833, 1.311541363513378, 0.5798673584716451, 0.1361179911027912,
    -0.126528116677385, 1.0818308863011725, 0.9586825390738263, 1.0870217568359868, 2.0784393772549468,
    1.8275437473712517, 1.606214334237642, 1.6142208342994477, 2.2457246538465374, 2.497054539950309,
];
/// The shape of [`BACKWARDS_OUT`].
pub const BACKWARDS_OUT_SHAPE: &[usize] = &[5, 3];

/// BACKWARDS: the loss.
#[rustfmt::skip]
pub const BACKWARDS_LOSS: &[f64] = &[
    15.485154220084691,
];
/// The shape of [`BACKWARDS_LOSS`].
pub const BACKWARDS_LOSS_SHAPE: &[usize] = &[];

/// BACKWARDS: the gradient of the loss with respect to `x`.
#[rustfmt::skip]
pub const BACKWARDS_GRAD_X: &[f64] = &[
    2.041348207279769, 1.7352264986648038, 1.4468669364073174, 1.3740923773156315, 1.5767463068842966,
    1.9977529744919624, 1.2157904831342012, 0.3151703397659157, -0.24934992724345503, 0.38292514939827993,
    -0.03767278888351953, -0.7923095149998709, -0.5982227835314012, 0.36731787717107073, 0.9628352658732925,
];
/// The shape of [`BACKWARDS_GRAD_X`].
pub const BACKWARDS_GRAD_X_SHAPE: &[usize] = &[5, 3];

// ---- NSTEPS_SHORT ----------------------------------------------------------------------------------------
// NSTEPS_SHORT: ACCUM's step with n_steps=4 over the 7-row x (the first 4 rows are used): acc_t = 0.9 *
// acc_{t-1} + x_t**2, acc_{-1} = a0; loss = sum(acc**2) (GRAD_X's rows 4..6 are zero). Inputs: x =
// v((7,3), 0.37, 0.1, 1); a0 = v((3,), 0.5, 0.2, 0.5).

/// NSTEPS_SHORT: forward output `acc`.
#[rustfmt::skip]
pub const NSTEPS_SHORT_ACC: &[f64] = &[
    0.09936790993715673, 0.49500394674141185, 0.9739109648051874, 0.9648084213061864, 1.44541884685857,
    1.7394860204247384, 1.404490466802195, 1.4913211210829138, 1.5721800191238187, 1.3449394060738498,
    1.716559087683495, 2.148516537441221,
];
/// The shape of [`NSTEPS_SHORT_ACC`].
pub const NSTEPS_SHORT_ACC_SHAPE: &[usize] = &[4, 3];

/// NSTEPS_SHORT: the loss.
#[rustfmt::skip]
pub const NSTEPS_SHORT_LOSS: &[f64] = &[
    23.289250593348914,
];
/// The shape of [`NSTEPS_SHORT_LOSS`].
pub const NSTEPS_SHORT_LOSS_SHAPE: &[usize] = &[];

/// NSTEPS_SHORT: the gradient of the loss with respect to `x`.
#[rustfmt::skip]
pub const NSTEPS_SHORT_GRAD_X: &[f64] = &[
    1.23226127032363, 7.708527812449468, 16.022285716735063, 12.418434034193039, 16.71137505220451,
    18.188089005528152, 7.658953254926689, 5.3000219910057, 1.1429356132707056, -1.5301413955636858,
    -4.201160892274326, -7.36062836579064, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
];
/// The shape of [`NSTEPS_SHORT_GRAD_X`].
pub const NSTEPS_SHORT_GRAD_X_SHAPE: &[usize] = &[7, 3];

/// NSTEPS_SHORT: the gradient of the loss with respect to `a0`.
#[rustfmt::skip]
pub const NSTEPS_SHORT_GRAD_A0: &[f64] = &[
    5.5544284696506105, 7.659400665442595, 9.682528958050312,
];
/// The shape of [`NSTEPS_SHORT_GRAD_A0`].
pub const NSTEPS_SHORT_GRAD_A0_SHAPE: &[usize] = &[3];
