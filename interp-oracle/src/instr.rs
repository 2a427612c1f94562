//! The pre-decoded instruction set the interpreter runs.
//!
//! Each function body is turned once, at load time, into a flat `Vec<Instr>`:
//! - `block` and `loop` disappear (they only name a label; the label's continuation is
//!   resolved into every branch that targets it);
//! - `if` becomes [`Instr::BrUnless`] to its `else` (or `end`), and `else` becomes a
//!   [`Instr::Jump`] over the else-arm;
//! - every branch carries a [`Branch`]: target pc, arity and the operand-stack height of its
//!   label, so that executing it is "keep the top `arity` values, drop down to `height`, jump";
//! - the function's final `end` becomes [`Instr::Return`].
//!
//! Everything else is one variant per Wasm instruction, except SIMD: as in the spec
//! interpreter's AST, its instructions are grouped by operands and immediates into
//! [`SimdUnary`], [`SimdBinary`], [`SimdTernary`], [`SimdShift`], [`SimdExtractLane`] and
//! [`SimdReplaceLane`] (a lane index), [`SimdLoad`] (a memory immediate) and
//! [`SimdMemLaneOp`] (both), whose variants are named after wasmparser's operators. Each
//! group's rule is one total function, so the compiler checks that every variant has one. `v128.const` and `i8x16.shuffle` keep their 16-byte immediate in
//! `FuncCode::v128s`, so that an instruction stays small.
//!
//! Fused pairs: the interpreter's time goes mostly into dispatching one instruction after
//! another, so very frequent pairs are one instruction each ([`Instr::LocalGet2`],
//! [`Instr::LocalSetGet`], [`Instr::I32AddConst`], [`Instr::BrIfEqz`], [`Instr::BrIfCmp`]
//! and [`Instr::BrUnlessCmp`] for a comparison and a `br_if` or an `if`,
//! [`Instr::I32BinConst`] and [`Instr::I64BinConst`] for a constant and the integer
//! operation it is the right operand of ([`Instr::I64BinConstTo`] with the `local.set` of
//! its result), [`Instr::BinLocal`]
//! and [`Instr::BinLocals`] for a binary operation whose right or both operands are
//! `local.get`s, [`Instr::BinLocalTo`] and [`Instr::BinLocalsTo`] for those and the
//! `local.set` of their result), whose rule is the rules in sequence. Register-style forms
//! read a local or constant operand directly ([`Instr::LocalGetConst`],
//! [`Instr::I32BinLocalConst`] and [`Instr::I32BinLocalConstTo`] for `x = a op c`,
//! [`Instr::CmpLocal`] and, with the `br_if` or `if` after it, [`Instr::JumpIfCmp`] and
//! [`Instr::JumpUnlessCmp`]; [`Rhs`] says whether the right operand is a local or a
//! constant; [`Instr::JumpIfLocal`] and [`Instr::JumpIfTee`] for a local tested by `br_if`;
//! [`Instr::CmpConst`], [`Instr::JumpIfCmpConst`] and [`Instr::JumpUnlessCmpConst`] for a
//! comparison with a constant; [`Instr::LoadAt`] for a load whose address is a local or a
//! sum, [`Instr::StoreAt`] for a store of a local or constant to a local address);
//! [`Instr::BrUnlessEqz`] is `i32.eqz; if`.
//! The pre-pass fuses a pair only when no label lies between its halves (see
//! `Translator::emit`), so no branch can land in the middle.

use wasmparser::Operator;

use crate::types::RefTy;

/// A resolved branch: the spec's `br l` with the label `l` looked up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Branch {
    /// Instruction index to continue at; [`Branch::RETURN`] means "return from the function".
    pub target: u32,
    /// Operand-stack height of the target label, counted from the frame's first local (its
    /// locals, hidden ones included, plus the label's operand height): the dispatch loop
    /// then needs only the frame's first local, not also its operand base, so one register
    /// less is live across the loop. (During translation it is counted from the operand
    /// base; `Translator::heights_from_first_local` adds the locals at the end.)
    pub height: u32,
    /// Number of values the label takes (block/if results, loop params).
    pub arity: u32,
}

impl Branch {
    /// A branch to the function's outermost label, i.e. `return`.
    pub const RETURN: u32 = u32::MAX;
}

/// A memory immediate: static offset and memory index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct MemArg {
    /// The offset (64 bits with memory64) as two halves, low first, so that the immediate
    /// stays 4-byte aligned and an instruction 16 bytes.
    offset: [u32; 2],
    pub mem: u32,
}

impl MemArg {
    pub fn new(offset: u64, mem: u32) -> MemArg {
        MemArg {
            offset: [offset as u32, (offset >> 32) as u32],
            mem,
        }
    }

    pub fn offset(self) -> u64 {
        u64::from(self.offset[0]) | (u64::from(self.offset[1]) << 32)
    }
}

/// A function body after the pre-pass.
#[derive(Debug)]
pub(crate) struct FuncCode {
    /// Number of parameters (they are the first locals).
    pub params: usize,
    /// Number of results.
    pub results: usize,
    /// Number of declared (non-parameter) locals.
    pub locals: usize,
    /// The most operands the body ever has on the stack (the validator's operand-stack
    /// height, before or after any instruction): the interpreter reserves that many slots
    /// above the locals when it enters the function.
    pub max_height: usize,
    pub instrs: Vec<Instr>,
    /// Targets of all `br_table`s of the function (see [`Instr::BrTable`]).
    pub br_tables: Vec<Branch>,
    /// 16-byte immediates of `v128.const` and `i8x16.shuffle` (see [`Instr::V128Const`]).
    pub v128s: Vec<u128>,
    /// Targets of `ref.test`, `ref.cast` and `br_on_cast*` (see [`Instr::RefTest`]).
    pub casts: Vec<Cast>,
    /// The `try_table` and legacy `try` bodies, in the order they begin.
    pub regions: Vec<Region>,
}

