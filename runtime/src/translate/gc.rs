//! Wasm GC: `i31`, `ref.eq`, structs, arrays, casts and `br_on_cast*`, and the extern/any
//! conversions (the identity: see `vm/gc.rs` for the representation and object layout).
//!
//! Field and element accesses are inline loads and stores after a null check (and for arrays
//! a bounds check against the length in the header). Allocation is a libcall into the store's
//! heap, which may collect; bulk operations (`array.fill`, `array.copy`, `array.init_*`) are
//! libcalls. A cast to a concrete type compares the object's canonical type id with the
//! target's: equal ids are the fast path, and only when the target is not final does a
//! mismatch ask the registry whether the object's type is a declared subtype.

use super::{FuncTranslator, codes, misrouted};
use crate::gctypes::{ARRAY_DATA, ARRAY_LEN, Composite, KIND_ARRAY, KIND_STRUCT, Storage};
use crate::trap::Result;
use crate::types::ValType;
use crate::vm::builtins as bi;
use crate::vm::vmctx::VMFuncRef;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{Block, BlockArg, InstBuilder, MemFlagsData, Value, types};

impl FuncTranslator<'_, '_> {
    pub(super) fn translate_gc(&mut self, op: &wasmparser::Operator<'_>) -> Result<()> {
        use types::{I32, I64};
        use wasmparser::Operator as O;
        match *op {
            O::RefI31 => {
                let v = self.pop();
                let s = self.b.ins().ishl_imm_u(v, 1);
                let s = self.b.ins().bor_imm_u(s, 1);
                let r = self.b.ins().uextend(I64, s);
                self.push_non_null(r);
            }
            O::I31GetS | O::I31GetU => {
                let r = self.pop();
                self.null_check(r, codes::NULL_I31);
                let x = self.b.ins().ireduce(I32, r);
                let v = if matches!(op, O::I31GetS) {
                    self.b.ins().sshr_imm_u(x, 1)
                } else {
                    self.b.ins().ushr_imm_u(x, 1)
                };
                self.push(v);
            }
            O::RefEq => {
                let (a, b) = self.pop2();
                let c = self.b.ins().icmp(IntCC::Equal, a, b);
                let v = self.bool_to_i32(c);
                self.push(v);
            }
            O::AnyConvertExtern | O::ExternConvertAny => {
                // The identity; non-null stays non-null.
            }
            O::StructNew { struct_type_index } => {
                let ti = self.env.info.type_infos[struct_type_index as usize].clone();
                let fields = ti.struct_fields().unwrap_or(&[]).to_vec();
                let vals = self.popn(fields.len());
                let obj = self.gc_alloc(ti.id, None, None);
                for ((f, &off), v) in fields.iter().zip(&ti.field_offsets).zip(vals) {
                    self.store_field(f.storage, v, obj, off as i32);
                }
                self.push_non_null(obj);
            }
            O::StructNewDefault { struct_type_index } => {
                let id = self.env.info.type_ids[struct_type_index as usize];
                let obj = self.gc_alloc(id, None, None);
                self.push_non_null(obj);
            }
            O::StructGet {
                struct_type_index,
                field_index,
            }
            | O::StructGetS {
                struct_type_index,
                field_index,
            }
            | O::StructGetU {
                struct_type_index,
                field_index,
            } => {
                let ti = self.env.info.type_infos[struct_type_index as usize].clone();
                let f = ti.struct_fields().expect("validated: a struct type")[field_index as usize];
                let off = ti.field_offsets[field_index as usize] as i32;
                let obj = self.pop();
                self.null_check(obj, codes::NULL_STRUCT);
                let v = self.load_field(f.storage, obj, off, matches!(op, O::StructGetS { .. }));
                self.push_typed(v, f.storage);
            }
            O::StructSet {
                struct_type_index,
                field_index,
            } => {
                let ti = self.env.info.type_infos[struct_type_index as usize].clone();
                let f = ti.struct_fields().expect("validated: a struct type")[field_index as usize];
                let off = ti.field_offsets[field_index as usize] as i32;
                let (obj, v) = self.pop2();
                self.null_check(obj, codes::NULL_STRUCT);
                self.store_field(f.storage, v, obj, off);
            }
            O::ArrayNew { array_type_index } => {
                let (init, len) = self.pop2();
                let (id, storage) = self.array_type(array_type_index);
                let arr = self.gc_alloc(id, Some(len), None);
                let zero = self.b.ins().iconst(I32, 0);
                self.fill(arr, zero, init, len, storage);
                self.push_non_null(arr);
            }
            O::ArrayNewDefault { array_type_index } => {
                let len = self.pop();
                let (id, _) = self.array_type(array_type_index);
                let arr = self.gc_alloc(id, Some(len), None);
                self.push_non_null(arr);
            }
            O::ArrayNewFixed {
                array_type_index,
                array_size,
            } => {
                let (id, storage) = self.array_type(array_type_index);
                let vals = self.popn(array_size as usize);
                let len = self.b.ins().iconst(I32, i64::from(array_size));
                let arr = self.gc_alloc(id, Some(len), None);
                let es = storage.size() as i32;
                for (i, v) in vals.into_iter().enumerate() {
                    self.store_field(storage, v, arr, ARRAY_DATA as i32 + i as i32 * es);
                }
                self.push_non_null(arr);
            }
            O::ArrayNewData {
                array_type_index,
                array_data_index,
            } => {
                let (off, len) = self.pop2();
                let (id, _) = self.array_type(array_type_index);
                let arr = self.gc_alloc(id, Some(len), Some((1, array_data_index, off)));
                self.push_non_null(arr);
            }
            O::ArrayNewElem {
                array_type_index,
                array_elem_index,
            } => {
                let (off, len) = self.pop2();
                let (id, _) = self.array_type(array_type_index);
                let arr = self.gc_alloc(id, Some(len), Some((2, array_elem_index, off)));
                self.push_non_null(arr);
            }
            O::ArrayGet { array_type_index }
            | O::ArrayGetS { array_type_index }
            | O::ArrayGetU { array_type_index } => {
                let (_, storage) = self.array_type(array_type_index);
                let (arr, idx) = self.pop2();
                let addr = self.elem_addr(arr, idx, storage);
                let v = self.load_field(
                    storage,
                    addr,
                    ARRAY_DATA as i32,
                    matches!(op, O::ArrayGetS { .. }),
                );
                self.push_typed(v, storage);
            }
            O::ArraySet { array_type_index } => {
                let (_, storage) = self.array_type(array_type_index);
                let (arr, idx, v) = self.pop3();
                let addr = self.elem_addr(arr, idx, storage);
                self.store_field(storage, v, addr, ARRAY_DATA as i32);
            }
            O::ArrayLen => {
                let arr = self.pop();
                self.null_check(arr, codes::NULL_ARRAY);
                let len = self.load_trusted(I32, arr, ARRAY_LEN);
                self.push(len);
            }
            O::ArrayFill { array_type_index } => {
                let (_, storage) = self.array_type(array_type_index);
                let n = self.pop();
                let (arr, off, v) = self.pop3();
                self.null_check(arr, codes::NULL_ARRAY);
                self.fill(arr, off, v, n, storage);
            }
            O::ArrayCopy { .. } => {
                let (si, n) = self.pop2();
                let (dst, di, src) = self.pop3();
                self.null_check(dst, codes::NULL_ARRAY);
                self.null_check(src, codes::NULL_ARRAY);
                self.call_builtin_checked(bi::ARRAY_COPY, &[dst, di, src, si, n], codes::HOST);
            }
            O::ArrayInitData {
                array_data_index: seg,
                ..
            }
            | O::ArrayInitElem {
                array_elem_index: seg,
                ..
            } => {
                let (s, n) = self.pop2();
                let (arr, d) = self.pop2();
                self.null_check(arr, codes::NULL_ARRAY);
                let seg = self.b.ins().iconst(I32, i64::from(seg));
                let which = if matches!(op, O::ArrayInitData { .. }) {
                    bi::ARRAY_INIT_DATA
                } else {
                    bi::ARRAY_INIT_ELEM
                };
                self.call_builtin_checked(which, &[arr, seg, d, s, n], codes::HOST);
            }
            O::RefTestNonNull { hty } | O::RefTestNullable { hty } => {
                let v = self.pop();
                let nullable = matches!(op, O::RefTestNullable { .. });
                let r = self.ref_test(v, nullable, hty);
                self.push(r);
            }
            O::RefCastNonNull { hty } | O::RefCastNullable { hty } => {
                let v = self.pop();
                let nullable = matches!(op, O::RefCastNullable { .. });
                let r = self.ref_test(v, nullable, hty);
                self.b.ins().trapz(r, codes::CAST);
                if nullable {
                    self.push(v);
                } else {
                    self.push_non_null(v);
                }
            }
            O::BrOnCast {
                relative_depth,
                to_ref_type,
                ..
            }
            | O::BrOnCastFail {
                relative_depth,
                to_ref_type,
                ..
            } => {
                let v = self.pop();
                let r = self.ref_test(v, to_ref_type.is_nullable(), to_ref_type.heap_type());
                let (target, arity) = self.branch_target(relative_depth);
                let mut args = self.peekn(arity - 1).to_vec();
                args.push(v);
                let args: Vec<BlockArg> = args.into_iter().map(BlockArg::Value).collect();
                let next = self.b.create_block();
                if matches!(op, O::BrOnCast { .. }) {
                    self.b.ins().brif(r, target, &args, next, &[]);
                } else {
                    self.b.ins().brif(r, next, &[], target, &args);
                }
                self.b.seal_block(next);
                self.b.switch_to_block(next);
                self.push(v);
            }
            _ => return Err(misrouted(op)),
        }
        Ok(())
    }

