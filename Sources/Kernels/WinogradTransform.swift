/// The three transforms of Winograd F(4x4, 3x3) (Lavin & Gray, "Fast Algorithms for
/// Convolutional Neural Networks", 2015), with the interpolation points 0, ±1, ±2 and ∞ that
/// NNPACK and ARM Compute Library use: a 4x4 output tile Y of a 3x3 filter g over a 6x6 input
/// tile d is Y = A^T [(G g G^T) ⊙ (B^T d B)] A, with
///
///     B^T = [4  0 -5  0 1 0]    G = [ 1/4     0     0 ]    A^T = [1 1  1 1  1 0]
///           [0 -4 -4  1 1 0]        [-1/6  -1/6  -1/6 ]          [0 1 -1 2 -2 0]
///           [0  4 -4 -1 1 0]        [-1/6   1/6  -1/6 ]          [0 1  1 4  4 0]
///           [0 -2 -1  2 1 0]        [1/24  1/12   1/6 ]          [0 1 -1 8 -8 1]
///           [0  2 -1 -2 1 0]        [1/24 -1/12   1/6 ]
///           [0  4  0 -5 0 1]        [ 0      0     1  ]
///
/// Each 2-D transform is the 1-D one on the columns, then on the rows. The input and output
/// transforms work on vectors whose lanes are neighbouring tiles, so each is a handful of vector
/// additions and multiplications per element; they are in WinogradConvolution.swift, beside their
/// only caller: a generic function is specialised only in its own file when the module is compiled
/// file by file (debug builds), and unspecialised SIMD code runs about 50x slower.
enum WinogradTransform {
    /// G g G^T of one 3x3 filter (row-major), in Double, into `u[0..<36]` (row-major 6x6: ξ = 6
    /// * row + column).
    static func filter(_ g: UnsafePointer<Float>, into u: UnsafeMutablePointer<Float>) {
        // G applied to a 3-vector, giving 6 values.
        @inline(__always)
        func column(_ a: Double, _ b: Double, _ c: Double) -> (Double, Double, Double, Double, Double, Double) {
            (a / 4, -(a + b + c) / 6, -(a - b + c) / 6, a / 24 + b / 12 + c / 6, a / 24 - b / 12 + c / 6, c)
        }
        // G g: 6 rows x 3 columns, column by column, into gg[row * 3 + column].
        var gg = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
        withUnsafeMutableBytes(of: &gg) { raw in
            let gg = raw.bindMemory(to: Double.self)
            for col in 0..<3 {
                let v = column(Double(g[col]), Double(g[3 + col]), Double(g[6 + col]))
                gg[col] = v.0; gg[3 + col] = v.1; gg[6 + col] = v.2; gg[9 + col] = v.3; gg[12 + col] = v.4; gg[15 + col] = v.5
            }
            // (G g) G^T: each row of G g transformed as a 3-vector.
            for r in 0..<6 {
                let v = column(gg[r * 3], gg[r * 3 + 1], gg[r * 3 + 2])
                let row = u + r * 6
                row[0] = Float(v.0); row[1] = Float(v.1); row[2] = Float(v.2); row[3] = Float(v.3); row[4] = Float(v.4); row[5] = Float(v.5)
            }
        }
    }

    /// The 36 values of `filter` as an array (tests and checks).
    static func filter(_ g: [Float]) -> [Float] {
        precondition(g.count == 9)
        var u = [Float](repeating: 0, count: 36)
        g.withUnsafeBufferPointer { g in u.withUnsafeMutableBufferPointer { filter(g.baseAddress!, into: $0.baseAddress!) } }
        return u
    }
}
