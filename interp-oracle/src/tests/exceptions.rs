//! Exception handling: tags, `throw`, `throw_ref`, `try_table` and the legacy instructions.

use super::*;

fn exception(r: Result<Vec<Value>, CallError>) -> Exception {
    match r {
        Err(CallError::Exception(e)) => e,
        other => panic!("expected an exception, got {other:?}"),
    }
}

const THROWER: &str = r#"(module
    (tag $e (export "e") (param i32 i64))
    (tag $other (export "other"))
    (func $throw (export "throw") (param i32)
        (throw $e (local.get 0) (i64.const 7)))
    (func (export "throw_other") (throw $other)))"#;

#[test]
fn try_table_catches_by_tag_across_frames() {
    let (mut s, i) = setup_3_0(
        10,
        r#"(module
            (tag $e (param i32 i64))
            (tag $f)
            (func $throw (param i32) (throw $e (local.get 0) (i64.const 7)))
            (func $deep (param i32) (call $throw (local.get 0)))
            ;; The payload, summed, when $e reaches the handler through two frames.
            (func (export "catch") (param i32) (result i64) (local i64)
                (block $g
                    (block $h (result i32 i64)
                        (try_table (catch $f $g) (catch $e $h)
                            (call $deep (local.get 0)))
                        (return (i64.const -1)))
                    (local.set 1)
                    (return (i64.add (i64.extend_i32_u) (local.get 1))))
                (i64.const -2))
            (func (export "catch_all") (result i32)
                (block $h
                    (try_table (catch_all $h) (throw $f))
                    (return (i32.const 0)))
                (i32.const 1))
            (func (export "uncaught") (try_table (catch $f 0) (call $throw (i32.const 3)))))"#,
    );
    assert_eq!(call1(&mut s, i, "catch", &[Value::I32(5)]), Value::I64(12));
    assert_eq!(call1(&mut s, i, "catch_all", &[]), Value::I32(1));
    let e = exception(call(&mut s, i, "uncaught", &[]));
    assert_eq!(e.payload, vec![Value::I32(3), Value::I64(7)]);
}

#[test]
fn throw_ref_rethrows_the_same_exception() {
    let (mut s, i) = setup_3_0(
        10,
        r#"(module
            (tag $e (param i32))
            (global $seen (mut exnref) (ref.null exn))
            (func (export "rethrow") (param i32)
                (block $h (result i32 exnref)
                    (try_table (catch_ref $e $h) (throw $e (local.get 0)))
                    (return))
                (global.set $seen)
                (drop)
                (throw_ref (global.get $seen)))
            (func (export "all_ref") (result exnref)
                (block $h (result exnref)
                    (try_table (catch_all_ref $h) (throw $e (i32.const 1)))
                    (unreachable)))
            (func (export "null") (throw_ref (ref.null exn)))
            (global (export "seen") (mut exnref) (ref.null exn)))"#,
    );
    let e = exception(call(&mut s, i, "rethrow", &[Value::I32(9)]));
    assert_eq!(e.payload, vec![Value::I32(9)]);
    // The caught exnref and the one that escaped are one object.
    let Some(ex) = s.exception(e.exn) else {
        panic!("no exception object")
    };
    assert_eq!(ex, e);
    let r = call1(&mut s, i, "all_ref", &[]);
    let Value::ExnRef(Some(a)) = r else {
        panic!("{r:?}")
    };
    assert_eq!(s.exception(a).unwrap().payload, vec![Value::I32(1)]);
    let t = trap(&mut s, i, "null", &[]);
    assert_eq!(t.kind, TrapKind::NullExceptionReference);
    assert_eq!(t.message, "null exception reference");
}

#[test]
fn exceptions_cross_modules_by_tag_identity() {
    let mut s = store_3_0(10);
    let thrower = instantiate(&mut s, THROWER);
    let ext = |s: &Store, name| s.export(thrower, name).unwrap();
    let (e, other, throw) = (ext(&s, "e"), ext(&s, "other"), ext(&s, "throw"));
    let bytes = wat::parse_str(
        r#"(module
            (import "m" "e" (tag $e (param i32 i64)))
            (import "m" "throw" (func $throw (param i32)))
            (tag $mine (param i32 i64))
            (func (export "catch") (result i32)
                (block $h (result i32 i64)
                    (try_table (catch $e $h) (call $throw (i32.const 4)))
                    (return (i32.const -1)))
                (drop))
            (func (export "mine") (result i32)
                (block $h (result i32 i64)
                    (try_table (catch $e $h) (throw $mine (i32.const 1) (i64.const 1)))
                    (return (i32.const -1)))
                (drop)))"#,
    )
    .unwrap();
    let m = s.compile(&bytes).unwrap();
    let catcher = s.instantiate(&m, &[e, throw]).unwrap();
    assert_eq!(call1(&mut s, catcher, "catch", &[]), Value::I32(4));
    // A tag of the same type is another tag: nothing catches it.
    let x = exception(call(&mut s, catcher, "mine", &[]));
    assert_ne!(Extern::Tag(x.tag), e);
    // Imports of tags check the tag's type.
    assert!(s.instantiate(&m, &[other, throw]).is_err());
    // The host sees the exception thrown from the other module.
    let Extern::Func(f) = throw else { panic!() };
    let x = exception(s.invoke(f, &[Value::I32(2)]));
    assert_eq!(Extern::Tag(x.tag), e);
}

