//! Process-wide settings, as Theano's `config`, read from the environment in this one place
//! and passed down: `floatX` (the dtype of the float constructors without a prefix), the
//! execution mode, the optimizer's exclusions and trace, and the thread count.
//!
//! # Where the settings come from
//!
//! `TENSORLIFT_FLAGS` is Theano's `THEANO_FLAGS`: comma-separated `name=value` flags,
//!
//! ```text
//! TENSORLIFT_FLAGS=floatX=float32,mode=interp,optimizer_excluding=local_log1p:local_mul_zero,trace=1,threads=2
//! ```
//!
//! | flag | values | default |
//! |---|---|---|
//! | `floatX` | `float64`, `float32` | `float64` |
//! | `mode` | `jit` (`FAST_RUN`), `interp` (`FAST_COMPILE`, `py`), `debug` (`DebugMode`, `DEBUG_MODE`); any case | `jit` |
//! | `optimizer_excluding` | rewrite names separated by `:` | none |
//! | `trace` (`optimizer_verbose`) | `1`/`0`, `true`/`false` | `0` |
//! | `threads` | a positive number | every core |
//!
//! When `TENSORLIFT_FLAGS` is unset, `THEANO_FLAGS` is read instead (with the same names),
//! so a Theano program's environment carries over. The older single variables keep working
//! and are the most specific: `TENSORLIFT_FLOATX`, `TENSORLIFT_MODE`,
//! `TENSORLIFT_OPT_EXCLUDE` (names separated by `,`), `TENSORLIFT_OPT_TRACE` and
//! `TENSORLIFT_NUM_THREADS`. Precedence, highest first:
//!
//! 1. what the program sets: `set_float_x`, `set_num_threads`, a function's `.mode(…)` (a
//!    function's `.optimizer(…)` exclusions are added to the environment's);
//! 2. the single variables (`TENSORLIFT_MODE=debug` wins over `TENSORLIFT_FLAGS=mode=jit`);
//! 3. `TENSORLIFT_FLAGS`, or else `THEANO_FLAGS`; within one, a later flag wins;
//! 4. the defaults.
//!
//! # Bad settings
//!
//! As in Theano, an unknown flag name (`device=cpu` from a Theano environment) is a
//! warning: it is ignored and reported once on stderr. A bad value (`floatX=int8`,
//! `mode=fast`, `threads=0`), an entry without `=`, or a bad single variable is an error:
//! [`check`] returns it as a [`ConfigError`] naming the variable, the flag and the value,
//! building a function fails with it, and until then the setting keeps its default.
//!
//! The environment is read once, on first use ([`get`]); [`Config::from_vars`] and
//! [`parse_flags`] are the same reading over any source, for tests and tools.

use crate::dtype::DType;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::OnceLock;

/// How compiled functions run, as configured (the runtime's `Mode` of the same names).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ModeSetting {
    /// Native code (Theano's `FAST_RUN`).
    #[default]
    Jit,
    /// The op-by-op interpreter (Theano's `FAST_COMPILE`).
    Interp,
    /// Native code checked against the reference kernels (Theano's `DebugMode`).
    Debug,
}

/// The settings of the process.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// The dtype of `scalar`, `vector`, `matrix`, `tensor3` (`floatX`).
    pub float_x: DType,
    /// The default mode of compiled functions.
    pub mode: ModeSetting,
    /// Rewrites switched off by name in every function (`optimizer_excluding`).
    pub optimizer_excluding: Vec<String>,
    /// Print every function's rewrite trace and phase profile to stderr.
    pub trace: bool,
    /// Threads large kernels are split over; `None`: every core.
    pub threads: Option<usize>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            float_x: DType::F64,
            mode: ModeSetting::Jit,
            optimizer_excluding: Vec::new(),
            trace: false,
            threads: None,
        }
    }
}

/// A setting the environment gives a value it cannot have.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: {flag}={value:?}: {expected}")]
pub struct ConfigError {
    /// The environment variable (`TENSORLIFT_FLAGS`, `TENSORLIFT_MODE`, …).
    pub variable: String,
    /// The flag (for a single variable, the flag it sets).
    pub flag: String,
    /// The value given.
    pub value: String,
    /// What the flag accepts.
    pub expected: String,
}

