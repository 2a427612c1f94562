//! Executable code memory and the global registry of code ranges.
//!
//! We manage code memory ourselves (mmap RW, copy, relocate, mprotect RX) rather than using
//! cranelift-jit: the module's functions are compiled in parallel into independent buffers,
//! the only relocations are direct calls between functions of one module, and we need the
//! exact byte layout to build trap tables and function ranges for the signal handler. That is
//! a few dozen lines here versus another dependency whose symbol machinery we would not use.

use crate::trap::TrapCode;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, RwLock};

/// Information about one region of generated code, consulted by the signal handler.
pub(crate) struct CodeInfo {
    pub start: usize,
    pub end: usize,
    /// (offset from start, trap code), sorted by offset.
    pub traps: Vec<(u32, TrapCode)>,
    /// (start offset, end offset, wasm function index), sorted; empty for trampolines.
    pub funcs: Vec<(u32, u32, u32)>,
    pub names: Arc<HashMap<u32, String>>,
    /// Exception handlers of `try_call` sites: (return-address offset, handler offset, the
    /// caller's frame offset from FP down to SP), sorted by return address.
    pub handlers: Vec<(u32, u32, u32)>,
    /// User stack maps of call sites: (return-address offset, SP offsets of the live GC
    /// references), sorted by return address.
    pub stack_maps: Vec<(u32, Box<[u32]>)>,
}

impl CodeInfo {
    pub fn trap_at(&self, pc: usize) -> Option<TrapCode> {
        let off = u32::try_from(pc.checked_sub(self.start)?).ok()?;
        let i = self.traps.binary_search_by_key(&off, |t| t.0).ok()?;
        Some(self.traps[i].1)
    }

    /// The handler address and frame offset of the `try_call` returning to `ret`.
    pub fn handler_at(&self, ret: usize) -> Option<(usize, u32)> {
        let off = u32::try_from(ret.checked_sub(self.start)?).ok()?;
        let i = self.handlers.binary_search_by_key(&off, |h| h.0).ok()?;
        let (_, h, frame) = self.handlers[i];
        Some((self.start + h as usize, frame))
    }

    /// SP offsets of the GC references live across the call returning to `ret`.
    pub fn stack_map_at(&self, ret: usize) -> &[u32] {
        let Some(off) = ret
            .checked_sub(self.start)
            .and_then(|o| u32::try_from(o).ok())
        else {
            return &[];
        };
        match self.stack_maps.binary_search_by_key(&off, |m| m.0) {
            Ok(i) => &self.stack_maps[i].1,
            Err(_) => &[],
        }
    }

    pub fn func_at(&self, pc: usize) -> Option<u32> {
        let off = u32::try_from(pc.checked_sub(self.start)?).ok()?;
        let i = self.funcs.partition_point(|f| f.0 <= off);
        let f = self.funcs.get(i.checked_sub(1)?)?;
        (off < f.1).then_some(f.2)
    }
}

static REGISTRY: RwLock<BTreeMap<usize, Arc<CodeInfo>>> = RwLock::new(BTreeMap::new());

/// Find the code region containing `pc`. Called from the signal handler: it only takes a read
/// lock, and registration never happens while a thread executes wasm in the same thread.
pub(crate) fn lookup(pc: usize) -> Option<Arc<CodeInfo>> {
    let reg = REGISTRY.read().ok()?;
    let (_, info) = reg.range(..=pc).next_back()?;
    (pc < info.end).then(|| info.clone())
}

/// A block of executable memory, unregistered and returned to the pool (or unmapped) on drop.
pub(crate) struct CodeMemory {
    ptr: usize,
    len: usize,
    /// Bytes of code written at the start (the rest of the block is 0xcc).
    used: usize,
}

/// Freed code blocks kept for reuse, process-wide: (base, length, bytes that hold old code),
/// all unregistered.
///
/// Each module used to `mmap` fresh pages, write its code into them (a page fault per page),
/// `mprotect` them executable and `munmap` them when dropped. The fuzz campaign compiles and
/// drops thousands of small modules a second; a reused block costs two `mprotect`s and no
/// page faults, since its pages stay resident.
static POOL: Mutex<Vec<(usize, usize, usize)>> = Mutex::new(Vec::new());

