import CPerfEvent
import Counters
import Foundation
import SystemPackage
import Testing
import TestSupport

/// An ARM PMU as the kernel's group validation sees it (armv8pmu_get_event_idx): CPU_CYCLES takes
/// the cycle counter when the PMU has one and it is free, anything else a programmable counter;
/// a group that needs a counter the PMU lacks fails with EINVAL.
final class ARMCounterSlots: PerfEventSystem, @unchecked Sendable {
    let general: Int, cycleCounter: Bool, cyclesCode: UInt64
    private let lock = NSLock()
    private var next: Int32 = 3000
    private var used: [Int32: (general: Int, cycle: Bool)] = [:]
    private(set) var open = Set<Int32>()

    /// Whether a disabled leader without enable_on_exec takes no counter, as in arm_pmu's
    /// validate_event (the kernel then accepts a group one event too large).
    let skipsDisabledLeader: Bool

    init(general: Int, cycleCounter: Bool, cyclesCode: UInt64 = 0x11, skipsDisabledLeader: Bool = false) {
        self.general = general; self.cycleCounter = cycleCounter; self.cyclesCode = cyclesCode
        self.skipsDisabledLeader = skipsDisabledLeader
    }

    func open(_ attr: inout perf_event_attr, pid: pid_t, cpu: Int32, groupFD: Int32) -> Result<Int32, Errno> {
        lock.lock(); defer { lock.unlock() }
        let leader = groupFD >= 0 ? groupFD : next + 1
        var u = used[leader] ?? (0, false)
        if groupFD < 0 && skipsDisabledLeader && attr.disabled == 1 && attr.enable_on_exec == 0 {
            next += 1; used[leader] = u; open.insert(next)
            return .success(next)
        }
        if attr.config == cyclesCode && cycleCounter && !u.cycle { u.cycle = true }
        else if u.general < general { u.general += 1 }
        else { return .failure(.invalidArgument) }
        next += 1
        used[leader] = u
        open.insert(next)
        return .success(next)
    }
    func close(_ fd: Int32) { lock.lock(); open.remove(fd); lock.unlock() }
}

@Suite("How many counters an ARM PMU has, from the kernel's group validation")
struct CounterCapacityTests {
    static let root = Fixtures.root(Fixtures.emulatedBoard)
    static let permissions = PerfPermissions(paranoid: 2, privileged: false)

    @Test("general counters and the cycle counter", arguments: [(6, true), (4, true), (2, false), (31, true)])
    func probe(general: Int, cycleCounter: Bool) throws {
        let pmu = try #require(PMURegistry(root: Self.root).pmu(named: "armv8_pmuv3"))
        let slots = ARMCounterSlots(general: general, cycleCounter: cycleCounter)
        let capacity = try #require(CounterCapacity.probe(pmu, permissions: Self.permissions, system: slots))
        #expect(capacity == CounterCapacity(general: general, cycleCounter: cycleCounter))
        #expect(capacity.total == general + (cycleCounter ? 1 : 0))
        #expect(slots.open.isEmpty, "every probe descriptor is closed")
    }

    @Test func armv7CycleCounterIsEventFF() throws {
        let pmu = try #require(PMURegistry(root: Fixtures.root("odroid-xu3")).pmu(named: "armv7_cortex_a15"))
        let slots = ARMCounterSlots(general: 6, cycleCounter: true, cyclesCode: 0xFF)
        #expect(CounterCapacity.probe(pmu, permissions: Self.permissions, system: slots)?.description == "6 + 1 counters")
    }

    @Test("nothing opened (permissions, no PMU) or not an ARM PMU: unknown, never 0")
    func unknown() throws {
        let pmu = try #require(PMURegistry(root: Self.root).pmu(named: "armv8_pmuv3"))
        #expect(CounterCapacity.probe(pmu, permissions: Self.permissions, system: FailingSystem(errno: .permissionDenied)) == nil)
        let x86 = PMU(name: "cpu", type: PerfEventType(rawValue: 4), cpus: nil, cpumask: nil, formats: [:], aliases: [:])
        #expect(CounterCapacity.probe(x86, permissions: Self.permissions, system: ARMCounterSlots(general: 6, cycleCounter: true)) == nil)
    }
}

@Suite("Groups split to fit an ARM PMU's counters")
struct ARMGroupSplitTests {
    @Test("which codes fit: CPU_CYCLES on the cycle counter, the rest on programmable counters")
    func fits() {
        let c = CounterCapacity(general: 6, cycleCounter: true)
        #expect(c.fits([0x11, 8, 8, 8, 8, 8, 8], armv7: false))
        #expect(!c.fits([8, 8, 8, 8, 8, 8, 8], armv7: false), "seven events without CPU_CYCLES need seven programmable counters")
        #expect(c.fits([0x11, 0x11, 8, 8, 8, 8, 8], armv7: false), "a second CPU_CYCLES takes a programmable counter")
        #expect(!c.fits([0x11, 0x11, 8, 8, 8, 8, 8, 8], armv7: false))
        #expect(c.fits([0xFF, 8, 8, 8, 8, 8, 8], armv7: true) && !c.fits([0x11, 8, 8, 8, 8, 8, 8], armv7: true))
    }

    /// arm_pmu's group validation skips a disabled leader, so the kernel does not refuse a group
    /// one event too large; socprof must split it by the probed capacity instead.
    @Test("a group one event too large for the counters is split even when the kernel would accept it")
    func splitByCapacity() throws {
        let registry = PMURegistry(root: Fixtures.root("rk3399"))
        let a53 = try #require(registry.pmu(named: "armv8_cortex_a53"))
        let events = try EventResolver(registry: registry).resolve(try EventSpec.parseList("r8,r3,r4,r17,r18,r19,r16,r11"), corePMU: a53)
        let options = CounterOptions(target: .currentThread, permissions: PerfPermissions(paranoid: 2, privileged: false))
        let set = CounterSet(events: events, options: options, registry: registry, system: ARMCounterSlots(general: 6, cycleCounter: true, skipsDisabledLeader: true))
        #expect(set.failures.isEmpty)
        // The kernel would take all eight (its check skips the disabled leader, and CPU_CYCLES
        // fits on the cycle counter), but seven events need programmable counters.
        #expect(set.groups.map(\.events.count) == [6, 2], "6 + 1 counters")
        #expect(set.splits["armv8_cortex_a53"] == 2)
    }
}
