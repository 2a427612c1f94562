//! SIMD memory instructions (spec section 4.4.7, the `v128.load*`/`v128.store*` rules).
//!
//! Every access is bounds-checked on its full width by the scalar helpers of
//! `exec/memory.rs`, so an out-of-bounds vector access traps with
//! "out of bounds memory access" and touches nothing.

use super::extend;
use super::lanes::{i8x16, i16x8, i32x4, i64x2, u8x16, u16x8, u32x4, u64x2};
use crate::TrapKind;
use crate::exec::memory::{load, store};
use crate::instr::{MemArg, SimdLoad, SimdMemLaneOp};
use crate::value::Slot;

/// 64 bits from memory, as the low half of a vector.
fn half(mem: &[u8], addr: u64, offset: u64) -> Result<u128, TrapKind> {
    Ok(u128::from(u64::from_le_bytes(load(mem, addr, offset)?)))
}

/// `v128.load*` at `addr + o`: the vector read. (`v128.store` is the scalar store rule.)
pub fn load_vector(op: SimdLoad, mem: &[u8], addr: u64, o: u64) -> Result<Slot, TrapKind> {
    use SimdLoad as S;
    Ok(match op {
        S::V128Load => u128::from_le_bytes(load(mem, addr, o)?),
        // `v128.loadMxN_sx`: N lanes of M bits, each extended to 2M bits.
        S::V128Load8x8S => extend!(i8x16 => i16x8, low, half(mem, addr, o)?),
        S::V128Load8x8U => extend!(u8x16 => u16x8, low, half(mem, addr, o)?),
        S::V128Load16x4S => extend!(i16x8 => i32x4, low, half(mem, addr, o)?),
        S::V128Load16x4U => extend!(u16x8 => u32x4, low, half(mem, addr, o)?),
        S::V128Load32x2S => extend!(i32x4 => i64x2, low, half(mem, addr, o)?),
        S::V128Load32x2U => extend!(u32x4 => u64x2, low, half(mem, addr, o)?),
        // `v128.loadN_splat`.
        S::V128Load8Splat => u8x16::splat(load::<1>(mem, addr, o)?[0]),
        S::V128Load16Splat => u16x8::splat(u16::from_le_bytes(load(mem, addr, o)?)),
        S::V128Load32Splat => u32x4::splat(u32::from_le_bytes(load(mem, addr, o)?)),
        S::V128Load64Splat => u64x2::splat(u64::from_le_bytes(load(mem, addr, o)?)),
        // `v128.loadN_zero`: the value in lane 0, zeros elsewhere.
        S::V128Load32Zero => u128::from(u32::from_le_bytes(load(mem, addr, o)?)),
        S::V128Load64Zero => u128::from(u64::from_le_bytes(load(mem, addr, o)?)),
    })
}

/// `v128.loadN_lane` and `v128.storeN_lane` on the vector `v` and the address `addr`: a
/// load gives the vector with one lane replaced, a store nothing.
pub fn exec_lane(
    op: SimdMemLaneOp,
    lane: u8,
    m: MemArg,
    mem: &mut [u8],
    addr: u64,
    v: Slot,
) -> Result<Option<Slot>, TrapKind> {
    use SimdMemLaneOp as S;
    let (o, l) = (m.offset(), lane as usize);
    Ok(match op {
        S::V128Load8Lane => {
            let mut x = u8x16::lanes(v);
            x[l] = load::<1>(mem, addr, o)?[0];
            Some(u8x16::from_lanes(x))
        }
        S::V128Load16Lane => {
            let mut x = u16x8::lanes(v);
            x[l] = u16::from_le_bytes(load(mem, addr, o)?);
            Some(u16x8::from_lanes(x))
        }
        S::V128Load32Lane => {
            let mut x = u32x4::lanes(v);
            x[l] = u32::from_le_bytes(load(mem, addr, o)?);
            Some(u32x4::from_lanes(x))
        }
        S::V128Load64Lane => {
            let mut x = u64x2::lanes(v);
            x[l] = u64::from_le_bytes(load(mem, addr, o)?);
            Some(u64x2::from_lanes(x))
        }
        S::V128Store8Lane => store(mem, addr, o, [u8x16::lanes(v)[l]]).map(|()| None)?,
        S::V128Store16Lane => {
            store(mem, addr, o, u16x8::lanes(v)[l].to_le_bytes()).map(|()| None)?
        }
        S::V128Store32Lane => {
            store(mem, addr, o, u32x4::lanes(v)[l].to_le_bytes()).map(|()| None)?
        }
        S::V128Store64Lane => {
            store(mem, addr, o, u64x2::lanes(v)[l].to_le_bytes()).map(|()| None)?
        }
    })
}
