//! The interpreter loop (spec section 4.4, "Instructions").
//!
//! State, as in the spec's abstract machine:
//! - the operand stack `stack` of untyped slots (see `value.rs`); a frame's locals live on it
//!   at `locals..locals + params + declared locals`, its operands above; the loop sees the
//!   current frame as the slice `slots` from its first local on, so local `i` is `slots[i]`
//!   and operand heights (`base`, `sp`) are counted from the first local too;
//! - the frame stack `frames` of suspended callers; calls push a frame and never recurse
//!   in Rust, so the call-depth limit is a counter and the Rust stack cannot overflow;
//! - labels are resolved at load time: every branch knows its target pc, arity and the
//!   stack height of its label, counted from the frame's first local (see `instr.rs`).
//!
//! Each instruction family has one match arm, delegating to `exec/numeric.rs`,
//! `exec/memory.rs`, `exec/table.rs`, `exec/control.rs` and `exec/simd.rs`.

mod control;
pub(crate) mod gc;
mod memory;
mod numeric;
mod simd;
mod table;

use std::mem;
use std::sync::Arc;

use crate::instance::{ExnInst, FuncKind, Instance};
use crate::instr::FuncCode;
use crate::instr::{Addr, Branch, Instr, Load, MemArg, Rhs, Width};
use crate::value::{
    DEFAULT_SLOT, RefKind, Slot, funcref_slot, ref_slot, slot_funcref, slot_ref, slot_to_value,
    value_to_slot,
};
use crate::{CallError, ExnAddr, FuncAddr, InstanceAddr, Store, Trap, TrapKind, Value};
use numeric::{float32, float64};

/// The number of alternatives of the relaxed SIMD rules.
pub(crate) const fn relaxed_alternatives() -> usize {
    simd::relaxed::ALTERNATIVES
}

/// Bound on the operand stack (locals included), in slots, as a second guard against
/// exhausting memory with deep recursion of functions with many locals.
const MAX_STACK_SLOTS: usize = 16 * 1024 * 1024;

/// Why the loop stopped before its entry function returned.
pub(crate) enum Stop {
    Trap(Trap),
    /// An exception (the index of its object) that no handler caught.
    Throw(u32),
}

impl From<Trap> for Stop {
    fn from(t: Trap) -> Stop {
        Stop::Trap(t)
    }
}

impl From<TrapKind> for Stop {
    fn from(k: TrapKind) -> Stop {
        Stop::Trap(Trap::new(k))
    }
}

/// A suspended caller.
struct Frame {
    /// The caller's function address; its code is `codes[func]` (see `run_metered`).
    func: u32,
    /// The caller's instance if the callee's is another one: a call within an instance, the
    /// common case, leaves `inst` as it is instead of paying two atomic updates of the
    /// `Arc`'s count (clone on the call, drop on the return).
    inst: Option<Arc<Instance>>,
    /// Where to continue in the caller.
    pc: usize,
    /// Index of the caller's first local on the operand stack.
    locals: usize,
}

/// The code of wasm function `a` (whose code is `code`) from the run's cache `codes`, added
/// to it if it is not there yet. (Out of line: inlined into the dispatch loop it made the
/// loop's register allocation worse, memory and arithmetic kernels 5-20% slower.)
#[inline(never)]
fn cached<'a>(
    codes: &'a mut Vec<Option<Arc<FuncCode>>>,
    a: u32,
    code: &Arc<FuncCode>,
) -> &'a FuncCode {
    let a = a as usize;
    if codes.len() <= a {
        codes.resize(a + 1, None);
    }
    codes[a].get_or_insert_with(|| code.clone())
}

/// A tail call replaces the current frame (which is not pushed). If it went into another
/// instance (`left`, the instance left), the frame below resumes a caller that ran in the
/// instance left and relied on it staying current (`inst: None`): it now restores it. (Out
/// of line: code added to the dispatch loop changes how the loop's hot state is kept in
/// registers.)
#[inline(never)]
fn tail_call_leaves(frames: &mut [Frame], left: Option<Arc<Instance>>) {
    if let (Some(left), Some(below)) = (left, frames.last_mut())
        && below.inst.is_none()
    {
        below.inst = Some(left);
    }
}

/// One more (empty) element for the frame stack (see `run_metered`'s `frames`). Out of line:
/// it runs only when the call depth reaches a new maximum.
#[inline(never)]
fn grow_frames(frames: &mut Vec<Frame>) {
    frames.push(Frame {
        func: 0,
        inst: None,
        pc: 0,
        locals: 0,
    });
}

/// Mutable references to two different elements of a slice.
fn two_mut<T>(v: &mut [T], a: usize, b: usize) -> (&mut T, &mut T) {
    if a < b {
        let (x, y) = v.split_at_mut(b);
        (&mut x[a], &mut y[0])
    } else {
        let (x, y) = v.split_at_mut(a);
        (&mut y[0], &mut x[b])
    }
}

impl Store {
    /// Invoke a function: type-check the arguments, run, read the results.
    pub(crate) fn call(&mut self, func: FuncAddr, args: &[Value]) -> Result<Vec<Value>, CallError> {
        let Some(f) = self.funcs.get(func.0 as usize) else {
            return Err(Trap::host(format!("unknown function address {}", func.0)).into());
        };
        let ty = self.types.defs[f.type_id as usize].func.clone();
        if !control::check_types(args, &ty.params) {
            return Err(Trap::host(format!(
                "argument type mismatch: expected {:?}, got {:?}",
                ty.params, args
            ))
            .into());
        }
        let mut stack = mem::take(&mut self.stack);
        stack.clear();
        stack.extend(args.iter().map(|v| value_to_slot(*v)));
        let result = match &self.funcs[func.0 as usize].kind {
            FuncKind::Host(_) => {
                let sp = stack.len();
                let height = self.call_host(func, None, &mut stack, sp);
                height.map(|h| stack.truncate(h)).map_err(Stop::Trap)
            }
            FuncKind::Wasm { .. } => self.run(&mut stack, func),
        };
        let result = result.map_err(|stop| match stop {
            Stop::Trap(t) => CallError::Trap(t),
            Stop::Throw(exn) => match self.exception(ExnAddr(exn)) {
                Some(e) => CallError::Exception(e),
                None => CallError::Trap(Trap::host("lost exception object")),
            },
        });
        let out = result.map(|()| {
            let start = stack.len().saturating_sub(ty.results.len());
            stack[start..]
                .iter()
                .zip(&ty.results)
                .map(|(s, t)| slot_to_value(*t, *s))
                .collect()
        });
        stack.clear();
        self.stack = stack;
        out
    }

    /// Run wasm function `entry`, whose arguments are on `stack`, until it returns (leaving
    /// its results on `stack`).
    /// Remaining fuel is written back to the store however the run ends.
    fn run(&mut self, stack: &mut Vec<Slot>, entry: FuncAddr) -> Result<(), Stop> {
        let metered = self.fuel.is_some();
        let mut fuel = self.fuel.unwrap_or(u64::MAX);
        let mut codes = mem::take(&mut self.codes);
        let result = self.run_metered(stack, &mut codes, entry, &mut fuel);
        self.codes = codes;
        if metered {
            self.fuel = Some(fuel);
        }
        result
    }

