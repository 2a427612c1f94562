//! Multi-memory: every memory of an instance has its own reservation and guard, and an access
//! to one memory at or past its boundary traps without touching any other memory's bytes.

use lockstep_runtime::*;

/// (pages, maximum) of the imported memory (index 0) and the three defined ones.
const MEMORIES: [(u64, Option<u64>); 4] = [(1, Some(1)), (0, None), (1, None), (2, Some(3))];
/// Store instruction, load instruction and width of every access tested.
const ACCESSES: [(&str, &str, u64); 5] = [
    ("i32.store8", "i32.load8_u", 1),
    ("i32.store16", "i32.load16_u", 2),
    ("i32.store", "i32.load", 4),
    ("i64.store", "i64.load", 8),
    ("v128.store", "v128.load", 16),
];
const OFFSETS: [u64; 3] = [0, 1, 65536];

fn module_text() -> String {
    let mut wat = String::from("(module (import \"host\" \"mem\" (memory 1 1))\n");
    for &(min, max) in &MEMORIES[1..] {
        let max = max.map(|m| m.to_string()).unwrap_or_default();
        wat += &format!("(memory {min} {max})\n");
    }
    for m in 0..MEMORIES.len() {
        for (store, load, w) in ACCESSES {
            for off in OFFSETS {
                let (zero, result) = if w == 16 {
                    ("v128.const i64x2 -1 -1", "v128")
                } else if w == 8 {
                    ("i64.const -1", "i64")
                } else {
                    ("i32.const -1", "i32")
                };
                wat += &format!(
                    "(func (export \"store{m}_{w}_{off}\") (param i32) local.get 0 {zero} \
                     {store} {m} offset={off})\n\
                     (func (export \"load{m}_{w}_{off}\") (param i32) (result {result}) \
                     local.get 0 {load} {m} offset={off})\n"
                );
            }
        }
        wat += &format!(
            "(func (export \"grow{m}\") (param i32) (result i32) local.get 0 memory.grow {m})\n"
        );
    }
    wat += "(func (export \"copy\") (param i32 i32 i32 i32) \
            local.get 0 local.get 1 local.get 2 memory.copy 3 2 \
            local.get 0 local.get 1 local.get 3 memory.copy 2 3))\n";
    wat
}

struct Fixture {
    store: Store<()>,
    inst: Instance,
}

