//! Unit tests of the SIMD rules, family by family, on their edge cases.

use super::lanes::{f32x4, f64x2, i8x16, i16x8, i32x4, i64x2, u8x16, u16x8, u32x4, u64x2};
use super::{binary, extract_lane, memory, replace_lane, shift, shuffle, ternary, unary};
use crate::TrapKind;
use crate::exec::numeric::{float32, float64};
use crate::instr::{
    MemArg, SimdBinary, SimdExtractLane, SimdLoad, SimdMemLaneOp, SimdReplaceLane, SimdShift,
    SimdTernary, SimdUnary,
};
use crate::value::Slot;

/// A SIMD family's rule applied to operands given bottom first.
trait Rule: std::fmt::Debug + Copy {
    fn apply(self, args: &[Slot]) -> Slot;
}

impl Rule for SimdUnary {
    fn apply(self, args: &[Slot]) -> Slot {
        let [a] = args else {
            panic!("{self:?} takes one operand")
        };
        unary(self, *a)
    }
}

impl Rule for SimdBinary {
    fn apply(self, args: &[Slot]) -> Slot {
        let [a, b] = args else {
            panic!("{self:?} takes two operands")
        };
        binary(self, *a, *b)
    }
}

impl Rule for SimdTernary {
    fn apply(self, args: &[Slot]) -> Slot {
        let [a, b, c] = args else {
            panic!("{self:?} takes three operands")
        };
        ternary(self, *a, *b, *c)
    }
}

impl Rule for SimdShift {
    fn apply(self, args: &[Slot]) -> Slot {
        let [a, n] = args else {
            panic!("{self:?} takes two operands")
        };
        shift(self, *a, *n as u32)
    }
}

/// Run `op` on operands given bottom first; return its result.
fn run(op: impl Rule, args: &[Slot]) -> Slot {
    op.apply(args)
}

const F32_NAN: u32 = float32::CANONICAL_NAN;
const F64_NAN: u64 = float64::CANONICAL_NAN;

// ---- Lanes.

#[test]
fn lanes_round_trip_little_endian() {
    let v = u128::from_le_bytes(std::array::from_fn(|i| i as u8));
    assert_eq!(u8x16::lanes(v)[0], 0);
    assert_eq!(u8x16::lanes(v)[15], 15);
    assert_eq!(u16x8::lanes(v)[1], 0x0302);
    assert_eq!(u32x4::lanes(v)[3], 0x0f0e_0d0c);
    assert_eq!(i8x16::from_lanes(i8x16::lanes(v)), v);
    assert_eq!(i64x2::from_lanes(i64x2::lanes(v)), v);
    assert_eq!(i16x8::lanes(i16x8::splat(-1)), [-1; 8]);
    assert_eq!(i16x8::splat(-1), u128::MAX);
}

#[test]
fn extract_replace_and_splat() {
    let v = i8x16::from_lanes(std::array::from_fn(|i| -(i as i8)));
    assert_eq!(
        extract_lane(SimdExtractLane::I8x16ExtractLaneS, 3, v),
        (-3i32) as u32 as Slot
    );
    assert_eq!(extract_lane(SimdExtractLane::I8x16ExtractLaneU, 3, v), 253);
    assert_eq!(
        replace_lane(
            SimdReplaceLane::I64x2ReplaceLane,
            1,
            0,
            0xffff_ffff_1234_5678
        ),
        0xffff_ffff_1234_5678 << 64
    );
    assert_eq!(
        run(SimdUnary::I16x8Splat, &[0x1_8001]),
        i16x8::splat(-32767)
    );
    assert_eq!(
        run(SimdUnary::F64x2Splat, &[F64_NAN as Slot]),
        f64x2::splat(F64_NAN)
    );
}

