//! Values crossing the host/wasm boundary.

use crate::func::Func;
use crate::types::{HeapType, ValType};

/// The raw, untyped 128-bit representation of a value in the "array" calling convention
/// used by trampolines and global cells: i32/f32 in the low 32 bits, i64/f64 in the low 64,
/// v128 in all 128 (little-endian lanes), refs as pointer/handle (0 = null).
pub type ValRaw = u128;

/// An `externref`: a host reference, whose payload the store keeps alive until it is
/// dropped, or an externalised `any` reference (`extern.convert_any`). The number is the
/// reference's raw bits (never 0; see `vm/gc.rs` for the encoding).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ExternRef(pub(crate) u64);

impl ExternRef {
    /// The raw bits (a host reference's handle is `(index << 2) | 2`).
    pub fn handle(self) -> u64 {
        self.0
    }
    /// Whether this is a host reference (made by `Store::new_externref`) rather than an
    /// externalised `any` reference.
    pub fn is_host(self) -> bool {
        self.0 & 3 == 2
    }
    /// `any.convert_extern`: the reference inside the `any` hierarchy.
    pub fn to_any(self) -> AnyRef {
        AnyRef(self.0)
    }
    /// `extern.convert_any`.
    pub fn from_any(r: AnyRef) -> ExternRef {
        ExternRef(r.0)
    }
}

/// A non-null reference of the `any` hierarchy: an `i31`, a struct or an array of a store's
/// GC heap, or a host reference brought in with `any.convert_extern`. A struct or array
/// handed to the host stays rooted in its store until [`crate::Store::release_host_refs`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AnyRef(pub(crate) u64);

impl AnyRef {
    /// `ref.i31`: the low 31 bits of `v`.
    pub fn from_i31(v: i32) -> AnyRef {
        AnyRef(u64::from((v as u32) << 1) | 1)
    }
    /// The value of an `i31`, sign-extended (`i31.get_s`).
    pub fn i31_s(self) -> Option<i32> {
        self.is_i31().then_some((self.0 as u32 as i32) >> 1)
    }
    /// The value of an `i31`, zero-extended (`i31.get_u`).
    pub fn i31_u(self) -> Option<u32> {
        self.is_i31().then_some((self.0 as u32) >> 1)
    }
    pub fn is_i31(self) -> bool {
        self.0 & 1 == 1
    }
    /// The host reference this is, when it came from `any.convert_extern` of one.
    pub fn as_host(self) -> Option<ExternRef> {
        (self.0 & 3 == 2).then_some(ExternRef(self.0))
    }
    /// Whether this is a heap object (a struct or an array).
    pub fn is_object(self) -> bool {
        self.0 & 3 == 0
    }
    /// The raw bits.
    pub fn raw(self) -> u64 {
        self.0
    }
}

/// A reference to an exception object owned by a store: its address (what wasm sees) and the
/// object's serial number, so a reference to a collected exception never names another.
/// Create one with [`crate::Exception::new`]; read it with [`crate::Exception::from_ref`].
///
/// Exceptions are collected when unreachable. One handed to the host (an [`crate::Exception`]
/// from [`crate::Exception::new`], [`crate::Exception::from_ref`] or an uncaught throw, or an
/// `exnref` value read from wasm) is rooted like the host's structs and arrays, until
/// [`crate::Store::release_host_refs`]; after that, once a collection found it unreachable,
/// using its reference (passing it to wasm, re-throwing it, `from_ref`) is an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ExnRef(pub(crate) u64, pub(crate) u64);

/// A Wasm value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Val {
    I32(i32),
    I64(i64),
    /// Raw bits, so NaN payloads survive.
    F32(u32),
    /// Raw bits, so NaN payloads survive.
    F64(u64),
    /// A 128-bit vector, lane 0 in the low bits.
    V128(u128),
    FuncRef(Option<Func>),
    ExternRef(Option<ExternRef>),
    ExnRef(Option<ExnRef>),
    /// A reference of the `any` hierarchy (`anyref`, `eqref`, structs, arrays, `i31ref`).
    AnyRef(Option<AnyRef>),
}

impl Val {
    /// The type of the value, with references at their top type (`funcref`, `externref`);
    /// whether a value fits a typed reference depends on its function's signature
    /// ([`crate::Func::ty`]).
    pub fn ty(&self) -> ValType {
        match self {
            Val::I32(_) => ValType::I32,
            Val::I64(_) => ValType::I64,
            Val::F32(_) => ValType::F32,
            Val::F64(_) => ValType::F64,
            Val::V128(_) => ValType::V128,
            Val::FuncRef(_) => ValType::FuncRef,
            Val::ExternRef(_) => ValType::ExternRef,
            Val::ExnRef(_) => ValType::ExnRef,
            Val::AnyRef(_) => ValType::Ref(crate::types::RefType {
                nullable: true,
                heap: HeapType::Any,
            }),
        }
    }
    pub fn i32(&self) -> Option<i32> {
        if let Val::I32(v) = self {
            Some(*v)
        } else {
            None
        }
    }
    pub fn i64(&self) -> Option<i64> {
        if let Val::I64(v) = self {
            Some(*v)
        } else {
            None
        }
    }
    pub fn f32(&self) -> Option<f32> {
        if let Val::F32(v) = self {
            Some(f32::from_bits(*v))
        } else {
            None
        }
    }
    pub fn f64(&self) -> Option<f64> {
        if let Val::F64(v) = self {
            Some(f64::from_bits(*v))
        } else {
            None
        }
    }
    pub fn v128(&self) -> Option<u128> {
        if let Val::V128(v) = self {
            Some(*v)
        } else {
            None
        }
    }
    /// The zero/null value of a type (null also for a non-null reference type, which has no
    /// default: a placeholder to overwrite).
    pub fn default_for(ty: ValType) -> Val {
        match ty {
            ValType::I32 => Val::I32(0),
            ValType::I64 => Val::I64(0),
            ValType::F32 => Val::F32(0),
            ValType::F64 => Val::F64(0),
            ValType::V128 => Val::V128(0),
            ValType::FuncRef => Val::FuncRef(None),
            ValType::ExternRef => Val::ExternRef(None),
            ValType::ExnRef => Val::ExnRef(None),
            ValType::Ref(r) => match r.heap {
                HeapType::Extern | HeapType::NoExtern => Val::ExternRef(None),
                HeapType::Exn | HeapType::NoExn => Val::ExnRef(None),
                HeapType::Func | HeapType::NoFunc | HeapType::Concrete(_) => Val::FuncRef(None),
                _ => Val::AnyRef(None),
            },
        }
    }
}

impl From<i32> for Val {
    fn from(v: i32) -> Val {
        Val::I32(v)
    }
}
impl From<i64> for Val {
    fn from(v: i64) -> Val {
        Val::I64(v)
    }
}
impl From<f32> for Val {
    fn from(v: f32) -> Val {
        Val::F32(v.to_bits())
    }
}
impl From<f64> for Val {
    fn from(v: f64) -> Val {
        Val::F64(v.to_bits())
    }
}
