//! Tail calls: constant native stack, every callee kind, and traps inside tail-called code.

mod common;

use common::setup;
use lockstep_runtime::*;

fn engine() -> Engine {
    let mut config = Config::new();
    config.wasm_features(config::default_features() | WasmFeatures::TAIL_CALL);
    Engine::new(&config).unwrap()
}

const LOOPS: &str = r#"(module
    (type $t (func (param i64 i64) (result i64)))
    (table funcref (elem $even_i $odd_i))
    ;; sum(n) = n + (n-1) + ... + 1, accumulated in the second parameter.
    (func $sum (export "sum") (param i64 i64) (result i64)
      local.get 0 i64.eqz
      if (result i64) local.get 1
      else
        local.get 0 i64.const 1 i64.sub
        local.get 1 local.get 0 i64.add
        return_call $sum
      end)
    ;; Mutual recursion through the table: even_i(n) is 1 when n is even.
    (func $even_i (export "even") (param i64 i64) (result i64)
      local.get 0 i64.eqz
      if (result i64) i64.const 1
      else
        local.get 0 i64.const 1 i64.sub local.get 1
        i32.const 1 return_call_indirect (type $t)
      end)
    (func $odd_i (param i64 i64) (result i64)
      local.get 0 i64.eqz
      if (result i64) i64.const 0
      else
        local.get 0 i64.const 1 i64.sub local.get 1
        i32.const 0 return_call_indirect (type $t)
      end)
    ;; The same loop with more arguments than registers, so stack arguments move too.
    (func $wide (export "wide")
      (param i64 i64 i64 i64 i64 i64 i64 i64 i64 i64) (result i64)
      local.get 0 i64.eqz
      if (result i64)
        local.get 1 local.get 9 i64.add
      else
        local.get 0 i64.const 1 i64.sub
        local.get 1 i64.const 1 i64.add
        local.get 2 local.get 3 local.get 4 local.get 5
        local.get 6 local.get 7 local.get 8 local.get 9
        return_call $wide
      end)
    ;; A tail call that traps in the callee.
    (func $boom (param i32) (result i32) unreachable)
    (func $tail_boom (export "tail_boom") (param i32) (result i32)
      local.get 0 return_call $boom)
    (func $bad_index (export "bad_index") (result i64)
      i64.const 1 i64.const 0 i32.const 7 return_call_indirect (type $t)))"#;

#[test]
fn ten_million_tail_calls_run_in_constant_stack() {
    // The default 512 KiB wasm stack would overflow after a few thousand ordinary calls.
    let engine = engine();
    let (mut store, inst) = setup(&engine, LOOPS, &[]);
    let n: i64 = 10_000_000;
    let sum = inst
        .get_typed_func::<(i64, i64), i64>(&mut store, "sum")
        .unwrap();
    assert_eq!(sum.call(&mut store, (n, 0)).unwrap(), n * (n + 1) / 2);
    let even = inst
        .get_typed_func::<(i64, i64), i64>(&mut store, "even")
        .unwrap();
    assert_eq!(even.call(&mut store, (n, 0)).unwrap(), 1);
    assert_eq!(even.call(&mut store, (n + 1, 0)).unwrap(), 0);
    let wide = inst.get_func(&mut store, "wide").unwrap();
    let mut args = [Val::I64(0); 10];
    args[0] = Val::I64(n);
    args[9] = Val::I64(5);
    let mut out = [Val::I64(0)];
    wide.call(&mut store, &args, &mut out).unwrap();
    assert_eq!(out[0], Val::I64(n + 5));
}

#[test]
fn traps_after_tail_calls_have_backtraces() {
    let engine = engine();
    let (mut store, inst) = setup(&engine, LOOPS, &[]);
    let f = inst
        .get_typed_func::<i32, i32>(&mut store, "tail_boom")
        .unwrap();
    let t = f.call(&mut store, 3).unwrap_err();
    assert_eq!(t.code(), TrapCode::Unreachable);
    // The caller's frame was replaced: only the callee is on the stack.
    let names: Vec<_> = t.backtrace().iter().map(|f| f.func_name.clone()).collect();
    assert_eq!(names, vec![Some("boom".to_string())]);
    let f = inst
        .get_typed_func::<(), i64>(&mut store, "bad_index")
        .unwrap();
    let t = f.call(&mut store, ()).unwrap_err();
    assert_eq!(t.code(), TrapCode::UndefinedElement);
}

#[test]
fn ordinary_recursion_mixed_with_tail_calls_still_overflows() {
    let engine = engine();
    let (mut store, inst) = setup(
        &engine,
        r#"(module
            (func $f (export "f") (param i64) (result i64)
              local.get 0 i64.const 1 i64.add return_call $g)
            (func $g (param i64) (result i64)
              local.get 0 call $f))"#,
        &[],
    );
    let f = inst.get_typed_func::<i64, i64>(&mut store, "f").unwrap();
    for _ in 0..2 {
        let t = f.call(&mut store, 0).unwrap_err();
        assert_eq!(t.code(), TrapCode::StackOverflow);
        assert!(t.backtrace().len() > 10);
    }
}

#[test]
fn tail_calls_into_host_functions_and_imports() {
    let engine = engine();
    let mut store = Store::new(&engine, ());
    let ty = FuncType::new([ValType::I32, ValType::I32], [ValType::I32]);
    let host = Func::new(&mut store, ty, |_, args, out| {
        let (Val::I32(a), Val::I32(b)) = (args[0], args[1]) else {
            return Err(Trap::new("bad arguments"));
        };
        if b == 0 {
            return Err(Trap::new("host refused"));
        }
        out[0] = Val::I32(a * 100 + b);
        Ok(())
    })
    .unwrap();
    let module = Module::new(
        &engine,
        r#"(module
            (import "h" "f" (func $h (param i32 i32) (result i32)))
            (type $t (func (param i32 i32) (result i32)))
            (table funcref (elem $h))
            (func (export "direct") (param i32 i32) (result i32)
              local.get 0 local.get 1 return_call $h)
            (func (export "indirect") (param i32 i32) (result i32)
              local.get 0 local.get 1 i32.const 0 return_call_indirect (type $t)))"#,
    )
    .unwrap();
    let inst = Instance::new(&mut store, &module, &[Extern::Func(host)]).unwrap();
    for name in ["direct", "indirect"] {
        let f = inst
            .get_typed_func::<(i32, i32), i32>(&mut store, name)
            .unwrap();
        assert_eq!(f.call(&mut store, (4, 2)).unwrap(), 402);
        let t = f.call(&mut store, (4, 0)).unwrap_err();
        assert!(t.to_string().contains("host refused"), "{name}: {t}");
        // The store is still usable after the host's trap.
        assert_eq!(f.call(&mut store, (1, 1)).unwrap(), 101);
    }
}

#[test]
fn tail_calls_are_rejected_when_switched_off() {
    let e = Module::new(&Engine::default(), r#"(module (func $f return_call $f))"#)
        .err()
        .expect("tail calls are off by default");
    assert!(matches!(e, Error::Invalid(_)), "{e:?}");
    assert!(e.to_string().contains("tail call"), "{e}");
}
