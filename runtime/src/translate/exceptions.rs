//! Exception handling: `try_table`, `throw`, `throw_ref`, and the calls inside a try_table.
//!
//! Each try_table gets a landing block taking the exnref. Inside it, calls to wasm code are
//! `try_call`s whose exception table's `Default` entry is that block, and a `throw` jumps to
//! it directly; outside every try_table, calls stay plain `call`s (no cost on calls that
//! cannot be caught here) and a `throw` calls `lockstep_throw`, which walks the frames (see
//! `vm/unwind.rs`). The landing block compares the exception's tag id with each `catch`
//! clause's tag in the VM context, in order, and branches to the first match with the
//! payload (read from the exception object) and, for the `_ref` forms, the exnref; no match
//! rethrows to the enclosing try_table or out of the function. Libcalls never throw, so they
//! stay plain calls everywhere.
//!
//! An exception object is `[tag id, payload...]` in 16-byte slots (see `exception.rs`).

use super::{FuncTranslator, block_args, codes, misrouted};
use crate::trap::Result;
use cranelift_codegen::ir::Block;
use cranelift_codegen::ir::{
    AbiParam, BlockArg, BlockCall, ExceptionTableData, ExceptionTableItem, FuncRef, InstBuilder,
    MemFlagsData, SigRef, Signature, Value, types,
};
use cranelift_codegen::isa::CallConv;
use cranelift_frontend::Variable;

/// Bytes per slot of an exception object.
const SLOT: i32 = 16;

/// Where a legacy `try` block is: its body (under its landing block), or its catch clauses,
/// with the block where the next clause's tag test goes (`None` after a `catch_all`).
pub(super) enum LegacyState {
    Body,
    Catches { next: Option<Block> },
}

/// A legacy `try` block: its landing block, the variable holding the caught exnref (for
/// `rethrow`, once the catches began) and where it is.
pub(super) struct LegacyTry {
    pad: Block,
    exn: Option<Variable>,
    state: LegacyState,
}

/// What a call goes to.
pub(super) enum Callee {
    Direct(FuncRef),
    Indirect(SigRef, Value),
}

impl FuncTranslator<'_, '_> {
    /// A call to wasm code (or a wasm->host shim): a `try_call` to the innermost try_table's
    /// landing block inside one, a plain call elsewhere. Returns the call's results.
    pub(super) fn emit_call(&mut self, callee: Callee, args: &[Value]) -> Vec<Value> {
        let Some(&pad) = self.handlers.last() else {
            let inst = match callee {
                Callee::Direct(f) => self.b.ins().call(f, args),
                Callee::Indirect(sig, code) => self.b.ins().call_indirect(sig, code, args),
            };
            return self.b.inst_results(inst).to_vec();
        };
        let sig = match callee {
            Callee::Direct(f) => self.b.func.dfg.ext_funcs[f].signature,
            Callee::Indirect(sig, _) => sig,
        };
        let rets: Vec<_> = self.b.func.dfg.signatures[sig]
            .returns
            .iter()
            .map(|r| r.value_type)
            .collect();
        let cont = self.b.create_block();
        for &t in &rets {
            self.b.append_block_param(cont, t);
        }
        let pool = &mut self.b.func.dfg.value_lists;
        let normal = BlockCall::new(cont, (0..rets.len() as u32).map(BlockArg::TryCallRet), pool);
        let caught = BlockCall::new(pad, [BlockArg::TryCallExn(0)], pool);
        let table = ExceptionTableData::new(sig, normal, [ExceptionTableItem::Default(caught)]);
        let et = self.b.func.dfg.exception_tables.push(table);
        match callee {
            Callee::Direct(f) => self.b.ins().try_call(f, args, et),
            Callee::Indirect(_, code) => self.b.ins().try_call_indirect(code, args, et),
        };
        self.b.seal_block(cont);
        self.b.switch_to_block(cont);
        self.b.block_params(cont).to_vec()
    }

    /// Throw `exn` (non-null): to the innermost try_table of this function, or up the stack.
    fn throw_exn(&mut self, exn: Value) {
        if let Some(&pad) = self.handlers.last() {
            self.b.ins().jump(pad, &block_args(&[exn]));
        } else {
            let mut sig = Signature::new(CallConv::SystemV);
            for _ in 0..3 {
                sig.params.push(AbiParam::new(types::I64));
            }
            let sig = self.b.import_signature(sig);
            let f = self
                .b
                .ins()
                .iconst(types::I64, crate::vm::unwind::throw_addr() as i64);
            let zero = self.b.ins().iconst(types::I64, 0);
            let fp = self.b.ins().get_frame_pointer(types::I64);
            self.b.ins().call_indirect(sig, f, &[zero, exn, fp]);
            // `lockstep_throw` never returns.
            self.b.ins().trap(codes::UNREACHABLE);
        }
        self.reachable = false;
    }

    fn tag_params(&self, tag: u32) -> Vec<crate::types::ValType> {
        let info = self.env.info;
        info.types[info.tags[tag as usize] as usize]
            .params()
            .to_vec()
    }

