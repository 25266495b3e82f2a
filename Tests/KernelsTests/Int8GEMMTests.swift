import CInt8Kernels
import Foundation
import Kernels
import Networks
import Testing

/// Every int8 microkernel this CPU runs (VNNI, AVX2 and the reference on this x86-64 host).
let int8Kernels = Int8Kernel.supported

@Suite("Int8 GEMM against a reference loop, every kernel this CPU runs")
struct Int8GEMMTests {
    /// (m, n, k): K = 1...5, odd M and N that are not multiples of any tile, tiles exactly, a K
    /// too long for one B block (the workspace grows), wide N over several B blocks, a last panel
    /// with whole and partial 16-column stretches (85 = 48 + 37).
    static let shapes: [(Int, Int, Int)] = [
        (1, 1, 1), (3, 5, 2), (7, 13, 3), (9, 50, 4), (13, 97, 5), (8, 48, 64), (6, 16, 32), (17, 49, 33),
        (33, 7, 129), (64, 300, 27), (11, 85, 9), (5, 60, 7001), (130, 1500, 72),
    ]

    @Test("int32 sums: uint8 and int8 B, zero points 0 and not, bias, leading dimensions, 1 and 2 threads",
          arguments: int8Kernels, shapes)
    func int32Sums(kernel: Int8Kernel, shape: (Int, Int, Int)) {
        let (m, n, k) = shape
        var rng = Int8Random(UInt64(m * 1_000_003 + n * 1009 + k))
        let lda = k + 3, ldb = n + 5, ldc = n + 2
        let a = rng.weights(m * lda, limit: kernel.weightLimit), bias = rng.ints(m, -100_000...100_000)
        let packed = a.withUnsafeBufferPointer { PackedInt8A(m: m, k: k, weights: $0.baseAddress!, lda: lda, kernel: kernel) }
        #expect(packed.kernel == kernel)
        for (signed, zb, withBias) in [(false, Int32(0), false), (false, 131, true), (false, 255, true), (true, 0, true), (true, -77, false)] {
            let b = rng.bytes(k * ldb)
            let expected = Int8Reference.gemm(m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, zb: zb, signedB: signed, bias: withBias ? bias : nil)
            // Two threads with B packed by both together where the rows are split, and each packing its own.
            for (threads, shared) in [(1, nil), (2, nil), (2, GEMM.SharedB())] {
                let pool = ThreadPool(threads: threads)
                let ws = (0..<threads).map { _ in Int8GEMM.Workspace() }
                var c = [Int32](repeating: 0x5A5A5A5A, count: m * ldc)
                b.withUnsafeBufferPointer { bp in bias.withUnsafeBufferPointer { biasp in c.withUnsafeMutableBufferPointer { cp in
                    let operand = Int8B.dense(DenseInt8B(bp.baseAddress!, ldb: ldb, zeroPoint: zb, signed: signed))
                    Int8GEMM.multiply(packed: packed, n: n, b: operand, output: .int32(cp.baseAddress!, ldc: ldc, bias: withBias ? biasp.baseAddress! : nil),
                                      pool: pool, workspaces: ws, shared: shared)
                } } }
                let got = (0..<m).flatMap { i in c[(i * ldc)..<(i * ldc + n)] }
                let untouched = (0..<m).allSatisfy { i in (n..<ldc).allSatisfy { c[i * ldc + $0] == 0x5A5A5A5A } }
                let wrong = zip(got, expected).filter { $0 != $1 }.count + abs(got.count - expected.count)
                #expect(wrong == 0, "\(kernel) \(m)x\(n)x\(k) signed B \(signed) zb \(zb) bias \(withBias) \(threads) thread(s), shared B \(shared != nil): \(wrong) of \(expected.count) differ")
                #expect(untouched, "columns past n were written")
            }
        }
    }

