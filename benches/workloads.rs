//! Criterion benchmarks of the design's workloads W1–W9 (`tensorlift::workloads`) under both
//! engines in the same run: the op-by-op interpreter (`Mode::Interp`, the baseline) and
//! native fused kernels (`Mode::Jit`). Each case is one benchmark group `"<id> <case>"`
//! with one function per engine; W8 times compilation (cold: JIT cache cleared first, and
//! cached). Sizes are `Size::Quick` (a run stays short); `TENSORLIFT_BENCH_FULL=1` selects
//! the design's full sizes. `tensorlift bench` runs the same cases with its own timing loop.

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
            group.finish();
        }
    }
}

criterion_group!(benches, workloads);
criterion_main!(benches);
