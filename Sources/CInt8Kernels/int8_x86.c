// The x86-64 int8 microkernels and requantization, each compiled for its instruction set by a
// target attribute (so that one binary carries both and picks at run time). Empty stubs on other
// CPUs, where nothing may call them.
#include "CInt8Kernels.h"
#include "requant_ref.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include "requant_x86.h"
#include "pack16.h"

static inline int32_t load32(const void *p) {
    int32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

// AVX-512 VNNI, 8 x (16 x NV): 8 x NV zmm accumulators (24 for the whole 8 x 48 tile), NV B
// vectors, one broadcast of A. Per group of 4 k: each B vector holds 16 columns x 4 k (uint8), each
// row's 4 weights (int8) are broadcast as one int32, and vpdpbusd adds the four u8 x s8 products
// of each column into its int32 lane (no intermediate saturation). B is always packed 48 columns
// wide (192 bytes a group); NV < 3 reads the first 16 x NV of them (a panel's last columns).
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni"), always_inline))
static inline void vnni_sums(long kq, const int8_t *a, const uint8_t *b, const int nv, __m512i acc[8][3]) {
    for (int r = 0; r < 8; r++)
        for (int v = 0; v < 3; v++) acc[r][v] = _mm512_setzero_si512();
    for (long p = 0; p < kq; p++) {
        // A 1 KiB ahead (32 groups; past the panel, the next one's start): the weights come from
        // L3 or memory. ResNet-50 int8 0.989x and 0.994x the time, MobileNet 0.998x (`socprof run
        // --precision int8`, builds in alternation, Zen 4, 1 thread).
        _mm_prefetch((const char *)(a + 1024), _MM_HINT_T0);
        __m512i b0 = _mm512_loadu_si512((const void *)b);
        __m512i b1 = nv > 1 ? _mm512_loadu_si512((const void *)(b + 64)) : b0;
        __m512i b2 = nv > 2 ? _mm512_loadu_si512((const void *)(b + 128)) : b0;
#pragma clang loop unroll(full)
        for (int r = 0; r < 8; r++) {
            __m512i ar = _mm512_set1_epi32(load32(a + 4 * r));
            acc[r][0] = _mm512_dpbusd_epi32(acc[r][0], b0, ar);
            if (nv > 1) acc[r][1] = _mm512_dpbusd_epi32(acc[r][1], b1, ar);
            if (nv > 2) acc[r][2] = _mm512_dpbusd_epi32(acc[r][2], b2, ar);
        }
        a += 32;
        b += 192;
    }
}

// The tile's sums into the first 16 x NV of each 48-int32 row of c.
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni"), always_inline))
static inline void vnni_8xnv(long kq, const int8_t *a, const uint8_t *b, int32_t *c, const int nv) {
    __m512i acc[8][3];
    vnni_sums(kq, a, b, nv, acc);
    for (int r = 0; r < 8; r++)
        for (int v = 0; v < nv; v++) _mm512_storeu_si512((void *)(c + r * 48 + v * 16), acc[r][v]);
}

// The same tile requantized from its registers (socprof_i8_requant_ref's arithmetic, as
// socprof_i8_requant_avx512): `rows` rows and `cols` columns of bytes into out (ldout a row).
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni"), always_inline))
static inline void vnni_8xnv_requant(long kq, const int8_t *a, const uint8_t *b, const int nv, long rows, long cols,
                                     const int32_t *row_add, const float *row_scale, int32_t zp, int32_t lo, int32_t hi,
                                     uint8_t *out, long ldout) {
    __m512i acc[8][3];
    vnni_sums(kq, a, b, nv, acc);
    const i8_rq16 q = i8_rq16_make(zp, lo, hi);
#pragma clang loop unroll(full)
    for (int r = 0; r < 8; r++) {
        if (r >= rows) break;
        const __m512i add = _mm512_set1_epi32(row_add[r]);
        const __m512 sc = _mm512_set1_ps(row_scale[r]);
#pragma clang loop unroll(full)
        for (int v = 0; v < nv; v++)
            i8_store16(out + r * ldout + 16 * v, i8_rq16_bytes(&q, _mm512_add_epi32(acc[r][v], add), sc), cols - 16 * v);
    }
}

__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
void socprof_i8_gemm_vnni_requant(long kq, const int8_t *a, const uint8_t *b, long panel_bytes, long rows, long cols, const int32_t *row_add,
                                  const float *row_scale, int32_t zp, int32_t lo, int32_t hi, uint8_t *out, long ldout) {
    for (long j = 0; j < cols; j += 48, b += panel_bytes, out += 48) {
        const long n = cols - j < 48 ? cols - j : 48;
        if (n > 32) vnni_8xnv_requant(kq, a, b, 3, rows, n, row_add, row_scale, zp, lo, hi, out, ldout);
        else if (n > 16) vnni_8xnv_requant(kq, a, b, 2, rows, n, row_add, row_scale, zp, lo, hi, out, ldout);
        else vnni_8xnv_requant(kq, a, b, 1, rows, n, row_add, row_scale, zp, lo, hi, out, ldout);
    }
}

// A panel's last columns with the output channels in the lanes (socprof_i8_gemm_vnni_columns):
// one panel of 8 rows x C columns. Per group of 4 k: the panel's 8 rows x 4 weights are one
// 32-byte load from the panel as packed, each column's 4 bytes (uint8, from bt, packed
// [column][kq][4]) one broadcast; vpdpbusd adds the four products into each row's lane. Four
// accumulators a column, for 4 consecutive groups, so that four chains of vpdpbusd are in flight
// even for one column (one chain ran at its latency, 4-5 cycles a group).
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni"), always_inline))
static inline void vnni_columns_block(long kq, const int8_t *a, const uint8_t *bt, const int C, long rows, const int32_t *row_add,
                                      const float *row_scale, const i8_rq16 *q, uint8_t *out, long ldout) {
    __m256i acc[4][4];
    for (int c = 0; c < 4; c++)
        for (int u = 0; u < 4; u++) acc[c][u] = _mm256_setzero_si256();
    const long bstride = 4 * kq;
    long p = 0;
    for (; p + 4 <= kq; p += 4) {
#pragma clang loop unroll(full)
        for (int u = 0; u < 4; u++) {
            const __m256i w = _mm256_loadu_si256((const __m256i *)(a + 32 * (p + u)));
#pragma clang loop unroll(full)
            for (int c = 0; c < C; c++)
                acc[c][u] = _mm256_dpbusd_epi32(acc[c][u], _mm256_set1_epi32(load32(bt + c * bstride + 4 * (p + u))), w);
        }
    }
    for (; p < kq; p++) {
        const __m256i w = _mm256_loadu_si256((const __m256i *)(a + 32 * p));
#pragma clang loop unroll(full)
        for (int c = 0; c < C; c++) acc[c][0] = _mm256_dpbusd_epi32(acc[c][0], _mm256_set1_epi32(load32(bt + c * bstride + 4 * p)), w);
    }
    // The 8 rows of a column through the 16-lane requantization (the upper 8 lanes unused), each
    // byte to its row (a column of the output: one byte a row).
    const __mmask16 m = (__mmask16)((1u << rows) - 1);
    const __m512i add = _mm512_maskz_loadu_epi32(m, row_add);
    const __m512 sc = _mm512_maskz_loadu_ps(m, row_scale);
#pragma clang loop unroll(full)
    for (int c = 0; c < C; c++) {
        __m256i sum = _mm256_add_epi32(_mm256_add_epi32(acc[c][0], acc[c][1]), _mm256_add_epi32(acc[c][2], acc[c][3]));
        uint8_t bytes[16];
        _mm_storeu_si128((__m128i *)bytes, i8_rq16_bytes(q, _mm512_add_epi32(_mm512_castsi256_si512(sum), add), sc));
        uint8_t *d = out + c;
        for (long i = 0; i < rows; i++) d[i * ldout] = bytes[i];
    }
}

__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
void socprof_i8_gemm_vnni_columns(long kq, const int8_t *a, long rows, const uint8_t *bt, long cols, const int32_t *row_add,
                                  const float *row_scale, int32_t zp, int32_t lo, int32_t hi, uint8_t *out, long ldout) {
    const i8_rq16 q = i8_rq16_make(zp, lo, hi);
    for (long c0 = 0; c0 < cols; c0 += 4) {
        const uint8_t *b = bt + c0 * 4 * kq;
        uint8_t *o = out + c0;
        switch (cols - c0) {
        case 1: vnni_columns_block(kq, a, b, 1, rows, row_add, row_scale, &q, o, ldout); break;
        case 2: vnni_columns_block(kq, a, b, 2, rows, row_add, row_scale, &q, o, ldout); break;
        case 3: vnni_columns_block(kq, a, b, 3, rows, row_add, row_scale, &q, o, ldout); break;
        default: vnni_columns_block(kq, a, b, 4, rows, row_add, row_scale, &q, o, ldout); break;
        }
    }
}

__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
void socprof_i8_kernel_vnni_8x48(long kq, const int8_t *a, const uint8_t *b, int32_t *c) { vnni_8xnv(kq, a, b, c, 3); }
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
void socprof_i8_kernel_vnni_8x32(long kq, const int8_t *a, const uint8_t *b, int32_t *c) { vnni_8xnv(kq, a, b, c, 2); }
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
void socprof_i8_kernel_vnni_8x16(long kq, const int8_t *a, const uint8_t *b, int32_t *c) { vnni_8xnv(kq, a, b, c, 1); }

// AVX2, 6 x 16, exact: vpmaddubsw would add two u8 x s8 products in int16 with saturation
// (255 * 127 * 2 > 32767), so B is widened to int16 instead (vpmovzxbw, 8 columns x 2 k per
// vector) and multiplied by pairs of int16 weights with vpmaddwd, which adds each pair into int32
// exactly. 12 ymm accumulators, 2 B vectors, one broadcast of A; `nv` = 1: only the first 8
// columns (6 accumulators, 1 B vector).
__attribute__((target("avx2"), always_inline))
static inline void avx2_6xnv(long kq, const int16_t *a, const uint8_t *b, const int nv, __m256i acc[6][2]) {
    for (int r = 0; r < 6; r++) acc[r][0] = acc[r][1] = _mm256_setzero_si256();
    for (long p = 0; p < kq; p++) {
        __m256i bv[2];
#pragma clang loop unroll(full)
        for (int v = 0; v < nv; v++) bv[v] = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(b + 16 * v)));
#pragma clang loop unroll(full)
        for (int r = 0; r < 6; r++) {
            __m256i ar = _mm256_set1_epi32(load32(a + 2 * r));
#pragma clang loop unroll(full)
            for (int v = 0; v < nv; v++) acc[r][v] = _mm256_add_epi32(acc[r][v], _mm256_madd_epi16(bv[v], ar));
        }
        a += 12;
        b += 32;
    }
}