/// How `struct.get`/`array.get` read a field: packed fields are sign- or zero-extended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sign {
    /// `struct.get` and `array.get` (not packed).
    Plain,
    S,
    U,
}

/// A cast's target type (defined types by module index) and, for `br_on_cast*`, its branch.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Cast {
    pub to: RefTy<u32>,
    pub branch: Branch,
}

/// A `try_table` (or legacy `try`) body: an exception thrown at a pc in `start..end`, in this
/// frame or in a callee, is offered to its handlers.
#[derive(Debug)]
pub(crate) struct Region {
    pub start: u32,
    pub end: u32,
    /// The try's nesting depth (its index on the control stack): of the regions around a
    /// pc, the innermost is the deepest.
    pub depth: u32,
    pub handlers: Handlers,
}

#[derive(Debug)]
pub(crate) enum Handlers {
    /// The catch clauses, in order.
    Catch(Vec<Catch>),
    /// Legacy `delegate l`: the search goes on among the regions no deeper than `l`'s block.
    Delegate(u32),
}

/// A catch clause, resolved.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Catch {
    /// The tag index; `None` catches every exception (`catch_all`).
    pub tag: Option<u32>,
    /// Push the exnref after the payload (`catch_ref`, `catch_all_ref`).
    pub with_ref: bool,
    /// Where the handler continues, at the height of its label: a label of the enclosing
    /// blocks (`try_table`) or the handler's code (legacy `catch`). (Its arity is not used:
    /// the values a handler keeps are the payload and the exnref it pushes.)
    pub to: Branch,
    /// Legacy `catch`: the hidden local that keeps the exception for `rethrow`.
    pub exn_local: Option<u32>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Instr {
    // Control.
    Unreachable,
    /// An instruction the oracle does not execute (relaxed SIMD and later proposals): traps.
    Unsupported,
    Jump(u32),
    /// `if`: jump to the pc when the condition is zero.
    BrUnless(u32),
    /// A comparison and the `if` after it, fused: jump to the pc unless it holds.
    BrUnlessCmp(Cmp, u32),
    Br(Branch),
    BrIf(Branch),
    /// `i32.eqz; br_if`, fused: branch if the operand is zero.
    BrIfEqz(Branch),
    /// A comparison and the `br_if` after it, fused: branch if it holds.
    BrIfCmp(Cmp, Branch),
    /// `i32.eqz; if`, fused: jump to the pc unless the operand is zero.
    BrUnlessEqz(u32),
    /// [`Instr::CmpLocal`] and the `br_if` after it, when the branch moves no operand (its
    /// label takes no values and its height is the height the operands leave): if the
    /// comparison holds, a taken branch, i.e. one unit of fuel and a jump to the pc.
    /// Register-style: `local.get a; local.get b; i32.lt_u; br_if l` (a loop's test) is one
    /// dispatch instead of two to four, and pushes and pops nothing.
    JumpIfCmp(Cmp, Rhs, u32, u32, u32),
    /// [`Instr::CmpLocal`] and the `if` after it: jump to the pc unless the comparison holds.
    JumpUnlessCmp(Cmp, Rhs, u32, u32, u32),
    /// [`Instr::CmpConst`] and the `br_if` after it, when the branch moves no operand: pop
    /// the left operand and, if the comparison with the constant holds, a taken branch to
    /// the pc.
    JumpIfCmpConst(Cmp, u32, u64),
    /// [`Instr::CmpConst`] and the `if` after it: pop the left operand, jump to the pc
    /// unless the comparison with the constant holds.
    JumpUnlessCmpConst(Cmp, u32, u64),
    /// `local.get a; br_if l` when the branch moves no operand: jump (a taken branch) to the
    /// pc if local `a` is not zero.
    JumpIfLocal(u32, u32),
    /// `local.tee a; br_if l` when the branch moves no operand: pop the value into local `a`,
    /// and jump (a taken branch) to the pc if it is not zero.
    JumpIfTee(u32, u32),
    /// `br_on_null`: branch (dropping the reference) if it is null.
    BrOnNull(Branch),
    /// `br_on_non_null`: branch (keeping the reference) unless it is null.
    BrOnNonNull(Branch),
    /// `br_table`: targets are `FuncCode::br_tables[start..start + len]`, the last is the default.
    BrTable {
        start: u32,
        len: u32,
    },
    Return,
    Call(u32),
    CallIndirect {
        type_index: u32,
        table: u32,
    },
    /// `call_ref`: the callee is a function reference on the stack (its type is static).
    CallRef,
    /// `return_call`: a call that replaces the current frame.
    ReturnCall(u32),
    ReturnCallIndirect {
        type_index: u32,
        table: u32,
    },
    ReturnCallRef,
    /// `throw x`: pop the tag's payload, allocate an exception and throw it.
    Throw(u32),
    /// `throw_ref`: throw the exception an exnref names (again).
    ThrowRef,
    /// Legacy `rethrow`: throw again the exception in this hidden local (see [`Catch`]).
    Rethrow(u32),

    // Parametric.
    Drop,
    Select,

    // Variables. The plain forms are for locals of a number type (`i32`, `i64`, `f32`,
    // `f64`), whose slots hold at most 64 bits (see `value.rs`), and move those 64 bits; the
    // `Wide` forms are for `v128` and reference locals and move the whole slot.
    LocalGet(u32),
    LocalSet(u32),
    LocalTee(u32),
    LocalGetWide(u32),
    LocalSetWide(u32),
    LocalTeeWide(u32),
    /// `local.get a; local.get b` of number locals, fused (see "Fused pairs" above).
    LocalGet2(u32, u32),
    /// `local.set a; local.get b` of number locals, fused.
    LocalSetGet(u32, u32),
    /// `local.get a; i32.const c` of a number local, fused: push both.
    LocalGetConst(u32, u32),
    /// `local.get a; local.set d` of number locals, fused: `d = a`.
    LocalCopy(u32, u32),
    /// `i32.const c` (zero-extended) or `i64.const c` and the `local.set d` after it, fused.
    LocalSetConst(u32, u64),
    GlobalGet(u32),
    GlobalSet(u32),

    // Tables.
    TableGet(u32),
    TableSet(u32),
    TableSize(u32),
    TableGrow(u32),
    TableFill(u32),
    TableCopy {
        dst: u32,
        src: u32,
    },
    TableInit {
        elem: u32,
        table: u32,
    },
    ElemDrop(u32),

    // Memory.
    I32Load(MemArg),
    I64Load(MemArg),
    F32Load(MemArg),
    F64Load(MemArg),
    I32Load8S(MemArg),
    I32Load8U(MemArg),
    I32Load16S(MemArg),
    I32Load16U(MemArg),
    I64Load8S(MemArg),
    I64Load8U(MemArg),
    I64Load16S(MemArg),
    I64Load16U(MemArg),
    I64Load32S(MemArg),
    I64Load32U(MemArg),
    I32Store(MemArg),
    I64Store(MemArg),
    F32Store(MemArg),
    F64Store(MemArg),
    I32Store8(MemArg),
    I32Store16(MemArg),
    I64Store8(MemArg),
    I64Store16(MemArg),
    I64Store32(MemArg),
    /// A load from memory 0 whose address is local `a` (`local.get a` before it) or the sum
    /// of the two `i32`s on top (`i32.add` before it), see [`Addr`]: one dispatch instead of
    /// two, and the address is never pushed.
    LoadAt(Load, Addr, u32, Offset),
    /// A store to memory 0 whose address is local `a` and value local or constant `v` (see
    /// [`Rhs`]): `LocalGet2(a, v)` or `LocalGetConst(a, v)` and the store, fused, when the
    /// store's offset (the last immediate) fits in 32 bits.
    StoreAt(Width, Rhs, u32, u32, u32),
    MemorySize(u32),
    MemoryGrow(u32),
    MemoryInit {
        data: u32,
        mem: u32,
    },
    DataDrop(u32),
    MemoryCopy {
        dst: u32,
        src: u32,
    },
    MemoryFill(u32),

    // References.
    RefNull,
    RefIsNull,
    RefAsNonNull,
    RefEq,
    /// `ref.test`: the target type is `FuncCode::casts[i].to`.
    RefTest(u32),
    RefCast(u32),
    /// `br_on_cast`: branch `FuncCode::casts[i].branch` if the reference matches.
    BrOnCast(u32),
    BrOnCastFail(u32),

    // Aggregates (the type immediates are module type indices; see `exec/gc.rs`).
    StructNew(u32),
    StructNewDefault(u32),
    StructGet {
        ty: u32,
        field: u32,
        sign: Sign,
    },
    StructSet {
        ty: u32,
        field: u32,
    },
    ArrayNew(u32),
    ArrayNewDefault(u32),
    ArrayNewFixed {
        ty: u32,
        n: u32,
    },
    ArrayNewData {
        ty: u32,
        data: u32,
    },
    ArrayNewElem {
        ty: u32,
        elem: u32,
    },
    ArrayGet {
        ty: u32,
        sign: Sign,
    },
    ArraySet(u32),
    ArrayLen,
    ArrayFill(u32),
    ArrayCopy {
        dst: u32,
        src: u32,
    },
    ArrayInitData {
        ty: u32,
        data: u32,
    },
    ArrayInitElem {
        ty: u32,
        elem: u32,
    },
    RefI31,
    I31Get(Sign),
    RefFunc(u32),

    // Constants: `i32.const`/`f32.const` push 32 bits, `i64.const`/`f64.const` 64 bits.
    Const32(u32),
    Const64(u64),
    /// `i32.const c; i32.add`, fused.
    I32AddConst(u32),
    /// `i32.const c` and the `i32` shift, rotation, bitwise or arithmetic (not `add`: see
    /// `I32AddConst`; no division) instruction after it, fused: `c` is the right operand.
    I32BinConst(IntOp, u32),
    /// `i64.const c` and the `i64` shift, rotation, bitwise or arithmetic instruction after
    /// it (no division), fused.
    I64BinConst(IntOp, u64),
    /// `I64BinConst(op, c)` and the `local.set d` after it, fused: pop `a`, `d = a op c`.
    I64BinConstTo(IntOp, u32, u64),
    /// `local.get n` and the binary operation it is the right operand of, fused: the left
    /// operand is popped, the right one read from local `n` (a register-style operand).
    BinLocal(BinOp, u32),
    /// `local.get a; local.get b` and the binary operation of the two, fused (`LocalGet2`
    /// and the operation): both operands are read from locals, the result is pushed.
    BinLocals(BinOp, u32, u32),
    /// `BinLocal(op, n)` and the `local.set d` after it, fused: the result goes to local `d`.
    BinLocalTo(BinOp, u32, u32),
    /// `BinLocals(op, a, b)` and the `local.set d` after it, fused: `d = a op b` on locals.
    BinLocalsTo(BinOp, u32, u32, u32),
    /// `LocalGetConst(a, c)` and the `i32` operation after it (no division), fused: push
    /// `a op c`.
    I32BinLocalConst(IntOp, u32, u32),
    /// `I32BinLocalConst(op, a, c)` and the `local.set d` after it: `d = a op c`, e.g. a
    /// loop counter's `i = i + 1` in one dispatch instead of three.
    I32BinLocalConstTo(IntOp, u32, u32, u32),
    /// `I32BinLocalConst(op, a, c)` and the `local.tee d` after it: `d = a op c`, pushed too.
    I32BinLocalConstTee(IntOp, u32, u32, u32),
    /// A comparison whose left operand is local `a` and right one local or
    /// constant `b` (see [`Rhs`]): `LocalGet2(a, b)` or `LocalGetConst(a, b)` and the
    /// comparison, fused. Pushes the result; see [`Instr::JumpIfCmp`] for the branch after it.
    CmpLocal(Cmp, Rhs, u32, u32),
    /// A comparison whose right operand is the constant `c` (an `i64.const` or `f64.const`)
    /// and left one popped: the constant and the comparison, fused. Pushes the result; see [`Instr::JumpIfCmpConst`] for the
    /// branch after it.
    CmpConst(Cmp, u64),

    // i32 comparisons and arithmetic.
    I32Eqz,
    I32Eq,
    I32Ne,
    I32LtS,
    I32LtU,
    I32GtS,
    I32GtU,
    I32LeS,
    I32LeU,
    I32GeS,
    I32GeU,
    I32Clz,
    I32Ctz,
    I32Popcnt,
    I32Add,
    I32Sub,
    I32Mul,
    I32DivS,
    I32DivU,
    I32RemS,
    I32RemU,
    I32And,
    I32Or,
    I32Xor,
    I32Shl,
    I32ShrS,
    I32ShrU,
    I32Rotl,
    I32Rotr,

    // i64 comparisons and arithmetic.
    I64Eqz,
    I64Eq,
    I64Ne,
    I64LtS,
    I64LtU,
    I64GtS,
    I64GtU,
    I64LeS,
    I64LeU,
    I64GeS,
    I64GeU,
    I64Clz,
    I64Ctz,
    I64Popcnt,
    I64Add,
    I64Sub,
    I64Mul,
    I64DivS,
    I64DivU,
    I64RemS,
    I64RemU,
    I64And,
    I64Or,
    I64Xor,
    I64Shl,
    I64ShrS,
    I64ShrU,
    I64Rotl,
    I64Rotr,

    // f32.
    F32Eq,
    F32Ne,
    F32Lt,
    F32Gt,
    F32Le,
    F32Ge,
    F32Abs,
    F32Neg,
    F32Ceil,
    F32Floor,
    F32Trunc,
    F32Nearest,
    F32Sqrt,
    F32Add,
    F32Sub,
    F32Mul,
    F32Div,
    F32Min,
    F32Max,
    F32Copysign,

    // f64.
    F64Eq,
    F64Ne,
    F64Lt,
    F64Gt,
    F64Le,
    F64Ge,
    F64Abs,
    F64Neg,
    F64Ceil,
    F64Floor,
    F64Trunc,
    F64Nearest,
    F64Sqrt,
    F64Add,
    F64Sub,
    F64Mul,
    F64Div,
    F64Min,
    F64Max,
    F64Copysign,

    // Conversions.
    I32WrapI64,
    I32TruncF32S,
    I32TruncF32U,
    I32TruncF64S,
    I32TruncF64U,
    I64ExtendI32S,
    I64ExtendI32U,
    I64TruncF32S,
    I64TruncF32U,
    I64TruncF64S,
    I64TruncF64U,
    F32ConvertI32S,
    F32ConvertI32U,
    F32ConvertI64S,
    F32ConvertI64U,
    F32DemoteF64,
    F64ConvertI32S,
    F64ConvertI32U,
    F64ConvertI64S,
    F64ConvertI64U,
    F64PromoteF32,
    /// All four `reinterpret` instructions: the bits do not change.
    Reinterpret,

    // Sign extension.
    I32Extend8S,
    I32Extend16S,
    I64Extend8S,
    I64Extend16S,
    I64Extend32S,

    // Non-trapping float-to-int.
    I32TruncSatF32S,
    I32TruncSatF32U,
    I32TruncSatF64S,
    I32TruncSatF64U,
    I64TruncSatF32S,
    I64TruncSatF32U,
    I64TruncSatF64S,
    I64TruncSatF64U,

    // SIMD (see `exec/simd.rs`).
    /// `v128.const`: the constant is `FuncCode::v128s[i]`.
    V128Const(u32),
    /// `i8x16.shuffle`: the lane indices are the bytes of `FuncCode::v128s[i]`.
    I8x16Shuffle(u32),
    SimdUnary(SimdUnary),
    SimdBinary(SimdBinary),
    SimdTernary(SimdTernary),
    SimdShift(SimdShift),
    RelaxedUnary(RelaxedUnary),
    RelaxedBinary(RelaxedBinary),
    RelaxedTernary(RelaxedTernary),
    SimdExtractLane(SimdExtractLane, u8),
    SimdReplaceLane(SimdReplaceLane, u8),
    V128Store(MemArg),
    SimdLoad(SimdLoad, MemArg),
    SimdMemLane(SimdMemLaneOp, u8, MemArg),
}

