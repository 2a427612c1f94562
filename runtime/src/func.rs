//! Functions: untyped calls with `&[Val]`, typed calls, and host functions from closures.

use crate::store::{AsContextMut, FuncData, FuncKind, StoreInner, StoreOpaque};
use crate::trap::{Error, Result, Trap};
use crate::types::{FuncType, ValType};
use crate::values::{ExternRef, Val, ValRaw};
use crate::vm::host::{HostFn, host_body, slot_low32};
use std::marker::PhantomData;
use std::sync::Arc;

/// A function (wasm or host) owned by a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Func {
    pub(crate) store_id: u64,
    pub(crate) index: usize,
}

/// The store as seen from inside a host function.
pub struct Caller<'a, T> {
    pub(crate) inner: &'a mut StoreInner<T>,
}

impl<T> Caller<'_, T> {
    pub fn data(&self) -> &T {
        &self.inner.data
    }
    pub fn data_mut(&mut self) -> &mut T {
        &mut self.inner.data
    }
}

impl<T> AsContextMut for Caller<'_, T> {
    type Data = T;
    fn ctx_mut(&mut self) -> &mut StoreInner<T> {
        self.inner
    }
}

pub(crate) fn new_host<T: 'static>(
    store: &mut StoreInner<T>,
    ty: FuncType,
    f: HostFn<T>,
) -> Result<Func> {
    let engine = store.opaque.engine.clone();
    let sig = engine.sig_id(&ty);
    let tramps = engine.trampolines(sig)?;
    let nvals = ty.params().len().max(ty.results().len());
    let funcref = f.instantiate(store, nvals, tramps.host_shim, sig);
    let index = store.opaque.push_func(FuncData {
        funcref,
        sig,
        ty,
        _kind: FuncKind::Host,
        array_entry: tramps.array_entry,
    });
    Ok(Func {
        store_id: store.opaque.id,
        index,
    })
}

impl Func {
    /// A host function with a dynamic signature.
    pub fn new<T: 'static>(
        mut store: impl AsContextMut<Data = T>,
        ty: FuncType,
        f: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<(), Trap> + Send + Sync + 'static,
    ) -> Result<Func> {
        let store = store.ctx_mut();
        let hf = dynamic_host_fn(ty.clone(), f);
        new_host(store, ty, hf)
    }

    /// A host function from a closure with typed parameters and results.
    pub fn wrap<T: 'static, Params, Results>(
        mut store: impl AsContextMut<Data = T>,
        f: impl IntoFunc<T, Params, Results>,
    ) -> Result<Func> {
        let (ty, hf) = f.into_func();
        new_host(store.ctx_mut(), ty, hf)
    }

    pub fn ty(&self, mut store: impl AsContextMut) -> FuncType {
        let s = &store.ctx_mut().opaque;
        match s.check(self.store_id) {
            Ok(()) => s.funcs[self.index].ty.clone(),
            // A function of another store: report an empty type rather than panic.
            Err(_) => FuncType::default(),
        }
    }

    /// Call with dynamically typed values. `results` must have the function's result count.
    pub fn call(
        &self,
        mut store: impl AsContextMut,
        params: &[Val],
        results: &mut [Val],
    ) -> Result<()> {
        let s = &mut store.ctx_mut().opaque;
        s.check(self.store_id)?;
        let ty = s.funcs[self.index].ty.clone();
        if params.len() != ty.params().len()
            || params
                .iter()
                .zip(ty.params())
                .any(|(v, t)| !s.val_matches(v, *t))
        {
            return Err(Error::Other(format!(
                "argument type mismatch: expected {:?}",
                ty.params()
            )));
        }
        if results.len() != ty.results().len() {
            return Err(Error::Other("wrong number of result slots".into()));
        }
        let n = ty.params().len().max(ty.results().len()).max(1);
        let mut raw = vec![0 as ValRaw; n];
        for (i, p) in params.iter().enumerate() {
            raw[i] = s.val_to_raw(p)?;
        }
        s.call_raw(self.index, &mut raw)?;
        for (i, t) in ty.results().iter().enumerate() {
            results[i] = s.raw_to_val(raw[i], *t);
        }
        Ok(())
    }

    /// A typed view of this function; fails if the types differ.
    pub fn typed<P: WasmParams, R: WasmResults>(
        &self,
        mut store: impl AsContextMut,
    ) -> Result<TypedFunc<P, R>> {
        let s = &mut store.ctx_mut().opaque;
        s.check(self.store_id)?;
        let ty = &s.funcs[self.index].ty;
        if ty.params() != P::types().as_slice() || ty.results() != R::types().as_slice() {
            return Err(Error::Other(format!(
                "type mismatch: function has type {ty:?}"
            )));
        }
        Ok(TypedFunc {
            func: *self,
            _m: PhantomData,
        })
    }
}

