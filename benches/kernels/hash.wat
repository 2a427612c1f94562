;; An integer hash loop: FNV-1a over the bytes of a counter, then a 64-bit finaliser step.
;; run(n) hashes the little-endian bytes of the u32 values 0..n.
(module
  (func (export "run") (param $n i32) (result i64)
    (local $i i32) (local $h i64) (local $b i32) (local $x i32)
    (local.set $h (i64.const 0xcbf29ce484222325))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $x (local.get $i))
        (local.set $b (i32.const 0))
        (loop $bytes
          (local.set $h (i64.mul
            (i64.xor (local.get $h) (i64.extend_i32_u (i32.and (local.get $x) (i32.const 0xff))))
            (i64.const 0x100000001b3)))
          (local.set $x (i32.shr_u (local.get $x) (i32.const 8)))
          (local.set $b (i32.add (local.get $b) (i32.const 1)))
          (br_if $bytes (i32.lt_u (local.get $b) (i32.const 4))))
        (local.set $h (i64.xor (local.get $h) (i64.rotl (local.get $h) (i64.const 23))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (local.get $h)))