/// A non-trapping binary integer operation, the immediate of [`Instr::I32BinConst`] and
/// [`Instr::I64BinConst`] (their rules are `exec::numeric::i32_binary` and `i64_binary`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum IntOp {
    Add,
    Sub,
    Mul,
    And,
    Or,
    Xor,
    Shl,
    ShrS,
    ShrU,
    Rotl,
    Rotr,
}

impl IntOp {
    /// The operation `instr` is, if it is one of these on `i32`s (`i32.add` has its own
    /// fused form).
    pub fn of_i32(instr: Instr) -> Option<IntOp> {
        Some(match instr {
            Instr::I32Sub => IntOp::Sub,
            Instr::I32Mul => IntOp::Mul,
            Instr::I32And => IntOp::And,
            Instr::I32Or => IntOp::Or,
            Instr::I32Xor => IntOp::Xor,
            Instr::I32Shl => IntOp::Shl,
            Instr::I32ShrS => IntOp::ShrS,
            Instr::I32ShrU => IntOp::ShrU,
            Instr::I32Rotl => IntOp::Rotl,
            Instr::I32Rotr => IntOp::Rotr,
            _ => return None,
        })
    }

    /// The operation `instr` is, if it is one of these on `i32`s, `i32.add` included.
    pub fn of_i32_or_add(instr: Instr) -> Option<IntOp> {
        match instr {
            Instr::I32Add => Some(IntOp::Add),
            _ => IntOp::of_i32(instr),
        }
    }

