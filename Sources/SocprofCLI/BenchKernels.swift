import ArgumentParser
import Counters
import Foundation
import Kernels
import LinuxSystem
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
        let list = cpus ?? Array(Affinity.current().cpus.prefix(threads))
        return try pinnedPool(threads: threads, cpus: list)
    }

    /// Median seconds of `body` over the repetitions, after one warm-up call.
    func median(_ body: () -> Void) -> Double {
        Statistics.median(times(body))!
    }

    /// Seconds of each repetition of `body`, after one warm-up call.
    func times(_ body: () -> Void) -> [Double] {
        timesWithCPU(body).map(\.wall)
    }

    /// Wall-clock seconds of each repetition of `body`, after one warm-up call, and the CPU seconds
    /// the process used meanwhile (all its threads): on a machine shared with other work, wall time
    /// counts the time the threads waited for a CPU, CPU time does not.
    func timesWithCPU(_ body: () -> Void) -> [(wall: Double, cpu: Double)] {
        func cpuNow() -> Double {
            var ts = timespec()
            clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
            return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
        }
        body()
        var t: [(wall: Double, cpu: Double)] = []
        for _ in 0..<repetitions {
            let c0 = cpuNow()
            let t0 = DispatchTime.now().uptimeNanoseconds
            body()
            t.append((Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9, cpuNow() - c0))
        }
        return t
    }
}

/// `socprof bench gemm`: single-precision GEMM throughput.
struct GEMMBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm",
        abstract: "SGEMM throughput in GFLOP/s (C = A x B, row-major, fp32).",
        discussion: """
            Prints the GEMM kernel that ran (chosen from the CPU; SOCPROF_GEMM_KERNEL=NAME forces one of \
            --list-kernels). scripts/bench/gemm prints it beside numpy's matmul (OpenBLAS) in the same run.
            """
    )

    @Option(help: "Rows of A and C.") var m: Int = 1024
    @Option(help: "Columns of B and C.") var n: Int = 1024
    @Option(help: "Columns of A, rows of B.") var k: Int = 1024
    @Flag(help: "List the GEMM kernels this CPU can run (SOCPROF_GEMM_KERNEL=NAME forces one), the automatic choice first, and exit.")
    var listKernels = false
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
        if listKernels {
            let auto = GEMMKernel.automatic(for: .current)
            for kernel in [auto] + GEMMKernel.runnable(on: .current).filter({ $0.name != auto.name }) { print(kernel.name) }
            return
        }
        let pool = try options.makePool()
        let workspaces = (0..<pool.count).map { _ in GEMM.Workspace() }
        let kernel = GEMM.kernel
        var rng = SplitMix64(seed: 42)
        let a = (0..<(m * k)).map { _ in rng.nextFloat() - 0.5 }
        let b = (0..<(k * n)).map { _ in rng.nextFloat() - 0.5 }
        var c = [Float](repeating: 0, count: m * n)
        let times = a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                c.withUnsafeMutableBufferPointer { c in
                    options.timesWithCPU {
                        GEMM.multiply(m: m, n: n, k: k, a: a.baseAddress!, lda: k, b: b.baseAddress!, ldb: n,
                                      c: c.baseAddress!, ldc: n, pool: pool, workspaces: workspaces)
                    }
                }
            }
        }
        let flop = 2 * Double(m) * Double(n) * Double(k)
        let seconds = Statistics.median(times.map(\.wall))!
        let gflops = flop / seconds / 1e9
        // The rate had the threads had their CPUs to themselves: FLOP per CPU second, times threads.
        let cpuGflops = flop * Double(pool.count) / Statistics.median(times.map(\.cpu))! / 1e9
        if options.json {
            print(#"{"m": \#(m), "n": \#(n), "k": \#(k), "threads": \#(pool.count), "seconds": \#(seconds), "gflops": \#(gflops), "#
                  + #""best_gflops": \#(flop / times.map(\.wall).min()! / 1e9), "cpu_gflops": \#(cpuGflops), "#
                  + #""kernel": "\#(kernel.name)", "mr": \#(kernel.mr), "nr": \#(kernel.nr), "kc": \#(kernel.kc), "mc": \#(kernel.mc), "nc": \#(kernel.nc), "#
                  + #""cpu": "\#(GEMMKernel.CPU.current)"}"#)
        } else {
            print(String(format: "sgemm %dx%dx%d, %d thread(s): %.2f GFLOP/s (median of %d, %.3f ms)", m, n, k, pool.count, gflops,
                         options.repetitions, seconds * 1e3) + ", kernel \(kernel) on \(GEMMKernel.CPU.current)")
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
