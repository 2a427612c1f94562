//! Wasm GC: structs, arrays, i31, casts, the collector (reclamation under a heap limit, roots
//! on the wasm stack and in host hands) and the embedding API.

mod common;

use lockstep_runtime::*;

fn engine(limit: Option<usize>) -> Engine {
    let mut c = Config::new();
    c.wasm_function_references(true)
        .wasm_gc(true)
        .wasm_tail_call(true)
        .wasm_exceptions(true);
    if let Some(l) = limit {
        c.gc_heap_limit(l);
    }
    Engine::new(&c).unwrap()
}

fn call(store: &mut Store<()>, inst: Instance, name: &str, args: &[Val]) -> Result<Vec<Val>> {
    let f = inst.get_func(&mut *store, name).unwrap();
    let n = f.ty(&mut *store).results().len();
    let mut r = vec![Val::I32(0); n];
    f.call(&mut *store, args, &mut r)?;
    Ok(r)
}

fn call_i32(store: &mut Store<()>, inst: Instance, name: &str, args: &[Val]) -> Result<i32> {
    Ok(call(store, inst, name, args)?[0].i32().unwrap())
}

fn trap_message(r: Result<Vec<Val>>) -> String {
    match r {
        Err(Error::Trap(t)) => t.message().to_string(),
        other => panic!("expected a trap, got {other:?}"),
    }
}

#[test]
fn rejected_when_off() {
    let mut c = Config::new();
    c.wasm_function_references(true);
    let e = Engine::new(&c).unwrap();
    let err = Module::new(&e, "(module (type (struct)) (func (drop (struct.new 0))))")
        .err()
        .unwrap();
    assert!(matches!(err, Error::Invalid(_)), "{err}");
}

const STRUCTS: &str = r#"(module
  (type $p (struct (field $x (mut i32)) (field $y i64) (field $b (mut i8)) (field $f f64)))
  (type $node (struct (field $v i32) (field $next (ref null $node))))
  (func (export "round_trip") (param i32 i64) (result i32 i64 i32 i32)
    (local $s (ref $p))
    (local.set $s (struct.new $p (local.get 0) (local.get 1) (i32.const 0x1ff) (f64.const 1.5)))
    (struct.set $p $x (local.get $s) (i32.add (struct.get $p $x (local.get $s)) (i32.const 1)))
    (struct.get $p $x (local.get $s))
    (struct.get $p $y (local.get $s))
    (struct.get_s $p $b (local.get $s))
    (struct.get_u $p $b (local.get $s)))
  (func (export "default") (result i32 i64 f64)
    (local $s (ref $p))
    (local.set $s (struct.new_default $p))
    (struct.get $p $x (local.get $s))
    (struct.get $p $y (local.get $s))
    (struct.get $p $f (local.get $s)))
  (func (export "null_get") (result i32)
    (struct.get $p $x (ref.null $p)))
  ;; A list of n nodes, summed.
  (func (export "list_sum") (param $n i32) (result i32)
    (local $l (ref null $node)) (local $s i32)
    (block $done (loop $build
      (br_if $done (i32.eqz (local.get $n)))
      (local.set $l (struct.new $node (local.get $n) (local.get $l)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $build)))
    (block $end (loop $walk
      (br_if $end (ref.is_null (local.get $l)))
      (local.set $s (i32.add (local.get $s) (struct.get $node $v (local.get $l))))
      (local.set $l (struct.get $node $next (local.get $l)))
      (br $walk)))
    (local.get $s))
)"#;

#[test]
fn struct_round_trips() {
    let e = engine(None);
    let (mut s, i) = common::setup(&e, STRUCTS, &[]);
    let r = call(&mut s, i, "round_trip", &[Val::I32(41), Val::I64(-7)]).unwrap();
    assert_eq!(
        r,
        vec![Val::I32(42), Val::I64(-7), Val::I32(-1), Val::I32(0xff)]
    );
    let r = call(&mut s, i, "default", &[]).unwrap();
    assert_eq!(r, vec![Val::I32(0), Val::I64(0), Val::F64(0)]);
    assert_eq!(
        trap_message(call(&mut s, i, "null_get", &[])),
        "null structure reference"
    );
    assert_eq!(
        call_i32(&mut s, i, "list_sum", &[Val::I32(100)]).unwrap(),
        5050
    );
}

