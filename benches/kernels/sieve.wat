;; Sieve of Eratosthenes over a byte array in linear memory.
;; run(n) = number of primes below n (n <= 2,000,000).
(module
  (memory 32)
  (func (export "run") (param $n i32) (result i64)
    (local $i i32) (local $j i32) (local $count i64)
    ;; clear flags 0..n
    (memory.fill (i32.const 0) (i32.const 0) (local.get $n))
    (local.set $i (i32.const 2))
    (block $done
      (loop $outer
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (if (i32.eqz (i32.load8_u (local.get $i)))
          (then
            (local.set $count (i64.add (local.get $count) (i64.const 1)))
            (local.set $j (i32.mul (local.get $i) (local.get $i)))
            ;; i*i may overflow past n only for i > 46340, where the loop below exits at once
            (if (i32.le_u (local.get $i) (i32.const 46340))
              (then
                (block $inner_done
                  (loop $inner
                    (br_if $inner_done (i32.ge_u (local.get $j) (local.get $n)))
                    (i32.store8 (local.get $j) (i32.const 1))
                    (local.set $j (i32.add (local.get $j) (local.get $i)))
                    (br $inner)))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $outer)))
    (local.get $count)))