    /// The operation `instr` is, if it is one of these on `i64`s.
    pub fn of_i64(instr: Instr) -> Option<IntOp> {
        Some(match instr {
            Instr::I64Add => IntOp::Add,
            Instr::I64Sub => IntOp::Sub,
            Instr::I64Mul => IntOp::Mul,
            Instr::I64And => IntOp::And,
            Instr::I64Or => IntOp::Or,
            Instr::I64Xor => IntOp::Xor,
            Instr::I64Shl => IntOp::Shl,
            Instr::I64ShrS => IntOp::ShrS,
            Instr::I64ShrU => IntOp::ShrU,
            Instr::I64Rotl => IntOp::Rotl,
            Instr::I64Rotr => IntOp::Rotr,
            _ => return None,
        })
    }
}

/// A memory offset (64 bits with memory64) as two halves, low first, so that the immediate
/// stays 4-byte aligned and an instruction 16 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Offset([u32; 2]);

impl Offset {
    pub fn new(offset: u64) -> Offset {
        Offset([offset as u32, (offset >> 32) as u32])
    }

    pub fn get(self) -> u64 {
        u64::from(self.0[0]) | (u64::from(self.0[1]) << 32)
    }
}

/// Which load [`Instr::LoadAt`] is (named after the instruction).
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Load {
    I32,
    I64,
    F32,
    F64,
    I32_8S,
    I32_8U,
    I32_16S,
    I32_16U,
    I64_8S,
    I64_8U,
    I64_16S,
    I64_16U,
    I64_32S,
    I64_32U,
}

