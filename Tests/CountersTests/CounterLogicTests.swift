import CPerfEvent
import Counters
import Foundation
import LinuxSystem
import SystemPackage
import Testing
import TestSupport

/// A PMU with a fixed number of counters, as the kernel's group validation sees it: opening a
/// group member fails with EINVAL once the group holds `counters` events; event codes in
/// `unsupported` fail with ENOENT. File descriptors are fake and never reach the kernel.
final class FakePMUSystem: PerfEventSystem, @unchecked Sendable {
    let counters: Int
    let unsupported: Set<UInt64>
    /// Refuse inherit with PERF_FORMAT_GROUP, as kernels before 4.13 do.
    var refusesInheritGroup = false
    private let lock = NSLock()
    private var next: Int32 = 1000
    private var groupSize: [Int32: Int] = [:]
    private(set) var closed: [Int32] = []

    init(counters: Int, unsupported: Set<UInt64> = []) {
        self.counters = counters
        self.unsupported = unsupported
    }

    func open(_ attr: inout perf_event_attr, pid: pid_t, cpu: Int32, groupFD: Int32) -> Result<Int32, Errno> {
        lock.lock(); defer { lock.unlock() }
        if unsupported.contains(attr.config) { return .failure(.noSuchFileOrDirectory) }
        if refusesInheritGroup && attr.inherit == 1 && attr.read_format & ReadFormat.group.rawValue != 0 { return .failure(.invalidArgument) }
        if groupFD >= 0 {
            guard attr.disabled == 0 else { return .failure(.invalidArgument) } // members follow the leader
            if attr.type != PERF_TYPE_SOFTWARE.rawValue && groupSize[groupFD, default: 0] >= counters { return .failure(.invalidArgument) }
            groupSize[groupFD, default: 0] += 1
        } else {
            guard attr.disabled == 1 else { return .failure(.invalidArgument) }
        }
        next += 1
        if groupFD < 0 { groupSize[next] = 1 }
        return .success(next)
    }

    func close(_ fd: Int32) {
        lock.lock(); defer { lock.unlock() }
        closed.append(fd)
    }
}

@Suite("Counter groups, readings and errors")
struct CounterLogicTests {
    let options = CounterOptions(target: .currentThread, permissions: PerfPermissions(paranoid: 2, privileged: false))

    func rawEvents(_ codes: [UInt64], pmu: String = "armv7_cortex_a7", type: UInt32 = 10) -> [ResolvedEvent] {
        codes.map { ResolvedEvent(name: "r\(String($0, radix: 16))", pmuName: pmu, type: PerfEventType(rawValue: type), config: $0) }
    }

    @Test("a group larger than the PMU's counters is split into groups that fit", arguments: [(4, 9, [4, 4, 1]), (6, 6, [6]), (6, 7, [6, 1]), (1, 3, [1, 1, 1])])
    func splitting(counters: Int, events: Int, sizes: [Int]) {
        let system = FakePMUSystem(counters: counters)
        let set = CounterSet(events: rawEvents((0..<UInt64(events)).map { 0x10 + $0 }), options: options, system: system)
        #expect(set.failures.isEmpty)
        #expect(set.groups.map(\.events.count) == sizes)
        #expect(set.splits["armv7_cortex_a7"] == (sizes.count > 1 ? sizes.count : nil))
        // Every event is in exactly one group, in order.
        #expect(set.groups.flatMap(\.events).map(\.config) == (0..<UInt64(events)).map { 0x10 + $0 })
        set.close()
        #expect(Set(system.closed).count == events)
    }

    @Test("a kernel that refuses inherit with group reads gets one event per fd")
    func inheritWithoutGroupReads() {
        let system = FakePMUSystem(counters: 4)
        system.refusesInheritGroup = true
        let o = CounterOptions(target: .thread(1), inherit: true, enableOnExec: true, permissions: PerfPermissions(paranoid: 2, privileged: false))
        let set = CounterSet(events: rawEvents([0x11, 0x08, 0x17]), options: o, system: system)
        #expect(set.failures.isEmpty)
        #expect(!set.grouped && set.groups.count == 3 && set.splits.isEmpty)
        #expect(set.groups.allSatisfy { !$0.grouped && $0.events.count == 1 })
    }

