//! The adapter for wasmi (the `wasmi` crate, an interpreter): a third-party peer, built with the
//! harness's `peers` feature.
//!
//! Configured for parity with lockstep's own engines ([`super::parity`]): the oracle's call
//! depth, the same limits on memories and table elements, and exactly the features the session
//! validates with. wasmi has no garbage collection, exceptions or typed function references: it
//! sits out the suites and cases that need them.

use std::collections::HashMap;

use super::instances::Instances;
use super::parity::{self, Parity};
use crate::engine::{
    CompileError, Engine, FuncRefId, InstanceId, InstantiateError, InvokeError, ModuleId, Session,
    Snapshot, Trap, TrapCode, Val, WasmFeatures,
};
use crate::wast::spectest;

/// Bytes of value stack wasmi may use: enough that the call depth, not the values, is what
/// runs out first on deep recursion.
const MAX_VALUE_STACK: usize = 256 << 20;

/// The wasmi engine.
pub struct WasmiEngine;

/// The engine list's constructor. wasmi has no NaN canonicalization switch (only its compile-time
/// `deterministic` profile), so it cannot take part in a run that asks for canonical NaNs.
pub fn engine(parity: &Parity) -> Result<Box<dyn Engine>, String> {
    if parity.canonicalize_nans {
        return Err("wasmi has no run-time NaN canonicalization switch".to_string());
    }
    Ok(Box::new(WasmiEngine))
}

/// A `wasmi::Config` feature switch.
type Switch = fn(&mut wasmi::Config, bool) -> &mut wasmi::Config;

/// The wasmi features and the harness flag each one follows.
const FEATURES: &[(WasmFeatures, Switch)] = &[
    (
        WasmFeatures::MUTABLE_GLOBAL,
        wasmi::Config::wasm_mutable_global,
    ),
    (
        WasmFeatures::SIGN_EXTENSION,
        wasmi::Config::wasm_sign_extension,
    ),
    (
        WasmFeatures::SATURATING_FLOAT_TO_INT,
        wasmi::Config::wasm_saturating_float_to_int,
    ),
    (WasmFeatures::MULTI_VALUE, wasmi::Config::wasm_multi_value),
    (WasmFeatures::MULTI_MEMORY, wasmi::Config::wasm_multi_memory),
    (WasmFeatures::BULK_MEMORY, wasmi::Config::wasm_bulk_memory),
    (
        WasmFeatures::REFERENCE_TYPES,
        wasmi::Config::wasm_reference_types,
    ),
    (WasmFeatures::TAIL_CALL, wasmi::Config::wasm_tail_call),
    (
        WasmFeatures::EXTENDED_CONST,
        wasmi::Config::wasm_extended_const,
    ),
    (
        WasmFeatures::CUSTOM_PAGE_SIZES,
        wasmi::Config::wasm_custom_page_sizes,
    ),
    (WasmFeatures::MEMORY64, wasmi::Config::wasm_memory64),
    (
        WasmFeatures::WIDE_ARITHMETIC,
        wasmi::Config::wasm_wide_arithmetic,
    ),
    (WasmFeatures::SIMD, wasmi::Config::wasm_simd),
    (WasmFeatures::RELAXED_SIMD, wasmi::Config::wasm_relaxed_simd),
    (WasmFeatures::FLOATS, wasmi::Config::floats),
];

impl Engine for WasmiEngine {
    fn name(&self) -> &'static str {
        "wasmi"
    }

    fn supported_features(&self) -> WasmFeatures {
        FEATURES
            .iter()
            .fold(WasmFeatures::MVP, |all, (flag, _)| all | *flag)
    }

    fn new_session(&self, features: WasmFeatures) -> Box<dyn Session> {
        let mut config = wasmi::Config::default();
        for (flag, set) in FEATURES {
            set(&mut config, features.contains(*flag));
        }
        config.set_max_recursion_depth(parity::MAX_CALL_DEPTH);
        config.set_max_stack_height(MAX_VALUE_STACK);
        Box::new(WasmiSession::new(wasmi::Engine::new(&config)))
    }
}

