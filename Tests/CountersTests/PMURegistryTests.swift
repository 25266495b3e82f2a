@testable import Counters
import Foundation
import LinuxSystem
import Testing
import TestSupport

@Suite("PMU discovery and event resolution on board fixture trees")
struct PMURegistryTests {
    struct Core: Sendable, CustomTestStringConvertible {
        let name: String
        let type: UInt32
        let cpus: [Int]
        var testDescription: String { name }
    }

    @Test("each board's core PMUs, their types and CPUs", arguments: [
        ("odroid-xu3", [Core(name: "armv7_cortex_a7", type: 10, cpus: [0, 1, 2, 3]), Core(name: "armv7_cortex_a15", type: 11, cpus: [4, 5, 6, 7])]),
        ("rk3399", [Core(name: "armv8_cortex_a53", type: 10, cpus: [0, 1, 2, 3]), Core(name: "armv8_cortex_a72", type: 11, cpus: [4, 5])]),
        ("rk3588", [Core(name: "armv8_cortex_a55", type: 10, cpus: [0, 1, 2, 3]), Core(name: "armv8_cortex_a76", type: 11, cpus: [4, 5, 6, 7])]),
    ])
    func corePMUs(board: String, expected: [Core]) throws {
        let registry = PMURegistry(root: Fixtures.root(board))
        #expect(registry.problems.isEmpty, "\(registry.problems)")
        #expect(registry.isHeterogeneous)
        #expect(Set(registry.corePMUs.map(\.name)) == Set(expected.map(\.name)))
        for core in expected {
            let pmu = try #require(registry.pmu(named: core.name))
            #expect(pmu.type.rawValue == core.type)
            #expect(pmu.cpus == core.cpus)
            #expect(pmu.isCore && !pmu.isUncore)
            #expect(registry.corePMU(forCPU: core.cpus[0])?.name == core.name)
        }
        #expect(registry.pmu(named: "software")?.type == .software)
    }

    @Test func armv7FormatIsEightBitsAndAliasesParse() throws {
        let registry = PMURegistry(root: Fixtures.root("odroid-xu3"))
        let a15 = try #require(registry.pmu(named: "armv7_cortex_a15"))
        #expect(a15.isARMv7)
        #expect(a15.formats["event"]?.description == "config:0-7")
        #expect(a15.alias("L2D_CACHE_REFILL")?.terms == "event=0x17")
    }

    @Test func uncoreDDRPMU() throws {
        let registry = PMURegistry(root: Fixtures.root("rk3588"))
        let ddr = try #require(registry.pmu(named: "rockchip_ddr"))
        #expect(ddr.isUncore && !ddr.isCore)
        #expect(ddr.cpumask == [0])
        let events = try EventResolver(registry: registry).resolve(try EventSpec.parse("rockchip_ddr/read-bytes/"))
        #expect(events.count == 1)
        #expect(events[0].type.rawValue == 12 && events[0].config == 0x1)
        #expect(events[0].unit == "MB")
        #expect(abs(events[0].scale - 9.536743164e-07) < 1e-15)
        #expect(events[0].systemWideOnly)
    }

