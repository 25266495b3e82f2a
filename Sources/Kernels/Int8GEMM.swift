import CInt8Kernels

/// How the int8 GEMM finishes each output: requantized to bytes, or the int32 sums (for tests
/// and for callers that requantize themselves).
public enum Int8GEMMOutput {
    /// C[i][j] as bytes (`ldc` bytes a row), requantized with row i's multiplier.
    case requantized(UnsafeMutablePointer<UInt8>, ldc: Int, Int8Requantization)
    /// C[i][j] = sum over k of A[i][k] x (B[k][j] - B's zero point) + bias[i], int32 (`ldc`
    /// elements a row).
    case int32(UnsafeMutablePointer<Int32>, ldc: Int, bias: UnsafePointer<Int32>?)

    var bias: UnsafePointer<Int32>? {
        switch self { case .requantized(_, _, let r): r.bias; case .int32(_, _, let bias): bias }
    }
}

/// The requantization of a quantized layer's int32 sums (see `Requantize`): row i (an output
/// channel) gets `bias[i]` added (int32, in units of input scale x weight scale of channel i)
/// and is multiplied by `multipliers[i]` (input scale x weight scale of channel i / output
/// scale), then the output zero point is added and the result clamped to `range` (the output
/// type's range, narrowed by a fused ReLU or ReLU6: `QuantParams.clampRange`).
public struct Int8Requantization {
    public let bias: UnsafePointer<Int32>?
    public let multipliers: UnsafePointer<Float>
    public let zeroPoint: Int32
    public let range: ClosedRange<Int32>
    public init(bias: UnsafePointer<Int32>?, multipliers: UnsafePointer<Float>, zeroPoint: Int32, range: ClosedRange<Int32>) {
        precondition(range.lowerBound >= -128 && range.upperBound <= 255,
                     "requantization range \(range) must lie in -128...255")
        self.bias = bias
        self.multipliers = multipliers
        self.zeroPoint = zeroPoint
        self.range = range
    }
}

/// Int8 matrix multiply: C[m x n] = A[m x k] (int8 weights, packed: `PackedInt8A`) x (B[k x n] -
/// zero point) (uint8 or int8 activations), int32 sums, then requantization (`Int8GEMMOutput`).
///
/// The zero point: with symmetric weights (zero point 0), gemmlowp's correction terms reduce to
/// one, zero point x the row's weight sum, taken off each row's sums with the bias. The kernels
/// multiply uint8 by int8 (x86, reference) or int8 by int8 (ARM); a B of the other kind is packed
/// with its top bit flipped (b -/+ 128), and 128 x the row sum is put back the same way.
///
/// Blocking (Goto, without K blocks: int32 sums cannot be split without a second pass): a block
/// of B's columns, all of K, is packed into NR-column panels sized for L2; each MR-row panel of
/// A (all of K, in L1) then runs against every panel of the block; each MR x NR tile is
/// requantized as soon as it is done.
public enum Int8GEMM {
    /// Bytes of packed B per block (the block stays in L2).
    static let blockBytes = 256 * 1024

    /// Scratch for one thread: the packed B block, im2col rows, one tile of int32. Allocate once
    /// per thread and reuse; it grows (once) for a K too long for its B block.
    // Sendable: each belongs to one pool thread, which alone writes it.
    public final class Workspace: @unchecked Sendable {
        var b: UnsafeMutableRawPointer
        var bCapacity: Int
        var rows: UnsafeMutablePointer<UInt8>
        var rowsCapacity: Int
        let tile: UnsafeMutablePointer<Int32>
        let rowAdd: UnsafeMutablePointer<Int32>
        /// Int32 scratch for kernels that do not run the GEMM (depthwise, fully connected).
        var ints: UnsafeMutablePointer<Int32>
        var intsCapacity: Int
        /// B's last columns packed [column][kq][4] for `socprof_i8_gemm_vnni_columns` and `socprof_i8_gemm_avx2b_columns`.
        var columns: UnsafeMutablePointer<UInt8>
        var columnsCapacity: Int