__attribute__((target("avx2")))
void socprof_i8_kernel_avx2_6x16(long kq, const int16_t *a, const uint8_t *b, int32_t *c) {
    __m256i acc[6][2];
    avx2_6xnv(kq, a, b, 2, acc);
    for (int r = 0; r < 6; r++) {
        _mm256_storeu_si256((__m256i *)(c + r * 16), acc[r][0]);
        _mm256_storeu_si256((__m256i *)(c + r * 16 + 8), acc[r][1]);
    }
}

// AVX2, 6 x 16, vpmaddubsw: each B vector holds 8 columns x 4 k (uint8), each row's 4 weights
// (int8) are broadcast as one int32; vpmaddubsw adds each column's two neighbouring u8 x s8
// products into an int16, vpmaddwd by ones adds the two int16 of each column into its int32 lane.
// The int16 sums saturate unless |w| <= 64 (2 x 255 x 64 = 32640 <= 32767): PackedInt8A refuses
// other weights for this kernel and the layers quantize theirs to -64...64 (onnxruntime's
// reduce_range, for the same instruction). 18 vector operations per 192 MACs against the exact
// kernel's 26; 12 accumulators, 2 B vectors, the broadcast, ones: clang keeps one accumulator
// on the stack (a store and a load a step), which measured faster than ones as a memory operand.
__attribute__((target("avx2"), always_inline))
static inline void avx2b_6xnv(long kq, const int8_t *a, const uint8_t *b, const int nv, __m256i acc[6][2]) {
    const __m256i ones = _mm256_set1_epi16(1);
    for (int r = 0; r < 6; r++) acc[r][0] = acc[r][1] = _mm256_setzero_si256();
    for (long p = 0; p < kq; p++) {
        __m256i bv[2];
#pragma clang loop unroll(full)
        for (int v = 0; v < nv; v++) bv[v] = _mm256_loadu_si256((const __m256i *)(b + 32 * v));
#pragma clang loop unroll(full)
        for (int r = 0; r < 6; r++) {
            __m256i ar = _mm256_set1_epi32(load32(a + 4 * r));
#pragma clang loop unroll(full)
            for (int v = 0; v < nv; v++) acc[r][v] = _mm256_add_epi32(acc[r][v], _mm256_madd_epi16(_mm256_maddubs_epi16(bv[v], ar), ones));
        }
        a += 24;
        b += 64;
    }
}

