import ArgumentParser
import Counters
import Experiments
import Foundation
import LinuxSystem
import Platform

/// `socprof bench`: micro-benchmarks that print figures beside a reference measured in the same run.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Micro-benchmarks (figures, with references measured in the same run).",
        subcommands: [CounterReadBench.self, GEMMBench.self, ConvBench.self, PoolBench.self]
    )
}

/// `socprof bench counters`: what one read of a counter group costs.
struct CounterReadBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "counters",
        abstract: "Cost in ns of reading a group of 4 counters by read(2) and by the mmap'ed page.",
        discussion: """
            The profiler reads counters at every layer boundary, so this cost is overhead on every \
            layer. Measures a group of 4 software events (always available) and a group of 4 hardware \
            events (cycles, instructions, branches, branch-misses) where the machine has a PMU, by \
            read(2) and, where the kernel allows user access (cap_user_rdpmc), from the mmap'ed page. \
            References from the same run: clock_gettime (vDSO, no system call) and getppid (a minimal system call).
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: "Reads per timed batch.")
    var iterations: Int = 20_000

    @Option(help: "Timed batches; the median batch is reported.")
    var batches: Int = 15

    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        try global.validateRoot()
        guard (100...100_000_000).contains(iterations), (3...1000).contains(batches) else {
            throw ValidationError("--iterations must be 100 to 100000000 and --batches 3 to 1000.")
        }
    }

    func run() throws {
        let cost = try CounterReadCost.measure(root: global.systemRoot, iterations: iterations, batches: batches)
        if json {
            print(String(decoding: try ReportJSON.encoder().encode(["figures": cost.figures]), as: UTF8.self))
            return
        }
        print("Counter read cost, median of \(batches) batches of \(iterations) reads, this thread:")
        for f in cost.figures {
            let v = f.ns_per_read.map { String(format: "%9.1f ns", $0) } ?? "        -   "
            print("  \(v)  \(f.name)  [\(f.note)]")
        }
        if let s = cost.softwareSummary {
            print(String(format: "  software group: Swift raw read = %.2fx the C loop = %.1fx a getppid() system call; building Readings costs %.0f ns more",
                         s.overC, s.overSyscall, s.readingsExtraNs))
        }
        if let r = cost.hardwareMmapOverRead {
            print(String(format: "  hardware group: mmap page read = %.2fx the read(2) path", r))
        }
    }
}
