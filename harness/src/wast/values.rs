//! Script values: converting `.wast` arguments to [`Val`]s, and matching results against the
//! script's expected patterns (exact values, NaN patterns, v128 lanes, references, `either`).
//!
//! Reference patterns follow the spec interpreter's meaning: `ref.null T` matches the null of
//! `T`'s hierarchy (a bare `ref.null` matches any null); `ref.func`, `ref.extern`, `ref.any`,
//! `ref.eq`, `ref.struct`, `ref.array` and `ref.i31` match any non-null reference of that type
//! (`ref.extern` includes externalized internal references, `ref.any` includes host values,
//! `ref.eq` excludes them); `ref.extern n` and `ref.host n` match exactly that host value.

use std::fmt;

use wast::core::{AbstractHeapType, HeapType, NanPattern, V128Pattern, WastArgCore, WastRetCore};
use wast::{WastArg, WastRet};

use crate::engine::{AnyRef, Val, space_separated};

/// A float expectation: an exact bit pattern or one of the spec's NaN classes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FloatPat<T> {
    /// Exact bits (a NaN literal is compared bit for bit, payload included).
    Bits(T),
    /// `nan:canonical`: sign any, exponent all ones, only the quiet bit of the payload set.
    Canonical,
    /// `nan:arithmetic`: sign any, exponent all ones, quiet bit set, rest of payload any.
    Arithmetic,
}

/// A per-lane v128 expectation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum V128Pat {
    I8x16([u8; 16]),
    I16x8([u16; 8]),
    I32x4([u32; 4]),
    I64x2([u64; 2]),
    F32x4([FloatPat<u32>; 4]),
    F64x2([FloatPat<u64>; 2]),
}

/// Which null reference is expected: the hierarchy of the pattern's heap type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NullKind {
    /// `ref.null` with no type, or with a type index (whose hierarchy the harness does not
    /// track): any null matches.
    Unspecified,
    /// `ref.null any`, `eq`, `i31`, `struct`, `array` or `none`.
    Any,
    /// `ref.null func` (or `nofunc`).
    Func,
    /// `ref.null extern` (or `noextern`).
    Extern,
    /// `ref.null exn` (or `noexn`).
    Exn,
}

/// A non-null reference pattern that names a type, not a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefKind {
    /// `ref.func`: any non-null function reference (the index, if given, is not checked: it is
    /// not observable).
    Func,
    /// `ref.any`: any non-null reference of the `any` hierarchy, host values included.
    Any,
    /// `ref.eq`: an i31, a struct or an array.
    Eq,
    Struct,
    Array,
    I31,
}

/// One expected result of an `assert_return`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expected {
    I32(u32),
    I64(u64),
    F32(FloatPat<u32>),
    F64(FloatPat<u64>),
    V128(V128Pat),
    RefNull(NullKind),
    /// A non-null reference of a type (see [`RefKind`]).
    Ref(RefKind),
    /// `ref.extern N` (`Some(N)`) or any non-null externref (`None`).
    RefExtern(Option<u32>),
    /// `ref.host N`: the host value `N` inside the `any` hierarchy.
    RefHost(u32),
    /// Any of the alternatives.
    Either(Vec<Expected>),
    /// A pattern lockstep does not know (shared references).
    Unsupported(String),
}

const F32_EXP: u32 = 0x7f80_0000;
const F32_QUIET: u32 = 0x0040_0000;
const F64_EXP: u64 = 0x7ff0_0000_0000_0000;
const F64_QUIET: u64 = 0x0008_0000_0000_0000;

/// Is `bits` the canonical f32 NaN (either sign)?
pub fn is_canonical_nan_f32(bits: u32) -> bool {
    bits & 0x7fff_ffff == F32_EXP | F32_QUIET
}
/// Is `bits` an arithmetic f32 NaN (either sign, quiet bit set)?
pub fn is_arithmetic_nan_f32(bits: u32) -> bool {
    bits & (F32_EXP | F32_QUIET) == F32_EXP | F32_QUIET
}
/// Is `bits` the canonical f64 NaN (either sign)?
pub fn is_canonical_nan_f64(bits: u64) -> bool {
    bits & 0x7fff_ffff_ffff_ffff == F64_EXP | F64_QUIET
}
/// Is `bits` an arithmetic f64 NaN (either sign, quiet bit set)?
pub fn is_arithmetic_nan_f64(bits: u64) -> bool {
    bits & (F64_EXP | F64_QUIET) == F64_EXP | F64_QUIET
}

