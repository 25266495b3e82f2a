import ArgumentParser
import Counters
import Experiments
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

    /// One warm-up call, then `--repeat` timed calls.
    var timing: KernelTiming { KernelTiming(repetitions: repetitions) }

    /// A benchmark's result as one line of JSON (sorted keys).
    func printJSON<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }
}

/// `socprof bench gemm`: GEMM throughput, fp32 or int8.
struct GEMMBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm",
        abstract: "GEMM throughput: fp32 in GFLOP/s, or int8 in GOP/s (C = A x B, row-major).",
        discussion: """
            fp32: SGEMM, A packed on every call, by the GEMM kernel chosen from the CPU \
            (SOCPROF_GEMM_KERNEL=NAME forces one of --list-kernels). int8 (--precision int8): A int8 \
            weights (per-row symmetric, packed once, as a layer's), B uint8 activations with zero point \
            128, int32 sums requantized to uint8 (per-row multipliers, ReLU clamp), by the kernel \
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
    @Flag(help: "List the fp32 GEMM kernels this CPU can run (SOCPROF_GEMM_KERNEL=NAME forces one), the automatic choice first, and exit.")
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
        switch precision {
        case .fp32:
            let r = GEMMBenchmark.run(m: m, n: n, k: k, pool: pool, timing: options.timing)
            if options.json { return try options.printJSON(r) }
            print(String(format: "sgemm %dx%dx%d, %d thread(s): %.2f GFLOP/s (median of %d, %.3f ms)", m, n, k, r.threads, r.gflops,
                         options.repetitions, r.seconds * 1e3) + ", kernel \(GEMM.kernel) on \(r.cpu)")
        case .int8:
            let r = Int8GEMMBenchmark.run(m: m, n: n, k: k, pool: pool, timing: options.timing)
            if options.json { return try options.printJSON(r) }
            print(String(format: "int8 gemm (%@ kernel) %dx%dx%d, %d thread(s): %.2f GOP/s (median of %d, %.3f ms)", r.kernel, m, n, k, r.threads, r.gops,
                         options.repetitions, r.seconds * 1e3))
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
            the pool's spin time, SOCPROF_SPIN_US, 200 µs by default, and catch the next job), and a \
            job after the pool has been idle for 1 ms (its workers asleep: the kernel's wake-up \
            latency, and in a VM the hypervisor's).
            """
    )

    @OptionGroup var options: KernelBenchOptions

    func run() throws {
        let r = PoolBenchmark.run(pool: try options.makePool(), timing: options.timing)
        if options.json { return try options.printJSON(r) }
        print(String(format: "empty job on %d thread(s), spin %d µs: %.1f µs per round trip back to back (median of %d batches of %d); %.1f µs after %d µs idle (median of %d)",
                     r.threads, r.spin_us, r.round_trip_us, options.repetitions, r.batch, r.after_idle_round_trip_us, r.idle_us, r.idle_jobs))
    }
}
