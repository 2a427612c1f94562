//! Wasm types as the embedding API sees them.

use std::fmt;

/// The heap type of a reference (typed function references).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HeapType {
    /// Any function (`func`).
    Func,
    /// Any host reference (`extern`).
    Extern,
    /// Any exception (`exn`, exception handling).
    Exn,
    /// The GC hierarchy's top (`any`) and its abstract subtypes.
    Any,
    Eq,
    I31,
    Struct,
    Array,
    /// The bottom types of the four hierarchies (`none`, `nofunc`, `noextern`, `noexn`).
    None,
    NoFunc,
    NoExtern,
    NoExn,
    /// A defined type (function, struct or array), named by its engine-wide canonical id:
    /// equal types (isorecursive equality of their recursion groups) of any modules of one
    /// engine share an id, so `(ref $t)` of two modules match when their `$t` are the same.
    Concrete(u32),
}

/// A reference type: a heap type and whether null belongs to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RefType {
    pub nullable: bool,
    pub heap: HeapType,
}

impl RefType {
    /// `funcref`, that is `(ref null func)`.
    pub const FUNCREF: RefType = RefType {
        nullable: true,
        heap: HeapType::Func,
    };
    /// `externref`, that is `(ref null extern)`.
    pub const EXTERNREF: RefType = RefType {
        nullable: true,
        heap: HeapType::Extern,
    };
    /// `exnref`, that is `(ref null exn)`.
    pub const EXNREF: RefType = RefType {
        nullable: true,
        heap: HeapType::Exn,
    };

    /// Subtyping that needs no type registry: abstract heap types, and a concrete type
    /// below `func` or `any` only as far as its kind is unknown (two concrete types match
    /// only when equal). The engine's registry decides declared subtyping
    /// ([`crate::Engine::ref_subtype`]).
    pub fn is_subtype_of(self, other: RefType) -> bool {
        if self.nullable && !other.nullable {
            return false;
        }
        crate::gctypes::TypeRegistry::default().heap_subtype(self.heap, other.heap)
    }
}

/// A value type (Wasm 2.0, typed function references and exception handling).
///
/// `funcref`, `externref` and `exnref` have two spellings, `FuncRef`/`ExternRef`/`ExnRef` and
/// `Ref(RefType::FUNCREF)`/`Ref(RefType::EXTERNREF)`/`Ref(RefType::EXNREF)`; equality and hashing treat them as the
/// same type, and the runtime itself always produces the short form ([`ValType::reference`]).
#[derive(Clone, Copy, Debug)]
pub enum ValType {
    I32,
    I64,
    F32,
    F64,
    /// A 128-bit vector (fixed-width SIMD).
    V128,
    FuncRef,
    ExternRef,
    /// `exnref`, that is `(ref null exn)` (exception handling).
    ExnRef,
    /// Any other reference type: `(ref $t)`, `(ref null $t)`, `(ref func)`, `(ref extern)`,
    /// `(ref exn)`.
    Ref(RefType),
}

impl PartialEq for ValType {
    fn eq(&self, other: &ValType) -> bool {
        match (self.ref_type(), other.ref_type()) {
            (Some(a), Some(b)) => a == b,
            (None, None) => std::mem::discriminant(self) == std::mem::discriminant(other),
            _ => false,
        }
    }
}

impl Eq for ValType {}

impl std::hash::Hash for ValType {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        match self.ref_type() {
            Some(r) => r.hash(state),
            None => std::mem::discriminant(self).hash(state),
        }
    }
}

impl ValType {
    /// A reference type in its short form when it has one.
    pub fn reference(r: RefType) -> ValType {
        match r {
            RefType::FUNCREF => ValType::FuncRef,
            RefType::EXTERNREF => ValType::ExternRef,
            RefType::EXNREF => ValType::ExnRef,
            r => ValType::Ref(r),
        }
    }

    /// The reference type of a reference value type.
    pub fn ref_type(self) -> Option<RefType> {
        match self {
            ValType::FuncRef => Some(RefType::FUNCREF),
            ValType::ExternRef => Some(RefType::EXTERNREF),
            ValType::ExnRef => Some(RefType::EXNREF),
            ValType::Ref(r) => Some(r),
            _ => None,
        }
    }

    /// Value subtyping: numeric and vector types match only themselves.
    pub fn is_subtype_of(self, other: ValType) -> bool {
        match (self.ref_type(), other.ref_type()) {
            (Some(a), Some(b)) => a.is_subtype_of(b),
            _ => self == other,
        }
    }

    /// `type_ids` maps the module's type indices to engine-wide ids; `None` for a type the
    /// runtime does not execute (GC heap types) or a reference to a type not yet interned.
    pub(crate) fn from_wasm(t: wasmparser::ValType, type_ids: &[u32]) -> Option<ValType> {
        use wasmparser::ValType as W;
        Some(match t {
            W::I32 => ValType::I32,
            W::I64 => ValType::I64,
            W::F32 => ValType::F32,
            W::F64 => ValType::F64,
            W::V128 => ValType::V128,
            W::Ref(r) => Self::from_ref(r, type_ids)?,
        })
    }

    pub(crate) fn from_ref(r: wasmparser::RefType, type_ids: &[u32]) -> Option<ValType> {
        use wasmparser::{AbstractHeapType as A, HeapType as H};
        let heap = match r.heap_type() {
            H::Abstract { shared: false, ty } => match ty {
                A::Func => HeapType::Func,
                A::Extern => HeapType::Extern,
                A::Exn => HeapType::Exn,
                A::Any => HeapType::Any,
                A::Eq => HeapType::Eq,
                A::I31 => HeapType::I31,
                A::Struct => HeapType::Struct,
                A::Array => HeapType::Array,
                A::None => HeapType::None,
                A::NoFunc => HeapType::NoFunc,
                A::NoExtern => HeapType::NoExtern,
                A::NoExn => HeapType::NoExn,
                _ => return None,
            },
            H::Concrete(i) | H::Exact(i) => {
                HeapType::Concrete(*type_ids.get(i.as_module_index()? as usize)?)
            }
            _ => return None,
        };
        Some(ValType::reference(RefType {
            nullable: r.is_nullable(),
            heap,
        }))
    }

    /// Whether this is a reference type.
    pub fn is_ref(self) -> bool {
        self.ref_type().is_some()
    }

    /// Whether this is a reference type without null.
    pub fn is_non_null_ref(self) -> bool {
        self.ref_type().is_some_and(|r| !r.nullable)
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
            ValType::Ref(r) => {
                f.write_str(if r.nullable { "(ref null " } else { "(ref " })?;
                match r.heap {
                    HeapType::Concrete(id) => write!(f, "type#{id}")?,
                    h => f.write_str(match h {
                        HeapType::Func => "func",
                        HeapType::Extern => "extern",
                        HeapType::Exn => "exn",
                        HeapType::Any => "any",
                        HeapType::Eq => "eq",
                        HeapType::I31 => "i31",
                        HeapType::Struct => "struct",
                        HeapType::Array => "array",
                        HeapType::None => "none",
                        HeapType::NoFunc => "nofunc",
                        HeapType::NoExtern => "noextern",
                        _ => "noexn",
                    })?,
                }
                return f.write_str(")");
            }
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
