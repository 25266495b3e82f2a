// The aarch64 GEMM microkernels for in-order Cortex cores: C[8x12] (+)= A-panel x B-panel over kc,
// with the packing contract of GEMM.microkernel in Sources/Kernels/Microkernels.swift (A packed
// k-major 8 rows, B packed k-major 12 columns, C row-major with leading dimension ldc floats).
//
//   void socprof_sgemm_8x12_a53(long kc, const float *a, const float *b, float *c, long ldc, int accumulate);
//   void socprof_sgemm_8x12_a55(...);  (the same arguments)
//
// Both do the 24 `fmla v.4s, v.4s, v.s[i]` of each k step in the same order (row by row) and differ
// only in where the loads go:
//   a55: 64-bit loads (`ldr d`, `ldr x` and `ins v.d[1], x`), one after each of most fmla, so that
//        they dual-issue with them; the next step's operands go to a second B bank (v5-v7) and to
//        v0 once its last fmla has issued. Two k steps per iteration.
//   a53: the five 128-bit loads of the next step together after a step's 24 fmla. LLVM's in-order
//        Cortex-A53 model retires writes in order, so a 4-cycle load issued after a 10-cycle fmla
//        waits for it: there, every load between fmla costs 6 cycles and the a55 schedule runs at
//        0.23 fmla/cycle; one group per step costs them once (see docs/kernels.md).
// The last k steps (one or two) run in a plain loop, shared: the a53 kernel branches into the
// a55 kernel's (.Lsgemm_8x12_rest), as does the store of C. Written for socprof (scripts/bench/arm-kernels
// measures both); the tile and register layout follow the Swift kernel's.
#if defined(__aarch64__) && defined(__ELF__)

