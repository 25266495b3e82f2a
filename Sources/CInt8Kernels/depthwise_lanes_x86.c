// Depthwise convolution of 16 channels at once, one channel a lane (AVX-512 VNNI, x86-64), for
// small planes (MobileNet's 28 x 28 to 7 x 7 layers) and strided layers, where the plane kernels'
// per-channel work (padding, row loops, the requantization of short rows, the stride's phases) is
// larger than the sums. The 16 channels' bytes are transposed (16 x 16 byte transposes) into a
// padded row of pixels, 16 bytes a pixel, the padding being the zero point's byte. From it, each
// position an output pixel starts a row of its filter at gets a window: for every channel, the 4
// bytes at that column and the 3 after it, one int32 lane a channel (a 64-byte vector), kept in a
// ring of window rows, each row put there just before the first output row that reads it. Each
// output pixel is then kh x ceil(kw / 4) vpdpbusd of windows (uint8) by the filter's rows (int8,
// 4 taps a lane, zero past kw): exact int32 sums, which start from the bias less the zero point x
// the channel's weight sum (so that the padding and the zero point add nothing). The sums are
// requantized with each lane's channel's scale and transposed back into the channels' rows.
// See CInt8Kernels.h. Empty stubs elsewhere.
#include "CInt8Kernels.h"
#include <string.h>
#include "lanes_layout.h"

long socprof_dw16_scratch_floats(const socprof_dw_shape *g) {
    dw_lanes_layout l = dw_lanes_layout_of(g, 4);
    // Window rows (64 bytes a window), the padded row (16 bytes a column).
    long bytes = dw_lanes_ring(g) * l.windows * 64 + l.columns * 16;
    return bytes / 4 + 64;
}

long socprof_dw16_packed_bytes(long kh, long kw) { return (kh * ((kw + 3) / 4) + 1) * 64; }

void socprof_dw16_pack(long kh, long kw, long channels, const int8_t *weights, const int32_t *bias, uint8_t zb, uint8_t *packed) {
    const long groups = (kw + 3) / 4, taps = kh * kw;
    memset(packed, 0, (size_t)socprof_dw16_packed_bytes(kh, kw));
    // Filter row ky, taps 4q ..< 4q + 4 (0 past kw and past the channels): channel c's in lane c.
    for (long ky = 0; ky < kh; ky++)
        for (long q = 0; q < groups; q++)
            for (long c = 0; c < channels; c++)
                for (long t = 0; t < 4 && 4 * q + t < kw; t++)
                    packed[(ky * groups + q) * 64 + 4 * c + t] = (uint8_t)weights[c * taps + ky * kw + 4 * q + t];
    // The bias less zb x the channel's weight sum.
    int32_t corr[16] = {0};
    for (long c = 0; c < channels; c++) {
        int32_t sum = 0;
        for (long t = 0; t < taps; t++) sum += weights[c * taps + t];
        corr[c] = bias[c] - (int32_t)zb * sum;
    }
    memcpy(packed + kh * groups * 64, corr, sizeof corr);
}

#if defined(__x86_64__)
#include "planes_x86.h"
#include "requant_x86.h"
#include "transpose16_x86.h"

#define DW16_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
#define DW16_INLINE __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni"), always_inline)) static inline


// The sums of output pixels x0 ..< x0 + n of a row (`x` the first one's window offset in bytes,
// `u` windows from one pixel to the next, group k of a filter row k x `kwin` windows on), four
// pixels at a time (four independent chains), each requantized into q.
DW16_INLINE void dw16_sums(const uint8_t *const *rows, const uint8_t *fw, const long kh, const long groups, long u, long kwin, long x, long n,
                           __m512i vb, __m512 vs, const i8_rq16 *rq, __m128i *q) {
    const long ub = u * 64, step = kwin * 64;
    long ox = 0;
    for (; ox + 4 <= n; ox += 4) {
        __m512i a0 = vb, a1 = vb, a2 = vb, a3 = vb;
        for (long ky = 0; ky < kh; ky++)
            for (long k = 0; k < groups; k++) {
                const uint8_t *p = rows[ky] + x + ox * ub + k * step;
                __m512i w = _mm512_loadu_si512((const void *)(fw + (ky * groups + k) * 64));
                a0 = _mm512_dpbusd_epi32(a0, _mm512_loadu_si512((const void *)p), w);
                a1 = _mm512_dpbusd_epi32(a1, _mm512_loadu_si512((const void *)(p + ub)), w);
                a2 = _mm512_dpbusd_epi32(a2, _mm512_loadu_si512((const void *)(p + 2 * ub)), w);
                a3 = _mm512_dpbusd_epi32(a3, _mm512_loadu_si512((const void *)(p + 3 * ub)), w);
            }
        q[ox] = i8_rq16_bytes(rq, a0, vs);
        q[ox + 1] = i8_rq16_bytes(rq, a1, vs);
        q[ox + 2] = i8_rq16_bytes(rq, a2, vs);
        q[ox + 3] = i8_rq16_bytes(rq, a3, vs);
    }
    for (; ox < n; ox++) {
        __m512i a0 = vb;
        for (long ky = 0; ky < kh; ky++)
            for (long k = 0; k < groups; k++)
                a0 = _mm512_dpbusd_epi32(a0, _mm512_loadu_si512((const void *)(rows[ky] + x + ox * ub + k * step)),
                                         _mm512_loadu_si512((const void *)(fw + (ky * groups + k) * 64)));
        q[ox] = i8_rq16_bytes(rq, a0, vs);
    }
}

