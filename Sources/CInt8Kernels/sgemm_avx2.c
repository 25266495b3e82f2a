// The SGEMM microkernels of the ymm6x16 tile with AVX2 and FMA (x86): C[6 x 16] (+)= A-panel x
// B-panel over kc, A packed k-major (`astride` floats a k step), B packed k-major 16 columns, as
// GEMM's generated Swift kernels (Microkernels.swift) take them: 12 sums in registers, B's two
// vectors and one broadcast of A at a time, and the same tile with GEMM's epilogue (each row's
// bias, the activation's clamp) applied from its registers; and C[6 x 8] over the panel's first 8
// columns (a last panel of at most 8). See CInt8Kernels.h. Empty stubs off x86.
#include "CInt8Kernels.h"
#include <stddef.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

// The 6 x 16 tile, then (`fused`) each row's bias added and the sums clamped to [lo, hi].
__attribute__((target("avx2,fma"), always_inline))
static inline void sgemm_6x16(long kc, const float *a, long astride, const float *b, float *c, long ldc, bool accumulate, const bool fused,
                              const float *bias, float lo, float hi) {
    // C's rows, read (or first written) after the k loop, asked for now: a C larger than the
    // caches costs its loads' misses otherwise (11 % of the kernel's time on SGEMM 1024³).
#pragma clang loop unroll(full)
    for (int r = 0; r < 6; r++) {
        _mm_prefetch((const char *)(c + r * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + r * ldc + 15), _MM_HINT_T0);
    }
    __m256 s[6][2];
#pragma clang loop unroll(full)
    for (int r = 0; r < 6; r++) s[r][0] = s[r][1] = _mm256_setzero_ps();
#pragma clang loop unroll_count(4)
    for (long k = 0; k < kc; k++) {
        const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
#pragma clang loop unroll(full)
        for (int r = 0; r < 6; r++) {
            const __m256 x = _mm256_broadcast_ss(a + r);
            s[r][0] = _mm256_fmadd_ps(x, b0, s[r][0]);
            s[r][1] = _mm256_fmadd_ps(x, b1, s[r][1]);
        }
        a += astride;
        b += 16;
    }
    const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
#pragma clang loop unroll(full)
    for (int r = 0; r < 6; r++) {
        float *q = c + r * ldc;
#pragma clang loop unroll(full)
        for (int h = 0; h < 2; h++) {
            __m256 v = accumulate ? _mm256_add_ps(s[r][h], _mm256_loadu_ps(q + 8 * h)) : s[r][h];
            if (fused) {
                if (bias) v = _mm256_add_ps(v, _mm256_broadcast_ss(bias + r));
                v = _mm256_min_ps(_mm256_max_ps(v, vlo), vhi);
            }
            _mm256_storeu_ps(q + 8 * h, v);
        }
    }
}

__attribute__((target("avx2,fma")))
void socprof_sgemm_6x16_avx2(long kc, const float *a, long astride, const float *b, float *c, long ldc, bool accumulate) {
    sgemm_6x16(kc, a, astride, b, c, ldc, accumulate, false, NULL, 0, 0);
}

__attribute__((target("avx2,fma")))
void socprof_sgemm_6x16_avx2_epilogue(long kc, const float *a, long astride, const float *b, float *c, long ldc, bool accumulate,
                                      const float *bias, float lo, float hi) {
    sgemm_6x16(kc, a, astride, b, c, ldc, accumulate, true, bias, lo, hi);
}

__attribute__((target("avx2,fma")))
void socprof_sgemm_6x8_avx2(long kc, const float *a, long astride, const float *b, float *c, long ldc, bool accumulate) {
    __m256 s[6];
#pragma clang loop unroll(full)
    for (int r = 0; r < 6; r++) s[r] = _mm256_setzero_ps();
#pragma clang loop unroll_count(4)
    for (long k = 0; k < kc; k++) {
        const __m256 b0 = _mm256_loadu_ps(b);
#pragma clang loop unroll(full)
        for (int r = 0; r < 6; r++) s[r] = _mm256_fmadd_ps(_mm256_broadcast_ss(a + r), b0, s[r]);
        a += astride;
        b += 16;
    }
#pragma clang loop unroll(full)
    for (int r = 0; r < 6; r++) {
        float *q = c + r * ldc;
        _mm256_storeu_ps(q, accumulate ? _mm256_add_ps(s[r], _mm256_loadu_ps(q)) : s[r]);
    }
}

#else
void socprof_sgemm_6x16_avx2_epilogue(long kc, const float *a, long astride, const float *b, float *c, long ldc, bool accumulate,
                                      const float *bias, float lo, float hi) {
    (void)kc; (void)a; (void)astride; (void)b; (void)c; (void)ldc; (void)accumulate; (void)bias; (void)lo; (void)hi;
}
void socprof_sgemm_6x8_avx2(long kc, const float *a, long astride, const float *b, float *c, long ldc, bool accumulate) {
    (void)kc; (void)a; (void)astride; (void)b; (void)c; (void)ldc; (void)accumulate;
}
void socprof_sgemm_6x16_avx2(long kc, const float *a, long astride, const float *b, float *c, long ldc, bool accumulate) {
    (void)kc; (void)a; (void)astride; (void)b; (void)c; (void)ldc; (void)accumulate;
}
#endif
