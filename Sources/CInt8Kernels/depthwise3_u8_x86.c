// The quantized 3x3 depthwise convolution, stride 1 or 2, read in place with AVX-512 VNNI (x86-64):
// see CInt8Kernels.h. An empty stub elsewhere.
//
// Each input row's bytes are loaded once a strip of 16 outputs (masked at the row's ends, the
// padding filled with the zero point's byte), flipped to uint8, and made into 16 windows, one a
// 32-bit lane: output column j's three taps' bytes (columns j s - pl + kx, kx = 0, 1, 2) and a
// fourth byte whose weight is 0; two shuffles make them (vpermd puts in each 128-bit lane the
// four dwords its four windows read from, vpshufb picks their bytes), so no byte permute
// (AVX512-VBMI) is needed. One vpdpbusd of a row's windows by a filter row's three weights (a
// dword broadcast) adds that tap row to the sums of a strip, exactly in int32; `R` output rows at
// a time from the rows they read (R + 2 at stride 1, 2 R + 1 at stride 2), each row's windows
// made once for the output rows that read it. Rows of padding read a vector of the zero point's
// byte. The sums start from the bias less the zero point x the filter's weight sum (so that the
// zero point, the padding included, adds nothing), and are requantized as socprof_i8_requant_ref
// does: the same bytes as socprof_dw_u8_avx512 and the int32 loops.
#include "CInt8Kernels.h"

#if defined(__x86_64__)
#include "requant_x86.h"

#define DW3_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
#define DW3_INLINE __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni"), always_inline)) static inline

// The bytes l of a 64-byte load at column s of a row of w bytes with 0 <= s + l < w.
static inline __mmask64 dw3_span(long s, long w) {
    long from = s < 0 ? -s : 0, to = w - s < 64 ? w - s : 64;
    if (to <= from) return 0;
    unsigned long long hi = to >= 64 ? ~0ull : (1ull << to) - 1;
    return (__mmask64)(hi & ~((1ull << from) - 1));
}

typedef struct {
    __m512i perm, pick;  // the two shuffles that make the windows
    __m512i pad;         // the padding's byte before the flip (zb ^ flip), and the flip
    __m512i flip;
    __m512i zrow;        // a row of padding's windows: the zero point's byte everywhere
} dw3_shuffles;

// Windows of row `row` (w bytes) for the strip whose first window starts at column s.
DW3_INLINE __m512i dw3_windows(const dw3_shuffles *k, const uint8_t *row, long s, __mmask64 m) {
    __m512i v = _mm512_xor_si512(_mm512_mask_loadu_epi8(k->pad, m, row + s), k->flip);
    return _mm512_shuffle_epi8(_mm512_permutexvar_epi32(k->perm, v), k->pick);
}

DW3_INLINE void dw3_rows(const int R, const int S, const socprof_dw_shape *g, const dw3_shuffles *k, const uint8_t *src,
                         const __m512i *wk, __m512i init, __m512 vs, const i8_rq16 *rq, long oy, long ox, uint8_t *dst) {
    const long h = g->h, w = g->w, ow = g->ow, s = ox * S - g->pl;
    const __mmask64 m = dw3_span(s, w);
    __m512i acc[4];
#pragma clang loop unroll(full)
    for (int q = 0; q < R; q++) acc[q] = init;
#pragma clang loop unroll(full)
    for (int j = 0; j < S * (R - 1) + 3; j++) {
        const long iy = oy * S - g->pt + j;
        const __m512i win = iy < 0 || iy >= h ? k->zrow : dw3_windows(k, src + iy * w, s, m);
        // Output row q reads this row as its tap row ky = j - S q (0 to 2).
#pragma clang loop unroll(full)
        for (int q = 0; q < R; q++) {
            const int ky = j - S * q;
            if (ky < 0 || ky > 2) continue;
            acc[q] = _mm512_dpbusd_epi32(acc[q], win, wk[ky]);
        }
    }
#pragma clang loop unroll(full)
    for (int q = 0; q < R; q++) {
        const __m128i b = i8_rq16_bytes(rq, acc[q], vs);
        uint8_t *out = dst + (oy + q) * ow + ox;
        // A row narrower than 16 is stored whole, into the next row's first columns (written
        // after it), but for the plane's last rows.
        if (ox + 16 <= ow || (ox == 0 && (oy + q) * ow + 16 <= g->oh * ow)) _mm_storeu_si128((__m128i *)out, b);
        else _mm_mask_storeu_epi8(out, (__mmask16)((1u << (ow - ox)) - 1), b);
    }
}

