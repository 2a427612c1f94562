//! Exception handling: throw/catch within and across wasm frames, through host frames, host
//! functions throwing into wasm, uncaught exceptions at the embedding boundary.

mod common;

use lockstep_runtime::*;

fn engine(stack: Option<usize>) -> Engine {
    let mut c = Config::new();
    c.wasm_exceptions(true).wasm_tail_call(true);
    if let Some(s) = stack {
        c.max_wasm_stack(s);
    }
    Engine::new(&c).unwrap()
}

fn instance(engine: &Engine, wat: &str) -> (Store<()>, Instance) {
    common::setup(engine, wat, &[])
}

fn call_i32(store: &mut Store<()>, inst: Instance, name: &str, args: &[Val]) -> Result<i32> {
    let f = inst.get_func(&mut *store, name).unwrap();
    let mut r = [Val::I32(0)];
    f.call(&mut *store, args, &mut r)?;
    Ok(r[0].i32().unwrap())
}

#[test]
fn rejected_when_off() {
    let e = Engine::default();
    let err = Module::new(&e, "(module (tag) (func throw 0))")
        .err()
        .unwrap();
    assert!(matches!(err, Error::Invalid(_)), "{err}");
    assert!(err.to_string().contains("exception"), "{err}");
}

const CATCHES: &str = r#"(module
  (tag $a (param i32))
  (tag $b (param i64 f64))
  (tag $c)
  (func $throw (param i32)
    (if (i32.eq (local.get 0) (i32.const 0)) (then (throw $a (i32.const 7))))
    (if (i32.eq (local.get 0) (i32.const 1)) (then (throw $b (i64.const 40) (f64.const 2.5))))
    (if (i32.eq (local.get 0) (i32.const 2)) (then (throw $c))))
  (func (export "direct") (param i32) (result i32)
    (block $h (result i32)
      (try_table (catch $a $h) (throw $a (local.get 0)))
      (i32.const -1)))
  (func (export "call") (param i32) (result i32)
    (local $e exnref)
    (block $all
      (block $hb (result i64 f64)
        (return (block $ha (result i32)
          (try_table (catch $a $ha) (catch $b $hb) (catch_all $all)
            (call $throw (local.get 0)))
          (i32.const 100))))
      (f64.const 1.5) (f64.add) (i64.trunc_f64_s) (i64.add) (i32.wrap_i64) (return))
    (i32.const 99))
  (func (export "rethrow") (param i32) (result i32)
    (block $h (result i32)
      (try_table (catch $a $h)
        (block $r (result i32 exnref)
          (try_table (catch_ref $a $r) (call $throw (local.get 0)))
          (return (i32.const 1)))
        (throw_ref))
      (unreachable))
    (i32.const 1000) (i32.add))
  (func (export "null") (throw_ref (ref.null exn)))
  (func (export "uncaught") (param i32) (call $throw (local.get 0)))
)"#;

#[test]
fn catch_and_dispatch() {
    let e = engine(None);
    let (mut s, i) = instance(&e, CATCHES);
    assert_eq!(call_i32(&mut s, i, "direct", &[Val::I32(5)]).unwrap(), 5);
    assert_eq!(call_i32(&mut s, i, "call", &[Val::I32(0)]).unwrap(), 7);
    assert_eq!(call_i32(&mut s, i, "call", &[Val::I32(1)]).unwrap(), 40 + 4);
    assert_eq!(call_i32(&mut s, i, "call", &[Val::I32(2)]).unwrap(), 99);
    assert_eq!(call_i32(&mut s, i, "call", &[Val::I32(3)]).unwrap(), 100);
    assert_eq!(
        call_i32(&mut s, i, "rethrow", &[Val::I32(0)]).unwrap(),
        1007
    );
    assert_eq!(call_i32(&mut s, i, "rethrow", &[Val::I32(3)]).unwrap(), 1);
    let f = i.get_func(&mut s, "null").unwrap();
    match f.call(&mut s, &[], &mut []) {
        Err(Error::Trap(t)) => assert_eq!(t.code(), TrapCode::NullExceptionReference),
        other => panic!("{other:?}"),
    }
}

