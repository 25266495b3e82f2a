// Depthwise convolution of one channel with AVX-512 (x86-64), int8 and fp32, any kernel size and
// stride (the same both ways): see CInt8Kernels.h. Empty stubs elsewhere.
//
// Two ways, chosen per shape by socprof_dw_plan_make:
// - in place (3x3, stride 2, or stride 1 with outputs 12 or more wide: MobileNet's layers but the
//   7 x 7 one): dw3_f32 (below) reads the channel's plane as it is, up to DW3_ROWS output rows
//   and 16 columns at a time, no scratch; fp32 only (the int8 layers of these shapes run
//   depthwise3_u8_x86.c). On MobileNet's four strided layers, 0.30-0.62x the time of the copying
//   kernels they replaced (Zen 4, `bench conv --depthwise`: 0.101, 0.046, 0.027, 0.024 against
//   0.163-0.168, 0.100-0.104, 0.073-0.089, 0.062-0.076 ms; 0.088, 0.043, 0.022, 0.022 once each
//   strip's load masks were made once rather than for every load, which had cost more scalar
//   instructions than the FMAs); on its stride-1 layers 112 to 14 wide, 0.095, 0.110, 0.059,
//   0.036 ms against 0.120, 0.152, 0.099, 0.080 for the kernel that copied the padded input rows
//   into a ring first (removed once no shape reached it). Then blocks of up to 14 rows instead of
//   4: 0.80-0.91x the time on the stride-1 layers, 0.90-0.96x on the strided ones (DW3_ROWS).
// - the sweep (any other shape, small planes included): the whole padded plane, one per phase of
//   the stride, so that every tap reads consecutive floats at position p = oy * hw + ox plus a
//   fixed offset; one sweep of four accumulators covers the channel with no waste on narrow rows,
//   into a row of sums per output row, then the output.
// Each sum is init + the taps in (ky, kx) order, fused multiply-adds, both ways.
#include "CInt8Kernels.h"

void socprof_dw_padded_size(const socprof_dw_shape *g, long *rows, long *cols) {
    long wp = g->pl + g->w, need = (g->ow - 1) * g->stride + g->kw;
    long hp = g->pt + g->h, needh = (g->oh - 1) * g->stride + g->kh;
    *cols = need > wp ? need : wp;
    *rows = needh > hp ? needh : hp;
}

int socprof_dw_plan_make(const socprof_dw_shape *g, socprof_dw_plan *l) {
    long s = g->stride, kh = g->kh, kw = g->kw;
    if (s < 1 || kh < 1 || kw < 1 || kh * kw > SOCPROF_DW_MAX_TAPS || g->h < 1 || g->w < 1 || g->oh < 1 || g->ow < 1) return 0;
    *l = (socprof_dw_plan){0};
    l->shape = *g;
    l->inplace = kh == 3 && kw == 3 && (s == 2 || (s == 1 && g->ow >= 12));
    if (l->inplace) return 1;  // no scratch
    long hp, wp;
    socprof_dw_padded_size(g, &hp, &wp);
    l->hw = (wp + s - 1) / s;
    l->hh = (hp + s - 1) / s;
    if (g->oh + (kh - 1) / s > l->hh) l->hh = g->oh + (kh - 1) / s;
    l->hh += 1;
    l->sub = l->hh * l->hw + 64;
    l->row = s * s * l->sub;
    l->sums = l->row + s * l->hw + 64;
    l->n = g->oh * l->hw;
    l->scratch = l->sums + (l->n + 63) / 64 * 64 + 64;
    for (long ky = 0; ky < kh; ky++)
        for (long kx = 0; kx < kw; kx++)
            l->off[ky * kw + kx] = ((ky % s) * s + kx % s) * l->sub + (ky / s) * l->hw + kx / s;
    return 1;
}

#if defined(__x86_64__)
#include "planes_x86.h"
#include "requant_x86.h"

