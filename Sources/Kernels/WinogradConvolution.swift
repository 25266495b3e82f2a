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
/// Rows of 4 tiles go through both transforms two tile rows at a time (`Plan.pairsRows`: their
/// 8-tile vectors would be half empty). Nothing is allocated per run: the V and M blocks and each
/// thread's scratch live in a `Workspace` sized by the `Plan`.
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
        /// Padded input columns the input transform reads and computes: the tiles' 4 per tile,
        /// rounded up to whole 8-tile vectors, and the 4 more that a vector's last tile reaches
        /// (its columns 4 and 5), rounded up to 16-wide vectors.
        let usedColumns: Int
        /// Floats of one row of a thread's scratch (at least `usedColumns`).
        let rowFloats: Int
        /// Whether the transforms take two tile rows at a time: rows of 4 tiles (ResNet-50's
        /// 14 x 14 layers), whose 8-tile vectors would otherwise be half empty; the two rows' 8
        /// tiles are neighbours in V and M (tile = row x 4 + column).
        var pairsRows: Bool { tilesAcross == 4 }
        /// Padded input columns a tile row of a pair reads and computes: its 4 tiles' 18, in one
        /// 32-column pass (the single rows' 8-tile vectors need 48).
        static let pairColumns = 32

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
            usedColumns = (4 * ((tilesAcross + 7) / 8 * 8) + 4 + 15) / 16 * 16
            rowFloats = usedColumns
        }

        /// Tiles in a full block.
        var blockTiles: Int { rowsPerBlock * tilesAcross }
        /// Where M starts in the workspace (V starts at 0).
        var mOffset: Int { 36 * inputChannels * blockTiles }
        /// Where the threads' scratch starts: after M and 16 floats that vectors may read past it.
        var scratchOffset: Int { mOffset + 36 * outputChannels * blockTiles + 16 }
        /// Floats of one thread's scratch: six padded input rows and their column transform,
        /// twice where the rows go in pairs (the output's edge chunks, 4 rows of 32 floats, reuse it:
        /// `usedColumns` is at least 48).
        var scratchPerThread: Int { (pairsRows ? 24 : 12) * rowFloats }
        /// Floats of the workspace this plan needs.
        public var workspaceFloats: Int { scratchOffset + threads * scratchPerThread }

        /// The GEMM kernel for the 36 products, whose columns are the tiles of a block (N) and
        /// rows the output channels (M).
        ///
        /// On a CPU whose zmm FMAs are full width (AVX-512, not Zen 4): `GEMMKernel.inPlace`, a
        /// kernel with flexible panels whose MR divides M. Such a kernel reads V in place (nothing
        /// packed) and computes a narrow last panel with whole or masked vectors, no padding: ResNet-50's 14x14 layers
        /// (16 tiles, 256 channels) take `zmm8x32` on Intel: 0.75 ms against 1.15 with
        /// `ymm6x16`, half as wide an FMA, and 0.80 with `zmm12x32`, which packs V (256 is no
        /// multiple of 12), medians of 3 rounds; the whole network 47.5 against 51.0 ms at 1
        /// thread (docs/kernels.md, "Intel").
        ///
        /// Elsewhere (Zen 4, AVX2, ARM): `preferred` unless its NR-wide panels would leave over a
        /// quarter of the columns padding and a kernel with narrower panels that `cpu` runs leaves
        /// less (on Zen 4, measured when `zmm8x32` still computed its padding, ResNet-50's 14x14
        /// layers ran 1.3-1.6x faster on `ymm6x16`'s 16-column panels).
        public func gemmKernel(preferred: GEMMKernel = GEMM.kernel, cpu: GEMMKernel.CPU = .current) -> GEMMKernel {
            if let kernel = GEMMKernel.inPlace(m: outputChannels, preferred: preferred, cpu: cpu) { return kernel }
            let n = rowsPerBlock * tilesAcross
            func padding(_ k: GEMMKernel) -> Double { Double((n + k.nr - 1) / k.nr * k.nr - n) / Double((n + k.nr - 1) / k.nr * k.nr) }
            guard padding(preferred) > 0.25 else { return preferred }
            let narrower = GEMMKernel.runnable(on: cpu).filter { $0.nr < preferred.nr && padding($0) < padding(preferred) }
            return narrower.min { padding($0) < padding($1) || (padding($0) == padding($1) && $0.mr * $0.nr > $1.mr * $1.nr) } ?? preferred
        }
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
            let c = plan.inputChannels, k = plan.outputChannels, tw = plan.tilesAcross
            let v = workspace, m = workspace + plan.mOffset
            let scratch = workspace + plan.scratchOffset + t * plan.scratchPerThread
            // Each phase's work taken dynamically, so that a thread slowed from outside does less
            // of it: the channels in runs (`ThreadPool.forEachClaimedChunk`; one claim a channel
            // was slower than the static split), the 36 ξ one by one (`ThreadPool.Claimer`).
            var claims = pool.claimer()
            var ty0 = 0
            while ty0 < plan.tilesDown {
                let rows = min(plan.rowsPerBlock, plan.tilesDown - ty0), nb = rows * tw
                // 1. V[ξ][channel][tile], by runs of channels.
                pool.forEachClaimedChunk(of: c) { channels in
                    for ch in channels {
                        forEachTileRow(rows) { r, paired in
                            if paired {
                                inputTileRowPair(channel: ch, tileRow: ty0 + r, into: v + ch * nb + r * tw, stride: c * nb, scratch: scratch)
                            } else {
                                inputTileRow(channel: ch, tileRow: ty0 + r, into: v + ch * nb + r * tw, stride: c * nb, scratch: scratch)
                            }
                        }
                    }
                }
                pool.barrier()
                // 2. M[ξ] = U[ξ] x V[ξ], by ξ.
                while let xi = claims.next(below: 36) {
                    GEMM.multiply(packed: weights.packed[xi], rows: 0, m: k, n: nb, b: DenseB(v + xi * c * nb, ldb: nb),
                                  c: m + xi * k * nb, ldc: nb, workspace: gemmWorkspaces[t])
                }
                pool.barrier()
                // 3. The output tiles, by runs of channels.
                pool.forEachClaimedChunk(of: k) { channels in
                    for oc in channels {
                        forEachTileRow(rows) { r, paired in
                            if paired {
                                outputTileRowPair(channel: oc, tileRow: ty0 + r, from: m + oc * nb + r * tw, stride: k * nb, scratch: scratch)
                            } else {
                                outputTileRow(channel: oc, tileRow: ty0 + r, from: m + oc * nb + r * tw, stride: k * nb, scratch: scratch)
                            }
                        }
                    }
                }
                ty0 += rows
                if ty0 < plan.tilesDown { pool.barrier() } // V and M are reused by the next block
            }
        }

        /// Tile rows 0 ..< `rows` of a block, two at a time where the plan pairs them (an odd last
        /// row alone): `body(first row, paired)`.
        @inline(__always)
        func forEachTileRow(_ rows: Int, _ body: (Int, Bool) -> Void) {
            var r = 0
            while r < rows {
                let paired = plan.pairsRows && r + 1 < rows
                body(r, paired)
                r += paired ? 2 : 1
            }
        }

        /// The transformed input tiles of one channel's tile row: value ξ of tile `tx` goes to
        /// `dst[ξ * stride + tx]`. (Not inlined into `work`, nor `outputTileRow`: inlined, with the
        /// GEMM call and the claimed chunks, they made `work` so large that the optimiser stopped
        /// inlining inside it, and each 8-float load and store became a call.)
        @inline(never)
        func inputTileRow(channel ch: Int, tileRow ty: Int, into dst: UnsafeMutablePointer<Float>, stride: Int,
                          scratch: UnsafeMutablePointer<Float>) {
            typealias V8 = SIMD8<Float>
            let tw = plan.tilesAcross, width = plan.rowFloats
            // Columns the passes below read: the 8-tile vectors reach 4 columns past the last tile.
            let cols = columnTransform(channel: ch, tileRow: ty, used: plan.usedColumns, scratch: scratch)
            @inline(__always) func store8(_ v: V8, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: V8.self) }
            // The first n (1 to 7) lanes of v at p. (With a lane index that is not a constant, each
            // lane was a store of the vector to the stack and a load back: 30 % of the function's
            // samples on ResNet-50, whose rows of 7 and 4 tiles all end here.)
            @inline(__always) func storeFirst(_ v: V8, _ n: Int, _ p: UnsafeMutablePointer<Float>) {
                let raw = UnsafeMutableRawPointer(p)
                var rest = v.lowHalf, at = 0
                if n >= 4 {
                    raw.storeBytes(of: v.lowHalf, as: SIMD4<Float>.self)
                    rest = v.highHalf
                    at = 4
                }
                let r = n - at
                if r >= 2 {
                    raw.storeBytes(of: rest.lowHalf, toByteOffset: at * 4, as: SIMD2<Float>.self)
                    if r == 3 { p[at + 2] = rest[2] }
                } else if r == 1 {
                    p[at] = rest[0]
                }
            }
            // B^T along the rows, 8 tiles at a time, into V.
            for i in 0..<6 {
                let row = cols + i * width
                let out = dst + i * 6 * stride
                var tx = 0
                while tx < tw {
                    let c = row + 4 * tx
                    let o = rowTransform8(c, c + 16)
                    let n = min(8, tw - tx)
                    let d = out + tx
                    if n == 8 {
                        store8(o.0, d); store8(o.1, d + stride); store8(o.2, d + 2 * stride)
                        store8(o.3, d + 3 * stride); store8(o.4, d + 4 * stride); store8(o.5, d + 5 * stride)
                    } else {
                        // The row's last 1-7 tiles: exactly n floats (the next ones are another
                        // tile row's, perhaps another thread's), by 4, 2 and 1, lanes known.
                        storeFirst(o.0, n, d); storeFirst(o.1, n, d + stride); storeFirst(o.2, n, d + 2 * stride)
                        storeFirst(o.3, n, d + 3 * stride); storeFirst(o.4, n, d + 4 * stride); storeFirst(o.5, n, d + 5 * stride)
                    }
                    tx &+= 8
                }
            }
        }

        /// B^T along the rows of 8 tiles, a tile a lane, from their columns after B^T down them:
        /// tiles 0-3 from `lo` (tile l's six columns at lo[4 l ..< 4 l + 6]), tiles 4-7 from `hi`
        /// the same way. A tile row's 8 tiles from column c have `hi` = `lo` + 16; a pair of
        /// 4-tile rows has `hi` in the second row's columns.
        @inline(__always)
        func rowTransform8(_ lo: UnsafePointer<Float>, _ hi: UnsafePointer<Float>)
            -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
            typealias V8 = SIMD8<Float>
            @inline(__always) func load8(_ p: UnsafePointer<Float>) -> V8 { UnsafeRawPointer(p).loadUnaligned(as: V8.self) }
            // Column j of the 8 tiles (tile l's columns are a[4 l ..< 4 l + 4], then b's).
            @inline(__always) func phase(_ a0: V8, _ a1: V8, _ a2: V8, _ a3: V8, _ j: Int) -> V8 {
                V8(a0[j], a0[4 + j], a1[j], a1[4 + j], a2[j], a2[4 + j], a3[j], a3[4 + j])
            }
            let a0 = load8(lo), a1 = load8(lo + 8), a2 = load8(hi), a3 = load8(hi + 8)
            let b0 = load8(lo + 4), b1 = load8(lo + 12), b2 = load8(hi + 4), b3 = load8(hi + 12)
            return WinogradTransform.input(phase(a0, a1, a2, a3, 0), phase(a0, a1, a2, a3, 1), phase(a0, a1, a2, a3, 2),
                                           phase(a0, a1, a2, a3, 3), phase(b0, b1, b2, b3, 0), phase(b0, b1, b2, b3, 1))
        }

        /// The six input rows of one channel's tile row, zero-padded (padded column p is input
        /// column p - left; tile tx covers columns 4 tx ..< 4 tx + 6), into `scratch[r * width +
        /// p]`, and B^T down their first `used` columns (a multiple of 16), 16 at a time, into the
        /// six rows returned (`cols[i * width + p]`, after the input rows).
        @inline(__always)
        func columnTransform(channel ch: Int, tileRow ty: Int, used: Int, scratch: UnsafeMutablePointer<Float>) -> UnsafeMutablePointer<Float> {
            typealias V16 = SIMD16<Float>
            let width = plan.rowFloats
            let rows = scratch, cols = scratch + 6 * width
            let src = input + ch * x.h * x.w
            let copyEnd = min(x.w, used - padLeft)
            for r in 0..<6 {
                let row = rows + r * width
                let iy = ty * 4 - padTop + r
                guard iy >= 0, iy < x.h, copyEnd > 0 else {
                    FloatRun.zero(row, used)
                    continue
                }
                FloatRun.zero(row, padLeft)
                FloatRun.copy(src + iy * x.w, row + padLeft, copyEnd)
                FloatRun.zero(row + padLeft + copyEnd, used - padLeft - copyEnd)
            }
            @inline(__always) func load16(_ p: UnsafePointer<Float>) -> V16 { UnsafeRawPointer(p).loadUnaligned(as: V16.self) }
            @inline(__always) func store16(_ v: V16, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: V16.self) }
            var p = 0
            while p < used {
                let b = rows + p
                let o = WinogradTransform.input(load16(b), load16(b + width), load16(b + 2 * width), load16(b + 3 * width),
                                                load16(b + 4 * width), load16(b + 5 * width))
                let d = cols + p
                store16(o.0, d); store16(o.1, d + width); store16(o.2, d + 2 * width)
                store16(o.3, d + 3 * width); store16(o.4, d + 4 * width); store16(o.5, d + 5 * width)
                p &+= 16
            }
            return cols
        }

        /// `inputTileRow` for tile rows `ty` and `ty + 1` of 4 tiles each (`plan.pairsRows`): each
        /// row's columns transformed apart (32 columns), then B^T along the rows with the first
        /// row's 4 tiles in a vector's lanes 0-3 and the second's in 4-7, stored whole: tiles
        /// 4 ty ..< 4 ty + 8 of V are those 8.
        @inline(never)
        func inputTileRowPair(channel ch: Int, tileRow ty: Int, into dst: UnsafeMutablePointer<Float>, stride: Int,
                              scratch: UnsafeMutablePointer<Float>) {
            typealias V8 = SIMD8<Float>
            let used = Plan.pairColumns
            let first = columnTransform(channel: ch, tileRow: ty, used: used, scratch: scratch)
            let second = columnTransform(channel: ch, tileRow: ty + 1, used: used, scratch: scratch + 12 * plan.rowFloats)
            let width = plan.rowFloats
            @inline(__always) func store8(_ v: V8, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: V8.self) }
            for i in 0..<6 {
                let o = rowTransform8(first + i * width, second + i * width)
                let d = dst + i * 6 * stride
                store8(o.0, d); store8(o.1, d + stride); store8(o.2, d + 2 * stride)
                store8(o.3, d + 3 * stride); store8(o.4, d + 4 * stride); store8(o.5, d + 5 * stride)
            }
        }

        /// `outputTileRow` for tile rows `ty` and `ty + 1` of 4 tiles each (`plan.pairsRows`): the
        /// 8 tiles in a vector's lanes as the single rows' 8, each output row's 32 pixels made in
        /// the scratch, the first 16 (the first tile row's) and the last 16 (the second's) copied
        /// to their rows, as far as the output is wide and high.
        @inline(never)
        func outputTileRowPair(channel oc: Int, tileRow ty: Int, from src: UnsafePointer<Float>, stride: Int,
                               scratch: UnsafeMutablePointer<Float>) {
            typealias V8 = SIMD8<Float>
            let edge = scratch
            let b = V8(repeating: bias?[oc] ?? 0)
            let dst = output + oc * y.h * y.w
            let rowsFirst = min(4, y.h - ty * 4), rowsSecond = min(4, y.h - (ty + 1) * 4)
            let count = min(16, y.w)
            outputRows8(src, stride: stride, bias: b, rows: rowsFirst, into: edge, rowStride: 32)
            for a in 0..<rowsFirst {
                FloatRun.copy(edge + 32 * a, dst + (ty * 4 + a) * y.w, count)
                if a < rowsSecond { FloatRun.copy(edge + 32 * a + 16, dst + ((ty + 1) * 4 + a) * y.w, count) }
            }
        }

        /// The output pixels of one channel's tile row from its 36 products: product ξ of tile
        /// `tx` is `src[ξ * stride + tx]`. Eight tiles at a time: A^T down each column j of the
        /// 6x6 products, then along each row a, the bias and the activation, and the four
        /// columns of the eight tiles interleaved into 32 output pixels.
        @inline(never)
        func outputTileRow(channel oc: Int, tileRow ty: Int, from src: UnsafePointer<Float>, stride: Int,
                           scratch: UnsafeMutablePointer<Float>) {
            typealias V8 = SIMD8<Float>
            let tw = plan.tilesAcross
            let edge = scratch // 4 rows of 32 floats for a chunk that ends past the output row
            let b = V8(repeating: bias?[oc] ?? 0)
            let dst = output + oc * y.h * y.w
            let rowsHere = min(4, y.h - ty * 4)
            var tx = 0
            while tx < tw {
                let x0 = 4 * tx, count = min(32, y.w - x0), first = dst + ty * 4 * y.w + x0
                if count == 32 {
                    outputRows8(src + tx, stride: stride, bias: b, rows: rowsHere, into: first, rowStride: y.w)
                } else {
                    outputRows8(src + tx, stride: stride, bias: b, rows: rowsHere, into: edge, rowStride: 32)
                    for a in 0..<rowsHere { FloatRun.copy(edge + 32 * a, first + a * y.w, count) }
                }
                tx &+= 8
            }
        }

        /// The output rows 0 ..< `rows` of 8 tiles, a tile a lane, from their 36 products at `src`
        /// (tile l's product ξ at `src[ξ * stride + l]`): A^T down each column j of the 6x6
        /// products, then along each row a, the bias and the activation, the tiles' four columns
        /// interleaved into 32 pixels stored at `into + a * rowStride`.
        @inline(__always)
        func outputRows8(_ src: UnsafePointer<Float>, stride: Int, bias b: SIMD8<Float>, rows: Int,
                         into d0: UnsafeMutablePointer<Float>, rowStride: Int) {
            typealias V8 = SIMD8<Float>
            @inline(__always) func load(_ q: UnsafePointer<Float>) -> V8 { UnsafeRawPointer(q).loadUnaligned(as: V8.self) }
            @inline(__always) func store(_ v: V8, _ q: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(q).storeBytes(of: v, as: V8.self) }
            @inline(__always) func column(_ j: Int) -> (V8, V8, V8, V8) {
                WinogradTransform.output(load(src + j * stride), load(src + (6 + j) * stride), load(src + (12 + j) * stride),
                                         load(src + (18 + j) * stride), load(src + (24 + j) * stride), load(src + (30 + j) * stride))
            }
            let c0 = column(0), c1 = column(1), c2 = column(2), c3 = column(3), c4 = column(4), c5 = column(5)
            @inline(__always) func row(_ a: Int, _ m0: V8, _ m1: V8, _ m2: V8, _ m3: V8, _ m4: V8, _ m5: V8) {
                guard a < rows else { return }
                let o = WinogradTransform.output(m0, m1, m2, m3, m4, m5)
                let o0 = activate(o.0 + b), o1 = activate(o.1 + b), o2 = activate(o.2 + b), o3 = activate(o.3 + b)
                let d = d0 + a * rowStride
                store(V8(o0[0], o1[0], o2[0], o3[0], o0[1], o1[1], o2[1], o3[1]), d)
                store(V8(o0[2], o1[2], o2[2], o3[2], o0[3], o1[3], o2[3], o3[3]), d + 8)
                store(V8(o0[4], o1[4], o2[4], o3[4], o0[5], o1[5], o2[5], o3[5]), d + 16)
                store(V8(o0[6], o1[6], o2[6], o3[6], o0[7], o1[7], o2[7], o3[7]), d + 24)
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

// In this file, beside their only caller, so that they are specialised even when the module is
// compiled file by file (debug builds); see WinogradTransform.
extension WinogradTransform {
    /// B^T applied to six values (rows or columns of an input tile).
    @inline(__always)
    static func input<V: SIMD>(_ d0: V, _ d1: V, _ d2: V, _ d3: V, _ d4: V, _ d5: V) -> (V, V, V, V, V, V) where V.Scalar == Float {
        let d4m2 = d4 - d2, d3m1 = d3 - d1
        return (4 * (d0 - d2) + d4m2,
                (d3 + d4) - 4 * (d1 + d2),
                (d4 - d3) + 4 * (d1 - d2),
                d4m2 + 2 * d3m1,
                d4m2 - 2 * d3m1,
                4 * (d1 - d3) + (d5 - d3))
    }

    /// A^T applied to six values (rows or columns of a tile of the 36 products).
    @inline(__always)
    static func output<V: SIMD>(_ m0: V, _ m1: V, _ m2: V, _ m3: V, _ m4: V, _ m5: V) -> (V, V, V, V) where V.Scalar == Float {
        let p12 = m1 + m2, d12 = m1 - m2, p34 = m3 + m4, d34 = m3 - m4
        return (m0 + p12 + p34, d12 + 2 * d34, p12 + 4 * p34, d12 + 8 * d34 + m5)
    }
}
