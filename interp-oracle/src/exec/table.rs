//! Table instructions (spec section 4.4.6): get, set, size, grow, fill, copy, init.
//! Elements are reference slots (see `value.rs`).

use crate::TrapKind;
use crate::instance::{MAX_TABLE_ELEMENTS, TableInst};
use crate::value::Slot;

fn check(len: usize, start: u32, n: u32) -> Result<(), TrapKind> {
    if u64::from(start) + u64::from(n) > len as u64 {
        Err(TrapKind::OutOfBoundsTableAccess)
    } else {
        Ok(())
    }
}

/// `table.get i`.
pub fn get(t: &TableInst, i: u32) -> Result<Slot, TrapKind> {
    t.elems
        .get(i as usize)
        .copied()
        .ok_or(TrapKind::OutOfBoundsTableAccess)
}

/// `table.set i v`.
pub fn set(t: &mut TableInst, i: u32, v: Slot) -> Result<(), TrapKind> {
    let e = t
        .elems
        .get_mut(i as usize)
        .ok_or(TrapKind::OutOfBoundsTableAccess)?;
    *e = v;
    Ok(())
}

/// `table.grow init n`: the old size, or -1 (as u32) when the table cannot grow.
pub fn grow(t: &mut TableInst, init: Slot, n: u32) -> u32 {
    let old = t.elems.len() as u64;
    let new = old + u64::from(n);
    let max = t
        .max
        .unwrap_or(u64::from(u32::MAX))
        .min(u64::from(u32::MAX));
    if new > max || new > MAX_TABLE_ELEMENTS {
        return u32::MAX;
    }
    if t.elems.try_reserve_exact(n as usize).is_err() {
        return u32::MAX;
    }
    t.elems.resize(new as usize, init);
    old as u32
}

/// `table.fill i v n`.
pub fn fill(t: &mut TableInst, i: u32, v: Slot, n: u32) -> Result<(), TrapKind> {
    check(t.elems.len(), i, n)?;
    t.elems[i as usize..(i + n) as usize].fill(v);
    Ok(())
}

/// `table.copy d s n` within one table.
pub fn copy_within(t: &mut TableInst, d: u32, s: u32, n: u32) -> Result<(), TrapKind> {
    check(t.elems.len(), d, n)?;
    check(t.elems.len(), s, n)?;
    t.elems
        .copy_within(s as usize..(s + n) as usize, d as usize);
    Ok(())
}

/// `table.copy d s n` between two different tables.
pub fn copy_between(
    dst: &mut TableInst,
    src: &TableInst,
    d: u32,
    s: u32,
    n: u32,
) -> Result<(), TrapKind> {
    check(dst.elems.len(), d, n)?;
    check(src.elems.len(), s, n)?;
    dst.elems[d as usize..(d + n) as usize]
        .copy_from_slice(&src.elems[s as usize..(s + n) as usize]);
    Ok(())
}

/// `table.init x d s n`: copy from an element segment (a dropped one has length 0).
pub fn init(t: &mut TableInst, elems: &[Slot], d: u32, s: u32, n: u32) -> Result<(), TrapKind> {
    check(t.elems.len(), d, n)?;
    check(elems.len(), s, n)?;
    t.elems[d as usize..(d + n) as usize].copy_from_slice(&elems[s as usize..(s + n) as usize]);
    Ok(())
}
