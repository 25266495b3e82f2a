import CPerfEvent
import SystemPackage

/// The system calls a counter set makes to open and close events: the kernel's by default;
/// tests substitute one that plays a PMU with a given number of counters to check group splitting.
public protocol PerfEventSystem: Sendable {
    /// perf_event_open(2).
    func open(_ attr: inout perf_event_attr, pid: pid_t, cpu: Int32, groupFD: Int32) -> Result<Int32, Errno>
    /// close(2).
    func close(_ fd: Int32)
}

/// The kernel.
public struct KernelPerfEventSystem: PerfEventSystem {
    public init() {}
    public func open(_ attr: inout perf_event_attr, pid: pid_t, cpu: Int32, groupFD: Int32) -> Result<Int32, Errno> {
        system_perf_event_open(&attr, pid: pid, cpu: cpu, groupFD: groupFD, flags: UInt(PERF_FLAG_FD_CLOEXEC))
    }
    public func close(_ fd: Int32) { _ = system_close(fd) }
}