impl Load {
    /// The load `instr` is and its offset, if it is a load from memory 0.
    pub fn of(instr: Instr) -> Option<(Load, Offset)> {
        let (load, m) = match instr {
            Instr::I32Load(m) => (Load::I32, m),
            Instr::I64Load(m) => (Load::I64, m),
            Instr::F32Load(m) => (Load::F32, m),
            Instr::F64Load(m) => (Load::F64, m),
            Instr::I32Load8S(m) => (Load::I32_8S, m),
            Instr::I32Load8U(m) => (Load::I32_8U, m),
            Instr::I32Load16S(m) => (Load::I32_16S, m),
            Instr::I32Load16U(m) => (Load::I32_16U, m),
            Instr::I64Load8S(m) => (Load::I64_8S, m),
            Instr::I64Load8U(m) => (Load::I64_8U, m),
            Instr::I64Load16S(m) => (Load::I64_16S, m),
            Instr::I64Load16U(m) => (Load::I64_16U, m),
            Instr::I64Load32S(m) => (Load::I64_32S, m),
            Instr::I64Load32U(m) => (Load::I64_32U, m),
            _ => return None,
        };
        (m.mem == 0).then(|| (load, Offset::new(m.offset())))
    }
}

/// How many bytes [`Instr::StoreAt`] writes: the low bytes of the value, little-endian, as the
/// store instructions of that width do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Width {
    B1,
    B2,
    B4,
    B8,
}

impl Width {
    /// The width of the store `instr` is and its offset, if it is a store of a number to
    /// memory 0 with an offset that fits in 32 bits.
    pub fn of_store(instr: Instr) -> Option<(Width, u32)> {
        let (w, m) = match instr {
            Instr::I32Store8(m) | Instr::I64Store8(m) => (Width::B1, m),
            Instr::I32Store16(m) | Instr::I64Store16(m) => (Width::B2, m),
            Instr::I32Store(m) | Instr::F32Store(m) | Instr::I64Store32(m) => (Width::B4, m),
            Instr::I64Store(m) | Instr::F64Store(m) => (Width::B8, m),
            _ => return None,
        };
        let offset = u32::try_from(m.offset()).ok()?;
        (m.mem == 0).then_some((w, offset))
    }
}

/// Where [`Instr::LoadAt`]'s address comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Addr {
    /// Local `a`.
    Local,
    /// The sum (wrapping, 32 bits) of the two operands on top, popped.
    Add,
}

/// Where a register-style form's right operand comes from (its immediate `b`): local `b`, or
/// `b` itself, an `i32.const`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Rhs {
    Local,
    Const,
}

/// A non-trapping float arithmetic operation (a part of [`BinOp`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FloatOp {
    Add,
    Sub,
    Mul,
    Div,
    Min,
    Max,
    Copysign,
}

/// A non-trapping binary operation of two numbers of the same type, named after its
/// instruction: the immediate of [`Instr::BinLocal`] and [`Instr::BinLocals`] (their rule is
/// `exec::numeric::binary`, which applies the rule of the instruction of the same name). One
/// flat enum, not a type and an [`IntOp`] or [`FloatOp`]: choosing the rule is then one jump,
/// not two.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BinOp {
    I32Add,
    I32Sub,
    I32Mul,
    I32And,
    I32Or,
    I32Xor,
    I32Shl,
    I32ShrS,
    I32ShrU,
    I32Rotl,
    I32Rotr,
    I64Add,
    I64Sub,
    I64Mul,
    I64And,
    I64Or,
    I64Xor,
    I64Shl,
    I64ShrS,
    I64ShrU,
    I64Rotl,
    I64Rotr,
    F32Add,
    F32Sub,
    F32Mul,
    F32Div,
    F32Min,
    F32Max,
    F32Copysign,
    F64Add,
    F64Sub,
    F64Mul,
    F64Div,
    F64Min,
    F64Max,
    F64Copysign,
}

