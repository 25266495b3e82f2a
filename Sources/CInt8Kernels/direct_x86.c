// Direct convolution with AVX-512 (x86-64) for layers with few input channels (a network's first
// layer, on the image's 3 channels), where the im2col GEMM is at its worst: a K of 27 to 147, and
// a B operand as large as the output packed for every image. See CInt8Kernels.h. Empty stubs
// elsewhere.
#include "CInt8Kernels.h"
#include "direct_layout.h"

long socprof_direct_scratch_floats(const socprof_direct_shape *g) {
    return direct_weight_floats(g) + g->c * DIRECT_RING * g->stride * direct_width(g) + 64;
}

#if defined(__x86_64__)
#include "planes_x86.h"

// Output row oy, columns ox ..< ox + 16 V, output channels 8b ..< 8b + 8: the bias, plus for each
// tap t (input channel, ky, kx in order) the input vectors at the tap's offset times the tap's
// weight of each channel (broadcast): 8 x V accumulators, V loads and 8 broadcasts for 8 V FMAs.
DW_INLINE void direct_block(const socprof_direct_shape *g, int v, const float *planes, const long *off, long taps, const float *wb,
                            const float *bias, long b, float lo, float hi, long oy, long rowoff, long ox, float *dst) {
    __m512 acc[8][3];
    for (int j = 0; j < 8; j++) {
        long oc = b * 8 + j;
        __m512 init = _mm512_set1_ps(oc < g->oc && bias ? bias[oc] : 0);
        for (int u = 0; u < 3; u++) acc[j][u] = init;
    }
    for (long t = 0; t < taps; t++) {
        const float *q = planes + off[t] + rowoff + ox;
        __m512 x0 = _mm512_loadu_ps(q);
        __m512 x1 = v > 1 ? _mm512_loadu_ps(q + 16) : x0;
        __m512 x2 = v > 2 ? _mm512_loadu_ps(q + 32) : x0;
        const float *w = wb + t * 8;
#pragma clang loop unroll(full)
        for (int j = 0; j < 8; j++) {
            __m512 wj = _mm512_set1_ps(w[j]);
            acc[j][0] = _mm512_fmadd_ps(x0, wj, acc[j][0]);
            if (v > 1) acc[j][1] = _mm512_fmadd_ps(x1, wj, acc[j][1]);
            if (v > 2) acc[j][2] = _mm512_fmadd_ps(x2, wj, acc[j][2]);
        }
    }
    const __m512 vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
    for (int j = 0; j < 8; j++) {
        long oc = b * 8 + j;
        if (oc >= g->oc) break;
        float *d = dst + (oc * g->oh + oy) * g->ow + ox;
        for (int u = 0; u < v; u++) {
            __m512 f = _mm512_min_ps(_mm512_max_ps(acc[j][u], vlo), vhi);
            long left = g->ow - ox - 16 * u;
            // Whole aligned vectors with non-temporal stores: a first layer's output (1.6 MB for
            // MobileNet, 3.2 for ResNet-50) is larger than L2, and the stores no longer read
            // every line first (MobileNet's Conv2d_0 in a network run took 0.28-0.30 ms instead
            // of 0.37 at 1 thread on Zen 4, the layer after it the same).
            if (left >= 16 && ((uintptr_t)(d + 16 * u) & 63) == 0) _mm512_stream_ps(d + 16 * u, f);
            else if (left >= 16) _mm512_storeu_ps(d + 16 * u, f);
            else _mm512_mask_storeu_ps(d + 16 * u, dw_mask(left), f);
        }
    }
}

DW_TARGET
void socprof_direct_f32_avx512(const socprof_direct_shape *g, const float *src, const float *weights, const float *bias, float lo, float hi,
                               long oy0, long oy1, float *scratch, float *dst) {
    if (oy1 <= oy0) return;
    long s = g->stride, taps = g->c * g->kh * g->kw, blocks = (g->oc + 7) / 8;
    long width = direct_width(g), slot = s * width, channel = DIRECT_RING * slot;
    float *wp = scratch;
    direct_pack_weights(g, weights, wp);
    // Each input channel's padded rows in a ring, padded row r in slot r % DIRECT_RING, its
    // column phases side by side (stride 2), put there just before the first output row that
    // reads it: the rows stay in L1, the input is read once.
    float *ring = scratch + direct_weight_floats(g);
    dw_zero(ring, g->c * channel + 64);
    socprof_dw_shape fill = {.h = g->h, .w = g->w, .stride = s, .pt = g->pt, .pl = g->pl};
    long off[taps];
    long next = oy0 * s;
    for (long oy = oy0; oy < oy1; oy++) {
        for (; next < oy * s + g->kh; next++) {
            long iy = next - g->pt;
            for (long ci = 0; ci < g->c; ci++) {
                float *d = ring + ci * channel + (next % DIRECT_RING) * slot;
                if (iy >= 0 && iy < g->h) {
                    dw_source in = {.f32 = src + ci * g->h * g->w};
                    dw_fill(&fill, &in, 0, iy, d, d + width);
                } else {
                    dw_zero(d, slot);
                }
            }
        }
        direct_offsets(g, oy, width, slot, channel, off);
        // Blocks of 3 vectors, or 2 where 3 would leave 1 (7 = 3 + 2 + 2: a block of 1 has 8
        // broadcasts for 8 FMAs).
        for (long ox = 0, left = (g->ow + 15) / 16; left > 0;) {
            long v = left == 4 || left == 2 ? 2 : left >= 3 ? 3 : 1;
            for (long b = 0; b < blocks; b++) {
                const float *wb = wp + b * taps * 8;
                if (v == 3) direct_block(g, 3, ring, off, taps, wb, bias, b, lo, hi, oy, 0, ox, dst);
                else if (v == 2) direct_block(g, 2, ring, off, taps, wb, bias, b, lo, hi, oy, 0, ox, dst);
                else direct_block(g, 1, ring, off, taps, wb, bias, b, lo, hi, oy, 0, ox, dst);
            }
            ox += 16 * v;
            left -= v;
        }
    }
    _mm_sfence();  // the non-temporal stores done before the pool sees this thread finish
}

#else
void socprof_direct_f32_avx512(const socprof_direct_shape *g, const float *src, const float *weights, const float *bias, float lo, float hi,
                               long oy0, long oy1, float *scratch, float *dst) {
    (void)g; (void)src; (void)weights; (void)bias; (void)lo; (void)hi; (void)oy0; (void)oy1; (void)scratch; (void)dst;
}
#endif
