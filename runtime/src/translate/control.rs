//! Structured control flow: block, loop, if/else, br, br_if, br_table, return, unreachable.

use super::{Frame, FrameKind, FuncTranslator, block_args, codes, misrouted};
use crate::trap::Result;
use cranelift_codegen::ir::{BlockCall, InstBuilder, JumpTableData};
use std::collections::HashMap;

impl FuncTranslator<'_, '_> {
    pub(super) fn translate_control(&mut self, op: &wasmparser::Operator<'_>) -> Result<()> {
        use wasmparser::Operator as O;
        match *op {
            O::Nop => {}
            O::Unreachable => {
                self.b.ins().trap(codes::UNREACHABLE);
                self.reachable = false;
            }
            O::Drop => {
                self.pop();
            }
            O::Select | O::TypedSelect { .. } => {
                let c = self.pop();
                let (a, b) = self.pop2();
                let v = self.b.ins().select(c, a, b);
                self.push(v);
            }
            O::Block { blockty } => {
                let (params, results) = self.block_type(blockty)?;
                let dest = self.b.create_block();
                for &t in &results {
                    self.b.append_block_param(dest, t);
                }
                let frame = Frame::new(FrameKind::Block, dest, &params, &results, &self.stack);
                self.control.push(frame);
            }
            O::Loop { blockty } => {
                let (params, results) = self.block_type(blockty)?;
                let header = self.b.create_block();
                for &t in &params {
                    self.b.append_block_param(header, t);
                }
                let dest = self.b.create_block();
                for &t in &results {
                    self.b.append_block_param(dest, t);
                }
                let args = self.popn(params.len());
                self.b.ins().jump(header, &block_args(&args));
                self.b.switch_to_block(header);
                let hp = self.b.block_params(header).to_vec();
                self.stack.extend(hp);
                let frame = Frame::new(FrameKind::Loop, dest, &params, &results, &self.stack);
                self.control.push(Frame {
                    header: Some(header),
                    ..frame
                });
            }
            O::If { blockty } => {
                let (params, results) = self.block_type(blockty)?;
                let cond = self.pop();
                let then_block = self.b.create_block();
                let else_block = self.b.create_block();
                let dest = self.b.create_block();
                for &t in &results {
                    self.b.append_block_param(dest, t);
                }
                self.b.ins().brif(cond, then_block, &[], else_block, &[]);
                self.b.seal_block(then_block);
                self.b.seal_block(else_block);
                self.b.switch_to_block(then_block);
                let frame = Frame::new(FrameKind::If, dest, &params, &results, &self.stack);
                self.control.push(Frame {
                    else_block: Some(else_block),
                    else_params: self.peekn(params.len()).to_vec(),
                    ..frame
                });
            }
            O::Else => {
                let reachable = self.reachable;
                let n = self.control.last().expect("frame").num_results;
                if reachable {
                    let rets = self.popn(n);
                    let dest = self.control.last().expect("frame").dest;
                    self.b.ins().jump(dest, &block_args(&rets));
                }
                let frame = self.control.last_mut().expect("frame");
                if reachable {
                    frame.dest_reached = true;
                }
                frame.else_seen = true;
                let eb = frame.else_block.expect("else of an if");
                let height = frame.height;
                let params = frame.else_params.clone();
                self.stack.truncate(height);
                self.b.switch_to_block(eb);
                self.stack.extend(params);
                self.reachable = true;
            }
            O::End => {
                let mut frame = self.control.pop().expect("frame");
                if self.reachable {
                    let rets = self.popn(frame.num_results);
                    self.b.ins().jump(frame.dest, &block_args(&rets));
                    frame.dest_reached = true;
                }
                if let Some((pad, catches)) = frame.try_table.take() {
                    self.finish_try_table(pad, &catches);
                }
                if let Some(legacy) = frame.legacy.take() {
                    self.finish_legacy_try(legacy);
                }
                if frame.kind == FrameKind::If && !frame.else_seen {
                    let eb = frame.else_block.expect("if has else block");
                    self.b.switch_to_block(eb);
                    self.b
                        .ins()
                        .jump(frame.dest, &block_args(&frame.else_params));
                    frame.dest_reached = true;
                }
                if let Some(h) = frame.header {
                    self.b.seal_block(h);
                }
                self.resume_after(&frame);
                if self.reachable && self.control.is_empty() {
                    let rets = std::mem::take(&mut self.stack);
                    self.b.ins().return_(&rets);
                }
            }
            O::Br { relative_depth } => {
                let (target, arity) = self.branch_target(relative_depth);
                let args = self.popn(arity);
                self.b.ins().jump(target, &block_args(&args));
                self.reachable = false;
            }
            O::BrIf { relative_depth } => {
                let cond = self.pop();
                let (target, arity) = self.branch_target(relative_depth);
                let args = self.peekn(arity).to_vec();
                let next = self.b.create_block();
                self.b
                    .ins()
                    .brif(cond, target, &block_args(&args), next, &[]);
                self.b.seal_block(next);
                self.b.switch_to_block(next);
            }
            O::BrTable { ref targets } => {
                let index = self.pop();
                let default = targets.default();
                let depths: Vec<u32> = targets
                    .targets()
                    .collect::<std::result::Result<_, _>>()
                    .map_err(|e| crate::trap::Error::Malformed(e.to_string()))?;
                let (_, arity) = self.branch_target(default);
                let args = self.popn(arity);
                let mut block_for: HashMap<u32, cranelift_codegen::ir::Block> = HashMap::new();
                let mut edges = Vec::new();
                let mut resolve = |this: &mut Self, depth: u32| {
                    if arity == 0 {
                        let (t, _) = this.branch_target(depth);
                        return t;
                    }
                    *block_for.entry(depth).or_insert_with(|| {
                        let b = this.b.create_block();
                        edges.push((b, depth));
                        b
                    })
                };
                #[cfg(feature = "fault-injection")]
                let default = match depths.first() {
                    // Planted bug: an out-of-range index takes the first target.
                    Some(&first) if crate::fault::is(crate::fault::Fault::BrTableDefault) => first,
                    _ => default,
                };
                let def_block = resolve(self, default);
                let blocks: Vec<_> = depths.iter().map(|&d| resolve(self, d)).collect();
                let pool = &mut self.b.func.dfg.value_lists;
                let def_call = BlockCall::new(def_block, [], pool);
                let calls: Vec<BlockCall> = blocks
                    .iter()
                    .map(|&b| BlockCall::new(b, [], pool))
                    .collect();
                let jt = self
                    .b
                    .create_jump_table(JumpTableData::new(def_call, &calls));
                self.b.ins().br_table(index, jt);
                for (b, depth) in edges {
                    self.b.seal_block(b);
                    self.b.switch_to_block(b);
                    let (t, _) = self.branch_target(depth);
                    self.b.ins().jump(t, &block_args(&args));
                }
                self.reachable = false;
            }
            O::Return => {
                let n = self.control[0].num_results;
                let rets = self.popn(n);
                self.b.ins().return_(&rets);
                self.reachable = false;
            }
            _ => return Err(misrouted(op)),
        }
        Ok(())
    }

    /// Continue after `frame` has ended: at its destination block, with the block's results on
    /// the operand stack, when a branch or the fall-through reaches it; else unreachable.
    pub(super) fn resume_after(&mut self, frame: &Frame) {
        self.stack.truncate(frame.height);
        if frame.dest_reached {
            self.b.switch_to_block(frame.dest);
            self.b.seal_block(frame.dest);
            let ps = self.b.block_params(frame.dest).to_vec();
            self.stack.extend(ps);
            self.reachable = true;
        } else {
            self.reachable = false;
        }
    }

    /// The Cranelift block a branch to `depth` goes to, and how many values it carries.
    pub(super) fn branch_target(&mut self, depth: u32) -> (cranelift_codegen::ir::Block, usize) {
        let i = self.control.len() - 1 - depth as usize;
        let f = &mut self.control[i];
        match f.kind {
            FrameKind::Loop => (f.header.expect("loop header"), f.num_params),
            _ => {
                f.dest_reached = true;
                (f.dest, f.num_results)
            }
        }
    }
}
