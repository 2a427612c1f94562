//! The instruction table: every instruction of WebAssembly 2.0 and of the 3.0 features added so
//! far (tail calls), one row each (a few
//! polymorphic ones, such as `drop` or `table.get`, once per operand type), with its signature
//! in a one-instruction function, its immediates, its memory access and the features it needs.
//!
//! The `single_op` fuzz target, the proptest suites (`tests/proptest_ops.rs`,
//! `tests/proptest_simd.rs`) and the runtime's every-operator compile test read it; the table is
//! checked against wasmparser's operator list (`tests/ops_table.rs`), so an operator cannot be
//! missing or extra. A new proposal's instructions are new rows with their feature in `needs`.
//!
//! The signatures and immediates are those of the instruction alone in the body of a function
//! whose parameters are its operands, in the module [`crate::targets::one_op::Instance::wat`]
//! builds: a two-page memory, a passive data segment `$d`, a funcref table `$t` with a passive
//! element segment `$e`, an externref table `$x`, a function `$g` returning an i32 and its type
//! `$v`, a mutable i64 global `$gm`, and in the function an i32 local `$l`.

use std::sync::OnceLock;

use wasmparser::ValType;

use crate::engine::WasmFeatures;

/// What an instruction carries besides its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Imm {
    None,
    /// `offset=` and `align=` (up to the natural alignment of [`Op::access`]).
    MemArg,
    /// A lane index below the count.
    Lane(u8),
    /// A memarg, then a lane index below the count (`v128.load8_lane` ...).
    MemArgLane(u8),
    /// A constant of the result type (`i32.const` ... `v128.const`).
    Const,
    /// Sixteen lane indices below 32 (`i8x16.shuffle`).
    Shuffle,
    /// Fixed immediate text naming the standard module's items (a label, local, segment, table
    /// or type), or closing a block (`block end`).
    Text(&'static str),
    /// `select`'s type annotation (the typed form of `select`).
    SelectType(&'static str),
}

/// How an instruction touches the memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    None,
    /// Reads `bytes` at the effective address (natural alignment: `bytes`).
    Load {
        bytes: u32,
    },
    /// Writes `bytes` at the effective address.
    Store {
        bytes: u32,
    },
    /// Reads or writes a range given by operands, or the size (`memory.size`, `memory.fill` ...).
    Whole,
}

impl Access {
    /// log2 of the natural alignment of a load or store.
    pub fn natural_alignment(self) -> Option<u32> {
        match self {
            Access::Load { bytes } | Access::Store { bytes } => Some(bytes.trailing_zeros()),
            Access::None | Access::Whole => None,
        }
    }
}

/// One instruction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Op {
    /// The text-format name (`i32.add`, `v128.load8_lane`).
    pub name: String,
    pub params: Vec<ValType>,
    pub results: Vec<ValType>,
    pub imm: Imm,
    pub access: Access,
    /// The features a module using it must enable (empty: the MVP).
    pub needs: WasmFeatures,
}

impl Op {
    /// The wasmparser operator it is (`visit_i32_add`, `visit_typed_select`).
    pub fn operator(&self) -> String {
        match self.imm {
            Imm::SelectType(_) => "visit_typed_select".to_string(),
            _ => format!("visit_{}", self.name.replace('.', "_")),
        }
    }

    /// A scalar numeric instruction (`i32.add`, `f64.sqrt`, `i64.extend_i32_s`): no immediate,
    /// no memory, named after a scalar type.
    pub fn is_scalar_numeric(&self) -> bool {
        self.imm == Imm::None
            && self.access == Access::None
            && ["i32.", "i64.", "f32.", "f64."]
                .iter()
                .any(|p| self.name.starts_with(p))
    }

    /// A conversion: its operand has another type than its name's (`i32.wrap_i64`).
    pub fn is_conversion(&self) -> bool {
        let own = self.name.split('.').next().unwrap_or_default();
        self.params.iter().any(|&p| type_name(p) != own)
    }

