//! The adapter for lockstep's reference interpreter (`lockstep-oracle`).

use std::collections::HashMap;

use lockstep_oracle as oracle;

use super::instances::Instances;
use super::parity::Parity;
use crate::engine::{
    AnyRef, CompileError, Engine, ExnRefId, FuncRefId, HeapObject, HeapRefId, InstanceId,
    InstantiateError, InvokeError, ModuleId, Session, Snapshot, Trap, TrapCode, Val, WasmFeatures,
};
use crate::wast::spectest;

/// Nested wasm calls allowed before "call stack exhausted": the oracle's default, which reaches
/// at least the depth of Wasmtime's and the runtime's default 512 KiB stack on every frame
/// shape. The oracle keeps its stacks on the heap, so this is a counter, not a risk to the Rust
/// stack.
pub const MAX_CALL_DEPTH: usize = oracle::DEFAULT_MAX_CALL_DEPTH;

/// The oracle engine.
#[derive(Clone, Copy, Debug, Default)]
pub struct OracleEngine {
    /// `Config::canonicalize_nans` of every store.
    pub canonicalize_nans: bool,
}

/// The oracle with the default parity settings.
pub fn engine() -> Box<dyn Engine> {
    engine_with(&Parity::default())
}

/// The engine list's constructor.
pub fn engine_with(parity: &Parity) -> Box<dyn Engine> {
    Box::new(OracleEngine {
        canonicalize_nans: parity.canonicalize_nans,
    })
}

impl Engine for OracleEngine {
    fn name(&self) -> &'static str {
        "oracle"
    }

    fn supported_features(&self) -> WasmFeatures {
        // All of WebAssembly 2.0, SIMD included, and the 3.0 features the oracle executes.
        crate::suite::required_2_0()
            | WasmFeatures::SIMD
            | WasmFeatures::TAIL_CALL
            | WasmFeatures::EXTENDED_CONST
            | WasmFeatures::MULTI_MEMORY
            | WasmFeatures::MEMORY64
            | WasmFeatures::FUNCTION_REFERENCES
            | WasmFeatures::EXCEPTIONS
            | WasmFeatures::LEGACY_EXCEPTIONS
            | WasmFeatures::GC
            | WasmFeatures::RELAXED_SIMD
    }

    fn canonicalizes_nans(&self) -> bool {
        self.canonicalize_nans
    }

    fn new_session(&self, features: WasmFeatures) -> Box<dyn Session> {
        Box::new(OracleSession::new(features, self.canonicalize_nans))
    }

    fn enumerates_relaxed_simd(&self) -> bool {
        true
    }
}

/// The oracle's extern for spectest `item`, allocated in `store`.
fn spectest_extern(store: &mut oracle::Store, item: &spectest::Item) -> oracle::Extern {
    match *item {
        spectest::Item::Func { params, .. } => {
            let ty = oracle::FuncType {
                params: params.iter().map(|t| val_type(*t)).collect(),
                results: vec![],
            };
            oracle::Extern::Func(store.alloc_host_func(ty, Box::new(|_| Ok(vec![]))))
        }
        spectest::Item::Global { ty, value, .. } => {
            oracle::Extern::Global(store.alloc_global(val_type(ty), false, to_oracle(value)))
        }
        spectest::Item::Table {
            min, max, table64, ..
        } => oracle::Extern::Table(store.alloc_table_at(
            if table64 {
                oracle::AddrType::I64
            } else {
                oracle::AddrType::I32
            },
            oracle::ValType::FuncRef,
            oracle::Limits {
                min: min.into(),
                max: max.map(Into::into),
            },
            oracle::Value::FuncRef(None),
        )),
        spectest::Item::Memory { min, max, .. } => {
            oracle::Extern::Memory(store.alloc_memory(oracle::Limits {
                min: min.into(),
                max: max.map(Into::into),
            }))
        }
    }
}

