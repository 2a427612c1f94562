//! The GC heap: a non-moving mark-sweep collector over objects allocated from the system
//! allocator, and the root walk over wasm frames.
//!
//! Representation. A GC reference is a 64-bit value: 0 is null, `(v << 1) | 1` an `i31`,
//! `(handle << 2) | 2` a host reference (externref), anything else the 16-aligned address of
//! an object. `any.convert_extern` and `extern.convert_any` are therefore the identity. An
//! object starts with its canonical type id (u32) and a flags word (u32: kind, mark bit);
//! arrays then hold their length (u32) and their elements from byte 16, structs their fields
//! from byte 8 (layout in `gctypes.rs`).
//!
//! Exception objects are not GC objects but are collected with them: they share the heap's
//! blocks, byte count and threshold, and the mark phase follows references into and out of
//! them (an exception's payload slots are scanned; an `exnref` field, global, table element
//! or frame slot marks the exception). A throw allocates, so it may collect (`exn_new`).
//!
//! Roots: globals, tables, element segments, host-held references, and wasm frames. For a frame, the translator declared every GC-typed value to Cranelift
//! (`declare_value_needs_stack_map`), so every call site has a user stack map listing the SP
//! offsets of the live references; `CodeInfo::stack_map_at` finds it by return address. The
//! walk starts from the frame of the allocation helper (`lockstep_gc_alloc` in helpers.c
//! passes its frame pointer) and follows the frame-pointer chain through wasm frames; older
//! wasm activations below host calls are reached through the host-call records that
//! `host_entry` (vm/host.rs) keeps in the store (each holds the frame pointer of the
//! wasm->host shim, whose caller is wasm). Every candidate is checked against the set of
//! live objects before it is followed, so a root of another store's heap is ignored.

use super::code;
use crate::gctypes::{KIND_ARRAY, KIND_STRUCT, TypeRegistry};
use std::alloc::Layout;
use std::collections::{HashMap, HashSet};

/// The hasher of the heap's address-keyed maps. They used std's default SipHash, which is
/// built to resist collision attacks on untrusted keys; these keys are object addresses the
/// heap chose itself, and SipHash's rounds were about a tenth of the `gc` kernel (every
/// allocation inserts, every marked candidate looks up). One folded multiply spreads the
/// address bits over the whole hash (hashbrown takes the bucket from the low bits and a tag
/// from the top seven).
#[derive(Clone, Copy, Default)]
pub(crate) struct AddrHasher(u64);

impl std::hash::Hasher for AddrHasher {
    fn finish(&self) -> u64 {
        let m = u128::from(self.0) * 0x9e37_79b9_7f4a_7c15;
        (m as u64) ^ ((m >> 64) as u64)
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only integer keys are hashed; this fallback keeps other input well defined.
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 ^= v;
    }
    fn write_u32(&mut self, v: u32) {
        self.0 ^= u64::from(v);
    }
    fn write_usize(&mut self, v: usize) {
        self.0 ^= v as u64;
    }
}

pub(crate) type AddrHash = std::hash::BuildHasherDefault<AddrHasher>;

/// The mark bit, kept in an object's `objects` entry (next to its size) rather than in its
/// header: the sweep then walks the map alone and reads no dead object's memory. With the bit
/// in the header, the sweep's header reads, one cache miss per object in hash order, were
/// most of a collection.
const MARKED: usize = 1 << 63;
const MIN_THRESHOLD: usize = 1 << 20;
const ALIGN: usize = 16;
/// Objects from this size on are prefaulted before being filled whole (see
/// [`GcHeap::prefault`]): below it the system call costs about what the faults would.
const PREFAULT_MIN: usize = 64 << 10;

