#include "CM5Ops.h"

#include <setjmp.h>
#include <signal.h>
#include <string.h>

#if defined(__aarch64__) || defined(__arm__)
static sigjmp_buf socprof_m5_jump;

static void socprof_m5_sigill(int sig) {
    (void)sig;
    siglongjmp(socprof_m5_jump, 1);
}

/* The instruction word holds the function number, so each operation is its own instruction.
 * The words: AArch64 0xff000110 | func << 16; A32 0xee000110 | func << 16; in Thumb the same
 * 32-bit word as two halfwords (0xee00 | func, 0x0110), which .inst.w emits. */
#if defined(__aarch64__)
#define SOCPROF_M5_CALL(a64, a32) \
    __asm__ volatile("mov x0, #0\n\tmov x1, #0\n\t.inst " #a64 : : : "x0", "x1", "memory")
#elif defined(__thumb__)
#define SOCPROF_M5_CALL(a64, a32) \
    __asm__ volatile("mov r0, #0\n\tmov r1, #0\n\tmov r2, #0\n\tmov r3, #0\n\t.inst.w " #a32 : : : "r0", "r1", "r2", "r3", "memory")
#else
#define SOCPROF_M5_CALL(a64, a32) \
    __asm__ volatile("mov r0, #0\n\tmov r1, #0\n\tmov r2, #0\n\tmov r3, #0\n\t.inst " #a32 : : : "r0", "r1", "r2", "r3", "memory")
#endif

int socprof_m5ops_compiled(void) { return 1; }

int socprof_m5op(int func) {
    struct sigaction handler, previous;
    memset(&handler, 0, sizeof handler);
    handler.sa_handler = socprof_m5_sigill;
    sigemptyset(&handler.sa_mask);
    if (sigaction(SIGILL, &handler, &previous) != 0) return -1;
    int result = 0;
    if (sigsetjmp(socprof_m5_jump, 1) == 0) {
        switch (func) {
        case SOCPROF_M5_RESET_STATS: SOCPROF_M5_CALL(0xff400110, 0xee400110); break;
        case SOCPROF_M5_DUMP_STATS: SOCPROF_M5_CALL(0xff410110, 0xee410110); break;
        case SOCPROF_M5_DUMP_RESET_STATS: SOCPROF_M5_CALL(0xff420110, 0xee420110); break;
        default: result = -3; break;
        }
    } else {
        result = -1;
    }
    sigaction(SIGILL, &previous, NULL);
    return result;
}
#else
int socprof_m5ops_compiled(void) { return 0; }
int socprof_m5op(int func) { (void)func; return -2; }
#endif
