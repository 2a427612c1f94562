//! Instances: instantiation (linking, segment initialisation, start) and the operations the
//! builtins perform on an instance's memories and tables.

use crate::externals::{Extern, Global, Memory, Table};
use crate::func::{Func, TypedFunc, WasmParams, WasmResults};
use crate::module::{ConstExpr, ConstOp, ElemMode, ExportIndex, ImportKind, Module};
use crate::store::{AsContextMut, GlobalData, StoreOpaque, TableData};
use crate::trap::{Error, Result, Trap, TrapCode};
use crate::types::{Mutability, limits_match};
use crate::values::ValRaw;
use crate::vm::memory::LinearMemory;
use crate::vm::vmctx::VMFuncRef;
use std::cell::Cell;

pub(crate) struct InstanceData {
    pub module: Module,
    pub _vmctx: Box<[usize]>,
    pub funcrefs: Box<[VMFuncRef]>,
    pub memories: Vec<usize>,
    pub tables: Vec<usize>,
    pub globals: Vec<usize>,
    /// Store tag index of each tag (imports first).
    pub tags: Vec<usize>,
    pub data_dropped: Vec<bool>,
    pub elems: Vec<Vec<u64>>,
}

/// An instantiated module.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Instance {
    pub(crate) store_id: u64,
    pub(crate) index: usize,
}

fn link_err(msg: String) -> Error {
    Error::Link(msg)
}

impl Instance {
    /// Instantiate `module` with `imports` given in import order.
    pub fn new(
        mut store: impl AsContextMut,
        module: &Module,
        imports: &[Extern],
    ) -> Result<Instance> {
        let s = &mut store.ctx_mut().opaque;
        instantiate(s, module, imports)
    }

    pub fn get_export(&self, mut store: impl AsContextMut, name: &str) -> Option<Extern> {
        let s = &mut store.ctx_mut().opaque;
        s.check(self.store_id).ok()?;
        let (_, idx) = s.instances[self.index]
            .module
            .inner
            .info
            .exports
            .iter()
            .find(|(n, _)| n == name)?
            .clone();
        Some(self.export_extern(s, idx))
    }

    fn export_extern(&self, s: &mut StoreOpaque, idx: ExportIndex) -> Extern {
        let id = s.id;
        let inst = &s.instances[self.index];
        match idx {
            ExportIndex::Func(f) => {
                let fr = &inst.funcrefs[f as usize] as *const VMFuncRef as usize;
                let index = s.func_for_funcref(fr);
                Extern::Func(Func {
                    store_id: id,
                    index,
                })
            }
            ExportIndex::Memory(m) => Extern::Memory(Memory {
                store_id: id,
                index: inst.memories[m as usize],
            }),
            ExportIndex::Table(t) => Extern::Table(Table {
                store_id: id,
                index: inst.tables[t as usize],
            }),
            ExportIndex::Global(g) => Extern::Global(Global {
                store_id: id,
                index: inst.globals[g as usize],
            }),
            ExportIndex::Tag(t) => Extern::Tag(crate::exception::Tag {
                store_id: id,
                index: inst.tags[t as usize],
            }),
        }
    }

    /// All exports in order.
    pub fn exports(&self, mut store: impl AsContextMut) -> Vec<(String, Extern)> {
        let s = &mut store.ctx_mut().opaque;
        if s.check(self.store_id).is_err() {
            return Vec::new();
        }
        let exports = s.instances[self.index].module.inner.info.exports.clone();
        exports
            .into_iter()
            .map(|(n, i)| {
                let e = self.export_extern(s, i);
                (n, e)
            })
            .collect()
    }

    pub fn get_func(&self, store: impl AsContextMut, name: &str) -> Option<Func> {
        match self.get_export(store, name)? {
            Extern::Func(f) => Some(f),
            _ => None,
        }
    }

    pub fn get_typed_func<P: WasmParams, R: WasmResults>(
        &self,
        mut store: impl AsContextMut,
        name: &str,
    ) -> Result<TypedFunc<P, R>> {
        let f = self
            .get_func(&mut store, name)
            .ok_or_else(|| Error::Other(format!("no exported function `{name}`")))?;
        f.typed(&mut store)
    }

