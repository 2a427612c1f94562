//! One test per comparison rule of [`super`].

use super::*;
use crate::engine::{FuncRefId, Trap};

const N: (&str, &str) = ("a", "b");
const LOOSE: Rules = Rules { exact_nans: false };
const EXACT: Rules = Rules { exact_nans: true };

fn ok(v: &[Val]) -> CallResult {
    Ok(v.to_vec())
}

fn trap(code: TrapCode) -> CallResult {
    Err(InvokeError::Trap(Trap {
        code,
        message: code.spec_message().to_string(),
    }))
}

fn diverged(c: Comparison) -> Divergence {
    match c {
        Comparison::Diverged(d) => d,
        other => panic!("expected a divergence, got {other:?}"),
    }
}

#[test]
fn rule1_integers_exact() {
    assert!(compare_calls(N, &ok(&[Val::I32(7)]), &ok(&[Val::I32(7)]), LOOSE).is_same());
    let d = diverged(compare_calls(
        N,
        &ok(&[Val::I32(7)]),
        &ok(&[Val::I32(8)]),
        LOOSE,
    ));
    assert_eq!(d.kind, DivergenceKind::Results);
    assert_eq!(d.signature, "result:0");
    assert!(!same_val(&Val::I64(1), &Val::I64(1 << 40), LOOSE));
    assert!(!same_val(&Val::I32(1), &Val::I64(1), LOOSE), "types differ");
    assert!(!same_val(&Val::V128(1), &Val::V128(2), LOOSE));
}

/// A v128 from four 32-bit lanes (lane 0 first) or two 64-bit lanes.
fn v32(l: [u32; 4]) -> Val {
    Val::V128(l.iter().rev().fold(0u128, |v, &x| v << 32 | x as u128))
}
fn v64(l: [u64; 2]) -> Val {
    Val::V128((l[1] as u128) << 64 | l[0] as u128)
}

#[test]
fn rule3_v128_lanes_nan_as_scalars() {
    let one = 1.0f32.to_bits();
    // Bit-identical always matches, NaNs included, under both rules.
    let x = v32([0x7fc0_0001, one, 0, 0x8000_0000]);
    assert!(same_val(&x, &x, LOOSE) && same_val(&x, &x, EXACT));
    // f32x4 view: NaN lanes with different payloads and signs match, other lanes bit-equal.
    let a = v32([0x7fc0_0000, one, 0xffc0_0000, 7]);
    let b = v32([0x7fa0_0001, one, 0x7fc0_0000, 7]);
    assert!(same_val(&a, &b, LOOSE));
    assert!(!same_val(&a, &b, EXACT), "exact_nans compares bits");
    // ... but one NaN lane against a number, or any differing non-NaN lane, is a difference.
    assert!(!same_val(&a, &v32([0x7fc0_0000, one, 0, 7]), LOOSE));
    assert!(!same_val(
        &a,
        &v32([0x7fc0_0000, one, 0xffc0_0000, 8]),
        LOOSE
    ));
    // -0 and +0 differ in a lane just as in a scalar.
    assert!(!same_val(
        &v32([0x8000_0000, 0, 0, 0]),
        &v32([0, 0, 0, 0]),
        LOOSE
    ));
    // An infinity is not a NaN.
    assert!(!same_val(
        &v32([0x7f80_0000, 0, 0, 0]),
        &v32([0x7fc0_0000, 0, 0, 0]),
        LOOSE
    ));
    // f64x2 view: NaN lanes whose low halves differ (no f32x4 view covers them).
    let c = v64([0x7ff8_0000_0000_0000, 2.5f64.to_bits()]);
    let d = v64([0xfff0_0000_dead_beef, 2.5f64.to_bits()]);
    assert!(same_val(&c, &d, LOOSE));
    assert!(!same_val(&c, &d, EXACT));
    assert!(!same_val(&c, &v64([0x7ff8_0000_0000_0000, 0]), LOOSE));
    assert!(!same_val(&c, &v64([0, 2.5f64.to_bits()]), LOOSE));
    // The views are not mixed: lane-wise NaN under f32x4 in one half and under f64x2 in the other
    // is not accepted (the documented false positive in the other direction).
    let e = v64([0x0000_0000_7fc0_0000, 0x7ff8_0000_0000_0000]);
    let f = v64([0x0000_0000_7fc0_0001, 0x7ff8_0000_0000_0001]);
    assert!(!same_val(&e, &f, LOOSE));
    // The documented false negative: integer lanes that both happen to be NaN patterns.
    assert!(same_val(
        &v32([0x7fc0_0000, 0, 0, 0]),
        &v32([0x7fc0_0001, 0, 0, 0]),
        LOOSE
    ));
    assert!(!same_val(
        &v32([0x7fc0_0000, 0, 0, 0]),
        &v32([0x7fc0_0001, 0, 0, 0]),
        EXACT
    ));
    // A v128 never matches a scalar.
    assert!(!same_val(&Val::V128(0), &Val::I32(0), LOOSE));
    // Results: a v128 divergence names the lanes.
    let dv = diverged(compare_calls(
        N,
        &ok(&[v32([1, 2, 3, 4])]),
        &ok(&[v32([1, 2, 9, 4])]),
        LOOSE,
    ));
    assert_eq!(dv.signature, "result:0");
    assert!(dv.detail.contains("32-bit lanes 2 differ"), "{}", dv.detail);
    assert!(
        compare_calls(N, &ok(&[a]), &ok(&[b]), LOOSE).is_same(),
        "NaN lanes in results"
    );
}

