//! Relaxed SIMD: the native lowering returns the host's permitted result, the deterministic
//! one the same result everywhere; both are checked where the two differ.

use lockstep_runtime::*;

const WAT: &str = r#"(module
    (func (export "swizzle") (result i32)
      (i8x16.extract_lane_u 0
        (i8x16.relaxed_swizzle (v128.const i8x16 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25)
                               (v128.const i8x16 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0))))
    (func (export "trunc_nan") (result i32)
      (i32x4.extract_lane 0 (i32x4.relaxed_trunc_f32x4_s (v128.const f32x4 nan 0 0 0))))
    (func (export "trunc_zero_big") (result i32)
      (i32x4.extract_lane 0 (i32x4.relaxed_trunc_f64x2_s_zero (v128.const f64x2 1e10 0))))
    (func (export "q15") (result i32)
      (i16x8.extract_lane_s 0
        (i16x8.relaxed_q15mulr_s (v128.const i16x8 -32768 0 0 0 0 0 0 0)
                                 (v128.const i16x8 -32768 0 0 0 0 0 0 0))))
    (func (export "min_nan") (result f32)
      (f32x4.extract_lane 0 (f32x4.relaxed_min (v128.const f32x4 nan 0 0 0) (v128.const f32x4 1 0 0 0))))
    (func (export "max_zeros") (result i32)
      (i32x4.extract_lane 0 (f32x4.relaxed_max (v128.const f32x4 -0 0 0 0) (v128.const f32x4 0 0 0 0))))
    ;; (1 + 2^-23)^2 - 1 - 2^-22 = 2^-46 when fused, 0 when rounded first.
    (func (export "madd") (result f32)
      (f32x4.extract_lane 0
        (f32x4.relaxed_madd (v128.const f32x4 0x1.000002p+0 0 0 0)
                            (v128.const f32x4 0x1.000002p+0 0 0 0)
                            (v128.const f32x4 -0x1.000004p+0 0 0 0))))
    (func (export "nmadd") (result f32)
      (f32x4.extract_lane 0
        (f32x4.relaxed_nmadd (v128.const f32x4 0x1.000002p+0 0 0 0)
                             (v128.const f32x4 0x1.000002p+0 0 0 0)
                             (v128.const f32x4 0x1.000004p+0 0 0 0))))
    (func (export "dot") (result i32)
      (i16x8.extract_lane_s 0
        (i16x8.relaxed_dot_i8x16_i7x16_s (v128.const i8x16 -128 -128 0 0 0 0 0 0 0 0 0 0 0 0 0 0)
                                         (v128.const i8x16 -128 -128 0 0 0 0 0 0 0 0 0 0 0 0 0 0))))
    (func (export "dot_7bit") (result i32)
      (i32x4.extract_lane 0
        (i32x4.relaxed_dot_i8x16_i7x16_add_s
          (v128.const i8x16 -128 127 -5 3 0 0 0 0 0 0 0 0 0 0 0 0)
          (v128.const i8x16 127 127 100 7 0 0 0 0 0 0 0 0 0 0 0 0)
          (v128.const i32x4 1000 0 0 0))))
    (func (export "laneselect") (result i64)
      (i64x2.extract_lane 0
        (i64x2.relaxed_laneselect (v128.const i64x2 -1 -1) (v128.const i64x2 0 0)
                                  (v128.const i64x2 0xff00ff00ff00ff00 0)))))"#;

fn run(deterministic: bool) -> (Store<()>, Instance) {
    let mut config = Config::new();
    config
        .wasm_relaxed_simd(true)
        .relaxed_simd_deterministic(deterministic);
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(&engine, WAT).unwrap();
    let mut store = Store::new(&engine, ());
    let inst = Instance::new(&mut store, &module, &[]).unwrap();
    (store, inst)
}

fn i32_of(store: &mut Store<()>, inst: &Instance, name: &str) -> i32 {
    let f = inst.get_typed_func::<(), i32>(&mut *store, name).unwrap();
    f.call(store, ()).unwrap()
}

