//! GC: structs, arrays (packed fields included), `i31`, `ref.eq`, casts and the
//! `any`/`extern` conversions.

use super::*;

fn i32s(v: &[i32]) -> Vec<Value> {
    v.iter().map(|x| Value::I32(*x as u32)).collect()
}

#[test]
fn structs_with_packed_fields() {
    let (mut s, i) = setup_3_0(
        10,
        r#"(module
            (type $s (struct (field (mut i8)) (field (mut i16)) (field (mut i64))))
            (global $g (mut (ref null $s)) (ref.null $s))
            (func (export "make") (param i32)
                (global.set $g (struct.new $s (local.get 0) (local.get 0) (i64.const 5))))
            (func (export "get8s") (result i32) (struct.get_s $s 0 (global.get $g)))
            (func (export "get8u") (result i32) (struct.get_u $s 0 (global.get $g)))
            (func (export "get16s") (result i32) (struct.get_s $s 1 (global.get $g)))
            (func (export "get64") (result i64) (struct.get $s 2 (global.get $g)))
            (func (export "set16") (param i32) (struct.set $s 1 (global.get $g) (local.get 0)))
            (func (export "null") (result i64) (struct.get $s 2 (ref.null $s))))"#,
    );
    call(&mut s, i, "make", &i32s(&[0x1_2380])).unwrap();
    assert_eq!(call1(&mut s, i, "get8s", &[]), Value::I32(-128i32 as u32));
    assert_eq!(call1(&mut s, i, "get8u", &[]), Value::I32(0x80));
    assert_eq!(call1(&mut s, i, "get16s", &[]), Value::I32(0x2380));
    assert_eq!(call1(&mut s, i, "get64", &[]), Value::I64(5));
    call(&mut s, i, "set16", &i32s(&[0xffff_8000u32 as i32])).unwrap();
    assert_eq!(
        call1(&mut s, i, "get16s", &[]),
        Value::I32(-32768i32 as u32)
    );
    let t = trap(&mut s, i, "null", &[]);
    assert_eq!(t.kind, TrapKind::NullReference);
    assert_eq!(t.message, "null structure reference");
}

#[test]
fn arrays_and_their_bounds() {
    let (mut s, i) = setup_3_0(
        10,
        r#"(module
            (type $a (array (mut i8)))
            (type $r (array (mut anyref)))
            (data $d "\01\02\03\04")
            (global $g (mut (ref null $a)) (ref.null $a))
            (func (export "new") (param i32) (global.set $g (array.new $a (i32.const 7) (local.get 0))))
            (func (export "from_data") (param i32 i32)
                (global.set $g (array.new_data $a $d (local.get 0) (local.get 1))))
            (func (export "len") (result i32) (array.len (global.get $g)))
            (func (export "get") (param i32) (result i32) (array.get_u $a (global.get $g) (local.get 0)))
            (func (export "fill") (param i32 i32 i32)
                (array.fill $a (global.get $g) (local.get 0) (local.get 1) (local.get 2)))
            (func (export "copy") (param i32 i32 i32)
                (array.copy $a $a (global.get $g) (local.get 0) (global.get $g) (local.get 1) (local.get 2)))
            (func (export "fixed") (result i32)
                (array.len (array.new_fixed $r 3 (ref.i31 (i32.const 1)) (ref.null any) (ref.null none))))
            (func (export "null_len") (result i32) (array.len (ref.null $a))))"#,
    );
    call(&mut s, i, "new", &i32s(&[4])).unwrap();
    assert_eq!(call1(&mut s, i, "len", &[]), Value::I32(4));
    assert_eq!(call1(&mut s, i, "get", &i32s(&[3])), Value::I32(7));
    let t = trap(&mut s, i, "get", &i32s(&[4]));
    assert_eq!(t.kind, TrapKind::OutOfBoundsArrayAccess);
    assert_eq!(t.message, "out of bounds array access");
    call(&mut s, i, "from_data", &i32s(&[1, 3])).unwrap();
    assert_eq!(call1(&mut s, i, "get", &i32s(&[0])), Value::I32(2));
    let t = trap(&mut s, i, "from_data", &i32s(&[2, 3]));
    assert_eq!(t.kind, TrapKind::OutOfBoundsMemoryAccess);
    // A length beyond the segment is out of bounds, however large.
    let t = trap(&mut s, i, "from_data", &i32s(&[0, -1]));
    assert_eq!(t.kind, TrapKind::OutOfBoundsMemoryAccess);
    // Overlapping copy within one array moves like memmove: [2, 3, 4] -> [2, 2, 3].
    call(&mut s, i, "copy", &i32s(&[1, 0, 2])).unwrap();
    let got: Vec<Value> = (0..3)
        .map(|k| call1(&mut s, i, "get", &i32s(&[k])))
        .collect();
    assert_eq!(got, i32s(&[2, 2, 3]));
    let t = trap(&mut s, i, "fill", &i32s(&[2, 9, 2]));
    assert_eq!(t.kind, TrapKind::OutOfBoundsArrayAccess);
    call(&mut s, i, "fill", &i32s(&[1, 0x1ff, 2])).unwrap();
    assert_eq!(call1(&mut s, i, "get", &i32s(&[2])), Value::I32(0xff));
    assert_eq!(call1(&mut s, i, "fixed", &[]), Value::I32(3));
    assert_eq!(
        trap(&mut s, i, "null_len", &[]).message,
        "null array reference"
    );
}

