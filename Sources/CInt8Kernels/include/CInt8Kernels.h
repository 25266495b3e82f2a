#ifndef SOCPROF_CINT8KERNELS_H
#define SOCPROF_CINT8KERNELS_H

#include <stdbool.h>
#include <stdint.h>

/// The int8 GEMM microkernels and their requantization, one set per CPU family; Kernels
/// (Int8Kernel.swift) picks one at run time from `socprof_i8_cpu_features()`.
///
/// Every microkernel computes one whole MR x NR tile of int32 dot products over `kq` groups of G
/// consecutive k, from zero, into `c` (row-major, NR int32 a row):
///   c[r][j] = sum over k < kq*G of A[r][k] * B[k][j]
/// with A packed [kq][MR][G] (int8; int16 for the AVX2 kernel) and B packed [kq][NR][G] (bytes:
/// uint8 for the x86 and reference kernels, int8 for the ARM kernels). The tile sizes and G are
/// the ones listed beside each kernel; Int8Kernel.swift repeats them. A kernel exists on every
/// target (so that the Swift code links everywhere) but may only be called where
/// `socprof_i8_cpu_features()` says the CPU runs it; elsewhere it is an empty stub.
/// Weights must lie in [-127, 127] (symmetric quantization): the smull/vmull kernels add two
/// int8 x int8 products in int16, which -128 x -128 twice would overflow.

/// Bits of `socprof_i8_cpu_features()`.
#define SOCPROF_I8_X86_AVX2 1        /* x86-64: AVX2 (and the OS saves ymm state) */
#define SOCPROF_I8_X86_AVX512VNNI 2  /* x86-64: AVX-512 F/BW/VL and VNNI (vpdpbusd) */
#define SOCPROF_I8_ARM_NEON 4        /* aarch64 (always) or 32-bit ARM with NEON */
#define SOCPROF_I8_ARM_DOTPROD 8     /* aarch64 with HWCAP_ASIMDDP (Armv8.2 sdot/udot) */
#define SOCPROF_I8_AARCH64 16        /* the code was compiled for aarch64 */
#define SOCPROF_I8_ARMV7 32          /* the code was compiled for 32-bit ARM with NEON */

/// What this CPU can run (cpuid on x86-64, getauxval(AT_HWCAP) on aarch64), read once.
int socprof_i8_cpu_features(void);

/// Portable C, any CPU: MR 4, NR 8, G 4, B uint8.
void socprof_i8_kernel_ref_4x8(long kq, const int8_t *a, const uint8_t *b, int32_t *c);
/// x86-64 AVX-512 VNNI (vpdpbusd): MR 8, NR 48, G 4, B uint8.
void socprof_i8_kernel_vnni_8x48(long kq, const int8_t *a, const uint8_t *b, int32_t *c);
/// The same kernel on the first 32 or 16 columns of a panel packed 48 wide (for a panel's last
/// columns): c keeps its 48 int32 a row, of which the first 32 or 16 are written.
void socprof_i8_kernel_vnni_8x32(long kq, const int8_t *a, const uint8_t *b, int32_t *c);
void socprof_i8_kernel_vnni_8x16(long kq, const int8_t *a, const uint8_t *b, int32_t *c);
/// The VNNI tiles of a panel of A (`a`) by `cols` columns of B packed in 48-column panels from
/// `b`, `panel_bytes` apart (each tile the 48-, 32- or 16-column kernel, whichever covers its
/// columns), requantized from the registers as `socprof_i8_requant_avx512` does: `rows` (at most
/// 8) x `cols` bytes into `out`, `ldout` bytes a row.
void socprof_i8_gemm_vnni_requant(long kq, const int8_t *a, const uint8_t *b, long panel_bytes, long rows, long cols, const int32_t *row_add,
                                  const float *row_scale, int32_t zp, int32_t lo, int32_t hi, uint8_t *out, long ldout);
/// The same for the AVX2 tile (`socprof_i8_kernel_avx2_6x16`; 16-column panels, requantized as
/// `socprof_i8_requant_avx2` does, `rows` at most 6).
void socprof_i8_gemm_avx2_requant(long kq, const int16_t *a, const uint8_t *b, long panel_bytes, long rows, long cols, const int32_t *row_add,
                                  const float *row_scale, int32_t zp, int32_t lo, int32_t hi, uint8_t *out, long ldout);
