import Counters
import Foundation
import LinuxSystem
import SystemPackage
import Testing
import TestSupport

/// The real perf_event path on this machine, with events every Linux kernel counts in software.
@Suite("perf_event on this machine", .serialized,
       .enabled(if: !PerfPermissions.current(root: .live).forbidsAll, "perf_event_paranoid >= 3 forbids perf_event to this user"))
struct LiveCounterTests {
    let registry = PMURegistry(root: .live)
    var permissions: PerfPermissions { .current(root: .live) }

    func open(_ list: String, target: CountingTarget = .currentThread) throws -> CounterSet {
        let events = try EventResolver(registry: registry).resolve(try EventSpec.parseList(list))
        return CounterSet(events: events, options: CounterOptions(target: target, permissions: permissions), registry: registry)
    }

    /// Time the hypervisor gave this VM's CPUs to others ("steal", /proc/stat), all CPUs, ns.
    static func stealNanoseconds() -> UInt64 {
        guard let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
              let line = stat.split(separator: "\n").first, line.hasPrefix("cpu ") else { return 0 }
        let fields = line.split(separator: " ")
        guard fields.count > 8, let ticks = UInt64(fields[8]) else { return 0 }
        return ticks * (1_000_000_000 / UInt64(max(1, sysconf(Int32(_SC_CLK_TCK)))))
    }

    static func threadCPUTime() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    @Test("task-clock of a busy loop matches the thread's CPU time")
    func taskClockMatchesCPUTime() throws {
        let set = try open("task-clock")
        defer { set.close() }
        #expect(set.failures.isEmpty)
        try set.reset()
        let c0 = Self.threadCPUTime()
        let steal0 = Self.stealNanoseconds()
        try set.enable()
        var x: UInt64 = 1
        let deadline = Self.threadCPUTime() + 150_000_000 // 150 ms of CPU
        while Self.threadCPUTime() < deadline { for i in 0..<10_000 { x = x &* 6364136223846793005 &+ UInt64(i) } }
        try set.disable()
        let c1 = Self.threadCPUTime()
        let steal = Double(Self.stealNanoseconds() - steal0)
        #expect(x != 0)
        let reading = set.read()[0]
        #expect(reading.status == .counted)
        let counted = try #require(reading.value)
        let cpu = Double(c1 - c0)
        // Both measure this thread's CPU time; the counter misses only the enable/disable calls.
        // In a VM the two clocks differ by up to the time the hypervisor stole meanwhile (perf's
        // clock runs through it, the scheduler's CPU time does not): that much more is allowed.
        #expect(abs(counted - cpu) < 0.05 * cpu + steal, "task-clock \(counted) ns vs CPU time \(cpu) ns; \(steal) ns stolen meanwhile")
        #expect(reading.event.unit == "ns")
        #expect(reading.timeEnabled > 0 && reading.timeRunning == reading.timeEnabled)
    }

    @Test("page-faults counts at least one fault per fresh page touched", arguments: [64, 1024])
    func pageFaults(pages: Int) throws {
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        let set = try open("page-faults,minor-faults,task-clock")
        defer { set.close() }
        #expect(set.failures.isEmpty)
        #expect(set.groups.count == 1, "software events share one group")
        let length = pages * pageSize
        let mapped = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        try #require(mapped != MAP_FAILED)
        let mem = try #require(mapped)
        defer { munmap(mem, length) }
        // One fault per 4 KiB page, not per 2 MiB huge page.
        _ = madvise(mem, length, MADV_NOHUGEPAGE)
        try set.enable()
        let bytes = mem.assumingMemoryBound(to: UInt8.self)
        for p in 0..<pages { bytes[p * pageSize] = 1 }
        try set.disable()
        let readings = set.read()
        let faults = try #require(readings[0].raw)
        #expect(faults >= UInt64(pages), "touched \(pages) fresh pages, counted \(faults) faults")
        #expect(faults < UInt64(pages) + 200, "no more than a few unrelated faults")
        #expect(try #require(readings[1].raw) <= faults)
    }

    @Test func resetZeroesAndDisableFreezes() throws {
        let set = try open("task-clock,context-switches")
        defer { set.close() }
        try set.enable()
        var x = 0.0
        for i in 0..<2_000_000 { x += Double(i).squareRoot() }
        try set.disable()
        #expect(x > 0)
        let first = try #require(set.read()[0].raw)
        #expect(first > 0)
        let again = try #require(set.read()[0].raw)
        #expect(again == first, "a disabled counter does not move")
        try set.reset()
        #expect(set.read()[0].raw == 0)
    }

