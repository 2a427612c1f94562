//! The GC embedding API: structs and arrays host code can create, read and write, and the
//! store's collector controls. A struct or array handed to the host (a [`Val::AnyRef`], or an
//! [`ExternRef`] wrapping one) is rooted in its store until
//! [`Store::release_host_refs`](crate::Store::release_host_refs).

use crate::gctypes::{ARRAY_DATA, Composite, Field, KIND_ARRAY, KIND_STRUCT, Storage};
use crate::module::Module;
use crate::store::{AsContextMut, StoreOpaque};
use crate::trap::{Error, Result};
use crate::types::ValType;
use crate::values::{AnyRef, Val, ValRaw};

/// A struct of a store's GC heap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StructRef(pub(crate) u64);

/// An array of a store's GC heap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ArrayRef(pub(crate) u64);

fn field_type(f: &Field) -> ValType {
    match f.storage {
        Storage::I8 | Storage::I16 => ValType::I32,
        Storage::Val(t) => t,
    }
}

impl StoreOpaque {
    fn read_field(&mut self, obj: u64, off: u32, f: &Field) -> Option<Val> {
        let raw = self.gc_read(obj, off as usize, f.storage.size() as usize)?;
        Some(match f.storage {
            // Packed fields read zero-extended (like `struct.get_u`).
            Storage::I8 | Storage::I16 => Val::I32(raw as u32 as i32),
            Storage::Val(t) => self.raw_to_val(raw, t),
        })
    }

    fn write_field(&mut self, obj: u64, off: u32, f: &Field, v: &Val) -> Result<()> {
        if !self.val_matches(v, field_type(f)) {
            return Err(Error::Other(
                "value has the wrong type for this field".into(),
            ));
        }
        let raw: ValRaw = self.val_to_raw(v)?;
        if self.gc_write(obj, off as usize, f.storage.size() as usize, raw) {
            Ok(())
        } else {
            Err(Error::Other("not an object of this store".into()))
        }
    }

    fn root(&mut self, obj: u64) {
        self.gc.host_roots.insert(obj);
    }
}

impl AnyRef {
    /// This reference as a struct of `store`'s heap.
    pub fn as_struct(self, mut store: impl AsContextMut) -> Option<StructRef> {
        let s = &store.ctx_mut().opaque;
        let (_, kind, _) = s.gc_header(self.0)?;
        (kind == KIND_STRUCT).then_some(StructRef(self.0))
    }
    /// This reference as an array of `store`'s heap.
    pub fn as_array(self, mut store: impl AsContextMut) -> Option<ArrayRef> {
        let s = &store.ctx_mut().opaque;
        let (_, kind, _) = s.gc_header(self.0)?;
        (kind == KIND_ARRAY).then_some(ArrayRef(self.0))
    }
}

/// `module`'s type `type_index`, for allocating an object of it from the host.
fn module_type(
    module: &Module,
    type_index: u32,
) -> Result<std::sync::Arc<crate::gctypes::TypeInfo>> {
    module
        .inner
        .info
        .type_infos
        .get(type_index as usize)
        .cloned()
        .ok_or_else(|| Error::Other("no such type".into()))
}

impl StructRef {
    /// A new struct of `module`'s struct type `type_index` with `fields`.
    pub fn new(
        mut store: impl AsContextMut,
        module: &Module,
        type_index: u32,
        fields: &[Val],
    ) -> Result<StructRef> {
        let s = &mut store.ctx_mut().opaque;
        let ti = module_type(module, type_index)?;
        let Composite::Struct(fs) = &ti.composite else {
            return Err(Error::Other("not a struct type".into()));
        };
        if fs.len() != fields.len() {
            return Err(Error::Other("wrong number of fields".into()));
        }
        for (f, v) in fs.iter().zip(fields) {
            if !s.val_matches(v, field_type(f)) {
                return Err(Error::Other(
                    "value has the wrong type for this field".into(),
                ));
            }
        }
        let obj = s
            .gc_alloc(ti.id, 0, None, true)
            .map_err(|c| Error::Trap(crate::trap::Trap::from_code(c)))?;
        s.root(obj);
        for ((f, &off), v) in fs.iter().zip(&ti.field_offsets).zip(fields) {
            s.write_field(obj, off, f, v)?;
        }
        Ok(StructRef(obj))
    }

    /// Field `i` (packed fields zero-extended), or `None` when out of range.
    pub fn field(self, mut store: impl AsContextMut, i: usize) -> Option<Val> {
        let s = &mut store.ctx_mut().opaque;
        let (id, _, _) = s.gc_header(self.0)?;
        let ti = s.engine.type_info(id)?;
        let f = *ti.struct_fields()?.get(i)?;
        s.read_field(self.0, ti.field_offsets[i], &f)
    }

