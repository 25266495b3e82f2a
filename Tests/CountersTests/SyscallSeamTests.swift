import CPerfEvent
import Counters
import Foundation
import LinuxSystem
import SystemPackage
import Testing

/// A PMU whose every system call is scripted: fake descriptors from `open`, and for `read`,
/// `ioctl` and `mapPage` a queue of results taken one per call (the kernel's answer once the
/// queue is empty: a group buffer with `values`, success, ENODEV). Nothing reaches the kernel.
final class ScriptedSystem: PerfEventSystem, @unchecked Sendable {
    // Tests run their calls on one thread; the lock only keeps the queues consistent.
    private let lock = NSLock()
    private var next: Int32 = 500
    /// The values a complete group read returns, leader first.
    var values: [UInt64] = []
    var enabled: UInt64 = 1000, running: UInt64 = 1000
    /// Results of the next reads: a byte count to return (the buffer filled as a complete read
    /// would fill it, up to that count), or an errno.
    var reads: [Result<Int, Errno>] = []
    var ioctls: [Result<Void, Errno>] = []
    private(set) var ioctlCalls: [PerfIoctl] = []
    private(set) var readCalls = 0
    var mapFailure: Errno? = nil

    func open(_ attr: inout perf_event_attr, pid: pid_t, cpu: Int32, groupFD: Int32) -> Result<Int32, Errno> {
        lock.withLock { next += 1; return .success(next) }
    }
    func close(_ fd: Int32) {}

    func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) -> Result<Int, Errno> {
        lock.withLock {
            readCalls += 1
            let scripted = reads.isEmpty ? nil : reads.removeFirst()
            // nr, time_enabled, time_running, {value, id} per member; ids are the fds.
            var words: [UInt64] = [UInt64(values.count), enabled, running]
            for (i, v) in values.enumerated() { words += [v, UInt64(501 + i)] }
            let full = words.count * 8
            switch scripted {
            case .failure(let e)?: return .failure(e)
            case .success(let n)?:
                words.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0.prefix(min(n, full, buffer.count)))) }
                return .success(min(n, full))
            case nil:
                words.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0.prefix(min(full, buffer.count)))) }
                return .success(min(full, buffer.count))
            }
        }
    }

    func ioctl(_ fd: Int32, _ request: PerfIoctl, group: Bool) -> Result<Void, Errno> {
        lock.withLock {
            ioctlCalls.append(request)
            return ioctls.isEmpty ? .success(()) : ioctls.removeFirst()
        }
    }

    func id(of fd: Int32) -> Result<UInt64, Errno> { .success(UInt64(fd)) }

    func mapPage(_ fd: Int32, length: Int) -> Result<UnsafeRawPointer, Errno> {
        .failure(mapFailure ?? .operationNotSupportedByDevice)
    }
}

@Suite("Counters: failures at the system-call seam")
struct SyscallSeamTests {
    let options = CounterOptions(target: .currentThread, permissions: PerfPermissions(paranoid: 2, privileged: false))

    func threeEvents(_ system: ScriptedSystem) -> CounterSet {
        let events = [0x11, 0x08, 0x17].map { ResolvedEvent(name: "r\(String($0, radix: 16))", pmuName: "armv8_pmuv3", type: PerfEventType(rawValue: 10), config: UInt64($0)) }
        let set = CounterSet(events: events, options: options, system: system)
        #expect(set.failures.isEmpty && set.groups.count == 1)
        return set
    }

    @Test("a group read interrupted by a signal (EINTR) is retried and gives the counts")
    func interruptedReadIsRetried() throws {
        let system = ScriptedSystem()
        system.values = [4000, 6000, 30]
        system.reads = [.failure(.interrupted), .failure(.interrupted)]
        let set = threeEvents(system)
        let readings = set.read()
        #expect(system.readCalls == 3)
        #expect(readings.map(\.raw) == [4000, 6000, 30])
        #expect(readings.allSatisfy { $0.status == .counted })
        // The allocation-free path retries too.
        system.reads = [.failure(.interrupted)]
        var scratch: [UInt64] = []
        let times = try set.groups[0].readRaw(into: &scratch)
        #expect(scratch == [4000, 6000, 30] && times.enabled == 1000 && times.running == 1000)
    }

    @Test("a short group read is an error that gives the bytes read; CounterSet reads its events as not counted")
    func shortGroupRead() {
        let system = ScriptedSystem()
        system.values = [4000, 6000, 30]
        system.reads = [.success(16)]
        let set = threeEvents(system)
        #expect {
            try set.groups[0].read()
        } throws: { error in
            "\(error)".contains("short read of the counter group (16 of 72 bytes)")
        }
        system.reads = [.success(40)]
        let readings = set.read()
        #expect(readings.allSatisfy { $0.status == .notCounted && $0.raw == nil })
        system.reads = [.success(64)]
        var values = [UInt64](repeating: 7, count: 3)
        var scratch: [UInt64] = []
        let ok = values.withUnsafeMutableBufferPointer { set.readValues(into: $0, scratch: &scratch) }
        #expect(!ok && values == [7, 7, 7])   // left as they were, and the failure said
    }

    @Test("a failed read (EIO) names the event and the errno; an end-of-file read is not counted, never 0")
    func failedAndEmptyReads() {
        let system = ScriptedSystem()
        system.values = [1, 2, 3]
        system.reads = [.failure(.ioError)]
        let set = threeEvents(system)
        #expect {
            try set.groups[0].read()
        } throws: { error in
            let e = error as? CounterError
            return e?.errno == .ioError && "\(error)".contains("r11") && "\(error)".contains("EIO")
        }
        system.reads = [.success(0)]
        #expect(set.read().allSatisfy { $0.status == .notCounted })
    }

    @Test("ioctls: EINTR is retried, another failure names the request and the errno")
    func ioctlFailures() throws {
        let system = ScriptedSystem()
        let set = threeEvents(system)
        system.ioctls = [.failure(.interrupted), .success(())]
        try set.enable()
        #expect(system.ioctlCalls == [.enable, .enable])
        system.ioctls = [.failure(.noSuchProcess)]
        #expect {
            try set.disable()
        } throws: { error in
            "\(error)".contains("ioctl disable failed") && "\(error)".contains("ESRCH")
        }
        system.ioctls = [.failure(.badFileDescriptor)]
        #expect(throws: CounterError.self) { try set.reset() }
    }

    @Test("a page that cannot be mapped leaves user-space reads off, and read(2) still works")
    func mmapFailure() throws {
        let system = ScriptedSystem()
        system.values = [10, 20, 30]
        system.mapFailure = .noMemory
        let set = threeEvents(system)
        #expect(set.mapPagesForUserSpaceReads() == false)
        #expect(set.groups[0].readUserSpace() == nil)
        var values = [UInt64](repeating: 0, count: 3)
        var scratch: [UInt64] = []
        let ok = values.withUnsafeMutableBufferPointer { set.readValues(into: $0, scratch: &scratch) }
        #expect(ok && values == [10, 20, 30])
    }
}
