//! The adapter for Wasmtime (the `wasmtime` crate, Cranelift backend): a third-party peer, built
//! with the harness's `peers` feature.
//!
//! Configured for parity with lockstep's own engines ([`super::parity`]): the same maximum wasm
//! stack as the runtime, the same memory reservation and guard (memories never move, so growth
//! stops where the runtime's does), the same limits on table elements, and exactly the features
//! the session validates with.

use std::collections::HashMap;
use std::sync::Mutex;

use wasmtime as wt;

use super::instances::Instances;
use super::parity::{self, Parity};
use crate::engine::{
    AnyRef, CompileError, Engine, ExnRefId, FuncRefId, HeapObject, HeapRefId, InstanceId,
    InstantiateError, InvokeError, ModuleId, Session, Snapshot, Trap, TrapCode, Val, WasmFeatures,
};
use crate::wast::spectest;

/// The Wasmtime engine.
pub struct WasmtimeEngine {
    parity: Parity,
    /// One Wasmtime engine per feature set, shared by the sessions that use it.
    engines: Mutex<HashMap<WasmFeatures, Result<wt::Engine, String>>>,
}

/// The engine list's constructor.
pub fn engine(parity: &Parity) -> Result<Box<dyn Engine>, String> {
    Ok(Box::new(WasmtimeEngine {
        parity: *parity,
        engines: Mutex::new(HashMap::new()),
    }))
}

/// What Wasmtime executes: all of Wasm 3.0, plus the finished proposals it implements.
fn executes() -> WasmFeatures {
    WasmFeatures::WASM3
        | WasmFeatures::WIDE_ARITHMETIC
        | WasmFeatures::CUSTOM_PAGE_SIZES
        | WasmFeatures::EXTENDED_CONST
}

/// A Wasmtime configuration with exactly `features` on, and the parity settings.
fn config(features: WasmFeatures, parity: &Parity) -> wt::Config {
    let mut c = wt::Config::new();
    // Wasmtime depends on its own wasmparser release: flags are carried over by name.
    c.wasm_features(wt::WasmFeatures::all(), false);
    let mut on = wt::WasmFeatures::empty();
    for (name, flag) in wt::WasmFeatures::all().iter_names() {
        if WasmFeatures::from_name(name).is_some_and(|f| features.contains(f)) {
            on |= flag;
        }
    }
    c.wasm_features(on, true);
    c.cranelift_nan_canonicalization(parity.canonicalize_nans);
    c.max_wasm_stack(parity::MAX_WASM_STACK);
    c.memory_reservation(parity::MEMORY_RESERVATION);
    c.memory_guard_size(parity::MEMORY_GUARD);
    c.memory_reservation_for_growth(0);
    c.memory_may_move(false);
    c.gc_heap_reservation(parity::GC_HEAP_BYTES);
    c.gc_heap_reservation_for_growth(0);
    c.gc_heap_may_move(false);
    c
}

impl Engine for WasmtimeEngine {
    fn name(&self) -> &'static str {
        "wasmtime"
    }

    fn supported_features(&self) -> WasmFeatures {
        executes()
    }

    fn canonicalizes_nans(&self) -> bool {
        self.parity.canonicalize_nans
    }

    fn new_session(&self, features: WasmFeatures) -> Box<dyn Session> {
        let engine = {
            let mut map = self.engines.lock().unwrap_or_else(|e| e.into_inner());
            map.entry(features)
                .or_insert_with(|| {
                    wt::Engine::new(&config(features, &self.parity)).map_err(|e| format!("{e:#}"))
                })
                .clone()
        };
        Box::new(WasmtimeSession::new(engine))
    }
}

/// The store's data: the limits every store applies.
struct Data {
    limits: wt::StoreLimits,
}

/// One Wasmtime store plus the harness's bookkeeping.
pub struct WasmtimeSession {
    /// The engine, or why Wasmtime refused the configuration (every compile reports it).
    engine: Result<wt::Engine, String>,
    store: Option<wt::Store<Data>>,
    /// Each module with its bytes (a trap's offset is looked up in them).
    modules: Vec<(wt::Module, Vec<u8>)>,
    instances: Instances<wt::Instance>,
    spectest: HashMap<&'static str, wt::Extern>,
    /// Harness funcref ids are indices into this list, heap reference ids into `anys`, exnref
    /// ids into `exns`.
    funcs: Vec<wt::Func>,
    anys: Vec<wt::Rooted<wt::AnyRef>>,
    exns: Vec<wt::Rooted<wt::ExnRef>>,
}

