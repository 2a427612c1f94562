//! Translation of wasm function bodies to Cranelift IR.
//!
//! One [`FuncTranslator`] per function. The operand stack holds Cranelift SSA values; wasm
//! locals are frontend `Variable`s; each `block`/`loop`/`if` maps to Cranelift blocks whose
//! parameters carry the results. The instruction families live in submodules.

mod call;
mod control;
mod exceptions;
mod funcref;
mod gc;
mod memory;
mod numeric;
mod route;
mod simd;
mod table;
mod variables;

use crate::module::ModuleInfo;
use crate::trap::{Error, Result};
use crate::types::{FuncType, ValType};
use crate::vm::vmctx::VMOffsets;
use cranelift_codegen::ir::{
    self, AbiParam, ArgumentPurpose, Block, BlockArg, Function, GlobalValueData, InstBuilder,
    MemFlagsData, Signature, TrapCode, Type, UserFuncName, Value, types,
};
use cranelift_codegen::isa::CallConv;
use cranelift_entity::EntitySet;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use route::{Family, OpKind};
use std::collections::{HashMap, HashSet};

/// Trap codes used by generated code, and their mapping back to [`TrapCode`].
pub(crate) mod codes {
    use super::ir::TrapCode as C;
    use crate::trap::TrapCode;
    pub const UNREACHABLE: C = C::unwrap_user(1);
    pub const TABLE_OOB: C = C::unwrap_user(2);
    pub const UNINIT_ELEM: C = C::unwrap_user(3);
    pub const BAD_SIG: C = C::unwrap_user(4);
    pub const UNDEF_ELEM: C = C::unwrap_user(5);
    pub const HOST: C = C::unwrap_user(6);
    pub const NULL_REF: C = C::unwrap_user(7);
    pub const NULL_FUNC_REF: C = C::unwrap_user(8);
    pub const NULL_EXN_REF: C = C::unwrap_user(9);
    pub const NULL_STRUCT: C = C::unwrap_user(10);
    pub const NULL_ARRAY: C = C::unwrap_user(11);
    pub const NULL_I31: C = C::unwrap_user(12);
    pub const ARRAY_OOB: C = C::unwrap_user(13);
    pub const CAST: C = C::unwrap_user(14);

    pub fn to_trap(c: C) -> Option<TrapCode> {
        Some(match c {
            C::STACK_OVERFLOW => TrapCode::StackOverflow,
            C::INTEGER_OVERFLOW => TrapCode::IntegerOverflow,
            C::HEAP_OUT_OF_BOUNDS => TrapCode::MemoryOutOfBounds,
            C::INTEGER_DIVISION_BY_ZERO => TrapCode::IntegerDivideByZero,
            C::BAD_CONVERSION_TO_INTEGER => TrapCode::InvalidConversionToInteger,
            UNREACHABLE => TrapCode::Unreachable,
            TABLE_OOB => TrapCode::TableOutOfBounds,
            UNINIT_ELEM => TrapCode::UninitializedElement,
            BAD_SIG => TrapCode::IndirectCallTypeMismatch,
            UNDEF_ELEM => TrapCode::UndefinedElement,
            HOST => TrapCode::Host,
            NULL_REF => TrapCode::NullReference,
            NULL_FUNC_REF => TrapCode::NullFunctionReference,
            NULL_EXN_REF => TrapCode::NullExceptionReference,
            NULL_STRUCT => TrapCode::NullStructReference,
            NULL_ARRAY => TrapCode::NullArrayReference,
            NULL_I31 => TrapCode::NullI31Reference,
            ARRAY_OOB => TrapCode::ArrayOutOfBounds,
            CAST => TrapCode::CastFailure,
            _ => return None,
        })
    }
}

pub(crate) fn clif_type(t: ValType) -> Type {
    match t {
        ValType::I32 => types::I32,
        ValType::I64 => types::I64,
        ValType::F32 => types::F32,
        ValType::F64 => types::F64,
        ValType::V128 => types::I8X16,
        ValType::FuncRef | ValType::ExternRef | ValType::ExnRef | ValType::Ref(_) => types::I64,
    }
}

