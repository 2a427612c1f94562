//! The store: owns instances, memories, tables, globals, functions and host state.

use crate::engine::Engine;
use crate::trap::{Error, Result};
use crate::types::{FuncType, GlobalType, TableType};
use crate::values::{ExternRef, Val, ValRaw};
use crate::vm::memory::LinearMemory;
use crate::vm::vmctx::{VMFuncRef, VMLimits, VMTableDef};
use std::any::Any;
use std::cell::Cell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

static NEXT_STORE_ID: AtomicU64 = AtomicU64::new(1);

/// A collection of wasm objects plus host data `T`.
pub struct Store<T> {
    pub(crate) inner: Box<StoreInner<T>>,
}

/// The heap-allocated body of a [`Store`]; its address is stable, which host functions and
/// generated code rely on. Reached through [`AsContextMut`].
#[doc(hidden)]
#[repr(C)]
pub struct StoreInner<T> {
    pub(crate) opaque: StoreOpaque,
    pub(crate) data: T,
}

pub(crate) struct TableData {
    pub def: Box<VMTableDef>,
    pub elems: Vec<u64>,
    pub ty: TableType,
}

impl TableData {
    pub fn new(ty: TableType, init: u64) -> Result<TableData> {
        let n = usize::try_from(ty.minimum)
            .ok()
            .filter(|&n| n <= 10_000_000)
            .ok_or_else(|| Error::Other("table minimum too large".into()))?;
        let mut t = TableData {
            def: Box::new(VMTableDef {
                base: Cell::new(0),
                len: Cell::new(0),
            }),
            elems: vec![init; n],
            ty,
        };
        t.sync();
        Ok(t)
    }

    /// Publish the element array's address and length to generated code.
    pub fn sync(&mut self) {
        self.def.base.set(self.elems.as_mut_ptr() as usize);
        self.def.len.set(self.elems.len() as u64);
    }

    pub fn grow(&mut self, delta: u64, init: u64) -> Option<u64> {
        let old = self.elems.len() as u64;
        let new = old.checked_add(delta)?;
        let index_space = if self.ty.table64 {
            u64::MAX
        } else {
            u64::from(u32::MAX)
        };
        let max = self.ty.maximum.unwrap_or(index_space).min(index_space);
        if new > max || new > 10_000_000 {
            return None;
        }
        self.elems.resize(new as usize, init);
        self.sync();
        Some(old)
    }
}

pub(crate) struct GlobalData {
    pub cell: Box<Cell<ValRaw>>,
    pub ty: GlobalType,
}

pub(crate) enum FuncKind {
    Wasm,
    Host,
}

pub(crate) struct FuncData {
    /// Address of the function's `VMFuncRef` (in an instance's funcref array or a host
    /// function context, both owned by this store).
    pub funcref: usize,
    pub sig: u32,
    pub ty: FuncType,
    pub _kind: FuncKind,
    /// Cached address of the array-entry trampoline for `sig` (0 until first call); the
    /// engine keeps trampolines alive for its whole life.
    pub array_entry: usize,
}

/// The part of a store that does not depend on `T`.
#[doc(hidden)]
pub struct StoreOpaque {
    pub(crate) engine: Engine,
    pub(crate) id: u64,
    pub(crate) limits: Box<VMLimits>,
    pub(crate) entry_depth: u32,
    pub(crate) instances: Vec<crate::instance::InstanceData>,
    pub(crate) memories: Vec<LinearMemory>,
    pub(crate) tables: Vec<TableData>,
    pub(crate) globals: Vec<GlobalData>,
    pub(crate) funcs: Vec<FuncData>,
    pub(crate) funcref_index: HashMap<usize, usize>,
    pub(crate) externrefs: Vec<Box<dyn Any + Send + Sync>>,
    pub(crate) host_ctxs: Vec<Box<dyn crate::vm::host::ErasedHostCtx>>,
    pub(crate) tags: Vec<crate::exception::TagData>,
    /// The GC heap (`vm/gc.rs`), which also holds the exception objects (`exception.rs`).
    pub(crate) gc: crate::vm::gc::GcHeap,
    /// The innermost active wasm->host call of this store (a record in its `host_entry`'s
    /// frame), or null; each record's `prev` is the next one out (see `vm/host.rs`).
    pub(crate) host_calls: *const crate::vm::host::HostCallRecord,
}

