@testable import Kernels
import Testing
import Networks

/// Every GEMM microkernel this CPU can run (GEMMKernel.swift), each passed explicitly, against a
/// reference loop on the shapes around its tile: M, N, K from 1 to past one tile, row and column
/// remainders, K across a KC block, with and without accumulation; and the run-time choice.
@Suite("GEMM kernels chosen at run time")
struct GEMMKernelTests {
    static let kernels = GEMMKernel.runnable(on: .current)
    static let names = kernels.map(\.name)

    /// A[mMax x k] (lda = k + 1), B[k x nMax] (ldb = nMax + 3), C0 and the reference C = A x B
    /// and C0 + A x B, in double; every (m, n) problem is their top-left corner.
    struct Problem {
        let mMax: Int, nMax: Int, k: Int
        let lda: Int, ldb: Int, ldc: Int
        let a: [Float], b: [Float], c0: [Float]
        let product: [Float], accumulated: [Float]

        init(mMax: Int, nMax: Int, k: Int, seed: UInt64) {
            self.mMax = mMax
            self.nMax = nMax
            self.k = k
            lda = k + 1
            ldb = nMax + 3
            ldc = nMax + 2
            var rng = TestRandom(seed)
            a = rng.array(mMax * lda)
            b = rng.array(k * ldb)
            c0 = rng.array(mMax * ldc)
            var p = [Float](repeating: 0, count: mMax * ldc), q = p
            for i in 0..<mMax {
                for j in 0..<nMax {
                    var s: Double = 0
                    for t in 0..<k { s += Double(a[i * lda + t]) * Double(b[t * ldb + j]) }
                    p[i * ldc + j] = Float(s)
                    q[i * ldc + j] = Float(s + Double(c0[i * ldc + j]))
                }
            }
            product = p
            accumulated = q
        }

        /// Runs `body` on C (a copy of C0) and returns the problems found: elements of the m x n
        /// corner off the reference, or anything outside it changed.
        func check(m: Int, n: Int, accumulate: Bool, _ body: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void) -> [String] {
            var c = c0
            a.withUnsafeBufferPointer { a in b.withUnsafeBufferPointer { b in c.withUnsafeMutableBufferPointer { c in
                body(a.baseAddress!, b.baseAddress!, c.baseAddress!)
            } } }
            let expected = accumulate ? accumulated : product
            var problems: [String] = []
            for i in 0..<mMax {
                for j in 0..<ldc {
                    let x = c[i * ldc + j]
                    if i < m && j < n {
                        let y = expected[i * ldc + j]
                        if !(abs(x - y) <= 1e-4 * (1 + abs(y))) { problems.append("C[\(i)][\(j)] = \(x), expected \(y)") }
                    } else if x != c0[i * ldc + j] {
                        problems.append("C[\(i)][\(j)] outside the \(m)x\(n) result was written")
                    }
                    if problems.count >= 3 { return problems }
                }
            }
            return problems
        }
    }

    @Test("this CPU runs the automatic choice")
    func automaticIsRunnable() {
        let auto = GEMMKernel.automatic(for: .current)
        #expect(Self.names.contains(auto.name), "automatic \(auto.name) not among \(Self.names)")
        #expect(Self.kernels.count >= 1)
        #if arch(x86_64)
        #expect(Self.names.contains("ymm6x16"))
        #endif
    }

    @Test("edge shapes: M 1...MR+1 and 2MR+3, N 1 to 3 past a panel, around NR and NR / 2, K 1, 3, KC+1; accumulate on and off", arguments: names)
    func edgeShapes(name: String) {
        let kernel = GEMMKernel.named(name)!
        let ws = GEMM.Workspace()
        let ms = Array(1...(kernel.mr + 1)) + [2 * kernel.mr + 3]
        // (A last panel of 1 to 4 columns, NR / 2 and one to four more: the few-columns and
        // half-width kernels, where the tile has them, or a vector and the columns by lanes or
        // under a mask, where the panel kernel takes edges; and the full one.)
        let ns = [1, 2, kernel.nr / 2, kernel.nr / 2 + 1, kernel.nr / 2 + 4, kernel.nr / 2 + 5, kernel.nr - 1, kernel.nr, kernel.nr + 1,
                  kernel.nr + 3, kernel.nr + 4, 2 * kernel.nr + 5]
        for k in [1, 3, kernel.kc + 1] {
            let problem = Problem(mMax: ms.max()!, nMax: ns.max()!, k: k, seed: UInt64(kernel.mr * 100 + k))
            for m in ms {
                for n in ns {
                    for accumulate in [false, true] {
                        let problems = problem.check(m: m, n: n, accumulate: accumulate) { a, b, c in
                            GEMM.multiply(m: m, n: n, k: k, a: a, lda: problem.lda, b: b, ldb: problem.ldb, c: c, ldc: problem.ldc,
                                          accumulate: accumulate, kernel: kernel, workspace: ws)
                        }
                        #expect(problems.isEmpty, "\(name) m=\(m) n=\(n) k=\(k) accumulate=\(accumulate): \(problems)")
                    }
                }
            }
        }
    }