__attribute__((target("avx2")))
void socprof_i8_kernel_avx2b_6x16(long kq, const int8_t *a, const uint8_t *b, int32_t *c) {
    __m256i acc[6][2];
    avx2b_6xnv(kq, a, b, 2, acc);
    for (int r = 0; r < 6; r++) {
        _mm256_storeu_si256((__m256i *)(c + r * 16), acc[r][0]);
        _mm256_storeu_si256((__m256i *)(c + r * 16 + 8), acc[r][1]);
    }
}

// A 6 x 16 tile of int32 sums (or its first 8 columns, `nv` = 1) requantized from the registers
// (socprof_i8_requant_avx2's arithmetic): `rows` x `cols` bytes into out.
__attribute__((target("avx2"), always_inline))
static inline void avx2_store_requant(__m256i acc[6][2], const int nv, long rows, long cols, const int32_t *row_add, const float *row_scale,
                                      int32_t zp, int32_t lo, int32_t hi, uint8_t *out, long ldout) {
    const i8_rq8 q8 = i8_rq8_make(zp, lo, hi);
#pragma clang loop unroll(full)
    for (int r = 0; r < 6; r++) {
        if (r >= rows) break;
        const __m256i add = _mm256_set1_epi32(row_add[r]);
        const __m256 s = _mm256_set1_ps(row_scale[r]);
        __m256i q[2] = {_mm256_setzero_si256(), _mm256_setzero_si256()};
#pragma clang loop unroll(full)
        for (int h = 0; h < nv; h++) q[h] = i8_rq8_lanes(&q8, _mm256_add_epi32(acc[r][h], add), s);
        // int16 qwords: columns 0-3, 8-11, 4-7, 12-15 -> 0-3, 4-7 | 8-11, 12-15; then bytes.
        __m256i w = _mm256_permute4x64_epi64(_mm256_packus_epi32(q[0], q[1]), 0xD8);
        __m256i bytes = _mm256_packus_epi16(w, w);
        i8_store16_avx2(out + r * ldout, _mm_unpacklo_epi64(_mm256_castsi256_si128(bytes), _mm256_extracti128_si256(bytes, 1)), cols);
    }
}

