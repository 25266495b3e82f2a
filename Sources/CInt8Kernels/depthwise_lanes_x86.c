// Depthwise convolution of 16 channels at once, one channel a lane (AVX-512, x86-64), for small
// planes (MobileNet's 28 x 28 to 7 x 7 layers) and strided layers, where the plane kernels'
// per-channel work (padding, row loops, the requantization of short rows, the stride's phases) is
// larger than the sums. The 16 channels' bytes are transposed (16 x 16 byte transposes) into a
// ring of padded grid rows, each pixel a vector of the 16 channels' values less the zero point
// (exact floats), each row put there just before the first output row that reads it. Every
// output pixel is the taps' sum of grid vectors times the taps' weight vectors (init + the taps in
// (ky, kx) order, fused, as the plane kernels); the sums are requantized with each lane's
// channel's bias and scale, and transposed back into the channels' rows.
// See CInt8Kernels.h. Empty stubs elsewhere.
#include "CInt8Kernels.h"

// Grid rows kept: a ring of a power of two, at least kh + stride (the rows one output row reads,
// and those the next one adds).
static long dw16_ring(const socprof_dw_shape *g) {
    long r = 4;
    while (r < g->kh + g->stride) r *= 2;
    return r;
}

long socprof_dw16_scratch_floats(const socprof_dw_shape *g) {
    long gh, gw;
    socprof_dw_padded_size(g, &gh, &gw);
    return dw16_ring(g) * gw * 16 + SOCPROF_DW_MAX_TAPS * 16 + 64;
}

#if defined(__x86_64__)
#include "planes_x86.h"
#include "requant_x86.h"

// r[i] (16 bytes) becomes column i: afterwards r[j] holds byte j of every former r[i], in order.
DW_INLINE void transpose16(__m128i *r) {
    __m128i a[16], b[16], c[16];
    for (int i = 0; i < 8; i++) {
        a[2 * i] = _mm_unpacklo_epi8(r[2 * i], r[2 * i + 1]);
        a[2 * i + 1] = _mm_unpackhi_epi8(r[2 * i], r[2 * i + 1]);
    }
    for (int j = 0; j < 4; j++) {
        b[4 * j + 0] = _mm_unpacklo_epi16(a[4 * j], a[4 * j + 2]);
        b[4 * j + 1] = _mm_unpackhi_epi16(a[4 * j], a[4 * j + 2]);
        b[4 * j + 2] = _mm_unpacklo_epi16(a[4 * j + 1], a[4 * j + 3]);
        b[4 * j + 3] = _mm_unpackhi_epi16(a[4 * j + 1], a[4 * j + 3]);
    }
    for (int o = 0; o < 2; o++)
        for (int q = 0; q < 4; q++) {
            c[8 * o + 2 * q] = _mm_unpacklo_epi32(b[8 * o + q], b[8 * o + 4 + q]);
            c[8 * o + 2 * q + 1] = _mm_unpackhi_epi32(b[8 * o + q], b[8 * o + 4 + q]);
        }
    for (int k = 0; k < 8; k++) {
        r[2 * k] = _mm_unpacklo_epi64(c[k], c[8 + k]);
        r[2 * k + 1] = _mm_unpackhi_epi64(c[k], c[8 + k]);
    }
}

