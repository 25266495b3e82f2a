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

        public init() {
            bCapacity = Int8GEMM.blockBytes + 64 * 1024
            b = .allocate(byteCount: bCapacity, alignment: 64)
            rowsCapacity = 16 * 4096
            rows = .allocate(capacity: rowsCapacity)
            tile = .allocate(capacity: 8 * 48)
            rowAdd = .allocate(capacity: 16)
            intsCapacity = 4096
            ints = .allocate(capacity: intsCapacity)
        }

        deinit {
            b.deallocate()
            rows.deallocate()
            tile.deallocate()
            rowAdd.deallocate()
            ints.deallocate()
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
    }

    /// C = A x (B - zero point), requantized or int32 (`output`, whose pointers address all of C),
    /// on a thread pool: the rows or the columns (whichever leaves the busiest thread fewer tiles)
    /// are split between threads, each with its own workspace (`workspaces.count >= pool.count`).
    public static func multiply(packed: PackedInt8A, n: Int, b: Int8B, output: Int8GEMMOutput, pool: ThreadPool, workspaces: [Workspace]) {
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
        let splitColumns = columnWork <= rowWork  // on a tie, columns: each thread packs only its own B
        var job = Job(packed: packed, n: n, b: b, output: output, threads: threads, workspaces: workspaces, splitColumns: splitColumns)
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
        let b: Int8B
        let output: Int8GEMMOutput
        let threads: Int
        let workspaces: [Workspace]
        let splitColumns: Bool
        static let function: ThreadPool.JobFunction = { p, t in p!.assumingMemoryBound(to: Job.self).pointee.work(t) }

        func work(_ t: Int) {
            let mr = packed.kernel.mr, nr = packed.kernel.nr
            if splitColumns {
                let r = ThreadPool.shareColumns(n, tile: nr, part: t, of: threads)
                guard !r.isEmpty else { return }
                run(packed: packed, rows: 0..<packed.m, columns: r, b: b, output: output, workspace: workspaces[t])
            } else {
                let r = ThreadPool.share((packed.m + mr - 1) / mr, part: t, of: threads)
                let i0 = r.lowerBound * mr, i1 = min(packed.m, r.upperBound * mr)
                guard i1 > i0 else { return }
                run(packed: packed, rows: i0..<i1, columns: 0..<n, b: b, output: output, workspace: workspaces[t])
            }
        }
    }

    /// Rows `rows` (starting on a multiple of MR) and columns `columns` of C, one thread.
    static func run(packed: PackedInt8A, rows: Range<Int>, columns: Range<Int>, b: Int8B, output: Int8GEMMOutput, workspace ws: Workspace) {
        let kernel = packed.kernel
        let mr = kernel.mr, nr = kernel.nr, g = kernel.kGroup, kq = packed.kq, k = packed.k
        let flip: UInt8 = b.signed != kernel.signedB ? 0x80 : 0
        // The packed B is B + offset; the sums are corrected by (offset - zero point) x row sum.
        let offset: Int32 = flip == 0 ? 0 : (kernel.signedB ? 128 : -128)
        let correction = offset &- b.zeroPoint
        let panelB = kq * nr * g
        let nb = max(nr, min((columns.count + nr - 1) / nr * nr, blockBytes / max(1, panelB) * nr))
        // B block; g im2col rows and a row of zeros (for k past K, where A is 0).
        ws.reserve(bBytes: nb / nr * panelB, rowBytes: (g + 1) * nb)
        let zeros = ws.rows + g * nb
        zeros.update(repeating: 0, count: nb)
        let bias = output.bias
        withUnsafeTemporaryAllocation(of: UnsafePointer<UInt8>?.self, capacity: 16) { rowPointers in
            let rp = rowPointers.baseAddress!
            var jc = columns.lowerBound
            while jc < columns.upperBound {
                let nbb = min(nb, columns.upperBound - jc)
                // Pack the block: group p of every panel from rows p*g ..< p*g + g.
                for p in 0..<kq {
                    for t in 0..<g {
                        let kk = p * g + t
                        rp[t] = kk < k ? b.row(kk, j0: jc, count: nbb, scratch: ws.rows + t * nb) : UnsafePointer(zeros)
                    }
                    kernel.packGroup(rp, cols: nbb, panelBytes: panelB, flip: flip, into: ws.b.assumingMemoryBound(to: UInt8.self) + p * nr * g)
                }
                // Each MR-row panel of A (in L1) against every panel of the block (in L2); the
                // other order (each B panel against every A panel) measured the same on Zen 4.
                for i in stride(from: rows.lowerBound, to: rows.upperBound, by: mr) {
                    let rowCount = min(mr, rows.upperBound - i)
                    let ap = packed.panel(i)
                    for r in 0..<rowCount { ws.rowAdd[r] = (bias?[i + r] ?? 0) &+ correction &* packed.rowSums[i + r] }
                    for q in 0..<(nbb + nr - 1) / nr {
                        let cols = min(nr, nbb - q * nr), j = jc + q * nr
                        if kernel == .vnni, case .requantized(let c, let ldc, let rq) = output {
                            // Requantized from the tile's registers.
                            socprof_i8_gemm_vnni_requant(kq, ap.assumingMemoryBound(to: Int8.self),
                                                         UnsafeRawPointer(ws.b + q * panelB).assumingMemoryBound(to: UInt8.self), rowCount, cols,
                                                         ws.rowAdd, rq.multipliers + i, rq.zeroPoint, rq.range.lowerBound, rq.range.upperBound,
                                                         c + i * ldc + j, ldc)
                            continue
                        }
                        kernel.tile(kq: kq, a: ap, b: UnsafeRawPointer(ws.b + q * panelB), c: ws.tile, columns: cols)
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
                }
                jc += nbb
            }
        }
    }
}