pub(crate) struct GcHeap {
    /// Live objects: address -> allocation size.
    objects: HashMap<usize, usize, AddrHash>,
    bytes: usize,
    threshold: usize,
    limit: usize,
    /// Blocks of dead objects kept for reuse, by allocation size, and their total size
    /// (at most the collection threshold, so the heap holds at most about twice its live
    /// bytes). Every block is zeroed when it is handed out again.
    ///
    /// Each allocation used to be a `calloc` and each dead object a `free`: about a third of
    /// the `gc` kernel's time was in the system allocator. A recycled block is a `Vec::pop`
    /// and a `memset` of the object's own size.
    free: HashMap<usize, Vec<usize>, AddrHash>,
    free_bytes: usize,
    /// Allocation shape of each canonical type allocated so far: (fixed bytes, bytes per
    /// array element, kind); see `gc_alloc`.
    shapes: HashMap<u32, (u32, u32, u32), AddrHash>,
    /// References handed to the host (rooted until released).
    pub host_roots: HashSet<u64, AddrHash>,
    pub collections: u64,
    /// Live exception objects: address -> entry. They are not GC objects (no header: an
    /// exception is `[tag id, payload...]` in 16-byte slots, see `exception.rs`), but they
    /// share the heap's blocks, byte count, threshold and mark phase: an exception is live
    /// while a root, a live object or a live exception refers to it.
    ///
    /// They used to be boxed into a store-wide `Vec` that was never shrunk, and every one was
    /// a root: a program throwing in a loop grew without bound, and whatever a payload
    /// referenced was never freed either.
    exns: HashMap<usize, ExnEntry, AddrHash>,
    /// The serial number of the next exception (see [`ExnEntry::serial`]).
    next_serial: u64,
    /// Set when an instance's code has no stack maps (the GC proposal is off, so the
    /// translator declared no references): exnrefs in its frames cannot be found, so every
    /// exception is kept (as before exceptions were collected).
    pub keep_exns: bool,
}

/// An exception object's entry.
#[derive(Clone, Copy)]
pub(crate) struct ExnEntry {
    /// Allocation size, with the `MARKED` bit.
    size: usize,
    /// A number no other exception of the store had: an `ExnRef` the host holds carries it,
    /// so a reference whose object was collected (and whose address may have been reused by a
    /// new exception) is recognised as stale instead of naming the new object.
    pub serial: u64,
}

impl GcHeap {
    pub fn new(limit: usize) -> GcHeap {
        GcHeap {
            objects: HashMap::default(),
            bytes: 0,
            threshold: MIN_THRESHOLD.min(limit),
            limit,
            free: HashMap::default(),
            free_bytes: 0,
            shapes: HashMap::default(),
            host_roots: HashSet::default(),
            collections: 0,
            exns: HashMap::default(),
            next_serial: 1,
            keep_exns: false,
        }
    }

    pub fn contains(&self, addr: u64) -> bool {
        addr != 0 && addr & 15 == 0 && self.objects.contains_key(&(addr as usize))
    }

    pub fn object_size(&self, addr: u64) -> usize {
        self.objects
            .get(&(addr as usize))
            .map_or(0, |&size| size & !MARKED)
    }

    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Whether an allocation of `size` bytes should collect first.
    pub fn wants_collection(&self, size: usize) -> bool {
        self.bytes.saturating_add(size) > self.threshold
    }

    /// Map every page of live object `addr` writable ahead of writing all of it (filling a
    /// new array), when it spans at least [`PREFAULT_MIN`] bytes.
    ///
    /// A large block is a fresh mapping of the system allocator, so the fill took a page fault
    /// per 4 KiB page: under KVM, ~1.1 µs each. Faulting them in with one
    /// `MADV_POPULATE_WRITE` instead took 131 µs per MiB against 292 µs (mmap, fill, munmap in
    /// a C loop on this machine). In the fuzz campaign, where `array.new` in global
    /// initializers makes arrays of up to hundreds of MiB, those faults were ~6.7% of a
    /// `--jobs 1` profile's samples (all under `eval_const`). The contents are unchanged;
    /// the advice only populates page tables, and on a kernel without it (before 5.14) the
    /// call fails and the fill faults as before.
    pub fn prefault(&self, addr: u64) {
        let size = self.object_size(addr);
        if size < PREFAULT_MIN {
            return;
        }
        let page = 4096;
        let start = (addr as usize).next_multiple_of(page);
        let end = (addr as usize + size) & !(page - 1);
        if end > start {
            // SAFETY: [start, end) lies inside the live object's block (page-aligned within
            // it), memory this heap allocated read/write; populating page tables leaves its
            // contents as they are.
            unsafe {
                libc::madvise(
                    start as *mut libc::c_void,
                    end - start,
                    libc::MADV_POPULATE_WRITE,
                )
            };
        }
    }

