#ifndef SOCPROF_CARMKERNELS_H
#define SOCPROF_CARMKERNELS_H

/// The aarch64 GEMM microkernels for in-order Cortex cores (sgemm_8x12_aarch64.S): C[8x12] (+)=
/// A-panel x B-panel over `kc`, with GEMM.microkernel's packing (A k-major 8 rows, B k-major 12
/// columns; C row-major, `ldc` floats). Defined only on aarch64 Linux: elsewhere the declarations
/// exist and nothing may call them.
void socprof_sgemm_8x12_a53(long kc, const float *a, const float *b, float *c, long ldc, int accumulate);
void socprof_sgemm_8x12_a55(long kc, const float *a, const float *b, float *c, long ldc, int accumulate);

/// The CPU this thread ran on at its last check (sched_getcpu), checked again every 64 calls on
/// the calling thread, so that a thread that migrates picks up its new core's kernel within a
/// few tiles. -1 where the system cannot tell.
int socprof_current_cpu_cached(void);

/// An x86 CPU as cpuid tells it, for choosing the GEMM tile (GEMMKernel.swift): vendor (1 Intel,
/// 2 AMD, 0 other), family and model with their extended fields folded in (AMD Zen 4 is family
/// 0x19, Zen 5 0x1a), and the features the kernels need, each only where the OS also saves the
/// registers (XCR0).
typedef struct {
    int vendor;
    int family;
    int model;
    int stepping;
    int fma;
    int avx2;
    int avx512f;
    int avx512vl;
} socprof_x86_cpu;

/// Fills `out` from cpuid; returns 0 (and zeroes `out`) where the CPU is not x86.
int socprof_x86_cpu_identify(socprof_x86_cpu *out);

#endif