/// The same for the vpmaddubsw tile (`socprof_i8_kernel_avx2b_6x16`).
void socprof_i8_gemm_avx2b_requant(long kq, const int8_t *a, const uint8_t *b, long panel_bytes, long rows, long cols, const int32_t *row_add,
                                   const float *row_scale, int32_t zp, int32_t lo, int32_t hi, uint8_t *out, long ldout);
/// The VNNI GEMM's last few columns with the output channels in the lanes: `rows` (at most 8)
/// rows, the panel at `a` as packed for the 8 x 48 kernel, by `cols` columns of B packed
/// [column][kq][4] in `bt` (uint8), requantized as `socprof_i8_requant_avx512` with row r's
/// `row_add[r]` and `row_scale[r]`, into `out` (`ldout` bytes a row). A panel's 8 rows x 4 k are
/// a vector as packed, so each column costs one vpdpbusd a group of 4 k instead of a 16-column
/// vector's.
void socprof_i8_gemm_vnni_columns(long kq, const int8_t *a, long rows, const uint8_t *bt, long cols, const int32_t *row_add,
                                  const float *row_scale, int32_t zp, int32_t lo, int32_t hi, uint8_t *out, long ldout);
/// The same for the maddubs GEMM (x86-64 with AVX2): `rows` (at most 6) rows, the panel at `a`
/// as packed for `socprof_i8_kernel_avx2b_6x16` (read up to 8 bytes past its last group), `cols`
/// columns of B packed [column][kq][4]; per group of 4 k, one load of the panel and, per column, a
/// broadcast, `vpmaddubsw`, `vpmaddwd` by ones and an add.
void socprof_i8_gemm_avx2b_columns(long kq, const int8_t *a, long rows, const uint8_t *bt, long cols, const int32_t *row_add,
                                   const float *row_scale, int32_t zp, int32_t lo, int32_t hi, uint8_t *out, long ldout);
/// x86-64 AVX2 (vpmovzxbw + vpmaddwd, exact): MR 6, NR 16, G 2, A int16, B uint8.
void socprof_i8_kernel_avx2_6x16(long kq, const int16_t *a, const uint8_t *b, int32_t *c);
/// x86-64 AVX2 (vpmaddubsw + vpmaddwd by ones): MR 6, NR 16, G 4, A int8 in -64...64 (the int16
/// pair sums saturate for larger weights), B uint8.
void socprof_i8_kernel_avx2b_6x16(long kq, const int8_t *a, const uint8_t *b, int32_t *c);
/// aarch64 Armv8.2 dot product (sdot): MR 8, NR 12, G 4, B int8.
void socprof_i8_kernel_sdot_8x12(long kq, const int8_t *a, const int8_t *b, int32_t *c);
/// aarch64 without dot product (smull/smlal2/sadalp): MR 4, NR 4, G 16, B int8.
void socprof_i8_kernel_smull_4x4(long kq, const int8_t *a, const int8_t *b, int32_t *c);
/// 32-bit ARM NEON (vmull.s8/vmlal.s8/vpadal.s16): MR 4, NR 2, G 16, B int8.
void socprof_i8_kernel_neon32_4x2(long kq, const int8_t *a, const int8_t *b, int32_t *c);

/// Requantization of `rows` x `cols` int32 sums (`acc`, `ldacc` int32 a row) into bytes (`out`,
/// `ldout` bytes a row), row r with its own offset and scale:
///   f = float(acc[r][j] + row_add[r]) * row_scale[r]     (one IEEE single multiply, no FMA)
///   f = min(max(f, lo - zp), hi - zp)
///   q = round_half_to_even(f) + zp                       (by adding 1.5 * 2^23)
///   out[r][j] = q as a byte (two's complement for int8 outputs)
/// Every variant gives the same bytes. lo <= hi, both in [-128, 255] and within 2^21 of zp.
void socprof_i8_requant_ref(const int32_t *acc, long ldacc, long rows, long cols, const int32_t *row_add,
                            const float *row_scale, int32_t zp, int32_t lo, int32_t hi, uint8_t *out, long ldout);
