//! The scalar op table: every elementwise op declared once.
//!
//! `scalar_op_table!` holds one line per op — its variant, text name, arity, dtype rule,
//! how the JIT lowers it and, for unary float functions, its reference functions. Each
//! consumer expands the table with a callback macro of its own: this module generates
//! [`ScalarOp`], [`MathFn`] and their properties; `build::elemwise` the builders and `Var`
//! methods of the unary functions. The text form, `pp`, the CLI and the Python package
//! spell ops by [`ScalarOp::name`], and list them from [`ScalarOp::ALL`].
//!
//! Adding a unary float function (e.g. `erfc`) is one line in the `math` section of the
//! table (or `inline` for one the JIT emits as a single instruction), one arm in the
//! gradient's `match` (`grad::rules`), and, for `math`, the vector-math algorithm in
//! `tensorlift-jit` (whose dispatch is an exhaustive `match` on [`MathFn`]: the compiler
//! finds a missing one). The conformance test (`tests/op_conformance.rs`) checks every path.

pub mod reference;

use crate::dtype::DType;

/// The table itself: `scalar_op_table!(callback)` expands to `callback! { … }` with the
/// three sections below. Entries:
/// - `ops`: `Variant("text", arity, DTypeRule, Lowering, PpForm)` — `arity` is `Some(n)` or
///   `None` for n-ary; `Lowering` is `Inline` (CLIF with a vector form), `Call` (a call to
///   the reference function per element) or `Reference` (no native lowering); `PpForm` how
///   `pp` spells an application (the unary float functions are all `Call`);
/// - `inline`: unary float functions the JIT emits inline: `Variant(name, f64 fn, f32 fn)`,
///   where `name` is the text name and the name of the builder function and `Var` method;
/// - `math`: unary float functions with a vector-math routine, same shape, and optionally
///   `ulp(f64, f32)`: the bound between the routine and a reference less accurate than std
///   (see `ScalarOp::ulp_bound`).
///
/// The functions of the `inline` and `math` entries are the reference semantics every
/// backend is measured against.
macro_rules! scalar_op_table {
    ($cb:ident) => {
        $cb! {
            ops {
                /// `a + b + …` (n-ary, at least two inputs).
                Add("add", None, ArithBool, Inline, Infix("+"));
                /// `a - b`.
                Sub("sub", Some(2), Arith, Inline, Infix("-"));
                /// `a * b * …` (n-ary, at least two inputs).
                Mul("mul", None, ArithBool, Inline, Infix("*"));
                /// `a / b`, true division (integers divide as floats).
                Div("true_div", Some(2), Float, Inline, Infix("/"));
                /// `a ** b`.
                Pow("pow", Some(2), Arith, Call, Infix("**"));
                /// `a // b`, floor division with Python's rounding toward -inf (Theano's
                /// `int_div` and `floor_div`); an integer divided by 0 is 0, as in NumPy.
                IntDiv("int_div", Some(2), Arith, Reference, Infix("//"));
                /// `a % b`, the remainder with the divisor's sign (Python's and NumPy's
                /// `mod`); an integer modulo 0 is 0, as in NumPy.
                Mod("mod", Some(2), Arith, Reference, Infix("%"));
                /// Larger of two, NaN if either is NaN.
                Maximum("maximum", Some(2), ArithBool, Inline, Call);
                /// Smaller of two, NaN if either is NaN.
                Minimum("minimum", Some(2), ArithBool, Inline, Call);
                /// `-a`.
                Neg("neg", Some(1), Arith, Inline, Prefix("-"));
                /// `|a|`.
                Abs("abs", Some(1), ArithBool, Inline, Bars);
                /// -1, 0 or 1 (NaN stays NaN).
                Sign("sign", Some(1), Arith, Inline, Call);
                /// `a * a`.
                Sqr("sqr", Some(1), ArithBool, Inline, Call);
                /// `a < b`.
                Lt("lt", Some(2), Compare, Reference, Infix("<"));
                /// `a > b`.
                Gt("gt", Some(2), Compare, Reference, Infix(">"));
                /// `a <= b`.
                Le("le", Some(2), Compare, Reference, Infix("<="));
                /// `a >= b`.
                Ge("ge", Some(2), Compare, Reference, Infix(">="));
                /// `a == b`.
                Eq("eq", Some(2), Compare, Reference, Infix("=="));
                /// `a != b`.
                Neq("neq", Some(2), Compare, Reference, Infix("!="));
                /// Logical and (bitwise on integers).
                And("and", Some(2), Logical, Reference, Infix("&"));
                /// Logical exclusive or (bitwise on integers).
                Xor("xor", Some(2), Logical, Reference, Infix("^"));
                /// Logical or (bitwise on integers).
                Or("or", Some(2), Logical, Reference, Infix("|"));
                /// Logical not (bitwise on integers).
                Not("not", Some(1), Logical, Reference, Call);
                /// `cond ? a : b`.
                Switch("switch", Some(3), ArithBool, Reference, Call);
                /// `min(max(a, lo), hi)`.
                Clip("clip", Some(3), ArithBool, Inline, Call);
                /// The second input broadcast to the shape of both (Theano's `fill`/`second`):
                /// how `zeros_like` and `ones_like` are written, e.g. by `grad`.
                Second("second", Some(2), Second, Inline, Named("fill"));
            }
            inline {
                /// Square root.
                Sqrt(sqrt, f64::sqrt, f32::sqrt);
                /// `1 / a`.
                Reciprocal(reciprocal, f64::recip, f32::recip);
                /// Round toward -inf.
                Floor(floor, f64::floor, f32::floor);
                /// Round toward +inf.
                Ceil(ceil, f64::ceil, f32::ceil);
                /// Round half to even (NumPy's `round`).
                Round(round, f64::round_ties_even, f32::round_ties_even);
                /// Round toward 0.
                Trunc(trunc, f64::trunc, f32::trunc);
            }
            math {
                /// `e^a`.
                Exp(exp, f64::exp, f32::exp);
                /// `e^a - 1`, accurate near 0.
                Expm1(expm1, f64::exp_m1, f32::exp_m1);
                /// Natural logarithm.
                Log(log, f64::ln, f32::ln);
                /// `log(1 + a)`, accurate near 0.
                Log1p(log1p, f64::ln_1p, f32::ln_1p);
                /// Base-2 logarithm.
                Log2(log2, f64::log2, f32::log2);
                /// Base-10 logarithm.
                Log10(log10, f64::log10, f32::log10);
                /// Sine.
                Sin(sin, f64::sin, f32::sin);
                /// Cosine.
                Cos(cos, f64::cos, f32::cos);
                /// Tangent.
                Tan(tan, f64::tan, f32::tan);
                /// Inverse sine.
                Arcsin(arcsin, f64::asin, f32::asin);
                /// Inverse cosine.
                Arccos(arccos, f64::acos, f32::acos);
                /// Inverse tangent.
                Arctan(arctan, f64::atan, f32::atan);
                /// Hyperbolic sine.
                Sinh(sinh, f64::sinh, f32::sinh);
                /// Hyperbolic cosine.
                Cosh(cosh, f64::cosh, f32::cosh);
                /// Hyperbolic tangent.
                Tanh(tanh, f64::tanh, f32::tanh);
                /// Inverse hyperbolic sine.
                Arcsinh(arcsinh, f64::asinh, f32::asinh);
                /// Inverse hyperbolic cosine.
                Arccosh(arccosh, f64::acosh, f32::acosh);
                /// Inverse hyperbolic tangent.
                Arctanh(arctanh, f64::atanh, f32::atanh);
                /// `1 / (1 + e^-a)`.
                Sigmoid(sigmoid, reference::sigmoid, reference::sigmoid);
                /// `log(1 + e^a)`.
                Softplus(softplus, reference::softplus, reference::softplus);
                /// The error function.
                Erf(erf, libm::erf, libm::erff);
                /// The complementary error function, `1 - erf(a)`, accurate where `erf` is
                /// near 1 (the reference, `libm`'s, is up to 4 ulp from the exact value).
                Erfc(erfc, libm::erfc, libm::erfcf, ulp(4, 3));
                /// The cube root (negative for negative `a`).
                Cbrt(cbrt, libm::cbrt, libm::cbrtf);
            }
        }
    };
}
pub(crate) use scalar_op_table;