const ARRAYS: &str = r#"(module
  (type $a (array (mut i32)))
  (type $b (array (mut i8)))
  (type $r (array (mut anyref)))
  (data $d "\01\02\03\04")
  (func (export "sum") (param $n i32) (result i32)
    (local $arr (ref $a)) (local $i i32) (local $s i32)
    (local.set $arr (array.new $a (i32.const 3) (local.get $n)))
    (array.set $a (local.get $arr) (i32.const 0) (i32.const 10))
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $i) (array.len (local.get $arr))))
      (local.set $s (i32.add (local.get $s) (array.get $a (local.get $arr) (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l)))
    (local.get $s))
  (func (export "packed") (result i32 i32 i32)
    (local $arr (ref $b))
    (local.set $arr (array.new_data $b $d (i32.const 0) (i32.const 4)))
    (array.fill $b (local.get $arr) (i32.const 1) (i32.const 0xfe) (i32.const 2))
    (array.get_s $b (local.get $arr) (i32.const 1))
    (array.get_u $b (local.get $arr) (i32.const 2))
    (array.get_u $b (local.get $arr) (i32.const 3)))
  (func (export "copy") (result i32)
    (local $x (ref $a)) (local $y (ref $a))
    (local.set $x (array.new_fixed $a 4 (i32.const 1) (i32.const 2) (i32.const 3) (i32.const 4)))
    (local.set $y (array.new_default $a (i32.const 4)))
    (array.copy $a $a (local.get $y) (i32.const 1) (local.get $x) (i32.const 0) (i32.const 3))
    (array.copy $a $a (local.get $x) (i32.const 1) (local.get $x) (i32.const 0) (i32.const 3))
    ;; y = 0 1 2 3, x = 1 1 2 3
    (i32.add
      (i32.mul (array.get $a (local.get $y) (i32.const 3)) (i32.const 10))
      (array.get $a (local.get $x) (i32.const 3))))
  (func (export "oob") (result i32)
    (array.get $a (array.new_default $a (i32.const 2)) (i32.const 2)))
  (func (export "refs") (result i32)
    (local $arr (ref $r))
    (local.set $arr (array.new $r (ref.i31 (i32.const 5)) (i32.const 3)))
    (array.set $r (local.get $arr) (i32.const 1) (array.new_default $a (i32.const 7)))
    (i32.add
      (i31.get_u (ref.cast (ref i31) (array.get $r (local.get $arr) (i32.const 2))))
      (array.len (ref.cast (ref $a) (array.get $r (local.get $arr) (i32.const 1))))))
)"#;

#[test]
fn array_instructions() {
    let e = engine(None);
    let (mut s, i) = common::setup(&e, ARRAYS, &[]);
    assert_eq!(
        call_i32(&mut s, i, "sum", &[Val::I32(5)]).unwrap(),
        10 + 4 * 3
    );
    let r = call(&mut s, i, "packed", &[]).unwrap();
    assert_eq!(r, vec![Val::I32(-2), Val::I32(0xfe), Val::I32(4)]);
    assert_eq!(call_i32(&mut s, i, "copy", &[]).unwrap(), 33);
    assert_eq!(
        trap_message(call(&mut s, i, "oob", &[])),
        "out of bounds array access"
    );
    assert_eq!(call_i32(&mut s, i, "refs", &[]).unwrap(), 12);
}

