//! Code generation: the CLIF of a kernel function — entry checks, per-input addressing
//! (broadcast splat slots, stride masks), the unrolled vector loop, the scalar loop that is
//! also its tail, and each op's inline CLIF in scalar or vector types (the transcendental
//! ones from `crate::vmath`, the rest as calls to Rust functions).

use super::lower::{const_value, lowering, Lowering, Plan};
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::immediates::{Ieee32, Ieee64};
use cranelift_codegen::ir::{
    types, BlockArg, ConstantData, Endianness, FuncRef, InstBuilder, MemFlagsData, StackSlotData,
    StackSlotKind, Type, Value,
};
use cranelift_frontend::FunctionBuilder;
use std::collections::HashMap;
use tensorlift_ir::{DType, ScalarNode, ScalarOp, ScalarProgram, ScalarValue};

/// How many vector groups one iteration of the main loop computes.
const UNROLL: usize = 2;

pub(super) fn scalar_type(d: DType) -> Type {
    if d == DType::F32 {
        types::F32
    } else {
        types::F64
    }
}

/// Lanes of a 128-bit vector of `d`.
fn lanes(d: DType) -> usize {
    16 / d.size()
}

/// The memory flags of every load and store: valid pointers, no alignment promised.
fn mem() -> MemFlagsData {
    MemFlagsData::new().with_notrap()
}

/// A value of the program in one element group: its dtype and its registers (one scalar,
/// or `width / lanes` vectors).
#[derive(Clone)]
struct Repr {
    dtype: DType,
    chunks: Vec<Value>,
}

/// Per-input addressing, set up once at function entry.
#[derive(Clone, Copy)]
struct InputAddr {
    dtype: DType,
    /// Where the vector loop reads element 0 (for a broadcast input: the splat slot).
    base: Value,
    /// All ones for a contiguous input, zero for a broadcast one: masks the vector loop's
    /// element offset.
    mask: Value,
    /// Element 0 as the caller passed it: where the scalar loop's offsets start.
    ptr: Value,
    /// Bytes from one element to the next (the stride times the element size), for the
    /// scalar loop.
    step: Value,
}

/// The code generator of one kernel function.
pub(super) struct Gen<'a> {
    pub(super) p: &'a ScalarProgram,
    pub(super) plan: &'a Plan,
    pub(super) callees: &'a HashMap<(ScalarOp, DType), FuncRef>,
    pub(super) ptr: Type,
    /// Whether the ISA has a native `fma` (else `vmath` uses `fmul` + `fadd`).
    pub(super) fma: bool,
}

