//! The adapter for the Cranelift runtime (`lockstep-runtime`).

use std::collections::HashMap;
use std::sync::Mutex;

use lockstep_runtime as rt;

use super::instances::Instances;
use super::parity::Parity;
use crate::engine::{
    AnyRef, CompileError, Engine, ExnRefId, FuncRefId, HeapObject, HeapRefId, InstanceId,
    InstantiateError, InvokeError, ModuleId, Session, Snapshot, Trap, TrapCode, Val, WasmFeatures,
};
use crate::wast::spectest;

/// The Cranelift runtime engine.
pub struct RuntimeEngine {
    /// `Config::canonicalize_nans` of every runtime engine.
    canonicalize_nans: bool,
    /// One runtime engine per feature set, so compiled trampolines are shared between sessions.
    engines: Mutex<HashMap<WasmFeatures, rt::Engine>>,
}

/// The runtime with the default parity settings.
pub fn engine() -> Box<dyn Engine> {
    engine_with(&Parity::default())
}

/// The engine list's constructor.
pub fn engine_with(parity: &Parity) -> Box<dyn Engine> {
    Box::new(RuntimeEngine {
        canonicalize_nans: parity.canonicalize_nans,
        engines: Mutex::new(HashMap::new()),
    })
}

impl Engine for RuntimeEngine {
    fn name(&self) -> &'static str {
        "runtime"
    }

    fn supported_features(&self) -> WasmFeatures {
        // All of WebAssembly 2.0, SIMD included, and the 3.0 features the runtime compiles.
        crate::suite::required_2_0()
            | WasmFeatures::SIMD
            | WasmFeatures::TAIL_CALL
            | WasmFeatures::EXTENDED_CONST
            | WasmFeatures::MULTI_MEMORY
            | WasmFeatures::MEMORY64
            | WasmFeatures::RELAXED_SIMD
            | WasmFeatures::FUNCTION_REFERENCES
            | WasmFeatures::EXCEPTIONS
            | WasmFeatures::LEGACY_EXCEPTIONS
            | WasmFeatures::GC
    }

    fn canonicalizes_nans(&self) -> bool {
        self.canonicalize_nans
    }

    fn new_session(&self, features: WasmFeatures) -> Box<dyn Session> {
        let engine = {
            let mut map = self.engines.lock().unwrap_or_else(|e| e.into_inner());
            map.entry(features)
                .or_insert_with(|| {
                    let mut config = rt::Config::new();
                    config
                        .wasm_features(features)
                        .canonicalize_nans(self.canonicalize_nans);
                    rt::Engine::new(&config).expect("the host ISA is supported")
                })
                .clone()
        };
        Box::new(RuntimeSession::new(engine))
    }
}

/// The runtime's extern for spectest `item`, made in `store`.
fn spectest_extern(store: &mut rt::Store<()>, item: &spectest::Item) -> rt::Extern {
    match *item {
        spectest::Item::Func { params, .. } => {
            let ty = rt::FuncType::new(params.iter().map(|t| val_type(*t)), []);
            rt::Extern::Func(rt::Func::new(store, ty, |_, _, _| Ok(())).expect("spectest function"))
        }
        spectest::Item::Global { ty, value, .. } => {
            let v = match value {
                Val::I32(x) => rt::Val::I32(x as i32),
                Val::I64(x) => rt::Val::I64(x as i64),
                Val::F32(x) => rt::Val::F32(x),
                Val::F64(x) => rt::Val::F64(x),
                _ => rt::Val::FuncRef(None),
            };
            rt::Extern::Global(
                rt::Global::new(
                    store,
                    rt::GlobalType {
                        content: val_type(ty),
                        mutability: rt::Mutability::Const,
                    },
                    v,
                )
                .expect("spectest global"),
            )
        }
        spectest::Item::Table {
            min, max, table64, ..
        } => rt::Extern::Table(
            rt::Table::new(
                store,
                rt::TableType {
                    element: rt::ValType::FuncRef,
                    minimum: min.into(),
                    maximum: max.map(Into::into),
                    table64,
                },
                rt::Val::FuncRef(None),
            )
            .expect("spectest table"),
        ),
        spectest::Item::Memory { min, max, .. } => rt::Extern::Memory(
            rt::Memory::new(
                store,
                rt::MemoryType {
                    minimum: min.into(),
                    maximum: max.map(Into::into),
                    memory64: false,
                },
            )
            .expect("spectest memory"),
        ),
    }
}

