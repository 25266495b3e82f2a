// The portable int8 microkernel and requantization: plain C, any CPU.
#include "CInt8Kernels.h"
#include "requant_ref.h"
#if defined(__SSE2__)
#include <emmintrin.h>
#elif defined(__ARM_NEON)
#include <arm_neon.h>
#endif

void socprof_i8_kernel_ref_4x8(long kq, const int8_t *a, const uint8_t *b, int32_t *c) {
    int32_t acc[4][8] = {{0}};
    for (long p = 0; p < kq; p++) {
        for (int r = 0; r < 4; r++)
            for (int j = 0; j < 8; j++)
                for (int t = 0; t < 4; t++)
                    acc[r][j] += (int32_t)a[r * 4 + t] * (int32_t)b[j * 4 + t];
        a += 16;
        b += 32;
    }
    memcpy(c, acc, sizeof acc);
}

void socprof_i8_requant_ref(const int32_t *acc, long ldacc, long rows, long cols, const int32_t *row_add,
                            const float *row_scale, int32_t zp, int32_t lo, int32_t hi, uint8_t *out, long ldout) {
    float flo = (float)(lo - zp), fhi = (float)(hi - zp);
    for (long r = 0; r < rows; r++)
        socprof_i8_requant_row_tail(acc + r * ldacc, 0, cols, row_add[r], row_scale[r], flo, fhi, zp, out + r * ldout);
}

// Interleaves 16 columns of g = 4 rows (-> 64 bytes: column j's 4 bytes at 4j) or g = 2 rows (->
// 32 bytes) with SSE2 (every x86-64) or NEON (vst4q/vst2q); 0 if neither is there.
static inline int pack16(const uint8_t *const *rows, long j, long g, uint8_t flip, uint8_t *d) {
#if defined(__SSE2__)
    const __m128i f = _mm_set1_epi8((char)flip);
    if (g == 4) {
        __m128i r0 = _mm_loadu_si128((const __m128i *)(rows[0] + j)), r1 = _mm_loadu_si128((const __m128i *)(rows[1] + j));
        __m128i r2 = _mm_loadu_si128((const __m128i *)(rows[2] + j)), r3 = _mm_loadu_si128((const __m128i *)(rows[3] + j));
        __m128i t0 = _mm_unpacklo_epi8(r0, r1), t1 = _mm_unpackhi_epi8(r0, r1);
        __m128i t2 = _mm_unpacklo_epi8(r2, r3), t3 = _mm_unpackhi_epi8(r2, r3);
        _mm_storeu_si128((__m128i *)d, _mm_xor_si128(_mm_unpacklo_epi16(t0, t2), f));
        _mm_storeu_si128((__m128i *)(d + 16), _mm_xor_si128(_mm_unpackhi_epi16(t0, t2), f));
        _mm_storeu_si128((__m128i *)(d + 32), _mm_xor_si128(_mm_unpacklo_epi16(t1, t3), f));
        _mm_storeu_si128((__m128i *)(d + 48), _mm_xor_si128(_mm_unpackhi_epi16(t1, t3), f));
        return 1;
    }
    if (g == 2) {
        __m128i r0 = _mm_loadu_si128((const __m128i *)(rows[0] + j)), r1 = _mm_loadu_si128((const __m128i *)(rows[1] + j));
        _mm_storeu_si128((__m128i *)d, _mm_xor_si128(_mm_unpacklo_epi8(r0, r1), f));
        _mm_storeu_si128((__m128i *)(d + 16), _mm_xor_si128(_mm_unpackhi_epi8(r0, r1), f));
        return 1;
    }
#elif defined(__ARM_NEON)
    const uint8x16_t f = vdupq_n_u8(flip);
    if (g == 4) {
        uint8x16x4_t v = {{veorq_u8(vld1q_u8(rows[0] + j), f), veorq_u8(vld1q_u8(rows[1] + j), f),
                           veorq_u8(vld1q_u8(rows[2] + j), f), veorq_u8(vld1q_u8(rows[3] + j), f)}};
        vst4q_u8(d, v);
        return 1;
    }
    if (g == 2) {
        uint8x16x2_t v = {{veorq_u8(vld1q_u8(rows[0] + j), f), veorq_u8(vld1q_u8(rows[1] + j), f)}};
        vst2q_u8(d, v);
        return 1;
    }
#else
    (void)rows; (void)j; (void)g; (void)flip; (void)d;
#endif
    return 0;
}

void socprof_i8_pack_group(const uint8_t *const *rows, long g, long cols, long nr, long panel_bytes, uint8_t flip, uint8_t *dst) {
    long panels = (cols + nr - 1) / nr;
    for (long q = 0; q < panels; q++) {
        uint8_t *d = dst + q * panel_bytes;
        long j0 = q * nr, n = cols - j0 < nr ? cols - j0 : nr;
        long j = 0;
        // Whole 16-column stretches of the panel with vectors, the rest byte by byte.
        while (j + 16 <= n && pack16(rows, j0 + j, g, flip, d + g * j)) j += 16;
        for (long t = 0; t < g; t++) {
            const uint8_t *r = rows[t] + j0;
            for (long jj = j; jj < n; jj++) d[g * jj + t] = r[jj] ^ flip;
            for (long jj = n; jj < nr; jj++) d[g * jj + t] = flip;
        }
    }
}
