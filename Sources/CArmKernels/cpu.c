#define _GNU_SOURCE 1
#include "CArmKernels.h"
#if defined(__linux__)
#include <sched.h>
#endif

int socprof_current_cpu_cached(void) {
#if defined(__linux__)
    static _Thread_local int cpu = -1;
    static _Thread_local unsigned calls = 0;
    if ((calls++ & 63u) == 0) cpu = sched_getcpu();
    return cpu;
#else
    return -1;
#endif
}
