import CPerfEvent
import Calibration
import Counters
import Experiments
import Foundation
import Kernels
import LinuxSystem
import Platform
import Testing
import TestSupport

extension CPUFrequencySuites {
/// `PowerSampleCollector` on a writable Odroid-XU3 tree (its INA231 files, its cpufreq policy) with
/// this machine's CPUs and software events standing for the PMU's: a busy FPU's task-clock rate per
/// core is about 1e9 ns/s, an idle pool's about 0.
@Suite("power-model samples")
struct PowerSampleCollectorTests {
    static func setUp(_ root: SystemRoot) throws -> (domain: FrequencyDomain, sensor: PowerSensor, pool: ThreadPool) {
        let topology = Topology(root: root, catalog: nil, registry: PMURegistry(root: root))
        let domain = try #require(topology.clusters.first { $0.cpus.contains(0) }?.frequencyDomains.first)
        let sensor = try #require(PowerSensors.discover(root: root).first { $0.path.contains("3-0045") })
        let cpus = Array(Affinity.current().cpus.prefix(2))
        // The pool's workers are pinned; this test thread gets its CPUs back.
        return (domain, sensor, Affinity.preserving { ThreadPool(threads: cpus.count, cpus: cpus) })
    }

    static let kfcVolts = VoltageSource.sensor(path: "sys/bus/i2c/drivers/INA231/3-0045/sensor_V")

    /// A collector on the little cluster's policy and sensor with this machine's PMU registry.
    static func collector(_ root: SystemRoot, events: [ResolvedEvent] = [taskClock], voltage: VoltageSource = kfcVolts,
                          system: (any PerfEventSystem)? = nil) throws -> (PowerSampleCollector, policy: String) {
        let (domain, sensor, pool) = try setUp(root)
        let c = try PowerSampleCollector(root: root, domains: [domain], pool: pool, cores: pool.count, events: events, sensor: sensor, voltage: voltage,
                                         registry: PMURegistry(root: .live), permissions: PerfPermissions.current(root: .live),
                                         system: system ?? KernelPerfEventSystem())
        return (c, FrequencyPin.directory(of: domain))
    }

    static var taskClock: ResolvedEvent {
        var e = ResolvedEvent(name: "task-clock", pmuName: "software", type: .software, config: UInt64(PERF_COUNT_SW_TASK_CLOCK.rawValue))
        e.unit = "ns"
        return e
    }

    static func emulated(_ name: String, _ code: UInt64) -> ResolvedEvent {
        ResolvedEvent(name: name, pmuName: "emulated_pmu", type: PerfEventType(rawValue: EmulatedPMUSystem.type), config: code)
    }