fn val_type(t: spectest::ValType) -> wt::ValType {
    match t {
        spectest::ValType::I32 => wt::ValType::I32,
        spectest::ValType::I64 => wt::ValType::I64,
        spectest::ValType::F32 => wt::ValType::F32,
        spectest::ValType::F64 => wt::ValType::F64,
        spectest::ValType::FuncRef => wt::ValType::FUNCREF,
    }
}

fn spectest_items(store: &mut wt::Store<Data>) -> wt::Result<HashMap<&'static str, wt::Extern>> {
    let mut items = HashMap::new();
    for item in spectest::ITEMS {
        let ext: wt::Extern = match *item {
            spectest::Item::Func { params, .. } => {
                let ty = wt::FuncType::new(store.engine(), params.iter().map(|t| val_type(*t)), []);
                wt::Func::new(&mut *store, ty, |_, _, _| Ok(())).into()
            }
            spectest::Item::Global { ty, value, .. } => {
                let v = match value {
                    Val::I32(x) => wt::Val::I32(x as i32),
                    Val::I64(x) => wt::Val::I64(x as i64),
                    Val::F32(x) => wt::Val::F32(x),
                    Val::F64(x) => wt::Val::F64(x),
                    _ => wt::Val::FuncRef(None),
                };
                let gt = wt::GlobalType::new(val_type(ty), wt::Mutability::Const);
                wt::Global::new(&mut *store, gt, v)?.into()
            }
            spectest::Item::Table { min, max, .. } => {
                let tt = wt::TableType::new(wt::RefType::FUNCREF, min, max);
                wt::Table::new(&mut *store, tt, wt::Ref::Func(None))?.into()
            }
            spectest::Item::Memory { min, max, .. } => {
                wt::Memory::new(&mut *store, wt::MemoryType::new(min, max))?.into()
            }
        };
        items.insert(item.name(), ext);
    }
    Ok(items)
}

/// Classify a Wasmtime trap. Wasmtime reports one code for an out-of-bounds table index; the
/// instruction at the trap's offset tells `call_indirect`'s "undefined element" from a table
/// instruction's "out of bounds table access".
fn trap(err: &wt::Error, modules: &[(wt::Module, Vec<u8>)]) -> Option<Trap> {
    if err.is::<wt::GcHeapOutOfMemory<()>>() {
        return Some(Trap {
            code: TrapCode::ResourceExhausted,
            message: format!("{err:#}"),
        });
    }
    let t = err.downcast_ref::<wt::Trap>()?;
    use wt::Trap as K;
    let code = match t {
        K::StackOverflow => TrapCode::CallStackExhausted,
        K::MemoryOutOfBounds => TrapCode::OutOfBoundsMemoryAccess,
        K::TableOutOfBounds => table_trap(err, modules),
        K::IndirectCallToNull => TrapCode::UninitializedElement,
        K::BadSignature => TrapCode::IndirectCallTypeMismatch,
        K::IntegerOverflow => TrapCode::IntegerOverflow,
        K::IntegerDivisionByZero => TrapCode::IntegerDivideByZero,
        K::BadConversionToInteger => TrapCode::InvalidConversionToInteger,
        K::UnreachableCodeReached => TrapCode::Unreachable,
        K::NullReference => TrapCode::NullReference,
        K::CastFailure => TrapCode::CastFailure,
        K::ArrayOutOfBounds => TrapCode::OutOfBoundsArrayAccess,
        K::AllocationTooLarge => TrapCode::ResourceExhausted,
        _ => TrapCode::Other,
    };
    Some(Trap {
        code,
        message: t.to_string(),
    })
}

fn table_trap(err: &wt::Error, modules: &[(wt::Module, Vec<u8>)]) -> TrapCode {
    let opcode = err
        .downcast_ref::<wt::WasmBacktrace>()
        .and_then(|bt| bt.frames().first())
        .and_then(|frame| {
            let offset = frame.module_offset()?;
            let (_, bytes) = modules
                .iter()
                .find(|(m, _)| wt::Module::same(m, frame.module()))?;
            bytes.get(offset).copied()
        });
    // call_indirect and return_call_indirect.
    match opcode {
        Some(0x11 | 0x13) => TrapCode::UndefinedElement,
        Some(_) => TrapCode::OutOfBoundsTableAccess,
        None => TrapCode::TableOutOfBounds,
    }
}

