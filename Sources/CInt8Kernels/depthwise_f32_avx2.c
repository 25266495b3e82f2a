// Depthwise convolution in fp32 of 8 channels at once, one channel a lane (AVX2 and FMA, x86-64),
// for CPUs without AVX-512 (which run depthwise_x86.c's plane kernels). The 8 channels' rows are
// transposed (8 x 8 float transposes) into padded rows of pixels, 8 floats a pixel, the padding
// zero, kept in a ring of kh + stride rows (a power of two), each row put there just before the
// first output row that reads it. Each output pixel is then kh x kw FMAs of a pixel's vector by
// the tap's vector of the 8 channels' weights, from the bias, in (ky, kx) order (the Swift
// kernel's order, so the sums are the same), eight pixels at a time (3 x 3 filters load each
// input column once for every pixel that reads it); then the activation's clamp and the transpose
// back into the channels' rows. Rows are read and written in whole blocks of 8 pixels, the last
// one overlapping the one before, so that only rows narrower than 8 need partial loads or stores.
// See CInt8Kernels.h. Empty stubs elsewhere.
#include "CInt8Kernels.h"
#include <string.h>
#include "lanes_layout.h"

// Columns of a padded row: the padded input's, and every column an output row's blocks of 8
// pixels read (a row narrower than 8 is summed as a whole block, the pixels past it on zeros and
// not stored; a wider one's last block is its last 8 pixels, overlapping the one before).
static long dw8f_columns(const socprof_dw_shape *g) {
    long gh, gw;
    socprof_dw_padded_size(g, &gh, &gw);
    (void)gh;
    long need = ((g->ow > 8 ? g->ow : 8) - 1) * g->stride + g->kw;
    return gw > need ? gw : need;
}

long socprof_dw8_f32_avx2_scratch_floats(const socprof_dw_shape *g) {
    // The ring of padded rows (8 floats a column), then the taps' weights (8 a tap).
    return dw_lanes_ring(g) * dw8f_columns(g) * 8 + SOCPROF_DW_MAX_TAPS * 8 + 16;
}

#if defined(__x86_64__)
#include <immintrin.h>

#define DW8F_TARGET __attribute__((target("avx2,fma")))
#define DW8F_INLINE __attribute__((target("avx2,fma"), always_inline)) static inline

// An 8 x 8 transpose of floats: afterwards r[j] holds element j of every former r[i], in order.
DW8F_INLINE void transpose8(__m256 *r) {
    __m256 t[8], u[8];
    for (int i = 0; i < 4; i++) {
        t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 2; i++) {
        u[4 * i + 0] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
        u[4 * i + 1] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0xEE);
        u[4 * i + 2] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
        u[4 * i + 3] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xEE);
    }
    for (int j = 0; j < 4; j++) {
        r[j] = _mm256_permute2f128_ps(u[j], u[4 + j], 0x20);
        r[4 + j] = _mm256_permute2f128_ps(u[j], u[4 + j], 0x31);
    }
}

// The lane mask of the first n (0 to 8) lanes.
DW8F_INLINE __m256i dw8f_mask(long n) {
    const __m256i index = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), index);
}

// The first n (1 to 7) floats of v to d (4, 2 and 1 at a time: a masked store is slow on AMD's
// cores, and memcpy a call).
DW8F_INLINE void dw8f_store(float *d, __m256 v, long n) {
    __m128 x = _mm256_castps256_ps128(v);
    if (n & 4) {
        _mm_storeu_ps(d, x);
        x = _mm256_extractf128_ps(v, 1);
        d += 4;
    }
    if (n & 2) {
        _mm_storel_pi((__m64 *)d, x);
        x = _mm_movehl_ps(x, x);
        d += 2;
    }
    if (n & 1) _mm_store_ss(d, x);
}

