// The SGEMM panel kernels of the zmm8x32 and zmm12x32 tiles with AVX-512 F (x86): one B panel
// (32 columns, its k steps `bstride` floats apart: packed k-major, 32, or B's own rows read in
// place, its leading dimension) against `panels` full panels of A (8 or 12 rows, packed
// k-major), C's tiles stored in place, with GEMM's epilogue (each row's bias, a residual, the
// activation's clamp) applied from the registers or without. A last B panel of fewer than 32
// columns is computed here too, in place: its whole vectors as in the full tile, a last vector of
// 5 to 15 columns under a mask (loads of B, C and the residual included), and a last 1 to 4 columns
// with the tile's rows in a vector's lanes, in the loop of the vectors before them (of this panel,
// or of the panel before, where the caller joins a last panel of 1 to 4 columns to it: 33 to 36
// columns; GEMM joins 1 to 3, `GEMMKernel.joinedColumns`); every sum takes its k
// steps in order, whichever way, so a column's floats do not depend on which kernel computed it.
// The generated Swift tile (Microkernels.swift) ran the edge panels' full 32 columns into a
// scratch tile and copied them out, and applied the epilogue in a second pass. See
// CInt8Kernels.h. Empty stubs off x86.
#include "CInt8Kernels.h"
#include <stddef.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define ZMM_TARGET __attribute__((target("avx512f")))
#define ZMM_INLINE __attribute__((target("avx512f"), always_inline)) static inline

// The last 1 to 4 columns that are summed with the tile's rows in a vector's lanes instead of a
// masked vector.
#define ZMM_FEW_COLUMNS 4

// The sums of 1 to 4 columns, the tile's rows in their lanes, to C (`c`: the first column's row
// 0), each element as the tile's: the old C added (accumulate), then with `fused` the bias, the
// residual's element and the clamp.
ZMM_INLINE void zmm_columns_store(const int rows, const int n, const __m512 *e, float *c, long ldc, bool accumulate, bool fused,
                                  const float *bias, const float *residual, float lo, float hi) {
    float t[ZMM_FEW_COLUMNS][16];
#pragma clang loop unroll(full)
    for (int j = 0; j < n; j++) _mm512_storeu_ps(t[j], e[j]);
    for (int r = 0; r < rows; r++) {
        for (int j = 0; j < n; j++) {
            float *q = c + r * ldc + j;
            float v = accumulate ? t[j][r] + *q : t[j][r];
            if (fused) {
                if (bias) v += bias[r];
                if (residual) v += residual[r * ldc + j];
                // As vmaxps and vminps (the second operand unless the first is larger, smaller):
                // the tile's floats, signed zeros included.
                v = v > lo ? v : lo;
                v = v < hi ? v : hi;
            }
            *q = v;
        }
    }
}

// How far ahead of its k step a tile asks for A (floats): 2 KiB, 64 k steps of an 8-row panel,
// and past a panel's end the next panel's first k steps (PackedA keeps a KC block's panels one
// after the other; a prefetch past the last one is dropped, not a fault). A network's weights come
// from L3 or memory, not L2: MobileNet's 7 x 7 layers read 2 and 4 MB of them once an image.
// Measured on Zen 4 (`socprof run`, builds in alternation, 1 thread unless said): MobileNet
// 0.967x the time (0.971x at 2 threads), ResNet-50 0.96x, with a prefetch every k step 2 KiB
// ahead; 1 KiB 0.975x, 4 KiB 0.985x, 8 KiB 0.967x; every other k step 0.956x against 0.949x
// every one (another run); _MM_HINT_T1 as T0.
enum { ZMM_A_AHEAD = 512 };

