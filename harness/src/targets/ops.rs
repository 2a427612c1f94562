//! The instructions of the `single_op` target and the one-instruction modules that hold them.
//!
//! Each entry of [`OPS`] is one instruction with its operand and result types and the features
//! it needs. A module holds the instruction in an exported function `f` whose parameters are the
//! operands, next to a two-page memory (exported, with fuzzer-chosen contents at both ends), a
//! passive data segment, a funcref table with a passive element segment, and an externref table,
//! so memory, table and bulk instructions have something to work on.

use std::fmt;
use std::sync::OnceLock;

use arbitrary::Unstructured;
use wasmparser::ValType;

use crate::engine::{Val, WasmFeatures};
use crate::fuzz::case::edge_value;
use crate::fuzz::rng::Rng;

/// What an instruction carries besides its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Imm {
    None,
    /// `offset=` and `align=` up to the natural alignment (log2).
    MemArg {
        natural: u32,
    },
    /// A lane index below the count.
    Lane(u8),
    /// A fixed immediate text (a segment or table name).
    Text(&'static str),
}

/// One instruction.
#[derive(Clone, Debug)]
pub struct Op {
    pub name: String,
    pub params: Vec<ValType>,
    pub results: Vec<ValType>,
    pub imm: Imm,
    pub needs: WasmFeatures,
}

fn ty(s: &str) -> ValType {
    match s {
        "i32" => ValType::I32,
        "i64" => ValType::I64,
        "f32" => ValType::F32,
        "f64" => ValType::F64,
        "v128" => ValType::V128,
        "funcref" => ValType::FUNCREF,
        "externref" => ValType::EXTERNREF,
        other => unreachable!("type {other} in the op table"),
    }
}

fn type_name(t: ValType) -> &'static str {
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

/// Table rows: `"name params -> results"` (types separated by spaces, either side may be empty).
fn rows(out: &mut Vec<Op>, table: &str, imm: Imm, needs: WasmFeatures) {
    for line in table.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (lhs, rhs) = line.split_once("->").expect("an arrow in the op table");
        let mut words = lhs.split_whitespace();
        let name = words.next().expect("an op name").to_string();
        out.push(Op {
            name,
            params: words.map(ty).collect(),
            results: rhs.split_whitespace().map(ty).collect(),
            imm,
            needs,
        });
    }
}