/// The outcome of reading settings: the settings (bad values left at their defaults),
/// warnings (unknown flags, ignored) and errors (bad values).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Reading {
    /// The settings.
    pub config: Config,
    /// One line per ignored unknown flag.
    pub warnings: Vec<String>,
    /// Every bad value, in the order read.
    pub errors: Vec<ConfigError>,
}

/// Applies one flag's value to `config`; `Ok(false)` for an unknown name.
fn apply(config: &mut Config, name: &str, value: &str) -> Result<bool, String> {
    match name {
        "floatX" | "floatx" => {
            config.float_x = match value {
                "float64" => DType::F64,
                "float32" => DType::F32,
                _ => return Err("expected float32 or float64".into()),
            }
        }
        "mode" => {
            config.mode = match value.to_ascii_lowercase().as_str() {
                "jit" | "fast_run" => ModeSetting::Jit,
                "interp" | "fast_compile" | "py" => ModeSetting::Interp,
                "debug" | "debugmode" | "debug_mode" => ModeSetting::Debug,
                _ => {
                    return Err(
                        "expected jit (FAST_RUN), interp (FAST_COMPILE, py) or debug (DebugMode)".into()
                    )
                }
            }
        }
        "optimizer_excluding" => {
            config
                .optimizer_excluding
                .extend(value.split(':').map(str::trim).filter(|s| !s.is_empty()).map(String::from));
        }
        "trace" | "optimizer_verbose" => {
            config.trace = match value.to_ascii_lowercase().as_str() {
                "1" | "true" => true,
                "0" | "false" => false,
                _ => return Err("expected 1 or 0 (true or false)".into()),
            }
        }
        "threads" => match value.parse::<usize>() {
            Ok(n) if n > 0 => config.threads = Some(n),
            _ => return Err("expected a positive number of threads".into()),
        },
        _ => return Ok(false),
    }
    Ok(true)
}

/// Reads a flags string (`TENSORLIFT_FLAGS`' syntax) named `variable` into `reading`.
fn read_flags(reading: &mut Reading, variable: &str, flags: &str) {
    for entry in flags.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let Some((name, value)) = entry.split_once('=') else {
            reading.errors.push(ConfigError {
                variable: variable.into(),
                flag: entry.into(),
                value: String::new(),
                expected: "expected name=value".into(),
            });
            continue;
        };
        let (name, value) = (name.trim(), value.trim());
        match apply(&mut reading.config, name, value) {
            Ok(true) => {}
            Ok(false) => reading.warnings.push(format!("{variable}: unknown flag `{name}` ignored")),
            Err(expected) => reading.errors.push(ConfigError {
                variable: variable.into(),
                flag: name.into(),
                value: value.into(),
                expected,
            }),
        }
    }
}

/// Reads a flags string (`floatX=float32,mode=interp`) over the defaults.
pub fn parse_flags(variable: &str, flags: &str) -> Reading {
    let mut reading = Reading::default();
    read_flags(&mut reading, variable, flags);
    reading
}

/// The single variables of the older interface: (variable, the flag it sets).
const SINGLE: [(&str, &str); 5] = [
    ("TENSORLIFT_FLOATX", "floatX"),
    ("TENSORLIFT_MODE", "mode"),
    ("TENSORLIFT_OPT_EXCLUDE", "optimizer_excluding"),
    ("TENSORLIFT_OPT_TRACE", "trace"),
    ("TENSORLIFT_NUM_THREADS", "threads"),
];

