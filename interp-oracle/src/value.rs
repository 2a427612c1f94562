//! Values and their representation on the operand stack.
//!
//! The spec's values are typed (`i32.const 1`, `ref.null func`, ...). After validation the
//! type of every stack slot is statically known, so the interpreter keeps the operand stack
//! untyped: every value is one 128-bit slot ([`Slot`]), wide enough for the largest value
//! type, `v128`. This module is the single place that converts between the public, typed
//! [`Value`] and a slot.
//!
//! Encoding of a slot:
//! - `i32`/`f32`: the 32 bits, zero-extended;
//! - `i64`/`f64`: the 64 bits, zero-extended;
//! - `v128`: the 128 bits (lane 0 in the least significant bits, as in memory);
//! - references: `0` is null, `n + 1` is function address `n` (funcref) or host reference
//!   `n` (externref). So the all-zeros slot is the default value of every type, which is
//!   exactly how the spec initialises locals.

use crate::{FuncAddr, ValType, Value};

/// One untyped operand-stack slot.
pub(crate) type Slot = u128;

/// The default value of every type (0, +0.0, null) as a slot.
pub(crate) const DEFAULT_SLOT: Slot = 0;

/// The slot for a function reference.
pub(crate) fn funcref_slot(addr: Option<FuncAddr>) -> Slot {
    match addr {
        None => 0,
        Some(FuncAddr(a)) => Slot::from(a) + 1,
    }
}

/// The function address held by a funcref slot.
pub(crate) fn slot_funcref(slot: Slot) -> Option<FuncAddr> {
    if slot == 0 {
        None
    } else {
        Some(FuncAddr((slot - 1) as u32))
    }
}

impl Value {
    /// The type of this value.
    pub fn ty(&self) -> ValType {
        match self {
            Value::I32(_) => ValType::I32,
            Value::I64(_) => ValType::I64,
            Value::F32(_) => ValType::F32,
            Value::F64(_) => ValType::F64,
            Value::V128(_) => ValType::V128,
            Value::FuncRef(_) => ValType::FuncRef,
            Value::ExternRef(_) => ValType::ExternRef,
        }
    }

    /// The default value of a type: zero or null.
    pub fn default_for(ty: ValType) -> Value {
        slot_to_value(ty, DEFAULT_SLOT)
    }
}

/// Encode a value as a slot.
pub(crate) fn value_to_slot(v: Value) -> Slot {
    match v {
        Value::I32(x) => Slot::from(x),
        Value::I64(x) => Slot::from(x),
        Value::F32(x) => Slot::from(x),
        Value::F64(x) => Slot::from(x),
        Value::V128(x) => x,
        Value::FuncRef(a) => funcref_slot(a),
        Value::ExternRef(None) => 0,
        Value::ExternRef(Some(n)) => Slot::from(n) + 1,
    }
}

/// Decode a slot of a known type.
pub(crate) fn slot_to_value(ty: ValType, s: Slot) -> Value {
    match ty {
        ValType::I32 => Value::I32(s as u32),
        ValType::I64 => Value::I64(s as u64),
        ValType::F32 => Value::F32(s as u32),
        ValType::F64 => Value::F64(s as u64),
        ValType::V128 => Value::V128(s),
        ValType::FuncRef => Value::FuncRef(slot_funcref(s)),
        ValType::ExternRef => Value::ExternRef(if s == 0 { None } else { Some((s - 1) as u32) }),
    }
}