    @Test("hardware events: counted where there is a PMU, else not supported with the reason")
    func hardwareEvents() throws {
        let set = try open("cycles,instructions,task-clock")
        defer { set.close() }
        try set.enable()
        var x = 0.0
        for i in 0..<1_000_000 { x += Double(i) }
        try set.disable()
        #expect(x > 0)
        let readings = set.read()
        let clock = try #require(readings.first { $0.event.name == "task-clock" })
        #expect(clock.status == .counted)
        // On a big.LITTLE machine each name expands per core PMU: look rows up by name.
        let hardware = readings.filter { $0.event.name.contains("cycles") || $0.event.name.contains("instructions") }
        #expect(hardware.count == max(1, registry.corePMUs.count) * 2)
        TestBranch.took(TestBranch.pmu)
        if registry.corePMUs.isEmpty {
            for r in hardware {
                guard case .notSupported(let error) = r.status else {
                    Issue.record("\(r.event.name) should not be counted without a PMU: \(r.status)")
                    continue
                }
                #expect(r.raw == nil && r.value == nil, "never a silent 0")
                #expect(error.kind == .notSupported)
                #expect(error.errno == .noSuchFileOrDirectory)
                #expect(error.description.contains("no hardware PMU"))
                #expect(error.description.contains(r.event.name))
            }
        } else {
            // The thread ran on at least one cluster: that cluster's counts are there.
            #expect(hardware.filter { $0.event.name.contains("cycles") }.contains { ($0.raw ?? 0) > 0 })
        }
    }

    /// A PMU of this machine and one of its sysfs event aliases for the test below: the core PMU's
    /// cycles (`cpu_cycles` on ARM, `cpu-cycles` on x86), else the x86 `msr` PMU's `tsc` (root
    /// only: it cannot exclude the kernel); nil when the machine has neither.
    static var sysfsCase: (pmu: String, alias: PMU.Alias)? {
        let registry = PMURegistry(root: .live)
        for pmu in registry.corePMUs {
            if let a = ["cpu_cycles", "cpu-cycles"].lazy.compactMap({ pmu.alias($0) }).first { return (pmu.name, a) }
        }
        if let tsc = registry.pmu(named: "msr")?.alias("tsc"), PerfPermissions.current(root: .live).privileged { return ("msr", tsc) }
        return nil
    }

    @Test("sysfs syntax on a PMU this machine really has: the alias and its own terms both count",
          .enabled(if: sysfsCase != nil, "needs a core PMU with a cycles alias, or the x86 msr PMU as root"))
    func sysfsSyntaxCountsForReal() throws {
        let c = try #require(Self.sysfsCase)
        let set = try open("\(c.pmu)/\(c.alias.name)/,\(c.pmu)/\(c.alias.terms)/")
        defer { set.close() }
        #expect(set.failures.isEmpty, "\(set.failures)")
        try set.enable()
        usleep(2000)
        try set.disable()
        let readings = set.read()
        #expect((readings[0].raw ?? 0) > 0 && (readings[1].raw ?? 0) > 0)
    }

    @Test func libpfmNamesResolveAndCount() throws {
        let events = try EventResolver(registry: registry).resolve(try EventSpec.parse("perf::PAGE-FAULTS"))
        #expect(events[0].type == .software && events[0].config == 2)
        let clock = try EventResolver(registry: registry).resolve(try EventSpec.parse("perf::TASK-CLOCK"))
        #expect(clock[0].type == .software && clock[0].config == 1 && clock[0].unit == "ns")
        #expect(Pfm.activePMUs().contains("perf"))
    }

