;; Exceptions across frames: each round recurses `i & 15` calls deep and, on three rounds of
;; four, throws the round's value from the bottom to a `try_table` in `run`; the fourth round
;; returns normally. The cost measured is the throw, the unwinding of up to 15 frames and the
;; catch, against the plain calls and returns of the other rounds.
;; run(n) = sum over i < n of (i * 3 + 1 when i % 4 != 0, else 7), wrapping in 64 bits.
(module
  (tag $found (param i64))
  (func $down (param $depth i32) (param $i i32) (result i64)
    (if (i32.eqz (local.get $depth))
      (then
        (if (i32.and (local.get $i) (i32.const 3))
          (then
            (throw $found
              (i64.add
                (i64.mul (i64.extend_i32_u (local.get $i)) (i64.const 3))
                (i64.const 1)))))
        (return (i64.const 7))))
    (call $down (i32.sub (local.get $depth) (i32.const 1)) (local.get $i)))
  (func (export "run") (param $n i32) (result i64)
    (local $i i32) (local $acc i64)
    (block $done
      (loop $round
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $acc
          (i64.add (local.get $acc)
            (block $caught (result i64)
              (try_table (result i64) (catch $found $caught)
                (call $down (i32.and (local.get $i) (i32.const 15)) (local.get $i))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $round)))
    (local.get $acc)))