    /// Emit the landing block of a try_table whose body has just ended: the catch clauses in
    /// order, then a rethrow. Called with the try_table's frame already popped, so the clauses'
    /// labels resolve in the enclosing context, as the spec reads them.
    pub(super) fn finish_try_table(
        &mut self,
        pad: cranelift_codegen::ir::Block,
        catches: &[wasmparser::Catch],
    ) {
        use wasmparser::Catch;
        let popped = self.handlers.pop();
        debug_assert_eq!(popped, Some(pad));
        self.b.seal_block(pad);
        self.b.switch_to_block(pad);
        self.b.set_cold_block(pad);
        let exn = self.b.block_params(pad)[0];
        let tag_id = self.load_trusted(types::I64, exn, 0);
        for catch in catches {
            let (tag, label, with_ref) = match *catch {
                Catch::One { tag, label } => (Some(tag), label, false),
                Catch::OneRef { tag, label } => (Some(tag), label, true),
                Catch::All { label } => (None, label, false),
                Catch::AllRef { label } => (None, label, true),
            };
            let mut args = Vec::new();
            let next = match tag {
                Some(tag) => {
                    let want =
                        self.load_readonly(types::I64, self.vmctx, self.env.offsets.tag(tag));
                    let hit = self.b.ins().icmp(
                        cranelift_codegen::ir::condcodes::IntCC::Equal,
                        tag_id,
                        want,
                    );
                    let yes = self.b.create_block();
                    let no = self.b.create_block();
                    self.b.ins().brif(hit, yes, &[], no, &[]);
                    self.b.seal_block(yes);
                    self.b.seal_block(no);
                    self.b.switch_to_block(yes);
                    for (i, t) in self.tag_params(tag).into_iter().enumerate() {
                        let ty = super::clif_type(t);
                        let v = self.load_trusted(ty, exn, SLOT * (i as i32 + 1));
                        args.push(v);
                    }
                    Some(no)
                }
                None => None,
            };
            if with_ref {
                args.push(exn);
            }
            let (target, _) = self.branch_target(label);
            self.b.ins().jump(target, &block_args(&args));
            match next {
                Some(no) => self.b.switch_to_block(no),
                // A catch_all catches everything; later clauses are dead.
                None => {
                    self.reachable = false;
                    return;
                }
            }
        }
        self.throw_exn(exn);
    }

    /// Load the payload of an exception of `tag` onto the operand stack.
    fn push_payload(&mut self, tag: u32, exn: Value) {
        for (i, t) in self.tag_params(tag).into_iter().enumerate() {
            let v = self.load_trusted(super::clif_type(t), exn, SLOT * (i as i32 + 1));
            self.push(v);
        }
    }

    /// Leave a legacy try body: its landing block takes over, with the exnref in a variable.
    fn enter_landing(&mut self, lt: &mut LegacyTry) -> Value {
        let popped = self.handlers.pop();
        debug_assert_eq!(popped, Some(lt.pad));
        self.b.seal_block(lt.pad);
        self.b.switch_to_block(lt.pad);
        self.b.set_cold_block(lt.pad);
        let exn = self.b.block_params(lt.pad)[0];
        let var = self.b.declare_var(types::I64);
        // The catch clauses may call code that collects before a `rethrow` of this exnref.
        if self.validator.is_some() {
            self.b.declare_var_needs_stack_map(var);
        }
        self.b.def_var(var, exn);
        lt.exn = Some(var);
        exn
    }

    /// `catch` (`Some(tag)`) or `catch_all` (`None`) of the innermost legacy try block.
    fn legacy_catch(&mut self, tag: Option<u32>) {
        let mut lt = self
            .control
            .last_mut()
            .and_then(|f| f.legacy.take())
            .expect("validated: catch in a try");
        let (dest, n, height) = {
            let f = self.control.last().expect("frame");
            (f.dest, f.num_results, f.height)
        };
        if self.reachable {
            let rets = self.popn(n);
            self.b.ins().jump(dest, &block_args(&rets));
            self.control.last_mut().expect("frame").dest_reached = true;
        }
        self.stack.truncate(height);
        let exn = match lt.state {
            LegacyState::Body => self.enter_landing(&mut lt),
            LegacyState::Catches { next } => {
                let next = next.expect("validated: no catch after catch_all");
                self.b.switch_to_block(next);
                let var = lt.exn.expect("set with the first catch");
                self.b.use_var(var)
            }
        };
        match tag {
            Some(tag) => {
                let tag_id = self.load_trusted(types::I64, exn, 0);
                let want = self.load_readonly(types::I64, self.vmctx, self.env.offsets.tag(tag));
                let hit =
                    self.b
                        .ins()
                        .icmp(cranelift_codegen::ir::condcodes::IntCC::Equal, tag_id, want);
                let yes = self.b.create_block();
                let no = self.b.create_block();
                self.b.ins().brif(hit, yes, &[], no, &[]);
                self.b.seal_block(yes);
                self.b.seal_block(no);
                self.b.switch_to_block(yes);
                self.push_payload(tag, exn);
                lt.state = LegacyState::Catches { next: Some(no) };
            }
            None => lt.state = LegacyState::Catches { next: None },
        }
        self.reachable = true;
        self.control.last_mut().expect("frame").legacy = Some(lt);
    }

