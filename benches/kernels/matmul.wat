;; Dense f64 matrix multiply C = A * B, n x n (n <= 200), row-major in linear memory.
;; A[i][k] = (i + 2k) mod 7, B[k][j] = (3k + j) mod 5: every product and sum is an exact
;; integer, so run(n) = trunc(sum of C) is exact.
(module
  (memory 16)
  (func (export "run") (param $n i32) (result i64)
    (local $i i32) (local $j i32) (local $k i32)
    (local $a i32) (local $b i32) (local $c i32) (local $nn i32)
    (local $acc f64) (local $sum f64)
    (local.set $nn (i32.mul (local.get $n) (local.get $n)))
    (local.set $a (i32.const 0))
    (local.set $b (i32.shl (local.get $nn) (i32.const 3)))
    (local.set $c (i32.shl (local.get $nn) (i32.const 4)))
    ;; fill A and B
    (local.set $i (i32.const 0))
    (loop $fi
      (local.set $j (i32.const 0))
      (loop $fj
        (f64.store
          (i32.add (local.get $a)
            (i32.shl (i32.add (i32.mul (local.get $i) (local.get $n)) (local.get $j)) (i32.const 3)))
          (f64.convert_i32_u
            (i32.rem_u (i32.add (local.get $i) (i32.shl (local.get $j) (i32.const 1))) (i32.const 7))))
        (f64.store
          (i32.add (local.get $b)
            (i32.shl (i32.add (i32.mul (local.get $i) (local.get $n)) (local.get $j)) (i32.const 3)))
          (f64.convert_i32_u
            (i32.rem_u (i32.add (i32.mul (local.get $i) (i32.const 3)) (local.get $j)) (i32.const 5))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br_if $fj (i32.lt_u (local.get $j) (local.get $n))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $fi (i32.lt_u (local.get $i) (local.get $n))))
    ;; multiply
    (local.set $i (i32.const 0))
    (loop $mi
      (local.set $j (i32.const 0))
      (loop $mj
        (local.set $acc (f64.const 0))
        (local.set $k (i32.const 0))
        (loop $mk
          (local.set $acc
            (f64.add (local.get $acc)
              (f64.mul
                (f64.load (i32.add (local.get $a)
                  (i32.shl (i32.add (i32.mul (local.get $i) (local.get $n)) (local.get $k)) (i32.const 3))))
                (f64.load (i32.add (local.get $b)
                  (i32.shl (i32.add (i32.mul (local.get $k) (local.get $n)) (local.get $j)) (i32.const 3)))))))
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (br_if $mk (i32.lt_u (local.get $k) (local.get $n))))
        (f64.store
          (i32.add (local.get $c)
            (i32.shl (i32.add (i32.mul (local.get $i) (local.get $n)) (local.get $j)) (i32.const 3)))
          (local.get $acc))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br_if $mj (i32.lt_u (local.get $j) (local.get $n))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $mi (i32.lt_u (local.get $i) (local.get $n))))
    ;; checksum
    (local.set $sum (f64.const 0))
    (local.set $i (i32.const 0))
    (loop $s
      (local.set $sum (f64.add (local.get $sum)
        (f64.load (i32.add (local.get $c) (i32.shl (local.get $i) (i32.const 3))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $s (i32.lt_u (local.get $i) (local.get $nn))))
    (i64.trunc_f64_s (local.get $sum))))