// Where the sums go: requantized to bytes (int8) or clamped floats.
typedef struct {
    uint8_t *u8;
    float *f32;
    i8_rq16 rq;     // int8: the output's clamp and zero point
    __m512i bias;   // int8: the bias (int32)
    __m512 scale;   // int8: the multiplier
    __m512 lo, hi;  // fp32: the activation's clamp
} dw_sink;

// Output row oy, columns ox ..< min(ox + 16, ow).
DW_INLINE void dw_emit(const dw_sink *out, int u8, long ow, long oy, long ox, __m512 sum) {
    long left = ow - ox;
    if (u8) {
        // The sums are integers below 2^22: converted exactly, then requantized as the GEMM's.
        __m512i x = _mm512_add_epi32(_mm512_cvtps_epi32(sum), out->bias);
        i8_store16(out->u8 + oy * ow + ox, i8_rq16_bytes(&out->rq, x, out->scale), left);
    } else {
        __m512 f = _mm512_min_ps(_mm512_max_ps(sum, out->lo), out->hi);
        float *d = out->f32 + oy * ow + ox;
        if (left >= 16) _mm512_storeu_ps(d, f);
        else _mm512_mask_storeu_ps(d, dw_mask(left), f);
    }
}

// The sweep (see the top of the file).
DW_INLINE void dw_sweep(const socprof_dw_plan *l, const dw_source *src, int u8, const float *taps, float init,
                        const dw_sink *out, float *scratch) {
    const socprof_dw_shape *g = &l->shape;
    long s = g->stride, count = g->kh * g->kw;
    for (long iy = 0; iy < g->h; iy++) {
        long r = g->pt + iy;
        if (s <= 2) {
            // Row r of phase (r % s, c) starts at scratch + (r % s * s + c) * sub + r / s * hw.
            float *d0 = scratch + (r % s) * s * l->sub + (r / s) * l->hw;
            dw_fill(g, src, u8, iy, d0, d0 + l->sub);
        } else {
            float *row = scratch + l->row;
            for (long j = 0; j < g->w; j += 16) _mm512_mask_storeu_ps(row + g->pl + j, dw_mask(g->w - j), dw_load(src, u8, g->w, iy, j, g->w - j));
            for (long b = 0; b < s; b++) {
                float *d = scratch + ((r % s) * s + b) * l->sub + (r / s) * l->hw;
                for (long j = 0; j < l->hw; j++) d[j] = row[j * s + b];
            }
        }
    }
    const long *off = l->off;
    float *sums = scratch + l->sums;
    long p = 0;
    for (; p + 64 <= l->n; p += 64) {
        __m512 a0 = _mm512_set1_ps(init), a1 = a0, a2 = a0, a3 = a0;
        for (long t = 0; t < count; t++) {
            const float *q = scratch + off[t] + p;
            __m512 wv = _mm512_set1_ps(taps[t]);
            a0 = _mm512_fmadd_ps(_mm512_loadu_ps(q), wv, a0);
            a1 = _mm512_fmadd_ps(_mm512_loadu_ps(q + 16), wv, a1);
            a2 = _mm512_fmadd_ps(_mm512_loadu_ps(q + 32), wv, a2);
            a3 = _mm512_fmadd_ps(_mm512_loadu_ps(q + 48), wv, a3);
        }
        _mm512_storeu_ps(sums + p, a0);
        _mm512_storeu_ps(sums + p + 16, a1);
        _mm512_storeu_ps(sums + p + 32, a2);
        _mm512_storeu_ps(sums + p + 48, a3);
    }
    for (; p < l->n; p += 16) {
        __m512 a0 = _mm512_set1_ps(init);
        for (long t = 0; t < count; t++) a0 = _mm512_fmadd_ps(_mm512_loadu_ps(scratch + off[t] + p), _mm512_set1_ps(taps[t]), a0);
        _mm512_storeu_ps(sums + p, a0);
    }
    for (long oy = 0; oy < g->oh; oy++)
        for (long ox = 0; ox < g->ow; ox += 16) dw_emit(out, u8, g->ow, oy, ox, _mm512_loadu_ps(sums + oy * l->hw + ox));
}