/// How a scalar op types its result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DTypeRule {
    /// Upcast of the inputs; bools compute in int64.
    Arith,
    /// Upcast of the inputs, bool on bools (NumPy's: `add` is logical or, `mul` logical
    /// and, `maximum`/`minimum` or/and, `abs` and `sqr` the identity, `clip` and `switch`
    /// pick a value).
    ArithBool,
    /// Float of the upcast (integers compute in float64).
    Float,
    /// Bool result, inputs compared in their upcast.
    Compare,
    /// Bool or integer inputs only.
    Logical,
    /// The dtype of the second input (`second`).
    Second,
    /// The target dtype (`cast`).
    Cast,
}

/// How an op kind differentiates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GradKind {
    /// Gradients flow to its float inputs (`grad::rules` has its rule).
    Differentiable,
    /// Its result is piecewise constant or an index: gradients of its inputs are zero.
    Zero,
    /// A leaf: where gradients end.
    Leaf,
    /// Made by the optimizer after differentiation; `grad` never meets it.
    Optimized,
    /// No gradient flows through it: its inputs are disconnected from the cost through
    /// it (random draws, as Theano's: not differentiable with respect to the generator
    /// state nor the distribution's parameters).
    Disconnected,
}

/// How `pp` spells an application of a scalar op.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PpForm {
    /// `name(a, b, …)`.
    Call,
    /// `(a sym b sym …)`.
    Infix(&'static str),
    /// `(sym a)`.
    Prefix(&'static str),
    /// `|a|`.
    Bars,
    /// `word(a, b, …)` under another name than the op's (Theano's `fill` for `second`).
    Named(&'static str),
    /// `cast{dtype}(a)`.
    Cast(DType),
}

/// How the JIT lowers a scalar op.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Lowering {
    /// Inline CLIF with a vector form.
    Inline,
    /// The vector-math routine of a transcendental function (inline CLIF for short arrays,
    /// the bulk routine over chunks for long ones).
    Math(MathFn),
    /// A call to the reference function per element (scalar loop only).
    Call,
    /// No native lowering: the reference kernel computes it.
    Reference,
}

/// A `math` entry's ulp bound: its own, or 2 ulp in both dtypes.
macro_rules! math_ulp {
    () => {
        (2, 2)
    };
    (($f64:literal, $f32:literal)) => {
        ($f64, $f32)
    };
}

macro_rules! define_scalar_ops {
    (
        ops { $( $(#[$om:meta])* $o:ident($oname:literal, $arity:expr, $rule:ident, $low:ident, $pp:ident $(($ppa:literal))?); )* }
        inline { $( $(#[$im:meta])* $i:ident($iname:ident, $if64:path, $if32:path); )* }
        math { $( $(#[$mm:meta])* $m:ident($mname:ident, $mf64:path, $mf32:path $(, ulp($u64:literal, $u32:literal))?); )* }
    ) => {
        /// A scalar operation, applied elementwise by `Op::Elemwise` with broadcasting.
        /// Declared in the op table (`scalar_op_table!`).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum ScalarOp {
            $( $(#[$om])* $o, )*
            $( $(#[$im])* $i, )*
            $( $(#[$mm])* $m, )*
            /// Conversion to another dtype, as Rust's `as` (NumPy's `astype`).
            Cast(DType),
        }

        /// A transcendental function with a vector-math routine: the `math` section of the
        /// op table. The JIT dispatches on it with one exhaustive `match`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum MathFn {
            $( $(#[$mm])* $m, )*
        }

        impl MathFn {
            /// Every function, in table order.
            pub const ALL: [MathFn; [$(stringify!($mname)),*].len()] = [$(MathFn::$m),*];

            /// The scalar op applying it.
            pub const fn op(self) -> ScalarOp {
                match self {
                    $( MathFn::$m => ScalarOp::$m, )*
                }
            }

            /// Its name, as the op's.
            pub fn name(self) -> &'static str {
                self.op().name()
            }
        }

        impl ScalarOp {
            /// Every scalar op but `Cast` (which carries a dtype), in table order: the
            /// parser's, the CLI's and the Python package's name table.
            pub const ALL: [ScalarOp; [$($oname,)* $(stringify!($iname),)* $(stringify!($mname)),*].len()] =
                [$(ScalarOp::$o,)* $(ScalarOp::$i,)* $(ScalarOp::$m),*];

            /// The lower-case name used by `pp`, the text form, the CLI and error messages.
            pub const fn name(self) -> &'static str {
                match self {
                    $( ScalarOp::$o => $oname, )*
                    $( ScalarOp::$i => stringify!($iname), )*
                    $( ScalarOp::$m => stringify!($mname), )*
                    ScalarOp::Cast(_) => "cast",
                }
            }

            /// The number of inputs, `None` for the n-ary `Add` and `Mul` (two or more).
            pub const fn arity(self) -> Option<usize> {
                match self {
                    $( ScalarOp::$o => $arity, )*
                    _ => Some(1),
                }
            }

            /// How `pp` spells an application of the op.
            pub const fn pp_form(self) -> PpForm {
                match self {
                    $( ScalarOp::$o => PpForm::$pp $(($ppa))?, )*
                    ScalarOp::Cast(d) => PpForm::Cast(d),
                    _ => PpForm::Call,
                }
            }

            /// How the op types its result.
            pub const fn dtype_rule(self) -> DTypeRule {
                match self {
                    $( ScalarOp::$o => DTypeRule::$rule, )*
                    ScalarOp::Cast(_) => DTypeRule::Cast,
                    _ => DTypeRule::Float,
                }
            }

            /// How the JIT lowers it, for float compute dtypes (integer and bool kernels
            /// run in the reference).
            pub const fn lowering(self) -> Lowering {
                match self {
                    $( ScalarOp::$o => Lowering::$low, )*
                    $( ScalarOp::$i => Lowering::Inline, )*
                    $( ScalarOp::$m => Lowering::Math(MathFn::$m), )*
                    ScalarOp::Cast(d) if d.is_float() => Lowering::Inline,
                    ScalarOp::Cast(_) => Lowering::Reference,
                }
            }

            /// The largest distance in units in the last place between a native result and
            /// the reference's, in `float64` and in `float32`. The vector-math routines are
            /// within 2 ulp of the float64 reference functions; in float32 they are within 1
            /// ulp of the correctly rounded result (computed in float64 and rounded once, or
            /// by an `f32` algorithm measured to that bound), while the float32
            /// reference is a single-precision function, itself up to 1 ulp off: 2 ulp
            /// between them. A `math` entry states a larger bound (`ulp(f64, f32)`) where
            /// its reference is less accurate. Everything else is computed exactly as the
            /// reference does.
            pub const fn ulp_bound(self) -> (u64, u64) {
                match self {
                    $( ScalarOp::$m => math_ulp!($(($u64, $u32))?), )*
                    _ => (0, 0),
                }
            }

            /// The transcendental function this op applies, if it is one.
            pub const fn math_fn(self) -> Option<MathFn> {
                match self {
                    $( ScalarOp::$m => Some(MathFn::$m), )*
                    _ => None,
                }
            }

            /// The reference function of a unary float op in float64.
            pub fn unary_f64(self) -> Option<fn(f64) -> f64> {
                match self {
                    $( ScalarOp::$i => Some($if64), )*
                    $( ScalarOp::$m => Some($mf64), )*
                    _ => None,
                }
            }

            /// The reference function of a unary float op in float32.
            pub fn unary_f32(self) -> Option<fn(f32) -> f32> {
                match self {
                    $( ScalarOp::$i => Some($if32), )*
                    $( ScalarOp::$m => Some($mf32), )*
                    _ => None,
                }
            }

            /// The reference function of a unary float op in float64 with the C ABI, for
            /// native code that calls it (the JIT's per-element calls and fallbacks).
            pub fn unary_c_f64(self) -> Option<extern "C" fn(f64) -> f64> {
                match self {
                    $(
                        ScalarOp::$i => {
                            extern "C" fn f(x: f64) -> f64 {
                                $if64(x)
                            }
                            Some(f)
                        }
                    )*
                    $(
                        ScalarOp::$m => {
                            extern "C" fn f(x: f64) -> f64 {
                                $mf64(x)
                            }
                            Some(f)
                        }
                    )*
                    _ => None,
                }
            }

            /// The reference function of a unary float op in float32 with the C ABI.
            pub fn unary_c_f32(self) -> Option<extern "C" fn(f32) -> f32> {
                match self {
                    $(
                        ScalarOp::$i => {
                            extern "C" fn f(x: f32) -> f32 {
                                $if32(x)
                            }
                            Some(f)
                        }
                    )*
                    $(
                        ScalarOp::$m => {
                            extern "C" fn f(x: f32) -> f32 {
                                $mf32(x)
                            }
                            Some(f)
                        }
                    )*
                    _ => None,
                }
            }
        }
    };
}

scalar_op_table!(define_scalar_ops);

impl ScalarOp {
    /// The infix symbol `pp` prints between operands, if the op has one.
    pub const fn infix(self) -> Option<&'static str> {
        match self.pp_form() {
            PpForm::Infix(s) => Some(s),
            _ => None,
        }
    }

    /// `pp` of an application of the op to operands already printed.
    pub fn pp(self, args: &[String]) -> String {
        match self.pp_form() {
            PpForm::Call => format!("{}({})", self.name(), args.join(", ")),
            PpForm::Infix(sym) => format!("({})", args.join(&format!(" {sym} "))),
            PpForm::Prefix(sym) => format!("({sym}{})", args.join(", ")),
            PpForm::Bars => format!("|{}|", args.join(", ")),
            PpForm::Named(word) => format!("{word}({})", args.join(", ")),
            PpForm::Cast(d) => format!("cast{{{d}}}({})", args.join(", ")),
        }
    }

    /// The dtype the kernel computes in, given the input dtypes (the condition of `switch`
    /// excluded): every other input is converted to it first.
    pub fn compute_dtype(self, inputs: &[DType]) -> DType {
        let data = if self == ScalarOp::Switch { &inputs[1..] } else { inputs };
        let up = data.iter().copied().reduce(DType::upcast).unwrap_or(DType::F64);
        match self.dtype_rule() {
            DTypeRule::Cast => inputs[0],
            DTypeRule::Second => inputs[1],
            DTypeRule::Float => up.to_float(),
            DTypeRule::Arith if up == DType::Bool => DType::I64,
            _ => up,
        }
    }

    /// The arithmetic ops whose result on bools is a bool, as in Theano and NumPy (see
    /// [`DTypeRule::ArithBool`]). The others (`sub`, `neg`, `sign`, `pow`) compute bools
    /// in int64.
    pub fn closed_on_bool(self) -> bool {
        self.dtype_rule() == DTypeRule::ArithBool
    }

    /// The result dtype for the given input dtypes, or why they are refused.
    pub fn out_dtype(self, inputs: &[DType]) -> Result<DType, String> {
        match self {
            ScalarOp::Cast(d) => return Ok(d),
            ScalarOp::Switch if inputs[0].is_float() => {
                return Err("the condition of switch must be bool or integer".into())
            }
            _ => {}
        }
        let cd = self.compute_dtype(inputs);
        match self.dtype_rule() {
            DTypeRule::Compare => Ok(DType::Bool),
            DTypeRule::Logical if cd.is_float() => {
                Err(format!("{} needs bool or integer inputs, got {cd}", self.name()))
            }
            _ => Ok(cd),
        }
    }

    /// How it differentiates: comparisons, logic and the piecewise-constant ops (`sign` and
    /// the roundings) have zero gradients, `cast` to an integer or bool too.
    pub const fn grad_kind(self) -> GradKind {
        match self {
            ScalarOp::Sign | ScalarOp::Floor | ScalarOp::Ceil | ScalarOp::Round | ScalarOp::Trunc => {
                GradKind::Zero
            }
            ScalarOp::Cast(d) if !d.is_float() => GradKind::Zero,
            _ => match self.dtype_rule() {
                DTypeRule::Compare | DTypeRule::Logical => GradKind::Zero,
                _ => GradKind::Differentiable,
            },
        }
    }

    /// The reference function of a unary float op in the float type `F`.
    pub fn unary<F: reference::UnaryFloat>(self) -> Option<fn(F) -> F> {
        F::unary(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dtype_rules() {
        use DType::*;
        assert_eq!(ScalarOp::Div.out_dtype(&[I64, I64]), Ok(F64));
        assert_eq!(ScalarOp::Exp.out_dtype(&[F32]), Ok(F32));
        assert_eq!(ScalarOp::Add.out_dtype(&[Bool, Bool]), Ok(Bool));
        assert_eq!(ScalarOp::Mul.out_dtype(&[Bool, Bool]), Ok(Bool));
        assert_eq!(ScalarOp::Sub.out_dtype(&[Bool, Bool]), Ok(I64));
        assert_eq!(ScalarOp::Add.out_dtype(&[Bool, I32]), Ok(I32));
        assert_eq!(ScalarOp::Lt.out_dtype(&[F32, I64]), Ok(Bool));
        assert!(ScalarOp::And.out_dtype(&[F64, Bool]).is_err());
        assert_eq!(ScalarOp::Switch.out_dtype(&[Bool, F32, F32]), Ok(F32));
        assert_eq!(ScalarOp::Floor.out_dtype(&[I32]), Ok(F64));
        assert_eq!(ScalarOp::Second.out_dtype(&[F64, I32]), Ok(I32));
    }

    #[test]
    fn names_are_distinct_and_math_fns_round_trip() {
        let mut names: Vec<&str> = ScalarOp::ALL.iter().map(|o| o.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ScalarOp::ALL.len());
        for f in MathFn::ALL {
            assert_eq!(f.op().math_fn(), Some(f));
            assert_eq!(f.op().lowering(), Lowering::Math(f));
            assert!(f.op().unary_f64().is_some() && f.op().unary_c_f32().is_some());
        }
    }
}