    fn null_check(&mut self, r: Value, code: cranelift_codegen::ir::TrapCode) {
        if !self.non_null.contains(&r) {
            self.b.ins().trapz(r, code);
        }
    }

    /// Push a field's value; a non-null reference field yields a non-null value.
    fn push_typed(&mut self, v: Value, s: Storage) {
        match s {
            Storage::Val(t) if t.is_non_null_ref() => self.push_non_null(v),
            _ => self.push(v),
        }
    }

    fn array_type(&self, index: u32) -> (u32, Storage) {
        let ti = &self.env.info.type_infos[index as usize];
        (
            ti.id,
            ti.array_elem().expect("validated: an array type").storage,
        )
    }

    /// Allocate an object of canonical type `id` (an array when `len` is given, filled from a
    /// segment `(kind, index, offset)` when asked); traps when the libcall fails.
    fn gc_alloc(&mut self, id: u32, len: Option<Value>, seg: Option<(u32, u32, Value)>) -> Value {
        let i32c = |s: &mut Self, v: i64| s.b.ins().iconst(types::I32, v);
        let idv = i32c(self, i64::from(id));
        let len = len.unwrap_or_else(|| i32c(self, 0));
        let (kind, index, off) = match seg {
            Some((k, i, off)) => (i32c(self, i64::from(k)), i32c(self, i64::from(i)), off),
            None => (i32c(self, 0), i32c(self, 0), i32c(self, 0)),
        };
        let p = self.call_builtin(bi::GC_ALLOC, &[idv, len, kind, index, off], types::I64);
        self.b.ins().trapz(p, codes::HOST);
        p
    }