    @Test("a cluster's events that fit in one group are not scaled: running < enabled is time elsewhere")
    func clusterShareIsNotScaled() throws {
        let registry = PMURegistry(root: Fixtures.root("rk3399"))
        let events = try EventResolver(registry: registry).resolve(try EventSpec.parseList("cycles,task-clock"))
        #expect(events.map(\.clusterBound) == [true, true, false])
        let share = Reading(event: events[0], raw: 500, timeEnabled: 1000, timeRunning: 250, multiplexed: false)
        #expect(share.status == .counted && share.scaled == 500 && share.isClusterShare && share.runningPercent == 25)
        let set = CounterSet(events: events, options: options, registry: registry, system: FakePMUSystem(counters: 6))
        #expect(set.groups.count == 3)
        // Split groups of one cluster may be multiplexed: those keep scaling.
        let many = try EventResolver(registry: registry).resolve(try EventSpec.parseList("r11,r8,r3,r4,r17,r18,r19"), corePMU: registry.pmu(named: "armv8_cortex_a72"))
        let split = CounterSet(events: many.map { var e = $0; e.clusterBound = true; return e }, options: options, registry: registry,
                               system: FakePMUSystem(counters: 6))
        #expect(split.splits["armv8_cortex_a72"] == 2)
    }

    @Test func eachPMUAndSoftwareGetTheirOwnGroups() {
        let system = FakePMUSystem(counters: 4)
        var events = rawEvents([0x11, 0x08], pmu: "armv7_cortex_a7", type: 10)
        events += rawEvents([0x11, 0x08], pmu: "armv7_cortex_a15", type: 11)
        events.insert(ResolvedEvent(name: "task-clock", pmuName: "software", type: .software, config: 1), at: 1)
        let set = CounterSet(events: events, options: options, system: system)
        #expect(set.groups.map { $0.events.map(\.name) } == [["r11", "r8"], ["task-clock"], ["r11", "r8"]])
        #expect(set.groups.map { $0.events[0].pmuName } == ["armv7_cortex_a7", "software", "armv7_cortex_a15"])
    }

    @Test func unsupportedEventsAreKeptWithTheirReason() throws {
        let system = FakePMUSystem(counters: 4, unsupported: [0x99])
        let events = rawEvents([0x11, 0x99, 0x08])
        let set = CounterSet(events: events, options: options, registry: PMURegistry(root: Fixtures.root("odroid-xu3")), system: system)
        #expect(set.groups.count == 1 && set.groups[0].events.map(\.config) == [0x11, 0x08])
        let failure = try #require(set.failures[1])
        #expect(failure.kind == .notSupported)
        #expect(failure.errno == .noSuchFileOrDirectory)
        #expect(failure.description.contains("r99") && failure.description.contains("armv7_cortex_a7"))
        #expect(failure.description.contains("does not implement"))
    }

    @Test func uncoreEventsAreNotOpenedForATask() throws {
        let registry = PMURegistry(root: Fixtures.root("rk3588"))
        let events = try EventResolver(registry: registry).resolve(try EventSpec.parse("rockchip_ddr/bytes/"))
        let set = CounterSet(events: events, options: options, registry: registry, system: FakePMUSystem(counters: 4))
        #expect(set.groups.isEmpty)
        #expect(set.failures[0]?.description.contains("counts the whole system") == true)
    }

    @Test func perCPUCountingChecksThePMUsCPUs() throws {
        let registry = PMURegistry(root: Fixtures.root("rk3399"))
        let a72 = try #require(registry.pmu(named: "armv8_cortex_a72"))
        let events = try EventResolver(registry: registry).resolve(try EventSpec.parse("cycles"), corePMU: a72)
        let perCPU = CounterOptions(target: .cpu(0), permissions: PerfPermissions(paranoid: -1, privileged: true))
        let set = CounterSet(events: events, options: perCPU, registry: registry, system: FakePMUSystem(counters: 6))
        #expect(set.failures[0]?.description.contains("does not cover cpu0 (it covers 4-5)") == true)
    }

