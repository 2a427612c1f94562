;; GC allocation and field traffic: a linked list of `n` structs built and summed, then
;; `n / 64` rounds that each fill a fresh array of 64 point structs and sum `x * y` over it.
;; Every object is garbage by the end of its round, so a collector with a heap limit below the
;; total allocated has to reclaim.
;; run(n) = n (n - 1) / 2 + sum over r < n / 64, j < 64 of r * j, wrapping in 64 bits.
(module
  (type $node (struct (field $value i64) (field $next (ref null $node))))
  (type $point (struct (field $x (mut i32)) (field $y (mut i32))))
  (type $points (array (mut (ref null $point))))
  (func $list_sum (param $n i32) (result i64)
    (local $i i32) (local $head (ref null $node)) (local $acc i64)
    (block $built
      (loop $build
        (br_if $built (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $head
          (struct.new $node (i64.extend_i32_u (local.get $i)) (local.get $head)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $build)))
    (block $summed
      (loop $walk
        (br_if $summed (ref.is_null (local.get $head)))
        (local.set $acc
          (i64.add (local.get $acc) (struct.get $node $value (local.get $head))))
        (local.set $head (struct.get $node $next (local.get $head)))
        (br $walk)))
    (local.get $acc))
  (func $points_sum (param $rounds i32) (result i64)
    (local $r i32) (local $j i32) (local $arr (ref null $points)) (local $acc i64)
    (local $p (ref null $point))
    (block $done
      (loop $round
        (br_if $done (i32.ge_u (local.get $r) (local.get $rounds)))
        (local.set $arr (array.new_default $points (i32.const 64)))
        (local.set $j (i32.const 0))
        (loop $fill
          (array.set $points (local.get $arr) (local.get $j)
            (struct.new $point (local.get $r) (local.get $j)))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br_if $fill (i32.lt_u (local.get $j) (i32.const 64))))
        (local.set $j (i32.const 0))
        (loop $sum
          (local.set $p (array.get $points (local.get $arr) (local.get $j)))
          (local.set $acc
            (i64.add (local.get $acc)
              (i64.mul
                (i64.extend_i32_u (struct.get $point $x (local.get $p)))
                (i64.extend_i32_u (struct.get $point $y (local.get $p))))))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br_if $sum (i32.lt_u (local.get $j) (i32.const 64))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $round)))
    (local.get $acc))
  (func (export "run") (param $n i32) (result i64)
    (i64.add
      (call $list_sum (local.get $n))
      (call $points_sum (i32.div_u (local.get $n) (i32.const 64))))))
