import CInt8Kernels
import Networks

/// The B operand of a GEMM: something that can pack a block of itself into NR-column panels.
/// A dense matrix copies rows; a convolution's input builds im2col columns on the fly, so that the
/// column matrix is never written out whole.
public protocol GEMMOperandB {
    /// Packs rows `k0..<k0+kb` and columns `j0..<j0+nb` into `nr`-wide panels (the kernel's NR),
    /// k-major, each panel `kb * nr` floats, the last one zero-padded.
    func pack(k0: Int, kb: Int, j0: Int, nb: Int, nr: Int, into p: UnsafeMutablePointer<Float>)
    /// The operand as a row-major matrix (its first element, its leading dimension in floats),
    /// where it is one: GEMM may then read it in place instead of packing it (`GEMM.inPlaceB`).
    var rowMajor: (b: UnsafePointer<Float>, ldb: Int)? { get }
}

extension GEMMOperandB {
    /// None: the operand must be packed.
    public var rowMajor: (b: UnsafePointer<Float>, ldb: Int)? { nil }
}

/// A row-major matrix as the B operand.
public struct DenseB: GEMMOperandB {
    public let b: UnsafePointer<Float>
    public let ldb: Int
    public init(_ b: UnsafePointer<Float>, ldb: Int) { self.b = b; self.ldb = ldb }
    @inline(__always)
    public func pack(k0: Int, kb: Int, j0: Int, nb: Int, nr: Int, into p: UnsafeMutablePointer<Float>) {
        GEMM.packB(k: kb, n: nb, nr: nr, b: b + k0 * ldb + j0, ldb: ldb, into: p)
    }
    public var rowMajor: (b: UnsafePointer<Float>, ldb: Int)? { (b, ldb) }
}

/// The B operands the threaded GEMM takes: concrete, so that its pool jobs are not generic.
public enum GEMMB: GEMMOperandB {
    case dense(DenseB)
    case im2col(Im2colB)

    @inline(__always)
    public func pack(k0: Int, kb: Int, j0: Int, nb: Int, nr: Int, into p: UnsafeMutablePointer<Float>) {
        switch self {
        case .dense(let b): b.pack(k0: k0, kb: kb, j0: j0, nb: nb, nr: nr, into: p)
        case .im2col(let b): b.pack(k0: k0, kb: kb, j0: j0, nb: nb, nr: nr, into: p)
        }
    }

    public var rowMajor: (b: UnsafePointer<Float>, ldb: Int)? {
        if case .dense(let b) = self { return b.rowMajor }
        return nil
    }
}

/// What to apply to C once its last K block is accumulated, while each tile is still in L1: a
/// bias per row of C (an output channel), then a residual (a tensor laid out as C, added
/// element by element: a residual connection's other input), then an activation. The order is
/// that of a convolution's bias followed by a separate add layer, so the floats are the same.
public struct GEMMEpilogue {
    /// A tensor added to C element by element: `values` laid out as the C the GEMM writes, which
    /// starts at `c` (the same leading dimension), so that C's element at `c + d` has its residual
    /// at `values + d`.
    public struct Residual {
        public let values: UnsafePointer<Float>
        public let c: UnsafeMutablePointer<Float>
        public init(_ values: UnsafePointer<Float>, addedTo c: UnsafeMutablePointer<Float>) {
            self.values = values
            self.c = c
        }

        /// The residual of C's element at `p`.
        @inline(__always)
        func at(_ p: UnsafeMutablePointer<Float>) -> UnsafePointer<Float> { values + (p - c) }
    }

    public let bias: UnsafePointer<Float>?
    public let activation: Activation?
    public let residual: Residual?
    public init(bias: UnsafePointer<Float>?, activation: Activation?, residual: Residual? = nil) {
        self.bias = bias
        self.activation = activation
        self.residual = residual
    }

