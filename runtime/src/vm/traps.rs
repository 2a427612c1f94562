//! Trap handling: signal handlers that recognise faults in generated code, the
//! sigsetjmp-based host entry (in `helpers.c`), per-thread alternate signal stacks, stack
//! limits and backtraces.

use super::code;
use crate::trap::{FrameInfo, Trap, TrapCode};
use crate::values::ValRaw;
use std::cell::{Cell, RefCell};
use std::sync::Once;

unsafe extern "C" {
    fn lockstep_invoke(
        tramp: usize,
        vmctx: usize,
        code: usize,
        values: *mut ValRaw,
        limit: *mut usize,
        max: usize,
        floor: usize,
    ) -> i32;
    fn lockstep_in_wasm() -> i32;
    fn lockstep_unwind() -> !;
}

const SIGNALS: [libc::c_int; 4] = [libc::SIGSEGV, libc::SIGBUS, libc::SIGILL, libc::SIGFPE];
const MAX_FRAMES: usize = 128;

struct PrevHandlers([std::cell::UnsafeCell<libc::sigaction>; 4]);
// SAFETY: written exactly once inside `Once::call_once` before any handler can run, then only
// read.
unsafe impl Sync for PrevHandlers {}

static PREV: PrevHandlers = PrevHandlers(
    // SAFETY: an all-zero sigaction is a valid (SIG_DFL) value.
    unsafe { std::mem::zeroed() },
);
static INIT: Once = Once::new();

/// What the handler recorded about the last trap on this thread.
struct TrapRecord {
    code: Cell<Option<TrapCode>>,
    pcs: Cell<[usize; MAX_FRAMES]>,
    npcs: Cell<usize>,
}

thread_local! {
    static RECORD: TrapRecord = const {
        TrapRecord {
            code: Cell::new(None),
            pcs: Cell::new([0; MAX_FRAMES]),
            npcs: Cell::new(0),
        }
    };
    static HOST_TRAP: RefCell<Option<Trap>> = const { RefCell::new(None) };
    static TRAP_INDEX: Cell<Option<u64>> = const { Cell::new(None) };
    static ALTSTACK_READY: Cell<bool> = const { Cell::new(false) };
    static STACK_LOW: Cell<usize> = const { Cell::new(0) };
}

/// Install the handlers once per process.
pub(crate) fn init_handlers() {
    INIT.call_once(|| {
        for (i, &sig) in SIGNALS.iter().enumerate() {
            // SAFETY: we build a valid sigaction and install it; the previous action is saved
            // in PREV[i] before any of our handlers can observe it (we are inside call_once
            // and the handler only reads PREV for signals it receives after installation).
            unsafe {
                let mut sa: libc::sigaction = std::mem::zeroed();
                sa.sa_sigaction = handler as *const () as usize;
                sa.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK | libc::SA_NODEFER;
                libc::sigemptyset(&mut sa.sa_mask);
                libc::sigaction(sig, &sa, PREV.0[i].get());
            }
        }
    });
}

extern "C" fn handler(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid ucontext for SA_SIGINFO handlers.
    let (pc, fp) = unsafe {
        let uc = ctx as *const libc::ucontext_t;
        let gregs = &(*uc).uc_mcontext.gregs;
        (
            gregs[libc::REG_RIP as usize] as usize,
            gregs[libc::REG_RBP as usize] as usize,
        )
    };
    // SAFETY: reads a C thread-local.
    let in_wasm = unsafe { lockstep_in_wasm() } != 0;
    if in_wasm && let Some(info_c) = code::lookup(pc) {
        let code = info_c.trap_at(pc).or(match sig {
            libc::SIGFPE if info_c.func_at(pc).is_some() => Some(TrapCode::IntegerDivideByZero),
            _ => None,
        });
        if let Some(code) = code {
            // `record` drops `info_c`: nothing may stay borrowed across the longjmp.
            record(code, pc, fp, info_c);
            // SAFETY: we are inside `lockstep_invoke` (in_wasm) and the faulting PC is in
            // generated code, so the frames between here and the sigsetjmp point are
            // generated code and the C entry frame only: no Rust destructors are skipped.
            unsafe { lockstep_unwind() }
        }
    }
    chain(sig, info, ctx);
}

