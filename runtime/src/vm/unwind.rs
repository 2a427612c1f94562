//! Exception unwinding: the frame walker behind `lockstep_throw` (in `helpers.c`).
//!
//! Design. Inside a `try_table`, the translator emits every call to wasm code as Cranelift's
//! `try_call` whose exception table has one `Default` entry: the try_table's landing block,
//! which receives the exnref and does the tag dispatch in generated code (tags are dynamic,
//! instance-level identities, so matching them in the walker would buy nothing). Calls outside
//! any try_table stay plain `call`s: a call that cannot be caught costs nothing extra. A throw
//! with a try_table of its own function jumps to the landing block directly; otherwise it calls
//! `lockstep_throw(_, exn, fp)` with its own frame pointer.
//!
//! The walk follows the frame-pointer chain (Cranelift preserves frame pointers): for the frame
//! at `fp`, `[fp + 8]` is the return address into its caller and `[fp]` the caller's frame
//! pointer. If the return address is a `try_call` site with a handler, execution resumes there
//! with the caller's FP, SP = FP - the call site's frame offset, and the exnref in the first
//! payload register. A return address outside wasm functions (the host entry trampoline or a
//! wasm->host shim's caller side) is the host boundary: the exception is recorded as pending
//! and leaves through the sigsetjmp entry like a trap, then travels through host frames as a
//! Rust `Err` (and a host function returning it throws it on into its wasm caller).
//!
//! Cost: nothing on the normal path; a throw costs one registry lookup and one binary search
//! per wasm frame it crosses.

use super::code;
use std::cell::Cell;

thread_local! {
    /// The exnref of an exception that reached the host boundary, for `traps::invoke`.
    static PENDING: Cell<u64> = const { Cell::new(0) };
}

/// Where `lockstep_throw` resumes.
#[repr(C)]
pub(crate) struct Handler {
    pc: usize,
    sp: usize,
    fp: usize,
}

/// Find the nearest handler above the wasm frame whose frame pointer is `fp`. Returns 1 with
/// `out` filled, or 0 after recording `exn` as pending (no handler before the host boundary).
///
/// # Safety
/// Called only by `lockstep_throw`, from generated code, with `fp` the frame pointer of the
/// generated frame that threw and `out` a valid pointer.
#[unsafe(no_mangle)]
pub(crate) unsafe extern "C" fn lockstep_find_handler(
    fp: usize,
    exn: u64,
    out: *mut Handler,
) -> i32 {
    let mut fp = fp;
    // The code region of the previous frame, reused while the walk stays inside it. Each
    // `code::lookup` takes the registry's lock and clones an `Arc` (four atomic operations);
    // a throw through n frames of one module now does that once instead of n times.
    let mut region: Option<std::sync::Arc<code::CodeInfo>> = None;
    loop {
        if fp == 0 || !fp.is_multiple_of(8) {
            break;
        }
        // SAFETY: `fp` is the frame pointer of a frame of generated code (the thrower, or a
        // wasm function found by the previous iteration), which Cranelift sets up with the
        // caller's FP at [fp] and the return address at [fp + 8].
        let (caller_fp, ret) = unsafe { (*(fp as *const usize), *((fp + 8) as *const usize)) };
        let info = match region.take() {
            Some(r) if (r.start..r.end).contains(&ret) => r,
            _ => match code::lookup(ret) {
                Some(r) => r,
                None => break,
            },
        };
        if info.func_at(ret).is_none() {
            break;
        }
        if let Some((pc, frame_offset)) = info.handler_at(ret) {
            // SAFETY: `out` is valid (caller contract).
            unsafe {
                *out = Handler {
                    pc,
                    sp: caller_fp.wrapping_sub(frame_offset as usize),
                    fp: caller_fp,
                };
            }
            return 1;
        }
        region = Some(info);
        fp = caller_fp;
    }
    PENDING.with(|p| p.set(exn));
    0
}

/// Take the exnref of an exception that left wasm uncaught, if the last exit was one.
pub(crate) fn take_pending() -> Option<u64> {
    let e = PENDING.with(|p| p.replace(0));
    (e != 0).then_some(e)
}

unsafe extern "C" {
    fn lockstep_throw(unused: u64, exn: u64, fp: usize) -> !;
    fn lockstep_throw_from_shim(unused: u64, exn: u64) -> !;
}

/// The address generated code calls to throw.
pub(crate) fn throw_addr() -> usize {
    lockstep_throw as *const () as usize
}

/// The address the wasm->host shim calls to throw its host function's exception (the throwing
/// frame is the shim's, found from the callee's saved frame pointer).
pub(crate) fn throw_from_shim_addr() -> usize {
    lockstep_throw_from_shim as *const () as usize
}
