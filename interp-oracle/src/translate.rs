//! The pre-pass: one function body, as wasmparser decodes it, becomes the flat instruction
//! vector of `instr.rs` (see there for the shape). It runs while the body is validated,
//! operator by operator, because the validator's operand-stack height before each operator
//! is what resolves the height of every label.

use wasmparser::{
    BinaryReaderError, BlockType, FuncValidator, FunctionBody, Operator, ValidatorResources,
};

use std::mem;

use crate::instr::{
    Addr, BinOp, Branch, Cast, Catch, Cmp, FuncCode, Handlers, Instr, IntOp, Load, MemArg, Region,
    RelaxedBinary, RelaxedTernary, RelaxedUnary, Rhs, Sign, SimdBinary, SimdExtractLane, SimdLoad,
    SimdMemLaneOp, SimdReplaceLane, SimdShift, SimdTernary, SimdUnary, Width,
};
use crate::types::{RefTy, heap_from};
use crate::{FuncType, ValType};

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
    /// A `try_table` or legacy `try`: its region in `Translator::regions`.
    region: Option<usize>,
    /// A legacy `try`: the hidden local its `catch` clauses keep the exception in.
    exn_local: Option<u32>,
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
    /// Catch clause `.1` of region `.0`.
    Catch(usize, usize),
    /// The branch of cast `.0`.
    Cast(usize),
}

struct Translator<'m> {
    /// The module's types (for block types given by index).
    types: &'m [FuncType],
    instrs: Vec<Instr>,
    br_tables: Vec<Branch>,
    v128s: Vec<u128>,
    casts: Vec<Cast>,
    regions: Vec<Region>,
    ctrls: Vec<Ctrl>,
    /// The index of the next hidden local (after the parameters and declared locals).
    next_local: u32,
    /// For each parameter and declared local: whether it is of a number type, so that its
    /// `local.*` instructions move 64 bits (see `Instr::LocalGet`).
    number_locals: Vec<bool>,
    /// Whether the last instruction may be fused with the next: it was emitted by `emit` and
    /// no label, region or branch fixup has pointed at the pc after it since.
    fusable: bool,
}