    @Test("generic hardware events open once per core PMU, with that PMU's type", arguments: [
        ("odroid-xu3", "cycles", [("armv7_cortex_a15", UInt32(11), UInt64(0xFF)), ("armv7_cortex_a7", 10, 0xFF)]),
        ("rk3399", "cycles", [("armv8_cortex_a53", 10, 0x11), ("armv8_cortex_a72", 11, 0x11)]),
        ("rk3588", "instructions", [("armv8_cortex_a55", 10, 0x08), ("armv8_cortex_a76", 11, 0x08)]),
        ("rk3399", "r17", [("armv8_cortex_a53", 10, 0x17), ("armv8_cortex_a72", 11, 0x17)]),
        ("rk3399", "l2d_cache_refill", [("armv8_cortex_a53", 10, 0x17), ("armv8_cortex_a72", 11, 0x17)]),
    ])
    func expansion(board: String, event: String, expected: [(String, UInt32, UInt64)]) throws {
        let registry = PMURegistry(root: Fixtures.root(board))
        let events = try EventResolver(registry: registry).resolve(try EventSpec.parse(event))
        #expect(events.map(\.pmuName) == expected.map(\.0))
        #expect(events.map(\.type.rawValue) == expected.map(\.1))
        #expect(events.map(\.config) == expected.map(\.2))
        #expect(events.map(\.name) == expected.map { "\($0.0)/\(event)/" })
        for e in events { #expect(e.cpus == registry.pmu(named: e.pmuName!)?.cpus) }
    }

    @Test("generic cache events on a big.LITTLE board use the architectural codes, or are refused")
    func cacheEventsPerCluster() throws {
        let rk = EventResolver(registry: PMURegistry(root: Fixtures.root("rk3399")))
        let misses = try rk.resolve(try EventSpec.parse("L1-dcache-load-misses"))
        #expect(misses.map(\.type.rawValue) == [10, 11] && misses.map(\.config) == [0x03, 0x03])
        #expect(try rk.resolve(try EventSpec.parse("dTLB-loads")).map(\.config) == [0x25, 0x25])
        #expect { try rk.resolve(try EventSpec.parse("LLC-loads")) } throws: { "\($0)".contains("no architectural ARM event") }
        let xu3 = EventResolver(registry: PMURegistry(root: Fixtures.root("odroid-xu3")))
        #expect(try xu3.resolve(try EventSpec.parse("branch-load-misses")).map(\.config) == [0x10, 0x10])
        #expect { try xu3.resolve(try EventSpec.parse("dTLB-loads")) } throws: { "\($0)".contains("/event=0x../") }
        #expect { try xu3.resolve(try EventSpec.parse("ref-cycles")) } throws: { "\($0)".contains("no architectural ARM event") }
    }

    @Test("libpfm4 core events land on the PMU of the core libpfm4 named")
    func pfmPlacement() throws {
        let resolver = EventResolver(registry: PMURegistry(root: Fixtures.root("rk3399")))
        let raw = ResolvedEvent(name: "arm_ac57::L2D_CACHE_REFILL", pmuName: nil, type: .raw, config: 0x17)
        let placed = try resolver.placePfm(raw, text: raw.name, corePMU: nil)
        #expect(placed.pmuName == "armv8_cortex_a72" && placed.type.rawValue == 11, "libpfm4's A57 table serves the A72")
        let a53 = try resolver.placePfm(ResolvedEvent(name: "arm_ac53::CPU_CYCLES", pmuName: nil, type: .raw, config: 0x11), text: "arm_ac53::CPU_CYCLES", corePMU: nil)
        #expect(a53.pmuName == "armv8_cortex_a53")
        #expect { try resolver.placePfm(raw, text: "arm_ac15::X", corePMU: nil) } throws: { "\($0)".contains("cannot be placed") }
        let software = ResolvedEvent(name: "perf::TASK-CLOCK", pmuName: "software", type: .software, config: 1)
        #expect(try resolver.placePfm(software, text: software.name, corePMU: nil) == software)
        // Modifiers inside a libpfm4 string become privilege levels.
        let user = try EventResolver(registry: PMURegistry(root: .live)).resolve(try EventSpec.parse("perf::PAGE-FAULTS:u"))
        #expect(user[0].levels == .user)
    }

    @Test func restrictedToOneCluster() throws {
        let registry = PMURegistry(root: Fixtures.root("rk3399"))
        let a72 = try #require(registry.pmu(named: "armv8_cortex_a72"))
        let events = try EventResolver(registry: registry).resolve(try EventSpec.parseList("cycles,l2d_cache_wb,r18"), corePMU: a72)
        #expect(events.map(\.type.rawValue) == [11, 11, 11])
        #expect(events.map(\.config) == [0x11, 0x18, 0x18])
        #expect(events.map(\.name) == ["cycles", "l2d_cache_wb", "r18"])
    }

    @Test("sysfs syntax on each core PMU", arguments: [
        ("odroid-xu3", "armv7_cortex_a15/event=0x17/", UInt32(11), UInt64(0x17)),
        ("odroid-xu3", "armv7_cortex_a7/l2d_cache_refill/", 10, 0x17),
        ("rk3399", "armv8_cortex_a72/l2d_cache_refill/", 11, 0x17),
        ("rk3399", "armv8_cortex_a53/event=0x60/", 10, 0x60),
        ("rk3588", "armv8_cortex_a55/l3d_cache_refill/", 10, 0x2A),
        ("rk3588", "armv8_cortex_a76/config=0x11/", 11, 0x11),
    ])
    func sysfs(board: String, text: String, type: UInt32, config: UInt64) throws {
        let events = try EventResolver(registry: PMURegistry(root: Fixtures.root(board))).resolve(try EventSpec.parse(text))
        #expect(events.count == 1)
        #expect(events[0].type.rawValue == type)
        #expect(events[0].config == config)
        #expect(!events[0].systemWideOnly)
    }

    @Test func longCountersUseConfig1() throws {
        let events = try EventResolver(registry: PMURegistry(root: Fixtures.root("rk3399")))
            .resolve(try EventSpec.parse("armv8_cortex_a53/event=0x11,long/"))
        #expect(events[0].config == 0x11 && events[0].config1 == 1)
    }

    @Test("unknown names get near matches", arguments: [
        ("rk3399", "armv8_cortex_a72/l2d_cache_refil/", "l2d_cache_refill"),
        ("rk3399", "armv8_cortex_a73/event=0x11/", "armv8_cortex_a72"),
        ("odroid-xu3", "cyclez", "cycles"),
        ("odroid-xu3", "l2d_cache_refil", "l2d_cache_refill"),
        ("odroid-xu3", "armv7_cortex_a15/evnt=0x11/", "event"),
    ])
    func suggestions(board: String, text: String, suggestion: String) throws {
        let resolver = EventResolver(registry: PMURegistry(root: Fixtures.root(board)))
        #expect {
            try resolver.resolve(try EventSpec.parse(text))
        } throws: { error in
            (error as? EventResolutionError)?.suggestions.contains(suggestion) ?? false
        }
    }