    /// The instruction's text with immediate text `imm` (empty when none).
    pub fn text(&self, imm: &str) -> String {
        if imm.is_empty() {
            self.name.clone()
        } else {
            format!("{} {imm}", self.name)
        }
    }
}

/// The text-format name of a value type.
pub fn type_name(t: ValType) -> &'static str {
    match t {
        ValType::I32 => "i32",
        ValType::I64 => "i64",
        ValType::F32 => "f32",
        ValType::F64 => "f64",
        ValType::V128 => "v128",
        ValType::Ref(r) if r.is_func_ref() => "funcref",
        ValType::Ref(_) => "externref",
    }
}

/// Every instruction, in table order.
pub fn all() -> &'static [Op] {
    static OPS: OnceLock<Vec<Op>> = OnceLock::new();
    OPS.get_or_init(build)
}

/// The instructions whose features are all in `features`, in table order.
pub fn supported(features: WasmFeatures) -> Vec<&'static Op> {
    all()
        .iter()
        .filter(|o| features.contains(o.needs))
        .collect()
}

/// The operators of wasmparser's list that are no instruction of their own, with the reason.
pub const NOT_INSTRUCTIONS: &[(&str, &str)] = &[
    (
        "visit_else",
        "part of `if` (the table's `if end` has no else arm)",
    ),
    ("visit_end", "closes a block, a function or an expression"),
    (
        "visit_typed_select_multi",
        "a multi-value select, invalid in every version",
    ),
];

const I32: ValType = ValType::I32;
const I64: ValType = ValType::I64;
const F32: ValType = ValType::F32;
const F64: ValType = ValType::F64;
const V128: ValType = ValType::V128;
const FUNCREF: ValType = ValType::FUNCREF;
const EXTERNREF: ValType = ValType::EXTERNREF;

/// Rows are added to a table through this, with the feature of the section being written.
struct Table {
    ops: Vec<Op>,
    needs: WasmFeatures,
}

impl Table {
    fn row(&mut self, name: impl Into<String>, params: &[ValType], results: &[ValType]) {
        self.with(name, params, results, Imm::None, Access::None);
    }

    fn with(
        &mut self,
        name: impl Into<String>,
        params: &[ValType],
        results: &[ValType],
        imm: Imm,
        access: Access,
    ) {
        self.ops.push(Op {
            name: name.into(),
            params: params.to_vec(),
            results: results.to_vec(),
            imm,
            access,
            needs: self.needs,
        });
    }
}

fn build() -> Vec<Op> {
    let mut t = Table {
        ops: Vec::new(),
        needs: WasmFeatures::empty(),
    };
    control_and_variables(&mut t);
    integers(&mut t);
    floats(&mut t);
    conversions(&mut t);
    memory(&mut t);
    tables_and_references(&mut t);
    simd(&mut t);
    tail_calls(&mut t);
    t.ops
}

fn control_and_variables(t: &mut Table) {
    let text = Imm::Text;
    t.row("unreachable", &[], &[]);
    t.row("nop", &[], &[]);
    t.with("block", &[], &[], text("end"), Access::None);
    t.with("loop", &[], &[], text("end"), Access::None);
    t.with("if", &[I32], &[], text("end"), Access::None);
    t.with("br", &[I32], &[I32], text("0"), Access::None);
    t.with("br_if", &[I32, I32], &[I32], text("0"), Access::None);
    t.with("br_table", &[I32, I32], &[I32], text("0 0"), Access::None);
    t.row("return", &[I32], &[I32]);
    t.with("call", &[], &[I32], text("$g"), Access::None);
    t.with(
        "call_indirect",
        &[I32],
        &[I32],
        text("$t (type $v)"),
        Access::None,
    );
    t.row("drop", &[I64], &[]);
    t.row("select", &[I32, I32, I32], &[I32]);
    t.with("local.get", &[], &[I32], text("$l"), Access::None);
    t.with("local.set", &[I32], &[], text("$l"), Access::None);
    t.with("local.tee", &[I32], &[I32], text("$l"), Access::None);
    t.with("global.get", &[], &[I64], text("$gm"), Access::None);
    t.with("global.set", &[I64], &[], text("$gm"), Access::None);
    for ty in [I32, I64, F32, F64] {
        t.with(
            format!("{}.const", type_name(ty)),
            &[],
            &[ty],
            Imm::Const,
            Access::None,
        );
    }
}