#[test]
fn uncaught_carries_tag_and_payload() {
    let e = engine(None);
    let (mut s, i) = instance(&e, CATCHES);
    let f = i.get_func(&mut s, "uncaught").unwrap();
    match f.call(&mut s, &[Val::I32(1)], &mut []) {
        Err(Error::Exception(x)) => {
            assert_eq!(x.payload(), &[Val::I64(40), Val::F64(2.5f64.to_bits())][..]);
            assert_eq!(x.tag().ty(&mut s).params(), &[ValType::I64, ValType::F64]);
        }
        other => panic!("{other:?}"),
    }
    // The store stays usable after an exception left it.
    assert_eq!(call_i32(&mut s, i, "call", &[Val::I32(0)]).unwrap(), 7);
}

#[test]
fn deep_unwind() {
    // 10^5 nested wasm frames, the throw at the top, the catch at the bottom. The store is
    // not Send, so everything lives on a thread with a large enough native stack.
    std::thread::Builder::new()
        .stack_size(512 << 20)
        .spawn(|| {
            let e = engine(Some(256 << 20));
            let (mut s, i) = instance(
                &e,
                r#"(module
                  (tag $t (param i32))
                  (func $down (param i32) (result i32)
                    (if (i32.eqz (local.get 0)) (then (throw $t (i32.const 42))))
                    (i32.add (call $down (i32.sub (local.get 0) (i32.const 1))) (i32.const 1)))
                  (func (export "run") (param i32) (result i32)
                    (block $h (result i32)
                      (try_table (result i32) (catch $t $h) (call $down (local.get 0))))))"#,
            );
            assert_eq!(
                call_i32(&mut s, i, "run", &[Val::I32(100_000)]).unwrap(),
                42
            );
            // The stack is whole again: a second, shallower round works too.
            assert_eq!(call_i32(&mut s, i, "run", &[Val::I32(10)]).unwrap(), 42);
        })
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn host_throws_into_wasm() {
    let e = engine(None);
    let module = Module::new(
        &e,
        r#"(module
          (import "h" "tag" (tag $t (param i32)))
          (import "h" "f" (func $f (param i32)))
          (func (export "run") (param i32) (result i32)
            (block $h (result i32)
              (try_table (catch $t $h) (call $f (local.get 0)))
              (i32.const -1))))"#,
    )
    .unwrap();
    let mut s = Store::new(&e, ());
    let tag = Tag::new(&mut s, &TagType::new([ValType::I32])).unwrap();
    let f = Func::new(
        &mut s,
        FuncType::new([ValType::I32], []),
        move |mut c, args, _| {
            let v = args[0].i32().unwrap();
            if v < 0 {
                return Ok(());
            }
            let x = Exception::new(&mut c, tag, &[Val::I32(v * 2)]).map_err(Trap::from)?;
            Err(x.into())
        },
    )
    .unwrap();
    let i = Instance::new(&mut s, &module, &[tag.into(), f.into()]).unwrap();
    assert_eq!(call_i32(&mut s, i, "run", &[Val::I32(21)]).unwrap(), 42);
    assert_eq!(call_i32(&mut s, i, "run", &[Val::I32(-5)]).unwrap(), -1);
    // Called straight from the host, the host function's exception reaches the boundary.
    match f.call(&mut s, &[Val::I32(4)], &mut []) {
        Err(Error::Exception(x)) => {
            assert_eq!(x.tag(), tag);
            assert_eq!(x.payload(), &[Val::I32(8)][..]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn indirect_and_tail_calls() {
    let e = engine(None);
    let (mut s, i) = instance(
        &e,
        r#"(module
          (tag $t (param i32))
          (type $v (func (param i32)))
          (table funcref (elem $thrower))
          (func $thrower (param i32) (throw $t (local.get 0)))
          (func $tail (param i32)
            ;; The tail call leaves this frame, and with it the try_table: not caught here.
            (block $h (result i32)
              (try_table (catch $t $h) (return_call $thrower (local.get 0)))
              (return))
            (drop))
          (func (export "indirect") (param i32) (result i32)
            (block $h (result i32)
              (try_table (catch $t $h)
                (call_indirect (type $v) (local.get 0) (i32.const 0)))
              (i32.const -1)))
          (func (export "tail") (param i32) (result i32)
            (block $h (result i32)
              (try_table (catch $t $h) (call $tail (local.get 0)))
              (i32.const -1))
            (i32.const 100) (i32.add)))"#,
    );
    assert_eq!(call_i32(&mut s, i, "indirect", &[Val::I32(5)]).unwrap(), 5);
    assert_eq!(call_i32(&mut s, i, "tail", &[Val::I32(5)]).unwrap(), 105);
}

#[test]
fn across_host_frames() {
    // wasm (catches) -> host -> wasm (throws): the exception leaves the inner call as an
    // error, the host function returns it, and it is caught in the outer wasm frame.
    let e = engine(None);
    let inner = Module::new(
        &e,
        r#"(module (tag (export "t") (param i32))
             (func (export "thrower") (param i32) (throw 0 (local.get 0))))"#,
    )
    .unwrap();
    let outer = Module::new(
        &e,
        r#"(module
          (import "i" "t" (tag $t (param i32)))
          (import "h" "f" (func $f (param i32)))
          (func (export "run") (param i32) (result i32)
            (block $h (result i32)
              (try_table (catch $t $h) (call $f (local.get 0)))
              (i32.const -1))))"#,
    )
    .unwrap();
    let mut s = Store::new(&e, ());
    let ii = Instance::new(&mut s, &inner, &[]).unwrap();
    let thrower = ii.get_func(&mut s, "thrower").unwrap();
    let tag = match ii.get_export(&mut s, "t") {
        Some(Extern::Tag(t)) => t,
        other => panic!("{other:?}"),
    };
    let f = Func::new(
        &mut s,
        FuncType::new([ValType::I32], []),
        move |mut c, args, _| {
            thrower.call(&mut c, args, &mut [])?;
            Ok(())
        },
    )
    .unwrap();
    let oi = Instance::new(&mut s, &outer, &[tag.into(), f.into()]).unwrap();
    assert_eq!(call_i32(&mut s, oi, "run", &[Val::I32(9)]).unwrap(), 9);
}

