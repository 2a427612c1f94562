//! Host→wasm and wasm→host call overhead, and instantiation, on every engine.

use crate::engines::EngineKind;
use crate::workloads::CALLS_WAT;
use anyhow::{Result, anyhow, bail};

/// Call workloads on one engine. Each method does `iters` calls (or asks the wasm side to
/// make `n` host calls) so the per-call cost is the elapsed time divided by the count.
pub trait CallBench {
    /// `nop: [] -> []`, statically typed, `iters` times.
    fn typed0(&mut self, iters: u64);
    /// `add4: [i32 i64 f32 f64] -> [i64]`, statically typed; returns the sum of results.
    fn typed4(&mut self, iters: u64) -> i64;
    /// `nop` through the dynamically typed call path.
    fn untyped0(&mut self, iters: u64);
    /// `add4` through the dynamically typed call path.
    fn untyped4(&mut self, iters: u64) -> i64;
    /// wasm calls `env.host0` `n` times.
    fn host0(&mut self, n: i32) -> i64;
    /// wasm calls `env.host4` `n` times; returns the accumulated results.
    fn host4(&mut self, n: i32) -> i64;
}

/// The kinds of call measured, with a description.
pub const CALL_KINDS: &[(&str, &str)] = &[
    ("typed0", "host→wasm, typed, 0 params"),
    (
        "typed4",
        "host→wasm, typed, 4 params (i32 i64 f32 f64) → i64",
    ),
    ("untyped0", "host→wasm, untyped, 0 params"),
    ("untyped4", "host→wasm, untyped, 4 params → i64"),
    ("host0", "wasm→host, 0 params"),
    ("host4", "wasm→host, 4 params → i64"),
];

/// Run one kind of call `iters` times (host0/host4: `iters` host calls from wasm).
pub fn run_kind(cb: &mut dyn CallBench, kind: &str, iters: u64) -> i64 {
    match kind {
        "typed0" => {
            cb.typed0(iters);
            0
        }
        "typed4" => cb.typed4(iters),
        "untyped0" => {
            cb.untyped0(iters);
            0
        }
        "untyped4" => cb.untyped4(iters),
        "host0" => cb.host0(iters as i32),
        "host4" => cb.host4(iters as i32),
        _ => panic!("unknown call kind {kind}"),
    }
}

/// Expected result of `add4(i, 2, 3.0, 4.0)` summed over `iters` calls.
pub fn add4_expected(iters: u64) -> i64 {
    (0..iters as i64).map(|i| i + 9).sum()
}

pub fn call_bench(kind: EngineKind) -> Result<Box<dyn CallBench>> {
    let wasm = crate::wat_to_wasm(CALLS_WAT);
    let mut cb: Box<dyn CallBench> = match kind {
        EngineKind::Ours => Box::new(ours::Calls::new(&wasm)?),
        EngineKind::Oracle => Box::new(oracle::Calls::new(&wasm)?),
        #[cfg(feature = "peers")]
        EngineKind::Wasmtime => Box::new(wasmtime_calls::Calls::new(&wasm)?),
        #[cfg(feature = "peers")]
        EngineKind::Wasmi => Box::new(wasmi_calls::Calls::new(&wasm)?),
        #[cfg(not(feature = "peers"))]
        _ => bail!("{} needs the `peers` feature", kind.name()),
    };
    // Check every path once, so a wrong engine can't look fast.
    let n = 100;
    let expect = crate::workloads::call_host4_expected(n);
    for (k, want) in [
        ("typed4", add4_expected(n as u64)),
        ("untyped4", add4_expected(n as u64)),
        ("host0", i64::from(n)),
        ("host4", expect),
    ] {
        let got = run_kind(cb.as_mut(), k, n as u64);
        if got != want {
            bail!("{} {k}: got {got}, expected {want}", kind.name());
        }
    }
    Ok(cb)
}