/// One oracle store plus the harness's bookkeeping.
pub struct OracleSession {
    store: oracle::Store,
    modules: Vec<oracle::Module>,
    /// Each instance with the module it was made from (its exports are listed by the module).
    instances: Instances<(oracle::InstanceAddr, usize)>,
    spectest: HashMap<&'static str, oracle::Extern>,
}

fn val_type(t: spectest::ValType) -> oracle::ValType {
    match t {
        spectest::ValType::I32 => oracle::ValType::I32,
        spectest::ValType::I64 => oracle::ValType::I64,
        spectest::ValType::F32 => oracle::ValType::F32,
        spectest::ValType::F64 => oracle::ValType::F64,
        spectest::ValType::FuncRef => oracle::ValType::FuncRef,
    }
}

fn any_to_oracle(r: AnyRef) -> oracle::AnyRef {
    match r {
        AnyRef::I31(x) => oracle::AnyRef::I31(x),
        AnyRef::Struct(id) => oracle::AnyRef::Struct(oracle::ObjAddr(id.0 as u32)),
        AnyRef::Array(id) => oracle::AnyRef::Array(oracle::ObjAddr(id.0 as u32)),
        AnyRef::Host(n) => oracle::AnyRef::Host(n),
    }
}

fn any_from_oracle(r: oracle::AnyRef) -> AnyRef {
    match r {
        oracle::AnyRef::I31(x) => AnyRef::I31(x),
        oracle::AnyRef::Struct(a) => AnyRef::Struct(HeapRefId(u64::from(a.0))),
        oracle::AnyRef::Array(a) => AnyRef::Array(HeapRefId(u64::from(a.0))),
        oracle::AnyRef::Host(n) => AnyRef::Host(n),
    }
}

/// Harness value to oracle value.
pub fn to_oracle(v: Val) -> oracle::Value {
    match v {
        Val::I32(x) => oracle::Value::I32(x),
        Val::I64(x) => oracle::Value::I64(x),
        Val::F32(x) => oracle::Value::F32(x),
        Val::F64(x) => oracle::Value::F64(x),
        Val::V128(x) => oracle::Value::V128(x),
        Val::FuncRef(f) => oracle::Value::FuncRef(f.map(|id| oracle::FuncAddr(id.0 as u32))),
        Val::ExternRef(e) => oracle::Value::ExternRef(e),
        Val::AnyRef(r) => oracle::Value::AnyRef(r.map(any_to_oracle)),
        Val::Externalized(r) => oracle::Value::Externalized(any_to_oracle(r)),
        Val::ExnRef(e) => oracle::Value::ExnRef(e.map(|id| oracle::ExnAddr(id.0 as u32))),
    }
}

/// Oracle value to harness value.
pub fn from_oracle(v: oracle::Value) -> Val {
    match v {
        oracle::Value::I32(x) => Val::I32(x),
        oracle::Value::I64(x) => Val::I64(x),
        oracle::Value::F32(x) => Val::F32(x),
        oracle::Value::F64(x) => Val::F64(x),
        oracle::Value::V128(x) => Val::V128(x),
        oracle::Value::FuncRef(f) => Val::FuncRef(f.map(|a| FuncRefId(a.0 as u64))),
        oracle::Value::ExternRef(e) => Val::ExternRef(e),
        oracle::Value::AnyRef(r) => Val::AnyRef(r.map(any_from_oracle)),
        oracle::Value::Externalized(r) => Val::externalize(Some(any_from_oracle(r))),
        oracle::Value::ExnRef(e) => Val::ExnRef(e.map(|a| ExnRefId(u64::from(a.0)))),
    }
}

/// An exception that escaped instantiation, described (the harness has no such outcome).
fn uncaught(e: &oracle::Exception) -> String {
    format!("uncaught exception of tag {}: {:?}", e.tag.0, e.payload)
}

