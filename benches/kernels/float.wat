;; Float math: a Mandelbrot escape-time count over an n x n grid (up to 100 iterations
;; per point), plus an f64.sqrt per point, in f64. run(n) = total iterations + trunc(sum of sqrt).
(module
  (func (export "run") (param $n i32) (result i64)
    (local $px i32) (local $py i32) (local $it i32) (local $total i64)
    (local $cx f64) (local $cy f64) (local $x f64) (local $y f64) (local $xx f64) (local $yy f64)
    (local $step f64) (local $roots f64)
    (local.set $step (f64.div (f64.const 3) (f64.convert_i32_u (local.get $n))))
    (block $ydone
      (loop $yl
        (br_if $ydone (i32.ge_u (local.get $py) (local.get $n)))
        (local.set $cy (f64.sub (f64.mul (f64.convert_i32_u (local.get $py)) (local.get $step)) (f64.const 1.5)))
        (local.set $px (i32.const 0))
        (block $xdone
          (loop $xl
            (br_if $xdone (i32.ge_u (local.get $px) (local.get $n)))
            (local.set $cx (f64.sub (f64.mul (f64.convert_i32_u (local.get $px)) (local.get $step)) (f64.const 2)))
            (local.set $x (f64.const 0))
            (local.set $y (f64.const 0))
            (local.set $it (i32.const 0))
            (block $esc
              (loop $il
                (local.set $xx (f64.mul (local.get $x) (local.get $x)))
                (local.set $yy (f64.mul (local.get $y) (local.get $y)))
                (br_if $esc (f64.gt (f64.add (local.get $xx) (local.get $yy)) (f64.const 4)))
                (br_if $esc (i32.ge_u (local.get $it) (i32.const 100)))
                (local.set $y (f64.add (f64.mul (f64.mul (f64.const 2) (local.get $x)) (local.get $y)) (local.get $cy)))
                (local.set $x (f64.add (f64.sub (local.get $xx) (local.get $yy)) (local.get $cx)))
                (local.set $it (i32.add (local.get $it) (i32.const 1)))
                (br $il)))
            (local.set $total (i64.add (local.get $total) (i64.extend_i32_u (local.get $it))))
            (local.set $roots (f64.add (local.get $roots)
              (f64.sqrt (f64.add (local.get $xx) (local.get $yy)))))
            (local.set $px (i32.add (local.get $px) (i32.const 1)))
            (br $xl)))
        (local.set $py (i32.add (local.get $py) (i32.const 1)))
        (br $yl)))
    (i64.add (local.get $total) (i64.trunc_f64_s (local.get $roots)))))
