// Depthwise convolution of 16 channels at once, one channel a lane, for x86-64 CPUs with AVX2 and
// without AVX-512 VNNI (the AVX-512 kernel is depthwise_lanes_x86.c; this one has its layout with
// pairs of taps in place of fours). The 16 channels' bytes are transposed (16 x 16 byte
// transposes) into a padded row of pixels, each pixel's 16 channels widened to int16 (32 bytes a
// pixel), the padding being the zero point. From it, each position an output pixel starts a pair
// of taps of its filter at gets a window: for every channel, the values at that column and the
// next one as an int16 pair in an int32 lane, channels 0-3 and 8-11 in one ymm vector, 4-7 and
// 12-15 in another (the order of unpacking within 128-bit lanes, undone by the packing of the
// results), kept in a ring of window rows. Each output pixel is then kh x ceil(kw / 2) vpmaddwd
// of windows by the filter's taps in pairs (int16, 0 past kw) a vector: exact int32 sums (a pair
// is at most 2 x 255 x 127), which start from the bias less the zero point x the channel's weight
// sum (so that the padding and the zero point add nothing). The sums are requantized with each
// lane's channel's scale (socprof_i8_requant_ref's arithmetic) and transposed back into the
// channels' rows. See CInt8Kernels.h. Empty stubs elsewhere.
#include "CInt8Kernels.h"
#include <string.h>
#include "lanes_layout.h"

long socprof_dw16_avx2_scratch_floats(const socprof_dw_shape *g) {
    dw_lanes_layout l = dw_lanes_layout_of(g, 2);
    // Window rows (64 bytes a window), the padded row (32 bytes a column).
    long bytes = dw_lanes_ring(g) * l.windows * 64 + l.columns * 32;
    return bytes / 4 + 64;
}

long socprof_dw16_avx2_packed_bytes(long kh, long kw) { return (kh * ((kw + 1) / 2) + 1) * 64; }

// The channel in int32 lane i of the first (half 0) and second (half 1) vector of a window.
static inline long dw8_channel(long half, long i) { return (i < 4 ? i : i + 4) + 4 * half; }

void socprof_dw16_avx2_pack(long kh, long kw, long channels, const int8_t *weights, const int32_t *bias, uint8_t zb, uint8_t *packed) {
    const long groups = (kw + 1) / 2, taps = kh * kw;
    memset(packed, 0, (size_t)socprof_dw16_avx2_packed_bytes(kh, kw));
    int16_t *w16 = (int16_t *)packed;
    // Filter row ky, taps 2q and 2q + 1 (0 past kw and past the channels): channel
    // dw8_channel(h, i)'s pair in int32 lane i of vector h.
    for (long ky = 0; ky < kh; ky++)
        for (long q = 0; q < groups; q++)
            for (long h = 0; h < 2; h++)
                for (long i = 0; i < 8; i++) {
                    long c = dw8_channel(h, i);
                    if (c >= channels) continue;
                    for (long t = 0; t < 2 && 2 * q + t < kw; t++)
                        w16[((ky * groups + q) * 2 + h) * 16 + 2 * i + t] = weights[c * taps + ky * kw + 2 * q + t];
                }
    // The bias less zb x the channel's weight sum, in the same lanes.
    int32_t corr[16] = {0};
    for (long h = 0; h < 2; h++)
        for (long i = 0; i < 8; i++) {
            long c = dw8_channel(h, i);
            if (c >= channels) continue;
            int32_t sum = 0;
            for (long t = 0; t < taps; t++) sum += weights[c * taps + t];
            corr[8 * h + i] = bias[c] - (int32_t)zb * sum;
        }
    memcpy(packed + kh * groups * 64, corr, sizeof corr);
}

#if defined(__x86_64__)
#include <immintrin.h>
#include "requant_x86.h"
#include "transpose16_x86.h"

#define DW8_TARGET __attribute__((target("avx2")))
#define DW8_INLINE __attribute__((target("avx2"), always_inline)) static inline