        public init() {
            bCapacity = Int8GEMM.blockBytes + 64 * 1024
            b = .allocate(byteCount: bCapacity, alignment: 64)
            rowsCapacity = 16 * 4096
            rows = .allocate(capacity: rowsCapacity)
            tile = .allocate(capacity: 8 * 48)
            rowAdd = .allocate(capacity: 16)
            intsCapacity = 4096
            ints = .allocate(capacity: intsCapacity)
            columnsCapacity = 16 * 1024
            columns = .allocate(capacity: columnsCapacity)
        }

        deinit {
            b.deallocate()
            rows.deallocate()
            tile.deallocate()
            rowAdd.deallocate()
            ints.deallocate()
            columns.deallocate()
        }

        func reserve(bBytes: Int, rowBytes: Int) {
            if bBytes > bCapacity {
                b.deallocate()
                bCapacity = bBytes
                b = .allocate(byteCount: bBytes, alignment: 64)
            }
            if rowBytes > rowsCapacity {
                rows.deallocate()
                rowsCapacity = rowBytes
                rows = .allocate(capacity: rowBytes)
            }
        }

        func reserve(ints count: Int) {
            if count > intsCapacity {
                ints.deallocate()
                intsCapacity = count
                ints = .allocate(capacity: count)
            }
        }

        func reserve(columnBytes count: Int) {
            if count > columnsCapacity {
                columns.deallocate()
                columnsCapacity = count
                columns = .allocate(capacity: count)
            }
        }
    }

    /// C = A x (B - zero point), requantized or int32 (`output`, whose pointers address all of C),
    /// on a thread pool: the rows or the columns (whichever leaves the busiest thread fewer tiles)
    /// are split between threads, each with its own workspace (`workspaces.count >= pool.count`).
    /// When the rows are split and B packed fits in `shared`, the threads pack B there together
    /// (each its share of the panels, then a barrier) instead of each packing all of it.
    public static func multiply(packed: PackedInt8A, n: Int, b: Int8B, output: Int8GEMMOutput, pool: ThreadPool, workspaces: [Workspace],
                                shared: GEMM.SharedB? = nil) {
        let m = packed.m, k = packed.k, threads = pool.count
        guard m > 0, n > 0 else { return }
        let mr = packed.kernel.mr, nr = packed.kernel.nr
        if threads == 1 || Int64(m) * Int64(n) * Int64(max(k, 1)) < 64 * 64 * 64 {
            run(packed: packed, rows: 0..<m, columns: 0..<n, b: b, output: output, workspace: workspaces[0])
            return
        }
        // The busiest thread's work either way, in tile-rows x the kernel's column vectors (the
        // VNNI kernel runs a panel's last 16 or 32 columns for a third or two of a whole panel).
        let mTiles = (m + mr - 1) / mr
        let vector = packed.kernel == .vnni ? 16 : nr
        func vectors(_ columns: Int) -> Int {
            (columns / nr) * ((nr + vector - 1) / vector) + (columns % nr + vector - 1) / vector
        }
        let columnWork = (0..<threads).map { vectors(ThreadPool.shareColumns(n, tile: nr, part: $0, of: threads).count) }.max()! * mTiles
        let rowWork = (mTiles + threads - 1) / threads * vectors(n)
        let splitColumns = GEMM.splitsColumns(columnWork: columnWork, rowWork: rowWork, aBytes: packed.bytes)
        let panelBytes = packed.kq * nr * packed.kernel.kGroup
        let main = mainColumns(packed: packed, columns: 0..<n, output: output)
        let fits = shared.map { (main.count + nr - 1) / nr * panelBytes <= $0.capacity * MemoryLayout<Float>.size } ?? false
        var job = Job(packed: packed, n: n, main: main, b: b, output: output, pool: pool, workspaces: workspaces, splitColumns: splitColumns,
                      shared: !splitColumns && fits ? shared : nil)
        pool.run(&job)
    }

    /// The same on the calling thread.
    public static func multiply(packed: PackedInt8A, n: Int, b: Int8B, output: Int8GEMMOutput, workspace: Workspace) {
        guard packed.m > 0, n > 0 else { return }
        run(packed: packed, rows: 0..<packed.m, columns: 0..<n, b: b, output: output, workspace: workspace)
    }