    @Test func valueTooWideForTheField() throws {
        let resolver = EventResolver(registry: PMURegistry(root: Fixtures.root("odroid-xu3")))
        #expect {
            try resolver.resolve(try EventSpec.parse("armv7_cortex_a15/event=0x117/"))
        } throws: { error in
            "\(error)".contains("does not fit") && "\(error)".contains("config:0-7")
        }
    }

    @Test func malformedTreesAreReportedNotFatal() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let base = "sys/bus/event_source/devices"
        try Fixtures.write([
            "\(base)/good/type": "10\n", "\(base)/good/cpus": "0-3\n", "\(base)/good/format/event": "config:0-15\n",
            "\(base)/good/events/cycles": "event=0x11\n",
            "\(base)/badtype/type": "ten\n",
            "\(base)/badfmt/type": "12\n", "\(base)/badfmt/format/event": "config:zz\n", "\(base)/badfmt/cpus": "0-\n",
            "\(base)/notype/cpumask": "0\n",
        ], under: dir)
        let registry = PMURegistry(root: SystemRoot(path: dir.path))
        #expect(registry.pmus.map(\.name) == ["badfmt", "good"])
        #expect(registry.problems.count == 4)
        #expect(registry.problems.contains { $0.contains("badtype/type") && $0.contains("'ten' is not a number") })
        #expect(registry.problems.contains { $0.contains("badfmt/format/event") })
        #expect(registry.problems.contains { $0.contains("badfmt/cpus") })
        #expect(registry.problems.contains { $0.contains("notype/type: missing") })
        #expect(registry.pmu(named: "good")?.alias("cycles")?.terms == "event=0x11")
    }

    @Test func rootResolution() {
        #expect(SystemRoot.resolve(explicit: "/tmp/x/", environment: ["SOCPROF_ROOT": "/y"]).path == "/tmp/x")
        #expect(SystemRoot.resolve(explicit: nil, environment: ["SOCPROF_ROOT": "/y"]).path == "/y")
        #expect(SystemRoot.resolve(explicit: nil, environment: [:]).isLive)
        #expect(SystemRoot(path: "/a").absolute("/sys/x") == "/a/sys/x")
        #expect(SystemRoot.live.absolute("proc/cpuinfo") == "/proc/cpuinfo")
    }
}