// socprof_i8_gemm_avx2_requant and socprof_i8_gemm_avx2b_requant: the tiles of either AVX2
// kernel along a panel of A, 16 columns a tile (the last one's first 8 when no more are wanted:
// a 7 x 7 layer's 49th column), each requantized from its registers instead of stored as int32
// and read back: the tile's store and reload, and the call, were a third of a tile's time at
// K = 32 (MobileNet's first pointwise layer). One call for all the tiles of a panel of A: a call
// a tile, from Swift, cost as much again at K = 32.
// Either AVX2 tile (`maddubs`: the vpmaddubsw one on int8 A, else the exact one on int16 A)
// along the panels of B.
__attribute__((target("avx2"), always_inline))
static inline void avx2_requant_panels(const int maddubs, long kq, const void *a, const uint8_t *b, long panel_bytes, long rows, long cols,
                                       const int32_t *row_add, const float *row_scale, int32_t zp, int32_t lo, int32_t hi, uint8_t *out,
                                       long ldout) {
    __m256i acc[6][2];
    for (long j = 0; j < cols; j += 16, b += panel_bytes, out += 16) {
        const long n = cols - j < 16 ? cols - j : 16;
        if (n > 8) {
            if (maddubs) avx2b_6xnv(kq, (const int8_t *)a, b, 2, acc);
            else avx2_6xnv(kq, (const int16_t *)a, b, 2, acc);
            avx2_store_requant(acc, 2, rows, n, row_add, row_scale, zp, lo, hi, out, ldout);
        } else {
            if (maddubs) avx2b_6xnv(kq, (const int8_t *)a, b, 1, acc);
            else avx2_6xnv(kq, (const int16_t *)a, b, 1, acc);
            avx2_store_requant(acc, 1, rows, n, row_add, row_scale, zp, lo, hi, out, ldout);
        }
    }
}

__attribute__((target("avx2")))
void socprof_i8_gemm_avx2_requant(long kq, const int16_t *a, const uint8_t *b, long panel_bytes, long rows, long cols, const int32_t *row_add,
                                  const float *row_scale, int32_t zp, int32_t lo, int32_t hi, uint8_t *out, long ldout) {
    avx2_requant_panels(0, kq, a, b, panel_bytes, rows, cols, row_add, row_scale, zp, lo, hi, out, ldout);
}

__attribute__((target("avx2")))
void socprof_i8_gemm_avx2b_requant(long kq, const int8_t *a, const uint8_t *b, long panel_bytes, long rows, long cols, const int32_t *row_add,
                                   const float *row_scale, int32_t zp, int32_t lo, int32_t hi, uint8_t *out, long ldout) {
    avx2_requant_panels(1, kq, a, b, panel_bytes, rows, cols, row_add, row_scale, zp, lo, hi, out, ldout);
}