    fn store_field(&mut self, s: Storage, v: Value, base: Value, off: i32) {
        let flags = MemFlagsData::trusted();
        match s {
            Storage::I8 => {
                self.b.ins().istore8(flags, v, base, off);
            }
            Storage::I16 => {
                self.b.ins().istore16(flags, v, base, off);
            }
            Storage::Val(_) => {
                self.b.ins().store(flags, v, base, off);
            }
        }
    }

    fn load_field(&mut self, s: Storage, base: Value, off: i32, signed: bool) -> Value {
        let flags = MemFlagsData::trusted();
        match (s, signed) {
            (Storage::I8, true) => self.b.ins().sload8(types::I32, flags, base, off),
            (Storage::I8, false) => self.b.ins().uload8(types::I32, flags, base, off),
            (Storage::I16, true) => self.b.ins().sload16(types::I32, flags, base, off),
            (Storage::I16, false) => self.b.ins().uload16(types::I32, flags, base, off),
            (Storage::Val(t), _) => self.b.ins().load(super::clif_type(t), flags, base, off),
        }
    }

    /// Null- and bounds-check `arr[idx]`; the element is at the result + `ARRAY_DATA`.
    fn elem_addr(&mut self, arr: Value, idx: Value, s: Storage) -> Value {
        self.null_check(arr, codes::NULL_ARRAY);
        let len = self.load_trusted(types::I32, arr, ARRAY_LEN);
        let oob = self
            .b
            .ins()
            .icmp(IntCC::UnsignedGreaterThanOrEqual, idx, len);
        self.b.ins().trapnz(oob, codes::ARRAY_OOB);
        let wide = self.b.ins().uextend(types::I64, idx);
        let scaled = self.b.ins().imul_imm_u(wide, i64::from(s.size()));
        self.b.ins().iadd(arr, scaled)
    }

