//! Linear memory: loads, stores, size/grow and the bulk-memory operations (fill and copy
//! checked inline around a bare libcall; init, drop and copies between memories as libcalls).

use super::{FuncTranslator, misrouted};
use crate::trap::Result;
use crate::vm::builtins as bi;
use crate::vm::memory::WASM_PAGE;
use crate::vm::vmctx::VMMemoryDef;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{InstBuilder, MemFlagsData, TrapCode, Type, Value, types};

fn mem_index(ma: &wasmparser::MemArg) -> u32 {
    match ma.target {
        wasmparser::MemArgTarget::Memory(m) => m,
        wasmparser::MemArgTarget::Array(_) => 0,
    }
}

// Bounds checks. A 32-bit memory reserves 4 GiB plus a guard (see `vm::memory`): any i32
// index plus a static offset below the guard size lands inside the reservation, so with guard
// pages such an access needs no check and an out-of-bounds one faults on a PROT_NONE page. A
// static offset reaching past the guard, a reservation below 4 GiB, or
// `BoundsChecks::Explicit` fall back to the explicit check `index + offset + size > length`,
// computed in 64 bits where i32 operands cannot overflow.
//
// A memory64 index spans 2^64 bytes, which no reservation covers, so every memory64 access
// is checked explicitly: `index + (offset + size)` with a trapping unsigned add (an effective
// address past 2^64 traps instead of wrapping to a small one), then compared against the
// length. `offset + size` itself is folded at compile time and saturates: an offset within
// `size` bytes of 2^64 can never be in bounds (lengths stay below 2^48 + a page), so the
// saturated constant makes every such access trap.
impl FuncTranslator<'_, '_> {
    fn memory64(&self, mem: u32) -> bool {
        self.env.info.memories[mem as usize].memory64
    }

    /// Pop the index operand and compute the native address of an access of `size` bytes at
    /// static `offset`. Returns the address and the remaining static offset to fold into the
    /// instruction.
    fn mem_addr(&mut self, mem: u32, offset: u64, size: u32) -> (Value, i32) {
        let index = self.pop();
        if self.never_in_bounds(mem, offset, size) {
            return self.trap_always();
        }
        if self.memory64(mem) {
            let (base, len) = self.base_and_len(mem);
            let end = offset.saturating_add(u64::from(size));
            let end = self.b.ins().iconst(types::I64, end as i64);
            let last = self
                .b
                .ins()
                .uadd_overflow_trap(index, end, TrapCode::HEAP_OUT_OF_BOUNDS);
            let oob = self.b.ins().icmp(IntCC::UnsignedGreaterThan, last, len);
            self.b.ins().trapnz(oob, TrapCode::HEAP_OUT_OF_BOUNDS);
            // In bounds: index + offset < length, so neither add below wraps.
            let addr = self.b.ins().iadd(base, index);
            return self.fold_offset(addr, offset);
        }
        let idx = self.b.ins().uextend(types::I64, index);
        let end = offset + u64::from(size);
        let guarded = self.env.guard_pages && end <= self.env.guard_size;
        let base = if guarded {
            // Unchecked: the base alone, from its copy in the context (`memory_base`), one
            // load instead of two dependent ones (context -> `VMMemoryDef` -> base).
            self.load_readonly(types::I64, self.vmctx, self.env.offsets.memory_base(mem))
        } else {
            let (base, len) = self.base_and_len(mem);
            // idx < 2^32 and end < 2^33: no overflow in 64 bits.
            let last = self.b.ins().iadd_imm_s(idx, end as i64);
            let oob = self.b.ins().icmp(IntCC::UnsignedGreaterThan, last, len);
            self.b.ins().trapnz(oob, TrapCode::HEAP_OUT_OF_BOUNDS);
            base
        };
        let addr = self.b.ins().iadd(base, idx);
        self.fold_offset(addr, offset)
    }

    /// Whether an access of `size` bytes at static `offset` ends past the memory's maximum
    /// size, so that it traps whatever the index (the effective address is at least
    /// `offset`). An imported memory's declared maximum bounds the one it is linked to.
    ///
    /// wasm-smith draws such accesses often (memories of at most 0 or 1 page, offsets in the
    /// millions) and whatever follows one in its block can never run. Compiling it anyway
    /// made some campaign modules 3-8x slower to compile than on Wasmtime, which stops
    /// translating at the access in the same way.
    fn never_in_bounds(&self, mem: u32, offset: u64, size: u32) -> bool {
        let Some(max_pages) = self.env.info.memories[mem as usize].maximum else {
            return false;
        };
        let max_bytes = u128::from(max_pages) * u128::from(WASM_PAGE);
        u128::from(offset) + u128::from(size) > max_bytes
    }