/// A fresh store and instance of the instantiation workload per call.
pub fn instantiate_bench(kind: EngineKind) -> Result<Box<dyn FnMut()>> {
    let wasm = crate::wat_to_wasm(&crate::workloads::instantiate_module());
    Ok(match kind {
        EngineKind::Ours => {
            use lockstep_runtime::{Instance, Module, Store};
            let engine = crate::engines::ours_engine();
            let module = Module::from_binary(&engine, &wasm).map_err(|e| anyhow!("{e}"))?;
            Box::new(move || {
                let mut store = Store::new(&engine, ());
                let i = Instance::new(&mut store, &module, &[]).expect("instantiate");
                std::hint::black_box((i, store));
            })
        }
        EngineKind::Oracle => {
            let store0 = lockstep_oracle::Store::default();
            let module = store0.compile(&wasm).map_err(|e| anyhow!("{e:?}"))?;
            Box::new(move || {
                let mut store = lockstep_oracle::Store::default();
                let i = store.instantiate(&module, &[]).expect("instantiate");
                std::hint::black_box((i, store));
            })
        }
        #[cfg(feature = "peers")]
        EngineKind::Wasmtime => {
            let engine = crate::engines::peers::wasmtime_engine();
            let module =
                wasmtime::Module::from_binary(&engine, &wasm).map_err(|e| anyhow!("{e:?}"))?;
            Box::new(move || {
                let mut store = wasmtime::Store::new(&engine, ());
                let i = wasmtime::Instance::new(&mut store, &module, &[]).expect("instantiate");
                std::hint::black_box((i, store));
            })
        }
        #[cfg(feature = "peers")]
        EngineKind::Wasmi => {
            let engine = wasmi::Engine::default();
            let module = wasmi::Module::new(&engine, &wasm).map_err(|e| anyhow!("{e}"))?;
            let linker = wasmi::Linker::<()>::new(&engine);
            Box::new(move || {
                let mut store = wasmi::Store::new(&engine, ());
                let i = linker
                    .instantiate_and_start(&mut store, &module)
                    .expect("instantiate");
                std::hint::black_box((i, store));
            })
        }
        #[cfg(not(feature = "peers"))]
        _ => bail!("{} needs the `peers` feature", kind.name()),
    })
}

/// `CallBench` for an engine with Wasmtime's embedding API (ours, Wasmtime and wasmi): the
/// same calls through `TypedFunc` and `Func`, written once. `$f32` and `$f64` make the untyped
/// call's float arguments (`Val::F32` holds bits in ours and Wasmtime, an `F32` in wasmi).
macro_rules! wasmtime_api_calls {
    ($f32:path, $f64:path) => {
        impl super::CallBench for Calls {
            fn typed0(&mut self, iters: u64) {
                for _ in 0..iters {
                    self.nop.call(&mut self.store, ()).unwrap();
                }
            }
            fn typed4(&mut self, iters: u64) -> i64 {
                let mut acc = 0i64;
                for i in 0..iters {
                    acc += self
                        .add4
                        .call(&mut self.store, (black_box(i as i32), 2, 3.0, 4.0))
                        .unwrap();
                }
                acc
            }
            fn untyped0(&mut self, iters: u64) {
                for _ in 0..iters {
                    self.nop_f.call(&mut self.store, &[], &mut []).unwrap();
                }
            }
            fn untyped4(&mut self, iters: u64) -> i64 {
                let mut acc = 0i64;
                let mut out = [Val::I64(0)];
                for i in 0..iters {
                    let args = [
                        Val::I32(black_box(i as i32)),
                        Val::I64(2),
                        Val::F32($f32(3.0f32)),
                        Val::F64($f64(4.0f64)),
                    ];
                    self.add4_f.call(&mut self.store, &args, &mut out).unwrap();
                    acc += out[0].i64().unwrap();
                }
                acc
            }
            fn host0(&mut self, n: i32) -> i64 {
                self.call_host0.call(&mut self.store, n).unwrap()
            }
            fn host4(&mut self, n: i32) -> i64 {
                self.call_host4.call(&mut self.store, n).unwrap()
            }
        }
    };
}

mod ours {
    use anyhow::{Result, anyhow};
    use lockstep_runtime::{Func, Instance, Linker, Module, Store, TypedFunc, Val};
    use std::hint::black_box;

    pub struct Calls {
        store: Store<()>,
        nop: TypedFunc<(), ()>,
        add4: TypedFunc<(i32, i64, f32, f64), i64>,
        nop_f: Func,
        add4_f: Func,
        call_host0: TypedFunc<i32, i64>,
        call_host4: TypedFunc<i32, i64>,
    }

