//! `lockstep-oracle`: a reference WebAssembly interpreter.
//!
//! It is written to read like the execution semantics of the WebAssembly specification:
//! a store of function, table, memory, global, element and data instances, an operand
//! stack of values and a frame stack. It depends on nothing but `wasmparser`, so that a bug
//! in the Cranelift runtime cannot hide in shared code.
//!
//! The public API (this file) is the contract the harness builds on:
//! - [`Store::compile`] decodes and validates bytes into a [`Module`];
//! - [`Store::instantiate`] links a module against resolved [`Extern`]s, in import order;
//! - [`Store::invoke`] calls a function with [`Value`]s;
//! - the `*_get` / `*_set` / `memory_data*` accessors read and write exported state;
//! - [`Store::alloc_host_func`] makes a host function that sees its arguments only, and
//!   [`Store::alloc_host_func_with_caller`] one that is also lent a [`Caller`] (the store and
//!   the calling instance's exports), as a WASI host needs to reach the caller's memory.
//!
//! # Scope
//! WebAssembly 3.0 (execution of threads aside):
//! - 2.0: MVP, mutable-global import/export, sign extension, non-trapping float-to-int,
//!   multi-value, bulk memory, reference types, passive and declarative segments, the
//!   start function, and 128-bit SIMD;
//! - tail calls, extended constant expressions, multi-memory, memory64 and table64
//!   (64-bit addresses, [`AddrType`]);
//! - typed function references, and recursive type groups with their iso-recursive
//!   equivalence and declared subtyping (for import matching and `call_indirect`);
//! - GC: structs, arrays with packed fields, `i31`, `ref.eq`, casts, `any`/`extern`
//!   conversions; heap objects live in the store and are never freed, up to
//!   [`Config::max_objects`];
//! - exception handling: tags, `throw`, `throw_ref`, `try_table`, `exnref`, and the legacy
//!   `try`/`catch`/`delegate`/`rethrow`. An exception that nothing catches reaches the
//!   host as [`CallError::Exception`], with its tag and payload;
//! - relaxed SIMD: by default one deterministic result of the ones the spec permits;
//!   [`Store::set_relaxed_choice`] selects the others.
//!
//! A module that validates under wider features (threads, ...) still loads, but its
//! unsupported instructions trap (kind [`TrapKind::Host`]) when executed.
//!
//! # How it maps onto the spec
//! - `module.rs`: decoding (errors are "malformed") happens on the whole binary before
//!   validation (errors are "invalid").
//! - `translate.rs`: while validating a body, a pre-pass translates it into the flat
//!   instruction vector of `instr.rs`. Labels are resolved there: every branch carries its
//!   target, its arity and the operand-stack height of its label, which is what the spec's
//!   label stack would give at run time. Execution never rescans code.
//! - `types.rs`: defined types get store-wide ids by canonicalising each recursion group,
//!   so type equivalence across modules is id equality; subtyping follows the declared
//!   supertypes.
//! - `instance.rs`: allocation, import matching and instantiation (2.0 semantics: segments
//!   are applied in order, a trap keeps the effects of earlier segments).
//! - `exec.rs`: the interpreter loop, with `exec/numeric.rs`, `exec/memory.rs`,
//!   `exec/table.rs`, `exec/control.rs`, `exec/gc.rs` (structs, arrays, `i31`, casts) and
//!   `exec/simd.rs` holding the rules of each instruction family. SIMD rules apply the
//!   scalar rules lane by lane through the lane views of `exec/simd/lanes.rs`, so float
//!   lanes follow exactly the scalar NaN rules.
//!   Calls push a frame on an explicit frame stack and never recurse in Rust; the call
//!   depth limit of [`Config::max_call_depth`] is a counter ("call stack exhausted").
//!   Try bodies are pc ranges resolved at load time; a throw looks for the innermost one
//!   around the throwing pc, frame by frame, popping the frames it leaves.
//! - `value.rs`: values are untyped 128-bit slots on the operand stack (types are static
//!   after validation; 128 bits hold a `v128`); floats are kept as bits so NaN payloads
//!   are exact.
//! - `trap.rs`: every trap message contains the spec reference interpreter's text.

mod exec;
mod instance;
mod instr;
mod module;
mod translate;
mod trap;
mod types;
mod value;

use std::fmt;
use std::sync::Arc;

use instance::{
    DataInst, ElemInst, ExnInst, FuncInst, FuncKind, GlobalInst, Instance, MemInst, TableInst,
    TagInst,
};
use value::{slot_to_value, value_to_slot};