impl Config {
    /// The settings from environment variables as `var` gives them (`None`: unset), with
    /// the precedence of the module documentation.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Reading {
        let mut reading = Reading::default();
        match var("TENSORLIFT_FLAGS") {
            Some(flags) => read_flags(&mut reading, "TENSORLIFT_FLAGS", &flags),
            None => {
                if let Some(flags) = var("THEANO_FLAGS") {
                    read_flags(&mut reading, "THEANO_FLAGS", &flags);
                }
            }
        }
        for (variable, flag) in SINGLE {
            let Some(value) = var(variable) else { continue };
            let config = &mut reading.config;
            let result = match flag {
                // A single variable replaces what the flags said.
                "optimizer_excluding" => {
                    config.optimizer_excluding.clear();
                    let names = value.split(',').map(str::trim).collect::<Vec<_>>().join(":");
                    apply(config, flag, &names)
                }
                // Set and non-zero, as before: `TENSORLIFT_OPT_TRACE=yes` traces.
                "trace" => {
                    config.trace = value != "0" && !value.eq_ignore_ascii_case("false");
                    Ok(true)
                }
                _ => apply(config, flag, value.trim()),
            };
            if let Err(expected) = result {
                reading.errors.push(ConfigError {
                    variable: variable.into(),
                    flag: flag.into(),
                    value,
                    expected,
                });
            }
        }
        reading
    }

    /// The settings of this process's environment.
    pub fn from_env() -> Reading {
        Config::from_vars(|name| std::env::var(name).ok())
    }
}

fn reading() -> &'static Reading {
    static READING: OnceLock<Reading> = OnceLock::new();
    READING.get_or_init(|| {
        let r = Config::from_env();
        for w in &r.warnings {
            eprintln!("tensorlift: warning: {w}");
        }
        for e in &r.errors {
            eprintln!("tensorlift: error: {e}");
        }
        r
    })
}

/// The settings of the environment, read on first use (bad values left at their defaults;
/// see [`check`]).
pub fn get() -> &'static Config {
    &reading().config
}

/// The first bad value in the environment's settings, if any. Building a function fails
/// with it.
pub fn check() -> Result<(), ConfigError> {
    match reading().errors.first() {
        Some(e) => Err(e.clone()),
        None => Ok(()),
    }
}

const UNSET: u8 = u8::MAX;
static FLOAT_X: AtomicU8 = AtomicU8::new(UNSET);

fn encode(d: DType) -> u8 {
    d as u8
}

fn decode(v: u8) -> DType {
    crate::dtype::ALL_DTYPES[v as usize]
}

/// The current `floatX`: `float64` unless set with `set_float_x` or by the environment
/// (`floatX` in `TENSORLIFT_FLAGS`, or `TENSORLIFT_FLOATX`).
pub fn float_x() -> DType {
    let v = FLOAT_X.load(Ordering::Relaxed);
    if v != UNSET {
        return decode(v);
    }
    // Keep a value set concurrently by `set_float_x`.
    let _ = FLOAT_X.compare_exchange(UNSET, encode(get().float_x), Ordering::Relaxed, Ordering::Relaxed);
    decode(FLOAT_X.load(Ordering::Relaxed))
}

