//! The `single_op` target's modules: one instruction of the table ([`crate::ops`]) with drawn
//! immediates, in an exported function `f` whose parameters are the operands, next to a
//! two-page memory (exported, with fuzzer-chosen contents at both ends), a passive data segment,
//! a funcref table with a passive element segment, an externref table and a mutable global, so
//! memory, table, bulk and variable instructions have something to work on.

use std::fmt;

use arbitrary::Unstructured;
use wasmparser::ValType;

use crate::edge::edge_value;
use crate::engine::{Val, WasmFeatures};
use crate::fuzz::rng::Rng;
use crate::ops::{Imm, Op, float_text, supported, type_name};

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
        let memarg = |u: &mut Unstructured<'_>| -> arbitrary::Result<String> {
            let natural = op.access.natural_alignment().unwrap_or(0);
            let align = 1u32 << u.int_in_range(0..=natural)?;
            let offset: u32 = match u.int_in_range(0..=4)? {
                0 => 0,
                1 => u.int_in_range(0..=16)?,
                2 => u.int_in_range(65_520..=65_540)?,
                3 => u.int_in_range(131_056..=131_080)?,
                _ => u.arbitrary()?,
            };
            Ok(format!("offset={offset} align={align}"))
        };
        let imm = match op.imm {
            Imm::None => String::new(),
            Imm::Text(t) | Imm::SelectType(t) => t.to_string(),
            Imm::Lane(n) => u.int_in_range(0..=n - 1)?.to_string(),
            Imm::MemArg => memarg(u)?,
            Imm::MemArgLane(n) => format!("{} {}", memarg(u)?, u.int_in_range(0..=n - 1)?),
            Imm::Const => constant(u, op)?,
            Imm::Shuffle => (0..16)
                .map(|_| u.int_in_range(0u8..=31).map(|l| l.to_string()))
                .collect::<arbitrary::Result<Vec<_>>>()?
                .join(" "),
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
        m.push_str("  (global $gm (export \"gm\") (mut i64) (i64.const 7))\n");
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
            "  (func (export \"f\") (param {}) (result {}) (local $l i32)\n    {gets}{})\n)\n",
            params.join(" "),
            results.join(" "),
            op.text(&self.imm)
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
        f.write_str(&self.op.text(&self.imm))
    }
}

/// A constant's immediate for `op` (`i32.const` ... `v128.const`), from the bytes.
fn constant(u: &mut Unstructured<'_>, op: &Op) -> arbitrary::Result<String> {
    Ok(match op.results.first() {
        Some(ValType::I32) => (u.arbitrary::<u32>()? as i32).to_string(),
        Some(ValType::I64) => (u.arbitrary::<u64>()? as i64).to_string(),
        Some(ValType::F32) => float_text(u.arbitrary::<u32>()?.into(), 32),
        Some(ValType::F64) => float_text(u.arbitrary::<u64>()?, 64),
        _ => {
            let v: u128 = u.arbitrary()?;
            let lanes: Vec<String> = (0..4)
                .map(|i| format!("0x{:08x}", (v >> (32 * i)) as u32))
                .collect();
            format!("i32x4 {}", lanes.join(" "))
        }
    })
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