impl Gen<'_> {
    /// Generates the kernel function's body into `b` (its signature is set).
    pub(super) fn build(&self, b: &mut FunctionBuilder<'_>) {
        let ptr = self.ptr;
        let n_in = self.p.inputs.len();
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        let setup = b.create_block();
        let tail_hdr = b.create_block();
        b.append_block_param(tail_hdr, ptr);
        let tail_body = b.create_block();
        let exit = b.create_block();

        b.switch_to_block(entry);
        let params = b.block_params(entry).to_vec();
        let (in_pp, strides_p, outs_pp, begin, end) = (params[0], params[1], params[2], params[3], params[4]);
        let empty = b.ins().icmp(IntCC::UnsignedGreaterThanOrEqual, begin, end);
        b.ins().brif(empty, exit, &[], setup, &[]);

        b.switch_to_block(setup);
        let width = self.plan.vector_width;
        let mut addrs: Vec<Option<InputAddr>> = vec![None; n_in];
        // Whether every live input's stride is 0 or 1 (the vector loop's condition).
        let mut unit_strides = b.ins().iconst(types::I8, 1);
        for (k, &dtype) in self.p.inputs.iter().enumerate() {
            if !self.plan.live[k] {
                continue;
            }
            let off = (k * ptr.bytes() as usize) as i32;
            let p = b.ins().load(ptr, mem(), in_pp, off);
            let stride = b.ins().load(ptr, mem(), strides_p, off);
            let step = b.ins().ishl_imm_u(stride, dtype.size().trailing_zeros() as i64);
            let bcast = b.ins().icmp_imm_u(IntCC::Equal, stride, 0i64);
            let unit = b.ins().icmp_imm_u(IntCC::Equal, stride, 1i64);
            let either = b.ins().bor(bcast, unit);
            unit_strides = b.ins().band(unit_strides, either);
            let zero = b.ins().iconst(ptr, 0);
            let ones = b.ins().iconst(ptr, -1);
            let mask = b.ins().select(bcast, zero, ones);
            let base = match width {
                None => p,
                Some(w) => {
                    // The vector loads of a broadcast input read a slot holding its value
                    // splatted over one iteration's elements. (A contiguous input's first
                    // element may not exist: it then loads from the slot, and drops it.)
                    let bytes = (UNROLL * w * dtype.size()) as u32;
                    let slot =
                        b.create_sized_stack_slot(StackSlotData::new(StackSlotKind::ExplicitSlot, bytes, 4));
                    let slot_addr = b.ins().stack_addr(ptr, slot, 0);
                    let src = b.ins().select(bcast, p, slot_addr);
                    let x = b.ins().load(scalar_type(dtype), mem(), src, 0);
                    let v = b.ins().splat(vector_type(dtype), x);
                    for c in 0..bytes / 16 {
                        b.ins().store(mem(), v, slot_addr, (c * 16) as i32);
                    }
                    b.ins().select(bcast, slot_addr, p)
                }
            };
            addrs[k] = Some(InputAddr { dtype, base, mask, ptr: p, step });
        }
        // Each output's base address and dtype.
        let outs: Vec<(Value, DType)> = self
            .p
            .outputs()
            .iter()
            .enumerate()
            .map(|(k, &v)| {
                (b.ins().load(ptr, mem(), outs_pp, (k * ptr.bytes() as usize) as i32), self.p.dtype_of(v))
            })
            .collect();

        if let Some(w) = width {
            let step = (UNROLL * w) as i64;
            let vloop = b.create_block();
            b.append_block_param(vloop, ptr);
            let n = b.ins().isub(end, begin);
            let minus_step = b.ins().iconst(ptr, -step);
            let nv = b.ins().band(n, minus_step);
            let vend = b.ins().iadd(begin, nv);
            // Another stride: the scalar loop does every element.
            let vend = b.ins().select(unit_strides, vend, begin);
            let go = b.ins().icmp(IntCC::UnsignedLessThan, begin, vend);
            b.ins().brif(go, vloop, &[BlockArg::Value(begin)], tail_hdr, &[BlockArg::Value(begin)]);

            b.switch_to_block(vloop);
            let i = b.block_params(vloop)[0];
            for u in 0..UNROLL {
                let first = u * w;
                let inputs = self.load_inputs(b, &addrs, i, first, Some(w));
                let results = self.emit_body(b, inputs, Some(w));
                for (r, &(out_p, d)) in results.iter().zip(&outs) {
                    self.store(b, out_p, d, i, first, &r.chunks);
                }
            }
            let i2 = b.ins().iadd_imm_s(i, step);
            let more = b.ins().icmp(IntCC::UnsignedLessThan, i2, vend);
            b.ins().brif(more, vloop, &[BlockArg::Value(i2)], tail_hdr, &[BlockArg::Value(i2)]);
        } else {
            b.ins().jump(tail_hdr, &[BlockArg::Value(begin)]);
        }

        b.switch_to_block(tail_hdr);
        let i = b.block_params(tail_hdr)[0];
        let more = b.ins().icmp(IntCC::UnsignedLessThan, i, end);
        b.ins().brif(more, tail_body, &[], exit, &[]);

        b.switch_to_block(tail_body);
        let inputs = self.load_inputs(b, &addrs, i, 0, None);
        let results = self.emit_body(b, inputs, None);
        for (r, &(out_p, d)) in results.iter().zip(&outs) {
            self.store(b, out_p, d, i, 0, &r.chunks);
        }
        let i1 = b.ins().iadd_imm_s(i, 1);
        b.ins().jump(tail_hdr, &[BlockArg::Value(i1)]);

        b.switch_to_block(exit);
        b.ins().return_(&[]);
    }

    /// Byte offset of element `i` for elements of `size` bytes.
    fn byte_offset(&self, b: &mut FunctionBuilder<'_>, i: Value, size: usize) -> Value {
        b.ins().ishl_imm_u(i, size.trailing_zeros() as i64)
    }

    /// Loads the live inputs of the group starting at element `i + first` (vectors, every
    /// stride 0 or 1), or of element `i` alone (`width == None`, any stride).
    fn load_inputs(
        &self,
        b: &mut FunctionBuilder<'_>,
        addrs: &[Option<InputAddr>],
        i: Value,
        first: usize,
        width: Option<usize>,
    ) -> Vec<Option<Repr>> {
        addrs
            .iter()
            .map(|a| {
                let a = (*a)?;
                let size = a.dtype.size();
                let chunks = match width {
                    None => {
                        let off = b.ins().imul(i, a.step);
                        let addr = b.ins().iadd(a.ptr, off);
                        vec![b.ins().load(scalar_type(a.dtype), mem(), addr, (first * size) as i32)]
                    }
                    Some(w) => {
                        let off = self.byte_offset(b, i, size);
                        let off = b.ins().band(off, a.mask);
                        let addr = b.ins().iadd(a.base, off);
                        (0..w / lanes(a.dtype))
                            .map(|c| {
                                let o = ((first + c * lanes(a.dtype)) * size) as i32;
                                b.ins().load(vector_type(a.dtype), mem(), addr, o)
                            })
                            .collect()
                    }
                };
                Some(Repr { dtype: a.dtype, chunks })
            })
            .collect()
    }

    fn store(
        &self,
        b: &mut FunctionBuilder<'_>,
        out_p: Value,
        d: DType,
        i: Value,
        first: usize,
        chunks: &[Value],
    ) {
        let size = d.size();
        let off = self.byte_offset(b, i, size);
        let addr = b.ins().iadd(out_p, off);
        for (c, &v) in chunks.iter().enumerate() {
            let o = ((first + c * lanes(d)) * size) as i32;
            b.ins().store(mem(), v, addr, o);
        }
    }

    /// Emits the live program on one element group (`width` elements, or one when `None`)
    /// and returns every output, in its dtype.
    fn emit_body(
        &self,
        b: &mut FunctionBuilder<'_>,
        inputs: Vec<Option<Repr>>,
        width: Option<usize>,
    ) -> Vec<Repr> {
        let n_in = self.p.inputs.len();
        let mut vals: Vec<Option<Repr>> = inputs;
        let mut e = Emit { b, width };
        for (k, node) in self.p.nodes.iter().enumerate() {
            let v = n_in + k;
            let repr = match node {
                ScalarNode::Apply { op, args, dtype } if self.plan.live[v] => {
                    let cd = self.plan.compute[k];
                    Some(self.emit_op(&mut e, &vals, *op, args, cd, *dtype))
                }
                _ => None,
            };
            vals.push(repr);
        }
        self.p.outputs().iter().map(|&v| self.arg(&mut e, &vals, v, self.p.dtype_of(v))).collect()
    }

    /// Value `v` converted to `d`.
    fn arg(&self, e: &mut Emit<'_, '_>, vals: &[Option<Repr>], v: ScalarValue, d: DType) -> Repr {
        if let Some(&ScalarNode::Const { dtype, bits }) = self.p.node_of(v) {
            let x = const_value(dtype, bits, d);
            let c = e.fconst(d, x);
            return Repr { dtype: d, chunks: c };
        }
        let r = vals[v.index()].as_ref().expect("live values are computed before use");
        e.convert(r, d)
    }

    fn emit_op(
        &self,
        e: &mut Emit<'_, '_>,
        vals: &[Option<Repr>],
        op: ScalarOp,
        args: &[ScalarValue],
        cd: DType,
        out: DType,
    ) -> Repr {
        use ScalarOp::*;
        if let Cast(d) = op {
            return self.arg(e, vals, args[0], d);
        }
        let a: Vec<Repr> = args.iter().map(|&x| self.arg(e, vals, x, cd)).collect();
        let n = a[0].chunks.len();
        let chunks: Vec<Value> = (0..n)
            .map(|c| {
                let x: Vec<Value> = a.iter().map(|r| r.chunks[c]).collect();
                let call =
                    lowering(op) == Some(Lowering::Call) || (self.plan.call_vmath && op.math_fn().is_some());
                match op.math_fn() {
                    _ if call => {
                        let f = self.callees[&(op, cd)];
                        let call = e.b.ins().call(f, &x);
                        e.b.inst_results(call)[0]
                    }
                    Some(f) => {
                        let fallback = self.callees.get(&(op, DType::F64)).copied();
                        let ty = e.ty(cd);
                        crate::vmath::emit(e.b, f, ty, self.fma, fallback, x[0])
                    }
                    _ => e.inline(op, cd, &x),
                }
            })
            .collect();
        debug_assert_eq!(cd, out, "{} computes in its result dtype", op.name());
        Repr { dtype: out, chunks }
    }
}