const CASTS: &str = r#"(module
  (type $s (sub (struct (field i32))))
  (type $t (sub $s (struct (field i32) (field i64))))
  (type $u (struct))
  (type $f (func (result i32)))
  (func $g (type $f) (i32.const 7))
  (elem declare func $g)
  (func (export "i31") (param i32) (result i32 i32)
    (i31.get_s (ref.i31 (local.get 0)))
    (i31.get_u (ref.i31 (local.get 0))))
  (func (export "tests") (result i32)
    (local $a anyref)
    (local.set $a (struct.new $t (i32.const 1) (i64.const 2)))
    ;; bits: is $s, is $t, not $u, is struct, not array, is eq, not i31
    (i32.or (i32.or (i32.or
      (ref.test (ref $s) (local.get $a))
      (i32.shl (ref.test (ref $t) (local.get $a)) (i32.const 1)))
      (i32.or
        (i32.shl (ref.test (ref $u) (local.get $a)) (i32.const 2))
        (i32.shl (ref.test (ref struct) (local.get $a)) (i32.const 3))))
      (i32.or
        (i32.or
          (i32.shl (ref.test (ref array) (local.get $a)) (i32.const 4))
          (i32.shl (ref.test (ref eq) (local.get $a)) (i32.const 5)))
        (i32.shl (ref.test (ref i31) (local.get $a)) (i32.const 6)))))
  (func (export "cast_fail") (result i32)
    (struct.get $s 0 (ref.cast (ref $s) (ref.i31 (i32.const 1)))))
  (func (export "br_on_cast") (param $x anyref) (result i32)
    (block $is_i31 (result (ref i31))
      (br_on_cast $is_i31 anyref (ref i31) (local.get $x))
      (drop)
      (return (i32.const -1)))
    (i31.get_s))
  (func (export "eq") (result i32)
    (local $x eqref)
    (local.set $x (struct.new $s (i32.const 0)))
    (i32.add
      (ref.eq (local.get $x) (local.get $x))
      (i32.add
        (ref.eq (local.get $x) (struct.new $s (i32.const 0)))
        (ref.eq (ref.i31 (i32.const 3)) (ref.i31 (i32.const 3))))))
  (func (export "funcs") (result i32)
    (ref.test (ref $f) (ref.func $g)))
  (func (export "extern") (param externref) (result externref)
    (extern.convert_any (any.convert_extern (local.get 0))))
)"#;

#[test]
fn casts_and_i31() {
    let e = engine(None);
    let (mut s, i) = common::setup(&e, CASTS, &[]);
    let r = call(&mut s, i, "i31", &[Val::I32(-1)]).unwrap();
    assert_eq!(r, vec![Val::I32(-1), Val::I32(0x7fff_ffff)]);
    assert_eq!(
        call_i32(&mut s, i, "tests", &[]).unwrap(),
        0b0101011,
        "is $s, is $t, struct, eq"
    );
    assert_eq!(
        trap_message(call(&mut s, i, "cast_fail", &[])),
        "cast failure"
    );
    let i31 = Val::AnyRef(Some(AnyRef::from_i31(-5)));
    assert_eq!(call_i32(&mut s, i, "br_on_cast", &[i31]).unwrap(), -5);
    assert_eq!(
        call_i32(&mut s, i, "br_on_cast", &[Val::AnyRef(None)]).unwrap(),
        -1
    );
    assert_eq!(call_i32(&mut s, i, "eq", &[]).unwrap(), 2);
    assert_eq!(call_i32(&mut s, i, "funcs", &[]).unwrap(), 1);
    // A host reference survives the trip into `any` and back as itself.
    let h = s.new_externref(17u32);
    let r = call(&mut s, i, "extern", &[Val::ExternRef(Some(h))]).unwrap();
    assert_eq!(r, vec![Val::ExternRef(Some(h))]);
}

