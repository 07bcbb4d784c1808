//! The `tensorlift` command on the sizes and dtypes of #12 (items 3, 4, 5, 10, 15): results
//! too large to allocate and reshapes past the address space are user errors (exit code 1)
//! with a clear message, never internal errors (exit code 2) or aborts; integer literals
//! wider than the tensor beside them upcast it; integer `pow` wraps over the whole exponent.

use assert_cmd::Command;
use serde_json::Value;

/// Runs the command; returns (exit code, stdout, stderr).
fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::cargo_bin("tensorlift")
        .expect("the tensorlift binary is built")
        .args(args)
        .output()
        .expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The stderr of a user error (exit code 1) that contains every one of `words`.
#[track_caller]
fn user_error(args: &[&str], words: &[&str]) {
    let (code, out, err) = run(args);
    assert_eq!(code, 1, "{args:?} should be a user error; stdout:\n{out}\nstderr:\n{err}");
    assert!(!err.contains("internal error") && !err.contains("panicked"), "{err}");
    for w in words {
        assert!(err.contains(w), "{w:?} is missing from: {err}");
    }
}

/// The JSON output of a successful command.
fn json(args: &[&str]) -> Value {
    let (code, out, err) = run(args);
    assert_eq!(code, 0, "{args:?} failed:\n{err}");
    serde_json::from_str(&out).expect("valid JSON")
}

/// `a` dimshuffled to `n` axes, varying along axis `k`: `a.dimshuffle('x', 0, 'x')`.
fn along(n: usize, k: usize) -> String {
    let order: Vec<&str> = (0..n).map(|a| if a == k { "0" } else { "'x'" }).collect();
    format!("a.dimshuffle({})", order.join(", "))
}

/// The sum of `a` broadcast along each of `n` axes.
fn outer_sum(n: usize) -> String {
    (0..n).map(|k| along(n, k)).collect::<Vec<_>>().join(" + ")
}

/// `--var a:dvector=[1, 1, …]` of `len` values.
fn ones(len: usize) -> String {
    format!("a:dvector=[{}]", vec!["1"; len].join(","))
}

#[test]
fn item3_broadcast_too_large_is_a_user_error() {
    for mode in ["jit", "interp"] {
        // 256^8 elements: the count overflows.
        user_error(&["eval", &outer_sum(8), "--var", &ones(256), "--mode", mode], &["unable to allocate"]);
        // 2048^5 float64 elements: 256 PiB.
        user_error(
            &["eval", &outer_sum(5), "--var", &ones(2048), "--mode", mode],
            &["unable to allocate", "PiB"],
        );
    }
}

#[test]
fn item4_reshape_past_the_address_space_is_a_user_error() {
    for expr in ["x.reshape((9223372036854775807, 2, 0))", "x.reshape((9223372036854775807, 2, 0, -1))"] {
        user_error(&["eval", expr, "--var", "x:dvector=[]"], &["reshape", "too large"]);
    }
    // An empty result of a shape that fits prints as NumPy does, at once.
    let (code, out, err) = run(&["eval", "x.reshape((9223372036854775807, -1, 0))", "--var", "x:dvector=[]"]);
    assert_eq!((code, out.trim()), (0, "[]"), "{err}");
}

#[test]
fn item5_reduction_too_large_is_a_user_error() {
    for n in ["134217728", "2147483648"] {
        let expr = format!("x.reshape(({n}, {n}, 0)).sum(axis=2)");
        for mode in ["jit", "interp"] {
            user_error(
                &["eval", &expr, "--var", "x:dvector=[]", "--mode", mode],
                &["unable to allocate", "sum"],
            );
        }
    }
}

#[test]
fn item10_wide_integer_literals_upcast() {
    let v = json(&["eval", "a + 3000000000", "--var", "a:ivector=[1,2,-3]", "--json"]);
    let o = &v["outputs"][0];
    assert_eq!(o["dtype"], "int64");
    assert_eq!(o["data"], serde_json::json!([3000000001i64, 3000000002i64, 2999999997i64]));
    let v = json(&["eval", "a + 3", "--var", "a:ivector=[1,2,-3]", "--json"]);
    assert_eq!(v["outputs"][0]["dtype"], "int32");
}

#[test]
fn item15_integer_pow() {
    let v = json(&["eval", "a ** 8589934592", "--var", "a:lvector=[-3]", "--json"]);
    assert_eq!(v["outputs"][0]["data"], serde_json::json!([4982619357117939713i64]));
    user_error(
        &["eval", "a ** b", "--var", "a:lvector=[0]", "--var", "b:lvector=[-1]"],
        &["pow", "negative"],
    );
}