    struct Job: PoolJob {
        let packed: PackedInt8A
        let n: Int
        /// The columns the tiles compute (`mainColumns`), the rest run by `tiles`' `last`.
        let main: Range<Int>
        let b: Int8B
        let output: Int8GEMMOutput
        let pool: ThreadPool
        let workspaces: [Workspace]
        let splitColumns: Bool
        /// Where the threads pack B together (rows split only).
        let shared: GEMM.SharedB?
        static let function: ThreadPool.JobFunction = { p, t in p!.assumingMemoryBound(to: Job.self).pointee.work(t) }

        /// The work in chunks taken dynamically (`ThreadPool.claim`) where that adds no work: the
        /// columns when they are split (each column's B is packed once either way), the rows when
        /// B is shared.
        func work(_ t: Int) {
            let mr = packed.kernel.mr, nr = packed.kernel.nr, threads = pool.count
            if splitColumns {
                pool.forEachClaimedChunk(of: (n + nr - 1) / nr) { panels in
                    run(packed: packed, rows: 0..<packed.m, columns: (panels.lowerBound * nr)..<min(n, panels.upperBound * nr), b: b,
                        output: output, workspace: workspaces[t])
                }
                return
            }
            let mTiles = (packed.m + mr - 1) / mr
            guard let shared else {
                let r = ThreadPool.share(mTiles, part: t, of: threads)
                let rows = (r.lowerBound * mr)..<min(packed.m, r.upperBound * mr)
                guard !rows.isEmpty else { return }
                run(packed: packed, rows: rows, columns: 0..<n, b: b, output: output, workspace: workspaces[t])
                return
            }
            // Phase 1: chunks of B's panels into the shared buffer, taken dynamically (the team
            // that reaches the barrier may be this thread alone); every thread of the team
            // reaches the barrier.
            let ws = workspaces[t]
            let panelBytes = packed.kq * nr * packed.kernel.kGroup
            let data = UnsafeMutableRawPointer(shared.data)
            pool.forEachClaimedChunk(of: (main.count + nr - 1) / nr) { mine in
                pack(packed: packed, b: b, columns: (mine.lowerBound * nr)..<min(main.upperBound, mine.upperBound * nr),
                     into: data + mine.lowerBound * panelBytes, workspace: ws)
            }
            pool.barrier()
            // Phase 2: chunks of rows (taken dynamically) against all of B, a block (sized for L2)
            // at a time, the last columns with the last block.
            let last = packLastColumns(packed: packed, columns: main.upperBound..<n, b: b, workspace: ws)
            let block = max(1, blockBytes / max(1, panelBytes)) * nr
            pool.forEachClaimedChunk(of: mTiles) { r in
                let rows = (r.lowerBound * mr)..<min(packed.m, r.upperBound * mr)
                var j = 0
                repeat {
                    let columns = j..<min(main.upperBound, j + block)
                    tiles(packed: packed, rows: rows, columns: columns, b: b, packedB: data + j / nr * panelBytes, output: output,
                          last: columns.upperBound == main.upperBound ? last : 0..<0, workspace: ws)
                    j = columns.upperBound
                } while j < main.upperBound
            }
        }
    }

    /// The columns the tiles compute: all of them, except with a requantized output on VNNI or
    /// maddubs, where the columns past the last whole 16-column vector (a 7x7 layer's 49th, a
    /// 14x14 layer's last 4) run with the output channels in the lanes (`tiles`' `last`) instead of
    /// as a vector of 16 (8 with maddubs) columns with few of them used (VNNI: a third of a whole
    /// tile's time for one column; maddubs: 26 vector operations a group of 4 k for up to 8
    /// columns against 1 + 4 a column, so only up to 5 columns). Column shares start on a panel,
    /// so only the last share has such columns.
    static func mainColumns(packed: PackedInt8A, columns: Range<Int>, output: Int8GEMMOutput) -> Range<Int> {
        guard case .requantized = output else { return columns }
        let rest = columns.count % 16
        switch packed.kernel {
        case .vnni: return columns.lowerBound..<(columns.upperBound - rest)
        case .maddubs where rest <= 5: return columns.lowerBound..<(columns.upperBound - rest)
        default: return columns
        }
    }