#[test]
fn shuffle_and_swizzle() {
    let a = u8x16::from_lanes(std::array::from_fn(|i| i as u8));
    let b = u8x16::from_lanes(std::array::from_fn(|i| 100 + i as u8));
    let idx = u8x16::from_lanes([31, 0, 16, 15, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 17]);
    let r = u8x16::lanes(shuffle(idx, a, b));
    assert_eq!(&r[..4], &[115, 0, 100, 15]);
    assert_eq!(r[15], 101);
    // Swizzle: an index of 16 or more selects zero.
    let idx = u8x16::from_lanes([0, 15, 16, 255, 128, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 17]);
    let r = u8x16::lanes(run(SimdBinary::I8x16Swizzle, &[b, idx]));
    assert_eq!(&r[..6], &[100, 115, 0, 0, 0, 101]);
    assert_eq!(r[15], 0);
}

// ---- Integer.

#[test]
fn saturating_arithmetic() {
    let r = run(
        SimdBinary::I8x16AddSatS,
        &[i8x16::splat(100), i8x16::splat(100)],
    );
    assert_eq!(r, i8x16::splat(127));
    let r = run(
        SimdBinary::I8x16SubSatS,
        &[i8x16::splat(-100), i8x16::splat(100)],
    );
    assert_eq!(r, i8x16::splat(-128));
    let r = run(
        SimdBinary::I8x16SubSatU,
        &[u8x16::splat(1), u8x16::splat(2)],
    );
    assert_eq!(r, 0);
    let r = run(
        SimdBinary::I16x8AddSatU,
        &[u16x8::splat(65000), u16x8::splat(1000)],
    );
    assert_eq!(r, u16x8::splat(65535));
    // Wrapping add for comparison.
    let r = run(
        SimdBinary::I8x16Add,
        &[i8x16::splat(100), i8x16::splat(100)],
    );
    assert_eq!(r, i8x16::splat(-56));
}

#[test]
fn avgr_min_max_abs_neg_popcnt() {
    let r = run(
        SimdBinary::I8x16AvgrU,
        &[u8x16::splat(255), u8x16::splat(254)],
    );
    assert_eq!(r, u8x16::splat(255));
    let r = run(SimdBinary::I16x8AvgrU, &[u16x8::splat(0), u16x8::splat(1)]);
    assert_eq!(r, u16x8::splat(1));
    let r = run(SimdBinary::I8x16MinS, &[i8x16::splat(-1), i8x16::splat(1)]);
    assert_eq!(r, i8x16::splat(-1));
    let r = run(SimdBinary::I8x16MinU, &[i8x16::splat(-1), i8x16::splat(1)]);
    assert_eq!(r, i8x16::splat(1));
    assert_eq!(
        run(SimdUnary::I8x16Abs, &[i8x16::splat(-128)]),
        i8x16::splat(-128)
    );
    assert_eq!(
        run(SimdUnary::I64x2Neg, &[i64x2::splat(i64::MIN)]),
        i64x2::splat(i64::MIN)
    );
    assert_eq!(run(SimdUnary::I8x16Popcnt, &[u128::MAX]), u8x16::splat(8));
}

#[test]
fn shifts_take_the_count_modulo_the_lane_width() {
    let v = i8x16::splat(-128);
    assert_eq!(run(SimdShift::I8x16ShrS, &[v, 9]), i8x16::splat(-64));
    assert_eq!(run(SimdShift::I8x16ShrU, &[v, 9]), u8x16::splat(64));
    assert_eq!(
        run(SimdShift::I8x16Shl, &[u8x16::splat(1), 8]),
        u8x16::splat(1)
    );
    assert_eq!(
        run(SimdShift::I64x2Shl, &[i64x2::splat(1), 65]),
        i64x2::splat(2)
    );
    // The count is an i32: only its low 32 bits matter.
    assert_eq!(
        run(SimdShift::I32x4ShrS, &[i32x4::splat(-8), 0xffff_ffff]),
        i32x4::splat(-1)
    );
}

