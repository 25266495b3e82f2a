import CPerfEvent
import SystemPackage
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Events opened together on one PMU with a leader, so that they are scheduled onto counters
/// together and read in one read(2) (PERF_FORMAT_GROUP).
// Sendable: the descriptors and ids never change after `init`; each thread reads through its own buffer
// (`readValues`' scratch), and the mapped pages are read by the thread that mapped them.
public final class CounterGroup: @unchecked Sendable {
    /// The events, leader first.
    public let events: [ResolvedEvent]
    /// Their file descriptors, leader first.
    public let fds: [Int32]
    /// Kernel ids (PERF_EVENT_IOC_ID), in the order of `events`.
    public let ids: [UInt64]
    /// Whether the members were opened as a group read with PERF_FORMAT_GROUP (one read(2));
    /// false on kernels before 4.13 when counting a command with `inherit`, where each event is
    /// opened and read on its own.
    public let grouped: Bool
    /// Whether running < enabled means multiplexing (false for a cluster-bound group that was
    /// not split: it means time on another cluster).
    let multiplexed: Bool
    let system: any PerfEventSystem
    private var readBuffer: [UInt64]
    private var pages: [UnsafeRawPointer?] = []
    private var pagesOwner: pthread_t? = nil
    /// Whether every member's page allowed user-space reads when it was mapped.
    private var userSpaceReady = false
    private var closed = false

    init(events: [ResolvedEvent], fds: [Int32], system: any PerfEventSystem, grouped: Bool = true, multiplexed: Bool = true) {
        self.events = events
        self.fds = fds
        self.system = system
        self.grouped = grouped
        self.multiplexed = multiplexed
        self.ids = fds.map { fd in (try? retryingInterrupts { system.id(of: fd) }.get()) ?? 0 }
        self.readBuffer = [UInt64](repeating: 0, count: grouped ? 3 + 2 * fds.count : 4)
    }

    deinit { close() }

    /// The leader's descriptor.
    public var leader: Int32 { fds[0] }

    /// Closes every descriptor (and unmaps pages). Further use is a programming error.
    public func close() {
        guard !closed else { return }
        closed = true
        unmapPages()
        for fd in fds.reversed() { system.close(fd) }
    }

    /// Starts counting (PERF_EVENT_IOC_ENABLE on the group).
    public func enable() throws(CounterError) { try ioctl(.enable) }
    /// Stops counting (PERF_EVENT_IOC_DISABLE on the group).
    public func disable() throws(CounterError) { try ioctl(.disable) }
    /// Sets every count to zero (PERF_EVENT_IOC_RESET on the group); times are not reset.
    public func reset() throws(CounterError) { try ioctl(.reset) }

    private func ioctl(_ request: PerfIoctl) throws(CounterError) {
        for (i, fd) in (grouped ? [leader] : fds).enumerated() {
            if case .failure(let e) = retryingInterrupts({ system.ioctl(fd, request, group: grouped) }) {
                throw CounterError(event: events[i].name, pmu: events[i].pmuName, errno: e, kind: .other,
                                   reason: "ioctl \(request) failed", hint: "")
            }
        }
    }

    /// One read(2) of `fd` into the group's buffer, retried on EINTR.
    @inline(__always)
    private func readIntoBuffer(_ fd: Int32) -> Result<Int, Errno> {
        let system = self.system
        return readBuffer.withUnsafeMutableBytes { buffer in retryingInterrupts { system.read(fd, into: buffer) } }
    }

    /// Reads every member: one read(2) of the leader for a group, one per event otherwise.
    /// A pinned group the PMU could not schedule reads as end-of-file: its events are
    /// `.notCounted`, never 0.
    public func read() throws(CounterError) -> [Reading] {
        guard grouped else {
            return try events.indices.map { i throws(CounterError) in
                let result = readIntoBuffer(fds[i])
                switch result {
                case .failure(let e):
                    throw CounterError(event: events[i].name, pmu: events[i].pmuName, errno: e, kind: .other, reason: "read of the counter failed", hint: "")
                case .success(0):
                    return Reading(notCounted: events[i])
                case .success(let got) where got < 3 * MemoryLayout<UInt64>.size:
                    throw CounterError(event: events[i].name, pmu: events[i].pmuName, errno: nil, kind: .other,
                                       reason: "short read of the counter (\(got) bytes)", hint: "")
                default:
                    // value, time_enabled, time_running, id
                    return Reading(event: events[i], raw: readBuffer[0], timeEnabled: readBuffer[1], timeRunning: readBuffer[2], multiplexed: multiplexed)
                }
            }
        }
        let n = fds.count
        let wanted = (3 + 2 * n) * MemoryLayout<UInt64>.size
        let result = readIntoBuffer(leader)
        switch result {
        case .failure(let e):
            throw CounterError(event: events[0].name, pmu: events[0].pmuName, errno: e, kind: .other,
                               reason: "read of the counter group failed", hint: "")
        case .success(0):
            return events.map { Reading(notCounted: $0) }
        case .success(let got) where got < wanted:
            throw CounterError(event: events[0].name, pmu: events[0].pmuName, errno: nil, kind: .other,
                               reason: "short read of the counter group (\(got) of \(wanted) bytes)", hint: "")
        default: break
        }
        return Self.parseGroupRead(readBuffer, events: events, ids: ids, multiplexed: multiplexed)
    }