#[test]
fn tag_identity_and_import_types() {
    let e = engine(None);
    let m = Module::new(
        &e,
        r#"(module (tag (export "t") (param i32))
             (func (export "throw") (param i32) (throw 0 (local.get 0))))"#,
    )
    .unwrap();
    let catcher = Module::new(
        &e,
        r#"(module
          (import "a" "t" (tag $t (param i32)))
          (import "a" "throw" (func $throw (param i32)))
          (func (export "run") (param i32) (result i32)
            (block $all
              (return (block $h (result i32)
                (try_table (catch $t $h) (catch_all $all) (call $throw (local.get 0)))
                (i32.const -1))))
            (i32.const -2)))"#,
    )
    .unwrap();
    let mut s = Store::new(&e, ());
    let a1 = Instance::new(&mut s, &m, &[]).unwrap();
    let a2 = Instance::new(&mut s, &m, &[]).unwrap();
    let t1 = a1.get_export(&mut s, "t").unwrap();
    let th1 = a1.get_export(&mut s, "throw").unwrap();
    let th2 = a2.get_export(&mut s, "throw").unwrap();
    // Same instance's tag: caught by the tag clause.
    let c1 = Instance::new(&mut s, &catcher, &[t1, th1]).unwrap();
    assert_eq!(call_i32(&mut s, c1, "run", &[Val::I32(3)]).unwrap(), 3);
    // Another instantiation's tag is a different tag: only catch_all takes it.
    let c2 = Instance::new(&mut s, &catcher, &[t1, th2]).unwrap();
    assert_eq!(call_i32(&mut s, c2, "run", &[Val::I32(3)]).unwrap(), -2);
    // A tag of another type does not link.
    let other = Tag::new(&mut s, &TagType::new([ValType::F32])).unwrap();
    let err = Instance::new(&mut s, &catcher, &[other.into(), th1])
        .err()
        .unwrap();
    assert!(matches!(err, Error::Link(_)), "{err}");
}