// The maddubs GEMM's last few columns with the output channels in the lanes (as
// socprof_i8_gemm_vnni_columns): a 6-row panel's group of 4 k is 24 bytes, so a 32-byte load at
// a + 24p holds the 6 rows' 4 weights in lanes 0-5 (lanes 6 and 7, the next group's first rows, are
// never used); each column's 4 bytes of B (packed [column][kq][4]) a broadcast. Per group: one load,
// and per column a broadcast, vpmaddubsw, vpmaddwd by ones and an add (4 a column, against a
// 6 x 8 tile's 26 for up to 8 columns). Reads 8 bytes past the panel's last group (PackedInt8A
// pads its panels for it). Weights in -64...64, as for the tile.
__attribute__((target("avx2"), always_inline))
static inline void avx2b_columns_block(long kq, const int8_t *a, const uint8_t *bt, const int C, long rows, const int32_t *row_add,
                                       const float *row_scale, const i8_rq8 *q, uint8_t *out, long ldout) {
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i acc[4] = {_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256()};
    for (long p = 0; p < kq; p++) {
        const __m256i av = _mm256_loadu_si256((const __m256i *)(a + 24 * p));
#pragma clang loop unroll(full)
        for (int c = 0; c < C; c++) {
            const __m256i bv = _mm256_set1_epi32(load32(bt + (c * kq + p) * 4));
            acc[c] = _mm256_add_epi32(acc[c], _mm256_madd_epi16(_mm256_maddubs_epi16(bv, av), ones));
        }
    }
    // Each row's addend and scale in its lane (rows < 6: the others 0, never stored).
    int32_t add_l[8] = {0};
    float scale_l[8] = {0};
    for (long i = 0; i < rows; i++) { add_l[i] = row_add[i]; scale_l[i] = row_scale[i]; }
    const __m256i add = _mm256_loadu_si256((const __m256i *)add_l);
    const __m256 sc = _mm256_loadu_ps(scale_l);
#pragma clang loop unroll(full)
    for (int c = 0; c < C; c++) {
        uint8_t bytes[32];  // lane i's byte at 4i
        _mm256_storeu_si256((__m256i *)bytes, i8_rq8_lanes(q, _mm256_add_epi32(acc[c], add), sc));
        uint8_t *d = out + c;
        for (long i = 0; i < rows; i++) d[i * ldout] = bytes[4 * i];
    }
}

__attribute__((target("avx2")))
void socprof_i8_gemm_avx2b_columns(long kq, const int8_t *a, long rows, const uint8_t *bt, long cols, const int32_t *row_add,
                                   const float *row_scale, int32_t zp, int32_t lo, int32_t hi, uint8_t *out, long ldout) {
    const i8_rq8 q = i8_rq8_make(zp, lo, hi);
    for (long c0 = 0; c0 < cols; c0 += 4) {
        const uint8_t *b = bt + c0 * 4 * kq;
        uint8_t *o = out + c0;
        switch (cols - c0) {
        case 1: avx2b_columns_block(kq, a, b, 1, rows, row_add, row_scale, &q, o, ldout); break;
        case 2: avx2b_columns_block(kq, a, b, 2, rows, row_add, row_scale, &q, o, ldout); break;
        case 3: avx2b_columns_block(kq, a, b, 3, rows, row_add, row_scale, &q, o, ldout); break;
        default: avx2b_columns_block(kq, a, b, 4, rows, row_add, row_scale, &q, o, ldout); break;
        }
    }
}

// Column j of a group lands in panel j / nr, 4 bytes a column.
static inline uint8_t *pack_dst(uint8_t *dst, long j, long nr, long panel_bytes) { return dst + (j / nr) * panel_bytes + 4 * (j % nr); }

