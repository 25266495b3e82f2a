import CPerfEvent
import SystemPackage

/// The perf_event ioctls socprof issues on a counter (or on a whole group, through its leader).
public enum PerfIoctl: Sendable, CustomStringConvertible {
    /// PERF_EVENT_IOC_ENABLE: start counting.
    case enable
    /// PERF_EVENT_IOC_DISABLE: stop counting.
    case disable
    /// PERF_EVENT_IOC_RESET: set the count to zero (times are not reset).
    case reset

    public var description: String {
        switch self {
        case .enable: "enable"
        case .disable: "disable"
        case .reset: "reset"
        }
    }
}

/// The system calls a counter set makes: the kernel's by default. Tests substitute one that
/// plays a PMU with a given number of counters (group splitting), refuses some opens, or fails
/// a read, an ioctl or an mmap.
///
/// Each call is one attempt: a call that fails with EINTR returns `.interrupted`, and the counter
/// layer retries it (`close` excepted: on Linux the descriptor is gone either way). Only `open`
/// and `close` must be written; the others default to the kernel's calls, which is what a fake
/// that hands out real descriptors wants.
public protocol PerfEventSystem: Sendable {
    /// perf_event_open(2), with PERF_FLAG_FD_CLOEXEC.
    func open(_ attr: inout perf_event_attr, pid: pid_t, cpu: Int32, groupFD: Int32) -> Result<Int32, Errno>
    /// close(2).
    func close(_ fd: Int32)
    /// read(2) of a counter or a group leader into `buffer`; the byte count read.
    func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) -> Result<Int, Errno>
    /// An ioctl on `fd`, on its whole group with PERF_IOC_FLAG_GROUP when `group` is true.
    func ioctl(_ fd: Int32, _ request: PerfIoctl, group: Bool) -> Result<Void, Errno>
    /// PERF_EVENT_IOC_ID: the kernel's id of the event, as a group read reports it.
    func id(of fd: Int32) -> Result<UInt64, Errno>
    /// mmap(2) of the event's first page (`perf_event_mmap_page`), shared and read-only.
    func mapPage(_ fd: Int32, length: Int) -> Result<UnsafeRawPointer, Errno>
    /// munmap(2) of a page `mapPage` returned.
    func unmapPage(_ address: UnsafeRawPointer, length: Int)
}

extension PerfEventSystem {
    public func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) -> Result<Int, Errno> {
        system_read(fd, buffer)
    }
    public func ioctl(_ fd: Int32, _ request: PerfIoctl, group: Bool) -> Result<Void, Errno> {
        system_perf_ioctl(fd, request, group: group)
    }
    public func id(of fd: Int32) -> Result<UInt64, Errno> { system_perf_ioctl_id(fd) }
    public func mapPage(_ fd: Int32, length: Int) -> Result<UnsafeRawPointer, Errno> {
        system_mmap_shared_readonly(fd, length: length)
    }
    public func unmapPage(_ address: UnsafeRawPointer, length: Int) { system_munmap(address, length: length) }
}

/// The kernel.
public struct KernelPerfEventSystem: PerfEventSystem {
    public init() {}
    public func open(_ attr: inout perf_event_attr, pid: pid_t, cpu: Int32, groupFD: Int32) -> Result<Int32, Errno> {
        system_perf_event_open(&attr, pid: pid, cpu: cpu, groupFD: groupFD, flags: UInt(PERF_FLAG_FD_CLOEXEC))
    }
    public func close(_ fd: Int32) { _ = system_close(fd) }
}

/// Repeats `call` while it fails with EINTR (a signal arrived during the system call).
@inline(__always)
func retryingInterrupts<T>(_ call: () -> Result<T, Errno>) -> Result<T, Errno> {
    while true {
        let r = call()
        if case .failure(.interrupted) = r { continue }
        return r
    }
}
