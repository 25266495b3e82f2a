import Networks

/// 3x3 stride-1 ungrouped convolution by Winograd F(4x4, 3x3) (`WinogradTransform`), on one
/// image in NCHW layout: 2.25 multiplications per output instead of 9 (per input channel), at the
/// price of the transforms and of rounding error a little above the direct sum's (measured and
/// bounded in `WinogradTests`).
///
/// The output is cut into 4x4 tiles (edge tiles computed whole, their missing pixels not stored),
/// blocks of whole tile rows at a time (`Plan`). For each block, in three phases separated by
/// the pool's barrier:
/// 1. input transform: every channel's 6x6 input tiles (zero outside the image: the padding)
///    become 36 matrices V[ξ] (input channels x tiles), channels split between threads;
/// 2. 36 GEMMs M[ξ] = U[ξ] x V[ξ] with the weights transformed and packed once
///    (`WinogradWeights`), the ξ split between threads, each GEMM on one thread;
/// 3. output transform of M into 4x4 tiles, with the bias and the activation, output channels
///    split between threads.
/// Nothing is allocated per run: the V and M blocks and each thread's scratch live in a
/// `Workspace` sized by the `Plan`.
public enum WinogradConvolution {
    /// The layout of one layer's run: tiles, tile rows per block, and the workspace they need.
    public struct Plan: Equatable, Sendable {
        /// Input channels (C) and output channels (K).
        public let inputChannels: Int, outputChannels: Int
        /// Tiles across and down the output (4 x 4 pixels each, the last ones partly outside).
        public let tilesAcross: Int, tilesDown: Int
        /// Tile rows per block: as many as keep V and M within the block's floats, at least one.
        public let rowsPerBlock: Int
        /// Threads the scratch is laid out for.
        public let threads: Int
        /// Lanes of one row of a thread's scratch: the tiles of a tile row and one more, rounded
        /// up to 8-wide vectors, plus 8 (the vectors read one tile further).
        let lanes: Int

        /// The most floats V and M of one block take unless one tile row needs more: 2^20 (4 MiB).
        public static let defaultBlockFloats = 1 << 20

        /// The plan for a convolution from `x` to `y` run on `threads` threads, V and M within
        /// `blockFloats` (tests make it small to run several blocks).
        public init(conv: Convolution, input x: TensorShape, output y: TensorShape, threads: Int, blockFloats: Int = defaultBlockFloats) {
            precondition(ConvAlgorithm.winogradApplies(conv), "Winograd F(4x4, 3x3) computes 3x3 stride-1 ungrouped convolutions only")
            inputChannels = x.c
            outputChannels = y.c
            tilesAcross = (y.w + 3) / 4
            tilesDown = (y.h + 3) / 4
            let perRow = 36 * (x.c + y.c) * tilesAcross
            rowsPerBlock = max(1, min(tilesDown, blockFloats / max(1, perRow)))
            self.threads = max(1, threads)
            lanes = (tilesAcross + 1 + 7) / 8 * 8 + 8
        }

        /// Tiles in a full block.
        var blockTiles: Int { rowsPerBlock * tilesAcross }
        /// Where M starts in the workspace (V starts at 0).
        var mOffset: Int { 36 * inputChannels * blockTiles }
        /// Where the threads' scratch starts: after M and 16 floats that vectors may read past it.
        var scratchOffset: Int { mOffset + 36 * outputChannels * blockTiles + 16 }
        /// Floats of one thread's scratch: the input rows split by column mod 4 (6 x 4 rows), their
        /// column transform (6 x 4) and the output tile rows (16).
        var scratchPerThread: Int { 64 * lanes }
        /// Floats of the workspace this plan needs.
        public var workspaceFloats: Int { scratchOffset + threads * scratchPerThread }
    }

