//! `array.new` in a global's initialiser (instance.rs `fill_array`): every element holds the
//! value, for each element size, for lengths around the fill's doubling steps; and a zero value
//! (for which nothing is written into the object) reads as zero in a block a dirty array of the
//! same size was freed from.

use lockstep_runtime::*;

fn engine() -> Engine {
    let mut c = Config::new();
    c.wasm_function_references(true).wasm_gc(true);
    Engine::new(&c).unwrap()
}

/// `get` reads element `(local.get 0)` of the array as an i64; `ARR` stands for its operands.
fn check(engine: &Engine, storage: &str, value: &str, len: u32, get: &str, expect: i64) {
    let get = get.replace("ARR", "(global.get $g) (local.get 0)");
    let wat = format!(
        r#"(module
             (type $a (array (mut {storage})))
             (global $g (ref $a) (array.new $a ({value}) (i32.const {len})))
             (func (export "len") (result i32) (array.len (global.get $g)))
             (func (export "get") (param i32) (result i64)
               {get}))"#
    );
    let module = Module::new(engine, &wat).unwrap();
    let mut store = Store::new(engine, ());
    let inst = Instance::new(&mut store, &module, &[]).unwrap();
    let n = inst.get_typed_func::<(), i32>(&mut store, "len").unwrap();
    assert_eq!(n.call(&mut store, ()).unwrap() as u32, len);
    let get = inst.get_typed_func::<i32, i64>(&mut store, "get").unwrap();
    for i in 0..len {
        assert_eq!(
            get.call(&mut store, i as i32).unwrap(),
            expect,
            "{storage} {value} len {len} index {i}"
        );
    }
}

#[test]
fn const_array_new_fills_every_element() {
    let engine = engine();
    for len in [0, 1, 7, 8, 9, 15, 16, 17, 100, 1000, 4097] {
        check(
            &engine,
            "i8",
            "i32.const -3",
            len,
            "(i64.extend_i32_u (array.get_u $a ARR))",
            253,
        );
        check(
            &engine,
            "i16",
            "i32.const 0x1234",
            len,
            "(i64.extend_i32_s (array.get_s $a ARR))",
            0x1234,
        );
        check(
            &engine,
            "i32",
            "i32.const -7",
            len,
            "(i64.extend_i32_s (array.get $a ARR))",
            -7,
        );
        check(
            &engine,
            "i64",
            "i64.const 0x0102030405060708",
            len,
            "(array.get $a ARR)",
            0x0102030405060708,
        );
        check(
            &engine,
            "f64",
            "f64.const -1.5",
            len,
            "(i64.reinterpret_f64 (array.get $a ARR))",
            (-1.5f64).to_bits() as i64,
        );
        check(
            &engine,
            "v128",
            "v128.const i64x2 5 6",
            len,
            "(i64x2.extract_lane 1 (array.get $a ARR))",
            6,
        );
    }
}

#[test]
fn const_array_new_of_zero_reads_zero_in_a_reused_block() {
    let engine = engine();
    let dirty = Module::new(
        &engine,
        r#"(module
             (type $a (array (mut i64)))
             (func (export "garbage")
               (drop (array.new $a (i64.const -1) (i32.const 1000)))))"#,
    )
    .unwrap();
    let clean = Module::new(
        &engine,
        r#"(module
             (type $a (array (mut i64)))
             (global $g (ref $a) (array.new $a (i64.const 0) (i32.const 1000)))
             (func (export "get") (param i32) (result i64)
               (array.get $a (global.get $g) (local.get 0))))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let inst = Instance::new(&mut store, &dirty, &[]).unwrap();
    let garbage = inst
        .get_typed_func::<(), ()>(&mut store, "garbage")
        .unwrap();
    for _ in 0..4 {
        garbage.call(&mut store, ()).unwrap();
    }
    store.gc();
    let inst = Instance::new(&mut store, &clean, &[]).unwrap();
    let get = inst.get_typed_func::<i32, i64>(&mut store, "get").unwrap();
    for i in 0..1000 {
        assert_eq!(get.call(&mut store, i).unwrap(), 0, "index {i}");
    }
}
