import CPerfEvent
@testable import Counters
import Foundation
import SystemPackage
import Testing
import TestSupport

/// A PerfEventSystem that opens everything and records what it was asked to open. `opened` is
/// what is still open: the counter probe's groups (CounterCapacity) are closed at once.
final class RecordingSystem: PerfEventSystem, @unchecked Sendable {
    private let lock = NSLock()
    private var next: Int32 = 2000
    private var all: [(fd: Int32, type: UInt32, config: UInt64)] = []
    private var closed = Set<Int32>()
    var opened: [(type: UInt32, config: UInt64)] {
        lock.lock(); defer { lock.unlock() }
        return all.filter { !closed.contains($0.fd) }.map { ($0.type, $0.config) }
    }

    func open(_ attr: inout perf_event_attr, pid: pid_t, cpu: Int32, groupFD: Int32) -> Result<Int32, Errno> {
        lock.lock(); defer { lock.unlock() }
        next += 1
        all.append((next, attr.type, attr.config))
        return .success(next)
    }
    func close(_ fd: Int32) { lock.lock(); closed.insert(fd); lock.unlock() }
}

/// An ARMv8 PMU lists in sysfs `events/` only the common events the core implements (PMCEID),
/// yet accepts the raw code of any other and counts 0: socprof must refuse those itself.
@Suite("Common events an ARMv8 PMU does not implement")
struct ImplementedEventsTests {
    @Test("the emulated board's PMU lists cpu_cycles only; a real Cortex-A53 lists what it has")
    func listedEvents() throws {
        let qemu = try #require(PMURegistry(root: Fixtures.root(Fixtures.emulatedBoard)).pmu(named: "armv8_pmuv3"))
        #expect(qemu.listedCommonEvents == [0x11])
        #expect(qemu.implementsCommonEvent(0x11) == true)
        #expect(qemu.implementsCommonEvent(0x08) == false)   // INST_RETIRED: only with -icount
        #expect(qemu.implementsCommonEvent(0x17) == false)   // L2D_CACHE_REFILL
        #expect(qemu.implementsCommonEvent(0x30) == false)   // the last code every such kernel names
        #expect(qemu.implementsCommonEvent(0x37) == nil)     // newer kernels only: absence says nothing
        #expect(qemu.implementsCommonEvent(0xC0) == nil)     // implementation defined: never listed

        let a53 = try #require(PMURegistry(root: Fixtures.root("rk3399")).pmu(named: "armv8_cortex_a53"))
        #expect(a53.implementsCommonEvent(0x17) == true)
        #expect(a53.implementsCommonEvent(0x1B) == false)    // INST_SPEC: not on the A53
        let a15 = try #require(PMURegistry(root: Fixtures.root("odroid-xu3")).pmu(named: "armv7_cortex_a15"))
        #expect(a15.listedCommonEvents == nil && a15.implementsCommonEvent(0x17) == nil, "ARMv7 lists no PMCEID-filtered set")
    }

    @Test("event= terms", arguments: [("event=0x0017", UInt64?(0x17)), ("event=17", 17), ("umask=0x1,event=0x3", 3), ("config=5", nil), ("event=zz", nil)])
    func eventField(terms: String, code: UInt64?) {
        #expect(PMU.eventField(terms) == code)
    }

    @Test("raw, generic and cache events the PMU lacks are not opened: <not supported> with the reason")
    func refusedBeforeOpening() throws {
        let registry = PMURegistry(root: Fixtures.root(Fixtures.emulatedBoard))
        let events = try EventResolver(registry: registry).resolve(try EventSpec.parseList("cycles,instructions,r17,L1-dcache-load-misses,r11,task-clock"))
        let system = RecordingSystem()
        let set = CounterSet(events: events, options: CounterOptions(target: .currentThread, permissions: PerfPermissions(paranoid: 2, privileged: false)), registry: registry, system: system)
        let refused = Dictionary(uniqueKeysWithValues: set.failures.map { (events[$0.key].name, $0.value) })
        #expect(Set(refused.keys) == ["instructions", "r17", "L1-dcache-load-misses"])
        for (name, code) in [("instructions", "0x08"), ("r17", "0x17"), ("L1-dcache-load-misses", "0x03")] {
            let f = try #require(refused[name])
            #expect(f.kind == .notSupported && f.errno == nil)
            #expect(f.pmu == "armv8_pmuv3")
            #expect(f.reason.contains("does not implement") && f.reason.contains(code) && f.reason.contains("count 0"), "\(f.reason)")
        }
        // Only cycles (generic, as on any one-PMU machine), r11 and task-clock reached the kernel.
        let hardware = system.opened.filter { $0.type != PerfEventType.software.rawValue }
        #expect(hardware.map(\.type) == [PerfEventType.hardware.rawValue, PerfEventType.raw.rawValue])
        #expect(hardware.map(\.config) == [0, 0x11])
        #expect(system.opened.count == 3)
    }

    @Test("on a core that implements the event nothing is refused")
    func implementedOpens() throws {
        let registry = PMURegistry(root: Fixtures.root("rk3399"))
        let events = try EventResolver(registry: registry).resolve(try EventSpec.parseList("r17,instructions"), corePMU: registry.pmu(named: "armv8_cortex_a53"))
        let system = RecordingSystem()
        let set = CounterSet(events: events, options: CounterOptions(target: .currentThread, permissions: PerfPermissions(paranoid: 2, privileged: false)), registry: registry, system: system)
        #expect(set.failures.isEmpty)
        #expect(system.opened.map(\.config) == [0x17, 0x08])
    }
}
