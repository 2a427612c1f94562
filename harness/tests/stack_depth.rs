//! Stack-depth parity: the call depth each engine reaches with its default configuration, per
//! signature shape of a recursive function, beside Wasmtime's with its default 512 KiB wasm stack.
//!
//! Call-stack exhaustion is inconclusive in every comparison (engines run out at different
//! depths), but lockstep's own engines must reach at least Wasmtime's depth on the same module, so
//! a module that Wasmtime runs to its end is never cut short by the oracle or the runtime; and
//! the oracle at least the runtime's, which the default build checks.
//!
//! `cargo test --release -p lockstep-harness --features peers --test stack_depth -- --nocapture`
//! prints the table of every engine.

use lockstep_harness::engine::{Engine, InvokeError, TrapCode, Val};
use lockstep_harness::engines;
use lockstep_harness::suite::features_2_0;

/// A recursive function `$f` of one shape: `$n` counts down to zero; `params`/`results` are the
/// rest of the signature, `locals` extra locals live across the call.
struct Shape {
    name: &'static str,
    /// Extra parameters after `$n`, and the values passed for them.
    params: &'static str,
    args: &'static str,
    results: &'static str,
    /// What the base case returns, and how a frame combines its callee's results.
    base: &'static str,
    locals: &'static str,
    combine: &'static str,
}

const SHAPES: &[Shape] = &[
    Shape {
        name: "(i32) -> ()",
        params: "",
        args: "",
        results: "",
        base: "",
        locals: "",
        combine: "",
    },
    Shape {
        name: "(i32) -> i32",
        params: "",
        args: "",
        results: "(result i32)",
        base: "(i32.const 0)",
        locals: "",
        combine: "(i32.add (local.get $n))",
    },
    Shape {
        name: "(i32 i64 i64 i64 i64) -> i64",
        params: "(param i64 i64 i64 i64)",
        args: "(local.get 1) (local.get 2) (local.get 3) (local.get 4)",
        results: "(result i64)",
        base: "(local.get 1)",
        locals: "",
        combine: "(i64.add (local.get 4))",
    },
    Shape {
        name: "(i32 f64 x8) -> f64",
        params: "(param f64 f64 f64 f64 f64 f64 f64 f64)",
        args: "(local.get 1) (local.get 2) (local.get 3) (local.get 4) \
               (local.get 5) (local.get 6) (local.get 7) (local.get 8)",
        results: "(result f64)",
        base: "(local.get 8)",
        locals: "",
        combine: "(f64.add (local.get 1))",
    },
    Shape {
        name: "(i32 v128) -> v128",
        params: "(param v128)",
        args: "(local.get 1)",
        results: "(result v128)",
        base: "(local.get 1)",
        locals: "",
        combine: "(i32x4.add (local.get 1))",
    },
    Shape {
        name: "(i32) -> (i32 i64 f64)",
        params: "",
        args: "",
        results: "(result i32 i64 f64)",
        base: "(i32.const 1) (i64.const 2) (f64.const 3)",
        locals: "",
        combine: "(drop) (drop) (i64.const 7) (f64.const 8)",
    },
    Shape {
        name: "(i32) -> i64, 16 i64 locals live",
        params: "",
        args: "",
        results: "(result i64)",
        base: "(i64.const 0)",
        locals: "(local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)",
        combine: "(i64.add (local.get 1)) (i64.add (local.get 2)) (i64.add (local.get 3)) \
                  (i64.add (local.get 4)) (i64.add (local.get 5)) (i64.add (local.get 6)) \
                  (i64.add (local.get 7)) (i64.add (local.get 8)) (i64.add (local.get 9)) \
                  (i64.add (local.get 10)) (i64.add (local.get 11)) (i64.add (local.get 12)) \
                  (i64.add (local.get 13)) (i64.add (local.get 14)) (i64.add (local.get 15)) \
                  (i64.add (local.get 16))",
    },
];