pub use wasmparser::WasmFeatures;

/// The default [`Config::max_call_depth`]: twice the frames Wasmtime's and the runtime's default
/// 512 KiB wasm stack can hold (32,768 of 16 bytes, the smallest frame of a function that
/// calls), so a recursion that returns on them returns here too. Frames are on the heap: 32
/// bytes each beside their locals and operands, whose stack is capped at 2^24 slots (256 MiB)
/// at any depth.
pub const DEFAULT_MAX_CALL_DEPTH: usize = 65_536;

/// The number of relaxed SIMD choices (see [`Store::set_relaxed_choice`]).
pub const RELAXED_CHOICES: usize = exec::relaxed_alternatives();

/// A runtime value. Floats are kept as raw bits so NaN payloads survive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Value {
    I32(u32),
    I64(u64),
    F32(u32),
    F64(u64),
    V128(u128),
    /// `None` is `ref.null func`.
    FuncRef(Option<FuncAddr>),
    /// `None` is `ref.null extern`; `Some(n)` is the host reference `ref.extern n`.
    ExternRef(Option<u32>),
    /// `None` is `ref.null exn`; `Some` is an exception (see [`Store::exception`]).
    ExnRef(Option<ExnAddr>),
    /// `None` is the null of the `any` hierarchy (`any`, `eq`, `i31`, `struct`, `array`,
    /// `none` and the defined struct and array types).
    AnyRef(Option<AnyRef>),
    /// An externref made by `extern.convert_any` of an internal reference (an `i31`, a struct
    /// or an array); that of a host reference `AnyRef::Host(n)` is `ExternRef(Some(n))`.
    Externalized(AnyRef),
}

/// A non-null reference of the `any` hierarchy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AnyRef {
    /// The 31 bits, zero-extended.
    I31(u32),
    /// A struct, by identity.
    Struct(ObjAddr),
    /// An array, by identity.
    Array(ObjAddr),
    /// A host reference inside the `any` hierarchy (`any.convert_extern` of `ref.extern n`).
    Host(u32),
}

/// The contents of a struct or an array, for the harness ([`Store::object`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectView {
    pub is_array: bool,
    /// How many fields (elements) the object has.
    pub len: usize,
    /// The first of them, as many as were asked for.
    pub fields: Vec<Value>,
}

/// Value types the oracle knows about (a subset of `wasmparser::ValType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValType {
    I32,
    I64,
    F32,
    F64,
    V128,
    FuncRef,
    ExternRef,
    ExnRef,
    AnyRef,
}

/// Addresses into the store, as in the spec's abstract machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FuncAddr(pub u32);
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TableAddr(pub u32);
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MemAddr(pub u32);
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GlobalAddr(pub u32);
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InstanceAddr(pub u32);
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TagAddr(pub u32);
/// A struct or array in the store's heap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjAddr(pub u32);
/// An exception object: its identity (what `throw_ref` rethrows) in the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ExnAddr(pub u32);

/// An external value: what an import is satisfied with and what an export yields.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Extern {
    Func(FuncAddr),
    Table(TableAddr),
    Memory(MemAddr),
    Global(GlobalAddr),
    Tag(TagAddr),
}

/// A function signature.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FuncType {
    pub params: Vec<ValType>,
    pub results: Vec<ValType>,
}

/// The type of a table's or memory's addresses: `i64` with table64 and memory64.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum AddrType {
    #[default]
    I32,
    I64,
}

/// Limits of a table or memory (memory limits are in 64 KiB pages).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub min: u64,
    pub max: Option<u64>,
}

/// Why execution stopped abnormally.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TrapKind {
    Unreachable,
    IntegerDivideByZero,
    IntegerOverflow,
    InvalidConversionToInteger,
    OutOfBoundsMemoryAccess,
    OutOfBoundsTableAccess,
    UndefinedElement,
    UninitializedElement,
    IndirectCallTypeMismatch,
    CallStackExhausted,
    /// `ref.as_non_null`, `call_ref` (message "null function reference") and other uses of
    /// a null reference that need a non-null one.
    NullReference,
    /// `throw_ref` of a null exnref.
    NullExceptionReference,
    /// `ref.cast` of a reference of another type.
    CastFailure,
    OutOfBoundsArrayAccess,
    /// A host function returned an error.
    Host,
}