impl FloatPat<u32> {
    pub fn matches(&self, bits: u32) -> bool {
        match *self {
            FloatPat::Bits(b) => b == bits,
            FloatPat::Canonical => is_canonical_nan_f32(bits),
            FloatPat::Arithmetic => is_arithmetic_nan_f32(bits),
        }
    }
}

impl FloatPat<u64> {
    pub fn matches(&self, bits: u64) -> bool {
        match *self {
            FloatPat::Bits(b) => b == bits,
            FloatPat::Canonical => is_canonical_nan_f64(bits),
            FloatPat::Arithmetic => is_arithmetic_nan_f64(bits),
        }
    }
}

fn lanes<const N: usize, const W: usize>(v: u128) -> [u128; N] {
    let mask = if W == 128 {
        u128::MAX
    } else {
        (1u128 << W) - 1
    };
    std::array::from_fn(|i| (v >> (i * W)) & mask)
}

impl V128Pat {
    pub fn matches(&self, v: u128) -> bool {
        match self {
            V128Pat::I8x16(l) => lanes::<16, 8>(v)
                .iter()
                .zip(l)
                .all(|(a, b)| *a == *b as u128),
            V128Pat::I16x8(l) => lanes::<8, 16>(v)
                .iter()
                .zip(l)
                .all(|(a, b)| *a == *b as u128),
            V128Pat::I32x4(l) => lanes::<4, 32>(v)
                .iter()
                .zip(l)
                .all(|(a, b)| *a == *b as u128),
            V128Pat::I64x2(l) => lanes::<2, 64>(v)
                .iter()
                .zip(l)
                .all(|(a, b)| *a == *b as u128),
            V128Pat::F32x4(l) => lanes::<4, 32>(v)
                .iter()
                .zip(l)
                .all(|(a, p)| p.matches(*a as u32)),
            V128Pat::F64x2(l) => lanes::<2, 64>(v)
                .iter()
                .zip(l)
                .all(|(a, p)| p.matches(*a as u64)),
        }
    }
}

impl Expected {
    /// Does `actual` satisfy this expectation?
    pub fn matches(&self, actual: &Val) -> bool {
        match (self, actual) {
            (Expected::I32(e), Val::I32(a)) => e == a,
            (Expected::I64(e), Val::I64(a)) => e == a,
            (Expected::F32(p), Val::F32(a)) => p.matches(*a),
            (Expected::F64(p), Val::F64(a)) => p.matches(*a),
            (Expected::V128(p), Val::V128(a)) => p.matches(*a),
            (Expected::RefNull(k), a) => matches!(
                (k, a),
                (
                    NullKind::Unspecified,
                    Val::FuncRef(None)
                        | Val::ExternRef(None)
                        | Val::AnyRef(None)
                        | Val::ExnRef(None)
                ) | (NullKind::Any, Val::AnyRef(None))
                    | (NullKind::Func, Val::FuncRef(None))
                    | (NullKind::Extern, Val::ExternRef(None))
                    | (NullKind::Exn, Val::ExnRef(None))
            ),
            (Expected::Ref(k), a) => matches!(
                (k, a),
                (RefKind::Func, Val::FuncRef(Some(_)))
                    | (RefKind::Any, Val::AnyRef(Some(_)))
                    | (
                        RefKind::Eq,
                        Val::AnyRef(Some(AnyRef::I31(_) | AnyRef::Struct(_) | AnyRef::Array(_)))
                    )
                    | (RefKind::Struct, Val::AnyRef(Some(AnyRef::Struct(_))))
                    | (RefKind::Array, Val::AnyRef(Some(AnyRef::Array(_))))
                    | (RefKind::I31, Val::AnyRef(Some(AnyRef::I31(_))))
            ),
            (Expected::RefExtern(None), Val::ExternRef(Some(_)) | Val::Externalized(_)) => true,
            (Expected::RefExtern(Some(n)), Val::ExternRef(Some(a))) => n == a,
            (Expected::RefHost(n), Val::AnyRef(Some(AnyRef::Host(a)))) => n == a,
            (Expected::Either(alts), a) => alts.iter().any(|e| e.matches(a)),
            _ => false,
        }
    }
}