#[test]
fn multiplication_family() {
    // q15mulr: -1.0 * -1.0 overflows and saturates.
    let r = run(
        SimdBinary::I16x8Q15MulrSatS,
        &[i16x8::splat(i16::MIN), i16x8::splat(i16::MIN)],
    );
    assert_eq!(r, i16x8::splat(i16::MAX));
    let r = run(
        SimdBinary::I16x8Q15MulrSatS,
        &[i16x8::splat(0x4000), i16x8::splat(1)],
    );
    assert_eq!(r, i16x8::splat(1)); // 0.5 ulp rounds up
    // dot: the one overflowing case wraps.
    let r = run(
        SimdBinary::I32x4DotI16x8S,
        &[i16x8::splat(i16::MIN), i16x8::splat(i16::MIN)],
    );
    assert_eq!(r, i32x4::splat(i32::MIN));
    let a = i16x8::from_lanes([1, 2, 3, 4, 5, 6, 7, 8]);
    let r = run(SimdBinary::I32x4DotI16x8S, &[a, i16x8::splat(-1)]);
    assert_eq!(i32x4::lanes(r), [-3, -7, -11, -15]);
    // extmul.
    let r = run(
        SimdBinary::I64x2ExtMulHighI32x4U,
        &[u32x4::splat(u32::MAX), u32x4::splat(u32::MAX)],
    );
    assert_eq!(r, u64x2::splat(0xffff_fffe_0000_0001));
    let r = run(
        SimdBinary::I16x8ExtMulLowI8x16S,
        &[i8x16::splat(-128), i8x16::splat(127)],
    );
    assert_eq!(r, i16x8::splat(-16256));
    // extadd_pairwise.
    let r = run(SimdUnary::I16x8ExtAddPairwiseI8x16U, &[u8x16::splat(255)]);
    assert_eq!(r, u16x8::splat(510));
    let r = run(
        SimdUnary::I32x4ExtAddPairwiseI16x8S,
        &[i16x8::splat(i16::MIN)],
    );
    assert_eq!(r, i32x4::splat(-65536));
}

