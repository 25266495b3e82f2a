import CPerfEvent
import SystemPackage
import LinuxSystem

/// How a counter set counts.
public struct CounterOptions: Sendable {
    /// What is counted: a thread/process or a CPU.
    public var target: CountingTarget
    /// Count children created after opening too (`inherit`); needed to count a command.
    public var inherit: Bool
    /// Start counting when the target calls exec (`enable_on_exec`), as `perf stat` does.
    public var enableOnExec: Bool
    /// What perf_event_paranoid allows; decides the default privilege levels.
    public var permissions: PerfPermissions
    /// Ask for user-space reads through the mmap'ed page (sets the PMU's `rdpmc` format bit
    /// where it has one, as arm64 requires); see `UserSpaceAccess`.
    public var userSpaceReads: Bool
    /// Open events in groups read with PERF_FORMAT_GROUP (the default). false opens and reads
    /// each event on its own, which socprof does by itself on kernels before 4.13 when counting a
    /// command with `inherit`.
    public var groupReads: Bool = true

    public init(target: CountingTarget = .currentThread, inherit: Bool = false, enableOnExec: Bool = false,
                permissions: PerfPermissions, userSpaceReads: Bool = false) {
        self.target = target
        self.inherit = inherit
        self.enableOnExec = enableOnExec
        self.permissions = permissions
        self.userSpaceReads = userSpaceReads
    }
}

/// A set of events opened for one target, in as few groups as the PMUs can schedule.
///
/// Events on the same PMU go in one group, read with one read(2); software events form their own
/// group. When the kernel refuses to add an event to a group (EINVAL or ENOSPC: the group no
/// longer fits on the PMU's counters) but accepts it alone, a new group is started: each group is
/// then always on its counters, though different groups may take turns (multiplexing), which the
/// readings report. An event that cannot be opened at all is kept, with its reason, and read as
/// `<not supported>`; it never reads as 0.
// Sendable: its groups and failures are set in `init` and by `close`, which the owner calls after every
// reader is done; reads from several threads only read the file descriptors.
public final class CounterSet: @unchecked Sendable {
    /// The events, in the order given.
    public let events: [ResolvedEvent]
    /// The groups opened.
    public private(set) var groups: [CounterGroup] = []
    /// Why each event that could not be opened was not, by index into `events`.
    public private(set) var failures: [Int: CounterError] = [:]
    /// Per PMU (group key), how many groups its events needed, when more than one.
    public private(set) var splits: [String: Int] = [:]
    /// Whether events were opened in groups (PERF_FORMAT_GROUP); false when the kernel refused
    /// group reads with `inherit` (before Linux 4.13) and each event is read on its own.
    public private(set) var grouped = true
    private var placement: [Int: (group: Int, member: Int)] = [:]
    /// For each group, the index in `events` of each member.
    public private(set) var memberIndex: [[Int]] = []
    let options: CounterOptions

