import CInt8Kernels

// The x86 GEMM microkernels written in C rather than generated (Microkernels.swift).
extension GEMM {
    /// `ymm6x16`'s full tile: `socprof_sgemm_6x16_avx2` (sgemm_avx2.c; AVX2 and FMA), C[6 x 16]
    /// (+)= A-panel x B-panel over `kc`, with the generated kernels' arguments. Clang's loop kept
    /// every sum in a register where the generated Swift one ran about 15 % slower in place
    /// (docs/kernels.md).
    static let ymm6x16C: GEMMMicrokernel = { kc, a, astride, b, c, ldc, accumulate in
        socprof_sgemm_6x16_avx2(kc, a, astride, b, c, ldc, accumulate)
    }

    /// `ymm6x16`'s half: `socprof_sgemm_6x8_avx2`, C[6 x 8] (+)= A-panel x the first 8 columns
    /// of a 16-column B panel.
    static let ymm6x8C: GEMMMicrokernel = { kc, a, astride, b, c, ldc, accumulate in
        socprof_sgemm_6x8_avx2(kc, a, astride, b, c, ldc, accumulate)
    }

    /// `ymm6x16`'s full tiles of one B panel in one call, with GEMM's epilogue from the registers
    /// or without: `socprof_sgemm_6x16_avx2_panels`.
    /// (Packed full panels only: the kernel is not `flexiblePanels`, B's k step is always 16 and
    /// so are the columns; nothing is joined.)
    static let ymm6x16CPanels: GEMMPanelsMicrokernel = { kc, a, astride, apanel, panels, b, _, _, c, ldc, accumulate, fused, bias, residual, lo, hi, _ in
        socprof_sgemm_6x16_avx2_panels(kc, a, astride, apanel, panels, b, c, ldc, accumulate, fused, bias, residual, lo, hi)
    }

    #if SOCPROF_AVX512
    /// `zmm8x32`'s full-row tiles of one B panel, full or a last narrower one, packed or read in
    /// place, in one call, with GEMM's epilogue from the registers or without: `socprof_sgemm_8x32_avx512_panels`
    /// (sgemm_avx512.c; AVX-512 F).
    static let zmm8x32CPanels: GEMMPanelsMicrokernel = { kc, a, astride, apanel, panels, b, bstride, bnext, c, ldc, accumulate, fused, bias, residual, lo, hi, cols in
        socprof_sgemm_8x32_avx512_panels(kc, a, astride, apanel, panels, b, bstride, bnext, c, ldc, accumulate, fused, bias, residual, lo, hi,
                                          cols)
    }

    /// The same for `zmm12x32`: `socprof_sgemm_12x32_avx512_panels`.
    static let zmm12x32CPanels: GEMMPanelsMicrokernel = { kc, a, astride, apanel, panels, b, bstride, bnext, c, ldc, accumulate, fused, bias, residual, lo, hi, cols in
        socprof_sgemm_12x32_avx512_panels(kc, a, astride, apanel, panels, b, bstride, bnext, c, ldc, accumulate, fused, bias, residual, lo, hi,
                                           cols)
    }
    #endif

    /// `ymm6x16`'s kernel for a panel's first 1 to 3 columns: `socprof_sgemm_6xn_avx2`.
    static let ymm6xnC: GEMMColumnsMicrokernel = { kc, a, astride, b, c, ldc, accumulate, n in
        socprof_sgemm_6xn_avx2(kc, a, astride, b, c, ldc, accumulate, n)
    }
}