/// The calling convention of every wasm function: `(vmctx, params...) -> results`.
pub(crate) fn wasm_signature(ft: &FuncType) -> Signature {
    let mut sig = Signature::new(CallConv::Tail);
    sig.params
        .push(AbiParam::special(types::I64, ArgumentPurpose::VMContext));
    sig.params
        .extend(ft.params().iter().map(|&t| AbiParam::new(clif_type(t))));
    sig.returns
        .extend(ft.results().iter().map(|&t| AbiParam::new(clif_type(t))));
    sig
}

/// Give a function the stack-limit global value (loaded from the store's limits).
pub(crate) fn install_stack_limit(func: &mut Function) {
    let vmctx = func.create_global_value(GlobalValueData::VMContext);
    let flags = func
        .dfg
        .mem_flags
        .insert(MemFlagsData::trusted())
        .expect("few flags");
    let limits = func.create_global_value(GlobalValueData::Load {
        base: vmctx,
        offset: VMOffsets::LIMITS.into(),
        global_type: types::I64,
        flags,
    });
    let limit = func.create_global_value(GlobalValueData::Load {
        base: limits,
        offset: crate::vm::vmctx::VMLimits::STACK_LIMIT.into(),
        global_type: types::I64,
        flags,
    });
    func.stack_limit = Some(limit);
}

/// What the translator knows about the module being compiled.
pub(crate) struct Env<'a> {
    pub info: &'a ModuleInfo,
    pub offsets: VMOffsets,
    pub guard_pages: bool,
    pub guard_size: u64,
    /// Relaxed SIMD takes its deterministic lowering (`Config::relaxed_simd_deterministic`).
    pub relaxed_deterministic: bool,
    /// The host has FMA (relaxed `madd` can fuse natively).
    pub has_fma: bool,
    pub frontend: cranelift_codegen::isa::TargetFrontendConfig,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum FrameKind {
    Block,
    Loop,
    If,
}

struct Frame {
    kind: FrameKind,
    /// Continuation after `end`; its params are the results.
    dest: Block,
    /// Loop header (branch target of a loop).
    header: Option<Block>,
    /// Else block of an `if`, and whether `else` was seen.
    else_block: Option<Block>,
    else_seen: bool,
    else_params: Vec<Value>,
    num_params: usize,
    num_results: usize,
    /// Operand stack height below the block's params.
    height: usize,
    dest_reached: bool,
    /// A try_table's landing block and catch clauses (`exceptions.rs`).
    try_table: Option<(Block, Vec<wasmparser::Catch>)>,
    /// A legacy `try` block's state (`exceptions.rs`).
    legacy: Option<exceptions::LegacyTry>,
}

impl Frame {
    /// The frame of a construct whose params are on top of `stack` (a loop's header and an
    /// if's else arm are filled in by the caller).
    fn new<T>(kind: FrameKind, dest: Block, params: &[T], results: &[T], stack: &[Value]) -> Frame {
        Frame {
            kind,
            dest,
            header: None,
            else_block: None,
            else_seen: false,
            else_params: Vec::new(),
            num_params: params.len(),
            num_results: results.len(),
            height: stack.len() - params.len(),
            dest_reached: false,
            try_table: None,
            legacy: None,
        }
    }
}

pub(crate) struct FuncTranslator<'a, 'b> {
    env: &'a Env<'a>,
    b: FunctionBuilder<'b>,
    vmctx: Value,
    stack: Vec<Value>,
    control: Vec<Frame>,
    reachable: bool,
    unreachable_depth: u32,
    /// The operator being translated always traps and the rest of its instructions went to a
    /// dead block (see `memory.rs`): `translate` ends that block after it.
    trapped_always: bool,
    locals: Vec<Variable>,
    /// The type of each local (a non-null reference local yields non-null values).
    local_types: Vec<ValType>,
    /// Values known not to be null (see `funcref.rs`), so `call_ref` skips its check.
    non_null: HashSet<Value>,
    func_refs: HashMap<u32, ir::FuncRef>,
    sig_refs: HashMap<u32, ir::SigRef>,
    builtin_sigs: HashMap<usize, ir::SigRef>,
    /// Landing blocks of the enclosing try_tables, innermost last.
    handlers: Vec<Block>,
    /// With GC: the function's validator, run alongside translation for the operand types,
    /// so every value of a GC reference type is declared to Cranelift for stack maps.
    validator: Option<wasmparser::FuncValidator<wasmparser::ValidatorResources>>,
    /// Values whose stack-map need was already decided. A bitset indexed by value number: as
    /// a SipHash `HashSet` its insert, made for every value a GC-enabled engine translates,
    /// was 4.3M of shootout-keccak's 238M compile instructions (callgrind), ~0.4M as a bitset.
    typed: EntitySet<Value>,
}