    /// Opens `events` for `options.target`. Failures are recorded per event, not thrown.
    public init(events requested: [ResolvedEvent], options: CounterOptions, registry: PMURegistry? = nil,
                system: any PerfEventSystem = KernelPerfEventSystem()) {
        let events = options.userSpaceReads
            ? requested.map { e in
                // A generic or raw event on a machine with one ARM core PMU goes to that PMU.
                let pmu = e.pmuName.flatMap { registry?.pmu(named: $0) } ?? registry.flatMap { Self.armPlacement(e, registry: $0)?.pmu }
                return UserSpaceAccess.requesting(e, on: pmu)
            }
            : requested
        self.events = events
        self.options = options
        var order: [String] = []
        var partitions: [String: [Int]] = [:]
        for (i, e) in events.enumerated() {
            if let refusal = Self.refusal(for: e, target: options.target, registry: registry) {
                failures[i] = refusal
                continue
            }
            let key = e.groupKey
            if partitions[key] == nil { order.append(key) }
            partitions[key, default: []].append(i)
        }
        var grouped = options.groupReads
        // Opens one event; a PMU that cannot exclude privilege levels (msr, uncore) refuses the
        // exclude_kernel socprof adds by default at perf_event_paranoid >= 2 with EINVAL: retry
        // without it, unless the user asked for the levels.
        func open(_ e: ResolvedEvent, leader: Bool, groupFD: Int32, grouped: Bool) -> Result<Int32, Errno> {
            var attr = Self.attribute(for: e, leader: leader, options: options, grouped: grouped)
            let r = system.open(&attr, pid: options.target.pid, cpu: options.target.cpu, groupFD: groupFD)
            guard case .failure(.invalidArgument) = r, e.levels == nil, options.permissions.defaultLevels != .all else { return r }
            var all = e
            all.levels = .all
            var retry = Self.attribute(for: all, leader: leader, options: options, grouped: grouped)
            let second = system.open(&retry, pid: options.target.pid, cpu: options.target.cpu, groupFD: groupFD)
            if case .success = second { return second }
            return r
        }
        var pending: [(key: String, members: [(index: Int, fd: Int32)])] = []
        for key in order {
            var members: [(index: Int, fd: Int32)] = []
            func finish() {
                if !members.isEmpty { pending.append((key, members)) }
                members = []
            }
            // An ARM PMU's counters, when known: its kernel driver does not refuse a group with a
            // disabled leader that needs one counter too many (see CounterCapacity.probe), so
            // such groups are split here.
            let armPMU = registry.flatMap { Self.armPlacement(events[partitions[key]![0]], registry: $0)?.pmu }
            let capacity = armPMU.flatMap { pmu in
                system is KernelPerfEventSystem ? CounterCapacity.known(for: pmu, permissions: options.permissions)
                                                : CounterCapacity.probe(pmu, permissions: options.permissions, system: system)
            }
            for i in partitions[key]! {
                let e = events[i]
                if grouped, !members.isEmpty, let capacity, let pmu = armPMU, let registry {
                    let codes = (members.map { events[$0.index] } + [e]).map { Self.armPlacement($0, registry: registry)?.code ?? $0.config }
                    if !capacity.fits(codes, armv7: pmu.isARMv7) { finish() }
                }
                if grouped, let leader = members.first {
                    switch open(e, leader: false, groupFD: leader.fd, grouped: true) {
                    case .success(let fd):
                        members.append((i, fd))
                        continue
                    case .failure(let err) where err == .invalidArgument || err == .noSpace || err == .argListTooLong:
                        break // may not fit in this group (E2BIG: the group's read would be too large): try it alone below
                    case .failure(let err):
                        failures[i] = CounterError.fromOpen(err, event: e, target: options.target, permissions: options.permissions, registry: registry)
                        continue
                    }
                }
                var result = open(e, leader: true, groupFD: -1, grouped: grouped)
                if case .failure(.invalidArgument) = result, grouped, options.inherit, pending.isEmpty, members.isEmpty {
                    // Kernels before 4.13 refuse inherit with PERF_FORMAT_GROUP: open and read
                    // each event on its own from here on.
                    let retry = open(e, leader: true, groupFD: -1, grouped: false)
                    if case .success = retry { grouped = false; result = retry }
                }
                switch result {
                case .success(let fd):
                    finish()
                    members = [(i, fd)]
                    if !grouped { finish() }
                case .failure(let err):
                    failures[i] = CounterError.fromOpen(err, event: e, target: options.target, permissions: options.permissions, registry: registry)
                }
            }
            finish()
        }
        self.grouped = grouped
        var groupsPerKey: [String: Int] = [:]
        for p in pending { groupsPerKey[p.key, default: 0] += 1 }
        for (key, n) in groupsPerKey where n > 1 && grouped { splits[key] = n }
        for p in pending {
            // A cluster's events that all fit in one group are never multiplexed: running <
            // enabled is time the thread spent on another cluster.
            let clusterShare = grouped && groupsPerKey[p.key] == 1 && p.members.allSatisfy { events[$0.index].clusterBound }
            let g = CounterGroup(events: p.members.map { events[$0.index] }, fds: p.members.map(\.fd), system: system,
                                 grouped: grouped, multiplexed: !clusterShare)
            for (m, entry) in p.members.enumerated() { placement[entry.index] = (groups.count, m) }
            memberIndex.append(p.members.map(\.index))
            groups.append(g)
        }
    }