pub(crate) fn dynamic_host_fn<T: 'static>(
    ty: FuncType,
    f: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<(), Trap> + Send + Sync + 'static,
) -> HostFn<T> {
    Arc::new(host_body(
        move |store: &mut StoreInner<T>, raw: &mut [ValRaw]| {
            let s = &mut store.opaque;
            let params: Vec<Val> = ty
                .params()
                .iter()
                .enumerate()
                .map(|(i, &t)| s.raw_to_val(raw[i], t))
                .collect();
            let mut results: Vec<Val> = ty.results().iter().map(|&t| Val::default_for(t)).collect();
            f(Caller { inner: &mut *store }, &params, &mut results)?;
            let s = &store.opaque;
            for (i, (v, &t)) in results.iter().zip(ty.results()).enumerate() {
                if !s.val_matches(v, t) {
                    return Err(Trap::new(
                        "host function returned a value of the wrong type",
                    ));
                }
                raw[i] = s.val_to_raw(v).map_err(|e| Trap::new(e.to_string()))?;
            }
            Ok(())
        },
    ))
}

/// A Rust type that corresponds to a wasm value type.
pub trait WasmTy: Sized + 'static {
    fn valtype() -> ValType;
    #[doc(hidden)]
    fn to_raw(self, store: &StoreOpaque) -> Result<ValRaw>;
    #[doc(hidden)]
    fn from_raw(raw: ValRaw, store: &mut StoreOpaque) -> Self;
    /// [`WasmTy::from_raw`] of a slot in place, reading only the bytes the value occupies
    /// (see `vm::host::slot_low32`).
    #[doc(hidden)]
    #[inline]
    fn from_slot(slot: &ValRaw, store: &mut StoreOpaque) -> Self {
        Self::from_raw(*slot, store)
    }
}

macro_rules! int_ty {
    // `narrow = f`: the value is 4 bytes, and `from_slot` reads it with `f`, a 4-byte load of
    // the slot (the shim's store is 4 bytes; see `slot_low32`).
    ($t:ty, $vt:ident, $to:expr, $from:expr $(, narrow = $load:path)?) => {
        impl WasmTy for $t {
            fn valtype() -> ValType {
                ValType::$vt
            }
            #[inline]
            fn to_raw(self, _: &StoreOpaque) -> Result<ValRaw> {
                let f: fn($t) -> u64 = $to;
                Ok(f(self) as ValRaw)
            }
            #[inline]
            fn from_raw(raw: ValRaw, _: &mut StoreOpaque) -> Self {
                let f: fn(ValRaw) -> $t = $from;
                f(raw)
            }
            $(
                #[inline]
                fn from_slot(slot: &ValRaw, _: &mut StoreOpaque) -> Self {
                    let f: fn(ValRaw) -> $t = $from;
                    f(ValRaw::from($load(slot)))
                }
            )?
        }
    };
}
int_ty!(
    i32,
    I32,
    |v| v as u32 as u64,
    |r| r as u32 as i32,
    narrow = slot_low32
);
int_ty!(u32, I32, |v| v as u64, |r| r as u32, narrow = slot_low32);
int_ty!(i64, I64, |v| v as u64, |r| r as i64);
int_ty!(u64, I64, |v| v, |r| r as u64);
int_ty!(
    f32,
    F32,
    |v| v.to_bits() as u64,
    |r| f32::from_bits(r as u32),
    narrow = slot_low32
);
int_ty!(f64, F64, |v| v.to_bits(), |r| f64::from_bits(r as u64));

