/// Int8 weights packed once into one microkernel's panel layout ([K/G][MR][G] per panel of MR
/// rows, zero-padded in both directions; int16 for the AVX2 kernel), with each row's sum for the
/// zero-point correction. Weights are per-output-channel symmetric: zero point 0, values in
/// -L...L for L = `kernel.weightLimit`: 127 (the smull/vmull kernels add two products in int16,
/// which -128 x -128 twice would overflow; every kernel requires it so that all give the same
/// sums), 64 for `maddubs` (whose int16 pair sums of uint8 x int8 saturate beyond it).
// Sendable: packed in `init`, read-only afterwards.
public final class PackedInt8A: @unchecked Sendable {
    /// Rows (output channels).
    public let m: Int
    /// Columns (the dot products' length).
    public let k: Int
    /// The microkernel the panels are laid out for.
    public let kernel: Int8Kernel
    /// Groups of `kernel.kGroup` k, K rounded up.
    let kq: Int
    /// Bytes of one panel of MR rows.
    let panelBytes: Int
    let data: UnsafeMutableRawPointer
    /// Each row's sum of weights.
    let rowSums: UnsafeMutablePointer<Int32>

    /// Packs A[m x k] (row-major, `lda` elements a row) for `kernel`.
    public init(m: Int, k: Int, weights a: UnsafePointer<Int8>, lda: Int, kernel: Int8Kernel = .current) {
        precondition(m >= 0 && k >= 0 && lda >= k, "PackedInt8A: bad shape \(m)x\(k), lda \(lda)")
        self.m = m
        self.k = k
        self.kernel = kernel
        let mr = kernel.mr, g = kernel.kGroup, eb = kernel.aElementBytes, limit = kernel.weightLimit
        kq = (k + g - 1) / g
        panelBytes = kq * mr * g * eb
        let panels = (m + mr - 1) / mr
        // 32 bytes past the last panel: `socprof_i8_gemm_avx2b_columns` loads 32 bytes at each
        // 24-byte group of a 6-row panel.
        let total = panels * panelBytes + 32
        data = .allocate(byteCount: total, alignment: 64)
        data.initializeMemory(as: UInt8.self, repeating: 0, count: total)
        rowSums = .allocate(capacity: max(1, m))
        for i in 0..<m {
            let row = a + i * lda
            let base = data + (i / mr) * panelBytes
            let r = i % mr
            var sum: Int32 = 0
            for kk in 0..<k {
                let w = row[kk]
                precondition(w >= -limit && w <= limit, "int8 weights for the \(kernel) kernel must lie in -\(limit)...\(limit); row \(i) column \(kk) is \(w)")
                sum &+= Int32(w)
                let offset = (((kk / g) * mr + r) * g + kk % g) * eb
                if eb == 1 {
                    base.storeBytes(of: w, toByteOffset: offset, as: Int8.self)
                } else {
                    base.storeBytes(of: Int16(w), toByteOffset: offset, as: Int16.self)
                }
            }
            rowSums[i] = sum
        }
    }

    deinit {
        data.deallocate()
        rowSums.deallocate()
    }

    /// Bytes it holds (panels and row sums).
    public var bytes: Int64 { Int64((m + kernel.mr - 1) / kernel.mr * panelBytes) + Int64(m) * 4 }

    /// The panel holding row `i` (a multiple of MR).
    @inline(__always)
    func panel(_ i: Int) -> UnsafeRawPointer { UnsafeRawPointer(data + (i / kernel.mr) * panelBytes) }
}