impl<T> Store<T> {
    pub fn new(engine: &Engine, data: T) -> Store<T> {
        Store {
            inner: Box::new(StoreInner {
                opaque: StoreOpaque {
                    engine: engine.clone(),
                    id: NEXT_STORE_ID.fetch_add(1, Ordering::Relaxed),
                    limits: Box::default(),
                    entry_depth: 0,
                    instances: Vec::new(),
                    memories: Vec::new(),
                    tables: Vec::new(),
                    globals: Vec::new(),
                    funcs: Vec::new(),
                    funcref_index: HashMap::new(),
                    externrefs: Vec::new(),
                    host_ctxs: Vec::new(),
                    tags: Vec::new(),
                    gc: {
                        let mut gc = crate::vm::gc::GcHeap::new(engine.config().gc_heap_limit);
                        // Without the GC proposal, the translator runs no validator and so
                        // declares no stack maps: exnrefs in wasm frames cannot be found, and
                        // exceptions are kept for the store's life.
                        gc.keep_exns = !engine
                            .config()
                            .features
                            .contains(wasmparser::WasmFeatures::GC);
                        gc
                    },
                    host_calls: std::ptr::null(),
                },
                data,
            }),
        }
    }
    pub fn engine(&self) -> &Engine {
        &self.inner.opaque.engine
    }
    pub fn data(&self) -> &T {
        &self.inner.data
    }
    pub fn data_mut(&mut self) -> &mut T {
        &mut self.inner.data
    }
    pub fn into_data(self) -> T {
        self.inner.data
    }
}

/// Access to a store's contents: implemented by [`Store`] and [`crate::Caller`].
pub trait AsContextMut {
    type Data;
    #[doc(hidden)]
    fn ctx_mut(&mut self) -> &mut StoreInner<Self::Data>;
}

impl<T> AsContextMut for Store<T> {
    type Data = T;
    fn ctx_mut(&mut self) -> &mut StoreInner<T> {
        &mut self.inner
    }
}

impl<C: AsContextMut + ?Sized> AsContextMut for &mut C {
    type Data = C::Data;
    fn ctx_mut(&mut self) -> &mut StoreInner<C::Data> {
        (**self).ctx_mut()
    }
}

impl<T> StoreInner<T> {
    pub fn data(&self) -> &T {
        &self.data
    }
    pub fn data_mut(&mut self) -> &mut T {
        &mut self.data
    }
}

impl StoreOpaque {
    #[inline]
    pub(crate) fn check(&self, store_id: u64) -> Result<()> {
        if store_id == self.id {
            Ok(())
        } else {
            Err(Error::Other("object used with the wrong store".into()))
        }
    }

    pub(crate) fn push_func(&mut self, f: FuncData) -> usize {
        let i = self.funcs.len();
        self.funcref_index.insert(f.funcref, i);
        self.funcs.push(f);
        i
    }

    pub(crate) fn new_externref(&mut self, payload: Box<dyn Any + Send + Sync>) -> ExternRef {
        self.externrefs.push(payload);
        // Tagged so that the same bits are a valid `any` reference (see `vm/gc.rs`).
        ExternRef(((self.externrefs.len() as u64) << 2) | 2)
    }

    /// Check a GC reference (of the `any` or `extern` hierarchy) the host passes in.
    fn gc_ref_in(&self, raw: u64) -> Result<u64> {
        let ok = match raw & 3 {
            0 => self.gc.contains(raw),
            2 => (raw >> 2) as usize <= self.externrefs.len() && raw >> 2 != 0,
            _ => true,
        };
        if ok {
            Ok(raw)
        } else {
            Err(Error::Other("reference of another store".into()))
        }
    }

    /// Root a GC reference handed to the host.
    fn gc_ref_out(&mut self, raw: u64) -> u64 {
        if self.gc.contains(raw) {
            self.gc.host_roots.insert(raw);
        }
        raw
    }

    /// The dynamic heap type of a non-null `any` reference.
    pub(crate) fn any_heap_type(&self, raw: u64) -> crate::types::HeapType {
        use crate::types::HeapType as H;
        if raw & 1 == 1 {
            H::I31
        } else if raw & 3 == 2 || !self.gc.contains(raw) {
            H::Any
        } else {
            // SAFETY-free: the header is read by the VM layer.
            H::Concrete(crate::vm::gc::object_type(raw))
        }
    }

