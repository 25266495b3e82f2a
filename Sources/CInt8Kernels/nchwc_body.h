// The channel-blocked (NCHW8c) fp32 kernels' bodies, written once on 8-float vectors (clang's
// vector extension) and compiled by nchwc.c for each target it builds them for: NC(name) names a
// function for the target, NC_INLINE and NC_FN carry its attributes. See CInt8Kernels.h for the
// layouts and nchwc.c for why.

// One output tile: output channels 8 ob ..< 8 (ob + OB) (OB blocks, 1 or 2) of output row oy,
// output columns ox ..< ox + P (P at most 6, every tap of columns kw0 ..< kw1 inside the input
// row), over input channel blocks ib0 ..< ib1. `ps` and `lane`: floats between the tile's
// pixels' inputs and between an input block's channels, constants where the caller knows them
// (a blocked input at stride 1 or 2), so that every load's address is a register plus a constant. `first`: start from the bias (or 0), else from
// what y holds (the sums of earlier blocks); `last`: add the residual, clamp to [lo, hi].
NC_INLINE void NC(conv_tile)(const socprof_nchwc_shape *s, const float *x, const float *w, const float *bias, const float *res, float lo,
                             float hi, float *y, const int OB, const int P, const long ps, const long lane, long ob, long oy, long ox,
                             long kw0, long kw1, long ib0, long ib1, int first, int last) {
    const long KH = s->kh, KW = s->kw, st = s->stride, IB = (s->cin + 7) / 8;
    const long taps = KH * KW;
    const long iy0 = oy * st - s->pt, ix0 = ox * st - s->pl;
    const long kh0 = iy0 < 0 ? -iy0 : 0, kh1 = KH < s->h - iy0 ? KH : s->h - iy0;
    const long plane = s->oh * s->ow, pix = oy * s->ow + ox;
    nc_v8 acc[2][6];
#pragma clang loop unroll(full)
    for (int o = 0; o < OB; o++) {
#pragma clang loop unroll(full)
        for (int p = 0; p < P; p++) {
            if (!first) {
                acc[o][p] = nc_get(y, s, ob + o, pix + p, plane);
            } else if (bias) {
                acc[o][p] = nc_load(bias + (ob + o) * 8);
            } else {
                acc[o][p] = (nc_v8){0};
            }
        }
    }
    for (long ib = ib0; ib < ib1; ib++) {
        const long lanes = s->cin - ib * 8 < 8 ? s->cin - ib * 8 : 8;
        // The pair of blocks ob, ob + 1 (ob even) interleaved: [ib][kh][kw][8 in][2][8 out].
        const float *wb = w + ((ob / 2) * IB + ib) * taps * 128 + (ob % 2) * 8;
        for (long kh = kh0; kh < kh1; kh++) {
            const long row = ib * s->in_block + ((iy0 + kh) * s->w + ix0) * s->in_pixel;
            for (long kw = kw0; kw < kw1; kw++) {
                const float *xp = x + row + kw * s->in_pixel;
                const float *wp = wb + (kh * KW + kw) * 128;
#define NC_STEP(ci)                                                                   \
    {                                                                                 \
        const nc_v8 w0 = nc_load(wp + (ci) * 16);                                     \
        const nc_v8 w1 = OB > 1 ? nc_load(wp + (ci) * 16 + 8) : (nc_v8){0};           \
        for (int p = 0; p < P; p++) {                                                 \
            const float v = xp[p * ps + (ci) * lane];                                 \
            acc[0][p] += w0 * v;                                                      \
            if (OB > 1) acc[1][p] += w1 * v;                                          \
        }                                                                             \
    }
                if (lanes == 8) {
#pragma clang loop unroll(full)
                    for (int ci = 0; ci < 8; ci++) NC_STEP(ci)
                } else {
                    for (long ci = 0; ci < lanes; ci++) NC_STEP(ci)
                }
#undef NC_STEP
            }
        }
    }
    const nc_v8 vlo = (nc_v8){0} + lo, vhi = (nc_v8){0} + hi;
#pragma clang loop unroll(full)
    for (int o = 0; o < OB; o++) {
#pragma clang loop unroll(full)
        for (int p = 0; p < P; p++) {
            nc_v8 v = acc[o][p];
            if (last) {
                if (res) v += nc_get(res, s, ob + o, pix + p, plane);
                v = __builtin_elementwise_min(__builtin_elementwise_max(v, vlo), vhi);
            }
            nc_put(y, s, ob + o, pix + p, plane, v);
        }
    }
}