    /// Reads every member with one read(2) of the leader into `values` (in the order of
    /// `events`; resized if needed) without allocating: the form to use between two layers.
    /// Returns the group's time enabled and running, in ns.
    @inline(__always)
    public func readRaw(into values: inout [UInt64]) throws(CounterError) -> (enabled: UInt64, running: UInt64) {
        precondition(grouped, "readRaw needs a group read (PERF_FORMAT_GROUP)")
        let n = fds.count
        let wanted = (3 + 2 * n) * MemoryLayout<UInt64>.size
        let result = readIntoBuffer(leader)
        guard case .success(let got) = result, got >= wanted else {
            throw CounterError(event: events[0].name, pmu: events[0].pmuName, errno: result.failureValue, kind: .other,
                               reason: "read of the counter group failed", hint: "")
        }
        if values.count != n { values = [UInt64](repeating: 0, count: n) }
        // The kernel returns members in the order they were added to the group, which is ours.
        for i in 0..<n { values[i] = readBuffer[3 + 2 * i] }
        return (readBuffer[1], readBuffer[2])
    }

    /// Parses a PERF_FORMAT_GROUP|ID|TOTAL_TIME_ENABLED|TOTAL_TIME_RUNNING buffer:
    /// `nr, time_enabled, time_running, {value, id} x nr`. Values are matched to events by id when
    /// ids are known, else by position; an event with no value in the buffer is `.notCounted`.
    static func parseGroupRead(_ buffer: [UInt64], events: [ResolvedEvent], ids: [UInt64], multiplexed: Bool = true) -> [Reading] {
        let nr = Int(min(buffer[0], UInt64(events.count)))
        let enabled = buffer[1], running = buffer[2]
        var byID: [UInt64: UInt64] = [:]
        for i in 0..<nr { byID[buffer[4 + 2 * i]] = buffer[3 + 2 * i] }
        return events.indices.map { i in
            let value: UInt64? = ids[i] != 0 ? byID[ids[i]] : (i < nr ? buffer[3 + 2 * i] : nil)
            guard let value else { return Reading(notCounted: events[i], timeEnabled: enabled) }
            return Reading(event: events[i], raw: value, timeEnabled: enabled, timeRunning: running, multiplexed: multiplexed)
        }
    }

    // MARK: - User-space reads through the mmap'ed page

    /// Maps each member's `perf_event_mmap_page` (one page, read-only) so that `readUserSpace()`
    /// can read counters without a system call. Returns whether every page allows it
    /// (`cap_user_rdpmc`); the pages stay mapped either way until `close()`.
    @discardableResult
    public func mapPages() -> Bool {
        guard pages.isEmpty else { return pages.allSatisfy { $0.map { socprof_mmap_can_rdpmc($0) != 0 } ?? false } }
        let size = Int(sysconf(Int32(_SC_PAGESIZE)))
        pages = fds.map { fd in try? system.mapPage(fd, length: size).get() }
        pagesOwner = pthread_self()
        userSpaceReady = pages.allSatisfy { $0.map { socprof_mmap_can_rdpmc($0) != 0 } ?? false }
        return userSpaceReady
    }

    /// Whether the calling thread mapped the pages (rdpmc reads the counters of the CPU it runs
    /// on: only the counted thread may read them). No system call.
    @inline(__always)
    private var onOwnerThread: Bool {
        guard let owner = pagesOwner else { return false }
        return pthread_equal(owner, pthread_self()) != 0
    }

    /// Reads every member from its mmap'ed page into `values` (in the order of `events`; resized
    /// if needed) without a system call or an allocation. Returns the leader's time enabled and
    /// running (ns), or nil when any member cannot be read that way right now (not mapped,
    /// another thread, no user access, or not on a counter): use `readRaw` then.
    @inline(__always)
    public func readRawUserSpace(into values: inout [UInt64]) -> (enabled: UInt64, running: UInt64)? {
        guard userSpaceReady, pages.count == fds.count, onOwnerThread else { return nil }
        if values.count < fds.count { values = [UInt64](repeating: 0, count: fds.count) }
        var times: (enabled: UInt64, running: UInt64) = (0, 0)
        for i in 0..<fds.count {
            var value: UInt64 = 0, enabled: UInt64 = 0, running: UInt64 = 0
            guard let page = pages[i], socprof_mmap_read_self(page, &value, &enabled, &running) == 0 else { return nil }
            values[i] = value
            if i == 0 { times = (enabled, running) }
        }
        return times
    }

    private func unmapPages() {
        let size = Int(sysconf(Int32(_SC_PAGESIZE)))
        for p in pages { if let p { system.unmapPage(p, length: size) } }
        pages = []
    }

    /// Reads every member from its mmap'ed page (`rdpmc` on x86, PMEVCNTR on arm64), on the
    /// thread the counters count (the one that called `mapPages()`). Returns nil when any member
    /// cannot be read that way (not mapped, another thread, no user access, or not on a counter
    /// right now); call `read()` then.
    public func readUserSpace() -> [Reading]? {
        var values: [UInt64] = []
        guard let times = readRawUserSpace(into: &values) else { return nil }
        // Members of a group are on the counters together: the leader's times are theirs.
        return events.indices.map { i in
            Reading(event: events[i], raw: values[i], timeEnabled: times.enabled, timeRunning: times.running, multiplexed: multiplexed)
        }
    }

}
