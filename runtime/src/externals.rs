//! Memories, tables and globals as host-visible objects, and `Extern`.

use crate::func::Func;
use crate::instance::global_is_mutable;
use crate::store::{AsContextMut, GlobalData, TableData};
use crate::trap::{Error, Result};
use crate::types::{GlobalType, MemoryType, TableType};
use crate::values::Val;
use crate::vm::memory::LinearMemory;
use std::cell::Cell;

/// Anything an import can be satisfied with or an export can yield.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Extern {
    Func(Func),
    Memory(Memory),
    Table(Table),
    Global(Global),
    Tag(crate::exception::Tag),
}

impl From<crate::exception::Tag> for Extern {
    fn from(t: crate::exception::Tag) -> Extern {
        Extern::Tag(t)
    }
}

impl From<Func> for Extern {
    fn from(f: Func) -> Extern {
        Extern::Func(f)
    }
}
impl From<Memory> for Extern {
    fn from(m: Memory) -> Extern {
        Extern::Memory(m)
    }
}
impl From<Table> for Extern {
    fn from(t: Table) -> Extern {
        Extern::Table(t)
    }
}
impl From<Global> for Extern {
    fn from(g: Global) -> Extern {
        Extern::Global(g)
    }
}

/// A linear memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Memory {
    pub(crate) store_id: u64,
    pub(crate) index: usize,
}

impl Memory {
    pub fn new(mut store: impl AsContextMut, ty: MemoryType) -> Result<Memory> {
        let s = &mut store.ctx_mut().opaque;
        let c = s.engine.config().clone();
        let lm = LinearMemory::new(&ty, c.memory_reservation, c.memory_guard_size)
            .map_err(Error::Other)?;
        s.memories.push(lm);
        Ok(Memory {
            store_id: s.id,
            index: s.memories.len() - 1,
        })
    }

    fn get<'a>(&self, store: &'a mut impl AsContextMut) -> Result<&'a mut LinearMemory> {
        let s = &mut store.ctx_mut().opaque;
        s.check(self.store_id)?;
        Ok(&mut s.memories[self.index])
    }

    pub fn ty(&self, mut store: impl AsContextMut) -> MemoryType {
        match self.get(&mut store) {
            Ok(m) => MemoryType {
                minimum: m.size_pages(),
                maximum: m.declared_max(),
                memory64: m.memory64(),
            },
            Err(_) => MemoryType {
                minimum: 0,
                maximum: None,
                memory64: false,
            },
        }
    }

    /// Size in pages.
    pub fn size(&self, mut store: impl AsContextMut) -> u64 {
        self.get(&mut store).map_or(0, |m| m.size_pages())
    }

    /// Size in bytes.
    pub fn data_size(&self, mut store: impl AsContextMut) -> usize {
        self.get(&mut store).map_or(0, |m| m.size_bytes() as usize)
    }

    /// Grow by `delta` pages, returning the previous size.
    pub fn grow(&self, mut store: impl AsContextMut, delta: u64) -> Result<u64> {
        self.get(&mut store)?
            .grow(delta)
            .ok_or_else(|| Error::Other("failed to grow memory".into()))
    }

    pub fn read(&self, mut store: impl AsContextMut, offset: usize, buf: &mut [u8]) -> Result<()> {
        let m = self.get(&mut store)?;
        let d = m.data();
        let end = offset
            .checked_add(buf.len())
            .filter(|&e| e <= d.len())
            .ok_or_else(|| Error::Other("out of bounds memory access".into()))?;
        buf.copy_from_slice(&d[offset..end]);
        Ok(())
    }

    pub fn write(&self, mut store: impl AsContextMut, offset: usize, buf: &[u8]) -> Result<()> {
        let m = self.get(&mut store)?;
        let d = m.data_mut();
        let end = offset
            .checked_add(buf.len())
            .filter(|&e| e <= d.len())
            .ok_or_else(|| Error::Other("out of bounds memory access".into()))?;
        d[offset..end].copy_from_slice(buf);
        Ok(())
    }

    /// The memory's bytes.
    pub fn data<'a, S: AsContextMut + 'a>(&self, store: &'a mut S) -> &'a [u8] {
        match self.get(store) {
            Ok(m) => m.data(),
            Err(_) => &[],
        }
    }

    pub fn data_mut<'a, S: AsContextMut + 'a>(&self, store: &'a mut S) -> &'a mut [u8] {
        match self.get(store) {
            Ok(m) => m.data_mut(),
            Err(_) => &mut [],
        }
    }
}

/// A table of references.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Table {
    pub(crate) store_id: u64,
    pub(crate) index: usize,
}

