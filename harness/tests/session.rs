//! The `Session` contract, checked on every built engine: compile, instantiate, register and
//! import resolution (spectest and registered instances), invoke, traps, globals, snapshots.

use lockstep_harness::engine::{
    CompileError, Engine, InstantiateError, InvokeError, TrapCode, Val,
};
use lockstep_harness::engines;
use lockstep_harness::suite::features_2_0;

fn wat(text: &str) -> Vec<u8> {
    wat::parse_str(text).expect("valid text")
}

fn exercise(engine: &dyn Engine) {
    let name = engine.name();
    let mut s = engine.new_session(features_2_0());

    // Malformed and invalid modules.
    assert!(
        matches!(
            s.compile(b"\0asm\x02\0\0\0"),
            Err(CompileError::Malformed(_))
        ),
        "{name}"
    );
    assert!(
        matches!(
            s.compile(&wat("(module (func (result i32)))")),
            Err(CompileError::Invalid(_))
        ),
        "{name}"
    );

    let m = s
        .compile(&wat(r#"(module
              (import "spectest" "global_i32" (global $g i32))
              (import "spectest" "print_i32" (func $print (param i32)))
              (memory (export "mem") 1)
              (table (export "tab") 2 funcref)
              (global $counter (export "counter") (mut i32) (i32.const 0))
              (global (export "seen") i32 (global.get $g))
              (func $inc (export "inc") (param i32) (result i32)
                (call $print (local.get 0))
                (global.set $counter (i32.add (global.get $counter) (local.get 0)))
                (i32.store8 (i32.const 3) (i32.const 0xab))
                (global.get $counter))
              (func (export "div") (param i32) (result i32) (i32.div_u (i32.const 1) (local.get 0)))
              (elem (i32.const 1) $inc))"#))
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let i = s.instantiate(m).unwrap_or_else(|e| panic!("{name}: {e}"));

    assert_eq!(s.get_global(i, "seen"), Ok(Val::I32(666)), "{name}");
    assert_eq!(
        s.invoke(i, "inc", &[Val::I32(5)]),
        Ok(vec![Val::I32(5)]),
        "{name}"
    );
    assert_eq!(
        s.invoke(i, "inc", &[Val::I32(2)]),
        Ok(vec![Val::I32(7)]),
        "{name}"
    );
    assert_eq!(s.get_global(i, "counter"), Ok(Val::I32(7)), "{name}");
    match s.invoke(i, "div", &[Val::I32(0)]) {
        Err(InvokeError::Trap(t)) => {
            assert_eq!(t.code, TrapCode::IntegerDivideByZero, "{name}");
            assert!(t.message.contains("integer divide by zero"), "{name}: {t}");
        }
        other => panic!("{name}: {other:?}"),
    }
    assert!(
        matches!(s.invoke(i, "missing", &[]), Err(InvokeError::Other(_))),
        "{name}"
    );

    // Snapshots list exported state (engines may not support them yet).
    if let Ok(snap) = s.snapshot(i) {
        let mem = &snap.memories.iter().find(|(n, _)| n == "mem").unwrap().1;
        assert_eq!(mem.len(), 65536, "{name}");
        assert_eq!(mem[3], 0xab, "{name}");
        assert!(
            snap.globals.contains(&("counter".to_string(), Val::I32(7))),
            "{name}"
        );
        let tab = &snap.tables.iter().find(|(n, _)| n == "tab").unwrap().1;
        assert_eq!(tab.len(), 2, "{name}");
        assert_eq!(tab[0], Val::FuncRef(None), "{name}");
        assert!(matches!(tab[1], Val::FuncRef(Some(_))), "{name}");
    }

    // Registered instances are importable; unknown imports are link errors.
    s.register("first", i);
    let m2 = s
        .compile(&wat(
            r#"(module (import "first" "inc" (func $inc (param i32) (result i32)))
                       (func (export "twice") (result i32) (drop (call $inc (i32.const 1))) (call $inc (i32.const 1))))"#,
        ))
        .unwrap();
    let i2 = s.instantiate(m2).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(s.invoke(i2, "twice", &[]), Ok(vec![Val::I32(9)]), "{name}");

    let m3 = s
        .compile(&wat(r#"(module (import "first" "nope" (func)))"#))
        .unwrap();
    match s.instantiate(m3) {
        Err(InstantiateError::Link(msg)) => {
            assert!(msg.contains("unknown import"), "{name}: {msg}")
        }
        other => panic!("{name}: {other:?}"),
    }
    let m4 = s
        .compile(&wat(
            r#"(module (import "spectest" "global_i32" (global i64)))"#,
        ))
        .unwrap();
    assert!(
        matches!(s.instantiate(m4), Err(InstantiateError::Link(_))),
        "{name}"
    );

    // A trapping start function is an instantiation trap.
    let m5 = s
        .compile(&wat("(module (func $f unreachable) (start $f))"))
        .unwrap();
    match s.instantiate(m5) {
        Err(InstantiateError::Trap(t)) => {
            assert_eq!(t.code, TrapCode::Unreachable, "{name}");
            assert!(t.message.contains("unreachable"), "{name}: {t}");
        }
        other => panic!("{name}: {other:?}"),
    }
}

#[test]
fn every_built_engine_honours_the_session_contract() {
    let built = engines::all();
    assert!(built.iter().any(|e| e.name() == "oracle"));
    for engine in &built {
        exercise(engine.as_ref());
    }
}