fn build() -> Vec<Op> {
    use WasmFeatures as F;
    let mvp = F::empty();
    let mut ops = Vec::new();
    let mut table = String::new();
    for t in ["i32", "i64"] {
        for op in ["clz", "ctz", "popcnt"] {
            table.push_str(&format!("{t}.{op} {t} -> {t}\n"));
        }
        table.push_str(&format!("{t}.eqz {t} -> i32\n"));
        for op in [
            "add", "sub", "mul", "div_s", "div_u", "rem_s", "rem_u", "and", "or", "xor", "shl",
            "shr_s", "shr_u", "rotl", "rotr",
        ] {
            table.push_str(&format!("{t}.{op} {t} {t} -> {t}\n"));
        }
        for op in [
            "eq", "ne", "lt_s", "lt_u", "gt_s", "gt_u", "le_s", "le_u", "ge_s", "ge_u",
        ] {
            table.push_str(&format!("{t}.{op} {t} {t} -> i32\n"));
        }
    }
    for t in ["f32", "f64"] {
        for op in ["abs", "neg", "ceil", "floor", "trunc", "nearest", "sqrt"] {
            table.push_str(&format!("{t}.{op} {t} -> {t}\n"));
        }
        for op in ["add", "sub", "mul", "div", "min", "max", "copysign"] {
            table.push_str(&format!("{t}.{op} {t} {t} -> {t}\n"));
        }
        for op in ["eq", "ne", "lt", "gt", "le", "ge"] {
            table.push_str(&format!("{t}.{op} {t} {t} -> i32\n"));
        }
    }
    table.push_str(
        "i32.wrap_i64 i64 -> i32
         i64.extend_i32_s i32 -> i64\n i64.extend_i32_u i32 -> i64
         f32.demote_f64 f64 -> f32\n f64.promote_f32 f32 -> f64
         i32.reinterpret_f32 f32 -> i32\n i64.reinterpret_f64 f64 -> i64
         f32.reinterpret_i32 i32 -> f32\n f64.reinterpret_i64 i64 -> f64
         memory.size -> i32\n memory.grow i32 -> i32
         select i32 i32 i32 -> i32\n drop i64 ->",
    );
    for (i, f) in [
        ("i32", "f32"),
        ("i32", "f64"),
        ("i64", "f32"),
        ("i64", "f64"),
    ] {
        for s in ["s", "u"] {
            table.push_str(&format!("\n{i}.trunc_{f}_{s} {f} -> {i}\n"));
            table.push_str(&format!("{f}.convert_{i}_{s} {i} -> {f}\n"));
        }
    }
    rows(&mut ops, &table, Imm::None, mvp);

    let mut sat = String::new();
    for (i, f) in [
        ("i32", "f32"),
        ("i32", "f64"),
        ("i64", "f32"),
        ("i64", "f64"),
    ] {
        for s in ["s", "u"] {
            sat.push_str(&format!("{i}.trunc_sat_{f}_{s} {f} -> {i}\n"));
        }
    }
    rows(&mut ops, &sat, Imm::None, F::SATURATING_FLOAT_TO_INT);
    rows(
        &mut ops,
        "i32.extend8_s i32 -> i32\n i32.extend16_s i32 -> i32
         i64.extend8_s i64 -> i64\n i64.extend16_s i64 -> i64\n i64.extend32_s i64 -> i64",
        Imm::None,
        F::SIGN_EXTENSION,
    );

    for (name, t, natural) in [
        ("i32.load", "i32", 2),
        ("i64.load", "i64", 3),
        ("f32.load", "f32", 2),
        ("f64.load", "f64", 3),
        ("i32.load8_s", "i32", 0),
        ("i32.load8_u", "i32", 0),
        ("i32.load16_s", "i32", 1),
        ("i32.load16_u", "i32", 1),
        ("i64.load8_s", "i64", 0),
        ("i64.load8_u", "i64", 0),
        ("i64.load16_s", "i64", 1),
        ("i64.load16_u", "i64", 1),
        ("i64.load32_s", "i64", 2),
        ("i64.load32_u", "i64", 2),
    ] {
        rows(
            &mut ops,
            &format!("{name} i32 -> {t}"),
            Imm::MemArg { natural },
            mvp,
        );
    }
    for (name, t, natural) in [
        ("i32.store", "i32", 2),
        ("i64.store", "i64", 3),
        ("f32.store", "f32", 2),
        ("f64.store", "f64", 3),
        ("i32.store8", "i32", 0),
        ("i32.store16", "i32", 1),
        ("i64.store8", "i64", 0),
        ("i64.store16", "i64", 1),
        ("i64.store32", "i64", 2),
    ] {
        rows(
            &mut ops,
            &format!("{name} i32 {t} ->"),
            Imm::MemArg { natural },
            mvp,
        );
    }

    rows(
        &mut ops,
        "memory.fill i32 i32 i32 ->\n memory.copy i32 i32 i32 ->",
        Imm::None,
        F::BULK_MEMORY,
    );
    rows(
        &mut ops,
        "memory.init i32 i32 i32 ->",
        Imm::Text("$d"),
        F::BULK_MEMORY,
    );
    rows(&mut ops, "data.drop ->", Imm::Text("$d"), F::BULK_MEMORY);
    rows(
        &mut ops,
        "table.init i32 i32 i32 ->",
        Imm::Text("$t $e"),
        F::BULK_MEMORY,
    );
    rows(&mut ops, "elem.drop ->", Imm::Text("$e"), F::BULK_MEMORY);
    rows(
        &mut ops,
        "table.copy i32 i32 i32 ->",
        Imm::Text("$t $t"),
        F::BULK_MEMORY,
    );
    rows(
        &mut ops,
        "call_indirect i32 -> i32",
        Imm::Text("$t (type $v)"),
        mvp,
    );
    let refs = F::REFERENCE_TYPES;
    rows(
        &mut ops,
        "table.get i32 -> funcref\n table.set i32 funcref ->\n table.size -> i32
         table.grow funcref i32 -> i32\n table.fill i32 funcref i32 ->",
        Imm::Text("$t"),
        refs,
    );
    rows(
        &mut ops,
        "table.get i32 -> externref\n table.set i32 externref ->\n table.size -> i32
         table.grow externref i32 -> i32\n table.fill i32 externref i32 ->",
        Imm::Text("$x"),
        refs,
    );
    rows(&mut ops, "ref.is_null externref -> i32", Imm::None, refs);
    rows(&mut ops, "ref.func -> funcref", Imm::Text("$g"), refs);
    simd(&mut ops);
    ops
}