fn integers(t: &mut Table) {
    for ty in [I32, I64] {
        let name = type_name(ty);
        for op in ["clz", "ctz", "popcnt"] {
            t.row(format!("{name}.{op}"), &[ty], &[ty]);
        }
        t.row(format!("{name}.eqz"), &[ty], &[I32]);
        for op in [
            "add", "sub", "mul", "div_s", "div_u", "rem_s", "rem_u", "and", "or", "xor", "shl",
            "shr_s", "shr_u", "rotl", "rotr",
        ] {
            t.row(format!("{name}.{op}"), &[ty, ty], &[ty]);
        }
        for op in [
            "eq", "ne", "lt_s", "lt_u", "gt_s", "gt_u", "le_s", "le_u", "ge_s", "ge_u",
        ] {
            t.row(format!("{name}.{op}"), &[ty, ty], &[I32]);
        }
    }
    t.needs = WasmFeatures::SIGN_EXTENSION;
    t.row("i32.extend8_s", &[I32], &[I32]);
    t.row("i32.extend16_s", &[I32], &[I32]);
    t.row("i64.extend8_s", &[I64], &[I64]);
    t.row("i64.extend16_s", &[I64], &[I64]);
    t.row("i64.extend32_s", &[I64], &[I64]);
    t.needs = WasmFeatures::empty();
}

fn floats(t: &mut Table) {
    for ty in [F32, F64] {
        let name = type_name(ty);
        for op in ["abs", "neg", "ceil", "floor", "trunc", "nearest", "sqrt"] {
            t.row(format!("{name}.{op}"), &[ty], &[ty]);
        }
        for op in ["add", "sub", "mul", "div", "min", "max", "copysign"] {
            t.row(format!("{name}.{op}"), &[ty, ty], &[ty]);
        }
        for op in ["eq", "ne", "lt", "gt", "le", "ge"] {
            t.row(format!("{name}.{op}"), &[ty, ty], &[I32]);
        }
    }
}

fn conversions(t: &mut Table) {
    t.row("i32.wrap_i64", &[I64], &[I32]);
    t.row("i64.extend_i32_s", &[I32], &[I64]);
    t.row("i64.extend_i32_u", &[I32], &[I64]);
    t.row("f32.demote_f64", &[F64], &[F32]);
    t.row("f64.promote_f32", &[F32], &[F64]);
    t.row("i32.reinterpret_f32", &[F32], &[I32]);
    t.row("i64.reinterpret_f64", &[F64], &[I64]);
    t.row("f32.reinterpret_i32", &[I32], &[F32]);
    t.row("f64.reinterpret_i64", &[I64], &[F64]);
    let pairs = [(I32, F32), (I32, F64), (I64, F32), (I64, F64)];
    for (int, float) in pairs {
        let (i, f) = (type_name(int), type_name(float));
        for s in ["s", "u"] {
            t.row(format!("{i}.trunc_{f}_{s}"), &[float], &[int]);
            t.row(format!("{f}.convert_{i}_{s}"), &[int], &[float]);
        }
    }
    t.needs = WasmFeatures::SATURATING_FLOAT_TO_INT;
    for (int, float) in pairs {
        let (i, f) = (type_name(int), type_name(float));
        for s in ["s", "u"] {
            t.row(format!("{i}.trunc_sat_{f}_{s}"), &[float], &[int]);
        }
    }
    t.needs = WasmFeatures::empty();
}

