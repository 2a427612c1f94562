//! Linear-memory reservations and code blocks are pooled and reused after their instance or
//! module is dropped (vm/memory.rs, vm/code.rs): whatever comes out of a pool must look fresh.

use lockstep_runtime::*;

/// A memory that grew and was written all over, then dropped: the next memory (very likely the
/// same reservation) reads as zero, has its own size, and traps past it.
#[test]
fn reused_memory_is_zero_and_bounded() {
    let engine = Engine::default();
    let dirty = Module::new(
        &engine,
        r#"(module (memory 1)
             (func (export "dirty")
               (drop (memory.grow (i32.const 2)))
               (i32.store (i32.const 0) (i32.const -1))
               (i32.store (i32.const 65532) (i32.const -1))
               (i32.store (i32.const 65536) (i32.const -1))
               (i32.store (i32.const 196604) (i32.const -1))))"#,
    )
    .unwrap();
    let clean = Module::new(
        &engine,
        r#"(module (memory 1)
             (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
             (func (export "size") (result i32) (memory.size)))"#,
    )
    .unwrap();
    for _ in 0..20 {
        {
            let mut store = Store::new(&engine, ());
            let inst = Instance::new(&mut store, &dirty, &[]).unwrap();
            let f = inst.get_typed_func::<(), ()>(&mut store, "dirty").unwrap();
            f.call(&mut store, ()).unwrap();
        }
        let mut store = Store::new(&engine, ());
        let inst = Instance::new(&mut store, &clean, &[]).unwrap();
        let load = inst.get_typed_func::<i32, i32>(&mut store, "load").unwrap();
        let size = inst.get_typed_func::<(), i32>(&mut store, "size").unwrap();
        assert_eq!(size.call(&mut store, ()).unwrap(), 1);
        assert_eq!(load.call(&mut store, 0).unwrap(), 0);
        assert_eq!(load.call(&mut store, 65532).unwrap(), 0);
        for addr in [65536, 196604] {
            assert_eq!(
                load.call(&mut store, addr).unwrap_err().code(),
                TrapCode::MemoryOutOfBounds
            );
        }
    }
}

/// Modules compiled one after another into reused code blocks run their own code, including
/// a smaller module after a larger one (the larger one's code past the end must not matter).
#[test]
fn reused_code_runs_the_new_module() {
    let engine = Engine::default();
    for k in 0..20 {
        let funcs = if k % 2 == 0 { 40 } else { 2 };
        let mut wat = String::from("(module");
        for i in 0..funcs {
            wat.push_str(&format!(
                " (func (export \"f{i}\") (result i32) (i32.add (i32.const {k}) (i32.const {i})))"
            ));
        }
        wat.push(')');
        let module = Module::new(&engine, &wat).unwrap();
        let mut store = Store::new(&engine, ());
        let inst = Instance::new(&mut store, &module, &[]).unwrap();
        for i in 0..funcs {
            let f = inst
                .get_typed_func::<(), i32>(&mut store, &format!("f{i}"))
                .unwrap();
            assert_eq!(f.call(&mut store, ()).unwrap(), k + i);
        }
    }
}

/// Both ways a dropped memory is zeroed for reuse (in place when small, `madvise` when larger
/// than 256 KiB): memories of 3 and 8 pages are written on every page and dropped, and the
/// next memory, grown to 8 pages, reads as zero everywhere (an OR of every word).
#[test]
fn reused_memory_is_zero_after_either_release() {
    let engine = Engine::default();
    let dirty = Module::new(
        &engine,
        r#"(module (memory 1)
             (func (export "dirty") (param $pages i32) (local $a i32)
               (drop (memory.grow (i32.sub (local.get $pages) (i32.const 1))))
               (loop $l
                 (i64.store (local.get $a) (i64.const -1))
                 (local.set $a (i32.add (local.get $a) (i32.const 4088)))
                 (br_if $l (i32.lt_u (local.get $a)
                   (i32.sub (i32.mul (local.get $pages) (i32.const 65536)) (i32.const 8)))))))"#,
    )
    .unwrap();
    let clean = Module::new(
        &engine,
        r#"(module (memory 1)
             (func (export "or_all") (result i64) (local $a i32) (local $r i64)
               (drop (memory.grow (i32.const 7)))
               (loop $l
                 (local.set $r (i64.or (local.get $r) (i64.load (local.get $a))))
                 (local.set $a (i32.add (local.get $a) (i32.const 8)))
                 (br_if $l (i32.lt_u (local.get $a) (i32.const 524288))))
               (local.get $r)))"#,
    )
    .unwrap();
    for pages in [3, 8, 3, 8, 1] {
        for _ in 0..4 {
            let mut store = Store::new(&engine, ());
            let inst = Instance::new(&mut store, &dirty, &[]).unwrap();
            let f = inst.get_typed_func::<i32, ()>(&mut store, "dirty").unwrap();
            f.call(&mut store, pages).unwrap();
        }
        let mut store = Store::new(&engine, ());
        let inst = Instance::new(&mut store, &clean, &[]).unwrap();
        let f = inst
            .get_typed_func::<(), i64>(&mut store, "or_all")
            .unwrap();
        assert_eq!(
            f.call(&mut store, ()).unwrap(),
            0,
            "after {pages}-page memories"
        );
    }
}