impl<T: fmt::LowerHex + Copy> fmt::Display for FloatPat<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FloatPat::Bits(b) => write!(f, "0x{b:x}"),
            FloatPat::Canonical => f.write_str("nan:canonical"),
            FloatPat::Arithmetic => f.write_str("nan:arithmetic"),
        }
    }
}

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expected::I32(v) => write!(f, "i32:{}", *v as i32),
            Expected::I64(v) => write!(f, "i64:{}", *v as i64),
            Expected::F32(FloatPat::Bits(b)) => write!(f, "{}", Val::F32(*b)),
            Expected::F64(FloatPat::Bits(b)) => write!(f, "{}", Val::F64(*b)),
            Expected::F32(p) => write!(f, "f32:{p}"),
            Expected::F64(p) => write!(f, "f64:{p}"),
            Expected::V128(p) => match p {
                V128Pat::I8x16(l) => write!(f, "v128:i8x16[{}]", space_separated(l)),
                V128Pat::I16x8(l) => write!(f, "v128:i16x8[{}]", space_separated(l)),
                V128Pat::I32x4(l) => write!(f, "v128:i32x4[{}]", space_separated(l)),
                V128Pat::I64x2(l) => write!(f, "v128:i64x2[{}]", space_separated(l)),
                V128Pat::F32x4(l) => write!(f, "v128:f32x4[{}]", space_separated(l)),
                V128Pat::F64x2(l) => write!(f, "v128:f64x2[{}]", space_separated(l)),
            },
            Expected::RefNull(NullKind::Unspecified) => f.write_str("ref.null"),
            Expected::RefNull(NullKind::Any) => f.write_str("ref.null any"),
            Expected::RefNull(NullKind::Func) => f.write_str("ref.null func"),
            Expected::RefNull(NullKind::Extern) => f.write_str("ref.null extern"),
            Expected::RefNull(NullKind::Exn) => f.write_str("ref.null exn"),
            Expected::Ref(k) => f.write_str(match k {
                RefKind::Func => "ref.func",
                RefKind::Any => "ref.any",
                RefKind::Eq => "ref.eq",
                RefKind::Struct => "ref.struct",
                RefKind::Array => "ref.array",
                RefKind::I31 => "ref.i31",
            }),
            Expected::RefExtern(None) => f.write_str("ref.extern"),
            Expected::RefExtern(Some(n)) => write!(f, "ref.extern {n}"),
            Expected::RefHost(n) => write!(f, "ref.host {n}"),
            Expected::Either(alts) => write!(f, "(either {})", space_separated(alts)),
            Expected::Unsupported(s) => write!(f, "<unsupported {s}>"),
        }
    }
}

fn float_pat32(p: &NanPattern<wast::token::F32>) -> FloatPat<u32> {
    match p {
        NanPattern::CanonicalNan => FloatPat::Canonical,
        NanPattern::ArithmeticNan => FloatPat::Arithmetic,
        NanPattern::Value(v) => FloatPat::Bits(v.bits),
    }
}

fn float_pat64(p: &NanPattern<wast::token::F64>) -> FloatPat<u64> {
    match p {
        NanPattern::CanonicalNan => FloatPat::Canonical,
        NanPattern::ArithmeticNan => FloatPat::Arithmetic,
        NanPattern::Value(v) => FloatPat::Bits(v.bits),
    }
}

fn null_kind(heap: &HeapType<'_>) -> Result<NullKind, String> {
    match heap {
        HeapType::Abstract { shared: false, ty } => match ty {
            AbstractHeapType::Func | AbstractHeapType::NoFunc => Ok(NullKind::Func),
            AbstractHeapType::Extern | AbstractHeapType::NoExtern => Ok(NullKind::Extern),
            AbstractHeapType::Any
            | AbstractHeapType::Eq
            | AbstractHeapType::Struct
            | AbstractHeapType::Array
            | AbstractHeapType::I31
            | AbstractHeapType::None => Ok(NullKind::Any),
            AbstractHeapType::Exn | AbstractHeapType::NoExn => Ok(NullKind::Exn),
            other => Err(format!("ref.null {other:?}")),
        },
        HeapType::Concrete(_) | HeapType::Exact(_) => Ok(NullKind::Unspecified),
        other => Err(format!("ref.null {other:?}")),
    }
}

