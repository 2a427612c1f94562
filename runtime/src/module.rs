//! Modules: validation, metadata and compiled code.

use crate::engine::Engine;
use crate::trap::{Error, Result};
use crate::types::{ExternType, FuncType, GlobalType, MemoryType, Mutability, TableType, ValType};
use crate::vm::code::CodeMemory;
use crate::vm::vmctx::VMOffsets;
use std::collections::HashMap;
use std::sync::Arc;
use wasmparser::{Parser, Payload, TypeRef, Validator};

/// A constant expression, evaluated at instantiation.
#[derive(Clone, Debug)]
pub(crate) enum ConstOp {
    I32(i32),
    I64(i64),
    F32(u32),
    F64(u64),
    V128(u128),
    RefNull,
    RefFunc(u32),
    GlobalGet(u32),
    I32Add,
    I32Sub,
    I32Mul,
    I64Add,
    I64Sub,
    I64Mul,
    /// GC constant instructions, by module type index.
    StructNew(u32),
    StructNewDefault(u32),
    ArrayNew(u32),
    ArrayNewDefault(u32),
    ArrayNewFixed(u32, u32),
    RefI31,
    /// `any.convert_extern` and `extern.convert_any` are the identity on the representation.
    Identity,
}

pub(crate) type ConstExpr = Vec<ConstOp>;

#[derive(Clone, Debug)]
pub(crate) enum ImportKind {
    Func(u32),
    Table(TableType),
    Memory(MemoryType),
    Global(GlobalType),
    /// A tag of this function type index.
    Tag(u32),
}

#[derive(Clone, Debug)]
pub(crate) struct ImportInfo {
    pub module: String,
    pub name: String,
    pub kind: ImportKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ExportIndex {
    Func(u32),
    Table(u32),
    Memory(u32),
    Global(u32),
    Tag(u32),
}

#[derive(Clone, Debug)]
pub(crate) enum ElemMode {
    Active { table: u32, offset: ConstExpr },
    Passive,
    Declared,
}

#[derive(Clone, Debug)]
pub(crate) struct ElemSegment {
    pub mode: ElemMode,
    pub items: Vec<ConstExpr>,
}

#[derive(Clone, Debug)]
pub(crate) struct DataSegment {
    /// `Some((memory, offset))` for active segments.
    pub active: Option<(u32, ConstExpr)>,
    pub data: Vec<u8>,
}

/// Everything about a module except its code.
#[derive(Default, Debug)]
pub(crate) struct ModuleInfo {
    /// The function type of each type index (empty for struct and array types).
    pub types: Vec<FuncType>,
    /// Engine-wide canonical id per type index.
    pub type_ids: Vec<u32>,
    /// The canonical type behind each type index.
    pub type_infos: Vec<Arc<crate::gctypes::TypeInfo>>,
    pub imports: Vec<ImportInfo>,
    /// Type index of every function (imports first).
    pub funcs: Vec<u32>,
    pub num_imported_funcs: u32,
    pub tables: Vec<TableType>,
    pub table_inits: Vec<Option<ConstExpr>>,
    pub num_imported_tables: u32,
    pub memories: Vec<MemoryType>,
    pub num_imported_memories: u32,
    pub globals: Vec<GlobalType>,
    pub global_inits: Vec<ConstExpr>,
    pub num_imported_globals: u32,
    /// Function type index of every tag (imports first).
    pub tags: Vec<u32>,
    pub num_imported_tags: u32,
    pub exports: Vec<(String, ExportIndex)>,
    pub start: Option<u32>,
    pub elems: Vec<ElemSegment>,
    pub datas: Vec<DataSegment>,
    pub names: Arc<HashMap<u32, String>>,
    /// With GC: each defined function's validator inputs, for the translator (which runs
    /// the validator alongside to learn operand types).
    pub validators: FuncValidators,
}

#[derive(Default)]
pub(crate) struct FuncValidators(
    pub Vec<wasmparser::FuncToValidate<wasmparser::ValidatorResources>>,
);

impl std::fmt::Debug for FuncValidators {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FuncValidators({})", self.0.len())
    }
}