// C[rows x 16 * vecs] (+)= A-panel x B-panel over kc: `rows` (8 or 12) rows of sums in 0, 1 or 2
// vectors each, B's vectors and a broadcast of A at a time; then, row by row, the old C added
// (accumulate), and with `fused` the bias, the residual's tile (laid out as C) and the clamp to
// [lo, hi]: the order of the separate passes, so the same floats. With `masked`, the last vector
// loads and stores only the lanes of `last`. And `extra` (0 to 4) more columns in the same loop,
// from `bx` (B's k steps `bstride` apart as the panel's) to `cx`, a vector a column with the rows
// in its lanes: a broadcast and an FMA a k step and column, where alone they would wait on the
// FMA's latency (one chain a column) and a masked vector would take as many FMAs as a whole one.
// Every sum takes its k steps in order, whichever way, so a column's floats do not depend on which
// kernel computed it (the threads split N differently from one thread count to another). With
// `pf`, each k step also asks for two lines from `pb` on, `bstride` floats apart (the next B
// panel where B is read in place, see zmm_panels).
ZMM_INLINE void zmm_tile(const int rows, const int vecs, const bool masked, __mmask16 last, const int extra, const bool pf, const float *pb,
                         long kc, const float *a, long astride, const float *b, const float *bx, long bstride, float *c, float *cx, long ldc,
                         bool accumulate, const bool fused, const float *bias, const float *residual, const float *residualx, float lo, float hi) {
    // C's rows, read (or first written) after the k loop, asked for now: at K = 32 the loop is
    // shorter than a miss to memory.
#pragma clang loop unroll(full)
    for (int r = 0; r < rows; r++) {
        if (vecs) {
            _mm_prefetch((const char *)(c + r * ldc), _MM_HINT_T0);
            _mm_prefetch((const char *)(c + r * ldc + 16 * vecs - 1), _MM_HINT_T0);
        }
        if (extra) _mm_prefetch((const char *)(cx + r * ldc), _MM_HINT_T0);
    }
    const __mmask16 lanes = (__mmask16)((1u << rows) - 1);
    __m512 s[12][2], e[ZMM_FEW_COLUMNS];
#pragma clang loop unroll(full)
    for (int r = 0; r < rows; r++) s[r][0] = s[r][1] = _mm512_setzero_ps();
#pragma clang loop unroll(full)
    for (int j = 0; j < extra; j++) e[j] = _mm512_setzero_ps();
#pragma clang loop unroll_count(4)
    for (long k = 0; k < kc; k++) {
        _mm_prefetch((const char *)(a + ZMM_A_AHEAD), _MM_HINT_T0);
        if (pf) {
            _mm_prefetch((const char *)pb, _MM_HINT_T0);
            _mm_prefetch((const char *)(pb + 16), _MM_HINT_T0);
            pb += bstride;
        }
        if (vecs) {
            // (B's last vector under the mask: read in place, a row's last panel ends at N.)
            const __m512 b0 = masked && vecs == 1 ? _mm512_maskz_loadu_ps(last, b) : _mm512_loadu_ps(b);
            const __m512 b1 = vecs == 2 ? (masked ? _mm512_maskz_loadu_ps(last, b + 16) : _mm512_loadu_ps(b + 16)) : b0;
#pragma clang loop unroll(full)
            for (int r = 0; r < rows; r++) {
                const __m512 x = _mm512_set1_ps(a[r]);
                s[r][0] = _mm512_fmadd_ps(x, b0, s[r][0]);
                if (vecs == 2) s[r][1] = _mm512_fmadd_ps(x, b1, s[r][1]);
            }
        }
        if (extra) {
            const __m512 av = _mm512_maskz_loadu_ps(lanes, a);
#pragma clang loop unroll(full)
            for (int j = 0; j < extra; j++) e[j] = _mm512_fmadd_ps(av, _mm512_set1_ps(bx[j]), e[j]);
            bx += bstride;
        }
        a += astride;
        b += bstride;
    }
    const __m512 vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
#pragma clang loop unroll(full)
    for (int r = 0; r < rows; r++) {
        float *q = c + r * ldc;
#pragma clang loop unroll(full)
        for (int h = 0; h < vecs; h++) {
            const bool part = masked && h == vecs - 1;
            __m512 v = s[r][h];
            if (accumulate) v = _mm512_add_ps(v, part ? _mm512_maskz_loadu_ps(last, q + 16 * h) : _mm512_loadu_ps(q + 16 * h));
            if (fused) {
                if (bias) v = _mm512_add_ps(v, _mm512_set1_ps(bias[r]));
                if (residual) {
                    const float *f = residual + r * ldc + 16 * h;
                    v = _mm512_add_ps(v, part ? _mm512_maskz_loadu_ps(last, f) : _mm512_loadu_ps(f));
                }
                v = _mm512_min_ps(_mm512_max_ps(v, vlo), vhi);
            }
            if (part) _mm512_mask_storeu_ps(q + 16 * h, last, v);
            else _mm512_storeu_ps(q + 16 * h, v);
        }
    }
    if (extra) zmm_columns_store(rows, extra, e, cx, ldc, accumulate, fused, bias, residualx, lo, hi);
}

