import CPerfEvent
import Counters
import Foundation
import SystemPackage

/// A PMU with `counters` counters whose events are the kernel's software clocks and counts: the
/// profiler opens "hardware" events of type 10, and this system opens the software event each
/// stands for, for real (real descriptors, real reads), refusing a group member once a group holds
/// `counters` of them, as the kernel's group validation does on a real PMU.
public final class EmulatedPMUSystem: PerfEventSystem, @unchecked Sendable {
    public static let type: UInt32 = 10
    /// Emulated event code to the software event counted for it.
    public static let stands: [UInt64: UInt64] = [0x11: UInt64(PERF_COUNT_SW_TASK_CLOCK.rawValue), 0x12: UInt64(PERF_COUNT_SW_CPU_CLOCK.rawValue),
                                           0x13: UInt64(PERF_COUNT_SW_PAGE_FAULTS.rawValue), 0x14: UInt64(PERF_COUNT_SW_CONTEXT_SWITCHES.rawValue)]
    public let counters: Int
    let kernel = KernelPerfEventSystem()
    private let lock = NSLock()
    private var members: [Int32: Int] = [:]
    public private(set) var refused = 0

    public init(counters: Int) { self.counters = counters }

    public func open(_ attr: inout perf_event_attr, pid: pid_t, cpu: Int32, groupFD: Int32) -> Result<Int32, Errno> {
        guard attr.type == Self.type else { return kernel.open(&attr, pid: pid, cpu: cpu, groupFD: groupFD) }
        lock.lock(); defer { lock.unlock() }
        if groupFD >= 0 && members[groupFD, default: 1] >= counters { refused += 1; return .failure(.invalidArgument) }
        guard let software = Self.stands[attr.config] else { return .failure(.noSuchFileOrDirectory) }
        var real = attr
        real.type = PERF_TYPE_SOFTWARE.rawValue
        real.config = software
        let r = kernel.open(&real, pid: pid, cpu: cpu, groupFD: groupFD)
        if case .success(let fd) = r {
            if groupFD >= 0 { members[groupFD, default: 1] += 1 } else { members[fd] = 1 }
        }
        return r
    }

    public func close(_ fd: Int32) { kernel.close(fd) }
}

