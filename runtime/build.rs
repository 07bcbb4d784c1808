//! With the `blas` feature: links a CBLAS library and writes its declarations
//! (`$OUT_DIR/blas_sys.rs`) with the symbol names and integer width of that library.
//! Without it: nothing.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `TENSORLIFT_BLAS_LIB_DIR` | directory searched for the library | the linker's path |
//! | `TENSORLIFT_BLAS_LIB` | library name, as in `-l` | `openblas` |
//! | `TENSORLIFT_BLAS_SYMBOL_PREFIX` | put before every symbol (`scipy_`) | none |
//! | `TENSORLIFT_BLAS_SYMBOL_SUFFIX` | put after every symbol (`64_`) | none |
//! | `TENSORLIFT_BLAS_ILP64` | `1`: 64-bit BLAS integers | `0` (32-bit) |

use std::env;
use std::fmt::Write as _;
use std::path::PathBuf;

const VARS: [&str; 5] = [
    "TENSORLIFT_BLAS_LIB_DIR",
    "TENSORLIFT_BLAS_LIB",
    "TENSORLIFT_BLAS_SYMBOL_PREFIX",
    "TENSORLIFT_BLAS_SYMBOL_SUFFIX",
    "TENSORLIFT_BLAS_ILP64",
];

/// The C functions used, each as (name, parameters); none returns a value.
const FUNCTIONS: [(&str, &str); 5] = [
    (
        "cblas_dgemm",
        "layout: i32, transa: i32, transb: i32, m: BlasInt, n: BlasInt, k: BlasInt, alpha: f64, a: *const f64, lda: BlasInt, b: *const f64, ldb: BlasInt, beta: f64, c: *mut f64, ldc: BlasInt",
    ),
    (
        "cblas_sgemm",
        "layout: i32, transa: i32, transb: i32, m: BlasInt, n: BlasInt, k: BlasInt, alpha: f32, a: *const f32, lda: BlasInt, b: *const f32, ldb: BlasInt, beta: f32, c: *mut f32, ldc: BlasInt",
    ),
    (
        "cblas_dgemv",
        "layout: i32, trans: i32, m: BlasInt, n: BlasInt, alpha: f64, a: *const f64, lda: BlasInt, x: *const f64, incx: BlasInt, beta: f64, y: *mut f64, incy: BlasInt",
    ),
    (
        "cblas_sgemv",
        "layout: i32, trans: i32, m: BlasInt, n: BlasInt, alpha: f32, a: *const f32, lda: BlasInt, x: *const f32, incx: BlasInt, beta: f32, y: *mut f32, incy: BlasInt",
    ),
    ("openblas_set_num_threads", "n: i32"),
];

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    for v in VARS {
        println!("cargo:rerun-if-env-changed={v}");
    }
    if env::var_os("CARGO_FEATURE_BLAS").is_none() {
        return;
    }
    let var = |name: &str| env::var(name).unwrap_or_default();
    if let Ok(dir) = env::var("TENSORLIFT_BLAS_LIB_DIR") {
        println!("cargo:rustc-link-search=native={dir}");
    }
    let lib = env::var("TENSORLIFT_BLAS_LIB").unwrap_or_else(|_| "openblas".into());
    println!("cargo:rustc-link-lib=dylib={lib}");
    let (prefix, suffix) = (var("TENSORLIFT_BLAS_SYMBOL_PREFIX"), var("TENSORLIFT_BLAS_SYMBOL_SUFFIX"));
    let int = if var("TENSORLIFT_BLAS_ILP64") == "1" { "i64" } else { "i32" };

    let mut src = format!("/// The BLAS integer type of the linked library.\npub type BlasInt = {int};\n\nunsafe extern \"C\" {{\n");
    for (name, params) in FUNCTIONS {
        let _ = writeln!(src, "    /// `{name}` of the linked CBLAS.\n    #[link_name = \"{prefix}{name}{suffix}\"]\n    pub fn {name}({params});");
    }
    src.push_str("}\n");
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("blas_sys.rs");
    std::fs::write(&out, src).expect("OUT_DIR is writable");
}
