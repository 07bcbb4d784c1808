//! Memory held across compiles and calls (#16): the process-wide cache keeps bounded bytes
//! for functions nobody holds any more, a function's buffer pool does not pile up buffers
//! when the input length changes from call to call, and the chunk plans of long
//! transcendental kernels are compiled with their kernel, never inside a call.
//!
//! The resident-set checks read `/proc/self/statm` (Linux). The cache and its counters are
//! process-wide, so the tests of this file run one at a time (`SERIAL`).
//! `TENSORLIFT_MEMORY_CYCLES` overrides the number of cycles (default 1 000).

use ndarray::{ArcArray1, Array1};
use std::sync::Mutex;
use tensorlift as tl;
use tl::Mode;

/// One test at a time: they read the process's resident set and the cache's counters.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Elements of a 10 MB float64 array.
const TEN_MB: usize = 10_000_000 / 8;

/// Cycles of the resident-set tests.
fn cycles() -> usize {
    std::env::var("TENSORLIFT_MEMORY_CYCLES").ok().and_then(|v| v.parse().ok()).unwrap_or(1000)
}

/// Resident set size of this process in MiB (`/proc/self/statm`).
#[cfg(target_os = "linux")]
fn rss_mib() -> f64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
    let pages: u64 = statm.split_whitespace().nth(1).and_then(|p| p.parse().ok()).expect("resident pages");
    let page = 4096.0; // statm counts pages; the kernel's base page on Linux x86-64 and arm64 defaults
    pages as f64 * page / (1 << 20) as f64
}

/// Runs `cycle(k)` for `k` in `0..cycles()` and checks that the resident set grows by no
/// more than 50 MiB after the first `warm` cycles.
#[cfg(target_os = "linux")]
fn assert_rss_flat(what: &str, warm: usize, mut cycle: impl FnMut(usize)) {
    let n = cycles().max(warm + 1);
    for k in 0..warm {
        cycle(k);
    }
    let before = rss_mib();
    for k in warm..n {
        cycle(k);
    }
    let after = rss_mib();
    eprintln!(
        "{what}: rss after {warm} cycles {before:.1} MiB, after {n}: {after:.1} MiB (+{:.1})",
        after - before
    );
    assert!(after - before <= 50.0, "{what}: resident set grew from {before:.1} MiB to {after:.1} MiB");
}

/// A distinct 10 MB float64 array per `k`.
fn ten_mb(k: usize) -> Array1<f64> {
    Array1::from_elem(TEN_MB, k as f64 + 0.5)
}

/// `x * c` compiled, called once (checked) and dropped with its variables.
fn scale_cycle(x: &tl::Var, c: tl::Var, k: usize) {
    let f = tl::Function::builder(&[x], &[x * &c]).mode(Mode::Jit).build().expect("compiles");
    let out = f.call1(2.0).expect("runs");
    assert_eq!(out.len(), TEN_MB);
    if k.is_multiple_of(100) {
        assert!(out.to_f64_vec().iter().all(|&v| v == 2.0 * (k as f64 + 0.5)));
    }
}

#[cfg(target_os = "linux")]
#[test]
fn compile_drop_cycles_of_functions_holding_10_mb_constants_keep_rss_flat() {
    let _serial = serial();
    tl::clear_cache();
    let x = tl::dscalar("x");
    assert_rss_flat("10 MB constants", 20, |k| scale_cycle(&x, tl::constant(ten_mb(k)), k));
}

#[cfg(target_os = "linux")]
#[test]
fn compile_drop_cycles_of_functions_holding_10_mb_shared_variables_keep_rss_flat() {
    let _serial = serial();
    tl::clear_cache();
    let x = tl::dscalar("x");
    assert_rss_flat("10 MB shared variables", 20, |k| scale_cycle(&x, tl::shared(ten_mb(k), "c"), k));
}

#[cfg(target_os = "linux")]
#[test]
fn calls_with_a_new_input_length_each_keep_rss_flat() {
    let _serial = serial();
    // `y` is an intermediate (read by the sum and by the division): its buffer is pooled.
    let x = tl::dvector("x");
    let y = &x * &x + 1.0;
    let z = &y / tl::sum(&y);
    let f = tl::Function::builder(&[&x], &[z]).mode(Mode::Jit).build().expect("compiles");
    let data: Vec<f64> = (0..1_200_000).map(|i| (i % 1000) as f64 * 1e-3).collect();
    assert_rss_flat("a new input length per call", 20, |k| {
        // 200 000 to 1 200 000 elements, a different length every call.
        let n = 200_000 + (k * 999_983) % 1_000_000;
        let out = f.call1(data[..n].to_vec()).expect("runs");
        assert_eq!(out.len(), n);
    });
    let stats = f.buffer_stats();
    eprintln!("{stats:?}");
    assert!(stats.reused > 0, "the intermediate's buffer is reused when it fits: {stats:?}");
}

/// `x * c` for a 10 MB constant made from `a` (sharing its buffer), compiled and called.
fn scaled_by(x: &tl::Var, a: &ArcArray1<f64>) -> tl::Function {
    let c = tl::constant(a.clone());
    let f = tl::Function::builder(&[x], &[x * &c]).mode(Mode::Jit).build().expect("compiles");
    assert_eq!(f.call1(1.0).expect("runs").len(), TEN_MB);
    f
}