    /// The activation's bounds: C is clamped to lo...hi (infinite where it does not clamp).
    var bounds: (lo: Float, hi: Float) { DirectConvolution.bounds(activation) }

    @inline(__always)
    func apply(_ c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, cols: Int, firstRow: Int) {
        for r in 0..<rows {
            let p = c + r * ldc
            let b = bias?[firstRow + r] ?? 0
            if let s = residual?.at(p) {
                switch activation {
                case .none: for q in 0..<cols { p[q] = (p[q] + b) + s[q] }
                case .relu: for q in 0..<cols { p[q] = max((p[q] + b) + s[q], 0) }
                case .relu6: for q in 0..<cols { p[q] = min(max((p[q] + b) + s[q], 0), 6) }
                }
                continue
            }
            switch activation {
            case .none: if bias != nil { for q in 0..<cols { p[q] += b } }
            case .relu: for q in 0..<cols { p[q] = max(p[q] + b, 0) }
            case .relu6: for q in 0..<cols { p[q] = min(max(p[q] + b, 0), 6) }
            }
        }
    }
}

/// An A operand packed once into a microkernel's panel layout, for constant matrices (a layer's
/// weights): per KC block of columns, MR-row panels k-major, zero-padded. GEMM then reads it as
/// is, on every call and from every thread, instead of packing A each time, with the kernel it
/// was packed for.
// Sendable: packed in `init`, read-only afterwards.
public final class PackedA: @unchecked Sendable {
    public let m: Int
    public let k: Int
    /// The kernel whose tile and blocking the panels follow.
    public let kernel: GEMMKernel
    let data: UnsafeMutablePointer<Float>
    let panels: Int

    public init(m: Int, k: Int, a: UnsafePointer<Float>, lda: Int, kernel: GEMMKernel = GEMM.kernel) {
        self.m = m
        self.k = k
        self.kernel = kernel
        let mr = kernel.mr
        panels = (m + mr - 1) / mr
        data = .allocate(capacity: max(1, panels * mr * k))
        var pc = 0
        while pc < k {
            let kb = min(kernel.kcBlock(k), k - pc)
            GEMM.packA(m: m, k: kb, mr: mr, a: a + pc, lda: lda, into: data + pc * panels * mr)
            pc += kb
        }
    }

    deinit { data.deallocate() }

    /// Bytes it holds.
    public var bytes: Int64 { Int64(panels * kernel.mr * k) * 4 }

    /// The panels of rows `i0...` in the KC block starting at column `pc` (kb wide).
    @inline(__always)
    func block(pc: Int, firstRow i0: Int, kb: Int) -> UnsafePointer<Float> {
        let mr = kernel.mr
        return UnsafePointer(data + pc * panels * mr + (i0 / mr) * kb * mr)
    }
}

/// Single-precision matrix multiply, C = A x B (+ C), row-major, blocked for the caches and
/// computed by a register-blocked SIMD microkernel on packed panels (the Goto/BLIS scheme). The
/// tile and the blocking are a `GEMMKernel`'s, chosen at run time (`GEMM.kernel`).
public enum GEMM {
    /// Scratch for one thread's packed panels; allocate once, reuse for every call. Large enough
    /// for every compiled kernel with its own blocking (`GEMMKernel.all`) and for `GEMM.kernel`.
    // Sendable: each belongs to one pool thread, which alone writes it.
    public final class Workspace: @unchecked Sendable {
        let a: UnsafeMutablePointer<Float>
        let b: UnsafeMutablePointer<Float>
        let tile: UnsafeMutablePointer<Float>

        /// Floats of the A block, the B block and the edge tile.
        static let counts: (a: Int, b: Int, tile: Int) = {
            var a = 0, b = 0, tile = 0
            for k in GEMMKernel.all + [GEMM.kernel] {
                a = max(a, (k.mc + k.mr) * k.kc)
                b = max(b, (k.nc + k.nr) * k.kc)
                tile = max(tile, k.mr * k.nr)
            }
            return (a, b, tile)
        }()