/// Convert one expected result of a script.
pub fn expected(ret: &WastRet<'_>) -> Expected {
    match ret {
        WastRet::Core(core) => expected_core(core),
        _ => Expected::Unsupported("component value".to_string()),
    }
}

fn expected_core(ret: &WastRetCore<'_>) -> Expected {
    match ret {
        WastRetCore::I32(v) => Expected::I32(*v as u32),
        WastRetCore::I64(v) => Expected::I64(*v as u64),
        WastRetCore::F32(p) => Expected::F32(float_pat32(p)),
        WastRetCore::F64(p) => Expected::F64(float_pat64(p)),
        WastRetCore::V128(p) => Expected::V128(match p {
            V128Pattern::I8x16(l) => V128Pat::I8x16(l.map(|x| x as u8)),
            V128Pattern::I16x8(l) => V128Pat::I16x8(l.map(|x| x as u16)),
            V128Pattern::I32x4(l) => V128Pat::I32x4(l.map(|x| x as u32)),
            V128Pattern::I64x2(l) => V128Pat::I64x2(l.map(|x| x as u64)),
            V128Pattern::F32x4(l) => V128Pat::F32x4(std::array::from_fn(|i| float_pat32(&l[i]))),
            V128Pattern::F64x2(l) => V128Pat::F64x2(std::array::from_fn(|i| float_pat64(&l[i]))),
        }),
        WastRetCore::RefNull(None) => Expected::RefNull(NullKind::Unspecified),
        WastRetCore::RefNull(Some(h)) => match null_kind(h) {
            Ok(k) => Expected::RefNull(k),
            Err(e) => Expected::Unsupported(e),
        },
        WastRetCore::RefFunc(_) => Expected::Ref(RefKind::Func),
        WastRetCore::RefExtern(n) => Expected::RefExtern(*n),
        WastRetCore::Either(alts) => Expected::Either(alts.iter().map(expected_core).collect()),
        WastRetCore::RefHost(n) => Expected::RefHost(*n),
        WastRetCore::RefAny => Expected::Ref(RefKind::Any),
        WastRetCore::RefEq => Expected::Ref(RefKind::Eq),
        WastRetCore::RefArray => Expected::Ref(RefKind::Array),
        WastRetCore::RefStruct => Expected::Ref(RefKind::Struct),
        WastRetCore::RefI31 => Expected::Ref(RefKind::I31),
        WastRetCore::RefI31Shared => Expected::Unsupported("ref.i31_shared".to_string()),
    }
}

/// Convert one argument of an `invoke`.
pub fn arg(arg: &WastArg<'_>) -> Result<Val, String> {
    match arg {
        WastArg::Core(core) => match core {
            WastArgCore::I32(v) => Ok(Val::I32(*v as u32)),
            WastArgCore::I64(v) => Ok(Val::I64(*v as u64)),
            WastArgCore::F32(v) => Ok(Val::F32(v.bits)),
            WastArgCore::F64(v) => Ok(Val::F64(v.bits)),
            WastArgCore::V128(v) => Ok(Val::V128(u128::from_le_bytes(v.to_le_bytes()))),
            WastArgCore::RefNull(h) => match null_kind(h)? {
                NullKind::Func => Ok(Val::FuncRef(None)),
                NullKind::Extern => Ok(Val::ExternRef(None)),
                NullKind::Any => Ok(Val::AnyRef(None)),
                NullKind::Exn => Ok(Val::ExnRef(None)),
                NullKind::Unspecified => {
                    Err("unsupported argument: ref.null of a type index".to_string())
                }
            },
            WastArgCore::RefExtern(n) => Ok(Val::ExternRef(Some(*n))),
            WastArgCore::RefHost(n) => Ok(Val::AnyRef(Some(AnyRef::Host(*n)))),
        },
        _ => Err("unsupported argument: component value".to_string()),
    }
}