    @Test("epilogue with a residual: bias, then the residual, then the activation, the same floats as the separate passes; edge shapes, A packed or not, 1 and 2 threads", arguments: names)
    func residualEpilogue(name: String) {
        let kernel = GEMMKernel.named(name)!
        let ms = [1, kernel.mr - 1, kernel.mr, kernel.mr + 1, 2 * kernel.mr + 3].filter { $0 > 0 }
        // (The widest splits between 2 threads: the residual follows C into each part.)
        let ns = [1, 3, kernel.nr / 2 + 1, kernel.nr / 2 + 5, kernel.nr, kernel.nr + 3, kernel.nr + 4, 3 * kernel.nr + 5, 12 * kernel.nr + 5]
        for k in [3, kernel.kc + 1] {
            let problem = Problem(mMax: ms.max()!, nMax: ns.max()!, k: k, seed: UInt64(kernel.nr * 10 + k))
            var rng = TestRandom(UInt64(k))
            let bias = rng.array(problem.mMax), residual = rng.array(problem.mMax * problem.ldc)
            for m in ms {
                let packed = problem.a.withUnsafeBufferPointer { PackedA(m: m, k: k, a: $0.baseAddress!, lda: problem.lda, kernel: kernel) }
                for n in ns {
                    for activation in [nil, Activation.relu, .relu6] {
                        // The separate passes: the GEMM with its bias, then residual and activation.
                        var expected = problem.c0
                        expected.withUnsafeMutableBufferPointer { c in problem.a.withUnsafeBufferPointer { a in problem.b.withUnsafeBufferPointer { b in
                            bias.withUnsafeBufferPointer { bias in
                                GEMM.multiply(m: m, n: n, k: k, a: a.baseAddress!, lda: problem.lda, b: DenseB(b.baseAddress!, ldb: problem.ldb),
                                              c: c.baseAddress!, ldc: problem.ldc, epilogue: GEMMEpilogue(bias: bias.baseAddress!, activation: nil),
                                              kernel: kernel, workspace: GEMM.Workspace())
                            }
                        } } }
                        for i in 0..<m {
                            for j in 0..<n {
                                let x = expected[i * problem.ldc + j] + residual[i * problem.ldc + j]
                                expected[i * problem.ldc + j] = switch activation {
                                case .none: x
                                case .relu: max(x, 0)
                                case .relu6: min(max(x, 0), 6)
                                }
                            }
                        }
                        for threads in [1, 2] {
                            let pool = ThreadPool(threads: threads)
                            let ws = (0..<threads).map { _ in GEMM.Workspace() }
                            for usePacked in [false, true] {
                                var c = problem.c0
                                c.withUnsafeMutableBufferPointer { c in problem.a.withUnsafeBufferPointer { a in problem.b.withUnsafeBufferPointer { b in
                                    bias.withUnsafeBufferPointer { bias in residual.withUnsafeBufferPointer { r in
                                        let epilogue = GEMMEpilogue(bias: bias.baseAddress!, activation: activation,
                                                                    residual: .init(r.baseAddress!, addedTo: c.baseAddress!))
                                        let dense = GEMMB.dense(DenseB(b.baseAddress!, ldb: problem.ldb))
                                        if usePacked {
                                            GEMM.multiply(packed: packed, n: n, b: dense, c: c.baseAddress!, ldc: problem.ldc, epilogue: epilogue,
                                                          pool: pool, workspaces: ws)
                                        } else {
                                            GEMM.multiply(m: m, n: n, k: k, a: a.baseAddress!, lda: problem.lda, b: dense, c: c.baseAddress!,
                                                          ldc: problem.ldc, epilogue: epilogue, kernel: kernel, pool: pool, workspaces: ws)
                                        }
                                    } }
                                } } }
                                let wrong = c.indices.filter { c[$0].bitPattern != expected[$0].bitPattern }
                                #expect(wrong.isEmpty, """
                                    \(name) m=\(m) n=\(n) k=\(k) \(activation.map { "\($0)" } ?? "none") threads=\(threads) packed=\(usePacked): \
                                    \(wrong.count) floats differ, first C[\(wrong.first.map { $0 / problem.ldc } ?? 0)][\(wrong.first.map { $0 % problem.ldc } ?? 0)]
                                    """)
                            }
                        }
                    }
                }
            }
        }
    }

    @Test("small blocking: several KC, MC and NC blocks, 1 and 2 threads", arguments: names)
    func blocks(name: String) {
        let kernel = GEMMKernel.named(name)!.blocking(kc: 16, mc: 2 * GEMMKernel.named(name)!.mr, nc: 2 * GEMMKernel.named(name)!.nr)
        let (m, n, k) = (5 * kernel.mr + 3, 5 * kernel.nr + 5, 50)
        let problem = Problem(mMax: m, nMax: n, k: k, seed: 7)
        for threads in [1, 2] {
            let pool = ThreadPool(threads: threads)
            let ws = (0..<threads).map { _ in GEMM.Workspace() }
            for accumulate in [false, true] {
                let problems = problem.check(m: m, n: n, accumulate: accumulate) { a, b, c in
                    GEMM.multiply(m: m, n: n, k: k, a: a, lda: problem.lda, b: b, ldb: problem.ldb, c: c, ldc: problem.ldc,
                                  accumulate: accumulate, kernel: kernel, pool: pool, workspaces: ws)
                }
                #expect(problems.isEmpty, "\(kernel) threads=\(threads) accumulate=\(accumulate): \(problems)")
            }
        }
    }

    @Test("A packed for the kernel, rows or columns split, B packed or read in place", arguments: names)
    func packed(name: String) {
        let kernel = GEMMKernel.named(name)!
        // Row splits with a row remainder (M = 7 MR + 3, few column tiles) and column splits.
        for (m, n, k) in [(7 * kernel.mr + 3, kernel.nr + 3, 70), (kernel.mr + 1, 9 * kernel.nr + 1, kernel.kc + 9)] {
            let problem = Problem(mMax: m, nMax: n, k: k, seed: UInt64(m * n))
            let packed = problem.a.withUnsafeBufferPointer { PackedA(m: m, k: k, a: $0.baseAddress!, lda: problem.lda, kernel: kernel) }
            #expect(packed.kernel == kernel)
            for threads in [1, 2] {
                let pool = ThreadPool(threads: threads)
                let ws = (0..<threads).map { _ in GEMM.Workspace() }
                let problems = problem.check(m: m, n: n, accumulate: false) { _, b, c in
                    GEMM.multiply(packed: packed, n: n, b: .dense(DenseB(b, ldb: problem.ldb)), c: c, ldc: problem.ldc,
                                  pool: pool, workspaces: ws)
                }
                #expect(problems.isEmpty, "\(name) m=\(m) n=\(n) k=\(k) threads=\(threads): \(problems)")
            }
        }
    }

    @Test func choiceByCPU() {
        let zen4 = GEMMKernel.CPU(vendor: .amd, family: 0x19, model: 0x11, features: .avx512)
        let zen3 = GEMMKernel.CPU(vendor: .amd, family: 0x19, model: 0x21, features: .avx2)
        let intel = GEMMKernel.CPU(vendor: .intel, family: 6, model: 0x8f, features: .avx512)
        #expect(zen4.isZen4 && !zen3.isZen4 && !intel.isZen4)
        #if arch(x86_64)
        #expect(GEMMKernel.automatic(for: zen3).name == "ymm6x16")
        #expect(GEMMKernel.runnable(on: zen3).allSatisfy { $0.needs <= .avx2 })
        if GEMMKernel.all.contains(where: { $0.needs == .avx512 }) {
            #expect(GEMMKernel.automatic(for: intel).name == "zmm12x32")
            #expect(GEMMKernel.automatic(for: zen4).name == GEMMKernel.zen4Choice)
        } else {
            // An AVX2 build (SOCPROF_AVX512 undefined) has no AVX-512 kernel, whatever the CPU.
            #expect(GEMMKernel.automatic(for: zen4).name == "ymm6x16")
        }
        #endif
    }

    @Test("the kernel for B read in place: on full-width AVX-512 a flexible one whose MR divides M, the default if it is one; none on Zen 4 or AVX2")
    func inPlaceChoice() {
        let intel = GEMMKernel.CPU(vendor: .intel, family: 6, model: 0xcf, features: .avx512)
        let zen4 = GEMMKernel.CPU(vendor: .amd, family: 0x19, model: 0x11, features: .avx512)
        let avx2 = GEMMKernel.CPU(vendor: .intel, family: 6, model: 0x3c, features: .avx2)
        for m in [64, 96, 256] {
            #expect(GEMMKernel.inPlace(m: m, cpu: zen4) == nil)
            #expect(GEMMKernel.inPlace(m: m, cpu: avx2) == nil)
        }
        guard let zmm12 = GEMMKernel.named("zmm12x32"), let zmm8 = GEMMKernel.named("zmm8x32") else { return } // an AVX2 build
        #expect(GEMMKernel.inPlace(m: 256, preferred: zmm12, cpu: intel) == zmm8)
        #expect(GEMMKernel.inPlace(m: 64, preferred: zmm12, cpu: intel) == zmm8)
        #expect(GEMMKernel.inPlace(m: 96, preferred: zmm12, cpu: intel) == zmm12)
        #expect(GEMMKernel.inPlace(m: 96, preferred: zmm8, cpu: intel) == zmm8)
        #expect(GEMMKernel.inPlace(m: 100, preferred: zmm12, cpu: intel) == nil)
    }

    @Test("1x1 layers' weights are packed for reading their input in place where its rows are whole lines apart, others for the default kernel")
    func packedKernelOfLayers() throws {
        let intel = GEMMKernel.CPU(vendor: .intel, family: 6, model: 0xcf, features: .avx512)
        let weights = [Float](repeating: 0.5, count: 256 * 64 * 9)
        func kernel(_ conv: Convolution, pixels: Int) throws -> GEMMKernel {
            try weights.withUnsafeBufferPointer { w in
                try #require(LayerKernels.ConvWeights.pack(conv, inputChannels: 64, outputPixels: pixels, weights: w.baseAddress!, cpu: intel)?.first)
                    .kernel
            }
        }
        let pointwise = Convolution(outputChannels: 256, kernel: 1, stride: 1, padding: .none)
        let threeByThree = Convolution(outputChannels: 256, kernel: 3, stride: 1, padding: .same(1))
        let expected = GEMMKernel.inPlace(m: 256, cpu: intel) ?? GEMM.kernel
        #expect(try kernel(pointwise, pixels: 56 * 56) == expected)     // rows 12544 bytes apart
        #expect(try kernel(pointwise, pixels: 7 * 7) == GEMM.kernel)     // rows 196 bytes apart
        #expect(try kernel(threeByThree, pixels: 56 * 56) == GEMM.kernel) // im2col: B packed anyway
        if GEMMKernel.named("zmm8x32") != nil { #expect(expected.name == "zmm8x32") }
    }

    @Test func override() throws {
        let cpu = GEMMKernel.CPU.current
        for value in [nil, "", "auto"] { #expect(try GEMMKernel.override(value, cpu: cpu).get() == nil) }
        let first = GEMMKernel.runnable(on: cpu)[0]
        #expect(try GEMMKernel.override(first.name, cpu: cpu).get() == first)
        let tuned = try #require(try GEMMKernel.override("\(first.name):128,100,1000", cpu: cpu).get())
        #expect((tuned.kc, tuned.mc, tuned.nc) == (128, 100 / first.mr * first.mr, 1000 / first.nr * first.nr))
        for bad in ["zmm99x1", "\(first.name):1,2", "\(first.name):a,b,c", "\(first.name):0,1,1"] {
            guard case .failure(let e) = GEMMKernel.override(bad, cpu: cpu) else {
                Issue.record("\(bad) accepted")
                continue
            }
            #expect(e.description.contains("SOCPROF_GEMM_KERNEL=\(bad)"))
        }
        #if arch(x86_64)
        guard GEMMKernel.named("zmm12x32") != nil else { return }
        let avx2 = GEMMKernel.CPU(vendor: .intel, family: 6, model: 0x3c, features: .avx2)
        guard case .failure(let e) = GEMMKernel.override("zmm12x32", cpu: avx2) else {
            Issue.record("an AVX-512 kernel forced on an AVX2 CPU")
            return
        }
        #expect(e.description.contains("needs avx512"))
        #endif
    }

    @Test("a pooled GEMM splits columns on a tie, rows for a large A unless columns are under 7/8, columns within 9/8 where B is packed")
    func splitChoice() {
        let small: Int64 = 147_456, large: Int64 = 4 << 20
        // A tie with a small A: columns (no barrier); more work in columns: rows.
        #expect(GEMM.splitsColumns(columnWork: 100, rowWork: 100, aBytes: small))
        #expect(!GEMM.splitsColumns(columnWork: 104, rowWork: 100, aBytes: small))
        // ResNet-50's block1/unit3/conv2 at 2 threads (im2col: B packed): 104 against 100 tiles.
        #expect(GEMM.splitsColumns(columnWork: 104, rowWork: 100, aBytes: small, packsB: true))
        #expect(GEMM.splitsColumns(columnWork: 112, rowWork: 100, aBytes: small, packsB: true))
        #expect(!GEMM.splitsColumns(columnWork: 113, rowWork: 100, aBytes: small, packsB: true))
        // A large A (MobileNet's 7x7 layers): rows on a tie, packed B or not; columns under 7/8.
        #expect(!GEMM.splitsColumns(columnWork: 64, rowWork: 64, aBytes: large))
        #expect(!GEMM.splitsColumns(columnWork: 64, rowWork: 64, aBytes: large, packsB: true))
        #expect(GEMM.splitsColumns(columnWork: 55, rowWork: 64, aBytes: large, packsB: true))
    }
}