DW_INLINE void dw_channel(const socprof_dw_plan *l, const dw_source *src, int u8, const float *taps, float init,
                          const dw_sink *out, float *scratch, int zero) {
    // The padding is zero, and stays so: later channels write only where the input goes.
    if (zero) dw_zero(scratch, l->scratch);
    dw_sweep(l, src, u8, taps, init, out, scratch);
}

DW_TARGET
void socprof_dw_u8_avx512(const socprof_dw_plan *plan, const uint8_t *src, uint8_t flip, float zf, const int8_t *weights,
                          int32_t bias, float scale, int32_t zp, int32_t lo, int32_t hi, float *scratch, int zero, uint8_t *dst) {
    long count = plan->shape.kh * plan->shape.kw;
    float taps[SOCPROF_DW_MAX_TAPS];
    for (long t = 0; t < count; t++) taps[t] = (float)weights[t];
    dw_source in = {.u8 = src, .flip = _mm512_set1_epi32(flip), .zf = _mm512_set1_ps(zf)};
    dw_sink out = {.u8 = dst, .rq = i8_rq16_make(zp, lo, hi), .bias = _mm512_set1_epi32(bias), .scale = _mm512_set1_ps(scale)};
    dw_channel(plan, &in, 1, taps, 0, &out, scratch, zero);
}

// The lanes l of a 16-float load at column s of a row of w floats with 0 <= s + l < w.
static inline __mmask16 dw_span(long s, long w) {
    long from = s < 0 ? -s : 0, to = w - s < 16 ? w - s : 16;
    if (to <= from) return 0;
    return (__mmask16)(((1u << to) - 1) & ~((1u << from) - 1));
}

// Input row j of a block of R output rows `S` (the stride) rows apart, as three vectors of its
// taps kx = 0, 1, 2, into the sums of the output rows that read it: row q as its tap row
// ky = j - S q (0 to 2). Rows in increasing j are each sum's taps in (ky, kx) order.
DW_INLINE void dw3_taps(const int R, const int S, int j, __m512 x0, __m512 x1, __m512 x2, const __m512 *k, __m512 *acc) {
#pragma clang loop unroll(full)
    for (int q = 0; q < R; q++) {
        const int ky = j - S * q;
        if (ky < 0 || ky > 2) continue;
        acc[q] = _mm512_fmadd_ps(x0, k[3 * ky], acc[q]);
        acc[q] = _mm512_fmadd_ps(x1, k[3 * ky + 1], acc[q]);
        acc[q] = _mm512_fmadd_ps(x2, k[3 * ky + 2], acc[q]);
    }
}

// The R rows of sums clamped into output rows oy ..< oy + R, columns ox ..< ox + 16. A row
// narrower than 16 is stored whole, into the next row's first columns (which that row writes
// after it), but for the plane's last rows: so only they are masked stores.
DW_INLINE void dw3_store(const int R, const socprof_dw_shape *g, const __m512 *acc, __m512 vlo, __m512 vhi, long oy, long ox, float *dst) {
    const long ow = g->ow;
#pragma clang loop unroll(full)
    for (int q = 0; q < R; q++) {
        const __m512 v = _mm512_min_ps(_mm512_max_ps(acc[q], vlo), vhi);
        float *out = dst + (oy + q) * ow + ox;
        if (ox + 16 <= ow || (ox == 0 && (oy + q) * ow + 16 <= g->oh * ow)) _mm512_storeu_ps(out, v);
        else _mm512_mask_storeu_ps(out, (__mmask16)((1u << (ow - ox)) - 1), v);
    }
}

