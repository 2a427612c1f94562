//! Loading a module: decode (malformed?), then validate (invalid?). Each function body is
//! validated operator by operator while `translate.rs` turns it into a flat instruction
//! vector.
//!
//! Decoding and validation both use `wasmparser`; the oracle takes nothing else from outside.
//! The whole binary is decoded first, so that a malformed section anywhere wins over an
//! invalid one earlier, as in the spec's two-phase "decode, then validate".

use std::sync::Arc;

use wasmparser::{
    BinaryReaderError, DataKind, ElementItems, ElementKind, ExternalKind, Operator, Parser,
    Payload, TableInit, TypeRef, ValidPayload, Validator, WasmFeatures,
};

use crate::instr::FuncCode;
use crate::translate::translate;
use crate::types::{
    AbsHeap, Composite, Heap, RefTy, SubType, Ty, coarse, ref_from, sub_type_from, ty_from,
};
use crate::{AddrType, CompileError, ExternType, FuncType, Limits, ValType};

/// A decoded, validated module (shared by every instance of it).
#[derive(Debug, Default)]
pub(crate) struct ModuleInner {
    /// Each type's value representation as a function type (empty for other types).
    pub types: Vec<FuncType>,
    /// Each type's definition, naming types by module index.
    pub defs: Vec<SubType<u32>>,
    /// The number of types of each recursion group, in order.
    pub rec_groups: Vec<u32>,
    pub imports: Vec<Import>,
    /// Type index of each function defined (not imported) by the module.
    pub funcs: Vec<u32>,
    /// Translated body of each defined function.
    pub code: Vec<Arc<FuncCode>>,
    pub tables: Vec<TableDef>,
    pub memories: Vec<MemTy>,
    /// Type index of each tag defined (not imported) by the module.
    pub tags: Vec<u32>,
    pub globals: Vec<GlobalDef>,
    pub exports: Vec<Export>,
    pub start: Option<u32>,
    pub elems: Vec<ElemSegment>,
    pub datas: Vec<DataSegment>,
}