        public init() {
            a = .allocate(capacity: Self.counts.a)
            b = .allocate(capacity: Self.counts.b)
            tile = .allocate(capacity: Self.counts.tile)
        }

        deinit {
            a.deallocate()
            b.deallocate()
            tile.deallocate()
        }

        /// Whether `kernel`'s blocks fit.
        func fits(_ kernel: GEMMKernel) -> Bool {
            (kernel.mc + kernel.mr) * kernel.kc <= Self.counts.a && (kernel.nc + kernel.nr) * kernel.kc <= Self.counts.b
                && kernel.mr * kernel.nr <= Self.counts.tile
        }

        /// Bytes it holds.
        public static var bytes: Int { (counts.a + counts.b + counts.tile) * 4 }

        /// The B panel buffer as scratch for kernels that do not run a GEMM (depthwise
        /// convolution), `scratchCount` floats.
        var scratch: UnsafeMutablePointer<Float> { b }
        static var scratchCount: Int { counts.b }
    }

    /// A B operand packed whole (all of K) and shared by the threads of a pool, for int8 GEMMs
    /// whose rows are split between threads: each thread packs part of it, once. (The fp32 GEMM
    /// packed its B this way until 2026-12-07: `multiply(packed:n:b:...)`.)
    // Sendable: within a GEMM each thread packs its own columns, and the pool's barrier orders the
    // packing before any thread reads.
    public final class SharedB: @unchecked Sendable {
        /// Capacity, floats.
        public let capacity: Int
        let data: UnsafeMutablePointer<Float>
        public init(capacity: Int = 1 << 21) {
            self.capacity = capacity
            data = .allocate(capacity: capacity)
        }
        deinit { data.deallocate() }
    }

    /// C[m x n] = A[m x k] x B[k x n] (+ C when `accumulate`), one thread. Leading dimensions are
    /// in elements. `k == 0` leaves C (or zeroes it without `accumulate`).
    public static func multiply(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                                c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool = false, kernel: GEMMKernel = GEMM.kernel,
                                workspace: Workspace) {
        multiply(m: m, n: n, k: k, a: a, lda: lda, b: DenseB(b, ldb: ldb), c: c, ldc: ldc, accumulate: accumulate, kernel: kernel,
                 workspace: workspace)
    }

