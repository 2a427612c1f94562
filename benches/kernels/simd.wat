;; A 128-bit SIMD loop: 4096 u32 words in memory, processed four lanes at a time.
;; Each round, for every 16-byte chunk v: acc += v * v (lane-wise), then the chunk becomes
;; (v ^ v rotated by one lane) + 1. run(n) does n rounds and returns the sum of acc's lanes.
(module
  (memory 1)
  (func (export "run") (param $n i32) (result i64)
    (local $i i32) (local $k i32) (local $v v128) (local $acc v128)
    (block $filled
      (loop $fill
        (br_if $filled (i32.ge_u (local.get $i) (i32.const 4096)))
        (i32.store (i32.shl (local.get $i) (i32.const 2))
          (i32.shr_u (i32.mul (local.get $i) (i32.const 0x9e3779b1)) (i32.const 16)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $fill)))
    (block $done
      (loop $round
        (br_if $done (i32.ge_u (local.get $k) (local.get $n)))
        (local.set $i (i32.const 0))
        (loop $chunk
          (local.set $v (v128.load (local.get $i)))
          (local.set $acc
            (i32x4.add (local.get $acc) (i32x4.mul (local.get $v) (local.get $v))))
          (v128.store (local.get $i)
            (i32x4.add
              (v128.xor (local.get $v)
                (i8x16.shuffle 4 5 6 7 8 9 10 11 12 13 14 15 0 1 2 3
                  (local.get $v) (local.get $v)))
              (i32x4.splat (i32.const 1))))
          (local.set $i (i32.add (local.get $i) (i32.const 16)))
          (br_if $chunk (i32.lt_u (local.get $i) (i32.const 16384))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $round)))
    (i64.add
      (i64.add
        (i64.extend_i32_u (i32x4.extract_lane 0 (local.get $acc)))
        (i64.extend_i32_u (i32x4.extract_lane 1 (local.get $acc))))
      (i64.add
        (i64.extend_i32_u (i32x4.extract_lane 2 (local.get $acc)))
        (i64.extend_i32_u (i32x4.extract_lane 3 (local.get $acc)))))))