// Tiles of OB blocks from block ob along output row oy, all its columns: the columns whose taps
// are all inside the row in tiles of 6 (then the rest), the border columns one by one with the
// taps that are inside.
NC_INLINE void NC(conv_row)(const socprof_nchwc_shape *s, const float *x, const float *w, const float *bias, const float *res, float lo,
                            float hi, float *y, const int OB, const long ps, const long lane, long ob, long oy, long ib0, long ib1,
                            int first, int last) {
    const long st = s->stride, KW = s->kw;
    long a = (s->pl + st - 1) / st, b = s->w - KW + s->pl >= 0 ? (s->w - KW + s->pl) / st + 1 : 0;
    if (a > s->ow) a = s->ow;
    if (b > s->ow) b = s->ow;
    if (b < a) b = a;
    for (long ox = 0; ox < s->ow; ox++) {
        if (ox == a) {
            long q = a;
            for (; q + 6 <= b; q += 6) NC(conv_tile)(s, x, w, bias, res, lo, hi, y, OB, 6, ps, lane, ob, oy, q, 0, KW, ib0, ib1, first, last);
            switch (b - q) {
            case 5: NC(conv_tile)(s, x, w, bias, res, lo, hi, y, OB, 5, ps, lane, ob, oy, q, 0, KW, ib0, ib1, first, last); break;
            case 4: NC(conv_tile)(s, x, w, bias, res, lo, hi, y, OB, 4, ps, lane, ob, oy, q, 0, KW, ib0, ib1, first, last); break;
            case 3: NC(conv_tile)(s, x, w, bias, res, lo, hi, y, OB, 3, ps, lane, ob, oy, q, 0, KW, ib0, ib1, first, last); break;
            case 2: NC(conv_tile)(s, x, w, bias, res, lo, hi, y, OB, 2, ps, lane, ob, oy, q, 0, KW, ib0, ib1, first, last); break;
            case 1: NC(conv_tile)(s, x, w, bias, res, lo, hi, y, OB, 1, ps, lane, ob, oy, q, 0, KW, ib0, ib1, first, last); break;
            default: break;
            }
            if (b == s->ow) break;
            ox = b;
        }
        const long ix0 = ox * st - s->pl;
        const long kw0 = ix0 < 0 ? -ix0 : 0, kw1 = KW < s->w - ix0 ? KW : s->w - ix0;
        NC(conv_tile)(s, x, w, bias, res, lo, hi, y, OB, 1, ps, lane, ob, oy, ox, kw0, kw1 > kw0 ? kw1 : kw0, ib0, ib1, first, last);
    }
}

// A 1x1 stride-1 unpadded convolution on a blocked input: the plane is one row of h x w pixels
// (pixels p0 ..< p1 of it), in spans whose inputs (over blocks ib0 ..< ib1) fit in 256 KB (an
// L2's share), so that they stay there while every pair of output blocks runs over them and
// each pair's weights are read once a span (the GEMM's order: its packed B block in L2, A read
// once).
NC_INLINE void NC(pointwise)(const socprof_nchwc_shape *s, const float *x, const float *w, const float *bias, const float *res, float lo,
                             float hi, float *y, long ob0, long ob1, long p0, long p1, long ib0, long ib1, int first, int last) {
    socprof_nchwc_shape f = *s;
    f.h = 1;
    f.w = f.ow = s->h * s->w;
    f.oh = 1;
    long span = 256 * 1024 / ((ib1 - ib0) * 32) / 6 * 6;
    if (span < 6) span = 6;
    for (long a = p0; a < p1; a += span) {
        const long e = a + span < p1 ? a + span : p1;
        for (long ob = ob0; ob < ob1; ob += 2) {
#define NC_SPAN(OB)                                                                                                           \
    {                                                                                                                         \
        long q = a;                                                                                                           \
        for (; q + 6 <= e; q += 6) NC(conv_tile)(&f, x, w, bias, res, lo, hi, y, OB, 6, 8, 1, ob, 0, q, 0, 1, ib0, ib1, first, last); \
        switch (e - q) {                                                                                                      \
        case 5: NC(conv_tile)(&f, x, w, bias, res, lo, hi, y, OB, 5, 8, 1, ob, 0, q, 0, 1, ib0, ib1, first, last); break;      \
        case 4: NC(conv_tile)(&f, x, w, bias, res, lo, hi, y, OB, 4, 8, 1, ob, 0, q, 0, 1, ib0, ib1, first, last); break;      \
        case 3: NC(conv_tile)(&f, x, w, bias, res, lo, hi, y, OB, 3, 8, 1, ob, 0, q, 0, 1, ib0, ib1, first, last); break;      \
        case 2: NC(conv_tile)(&f, x, w, bias, res, lo, hi, y, OB, 2, 8, 1, ob, 0, q, 0, 1, ib0, ib1, first, last); break;      \
        case 1: NC(conv_tile)(&f, x, w, bias, res, lo, hi, y, OB, 1, 8, 1, ob, 0, q, 0, 1, ib0, ib1, first, last); break;      \
        default: break;                                                                                                       \
        }                                                                                                                     \
    }
            if (ob + 2 <= ob1) {
                NC_SPAN(2)
            } else {
                NC_SPAN(1)
            }
#undef NC_SPAN
        }
    }
}

