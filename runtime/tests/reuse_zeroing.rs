//! Pooled linear-memory reservations are zeroed in place up to 2 MiB (writing only the pages
//! that are not already zero) and dropped with `madvise` above: either way a reused memory reads
//! as zero everywhere, whatever size the reservation's previous memory had.

use lockstep_runtime::*;

/// A module whose memory of `pages` pages gets a nonzero word at every 4 KiB page's start and
/// end from `dirty`, and whose `sum` ORs together every word of the memory.
fn module(engine: &Engine, pages: u32) -> Module {
    Module::new(
        engine,
        format!(
            r#"(module (memory {pages})
                 (func (export "dirty") (local $a i32)
                   (loop $l
                     (i32.store (local.get $a) (i32.const -1))
                     (i32.store offset=4092 (local.get $a) (i32.const 0x5a5a))
                     (local.set $a (i32.add (local.get $a) (i32.const 4096)))
                     (br_if $l (i32.lt_u (local.get $a) (i32.mul (memory.size) (i32.const 65536))))))
                 (func (export "sum") (result i32) (local $a i32) (local $s i32)
                   (loop $l
                     (local.set $s (i32.or (local.get $s) (i32.load (local.get $a))))
                     (local.set $a (i32.add (local.get $a) (i32.const 4)))
                     (br_if $l (i32.lt_u (local.get $a) (i32.mul (memory.size) (i32.const 65536)))))
                   (local.get $s)))"#
        ),
    )
    .unwrap()
}

#[test]
fn reused_memories_of_every_size_read_zero() {
    let engine = Engine::default();
    // 1 page (in place), 8 pages (512 KiB: was madvise, now in place), 32 pages (2 MiB, the
    // largest in place) and 40 pages (madvise), in an order that hands each size reservations
    // last used by the others.
    let mods: Vec<(u32, Module)> = [1, 8, 32, 40, 8, 1, 40, 32]
        .into_iter()
        .map(|p| (p, module(&engine, p)))
        .collect();
    for round in 0..6 {
        for (pages, m) in &mods {
            let mut store = Store::new(&engine, ());
            let inst = Instance::new(&mut store, m, &[]).unwrap();
            let sum = inst.get_typed_func::<(), i32>(&mut store, "sum").unwrap();
            assert_eq!(
                sum.call(&mut store, ()).unwrap(),
                0,
                "round {round}, {pages} pages"
            );
            // Every other instance only reads its memory (its pages may map the zero page).
            if round % 2 == 0 {
                let dirty = inst.get_typed_func::<(), ()>(&mut store, "dirty").unwrap();
                dirty.call(&mut store, ()).unwrap();
                assert_ne!(sum.call(&mut store, ()).unwrap(), 0);
            }
        }
    }
}