impl Table {
    pub fn new(mut store: impl AsContextMut, ty: TableType, init: Val) -> Result<Table> {
        let s = &mut store.ctx_mut().opaque;
        if !s.val_matches(&init, ty.element) {
            return Err(Error::Other(
                "table initial value has the wrong type".into(),
            ));
        }
        // Table elements are references, which fit in 64 bits.
        let raw = s.val_to_raw(&init)? as u64;
        s.tables.push(TableData::new(ty, raw)?);
        Ok(Table {
            store_id: s.id,
            index: s.tables.len() - 1,
        })
    }

    pub fn ty(&self, mut store: impl AsContextMut) -> TableType {
        let s = &mut store.ctx_mut().opaque;
        if s.check(self.store_id).is_err() {
            return TableType {
                element: crate::types::ValType::FuncRef,
                minimum: 0,
                maximum: None,
                table64: false,
            };
        }
        let t = &s.tables[self.index];
        TableType {
            element: t.ty.element,
            minimum: t.elems.len() as u64,
            maximum: t.ty.maximum,
            table64: t.ty.table64,
        }
    }

    pub fn size(&self, mut store: impl AsContextMut) -> u64 {
        let s = &mut store.ctx_mut().opaque;
        if s.check(self.store_id).is_err() {
            return 0;
        }
        s.tables[self.index].elems.len() as u64
    }

    pub fn get(&self, mut store: impl AsContextMut, index: u64) -> Option<Val> {
        let s = &mut store.ctx_mut().opaque;
        s.check(self.store_id).ok()?;
        let t = &s.tables[self.index];
        let raw = *t.elems.get(usize::try_from(index).ok()?)?;
        let ty = t.ty.element;
        Some(s.raw_to_val(raw.into(), ty))
    }

    pub fn set(&self, mut store: impl AsContextMut, index: u64, val: Val) -> Result<()> {
        let s = &mut store.ctx_mut().opaque;
        s.check(self.store_id)?;
        if !s.val_matches(&val, s.tables[self.index].ty.element) {
            return Err(Error::Other(
                "value has the wrong type for this table".into(),
            ));
        }
        let raw = s.val_to_raw(&val)? as u64;
        let slot = usize::try_from(index)
            .ok()
            .and_then(|i| s.tables[self.index].elems.get_mut(i))
            .ok_or_else(|| Error::Other("out of bounds table access".into()))?;
        *slot = raw;
        Ok(())
    }

    /// Grow by `delta` elements set to `init`, returning the previous size.
    pub fn grow(&self, mut store: impl AsContextMut, delta: u64, init: Val) -> Result<u64> {
        let s = &mut store.ctx_mut().opaque;
        s.check(self.store_id)?;
        if !s.val_matches(&init, s.tables[self.index].ty.element) {
            return Err(Error::Other(
                "value has the wrong type for this table".into(),
            ));
        }
        let raw = s.val_to_raw(&init)? as u64;
        s.tables[self.index]
            .grow(delta, raw)
            .ok_or_else(|| Error::Other("failed to grow table".into()))
    }
}

/// A global variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Global {
    pub(crate) store_id: u64,
    pub(crate) index: usize,
}

impl Global {
    pub fn new(mut store: impl AsContextMut, ty: GlobalType, val: Val) -> Result<Global> {
        let s = &mut store.ctx_mut().opaque;
        if !s.val_matches(&val, ty.content) {
            return Err(Error::Other("global value has the wrong type".into()));
        }
        let raw = s.val_to_raw(&val)?;
        s.globals.push(GlobalData {
            cell: Box::new(Cell::new(raw)),
            ty,
        });
        Ok(Global {
            store_id: s.id,
            index: s.globals.len() - 1,
        })
    }

    pub fn ty(&self, mut store: impl AsContextMut) -> GlobalType {
        let s = &store.ctx_mut().opaque;
        match s.check(self.store_id) {
            Ok(()) => s.globals[self.index].ty,
            Err(_) => GlobalType {
                content: crate::types::ValType::I32,
                mutability: crate::types::Mutability::Const,
            },
        }
    }

    /// The current value (`i32 0` for a global of another store).
    pub fn get(&self, mut store: impl AsContextMut) -> Val {
        let s = &mut store.ctx_mut().opaque;
        if s.check(self.store_id).is_err() {
            return Val::I32(0);
        }
        let g = &s.globals[self.index];
        let (raw, ty) = (g.cell.get(), g.ty.content);
        s.raw_to_val(raw, ty)
    }

    pub fn set(&self, mut store: impl AsContextMut, val: Val) -> Result<()> {
        let s = &mut store.ctx_mut().opaque;
        s.check(self.store_id)?;
        let g = &s.globals[self.index];
        if !global_is_mutable(g) {
            return Err(Error::Other("global is immutable".into()));
        }
        if !s.val_matches(&val, g.ty.content) {
            return Err(Error::Other(
                "value has the wrong type for this global".into(),
            ));
        }
        let raw = s.val_to_raw(&val)?;
        s.globals[self.index].cell.set(raw);
        Ok(())
    }
}