    /// Memory for Winograd runs, allocated once (zeroed) and reused by every layer that fits.
    // Sendable: within a run the threads write disjoint parts, ordered by the pool's barriers.
    public final class Workspace: @unchecked Sendable {
        /// Capacity, floats.
        public let capacity: Int
        let data: UnsafeMutablePointer<Float>
        public init(floats: Int) {
            capacity = max(1, floats)
            data = .allocate(capacity: capacity)
            data.initialize(repeating: 0, count: capacity)
        }
        deinit { data.deallocate() }
        /// Bytes it holds.
        public var bytes: Int64 { Int64(capacity) * 4 }
    }

    /// Convolution of `input` (shape `x`) into `output` (shape `y`) with weights transformed by
    /// `WinogradWeights`, the bias per output channel and the activation applied to each tile.
    /// `workspace` holds at least the plan's floats for `pool.count` threads; `gemmWorkspaces`
    /// one GEMM workspace per thread; `blockFloats` is the plan's.
    public static func run(_ conv: Convolution, input: UnsafePointer<Float>, x: TensorShape, output: UnsafeMutablePointer<Float>,
                           y: TensorShape, weights: WinogradWeights, bias: UnsafePointer<Float>?, activation: Activation?,
                           pool: ThreadPool, workspace: Workspace, gemmWorkspaces: [GEMM.Workspace],
                           blockFloats: Int = Plan.defaultBlockFloats) {
        let plan = Plan(conv: conv, input: x, output: y, threads: pool.count, blockFloats: blockFloats)
        precondition(weights.inputChannels == x.c && weights.outputChannels == y.c, "Winograd: weights for another layer")
        precondition(workspace.capacity >= plan.workspaceFloats,
                     "Winograd: a workspace of \(workspace.capacity) floats for a layer that needs \(plan.workspaceFloats)")
        precondition(gemmWorkspaces.count >= pool.count, "Winograd: one GEMM workspace per thread")
        var job = Job(plan: plan, padTop: conv.padding.top, padLeft: conv.padding.left, input: input, x: x, output: output, y: y,
                      weights: weights, bias: bias, activation: activation, pool: pool, workspace: workspace.data,
                      gemmWorkspaces: gemmWorkspaces)
        pool.run(&job)
    }

    struct Job: PoolJob {
        let plan: Plan
        let padTop: Int, padLeft: Int
        let input: UnsafePointer<Float>, x: TensorShape
        let output: UnsafeMutablePointer<Float>, y: TensorShape
        let weights: WinogradWeights
        let bias: UnsafePointer<Float>?
        let activation: Activation?
        let pool: ThreadPool
        let workspace: UnsafeMutablePointer<Float>
        let gemmWorkspaces: [GEMM.Workspace]
        static let function: ThreadPool.JobFunction = { p, t in p!.assumingMemoryBound(to: Job.self).pointee.work(t) }

        func work(_ t: Int) {
            let threads = pool.count
            let c = plan.inputChannels, k = plan.outputChannels, tw = plan.tilesAcross
            let v = workspace, m = workspace + plan.mOffset
            let scratch = workspace + plan.scratchOffset + t * plan.scratchPerThread
            var ty0 = 0
            while ty0 < plan.tilesDown {
                let rows = min(plan.rowsPerBlock, plan.tilesDown - ty0), nb = rows * tw
                // 1. V[ξ][channel][tile], this thread's channels.
                for ch in ThreadPool.share(c, part: t, of: threads) {
                    for r in 0..<rows {
                        inputTileRow(channel: ch, tileRow: ty0 + r, into: v + ch * nb + r * tw, stride: c * nb, scratch: scratch)
                    }
                }
                pool.barrier()
                // 2. M[ξ] = U[ξ] x V[ξ], this thread's ξ.
                for xi in ThreadPool.share(36, part: t, of: threads) {
                    GEMM.multiply(packed: weights.packed[xi], rows: 0, m: k, n: nb, b: DenseB(v + xi * c * nb, ldb: nb),
                                  c: m + xi * k * nb, ldc: nb, workspace: gemmWorkspaces[t])
                }
                pool.barrier()
                // 3. The output tiles of this thread's channels.
                for oc in ThreadPool.share(k, part: t, of: threads) {
                    for r in 0..<rows {
                        outputTileRow(channel: oc, tileRow: ty0 + r, from: m + oc * nb + r * tw, stride: k * nb, scratch: scratch)
                    }
                }
                ty0 += rows
                if ty0 < plan.tilesDown { pool.barrier() } // V and M are reused by the next block
            }
        }