    /// A zeroed object of `size` bytes with its header written, or `None` past the limit.
    pub fn alloc(&mut self, size: usize, type_id: u32, kind: u32, len: u32) -> Option<u64> {
        if self.bytes.checked_add(size)? > self.limit {
            return None;
        }
        let p = self.block(size)?;
        // SAFETY: `p` is a fresh allocation of at least 16 bytes, 16-aligned.
        unsafe {
            *(p as *mut u32) = type_id;
            *(p.add(4) as *mut u32) = kind;
            if kind == KIND_ARRAY {
                *(p.add(8) as *mut u32) = len;
            }
        }
        self.objects.insert(p as usize, size.max(ALIGN));
        self.bytes += size.max(ALIGN);
        Some(p as u64)
    }

    /// A zeroed block of `size` bytes (at least 16), 16-aligned: a recycled one if any.
    #[inline(always)]
    fn block(&mut self, size: usize) -> Option<*mut u8> {
        let layout = Layout::from_size_align(size.max(ALIGN), ALIGN).ok()?;
        let p = match self.free.get_mut(&layout.size()).and_then(Vec::pop) {
            Some(block) => {
                self.free_bytes -= layout.size();
                // SAFETY: a block this heap allocated with `layout` whose object died; nothing
                // refers to it (it left `objects` or `exns` when it was swept).
                unsafe { std::ptr::write_bytes(block as *mut u8, 0, layout.size()) };
                block as *mut u8
            }
            // SAFETY: the layout has a nonzero size.
            None => unsafe { std::alloc::alloc_zeroed(layout) },
        };
        (!p.is_null()).then_some(p)
    }

    /// An exception object of `slots` 16-byte slots, slot 0 holding `tag_id` and the rest
    /// zeroed, or `None` past the limit. Returns its address and serial number.
    pub fn alloc_exn(&mut self, slots: usize, tag_id: u128) -> Option<(u64, u64)> {
        let size = slots.checked_mul(16)?.max(ALIGN);
        if self.bytes.checked_add(size)? > self.limit {
            return None;
        }
        let p = self.block(size)?;
        // SAFETY: a fresh zeroed block of at least 16 bytes, 16-aligned.
        unsafe { *(p as *mut u128) = tag_id };
        let serial = self.next_serial;
        self.next_serial += 1;
        self.exns.insert(p as usize, ExnEntry { size, serial });
        self.bytes += size;
        Some((p as u64, serial))
    }

    /// Write `payload` into the slots from 1 of live exception object `addr` (false if it is
    /// none or too small).
    pub fn write_exn_payload(&mut self, addr: u64, payload: &[u128]) -> bool {
        if payload.len() + 1 > self.exn_slots(addr) {
            return false;
        }
        // SAFETY: the slots lie inside the live exception (checked above).
        unsafe {
            std::ptr::copy_nonoverlapping(
                payload.as_ptr(),
                (addr as *mut u128).add(1),
                payload.len(),
            )
        };
        true
    }

    /// Every slot of live exception object `addr` (slot 0: its tag id).
    pub fn read_exn(&self, addr: u64) -> Option<Vec<u128>> {
        let n = self.exn_slots(addr);
        // SAFETY: a live exception of `n` 16-byte slots (`exn_slots` is 0 for anything else).
        (n > 0).then(|| unsafe { std::slice::from_raw_parts(addr as *const u128, n).to_vec() })
    }

    /// The entry of live exception object `addr`.
    pub fn exn(&self, addr: u64) -> Option<ExnEntry> {
        self.exns.get(&(addr as usize)).copied()
    }

    /// The number of payload slots of live exception object `addr` (slot 0 is the tag).
    pub fn exn_slots(&self, addr: u64) -> usize {
        self.exn(addr).map_or(0, |e| (e.size & !MARKED) / 16)
    }

    /// How many exception objects are live (not yet collected).
    pub fn exn_count(&self) -> usize {
        self.exns.len()
    }