DW_TARGET
void socprof_dw16_u8_avx512(const socprof_dw_shape *g, const uint8_t *src, long channels, uint8_t flip, float zf, const int8_t *weights,
                            const int32_t *bias, const float *scale, int32_t zp, int32_t lo, int32_t hi, float *scratch, int zero,
                            uint8_t *dst) {
    long gh, gw;
    socprof_dw_padded_size(g, &gh, &gw);
    long plane = g->h * g->w, oplane = g->oh * g->ow, taps = g->kh * g->kw, s = g->stride;
    long ring = dw16_ring(g), mask = ring - 1;
    float *grid = scratch, *wv = scratch + ring * gw * 16;
    (void)gh;
    // The columns outside the input stay 0 (the zero point's value): rows write only the input's
    // pixels, and padding rows are cleared whole.
    if (zero)
        for (long i = 0; i < ring * gw; i++) _mm512_storeu_ps(grid + 16 * i, _mm512_setzero_ps());
    __mmask16 cm = dw_mask(channels);
    // Tap t's weights, channel c in lane c.
    for (long t = 0; t < taps; t++) {
        float w[16] = {0};
        for (long c = 0; c < channels; c++) w[c] = (float)weights[c * taps + t];
        _mm512_storeu_ps(wv + 16 * t, _mm512_loadu_ps(w));
    }
    const __m512i vflip = _mm512_set1_epi32(flip);
    const __m512 vz = _mm512_set1_ps(zf);
    // Each lane's channel's bias and multiplier.
    const __m512i vb = _mm512_maskz_loadu_epi32(cm, bias);
    const __m512 vs = _mm512_maskz_loadu_ps(cm, scale);
    const i8_rq16 rq = i8_rq16_make(zp, lo, hi);
    long off[SOCPROF_DW_MAX_TAPS];
    long next = 0;  // the next padded row to put in the ring
    for (long oy = 0; oy < g->oh; oy++) {
        // Padded rows up to oy * s + kh - 1 into the ring: the input's rows transposed 16 pixels
        // at a time, padding rows cleared.
        for (; next < oy * s + g->kh; next++) {
            float *row = grid + (next & mask) * gw * 16;
            long iy = next - g->pt;
            if (iy < 0 || iy >= g->h) {
                for (long i = 0; i < gw; i++) _mm512_storeu_ps(row + 16 * i, _mm512_setzero_ps());
                continue;
            }
            for (long x0 = 0; x0 < g->w; x0 += 16) {
                long n = g->w - x0 < 16 ? g->w - x0 : 16;
                __m128i r[16];
                for (long c = 0; c < 16; c++)
                    r[c] = c < channels ? _mm_maskz_loadu_epi8(dw_mask(n), src + c * plane + iy * g->w + x0) : _mm_setzero_si128();
                transpose16(r);
                float *d = row + (g->pl + x0) * 16;
                for (long k = 0; k < n; k++) {
                    __m512i v = _mm512_xor_si512(_mm512_cvtepu8_epi32(r[k]), vflip);
                    _mm512_storeu_ps(d + 16 * k, _mm512_maskz_sub_ps(cm, _mm512_cvtepi32_ps(v), vz));
                }
            }
        }
        for (long ky = 0; ky < g->kh; ky++)
            for (long kx = 0; kx < g->kw; kx++) off[ky * g->kw + kx] = (((oy * s + ky) & mask) * gw + kx) * 16;
        for (long x0 = 0; x0 < g->ow; x0 += 16) {
            long n = g->ow - x0 < 16 ? g->ow - x0 : 16;
            __m128i q[16];
            long ox = 0;
            // Four output pixels at a time: four independent chains of FMAs.
            for (; ox + 4 <= n; ox += 4) {
                const float *base = grid + ((x0 + ox) * s) * 16;
                __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
                for (long t = 0; t < taps; t++) {
                    const float *p = base + off[t];
                    __m512 w = _mm512_loadu_ps(wv + 16 * t);
                    a0 = _mm512_fmadd_ps(_mm512_loadu_ps(p), w, a0);
                    a1 = _mm512_fmadd_ps(_mm512_loadu_ps(p + 16 * s), w, a1);
                    a2 = _mm512_fmadd_ps(_mm512_loadu_ps(p + 32 * s), w, a2);
                    a3 = _mm512_fmadd_ps(_mm512_loadu_ps(p + 48 * s), w, a3);
                }
                __m512 acc[4] = {a0, a1, a2, a3};
                for (int u = 0; u < 4; u++) q[ox + u] = i8_rq16_bytes(&rq, _mm512_add_epi32(_mm512_cvtps_epi32(acc[u]), vb), vs);
            }
            for (; ox < n; ox++) {
                const float *base = grid + ((x0 + ox) * s) * 16;
                __m512 a0 = _mm512_setzero_ps();
                for (long t = 0; t < taps; t++) a0 = _mm512_fmadd_ps(_mm512_loadu_ps(base + off[t]), _mm512_loadu_ps(wv + 16 * t), a0);
                q[ox] = i8_rq16_bytes(&rq, _mm512_add_epi32(_mm512_cvtps_epi32(a0), vb), vs);
            }
            for (long k = n; k < 16; k++) q[k] = _mm_setzero_si128();
            transpose16(q);
            for (long c = 0; c < channels; c++) _mm_mask_storeu_epi8(dst + c * oplane + oy * g->ow + x0, dw_mask(n), q[c]);
        }
    }
}

#else
void socprof_dw16_u8_avx512(const socprof_dw_shape *g, const uint8_t *src, long channels, uint8_t flip, float zf, const int8_t *weights,
                            const int32_t *bias, const float *scale, int32_t zp, int32_t lo, int32_t hi, float *scratch, int zero,
                            uint8_t *dst) {
    (void)g; (void)src; (void)channels; (void)flip; (void)zf; (void)weights; (void)bias; (void)scale; (void)zp; (void)lo; (void)hi;
    (void)scratch; (void)zero; (void)dst;
}
#endif