/// A representative SIMD set: every shape's arithmetic and comparisons, lanes, bit operations,
/// conversions and memory forms. Generated only once every engine executes SIMD.
fn simd(ops: &mut Vec<Op>) {
    let simd = WasmFeatures::SIMD;
    let mut t = String::new();
    for (shape, lane) in [
        ("i8x16", "i32"),
        ("i16x8", "i32"),
        ("i32x4", "i32"),
        ("i64x2", "i64"),
        ("f32x4", "f32"),
        ("f64x2", "f64"),
    ] {
        t.push_str(&format!("{shape}.splat {lane} -> v128\n"));
        let int = shape.starts_with('i');
        let bin: &[&str] = match shape {
            "i8x16" => &[
                "add",
                "sub",
                "add_sat_s",
                "add_sat_u",
                "sub_sat_s",
                "sub_sat_u",
                "min_s",
                "min_u",
                "max_s",
                "max_u",
                "avgr_u",
                "eq",
                "ne",
                "lt_s",
                "lt_u",
                "gt_s",
                "gt_u",
                "le_s",
                "le_u",
                "ge_s",
                "ge_u",
                "narrow_i16x8_s",
                "narrow_i16x8_u",
                "swizzle",
            ],
            "i16x8" => &[
                "add",
                "sub",
                "mul",
                "add_sat_s",
                "add_sat_u",
                "sub_sat_s",
                "sub_sat_u",
                "min_s",
                "min_u",
                "max_s",
                "max_u",
                "avgr_u",
                "q15mulr_sat_s",
                "eq",
                "ne",
                "lt_s",
                "lt_u",
                "gt_s",
                "gt_u",
                "le_s",
                "le_u",
                "ge_s",
                "ge_u",
                "narrow_i32x4_s",
                "narrow_i32x4_u",
                "extmul_low_i8x16_s",
                "extmul_high_i8x16_u",
            ],
            "i32x4" => &[
                "add",
                "sub",
                "mul",
                "min_s",
                "min_u",
                "max_s",
                "max_u",
                "dot_i16x8_s",
                "eq",
                "ne",
                "lt_s",
                "lt_u",
                "gt_s",
                "gt_u",
                "le_s",
                "le_u",
                "ge_s",
                "ge_u",
                "extmul_low_i16x8_u",
                "extmul_high_i16x8_s",
            ],
            "i64x2" => &[
                "add",
                "sub",
                "mul",
                "eq",
                "ne",
                "lt_s",
                "gt_s",
                "le_s",
                "ge_s",
                "extmul_low_i32x4_s",
                "extmul_high_i32x4_u",
            ],
            _ => &[
                "add", "sub", "mul", "div", "min", "max", "pmin", "pmax", "eq", "ne", "lt", "gt",
                "le", "ge",
            ],
        };
        for op in bin {
            t.push_str(&format!("{shape}.{op} v128 v128 -> v128\n"));
        }
        let un: &[&str] = match shape {
            "i8x16" => &["abs", "neg", "popcnt"],
            "i16x8" => &[
                "abs",
                "neg",
                "extend_low_i8x16_s",
                "extend_high_i8x16_u",
                "extadd_pairwise_i8x16_s",
            ],
            "i32x4" => &[
                "abs",
                "neg",
                "extend_low_i16x8_u",
                "extend_high_i16x8_s",
                "extadd_pairwise_i16x8_u",
                "trunc_sat_f32x4_s",
                "trunc_sat_f32x4_u",
                "trunc_sat_f64x2_s_zero",
                "trunc_sat_f64x2_u_zero",
            ],
            "i64x2" => &["abs", "neg", "extend_low_i32x4_s", "extend_high_i32x4_u"],
            "f32x4" => &[
                "abs",
                "neg",
                "sqrt",
                "ceil",
                "floor",
                "trunc",
                "nearest",
                "convert_i32x4_s",
                "convert_i32x4_u",
                "demote_f64x2_zero",
            ],
            _ => &[
                "abs",
                "neg",
                "sqrt",
                "ceil",
                "floor",
                "trunc",
                "nearest",
                "convert_low_i32x4_s",
                "convert_low_i32x4_u",
                "promote_low_f32x4",
            ],
        };
        for op in un {
            t.push_str(&format!("{shape}.{op} v128 -> v128\n"));
        }
        if int {
            t.push_str(&format!("{shape}.all_true v128 -> i32\n"));
            t.push_str(&format!("{shape}.bitmask v128 -> i32\n"));
            for op in ["shl", "shr_s", "shr_u"] {
                t.push_str(&format!("{shape}.{op} v128 i32 -> v128\n"));
            }
        }
    }
    t.push_str(
        "v128.not v128 -> v128\n v128.and v128 v128 -> v128\n v128.andnot v128 v128 -> v128
         v128.or v128 v128 -> v128\n v128.xor v128 v128 -> v128
         v128.bitselect v128 v128 v128 -> v128\n v128.any_true v128 -> i32",
    );
    rows(ops, &t, Imm::None, simd);
    for (shape, lane, lanes, signed) in [
        ("i8x16", "i32", 16, true),
        ("i16x8", "i32", 8, true),
        ("i32x4", "i32", 4, false),
        ("i64x2", "i64", 2, false),
        ("f32x4", "f32", 4, false),
        ("f64x2", "f64", 2, false),
    ] {
        let extract = if signed {
            format!("{shape}.extract_lane_s v128 -> {lane}\n {shape}.extract_lane_u v128 -> {lane}")
        } else {
            format!("{shape}.extract_lane v128 -> {lane}")
        };
        rows(ops, &extract, Imm::Lane(lanes), simd);
        rows(
            ops,
            &format!("{shape}.replace_lane v128 {lane} -> v128"),
            Imm::Lane(lanes),
            simd,
        );
    }
    for (name, natural) in [
        ("v128.load", 4),
        ("v128.load8x8_s", 3),
        ("v128.load16x4_u", 3),
        ("v128.load32x2_s", 3),
        ("v128.load8_splat", 0),
        ("v128.load64_splat", 3),
        ("v128.load32_zero", 2),
        ("v128.load64_zero", 3),
    ] {
        rows(
            ops,
            &format!("{name} i32 -> v128"),
            Imm::MemArg { natural },
            simd,
        );
    }
    rows(
        ops,
        "v128.store i32 v128 ->",
        Imm::MemArg { natural: 4 },
        simd,
    );
}

