//! The benchmark workloads of the design (W1–W9), in one place for the criterion benchmarks
//! (`benches/workloads.rs`) and `tensorlift bench`: each workload is a list of `Case`s —
//! a graph ready to compile (inputs, outputs, updates) with deterministic inputs — at one of
//! two `Size`s.
//!
//! | id | workload | `Size::Full` | `Size::Quick` |
//! |---|---|---|---|
//! | W1 | `x**2` | n = 1e6, 1e7 | n = 1e3, 1e6 |
//! | W2 | sigmoid `1/(1+exp(-x))` | 1000×1000, n = 1e7 | 1000×1000 |
//! | W3 | grad of `(x-4)*(x**2+6)`, elementwise (`call` and `call_into`) | n = 1e6 | n = 1e5 |
//! | W4 | `dot(W,x)+b` (gemv), `dot(X,W)+b` (gemm) | 1000×1000; 1000×1000·1000×1000 | 1000×1000; 100×1000·1000×1000 |
//! | W5 | logistic-regression SGD step | 400×784 | 400×784 |
//! | W6 | MLP step 784-512-10, tanh, softmax cross-entropy | batch 256 | batch 256 |
//! | W7 | per-call overhead of a scalar `x**2` | — | — |
//! | W8 | compile time of W3 and W6, cold and cached | — | — |
//! | W9 | `(sin(x)*cos(y) + exp(-x*y))*0.5 + tanh(x-y)` | n = 1e7, f64 and f32 | n = 1e6, f64 and f32 |
//!
//! ```
//! use tensorlift as tl;
//! use tl::workloads::{cases, Size};
//!
//! for case in cases("W7", Size::Quick) {
//!     let mut op = case.runner(tl::Mode::Jit).unwrap();
//!     op().unwrap(); // one call of the compiled function
//! }
//! ```

use crate::{Arg, Function, Mode, Tensor, Var};
use ndarray::{Array1, Array2};

/// Every workload id, in order.
pub const IDS: [&str; 9] = ["W1", "W2", "W3", "W4", "W5", "W6", "W7", "W8", "W9"];

/// How big the inputs are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Size {
    /// Small enough that every workload runs in seconds (`tensorlift bench --quick`, the
    /// criterion benchmarks by default).
    Quick,
    /// The sizes of the design.
    Full,
}

/// What one timed operation of a case is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Measure {
    /// One call of the compiled function.
    Call,
    /// One call writing into output arrays allocated once (`Function::call_into`).
    CallInto,
    /// One compilation, with the JIT cache cleared first.
    CompileCold,
    /// One compilation of a graph compiled before (a cache hit).
    CompileCached,
}

/// One benchmark case: a graph with its inputs, and what to time.
#[derive(Clone, Debug)]
pub struct Case {
    /// The workload id (`"W1"`).
    pub workload: &'static str,
    /// The case within the workload (`"n=1e6"`, `"gemv 1000x1000"`).
    pub case: String,
    /// What the workload computes.
    pub description: &'static str,
    /// The function's inputs.
    pub inputs: Vec<Var>,
    /// Its outputs.
    pub outputs: Vec<Var>,
    /// Its updates of shared variables (training steps).
    pub updates: Vec<(Var, Var)>,
    /// Deterministic arguments, one per input.
    pub args: Vec<Tensor>,
    /// What one timed operation is.
    pub measure: Measure,
}

impl Case {
    /// Compiles the case's function in `mode`.
    pub fn compile(&self, mode: Mode) -> crate::Result<Function> {
        Function::builder(&self.inputs, &self.outputs)
            .updates(&self.updates)
            .mode(mode)
            .name(self.workload)
            .build()
    }

    /// Calls a function compiled by `compile` with the case's arguments.
    pub fn call(&self, f: &Function) -> crate::Result<Vec<Tensor>> {
        let args: Vec<Arg> = self.args.iter().map(|t| Arg::from(t.clone())).collect();
        f.call(&args)
    }