impl Fixture {
    fn new(config: &Config) -> Fixture {
        let mut config = config.clone();
        config.wasm_features(config::default_features() | WasmFeatures::MULTI_MEMORY);
        let engine = Engine::new(&config).unwrap();
        let module = Module::new(&engine, module_text()).unwrap();
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

    fn func<P: WasmParams, R: WasmResults>(&mut self, name: &str) -> TypedFunc<P, R> {
        self.inst.get_typed_func(&mut self.store, name).unwrap()
    }

    fn size(&mut self, m: usize) -> u64 {
        let grow = self.func::<i32, i32>(&format!("grow{m}"));
        grow.call(&mut self.store, 0).unwrap() as u64 * 65536
    }

    /// Every byte of memory `m`, read with 8-byte loads.
    fn contents(&mut self, m: usize) -> Vec<u8> {
        let size = self.size(m);
        let load = self.func::<i32, i64>(&format!("load{m}_8_0"));
        let mut out = Vec::with_capacity(size as usize);
        for a in (0..size).step_by(8) {
            let v = load.call(&mut self.store, a as i32).unwrap();
            out.extend_from_slice(&v.to_le_bytes());
        }
        out
    }
}

fn check_boundaries(config: &Config) {
    let mut f = Fixture::new(config);
    // What every memory must hold: stores write all-ones bytes, a trapping store nothing.
    let mut expected: Vec<Vec<u8>> = (0..MEMORIES.len()).map(|m| f.contents(m)).collect();
    for (m, bytes) in expected.iter().enumerate() {
        assert_eq!(bytes.len() as u64, MEMORIES[m].0 * 65536);
    }
    for m in 0..MEMORIES.len() {
        let len = f.size(m);
        for (_, _, w) in ACCESSES {
            for off in OFFSETS {
                let store = f.func::<i32, ()>(&format!("store{m}_{w}_{off}"));
                let load = f
                    .inst
                    .get_func(&mut f.store, &format!("load{m}_{w}_{off}"))
                    .unwrap();
                // Every index whose access ends within 2 bytes of the boundary, both sides,
                // and indices whose effective address needs 33 bits.
                let near = (len + 2).saturating_sub(off + w);
                let mut indices: Vec<u64> = (near.saturating_sub(4)..=near).collect();
                indices.extend([0, 0x7fff_ffff, 0x8000_0000, 0xffff_fff0, 0xffff_ffff]);
                for a in indices.into_iter().filter(|&a| a <= u64::from(u32::MAX)) {
                    let ok = a + off + w <= len;
                    let r = store.call(&mut f.store, a as i32);
                    let mut out = [Val::I32(0)];
                    let l = load.call(&mut f.store, &[Val::I32(a as i32)], &mut out);
                    if ok {
                        r.unwrap();
                        l.unwrap();
                        let at = (a + off) as usize;
                        expected[m][at..at + w as usize].fill(0xff);
                    } else {
                        let what = format!("memory {m} index {a:#x} offset {off} width {w}");
                        assert_eq!(r.unwrap_err().code(), TrapCode::MemoryOutOfBounds, "{what}");
                        let e = l.unwrap_err();
                        assert!(
                            matches!(&e, Error::Trap(t) if t.code() == TrapCode::MemoryOutOfBounds),
                            "{what}: {e:?}"
                        );
                    }
                }
            }
        }
        // Only the in-bounds stores to `m` changed anything.
        for (other, bytes) in expected.iter().enumerate() {
            assert!(
                &f.contents(other) == bytes,
                "memory {other} after accesses to {m}"
            );
        }
    }
    // Growing one memory moves only its boundary.
    let grow = f.func::<i32, i32>("grow3");
    assert_eq!(grow.call(&mut f.store, 1).unwrap(), 2);
    assert_eq!(
        grow.call(&mut f.store, 1).unwrap(),
        -1,
        "maximum is 3 pages"
    );
    let store3 = f.func::<i32, ()>("store3_8_0");
    store3.call(&mut f.store, 3 * 65536 - 8).unwrap();
    let store2 = f.func::<i32, ()>("store2_8_0");
    let t = store2.call(&mut f.store, 65536 - 7).unwrap_err();
    assert_eq!(t.code(), TrapCode::MemoryOutOfBounds);
    // memory.copy between memories checks each side against its own memory.
    let copy = f.func::<(i32, i32, i32, i32), ()>("copy");
    copy.call(&mut f.store, (65536 - 16, 65536 - 16, 16, 16))
        .unwrap();
    for (dst, src, n) in [(3 * 65536 - 15, 0, 16), (0, 65536 - 15, 16), (0, 0, 65537)] {
        let t = copy.call(&mut f.store, (dst, src, n, 0)).unwrap_err();
        assert_eq!(t.code(), TrapCode::MemoryOutOfBounds, "{dst} {src} {n}");
    }
}

#[test]
fn multi_memory_boundaries_with_guard_pages() {
    check_boundaries(&Config::new());
}

#[test]
fn multi_memory_boundaries_with_explicit_checks() {
    let mut c = Config::new();
    c.bounds_checks(BoundsChecks::Explicit);
    check_boundaries(&c);
}

#[test]
fn multi_memory_boundaries_with_small_reservations() {
    let mut c = Config::new();
    c.memory_reservation(4 * 65536).memory_guard_size(65536);
    check_boundaries(&c);
}

#[test]
fn multi_memory_is_rejected_when_switched_off() {
    let e = Module::new(&Engine::default(), "(module (memory 1) (memory 1))")
        .err()
        .expect("multi-memory is off by default");
    assert!(matches!(e, Error::Invalid(_)), "{e:?}");
    assert!(e.to_string().contains("multiple memories"), "{e}");
}