    @Test("privilege levels follow perf_event_paranoid", arguments: [
        (PerfPermissions(paranoid: 2, privileged: false), PrivilegeLevels.user),
        (PerfPermissions(paranoid: 1, privileged: false), .all),
        (PerfPermissions(paranoid: 3, privileged: true), .all),
        (PerfPermissions(paranoid: nil, privileged: false), .user),
    ])
    func defaultLevels(permissions: PerfPermissions, levels: PrivilegeLevels) {
        #expect(permissions.defaultLevels == levels)
        let e = ResolvedEvent(name: "cycles", pmuName: nil, type: .hardware, config: 0)
        let attr = CounterSet.attribute(for: e, leader: true, options: CounterOptions(permissions: permissions))
        #expect(attr.exclude_kernel == (levels.contains(.kernel) ? 0 : 1))
        #expect(attr.exclude_user == 0)
        #expect(attr.disabled == 1)
        #expect(attr.read_format == ReadFormat.socprof.rawValue)
        var userOnly = e
        userOnly.levels = .kernel
        let k = CounterSet.attribute(for: userOnly, leader: false, options: CounterOptions(permissions: permissions))
        #expect(k.exclude_user == 1 && k.exclude_kernel == 0 && k.disabled == 0)
    }

    @Test func userSpaceReadsSetTheRdpmcBitWhereThePMUHasOne() throws {
        let registry = PMURegistry(root: Fixtures.root("rk3399"))
        #expect(registry.pmu(named: "armv8_cortex_a53")?.formats["rdpmc"]?.description == "config1:1")
        let events = try EventResolver(registry: registry).resolve(try EventSpec.parse("cycles"))
        let o = CounterOptions(permissions: PerfPermissions(paranoid: 2, privileged: false), userSpaceReads: true)
        let set = CounterSet(events: events, options: o, registry: registry, system: FakePMUSystem(counters: 6))
        #expect(set.events.map(\.config1) == [0b10, 0b10])
        #expect(set.events.map(\.config) == [0x11, 0x11])
        // ARMv7 PMUs have no such field: unchanged.
        let xu3 = PMURegistry(root: Fixtures.root("odroid-xu3"))
        let v7 = CounterSet(events: try EventResolver(registry: xu3).resolve(try EventSpec.parse("cycles")), options: o,
                            registry: xu3, system: FakePMUSystem(counters: 4))
        #expect(v7.events.map(\.config1) == [0, 0])
        #expect(UserSpaceAccess.describe(root: Fixtures.root("odroid-xu3")).contains("no user-space counter access"))
        #expect(UserSpaceAccess.describe(root: Fixtures.root("rk3588")).contains("sysctl kernel.perf_user_access=1"))
    }

    @Test func commandCountingAttributes() {
        let e = ResolvedEvent(name: "task-clock", pmuName: "software", type: .software, config: 1)
        let o = CounterOptions(target: .thread(42), inherit: true, enableOnExec: true, permissions: PerfPermissions(paranoid: 2, privileged: false))
        let leader = CounterSet.attribute(for: e, leader: true, options: o)
        #expect(leader.inherit == 1 && leader.enable_on_exec == 1 && leader.disabled == 1)
        let member = CounterSet.attribute(for: e, leader: false, options: o)
        #expect(member.inherit == 1 && member.enable_on_exec == 0 && member.disabled == 0)
    }