    fn run_metered(
        &mut self,
        stack: &mut Vec<Slot>,
        codes: &mut Vec<Option<Arc<FuncCode>>>,
        entry: FuncAddr,
        fuel: &mut u64,
    ) -> Result<(), Stop> {
        let FuncKind::Wasm { instance, code } = &self.funcs[entry.0 as usize].kind else {
            return Ok(());
        };
        let max_depth = self.config.max_call_depth.max(1);
        let canon = self.config.canonicalize_nans;
        // The current function's address and code. Its code is borrowed from `codes`, a cache
        // of the `Arc`s of the functions entered, and a suspended frame keeps only the
        // function's address: holding the code as an `Arc` in the loop and in each frame cost
        // an atomic increment on every call and an atomic decrement on every return (about
        // 9% of fib's time); now a call or return moves no reference count.
        let mut cur = entry.0;
        let mut code: &FuncCode = cached(codes, cur, code);
        let mut inst: Arc<Instance> = self.instances[*instance as usize].clone();
        // The store index of the current instance's memory 0, the memory of almost every
        // access: a load or store reached it through `inst`'s `Arc` and the instance's
        // `mems` (a pointer kept on the Rust stack, then a length check and an element load)
        // every time. An instance's memories never change, so it is set wherever `inst` is
        // (`usize::MAX` for an instance without memories, which validation keeps from
        // accessing memory 0).
        let first_mem = |inst: &Instance| inst.mems.first().map_or(usize::MAX, |&m| m as usize);
        let mut mem0 = first_mem(&inst);
        // The suspended callers are `frames[..depth]`; the vector only grows. A call writes
        // its caller's frame into an element that is already there, field by field, instead
        // of `Vec::push`ing it: the push (not inlined) took the frame through the Rust stack,
        // stored as 8-byte fields and copied with 16-byte loads, which the store buffer
        // cannot forward (a stall on every call; `perf annotate` put ~5% of all the kernels'
        // samples on that one load).
        let mut frames: Vec<Frame> = Vec::new();
        let mut depth = 0usize;

        // The current frame is `slots`, the part of `stack`'s buffer from the frame's first
        // local (at `locals` in `stack`) on: local `i` is `slots[i]`, and the operands are
        // `slots[base..sp]`. The buffer only grows during the run: entering a function makes
        // sure it has room for the function's locals and for the most operands its body ever
        // holds (`FuncCode::max_height`, from the validator). So a push or pop is an index
        // update of the local `sp` and one access to the slice: `Vec::push`/`pop` loaded and
        // stored the length through `&mut Vec` on every push and pop and checked the capacity
        // (push) or emptiness (pop), which was most of the cost of `local.get` and the binary
        // rules. Indices are counted from the first local, as branch heights are, so that
        // reading a local or branching does not add `locals` (which the loop kept on the Rust
        // stack, one load more for every local access); `locals` changes only with the frame.
        let mut slots: &mut [Slot];
        // The current frame: its first local in `stack`, its operand base and height (both
        // counted from its first local) and the next instruction.
        let mut locals = stack.len() - code.params;
        let mut base = code.params + code.locals;
        let mut sp: usize;
        let mut pc = 0usize;

        // Make room for the current function's locals and operands, set its declared locals
        // (`params..base`) to their default value, and start with no operands.
        macro_rules! enter {
            () => {{
                let need = locals + base + code.max_height;
                if stack.len() < need {
                    stack.resize(need, DEFAULT_SLOT);
                }
                slots = &mut stack[locals..];
                // (`fill` calls `memset` even for no locals: ~20 instructions per call.)
                if code.locals != 0 {
                    slots[code.params..base].fill(DEFAULT_SLOT);
                }
                sp = base;
            }};
        }
        enter!();

        macro_rules! pop {
            () => {{
                debug_assert!(sp > base, "operand stack underflow");
                sp -= 1;
                slots[sp]
            }};
        }
        macro_rules! push {
            ($e:expr) => {{
                let v: Slot = $e;
                slots[sp] = v;
                sp += 1;
            }};
        }
        // The top operand, left on the stack.
        macro_rules! top {
            () => {
                slots[sp - 1]
            };
        }
        // `unary!(t, a => e)`: pop a `t`, push `e`. `binary!(t, a, b => e)`: pop b, pop a.
        macro_rules! unary {
            ($t:ty, $a:ident => $e:expr) => {{
                let $a = pop!() as $t;
                push!(Slot::from($e));
            }};
        }
        macro_rules! binary {
            ($t:ty, $a:ident, $b:ident => $e:expr) => {{
                let $b = pop!() as $t;
                let $a = pop!() as $t;
                push!(Slot::from($e));
            }};
        }
        // The right operand of a register-style form: local `b` or the constant `b`.
        macro_rules! operand {
            ($rhs:expr, $b:expr) => {
                match $rhs {
                    Rhs::Local => slots[$b as usize],
                    Rhs::Const => Slot::from($b),
                }
            };
        }
        macro_rules! mem_index {
            ($m:expr) => {
                if $m == 0 {
                    mem0
                } else {
                    inst.mems[$m as usize] as usize
                }
            };
        }
        macro_rules! table_index {
            ($t:expr) => {
                inst.tables[$t as usize] as usize
            };
        }
        // `arith32!(e)`: the result of an f32 arithmetic instruction, canonical if it is a NaN
        // and the store canonicalizes NaNs (the instructions Cranelift's `nan_canonicalization`
        // pass rewrites).
        macro_rules! arith32 {
            ($e:expr) => {{
                let r: u32 = $e;
                if canon { float32::canonical(r) } else { r }
            }};
        }
        macro_rules! arith64 {
            ($e:expr) => {{
                let r: u64 = $e;
                if canon { float64::canonical(r) } else { r }
            }};
        }
        // `t.load`: pop the address, read N bytes, push the converted value.
        macro_rules! load {
            ($m:expr, $n:literal, $b:ident => $e:expr) => {{
                let m: MemArg = $m;
                let addr = pop!() as u64;
                let $b: [u8; $n] =
                    memory::load(&self.mems[mem_index!(m.mem)].data, addr, m.offset())?;
                push!(Slot::from($e));
            }};
        }
        // The value `Instr::LoadAt`'s load reads from memory 0 at `addr`: the same bytes and
        // conversions as the load's own rule above.
        macro_rules! load_from_mem0 {
            ($load:expr, $addr:expr, $off:expr) => {{
                let (mem, addr, off) = (&self.mems[mem0].data, $addr, $off);
                match $load {
                    Load::I32 | Load::F32 | Load::I64_32U => {
                        Slot::from(u32::from_le_bytes(memory::load(mem, addr, off)?))
                    }
                    Load::I64 | Load::F64 => {
                        Slot::from(u64::from_le_bytes(memory::load(mem, addr, off)?))
                    }
                    Load::I32_8S => {
                        let [b] = memory::load(mem, addr, off)?;
                        Slot::from(b as i8 as i32 as u32)
                    }
                    Load::I32_8U | Load::I64_8U => {
                        let [b] = memory::load(mem, addr, off)?;
                        Slot::from(b)
                    }
                    Load::I32_16S => {
                        let b = memory::load(mem, addr, off)?;
                        Slot::from(i16::from_le_bytes(b) as i32 as u32)
                    }
                    Load::I32_16U | Load::I64_16U => {
                        Slot::from(u16::from_le_bytes(memory::load(mem, addr, off)?))
                    }
                    Load::I64_8S => {
                        let [b] = memory::load(mem, addr, off)?;
                        Slot::from(b as i8 as i64 as u64)
                    }
                    Load::I64_16S => {
                        let b = memory::load(mem, addr, off)?;
                        Slot::from(i16::from_le_bytes(b) as i64 as u64)
                    }
                    Load::I64_32S => {
                        let b = memory::load(mem, addr, off)?;
                        Slot::from(i32::from_le_bytes(b) as i64 as u64)
                    }
                }
            }};
        }
        // `t.store`: pop the value (as `t`) and the address, write the bytes.
        macro_rules! store {
            ($m:expr, $t:ty, $v:ident => $bytes:expr) => {{
                let m: MemArg = $m;
                let $v = pop!() as $t;
                let addr = pop!() as u64;
                memory::store(
                    &mut self.mems[mem_index!(m.mem)].data,
                    addr,
                    m.offset(),
                    $bytes,
                )?;
            }};
        }
        // One unit of fuel per call and per taken branch.
        macro_rules! consume_fuel {
            () => {{
                if *fuel == 0 {
                    return Err(Trap::host("all fuel consumed").into());
                }
                *fuel -= 1;
            }};
        }
        // The innermost suspended caller, taken off the frame stack (its instance moves out
        // of the element), or `None` when the entry function is running.
        macro_rules! pop_frame {
            () => {{
                if depth == 0 {
                    None
                } else {
                    depth -= 1;
                    let f = &mut frames[depth];
                    Some(Frame {
                        func: f.func,
                        inst: f.inst.take(),
                        pc: f.pc,
                        locals: f.locals,
                    })
                }
            }};
        }
        // Continue suspended caller `f` (whose code is in `codes`, as it ran before), whose
        // operands end where the current frame's end (at `locals + sp` in `stack`).
        macro_rules! resume {
            ($f:expr) => {{
                let f: Frame = $f;
                let top = locals + sp;
                cur = f.func;
                code = match codes.get(cur as usize) {
                    Some(Some(c)) => c,
                    _ => return Err(Trap::host("lost the caller's code").into()),
                };
                if let Some(i) = f.inst {
                    inst = i;
                    mem0 = first_mem(&inst);
                }
                pc = f.pc;
                locals = f.locals;
                base = code.params + code.locals;
                slots = &mut stack[locals..];
                sp = top - locals;
            }};
        }
        // Return from the current frame: keep its results, resume the caller.
        macro_rules! do_return {
            () => {{
                let n = code.results;
                // One result, the common case, is one slot move: `copy_within`, a call of
                // its own and of `memmove`, cost ~35 instructions per return.
                if n == 1 {
                    slots[0] = slots[sp - 1];
                } else {
                    slots.copy_within(sp - n..sp, 0);
                }
                sp = n;
                match pop_frame!() {
                    None => {
                        stack.truncate(locals + sp);
                        return Ok(());
                    }
                    Some(f) => {
                        resume!(f);
                    }
                }
            }};
        }
        // `br l`: keep the label's arity values, drop down to its height, continue. Only a
        // branch out of the function (a return) leaves the body's loop (`$frames`, the
        // caller's label): a branch within the body keeps its slice of instructions, where
        // continuing the outer loop for every taken branch reloaded it from `code`.
        macro_rules! branch {
            ($b:expr, $frames:lifetime) => {{
                let b: Branch = $b;
                consume_fuel!();
                if b.target == Branch::RETURN {
                    do_return!();
                    continue $frames;
                }
                let keep = b.arity as usize;
                let height = b.height as usize;
                if sp != height + keep {
                    slots.copy_within(sp - keep..sp, height);
                    sp = height + keep;
                }
                pc = b.target as usize;
            }};
        }
        // Call function `a`: a wasm function gets a new frame, a host function runs now.
        // A tail call (`return_call*`) replaces the current frame instead: the arguments
        // take the place of its locals, and the frame stack does not grow.
        macro_rules! call {
            ($a:expr, tail: $tail:expr) => {{
                let a: FuncAddr = $a;
                consume_fuel!();
                let f = &mut self.funcs[a.0 as usize];
                match &mut f.kind {
                    FuncKind::Wasm {
                        instance,
                        code: callee,
                    } => {
                        let params = callee.params;
                        let callee_inst = &self.instances[*instance as usize];
                        // The caller's frame, built only where it is stored (see `frames`).
                        let caller_func = mem::replace(&mut cur, a.0);
                        let caller_inst = if Arc::ptr_eq(&inst, callee_inst) {
                            None
                        } else {
                            let caller_inst = mem::replace(&mut inst, callee_inst.clone());
                            mem0 = first_mem(&inst);
                            Some(caller_inst)
                        };
                        let args = sp - params;
                        if $tail {
                            slots.copy_within(args..sp, 0);
                            tail_call_leaves(&mut frames[..depth], caller_inst);
                        } else {
                            if depth + 1 >= max_depth || locals + sp > MAX_STACK_SLOTS {
                                return Err(Trap::new(TrapKind::CallStackExhausted).into());
                            }
                            if depth == frames.len() {
                                grow_frames(&mut frames);
                            }
                            let f = &mut frames[depth];
                            f.func = caller_func;
                            f.inst = caller_inst;
                            f.pc = pc;
                            f.locals = locals;
                            depth += 1;
                            locals += args;
                        }
                        code = cached(codes, cur, callee);
                        base = params + code.locals;
                        enter!();
                        pc = 0;
                    }
                    FuncKind::Host(_) => {
                        // The host function may run wasm again (through `Store::invoke`),
                        // which meters the store's fuel: lend it the loop's.
                        if self.fuel.is_some() {
                            self.fuel = Some(*fuel);
                        }
                        let caller = Some(InstanceAddr(inst.addr));
                        sp = self.call_host(a, caller, stack, locals + sp)? - locals;
                        slots = &mut stack[locals..];
                        if let Some(left) = self.fuel {
                            *fuel = left;
                        }
                        if $tail {
                            do_return!();
                        }
                    }
                }
            }};
        }
        // The function a non-null funcref slot names. A reference handed in by the host may
        // name no function of this store.
        macro_rules! func_of {
            ($f:expr) => {{
                let f: FuncAddr = $f;
                match self.funcs.get(f.0 as usize) {
                    Some(callee) => (f, callee.type_id),
                    None => {
                        return Err(
                            Trap::host(format!("invalid function reference {}", f.0)).into()
                        );
                    }
                }
            }};
        }
        // The function `call_indirect`'s operand selects in table `t`, checked against type
        // `ty`.
        macro_rules! indirect_callee {
            ($ty:expr, $t:expr) => {{
                let i = pop!() as u64;
                let t = &self.tables[table_index!($t)];
                let Some(&slot) = t.elems.get(i as usize) else {
                    return Err(Trap::new(TrapKind::UndefinedElement).into());
                };
                let Some(f) = slot_funcref(slot) else {
                    return Err(Trap::uninitialized_element(i).into());
                };
                let (f, type_id) = func_of!(f);
                if !self.types.def_sub(type_id, inst.type_ids[$ty as usize]) {
                    return Err(Trap::new(TrapKind::IndirectCallTypeMismatch).into());
                }
                f
            }};
        }
        // The function `call_ref`'s operand names.
        macro_rules! ref_callee {
            () => {{
                let Some(f) = slot_funcref(pop!()) else {
                    return Err(Trap::null_function_reference().into());
                };
                func_of!(f).0
            }};
        }

        // Throw exception object `exn` from the instruction before `pc`: find the innermost
        // handler that catches it, in this frame or in a caller's (unwinding the frames on
        // the way), and continue there; with none, the exception leaves the run.
        macro_rules! throw {
            ($exn:expr) => {{
                let exn: u32 = $exn;
                let tag = self.exns[exn as usize].tag;
                loop {
                    if let Some(c) = control::find_catch(code, &inst, pc as u32 - 1, tag) {
                        sp = c.to.height as usize;
                        if c.tag.is_some() {
                            let payload = &self.exns[exn as usize].payload;
                            slots[sp..sp + payload.len()].copy_from_slice(payload);
                            sp += payload.len();
                        }
                        let r = ref_slot(RefKind::Exn, exn);
                        if c.with_ref {
                            push!(r);
                        }
                        if let Some(l) = c.exn_local {
                            slots[l as usize] = r;
                        }
                        if c.to.target == Branch::RETURN {
                            do_return!();
                        } else {
                            pc = c.to.target as usize;
                        }
                        break;
                    }
                    match pop_frame!() {
                        None => return Err(Stop::Throw(exn)),
                        Some(f) => {
                            resume!(f);
                        }
                    }
                }
            }};
        }

        // The outer loop runs once per change of function (call, return, throw): it keeps the
        // current body in the local `instrs`, so that fetching an instruction is one load
        // from a slice in registers instead of going through `code`'s `Arc` and `Vec` on every
        // dispatch. Whatever changes `code` continues it, which the borrow of `instrs`
        // enforces.
        'frames: loop {
            let instrs: &[Instr] = &code.instrs;
            loop {
                // Matched by reference: each rule loads only the immediates it uses (a copy
                // of the 16-byte instruction loaded all of them before the jump).
                let instr = &instrs[pc];
                pc += 1;
                match *instr {
                    // ---- Control.
                    Instr::Unreachable => return Err(TrapKind::Unreachable.into()),
                    Instr::Unsupported => {
                        return Err(Trap::host("instruction not supported by the oracle").into());
                    }
                    Instr::Jump(target) => pc = target as usize,
                    Instr::BrUnless(target) => {
                        if pop!() as u32 == 0 {
                            pc = target as usize;
                        }
                    }
                    Instr::BrUnlessCmp(c, target) => {
                        let y = pop!();
                        let x = pop!();
                        if !numeric::compare(c, x, y) {
                            pc = target as usize;
                        }
                    }
                    Instr::BrUnlessEqz(target) => {
                        if pop!() as u32 != 0 {
                            pc = target as usize;
                        }
                    }
                    // Register-style compare-and-branch (see `Instr::JumpIfCmp`): the operands
                    // are read from locals or the immediate, nothing is pushed or popped, and
                    // the taken branch is a jump (the translator checked it moves no operand).
                    Instr::JumpIfCmp(c, rhs, a, b, target) => {
                        if numeric::compare(c, slots[a as usize], operand!(rhs, b)) {
                            consume_fuel!();
                            pc = target as usize;
                        }
                    }
                    Instr::JumpUnlessCmp(c, rhs, a, b, target) => {
                        if !numeric::compare(c, slots[a as usize], operand!(rhs, b)) {
                            pc = target as usize;
                        }
                    }
                    Instr::JumpIfCmpConst(c, target, k) => {
                        if numeric::compare(c, pop!(), Slot::from(k)) {
                            consume_fuel!();
                            pc = target as usize;
                        }
                    }
                    Instr::JumpUnlessCmpConst(c, target, k) => {
                        if !numeric::compare(c, pop!(), Slot::from(k)) {
                            pc = target as usize;
                        }
                    }
                    Instr::JumpIfLocal(a, target) => {
                        if slots[a as usize] as u32 != 0 {
                            consume_fuel!();
                            pc = target as usize;
                        }
                    }
                    Instr::JumpIfTee(a, target) => {
                        let v = pop!() as u64;
                        slots[a as usize] = Slot::from(v);
                        if v as u32 != 0 {
                            consume_fuel!();
                            pc = target as usize;
                        }
                    }
                    Instr::Br(b) => {
                        branch!(b, 'frames);
                    }
                    Instr::BrIf(b) => {
                        if pop!() as u32 != 0 {
                            branch!(b, 'frames);
                        }
                    }
                    Instr::BrIfEqz(b) => {
                        if pop!() as u32 == 0 {
                            branch!(b, 'frames);
                        }
                    }
                    Instr::BrIfCmp(c, b) => {
                        let y = pop!();
                        let x = pop!();
                        if numeric::compare(c, x, y) {
                            branch!(b, 'frames);
                        }
                    }
                    Instr::BrOnNull(b) => {
                        if top!() == 0 {
                            pop!();
                            branch!(b, 'frames);
                        }
                    }
                    Instr::BrOnNonNull(b) => {
                        if top!() == 0 {
                            pop!();
                        } else {
                            branch!(b, 'frames);
                        }
                    }
                    Instr::BrTable { start, len } => {
                        let i = (pop!() as u32).min(len - 1);
                        let b = code.br_tables[(start + i) as usize];
                        branch!(b, 'frames);
                    }
                    Instr::Return => {
                        do_return!();
                        continue 'frames;
                    }
                    Instr::Call(f) => {
                        call!(inst.funcs[f as usize], tail: false);
                        continue 'frames;
                    }
                    Instr::CallIndirect { type_index, table } => {
                        call!(indirect_callee!(type_index, table), tail: false);
                        continue 'frames;
                    }
                    Instr::CallRef => {
                        call!(ref_callee!(), tail: false);
                        continue 'frames;
                    }
                    Instr::ReturnCall(f) => {
                        call!(inst.funcs[f as usize], tail: true);
                        continue 'frames;
                    }
                    Instr::ReturnCallIndirect { type_index, table } => {
                        call!(indirect_callee!(type_index, table), tail: true);
                        continue 'frames;
                    }
                    Instr::ReturnCallRef => {
                        call!(ref_callee!(), tail: true);
                        continue 'frames;
                    }
                    Instr::Throw(x) => {
                        let tag = inst.tags[x as usize];
                        let ty = &self.types.defs[self.tags[tag as usize].type_id as usize].func;
                        sp -= ty.params.len();
                        let payload = slots[sp..sp + ty.params.len()].to_vec();
                        if self.objects.len() + self.exns.len() >= self.config.max_objects {
                            return Err(Trap::host("allocation limit exceeded").into());
                        }
                        self.exns.push(ExnInst { tag, payload });
                        throw!(self.exns.len() as u32 - 1);
                        continue 'frames;
                    }
                    Instr::ThrowRef => {
                        let Some((_, exn)) = slot_ref(pop!()) else {
                            return Err(Trap::new(TrapKind::NullExceptionReference).into());
                        };
                        throw!(exn);
                        continue 'frames;
                    }
                    Instr::Rethrow(l) => {
                        // The catch clause wrote the exception there: never null.
                        let exn = slot_ref(slots[l as usize]).map_or(0, |(_, e)| e);
                        throw!(exn);
                        continue 'frames;
                    }

                    // ---- Parametric.
                    Instr::Drop => {
                        pop!();
                    }
                    Instr::Select => {
                        let c = pop!() as u32;
                        let b = pop!();
                        let a = pop!();
                        push!(if c != 0 { a } else { b });
                    }

                    // ---- Variables.
                    // Number locals move the 64 bits their slots can hold, as the number rules
                    // read and write them. (A whole-slot copy is one 16-byte load, and reading
                    // a result that a number rule just wrote as two 8-byte halves cannot be
                    // forwarded from the store buffer: it stalled `local.set` after arithmetic.)
                    Instr::LocalGet(i) => push!(Slot::from(slots[i as usize] as u64)),
                    Instr::LocalSet(i) => {
                        let v = pop!() as u64;
                        slots[i as usize] = Slot::from(v);
                    }
                    Instr::LocalTee(i) => {
                        let v = top!() as u64;
                        slots[i as usize] = Slot::from(v);
                    }
                    Instr::LocalGetWide(i) => push!(slots[i as usize]),
                    Instr::LocalSetWide(i) => {
                        let v = pop!();
                        slots[i as usize] = v;
                    }
                    Instr::LocalTeeWide(i) => {
                        let v = top!();
                        slots[i as usize] = v;
                    }
                    Instr::LocalGet2(a, b) => {
                        push!(Slot::from(slots[a as usize] as u64));
                        push!(Slot::from(slots[b as usize] as u64));
                    }
                    Instr::LocalSetGet(a, b) => {
                        let v = pop!() as u64;
                        slots[a as usize] = Slot::from(v);
                        push!(Slot::from(slots[b as usize] as u64));
                    }
                    Instr::LocalCopy(a, d) => {
                        slots[d as usize] = Slot::from(slots[a as usize] as u64)
                    }
                    Instr::LocalSetConst(d, c) => slots[d as usize] = Slot::from(c),
                    Instr::LocalGetConst(a, c) => {
                        push!(Slot::from(slots[a as usize] as u64));
                        push!(Slot::from(c));
                    }
                    Instr::GlobalGet(i) => {
                        push!(self.globals[inst.globals[i as usize] as usize].value)
                    }
                    Instr::GlobalSet(i) => {
                        let v = pop!();
                        self.globals[inst.globals[i as usize] as usize].value = v;
                    }

                    // ---- Memory.
                    Instr::I32Load(m) => load!(m, 4, b => u32::from_le_bytes(b)),
                    Instr::I64Load(m) => load!(m, 8, b => u64::from_le_bytes(b)),
                    Instr::F32Load(m) => load!(m, 4, b => u32::from_le_bytes(b)),
                    Instr::F64Load(m) => load!(m, 8, b => u64::from_le_bytes(b)),
                    Instr::I32Load8S(m) => load!(m, 1, b => b[0] as i8 as i32 as u32),
                    Instr::I32Load8U(m) => load!(m, 1, b => b[0]),
                    Instr::I32Load16S(m) => load!(m, 2, b => i16::from_le_bytes(b) as i32 as u32),
                    Instr::I32Load16U(m) => load!(m, 2, b => u16::from_le_bytes(b)),
                    Instr::I64Load8S(m) => load!(m, 1, b => b[0] as i8 as i64 as u64),
                    Instr::I64Load8U(m) => load!(m, 1, b => b[0]),
                    Instr::I64Load16S(m) => load!(m, 2, b => i16::from_le_bytes(b) as i64 as u64),
                    Instr::I64Load16U(m) => load!(m, 2, b => u16::from_le_bytes(b)),
                    Instr::I64Load32S(m) => load!(m, 4, b => i32::from_le_bytes(b) as i64 as u64),
                    Instr::I64Load32U(m) => load!(m, 4, b => u32::from_le_bytes(b)),
                    Instr::LoadAt(load, at, a, offset) => {
                        let addr = match at {
                            Addr::Local => slots[a as usize] as u64,
                            Addr::Add => {
                                let y = pop!() as u32;
                                let x = pop!() as u32;
                                u64::from(x.wrapping_add(y))
                            }
                        };
                        push!(load_from_mem0!(load, addr, offset.get()));
                    }
                    Instr::StoreAt(w, rhs, a, v, offset) => {
                        let addr = slots[a as usize] as u64;
                        let v = operand!(rhs, v) as u64;
                        let (mem, off) = (&mut self.mems[mem0].data, u64::from(offset));
                        match w {
                            Width::B1 => memory::store(mem, addr, off, [v as u8])?,
                            Width::B2 => memory::store(mem, addr, off, (v as u16).to_le_bytes())?,
                            Width::B4 => memory::store(mem, addr, off, (v as u32).to_le_bytes())?,
                            Width::B8 => memory::store(mem, addr, off, v.to_le_bytes())?,
                        }
                    }
                    Instr::I32Store(m) | Instr::F32Store(m) | Instr::I64Store32(m) => {
                        store!(m, u32, v => v.to_le_bytes())
                    }
                    Instr::I64Store(m) | Instr::F64Store(m) => store!(m, u64, v => v.to_le_bytes()),
                    Instr::I32Store8(m) | Instr::I64Store8(m) => store!(m, u8, v => [v]),
                    Instr::I32Store16(m) | Instr::I64Store16(m) => {
                        store!(m, u16, v => v.to_le_bytes())
                    }
                    Instr::BrOnCast(c) | Instr::BrOnCastFail(c) => {
                        let cast = code.casts[c as usize];
                        let to = cast.to.map(&|t| inst.type_ids[t as usize]);
                        let matches = self.ref_matches(top!(), to);
                        if matches == matches!(*instr, Instr::BrOnCast(_)) {
                            branch!(cast.branch, 'frames);
                        }
                    }

                    // ---- Constants.
                    Instr::Const32(x) => push!(Slot::from(x)),
                    Instr::Const64(x) => push!(Slot::from(x)),
                    Instr::I32AddConst(c) => unary!(u32, a => a.wrapping_add(c)),
                    Instr::I32BinConst(op, c) => unary!(u32, a => numeric::i32_binary(op, a, c)),
                    Instr::I64BinConst(op, c) => unary!(u64, a => numeric::i64_binary(op, a, c)),
                    Instr::I64BinConstTo(op, d, c) => {
                        let a = pop!() as u64;
                        slots[d as usize] = Slot::from(numeric::i64_binary(op, a, c));
                    }
                    // Register-style operands: reading a local directly instead of pushing it
                    // and popping it again saves a dispatch and a slot store and load per
                    // operand (float and hash spent much of their time on those).
                    Instr::BinLocal(op, n) => {
                        let b = slots[n as usize] as u64;
                        unary!(u64, a => numeric::binary(op, canon, a, b));
                    }
                    Instr::BinLocals(op, x, y) => {
                        let a = slots[x as usize] as u64;
                        let b = slots[y as usize] as u64;
                        push!(Slot::from(numeric::binary(op, canon, a, b)));
                    }
                    Instr::BinLocalTo(op, n, d) => {
                        let a = pop!() as u64;
                        let b = slots[n as usize] as u64;
                        slots[d as usize] = Slot::from(numeric::binary(op, canon, a, b));
                    }
                    Instr::BinLocalsTo(op, x, y, d) => {
                        let a = slots[x as usize] as u64;
                        let b = slots[y as usize] as u64;
                        slots[d as usize] = Slot::from(numeric::binary(op, canon, a, b));
                    }
                    Instr::I32BinLocalConst(op, a, c) => {
                        let a = slots[a as usize] as u32;
                        push!(Slot::from(numeric::i32_binary(op, a, c)));
                    }
                    Instr::I32BinLocalConstTo(op, a, c, d) => {
                        let a = slots[a as usize] as u32;
                        slots[d as usize] = Slot::from(numeric::i32_binary(op, a, c));
                    }
                    Instr::I32BinLocalConstTee(op, a, c, d) => {
                        let a = slots[a as usize] as u32;
                        let r = Slot::from(numeric::i32_binary(op, a, c));
                        slots[d as usize] = r;
                        push!(r);
                    }
                    Instr::CmpConst(c, k) => {
                        let x = pop!();
                        push!(Slot::from(numeric::compare(c, x, Slot::from(k))));
                    }
                    Instr::CmpLocal(c, rhs, a, b) => {
                        push!(Slot::from(numeric::compare(
                            c,
                            slots[a as usize],
                            operand!(rhs, b)
                        )));
                    }

                    // ---- i32.
                    Instr::I32Eqz => unary!(u32, a => a == 0),
                    Instr::I32Eq => binary!(u32, a, b => a == b),
                    Instr::I32Ne => binary!(u32, a, b => a != b),
                    Instr::I32LtS => binary!(u32, a, b => (a as i32) < (b as i32)),
                    Instr::I32LtU => binary!(u32, a, b => a < b),
                    Instr::I32GtS => binary!(u32, a, b => (a as i32) > (b as i32)),
                    Instr::I32GtU => binary!(u32, a, b => a > b),
                    Instr::I32LeS => binary!(u32, a, b => (a as i32) <= (b as i32)),
                    Instr::I32LeU => binary!(u32, a, b => a <= b),
                    Instr::I32GeS => binary!(u32, a, b => (a as i32) >= (b as i32)),
                    Instr::I32GeU => binary!(u32, a, b => a >= b),
                    Instr::I32Clz => unary!(u32, a => a.leading_zeros()),
                    Instr::I32Ctz => unary!(u32, a => a.trailing_zeros()),
                    Instr::I32Popcnt => unary!(u32, a => a.count_ones()),
                    Instr::I32Add => binary!(u32, a, b => a.wrapping_add(b)),
                    Instr::I32Sub => binary!(u32, a, b => a.wrapping_sub(b)),
                    Instr::I32Mul => binary!(u32, a, b => a.wrapping_mul(b)),
                    Instr::I32DivS => binary!(u32, a, b => numeric::i32_div_s(a, b)?),
                    Instr::I32DivU => binary!(u32, a, b => numeric::i32_div_u(a, b)?),
                    Instr::I32RemS => binary!(u32, a, b => numeric::i32_rem_s(a, b)?),
                    Instr::I32RemU => binary!(u32, a, b => numeric::i32_rem_u(a, b)?),
                    Instr::I32And => binary!(u32, a, b => a & b),
                    Instr::I32Or => binary!(u32, a, b => a | b),
                    Instr::I32Xor => binary!(u32, a, b => a ^ b),
                    Instr::I32Shl => binary!(u32, a, b => a.wrapping_shl(b)),
                    Instr::I32ShrS => binary!(u32, a, b => (a as i32).wrapping_shr(b) as u32),
                    Instr::I32ShrU => binary!(u32, a, b => a.wrapping_shr(b)),
                    Instr::I32Rotl => binary!(u32, a, b => a.rotate_left(b % 32)),
                    Instr::I32Rotr => binary!(u32, a, b => a.rotate_right(b % 32)),

                    // ---- i64.
                    Instr::I64Eqz => unary!(u64, a => a == 0),
                    Instr::I64Eq => binary!(u64, a, b => a == b),
                    Instr::I64Ne => binary!(u64, a, b => a != b),
                    Instr::I64LtS => binary!(u64, a, b => (a as i64) < (b as i64)),
                    Instr::I64LtU => binary!(u64, a, b => a < b),
                    Instr::I64GtS => binary!(u64, a, b => (a as i64) > (b as i64)),
                    Instr::I64GtU => binary!(u64, a, b => a > b),
                    Instr::I64LeS => binary!(u64, a, b => (a as i64) <= (b as i64)),
                    Instr::I64LeU => binary!(u64, a, b => a <= b),
                    Instr::I64GeS => binary!(u64, a, b => (a as i64) >= (b as i64)),
                    Instr::I64GeU => binary!(u64, a, b => a >= b),
                    Instr::I64Clz => unary!(u64, a => u64::from(a.leading_zeros())),
                    Instr::I64Ctz => unary!(u64, a => u64::from(a.trailing_zeros())),
                    Instr::I64Popcnt => unary!(u64, a => u64::from(a.count_ones())),
                    Instr::I64Add => binary!(u64, a, b => a.wrapping_add(b)),
                    Instr::I64Sub => binary!(u64, a, b => a.wrapping_sub(b)),
                    Instr::I64Mul => binary!(u64, a, b => a.wrapping_mul(b)),
                    Instr::I64DivS => binary!(u64, a, b => numeric::i64_div_s(a, b)?),
                    Instr::I64DivU => binary!(u64, a, b => numeric::i64_div_u(a, b)?),
                    Instr::I64RemS => binary!(u64, a, b => numeric::i64_rem_s(a, b)?),
                    Instr::I64RemU => binary!(u64, a, b => numeric::i64_rem_u(a, b)?),
                    Instr::I64And => binary!(u64, a, b => a & b),
                    Instr::I64Or => binary!(u64, a, b => a | b),
                    Instr::I64Xor => binary!(u64, a, b => a ^ b),
                    Instr::I64Shl => binary!(u64, a, b => a.wrapping_shl(b as u32)),
                    Instr::I64ShrS => {
                        binary!(u64, a, b => (a as i64).wrapping_shr(b as u32) as u64)
                    }
                    Instr::I64ShrU => binary!(u64, a, b => a.wrapping_shr(b as u32)),
                    Instr::I64Rotl => binary!(u64, a, b => a.rotate_left((b % 64) as u32)),
                    Instr::I64Rotr => binary!(u64, a, b => a.rotate_right((b % 64) as u32)),

                    // ---- f32.
                    Instr::F32Eq => binary!(u32, a, b => float32::eq(a, b)),
                    Instr::F32Ne => binary!(u32, a, b => float32::ne(a, b)),
                    Instr::F32Lt => binary!(u32, a, b => float32::lt(a, b)),
                    Instr::F32Gt => binary!(u32, a, b => float32::gt(a, b)),
                    Instr::F32Le => binary!(u32, a, b => float32::le(a, b)),
                    Instr::F32Ge => binary!(u32, a, b => float32::ge(a, b)),
                    Instr::F32Abs => unary!(u32, a => float32::abs(a)),
                    Instr::F32Neg => unary!(u32, a => float32::neg(a)),
                    Instr::F32Ceil => unary!(u32, a => arith32!(float32::ceil(a))),
                    Instr::F32Floor => unary!(u32, a => arith32!(float32::floor(a))),
                    Instr::F32Trunc => unary!(u32, a => arith32!(float32::trunc(a))),
                    Instr::F32Nearest => unary!(u32, a => arith32!(float32::nearest(a))),
                    Instr::F32Sqrt => unary!(u32, a => arith32!(float32::sqrt(a))),
                    Instr::F32Add => binary!(u32, a, b => arith32!(float32::add(a, b))),
                    Instr::F32Sub => binary!(u32, a, b => arith32!(float32::sub(a, b))),
                    Instr::F32Mul => binary!(u32, a, b => arith32!(float32::mul(a, b))),
                    Instr::F32Div => binary!(u32, a, b => arith32!(float32::div(a, b))),
                    Instr::F32Min => binary!(u32, a, b => arith32!(float32::min(a, b))),
                    Instr::F32Max => binary!(u32, a, b => arith32!(float32::max(a, b))),
                    Instr::F32Copysign => binary!(u32, a, b => float32::copysign(a, b)),

                    // ---- f64.
                    Instr::F64Eq => binary!(u64, a, b => float64::eq(a, b)),
                    Instr::F64Ne => binary!(u64, a, b => float64::ne(a, b)),
                    Instr::F64Lt => binary!(u64, a, b => float64::lt(a, b)),
                    Instr::F64Gt => binary!(u64, a, b => float64::gt(a, b)),
                    Instr::F64Le => binary!(u64, a, b => float64::le(a, b)),
                    Instr::F64Ge => binary!(u64, a, b => float64::ge(a, b)),
                    Instr::F64Abs => unary!(u64, a => float64::abs(a)),
                    Instr::F64Neg => unary!(u64, a => float64::neg(a)),
                    Instr::F64Ceil => unary!(u64, a => arith64!(float64::ceil(a))),
                    Instr::F64Floor => unary!(u64, a => arith64!(float64::floor(a))),
                    Instr::F64Trunc => unary!(u64, a => arith64!(float64::trunc(a))),
                    Instr::F64Nearest => unary!(u64, a => arith64!(float64::nearest(a))),
                    Instr::F64Sqrt => unary!(u64, a => arith64!(float64::sqrt(a))),
                    Instr::F64Add => binary!(u64, a, b => arith64!(float64::add(a, b))),
                    Instr::F64Sub => binary!(u64, a, b => arith64!(float64::sub(a, b))),
                    Instr::F64Mul => binary!(u64, a, b => arith64!(float64::mul(a, b))),
                    Instr::F64Div => binary!(u64, a, b => arith64!(float64::div(a, b))),
                    Instr::F64Min => binary!(u64, a, b => arith64!(float64::min(a, b))),
                    Instr::F64Max => binary!(u64, a, b => arith64!(float64::max(a, b))),
                    Instr::F64Copysign => binary!(u64, a, b => float64::copysign(a, b)),

                    // ---- Conversions.
                    Instr::I32WrapI64 => unary!(u64, a => a as u32),
                    Instr::I32TruncF32S => {
                        unary!(u32, a => numeric::i32_trunc_s(numeric::f32_as_f64(a))?)
                    }
                    Instr::I32TruncF32U => {
                        unary!(u32, a => numeric::i32_trunc_u(numeric::f32_as_f64(a))?)
                    }
                    Instr::I32TruncF64S => {
                        unary!(u64, a => numeric::i32_trunc_s(f64::from_bits(a))?)
                    }
                    Instr::I32TruncF64U => {
                        unary!(u64, a => numeric::i32_trunc_u(f64::from_bits(a))?)
                    }
                    Instr::I64ExtendI32S => unary!(u32, a => a as i32 as i64 as u64),
                    Instr::I64ExtendI32U => unary!(u32, a => u64::from(a)),
                    Instr::I64TruncF32S => {
                        unary!(u32, a => numeric::i64_trunc_s(numeric::f32_as_f64(a))?)
                    }
                    Instr::I64TruncF32U => {
                        unary!(u32, a => numeric::i64_trunc_u(numeric::f32_as_f64(a))?)
                    }
                    Instr::I64TruncF64S => {
                        unary!(u64, a => numeric::i64_trunc_s(f64::from_bits(a))?)
                    }
                    Instr::I64TruncF64U => {
                        unary!(u64, a => numeric::i64_trunc_u(f64::from_bits(a))?)
                    }
                    Instr::F32ConvertI32S => unary!(u32, a => numeric::f32_convert_i32_s(a)),
                    Instr::F32ConvertI32U => unary!(u32, a => numeric::f32_convert_i32_u(a)),
                    Instr::F32ConvertI64S => unary!(u64, a => numeric::f32_convert_i64_s(a)),
                    Instr::F32ConvertI64U => unary!(u64, a => numeric::f32_convert_i64_u(a)),
                    Instr::F32DemoteF64 => unary!(u64, a => arith32!(numeric::f32_demote(a))),
                    Instr::F64ConvertI32S => unary!(u32, a => numeric::f64_convert_i32_s(a)),
                    Instr::F64ConvertI32U => unary!(u32, a => numeric::f64_convert_i32_u(a)),
                    Instr::F64ConvertI64S => unary!(u64, a => numeric::f64_convert_i64_s(a)),
                    Instr::F64ConvertI64U => unary!(u64, a => numeric::f64_convert_i64_u(a)),
                    Instr::F64PromoteF32 => unary!(u32, a => arith64!(numeric::f64_promote(a))),
                    Instr::Reinterpret => {}

                    // ---- Sign extension.
                    Instr::I32Extend8S => unary!(u32, a => a as i8 as i32 as u32),
                    Instr::I32Extend16S => unary!(u32, a => a as i16 as i32 as u32),
                    Instr::I64Extend8S => unary!(u64, a => a as i8 as i64 as u64),
                    Instr::I64Extend16S => unary!(u64, a => a as i16 as i64 as u64),
                    Instr::I64Extend32S => unary!(u64, a => a as i32 as i64 as u64),

                    // ---- SIMD.
                    Instr::V128Const(i) => push!(code.v128s[i as usize]),
                    Instr::I8x16Shuffle(i) => {
                        binary!(u128, a, b => simd::shuffle(code.v128s[i as usize], a, b))
                    }
                    Instr::SimdUnary(op) => unary!(u128, a => {
                        let r = simd::unary(op, a);
                        if canon { simd::canonical_unary(op, r) } else { r }
                    }),
                    Instr::SimdBinary(op) => binary!(u128, a, b => {
                        let r = simd::binary(op, a, b);
                        if canon { simd::canonical_binary(op, r) } else { r }
                    }),
                    Instr::V128Store(m) => store!(m, u128, v => v.to_le_bytes()),
                    Instr::SimdLoad(op, m) => {
                        let addr = pop!() as u64;
                        let mem = &self.mems[mem_index!(m.mem)].data;
                        push!(simd::memory::load_vector(op, mem, addr, m.offset())?);
                    }
                    // Everything else (tables, bulk memory, references and GC, saturating
                    // truncations, the rarer SIMD rules): see `cold`. Listed, not `_`: with
                    // every variant matched, the dispatch's jump table covers every tag, so
                    // the compiler drops the range check (a compare and a branch) it made
                    // before every jump for the default arm.
                    Instr::ArrayCopy { .. }
                    | Instr::ArrayFill(..)
                    | Instr::ArrayGet { .. }
                    | Instr::ArrayInitData { .. }
                    | Instr::ArrayInitElem { .. }
                    | Instr::ArrayLen
                    | Instr::ArrayNew(..)
                    | Instr::ArrayNewData { .. }
                    | Instr::ArrayNewDefault(..)
                    | Instr::ArrayNewElem { .. }
                    | Instr::ArrayNewFixed { .. }
                    | Instr::ArraySet(..)
                    | Instr::DataDrop(..)
                    | Instr::ElemDrop(..)
                    | Instr::I31Get(..)
                    | Instr::I32TruncSatF32S
                    | Instr::I32TruncSatF32U
                    | Instr::I32TruncSatF64S
                    | Instr::I32TruncSatF64U
                    | Instr::I64TruncSatF32S
                    | Instr::I64TruncSatF32U
                    | Instr::I64TruncSatF64S
                    | Instr::I64TruncSatF64U
                    | Instr::MemoryCopy { .. }
                    | Instr::MemoryFill(..)
                    | Instr::MemoryGrow(..)
                    | Instr::MemoryInit { .. }
                    | Instr::MemorySize(..)
                    | Instr::RefAsNonNull
                    | Instr::RefCast(..)
                    | Instr::RefEq
                    | Instr::RefFunc(..)
                    | Instr::RefI31
                    | Instr::RefIsNull
                    | Instr::RefNull
                    | Instr::RefTest(..)
                    | Instr::RelaxedBinary(..)
                    | Instr::RelaxedTernary(..)
                    | Instr::RelaxedUnary(..)
                    | Instr::SimdExtractLane(..)
                    | Instr::SimdMemLane(..)
                    | Instr::SimdReplaceLane(..)
                    | Instr::SimdShift(..)
                    | Instr::SimdTernary(..)
                    | Instr::StructGet { .. }
                    | Instr::StructNew(..)
                    | Instr::StructNewDefault(..)
                    | Instr::StructSet { .. }
                    | Instr::TableCopy { .. }
                    | Instr::TableFill(..)
                    | Instr::TableGet(..)
                    | Instr::TableGrow(..)
                    | Instr::TableInit { .. }
                    | Instr::TableSet(..)
                    | Instr::TableSize(..) => {
                        sp = self.cold(instr, &inst, code, slots, sp, canon)?
                    }
                }
            }
        }
    }
}

impl Store {
    /// The rules of the instructions that are rare in hot loops: tables, bulk memory,
    /// references and GC objects, saturating truncations and the rarer SIMD rules. None of
    /// them branches, calls or throws; each pops its operands from `slots[..sp]` and pushes
    /// its result, and the new height is returned.
    ///
    /// Out of line on purpose: the dispatch loop's speed depends on how its hot state (pc,
    /// operand height, locals, the current body) is kept in registers, and every rule inside
    /// it competes for them. With these ~55 rules in the loop, the current body's pointer was
    /// spilled to the stack and reloaded on every dispatch (`perf annotate`); without them it
    /// stays in a register. A cold rule now costs one call: the `gc` kernel, all struct and
    /// array rules, is ~8% slower. (Alone, this change moved the other kernels by -10% to
    /// +10% from build to build, placement effects; with the next two changes they are all
    /// faster.)
    #[inline(never)]
    fn cold(
        &mut self,
        instr: &Instr,
        inst: &Instance,
        code: &FuncCode,
        slots: &mut [Slot],
        mut sp: usize,
        canon: bool,
    ) -> Result<usize, Stop> {
        macro_rules! pop {
            () => {{
                sp -= 1;
                slots[sp]
            }};
        }
        macro_rules! push {
            ($e:expr) => {{
                let v: Slot = $e;
                slots[sp] = v;
                sp += 1;
            }};
        }
        macro_rules! top {
            () => {
                slots[sp - 1]
            };
        }
        macro_rules! unary {
            ($t:ty, $a:ident => $e:expr) => {{
                let $a = pop!() as $t;
                push!(Slot::from($e));
            }};
        }
        macro_rules! binary {
            ($t:ty, $a:ident, $b:ident => $e:expr) => {{
                let $b = pop!() as $t;
                let $a = pop!() as $t;
                push!(Slot::from($e));
            }};
        }
        macro_rules! mem_index {
            ($m:expr) => {
                inst.mems[$m as usize] as usize
            };
        }
        macro_rules! table_index {
            ($t:expr) => {
                inst.tables[$t as usize] as usize
            };
        }
        macro_rules! object {
            ($r:expr, $what:literal) => {{
                let Some((_, a)) = slot_ref($r) else {
                    return Err(Trap::null($what).into());
                };
                a as usize
            }};
        }
        macro_rules! array_len {
            ($n:expr) => {{
                let n: u32 = $n;
                if u64::from(n) > gc::MAX_ARRAY_LEN {
                    return Err(Trap::host("allocation limit exceeded").into());
                }
                n as usize
            }};
        }
        match *instr {
            // ---- Tables.
            Instr::TableGet(t) => {
                let i = pop!() as u64;
                push!(table::get(&self.tables[table_index!(t)], i)?);
            }
            Instr::TableSet(t) => {
                let v = pop!();
                let i = pop!() as u64;
                table::set(&mut self.tables[table_index!(t)], i, v)?;
            }
            Instr::TableSize(t) => push!(self.tables[table_index!(t)].elems.len() as Slot),
            Instr::TableGrow(t) => {
                let n = pop!() as u64;
                let init = pop!();
                push!(Slot::from(table::grow(
                    &mut self.tables[table_index!(t)],
                    init,
                    n
                )));
            }
            Instr::TableFill(t) => {
                let n = pop!() as u64;
                let v = pop!();
                let i = pop!() as u64;
                table::fill(&mut self.tables[table_index!(t)], i, v, n)?;
            }
            Instr::TableCopy { dst, src } => {
                let n = pop!() as u64;
                let s = pop!() as u64;
                let d = pop!() as u64;
                let (dst, src) = (table_index!(dst), table_index!(src));
                if dst == src {
                    table::copy_within(&mut self.tables[dst], d, s, n)?;
                } else {
                    let (dt, st) = two_mut(&mut self.tables, dst, src);
                    table::copy_between(dt, st, d, s, n)?;
                }
            }
            Instr::TableInit { elem, table: t } => {
                let n = pop!() as u64;
                let s = pop!() as u64;
                let d = pop!() as u64;
                let elems = &self.elems[inst.elems[elem as usize] as usize].elems;
                table::init(&mut self.tables[table_index!(t)], elems, d, s, n)?;
            }
            Instr::ElemDrop(e) => {
                self.elems[inst.elems[e as usize] as usize].elems = Vec::new();
            }

            Instr::MemorySize(m) => push!(Slot::from(self.mems[mem_index!(m)].pages())),
            Instr::MemoryGrow(m) => {
                let n = pop!() as u64;
                push!(Slot::from(memory::grow(&mut self.mems[mem_index!(m)], n)));
            }
            Instr::MemoryInit { data, mem } => {
                let n = pop!() as u64;
                let s = pop!() as u64;
                let d = pop!() as u64;
                let bytes = &self.datas[inst.datas[data as usize] as usize].bytes;
                memory::init(&mut self.mems[mem_index!(mem)].data, bytes, d, s, n)?;
            }
            Instr::DataDrop(i) => {
                self.datas[inst.datas[i as usize] as usize].bytes = Arc::from([]);
            }
            Instr::MemoryCopy { dst, src } => {
                let n = pop!() as u64;
                let s = pop!() as u64;
                let d = pop!() as u64;
                let (dst, src) = (mem_index!(dst), mem_index!(src));
                if dst == src {
                    memory::copy_within(&mut self.mems[dst].data, d, s, n)?;
                } else {
                    let (dm, sm) = two_mut(&mut self.mems, dst, src);
                    memory::copy_between(&mut dm.data, &sm.data, d, s, n)?;
                }
            }
            Instr::MemoryFill(m) => {
                let n = pop!() as u64;
                let v = pop!() as u8;
                let d = pop!() as u64;
                memory::fill(&mut self.mems[mem_index!(m)].data, d, v, n)?;
            }

            // ---- References.
            Instr::RefNull => push!(0),
            Instr::RefIsNull => unary!(u128, r => r == 0),
            Instr::RefAsNonNull => {
                if top!() == 0 {
                    return Err(Trap::new(TrapKind::NullReference).into());
                }
            }
            Instr::RefFunc(f) => push!(funcref_slot(Some(inst.funcs[f as usize]))),

            Instr::RefEq => binary!(u128, a, b => a == b),
            Instr::RefTest(c) => {
                let to = code.casts[c as usize]
                    .to
                    .map(&|t| inst.type_ids[t as usize]);
                let r = pop!();
                push!(Slot::from(self.ref_matches(r, to)));
            }
            Instr::RefCast(c) => {
                let to = code.casts[c as usize]
                    .to
                    .map(&|t| inst.type_ids[t as usize]);
                if !self.ref_matches(top!(), to) {
                    return Err(Trap::new(TrapKind::CastFailure).into());
                }
            }
            // ---- Aggregates and i31 (see `exec/gc.rs`).
            Instr::RefI31 => unary!(u32, x => ref_slot(RefKind::I31, x & 0x7fff_ffff)),
            Instr::I31Get(sign) => {
                let Some((_, x)) = slot_ref(pop!()) else {
                    return Err(Trap::null("i31").into());
                };
                push!(Slot::from(gc::i31_get(x, sign)));
            }
            Instr::StructNew(t) => {
                let id = inst.type_ids[t as usize];
                let n = gc::field_count(&self.types, id);
                sp -= n;
                let mut fields = slots[sp..sp + n].to_vec();
                for (i, f) in fields.iter_mut().enumerate() {
                    *f = gc::pack(gc::storage(&self.types, id, i), *f);
                }
                push!(self.alloc(RefKind::Struct, id, fields)?);
            }
            Instr::StructNewDefault(t) => {
                let id = inst.type_ids[t as usize];
                let fields = vec![DEFAULT_SLOT; gc::field_count(&self.types, id)];
                push!(self.alloc(RefKind::Struct, id, fields)?);
            }
            Instr::StructGet { ty, field, sign } => {
                let a = object!(pop!(), "structure");
                let s = gc::storage(&self.types, inst.type_ids[ty as usize], field as usize);
                push!(gc::unpack(s, self.objects[a].fields[field as usize], sign));
            }
            Instr::StructSet { ty, field } => {
                let v = pop!();
                let a = object!(pop!(), "structure");
                let s = gc::storage(&self.types, inst.type_ids[ty as usize], field as usize);
                self.objects[a].fields[field as usize] = gc::pack(s, v);
            }
            Instr::ArrayNew(t) => {
                let n = array_len!(pop!() as u32);
                let id = inst.type_ids[t as usize];
                let v = gc::pack(gc::storage(&self.types, id, 0), pop!());
                push!(self.alloc(RefKind::Array, id, vec![v; n])?);
            }
            Instr::ArrayNewDefault(t) => {
                let n = array_len!(pop!() as u32);
                let id = inst.type_ids[t as usize];
                push!(self.alloc(RefKind::Array, id, vec![DEFAULT_SLOT; n])?);
            }
            Instr::ArrayNewFixed { ty, n } => {
                let id = inst.type_ids[ty as usize];
                let s = gc::storage(&self.types, id, 0);
                sp -= n as usize;
                let elems = slots[sp..sp + n as usize].iter();
                let elems = elems.map(|&v| gc::pack(s, v)).collect();
                push!(self.alloc(RefKind::Array, id, elems)?);
            }
            Instr::ArrayNewData { ty, data } => {
                // The segment bounds the length: its check comes first.
                let n = pop!() as u32;
                let s = pop!() as u32;
                let id = inst.type_ids[ty as usize];
                let size = gc::storage_bytes(gc::storage(&self.types, id, 0));
                let bytes = &self.datas[inst.datas[data as usize] as usize].bytes;
                let Some(elems) = gc::read_elements(bytes, u64::from(s), u64::from(n), size) else {
                    return Err(TrapKind::OutOfBoundsMemoryAccess.into());
                };
                push!(self.alloc(RefKind::Array, id, elems)?);
            }
            Instr::ArrayNewElem { ty, elem } => {
                let n = pop!() as u32;
                let s = pop!() as u32;
                let id = inst.type_ids[ty as usize];
                let segment = &self.elems[inst.elems[elem as usize] as usize].elems;
                let Some(r) = gc::range(segment.len(), u64::from(s), u64::from(n)) else {
                    return Err(TrapKind::OutOfBoundsTableAccess.into());
                };
                let elems = segment[r].to_vec();
                push!(self.alloc(RefKind::Array, id, elems)?);
            }
            Instr::ArrayGet { ty, sign } => {
                let i = pop!() as u32;
                let a = object!(pop!(), "array");
                let s = gc::storage(&self.types, inst.type_ids[ty as usize], 0);
                let Some(&v) = self.objects[a].fields.get(i as usize) else {
                    return Err(TrapKind::OutOfBoundsArrayAccess.into());
                };
                push!(gc::unpack(s, v, sign));
            }
            Instr::ArraySet(t) => {
                let v = pop!();
                let i = pop!() as u32;
                let a = object!(pop!(), "array");
                let s = gc::storage(&self.types, inst.type_ids[t as usize], 0);
                let Some(e) = self.objects[a].fields.get_mut(i as usize) else {
                    return Err(TrapKind::OutOfBoundsArrayAccess.into());
                };
                *e = gc::pack(s, v);
            }
            Instr::ArrayLen => {
                let a = object!(pop!(), "array");
                push!(Slot::from(self.objects[a].fields.len() as u32));
            }
            Instr::ArrayFill(t) => {
                let n = pop!() as u32;
                let v = pop!();
                let d = pop!() as u32;
                let a = object!(pop!(), "array");
                let s = gc::storage(&self.types, inst.type_ids[t as usize], 0);
                let fields = &mut self.objects[a].fields;
                let Some(r) = gc::range(fields.len(), u64::from(d), u64::from(n)) else {
                    return Err(TrapKind::OutOfBoundsArrayAccess.into());
                };
                fields[r].fill(gc::pack(s, v));
            }
            Instr::ArrayCopy { .. } => {
                let n = u64::from(pop!() as u32);
                let s = u64::from(pop!() as u32);
                let src = object!(pop!(), "array");
                let d = u64::from(pop!() as u32);
                let dst = object!(pop!(), "array");
                let (dst_len, src_len) = (
                    self.objects[dst].fields.len(),
                    self.objects[src].fields.len(),
                );
                let (Some(dr), Some(sr)) = (gc::range(dst_len, d, n), gc::range(src_len, s, n))
                else {
                    return Err(TrapKind::OutOfBoundsArrayAccess.into());
                };
                // Both types' elements have the same storage type, so slots copy as they are.
                if dst == src {
                    self.objects[dst].fields.copy_within(sr, dr.start);
                } else {
                    let (dt, st) = two_mut(&mut self.objects, dst, src);
                    dt.fields[dr].copy_from_slice(&st.fields[sr]);
                }
            }
            Instr::ArrayInitData { ty, data } => {
                let n = u64::from(pop!() as u32);
                let s = u64::from(pop!() as u32);
                let d = u64::from(pop!() as u32);
                let a = object!(pop!(), "array");
                let size =
                    gc::storage_bytes(gc::storage(&self.types, inst.type_ids[ty as usize], 0));
                let Some(r) = gc::range(self.objects[a].fields.len(), d, n) else {
                    return Err(TrapKind::OutOfBoundsArrayAccess.into());
                };
                let bytes = &self.datas[inst.datas[data as usize] as usize].bytes;
                let Some(elems) = gc::read_elements(bytes, s, n, size) else {
                    return Err(TrapKind::OutOfBoundsMemoryAccess.into());
                };
                self.objects[a].fields[r].copy_from_slice(&elems);
            }
            Instr::ArrayInitElem { elem, .. } => {
                let n = u64::from(pop!() as u32);
                let s = u64::from(pop!() as u32);
                let d = u64::from(pop!() as u32);
                let a = object!(pop!(), "array");
                let Some(r) = gc::range(self.objects[a].fields.len(), d, n) else {
                    return Err(TrapKind::OutOfBoundsArrayAccess.into());
                };
                let segment = &self.elems[inst.elems[elem as usize] as usize].elems;
                let Some(sr) = gc::range(segment.len(), s, n) else {
                    return Err(TrapKind::OutOfBoundsTableAccess.into());
                };
                self.objects[a].fields[r].copy_from_slice(&segment[sr]);
            }

            // ---- Saturating truncation.
            Instr::I32TruncSatF32S => {
                unary!(u32, a => numeric::i32_trunc_sat_s(numeric::f32_as_f64(a)))
            }
            Instr::I32TruncSatF32U => {
                unary!(u32, a => numeric::i32_trunc_sat_u(numeric::f32_as_f64(a)))
            }
            Instr::I32TruncSatF64S => {
                unary!(u64, a => numeric::i32_trunc_sat_s(f64::from_bits(a)))
            }
            Instr::I32TruncSatF64U => {
                unary!(u64, a => numeric::i32_trunc_sat_u(f64::from_bits(a)))
            }
            Instr::I64TruncSatF32S => {
                unary!(u32, a => numeric::i64_trunc_sat_s(numeric::f32_as_f64(a)))
            }
            Instr::I64TruncSatF32U => {
                unary!(u32, a => numeric::i64_trunc_sat_u(numeric::f32_as_f64(a)))
            }
            Instr::I64TruncSatF64S => {
                unary!(u64, a => numeric::i64_trunc_sat_s(f64::from_bits(a)))
            }
            Instr::I64TruncSatF64U => {
                unary!(u64, a => numeric::i64_trunc_sat_u(f64::from_bits(a)))
            }

            Instr::SimdTernary(op) => {
                let (c, b, a) = (pop!(), pop!(), pop!());
                push!(simd::ternary(op, a, b, c));
            }
            Instr::SimdShift(op) => {
                let n = pop!() as u32;
                unary!(u128, a => simd::shift(op, a, n));
            }
            Instr::RelaxedUnary(op) => {
                unary!(u128, a => simd::relaxed::unary(op, self.relaxed_choice, a))
            }
            Instr::RelaxedBinary(op) => {
                let alt = self.relaxed_choice;
                binary!(u128, a, b => simd::relaxed::binary(op, alt, canon, a, b))
            }
            Instr::RelaxedTernary(op) => {
                let (c, b, a) = (pop!(), pop!(), pop!());
                push!(simd::relaxed::ternary(
                    op,
                    self.relaxed_choice,
                    canon,
                    a,
                    b,
                    c
                ));
            }
            Instr::SimdExtractLane(op, l) => {
                unary!(u128, a => simd::extract_lane(op, l, a))
            }
            Instr::SimdReplaceLane(op, l) => {
                let x = pop!();
                unary!(u128, v => simd::replace_lane(op, l, v, x));
            }
            Instr::SimdMemLane(op, lane, m) => {
                let v = pop!();
                let addr = pop!() as u64;
                let mem = &mut self.mems[mem_index!(m.mem)].data;
                if let Some(r) = simd::memory::exec_lane(op, lane, m, mem, addr, v)? {
                    push!(r);
                }
            }
            // The dispatch loop runs every other instruction itself.
            _ => return Err(Trap::host(format!("{instr:?} reached the cold rules")).into()),
        }
        Ok(sp)
    }
}
