//! Typed function references: call_ref and its null trap, return_call_ref in constant stack,
//! br_on_null/br_on_non_null, typed tables and globals, and subtyping at import and at the
//! host API.

mod common;

use common::setup;
use lockstep_runtime::*;

fn engine() -> Engine {
    let mut config = Config::new();
    config.wasm_tail_call(true).wasm_function_references(true);
    Engine::new(&config).unwrap()
}

const CALLS: &str = r#"(module
    (type $ii (func (param i32) (result i32)))
    (func $sq (type $ii) local.get 0 local.get 0 i32.mul)
    (func $neg (type $ii) i32.const 0 local.get 0 i32.sub)
    (global $g (mut (ref null $ii)) (ref.null $ii))
    (elem declare func $sq $neg)
    (func (export "set") (param i32)
      local.get 0
      if (result (ref null $ii)) ref.func $sq else ref.func $neg end
      global.set $g)
    (func (export "clear") ref.null $ii global.set $g)
    (func (export "call") (param i32) (result i32)
      local.get 0 global.get $g call_ref $ii)
    ;; The operand of this call_ref is statically non-null (ref.func), so it has no check.
    (func (export "direct") (param i32) (result i32)
      local.get 0 ref.func $sq call_ref $ii)
    (func (export "as_non_null") (result i32)
      i32.const 7 global.get $g ref.as_non_null call_ref $ii)
    ;; br_on_null: -1 when the global is null, else the call's result.
    (func (export "on_null") (param i32) (result i32)
      (block $null
        local.get 0
        global.get $g br_on_null $null
        call_ref $ii
        return)
      i32.const -1)
    ;; br_on_non_null: the same with the branches swapped.
    (func (export "on_non_null") (param i32) (result i32)
      local.get 0
      (block $some (param i32) (result i32 (ref $ii))
        global.get $g br_on_non_null $some
        drop
        i32.const -2
        return)
      call_ref $ii)
  )"#;

#[test]
fn call_ref_calls_the_referenced_function_and_traps_on_null() {
    let (mut store, inst) = setup(&engine(), CALLS, &[]);
    let set = inst.get_typed_func::<i32, ()>(&mut store, "set").unwrap();
    let clear = inst.get_typed_func::<(), ()>(&mut store, "clear").unwrap();
    let call = inst.get_typed_func::<i32, i32>(&mut store, "call").unwrap();
    let direct = inst
        .get_typed_func::<i32, i32>(&mut store, "direct")
        .unwrap();
    let as_non_null = inst
        .get_typed_func::<(), i32>(&mut store, "as_non_null")
        .unwrap();

    let t = call.call(&mut store, 3).unwrap_err();
    assert_eq!(t.code(), TrapCode::NullFunctionReference);
    assert_eq!(t.message(), "null function reference");
    let t = as_non_null.call(&mut store, ()).unwrap_err();
    assert_eq!(t.code(), TrapCode::NullReference);
    assert_eq!(t.message(), "null reference");

    set.call(&mut store, 1).unwrap();
    assert_eq!(call.call(&mut store, 5).unwrap(), 25);
    assert_eq!(as_non_null.call(&mut store, ()).unwrap(), 49);
    set.call(&mut store, 0).unwrap();
    assert_eq!(call.call(&mut store, 5).unwrap(), -5);
    assert_eq!(direct.call(&mut store, 6).unwrap(), 36);

    // The store still works after the traps.
    clear.call(&mut store, ()).unwrap();
    assert!(call.call(&mut store, 1).is_err());
}

#[test]
fn br_on_null_and_br_on_non_null_branch_on_the_reference() {
    let (mut store, inst) = setup(&engine(), CALLS, &[]);
    let set = inst.get_typed_func::<i32, ()>(&mut store, "set").unwrap();
    let on_null = inst
        .get_typed_func::<i32, i32>(&mut store, "on_null")
        .unwrap();
    let on_non_null = inst
        .get_typed_func::<i32, i32>(&mut store, "on_non_null")
        .unwrap();
    assert_eq!(on_null.call(&mut store, 4).unwrap(), -1);
    assert_eq!(on_non_null.call(&mut store, 4).unwrap(), -2);
    set.call(&mut store, 1).unwrap();
    assert_eq!(on_null.call(&mut store, 4).unwrap(), 16);
    assert_eq!(on_non_null.call(&mut store, 4).unwrap(), 16);
}