    @Test func permissionErrorsNameTheFix() {
        let e = ResolvedEvent(name: "cycles", pmuName: "armv7_cortex_a15", type: PerfEventType(rawValue: 11), config: 0xFF)
        let system = FailingSystem(errno: .permissionDenied)
        let set = CounterSet(events: [e], options: CounterOptions(permissions: PerfPermissions(paranoid: 3, privileged: false)), system: system)
        let error = set.failures[0]!
        #expect(error.kind == .permission)
        #expect(error.description.contains("perf_event_paranoid is 3"))
        #expect(error.description.contains("sysctl kernel.perf_event_paranoid=1"))
        #expect(error.description.contains("CAP_PERFMON"))
        #expect(error.description.contains("EACCES"))
        #expect(error.description.contains("armv7_cortex_a15"))
    }

    @Test("each errno gets its own explanation", arguments: [
        (Errno.operationNotSupportedByDevice, "cluster's PMU"), (.resourceBusy, "holds the PMU's counters exclusively"), (.tooManyOpenFiles, "ulimit -n"),
        (.invalidArgument, "rejected the encoding"), (.noSuchProcess, "no longer exists"),
    ])
    func errnoExplanations(errno: Errno, fragment: String) {
        let e = ResolvedEvent(name: "r17", pmuName: "armv8_cortex_a53", type: PerfEventType(rawValue: 10), config: 0x17)
        let set = CounterSet(events: [e], options: options, system: FailingSystem(errno: errno))
        #expect(set.failures[0]?.description.contains(fragment) == true, "\(set.failures[0]!)")
    }

    @Test("readings: counted, multiplexed and scaled, never run")
    func readings() {
        let e = ResolvedEvent(name: "r17", pmuName: nil, type: .raw, config: 0x17)
        let full = Reading(event: e, raw: 1000, timeEnabled: 500, timeRunning: 500)
        #expect(full.status == .counted && full.scaled == 1000 && full.runningPercent == 100)
        let half = Reading(event: e, raw: 1000, timeEnabled: 1000, timeRunning: 250)
        #expect(half.status == .multiplexed && half.scaled == 4000 && half.runningPercent == 25)
        let never = Reading(event: e, raw: 0, timeEnabled: 1000, timeRunning: 0)
        #expect(never.status == .notCounted && never.raw == nil && never.scaled == nil && never.runningPercent == nil)
        // Multiplexed out is not "never enabled"; a thread that never ran is; a failed read is not.
        #expect(!never.neverEnabled)
        #expect(Reading(event: e, raw: 0, timeEnabled: 0, timeRunning: 0).neverEnabled)
        #expect(!Reading(notCounted: e).neverEnabled)
        var scaledEvent = e
        scaledEvent.scale = 0.5
        #expect(Reading(event: scaledEvent, raw: 10, timeEnabled: 1, timeRunning: 1).value == 5)
    }

    @Test func childProcessStatuses() throws {
        let ok = try ChildProcess.spawn(["true"])
        try ok.start()
        #expect(ok.wait() == .exited(0))
        let three = try ChildProcess.spawn(["sh", "-c", "exit 3"])
        try three.start()
        #expect(three.wait().shellStatus == 3)
        let killed = try ChildProcess.spawn(["sh", "-c", "kill -9 $$"])
        try killed.start()
        #expect(killed.wait() == .signaled(9))
        #expect(killed.wait().shellStatus == 137)
        let missing = try ChildProcess.spawn(["socprof-no-such-command-\(getpid())"])
        #expect {
            try missing.start()
        } throws: { error in
            (error as? ChildProcess.LaunchError)?.shellStatus == 127 && "\(error)".contains("command not found")
        }
        let notExecutable = try ChildProcess.spawn([Fixtures.directory.appendingPathComponent("README.md").path])
        #expect {
            try notExecutable.start()
        } throws: { error in
            (error as? ChildProcess.LaunchError)?.shellStatus == 126
        }
    }
}

/// A kernel that refuses every event with one errno.
struct FailingSystem: PerfEventSystem {
    let errno: Errno
    func open(_ attr: inout perf_event_attr, pid: pid_t, cpu: Int32, groupFD: Int32) -> Result<Int32, Errno> { .failure(errno) }
    func close(_ fd: Int32) {}
}
