import CInt8Kernels
import Kernels
import Testing

/// Deterministic test data.
struct TestRandom {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> Float {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Float(Int64(bitPattern: state >> 11) % 2001 - 1000) / 1000
    }
    mutating func array(_ n: Int) -> [Float] { (0..<n).map { _ in next() } }
}

/// Relative-to-scale comparison: |x - y| <= tol * (1 + |y|).
func close(_ x: [Float], _ y: [Float], tolerance: Float = 1e-4) -> Bool {
    x.count == y.count && zip(x, y).allSatisfy { abs($0 - $1) <= tolerance * (1 + abs($1)) }
}

@Suite("GEMM against a reference loop")
struct GEMMTests {
    static func reference(m: Int, n: Int, k: Int, a: [Float], lda: Int, b: [Float], ldb: Int, c: inout [Float], ldc: Int, accumulate: Bool) {
        for i in 0..<m {
            for j in 0..<n {
                var s: Double = accumulate ? Double(c[i * ldc + j]) : 0
                for p in 0..<k { s += Double(a[i * lda + p]) * Double(b[p * ldb + j]) }
                c[i * ldc + j] = Float(s)
            }
        }
    }

    @Test("odd shapes, strides and accumulation, 1 and 2 threads", arguments: [
        (1, 1, 1), (1, 37, 5), (13, 1, 9), (7, 33, 300), (65, 47, 257), (144, 96, 256), (145, 3073, 17), (200, 13, 600),
    ])
    func shapes(m: Int, n: Int, k: Int) {
        var rng = TestRandom(UInt64(m * 1000 + n * 10 + k))
        // Leading dimensions larger than the matrices: the kernels work on sub-matrices.
        let lda = k + 3, ldb = n + 5, ldc = n + 2
        let a = rng.array(m * lda), b = rng.array(k * ldb), c0 = rng.array(m * ldc)
        for accumulate in [false, true] {
            var expected = c0
            Self.reference(m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: &expected, ldc: ldc, accumulate: accumulate)
            for threads in [1, 2] {
                let pool = ThreadPool(threads: threads)
                let ws = (0..<threads).map { _ in GEMM.Workspace() }
                var c = c0
                a.withUnsafeBufferPointer { a in b.withUnsafeBufferPointer { b in c.withUnsafeMutableBufferPointer { c in
                    GEMM.multiply(m: m, n: n, k: k, a: a.baseAddress!, lda: lda, b: b.baseAddress!, ldb: ldb, c: c.baseAddress!, ldc: ldc,
                                  accumulate: accumulate, pool: pool, workspaces: ws)
                } } }
                #expect(close(c, expected), "m=\(m) n=\(n) k=\(k) accumulate=\(accumulate) threads=\(threads)")
                // Padding columns between rows of C are never written.
                for i in 0..<m { for j in n..<ldc { #expect(c[i * ldc + j] == c0[i * ldc + j]) } }
            }
        }
    }

    @Test func zeroDepthClearsOrKeeps() {
        var c: [Float] = [1, 2, 3, 4]
        let ws = GEMM.Workspace()
        let none: [Float] = [0]
        none.withUnsafeBufferPointer { z in c.withUnsafeMutableBufferPointer { c in
            GEMM.multiply(m: 2, n: 2, k: 0, a: z.baseAddress!, lda: 1, b: z.baseAddress!, ldb: 2, c: c.baseAddress!, ldc: 2, accumulate: true, workspace: ws)
        } }
        #expect(c == [1, 2, 3, 4])
        none.withUnsafeBufferPointer { z in c.withUnsafeMutableBufferPointer { c in
            GEMM.multiply(m: 2, n: 2, k: 0, a: z.baseAddress!, lda: 1, b: z.baseAddress!, ldb: 2, c: c.baseAddress!, ldc: 2, workspace: ws)
        } }
        #expect(c == [0, 0, 0, 0])
    }

    @Test("a dense B packs into NR-column panels, k-major, the last panel zero-padded",
          arguments: [(1, 1, 16), (3, 16, 16), (6, 37, 16), (9, 50, 24), (13, 64, 32), (4, 5, 16)])
    func denseBPanels(k: Int, n: Int, nr: Int) {
        // A block of B (rows 2..<2+k, columns 3..<3+n) inside a larger matrix, so that the
        // packing follows ldb and the offsets; every element distinct.
        let ldb = n + 7, k0 = 2, j0 = 3
        let b = (0..<((k + k0) * ldb)).map { Float($0) + 0.5 }
        let panels = (n + nr - 1) / nr
        var p = [Float](repeating: -1, count: panels * k * nr + 5)
        b.withUnsafeBufferPointer { b in p.withUnsafeMutableBufferPointer { p in
            DenseB(b.baseAddress!, ldb: ldb).pack(k0: k0, kb: k, j0: j0, nb: n, nr: nr, into: p.baseAddress!)
        } }
        expectPanels(p, lanes: n, steps: k, width: nr, "k \(k) n \(n) nr \(nr)") { j, kk in b[(k0 + kk) * ldb + j0 + j] }
    }

    @Test("A packs into MR-row panels, k-major, the last panel zero-padded: 4 x 4 blocks and the scalar rest",
          arguments: [(1, 1, 8), (8, 4, 8), (8, 7, 8), (13, 9, 8), (12, 258, 12), (25, 5, 12), (7, 11, 6), (14, 6, 14), (3, 2, 4)])
    func aPanels(m: Int, k: Int, mr: Int) {
        // A block of A (rows 1..<1+m, columns 2..<2+k) inside a larger matrix, so that the
        // packing follows lda and the offsets; every element distinct.
        let lda = k + 5, i0 = 1, k0 = 2
        let a = (0..<((m + i0) * lda)).map { Float($0) + 0.25 }
        let panels = (m + mr - 1) / mr
        var p = [Float](repeating: -1, count: panels * mr * k + 5)
        a.withUnsafeBufferPointer { a in p.withUnsafeMutableBufferPointer { p in
            socprof_pack_a_f32(m, k, mr, a.baseAddress! + i0 * lda + k0, lda, p.baseAddress!)
        } }
        expectPanels(p, lanes: m, steps: k, width: mr, "m \(m) k \(k) mr \(mr)") { i, kk in a[(i0 + i) * lda + k0 + kk] }
    }

    /// Checks packed panels `p` (a GEMM operand's `lanes` rows of A or columns of B, `width` a
    /// panel, each panel k-major over `steps`) against `source(lane, step)`, the last panel's
    /// missing lanes 0, and that nothing after the panels was written (-1 there).
    func expectPanels(_ p: [Float], lanes: Int, steps k: Int, width: Int, _ what: String, source: (Int, Int) -> Float) {
        let panels = (lanes + width - 1) / width
        for q in 0..<panels {
            for kk in 0..<k {
                for r in 0..<width {
                    let lane = q * width + r
                    let expected: Float = lane < lanes ? source(lane, kk) : 0
                    #expect(p[(q * k + kk) * width + r] == expected, "\(what): panel \(q) k step \(kk) lane \(r)")
                }
            }
        }
        #expect(p[(panels * k * width)...].allSatisfy { $0 == -1 }, "\(what): written past the panels")
    }

    @Test func poolRunsEveryIndexOnceAndReusesThreads() {
        let pool = ThreadPool(threads: 3)
        for _ in 0..<50 {
            let hits = UnsafeMutablePointer<Int>.allocate(capacity: 3)
            hits.initialize(repeating: 0, count: 3)
            pool.run { i in hits[i] += 1 }
            #expect((0..<3).map { hits[$0] } == [1, 1, 1])
            hits.deallocate()
        }
        #expect(ThreadPool.share(10, part: 0, of: 3) == 0..<4)
        #expect(ThreadPool.share(10, part: 2, of: 3) == 7..<10)
        // Column splits start on tile boundaries, cover everything once, and balance columns.
        #expect(ThreadPool.shareColumns(196, tile: 32, part: 0, of: 2) == 0..<96)
        #expect(ThreadPool.shareColumns(196, tile: 32, part: 1, of: 2) == 96..<196)
        for n in [1, 31, 49, 196, 3136, 1000] {
            for parts in [1, 2, 3, 5] {
                let ranges = (0..<parts).map { ThreadPool.shareColumns(n, tile: 32, part: $0, of: parts) }
                #expect(ranges.first?.lowerBound == 0 && ranges.last?.upperBound == n)
                for (a, b) in zip(ranges, ranges.dropFirst()) { #expect(a.upperBound == b.lowerBound) }
                #expect(ranges.filter { !$0.isEmpty }.allSatisfy { $0.lowerBound % 32 == 0 }, "n=\(n) parts=\(parts): \(ranges)")
            }
        }
    }
}