/// Record the trap and the wasm frames' return addresses, walking frame pointers from the
/// faulting frame; `info` is the code region holding `pc`.
///
/// A return address in the region of the frame before it (nearly always: callers are in the
/// same module) is checked against that region instead of looked up in the registry, a read
/// lock, a B-tree search and an `Arc` count up and down per frame: up to 128 frames for each
/// of the campaign's stack overflows (the registry's `range` was ~0.8% of its CPU samples).
fn record(code: TrapCode, pc: usize, fp: usize, info: std::sync::Arc<code::CodeInfo>) {
    let mut pcs = [0usize; MAX_FRAMES];
    let mut n = 0;
    pcs[n] = pc;
    n += 1;
    let mut fp = fp;
    let mut info = info;
    while n < MAX_FRAMES && fp != 0 && fp.is_multiple_of(8) {
        // SAFETY: `fp` is the frame pointer of a frame of generated code (its PC was found in
        // a wasm function range), and Cranelift preserves frame pointers, so [fp] holds the
        // caller's FP and [fp+8] the return address.
        let (next_fp, ret) = unsafe { (*(fp as *const usize), *((fp + 8) as *const usize)) };
        if !(info.start..info.end).contains(&ret) {
            match code::lookup(ret) {
                Some(other) => info = other,
                None => break,
            }
        }
        if info.func_at(ret).is_none() {
            break;
        }
        pcs[n] = ret;
        n += 1;
        fp = next_fp;
    }
    RECORD.with(|r| {
        r.code.set(Some(code));
        r.pcs.set(pcs);
        r.npcs.set(n);
    });
}

fn chain(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    let Some(i) = SIGNALS.iter().position(|&s| s == sig) else {
        return;
    };
    // SAFETY: PREV[i] was initialised when our handler was installed. Calling the previous
    // handler (or restoring it and returning, so the fault re-executes under it) is the
    // standard way to chain.
    unsafe {
        let prev = &*PREV.0[i].get();
        let h = prev.sa_sigaction;
        if h == libc::SIG_DFL || h == libc::SIG_IGN {
            libc::sigaction(sig, prev, std::ptr::null_mut());
        } else if prev.sa_flags & libc::SA_SIGINFO != 0 {
            let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                std::mem::transmute(h);
            f(sig, info, ctx);
        } else {
            let f: extern "C" fn(libc::c_int) = std::mem::transmute(h);
            f(sig);
        }
    }
}

/// Make sure this thread has an alternate signal stack large enough for our handler.
#[inline]
fn ensure_altstack() {
    if ALTSTACK_READY.with(|r| r.get()) {
        return;
    }
    install_altstack();
}

#[cold]
fn install_altstack() {
    const SIZE: usize = 256 * 1024;
    // SAFETY: querying and (if needed) installing an alternate stack for the current thread
    // with memory we map and never free (threads are few; the stack must outlive the thread's
    // last signal).
    unsafe {
        let mut old: libc::stack_t = std::mem::zeroed();
        libc::sigaltstack(std::ptr::null(), &mut old);
        if old.ss_flags & libc::SS_DISABLE != 0 || old.ss_size < SIZE {
            let p = libc::mmap(
                std::ptr::null_mut(),
                SIZE + 4096,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            );
            if p != libc::MAP_FAILED {
                libc::mprotect(p, 4096, libc::PROT_NONE);
                let st = libc::stack_t {
                    ss_sp: (p as usize + 4096) as *mut libc::c_void,
                    ss_flags: 0,
                    ss_size: SIZE,
                };
                libc::sigaltstack(&st, std::ptr::null_mut());
            }
        }
    }
    ALTSTACK_READY.with(|r| r.set(true));
}

/// Lowest usable address of this thread's stack (plus a safety margin), or 0 if unknown.
#[inline]
pub(crate) fn thread_stack_floor() -> usize {
    let cached = STACK_LOW.with(|s| s.get());
    if cached != 0 {
        return cached;
    }
    compute_stack_floor()
}