/// Sets `floatX` for graphs built from now on. Only float dtypes are accepted.
pub fn set_float_x(dtype: DType) -> Result<(), crate::BuildError> {
    if !dtype.is_float() {
        return Err(crate::BuildError::invalid(
            "set_float_x",
            format!("floatX must be a float dtype, got {dtype}"),
        ));
    }
    FLOAT_X.store(encode(dtype), Ordering::Relaxed);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
    }

    /// #14: every flag of `TENSORLIFT_FLAGS`, in Theano's syntax.
    #[test]
    fn flags_parse() {
        let r = parse_flags(
            "TENSORLIFT_FLAGS",
            "floatX=float32,mode=interp,optimizer_excluding=a:b,trace=1,threads=2",
        );
        assert_eq!(r.errors, []);
        assert_eq!(r.warnings, Vec::<String>::new());
        assert_eq!(
            r.config,
            Config {
                float_x: DType::F32,
                mode: ModeSetting::Interp,
                optimizer_excluding: vec!["a".into(), "b".into()],
                trace: true,
                threads: Some(2),
            }
        );
        assert_eq!(parse_flags("F", "").config, Config::default());
        assert_eq!(parse_flags("F", " mode = debug , ,").config.mode, ModeSetting::Debug);
    }

    /// Theano's mode names: FAST_RUN is the JIT, FAST_COMPILE (and `py`) the interpreter.
    #[test]
    fn theano_mode_names() {
        for (value, mode) in [
            ("FAST_RUN", ModeSetting::Jit),
            ("FAST_COMPILE", ModeSetting::Interp),
            ("py", ModeSetting::Interp),
            ("DebugMode", ModeSetting::Debug),
            ("JIT", ModeSetting::Jit),
        ] {
            let r = parse_flags("THEANO_FLAGS", &format!("mode={value}"));
            assert_eq!((r.config.mode, r.errors.len()), (mode, 0), "{value}");
        }
    }

    /// An unknown flag is a warning (ignored); a bad value or an entry without `=` is an
    /// error naming the variable, the flag and the value, and leaves the default.
    #[test]
    fn bad_flags() {
        let r = parse_flags("THEANO_FLAGS", "device=cpu,floatX=int8,threads=0,mode=fast,trace=maybe,junk");
        assert_eq!(r.warnings, ["THEANO_FLAGS: unknown flag `device` ignored"]);
        let errors: Vec<String> = r.errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            errors,
            [
                "THEANO_FLAGS: floatX=\"int8\": expected float32 or float64",
                "THEANO_FLAGS: threads=\"0\": expected a positive number of threads",
                "THEANO_FLAGS: mode=\"fast\": expected jit (FAST_RUN), interp (FAST_COMPILE, py) or debug (DebugMode)",
                "THEANO_FLAGS: trace=\"maybe\": expected 1 or 0 (true or false)",
                "THEANO_FLAGS: junk=\"\": expected name=value",
            ]
        );
        assert_eq!(r.config, Config::default());
    }

    /// Precedence: single variables over `TENSORLIFT_FLAGS` over `THEANO_FLAGS` (read only
    /// when `TENSORLIFT_FLAGS` is unset) over the defaults; a later flag over an earlier.
    #[test]
    fn precedence() {
        let theano = ("THEANO_FLAGS", "floatX=float32,mode=FAST_COMPILE");
        let r = Config::from_vars(env(&[theano]));
        assert_eq!((r.config.float_x, r.config.mode), (DType::F32, ModeSetting::Interp));

        let r = Config::from_vars(env(&[theano, ("TENSORLIFT_FLAGS", "mode=debug")]));
        assert_eq!((r.config.float_x, r.config.mode), (DType::F64, ModeSetting::Debug));

        let r = Config::from_vars(env(&[
            ("TENSORLIFT_FLAGS", "mode=debug,mode=interp,threads=3,optimizer_excluding=a,trace=1"),
            ("TENSORLIFT_MODE", "jit"),
            ("TENSORLIFT_NUM_THREADS", "5"),
            ("TENSORLIFT_OPT_EXCLUDE", "b, c"),
            ("TENSORLIFT_OPT_TRACE", "0"),
            ("TENSORLIFT_FLOATX", "float32"),
        ]));
        assert_eq!(r.errors, []);
        assert_eq!(
            r.config,
            Config {
                float_x: DType::F32,
                mode: ModeSetting::Jit,
                optimizer_excluding: vec!["b".into(), "c".into()],
                trace: false,
                threads: Some(5),
            }
        );

        let r = Config::from_vars(env(&[("TENSORLIFT_FLAGS", "mode=debug,mode=interp")]));
        assert_eq!(r.config.mode, ModeSetting::Interp);
        assert_eq!(Config::from_vars(env(&[])), Reading::default());
    }

    /// The single variables are checked like the flags: a bad one is an error naming it.
    #[test]
    fn bad_single_variables() {
        let r = Config::from_vars(env(&[("TENSORLIFT_MODE", "fast"), ("TENSORLIFT_NUM_THREADS", "x")]));
        let variables: Vec<&str> = r.errors.iter().map(|e| e.variable.as_str()).collect();
        assert_eq!(variables, ["TENSORLIFT_MODE", "TENSORLIFT_NUM_THREADS"]);
        assert_eq!(r.config, Config::default());
        // `TENSORLIFT_OPT_TRACE` traces when set to anything but 0, as before.
        assert!(Config::from_vars(env(&[("TENSORLIFT_OPT_TRACE", "yes")])).config.trace);
    }
}