/// At most this many blocks wait in the pool, each at most `POOL_BLOCK_MAX` bytes.
const POOL_MAX: usize = 16;
const POOL_BLOCK_MAX: usize = 1 << 20;

/// A `len`-byte read/write block: a pooled block of `len..=2*len` bytes, else a fresh mapping.
/// Returns (base, length, bytes at the start that may hold old code).
///
/// Rewriting code at an address that ran before needs no cache maintenance on x86-64 (the only
/// target: see the relocations in compile.rs); the `mprotect` back to read+execute flushes the
/// TLBs of every core running this process, with an interrupt that serializes them.
fn take_block(len: usize) -> Result<(usize, usize, usize), String> {
    let pooled = {
        let mut pool = POOL.lock().unwrap_or_else(|e| e.into_inner());
        let i = pool.iter().position(|&(_, l, _)| l >= len && l <= 2 * len);
        i.map(|i| pool.swap_remove(i))
    };
    if let Some((ptr, l, used)) = pooled {
        // SAFETY: the block is ours (taken out of the pool) and unregistered: nothing executes
        // it or refers to it, so making it writable again affects no one.
        let rc = unsafe {
            libc::mprotect(
                ptr as *mut libc::c_void,
                l,
                libc::PROT_READ | libc::PROT_WRITE,
            )
        };
        if rc == 0 {
            return Ok((ptr, l, used));
        }
        // SAFETY: as above; the block is given up.
        unsafe { libc::munmap(ptr as *mut libc::c_void, l) };
    }
    // SAFETY: fresh anonymous private mapping; checked for failure below.
    let ptr = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if ptr == libc::MAP_FAILED {
        return Err("failed to map code memory".into());
    }
    Ok((ptr as usize, len, 0))
}

/// Replace the `ud2` at each of `traps`' offsets in `code` with `hlt` (and a second `hlt` as
/// padding, never reached).
///
/// Cranelift ends every explicit trap (`unreachable`, division checks, table bounds, casts,
/// the stack-limit check...) with `ud2`, whose #UD exception this handler turns into a wasm
/// trap via `SIGILL`. Under KVM, #UD is intercepted by the hypervisor (it emulates some
/// hypercall instructions), so every `ud2` in a guest costs a VM exit: 13.7-14.6 µs per trap
/// against 1.3 µs for `hlt`, 1.6 µs for a load from address 0 (a C loop trapping 20,000 times
/// and leaving the handler with `siglongjmp`, on this machine). The fuzz campaign traps ~5 times
/// per case. `hlt` is privileged: in user mode it raises #GP at its own address, which Linux
/// delivers as `SIGSEGV` with the faulting PC at the instruction, exactly as `ud2` gave
/// `SIGILL`; the handler looks the PC up in the same trap table, whatever the signal. Only
/// sites of our trap table whose bytes are `ud2` (0F 0B, an opcode no other instruction starts
/// with) are rewritten, so every other byte of the code is Cranelift's.
fn trap_with_hlt(code: &mut [u8], traps: &[(u32, TrapCode)]) {
    for &(off, _) in traps {
        let off = off as usize;
        if let Some(site) = code.get_mut(off..off + 2)
            && site == [0x0f, 0x0b]
        {
            site.copy_from_slice(&[0xf4, 0xf4]);
        }
    }
}