/// One runtime store plus the harness's bookkeeping.
pub struct RuntimeSession {
    engine: rt::Engine,
    store: rt::Store<()>,
    modules: Vec<rt::Module>,
    instances: Instances<rt::Instance>,
    spectest: HashMap<&'static str, rt::Extern>,
    /// Harness funcref ids are indices into this list.
    funcs: Vec<rt::Func>,
    func_ids: HashMap<rt::Func, u64>,
    externs: HashMap<u32, rt::ExternRef>,
    /// Harness exnref ids are indices into this list.
    exns: Vec<rt::ExnRef>,
    /// Harness heap-object ids (structs and arrays) are indices into this list.
    objects: Vec<rt::AnyRef>,
    object_ids: HashMap<rt::AnyRef, u64>,
}

fn val_type(t: spectest::ValType) -> rt::ValType {
    match t {
        spectest::ValType::I32 => rt::ValType::I32,
        spectest::ValType::I64 => rt::ValType::I64,
        spectest::ValType::F32 => rt::ValType::F32,
        spectest::ValType::F64 => rt::ValType::F64,
        spectest::ValType::FuncRef => rt::ValType::FuncRef,
    }
}

/// The harness's view of a runtime trap (also used by the `instantiate` fuzz target, which drives
/// a configured runtime directly).
pub(crate) fn trap(t: &rt::Trap) -> Trap {
    use rt::TrapCode as K;
    let code = match t.code() {
        K::Unreachable => TrapCode::Unreachable,
        K::IntegerDivideByZero => TrapCode::IntegerDivideByZero,
        K::IntegerOverflow => TrapCode::IntegerOverflow,
        K::InvalidConversionToInteger => TrapCode::InvalidConversionToInteger,
        K::MemoryOutOfBounds => TrapCode::OutOfBoundsMemoryAccess,
        K::TableOutOfBounds => TrapCode::OutOfBoundsTableAccess,
        K::UndefinedElement => TrapCode::UndefinedElement,
        K::UninitializedElement => TrapCode::UninitializedElement,
        K::IndirectCallTypeMismatch => TrapCode::IndirectCallTypeMismatch,
        K::StackOverflow => TrapCode::CallStackExhausted,
        K::NullReference
        | K::NullFunctionReference
        | K::NullStructReference
        | K::NullArrayReference
        | K::NullI31Reference => TrapCode::NullReference,
        K::CastFailure => TrapCode::CastFailure,
        K::ArrayOutOfBounds => TrapCode::OutOfBoundsArrayAccess,
        // The heap limit differs between engines: exhausting it is inconclusive, like the stack.
        K::OutOfGcHeap => TrapCode::ResourceExhausted,
        K::Host => TrapCode::Host,
        K::NullExceptionReference => TrapCode::NullReference,
        // Uncaught exceptions reach the adapter as `Error::Exception`, never as a trap.
        K::UncaughtException => TrapCode::Other,
    };
    Trap {
        code,
        message: t.message().to_string(),
    }
}

impl RuntimeSession {
    fn new(engine: rt::Engine) -> Self {
        let store = rt::Store::new(&engine, ());
        // The spectest items are made when a module first imports them ([`Self::resolve`]):
        // a campaign's modules import none, and making all of them for every session (a
        // memory, tables, globals, functions) then dropping them was work in every case.
        let spectest = HashMap::new();
        RuntimeSession {
            engine,
            store,
            modules: Vec::new(),
            instances: Instances::new(),
            spectest,
            funcs: Vec::new(),
            func_ids: HashMap::new(),
            externs: HashMap::new(),
            exns: Vec::new(),
            objects: Vec::new(),
            object_ids: HashMap::new(),
        }
    }

    fn instance(&self, id: InstanceId) -> Result<rt::Instance, String> {
        self.instances.get(id)
    }