NC_FN void NC(socprof_nchwc_conv_f32)(const socprof_nchwc_shape *s, const float *x, const float *w, const float *bias, const float *res,
                                      float lo, float hi, float *y, long ob0, long ob1, long oy0, long oy1) {
    const long IB = (s->cin + 7) / 8;
    const long group = s->block_group > 0 ? s->block_group : IB;
    if (ob0 % 2 && ob0 < ob1) {
        // Pairs start at even blocks (the weights interleave them): an odd first block alone.
        NC(socprof_nchwc_conv_f32)(s, x, w, bias, res, lo, hi, y, ob0, ob0 + 1, oy0, oy1);
        ob0++;
    }
    if (s->kh == 1 && s->kw == 1 && s->stride == 1 && s->pt == 0 && s->pl == 0 && s->in_lane == 1 && s->in_pixel == 8 && s->oh == s->h
        && s->ow == s->w) {
        for (long ib0 = 0; ib0 < IB; ib0 += group) {
            const long ib1 = ib0 + group < IB ? ib0 + group : IB;
            NC(pointwise)(s, x, w, bias, res, lo, hi, y, ob0, ob1, oy0 * s->ow, oy1 * s->ow, ib0, ib1, ib0 == 0, ib1 == IB);
        }
        return;
    }
    for (long ib0 = 0; ib0 < IB; ib0 += group) {
        const long ib1 = ib0 + group < IB ? ib0 + group : IB;
        const int first = ib0 == 0, last = ib1 == IB;
        for (long oy = oy0; oy < oy1; oy++) {
            // The blocked input at stride 1 and 2 with its strides as constants; anything else
            // (the NCHW input of a network's first layer) with them in registers.
#define NC_ROWS(PS, LANE)                                                                                          \
    {                                                                                                              \
        long ob = ob0;                                                                                             \
        for (; ob + 2 <= ob1; ob += 2) NC(conv_row)(s, x, w, bias, res, lo, hi, y, 2, PS, LANE, ob, oy, ib0, ib1, first, last); \
        if (ob < ob1) NC(conv_row)(s, x, w, bias, res, lo, hi, y, 1, PS, LANE, ob, oy, ib0, ib1, first, last);  \
    }
            if (s->in_lane == 1 && s->in_pixel == 8 && s->stride == 1) {
                NC_ROWS(8, 1)
            } else if (s->in_lane == 1 && s->in_pixel == 8 && s->stride == 2) {
                NC_ROWS(16, 1)
            } else {
                NC_ROWS(s->stride * s->in_pixel, s->in_lane)
            }
#undef NC_ROWS
        }
    }
}