fn vector_type(d: DType) -> Type {
    if d == DType::F32 {
        types::F32X4
    } else {
        types::F64X2
    }
}

/// Emits the CLIF of single ops on one group, in scalar (`width == None`) or vector types.
struct Emit<'a, 'f> {
    b: &'a mut FunctionBuilder<'f>,
    width: Option<usize>,
}

impl Emit<'_, '_> {
    fn ty(&self, d: DType) -> Type {
        match self.width {
            None => scalar_type(d),
            Some(_) => vector_type(d),
        }
    }

    fn n_chunks(&self, d: DType) -> usize {
        self.width.map_or(1, |w| w / lanes(d))
    }

    /// The constant `x` (exact in `d`) in every chunk of a value of `d`.
    fn fconst(&mut self, d: DType, x: f64) -> Vec<Value> {
        let c = self.one_const(d, x);
        vec![c; self.n_chunks(d)]
    }

    fn one_const(&mut self, d: DType, x: f64) -> Value {
        let s = if d == DType::F32 {
            self.b.ins().f32const(Ieee32::with_bits((x as f32).to_bits()))
        } else {
            self.b.ins().f64const(Ieee64::with_bits(x.to_bits()))
        };
        match self.width {
            None => s,
            Some(_) => self.b.ins().splat(vector_type(d), s),
        }
    }

