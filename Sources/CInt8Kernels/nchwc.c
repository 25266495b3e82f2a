// The channel-blocked (NCHW8c) fp32 kernels: direct convolution (any filter, stride and padding,
// one group), depthwise convolution, pooling and the layout's reorders. A blocked tensor holds
// its channels in blocks of 8, [C / 8][H][W][8], the last block padded with zero channels, so
// that one 8-float vector is 8 channels of one pixel: the output tile is 2 blocks (16 channels)
// x 6 pixels of a row, 12 vector sums, and each step broadcasts one input value per pixel and
// loads two vectors of weights, one cache line ([ob / 2][ib][kh][kw][8 in][16 out]); no im2col and no packing of the
// input, which a GEMM convolution does for every image. onnxruntime's MLAS runs convolutions so
// (its NCHWc kernels, 8 floats a block with AVX2).
//
// The bodies (nchwc_body.h) are written once on clang's 8-float vectors and compiled here twice
// on x86-64, for AVX2 and FMA and for the baseline, and once elsewhere (NEON on aarch64 and
// armv7: a vector is two registers). See CInt8Kernels.h.
#include "CInt8Kernels.h"
#include <string.h>

// Loads and stores are expressions, not functions: a function returning an 8-float vector
// changes its ABI between the targets compiled here. (Unaligned, and may alias floats.)
typedef float nc_v8 __attribute__((vector_size(32), aligned(4), may_alias));
#define nc_load(p) (*(const nc_v8 *)(const void *)(p))
#define nc_store(p, v) (*(nc_v8 *)(void *)(p) = (v))

// Block `b`'s 8 channels of pixel `pix` of an output-shaped tensor: one vector when the output is
// blocked, else gathered from (scattered to) the planes of NCHW, the channels past `cout` read
// as 0 (not written).
#define nc_get(t, s, b, pix, plane)                                                   \
    ({                                                                                \
        nc_v8 v_ = (nc_v8){0};                                                        \
        if ((s)->out_blocked) {                                                       \
            v_ = nc_load((t) + ((b) * (plane) + (pix)) * 8);                          \
        } else {                                                                      \
            const long n_ = (s)->cout - (b) * 8 < 8 ? (s)->cout - (b) * 8 : 8;        \
            for (long c_ = 0; c_ < n_; c_++) v_[c_] = (t)[((b) * 8 + c_) * (plane) + (pix)]; \
        }                                                                             \
        v_;                                                                           \
    })
#define nc_put(t, s, b, pix, plane, v)                                                \
    do {                                                                              \
        if ((s)->out_blocked) {                                                       \
            nc_store((t) + ((b) * (plane) + (pix)) * 8, (v));                         \
        } else {                                                                      \
            const nc_v8 w_ = (v);                                                     \
            const long n_ = (s)->cout - (b) * 8 < 8 ? (s)->cout - (b) * 8 : 8;        \
            for (long c_ = 0; c_ < n_; c_++) (t)[((b) * 8 + c_) * (plane) + (pix)] = w_[c_]; \
        }                                                                             \
    } while (0)

#define NC_INLINE __attribute__((always_inline)) static inline
#define NC_FN
#define NC(name) name
#define NC_KEEP(v) ((void)0)
#include "nchwc_body.h"
#undef NC_KEEP
#undef NC
#undef NC_FN
#undef NC_INLINE

#if defined(__x86_64__)
#define NC_INLINE __attribute__((target("avx2,fma"), always_inline)) static inline
#define NC_FN __attribute__((target("avx2,fma")))
#define NC(name) name##_avx2
// A vector the compiler must keep in a register (it would fold its load into every
// multiply-add that reads it again).
#define NC_KEEP(v) __asm__("" : "+x"(v))
#include "nchwc_body.h"
#undef NC_KEEP
#undef NC
#undef NC_FN
#undef NC_INLINE
#else
void socprof_nchwc_conv_f32_avx2(const socprof_nchwc_shape *s, const float *x, const float *w, const float *bias, const float *res, float lo,
                                 float hi, float *y, long ob0, long ob1, long oy0, long oy1) {
    socprof_nchwc_conv_f32(s, x, w, bias, res, lo, hi, y, ob0, ob1, oy0, oy1);
}
void socprof_nchwc_depthwise_f32_avx2(const socprof_nchwc_shape *s, const float *x, const float *w, const float *bias, float lo, float hi,
                                      float *y, long b0, long b1, long oy0, long oy1) {
    socprof_nchwc_depthwise_f32(s, x, w, bias, lo, hi, y, b0, b1, oy0, oy1);
}
#endif

void socprof_nchwc_from_nchw(const float *src, long c, long plane, float *dst, long b0, long b1) {
    for (long b = b0; b < b1; b++) {
        const long n = c - b * 8 < 8 ? c - b * 8 : 8;
        float *d = dst + b * plane * 8;
        for (long p = 0; p < plane; p++) {
            long l = 0;
            for (; l < n; l++) d[p * 8 + l] = src[(b * 8 + l) * plane + p];
            for (; l < 8; l++) d[p * 8 + l] = 0;
        }
    }
}

void socprof_nchwc_to_nchw(const float *src, long c, long plane, float *dst, long b0, long b1) {
    for (long b = b0; b < b1; b++) {
        const long n = c - b * 8 < 8 ? c - b * 8 : 8;
        const float *s = src + b * plane * 8;
        for (long l = 0; l < n; l++) {
            float *d = dst + (b * 8 + l) * plane;
            for (long p = 0; p < plane; p++) d[p] = s[p * 8 + l];
        }
    }
}

void socprof_nchwc_pool_f32(const socprof_nchwc_pool_shape *s, const float *x, float *y, long b0, long b1, long oy0, long oy1) {
    for (long b = b0; b < b1; b++) {
        const float *xb = x + b * s->h * s->w * 8;
        for (long oy = oy0; oy < oy1; oy++) {
            const long iy0 = oy * s->stride - s->pt;
            const long ky0 = iy0 < 0 ? -iy0 : 0, ky1 = s->kh < s->h - iy0 ? s->kh : s->h - iy0;
            for (long ox = 0; ox < s->ow; ox++) {
                const long ix0 = ox * s->stride - s->pl;
                const long kx0 = ix0 < 0 ? -ix0 : 0, kx1 = s->kw < s->w - ix0 ? s->kw : s->w - ix0;
                nc_v8 acc = s->max ? (nc_v8){0} - __builtin_inff() : (nc_v8){0};
                for (long ky = ky0; ky < ky1; ky++) {
                    const float *xr = xb + ((iy0 + ky) * s->w + ix0) * 8;
                    for (long kx = kx0; kx < kx1; kx++) {
                        const nc_v8 v = nc_load(xr + kx * 8);
                        acc = s->max ? __builtin_elementwise_max(acc, v) : acc + v;
                    }
                }
                if (!s->max) {
                    // Divided by the window's real elements, or by the window clipped to the
                    // padded plane where padding counts (as LayerKernels.pooling does).
                    long count = (ky1 - ky0) * (kx1 - kx0);
                    if (s->count_padding) {
                        const long ye = iy0 + s->kh < s->h + s->pb ? iy0 + s->kh : s->h + s->pb;
                        const long xe = ix0 + s->kw < s->w + s->pr ? ix0 + s->kw : s->w + s->pr;
                        count = (ye - iy0) * (xe - ix0);
                    }
                    acc = count > 0 ? acc / (float)count : (nc_v8){0};
                }
                nc_store(y + (b * s->oh * s->ow + oy * s->ow + ox) * 8, acc);
            }
        }
    }
}