/// A trap. Its `Display` text contains the spec reference interpreter's message
/// (e.g. "integer divide by zero", "uninitialized element 7").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trap {
    pub kind: TrapKind,
    pub message: String,
}

impl fmt::Display for Trap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Trap {}

/// Errors from [`Store::compile`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CompileError {
    /// The bytes do not decode (the spec's "malformed").
    Malformed(String),
    /// The module decodes but does not validate (the spec's "invalid").
    Invalid(String),
}

/// Errors from [`Store::instantiate`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InstantiateError {
    /// Wrong number of imports, or an import of the wrong kind or type
    /// (message contains "incompatible import type").
    Link(String),
    /// A trap while initialising segments or running the start function.
    /// Per 2.0 semantics, segments applied before the trap stay applied.
    Trap(Trap),
    /// The start function threw an exception that nothing caught.
    Exception(Exception),
}

/// An exception that escaped to the host: the exception object, its tag and its payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exception {
    pub exn: ExnAddr,
    pub tag: TagAddr,
    pub payload: Vec<Value>,
}

/// Why a call did not return: a trap, or an exception nothing caught.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallError {
    Trap(Trap),
    Exception(Exception),
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::Trap(t) => write!(f, "{t}"),
            CallError::Exception(e) => {
                write!(f, "uncaught exception (tag {}): {:?}", e.tag.0, e.payload)
            }
        }
    }
}

impl std::error::Error for CallError {}

impl From<Trap> for CallError {
    fn from(t: Trap) -> CallError {
        CallError::Trap(t)
    }
}

/// Configuration of a store.
#[derive(Clone, Debug)]
pub struct Config {
    /// Features accepted by validation.
    pub features: WasmFeatures,
    /// Maximum depth of nested wasm calls before "call stack exhausted".
    pub max_call_depth: usize,
    /// Maximum number of objects (structs, arrays and exceptions) the store allocates; one
    /// more traps with "allocation limit exceeded" instead of exhausting the host (as does
    /// an array longer than 2^24 elements).
    pub max_objects: usize,
    /// Every NaN that a float arithmetic instruction produces is the canonical NaN (positive,
    /// only the quiet bit set), as with Cranelift's `enable_nan_canonicalization`: the same
    /// instructions (`add`, `sub`, `mul`, `div`, `min`, `max`, `sqrt`, `ceil`, `floor`,
    /// `trunc`, `nearest`, `demote`, `promote`, their vector forms and relaxed `madd`), so
    /// that NaN bits agree with a Cranelift engine that sets it. Sign operations (`abs`,
    /// `neg`, `copysign`), `pmin`/`pmax` and moves keep their operand's bits. Off by default.
    pub canonicalize_nans: bool,
}

impl Default for Config {
    /// All of Wasm 2.0, SIMD included (`WasmFeatures::WASM2`), a call depth of
    /// [`DEFAULT_MAX_CALL_DEPTH`] and 2^20 objects.
    /// For 2.0 without SIMD, use `WasmFeatures::WASM2.difference(WasmFeatures::SIMD)`: SIMD
    /// opcodes are then malformed and the `v128` type invalid.
    fn default() -> Self {
        Config {
            features: WasmFeatures::WASM2,
            max_call_depth: DEFAULT_MAX_CALL_DEPTH,
            max_objects: 1 << 20,
            canonicalize_nans: false,
        }
    }
}

/// A decoded, validated module with branch targets resolved.
#[derive(Clone, Debug)]
pub struct Module {
    inner: Arc<module::ModuleInner>,
}

impl Module {
    /// The imports in order: (module, name, kind).
    pub fn imports(&self) -> Vec<(String, String, ExternType)> {
        self.inner
            .imports
            .iter()
            .map(|i| {
                (
                    i.module.clone(),
                    i.name.clone(),
                    self.inner.extern_type_of_import(&i.desc),
                )
            })
            .collect()
    }
    /// The exports in order: (name, kind).
    pub fn exports(&self) -> Vec<(String, ExternType)> {
        self.inner
            .exports
            .iter()
            .map(|e| (e.name.clone(), self.inner.extern_type_of_export(e)))
            .collect()
    }
}

/// The type of an import or export.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExternType {
    Func(FuncType),
    Table {
        element: ValType,
        addr: AddrType,
        limits: Limits,
    },
    Memory {
        addr: AddrType,
        limits: Limits,
    },
    Global {
        ty: ValType,
        mutable: bool,
    },
    /// A tag: an exception's payload has the types of the parameters.
    Tag(FuncType),
}

