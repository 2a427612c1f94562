(module
  (type (;0;) (func (result i64)))
  (memory (;0;) 0 1)
  (global (;0;) (mut i32) i32.const 0)
  (global (;1;) (mut i64) i64.const 0)
  (global (;2;) (mut i32) i32.const 48)
  (export "" (func 0))
  (func (;0;) (type 0) (result i64)
    (local externref externref)
    i32.const 0
    if ;; label = @1
      unreachable
    end
    i32.const 0
    global.set 2
    i32.const -1904146251
    i32.load8_u
    loop (result i64) ;; label = @1
      global.get 2
      if ;; label = @2
        unreachable
      end
      i32.const 0
      global.set 2
      i64.const 0
      memory.size
      i64.const 1
      i32.const 1
      if (result i64) ;; label = @2
        loop (result externref) ;; label = @3
          i32.const 1
          if ;; label = @4
            unreachable
          end
          global.get 2
          global.set 2
          i64.const 0
          block (result i32) ;; label = @4
            memory.size
            block ;; label = @5
              i64.const 0
              block (result i64) ;; label = @6
                i64.const 0
              end
              global.get 1
              i64.xor
              global.set 1
              i64.const 0
              i64.xor
              global.set 1
            end
          end
          i32.const 0
          i32.xor
          global.set 0
          global.get 1
          i64.xor
          global.set 1
          ref.null extern
        end
        drop
        i64.const 1
      else
        i64.const 0
      end
      global.get 1
      i64.xor
      global.set 1
      global.get 1
      i64.xor
      global.set 1
      global.get 0
      i32.xor
      global.set 0
    end
    global.get 1
    i64.xor
    global.set 1
    global.get 0
    i32.xor
    global.set 0
    i64.const 0
  )
)