    /// Mark from `roots`, free every unmarked object and exception, and set the next
    /// threshold.
    pub fn collect(&mut self, roots: &[u64], reg: &TypeRegistry) {
        self.collections += 1;
        // Objects to scan, and exceptions to scan.
        let mut work: Vec<u64> = Vec::new();
        let mut exn_work: Vec<(u64, usize)> = Vec::new();
        let kept: Vec<u64> = if self.keep_exns {
            self.exns.keys().map(|&a| a as u64).collect()
        } else {
            Vec::new()
        };
        let objects = &mut self.objects;
        let exns = &mut self.exns;
        let mut push = |v: u64, work: &mut Vec<u64>, exn_work: &mut Vec<(u64, usize)>| {
            mark(v, objects, exns, work, exn_work)
        };
        for &r in roots.iter().chain(self.host_roots.iter()) {
            push(r, &mut work, &mut exn_work);
        }
        for r in kept {
            push(r, &mut work, &mut exn_work);
        }
        loop {
            if let Some(obj) = work.pop() {
                // SAFETY: `obj` is a live object: its header holds its type id and kind.
                let (id, kind) = unsafe { (*(obj as *const u32), *((obj + 4) as *const u32)) };
                let Some(ti) = reg.get(id) else { continue };
                if kind & 3 == KIND_STRUCT {
                    if let Some(fields) = ti.struct_fields() {
                        for (f, &off) in fields.iter().zip(&ti.field_offsets) {
                            if f.storage.is_gc_ref() {
                                // SAFETY: the field lies inside the object (its type's layout).
                                let v = unsafe { *((obj + u64::from(off)) as *const u64) };
                                push(v, &mut work, &mut exn_work);
                            }
                        }
                    }
                } else if let Some(elem) = ti.array_elem()
                    && elem.storage.is_gc_ref()
                {
                    // SAFETY: an array's length is at offset 8, its 8-byte elements from 16.
                    let len = unsafe { *((obj + 8) as *const u32) };
                    for i in 0..u64::from(len) {
                        let v = unsafe { *((obj + 16 + 8 * i) as *const u64) };
                        push(v, &mut work, &mut exn_work);
                    }
                }
            } else if let Some((exn, size)) = exn_work.pop() {
                // A payload slot of any type is a candidate (its low 64 bits, where a
                // reference is): a number that equals an address only keeps that object a
                // little longer. Slot 0 is the tag id.
                for i in 1..(size / 16) as u64 {
                    // SAFETY: slot `i` lies inside the live exception (its size).
                    let v = unsafe { *((exn + 16 * i) as *const u64) };
                    push(v, &mut work, &mut exn_work);
                }
            } else {
                break;
            }
        }
        let mut freed = 0;
        let (free, free_bytes, keep) = (&mut self.free, &mut self.free_bytes, self.threshold);
        self.objects.retain(|&addr, entry| {
            let size = *entry;
            if size & MARKED != 0 {
                *entry = size & !MARKED;
                true
            } else {
                release(free, free_bytes, keep, addr, size);
                freed += size;
                false
            }
        });
        if !self.exns.is_empty() {
            self.exns.retain(|&addr, entry| {
                let size = entry.size;
                if size & MARKED != 0 {
                    entry.size = size & !MARKED;
                    true
                } else {
                    release(free, free_bytes, keep, addr, size);
                    freed += size;
                    false
                }
            });
        }
        self.bytes -= freed;
        self.threshold = self
            .bytes
            .saturating_mul(2)
            .max(MIN_THRESHOLD)
            .min(self.limit);
    }
}

/// Mark candidate `v` if it is an unmarked live object (queued on `work`) or exception
/// (queued on `exn_work` with its size). Inlined into the mark loop: it runs once per reference
/// traced.
#[inline(always)]
fn mark(
    v: u64,
    objects: &mut HashMap<usize, usize, AddrHash>,
    exns: &mut HashMap<usize, ExnEntry, AddrHash>,
    work: &mut Vec<u64>,
    exn_work: &mut Vec<(u64, usize)>,
) {
    if v == 0 || v & 15 != 0 {
        return;
    }
    // Only a live object or exception of this heap has an entry.
    if let Some(entry) = objects.get_mut(&(v as usize)) {
        if *entry & MARKED == 0 {
            *entry |= MARKED;
            work.push(v);
        }
    } else if !exns.is_empty()
        && let Some(entry) = exns.get_mut(&(v as usize))
        && entry.size & MARKED == 0
    {
        exn_work.push((v, entry.size));
        entry.size |= MARKED;
    }
}