fn trap(t: oracle::Trap) -> Trap {
    use oracle::TrapKind as K;
    let code = match t.kind {
        K::Unreachable => TrapCode::Unreachable,
        K::IntegerDivideByZero => TrapCode::IntegerDivideByZero,
        K::IntegerOverflow => TrapCode::IntegerOverflow,
        K::InvalidConversionToInteger => TrapCode::InvalidConversionToInteger,
        K::OutOfBoundsMemoryAccess => TrapCode::OutOfBoundsMemoryAccess,
        K::OutOfBoundsTableAccess => TrapCode::OutOfBoundsTableAccess,
        K::UndefinedElement => TrapCode::UndefinedElement,
        K::UninitializedElement => TrapCode::UninitializedElement,
        K::IndirectCallTypeMismatch => TrapCode::IndirectCallTypeMismatch,
        K::CallStackExhausted => TrapCode::CallStackExhausted,
        K::NullReference | K::NullExceptionReference => TrapCode::NullReference,
        K::CastFailure => TrapCode::CastFailure,
        K::OutOfBoundsArrayAccess => TrapCode::OutOfBoundsArrayAccess,
        // The store's allocation limit (`Config::max_objects`, the longest array).
        K::Host if t.message.contains("allocation limit exceeded") => TrapCode::ResourceExhausted,
        K::Host => TrapCode::Host,
    };
    Trap {
        code,
        message: t.message,
    }
}

impl OracleSession {
    pub fn new(features: WasmFeatures, canonicalize_nans: bool) -> Self {
        let store = oracle::Store::new(oracle::Config {
            features,
            max_call_depth: MAX_CALL_DEPTH,
            canonicalize_nans,
            ..oracle::Config::default()
        });
        // Made when a module first imports them ([`Self::resolve`]), as in the runtime's adapter.
        let spectest = HashMap::new();
        OracleSession {
            store,
            modules: Vec::new(),
            instances: Instances::new(),
            spectest,
        }
    }

    fn instance(&self, id: InstanceId) -> Result<(oracle::InstanceAddr, usize), String> {
        self.instances.get(id)
    }

    fn resolve(&mut self, module: &str, name: &str) -> Option<oracle::Extern> {
        if let Some(&(addr, _)) = self.instances.registered(module) {
            return self.store.export(addr, name);
        }
        if module == spectest::MODULE {
            if let Some(&ext) = self.spectest.get(name) {
                return Some(ext);
            }
            let item = spectest::ITEMS.iter().find(|i| i.name() == name)?;
            let ext = spectest_extern(&mut self.store, item);
            self.spectest.insert(item.name(), ext);
            return Some(ext);
        }
        None
    }
}

impl Session for OracleSession {
    fn compile(&mut self, bytes: &[u8]) -> Result<ModuleId, CompileError> {
        match self.store.compile(bytes) {
            Ok(m) => {
                self.modules.push(m);
                Ok(ModuleId(self.modules.len() as u32 - 1))
            }
            Err(oracle::CompileError::Malformed(m)) => Err(CompileError::Malformed(m)),
            Err(oracle::CompileError::Invalid(m)) => Err(CompileError::Invalid(m)),
        }
    }