#[test]
fn legacy_try_catch_delegate_rethrow() {
    let mut c = Config::new();
    c.wasm_exceptions(true).wasm_legacy_exceptions(true);
    let e = Engine::new(&c).unwrap();
    let (mut s, i) = instance(
        &e,
        r#"(module
          (tag $t (param i32))
          (tag $u)
          (func $throw (param i32) local.get 0 throw $t)
          (func (export "delegate") (param i32) (result i32)
            try (result i32)
              try
                local.get 0
                call $throw
              delegate 0
              i32.const -1
            catch $u
              i32.const -3
            catch $t
            catch_all
              i32.const -2
            end)
          (func (export "delegate_out") (param i32) (result i32)
            try (result i32)
              try
                local.get 0
                call $throw
              delegate 1
              i32.const -1
            catch_all
              i32.const -2
            end)
          (func (export "rethrow") (param i32) (result i32)
            try (result i32)
              try
                local.get 0
                throw $t
              catch $t
                drop
                rethrow 0
              end
              i32.const -1
            catch $t
              i32.const 100
              i32.add
            end))"#,
    );
    assert_eq!(call_i32(&mut s, i, "delegate", &[Val::I32(3)]).unwrap(), 3);
    assert_eq!(call_i32(&mut s, i, "rethrow", &[Val::I32(5)]).unwrap(), 105);
    // `delegate 1` skips the enclosing try: the exception leaves the function.
    let f = i.get_func(&mut s, "delegate_out").unwrap();
    let mut r = [Val::I32(0)];
    match f.call(&mut s, &[Val::I32(7)], &mut r) {
        Err(Error::Exception(x)) => assert_eq!(x.payload(), &[Val::I32(7)][..]),
        other => panic!("{other:?}"),
    }
}

/// A throw whose unwinding crosses frames of two modules in turn (the walker reuses a code
/// region while the frames stay in it, `vm/unwind.rs`): module B's `run` catches what B's
/// `throw` raises under n frames of module A, with and without a handler in A on the way.
#[test]
fn unwind_crosses_modules_back_and_forth() {
    let e = engine(None);
    let b_throw = Module::new(
        &e,
        r#"(module (tag (export "t") (param i32))
             (func (export "throw") (param i32) (throw 0 (local.get 0))))"#,
    )
    .unwrap();
    let a = Module::new(
        &e,
        r#"(module
          (import "b" "t" (tag $t (param i32)))
          (import "b" "throw" (func $throw (param i32)))
          (func $rec (export "rec") (param $n i32) (param $catch i32) (result i32)
            (if (i32.eqz (local.get $n))
              (then (call $throw (i32.const 7)) (return (i32.const -1))))
            (if (i32.and (local.get $catch) (i32.eq (local.get $n) (i32.const 3)))
              (then
                (return (i32.add (i32.const 1000)
                  (block $h (result i32)
                    (try_table (catch $t $h)
                      (drop (call $rec (i32.sub (local.get $n) (i32.const 1)) (local.get $catch))))
                    (i32.const -3))))))
            (i32.add (call $rec (i32.sub (local.get $n) (i32.const 1)) (local.get $catch))
                     (i32.const 1))))"#,
    )
    .unwrap();
    let b_run = Module::new(
        &e,
        r#"(module
          (import "b" "t" (tag $t (param i32)))
          (import "a" "rec" (func $rec (param i32 i32) (result i32)))
          (func (export "run") (param i32 i32) (result i32)
            (block $h (result i32)
              (try_table (catch $t $h) (return (call $rec (local.get 0) (local.get 1))))
              (i32.const -4))))"#,
    )
    .unwrap();
    let mut s = Store::new(&e, ());
    let bt = Instance::new(&mut s, &b_throw, &[]).unwrap();
    let t = bt.get_export(&mut s, "t").unwrap();
    let th = bt.get_export(&mut s, "throw").unwrap();
    let ai = Instance::new(&mut s, &a, &[t, th]).unwrap();
    let rec = ai.get_export(&mut s, "rec").unwrap();
    let bi = Instance::new(&mut s, &b_run, &[t, rec]).unwrap();
    for n in [0, 1, 5, 40] {
        // No handler in A: B's run catches the payload 7 under n frames of A.
        let f = bi.get_func(&mut s, "run").unwrap();
        let mut r = [Val::I32(0)];
        f.call(&mut s, &[Val::I32(n), Val::I32(0)], &mut r).unwrap();
        assert_eq!(r[0].i32(), Some(7), "n = {n}");
        // A handler in A's frame at depth 3 (when there is one): 1007 plus the frames above.
        f.call(&mut s, &[Val::I32(n), Val::I32(1)], &mut r).unwrap();
        let expect = if n >= 3 { 1007 + (n - 3) } else { 7 };
        assert_eq!(r[0].i32(), Some(expect), "n = {n}, caught in A");
    }
}

