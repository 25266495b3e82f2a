// SGEMM's A packing: rows of A (row-major) into MR-row panels, k-major (a k step's MR floats
// together), the last panel zero-padded; what GEMM.packA did one float at a time (a load and a
// store a float, the rows lda apart: 4 % of SGEMM 1024^3's time on Zen 4 in `perf record`).
// Here 4 rows x 4 k steps at a time, transposed in registers: 4 loads of 4 floats, 8 shuffles, 4
// stores, in clang's vector extension (SSE on x86, NEON on ARM, scalar code elsewhere), so on
// every target. The same floats in the same places as the scalar loop: it only moves them.
// Measured on Zen 4 (`bench gemm`, 5 rounds, builds in alternation): SGEMM 1024^3 at 1 thread
// 105.2-106.6 against 98.4-105.4 GFLOP/s, the packing 2 % of the time instead of 4 %. Asking for
// the next panel's rows a panel ahead (a line a row every 16 k steps) gained nothing (104.4-105.8
// in the same rounds) and is not done.
#include "CInt8Kernels.h"

typedef float socprof_f4 __attribute__((ext_vector_type(4)));

// The 4 x 4 block of rows `s` (rows lda floats apart) from column kk, transposed into k steps
// `mr` floats apart at `d`: d[j * mr + r] = s[r * lda + j].
static inline void pack_a_4x4(const float *s, long lda, float *d, long mr) {
    socprof_f4 r0, r1, r2, r3;
    __builtin_memcpy(&r0, s, 16);
    __builtin_memcpy(&r1, s + lda, 16);
    __builtin_memcpy(&r2, s + 2 * lda, 16);
    __builtin_memcpy(&r3, s + 3 * lda, 16);
    const socprof_f4 t0 = __builtin_shufflevector(r0, r1, 0, 4, 1, 5), t1 = __builtin_shufflevector(r0, r1, 2, 6, 3, 7);
    const socprof_f4 t2 = __builtin_shufflevector(r2, r3, 0, 4, 1, 5), t3 = __builtin_shufflevector(r2, r3, 2, 6, 3, 7);
    const socprof_f4 c0 = __builtin_shufflevector(t0, t2, 0, 1, 4, 5), c1 = __builtin_shufflevector(t0, t2, 2, 3, 6, 7);
    const socprof_f4 c2 = __builtin_shufflevector(t1, t3, 0, 1, 4, 5), c3 = __builtin_shufflevector(t1, t3, 2, 3, 6, 7);
    __builtin_memcpy(d, &c0, 16);
    __builtin_memcpy(d + mr, &c1, 16);
    __builtin_memcpy(d + 2 * mr, &c2, 16);
    __builtin_memcpy(d + 3 * mr, &c3, 16);
}

void socprof_pack_a_f32(long m, long k, long mr, const float *a, long lda, float *p) {
    for (long i = 0; i < m; i += mr, p += mr * k) {
        const long rows = m - i < mr ? m - i : mr;
        const float *s = a + i * lda;
        long kk = 0;
        if (rows == mr && mr % 4 == 0) {
            // A k step's MR floats are written together, 4 k steps (16 * mr bytes) at a time.
            for (; kk + 4 <= k; kk += 4) {
                for (long g = 0; g < mr; g += 4) pack_a_4x4(s + g * lda + kk, lda, p + kk * mr + g, mr);
            }
        }
        for (; kk < k; kk++) {
            float *d = p + kk * mr;
            for (long r = 0; r < rows; r++) d[r] = s[r * lda + kk];
            for (long r = rows; r < mr; r++) d[r] = 0;
        }
    }
}