    /// The `end` of a legacy try block (its frame popped, its results already passed on): an
    /// exception no clause took goes on outwards.
    pub(super) fn finish_legacy_try(&mut self, mut lt: LegacyTry) {
        match lt.state {
            LegacyState::Body => {
                let exn = self.enter_landing(&mut lt);
                self.throw_exn(exn);
            }
            LegacyState::Catches { next: Some(no) } => {
                self.b.switch_to_block(no);
                let var = lt.exn.expect("set with the first catch");
                let exn = self.b.use_var(var);
                self.throw_exn(exn);
            }
            LegacyState::Catches { next: None } => {}
        }
    }

    /// `delegate l`: end the try block; its landing block hands the exception to the handler
    /// in force at label `l` (counted outside the try), or out of the function.
    fn legacy_delegate(&mut self, depth: u32) {
        let mut frame = self.control.pop().expect("validated: delegate ends a try");
        if self.reachable {
            let rets = self.popn(frame.num_results);
            self.b.ins().jump(frame.dest, &block_args(&rets));
            frame.dest_reached = true;
        }
        let mut lt = frame.legacy.take().expect("validated: delegate ends a try");
        let exn = self.enter_landing(&mut lt);
        // The handlers in force inside label `depth` are those of the frames up to it whose
        // bodies are under a landing block; `handlers` lists exactly those, outermost first.
        let upto = self.control.len() - depth as usize;
        let active = self.control[..upto]
            .iter()
            .filter(|f| {
                f.try_table.is_some()
                    || matches!(
                        f.legacy,
                        Some(LegacyTry {
                            state: LegacyState::Body,
                            ..
                        })
                    )
            })
            .count();
        let saved = self.handlers.split_off(active);
        self.throw_exn(exn);
        self.handlers.extend(saved);
        self.resume_after(&frame);
    }

    /// The block frame of a `try_table` or a legacy `try`, and its landing pad (a block whose
    /// one parameter is the exception caught there).
    fn handler_frame(
        &mut self,
        blockty: wasmparser::BlockType,
    ) -> Result<(super::Frame, cranelift_codegen::ir::Block)> {
        let (params, results) = self.block_type(blockty)?;
        let dest = self.b.create_block();
        for &t in &results {
            self.b.append_block_param(dest, t);
        }
        let pad = self.b.create_block();
        self.b.append_block_param(pad, types::I64);
        let frame = super::Frame::new(
            super::FrameKind::Block,
            dest,
            &params,
            &results,
            &self.stack,
        );
        Ok((frame, pad))
    }

    pub(super) fn translate_exceptions(&mut self, op: &wasmparser::Operator<'_>) -> Result<()> {
        use wasmparser::Operator as O;
        match op {
            O::TryTable { try_table } => {
                let (frame, pad) = self.handler_frame(try_table.ty)?;
                self.control.push(super::Frame {
                    try_table: Some((pad, try_table.catches.clone())),
                    ..frame
                });
                self.handlers.push(pad);
            }
            O::Throw { tag_index } => {
                let params = self.tag_params(*tag_index);
                let vals = self.popn(params.len());
                let tag = self.b.ins().iconst(types::I32, i64::from(*tag_index));
                let exn = self.call_builtin(crate::vm::builtins::EXN_NEW, &[tag], types::I64);
                // Zero only if the libcall failed (the heap limit, or a panic caught in the
                // store). The payload values are live across the call, under its stack map:
                // the allocation may collect.
                self.b.ins().trapz(exn, codes::HOST);
                for (i, v) in vals.into_iter().enumerate() {
                    self.b
                        .ins()
                        .store(MemFlagsData::trusted(), v, exn, SLOT * (i as i32 + 1));
                }
                self.throw_exn(exn);
            }
            O::Try { blockty } => {
                let (frame, pad) = self.handler_frame(*blockty)?;
                self.control.push(super::Frame {
                    legacy: Some(LegacyTry {
                        pad,
                        exn: None,
                        state: LegacyState::Body,
                    }),
                    ..frame
                });
                self.handlers.push(pad);
            }
            O::Catch { tag_index } => self.legacy_catch(Some(*tag_index)),
            O::CatchAll => self.legacy_catch(None),
            O::Delegate { relative_depth } => self.legacy_delegate(*relative_depth),
            O::Rethrow { relative_depth } => {
                let i = self.control.len() - 1 - *relative_depth as usize;
                let var = self.control[i]
                    .legacy
                    .as_ref()
                    .and_then(|l| l.exn)
                    .expect("validated: rethrow names a catch");
                let exn = self.b.use_var(var);
                self.throw_exn(exn);
            }
            O::ThrowRef => {
                let exn = self.pop();
                self.b.ins().trapz(exn, codes::NULL_EXN_REF);
                self.throw_exn(exn);
            }
            _ => return Err(misrouted(op)),
        }
        Ok(())
    }
}
