//! Generated code reads each memory's base address from a copy in the instance's context, made
//! once at instantiation and loaded as readonly (so it may be hoisted across calls and
//! `memory.grow`). That is only right because a memory's base never moves. These tests grow
//! memories every way there is (wasm `memory.grow` inside a loop that keeps accessing memory,
//! the host's `Memory::grow`, growth of an imported memory by its exporter, memory64, a second
//! memory, a small reservation with explicit bounds checks) and check after each growth that
//! wasm and the host see the same bytes at the same addresses.

use lockstep_runtime::*;

const PAGE: u64 = 65536;

fn engine(explicit: bool) -> Engine {
    let mut c = Config::new();
    c.wasm_multi_memory(true).wasm_memory64(true);
    if explicit {
        // A reservation below 4 GiB makes every 32-bit access checked explicitly.
        c.memory_reservation(16 * PAGE)
            .bounds_checks(BoundsChecks::Explicit);
    }
    Engine::new(&c).unwrap()
}

/// A module importing memory 0 (32-bit) and defining memory 1 (memory64). `fill(m, pages)`
/// grows memory `m` by one page at a time up to `pages` pages and, after each growth, stores
/// the page number at the start of the new page and re-reads every page written so far, all in
/// one loop, so a base read before a `memory.grow` is used after it.
const WAT: &str = r#"(module
    (import "host" "mem" (memory $m0 0))
    (memory $m1 i64 0)
    (func (export "fill0") (param $pages i32) (result i32)
        (local $p i32) (local $i i32) (local $sum i32)
        (block $done
            (loop $grow
                (br_if $done (i32.ge_u (memory.size $m0) (local.get $pages)))
                (local.set $p (memory.grow $m0 (i32.const 1)))
                (br_if $done (i32.eq (local.get $p) (i32.const -1)))
                (i32.store $m0 (i32.mul (local.get $p) (i32.const 65536))
                    (i32.add (local.get $p) (i32.const 1)))
                (local.set $i (i32.const 0))
                (local.set $sum (i32.const 0))
                (loop $read
                    (local.set $sum (i32.add (local.get $sum)
                        (i32.load $m0 (i32.mul (local.get $i) (i32.const 65536)))))
                    (local.set $i (i32.add (local.get $i) (i32.const 1)))
                    (br_if $read (i32.le_u (local.get $i) (local.get $p))))
                (br $grow)))
        (i32.add (local.get $sum) (i32.mul (memory.size $m0) (i32.const 1000))))
    (func (export "fill1") (param $pages i64) (result i64)
        (local $p i64) (local $i i64) (local $sum i64)
        (block $done
            (loop $grow
                (br_if $done (i64.ge_u (memory.size $m1) (local.get $pages)))
                (local.set $p (memory.grow $m1 (i64.const 1)))
                (br_if $done (i64.eq (local.get $p) (i64.const -1)))
                (i64.store $m1 (i64.mul (local.get $p) (i64.const 65536))
                    (i64.add (local.get $p) (i64.const 1)))
                (local.set $i (i64.const 0))
                (local.set $sum (i64.const 0))
                (loop $read
                    (local.set $sum (i64.add (local.get $sum)
                        (i64.load $m1 (i64.mul (local.get $i) (i64.const 65536)))))
                    (local.set $i (i64.add (local.get $i) (i64.const 1)))
                    (br_if $read (i64.le_u (local.get $i) (local.get $p))))
                (br $grow)))
        (i64.add (local.get $sum) (i64.mul (memory.size $m1) (i64.const 1000))))
    (func (export "load0") (param i32) (result i32) (i32.load $m0 (local.get 0)))
    (func (export "store0") (param i32 i32) (i32.store $m0 (local.get 0) (local.get 1)))
    (func (export "load1") (param i64) (result i64) (i64.load $m1 (local.get 0)))
    (export "mem1" (memory $m1))
)"#;