impl ModuleInfo {
    pub fn func_type(&self, func: u32) -> &FuncType {
        &self.types[self.funcs[func as usize] as usize]
    }
    pub fn offsets(&self) -> VMOffsets {
        VMOffsets {
            num_memories: self.memories.len() as u32,
            num_tables: self.tables.len() as u32,
            num_globals: self.globals.len() as u32,
            num_tags: self.tags.len() as u32,
        }
    }
}

/// A compiled module. Cheap to clone.
#[derive(Clone)]
pub struct Module {
    pub(crate) inner: Arc<ModuleInner>,
}

pub(crate) struct ModuleInner {
    pub engine: Engine,
    pub info: ModuleInfo,
    /// Keeps the compiled code mapped (and registered) while the module lives.
    pub _code: Arc<CodeMemory>,
    /// Address of each defined function's code, by defined index.
    pub func_addrs: Vec<usize>,
}

impl Module {
    /// Compile a module from binary or text format.
    pub fn new(engine: &Engine, bytes: impl AsRef<[u8]>) -> Result<Module> {
        let bytes = bytes.as_ref();
        let bin = wat::parse_bytes(bytes).map_err(|e| Error::Malformed(e.to_string()))?;
        Module::from_binary(engine, &bin)
    }

    /// Compile a module from the binary format.
    pub fn from_binary(engine: &Engine, bytes: &[u8]) -> Result<Module> {
        let validators = validate_keeping_funcs(engine, bytes)?;
        let (info, bodies) = parse(engine, bytes, validators)?;
        let (code, func_addrs) = crate::compile::compile_module(engine, &info, &bodies)?;
        Ok(Module {
            inner: Arc::new(ModuleInner {
                engine: engine.clone(),
                info,
                _code: Arc::new(code),
                func_addrs,
            }),
        })
    }

    /// Validate without compiling.
    pub fn validate(engine: &Engine, bytes: &[u8]) -> Result<()> {
        let mut validator = Validator::new_with_features(engine.config().features);
        validator
            .validate_all(bytes)
            .map(|_| ())
            .map_err(|e| classify_error(bytes, e))
    }

    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// Imports as (module, name, type).
    pub fn imports(&self) -> impl Iterator<Item = (&str, &str, ExternType)> + '_ {
        let info = &self.inner.info;
        info.imports.iter().map(move |i| {
            let ty = match &i.kind {
                ImportKind::Func(t) => ExternType::Func(info.types[*t as usize].clone()),
                ImportKind::Table(t) => ExternType::Table(*t),
                ImportKind::Memory(m) => ExternType::Memory(*m),
                ImportKind::Global(g) => ExternType::Global(*g),
                ImportKind::Tag(t) => ExternType::Tag(tag_type(&info.types[*t as usize])),
            };
            (i.module.as_str(), i.name.as_str(), ty)
        })
    }

    /// Exports as (name, type).
    pub fn exports(&self) -> impl Iterator<Item = (&str, ExternType)> + '_ {
        let info = &self.inner.info;
        info.exports.iter().map(move |(n, e)| {
            let ty = match *e {
                ExportIndex::Func(f) => ExternType::Func(info.func_type(f).clone()),
                ExportIndex::Table(t) => ExternType::Table(info.tables[t as usize]),
                ExportIndex::Memory(m) => ExternType::Memory(info.memories[m as usize]),
                ExportIndex::Global(g) => ExternType::Global(info.globals[g as usize]),
                ExportIndex::Tag(t) => {
                    ExternType::Tag(tag_type(&info.types[info.tags[t as usize] as usize]))
                }
            };
            (n.as_str(), ty)
        })
    }
}