impl WasmtimeSession {
    fn new(engine: Result<wt::Engine, String>) -> Self {
        let mut session = WasmtimeSession {
            engine,
            store: None,
            modules: Vec::new(),
            instances: Instances::new(),
            spectest: HashMap::new(),
            funcs: Vec::new(),
            anys: Vec::new(),
            exns: Vec::new(),
        };
        if let Ok(engine) = &session.engine {
            let mut store = wt::Store::new(
                engine,
                Data {
                    limits: wt::StoreLimitsBuilder::new()
                        .memory_size(parity::MAX_MEMORY_BYTES)
                        .table_elements(parity::MAX_TABLE_ELEMENTS)
                        .instances(usize::MAX)
                        .tables(usize::MAX)
                        .memories(usize::MAX)
                        .build(),
                },
            );
            store.limiter(|d| &mut d.limits);
            match spectest_items(&mut store) {
                Ok(items) => session.spectest = items,
                Err(e) => session.engine = Err(format!("the spectest module: {e:#}")),
            }
            session.store = Some(store);
        }
        session
    }

    /// An exception that left the called function: Wasmtime keeps it on the store (its error
    /// carries no payload), so the payload is read from there, like the other engines report it.
    fn uncaught_exception(&mut self) -> InvokeError {
        let fields = (|| -> Result<Vec<wt::Val>, String> {
            let store = self.store()?;
            let exn = store
                .take_pending_exception()
                .ok_or("wasmtime reported an exception but none is pending")?;
            let fields = exn.fields(&mut *store).map_err(|e| format!("{e:#}"))?;
            Ok(fields.collect())
        })();
        let payload = fields.and_then(|f| f.into_iter().map(|v| self.val_out(v)).collect());
        match payload {
            Ok(payload) => InvokeError::Exception { payload },
            Err(e) => InvokeError::Other(format!("uncaught exception: {e}")),
        }
    }

    fn store(&mut self) -> Result<&mut wt::Store<Data>, String> {
        match (&mut self.store, &self.engine) {
            (Some(s), Ok(_)) => Ok(s),
            (_, Err(e)) => Err(format!("wasmtime refused the configuration: {e}")),
            (None, Ok(_)) => Err("no store".to_string()),
        }
    }

    fn instance(&self, id: InstanceId) -> Result<wt::Instance, String> {
        self.instances.get(id)
    }

    fn resolve(&mut self, module: &str, name: &str) -> Option<wt::Extern> {
        if let Some(&inst) = self.instances.registered(module) {
            return inst.get_export(self.store().ok()?, name);
        }
        if module == spectest::MODULE {
            return self.spectest.get(name).cloned();
        }
        None
    }

    fn val_in(&mut self, v: Val) -> Result<wt::Val, String> {
        Ok(match v {
            Val::I32(x) => wt::Val::I32(x as i32),
            Val::I64(x) => wt::Val::I64(x as i64),
            Val::F32(x) => wt::Val::F32(x),
            Val::F64(x) => wt::Val::F64(x),
            Val::V128(x) => wt::Val::V128(x.into()),
            Val::FuncRef(None) => wt::Val::FuncRef(None),
            Val::FuncRef(Some(id)) => wt::Val::FuncRef(Some(
                *self
                    .funcs
                    .get(id.0 as usize)
                    .ok_or_else(|| format!("unknown funcref id {}", id.0))?,
            )),
            Val::ExternRef(None) => wt::Val::ExternRef(None),
            Val::ExternRef(Some(n)) => wt::Val::ExternRef(Some(self.host(n)?)),
            Val::Externalized(r) => {
                let any = self.any_in(r)?;
                let ext = wt::ExternRef::convert_any(self.store()?, any).map_err(text)?;
                wt::Val::ExternRef(Some(ext))
            }
            Val::AnyRef(None) => wt::Val::AnyRef(None),
            Val::AnyRef(Some(r)) => wt::Val::AnyRef(Some(self.any_in(r)?)),
            Val::ExnRef(None) => wt::Val::ExnRef(None),
            Val::ExnRef(Some(id)) => wt::Val::ExnRef(Some(
                *self
                    .exns
                    .get(id.0 as usize)
                    .ok_or_else(|| format!("unknown exnref id {}", id.0))?,
            )),
        })
    }

    /// The host reference `ref.extern n`.
    fn host(&mut self, n: u32) -> Result<wt::Rooted<wt::ExternRef>, String> {
        wt::ExternRef::new(self.store()?, n).map_err(text)
    }

    fn any_in(&mut self, r: AnyRef) -> Result<wt::Rooted<wt::AnyRef>, String> {
        match r {
            AnyRef::I31(n) => Ok(wt::AnyRef::from_i31(
                self.store()?,
                wt::I31::wrapping_u32(n),
            )),
            AnyRef::Struct(id) | AnyRef::Array(id) => self
                .anys
                .get(id.0 as usize)
                .copied()
                .ok_or_else(|| format!("unknown heap reference id {}", id.0)),
            AnyRef::Host(n) => {
                let ext = self.host(n)?;
                wt::AnyRef::convert_extern(self.store()?, ext).map_err(text)
            }
        }
    }

