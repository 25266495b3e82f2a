import Counters
import Foundation
import LinuxSystem
import Testing
import TestSupport

/// Seeded mutants of valid event strings and cpulists: each is parsed or refused with an error,
/// never a trap.
@Suite("parsers under mutated input: event strings, cpulists")
struct CounterParserFuzzTests {
    @Test("event specs and lists", arguments: [1, 2, 3] as [UInt64])
    func eventSpecs(seed: UInt64) {
        var m = Mutator(seed: seed)
        let valid = ["cycles", "instructions:u", "r11", "armv8_pmuv3/event=0x11/", "cpu/event=0x3c,umask=0x0,name=x/k", "L1-dcache-load-misses",
                     "task-clock,page-faults", "armv8_pmuv3/l1d_cache_refill/u", "rockchip_ddr/cycles/", "{cycles,instructions}"]
        var accepted = 0
        for i in 0..<3000 {
            let text = m.mutate(valid[i % valid.count])
            if (try? EventSpec.parseList(text)) != nil { accepted += 1 }
            _ = try? EventSpec.parse(text)
        }
        #expect(accepted > 0) // the mutants are not all rejected: the parser was exercised
    }

    @Test("cpulists", arguments: [1, 2] as [UInt64])
    func cpuLists(seed: UInt64) {
        var m = Mutator(seed: seed)
        for i in 0..<3000 {
            let text = m.mutate(["0-3", "4,5", "0-3,6,8-9", "0", ""][i % 5])
            if let list = try? CPUSet(parsing: text).cpus { #expect(list.allSatisfy { $0 >= 0 }) }
        }
    }
}

/// Mutated sysfs files of a PMU (an event alias, a format field) under a copy of the emulated
/// board's tree: resolving an event through them gives an event or an error, never a trap.
@Suite("PMU sysfs files under mutation", .serialized)
struct PMUSysfsFuzzTests {
    @Test("event aliases and format fields")
    func aliasesAndFormats() throws {
        let (dir, root) = try Fixtures.writableCopy(Fixtures.emulatedBoard)
        defer { try? FileManager.default.removeItem(at: dir) }
        let pmu = "sys/bus/event_source/devices/armv8_pmuv3"
        let alias = try #require(root.read("\(pmu)/events/cpu_cycles"))
        let format = try #require(root.read("\(pmu)/format/event"))
        var m = Mutator(seed: 21)
        let spec = try EventSpec.parse("armv8_pmuv3/cpu_cycles/")
        for i in 0..<300 {
            let files = i % 2 == 0 ? ["\(pmu)/events/cpu_cycles": m.mutate(alias), "\(pmu)/format/event": format]
                                   : ["\(pmu)/events/cpu_cycles": alias, "\(pmu)/format/event": m.mutate(format)]
            try Fixtures.write(files, under: URL(fileURLWithPath: root.path))
            _ = try? EventResolver(registry: PMURegistry(root: root)).resolve(spec)
        }
    }
}
