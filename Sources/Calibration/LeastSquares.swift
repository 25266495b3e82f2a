/// Ordinary least squares by Householder QR, with column scaling and a rank test in column order.
///
/// Each column of the design matrix is first scaled to unit Euclidean norm, so that an event rate of
/// 10⁹ per second and a voltage of 1 V weigh the same in the rank test and in rounding. Columns are
/// then reduced in the order given (no pivoting): a column that keeps less than `tolerance` of its
/// (unit) norm after the reflections of the columns kept before it is a linear combination of them,
/// cannot be identified, and is dropped. The first columns therefore win: put the terms that must be
/// kept first.
///
/// Standard errors come from σ̂²·(XᵀX)⁻¹ with σ̂² = RSS / (n − p), where (XᵀX)⁻¹ = R⁻¹R⁻ᵀ is formed
/// from the triangular factor (never from XᵀX itself, whose condition number is the square of X's).
public struct LeastSquares: Sendable {
    /// The columns of X (each `rows` long), in priority order.
    public let columns: [[Double]]
    /// The observations, `rows` long.
    public let y: [Double]
    /// Smallest fraction of a column's norm that must remain after projecting out the kept columns.
    public let tolerance: Double

    /// The default rank tolerance: a column that keeps less than 10⁻⁹ of its norm after projection on
    /// the columns before it is taken as dependent on them (double rounding leaves about 10⁻¹⁵·cond).
    public static let defaultTolerance = 1e-9

    /// A least-squares problem; `columns` must all have `y.count` entries.
    public init(columns: [[Double]], y: [Double], tolerance: Double = LeastSquares.defaultTolerance) {
        precondition(columns.allSatisfy { $0.count == y.count }, "every column needs one value per observation")
        self.columns = columns
        self.y = y
        self.tolerance = tolerance
    }

    /// The solution of one problem.
    public struct Solution: Sendable {
        /// Indices (into `columns`) of the identified columns, ascending.
        public let kept: [Int]
        /// Indices of the columns dropped as linear combinations of earlier ones, ascending.
        public let dropped: [Int]
        /// The coefficient of each kept column (same order as `kept`).
        public let coefficients: [Double]
        /// (XᵀX)⁻¹ over the kept columns, row-major, `kept.count`² entries.
        public let inverseGram: [Double]
        /// Residual sum of squares, in the squared unit of `y`.
        public let rss: Double
        /// Number of observations.
        public let rows: Int

        /// The coefficient of column `index`, or 0 when it was dropped.
        public func coefficient(ofColumn index: Int) -> Double {
            kept.firstIndex(of: index).map { coefficients[$0] } ?? 0
        }

        /// σ̂² = RSS / (n − p); NaN when there are no degrees of freedom left.
        public var residualVariance: Double {
            rows > kept.count ? rss / Double(rows - kept.count) : .nan
        }

        /// Standard error of each kept coefficient, √(σ̂²·[(XᵀX)⁻¹]ᵢᵢ), in the coefficient's unit.
        public var standardErrors: [Double] {
            let s2 = residualVariance
            let p = kept.count
            return (0..<p).map { (s2 * inverseGram[$0 * p + $0]).squareRoot() }
        }
    }

    /// Solves the problem. Never fails: with no identifiable column the solution is empty.
    public func solve() -> Solution {
        let n = y.count, p = columns.count
        // Column-major copy, each column scaled to unit norm.
        var a = [Double](repeating: 0, count: n * p)
        var scale = [Double](repeating: 0, count: p)
        for j in 0..<p {
            var norm = 0.0
            for v in columns[j] { norm += v * v }
            norm = norm.squareRoot()
            scale[j] = norm
            if norm > 0 && norm.isFinite {
                for i in 0..<n { a[j * n + i] = columns[j][i] / norm }
            }
        }
        var b = y
        var kept: [Int] = [], dropped: [Int] = []
        var k = 0 // rows of R so far
        for j in 0..<p {
            guard k < n, scale[j] > 0, scale[j].isFinite else { dropped.append(j); continue }
            var norm = 0.0
            for i in k..<n { norm += a[j * n + i] * a[j * n + i] }
            norm = norm.squareRoot()
            if norm <= tolerance { dropped.append(j); continue }
            // Householder reflector H = I − τvvᵀ mapping a[k..<n, j] onto −sign·norm·e₁.
            let alpha = a[j * n + k] >= 0 ? -norm : norm
            var v = [Double](repeating: 0, count: n - k)
            for i in k..<n { v[i - k] = a[j * n + i] }
            v[0] -= alpha
            var vv = 0.0
            for x in v { vv += x * x }
            a[j * n + k] = alpha
            for i in (k + 1)..<n { a[j * n + i] = 0 }
            if vv > 0 {
                let tau = 2 / vv
                for c in (j + 1)..<max(j + 1, p) {
                    var dot = 0.0
                    for i in k..<n { dot += v[i - k] * a[c * n + i] }
                    let f = tau * dot
                    for i in k..<n { a[c * n + i] -= f * v[i - k] }
                }
                var dot = 0.0
                for i in k..<n { dot += v[i - k] * b[i] }
                let f = tau * dot
                for i in k..<n { b[i] -= f * v[i - k] }
            }
            kept.append(j)
            k += 1
        }
        let m = kept.count
        // R (m×m, upper triangular): row r of R holds the kept columns' entries in row r.
        var r = [Double](repeating: 0, count: m * m)
        for (c, j) in kept.enumerated() {
            for row in 0...c { r[row * m + c] = a[j * n + row] }
        }
        // Back substitution for the scaled coefficients.
        var z = [Double](repeating: 0, count: m)
        for row in stride(from: m - 1, through: 0, by: -1) {
            var s = b[row]
            for c in (row + 1)..<max(row + 1, m) { s -= r[row * m + c] * z[c] }
            z[row] = s / r[row * m + row]
        }
        var rss = 0.0
        for i in m..<max(m, n) { rss += b[i] * b[i] }
        // R⁻¹ (upper triangular), then (XsᵀXs)⁻¹ = R⁻¹R⁻ᵀ, then undo the scaling.
        var rinv = [Double](repeating: 0, count: m * m)
        for c in 0..<m {
            rinv[c * m + c] = 1 / r[c * m + c]
            for row in stride(from: c - 1, through: 0, by: -1) {
                var s = 0.0
                for t in (row + 1)...c { s += r[row * m + t] * rinv[t * m + c] }
                rinv[row * m + c] = -s / r[row * m + row]
            }
        }
        var gram = [Double](repeating: 0, count: m * m)
        for i in 0..<m {
            for j in i..<m {
                var s = 0.0
                for t in j..<m { s += rinv[i * m + t] * rinv[j * m + t] }
                let v = s / (scale[kept[i]] * scale[kept[j]])
                gram[i * m + j] = v
                gram[j * m + i] = v
            }
        }
        let coefficients = (0..<m).map { z[$0] / scale[kept[$0]] }
        return Solution(kept: kept, dropped: dropped, coefficients: coefficients, inverseGram: gram, rss: rss, rows: n)
    }
}