#[test]
fn rule2_non_nan_floats_exact() {
    let pz = Val::F32(0.0f32.to_bits());
    let nz = Val::F32((-0.0f32).to_bits());
    assert!(same_val(&pz, &pz, LOOSE));
    assert!(!same_val(&pz, &nz, LOOSE), "-0 and +0 differ");
    let one = Val::F64(1.0f64.to_bits());
    let next = Val::F64(1.0f64.to_bits() + 1);
    assert!(!same_val(&one, &next, LOOSE), "one ulp differs");
    let inf = Val::F64(f64::INFINITY.to_bits());
    assert!(!same_val(&inf, &Val::F64(f64::NAN.to_bits()), LOOSE));
}

#[test]
fn rule3_nans_both_nan_unless_canonicalized() {
    let canonical = Val::F32(0x7fc0_0000);
    let payload = Val::F32(0x7fc0_0001);
    let negative = Val::F32(0xffc0_0000);
    assert!(same_val(&canonical, &payload, LOOSE));
    assert!(same_val(&canonical, &negative, LOOSE));
    assert!(!same_val(&canonical, &payload, EXACT));
    assert!(!same_val(&canonical, &negative, EXACT));
    assert!(same_val(&canonical, &canonical, EXACT));
    let a = Val::F64(0x7ff8_0000_0000_0000);
    let b = Val::F64(0x7ff4_0000_0000_0000);
    assert!(same_val(&a, &b, LOOSE));
    assert!(!same_val(&a, &b, EXACT));
    // A NaN against a number is always a difference.
    assert!(!same_val(&a, &Val::F64(0), LOOSE));
}

#[test]
fn rule4_traps_by_code() {
    let mut x = trap(TrapCode::UninitializedElement);
    if let Err(InvokeError::Trap(t)) = &mut x {
        t.message = "uninitialized element 7".to_string();
    }
    assert!(compare_calls(N, &x, &trap(TrapCode::UninitializedElement), LOOSE).is_same());
    let d = diverged(compare_calls(
        N,
        &trap(TrapCode::Unreachable),
        &trap(TrapCode::IntegerOverflow),
        LOOSE,
    ));
    assert_eq!(d.kind, DivergenceKind::TrapCodes);
    let d = diverged(compare_calls(
        N,
        &ok(&[]),
        &trap(TrapCode::Unreachable),
        LOOSE,
    ));
    assert_eq!(d.kind, DivergenceKind::ReturnVsTrap);
    assert_eq!(d.signature, "return/trap:Unreachable");
}