    /// Converts `r` to `d` as Rust's `as` does (promotion is exact; demotion rounds to
    /// nearest even).
    fn convert(&mut self, r: &Repr, d: DType) -> Repr {
        if r.dtype == d {
            return r.clone();
        }
        let le = MemFlagsData::new().with_endianness(Endianness::Little);
        let chunks = match (self.width, d) {
            (None, DType::F64) => vec![self.b.ins().fpromote(types::F64, r.chunks[0])],
            (None, _) => vec![self.b.ins().fdemote(types::F32, r.chunks[0])],
            (Some(_), DType::F64) => {
                // Each f32x4 becomes two f64x2: its low lanes, then its high lanes moved down.
                let mut out = Vec::new();
                let high: Vec<u8> = (8..16).chain(8..16).collect();
                let high = self.b.func.dfg.immediates.push(ConstantData::from(high));
                for &v in &r.chunks {
                    out.push(self.b.ins().fvpromote_low(v));
                    let bytes = self.b.ins().bitcast(types::I8X16, le, v);
                    let moved = self.b.ins().shuffle(bytes, bytes, high);
                    let hv = self.b.ins().bitcast(types::F32X4, le, moved);
                    out.push(self.b.ins().fvpromote_low(hv));
                }
                out
            }
            (Some(_), _) => {
                // Two f64x2 demote to the low halves of two f32x4, joined into one.
                let mut out = Vec::new();
                let join: Vec<u8> = (0..8).chain(16..24).collect();
                let join = self.b.func.dfg.immediates.push(ConstantData::from(join));
                for pair in r.chunks.chunks(2) {
                    let lo = self.b.ins().fvdemote(pair[0]);
                    let hi = self.b.ins().fvdemote(pair[1]);
                    let lo = self.b.ins().bitcast(types::I8X16, le, lo);
                    let hi = self.b.ins().bitcast(types::I8X16, le, hi);
                    let j = self.b.ins().shuffle(lo, hi, join);
                    out.push(self.b.ins().bitcast(types::F32X4, le, j));
                }
                out
            }
        };
        Repr { dtype: d, chunks }
    }