// socprof_i8_pack_group for g = 4 and NR a multiple of 16 (the VNNI kernel's), 64 columns at a
// time: the four rows' bytes interleaved within each 128-bit lane (two rounds of unpacks), then
// the lanes put in column order (a 4 x 4 transpose of lanes), each 16 columns (64 bytes) to its
// panel. Other shapes go to socprof_i8_pack_group.
__attribute__((target("avx512f,avx512bw,avx512vl")))
void socprof_i8_pack_group_avx512(const uint8_t *const *rows, long g, long cols, long nr, long panel_bytes, uint8_t flip, uint8_t *dst) {
    if (g != 4 || nr % 16 != 0) {
        socprof_i8_pack_group(rows, g, cols, nr, panel_bytes, flip, dst);
        return;
    }
    const __m512i f = _mm512_set1_epi8((char)flip);
    long j = 0;
    for (; j + 64 <= cols; j += 64) {
        __m512i r0 = _mm512_loadu_si512((const void *)(rows[0] + j)), r1 = _mm512_loadu_si512((const void *)(rows[1] + j));
        __m512i r2 = _mm512_loadu_si512((const void *)(rows[2] + j)), r3 = _mm512_loadu_si512((const void *)(rows[3] + j));
        __m512i t0 = _mm512_unpacklo_epi8(r0, r1), t1 = _mm512_unpackhi_epi8(r0, r1);
        __m512i t2 = _mm512_unpacklo_epi8(r2, r3), t3 = _mm512_unpackhi_epi8(r2, r3);
        // Lane L of u0..u3: columns 16L + 0..3, 4..7, 8..11, 12..15.
        __m512i u0 = _mm512_unpacklo_epi16(t0, t2), u1 = _mm512_unpackhi_epi16(t0, t2);
        __m512i u2 = _mm512_unpacklo_epi16(t1, t3), u3 = _mm512_unpackhi_epi16(t1, t3);
        __m512i a = _mm512_shuffle_i32x4(u0, u1, 0x44), b = _mm512_shuffle_i32x4(u2, u3, 0x44);
        __m512i c = _mm512_shuffle_i32x4(u0, u1, 0xEE), d = _mm512_shuffle_i32x4(u2, u3, 0xEE);
        _mm512_storeu_si512((void *)pack_dst(dst, j, nr, panel_bytes), _mm512_xor_si512(_mm512_shuffle_i32x4(a, b, 0x88), f));
        _mm512_storeu_si512((void *)pack_dst(dst, j + 16, nr, panel_bytes), _mm512_xor_si512(_mm512_shuffle_i32x4(a, b, 0xDD), f));
        _mm512_storeu_si512((void *)pack_dst(dst, j + 32, nr, panel_bytes), _mm512_xor_si512(_mm512_shuffle_i32x4(c, d, 0x88), f));
        _mm512_storeu_si512((void *)pack_dst(dst, j + 48, nr, panel_bytes), _mm512_xor_si512(_mm512_shuffle_i32x4(c, d, 0xDD), f));
    }
    for (; j + 16 <= cols; j += 16) pack16(rows, j, 4, flip, pack_dst(dst, j, nr, panel_bytes));
    // The last columns, then the panel's columns past B (0 ^ flip).
    for (long end = (cols + nr - 1) / nr * nr; j < end; j++) {
        uint8_t *d = pack_dst(dst, j, nr, panel_bytes);
        for (long t = 0; t < 4; t++) d[t] = (uint8_t)((j < cols ? rows[t][j] : 0) ^ flip);
    }
}

// socprof_i8_pack_group for NR = 16 (the AVX2 kernels'), 32 columns (two panels) at a time.
// g = 2 (the exact kernel's): the two rows' bytes interleaved within each 128-bit lane, the lanes
// put in column order. g = 4 (vpmaddubsw's): two rounds of unpacks, which leave columns 0-3, 4-7,
// 8-11, 12-15 in the low lanes of u0..u3 and 16-19 ... 28-31 in the high ones; each panel's 64
// bytes are then two lane pairs. Other shapes go to socprof_i8_pack_group.
__attribute__((target("avx2")))
void socprof_i8_pack_group_avx2(const uint8_t *const *rows, long g, long cols, long nr, long panel_bytes, uint8_t flip, uint8_t *dst) {
    if ((g != 2 && g != 4) || nr != 16) {
        socprof_i8_pack_group(rows, g, cols, nr, panel_bytes, flip, dst);
        return;
    }
    const __m256i f = _mm256_set1_epi8((char)flip);
    long j = 0;
    if (g == 2) {
        for (; j + 32 <= cols; j += 32) {
            __m256i r0 = _mm256_loadu_si256((const __m256i *)(rows[0] + j)), r1 = _mm256_loadu_si256((const __m256i *)(rows[1] + j));
            // Lane 0 of lo: columns 0-7, of hi: 8-15; lane 1: 16-23 and 24-31.
            __m256i lo = _mm256_unpacklo_epi8(r0, r1), hi = _mm256_unpackhi_epi8(r0, r1);
            _mm256_storeu_si256((__m256i *)(dst + (j / 16) * panel_bytes), _mm256_xor_si256(_mm256_permute2x128_si256(lo, hi, 0x20), f));
            _mm256_storeu_si256((__m256i *)(dst + (j / 16 + 1) * panel_bytes), _mm256_xor_si256(_mm256_permute2x128_si256(lo, hi, 0x31), f));
        }
    } else {
        for (; j + 32 <= cols; j += 32) {
            __m256i r0 = _mm256_loadu_si256((const __m256i *)(rows[0] + j)), r1 = _mm256_loadu_si256((const __m256i *)(rows[1] + j));
            __m256i r2 = _mm256_loadu_si256((const __m256i *)(rows[2] + j)), r3 = _mm256_loadu_si256((const __m256i *)(rows[3] + j));
            __m256i t0 = _mm256_unpacklo_epi8(r0, r1), t1 = _mm256_unpackhi_epi8(r0, r1);
            __m256i t2 = _mm256_unpacklo_epi8(r2, r3), t3 = _mm256_unpackhi_epi8(r2, r3);
            __m256i u0 = _mm256_unpacklo_epi16(t0, t2), u1 = _mm256_unpackhi_epi16(t0, t2);
            __m256i u2 = _mm256_unpacklo_epi16(t1, t3), u3 = _mm256_unpackhi_epi16(t1, t3);
            uint8_t *d0 = dst + (j / 16) * panel_bytes, *d1 = d0 + panel_bytes;
            _mm256_storeu_si256((__m256i *)d0, _mm256_xor_si256(_mm256_permute2x128_si256(u0, u1, 0x20), f));
            _mm256_storeu_si256((__m256i *)(d0 + 32), _mm256_xor_si256(_mm256_permute2x128_si256(u2, u3, 0x20), f));
            _mm256_storeu_si256((__m256i *)d1, _mm256_xor_si256(_mm256_permute2x128_si256(u0, u1, 0x31), f));
            _mm256_storeu_si256((__m256i *)(d1 + 32), _mm256_xor_si256(_mm256_permute2x128_si256(u2, u3, 0x31), f));
        }
    }
    // The rest (a whole 16-column stretch with SSE, then bytes, then the last panel's columns past
    // B) as socprof_i8_pack_group does, from the panel j starts (j is a multiple of 32).
    if (j < cols) {
        const uint8_t *rest[4] = {rows[0] + j, rows[1] + j, g == 4 ? rows[2] + j : 0, g == 4 ? rows[3] + j : 0};
        socprof_i8_pack_group(rest, g, cols - j, nr, panel_bytes, flip, dst + (j / 16) * panel_bytes);
    }
}

