//! Exception handling's embedding API: tags and exception objects.
//!
//! A tag is a store object; its identity is its store index (a tag imported into another
//! instance is the same tag, a module instantiated twice defines two tags). Generated code
//! sees a tag as its id (`index + 1`) in the instance's VM context. An exception object is a
//! store-owned array of `ValRaw` slots: slot 0 holds the tag id, slots 1.. the payload; an
//! `exnref` is the array's address. Exception objects live in the store's GC heap beside its
//! structs and arrays and are collected with them when unreachable (see `vm/gc.rs`; what the
//! host may hold across collections: [`ExnRef`]).

use crate::store::{AsContextMut, StoreOpaque};
use crate::trap::{Error, Result};
use crate::types::TagType;
use crate::values::{ExnRef, Val, ValRaw};

/// An exception tag owned by a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Tag {
    pub(crate) store_id: u64,
    pub(crate) index: usize,
}

pub(crate) struct TagData {
    pub ty: TagType,
    /// The engine-wide signature id of the tag's function type (params -> []), so import
    /// matching is one comparison.
    pub sig: u32,
}

impl Tag {
    /// A new tag, distinct from every other.
    pub fn new(mut store: impl AsContextMut, ty: &TagType) -> Result<Tag> {
        let s = &mut store.ctx_mut().opaque;
        Ok(s.new_tag(ty.clone()))
    }

    pub fn ty(&self, mut store: impl AsContextMut) -> TagType {
        let s = &store.ctx_mut().opaque;
        match s.check(self.store_id) {
            Ok(()) => s.tags[self.index].ty.clone(),
            Err(_) => TagType::new([]),
        }
    }
}

/// A thrown (or throwable) exception: its tag, its payload and the `exnref` naming it.
///
/// An exception that escapes a call of [`crate::Func::call`] is [`Error::Exception`]; a host
/// function throws one into wasm by returning `Err(exception.into())`.
#[derive(Clone, Debug, PartialEq)]
pub struct Exception {
    pub(crate) exn: ExnRef,
    pub(crate) tag: Tag,
    pub(crate) payload: Vec<Val>,
}

// `Val`'s floats are compared as bits, so equality is reflexive.
impl Eq for Exception {}

impl Exception {
    /// A new exception object of `tag` carrying `payload` (checked against the tag's type).
    pub fn new(mut store: impl AsContextMut, tag: Tag, payload: &[Val]) -> Result<Exception> {
        let s = &mut store.ctx_mut().opaque;
        s.check(tag.store_id)?;
        let ty = s.tags[tag.index].ty.clone();
        if payload.len() != ty.params().len()
            || payload.iter().zip(ty.params()).any(|(v, t)| v.ty() != *t)
        {
            return Err(Error::Other(format!(
                "exception payload does not match the tag's type {:?}",
                ty.params()
            )));
        }
        let mut raw = Vec::with_capacity(payload.len());
        for v in payload {
            raw.push(s.val_to_raw(v)?);
        }
        let exn = s
            .new_exception(tag.index, &raw)
            .ok_or_else(|| Error::Other("out of GC heap for an exception object".into()))?;
        s.gc.host_roots.insert(exn.0);
        Ok(Exception {
            exn,
            tag,
            payload: payload.to_vec(),
        })
    }

    /// The exception an `exnref` of this store names.
    pub fn from_ref(mut store: impl AsContextMut, r: ExnRef) -> Option<Exception> {
        store.ctx_mut().opaque.exception(r)
    }

    pub fn tag(&self) -> Tag {
        self.tag
    }
    pub fn payload(&self) -> &[Val] {
        &self.payload
    }
    /// The `exnref` naming this exception (what `catch_ref` hands to wasm).
    pub fn exn_ref(&self) -> ExnRef {
        self.exn
    }
}

impl std::fmt::Display for Exception {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "uncaught exception (tag {}): {:?}",
            self.tag.index, self.payload
        )
    }
}

impl StoreOpaque {
    pub(crate) fn new_tag(&mut self, ty: TagType) -> Tag {
        let sig = self
            .engine
            .sig_id(&crate::types::FuncType::new(ty.params().to_vec(), []));
        self.new_tag_of(ty, sig)
    }

    /// A tag whose function type is canonical type `sig` (a module's tag type, which may sit
    /// in a recursion group: its identity is that type's, not its signature's).
    pub(crate) fn new_tag_of(&mut self, ty: TagType, sig: u32) -> Tag {
        self.tags.push(TagData { ty, sig });
        Tag {
            store_id: self.id,
            index: self.tags.len() - 1,
        }
    }

    /// Allocate an exception object of store tag `tag` with `payload` (from the host; no
    /// collection first, so the payload's references stay valid whatever the host held);
    /// returns its `exnref`, or `None` past the heap limit.
    pub(crate) fn new_exception(&mut self, tag: usize, payload: &[ValRaw]) -> Option<ExnRef> {
        let addr = self.new_exception_zeroed(tag, payload.len(), None, false)?;
        self.gc.write_exn_payload(addr, payload);
        self.exn_ref(addr)
    }

    /// A new exception object of `tag` with a zeroed payload of `n` values (generated code's
    /// `throw` then writes it); returns its address, or `None` past the heap limit. Like a GC
    /// allocation, it collects first (`collect`) when the heap passed its threshold (`fp`: see
    /// `vm::gc::stack_roots`), so a program that throws in a loop runs in bounded memory.
    pub(crate) fn new_exception_zeroed(
        &mut self,
        tag: usize,
        n: usize,
        fp: Option<usize>,
        collect: bool,
    ) -> Option<u64> {
        let size = (n + 1) * 16;
        if collect && !self.gc.keep_exns && self.gc.wants_collection(size) {
            self.gc_collect(fp);
        }
        let (addr, _) = self.gc.alloc_exn(n + 1, (tag as ValRaw) + 1)?;
        Some(addr)
    }

    /// The `exnref` of live exception object `addr` (its address and serial number).
    pub(crate) fn exn_ref(&self, addr: u64) -> Option<ExnRef> {
        self.gc.exn(addr).map(|e| ExnRef(addr, e.serial))
    }

    /// Whether `r` names a live exception object of this store.
    pub(crate) fn owns_exn(&self, r: ExnRef) -> bool {
        self.gc.exn(r.0).is_some_and(|e| e.serial == r.1)
    }

    /// The tag and payload of an exception object of this store (which the host now holds:
    /// the object is rooted).
    pub(crate) fn exception(&mut self, r: ExnRef) -> Option<Exception> {
        if !self.owns_exn(r) {
            return None;
        }
        let raw = self.gc.read_exn(r.0)?;
        let tag = (raw[0] as usize).checked_sub(1)?;
        let ty = self.tags.get(tag)?.ty.clone();
        self.gc.host_roots.insert(r.0);
        let payload = ty
            .params()
            .iter()
            .zip(&raw[1..])
            .map(|(&t, &r)| self.raw_to_val(r, t))
            .collect();
        Some(Exception {
            exn: r,
            tag: Tag {
                store_id: self.id,
                index: tag,
            },
            payload,
        })
    }
}