    /// The operation to time under `mode`, ready to run: a call of the compiled function,
    /// or a compilation (cold: the JIT cache cleared first; cached: compiled once before).
    pub fn runner(&self, mode: Mode) -> crate::Result<Box<dyn FnMut() -> crate::Result<()> + '_>> {
        Ok(match self.measure {
            Measure::Call => {
                let f = self.compile(mode)?;
                let args: Vec<Arg> = self.args.iter().map(|t| Arg::from(t.clone())).collect();
                Box::new(move || f.call(&args).map(drop))
            }
            Measure::CallInto => {
                let f = self.compile(mode)?;
                let args: Vec<Arg> = self.args.iter().map(|t| Arg::from(t.clone())).collect();
                let mut outputs = f.call(&args)?;
                Box::new(move || f.call_into(&args, &mut outputs))
            }
            Measure::CompileCold => Box::new(move || {
                crate::clear_cache();
                self.compile(mode).map(drop)
            }),
            Measure::CompileCached => {
                self.compile(mode)?;
                Box::new(move || self.compile(mode).map(drop))
            }
        })
    }

    /// The number of elements of the largest argument (for throughput figures).
    pub fn elements(&self) -> usize {
        self.args.iter().map(Tensor::len).max().unwrap_or(1)
    }
}

/// The cases of workload `id` (`"W1"` … `"W9"`, case-insensitive); empty for an unknown id.
pub fn cases(id: &str, size: Size) -> Vec<Case> {
    let quick = size == Size::Quick;
    match id.to_ascii_uppercase().as_str() {
        "W1" => {
            let ns: &[usize] = if quick { &[1_000, 1_000_000] } else { &[1_000_000, 10_000_000] };
            ns.iter().map(|&n| w1(n)).collect()
        }
        "W2" => {
            let mut v = vec![w2_matrix(1000, 1000)];
            if !quick {
                v.push(w2_vector(10_000_000));
            }
            v
        }
        "W3" => {
            let n = if quick { 100_000 } else { 1_000_000 };
            let into =
                Case { case: format!("n={} call_into", fmt_count(n)), measure: Measure::CallInto, ..w3(n) };
            vec![w3(n), into]
        }
        "W4" => vec![w4_gemv(1000), w4_gemm(if quick { 100 } else { 1000 }, 1000)],
        "W5" => vec![w5()],
        "W6" => vec![w6(256)],
        "W7" => vec![w7()],
        "W8" => {
            let mut v = Vec::new();
            for base in [w3(1000), w6(16)] {
                for measure in [Measure::CompileCold, Measure::CompileCached] {
                    let which = if base.workload == "W3" { "W3" } else { "W6" };
                    let how = if measure == Measure::CompileCold { "cold" } else { "cached" };
                    v.push(Case {
                        workload: "W8",
                        case: format!("compile {which} {how}"),
                        description: "compile time (optimizer and JIT)",
                        measure,
                        ..base.clone()
                    });
                }
            }
            v
        }
        "W9" => {
            let n = if quick { 1_000_000 } else { 10_000_000 };
            vec![w9(n, crate::DType::F64), w9(n, crate::DType::F32)]
        }
        _ => Vec::new(),
    }
}

/// Every case of every workload.
pub fn all(size: Size) -> Vec<Case> {
    IDS.iter().flat_map(|id| cases(id, size)).collect()
}

/// `1e6` for 1_000_000, `1000` for 1000, `2.5e6`: how case names write sizes.
pub fn fmt_count(n: usize) -> String {
    let e = (n as f64).log10().floor() as i32;
    let m = n as f64 / 10f64.powi(e);
    if n >= 100_000 && (m - m.round()).abs() < 1e-9 {
        if m.round() == 1.0 {
            format!("1e{e}")
        } else {
            format!("{}e{e}", m.round())
        }
    } else {
        n.to_string()
    }
}

/// A small deterministic generator (SplitMix64) for the inputs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [-1, 1).
    fn uniform(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }
}

fn linspace(a: f64, b: f64, n: usize) -> Tensor {
    Tensor::from(Array1::linspace(a, b, n))
}

fn w1(n: usize) -> Case {
    let x = crate::dvector("x");
    Case {
        workload: "W1",
        case: format!("n={}", fmt_count(n)),
        description: "x**2",
        outputs: vec![x.pow(2)],
        inputs: vec![x],
        updates: vec![],
        args: vec![linspace(-1.0, 1.0, n)],
        measure: Measure::Call,
    }
}