const STRESS: &str = r#"(module
  (type $node (struct (field $v i32) (field $next (ref null $node))))
  (type $buf (array (mut i64)))
  (global $keep (mut (ref null $node)) (ref.null $node))
  ;; Build a list of `len` nodes (each node also allocates a 1 KiB array that dies at once),
  ;; sum it, and drop it; `rounds` times.
  (func (export "churn") (param $rounds i32) (param $len i32) (result i64)
    (local $l (ref null $node)) (local $i i32) (local $total i64) (local $n i32)
    (block $out (loop $round
      (br_if $out (i32.eqz (local.get $rounds)))
      (local.set $l (ref.null $node))
      (local.set $i (local.get $len))
      (block $built (loop $build
        (br_if $built (i32.eqz (local.get $i)))
        (drop (array.new_default $buf (i32.const 128)))
        (local.set $l (struct.new $node (local.get $i) (local.get $l)))
        (local.set $i (i32.sub (local.get $i) (i32.const 1)))
        (br $build)))
      (block $summed (loop $walk
        (br_if $summed (ref.is_null (local.get $l)))
        (local.set $total
          (i64.add (local.get $total) (i64.extend_i32_u (struct.get $node $v (local.get $l)))))
        (local.set $l (struct.get $node $next (local.get $l)))
        (br $walk)))
      (local.set $rounds (i32.sub (local.get $rounds) (i32.const 1)))
      (br $round)))
    (local.get $total))
  ;; A list reachable only from this frame's local while callee frames allocate garbage.
  (func $garbage (param $n i32)
    (block $d (loop $l
      (br_if $d (i32.eqz (local.get $n)))
      (drop (array.new_default $buf (i32.const 1000)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $l))))
  (func (export "stack_roots") (result i32)
    (local $l (ref null $node)) (local $i i32) (local $s i32)
    (local.set $i (i32.const 1000))
    (block $built (loop $build
      (br_if $built (i32.eqz (local.get $i)))
      (local.set $l (struct.new $node (local.get $i) (local.get $l)))
      (local.set $i (i32.sub (local.get $i) (i32.const 1)))
      (br $build)))
    ;; The operand stack holds one more node across the calls.
    (struct.new $node (i32.const 7) (ref.null $node))
    (call $garbage (i32.const 3000))
    (call $garbage (i32.const 3000))
    (local.set $s (struct.get $node $v))
    (block $end (loop $walk
      (br_if $end (ref.is_null (local.get $l)))
      (local.set $s (i32.add (local.get $s) (struct.get $node $v (local.get $l))))
      (local.set $l (struct.get $node $next (local.get $l)))
      (br $walk)))
    (local.get $s))
  (func (export "make") (param i32) (result anyref)
    (struct.new $node (local.get 0) (ref.null $node)))
  (func (export "read") (param anyref) (result i32)
    (struct.get $node $v (ref.cast (ref $node) (local.get 0))))
  (func (export "garbage") (param i32) (call $garbage (local.get 0)))
  (func (export "huge") (result i32)
    (array.len (array.new_default $buf (i32.const 0x7fff_ffff))))
)"#;

fn rss_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn stress_reclaims_memory() {
    let limit = 4 << 20;
    let e = engine(Some(limit));
    let (mut s, i) = common::setup(&e, STRESS, &[]);
    // Each round allocates len * (1 KiB array + a node) ~ 1.06 MiB; 400 rounds are about
    // 100x the 4 MiB limit.
    let rounds = 400;
    let len = 1000;
    let before = rss_kib();
    let r = call(&mut s, i, "churn", &[Val::I32(rounds), Val::I32(len)]).unwrap();
    let per_round = i64::from(len) * i64::from(len + 1) / 2;
    assert_eq!(r, vec![Val::I64(per_round * i64::from(rounds))]);
    let (collections, bytes) = s.gc_stats();
    assert!(collections >= 50, "only {collections} collections");
    assert!(bytes <= limit, "heap holds {bytes} bytes");
    if let (Some(b), Some(a)) = (before, rss_kib()) {
        // 400 MiB were allocated in total; resident memory grows by far less.
        assert!(
            a.saturating_sub(b) < 64 * 1024,
            "RSS grew from {b} KiB to {a} KiB"
        );
    }
}

#[test]
fn stack_values_survive_collections() {
    let e = engine(Some(2 << 20));
    let (mut s, i) = common::setup(&e, STRESS, &[]);
    let (c0, _) = s.gc_stats();
    assert_eq!(
        call_i32(&mut s, i, "stack_roots", &[]).unwrap(),
        500_500 + 7
    );
    let (c1, _) = s.gc_stats();
    assert!(
        c1 > c0 + 5,
        "expected collections during the test ({c0} -> {c1})"
    );
}