    @Test func libpfmUnknownPMUIsExplained() throws {
        #if arch(x86_64)
        #expect {
            try EventResolver(registry: registry).resolve(try EventSpec.parse("arm_ac15::L2D_CACHE_REFILL"))
        } throws: { error in
            "\(error)".contains("no active PMU 'arm_ac15'")
        }
        #endif
        #expect(throws: EventResolutionError.self) {
            try EventResolver(registry: registry).resolve(try EventSpec.parse("perf::NO-SUCH-EVENT"))
        }
    }

    /// The mmap'ed page (`rdpmc` on x86, PMEVCNTR/PMCCNTR on arm64) against read(2) on the same
    /// running counter: a user-space read before the system call and one after must bracket it.
    @Test("hardware counters read from user space agree with read(2), or user-space reads decline")
    func userSpaceReadsAgreeWithRead() throws {
        let events = try EventResolver(registry: registry).resolve(try EventSpec.parseList("cycles"))
        let set = CounterSet(events: events, options: CounterOptions(target: .currentThread, permissions: permissions, userSpaceReads: true), registry: registry)
        defer { set.close() }
        guard let group = set.groups.first else {
            #expect(!Fixtures.liveMachineHasCorePMU, "cycles could not be opened on a machine with a PMU: \(set.failures)")
            #expect(set.failures[0]?.kind == .notSupported)
            return
        }
        try group.enable()
        var sink = 0.0
        for i in 0..<200_000 { sink += Double(i).squareRoot() }
        #expect(sink > 0)
        let mapped = group.mapPages()
        var before: [UInt64] = [], after: [UInt64] = [], viaRead: [UInt64] = []
        let u1 = group.readRawUserSpace(into: &before)
        _ = try group.readRaw(into: &viaRead)
        let u2 = group.readRawUserSpace(into: &after)
        try group.disable()
        guard UserSpaceAccess.allowed(root: .live), mapped, u1 != nil, u2 != nil else {
            #expect(!UserSpaceAccess.allowed(root: .live) || !mapped, "user-space reads are allowed here, yet the page read declined")
            #expect(u1 == nil && u2 == nil, "a read from the page must decline when not allowed, not return a value")
            return
        }
        #expect(before[0] > 0)
        #expect(before[0] <= viaRead[0] && viaRead[0] <= after[0], "user space \(before[0]), read(2) \(viaRead[0]), user space \(after[0])")
    }

    @Test func groupReadIsCheapEnoughToBenchmarkAndMmapFallsBack() throws {
        let set = try open("task-clock,page-faults,context-switches,cpu-migrations")
        defer { set.close() }
        let group = try #require(set.groups.first)
        #expect(group.events.count == 4)
        try group.enable()
        // Software events are never on a hardware counter: the mmap path must decline, not lie.
        _ = group.mapPages()
        #expect(group.readUserSpace() == nil)
        let readings = try group.read()
        #expect(readings.allSatisfy { $0.status == .counted })
        try group.disable()
        var values: [UInt64] = []
        let times = try group.readRaw(into: &values)
        let after = try group.read()
        #expect(values == after.map { $0.raw ?? .max }, "raw values are in event order")
        #expect(times.enabled == after[0].timeEnabled && times.running == after[0].timeRunning)
    }

    @Test("without group reads (kernels before 4.13 with inherit), each event is read on its own")
    func ungroupedReads() throws {
        let events = try EventResolver(registry: registry).resolve(try EventSpec.parseList("task-clock,page-faults,context-switches"))
        var options = CounterOptions(target: .currentThread, permissions: permissions)
        options.groupReads = false
        let set = CounterSet(events: events, options: options, registry: registry)
        defer { set.close() }
        #expect(!set.grouped && set.groups.count == 3 && set.groups.allSatisfy { !$0.grouped })
        try set.enable()
        // Fresh pages mapped and touched while counting: each one faults.
        let length = 1 << 22
        let mapped = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        try #require(mapped != MAP_FAILED)
        let bytes = try #require(mapped).assumingMemoryBound(to: UInt8.self)
        defer { munmap(mapped, length) }
        for i in stride(from: 0, to: length, by: 4096) { bytes[i] = 1 }
        try set.disable()
        let r = set.read()
        #expect(r.map(\.event.name) == ["task-clock", "page-faults", "context-switches"])
        #expect(r.allSatisfy { $0.status == .counted })
        #expect((r[0].raw ?? 0) > 0 && (r[1].raw ?? 0) > 0 && r[0].timeEnabled > 0)
        #expect(bytes[4096] == 1)
    }

    @Test func countingAnotherThreadByTid() throws {
        final class TidBox: @unchecked Sendable { var tid: pid_t = 0 }
        let tidBox = TidBox()
        let started = DispatchSemaphore(value: 0), go = DispatchSemaphore(value: 0), done = DispatchSemaphore(value: 0)
        let t = Thread {
            tidBox.tid = ThreadID.current()
            started.signal()
            go.wait()
            var x = 0.0
            for i in 0..<3_000_000 { x += Double(i).squareRoot() }
            if x < 0 { print(x) }
            done.signal()
        }
        t.start()
        started.wait()
        let set = try open("task-clock", target: .thread(tidBox.tid))
        defer { set.close() }
        try set.enable()
        go.signal()
        done.wait()
        try set.disable()
        let r = set.read()[0]
        #expect((r.raw ?? 0) > 1_000_000, "the other thread's CPU time is counted: \(r)")
    }
}
