//! The JIT cache: the same graph built twice compiles once (whatever the build order or the
//! variable names), counters count, and compiling and dropping 10 000 distinct functions
//! keeps resident memory flat (evicted kernels free their code).
//!
//! One test function: the cache and its counters are process-wide, so the checks run in a
//! fixed order in this binary of their own.

use tensorlift as tl;
use tl::{Mode, Var};

fn jit(inputs: &[&Var], outputs: &[Var]) -> tl::Function {
    tl::Function::builder(inputs, outputs).mode(Mode::Jit).build().expect("compiles")
}

/// Resident set size of this process in KiB (Linux `/proc/self/statm`).
fn rss_kib() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4)
}

#[test]
fn jit_cache() {
    tl::clear_cache();

    // The same graph twice: the second build is a graph-cache hit, nothing compiles.
    let x = tl::dvector("x");
    let y = tl::dvector("y");
    let e = (&x * 2.0 + &y).exp() * &y;
    let f1 = jit(&[&x, &y], std::slice::from_ref(&e));
    assert_eq!(f1.native_kernel_count(), 1, "{}", f1.debugprint());
    let s1 = tl::cache_stats();
    assert_eq!((s1.graph_misses, s1.graph_hits, s1.kernel_compiles), (1, 0, 1), "{s1:?}");
    let f2 = jit(&[&x, &y], &[e]);
    let s2 = tl::cache_stats();
    assert_eq!((s2.graph_misses, s2.graph_hits, s2.kernel_compiles), (1, 1, 1), "{s2:?}");

    // Other names and another build order: a different graph as written (the names show in
    // `pp`), but the fused kernel is the same program and is not compiled again.
    let b = tl::dvector("b");
    let a = tl::dvector("a");
    let twice = &a * 2.0;
    let e2 = (twice + &b).exp() * &b;
    let f3 = jit(&[&a, &b], &[e2]);
    let s3 = tl::cache_stats();
    assert_eq!((s3.graph_misses, s3.kernel_compiles, s3.kernel_hits), (2, 1, 1), "{s3:?}");
    assert!(f3.pp_output(0).unwrap().contains('a'), "{}", f3.pp_output(0).unwrap());
    let args = tl::args![vec![0.5, -1.0, 2.0], vec![1.0, 2.0, -3.0]];
    let r1 = f1.call(&args).unwrap();
    assert_eq!(r1, f2.call(&args).unwrap());
    assert_eq!(r1, f3.call(&args).unwrap());

    // A different dtype is a different kernel.
    let xf = tl::fvector("x");
    let yf = tl::fvector("y");
    let _f4 = jit(&[&xf, &yf], &[(&xf * 2.0 + &yf).exp() * &yf]);
    assert_eq!(tl::cache_stats().kernel_compiles, 2);
    drop((f1, f2, f3));

    // 10 000 distinct functions, each compiled and dropped: the graph cache keeps a bounded
    // number, evicted graphs free their kernels, and resident memory stays flat.
    let n: usize =
        std::env::var("TENSORLIFT_CACHE_FUNCTIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let x = tl::dvector("x");
    let build = |k: usize| {
        let f = jit(&[&x], &[(&x + k as f64).sqr() * 0.5]);
        assert_eq!(f.native_kernel_count(), 1);
        let out = f.call1(vec![0.0]).unwrap().to_vec::<f64>().unwrap();
        assert_eq!(out, vec![(k as f64) * (k as f64) * 0.5]);
    };
    let warm = n / 10;
    for k in 0..warm {
        build(k);
    }
    let before = rss_kib();
    for k in warm..n {
        build(k);
    }
    let after = rss_kib();
    let s = tl::cache_stats();
    assert!(s.graphs <= tl::GRAPH_CAPACITY as u64, "{s:?}");
    assert!(s.kernels <= tl::GRAPH_CAPACITY as u64 + 1, "kernels alive: {s:?}");
    assert!(s.graph_evictions as usize >= n - tl::GRAPH_CAPACITY, "{s:?}");
    if let (Some(before), Some(after)) = (before, after) {
        let grown = after.saturating_sub(before);
        eprintln!("rss after {warm} functions: {before} KiB; after {n}: {after} KiB (+{grown} KiB)");
        // A leak of one 4 KiB code page per function would be 35 MiB here.
        assert!(grown < 8 * 1024, "resident memory grew by {grown} KiB over {} functions", n - warm);
    }
}
