import CBench
import LinuxSystem
#if canImport(Glibc)
import Glibc
#endif

/// Measured roofline ceilings, in the manner of the Empirical Roofline Toolkit and
/// likwid-bench: peak fp32 FMA throughput from register-resident chains, and bandwidth from
/// reading (and copying) working sets of increasing size on every thread of a pool.
public enum Ceilings {
    // One native vector per chain: zmm with AVX-512, ymm with AVX2 only (a 16-lane vector would
    // take two of its 16 registers per chain and spill), a 128-bit NEON register on ARM.
    #if (arch(x86_64) || arch(i386)) && SOCPROF_AVX512
    public typealias Vector = SIMD16<Float>
    #elseif arch(x86_64) || arch(i386)
    public typealias Vector = SIMD8<Float>
    #else
    public typealias Vector = SIMD4<Float>
    #endif

    /// 12 independent FMA chains, each accumulating into itself (a = a + x·y), `iterations` times:
    /// 12 FMAs of `Vector.scalarCount` lanes, 24 x lanes FLOP per iteration (the main loop does four
    /// iterations per trip). Returns a sum so that the work is kept.
    ///
    /// The running value is the addend, not a multiplicand: ARM's `fmla` accumulates only into its
    /// destination, so `a = y + a·x` costs a `mov` of y before every `fmla` on aarch64 (half the
    /// peak), while `a = a + x·y` is one `fmla` (and one `vfmadd231ps` on x86-64). 12 chains cover
    /// the FMA latency times throughput of every core socprof knows (at most 10 on the Cortex-A57
    /// model, 8 for two 4-cycle AVX-512 pipes).
    ///
    /// Values: x·y = (1 - seed)·seed² (about 1e-14 for the ceiling's seed 1e-7) is less than half an
    /// ulp of the accumulators, which start at 1 + k(1 - seed) (1 to 12), so every FMA rounds back
    /// to the value it started from: the chains stay bounded and never denormal however long the
    /// loop runs. Their different starting values keep the compiler from merging them. With seed 1,
    /// x·y = 0 and every lane of every chain holds 1 (the FLOP-count test's case).
    @inline(never)
    public static func fmaLoop(iterations: Int, seed: Float) -> Float {
        let x = Vector(repeating: 1 - seed), y = Vector(repeating: seed * seed)
        var c = FMAChains(seed: seed)
        // Four iterations per trip of the main loop: on the in-order Cortex-A53 the loop's branch
        // waits for the last fmla to retire (about 10 cycles in LLVM's model), which 12 fmla per trip
        // would not hide (0.46 fmla/cycle of 0.5 there; 48 per trip give the model's full rate).
        var n = iterations
        while n >= 4 {
            c.step(x, y); c.step(x, y); c.step(x, y); c.step(x, y)
            n -= 4
        }
        while n > 0 {
            c.step(x, y)
            n -= 1
        }
        return c.sum
    }

    /// The 12 accumulators of `fmaLoop`, starting at 1 + k(1 - seed).
    struct FMAChains {
        var a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11: Vector

        @inline(__always)
        init(seed: Float) {
            let d = 1 - seed
            a0 = Vector(repeating: 1); a1 = Vector(repeating: 1 + d); a2 = Vector(repeating: 1 + 2 * d)
            a3 = Vector(repeating: 1 + 3 * d); a4 = Vector(repeating: 1 + 4 * d); a5 = Vector(repeating: 1 + 5 * d)
            a6 = Vector(repeating: 1 + 6 * d); a7 = Vector(repeating: 1 + 7 * d); a8 = Vector(repeating: 1 + 8 * d)
            a9 = Vector(repeating: 1 + 9 * d); a10 = Vector(repeating: 1 + 10 * d); a11 = Vector(repeating: 1 + 11 * d)
        }

        /// One iteration: a += x·y on every chain (12 FMAs).
        @inline(__always)
        mutating func step(_ x: Vector, _ y: Vector) {
            a0 = a0.addingProduct(x, y); a1 = a1.addingProduct(x, y)
            a2 = a2.addingProduct(x, y); a3 = a3.addingProduct(x, y)
            a4 = a4.addingProduct(x, y); a5 = a5.addingProduct(x, y)
            a6 = a6.addingProduct(x, y); a7 = a7.addingProduct(x, y)
            a8 = a8.addingProduct(x, y); a9 = a9.addingProduct(x, y)
            a10 = a10.addingProduct(x, y); a11 = a11.addingProduct(x, y)
        }

        var sum: Float { (a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11).sum() }
    }

    /// FLOP per iteration of `fmaLoop` (an FMA is 2 per lane).
    public static var flopPerIteration: Double { Double(12 * Vector.scalarCount * 2) }

    /// Peak fp32 GFLOP/s of the pool: every thread runs the FMA loop for about `seconds`;
    /// the best of `trials` is kept.
    public static func peakGFLOPS(pool: ThreadPool, seconds: Double = 0.2, trials: Int = 3) -> Double {
        peak(pool: pool, seconds: seconds, trials: trials, flopPerIteration: flopPerIteration) { n in Double(fmaLoop(iterations: n, seed: 1e-7)) }
    }

    /// The same with the hand-written C loop (GCC/clang vector extensions, the same a = a + x·y
    /// chains in the target's native vector width, 384 FLOP per iteration on every target), the
    /// reference printed beside it.
    public static func referencePeakGFLOPS(pool: ThreadPool, seconds: Double = 0.2, trials: Int = 3) -> Double {
        peak(pool: pool, seconds: seconds, trials: trials, flopPerIteration: 384) { n in socprof_reference_fma_loop(n) }
    }

    static func peak(pool: ThreadPool, seconds: Double, trials: Int, flopPerIteration: Double, _ loop: @escaping (Int) -> Double) -> Double {
        // Calibrate the iteration count on one thread.
        var n = 1 << 16
        var sink = 0.0 // results are kept, so that no loop can be removed
        defer { if sink == 1.2345 { print(sink) } }
        while true {
            let t0 = MonotonicClock.seconds()
            sink += loop(n)
            let dt = MonotonicClock.seconds() - t0
            if dt > seconds / 4 || n > 1 << 40 { n = Int(Double(n) * seconds / max(dt, 1e-9)); break }
            n *= 4
        }
        var best = 0.0
        for _ in 0..<trials {
            let t0 = MonotonicClock.seconds()
            pool.run { _ in if loop(n) == 1.2345 { print("") } }
            let dt = MonotonicClock.seconds() - t0
            best = max(best, Double(pool.count) * Double(n) * flopPerIteration / dt / 1e9)
        }
        return best
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
            let t0 = MonotonicClock.seconds()
            pool.run { t in
                var s: Float = 0
                for _ in 0..<passes {
                    socprof_clobber(buffers[t]) // each pass really reads the buffer
                    s += readKernel(buffers[t], count: count)
                }
                if s == 12345.678 { print(s) } // keeps the sum
            }
            let dt = MonotonicClock.seconds() - t0
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
            let t0 = MonotonicClock.seconds()
            pool.run { t in
                socprof_clobber(buffers[t])
                (buffers[t] + half).update(from: buffers[t], count: half)
                socprof_clobber(buffers[t])
            }
            let dt = MonotonicClock.seconds() - t0
            best = max(best, Double(pool.count) * Double(2 * half * 4) / dt / 1e9)
        }
        return best
    }
}
