//! Generated modules: compile-time workloads of three sizes, an instantiation workload and
//! the host-call module.

use std::fmt::Write;

/// Module sizes for the compile-time benches: (name, number of functions).
pub const SIZES: &[(&str, u32)] = &[("small", 10), ("medium", 200), ("large", 2000)];

/// A module with `funcs` functions of varied shape: integer and float arithmetic, loops,
/// memory loads and stores, `br_table`, direct calls to earlier functions and indirect calls.
/// Function `i` has about 40-120 instructions, so a module's size grows linearly.
pub fn compile_module(funcs: u32) -> String {
    let mut s = String::from("(module\n  (type $t (func (param i32 i32) (result i32)))\n");
    s.push_str("  (memory 1)\n  (global $g (mut i32) (i32.const 7))\n");
    writeln!(s, "  (table {funcs} funcref)").unwrap();
    for i in 0..funcs {
        writeln!(s, "  (func $f{i} (type $t)").unwrap();
        s.push_str("    (local $x i32) (local $y i64) (local $z f64) (local $k i32)\n");
        writeln!(
            s,
            "    (local.set $x (i32.add (local.get 0) (i32.const {})))",
            i * 7 + 1
        )
        .unwrap();
        match i % 4 {
            0 => {
                // a counted loop with memory traffic
                s.push_str(
                    "    (block $b (loop $l\n\
                     \x20     (br_if $b (i32.ge_u (local.get $k) (local.get 1)))\n\
                     \x20     (i32.store (i32.and (i32.shl (local.get $k) (i32.const 2)) (i32.const 4092))\n\
                     \x20       (i32.xor (local.get $x) (i32.load (i32.and (local.get $x) (i32.const 4092)))))\n\
                     \x20     (local.set $x (i32.rotl (i32.mul (local.get $x) (i32.const 31)) (local.get $k)))\n\
                     \x20     (local.set $k (i32.add (local.get $k) (i32.const 1)))\n\
                     \x20     (br $l)))\n",
                );
            }
            1 => {
                // 64-bit and float arithmetic
                s.push_str(
                    "    (local.set $y (i64.mul (i64.extend_i32_s (local.get $x)) (i64.const 0x9e3779b97f4a7c15)))\n\
                     \x20   (local.set $y (i64.xor (local.get $y) (i64.shr_u (local.get $y) (i64.const 29))))\n\
                     \x20   (local.set $z (f64.sqrt (f64.add (f64.convert_i64_s (local.get $y)) (f64.const 1.5))))\n\
                     \x20   (local.set $z (f64.mul (local.get $z) (f64.div (local.get $z) (f64.const 3.25))))\n\
                     \x20   (local.set $x (i32.add (local.get $x) (i32.wrap_i64 (i64.trunc_sat_f64_s (local.get $z)))))\n",
                );
            }
            2 => {
                // a br_table dispatch
                s.push_str(
                    "    (block $d (block $c (block $b (block $a\n\
                     \x20     (br_table $a $b $c $d (i32.and (local.get $x) (i32.const 3))))\n\
                     \x20     (local.set $x (i32.add (local.get $x) (i32.const 3))) (br $d))\n\
                     \x20     (local.set $x (i32.sub (local.get $x) (local.get 1))) (br $d))\n\
                     \x20     (local.set $x (i32.div_u (local.get $x) (i32.or (local.get 1) (i32.const 1)))) (br $d))\n\
                     \x20   (global.set $g (i32.add (global.get $g) (local.get $x)))\n",
                );
            }
            _ => {
                // selects and comparisons
                s.push_str(
                    "    (local.set $x (select (local.get $x) (local.get 1) (i32.gt_s (local.get $x) (local.get 1))))\n\
                     \x20   (local.set $x (i32.add (local.get $x) (i32.popcnt (local.get 1))))\n\
                     \x20   (if (i32.eqz (i32.and (local.get $x) (i32.const 8)))\n\
                     \x20     (then (local.set $x (i32.clz (local.get $x))))\n\
                     \x20     (else (local.set $x (i32.ctz (local.get $x)))))\n",
                );
            }
        }
        if i > 0 {
            writeln!(
                s,
                "    (local.set $x (i32.add (local.get $x) (call $f{} (local.get $x) (i32.const 3))))",
                (i * 13 + 5) % i
            )
            .unwrap();
        }
        if i % 5 == 4 {
            writeln!(
                s,
                "    (local.set $x (call_indirect (type $t) (local.get $x) (local.get 1) (i32.const {})))",
                (i * 7) % funcs
            )
            .unwrap();
        }
        s.push_str("    (local.get $x))\n");
    }
    s.push_str("  (elem (i32.const 0) func");
    for i in 0..funcs {
        write!(s, " $f{i}").unwrap();
    }
    s.push_str(")\n");
    writeln!(s, "  (export \"f0\" (func $f0)))").unwrap();
    s
}

/// An instantiation workload: a memory with data segments, a table with an element
/// segment, globals and a few functions.
pub fn instantiate_module() -> String {
    let mut s = String::from("(module\n  (memory 1 16)\n  (table 64 funcref)\n");
    for i in 0..16 {
        writeln!(s, "  (global $g{i} (mut i64) (i64.const {i}))").unwrap();
        writeln!(s, "  (func $f{i} (result i64) (global.get $g{i}))").unwrap();
        writeln!(s, "  (export \"f{i}\" (func $f{i}))").unwrap();
        writeln!(
            s,
            "  (data (i32.const {}) \"lockstep instantiation bench\")",
            i * 256
        )
        .unwrap();
    }
    s.push_str("  (elem (i32.const 0) func");
    for i in 0..16 {
        write!(s, " $f{i}").unwrap();
    }
    s.push_str(")\n  (export \"memory\" (memory 0)))\n");
    s
}

/// Host-call workload. Imports `env.host0: [] -> []` and
/// `env.host4: [i32 i64 f32 f64] -> [i64]`; exports `nop: [] -> []`,
/// `add4: [i32 i64 f32 f64] -> [i64]`, and `call_host0` / `call_host4: [i32] -> [i64]` that
/// call the imports `n` times.
pub const CALLS_WAT: &str = r#"(module
  (import "env" "host0" (func $host0))
  (import "env" "host4" (func $host4 (param i32 i64 f32 f64) (result i64)))
  (func (export "nop"))
  (func (export "add4") (param i32 i64 f32 f64) (result i64)
    (i64.add
      (i64.add (i64.extend_i32_s (local.get 0)) (local.get 1))
      (i64.add (i64.trunc_f32_s (local.get 2)) (i64.trunc_f64_s (local.get 3)))))
  (func (export "call_host0") (param $n i32) (result i64)
    (local $i i32)
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $i) (local.get $n)))
      (call $host0)
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l)))
    (i64.extend_i32_u (local.get $i)))
  (func (export "call_host4") (param $n i32) (result i64)
    (local $i i32) (local $acc i64)
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $acc (i64.add (local.get $acc)
        (call $host4 (local.get $i) (i64.const 2) (f32.const 3) (f64.const 4))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l)))
    (local.get $acc)))
"#;

/// Expected result of `call_host4(n)` when the host adds its four arguments.
pub fn call_host4_expected(n: i32) -> i64 {
    (0..i64::from(n)).map(|i| i + 9).sum()
}
