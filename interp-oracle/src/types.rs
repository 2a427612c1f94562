//! Defined types, their equivalence and subtyping (spec 3.0 sections 2.3 "Types", 3.3 "Type
//! equivalence" and "Matching").
//!
//! A module's types come in recursion groups. The store gives every defined type a store-wide
//! [`TypeId`], so that type equivalence is id equality, across modules too: a group is
//! canonicalised by writing each reference to a type of the same group as its position in
//! the group ([`Canon::Rec`]) and each reference to an earlier type as its id
//! ([`Canon::Id`]). Two groups with equal canonical forms are the same group (iso-recursive
//! equivalence), so they get the same ids.
//!
//! Subtyping of defined types follows the declared supertypes: each type keeps its chain of
//! supertypes, itself first.
//!
//! The definitions are generic in how they name a defined type: a module type index while
//! a module is loaded, a [`Canon`] inside a canonical group, a [`TypeId`] in the store.

use std::collections::HashMap;

use crate::{FuncType, ValType};

/// A defined type's identity in the store.
pub(crate) type TypeId = u32;

/// The abstract heap types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum AbsHeap {
    Func,
    NoFunc,
    Extern,
    NoExtern,
    Any,
    Eq,
    I31,
    Struct,
    Array,
    None,
    Exn,
    NoExn,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Heap<T> {
    Abs(AbsHeap),
    Def(T),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct RefTy<T> {
    pub nullable: bool,
    pub heap: Heap<T>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Ty<T> {
    I32,
    I64,
    F32,
    F64,
    V128,
    Ref(RefTy<T>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Storage<T> {
    I8,
    I16,
    Val(Ty<T>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Field<T> {
    pub storage: Storage<T>,
    pub mutable: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Composite<T> {
    Func {
        params: Vec<Ty<T>>,
        results: Vec<Ty<T>>,
    },
    Struct(Vec<Field<T>>),
    Array(Field<T>),
}

/// A type definition: `sub final? supertype? composite`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct SubType<T> {
    pub is_final: bool,
    pub supertype: Option<T>,
    pub composite: Composite<T>,
}

/// How a canonical group names a defined type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Canon {
    /// The type at this position of the same group.
    Rec(u32),
    /// A type of an earlier group.
    Id(TypeId),
}

impl<T: Copy> Ty<T> {
    pub fn map<U>(self, f: &impl Fn(T) -> U) -> Ty<U> {
        match self {
            Ty::I32 => Ty::I32,
            Ty::I64 => Ty::I64,
            Ty::F32 => Ty::F32,
            Ty::F64 => Ty::F64,
            Ty::V128 => Ty::V128,
            Ty::Ref(r) => Ty::Ref(r.map(f)),
        }
    }
}

impl<T: Copy> RefTy<T> {
    pub fn map<U>(self, f: &impl Fn(T) -> U) -> RefTy<U> {
        RefTy {
            nullable: self.nullable,
            heap: match self.heap {
                Heap::Abs(h) => Heap::Abs(h),
                Heap::Def(t) => Heap::Def(f(t)),
            },
        }
    }
}

impl<T: Copy> Field<T> {
    fn map<U>(self, f: &impl Fn(T) -> U) -> Field<U> {
        Field {
            storage: match self.storage {
                Storage::I8 => Storage::I8,
                Storage::I16 => Storage::I16,
                Storage::Val(t) => Storage::Val(t.map(f)),
            },
            mutable: self.mutable,
        }
    }
}

impl<T: Copy> SubType<T> {
    pub fn map<U>(&self, f: &impl Fn(T) -> U) -> SubType<U> {
        let tys = |v: &[Ty<T>]| v.iter().map(|t| t.map(f)).collect();
        SubType {
            is_final: self.is_final,
            supertype: self.supertype.map(f),
            composite: match &self.composite {
                Composite::Func { params, results } => Composite::Func {
                    params: tys(params),
                    results: tys(results),
                },
                Composite::Struct(fields) => {
                    Composite::Struct(fields.iter().map(|x| x.map(f)).collect())
                }
                Composite::Array(x) => Composite::Array(x.map(f)),
            },
        }
    }
}

/// The oracle's value representation of a type: references become `funcref`, `externref`,
/// `anyref` or `exnref` by hierarchy (the slot encoding does not depend on more).
/// `is_func` tells whether a defined type is a function type.
pub(crate) fn coarse<T: Copy>(t: Ty<T>, is_func: &dyn Fn(T) -> bool) -> ValType {
    use AbsHeap as A;
    match t {
        Ty::I32 => ValType::I32,
        Ty::I64 => ValType::I64,
        Ty::F32 => ValType::F32,
        Ty::F64 => ValType::F64,
        Ty::V128 => ValType::V128,
        Ty::Ref(r) => match r.heap {
            Heap::Def(t) if is_func(t) => ValType::FuncRef,
            Heap::Def(_) => ValType::AnyRef,
            Heap::Abs(A::Func | A::NoFunc) => ValType::FuncRef,
            Heap::Abs(A::Extern | A::NoExtern) => ValType::ExternRef,
            Heap::Abs(A::Exn | A::NoExn) => ValType::ExnRef,
            Heap::Abs(A::Any | A::Eq | A::I31 | A::Struct | A::Array | A::None) => ValType::AnyRef,
        },
    }
}

impl<T: Copy> Composite<T> {
    /// A function type's value representation (empty for other types).
    pub fn coarse_func(&self, is_func: &dyn Fn(T) -> bool) -> FuncType {
        match self {
            Composite::Func { params, results } => FuncType {
                params: params.iter().map(|t| coarse(*t, is_func)).collect(),
                results: results.iter().map(|t| coarse(*t, is_func)).collect(),
            },
            _ => FuncType {
                params: vec![],
                results: vec![],
            },
        }
    }
}

/// The precise type the host means by a [`ValType`]: `funcref` is `(ref null func)`.
pub(crate) fn from_coarse<T>(t: ValType) -> Ty<T> {
    let nullable = |h| {
        Ty::Ref(RefTy {
            nullable: true,
            heap: Heap::Abs(h),
        })
    };
    match t {
        ValType::I32 => Ty::I32,
        ValType::I64 => Ty::I64,
        ValType::F32 => Ty::F32,
        ValType::F64 => Ty::F64,
        ValType::V128 => Ty::V128,
        ValType::FuncRef => nullable(AbsHeap::Func),
        ValType::ExternRef => nullable(AbsHeap::Extern),
        ValType::ExnRef => nullable(AbsHeap::Exn),
        ValType::AnyRef => nullable(AbsHeap::Any),
    }
}

/// A defined type in the store.
#[derive(Debug)]
pub(crate) struct DefType {
    pub sub: SubType<TypeId>,
    /// This type and its declared supertypes, nearest first.
    pub supers: Vec<TypeId>,
    /// The value representation of a function type's parameters and results (empty
    /// otherwise), for calls and for the public API.
    pub func: FuncType,
}

/// Every defined type of a store.
#[derive(Debug, Default)]
pub(crate) struct TypeRegistry {
    pub defs: Vec<DefType>,
    /// Canonical groups and the id of their first type.
    groups: HashMap<Vec<SubType<Canon>>, TypeId>,
}

impl TypeRegistry {
    /// The ids of a recursion group whose types name each other by `Canon`.
    pub fn intern_group(&mut self, group: Vec<SubType<Canon>>) -> Vec<TypeId> {
        let n = group.len() as u32;
        if let Some(&first) = self.groups.get(&group) {
            return (first..first + n).collect();
        }
        let first = self.defs.len() as TypeId;
        for sub in &group {
            let sub = sub.map(&|c| match c {
                Canon::Rec(i) => first + i,
                Canon::Id(id) => id,
            });
            let id = self.defs.len() as TypeId;
            let mut supers = vec![id];
            if let Some(s) = sub.supertype {
                supers.extend(self.defs[s as usize].supers.iter().copied());
            }
            self.defs.push(DefType {
                sub,
                supers,
                func: FuncType {
                    params: vec![],
                    results: vec![],
                },
            });
        }
        // Parameters may name any type of the group, so this waits for the whole group.
        for id in first..first + n {
            let func = self.defs[id as usize]
                .sub
                .composite
                .coarse_func(&|t| self.is_func(t));
            self.defs[id as usize].func = func;
        }
        self.groups.insert(group, first);
        (first..first + n).collect()
    }

    /// The id of a host function's type: a final function type in a group of its own, like
    /// `(type (func ...))` in a module.
    pub fn intern_host_func(&mut self, ty: &FuncType) -> TypeId {
        let tys = |v: &[ValType]| v.iter().map(|t| from_coarse(*t)).collect();
        self.intern_group(vec![SubType {
            is_final: true,
            supertype: None,
            composite: Composite::Func {
                params: tys(&ty.params),
                results: tys(&ty.results),
            },
        }])[0]
    }

    /// Whether a defined type is a function type.
    pub fn is_func(&self, t: TypeId) -> bool {
        matches!(self.defs[t as usize].sub.composite, Composite::Func { .. })
    }

    /// The value representation of a type.
    pub fn coarse(&self, t: Ty<TypeId>) -> ValType {
        coarse(t, &|t| self.is_func(t))
    }

    /// `a <: b` for defined types.
    pub fn def_sub(&self, a: TypeId, b: TypeId) -> bool {
        self.defs[a as usize].supers.contains(&b)
    }

    /// The abstract heap type at the top of a defined type's hierarchy's `any`, `func` side.
    fn def_kind(&self, t: TypeId) -> AbsHeap {
        match self.defs[t as usize].sub.composite {
            Composite::Func { .. } => AbsHeap::Func,
            Composite::Struct(_) => AbsHeap::Struct,
            Composite::Array(_) => AbsHeap::Array,
        }
    }

    /// `a <: b` for heap types.
    pub fn heap_sub(&self, a: Heap<TypeId>, b: Heap<TypeId>) -> bool {
        use AbsHeap as A;
        match (a, b) {
            (Heap::Def(x), Heap::Def(y)) => self.def_sub(x, y),
            (Heap::Def(x), Heap::Abs(h)) => abs_sub(self.def_kind(x), h),
            (Heap::Abs(h), Heap::Def(y)) => match self.def_kind(y) {
                A::Func => h == A::NoFunc,
                _ => h == A::None,
            },
            (Heap::Abs(g), Heap::Abs(h)) => abs_sub(g, h),
        }
    }

    /// `a <: b` for value types.
    pub fn ty_sub(&self, a: Ty<TypeId>, b: Ty<TypeId>) -> bool {
        match (a, b) {
            (Ty::Ref(a), Ty::Ref(b)) => {
                (b.nullable || !a.nullable) && self.heap_sub(a.heap, b.heap)
            }
            _ => a == b,
        }
    }
}

/// Subtyping of abstract heap types: three hierarchies, each with a bottom type.
fn abs_sub(a: AbsHeap, b: AbsHeap) -> bool {
    use AbsHeap as A;
    a == b
        || match a {
            A::NoFunc => b == A::Func,
            A::NoExtern => b == A::Extern,
            A::NoExn => b == A::Exn,
            A::None => matches!(b, A::Any | A::Eq | A::I31 | A::Struct | A::Array),
            A::I31 | A::Struct | A::Array => matches!(b, A::Any | A::Eq),
            A::Eq => b == A::Any,
            _ => false,
        }
}

/// A wasmparser value type with defined types named by module index.
pub(crate) fn ty_from(t: wasmparser::ValType) -> Ty<u32> {
    match t {
        wasmparser::ValType::I32 => Ty::I32,
        wasmparser::ValType::I64 => Ty::I64,
        wasmparser::ValType::F32 => Ty::F32,
        wasmparser::ValType::F64 => Ty::F64,
        wasmparser::ValType::V128 => Ty::V128,
        wasmparser::ValType::Ref(r) => Ty::Ref(ref_from(r)),
    }
}

/// A wasmparser reference type with defined types named by module index.
pub(crate) fn ref_from(r: wasmparser::RefType) -> RefTy<u32> {
    RefTy {
        nullable: r.is_nullable(),
        heap: heap_from(r.heap_type()),
    }
}

/// A wasmparser heap type with defined types named by module index.
pub(crate) fn heap_from(h: wasmparser::HeapType) -> Heap<u32> {
    use wasmparser::{AbstractHeapType as W, HeapType};
    match h {
        HeapType::Concrete(i) | HeapType::Exact(i) => {
            Heap::Def(i.as_module_index().unwrap_or(u32::MAX))
        }
        HeapType::Abstract { ty, .. } => Heap::Abs(match ty {
            W::Func => AbsHeap::Func,
            W::NoFunc => AbsHeap::NoFunc,
            W::Extern => AbsHeap::Extern,
            W::NoExtern => AbsHeap::NoExtern,
            W::Any => AbsHeap::Any,
            W::Eq => AbsHeap::Eq,
            W::I31 => AbsHeap::I31,
            W::Struct => AbsHeap::Struct,
            W::Array => AbsHeap::Array,
            W::None => AbsHeap::None,
            W::Exn => AbsHeap::Exn,
            W::NoExn => AbsHeap::NoExn,
            // Stack switching's continuations: not 3.0; validation rejects them without it.
            W::Cont | W::NoCont => AbsHeap::None,
        }),
    }
}

/// A wasmparser type definition with defined types named by module index.
pub(crate) fn sub_type_from(s: &wasmparser::SubType) -> SubType<u32> {
    use wasmparser::{CompositeInnerType as C, StorageType};
    let field = |f: &wasmparser::FieldType| Field {
        storage: match f.element_type {
            StorageType::I8 => Storage::I8,
            StorageType::I16 => Storage::I16,
            StorageType::Val(t) => Storage::Val(ty_from(t)),
        },
        mutable: f.mutable,
    };
    SubType {
        is_final: s.is_final,
        // Validation allows at most one supertype.
        supertype: s
            .supertype_idxs
            .first()
            .map(|i| i.as_module_index().unwrap_or(u32::MAX)),
        composite: match &s.composite_type.inner {
            C::Func(f) => Composite::Func {
                params: f.params().iter().map(|t| ty_from(*t)).collect(),
                results: f.results().iter().map(|t| ty_from(*t)).collect(),
            },
            C::Struct(st) => Composite::Struct(st.fields.iter().map(field).collect()),
            C::Array(a) => Composite::Array(field(&a.0)),
            // Stack switching's continuation types: not 3.0.
            C::Cont(_) => Composite::Struct(vec![]),
        },
    }
}
