//! Exception objects are collected when unreachable: a throw/catch loop runs in bounded
//! memory, and exceptions held by wasm (globals, tables, locals, operand stacks, other
//! exceptions' payloads, legacy `rethrow` state) or by the host survive collections with
//! their payloads, while a released, collected exception's reference is refused cleanly.

use lockstep_runtime::*;

fn engine() -> Engine {
    let mut c = Config::new();
    c.wasm_function_references(true)
        .wasm_gc(true)
        .wasm_exceptions(true)
        .wasm_legacy_exceptions(true);
    Engine::new(&c).unwrap()
}

const MODULE: &str = r#"(module
  (type $s (struct (field i32)))
  (type $box (struct (field exnref)))
  (import "host" "gc" (func $gc))
  (import "host" "rethrow" (func $host_rethrow))
  (tag $t (export "t") (param i32 (ref null $s)))
  (tag $w (param exnref))
  (tag $n (param i64))
  (global $g (mut exnref) (ref.null exn))
  (table $tab 2 exnref)
  (global $b (mut (ref null $box)) (ref.null $box))

  ;; An exception of $t carrying i and a struct holding i + 100.
  (func $mk (param i32) (result exnref)
    (block $h (result exnref)
      (try_table (catch_all_ref $h)
        (throw $t (local.get 0) (struct.new $s (i32.add (local.get 0) (i32.const 100)))))
      unreachable))
  ;; i + field of an exception of $t.
  (func $open (param exnref) (result i32)
    (block $h (result i32 (ref null $s))
      (try_table (catch $t $h) (throw_ref (local.get 0)))
      unreachable)
    (struct.get $s 0)
    (i32.add))
  (func $unwrap (param exnref) (result exnref)
    (block $h (result exnref)
      (try_table (catch $w $h) (throw_ref (local.get 0)))
      unreachable))
  ;; Garbage: n exceptions thrown and caught, each with a struct, plus n bare structs.
  (func $churn (export "churn") (param $n i32) (result i64)
    (local $acc i64)
    (block $done
      (loop $l
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (drop (struct.new $s (local.get $n)))
        (local.set $acc (i64.add (local.get $acc)
          (block $h (result i64)
            (try_table (catch $n $h) (throw $n (i64.extend_i32_u (local.get $n))))
            unreachable)))
        (drop (call $open (call $mk (local.get $n))))
        (br $l)))
    (local.get $acc))

  (func (export "store")
    (global.set $g (call $mk (i32.const 1)))
    (table.set $tab (i32.const 0) (call $mk (i32.const 2)))
    ;; An exception whose payload is another exception.
    (table.set $tab (i32.const 1)
      (block $h (result exnref)
        (try_table (catch_all_ref $h) (throw $w (call $mk (i32.const 3))))
        unreachable))
    ;; A GC struct's exnref field.
    (global.set $b (struct.new $box (call $mk (i32.const 4)))))
  (func (export "check") (result i32)
    (i32.add
      (i32.add (call $open (global.get $g)) (call $open (table.get $tab (i32.const 0))))
      (i32.add
        (call $open (call $unwrap (table.get $tab (i32.const 1))))
        (call $open (struct.get $box 0 (global.get $b))))))
  (func (export "clear")
    (global.set $g (ref.null exn))
    (global.set $b (ref.null $box))
    (table.fill $tab (i32.const 0) (ref.null exn) (i32.const 2)))

  ;; An exnref in a local across a collection in a host call.
  (func (export "local") (result i32)
    (local $e exnref)
    (local.set $e (call $mk (i32.const 5)))
    (call $gc)
    (drop (call $churn (i32.const 20000)))
    (call $gc)
    (call $open (local.get $e)))
  ;; A caught exception's payload and exnref on the operand stack across a collection in a
  ;; host call from the handler.
  (func (export "handler") (result i32)
    (local $e exnref)
    (block $h (result i32 (ref null $s) exnref)
      (try_table (catch_ref $t $h)
        (throw $t (i32.const 7) (struct.new $s (i32.const 8))))
      unreachable)
    (call $gc)
    (drop (call $churn (i32.const 20000)))
    (call $gc)
    (local.set $e)
    (struct.get $s 0)
    (i32.add)
    (call $open (local.get $e))
    (i32.add))
  ;; Legacy `try`: the exception is in flight (kept for `rethrow`) while the handler
  ;; collects.
  (func (export "legacy") (result i32)
    try (result i32)
      try
        i32.const 9
        i32.const 10
        struct.new $s
        throw $t
      catch $t
        drop
        drop
        call $gc
        i32.const 20000
        call $churn
        drop
        call $gc
        rethrow 0
      end
      i32.const -1
    catch $t
      struct.get $s 0
      i32.add
    end)
  ;; Throws $t out to the host.
  (func (export "escape") (param i32)
    (throw $t (local.get 0) (struct.new $s (i32.mul (local.get 0) (i32.const 2)))))
  ;; Calls the host, which re-throws an exception it holds; caught here.
  (func (export "catch_host") (result i32)
    (block $h (result i32 (ref null $s))
      (try_table (catch $t $h) (call $host_rethrow))
      (return (i32.const -1)))
    (struct.get $s 0)
    (i32.add))
  (func (export "id") (param exnref) (result exnref) (local.get 0))
)"#;

struct Setup {
    store: Store<Option<Exception>>,
    inst: Instance,
}