/// The same with AVX-512 (x86-64 with SOCPROF_I8_X86_AVX512VNNI only).
void socprof_i8_requant_avx512(const int32_t *acc, long ldacc, long rows, long cols, const int32_t *row_add,
                               const float *row_scale, int32_t zp, int32_t lo, int32_t hi, uint8_t *out, long ldout);
/// The same with AVX2 (x86-64 with SOCPROF_I8_X86_AVX2 only).
void socprof_i8_requant_avx2(const int32_t *acc, long ldacc, long rows, long cols, const int32_t *row_add,
                             const float *row_scale, int32_t zp, int32_t lo, int32_t hi, uint8_t *out, long ldout);
/// The same with NEON (aarch64, or 32-bit ARM with NEON).
void socprof_i8_requant_neon(const int32_t *acc, long ldacc, long rows, long cols, const int32_t *row_add,
                             const float *row_scale, int32_t zp, int32_t lo, int32_t hi, uint8_t *out, long ldout);

/// Interleaves `g` rows of B (each `cols` bytes, the columns of consecutive panels) into group
/// `p` of each panel: panel q gets, at dst + q * panel_bytes, for column jj < nr and t < g, the
/// byte rows[t][q * nr + jj] ^ flip (0 ^ flip past `cols`). `panel_bytes` = kq * nr * g.
void socprof_i8_pack_group(const uint8_t *const *rows, long g, long cols, long nr, long panel_bytes, uint8_t flip, uint8_t *dst);
/// The same with AVX-512 (x86-64 with SOCPROF_I8_X86_AVX512VNNI only), 64 columns at a time for
/// g = 4 and NR a multiple of 16; other shapes as `socprof_i8_pack_group`.
void socprof_i8_pack_group_avx512(const uint8_t *const *rows, long g, long cols, long nr, long panel_bytes, uint8_t flip, uint8_t *dst);
/// The same with AVX2 (x86-64 with SOCPROF_I8_X86_AVX2 only), 32 columns at a time for g = 2 or 4
/// and NR = 16 (the AVX2 kernels'); other shapes as `socprof_i8_pack_group`.
void socprof_i8_pack_group_avx2(const uint8_t *const *rows, long g, long cols, long nr, long panel_bytes, uint8_t flip, uint8_t *dst);

/// Depthwise convolution of one channel (AVX-512, x86-64 with SOCPROF_I8_X86_AVX512VNNI only; an
/// empty stub elsewhere): the input plane `h` x `w`, the output `oh` x `ow`, a `kh` x `kw` filter
/// moved `stride` pixels both ways, `pt` rows and `pl` columns of padding before the plane (and
/// whatever the output needs after it), all padding zero (the zero point for int8).
typedef struct {
    long h, w, oh, ow, kh, kw, stride, pt, pl;
} socprof_dw_shape;

#define SOCPROF_DW_MAX_TAPS 64

/// How the depthwise functions lay out one shape, worked out once per layer (depthwise_x86.c
/// describes both ways):
/// - `inplace` (3x3, stride 2, or stride 1 with outputs 12 or more wide): the fp32 function reads
///   the plane as it is, and the int8 layers run `socprof_dw3_u8_vnni`; no scratch, nothing else
///   set (not for `socprof_dw_u8_avx512`);
/// - otherwise the sweep: s x s sub-planes (padded row R, padded column C go to sub-plane
///   (R % s, C % s), row R / s, column C / s; `hw` columns a row, `hh` rows, `sub` floats apart),
///   a padded row at `row` (s > 2), the `n` sums at `sums` (row oy of the output at oy * hw),
///   and each tap's offset from a position to the float it reads.
typedef struct {
    socprof_dw_shape shape;
    long inplace;
    long hw, hh, sub, row, sums, n;
    /// Floats of scratch the functions need (64-byte aligned is best).
    long scratch;
    long off[SOCPROF_DW_MAX_TAPS];
} socprof_dw_plan;

/// The padded plane of `shape`: the input with its padding before it, extended to every row and
/// column the output reads (`rows` x `cols`). The depthwise kernels lay their planes, phases and
/// 16-channel grids out on it.
void socprof_dw_padded_size(const socprof_dw_shape *shape, long *rows, long *cols);