    pub fn get_memory(&self, store: impl AsContextMut, name: &str) -> Option<Memory> {
        match self.get_export(store, name)? {
            Extern::Memory(m) => Some(m),
            _ => None,
        }
    }

    pub fn get_table(&self, store: impl AsContextMut, name: &str) -> Option<Table> {
        match self.get_export(store, name)? {
            Extern::Table(t) => Some(t),
            _ => None,
        }
    }

    pub fn get_global(&self, store: impl AsContextMut, name: &str) -> Option<Global> {
        match self.get_export(store, name)? {
            Extern::Global(g) => Some(g),
            _ => None,
        }
    }
}

fn eval_const(
    s: &mut StoreOpaque,
    funcrefs: usize,
    globals: &[usize],
    info: &crate::module::ModuleInfo,
    expr: &ConstExpr,
) -> Result<ValRaw> {
    use crate::gctypes::{ARRAY_DATA, Storage};
    // Most expressions (segment offsets, element items, plain initialisers) are one operator:
    // they are answered without the operand stack, whose first push was a heap allocation
    // (and its drop a free) per expression, about 50 of each per instantiation of the
    // `instantiate` bench's module.
    if let [op] = expr.as_slice()
        && let Some(v) = leaf(s, funcrefs, globals, op)
    {
        return Ok(v);
    }
    let mut st: Vec<ValRaw> = Vec::new();
    let oom = || Error::from(Trap::from_code(TrapCode::OutOfGcHeap));
    // Constant-expression temporaries are not roots, so these allocations never collect.
    let write = |s: &mut StoreOpaque, obj: u64, off: u32, storage: Storage, v: ValRaw| {
        s.gc_write(obj, off as usize, storage.size() as usize, v);
    };
    for op in expr {
        let v = match *op {
            ConstOp::I32(_)
            | ConstOp::I64(_)
            | ConstOp::F32(_)
            | ConstOp::F64(_)
            | ConstOp::V128(_)
            | ConstOp::RefNull
            | ConstOp::RefFunc(_)
            | ConstOp::GlobalGet(_) => leaf(s, funcrefs, globals, op).unwrap_or_default(),
            ConstOp::I32Add | ConstOp::I32Sub | ConstOp::I32Mul => {
                let b = st.pop().unwrap_or(0) as u32;
                let a = st.pop().unwrap_or(0) as u32;
                (match op {
                    ConstOp::I32Add => a.wrapping_add(b),
                    ConstOp::I32Sub => a.wrapping_sub(b),
                    _ => a.wrapping_mul(b),
                }) as ValRaw
            }
            ConstOp::I64Add | ConstOp::I64Sub | ConstOp::I64Mul => {
                let b = st.pop().unwrap_or(0) as u64;
                let a = st.pop().unwrap_or(0) as u64;
                (match op {
                    ConstOp::I64Add => a.wrapping_add(b),
                    ConstOp::I64Sub => a.wrapping_sub(b),
                    _ => a.wrapping_mul(b),
                }) as ValRaw
            }
            ConstOp::RefI31 => {
                let v = st.pop().unwrap_or(0) as u32;
                (u64::from(v << 1) | 1) as ValRaw
            }
            ConstOp::Identity => st.pop().unwrap_or(0),
            ConstOp::StructNew(t) | ConstOp::StructNewDefault(t) => {
                let ti = info.type_infos[t as usize].clone();
                let obj = s.gc_alloc(ti.id, 0, None, false).map_err(|_| oom())?;
                if let ConstOp::StructNew(_) = op {
                    let fields = ti.struct_fields().unwrap_or(&[]);
                    let vals = st.split_off(st.len().saturating_sub(fields.len()));
                    for ((f, &off), v) in fields.iter().zip(&ti.field_offsets).zip(vals) {
                        write(s, obj, off, f.storage, v);
                    }
                }
                obj as ValRaw
            }
            ConstOp::ArrayNew(t) | ConstOp::ArrayNewDefault(t) | ConstOp::ArrayNewFixed(t, _) => {
                let ti = info.type_infos[t as usize].clone();
                let Some(elem) = ti.array_elem() else {
                    return Err(oom());
                };
                // `array.new`'s length is the program's: allocate (which checks it against
                // the heap limit) before writing any element.
                let (len, init, vals) = match *op {
                    ConstOp::ArrayNew(_) => {
                        let len = st.pop().unwrap_or(0) as u32;
                        (len, st.pop(), Vec::new())
                    }
                    ConstOp::ArrayNewDefault(_) => (st.pop().unwrap_or(0) as u32, None, Vec::new()),
                    ConstOp::ArrayNewFixed(_, n) => {
                        (n, None, st.split_off(st.len().saturating_sub(n as usize)))
                    }
                    _ => (0, None, Vec::new()),
                };
                let obj = s.gc_alloc(ti.id, len, None, false).map_err(|_| oom())?;
                let es = elem.storage.size();
                if let Some(init) = init {
                    fill_array(s, obj, es, len, init);
                }
                for (i, v) in vals.into_iter().enumerate() {
                    write(s, obj, ARRAY_DATA + i as u32 * es, elem.storage, v);
                }
                obj as ValRaw
            }
        };
        st.push(v);
    }
    Ok(st.pop().unwrap_or(0))
}