/// Validate `bytes` as `Validator::validate_all` does (every section in order, then every
/// function body in order; the same first error), keeping each body's validator inputs when
/// the translator needs them (with GC, it runs a body's validator alongside for the operand
/// types). This used to be `validate_all` followed by a second `Validator` over the module's
/// sections only to get those inputs: every section of a GC-enabled module was validated twice.
fn validate_keeping_funcs(engine: &Engine, bytes: &[u8]) -> Result<FuncValidators> {
    let features = engine.config().features;
    let keep = features.contains(wasmparser::WasmFeatures::GC);
    let mut validator = Validator::new_with_features(features);
    let mut parser = Parser::new(0);
    parser.set_features(features);
    let mut funcs = Vec::new();
    for payload in parser.parse_all(bytes) {
        let payload = payload.map_err(|e| classify_error(bytes, e))?;
        let valid = validator
            .payload(&payload)
            .map_err(|e| classify_error(bytes, e))?;
        if let wasmparser::ValidPayload::Func(f, body) = valid {
            funcs.push((f, body));
        }
    }
    let mut kept = FuncValidators::default();
    let mut allocs = wasmparser::FuncValidatorAllocations::default();
    for (f, body) in funcs {
        if keep {
            kept.0.push(wasmparser::FuncToValidate {
                resources: f.resources.clone(),
                index: f.index,
                ty: f.ty,
                features: f.features,
            });
        }
        let mut v = f.into_validator(allocs);
        v.validate(&body).map_err(|e| classify_error(bytes, e))?;
        allocs = v.into_allocations();
    }
    Ok(kept)
}

/// Decide whether a validation failure is a decoding ("malformed") or a validation
/// ("invalid") error by re-reading the module without validating.
fn classify_error(bytes: &[u8], e: wasmparser::BinaryReaderError) -> Error {
    let msg = e.message().to_string();
    if parses(bytes) {
        Error::Invalid(msg)
    } else {
        Error::Malformed(msg)
    }
}

fn parses(bytes: &[u8]) -> bool {
    let check = || -> wasmparser::Result<()> {
        for p in Parser::new(0).parse_all(bytes) {
            match p? {
                Payload::CodeSectionEntry(body) => {
                    let mut locals = body.get_locals_reader()?;
                    for _ in 0..locals.get_count() {
                        locals.read()?;
                    }
                    let mut ops = body.get_operators_reader()?;
                    while !ops.eof() {
                        ops.read()?;
                    }
                }
                Payload::TypeSection(r) => {
                    for x in r {
                        x?;
                    }
                }
                Payload::ImportSection(r) => {
                    for x in r {
                        x?;
                    }
                }
                Payload::FunctionSection(r) => {
                    for x in r {
                        x?;
                    }
                }
                Payload::TableSection(r) => {
                    for x in r {
                        x?;
                    }
                }
                Payload::MemorySection(r) => {
                    for x in r {
                        x?;
                    }
                }
                Payload::GlobalSection(r) => {
                    for x in r {
                        x?;
                    }
                }
                Payload::ExportSection(r) => {
                    for x in r {
                        x?;
                    }
                }
                Payload::ElementSection(r) => {
                    for x in r {
                        x?;
                    }
                }
                Payload::DataSection(r) => {
                    for x in r {
                        x?;
                    }
                }
                _ => {}
            }
        }
        Ok(())
    };
    check().is_ok()
}

fn unsupported(what: &str) -> Error {
    Error::Compile(format!("unsupported: {what}"))
}

/// A tag's type from its function type (validation guarantees no results).
pub(crate) fn tag_type(ft: &FuncType) -> crate::types::TagType {
    crate::types::TagType::new(ft.params().iter().copied())
}

/// `type_ids` holds the engine-wide ids of the types interned so far: a function type that
/// names itself or a later type (a recursive type, which needs GC's rec groups) has none.
fn valtype(t: wasmparser::ValType, type_ids: &[u32]) -> Result<ValType> {
    ValType::from_wasm(t, type_ids).ok_or_else(|| unsupported(&format!("value type {t}")))
}

fn table_type(t: &wasmparser::TableType, type_ids: &[u32]) -> Result<TableType> {
    if t.shared {
        return Err(unsupported("shared tables"));
    }
    Ok(TableType {
        element: ValType::from_ref(t.element_type, type_ids)
            .ok_or_else(|| unsupported(&format!("table type {}", t.element_type)))?,
        minimum: t.initial,
        maximum: t.maximum,
        table64: t.table64,
    })
}

fn memory_type(m: &wasmparser::MemoryType) -> Result<MemoryType> {
    if m.shared || m.page_size_log2.is_some() {
        return Err(unsupported("shared/custom-page-size memories"));
    }
    Ok(MemoryType {
        minimum: m.initial,
        maximum: m.maximum,
        memory64: m.memory64,
    })
}

