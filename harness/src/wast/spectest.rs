//! The `spectest` host module, defined once for every engine.
//!
//! The specification's test scripts import these names from the module `"spectest"`. Each engine
//! adapter builds its own host objects from [`ITEMS`], so all engines see identical definitions.

use crate::engine::Val;

/// The module name scripts import from.
pub const MODULE: &str = "spectest";

/// A value type of a spectest item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValType {
    I32,
    I64,
    F32,
    F64,
    FuncRef,
}

/// One export of the `spectest` module.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Item {
    /// A function that does nothing and returns nothing (the reference interpreter prints its
    /// arguments; lockstep keeps the output quiet).
    Func {
        name: &'static str,
        params: &'static [ValType],
    },
    /// An immutable global.
    Global {
        name: &'static str,
        ty: ValType,
        value: Val,
    },
    /// A table of `funcref`, initialised with null. `table64` tables are indexed by i64
    /// (Wasm 3.0's table64); the others by i32.
    Table {
        name: &'static str,
        min: u32,
        max: Option<u32>,
        table64: bool,
    },
    /// A memory (limits in 64 KiB pages), zero-filled.
    Memory {
        name: &'static str,
        min: u32,
        max: Option<u32>,
    },
}

impl Item {
    pub fn name(&self) -> &'static str {
        match self {
            Item::Func { name, .. }
            | Item::Global { name, .. }
            | Item::Table { name, .. }
            | Item::Memory { name, .. } => name,
        }
    }
}

/// Everything the `spectest` module exports.
pub const ITEMS: &[Item] = &[
    Item::Func {
        name: "print",
        params: &[],
    },
    Item::Func {
        name: "print_i32",
        params: &[ValType::I32],
    },
    Item::Func {
        name: "print_i64",
        params: &[ValType::I64],
    },
    Item::Func {
        name: "print_f32",
        params: &[ValType::F32],
    },
    Item::Func {
        name: "print_f64",
        params: &[ValType::F64],
    },
    Item::Func {
        name: "print_i32_f32",
        params: &[ValType::I32, ValType::F32],
    },
    Item::Func {
        name: "print_f64_f64",
        params: &[ValType::F64, ValType::F64],
    },
    Item::Global {
        name: "global_i32",
        ty: ValType::I32,
        value: Val::I32(666),
    },
    Item::Global {
        name: "global_i64",
        ty: ValType::I64,
        value: Val::I64(666),
    },
    Item::Global {
        name: "global_f32",
        ty: ValType::F32,
        // 666.6f32
        value: Val::F32(0x4426_a666),
    },
    Item::Global {
        name: "global_f64",
        ty: ValType::F64,
        // 666.6f64
        value: Val::F64(0x4084_d4cc_cccc_cccd),
    },
    Item::Table {
        name: "table",
        min: 10,
        max: Some(20),
        table64: false,
    },
    Item::Table {
        name: "table64",
        min: 10,
        max: Some(20),
        table64: true,
    },
    Item::Memory {
        name: "memory",
        min: 1,
        max: Some(2),
    },
];

/// Look up a spectest export by name.
pub fn lookup(name: &str) -> Option<&'static Item> {
    ITEMS.iter().find(|i| i.name() == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_globals_are_666_6() {
        assert_eq!(
            lookup("global_f32"),
            Some(&Item::Global {
                name: "global_f32",
                ty: ValType::F32,
                value: Val::F32(666.6f32.to_bits())
            })
        );
        assert_eq!(
            lookup("global_f64"),
            Some(&Item::Global {
                name: "global_f64",
                ty: ValType::F64,
                value: Val::F64(666.6f64.to_bits())
            })
        );
        assert!(lookup("nope").is_none());
    }
}