fn unsupported(what: impl std::fmt::Display) -> Error {
    Error::Compile(format!("unsupported operator: {what}"))
}

/// A family was handed an operator [`route::family`] does not send to it: a bug in this crate.
fn misrouted(op: &wasmparser::Operator<'_>) -> Error {
    Error::Compile(format!(
        "internal error: operator {op:?} reached the wrong family"
    ))
}

pub(crate) fn block_args(vals: &[Value]) -> Vec<BlockArg> {
    vals.iter().map(|&v| BlockArg::Value(v)).collect()
}

/// Translate defined function `func_index` into a Cranelift function.
pub(crate) fn translate_function(
    env: &Env<'_>,
    func_index: u32,
    body: &wasmparser::FunctionBody<'_>,
    fctx: &mut FunctionBuilderContext,
    func: &mut Function,
) -> Result<()> {
    let ft = env.info.func_type(func_index).clone();
    // `func` is the caller's reused function: clearing keeps its allocations (see compile.rs).
    func.clear();
    func.name = UserFuncName::user(0, func_index);
    func.signature = wasm_signature(&ft);
    install_stack_limit(func);
    let malformed = |e: wasmparser::BinaryReaderError| Error::Malformed(e.to_string());
    {
        let mut b = FunctionBuilder::new(func, fctx);
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        b.seal_block(entry);
        let params = b.block_params(entry).to_vec();
        let vmctx = params[0];
        let mut validator = env
            .info
            .validators
            .0
            .get((func_index - env.info.num_imported_funcs) as usize)
            .map(|f| {
                wasmparser::FuncToValidate {
                    resources: f.resources.clone(),
                    index: f.index,
                    ty: f.ty,
                    features: f.features,
                }
                .into_validator(Default::default())
            });
        let mut locals = Vec::new();
        let mut local_types = ft.params().to_vec();
        for (i, &t) in ft.params().iter().enumerate() {
            let v = b.declare_var(clif_type(t));
            // Parameters of a type that may hold an object are roots while live. Cranelift
            // needs to know before the first definition, or that definition has no stack map.
            if validator.is_some()
                && t.ref_type()
                    .is_some_and(|r| crate::gctypes::heap_may_be_object(r.heap))
            {
                b.declare_var_needs_stack_map(v);
            }
            b.def_var(v, params[i + 1]);
            locals.push(v);
        }
        let mut lr = body.get_locals_reader().map_err(malformed)?;
        for _ in 0..lr.get_count() {
            let pos = lr.original_position();
            let (n, wt) = lr.read().map_err(malformed)?;
            if let Some(v) = &mut validator {
                v.define_locals(pos, n, wt).map_err(malformed)?;
            }
            let t = ValType::from_wasm(wt, &env.info.type_ids)
                .ok_or_else(|| unsupported(format!("local type {wt}")))?;
            let ty = clif_type(t);
            let gc_local = validator
                .as_ref()
                .is_some_and(|v| gc::needs_stack_map(wt, v.resources(), env.info));
            for _ in 0..n {
                // A non-null local starts as null too: validation guarantees that it is set
                // before any read, so the null is never observed.
                local_types.push(t);
                let v = b.declare_var(ty);
                if gc_local {
                    b.declare_var_needs_stack_map(v);
                }
                let zero = zero_value(&mut b, ty);
                b.def_var(v, zero);
                locals.push(v);
            }
        }
        let exit = b.create_block();
        for &t in ft.results() {
            b.append_block_param(exit, clif_type(t));
        }
        let mut tr = FuncTranslator {
            env,
            b,
            vmctx,
            stack: Vec::new(),
            control: vec![Frame::new(FrameKind::Block, exit, &[], ft.results(), &[])],
            reachable: true,
            unreachable_depth: 0,
            trapped_always: false,
            locals,
            local_types,
            non_null: HashSet::new(),
            func_refs: HashMap::new(),
            sig_refs: HashMap::new(),
            builtin_sigs: HashMap::new(),
            handlers: Vec::new(),
            validator,
            typed: EntitySet::new(),
        };
        let mut ops = body.get_operators_reader().map_err(malformed)?;
        while !ops.eof() {
            let (op, pos) = ops.read_with_offset().map_err(malformed)?;
            tr.translate(&op)?;
            if tr.validator.is_some() {
                tr.declare_gc_values(pos, &op)?;
            }
            if tr.control.is_empty() {
                break;
            }
        }
        tr.b.finalize(env.frontend);
    }
    Ok(())
}