    @Test("a row per workload and frequency: the sensor's power and voltage, per-core rates, the limits restored")
    func collect() throws {
        let (dir, root) = try Fixtures.writableCopy("odroid-xu3")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (_, sensor, _) = try Self.setUp(root)
        let (collector, policy) = try Self.collector(root, voltage: try #require(VoltageSource.sensor(besides: sensor, root: root)))
        let before = (root.read("\(policy)/scaling_min_freq"), root.read("\(policy)/scaling_max_freq"))
        #expect(collector.passes == [[0]])
        // The policy's limits while each row is measured.
        var seen: [String] = []
        let plan = PowerCollectPlan(frequenciesKHz: [600_000, 1_400_000], workloads: [.idle, .fma], seconds: 0.3, settleSeconds: 0)
        let (rows, stopped) = try collector.collect(plan, row: { _ in
            seen.append("\(root.readInt("\(policy)/scaling_min_freq")!)-\(root.readInt("\(policy)/scaling_max_freq")!)")
        })
        #expect(!stopped)
        #expect(rows.map(\.workload) == ["idle", "idle", "fma", "fma"])
        #expect(rows.map(\.freqMHz) == [600, 1400, 600, 1400])
        // Each row was measured with the policy pinned to its frequency (read in the row callback,
        // after the row's pin was restored: the limits are back).
        #expect(seen == Array(repeating: "200000-1400000", count: 4))
        #expect(root.read("\(policy)/scaling_min_freq") == before.0 && root.read("\(policy)/scaling_max_freq") == before.1)
        for r in rows {
            #expect(abs(r.powerW - 0.07) < 1e-12) // the fixture's sensor_W
            #expect(r.voltageV == 1.0)    // its sensor_V
            #expect(r.freqReadMHz == 800) // its scaling_cur_freq: a fixture does not follow the limits
            #expect(r.frequencyMoved)
            #expect(r.seconds >= 0.3 && r.units >= 1)
        }
        // task-clock per core: at most 1e9 ns/s; the FMA threads run all the time they get (less
        // when other tests take the CPUs), the idle pool sleeps.
        let idle = rows.filter { $0.workload == "idle" }.map { $0.rates[0] }.max()!
        for r in rows where r.workload == "fma" { #expect(r.rates[0] < 1.05e9 && r.rates[0] > 10 * idle, "\(rows.map(\.rates))") }
    }

    @Test("rates are divided by the cores given: with 100, no rate can exceed 2.1 % of a core's 1e9 ns/s per thread")
    func perCoreDivisor() throws {
        let (dir, root) = try Fixtures.writableCopy("odroid-xu3")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (domain, sensor, pool) = try Self.setUp(root)
        let collector = try PowerSampleCollector(root: root, domains: [domain], pool: pool, cores: 100, events: [Self.taskClock], sensor: sensor,
                                                 voltage: Self.kfcVolts, registry: PMURegistry(root: .live),
                                                 permissions: PerfPermissions.current(root: .live))
        let (rows, _) = try collector.collect(PowerCollectPlan(frequenciesKHz: [1_000_000], workloads: [.fma], seconds: 0.2, settleSeconds: 0))
        // The threads' CPU time over the window is at most threads x 1e9 ns/s, whatever the load;
        // over 100 cores that is threads x 1e7. Without the division it would be ~100x more.
        let rate = try #require(rows.first?.rates.first)
        #expect(rate > 0 && rate <= Double(pool.count) * 1.05e7, "\(rate)")
    }

    @Test("the limits are the pinned frequency while a row is measured")
    func pinnedDuringRow() throws {
        let (dir, root) = try Fixtures.writableCopy("odroid-xu3")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (collector, policy) = try Self.collector(root, voltage: .table(VoltageSourceTests.a15, source: "test"))
        var during: [String] = []
        let plan = PowerCollectPlan(frequenciesKHz: [1_000_000, 1_200_000], workloads: [.idle], seconds: 0.05, settleSeconds: 0)
        let (rows, _) = try collector.collect(plan, progress: { _, _, _, _ in }, shouldStop: {
            during.append("\(root.readInt("\(policy)/scaling_min_freq")!)-\(root.readInt("\(policy)/scaling_max_freq")!)")
            return false
        })
        #expect(Set(during).isSuperset(of: ["1000000-1000000", "1200000-1200000"]))
        // A table's voltage: exact at 1000 MHz, interpolated at 1200 MHz.
        #expect(rows.map(\.voltageV) == [0.954, 0.998])
    }

    @Test("events that do not fit on the counters are counted in passes, each rate from its own pass")
    func passes() throws {
        let (dir, root) = try Fixtures.writableCopy("odroid-xu3")
        defer { try? FileManager.default.removeItem(at: dir) }
        // Two counters; three emulated clocks: two passes.
        let events = [Self.emulated("emu-task-clock", 0x11), Self.emulated("emu-cpu-clock", 0x12), Self.emulated("emu-task-clock-2", 0x11)]
        let (collector, _) = try Self.collector(root, events: events, system: EmulatedPMUSystem(counters: 2))
        #expect(collector.passes == [[0, 1], [2]])
        let plan = PowerCollectPlan(frequenciesKHz: [1_000_000], workloads: [.fma], seconds: 0.3, settleSeconds: 0)
        let (rows, _) = try collector.collect(plan)
        let r = try #require(rows.first)
        #expect(r.seconds >= 0.6) // two windows
        // Each from its own pass: every one counted (a busy core), none above 1e9 ns/s per core.
        for rate in r.rates { #expect(rate > 0.01e9 && rate < 1.05e9, "\(r.rates)") }
    }

    @Test("an event no thread can count is refused before anything runs")
    func uncountableEvent() throws {
        let (dir, root) = try Fixtures.writableCopy("odroid-xu3")
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect {
            try Self.collector(root, events: [Self.taskClock, Self.emulated("emu-missing", 0x99)], system: EmulatedPMUSystem(counters: 4))
        } throws: { e in (e as? PowerCollectError)?.description.contains("emu-missing cannot be counted") ?? false }
    }

    @Test("stopping (Ctrl-C) returns the rows so far with the limits restored")
    func stop() throws {
        let (dir, root) = try Fixtures.writableCopy("odroid-xu3")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (collector, policy) = try Self.collector(root)
        var rowsSeen = 0
        let plan = PowerCollectPlan(frequenciesKHz: [600_000, 1_000_000, 1_400_000], workloads: [.idle], seconds: 0.05, settleSeconds: 0)
        let (rows, stopped) = try collector.collect(plan, row: { _ in rowsSeen += 1 }, shouldStop: { rowsSeen >= 1 })
        #expect(stopped && rows.count == 1)
        #expect(root.read("\(policy)/scaling_min_freq") == "200000\n" && root.read("\(policy)/scaling_max_freq") == "1400000\n")
        #expect(!FrequencyPins.active.contains { $0.root == root })
    }
}
}

@Suite("power-model samples file")
struct PowerSamplesCSVTests {
    @Test("column names: raw codes stay, other specs become identifiers")
    func columnNames() {
        #expect(PowerSamplesCSV.columnName(for: "r11") == "r11")
        #expect(PowerSamplesCSV.columnName(for: "task-clock") == "task_clock")
        #expect(PowerSamplesCSV.columnName(for: "armv8_pmuv3/event=0x11/") == "armv8_pmuv3_event_0x11")
        #expect(PowerSamplesCSV.columnName(for: "0x11") == "e_0x11")
    }

    @Test("the file collect writes is read back by powermodel fit's reader, labels not taken for events")
    func roundTrip() throws {
        var rows: [PowerCollectRow] = []
        for i in 0..<6 {
            let d = Double(i)
            let f = 600 + 400 * Double(i / 2)
            rows.append(PowerCollectRow(workload: i % 2 == 0 ? "fma" : "idle", freqMHz: f, freqReadMHz: i == 3 ? nil : f,
                                        voltageV: 0.9 + 0.05 * d, powerW: 0.5 + 0.123456789 * d, seconds: 2, units: 3,
                                        rates: [1.8e9 * (d + 1), 0.5e9 + d]))
        }
        let csv = PowerSamplesCSV.header(comments: ["made by a test", "events:", "  r11 = CPU_CYCLES"], eventColumns: ["r11", "r08"])
            + rows.map(PowerSamplesCSV.line).joined()
        let table = try PowerSamples(csv: csv, file: "collect.csv")
        #expect(table.eventNames == ["r11", "r08"])
        #expect(table.samples.map(\.freqMHz) == rows.map(\.freqMHz))
        #expect(table.samples.map(\.voltageV) == rows.map(\.voltageV))
        #expect(table.samples.map(\.powerW) == rows.map(\.powerW))
        #expect(table.samples.map(\.rates) == rows.map(\.rates))
    }

    @Test("default events: the preferred ones the core implements, as many as its counters hold plus cycles")
    func defaultEvents() throws {
        let data = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let a7 = try EventTable.load("arm/cortex-a7", data: data)
        #expect(PowerModelEvents.defaults(table: a7, counters: 4) == ["r11", "r08", "r04", "r03", "r16"])
        #expect(PowerModelEvents.defaults(table: a7, counters: 6) == ["r11", "r08", "r04", "r03", "r16", "r17", "r19"])
        #expect(PowerModelEvents.defaults(table: nil, counters: nil) == ["cycles", "instructions"])
    }
}
