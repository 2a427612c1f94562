/* The only place setjmp/longjmp happen. `lockstep_invoke` calls generated code directly,
 * so a longjmp from the trap handler only ever skips generated wasm frames and this C
 * frame's callees, never Rust frames. */
#include <setjmp.h>
#include <stddef.h>

typedef void (*lockstep_tramp_t)(void *vmctx, void *code, void *values);

static __thread sigjmp_buf *lockstep_current = NULL;

int lockstep_invoke(lockstep_tramp_t tramp, void *vmctx, void *code, void *values) {
    sigjmp_buf buf;
    sigjmp_buf *volatile prev = lockstep_current;
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