/// Fills `plan` for `shape`; 0 when the filter has more than SOCPROF_DW_MAX_TAPS taps or a size,
/// a plane or a stride is below 1.
int socprof_dw_plan_make(const socprof_dw_shape *shape, socprof_dw_plan *plan);

/// The quantized depthwise convolution of one channel: each input byte becomes the exact float
/// (byte ^ flip) - zf (its value less the zero point), laid out on zero-padded planes, one per
/// (row, column) phase of the stride, so that each tap reads consecutive floats; the sums over
/// the taps are exact (every partial sum is an integer below 2^22 when 255 x 127 x taps < 2^22),
/// then requantized as `socprof_i8_requant_ref` does with `bias` as the row's addend:
/// the same bytes as the int32 loops. `zero`: clear the scratch first (the first channel of a
/// layer on this scratch: later channels leave the padding as they found it). Not for an
/// `inplace` plan (`socprof_dw3_u8_vnni` runs those shapes).
void socprof_dw_u8_avx512(const socprof_dw_plan *plan, const uint8_t *src, uint8_t flip, float zf, const int8_t *weights,
                          int32_t bias, float scale, int32_t zp, int32_t lo, int32_t hi, float *scratch, int zero, uint8_t *dst);
/// The same in fp32: dst = min(max(bias + the taps in (ky, kx) order, fused multiply-adds, lo), hi),
/// with `taps` kh x kw floats; an `inplace` plan reads `src` as it is (neither the scratch nor
/// `zero` is used).
void socprof_dw_f32_avx512(const socprof_dw_plan *plan, const float *src, const float *taps, float bias, float lo, float hi,
                           float *scratch, int zero, float *dst);

/// A convolution with few input channels (one group): `c` x `h` x `w` in, `oc` x `oh` x `ow`
/// out, a `kh` x `kw` filter moved `stride` (1 or 2) both ways, `pt` rows and `pl` columns of
/// zero padding before the plane (and what the output needs after it).
typedef struct {
    long c, h, w, oc, oh, ow, kh, kw, stride, pt, pl;
} socprof_direct_shape;

/// Floats of scratch `socprof_direct_f32_avx512` needs (any number of rows).
long socprof_direct_scratch_floats(const socprof_direct_shape *shape);

/// Output rows `oy0 ..< oy1` of the convolution (AVX-512, x86-64 with SOCPROF_I8_X86_AVX512VNNI
/// only; an empty stub elsewhere): weights [oc][c][kh][kw], `bias` (NULL: 0) per output channel,
/// dst [oc][oh][ow] = min(max(bias + the taps in (channel, ky, kx) order, lo), hi). The input rows
/// these rows read are laid out in `scratch` zero-padded, in a ring of rows per input channel,
/// split into the column phases of the stride, and every output vector is summed tap by tap for
/// 8 output channels at once.
void socprof_direct_f32_avx512(const socprof_direct_shape *shape, const float *src, const float *weights, const float *bias, float lo, float hi,
                               long oy0, long oy1, float *scratch, float *dst);
/// The same convolution with AVX2 and FMA (x86-64 only; an empty stub elsewhere), 6 output
/// channels x 16 pixels a block, in the same scratch (`socprof_direct_scratch_floats`).
void socprof_direct_f32_avx2(const socprof_direct_shape *shape, const float *src, const float *weights, const float *bias, float lo, float hi,
                             long oy0, long oy1, float *scratch, float *dst);


/// SGEMM's A packing (every target): A[m x k] (row-major, rows `lda` floats apart) into
/// `mr`-row panels one after the other, each k-major (k step j's `mr` floats at `j * mr`), `mr * k`
/// floats a panel, the last panel's missing rows zero; `p` holds ceil(m / mr) * mr * k floats.
void socprof_pack_a_f32(long m, long k, long mr, const float *a, long lda, float *p);