        /// The transformed input tiles of one channel's tile row: value ξ of tile `tx` goes to
        /// `dst[ξ * stride + tx]`.
        @inline(__always)
        func inputTileRow(channel ch: Int, tileRow ty: Int, into dst: UnsafeMutablePointer<Float>, stride: Int,
                          scratch: UnsafeMutablePointer<Float>) {
            typealias V8 = SIMD8<Float>
            let lanes = plan.lanes, tw = plan.tilesAcross
            // q[(r * 4 + j) * lanes + tx]: input row r of the tile row at padded column 4 tx + j
            // (zero in the padding). Columns 4 tx + 4 and + 5 are q[r][0] and q[r][1] at tx + 1.
            let q = scratch, cols = scratch + 24 * lanes
            let src = input + ch * x.h * x.w
            let ixEnd = min(x.w, 4 * (tw + 1) - padLeft)
            for r in 0..<6 {
                let row = q + r * 4 * lanes
                FloatRun.zero(row, 4 * lanes)
                let iy = ty * 4 - padTop + r
                guard iy >= 0, iy < x.h else { continue }
                let s = src + iy * x.w
                var ix = 0
                while ix < ixEnd {
                    let p = ix &+ padLeft
                    row[(p & 3) &* lanes &+ (p >> 2)] = s[ix]
                    ix &+= 1
                }
            }
            // B^T down the columns: cols[(i * 4 + j) * lanes + tx].
            @inline(__always) func load(_ p: UnsafePointer<Float>) -> V8 { UnsafeRawPointer(p).loadUnaligned(as: V8.self) }
            @inline(__always) func store(_ v: V8, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: V8.self) }
            for j in 0..<4 {
                var tx = 0
                while tx <= tw {
                    let b = q + j * lanes + tx
                    let o = WinogradTransform.input(load(b), load(b + 4 * lanes), load(b + 8 * lanes), load(b + 12 * lanes),
                                                    load(b + 16 * lanes), load(b + 20 * lanes))
                    let d = cols + j * lanes + tx
                    store(o.0, d); store(o.1, d + 4 * lanes); store(o.2, d + 8 * lanes)
                    store(o.3, d + 12 * lanes); store(o.4, d + 16 * lanes); store(o.5, d + 20 * lanes)
                    tx &+= 8
                }
            }
            // B^T along the rows, 8 tiles at a time, into V.
            for i in 0..<6 {
                let row = cols + i * 4 * lanes
                let out = dst + i * 6 * stride
                var tx = 0
                while tx < tw {
                    let o = WinogradTransform.input(load(row + tx), load(row + lanes + tx), load(row + 2 * lanes + tx),
                                                    load(row + 3 * lanes + tx), load(row + tx + 1), load(row + lanes + tx + 1))
                    let n = min(8, tw - tx)
                    let d = out + tx
                    if n == 8 {
                        store(o.0, d); store(o.1, d + stride); store(o.2, d + 2 * stride)
                        store(o.3, d + 3 * stride); store(o.4, d + 4 * stride); store(o.5, d + 5 * stride)
                    } else {
                        for l in 0..<n {
                            d[l] = o.0[l]; d[stride + l] = o.1[l]; d[2 * stride + l] = o.2[l]
                            d[3 * stride + l] = o.3[l]; d[4 * stride + l] = o.4[l]; d[5 * stride + l] = o.5[l]
                        }
                    }
                    tx &+= 8
                }
            }
        }