/// A host function that needs nothing but its arguments: returns results or a trap.
pub type HostFunc = Box<dyn FnMut(&[Value]) -> Result<Vec<Value>, Trap> + Send>;

/// A host function that is lent the store and the calling instance while it runs
/// ([`Caller`]), as the spec's host functions are: what they return may depend on the store,
/// and they may change it (write a memory, set a global).
pub type HostFuncWithCaller =
    Box<dyn FnMut(&mut Caller<'_>, &[Value]) -> Result<Vec<Value>, Trap> + Send>;

/// What a [`HostFuncWithCaller`] is lent for one call: the store, and the instance whose code
/// made the call (so it can find, say, that instance's exported `memory`).
///
/// The host function itself is out of the store during the call: a call that reaches it again
/// through [`Store::invoke`] traps (a Rust `FnMut` cannot run twice at once).
pub struct Caller<'a> {
    pub(crate) store: &'a mut Store,
    pub(crate) instance: Option<InstanceAddr>,
}

impl Caller<'_> {
    /// The instance of the wasm function that called; `None` when the host invoked the host
    /// function itself ([`Store::invoke`]).
    pub fn instance(&self) -> Option<InstanceAddr> {
        self.instance
    }
    /// An export of the calling instance, by name (like Wasmtime's `Caller::get_export`).
    pub fn get_export(&self, name: &str) -> Option<Extern> {
        self.store.export(self.instance?, name)
    }
    pub fn store(&self) -> &Store {
        self.store
    }
    pub fn store_mut(&mut self) -> &mut Store {
        self.store
    }
}

/// The store: every function, table, memory, global and instance lives here.
pub struct Store {
    config: Config,
    /// Every defined type, canonicalised; `FuncInst::type_id` indexes it.
    types: types::TypeRegistry,
    funcs: Vec<FuncInst>,
    tables: Vec<TableInst>,
    mems: Vec<MemInst>,
    globals: Vec<GlobalInst>,
    elems: Vec<ElemInst>,
    datas: Vec<DataInst>,
    instances: Vec<Arc<Instance>>,
    tags: Vec<TagInst>,
    /// Every exception object ever thrown (exnrefs name them; none is ever freed).
    exns: Vec<ExnInst>,
    /// Every struct and array ever allocated (none is ever freed).
    objects: Vec<instance::Object>,
    /// The operand stack, kept between invocations to reuse its allocation.
    stack: Vec<value::Slot>,
    /// The code of every wasm function a run has entered, by function address (see
    /// `exec.rs`), kept between invocations like `stack`.
    codes: Vec<Option<Arc<instr::FuncCode>>>,
    /// Remaining fuel, if execution is metered (see [`Store::set_fuel`]).
    fuel: Option<u64>,
    /// The alternative every relaxed SIMD instruction computes (see
    /// [`Store::set_relaxed_choice`]).
    relaxed_choice: usize,
}

impl Default for Store {
    fn default() -> Self {
        Store::new(Config::default())
    }
}