    /// C[m x n] = A[m x k] x B (+ C) for any packable B, one thread. `jOffset` is the first column
    /// of B this call covers (C starts there).
    @inline(__always)
    public static func multiply<B: GEMMOperandB>(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: B, jOffset: Int = 0,
                                                 c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool = false, epilogue: GEMMEpilogue? = nil,
                                                 iOffset: Int = 0, kernel: GEMMKernel = GEMM.kernel, workspace: Workspace) {
        guard m > 0, n > 0 else { return }
        if k == 0 {
            if !accumulate { for i in 0..<m { (c + i * ldc).update(repeating: 0, count: n) } }
            return
        }
        precondition(workspace.fits(kernel), "GEMM: \(kernel) does not fit a Workspace")
        let kc = kernel.kcBlock(k), mc = kernel.mcBlock(m), nc = kernel.ncBlock(n)
        var jc = 0
        while jc < n {
            let nb = min(nc, n - jc)
            var pc = 0
            while pc < k {
                let kb = min(kc, k - pc)
                b.pack(k0: pc, kb: kb, j0: jOffset + jc, nb: nb, nr: kernel.nr, into: workspace.b)
                let acc = accumulate || pc > 0
                var ic = 0
                while ic < m {
                    let mb = min(mc, m - ic)
                    packA(m: mb, k: kb, mr: kernel.mr, a: a + ic * lda + pc, lda: lda, into: workspace.a)
                    macroKernel(kernel, m: mb, n: nb, k: kb, a: workspace.a, b: workspace.b, c: c + ic * ldc + jc, ldc: ldc,
                                accumulate: acc, tile: workspace.tile, epilogue: pc + kb == k ? epilogue : nil, firstRow: iOffset + ic)
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
                                c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool = false, kernel: GEMMKernel = GEMM.kernel,
                                pool: ThreadPool, workspaces: [Workspace]) {
        multiply(m: m, n: n, k: k, a: a, lda: lda, b: .dense(DenseB(b, ldb: ldb)), c: c, ldc: ldc, accumulate: accumulate, kernel: kernel,
                 pool: pool, workspaces: workspaces)
    }

    /// The same on a thread pool: the rows or columns (whichever has more tiles) are split
    /// between threads, each with its own workspace (`workspaces.count >= pool.count`).
    public static func multiply(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: GEMMB,
                                c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool = false, epilogue: GEMMEpilogue? = nil,
                                kernel: GEMMKernel = GEMM.kernel, pool: ThreadPool, workspaces: [Workspace]) {
        if pool.count == 1 || Int64(m) * Int64(n) * Int64(k) < 64 * 64 * 64 {
            multiply(m: m, n: n, k: k, a: a, lda: lda, b: b, c: c, ldc: ldc, accumulate: accumulate, epilogue: epilogue, kernel: kernel,
                     workspace: workspaces[0])
            return
        }
        var job = SplitJob(m: m, n: n, k: k, a: a, lda: lda, b: b, c: c, ldc: ldc, accumulate: accumulate, epilogue: epilogue,
                           kernel: kernel, threads: pool.count, workspaces: workspaces)
        pool.run(&job)
    }

    struct SplitJob: PoolJob {
        let m: Int, n: Int, k: Int
        let a: UnsafePointer<Float>, lda: Int
        let b: GEMMB
        let c: UnsafeMutablePointer<Float>, ldc: Int
        let accumulate: Bool
        let epilogue: GEMMEpilogue?
        let kernel: GEMMKernel
        let threads: Int
        let workspaces: [Workspace]
        static let function: ThreadPool.JobFunction = { p, t in p!.assumingMemoryBound(to: SplitJob.self).pointee.work(t) }

        func work(_ t: Int) {
            let mr = kernel.mr, nr = kernel.nr
            let mTiles = (m + mr - 1) / mr, nTiles = (n + nr - 1) / nr
            if nTiles >= mTiles {
                let r = ThreadPool.shareColumns(n, tile: nr, part: t, of: threads)
                let j0 = r.lowerBound, j1 = r.upperBound
                guard j1 > j0 else { return }
                multiply(m: m, n: j1 - j0, k: k, a: a, lda: lda, b: b, jOffset: j0, c: c + j0, ldc: ldc,
                         accumulate: accumulate, epilogue: epilogue, kernel: kernel, workspace: workspaces[t])
            } else {
                let r = ThreadPool.share(mTiles, part: t, of: threads)
                let i0 = r.lowerBound * mr, i1 = min(m, r.upperBound * mr)
                guard i1 > i0 else { return }
                multiply(m: i1 - i0, n: n, k: k, a: a + i0 * lda, lda: lda, b: b, c: c + i0 * ldc, ldc: ldc,
                         accumulate: accumulate, epilogue: epilogue, iOffset: i0, kernel: kernel, workspace: workspaces[t])
            }
        }
    }

    /// C[rows i0..<i0+m of A] = A x B with A packed in advance (and the kernel it was packed
    /// for), one thread; `i0` is a multiple of that kernel's MR.
    public static func multiply<B: GEMMOperandB>(packed: PackedA, rows i0: Int, m: Int, n: Int, b: B, jOffset: Int = 0,
                                                 c: UnsafeMutablePointer<Float>, ldc: Int, epilogue: GEMMEpilogue? = nil, workspace: Workspace) {
        let k = packed.k, kernel = packed.kernel
        guard m > 0, n > 0 else { return }
        if k == 0 {
            for i in 0..<m { (c + i * ldc).update(repeating: 0, count: n) }
            return
        }
        precondition(workspace.fits(kernel), "GEMM: \(kernel) does not fit a Workspace")
        let kc = kernel.kcBlock(k), nc = kernel.ncBlock(n)
        if let (bm, ldb) = inPlaceB(b, kernel: kernel, m: m) {
            var pc = 0
            while pc < k {
                let kb = min(kc, k - pc)
                macroKernel(kernel, m: m, n: n, k: kb, a: packed.block(pc: pc, firstRow: i0, kb: kb), b: bm + pc * ldb + jOffset, inPlace: ldb,
                            c: c, ldc: ldc, accumulate: pc > 0, tile: workspace.tile, epilogue: pc + kb == k ? epilogue : nil, firstRow: i0)
                pc += kb
            }
            return
        }
        var jc = 0
        while jc < n {
            let nb = min(nc, n - jc)
            var pc = 0
            while pc < k {
                let kb = min(kc, k - pc)
                b.pack(k0: pc, kb: kb, j0: jOffset + jc, nb: nb, nr: kernel.nr, into: workspace.b)
                macroKernel(kernel, m: m, n: nb, k: kb, a: packed.block(pc: pc, firstRow: i0, kb: kb), b: workspace.b, c: c + jc, ldc: ldc,
                            accumulate: pc > 0, tile: workspace.tile, epilogue: pc + kb == k ? epilogue : nil, firstRow: i0)
                pc += kb
            }
            jc += nb
        }
    }

    /// B as a row-major matrix to read in place, unpacked, where it is one and the kernel reads
    /// any B row stride (`GEMMKernel.flexiblePanels`) for every row of these `m` (a multiple of
    /// its MR: the kernels for fewer rows take packed panels only), and its rows are not a
    /// multiple of 4 KiB apart (every row of a panel on the same L1 sets would evict the others;
    /// not measured, no network has such a layer). A 1x1 convolution's input then goes to the
    /// kernel as it is: no copy per image. MobileNet's first 1x1 layer (rows 49 KiB apart, 32 of
    /// them) took 0.95x the time in place (`bench conv`, Zen 4).
    @inline(__always)
    static func inPlaceB<B: GEMMOperandB>(_ b: B, kernel: GEMMKernel, m: Int) -> (b: UnsafePointer<Float>, ldb: Int)? {
        guard kernel.flexiblePanels, m % kernel.mr == 0, let dense = b.rowMajor, dense.ldb % 1024 != 0 else { return nil }
        return dense
    }

    /// A's size past which a pooled GEMM prefers to split rows (bytes): an L2's share.
    static let splitABudget: Int64 = 256 * 1024

    /// Whether a pooled GEMM (fp32 or int8) splits the columns rather than the rows, from the
    /// busiest thread's work either way: the lesser, columns on a tie (no barrier, nothing
    /// shared). But every column chunk runs all of A, so where A (`aBytes`) is over
    /// `splitABudget`, rows unless the columns' work is under 7/8 of the rows' (A read once in
    /// all): MobileNet's 7x7 layers (49 columns, A of 0.5-4 MB) tied within two tiles and took
    /// 1.33-1.4x the time split by columns at 2 threads. Where B must be packed (`packsB`: not
    /// read in place), split rows mean every thread packing all of B; so with a small A, columns
    /// unless their work is over 9/8 of the rows': ResNet-50's stride-2 `block1/unit3/conv2`
    /// (columns 104 tiles, rows 100) took 0.365-0.367 ms at 2 threads split by columns against
    /// 0.48-0.58 split by rows, GoogLeNet's `inception_3a/5x5` 0.157-0.163 against 0.206-0.228
    /// (`bench conv`, 4 rounds in alternation).
    static func splitsColumns(columnWork: Int, rowWork: Int, aBytes: Int64, packsB: Bool = false) -> Bool {
        if aBytes > splitABudget { return columnWork * 8 < rowWork * 7 }
        return packsB ? columnWork * 8 <= rowWork * 9 : columnWork <= rowWork
    }

    /// The same on a thread pool: the columns split (chunks taken dynamically, each thread
    /// packing the B of its own), or the rows (`splitsColumns`). Split rows with B read in place:
    /// chunks of rows taken dynamically; otherwise each thread its share of the rows, packing
    /// all of B itself. B was once packed by all threads together into a shared buffer
    /// (`SharedB`; a barrier, then every thread reading all of it): on the Zen 4 VM, in noisy
    /// periods, layers split that way took 1.3-2.6x the time of per-thread packing
    /// (ResNet-50's `block2/unit4/conv2` 0.93-0.96 against 0.36-0.37 ms at 2 threads,
    /// docs/kernels.md), and no less when quiet.
    public static func multiply(packed: PackedA, n: Int, b: GEMMB, c: UnsafeMutablePointer<Float>, ldc: Int,
                                epilogue: GEMMEpilogue? = nil, pool: ThreadPool, workspaces: [Workspace]) {
        let m = packed.m, k = packed.k, threads = pool.count
        let mr = packed.kernel.mr, nr = packed.kernel.nr
        let mTiles = (m + mr - 1) / mr, nTiles = (n + nr - 1) / nr
        if threads == 1 || Int64(m) * Int64(n) * Int64(k) < 64 * 64 * 64 {
            multiply(packed: packed, rows: 0, m: m, n: n, b: b, c: c, ldc: ldc, epilogue: epilogue, workspace: workspaces[0])
            return
        }
        // Split whichever way leaves the busiest thread fewer tiles; columns on a tie (no barrier,
        // nothing shared). ResNet-50's 14x14 layers (7 column tiles, 22 row tiles) split rows.
        let inPlace = inPlaceB(b, kernel: packed.kernel, m: m)
        let splitColumns = splitsColumns(columnWork: (nTiles + threads - 1) / threads * mTiles,
                                         rowWork: (mTiles + threads - 1) / threads * nTiles, aBytes: packed.bytes, packsB: inPlace == nil)
        var job = PackedJob(packed: packed, n: n, b: b, c: c, ldc: ldc, epilogue: epilogue, pool: pool, workspaces: workspaces,
                            splitColumns: splitColumns, inPlace: inPlace)
        pool.run(&job)
    }

    struct PackedJob: PoolJob {
        let packed: PackedA
        let n: Int
        let b: GEMMB
        let c: UnsafeMutablePointer<Float>, ldc: Int
        let epilogue: GEMMEpilogue?
        let pool: ThreadPool
        let workspaces: [Workspace]
        let splitColumns: Bool
        /// B as `inPlaceB` gives it for all of M, or nil: packed.
        let inPlace: (b: UnsafePointer<Float>, ldb: Int)?
        static let function: ThreadPool.JobFunction = { p, t in p!.assumingMemoryBound(to: PackedJob.self).pointee.work(t) }
        /// The work in chunks taken dynamically (`ThreadPool.claim`): the rows when B is read in place,
        /// the columns when they are split; with A packed in advance, more chunks than threads
        /// add no packing. (`SplitJob`, which packs A per call, stays static: chunks there ran
        /// SGEMM 1024³ slower.)
        func work(_ t: Int) {
            let m = packed.m, threads = pool.count
            let kernel = packed.kernel, mr = kernel.mr, nr = kernel.nr
            let mTiles = (m + mr - 1) / mr, nTiles = (n + nr - 1) / nr
            if !splitColumns, let (bm, ldb) = inPlace {
                // B read in place by every thread: nothing to pack, no barrier; chunks of rows.
                pool.forEachClaimedChunk(of: mTiles) { rows in
                    let i0 = rows.lowerBound * mr, i1 = min(m, rows.upperBound * mr)
                    multiply(packed: packed, rows: i0, m: i1 - i0, n: n, b: DenseB(bm, ldb: ldb), c: c + i0 * ldc, ldc: ldc,
                             epilogue: epilogue, workspace: workspaces[t])
                }
            } else if splitColumns {
                // Chunks of column panels, taken dynamically: each column's B is packed once either way.
                pool.forEachClaimedChunk(of: nTiles) { panels in
                    let j0 = panels.lowerBound * nr, j1 = min(n, panels.upperBound * nr)
                    multiply(packed: packed, rows: 0, m: m, n: j1 - j0, b: b, jOffset: j0, c: c + j0, ldc: ldc, epilogue: epilogue,
                             workspace: workspaces[t])
                }
            } else {
                let r = ThreadPool.share(mTiles, part: t, of: threads)
                let i0 = r.lowerBound * mr, i1 = min(m, r.upperBound * mr)
                guard i1 > i0 else { return }
                multiply(packed: packed, rows: i0, m: i1 - i0, n: n, b: b, c: c + i0 * ldc, ldc: ldc, epilogue: epilogue, workspace: workspaces[t])
            }
        }
    }

    /// Packs A[m x k] into `mr`-row panels, k-major, zero-padding the last panel
    /// (`socprof_pack_a_f32`: 4 rows x 4 k steps transposed in registers; one float at a time,
    /// this loop took 4 % of SGEMM 1024³'s time on Zen 4).
    @inline(__always)
    static func packA(m: Int, k: Int, mr: Int, a: UnsafePointer<Float>, lda: Int, into p: UnsafeMutablePointer<Float>) {
        socprof_pack_a_f32(m, k, mr, a, lda, p)
    }

    /// Packs B[k x n] into `nr`-column panels, k-major, zero-padding the last panel. Four rows of
    /// B at a time, panel by panel: each panel gets 4 consecutive rows (`4 * nr` floats written
    /// in a row), and B is read as 4 streams. Row by row (one 64-byte piece into every panel, a
    /// panel's size apart) took 1.1x the time for SGEMM 64 x 3136 x 576 (ResNet-50's 56 x 56
    /// 3x3 layers as a GEMM) at 1 and 2 threads (`socprof bench gemm`, alternated; Zen 3); a C
    /// harness of the loop alone on that B (not kept) had row by row 1.35x slower with B in DRAM
    /// and 1.7x with B in the caches, and panel by panel (`k` streams `ldb` apart) 1.9x slower
    /// from DRAM.
    @inline(__always)
    static func packB(k: Int, n: Int, nr: Int, b: UnsafePointer<Float>, ldb: Int, into p: UnsafeMutablePointer<Float>) {
        let whole = n / nr, cols = n - whole * nr
        var k0 = 0
        while k0 < k {
            let rows = min(packBRows, k - k0)
            for panel in 0..<whole {
                var src = b + k0 * ldb + panel * nr, dst = p + panel * k * nr + k0 * nr
                for _ in 0..<rows {
                    FloatRun.copy(src, dst, nr)
                    src += ldb
                    dst += nr
                }
            }
            if cols > 0 {
                var src = b + k0 * ldb + whole * nr, dst = p + whole * k * nr + k0 * nr
                for _ in 0..<rows {
                    FloatRun.copy(src, dst, cols)
                    FloatRun.zero(dst + cols, nr - cols)
                    src += ldb
                    dst += nr
                }
            }
            k0 += rows
        }
    }

    /// Rows of B `packB` takes at a time.
    static let packBRows = 4

    /// C[m x n] (+)= the packed A block x the packed B block (or B read in place, `ldb`), tile by
    /// tile. The last M % MR rows run the kernel for that many rows (no padded rows computed). A
    /// tile with fewer than NR columns is computed in place by a flexible panels kernel
    /// (`GEMMKernel.flexiblePanels`: the full-row tiles, a last panel of 1 to
    /// `GEMMKernel.joinedColumns` columns joined to the one before); otherwise aside in `tile`
    /// (with MR rows, by the few-columns kernel where it has at most `GEMMKernel.fewColumns`, else
    /// the half-width kernel where it has at most NR / 2) and its existing columns copied.
    @inline(__always)
    static func macroKernel(_ kernel: GEMMKernel, m: Int, n: Int, k: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, inPlace ldb: Int? = nil,
                            c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool, tile: UnsafeMutablePointer<Float>, epilogue: GEMMEpilogue?,
                            firstRow: Int) {
        let mr = kernel.mr, nr = kernel.nr
        // B packed: panels k * NR floats apart, a k step NR; read in place (`inPlaceB`, which
        // the caller checked): NR floats apart, a k step B's leading dimension.
        let bstride = ldb ?? nr, bpanel = ldb == nil ? k * nr : nr
        precondition(ldb == nil || (kernel.flexiblePanels && m % mr == 0), "GEMM: B read in place needs a flexible kernel and whole tiles")
        let full = kernel.full
        let last = m % mr == 0 ? full : kernel.rows[m % mr - 1]
        let (lo, hi) = epilogue?.bounds ?? (-.infinity, .infinity)
        // A B panel's full tiles in one call where the tile has a kernel for it (and a last
        // narrower panel's full-row tiles where that kernel takes them), the epilogue applied
        // from their registers; the other tiles one by one, the epilogue after. The
        // panels by pointers stepped a panel at a time (`i / mr` and `j / nr` were a division a
        // tile: MR and NR are not constants here).
        let panels = kernel.fullPanels
        let fullRows = m / mr * mr
        var j = 0, bp = b
        while j < n {
            var cols = min(nr, n - j)
            var i = 0, ap = a
            // A flexible kernel takes a last panel of a few columns with the one before, where
            // it takes every row (N = 35: 32 and 3, one call; 49: 32, then 16 and 1 in one loop).
            let joined = kernel.flexiblePanels && fullRows == m && cols == nr && (1...GEMMKernel.joinedColumns).contains(n - j - nr)
            if joined { cols = n - j }
            defer { j += joined ? 2 * nr : nr; bp += joined ? 2 * bpanel : bpanel }
            if cols == nr || kernel.flexiblePanels, fullRows > 0, let panels {
                let dst = c + j
                panels(k, a, mr, k * mr, fullRows / mr, bp, bstride, bpanel, dst, ldc, accumulate, epilogue != nil,
                       epilogue?.bias.map { $0 + firstRow }, epilogue?.residual?.at(dst), lo, hi, cols)
                i = fullRows
                ap = a + fullRows * k
            }
            while i < m {
                let rows = min(mr, m - i)
                let f = rows == mr ? full : last
                defer { i += mr; ap += k * mr }
                if cols == nr {
                    f(k, ap, mr, bp, c + i * ldc + j, ldc, accumulate)
                } else {
                    // An edge: compute the rows aside (with the tile's kernel for 1 to 3 columns
                    // or for half a panel where it has one and they cover it), then write the
                    // columns that exist.
                    if rows == mr, cols <= GEMMKernel.fewColumns, let few = kernel.columns {
                        few(k, ap, mr, bp, tile, nr, false, cols)
                    } else {
                        let g = rows == mr && cols <= nr / 2 ? kernel.half ?? f : f
                        g(k, ap, mr, bp, tile, nr, false)
                    }
                    for r in 0..<rows {
                        let dst = c + (i + r) * ldc + j, src = tile + r * nr
                        if accumulate { for q in 0..<cols { dst[q] += src[q] } } else { dst.update(from: src, count: cols) }
                    }
                }
                epilogue?.apply(c + i * ldc + j, ldc: ldc, rows: rows, cols: cols, firstRow: firstRow + i)
            }
        }
    }
}
