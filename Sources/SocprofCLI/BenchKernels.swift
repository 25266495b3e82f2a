import ArgumentParser
import Counters
import Foundation
import Kernels
import Platform

/// Options for kernel benchmarks: threads and CPUs.
struct KernelBenchOptions: ParsableArguments {
    @Option(help: "Threads (the calling thread included).")
    var threads: Int = 1

    @Option(help: ArgumentHelp("Pin the threads to these CPUs (a cpulist such as 4-7). Default: the first --threads CPUs this process may use.", valueName: "list"),
            transform: { try parseCPUOption($0) })
    var cpus: [Int]?

    @Option(name: .customLong("repeat"), help: "Timed repetitions; the median is reported.")
    var repetitions: Int = 10

    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        guard (1...1024).contains(threads) else { throw ValidationError("--threads \(threads) must be 1 to 1024.") }
        guard (1...100_000).contains(repetitions) else { throw ValidationError("--repeat \(repetitions) must be 1 to 100000.") }
    }

    func makePool() throws -> ThreadPool {
        let list = cpus ?? Array(Platform.CPUSet.currentAffinity().cpus.prefix(threads))
        return try pinnedPool(threads: threads, cpus: list)
    }

    /// Median seconds of `body` over the repetitions, after one warm-up call.
    func median(_ body: () -> Void) -> Double {
        body()
        var t: [Double] = []
        for _ in 0..<repetitions {
            let t0 = DispatchTime.now().uptimeNanoseconds
            body()
            t.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        }
        return Statistics.median(t)!
    }
}

