//! Loading a module: decode (malformed?), validate (invalid?), then a pre-pass that turns
//! every function body into a flat [`Instr`] vector with resolved branch targets.
//!
//! Decoding and validation both use `wasmparser`; the oracle takes nothing else from outside.
//! The whole binary is decoded first, so that a malformed section anywhere wins over an
//! invalid one earlier, as in the spec's two-phase "decode, then validate".

use std::sync::Arc;

use wasmparser::{
    BinaryReaderError, BlockType, CompositeInnerType, DataKind, ElementItems, ElementKind,
    ExternalKind, FuncValidator, FunctionBody, Operator, Parser, Payload, TableInit, TypeRef,
    ValidPayload, Validator, ValidatorResources, WasmFeatures,
};

use crate::instr::{Branch, Instr, MemArg, SimdLaneOp, SimdMemLaneOp, SimdMemOp, SimdOp};
use crate::value::{heaptype_from, reftype_from, valtype_from};
use crate::{CompileError, ExternType, FuncType, Limits, ValType};

/// A decoded, validated module (shared by every instance of it).
#[derive(Debug, Default)]
pub(crate) struct ModuleInner {
    pub types: Vec<FuncType>,
    pub imports: Vec<Import>,
    /// Type index of each function defined (not imported) by the module.
    pub funcs: Vec<u32>,
    /// Translated body of each defined function.
    pub code: Vec<Arc<FuncCode>>,
    pub tables: Vec<TableDef>,
    pub memories: Vec<Limits>,
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
    Memory(Limits),
    Global(GlobalTy),
    /// An import kind the oracle does not support (tags): never links.
    Unsupported,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TableTy {
    pub element: ValType,
    pub limits: Limits,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct GlobalTy {
    pub ty: ValType,
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
    Unsupported,
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
    RefNull(ValType),
    RefFunc(u32),
    GlobalGet(u32),
    I32Add,
    I32Sub,
    I32Mul,
    I64Add,
    I64Sub,
    I64Mul,
    Unsupported,
}

/// A function body after the pre-pass.
#[derive(Debug)]
pub(crate) struct FuncCode {
    /// Number of parameters (they are the first locals).
    pub params: usize,
    /// Number of results.
    pub results: usize,
    /// Number of declared (non-parameter) locals.
    pub locals: usize,
    pub instrs: Vec<Instr>,
    /// Targets of all `br_table`s of the function (see [`Instr::BrTable`]).
    pub br_tables: Vec<Branch>,
    /// 16-byte immediates of `v128.const` and `i8x16.shuffle` (see [`Instr::V128Const`]).
    pub v128s: Vec<u128>,
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
            ImportDesc::Unsupported => ExternType::Func(FuncType {
                params: vec![],
                results: vec![],
            }),
            ImportDesc::Table(t) => ExternType::Table {
                element: t.element,
                limits: t.limits,
            },
            ImportDesc::Memory(limits) => ExternType::Memory { limits },
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
            ExportKind::Func | ExportKind::Unsupported => {
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
                    limits: t.limits,
                }
            }
            ExportKind::Memory => {
                let n = self
                    .imports
                    .iter()
                    .filter(|i| matches!(i.desc, ImportDesc::Memory(_)))
                    .count();
                let limits = if idx < n {
                    match nth_import(&|d| matches!(d, ImportDesc::Memory(_)), idx) {
                        Some(ImportDesc::Memory(l)) => l,
                        _ => Limits { min: 0, max: None },
                    }
                } else {
                    self.memories
                        .get(idx - n)
                        .copied()
                        .unwrap_or(Limits { min: 0, max: None })
                };
                ExternType::Memory { limits }
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
                            mutable: false,
                        },
                    }
                } else {
                    self.globals.get(idx - n).map(|g| g.ty).unwrap_or(GlobalTy {
                        ty: ValType::I32,
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

fn limits_of_table(t: &wasmparser::TableType) -> TableTy {
    TableTy {
        element: reftype_from(t.element_type),
        limits: Limits {
            min: t.initial,
            max: t.maximum,
        },
    }
}

fn limits_of_memory(m: &wasmparser::MemoryType) -> Limits {
    Limits {
        min: m.initial,
        max: m.maximum,
    }
}

fn global_ty(g: &wasmparser::GlobalType) -> GlobalTy {
    GlobalTy {
        ty: valtype_from(g.content_type),
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
                    for sub in group?.types() {
                        m.types.push(match &sub.composite_type.inner {
                            CompositeInnerType::Func(f) => FuncType {
                                params: f.params().iter().map(|t| valtype_from(*t)).collect(),
                                results: f.results().iter().map(|t| valtype_from(*t)).collect(),
                            },
                            _ => FuncType {
                                params: vec![],
                                results: vec![],
                            },
                        });
                    }
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    let import = import?;
                    let desc = match import.ty {
                        TypeRef::Func(t) | TypeRef::FuncExact(t) => ImportDesc::Func(t),
                        TypeRef::Table(t) => ImportDesc::Table(limits_of_table(&t)),
                        TypeRef::Memory(mt) => ImportDesc::Memory(limits_of_memory(&mt)),
                        TypeRef::Global(g) => {
                            check_global_type(&g, features)?;
                            ImportDesc::Global(global_ty(&g))
                        }
                        TypeRef::Tag(_) => ImportDesc::Unsupported,
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
                        ty: limits_of_table(&t.ty),
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
                    t?;
                }
            }
            Payload::GlobalSection(reader) => {
                for g in reader {
                    let g = g?;
                    check_global_type(&g.ty, features)?;
                    m.globals.push(GlobalDef {
                        ty: global_ty(&g.ty),
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
                        ExternalKind::Tag => ExportKind::Unsupported,
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
            Operator::RefNull { hty } => ConstOp::RefNull(heaptype_from(hty)),
            Operator::RefFunc { function_index } => ConstOp::RefFunc(function_index),
            Operator::GlobalGet { global_index } => ConstOp::GlobalGet(global_index),
            Operator::I32Add => ConstOp::I32Add,
            Operator::I32Sub => ConstOp::I32Sub,
            Operator::I32Mul => ConstOp::I32Mul,
            Operator::I64Add => ConstOp::I64Add,
            Operator::I64Sub => ConstOp::I64Sub,
            Operator::I64Mul => ConstOp::I64Mul,
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
            let code = translate(v, &body, m, &ty)?;
            m.code.push(Arc::new(code));
        }
    }
    Ok(())
}

/// A label of the pre-pass's control stack.
struct Ctrl {
    kind: CtrlKind,
    /// Operand-stack height below the label's parameters.
    height: u32,
    params: u32,
    results: u32,
    /// First instruction of a loop (a branch to a loop goes back there).
    start: u32,
    /// Forward branches to patch with the `end` position.
    fixups: Vec<Fixup>,
    /// The `BrUnless` of an `if`, to patch with the `else` (or `end`) position.
    if_fixup: Option<usize>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum CtrlKind {
    Function,
    Block,
    Loop,
    If,
}

enum Fixup {
    Instr(usize),
    Table(usize),
}

struct Translator<'m> {
    module: &'m ModuleInner,
    instrs: Vec<Instr>,
    br_tables: Vec<Branch>,
    v128s: Vec<u128>,
    ctrls: Vec<Ctrl>,
}

impl Translator<'_> {
    fn pc(&self) -> u32 {
        self.instrs.len() as u32
    }

    fn block_arity(&self, bt: BlockType) -> (u32, u32) {
        match bt {
            BlockType::Empty => (0, 0),
            BlockType::Type(_) => (0, 1),
            BlockType::FuncType(t) => match self.module.types.get(t as usize) {
                Some(f) => (f.params.len() as u32, f.results.len() as u32),
                None => (0, 0),
            },
        }
    }

    fn push_ctrl(&mut self, kind: CtrlKind, height: u32, bt: BlockType) {
        let (params, results) = self.block_arity(bt);
        let start = self.pc();
        self.ctrls.push(Ctrl {
            kind,
            height: height.saturating_sub(params),
            params,
            results,
            start,
            fixups: Vec::new(),
            if_fixup: None,
        });
    }

    /// Resolve the label at `depth`. Forward targets are recorded for patching with `fixup`.
    fn branch(&mut self, depth: u32, fixup: Fixup) -> Branch {
        let i = self.ctrls.len().saturating_sub(1 + depth as usize);
        let ctrl = &mut self.ctrls[i];
        match ctrl.kind {
            CtrlKind::Function => Branch {
                target: Branch::RETURN,
                height: 0,
                arity: ctrl.results,
            },
            CtrlKind::Loop => Branch {
                target: ctrl.start,
                height: ctrl.height,
                arity: ctrl.params,
            },
            CtrlKind::Block | CtrlKind::If => {
                ctrl.fixups.push(fixup);
                Branch {
                    target: 0,
                    height: ctrl.height,
                    arity: ctrl.results,
                }
            }
        }
    }

    fn patch(&mut self, fixup: Fixup, target: u32) {
        match fixup {
            Fixup::Instr(i) => match &mut self.instrs[i] {
                Instr::Br(b) | Instr::BrIf(b) => b.target = target,
                Instr::Jump(t) | Instr::BrUnless(t) => *t = target,
                _ => {}
            },
            Fixup::Table(i) => self.br_tables[i].target = target,
        }
    }

    fn end(&mut self) {
        let Some(ctrl) = self.ctrls.pop() else { return };
        if ctrl.kind == CtrlKind::Function {
            self.instrs.push(Instr::Return);
            return;
        }
        let here = self.pc();
        if let Some(i) = ctrl.if_fixup {
            self.patch(Fixup::Instr(i), here);
        }
        for f in ctrl.fixups {
            self.patch(f, here);
        }
    }

    fn else_(&mut self) {
        let jump = self.instrs.len();
        self.instrs.push(Instr::Jump(0));
        let here = self.pc();
        if let Some(ctrl) = self.ctrls.last_mut() {
            ctrl.fixups.push(Fixup::Instr(jump));
            if let Some(i) = ctrl.if_fixup.take() {
                self.patch(Fixup::Instr(i), here);
            }
        }
    }

    /// Translate one operator; `height` is the operand-stack height before it.
    fn op(&mut self, op: &Operator<'_>, height: u32) {
        use Operator as O;
        let memarg = |m: &wasmparser::MemArg| -> Option<MemArg> {
            Some(MemArg {
                offset: u32::try_from(m.offset).ok()?,
                mem: match m.target {
                    wasmparser::MemArgTarget::Memory(i) => i,
                    wasmparser::MemArgTarget::Array(_) => return None,
                },
            })
        };
        macro_rules! mem {
            ($variant:ident, $m:expr) => {
                match memarg($m) {
                    Some(m) => Instr::$variant(m),
                    None => Instr::Unsupported,
                }
            };
        }
        let instr = match op {
            O::Unreachable => Instr::Unreachable,
            O::Nop => return,
            O::Block { blockty } => {
                self.push_ctrl(CtrlKind::Block, height, *blockty);
                return;
            }
            O::Loop { blockty } => {
                self.push_ctrl(CtrlKind::Loop, height, *blockty);
                return;
            }
            O::If { blockty } => {
                let at = self.instrs.len();
                self.instrs.push(Instr::BrUnless(0));
                self.push_ctrl(CtrlKind::If, height.saturating_sub(1), *blockty);
                if let Some(c) = self.ctrls.last_mut() {
                    c.if_fixup = Some(at);
                }
                return;
            }
            O::Else => {
                self.else_();
                return;
            }
            O::End => {
                self.end();
                return;
            }
            O::Br { relative_depth } => {
                let at = self.instrs.len();
                Instr::Br(self.branch(*relative_depth, Fixup::Instr(at)))
            }
            O::BrIf { relative_depth } => {
                let at = self.instrs.len();
                Instr::BrIf(self.branch(*relative_depth, Fixup::Instr(at)))
            }
            O::BrTable { targets } => {
                let start = self.br_tables.len() as u32;
                let depths: Vec<u32> = targets
                    .targets()
                    .filter_map(|t| t.ok())
                    .chain(std::iter::once(targets.default()))
                    .collect();
                for d in depths {
                    let at = self.br_tables.len();
                    let b = self.branch(d, Fixup::Table(at));
                    self.br_tables.push(b);
                }
                Instr::BrTable {
                    start,
                    len: self.br_tables.len() as u32 - start,
                }
            }
            O::Return => Instr::Return,
            O::Call { function_index } => Instr::Call(*function_index),
            O::CallIndirect {
                type_index,
                table_index,
            } => Instr::CallIndirect {
                type_index: *type_index,
                table: *table_index,
            },
            O::Drop => Instr::Drop,
            O::Select | O::TypedSelect { .. } => Instr::Select,
            O::LocalGet { local_index } => Instr::LocalGet(*local_index),
            O::LocalSet { local_index } => Instr::LocalSet(*local_index),
            O::LocalTee { local_index } => Instr::LocalTee(*local_index),
            O::GlobalGet { global_index } => Instr::GlobalGet(*global_index),
            O::GlobalSet { global_index } => Instr::GlobalSet(*global_index),
            O::TableGet { table } => Instr::TableGet(*table),
            O::TableSet { table } => Instr::TableSet(*table),
            O::TableSize { table } => Instr::TableSize(*table),
            O::TableGrow { table } => Instr::TableGrow(*table),
            O::TableFill { table } => Instr::TableFill(*table),
            O::TableCopy {
                dst_table,
                src_table,
            } => Instr::TableCopy {
                dst: *dst_table,
                src: *src_table,
            },
            O::TableInit { elem_index, table } => Instr::TableInit {
                elem: *elem_index,
                table: *table,
            },
            O::ElemDrop { elem_index } => Instr::ElemDrop(*elem_index),
            O::I32Load { memarg } => mem!(I32Load, memarg),
            O::I64Load { memarg } => mem!(I64Load, memarg),
            O::F32Load { memarg } => mem!(F32Load, memarg),
            O::F64Load { memarg } => mem!(F64Load, memarg),
            O::I32Load8S { memarg } => mem!(I32Load8S, memarg),
            O::I32Load8U { memarg } => mem!(I32Load8U, memarg),
            O::I32Load16S { memarg } => mem!(I32Load16S, memarg),
            O::I32Load16U { memarg } => mem!(I32Load16U, memarg),
            O::I64Load8S { memarg } => mem!(I64Load8S, memarg),
            O::I64Load8U { memarg } => mem!(I64Load8U, memarg),
            O::I64Load16S { memarg } => mem!(I64Load16S, memarg),
            O::I64Load16U { memarg } => mem!(I64Load16U, memarg),
            O::I64Load32S { memarg } => mem!(I64Load32S, memarg),
            O::I64Load32U { memarg } => mem!(I64Load32U, memarg),
            O::I32Store { memarg } => mem!(I32Store, memarg),
            O::I64Store { memarg } => mem!(I64Store, memarg),
            O::F32Store { memarg } => mem!(F32Store, memarg),
            O::F64Store { memarg } => mem!(F64Store, memarg),
            O::I32Store8 { memarg } => mem!(I32Store8, memarg),
            O::I32Store16 { memarg } => mem!(I32Store16, memarg),
            O::I64Store8 { memarg } => mem!(I64Store8, memarg),
            O::I64Store16 { memarg } => mem!(I64Store16, memarg),
            O::I64Store32 { memarg } => mem!(I64Store32, memarg),
            O::MemorySize { mem } => Instr::MemorySize(*mem),
            O::MemoryGrow { mem } => Instr::MemoryGrow(*mem),
            O::MemoryInit { data_index, mem } => Instr::MemoryInit {
                data: *data_index,
                mem: *mem,
            },
            O::DataDrop { data_index } => Instr::DataDrop(*data_index),
            O::MemoryCopy { dst_mem, src_mem } => Instr::MemoryCopy {
                dst: *dst_mem,
                src: *src_mem,
            },
            O::MemoryFill { mem } => Instr::MemoryFill(*mem),
            O::RefNull { .. } => Instr::RefNull,
            O::RefIsNull => Instr::RefIsNull,
            O::RefFunc { function_index } => Instr::RefFunc(*function_index),
            O::I32Const { value } => Instr::Const32(*value as u32),
            O::I64Const { value } => Instr::Const64(*value as u64),
            O::F32Const { value } => Instr::Const32(value.bits()),
            O::F64Const { value } => Instr::Const64(value.bits()),
            O::I32Eqz => Instr::I32Eqz,
            O::I32Eq => Instr::I32Eq,
            O::I32Ne => Instr::I32Ne,
            O::I32LtS => Instr::I32LtS,
            O::I32LtU => Instr::I32LtU,
            O::I32GtS => Instr::I32GtS,
            O::I32GtU => Instr::I32GtU,
            O::I32LeS => Instr::I32LeS,
            O::I32LeU => Instr::I32LeU,
            O::I32GeS => Instr::I32GeS,
            O::I32GeU => Instr::I32GeU,
            O::I64Eqz => Instr::I64Eqz,
            O::I64Eq => Instr::I64Eq,
            O::I64Ne => Instr::I64Ne,
            O::I64LtS => Instr::I64LtS,
            O::I64LtU => Instr::I64LtU,
            O::I64GtS => Instr::I64GtS,
            O::I64GtU => Instr::I64GtU,
            O::I64LeS => Instr::I64LeS,
            O::I64LeU => Instr::I64LeU,
            O::I64GeS => Instr::I64GeS,
            O::I64GeU => Instr::I64GeU,
            O::F32Eq => Instr::F32Eq,
            O::F32Ne => Instr::F32Ne,
            O::F32Lt => Instr::F32Lt,
            O::F32Gt => Instr::F32Gt,
            O::F32Le => Instr::F32Le,
            O::F32Ge => Instr::F32Ge,
            O::F64Eq => Instr::F64Eq,
            O::F64Ne => Instr::F64Ne,
            O::F64Lt => Instr::F64Lt,
            O::F64Gt => Instr::F64Gt,
            O::F64Le => Instr::F64Le,
            O::F64Ge => Instr::F64Ge,
            O::I32Clz => Instr::I32Clz,
            O::I32Ctz => Instr::I32Ctz,
            O::I32Popcnt => Instr::I32Popcnt,
            O::I32Add => Instr::I32Add,
            O::I32Sub => Instr::I32Sub,
            O::I32Mul => Instr::I32Mul,
            O::I32DivS => Instr::I32DivS,
            O::I32DivU => Instr::I32DivU,
            O::I32RemS => Instr::I32RemS,
            O::I32RemU => Instr::I32RemU,
            O::I32And => Instr::I32And,
            O::I32Or => Instr::I32Or,
            O::I32Xor => Instr::I32Xor,
            O::I32Shl => Instr::I32Shl,
            O::I32ShrS => Instr::I32ShrS,
            O::I32ShrU => Instr::I32ShrU,
            O::I32Rotl => Instr::I32Rotl,
            O::I32Rotr => Instr::I32Rotr,
            O::I64Clz => Instr::I64Clz,
            O::I64Ctz => Instr::I64Ctz,
            O::I64Popcnt => Instr::I64Popcnt,
            O::I64Add => Instr::I64Add,
            O::I64Sub => Instr::I64Sub,
            O::I64Mul => Instr::I64Mul,
            O::I64DivS => Instr::I64DivS,
            O::I64DivU => Instr::I64DivU,
            O::I64RemS => Instr::I64RemS,
            O::I64RemU => Instr::I64RemU,
            O::I64And => Instr::I64And,
            O::I64Or => Instr::I64Or,
            O::I64Xor => Instr::I64Xor,
            O::I64Shl => Instr::I64Shl,
            O::I64ShrS => Instr::I64ShrS,
            O::I64ShrU => Instr::I64ShrU,
            O::I64Rotl => Instr::I64Rotl,
            O::I64Rotr => Instr::I64Rotr,
            O::F32Abs => Instr::F32Abs,
            O::F32Neg => Instr::F32Neg,
            O::F32Ceil => Instr::F32Ceil,
            O::F32Floor => Instr::F32Floor,
            O::F32Trunc => Instr::F32Trunc,
            O::F32Nearest => Instr::F32Nearest,
            O::F32Sqrt => Instr::F32Sqrt,
            O::F32Add => Instr::F32Add,
            O::F32Sub => Instr::F32Sub,
            O::F32Mul => Instr::F32Mul,
            O::F32Div => Instr::F32Div,
            O::F32Min => Instr::F32Min,
            O::F32Max => Instr::F32Max,
            O::F32Copysign => Instr::F32Copysign,
            O::F64Abs => Instr::F64Abs,
            O::F64Neg => Instr::F64Neg,
            O::F64Ceil => Instr::F64Ceil,
            O::F64Floor => Instr::F64Floor,
            O::F64Trunc => Instr::F64Trunc,
            O::F64Nearest => Instr::F64Nearest,
            O::F64Sqrt => Instr::F64Sqrt,
            O::F64Add => Instr::F64Add,
            O::F64Sub => Instr::F64Sub,
            O::F64Mul => Instr::F64Mul,
            O::F64Div => Instr::F64Div,
            O::F64Min => Instr::F64Min,
            O::F64Max => Instr::F64Max,
            O::F64Copysign => Instr::F64Copysign,
            O::I32WrapI64 => Instr::I32WrapI64,
            O::I32TruncF32S => Instr::I32TruncF32S,
            O::I32TruncF32U => Instr::I32TruncF32U,
            O::I32TruncF64S => Instr::I32TruncF64S,
            O::I32TruncF64U => Instr::I32TruncF64U,
            O::I64ExtendI32S => Instr::I64ExtendI32S,
            O::I64ExtendI32U => Instr::I64ExtendI32U,
            O::I64TruncF32S => Instr::I64TruncF32S,
            O::I64TruncF32U => Instr::I64TruncF32U,
            O::I64TruncF64S => Instr::I64TruncF64S,
            O::I64TruncF64U => Instr::I64TruncF64U,
            O::F32ConvertI32S => Instr::F32ConvertI32S,
            O::F32ConvertI32U => Instr::F32ConvertI32U,
            O::F32ConvertI64S => Instr::F32ConvertI64S,
            O::F32ConvertI64U => Instr::F32ConvertI64U,
            O::F32DemoteF64 => Instr::F32DemoteF64,
            O::F64ConvertI32S => Instr::F64ConvertI32S,
            O::F64ConvertI32U => Instr::F64ConvertI32U,
            O::F64ConvertI64S => Instr::F64ConvertI64S,
            O::F64ConvertI64U => Instr::F64ConvertI64U,
            O::F64PromoteF32 => Instr::F64PromoteF32,
            O::I32ReinterpretF32
            | O::I64ReinterpretF64
            | O::F32ReinterpretI32
            | O::F64ReinterpretI64 => Instr::Reinterpret,
            O::I32Extend8S => Instr::I32Extend8S,
            O::I32Extend16S => Instr::I32Extend16S,
            O::I64Extend8S => Instr::I64Extend8S,
            O::I64Extend16S => Instr::I64Extend16S,
            O::I64Extend32S => Instr::I64Extend32S,
            O::I32TruncSatF32S => Instr::I32TruncSatF32S,
            O::I32TruncSatF32U => Instr::I32TruncSatF32U,
            O::I32TruncSatF64S => Instr::I32TruncSatF64S,
            O::I32TruncSatF64U => Instr::I32TruncSatF64U,
            O::I64TruncSatF32S => Instr::I64TruncSatF32S,
            O::I64TruncSatF32U => Instr::I64TruncSatF32U,
            O::I64TruncSatF64S => Instr::I64TruncSatF64S,
            O::I64TruncSatF64U => Instr::I64TruncSatF64U,
            O::V128Const { value } => {
                self.v128s.push(value.i128() as u128);
                Instr::V128Const(self.v128s.len() as u32 - 1)
            }
            O::I8x16Shuffle { lanes } => {
                self.v128s.push(u128::from_le_bytes(*lanes));
                Instr::I8x16Shuffle(self.v128s.len() as u32 - 1)
            }
            _ => {
                if let Some(op) = SimdOp::from_operator(op) {
                    Instr::Simd(op)
                } else if let Some((op, lane)) = SimdLaneOp::from_operator(op) {
                    Instr::SimdLane(op, lane)
                } else if let Some((op, m)) = SimdMemOp::from_operator(op) {
                    match memarg(m) {
                        Some(m) => Instr::SimdMem(op, m),
                        None => Instr::Unsupported,
                    }
                } else if let Some((op, lane, m)) = SimdMemLaneOp::from_operator(op) {
                    match memarg(m) {
                        Some(m) => Instr::SimdMemLane(op, lane, m),
                        None => Instr::Unsupported,
                    }
                } else {
                    Instr::Unsupported
                }
            }
        };
        self.instrs.push(instr);
    }
}

/// Validate one function body operator by operator and translate it.
fn translate(
    mut v: FuncValidator<ValidatorResources>,
    body: &FunctionBody<'_>,
    module: &ModuleInner,
    ty: &FuncType,
) -> Result<FuncCode, BinaryReaderError> {
    let mut locals = 0usize;
    let mut reader = body.get_locals_reader()?;
    for _ in 0..reader.get_count() {
        let offset = reader.original_position();
        let (count, t) = reader.read()?;
        v.define_locals(offset, count, t)?;
        locals += count as usize;
    }
    let mut t = Translator {
        module,
        instrs: Vec::new(),
        br_tables: Vec::new(),
        v128s: Vec::new(),
        ctrls: vec![Ctrl {
            kind: CtrlKind::Function,
            height: 0,
            params: 0,
            results: ty.results.len() as u32,
            start: 0,
            fixups: Vec::new(),
            if_fixup: None,
        }],
    };
    let mut ops = body.get_operators_reader()?;
    while !ops.eof() {
        let (op, offset) = ops.read_with_offset()?;
        let height = v.operand_stack_height();
        v.op(offset, &op)?;
        t.op(&op, height);
    }
    ops.finish()?;
    Ok(FuncCode {
        params: ty.params.len(),
        results: ty.results.len(),
        locals,
        instrs: t.instrs,
        br_tables: t.br_tables,
        v128s: t.v128s,
    })
}