#[test]
fn the_cache_frees_dropped_functions_constants_beyond_its_idle_budget() {
    let _serial = serial();
    tl::clear_cache();
    let x = tl::dscalar("x");
    // Eight functions holding 10 MB each, built and dropped with their variables: the cache
    // keeps the most recent that fit in IDLE_BYTES and frees the others' constants.
    let arrays: Vec<ArcArray1<f64>> = (0..8).map(|k| ten_mb(k).into_shared()).collect();
    for a in &arrays {
        drop(scaled_by(&x, a));
    }
    // Another build (a miss) applies the budget to the eight idle entries.
    drop(tl::function(&[&x], &[&x + 1.0]).expect("compiles"));
    let kept = tensorlift_runtime::cache::IDLE_BYTES / (TEN_MB * 8);
    let held: Vec<bool> = arrays.iter().map(|a| !a.is_unique()).collect();
    let want: Vec<bool> = (0..8).map(|k| k >= 8 - kept).collect();
    assert_eq!(held, want, "which constants the cache still holds");
    let s = tl::cache_stats();
    assert_eq!(s.graph_evictions as usize, 8 - kept, "{s:?}");
}

#[test]
fn a_recently_dropped_function_is_rebuilt_from_the_cache() {
    let _serial = serial();
    tl::clear_cache();
    let x = tl::dscalar("x");
    let a = ten_mb(1).into_shared();
    drop(scaled_by(&x, &a));
    // The same variables, and an equal graph from new ones: both lookups, nothing compiles.
    let c = tl::constant(a.clone());
    let y = &x * &c;
    let f = tl::Function::builder(&[&x], std::slice::from_ref(&y)).mode(Mode::Jit).build().unwrap();
    drop(f);
    let before = tl::cache_stats();
    let f = tl::Function::builder(&[&x], &[y]).mode(Mode::Jit).build().unwrap();
    let g = scaled_by(&x, &ten_mb(1).into_shared());
    let after = tl::cache_stats();
    assert_eq!(after.graph_misses, before.graph_misses, "{before:?} then {after:?}");
    assert_eq!(after.graph_hits, before.graph_hits + 2, "{before:?} then {after:?}");
    assert_eq!(after.kernel_compiles, before.kernel_compiles);
    assert!(f.call1(2.0).unwrap().to_f64_vec().iter().all(|&v| v == 3.0));
    drop((f, g));
}

#[test]
fn functions_in_use_keep_their_graphs_cached_whatever_their_size() {
    let _serial = serial();
    tl::clear_cache();
    let x = tl::dscalar("x");
    // More than IDLE_BYTES in functions alive: none is idle, none is evicted.
    let n = tensorlift_runtime::cache::IDLE_BYTES / (TEN_MB * 8) + 2;
    let built: Vec<(tl::Var, tl::Function)> = (0..n)
        .map(|k| {
            let c = tl::constant(ten_mb(k));
            let y = &x * &c;
            let f = tl::Function::builder(&[&x], std::slice::from_ref(&y)).mode(Mode::Jit).build().unwrap();
            (y, f)
        })
        .collect();
    drop(tl::function(&[&x], &[&x + 1.0]).expect("compiles"));
    let before = tl::cache_stats();
    assert_eq!(before.graph_evictions, 0, "{before:?}");
    for (y, _) in &built {
        tl::Function::builder(&[&x], std::slice::from_ref(y)).mode(Mode::Jit).build().unwrap();
    }
    let after = tl::cache_stats();
    assert_eq!(after.graph_hits, before.graph_hits + n as u64, "{before:?} then {after:?}");
    assert_eq!(after.graph_misses, before.graph_misses);
}

#[test]
fn chunk_plans_compile_with_their_kernel_not_in_the_first_long_call() {
    let _serial = serial();
    tl::clear_cache();
    // W9's expression.
    let x = tl::dvector("x");
    let y = tl::dvector("y");
    let w9 = (tl::sin(&x) * tl::cos(&y) + tl::exp(-(&x * &y))) * 0.5 + tl::tanh(&x - &y);
    let f = tl::Function::builder(&[&x, &y], &[w9]).mode(Mode::Jit).build().expect("compiles");
    let built = tl::cache_stats();
    assert_eq!((built.kernel_compiles, built.chunk_plans), (1, 1), "{built:?}");
    // The first long call compiles nothing: neither a kernel nor a chunk plan.
    let n = 100_003;
    let xs: Vec<f64> = (0..n).map(|i| ((i * 7) % 1009) as f64 * 0.01 - 5.0).collect();
    let ys: Vec<f64> = (0..n).map(|i| ((i * 7 + 13) % 1009) as f64 * 0.01 - 5.0).collect();
    let compiled = tensorlift_jit::kernel::compilations();
    let long = f.call(&tl::args![xs.clone(), ys.clone()]).expect("runs")[0].to_f64_vec();
    assert_eq!(tensorlift_jit::kernel::compilations(), compiled, "a call compiled");
    assert_eq!(tl::cache_stats(), built);
    // Pieces shorter than a chunk plan's minimum run the inline code: the same values
    // (within the bulk routines' rounding: they are not the inline polynomials).
    for (k, (xp, yp)) in xs.chunks(1000).zip(ys.chunks(1000)).enumerate() {
        let short = f.call(&tl::args![xp.to_vec(), yp.to_vec()]).expect("runs")[0].to_f64_vec();
        for (i, (a, b)) in long[k * 1000..].iter().zip(&short).enumerate() {
            assert!((a - b).abs() <= 1e-14 * (1.0 + b.abs()), "[{}] chunked {a} vs inline {b}", k * 1000 + i);
        }
    }
}