/// `socprof bench gemm`: single-precision GEMM throughput.
struct GEMMBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm",
        abstract: "GEMM throughput: fp32 in GFLOP/s, or int8 in GOP/s (C = A x B, row-major).",
        discussion: """
            fp32: SGEMM, A packed on every call. int8 (--precision int8): A int8 weights (per-row \
            symmetric, packed once, as a layer's), B uint8 activations with zero point 128, int32 \
            sums requantized to uint8 (per-row multipliers, ReLU clamp), by the kernel \
            SOCPROF_INT8_KERNEL names or the best this CPU runs; 2 x M x N x K operations. \
            scripts/bench/gemm prints fp32 beside numpy's matmul (OpenBLAS), scripts/bench/int8-gemm \
            int8 beside fp32, in the same run.
            """
    )

    enum Precision: String, ExpressibleByArgument, CaseIterable { case fp32, int8 }

    @Option(help: "Rows of A and C.") var m: Int = 1024
    @Option(help: "Columns of B and C.") var n: Int = 1024
    @Option(help: "Columns of A, rows of B.") var k: Int = 1024
    @Option(help: "Arithmetic: fp32 or int8 (int8 weights x uint8 activations, int32 sums, requantized to uint8).")
    var precision: Precision = .fp32
    @OptionGroup var options: KernelBenchOptions

    func validate() throws {
        for (name, v) in [("m", m), ("n", n), ("k", k)] where !(1...65536).contains(v) {
            throw ValidationError("--\(name) \(v) must be 1 to 65536.")
        }
        // 4 GiB of matrices on 64-bit machines, 1 GiB on 32-bit ones (an address space of 3-4 GiB).
        let limit: Int64 = MemoryLayout<Int>.size == 8 ? 1 << 30 : 1 << 28
        guard Int64(m) * Int64(k) + Int64(k) * Int64(n) + Int64(m) * Int64(n) <= limit else {
            throw ValidationError("the matrices would take more than \(limit * 4 >> 30) GiB; choose smaller --m/--n/--k.")
        }
    }

    func run() throws {
        if precision == .int8 { return try runInt8() }
        let pool = try options.makePool()
        let workspaces = (0..<pool.count).map { _ in GEMM.Workspace() }
        var rng = SplitMix64(seed: 42)
        let a = (0..<(m * k)).map { _ in rng.nextFloat() - 0.5 }
        let b = (0..<(k * n)).map { _ in rng.nextFloat() - 0.5 }
        var c = [Float](repeating: 0, count: m * n)
        let seconds = a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                c.withUnsafeMutableBufferPointer { c in
                    options.median {
                        GEMM.multiply(m: m, n: n, k: k, a: a.baseAddress!, lda: k, b: b.baseAddress!, ldb: n,
                                      c: c.baseAddress!, ldc: n, pool: pool, workspaces: workspaces)
                    }
                }
            }
        }
        let gflops = 2 * Double(m) * Double(n) * Double(k) / seconds / 1e9
        if options.json {
            print(#"{"m": \#(m), "n": \#(n), "k": \#(k), "threads": \#(pool.count), "seconds": \#(seconds), "gflops": \#(gflops)}"#)
        } else {
            print(String(format: "sgemm %dx%dx%d, %d thread(s): %.2f GFLOP/s (median of %d, %.3f ms)", m, n, k, pool.count, gflops, options.repetitions, seconds * 1e3))
        }
    }

    func runInt8() throws {
        let pool = try options.makePool()
        let kernel = Int8Kernel.current
        let workspaces = (0..<pool.count).map { _ in Int8GEMM.Workspace() }
        var rng = SplitMix64(seed: 42)
        let a = (0..<(m * k)).map { _ in Int8(Int(rng.next() % 255) - 127) }
        let b = (0..<(k * n)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let bias = (0..<m).map { _ in Int32(Int(rng.next() % 2001) - 1000) }
        // Multipliers that keep typical outputs inside uint8 (sums of k products of about 127 x 74).
        let multipliers = [Float](repeating: 40 / (Float(k).squareRoot() * 127 * 74), count: m)
        var c = [UInt8](repeating: 0, count: m * n)
        let packed = a.withUnsafeBufferPointer { PackedInt8A(m: m, k: k, weights: $0.baseAddress!, lda: k, kernel: kernel) }
        let seconds = b.withUnsafeBufferPointer { b in
            bias.withUnsafeBufferPointer { bias in
                multipliers.withUnsafeBufferPointer { mult in
                    c.withUnsafeMutableBufferPointer { c in
                        let rq = Int8Requantization(bias: bias.baseAddress!, multipliers: mult.baseAddress!, zeroPoint: 3, range: 3...255)
                        let operand = Int8B.dense(DenseInt8B(b.baseAddress!, ldb: n, zeroPoint: 128))
                        return options.median {
                            Int8GEMM.multiply(packed: packed, n: n, b: operand, output: .requantized(c.baseAddress!, ldc: n, rq),
                                              pool: pool, workspaces: workspaces)
                        }
                    }
                }
            }
        }
        let gops = 2 * Double(m) * Double(n) * Double(k) / seconds / 1e9
        if options.json {
            print(#"{"precision": "int8", "kernel": "\#(kernel.rawValue)", "m": \#(m), "n": \#(n), "k": \#(k), "threads": \#(pool.count), "seconds": \#(seconds), "gops": \#(gops)}"#)
        } else {
            print(String(format: "int8 gemm (%@ kernel) %dx%dx%d, %d thread(s): %.2f GOP/s (median of %d, %.3f ms)", kernel.rawValue, m, n, k, pool.count, gops,
                         options.repetitions, seconds * 1e3))
        }
    }
}

/// `socprof bench pool`: what one job on the thread pool costs (wake the workers, wait for all).
struct PoolBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pool",
        abstract: "Round trip in µs of an empty job on the pinned thread pool (the cost of one layer boundary).",
        discussion: """
            Two figures: jobs back to back, as layers follow each other (waiting threads spin for \
            the pool's spin time, SOCPROF_SPIN_US, 50 µs by default, and catch the next job), and a \
            job after the pool has been idle for 1 ms (its workers asleep: the kernel's wake-up \
            latency, and in a VM the hypervisor's).
            """
    )

    @OptionGroup var options: KernelBenchOptions

    struct EmptyJob: PoolJob {
        static let function: ThreadPool.JobFunction = { _, _ in }
        func work(_ thread: Int) {}
    }

    func run() throws {
        let pool = try options.makePool()
        var job = EmptyJob()
        let iterations = 2000
        let backToBack = options.median { for _ in 0..<iterations { pool.run(&job) } } / Double(iterations)
        // After an idle pause longer than the spin, one job at a time.
        let pause = UInt32(max(1000, pool.spinMicroseconds * 2))
        var wakes: [Double] = []
        for _ in 0..<max(20, options.repetitions * 10) {
            usleep(pause)
            let t0 = DispatchTime.now().uptimeNanoseconds
            pool.run(&job)
            wakes.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        }
        let wake = Statistics.median(wakes)!
        if options.json {
            print(#"{"threads": \#(pool.count), "spin_us": \#(pool.spinMicroseconds), "round_trip_us": \#(backToBack * 1e6), "after_idle_round_trip_us": \#(wake * 1e6)}"#)
        } else {
            print(String(format: "empty job on %d thread(s), spin %d µs: %.1f µs per round trip back to back (median of %d batches of %d); %.1f µs after %d µs idle (median of %d)",
                         pool.count, pool.spinMicroseconds, backToBack * 1e6, options.repetitions, iterations, wake * 1e6, Int(pause), wakes.count))
        }
    }
}