#[cold]
fn compute_stack_floor() -> usize {
    // SAFETY: pthread_getattr_np fills `attr` for the current thread; we destroy it after use.
    let low = unsafe {
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        if libc::pthread_getattr_np(libc::pthread_self(), &mut attr) != 0 {
            return 0;
        }
        let mut addr: *mut libc::c_void = std::ptr::null_mut();
        let mut size: libc::size_t = 0;
        let rc = libc::pthread_attr_getstack(&attr, &mut addr, &mut size);
        libc::pthread_attr_destroy(&mut attr);
        if rc != 0 { 0 } else { addr as usize }
    };
    // Leave room for the host frames and signal delivery below the wasm limit.
    let floor = if low == 0 { 0 } else { low + 128 * 1024 };
    STACK_LOW.with(|s| s.set(floor));
    floor
}

/// Stash the error of a failing host function; the generated shim then traps with
/// [`TrapCode::Host`] and [`invoke`] hands this error out.
pub(crate) fn set_host_trap(t: Trap) {
    HOST_TRAP.with(|h| *h.borrow_mut() = Some(t));
}

/// Remember the element index of an imminent "uninitialized element" trap.
pub(crate) fn set_trap_index(index: u64) {
    TRAP_INDEX.with(|t| t.set(Some(index)));
}

/// The stack limit an outermost entry into wasm sets: `max` bytes of stack below the last host
/// frame, and at least `floor` (see `lockstep_invoke` in `helpers.c`).
pub(crate) struct EntryLimit<'a> {
    pub cell: &'a std::cell::Cell<usize>,
    pub max: usize,
    pub floor: usize,
}

/// Call generated code through an array-ABI entry trampoline, catching traps; with `limit`,
/// set the stack limit first.
///
/// # Safety
/// `tramp` must be an array-entry trampoline for the signature of `code`, `vmctx` the
/// matching context, and `values` must point to enough slots for params and results.
#[inline]
pub(crate) unsafe fn invoke(
    tramp: usize,
    vmctx: usize,
    code: usize,
    values: *mut ValRaw,
    limit: Option<EntryLimit<'_>>,
    names: &dyn Fn(usize) -> Option<FrameInfo>,
) -> Result<(), Trap> {
    ensure_altstack();
    let (cell, max, floor) = match limit {
        Some(l) => (l.cell.as_ptr(), l.max, l.floor),
        None => (std::ptr::null_mut(), 0, 0),
    };
    // SAFETY: forwarded from the caller's contract; `cell` is null or a live `Cell`, written
    // before any generated code runs.
    let rc = unsafe { lockstep_invoke(tramp, vmctx, code, values, cell, max, floor) };
    if rc == 0 {
        return Ok(());
    }
    Err(collect_trap(names))
}

#[cold]
fn collect_trap(names: &dyn Fn(usize) -> Option<FrameInfo>) -> Trap {
    if let Some(exn) = super::unwind::take_pending() {
        // The store fills in the tag and payload (`StoreOpaque::call_raw`).
        return Trap::pending_exception(exn);
    }
    let (code, pcs, n) = RECORD.with(|r| (r.code.take(), r.pcs.get(), r.npcs.get()));
    let code = code.unwrap_or(TrapCode::Unreachable);
    let bt: Vec<FrameInfo> = pcs[..n].iter().filter_map(|&pc| names(pc)).collect();
    let trap = if code == TrapCode::Host {
        HOST_TRAP
            .with(|h| h.borrow_mut().take())
            .unwrap_or_else(|| Trap::from_code(TrapCode::Host))
    } else if let Some(i) = TRAP_INDEX.with(|t| t.take())
        && code == TrapCode::UninitializedElement
    {
        Trap::with_message(code, format!("{} {i}", code.message()))
    } else {
        Trap::from_code(code)
    };
    trap.with_backtrace(bt)
}

/// Map a PC to a backtrace frame using the code registry.
pub(crate) fn frame_info(pc: usize) -> Option<FrameInfo> {
    let info = code::lookup(pc)?;
    let idx = info.func_at(pc)?;
    Some(FrameInfo {
        func_index: idx,
        func_name: info.names.get(&idx).cloned(),
    })
}
