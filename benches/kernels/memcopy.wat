;; Memory copy: a 64 KiB buffer copied word by word (i64 load/store loop) and with
;; memory.copy (a one-byte shift), n times. run(n) = a checksum of the destination.
(module
  (memory 4)
  (func (export "run") (param $n i32) (result i64)
    (local $i i32) (local $k i32) (local $h i64)
    ;; src = [0, 65536), dst = [65536, 131072); src[i] = (i * 31) & 0xff
    (loop $init
      (i32.store8 (local.get $i) (i32.mul (local.get $i) (i32.const 31)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $init (i32.lt_u (local.get $i) (i32.const 65536))))
    (block $done
      (loop $iter
        (br_if $done (i32.ge_u (local.get $k) (local.get $n)))
        ;; dst <- src, 8 bytes at a time
        (local.set $i (i32.const 0))
        (loop $copy
          (i64.store offset=65536 (local.get $i) (i64.load (local.get $i)))
          (local.set $i (i32.add (local.get $i) (i32.const 8)))
          (br_if $copy (i32.lt_u (local.get $i) (i32.const 65536))))
        ;; src[0..65535) <- dst[1..65536), then src[65535] = k
        (memory.copy (i32.const 0) (i32.const 65537) (i32.const 65535))
        (i32.store8 (i32.const 65535) (local.get $k))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $iter)))
    ;; checksum of dst as i64 words: h = h * 31 + w
    (local.set $i (i32.const 0))
    (loop $sum
      (local.set $h (i64.add (i64.mul (local.get $h) (i64.const 31))
        (i64.load offset=65536 (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 8)))
      (br_if $sum (i32.lt_u (local.get $i) (i32.const 65536))))
    (local.get $h)))