/// One wasmi store plus the harness's bookkeeping.
pub struct WasmiSession {
    engine: wasmi::Engine,
    store: wasmi::Store<wasmi::StoreLimits>,
    /// Each module with its export names in declaration order (wasmi lists them sorted).
    modules: Vec<(wasmi::Module, Vec<String>)>,
    /// Each instance with its module's index.
    instances: Instances<(wasmi::Instance, usize)>,
    spectest: HashMap<&'static str, wasmi::Extern>,
    /// Harness funcref ids are indices into this list.
    funcs: Vec<wasmi::Func>,
}

fn val_type(t: spectest::ValType) -> wasmi::ValType {
    match t {
        spectest::ValType::I32 => wasmi::ValType::I32,
        spectest::ValType::I64 => wasmi::ValType::I64,
        spectest::ValType::F32 => wasmi::ValType::F32,
        spectest::ValType::F64 => wasmi::ValType::F64,
        spectest::ValType::FuncRef => wasmi::ValType::FuncRef,
    }
}

fn spectest_items(
    store: &mut wasmi::Store<wasmi::StoreLimits>,
) -> Result<HashMap<&'static str, wasmi::Extern>, wasmi::Error> {
    let mut items = HashMap::new();
    for item in spectest::ITEMS {
        let ext: wasmi::Extern = match *item {
            spectest::Item::Func { params, .. } => {
                let ty = wasmi::FuncType::new(params.iter().map(|t| val_type(*t)), []);
                wasmi::Func::new(&mut *store, ty, |_, _, _| Ok(())).into()
            }
            spectest::Item::Global { value, .. } => {
                let v = match value {
                    Val::I32(x) => wasmi::Val::I32(x as i32),
                    Val::I64(x) => wasmi::Val::I64(x as i64),
                    Val::F32(x) => wasmi::Val::F32(wasmi::F32::from_bits(x)),
                    Val::F64(x) => wasmi::Val::F64(wasmi::F64::from_bits(x)),
                    _ => wasmi::Val::FuncRef(wasmi::Nullable::Null),
                };
                wasmi::Global::new(&mut *store, v, wasmi::Mutability::Const).into()
            }
            spectest::Item::Table { min, max, .. } => {
                let tt = wasmi::TableType::new(wasmi::RefType::Func, min, max);
                wasmi::Table::new(&mut *store, tt, wasmi::Ref::Func(wasmi::Nullable::Null))?.into()
            }
            spectest::Item::Memory { min, max, .. } => {
                wasmi::Memory::new(&mut *store, wasmi::MemoryType::new(min, max))?.into()
            }
        };
        items.insert(item.name(), ext);
    }
    Ok(items)
}

fn trap_code(code: wasmi::TrapCode) -> TrapCode {
    use wasmi::TrapCode as K;
    match code {
        K::UnreachableCodeReached => TrapCode::Unreachable,
        K::MemoryOutOfBounds => TrapCode::OutOfBoundsMemoryAccess,
        // wasmi does not say whether `call_indirect` or a table instruction was out of bounds.
        K::TableOutOfBounds => TrapCode::TableOutOfBounds,
        K::IndirectCallToNull => TrapCode::UninitializedElement,
        K::IntegerDivisionByZero => TrapCode::IntegerDivideByZero,
        K::IntegerOverflow => TrapCode::IntegerOverflow,
        K::BadConversionToInteger => TrapCode::InvalidConversionToInteger,
        K::StackOverflow => TrapCode::CallStackExhausted,
        K::BadSignature => TrapCode::IndirectCallTypeMismatch,
        _ => TrapCode::Other,
    }
}

fn trap(err: &wasmi::Error) -> Option<Trap> {
    let code = err.as_trap_code()?;
    Some(Trap {
        code: trap_code(code),
        message: err.to_string(),
    })
}

impl WasmiSession {
    fn new(engine: wasmi::Engine) -> Self {
        let limits = wasmi::StoreLimitsBuilder::new()
            .memory_size(parity::MAX_MEMORY_BYTES)
            .table_elements(parity::MAX_TABLE_ELEMENTS)
            .instances(usize::MAX)
            .tables(usize::MAX)
            .memories(usize::MAX)
            .build();
        let mut store = wasmi::Store::new(&engine, limits);
        store.limiter(|limits| limits);
        let spectest = spectest_items(&mut store).expect("the spectest module is valid");
        WasmiSession {
            engine,
            store,
            modules: Vec::new(),
            instances: Instances::new(),
            spectest,
            funcs: Vec::new(),
        }
    }

