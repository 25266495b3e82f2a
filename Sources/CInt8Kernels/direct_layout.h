// The scratch layout of the direct convolution kernels (direct_x86.c for AVX-512, direct_avx2.c):
// the weights 8 (AVX-512) or 6 (AVX2) output channels a block, then each input channel's padded
// rows in a ring, split into the stride's column phases.
#ifndef SOCPROF_DIRECT_LAYOUT_H
#define SOCPROF_DIRECT_LAYOUT_H
#include "CInt8Kernels.h"

static inline long direct_round16(long x) { return (x + 15) / 16 * 16; }

// Columns of each padded phase row: what the sums read (whole vectors past the output's last
// column, plus the filter's reach) and what the fill writes (the row, then up to 15 zeros).
static inline long direct_width(const socprof_direct_shape *g) {
    long s = g->stride, need = direct_round16(g->ow) + (g->kw - 1) / s + 1;
    if (s == 1) {
        if (g->pl + g->w + 16 > need) need = g->pl + g->w + 16;
    } else {
        long pe = g->pl & 1, ce = (g->pl - pe) / 2, co = (g->pl + pe) / 2;
        if (ce + (g->w + 1) / 2 + 16 > need) need = ce + (g->w + 1) / 2 + 16;
        if (co + g->w / 2 + 16 > need) need = co + g->w / 2 + 16;
    }
    return direct_round16(need);
}

// Padded input rows kept per input channel: a ring of 16 (a 7-row filter at stride 2 reads 7).
#define DIRECT_RING 16

// Floats of scratch the packed weights take, before the ring: the output channels rounded up to
// a whole block of 8 (direct_x86.c) or of 6 (direct_avx2.c), whichever is more, times the taps.
static inline long direct_weight_floats(const socprof_direct_shape *g) {
    long by8 = (g->oc + 7) / 8 * 8, by6 = (g->oc + 5) / 6 * 6;
    return direct_round16((by8 > by6 ? by8 : by6) * g->c * g->kh * g->kw);
}

// The weights [oc][c][kh][kw] into `wp`, 8 output channels a block, tap by tap (zeros past the
// last channel).
static inline void direct_pack_weights(const socprof_direct_shape *g, const float *weights, float *wp) {
    long taps = g->c * g->kh * g->kw, blocks = (g->oc + 7) / 8;
    for (long b = 0; b < blocks; b++)
        for (long t = 0; t < taps; t++)
            for (long j = 0; j < 8; j++) {
                long oc = b * 8 + j;
                wp[(b * taps + t) * 8 + j] = oc < g->oc ? weights[oc * taps + t] : 0;
            }
}

// Where each tap (input channel, ky, kx) of output row oy reads in the ring (`slot` floats a
// padded row, its phases `width` apart, `channel` floats an input channel).
static inline void direct_offsets(const socprof_direct_shape *g, long oy, long width, long slot, long channel, long *off) {
    long s = g->stride;
    for (long ci = 0; ci < g->c; ci++)
        for (long ky = 0; ky < g->kh; ky++)
            for (long kx = 0; kx < g->kw; kx++)
                off[(ci * g->kh + ky) * g->kw + kx] = ci * channel + ((oy * s + ky) % DIRECT_RING) * slot + (kx % s) * width + kx / s;
}
#endif