fn global_type(g: &wasmparser::GlobalType, type_ids: &[u32]) -> Result<GlobalType> {
    Ok(GlobalType {
        content: valtype(g.content_type, type_ids)?,
        mutability: if g.mutable {
            Mutability::Var
        } else {
            Mutability::Const
        },
    })
}

fn const_expr(e: &wasmparser::ConstExpr) -> Result<ConstExpr> {
    use wasmparser::Operator as O;
    let mut out = Vec::new();
    let mut r = e.get_operators_reader();
    while !r.eof() {
        let op = r.read().map_err(|e| Error::Malformed(e.to_string()))?;
        out.push(match op {
            O::I32Const { value } => ConstOp::I32(value),
            O::I64Const { value } => ConstOp::I64(value),
            O::F32Const { value } => ConstOp::F32(value.bits()),
            O::F64Const { value } => ConstOp::F64(value.bits()),
            O::V128Const { value } => ConstOp::V128(value.i128() as u128),
            O::RefNull { .. } => ConstOp::RefNull,
            O::RefFunc { function_index } => ConstOp::RefFunc(function_index),
            O::GlobalGet { global_index } => ConstOp::GlobalGet(global_index),
            O::I32Add => ConstOp::I32Add,
            O::I32Sub => ConstOp::I32Sub,
            O::I32Mul => ConstOp::I32Mul,
            O::I64Add => ConstOp::I64Add,
            O::I64Sub => ConstOp::I64Sub,
            O::I64Mul => ConstOp::I64Mul,
            O::StructNew { struct_type_index } => ConstOp::StructNew(struct_type_index),
            O::StructNewDefault { struct_type_index } => {
                ConstOp::StructNewDefault(struct_type_index)
            }
            O::ArrayNew { array_type_index } => ConstOp::ArrayNew(array_type_index),
            O::ArrayNewDefault { array_type_index } => ConstOp::ArrayNewDefault(array_type_index),
            O::ArrayNewFixed {
                array_type_index,
                array_size,
            } => ConstOp::ArrayNewFixed(array_type_index, array_size),
            O::RefI31 => ConstOp::RefI31,
            O::AnyConvertExtern | O::ExternConvertAny => ConstOp::Identity,
            O::End => break,
            _ => return Err(unsupported("constant expression operator")),
        });
    }
    Ok(out)
}

fn add_import(info: &mut ModuleInfo, module: &str, name: &str, ty: TypeRef) -> Result<()> {
    let kind = match ty {
        TypeRef::Func(t) | TypeRef::FuncExact(t) => {
            info.funcs.push(t);
            info.num_imported_funcs += 1;
            ImportKind::Func(t)
        }
        TypeRef::Table(t) => {
            let t = table_type(&t, &info.type_ids)?;
            info.tables.push(t);
            info.num_imported_tables += 1;
            ImportKind::Table(t)
        }
        TypeRef::Memory(m) => {
            let m = memory_type(&m)?;
            info.memories.push(m);
            info.num_imported_memories += 1;
            ImportKind::Memory(m)
        }
        TypeRef::Global(g) => {
            let g = global_type(&g, &info.type_ids)?;
            info.globals.push(g);
            info.num_imported_globals += 1;
            ImportKind::Global(g)
        }
        TypeRef::Tag(t) => {
            info.tags.push(t.func_type_idx);
            info.num_imported_tags += 1;
            ImportKind::Tag(t.func_type_idx)
        }
    };
    info.imports.push(ImportInfo {
        module: module.to_string(),
        name: name.to_string(),
        kind,
    });
    Ok(())
}

fn key_val(t: wasmparser::ValType, start: u32, type_ids: &[u32]) -> Result<crate::gctypes::KeyVal> {
    use crate::gctypes::{KeyHeap, KeyRef, KeyVal};
    use wasmparser::HeapType as H;
    let r = match t {
        wasmparser::ValType::Ref(r) => r,
        t => return Ok(crate::gctypes::key_val(valtype(t, &[])?)),
    };
    match r.heap_type() {
        H::Concrete(i) | H::Exact(i) => {
            let j = i
                .as_module_index()
                .ok_or_else(|| unsupported("type reference"))?;
            let heap = if j >= start {
                KeyHeap::Concrete(KeyRef::Rec(j - start))
            } else {
                KeyHeap::Concrete(KeyRef::Id(
                    *type_ids
                        .get(j as usize)
                        .ok_or_else(|| unsupported("type reference"))?,
                ))
            };
            Ok(KeyVal::Ref {
                nullable: r.is_nullable(),
                heap,
            })
        }
        _ => Ok(crate::gctypes::key_val(valtype(t, &[])?)),
    }
}

