//! Compile a module, link a host function, instantiate, call, and catch a trap.

use lockstep_runtime::{Caller, Engine, Linker, Module, Store, Trap, TrapCode};

pub fn main() -> Result<(), Box<dyn std::error::Error>> {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
            (import "host" "log" (func $log (param i32)))
            (func $fib (export "fib") (param i32) (result i32)
              local.get 0
              i32.const 2
              i32.lt_u
              if (result i32)
                local.get 0
              else
                local.get 0 i32.const 1 i32.sub call $fib
                local.get 0 i32.const 2 i32.sub call $fib
                i32.add
              end)
            (func (export "report") (param i32)
              local.get 0 call $fib call $log)
            (func (export "divide") (param i32 i32) (result i32)
              local.get 0 local.get 1 i32.div_u))"#,
    )?;

    let mut linker = Linker::new(&engine);
    linker.func_wrap("host", "log", |mut caller: Caller<'_, Vec<i32>>, v: i32| {
        caller.data_mut().push(v);
    })?;
    let mut store = Store::new(&engine, Vec::new());
    let instance = linker.instantiate(&mut store, &module)?;

    let fib = instance.get_typed_func::<i32, i32>(&mut store, "fib")?;
    println!("fib(20) = {}", fib.call(&mut store, 20)?);

    let report = instance.get_typed_func::<i32, ()>(&mut store, "report")?;
    report.call(&mut store, 10)?;
    println!("host saw {:?}", store.data());

    let divide = instance.get_typed_func::<(i32, i32), i32>(&mut store, "divide")?;
    let trap: Trap = divide.call(&mut store, (1, 0)).unwrap_err();
    assert_eq!(trap.code(), TrapCode::IntegerDivideByZero);
    println!("caught trap: {trap}");
    Ok(())
}
