//! Host functions lent their caller ([`Caller`]): the calling instance's exports, the store
//! (memories, fuel), and what happens when a host function re-enters itself.

use std::sync::{Arc, Mutex};

use super::*;

const MODULE: &str = r#"(module
    (import "host" "write" (func $write (param i32 i32)))
    (import "host" "invoke" (func $invoke (param i32)))
    (memory (export "memory") 1)
    (func $nop)
    (func (export "run") (result i32)
        (call $write (i32.const 100) (i32.const 42))
        (i32.load (i32.const 100)))
    ;; Through the host: `invoke 0` calls `two_calls`, `invoke 1` calls `outer` again.
    (func (export "outer") (param i32) (call $invoke (local.get 0)))
    (func (export "two_calls") (call $nop) (call $nop)))"#;

struct Fixture {
    store: Store,
    instance: InstanceAddr,
    write: FuncAddr,
    /// The calling instance `write` saw last.
    seen: Arc<Mutex<Option<InstanceAddr>>>,
}

fn fixture() -> Fixture {
    let mut s = Store::new(Config::default());
    let seen = Arc::new(Mutex::new(None));
    let seen2 = seen.clone();
    let ty = |params| FuncType {
        params,
        results: vec![],
    };
    // Stores its second argument at its first in the caller's exported memory.
    let write = s.alloc_host_func_with_caller(
        ty(vec![ValType::I32, ValType::I32]),
        Box::new(move |caller, args| {
            *seen2.lock().unwrap() = caller.instance();
            let (&[Value::I32(addr), Value::I32(v)], Some(Extern::Memory(m))) =
                (args, caller.get_export("memory"))
            else {
                return Err(Trap::host("no memory"));
            };
            let data = caller.store_mut().memory_data_mut(m);
            data[addr as usize..addr as usize + 4].copy_from_slice(&v.to_le_bytes());
            Ok(vec![])
        }),
    );
    let invoke = s.alloc_host_func_with_caller(
        ty(vec![ValType::I32]),
        Box::new(|caller, args| {
            let (name, args) = match args {
                [Value::I32(0)] => ("two_calls", vec![]),
                _ => ("outer", vec![Value::I32(1)]),
            };
            let Some(Extern::Func(f)) = caller.get_export(name) else {
                return Err(Trap::host("no such export"));
            };
            match caller.store_mut().invoke(f, &args) {
                Ok(_) => Ok(vec![]),
                Err(CallError::Trap(t)) => Err(t),
                Err(CallError::Exception(_)) => Err(Trap::host("exception")),
            }
        }),
    );
    let m = s.compile(&wat::parse_str(MODULE).unwrap()).unwrap();
    let instance = s
        .instantiate(&m, &[Extern::Func(write), Extern::Func(invoke)])
        .unwrap();
    Fixture {
        store: s,
        instance,
        write,
        seen,
    }
}

fn export(f: &Fixture, name: &str) -> FuncAddr {
    match f.store.export(f.instance, name) {
        Some(Extern::Func(a)) => a,
        other => panic!("{name}: {other:?}"),
    }
}

#[test]
fn a_host_function_writes_its_callers_memory() {
    let mut f = fixture();
    let run = export(&f, "run");
    assert_eq!(f.store.invoke(run, &[]), Ok(vec![Value::I32(42)]));
    assert_eq!(*f.seen.lock().unwrap(), Some(f.instance));
}

#[test]
fn a_host_function_invoked_by_the_host_has_no_calling_instance() {
    let mut f = fixture();
    let r = f.store.invoke(f.write, &[Value::I32(0), Value::I32(1)]);
    assert_eq!(r.unwrap_err().to_string(), "no memory");
    assert_eq!(*f.seen.lock().unwrap(), None);
}

#[test]
fn a_host_function_that_reenters_itself_traps() {
    let mut f = fixture();
    let outer = export(&f, "outer");
    // outer -> invoke -> outer -> invoke (still running): a trap, not a panic.
    for _ in 0..2 {
        let err = f.store.invoke(outer, &[Value::I32(1)]).unwrap_err();
        assert!(
            err.to_string().contains("called again while it runs"),
            "{err}"
        );
    }
    // The function is back in its slot after each call.
    assert_eq!(f.store.invoke(outer, &[Value::I32(0)]), Ok(vec![]));
}

#[test]
fn wasm_run_by_a_host_function_uses_the_same_fuel() {
    let mut f = fixture();
    let outer = export(&f, "outer");
    f.store.set_fuel(Some(10));
    assert_eq!(f.store.invoke(outer, &[Value::I32(0)]), Ok(vec![]));
    // One unit for outer's call of the host function, two for two_calls' calls.
    assert_eq!(f.store.fuel(), Some(7));
}

#[test]
fn the_simple_form_still_sees_only_its_arguments() {
    let mut s = Store::new(Config::default());
    let ty = FuncType {
        params: vec![ValType::I32],
        results: vec![ValType::I32],
    };
    let double = s.alloc_host_func(
        ty,
        Box::new(|args| match args {
            [Value::I32(x)] => Ok(vec![Value::I32(x * 2)]),
            _ => Err(Trap::host("bad args")),
        }),
    );
    assert_eq!(
        s.invoke(double, &[Value::I32(21)]),
        Ok(vec![Value::I32(42)])
    );
}
