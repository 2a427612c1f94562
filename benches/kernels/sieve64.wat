;; The sieve kernel (sieve.wat) on a 64-bit memory: the same loops with i64 addresses, so the
;; ratio to sieve shows what memory64's explicit bounds checks cost (no guard region can cover
;; a 64-bit index space).
;; run(n) = number of primes below n (n <= 2,000,000).
(module
  (memory i64 32)
  (func (export "run") (param $n32 i32) (result i64)
    (local $n i64) (local $i i64) (local $j i64) (local $count i64)
    (local.set $n (i64.extend_i32_u (local.get $n32)))
    (memory.fill (i64.const 0) (i32.const 0) (local.get $n))
    (local.set $i (i64.const 2))
    (block $done
      (loop $outer
        (br_if $done (i64.ge_u (local.get $i) (local.get $n)))
        (if (i32.eqz (i32.load8_u (local.get $i)))
          (then
            (local.set $count (i64.add (local.get $count) (i64.const 1)))
            (block $inner_done
              (local.set $j (i64.mul (local.get $i) (local.get $i)))
              (loop $inner
                (br_if $inner_done (i64.ge_u (local.get $j) (local.get $n)))
                (i32.store8 (local.get $j) (i32.const 1))
                (local.set $j (i64.add (local.get $j) (local.get $i)))
                (br $inner)))))
        (local.set $i (i64.add (local.get $i) (i64.const 1)))
        (br $outer)))
    (local.get $count)))