__attribute__((target("avx512f,avx512bw,avx512vl")))
void socprof_i8_requant_avx512(const int32_t *acc, long ldacc, long rows, long cols, const int32_t *row_add,
                               const float *row_scale, int32_t zp, int32_t lo, int32_t hi, uint8_t *out, long ldout) {
    const i8_rq16 q = i8_rq16_make(zp, lo, hi);
    for (long r = 0; r < rows; r++) {
        const int32_t *src = acc + r * ldacc;
        const __m512i add = _mm512_set1_epi32(row_add[r]);
        const __m512 s = _mm512_set1_ps(row_scale[r]);
        for (long j = 0; j < cols; j += 16) {
            __mmask16 m = cols - j >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (cols - j)) - 1);
            __m512i x = _mm512_add_epi32(_mm512_maskz_loadu_epi32(m, src + j), add);
            i8_store16(out + r * ldout + j, i8_rq16_bytes(&q, x, s), cols - j);
        }
    }
}

__attribute__((target("avx2")))
void socprof_i8_requant_avx2(const int32_t *acc, long ldacc, long rows, long cols, const int32_t *row_add,
                             const float *row_scale, int32_t zp, int32_t lo, int32_t hi, uint8_t *out, long ldout) {
    const float flo = (float)(lo - zp), fhi = (float)(hi - zp);
    const i8_rq8 q8 = i8_rq8_make(zp, lo, hi);
    for (long r = 0; r < rows; r++) {
        const int32_t *src = acc + r * ldacc;
        uint8_t *dst = out + r * ldout;
        const __m256i add = _mm256_set1_epi32(row_add[r]);
        const __m256 s = _mm256_set1_ps(row_scale[r]);
        long j = 0;
        for (; j + 8 <= cols; j += 8) {
            // Each lane's byte (0..255), packed without saturating.
            __m256i q = i8_rq8_lanes(&q8, _mm256_add_epi32(_mm256_loadu_si256((const __m256i *)(src + j)), add), s);
            __m256i w = _mm256_packus_epi32(q, q);
            __m256i bytes = _mm256_packus_epi16(w, w);
            __m128i lo4 = _mm256_castsi256_si128(bytes), hi4 = _mm256_extracti128_si256(bytes, 1);
            _mm_storel_epi64((__m128i *)(dst + j), _mm_unpacklo_epi32(lo4, hi4));
        }
        socprof_i8_requant_row_tail(src, j, cols, row_add[r], row_scale[r], flo, fhi, zp, dst);
    }
}