fn memory(t: &mut Table) {
    // Full-width accesses, then the narrow integer ones: `i32.load8_s` ... `i64.store32`.
    let full = [(I32, 4), (I64, 8), (F32, 4), (F64, 8)];
    let narrow: [(ValType, &[u32]); 2] = [(I32, &[1, 2]), (I64, &[1, 2, 4])];
    for (ty, bytes) in full {
        let name = format!("{}.load", type_name(ty));
        t.with(name, &[I32], &[ty], Imm::MemArg, Access::Load { bytes });
    }
    for (ty, widths) in narrow {
        for &bytes in widths {
            for s in ["s", "u"] {
                let name = format!("{}.load{}_{s}", type_name(ty), bytes * 8);
                t.with(name, &[I32], &[ty], Imm::MemArg, Access::Load { bytes });
            }
        }
    }
    for (ty, bytes) in full {
        let name = format!("{}.store", type_name(ty));
        t.with(name, &[I32, ty], &[], Imm::MemArg, Access::Store { bytes });
    }
    for (ty, widths) in narrow {
        for &bytes in widths {
            let name = format!("{}.store{}", type_name(ty), bytes * 8);
            t.with(name, &[I32, ty], &[], Imm::MemArg, Access::Store { bytes });
        }
    }
    t.with("memory.size", &[], &[I32], Imm::None, Access::Whole);
    t.with("memory.grow", &[I32], &[I32], Imm::None, Access::Whole);
    t.needs = WasmFeatures::BULK_MEMORY;
    t.with(
        "memory.fill",
        &[I32, I32, I32],
        &[],
        Imm::None,
        Access::Whole,
    );
    t.with(
        "memory.copy",
        &[I32, I32, I32],
        &[],
        Imm::None,
        Access::Whole,
    );
    let d = Imm::Text("$d");
    t.with("memory.init", &[I32, I32, I32], &[], d, Access::Whole);
    t.with("data.drop", &[], &[], d, Access::None);
    t.needs = WasmFeatures::empty();
}

fn tables_and_references(t: &mut Table) {
    t.needs = WasmFeatures::BULK_MEMORY;
    let none = Access::None;
    t.with(
        "table.init",
        &[I32, I32, I32],
        &[],
        Imm::Text("$t $e"),
        none,
    );
    t.with("elem.drop", &[], &[], Imm::Text("$e"), none);
    t.with(
        "table.copy",
        &[I32, I32, I32],
        &[],
        Imm::Text("$t $t"),
        none,
    );
    t.needs = WasmFeatures::REFERENCE_TYPES;
    for (table, r) in [("$t", FUNCREF), ("$x", EXTERNREF)] {
        let imm = Imm::Text(table);
        t.with("table.get", &[I32], &[r], imm, none);
        t.with("table.set", &[I32, r], &[], imm, none);
        t.with("table.size", &[], &[I32], imm, none);
        t.with("table.grow", &[r, I32], &[I32], imm, none);
        t.with("table.fill", &[I32, r, I32], &[], imm, none);
    }
    t.row("ref.is_null", &[EXTERNREF], &[I32]);
    t.row("ref.is_null", &[FUNCREF], &[I32]);
    t.with("ref.null", &[], &[FUNCREF], Imm::Text("func"), none);
    t.with("ref.null", &[], &[EXTERNREF], Imm::Text("extern"), none);
    t.with("ref.func", &[], &[FUNCREF], Imm::Text("$g"), none);
    let typed = Imm::SelectType("(result f64)");
    t.with("select", &[F64, F64, I32], &[F64], typed, none);
    t.needs = WasmFeatures::empty();
}

/// Wasm 3.0's tail calls (`return_call_ref` comes with typed function references).
fn tail_calls(t: &mut Table) {
    t.needs = WasmFeatures::TAIL_CALL;
    t.with("return_call", &[], &[I32], Imm::Text("$g"), Access::None);
    let indirect = Imm::Text("$t (type $v)");
    t.with(
        "return_call_indirect",
        &[I32],
        &[I32],
        indirect,
        Access::None,
    );
    t.needs = WasmFeatures::empty();
}