// The 16 bytes, in channel order, of the sums a (channels 0-3, 8-11) and b (4-7, 12-15) times
// their channels' scales sa, sb, requantized (i8_rq8_lanes) and packed, which puts the channels
// back in order.
DW8_INLINE __m128i dw8_bytes(const i8_rq8 *q, __m256i a, __m256i b, __m256 sa, __m256 sb) {
    __m256i w = _mm256_packus_epi32(i8_rq8_lanes(q, a, sa), i8_rq8_lanes(q, b, sb));  // lane 0: channels 0-7, lane 1: 8-15
    __m256i bytes = _mm256_packus_epi16(w, w);                                        // each lane's 8 bytes twice
    return _mm_unpacklo_epi64(_mm256_castsi256_si128(bytes), _mm256_extracti128_si256(bytes, 1));
}

// The sums of output pixels x0 ..< x0 + n of a row (`x` the first one's window offset in bytes,
// `u` windows from one pixel to the next, pair k of a filter row k x `kwin` windows on), four
// pixels at a time, each requantized into q.
DW8_INLINE void dw8_sums(const uint8_t *const *rows, const uint8_t *fw, const long kh, const long groups, long u, long kwin, long x, long n,
                         __m256i ba, __m256i bb, __m256 sa, __m256 sb, const i8_rq8 *rq, __m128i *q) {
    const long ub = u * 64, step = kwin * 64;
    long ox = 0;
    for (; ox + 4 <= n; ox += 4) {
        __m256i a0 = ba, b0 = bb, a1 = ba, b1 = bb, a2 = ba, b2 = bb, a3 = ba, b3 = bb;
        for (long ky = 0; ky < kh; ky++)
            for (long k = 0; k < groups; k++) {
                const uint8_t *p = rows[ky] + x + ox * ub + k * step;
                const __m256i wa = _mm256_loadu_si256((const __m256i *)(fw + (ky * groups + k) * 64));
                const __m256i wb = _mm256_loadu_si256((const __m256i *)(fw + (ky * groups + k) * 64 + 32));
                a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)p), wa));
                b0 = _mm256_add_epi32(b0, _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)(p + 32)), wb));
                a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)(p + ub)), wa));
                b1 = _mm256_add_epi32(b1, _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)(p + ub + 32)), wb));
                a2 = _mm256_add_epi32(a2, _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)(p + 2 * ub)), wa));
                b2 = _mm256_add_epi32(b2, _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)(p + 2 * ub + 32)), wb));
                a3 = _mm256_add_epi32(a3, _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)(p + 3 * ub)), wa));
                b3 = _mm256_add_epi32(b3, _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)(p + 3 * ub + 32)), wb));
            }
        q[ox] = dw8_bytes(rq, a0, b0, sa, sb);
        q[ox + 1] = dw8_bytes(rq, a1, b1, sa, sb);
        q[ox + 2] = dw8_bytes(rq, a2, b2, sa, sb);
        q[ox + 3] = dw8_bytes(rq, a3, b3, sa, sb);
    }
    for (; ox < n; ox++) {
        __m256i a0 = ba, b0 = bb;
        for (long ky = 0; ky < kh; ky++)
            for (long k = 0; k < groups; k++) {
                const uint8_t *p = rows[ky] + x + ox * ub + k * step;
                a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)p),
                                                            _mm256_loadu_si256((const __m256i *)(fw + (ky * groups + k) * 64))));
                b0 = _mm256_add_epi32(b0, _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)(p + 32)),
                                                            _mm256_loadu_si256((const __m256i *)(fw + (ky * groups + k) * 64 + 32))));
            }
        q[ox] = dw8_bytes(rq, a0, b0, sa, sb);
    }
}

// The same, with the loops fixed for 3x3 filters (MobileNet's), else as the filter has them.
DW8_INLINE void dw8_row(const dw_lanes_layout *l, const uint8_t *const *rows, const uint8_t *fw, long kh, long u, long x, long n, __m256i ba,
                        __m256i bb, __m256 sa, __m256 sb, const i8_rq8 *rq, __m128i *q) {
    if (kh == 3 && l->groups == 2 && l->step == 1) dw8_sums(rows, fw, 3, 2, u, 2, x, n, ba, bb, sa, sb, rq, q);
    else if (kh == 3 && l->groups == 2 && l->step == 2) dw8_sums(rows, fw, 3, 2, u, 1, x, n, ba, bb, sa, sb, rq, q);
    else dw8_sums(rows, fw, kh, l->groups, u, 2 / l->step, x, n, ba, bb, sa, sb, rq, q);
}

