// The requantization of 16 int32 sums at once with AVX-512, or of 8 with AVX2,
// socprof_i8_requant_ref's arithmetic (CInt8Kernels.h), for every x86 kernel that makes bytes
// (int8_x86.c, depthwise_x86.c, depthwise_lanes_x86.c, depthwise_lanes_avx2.c). x86-64 only;
// include inside `#if defined(__x86_64__)`.
#ifndef SOCPROF_REQUANT_X86_H
#define SOCPROF_REQUANT_X86_H
#include <immintrin.h>
#include "requant_ref.h"

#define RQ_INLINE __attribute__((target("avx512f,avx512bw,avx512vl"), always_inline)) static inline

// A tensor's clamp and zero point, ready for the vectors: lo - zp and hi - zp as floats, the
// rounding constant, and the zero point less the constant's bits.
typedef struct {
    __m512 lo, hi, magic;
    __m512i zp;
} i8_rq16;

RQ_INLINE i8_rq16 i8_rq16_make(int32_t zp, int32_t lo, int32_t hi) {
    i8_rq16 q = {_mm512_set1_ps((float)(lo - zp)), _mm512_set1_ps((float)(hi - zp)), _mm512_set1_ps(SOCPROF_I8_MAGIC),
                 _mm512_set1_epi32(zp - SOCPROF_I8_MAGIC_BITS)};
    return q;
}

// The 16 bytes of x (the sums plus their addend) times scale: one multiply, the clamp, rounding
// half to even by the constant, the zero point; vpmovdb to a register (to memory it is slow on
// Zen 4).
RQ_INLINE __m128i i8_rq16_bytes(const i8_rq16 *q, __m512i x, __m512 scale) {
    __m512 f = _mm512_mul_ps(_mm512_cvtepi32_ps(x), scale);
    f = _mm512_add_ps(_mm512_min_ps(_mm512_max_ps(f, q->lo), q->hi), q->magic);
    return _mm512_cvtepi32_epi8(_mm512_add_epi32(_mm512_castps_si512(f), q->zp));
}

// 16 bytes to d, or the first `left` when fewer (masked stores are slow on Zen 4: only then).
RQ_INLINE void i8_store16(uint8_t *d, __m128i b, long left) {
    if (left >= 16) _mm_storeu_si128((__m128i *)d, b);
    else if (left > 0) _mm_mask_storeu_epi8(d, (__mmask16)((1u << left) - 1), b);
}

#define RQ8_INLINE __attribute__((target("avx2"), always_inline)) static inline

// The same constants for 8-lane (ymm) vectors.
typedef struct {
    __m256 lo, hi, magic;
    __m256i zp;
} i8_rq8;

RQ8_INLINE i8_rq8 i8_rq8_make(int32_t zp, int32_t lo, int32_t hi) {
    i8_rq8 q = {_mm256_set1_ps((float)(lo - zp)), _mm256_set1_ps((float)(hi - zp)), _mm256_set1_ps(SOCPROF_I8_MAGIC),
                _mm256_set1_epi32(zp - SOCPROF_I8_MAGIC_BITS)};
    return q;
}

// x (the sums plus their addend) times scale: one multiply, the clamp, rounding half to even by
// the constant, the zero point; each lane's low byte (an int8 output's two's complement) as 0..255,
// so that the saturating packs into bytes are exact.
RQ8_INLINE __m256i i8_rq8_lanes(const i8_rq8 *q, __m256i x, __m256 scale) {
    __m256 f = _mm256_mul_ps(_mm256_cvtepi32_ps(x), scale);
    f = _mm256_add_ps(_mm256_min_ps(_mm256_max_ps(f, q->lo), q->hi), q->magic);
    return _mm256_and_si256(_mm256_add_epi32(_mm256_castps_si256(f), q->zp), _mm256_set1_epi32(0xff));
}

// The first `n` (at most 16) bytes of b to d: a whole store when n is 16 (AVX2 has no byte masks).
RQ8_INLINE void i8_store16_avx2(uint8_t *d, __m128i b, long n) {
    if (n >= 16) {
        _mm_storeu_si128((__m128i *)d, b);
    } else if (n > 0) {
        uint8_t tmp[16];
        _mm_storeu_si128((__m128i *)tmp, b);
        memcpy(d, tmp, (size_t)n);
    }
}
#endif
