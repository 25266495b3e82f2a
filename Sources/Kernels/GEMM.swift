/// Single-precision matrix multiply, C = A x B (+ C), row-major, blocked for the caches and
/// computed by a register-blocked SIMD microkernel on packed panels (the Goto/BLIS scheme).
public enum GEMM {
    /// Depth of one packed block (rows of B / columns of A), elements.
    static let kc = 256
    /// Rows of A packed per block (kept in L2).
    static let mc = 144
    /// Columns of B packed per block (kept in L3).
    static let nc = 3072

    /// Scratch for one thread's packed panels; allocate once, reuse for every call.
    public final class Workspace: @unchecked Sendable {
        let a: UnsafeMutablePointer<Float>
        let b: UnsafeMutablePointer<Float>
        let tile: UnsafeMutablePointer<Float>

        public init() {
            a = .allocate(capacity: (GEMM.mc + GEMM.mr) * GEMM.kc)
            b = .allocate(capacity: (GEMM.nc + GEMM.nr) * GEMM.kc)
            tile = .allocate(capacity: GEMM.mr * GEMM.nr)
        }

        deinit {
            a.deallocate()
            b.deallocate()
            tile.deallocate()
        }

        /// Bytes it holds.
        public static var bytes: Int { ((GEMM.mc + GEMM.mr) * GEMM.kc + (GEMM.nc + GEMM.nr) * GEMM.kc + GEMM.mr * GEMM.nr) * 4 }
    }

    /// C[m x n] = A[m x k] x B[k x n] (+ C when `accumulate`), one thread. Leading dimensions are
    /// in elements. `k == 0` leaves C (or zeroes it without `accumulate`).
    public static func multiply(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                                c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool = false, workspace: Workspace) {
        guard m > 0, n > 0 else { return }
        if k == 0 {
            if !accumulate { for i in 0..<m { (c + i * ldc).update(repeating: 0, count: n) } }
            return
        }
        var jc = 0
        while jc < n {
            let nb = min(nc, n - jc)
            var pc = 0
            while pc < k {
                let kb = min(kc, k - pc)
                packB(k: kb, n: nb, b: b + pc * ldb + jc, ldb: ldb, into: workspace.b)
                let acc = accumulate || pc > 0
                var ic = 0
                while ic < m {
                    let mb = min(mc, m - ic)
                    packA(m: mb, k: kb, a: a + ic * lda + pc, lda: lda, into: workspace.a)
                    macroKernel(m: mb, n: nb, k: kb, a: workspace.a, b: workspace.b, c: c + ic * ldc + jc, ldc: ldc,
                                accumulate: acc, tile: workspace.tile)
                    ic += mb
                }
                pc += kb
            }
            jc += nb
        }
    }

    /// The same on a thread pool: the rows or columns (whichever has more tiles) are split
    /// between threads, each with its own workspace (`workspaces.count >= pool.count`).
    public static func multiply(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                                c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool = false, pool: ThreadPool, workspaces: [Workspace]) {
        let threads = pool.count
        if threads == 1 || m * n * k < 64 * 64 * 64 {
            multiply(m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc, accumulate: accumulate, workspace: workspaces[0])
            return
        }
        let mTiles = (m + mr - 1) / mr, nTiles = (n + nr - 1) / nr
        pool.run { t in
            if nTiles >= mTiles {
                let r = ThreadPool.share(nTiles, part: t, of: threads)
                let j0 = r.lowerBound * nr, j1 = min(n, r.upperBound * nr)
                guard j1 > j0 else { return }
                multiply(m: m, n: j1 - j0, k: k, a: a, lda: lda, b: b + j0, ldb: ldb, c: c + j0, ldc: ldc,
                         accumulate: accumulate, workspace: workspaces[t])
            } else {
                let r = ThreadPool.share(mTiles, part: t, of: threads)
                let i0 = r.lowerBound * mr, i1 = min(m, r.upperBound * mr)
                guard i1 > i0 else { return }
                multiply(m: i1 - i0, n: n, k: k, a: a + i0 * lda, lda: lda, b: b, ldb: ldb, c: c + i0 * ldc, ldc: ldc,
                         accumulate: accumulate, workspace: workspaces[t])
            }
        }
    }

    /// Packs A[m x k] into MR-row panels, k-major, zero-padding the last panel.
    @inline(__always)
    static func packA(m: Int, k: Int, a: UnsafePointer<Float>, lda: Int, into p: UnsafeMutablePointer<Float>) {
        var dst = p
        var i = 0
        while i < m {
            let rows = min(mr, m - i)
            for kk in 0..<k {
                let src = a + i * lda + kk
                for r in 0..<rows { dst[r] = src[r * lda] }
                for r in rows..<mr { dst[r] = 0 }
                dst += mr
            }
            i += mr
        }
    }

    /// Packs B[k x n] into NR-column panels, k-major, zero-padding the last panel.
    @inline(__always)
    static func packB(k: Int, n: Int, b: UnsafePointer<Float>, ldb: Int, into p: UnsafeMutablePointer<Float>) {
        var dst = p
        var j = 0
        while j < n {
            let cols = min(nr, n - j)
            if cols == nr {
                for kk in 0..<k {
                    (dst + kk * nr).update(from: b + kk * ldb + j, count: nr)
                }
            } else {
                for kk in 0..<k {
                    let d = dst + kk * nr
                    d.update(from: b + kk * ldb + j, count: cols)
                    (d + cols).update(repeating: 0, count: nr - cols)
                }
            }
            dst += k * nr
            j += nr
        }
    }

    @inline(__always)
    static func macroKernel(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>,
                            ldc: Int, accumulate: Bool, tile: UnsafeMutablePointer<Float>) {
        var j = 0
        while j < n {
            let cols = min(nr, n - j)
            let bp = b + (j / nr) * k * nr
            var i = 0
            while i < m {
                let rows = min(mr, m - i)
                let ap = a + (i / mr) * k * mr
                if rows == mr && cols == nr {
                    microkernel(kc: k, a: ap, b: bp, c: c + i * ldc + j, ldc: ldc, accumulate: accumulate)
                } else {
                    // An edge: compute the whole tile aside, then write the part that exists.
                    microkernel(kc: k, a: ap, b: bp, c: tile, ldc: nr, accumulate: false)
                    for r in 0..<rows {
                        let dst = c + (i + r) * ldc + j, src = tile + r * nr
                        if accumulate { for q in 0..<cols { dst[q] += src[q] } } else { dst.update(from: src, count: cols) }
                    }
                }
                i += mr
            }
            j += nr
        }
    }
}
