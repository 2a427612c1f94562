//! Aggregate and `i31` rules (spec 3.0 section 4.4.6, "Reference instructions"): the heap of
//! structs and arrays, packed fields, and the dynamic type of a reference for casts.
//!
//! A struct or array is an [`Object`]: its defined type and its fields (an array's elements),
//! one slot each. Packed `i8`/`i16` fields keep only their low bits; reads extend them.
//! Objects are never freed, so no reference can dangle; [`Store::alloc`] enforces
//! `Config::max_objects` instead.

use crate::instance::Object;
use crate::instr::Sign;
use crate::types::{AbsHeap, Composite, Heap, RefTy, Storage, Ty, TypeId, TypeRegistry};
use crate::value::{RefKind, Slot, ref_slot, slot_ref};
use crate::{Store, Trap};

/// The longest array the store allocates (in elements); a longer one is "allocation limit
/// exceeded", as is any object beyond `Config::max_objects`.
pub const MAX_ARRAY_LEN: u64 = 1 << 24;

/// The storage type of field `i` of struct type `t`, or of the elements of array type `t`.
pub fn storage(types: &TypeRegistry, t: TypeId, i: usize) -> Storage<TypeId> {
    match &types.defs[t as usize].sub.composite {
        Composite::Struct(fields) => fields[i].storage,
        Composite::Array(f) => f.storage,
        // Validation gives struct and array instructions struct and array types.
        Composite::Func { .. } => Storage::Val(Ty::I32),
    }
}

/// The number of fields of struct type `t`.
pub fn field_count(types: &TypeRegistry, t: TypeId) -> usize {
    match &types.defs[t as usize].sub.composite {
        Composite::Struct(fields) => fields.len(),
        _ => 0,
    }
}

/// A value as a field of storage type `s` keeps it.
pub fn pack(s: Storage<TypeId>, v: Slot) -> Slot {
    match s {
        Storage::I8 => v & 0xff,
        Storage::I16 => v & 0xffff,
        Storage::Val(_) => v,
    }
}

/// A field of storage type `s` as `get`, `get_s` or `get_u` reads it.
pub fn unpack(s: Storage<TypeId>, v: Slot, sign: Sign) -> Slot {
    match (s, sign) {
        (Storage::I8, Sign::S) => Slot::from(v as u8 as i8 as i32 as u32),
        (Storage::I16, Sign::S) => Slot::from(v as u16 as i16 as i32 as u32),
        _ => v,
    }
}

/// The bytes an array element of storage type `s` takes in a data segment.
pub fn storage_bytes(s: Storage<TypeId>) -> u64 {
    match s {
        Storage::I8 => 1,
        Storage::I16 => 2,
        Storage::Val(Ty::I32 | Ty::F32) => 4,
        Storage::Val(Ty::I64 | Ty::F64) => 8,
        Storage::Val(Ty::V128) => 16,
        // Validation rejects data segments for arrays of references.
        Storage::Val(Ty::Ref(_)) => 0,
    }
}

/// `n` elements of `size` bytes each, little-endian, from `bytes` at `s`; `None` when they
/// do not all lie inside.
pub fn read_elements(bytes: &[u8], s: u64, n: u64, size: u64) -> Option<Vec<Slot>> {
    let end = n.checked_mul(size)?.checked_add(s)?;
    if end > bytes.len() as u64 {
        return None;
    }
    let data = &bytes[s as usize..end as usize];
    Some(
        data.chunks(size.max(1) as usize)
            .map(|c| c.iter().rev().fold(0, |acc, b| (acc << 8) | Slot::from(*b)))
            .collect(),
    )
}

/// The range `[d, d + n)` if it lies inside `len` elements.
pub fn range(len: usize, d: u64, n: u64) -> Option<std::ops::Range<usize>> {
    let end = d.checked_add(n)?;
    (end <= len as u64).then_some(d as usize..end as usize)
}

/// `i31.get_s` / `i31.get_u` of the 31 bits `x`.
pub fn i31_get(x: u32, sign: Sign) -> u32 {
    match sign {
        Sign::S => (((x << 1) as i32) >> 1) as u32,
        _ => x,
    }
}

impl Store {
    /// Allocate a struct or array; beyond the configured number of objects it traps.
    pub(crate) fn alloc(
        &mut self,
        kind: RefKind,
        type_id: TypeId,
        fields: Vec<Slot>,
    ) -> Result<Slot, Trap> {
        if self.objects.len() + self.exns.len() >= self.config.max_objects {
            return Err(Trap::host("allocation limit exceeded"));
        }
        self.objects.push(Object { type_id, fields });
        Ok(ref_slot(kind, self.objects.len() as u32 - 1))
    }

    /// Whether reference `r` has a type that matches `to` (`ref.test`, `ref.cast`, and the
    /// `br_on_cast` instructions). Its dynamic type is exact: the defined type of a function,
    /// struct or array, `i31` or `exn`; a host reference in the `any` hierarchy is an `any`.
    pub(crate) fn ref_matches(&self, r: Slot, to: RefTy<TypeId>) -> bool {
        let Some((kind, a)) = slot_ref(r) else {
            return to.nullable;
        };
        // `extern.convert_any` keeps the slot: in the `extern` hierarchy every reference,
        // host or internal, is an `extern`.
        if to.heap == Heap::Abs(AbsHeap::Extern) {
            return true;
        }
        let heap = match kind {
            RefKind::Func => Heap::Def(self.funcs[a as usize].type_id),
            RefKind::Struct | RefKind::Array => Heap::Def(self.objects[a as usize].type_id),
            RefKind::I31 => Heap::Abs(AbsHeap::I31),
            RefKind::Host => Heap::Abs(AbsHeap::Any),
            RefKind::Exn => Heap::Abs(AbsHeap::Exn),
        };
        self.types.heap_sub(heap, to.heap)
    }
}
