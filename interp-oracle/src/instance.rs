//! The store's instances and instantiation (spec section 4.5.4, Wasm 2.0 semantics).

use std::collections::HashMap;
use std::sync::Arc;

use crate::exec::gc;
use crate::instr::FuncCode;
use crate::module::{ConstExpr, ConstOp, ExportKind, ImportDesc, ModuleInner, SegmentMode};
use crate::types::{Canon, RefTy, Ty, TypeId};
use crate::value::{RefKind, Slot, funcref_slot, ref_slot, slot_to_value};
use crate::{
    AddrType, CallError, Extern, ExternType, FuncAddr, GlobalAddr, HostFuncWithCaller,
    InstanceAddr, InstantiateError, Limits, MemAddr, Store, TableAddr, TagAddr, Trap, TrapKind,
    ValType, Value,
};

/// Size of a memory page.
pub(crate) const PAGE_SIZE: usize = 65536;
/// The most pages a memory can have: 2^16 with 32-bit addresses, 2^48 with 64-bit ones
/// (any growth the host cannot allocate fails, which the spec allows).
pub(crate) fn max_pages(addr: AddrType) -> u64 {
    match addr {
        AddrType::I32 => 1 << 16,
        AddrType::I64 => 1 << 48,
    }
}

/// The most elements a table's address type can count.
pub(crate) fn max_table_size(addr: AddrType) -> u64 {
    match addr {
        AddrType::I32 => u64::from(u32::MAX),
        AddrType::I64 => u64::MAX,
    }
}

/// `-1` in an address type: what a failed `memory.grow` or `table.grow` returns.
pub(crate) fn minus_one(addr: AddrType) -> u64 {
    match addr {
        AddrType::I32 => u64::from(u32::MAX),
        AddrType::I64 => u64::MAX,
    }
}
/// Growth beyond this many table elements fails (returns -1) instead of allocating.
pub(crate) const MAX_TABLE_ELEMENTS: u64 = 10_000_000;

/// A function instance: its type (interned in the store) and its code.
pub(crate) struct FuncInst {
    pub type_id: u32,
    pub kind: FuncKind,
}

pub(crate) enum FuncKind {
    Wasm {
        instance: u32,
        code: Arc<FuncCode>,
    },
    /// `None` while the function runs: it is taken out of the store so that it can be lent
    /// the store (see [`crate::Caller`]).
    Host(Option<HostFuncWithCaller>),
}

pub(crate) struct TableInst {
    pub element: ValType,
    /// The precise element type (import matching compares it).
    pub def: RefTy<TypeId>,
    pub addr: AddrType,
    pub elems: Vec<Slot>,
    pub max: Option<u64>,
}

pub(crate) struct MemInst {
    pub data: Vec<u8>,
    pub addr: AddrType,
    pub max: Option<u64>,
}

impl MemInst {
    pub fn pages(&self) -> u64 {
        (self.data.len() / PAGE_SIZE) as u64
    }
}

pub(crate) struct GlobalInst {
    pub ty: ValType,
    /// The precise value type (import matching compares it).
    pub def: Ty<TypeId>,
    pub mutable: bool,
    pub value: Slot,
}

/// A struct or an array: its defined type and its fields (an array's elements).
pub(crate) struct Object {
    pub type_id: TypeId,
    pub fields: Vec<Slot>,
}

/// A tag instance: its function type (the payload is its parameters).
pub(crate) struct TagInst {
    pub type_id: TypeId,
}

/// An exception object: the tag it was thrown with and its payload.
pub(crate) struct ExnInst {
    pub tag: u32,
    pub payload: Vec<Slot>,
}

/// An element instance: a (droppable) vector of references.
pub(crate) struct ElemInst {
    pub elems: Vec<Slot>,
}

/// A data instance: (droppable) bytes.
pub(crate) struct DataInst {
    pub bytes: Arc<[u8]>,
}

/// A module instance: the addresses of everything the module's indices refer to.
pub(crate) struct Instance {
    /// This instance's address in the store (what a host function's [`crate::Caller`] names).
    pub addr: u32,
    /// Store type id of each of the module's types.
    pub type_ids: Vec<u32>,
    pub funcs: Vec<FuncAddr>,
    pub tables: Vec<u32>,
    pub mems: Vec<u32>,
    pub globals: Vec<u32>,
    pub tags: Vec<u32>,
    pub elems: Vec<u32>,
    pub datas: Vec<u32>,
    pub exports: HashMap<String, Extern>,
}