/// SGEMM's full 6 x 16 tile with AVX2 and FMA (x86 only; an empty stub elsewhere): C[6 x 16]
/// (+)= A-panel x B-panel over `kc`, A packed k-major (`astride` floats a k step), B packed
/// k-major 16 columns, C rows `ldc` floats apart; `accumulate` adds to C, else overwrites it.
void socprof_sgemm_6x16_avx2(long kc, const float *a, long astride, const float *b, float *c, long ldc, bool accumulate);
/// The same tile for one B panel against `panels` full panels of A (`a`, each `apanel` floats
/// after the one before), C's tiles 6 rows apart from `c`, in one call; with `fused`, GEMM's
/// epilogue from the registers before each tile is stored: each row r's bias added (`bias` NULL:
/// none; the first tile's rows from `bias[0]`, the next ones' 6 on), then the tile of `residual`
/// (NULL: none; laid out as C, rows `ldc` floats apart), and the result clamped to [lo, hi].
void socprof_sgemm_6x16_avx2_panels(long kc, const float *a, long astride, long apanel, long panels, const float *b, float *c, long ldc,
                                    bool accumulate, bool fused, const float *bias, const float *residual, float lo, float hi);
/// The same over the first 8 columns of the 16-column B panel: C[6 x 8] (+)= A-panel x B[:, 0..<8].
void socprof_sgemm_6x8_avx2(long kc, const float *a, long astride, const float *b, float *c, long ldc, bool accumulate);
/// The same over the panel's first `n` (1 to 3) columns, one vector a column (rows in lanes):
/// C[6 x n] (+)= A-panel x B[:, 0..<n].
void socprof_sgemm_6xn_avx2(long kc, const float *a, long astride, const float *b, float *c, long ldc, bool accumulate, long n);

/// SGEMM's 8 x 32 tile with AVX-512 F (x86 only; an empty stub elsewhere) for one B panel (32
/// columns, k steps `bstride` floats apart: 32 packed, or a row-major B's leading dimension read
/// in place) against `panels` full 8-row panels of A (`a`, each `apanel` floats after the one
/// before; `astride` floats a k step), C's tiles 8 rows apart from `c` (rows `ldc`
/// floats apart), over the panel's first `cols` (1 to 32) columns, computed and stored in place
/// (a last vector under a mask, a last 1 to 4 columns with the rows in a vector's lanes), or 33
/// to 36: the panel and the first 1 to 4 columns of the next one, `bnext` floats on (a last panel
/// of so few columns joined to the one before);
/// `accumulate` adds to C, else overwrites it; with `fused`, GEMM's epilogue from the registers
/// before each tile is stored: each row r's bias added (`bias` NULL: none; the first tile's rows
/// from `bias[0]`, the next ones' 8 on), then the tile of `residual` (NULL: none; laid out as C),
/// and the result clamped to [lo, hi].
void socprof_sgemm_8x32_avx512_panels(long kc, const float *a, long astride, long apanel, long panels, const float *b, long bstride, long bnext,
                                      float *c, long ldc, bool accumulate, bool fused, const float *bias, const float *residual, float lo, float hi,
                                      long cols);
/// The same with 12-row panels of A (the zmm12x32 tile).
void socprof_sgemm_12x32_avx512_panels(long kc, const float *a, long astride, long apanel, long panels, const float *b, long bstride, long bnext,
                                       float *c, long ldc, bool accumulate, bool fused, const float *bias, const float *residual, float lo, float hi,
                                       long cols);

/// Floats of scratch `socprof_dw8_f32_avx2` needs for `shape`.
long socprof_dw8_f32_avx2_scratch_floats(const socprof_dw_shape *shape);
/// Depthwise convolution in fp32 of `channels` (1 to 8) consecutive channels at once, one channel
/// a lane (AVX2 and FMA, x86-64 only; an empty stub elsewhere): `src`, `weights` (kh x kw a
/// channel), `bias` (NULL: 0) and `dst` start at the group's first channel; each sum is the bias
/// plus the taps in (ky, kx) order by FMA, clamped to [lo, hi]; any kernel size and stride (at
/// most SOCPROF_DW_MAX_TAPS taps).
void socprof_dw8_f32_avx2(const socprof_dw_shape *shape, const float *src, long channels, const float *weights, const float *bias, float lo,
                          float hi, float *scratch, float *dst);