#[test]
fn return_call_ref_runs_a_million_iterations_in_constant_stack() {
    // 64 KiB of wasm stack: far too little for a million frames of an ordinary call.
    let mut config = Config::new();
    config
        .wasm_tail_call(true)
        .wasm_function_references(true)
        .max_wasm_stack(64 * 1024);
    let engine = Engine::new(&config).unwrap();
    let wat = r#"(module
        (type $t (func (param i64 i64) (result i64)))
        (elem declare func $even $odd)
        ;; Mutual recursion through references: counts the even steps in the second param.
        (func $even (export "even") (type $t)
          local.get 0 i64.eqz
          if (result i64) local.get 1
          else
            local.get 0 i64.const 1 i64.sub
            local.get 1 i64.const 1 i64.add
            ref.func $odd return_call_ref $t
          end)
        (func $odd (type $t)
          local.get 0 i64.eqz
          if (result i64) local.get 1
          else
            local.get 0 i64.const 1 i64.sub
            local.get 1
            ref.func $even return_call_ref $t
          end)
        ;; The same recursion with plain calls, which must exhaust the stack.
        (func $deep (export "deep") (type $t)
          local.get 0 i64.eqz
          if (result i64) local.get 1
          else
            local.get 0 i64.const 1 i64.sub
            local.get 1 i64.const 1 i64.add
            ref.func $deep call_ref $t
          end))"#;
    let (mut store, inst) = setup(&engine, wat, &[]);
    let even = inst
        .get_typed_func::<(i64, i64), i64>(&mut store, "even")
        .unwrap();
    assert_eq!(even.call(&mut store, (1_000_000, 0)).unwrap(), 500_000);
    let deep = inst
        .get_typed_func::<(i64, i64), i64>(&mut store, "deep")
        .unwrap();
    let t = deep.call(&mut store, (1_000_000, 0)).unwrap_err();
    assert_eq!(t.code(), TrapCode::StackOverflow);
    // And the tail-calling loop still runs after the overflow.
    assert_eq!(even.call(&mut store, (10, 0)).unwrap(), 5);
}

const EXPORTER: &str = r#"(module
    (type $t (func (result i32)))
    (type $u (func (param i32)))
    (func $f (export "f") (type $t) i32.const 42)
    (global (export "g_ref_t") (ref $t) (ref.func $f))
    (global (export "g_mut") (mut (ref null $t)) (ref.null $t))
    (table (export "tab") 2 (ref $t) (ref.func $f))
  )"#;

fn link(
    engine: &Engine,
    store: &mut Store<()>,
    exporter: Instance,
    wat: &str,
    name: &str,
) -> Result<Instance> {
    let ext = exporter.get_export(&mut *store, name).unwrap();
    let module = Module::new(engine, wat)?;
    Instance::new(store, &module, &[ext])
}

#[test]
fn imports_match_with_subtyping() {
    let engine = engine();
    let (mut store, exporter) = setup(&engine, EXPORTER, &[]);
    let ok = |store: &mut Store<()>, name: &str, wat: &str| {
        link(&engine, store, exporter, wat, name).unwrap_or_else(|e| panic!("{wat}: {e}"))
    };
    // An immutable (ref $t) global satisfies (ref null $t), (ref func) and (ref null func),
    // also when the importer defines $t itself (the same function type, so the same id).
    for ty in ["(ref $t)", "(ref null $t)", "(ref func)", "funcref"] {
        let wat =
            format!(r#"(module (type $t (func (result i32))) (global (import "m" "g") {ty}))"#);
        ok(&mut store, "g_ref_t", &wat);
    }
    // Calling the imported reference reaches the exporter's function.
    let inst = ok(
        &mut store,
        "g_ref_t",
        r#"(module (type $t (func (result i32)))
             (global $g (import "m" "g") (ref $t))
             (func (export "run") (result i32) global.get $g call_ref $t))"#,
    );
    let run = inst.get_typed_func::<(), i32>(&mut store, "run").unwrap();
    assert_eq!(run.call(&mut store, ()).unwrap(), 42);
    // A function of type $t satisfies an import of type $t, wherever $t is defined.
    ok(
        &mut store,
        "f",
        r#"(module (type $x (func)) (type $t (func (result i32))) (import "m" "f" (func (type $t))))"#,
    );
    // A table of (ref $t) matches only (ref $t): table types are invariant.
    ok(
        &mut store,
        "tab",
        r#"(module (type $t (func (result i32))) (import "m" "t" (table 2 (ref $t))))"#,
    );

    let refused = |store: &mut Store<()>, name: &str, wat: &str| match link(
        &engine, store, exporter, wat, name,
    ) {
        Err(Error::Link(m)) => assert!(m.contains("incompatible import type"), "{m}"),
        other => panic!("{wat}: expected a link error, got {other:?}"),
    };
    // Another function type, an extern type, a mutable import of an immutable global.
    refused(
        &mut store,
        "g_ref_t",
        r#"(module (type $u (func (param i32))) (global (import "m" "g") (ref null $u)))"#,
    );
    refused(
        &mut store,
        "g_ref_t",
        r#"(module (global (import "m" "g") externref))"#,
    );
    refused(
        &mut store,
        "g_ref_t",
        r#"(module (type $t (func (result i32))) (global (import "m" "g") (mut (ref $t))))"#,
    );
    // A mutable global must have exactly its type: (ref null $t) is not funcref here.
    refused(
        &mut store,
        "g_mut",
        r#"(module (global (import "m" "g") (mut funcref)))"#,
    );
    ok(
        &mut store,
        "g_mut",
        r#"(module (type $t (func (result i32))) (global (import "m" "g") (mut (ref null $t))))"#,
    );
    // A (ref $t) table is not a funcref table, and the reverse.
    refused(
        &mut store,
        "tab",
        r#"(module (import "m" "t" (table 2 funcref)))"#,
    );
    refused(
        &mut store,
        "f",
        r#"(module (type $u (func (param i32))) (import "m" "f" (func (type $u))))"#,
    );
}