    /// Emit the trap of an access that can never be in bounds, and move the builder to a
    /// dead block for the rest of the operator (its load or store, a result to push), which
    /// `translate` then closes: the code after it in this block is not translated.
    fn trap_always(&mut self) -> (Value, i32) {
        self.b.ins().trap(TrapCode::HEAP_OUT_OF_BOUNDS);
        let dead = self.b.create_block();
        self.b.switch_to_block(dead);
        self.b.seal_block(dead);
        self.trapped_always = true;
        (self.b.ins().iconst(types::I64, 0), 0)
    }

    /// The base and the current length of a memory whose accesses are checked explicitly. Both
    /// come through the `VMMemoryDef`, which the length needs anyway: the base never moves, so
    /// it is loaded as readonly; the length changes with `memory.grow`, so it is not.
    fn base_and_len(&mut self, mem: u32) -> (Value, Value) {
        let def = self.load_readonly(types::I64, self.vmctx, self.env.offsets.memory(mem));
        let base = self.load_readonly(types::I64, def, VMMemoryDef::BASE);
        let len = self.load_trusted(types::I64, def, VMMemoryDef::LEN);
        (base, len)
    }

    /// The native address of the `len` bytes at `at` in a memory of base `base` and length
    /// `size`, trapping unless all of them are in bounds. A memory64 range that wraps past
    /// 2^64 traps too; 32-bit operands, zero-extended, cannot wrap.
    fn checked_range(&mut self, base: Value, size: Value, at: Value, len: Value) -> Value {
        let oob = TrapCode::HEAP_OUT_OF_BOUNDS;
        let end = self.b.ins().uadd_overflow_trap(at, len, oob);
        let past = self.b.ins().icmp(IntCC::UnsignedGreaterThan, end, size);
        self.b.ins().trapnz(past, oob);
        self.b.ins().iadd(base, at)
    }

    /// Split a checked static offset into what fits the instruction's 32-bit immediate.
    fn fold_offset(&mut self, addr: Value, offset: u64) -> (Value, i32) {
        if offset <= i32::MAX as u64 {
            (addr, offset as i32)
        } else {
            (self.b.ins().iadd_imm_s(addr, offset as i64), 0)
        }
    }

    /// An address, length or delta operand as i64 (i32 operands of 32-bit memories and tables
    /// are zero-extended for the libcalls).
    pub(super) fn widen_operand(&mut self, v: Value) -> Value {
        if self.b.func.dfg.value_type(v) == types::I32 {
            self.b.ins().uextend(types::I64, v)
        } else {
            v
        }
    }

    /// A u64 libcall result (an old size, or -1) as the index type of a 64-bit (`is64`) or
    /// 32-bit memory or table.
    pub(super) fn index_result(&mut self, v: Value, is64: bool) -> Value {
        if is64 {
            v
        } else {
            self.b.ins().ireduce(types::I32, v)
        }
    }

    fn heap_flags(&self) -> MemFlagsData {
        MemFlagsData::new()
            .with_endianness(cranelift_codegen::ir::Endianness::Little)
            .with_trap_code(Some(TrapCode::HEAP_OUT_OF_BOUNDS))
    }

    pub(super) fn load(
        &mut self,
        ma: &wasmparser::MemArg,
        size: u32,
        f: impl FnOnce(&mut Self, MemFlagsData, Value, i32) -> Value,
    ) {
        let (addr, off) = self.mem_addr(mem_index(ma), ma.offset, size);
        let flags = self.heap_flags();
        let v = f(self, flags, addr, off);
        self.push(v);
    }

    pub(super) fn store(&mut self, ma: &wasmparser::MemArg, size: u32, narrow: Option<Type>) {
        let val = self.pop();
        let (addr, off) = self.mem_addr(mem_index(ma), ma.offset, size);
        let flags = self.heap_flags();
        match narrow {
            None => {
                self.b.ins().store(flags, val, addr, off);
            }
            Some(types::I8) => {
                self.b.ins().istore8(flags, val, addr, off);
            }
            Some(types::I16) => {
                self.b.ins().istore16(flags, val, addr, off);
            }
            Some(_) => {
                self.b.ins().istore32(flags, val, addr, off);
            }
        }
    }