/// `len` zero bytes, or `None` if they cannot be allocated. The zeroed allocation lets
/// the OS hand out untouched pages, so a large memory costs nothing until it is used.
pub(crate) fn zeroed_bytes(len: usize) -> Option<Vec<u8>> {
    let mut probe: Vec<u8> = Vec::new();
    probe.try_reserve_exact(len).ok()?;
    drop(probe);
    Some(vec![0u8; len])
}

fn incompatible(what: &str) -> InstantiateError {
    InstantiateError::Link(format!("incompatible import type: {what}"))
}

/// Limits subtyping: `actual` (the current size of the provided extern) fits `expected`.
fn limits_match(actual: Limits, expected: Limits) -> bool {
    actual.min >= expected.min
        && match expected.max {
            None => true,
            Some(em) => matches!(actual.max, Some(am) if am <= em),
        }
}

impl Store {
    /// The store ids of a module's types, group by group: a type of the group is named by
    /// its position in it, an earlier one by its id (see `types.rs`).
    fn intern_types(&mut self, module: &ModuleInner) -> Vec<TypeId> {
        let mut ids: Vec<TypeId> = Vec::with_capacity(module.defs.len());
        for &len in &module.rec_groups {
            let start = ids.len() as u32;
            let canon = |i: u32| match i.checked_sub(start) {
                Some(rel) if rel < len => Canon::Rec(rel),
                _ => Canon::Id(ids.get(i as usize).copied().unwrap_or(0)),
            };
            let group = module.defs[start as usize..(start + len) as usize]
                .iter()
                .map(|sub| sub.map(&canon))
                .collect();
            let group_ids = self.types.intern_group(group);
            ids.extend(group_ids);
        }
        ids
    }

    pub(crate) fn push_func(&mut self, type_id: u32, kind: FuncKind) -> FuncAddr {
        self.funcs.push(FuncInst { type_id, kind });
        FuncAddr(self.funcs.len() as u32 - 1)
    }

    pub(crate) fn push_table(
        &mut self,
        def: RefTy<TypeId>,
        addr: AddrType,
        limits: Limits,
        init: Slot,
    ) -> TableAddr {
        let n = limits.min.min(MAX_TABLE_ELEMENTS) as usize;
        self.tables.push(TableInst {
            element: self.types.coarse(Ty::Ref(def)),
            def,
            addr,
            elems: vec![init; n],
            max: limits.max,
        });
        TableAddr(self.tables.len() as u32 - 1)
    }

    pub(crate) fn push_memory(&mut self, addr: AddrType, limits: Limits) -> Option<MemAddr> {
        let bytes = usize::try_from(limits.min).ok()?.checked_mul(PAGE_SIZE)?;
        let data = zeroed_bytes(bytes)?;
        self.mems.push(MemInst {
            data,
            addr,
            max: limits.max,
        });
        Some(MemAddr(self.mems.len() as u32 - 1))
    }

    pub(crate) fn push_global(
        &mut self,
        def: Ty<TypeId>,
        mutable: bool,
        value: Slot,
    ) -> GlobalAddr {
        self.globals.push(GlobalInst {
            ty: self.types.coarse(def),
            def,
            mutable,
            value,
        });
        GlobalAddr(self.globals.len() as u32 - 1)
    }

    pub(crate) fn global_value(&self, g: &GlobalInst) -> Value {
        slot_to_value(g.ty, g.value)
    }

    /// The current type of an extern (tables and memories report their current size).
    pub(crate) fn type_of_extern(&self, ext: Extern) -> Option<ExternType> {
        Some(match ext {
            Extern::Func(f) => {
                let type_id = self.funcs.get(f.0 as usize)?.type_id;
                ExternType::Func(self.types.defs[type_id as usize].func.clone())
            }
            Extern::Table(t) => {
                let t = self.tables.get(t.0 as usize)?;
                ExternType::Table {
                    element: t.element,
                    addr: t.addr,
                    limits: Limits {
                        min: t.elems.len() as u64,
                        max: t.max,
                    },
                }
            }
            Extern::Memory(m) => {
                let m = self.mems.get(m.0 as usize)?;
                ExternType::Memory {
                    addr: m.addr,
                    limits: Limits {
                        min: m.pages(),
                        max: m.max,
                    },
                }
            }
            Extern::Tag(t) => {
                let type_id = self.tags.get(t.0 as usize)?.type_id;
                ExternType::Tag(self.types.defs[type_id as usize].func.clone())
            }
            Extern::Global(g) => {
                let g = self.globals.get(g.0 as usize)?;
                ExternType::Global {
                    ty: g.ty,
                    mutable: g.mutable,
                }
            }
        })
    }

