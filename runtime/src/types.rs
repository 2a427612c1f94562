//! Wasm types as the embedding API sees them.

use std::fmt;

/// A value type (Wasm 2.0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValType {
    I32,
    I64,
    F32,
    F64,
    /// A 128-bit vector (fixed-width SIMD).
    V128,
    FuncRef,
    ExternRef,
    /// A reference to an exception (exception handling; `ref.null exn` is its null).
    ExnRef,
}

impl ValType {
    pub(crate) fn from_wasm(t: wasmparser::ValType) -> Option<ValType> {
        use wasmparser::ValType as W;
        Some(match t {
            W::I32 => ValType::I32,
            W::I64 => ValType::I64,
            W::F32 => ValType::F32,
            W::F64 => ValType::F64,
            W::V128 => ValType::V128,
            W::Ref(r) => Self::from_ref(r)?,
        })
    }

    pub(crate) fn from_ref(r: wasmparser::RefType) -> Option<ValType> {
        if r == wasmparser::RefType::FUNCREF {
            Some(ValType::FuncRef)
        } else if r == wasmparser::RefType::EXTERNREF {
            Some(ValType::ExternRef)
        } else if r == wasmparser::RefType::EXNREF {
            Some(ValType::ExnRef)
        } else {
            None
        }
    }

    /// Whether this is a reference type.
    pub fn is_ref(self) -> bool {
        matches!(
            self,
            ValType::FuncRef | ValType::ExternRef | ValType::ExnRef
        )
    }
}

impl fmt::Display for ValType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            ValType::I32 => "i32",
            ValType::I64 => "i64",
            ValType::F32 => "f32",
            ValType::F64 => "f64",
            ValType::V128 => "v128",
            ValType::FuncRef => "funcref",
            ValType::ExternRef => "externref",
            ValType::ExnRef => "exnref",
        };
        f.write_str(s)
    }
}

/// A function signature.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct FuncType {
    params: Box<[ValType]>,
    results: Box<[ValType]>,
}

impl FuncType {
    pub fn new(
        params: impl IntoIterator<Item = ValType>,
        results: impl IntoIterator<Item = ValType>,
    ) -> FuncType {
        FuncType {
            params: params.into_iter().collect(),
            results: results.into_iter().collect(),
        }
    }
    pub fn params(&self) -> &[ValType] {
        &self.params
    }
    pub fn results(&self) -> &[ValType] {
        &self.results
    }
}

/// Whether a global can be written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mutability {
    Const,
    Var,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct GlobalType {
    pub content: ValType,
    pub mutability: Mutability,
}

/// Limits in pages (memories) or elements (tables).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MemoryType {
    pub minimum: u64,
    pub maximum: Option<u64>,
    /// Addresses are i64 (memory64).
    pub memory64: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TableType {
    pub element: ValType,
    pub minimum: u64,
    pub maximum: Option<u64>,
    /// Indices are i64 (table64).
    pub table64: bool,
}

/// The type of an import or export.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExternType {
    Func(FuncType),
    Global(GlobalType),
    Memory(MemoryType),
    Table(TableType),
    Tag(TagType),
}

/// The type of an exception tag: the types of its payload (a tag's function type has no
/// results).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TagType {
    params: Box<[ValType]>,
}

impl TagType {
    pub fn new(params: impl IntoIterator<Item = ValType>) -> TagType {
        TagType {
            params: params.into_iter().collect(),
        }
    }
    /// The payload's types.
    pub fn params(&self) -> &[ValType] {
        &self.params
    }
}

pub(crate) fn limits_match(
    actual_min: u64,
    actual_max: Option<u64>,
    min: u64,
    max: Option<u64>,
) -> bool {
    if actual_min < min {
        return false;
    }
    match (max, actual_max) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(m), Some(am)) => am <= m,
    }
}