fn sigmoid_of(x: &Var) -> Var {
    1.0 / (1.0 + crate::exp(-x))
}

fn w2_matrix(r: usize, c: usize) -> Case {
    let x = crate::dmatrix("x");
    let data = Array2::from_shape_fn((r, c), |(i, j)| (i as f64 - j as f64) / 500.0);
    Case {
        workload: "W2",
        case: format!("{r}x{c}"),
        description: "sigmoid 1/(1+exp(-x))",
        outputs: vec![sigmoid_of(&x)],
        inputs: vec![x],
        updates: vec![],
        args: vec![Tensor::from(data)],
        measure: Measure::Call,
    }
}

fn w2_vector(n: usize) -> Case {
    let x = crate::dvector("x");
    Case {
        workload: "W2",
        case: format!("n={}", fmt_count(n)),
        description: "sigmoid 1/(1+exp(-x))",
        outputs: vec![sigmoid_of(&x)],
        inputs: vec![x],
        updates: vec![],
        args: vec![linspace(-8.0, 8.0, n)],
        measure: Measure::Call,
    }
}

fn w3(n: usize) -> Case {
    let x = crate::dvector("x");
    let y = (&x - 4.0) * (x.pow(2) + 6.0);
    let g = crate::grad(&y.sum(), &x).expect("the gradient of a sum of an elementwise expression");
    Case {
        workload: "W3",
        case: format!("n={}", fmt_count(n)),
        description: "grad of (x-4)*(x**2+6), elementwise",
        outputs: vec![g],
        inputs: vec![x],
        updates: vec![],
        args: vec![linspace(-10.0, 10.0, n)],
        measure: Measure::Call,
    }
}

fn w4_gemv(n: usize) -> Case {
    let w = crate::shared(Array2::from_shape_fn((n, n), |(i, j)| ((i * 7 + j) % 13) as f64), "W");
    let b = crate::shared(Array1::<f64>::ones(n), "b");
    let x = crate::dvector("x");
    Case {
        workload: "W4",
        case: format!("gemv {n}x{n}"),
        description: "dot(W, x) + b",
        outputs: vec![crate::dot(&w, &x) + &b],
        inputs: vec![x],
        updates: vec![],
        args: vec![linspace(0.0, 1.0, n)],
        measure: Measure::Call,
    }
}

fn w4_gemm(rows: usize, n: usize) -> Case {
    let w = crate::shared(Array2::from_shape_fn((n, n), |(i, j)| ((i * 7 + j) % 13) as f64 / 13.0), "W");
    let b = crate::shared(Array1::<f64>::ones(n), "b");
    let x = crate::dmatrix("X");
    let data = Array2::from_shape_fn((rows, n), |(i, j)| ((i * 3 + j * 5) % 17) as f64 / 17.0);
    Case {
        workload: "W4",
        case: format!("gemm {rows}x{n}x{n}"),
        description: "dot(X, W) + b",
        outputs: vec![crate::dot(&x, &w) + &b],
        inputs: vec![x],
        updates: vec![],
        args: vec![Tensor::from(data)],
        measure: Measure::Call,
    }
}

fn w5() -> Case {
    let (n, feats, lr, l2) = (400, 784, 0.1, 0.01);
    let mut rng = Rng(5);
    let data_x = Array2::from_shape_fn((n, feats), |_| rng.uniform());
    let data_y = Array1::from_shape_fn(n, |_| if rng.uniform() < 0.0 { 0.0 } else { 1.0 });
    let w0 = Array1::from_shape_fn(feats, |_| 0.01 * rng.uniform());
    let x = crate::dmatrix("x");
    let y = crate::dvector("y");
    let w = crate::shared(w0, "w");
    let b = crate::shared(0.0, "b");
    let p1: Var = 1.0 / (1.0 + crate::exp(-crate::dot(&x, &w) - &b));
    let xent = -&y * crate::log(&p1) - (1.0 - &y) * crate::log(1.0 - &p1);
    let cost = xent.mean() + l2 * (&w * &w).sum();
    let g = crate::grad(&cost, &[&w, &b]).expect("the logistic-regression gradient");
    Case {
        workload: "W5",
        case: format!("{n}x{feats}"),
        description: "logistic-regression SGD step",
        updates: vec![(w.clone(), &w - lr * &g[0]), (b.clone(), &b - lr * &g[1])],
        outputs: vec![cost],
        inputs: vec![x, y],
        args: vec![Tensor::from(data_x), Tensor::from(data_y)],
        measure: Measure::Call,
    }
}