#[test]
fn rule5_exhaustion_is_inconclusive() {
    for (a, b) in [
        (trap(TrapCode::CallStackExhausted), ok(&[Val::I32(1)])),
        (ok(&[]), trap(TrapCode::CallStackExhausted)),
        (
            trap(TrapCode::CallStackExhausted),
            trap(TrapCode::CallStackExhausted),
        ),
        (
            trap(TrapCode::Unreachable),
            trap(TrapCode::CallStackExhausted),
        ),
        // An allocation past one engine's heap limit, the other allocating fine.
        (trap(TrapCode::ResourceExhausted), ok(&[])),
        (ok(&[Val::I32(1)]), trap(TrapCode::ResourceExhausted)),
    ] {
        assert!(matches!(
            compare_calls(N, &a, &b, LOOSE),
            Comparison::Inconclusive(_)
        ));
    }
}

#[test]
fn rule6_funcrefs_null_or_not() {
    let f1 = Val::FuncRef(Some(FuncRefId(1)));
    let f2 = Val::FuncRef(Some(FuncRefId(99)));
    assert!(same_val(&f1, &f2, EXACT));
    assert!(!same_val(&f1, &Val::FuncRef(None), LOOSE));
    assert!(same_val(
        &Val::ExternRef(Some(3)),
        &Val::ExternRef(Some(3)),
        LOOSE
    ));
    assert!(!same_val(
        &Val::ExternRef(Some(3)),
        &Val::ExternRef(Some(4)),
        LOOSE
    ));
    assert!(!same_val(
        &Val::ExternRef(None),
        &Val::ExternRef(Some(0)),
        LOOSE
    ));
}

fn snap() -> Snapshot {
    Snapshot {
        memories: vec![("mem".to_string(), vec![0; 256])],
        globals: vec![("g".to_string(), Val::F32(0x7fc0_0000))],
        tables: vec![("t".to_string(), vec![Val::FuncRef(Some(FuncRefId(0)))])],
    }
}

#[test]
fn rule7_memories_by_hash_then_first_range() {
    let a = snap();
    assert_eq!(compare_snapshots(N, &a, &a.clone(), LOOSE), None);
    let mut b = a.clone();
    b.memories[0].1[0x10] = 1;
    b.memories[0].1[0x11] = 2;
    b.memories[0].1[0x40] = 3;
    let d = compare_snapshots(N, &a, &b, LOOSE).expect("diverges");
    assert_eq!(d.kind, DivergenceKind::Memory);
    assert!(d.detail.contains("0x10..0x12"), "{}", d.detail);
    assert!(
        d.detail.contains("0000") && d.detail.contains("0102"),
        "{}",
        d.detail
    );
    let mut c = a.clone();
    c.memories[0].1.push(0);
    assert_eq!(
        compare_snapshots(N, &a, &c, LOOSE).unwrap().signature,
        "memory-size:mem"
    );
    assert_eq!(first_difference(&[1, 2, 3], &[1, 9, 9]), Some(1..3));
    assert_eq!(first_difference(&[1, 2, 3], &[1, 2, 3]), None);
    assert_ne!(hash_bytes(&[0; 9]), hash_bytes(&[0; 8]));
    assert_ne!(hash_bytes(&[1, 0]), hash_bytes(&[0, 1]));
}

