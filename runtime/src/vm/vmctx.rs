//! Layout of the VM context and of the records it points to.
//!
//! Compiled code receives the callee's VM context pointer as its first argument. The context is
//! an array of pointer-sized slots:
//!
//! | slot | contents |
//! |------|----------|
//! | 0 | `*const VMLimits` (the store's runtime limits: stack limit) |
//! | 1 | `*const [usize; N]` table of builtin libcalls |
//! | 2 | `*const VMFuncRef` array of all functions of the instance (imports first) |
//! | 3 | `*mut StoreOpaque` owning the instance |
//! | 4 | instance index within the store |
//! | 5.. | one `*mut VMMemoryDef` per memory, then `*mut VMTableDef` per table, then `*mut u64` per global, then the id of each tag (store index + 1), then the base address of each memory |
//!
//! The offsets are computed once per module by [`VMOffsets`] and used by both the translator
//! and the Rust side.

use std::cell::Cell;

/// A function reference as stored in tables and funcref arrays. `code` uses the wasm calling
/// convention (`vmctx, params...`); `vmctx` is the context to pass.
#[repr(C)]
#[derive(Debug)]
pub(crate) struct VMFuncRef {
    pub code: Cell<usize>,
    pub type_id: Cell<u64>,
    pub vmctx: Cell<usize>,
}

impl VMFuncRef {
    pub const CODE: i32 = 0;
    pub const TYPE_ID: i32 = 8;
    pub const VMCTX: i32 = 16;
    pub const SIZE: i64 = 24;

    pub fn new(code: usize, type_id: u32, vmctx: usize) -> VMFuncRef {
        VMFuncRef {
            code: Cell::new(code),
            type_id: Cell::new(type_id as u64),
            vmctx: Cell::new(vmctx),
        }
    }
}

/// A linear memory's current base and byte length. The base never moves.
#[repr(C)]
#[derive(Debug)]
pub(crate) struct VMMemoryDef {
    pub base: Cell<usize>,
    pub len: Cell<u64>,
}

impl VMMemoryDef {
    pub const BASE: i32 = 0;
    pub const LEN: i32 = 8;
}

/// A table's element array (8-byte elements: `*const VMFuncRef` or extern handle, 0 = null)
/// and its current length. The base moves on growth, so code reloads it on every access.
#[repr(C)]
#[derive(Debug)]
pub(crate) struct VMTableDef {
    pub base: Cell<usize>,
    pub len: Cell<u64>,
}

impl VMTableDef {
    pub const BASE: i32 = 0;
    pub const LEN: i32 = 8;
}

/// Per-store runtime limits read by every function prologue.
#[repr(C)]
#[derive(Debug, Default)]
pub(crate) struct VMLimits {
    pub stack_limit: Cell<usize>,
}

impl VMLimits {
    pub const STACK_LIMIT: i32 = 0;
}

/// Field offsets of a module's VM context.
#[derive(Clone, Copy, Debug)]
pub(crate) struct VMOffsets {
    pub num_memories: u32,
    pub num_tables: u32,
    pub num_globals: u32,
    pub num_tags: u32,
}

impl VMOffsets {
    pub const LIMITS: i32 = 0;
    pub const BUILTINS: i32 = 8;
    pub const FUNCREFS: i32 = 16;
    pub const STORE: i32 = 24;
    pub const INSTANCE: i32 = 32;
    const HEADER_SLOTS: u32 = 5;

    pub fn memory(&self, i: u32) -> i32 {
        ((Self::HEADER_SLOTS + i) * 8) as i32
    }
    pub fn table(&self, i: u32) -> i32 {
        ((Self::HEADER_SLOTS + self.num_memories + i) * 8) as i32
    }
    pub fn global(&self, i: u32) -> i32 {
        ((Self::HEADER_SLOTS + self.num_memories + self.num_tables + i) * 8) as i32
    }
    pub fn tag(&self, i: u32) -> i32 {
        ((Self::HEADER_SLOTS + self.num_memories + self.num_tables + self.num_globals + i) * 8)
            as i32
    }
    /// A copy of memory `i`'s base address (`VMMemoryDef::base`), written once when the
    /// instance is created. A memory's base never moves (see `vm::memory`), so the copy stays
    /// exact through `memory.grow` and for imported memories. Reading the base used to take
    /// two dependent loads (context -> `VMMemoryDef` -> base) at the start of every function
    /// touching memory; with the copy it is one load from the context, as in Wasmtime, which
    /// shortens the dependency chain of small, frequently called functions.
    pub fn memory_base(&self, i: u32) -> i32 {
        ((Self::HEADER_SLOTS
            + self.num_memories
            + self.num_tables
            + self.num_globals
            + self.num_tags
            + i)
            * 8) as i32
    }
    /// Number of pointer-sized slots.
    pub fn slots(&self) -> usize {
        (Self::HEADER_SLOTS
            + self.num_memories
            + self.num_tables
            + self.num_globals
            + self.num_tags
            + self.num_memories) as usize
    }
    pub fn slot_of(offset: i32) -> usize {
        (offset / 8) as usize
    }
}