    fn instantiate(&mut self, module: ModuleId) -> Result<InstanceId, InstantiateError> {
        let index = module.0 as usize;
        let m = self
            .modules
            .get(index)
            .ok_or_else(|| InstantiateError::Other(format!("no module {}", module.0)))?;
        let mut imports = Vec::new();
        for (module_name, name, _) in m.imports() {
            match self.resolve(&module_name, &name) {
                Some(ext) => imports.push(ext),
                None => {
                    return Err(InstantiateError::Link(format!(
                        "unknown import: {module_name:?} {name:?}"
                    )));
                }
            }
        }
        match self.store.instantiate(&self.modules[index], &imports) {
            Ok(addr) => Ok(self.instances.push((addr, index))),
            Err(oracle::InstantiateError::Link(m)) => Err(InstantiateError::Link(m)),
            Err(oracle::InstantiateError::Trap(t)) => Err(InstantiateError::Trap(trap(t))),
            Err(oracle::InstantiateError::Exception(e)) => {
                Err(InstantiateError::Other(uncaught(&e)))
            }
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
        let (addr, _) = self.instance(instance).map_err(InvokeError::Other)?;
        let func = match self.store.export(addr, export) {
            Some(oracle::Extern::Func(f)) => f,
            Some(other) => {
                return Err(InvokeError::Other(format!(
                    "export {export:?} is not a function: {other:?}"
                )));
            }
            None => return Err(InvokeError::Other(format!("no export {export:?}"))),
        };
        let args: Vec<oracle::Value> = args.iter().map(|v| to_oracle(*v)).collect();
        match self.store.invoke(func, &args) {
            Ok(vals) => Ok(vals.into_iter().map(from_oracle).collect()),
            Err(oracle::CallError::Trap(t)) => Err(InvokeError::Trap(trap(t))),
            Err(oracle::CallError::Exception(e)) => Err(InvokeError::Exception {
                payload: e.payload.into_iter().map(from_oracle).collect(),
            }),
        }
    }

    fn get_global(&mut self, instance: InstanceId, export: &str) -> Result<Val, String> {
        let (addr, _) = self.instance(instance)?;
        match self.store.export(addr, export) {
            Some(oracle::Extern::Global(g)) => Ok(from_oracle(self.store.global_get(g))),
            Some(other) => Err(format!("export {export:?} is not a global: {other:?}")),
            None => Err(format!("no export {export:?}")),
        }
    }

    fn object(&mut self, id: HeapRefId) -> Result<HeapObject, String> {
        let obj = u32::try_from(id.0)
            .ok()
            .and_then(|a| self.store.object(oracle::ObjAddr(a), HeapObject::MAX_READ))
            .ok_or_else(|| format!("no heap object {}", id.0))?;
        Ok(HeapObject {
            is_array: obj.is_array,
            len: obj.len,
            fields: obj.fields.into_iter().map(from_oracle).collect(),
        })
    }

    fn relaxed_choices(&self) -> usize {
        oracle::RELAXED_CHOICES
    }

    fn set_relaxed_choice(&mut self, choice: usize) {
        self.store.set_relaxed_choice(choice);
    }

    fn snapshot(&mut self, instance: InstanceId) -> Result<Snapshot, String> {
        let mut snap = Snapshot::default();
        self.snapshot_exports(instance, &mut snap, true)?;
        Ok(snap)
    }

    fn snapshot_exports(
        &mut self,
        instance: InstanceId,
        snap: &mut Snapshot,
        copy_memories: bool,
    ) -> Result<bool, String> {
        let (addr, module) = self.instance(instance)?;
        let mut spare = snap.reset();
        for (name, _) in self.modules[module].exports() {
            match self.store.export(addr, &name) {
                Some(oracle::Extern::Memory(m)) => {
                    let data = spare.copy(if copy_memories {
                        self.store.memory_data(m)
                    } else {
                        &[]
                    });
                    snap.memories.push((name, data));
                }
                Some(oracle::Extern::Global(g)) => {
                    snap.globals
                        .push((name, from_oracle(self.store.global_get(g))));
                }
                Some(oracle::Extern::Table(t)) => {
                    let size = self.store.table_size(t);
                    let elems = (0..size)
                        .map(|i| {
                            self.store
                                .table_get(t, i)
                                .map_or(Val::FuncRef(None), from_oracle)
                        })
                        .collect();
                    snap.tables.push((name, elems));
                }
                Some(oracle::Extern::Func(_) | oracle::Extern::Tag(_)) | None => {}
            }
        }
        Ok(!copy_memories)
    }

    fn memory_in_place(&mut self, instance: InstanceId, export: &str) -> Option<&[u8]> {
        let (addr, _) = self.instance(instance).ok()?;
        match self.store.export(addr, export) {
            Some(oracle::Extern::Memory(m)) => Some(self.store.memory_data(m)),
            _ => None,
        }
    }
}
