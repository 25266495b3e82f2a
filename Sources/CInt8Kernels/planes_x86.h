// Padded input planes for the AVX-512 convolution kernels (depthwise_x86.c, direct_x86.c): input
// rows converted to floats and laid out with zero padding, split into the column phases of a
// stride of 2. x86-64 only; include inside `#if defined(__x86_64__)`.
#ifndef SOCPROF_PLANES_X86_H
#define SOCPROF_PLANES_X86_H
#include <immintrin.h>
#include "CInt8Kernels.h"

#define DW_TARGET __attribute__((target("avx512f,avx512bw,avx512vl")))
#define DW_INLINE __attribute__((target("avx512f,avx512bw,avx512vl"), always_inline)) static inline

static inline __mmask16 dw_mask(long left) { return left >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << left) - 1); }

DW_INLINE void dw_zero(float *p, long n) {
    for (long j = 0; j < n; j += 16) _mm512_mask_storeu_ps(p + j, dw_mask(n - j), _mm512_setzero_ps());
}

// Where a channel comes from: bytes (int8: value = (byte ^ flip) - zf, exact in Float) or floats.
typedef struct {
    const uint8_t *u8;
    const float *f32;
    __m512i flip;
    __m512 zf;
} dw_source;

// Columns j ..< j + 16 of input row iy as floats, lanes from `left` on 0.
DW_INLINE __m512 dw_load(const dw_source *src, int u8, long w, long iy, long j, long left) {
    __mmask16 m = dw_mask(left);
    if (u8) {
        __m512i v = _mm512_xor_si512(_mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(m, src->u8 + iy * w + j)), src->flip);
        return _mm512_maskz_sub_ps(m, _mm512_cvtepi32_ps(v), src->zf);
    }
    return _mm512_maskz_loadu_ps(m, src->f32 + iy * w + j);
}

// Input row iy, padded, into `d0` (stride 1: padded column C at d0[C]) or split into its column
// phases (stride 2: padded column C at d0[C / 2] when C is even, d1[C / 2] when odd). Columns past
// the row get zeros, up to 15 floats on (in the row's padding, or in rows written after it):
// unmasked stores, as masked ones are slow on Zen 4. The columns before pl are left as they are
// (zero).
DW_INLINE void dw_fill(const socprof_dw_shape *g, const dw_source *src, int u8, long iy, float *d0, float *d1) {
    long w = g->w;
    if (g->stride == 1) {
        for (long j = 0; j < w; j += 16) _mm512_storeu_ps(d0 + g->pl + j, dw_load(src, u8, w, iy, j, w - j));
        return;
    }
    const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    const __m512i odd = _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
    // Even input columns go to phase pe = pl & 1 from column ce, odd ones to the other from co.
    long pe = g->pl & 1, ce = (g->pl - pe) / 2, co = (g->pl + pe) / 2;
    float *de = (pe ? d1 : d0) + ce, *dodd = (pe ? d0 : d1) + co;
    long evens = (w + 1) / 2, odds = w / 2;
    for (long k = 0; k < evens; k += 16) {
        __m512 x0 = dw_load(src, u8, w, iy, 2 * k, w - 2 * k);
        __m512 x1 = w - 2 * k > 16 ? dw_load(src, u8, w, iy, 2 * k + 16, w - 2 * k - 16) : _mm512_setzero_ps();
        _mm512_storeu_ps(de + k, _mm512_maskz_permutex2var_ps(dw_mask(evens - k), x0, even, x1));
        if (k < odds) _mm512_storeu_ps(dodd + k, _mm512_maskz_permutex2var_ps(dw_mask(odds - k), x0, odd, x1));
    }
}

#endif
