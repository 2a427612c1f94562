//! The engine-wide type registry (Wasm GC): recursive type groups are canonicalised so that
//! two structurally equal groups (isorecursive equality) of any modules of one engine get the
//! same ids, one id per type. Each type keeps its declared supertype, whether it is final, and
//! its supertype chain ("display"), so a subtype test of a concrete type is one lookup at a
//! known depth.
//!
//! A group's canonical key spells references to types inside the group by their position in
//! the group and references to earlier types by their canonical id, so equal keys mean
//! equal groups. A plain function type (what host functions and tags use) is a group of one
//! final type without a supertype, the same as wasm's `(type (func ...))`.

use crate::types::{FuncType, HeapType, RefType, ValType};
use std::collections::HashMap;
use std::sync::Arc;

/// How a field is stored: packed integers or a value type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Storage {
    I8,
    I16,
    Val(ValType),
}

impl Storage {
    /// Bytes a field of this storage takes in an object (also its alignment).
    pub fn size(self) -> u32 {
        match self {
            Storage::I8 => 1,
            Storage::I16 => 2,
            Storage::Val(ValType::I32 | ValType::F32) => 4,
            Storage::Val(ValType::V128) => 16,
            Storage::Val(_) => 8,
        }
    }

    /// Whether the field may hold a reference to a heap object (what the collector traces).
    pub fn is_gc_ref(self) -> bool {
        matches!(self, Storage::Val(v) if v.ref_type().is_some_and(|r| heap_may_be_object(r.heap)))
    }
}