// 32 bytes from `src`, of which `n` (1 to 32) are wanted and `avail` may be read (the rest 0).
DW8_INLINE __m256i dw8_load32(const uint8_t *src, long n, long avail) {
    if (avail >= 32) return _mm256_loadu_si256((const __m256i *)src);
    uint8_t b[32] = {0};
    memcpy(b, src, (size_t)n);
    return _mm256_loadu_si256((const __m256i *)b);
}

// 16 bytes from `src`, of which `n` (1 to 16) are wanted and `avail` may be read (the rest 0).
DW8_INLINE __m128i dw8_load16(const uint8_t *src, long n, long avail) {
    if (avail >= 16) return _mm_loadu_si128((const __m128i *)src);
    uint8_t b[16] = {0};
    memcpy(b, src, (size_t)n);
    return _mm_loadu_si128((const __m128i *)b);
}

DW8_TARGET
void socprof_dw16_u8_avx2(const socprof_dw_shape *g, const uint8_t *src, long channels, uint8_t flip, float zf, const uint8_t *packed,
                          const float *scale, int32_t zp, int32_t lo, int32_t hi, float *scratch, uint8_t *dst) {
    const dw_lanes_layout l = dw_lanes_layout_of(g, 2);
    const long plane = g->h * g->w, oplane = g->oh * g->ow, s = g->stride;
    const long ring = dw_lanes_ring(g), mask = ring - 1, wrow = l.windows * 64;
    // Windows from one output pixel to the next.
    const long u = s / l.step;
    uint8_t *windows = (uint8_t *)scratch, *row = windows + ring * wrow;
    const uint8_t *fw = packed;  // the filter's pairs; the sums' starting values after them
    // The zero point (after the flip) in every int16: the padding, and what the bias makes up
    // for; as a pixel of the padded row and as a window (pairs of it, whatever the channel order).
    const __m256i pad = _mm256_set1_epi16((short)(int32_t)zf);
    for (long i = 0; i < l.columns; i++) _mm256_storeu_si256((__m256i *)(row + 32 * i), pad);
    // The sums' starting values, packed once per layer with the filter (socprof_dw16_avx2_pack).
    const __m256i ba = _mm256_loadu_si256((const __m256i *)(packed + g->kh * l.groups * 64));
    const __m256i bb = _mm256_loadu_si256((const __m256i *)(packed + g->kh * l.groups * 64 + 32));
    // The scales in the windows' channel order (1 past the channels, whose lanes are not stored).
    float sc[16];
    for (long h = 0; h < 2; h++)
        for (long i = 0; i < 8; i++) {
            long c = dw8_channel(h, i);
            sc[8 * h + i] = c < channels ? scale[c] : 1.0f;
        }
    const __m256 sa = _mm256_loadu_ps(sc), sb = _mm256_loadu_ps(sc + 8);
    const i8_rq8 rq = i8_rq8_make(zp, lo, hi);
    const __m256i vflip = _mm256_set1_epi8((char)flip);
    long next = 0;  // the next padded row to put in the ring
    for (long oy = 0; oy < g->oh; oy++) {
        for (; next < oy * s + g->kh; next++) {
            uint8_t *wr = windows + (next & mask) * wrow;
            long iy = next - g->pt;
            if (iy < 0 || iy >= g->h) {
                for (long j = 0; j < l.windows; j++) {
                    _mm256_storeu_si256((__m256i *)(wr + 64 * j), pad);
                    _mm256_storeu_si256((__m256i *)(wr + 64 * j + 32), pad);
                }
                continue;
            }
            // The input row, transposed 32 pixels at a time (two 16 x 16 blocks in the lanes of
            // ymm registers), or 16, flipped to uint8 and widened to int16, after the padding.
            // Reads past a row stay inside the group's channels.
            for (long x0 = 0; x0 < g->w; x0 += 32) {
                const long n = g->w - x0 < 32 ? g->w - x0 : 32;
                uint8_t *d = row + (g->pl + x0) * 32;
                if (n > 16) {
                    __m256i r[16];
                    for (long c = 0; c < 16; c++) {
                        const long at = c * plane + iy * g->w + x0;
                        r[c] = c < channels ? dw8_load32(src + at, n, channels * plane - at) : _mm256_setzero_si256();
                    }
                    transpose16x2(r);
#pragma clang loop unroll(full)
                    for (int k = 0; k < 16; k++) {
                        const __m256i v = _mm256_xor_si256(r[k], vflip);
                        _mm256_storeu_si256((__m256i *)(d + 32 * k), _mm256_cvtepu8_epi16(_mm256_castsi256_si128(v)));
                        if (16 + k < n) _mm256_storeu_si256((__m256i *)(d + 32 * (16 + k)), _mm256_cvtepu8_epi16(_mm256_extracti128_si256(v, 1)));
                    }
                } else {
                    __m128i r[16];
                    for (long c = 0; c < 16; c++) {
                        const long at = c * plane + iy * g->w + x0;
                        r[c] = c < channels ? dw8_load16(src + at, n, channels * plane - at) : _mm_setzero_si128();
                    }
                    transpose16(r);
#pragma clang loop unroll(full)
                    for (int k = 0; k < 16; k++)
                        if (k < n) _mm256_storeu_si256((__m256i *)(d + 32 * k), _mm256_cvtepu8_epi16(_mm_xor_si128(r[k], _mm256_castsi256_si128(vflip))));
                }
            }
            for (long j = 0; j < l.windows; j++) {
                const uint8_t *c = row + j * l.step * 32;
                __m256i a = _mm256_loadu_si256((const __m256i *)c), b = _mm256_loadu_si256((const __m256i *)(c + 32));
                _mm256_storeu_si256((__m256i *)(wr + 64 * j), _mm256_unpacklo_epi16(a, b));
                _mm256_storeu_si256((__m256i *)(wr + 64 * j + 32), _mm256_unpackhi_epi16(a, b));
            }
        }
        const uint8_t *rows[SOCPROF_DW_MAX_TAPS];
        for (long ky = 0; ky < g->kh; ky++) rows[ky] = windows + ((oy * s + ky) & mask) * wrow;
        // 32 output pixels at a time, their bytes transposed back as two blocks in ymm lanes, or
        // 16 as one block. Whole 16-byte stores past a row where they stay inside its channel's
        // plane (the rows after it are written later).
        for (long x0 = 0; x0 < g->ow; x0 += 32) {
            const long n = g->ow - x0 < 32 ? g->ow - x0 : 32, at = oy * g->ow + x0;
            __m128i q[32];
            dw8_row(&l, rows, fw, g->kh, u, x0 * u * 64, n < 16 ? n : 16, ba, bb, sa, sb, &rq, q);
            if (n > 16) {
                dw8_row(&l, rows, fw, g->kh, u, (x0 + 16) * u * 64, n - 16, ba, bb, sa, sb, &rq, q + 16);
                for (long k = n; k < 32; k++) q[k] = _mm_setzero_si128();
                __m256i r[16];
                for (int k = 0; k < 16; k++) r[k] = _mm256_inserti128_si256(_mm256_castsi128_si256(q[k]), q[16 + k], 1);
                transpose16x2(r);
                for (long c = 0; c < channels; c++) {
                    uint8_t *d = dst + c * oplane + at;
                    _mm_storeu_si128((__m128i *)d, _mm256_castsi256_si128(r[c]));
                    i8_store16_avx2(d + 16, _mm256_extracti128_si256(r[c], 1), oplane - at - 16 >= 16 ? 16 : n - 16);
                }
            } else {
                for (long k = n; k < 16; k++) q[k] = _mm_setzero_si128();
                transpose16(q);
                for (long c = 0; c < channels; c++) i8_store16_avx2(dst + c * oplane + at, q[c], oplane - at >= 16 ? 16 : n);
            }
        }
    }
}

#else
void socprof_dw16_u8_avx2(const socprof_dw_shape *g, const uint8_t *src, long channels, uint8_t flip, float zf, const uint8_t *packed,
                          const float *scale, int32_t zp, int32_t lo, int32_t hi, float *scratch, uint8_t *dst) {
    (void)g; (void)src; (void)channels; (void)flip; (void)zf; (void)packed; (void)scale; (void)zp; (void)lo; (void)hi;
    (void)scratch; (void)dst;
}
#endif