// The most output rows a block of the in-place kernels sums at a time (a row's vector of sums
// each, in registers with the nine taps' and three input vectors). Each sum is a chain of nine
// FMAs and each input row feeds only the three (stride 1) or two (stride 2) sums that read it, so
// blocks of few rows leave the FMAs waiting on each other's latency. MobileNet's layers, one
// thread (a C harness over this function and the one with blocks of 4, the medians of 400 runs in
// alternation, the same floats, Zen 4): stride 1 on 14, 28, 56 and 112 wide planes 0.0278,
// 0.0459, 0.0902 and 0.0827 ms against 0.0347, 0.0569, 0.1064 and 0.0911 (0.80-0.91x); stride 2
// from 112, 56, 28 and 14 0.0856, 0.0385, 0.0197 and 0.0206 against 0.0917, 0.0420, 0.0218 and
// 0.0216 (0.90-0.96x); blocks of at most 8: 0.82-0.90x on stride 1, 16 as 14. But not on rows
// wider than DW3_WIDE floats: there the blocks' 16 rows are as many streams from memory (the
// 112-wide layer's input is the first convolution's, written past the caches), and blocks of 14
// took 1.4-1.7x the time of blocks of 4 with the input or the output flushed from the caches, the
// 112-wide layer 0.276 against 0.208 ms in the network (`profile`); prefetching the next block's
// rows made it worse. So those keep blocks of 4. A plane's rows go in blocks as equal as can be:
// 14 rows one block, 28 two of 14, 29 three of 10, 10 and 9.
enum { DW3_ROWS = 14, DW3_WIDE = 64 };

// The 3x3 stride-2 depthwise convolution of one channel read in place: no padded copy. Output
// pixels ox ..< ox + 16 of a row read input columns c = 2 ox - pl + kx: the 32 columns from
// 2 ox - pl in two loads, their even and odd columns (kx = 0, 1) picked out by two-source
// permutes, and kx = 2 the even ones one lane on (the 33rd column from a third load). `R` output
// rows at a time (R sums in flight: one chain of 9 FMAs waits on each one's latency), from the
// 2 R + 1 input rows they read, each row's three vectors made once for the one or two output rows
// that read it. Each sum is the bias plus the taps in (ky, kx) order, fused multiply-adds, rows of
// padding left out and padding columns as zeros (adding a zero product changes no sum).
DW_INLINE void dw3s2_rows(const int R, const socprof_dw_shape *g, const float *src, const __m512 *k, __m512 vb, __m512 vlo, __m512 vhi,
                          long oy, long ox, float *dst) {
    const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    const __m512i odd = _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
    const __m512i next = _mm512_set_epi32(16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1);
    const long h = g->h, w = g->w, s = 2 * ox - g->pl;
    // The loads' lanes inside the row: the same for every row of the strip.
    const __mmask16 m0 = dw_span(s, w), m1 = dw_span(s + 16, w), m2 = dw_span(s + 32, w);
    __m512 acc[DW3_ROWS];
#pragma clang loop unroll(full)
    for (int q = 0; q < R; q++) acc[q] = vb;
#pragma clang loop unroll(full)
    for (int j = 0; j < 2 * R + 1; j++) {
        const long iy = 2 * oy - g->pt + j;
        if (iy < 0 || iy >= h) continue;
        const float *row = src + iy * w;
        const __m512 v0 = _mm512_maskz_loadu_ps(m0, row + s), v1 = _mm512_maskz_loadu_ps(m1, row + s + 16);
        const __m512 x0 = _mm512_permutex2var_ps(v0, even, v1), x1 = _mm512_permutex2var_ps(v0, odd, v1);
        const __m512 x2 = _mm512_permutex2var_ps(x0, next, _mm512_maskz_loadu_ps(m2, row + s + 32));
        dw3_taps(R, 2, j, x0, x1, x2, k, acc);
    }
    dw3_store(R, g, acc, vlo, vhi, oy, ox, dst);
}