// The tile of `vecs` vectors (unmasked) with `n` (0 to 4, at run time) extra columns.
ZMM_INLINE void zmm_tile_extra(const int rows, const int vecs, long n, const bool pf, const float *pb, long kc, const float *a, long astride, const float *b,
                               const float *bx, long bstride, float *c, float *cx, long ldc, bool accumulate, const bool fused,
                               const float *bias, const float *residual, const float *residualx, float lo, float hi) {
    switch (n) {
    case 0: zmm_tile(rows, vecs, false, 0, 0, pf, pb, kc, a, astride, b, bx, bstride, c, cx, ldc, accumulate, fused, bias, residual, residualx, lo, hi); break;
    case 1: zmm_tile(rows, vecs, false, 0, 1, pf, pb, kc, a, astride, b, bx, bstride, c, cx, ldc, accumulate, fused, bias, residual, residualx, lo, hi); break;
    case 2: zmm_tile(rows, vecs, false, 0, 2, pf, pb, kc, a, astride, b, bx, bstride, c, cx, ldc, accumulate, fused, bias, residual, residualx, lo, hi); break;
    case 3: zmm_tile(rows, vecs, false, 0, 3, pf, pb, kc, a, astride, b, bx, bstride, c, cx, ldc, accumulate, fused, bias, residual, residualx, lo, hi); break;
    default: zmm_tile(rows, vecs, false, 0, 4, pf, pb, kc, a, astride, b, bx, bstride, c, cx, ldc, accumulate, fused, bias, residual, residualx, lo, hi); break;
    }
}

// One tile of `cols` (1 to 36) columns of the B panel at `b`: 32 the full tile, and 33 to 36 the
// full tile with the first 1 to 4 columns of the next panel (`bnext` floats on: the last panel, of
// so few columns, joined to the one before it); under 32, the whole vectors with the last 1 to 4
// columns as extra ones, or a last vector of 5 to 15 under a mask.
ZMM_INLINE void zmm_any(const int rows, const bool fused, const bool pf, long cols, long kc, const float *a, long astride, const float *b, long bstride,
                        long bnext, float *c, long ldc, bool accumulate, const float *bias, const float *residual, float lo, float hi) {
    const float *pb = b + (cols > 32 ? 2 : 1) * bnext;
    if (cols >= 32) {
        zmm_tile_extra(rows, 2, cols - 32, pf, pb, kc, a, astride, b, b + bnext, bstride, c, c + 32, ldc, accumulate, fused, bias, residual,
                       residual ? residual + 32 : NULL, lo, hi);
        return;
    }
    const long whole = cols / 16 * 16, rest = cols - whole;
    if (rest > ZMM_FEW_COLUMNS) {
        const __mmask16 last = (__mmask16)((1u << rest) - 1);
        if (whole)
            zmm_tile(rows, 2, true, last, 0, pf, pb, kc, a, astride, b, b, bstride, c, c, ldc, accumulate, fused, bias, residual, NULL, lo, hi);
        else
            zmm_tile(rows, 1, true, last, 0, pf, pb, kc, a, astride, b, b, bstride, c, c, ldc, accumulate, fused, bias, residual, NULL, lo, hi);
        return;
    }
    const float *rx = residual ? residual + whole : NULL;
    if (whole) zmm_tile_extra(rows, 1, rest, pf, pb, kc, a, astride, b, b + whole, bstride, c, c + whole, ldc, accumulate, fused, bias, residual, rx, lo, hi);
    else zmm_tile_extra(rows, 0, rest, pf, pb, kc, a, astride, b, b, bstride, c, c, ldc, accumulate, fused, bias, residual, rx, lo, hi);
}

