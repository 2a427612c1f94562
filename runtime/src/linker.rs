//! The linker: resolves imports by (module, name) from host functions, externs and whole
//! instances.

use crate::engine::Engine;
use crate::externals::Extern;
use crate::func::{Caller, Func, IntoFunc, new_host};
use crate::instance::Instance;
use crate::module::Module;
use crate::store::AsContextMut;
use crate::trap::{Error, Result, Trap};
use crate::types::FuncType;
use crate::values::Val;
use crate::vm::host::HostFn;
use std::collections::HashMap;
use std::sync::Arc;

enum Definition<T> {
    Extern(Extern),
    HostFunc(FuncType, HostFn<T>),
}

impl<T> Clone for Definition<T> {
    fn clone(&self) -> Self {
        match self {
            Definition::Extern(e) => Definition::Extern(*e),
            Definition::HostFunc(t, f) => Definition::HostFunc(t.clone(), f.clone()),
        }
    }
}

/// Resolves imports by module and name.
pub struct Linker<T> {
    engine: Engine,
    defs: HashMap<(String, String), Definition<T>>,
}

impl<T: 'static> Linker<T> {
    pub fn new(engine: &Engine) -> Linker<T> {
        Linker {
            engine: engine.clone(),
            defs: HashMap::new(),
        }
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    fn insert(&mut self, module: &str, name: &str, d: Definition<T>) -> &mut Self {
        self.defs.insert((module.to_string(), name.to_string()), d);
        self
    }

    /// Define a host function from a closure with typed parameters (optionally taking a
    /// [`Caller`] first) returning values or `Result<values, Trap>`.
    pub fn func_wrap<Params, Results>(
        &mut self,
        module: &str,
        name: &str,
        f: impl IntoFunc<T, Params, Results>,
    ) -> Result<&mut Self> {
        let (ty, hf) = f.into_func();
        Ok(self.insert(module, name, Definition::HostFunc(ty, hf)))
    }

    /// Define a host function with a dynamic signature.
    pub fn func_new(
        &mut self,
        module: &str,
        name: &str,
        ty: FuncType,
        f: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<(), Trap> + Send + Sync + 'static,
    ) -> Result<&mut Self> {
        let hf = crate::func::dynamic_host_fn(ty.clone(), f);
        Ok(self.insert(module, name, Definition::HostFunc(ty, hf)))
    }

    /// Define an item by module and name.
    pub fn define(
        &mut self,
        module: &str,
        name: &str,
        item: impl Into<Extern>,
    ) -> Result<&mut Self> {
        Ok(self.insert(module, name, Definition::Extern(item.into())))
    }

    /// Make every export of `instance` importable under `module`.
    pub fn instance(
        &mut self,
        mut store: impl AsContextMut<Data = T>,
        module: &str,
        instance: Instance,
    ) -> Result<&mut Self> {
        for (name, e) in instance.exports(&mut store) {
            self.insert(module, &name, Definition::Extern(e));
        }
        Ok(self)
    }

    /// Look up a definition, materialising host functions in `store`.
    pub fn get(
        &self,
        mut store: impl AsContextMut<Data = T>,
        module: &str,
        name: &str,
    ) -> Option<Extern> {
        match self.defs.get(&(module.to_string(), name.to_string()))? {
            Definition::Extern(e) => Some(*e),
            Definition::HostFunc(ty, f) => new_host(store.ctx_mut(), ty.clone(), Arc::clone(f))
                .ok()
                .map(Extern::Func),
        }
    }

    /// Resolve `module`'s imports and instantiate it.
    pub fn instantiate(
        &self,
        mut store: impl AsContextMut<Data = T>,
        module: &Module,
    ) -> Result<Instance> {
        let mut imports = Vec::new();
        let wanted: Vec<(String, String)> = module
            .imports()
            .map(|(m, n, _)| (m.to_string(), n.to_string()))
            .collect();
        for (m, n) in wanted {
            let e = self.get(&mut store, &m, &n).ok_or_else(|| {
                Error::Link(format!("unknown import: `{m}::{n}` has not been defined"))
            })?;
            imports.push(e);
        }
        Instance::new(&mut store, module, &imports)
    }

    /// A host function defined in this linker, as a `Func` of `store`.
    pub fn get_func(
        &self,
        store: impl AsContextMut<Data = T>,
        module: &str,
        name: &str,
    ) -> Option<Func> {
        match self.get(store, module, name)? {
            Extern::Func(f) => Some(f),
            _ => None,
        }
    }
}