    /// Evaluate a constant expression of (the partly built) instance `inst`: its types,
    /// functions and the globals defined so far.
    fn eval_const(&mut self, expr: &ConstExpr, inst: &Instance) -> Result<Slot, Trap> {
        let mut stack: Vec<Slot> = Vec::with_capacity(2);
        let pop = |stack: &mut Vec<Slot>| stack.pop().unwrap_or_default();
        for op in &expr.0 {
            let v = match *op {
                ConstOp::I32(x) | ConstOp::F32(x) => Slot::from(x),
                ConstOp::I64(x) | ConstOp::F64(x) => Slot::from(x),
                ConstOp::V128(x) => x,
                ConstOp::RefNull => 0,
                ConstOp::RefFunc(i) => funcref_slot(inst.funcs.get(i as usize).copied()),
                ConstOp::GlobalGet(i) => inst
                    .globals
                    .get(i as usize)
                    .map_or(0, |&g| self.globals[g as usize].value),
                ConstOp::I32Add | ConstOp::I32Sub | ConstOp::I32Mul => {
                    let (b, a) = (pop(&mut stack) as u32, pop(&mut stack) as u32);
                    Slot::from(match op {
                        ConstOp::I32Add => a.wrapping_add(b),
                        ConstOp::I32Sub => a.wrapping_sub(b),
                        _ => a.wrapping_mul(b),
                    })
                }
                ConstOp::I64Add | ConstOp::I64Sub | ConstOp::I64Mul => {
                    let (b, a) = (pop(&mut stack) as u64, pop(&mut stack) as u64);
                    Slot::from(match op {
                        ConstOp::I64Add => a.wrapping_add(b),
                        ConstOp::I64Sub => a.wrapping_sub(b),
                        _ => a.wrapping_mul(b),
                    })
                }
                ConstOp::RefI31 => ref_slot(RefKind::I31, pop(&mut stack) as u32 & 0x7fff_ffff),
                ConstOp::StructNew(t) | ConstOp::StructNewDefault(t) => {
                    let id = inst.type_ids[t as usize];
                    let n = gc::field_count(&self.types, id);
                    let fields = if matches!(op, ConstOp::StructNew(_)) {
                        let fields = stack.split_off(stack.len().saturating_sub(n));
                        (0..n)
                            .map(|i| gc::pack(gc::storage(&self.types, id, i), fields[i]))
                            .collect()
                    } else {
                        vec![0; n]
                    };
                    self.alloc(RefKind::Struct, id, fields)?
                }
                ConstOp::ArrayNew(t) | ConstOp::ArrayNewDefault(t) => {
                    let n = pop(&mut stack) as u32;
                    if u64::from(n) > gc::MAX_ARRAY_LEN {
                        return Err(Trap::host("allocation limit exceeded"));
                    }
                    let id = inst.type_ids[t as usize];
                    let init = match op {
                        ConstOp::ArrayNew(_) => {
                            gc::pack(gc::storage(&self.types, id, 0), pop(&mut stack))
                        }
                        _ => 0,
                    };
                    self.alloc(RefKind::Array, id, vec![init; n as usize])?
                }
                ConstOp::ArrayNewFixed { ty, n } => {
                    let id = inst.type_ids[ty as usize];
                    let s = gc::storage(&self.types, id, 0);
                    let elems = stack.split_off(stack.len().saturating_sub(n as usize));
                    let elems = elems.into_iter().map(|v| gc::pack(s, v)).collect();
                    self.alloc(RefKind::Array, id, elems)?
                }
                ConstOp::Unsupported => 0,
            };
            stack.push(v);
        }
        Ok(stack.pop().unwrap_or_default())
    }

