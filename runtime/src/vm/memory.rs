//! Linear memory: one virtual-memory reservation per memory. The accessible prefix is
//! read/write; the rest of the reservation and the guard are `PROT_NONE`. The base never moves.

use super::vmctx::VMMemoryDef;
use crate::types::MemoryType;

pub(crate) const WASM_PAGE: u64 = 65536;

/// Freed reservations kept for reuse, process-wide: (base, total length, bytes left read/write).
///
/// Every instance used to `mmap` its reservation, `mprotect` its first pages and `munmap` it
/// all when dropped: three system calls that each take the address-space lock for writing
/// and create or tear down a mapping. The fuzz campaign makes and drops thousands of small
/// memories a second, so that was a visible part of its kernel time. A
/// dropped memory's reservation now comes back here, zeroed and with its protection already
/// set, and the next memory of the same reservation size takes it: zeroed in place or with one
/// `madvise` when dropped (see [`ZERO_IN_PLACE_MAX`]), and no system call at all when the next memory
/// starts at the size the last one ended at.
static POOL: std::sync::Mutex<Vec<Pooled>> = std::sync::Mutex::new(Vec::new());

/// At most this many reservations wait in the pool (each is only address space, no memory).
const POOL_MAX: usize = 16;

struct Pooled {
    base: usize,
    total: usize,
    /// `[base, base + rw)` is read/write and reads as zero; the rest is `PROT_NONE`.
    rw: usize,
}

/// A `total`-byte reservation whose first `len` bytes are read/write and zero and the rest
/// `PROT_NONE`: a pooled one if there is one of that size, else a fresh mapping.
fn reserve(total: usize, len: usize) -> Result<usize, String> {
    let pooled = {
        let mut pool = POOL.lock().unwrap_or_else(|e| e.into_inner());
        // One whose accessible part already has the wanted length, if any: it needs no
        // `mprotect`. Taking the first of the right size instead cost the campaign ~1.5
        // `mprotect`s per case (its memories start at a few different sizes), and shrinking
        // the accessible part also flushes the TLBs of every core running the process.
        let i = pool
            .iter()
            .position(|p| p.total == total && p.rw == len)
            .or_else(|| pool.iter().position(|p| p.total == total));
        i.map(|i| pool.swap_remove(i))
    };
    if let Some(p) = pooled {
        if let Err(e) = set_rw(p.base, p.rw, len) {
            // SAFETY: the reservation was ours (taken out of the pool), and nothing refers to it.
            unsafe { libc::munmap(p.base as *mut libc::c_void, p.total) };
            return Err(e);
        }
        return Ok(p.base);
    }
    // SAFETY: an anonymous private PROT_NONE mapping at an address chosen by the kernel
    // aliases nothing; the result is checked for MAP_FAILED.
    let ptr = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            total,
            libc::PROT_NONE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    if ptr == libc::MAP_FAILED {
        return Err("failed to reserve linear memory".to_string());
    }
    if let Err(e) = set_rw(ptr as usize, 0, len) {
        // SAFETY: our fresh mapping; nothing refers to it.
        unsafe { libc::munmap(ptr, total) };
        return Err(e);
    }
    Ok(ptr as usize)
}

/// Change a reservation whose first `from` bytes are read/write into one whose first `to` are.
fn set_rw(base: usize, from: usize, to: usize) -> Result<(), String> {
    let (start, len, prot) = match to.cmp(&from) {
        std::cmp::Ordering::Equal => return Ok(()),
        std::cmp::Ordering::Greater => (from, to - from, libc::PROT_READ | libc::PROT_WRITE),
        std::cmp::Ordering::Less => (to, from - to, libc::PROT_NONE),
    };
    // SAFETY: [base + start, base + start + len) lies within the caller's own reservation (both
    // `from` and `to` are at most its length), so the change affects no one else's memory.
    let rc = unsafe { libc::mprotect((base + start) as *mut libc::c_void, len, prot) };
    if rc != 0 {
        return Err("mprotect failed".to_string());
    }
    Ok(())
}