#[test]
fn host_refs_survive_collections() {
    let e = engine(Some(2 << 20));
    let (mut s, i) = common::setup(&e, STRESS, &[]);
    let made = call(&mut s, i, "make", &[Val::I32(99)]).unwrap()[0];
    call(&mut s, i, "garbage", &[Val::I32(10_000)]).unwrap();
    s.gc();
    assert_eq!(call_i32(&mut s, i, "read", &[made]).unwrap(), 99);
    // Read through the embedding API too.
    let Val::AnyRef(Some(a)) = made else {
        panic!("not an anyref: {made:?}")
    };
    let st = a.as_struct(&mut s).unwrap();
    assert_eq!(st.field(&mut s, 0), Some(Val::I32(99)));
    st.set_field(&mut s, 0, Val::I32(5)).unwrap();
    assert_eq!(call_i32(&mut s, i, "read", &[made]).unwrap(), 5);
    // Released, unreachable from wasm: the next collection frees it.
    let before = s.gc_stats().1;
    s.release_host_refs();
    s.gc();
    assert!(s.gc_stats().1 < before, "nothing was freed");
}

#[test]
fn out_of_heap_is_a_trap() {
    let e = engine(Some(1 << 20));
    let (mut s, i) = common::setup(&e, STRESS, &[]);
    assert_eq!(trap_message(call(&mut s, i, "huge", &[])), "out of GC heap");
    // The store is still usable.
    assert_eq!(call_i32(&mut s, i, "stack_roots", &[]).unwrap(), 500_507);
}

#[test]
fn host_created_objects() {
    let e = engine(None);
    let m = Module::new(&e, ARRAYS).unwrap();
    let mut s = Store::new(&e, ());
    let arr = ArrayRef::new(&mut s, &m, 0, Val::I32(3), 5).unwrap();
    assert_eq!(arr.len(&mut s), 5);
    arr.set(&mut s, 4, Val::I32(9)).unwrap();
    assert_eq!(arr.get(&mut s, 4), Some(Val::I32(9)));
    assert_eq!(arr.get(&mut s, 5), None);
    assert!(arr.set(&mut s, 0, Val::I64(1)).is_err());
    let sm = Module::new(&e, STRUCTS).unwrap();
    let st = StructRef::new(
        &mut s,
        &sm,
        0,
        &[Val::I32(1), Val::I64(2), Val::I32(0x1234), Val::F64(0)],
    )
    .unwrap();
    // Packed fields keep their low bits.
    assert_eq!(st.field(&mut s, 2), Some(Val::I32(0x34)));
    assert_eq!(st.num_fields(&mut s), 4);
}

/// A linked list of structs, built by `$build n` (values n..1) and summed by `$sum`: the
/// shared body of the host-call collection tests.
const LIST: &str = r#"
      (type $node (struct (field $v i32) (field $next (ref null $node))))
      (func $build (param $n i32) (result (ref null $node))
        (local $l (ref null $node))
        (block $d (loop $b
          (br_if $d (i32.eqz (local.get $n)))
          (local.set $l (struct.new $node (local.get $n) (local.get $l)))
          (local.set $n (i32.sub (local.get $n) (i32.const 1)))
          (br $b)))
        (local.get $l))
      (func $sum (param $l (ref null $node)) (result i32) (local $s i32)
        (block $e (loop $w
          (br_if $e (ref.is_null (local.get $l)))
          (local.set $s (i32.add (local.get $s) (struct.get $node $v (local.get $l))))
          (local.set $l (struct.get $node $next (local.get $l)))
          (br $w)))
        (local.get $s))"#;

/// A module with the list helpers of [`LIST`] between its imports and its functions.
fn list_module(e: &Engine, imports: &str, funcs: &str) -> Module {
    Module::new(e, format!("(module {imports} {LIST} {funcs})")).unwrap()
}

