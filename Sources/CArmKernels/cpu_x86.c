#include "CArmKernels.h"
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

// XCR0 by xgetbv, in assembly so that the file needs no -mxsave.
static inline unsigned long long socprof_xgetbv0(void) {
    unsigned eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((unsigned long long)edx << 32) | eax;
}

int socprof_x86_cpu_identify(socprof_x86_cpu *out) {
    unsigned a, b, c, d, max;
    *out = (socprof_x86_cpu){0};
    if (!__get_cpuid(0, &max, &b, &c, &d)) return 0;
    // "GenuineIntel" / "AuthenticAMD": ebx, edx, ecx.
    if (b == 0x756e6547 && d == 0x49656e69 && c == 0x6c65746e) out->vendor = 1;
    else if (b == 0x68747541 && d == 0x69746e65 && c == 0x444d4163) out->vendor = 2;
    __cpuid(1, a, b, c, d);
    unsigned base = (a >> 8) & 0xf, model = (a >> 4) & 0xf;
    out->family = (int)(base == 0xf ? base + ((a >> 20) & 0xff) : base);
    out->model = (int)(base == 0x6 || base == 0xf ? model | (((a >> 16) & 0xf) << 4) : model);
    out->stepping = (int)(a & 0xf);
    int fma = (c >> 12) & 1, osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
    unsigned long long xcr0 = osxsave ? socprof_xgetbv0() : 0;
    // The OS saves the ymm state (XCR0 bits 1, 2) and the zmm state (bits 5, 6, 7).
    int osYMM = (xcr0 & 0x6) == 0x6, osZMM = (xcr0 & 0xe6) == 0xe6;
    if (max >= 7) {
        __cpuid_count(7, 0, a, b, c, d);
        out->avx2 = avx && fma && osYMM && ((b >> 5) & 1);
        out->fma = fma && osYMM;
        out->avx512f = osZMM && ((b >> 16) & 1);
        out->avx512vl = osZMM && ((b >> 31) & 1);
    }
    return 1;
}
#else
int socprof_x86_cpu_identify(socprof_x86_cpu *out) {
    *out = (socprof_x86_cpu){0};
    return 0;
}
#endif
