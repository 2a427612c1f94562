//! Tail calls: `return_call` and `return_call_indirect` replace the caller's frame.

use super::*;

/// Counts `n` down by tail calls, summing into the accumulator; the 20 unused locals make a
/// frame that is not reused visible in the operand stack's size.
const COUNTDOWN: &str = r#"(module
    (type $t (func (param i64 i64) (result i64)))
    (import "host" "id" (func $id (param i64) (result i64)))
    (table funcref (elem $direct $indirect))
    (func $direct (export "direct") (type $t)
        (local f64 f64 f64 f64 f64 f64 f64 f64 f64 f64 f64 f64 f64 f64 f64 f64 f64 f64 f64 f64)
        (if (result i64) (i64.eqz (local.get 0))
            (then (return_call $id (local.get 1)))
            (else (return_call $direct
                (i64.sub (local.get 0) (i64.const 1))
                (i64.add (local.get 1) (i64.const 2))))))
    (func $indirect (export "indirect") (type $t)
        (local f64 f64 f64 f64 f64 f64 f64 f64 f64 f64 f64 f64 f64 f64 f64 f64 f64 f64 f64 f64)
        (if (result i64) (i64.eqz (local.get 0))
            (then (local.get 1))
            (else (return_call_indirect (type $t)
                (i64.sub (local.get 0) (i64.const 1))
                (i64.add (local.get 1) (i64.const 1))
                ;; Itself, through the table.
                (i32.const 1)))))
    (func (export "wrong_type") (result i32)
        (return_call_indirect (result i32) (i32.const 0)))
    (func (export "null") (result i32)
        (return_call_indirect (result i32) (i32.const 2))))"#;

fn countdown(depth: usize) -> (Store, InstanceAddr) {
    let mut s = store_3_0(depth);
    let ty = FuncType {
        params: vec![ValType::I64],
        results: vec![ValType::I64],
    };
    let id = s.alloc_host_func(ty, Box::new(|args| Ok(args.to_vec())));
    let bytes = wat::parse_str(COUNTDOWN).expect("wat");
    let m = s.compile(&bytes).expect("compile");
    let i = s.instantiate(&m, &[Extern::Func(id)]).expect("instantiate");
    (s, i)
}

#[test]
fn a_long_tail_recursive_loop_runs_in_constant_frames_and_stack() {
    // A frame stack of 2 holds only the entry frame: every iteration must replace it.
    let (mut s, i) = countdown(2);
    let n = 1_000_000;
    let r = call1(&mut s, i, "direct", &[Value::I64(n), Value::I64(0)]);
    assert_eq!(r, Value::I64(2 * n));
    let r = call1(&mut s, i, "indirect", &[Value::I64(n), Value::I64(5)]);
    assert_eq!(r, Value::I64(n + 5));
    // The operand stack (kept by the store between calls) never held more than a frame or two.
    assert!(s.stack.capacity() < 256, "{}", s.stack.capacity());
}

#[test]
fn return_call_indirect_checks_the_element() {
    let (mut s, i) = countdown(10);
    let t = trap(&mut s, i, "wrong_type", &[]);
    assert_eq!(t.kind, TrapKind::IndirectCallTypeMismatch);
    let t = trap(&mut s, i, "null", &[]);
    assert_eq!(t.kind, TrapKind::UndefinedElement);
}

#[test]
fn a_non_tail_call_still_grows_the_frame_stack() {
    let (mut s, i) = setup_3_0(
        10,
        r#"(module
            (func $f (export "f") (param i32) (result i32)
                (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 7))
                    (else (call $f (i32.sub (local.get 0) (i32.const 1)))))))"#,
    );
    assert_eq!(call1(&mut s, i, "f", &[Value::I32(5)]), Value::I32(7));
    let t = trap(&mut s, i, "f", &[Value::I32(50)]);
    assert_eq!(t.kind, TrapKind::CallStackExhausted);
}

#[test]
fn without_the_feature_return_call_is_malformed() {
    let s = Store::new(Config::default());
    let bytes = wat::parse_str(r#"(module (func $f (return_call $f)))"#).expect("wat");
    assert!(matches!(s.compile(&bytes), Err(CompileError::Malformed(_))));
}
