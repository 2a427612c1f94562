//! Edge-biased values: the one generator of operands and arguments, used by the campaign's call
//! plans, the fuzz targets' operands and the proptest suites' strategies.

use crate::engine::{AnyRef, Val};
use crate::fuzz::rng::Rng;

/// An argument biased towards the edges of its type.
pub fn edge_value(rng: &mut Rng, ty: wasmparser::ValType) -> Val {
    use wasmparser::ValType as T;
    match ty {
        T::I32 => Val::I32(edge_int(rng, 32) as u32),
        T::I64 => Val::I64(edge_int(rng, 64)),
        T::F32 => Val::F32(match rng.below(14) {
            0 => 0,
            1 => 0x8000_0000,
            2 => f32::INFINITY.to_bits(),
            3 => f32::NEG_INFINITY.to_bits(),
            4 => 0x7fc0_0000,
            5 => 0xffc0_0000,
            // NaN with a payload, quiet or signalling, either sign.
            6 => 0x7f80_0000 | (rng.next_u64() as u32 & 0x807f_ffff) | 1,
            7 => f32::MAX.to_bits() | (rng.below(2) as u32) << 31,
            8 => rng.below(3) as u32 | (rng.below(2) as u32) << 31, // subnormals
            9 => (2f32.powi(rng.below(70) as i32 - 10)).to_bits() | (rng.below(2) as u32) << 31,
            10 => ((rng.next_u64() as i32 >> rng.below(31)) as f32).to_bits(),
            11 => [
                0.5f32,
                -0.5,
                1.5,
                2.5,
                -1.0,
                4294967296.0,
                2147483648.0,
                -2147483904.0,
            ][rng.below(8) as usize]
                .to_bits(),
            _ => rng.next_u64() as u32,
        }),
        T::F64 => Val::F64(match rng.below(14) {
            0 => 0,
            1 => 1 << 63,
            2 => f64::INFINITY.to_bits(),
            3 => f64::NEG_INFINITY.to_bits(),
            4 => 0x7ff8_0000_0000_0000,
            5 => 0xfff8_0000_0000_0000,
            6 => 0x7ff0_0000_0000_0000 | (rng.next_u64() & 0x800f_ffff_ffff_ffff) | 1,
            7 => f64::MAX.to_bits() | rng.below(2) << 63,
            8 => rng.below(3) | rng.below(2) << 63,
            9 => (2f64.powi(rng.below(140) as i32 - 20)).to_bits() | rng.below(2) << 63,
            10 => ((rng.next_u64() as i64 >> rng.below(63)) as f64).to_bits(),
            11 => [
                0.5f64,
                -0.5,
                1.5,
                2.5,
                -1.0,
                18446744073709551616.0,
                9223372036854775808.0,
                -9223372036854777856.0,
                4294967296.0,
                -2147483649.0,
            ][rng.below(10) as usize]
                .to_bits(),
            _ => rng.next_u64(),
        }),
        T::V128 => Val::V128(edge_v128(rng)),
        T::Ref(r) => edge_ref(rng, r),
    }
}

/// A reference argument of type `r`: null where the type allows it, sometimes; a host reference
/// (`ref.extern n`) for externrefs, an `i31` (edge-biased payload) for `anyref`, `eqref` and
/// `i31ref`, and for `anyref` also an internalized host reference. The host can make no function,
/// struct, array or exception, so those are always null; a non-nullable one of them cannot be
/// made at all ([`host_can_make`]) and comes out null too, which the caller must not pass.
/// A concrete heap type must be resolved first ([`crate::fuzz::case::plan`] does): unresolved,
/// it is taken for a function type.
pub fn edge_ref(rng: &mut Rng, r: wasmparser::RefType) -> Val {
    use wasmparser::AbstractHeapType as A;
    let abs = match r.heap_type() {
        wasmparser::HeapType::Abstract { ty, .. } => ty,
        _ => A::Func,
    };
    match abs {
        // Kept as it was before the GC types, so externref draws are unchanged.
        A::Extern => {
            if r.is_nullable() && rng.below(2) == 0 {
                Val::ExternRef(None)
            } else {
                Val::ExternRef(Some(rng.below(4) as u32))
            }
        }
        A::Any | A::Eq | A::I31 => match rng.below(4) {
            0 if r.is_nullable() => Val::AnyRef(None),
            1 if abs == A::Any => Val::AnyRef(Some(AnyRef::Host(rng.below(4) as u32))),
            _ => Val::AnyRef(Some(AnyRef::I31(edge_i31(rng)))),
        },
        A::Struct | A::Array | A::None => Val::AnyRef(None),
        A::NoExtern => Val::ExternRef(None),
        A::Exn | A::NoExn => Val::ExnRef(None),
        _ => Val::FuncRef(None),
    }
}