// The 3x3 stride-1 depthwise convolution of one channel read in place, as dw3s2_rows: output
// pixels ox ..< ox + 16 of a row read input columns ox - pl + kx, three loads of each input row
// (masked where they pass the row's ends: the padding columns as zeros), `R` output rows at a
// time from the R + 2 input rows they read, each row's three vectors loaded once for the one to
// three output rows that read it.
DW_INLINE void dw3s1_rows(const int R, const socprof_dw_shape *g, const float *src, const __m512 *k, __m512 vb, __m512 vlo, __m512 vhi,
                          long oy, long ox, float *dst) {
    const long h = g->h, w = g->w, s = ox - g->pl;
    // The loads' lanes inside the row: the same for every row of the strip.
    const __mmask16 m0 = dw_span(s, w), m1 = dw_span(s + 1, w), m2 = dw_span(s + 2, w);
    __m512 acc[DW3_ROWS];
#pragma clang loop unroll(full)
    for (int q = 0; q < R; q++) acc[q] = vb;
#pragma clang loop unroll(full)
    for (int j = 0; j < R + 2; j++) {
        const long iy = oy - g->pt + j;
        if (iy < 0 || iy >= h) continue;
        const float *row = src + iy * w;
        const __m512 x0 = _mm512_maskz_loadu_ps(m0, row + s), x1 = _mm512_maskz_loadu_ps(m1, row + s + 1),
                     x2 = _mm512_maskz_loadu_ps(m2, row + s + 2);
        dw3_taps(R, 1, j, x0, x1, x2, k, acc);
    }
    dw3_store(R, g, acc, vlo, vhi, oy, ox, dst);
}

// A plane's output rows in blocks as equal as can be, at most DW3_ROWS rows each on input rows up
// to DW3_WIDE floats and 4 on wider ones: `first` blocks of `rows` + 1 rows, then the rest
// (`blocks` in all) of `rows`.
typedef struct {
    long blocks, rows, first;
} dw3_split;

static inline dw3_split dw3_split_rows(const socprof_dw_shape *g) {
    const long most = g->w > DW3_WIDE ? 4 : DW3_ROWS, blocks = (g->oh + most - 1) / most;
    return (dw3_split){.blocks = blocks, .rows = g->oh / blocks, .first = g->oh % blocks};
}

// `count` blocks of R output rows from row oy: at stride 1 each across the row's strips (the last
// at `last`), at stride 2 in strip ox only.
DW_INLINE void dw3_blocks(const int S, const int R, long count, const socprof_dw_shape *g, const float *src, const __m512 *k, __m512 vb,
                          __m512 vlo, __m512 vhi, long oy, long ox, long last, float *dst) {
    for (long b = 0; b < count; b++, oy += R) {
        if (S == 2) {
            dw3s2_rows(R, g, src, k, vb, vlo, vhi, oy, ox, dst);
            continue;
        }
        for (long x = 0;; x += 16) {
            if (x > last) x = last;
            dw3s1_rows(R, g, src, k, vb, vlo, vhi, oy, x, dst);
            if (x == last) break;
        }
    }
}

// The same for R = n (1 to DW3_ROWS; none for 0) at run time: a loop for each row count, each sum a register
// (a switch for every block instead left the wide layers' blocks of 4 1.05-1.13x slower).
#define DW3_CASE(n) \
    case n: dw3_blocks(S, n, count, g, src, k, vb, vlo, vhi, oy, ox, last, dst); break;
DW_INLINE void dw3_run(const int S, long n, long count, const socprof_dw_shape *g, const float *src, const __m512 *k, __m512 vb, __m512 vlo,
                       __m512 vhi, long oy, long ox, long last, float *dst) {
    _Static_assert(DW3_ROWS == 14, "dw3_run has a case for each row count up to DW3_ROWS");
    switch (n) {
    DW3_CASE(14) DW3_CASE(13) DW3_CASE(12) DW3_CASE(11) DW3_CASE(10) DW3_CASE(9) DW3_CASE(8)
    DW3_CASE(7) DW3_CASE(6) DW3_CASE(5) DW3_CASE(4) DW3_CASE(3) DW3_CASE(2) DW3_CASE(1)
    default: break;
    }
}
#undef DW3_CASE

