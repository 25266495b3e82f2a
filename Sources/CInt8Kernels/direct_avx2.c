// Direct convolution with AVX2 and FMA (x86-64) for layers with few input channels (a network's
// first layer, on the image's 3 channels), for CPUs without AVX-512: direct_x86.c's kernel (its
// scratch layout: the weights 8 output channels a block, then each input channel's padded rows in
// a ring, split into the stride's column phases) with 8-float vectors, 4 output channels x 2
// vectors a block (8 sums, 2 inputs, the weights in 16 ymm registers: with 3 vectors, 12 sums, one
// was spilled and ResNet-50's conv1 ran at a third of the FMA rate). See CInt8Kernels.h. Empty
// stubs elsewhere.
#include "CInt8Kernels.h"
#include <string.h>
#include "direct_layout.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define D2_TARGET __attribute__((target("avx2,fma")))
#define D2_INLINE __attribute__((target("avx2,fma"), always_inline)) static inline

// Input row iy of one channel into its padded phase rows: stride 1, padded column C at d0[C];
// stride 2, even padded columns at d0[C / 2], odd ones at d1[C / 2]: the row's even columns go
// to one phase and its odd ones to the other (which, the parity of the left padding says), 16
// columns at a time split into 8 and 8 by two shuffles and a lane permute, the last 0-15 one by
// one. Only the input's columns are written: the padding around them stays as the ring was
// zeroed.
D2_INLINE void direct2_fill(const socprof_direct_shape *g, const float *row, float *d0, float *d1) {
    if (g->stride == 1) {
        memcpy(d0 + g->pl, row, (size_t)g->w * sizeof(float));
        return;
    }
    const long pl = g->pl;
    float *even = (pl & 1) ? d1 + (pl >> 1) : d0 + (pl >> 1);
    float *odd = (pl & 1) ? d0 + ((pl + 1) >> 1) : d1 + (pl >> 1);
    long ix = 0;
    for (; ix + 16 <= g->w; ix += 16) {
        __m256 a = _mm256_loadu_ps(row + ix), b = _mm256_loadu_ps(row + ix + 8);
        // a0 a2 b0 b2 | a4 a6 b4 b6 -> a0 a2 a4 a6 b0 b2 b4 b6 (64-bit pieces 0, 2, 1, 3); odd the same.
        __m256 e = _mm256_shuffle_ps(a, b, 0x88), o = _mm256_shuffle_ps(a, b, 0xDD);
        _mm256_storeu_ps(even + ix / 2, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e), 0xD8)));
        _mm256_storeu_ps(odd + ix / 2, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(o), 0xD8)));
    }
    for (; ix < g->w; ix++) ((ix & 1) ? odd : even)[ix >> 1] = row[ix];
}