// Depthwise: block b's 8 channels (each its own filter, weights [b][kh][kw][8]), output row oy,
// columns ox ..< ox + P (P at most 8) with taps kw0 ..< kw1, at stride `st`; input and output
// blocked. Where the caller passes the taps and the stride as constants (3 taps a row, stride 1
// or 2), the loops unroll and the input vectors that neighbouring pixels share are loaded once.
NC_INLINE void NC(dw_tile)(const socprof_nchwc_shape *s, const float *x, const float *w, const float *bias, float lo, float hi, float *y,
                           const int P, const long st, long b, long oy, long ox, const long kw0, const long kw1) {
    const long KH = s->kh, KW = s->kw;
    const long iy0 = oy * st - s->pt, ix0 = ox * st - s->pl;
    const long kh0 = iy0 < 0 ? -iy0 : 0, kh1 = KH < s->h - iy0 ? KH : s->h - iy0;
    const float *xb = x + b * s->h * s->w * 8;
    nc_v8 acc[8];
    const nc_v8 init = bias ? nc_load(bias + b * 8) : (nc_v8){0};
    for (int p = 0; p < P; p++) acc[p] = init;
    for (long kh = kh0; kh < kh1; kh++) {
        const float *xr = xb + ((iy0 + kh) * s->w + ix0) * 8;
        if (KW == 3 && kw0 == 0 && kw1 == 3 && st == 1 && P == 4) {
            // 3 taps at stride 1: the 6 input vectors of the row, each loaded once for the 3
            // pixels that read it (9 loads for 12 multiply-adds, not 15).
            const float *wr = w + (b * KH + kh) * 3 * 8;
            const nc_v8 w0 = nc_load(wr), w1 = nc_load(wr + 8), w2 = nc_load(wr + 16);
            nc_v8 v[6];
#pragma clang loop unroll(full)
            for (int i = 0; i < 6; i++) {
                v[i] = nc_load(xr + i * 8);
                NC_KEEP(v[i]);
            }
#pragma clang loop unroll(full)
            for (int p = 0; p < 4; p++) {
                acc[p] += w0 * v[p];
                acc[p] += w1 * v[p + 1];
                acc[p] += w2 * v[p + 2];
            }
            continue;
        }
        for (long kw = kw0; kw < kw1; kw++) {
            const nc_v8 wv = nc_load(w + ((b * KH + kh) * KW + kw) * 8);
#pragma clang loop unroll(full)
            for (int p = 0; p < P; p++) acc[p] += wv * nc_load(xr + (p * st + kw) * 8);
        }
    }
    const nc_v8 vlo = (nc_v8){0} + lo, vhi = (nc_v8){0} + hi;
    float *yp = y + (b * s->oh * s->ow + oy * s->ow + ox) * 8;
    for (int p = 0; p < P; p++) nc_store(yp + p * 8, __builtin_elementwise_min(__builtin_elementwise_max(acc[p], vlo), vhi));
}

NC_FN void NC(socprof_nchwc_depthwise_f32)(const socprof_nchwc_shape *s, const float *x, const float *w, const float *bias, float lo, float hi,
                                           float *y, long b0, long b1, long oy0, long oy1) {
    const long st = s->stride, KW = s->kw;
    long a = (s->pl + st - 1) / st, e = s->w - KW + s->pl >= 0 ? (s->w - KW + s->pl) / st + 1 : 0;
    if (a > s->ow) a = s->ow;
    if (e > s->ow) e = s->ow;
    if (e < a) e = a;
    for (long b = b0; b < b1; b++) {
        for (long oy = oy0; oy < oy1; oy++) {
            for (long ox = 0; ox < s->ow; ox++) {
                if (ox == a) {
                    long q = a;
#define NC_DW_SPAN(ST, KWC)                                                                          \
    {                                                                                                \
        if ((ST) != 1 || (KWC) != 3)                                                                 \
            for (; q + 8 <= e; q += 8) NC(dw_tile)(s, x, w, bias, lo, hi, y, 8, ST, b, oy, q, 0, KWC); \
        for (; q + 4 <= e; q += 4) NC(dw_tile)(s, x, w, bias, lo, hi, y, 4, ST, b, oy, q, 0, KWC);   \
        for (; q < e; q++) NC(dw_tile)(s, x, w, bias, lo, hi, y, 1, ST, b, oy, q, 0, KWC);           \
    }
                    if (KW == 3 && st == 1) {
                        NC_DW_SPAN(1, 3)
                    } else if (KW == 3 && st == 2) {
                        NC_DW_SPAN(2, 3)
                    } else {
                        NC_DW_SPAN(st, KW)
                    }
#undef NC_DW_SPAN
                    if (e == s->ow) break;
                    ox = e;
                }
                const long ix0 = ox * st - s->pl;
                const long kw0 = ix0 < 0 ? -ix0 : 0, kw1 = KW < s->w - ix0 ? KW : s->w - ix0;
                NC(dw_tile)(s, x, w, bias, lo, hi, y, 1, st, b, oy, ox, kw0, kw1 > kw0 ? kw1 : kw0);
            }
        }
    }
}