impl Store {
    pub fn new(config: Config) -> Self {
        Store {
            config,
            types: types::TypeRegistry::default(),
            funcs: Vec::new(),
            tables: Vec::new(),
            mems: Vec::new(),
            globals: Vec::new(),
            elems: Vec::new(),
            datas: Vec::new(),
            instances: Vec::new(),
            tags: Vec::new(),
            exns: Vec::new(),
            objects: Vec::new(),
            stack: Vec::new(),
            codes: Vec::new(),
            fuel: None,
            relaxed_choice: 0,
        }
    }
    /// Meter execution (for fuzzing, where a module may loop forever). With `Some(n)`,
    /// every call and every taken branch consumes one unit; when none is left, execution
    /// traps with kind [`TrapKind::Host`] and the message "all fuel consumed". Fuel is
    /// shared by all later invocations until set again. `None` (the default) disables metering.
    pub fn set_fuel(&mut self, fuel: Option<u64>) {
        self.fuel = fuel;
    }
    /// Choose which of the results the spec permits every relaxed SIMD instruction gives from
    /// now on, `choice` in `0..RELAXED_CHOICES`. Choice 0, the default, is the oracle's own
    /// deterministic one: each instruction behaves as the non-relaxed instruction it
    /// relaxes (`swizzle`, `trunc_sat`, `min`, `bitselect`, ...) and `madd` is fused.
    ///
    /// An engine that picks one hardware behaviour per instruction gives, for a call, the
    /// oracle's result under one of the choices. So a harness holding another engine's
    /// result of a call that runs relaxed instructions accepts it when it equals this
    /// store's result, from the same state, under some choice: the call's permitted
    /// results are the (at most [`RELAXED_CHOICES`]) results of running it under each.
    pub fn set_relaxed_choice(&mut self, choice: usize) {
        self.relaxed_choice = choice.min(RELAXED_CHOICES - 1);
    }
    /// The current relaxed SIMD choice.
    pub fn relaxed_choice(&self) -> usize {
        self.relaxed_choice
    }
    /// The remaining fuel (`None` when execution is not metered).
    pub fn fuel(&self) -> Option<u64> {
        self.fuel
    }
    /// The store's configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }
    /// Decode and validate `bytes` under the store's features.
    pub fn compile(&self, bytes: &[u8]) -> Result<Module, CompileError> {
        let inner = module::load(bytes, self.config.features)?;
        Ok(Module {
            inner: Arc::new(inner),
        })
    }
    /// Instantiate: `imports` are given in the module's import order.
    pub fn instantiate(
        &mut self,
        module: &Module,
        imports: &[Extern],
    ) -> Result<InstanceAddr, InstantiateError> {
        self.instantiate_module(&module.inner, imports)
    }
    /// An instance's export by name.
    pub fn export(&self, instance: InstanceAddr, name: &str) -> Option<Extern> {
        self.instances
            .get(instance.0 as usize)?
            .exports
            .get(name)
            .copied()
    }
    /// Call a function (wasm or host) with arguments; type-checks the arguments.
    pub fn invoke(&mut self, func: FuncAddr, args: &[Value]) -> Result<Vec<Value>, CallError> {
        self.call(func, args)
    }
    /// The tag and payload of an exception object (`None` for an address not in the store).
    pub fn exception(&self, exn: ExnAddr) -> Option<Exception> {
        let e = self.exns.get(exn.0 as usize)?;
        let ty = &self.types.defs[self.tags[e.tag as usize].type_id as usize].func;
        Some(Exception {
            exn,
            tag: TagAddr(e.tag),
            payload: e
                .payload
                .iter()
                .zip(&ty.params)
                .map(|(s, t)| slot_to_value(*t, *s))
                .collect(),
        })
    }
    /// Allocate a tag whose exceptions carry values of the types `ty.params`.
    pub fn alloc_tag(&mut self, ty: FuncType) -> TagAddr {
        let type_id = self.types.intern_host_func(&ty);
        self.tags.push(TagInst { type_id });
        TagAddr(self.tags.len() as u32 - 1)
    }
    /// The type of any extern in the store (used for import matching and by the harness).
    ///
    /// Tables and memories report their current size as `min`. An address that is not in
    /// the store yields an empty function type.
    pub fn extern_type(&self, ext: Extern) -> ExternType {
        self.type_of_extern(ext)
            .unwrap_or(ExternType::Func(FuncType {
                params: vec![],
                results: vec![],
            }))
    }

    // Host allocation (the harness builds the `spectest` module with these).
    /// A host function of type `ty` that sees only its arguments.
    pub fn alloc_host_func(&mut self, ty: FuncType, mut f: HostFunc) -> FuncAddr {
        self.alloc_host_func_with_caller(ty, Box::new(move |_, args| f(args)))
    }
    /// A host function of type `ty` that is lent the store and its caller's instance (to reach
    /// the caller's memory, as a WASI host does).
    pub fn alloc_host_func_with_caller(&mut self, ty: FuncType, f: HostFuncWithCaller) -> FuncAddr {
        let type_id = self.types.intern_host_func(&ty);
        self.push_func(type_id, FuncKind::Host(Some(f)))
    }
    pub fn alloc_table(&mut self, element: ValType, limits: Limits, init: Value) -> TableAddr {
        self.alloc_table_at(AddrType::I32, element, limits, init)
    }
    /// Like [`Store::alloc_table`], for a table indexed by `addr` (a host `table64`).
    pub fn alloc_table_at(
        &mut self,
        addr: AddrType,
        element: ValType,
        limits: Limits,
        init: Value,
    ) -> TableAddr {
        let def = match types::from_coarse(element) {
            types::Ty::Ref(r) => r,
            // A table of numbers does not exist: the host gets a table of `funcref`.
            _ => types::RefTy {
                nullable: true,
                heap: types::Heap::Abs(types::AbsHeap::Func),
            },
        };
        self.push_table(def, addr, limits, value_to_slot(init))
    }
    /// Allocates `limits.min` pages (at most 65536; an allocation failure gives an empty
    /// memory rather than a panic).
    pub fn alloc_memory(&mut self, limits: Limits) -> MemAddr {
        match self.push_memory(AddrType::I32, limits) {
            Some(m) => m,
            None => {
                self.mems.push(MemInst {
                    data: Vec::new(),
                    addr: AddrType::I32,
                    max: limits.max,
                });
                MemAddr(self.mems.len() as u32 - 1)
            }
        }
    }
    pub fn alloc_global(&mut self, ty: ValType, mutable: bool, value: Value) -> GlobalAddr {
        self.push_global(types::from_coarse(ty), mutable, value_to_slot(value))
    }