#else
void socprof_i8_kernel_vnni_8x48(long kq, const int8_t *a, const uint8_t *b, int32_t *c) { (void)kq; (void)a; (void)b; (void)c; }
void socprof_i8_kernel_vnni_8x32(long kq, const int8_t *a, const uint8_t *b, int32_t *c) { (void)kq; (void)a; (void)b; (void)c; }
void socprof_i8_kernel_vnni_8x16(long kq, const int8_t *a, const uint8_t *b, int32_t *c) { (void)kq; (void)a; (void)b; (void)c; }
void socprof_i8_pack_group_avx512(const uint8_t *const *rows, long g, long cols, long nr, long panel_bytes, uint8_t flip, uint8_t *dst) {
    socprof_i8_pack_group(rows, g, cols, nr, panel_bytes, flip, dst);
}
void socprof_i8_gemm_vnni_requant(long kq, const int8_t *a, const uint8_t *b, long panel_bytes, long rows, long cols, const int32_t *row_add,
                                  const float *row_scale, int32_t zp, int32_t lo, int32_t hi, uint8_t *out, long ldout) {
    (void)kq; (void)a; (void)b; (void)panel_bytes; (void)rows; (void)cols; (void)row_add; (void)row_scale; (void)zp; (void)lo; (void)hi;
    (void)out; (void)ldout;
}
void socprof_i8_gemm_vnni_columns(long kq, const int8_t *a, long rows, const uint8_t *bt, long cols, const int32_t *row_add,
                                  const float *row_scale, int32_t zp, int32_t lo, int32_t hi, uint8_t *out, long ldout) {
    (void)kq; (void)a; (void)rows; (void)bt; (void)cols; (void)row_add; (void)row_scale; (void)zp; (void)lo; (void)hi;
    (void)out; (void)ldout;
}
void socprof_i8_kernel_avx2_6x16(long kq, const int16_t *a, const uint8_t *b, int32_t *c) { (void)kq; (void)a; (void)b; (void)c; }
void socprof_i8_kernel_avx2b_6x16(long kq, const int8_t *a, const uint8_t *b, int32_t *c) { (void)kq; (void)a; (void)b; (void)c; }
void socprof_i8_gemm_avx2b_columns(long kq, const int8_t *a, long rows, const uint8_t *bt, long cols, const int32_t *row_add,
                                   const float *row_scale, int32_t zp, int32_t lo, int32_t hi, uint8_t *out, long ldout) {
    (void)kq; (void)a; (void)rows; (void)bt; (void)cols; (void)row_add; (void)row_scale; (void)zp; (void)lo; (void)hi;
    (void)out; (void)ldout;
}
void socprof_i8_gemm_avx2b_requant(long kq, const int8_t *a, const uint8_t *b, long panel_bytes, long rows, long cols, const int32_t *row_add,
                                   const float *row_scale, int32_t zp, int32_t lo, int32_t hi, uint8_t *out, long ldout) {
    (void)kq; (void)a; (void)b; (void)panel_bytes; (void)rows; (void)cols; (void)row_add; (void)row_scale; (void)zp; (void)lo; (void)hi;
    (void)out; (void)ldout;
}
void socprof_i8_gemm_avx2_requant(long kq, const int16_t *a, const uint8_t *b, long panel_bytes, long rows, long cols, const int32_t *row_add,
                                  const float *row_scale, int32_t zp, int32_t lo, int32_t hi, uint8_t *out, long ldout) {
    (void)kq; (void)a; (void)b; (void)panel_bytes; (void)rows; (void)cols; (void)row_add; (void)row_scale; (void)zp; (void)lo; (void)hi;
    (void)out; (void)ldout;
}
void socprof_i8_requant_avx512(const int32_t *acc, long ldacc, long rows, long cols, const int32_t *row_add,
                               const float *row_scale, int32_t zp, int32_t lo, int32_t hi, uint8_t *out, long ldout) {
    socprof_i8_requant_ref(acc, ldacc, rows, cols, row_add, row_scale, zp, lo, hi, out, ldout);
}
void socprof_i8_pack_group_avx2(const uint8_t *const *rows, long g, long cols, long nr, long panel_bytes, uint8_t flip, uint8_t *dst) {
    socprof_i8_pack_group(rows, g, cols, nr, panel_bytes, flip, dst);
}
void socprof_i8_requant_avx2(const int32_t *acc, long ldacc, long rows, long cols, const int32_t *row_add,
                             const float *row_scale, int32_t zp, int32_t lo, int32_t hi, uint8_t *out, long ldout) {
    socprof_i8_requant_ref(acc, ldacc, rows, cols, row_add, row_scale, zp, lo, hi, out, ldout);
}
#endif
