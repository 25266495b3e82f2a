// The SGEMM microkernels of the ymm6x16 tile with AVX2 and FMA (x86): C[6 x 16] (+)= A-panel x
// B-panel over kc, A packed k-major (`astride` floats a k step), B packed k-major 16 columns, as
// GEMM's generated Swift kernels (Microkernels.swift) take them: 12 sums in registers, B's two
// vectors and one broadcast of A at a time, and a B panel's full tiles in one call, with GEMM's
// epilogue (each row's bias, a residual, the activation's clamp) applied from the registers or
// without; C[6 x 8] over the panel's first 8
// columns (a last panel of at most 8) and C[6 x n] over its first 1 to 3. See CInt8Kernels.h.
// Empty stubs off x86.
#include "CInt8Kernels.h"
#include <stddef.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

// The 6 x 16 tile, then (`fused`) each row's bias added, then the residual's tile (laid out as
// C), and the sums clamped to [lo, hi]: the order of the separate passes, so the same floats.
__attribute__((target("avx2,fma"), always_inline))
static inline void sgemm_6x16(long kc, const float *a, long astride, const float *b, float *c, long ldc, bool accumulate, const bool fused,
                              const float *bias, const float *residual, float lo, float hi) {
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
                if (residual) v = _mm256_add_ps(v, _mm256_loadu_ps(residual + r * ldc + 8 * h));
                v = _mm256_min_ps(_mm256_max_ps(v, vlo), vhi);
            }
            _mm256_storeu_ps(q + 8 * h, v);
        }
    }
}

__attribute__((target("avx2,fma")))
void socprof_sgemm_6x16_avx2(long kc, const float *a, long astride, const float *b, float *c, long ldc, bool accumulate) {
    sgemm_6x16(kc, a, astride, b, c, ldc, accumulate, false, NULL, NULL, 0, 0);
}

// A column of tiles in one call: one B panel (in L1) against `panels` full 6-row panels of A,
// `apanel` floats apart, each tile as the calls above would do it one by one (a call a tile from
// Swift, through its closure, cost up to a fifth of a tile's time at K = 32).
__attribute__((target("avx2,fma")))
void socprof_sgemm_6x16_avx2_panels(long kc, const float *a, long astride, long apanel, long panels, const float *b, float *c, long ldc,
                                    bool accumulate, bool fused, const float *bias, const float *residual, float lo, float hi) {
    if (fused) {
        for (long p = 0; p < panels; p++, a += apanel, c += 6 * ldc) {
            sgemm_6x16(kc, a, astride, b, c, ldc, accumulate, true, bias, residual, lo, hi);
            if (bias) bias += 6;
            if (residual) residual += 6 * ldc;
        }
    } else {
        for (long p = 0; p < panels; p++, a += apanel, c += 6 * ldc) sgemm_6x16(kc, a, astride, b, c, ldc, accumulate, false, NULL, NULL, 0, 0);
    }
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

// The 6 floats of an A panel's k step in a vector's lanes 0-5 (4 + 2 loads, so as not to read
// past the panel).
__attribute__((target("avx2,fma"), always_inline))
static inline __m256 a6(const float *a) {
    return _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(a)), _mm_castpd_ps(_mm_load_sd((const double *)(a + 4))), 1);
}

// C[6 x n] for n = 1 to 3 columns of a 16-column B panel, one ymm vector a column with the 6
// rows in its lanes: a k step is one A load, and a broadcast and an FMA a column, where the 6 x 8
// kernel runs 6 FMAs whatever the columns. Four sums a column (k mod 4), added at the end, so
// that the FMA's latency does not bound the loop: these columns' sums are added in another order
// than the other kernels' (k in order).
__attribute__((target("avx2,fma"), always_inline))
static inline void sgemm_6xn(long kc, const float *a, long astride, const float *b, float *c, long ldc, bool accumulate, const int n) {
    __m256 s[3][4];
#pragma clang loop unroll(full)
    for (int j = 0; j < 3; j++) s[j][0] = s[j][1] = s[j][2] = s[j][3] = _mm256_setzero_ps();
    long k = 0;
    for (; k + 4 <= kc; k += 4) {
#pragma clang loop unroll(full)
        for (int q = 0; q < 4; q++) {
            const __m256 av = a6(a + q * astride);
#pragma clang loop unroll(full)
            for (int j = 0; j < n; j++) s[j][q] = _mm256_fmadd_ps(av, _mm256_broadcast_ss(b + 16 * q + j), s[j][q]);
        }
        a += 4 * astride;
        b += 64;
    }
    for (; k < kc; k++) {
        const __m256 av = a6(a);
#pragma clang loop unroll(full)
        for (int j = 0; j < n; j++) s[j][0] = _mm256_fmadd_ps(av, _mm256_broadcast_ss(b + j), s[j][0]);
        a += astride;
        b += 16;
    }
    float t[3][8];
#pragma clang loop unroll(full)
    for (int j = 0; j < n; j++) _mm256_storeu_ps(t[j], _mm256_add_ps(_mm256_add_ps(s[j][0], s[j][1]), _mm256_add_ps(s[j][2], s[j][3])));
    for (int r = 0; r < 6; r++)
        for (int j = 0; j < n; j++) c[r * ldc + j] = accumulate ? c[r * ldc + j] + t[j][r] : t[j][r];
}

__attribute__((target("avx2,fma")))
void socprof_sgemm_6xn_avx2(long kc, const float *a, long astride, const float *b, float *c, long ldc, bool accumulate, long n) {
    switch (n) {
    case 1: sgemm_6xn(kc, a, astride, b, c, ldc, accumulate, 1); break;
    case 2: sgemm_6xn(kc, a, astride, b, c, ldc, accumulate, 2); break;
    default: sgemm_6xn(kc, a, astride, b, c, ldc, accumulate, 3); break;
    }
}

#else
void socprof_sgemm_6xn_avx2(long kc, const float *a, long astride, const float *b, float *c, long ldc, bool accumulate, long n) {
    (void)kc; (void)a; (void)astride; (void)b; (void)c; (void)ldc; (void)accumulate; (void)n;
}
void socprof_sgemm_6x8_avx2(long kc, const float *a, long astride, const float *b, float *c, long ldc, bool accumulate) {
    (void)kc; (void)a; (void)astride; (void)b; (void)c; (void)ldc; (void)accumulate;
}
void socprof_sgemm_6x16_avx2_panels(long kc, const float *a, long astride, long apanel, long panels, const float *b, float *c, long ldc,
                                    bool accumulate, bool fused, const float *bias, const float *residual, float lo, float hi) {
    (void)kc; (void)a; (void)astride; (void)apanel; (void)panels; (void)b; (void)c; (void)ldc; (void)accumulate; (void)fused; (void)bias;
    (void)residual; (void)lo; (void)hi;
}
void socprof_sgemm_6x16_avx2(long kc, const float *a, long astride, const float *b, float *c, long ldc, bool accumulate) {
    (void)kc; (void)a; (void)astride; (void)b; (void)c; (void)ldc; (void)accumulate;
}
#endif
