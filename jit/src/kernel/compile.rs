//! Compiling and linking: a program's function generated (`super::codegen`) into its own
//! `JITModule`, with the Rust functions it calls registered and declared as imports, then
//! defined, finalized and held by a [`NativeKernel`] that frees the code on drop.

use super::codegen::{scalar_type, Gen};
use super::lower::{plan, std_fn, symbol_name};
use crate::JitError;
use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::ir::{AbiParam, Function};
use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::Context;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{default_libcall_names, Linkage, Module};
use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use tensorlift_ir::{DType, ScalarOp, ScalarProgram};

/// The native entry point; see the module documentation of `crate::kernel`.
pub(super) type RawKernel =
    unsafe extern "C" fn(*const *const u8, *const isize, *const *mut u8, usize, usize);

/// Owns a kernel's `JITModule` and releases its code memory on drop (a dropped `JITModule`
/// leaks it on purpose). The mutex only makes the owner `Sync`; it is never locked.
struct OwnedModule(Mutex<Option<JITModule>>);

impl OwnedModule {
    fn get(&mut self) -> &mut JITModule {
        self.0.get_mut().unwrap_or_else(|e| e.into_inner()).as_mut().expect("present until drop")
    }
}

impl Drop for OwnedModule {
    fn drop(&mut self) {
        if let Some(module) = self.0.get_mut().unwrap_or_else(|e| e.into_inner()).take() {
            // SAFETY: the module's only function pointer lives in the `NativeKernel` that
            // owns this module and never leaves it; it is called only through `&self`, so no
            // call can be running (or start) once the kernel is being dropped.
            unsafe { module.free_memory() };
        }
    }
}

/// A [`ScalarProgram`] compiled to one native loop, run through the checked API of
/// `super::run`. `Send + Sync`; the code is freed when the kernel drops.
pub(crate) struct NativeKernel {
    pub(super) func: RawKernel,
    pub(super) inputs: Vec<DType>,
    pub(super) output: DType,
    /// The dtype of every output (one for a single-output program).
    pub(super) outputs: Vec<DType>,
    vector_width: Option<usize>,
    callees: Vec<String>,
    clif: String,
    pub(crate) ir: Function,
    pub(crate) isa: OwnedTargetIsa,
    // Last: dropped (code freed) after everything else.
    _module: OwnedModule,
}

impl fmt::Debug for NativeKernel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NativeKernel")
            .field("inputs", &self.inputs)
            .field("output", &self.output)
            .field("vector_width", &self.vector_width)
            .field("callees", &self.callees)
            .finish_non_exhaustive()
    }
}

impl NativeKernel {
    /// The dtype of each input, as the program declares them.
    #[inline]
    pub(crate) fn input_dtypes(&self) -> &[DType] {
        &self.inputs
    }

    /// The result's dtype.
    #[inline]
    pub(crate) fn out_dtype(&self) -> DType {
        self.output
    }

    /// The dtype of every output: the result's, then the extra outputs' of a multi-output
    /// program.
    #[inline]
    pub(crate) fn output_dtypes(&self) -> &[DType] {
        &self.outputs
    }

    /// Elements per vector group (2 or 4; the main loop does two groups per iteration), or
    /// `None` when the kernel runs a scalar loop only (it calls `pow`'s std function).
    pub(crate) fn vector_width(&self) -> Option<usize> {
        self.vector_width
    }

    /// The JIT symbols of the Rust functions the kernel may call (`tl_pow_f64`, and the
    /// huge-argument fallbacks `tl_sin_f64`, `tl_cos_f64`, `tl_tan_f64`), sorted.
    pub(crate) fn callees(&self) -> &[String] {
        &self.callees
    }

    /// The CLIF text of the kernel's function as generated, before Cranelift's optimizer.
    pub(crate) fn clif(&self) -> &str {
        &self.clif
    }

    /// The CLIF text after Cranelift's mid-end optimizer (egraph: GVN, LICM, constant
    /// folding), computed on demand from a copy of the function.
    pub(crate) fn optimized_clif(&self) -> Result<String, JitError> {
        let mut ctx = Context::for_function(self.ir.clone());
        ctx.optimize(self.isa.as_ref(), &mut ControlPlane::default())
            .map_err(|e| JitError::Compile(format!("optimize: {e}")))?;
        Ok(ctx.func.display().to_string())
    }
}