/// Memories whose accessible part is at most this size are zeroed in place when they go back
/// to the pool; larger ones are dropped with `madvise`.
///
/// `MADV_DONTNEED` was about half of an instantiate-and-drop of a one-page memory (`perf record`
/// on the `instantiate` bench): the call itself, the TLB shootdown it sends to the other cores,
/// and then a page fault (allocating and zeroing a fresh page) on the next instance's first
/// write, typically its data segments. Zeroing in place leaves the pages resident, so a reused
/// reservation needs no system call and takes no fault.
///
/// This was 256 KiB, with a plain `memset` of the whole accessible part. In the fuzz campaign
/// (memories of 64 KiB-1 MiB, every page of every exported memory read by the comparison after
/// each call) that faulted twice over: a memory above 256 KiB was dropped with `madvise`, so the
/// next instance's comparison faulted on every page again (a read fault mapping the zero page),
/// and a small memory's `memset` took a write fault on every page that had only been read (a
/// copy of the zero page) or had been dropped by a larger memory before: half of the campaign
/// worker's page faults were in linear memories. Now memories up to 2 MiB are zeroed in place,
/// writing only the pages that are not already zero (`zero_in_place`), so every page stays
/// mapped for the next instance and none is copied to store zeros. The limit bounds what the
/// pool keeps resident: at most `POOL_MAX` times this.
const ZERO_IN_PLACE_MAX: usize = 2 << 20;

const PAGE: usize = 4096;

/// Make `[base, base + len)` (read/write, page-aligned, `len` a multiple of the page size)
/// read as zero, writing only the pages that hold a nonzero byte.
///
/// A page that was only ever read maps the shared zero page: reading it costs nothing, while
/// writing it would copy it (a fault and a fresh page) just to store zeros. A page that is not
/// resident takes a read fault here, once: it then maps the zero page for the reservation's
/// next users. (`mincore` could skip those, but it reports a swapped-out page, which holds
/// data, as not resident.)
fn zero_in_place(base: usize, len: usize) {
    for start in (0..len).step_by(PAGE) {
        // SAFETY: the page lies inside [base, base + len), which is ours, mapped read/write and
        // page-aligned (so 8-aligned); no reference into it survives the memory that owned it.
        let page = unsafe { std::slice::from_raw_parts_mut((base + start) as *mut u64, PAGE / 8) };
        // An OR over the page (no early exit) compiles to wide loads.
        if page.iter().fold(0, |acc, &w| acc | w) != 0 {
            page.fill(0);
        }
    }
}

/// Give back a reservation whose first `rw` bytes are read/write (and may hold data).
fn release(base: usize, total: usize, rw: usize) {
    // Zeroed before taking the lock, so other threads' memories do not wait for it.
    let zeroed = if rw <= ZERO_IN_PLACE_MAX {
        zero_in_place(base, rw);
        true
    } else {
        // SAFETY: [base, base + rw) is ours and mapped read/write, and no reference into it
        // survives the memory that owned it; MADV_DONTNEED on a private anonymous mapping
        // drops its pages, which then read as zero.
        unsafe { libc::madvise(base as *mut libc::c_void, rw, libc::MADV_DONTNEED) == 0 }
    };
    if zeroed {
        let mut pool = POOL.lock().unwrap_or_else(|e| e.into_inner());
        if pool.len() < POOL_MAX {
            pool.push(Pooled { base, total, rw });
            return;
        }
    }
    // SAFETY: unmapping exactly a reservation we created; nothing refers to it any more.
    unsafe {
        libc::munmap(base as *mut libc::c_void, total);
    }
}

pub(crate) struct LinearMemory {
    def: Box<VMMemoryDef>,
    mapping: usize,
    mapping_len: usize,
    /// Bytes that may ever become accessible (reservation without guard).
    capacity: u64,
    /// Declared maximum in pages (bounded by the index space: 2^16 or 2^48 pages).
    max_pages: u64,
    declared_max: Option<u64>,
    memory64: bool,
}