/// Every fixed-width SIMD instruction (relaxed SIMD excluded).
fn simd(t: &mut Table) {
    t.needs = WasmFeatures::SIMD;
    simd_plain(t);
    for (shape, lane, lanes, signed) in [
        ("i8x16", I32, 16, true),
        ("i16x8", I32, 8, true),
        ("i32x4", I32, 4, false),
        ("i64x2", I64, 2, false),
        ("f32x4", F32, 4, false),
        ("f64x2", F64, 2, false),
    ] {
        let imm = Imm::Lane(lanes);
        if signed {
            for s in ["s", "u"] {
                t.with(
                    format!("{shape}.extract_lane_{s}"),
                    &[V128],
                    &[lane],
                    imm,
                    Access::None,
                );
            }
        } else {
            t.with(
                format!("{shape}.extract_lane"),
                &[V128],
                &[lane],
                imm,
                Access::None,
            );
        }
        let replace = format!("{shape}.replace_lane");
        t.with(replace, &[V128, lane], &[V128], imm, Access::None);
    }
    for (name, bytes) in [
        ("v128.load", 16),
        ("v128.load8x8_s", 8),
        ("v128.load8x8_u", 8),
        ("v128.load16x4_s", 8),
        ("v128.load16x4_u", 8),
        ("v128.load32x2_s", 8),
        ("v128.load32x2_u", 8),
        ("v128.load8_splat", 1),
        ("v128.load16_splat", 2),
        ("v128.load32_splat", 4),
        ("v128.load64_splat", 8),
        ("v128.load32_zero", 4),
        ("v128.load64_zero", 8),
    ] {
        t.with(name, &[I32], &[V128], Imm::MemArg, Access::Load { bytes });
    }
    t.with(
        "v128.store",
        &[I32, V128],
        &[],
        Imm::MemArg,
        Access::Store { bytes: 16 },
    );
    for (bits, lanes) in [(8, 16), (16, 8), (32, 4), (64, 2)] {
        let (imm, bytes) = (Imm::MemArgLane(lanes), bits / 8);
        let load = format!("v128.load{bits}_lane");
        t.with(load, &[I32, V128], &[V128], imm, Access::Load { bytes });
    }
    for (bits, lanes) in [(8, 16), (16, 8), (32, 4), (64, 2)] {
        let (imm, bytes) = (Imm::MemArgLane(lanes), bits / 8);
        let store = format!("v128.store{bits}_lane");
        t.with(store, &[I32, V128], &[], imm, Access::Store { bytes });
    }
    t.with("v128.const", &[], &[V128], Imm::Const, Access::None);
    t.with(
        "i8x16.shuffle",
        &[V128, V128],
        &[V128],
        Imm::Shuffle,
        Access::None,
    );
    t.needs = WasmFeatures::empty();
}