/// Whether the host can make an argument of type `r` ([`edge_ref`]): any nullable type, and the
/// non-nullable `extern`, `any`, `eq` and `i31`.
pub fn host_can_make(r: wasmparser::RefType) -> bool {
    use wasmparser::AbstractHeapType as A;
    r.is_nullable()
        || matches!(
            r.heap_type(),
            wasmparser::HeapType::Abstract {
                ty: A::Extern | A::Any | A::Eq | A::I31,
                ..
            }
        )
}

/// A 31-bit `i31` payload, edge-biased: 0, 1, the largest and smallest signed values, -1, or
/// random bits.
fn edge_i31(rng: &mut Rng) -> u32 {
    match rng.below(6) {
        0 => 0,
        1 => 1,
        2 => 0x3fff_ffff,
        3 => 0x4000_0000,
        4 => 0x7fff_ffff,
        _ => rng.next_u64() as u32 & 0x7fff_ffff,
    }
}

/// A v128 argument with edge-biased lanes: a lane shape is drawn (i8x16 to i64x2, f32x4, f64x2)
/// and each lane is an edge of its type ([`edge_value`]: NaNs with payloads, ±0, ±inf, lane
/// minimum and maximum, small integers...), sometimes one value splatted; or all zeros, all ones
/// or random bits.
pub fn edge_v128(rng: &mut Rng) -> u128 {
    use wasmparser::ValType as T;
    match rng.below(10) {
        0 => [0, u128::MAX, 1, 1 << 127][rng.below(4) as usize],
        1 => (rng.next_u64() as u128) << 64 | rng.next_u64() as u128,
        _ => {
            let bits = [8u32, 16, 32, 64, 32, 64][rng.below(6) as usize];
            let float = bits >= 32 && rng.below(2) == 0;
            let lanes = 128 / bits;
            let splat = rng.below(4) == 0;
            let lane = |rng: &mut Rng| -> u128 {
                let v = match (float, bits) {
                    (true, 32) => match edge_value(rng, T::F32) {
                        Val::F32(b) => b as u64,
                        _ => unreachable!(),
                    },
                    (true, _) => match edge_value(rng, T::F64) {
                        Val::F64(b) => b,
                        _ => unreachable!(),
                    },
                    (false, _) => edge_int(rng, bits),
                };
                v as u128
            };
            let first = lane(rng);
            (0..lanes).fold(0u128, |acc, i| {
                let v = if splat || i == 0 { first } else { lane(rng) };
                acc | v << (bits * i)
            })
        }
    }
}

fn edge_int(rng: &mut Rng, bits: u32) -> u64 {
    let mask = if bits == 64 {
        u64::MAX
    } else {
        (1 << bits) - 1
    };
    let v = match rng.below(10) {
        0 => 0,
        1 => 1,
        2 => u64::MAX,              // -1
        3 => 1 << (bits - 1),       // min
        4 => (1 << (bits - 1)) - 1, // max
        5 => 1 << rng.below(bits as u64),
        6 => (1u64 << rng.below(bits as u64)).wrapping_neg(),
        7 => (rng.below(33) as i64 - 16) as u64,
        8 => (1u64 << rng.below(bits as u64))
            .wrapping_add(rng.below(3))
            .wrapping_sub(1),
        _ => rng.next_u64(),
    };
    v & mask
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v128_arguments_are_edge_biased() {
        let mut rng = Rng::new(7);
        let vals: Vec<u128> = (0..4000).map(|_| edge_v128(&mut rng)).collect();
        let f32_lanes = |v: u128| (0..4).map(move |i| (v >> (32 * i)) as u32);
        let f64_lanes = |v: u128| (0..2).map(move |i| (v >> (64 * i)) as u64);
        let any32 = |p: &dyn Fn(u32) -> bool| vals.iter().any(|&v| f32_lanes(v).any(p));
        let any64 = |p: &dyn Fn(u64) -> bool| vals.iter().any(|&v| f64_lanes(v).any(p));
        // NaNs with payloads (not just the canonical one), infinities, negative zero.
        assert!(any32(&|x| f32::from_bits(x).is_nan() && x & 0x3f_ffff != 0));
        assert!(any64(
            &|x| f64::from_bits(x).is_nan() && x & 0x7_ffff_ffff_ffff != 0
        ));
        assert!(any32(&|x| x == 0xff80_0000) && any64(&|x| x == 0x8000_0000_0000_0000));
        // Lane minimum and maximum of every integer shape.
        for bits in [8u32, 16, 32, 64] {
            let lanes = |v: u128| (0..128 / bits).map(move |i| (v >> (bits * i)) as u64);
            let mask = if bits == 64 {
                u64::MAX
            } else {
                (1 << bits) - 1
            };
            let min = 1u64 << (bits - 1);
            for want in [min, min - 1, mask] {
                assert!(
                    vals.iter().any(|&v| lanes(v).all(|l| l & mask == want)),
                    "an i{bits} splat of {want:#x}"
                );
            }
        }
        assert!(vals.contains(&0) && vals.contains(&u128::MAX));
        let distinct: std::collections::HashSet<_> = vals.iter().collect();
        assert!(distinct.len() > 2000, "{}", distinct.len());
    }
}