    /// Instantiate `module` with `imports` (in import order).
    pub(crate) fn instantiate_module(
        &mut self,
        module: &Arc<ModuleInner>,
        imports: &[Extern],
    ) -> Result<InstanceAddr, InstantiateError> {
        // 1. Match imports against the module's import types.
        if imports.len() != module.imports.len() {
            return Err(InstantiateError::Link(format!(
                "incompatible import type: expected {} imports, got {}",
                module.imports.len(),
                imports.len()
            )));
        }
        let type_ids = self.intern_types(module);
        let resolve = |i: u32| type_ids.get(i as usize).copied().unwrap_or(0);
        let mut inst = Instance {
            addr: self.instances.len() as u32,
            type_ids: Vec::new(),
            funcs: Vec::new(),
            tables: Vec::new(),
            mems: Vec::new(),
            globals: Vec::new(),
            tags: Vec::new(),
            elems: Vec::new(),
            datas: Vec::new(),
            exports: HashMap::new(),
        };
        for (import, ext) in module.imports.iter().zip(imports) {
            let name = format!("{}.{}", import.module, import.name);
            let Some(actual) = self.type_of_extern(*ext) else {
                return Err(incompatible(&format!("{name}: unknown extern")));
            };
            match (&import.desc, ext, actual) {
                (ImportDesc::Func(t), Extern::Func(f), ExternType::Func(_)) => {
                    let actual = self.funcs[f.0 as usize].type_id;
                    if !self.types.def_sub(actual, resolve(*t)) {
                        return Err(incompatible(&format!("{name}: function type mismatch")));
                    }
                    inst.funcs.push(*f);
                }
                (
                    ImportDesc::Table(tt),
                    Extern::Table(a),
                    ExternType::Table {
                        element,
                        addr,
                        limits,
                    },
                ) => {
                    // Table types are invariant in their element type.
                    let _ = element;
                    if tt.def.map(&resolve) != self.tables[a.0 as usize].def
                        || tt.addr != addr
                        || !limits_match(limits, tt.limits)
                    {
                        return Err(incompatible(&format!("{name}: table type mismatch")));
                    }
                    inst.tables.push(a.0);
                }
                (
                    ImportDesc::Memory(mt),
                    Extern::Memory(a),
                    ExternType::Memory { addr, limits },
                ) => {
                    if mt.addr != addr || !limits_match(limits, mt.limits) {
                        return Err(incompatible(&format!("{name}: memory type mismatch")));
                    }
                    inst.mems.push(a.0);
                }
                (ImportDesc::Global(g), Extern::Global(a), ExternType::Global { mutable, .. }) => {
                    // A mutable global's type is invariant, an immutable one's covariant.
                    let (expected, actual) = (g.def.map(&resolve), self.globals[a.0 as usize].def);
                    let matches = if mutable {
                        expected == actual
                    } else {
                        self.types.ty_sub(actual, expected)
                    };
                    if g.mutable != mutable || !matches {
                        return Err(incompatible(&format!("{name}: global type mismatch")));
                    }
                    inst.globals.push(a.0);
                }
                (ImportDesc::Tag(t), Extern::Tag(a), ExternType::Tag(_)) => {
                    // Tag types are invariant.
                    if self.tags[a.0 as usize].type_id != resolve(*t) {
                        return Err(incompatible(&format!("{name}: tag type mismatch")));
                    }
                    inst.tags.push(a.0);
                }
                _ => return Err(incompatible(&format!("{name}: wrong kind of extern"))),
            }
        }

        // 2. Allocate the module's own functions, tables, memories, globals and segments.
        let addr = inst.addr;
        inst.type_ids = type_ids.clone();
        for (i, code) in module.code.iter().enumerate() {
            let type_id = module
                .funcs
                .get(i)
                .and_then(|t| inst.type_ids.get(*t as usize))
                .copied()
                .unwrap_or(0);
            let f = self.push_func(
                type_id,
                FuncKind::Wasm {
                    instance: addr,
                    code: code.clone(),
                },
            );
            inst.funcs.push(f);
        }
        // Global initialisers see the imported globals and every function (2.0's
        // auxiliary instance); extended-const lets them see earlier globals too.
        let trapped = InstantiateError::Trap;
        for g in &module.globals {
            let v = self.eval_const(&g.init, &inst).map_err(trapped)?;
            let a = self.push_global(g.ty.def.map(&resolve), g.ty.mutable, v);
            inst.globals.push(a.0);
        }
        for t in &module.tables {
            let init = match &t.init {
                Some(e) => self.eval_const(e, &inst).map_err(trapped)?,
                None => 0,
            };
            let a = self.push_table(t.ty.def.map(&resolve), t.ty.addr, t.ty.limits, init);
            inst.tables.push(a.0);
        }
        for t in &module.tags {
            self.tags.push(TagInst {
                type_id: resolve(*t),
            });
            inst.tags.push(self.tags.len() as u32 - 1);
        }
        for m in &module.memories {
            let Some(a) = self.push_memory(m.addr, m.limits) else {
                return Err(InstantiateError::Trap(Trap::host(
                    "memory allocation failed",
                )));
            };
            inst.mems.push(a.0);
        }
        for e in &module.elems {
            let mut elems = Vec::with_capacity(e.items.len());
            for item in &e.items {
                elems.push(self.eval_const(item, &inst).map_err(trapped)?);
            }
            self.elems.push(ElemInst { elems });
            inst.elems.push(self.elems.len() as u32 - 1);
        }
        for d in &module.datas {
            self.datas.push(DataInst {
                bytes: d.bytes.clone(),
            });
            inst.datas.push(self.datas.len() as u32 - 1);
        }
        for e in &module.exports {
            let i = e.index as usize;
            let ext = match e.kind {
                ExportKind::Func => inst.funcs.get(i).map(|f| Extern::Func(*f)),
                ExportKind::Table => inst.tables.get(i).map(|t| Extern::Table(TableAddr(*t))),
                ExportKind::Memory => inst.mems.get(i).map(|m| Extern::Memory(MemAddr(*m))),
                ExportKind::Global => inst.globals.get(i).map(|g| Extern::Global(GlobalAddr(*g))),
                ExportKind::Tag => inst.tags.get(i).map(|t| Extern::Tag(TagAddr(*t))),
            };
            if let Some(ext) = ext {
                inst.exports.insert(e.name.clone(), ext);
            }
        }
        let inst = Arc::new(inst);
        self.instances.push(inst.clone());

        // 3. Active element segments, in order: `table.init` then `elem.drop`. Declarative
        // segments are dropped too.
        for (i, e) in module.elems.iter().enumerate() {
            let ea = inst.elems[i] as usize;
            match &e.mode {
                SegmentMode::Active { index, offset } => {
                    // An i32 or i64 offset: either way the slot's low 64 bits.
                    let offset = self.eval_const(offset, &inst).map_err(trapped)? as u64;
                    let ta = inst.tables.get(*index as usize).copied().unwrap_or(0) as usize;
                    let items = std::mem::take(&mut self.elems[ea].elems);
                    let table = &mut self.tables[ta].elems;
                    let n = items.len() as u64;
                    if offset
                        .checked_add(n)
                        .is_none_or(|end| end > table.len() as u64)
                    {
                        return Err(InstantiateError::Trap(Trap::new(
                            TrapKind::OutOfBoundsTableAccess,
                        )));
                    }
                    table[offset as usize..(offset + n) as usize].copy_from_slice(&items);
                }
                SegmentMode::Declared => self.elems[ea].elems = Vec::new(),
                SegmentMode::Passive => {}
            }
        }

        // 4. Active data segments, in order: `memory.init` then `data.drop`.
        for (i, d) in module.datas.iter().enumerate() {
            let da = inst.datas[i] as usize;
            if let SegmentMode::Active { index, offset } = &d.mode {
                let offset = self.eval_const(offset, &inst).map_err(trapped)? as u64;
                let ma = inst.mems.get(*index as usize).copied().unwrap_or(0) as usize;
                let bytes = std::mem::replace(&mut self.datas[da].bytes, Arc::from([]));
                let mem = &mut self.mems[ma].data;
                let n = bytes.len() as u64;
                if offset
                    .checked_add(n)
                    .is_none_or(|end| end > mem.len() as u64)
                {
                    return Err(InstantiateError::Trap(Trap::new(
                        TrapKind::OutOfBoundsMemoryAccess,
                    )));
                }
                mem[offset as usize..(offset + n) as usize].copy_from_slice(&bytes);
            }
        }

        // 5. The start function.
        if let Some(start) = module.start
            && let Some(&f) = inst.funcs.get(start as usize)
        {
            self.call(f, &[]).map_err(|e| match e {
                CallError::Trap(t) => InstantiateError::Trap(t),
                CallError::Exception(e) => InstantiateError::Exception(e),
            })?;
        }
        Ok(InstanceAddr(addr))
    }
}