#[test]
fn rule8_globals_and_tables() {
    let a = snap();
    let mut b = a.clone();
    b.globals[0].1 = Val::F32(0x7fc0_0001);
    assert_eq!(compare_snapshots(N, &a, &b, LOOSE), None, "both NaN");
    assert_eq!(
        compare_snapshots(N, &a, &b, EXACT).unwrap().kind,
        DivergenceKind::Global
    );
    let mut c = a.clone();
    c.tables[0].1[0] = Val::FuncRef(Some(FuncRefId(5)));
    assert_eq!(compare_snapshots(N, &a, &c, EXACT), None, "non-null both");
    c.tables[0].1[0] = Val::FuncRef(None);
    assert_eq!(
        compare_snapshots(N, &a, &c, EXACT).unwrap().kind,
        DivergenceKind::Table
    );
    let mut d = a.clone();
    d.tables[0].1.push(Val::FuncRef(None));
    assert_eq!(
        compare_snapshots(N, &a, &d, EXACT).unwrap().signature,
        "table-size:t"
    );
    // v128 globals follow rule 3 lane by lane.
    let mut v = a.clone();
    v.globals[0].1 = v32([0x7fc0_0000, 0, 0, 1]);
    let mut w = a.clone();
    w.globals[0].1 = v32([0xffc0_0001, 0, 0, 1]);
    assert_eq!(compare_snapshots(N, &v, &w, LOOSE), None, "NaN lanes");
    let dg = compare_snapshots(N, &v, &w, EXACT).expect("exact NaNs differ");
    assert_eq!(dg.kind, DivergenceKind::Global);
    assert!(dg.detail.contains("32-bit lanes 0 differ"), "{}", dg.detail);
    w.globals[0].1 = v32([0x7fc0_0000, 0, 0, 2]);
    assert_eq!(
        compare_snapshots(N, &v, &w, LOOSE).unwrap().kind,
        DivergenceKind::Global
    );
    let mut e = a.clone();
    e.globals[0].0 = "h".to_string();
    assert_eq!(
        compare_snapshots(N, &a, &e, EXACT).unwrap().kind,
        DivergenceKind::Exports
    );
}

#[test]
fn rule9_call_errors() {
    let other = |m: &str| -> CallResult { Err(InvokeError::Other(m.to_string())) };
    assert!(compare_calls(N, &other("x"), &other("y"), LOOSE).is_same());
    assert_eq!(
        diverged(compare_calls(N, &other("x"), &ok(&[]), LOOSE)).kind,
        DivergenceKind::ReturnVsTrap
    );
}

#[test]
fn missing_snapshot_is_unavailable_not_a_pass() {
    let a = Ok(snap());
    let b = Err("this engine does not take snapshots".to_string());
    match compare_states(N, &a, &b, LOOSE) {
        StateComparison::Unavailable(m) => assert!(m.contains("from b"), "{m}"),
        other => panic!("{other:?}"),
    }
}

/// A heap for rule 10's tests: objects by id.
fn heap(objects: &[(u64, bool, Vec<Val>)]) -> impl FnMut(HeapRefId) -> Result<HeapObject, String> {
    let map: std::collections::HashMap<u64, HeapObject> = objects
        .iter()
        .map(|(id, is_array, fields)| {
            (
                *id,
                HeapObject {
                    is_array: *is_array,
                    len: fields.len(),
                    fields: fields.clone(),
                },
            )
        })
        .collect();
    move |id: HeapRefId| map.get(&id.0).cloned().ok_or(format!("no object {}", id.0))
}

fn st(id: u64) -> Val {
    Val::AnyRef(Some(AnyRef::Struct(HeapRefId(id))))
}

fn deep_cmp(
    a: &[(u64, bool, Vec<Val>)],
    b: &[(u64, bool, Vec<Val>)],
    va: Val,
    vb: Val,
) -> StateComparison {
    let (mut ha, mut hb) = (heap(a), heap(b));
    compare_deep(
        N,
        ("result", DivergenceKind::Results),
        &[va],
        &[vb],
        (&mut ha, &mut hb),
        LOOSE,
    )
}

