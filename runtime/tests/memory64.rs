//! memory64 and table64: 64-bit addresses are checked explicitly, effective addresses past
//! 2^64 trap instead of wrapping, sizes and growth are 64-bit, and memories above 4 GiB are
//! possible within the configured reservation.

use lockstep_runtime::*;

fn engine(reservation: u64) -> Engine {
    let mut config = Config::new();
    config
        .wasm_features(config::default_features() | WasmFeatures::MEMORY64)
        .memory_reservation(reservation);
    Engine::new(&config).unwrap()
}

fn setup(engine: &Engine, wat: &str) -> (Store<()>, Instance) {
    let module = Module::new(engine, wat).unwrap();
    let mut store = Store::new(engine, ());
    let inst = Instance::new(&mut store, &module, &[]).unwrap();
    (store, inst)
}

const MEM: &str = r#"(module
    (memory i64 1 4)
    (data (i64.const 0) "\01\02\03\04\05\06\07\08")
    (func (export "load") (param i64) (result i64) local.get 0 i64.load)
    (func (export "load_off") (param i64) (result i32) local.get 0 i32.load8_u offset=0xffffffff00000000)
    (func (export "load_max_off") (param i64) (result i32) local.get 0 i32.load8_u offset=0xffffffffffffffff)
    (func (export "store") (param i64 i64) local.get 0 local.get 1 i64.store)
    (func (export "size") (result i64) memory.size)
    (func (export "grow") (param i64) (result i64) local.get 0 memory.grow)
    (func (export "fill") (param i64 i64) local.get 0 i32.const 0xaa local.get 1 memory.fill)
    (func (export "copy") (param i64 i64 i64) local.get 0 local.get 1 local.get 2 memory.copy))"#;

fn oob<T: std::fmt::Debug>(r: Result<T, Trap>, what: &str) {
    assert_eq!(r.unwrap_err().code(), TrapCode::MemoryOutOfBounds, "{what}");
}

#[test]
fn addresses_near_2_64_trap_and_never_wrap() {
    let engine = engine(4 << 30);
    let (mut store, inst) = setup(&engine, MEM);
    let load = inst.get_typed_func::<i64, i64>(&mut store, "load").unwrap();
    assert_eq!(load.call(&mut store, 0).unwrap(), 0x0807_0605_0403_0201);
    assert_eq!(load.call(&mut store, 65536 - 8).unwrap(), 0);
    for a in [65536 - 7, 65536, 1 << 32, 1 << 47, i64::MAX, -8, -1] {
        oob(load.call(&mut store, a), &format!("load at {a:#x}"));
    }
    // index + offset wraps to 0..8 in 64 bits: must trap, not read the data segment.
    let off = inst
        .get_typed_func::<i64, i32>(&mut store, "load_off")
        .unwrap();
    for a in [0x1_0000_0000, 0x1_0000_0001, 0x1_0000_0007, 0, 0xffff] {
        oob(off.call(&mut store, a), &format!("offset load at {a:#x}"));
    }
    let max_off = inst
        .get_typed_func::<i64, i32>(&mut store, "load_max_off")
        .unwrap();
    for a in [0, 1, 2, -1] {
        oob(
            max_off.call(&mut store, a),
            &format!("max-offset load at {a:#x}"),
        );
    }
    let store_ = inst
        .get_typed_func::<(i64, i64), ()>(&mut store, "store")
        .unwrap();
    oob(store_.call(&mut store, (-4, 7)), "store across 2^64");
    assert_eq!(load.call(&mut store, 0).unwrap(), 0x0807_0605_0403_0201);
    // Bulk operations check with the same care.
    let fill = inst
        .get_typed_func::<(i64, i64), ()>(&mut store, "fill")
        .unwrap();
    oob(fill.call(&mut store, (-1, 2)), "fill across 2^64");
    oob(fill.call(&mut store, (8, -1)), "fill of 2^64 - 1 bytes");
    fill.call(&mut store, (65536, 0)).unwrap();
    let copy = inst
        .get_typed_func::<(i64, i64, i64), ()>(&mut store, "copy")
        .unwrap();
    oob(copy.call(&mut store, (0, -1, 2)), "copy from across 2^64");
    oob(copy.call(&mut store, (-1, 0, 2)), "copy to across 2^64");
    assert_eq!(load.call(&mut store, 0).unwrap(), 0x0807_0605_0403_0201);
}

#[test]
fn sizes_and_growth_are_64_bit() {
    let engine = engine(4 << 30);
    let (mut store, inst) = setup(&engine, MEM);
    let size = inst.get_typed_func::<(), i64>(&mut store, "size").unwrap();
    let grow = inst.get_typed_func::<i64, i64>(&mut store, "grow").unwrap();
    assert_eq!(size.call(&mut store, ()).unwrap(), 1);
    for delta in [1 << 32, 1 << 48, i64::MAX, -1, 4] {
        assert_eq!(
            grow.call(&mut store, delta).unwrap(),
            -1,
            "grow by {delta:#x}"
        );
    }
    assert_eq!(grow.call(&mut store, 3).unwrap(), 1);
    assert_eq!(size.call(&mut store, ()).unwrap(), 4);
    let load = inst.get_typed_func::<i64, i64>(&mut store, "load").unwrap();
    assert_eq!(load.call(&mut store, 4 * 65536 - 8).unwrap(), 0);
    oob(load.call(&mut store, 4 * 65536 - 7), "past the grown end");
}

