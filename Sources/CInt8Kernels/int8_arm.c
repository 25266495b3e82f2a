// The ARM int8 microkernels (aarch64: sdot, smull/smlal2/sadalp; 32-bit ARM NEON:
// vmull.s8/vmlal.s8/vpadal.s16) and the NEON requantization. B is int8 here: the caller packs
// uint8 activations with their top bit flipped (b - 128) and corrects the sums by 128 x the
// row's weight sum. Empty stubs on other CPUs, where nothing may call them.
#include "CInt8Kernels.h"
#include "requant_ref.h"

#if defined(__ARM_NEON) && (defined(__aarch64__) || defined(__arm__))
#include <arm_neon.h>

// The smull-style tile, shared by aarch64 (4 x 4) and 32-bit ARM (4 x 2): per group of 16 k, a
// row's 16 weights and a column's 16 activations give 16 products, added in pairs into 8 int16
// (vmull on the low halves, vmlal on the high halves: |a| <= 127 and |b| <= 128, so a pair is at
// most 32512 and cannot overflow) and then into 4 int32 lanes (vpadal). The 4 lanes of each
// (row, column) are added once at the end.
#define SMULL_TILE(NAME, NR)                                                                                  \
    void NAME(long kq, const int8_t *a, const int8_t *b, int32_t *c) {                                      \
        int32x4_t acc[4][NR];                                                                               \
        for (int r = 0; r < 4; r++)                                                                         \
            for (int j = 0; j < NR; j++) acc[r][j] = vdupq_n_s32(0);                                        \
        for (long p = 0; p < kq; p++) {                                                                     \
            int8x16_t av[4], bv[NR];                                                                        \
            _Pragma("clang loop unroll(full)")                                                              \
            for (int r = 0; r < 4; r++) av[r] = vld1q_s8(a + 16 * r);                                       \
            _Pragma("clang loop unroll(full)")                                                              \
            for (int j = 0; j < NR; j++) bv[j] = vld1q_s8(b + 16 * j);                                      \
            _Pragma("clang loop unroll(full)")                                                              \
            for (int r = 0; r < 4; r++)                                                                     \
                _Pragma("clang loop unroll(full)")                                                          \
                for (int j = 0; j < NR; j++) {                                                              \
                    int16x8_t t = vmull_s8(vget_low_s8(av[r]), vget_low_s8(bv[j]));                         \
                    t = MLAL_HIGH(t, av[r], bv[j]);                                                         \
                    acc[r][j] = vpadalq_s16(acc[r][j], t);                                                  \
                }                                                                                           \
            a += 64;                                                                                        \
            b += 16 * NR;                                                                                   \
        }                                                                                                   \
        for (int r = 0; r < 4; r++)                                                                         \
            for (int j = 0; j < NR; j++) c[r * NR + j] = HSUM(acc[r][j]);                                   \
    }

__attribute__((unused)) static inline int32_t hsum_pairwise(int32x4_t v) {
    int32x2_t s = vadd_s32(vget_low_s32(v), vget_high_s32(v));
    return vget_lane_s32(vpadd_s32(s, s), 0);
}

#if defined(__aarch64__)
#define MLAL_HIGH(t, x, y) vmlal_high_s8(t, x, y)
#define HSUM(v) vaddvq_s32(v)
SMULL_TILE(socprof_i8_kernel_smull_4x4, 4)
void socprof_i8_kernel_neon32_4x2(long kq, const int8_t *a, const int8_t *b, int32_t *c) { (void)kq; (void)a; (void)b; (void)c; }