#[test]
fn a_collection_inside_a_host_call_keeps_the_callers_references() {
    let e = engine(Some(2 << 20));
    let wat = format!(
        r#"(module
      (import "host" "collect" (func $collect))
      {LIST}
      (func $inner (param $l (ref null $node)) (result i32)
        (call $collect)
        (call $sum (local.get $l)))
      ;; One list on the operand stack of this frame, one passed down to $inner.
      (func (export "run") (result i32) (local $r i32)
        (call $build (i32.const 100))
        (local.set $r (call $inner (call $build (i32.const 10))))
        (call $collect)
        (drop (call $build (i32.const 1000)))
        (call $collect)
        (i32.add (call $sum) (local.get $r)))
    )"#
    );
    let module = Module::new(&e, wat).unwrap();
    let mut store = Store::new(&e, ());
    let collect = Func::new(&mut store, FuncType::new([], []), |mut c, _, _| {
        c.gc();
        Ok(())
    })
    .unwrap();
    let inst = Instance::new(&mut store, &module, &[collect.into()]).unwrap();
    let (c0, _) = store.gc_stats();
    assert_eq!(call_i32(&mut store, inst, "run", &[]).unwrap(), 5050 + 55);
    assert_eq!(store.gc_stats().0, c0 + 3);
    // The 1000-node list died: the heap holds far less than it.
    store.gc();
    assert!(store.gc_stats().1 < 1000 * 16, "{:?}", store.gc_stats());
}

/// A struct held only by a parameter survives the collections its callee's allocations cause,
/// and the freed boxes around it are reused. (The translator must declare a parameter's
/// variable as a stack-map root before the entry block defines it; the fuzz targets' debug
/// build caught the opposite order as a Cranelift assertion. In a release build the later
/// `local.get` declares the same SSA value, so this test passes either way: the assertion is
/// what guards the order.)
#[test]
fn a_parameter_is_a_root() {
    const PARAM: &str = r#"
    (module
      (type $box (struct (field i32)))
      (func $churn (param $n i32)
        ;; Boxes of the same size, so a freed $b would be reused and read as 0.
        (loop $l
          (drop (struct.new $box (i32.const 0)))
          (local.set $n (i32.sub (local.get $n) (i32.const 1)))
          (br_if $l (local.get $n))))
      (func $hold (param $b (ref $box)) (result i32)
        (call $churn (i32.const 200000))
        (struct.get $box 0 (local.get $b)))
      (func (export "run") (result i32)
        (call $hold (struct.new $box (i32.const 1234)))))"#;
    let e = engine(Some(1 << 20));
    let (mut s, i) = common::setup(&e, PARAM, &[]);
    let (c0, _) = s.gc_stats();
    assert_eq!(call_i32(&mut s, i, "run", &[]).unwrap(), 1234);
    let (c1, _) = s.gc_stats();
    assert!(c1 > c0, "expected collections ({c0} -> {c1})");
}