/// Every instruction `single_op` knows.
pub fn all() -> &'static [Op] {
    static OPS: OnceLock<Vec<Op>> = OnceLock::new();
    OPS.get_or_init(build)
}

/// The instructions whose features are all in `features`.
pub fn supported(features: WasmFeatures) -> Vec<&'static Op> {
    all()
        .iter()
        .filter(|o| features.contains(o.needs))
        .collect()
}

/// One instruction with its immediates and the module's fuzzer-chosen memory contents.
#[derive(Clone, Debug)]
pub struct Instance {
    pub op: &'static Op,
    /// The immediate's text (`offset=.. align=..`, a lane, a segment), possibly empty.
    pub imm: String,
    /// Bytes at the start and at the end of the first page.
    pub data: [u8; 16],
}

impl Instance {
    /// Draw an instruction (among those `features` allows), its immediates and memory contents.
    /// The first byte picks the instruction ([`Instance::input`] writes it).
    pub fn arbitrary(
        u: &mut Unstructured<'_>,
        features: WasmFeatures,
    ) -> arbitrary::Result<Instance> {
        let ops = supported(features);
        if ops.is_empty() {
            return Err(arbitrary::Error::EmptyChoose);
        }
        let index = u16::from_le_bytes(u.arbitrary()?) as usize % ops.len();
        let op = ops[index];
        let imm = match op.imm {
            Imm::None => String::new(),
            Imm::Text(t) => t.to_string(),
            Imm::Lane(n) => u.int_in_range(0..=n - 1)?.to_string(),
            Imm::MemArg { natural } => {
                let align = 1u32 << u.int_in_range(0..=natural)?;
                let offset: u32 = match u.int_in_range(0..=4)? {
                    0 => 0,
                    1 => u.int_in_range(0..=16)?,
                    2 => u.int_in_range(65_520..=65_540)?,
                    3 => u.int_in_range(131_056..=131_080)?,
                    _ => u.arbitrary()?,
                };
                format!("offset={offset} align={align}")
            }
        };
        Ok(Instance {
            op,
            imm,
            data: u.arbitrary()?,
        })
    }