fn f32_of(store: &mut Store<()>, inst: &Instance, name: &str) -> f32 {
    let f = inst.get_typed_func::<(), f32>(&mut *store, name).unwrap();
    f.call(store, ()).unwrap()
}

#[test]
fn deterministic_lowering_matches_the_non_relaxed_instructions() {
    let (mut s, inst) = run(true);
    assert_eq!(i32_of(&mut s, &inst, "swizzle"), 0);
    assert_eq!(i32_of(&mut s, &inst, "trunc_nan"), 0);
    assert_eq!(i32_of(&mut s, &inst, "trunc_zero_big"), i32::MAX);
    assert_eq!(i32_of(&mut s, &inst, "q15"), i32::from(i16::MAX));
    assert!(f32_of(&mut s, &inst, "min_nan").is_nan());
    assert_eq!(i32_of(&mut s, &inst, "max_zeros"), 0, "fmax(-0, 0) = +0");
    assert_eq!(f32_of(&mut s, &inst, "madd"), 2f32.powi(-46), "fused");
    assert_eq!(f32_of(&mut s, &inst, "nmadd"), -(2f32.powi(-46)), "fused");
    assert_eq!(i32_of(&mut s, &inst, "dot"), i32::from(i16::MIN), "wraps");
    assert_eq!(
        i32_of(&mut s, &inst, "dot_7bit"),
        -128 * 127 + 127 * 127 + -5 * 100 + 3 * 7 + 1000
    );
    let f = inst
        .get_typed_func::<(), i64>(&mut s, "laneselect")
        .unwrap();
    assert_eq!(f.call(&mut s, ()).unwrap() as u64, 0xff00_ff00_ff00_ff00);
}

#[test]
fn native_lowering_returns_x86_results() {
    let (mut s, inst) = run(false);
    assert_eq!(
        i32_of(&mut s, &inst, "swizzle"),
        11,
        "pshufb takes index 17 mod 16"
    );
    assert_eq!(i32_of(&mut s, &inst, "trunc_nan"), i32::MIN, "cvttps2dq");
    assert_eq!(
        i32_of(&mut s, &inst, "trunc_zero_big"),
        i32::MIN,
        "cvttpd2dq"
    );
    assert_eq!(
        i32_of(&mut s, &inst, "q15"),
        i32::from(i16::MIN),
        "pmulhrsw"
    );
    assert_eq!(
        f32_of(&mut s, &inst, "min_nan"),
        1.0,
        "minps: second operand"
    );
    assert_eq!(
        i32_of(&mut s, &inst, "max_zeros"),
        0,
        "maxps: second operand, +0"
    );
    let fused = std::is_x86_feature_detected!("fma");
    let expect = if fused { 2f32.powi(-46) } else { 0.0 };
    assert_eq!(f32_of(&mut s, &inst, "madd"), expect);
    assert_eq!(f32_of(&mut s, &inst, "nmadd"), -expect);
    // pmaddubsw reads the second operand unsigned: -128 * 128, twice, is exactly -2^15.
    assert_eq!(i32_of(&mut s, &inst, "dot"), i32::from(i16::MIN));
    // A 7-bit second operand gives the exact signed answer on every lowering.
    assert_eq!(
        i32_of(&mut s, &inst, "dot_7bit"),
        -128 * 127 + 127 * 127 + -5 * 100 + 3 * 7 + 1000
    );
}

#[test]
fn relaxed_simd_is_rejected_when_switched_off() {
    let e = Module::new(
        &Engine::default(),
        "(module (func (result v128) v128.const i64x2 0 0 v128.const i64x2 0 0 i8x16.relaxed_swizzle))",
    )
    .err()
    .expect("relaxed SIMD is off by default");
    assert!(matches!(e, Error::Invalid(_)), "{e:?}");
    assert!(e.to_string().contains("relaxed SIMD"), "{e}");
}