#[test]
fn i31_eq_and_conversions() {
    let (mut s, i) = setup_3_0(
        10,
        r#"(module
            (type $s (struct))
            (func (export "i31") (param i32) (result i32 i32)
                (i31.get_s (ref.i31 (local.get 0))) (i31.get_u (ref.i31 (local.get 0))))
            (func (export "eq") (result i32 i32 i32)
                (local $a (ref $s))
                (local.set $a (struct.new $s))
                (ref.eq (local.get $a) (local.get $a))
                (ref.eq (local.get $a) (struct.new $s))
                (ref.eq (ref.i31 (i32.const 5)) (ref.i31 (i32.const 5))))
            (func (export "round_trip") (result i32)
                (local $a (ref $s))
                (local.set $a (struct.new $s))
                (ref.eq (local.get $a)
                    (ref.cast (ref $s) (any.convert_extern (extern.convert_any (local.get $a))))))
            (func (export "externalize") (result externref)
                (extern.convert_any (ref.i31 (i32.const 3))))
            (func (export "host") (param externref) (result anyref) (any.convert_extern (local.get 0)))
            (func (export "null_i31") (result i32) (i31.get_u (ref.null i31))))"#,
    );
    let r = call(&mut s, i, "i31", &i32s(&[-1])).unwrap();
    assert_eq!(r, vec![Value::I32(u32::MAX), Value::I32(0x7fff_ffff)]);
    let r = call(&mut s, i, "i31", &i32s(&[0x4000_0000])).unwrap();
    assert_eq!(r, vec![Value::I32(0xc000_0000), Value::I32(0x4000_0000)]);
    assert_eq!(call(&mut s, i, "eq", &[]).unwrap(), i32s(&[1, 0, 1]));
    assert_eq!(call1(&mut s, i, "round_trip", &[]), Value::I32(1));
    let r = call1(&mut s, i, "externalize", &[]);
    assert_eq!(r, Value::Externalized(AnyRef::I31(3)));
    let r = call1(&mut s, i, "host", &[Value::ExternRef(Some(9))]);
    assert_eq!(r, Value::AnyRef(Some(AnyRef::Host(9))));
    assert_eq!(
        trap(&mut s, i, "null_i31", &[]).message,
        "null i31 reference"
    );
}