/// Fill the `len` elements (`es` bytes each) of the fresh array `obj` with the low bytes of
/// `init`, for an `array.new` in a constant expression.
///
/// This used `gc_fill`, which writes one element at a time with a `memcpy` call of 1-16 bytes:
/// wasm-smith's global initialisers draw `array.new` lengths in the hundreds of thousands, so
/// that loop (and the page faults of the fresh object under it) was ~20% of the fuzz
/// campaign's CPU samples and most of the runtime's ~0.5 ms of instantiation per case. The
/// object comes zeroed from the heap, so a zero value needs no write at all; any other value
/// fills the first few elements and then doubles them with `array_copy`, log2(len) copies
/// at `memmove` speed.
fn fill_array(s: &mut StoreOpaque, obj: u64, es: u32, len: u32, init: ValRaw) {
    let bytes = init.to_le_bytes();
    if len == 0 || bytes[..es as usize].iter().all(|&b| b == 0) {
        return;
    }
    use crate::gctypes::ARRAY_DATA;
    s.gc.prefault(obj);
    let mut done = len.min(8);
    s.gc_fill(obj, ARRAY_DATA as usize, es as usize, done as usize, init);
    while done < len {
        let n = done.min(len - done);
        // [0, done) is filled; copy it to [done, done + n): in bounds, disjoint.
        if s.array_copy(obj, done, obj, 0, n).is_err() {
            return;
        }
        done += n;
    }
}

/// The value of an operator that takes no operands (a constant, `ref.func` or `global.get`),
/// or `None` for the others.
fn leaf(s: &StoreOpaque, funcrefs: usize, globals: &[usize], op: &ConstOp) -> Option<ValRaw> {
    Some(match *op {
        ConstOp::I32(v) => v as u32 as ValRaw,
        ConstOp::I64(v) => v as u64 as ValRaw,
        ConstOp::F32(b) => b as ValRaw,
        ConstOp::F64(b) => b as ValRaw,
        ConstOp::V128(v) => v,
        ConstOp::RefNull => 0,
        ConstOp::RefFunc(f) => (funcrefs + f as usize * std::mem::size_of::<VMFuncRef>()) as ValRaw,
        ConstOp::GlobalGet(g) => s.globals[globals[g as usize]].cell.get(),
        _ => return None,
    })
}

/// A segment offset of an i64 (`is64`) or i32 index type; an i32's slot bits above 32 are not
/// part of its value.
fn address(v: ValRaw, is64: bool) -> u64 {
    if is64 { v as u64 } else { u64::from(v as u32) }
}

/// What constant expressions of instance `index` read: its funcref array and globals.
fn instance_ctx(s: &StoreOpaque, index: usize) -> (usize, Vec<usize>) {
    let i = &s.instances[index];
    (i.funcrefs.as_ptr() as usize, i.globals.clone())
}