    /// `array.fill` through the libcall (which checks the range): the value as two 64-bit
    /// halves.
    fn fill(&mut self, arr: Value, off: Value, v: Value, n: Value, s: Storage) {
        use types::I64;
        let zero = self.b.ins().iconst(I64, 0);
        let (lo, hi) = match s {
            Storage::I8 | Storage::I16 | Storage::Val(ValType::I32) => {
                (self.b.ins().uextend(I64, v), zero)
            }
            Storage::Val(ValType::F32) => {
                let i = self.b.ins().bitcast(types::I32, MemFlagsData::new(), v);
                (self.b.ins().uextend(I64, i), zero)
            }
            Storage::Val(ValType::F64) => (self.b.ins().bitcast(I64, MemFlagsData::new(), v), zero),
            Storage::Val(ValType::V128) => {
                let flags =
                    MemFlagsData::new().with_endianness(cranelift_codegen::ir::Endianness::Little);
                let x = self.b.ins().bitcast(types::I64X2, flags, v);
                (
                    self.b.ins().extractlane(x, 0),
                    self.b.ins().extractlane(x, 1),
                )
            }
            Storage::Val(_) => (v, zero),
        };
        self.call_builtin_checked(bi::ARRAY_FILL, &[arr, off, lo, hi, n], codes::HOST);
    }

    /// 1 when `v` is in `(ref null? hty)`, else 0 (an i32).
    fn ref_test(&mut self, v: Value, nullable: bool, hty: wasmparser::HeapType) -> Value {
        let cont = self.b.create_block();
        self.b.append_block_param(cont, types::I32);
        let nonnull = self.b.create_block();
        let on_null = self.b.ins().iconst(types::I32, i64::from(nullable));
        self.b
            .ins()
            .brif(v, nonnull, &[], cont, &[BlockArg::Value(on_null)]);
        self.b.seal_block(nonnull);
        self.b.switch_to_block(nonnull);
        self.test_non_null(v, hty, cont);
        self.b.seal_block(cont);
        self.b.switch_to_block(cont);
        self.b.block_params(cont)[0]
    }

    fn jump_with(&mut self, cont: Block, v: Value) {
        self.b.ins().jump(cont, &[BlockArg::Value(v)]);
    }

