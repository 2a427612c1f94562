//! Exception handling's embedding API: tags and exception objects.
//!
//! A tag is a store object; its identity is its store index (a tag imported into another
//! instance is the same tag, a module instantiated twice defines two tags). Generated code
//! sees a tag as its id (`index + 1`) in the instance's VM context. An exception object is a
//! store-owned array of `ValRaw` slots: slot 0 holds the tag id, slots 1.. the payload; an
//! `exnref` is the array's address. The store keeps every exception until it is dropped (the
//! runtime has no collector yet).

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
        let exn = s.new_exception(tag.index, &raw);
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

    /// Allocate an exception object of store tag `tag` with `payload`; returns its `exnref`.
    pub(crate) fn new_exception(&mut self, tag: usize, payload: &[ValRaw]) -> ExnRef {
        let exn = self.new_exception_zeroed(tag, payload.len());
        if let Some(obj) = self.exns.last_mut() {
            obj[1..].copy_from_slice(payload);
        }
        exn
    }

    /// A new exception object of `tag` with a zeroed payload of `n` values (generated code's
    /// `throw` then writes it). It used to be built from a temporary zeroed `Vec`, whose
    /// allocation and free were about a third of the `throw` kernel's time.
    pub(crate) fn new_exception_zeroed(&mut self, tag: usize, n: usize) -> ExnRef {
        let mut obj = vec![0 as ValRaw; n + 1].into_boxed_slice();
        obj[0] = (tag as ValRaw) + 1;
        let addr = obj.as_ptr() as u64;
        self.exn_index.insert(addr, self.exns.len());
        self.exns.push(obj);
        ExnRef(addr)
    }

    /// Whether `r` names an exception object of this store.
    pub(crate) fn owns_exn(&self, r: ExnRef) -> bool {
        self.exn_index.contains_key(&r.0)
    }

    /// The tag and payload of an exception object of this store.
    pub(crate) fn exception(&mut self, r: ExnRef) -> Option<Exception> {
        let &i = self.exn_index.get(&r.0)?;
        let tag = (self.exns[i][0] as usize).checked_sub(1)?;
        let ty = self.tags.get(tag)?.ty.clone();
        let raw: Vec<ValRaw> = self.exns[i][1..].to_vec();
        let payload = ty
            .params()
            .iter()
            .zip(raw)
            .map(|(&t, r)| self.raw_to_val(r, t))
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