fn instantiate(s: &mut StoreOpaque, module: &Module, imports: &[Extern]) -> Result<Instance> {
    if !s.engine.same(module.engine()) {
        return Err(Error::Other(
            "module compiled with a different engine".into(),
        ));
    }
    let info = &module.inner.info;
    if imports.len() != info.imports.len() {
        return Err(link_err(format!(
            "expected {} imports, got {}",
            info.imports.len(),
            imports.len()
        )));
    }
    let offsets = info.offsets();
    let mut vmctx: Box<[usize]> = vec![0usize; offsets.slots()].into_boxed_slice();
    let vmctx_addr = vmctx.as_ptr() as usize;
    let mut funcrefs = Vec::with_capacity(info.funcs.len());
    let mut memories = Vec::new();
    let mut tables = Vec::new();
    let mut globals = Vec::new();
    let mut tags = Vec::new();
    for (imp, ext) in info.imports.iter().zip(imports) {
        let what = || format!("{}::{}", imp.module, imp.name);
        match (&imp.kind, ext) {
            (ImportKind::Func(t), Extern::Func(f)) => {
                s.check(f.store_id)?;
                let fd = &s.funcs[f.index];
                if !s
                    .engine
                    .registry()
                    .is_subtype_id(fd.sig, info.type_ids[*t as usize])
                {
                    return Err(link_err(format!("incompatible import type for {}", what())));
                }
                funcrefs.push(crate::vm::instance::import_funcref(s, f.index));
            }
            (ImportKind::Memory(ty), Extern::Memory(mem)) => {
                s.check(mem.store_id)?;
                let lm = &s.memories[mem.index];
                let max = lm.declared_max();
                if lm.memory64() != ty.memory64
                    || !limits_match(lm.size_pages(), max, ty.minimum, ty.maximum)
                {
                    return Err(link_err(format!("incompatible import type for {}", what())));
                }
                memories.push(mem.index);
            }
            (ImportKind::Table(ty), Extern::Table(t)) => {
                s.check(t.store_id)?;
                let td = &s.tables[t.index];
                if td.ty.element != ty.element
                    || td.ty.table64 != ty.table64
                    || !limits_match(td.elems.len() as u64, td.ty.maximum, ty.minimum, ty.maximum)
                {
                    return Err(link_err(format!("incompatible import type for {}", what())));
                }
                tables.push(t.index);
            }
            (ImportKind::Global(ty), Extern::Global(g)) => {
                s.check(g.store_id)?;
                // An immutable global may be of a subtype (a `(ref $t)` global satisfies a
                // `(ref null func)` import); a mutable one is read and written, so its type
                // must be the same.
                let actual = s.globals[g.index].ty;
                let fits = actual.mutability == ty.mutability
                    && match ty.mutability {
                        Mutability::Const => s.engine.val_subtype(actual.content, ty.content),
                        Mutability::Var => actual.content == ty.content,
                    };
                if !fits {
                    return Err(link_err(format!("incompatible import type for {}", what())));
                }
                globals.push(g.index);
            }
            (ImportKind::Tag(t), Extern::Tag(tag)) => {
                s.check(tag.store_id)?;
                if s.tags[tag.index].sig != info.type_ids[*t as usize] {
                    return Err(link_err(format!("incompatible import type for {}", what())));
                }
                tags.push(tag.index);
            }
            _ => return Err(link_err(format!("incompatible import type for {}", what()))),
        }
    }
    for (i, &addr) in module.inner.func_addrs.iter().enumerate() {
        let f = info.num_imported_funcs as usize + i;
        let sig = info.type_ids[info.funcs[f] as usize];
        funcrefs.push(VMFuncRef::new(addr, sig, vmctx_addr));
    }
    let funcrefs = funcrefs.into_boxed_slice();
    for &t in &info.tags[info.num_imported_tags as usize..] {
        let ty = crate::module::tag_type(&info.types[t as usize]);
        tags.push(s.new_tag_of(ty, info.type_ids[t as usize]).index);
    }
    let (reservation, guard) = {
        let c = s.engine.config();
        (c.memory_reservation, c.memory_guard_size)
    };
    for ty in &info.memories[info.num_imported_memories as usize..] {
        let lm = LinearMemory::new(ty, reservation, guard).map_err(Error::Other)?;
        memories.push(s.memories.len());
        s.memories.push(lm);
    }
    // Globals first (table initialisers may refer to them).
    let mut inst = InstanceData {
        module: module.clone(),
        _vmctx: Box::new([]),
        funcrefs,
        memories,
        tables: Vec::new(),
        globals,
        tags,
        data_dropped: vec![false; info.datas.len()],
        elems: Vec::new(),
    };
    for (i, ty) in info.globals[info.num_imported_globals as usize..]
        .iter()
        .enumerate()
    {
        let v = eval_const(
            s,
            inst.funcrefs.as_ptr() as usize,
            &inst.globals,
            info,
            &info.global_inits[i],
        )?;
        inst.globals.push(s.globals.len());
        s.globals.push(GlobalData {
            cell: Box::new(Cell::new(v)),
            ty: *ty,
        });
    }
    for (i, ty) in info.tables[info.num_imported_tables as usize..]
        .iter()
        .enumerate()
    {
        let init = match &info.table_inits[i] {
            Some(e) => {
                eval_const(s, inst.funcrefs.as_ptr() as usize, &inst.globals, info, e)? as u64
            }
            None => 0,
        };
        tables.push(s.tables.len());
        s.tables.push(TableData::new(*ty, init)?);
    }
    inst.tables = tables;
    let mut elems = Vec::with_capacity(info.elems.len());
    for e in &info.elems {
        let mut items = Vec::with_capacity(e.items.len());
        for x in &e.items {
            items.push(
                eval_const(s, inst.funcrefs.as_ptr() as usize, &inst.globals, info, x)? as u64,
            );
        }
        elems.push(items);
    }
    inst.elems = elems;
    crate::vm::instance::fill_vmctx(&mut vmctx, s, &inst, offsets);
    inst._vmctx = vmctx;
    let index = s.instances.len();
    s.instances.push(inst);
    let instance = Instance {
        store_id: s.id,
        index,
    };

    // Element segments, then data segments, then start. Their offsets read the funcref array
    // and globals, whose addresses and indices no longer change.
    let (fr, gl) = instance_ctx(s, index);
    for (i, seg) in info.elems.iter().enumerate() {
        match &seg.mode {
            ElemMode::Active { table, offset } => {
                let off = address(
                    eval_const(s, fr, &gl, info, offset)?,
                    info.tables[*table as usize].table64,
                );
                let n = seg.items.len() as u32;
                if s.table_init(index, *table, i as u32, off, 0, n) != 0 {
                    return Err(Trap::from_code(TrapCode::TableOutOfBounds).into());
                }
                s.elem_drop(index, i as u32);
            }
            ElemMode::Declared => {
                s.elem_drop(index, i as u32);
            }
            ElemMode::Passive => {}
        }
    }
    for (i, seg) in info.datas.iter().enumerate() {
        if let Some((mem, offset)) = &seg.active {
            let off = address(
                eval_const(s, fr, &gl, info, offset)?,
                info.memories[*mem as usize].memory64,
            );
            let n = seg.data.len() as u32;
            if s.memory_init(index, *mem, i as u32, off, 0, n) != 0 {
                return Err(Trap::from_code(TrapCode::MemoryOutOfBounds).into());
            }
            s.data_drop(index, i as u32);
        }
    }
    if let Some(start) = info.start {
        let fr = &s.instances[index].funcrefs[start as usize] as *const VMFuncRef as usize;
        let f = s.func_for_funcref(fr);
        let mut vals = [0 as ValRaw; 1];
        s.call_raw(f, &mut vals)?;
    }
    Ok(instance)
}

pub(crate) fn global_is_mutable(g: &GlobalData) -> bool {
    g.ty.mutability == Mutability::Var
}