    /// `mask ? x : y` per lane; `mask` comes from `fcmp` (an `i8` for scalars, an integer
    /// vector of all-ones/all-zeros lanes for vectors).
    fn select(&mut self, d: DType, mask: Value, x: Value, y: Value) -> Value {
        match self.width {
            None => self.b.ins().select(mask, x, y),
            Some(_) => {
                let m = self.b.ins().bitcast(vector_type(d), MemFlagsData::new(), mask);
                self.b.ins().bitselect(m, x, y)
            }
        }
    }

    /// NaN-propagating maximum (`greater == true`) or minimum: the first operand if it is
    /// NaN or wins or ties, else the second.
    fn extremum(&mut self, d: DType, a: Value, b: Value, greater: bool) -> Value {
        // Take `b` when `b` is strictly better or `b` is NaN, and `a` is not NaN.
        let cc = if greater { FloatCC::UnorderedOrLessThan } else { FloatCC::UnorderedOrGreaterThan };
        let better = self.b.ins().fcmp(cc, a, b);
        let a_ord = self.b.ins().fcmp(FloatCC::Ordered, a, a);
        let take_b = self.b.ins().band(better, a_ord);
        self.select(d, take_b, b, a)
    }

    fn inline(&mut self, op: ScalarOp, d: DType, x: &[Value]) -> Value {
        use ScalarOp::*;
        let ty = self.ty(d);
        match op {
            Add => x[1..].iter().fold(x[0], |acc, &y| self.b.ins().fadd(acc, y)),
            Mul => x[1..].iter().fold(x[0], |acc, &y| self.b.ins().fmul(acc, y)),
            Sub => self.b.ins().fsub(x[0], x[1]),
            Div => self.b.ins().fdiv(x[0], x[1]),
            Neg => self.b.ins().fneg(x[0]),
            Abs => self.b.ins().fabs(x[0]),
            Sqr => self.b.ins().fmul(x[0], x[0]),
            Sqrt => self.b.ins().sqrt(x[0]),
            Reciprocal => {
                let one = self.one_const(d, 1.0);
                self.b.ins().fdiv(one, x[0])
            }
            Maximum => self.extremum(d, x[0], x[1], true),
            Minimum => self.extremum(d, x[0], x[1], false),
            Clip => {
                let lo = self.extremum(d, x[0], x[1], true);
                self.extremum(d, lo, x[2], false)
            }
            Floor => self.b.ins().floor(x[0]),
            Ceil => self.b.ins().ceil(x[0]),
            Trunc => self.b.ins().trunc(x[0]),
            Round => self.b.ins().nearest(x[0]),
            Second => x[1],
            Sign => {
                // ±1 with the sign of x when 0 < |x|; otherwise (±0, NaN) x + x, which is x
                // for zeros and x quieted for NaN, as the reference's `x * 0 + x`.
                let zero = self.one_const(d, 0.0);
                let one = self.one_const(d, 1.0);
                let abs = self.b.ins().fabs(x[0]);
                let nonzero = self.b.ins().fcmp(FloatCC::LessThan, zero, abs);
                let signed_one = match self.width {
                    None => self.b.ins().fcopysign(one, x[0]),
                    Some(_) => {
                        // Vector fcopysign has no x64 lowering: take the sign bit by mask.
                        let sign_bit = self.one_const(d, -0.0);
                        self.b.ins().bitselect(sign_bit, x[0], one)
                    }
                };
                let doubled = self.b.ins().fadd(x[0], x[0]);
                self.select(d, nonzero, signed_one, doubled)
            }
            _ => unreachable!("{} has no inline lowering ({ty})", op.name()),
        }
    }
}
