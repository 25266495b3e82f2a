/// A 3x3 convolution's weights in the Winograd F(4x4, 3x3) domain, made once (like `PackedA`):
/// for each of the 36 positions ξ of the 6x6 transformed tile, the matrix U[ξ] (output channels
/// x input channels) of G g G^T, packed as the A operand of the GEMM that `WinogradConvolution`
/// runs for ξ. Four times the floats of the weights.
// Sendable: made in `init`, read-only afterwards.
public final class WinogradWeights: @unchecked Sendable {
    /// Output channels (the rows of each U[ξ]).
    public let outputChannels: Int
    /// Input channels (the columns).
    public let inputChannels: Int
    /// U[ξ] for ξ = 6 * row + column of the transformed tile, packed for `kernel`.
    let packed: [PackedA]

    /// Transforms weights laid out [outputChannels][inputChannels][3][3], in Double, and packs the
    /// 36 matrices for `kernel`.
    public init(weights: UnsafePointer<Float>, outputChannels: Int, inputChannels: Int, kernel: GEMMKernel = GEMM.kernel) {
        self.outputChannels = outputChannels
        self.inputChannels = inputChannels
        let k = outputChannels, c = inputChannels
        let u = UnsafeMutablePointer<Float>.allocate(capacity: max(1, 36 * k * c))
        defer { u.deallocate() }
        let t = UnsafeMutablePointer<Float>.allocate(capacity: 36)
        defer { t.deallocate() }
        for o in 0..<k {
            for i in 0..<c {
                WinogradTransform.filter(weights + (o * c + i) * 9, into: t)
                for xi in 0..<36 { u[(xi * k + o) * c + i] = t[xi] }
            }
        }
        packed = (0..<36).map { xi in PackedA(m: k, k: c, a: u + xi * k * c, lda: c, kernel: kernel) }
    }

    /// Bytes of the packed matrices.
    public var bytes: Int64 { packed.reduce(0) { $0 + $1.bytes } }
}
