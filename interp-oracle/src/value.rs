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
//! - references: `0` is null; otherwise a [`RefKind`] in bits 64.. and its payload (an
//!   address, a host number or an `i31` value) in the low bits. The kind travels with the
//!   reference, so `extern.convert_any` and `any.convert_extern` leave a slot as it is (the
//!   round trip gives back the same reference) and `ref.eq` compares slots.
//!
//! So the all-zeros slot is the default value of every type, which is exactly how the spec
//! initialises locals.

use crate::{AnyRef, ExnAddr, FuncAddr, ObjAddr, ValType, Value};

/// One untyped operand-stack slot.
pub(crate) type Slot = u128;

/// The default value of every type (0, +0.0, null) as a slot.
pub(crate) const DEFAULT_SLOT: Slot = 0;

/// What a non-null reference slot holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RefKind {
    /// A function address.
    Func = 1,
    /// A host reference `n` (`ref.extern n`, or `ref.host n` in the `any` hierarchy).
    Host,
    /// An `i31ref`: 31 bits.
    I31,
    /// A struct: its address in the store's heap.
    Struct,
    /// An array: its address in the store's heap.
    Array,
    /// An exception object.
    Exn,
}

/// The slot of a non-null reference.
pub(crate) fn ref_slot(kind: RefKind, payload: u32) -> Slot {
    ((kind as Slot) << 64) | Slot::from(payload)
}

/// The kind and payload of a reference slot (`None` for null).
pub(crate) fn slot_ref(s: Slot) -> Option<(RefKind, u32)> {
    let kind = match s >> 64 {
        0 => return None,
        1 => RefKind::Func,
        2 => RefKind::Host,
        3 => RefKind::I31,
        4 => RefKind::Struct,
        5 => RefKind::Array,
        _ => RefKind::Exn,
    };
    Some((kind, s as u32))
}

/// The slot for a function reference.
pub(crate) fn funcref_slot(addr: Option<FuncAddr>) -> Slot {
    addr.map_or(0, |FuncAddr(a)| ref_slot(RefKind::Func, a))
}

/// The function address held by a funcref slot.
pub(crate) fn slot_funcref(slot: Slot) -> Option<FuncAddr> {
    slot_ref(slot).map(|(_, a)| FuncAddr(a))
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
            Value::ExternRef(_) | Value::Externalized(_) => ValType::ExternRef,
            Value::AnyRef(_) => ValType::AnyRef,
            Value::ExnRef(_) => ValType::ExnRef,
        }
    }

    /// The default value of a type: zero or null.
    pub fn default_for(ty: ValType) -> Value {
        slot_to_value(ty, DEFAULT_SLOT)
    }
}

fn any_slot(r: AnyRef) -> Slot {
    match r {
        AnyRef::I31(x) => ref_slot(RefKind::I31, x & 0x7fff_ffff),
        AnyRef::Struct(ObjAddr(a)) => ref_slot(RefKind::Struct, a),
        AnyRef::Array(ObjAddr(a)) => ref_slot(RefKind::Array, a),
        AnyRef::Host(n) => ref_slot(RefKind::Host, n),
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
        Value::ExternRef(n) => n.map_or(0, |n| ref_slot(RefKind::Host, n)),
        Value::Externalized(r) => any_slot(r),
        Value::AnyRef(r) => r.map_or(0, any_slot),
        Value::ExnRef(e) => e.map_or(0, |ExnAddr(n)| ref_slot(RefKind::Exn, n)),
    }
}

/// Decode a slot of a known type.
pub(crate) fn slot_to_value(ty: ValType, s: Slot) -> Value {
    let any = |kind, a| match kind {
        RefKind::I31 => AnyRef::I31(a),
        RefKind::Struct => AnyRef::Struct(ObjAddr(a)),
        RefKind::Array => AnyRef::Array(ObjAddr(a)),
        _ => AnyRef::Host(a),
    };
    match ty {
        ValType::I32 => Value::I32(s as u32),
        ValType::I64 => Value::I64(s as u64),
        ValType::F32 => Value::F32(s as u32),
        ValType::F64 => Value::F64(s as u64),
        ValType::V128 => Value::V128(s),
        ValType::FuncRef => Value::FuncRef(slot_funcref(s)),
        ValType::ExternRef => match slot_ref(s) {
            None => Value::ExternRef(None),
            Some((RefKind::Host, n)) => Value::ExternRef(Some(n)),
            Some((kind, a)) => Value::Externalized(any(kind, a)),
        },
        ValType::AnyRef => Value::AnyRef(slot_ref(s).map(|(kind, a)| any(kind, a))),
        ValType::ExnRef => Value::ExnRef(slot_ref(s).map(|(_, a)| ExnAddr(a))),
    }
}