impl BinOp {
    /// The operation `instr` is, if it is one of these.
    pub fn of(instr: Instr) -> Option<BinOp> {
        Some(match instr {
            Instr::I32Add => BinOp::I32Add,
            Instr::I32Sub => BinOp::I32Sub,
            Instr::I32Mul => BinOp::I32Mul,
            Instr::I32And => BinOp::I32And,
            Instr::I32Or => BinOp::I32Or,
            Instr::I32Xor => BinOp::I32Xor,
            Instr::I32Shl => BinOp::I32Shl,
            Instr::I32ShrS => BinOp::I32ShrS,
            Instr::I32ShrU => BinOp::I32ShrU,
            Instr::I32Rotl => BinOp::I32Rotl,
            Instr::I32Rotr => BinOp::I32Rotr,
            Instr::I64Add => BinOp::I64Add,
            Instr::I64Sub => BinOp::I64Sub,
            Instr::I64Mul => BinOp::I64Mul,
            Instr::I64And => BinOp::I64And,
            Instr::I64Or => BinOp::I64Or,
            Instr::I64Xor => BinOp::I64Xor,
            Instr::I64Shl => BinOp::I64Shl,
            Instr::I64ShrS => BinOp::I64ShrS,
            Instr::I64ShrU => BinOp::I64ShrU,
            Instr::I64Rotl => BinOp::I64Rotl,
            Instr::I64Rotr => BinOp::I64Rotr,
            Instr::F32Add => BinOp::F32Add,
            Instr::F32Sub => BinOp::F32Sub,
            Instr::F32Mul => BinOp::F32Mul,
            Instr::F32Div => BinOp::F32Div,
            Instr::F32Min => BinOp::F32Min,
            Instr::F32Max => BinOp::F32Max,
            Instr::F32Copysign => BinOp::F32Copysign,
            Instr::F64Add => BinOp::F64Add,
            Instr::F64Sub => BinOp::F64Sub,
            Instr::F64Mul => BinOp::F64Mul,
            Instr::F64Div => BinOp::F64Div,
            Instr::F64Min => BinOp::F64Min,
            Instr::F64Max => BinOp::F64Max,
            Instr::F64Copysign => BinOp::F64Copysign,
            _ => return None,
        })
    }
}

/// A comparison of two numbers of the same type, the immediate of [`Instr::BrIfCmp`] (its
/// rule is `exec::numeric::compare`, inlined into the dispatch loop).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cmp {
    I32Eq,
    I32Ne,
    I32LtS,
    I32LtU,
    I32GtS,
    I32GtU,
    I32LeS,
    I32LeU,
    I32GeS,
    I32GeU,
    I64Eq,
    I64Ne,
    I64LtS,
    I64LtU,
    I64GtS,
    I64GtU,
    I64LeS,
    I64LeU,
    I64GeS,
    I64GeU,
    F32Eq,
    F32Ne,
    F32Lt,
    F32Gt,
    F32Le,
    F32Ge,
    F64Eq,
    F64Ne,
    F64Lt,
    F64Gt,
    F64Le,
    F64Ge,
}

impl Cmp {
    /// Whether this compares two 32-bit numbers (`i32` or `f32`).
    pub fn is_32(self) -> bool {
        matches!(
            self,
            Cmp::F32Eq
                | Cmp::F32Ne
                | Cmp::F32Lt
                | Cmp::F32Gt
                | Cmp::F32Le
                | Cmp::F32Ge
                | Cmp::I32Eq
                | Cmp::I32Ne
                | Cmp::I32LtS
                | Cmp::I32LtU
                | Cmp::I32GtS
                | Cmp::I32GtU
                | Cmp::I32LeS
                | Cmp::I32LeU
                | Cmp::I32GeS
                | Cmp::I32GeU
        )
    }

    /// The comparison `instr` is, if it is a comparison of two operands.
    pub fn of(instr: Instr) -> Option<Cmp> {
        Some(match instr {
            Instr::I32Eq => Cmp::I32Eq,
            Instr::I32Ne => Cmp::I32Ne,
            Instr::I32LtS => Cmp::I32LtS,
            Instr::I32LtU => Cmp::I32LtU,
            Instr::I32GtS => Cmp::I32GtS,
            Instr::I32GtU => Cmp::I32GtU,
            Instr::I32LeS => Cmp::I32LeS,
            Instr::I32LeU => Cmp::I32LeU,
            Instr::I32GeS => Cmp::I32GeS,
            Instr::I32GeU => Cmp::I32GeU,
            Instr::I64Eq => Cmp::I64Eq,
            Instr::I64Ne => Cmp::I64Ne,
            Instr::I64LtS => Cmp::I64LtS,
            Instr::I64LtU => Cmp::I64LtU,
            Instr::I64GtS => Cmp::I64GtS,
            Instr::I64GtU => Cmp::I64GtU,
            Instr::I64LeS => Cmp::I64LeS,
            Instr::I64LeU => Cmp::I64LeU,
            Instr::I64GeS => Cmp::I64GeS,
            Instr::I64GeU => Cmp::I64GeU,
            Instr::F32Eq => Cmp::F32Eq,
            Instr::F32Ne => Cmp::F32Ne,
            Instr::F32Lt => Cmp::F32Lt,
            Instr::F32Gt => Cmp::F32Gt,
            Instr::F32Le => Cmp::F32Le,
            Instr::F32Ge => Cmp::F32Ge,
            Instr::F64Eq => Cmp::F64Eq,
            Instr::F64Ne => Cmp::F64Ne,
            Instr::F64Lt => Cmp::F64Lt,
            Instr::F64Gt => Cmp::F64Gt,
            Instr::F64Le => Cmp::F64Le,
            Instr::F64Ge => Cmp::F64Ge,
            _ => return None,
        })
    }
}