    fn instance(&self, id: InstanceId) -> Result<wasmi::Instance, String> {
        self.instances.get(id).map(|(i, _)| i)
    }

    fn resolve(&self, module: &str, name: &str) -> Option<wasmi::Extern> {
        if let Some((inst, _)) = self.instances.registered(module) {
            return inst.get_export(&self.store, name);
        }
        if module == spectest::MODULE {
            return self.spectest.get(name).copied();
        }
        None
    }

    fn val_in(&mut self, v: Val) -> Result<wasmi::Val, String> {
        use wasmi::Nullable::{Null, Val as NonNull};
        Ok(match v {
            Val::I32(x) => wasmi::Val::I32(x as i32),
            Val::I64(x) => wasmi::Val::I64(x as i64),
            Val::F32(x) => wasmi::Val::F32(wasmi::F32::from_bits(x)),
            Val::F64(x) => wasmi::Val::F64(wasmi::F64::from_bits(x)),
            Val::V128(x) => wasmi::Val::V128(x.into()),
            Val::FuncRef(None) => wasmi::Val::FuncRef(Null),
            Val::FuncRef(Some(id)) => wasmi::Val::FuncRef(NonNull(
                *self
                    .funcs
                    .get(id.0 as usize)
                    .ok_or_else(|| format!("unknown funcref id {}", id.0))?,
            )),
            Val::ExternRef(None) => wasmi::Val::ExternRef(Null),
            Val::ExternRef(Some(n)) => {
                wasmi::Val::ExternRef(NonNull(wasmi::ExternRef::new(&mut self.store, n)))
            }
            // wasmi has no GC or exceptions: it sits out every module that has these values.
            Val::AnyRef(_) | Val::Externalized(_) | Val::ExnRef(_) => {
                return Err(format!("unsupported argument for wasmi: {v}"));
            }
        })
    }

    fn ref_out(&mut self, r: wasmi::Ref) -> Val {
        use wasmi::Nullable::{Null, Val as NonNull};
        match r {
            wasmi::Ref::Func(Null) => Val::FuncRef(None),
            wasmi::Ref::Func(NonNull(f)) => {
                self.funcs.push(f);
                Val::FuncRef(Some(FuncRefId(self.funcs.len() as u64 - 1)))
            }
            wasmi::Ref::Extern(Null) => Val::ExternRef(None),
            wasmi::Ref::Extern(NonNull(r)) => {
                let n = r.data(&self.store).downcast_ref::<u32>().copied();
                Val::ExternRef(Some(n.unwrap_or(u32::MAX)))
            }
        }
    }

    fn val_out(&mut self, v: wasmi::Val) -> Val {
        match v {
            wasmi::Val::I32(x) => Val::I32(x as u32),
            wasmi::Val::I64(x) => Val::I64(x as u64),
            wasmi::Val::F32(x) => Val::F32(x.to_bits()),
            wasmi::Val::F64(x) => Val::F64(x.to_bits()),
            wasmi::Val::V128(x) => Val::V128(x.as_u128()),
            wasmi::Val::FuncRef(f) => self.ref_out(wasmi::Ref::Func(f)),
            wasmi::Val::ExternRef(r) => self.ref_out(wasmi::Ref::Extern(r)),
        }
    }
}

impl Session for WasmiSession {
    fn compile(&mut self, bytes: &[u8]) -> Result<ModuleId, CompileError> {
        match wasmi::Module::new(&self.engine, bytes) {
            Ok(m) => {
                self.modules.push((m, parity::export_names(bytes)));
                Ok(ModuleId(self.modules.len() as u32 - 1))
            }
            Err(e) => Err(parity::rejection(bytes, e.to_string())),
        }
    }

