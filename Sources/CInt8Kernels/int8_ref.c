// The portable int8 microkernel and requantization: plain C, any CPU.
#include "CInt8Kernels.h"
#include "requant_ref.h"
#include "pack16.h"

void socprof_i8_kernel_ref_4x8(long kq, const int8_t *a, const uint8_t *b, int32_t *c) {
    int32_t acc[4][8] = {{0}};
    for (long p = 0; p < kq; p++) {
        for (int r = 0; r < 4; r++)
            for (int j = 0; j < 8; j++)
                for (int t = 0; t < 4; t++)
                    acc[r][j] += (int32_t)a[r * 4 + t] * (int32_t)b[j * 4 + t];
        a += 16;
        b += 32;
    }
    memcpy(c, acc, sizeof acc);
}

void socprof_i8_requant_ref(const int32_t *acc, long ldacc, long rows, long cols, const int32_t *row_add,
                            const float *row_scale, int32_t zp, int32_t lo, int32_t hi, uint8_t *out, long ldout) {
    float flo = (float)(lo - zp), fhi = (float)(hi - zp);
    for (long r = 0; r < rows; r++)
        socprof_i8_requant_row_tail(acc + r * ldacc, 0, cols, row_add[r], row_scale[r], flo, fhi, zp, out + r * ldout);
}


void socprof_i8_pack_group(const uint8_t *const *rows, long g, long cols, long nr, long panel_bytes, uint8_t flip, uint8_t *dst) {
    long panels = (cols + nr - 1) / nr;
    for (long q = 0; q < panels; q++) {
        uint8_t *d = dst + q * panel_bytes;
        long j0 = q * nr, n = cols - j0 < nr ? cols - j0 : nr;
        long j = 0;
        // Whole 16-column stretches of the panel with vectors, the rest byte by byte.
        while (j + 16 <= n && pack16(rows, j0 + j, g, flip, d + g * j)) j += 16;
        for (long t = 0; t < g; t++) {
            const uint8_t *r = rows[t] + j0;
            for (long jj = j; jj < n; jj++) d[g * jj + t] = r[jj] ^ flip;
            for (long jj = n; jj < nr; jj++) d[g * jj + t] = flip;
        }
    }
}