#[test]
fn narrow_saturates_and_extend_widens() {
    let a = i16x8::from_lanes([-129, -128, 127, 128, 0, 255, 256, -1]);
    let r = run(SimdBinary::I8x16NarrowI16x8S, &[a, i16x8::splat(300)]);
    assert_eq!(
        i8x16::lanes(r),
        [
            -128, -128, 127, 127, 0, 127, 127, -1, 127, 127, 127, 127, 127, 127, 127, 127
        ]
    );
    let r = run(SimdBinary::I8x16NarrowI16x8U, &[a, i16x8::splat(-300)]);
    assert_eq!(
        u8x16::lanes(r),
        [0, 0, 127, 128, 0, 255, 255, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    );
    let r = run(
        SimdBinary::I16x8NarrowI32x4U,
        &[i32x4::from_lanes([70000, -5, 65535, 1]), 0],
    );
    assert_eq!(u16x8::lanes(r), [65535, 0, 65535, 1, 0, 0, 0, 0]);
    let v = i8x16::from_lanes(std::array::from_fn(|i| if i < 8 { 1 } else { -1 }));
    assert_eq!(
        run(SimdUnary::I16x8ExtendHighI8x16S, &[v]),
        i16x8::splat(-1)
    );
    assert_eq!(
        run(SimdUnary::I16x8ExtendHighI8x16U, &[v]),
        u16x8::splat(255)
    );
    assert_eq!(run(SimdUnary::I16x8ExtendLowI8x16S, &[v]), i16x8::splat(1));
}

#[test]
fn comparisons_bitmask_and_tests() {
    let a = i64x2::from_lanes([-1, 5]);
    let b = i64x2::from_lanes([0, 5]);
    assert_eq!(
        run(SimdBinary::I64x2LtS, &[a, b]),
        i64x2::from_lanes([-1, 0])
    );
    assert_eq!(
        run(SimdBinary::I64x2GeS, &[a, b]),
        i64x2::from_lanes([0, -1])
    );
    assert_eq!(run(SimdBinary::I8x16LtU, &[a, b]), 0);
    assert_eq!(run(SimdUnary::I8x16Bitmask, &[a]), 0x00ff);
    assert_eq!(run(SimdUnary::I64x2Bitmask, &[a]), 1);
    assert_eq!(run(SimdUnary::I32x4AllTrue, &[a]), 0);
    assert_eq!(run(SimdUnary::I16x8AllTrue, &[i16x8::splat(256)]), 1);
    assert_eq!(run(SimdUnary::I8x16AllTrue, &[i16x8::splat(256)]), 0);
    assert_eq!(run(SimdUnary::V128AnyTrue, &[1 << 127]), 1);
    assert_eq!(run(SimdUnary::V128AnyTrue, &[0]), 0);
}

#[test]
fn bitwise() {
    let (a, b, c) = (0xff00_u128, 0x0ff0_u128, 0xf0f0_u128);
    assert_eq!(run(SimdBinary::V128And, &[a, b]), 0x0f00);
    assert_eq!(run(SimdBinary::V128AndNot, &[a, b]), 0xf000);
    assert_eq!(run(SimdBinary::V128Or, &[a, b]), 0xfff0);
    assert_eq!(run(SimdBinary::V128Xor, &[a, b]), 0xf0f0);
    assert_eq!(run(SimdUnary::V128Not, &[a]), !a);
    // bitselect: bits of the first where the mask is set, of the second elsewhere.
    assert_eq!(
        run(SimdTernary::V128Bitselect, &[a, b, c]),
        0xf0f0 & a | !c & b
    );
}

// ---- Float.

#[test]
fn float_arithmetic_nan_lanes() {
    let one = 1.0f32.to_bits();
    let a = f32x4::from_lanes([one, F32_NAN | 1, float32::SIGN | F32_NAN, 0x7f80_0001]);
    let r = f32x4::lanes(run(SimdBinary::F32x4Add, &[a, f32x4::splat(one)]));
    assert_eq!(r[0], 2.0f32.to_bits());
    assert_eq!(r[1], F32_NAN | 1); // payload kept
    assert_eq!(r[2], float32::SIGN | F32_NAN); // sign kept
    assert_eq!(r[3], 0x7fc0_0001); // signalling NaN quieted
    // inf - inf is the canonical NaN.
    let inf = f64::INFINITY.to_bits();
    let r = run(
        SimdBinary::F64x2Sub,
        &[f64x2::splat(inf), f64x2::splat(inf)],
    );
    assert_eq!(r, f64x2::splat(F64_NAN));
    let r = f64x2::lanes(run(
        SimdUnary::F64x2Sqrt,
        &[f64x2::from_lanes([(-1.0f64).to_bits(), 4.0f64.to_bits()])],
    ));
    assert_eq!(r, [F64_NAN, 2.0f64.to_bits()]);
}

#[test]
fn float_min_max_zero_signs_and_pmin_pmax() {
    let (pz, nz) = (0.0f32.to_bits(), (-0.0f32).to_bits());
    let a = f32x4::from_lanes([pz, nz, F32_NAN, one()]);
    let b = f32x4::from_lanes([nz, pz, one(), F32_NAN]);
    assert_eq!(
        f32x4::lanes(run(SimdBinary::F32x4Min, &[a, b])),
        [nz, nz, F32_NAN, F32_NAN]
    );
    assert_eq!(
        f32x4::lanes(run(SimdBinary::F32x4Max, &[a, b])),
        [pz, pz, F32_NAN, F32_NAN]
    );
    // pmin(a, b) = b < a ? b : a: zeros and NaNs give the first operand.
    assert_eq!(
        f32x4::lanes(run(SimdBinary::F32x4PMin, &[a, b])),
        [pz, nz, F32_NAN, one()]
    );
    assert_eq!(
        f32x4::lanes(run(SimdBinary::F32x4PMax, &[a, b])),
        [pz, nz, F32_NAN, one()]
    );
    let (x, y) = (
        f64x2::from_lanes([1.0f64.to_bits(), 3.0f64.to_bits()]),
        f64x2::splat(2.0f64.to_bits()),
    );
    assert_eq!(
        f64x2::lanes(run(SimdBinary::F64x2PMin, &[x, y])),
        [1.0f64.to_bits(), 2.0f64.to_bits()]
    );
    assert_eq!(
        f64x2::lanes(run(SimdBinary::F64x2PMax, &[x, y])),
        [2.0f64.to_bits(), 3.0f64.to_bits()]
    );
}

fn one() -> u32 {
    1.0f32.to_bits()
}

#[test]
fn float_rounding_and_sign_ops() {
    let v = f32x4::from_lanes([
        (-0.5f32).to_bits(),
        2.5f32.to_bits(),
        (-1.5f32).to_bits(),
        F32_NAN,
    ]);
    let r = f32x4::lanes(run(SimdUnary::F32x4Nearest, &[v]));
    assert_eq!(
        r,
        [
            (-0.0f32).to_bits(),
            2.0f32.to_bits(),
            (-2.0f32).to_bits(),
            F32_NAN
        ]
    );
    let r = f32x4::lanes(run(SimdUnary::F32x4Ceil, &[v]));
    assert_eq!(r[0], (-0.0f32).to_bits());
    let r = f32x4::lanes(run(SimdUnary::F32x4Neg, &[v]));
    assert_eq!(r[3], F32_NAN | float32::SIGN);
    let r = f32x4::lanes(run(
        SimdUnary::F32x4Abs,
        &[f32x4::splat(F32_NAN | float32::SIGN)],
    ));
    assert_eq!(r, [F32_NAN; 4]);
}

#[test]
fn float_comparisons() {
    let a = f32x4::from_lanes([one(), F32_NAN, 0.0f32.to_bits(), one()]);
    let b = f32x4::from_lanes([one(), F32_NAN, (-0.0f32).to_bits(), 0]);
    assert_eq!(
        u32x4::lanes(run(SimdBinary::F32x4Eq, &[a, b])),
        [!0, 0, !0, 0]
    );
    assert_eq!(
        u32x4::lanes(run(SimdBinary::F32x4Ne, &[a, b])),
        [0, !0, 0, !0]
    );
    assert_eq!(
        u32x4::lanes(run(SimdBinary::F32x4Gt, &[a, b])),
        [0, 0, 0, !0]
    );
}

#[test]
fn conversions() {
    let v = f32x4::from_lanes([
        F32_NAN,
        3e9f32.to_bits(),
        (-3e9f32).to_bits(),
        (-0.9f32).to_bits(),
    ]);
    assert_eq!(
        i32x4::lanes(run(SimdUnary::I32x4TruncSatF32x4S, &[v])),
        [0, i32::MAX, i32::MIN, 0]
    );
    assert_eq!(
        u32x4::lanes(run(SimdUnary::I32x4TruncSatF32x4U, &[v])),
        [0, 3_000_000_000, 0, 0]
    );
    let v = f64x2::from_lanes([(-1e20f64).to_bits(), 4294967295.5f64.to_bits()]);
    assert_eq!(
        i32x4::lanes(run(SimdUnary::I32x4TruncSatF64x2SZero, &[v])),
        [i32::MIN, i32::MAX, 0, 0]
    );
    assert_eq!(
        u32x4::lanes(run(SimdUnary::I32x4TruncSatF64x2UZero, &[v])),
        [0, u32::MAX, 0, 0]
    );
    let i = i32x4::from_lanes([-1, 16_777_217, 7, 8]);
    assert_eq!(
        f32x4::lanes(run(SimdUnary::F32x4ConvertI32x4S, &[i])),
        [
            (-1.0f32).to_bits(),
            16_777_216f32.to_bits(),
            7.0f32.to_bits(),
            8.0f32.to_bits()
        ]
    );
    assert_eq!(
        f32x4::lanes(run(SimdUnary::F32x4ConvertI32x4U, &[i]))[0],
        4294967296f32.to_bits()
    );
    assert_eq!(
        f64x2::lanes(run(SimdUnary::F64x2ConvertLowI32x4U, &[i])),
        [4294967295f64.to_bits(), 16_777_217f64.to_bits()]
    );
    assert_eq!(
        f64x2::lanes(run(SimdUnary::F64x2ConvertLowI32x4S, &[i]))[0],
        (-1.0f64).to_bits()
    );
    let d = f64x2::from_lanes([1e300f64.to_bits(), F64_NAN]);
    assert_eq!(
        f32x4::lanes(run(SimdUnary::F32x4DemoteF64x2Zero, &[d])),
        [f32::INFINITY.to_bits(), F32_NAN, 0, 0]
    );
    let p = f32x4::from_lanes([(-0.0f32).to_bits(), F32_NAN, one(), one()]);
    assert_eq!(
        f64x2::lanes(run(SimdUnary::F64x2PromoteLowF32x4, &[p])),
        [(-0.0f64).to_bits(), F64_NAN]
    );
}

// ---- Memory.

fn memarg(offset: u64) -> MemArg {
    MemArg::new(offset, 0)
}

#[test]
fn loads_extend_splat_and_zero() {
    let mem: Vec<u8> = (0..32).map(|i| (i * 17) as u8).collect();
    let load = |op, addr: u64| memory::load_vector(op, &mem, addr, 1);
    let r = load(SimdLoad::V128Load8x8S, 0).unwrap();
    assert_eq!(i16x8::lanes(r)[..3], [17, 34, 51]);
    assert_eq!(i16x8::lanes(r)[7], i16::from(136u8 as i8));
    assert_eq!(
        u16x8::lanes(load(SimdLoad::V128Load8x8U, 0).unwrap())[7],
        136
    );
    assert_eq!(
        load(SimdLoad::V128Load16Splat, 0).unwrap(),
        u16x8::splat(0x2211)
    );
    assert_eq!(load(SimdLoad::V128Load32Zero, 0).unwrap(), 0x4433_2211);
    assert_eq!(
        load(SimdLoad::V128Load, 15).unwrap() >> 120,
        u128::from((31 * 17) as u8)
    );
    // The full width is checked: 16 bytes at 1 + 16 pass the end.
    assert_eq!(
        load(SimdLoad::V128Load, 16),
        Err(TrapKind::OutOfBoundsMemoryAccess)
    );
    assert_eq!(
        load(SimdLoad::V128Load64Splat, 24),
        Err(TrapKind::OutOfBoundsMemoryAccess)
    );
    assert!(load(SimdLoad::V128Load64Splat, 23).is_ok());
}

#[test]
fn stores_and_lanes() {
    let mut mem = vec![0u8; 16];
    let v = u8x16::from_lanes(std::array::from_fn(|i| i as u8 + 1));
    let r = memory::exec_lane(
        SimdMemLaneOp::V128Store16Lane,
        7,
        memarg(14),
        &mut mem,
        0,
        v,
    );
    assert_eq!(r, Ok(None));
    assert_eq!(&mem[14..], &[15, 16]);
    let e = memory::exec_lane(
        SimdMemLaneOp::V128Store16Lane,
        0,
        memarg(14),
        &mut mem,
        1,
        v,
    );
    assert_eq!(e, Err(TrapKind::OutOfBoundsMemoryAccess));
    let r = memory::exec_lane(SimdMemLaneOp::V128Load16Lane, 1, memarg(0), &mut mem, 14, 0);
    assert_eq!(r, Ok(Some(0x100f << 16)));
    crate::exec::memory::store(&mut mem, 0, 0, v.to_le_bytes()).unwrap();
    assert_eq!(mem[0], 1);
    assert_eq!(mem[15], 16);
}

#[test]
fn simd_instructions_keep_instr_small() {
    // 16-byte immediates live in `FuncCode::v128s`, so SIMD does not widen every instruction.
    assert!(std::mem::size_of::<crate::instr::Instr>() <= 16);
}