    pub(crate) fn val_to_raw(&self, v: &Val) -> Result<ValRaw> {
        Ok(match *v {
            Val::I32(x) => x as u32 as ValRaw,
            Val::I64(x) => x as u64 as ValRaw,
            Val::F32(b) => b as ValRaw,
            Val::F64(b) => b as ValRaw,
            Val::V128(v) => v,
            Val::FuncRef(None) | Val::ExternRef(None) => 0,
            Val::FuncRef(Some(f)) => {
                self.check(f.store_id)?;
                self.funcs[f.index].funcref as ValRaw
            }
            Val::ExternRef(Some(r)) => self.gc_ref_in(r.0)? as ValRaw,
            Val::AnyRef(None) => 0,
            Val::AnyRef(Some(r)) => self.gc_ref_in(r.0)? as ValRaw,
            Val::ExnRef(None) => 0,
            Val::ExnRef(Some(r)) => {
                // Generated code dereferences an exnref: only this store's live objects pass
                // (the serial number tells a collected exception from a new one at its address).
                if !self.owns_exn(r) {
                    return Err(Error::Other(
                        "exnref of another store or of a collected exception".into(),
                    ));
                }
                r.0 as ValRaw
            }
        })
    }

    /// Whether `v` is a value of type `t` (with subtyping: a function fits `(ref $t)` when its
    /// signature is `$t`, and null fits only nullable reference types).
    pub(crate) fn val_matches(&self, v: &Val, t: crate::types::ValType) -> bool {
        use crate::types::HeapType as H;
        let Some(r) = t.ref_type() else {
            return v.ty() == t;
        };
        let reg = self.engine.registry();
        let top = reg.top(r.heap);
        let fits = |h: H| reg.heap_subtype(h, r.heap);
        match *v {
            // Null is 0 in every hierarchy.
            Val::FuncRef(None) | Val::ExternRef(None) | Val::ExnRef(None) | Val::AnyRef(None) => {
                r.nullable
            }
            Val::FuncRef(Some(f)) => {
                top == H::Func
                    && self.check(f.store_id).is_ok()
                    && fits(H::Concrete(self.funcs[f.index].sig))
            }
            Val::ExternRef(Some(_)) => r.heap == H::Extern,
            Val::ExnRef(Some(_)) => r.heap == H::Exn,
            Val::AnyRef(Some(a)) => top == H::Any && fits(self.any_heap_type(a.0)),
            _ => false,
        }
    }

    pub(crate) fn raw_to_val(&mut self, raw: ValRaw, ty: crate::types::ValType) -> Val {
        use crate::types::ValType as V;
        // Typed references read like their top type.
        let top = ty.ref_type().map(|r| self.engine.registry().top(r.heap));
        let ty = match top {
            Some(top) => match top {
                crate::types::HeapType::Extern => V::ExternRef,
                crate::types::HeapType::Exn => V::ExnRef,
                crate::types::HeapType::Func => V::FuncRef,
                _ => {
                    let low = raw as u64;
                    return Val::AnyRef(
                        (low != 0).then(|| crate::values::AnyRef(self.gc_ref_out(low))),
                    );
                }
            },
            None => ty,
        };
        // Code writes only the low 64 bits of a scalar or reference result; the rest of the
        // slot may still hold a v128 argument.
        let low = raw as u64;
        match ty {
            V::I32 => Val::I32(low as u32 as i32),
            V::I64 => Val::I64(low as i64),
            V::F32 => Val::F32(low as u32),
            V::F64 => Val::F64(low),
            V::V128 => Val::V128(raw),
            V::FuncRef => Val::FuncRef(if low == 0 {
                None
            } else {
                let index = self.func_for_funcref(low as usize);
                Some(crate::func::Func {
                    store_id: self.id,
                    index,
                })
            }),
            V::ExternRef => Val::ExternRef(if low == 0 {
                None
            } else {
                Some(ExternRef(self.gc_ref_out(low)))
            }),
            // An exnref handed to the host is rooted like its structs and arrays.
            V::ExnRef => Val::ExnRef(if low == 0 {
                None
            } else {
                self.gc.host_roots.insert(low);
                Some(self.exn_ref(low).unwrap_or(crate::values::ExnRef(low, 0)))
            }),
            V::Ref(_) => unreachable!("typed references were mapped to their top type above"),
        }
    }

    pub(crate) fn funcref_ptr(&self, func: usize) -> *const VMFuncRef {
        self.funcs[func].funcref as *const VMFuncRef
    }
}

impl<T> std::fmt::Debug for Store<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Store({})", self.inner.opaque.id)
    }
}