/// The collector keeps dead objects' blocks for reuse (`vm/gc.rs`): a new object built in a
/// recycled block reads as a fresh one (every field and element zero, its own length), and
/// the survivors of a collection keep their contents.
#[test]
fn recycled_blocks_are_fresh_objects() {
    const RECYCLE: &str = r#"(module
      (type $s (struct (field (mut i64)) (field (mut i64)) (field (mut i32))))
      (type $a (array (mut i64)))
      (global $keep (mut (ref null $a)) (ref.null $a))
      (func (export "dirty") (param $n i32)
        (local $i i32)
        (global.set $keep (array.new $a (i64.const 42) (i32.const 8)))
        (loop $l
          (drop (struct.new $s (i64.const -1) (i64.const -1) (i32.const -1)))
          (drop (array.new $a (i64.const -1) (i32.const 8)))
          (drop (array.new $a (i64.const -1) (i32.const 3)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $l (i32.lt_u (local.get $i) (local.get $n)))))
      (func (export "clean") (param $n i32) (result i64)
        (local $i i32) (local $j i32) (local $r i64) (local $s (ref null $s)) (local $a (ref null $a))
        (loop $l
          (local.set $s (struct.new_default $s))
          (local.set $r (i64.or (local.get $r)
            (i64.or (struct.get $s 0 (local.get $s)) (struct.get $s 1 (local.get $s)))))
          (local.set $r (i64.or (local.get $r) (i64.extend_i32_u (struct.get $s 2 (local.get $s)))))
          (local.set $a (array.new_default $a (i32.const 8)))
          (if (i32.ne (array.len (local.get $a)) (i32.const 8)) (then (return (i64.const -2))))
          (local.set $j (i32.const 0))
          (loop $e
            (local.set $r (i64.or (local.get $r) (array.get $a (local.get $a) (local.get $j))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br_if $e (i32.lt_u (local.get $j) (i32.const 8))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
        (local.get $r))
      (func (export "kept") (result i64)
        (array.get $a (global.get $keep) (i32.const 7))))"#;
    let e = engine(Some(64 << 20));
    let (mut s, i) = common::setup(&e, RECYCLE, &[]);
    for _ in 0..3 {
        call(&mut s, i, "dirty", &[Val::I32(20_000)]).unwrap();
        s.gc();
        assert_eq!(
            call(&mut s, i, "clean", &[Val::I32(20_000)]).unwrap(),
            vec![Val::I64(0)]
        );
        assert_eq!(call(&mut s, i, "kept", &[]).unwrap(), vec![Val::I64(42)]);
    }
}

/// Collections inside nested host calls (wasm -> host -> wasm -> host) find the references of
/// the wasm frames below each host call, the outer ones included. (Each host call keeps a
/// record of the wasm->host shim's frame for the collector's walk; the records chain.)
#[test]
fn a_collection_inside_nested_host_calls_keeps_every_levels_references() {
    let e = engine(Some(2 << 20));
    let inner = list_module(
        &e,
        r#"(import "host" "collect" (func $collect))"#,
        r#"
        (func (export "deep") (result i32) (local $l (ref null $node))
          (local.set $l (call $build (i32.const 20)))
          (call $collect)
          (drop (call $build (i32.const 500)))
          (call $collect)
          (call $sum (local.get $l)))"#,
    );
    let outer = list_module(
        &e,
        r#"(import "host" "reenter" (func $reenter (result i32)))"#,
        r#"
        (func (export "run") (result i32) (local $r i32)
          (call $build (i32.const 100))
          (local.set $r (call $reenter))
          (drop (call $build (i32.const 500)))
          (local.set $r (i32.add (local.get $r) (call $reenter)))
          (i32.add (call $sum) (local.get $r)))"#,
    );
    let mut store = Store::new(&e, ());
    let collect = Func::new(&mut store, FuncType::new([], []), |mut c, _, _| {
        c.gc();
        Ok(())
    })
    .unwrap();
    let ii = Instance::new(&mut store, &inner, &[collect.into()]).unwrap();
    let deep = ii.get_func(&mut store, "deep").unwrap();
    let reenter = Func::new(
        &mut store,
        FuncType::new([], [ValType::I32]),
        move |mut c, _, results| {
            deep.call(&mut c, &[], results)?;
            Ok(())
        },
    )
    .unwrap();
    let oi = Instance::new(&mut store, &outer, &[reenter.into()]).unwrap();
    let (c0, _) = store.gc_stats();
    assert_eq!(
        call_i32(&mut store, oi, "run", &[]).unwrap(),
        5050 + 2 * 210
    );
    assert_eq!(store.gc_stats().0, c0 + 4);
    store.gc();
    assert!(store.gc_stats().1 < 500 * 16, "{:?}", store.gc_stats());
}

/// The same through typed host functions (`Func::wrap`, each with its own monomorphic entry),
/// after host calls that failed (a trap, a panic) at the inner level: each failure must still
/// pop its host-call record, or the next collection would follow a dead frame.
#[test]
fn collections_in_typed_host_calls_after_failed_ones() {
    let e = engine(Some(2 << 20));
    let inner = list_module(
        &e,
        r#"
        (import "host" "collect" (func $collect))
        (import "host" "fail" (func $fail (param i32)))"#,
        r#"
        (func (export "deep") (param $mode i32) (result i32) (local $l (ref null $node))
          (local.set $l (call $build (i32.const 20)))
          (call $collect)
          (call $fail (local.get $mode))
          (drop (call $build (i32.const 500)))
          (call $collect)
          (call $sum (local.get $l)))"#,
    );
    let outer = list_module(
        &e,
        r#"(import "host" "reenter" (func $reenter (param i32) (result i32)))"#,
        r#"
        (func (export "run") (param $mode i32) (result i32) (local $r i32)
          (call $build (i32.const 100))
          (local.set $r (call $reenter (local.get $mode)))
          (drop (call $build (i32.const 500)))
          (local.set $r (i32.add (local.get $r) (call $reenter (i32.const 0))))
          (i32.add (call $sum) (local.get $r)))"#,
    );
    let mut store = Store::new(&e, ());
    let collect = Func::wrap(&mut store, |mut c: Caller<'_, ()>| c.gc()).unwrap();
    let fail = Func::wrap(&mut store, |mode: i32| -> Result<(), Trap> {
        match mode {
            1 => Err(Trap::new("inner failure")),
            2 => panic!("inner panic"),
            _ => Ok(()),
        }
    })
    .unwrap();
    let ii = Instance::new(&mut store, &inner, &[collect.into(), fail.into()]).unwrap();
    let deep = ii.get_typed_func::<i32, i32>(&mut store, "deep").unwrap();
    let reenter = Func::wrap(&mut store, move |mut c: Caller<'_, ()>, mode: i32| {
        deep.call(&mut c, mode)
    })
    .unwrap();
    let oi = Instance::new(&mut store, &outer, &[reenter.into()]).unwrap();
    let run = oi.get_typed_func::<i32, i32>(&mut store, "run").unwrap();
    for round in 0..3 {
        assert_eq!(run.call(&mut store, 0).unwrap(), 5050 + 2 * 210, "{round}");
        let t = run.call(&mut store, 1).unwrap_err();
        assert_eq!(t.message(), "inner failure");
        let t = run.call(&mut store, 2).unwrap_err();
        assert_eq!(t.code(), TrapCode::Host);
        // Collections from the host between the runs see no stale record either.
        store.gc();
    }
    assert_eq!(run.call(&mut store, 0).unwrap(), 5050 + 2 * 210);
    store.gc();
    assert!(store.gc_stats().1 < 500 * 16, "{:?}", store.gc_stats());
}

/// Host-call records are kept per store: a host function of store A runs store B's wasm,
/// which collects inside one of B's host calls; then A collects while its own wasm caller
/// still holds a list. Each collection walks its own store's frames (B's from B's records,
/// A's from A's) and both lists survive.
#[test]
fn host_call_records_are_per_store() {
    let e = engine(Some(2 << 20));
    let b_mod = list_module(
        &e,
        r#"(import "host" "collect" (func $collect))"#,
        r#"
        (func (export "deep") (result i32) (local $l (ref null $node))
          (local.set $l (call $build (i32.const 20)))
          (drop (call $build (i32.const 500)))
          (call $collect)
          (call $sum (local.get $l)))"#,
    );
    let a_mod = list_module(
        &e,
        r#"(import "host" "other" (func $other (result i32)))"#,
        r#"
        (func (export "run") (result i32) (local $r i32)
          (call $build (i32.const 100))
          (drop (call $build (i32.const 500)))
          (local.set $r (call $other))
          (i32.add (call $sum) (local.get $r)))"#,
    );
    let mut b = Store::new(&e, ());
    let collect = Func::wrap(&mut b, |mut c: Caller<'_, ()>| c.gc()).unwrap();
    let bi = Instance::new(&mut b, &b_mod, &[collect.into()]).unwrap();
    let deep = bi.get_typed_func::<(), i32>(&mut b, "deep").unwrap();
    let mut a = Store::new(&e, Some(b));
    let other = Func::wrap(&mut a, move |mut c: Caller<'_, Option<Store<()>>>| {
        let b = c.data_mut().as_mut().unwrap();
        let (b0, _) = b.gc_stats();
        let r = deep.call(&mut *b, ()).unwrap();
        assert_eq!(b.gc_stats().0, b0 + 1);
        c.gc();
        r
    })
    .unwrap();
    let ai = Instance::new(&mut a, &a_mod, &[other.into()]).unwrap();
    let run = ai.get_typed_func::<(), i32>(&mut a, "run").unwrap();
    let (a0, _) = a.gc_stats();
    for _ in 0..3 {
        assert_eq!(run.call(&mut a, ()).unwrap(), 5050 + 210);
    }
    assert_eq!(a.gc_stats().0, a0 + 3);
    a.gc();
    assert!(a.gc_stats().1 < 500 * 16, "{:?}", a.gc_stats());
}