    impl Calls {
        pub fn new(wasm: &[u8]) -> Result<Calls> {
            let engine = crate::engines::ours_engine();
            let module = Module::from_binary(&engine, wasm).map_err(|e| anyhow!("{e}"))?;
            let mut store = Store::new(&engine, ());
            let mut linker = Linker::<()>::new(&engine);
            linker
                .func_wrap("env", "host0", || {})
                .map_err(|e| anyhow!("{e}"))?;
            linker
                .func_wrap("env", "host4", |a: i32, b: i64, c: f32, d: f64| {
                    i64::from(a) + b + c as i64 + d as i64
                })
                .map_err(|e| anyhow!("{e}"))?;
            let inst: Instance = linker
                .instantiate(&mut store, &module)
                .map_err(|e| anyhow!("{e}"))?;
            fn e<T>(r: lockstep_runtime::Result<T>) -> Result<T> {
                r.map_err(|e| anyhow!("{e}"))
            }
            Ok(Calls {
                nop: e(inst.get_typed_func(&mut store, "nop"))?,
                add4: e(inst.get_typed_func(&mut store, "add4"))?,
                nop_f: inst.get_func(&mut store, "nop").unwrap(),
                add4_f: inst.get_func(&mut store, "add4").unwrap(),
                call_host0: e(inst.get_typed_func(&mut store, "call_host0"))?,
                call_host4: e(inst.get_typed_func(&mut store, "call_host4"))?,
                store,
            })
        }
    }

    wasmtime_api_calls!(f32::to_bits, f64::to_bits);
}

mod oracle {
    use anyhow::{Result, anyhow, bail};
    use lockstep_oracle::{Extern, FuncAddr, FuncType, Store, ValType, Value};
    use std::hint::black_box;

    pub struct Calls {
        store: Store,
        nop: FuncAddr,
        add4: FuncAddr,
        call_host0: FuncAddr,
        call_host4: FuncAddr,
    }

    impl Calls {
        pub fn new(wasm: &[u8]) -> Result<Calls> {
            let mut store = Store::default();
            let module = store.compile(wasm).map_err(|e| anyhow!("{e:?}"))?;
            let h0 = store.alloc_host_func(
                FuncType {
                    params: vec![],
                    results: vec![],
                },
                Box::new(|_| Ok(vec![])),
            );
            let h4 = store.alloc_host_func(
                FuncType {
                    params: vec![ValType::I32, ValType::I64, ValType::F32, ValType::F64],
                    results: vec![ValType::I64],
                },
                Box::new(|args| {
                    let [Value::I32(a), Value::I64(b), Value::F32(c), Value::F64(d)] = args else {
                        unreachable!("validated signature")
                    };
                    let s = i64::from(*a as i32)
                        + *b as i64
                        + f32::from_bits(*c) as i64
                        + f64::from_bits(*d) as i64;
                    Ok(vec![Value::I64(s as u64)])
                }),
            );
            let inst = store
                .instantiate(&module, &[Extern::Func(h0), Extern::Func(h4)])
                .map_err(|e| anyhow!("{e:?}"))?;
            let get = |name: &str| match store.export(inst, name) {
                Some(Extern::Func(f)) => Ok(f),
                _ => bail!("no export {name}"),
            };
            Ok(Calls {
                nop: get("nop")?,
                add4: get("add4")?,
                call_host0: get("call_host0")?,
                call_host4: get("call_host4")?,
                store,
            })
        }

        fn i64_of(v: Vec<Value>) -> i64 {
            match v.as_slice() {
                [Value::I64(x)] => *x as i64,
                other => panic!("unexpected {other:?}"),
            }
        }
    }

    /// The oracle has one call path (`invoke` with dynamically typed values): "typed" and
    /// "untyped" are the same here.
    impl super::CallBench for Calls {
        fn typed0(&mut self, iters: u64) {
            self.untyped0(iters)
        }
        fn typed4(&mut self, iters: u64) -> i64 {
            self.untyped4(iters)
        }
        fn untyped0(&mut self, iters: u64) {
            for _ in 0..iters {
                self.store.invoke(self.nop, &[]).unwrap();
            }
        }
        fn untyped4(&mut self, iters: u64) -> i64 {
            let mut acc = 0;
            for i in 0..iters {
                let args = [
                    Value::I32(black_box(i as u32)),
                    Value::I64(2),
                    Value::F32(3.0f32.to_bits()),
                    Value::F64(4.0f64.to_bits()),
                ];
                acc += Self::i64_of(self.store.invoke(self.add4, &args).unwrap());
            }
            acc
        }
        fn host0(&mut self, n: i32) -> i64 {
            Self::i64_of(
                self.store
                    .invoke(self.call_host0, &[Value::I32(n as u32)])
                    .unwrap(),
            )
        }
        fn host4(&mut self, n: i32) -> i64 {
            Self::i64_of(
                self.store
                    .invoke(self.call_host4, &[Value::I32(n as u32)])
                    .unwrap(),
            )
        }
    }
}