ZMM_INLINE void zmm_panels(const int rows, long kc, const float *a, long astride, long apanel, long panels, const float *b, long bstride,
                           long bnext, float *c, long ldc, bool accumulate, bool fused, const float *bias, const float *residual, float lo,
                           float hi, long cols) {
    // B read in place (a 1x1 convolution's input: its k steps a plane apart, not a packed panel's
    // 32 floats): the first A panel asks for the next B panel's two lines a k step (`pf`), which
    // no hardware prefetcher follows (a stream a row, a page apart). Intel (family 6 model 0xcf):
    // ResNet-50's 56x56 1x1 layers 4.83 against 5.35 ms in `profile` at 1 thread (4 rounds),
    // the network at 2 threads 25.6 against 26.3 ms; MobileNet the same. Not measured on Zen 4.
    const bool inplace = bstride != 32;
    if (fused) {
        for (long p = 0; p < panels; p++, a += apanel, c += rows * ldc) {
            if (inplace && p == 0) zmm_any(rows, true, true, cols, kc, a, astride, b, bstride, bnext, c, ldc, accumulate, bias, residual, lo, hi);
            else zmm_any(rows, true, false, cols, kc, a, astride, b, bstride, bnext, c, ldc, accumulate, bias, residual, lo, hi);
            if (bias) bias += rows;
            if (residual) residual += rows * ldc;
        }
    } else {
        for (long p = 0; p < panels; p++, a += apanel, c += rows * ldc) {
            if (inplace && p == 0) zmm_any(rows, false, true, cols, kc, a, astride, b, bstride, bnext, c, ldc, accumulate, NULL, NULL, 0, 0);
            else zmm_any(rows, false, false, cols, kc, a, astride, b, bstride, bnext, c, ldc, accumulate, NULL, NULL, 0, 0);
        }
    }
}

ZMM_TARGET
void socprof_sgemm_8x32_avx512_panels(long kc, const float *a, long astride, long apanel, long panels, const float *b, long bstride, long bnext,
                                      float *c, long ldc, bool accumulate, bool fused, const float *bias, const float *residual, float lo, float hi,
                                      long cols) {
    zmm_panels(8, kc, a, astride, apanel, panels, b, bstride, bnext, c, ldc, accumulate, fused, bias, residual, lo, hi, cols);
}

ZMM_TARGET
void socprof_sgemm_12x32_avx512_panels(long kc, const float *a, long astride, long apanel, long panels, const float *b, long bstride, long bnext,
                                       float *c, long ldc, bool accumulate, bool fused, const float *bias, const float *residual, float lo, float hi,
                                       long cols) {
    zmm_panels(12, kc, a, astride, apanel, panels, b, bstride, bnext, c, ldc, accumulate, fused, bias, residual, lo, hi, cols);
}

#else
void socprof_sgemm_8x32_avx512_panels(long kc, const float *a, long astride, long apanel, long panels, const float *b, long bstride, long bnext,
                                      float *c, long ldc, bool accumulate, bool fused, const float *bias, const float *residual, float lo, float hi,
                                      long cols) {
    (void)kc; (void)a; (void)astride; (void)apanel; (void)panels; (void)b; (void)bstride; (void)bnext; (void)c; (void)ldc; (void)accumulate; (void)fused;
    (void)bias; (void)residual; (void)lo; (void)hi; (void)cols;
}
void socprof_sgemm_12x32_avx512_panels(long kc, const float *a, long astride, long apanel, long panels, const float *b, long bstride, long bnext,
                                       float *c, long ldc, bool accumulate, bool fused, const float *bias, const float *residual, float lo, float hi,
                                       long cols) {
    (void)kc; (void)a; (void)astride; (void)apanel; (void)panels; (void)b; (void)bstride; (void)bnext; (void)c; (void)ldc; (void)accumulate; (void)fused;
    (void)bias; (void)residual; (void)lo; (void)hi; (void)cols;
}
#endif
