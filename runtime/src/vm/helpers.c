/* The only place setjmp/longjmp happen. `lockstep_invoke` calls generated code directly,
 * so a longjmp from the trap handler only ever skips generated wasm frames and this C
 * frame's callees, never Rust frames. */
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>

typedef void (*lockstep_tramp_t)(void *vmctx, void *code, void *values);

static __thread sigjmp_buf *lockstep_current = NULL;

/* With `limit` (an outermost entry; NULL when wasm calls the host and the host calls wasm
 * again, which keeps the limit of the entry that started), the store's stack limit is set
 * `max` bytes below this frame's stack pointer, never below `floor`. The limit counts from
 * here, the last host frame before the entry trampoline, and not from the Rust caller: the
 * caller's frames and this frame's jump buffer (200 bytes) used to be charged to wasm, which
 * left it about 530 bytes short of `max` (17 to 33 frames short of Wasmtime, which counts from
 * its entry too). */
int lockstep_invoke(lockstep_tramp_t tramp, void *vmctx, void *code, void *values,
                    uintptr_t *limit, uintptr_t max, uintptr_t floor) {
    sigjmp_buf buf;
    sigjmp_buf *volatile prev = lockstep_current;
    if (limit) {
        uintptr_t sp;
        __asm__ volatile("mov %%rsp, %0" : "=r"(sp));
        uintptr_t l = sp > max ? sp - max : 0;
        *limit = l > floor ? l : floor;
    }
    /* savemask = 0: the handlers run with SA_NODEFER, so no mask needs restoring. */
    if (sigsetjmp(buf, 0) == 0) {
        lockstep_current = &buf;
        tramp(vmctx, code, values);
        lockstep_current = prev;
        return 0;
    }
    lockstep_current = prev;
    return 1;
}

int lockstep_in_wasm(void) { return lockstep_current != NULL; }

void lockstep_unwind(void) { siglongjmp(*lockstep_current, 1); }

/* Exception unwinding (see unwind.rs). Generated code calls `lockstep_throw` with the
 * exception and the frame pointer of the throwing frame; the Rust walker finds the nearest
 * handler and returns normally, so no Rust frame is skipped. Then either we resume at the
 * handler (the frames skipped are generated wasm frames and this C frame, none of which has
 * callee-saved registers to restore: wasm uses Cranelift's `tail` convention, where every
 * register is caller-saved, and the handler reloads what it needs from its frame), or, with
 * no handler before the host boundary, we leave through the sigsetjmp point like a trap. */
#include <stdint.h>

struct lockstep_handler {
    uintptr_t pc, sp, fp;
};

extern int lockstep_find_handler(uintptr_t fp, uint64_t exn, struct lockstep_handler *out);

__attribute__((noreturn)) void lockstep_throw(uint64_t unused, uint64_t exn, uintptr_t fp) {
    (void)unused;
    struct lockstep_handler h;
    if (lockstep_find_handler(fp, exn, &h)) {
        /* The handler takes the exception in the first payload register (rax on x86-64 for
         * the `tail` convention). Fixed registers for the inputs, so none is overwritten
         * before it is read. */
        __asm__ volatile("mov %0, %%rsp\n\t"
                         "mov %1, %%rbp\n\t"
                         "jmp *%2"
                         :
                         : "D"(h.sp), "S"(h.fp), "c"(h.pc), "a"(exn)
                         : "memory");
        __builtin_unreachable();
    }
    lockstep_unwind();
    __builtin_unreachable();
}

/* A throw from the wasm->host shim (see compile.rs), when its host function threw: the walk
 * starts from the shim's frame, whose pointer is the frame pointer saved in this function's
 * own frame (the shim keeps a standard frame). Reading it here rather than passing it keeps
 * the shim from holding its frame pointer in a callee-saved register across the host call
 * (Cranelift merges this path's `get_frame_pointer` with the one passed to the host entry),
 * which cost a save and a restore on every host call for this rare path. */
__attribute__((noreturn)) void lockstep_throw_from_shim(uint64_t unused, uint64_t exn) {
    uintptr_t shim_fp = *(uintptr_t *)__builtin_frame_address(0);
    lockstep_throw(unused, exn, shim_fp);
}

/* GC roots on the wasm stack (see gc.rs). The allocation helper is called by generated code
 * and passes its own frame pointer, whose saved return address is in the allocating wasm
 * function, so the Rust walker can start from there. The empty asm after the call keeps the
 * compiler from turning it into a tail call, which would pop this frame. */
extern uint64_t lockstep_gc_alloc_rust(uint64_t vmctx, uint32_t type_id, uint32_t len,
                                       uint32_t seg_kind, uint32_t seg, uint32_t seg_off,
                                       uintptr_t fp);

uint64_t lockstep_gc_alloc(uint64_t vmctx, uint32_t type_id, uint32_t len, uint32_t seg_kind,
                           uint32_t seg, uint32_t seg_off) {
    uint64_t r = lockstep_gc_alloc_rust(vmctx, type_id, len, seg_kind, seg, seg_off,
                                        (uintptr_t)__builtin_frame_address(0));
    __asm__ volatile("" ::: "memory");
    return r;
}


/* The same for exception objects (a throw allocates, and may collect). */
extern uint64_t lockstep_exn_new_rust(uint64_t vmctx, uint32_t tag, uintptr_t fp);

uint64_t lockstep_exn_new(uint64_t vmctx, uint32_t tag) {
    uint64_t r = lockstep_exn_new_rust(vmctx, tag, (uintptr_t)__builtin_frame_address(0));
    __asm__ volatile("" ::: "memory");
    return r;
}