    /// Continue to `cont` with whether the non-null `v` is in `hty`.
    fn test_non_null(&mut self, v: Value, hty: wasmparser::HeapType, cont: Block) {
        use types::{I32, I64};
        use wasmparser::{AbstractHeapType as A, HeapType as H};
        let konst = |s: &mut Self, c: i64| s.b.ins().iconst(I32, c);
        match hty {
            H::Abstract { ty, .. } => match ty {
                A::Any | A::Func | A::Extern | A::Exn => {
                    let one = konst(self, 1);
                    self.jump_with(cont, one);
                }
                A::Eq => {
                    let tag = self.b.ins().band_imm_u(v, 3);
                    let c = self.b.ins().icmp_imm_u(IntCC::NotEqual, tag, 2);
                    let r = self.bool_to_i32(c);
                    self.jump_with(cont, r);
                }
                A::I31 => {
                    let x = self.b.ins().ireduce(I32, v);
                    let r = self.b.ins().band_imm_u(x, 1);
                    self.jump_with(cont, r);
                }
                A::Struct | A::Array => {
                    let kind = if ty == A::Struct {
                        KIND_STRUCT
                    } else {
                        KIND_ARRAY
                    };
                    self.if_object(v, cont);
                    let flags = self.load_trusted(I32, v, 4);
                    let k = self.b.ins().band_imm_u(flags, 3);
                    let c = self.b.ins().icmp_imm_u(IntCC::Equal, k, i64::from(kind));
                    let r = self.bool_to_i32(c);
                    self.jump_with(cont, r);
                }
                _ => {
                    let zero = konst(self, 0);
                    self.jump_with(cont, zero);
                }
            },
            H::Concrete(i) | H::Exact(i) => {
                let idx = i.as_module_index().expect("module-level type index");
                let ti = self.env.info.type_infos[idx as usize].clone();
                let actual = match ti.composite {
                    Composite::Func(_) => {
                        let t = self.load_trusted(I64, v, VMFuncRef::TYPE_ID);
                        self.b.ins().ireduce(I32, t)
                    }
                    _ => {
                        self.if_object(v, cont);
                        let flags = self.load_trusted(I32, v, 4);
                        let k = self.b.ins().band_imm_u(flags, 3);
                        let want = if matches!(ti.composite, Composite::Struct(_)) {
                            KIND_STRUCT
                        } else {
                            KIND_ARRAY
                        };
                        let c = self.b.ins().icmp_imm_u(IntCC::Equal, k, i64::from(want));
                        let obj = self.b.create_block();
                        let zero = konst(self, 0);
                        self.b
                            .ins()
                            .brif(c, obj, &[], cont, &[BlockArg::Value(zero)]);
                        self.b.seal_block(obj);
                        self.b.switch_to_block(obj);
                        self.load_trusted(I32, v, 0)
                    }
                };
                let eq = self
                    .b
                    .ins()
                    .icmp_imm_u(IntCC::Equal, actual, i64::from(ti.id));
                let eq = self.bool_to_i32(eq);
                if ti.is_final {
                    self.jump_with(cont, eq);
                } else {
                    let slow = self.b.create_block();
                    self.b.set_cold_block(slow);
                    self.b
                        .ins()
                        .brif(eq, cont, &[BlockArg::Value(eq)], slow, &[]);
                    self.b.seal_block(slow);
                    self.b.switch_to_block(slow);
                    let want = konst(self, i64::from(ti.id));
                    let r = self.call_builtin(bi::IS_SUBTYPE, &[actual, want], I32);
                    self.jump_with(cont, r);
                }
            }
        }
    }

    /// Continue here only when `v` is a heap object (not an i31 or a host reference);
    /// otherwise to `cont` with 0.
    fn if_object(&mut self, v: Value, cont: Block) {
        let tag = self.b.ins().band_imm_u(v, 3);
        let obj = self.b.create_block();
        let zero = self.b.ins().iconst(types::I32, 0);
        self.b
            .ins()
            .brif(tag, cont, &[BlockArg::Value(zero)], obj, &[]);
        self.b.seal_block(obj);
        self.b.switch_to_block(obj);
    }
}

/// Whether values of this wasm type may point at GC objects or exception objects (what needs
/// a stack map).
pub(super) fn needs_stack_map(
    t: wasmparser::ValType,
    resources: &wasmparser::ValidatorResources,
    info: &crate::module::ModuleInfo,
) -> bool {
    use wasmparser::{AbstractHeapType as A, HeapType as H, WasmModuleResources};
    let wasmparser::ValType::Ref(r) = t else {
        return false;
    };
    match r.heap_type() {
        H::Abstract { ty, .. } => {
            // Exception objects are collected too (`vm/gc.rs`): an exnref is a root.
            !matches!(ty, A::Func | A::NoFunc | A::NoExn | A::NoExtern)
        }
        H::Concrete(i) | H::Exact(i) => {
            if let Some(m) = i.as_module_index() {
                !matches!(
                    info.type_infos.get(m as usize).map(|t| &t.composite),
                    Some(Composite::Func(_))
                )
            } else if let Some(id) = i.as_core_type_id() {
                !matches!(
                    resources.sub_type_at_id(id).composite_type.inner,
                    wasmparser::CompositeInnerType::Func(_)
                )
            } else {
                true
            }
        }
    }
}