/// The quantized 3x3 depthwise convolution of `channels` channels (planes of `shape`'s h x w
/// bytes from `src`, oh x ow to `dst`), stride 1 or 2, read in place (AVX-512 VNNI, x86-64): each
/// input byte's value is (byte ^ flip) less the zero point `zb` (its uint8 form), the padding
/// the zero point; channel c's int32 sum of `weights[9 c ..< 9 c + 9]` (ky, kx) by those values
/// plus `bias[c]`, requantized with `scale[c]`, `zp`, `lo` and `hi` as `socprof_i8_requant_ref`
/// does: the same bytes as `socprof_dw_u8_avx512` and the int32 loops. Nothing elsewhere.
void socprof_dw3_u8_vnni(const socprof_dw_shape *shape, const uint8_t *src, long channels, uint8_t flip, uint8_t zb, const int8_t *weights,
                         const int32_t *bias, const float *scale, int32_t zp, int32_t lo, int32_t hi, uint8_t *dst);

/// Floats of scratch `socprof_dw16_u8_avx512` needs for `shape`.
long socprof_dw16_scratch_floats(const socprof_dw_shape *shape);
/// Bytes of one group's filter packed by `socprof_dw16_pack` for a kh x kw filter.
long socprof_dw16_packed_bytes(long kh, long kw);
/// Packs a group of `channels` (1 to 16) depthwise filters (`weights`: kh x kw a channel, int8)
/// for `socprof_dw16_u8_avx512`, once per layer: for each filter row and each 4 of its taps, a
/// 64-byte vector holding channel c's 4 taps in int32 lane c (0 past kw and past the channels),
/// then 16 int32: bias[c] - zb x the sum of channel c's weights (zb: the input's zero point as a
/// byte after the flip).
void socprof_dw16_pack(long kh, long kw, long channels, const int8_t *weights, const int32_t *bias, uint8_t zb, uint8_t *packed);
/// The quantized depthwise convolution of `channels` (1 to 16) consecutive channels at once, one
/// channel a lane (AVX-512 VNNI, x86-64 with SOCPROF_I8_X86_AVX512VNNI only; an empty stub
/// elsewhere), for small planes and strided layers: exact int32 sums by vpdpbusd of 4-byte windows
/// of each channel's padded row (uint8: byte ^ flip, the padding the byte zf) by 4 taps of its
/// filter, starting from bias - zf x the channel's weight sum, requantized as
/// `socprof_i8_requant_ref` does (the same bytes as `socprof_dw_u8_avx512` and the int32 loops).
/// `src`, `packed` (the group's `socprof_dw16_pack` with the same zf), `scale` and `dst` start at
/// the group's first channel; any kernel size, stride and taps (at most SOCPROF_DW_MAX_TAPS); `zf`
/// is a whole number from 0 to 255.
void socprof_dw16_u8_avx512(const socprof_dw_shape *shape, const uint8_t *src, long channels, uint8_t flip, float zf, const uint8_t *packed,
                            const float *scale, int32_t zp, int32_t lo, int32_t hi, float *scratch, uint8_t *dst);

/// Floats of scratch `socprof_dw16_u8_avx2` needs for `shape`.
long socprof_dw16_avx2_scratch_floats(const socprof_dw_shape *shape);
/// Bytes of one group's filter packed by `socprof_dw16_avx2_pack` for a kh x kw filter.
long socprof_dw16_avx2_packed_bytes(long kh, long kw);
/// Packs a group of `channels` (1 to 16) depthwise filters (`weights`: kh x kw a channel, int8)
/// for `socprof_dw16_u8_avx2`, once per layer: for each filter row and each 2 of its taps, two
/// 32-byte vectors holding the channels' 2 taps as int16 pairs, one int32 lane a channel
/// (channels 0-3 and 8-11 in the first, 4-7 and 12-15 in the second; 0 past kw and past the
/// channels), then 16 int32 in the same order: bias[c] - zb x the sum of channel c's weights (zb:
/// the input's zero point as a byte after the flip).
void socprof_dw16_avx2_pack(long kh, long kw, long channels, const int8_t *weights, const int32_t *bias, uint8_t zb, uint8_t *packed);
/// `socprof_dw16_u8_avx512`'s convolution (the same arguments, the same bytes) with AVX2 (x86-64
/// with SOCPROF_I8_X86_AVX2; an empty stub elsewhere): exact int32 sums by vpmaddwd of int16
/// pairs of neighbouring pixels by pairs of taps; `packed` is the group's `socprof_dw16_avx2_pack`.
void socprof_dw16_u8_avx2(const socprof_dw_shape *shape, const uint8_t *src, long channels, uint8_t flip, float zf, const uint8_t *packed,
                          const float *scale, int32_t zp, int32_t lo, int32_t hi, float *scratch, uint8_t *dst);

