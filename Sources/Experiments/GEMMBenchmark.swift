import Counters
import Kernels

/// `socprof bench gemm`'s fp32 measurement: SGEMM C = A x B (row-major, seeded values in
/// -0.5...0.5, A packed on every call) on a pool, with the kernel that ran. The JSON form is this
/// value (keys as named).
public struct GEMMBenchmark: Codable, Sendable {
    public let m: Int, n: Int, k: Int
    public let threads: Int
    /// Median time of one multiplication, s.
    public let seconds: Double
    /// 2 x M x N x K over the median time, GFLOP/s.
    public let gflops: Double
    /// Over the fastest time, GFLOP/s.
    public let best_gflops: Double
    /// FLOP per median CPU second of the process, times the threads, GFLOP/s: the rate had the
    /// threads had their CPUs to themselves (a shared machine disturbs it less than `gflops`).
    public let cpu_gflops: Double
    /// The GEMM kernel and its blocking (GEMMKernel).
    public let kernel: String
    public let mr: Int, nr: Int, kc: Int, mc: Int, nc: Int
    /// The CPU the kernel was chosen for.
    public let cpu: String

    /// Times C[m x n] = A[m x k] x B[k x n] on `pool`.
    public static func run(m: Int, n: Int, k: Int, pool: ThreadPool, timing: KernelTiming) -> GEMMBenchmark {
        let workspaces = (0..<pool.count).map { _ in GEMM.Workspace() }
        let kernel = GEMM.kernel
        var rng = SplitMix64(seed: 42)
        let a = (0..<(m * k)).map { _ in rng.nextFloat() - 0.5 }
        let b = (0..<(k * n)).map { _ in rng.nextFloat() - 0.5 }
        var c = [Float](repeating: 0, count: m * n)
        let times = a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                c.withUnsafeMutableBufferPointer { c in
                    timing.samples {
                        GEMM.multiply(m: m, n: n, k: k, a: a.baseAddress!, lda: k, b: b.baseAddress!, ldb: n,
                                      c: c.baseAddress!, ldc: n, pool: pool, workspaces: workspaces)
                    }
                }
            }
        }
        let flop = 2 * Double(m) * Double(n) * Double(k)
        let seconds = Statistics.median(times.map(\.wall)) ?? 0
        let cpuSeconds = Statistics.median(times.map(\.cpu)) ?? 0
        return GEMMBenchmark(m: m, n: n, k: k, threads: pool.count, seconds: seconds, gflops: flop / seconds / 1e9,
                             best_gflops: flop / (times.map(\.wall).min() ?? seconds) / 1e9,
                             cpu_gflops: flop * Double(pool.count) / cpuSeconds / 1e9,
                             kernel: kernel.name, mr: kernel.mr, nr: kernel.nr, kc: kernel.kc, mc: kernel.mc, nc: kernel.nc,
                             cpu: "\(GEMMKernel.CPU.current)")
    }
}

/// `socprof bench gemm --precision int8`'s measurement: A int8 weights (per-row symmetric, packed
/// once, as a layer's), B uint8 activations with zero point 128, int32 sums requantized to uint8
/// (per-row multipliers, ReLU clamp), by the kernel SOCPROF_INT8_KERNEL names or the best this
/// CPU runs; 2 x M x N x K operations. The JSON form is this value.
public struct Int8GEMMBenchmark: Codable, Sendable {
    public var precision = "int8"
    /// The int8 kernel (Int8Kernel).
    public let kernel: String
    public let m: Int, n: Int, k: Int
    public let threads: Int
    /// Median time of one multiplication, s.
    public let seconds: Double
    /// 2 x M x N x K over the median time, GOP/s.
    public let gops: Double

    /// Times the requantized C[m x n] = A[m x k] x B[k x n] on `pool`.
    public static func run(m: Int, n: Int, k: Int, pool: ThreadPool, timing: KernelTiming) -> Int8GEMMBenchmark {
        let kernel = Int8Kernel.current
        let workspaces = (0..<pool.count).map { _ in Int8GEMM.Workspace() }
        var rng = SplitMix64(seed: 42)
        let limit = UInt64(kernel.weightLimit)
        let a = (0..<(m * k)).map { _ in Int8(Int(rng.next() % (2 * limit + 1)) - Int(limit)) }
        let b = (0..<(k * n)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let bias = (0..<m).map { _ in Int32(Int(rng.next() % 2001) - 1000) }
        // Multipliers that keep typical outputs inside uint8 (sums of k products of about L x 74).
        let multipliers = [Float](repeating: 40 / (Float(k).squareRoot() * Float(limit) * 74), count: m)
        var c = [UInt8](repeating: 0, count: m * n)
        let packed = a.withUnsafeBufferPointer { PackedInt8A(m: m, k: k, weights: $0.baseAddress!, lda: k, kernel: kernel) }
        let seconds = b.withUnsafeBufferPointer { b in
            bias.withUnsafeBufferPointer { bias in
                multipliers.withUnsafeBufferPointer { mult in
                    c.withUnsafeMutableBufferPointer { c in
                        let rq = Int8Requantization(bias: bias.baseAddress!, multipliers: mult.baseAddress!, zeroPoint: 3, range: 3...255)
                        let operand = Int8B.dense(DenseInt8B(b.baseAddress!, ldb: n, zeroPoint: 128))
                        return timing.medianSeconds {
                            Int8GEMM.multiply(packed: packed, n: n, b: operand, output: .requantized(c.baseAddress!, ldc: n, rq),
                                              pool: pool, workspaces: workspaces)
                        }
                    }
                }
            }
        }
        return Int8GEMMBenchmark(kernel: kernel.rawValue, m: m, n: n, k: k, threads: pool.count, seconds: seconds,
                                 gops: 2 * Double(m) * Double(n) * Double(k) / seconds / 1e9)
    }
}