#[test]
fn casts_follow_the_dynamic_type() {
    let (mut s, i) = setup_3_0(
        10,
        r#"(module
            (type $base (sub (struct (field i32))))
            (type $derived (sub $base (struct (field i32) (field i64))))
            (type $other (struct (field i32)))
            (func (export "test") (param i32) (result i32 i32 i32 i32)
                (local $r anyref)
                (local.set $r (if (result anyref) (local.get 0)
                    (then (struct.new $derived (i32.const 1) (i64.const 2)))
                    (else (struct.new $base (i32.const 1)))))
                (ref.test (ref $base) (local.get $r))
                (ref.test (ref $derived) (local.get $r))
                (ref.test (ref $other) (local.get $r))
                (ref.test (ref eq) (local.get $r)))
            (func (export "cast") (result i32)
                (struct.get $base 0 (ref.cast (ref $base) (struct.new $other (i32.const 3)))))
            (func (export "null") (result i32 i32)
                (ref.test (ref null $base) (ref.null none))
                (ref.test (ref $base) (ref.null none)))
            (func (export "br_on_cast") (param anyref) (result i32)
                (block $is_i31 (result (ref i31))
                    (br_on_cast $is_i31 anyref (ref i31) (local.get 0))
                    (drop)
                    (return (i32.const -1)))
                (i31.get_u))
            (func (export "br_on_cast_fail") (param anyref) (result i32)
                (block $not_i31 (result anyref)
                    (return (i31.get_u (br_on_cast_fail $not_i31 anyref (ref i31) (local.get 0)))))
                (drop)
                (i32.const -1)))"#,
    );
    assert_eq!(
        call(&mut s, i, "test", &i32s(&[1])).unwrap(),
        i32s(&[1, 1, 0, 1])
    );
    assert_eq!(
        call(&mut s, i, "test", &i32s(&[0])).unwrap(),
        i32s(&[1, 0, 0, 1])
    );
    let t = trap(&mut s, i, "cast", &[]);
    assert_eq!(t.kind, TrapKind::CastFailure);
    assert_eq!(t.message, "cast failure");
    assert_eq!(call(&mut s, i, "null", &[]).unwrap(), i32s(&[1, 0]));
    for name in ["br_on_cast", "br_on_cast_fail"] {
        let i31 = Value::AnyRef(Some(AnyRef::I31(6)));
        assert_eq!(call1(&mut s, i, name, &[i31]), Value::I32(6));
        let host = Value::AnyRef(Some(AnyRef::Host(1)));
        assert_eq!(call1(&mut s, i, name, &[host]), Value::I32(u32::MAX));
    }
}

#[test]
fn constant_expressions_allocate_and_the_heap_is_bounded() {
    let mut s = Store::new(Config {
        features: WasmFeatures::WASM3,
        max_objects: 4,
        ..Config::default()
    });
    let i = instantiate(
        &mut s,
        r#"(module
            (type $a (array i32))
            (global $g (ref $a) (array.new_fixed $a 2 (i32.const 10) (i32.const 20)))
            (func (export "second") (result i32) (array.get $a (global.get $g) (i32.const 1)))
            (func (export "alloc") (drop (array.new_default $a (i32.const 1))))
            (func (export "huge") (drop (array.new_default $a (i32.const -1)))))"#,
    );
    assert_eq!(call1(&mut s, i, "second", &[]), Value::I32(20));
    let t = trap(&mut s, i, "huge", &[]);
    assert!(t.message.contains("allocation limit"), "{t}");
    for _ in 0..3 {
        call(&mut s, i, "alloc", &[]).unwrap();
    }
    let t = trap(&mut s, i, "alloc", &[]);
    assert!(t.message.contains("allocation limit"), "{t}");
}

#[test]
fn object_views_read_a_bounded_prefix() {
    let (s, i) = setup_3_0(
        10,
        r#"(module
            (type $a (array (mut i8)))
            (global (export "g") (ref $a) (array.new $a (i32.const 0x1ff) (i32.const 100000))))"#,
    );
    let Some(Extern::Global(g)) = s.export(i, "g") else {
        panic!("no global g")
    };
    let Value::AnyRef(Some(AnyRef::Array(a))) = s.global_get(g) else {
        panic!("not an array: {:?}", s.global_get(g))
    };
    let view = s.object(a, 3).unwrap();
    assert!(view.is_array);
    assert_eq!(view.len, 100_000);
    // Packed elements read zero-extended: 0x1ff stored as an i8 is 0xff.
    assert_eq!(view.fields, i32s(&[0xff, 0xff, 0xff]));
    assert_eq!(s.object(a, usize::MAX).unwrap().fields.len(), 100_000);
}