/// Canonicalise one recursion group in the engine and record its types.
fn intern_group(engine: &Engine, info: &mut ModuleInfo, group: wasmparser::RecGroup) -> Result<()> {
    use crate::gctypes::{KeyComposite, KeyRef, KeyStorage, KeySub};
    use wasmparser::{CompositeInnerType as C, StorageType as S};
    let start = info.type_ids.len() as u32;
    let mut keys = Vec::new();
    for sub in group.into_types() {
        let ct = &sub.composite_type;
        if ct.shared || ct.descriptor_idx.is_some() || ct.describes_idx.is_some() {
            return Err(unsupported("shared types and custom descriptors"));
        }
        let kv = |t| key_val(t, start, &info.type_ids);
        let ks = |s: S| -> Result<KeyStorage> {
            Ok(match s {
                S::I8 => KeyStorage::I8,
                S::I16 => KeyStorage::I16,
                S::Val(v) => KeyStorage::Val(kv(v)?),
            })
        };
        let composite = match &ct.inner {
            C::Func(f) => KeyComposite::Func(
                f.params().iter().map(|&t| kv(t)).collect::<Result<_>>()?,
                f.results().iter().map(|&t| kv(t)).collect::<Result<_>>()?,
            ),
            C::Struct(st) => KeyComposite::Struct(
                st.fields
                    .iter()
                    .map(|f| Ok((ks(f.element_type)?, f.mutable)))
                    .collect::<Result<_>>()?,
            ),
            C::Array(a) => KeyComposite::Array(ks(a.0.element_type)?, a.0.mutable),
            C::Cont(_) => return Err(unsupported("continuation types")),
        };
        let supertype = match sub.supertype_idxs.first() {
            None => None,
            Some(i) => {
                let j = i
                    .as_module_index()
                    .ok_or_else(|| unsupported("supertype reference"))?;
                Some(if j >= start {
                    KeyRef::Rec(j - start)
                } else {
                    KeyRef::Id(info.type_ids[j as usize])
                })
            }
        };
        keys.push(KeySub {
            is_final: sub.is_final,
            supertype,
            composite,
        });
    }
    let n = keys.len() as u32;
    let base = engine.registry().intern_group(keys);
    for id in base..base + n {
        let ti = engine
            .type_info(id)
            .ok_or_else(|| Error::Compile("internal error: type not interned".into()))?;
        info.types.push(ti.func().cloned().unwrap_or_default());
        info.type_ids.push(id);
        info.type_infos.push(ti);
    }
    Ok(())
}

