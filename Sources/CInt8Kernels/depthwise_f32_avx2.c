// Depthwise convolution in fp32 of 8 channels at once, one channel a lane (AVX2 and FMA, x86-64),
// for CPUs without AVX-512 (which run depthwise_x86.c's plane kernels). The 8 channels' rows are
// transposed (8 x 8 float transposes) into padded rows of pixels, 8 floats a pixel, the padding
// zero, kept in a ring of kh + stride rows (a power of two), each row put there just before the
// first output row that reads it. Each output pixel is then kh x kw FMAs of a pixel's vector by
// the tap's vector of the 8 channels' weights, from the bias, in (ky, kx) order (the Swift
// kernel's order, so the sums are the same), eight pixels at a time; then the activation's clamp
// and the transpose back into the channels' rows. A plane kernel pads each channel and sweeps it
// 16 columns a vector, which on MobileNet's 14 x 14 and 7 x 7 layers costs more than the sums.
// See CInt8Kernels.h. Empty stubs elsewhere.
#include "CInt8Kernels.h"
#include <string.h>
#include "lanes_layout.h"

// Columns of a padded row: the padded input's, and every column the sums of whole blocks of 8
// output pixels read (the last block's pixels past the row are summed too, on zeros, and not
// stored: a block of 8 chains of FMAs, rather than the last pixels one chain at a time, each at
// the FMA's latency).
static long dw8f_columns(const socprof_dw_shape *g) {
    long gh, gw;
    socprof_dw_padded_size(g, &gh, &gw);
    (void)gh;
    long need = ((g->ow + 7) / 8 * 8 - 1) * g->stride + g->kw;
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

DW8F_TARGET
void socprof_dw8_f32_avx2(const socprof_dw_shape *g, const float *src, long channels, const float *weights, const float *bias, float lo,
                          float hi, float *scratch, float *dst) {
    const long plane = g->h * g->w, oplane = g->oh * g->ow, s = g->stride, taps = g->kh * g->kw;
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
            long iy = next - g->pt;
            if (iy < 0 || iy >= g->h) {
                // A padding row (the ring's rows are reused: zero it again).
                memset(row, 0, (size_t)rowFloats * sizeof(float));
                continue;
            }
            // The input row, 8 pixels at a time. Past the row, whole loads while they stay in the
            // group's channels (the extra lanes become pixels past the row, which are not
            // stored), else masked loads, which never fault (and are slow on AMD's cores).
            for (long x0 = 0; x0 < g->w; x0 += 8) {
                const long n = g->w - x0 < 8 ? g->w - x0 : 8;
                const __m256i m = dw8f_mask(n);
                __m256 r[8];
                for (long c = 0; c < 8; c++) {
                    const long at = c * plane + iy * g->w + x0;
                    r[c] = c >= channels ? _mm256_setzero_ps()
                           : at + 8 <= channels * plane ? _mm256_loadu_ps(src + at) : _mm256_maskload_ps(src + at, m);
                }
                transpose8(r);
                float *d = row + (g->pl + x0) * 8;
                for (long k = 0; k < n; k++) _mm256_storeu_ps(d + 8 * k, r[k]);
            }
        }
        const float *rows[SOCPROF_DW_MAX_TAPS];
        for (long ky = 0; ky < g->kh; ky++) rows[ky] = rowsBase + ((oy * s + ky) & mask) * rowFloats;
        for (long x0 = 0; x0 < g->ow; x0 += 8) {
            const long n = g->ow - x0 < 8 ? g->ow - x0 : 8;
            __m256 acc[8];
            if (g->kh == 3 && g->kw == 3) dw8f_sums(rows, w, 3, 3, s * 8, x0, vb, acc);
            else dw8f_sums(rows, w, g->kh, g->kw, s * 8, x0, vb, acc);
            // (Pixels past the row, summed on the padding, are clamped and transposed too; no
            // store keeps them.)
            for (int k = 0; k < 8; k++) acc[k] = _mm256_min_ps(_mm256_max_ps(acc[k], vlo), vhi);
            transpose8(acc);
            // Whole stores past a row while they stay in the channel's plane (the rows after it
            // are written later), else only the row's floats.
            const long at = oy * g->ow + x0;
            for (long c = 0; c < channels; c++) {
                float *d = dst + c * oplane + at;
                if (at + 8 <= oplane) {
                    _mm256_storeu_ps(d, acc[c]);
                } else {
                    float tmp[8];
                    _mm256_storeu_ps(tmp, acc[c]);
                    memcpy(d, tmp, (size_t)n * sizeof(float));
                }
            }
        }
    }
}

#else
void socprof_dw8_f32_avx2(const socprof_dw_shape *g, const float *src, long channels, const float *weights, const float *bias, float lo,
                          float hi, float *scratch, float *dst) {
    (void)g; (void)src; (void)channels; (void)weights; (void)bias; (void)lo; (void)hi; (void)scratch; (void)dst;
}
#endif
