import ArgumentParser
import Counters
import CBench
import Foundation
import LinuxSystem
import Platform
import ProfileModel

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

    struct Figure: Encodable {
        let name: String
        let ns_per_read: Double?
        let note: String
    }

    /// Median over batches of the time per call of `body`, in ns.
    func time(_ body: () -> Void) -> Double {
        for _ in 0..<(iterations / 10) { body() } // warm up
        var per: [Double] = []
        for _ in 0..<batches {
            let t0 = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<iterations { body() }
            per.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / Double(iterations))
        }
        return Statistics.median(per)!
    }

    func run() throws {
        let root = global.systemRoot
        let registry = PMURegistry(root: root)
        let resolver = EventResolver(registry: registry)
        let permissions = PerfPermissions.current(root: root)
        var figures: [Figure] = []

        var ts = timespec()
        figures.append(Figure(name: "reference: clock_gettime(CLOCK_MONOTONIC)", ns_per_read: time { clock_gettime(CLOCK_MONOTONIC, &ts) }, note: "vDSO, no system call"))
        figures.append(Figure(name: "reference: getppid()", ns_per_read: time { _ = getppid() }, note: "a minimal system call"))

        func measure(_ kind: String, _ names: [String], leftOut: [String] = []) throws {
            let label = "\(names.count) \(kind) events (\(names.joined(separator: ", ")))"
            let events = try resolver.resolve(try EventSpec.parseList(names.joined(separator: ",")), corePMU: registry.isHeterogeneous ? Affinity.currentCPU().flatMap(registry.corePMU(forCPU:)) : nil)
            let set = CounterSet(events: events, options: CounterOptions(target: .currentThread, permissions: permissions, userSpaceReads: true),
                                 registry: registry)
            defer { set.close() }
            // Events this PMU does not have (QEMU's has cycles only): time the ones it has.
            let missing = set.failures.filter { $0.value.kind == .notSupported }.keys.map { names[$0] }
            if !missing.isEmpty, missing.count < names.count, missing.count == set.failures.count, events.count == names.count {
                set.close()
                return try measure(kind, names.filter { !missing.contains($0) }, leftOut: leftOut + missing)
            }
            let absent = leftOut.isEmpty ? "" : "; not implemented by this PMU, left out: \(leftOut.joined(separator: ", "))"
            guard set.failures.isEmpty, set.groups.count == 1, let group = set.groups.first else {
                let why = set.failures.values.first?.explanation ?? "the events did not fit in one group"
                figures.append(Figure(name: "\(label): read()", ns_per_read: nil, note: "unavailable: \(why)"))
                figures.append(Figure(name: "\(label): mmap page", ns_per_read: nil, note: "unavailable: \(why)"))
                return
            }
            try group.enable()
            var probe: [UInt64] = []
            do { _ = try group.readRaw(into: &probe) } catch {
                figures.append(Figure(name: "\(label): read()", ns_per_read: nil, note: "unavailable: \(error.explanation)"))
                return
            }
            var buffer = [UInt64](repeating: 0, count: 3 + 2 * group.fds.count)
            let bytes = buffer.count * MemoryLayout<UInt64>.size
            var perBatch: [Double] = []
            for _ in 0..<batches {
                let ns = buffer.withUnsafeMutableBytes { socprof_reference_read_loop(group.leader, $0.baseAddress, bytes, Int32(iterations)) }
                if ns > 0 { perBatch.append(Double(ns) / Double(iterations)) } // 0: a read failed
            }
            figures.append(Figure(name: "\(label): read() from C", ns_per_read: perBatch.count == batches ? Statistics.median(perBatch) : nil,
                                  note: (perBatch.count == batches ? "reference: the same read(2) in a plain C loop" : "unavailable: a read(2) failed") + absent))
            var values: [UInt64] = []
            figures.append(Figure(name: "\(label): read() raw", ns_per_read: time { _ = try? group.readRaw(into: &values) }, note: "one read(2) of the group leader into a reused buffer" + absent))
            figures.append(Figure(name: "\(label): read() + Readings", ns_per_read: time { _ = try? group.read() }, note: "the same, building a Reading per event"))
            if group.mapPages(), group.readRawUserSpace(into: &values) != nil {
                figures.append(Figure(name: "\(label): mmap page", ns_per_read: time { _ = group.readRawUserSpace(into: &values) },
                                      note: "rdpmc/PMEVCNTR into a reused buffer, no system call (as profile reads)" + absent))
            } else {
                // arm64 publishes a counter index in the page only when user access is on; elsewhere
                // index 0 means the events are not on counters at this moment.
                let why = group.mapPages() ?
                    (UserSpaceAccess.allowed(root: root) ? "the page gives no counter index (index 0): the events are not on hardware counters right now"
                                                         : "the page gives no counter index (index 0): \(UserSpaceAccess.describe(root: root))") :
                    "the kernel does not allow user-space reads of these events (no cap_user_rdpmc; software events never have it; \(UserSpaceAccess.describe(root: root)))"
                figures.append(Figure(name: "\(label): mmap page", ns_per_read: nil, note: "unavailable: \(why)"))
            }
            try group.disable()
        }
        try measure("software", ["task-clock", "context-switches", "page-faults", "cpu-migrations"])
        try measure("hardware", ["cycles", "instructions", "branches", "branch-misses"])

        if json {
            let enc = ReportJSON.encoder()
            print(String(decoding: try enc.encode(["figures": figures]), as: UTF8.self))
            return
        }
        print("Counter read cost, median of \(batches) batches of \(iterations) reads, this thread:")
        for f in figures {
            let v = f.ns_per_read.map { String(format: "%9.1f ns", $0) } ?? "        -   "
            print("  \(v)  \(f.name)  [\(f.note)]")
        }
        func ns(_ suffix: String, _ prefix: String = "4 software") -> Double? {
            figures.first { $0.name.hasPrefix(prefix) && $0.name.hasSuffix(suffix) }?.ns_per_read
        }
        if let raw = ns("read() raw"), let c = ns("read() from C"), let syscall = ns("getppid()", "reference") {
            print(String(format: "  software group: Swift raw read = %.2fx the C loop = %.1fx a getppid() system call; building Readings costs %.0f ns more",
                         raw / c, raw / syscall, (ns("read() + Readings") ?? raw) - raw))
        }
        if let mmap = ns("mmap page", "4 hardware"), let raw = ns("read() raw", "4 hardware") {
            print(String(format: "  hardware group: mmap page read = %.2fx the read(2) path", mmap / raw))
        }
    }
}