    // State access for the harness (reading and writing exported state).
    /// The value of a global (`i32 0` for an address not in the store).
    pub fn global_get(&self, g: GlobalAddr) -> Value {
        match self.globals.get(g.0 as usize) {
            Some(g) => self.global_value(g),
            None => Value::I32(0),
        }
    }
    /// Fails when the global is immutable or the value has the wrong type.
    pub fn global_set(&mut self, g: GlobalAddr, v: Value) -> Result<(), String> {
        let g = self
            .globals
            .get_mut(g.0 as usize)
            .ok_or_else(|| "unknown global".to_string())?;
        if !g.mutable {
            return Err("global is immutable".to_string());
        }
        if v.ty() != g.ty {
            return Err(format!(
                "type mismatch: global is {:?}, value is {:?}",
                g.ty,
                v.ty()
            ));
        }
        g.value = value_to_slot(v);
        Ok(())
    }
    /// The bytes of a memory (empty for an address not in the store).
    pub fn memory_data(&self, m: MemAddr) -> &[u8] {
        match self.mems.get(m.0 as usize) {
            Some(m) => &m.data,
            None => &[],
        }
    }
    pub fn memory_data_mut(&mut self, m: MemAddr) -> &mut [u8] {
        match self.mems.get_mut(m.0 as usize) {
            Some(m) => &mut m.data,
            None => &mut [],
        }
    }
    /// A struct's fields or an array's elements, in order, at most `max_fields` of them
    /// (`None` for an address not in the store). Packed `i8`/`i16` fields read as `I32`,
    /// zero-extended. The bound matters: an array may hold 2^24 elements, and reading all of
    /// them for a caller that compares the first few thousand took the fuzz campaign seconds
    /// per snapshot.
    pub fn object(&self, obj: ObjAddr, max_fields: usize) -> Option<ObjectView> {
        let o = self.objects.get(obj.0 as usize)?;
        let is_array = matches!(
            self.types.defs[o.type_id as usize].sub.composite,
            types::Composite::Array(_)
        );
        let fields = o
            .fields
            .iter()
            .take(max_fields)
            .enumerate()
            .map(|(i, s)| {
                let ty = match exec::gc::storage(&self.types, o.type_id, i) {
                    types::Storage::Val(t) => self.types.coarse(t),
                    types::Storage::I8 | types::Storage::I16 => ValType::I32,
                };
                slot_to_value(ty, *s)
            })
            .collect();
        Some(ObjectView {
            is_array,
            len: o.fields.len(),
            fields,
        })
    }
    pub fn table_size(&self, t: TableAddr) -> u32 {
        self.tables
            .get(t.0 as usize)
            .map_or(0, |t| t.elems.len() as u32)
    }
    pub fn table_get(&self, t: TableAddr, index: u32) -> Option<Value> {
        let t = self.tables.get(t.0 as usize)?;
        let s = *t.elems.get(index as usize)?;
        Some(slot_to_value(t.element, s))
    }
    pub fn table_set(&mut self, t: TableAddr, index: u32, v: Value) -> Result<(), String> {
        let t = self
            .tables
            .get_mut(t.0 as usize)
            .ok_or_else(|| "unknown table".to_string())?;
        if v.ty() != t.element {
            return Err(format!(
                "type mismatch: table holds {:?}, value is {:?}",
                t.element,
                v.ty()
            ));
        }
        let slot = t
            .elems
            .get_mut(index as usize)
            .ok_or_else(|| "out of bounds table access".to_string())?;
        *slot = value_to_slot(v);
        Ok(())
    }
}

#[cfg(test)]
mod tests;