#[derive(Debug, Clone)]
pub(crate) struct Import {
    pub module: String,
    pub name: String,
    pub desc: ImportDesc,
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum ImportDesc {
    /// A function import, by type index.
    Func(u32),
    Table(TableTy),
    Memory(MemTy),
    Global(GlobalTy),
    /// A tag, by the type index of its function type (the payload is its parameters).
    Tag(u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TableTy {
    pub element: ValType,
    /// The precise element type.
    pub def: RefTy<u32>,
    pub addr: AddrType,
    pub limits: Limits,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MemTy {
    pub addr: AddrType,
    pub limits: Limits,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct GlobalTy {
    pub ty: ValType,
    /// The precise value type.
    pub def: Ty<u32>,
    pub mutable: bool,
}

#[derive(Debug)]
pub(crate) struct TableDef {
    pub ty: TableTy,
    /// Initial value of every element (`None`: null).
    pub init: Option<ConstExpr>,
}

#[derive(Debug)]
pub(crate) struct GlobalDef {
    pub ty: GlobalTy,
    pub init: ConstExpr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ExportKind {
    Func,
    Table,
    Memory,
    Global,
    Tag,
}

#[derive(Debug)]
pub(crate) struct Export {
    pub name: String,
    pub kind: ExportKind,
    pub index: u32,
}

#[derive(Debug)]
pub(crate) enum SegmentMode {
    Passive,
    Active { index: u32, offset: ConstExpr },
    Declared,
}

#[derive(Debug)]
pub(crate) struct ElemSegment {
    pub mode: SegmentMode,
    pub items: Vec<ConstExpr>,
}

#[derive(Debug)]
pub(crate) struct DataSegment {
    pub mode: SegmentMode,
    pub bytes: Arc<[u8]>,
}

/// A constant expression (global initialisers, segment offsets and element items).
#[derive(Debug, Clone, Default)]
pub(crate) struct ConstExpr(pub Vec<ConstOp>);

#[derive(Debug, Clone, Copy)]
pub(crate) enum ConstOp {
    I32(u32),
    I64(u64),
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
    RefI31,
    StructNew(u32),
    StructNewDefault(u32),
    ArrayNew(u32),
    ArrayNewDefault(u32),
    ArrayNewFixed { ty: u32, n: u32 },
    Unsupported,
}

impl ModuleInner {
    /// The type of function `index` in the function index space.
    pub fn func_type_index(&self, index: u32) -> Option<u32> {
        let mut i = index as usize;
        for imp in &self.imports {
            if let ImportDesc::Func(t) = imp.desc {
                if i == 0 {
                    return Some(t);
                }
                i -= 1;
            }
        }
        self.funcs.get(i).copied()
    }

    pub fn extern_type_of_import(&self, desc: &ImportDesc) -> ExternType {
        match *desc {
            ImportDesc::Func(t) => ExternType::Func(self.types[t as usize].clone()),
            ImportDesc::Tag(t) => ExternType::Tag(self.types[t as usize].clone()),
            ImportDesc::Table(t) => ExternType::Table {
                element: t.element,
                addr: t.addr,
                limits: t.limits,
            },
            ImportDesc::Memory(m) => ExternType::Memory {
                addr: m.addr,
                limits: m.limits,
            },
            ImportDesc::Global(g) => ExternType::Global {
                ty: g.ty,
                mutable: g.mutable,
            },
        }
    }

    /// The type of an export, as declared by the module.
    pub fn extern_type_of_export(&self, e: &Export) -> ExternType {
        let nth_import = |pred: &dyn Fn(&ImportDesc) -> bool, i: usize| {
            self.imports
                .iter()
                .map(|imp| &imp.desc)
                .filter(|d| pred(d))
                .nth(i)
                .copied()
        };
        let idx = e.index as usize;
        match e.kind {
            ExportKind::Tag => {
                let n = self
                    .imports
                    .iter()
                    .filter(|i| matches!(i.desc, ImportDesc::Tag(_)))
                    .count();
                let t = if idx < n {
                    match nth_import(&|d| matches!(d, ImportDesc::Tag(_)), idx) {
                        Some(ImportDesc::Tag(t)) => t,
                        _ => 0,
                    }
                } else {
                    self.tags.get(idx - n).copied().unwrap_or(0)
                };
                ExternType::Tag(self.types.get(t as usize).cloned().unwrap_or(FuncType {
                    params: vec![],
                    results: vec![],
                }))
            }
            ExportKind::Func => {
                let t = self.func_type_index(e.index).unwrap_or(0) as usize;
                ExternType::Func(self.types.get(t).cloned().unwrap_or(FuncType {
                    params: vec![],
                    results: vec![],
                }))
            }
            ExportKind::Table => {
                let n = self
                    .imports
                    .iter()
                    .filter(|i| matches!(i.desc, ImportDesc::Table(_)))
                    .count();
                let t = if idx < n {
                    match nth_import(&|d| matches!(d, ImportDesc::Table(_)), idx) {
                        Some(ImportDesc::Table(t)) => t,
                        _ => unreachable_table(),
                    }
                } else {
                    self.tables
                        .get(idx - n)
                        .map(|t| t.ty)
                        .unwrap_or_else(unreachable_table)
                };
                ExternType::Table {
                    element: t.element,
                    addr: t.addr,
                    limits: t.limits,
                }
            }
            ExportKind::Memory => {
                let n = self
                    .imports
                    .iter()
                    .filter(|i| matches!(i.desc, ImportDesc::Memory(_)))
                    .count();
                let empty = MemTy {
                    addr: AddrType::I32,
                    limits: Limits { min: 0, max: None },
                };
                let m = if idx < n {
                    match nth_import(&|d| matches!(d, ImportDesc::Memory(_)), idx) {
                        Some(ImportDesc::Memory(m)) => m,
                        _ => empty,
                    }
                } else {
                    self.memories.get(idx - n).copied().unwrap_or(empty)
                };
                ExternType::Memory {
                    addr: m.addr,
                    limits: m.limits,
                }
            }
            ExportKind::Global => {
                let n = self
                    .imports
                    .iter()
                    .filter(|i| matches!(i.desc, ImportDesc::Global(_)))
                    .count();
                let g = if idx < n {
                    match nth_import(&|d| matches!(d, ImportDesc::Global(_)), idx) {
                        Some(ImportDesc::Global(g)) => g,
                        _ => GlobalTy {
                            ty: ValType::I32,
                            def: Ty::I32,
                            mutable: false,
                        },
                    }
                } else {
                    self.globals.get(idx - n).map(|g| g.ty).unwrap_or(GlobalTy {
                        ty: ValType::I32,
                        def: Ty::I32,
                        mutable: false,
                    })
                };
                ExternType::Global {
                    ty: g.ty,
                    mutable: g.mutable,
                }
            }
        }
    }
}

fn unreachable_table() -> TableTy {
    TableTy {
        element: ValType::FuncRef,
        def: RefTy {
            nullable: true,
            heap: Heap::Abs(AbsHeap::Func),
        },
        addr: AddrType::I32,
        limits: Limits { min: 0, max: None },
    }
}

/// Decode, validate and translate a binary module.
pub(crate) fn load(bytes: &[u8], features: WasmFeatures) -> Result<ModuleInner, CompileError> {
    let mut module = decode(bytes, features).map_err(|e| CompileError::Malformed(e.0))?;
    validate_and_translate(bytes, features, &mut module).map_err(classify_validation_error)?;
    Ok(module)
}

/// Some errors that the spec calls "malformed" are only detected by wasmparser's
/// validator (section order, section/count consistency). Classify them by message.
fn classify_validation_error(e: BinaryReaderError) -> CompileError {
    let msg = e.message().to_string();
    const MALFORMED: &[&str] = &[
        "out of order",
        "inconsistent lengths",
        "data count section required",
        "malformed",
        "unexpected end",
        "section id",
    ];
    if MALFORMED.iter().any(|m| msg.contains(m)) {
        CompileError::Malformed(msg)
    } else {
        CompileError::Invalid(msg)
    }
}

/// `i64` when the 64-bit flag of a table or memory type is set.
fn addr_type(is64: bool) -> AddrType {
    if is64 { AddrType::I64 } else { AddrType::I32 }
}

/// Whether type `t` of a module is a function type.
fn is_func(defs: &[SubType<u32>], t: u32) -> bool {
    matches!(
        defs.get(t as usize).map(|d| &d.composite),
        Some(Composite::Func { .. })
    )
}

fn limits_of_table(t: &wasmparser::TableType, defs: &[SubType<u32>]) -> TableTy {
    TableTy {
        element: coarse(Ty::Ref(ref_from(t.element_type)), &|i| is_func(defs, i)),
        def: ref_from(t.element_type),
        addr: addr_type(t.table64),
        limits: Limits {
            min: t.initial,
            max: t.maximum,
        },
    }
}

fn limits_of_memory(m: &wasmparser::MemoryType) -> MemTy {
    MemTy {
        addr: addr_type(m.memory64),
        limits: Limits {
            min: m.initial,
            max: m.maximum,
        },
    }
}

fn global_ty(g: &wasmparser::GlobalType, defs: &[SubType<u32>]) -> GlobalTy {
    GlobalTy {
        ty: coarse(ty_from(g.content_type), &|i| is_func(defs, i)),
        def: ty_from(g.content_type),
        mutable: g.mutable,
    }
}

/// A decoding error: the binary is malformed.
struct DecodeError(String);

impl From<BinaryReaderError> for DecodeError {
    fn from(e: BinaryReaderError) -> Self {
        DecodeError(e.message().to_string())
    }
}

/// Phase 1: decode every section and every function body. Any error is "malformed".
fn decode(bytes: &[u8], features: WasmFeatures) -> Result<ModuleInner, DecodeError> {
    let mut m = ModuleInner::default();
    let mut parser = Parser::new(0);
    parser.set_features(features);
    for payload in parser.parse_all(bytes) {
        match payload? {
            Payload::TypeSection(reader) => {
                for group in reader {
                    let group = group?;
                    m.rec_groups.push(group.types().len() as u32);
                    for sub in group.types() {
                        m.defs.push(sub_type_from(sub));
                    }
                }
                // Function types may name any type of the section: all are decoded now.
                m.types = m
                    .defs
                    .iter()
                    .map(|d| d.composite.coarse_func(&|t| is_func(&m.defs, t)))
                    .collect();
            }
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    let import = import?;
                    let desc = match import.ty {
                        TypeRef::Func(t) | TypeRef::FuncExact(t) => ImportDesc::Func(t),
                        TypeRef::Table(t) => ImportDesc::Table(limits_of_table(&t, &m.defs)),
                        TypeRef::Memory(mt) => ImportDesc::Memory(limits_of_memory(&mt)),
                        TypeRef::Global(g) => {
                            check_global_type(&g, features)?;
                            ImportDesc::Global(global_ty(&g, &m.defs))
                        }
                        TypeRef::Tag(t) => ImportDesc::Tag(t.func_type_idx),
                    };
                    m.imports.push(Import {
                        module: import.module.to_string(),
                        name: import.name.to_string(),
                        desc,
                    });
                }
            }
            Payload::FunctionSection(reader) => {
                for t in reader {
                    m.funcs.push(t?);
                }
            }
            Payload::TableSection(reader) => {
                for t in reader {
                    let t = t?;
                    let init = match t.init {
                        TableInit::RefNull => None,
                        TableInit::Expr(e) => Some(const_expr(&e, features)?),
                    };
                    m.tables.push(TableDef {
                        ty: limits_of_table(&t.ty, &m.defs),
                        init,
                    });
                }
            }
            Payload::MemorySection(reader) => {
                for mt in reader {
                    m.memories.push(limits_of_memory(&mt?));
                }
            }
            Payload::TagSection(reader) => {
                for t in reader {
                    m.tags.push(t?.func_type_idx);
                }
            }
            Payload::GlobalSection(reader) => {
                for g in reader {
                    let g = g?;
                    check_global_type(&g.ty, features)?;
                    m.globals.push(GlobalDef {
                        ty: global_ty(&g.ty, &m.defs),
                        init: const_expr(&g.init_expr, features)?,
                    });
                }
            }
            Payload::ExportSection(reader) => {
                for e in reader {
                    let e = e?;
                    let kind = match e.kind {
                        ExternalKind::Func | ExternalKind::FuncExact => ExportKind::Func,
                        ExternalKind::Table => ExportKind::Table,
                        ExternalKind::Memory => ExportKind::Memory,
                        ExternalKind::Global => ExportKind::Global,
                        ExternalKind::Tag => ExportKind::Tag,
                    };
                    m.exports.push(Export {
                        name: e.name.to_string(),
                        kind,
                        index: e.index,
                    });
                }
            }
            Payload::StartSection { func, .. } => m.start = Some(func),
            Payload::ElementSection(reader) => {
                for e in reader {
                    let e = e?;
                    let mode = match e.kind {
                        ElementKind::Passive => SegmentMode::Passive,
                        ElementKind::Declared => SegmentMode::Declared,
                        ElementKind::Active {
                            table_index,
                            offset_expr,
                        } => SegmentMode::Active {
                            index: table_index.unwrap_or(0),
                            offset: const_expr(&offset_expr, features)?,
                        },
                    };
                    let items = match e.items {
                        ElementItems::Functions(funcs) => {
                            let mut items = Vec::new();
                            for f in funcs {
                                items.push(ConstExpr(vec![ConstOp::RefFunc(f?)]));
                            }
                            items
                        }
                        ElementItems::Expressions(_, exprs) => {
                            let mut items = Vec::new();
                            for e in exprs {
                                items.push(const_expr(&e?, features)?);
                            }
                            items
                        }
                    };
                    m.elems.push(ElemSegment { mode, items });
                }
            }
            Payload::DataSection(reader) => {
                for d in reader {
                    let d = d?;
                    let mode = match d.kind {
                        DataKind::Passive => SegmentMode::Passive,
                        DataKind::Active {
                            memory_index,
                            offset_expr,
                        } => SegmentMode::Active {
                            index: memory_index,
                            offset: const_expr(&offset_expr, features)?,
                        },
                    };
                    m.datas.push(DataSegment {
                        mode,
                        bytes: Arc::from(d.data),
                    });
                }
            }
            Payload::CodeSectionEntry(body) => {
                let mut locals = body.get_locals_reader()?;
                for _ in 0..locals.get_count() {
                    locals.read()?;
                }
                let mut ops = body.get_operators_reader()?;
                while !ops.eof() {
                    let op = ops.read()?;
                    check_opcode(&op, features)?;
                    check_memarg(&op)?;
                }
                ops.finish()?;
            }
            Payload::UnknownSection { id, .. } => {
                return Err(DecodeError(format!("malformed section id: {id}")));
            }
            _ => {}
        }
    }
    Ok(m)
}

/// The binary format's mutability byte is 0 or 1; wasmparser reads bit 1 as "shared", which
/// only exists with the shared-everything-threads proposal. Without it, it is malformed.
fn check_global_type(
    g: &wasmparser::GlobalType,
    features: WasmFeatures,
) -> Result<(), DecodeError> {
    if g.shared && !features.shared_everything_threads() {
        return Err(DecodeError("malformed mutability".to_string()));
    }
    Ok(())
}

// `operator_proposal`: the proposal that introduced an operator, generated from wasmparser's
// own operator list.
macro_rules! define_operator_proposal {
    ($( @$proposal:ident $op:ident $({ $($arg:ident: $argty:ty),* })? => $visit:ident ($($ann:tt)*) )*) => {
        fn operator_proposal(op: &Operator<'_>) -> &'static str {
            #[allow(unreachable_patterns)]
            match op {
                $( Operator::$op { .. } => stringify!($proposal), )*
                _ => "unknown",
            }
        }
    };
}
wasmparser::for_each_operator!(define_operator_proposal);

/// An opcode of a proposal that is not enabled does not exist: the binary is malformed
/// ("illegal opcode"), not invalid.
fn check_opcode(op: &Operator<'_>, features: WasmFeatures) -> Result<(), DecodeError> {
    let enabled = match operator_proposal(op) {
        "sign_extension" => features.sign_extension(),
        "saturating_float_to_int" => features.saturating_float_to_int(),
        "bulk_memory" => features.bulk_memory(),
        "reference_types" => features.reference_types(),
        "simd" => features.simd(),
        "relaxed_simd" => features.relaxed_simd(),
        "threads" => features.threads(),
        "gc" => features.gc(),
        "exceptions" => features.exceptions(),
        "legacy_exceptions" => features.legacy_exceptions(),
        "tail_call" => features.tail_call(),
        "function_references" => features.function_references(),
        "wide_arithmetic" => features.wide_arithmetic(),
        "stack_switching" => features.stack_switching(),
        // The MVP, and proposals the oracle does not know of: validation decides.
        _ => true,
    };
    if enabled {
        Ok(())
    } else {
        Err(DecodeError(format!("illegal opcode: {op:?}")))
    }
}

/// A memory immediate's alignment exponent must fit the binary format's range: an
/// alignment of 2^32 or more is malformed (2^31 is merely invalid).
fn check_memarg(op: &Operator<'_>) -> Result<(), DecodeError> {
    use Operator as O;
    let memarg = match op {
        O::I32Load { memarg }
        | O::I64Load { memarg }
        | O::F32Load { memarg }
        | O::F64Load { memarg }
        | O::I32Load8S { memarg }
        | O::I32Load8U { memarg }
        | O::I32Load16S { memarg }
        | O::I32Load16U { memarg }
        | O::I64Load8S { memarg }
        | O::I64Load8U { memarg }
        | O::I64Load16S { memarg }
        | O::I64Load16U { memarg }
        | O::I64Load32S { memarg }
        | O::I64Load32U { memarg }
        | O::I32Store { memarg }
        | O::I64Store { memarg }
        | O::F32Store { memarg }
        | O::F64Store { memarg }
        | O::I32Store8 { memarg }
        | O::I32Store16 { memarg }
        | O::I64Store8 { memarg }
        | O::I64Store16 { memarg }
        | O::I64Store32 { memarg } => memarg,
        _ => return Ok(()),
    };
    if memarg.align >= 32 {
        return Err(DecodeError("malformed memop flags".to_string()));
    }
    Ok(())
}

/// Decode a constant expression into [`ConstOp`]s.
fn const_expr(
    e: &wasmparser::ConstExpr<'_>,
    features: WasmFeatures,
) -> Result<ConstExpr, DecodeError> {
    let mut ops = e.get_operators_reader();
    let mut out = Vec::new();
    while !ops.eof() {
        let op = ops.read()?;
        check_opcode(&op, features)?;
        out.push(match op {
            Operator::End => continue,
            Operator::I32Const { value } => ConstOp::I32(value as u32),
            Operator::I64Const { value } => ConstOp::I64(value as u64),
            Operator::F32Const { value } => ConstOp::F32(value.bits()),
            Operator::F64Const { value } => ConstOp::F64(value.bits()),
            Operator::V128Const { value } => ConstOp::V128(value.i128() as u128),
            Operator::RefNull { .. } => ConstOp::RefNull,
            Operator::RefFunc { function_index } => ConstOp::RefFunc(function_index),
            Operator::GlobalGet { global_index } => ConstOp::GlobalGet(global_index),
            Operator::I32Add => ConstOp::I32Add,
            Operator::I32Sub => ConstOp::I32Sub,
            Operator::I32Mul => ConstOp::I32Mul,
            Operator::I64Add => ConstOp::I64Add,
            Operator::I64Sub => ConstOp::I64Sub,
            Operator::I64Mul => ConstOp::I64Mul,
            Operator::RefI31 => ConstOp::RefI31,
            Operator::StructNew { struct_type_index } => ConstOp::StructNew(struct_type_index),
            Operator::StructNewDefault { struct_type_index } => {
                ConstOp::StructNewDefault(struct_type_index)
            }
            Operator::ArrayNew { array_type_index } => ConstOp::ArrayNew(array_type_index),
            Operator::ArrayNewDefault { array_type_index } => {
                ConstOp::ArrayNewDefault(array_type_index)
            }
            Operator::ArrayNewFixed {
                array_type_index,
                array_size,
            } => ConstOp::ArrayNewFixed {
                ty: array_type_index,
                n: array_size,
            },
            // The slot encoding tells the kinds apart: the conversions change nothing.
            Operator::AnyConvertExtern | Operator::ExternConvertAny => continue,
            _ => ConstOp::Unsupported,
        });
    }
    Ok(ConstExpr(out))
}

/// Phase 2: validate the module; translate each function body while validating it, using
/// the validator's operand-stack height to resolve label heights.
fn validate_and_translate(
    bytes: &[u8],
    features: WasmFeatures,
    m: &mut ModuleInner,
) -> Result<(), BinaryReaderError> {
    let mut validator = Validator::new_with_features(features);
    let mut parser = Parser::new(0);
    parser.set_features(features);
    for payload in parser.parse_all(bytes) {
        let payload = payload?;
        if let ValidPayload::Func(func, body) = validator.payload(&payload)? {
            let defined = m.code.len();
            let type_index = m.funcs.get(defined).copied().unwrap_or(0);
            let ty = m
                .types
                .get(type_index as usize)
                .cloned()
                .unwrap_or(FuncType {
                    params: vec![],
                    results: vec![],
                });
            let v = func.into_validator(Default::default());
            let code = translate(v, &body, &m.types, &ty)?;
            m.code.push(Arc::new(code));
        }
    }
    Ok(())
}