#[test]
fn legacy_try_catch_delegate_and_rethrow() {
    let mut s = Store::new(Config {
        features: WasmFeatures::WASM3 | WasmFeatures::LEGACY_EXCEPTIONS,
        ..Config::default()
    });
    let i = instantiate(
        &mut s,
        r#"(module
            (tag $e (param i32))
            (tag $f)
            (func $throw (param i32) (throw $e (local.get 0)))
            (func (export "catch") (param i32) (result i32)
                try (result i32)
                    (call $throw (local.get 0)) (i32.const 0)
                catch $f
                    (i32.const -2)
                catch $e
                    (i32.add (i32.const 100))
                end)
            (func (export "catch_all") (result i32)
                try (result i32) (throw $f) catch_all (i32.const 5) end)
            ;; The inner try's delegate 0 hands the exception to the outer try, skipping the
            ;; inner one's handlers (it has none to skip: the outer catch must get it).
            (func (export "delegate") (result i32)
                try (result i32)
                    try (result i32)
                        (throw $e (i32.const 1))
                    delegate 0
                catch $e
                    (drop) (i32.const 30)
                end)
            (func (export "rethrow") (result i32)
                try (result i32)
                    try
                        (throw $e (i32.const 8))
                    catch $e
                        (drop) (rethrow 0)
                    end
                    (i32.const 0)
                catch $e
                end)
            (func (export "delegate_out")
                try (throw $e (i32.const 6)) delegate 0))"#,
    );
    assert_eq!(call1(&mut s, i, "catch", &[Value::I32(1)]), Value::I32(101));
    assert_eq!(call1(&mut s, i, "catch_all", &[]), Value::I32(5));
    assert_eq!(call1(&mut s, i, "delegate", &[]), Value::I32(30));
    assert_eq!(call1(&mut s, i, "rethrow", &[]), Value::I32(8));
    let e = exception(call(&mut s, i, "delegate_out", &[]));
    assert_eq!(e.payload, vec![Value::I32(6)]);
}

#[test]
fn exceptions_beyond_the_object_limit_trap() {
    let mut s = Store::new(Config {
        features: WasmFeatures::WASM3,
        max_objects: 3,
        ..Config::default()
    });
    let i = instantiate(
        &mut s,
        r#"(module (tag $e)
            (func (export "f") (block $h (try_table (catch $e $h) (throw $e)))))"#,
    );
    for _ in 0..3 {
        call(&mut s, i, "f", &[]).unwrap();
    }
    let t = trap(&mut s, i, "f", &[]);
    assert!(t.message.contains("allocation limit"), "{t}");
}

/// Branch heights are counted from the frame's first local, the hidden locals of legacy
/// `catch`es included, which the translator knows only at the end of the body: branches
/// translated before those locals (`br`, `br_table`, a `try_table` handler) still drop
/// exactly the operands above their label, and keep the ones below and the locals.
#[test]
fn branch_heights_count_hidden_locals() {
    let mut s = Store::new(Config {
        features: WasmFeatures::WASM3 | WasmFeatures::LEGACY_EXCEPTIONS,
        ..Config::default()
    });
    let i = instantiate(
        &mut s,
        r#"(module
            (tag $e (param i32))
            (func (export "run") (param $a i32) (param $b i32) (result i32)
              (local $x i32) (local $y i32)
              (local.set $x (i32.const 3))
              (local.set $y (i32.const 4))
              (i32.const 1000)
              (block $l (result i32)
                (i32.const 7)
                (i32.const 8)
                (br $l))
              (i32.add)
              (block $t0 (result i32)
                (i32.add (i32.const 1)
                  (block $t1 (result i32)
                    (i32.const 99) (i32.const 20) (local.get $a) (br_table $t0 $t1))))
              (i32.add)
              (block $h (result i32)
                (try_table (catch $e $h) (i32.const 55) (throw $e (local.get $b)))
                (i32.const -1))
              (i32.add)
              try (result i32) (throw $e (i32.const 300)) catch $e end
              (i32.add)
              try (result i32) (i32.const 4000) catch $e end
              (i32.add)
              (i32.add (local.get $x))
              (i32.add (local.get $y))
              (i32.add (local.get $a))
              (i32.add (local.get $b))))"#,
    );
    let run = |s: &mut Store, a: u32, b: u32| call1(s, i, "run", &[Value::I32(a), Value::I32(b)]);
    // 1000 + 8, + 20 (br_table to $t0) or 21 ($t1, then + 1), + b, + 300 + 4000, + x + y + a + b.
    assert_eq!(run(&mut s, 0, 5), Value::I32(1008 + 20 + 5 + 4300 + 7 + 5));
    assert_eq!(
        run(&mut s, 1, 6),
        Value::I32(1008 + 21 + 6 + 4300 + 7 + 1 + 6)
    );
}