#[test]
fn host_values_are_checked_against_typed_references() {
    let engine = engine();
    let (mut store, exporter) = setup(&engine, EXPORTER, &[]);
    let f = exporter.get_func(&mut store, "f").unwrap();
    let g = exporter.get_global(&mut store, "g_mut").unwrap();
    let ty = g.ty(&mut store).content;
    let Some(RefType {
        nullable: true,
        heap: HeapType::Concrete(_),
    }) = ty.ref_type()
    else {
        panic!("g_mut is (ref null $t), got {ty}");
    };
    g.set(&mut store, Val::FuncRef(Some(f))).unwrap();
    g.set(&mut store, Val::FuncRef(None)).unwrap();
    // A function of another type does not fit (ref null $t).
    let other = Func::wrap(&mut store, |_: Caller<'_, ()>, _: i32| {}).unwrap();
    assert!(g.set(&mut store, Val::FuncRef(Some(other))).is_err());

    // A (ref $t) table refuses null and functions of another type.
    let tab = exporter.get_table(&mut store, "tab").unwrap();
    assert!(tab.set(&mut store, 0, Val::FuncRef(None)).is_err());
    assert!(tab.set(&mut store, 0, Val::FuncRef(Some(other))).is_err());
    tab.set(&mut store, 1, Val::FuncRef(Some(f))).unwrap();
    assert!(tab.grow(&mut store, 1, Val::FuncRef(None)).is_err());
    assert_eq!(tab.grow(&mut store, 1, Val::FuncRef(Some(f))).unwrap(), 2);

    // A (ref $t) parameter refuses null from the host.
    let wat = r#"(module (type $t (func (result i32)))
        (func (export "call") (param (ref $t)) (result i32) local.get 0 call_ref $t))"#;
    let module = Module::new(&engine, wat).unwrap();
    let inst = Instance::new(&mut store, &module, &[]).unwrap();
    let call = inst.get_func(&mut store, "call").unwrap();
    let mut out = [Val::I32(0)];
    assert!(
        call.call(&mut store, &[Val::FuncRef(None)], &mut out)
            .is_err()
    );
    call.call(&mut store, &[Val::FuncRef(Some(f))], &mut out)
        .unwrap();
    assert_eq!(out[0].i32(), Some(42));
}