fn zero_value(b: &mut FunctionBuilder<'_>, ty: Type) -> Value {
    match ty {
        types::F32 => b.ins().f32const(0.0),
        types::F64 => b.ins().f64const(0.0),
        ty if ty.is_vector() => {
            let zero = b.func.dfg.constants.insert(vec![0u8; 16].into());
            b.ins().vconst(ty, zero)
        }
        _ => b.ins().iconst(ty, 0),
    }
}

impl<'a, 'b> FuncTranslator<'a, 'b> {
    fn translate(&mut self, op: &wasmparser::Operator<'_>) -> Result<()> {
        use wasmparser::Operator as O;
        if !self.reachable {
            match op {
                O::Block { .. }
                | O::Loop { .. }
                | O::If { .. }
                | O::TryTable { .. }
                | O::Try { .. } => {
                    self.unreachable_depth += 1;
                    return Ok(());
                }
                O::Else | O::Catch { .. } | O::CatchAll if self.unreachable_depth == 0 => {}
                O::End | O::Delegate { .. } if self.unreachable_depth == 0 => {}
                O::End | O::Delegate { .. } => {
                    self.unreachable_depth -= 1;
                    return Ok(());
                }
                _ => return Ok(()),
            }
        }
        let kind = OpKind::of(op).ok_or_else(|| unsupported(format!("{op:?}")))?;
        let translated = match route::family(kind) {
            Family::Control => self.translate_control(op),
            Family::Variables => self.translate_variables(op),
            Family::Numeric => self.translate_numeric(op),
            Family::Memory => self.translate_memory(op),
            Family::Table => self.translate_table(op),
            Family::Call => self.translate_call(op),
            Family::FuncRef => self.translate_funcref(op),
            Family::Exceptions => self.translate_exceptions(op),
            Family::Gc => self.translate_gc(op),
            Family::Simd => self.translate_simd(op),
            Family::RelaxedSimd => self.translate_relaxed_simd(op),
            Family::Unsupported => Err(Error::Compile(format!(
                "unsupported feature `{}`: {op:?}",
                kind.proposal()
            ))),
        };
        if std::mem::take(&mut self.trapped_always) {
            // Never executed: what the operator emitted after its trap only needs an end.
            self.b.ins().trap(TrapCode::HEAP_OUT_OF_BOUNDS);
            self.reachable = false;
        }
        translated
    }

    /// Advance the validator past `op` and declare the new GC-typed values on the operand
    /// stack as needing stack maps. New values are on top of the stack: walk down until a
    /// value already decided.
    fn declare_gc_values(&mut self, pos: u64, op: &wasmparser::Operator<'_>) -> Result<()> {
        let Some(v) = self.validator.as_mut() else {
            return Ok(());
        };
        v.op(pos, op)
            .map_err(|e| Error::Compile(format!("internal error: revalidation: {e}")))?;
        if !self.reachable {
            return Ok(());
        }
        let v = self.validator.as_ref().expect("checked above");
        let in_sync = v.operand_stack_height() as usize == self.stack.len();
        for i in (0..self.stack.len()).rev() {
            let val = self.stack[i];
            if !self.typed.insert(val) {
                break;
            }
            let needs = if in_sync {
                match v.get_operand_type(self.stack.len() - 1 - i) {
                    Some(Some(t)) => gc::needs_stack_map(t, v.resources(), self.env.info),
                    _ => false,
                }
            } else {
                // Unexpected: fall back to declaring every 64-bit value (the collector
                // checks each candidate against its object set, so this is safe).
                self.b.func.dfg.value_type(val) == types::I64
            };
            if needs {
                self.b.declare_value_needs_stack_map(val);
            }
        }
        Ok(())
    }

    fn pop(&mut self) -> Value {
        self.stack
            .pop()
            .expect("validated: operand stack underflow")
    }

    fn pop2(&mut self) -> (Value, Value) {
        let b = self.pop();
        let a = self.pop();
        (a, b)
    }