    /// A reason not to try opening `e` for `target` at all.
    static func refusal(for e: ResolvedEvent, target: CountingTarget, registry: PMURegistry? = nil) -> CounterError? {
        if let registry, let (pmu, code) = armCommonEvent(e, registry: registry), pmu.implementsCommonEvent(code) == false {
            return CounterError(event: e.name, pmu: pmu.name, errno: nil, kind: .notSupported,
                                reason: pmu.notImplementedReason(code),
                                hint: "this core has no such counter (an emulator such as QEMU implements only a few events); list what it has with `ls /sys/bus/event_source/devices/\(pmu.name)/events`")
        }
        switch target {
        case .thread, .currentThread:
            if e.systemWideOnly {
                return CounterError(event: e.name, pmu: e.pmuName, errno: nil, kind: .notSupported,
                                    reason: "\(e.pmuName ?? "this PMU") counts the whole system, not one task",
                                    hint: "count it per CPU (system-wide) instead")
            }
        case .cpu(let c):
            if let cpus = e.cpus, !cpus.contains(c) {
                return CounterError(event: e.name, pmu: e.pmuName, errno: nil, kind: .notSupported,
                                    reason: "\(e.pmuName ?? "this PMU") does not cover cpu\(c) (it covers \(CPUSet(cpus)))",
                                    hint: "open it on one of its CPUs")
            }
        }
        return nil
    }

    /// The ARMv8 core PMU `e` would count on and its common event code: a raw code on that PMU
    /// (or PERF_TYPE_RAW on a machine with one core PMU), or a generic event the kernel maps to
    /// one. nil for anything else.
    static func armCommonEvent(_ e: ResolvedEvent, registry: PMURegistry) -> (PMU, UInt64)? {
        guard let (pmu, code) = armPlacement(e, registry: registry), !pmu.isARMv7 else { return nil }
        return (pmu, code)
    }

    /// The ARM core PMU (ARMv7 or ARMv8) `e` would count on and its event code, as
    /// `armCommonEvent` finds them.
    static func armPlacement(_ e: ResolvedEvent, registry: PMURegistry) -> (pmu: PMU, code: UInt64)? {
        let pmu: PMU?
        if let name = e.pmuName, name != "software" {
            pmu = registry.pmu(named: name)
        } else {
            pmu = registry.corePMUs.count == 1 ? registry.corePMUs[0] : nil
        }
        guard let pmu, pmu.isARMCore else { return nil }
        switch e.type {
        case pmu.type, .raw:
            return (pmu, e.config & 0xFFFF)
        case .hardware, .hardwareCache:
            let g = GenericEvent(name: e.generic ?? e.name, type: e.type, config: e.config & 0xFFFF_FFFF)
            guard let code = g.armEventCode(armv7: pmu.isARMv7) ?? g.armCacheEventCode(armv7: pmu.isARMv7) else { return nil }
            return (pmu, code)
        default:
            return nil
        }
    }

