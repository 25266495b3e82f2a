// The 16 x 16 byte transpose that the depthwise kernels with channels in lanes
// (depthwise_lanes_x86.c, depthwise_lanes_avx2.c) use to turn 16 channels' rows into pixels of 16
// channels and back. AVX2 instructions only, so that the AVX2 kernel and the AVX-512 one (whose
// target includes AVX2) both inline it. x86-64 only; include inside `#if defined(__x86_64__)`.
#ifndef SOCPROF_TRANSPOSE16_X86_H
#define SOCPROF_TRANSPOSE16_X86_H
#include <immintrin.h>

#define T16_INLINE __attribute__((target("avx2"), always_inline)) static inline

// A 16 x 16 byte transpose in each 128-bit lane of r[0..16): afterwards, in each lane, r[j]
// holds byte j of every former r[i], in order. `transpose16` on 16 bytes a row (xmm),
// `transpose16x2` on two blocks at once, one in each lane of ymm registers.
#define T16_TRANSPOSE(NAME, T, P)                                                                       \
    T16_INLINE void NAME(T *r) {                                                                        \
        T a[16], b[16], c[16];                                                                          \
        for (int i = 0; i < 8; i++) {                                                                   \
            a[2 * i] = P##_unpacklo_epi8(r[2 * i], r[2 * i + 1]);                                       \
            a[2 * i + 1] = P##_unpackhi_epi8(r[2 * i], r[2 * i + 1]);                                   \
        }                                                                                               \
        for (int j = 0; j < 4; j++) {                                                                   \
            b[4 * j + 0] = P##_unpacklo_epi16(a[4 * j], a[4 * j + 2]);                                  \
            b[4 * j + 1] = P##_unpackhi_epi16(a[4 * j], a[4 * j + 2]);                                  \
            b[4 * j + 2] = P##_unpacklo_epi16(a[4 * j + 1], a[4 * j + 3]);                              \
            b[4 * j + 3] = P##_unpackhi_epi16(a[4 * j + 1], a[4 * j + 3]);                              \
        }                                                                                               \
        for (int o = 0; o < 2; o++)                                                                     \
            for (int q = 0; q < 4; q++) {                                                               \
                c[8 * o + 2 * q] = P##_unpacklo_epi32(b[8 * o + q], b[8 * o + 4 + q]);                  \
                c[8 * o + 2 * q + 1] = P##_unpackhi_epi32(b[8 * o + q], b[8 * o + 4 + q]);              \
            }                                                                                           \
        for (int k = 0; k < 8; k++) {                                                                   \
            r[2 * k] = P##_unpacklo_epi64(c[k], c[8 + k]);                                              \
            r[2 * k + 1] = P##_unpackhi_epi64(c[k], c[8 + k]);                                          \
        }                                                                                               \
    }
T16_TRANSPOSE(transpose16, __m128i, _mm)
T16_TRANSPOSE(transpose16x2, __m256i, _mm256)
#undef T16_TRANSPOSE
#endif