/// Give the block of a dead object or exception back: to the free lists while they hold at
/// most `keep` bytes, otherwise to the system allocator.
#[inline(always)]
fn release(
    free: &mut HashMap<usize, Vec<usize>, AddrHash>,
    free_bytes: &mut usize,
    keep: usize,
    addr: usize,
    size: usize,
) {
    if *free_bytes + size <= keep {
        free.entry(size).or_default().push(addr);
        *free_bytes += size;
    } else {
        // SAFETY: allocated in `GcHeap::block` with this size and alignment, unreachable now.
        unsafe {
            std::alloc::dealloc(
                addr as *mut u8,
                Layout::from_size_align_unchecked(size, ALIGN),
            )
        };
    }
}

impl Drop for GcHeap {
    fn drop(&mut self) {
        let free = self
            .free
            .iter()
            .flat_map(|(&size, blocks)| blocks.iter().map(move |&addr| (addr, size)));
        let exns = self.exns.iter().map(|(&a, e)| (a, e.size & !MARKED));
        for (addr, size) in self
            .objects
            .iter()
            .map(|(&a, &s)| (a, s))
            .chain(exns)
            .chain(free)
        {
            // SAFETY: allocated in `alloc` with this size and alignment; the store (and so
            // every reference into the heap) is gone.
            unsafe {
                std::alloc::dealloc(
                    addr as *mut u8,
                    Layout::from_size_align_unchecked(size, ALIGN),
                )
            };
        }
    }
}

/// Push the references in wasm frames reachable from the frame pointer `fp` (a C helper's
/// frame or a wasm->host shim's frame, whose caller is wasm).
///
/// # Safety
/// `fp` must be the frame pointer of a live frame on this thread's stack whose chain of saved
/// frame pointers is intact up to the first frame whose return address is not in wasm code.
unsafe fn walk(mut fp: usize, out: &mut Vec<u64>) {
    loop {
        if fp == 0 || !fp.is_multiple_of(8) {
            return;
        }
        // SAFETY: `fp` is a frame pointer (contract, then the saved chain of wasm frames):
        // the caller's FP at [fp], the return address at [fp + 8].
        let (caller_fp, ret) = unsafe { (*(fp as *const usize), *((fp + 8) as *const usize)) };
        let Some(info) = code::lookup(ret) else {
            return;
        };
        if info.func_at(ret).is_some() {
            // The caller's SP at the call is just above the return address.
            let sp = fp + 16;
            for &off in info.stack_map_at(ret) {
                // SAFETY: the stack map names 8-byte slots of the caller's live frame.
                out.push(unsafe { *((sp + off as usize) as *const u64) });
            }
        } else {
            return;
        }
        fp = caller_fp;
    }
}

/// The references in every wasm frame of a store: from `fp` (the allocation helper's frame,
/// if the collection started in wasm) and below every host call from wasm, the store's
/// `host_calls` list. (A store's wasm only calls that store's functions, so each of its wasm
/// activations sits directly below one of its own host calls or is the allocating one.)
pub(crate) fn stack_roots(
    fp: Option<usize>,
    host_calls: *const super::host::HostCallRecord,
    out: &mut Vec<u64>,
) {
    if let Some(fp) = fp {
        // SAFETY: `fp` comes from `lockstep_gc_alloc`, whose caller is wasm code.
        unsafe { walk(fp, out) };
    }
    let mut rec = host_calls;
    while !rec.is_null() {
        // SAFETY: each listed record lives in the frame of an active `host_entry` and holds
        // the frame pointer of a live wasm->host shim, whose caller is wasm (or, when the host
        // called a host function through a funcref, a trampoline, where the walk stops).
        unsafe {
            walk((*rec).fp, out);
            rec = (*rec).prev;
        }
    }
}

/// Read `n` bytes of an object's memory at `off`.
///
/// # Safety
/// `obj` must be a live object at least `off + out.len()` bytes long.
pub(crate) unsafe fn read_bytes(obj: u64, off: usize, out: &mut [u8]) {
    // SAFETY: caller contract.
    unsafe {
        std::ptr::copy_nonoverlapping(
            (obj as usize + off) as *const u8,
            out.as_mut_ptr(),
            out.len(),
        )
    };
}