// Each macro declares an enum of SIMD instructions named after wasmparser's operators, with
// the translation from an operator and its immediates (`None` for any other operator).

macro_rules! simd_ops {
    ($(#[$doc:meta])* $name:ident, $($v:ident),* $(,)?) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub(crate) enum $name {
            $($v,)*
        }
        impl $name {
            pub fn from_operator(op: &Operator<'_>) -> Option<$name> {
                match op {
                    $(Operator::$v => Some($name::$v),)*
                    _ => None,
                }
            }
        }
    };
}

macro_rules! simd_lane_ops {
    ($(#[$doc:meta])* $name:ident, $($v:ident),* $(,)?) => {
        $(#[$doc])*
        // Variants keep wasmparser's names, hence the common suffixes.
        #[allow(clippy::enum_variant_names)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub(crate) enum $name {
            $($v,)*
        }
        impl $name {
            pub fn from_operator(op: &Operator<'_>) -> Option<($name, u8)> {
                match op {
                    $(Operator::$v { lane } => Some(($name::$v, *lane)),)*
                    _ => None,
                }
            }
        }
    };
}

macro_rules! simd_loads {
    ($($v:ident),* $(,)?) => {
        /// A SIMD load of a vector, or of part of one that is extended, splat or zero-filled.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub(crate) enum SimdLoad {
            $($v,)*
        }
        impl SimdLoad {
            pub fn from_operator<'a>(
                op: &'a Operator<'_>,
            ) -> Option<(SimdLoad, &'a wasmparser::MemArg)> {
                match op {
                    $(Operator::$v { memarg } => Some((SimdLoad::$v, memarg)),)*
                    _ => None,
                }
            }
        }
    };
}

macro_rules! simd_mem_lane_ops {
    ($($v:ident),* $(,)?) => {
        /// A SIMD load or store of one lane: `v128.loadN_lane` and `v128.storeN_lane`.
        /// (Variants keep wasmparser's names, hence the common suffix.)
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[allow(clippy::enum_variant_names)]
        pub(crate) enum SimdMemLaneOp {
            $($v,)*
        }
        impl SimdMemLaneOp {
            pub fn from_operator<'a>(
                op: &'a Operator<'_>,
            ) -> Option<(SimdMemLaneOp, u8, &'a wasmparser::MemArg)> {
                match op {
                    $(Operator::$v { memarg, lane } => Some((SimdMemLaneOp::$v, *lane, memarg)),)*
                    _ => None,
                }
            }
        }
    };
}

simd_loads!(
    V128Load,
    V128Load8x8S,
    V128Load8x8U,
    V128Load16x4S,
    V128Load16x4U,
    V128Load32x2S,
    V128Load32x2U,
    V128Load8Splat,
    V128Load16Splat,
    V128Load32Splat,
    V128Load64Splat,
    V128Load32Zero,
    V128Load64Zero,
);

simd_mem_lane_ops!(
    V128Load8Lane,
    V128Load16Lane,
    V128Load32Lane,
    V128Load64Lane,
    V128Store8Lane,
    V128Store16Lane,
    V128Store32Lane,
    V128Store64Lane,
);

simd_lane_ops!(
    /// `extract_lane`: a `v128` to the scalar in one lane.
    SimdExtractLane,
    I8x16ExtractLaneS,
    I8x16ExtractLaneU,
    I16x8ExtractLaneS,
    I16x8ExtractLaneU,
    I32x4ExtractLane,
    I64x2ExtractLane,
    F32x4ExtractLane,
    F64x2ExtractLane,
);

simd_lane_ops!(
    /// `replace_lane`: a `v128` and a scalar to the `v128` with one lane replaced.
    SimdReplaceLane,
    I8x16ReplaceLane,
    I16x8ReplaceLane,
    I32x4ReplaceLane,
    I64x2ReplaceLane,
    F32x4ReplaceLane,
    F64x2ReplaceLane,
);

simd_ops!(
    /// A SIMD instruction of one operand: `v128 -> v128`, or a scalar to `v128` (`splat`), or `v128` to `i32` (tests and `bitmask`).
    SimdUnary,
    I8x16Splat,
    I16x8Splat,
    I32x4Splat,
    I64x2Splat,
    F32x4Splat,
    F64x2Splat,
    V128Not,
    V128AnyTrue,
    I8x16Abs,
    I8x16Neg,
    I8x16Popcnt,
    I8x16AllTrue,
    I8x16Bitmask,
    I16x8ExtAddPairwiseI8x16S,
    I16x8ExtAddPairwiseI8x16U,
    I16x8Abs,
    I16x8Neg,
    I16x8AllTrue,
    I16x8Bitmask,
    I16x8ExtendLowI8x16S,
    I16x8ExtendHighI8x16S,
    I16x8ExtendLowI8x16U,
    I16x8ExtendHighI8x16U,
    I32x4ExtAddPairwiseI16x8S,
    I32x4ExtAddPairwiseI16x8U,
    I32x4Abs,
    I32x4Neg,
    I32x4AllTrue,
    I32x4Bitmask,
    I32x4ExtendLowI16x8S,
    I32x4ExtendHighI16x8S,
    I32x4ExtendLowI16x8U,
    I32x4ExtendHighI16x8U,
    I64x2Abs,
    I64x2Neg,
    I64x2AllTrue,
    I64x2Bitmask,
    I64x2ExtendLowI32x4S,
    I64x2ExtendHighI32x4S,
    I64x2ExtendLowI32x4U,
    I64x2ExtendHighI32x4U,
    F32x4Ceil,
    F32x4Floor,
    F32x4Trunc,
    F32x4Nearest,
    F32x4Abs,
    F32x4Neg,
    F32x4Sqrt,
    F64x2Ceil,
    F64x2Floor,
    F64x2Trunc,
    F64x2Nearest,
    F64x2Abs,
    F64x2Neg,
    F64x2Sqrt,
    I32x4TruncSatF32x4S,
    I32x4TruncSatF32x4U,
    F32x4ConvertI32x4S,
    F32x4ConvertI32x4U,
    I32x4TruncSatF64x2SZero,
    I32x4TruncSatF64x2UZero,
    F64x2ConvertLowI32x4S,
    F64x2ConvertLowI32x4U,
    F32x4DemoteF64x2Zero,
    F64x2PromoteLowF32x4,
);

