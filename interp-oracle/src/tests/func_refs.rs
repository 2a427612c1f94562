//! Typed function references, and type equivalence and subtyping of defined types across
//! modules.

use super::*;

#[test]
fn call_ref_and_its_null_trap() {
    let (mut s, i) = setup_3_0(
        10,
        r#"(module
            (type $ii (func (param i32) (result i32)))
            (func $double (type $ii) (i32.mul (local.get 0) (i32.const 2)))
            (elem declare func $double)
            (func (export "call") (param i32) (result i32)
                (call_ref $ii (local.get 0) (ref.func $double)))
            (func (export "null") (result i32)
                (call_ref $ii (i32.const 1) (ref.null $ii)))
            (func (export "as_non_null") (result i32)
                (drop (ref.as_non_null (ref.null func))) (i32.const 0)))"#,
    );
    assert_eq!(call1(&mut s, i, "call", &[Value::I32(21)]), Value::I32(42));
    let t = trap(&mut s, i, "null", &[]);
    assert_eq!(t.kind, TrapKind::NullReference);
    assert_eq!(t.message, "null function reference");
    let t = trap(&mut s, i, "as_non_null", &[]);
    assert_eq!(t.kind, TrapKind::NullReference);
    assert_eq!(t.message, "null reference");
}

#[test]
fn return_call_ref_runs_in_constant_frames() {
    let (mut s, i) = setup_3_0(
        2,
        r#"(module
            (type $t (func (param i64 i64) (result i64)))
            (elem declare func $loop)
            (func $loop (export "loop") (type $t)
                (if (result i64) (i64.eqz (local.get 0))
                    (then (local.get 1))
                    (else (return_call_ref $t
                        (i64.sub (local.get 0) (i64.const 1))
                        (i64.add (local.get 1) (i64.const 3))
                        (ref.func $loop))))))"#,
    );
    let r = call1(&mut s, i, "loop", &[Value::I64(1_000_000), Value::I64(0)]);
    assert_eq!(r, Value::I64(3_000_000));
}

#[test]
fn br_on_null_and_br_on_non_null() {
    let (mut s, i) = setup_3_0(
        10,
        r#"(module
            (type $t (func (result i32)))
            (func $seven (type $t) (i32.const 7))
            (elem declare func $seven)
            (func $pick (param i32) (result (ref null $t))
                (if (result (ref null $t)) (local.get 0)
                    (then (ref.func $seven)) (else (ref.null $t))))
            ;; -1 for null, else the callee's result.
            (func (export "on_null") (param i32) (result i32)
                (block $null
                    (return (call_ref $t (br_on_null $null (call $pick (local.get 0))))))
                (i32.const -1))
            (func (export "on_non_null") (param i32) (result i32)
                (block $some (result (ref $t))
                    (br_on_non_null $some (call $pick (local.get 0)))
                    (return (i32.const -1)))
                (call_ref $t)))"#,
    );
    for name in ["on_null", "on_non_null"] {
        assert_eq!(call1(&mut s, i, name, &[Value::I32(1)]), Value::I32(7));
        assert_eq!(
            call1(&mut s, i, name, &[Value::I32(0)]),
            Value::I32(u32::MAX)
        );
    }
}

/// A module exporting a table whose element 0 is a function of type `$g`, the second type of
/// the recursion group `(rec (type $f (func)) (type $g (func (param (ref $f)))))`.
const EXPORTER: &str = r#"(module
    (rec (type $f (func)) (type $g (func (param (ref $f)))))
    (func $h (type $g))
    (table (export "t") funcref (elem $h)))"#;

#[test]
fn equivalent_recursion_groups_are_one_type_across_modules() {
    let mut s = store_3_0(10);
    let exporter = instantiate(&mut s, EXPORTER);
    let Some(table) = s.export(exporter, "t") else {
        panic!("no table")
    };
    let importer = |s: &mut Store, types: &str| {
        let wat = format!(
            r#"(module {types}
                (import "m" "t" (table 1 funcref))
                (func $nop (type $f))
                (elem declare func $nop)
                (func (export "call")
                    (call_indirect (type $g) (ref.func $nop) (i32.const 0))))"#
        );
        let m = s.compile(&wat::parse_str(wat).unwrap()).unwrap();
        s.instantiate(&m, &[table]).unwrap()
    };
    // The same group, written again: the same types.
    let same = importer(
        &mut s,
        "(rec (type $f (func)) (type $g (func (param (ref $f)))))",
    );
    // Structurally equal types, but not in one group: different types.
    let other = importer(&mut s, "(type $f (func)) (type $g (func (param (ref $f))))");
    assert!(call(&mut s, same, "call", &[]).is_ok());
    let t = trap(&mut s, other, "call", &[]);
    assert_eq!(t.kind, TrapKind::IndirectCallTypeMismatch);
}

#[test]
fn imports_and_call_indirect_follow_declared_subtyping() {
    let mut s = store_3_0(10);
    let exporter = instantiate(
        &mut s,
        r#"(module
            (type $super (sub (func)))
            (type $sub (sub final $super (func)))
            (func (export "sub") (type $sub))
            (func (export "super") (type $super))
            (global (export "g") (ref null $sub) (ref.null $sub)))"#,
    );
    let ext = |s: &Store, name| s.export(exporter, name).unwrap();
    let link = |s: &mut Store, import: &str, ext: Extern| {
        let wat = format!(
            r#"(module (type $super (sub (func))) (type $sub (sub final $super (func)))
                (import "m" "x" {import}))"#
        );
        let m = s.compile(&wat::parse_str(wat).unwrap()).unwrap();
        s.instantiate(&m, &[ext])
    };
    let (sub, sup, g) = (ext(&s, "sub"), ext(&s, "super"), ext(&s, "g"));
    assert!(link(&mut s, "(func (type $super))", sub).is_ok());
    assert!(link(&mut s, "(func (type $sub))", sub).is_ok());
    assert!(link(&mut s, "(func (type $sub))", sup).is_err());
    assert!(link(&mut s, "(global (ref null $super))", g).is_ok());
    assert!(link(&mut s, "(global (ref null func))", g).is_ok());
    assert!(link(&mut s, "(global (ref $sub))", g).is_err());
    assert!(link(&mut s, "(global (ref null extern))", g).is_err());
}
