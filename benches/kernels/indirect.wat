;; A loop dominated by call_indirect through a table of four functions of one type.
;; run(n): acc = 1; for i in 0..n: acc = table[(i ^ acc) & 3](acc, i).
(module
  (type $op (func (param i32 i32) (result i32)))
  (table 4 funcref)
  (elem (i32.const 0) $add $sub $xor $mul)
  (func $add (type $op) (i32.add (local.get 0) (local.get 1)))
  (func $sub (type $op) (i32.sub (local.get 0) (i32.shl (local.get 1) (i32.const 1))))
  (func $xor (type $op) (i32.xor (local.get 0) (i32.mul (local.get 1) (i32.const 0x9e3779b9))))
  (func $mul (type $op) (i32.mul (i32.or (local.get 0) (i32.const 1)) (i32.const 0x01000193)))
  (func (export "run") (param $n i32) (result i64)
    (local $i i32) (local $acc i32)
    (local.set $acc (i32.const 1))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $acc
          (call_indirect (type $op)
            (local.get $acc) (local.get $i)
            (i32.and (i32.xor (local.get $i) (local.get $acc)) (i32.const 3))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (i64.extend_i32_u (local.get $acc))))
