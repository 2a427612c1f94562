//! Memory instructions (spec section 4.4.7): loads, stores, size, grow, fill, copy, init.
//! Every access is bounds-checked on the full effective address `addr + offset + width`,
//! computed in 64 bits so it cannot wrap.

use crate::TrapKind;
use crate::instance::{MAX_PAGES, MemInst, PAGE_SIZE, zeroed_bytes};

/// Growth by more than this many bytes reallocates with zeroed pages instead of zero-filling.
const LARGE_GROWTH: usize = 16 << 20;

/// The byte range `[addr + offset, addr + offset + N)` if it lies inside `len` bytes.
fn range(len: usize, addr: u32, offset: u32, n: usize) -> Result<usize, TrapKind> {
    let ea = u64::from(addr) + u64::from(offset);
    if ea + n as u64 > len as u64 {
        Err(TrapKind::OutOfBoundsMemoryAccess)
    } else {
        Ok(ea as usize)
    }
}

/// `t.load`: read `N` little-endian bytes.
pub fn load<const N: usize>(mem: &[u8], addr: u32, offset: u32) -> Result<[u8; N], TrapKind> {
    let ea = range(mem.len(), addr, offset, N)?;
    let mut out = [0u8; N];
    out.copy_from_slice(&mem[ea..ea + N]);
    Ok(out)
}

/// `t.store`: write `N` little-endian bytes.
pub fn store<const N: usize>(
    mem: &mut [u8],
    addr: u32,
    offset: u32,
    bytes: [u8; N],
) -> Result<(), TrapKind> {
    let ea = range(mem.len(), addr, offset, N)?;
    mem[ea..ea + N].copy_from_slice(&bytes);
    Ok(())
}

/// `memory.grow`: the old size in pages, or -1 (as u32) if the memory cannot grow.
pub fn grow(mem: &mut MemInst, delta: u32) -> u32 {
    let old = mem.pages();
    let new = old + u64::from(delta);
    let max = mem.max.unwrap_or(MAX_PAGES).min(MAX_PAGES);
    if new > max {
        return u32::MAX;
    }
    let new_len = new as usize * PAGE_SIZE;
    if new_len - mem.data.len() <= LARGE_GROWTH {
        if mem
            .data
            .try_reserve_exact(new_len - mem.data.len())
            .is_err()
        {
            return u32::MAX;
        }
        mem.data.resize(new_len, 0);
    } else {
        // A large growth gets a fresh zeroed allocation (untouched pages) and a copy,
        // rather than writing zeros over the whole new range.
        let Some(mut data) = zeroed_bytes(new_len) else {
            return u32::MAX;
        };
        data[..mem.data.len()].copy_from_slice(&mem.data);
        mem.data = data;
    }
    old as u32
}

/// Check that `[start, start + n)` lies inside `len`.
fn check(len: usize, start: u32, n: u32) -> Result<(), TrapKind> {
    if u64::from(start) + u64::from(n) > len as u64 {
        Err(TrapKind::OutOfBoundsMemoryAccess)
    } else {
        Ok(())
    }
}

/// `memory.fill d val n`.
pub fn fill(mem: &mut [u8], d: u32, val: u8, n: u32) -> Result<(), TrapKind> {
    check(mem.len(), d, n)?;
    mem[d as usize..(d + n) as usize].fill(val);
    Ok(())
}

/// `memory.copy d s n` within one memory (overlapping ranges behave like memmove).
pub fn copy_within(mem: &mut [u8], d: u32, s: u32, n: u32) -> Result<(), TrapKind> {
    check(mem.len(), d, n)?;
    check(mem.len(), s, n)?;
    mem.copy_within(s as usize..(s + n) as usize, d as usize);
    Ok(())
}

/// `memory.copy d s n` between two different memories.
pub fn copy_between(dst: &mut [u8], src: &[u8], d: u32, s: u32, n: u32) -> Result<(), TrapKind> {
    check(dst.len(), d, n)?;
    check(src.len(), s, n)?;
    dst[d as usize..(d + n) as usize].copy_from_slice(&src[s as usize..(s + n) as usize]);
    Ok(())
}

/// `memory.init x d s n`: copy from a data segment (a dropped one has length 0).
pub fn init(mem: &mut [u8], data: &[u8], d: u32, s: u32, n: u32) -> Result<(), TrapKind> {
    check(mem.len(), d, n)?;
    check(data.len(), s, n)?;
    mem[d as usize..(d + n) as usize].copy_from_slice(&data[s as usize..(s + n) as usize]);
    Ok(())
}