/// Check a whole result list; `Err` describes the mismatch.
pub fn match_results(expected: &[Expected], actual: &[Val]) -> Result<(), String> {
    if let Some(Expected::Unsupported(what)) = expected
        .iter()
        .find(|e| matches!(e, Expected::Unsupported(_)))
    {
        return Err(format!("unsupported result pattern: {what}"));
    }
    let ok =
        expected.len() == actual.len() && expected.iter().zip(actual).all(|(e, a)| e.matches(a));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "expected [{}], got [{}]",
            space_separated(expected),
            space_separated(actual)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f32_nan_patterns() {
        let canon = 0x7fc0_0000;
        let neg_canon = 0xffc0_0000;
        let arith = 0x7fc0_0001;
        let signalling = 0x7fa0_0000;
        let inf = 0x7f80_0000;
        for b in [canon, neg_canon] {
            assert!(FloatPat::<u32>::Canonical.matches(b));
            assert!(FloatPat::<u32>::Arithmetic.matches(b));
        }
        assert!(!FloatPat::<u32>::Canonical.matches(arith));
        assert!(FloatPat::<u32>::Arithmetic.matches(arith));
        assert!(FloatPat::<u32>::Arithmetic.matches(0xffff_ffffu32));
        for b in [signalling, inf, 0u32, 1.0f32.to_bits()] {
            assert!(!FloatPat::<u32>::Canonical.matches(b), "{b:x}");
            assert!(!FloatPat::<u32>::Arithmetic.matches(b), "{b:x}");
        }
        // Exact NaN literals compare bits, payload included.
        assert!(FloatPat::Bits(0x7fa0_0000u32).matches(0x7fa0_0000));
        assert!(!FloatPat::Bits(0x7fa0_0000u32).matches(0x7fc0_0000));
        // -0 and +0 differ.
        assert!(!FloatPat::Bits(0u32).matches(0x8000_0000));
    }

    #[test]
    fn f64_nan_patterns() {
        let canon = 0x7ff8_0000_0000_0000u64;
        assert!(FloatPat::<u64>::Canonical.matches(canon));
        assert!(FloatPat::<u64>::Canonical.matches(canon | (1 << 63)));
        assert!(!FloatPat::<u64>::Canonical.matches(canon | 1));
        assert!(FloatPat::<u64>::Arithmetic.matches(canon | 1));
        assert!(!FloatPat::<u64>::Arithmetic.matches(0x7ff4_0000_0000_0000));
        assert!(!FloatPat::<u64>::Arithmetic.matches(f64::INFINITY.to_bits()));
        assert!(!FloatPat::<u64>::Canonical.matches(1.5f64.to_bits()));
    }

    #[test]
    fn v128_lanes_are_little_endian() {
        let v = 0x0f0e_0d0c_0b0a_0908_0706_0504_0302_0100u128;
        assert!(V128Pat::I8x16(std::array::from_fn(|i| i as u8)).matches(v));
        assert!(
            V128Pat::I16x8([
                0x0100, 0x0302, 0x0504, 0x0706, 0x0908, 0x0b0a, 0x0d0c, 0x0f0e
            ])
            .matches(v)
        );
        assert!(V128Pat::I32x4([0x0302_0100, 0x0706_0504, 0x0b0a_0908, 0x0f0e_0d0c]).matches(v));
        assert!(V128Pat::I64x2([0x0706_0504_0302_0100, 0x0f0e_0d0c_0b0a_0908]).matches(v));
        assert!(!V128Pat::I64x2([0x0f0e_0d0c_0b0a_0908, 0x0706_0504_0302_0100]).matches(v));
        let mut wrong = std::array::from_fn(|i| i as u8);
        wrong[15] = 0;
        assert!(!V128Pat::I8x16(wrong).matches(v));
    }

    #[test]
    fn v128_float_lanes_use_nan_patterns_per_lane() {
        let lane = |i: usize, b: u32| (b as u128) << (32 * i);
        let v =
            lane(0, 0x7fc0_0000) | lane(1, 0xffc0_0001) | lane(2, 1.0f32.to_bits()) | lane(3, 0);
        let pat = V128Pat::F32x4([
            FloatPat::Canonical,
            FloatPat::Arithmetic,
            FloatPat::Bits(1.0f32.to_bits()),
            FloatPat::Bits(0),
        ]);
        assert!(pat.matches(v));
        let pat_bad = V128Pat::F32x4([
            FloatPat::Canonical,
            FloatPat::Canonical,
            FloatPat::Bits(1.0f32.to_bits()),
            FloatPat::Bits(0),
        ]);
        assert!(!pat_bad.matches(v));
        let v64 = (0x7ff8_0000_0000_0000u128) | ((2.0f64.to_bits() as u128) << 64);
        assert!(
            V128Pat::F64x2([FloatPat::Arithmetic, FloatPat::Bits(2.0f64.to_bits())]).matches(v64)
        );
        assert!(
            !V128Pat::F64x2([FloatPat::Bits(2.0f64.to_bits()), FloatPat::Arithmetic]).matches(v64)
        );
    }

    #[test]
    fn references_and_either() {
        assert!(Expected::RefNull(NullKind::Func).matches(&Val::FuncRef(None)));
        assert!(!Expected::RefNull(NullKind::Func).matches(&Val::ExternRef(None)));
        assert!(Expected::RefNull(NullKind::Extern).matches(&Val::ExternRef(None)));
        assert!(Expected::RefNull(NullKind::Unspecified).matches(&Val::ExternRef(None)));
        assert!(!Expected::RefNull(NullKind::Unspecified).matches(&Val::ExternRef(Some(1))));
        assert!(!Expected::RefNull(NullKind::Any).matches(&Val::ExternRef(None)));
        assert!(Expected::RefExtern(Some(3)).matches(&Val::ExternRef(Some(3))));
        assert!(!Expected::RefExtern(Some(3)).matches(&Val::ExternRef(Some(4))));
        assert!(Expected::RefExtern(None).matches(&Val::ExternRef(Some(4))));
        assert!(!Expected::RefExtern(None).matches(&Val::ExternRef(None)));
        let func = Expected::Ref(RefKind::Func);
        assert!(func.matches(&Val::FuncRef(Some(crate::engine::FuncRefId(9)))));
        assert!(!func.matches(&Val::FuncRef(None)));
        let either = Expected::Either(vec![Expected::I32(1), Expected::I32(2)]);
        assert!(either.matches(&Val::I32(2)));
        assert!(!either.matches(&Val::I32(3)));
        assert!(!Expected::I32(1).matches(&Val::I64(1)));
    }

    #[test]
    fn result_lists_must_have_the_same_length() {
        assert!(match_results(&[Expected::I32(1)], &[Val::I32(1)]).is_ok());
        assert!(match_results(&[Expected::I32(1)], &[]).is_err());
        assert!(match_results(&[], &[Val::I32(1)]).is_err());
        let err = match_results(&[Expected::I32(1)], &[Val::I32(2)]).unwrap_err();
        assert!(err.contains("expected [i32:1], got [i32:2]"), "{err}");
        assert!(match_results(&[Expected::Unsupported("ref.any".into())], &[Val::I32(0)]).is_err());
    }

    #[test]
    fn parses_patterns_from_script_text() {
        let text = r#"(assert_return (invoke "f" (i32.const -1) (f32.const nan:0x200000) (ref.null extern) (ref.extern 5))
            (f32.const nan:canonical) (f64.const nan:arithmetic) (i64.const -1)
            (v128.const f32x4 nan:canonical 1 -0 nan:arithmetic) (ref.null func) (ref.func 0) (either (i32.const 1) (i32.const 2)))"#;
        let buf = wast::parser::ParseBuffer::new(text).unwrap();
        let script: wast::Wast<'_> = wast::parser::parse(&buf).unwrap();
        let wast::WastDirective::AssertReturn { exec, results, .. } = &script.directives[0] else {
            panic!("not assert_return");
        };
        let wast::WastExecute::Invoke(inv) = exec else {
            panic!("not invoke")
        };
        let args: Vec<Val> = inv.args.iter().map(|a| arg(a).unwrap()).collect();
        assert_eq!(
            args,
            vec![
                Val::I32(u32::MAX),
                Val::F32(0x7fa0_0000),
                Val::ExternRef(None),
                Val::ExternRef(Some(5))
            ]
        );
        let exp: Vec<Expected> = results.iter().map(expected).collect();
        assert_eq!(exp[0], Expected::F32(FloatPat::Canonical));
        assert_eq!(exp[1], Expected::F64(FloatPat::Arithmetic));
        assert_eq!(exp[2], Expected::I64(u64::MAX));
        assert_eq!(
            exp[3],
            Expected::V128(V128Pat::F32x4([
                FloatPat::Canonical,
                FloatPat::Bits(1.0f32.to_bits()),
                FloatPat::Bits(0x8000_0000),
                FloatPat::Arithmetic
            ]))
        );
        assert_eq!(exp[4], Expected::RefNull(NullKind::Func));
        assert_eq!(exp[5], Expected::Ref(RefKind::Func));
        assert_eq!(
            exp[6],
            Expected::Either(vec![Expected::I32(1), Expected::I32(2)])
        );
    }
}