// Output row oy, columns ox ..< ox + 8 V, output channels 4h ..< 4h + 4 of block `wb`: the bias,
// plus for each tap the input vectors at the tap's offset times the tap's weight of each channel
// (broadcast): 4 x V sums, V loads and 4 broadcasts for 4 V FMAs (V at most 2).
D2_INLINE void direct2_block(const socprof_direct_shape *g, int v, const float *planes, const long *off, long taps, const float *wb, long oc0,
                             const float *bias, float lo, float hi, long oy, long ox, int nt, float *dst) {
    __m256 acc[4][2];
    for (int j = 0; j < 4; j++) {
        long oc = oc0 + j;
        __m256 init = _mm256_set1_ps(oc < g->oc && bias ? bias[oc] : 0);
        for (int u = 0; u < 2; u++) acc[j][u] = init;
    }
    for (long t = 0; t < taps; t++) {
        const float *q = planes + off[t] + ox;
        __m256 x0 = _mm256_loadu_ps(q);
        __m256 x1 = v > 1 ? _mm256_loadu_ps(q + 8) : x0;
        const float *w = wb + t * 8;
#pragma clang loop unroll(full)
        for (int j = 0; j < 4; j++) {
            __m256 wj = _mm256_broadcast_ss(w + j);
            acc[j][0] = _mm256_fmadd_ps(x0, wj, acc[j][0]);
            if (v > 1) acc[j][1] = _mm256_fmadd_ps(x1, wj, acc[j][1]);
        }
    }
    // The stores unrolled (constant indices: the sums stay in their registers), the last 1-7
    // floats of a row by a masked store.
    const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
#pragma clang loop unroll(full)
    for (int j = 0; j < 4; j++) {
        long oc = oc0 + j;
        if (oc >= g->oc) break;
        float *d = dst + (oc * g->oh + oy) * g->ow + ox;
#pragma clang loop unroll(full)
        for (int u = 0; u < 2; u++) {
            if (u >= v) break;
            __m256 f = _mm256_min_ps(_mm256_max_ps(acc[j][u], vlo), vhi);
            long left = g->ow - ox - 8 * u;
            // A row's last floats alone, unless the row after it is this thread's (nt: it will be
            // written after). Plain stores: non-temporal ones (as direct_x86.c's, which write
            // whole 64-byte lines) of half lines took MobileNet's Conv2d_0 from 0.8 to 0.9 ms
            // and the layer after it, reading its output from memory, from 0.35 to 0.5 (Zen 3).
            if (left >= 8 || nt) _mm256_storeu_ps(d + 8 * u, f);
            else _mm256_maskstore_ps(d + 8 * u, _mm256_cmpgt_epi32(_mm256_set1_epi32((int)left), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)), f);
        }
    }
}

D2_TARGET
void socprof_direct_f32_avx2(const socprof_direct_shape *g, const float *src, const float *weights, const float *bias, float lo, float hi,
                             long oy0, long oy1, float *scratch, float *dst) {
    if (oy1 <= oy0) return;
    long s = g->stride, taps = g->c * g->kh * g->kw;
    long width = direct_width(g), slot = s * width, channel = DIRECT_RING * slot;
    float *wp = scratch;
    direct_pack_weights(g, weights, wp);
    // Each input channel's padded rows in a ring, put there just before the first output row
    // that reads them: the rows stay in L1, the input is read once.
    float *ring = scratch + direct_weight_floats(g);
    memset(ring, 0, (size_t)(g->c * channel + 64) * sizeof(float));
    long off[taps];
    long next = oy0 * s;
    for (long oy = oy0; oy < oy1; oy++) {
        for (; next < oy * s + g->kh; next++) {
            long iy = next - g->pt;
            for (long ci = 0; ci < g->c; ci++) {
                float *d = ring + ci * channel + (next % DIRECT_RING) * slot;
                if (iy >= 0 && iy < g->h) direct2_fill(g, src + (ci * g->h + iy) * g->w, d, d + width);
                else memset(d, 0, (size_t)slot * sizeof(float));
            }
        }
        direct_offsets(g, oy, width, slot, channel, off);
        const int nt = oy + 1 < oy1;
        // Blocks of 2 vectors, the last one of 1 where the row has an odd number.
        for (long ox = 0, left = (g->ow + 7) / 8; left > 0;) {
            long v = left >= 2 ? 2 : 1;
            for (long oc0 = 0; oc0 < g->oc; oc0 += 4) {
                const float *wb = wp + (oc0 / 8) * taps * 8 + (oc0 % 8);
                if (v == 2) direct2_block(g, 2, ring, off, taps, wb, oc0, bias, lo, hi, oy, ox, nt, dst);
                else direct2_block(g, 1, ring, off, taps, wb, oc0, bias, lo, hi, oy, ox, nt, dst);
            }
            ox += 8 * v;
            left -= v;
        }
    }
}

#else
void socprof_direct_f32_avx2(const socprof_direct_shape *g, const float *src, const float *weights, const float *bias, float lo, float hi,
                             long oy0, long oy1, float *scratch, float *dst) {
    (void)g; (void)src; (void)weights; (void)bias; (void)lo; (void)hi; (void)oy0; (void)oy1; (void)scratch; (void)dst;
}
#endif