    /// The offset B is packed with and the correction of each row's sums for it: the kernels
    /// multiply uint8 (x86, reference) or int8 (ARM) B; B of the other kind is packed with its top
    /// bit flipped (B + offset), and (offset - zero point) x the row's weight sum corrects the sums.
    static func packing(_ kernel: Int8Kernel, _ b: Int8B) -> (flip: UInt8, correction: Int32) {
        let flip: UInt8 = b.signed != kernel.signedB ? 0x80 : 0
        let offset: Int32 = flip == 0 ? 0 : (kernel.signedB ? 128 : -128)
        return (flip, offset &- b.zeroPoint)
    }

    /// Rows `rows` (starting on a multiple of MR) and columns `columns` of C, one thread: B packed
    /// a block (sized for L2) at a time into the workspace, then the block's tiles.
    static func run(packed: PackedInt8A, rows: Range<Int>, columns all: Range<Int>, b: Int8B, output: Int8GEMMOutput, workspace ws: Workspace) {
        let columns = mainColumns(packed: packed, columns: all, output: output)
        let last = packLastColumns(packed: packed, columns: columns.upperBound..<all.upperBound, b: b, workspace: ws)
        let nr = packed.kernel.nr, panelBytes = packed.kq * nr * packed.kernel.kGroup
        let nb = max(nr, min((columns.count + nr - 1) / nr * nr, blockBytes / max(1, panelBytes) * nr))
        ws.reserve(bBytes: nb / nr * panelBytes, rowBytes: 0)
        var jc = columns.lowerBound
        repeat {
            let block = jc..<min(columns.upperBound, jc + nb)
            if !block.isEmpty { pack(packed: packed, b: b, columns: block, into: ws.b, workspace: ws) }
            tiles(packed: packed, rows: rows, columns: block, b: b, packedB: UnsafeRawPointer(ws.b), output: output,
                  last: block.upperBound == columns.upperBound ? last : 0..<0, workspace: ws)
            jc = block.upperBound
        } while jc < columns.upperBound
    }

    /// Packs B's columns `columns` into NR-column panels at `dst` (panel q of the range at dst +
    /// q x the panel's bytes), group p of every panel from rows p*G ..< p*G + G.
    static func pack(packed: PackedInt8A, b: Int8B, columns: Range<Int>, into dst: UnsafeMutableRawPointer, workspace ws: Workspace) {
        let kernel = packed.kernel, nr = kernel.nr, g = kernel.kGroup, kq = packed.kq, k = packed.k
        let flip = packing(kernel, b).flip
        let count = columns.count, panelBytes = kq * nr * g
        // g im2col rows and a row of zeros (for k past K, where A is 0).
        ws.reserve(bBytes: 0, rowBytes: (g + 1) * count)
        let zeros = ws.rows + g * count
        zeros.update(repeating: 0, count: count)
        withUnsafeTemporaryAllocation(of: UnsafePointer<UInt8>?.self, capacity: 16) { rowPointers in
            let rp = rowPointers.baseAddress!
            for p in 0..<kq {
                for t in 0..<g {
                    let kk = p * g + t
                    rp[t] = kk < k ? b.row(kk, j0: columns.lowerBound, count: count, scratch: ws.rows + t * count) : UnsafePointer(zeros)
                }
                kernel.packGroup(rp, cols: count, panelBytes: panelBytes, flip: flip, into: dst.assumingMemoryBound(to: UInt8.self) + p * nr * g)
            }
        }
    }