/// Collect a validated module's metadata and function bodies (`validators`: what
/// [`validate_keeping_funcs`] kept for the translator).
fn parse<'a>(
    engine: &Engine,
    bytes: &'a [u8],
    validators: FuncValidators,
) -> Result<(ModuleInfo, Vec<wasmparser::FunctionBody<'a>>)> {
    let mut info = ModuleInfo {
        validators,
        ..ModuleInfo::default()
    };
    let mut bodies = Vec::new();
    let mut names = HashMap::new();
    let malformed = |e: wasmparser::BinaryReaderError| Error::Malformed(e.to_string());
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload.map_err(malformed)?;
        match payload {
            Payload::TypeSection(r) => {
                for group in r {
                    let group = group.map_err(malformed)?;
                    intern_group(engine, &mut info, group)?;
                }
            }
            Payload::ImportSection(r) => {
                for imp in r {
                    match imp.map_err(malformed)? {
                        wasmparser::Imports::Single(_, i) => {
                            add_import(&mut info, i.module, i.name, i.ty)?
                        }
                        wasmparser::Imports::Compact1 { module, items } => {
                            for it in items {
                                let it = it.map_err(malformed)?;
                                add_import(&mut info, module, it.name, it.ty)?;
                            }
                        }
                        wasmparser::Imports::Compact2 { module, ty, names } => {
                            for n in names {
                                let n = n.map_err(malformed)?;
                                add_import(&mut info, module, n, ty)?;
                            }
                        }
                    }
                }
            }
            Payload::FunctionSection(r) => {
                for f in r {
                    info.funcs.push(f.map_err(malformed)?);
                }
            }
            Payload::TableSection(r) => {
                for t in r {
                    let t = t.map_err(malformed)?;
                    info.tables.push(table_type(&t.ty, &info.type_ids)?);
                    info.table_inits.push(match &t.init {
                        wasmparser::TableInit::RefNull => None,
                        wasmparser::TableInit::Expr(e) => Some(const_expr(e)?),
                    });
                }
            }
            Payload::MemorySection(r) => {
                for m in r {
                    info.memories.push(memory_type(&m.map_err(malformed)?)?);
                }
            }
            Payload::GlobalSection(r) => {
                for g in r {
                    let g = g.map_err(malformed)?;
                    info.globals.push(global_type(&g.ty, &info.type_ids)?);
                    info.global_inits.push(const_expr(&g.init_expr)?);
                }
            }
            Payload::ExportSection(r) => {
                for e in r {
                    let e = e.map_err(malformed)?;
                    let idx = match e.kind {
                        wasmparser::ExternalKind::Func | wasmparser::ExternalKind::FuncExact => {
                            ExportIndex::Func(e.index)
                        }
                        wasmparser::ExternalKind::Table => ExportIndex::Table(e.index),
                        wasmparser::ExternalKind::Memory => ExportIndex::Memory(e.index),
                        wasmparser::ExternalKind::Global => ExportIndex::Global(e.index),
                        wasmparser::ExternalKind::Tag => ExportIndex::Tag(e.index),
                    };
                    info.exports.push((e.name.to_string(), idx));
                }
            }
            Payload::StartSection { func, .. } => info.start = Some(func),
            Payload::ElementSection(r) => {
                for e in r {
                    let e = e.map_err(malformed)?;
                    let mode = match e.kind {
                        wasmparser::ElementKind::Passive => ElemMode::Passive,
                        wasmparser::ElementKind::Declared => ElemMode::Declared,
                        wasmparser::ElementKind::Active {
                            table_index,
                            offset_expr,
                        } => ElemMode::Active {
                            table: table_index.unwrap_or(0),
                            offset: const_expr(&offset_expr)?,
                        },
                    };
                    let mut items = Vec::new();
                    match e.items {
                        wasmparser::ElementItems::Functions(fs) => {
                            for f in fs {
                                items.push(vec![ConstOp::RefFunc(f.map_err(malformed)?)]);
                            }
                        }
                        wasmparser::ElementItems::Expressions(_, es) => {
                            for x in es {
                                items.push(const_expr(&x.map_err(malformed)?)?);
                            }
                        }
                    }
                    info.elems.push(ElemSegment { mode, items });
                }
            }
            Payload::DataSection(r) => {
                for d in r {
                    let d = d.map_err(malformed)?;
                    let active = match d.kind {
                        wasmparser::DataKind::Passive => None,
                        wasmparser::DataKind::Active {
                            memory_index,
                            offset_expr,
                        } => Some((memory_index, const_expr(&offset_expr)?)),
                    };
                    info.datas.push(DataSegment {
                        active,
                        data: d.data.to_vec(),
                    });
                }
            }
            Payload::CodeSectionEntry(body) => bodies.push(body),
            Payload::CustomSection(c) => {
                if let wasmparser::KnownCustom::Name(r) = c.as_known() {
                    for n in r.into_iter().flatten() {
                        if let wasmparser::Name::Function(map) = n {
                            for naming in map.into_iter().flatten() {
                                names.insert(naming.index, naming.name.to_string());
                            }
                        }
                    }
                }
            }
            Payload::TagSection(r) => {
                for t in r {
                    info.tags.push(t.map_err(malformed)?.func_type_idx);
                }
            }
            _ => {}
        }
    }
    info.names = Arc::new(names);
    Ok((info, bodies))
}