/// Native functions handed to Cranelift since the process started.
static COMPILATIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// How many native functions Cranelift has compiled in this process: every kernel, and
/// every part of a chunk plan (a test hook: a call that compiles shows here).
pub fn compilations() -> u64 {
    COMPILATIONS.load(std::sync::atomic::Ordering::Relaxed)
}

/// Compiles `program` into native code for this machine.
///
/// Returns [`JitError::Unsupported`] for programs with `bool`/integer values (other than
/// constants) or ops without a lowering (see the module documentation), so that the caller
/// can use the interpreter instead; [`JitError::InvalidProgram`] if the program does not
/// validate.
pub(crate) fn compile_native(program: &ScalarProgram) -> Result<NativeKernel, JitError> {
    let plan = plan(program)?;
    COMPILATIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let isa = crate::shared_host_isa()?;
    let mut jb = JITBuilder::with_isa(isa.clone(), default_libcall_names());
    let mut callee_names = Vec::new();
    for &(op, d) in &plan.callees {
        let f = std_fn(op, d).ok_or_else(|| JitError::Unsupported { op: format!("{} in {d}", op.name()) })?;
        let name = symbol_name(op, d);
        jb.symbol(name.clone(), f);
        callee_names.push(name);
    }
    callee_names.sort();
    let mut owner = OwnedModule(Mutex::new(Some(JITModule::new(jb))));
    let module = owner.get();
    let mut ctx = module.make_context();
    let ptr = module.target_config().pointer_type();
    for _ in 0..5 {
        ctx.func.signature.params.push(AbiParam::new(ptr));
    }
    // Declare the std functions in the module and the function.
    let mut callee_ids = Vec::new();
    for &(op, d) in &plan.callees {
        let ty = scalar_type(d);
        let mut sig = module.make_signature();
        let arity = if op == ScalarOp::Pow { 2 } else { 1 };
        for _ in 0..arity {
            sig.params.push(AbiParam::new(ty));
        }
        sig.returns.push(AbiParam::new(ty));
        let id = module
            .declare_function(&symbol_name(op, d), Linkage::Import, &sig)
            .map_err(|e| JitError::Compile(e.to_string()))?;
        callee_ids.push(((op, d), id));
    }
    let mut callees = HashMap::new();
    for (key, id) in callee_ids {
        callees.insert(key, module.declare_func_in_func(id, &mut ctx.func));
    }

    let mut fctx = FunctionBuilderContext::new();
    let mut b = FunctionBuilder::new(&mut ctx.func, &mut fctx);
    let fma = isa.has_native_fma();
    Gen { p: program, plan: &plan, callees: &callees, ptr, fma }.build(&mut b);
    b.seal_all_blocks();
    b.finalize(module.target_config());

    let clif = ctx.func.display().to_string();
    let ir = ctx.func.clone();
    let id = module
        .declare_function("tl_elementwise", Linkage::Export, &ctx.func.signature)
        .map_err(|e| JitError::Compile(e.to_string()))?;
    module.define_function(id, &mut ctx).map_err(|e| JitError::Compile(format!("{e:?}")))?;
    module.clear_context(&mut ctx);
    module.finalize_definitions().map_err(|e| JitError::Compile(e.to_string()))?;
    let code = module.get_finalized_function(id);
    // SAFETY: `code` is the finalized (executable) code of the function just defined, whose
    // Cranelift signature is five pointer-sized integer parameters, no results, in the ISA's
    // default calling convention (System V on this host), which is `extern "C"` with
    // `RawKernel`'s parameter types.
    let func = unsafe { std::mem::transmute::<*const u8, RawKernel>(code) };
    Ok(NativeKernel {
        func,
        inputs: program.inputs.clone(),
        output: program.out_dtype(),
        outputs: program.outputs().iter().map(|&v| program.dtype_of(v)).collect(),
        vector_width: plan.vector_width,
        callees: callee_names,
        clif,
        ir,
        isa,
        _module: owner,
    })
}
