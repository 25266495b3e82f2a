// Which int8 kernels this CPU runs: cpuid on x86-64 (with the OS's consent to save the vector
// state, which __builtin_cpu_supports checks through xgetbv), HWCAP on aarch64.
#include "CInt8Kernels.h"
#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1 << 20)
#endif
#endif

static int detect(void) {
    int f = 0;
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2")) f |= SOCPROF_I8_X86_AVX2;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni"))
        f |= SOCPROF_I8_X86_AVX512VNNI;
#elif defined(__aarch64__)
    f |= SOCPROF_I8_AARCH64 | SOCPROF_I8_ARM_NEON;
#if defined(__linux__)
    if (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) f |= SOCPROF_I8_ARM_DOTPROD;
#endif
#elif defined(__arm__) && defined(__ARM_NEON)
    f |= SOCPROF_I8_ARMV7 | SOCPROF_I8_ARM_NEON;
#endif
    return f;
}

int socprof_i8_cpu_features(void) {
    static int cached = -1;  // a benign race: every thread computes the same value
    int f = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (f < 0) {
        f = detect();
        __atomic_store_n(&cached, f, __ATOMIC_RELAXED);
    }
    return f;
}