DW3_INLINE void dw3_channel(const int S, const socprof_dw_shape *g, const dw3_shuffles *k, const uint8_t *src, const int8_t *taps,
                            int32_t bias, uint8_t zb, float scale, const i8_rq16 *rq, uint8_t *dst) {
    __m512i wk[3];
    int32_t sum = 0;
    for (int ky = 0; ky < 3; ky++) {
        uint32_t d = (uint8_t)taps[3 * ky] | (uint32_t)(uint8_t)taps[3 * ky + 1] << 8 | (uint32_t)(uint8_t)taps[3 * ky + 2] << 16;
        wk[ky] = _mm512_set1_epi32((int32_t)d);
        sum += taps[3 * ky] + taps[3 * ky + 1] + taps[3 * ky + 2];
    }
    const __m512i init = _mm512_set1_epi32(bias - (int32_t)zb * sum);
    const __m512 vs = _mm512_set1_ps(scale);
    // Strips of 16 columns, the last one ending at the row's end (overlapping the one before it,
    // whose columns it writes again with the same bytes) on rows of 16 or more: whole stores.
    const long last = g->ow > 16 ? g->ow - 16 : 0;
    long oy = 0;
    for (; oy + 4 <= g->oh; oy += 4)
        for (long ox = 0;; ox += 16) {
            if (ox > last) ox = last;
            dw3_rows(4, S, g, k, src, wk, init, vs, rq, oy, ox, dst);
            if (ox == last) break;
        }
    for (long ox = 0; oy < g->oh; ox += 16) {
        if (ox > last) ox = last;
        switch (g->oh - oy) {
        case 3: dw3_rows(3, S, g, k, src, wk, init, vs, rq, oy, ox, dst); break;
        case 2: dw3_rows(2, S, g, k, src, wk, init, vs, rq, oy, ox, dst); break;
        default: dw3_rows(1, S, g, k, src, wk, init, vs, rq, oy, ox, dst); break;
        }
        if (ox == last) break;
    }
}

DW3_TARGET
void socprof_dw3_u8_vnni(const socprof_dw_shape *g, const uint8_t *src, long channels, uint8_t flip, uint8_t zb, const int8_t *weights,
                         const int32_t *bias, const float *scale, int32_t zp, int32_t lo, int32_t hi, uint8_t *dst) {
    dw3_shuffles k;
    // Window j of lane L (j = 4 L + i) starts at byte S j of the load: its dwords from S L on go
    // to lane L, and byte i S + kx of them to the window's byte kx (the fourth byte: any).
    if (g->stride == 1) {
        k.perm = _mm512_set_epi32(6, 5, 4, 3, 5, 4, 3, 2, 4, 3, 2, 1, 3, 2, 1, 0);
        k.pick = _mm512_broadcast_i32x4(_mm_set_epi8(5, 5, 4, 3, 4, 4, 3, 2, 3, 3, 2, 1, 2, 2, 1, 0));
    } else {
        k.perm = _mm512_set_epi32(9, 8, 7, 6, 7, 6, 5, 4, 5, 4, 3, 2, 3, 2, 1, 0);
        k.pick = _mm512_broadcast_i32x4(_mm_set_epi8(8, 8, 7, 6, 6, 6, 5, 4, 4, 4, 3, 2, 2, 2, 1, 0));
    }
    k.pad = _mm512_set1_epi8((char)(zb ^ flip));
    k.flip = _mm512_set1_epi8((char)flip);
    k.zrow = _mm512_set1_epi8((char)zb);
    const i8_rq16 rq = i8_rq16_make(zp, lo, hi);
    const long plane = g->h * g->w, oplane = g->oh * g->ow;
    for (long c = 0; c < channels; c++) {
        if (g->stride == 1)
            dw3_channel(1, g, &k, src + c * plane, weights + 9 * c, bias[c], zb, scale[c], &rq, dst + c * oplane);
        else
            dw3_channel(2, g, &k, src + c * plane, weights + 9 * c, bias[c], zb, scale[c], &rq, dst + c * oplane);
    }
}

#else
void socprof_dw3_u8_vnni(const socprof_dw_shape *g, const uint8_t *src, long channels, uint8_t flip, uint8_t zb, const int8_t *weights,
                         const int32_t *bias, const float *scale, int32_t zp, int32_t lo, int32_t hi, uint8_t *dst) {
    (void)g; (void)src; (void)channels; (void)flip; (void)zb; (void)weights; (void)bias; (void)scale; (void)zp; (void)lo; (void)hi;
    (void)dst;
}
#endif