    /// Set field `i` (checked against the field's type; packed fields take the low bits).
    pub fn set_field(self, mut store: impl AsContextMut, i: usize, v: Val) -> Result<()> {
        let s = &mut store.ctx_mut().opaque;
        let (id, _, _) = s
            .gc_header(self.0)
            .ok_or_else(|| Error::Other("not an object of this store".into()))?;
        let ti = s
            .engine
            .type_info(id)
            .ok_or_else(|| Error::Other("unknown type".into()))?;
        let f = *ti
            .struct_fields()
            .and_then(|f| f.get(i))
            .ok_or_else(|| Error::Other("no such field".into()))?;
        s.write_field(self.0, ti.field_offsets[i], &f, &v)
    }

    /// The number of fields.
    pub fn num_fields(self, mut store: impl AsContextMut) -> usize {
        let s = &mut store.ctx_mut().opaque;
        s.gc_header(self.0)
            .and_then(|(id, _, _)| s.engine.type_info(id))
            .and_then(|t| t.struct_fields().map(|f| f.len()))
            .unwrap_or(0)
    }

    pub fn to_any(self) -> AnyRef {
        AnyRef(self.0)
    }
}

impl ArrayRef {
    /// A new array of `module`'s array type `type_index`: `len` copies of `elem`.
    pub fn new(
        mut store: impl AsContextMut,
        module: &Module,
        type_index: u32,
        elem: Val,
        len: u32,
    ) -> Result<ArrayRef> {
        let s = &mut store.ctx_mut().opaque;
        let ti = module_type(module, type_index)?;
        let Some(f) = ti.array_elem() else {
            return Err(Error::Other("not an array type".into()));
        };
        if !s.val_matches(&elem, field_type(&f)) {
            return Err(Error::Other(
                "value has the wrong type for this array".into(),
            ));
        }
        let obj = s
            .gc_alloc(ti.id, len, None, true)
            .map_err(|c| Error::Trap(crate::trap::Trap::from_code(c)))?;
        s.root(obj);
        for i in 0..len {
            s.write_field(obj, ARRAY_DATA + i * f.storage.size(), &f, &elem)?;
        }
        Ok(ArrayRef(obj))
    }

    fn shape(self, s: &StoreOpaque) -> Option<(Field, u32)> {
        let (id, _, len) = s.gc_header(self.0)?;
        Some((s.engine.type_info(id)?.array_elem()?, len))
    }

    pub fn len(self, mut store: impl AsContextMut) -> u32 {
        self.shape(&store.ctx_mut().opaque).map_or(0, |(_, n)| n)
    }

    pub fn is_empty(self, store: impl AsContextMut) -> bool {
        self.len(store) == 0
    }

    /// Element `i` (packed elements zero-extended), or `None` when out of range.
    pub fn get(self, mut store: impl AsContextMut, i: u32) -> Option<Val> {
        let s = &mut store.ctx_mut().opaque;
        let (f, len) = self.shape(s)?;
        if i >= len {
            return None;
        }
        s.read_field(self.0, ARRAY_DATA + i * f.storage.size(), &f)
    }

    pub fn set(self, mut store: impl AsContextMut, i: u32, v: Val) -> Result<()> {
        let s = &mut store.ctx_mut().opaque;
        let (f, len) = self
            .shape(s)
            .ok_or_else(|| Error::Other("not an array of this store".into()))?;
        if i >= len {
            return Err(Error::Other("out of bounds array access".into()));
        }
        s.write_field(self.0, ARRAY_DATA + i * f.storage.size(), &f, &v)
    }

    pub fn to_any(self) -> AnyRef {
        AnyRef(self.0)
    }
}

impl<T> crate::Store<T> {
    /// Run the collector now.
    pub fn gc(&mut self) {
        self.inner.opaque.gc_collect(None);
    }

    /// Stop rooting the structs, arrays and exceptions handed to the host so far: after the
    /// next collection, those not reachable from wasm are gone and their references invalid
    /// (a collected exception's [`crate::ExnRef`] is then refused with an error).
    pub fn release_host_refs(&mut self) {
        self.inner.opaque.gc.host_roots.clear();
    }

    /// How many exception objects the store holds (not yet collected); for tests.
    #[doc(hidden)]
    pub fn live_exceptions(&self) -> usize {
        self.inner.opaque.gc.exn_count()
    }

    /// How many collections have run, and the bytes the heap holds.
    pub fn gc_stats(&self) -> (u64, usize) {
        (
            self.inner.opaque.gc.collections,
            self.inner.opaque.gc.bytes(),
        )
    }
}

impl<T> crate::Caller<'_, T> {
    /// Run the collector from inside a host function: the wasm frames below it are roots.
    pub fn gc(&mut self) {
        self.inner.opaque.gc_collect(None);
    }
}