fn setup() -> Setup {
    let e = engine();
    let module = Module::new(&e, MODULE).unwrap();
    let mut store = Store::new(&e, None::<Exception>);
    let gc = Func::wrap(&mut store, |mut c: Caller<'_, Option<Exception>>| c.gc()).unwrap();
    let rethrow = Func::wrap(
        &mut store,
        |mut c: Caller<'_, Option<Exception>>| -> Result<(), Trap> {
            c.gc();
            match c.data().clone() {
                Some(e) => Err(e.into()),
                None => Ok(()),
            }
        },
    )
    .unwrap();
    let inst = Instance::new(&mut store, &module, &[gc.into(), rethrow.into()]).unwrap();
    Setup { store, inst }
}

fn call(s: &mut Setup, name: &str, args: &[Val]) -> Result<Vec<Val>> {
    let f = s.inst.get_func(&mut s.store, name).unwrap();
    let n = f.ty(&mut s.store).results().len();
    let mut r = vec![Val::I32(0); n];
    f.call(&mut s.store, args, &mut r)?;
    Ok(r)
}

fn call_i32(s: &mut Setup, name: &str) -> i32 {
    call(s, name, &[]).unwrap()[0].i32().unwrap()
}

#[test]
fn throw_loop_runs_in_bounded_memory() {
    let mut s = setup();
    let r = call(&mut s, "churn", &[Val::I32(1_000_000)]).unwrap();
    // Sum of 0..1e6.
    assert_eq!(r[0].i64(), Some(499_999_500_000));
    let (collections, _) = s.store.gc_stats();
    assert!(collections > 0, "throwing never collected");
    // 2e6 exceptions were thrown; only those since the last collection are left.
    let live = s.store.live_exceptions();
    assert!(live < 100_000, "{live} exceptions still live");
    s.store.gc();
    assert_eq!(s.store.live_exceptions(), 0);
}

#[test]
fn held_exceptions_survive_collections() {
    let mut s = setup();
    call(&mut s, "store", &[]).unwrap();
    s.store.gc();
    // $g, $tab[0], the wrapper in $tab[1], the exception in its payload, and $b's field.
    assert_eq!(s.store.live_exceptions(), 5);
    call(&mut s, "churn", &[Val::I32(50_000)]).unwrap();
    s.store.gc();
    assert_eq!(s.store.live_exceptions(), 5);
    assert_eq!(call_i32(&mut s, "check"), 102 + 104 + 106 + 108);
    call(&mut s, "clear", &[]).unwrap();
    s.store.gc();
    assert_eq!(s.store.live_exceptions(), 0);
}

#[test]
fn exceptions_in_frames_survive_collections_in_host_calls() {
    let mut s = setup();
    assert_eq!(call_i32(&mut s, "local"), 110);
    assert_eq!(call_i32(&mut s, "handler"), 7 + 8 + 7 + 8);
    assert_eq!(call_i32(&mut s, "legacy"), 19);
    s.store.gc();
    assert_eq!(s.store.live_exceptions(), 0);
}

#[test]
fn host_catches_and_rethrows() {
    let mut s = setup();
    let err = call(&mut s, "escape", &[Val::I32(20)]).unwrap_err();
    let Error::Exception(e) = err else {
        panic!("expected an exception, got {err}")
    };
    // Held by the host: rooted across collections and garbage.
    s.store.gc();
    call(&mut s, "churn", &[Val::I32(50_000)]).unwrap();
    s.store.gc();
    assert_eq!(s.store.live_exceptions(), 1);
    let again = Exception::from_ref(&mut s.store, e.exn_ref()).unwrap();
    assert_eq!(again.payload()[0], Val::I32(20));
    *s.store.data_mut() = Some((*e).clone());
    // A host function re-throws it (collecting first); wasm catches it: 20 + 40.
    assert_eq!(call_i32(&mut s, "catch_host"), 60);
    // Passed to wasm and back as a value.
    let r = call(&mut s, "id", &[Val::ExnRef(Some(e.exn_ref()))]).unwrap();
    assert_eq!(r[0], Val::ExnRef(Some(e.exn_ref())));
}

#[test]
fn released_exceptions_are_refused_after_collection() {
    let mut s = setup();
    let Error::Exception(e) = call(&mut s, "escape", &[Val::I32(3)]).unwrap_err() else {
        panic!("expected an exception")
    };
    let r = e.exn_ref();
    s.store.release_host_refs();
    s.store.gc();
    assert_eq!(s.store.live_exceptions(), 0);
    // New exceptions may reuse the address; the stale reference names none of them.
    call(&mut s, "churn", &[Val::I32(1000)]).unwrap();
    let held = call(&mut s, "escape", &[Val::I32(4)]).unwrap_err();
    assert!(matches!(held, Error::Exception(_)));
    assert!(Exception::from_ref(&mut s.store, r).is_none());
    let err = call(&mut s, "id", &[Val::ExnRef(Some(r))]).unwrap_err();
    assert!(err.to_string().contains("collected"), "{err}");
    // Re-thrown by a host function: an error, never a wrong object or a crash.
    *s.store.data_mut() = Some((*e).clone());
    assert!(call(&mut s, "catch_host", &[]).is_err());
    // Its host-side copy is still readable.
    assert_eq!(e.payload()[0], Val::I32(3));
}
