use lockstep_runtime::*;

fn instance(wat: &str) -> (Store<()>, Instance) {
    let engine = Engine::default();
    let module = Module::new(&engine, wat).unwrap();
    let mut store = Store::new(&engine, ());
    let inst = Instance::new(&mut store, &module, &[]).unwrap();
    (store, inst)
}

#[test]
fn add() {
    let (mut store, inst) = instance(
        r#"(module (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))"#,
    );
    let f = inst
        .get_typed_func::<(i32, i32), i32>(&mut store, "add")
        .unwrap();
    assert_eq!(f.call(&mut store, (2, 40)).unwrap(), 42);
    let g = inst.get_func(&mut store, "add").unwrap();
    let mut r = [Val::I32(0)];
    g.call(&mut store, &[Val::I32(1), Val::I32(2)], &mut r)
        .unwrap();
    assert_eq!(r[0], Val::I32(3));
}

#[test]
fn traps() {
    let (mut store, inst) = instance(
        r#"(module
            (memory 1)
            (func (export "unreachable") unreachable)
            (func (export "div") (param i32 i32) (result i32) local.get 0 local.get 1 i32.div_s)
            (func (export "rem") (param i32 i32) (result i32) local.get 0 local.get 1 i32.rem_s)
            (func (export "load") (param i32) (result i32) local.get 0 i32.load)
            (func (export "load_far") (param i32) (result i32) local.get 0 i32.load offset=0xfffffff0)
            (func $rec (export "rec") (param i32) (result i32) local.get 0 call $rec)
        )"#,
    );
    let f = inst
        .get_typed_func::<(), ()>(&mut store, "unreachable")
        .unwrap();
    let e = f.call(&mut store, ()).unwrap_err();
    assert_eq!(e.code(), TrapCode::Unreachable, "{e}");
    let div = inst
        .get_typed_func::<(i32, i32), i32>(&mut store, "div")
        .unwrap();
    assert_eq!(
        div.call(&mut store, (1, 0)).unwrap_err().code(),
        TrapCode::IntegerDivideByZero
    );
    assert_eq!(
        div.call(&mut store, (i32::MIN, -1)).unwrap_err().code(),
        TrapCode::IntegerOverflow
    );
    let rem = inst
        .get_typed_func::<(i32, i32), i32>(&mut store, "rem")
        .unwrap();
    assert_eq!(rem.call(&mut store, (i32::MIN, -1)).unwrap(), 0);
    let load = inst.get_typed_func::<i32, i32>(&mut store, "load").unwrap();
    assert_eq!(load.call(&mut store, 65532).unwrap(), 0);
    assert_eq!(
        load.call(&mut store, 65533).unwrap_err().code(),
        TrapCode::MemoryOutOfBounds
    );
    assert_eq!(
        load.call(&mut store, -1).unwrap_err().code(),
        TrapCode::MemoryOutOfBounds
    );
    let far = inst
        .get_typed_func::<i32, i32>(&mut store, "load_far")
        .unwrap();
    assert_eq!(
        far.call(&mut store, -1).unwrap_err().code(),
        TrapCode::MemoryOutOfBounds
    );
    let rec = inst.get_typed_func::<i32, i32>(&mut store, "rec").unwrap();
    let e = rec.call(&mut store, 0).unwrap_err();
    assert_eq!(e.code(), TrapCode::StackOverflow);
    assert_eq!(div.call(&mut store, (7, 2)).unwrap(), 3);
}

#[test]
fn many_params_and_results() {
    let (mut store, inst) = instance(
        r#"(module
      (func (export "many") (param i32 i64 f32 f64 i32 i64 f32 f64 i32 i64 f32 f64)
        (result i32 i64 f32 f64 i32 i64 f32 f64 i32 i64 f32 f64 i32 i64 f32 f64 i32 i32 i32 i32)
        local.get 0 local.get 1 local.get 2 local.get 3 local.get 4 local.get 5
        local.get 6 local.get 7 local.get 8 local.get 9 local.get 10 local.get 11
        i32.const 1 i64.const 2 f32.const 3 f64.const 4
        i32.const 5 i32.const 6 i32.const 7 i32.const 8))"#,
    );
    let many = inst.get_func(&mut store, "many").unwrap();
    let args: Vec<Val> = (0..12)
        .map(|i| match i % 4 {
            0 => Val::I32(i),
            1 => Val::I64(i as i64),
            2 => Val::from(i as f32),
            _ => Val::from(i as f64),
        })
        .collect();
    let mut out = vec![Val::I32(0); 20];
    many.call(&mut store, &args, &mut out).unwrap();
    assert_eq!(&out[..12], &args[..]);
    assert_eq!(out[15], Val::F64(4f64.to_bits()));
    assert_eq!(out[19], Val::I32(8));
}

/// v128 values cross every boundary: typed and untyped calls, host functions, globals,
/// locals and block results.
#[test]
fn v128_crosses_the_host_boundary() {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
            (import "host" "swap" (func $swap (param v128) (result v128)))
            (global (export "g") (mut v128) (v128.const i32x4 1 2 3 4))
            (func (export "add") (param v128 v128) (result v128)
                local.get 0 local.get 1 i32x4.add)
            (func (export "via_host") (param v128) (result v128 i32)
                (local v128)
                (local.set 1 (call $swap (local.get 0)))
                (block (result v128) (local.get 1))
                (i32x4.extract_lane 3 (global.get 0)))
            (func (export "set_g") (param v128) (global.set 0 (local.get 0))))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    // Swap the two 64-bit halves.
    let swap = Func::wrap(&mut store, |v: u128| v.rotate_left(64)).unwrap();
    let inst = Instance::new(&mut store, &module, &[Extern::Func(swap)]).unwrap();

    let lanes = |l: [u32; 4]| {
        l.iter()
            .rev()
            .fold(0u128, |acc, &x| (acc << 32) | x as u128)
    };
    let add = inst
        .get_typed_func::<(u128, u128), u128>(&mut store, "add")
        .unwrap();
    assert_eq!(
        add.call(
            &mut store,
            (lanes([1, 2, 3, u32::MAX]), lanes([10, 20, 30, 1]))
        )
        .unwrap(),
        lanes([11, 22, 33, 0])
    );

    let via_host = inst.get_func(&mut store, "via_host").unwrap();
    let mut out = [Val::V128(0), Val::I32(0)];
    via_host
        .call(&mut store, &[Val::V128(lanes([5, 6, 7, 8]))], &mut out)
        .unwrap();
    assert_eq!(out, [Val::V128(lanes([7, 8, 5, 6])), Val::I32(4)]);

    let g = inst.get_global(&mut store, "g").unwrap();
    assert_eq!(g.get(&mut store), Val::V128(lanes([1, 2, 3, 4])));
    let set_g = inst
        .get_typed_func::<u128, ()>(&mut store, "set_g")
        .unwrap();
    set_g.call(&mut store, u128::MAX).unwrap();
    assert_eq!(g.get(&mut store), Val::V128(u128::MAX));
    g.set(&mut store, Val::V128(7)).unwrap();
    via_host
        .call(&mut store, &[Val::V128(0)], &mut out)
        .unwrap();
    assert_eq!(out[1], Val::I32(0));
}
