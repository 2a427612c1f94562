//! `lockstep-oracle`: a reference WebAssembly interpreter.
//!
//! It is written to read like the execution semantics of the WebAssembly specification:
//! a store of function, table, memory and global instances, an operand stack of values,
//! a label stack and a frame stack. It depends on nothing but `wasmparser`, so that a bug
//! in the Cranelift runtime cannot hide in shared code.
//!
//! The public API (this file) is the contract the harness builds on:
//! - [`Store::compile`] decodes and validates bytes into a [`Module`];
//! - [`Store::instantiate`] links a module against resolved [`Extern`]s, in import order;
//! - [`Store::invoke`] calls a function with [`Value`]s;
//! - the `*_get` / `*_set` / `memory_data*` accessors read and write exported state.

// TODO(oracle): module layout: module.rs (decode + pre-pass), instance.rs, exec.rs + exec/*,
// value.rs, trap.rs. Everything below is the agreed public surface.

use std::fmt;

pub use wasmparser::WasmFeatures;

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

/// An external value: what an import is satisfied with and what an export yields.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Extern {
    Func(FuncAddr),
    Table(TableAddr),
    Memory(MemAddr),
    Global(GlobalAddr),
}

/// A function signature.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FuncType {
    pub params: Vec<ValType>,
    pub results: Vec<ValType>,
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
}

/// Configuration of a store.
#[derive(Clone, Debug)]
pub struct Config {
    /// Features accepted by validation.
    pub features: WasmFeatures,
    /// Maximum depth of nested wasm calls before "call stack exhausted".
    pub max_call_depth: usize,
}

/// A decoded, validated module with branch targets resolved.
#[derive(Clone, Debug)]
pub struct Module {
    // TODO(oracle)
}

impl Module {
    /// The imports in order: (module, name, kind).
    pub fn imports(&self) -> Vec<(String, String, ExternType)> {
        unimplemented!()
    }
    /// The exports in order: (name, kind).
    pub fn exports(&self) -> Vec<(String, ExternType)> {
        unimplemented!()
    }
}

/// The type of an import or export.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExternType {
    Func(FuncType),
    Table { element: ValType, limits: Limits },
    Memory { limits: Limits },
    Global { ty: ValType, mutable: bool },
}

/// A host function: receives arguments, returns results or a trap.
pub type HostFunc = Box<dyn FnMut(&[Value]) -> Result<Vec<Value>, Trap> + Send>;

/// The store: every function, table, memory, global and instance lives here.
pub struct Store {
    // TODO(oracle)
}

impl Store {
    pub fn new(_config: Config) -> Self {
        unimplemented!()
    }
    /// Decode and validate `bytes` under the store's features.
    pub fn compile(&self, _bytes: &[u8]) -> Result<Module, CompileError> {
        unimplemented!()
    }
    /// Instantiate: `imports` are given in the module's import order.
    pub fn instantiate(
        &mut self,
        _module: &Module,
        _imports: &[Extern],
    ) -> Result<InstanceAddr, InstantiateError> {
        unimplemented!()
    }
    /// An instance's export by name.
    pub fn export(&self, _instance: InstanceAddr, _name: &str) -> Option<Extern> {
        unimplemented!()
    }
    /// Call a function (wasm or host) with arguments; type-checks the arguments.
    pub fn invoke(&mut self, _func: FuncAddr, _args: &[Value]) -> Result<Vec<Value>, Trap> {
        unimplemented!()
    }
    /// The type of any extern in the store (used for import matching and by the harness).
    pub fn extern_type(&self, _ext: Extern) -> ExternType {
        unimplemented!()
    }

    // Host allocation (the harness builds the `spectest` module with these).
    pub fn alloc_host_func(&mut self, _ty: FuncType, _f: HostFunc) -> FuncAddr {
        unimplemented!()
    }
    pub fn alloc_table(&mut self, _element: ValType, _limits: Limits, _init: Value) -> TableAddr {
        unimplemented!()
    }
    pub fn alloc_memory(&mut self, _limits: Limits) -> MemAddr {
        unimplemented!()
    }
    pub fn alloc_global(&mut self, _ty: ValType, _mutable: bool, _value: Value) -> GlobalAddr {
        unimplemented!()
    }

    // State access for the harness (reading and writing exported state).
    pub fn global_get(&self, _g: GlobalAddr) -> Value {
        unimplemented!()
    }
    /// Fails when the global is immutable or the value has the wrong type.
    pub fn global_set(&mut self, _g: GlobalAddr, _v: Value) -> Result<(), String> {
        unimplemented!()
    }
    pub fn memory_data(&self, _m: MemAddr) -> &[u8] {
        unimplemented!()
    }
    pub fn memory_data_mut(&mut self, _m: MemAddr) -> &mut [u8] {
        unimplemented!()
    }
    pub fn table_size(&self, _t: TableAddr) -> u32 {
        unimplemented!()
    }
    pub fn table_get(&self, _t: TableAddr, _index: u32) -> Option<Value> {
        unimplemented!()
    }
    pub fn table_set(&mut self, _t: TableAddr, _index: u32, _v: Value) -> Result<(), String> {
        unimplemented!()
    }
}