// Armv8.2 dot product, 8 x 12: 24 accumulators (8 rows x 3 vectors of 4 columns), 3 B vectors
// (4 columns x 4 k each) and 2 A vectors (4 rows x 4 k each); `sdot v.4s, b.16b, a.4b[row]`
// adds, in each column's lane, the 4 products of that column with the row's 4 weights.
__attribute__((target("dotprod")))
void socprof_i8_kernel_sdot_8x12(long kq, const int8_t *a, const int8_t *b, int32_t *c) {
    int32x4_t acc[8][3];
    for (int r = 0; r < 8; r++)
        for (int v = 0; v < 3; v++) acc[r][v] = vdupq_n_s32(0);
    for (long p = 0; p < kq; p++) {
        int8x16_t b0 = vld1q_s8(b), b1 = vld1q_s8(b + 16), b2 = vld1q_s8(b + 32);
        int8x16_t a0 = vld1q_s8(a), a1 = vld1q_s8(a + 16);
#define ROW(r, av, lane)                                        \
        acc[r][0] = vdotq_laneq_s32(acc[r][0], b0, av, lane);   \
        acc[r][1] = vdotq_laneq_s32(acc[r][1], b1, av, lane);   \
        acc[r][2] = vdotq_laneq_s32(acc[r][2], b2, av, lane);
        ROW(0, a0, 0) ROW(1, a0, 1) ROW(2, a0, 2) ROW(3, a0, 3)
        ROW(4, a1, 0) ROW(5, a1, 1) ROW(6, a1, 2) ROW(7, a1, 3)
#undef ROW
        a += 32;
        b += 48;
    }
    for (int r = 0; r < 8; r++)
        for (int v = 0; v < 3; v++) vst1q_s32(c + r * 12 + v * 4, acc[r][v]);
}
#else
#define MLAL_HIGH(t, x, y) vmlal_s8(t, vget_high_s8(x), vget_high_s8(y))
#define HSUM(v) hsum_pairwise(v)
SMULL_TILE(socprof_i8_kernel_neon32_4x2, 2)
void socprof_i8_kernel_smull_4x4(long kq, const int8_t *a, const int8_t *b, int32_t *c) { (void)kq; (void)a; (void)b; (void)c; }
void socprof_i8_kernel_sdot_8x12(long kq, const int8_t *a, const int8_t *b, int32_t *c) { (void)kq; (void)a; (void)b; (void)c; }
#endif

// 8 columns at a time; the same arithmetic as socprof_i8_requant_one (vcvtq_f32_s32 rounds to
// nearest like the C conversion, the magic constant rounds half to even, vmovn keeps low bytes).
void socprof_i8_requant_neon(const int32_t *acc, long ldacc, long rows, long cols, const int32_t *row_add,
                             const float *row_scale, int32_t zp, int32_t lo, int32_t hi, uint8_t *out, long ldout) {
    float flo = (float)(lo - zp), fhi = (float)(hi - zp);
    const float32x4_t vlo = vdupq_n_f32(flo), vhi = vdupq_n_f32(fhi), magic = vdupq_n_f32(SOCPROF_I8_MAGIC);
    const int32x4_t vzp = vdupq_n_s32(zp - SOCPROF_I8_MAGIC_BITS);
    for (long r = 0; r < rows; r++) {
        const int32_t *src = acc + r * ldacc;
        uint8_t *dst = out + r * ldout;
        const int32x4_t add = vdupq_n_s32(row_add[r]);
        const float32x4_t s = vdupq_n_f32(row_scale[r]);
        long j = 0;
        for (; j + 8 <= cols; j += 8) {
            float32x4_t f0 = vmulq_f32(vcvtq_f32_s32(vaddq_s32(vld1q_s32(src + j), add)), s);
            float32x4_t f1 = vmulq_f32(vcvtq_f32_s32(vaddq_s32(vld1q_s32(src + j + 4), add)), s);
            f0 = vaddq_f32(vminq_f32(vmaxq_f32(f0, vlo), vhi), magic);
            f1 = vaddq_f32(vminq_f32(vmaxq_f32(f1, vlo), vhi), magic);
            int32x4_t q0 = vaddq_s32(vreinterpretq_s32_f32(f0), vzp);
            int32x4_t q1 = vaddq_s32(vreinterpretq_s32_f32(f1), vzp);
            int8x8_t bytes = vmovn_s16(vcombine_s16(vmovn_s32(q0), vmovn_s32(q1)));
            vst1_u8(dst + j, vreinterpret_u8_s8(bytes));
        }
        socprof_i8_requant_row_tail(src, j, cols, row_add[r], row_scale[r], flo, fhi, zp, dst);
    }
}

#else
void socprof_i8_kernel_sdot_8x12(long kq, const int8_t *a, const int8_t *b, int32_t *c) { (void)kq; (void)a; (void)b; (void)c; }
void socprof_i8_kernel_smull_4x4(long kq, const int8_t *a, const int8_t *b, int32_t *c) { (void)kq; (void)a; (void)b; (void)c; }
void socprof_i8_kernel_neon32_4x2(long kq, const int8_t *a, const int8_t *b, int32_t *c) { (void)kq; (void)a; (void)b; (void)c; }
void socprof_i8_requant_neon(const int32_t *acc, long ldacc, long rows, long cols, const int32_t *row_add,
                             const float *row_scale, int32_t zp, int32_t lo, int32_t hi, uint8_t *out, long ldout) {
    socprof_i8_requant_ref(acc, ldacc, rows, cols, row_add, row_scale, zp, lo, hi, out, ldout);
}
#endif