impl Translator<'_> {
    fn is_number_local(&self, i: u32) -> bool {
        self.number_locals.get(i as usize) == Some(&true)
    }

    fn pc(&self) -> u32 {
        self.instrs.len() as u32
    }

    fn block_arity(&self, bt: BlockType) -> (u32, u32) {
        match bt {
            BlockType::Empty => (0, 0),
            BlockType::Type(_) => (0, 1),
            BlockType::FuncType(t) => match self.types.get(t as usize) {
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
            region: None,
            exn_local: None,
        });
    }

    /// Record a cast to `(ref null? hty)`, with the branch of label `depth` for `br_on_cast*`.
    fn cast(&mut self, nullable: bool, hty: wasmparser::HeapType, depth: Option<u32>) -> u32 {
        let at = self.casts.len();
        let branch = match depth {
            Some(d) => self.branch(d, Fixup::Cast(at)),
            None => Branch {
                target: 0,
                height: 0,
                arity: 0,
            },
        };
        self.casts.push(Cast {
            to: RefTy {
                nullable,
                heap: heap_from(hty),
            },
            branch,
        });
        at as u32
    }

    /// Begin the region of a try body, whose handlers are added as they are translated.
    fn open_region(&mut self, handlers: Handlers) -> usize {
        self.regions.push(Region {
            start: self.pc(),
            end: u32::MAX,
            depth: self.ctrls.len() as u32,
            handlers,
        });
        self.regions.len() - 1
    }

    /// End the innermost try's region here, if it is still open.
    fn close_region(&mut self) {
        let here = self.pc();
        if let Some(r) = self.ctrls.last().and_then(|c| c.region) {
            let region = &mut self.regions[r];
            if region.end == u32::MAX {
                region.end = here;
            }
        }
    }

    /// A legacy `catch` or `catch_all`: the try body ends, the previous clause's code jumps to
    /// the end, and this clause's code starts here.
    fn legacy_catch(&mut self, tag: Option<u32>) {
        let jump = self.instrs.len();
        self.instrs.push(Instr::Jump(0));
        self.close_region();
        let here = self.pc();
        let Some(ctrl) = self.ctrls.last_mut() else {
            return;
        };
        ctrl.fixups.push(Fixup::Instr(jump));
        let catch = Catch {
            tag,
            with_ref: false,
            to: Branch {
                target: here,
                height: ctrl.height,
                arity: 0,
            },
            exn_local: ctrl.exn_local,
        };
        if let Some(r) = ctrl.region
            && let Handlers::Catch(catches) = &mut self.regions[r].handlers
        {
            catches.push(catch);
        }
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

    /// Whether a branch to the label at `depth`, taken at operand height `height`, keeps the
    /// stack as it is: the label is not the function's (a return), takes no values, and
    /// its height is `height`.
    fn moves_nothing(&self, depth: u32, height: Option<u32>) -> bool {
        let Some(i) = self.ctrls.len().checked_sub(1 + depth as usize) else {
            return false;
        };
        let ctrl = &self.ctrls[i];
        let arity = match ctrl.kind {
            CtrlKind::Function => return false,
            CtrlKind::Loop => ctrl.params,
            CtrlKind::Block | CtrlKind::If => ctrl.results,
        };
        arity == 0 && height == Some(ctrl.height)
    }

    /// Make every branch's height relative to the frame's first local instead of its operand
    /// base (see [`Branch::height`]): add the number of locals, hidden ones included, which
    /// is known only once the whole body is translated.
    fn heights_from_first_local(&mut self) {
        let frame = self.next_local;
        for instr in &mut self.instrs {
            if let Instr::Br(b)
            | Instr::BrIf(b)
            | Instr::BrIfEqz(b)
            | Instr::BrIfCmp(_, b)
            | Instr::BrOnNull(b)
            | Instr::BrOnNonNull(b) = instr
            {
                b.height += frame;
            }
        }
        for b in &mut self.br_tables {
            b.height += frame;
        }
        for c in &mut self.casts {
            c.branch.height += frame;
        }
        for r in &mut self.regions {
            if let Handlers::Catch(catches) = &mut r.handlers {
                for c in catches {
                    c.to.height += frame;
                }
            }
        }
    }

    fn patch(&mut self, fixup: Fixup, target: u32) {
        match fixup {
            Fixup::Instr(i) => match &mut self.instrs[i] {
                Instr::Br(b)
                | Instr::BrIf(b)
                | Instr::BrIfEqz(b)
                | Instr::BrIfCmp(_, b)
                | Instr::BrOnNull(b)
                | Instr::BrOnNonNull(b) => b.target = target,
                Instr::Jump(t)
                | Instr::BrUnless(t)
                | Instr::BrUnlessCmp(_, t)
                | Instr::BrUnlessEqz(t)
                | Instr::JumpIfCmp(.., t)
                | Instr::JumpUnlessCmp(.., t)
                | Instr::JumpIfCmpConst(_, t, _)
                | Instr::JumpUnlessCmpConst(_, t, _)
                | Instr::JumpIfLocal(_, t)
                | Instr::JumpIfTee(_, t) => *t = target,
                _ => {}
            },
            Fixup::Table(i) => self.br_tables[i].target = target,
            Fixup::Cast(i) => self.casts[i].branch.target = target,
            Fixup::Catch(r, k) => {
                if let Handlers::Catch(catches) = &mut self.regions[r].handlers {
                    catches[k].to.target = target;
                }
            }
        }
    }

    fn end(&mut self) {
        self.close_region();
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

    /// Append a plain (non-control) instruction, fusing it with the previous one when the
    /// pair has a fused form (see "Fused pairs" in `instr.rs`).
    fn emit(&mut self, instr: Instr, fusable: bool) {
        // `local.set a; local.get b` before a `local.get` or `i32.const`: the `local.get b`
        // pairs better with what follows (a register-style operand pair, e.g. `i = i + 1` or
        // a loop's test), so the pair is split again and the get fused with the next.
        if let Some(last) = self.instrs.last_mut().filter(|_| fusable)
            && let Instr::LocalSetGet(a, b) = *last
            && matches!(instr, Instr::LocalGet(_) | Instr::Const32(_))
        {
            *last = Instr::LocalSet(a);
            self.instrs.push(Instr::LocalGet(b));
        }
        let last = self.instrs.last_mut().filter(|_| fusable);
        let fused = match (last.as_deref(), instr) {
            (Some(Instr::LocalGet(a)), Instr::LocalGet(b)) => Some(Instr::LocalGet2(*a, b)),
            (Some(Instr::LocalSet(a)), Instr::LocalGet(b)) => Some(Instr::LocalSetGet(*a, b)),
            (Some(Instr::LocalGet(a)), Instr::Const32(c)) => Some(Instr::LocalGetConst(*a, c)),
            (Some(Instr::LocalGet(a)), Instr::LocalSet(d)) => Some(Instr::LocalCopy(*a, d)),
            (Some(Instr::LocalGet2(a, v)), op) if Width::of_store(op).is_some() => {
                Width::of_store(op).map(|(w, off)| Instr::StoreAt(w, Rhs::Local, *a, *v, off))
            }
            (Some(Instr::LocalGetConst(a, c)), op) if Width::of_store(op).is_some() => {
                Width::of_store(op).map(|(w, off)| Instr::StoreAt(w, Rhs::Const, *a, *c, off))
            }
            (Some(Instr::Const32(c)), Instr::LocalSet(d)) => {
                Some(Instr::LocalSetConst(d, u64::from(*c)))
            }
            (Some(Instr::Const64(c)), Instr::LocalSet(d)) => Some(Instr::LocalSetConst(d, *c)),
            (Some(Instr::LocalGet(a)), op) if Load::of(op).is_some() => {
                Load::of(op).map(|(l, off)| Instr::LoadAt(l, Addr::Local, *a, off))
            }
            (Some(Instr::I32Add), op) => {
                Load::of(op).map(|(l, off)| Instr::LoadAt(l, Addr::Add, 0, off))
            }
            (Some(Instr::LocalGetConst(a, c)), op) => match (IntOp::of_i32_or_add(op), Cmp::of(op))
            {
                (Some(o), _) => Some(Instr::I32BinLocalConst(o, *a, *c)),
                (None, Some(cmp)) if cmp.is_32() => Some(Instr::CmpLocal(cmp, Rhs::Const, *a, *c)),
                _ => None,
            },
            (Some(Instr::I32BinLocalConst(op, a, c)), Instr::LocalSet(d)) => {
                Some(Instr::I32BinLocalConstTo(*op, *a, *c, d))
            }
            (Some(Instr::I32BinLocalConst(op, a, c)), Instr::LocalTee(d)) => {
                Some(Instr::I32BinLocalConstTee(*op, *a, *c, d))
            }
            (Some(Instr::LocalGet2(a, b)), op) if Cmp::of(op).is_some() => {
                Cmp::of(op).map(|cmp| Instr::CmpLocal(cmp, Rhs::Local, *a, *b))
            }
            // Only 64-bit constants: fusing `i32.const` comparisons too made CoreMark ~3%
            // slower (CPU time), though it dispatches less.
            (Some(Instr::Const64(c)), op) if Cmp::of(op).is_some() => {
                Cmp::of(op).map(|cmp| Instr::CmpConst(cmp, *c))
            }
            (Some(Instr::Const32(c)), Instr::I32Add) => Some(Instr::I32AddConst(*c)),
            (Some(Instr::Const32(c)), op) => IntOp::of_i32(op).map(|o| Instr::I32BinConst(o, *c)),
            (Some(Instr::Const64(c)), op) => IntOp::of_i64(op).map(|o| Instr::I64BinConst(o, *c)),
            (Some(Instr::LocalGet(n)), op) => BinOp::of(op).map(|o| Instr::BinLocal(o, *n)),
            (Some(Instr::LocalGet2(a, b)), op) => {
                BinOp::of(op).map(|o| Instr::BinLocals(o, *a, *b))
            }
            (Some(Instr::I64BinConst(op, c)), Instr::LocalSet(d)) => {
                Some(Instr::I64BinConstTo(*op, d, *c))
            }
            (Some(Instr::BinLocal(op, n)), Instr::LocalSet(d)) => {
                Some(Instr::BinLocalTo(*op, *n, d))
            }
            (Some(Instr::BinLocals(op, a, b)), Instr::LocalSet(d)) => {
                Some(Instr::BinLocalsTo(*op, *a, *b, d))
            }
            (Some(Instr::I32Eqz), Instr::BrIf(b)) => Some(Instr::BrIfEqz(b)),
            (Some(last), Instr::BrIf(b)) => Cmp::of(*last).map(|c| Instr::BrIfCmp(c, b)),
            _ => None,
        };
        match (last, fused) {
            (Some(last), Some(f)) => *last = f,
            _ => self.instrs.push(instr),
        }
        self.fusable = true;
    }

    /// Translate one operator; `height` is the operand-stack height before it.
    fn op(&mut self, op: &Operator<'_>, height: u32) {
        use Operator as O;
        // Only an operator that reaches the final `emit` leaves the code fusable: every
        // other one (blocks, `else`, `end`, try regions) may put a label at the current pc.
        let fusable = mem::take(&mut self.fusable);
        let memarg = |m: &wasmparser::MemArg| -> Option<MemArg> {
            match m.target {
                wasmparser::MemArgTarget::Memory(i) => Some(MemArg::new(m.offset, i)),
                wasmparser::MemArgTarget::Array(_) => None,
            }
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
                // After a comparison or `i32.eqz` (with no label between), the two are
                // fused.
                let last = self.instrs.last_mut().filter(|_| fusable);
                let fused = match last.as_deref() {
                    Some(Instr::CmpLocal(c, rhs, a, b)) => {
                        Some(Instr::JumpUnlessCmp(*c, *rhs, *a, *b, 0))
                    }
                    Some(Instr::CmpConst(c, k)) => Some(Instr::JumpUnlessCmpConst(*c, 0, *k)),
                    Some(Instr::I32Eqz) => Some(Instr::BrUnlessEqz(0)),
                    Some(l) => Cmp::of(*l).map(|c| Instr::BrUnlessCmp(c, 0)),
                    None => None,
                };
                match (last, fused) {
                    (Some(l), Some(f)) => *l = f,
                    _ => self.instrs.push(Instr::BrUnless(0)),
                }
                let at = self.instrs.len() - 1;
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
                // After a `CmpLocal`, a branch that moves no operand is a jump (the comparison
                // result is never pushed, so the height is the one below it).
                // So is one after a `local.get` or `local.tee`, testing the local.
                let jump = |last: Instr| match last {
                    Instr::CmpLocal(c, rhs, a, b) => Some(Instr::JumpIfCmp(c, rhs, a, b, 0)),
                    Instr::CmpConst(c, k) => Some(Instr::JumpIfCmpConst(c, 0, k)),
                    Instr::LocalGet(a) => Some(Instr::JumpIfLocal(a, 0)),
                    Instr::LocalTee(a) => Some(Instr::JumpIfTee(a, 0)),
                    _ => None,
                };
                if let Some(j) = self
                    .instrs
                    .last()
                    .copied()
                    .filter(|_| fusable)
                    .and_then(jump)
                    && self.moves_nothing(*relative_depth, height.checked_sub(1))
                {
                    let at = self.instrs.len() - 1;
                    self.instrs[at] = j;
                    let target = self.branch(*relative_depth, Fixup::Instr(at)).target;
                    self.patch(Fixup::Instr(at), target);
                    self.fusable = true;
                    return;
                }
                // After an `i32.eqz` or a comparison that `emit` will fuse it with, the branch
                // takes its pc.
                let fused = fusable
                    && (self.instrs.last())
                        .is_some_and(|l| *l == Instr::I32Eqz || Cmp::of(*l).is_some());
                let at = self.instrs.len() - usize::from(fused);
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
            O::BrOnNull { relative_depth } => {
                let at = self.instrs.len();
                Instr::BrOnNull(self.branch(*relative_depth, Fixup::Instr(at)))
            }
            O::BrOnNonNull { relative_depth } => {
                let at = self.instrs.len();
                Instr::BrOnNonNull(self.branch(*relative_depth, Fixup::Instr(at)))
            }
            O::TryTable { try_table } => {
                // Catch labels are those around the `try_table`, so resolve them first.
                let r = self.open_region(Handlers::Catch(Vec::new()));
                for (k, c) in try_table.catches.iter().enumerate() {
                    use wasmparser::Catch as C;
                    let (tag, with_ref, label) = match *c {
                        C::One { tag, label } => (Some(tag), false, label),
                        C::OneRef { tag, label } => (Some(tag), true, label),
                        C::All { label } => (None, false, label),
                        C::AllRef { label } => (None, true, label),
                    };
                    let to = self.branch(label, Fixup::Catch(r, k));
                    if let Handlers::Catch(catches) = &mut self.regions[r].handlers {
                        catches.push(Catch {
                            tag,
                            with_ref,
                            to,
                            exn_local: None,
                        });
                    }
                }
                self.push_ctrl(CtrlKind::Block, height, try_table.ty);
                if let Some(c) = self.ctrls.last_mut() {
                    c.region = Some(r);
                }
                return;
            }
            O::Try { blockty } => {
                let r = self.open_region(Handlers::Catch(Vec::new()));
                self.push_ctrl(CtrlKind::Block, height, *blockty);
                let local = self.next_local;
                self.next_local += 1;
                if let Some(c) = self.ctrls.last_mut() {
                    c.region = Some(r);
                    c.exn_local = Some(local);
                }
                return;
            }
            O::Catch { tag_index } => {
                self.legacy_catch(Some(*tag_index));
                return;
            }
            O::CatchAll => {
                self.legacy_catch(None);
                return;
            }
            O::Delegate { relative_depth } => {
                // The label is counted from outside the `try`, whose own index is the last.
                let target = (self.ctrls.len() as u32 - 1).saturating_sub(1 + relative_depth);
                if let Some(r) = self.ctrls.last().and_then(|c| c.region) {
                    self.regions[r].handlers = Handlers::Delegate(target);
                }
                self.end();
                return;
            }
            O::Throw { tag_index } => Instr::Throw(*tag_index),
            O::ThrowRef => Instr::ThrowRef,
            O::Rethrow { relative_depth } => {
                let i = self
                    .ctrls
                    .len()
                    .saturating_sub(1 + *relative_depth as usize);
                Instr::Rethrow(self.ctrls[i].exn_local.unwrap_or(0))
            }
            O::Return => Instr::Return,
            O::CallRef { .. } => Instr::CallRef,
            O::ReturnCallRef { .. } => Instr::ReturnCallRef,
            O::Call { function_index } => Instr::Call(*function_index),
            O::CallIndirect {
                type_index,
                table_index,
            } => Instr::CallIndirect {
                type_index: *type_index,
                table: *table_index,
            },
            O::ReturnCall { function_index } => Instr::ReturnCall(*function_index),
            O::ReturnCallIndirect {
                type_index,
                table_index,
            } => Instr::ReturnCallIndirect {
                type_index: *type_index,
                table: *table_index,
            },
            O::Drop => Instr::Drop,
            O::Select | O::TypedSelect { .. } => Instr::Select,
            O::LocalGet { local_index: i } if self.is_number_local(*i) => Instr::LocalGet(*i),
            O::LocalSet { local_index: i } if self.is_number_local(*i) => Instr::LocalSet(*i),
            O::LocalTee { local_index: i } if self.is_number_local(*i) => Instr::LocalTee(*i),
            O::LocalGet { local_index } => Instr::LocalGetWide(*local_index),
            O::LocalSet { local_index } => Instr::LocalSetWide(*local_index),
            O::LocalTee { local_index } => Instr::LocalTeeWide(*local_index),
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
            O::V128Store { memarg } => mem!(V128Store, memarg),
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
            O::RefAsNonNull => Instr::RefAsNonNull,
            O::RefEq => Instr::RefEq,
            O::RefTestNonNull { hty } => Instr::RefTest(self.cast(false, *hty, None)),
            O::RefTestNullable { hty } => Instr::RefTest(self.cast(true, *hty, None)),
            O::RefCastNonNull { hty } => Instr::RefCast(self.cast(false, *hty, None)),
            O::RefCastNullable { hty } => Instr::RefCast(self.cast(true, *hty, None)),
            O::BrOnCast {
                relative_depth,
                to_ref_type: to,
                ..
            } => {
                Instr::BrOnCast(self.cast(to.is_nullable(), to.heap_type(), Some(*relative_depth)))
            }
            O::BrOnCastFail {
                relative_depth,
                to_ref_type: to,
                ..
            } => Instr::BrOnCastFail(self.cast(
                to.is_nullable(),
                to.heap_type(),
                Some(*relative_depth),
            )),
            // The slot encoding already tells the kinds apart: the conversions change nothing.
            O::AnyConvertExtern | O::ExternConvertAny => return,
            O::RefI31 => Instr::RefI31,
            O::I31GetS => Instr::I31Get(Sign::S),
            O::I31GetU => Instr::I31Get(Sign::U),
            O::StructNew { struct_type_index } => Instr::StructNew(*struct_type_index),
            O::StructNewDefault { struct_type_index } => {
                Instr::StructNewDefault(*struct_type_index)
            }
            O::StructGet {
                struct_type_index: ty,
                field_index: field,
            } => Instr::StructGet {
                ty: *ty,
                field: *field,
                sign: Sign::Plain,
            },
            O::StructGetS {
                struct_type_index: ty,
                field_index: field,
            } => Instr::StructGet {
                ty: *ty,
                field: *field,
                sign: Sign::S,
            },
            O::StructGetU {
                struct_type_index: ty,
                field_index: field,
            } => Instr::StructGet {
                ty: *ty,
                field: *field,
                sign: Sign::U,
            },
            O::StructSet {
                struct_type_index: ty,
                field_index: field,
            } => Instr::StructSet {
                ty: *ty,
                field: *field,
            },
            O::ArrayNew { array_type_index } => Instr::ArrayNew(*array_type_index),
            O::ArrayNewDefault { array_type_index } => Instr::ArrayNewDefault(*array_type_index),
            O::ArrayNewFixed {
                array_type_index: ty,
                array_size: n,
            } => Instr::ArrayNewFixed { ty: *ty, n: *n },
            O::ArrayNewData {
                array_type_index: ty,
                array_data_index: data,
            } => Instr::ArrayNewData {
                ty: *ty,
                data: *data,
            },
            O::ArrayNewElem {
                array_type_index: ty,
                array_elem_index: elem,
            } => Instr::ArrayNewElem {
                ty: *ty,
                elem: *elem,
            },
            O::ArrayGet { array_type_index } => Instr::ArrayGet {
                ty: *array_type_index,
                sign: Sign::Plain,
            },
            O::ArrayGetS { array_type_index } => Instr::ArrayGet {
                ty: *array_type_index,
                sign: Sign::S,
            },
            O::ArrayGetU { array_type_index } => Instr::ArrayGet {
                ty: *array_type_index,
                sign: Sign::U,
            },
            O::ArraySet { array_type_index } => Instr::ArraySet(*array_type_index),
            O::ArrayLen => Instr::ArrayLen,
            O::ArrayFill { array_type_index } => Instr::ArrayFill(*array_type_index),
            O::ArrayCopy {
                array_type_index_dst: dst,
                array_type_index_src: src,
            } => Instr::ArrayCopy {
                dst: *dst,
                src: *src,
            },
            O::ArrayInitData {
                array_type_index: ty,
                array_data_index: data,
            } => Instr::ArrayInitData {
                ty: *ty,
                data: *data,
            },
            O::ArrayInitElem {
                array_type_index: ty,
                array_elem_index: elem,
            } => Instr::ArrayInitElem {
                ty: *ty,
                elem: *elem,
            },
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
                if let Some(op) = SimdUnary::from_operator(op) {
                    Instr::SimdUnary(op)
                } else if let Some(op) = SimdBinary::from_operator(op) {
                    Instr::SimdBinary(op)
                } else if let Some(op) = SimdTernary::from_operator(op) {
                    Instr::SimdTernary(op)
                } else if let Some(op) = SimdShift::from_operator(op) {
                    Instr::SimdShift(op)
                } else if let Some(op) = RelaxedUnary::from_operator(op) {
                    Instr::RelaxedUnary(op)
                } else if let Some(op) = RelaxedBinary::from_operator(op) {
                    Instr::RelaxedBinary(op)
                } else if let Some(op) = RelaxedTernary::from_operator(op) {
                    Instr::RelaxedTernary(op)
                } else if let Some((op, lane)) = SimdExtractLane::from_operator(op) {
                    Instr::SimdExtractLane(op, lane)
                } else if let Some((op, lane)) = SimdReplaceLane::from_operator(op) {
                    Instr::SimdReplaceLane(op, lane)
                } else if let Some((op, m)) = SimdLoad::from_operator(op) {
                    match memarg(m) {
                        Some(m) => Instr::SimdLoad(op, m),
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
        self.emit(instr, fusable);
    }
}

/// Validate one function body operator by operator and translate it.
pub(crate) fn translate(
    mut v: FuncValidator<ValidatorResources>,
    body: &FunctionBody<'_>,
    types: &[FuncType],
    ty: &FuncType,
) -> Result<FuncCode, BinaryReaderError> {
    let mut locals = 0usize;
    let mut number_locals: Vec<bool> = (ty.params.iter())
        .map(|t| matches!(t, ValType::I32 | ValType::I64 | ValType::F32 | ValType::F64))
        .collect();
    let mut reader = body.get_locals_reader()?;
    for _ in 0..reader.get_count() {
        let offset = reader.original_position();
        let (count, t) = reader.read()?;
        v.define_locals(offset, count, t)?;
        locals += count as usize;
        let number = matches!(
            t,
            wasmparser::ValType::I32
                | wasmparser::ValType::I64
                | wasmparser::ValType::F32
                | wasmparser::ValType::F64
        );
        number_locals.resize(number_locals.len() + count as usize, number);
    }
    let mut t = Translator {
        types,
        instrs: Vec::new(),
        br_tables: Vec::new(),
        v128s: Vec::new(),
        casts: Vec::new(),
        regions: Vec::new(),
        next_local: (ty.params.len() + locals) as u32,
        number_locals,
        fusable: false,
        ctrls: vec![Ctrl {
            kind: CtrlKind::Function,
            height: 0,
            params: 0,
            results: ty.results.len() as u32,
            start: 0,
            fixups: Vec::new(),
            if_fixup: None,
            region: None,
            exn_local: None,
        }],
    };
    let mut ops = body.get_operators_reader()?;
    let mut max_height = 0;
    while !ops.eof() {
        let (op, offset) = ops.read_with_offset()?;
        let height = v.operand_stack_height();
        v.op(offset, &op)?;
        max_height = max_height.max(height).max(v.operand_stack_height());
        t.op(&op, height);
    }
    ops.finish()?;
    t.heights_from_first_local();
    Ok(FuncCode {
        params: ty.params.len(),
        results: ty.results.len(),
        // The declared locals, then the hidden ones of legacy `try`s.
        locals: t.next_local as usize - ty.params.len(),
        max_height: max_height as usize,
        instrs: t.instrs,
        br_tables: t.br_tables,
        v128s: t.v128s,
        casts: t.casts,
        regions: t.regions,
    })
}