    fn pop3(&mut self) -> (Value, Value, Value) {
        let c = self.pop();
        let (a, b) = self.pop2();
        (a, b, c)
    }

    fn popn(&mut self, n: usize) -> Vec<Value> {
        let at = self.stack.len() - n;
        self.stack.split_off(at)
    }

    fn peekn(&self, n: usize) -> &[Value] {
        &self.stack[self.stack.len() - n..]
    }

    fn push(&mut self, v: Value) {
        self.stack.push(v);
    }

    /// A trusted (non-trapping, aligned) load from VM data structures.
    fn load_trusted(&mut self, ty: Type, base: Value, offset: i32) -> Value {
        self.b.ins().load(ty, MemFlagsData::trusted(), base, offset)
    }

    /// A load of a field that never changes while code runs.
    fn load_readonly(&mut self, ty: Type, base: Value, offset: i32) -> Value {
        self.b.ins().load(
            ty,
            MemFlagsData::trusted().with_readonly().with_can_move(),
            base,
            offset,
        )
    }

    fn sig_ref(&mut self, type_index: u32) -> ir::SigRef {
        if let Some(&s) = self.sig_refs.get(&type_index) {
            return s;
        }
        let sig = wasm_signature(&self.env.info.types[type_index as usize]);
        let s = self.b.import_signature(sig);
        self.sig_refs.insert(type_index, s);
        s
    }

    /// Call builtin libcall `index` (see [`crate::vm::builtins`]) with `args` after vmctx;
    /// it returns one value of type `ret`.
    fn call_builtin(&mut self, index: usize, args: &[Value], ret: Type) -> Value {
        let sig = match self.builtin_sigs.get(&index) {
            Some(&s) => s,
            None => {
                let mut sig = Signature::new(CallConv::SystemV);
                sig.params.push(AbiParam::new(types::I64));
                for &a in args {
                    let ty = self.b.func.dfg.value_type(a);
                    sig.params.push(AbiParam::new(ty));
                }
                sig.returns.push(AbiParam::new(ret));
                let s = self.b.import_signature(sig);
                self.builtin_sigs.insert(index, s);
                s
            }
        };
        let table = self.load_readonly(types::I64, self.vmctx, VMOffsets::BUILTINS);
        let f = self.load_readonly(types::I64, table, (index * 8) as i32);
        let mut all = vec![self.vmctx];
        all.extend_from_slice(args);
        let call = self.b.ins().call_indirect(sig, f, &all);
        self.b.inst_results(call)[0]
    }

    /// Call builtin `index`, which returns a status, and trap with `code` when it is nonzero.
    ///
    /// The check ends the block (a branch to a cold trap block) instead of a `trapnz` inside
    /// it: Cranelift rematerializes constants once per block, so a constant that is both an
    /// argument here and used after the call (a local's zero, say) is materialized again after
    /// it instead of being held in a callee-saved register across the call. In the sieve kernel
    /// that register then carried a loop's counter, with two extra moves and a jump on every
    /// iteration of the outer loop.
    fn call_builtin_checked(&mut self, index: usize, args: &[Value], code: TrapCode) {
        let st = self.call_builtin(index, args, types::I32);
        let (trap, cont) = (self.b.create_block(), self.b.create_block());
        self.b.set_cold_block(trap);
        self.b.ins().brif(st, trap, &[], cont, &[]);
        self.b.seal_block(trap);
        self.b.seal_block(cont);
        self.b.switch_to_block(trap);
        self.b.ins().trap(code);
        self.b.switch_to_block(cont);
    }

    fn block_type(&self, bt: wasmparser::BlockType) -> Result<(Vec<Type>, Vec<Type>)> {
        Ok(match bt {
            wasmparser::BlockType::Empty => (vec![], vec![]),
            wasmparser::BlockType::Type(t) => (
                vec![],
                vec![clif_type(
                    ValType::from_wasm(t, &self.env.info.type_ids)
                        .ok_or_else(|| unsupported(format!("block type {t}")))?,
                )],
            ),
            wasmparser::BlockType::FuncType(i) => {
                let ft = &self.env.info.types[i as usize];
                (
                    ft.params().iter().map(|&t| clif_type(t)).collect(),
                    ft.results().iter().map(|&t| clif_type(t)).collect(),
                )
            }
        })
    }

    fn bool_to_i32(&mut self, c: Value) -> Value {
        self.b.ins().uextend(types::I32, c)
    }
}