/// `u128` is a `v128`, lane 0 in the low bits.
impl WasmTy for u128 {
    fn valtype() -> ValType {
        ValType::V128
    }
    #[inline]
    fn to_raw(self, _: &StoreOpaque) -> Result<ValRaw> {
        Ok(self)
    }
    #[inline]
    fn from_raw(raw: ValRaw, _: &mut StoreOpaque) -> Self {
        raw
    }
}

impl WasmTy for Option<Func> {
    fn valtype() -> ValType {
        ValType::FuncRef
    }
    fn to_raw(self, store: &StoreOpaque) -> Result<ValRaw> {
        store.val_to_raw(&Val::FuncRef(self))
    }
    fn from_raw(raw: ValRaw, store: &mut StoreOpaque) -> Self {
        match store.raw_to_val(raw, ValType::FuncRef) {
            Val::FuncRef(f) => f,
            _ => None,
        }
    }
}

impl WasmTy for Option<ExternRef> {
    fn valtype() -> ValType {
        ValType::ExternRef
    }
    fn to_raw(self, _: &StoreOpaque) -> Result<ValRaw> {
        Ok(self.map_or(0, |r| r.0 as ValRaw))
    }
    fn from_raw(raw: ValRaw, _: &mut StoreOpaque) -> Self {
        // Only the low 64 bits are written (see `StoreOpaque::raw_to_val`).
        let raw = raw as u64;
        (raw != 0).then_some(ExternRef(raw))
    }
}

/// A list of wasm values: `()`, a single [`WasmTy`], or a tuple of them.
pub trait WasmTyList: Sized + 'static {
    fn types() -> Vec<ValType>;
    #[doc(hidden)]
    fn count() -> usize;
    #[doc(hidden)]
    fn store_raw(self, store: &StoreOpaque, out: &mut [ValRaw]) -> Result<()>;
    #[doc(hidden)]
    fn load_raw(store: &mut StoreOpaque, raw: &[ValRaw]) -> Self;
}

pub trait WasmParams: WasmTyList {}
pub trait WasmResults: WasmTyList {}
impl<L: WasmTyList> WasmParams for L {}
impl<L: WasmTyList> WasmResults for L {}

impl<A: WasmTy> WasmTyList for A {
    fn types() -> Vec<ValType> {
        vec![A::valtype()]
    }
    fn count() -> usize {
        1
    }
    fn store_raw(self, store: &StoreOpaque, out: &mut [ValRaw]) -> Result<()> {
        out[0] = self.to_raw(store)?;
        Ok(())
    }
    fn load_raw(store: &mut StoreOpaque, raw: &[ValRaw]) -> Self {
        A::from_raw(raw[0], store)
    }
}

macro_rules! tuple_list {
    ($($n:ident $i:tt),*) => {
        #[allow(non_snake_case, unused_variables, unused_mut, clippy::unused_unit)]
        impl<$($n: WasmTy),*> WasmTyList for ($($n,)*) {
            fn types() -> Vec<ValType> {
                vec![$($n::valtype()),*]
            }
            fn count() -> usize {
                <[&str]>::len(&[$(stringify!($n)),*])
            }
            #[inline]
            fn store_raw(self, store: &StoreOpaque, out: &mut [ValRaw]) -> Result<()> {
                $(out[$i] = self.$i.to_raw(store)?;)*
                Ok(())
            }
            #[inline]
            fn load_raw(store: &mut StoreOpaque, raw: &[ValRaw]) -> Self {
                ($($n::from_raw(raw[$i], store),)*)
            }
        }
    };
}
tuple_list!();
tuple_list!(A 0);
tuple_list!(A 0, B 1);
tuple_list!(A 0, B 1, C 2);
tuple_list!(A 0, B 1, C 2, D 3);
tuple_list!(A 0, B 1, C 2, D 3, E 4);
tuple_list!(A 0, B 1, C 2, D 3, E 4, F 5);
tuple_list!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);
tuple_list!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);

/// What a host closure may return: values, or `Result<values, Trap>`.
pub trait HostResult: 'static {
    type Values: WasmTyList;
    fn into_result(self) -> Result<Self::Values, Trap>;
}