simd_ops!(
    /// A SIMD instruction of two `v128` operands.
    SimdBinary,
    I8x16Swizzle,
    I8x16Eq,
    I8x16Ne,
    I8x16LtS,
    I8x16LtU,
    I8x16GtS,
    I8x16GtU,
    I8x16LeS,
    I8x16LeU,
    I8x16GeS,
    I8x16GeU,
    I16x8Eq,
    I16x8Ne,
    I16x8LtS,
    I16x8LtU,
    I16x8GtS,
    I16x8GtU,
    I16x8LeS,
    I16x8LeU,
    I16x8GeS,
    I16x8GeU,
    I32x4Eq,
    I32x4Ne,
    I32x4LtS,
    I32x4LtU,
    I32x4GtS,
    I32x4GtU,
    I32x4LeS,
    I32x4LeU,
    I32x4GeS,
    I32x4GeU,
    I64x2Eq,
    I64x2Ne,
    I64x2LtS,
    I64x2GtS,
    I64x2LeS,
    I64x2GeS,
    F32x4Eq,
    F32x4Ne,
    F32x4Lt,
    F32x4Gt,
    F32x4Le,
    F32x4Ge,
    F64x2Eq,
    F64x2Ne,
    F64x2Lt,
    F64x2Gt,
    F64x2Le,
    F64x2Ge,
    V128And,
    V128AndNot,
    V128Or,
    V128Xor,
    I8x16NarrowI16x8S,
    I8x16NarrowI16x8U,
    I8x16Add,
    I8x16AddSatS,
    I8x16AddSatU,
    I8x16Sub,
    I8x16SubSatS,
    I8x16SubSatU,
    I8x16MinS,
    I8x16MinU,
    I8x16MaxS,
    I8x16MaxU,
    I8x16AvgrU,
    I16x8Q15MulrSatS,
    I16x8NarrowI32x4S,
    I16x8NarrowI32x4U,
    I16x8Add,
    I16x8AddSatS,
    I16x8AddSatU,
    I16x8Sub,
    I16x8SubSatS,
    I16x8SubSatU,
    I16x8Mul,
    I16x8MinS,
    I16x8MinU,
    I16x8MaxS,
    I16x8MaxU,
    I16x8AvgrU,
    I16x8ExtMulLowI8x16S,
    I16x8ExtMulHighI8x16S,
    I16x8ExtMulLowI8x16U,
    I16x8ExtMulHighI8x16U,
    I32x4Add,
    I32x4Sub,
    I32x4Mul,
    I32x4MinS,
    I32x4MinU,
    I32x4MaxS,
    I32x4MaxU,
    I32x4DotI16x8S,
    I32x4ExtMulLowI16x8S,
    I32x4ExtMulHighI16x8S,
    I32x4ExtMulLowI16x8U,
    I32x4ExtMulHighI16x8U,
    I64x2Add,
    I64x2Sub,
    I64x2Mul,
    I64x2ExtMulLowI32x4S,
    I64x2ExtMulHighI32x4S,
    I64x2ExtMulLowI32x4U,
    I64x2ExtMulHighI32x4U,
    F32x4Add,
    F32x4Sub,
    F32x4Mul,
    F32x4Div,
    F32x4Min,
    F32x4Max,
    F32x4PMin,
    F32x4PMax,
    F64x2Add,
    F64x2Sub,
    F64x2Mul,
    F64x2Div,
    F64x2Min,
    F64x2Max,
    F64x2PMin,
    F64x2PMax,
);

simd_ops!(
    /// A SIMD instruction of three `v128` operands.
    SimdTernary,
    V128Bitselect,
);

simd_ops!(
    /// A relaxed SIMD instruction of one `v128` (see `exec/simd/relaxed.rs`).
    RelaxedUnary,
    I32x4RelaxedTruncF32x4S,
    I32x4RelaxedTruncF32x4U,
    I32x4RelaxedTruncF64x2SZero,
    I32x4RelaxedTruncF64x2UZero,
);

simd_ops!(
    /// A relaxed SIMD instruction of two `v128`s.
    RelaxedBinary,
    I8x16RelaxedSwizzle,
    F32x4RelaxedMin,
    F32x4RelaxedMax,
    F64x2RelaxedMin,
    F64x2RelaxedMax,
    I16x8RelaxedQ15mulrS,
    I16x8RelaxedDotI8x16I7x16S,
);

simd_ops!(
    /// A relaxed SIMD instruction of three `v128`s.
    RelaxedTernary,
    F32x4RelaxedMadd,
    F32x4RelaxedNmadd,
    F64x2RelaxedMadd,
    F64x2RelaxedNmadd,
    I8x16RelaxedLaneselect,
    I16x8RelaxedLaneselect,
    I32x4RelaxedLaneselect,
    I64x2RelaxedLaneselect,
    I32x4RelaxedDotI8x16I7x16AddS,
);

simd_ops!(
    /// A SIMD shift: a `v128` and an `i32` count.
    SimdShift,
    I8x16Shl,
    I8x16ShrS,
    I8x16ShrU,
    I16x8Shl,
    I16x8ShrS,
    I16x8ShrU,
    I32x4Shl,
    I32x4ShrS,
    I32x4ShrU,
    I64x2Shl,
    I64x2ShrS,
    I64x2ShrU,
);
