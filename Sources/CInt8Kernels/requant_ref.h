// One requantized byte, as every requantization variant computes it (see CInt8Kernels.h).
#ifndef SOCPROF_REQUANT_REF_H
#define SOCPROF_REQUANT_REF_H
#include <stdint.h>
#include <string.h>
#pragma STDC FP_CONTRACT OFF

/// 1.5 * 2^23: adding it rounds a float of magnitude below 2^22 to an integer, half to even, in
/// the low mantissa bits.
#define SOCPROF_I8_MAGIC 12582912.0f
#define SOCPROF_I8_MAGIC_BITS 0x4B400000

static inline uint8_t socprof_i8_requant_one(int32_t x, float scale, float flo, float fhi, int32_t zp) {
    float f = (float)x * scale;
    f = f < flo ? flo : f;
    f = f > fhi ? fhi : f;
    f = f + SOCPROF_I8_MAGIC;
    int32_t bits;
    memcpy(&bits, &f, sizeof bits);
    return (uint8_t)(bits - SOCPROF_I8_MAGIC_BITS + zp);
}

static inline void socprof_i8_requant_row_tail(const int32_t *acc, long j, long cols, int32_t add, float scale,
                                               float flo, float fhi, int32_t zp, uint8_t *out) {
    for (; j < cols; j++) out[j] = socprof_i8_requant_one(acc[j] + add, scale, flo, fhi, zp);
}
#endif