fn check(explicit: bool) {
    let engine = engine(explicit);
    let module = Module::new(&engine, WAT).unwrap();
    let mut store = Store::new(&engine, ());
    let ty = MemoryType {
        minimum: 0,
        maximum: None,
        memory64: false,
    };
    let mem0 = Memory::new(&mut store, ty).unwrap();
    let inst = Instance::new(&mut store, &module, &[mem0.into()]).unwrap();
    let fill0 = inst
        .get_typed_func::<i32, i32>(&mut store, "fill0")
        .unwrap();
    let fill1 = inst
        .get_typed_func::<i64, i64>(&mut store, "fill1")
        .unwrap();
    let load0 = inst
        .get_typed_func::<i32, i32>(&mut store, "load0")
        .unwrap();
    let store0 = inst
        .get_typed_func::<(i32, i32), ()>(&mut store, "store0")
        .unwrap();
    let load1 = inst
        .get_typed_func::<i64, i64>(&mut store, "load1")
        .unwrap();

    // Grown by wasm from 0 pages: pages hold 1, 2, 3, 4; the sum 10 plus 4 pages * 1000.
    assert_eq!(fill0.call(&mut store, 4).unwrap(), 4010);
    assert_eq!(fill1.call(&mut store, 3).unwrap(), 3006);
    for p in 0..4u64 {
        let at = (p * PAGE) as usize;
        let host = &mem0.data(&mut store)[at..at + 4];
        assert_eq!(u32::from_le_bytes(host.try_into().unwrap()), p as u32 + 1);
    }
    let mem1 = inst.get_memory(&mut store, "mem1").unwrap();
    for p in 0..3u64 {
        let at = (p * PAGE) as usize;
        let host = &mem1.data(&mut store)[at..at + 8];
        assert_eq!(u64::from_le_bytes(host.try_into().unwrap()), p + 1);
        assert_eq!(
            load1.call(&mut store, (p * PAGE) as i64).unwrap(),
            p as i64 + 1
        );
    }

    // Grown by the host: wasm reaches the new page at the address the host writes.
    assert!(load0.call(&mut store, (4 * PAGE) as i32).is_err());
    assert_eq!(mem0.grow(&mut store, 2).unwrap(), 4);
    let at = (5 * PAGE + 8) as usize;
    mem0.data_mut(&mut store)[at..at + 4].copy_from_slice(&77u32.to_le_bytes());
    assert_eq!(load0.call(&mut store, at as i32).unwrap(), 77);
    store0.call(&mut store, (at as i32 + 4, 99)).unwrap();
    let host = &mem0.data(&mut store)[at + 4..at + 8];
    assert_eq!(u32::from_le_bytes(host.try_into().unwrap()), 99);
    assert!(load0.call(&mut store, (6 * PAGE) as i32).is_err());
    // And again by wasm, on top of the host's growth.
    assert_eq!(fill0.call(&mut store, 8).unwrap(), 10 + 7 + 8 + 8000);
}

#[test]
fn base_copy_survives_growth_with_guard_pages() {
    check(false);
}

#[test]
fn base_copy_survives_growth_with_explicit_checks() {
    check(true);
}

/// An exporter's memory grown after an importer was instantiated: the importer's copy of the
/// base still addresses the same bytes.
#[test]
fn imported_memory_grown_by_its_exporter() {
    let engine = engine(false);
    let exporter = Module::new(
        &engine,
        r#"(module (memory (export "m") 1)
            (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
            (func (export "store") (param i32 i32) (i32.store (local.get 0) (local.get 1))))"#,
    )
    .unwrap();
    let importer = Module::new(
        &engine,
        r#"(module (import "e" "m" (memory 1))
            (func (export "load") (param i32) (result i32) (i32.load (local.get 0))))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let e = Instance::new(&mut store, &exporter, &[]).unwrap();
    let m = e.get_memory(&mut store, "m").unwrap();
    let i = Instance::new(&mut store, &importer, &[m.into()]).unwrap();
    let grow = e.get_typed_func::<i32, i32>(&mut store, "grow").unwrap();
    let put = e
        .get_typed_func::<(i32, i32), ()>(&mut store, "store")
        .unwrap();
    let load = i.get_typed_func::<i32, i32>(&mut store, "load").unwrap();
    put.call(&mut store, (16, 5)).unwrap();
    assert_eq!(load.call(&mut store, 16).unwrap(), 5);
    assert!(load.call(&mut store, PAGE as i32).is_err());
    assert_eq!(grow.call(&mut store, 3).unwrap(), 1);
    put.call(&mut store, (3 * PAGE as i32 + 12, 6)).unwrap();
    assert_eq!(load.call(&mut store, 3 * PAGE as i32 + 12).unwrap(), 6);
    assert_eq!(load.call(&mut store, 16).unwrap(), 5);
}
