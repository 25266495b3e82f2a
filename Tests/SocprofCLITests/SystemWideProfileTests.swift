import CPerfEvent
import Counters
import Foundation
import Kernels
import LinuxSystem
import Networks
import Profiler
import SystemPackage
import Testing

/// Fails every per-CPU (system-wide) open with EACCES, as an unprivileged user at
/// perf_event_paranoid 1 or more sees; opens everything else for real.
struct NoSystemWideSystem: PerfEventSystem {
    let kernel = KernelPerfEventSystem()
    func open(_ attr: inout perf_event_attr, pid: pid_t, cpu: Int32, groupFD: Int32) -> Result<Int32, Errno> {
        if pid == -1 { return .failure(.permissionDenied) }
        return kernel.open(&attr, pid: pid, cpu: cpu, groupFD: groupFD)
    }
    func close(_ fd: Int32) { kernel.close(fd) }
}

@Suite("Profiler: system-wide events per layer")
struct SystemWideProfileTests {
    /// cpu-clock counted on CPU 0 for everything: what a memory controller's PMU (rockchip_ddr)
    /// looks like to the profiler, a per-CPU event opened with pid -1.
    static func systemClock() -> ResolvedEvent {
        var e = ResolvedEvent(name: "system-cpu-clock", pmuName: "software", type: .software, config: UInt64(PERF_COUNT_SW_CPU_CLOCK.rawValue))
        e.systemWideOnly = true
        e.cpus = [0]
        e.unit = "ns"
        return e
    }

    static func taskClock() -> ResolvedEvent {
        var e = ResolvedEvent(name: "task-clock", pmuName: "software", type: .software, config: UInt64(PERF_COUNT_SW_TASK_CLOCK.rawValue))
        e.unit = "ns"
        return e
    }

    /// Counting per CPU needs CAP_PERFMON (root) or perf_event_paranoid <= 0; CI runs as root.
    static var systemWideAllowed: Bool {
        let p = PerfPermissions.current(root: .live)
        return p.privileged || (p.paranoid ?? 2) <= 0
    }

    @Test("a per-CPU event is read at each layer boundary: CPU 0's clock covers each layer's time", .enabled(if: systemWideAllowed))
    func perLayerSystemWide() throws {
        let permissions = PerfPermissions.current(root: .live)
        let net = MultiPassProfileTests.network()
        // The pool pins this (test) thread to CPU 0: put its CPUs back afterwards, or commands
        // that later tests start from it would inherit the pinning.
        let saved = Affinity.current()
        defer { if !saved.isEmpty { try? Affinity.pin(to: saved) } }
        let pool = ThreadPool(threads: 1, cpus: [0]) // the network runs on CPU 0, the CPU counted
        let profiler = LayerProfiler(network: net, pool: pool, events: [Self.taskClock()], metrics: [], registry: PMURegistry(root: .live),
                                     permissions: permissions, systemEvents: [Self.systemClock()])
        let report = profiler.profile(placement: "cpu0", warmup: 1, repeats: 5)
        var covered = 0.0, timed = 0.0
        for l in report.layers {
            let f = try #require(l.events["system-cpu-clock"])
            #expect(f.source == .measured && f.detail?.contains("system-wide on cpu0") == true, "\(l.name): \(f)")
            let clock = try #require(f.value)
            // CPU 0's clock runs whatever runs there: it covers the layer's time and the reads
            // at its ends, so it is at least the layer's time and not far above it.
            if l.time_s > 100e-6 { #expect(clock >= 0.8 * l.time_s * 1e9 && clock <= 3 * l.time_s * 1e9, "\(l.name): \(clock) ns in \(l.time_s) s") }
            covered += clock
            timed += l.time_s * 1e9
        }
        #expect(covered >= 0.9 * timed && covered <= 2 * timed, "CPU 0's clock \(covered) ns over layers that took \(timed) ns")
    }

    @Test("a system-wide event that may not be opened is unavailable with the reason, and the rest is measured")
    func refusedSystemWide() throws {
        let net = MultiPassProfileTests.network()
        let pool = ThreadPool(threads: 2)
        let profiler = LayerProfiler(network: net, pool: pool, events: [Self.taskClock()], metrics: [], registry: PMURegistry(root: .live),
                                     permissions: PerfPermissions.current(root: .live), systemEvents: [Self.systemClock()], system: NoSystemWideSystem())
        let report = profiler.profile(placement: "test", warmup: 0, repeats: 2)
        #expect(report.layers.count == net.layers.count - 1)
        for l in report.layers {
            let f = try #require(l.events["system-cpu-clock"])
            #expect(f.value == nil && f.source == .unavailable, "\(l.name): \(f)")
            #expect(f.detail?.lowercased().contains("paranoid") == true || f.detail?.lowercased().contains("permission") == true, "\(f.detail ?? "")")
            #expect(l.events["task-clock"]?.value.map { $0 > 0 } == true)
        }
    }
}