#[test]
fn typed_tables_with_initialisers_and_call_indirect() {
    let wat = r#"(module
        (type $t (func (result i32)))
        (func $a (type $t) i32.const 1)
        (func $b (type $t) i32.const 2)
        (table $tab 3 (ref $t) (ref.func $a))
        (elem (table $tab) (i32.const 1) (ref $t) (ref.func $b))
        (func (export "ind") (param i32) (result i32)
          local.get 0 call_indirect $tab (type $t))
        (func (export "get") (param i32) (result i32)
          local.get 0 table.get $tab call_ref $t)
        (func (export "grow") (result i32)
          ref.func $b i32.const 2 table.grow $tab)
        (func (export "fill")
          i32.const 0 ref.func $b i32.const 3 table.fill $tab))"#;
    let (mut store, inst) = setup(&engine(), wat, &[]);
    let ind = inst.get_typed_func::<i32, i32>(&mut store, "ind").unwrap();
    let get = inst.get_typed_func::<i32, i32>(&mut store, "get").unwrap();
    let grow = inst.get_typed_func::<(), i32>(&mut store, "grow").unwrap();
    let fill = inst.get_typed_func::<(), ()>(&mut store, "fill").unwrap();
    assert_eq!(ind.call(&mut store, 0).unwrap(), 1);
    assert_eq!(ind.call(&mut store, 1).unwrap(), 2);
    assert_eq!(ind.call(&mut store, 2).unwrap(), 1);
    assert_eq!(grow.call(&mut store, ()).unwrap(), 3);
    assert_eq!(get.call(&mut store, 4).unwrap(), 2);
    fill.call(&mut store, ()).unwrap();
    assert_eq!(get.call(&mut store, 0).unwrap(), 2);
    let t = ind.call(&mut store, 5).unwrap_err();
    assert_eq!(t.code(), TrapCode::UndefinedElement);
}

#[test]
fn non_null_locals_need_no_default() {
    let wat = r#"(module
        (type $t (func (result i32)))
        (func $f (type $t) i32.const 9)
        (elem declare func $f)
        (func (export "run") (result i32) (local $r (ref $t))
          ref.func $f local.set $r
          (block (loop
            local.get $r call_ref $t
            i32.const 9 i32.ne br_if 1))
          local.get $r call_ref $t))"#;
    let (mut store, inst) = setup(&engine(), wat, &[]);
    let run = inst.get_typed_func::<(), i32>(&mut store, "run").unwrap();
    assert_eq!(run.call(&mut store, ()).unwrap(), 9);
}

#[test]
fn gc_heap_types_compile_with_gc() {
    let mut config = Config::new();
    config.wasm_features(
        config::default_features() | WasmFeatures::FUNCTION_REFERENCES | WasmFeatures::GC,
    );
    let engine = Engine::new(&config).unwrap();
    let wat =
        "(module (func (export \"f\") (param anyref) (result i32) (ref.is_null (local.get 0))))";
    let (mut store, inst) = setup(&engine, wat, &[]);
    let f = inst.get_func(&mut store, "f").unwrap();
    let mut r = [Val::I32(0)];
    f.call(&mut store, &[Val::AnyRef(None)], &mut r).unwrap();
    assert_eq!(r[0], Val::I32(1));
}

#[test]
fn branches_on_statically_non_null_references() {
    // The operands are ref.func and a non-null local, so neither branch tests at run time.
    let wat = r#"(module
        (type $t (func (result i32)))
        (func $f (type $t) i32.const 3)
        (elem declare func $f)
        (func (export "never") (result i32)
          (block $null
            ref.func $f br_on_null $null
            call_ref $t
            return)
          i32.const -1)
        (func (export "always") (result i32) (local $r (ref $t))
          ref.func $f local.set $r
          (block $some (result (ref $t))
            local.get $r br_on_non_null $some
            i32.const -1
            return)
          call_ref $t))"#;
    let (mut store, inst) = setup(&engine(), wat, &[]);
    let never = inst.get_typed_func::<(), i32>(&mut store, "never").unwrap();
    let always = inst
        .get_typed_func::<(), i32>(&mut store, "always")
        .unwrap();
    assert_eq!(never.call(&mut store, ()).unwrap(), 3);
    assert_eq!(always.call(&mut store, ()).unwrap(), 3);
}

#[test]
fn a_recursive_function_type_is_invalid_without_gc_and_runs_with_it() {
    let wat = r#"(module
        (type $t (func (param (ref null $t) i32) (result i32)))
        (func $count (type $t)
          (if (result i32) (i32.eqz (local.get 1))
            (then (i32.const 0))
            (else (i32.add (i32.const 1)
              (call_ref $t (local.get 0) (i32.sub (local.get 1) (i32.const 1)) (local.get 0))))))
        (elem declare func $count)
        (func (export "run") (result i32)
          (call $count (ref.func $count) (i32.const 5))))"#;
    let e = Module::new(&engine(), wat).err().expect("needs GC");
    assert!(matches!(e, Error::Invalid(_)), "{e:?}");
    let mut config = Config::new();
    config.wasm_features(
        config::default_features() | WasmFeatures::FUNCTION_REFERENCES | WasmFeatures::GC,
    );
    let (mut store, inst) = setup(&Engine::new(&config).unwrap(), wat, &[]);
    let run = inst.get_typed_func::<(), i32>(&mut store, "run").unwrap();
    assert_eq!(run.call(&mut store, ()).unwrap(), 5);
}