    fn any_out(&mut self, r: wt::Rooted<wt::AnyRef>) -> Result<AnyRef, String> {
        let store = self.store()?;
        if let Some(i) = r.as_i31(&*store).map_err(text)? {
            return Ok(AnyRef::I31(i.get_u32()));
        }
        let is_struct = r.is_struct(&*store).map_err(text)?;
        if is_struct || r.is_array(&*store).map_err(text)? {
            self.anys.push(r);
            let id = HeapRefId(self.anys.len() as u64 - 1);
            return Ok(if is_struct {
                AnyRef::Struct(id)
            } else {
                AnyRef::Array(id)
            });
        }
        // Neither i31 nor a heap object: an internalized host reference.
        let ext = wt::ExternRef::convert_any(store, r).map_err(text)?;
        match self.extern_out(ext)? {
            Val::ExternRef(Some(n)) => Ok(AnyRef::Host(n)),
            other => Err(format!("an anyref that is no host reference: {other}")),
        }
    }

    fn extern_out(&mut self, r: wt::Rooted<wt::ExternRef>) -> Result<Val, String> {
        let store = self.store()?;
        let data = r.data(&*store).map_err(text)?;
        if let Some(n) = data.and_then(|d| d.downcast_ref::<u32>()) {
            return Ok(Val::ExternRef(Some(*n)));
        }
        // No host data: an externalized anyref.
        let any = wt::AnyRef::convert_extern(store, r).map_err(text)?;
        Ok(Val::Externalized(self.any_out(any)?))
    }

    fn ref_out(&mut self, r: wt::Ref) -> Result<Val, String> {
        Ok(match r {
            wt::Ref::Func(None) => Val::FuncRef(None),
            wt::Ref::Func(Some(f)) => {
                self.funcs.push(f);
                Val::FuncRef(Some(FuncRefId(self.funcs.len() as u64 - 1)))
            }
            wt::Ref::Extern(None) => Val::ExternRef(None),
            wt::Ref::Extern(Some(r)) => self.extern_out(r)?,
            wt::Ref::Any(None) => Val::AnyRef(None),
            wt::Ref::Any(Some(r)) => Val::AnyRef(Some(self.any_out(r)?)),
            wt::Ref::Exn(None) => Val::ExnRef(None),
            wt::Ref::Exn(Some(r)) => {
                self.exns.push(r);
                Val::ExnRef(Some(ExnRefId(self.exns.len() as u64 - 1)))
            }
        })
    }

    fn val_out(&mut self, v: wt::Val) -> Result<Val, String> {
        Ok(match v {
            wt::Val::I32(x) => Val::I32(x as u32),
            wt::Val::I64(x) => Val::I64(x as u64),
            wt::Val::F32(x) => Val::F32(x),
            wt::Val::F64(x) => Val::F64(x),
            wt::Val::V128(x) => Val::V128(x.as_u128()),
            wt::Val::FuncRef(f) => return self.ref_out(wt::Ref::Func(f)),
            wt::Val::ExternRef(r) => return self.ref_out(wt::Ref::Extern(r)),
            wt::Val::AnyRef(r) => return self.ref_out(wt::Ref::Any(r)),
            wt::Val::ExnRef(r) => return self.ref_out(wt::Ref::Exn(r)),
            other => return Err(format!("the harness has no value for {other:?}")),
        })
    }
}

fn text(e: wt::Error) -> String {
    format!("{e:#}")
}

impl Session for WasmtimeSession {
    fn compile(&mut self, bytes: &[u8]) -> Result<ModuleId, CompileError> {
        let engine = self.engine.as_ref().map_err(|e| {
            CompileError::Invalid(format!("wasmtime refused the configuration: {e}"))
        })?;
        match wt::Module::from_binary(engine, bytes) {
            Ok(m) => {
                self.modules.push((m, bytes.to_vec()));
                Ok(ModuleId(self.modules.len() as u32 - 1))
            }
            Err(e) => Err(parity::rejection(bytes, format!("{e:#}"))),
        }
    }