#[cfg(feature = "peers")]
mod wasmtime_calls {
    use anyhow::{Result, anyhow};
    use std::hint::black_box;
    use wasmtime::{Func, Linker, Module, Store, TypedFunc, Val};

    pub struct Calls {
        store: Store<()>,
        nop: TypedFunc<(), ()>,
        add4: TypedFunc<(i32, i64, f32, f64), i64>,
        nop_f: Func,
        add4_f: Func,
        call_host0: TypedFunc<i32, i64>,
        call_host4: TypedFunc<i32, i64>,
    }

    impl Calls {
        pub fn new(wasm: &[u8]) -> Result<Calls> {
            let e = |r: wasmtime::Error| anyhow!("{r:?}");
            let engine = crate::engines::peers::wasmtime_engine();
            let module = Module::from_binary(&engine, wasm).map_err(e)?;
            let mut store = Store::new(&engine, ());
            let mut linker = Linker::<()>::new(&engine);
            linker.func_wrap("env", "host0", || {}).map_err(e)?;
            linker
                .func_wrap("env", "host4", |a: i32, b: i64, c: f32, d: f64| {
                    i64::from(a) + b + c as i64 + d as i64
                })
                .map_err(e)?;
            let inst = linker.instantiate(&mut store, &module).map_err(e)?;
            Ok(Calls {
                nop: inst.get_typed_func(&mut store, "nop").map_err(e)?,
                add4: inst.get_typed_func(&mut store, "add4").map_err(e)?,
                nop_f: inst.get_func(&mut store, "nop").unwrap(),
                add4_f: inst.get_func(&mut store, "add4").unwrap(),
                call_host0: inst.get_typed_func(&mut store, "call_host0").map_err(e)?,
                call_host4: inst.get_typed_func(&mut store, "call_host4").map_err(e)?,
                store,
            })
        }
    }

    wasmtime_api_calls!(f32::to_bits, f64::to_bits);
}

#[cfg(feature = "peers")]
mod wasmi_calls {
    use anyhow::{Result, anyhow};
    use std::hint::black_box;
    use wasmi::{Func, Linker, Module, Store, TypedFunc, Val};

    pub struct Calls {
        store: Store<()>,
        nop: TypedFunc<(), ()>,
        add4: TypedFunc<(i32, i64, f32, f64), i64>,
        nop_f: Func,
        add4_f: Func,
        call_host0: TypedFunc<i32, i64>,
        call_host4: TypedFunc<i32, i64>,
    }

    impl Calls {
        pub fn new(wasm: &[u8]) -> Result<Calls> {
            let e = |r: wasmi::Error| anyhow!("{r}");
            let engine = wasmi::Engine::default();
            let module = Module::new(&engine, wasm).map_err(e)?;
            let mut store = Store::new(&engine, ());
            let mut linker = Linker::<()>::new(&engine);
            linker
                .func_wrap("env", "host0", || {})
                .map_err(|x| anyhow!("{x}"))?;
            linker
                .func_wrap("env", "host4", |a: i32, b: i64, c: f32, d: f64| {
                    i64::from(a) + b + c as i64 + d as i64
                })
                .map_err(|x| anyhow!("{x}"))?;
            let inst = linker
                .instantiate_and_start(&mut store, &module)
                .map_err(e)?;
            Ok(Calls {
                nop: inst.get_typed_func(&store, "nop").map_err(e)?,
                add4: inst.get_typed_func(&store, "add4").map_err(e)?,
                nop_f: inst.get_func(&store, "nop").unwrap(),
                add4_f: inst.get_func(&store, "add4").unwrap(),
                call_host0: inst.get_typed_func(&store, "call_host0").map_err(e)?,
                call_host4: inst.get_typed_func(&store, "call_host4").map_err(e)?,
                store,
            })
        }
    }

    wasmtime_api_calls!(Into::into, Into::into);
}