/// A convolution in the channel-blocked layout (nchwc.c): `cin` x `h` x `w` in, `cout` x `oh`
/// x `ow` out (`cout` at most 8 x the weights' output blocks), a `kh` x `kw` filter moved
/// `stride` both ways, `pt`/`pl`/`pb`/`pr` rows and columns of zero padding. The input's channel
/// c of pixel (y, x) is at (c / 8) x `in_block` + (c % 8) x `in_lane` + (y x w + x) x
/// `in_pixel` floats: blocked (NCHW8c) is in_lane 1, in_pixel 8, in_block 8 h w; NCHW is in_lane
/// h w, in_pixel 1, in_block 8 h w. The output (and the residual) is blocked when `out_blocked`,
/// [ceil(cout / 8)][oh][ow][8] with the padding channels written (as 0 for zero weights and
/// bias), else NCHW [cout][oh][ow]. `block_group`: input blocks summed per pass over the output
/// (0: all), so that a pass's weights stay in the caches.
typedef struct {
    long cin, h, w, cout, oh, ow, kh, kw, stride, pt, pl, pb, pr;
    long in_lane, in_pixel, in_block;
    long block_group;
    int out_blocked;
} socprof_nchwc_shape;

/// Output blocks `ob0 ..< ob1` (8 channels each), rows `oy0 ..< oy1`: y = min(max(bias + the
/// taps (by input block, ky, kx, channel) + residual, lo), hi). Weights [ceil(cout / 16)][ceil(cin
/// / 8)][kh][kw][8 in][16 out] (pairs of output blocks interleaved; the padding channels' weights
/// 0), `bias` (NULL: 0) and `residual`
/// (NULL: none; laid out as the output) padded to whole blocks. Baseline C on 8-float vectors
/// (`_avx2`: the same with AVX2 and FMA; elsewhere than x86-64 it is the baseline).
void socprof_nchwc_conv_f32(const socprof_nchwc_shape *shape, const float *x, const float *weights, const float *bias, const float *residual,
                            float lo, float hi, float *y, long ob0, long ob1, long oy0, long oy1);
void socprof_nchwc_conv_f32_avx2(const socprof_nchwc_shape *shape, const float *x, const float *weights, const float *bias, const float *residual,
                                 float lo, float hi, float *y, long ob0, long ob1, long oy0, long oy1);
/// Depthwise (`cin` == `cout` channels, each its own filter), blocked in and out: blocks `b0 ..<
/// b1`, rows `oy0 ..< oy1`; weights [ceil(c / 8)][kh][kw][8], `bias` (NULL: 0) padded to
/// whole blocks.
void socprof_nchwc_depthwise_f32(const socprof_nchwc_shape *shape, const float *x, const float *weights, const float *bias, float lo, float hi,
                                 float *y, long b0, long b1, long oy0, long oy1);
void socprof_nchwc_depthwise_f32_avx2(const socprof_nchwc_shape *shape, const float *x, const float *weights, const float *bias, float lo,
                                      float hi, float *y, long b0, long b1, long oy0, long oy1);

/// Pooling in the blocked layout (a global pool is a window of the whole plane).
typedef struct {
    long h, w, oh, ow, kh, kw, stride, pt, pl, pb, pr;
    /// 1: max (-infinity where a window is all padding), 0: average.
    int max;
    /// Average: divide by the window clipped to the padded plane (1) or by its real elements (0).
    int count_padding;
} socprof_nchwc_pool_shape;

/// Blocks `b0 ..< b1`, rows `oy0 ..< oy1`, blocked in and out.
void socprof_nchwc_pool_f32(const socprof_nchwc_pool_shape *shape, const float *x, float *y, long b0, long b1, long oy0, long oy1);

/// Blocks `b0 ..< b1` of an NCHW tensor of `c` channels of `plane` pixels into the blocked
/// layout (padding channels 0), and back (the padding channels dropped).
void socprof_nchwc_from_nchw(const float *src, long c, long plane, float *dst, long b0, long b1);
void socprof_nchwc_to_nchw(const float *src, long c, long plane, float *dst, long b0, long b1);

#endif