    fn instantiate(&mut self, module: ModuleId) -> Result<InstanceId, InstantiateError> {
        let m = super::compiled(self.modules.iter().map(|(m, _)| m), module)?.clone();
        let imports = super::resolve_imports(
            m.imports().map(|i| (i.module(), i.name())),
            |module, name| self.resolve(module, name),
        )?;
        let store = self.store().map_err(InstantiateError::Other)?;
        match wt::Instance::new(store, &m, &imports) {
            Ok(inst) => Ok(self.instances.push(inst)),
            Err(e) => {
                if let Some(t) = trap(&e, &self.modules) {
                    return Err(InstantiateError::Trap(t));
                }
                let message = format!("{e:#}");
                if message.contains("incompatible import type") {
                    Err(InstantiateError::Link(message))
                } else {
                    Err(InstantiateError::Other(message))
                }
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
        let inst = self.instance(instance).map_err(InvokeError::Other)?;
        let store = self.store().map_err(InvokeError::Other)?;
        let func = match inst.get_export(&mut *store, export) {
            Some(wt::Extern::Func(f)) => f,
            Some(_) => {
                return Err(InvokeError::Other(format!(
                    "export {export:?} is not a function"
                )));
            }
            None => return Err(InvokeError::Other(format!("no export {export:?}"))),
        };
        let nresults = func.ty(&*store).results().len();
        let mut wargs = Vec::with_capacity(args.len());
        for a in args {
            wargs.push(self.val_in(*a).map_err(InvokeError::Other)?);
        }
        let mut results = vec![wt::Val::I32(0); nresults];
        let store = self.store().map_err(InvokeError::Other)?;
        match func.call(store, &wargs, &mut results) {
            Ok(()) => results
                .into_iter()
                .map(|v| self.val_out(v).map_err(InvokeError::Other))
                .collect(),
            Err(e) if e.is::<wt::ThrownException>() => Err(self.uncaught_exception()),
            Err(e) => Err(match trap(&e, &self.modules) {
                Some(t) => InvokeError::Trap(t),
                None => InvokeError::Other(format!("{e:#}")),
            }),
        }
    }

    fn get_global(&mut self, instance: InstanceId, export: &str) -> Result<Val, String> {
        let inst = self.instance(instance)?;
        let store = self.store()?;
        match inst.get_export(&mut *store, export) {
            Some(wt::Extern::Global(g)) => {
                let v = g.get(store);
                self.val_out(v)
            }
            Some(_) => Err(format!("export {export:?} is not a global")),
            None => Err(format!("no export {export:?}")),
        }
    }

    fn object(&mut self, id: HeapRefId) -> Result<HeapObject, String> {
        let any = self
            .anys
            .get(id.0 as usize)
            .copied()
            .ok_or_else(|| format!("unknown heap reference id {}", id.0))?;
        let store = self.store()?;
        let (is_array, len, vals) = if let Some(s) = any.as_struct(&*store).map_err(text)? {
            let vals: Vec<wt::Val> = s.fields(&mut *store).map_err(text)?.collect();
            (false, vals.len(), vals)
        } else if let Some(a) = any.as_array(&*store).map_err(text)? {
            let len = a.len(&*store).map_err(text)?;
            let read = len.min(HeapObject::MAX_READ as u32);
            let vals = (0..read)
                .map(|i| a.get(&mut *store, i).map_err(text))
                .collect::<Result<Vec<_>, _>>()?;
            (true, len as usize, vals)
        } else {
            return Err(format!("heap reference id {} is no struct or array", id.0));
        };
        let fields = vals
            .into_iter()
            .map(|v| self.val_out(v))
            .collect::<Result<_, _>>()?;
        Ok(HeapObject {
            is_array,
            len,
            fields,
        })
    }

    fn snapshot(&mut self, instance: InstanceId) -> Result<Snapshot, String> {
        let inst = self.instance(instance)?;
        let store = self.store()?;
        let exports: Vec<(String, wt::Extern)> = inst
            .exports(&mut *store)
            .map(|e| (e.name().to_string(), e.into_extern()))
            .collect();
        let mut snap = Snapshot::default();
        for (name, ext) in exports {
            let store = self.store()?;
            match ext {
                wt::Extern::Memory(m) => {
                    let data = m.data(&*store).to_vec();
                    snap.memories.push((name, data));
                }
                wt::Extern::Global(g) => {
                    let v = g.get(store);
                    let v = self.val_out(v)?;
                    snap.globals.push((name, v));
                }
                wt::Extern::Table(t) => {
                    let size = t.size(&*store);
                    let mut elems = Vec::with_capacity(size as usize);
                    for i in 0..size {
                        let store = self.store()?;
                        let r = t.get(store, i).unwrap_or(wt::Ref::Func(None));
                        elems.push(self.ref_out(r)?);
                    }
                    snap.tables.push((name, elems));
                }
                _ => {}
            }
        }
        Ok(snap)
    }
}
