//! The process-wide cache of native kernels, the lower level of the JIT cache (`cache`
//! holds the compiled graphs that use them).
//!
//! A native kernel is compiled from a `ScalarProgram`, which has no names: its inputs are
//! numbered by position. Kernels are cached by the program's text plus the host's CPU
//! features, so the same fused expression in two functions, or in two graphs that differ
//! only in names or build order, compiles once. The cache holds weak references: a kernel
//! lives while some compiled graph uses it, and its executable memory is released
//! (Cranelift's `free_memory`) when the last user drops and the graph cache has evicted the
//! entry.
//!
//! A kernel whose program calls a transcendental function gets its chunk plan (the kernels
//! that run long arrays chunk by chunk, `tensorlift_jit`'s `chunked`) compiled here too,
//! with the kernel, so that no Cranelift compilation ever happens inside a call; its time
//! counts in the compile time, and the plans in their own counter.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Instant;
use tensorlift_ir::ScalarProgram;
use tensorlift_jit::{compile_elementwise, ElementwiseKernel, JitError};

struct Kernels {
    table: Mutex<HashMap<String, Weak<ElementwiseKernel>>>,
    hits: AtomicU64,
    compiles: AtomicU64,
    compile_ns: AtomicU64,
    /// Chunk plans compiled with their kernels.
    chunk_plans: AtomicU64,
    /// The CPU features kernels are compiled for (part of every key).
    host: String,
}

fn kernels() -> &'static Kernels {
    static KERNELS: OnceLock<Kernels> = OnceLock::new();
    KERNELS.get_or_init(|| Kernels {
        table: Mutex::default(),
        hits: AtomicU64::new(0),
        compiles: AtomicU64::new(0),
        compile_ns: AtomicU64::new(0),
        chunk_plans: AtomicU64::new(0),
        host: tensorlift_jit::host_target().map(|t| t.features.join(",")).unwrap_or_default(),
    })
}

/// Locks the table; a panic elsewhere while holding it leaves a table that is still
/// consistent (every update is a single insert or remove), so poisoning is ignored.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The native kernel of `program`: alive already (some compiled graph uses it), or compiled
/// now, with its chunk plan if it has one.
pub(crate) fn kernel(program: &ScalarProgram) -> Result<Arc<ElementwiseKernel>, JitError> {
    let c = kernels();
    let key = format!("{}\n{}", program.to_text(), c.host);
    if let Some(k) = lock(&c.table).get(&key).and_then(Weak::upgrade) {
        c.hits.fetch_add(1, Relaxed);
        return Ok(k);
    }
    let start = Instant::now();
    let k = Arc::new(compile_elementwise(program)?);
    if k.prepare_chunked() {
        c.chunk_plans.fetch_add(1, Relaxed);
    }
    c.compile_ns.fetch_add(start.elapsed().as_nanos() as u64, Relaxed);
    c.compiles.fetch_add(1, Relaxed);
    let mut table = lock(&c.table);
    // Forget kernels that died since the table last grew past a power of two (amortized
    // O(1) per insert, and the table never holds many more dead entries than live ones).
    if table.len() >= 64 && table.len().is_power_of_two() {
        table.retain(|_, w| w.strong_count() > 0);
    }
    table.insert(key, Arc::downgrade(&k));
    Ok(k)
}

/// The kernel cache's counters and the kernels alive now.
pub(crate) struct KernelStats {
    pub(crate) hits: u64,
    pub(crate) compiles: u64,
    pub(crate) compile_ns: u64,
    pub(crate) chunk_plans: u64,
    pub(crate) alive: u64,
}

/// The counters since the process started (or the last [`clear`]) and the kernels alive.
pub(crate) fn stats() -> KernelStats {
    let c = kernels();
    KernelStats {
        hits: c.hits.load(Relaxed),
        compiles: c.compiles.load(Relaxed),
        compile_ns: c.compile_ns.load(Relaxed),
        chunk_plans: c.chunk_plans.load(Relaxed),
        alive: lock(&c.table).values().filter(|w| w.strong_count() > 0).count() as u64,
    }
}

/// Forgets every kernel (those alive stay with their users) and resets the counters.
pub(crate) fn clear() {
    let c = kernels();
    lock(&c.table).clear();
    for a in [&c.hits, &c.compiles, &c.compile_ns, &c.chunk_plans] {
        a.store(0, Relaxed);
    }
}
