//! `tensorlift bench`: runs the workloads of `tensorlift::workloads` under the JIT and the
//! interpreter with its own timing loop (a warm-up, then N samples, each a batch of calls
//! long enough to time), shows a progress bar on stderr (its total known from the start),
//! prints a table of medians with their spread (fastest–slowest sample) and
//! JIT/interpreter ratios, and with `--json FILE` writes one object per (case, engine):
//! `workload`, `case`, `engine`, `threads`, `median_ns`, `min_ns`, `max_ns`, `samples`
//! (plus `iters_per_sample`, `measure` and `description`).

use crate::app::BenchArgs;
use crate::error::{CliError, CliResult};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use std::fmt::Write as _;
use std::time::{Duration, Instant};
use tensorlift as tl;
use tl::workloads::{self, Case, Measure, Size};

/// One measured (case, engine).
#[derive(Clone, Debug)]
pub struct Row {
    /// `"W1"`.
    pub workload: String,
    /// `"n=1e6"`.
    pub case: String,
    /// What the workload computes.
    pub description: String,
    /// `"jit"` or `"interp"`.
    pub engine: &'static str,
    /// Threads requested.
    pub threads: usize,
    /// Per-operation times of each sample, in nanoseconds.
    pub samples_ns: Vec<f64>,
    /// Operations per sample.
    pub iters: u64,
    /// What an operation is.
    pub measure: Measure,
}

impl Row {
    fn sorted(&self) -> Vec<f64> {
        let mut v = self.samples_ns.clone();
        v.sort_by(f64::total_cmp);
        v
    }

    /// The fastest and slowest sample's time of one operation, ns.
    pub fn spread(&self) -> (f64, f64) {
        let v = self.sorted();
        (v.first().copied().unwrap_or(f64::NAN), v.last().copied().unwrap_or(f64::NAN))
    }

    /// The median time of one operation, ns.
    pub fn median(&self) -> f64 {
        let v = self.sorted();
        let n = v.len();
        if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        }
    }

    /// The JSON object of the row.
    pub fn json(&self) -> serde_json::Value {
        let v = self.sorted();
        json!({
            "workload": self.workload,
            "case": self.case,
            "engine": self.engine,
            "threads": self.threads,
            "median_ns": self.median().round() as u64,
            "min_ns": v[0].round() as u64,
            "max_ns": v[v.len() - 1].round() as u64,
            "samples": v.len(),
            "iters_per_sample": self.iters,
            "measure": match self.measure {
                Measure::Call => "call",
                Measure::CallInto => "call-into",
                Measure::CompileCold => "compile-cold",
                Measure::CompileCached => "compile-cached",
            },
            "description": self.description,
        })
    }
}

/// A duration in ns, readable: `812 ns`, `3.41 µs`, `12.3 ms`, `1.20 s`.
pub fn fmt_ns(ns: f64) -> String {
    let (v, unit) = if ns < 1e3 {
        (ns, "ns")
    } else if ns < 1e6 {
        (ns / 1e3, "µs")
    } else if ns < 1e9 {
        (ns / 1e6, "ms")
    } else {
        (ns / 1e9, "s")
    };
    if v >= 100.0 {
        format!("{v:.0} {unit}")
    } else if v >= 10.0 {
        format!("{v:.1} {unit}")
    } else {
        format!("{v:.2} {unit}")
    }
}

/// Times `case` under `engine`: one warm-up operation (which also sets how many operations
/// a sample batches, so that a sample lasts about `target`), then `samples` samples.
fn measure(case: &Case, mode: tl::Mode, samples: usize, target: Duration) -> tl::Result<(Vec<f64>, u64)> {
    let mut op = case.runner(mode)?;
    let t0 = Instant::now();
    op()?;
    let first = t0.elapsed().max(Duration::from_nanos(20));
    let iters = (target.as_secs_f64() / first.as_secs_f64()).clamp(1.0, 1e6) as u64;
    if iters > 1 {
        // A second warm-up batch: caches, buffers and branch predictors settle.
        for _ in 0..iters.min(1000) {
            op()?;
        }
    }
    let mut out = Vec::with_capacity(samples);
    for _ in 0..samples {
        let t = Instant::now();
        for _ in 0..iters {
            op()?;
        }
        out.push(t.elapsed().as_nanos() as f64 / iters as f64);
    }
    Ok((out, iters))
}

/// The workload ids asked for, validated.
fn selected(ids: &[String]) -> CliResult<Vec<&'static str>> {
    if ids.is_empty() || ids.iter().any(|i| i.eq_ignore_ascii_case("all")) {
        return Ok(workloads::IDS.to_vec());
    }
    let mut out = Vec::new();
    for id in ids {
        for part in id.split(',').filter(|p| !p.is_empty()) {
            let found =
                workloads::IDS.iter().find(|w| w.eq_ignore_ascii_case(part.trim())).ok_or_else(|| {
                    CliError::user(format!(
                        "bench: unknown workload `{part}`; expected one of {}",
                        workloads::IDS.join(" ")
                    ))
                })?;
            if !out.contains(found) {
                out.push(*found);
            }
        }
    }
    Ok(out)
}

