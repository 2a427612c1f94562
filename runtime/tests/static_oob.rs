//! An access whose static offset and size end past its memory's maximum size traps whatever
//! its index, so the translator emits the trap and stops translating the block there
//! (`translate/memory.rs`). These tests pin the boundary (the last byte below the maximum is
//! still an ordinary access), that the trap is the ordinary out-of-bounds trap and comes after
//! everything before it, that nothing after it in its block runs, that the rest of the
//! function outside that block still does, and the same for memory64, SIMD lane accesses
//! and an imported memory (whose declared maximum bounds whatever it is linked to).

use lockstep_runtime::*;

const WAT: &str = r#"(module
    (import "host" "mem" (memory $imported 1 1))
    (memory $small 1 1)
    (memory $none 0 0)
    (memory $wide i64 1 2)
    (global $g (export "g") (mut i32) (i32.const 0))
    ;; The last byte below the maximum: an ordinary access.
    (func (export "edge") (result i32)
        (i32.store8 $small offset=65535 (i32.const 0) (i32.const 42))
        (i32.load8_u $small offset=65535 (i32.const 0)))
    ;; One byte further: traps after the first global.set, never reaches the second.
    (func (export "past") (result i32)
        (global.set $g (i32.const 1))
        (drop (i32.load16_u $small offset=65535 (i32.const 0)))
        (global.set $g (i32.const 2))
        (i32.const 7))
    ;; A memory with no byte at all, behind a branch: the function still runs when the
    ;; branch is not taken, and the code after the `if` runs.
    (func (export "branch") (param i32) (result i32)
        (if (local.get 0)
            (then
                (i64.store $none (i32.const 0) (i64.const 1))
                (global.set $g (i32.const 3))))
        (global.set $g (i32.add (global.get $g) (i32.const 10)))
        (global.get $g))
    ;; Inside a block with a result, then a loop after it that must still be compiled.
    (func (export "in_block") (param i32) (result i32)
        (local $i i32)
        (if (i32.eqz (local.get 0))
            (then (return (block (result i32) (i32.add (i32.load $none (i32.const 0)) (i32.const 1))))))
        (loop $l
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br_if $l (i32.lt_u (local.get $i) (local.get 0))))
        (local.get $i))
    ;; memory64, maximum 2 pages: offset + size = 2 pages exactly is not statically out of
    ;; bounds (it traps at 1 page, and works after growing); one byte more always traps.
    (func (export "wide_edge") (result i32)
        (i32.load $wide offset=131068 (i64.const 0)))
    (func (export "wide_past") (result i32)
        (i32.load $wide offset=131069 (i64.const 0)))
    (func (export "wide_grow") (result i64)
        (memory.grow $wide (i64.const 1)))
    ;; SIMD: a lane load and a lane store past the maximum.
    (func (export "lane_load") (result i32)
        (i32x4.extract_lane 0
            (v128.load32_lane $small offset=65533 0 (i32.const 0) (v128.const i64x2 0 0))))
    (func (export "lane_store")
        (v128.store64_lane $small offset=65529 1 (i32.const 0) (v128.const i64x2 0 0)))
    (func (export "lane_edge") (result i32)
        (v128.store64_lane $small offset=65528 1 (i32.const 0) (v128.const i64x2 5 6))
        (i32.load8_u $small offset=65528 (i32.const 0)))
    ;; The imported memory's declared maximum is 1 page.
    (func (export "imported_past") (param i32) (result i32)
        (i32.load $imported offset=65533 (local.get 0)))
    (func (export "imported_edge") (param i32) (result i32)
        (i32.load $imported offset=65532 (local.get 0)))
)"#;

struct Fixture {
    store: Store<()>,
    inst: Instance,
}

impl Fixture {
    fn new(explicit: bool) -> Fixture {
        let mut c = Config::new();
        c.wasm_multi_memory(true).wasm_memory64(true);
        if explicit {
            c.memory_reservation(16 * 65536)
                .bounds_checks(BoundsChecks::Explicit);
        }
        let engine = Engine::new(&c).unwrap();
        let module = Module::new(&engine, WAT).unwrap();
        let mut store = Store::new(&engine, ());
        let ty = MemoryType {
            minimum: 1,
            maximum: Some(1),
            memory64: false,
        };
        let imported = Memory::new(&mut store, ty).unwrap();
        let inst = Instance::new(&mut store, &module, &[Extern::Memory(imported)]).unwrap();
        Fixture { store, inst }
    }

    fn call<P: WasmParams, R: WasmResults>(&mut self, name: &str, p: P) -> Result<R, Trap> {
        let f = self
            .inst
            .get_typed_func::<P, R>(&mut self.store, name)
            .unwrap();
        f.call(&mut self.store, p)
    }

    fn g(&mut self) -> i32 {
        match self
            .inst
            .get_global(&mut self.store, "g")
            .unwrap()
            .get(&mut self.store)
        {
            Val::I32(v) => v,
            v => panic!("{v:?}"),
        }
    }
}

fn oob<T: std::fmt::Debug>(r: Result<T, Trap>, what: &str) {
    match r {
        Err(t) => assert_eq!(t.code(), TrapCode::MemoryOutOfBounds, "{what}"),
        other => panic!("{what}: expected an out-of-bounds trap, got {other:?}"),
    }
}

fn check(explicit: bool) {
    let mut f = Fixture::new(explicit);
    assert_eq!(f.call::<(), i32>("edge", ()).unwrap(), 42);

    oob(f.call::<(), i32>("past", ()), "past");
    assert_eq!(
        f.g(),
        1,
        "what comes before the access runs, what comes after does not"
    );

    assert_eq!(f.call::<i32, i32>("branch", 0).unwrap(), 11);
    oob(f.call::<i32, i32>("branch", 1), "branch taken");
    assert_eq!(f.g(), 11);

    oob(f.call::<i32, i32>("in_block", 0), "in a block");
    assert_eq!(f.call::<i32, i32>("in_block", 5).unwrap(), 5);

    oob(f.call::<(), i32>("wide_edge", ()), "memory64 at one page");
    assert_eq!(f.call::<(), i64>("wide_grow", ()).unwrap(), 1);
    assert_eq!(f.call::<(), i32>("wide_edge", ()).unwrap(), 0);
    oob(
        f.call::<(), i32>("wide_past", ()),
        "memory64 past the maximum",
    );

    oob(f.call::<(), i32>("lane_load", ()), "lane load");
    oob(f.call::<(), ()>("lane_store", ()), "lane store");
    assert_eq!(f.call::<(), i32>("lane_edge", ()).unwrap(), 6);

    assert_eq!(f.call::<i32, i32>("imported_edge", 0).unwrap(), 0);
    oob(f.call::<i32, i32>("imported_past", 0), "imported memory");
}

#[test]
fn accesses_past_the_maximum_trap_with_guard_pages() {
    check(false);
}

#[test]
fn accesses_past_the_maximum_trap_with_explicit_checks() {
    check(true);
}