/// Whether a reference of this heap type may point at an object the collector traces: the
/// `any` hierarchy, `extern` (an externalised object) and `exn` (exception objects are
/// collected with the GC heap's objects). Functions live elsewhere.
pub(crate) fn heap_may_be_object(h: HeapType) -> bool {
    !matches!(
        h,
        HeapType::Func | HeapType::NoFunc | HeapType::NoExn | HeapType::NoExtern
    )
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Field {
    pub storage: Storage,
    pub mutable: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Composite {
    Func(FuncType),
    Struct(Vec<Field>),
    Array(Field),
}

/// Object header: type id (u32) at 0, flags (u32: kind and mark bit) at 4; an array's length
/// (u32) at 8; struct fields from 8, array elements from 16 (v128-aligned).
pub(crate) const KIND_STRUCT: u32 = 1;
pub(crate) const KIND_ARRAY: u32 = 2;
pub(crate) const ARRAY_LEN: i32 = 8;
pub(crate) const ARRAY_DATA: u32 = 16;
pub(crate) const STRUCT_DATA: u32 = 8;

/// One canonical type.
#[derive(Debug)]
pub(crate) struct TypeInfo {
    pub id: u32,
    pub composite: Composite,
    pub is_final: bool,
    /// The supertype chain from the root down to this type itself.
    pub display: Vec<u32>,
    /// A struct's field offsets and total size (0 for other kinds).
    pub field_offsets: Vec<u32>,
    pub size: u32,
}

impl TypeInfo {
    pub fn depth(&self) -> usize {
        self.display.len() - 1
    }
    pub fn func(&self) -> Option<&FuncType> {
        match &self.composite {
            Composite::Func(f) => Some(f),
            _ => None,
        }
    }
    pub fn array_elem(&self) -> Option<Field> {
        match &self.composite {
            Composite::Array(f) => Some(*f),
            _ => None,
        }
    }
    pub fn struct_fields(&self) -> Option<&[Field]> {
        match &self.composite {
            Composite::Struct(f) => Some(f),
            _ => None,
        }
    }
}

/// A reference inside a group's key: to a member of the group, or to a canonical id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum KeyRef {
    Rec(u32),
    Id(u32),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum KeyVal {
    Num(u8),
    Ref { nullable: bool, heap: KeyHeap },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum KeyHeap {
    Abstract(u8),
    Concrete(KeyRef),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum KeyStorage {
    I8,
    I16,
    Val(KeyVal),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum KeyComposite {
    Func(Vec<KeyVal>, Vec<KeyVal>),
    Struct(Vec<(KeyStorage, bool)>),
    Array(KeyStorage, bool),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct KeySub {
    pub is_final: bool,
    pub supertype: Option<KeyRef>,
    pub composite: KeyComposite,
}

/// The engine's registry.
#[derive(Default)]
pub(crate) struct TypeRegistry {
    groups: HashMap<Vec<KeySub>, u32>,
    types: Vec<Arc<TypeInfo>>,
}

fn abstract_code(h: HeapType) -> u8 {
    match h {
        HeapType::Func => 0,
        HeapType::Extern => 1,
        HeapType::Exn => 2,
        HeapType::Any => 3,
        HeapType::Eq => 4,
        HeapType::I31 => 5,
        HeapType::Struct => 6,
        HeapType::Array => 7,
        HeapType::None => 8,
        HeapType::NoFunc => 9,
        HeapType::NoExtern => 10,
        HeapType::NoExn => 11,
        HeapType::Concrete(_) => 255,
    }
}

fn abstract_from_code(c: u8) -> HeapType {
    [
        HeapType::Func,
        HeapType::Extern,
        HeapType::Exn,
        HeapType::Any,
        HeapType::Eq,
        HeapType::I31,
        HeapType::Struct,
        HeapType::Array,
        HeapType::None,
        HeapType::NoFunc,
        HeapType::NoExtern,
        HeapType::NoExn,
    ][c as usize]
}

/// Key of a runtime value type (all concrete references by id).
pub(crate) fn key_val(t: ValType) -> KeyVal {
    match t.ref_type() {
        None => KeyVal::Num(match t {
            ValType::I32 => 0,
            ValType::I64 => 1,
            ValType::F32 => 2,
            ValType::F64 => 3,
            _ => 4,
        }),
        Some(r) => KeyVal::Ref {
            nullable: r.nullable,
            heap: match r.heap {
                HeapType::Concrete(id) => KeyHeap::Concrete(KeyRef::Id(id)),
                h => KeyHeap::Abstract(abstract_code(h)),
            },
        },
    }
}

fn val_of_key(k: KeyVal, base: u32) -> ValType {
    match k {
        KeyVal::Num(n) => [
            ValType::I32,
            ValType::I64,
            ValType::F32,
            ValType::F64,
            ValType::V128,
        ][n as usize],
        KeyVal::Ref { nullable, heap } => ValType::reference(RefType {
            nullable,
            heap: match heap {
                KeyHeap::Abstract(c) => abstract_from_code(c),
                KeyHeap::Concrete(r) => HeapType::Concrete(id_of(r, base)),
            },
        }),
    }
}

fn id_of(r: KeyRef, base: u32) -> u32 {
    match r {
        KeyRef::Rec(i) => base + i,
        KeyRef::Id(id) => id,
    }
}

fn storage_of_key(k: KeyStorage, base: u32) -> Storage {
    match k {
        KeyStorage::I8 => Storage::I8,
        KeyStorage::I16 => Storage::I16,
        KeyStorage::Val(v) => Storage::Val(val_of_key(v, base)),
    }
}

impl TypeRegistry {
    /// Intern a group; returns the id of its first type (the others follow in order).
    pub fn intern_group(&mut self, group: Vec<KeySub>) -> u32 {
        if let Some(&base) = self.groups.get(&group) {
            return base;
        }
        let base = self.types.len() as u32;
        for (i, sub) in group.iter().enumerate() {
            let id = base + i as u32;
            let supertype = sub.supertype.map(|r| id_of(r, base));
            let mut display = match supertype {
                // A supertype precedes its subtypes (validation), so its info exists.
                Some(s) => self.types[s as usize].display.clone(),
                None => Vec::new(),
            };
            display.push(id);
            let composite = match &sub.composite {
                KeyComposite::Func(p, r) => Composite::Func(FuncType::new(
                    p.iter().map(|&k| val_of_key(k, base)),
                    r.iter().map(|&k| val_of_key(k, base)),
                )),
                KeyComposite::Struct(fs) => Composite::Struct(
                    fs.iter()
                        .map(|&(s, m)| Field {
                            storage: storage_of_key(s, base),
                            mutable: m,
                        })
                        .collect(),
                ),
                KeyComposite::Array(s, m) => Composite::Array(Field {
                    storage: storage_of_key(*s, base),
                    mutable: *m,
                }),
            };
            let (field_offsets, size) = match &composite {
                Composite::Struct(fs) => {
                    let mut off = STRUCT_DATA;
                    let mut offs = Vec::with_capacity(fs.len());
                    for f in fs {
                        let sz = f.storage.size();
                        off = off.div_ceil(sz) * sz;
                        offs.push(off);
                        off += sz;
                    }
                    (offs, off.div_ceil(8) * 8)
                }
                _ => (Vec::new(), 0),
            };
            self.types.push(Arc::new(TypeInfo {
                id,
                composite,
                is_final: sub.is_final,
                display,
                field_offsets,
                size,
            }));
        }
        self.groups.insert(group, base);
        base
    }

    pub fn get(&self, id: u32) -> Option<&Arc<TypeInfo>> {
        self.types.get(id as usize)
    }

    /// Whether canonical type `a` is `b` or one of its subtypes.
    pub fn is_subtype_id(&self, a: u32, b: u32) -> bool {
        if a == b {
            return true;
        }
        match (self.get(a), self.get(b)) {
            (Some(ta), Some(tb)) => ta.display.get(tb.depth()) == Some(&b),
            _ => false,
        }
    }

    /// The hierarchy (top type) of a heap type.
    pub fn top(&self, h: HeapType) -> HeapType {
        match h {
            HeapType::Func | HeapType::NoFunc => HeapType::Func,
            HeapType::Extern | HeapType::NoExtern => HeapType::Extern,
            HeapType::Exn | HeapType::NoExn => HeapType::Exn,
            HeapType::Concrete(id) => match self.get(id).map(|t| &t.composite) {
                Some(Composite::Func(_)) | None => HeapType::Func,
                Some(_) => HeapType::Any,
            },
            _ => HeapType::Any,
        }
    }

    /// Heap-type subtyping.
    pub fn heap_subtype(&self, a: HeapType, b: HeapType) -> bool {
        use HeapType as H;
        if a == b {
            return true;
        }
        let kind = |id: u32| self.get(id).map(|t| &t.composite);
        match (a, b) {
            (H::Concrete(x), H::Concrete(y)) => self.is_subtype_id(x, y),
            (H::Concrete(x), _) => match kind(x) {
                Some(Composite::Func(_)) | None => b == H::Func,
                Some(Composite::Struct(_)) => matches!(b, H::Struct | H::Eq | H::Any),
                Some(Composite::Array(_)) => matches!(b, H::Array | H::Eq | H::Any),
            },
            (H::None, _) => self.top(b) == H::Any,
            (H::NoFunc, _) => self.top(b) == H::Func,
            (H::NoExtern, _) => b == H::Extern,
            (H::NoExn, _) => b == H::Exn,
            (H::I31 | H::Struct | H::Array, H::Eq | H::Any) => true,
            (H::Eq, H::Any) => true,
            _ => false,
        }
    }

    pub fn ref_subtype(&self, a: RefType, b: RefType) -> bool {
        (!a.nullable || b.nullable) && self.heap_subtype(a.heap, b.heap)
    }

    pub fn val_subtype(&self, a: ValType, b: ValType) -> bool {
        match (a.ref_type(), b.ref_type()) {
            (Some(x), Some(y)) => self.ref_subtype(x, y),
            _ => a == b,
        }
    }
}