// Both kernels start alike: d8-d15 (callee-saved) to the stack, the 24 accumulators to zero.
        .macro  SGEMM_8X12_ENTER
        stp     d8, d9, [sp, #-64]!
        stp     d10, d11, [sp, #16]
        stp     d12, d13, [sp, #32]
        stp     d14, d15, [sp, #48]
        movi    v8.16b, #0
        movi    v9.16b, #0
        movi    v10.16b, #0
        movi    v11.16b, #0
        movi    v12.16b, #0
        movi    v13.16b, #0
        movi    v14.16b, #0
        movi    v15.16b, #0
        movi    v16.16b, #0
        movi    v17.16b, #0
        movi    v18.16b, #0
        movi    v19.16b, #0
        movi    v20.16b, #0
        movi    v21.16b, #0
        movi    v22.16b, #0
        movi    v23.16b, #0
        movi    v24.16b, #0
        movi    v25.16b, #0
        movi    v26.16b, #0
        movi    v27.16b, #0
        movi    v28.16b, #0
        movi    v29.16b, #0
        movi    v30.16b, #0
        movi    v31.16b, #0
        .endm

// Cortex-A55 schedule: 64-bit loads spread between the fmla.
        .text
        .p2align 6
        .globl  socprof_sgemm_8x12_a55
        .type   socprof_sgemm_8x12_a55, %function
socprof_sgemm_8x12_a55:
        // x0 = kc, x1 = A panel (k-major, 8 floats per k), x2 = B panel (k-major, 12 floats per
        // k), x3 = C, x4 = ldc (floats), w5 = accumulate. v8-v31: the 8x12 accumulators (row r,
        // columns 4j..4j+3 in v(8+3r+j)); d8-d15 are callee-saved.
        SGEMM_8X12_ENTER
        // Two k steps per iteration while at least 3 remain (the loads run one step ahead).
        cmp     x0, #3
        b.lt    .La55_rest
        ldr     q0, [x1]
        ldp     q2, q3, [x2]
        ldr     q4, [x2, #32]
.La55_loop:
        fmla    v8.4s, v2.4s, v0.s[0]
        ldr     d1, [x1, #16]
        fmla    v9.4s, v3.4s, v0.s[0]
        ldr     x9, [x1, #24]
        fmla    v10.4s, v4.4s, v0.s[0]
        ldr     d5, [x2, #48]
        fmla    v11.4s, v2.4s, v0.s[1]
        ldr     x10, [x2, #56]
        fmla    v12.4s, v3.4s, v0.s[1]
        ldr     d6, [x2, #64]
        fmla    v13.4s, v4.4s, v0.s[1]
        ins     v1.d[1], x9
        fmla    v14.4s, v2.4s, v0.s[2]
        ldr     x11, [x2, #72]
        fmla    v15.4s, v3.4s, v0.s[2]
        ins     v5.d[1], x10
        fmla    v16.4s, v4.4s, v0.s[2]
        fmla    v17.4s, v2.4s, v0.s[3]
        fmla    v18.4s, v3.4s, v0.s[3]
        ins     v6.d[1], x11
        fmla    v19.4s, v4.4s, v0.s[3]
        fmla    v20.4s, v2.4s, v1.s[0]
        ldr     d0, [x1, #32]
        fmla    v21.4s, v3.4s, v1.s[0]
        ldr     x13, [x1, #40]
        fmla    v22.4s, v4.4s, v1.s[0]
        ldr     d7, [x2, #80]
        fmla    v23.4s, v2.4s, v1.s[1]
        ldr     x12, [x2, #88]
        fmla    v24.4s, v3.4s, v1.s[1]
        fmla    v25.4s, v4.4s, v1.s[1]
        ins     v0.d[1], x13
        fmla    v26.4s, v2.4s, v1.s[2]
        fmla    v27.4s, v3.4s, v1.s[2]
        ins     v7.d[1], x12
        fmla    v28.4s, v4.4s, v1.s[2]
        fmla    v29.4s, v2.4s, v1.s[3]
        fmla    v30.4s, v3.4s, v1.s[3]
        fmla    v31.4s, v4.4s, v1.s[3]
        fmla    v8.4s, v5.4s, v0.s[0]
        ldr     d1, [x1, #48]
        fmla    v9.4s, v6.4s, v0.s[0]
        ldr     x9, [x1, #56]
        fmla    v10.4s, v7.4s, v0.s[0]
        ldr     d2, [x2, #96]
        fmla    v11.4s, v5.4s, v0.s[1]
        ldr     x10, [x2, #104]
        fmla    v12.4s, v6.4s, v0.s[1]
        ldr     d3, [x2, #112]
        fmla    v13.4s, v7.4s, v0.s[1]
        ins     v1.d[1], x9
        fmla    v14.4s, v5.4s, v0.s[2]
        ldr     x11, [x2, #120]
        fmla    v15.4s, v6.4s, v0.s[2]
        ins     v2.d[1], x10
        fmla    v16.4s, v7.4s, v0.s[2]
        fmla    v17.4s, v5.4s, v0.s[3]
        fmla    v18.4s, v6.4s, v0.s[3]
        ins     v3.d[1], x11
        fmla    v19.4s, v7.4s, v0.s[3]
        fmla    v20.4s, v5.4s, v1.s[0]
        ldr     d0, [x1, #64]
        fmla    v21.4s, v6.4s, v1.s[0]
        ldr     x13, [x1, #72]
        fmla    v22.4s, v7.4s, v1.s[0]
        ldr     d4, [x2, #128]
        fmla    v23.4s, v5.4s, v1.s[1]
        ldr     x12, [x2, #136]
        fmla    v24.4s, v6.4s, v1.s[1]
        add     x1, x1, #64
        fmla    v25.4s, v7.4s, v1.s[1]
        ins     v0.d[1], x13
        fmla    v26.4s, v5.4s, v1.s[2]
        add     x2, x2, #96
        fmla    v27.4s, v6.4s, v1.s[2]
        ins     v4.d[1], x12
        fmla    v28.4s, v7.4s, v1.s[2]
        sub     x0, x0, #2
        fmla    v29.4s, v5.4s, v1.s[3]
        cmp     x0, #3
        fmla    v30.4s, v6.4s, v1.s[3]
        fmla    v31.4s, v7.4s, v1.s[3]
        b.ge    .La55_loop
.La55_rest:
.Lsgemm_8x12_rest:       // the a53 kernel joins here: x0 = k steps left (0 to 2), x1/x2 at the next step
        cbz     x0, .La55_store
.La55_tail:
        ldp     q0, q1, [x1], #32
        ld1     {v2.4s, v3.4s, v4.4s}, [x2], #48
        fmla    v8.4s, v2.4s, v0.s[0]
        fmla    v9.4s, v3.4s, v0.s[0]
        fmla    v10.4s, v4.4s, v0.s[0]
        fmla    v11.4s, v2.4s, v0.s[1]
        fmla    v12.4s, v3.4s, v0.s[1]
        fmla    v13.4s, v4.4s, v0.s[1]
        fmla    v14.4s, v2.4s, v0.s[2]
        fmla    v15.4s, v3.4s, v0.s[2]
        fmla    v16.4s, v4.4s, v0.s[2]
        fmla    v17.4s, v2.4s, v0.s[3]
        fmla    v18.4s, v3.4s, v0.s[3]
        fmla    v19.4s, v4.4s, v0.s[3]
        fmla    v20.4s, v2.4s, v1.s[0]
        fmla    v21.4s, v3.4s, v1.s[0]
        fmla    v22.4s, v4.4s, v1.s[0]
        fmla    v23.4s, v2.4s, v1.s[1]
        fmla    v24.4s, v3.4s, v1.s[1]
        fmla    v25.4s, v4.4s, v1.s[1]
        fmla    v26.4s, v2.4s, v1.s[2]
        fmla    v27.4s, v3.4s, v1.s[2]
        fmla    v28.4s, v4.4s, v1.s[2]
        fmla    v29.4s, v2.4s, v1.s[3]
        fmla    v30.4s, v3.4s, v1.s[3]
        fmla    v31.4s, v4.4s, v1.s[3]
        subs    x0, x0, #1
        b.ne    .La55_tail
.La55_store:
        lsl     x4, x4, #2
        cbz     w5, .La55_set
        ld1     {v0.4s, v1.4s, v2.4s}, [x3]
        fadd    v8.4s, v8.4s, v0.4s
        fadd    v9.4s, v9.4s, v1.4s
        fadd    v10.4s, v10.4s, v2.4s
        st1     {v8.4s, v9.4s, v10.4s}, [x3], x4
        ld1     {v0.4s, v1.4s, v2.4s}, [x3]
        fadd    v11.4s, v11.4s, v0.4s
        fadd    v12.4s, v12.4s, v1.4s
        fadd    v13.4s, v13.4s, v2.4s
        st1     {v11.4s, v12.4s, v13.4s}, [x3], x4
        ld1     {v0.4s, v1.4s, v2.4s}, [x3]
        fadd    v14.4s, v14.4s, v0.4s
        fadd    v15.4s, v15.4s, v1.4s
        fadd    v16.4s, v16.4s, v2.4s
        st1     {v14.4s, v15.4s, v16.4s}, [x3], x4
        ld1     {v0.4s, v1.4s, v2.4s}, [x3]
        fadd    v17.4s, v17.4s, v0.4s
        fadd    v18.4s, v18.4s, v1.4s
        fadd    v19.4s, v19.4s, v2.4s
        st1     {v17.4s, v18.4s, v19.4s}, [x3], x4
        ld1     {v0.4s, v1.4s, v2.4s}, [x3]
        fadd    v20.4s, v20.4s, v0.4s
        fadd    v21.4s, v21.4s, v1.4s
        fadd    v22.4s, v22.4s, v2.4s
        st1     {v20.4s, v21.4s, v22.4s}, [x3], x4
        ld1     {v0.4s, v1.4s, v2.4s}, [x3]
        fadd    v23.4s, v23.4s, v0.4s
        fadd    v24.4s, v24.4s, v1.4s
        fadd    v25.4s, v25.4s, v2.4s
        st1     {v23.4s, v24.4s, v25.4s}, [x3], x4
        ld1     {v0.4s, v1.4s, v2.4s}, [x3]
        fadd    v26.4s, v26.4s, v0.4s
        fadd    v27.4s, v27.4s, v1.4s
        fadd    v28.4s, v28.4s, v2.4s
        st1     {v26.4s, v27.4s, v28.4s}, [x3], x4
        ld1     {v0.4s, v1.4s, v2.4s}, [x3]
        fadd    v29.4s, v29.4s, v0.4s
        fadd    v30.4s, v30.4s, v1.4s
        fadd    v31.4s, v31.4s, v2.4s
        st1     {v29.4s, v30.4s, v31.4s}, [x3], x4
        b       .La55_done
.La55_set:
        st1     {v8.4s, v9.4s, v10.4s}, [x3], x4
        st1     {v11.4s, v12.4s, v13.4s}, [x3], x4
        st1     {v14.4s, v15.4s, v16.4s}, [x3], x4
        st1     {v17.4s, v18.4s, v19.4s}, [x3], x4
        st1     {v20.4s, v21.4s, v22.4s}, [x3], x4
        st1     {v23.4s, v24.4s, v25.4s}, [x3], x4
        st1     {v26.4s, v27.4s, v28.4s}, [x3], x4
        st1     {v29.4s, v30.4s, v31.4s}, [x3], x4
.La55_done:
        ldp     d14, d15, [sp, #48]
        ldp     d12, d13, [sp, #32]
        ldp     d10, d11, [sp, #16]
        ldp     d8, d9, [sp], #64
        ret
        .size   socprof_sgemm_8x12_a55, .-socprof_sgemm_8x12_a55

// Cortex-A53 schedule: each step's 128-bit loads grouped after its fmla.
        .text
        .p2align 6
        .globl  socprof_sgemm_8x12_a53
        .type   socprof_sgemm_8x12_a53, %function
socprof_sgemm_8x12_a53:
        // x0 = kc, x1 = A panel (k-major, 8 floats per k), x2 = B panel (k-major, 12 floats per
        // k), x3 = C, x4 = ldc (floats), w5 = accumulate. v8-v31: the 8x12 accumulators (row r,
        // columns 4j..4j+3 in v(8+3r+j)); d8-d15 are callee-saved.
        SGEMM_8X12_ENTER
        // One k step per iteration, its fmla first and then the next step's loads (kc-1 times), then
        // the last step's fmla; x0 is then 0.
        cmp     x0, #2
        b.lt    .Lsgemm_8x12_rest
        ldr     q0, [x1, #0]
        ldr     q2, [x2, #0]
        ldr     q3, [x2, #16]
        ldr     q4, [x2, #32]
        ldr     q1, [x1, #16]
        sub     x0, x0, #1
.La53_loop:
        fmla    v8.4s, v2.4s, v0.s[0]
        fmla    v9.4s, v3.4s, v0.s[0]
        fmla    v10.4s, v4.4s, v0.s[0]
        fmla    v11.4s, v2.4s, v0.s[1]
        fmla    v12.4s, v3.4s, v0.s[1]
        fmla    v13.4s, v4.4s, v0.s[1]
        fmla    v14.4s, v2.4s, v0.s[2]
        fmla    v15.4s, v3.4s, v0.s[2]
        fmla    v16.4s, v4.4s, v0.s[2]
        fmla    v17.4s, v2.4s, v0.s[3]
        fmla    v18.4s, v3.4s, v0.s[3]
        fmla    v19.4s, v4.4s, v0.s[3]
        fmla    v20.4s, v2.4s, v1.s[0]
        fmla    v21.4s, v3.4s, v1.s[0]
        fmla    v22.4s, v4.4s, v1.s[0]
        fmla    v23.4s, v2.4s, v1.s[1]
        fmla    v24.4s, v3.4s, v1.s[1]
        fmla    v25.4s, v4.4s, v1.s[1]
        fmla    v26.4s, v2.4s, v1.s[2]
        fmla    v27.4s, v3.4s, v1.s[2]
        fmla    v28.4s, v4.4s, v1.s[2]
        fmla    v29.4s, v2.4s, v1.s[3]
        fmla    v30.4s, v3.4s, v1.s[3]
        fmla    v31.4s, v4.4s, v1.s[3]
        ldr     q0, [x1, #32]
        ldr     q2, [x2, #48]
        ldr     q3, [x2, #64]
        ldr     q4, [x2, #80]
        ldr     q1, [x1, #48]
        add     x1, x1, #32
        add     x2, x2, #48
        subs    x0, x0, #1
        b.ne    .La53_loop
        fmla    v8.4s, v2.4s, v0.s[0]
        fmla    v9.4s, v3.4s, v0.s[0]
        fmla    v10.4s, v4.4s, v0.s[0]
        fmla    v11.4s, v2.4s, v0.s[1]
        fmla    v12.4s, v3.4s, v0.s[1]
        fmla    v13.4s, v4.4s, v0.s[1]
        fmla    v14.4s, v2.4s, v0.s[2]
        fmla    v15.4s, v3.4s, v0.s[2]
        fmla    v16.4s, v4.4s, v0.s[2]
        fmla    v17.4s, v2.4s, v0.s[3]
        fmla    v18.4s, v3.4s, v0.s[3]
        fmla    v19.4s, v4.4s, v0.s[3]
        fmla    v20.4s, v2.4s, v1.s[0]
        fmla    v21.4s, v3.4s, v1.s[0]
        fmla    v22.4s, v4.4s, v1.s[0]
        fmla    v23.4s, v2.4s, v1.s[1]
        fmla    v24.4s, v3.4s, v1.s[1]
        fmla    v25.4s, v4.4s, v1.s[1]
        fmla    v26.4s, v2.4s, v1.s[2]
        fmla    v27.4s, v3.4s, v1.s[2]
        fmla    v28.4s, v4.4s, v1.s[2]
        fmla    v29.4s, v2.4s, v1.s[3]
        fmla    v30.4s, v3.4s, v1.s[3]
        fmla    v31.4s, v4.4s, v1.s[3]
        // The last k steps, the store and the return are the a55 kernel's (the same registers
        // and stack frame from here on).
        b       .Lsgemm_8x12_rest
        .size   socprof_sgemm_8x12_a53, .-socprof_sgemm_8x12_a53
#endif

#if defined(__ELF__)
        .section .note.GNU-stack,"",%progbits
#endif