// Output pixels x0 ..< x0 + 8 of a row into a[0..8): the bias plus the taps in (ky, kx) order,
// eight chains of FMAs in flight (with four, the FMA's latency bound a 3x3 filter's nine); `xs`
// floats from one pixel's first tap to the next one's.
DW8F_INLINE void dw8f_sums(const float *const *rows, const float *w, const long kh, const long kw, long xs, long x0, __m256 bias, __m256 *a) {
#pragma clang loop unroll(full)
    for (int i = 0; i < 8; i++) a[i] = bias;
    for (long ky = 0; ky < kh; ky++) {
        const float *p = rows[ky] + x0 * xs;
        for (long kx = 0; kx < kw; kx++) {
            const __m256 wv = _mm256_loadu_ps(w + (ky * kw + kx) * 8);
#pragma clang loop unroll(full)
            for (int i = 0; i < 8; i++) a[i] = _mm256_fmadd_ps(_mm256_loadu_ps(p + i * xs + kx * 8), wv, a[i]);
        }
    }
}

// The same sums for a 3 x 3 filter at stride `s` (1 or 2, a constant where it is inlined): each
// input column the 8 pixels read is loaded once and summed into every pixel that reads it (3 or
// fewer), the filter row's 3 taps held in registers: 10 (stride 1) or 17 (stride 2) loads a filter
// row against 24. Each sum still adds its taps in (ky, kx) order.
DW8F_INLINE void dw8f_sums3(const float *const *rows, const float *w, const long s, long x0, __m256 bias, __m256 *a) {
#pragma clang loop unroll(full)
    for (int i = 0; i < 8; i++) a[i] = bias;
#pragma clang loop unroll(full)
    for (int ky = 0; ky < 3; ky++) {
        const float *p = rows[ky] + x0 * s * 8;
        const __m256 wk[3] = {_mm256_loadu_ps(w + ky * 24), _mm256_loadu_ps(w + ky * 24 + 8), _mm256_loadu_ps(w + ky * 24 + 16)};
#pragma clang loop unroll(full)
        for (long j = 0; j < 7 * s + 3; j++) {
            const __m256 x = _mm256_loadu_ps(p + j * 8);
#pragma clang loop unroll(full)
            for (long kx = 0; kx < 3; kx++) {
                const long i = (j - kx) / s;
                if (j >= kx && (j - kx) % s == 0 && i < 8) a[i] = _mm256_fmadd_ps(x, wk[kx], a[i]);
            }
        }
    }
}

// Input row `iy` of the group's 8 planes (`at[c]`: lane c's plane; 8 or more pixels a row) into
// the padded row `d` (its first pixel's): 8 pixels at a time, the last 8 overlapping the ones
// before.
__attribute__((noinline)) DW8F_TARGET static void dw8f_put_row(const float *const *at, long w, float *d) {
    for (long x0 = 0;; x0 += 8) {
        if (x0 + 8 > w) x0 = w - 8;
        __m256 r[8];
#pragma clang loop unroll(full)
        for (int c = 0; c < 8; c++) r[c] = _mm256_loadu_ps(at[c] + x0);
        transpose8(r);
#pragma clang loop unroll(full)
        for (int k = 0; k < 8; k++) _mm256_storeu_ps(d + (x0 + k) * 8, r[k]);
        if (x0 + 8 >= w) break;
    }
}

// The same for a row of fewer than 8 pixels: whole loads while they stay in the group's planes
// (`end`: the floats past the last plane), else masked loads, which never fault (and are slow on
// AMD's cores).
__attribute__((noinline)) DW8F_TARGET static void dw8f_put_short_row(const float *const *at, long w, const float *end, float *d) {
    __m256 r[8];
    for (int c = 0; c < 8; c++) r[c] = at[c] + 8 <= end ? _mm256_loadu_ps(at[c]) : _mm256_maskload_ps(at[c], dw8f_mask(w));
    transpose8(r);
    for (long k = 0; k < w; k++) _mm256_storeu_ps(d + k * 8, r[k]);
}