    /// The perf_event_attr socprof opens `e` with.
    public static func attribute(for e: ResolvedEvent, leader: Bool, options: CounterOptions, grouped: Bool = true) -> perf_event_attr {
        var a = perf_event_attr()
        a.size = UInt32(MemoryLayout<perf_event_attr>.size)
        a.type = e.type.rawValue
        a.config = e.config
        a.config1 = e.config1
        a.config2 = e.config2
        a.read_format = (grouped ? ReadFormat.socprof : [.id, .totalTimeEnabled, .totalTimeRunning]).rawValue
        a.disabled = leader ? 1 : 0
        a.inherit = options.inherit ? 1 : 0
        a.enable_on_exec = leader && options.enableOnExec ? 1 : 0
        a.pinned = leader && e.pinned ? 1 : 0
        let levels = e.levels ?? options.permissions.defaultLevels
        a.exclude_user = levels.contains(.user) ? 0 : 1
        a.exclude_kernel = levels.contains(.kernel) ? 0 : 1
        a.exclude_hv = levels.contains(.hypervisor) ? 0 : 1
        return a
    }

    /// Starts every group.
    public func enable() throws(CounterError) { for g in groups { try g.enable() } }
    /// Stops every group.
    public func disable() throws(CounterError) { for g in groups { try g.disable() } }
    /// Zeroes every group's counts.
    public func reset() throws(CounterError) { for g in groups { try g.reset() } }

    /// Whether at least one event was opened.
    public var isCounting: Bool { !groups.isEmpty }

    /// Reads every group and returns one reading per event, in the order of `events`; events
    /// that could not be opened read as `.notSupported` with their reason.
    /// A group whose read fails has its events read as `.notCounted`; the others are still read.
    public func read() -> [Reading] {
        var perGroup: [[Reading]] = []
        perGroup.reserveCapacity(groups.count)
        for g in groups {
            do { perGroup.append(try g.read()) } catch { perGroup.append(g.events.map { Reading(notCounted: $0) }) }
        }
        return events.indices.map { i in
            if let p = placement[i] { return perGroup[p.group][p.member] }
            return Reading(event: events[i], error: failures[i] ?? CounterError(
                event: events[i].name, pmu: events[i].pmuName, errno: nil, kind: .other, reason: "not opened", hint: ""))
        }
    }

    /// Reads every group into `values` (one per event, in the order of `events`) and, when given,
    /// each event's group time enabled and running (ns) into `enabled` and `running`, without
    /// allocating: for reads between layers. The buffers hold `events.count` elements; events that
    /// were not opened are left as they are. Returns false if a read failed (its events are left
    /// as they are too).
    @discardableResult
    public func readValues(into values: UnsafeMutableBufferPointer<UInt64>, enabled: UnsafeMutableBufferPointer<UInt64>? = nil,
                           running: UnsafeMutableBufferPointer<UInt64>? = nil, scratch: inout [UInt64]) -> Bool {
        var ok = true
        for (gi, g) in groups.enumerated() {
            if g.grouped {
                let times: (enabled: UInt64, running: UInt64)
                if let t = g.readRawUserSpace(into: &scratch) { times = t } else {
                    do { times = try g.readRaw(into: &scratch) } catch { ok = false; continue }
                }
                for m in 0..<g.events.count {
                    let e = memberIndex[gi][m]
                    values[e] = scratch[m]
                    enabled?[e] = times.enabled
                    running?[e] = times.running
                }
            } else {
                do {
                    let r = try g.read()
                    for m in 0..<g.events.count {
                        let e = memberIndex[gi][m]
                        values[e] = r[m].raw ?? values[e]
                        enabled?[e] = r[m].timeEnabled
                        running?[e] = r[m].timeRunning
                    }
                } catch { ok = false }
            }
        }
        return ok
    }

    /// Maps the pages of every group of hardware events on the calling thread, so that
    /// `readValues` called on this thread reads them without a system call where the kernel
    /// allows it (see `UserSpaceAccess`); other groups, and every group when it does not, are read
    /// with read(2). Returns whether every hardware group can be read that way (false when there
    /// is none).
    @discardableResult
    public func mapPagesForUserSpaceReads() -> Bool {
        let hardware = groups.filter { $0.grouped && $0.events.first?.type != .software }
        let ready = hardware.map { $0.mapPages() }
        return !ready.isEmpty && ready.allSatisfy { $0 }
    }

    /// Closes every group.
    public func close() { for g in groups { g.close() } }
}
