//! Table instructions (spec section 4.4.6): get, set, size, grow, fill, copy, init.
//! Elements are reference slots (see `value.rs`). Indices and sizes are 64-bit (an `i32`
//! index is zero-extended) and ranges are checked without wrapping.

use crate::TrapKind;
use crate::instance::{MAX_TABLE_ELEMENTS, TableInst, max_table_size, minus_one};
use crate::value::Slot;

/// The index of `[start, start + n)` inside `len` elements, if it lies inside.
fn range(len: usize, start: u64, n: u64) -> Result<std::ops::Range<usize>, TrapKind> {
    match start.checked_add(n) {
        Some(end) if end <= len as u64 => Ok(start as usize..end as usize),
        _ => Err(TrapKind::OutOfBoundsTableAccess),
    }
}

/// `table.get i`.
pub fn get(t: &TableInst, i: u64) -> Result<Slot, TrapKind> {
    let r = range(t.elems.len(), i, 1)?;
    Ok(t.elems[r.start])
}

/// `table.set i v`.
pub fn set(t: &mut TableInst, i: u64, v: Slot) -> Result<(), TrapKind> {
    let r = range(t.elems.len(), i, 1)?;
    t.elems[r.start] = v;
    Ok(())
}

/// `table.grow init n`: the old size, or -1 (in the table's address type) when the table
/// cannot grow.
pub fn grow(t: &mut TableInst, init: Slot, n: u64) -> u64 {
    let failed = minus_one(t.addr);
    let old = t.elems.len() as u64;
    let limit = max_table_size(t.addr);
    let max = t.max.unwrap_or(limit).min(limit).min(MAX_TABLE_ELEMENTS);
    let Some(new) = old.checked_add(n).filter(|&new| new <= max) else {
        return failed;
    };
    if t.elems.try_reserve_exact(n as usize).is_err() {
        return failed;
    }
    t.elems.resize(new as usize, init);
    old
}

/// `table.fill i v n`.
pub fn fill(t: &mut TableInst, i: u64, v: Slot, n: u64) -> Result<(), TrapKind> {
    let r = range(t.elems.len(), i, n)?;
    t.elems[r].fill(v);
    Ok(())
}

/// `table.copy d s n` within one table.
pub fn copy_within(t: &mut TableInst, d: u64, s: u64, n: u64) -> Result<(), TrapKind> {
    let dr = range(t.elems.len(), d, n)?;
    let sr = range(t.elems.len(), s, n)?;
    t.elems.copy_within(sr, dr.start);
    Ok(())
}

/// `table.copy d s n` between two different tables.
pub fn copy_between(
    dst: &mut TableInst,
    src: &TableInst,
    d: u64,
    s: u64,
    n: u64,
) -> Result<(), TrapKind> {
    let dr = range(dst.elems.len(), d, n)?;
    let sr = range(src.elems.len(), s, n)?;
    dst.elems[dr].copy_from_slice(&src.elems[sr]);
    Ok(())
}

/// `table.init x d s n`: copy from an element segment (a dropped one has length 0).
pub fn init(t: &mut TableInst, elems: &[Slot], d: u64, s: u64, n: u64) -> Result<(), TrapKind> {
    let dr = range(t.elems.len(), d, n)?;
    let sr = range(elems.len(), s, n)?;
    t.elems[dr].copy_from_slice(&elems[sr]);
    Ok(())
}