// Output row `oy` from the padded rows `rows`: blocks of 8 pixels (the last 8 overlapping the
// ones before; a row narrower than 8 summed as one block), clamped, transposed, stored into the
// `channels` planes of `oplane` floats from `dst`: whole stores, past a row narrower than 8 too
// while they stay in the channel's plane (the rows after it are written later), else only the
// row's floats.
__attribute__((noinline)) DW8F_TARGET static void dw8f_row(const socprof_dw_shape *g, const float *const *rows, const float *w, __m256 vb,
                                                          __m256 vlo, __m256 vhi, long channels, long oy, float *dst) {
    const long ow = g->ow, oplane = g->oh * ow, xs = g->stride * 8;
    for (long x0 = 0;; x0 += 8) {
        if (x0 + 8 > ow) x0 = ow > 8 ? ow - 8 : 0;
        __m256 acc[8];
        if (g->kh == 3 && g->kw == 3 && g->stride == 1) dw8f_sums3(rows, w, 1, x0, vb, acc);
        else if (g->kh == 3 && g->kw == 3 && g->stride == 2) dw8f_sums3(rows, w, 2, x0, vb, acc);
        else dw8f_sums(rows, w, g->kh, g->kw, xs, x0, vb, acc);
#pragma clang loop unroll(full)
        for (int k = 0; k < 8; k++) acc[k] = _mm256_min_ps(_mm256_max_ps(acc[k], vlo), vhi);
        transpose8(acc);
        float *d = dst + oy * ow + x0;
        if (oy * ow + x0 + 8 <= oplane) {
#pragma clang loop unroll(full)
            for (int c = 0; c < 8; c++)
                if (c < channels) _mm256_storeu_ps(d + c * oplane, acc[c]);
        } else {
#pragma clang loop unroll(full)
            for (int c = 0; c < 8; c++)
                if (c < channels) dw8f_store(d + c * oplane, acc[c], ow);
        }
        if (x0 + 8 >= ow) break;
    }
}

DW8F_TARGET
void socprof_dw8_f32_avx2(const socprof_dw_shape *g, const float *src, long channels, const float *weights, const float *bias, float lo,
                          float hi, float *scratch, float *dst) {
    const long plane = g->h * g->w, s = g->stride, taps = g->kh * g->kw;
    const long ring = dw_lanes_ring(g), mask = ring - 1, rowFloats = dw8f_columns(g) * 8;
    float *rowsBase = scratch, *w = scratch + ring * rowFloats;
    // The taps' weights, channel c's in lane c (0 past the channels), and the bias.
    for (long t = 0; t < taps; t++)
        for (long c = 0; c < 8; c++) w[t * 8 + c] = c < channels ? weights[c * taps + t] : 0.0f;
    float b8[8] = {0};
    for (long c = 0; c < channels; c++) b8[c] = bias ? bias[c] : 0.0f;
    const __m256 vb = _mm256_loadu_ps(b8), vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
    // Every row's padding is zero, and stays so: the input's columns are all that is written.
    memset(rowsBase, 0, (size_t)(ring * rowFloats) * sizeof(float));
    long next = 0;  // the next padded row to put in the ring
    for (long oy = 0; oy < g->oh; oy++) {
        for (; next < oy * s + g->kh; next++) {
            float *row = rowsBase + (next & mask) * rowFloats;
            const long iy = next - g->pt;
            if (iy < 0 || iy >= g->h) {
                // A padding row (the ring's rows are reused: zero it again).
                memset(row, 0, (size_t)rowFloats * sizeof(float));
                continue;
            }
            // Lane c reads its channel's plane, or past the channels the first one's (its
            // weights are 0 there and its sums are never stored).
            const float *at[8];
            for (long c = 0; c < 8; c++) at[c] = src + (c < channels ? c : 0) * plane + iy * g->w;
            if (g->w >= 8) dw8f_put_row(at, g->w, row + g->pl * 8);
            else dw8f_put_short_row(at, g->w, src + channels * plane, row + g->pl * 8);
        }
        const float *rows[SOCPROF_DW_MAX_TAPS];
        for (long ky = 0; ky < g->kh; ky++) rows[ky] = rowsBase + ((oy * s + ky) & mask) * rowFloats;
        dw8f_row(g, rows, w, vb, vlo, vhi, channels, oy, dst);
    }
}

#else
void socprof_dw8_f32_avx2(const socprof_dw_shape *g, const float *src, long channels, const float *weights, const float *bias, float lo,
                          float hi, float *scratch, float *dst) {
    (void)g; (void)src; (void)channels; (void)weights; (void)bias; (void)lo; (void)hi; (void)scratch; (void)dst;
}
#endif