impl LinearMemory {
    /// Reserve `reservation + guard` bytes (at least the minimum size) and make the first
    /// `ty.minimum` pages accessible. A 32-bit memory is capped at 4 GiB; a memory64 memory at
    /// its reservation, so `Config::memory_reservation` is the limit on memories above 4 GiB.
    pub fn new(ty: &MemoryType, reservation: u64, guard: u64) -> Result<LinearMemory, String> {
        let declared_max = ty.maximum;
        let index_space_pages = if ty.memory64 { 1 << 48 } else { 1 << 16 };
        let max_pages = ty
            .maximum
            .unwrap_or(index_space_pages)
            .min(index_space_pages);
        let min_bytes = ty
            .minimum
            .checked_mul(WASM_PAGE)
            .filter(|&b| b <= if ty.memory64 { reservation } else { 4 << 30 })
            .ok_or("memory minimum too large")?;
        // The whole reservation is mapped even when the declared maximum is smaller: code
        // compiled for guard pages omits bounds checks for any 32-bit index plus a static offset
        // up to the guard size, so everything up to `reservation + guard` must stay ours and
        // PROT_NONE. Growth past the maximum is refused in `grow`, not by the mapping's size.
        let capacity = reservation.max(min_bytes);
        let total = capacity
            .checked_add(guard)
            .ok_or("memory reservation too large")?;
        let total = usize::try_from(total).map_err(|_| "memory reservation too large")?;
        let total = total.max(4096);
        // min_bytes <= capacity < total, a usize.
        let ptr = reserve(total, min_bytes as usize)?;
        let mem = LinearMemory {
            def: Box::new(VMMemoryDef {
                base: std::cell::Cell::new(ptr),
                len: std::cell::Cell::new(0),
            }),
            mapping: ptr,
            mapping_len: total,
            capacity,
            max_pages,
            declared_max,
            memory64: ty.memory64,
        };
        mem.def.len.set(min_bytes);
        Ok(mem)
    }

    fn commit(&self, new_len: u64) -> Result<(), String> {
        // SAFETY: [mapping, mapping + new_len) lies within our own reservation
        // (new_len <= capacity <= mapping_len), so changing its protection affects no one else.
        let rc = unsafe {
            libc::mprotect(
                self.mapping as *mut libc::c_void,
                new_len as usize,
                libc::PROT_READ | libc::PROT_WRITE,
            )
        };
        if rc != 0 {
            return Err("mprotect failed".to_string());
        }
        Ok(())
    }

    pub fn def_ptr(&self) -> *const VMMemoryDef {
        &*self.def
    }

    /// The base address; fixed for the memory's whole life (growth only changes protection
    /// inside the reservation), so instances may copy it (`VMOffsets::memory_base`).
    pub fn base(&self) -> usize {
        self.def.base.get()
    }

    pub fn size_bytes(&self) -> u64 {
        self.def.len.get()
    }

    pub fn size_pages(&self) -> u64 {
        self.size_bytes() / WASM_PAGE
    }

    pub fn declared_max(&self) -> Option<u64> {
        self.declared_max
    }

    pub fn memory64(&self) -> bool {
        self.memory64
    }

    /// Grow by `delta` pages, returning the old size in pages, or `None` if not possible.
    pub fn grow(&mut self, delta: u64) -> Option<u64> {
        let old = self.size_pages();
        let new = old.checked_add(delta)?;
        if new > self.max_pages {
            return None;
        }
        // new <= max_pages <= 2^48: no overflow.
        let new_bytes = new * WASM_PAGE;
        if new_bytes > self.capacity {
            return None;
        }
        if delta > 0 {
            self.commit(new_bytes).ok()?;
            self.def.len.set(new_bytes);
        }
        Some(old)
    }

    /// The accessible bytes.
    pub fn data(&self) -> &[u8] {
        let len = self.size_bytes() as usize;
        if len == 0 {
            return &[];
        }
        // SAFETY: [base, base+len) is mapped read/write for as long as self lives; wasm only
        // mutates it while the host holds no borrows (calls take `&mut` of the store).
        unsafe { std::slice::from_raw_parts(self.mapping as *const u8, len) }
    }

    pub fn data_mut(&mut self) -> &mut [u8] {
        let len = self.size_bytes() as usize;
        if len == 0 {
            return &mut [];
        }
        // SAFETY: as in `data`, and `&mut self` guarantees exclusivity.
        unsafe { std::slice::from_raw_parts_mut(self.mapping as *mut u8, len) }
    }
}

impl Drop for LinearMemory {
    fn drop(&mut self) {
        // No references into the reservation outlive `self` (slices borrow `self`), so it can
        // be reused or unmapped.
        release(self.mapping, self.mapping_len, self.size_bytes() as usize);
    }
}

// SAFETY: the mapping is owned exclusively by this value; moving it between threads is fine.
unsafe impl Send for LinearMemory {}