// The same, with the loops fixed for 3x3 filters (MobileNet's), else as the filter has them.
DW16_INLINE void dw16_row(const dw_lanes_layout *l, const uint8_t *const *rows, const uint8_t *fw, long kh, long u, long x, long n, __m512i vb,
                          __m512 vs, const i8_rq16 *rq, __m128i *q) {
    if (kh == 3 && l->groups == 1) dw16_sums(rows, fw, 3, 1, u, 0, x, n, vb, vs, rq, q);
    else dw16_sums(rows, fw, kh, l->groups, u, 4 / l->step, x, n, vb, vs, rq, q);
}

DW16_TARGET
void socprof_dw16_u8_avx512(const socprof_dw_shape *g, const uint8_t *src, long channels, uint8_t flip, float zf, const uint8_t *packed,
                            const float *scale, int32_t zp, int32_t lo, int32_t hi, float *scratch, uint8_t *dst) {
    const dw_lanes_layout l = dw_lanes_layout_of(g, 4);
    const long plane = g->h * g->w, oplane = g->oh * g->ow, s = g->stride;
    const long ring = dw_lanes_ring(g), mask = ring - 1, wrow = l.windows * 64;
    // Windows from one output pixel to the next.
    const long u = s / l.step;
    uint8_t *windows = (uint8_t *)scratch, *row = windows + ring * wrow;
    const uint8_t *fw = packed;  // the filter rows; the sums' starting values after them
    // The zero point's byte (after the flip): the padding, and what the bias makes up for.
    const uint8_t zb = (uint8_t)(int32_t)zf;
    const __m512i vzb = _mm512_set1_epi8((char)zb);
    for (long i = 0; i < l.columns; i++) _mm_storeu_si128((__m128i *)(row + 16 * i), _mm512_castsi512_si128(vzb));
    // The sums' starting values, packed once per layer with the filter rows (socprof_dw16_pack).
    const __m512i vb = _mm512_loadu_si512((const void *)(packed + g->kh * l.groups * 64));
    const __m512 vs = _mm512_maskz_loadu_ps(dw_mask(channels), scale);
    const i8_rq16 rq = i8_rq16_make(zp, lo, hi);
    const __m128i vflip = _mm_set1_epi8((char)flip);
    const __m256i vflip2 = _mm256_set1_epi8((char)flip);
    // A window from 4 pixels (lane t: pixel t's 16 channels): dword 4Q + t <- dword 4t + Q (lane
    // Q: channels 4Q ..< 4Q + 4 of the 4 pixels), then within each lane byte 4c + t <- 4t + c.
    const __m512i across = _mm512_set_epi32(15, 11, 7, 3, 14, 10, 6, 2, 13, 9, 5, 1, 12, 8, 4, 0);
    const __m512i within = _mm512_broadcast_i32x4(_mm_set_epi8(15, 11, 7, 3, 14, 10, 6, 2, 13, 9, 5, 1, 12, 8, 4, 0));
    long next = 0;  // the next padded row to put in the ring
    for (long oy = 0; oy < g->oh; oy++) {
        for (; next < oy * s + g->kh; next++) {
            uint8_t *wr = windows + (next & mask) * wrow;
            long iy = next - g->pt;
            if (iy < 0 || iy >= g->h) {
                for (long j = 0; j < l.windows; j++) _mm512_storeu_si512((void *)(wr + 64 * j), vzb);
                continue;
            }
            // The input row, transposed 32 pixels at a time (two 16 x 16 blocks in the lanes of
            // ymm registers), then 16 at a time, flipped to uint8, after the padding.
            long x0 = 0;
            for (; x0 + 16 < g->w; x0 += 32) {
                long n = g->w - x0 < 32 ? g->w - x0 : 32;
                const __mmask32 m = n == 32 ? 0xffffffffu : (__mmask32)((1u << n) - 1);
                __m256i r[16];
                for (long c = 0; c < 16; c++)
                    r[c] = c < channels ? _mm256_maskz_loadu_epi8(m, src + c * plane + iy * g->w + x0) : _mm256_setzero_si256();
                transpose16x2(r);
                uint8_t *d = row + (g->pl + x0) * 16;
#pragma clang loop unroll(full)
                for (int k = 0; k < 16; k++) {
                    const __m256i v = _mm256_xor_si256(r[k], vflip2);
                    _mm_storeu_si128((__m128i *)(d + 16 * k), _mm256_castsi256_si128(v));
                    if (16 + k < n) _mm_storeu_si128((__m128i *)(d + 16 * (16 + k)), _mm256_extracti128_si256(v, 1));
                }
            }
            for (; x0 < g->w; x0 += 16) {
                long n = g->w - x0 < 16 ? g->w - x0 : 16;
                __m128i r[16];
                for (long c = 0; c < 16; c++)
                    r[c] = c < channels ? _mm_maskz_loadu_epi8(dw_mask(n), src + c * plane + iy * g->w + x0) : _mm_setzero_si128();
                transpose16(r);
                uint8_t *d = row + (g->pl + x0) * 16;
#pragma clang loop unroll(full)
                for (int k = 0; k < 16; k++)
                    if (k < n) _mm_storeu_si128((__m128i *)(d + 16 * k), _mm_xor_si128(r[k], vflip));
            }
            for (long j = 0; j < l.windows; j++) {
                __m512i v = _mm512_loadu_si512((const void *)(row + j * l.step * 16));
                _mm512_storeu_si512((void *)(wr + 64 * j), _mm512_shuffle_epi8(_mm512_permutexvar_epi32(across, v), within));
            }
        }
        const uint8_t *rows[SOCPROF_DW_MAX_TAPS];
        for (long ky = 0; ky < g->kh; ky++) rows[ky] = windows + ((oy * s + ky) & mask) * wrow;
        // 32 output pixels at a time (their bytes transposed back as two blocks in ymm lanes),
        // then 16.
        long x0 = 0;
        for (; x0 + 16 < g->ow; x0 += 32) {
            long n = g->ow - x0 < 32 ? g->ow - x0 : 32;
            __m128i q[32];
            dw16_row(&l, rows, fw, g->kh, u, x0 * u * 64, 16, vb, vs, &rq, q);
            dw16_row(&l, rows, fw, g->kh, u, (x0 + 16) * u * 64, n - 16, vb, vs, &rq, q + 16);
            for (long k = n; k < 32; k++) q[k] = _mm_setzero_si128();
            __m256i r[16];
            for (int k = 0; k < 16; k++) r[k] = _mm256_inserti128_si256(_mm256_castsi128_si256(q[k]), q[16 + k], 1);
            transpose16x2(r);
            const __mmask32 m = n == 32 ? 0xffffffffu : (__mmask32)((1u << n) - 1);
            for (long c = 0; c < channels; c++) _mm256_mask_storeu_epi8(dst + c * oplane + oy * g->ow + x0, m, r[c]);
        }
        for (; x0 < g->ow; x0 += 16) {
            long n = g->ow - x0 < 16 ? g->ow - x0 : 16;
            __m128i q[16];
            dw16_row(&l, rows, fw, g->kh, u, x0 * u * 64, n, vb, vs, &rq, q);
            for (long k = n; k < 16; k++) q[k] = _mm_setzero_si128();
            transpose16(q);
            for (long c = 0; c < channels; c++) _mm_mask_storeu_epi8(dst + c * oplane + oy * g->ow + x0, dw_mask(n), q[c]);
        }
    }
}

#else
void socprof_dw16_u8_avx512(const socprof_dw_shape *g, const uint8_t *src, long channels, uint8_t flip, float zf, const uint8_t *packed,
                            const float *scale, int32_t zp, int32_t lo, int32_t hi, float *scratch, uint8_t *dst) {
    (void)g; (void)src; (void)channels; (void)flip; (void)zf; (void)packed; (void)scale; (void)zp; (void)lo; (void)hi;
    (void)scratch; (void)dst;
}
#endif
