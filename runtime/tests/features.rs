//! Config feature switches and extended constant expressions.

use lockstep_runtime::*;

const EXTENDED: &str = r#"(module
    (import "host" "base" (global $base i32))
    (global $a i32 (i32.add (global.get $base) (i32.const 8)))
    (global $b i64 (i64.sub (i64.mul (i64.const 3) (i64.const 5)) (i64.const 1)))
    (memory 1)
    (table 8 funcref)
    (data (offset (i32.sub (i32.mul (global.get $base) (i32.const 10)) (i32.const 4))) "\2a")
    (elem (offset (i32.add (global.get $base) (i32.const 1))) func $f)
    (func $f (result i32) i32.const 99)
    (func (export "a") (result i32) global.get $a)
    (func (export "b") (result i64) global.get $b)
    (func (export "byte") (param i32) (result i32) local.get 0 i32.load8_u)
    (func (export "call") (param i32) (result i32) local.get 0 call_indirect (result i32)))"#;

#[test]
fn extended_constants_in_globals_data_and_element_offsets() {
    let mut config = Config::new();
    config.wasm_extended_const(true);
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(&engine, EXTENDED).unwrap();
    let mut store = Store::new(&engine, ());
    let base = Global::new(
        &mut store,
        GlobalType {
            content: ValType::I32,
            mutability: Mutability::Const,
        },
        Val::I32(2),
    )
    .unwrap();
    let inst = Instance::new(&mut store, &module, &[Extern::Global(base)]).unwrap();
    let a = inst.get_typed_func::<(), i32>(&mut store, "a").unwrap();
    assert_eq!(a.call(&mut store, ()).unwrap(), 10);
    let b = inst.get_typed_func::<(), i64>(&mut store, "b").unwrap();
    assert_eq!(b.call(&mut store, ()).unwrap(), 14);
    // Data at base * 10 - 4 = 16, element at base + 1 = 3.
    let byte = inst.get_typed_func::<i32, i32>(&mut store, "byte").unwrap();
    assert_eq!(byte.call(&mut store, 16).unwrap(), 42);
    assert_eq!(byte.call(&mut store, 15).unwrap(), 0);
    let call = inst.get_typed_func::<i32, i32>(&mut store, "call").unwrap();
    assert_eq!(call.call(&mut store, 3).unwrap(), 99);
    assert!(call.call(&mut store, 2).is_err());
}

#[test]
fn each_switch_turns_its_feature_off_with_a_validation_error() {
    type Switch = fn(&mut Config, bool) -> &mut Config;
    let cases: [(&str, Switch, &str); 6] = [
        (EXTENDED, Config::wasm_extended_const, "constant expression"),
        (
            "(module (func $f return_call $f))",
            Config::wasm_tail_call,
            "tail call",
        ),
        (
            "(module (memory 0) (memory 0))",
            Config::wasm_multi_memory,
            "multiple memories",
        ),
        ("(module (memory i64 0))", Config::wasm_memory64, "memory64"),
        (
            "(module (type $t (func)) (func (param (ref null $t))))",
            Config::wasm_function_references,
            "function references",
        ),
        (
            "(module (func (param v128) (result v128) local.get 0 local.get 0 i8x16.relaxed_swizzle))",
            Config::wasm_relaxed_simd,
            "relaxed SIMD",
        ),
    ];
    for (wat, switch, message) in cases {
        let mut config = Config::new();
        switch(&mut config, true);
        Module::new(&Engine::new(&config).unwrap(), wat).unwrap();
        switch(&mut config, false);
        let e = Module::new(&Engine::new(&config).unwrap(), wat)
            .err()
            .expect("switched off");
        assert!(matches!(e, Error::Invalid(_)), "{e:?}");
        assert!(e.to_string().contains(message), "{message}: {e}");
    }
}

#[test]
fn an_enabled_feature_the_runtime_does_not_execute_is_a_compile_error() {
    let mut config = Config::new();
    config.wasm_features(config::default_features() | WasmFeatures::THREADS);
    let engine = Engine::new(&config).unwrap();
    let e = Module::new(
        &engine,
        "(module (memory 1) (func (result i32) i32.const 0 i32.atomic.load))",
    )
    .err()
    .expect("threads are not executed");
    assert!(matches!(e, Error::Compile(_)), "{e:?}");
    assert!(
        e.to_string().contains("unsupported feature `threads`"),
        "{e}"
    );
}

#[test]
fn the_default_config_takes_externref() {
    // wasmparser gates `externref` behind GC_TYPES, which the 2.0 default set must include.
    let engine = Engine::new(&Config::new()).unwrap();
    Module::new(
        &engine,
        "(module (global (export \"g\") externref (ref.null extern)) (table 1 externref))",
    )
    .unwrap();
}