impl Shape {
    fn module(&self) -> Vec<u8> {
        // The 16-locals shape fills its locals from $n so they are live, not constant.
        let fill = if self.locals.is_empty() {
            String::new()
        } else {
            (1..=16)
                .map(|i| format!("(local.set {i} (i64.extend_i32_u (i32.add (local.get $n) (i32.const {i}))))"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let text = format!(
            r#"(module
              (func $f (export "f") (param $n i32) {params} {results} {locals}
                {fill}
                (if {results} (i32.eqz (local.get $n))
                  (then {base})
                  (else (call $f (i32.sub (local.get $n) (i32.const 1)) {args}) {combine}))))"#,
            params = self.params,
            results = self.results,
            locals = self.locals,
            base = self.base,
            args = self.args,
            combine = self.combine,
        );
        wat::parse_str(&text).unwrap_or_else(|e| panic!("{}: {e}\n{text}", self.name))
    }

    fn args(&self, n: u32) -> Vec<Val> {
        let mut v = vec![Val::I32(n)];
        match self.params {
            "" => {}
            p if p.contains("i64") => v.extend([Val::I64(1); 4]),
            p if p.contains("f64") => v.extend([Val::F64(1f64.to_bits()); 8]),
            _ => v.push(Val::V128(1)),
        }
        v
    }
}

/// Whether a call of depth `n` returns (`Some(true)`), exhausts the stack (`Some(false)`), or
/// ends otherwise (`None`, a test failure).
fn reaches(engine: &dyn Engine, shape: &Shape, wasm: &[u8], n: u32) -> Result<bool, String> {
    let mut s = engine.new_session(features_2_0());
    let m = s.compile(wasm).map_err(|e| e.to_string())?;
    let i = s.instantiate(m).map_err(|e| e.to_string())?;
    match s.invoke(i, "f", &shape.args(n)) {
        Ok(_) => Ok(true),
        Err(InvokeError::Trap(t)) if t.code == TrapCode::CallStackExhausted => Ok(false),
        Err(e) => Err(format!("depth {n}: {e}")),
    }
}

/// The largest depth that returns (binary search; depth 1 always does).
fn max_depth(engine: &dyn Engine, shape: &Shape) -> u32 {
    let wasm = shape.module();
    let check = |n| {
        reaches(engine, shape, &wasm, n)
            .unwrap_or_else(|e| panic!("{} on {}: {e}", shape.name, engine.name()))
    };
    assert!(
        check(1),
        "{} on {}: depth 1 fails",
        shape.name,
        engine.name()
    );
    let (mut ok, mut bad) = (1u32, 1u32 << 22);
    assert!(!check(bad), "{} on {}: no limit", shape.name, engine.name());
    while bad - ok > 1 {
        let mid = ok + (bad - ok) / 2;
        if check(mid) {
            ok = mid;
        } else {
            bad = mid;
        }
    }
    ok
}

/// Each shape with the depth each engine reaches, in `engines`' order.
fn table(engines: fn() -> Vec<Box<dyn Engine>>) -> Vec<(&'static str, Vec<(&'static str, u32)>)> {
    // Wasm runs on the calling thread's stack on the runtime and on Wasmtime: give it room
    // beyond the 512 KiB limit, as the harness's worker threads do.
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(move || {
            let engines = engines();
            SHAPES
                .iter()
                .map(|shape| {
                    let depths = engines
                        .iter()
                        .map(|e| (e.name(), max_depth(e.as_ref(), shape)))
                        .collect();
                    (shape.name, depths)
                })
                .collect()
        })
        .unwrap()
        .join()
        .unwrap()
}

/// The rows where an engine of `own` reaches less deep than `than`, after printing the table.
fn short_of(
    table: &[(&'static str, Vec<(&'static str, u32)>)],
    own: &[&str],
    than: &str,
) -> Vec<String> {
    let mut short = Vec::new();
    for (shape, depths) in table {
        let row: Vec<String> = depths.iter().map(|(n, d)| format!("{n} {d}")).collect();
        eprintln!("{shape:<36} {}", row.join(", "));
        let depth = |name: &str| depths.iter().find(|(n, _)| *n == name).unwrap().1;
        for engine in own {
            if depth(engine) < depth(than) {
                short.push(format!(
                    "{shape}: {engine} reaches {}, {than} {}",
                    depth(engine),
                    depth(than)
                ));
            }
        }
    }
    short
}

#[test]
fn the_oracle_reaches_the_runtimes_depth() {
    let t = table(|| vec![engines::oracle::engine(), engines::runtime::engine()]);
    let short = short_of(&t, &["oracle"], "runtime");
    assert!(
        short.is_empty(),
        "short of the runtime's depth:\n{}",
        short.join("\n")
    );
}

#[cfg(feature = "peers")]
#[test]
fn own_engines_reach_wasmtimes_depth() {
    let t = table(engines::all);
    let short = short_of(&t, &["oracle", "runtime"], "wasmtime");
    assert!(
        short.is_empty(),
        "short of Wasmtime's depth:\n{}",
        short.join("\n")
    );
}
