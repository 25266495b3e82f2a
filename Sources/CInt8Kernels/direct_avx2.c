// Direct convolution with AVX2 and FMA (x86-64) for layers with few input channels (a network's
// first layer, on the image's 3 channels), for CPUs without AVX-512: direct_x86.c's kernel (its
// scratch layout: the packed weights, then each input channel's padded rows in a ring, split into
// the stride's column phases) with 8-float vectors, 6 output channels x 2 vectors a block (12
// sums, 2 inputs and a broadcast weight in 15 of the 16 ymm registers; the weights packed 6
// channels a block). 4 channels x 2 vectors (8 sums) took 1.03-1.12x the time on ResNet-50's conv1
// (7x7, stride 2, 64 channels) and about the same on MobileNet's Conv2d_0 (3x3, 32: 5 blocks of 6
// and one of 2) in a C harness alternating the two (Zen 3); 4 channels x 3 vectors (12 sums, 3
// inputs) had one spilled and ran at a third of the FMA rate. See CInt8Kernels.h. Empty stubs
// elsewhere.
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

// Output channels a block of the weights.
#define DIRECT2_OC 6

// The weights [oc][c][kh][kw] into `wp`, 6 output channels a block, tap by tap (zeros past the
// last channel): block b at wp + 6 b taps. (direct_weight_floats leaves room for them.)
D2_INLINE void direct2_pack_weights(const socprof_direct_shape *g, const float *weights, float *wp) {
    long taps = g->c * g->kh * g->kw, blocks = (g->oc + DIRECT2_OC - 1) / DIRECT2_OC;
    for (long b = 0; b < blocks; b++)
        for (long t = 0; t < taps; t++)
            for (long j = 0; j < DIRECT2_OC; j++) {
                long oc = b * DIRECT2_OC + j;
                wp[(b * taps + t) * DIRECT2_OC + j] = oc < g->oc ? weights[oc * taps + t] : 0;
            }
}

// Output row oy, columns ox ..< ox + 8 V, output channels oc0 ..< oc0 + J of the 6-channel
// block `wb` (a tap's 6 weights, then the next tap's): the bias, plus for each tap the input
// vectors at the tap's offset times the tap's weight of each channel (broadcast): J x V sums, V
// loads and J broadcasts for J V FMAs (J at most 6, V at most 2: 12 sums, 2 inputs and a
// broadcast in 15 of the 16 ymm registers).
D2_INLINE void direct2_block(const socprof_direct_shape *g, const int j_count, const int v, const float *planes, const long *off, long taps,
                             const float *wb, long oc0, const float *bias, float lo, float hi, long oy, long ox, int nt, float *dst) {
    __m256 acc[DIRECT2_OC][2];
#pragma clang loop unroll(full)
    for (int j = 0; j < DIRECT2_OC; j++) {
        if (j >= j_count) break;
        __m256 init = _mm256_set1_ps(bias && oc0 + j < g->oc ? bias[oc0 + j] : 0);
        acc[j][0] = acc[j][1] = init;
    }
    // Four taps an iteration: 1.02-1.09x faster than one (6 of 6 alternations, Zen 3).
#pragma clang loop unroll_count(4)
    for (long t = 0; t < taps; t++) {
        const float *q = planes + off[t] + ox;
        __m256 x0 = _mm256_loadu_ps(q);
        __m256 x1 = v > 1 ? _mm256_loadu_ps(q + 8) : x0;
        const float *w = wb + t * DIRECT2_OC;
#pragma clang loop unroll(full)
        for (int j = 0; j < DIRECT2_OC; j++) {
            if (j >= j_count) break;
            __m256 wj = _mm256_broadcast_ss(w + j);
            acc[j][0] = _mm256_fmadd_ps(x0, wj, acc[j][0]);
            if (v > 1) acc[j][1] = _mm256_fmadd_ps(x1, wj, acc[j][1]);
        }
    }
    // The stores unrolled (constant indices: the sums stay in their registers), the last 1-7
    // floats of a row by a masked store.
    const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
#pragma clang loop unroll(full)
    for (int j = 0; j < DIRECT2_OC; j++) {
        if (j >= j_count || oc0 + j >= g->oc) break;
        float *d = dst + ((oc0 + j) * g->oh + oy) * g->ow + ox;
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

// A row's blocks for the output channels oc0 ..< oc0 + J (J = 6, or the last 1 to 5 rounded up
// to 2, 4 or 6: the channels past the layer's have zero weights and are not stored): 2 vectors,
// the last one of 1 where the row has an odd number.
D2_INLINE void direct2_row(const socprof_direct_shape *g, const int j_count, const float *planes, const long *off, long taps, const float *wb,
                           long oc0, const float *bias, float lo, float hi, long oy, int nt, float *dst) {
    long ox = 0, left = (g->ow + 7) / 8;
    for (; left >= 2; left -= 2, ox += 16) direct2_block(g, j_count, 2, planes, off, taps, wb, oc0, bias, lo, hi, oy, ox, nt, dst);
    if (left) direct2_block(g, j_count, 1, planes, off, taps, wb, oc0, bias, lo, hi, oy, ox, nt, dst);
}

D2_TARGET
void socprof_direct_f32_avx2(const socprof_direct_shape *g, const float *src, const float *weights, const float *bias, float lo, float hi,
                             long oy0, long oy1, float *scratch, float *dst) {
    if (oy1 <= oy0) return;
    long s = g->stride, taps = g->c * g->kh * g->kw;
    long width = direct_width(g), slot = s * width, channel = DIRECT_RING * slot;
    float *wp = scratch;
    direct2_pack_weights(g, weights, wp);
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
        // Channels 6 at a time, each over the whole row (its 6 x taps weights stay in L1 as the
        // row's blocks pass), the last 1 to 5 with 2, 4 or 6 sums a vector.
        long oc0 = 0;
        for (; oc0 + DIRECT2_OC <= g->oc; oc0 += DIRECT2_OC) direct2_row(g, DIRECT2_OC, ring, off, taps, wp + oc0 * taps, oc0, bias, lo, hi, oy, nt, dst);
        switch (g->oc - oc0) {
        case 1: case 2: direct2_row(g, 2, ring, off, taps, wp + oc0 * taps, oc0, bias, lo, hi, oy, nt, dst); break;
        case 3: case 4: direct2_row(g, 4, ring, off, taps, wp + oc0 * taps, oc0, bias, lo, hi, oy, nt, dst); break;
        case 5: direct2_row(g, DIRECT2_OC, ring, off, taps, wp + oc0 * taps, oc0, bias, lo, hi, oy, nt, dst); break;
        default: break;
        }
    }
}

#else
void socprof_direct_f32_avx2(const socprof_direct_shape *g, const float *src, const float *weights, const float *bias, float lo, float hi,
                             long oy0, long oy1, float *scratch, float *dst) {
    (void)g; (void)src; (void)weights; (void)bias; (void)lo; (void)hi; (void)oy0; (void)oy1; (void)scratch; (void)dst;
}
#endif