#[test]
fn memories_above_4_gib_within_the_reservation() {
    let wat = r#"(module
        (memory (export "m") i64 65537)
        (func (export "store") (param i64 i64) local.get 0 local.get 1 i64.store)
        (func (export "load") (param i64) (result i64) local.get 0 i64.load)
        (func (export "grow") (param i64) (result i64) local.get 0 memory.grow))"#;
    // The default 4 GiB reservation cannot hold 4 GiB + 1 page: a clear error.
    let small = engine(4 << 30);
    let module = Module::new(&small, wat).unwrap();
    let mut store = Store::new(&small, ());
    let e = Instance::new(&mut store, &module, &[]).unwrap_err();
    assert!(e.to_string().contains("memory minimum too large"), "{e}");

    let big = engine(6 << 30);
    let (mut store, inst) = setup(&big, wat);
    let st = inst
        .get_typed_func::<(i64, i64), ()>(&mut store, "store")
        .unwrap();
    let load = inst.get_typed_func::<i64, i64>(&mut store, "load").unwrap();
    let grow = inst.get_typed_func::<i64, i64>(&mut store, "grow").unwrap();
    let end = 65537 * 65536;
    st.call(&mut store, (end - 8, 0x1234_5678)).unwrap();
    assert_eq!(load.call(&mut store, end - 8).unwrap(), 0x1234_5678);
    st.call(&mut store, (1 << 32, 42)).unwrap();
    assert_eq!(load.call(&mut store, 1 << 32).unwrap(), 42);
    assert_eq!(
        load.call(&mut store, 0).unwrap(),
        0,
        "4 GiB apart: no aliasing"
    );
    oob(load.call(&mut store, end - 7), "past 4 GiB + 1 page");
    // Growth stops at the 6 GiB reservation.
    assert_eq!(grow.call(&mut store, 32768).unwrap(), -1);
    assert_eq!(grow.call(&mut store, 32767).unwrap(), 65537);
    oob(load.call(&mut store, 6 << 30), "past the reservation");
}

#[test]
fn table64_indices_sizes_and_growth() {
    let engine = engine(4 << 30);
    let (mut store, inst) = setup(
        &engine,
        r#"(module
            (type $r (func (result i32)))
            (table $t i64 2 funcref)
            (elem (table $t) (i64.const 1) func $seven)
            (func $seven (result i32) i32.const 7)
            (func (export "call") (param i64) (result i32)
              local.get 0 call_indirect $t (type $r))
            (func (export "is_null") (param i64) (result i32)
              local.get 0 table.get $t ref.is_null)
            (func (export "size") (result i64) table.size $t)
            (func (export "grow") (param i64) (result i64)
              ref.null func local.get 0 table.grow $t)
            (func (export "fill") (param i64 i64)
              local.get 0 ref.null func local.get 1 table.fill $t))"#,
    );
    let call = inst.get_typed_func::<i64, i32>(&mut store, "call").unwrap();
    assert_eq!(call.call(&mut store, 1).unwrap(), 7);
    for i in [2, 1 << 32, (1 << 32) + 1, -1] {
        let t = call.call(&mut store, i).unwrap_err();
        assert_eq!(t.code(), TrapCode::UndefinedElement, "call_indirect {i:#x}");
    }
    let is_null = inst
        .get_typed_func::<i64, i32>(&mut store, "is_null")
        .unwrap();
    assert_eq!(is_null.call(&mut store, 0).unwrap(), 1);
    for i in [2, 1 << 32, -1] {
        let t = is_null.call(&mut store, i).unwrap_err();
        assert_eq!(t.code(), TrapCode::TableOutOfBounds, "table.get {i:#x}");
    }
    let size = inst.get_typed_func::<(), i64>(&mut store, "size").unwrap();
    let grow = inst.get_typed_func::<i64, i64>(&mut store, "grow").unwrap();
    assert_eq!(grow.call(&mut store, 1 << 40).unwrap(), -1);
    assert_eq!(grow.call(&mut store, -1).unwrap(), -1);
    assert_eq!(grow.call(&mut store, 3).unwrap(), 2);
    assert_eq!(size.call(&mut store, ()).unwrap(), 5);
    let fill = inst
        .get_typed_func::<(i64, i64), ()>(&mut store, "fill")
        .unwrap();
    let t = fill.call(&mut store, (-1, 2)).unwrap_err();
    assert_eq!(t.code(), TrapCode::TableOutOfBounds);
    fill.call(&mut store, (0, 5)).unwrap();
    let t = call.call(&mut store, 1).unwrap_err();
    assert_eq!(t.code(), TrapCode::UninitializedElement);
}

#[test]
fn memory64_is_rejected_when_switched_off() {
    let e = Module::new(&Engine::default(), "(module (memory i64 1))")
        .err()
        .expect("memory64 is off by default");
    assert!(matches!(e, Error::Invalid(_)), "{e:?}");
    assert!(e.to_string().contains("memory64"), "{e}");
}
