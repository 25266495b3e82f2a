import CPerfEvent
#if canImport(Glibc)
import Glibc
#endif

/// Measured roofline ceilings, in the manner of the Empirical Roofline Toolkit and
/// likwid-bench: peak fp32 FMA throughput from register-resident chains, and bandwidth from
/// reading (and copying) working sets of increasing size on every thread of a pool.
public enum Ceilings {
    #if arch(x86_64) || arch(i386)
    public typealias Vector = SIMD16<Float>
    #else
    public typealias Vector = SIMD4<Float>
    #endif

    /// 12 independent FMA chains (a = a * x + y), `iterations` times: 24 x lanes FLOP per iteration. Returns a
    /// sum so that the work is kept.
    @inline(never)
    public static func fmaLoop(iterations: Int, seed: Float) -> Float {
        let x = Vector(repeating: 1 - seed), y = Vector(repeating: seed)
        var a0 = Vector(repeating: seed * 1), a1 = Vector(repeating: seed * 2), a2 = Vector(repeating: seed * 3)
        var a3 = Vector(repeating: seed * 4), a4 = Vector(repeating: seed * 5), a5 = Vector(repeating: seed * 6)
        var a6 = Vector(repeating: seed * 7), a7 = Vector(repeating: seed * 8), a8 = Vector(repeating: seed * 9)
        var a9 = Vector(repeating: seed * 10), a10 = Vector(repeating: seed * 11), a11 = Vector(repeating: seed * 12)
        for _ in 0..<iterations {
            a0 = y.addingProduct(a0, x); a1 = y.addingProduct(a1, x)
            a2 = y.addingProduct(a2, x); a3 = y.addingProduct(a3, x)
            a4 = y.addingProduct(a4, x); a5 = y.addingProduct(a5, x)
            a6 = y.addingProduct(a6, x); a7 = y.addingProduct(a7, x)
            a8 = y.addingProduct(a8, x); a9 = y.addingProduct(a9, x)
            a10 = y.addingProduct(a10, x); a11 = y.addingProduct(a11, x)
        }
        return (a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11).sum()
    }

    /// FLOP per iteration of `fmaLoop` (an FMA is 2 per lane).
    public static var flopPerIteration: Double { Double(12 * Vector.scalarCount * 2) }

    /// Peak fp32 GFLOP/s of the pool: every thread runs the FMA loop for about `seconds`;
    /// the best of `trials` is kept.
    public static func peakGFLOPS(pool: ThreadPool, seconds: Double = 0.2, trials: Int = 3) -> Double {
        peak(pool: pool, seconds: seconds, trials: trials, flopPerIteration: flopPerIteration) { n in Double(fmaLoop(iterations: n, seed: 1e-7)) }
    }

    /// The same with the hand-written C loop (GCC/clang vector extensions, 384 FLOP per
    /// iteration), the reference printed beside it.
    public static func referencePeakGFLOPS(pool: ThreadPool, seconds: Double = 0.2, trials: Int = 3) -> Double {
        peak(pool: pool, seconds: seconds, trials: trials, flopPerIteration: 384) { n in socprof_reference_fma_loop(n) }
    }

    static func peak(pool: ThreadPool, seconds: Double, trials: Int, flopPerIteration: Double, _ loop: @escaping (Int) -> Double) -> Double {
        // Calibrate the iteration count on one thread.
        var n = 1 << 16
        var sink = 0.0 // results are kept, so that no loop can be removed
        defer { if sink == 1.2345 { print(sink) } }
        while true {
            let t0 = now()
            sink += loop(n)
            let dt = now() - t0
            if dt > seconds / 4 || n > 1 << 40 { n = Int(Double(n) * seconds / max(dt, 1e-9)); break }
            n *= 4
        }
        var best = 0.0
        for _ in 0..<trials {
            let t0 = now()
            pool.run { _ in if loop(n) == 1.2345 { print("") } }
            let dt = now() - t0
            best = max(best, Double(pool.count) * Double(n) * flopPerIteration / dt / 1e9)
        }
        return best
    }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// Sums `count` floats with 4 vector accumulators: a read stream.
    @inline(never)
    public static func readKernel(_ p: UnsafePointer<Float>, count: Int) -> Float {
        let lanes = Vector.scalarCount
        var s0 = Vector(repeating: 0), s1 = s0, s2 = s0, s3 = s0
        var i = 0
        let raw = UnsafeRawPointer(p)
        while i + 4 * lanes <= count {
            s0 += raw.loadUnaligned(fromByteOffset: i * 4, as: Vector.self)
            s1 += raw.loadUnaligned(fromByteOffset: (i + lanes) * 4, as: Vector.self)
            s2 += raw.loadUnaligned(fromByteOffset: (i + 2 * lanes) * 4, as: Vector.self)
            s3 += raw.loadUnaligned(fromByteOffset: (i + 3 * lanes) * 4, as: Vector.self)
            i += 4 * lanes
        }
        var s = (s0 + s1 + s2 + s3).sum()
        while i < count { s += p[i]; i += 1 }
        return s
    }

    /// One point of a bandwidth sweep.
    public struct Point: Codable, Sendable {
        /// Bytes each thread works on.
        public let bytesPerThread: Int64
        /// GB/s (10^9 bytes/s) of all threads together, reading.
        public let readGBs: Double

        public init(bytesPerThread: Int64, readGBs: Double) {
            self.bytesPerThread = bytesPerThread
            self.readGBs = readGBs
        }
    }

    /// Read bandwidth of the pool with each thread reading its own `bytesPerThread` buffer
    /// repeatedly (about `targetBytes` in all per trial; the best of `trials`).
    public static func readBandwidth(pool: ThreadPool, buffers: [UnsafeMutablePointer<Float>], bytesPerThread: Int,
                                     targetBytes: Int = 256 << 20, trials: Int = 5) -> Double {
        let count = bytesPerThread / 4
        let passes = max(2, targetBytes / max(1, bytesPerThread * pool.count))
        var best = 0.0
        for _ in 0..<trials {
            let t0 = now()
            pool.run { t in
                var s: Float = 0
                for _ in 0..<passes {
                    socprof_clobber(buffers[t]) // each pass really reads the buffer
                    s += readKernel(buffers[t], count: count)
                }
                if s == 12345.678 { print(s) } // keeps the sum
            }
            let dt = now() - t0
            best = max(best, Double(pool.count) * Double(passes) * Double(count * 4) / dt / 1e9)
        }
        return best
    }

    /// Copy bandwidth (bytes read plus bytes written per second) of the pool over `bytesPerThread`
    /// per thread, each thread copying its own half-buffer to the other half.
    public static func copyBandwidth(pool: ThreadPool, buffers: [UnsafeMutablePointer<Float>], bytesPerThread: Int, trials: Int = 5) -> Double {
        let half = bytesPerThread / 8
        var best = 0.0
        for _ in 0..<trials {
            let t0 = now()
            pool.run { t in
                socprof_clobber(buffers[t])
                (buffers[t] + half).update(from: buffers[t], count: half)
                socprof_clobber(buffers[t])
            }
            let dt = now() - t0
            best = max(best, Double(pool.count) * Double(2 * half * 4) / dt / 1e9)
        }
        return best
    }
}
