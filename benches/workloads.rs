//! Criterion benchmarks of the design's workloads W1–W9 (`tensorlift::workloads`) under both
//! engines in the same run: the op-by-op interpreter (`Mode::Interp`, the baseline) and
//! native fused kernels (`Mode::Jit`). Each case is one benchmark group `"<id> <case>"`
//! with one function per engine; W8 times compilation (cold: JIT cache cleared first, and
//! cached). Sizes are `Size::Quick` (a run stays short); `TENSORLIFT_BENCH_FULL=1` selects
//! the design's full sizes. `tensorlift bench` runs the same cases with its own timing loop.

#[path = "common/baseline.rs"]
mod baseline;

use criterion::{criterion_group, criterion_main, Criterion};
use std::time::Duration;
use tensorlift as tl;
use tl::workloads::{cases, Measure, Size, IDS};
use tl::Mode;

const ENGINES: [(&str, Mode); 2] = [("interp", Mode::Interp), ("jit", Mode::Jit)];

fn size() -> Size {
    match std::env::var("TENSORLIFT_BENCH_FULL").as_deref() {
        Ok("1") => Size::Full,
        _ => Size::Quick,
    }
}

fn workloads(c: &mut Criterion) {
    for id in IDS {
        for case in cases(id, size()) {
            let mut group = c.benchmark_group(format!("{} {}", case.workload, case.case));
            // Large cases: fewer samples so the run stays short.
            if case.elements() >= 1_000_000 || case.measure != Measure::Call || id == "W6" {
                group.sample_size(10);
                group.warm_up_time(Duration::from_millis(500));
            }
            for (name, mode) in ENGINES {
                let mut op = case.runner(mode).expect("the workload compiles");
                group.bench_function(name, |b| b.iter(|| op().expect("runs")));
            }
            if case.measure == Measure::Call && ["W1", "W2", "W9"].contains(&id) {
                jit_variants(&mut group, &case);
            }
            if case.measure == Measure::Call {
                let all = tl::num_threads();
                for (name, threads, into) in
                    [("rust", all, false), ("rust_1t", 1, false), ("rust_into", all, true)]
                {
                    if let Some(mut op) = baseline::baseline(&case, threads, into) {
                        group.bench_function(name, |b| b.iter(&mut op));
                    }
                }
            }
            group.finish();
        }
    }
}

/// The JIT on one thread (`jit_1t`) and writing into a reused output (`jit_into`).
fn jit_variants(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    case: &tl::workloads::Case,
) {
    let f = case.compile(Mode::Jit).expect("the workload compiles");
    let args: Vec<tl::Arg> = case.args.iter().map(|t| tl::Arg::from(t.clone())).collect();
    let all = tl::num_threads();
    tl::set_num_threads(1);
    group.bench_function("jit_1t", |b| b.iter(|| f.call(&args).expect("runs")));
    tl::set_num_threads(all);
    let mut outs = f.call(&args).expect("runs");
    group.bench_function("jit_into", |b| b.iter(|| f.call_into(&args, &mut outs).expect("runs")));
}

criterion_group!(benches, workloads);
criterion_main!(benches);