    @Test("requantized bytes: per-row multipliers, zero points, uint8 and int8 outputs, ReLU/ReLU6 clamps hit at both ends",
          arguments: int8Kernels, [(3, 5, 1), (9, 37, 5), (17, 61, 64), (8, 96, 128), (70, 200, 288), (40, 49, 70), (64, 31, 256)])
    func requantized(kernel: Int8Kernel, shape: (Int, Int, Int)) {
        let (m, n, k) = shape
        var rng = Int8Random(UInt64(m * 7919 + n * 31 + k))
        let a = rng.weights(m * k, limit: kernel.weightLimit), bias = rng.ints(m, -2000...2000)
        let packed = a.withUnsafeBufferPointer { PackedInt8A(m: m, k: k, weights: $0.baseAddress!, lda: k, kernel: kernel) }
        let b = rng.bytes(k * n)
        let zb: Int32 = 119
        let sums = Int8Reference.gemm(m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, zb: zb, signedB: false, bias: bias)
        // Multipliers that put typical sums around +-100 steps: both ends of every range are hit.
        let typical = Float(k).squareRoot() * Float(kernel.weightLimit) * 70
        let multipliers = (0..<m).map { _ in rng.float(40...160) / typical }
        var lowHits = 0, highHits = 0
        let cases: [(QuantParams, Activation?)] = [
            (QuantParams(scale: 0.05, zeroPoint: 0), .relu), (QuantParams(scale: 0.05, zeroPoint: 128), nil),
            (QuantParams(scale: 0.05, zeroPoint: 30), .relu6), (QuantParams(scale: 0.1, zeroPoint: -3, signed: true), nil),
            (QuantParams(scale: 0.02, zeroPoint: 10, signed: true), .relu6),
        ]
        for (params, act) in cases {
            let range = params.clampRange(act)
            let expected = sums.enumerated().map { Int8Reference.requantize($0.element, multipliers[$0.offset / n], zp: params.zeroPoint, range: range) }
            lowHits += expected.filter { Int8Reference.value($0, signed: params.signed) == range.lowerBound }.count
            highHits += expected.filter { Int8Reference.value($0, signed: params.signed) == range.upperBound }.count
            for (threads, shared) in [(1, nil), (2, nil), (2, GEMM.SharedB())] {
                let pool = ThreadPool(threads: threads)
                let ws = (0..<threads).map { _ in Int8GEMM.Workspace() }
                var c = [UInt8](repeating: 0xEE, count: m * n)
                b.withUnsafeBufferPointer { bp in bias.withUnsafeBufferPointer { biasp in multipliers.withUnsafeBufferPointer { mp in c.withUnsafeMutableBufferPointer { cp in
                    let rq = Int8Requantization(bias: biasp.baseAddress!, multipliers: mp.baseAddress!, zeroPoint: params.zeroPoint, range: range)
                    Int8GEMM.multiply(packed: packed, n: n, b: .dense(DenseInt8B(bp.baseAddress!, ldb: n, zeroPoint: zb)),
                                      output: .requantized(cp.baseAddress!, ldc: n, rq), pool: pool, workspaces: ws, shared: shared)
                } } } }
                let wrong = zip(c, expected).filter { $0 != $1 }.count
                #expect(wrong == 0, "\(kernel) \(m)x\(n)x\(k) \(params) \(act?.rawValue ?? "linear") \(threads) thread(s), shared B \(shared != nil): \(wrong) of \(expected.count) differ")
            }
        }
        if m * n >= 45 {
            #expect(lowHits > 0 && highHits > 0, "the data must reach both clamps (low \(lowHits), high \(highHits))")
        }
    }