// The 3x3 layer of stride S (1 or 2) on one channel read in place. A row's last strip ends at the
// row's end on rows of 16 or more (overlapping the one before it, whose columns it writes again
// with the same floats): whole stores. Stride 2: column strips outside, row blocks inside; the
// other way round (a block's nine input rows kept in L1 across its strips) measured slower:
// MobileNet's strided layers 0.115, 0.060, 0.033, 0.030 against 0.101-0.103, 0.046-0.047,
// 0.025-0.026, 0.024 ms (`bench conv --depthwise`, Zen 4, in alternation). Stride 1: row blocks
// outside, strips inside; the stride-2 order took MobileNet's 112-wide layer 0.108 against 0.094
// ms, the 56-wide one 0.111 against 0.108, the 28 and 14 wide ones 0.056 and 0.034 against 0.058
// and 0.035 (`bench conv --depthwise`, Zen 4, 5 rounds in random order).
DW_INLINE void dw3_f32(const int S, const socprof_dw_shape *g, const float *src, const float *taps, float bias, float lo, float hi,
                       float *dst) {
    __m512 k[9];
    for (int t = 0; t < 9; t++) k[t] = _mm512_set1_ps(taps[t]);
    const __m512 vb = _mm512_set1_ps(bias), vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
    const long last = g->ow > 16 ? g->ow - 16 : 0;
    const dw3_split sp = dw3_split_rows(g);
    const long second = sp.first * (sp.rows + 1);  // the first row of the blocks of sp.rows
    if (S == 1) {
        dw3_run(1, sp.rows + 1, sp.first, g, src, k, vb, vlo, vhi, 0, 0, last, dst);
        dw3_run(1, sp.rows, sp.blocks - sp.first, g, src, k, vb, vlo, vhi, second, 0, last, dst);
        return;
    }
    for (long ox = 0;; ox += 16) {
        if (ox > last) ox = last;
        dw3_run(2, sp.rows + 1, sp.first, g, src, k, vb, vlo, vhi, 0, ox, last, dst);
        dw3_run(2, sp.rows, sp.blocks - sp.first, g, src, k, vb, vlo, vhi, second, ox, last, dst);
        if (ox == last) break;
    }
}

DW_TARGET
void socprof_dw_f32_avx512(const socprof_dw_plan *plan, const float *src, const float *taps, float bias, float lo, float hi,
                           float *scratch, int zero, float *dst) {
    const socprof_dw_shape *g = &plan->shape;
    if (plan->inplace) {
        if (g->stride == 2) dw3_f32(2, g, src, taps, bias, lo, hi, dst);
        else dw3_f32(1, g, src, taps, bias, lo, hi, dst);
        return;
    }
    dw_source in = {.f32 = src};
    dw_sink out = {.f32 = dst, .lo = _mm512_set1_ps(lo), .hi = _mm512_set1_ps(hi)};
    dw_channel(plan, &in, 0, taps, bias, &out, scratch, zero);
}

#else
void socprof_dw_u8_avx512(const socprof_dw_plan *plan, const uint8_t *src, uint8_t flip, float zf, const int8_t *weights,
                          int32_t bias, float scale, int32_t zp, int32_t lo, int32_t hi, float *scratch, int zero, uint8_t *dst) {
    (void)plan; (void)src; (void)flip; (void)zf; (void)weights; (void)bias; (void)scale; (void)zp; (void)lo; (void)hi;
    (void)scratch; (void)zero; (void)dst;
}
void socprof_dw_f32_avx512(const socprof_dw_plan *plan, const float *src, const float *taps, float bias, float lo, float hi,
                           float *scratch, int zero, float *dst) {
    (void)plan; (void)src; (void)taps; (void)bias; (void)lo; (void)hi; (void)scratch; (void)zero; (void)dst;
}
#endif