    /// An input that selects instruction `index` of [`supported`] with zero immediates and data
    /// and `rest` after them (the seeds).
    pub fn input(index: usize, rest: &[u8]) -> Vec<u8> {
        let mut v = (index as u16).to_le_bytes().to_vec();
        v.extend_from_slice(rest);
        v
    }

    pub fn params(&self) -> &[ValType] {
        &self.op.params
    }

    /// The module's text.
    pub fn wat(&self, features: WasmFeatures) -> String {
        let op = self.op;
        let data: String = self.data.iter().map(|b| format!("\\{b:02x}")).collect();
        let params: Vec<&str> = op.params.iter().map(|t| type_name(*t)).collect();
        let results: Vec<&str> = op.results.iter().map(|t| type_name(*t)).collect();
        let gets: String = (0..op.params.len())
            .map(|i| format!("local.get {i} "))
            .collect();
        let mut m = String::from(
            "(module\n  (type $v (func (result i32)))\n  (memory (export \"mem\") 2 3)\n",
        );
        m.push_str(&format!(
            "  (data (i32.const 0) \"{data}\")\n  (data (i32.const 65520) \"{data}\")\n"
        ));
        m.push_str("  (table $t (export \"t\") 4 8 funcref)\n");
        m.push_str("  (func $g (result i32) i32.const 7)\n");
        m.push_str("  (elem (i32.const 1) func $g)\n");
        if features.contains(WasmFeatures::BULK_MEMORY) {
            m.push_str(&format!("  (data $d \"{data}\")\n"));
            m.push_str("  (elem $e func $g $g $g)\n");
        }
        if features.contains(WasmFeatures::REFERENCE_TYPES) {
            m.push_str("  (table $x (export \"x\") 2 6 externref)\n");
            m.push_str("  (elem declare func $g)\n");
        }
        m.push_str(&format!(
            "  (func (export \"f\") (param {}) (result {})\n    {gets}{} {})\n)\n",
            params.join(" "),
            results.join(" "),
            op.name,
            self.imm
        ));
        m
    }

    /// The module's binary.
    pub fn module(&self, features: WasmFeatures) -> Result<Vec<u8>, String> {
        let wat = self.wat(features);
        wat::parse_str(&wat).map_err(|e| format!("{e}\n{wat}"))
    }
}

impl fmt::Display for Instance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.op.name)?;
        if !self.imm.is_empty() {
            write!(f, " {}", self.imm)?;
        }
        Ok(())
    }
}

/// An operand: raw bytes from the input half the time, an edge value ([`edge_value`]) otherwise.
pub fn operand(u: &mut Unstructured<'_>, rng: &mut Rng, t: ValType) -> Val {
    let raw = u.arbitrary::<bool>().unwrap_or(false);
    if !raw {
        return edge_value(rng, t);
    }
    match t {
        ValType::I32 => Val::I32(u.arbitrary().unwrap_or(0)),
        ValType::I64 => Val::I64(u.arbitrary().unwrap_or(0)),
        ValType::F32 => Val::F32(u.arbitrary().unwrap_or(0)),
        ValType::F64 => Val::F64(u.arbitrary().unwrap_or(0)),
        ValType::V128 => Val::V128(u.arbitrary().unwrap_or(0)),
        ValType::Ref(_) => edge_value(rng, t),
    }
}