/// The SIMD instructions without immediates.
fn simd_plain(t: &mut Table) {
    let unary = |t: &mut Table, op: String| t.row(op, &[V128], &[V128]);
    let binary = |t: &mut Table, op: String| t.row(op, &[V128, V128], &[V128]);
    binary(t, "i8x16.swizzle".to_string());
    for (shape, lane) in [
        ("i8x16", I32),
        ("i16x8", I32),
        ("i32x4", I32),
        ("i64x2", I64),
        ("f32x4", F32),
        ("f64x2", F64),
    ] {
        t.row(format!("{shape}.splat"), &[lane], &[V128]);
    }
    for shape in ["i8x16", "i16x8", "i32x4"] {
        for op in [
            "eq", "ne", "lt_s", "lt_u", "gt_s", "gt_u", "le_s", "le_u", "ge_s", "ge_u",
        ] {
            binary(t, format!("{shape}.{op}"));
        }
    }
    for op in ["eq", "ne", "lt_s", "gt_s", "le_s", "ge_s"] {
        binary(t, format!("i64x2.{op}"));
    }
    for shape in ["f32x4", "f64x2"] {
        for op in ["eq", "ne", "lt", "gt", "le", "ge"] {
            binary(t, format!("{shape}.{op}"));
        }
    }
    unary(t, "v128.not".to_string());
    for op in ["and", "andnot", "or", "xor"] {
        binary(t, format!("v128.{op}"));
    }
    t.row("v128.bitselect", &[V128, V128, V128], &[V128]);
    t.row("v128.any_true", &[V128], &[I32]);
    for shape in ["i8x16", "i16x8", "i32x4", "i64x2"] {
        for op in ["abs", "neg"] {
            unary(t, format!("{shape}.{op}"));
        }
        for op in ["all_true", "bitmask"] {
            t.row(format!("{shape}.{op}"), &[V128], &[I32]);
        }
        for op in ["shl", "shr_s", "shr_u"] {
            t.row(format!("{shape}.{op}"), &[V128, I32], &[V128]);
        }
        for op in ["add", "sub"] {
            binary(t, format!("{shape}.{op}"));
        }
    }
    unary(t, "i8x16.popcnt".to_string());
    for shape in ["i8x16", "i16x8"] {
        for op in ["add_sat_s", "add_sat_u", "sub_sat_s", "sub_sat_u", "avgr_u"] {
            binary(t, format!("{shape}.{op}"));
        }
    }
    for shape in ["i8x16", "i16x8", "i32x4"] {
        for op in ["min_s", "min_u", "max_s", "max_u"] {
            binary(t, format!("{shape}.{op}"));
        }
    }
    for shape in ["i16x8", "i32x4", "i64x2"] {
        binary(t, format!("{shape}.mul"));
    }
    for (to, from) in [("i8x16", "i16x8"), ("i16x8", "i32x4")] {
        for s in ["s", "u"] {
            binary(t, format!("{to}.narrow_{from}_{s}"));
        }
    }
    for (to, from) in [("i16x8", "i8x16"), ("i32x4", "i16x8"), ("i64x2", "i32x4")] {
        for half in ["low", "high"] {
            for s in ["s", "u"] {
                unary(t, format!("{to}.extend_{half}_{from}_{s}"));
                binary(t, format!("{to}.extmul_{half}_{from}_{s}"));
            }
        }
    }
    for (to, from) in [("i16x8", "i8x16"), ("i32x4", "i16x8")] {
        for s in ["s", "u"] {
            unary(t, format!("{to}.extadd_pairwise_{from}_{s}"));
        }
    }
    binary(t, "i16x8.q15mulr_sat_s".to_string());
    binary(t, "i32x4.dot_i16x8_s".to_string());
    for shape in ["f32x4", "f64x2"] {
        for op in ["ceil", "floor", "trunc", "nearest", "abs", "neg", "sqrt"] {
            unary(t, format!("{shape}.{op}"));
        }
        for op in ["add", "sub", "mul", "div", "min", "max", "pmin", "pmax"] {
            binary(t, format!("{shape}.{op}"));
        }
    }
    for op in [
        "i32x4.trunc_sat_f32x4_s",
        "i32x4.trunc_sat_f32x4_u",
        "f32x4.convert_i32x4_s",
        "f32x4.convert_i32x4_u",
        "i32x4.trunc_sat_f64x2_s_zero",
        "i32x4.trunc_sat_f64x2_u_zero",
        "f64x2.convert_low_i32x4_s",
        "f64x2.convert_low_i32x4_u",
        "f32x4.demote_f64x2_zero",
        "f64x2.promote_low_f32x4",
    ] {
        unary(t, op.to_string());
    }
}

/// The text of a float constant with bits `bits` of a `width`-bit float: NaN payloads and
/// the sign survive (`-nan:0x200001`), other values print exactly.
pub fn float_text(bits: u64, width: u32) -> String {
    let (sign, payload_mask) = match width {
        32 => (bits >> 31 & 1 == 1, 0x7f_ffffu64),
        _ => (bits >> 63 & 1 == 1, 0xf_ffff_ffff_ffff),
    };
    let sign = if sign { "-" } else { "" };
    let (nan, inf) = match width {
        32 => {
            let x = f32::from_bits(bits as u32);
            (x.is_nan(), x.is_infinite())
        }
        _ => {
            let x = f64::from_bits(bits);
            (x.is_nan(), x.is_infinite())
        }
    };
    if nan {
        format!("{sign}nan:0x{:x}", bits & payload_mask)
    } else if inf {
        format!("{sign}inf")
    } else if width == 32 {
        format!("{:?}", f32::from_bits(bits as u32))
    } else {
        format!("{:?}", f64::from_bits(bits))
    }
}
