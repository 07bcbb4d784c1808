//! Machine code of compiled kernels, for inspection:
//! [`ElementwiseKernel::disassembly`](crate::ElementwiseKernel::disassembly).
//!
//! The kernel's CLIF is compiled again, with disassembly on, into a code buffer that is
//! never executed. With the `disas` feature the text is capstone's AT&T disassembly with
//! Cranelift's relocation annotations; without it, Cranelift's own listing of the machine
//! instructions after register allocation (VCode).

use crate::kernel::NativeKernel;
use crate::JitError;
use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::Context;

impl NativeKernel {
    /// The machine code of the kernel as text (see the module documentation for the two
    /// forms). The instructions are those of the running kernel: the same CLIF compiled by
    /// the same ISA.
    pub(crate) fn disassembly(&self) -> Result<String, JitError> {
        let mut ctx = Context::for_function(self.ir.clone());
        ctx.set_disasm(true);
        let isa = self.isa.as_ref();
        #[cfg(feature = "disas")]
        let params = ctx.func.params.clone();
        let code = ctx
            .compile(isa, &mut ControlPlane::default())
            .map_err(|e| JitError::Compile(format!("{:?}", e.inner)))?;
        #[cfg(feature = "disas")]
        {
            let cs = isa.to_capstone().map_err(|e| JitError::Compile(format!("capstone: {e}")))?;
            code.disassemble(Some(&params), &cs).map_err(|e| JitError::Compile(format!("disassemble: {e}")))
        }
        #[cfg(not(feature = "disas"))]
        {
            Ok(code.vcode.clone().unwrap_or_default())
        }
    }
}