/// Write bytes into an object's memory at `off`.
///
/// # Safety
/// `obj` must be a live object at least `off + data.len()` bytes long.
pub(crate) unsafe fn write_bytes(obj: u64, off: usize, data: &[u8]) {
    // SAFETY: caller contract.
    unsafe {
        std::ptr::copy_nonoverlapping(data.as_ptr(), (obj as usize + off) as *mut u8, data.len())
    };
}

/// Move `n` bytes between (possibly the same) objects.
///
/// # Safety
/// Both ranges must lie inside live objects.
pub(crate) unsafe fn move_bytes(dst: u64, doff: usize, src: u64, soff: usize, n: usize) {
    // SAFETY: caller contract.
    unsafe {
        std::ptr::copy(
            (src as usize + soff) as *const u8,
            (dst as usize + doff) as *mut u8,
            n,
        )
    };
}

/// An object's header: (type id, kind, array length).
///
/// # Safety
/// `obj` must be a live object.
pub(crate) unsafe fn header(obj: u64) -> (u32, u32, u32) {
    // SAFETY: caller contract; every object is at least 16 bytes.
    unsafe {
        (
            *(obj as *const u32),
            *((obj + 4) as *const u32) & 3,
            *((obj + 8) as *const u32),
        )
    }
}

/// The canonical type id of a live object of a store's heap.
pub(crate) fn object_type(obj: u64) -> u32 {
    // SAFETY: callers pass only addresses `GcHeap::contains` accepted.
    unsafe { header(obj).0 }
}

use crate::gctypes::{ARRAY_DATA, Composite};
use crate::store::StoreOpaque;
use crate::trap::TrapCode;

/// `start + n <= len` without overflow.
fn fits(start: u32, n: u32, len: u32) -> bool {
    u64::from(start) + u64::from(n) <= u64::from(len)
}

impl StoreOpaque {
    /// Every root outside the wasm stack, plus the stack's (from `fp`, see [`stack_roots`]).
    fn gc_roots(&self, fp: Option<usize>) -> Vec<u64> {
        let mut roots = Vec::new();
        // Globals and tables of any type: a non-reference value that happens to equal an
        // object's address only keeps that object alive a little longer.
        roots.extend(self.globals.iter().map(|g| g.cell.get() as u64));
        for t in &self.tables {
            roots.extend_from_slice(&t.elems);
        }
        for i in &self.instances {
            for e in &i.elems {
                roots.extend_from_slice(e);
            }
        }
        stack_roots(fp, self.host_calls, &mut roots);
        roots
    }

    /// Collect now (from the host: the wasm frames below active host calls are roots).
    pub(crate) fn gc_collect(&mut self, fp: Option<usize>) {
        let roots = self.gc_roots(fp);
        let engine = self.engine.clone();
        let reg = engine.registry();
        self.gc.collect(&roots, &reg);
    }

    /// Allocate an object of `type_id` (arrays: `len` elements), collecting first when the
    /// heap passed its threshold (`fp`: see [`stack_roots`]; `collect = false` only at
    /// instantiation, whose constant-expression temporaries are not rooted).
    pub(crate) fn gc_alloc(
        &mut self,
        type_id: u32,
        len: u32,
        fp: Option<usize>,
        collect: bool,
    ) -> Result<u64, TrapCode> {
        // The type's shape comes from the heap's cache. It used to come from
        // `engine.type_info` on every allocation: a lock of the engine's type registry and a
        // clone and drop of the type's `Arc`, four atomic operations that were about a fifth
        // of the `gc` kernel. Canonical type ids are never reused, so a cached shape stays
        // right for the store's life.
        let (fixed, per_elem, kind) = match self.gc.shapes.get(&type_id) {
            Some(&shape) => shape,
            None => {
                let shape = {
                    let reg = self.engine.registry();
                    let ti = reg.get(type_id).ok_or(TrapCode::CastFailure)?;
                    match &ti.composite {
                        Composite::Struct(_) => (ti.size, 0, KIND_STRUCT),
                        Composite::Array(f) => (ARRAY_DATA, f.storage.size(), KIND_ARRAY),
                        Composite::Func(_) => return Err(TrapCode::CastFailure),
                    }
                };
                self.gc.shapes.insert(type_id, shape);
                shape
            }
        };
        let size = u64::from(fixed) + u64::from(len) * u64::from(per_elem);
        let size = usize::try_from(size).map_err(|_| TrapCode::OutOfGcHeap)?;
        if collect && self.gc.wants_collection(size) {
            self.gc_collect(fp);
        }
        self.gc
            .alloc(size, type_id, kind, len)
            .ok_or(TrapCode::OutOfGcHeap)
    }