    fn instantiate(&mut self, module: ModuleId) -> Result<InstanceId, InstantiateError> {
        use wasmi::errors::{ErrorKind, InstantiationError as E};
        let m = super::compiled(self.modules.iter().map(|(m, _)| m), module)?.clone();
        let imports = super::resolve_imports(
            m.imports().map(|i| (i.module(), i.name())),
            |module, name| self.resolve(module, name),
        )?;
        match wasmi::Instance::new(&mut self.store, &m, &imports) {
            Ok(inst) => Ok(self.instances.push((inst, module.0 as usize))),
            Err(e) => Err(match (trap(&e), e.kind()) {
                (Some(t), _) => InstantiateError::Trap(t),
                (None, ErrorKind::Instantiation(E::ElementSegmentDoesNotFit { .. })) => {
                    InstantiateError::Trap(Trap {
                        code: TrapCode::OutOfBoundsTableAccess,
                        message: e.to_string(),
                    })
                }
                (
                    None,
                    ErrorKind::Instantiation(
                        E::MismatchedNumberOfImports { .. }
                        | E::ImportTypeMismatch { .. }
                        | E::GlobalTypeMismatch { .. }
                        | E::FuncTypeMismatch { .. }
                        | E::TableTypeMismatch { .. }
                        | E::MemoryTypeMismatch { .. },
                    ),
                ) => InstantiateError::Link(format!("incompatible import type: {e}")),
                _ => InstantiateError::Other(e.to_string()),
            }),
        }
    }

    fn register(&mut self, name: &str, instance: InstanceId) {
        self.instances.register(name, instance);
    }

    fn invoke(
        &mut self,
        instance: InstanceId,
        export: &str,
        args: &[Val],
    ) -> Result<Vec<Val>, InvokeError> {
        let inst = self.instance(instance).map_err(InvokeError::Other)?;
        let func = match inst.get_export(&self.store, export) {
            Some(wasmi::Extern::Func(f)) => f,
            Some(_) => {
                return Err(InvokeError::Other(format!(
                    "export {export:?} is not a function"
                )));
            }
            None => return Err(InvokeError::Other(format!("no export {export:?}"))),
        };
        let mut wargs = Vec::with_capacity(args.len());
        for a in args {
            wargs.push(self.val_in(*a).map_err(InvokeError::Other)?);
        }
        let mut results: Vec<wasmi::Val> = func
            .ty(&self.store)
            .results()
            .iter()
            .map(|t| wasmi::Val::default_for_ty(*t))
            .collect();
        match func.call(&mut self.store, &wargs, &mut results) {
            Ok(()) => Ok(results.into_iter().map(|v| self.val_out(v)).collect()),
            Err(e) => Err(match trap(&e) {
                Some(t) => InvokeError::Trap(t),
                None => InvokeError::Other(e.to_string()),
            }),
        }
    }

    fn get_global(&mut self, instance: InstanceId, export: &str) -> Result<Val, String> {
        let inst = self.instance(instance)?;
        match inst.get_export(&self.store, export) {
            Some(wasmi::Extern::Global(g)) => {
                let v = g.get(&self.store);
                Ok(self.val_out(v))
            }
            Some(_) => Err(format!("export {export:?} is not a global")),
            None => Err(format!("no export {export:?}")),
        }
    }

    fn snapshot(&mut self, instance: InstanceId) -> Result<Snapshot, String> {
        let (inst, module) = self.instances.get(instance)?;
        let exports: Vec<(String, wasmi::Extern)> = self.modules[module]
            .1
            .iter()
            .filter_map(|name| Some((name.clone(), inst.get_export(&self.store, name)?)))
            .collect();
        let mut snap = Snapshot::default();
        for (name, ext) in exports {
            match ext {
                wasmi::Extern::Memory(m) => {
                    snap.memories.push((name, m.data(&self.store).to_vec()));
                }
                wasmi::Extern::Global(g) => {
                    let v = g.get(&self.store);
                    let v = self.val_out(v);
                    snap.globals.push((name, v));
                }
                wasmi::Extern::Table(t) => {
                    let size = t.size(&self.store);
                    let mut elems = Vec::with_capacity(size as usize);
                    for i in 0..size {
                        let r = t
                            .get(&self.store, i)
                            .unwrap_or(wasmi::Ref::Func(wasmi::Nullable::Null));
                        elems.push(self.ref_out(r));
                    }
                    snap.tables.push((name, elems));
                }
                wasmi::Extern::Func(_) => {}
            }
        }
        Ok(snap)
    }
}
