// 16 columns of B's packing for the int8 GEMM (socprof_i8_pack_group in int8_ref.c, and the
// AVX-512 one in int8_x86.c for what is left of its 64-column steps).
#ifndef SOCPROF_PACK16_H
#define SOCPROF_PACK16_H
#include <stdint.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#elif defined(__ARM_NEON)
#include <arm_neon.h>
#endif

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
#endif