impl<L: WasmTyList> HostResult for L {
    type Values = L;
    fn into_result(self) -> Result<L, Trap> {
        Ok(self)
    }
}

impl<L: WasmTyList> HostResult for Result<L, Trap> {
    type Values = L;
    fn into_result(self) -> Result<L, Trap> {
        self
    }
}

/// Closures that can become host functions.
pub trait IntoFunc<T, Params, Results>: Send + Sync + 'static {
    #[doc(hidden)]
    fn into_func(self) -> (FuncType, HostFn<T>);
}

macro_rules! into_func {
    ($($n:ident $i:tt),*) => {
        #[allow(non_snake_case, unused_variables, unused_mut)]
        impl<T: 'static, FN, R, $($n: WasmTy),*> IntoFunc<T, (Caller<'static, T>, $($n,)*), R> for FN
        where
            FN: Fn(Caller<'_, T>, $($n),*) -> R + Send + Sync + 'static,
            R: HostResult,
        {
            fn into_func(self) -> (FuncType, HostFn<T>) {
                let ty = FuncType::new(vec![$($n::valtype()),*], R::Values::types());
                // A concrete closure type, not a `dyn Fn`: each host function gets its own
                // `host_entry` with this body inlined (see `vm/host.rs`).
                let f: HostFn<T> = Arc::new(host_body(move |store: &mut StoreInner<T>, raw: &mut [ValRaw]| {
                    $(let $n = $n::from_slot(&raw[$i], &mut store.opaque);)*
                    let r = (self)(Caller { inner: &mut *store }, $($n),*).into_result()?;
                    r.store_raw(&store.opaque, raw).map_err(|e| Trap::new(e.to_string()))
                }));
                (ty, f)
            }
        }

        #[allow(non_snake_case, unused_variables, unused_mut)]
        impl<T: 'static, FN, R, $($n: WasmTy),*> IntoFunc<T, ($($n,)*), R> for FN
        where
            FN: Fn($($n),*) -> R + Send + Sync + 'static,
            R: HostResult,
        {
            fn into_func(self) -> (FuncType, HostFn<T>) {
                let ty = FuncType::new(vec![$($n::valtype()),*], R::Values::types());
                let f: HostFn<T> = Arc::new(host_body(move |store: &mut StoreInner<T>, raw: &mut [ValRaw]| {
                    let opaque = &mut store.opaque;
                    $(let $n = $n::from_slot(&raw[$i], opaque);)*
                    let r = (self)($($n),*).into_result()?;
                    r.store_raw(opaque, raw).map_err(|e| Trap::new(e.to_string()))
                }));
                (ty, f)
            }
        }
    };
}
into_func!();
into_func!(A 0);
into_func!(A 0, B 1);
into_func!(A 0, B 1, C 2);
into_func!(A 0, B 1, C 2, D 3);
into_func!(A 0, B 1, C 2, D 3, E 4);
into_func!(A 0, B 1, C 2, D 3, E 4, F 5);

/// A function with statically known parameter and result types.
pub struct TypedFunc<P, R> {
    func: Func,
    _m: PhantomData<fn(P) -> R>,
}

impl<P, R> Clone for TypedFunc<P, R> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<P, R> Copy for TypedFunc<P, R> {}

impl<P: WasmParams, R: WasmResults> TypedFunc<P, R> {
    pub fn func(&self) -> Func {
        self.func
    }

    pub fn call(&self, mut store: impl AsContextMut, params: P) -> Result<R, Trap> {
        let s = &mut store.ctx_mut().opaque;
        s.check(self.func.store_id)
            .map_err(|e| Trap::new(e.to_string()))?;
        let mut buf = [0 as ValRaw; 16];
        let n = P::count().max(R::count()).max(1);
        let mut heap;
        let raw: &mut [ValRaw] = if n <= 16 {
            &mut buf[..n]
        } else {
            heap = vec![0 as ValRaw; n];
            &mut heap
        };
        params
            .store_raw(s, raw)
            .map_err(|e| Trap::new(e.to_string()))?;
        s.call_raw(self.func.index, raw)?;
        Ok(R::load_raw(s, raw))
    }
}
