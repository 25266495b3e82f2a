// The scratch layout of the direct convolution kernels (direct_x86.c for AVX-512, direct_avx2.c):
// the weights 8 output channels a block, then each input channel's padded rows in a ring, split
// into the stride's column phases.
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
#endif
