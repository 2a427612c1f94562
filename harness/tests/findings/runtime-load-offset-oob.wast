;; Found by tests/proptest_ops.rs (memory_access): a load whose address plus static offset lies
;; past the end of memory returns 0 on the runtime instead of trapping.
;; replay: lockstep wast --engine all harness/tests/findings/runtime-load-offset-oob.wast
(module
  (memory (export "mem") 2 2)
  (func (export "f") (param i32) (result i32) (i32.load offset=131072 align=1 (local.get 0))))
(assert_trap (invoke "f" (i32.const 0x80000000)) "out of bounds memory access")