#[test]
fn rule10_structs_and_arrays_field_by_field() {
    // Different ids, equal contents (a nested array, an i31, a NaN): the same.
    let a = [
        (
            1,
            false,
            vec![Val::I32(5), Val::AnyRef(Some(AnyRef::Array(HeapRefId(2))))],
        ),
        (
            2,
            true,
            vec![Val::F32(0x7fc0_0000), Val::AnyRef(Some(AnyRef::I31(3)))],
        ),
    ];
    let b = [
        (
            7,
            false,
            vec![Val::I32(5), Val::AnyRef(Some(AnyRef::Array(HeapRefId(9))))],
        ),
        (
            9,
            true,
            vec![Val::F32(0x7fc0_0001), Val::AnyRef(Some(AnyRef::I31(3)))],
        ),
    ];
    assert_eq!(deep_cmp(&a, &b, st(1), st(7)), StateComparison::Same);
    // A field two levels down differs: reported with its path.
    let mut c = b.clone();
    c[1].2[1] = Val::AnyRef(Some(AnyRef::I31(4)));
    match deep_cmp(&a, &c, st(1), st(7)) {
        StateComparison::Diverged(d) => {
            assert_eq!(d.kind, DivergenceKind::Results);
            assert_eq!(d.signature, "result:heap:0.1.1", "{d:?}");
        }
        other => panic!("{other:?}"),
    }
    // A different length.
    let mut e = b.clone();
    e[1].2.push(Val::I32(0));
    assert!(matches!(
        deep_cmp(&a, &e, st(1), st(7)),
        StateComparison::Diverged(d) if d.signature == "result:heap-len:0.1"
    ));
    // An engine that cannot read its objects: unavailable, not a pass.
    assert!(matches!(
        deep_cmp(&a, &[], st(1), st(7)),
        StateComparison::Unavailable(m) if m.contains("from b")
    ));
    assert!(has_heap_refs(&[Val::I32(0), st(1)]) && !has_heap_refs(&[Val::AnyRef(None)]));
}

#[test]
fn rule10_cycles_end() {
    // A struct that refers to itself on both sides: compared once, and the walk ends.
    let a = [(1, false, vec![Val::I64(1), st(1)])];
    let b = [(2, false, vec![Val::I64(1), st(2)])];
    assert_eq!(deep_cmp(&a, &b, st(1), st(2)), StateComparison::Same);
    // A cycle that differs only past the depth bound is not followed there.
    let chain = |n: u64, last: i64| -> Vec<(u64, bool, Vec<Val>)> {
        (0..n)
            .map(|i| {
                let v = if i + 1 == n { last } else { 0 };
                (i, false, vec![Val::I64(v as u64), st(i + 1)])
            })
            .collect()
    };
    let deep = MAX_DEPTH as u64 + 3;
    assert_eq!(
        deep_cmp(&chain(deep, 1), &chain(deep, 2), st(0), st(0)),
        StateComparison::Same
    );
    // Within the bound, it is.
    assert!(matches!(
        deep_cmp(&chain(3, 1), &chain(3, 2), st(0), st(0)),
        StateComparison::Diverged(_)
    ));
}

#[test]
fn rule11_relaxed_choices_accept_only_a_permitted_result() {
    let r0 = ok(&[Val::I32(0)]);
    let r1 = ok(&[Val::I32(0xffff_ffff)]);
    let r2 = ok(&[Val::I32(0x8000_0000)]);
    let choices = [(0, &r0), (1, &r1), (2, &r2)];
    assert_eq!(consistent_choices(&choices, &r1, LOOSE), vec![1]);
    assert_eq!(consistent_choices(&choices, &r0, LOOSE), vec![0]);
    // A result no choice gives is not accepted.
    assert!(consistent_choices(&choices, &ok(&[Val::I32(7)]), LOOSE).is_empty());
    assert!(consistent_choices(&choices, &trap(TrapCode::Unreachable), LOOSE).is_empty());
    // States likewise.
    let s = |v: u32| -> SnapshotResult {
        Ok(Snapshot {
            globals: vec![("g".to_string(), Val::I32(v))],
            ..Snapshot::default()
        })
    };
    let (s0, s1) = (s(0), s(1));
    assert_eq!(
        consistent_states(&[(0, &s0), (1, &s1)], &s(1), LOOSE),
        vec![1]
    );
    assert!(consistent_states(&[(0, &s0), (1, &s1)], &s(2), LOOSE).is_empty());
}