/// Runs `bench`; returns the table for stdout.
pub fn run(a: &BenchArgs) -> CliResult<String> {
    let ids = selected(&a.workloads)?;
    let threads = a.threads.unwrap_or_else(tl::num_threads);
    if threads == 0 {
        return Err(CliError::user("bench: --threads must be at least 1"));
    }
    tl::set_num_threads(threads);
    let size = if a.quick { Size::Quick } else { Size::Full };
    let samples = a.samples.unwrap_or(if a.quick { 5 } else { 15 });
    if samples == 0 || samples > 100_000 {
        return Err(CliError::user("bench: --samples must be between 1 and 100000"));
    }
    let target = Duration::from_millis(if a.quick { 10 } else { 50 });
    let engines = [("jit", tl::Mode::Jit), ("interp", tl::Mode::Interp)];

    // Every case is made first, so the progress bar knows its total from the start.
    let cases: Vec<_> = ids.into_iter().flat_map(|id| workloads::cases(id, size)).collect();
    let pb = ProgressBar::new((cases.len() * engines.len()) as u64);
    pb.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut rows: Vec<Row> = Vec::new();
    for case in &cases {
        for (engine, mode) in engines {
            pb.set_message(format!("{} {} ({engine})", case.workload, case.case));
            let (samples_ns, iters) = measure(case, mode, samples, target).map_err(|e| {
                pb.finish_and_clear();
                CliError::internal(format!("bench {} {} ({engine}): {e}", case.workload, case.case))
            })?;
            rows.push(Row {
                workload: case.workload.to_string(),
                case: case.case.clone(),
                description: case.description.to_string(),
                engine,
                threads,
                samples_ns,
                iters,
                measure: case.measure,
            });
            pb.inc(1);
        }
    }
    pb.finish_and_clear();

    if let Some(path) = &a.json {
        let list: Vec<serde_json::Value> = rows.iter().map(Row::json).collect();
        let text = serde_json::to_string_pretty(&list).map_err(|e| CliError::internal(e.to_string()))?;
        std::fs::write(path, text + "\n")
            .map_err(|e| CliError::user(format!("bench: cannot write {}: {e}", path.display())))?;
    }
    Ok(table(&rows, a, samples))
}

/// A table cell: the median, and the spread of the samples (`min–max`).
fn cell(r: Option<&Row>) -> String {
    r.map_or("-".to_string(), |r| {
        let (lo, hi) = r.spread();
        format!("{} ({}–{})", fmt_ns(r.median()), fmt_ns(lo), fmt_ns(hi))
    })
}

/// The table: one line per case, the medians of both engines with their spread, and the
/// ratio of the medians.
fn table(rows: &[Row], a: &BenchArgs, samples: usize) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<4} {:<22} {:<46} {:>29} {:>29} {:>11}",
        "id", "case", "workload", "jit (min–max)", "interp (min–max)", "jit/interp"
    );
    let mut k = 0;
    while k < rows.len() {
        let r = &rows[k];
        let other = rows.get(k + 1).filter(|o| o.workload == r.workload && o.case == r.case);
        let (jit, interp) = match other {
            Some(o) if r.engine == "jit" => (Some(r), Some(o)),
            Some(o) => (Some(o), Some(r)),
            None if r.engine == "jit" => (Some(r), None),
            None => (None, Some(r)),
        };
        let ratio = match (jit, interp) {
            (Some(j), Some(i)) if i.median() > 0.0 => format!("{:.2}", j.median() / i.median()),
            _ => "-".into(),
        };
        let desc: String = r.description.chars().take(46).collect();
        let _ = writeln!(
            out,
            "{:<4} {:<22} {:<46} {:>29} {:>29} {:>11}",
            r.workload,
            r.case,
            desc,
            cell(jit),
            cell(interp),
            ratio
        );
        k += if other.is_some() { 2 } else { 1 };
    }
    let _ = writeln!(
        out,
        "\nmedian (fastest–slowest) of {samples} samples per engine; jit/interp < 1 means the JIT is faster. \
         W8 times one compilation; every other row one call.\nthreads: {}{}",
        tl::num_threads(),
        if a.quick { "; --quick sizes" } else { "" }
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(fmt_ns(812.0), "812 ns");
        assert_eq!(fmt_ns(3_410.0), "3.41 µs");
        assert_eq!(fmt_ns(12_300_000.0), "12.3 ms");
        assert!(selected(&["w1".into(), "W9".into()]).unwrap() == vec!["W1", "W9"]);
        assert!(selected(&["W10".into()]).is_err());
        let row = Row {
            workload: "W1".into(),
            case: "c".into(),
            description: "d".into(),
            engine: "jit",
            threads: 1,
            samples_ns: vec![900.0, 700.0, 812.0],
            iters: 1,
            measure: workloads::Measure::Call,
        };
        assert_eq!(cell(Some(&row)), "812 ns (700 ns–900 ns)");
        assert_eq!(cell(None), "-");
    }
}
