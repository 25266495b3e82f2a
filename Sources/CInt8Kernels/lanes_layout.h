// The layout of the depthwise kernels with channels in lanes: a ring of rows of windows over a
// padded row of pixels (depthwise_lanes_x86.c: windows of 4 taps, depthwise_lanes_avx2.c: of 2;
// depthwise_f32_avx2.c keeps its padded rows in the same ring).
#ifndef SOCPROF_LANES_LAYOUT_H
#define SOCPROF_LANES_LAYOUT_H
#include "CInt8Kernels.h"

// Rows kept: a ring of a power of two, at least kh + stride (the rows one output row reads, and
// those the next one adds).
static inline long dw_lanes_ring(const socprof_dw_shape *g) {
    long r = 4;
    while (r < g->kh + g->stride) r *= 2;
    return r;
}

// Columns of a window row: the window positions (every stride-th column, or every column when a
// filter wider than `taps` reads windows `taps` columns on at a stride that does not divide
// `taps`), from the first output column's to the last one's last group of `taps` taps; and the
// padded row's columns (the input's with the padding before them, and every column a window
// reads).
typedef struct {
    long groups, step, windows, columns;
} dw_lanes_layout;

static inline dw_lanes_layout dw_lanes_layout_of(const socprof_dw_shape *g, long taps) {
    dw_lanes_layout l;
    l.groups = (g->kw + taps - 1) / taps;
    l.step = l.groups == 1 || taps % g->stride == 0 ? g->stride : 1;
    l.windows = ((g->ow - 1) * g->stride + taps * (l.groups - 1)) / l.step + 1;
    long gh, gw;
    socprof_dw_padded_size(g, &gh, &gw);
    (void)gh;
    long need = (l.windows - 1) * l.step + taps;
    l.columns = gw > need ? gw : need;
    return l;
}
#endif