    /// `gc_alloc` of generated code, with `array.new_data` (`seg_kind` 1) and
    /// `array.new_elem` (2): the segment range is checked before allocating.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn gc_alloc_seg(
        &mut self,
        inst: usize,
        type_id: u32,
        len: u32,
        seg_kind: u32,
        seg: u32,
        seg_off: u32,
        fp: Option<usize>,
    ) -> Result<u64, TrapCode> {
        if seg_kind != 0 {
            let es = self
                .engine
                .type_info(type_id)
                .and_then(|t| t.array_elem())
                .map_or(8, |f| f.storage.size());
            let (avail, need, code) = if seg_kind == 1 {
                (
                    self.data_len(inst, seg),
                    u64::from(seg_off) + u64::from(len) * u64::from(es),
                    TrapCode::MemoryOutOfBounds,
                )
            } else {
                (
                    self.instances[inst].elems[seg as usize].len() as u64,
                    u64::from(seg_off) + u64::from(len),
                    TrapCode::TableOutOfBounds,
                )
            };
            if need > avail {
                return Err(code);
            }
        }
        let arr = self.gc_alloc(type_id, len, fp, true)?;
        match seg_kind {
            1 => self.array_init_data(inst, arr, seg, 0, seg_off, len)?,
            2 => self.array_init_elem(inst, arr, seg, 0, seg_off, len)?,
            _ => {}
        }
        Ok(arr)
    }

    fn data_len(&self, inst: usize, seg: u32) -> u64 {
        let i = &self.instances[inst];
        if i.data_dropped[seg as usize] {
            0
        } else {
            i.module.inner.info.datas[seg as usize].data.len() as u64
        }
    }

    /// An array's element size and length (`arr` is a non-null array of this heap).
    fn array_shape(&self, arr: u64) -> Result<(u32, u32), TrapCode> {
        if !self.gc.contains(arr) {
            return Err(TrapCode::NullArrayReference);
        }
        // SAFETY: `arr` is a live object.
        let (id, _, len) = unsafe { header(arr) };
        let es = self
            .engine
            .type_info(id)
            .and_then(|t| t.array_elem())
            .map_or(8, |f| f.storage.size());
        Ok((es, len))
    }

    pub(crate) fn array_fill(
        &mut self,
        arr: u64,
        off: u32,
        lo: u64,
        hi: u64,
        n: u32,
    ) -> Result<(), TrapCode> {
        let (es, len) = self.array_shape(arr)?;
        if !fits(off, n, len) {
            return Err(TrapCode::ArrayOutOfBounds);
        }
        let bytes = (u128::from(lo) | (u128::from(hi) << 64)).to_le_bytes();
        let es = es as usize;
        for i in 0..n as usize {
            // SAFETY: in bounds of the live array (checked above).
            unsafe {
                write_bytes(
                    arr,
                    ARRAY_DATA as usize + (off as usize + i) * es,
                    &bytes[..es],
                )
            };
        }
        Ok(())
    }

    pub(crate) fn array_copy(
        &mut self,
        dst: u64,
        di: u32,
        src: u64,
        si: u32,
        n: u32,
    ) -> Result<(), TrapCode> {
        let (es, dlen) = self.array_shape(dst)?;
        let (_, slen) = self.array_shape(src)?;
        if !fits(di, n, dlen) || !fits(si, n, slen) {
            return Err(TrapCode::ArrayOutOfBounds);
        }
        let es = es as usize;
        // SAFETY: both ranges are inside live arrays (checked above); `copy` allows overlap.
        unsafe {
            move_bytes(
                dst,
                ARRAY_DATA as usize + di as usize * es,
                src,
                ARRAY_DATA as usize + si as usize * es,
                n as usize * es,
            )
        };
        Ok(())
    }

    pub(crate) fn array_init_data(
        &mut self,
        inst: usize,
        arr: u64,
        seg: u32,
        dst: u32,
        src: u32,
        n: u32,
    ) -> Result<(), TrapCode> {
        let (es, len) = self.array_shape(arr)?;
        if !fits(dst, n, len) {
            return Err(TrapCode::ArrayOutOfBounds);
        }
        let bytes = u64::from(n) * u64::from(es);
        if u64::from(src) + bytes > self.data_len(inst, seg) {
            return Err(TrapCode::MemoryOutOfBounds);
        }
        let i = &self.instances[inst];
        let data = &i.module.inner.info.datas[seg as usize].data
            [src as usize..src as usize + bytes as usize];
        // SAFETY: in bounds of the live array (checked above).
        unsafe { write_bytes(arr, ARRAY_DATA as usize + dst as usize * es as usize, data) };
        Ok(())
    }

    pub(crate) fn array_init_elem(
        &mut self,
        inst: usize,
        arr: u64,
        seg: u32,
        dst: u32,
        src: u32,
        n: u32,
    ) -> Result<(), TrapCode> {
        let (_, len) = self.array_shape(arr)?;
        if !fits(dst, n, len) {
            return Err(TrapCode::ArrayOutOfBounds);
        }
        let items = &self.instances[inst].elems[seg as usize];
        if !fits(src, n, items.len() as u32) || items.len() > u32::MAX as usize {
            return Err(TrapCode::TableOutOfBounds);
        }
        for k in 0..n as usize {
            let v = items[src as usize + k];
            // SAFETY: in bounds of the live array of 8-byte references (checked above).
            unsafe {
                write_bytes(
                    arr,
                    ARRAY_DATA as usize + (dst as usize + k) * 8,
                    &v.to_le_bytes(),
                )
            };
        }
        Ok(())
    }
}