/// A typed host function (`Func::wrap`) throws through the wasm->host shim, whose frame the
/// unwinder starts from (the throw helper finds the shim's frame pointer itself): caught one
/// and two wasm frames up (the middle frame has no handler and live values), with other host
/// calls from the same frames succeeding in between, and uncaught out to the host.
#[test]
fn typed_host_functions_throw_through_the_shim() {
    let e = engine(None);
    let module = Module::new(
        &e,
        r#"(module
          (import "h" "tag" (tag $t (param i32)))
          (import "h" "f" (func $f (param i32 i64) (result i64)))
          (func $middle (param i32) (result i32)
            (i32.add (local.get 0)
              (i32.wrap_i64 (call $f (local.get 0) (i64.const 5)))))
          (func (export "direct") (param i32) (result i32)
            (block $h (result i32)
              (try_table (catch $t $h)
                (return (i32.wrap_i64 (call $f (local.get 0) (i64.const 1)))))
              (i32.const -1)))
          (func (export "two_up") (param i32) (result i32)
            (block $h (result i32)
              (try_table (catch $t $h) (return (call $middle (local.get 0))))
              (i32.const -1)))
          (func (export "uncaught") (param i32) (result i32)
            (call $middle (local.get 0))))"#,
    )
    .unwrap();
    let mut s = Store::new(&e, ());
    let tag = Tag::new(&mut s, &TagType::new([ValType::I32])).unwrap();
    let f = Func::wrap(
        &mut s,
        move |mut c: Caller<'_, ()>, v: i32, k: i64| -> Result<i64, Trap> {
            if v % 2 == 0 {
                return Ok(i64::from(v) * k);
            }
            let x = Exception::new(&mut c, tag, &[Val::I32(v * 10)]).map_err(Trap::from)?;
            Err(x.into())
        },
    )
    .unwrap();
    let i = Instance::new(&mut s, &module, &[tag.into(), f.into()]).unwrap();
    for v in 0..20 {
        let direct = call_i32(&mut s, i, "direct", &[Val::I32(v)]).unwrap();
        let two_up = call_i32(&mut s, i, "two_up", &[Val::I32(v)]).unwrap();
        if v % 2 == 0 {
            assert_eq!((direct, two_up), (v, v + 5 * v));
        } else {
            assert_eq!((direct, two_up), (v * 10, v * 10));
        }
    }
    match call_i32(&mut s, i, "uncaught", &[Val::I32(3)]) {
        Err(Error::Exception(x)) => {
            assert_eq!(x.tag(), tag);
            assert_eq!(x.payload(), &[Val::I32(30)][..]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(call_i32(&mut s, i, "uncaught", &[Val::I32(4)]).unwrap(), 24);
}