    /// Rows `rows` (starting on a multiple of MR) of C's columns `columns`, whose B is packed at
    /// `packedB`: each MR-row panel of A (in L1) against every panel of the block (in L2), each
    /// tile requantized (or offset) as soon as it is done. The other order (each B panel against
    /// every A panel) measured the same on Zen 4. Then, while the panel of A is in L1, C's columns
    /// `last` (fewer than 16, VNNI or maddubs, requantized; their B packed by `packLastColumns`) with the
    /// output channels in the lanes (`socprof_i8_gemm_vnni_columns`, `socprof_i8_gemm_avx2b_columns`); run after the whole block,
    /// they streamed all of A again from L2 and took 4 % of MobileNet's time instead of 1.
    static func tiles(packed: PackedInt8A, rows: Range<Int>, columns: Range<Int>, b: Int8B, packedB: UnsafeRawPointer, output: Int8GEMMOutput,
                      last: Range<Int>, workspace ws: Workspace) {
        let kernel = packed.kernel
        let mr = kernel.mr, nr = kernel.nr, kq = packed.kq, panelBytes = kq * nr * kernel.kGroup
        let correction = packing(kernel, b).correction
        let bias = output.bias
        for i in stride(from: rows.lowerBound, to: rows.upperBound, by: mr) {
            let rowCount = min(mr, rows.upperBound - i)
            let ap = packed.panel(i)
            for r in 0..<rowCount { ws.rowAdd[r] = (bias?[i + r] ?? 0) &+ correction &* packed.rowSums[i + r] }
            // Requantized from the tiles' registers, where the kernel can (VNNI, AVX2): the whole
            // row of tiles in one call.
            let fromRegisters: Bool
            if case .requantized(let c, let ldc, let rq) = output {
                fromRegisters = kernel.requantizedPanels(kq: kq, a: ap, b: packedB, panelBytes: panelBytes, rows: rowCount, cols: columns.count,
                                                         rowAdd: ws.rowAdd, rowScale: rq.multipliers + i, zeroPoint: rq.zeroPoint,
                                                         min: rq.range.lowerBound, max: rq.range.upperBound, out: c + i * ldc + columns.lowerBound,
                                                         ldout: ldc)
            } else {
                fromRegisters = false
            }
            for q in 0..<(fromRegisters ? 0 : (columns.count + nr - 1) / nr) {
                let cols = min(nr, columns.count - q * nr), j = columns.lowerBound + q * nr
                let bp = packedB + q * panelBytes
                kernel.tile(kq: kq, a: ap, b: bp, c: ws.tile, columns: cols)
                switch output {
                case .requantized(let c, let ldc, let rq):
                    kernel.requantize(ws.tile, ldacc: nr, rows: rowCount, cols: cols, rowAdd: ws.rowAdd, rowScale: rq.multipliers + i,
                                      zeroPoint: rq.zeroPoint, min: rq.range.lowerBound, max: rq.range.upperBound,
                                      out: c + i * ldc + j, ldout: ldc)
                case .int32(let c, let ldc, _):
                    for r in 0..<rowCount {
                        let src = ws.tile + r * nr, dst = c + (i + r) * ldc + j, add = ws.rowAdd[r]
                        for q in 0..<cols { dst[q] = src[q] &+ add }
                    }
                }
            }
            if !last.isEmpty, case .requantized(let c, let ldc, let rq) = output {
                let columns = kernel == .vnni ? socprof_i8_gemm_vnni_columns : socprof_i8_gemm_avx2b_columns
                columns(kq, ap.assumingMemoryBound(to: Int8.self), rowCount, ws.columns, last.count, ws.rowAdd,
                        rq.multipliers + i, rq.zeroPoint, rq.range.lowerBound, rq.range.upperBound, c + i * ldc + last.lowerBound, ldc)
            }
        }
    }

    /// B's columns `columns` (fewer than 16; none: nothing to do) packed [column][kq][4] into the
    /// workspace for `socprof_i8_gemm_vnni_columns` or `socprof_i8_gemm_avx2b_columns`, flipped as
    /// the panels are; returns `columns`.
    static func packLastColumns(packed: PackedInt8A, columns: Range<Int>, b: Int8B, workspace ws: Workspace) -> Range<Int> {
        guard !columns.isEmpty else { return columns }
        let kernel = packed.kernel, k = packed.k, count = columns.count, depth = packed.kq * kernel.kGroup
        precondition((kernel == .vnni || kernel == .maddubs) && count < 16)
        let flip = packing(kernel, b).flip
        ws.reserve(columnBytes: count * depth)
        ws.reserve(bBytes: 0, rowBytes: count)
        let bt = ws.columns
        for kk in 0..<depth {
            if kk < k {
                let row = b.row(kk, j0: columns.lowerBound, count: count, scratch: ws.rows)
                for j in 0..<count { bt[j * depth + kk] = row[j] ^ flip }
            } else {
                for j in 0..<count { bt[j * depth + kk] = flip }
            }
        }
        return columns
    }
}
