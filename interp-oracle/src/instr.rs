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
//! Everything else is one variant per Wasm instruction.

/// A resolved branch: the spec's `br l` with the label `l` looked up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Branch {
    /// Instruction index to continue at; [`Branch::RETURN`] means "return from the function".
    pub target: u32,
    /// Operand-stack height (relative to the frame's operand base) of the target label.
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
    pub offset: u32,
    pub mem: u32,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Instr {
    // Control.
    Unreachable,
    /// An instruction the oracle does not execute (SIMD and later proposals): traps.
    Unsupported,
    Jump(u32),
    /// `if`: jump to the pc when the condition is zero.
    BrUnless(u32),
    Br(Branch),
    BrIf(Branch),
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

    // Parametric.
    Drop,
    Select,

    // Variables.
    LocalGet(u32),
    LocalSet(u32),
    LocalTee(u32),
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
    RefFunc(u32),

    // Constants: `i32.const`/`f32.const` push 32 bits, `i64.const`/`f64.const` 64 bits.
    Const32(u32),
    Const64(u64),

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
}