impl StoreOpaque {
    /// Write the low `size` bytes of `raw` into object `obj` at byte `off`.
    pub(crate) fn gc_write(
        &mut self,
        obj: u64,
        off: usize,
        size: usize,
        raw: crate::values::ValRaw,
    ) -> bool {
        if !self.gc.contains(obj) || off + size > self.gc.object_size(obj) {
            return false;
        }
        // SAFETY: the range is inside the live object (checked above).
        unsafe { write_bytes(obj, off, &raw.to_le_bytes()[..size]) };
        true
    }

    /// Write the low `size` bytes of `raw` `count` times from byte `off` of object `obj`.
    pub(crate) fn gc_fill(
        &mut self,
        obj: u64,
        off: usize,
        size: usize,
        count: usize,
        raw: crate::values::ValRaw,
    ) -> bool {
        let end = size.checked_mul(count).and_then(|n| n.checked_add(off));
        if !self.gc.contains(obj) || end.is_none_or(|e| e > self.gc.object_size(obj)) {
            return false;
        }
        let bytes = raw.to_le_bytes();
        for i in 0..count {
            // SAFETY: the whole range is inside the live object (checked above).
            unsafe { write_bytes(obj, off + i * size, &bytes[..size]) };
        }
        true
    }

    /// Read `size` bytes of object `obj` at byte `off` (zero-extended).
    pub(crate) fn gc_read(
        &self,
        obj: u64,
        off: usize,
        size: usize,
    ) -> Option<crate::values::ValRaw> {
        if !self.gc.contains(obj) || off + size > self.gc.object_size(obj) {
            return None;
        }
        let mut b = [0u8; 16];
        // SAFETY: the range is inside the live object (checked above).
        unsafe { read_bytes(obj, off, &mut b[..size]) };
        Some(u128::from_le_bytes(b))
    }

    /// (type id, kind, array length) of a live object.
    pub(crate) fn gc_header(&self, obj: u64) -> Option<(u32, u32, u32)> {
        // SAFETY: a live object has a header.
        self.gc.contains(obj).then(|| unsafe { header(obj) })
    }
}
