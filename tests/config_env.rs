//! #14: the process-wide configuration read from the environment, end to end. Each case
//! runs this test binary again as a child process with its own environment (the parent's
//! environment is never changed), and the child reports what took effect.

use std::process::Command;
use tensorlift as tl;

/// The variable that makes `child_reports_the_configuration` report instead of returning.
const CHILD: &str = "TENSORLIFT_CONFIG_TEST_CHILD";

/// Every variable the configuration reads: removed from the child's environment first, so
/// the parent's (a CI run under `TENSORLIFT_MODE=interp`) does not leak in.
const READ: [&str; 7] = [
    "TENSORLIFT_FLAGS",
    "THEANO_FLAGS",
    "TENSORLIFT_FLOATX",
    "TENSORLIFT_MODE",
    "TENSORLIFT_OPT_EXCLUDE",
    "TENSORLIFT_OPT_TRACE",
    "TENSORLIFT_NUM_THREADS",
];

/// Runs the child with exactly `vars` of the configuration set; returns its stdout and
/// stderr.
fn child(vars: &[(&str, &str)]) -> (String, String) {
    let mut cmd = Command::new(std::env::current_exe().expect("the test binary"));
    cmd.args(["--exact", "child_reports_the_configuration", "--nocapture", "--test-threads=1"]);
    for v in READ {
        cmd.env_remove(v);
    }
    cmd.env(CHILD, "1").envs(vars.iter().copied());
    let out = cmd.output().expect("runs the child");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(out.status.success(), "child failed:\n{stdout}\n{stderr}");
    (stdout, stderr)
}

/// In a child: builds and calls a function of a vector and prints what the configuration
/// decided (`key=value` lines). In the parent: nothing.
#[test]
fn child_reports_the_configuration() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    // After the harness's `test … ` prefix.
    println!();
    println!("mode={:?}", tl::Mode::default());
    println!("floatX={}", tl::vector("v").dtype());
    println!("threads={}", tl::num_threads());
    let x = tl::dvector("x");
    match tl::function(&[&x], &[(&x * 2.0).exp()]) {
        Ok(f) => {
            f.call1(vec![1.0, 2.0]).expect("calls");
            println!("native_runs={}", f.native_runs().contiguous);
            println!("rules={}", f.rewrite_trace().rules().join(","));
        }
        Err(e) => println!("build_error={e:?}"),
    }
}

fn value<'a>(out: &'a str, key: &str) -> &'a str {
    out.lines()
        .find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
        .unwrap_or_else(|| panic!("no {key}= in:\n{out}"))
}

/// `TENSORLIFT_FLAGS=mode=interp` makes functions run in the interpreter (no native run),
/// and floatX and threads take effect too; without it the JIT runs natively.
#[test]
fn tensorlift_flags_take_effect_in_a_new_process() {
    let (out, _) = child(&[("TENSORLIFT_FLAGS", "mode=interp,floatX=float32,threads=1")]);
    assert_eq!(value(&out, "mode"), "Interp");
    assert_eq!(value(&out, "native_runs"), "0");
    assert_eq!(value(&out, "floatX"), "float32");
    assert_eq!(value(&out, "threads"), "1");

    let (out, _) = child(&[]);
    assert_eq!(value(&out, "mode"), "Jit");
    assert_eq!(value(&out, "native_runs"), "1");
    assert_eq!(value(&out, "floatX"), "float64");
}

/// `THEANO_FLAGS` is read when `TENSORLIFT_FLAGS` is unset, with Theano's mode names and a
/// warning (not an error) for a flag tensorlift does not know; the single variables win.
#[test]
fn theano_flags_and_precedence_in_a_new_process() {
    let (out, err) = child(&[("THEANO_FLAGS", "mode=FAST_COMPILE,device=cpu")]);
    assert_eq!(value(&out, "mode"), "Interp");
    assert!(err.contains("tensorlift: warning: THEANO_FLAGS: unknown flag `device` ignored"), "{err}");

    let (out, _) = child(&[("TENSORLIFT_FLAGS", "mode=interp"), ("THEANO_FLAGS", "mode=DebugMode")]);
    assert_eq!(value(&out, "mode"), "Interp");

    let (out, _) = child(&[("TENSORLIFT_FLAGS", "mode=interp"), ("TENSORLIFT_MODE", "jit")]);
    assert_eq!(value(&out, "mode"), "Jit");
}

/// The trace flag reaches the optimizer through the function's options: the trace and the
/// phase profile go to stderr.
#[test]
fn the_trace_flag_prints_the_trace() {
    let (_, err) = child(&[("TENSORLIFT_FLAGS", "trace=1")]);
    assert!(err.contains("canonicalize: "), "{err}");
    let (_, err) = child(&[]);
    assert!(!err.contains("canonicalize: "), "{err}");
}

/// An excluded rewrite does not fire: `exp(2x)` is fused into one kernel unless fusion's
/// rule is excluded by the environment (flags or the single variable).
#[test]
fn optimizer_excluding_reaches_the_optimizer() {
    let (out, _) = child(&[]);
    assert!(value(&out, "rules").split(',').any(|r| r == "elemwise_fusion"), "{out}");
    for vars in [
        [("TENSORLIFT_FLAGS", "optimizer_excluding=elemwise_fusion:nonexistent")],
        [("TENSORLIFT_OPT_EXCLUDE", "nonexistent,elemwise_fusion")],
    ] {
        let (out, _) = child(&vars);
        assert!(!value(&out, "rules").split(',').any(|r| r == "elemwise_fusion"), "{out}");
    }
}

/// A bad value is an error: building a function fails, naming the variable, flag and value.
#[test]
fn a_bad_flag_is_an_error_when_building() {
    let (out, err) = child(&[("TENSORLIFT_FLAGS", "mode=fast")]);
    let build = value(&out, "build_error");
    assert!(build.contains("TENSORLIFT_FLAGS: mode=\"fast\": expected jit"), "{build}");
    assert!(err.contains("tensorlift: error: TENSORLIFT_FLAGS: mode=\"fast\""), "{err}");
    assert_eq!(value(&out, "mode"), "Jit");
}
