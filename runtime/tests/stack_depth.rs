//! The wasm stack: `Config::max_wasm_stack` bytes are counted from the last host frame before
//! wasm, so the host entry path costs wasm only the entry trampoline's frame.

use lockstep_runtime::*;

/// `$f(n)` recurses `n` deep; with no locals or results its frames are 16 bytes (return
/// address and frame pointer), the least a function that calls can have.
const WAT: &str = r#"(module
  (func $f (export "f") (param $n i32)
    (if (local.get $n) (then (call $f (i32.sub (local.get $n) (i32.const 1)))))))"#;

/// The deepest `f` that returns.
fn max_depth(max_wasm_stack: usize) -> u32 {
    let mut config = Config::new();
    config.max_wasm_stack(max_wasm_stack);
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(&engine, WAT).unwrap();
    let mut store = Store::new(&engine, ());
    let inst = Instance::new(&mut store, &module, &[]).unwrap();
    let f = inst.get_typed_func::<i32, ()>(&mut store, "f").unwrap();
    let mut returns = |n: u32| match f.call(&mut store, n as i32) {
        Ok(()) => true,
        Err(t) if t.code() == TrapCode::StackOverflow => false,
        Err(t) => panic!("depth {n}: {t}"),
    };
    let (mut ok, mut bad) = (0u32, 1u32 << 20);
    assert!(!returns(bad), "no limit");
    while bad - ok > 1 {
        let mid = ok + (bad - ok) / 2;
        if returns(mid) { ok = mid } else { bad = mid }
    }
    ok
}

#[test]
fn the_entry_path_costs_wasm_at_most_a_few_frames() {
    // The thread's stack is far larger than the limit, so the limit is what ends the recursion.
    let depths = std::thread::Builder::new()
        .stack_size(16 << 20)
        .spawn(|| [512 * 1024, 64 * 1024].map(|max| (max, max_depth(max))))
        .unwrap()
        .join()
        .unwrap();
    for (max, depth) in depths {
        // `f(0)` is frame 1: depth n uses n + 1 frames of 16 bytes.
        let lost = max as i64 - 16 * (i64::from(depth) + 1);
        eprintln!("max_wasm_stack {max}: depth {depth}, {lost} bytes not used by wasm frames");
        // The trampoline's frame and its saved registers; the runtime used to lose about 530
        // bytes to host frames (Wasmtime 48 loses 96 at 512 KiB: 32,762 frames).
        assert!(
            (0..=96).contains(&lost),
            "max {max}: depth {depth}, {lost} bytes lost"
        );
    }
}