        /// The output pixels of one channel's tile row from its 36 products: product ξ of tile
        /// `tx` is `src[ξ * stride + tx]`.
        @inline(__always)
        func outputTileRow(channel oc: Int, tileRow ty: Int, from src: UnsafePointer<Float>, stride: Int,
                           scratch: UnsafeMutablePointer<Float>) {
            typealias V8 = SIMD8<Float>
            let lanes = plan.lanes, tw = plan.tilesAcross
            // s[(a * 4 + b) * lanes + tx]: pixel (a, b) of tile tx.
            let s = scratch + 48 * lanes
            let b = V8(repeating: bias?[oc] ?? 0)
            var tx = 0
            while tx < tw {
                outputTiles(at: tx, from: src, stride: stride, bias: b, into: s)
                tx &+= 8
            }
            // Interleave the tiles' columns into the output rows that exist.
            let dst = output + oc * y.h * y.w
            for a in 0..<4 {
                let oy = ty * 4 + a
                guard oy < y.h else { break }
                let d = dst + oy * y.w, sa = s + a * 4 * lanes
                var ox = 0
                while ox < y.w {
                    d[ox] = sa[(ox & 3) &* lanes &+ (ox >> 2)]
                    ox &+= 1
                }
            }
        }

        /// Eight tiles' 4x4 pixels, from tile `tx` on: A^T down each column j of the 6x6 products,
        /// then along each row a, the bias and the activation; pixel (a, b) of tile tx + l goes to
        /// `s[(a * 4 + b) * lanes + tx + l]`.
        @inline(__always)
        func outputTiles(at tx: Int, from src: UnsafePointer<Float>, stride: Int, bias b: SIMD8<Float>, into s: UnsafeMutablePointer<Float>) {
            typealias V8 = SIMD8<Float>
            let lanes = plan.lanes, p = src + tx
            @inline(__always) func load(_ q: UnsafePointer<Float>) -> V8 { UnsafeRawPointer(q).loadUnaligned(as: V8.self) }
            @inline(__always) func store(_ v: V8, _ q: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(q).storeBytes(of: v, as: V8.self) }
            @inline(__always) func column(_ j: Int) -> (V8, V8, V8, V8) {
                WinogradTransform.output(load(p + j * stride), load(p + (6 + j) * stride), load(p + (12 + j) * stride),
                                         load(p + (18 + j) * stride), load(p + (24 + j) * stride), load(p + (30 + j) * stride))
            }
            let c0 = column(0), c1 = column(1), c2 = column(2), c3 = column(3), c4 = column(4), c5 = column(5)
            @inline(__always) func row(_ a: Int, _ m0: V8, _ m1: V8, _ m2: V8, _ m3: V8, _ m4: V8, _ m5: V8) {
                let o = WinogradTransform.output(m0, m1, m2, m3, m4, m5)
                let d = s + a * 4 * lanes + tx
                store(activate(o.0 + b), d); store(activate(o.1 + b), d + lanes)
                store(activate(o.2 + b), d + 2 * lanes); store(activate(o.3 + b), d + 3 * lanes)
            }
            row(0, c0.0, c1.0, c2.0, c3.0, c4.0, c5.0)
            row(1, c0.1, c1.1, c2.1, c3.1, c4.1, c5.1)
            row(2, c0.2, c1.2, c2.2, c3.2, c4.2, c5.2)
            row(3, c0.3, c1.3, c2.3, c3.3, c4.3, c5.3)
        }

        @inline(__always)
        func activate(_ v: SIMD8<Float>) -> SIMD8<Float> {
            switch activation {
            case .none: return v
            case .relu: return v.replacing(with: 0, where: v .< 0)
            case .relu6: return v.replacing(with: 0, where: v .< 0).replacing(with: 6, where: v .> 6)
            }
        }
    }
}
