#include "CBench.h"

#include <time.h>
#include <unistd.h>

// MARK: - Benchmark reference

uint64_t socprof_reference_read_loop(int fd, void *buffer, size_t size, int iterations) {
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < iterations; i++) {
        if (read(fd, buffer, size) < 0) return 0;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (uint64_t)(t1.tv_sec - t0.tv_sec) * 1000000000u + (uint64_t)(t1.tv_nsec - t0.tv_nsec);
}

// MARK: - Reference FMA loop (GCC vector extensions, built for the host CPU in release)

// Chains of the target's native vector: 192 lane-FMAs (384 FLOP) per iteration on every target,
// as CHAINS independent accumulators x STEPS dependent FMAs each, sized to the register file
// (chains + x + y registers) and to cover the FMA latency (at least 8 chains in flight).
#if defined(__AVX512F__)
#define SOCPROF_FMA_LANES 16  // zmm: 12 of 32 registers
#define SOCPROF_FMA_CHAINS 12
#define SOCPROF_FMA_STEPS 1
#elif defined(__AVX__)
#define SOCPROF_FMA_LANES 8   // ymm: 12 of 16 registers
#define SOCPROF_FMA_CHAINS 12
#define SOCPROF_FMA_STEPS 2
#elif defined(__aarch64__)
#define SOCPROF_FMA_LANES 4   // NEON q: 24 of 32 registers
#define SOCPROF_FMA_CHAINS 24
#define SOCPROF_FMA_STEPS 2
#else
#define SOCPROF_FMA_LANES 4   // SSE, 32-bit NEON: 12 of 16 registers
#define SOCPROF_FMA_CHAINS 12
#define SOCPROF_FMA_STEPS 4
#endif
_Static_assert(SOCPROF_FMA_LANES * SOCPROF_FMA_CHAINS * SOCPROF_FMA_STEPS * 2 == 384,
               "socprof_reference_fma_loop must do 384 FLOP per iteration (Ceilings.referencePeakGFLOPS)");
typedef float socprof_vfma __attribute__((vector_size(SOCPROF_FMA_LANES * 4)));

double socprof_reference_fma_loop(long iterations) {
    // a = a + x*y: the running value is the addend, which ARM's fmla (and x86's vfmadd231ps)
    // accumulates into in place; with a = a*x + y every aarch64 fmla would need a mov first.
    // Inputs the compiler cannot see and distinct starting values, so that the chains stay
    // independent (identical chains would be merged into one). x*y (about 1e-14) is less than half
    // an ulp of every accumulator (1 to 24), so each FMA rounds back to its start: bounded, never
    // denormal, however long it runs.
    static volatile float seed = 1e-7f;
    float e = seed;
    socprof_vfma x, y, a[SOCPROF_FMA_CHAINS];
    for (int i = 0; i < SOCPROF_FMA_LANES; i++) { x[i] = 1.0f - e; y[i] = e * e; }
    for (int c = 0; c < SOCPROF_FMA_CHAINS; c++)
        for (int i = 0; i < SOCPROF_FMA_LANES; i++) a[c][i] = 1.0f + (float)c * (1.0f - e);
    for (long n = 0; n < iterations; n++) {
        for (int s = 0; s < SOCPROF_FMA_STEPS; s++) {
            for (int c = 0; c < SOCPROF_FMA_CHAINS; c++) a[c] = a[c] + x * y;
        }
    }
    socprof_vfma sum = a[0];
    for (int c = 1; c < SOCPROF_FMA_CHAINS; c++) sum += a[c];
    double total = 0;
    for (int i = 0; i < SOCPROF_FMA_LANES; i++) total += sum[i];
    return total;
}

void socprof_clobber(void *p) { __asm__ __volatile__("" : : "r"(p) : "memory"); }