    fn resolve(&mut self, module: &str, name: &str) -> Option<rt::Extern> {
        if let Some(&inst) = self.instances.registered(module) {
            return inst.get_export(&mut self.store, name);
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

    fn val_in(&mut self, v: Val) -> Result<rt::Val, String> {
        Ok(match v {
            Val::I32(x) => rt::Val::I32(x as i32),
            Val::I64(x) => rt::Val::I64(x as i64),
            Val::F32(x) => rt::Val::F32(x),
            Val::F64(x) => rt::Val::F64(x),
            Val::V128(x) => rt::Val::V128(x),
            Val::FuncRef(None) => rt::Val::FuncRef(None),
            Val::FuncRef(Some(id)) => rt::Val::FuncRef(Some(
                *self
                    .funcs
                    .get(id.0 as usize)
                    .ok_or_else(|| format!("unknown funcref id {}", id.0))?,
            )),
            Val::ExternRef(None) => rt::Val::ExternRef(None),
            Val::ExternRef(Some(n)) => rt::Val::ExternRef(Some(self.host_ref(n))),
            Val::ExnRef(None) => rt::Val::ExnRef(None),
            Val::ExnRef(Some(id)) => rt::Val::ExnRef(Some(
                *self
                    .exns
                    .get(id.0 as usize)
                    .ok_or_else(|| format!("unknown exnref id {}", id.0))?,
            )),
            Val::AnyRef(None) => rt::Val::AnyRef(None),
            Val::AnyRef(Some(a)) => rt::Val::AnyRef(Some(self.any_in(a)?)),
            Val::Externalized(a) => {
                rt::Val::ExternRef(Some(rt::ExternRef::from_any(self.any_in(a)?)))
            }
        })
    }

    fn host_ref(&mut self, n: u32) -> rt::ExternRef {
        match self.externs.get(&n) {
            Some(r) => *r,
            None => {
                let r = self.store.new_externref(n);
                self.externs.insert(n, r);
                r
            }
        }
    }

    fn any_in(&mut self, a: AnyRef) -> Result<rt::AnyRef, String> {
        Ok(match a {
            AnyRef::I31(v) => rt::AnyRef::from_i31(v as i32),
            AnyRef::Host(n) => self.host_ref(n).to_any(),
            AnyRef::Struct(id) | AnyRef::Array(id) => *self
                .objects
                .get(id.0 as usize)
                .ok_or_else(|| format!("unknown heap reference id {}", id.0))?,
        })
    }

    fn any_out(&mut self, a: rt::AnyRef) -> AnyRef {
        if let Some(v) = a.i31_u() {
            return AnyRef::I31(v);
        }
        if let Some(h) = a.as_host() {
            return AnyRef::Host(self.host_number(h));
        }
        let id = match self.object_ids.get(&a) {
            Some(&id) => id,
            None => {
                let id = self.objects.len() as u64;
                self.objects.push(a);
                self.object_ids.insert(a, id);
                id
            }
        };
        if a.as_array(&mut self.store).is_some() {
            AnyRef::Array(HeapRefId(id))
        } else {
            AnyRef::Struct(HeapRefId(id))
        }
    }

    fn host_number(&mut self, r: rt::ExternRef) -> u32 {
        self.store
            .externref_data(r)
            .and_then(|d| d.downcast_ref::<u32>())
            .copied()
            .unwrap_or(u32::MAX)
    }

    fn val_out(&mut self, v: rt::Val) -> Val {
        match v {
            rt::Val::I32(x) => Val::I32(x as u32),
            rt::Val::I64(x) => Val::I64(x as u64),
            rt::Val::F32(x) => Val::F32(x),
            rt::Val::F64(x) => Val::F64(x),
            rt::Val::V128(x) => Val::V128(x),
            rt::Val::FuncRef(None) => Val::FuncRef(None),
            rt::Val::FuncRef(Some(f)) => {
                let id = match self.func_ids.get(&f) {
                    Some(&id) => id,
                    None => {
                        let id = self.funcs.len() as u64;
                        self.funcs.push(f);
                        self.func_ids.insert(f, id);
                        id
                    }
                };
                Val::FuncRef(Some(FuncRefId(id)))
            }
            rt::Val::ExternRef(None) => Val::ExternRef(None),
            rt::Val::ExternRef(Some(r)) if r.is_host() => Val::ExternRef(Some(self.host_number(r))),
            rt::Val::ExternRef(Some(r)) => {
                let a = self.any_out(r.to_any());
                Val::externalize(Some(a))
            }
            rt::Val::AnyRef(None) => Val::AnyRef(None),
            rt::Val::AnyRef(Some(a)) => Val::AnyRef(Some(self.any_out(a))),
            rt::Val::ExnRef(None) => Val::ExnRef(None),
            rt::Val::ExnRef(Some(r)) => {
                self.exns.push(r);
                Val::ExnRef(Some(ExnRefId(self.exns.len() as u64 - 1)))
            }
        }
    }
}

impl Session for RuntimeSession {
    fn compile(&mut self, bytes: &[u8]) -> Result<ModuleId, CompileError> {
        match rt::Module::from_binary(&self.engine, bytes) {
            Ok(m) => {
                self.modules.push(m);
                Ok(ModuleId(self.modules.len() as u32 - 1))
            }
            Err(rt::Error::Malformed(m)) => Err(CompileError::Malformed(m)),
            Err(e) => Err(CompileError::Invalid(e.to_string())),
        }
    }

    fn instantiate(&mut self, module: ModuleId) -> Result<InstanceId, InstantiateError> {
        let m = super::compiled(&self.modules, module)?.clone();
        let wanted: Vec<(String, String)> = m
            .imports()
            .map(|(a, b, _)| (a.to_string(), b.to_string()))
            .collect();
        let mut imports = Vec::new();
        for (module_name, name) in wanted {
            match self.resolve(&module_name, &name) {
                Some(ext) => imports.push(ext),
                None => {
                    return Err(InstantiateError::Link(format!(
                        "unknown import: {module_name:?} {name:?}"
                    )));
                }
            }
        }
        match rt::Instance::new(&mut self.store, &m, &imports) {
            Ok(inst) => Ok(self.instances.push(inst)),
            Err(rt::Error::Link(m)) => Err(InstantiateError::Link(m)),
            Err(rt::Error::Trap(t)) => Err(InstantiateError::Trap(trap(&t))),
            // Like the oracle adapter: the harness has no "uncaught at instantiation" outcome.
            Err(e) => Err(InstantiateError::Other(e.to_string())),
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
        let func = match inst.get_export(&mut self.store, export) {
            Some(rt::Extern::Func(f)) => f,
            Some(other) => {
                return Err(InvokeError::Other(format!(
                    "export {export:?} is not a function: {other:?}"
                )));
            }
            None => return Err(InvokeError::Other(format!("no export {export:?}"))),
        };
        let mut rargs = Vec::with_capacity(args.len());
        for a in args {
            rargs.push(self.val_in(*a).map_err(InvokeError::Other)?);
        }
        let nresults = func.ty(&mut self.store).results().len();
        let mut results = vec![rt::Val::I32(0); nresults];
        match func.call(&mut self.store, &rargs, &mut results) {
            Ok(()) => Ok(results.into_iter().map(|v| self.val_out(v)).collect()),
            Err(rt::Error::Trap(t)) => Err(InvokeError::Trap(trap(&t))),
            Err(rt::Error::Exception(e)) => Err(InvokeError::Exception {
                payload: e.payload().iter().map(|v| self.val_out(*v)).collect(),
            }),
            Err(e) => Err(InvokeError::Other(e.to_string())),
        }
    }

    fn object(&mut self, id: HeapRefId) -> Result<HeapObject, String> {
        let any = *self
            .objects
            .get(id.0 as usize)
            .ok_or_else(|| format!("unknown heap reference id {}", id.0))?;
        let (is_array, len, vals) = if let Some(s) = any.as_struct(&mut self.store) {
            let n = s.num_fields(&mut self.store);
            let read = n.min(HeapObject::MAX_READ);
            let vals = (0..read)
                .map(|i| s.field(&mut self.store, i))
                .collect::<Option<Vec<_>>>();
            (false, n, vals)
        } else if let Some(a) = any.as_array(&mut self.store) {
            let n = a.len(&mut self.store);
            let read = n.min(HeapObject::MAX_READ as u32);
            let vals = (0..read)
                .map(|i| a.get(&mut self.store, i))
                .collect::<Option<Vec<_>>>();
            (true, n as usize, vals)
        } else {
            return Err(format!("heap reference id {} is no struct or array", id.0));
        };
        let vals = vals.ok_or_else(|| format!("heap object {} could not be read", id.0))?;
        Ok(HeapObject {
            is_array,
            len,
            fields: vals.into_iter().map(|v| self.val_out(v)).collect(),
        })
    }

    fn get_global(&mut self, instance: InstanceId, export: &str) -> Result<Val, String> {
        let inst = self.instance(instance)?;
        match inst.get_export(&mut self.store, export) {
            Some(rt::Extern::Global(g)) => {
                let v = g.get(&mut self.store);
                Ok(self.val_out(v))
            }
            Some(other) => Err(format!("export {export:?} is not a global: {other:?}")),
            None => Err(format!("no export {export:?}")),
        }
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
        let inst = self.instance(instance)?;
        let mut spare = snap.reset();
        for (name, ext) in inst.exports(&mut self.store) {
            match ext {
                rt::Extern::Memory(m) => {
                    let data = spare.copy(if copy_memories {
                        m.data(&mut self.store)
                    } else {
                        &[]
                    });
                    snap.memories.push((name, data));
                }
                rt::Extern::Global(g) => {
                    let v = g.get(&mut self.store);
                    let v = self.val_out(v);
                    snap.globals.push((name, v));
                }
                rt::Extern::Table(t) => {
                    let size = t.size(&mut self.store);
                    let mut elems = Vec::with_capacity(size as usize);
                    for i in 0..size {
                        let v = t.get(&mut self.store, i).unwrap_or(rt::Val::FuncRef(None));
                        elems.push(self.val_out(v));
                    }
                    snap.tables.push((name, elems));
                }
                rt::Extern::Func(_) | rt::Extern::Tag(_) => {}
            }
        }
        Ok(!copy_memories)
    }

    fn memory_in_place(&mut self, instance: InstanceId, export: &str) -> Option<&[u8]> {
        let inst = self.instance(instance).ok()?;
        let m = inst.get_memory(&mut self.store, export)?;
        Some(m.data(&mut self.store))
    }
}