    /// The sums at their extremes: every weight at +-L (the kernel's `weightLimit`) and every
    /// activation at 0 or 255, so that each pair of neighbouring products a `vpmaddubsw` adds in
    /// int16 is as large as it can be (2 x 255 x 64 = 32640 for `maddubs`, 1 step from saturating).
    @Test("the extremes: weights at +-limit, activations at 0 and 255, exact sums", arguments: int8Kernels)
    func extremes(kernel: Int8Kernel) {
        let m = 13, n = 37, k = 70, l = kernel.weightLimit
        // Rows all +L, all -L, and alternating in runs of 1 to 4 k (each kernel's k group).
        let a: [Int8] = (0..<(m * k)).map { idx in
            let i = idx / k, p = idx % k
            switch i % 3 { case 0: return l; case 1: return -l; default: return (p / (i % 4 + 1)) % 2 == 0 ? l : -l }
        }
        let b: [UInt8] = (0..<(k * n)).map { idx in (idx / n + idx % n) % 5 == 0 ? 0 : 255 }
        let packed = a.withUnsafeBufferPointer { PackedInt8A(m: m, k: k, weights: $0.baseAddress!, lda: k, kernel: kernel) }
        for (signed, zb) in [(false, Int32(0)), (true, Int32(-1))] {
            let expected = Int8Reference.gemm(m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, zb: zb, signedB: signed, bias: nil)
            var c = [Int32](repeating: 0, count: m * n)
            b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
                Int8GEMM.multiply(packed: packed, n: n, b: .dense(DenseInt8B(bp.baseAddress!, ldb: n, zeroPoint: zb, signed: signed)),
                                  output: .int32(cp.baseAddress!, ldc: n, bias: nil), workspace: Int8GEMM.Workspace())
            } }
            let wrong = zip(c, expected).filter { $0 != $1 }.count
            #expect(wrong == 0, "\(kernel) signed B \(signed): \(wrong) of \(expected.count) differ")
            // The data does reach the extremes: a row of +L against a column of 255s.
            if !signed { #expect(expected.max()! >= Int32(l) * 255 * Int32(k) * 3 / 5, "\(kernel): \(expected.max()!)") }
        }
    }

    @Test("every requantization variant this CPU runs gives the definition's bytes, ties and clamps included")
    func requantizationVariants() {
        var rng = Int8Random(5)
        let rows = 7, cols = 37
        var acc = rng.ints(rows * cols, -40_000...40_000)
        // Exact halves: sums that are odd with a multiplier of 0.5 or 0.25.
        for j in 0..<cols { acc[j] = Int32(2 * j - 37); acc[cols + j] = Int32(4 * j - 70) }
        let add = rng.ints(rows, -500...500).enumerated().map { $0.offset < 2 ? 0 : $0.element }
        let scale: [Float] = [0.5, 0.25] + rng.floats(rows - 2, 0.0001...0.02)
        for (zp, lo, hi) in [(Int32(0), Int32(0), Int32(255)), (100, 100, 220), (-5, -128, 127), (0, -20, 6)] {
            let expected = (0..<(rows * cols)).map { Int8Reference.requantize(acc[$0] + add[$0 / cols], scale[$0 / cols], zp: zp, range: lo...hi) }
            var variants: [(String, Bool)] = [("ref", true)]
            #if arch(x86_64)
            variants += [("avx512", Int8Kernel.vnni.isSupported), ("avx2", Int8Kernel.avx2.isSupported)]
            #endif
            for (name, supported) in variants where supported {
                var out = [UInt8](repeating: 0, count: rows * cols)
                acc.withUnsafeBufferPointer { ap in add.withUnsafeBufferPointer { dp in scale.withUnsafeBufferPointer { sp in out.withUnsafeMutableBufferPointer { op in
                    let f: (UnsafePointer<Int32>?, Int, Int, Int, UnsafePointer<Int32>?, UnsafePointer<Float>?, Int32, Int32, Int32, UnsafeMutablePointer<UInt8>?, Int) -> Void
                    switch name { case "avx512": f = socprof_i8_requant_avx512; case "avx2": f = socprof_i8_requant_avx2; default: f = socprof_i8_requant_ref }
                    f(ap.baseAddress, cols, rows, cols, dp.baseAddress, sp.baseAddress, zp, lo, hi, op.baseAddress, cols)
                } } } }
                let wrong = zip(out, expected).filter { $0 != $1 }.count
                #expect(wrong == 0, "\(name) zp \(zp) range \(lo)...\(hi): \(wrong) differ")
            }
        }
    }

    @Test("SOCPROF_INT8_KERNEL: a kernel's name this CPU runs forces it, auto or nothing means the best, anything else is refused")
    func selection() throws {
        #expect(Int8Kernel.supported.last == .reference)
        #expect(Int8Kernel.supported.contains(Int8Kernel.current))
        #expect(try Int8Kernel.override(nil).get() == nil)
        #expect(try Int8Kernel.override("auto").get() == nil)
        #expect(try Int8Kernel.override("reference").get() == .reference)
        #expect(throws: (any Error).self) { try Int8Kernel.override("avx9").get() }
        #if arch(x86_64)
        #expect(throws: (any Error).self) { try Int8Kernel.override("sdot").get() }
        // This host's cpuid flags, read independently of the kernel's check.
        let flags = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        #expect(Int8Kernel.vnni.isSupported == flags.contains(" avx512_vnni"))
        #expect(Int8Kernel.avx2.isSupported == flags.contains(" avx2"))
        #expect(Int8Kernel.maddubs.isSupported == flags.contains(" avx2"))
        // Where AVX-512 VNNI is missing and AVX2 is there, the vpmaddubsw kernel is the best.
        if !Int8Kernel.vnni.isSupported && flags.contains(" avx2") { #expect(Int8Kernel.best == .maddubs) }
        #endif
        #expect(Int8Kernel.allCases.filter { $0.weightLimit != 127 } == [.maddubs] && Int8Kernel.maddubs.weightLimit == 64)
        for kernel in Int8Kernel.allCases {
            #expect(kernel.mr * kernel.nr <= 8 * 48 && kernel.mr <= 16 && kernel.kGroup <= 16, "\(kernel): the workspace's tile and row buffers")
        }
    }
}