fn w6(batch: usize) -> Case {
    let (nin, nh, nout, lr) = (784, 512, 10, 0.01);
    let mut rng = Rng(6);
    let scale1 = 1.0 / (nin as f64).sqrt();
    let scale2 = 1.0 / (nh as f64).sqrt();
    let w1 = crate::shared(Array2::from_shape_fn((nin, nh), |_| scale1 * rng.uniform()), "W1");
    let b1 = crate::shared(Array1::<f64>::zeros(nh), "b1");
    let w2 = crate::shared(Array2::from_shape_fn((nh, nout), |_| scale2 * rng.uniform()), "W2");
    let b2 = crate::shared(Array1::<f64>::zeros(nout), "b2");
    let data_x = Array2::from_shape_fn((batch, nin), |_| rng.uniform());
    let data_y = Array2::from_shape_fn((batch, nout), |(i, j)| if (i * 7) % nout == j { 1.0 } else { 0.0 });
    let x = crate::dmatrix("X");
    let y = crate::dmatrix("Y");
    let h = crate::tanh(crate::dot(&x, &w1) + &b1);
    let logits = crate::dot(&h, &w2) + &b2;
    let cost = -(&y * crate::log(crate::softmax(&logits, -1))).sum_axis(1).mean();
    let params = [&w1, &b1, &w2, &b2];
    let g = crate::grad(&cost, &params).expect("the MLP gradient");
    let updates = params.iter().zip(&g).map(|(p, gp)| ((*p).clone(), *p - lr * gp)).collect();
    Case {
        workload: "W6",
        case: format!("batch {batch}"),
        description: "MLP step 784-512-10, tanh, softmax cross-entropy",
        updates,
        outputs: vec![cost],
        inputs: vec![x, y],
        args: vec![Tensor::from(data_x), Tensor::from(data_y)],
        measure: Measure::Call,
    }
}

fn w7() -> Case {
    let x = crate::dscalar("x");
    Case {
        workload: "W7",
        case: "scalar".into(),
        description: "per-call overhead of a scalar x**2",
        outputs: vec![x.pow(2)],
        inputs: vec![x],
        updates: vec![],
        args: vec![Tensor::from(3.0)],
        measure: Measure::Call,
    }
}

fn w9(n: usize, dtype: crate::DType) -> Case {
    let x = crate::tensor("x", dtype, &[None]);
    let y = crate::tensor("y", dtype, &[None]);
    let e = (crate::sin(&x) * crate::cos(&y) + crate::exp(-(&x * &y))) * 0.5 + crate::tanh(&x - &y);
    Case {
        workload: "W9",
        case: format!("n={} {}", fmt_count(n), dtype),
        description: "(sin(x)*cos(y) + exp(-x*y))*0.5 + tanh(x-y)",
        outputs: vec![e],
        inputs: vec![x, y],
        updates: vec![],
        args: vec![linspace(-2.0, 2.0, n).cast(dtype), linspace(1.0, -1.0, n).cast(dtype)],
        measure: Measure::Call,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(fmt_count(1_000_000), "1e6");
        assert_eq!(fmt_count(10_000_000), "1e7");
        assert_eq!(fmt_count(1000), "1000");
        assert_eq!(fmt_count(100_000), "1e5");
    }

    #[test]
    fn every_quick_case_compiles_and_runs() {
        for id in IDS {
            let cs = cases(id, Size::Quick);
            assert!(!cs.is_empty(), "{id}");
            for c in cs.iter().filter(|c| c.elements() <= 100_000 || c.measure != Measure::Call) {
                let mut op = c.runner(Mode::Interp).unwrap();
                op().unwrap();
            }
        }
    }
}