impl CodeMemory {
    /// Copy `bytes` into fresh memory, let `patch` apply relocations (given the final base
    /// address), end its explicit traps in `hlt` (see `trap_with_hlt`), make it executable
    /// and register `traps`/`funcs` for the trap handler.
    pub fn new(
        bytes: &[u8],
        patch: impl FnOnce(usize, &mut [u8]) -> Result<(), String>,
        traps: Vec<(u32, TrapCode)>,
        funcs: Vec<(u32, u32, u32)>,
        names: Arc<HashMap<u32, String>>,
        handlers: Vec<(u32, u32, u32)>,
        stack_maps: Vec<(u32, Box<[u32]>)>,
    ) -> Result<CodeMemory, String> {
        let page = 4096;
        let len = bytes.len().max(1).div_ceil(page) * page;
        let (ptr, len, old_used) = take_block(len)?;
        let mem = CodeMemory {
            ptr,
            len,
            used: bytes.len(),
        };
        {
            // SAFETY: the block is `len >= bytes.len()` bytes, RW, and exclusively ours.
            let buf = unsafe { std::slice::from_raw_parts_mut(ptr as *mut u8, len) };
            buf[..bytes.len()].copy_from_slice(bytes);
            // A reused block's old code past the new code becomes int3, as if freshly mapped
            // (fresh pages are zero; either way nothing registered points there).
            if old_used > bytes.len() {
                buf[bytes.len()..old_used].fill(0xcc);
            }
            patch(mem.ptr, &mut buf[..bytes.len()])?;
            trap_with_hlt(&mut buf[..bytes.len()], &traps);
        }
        let ptr = ptr as *mut libc::c_void;
        // SAFETY: changing the protection of our own mapping; nothing holds a slice into it now.
        let rc = unsafe { libc::mprotect(ptr, len, libc::PROT_READ | libc::PROT_EXEC) };
        if rc != 0 {
            return Err("failed to make code executable".into());
        }
        let mut traps = traps;
        traps.sort_by_key(|t| t.0);
        let mut funcs = funcs;
        funcs.sort_by_key(|f| f.0);
        let mut handlers = handlers;
        handlers.sort_by_key(|h| h.0);
        let mut stack_maps = stack_maps;
        stack_maps.sort_by_key(|m| m.0);
        let info = Arc::new(CodeInfo {
            start: mem.ptr,
            end: mem.ptr + bytes.len().max(1),
            traps,
            funcs,
            names,
            handlers,
            stack_maps,
        });
        perf_map(&info);
        REGISTRY
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(mem.ptr, info);
        Ok(mem)
    }

    pub fn base(&self) -> usize {
        self.ptr
    }
}

impl Drop for CodeMemory {
    fn drop(&mut self) {
        REGISTRY
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.ptr);
        // Nothing can execute this code any more: every module, instance and trampoline cache
        // referencing it holds an Arc to us. A pooled block keeps its protection (read+execute,
        // or read/write if making it executable failed): `take_block` makes it writable again.
        let mut pool = POOL.lock().unwrap_or_else(|e| e.into_inner());
        if pool.len() < POOL_MAX && self.len <= POOL_BLOCK_MAX {
            pool.push((self.ptr, self.len, self.used));
            return;
        }
        drop(pool);
        // SAFETY: as above; unmapping exactly the block we own.
        unsafe {
            libc::munmap(self.ptr as *mut libc::c_void, self.len);
        }
    }
}

/// With `LOCKSTEP_PERF_MAP=1`, name each compiled function in `/tmp/perf-<pid>.map`, the file
/// `perf report` reads to symbolize JIT code (one `start size name` line per function), so a
/// profile of generated code shows wasm function names instead of bare addresses.
fn perf_map(info: &CodeInfo) {
    use std::io::Write;
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    if !*ON.get_or_init(|| std::env::var_os("LOCKSTEP_PERF_MAP").is_some_and(|v| v == "1")) {
        return;
    }
    let path = format!("/tmp/perf-{}.map", std::process::id());
    let Ok(mut file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    else {
        return;
    };
    let mut lines = String::new();
    for &(start, end, index) in &info.funcs {
        let name = info.names.get(&index).map_or("", String::as_str);
        lines.push_str(&format!(
            "{:x} {:x} wasm[{index}]{}{name}\n",
            info.start + start as usize,
            end - start,
            if name.is_empty() { "" } else { " " },
        ));
    }
    // Best effort: a profile without names is still a profile.
    let _ = file.write_all(lines.as_bytes());
}
