//! Memory instructions (spec section 4.4.7): loads, stores, size, grow, fill, copy, init.
//! Addresses, offsets and sizes are 64-bit (an `i32` address is zero-extended), and every
//! access is bounds-checked on its full range with checked arithmetic, so an effective
//! address near 2^64 traps and never wraps.

use crate::TrapKind;
use crate::instance::{MemInst, PAGE_SIZE, max_pages, minus_one, zeroed_bytes};

/// Growth by more than this many bytes reallocates with zeroed pages instead of zero-filling.
const LARGE_GROWTH: usize = 16 << 20;

/// The index of `[start, start + n)` inside `len` bytes, if it lies inside.
fn range(len: usize, start: u64, n: u64) -> Result<std::ops::Range<usize>, TrapKind> {
    match start.checked_add(n) {
        Some(end) if end <= len as u64 => Ok(start as usize..end as usize),
        _ => Err(TrapKind::OutOfBoundsMemoryAccess),
    }
}

/// The effective address `addr + offset` of an access (its overflow is out of bounds).
fn effective(addr: u64, offset: u64) -> Result<u64, TrapKind> {
    addr.checked_add(offset)
        .ok_or(TrapKind::OutOfBoundsMemoryAccess)
}

/// `t.load`: read `N` little-endian bytes.
pub fn load<const N: usize>(mem: &[u8], addr: u64, offset: u64) -> Result<[u8; N], TrapKind> {
    let r = range(mem.len(), effective(addr, offset)?, N as u64)?;
    let mut out = [0u8; N];
    out.copy_from_slice(&mem[r]);
    Ok(out)
}

/// `t.store`: write `N` little-endian bytes.
pub fn store<const N: usize>(
    mem: &mut [u8],
    addr: u64,
    offset: u64,
    bytes: [u8; N],
) -> Result<(), TrapKind> {
    let r = range(mem.len(), effective(addr, offset)?, N as u64)?;
    mem[r].copy_from_slice(&bytes);
    Ok(())
}

/// `memory.grow`: the old size in pages, or -1 (in the memory's address type) if the
/// memory cannot grow.
pub fn grow(mem: &mut MemInst, delta: u64) -> u64 {
    let failed = minus_one(mem.addr);
    let old = mem.pages();
    let limit = max_pages(mem.addr);
    let max = mem.max.unwrap_or(limit).min(limit);
    let Some(new) = old.checked_add(delta).filter(|&n| n <= max) else {
        return failed;
    };
    let Some(new_len) = usize::try_from(new)
        .ok()
        .and_then(|n| n.checked_mul(PAGE_SIZE))
    else {
        return failed;
    };
    if new_len - mem.data.len() <= LARGE_GROWTH {
        if mem
            .data
            .try_reserve_exact(new_len - mem.data.len())
            .is_err()
        {
            return failed;
        }
        mem.data.resize(new_len, 0);
    } else {
        // A large growth gets a fresh zeroed allocation (untouched pages) and a copy,
        // rather than writing zeros over the whole new range.
        let Some(mut data) = zeroed_bytes(new_len) else {
            return failed;
        };
        data[..mem.data.len()].copy_from_slice(&mem.data);
        mem.data = data;
    }
    old
}

/// `memory.fill d val n`.
pub fn fill(mem: &mut [u8], d: u64, val: u8, n: u64) -> Result<(), TrapKind> {
    let r = range(mem.len(), d, n)?;
    mem[r].fill(val);
    Ok(())
}

/// `memory.copy d s n` within one memory (overlapping ranges behave like memmove).
pub fn copy_within(mem: &mut [u8], d: u64, s: u64, n: u64) -> Result<(), TrapKind> {
    let dr = range(mem.len(), d, n)?;
    let sr = range(mem.len(), s, n)?;
    mem.copy_within(sr, dr.start);
    Ok(())
}

/// `memory.copy d s n` between two different memories.
pub fn copy_between(dst: &mut [u8], src: &[u8], d: u64, s: u64, n: u64) -> Result<(), TrapKind> {
    let dr = range(dst.len(), d, n)?;
    let sr = range(src.len(), s, n)?;
    dst[dr].copy_from_slice(&src[sr]);
    Ok(())
}

/// `memory.init x d s n`: copy from a data segment (a dropped one has length 0).
pub fn init(mem: &mut [u8], data: &[u8], d: u64, s: u64, n: u64) -> Result<(), TrapKind> {
    let dr = range(mem.len(), d, n)?;
    let sr = range(data.len(), s, n)?;
    mem[dr].copy_from_slice(&data[sr]);
    Ok(())
}