    pub(super) fn translate_memory(&mut self, op: &wasmparser::Operator<'_>) -> Result<()> {
        use types::{F32, F64, I8, I16, I32, I64};
        use wasmparser::Operator as O;
        match *op {
            O::I32Load { ref memarg } => {
                self.load(memarg, 4, |s, f, a, o| s.b.ins().load(I32, f, a, o))
            }
            O::I64Load { ref memarg } => {
                self.load(memarg, 8, |s, f, a, o| s.b.ins().load(I64, f, a, o))
            }
            O::F32Load { ref memarg } => {
                self.load(memarg, 4, |s, f, a, o| s.b.ins().load(F32, f, a, o))
            }
            O::F64Load { ref memarg } => {
                self.load(memarg, 8, |s, f, a, o| s.b.ins().load(F64, f, a, o))
            }
            O::I32Load8S { ref memarg } => {
                self.load(memarg, 1, |s, f, a, o| s.b.ins().sload8(I32, f, a, o))
            }
            O::I32Load8U { ref memarg } => {
                self.load(memarg, 1, |s, f, a, o| s.b.ins().uload8(I32, f, a, o))
            }
            O::I32Load16S { ref memarg } => {
                self.load(memarg, 2, |s, f, a, o| s.b.ins().sload16(I32, f, a, o))
            }
            O::I32Load16U { ref memarg } => {
                self.load(memarg, 2, |s, f, a, o| s.b.ins().uload16(I32, f, a, o))
            }
            O::I64Load8S { ref memarg } => {
                self.load(memarg, 1, |s, f, a, o| s.b.ins().sload8(I64, f, a, o))
            }
            O::I64Load8U { ref memarg } => {
                self.load(memarg, 1, |s, f, a, o| s.b.ins().uload8(I64, f, a, o))
            }
            O::I64Load16S { ref memarg } => {
                self.load(memarg, 2, |s, f, a, o| s.b.ins().sload16(I64, f, a, o))
            }
            O::I64Load16U { ref memarg } => {
                self.load(memarg, 2, |s, f, a, o| s.b.ins().uload16(I64, f, a, o))
            }
            O::I64Load32S { ref memarg } => {
                self.load(memarg, 4, |s, f, a, o| s.b.ins().sload32(f, a, o))
            }
            O::I64Load32U { ref memarg } => {
                self.load(memarg, 4, |s, f, a, o| s.b.ins().uload32(f, a, o))
            }
            O::I32Store { ref memarg } | O::F32Store { ref memarg } => self.store(memarg, 4, None),
            O::I64Store { ref memarg } | O::F64Store { ref memarg } => self.store(memarg, 8, None),
            O::I32Store8 { ref memarg } | O::I64Store8 { ref memarg } => {
                self.store(memarg, 1, Some(I8))
            }
            O::I32Store16 { ref memarg } | O::I64Store16 { ref memarg } => {
                self.store(memarg, 2, Some(I16))
            }
            O::I64Store32 { ref memarg } => self.store(memarg, 4, Some(I32)),
            O::MemorySize { mem } => {
                let def = self.load_readonly(I64, self.vmctx, self.env.offsets.memory(mem));
                let len = self.load_trusted(I64, def, VMMemoryDef::LEN);
                let pages = self.b.ins().ushr_imm_u(len, 16);
                let v = self.index_result(pages, self.memory64(mem));
                self.push(v);
            }
            O::MemoryGrow { mem } => {
                let delta = self.pop();
                let delta = self.widen_operand(delta);
                let m = self.b.ins().iconst(I32, i64::from(mem));
                let old = self.call_builtin(bi::MEMORY_GROW, &[m, delta], I64);
                let v = self.index_result(old, self.memory64(mem));
                self.push(v);
            }
            // `memory.fill`, and `memory.copy` within one memory (the common case): the ranges
            // are checked here and only the fill or copy itself is a call (see
            // `vm::builtins::memmove`).
            O::MemoryFill { mem } => {
                let (dst, val, len) = self.pop3();
                let (dst, len) = (self.widen_operand(dst), self.widen_operand(len));
                let (base, size) = self.base_and_len(mem);
                let d = self.checked_range(base, size, dst, len);
                self.call_builtin(bi::MEMORY_FILL, &[d, val, len], types::I32);
            }
            O::MemoryCopy { dst_mem, src_mem } => {
                let (dst, src, len) = self.pop3();
                let (dst, src, len) = (
                    self.widen_operand(dst),
                    self.widen_operand(src),
                    self.widen_operand(len),
                );
                if dst_mem == src_mem {
                    let (base, size) = self.base_and_len(dst_mem);
                    let d = self.checked_range(base, size, dst, len);
                    let s = self.checked_range(base, size, src, len);
                    self.call_builtin(bi::MEMMOVE, &[d, s, len], types::I32);
                } else {
                    let dm = self.b.ins().iconst(I32, i64::from(dst_mem));
                    let sm = self.b.ins().iconst(I32, i64::from(src_mem));
                    let args = [dm, sm, dst, src, len];
                    self.call_builtin_checked(bi::MEMORY_COPY, &args, TrapCode::HEAP_OUT_OF_BOUNDS);
                }
            }
            O::MemoryInit { data_index, mem } => {
                let (dst, src, len) = self.pop3();
                let dst = self.widen_operand(dst);
                let m = self.b.ins().iconst(I32, i64::from(mem));
                let seg = self.b.ins().iconst(I32, i64::from(data_index));
                let args = [m, seg, dst, src, len];
                self.call_builtin_checked(bi::MEMORY_INIT, &args, TrapCode::HEAP_OUT_OF_BOUNDS);
            }
            O::DataDrop { data_index } => {
                let seg = self.b.ins().iconst(I32, i64::from(data_index));
                self.call_builtin(bi::DATA_DROP, &[seg], I32);
            }
            _ => return Err(misrouted(op)),
        }
        Ok(())
    }
}
