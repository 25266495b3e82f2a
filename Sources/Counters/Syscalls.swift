import CPerfEvent
import SystemPackage
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

// One internal function per system call, each returning Result<_, Errno>. perf_event_open retries
// EINTR here (valueOrErrno); read and the ioctls are retried above the PerfEventSystem seam
// (retryingInterrupts). The public API above these throws errors that name the event.

/// Runs `body` until it does not fail with EINTR; a negative result becomes the current errno.
@inline(__always)
func valueOrErrno<T: FixedWidthInteger>(retryOnInterrupt: Bool = true, _ body: () -> T) -> Result<T, Errno> {
    while true {
        let r = body()
        if r >= 0 { return .success(r) }
        let e = Errno(rawValue: errno)
        if retryOnInterrupt && e == .interrupted { continue }
        return .failure(e)
    }
}

func system_perf_event_open(_ attr: inout perf_event_attr, pid: pid_t, cpu: Int32, groupFD: Int32, flags: UInt) -> Result<Int32, Errno> {
    valueOrErrno { socprof_perf_event_open(&attr, pid, cpu, groupFD, flags) }
}

// One attempt each: the counter layer retries EINTR above the PerfEventSystem seam, so that a
// test's fake can return it.

func system_perf_ioctl(_ fd: Int32, _ request: PerfIoctl, group: Bool) -> Result<Void, Errno> {
    let g: Int32 = group ? 1 : 0
    return valueOrErrno(retryOnInterrupt: false) {
        switch request {
        case .enable: socprof_perf_enable(fd, g)
        case .disable: socprof_perf_disable(fd, g)
        case .reset: socprof_perf_reset(fd, g)
        }
    }.map { _ in () }
}

func system_perf_ioctl_id(_ fd: Int32) -> Result<UInt64, Errno> {
    var id: UInt64 = 0
    return valueOrErrno(retryOnInterrupt: false) { socprof_perf_id(fd, &id) }.map { _ in id }
}

func system_read(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer) -> Result<Int, Errno> {
    valueOrErrno(retryOnInterrupt: false) { read(fd, buffer.baseAddress, buffer.count) }
}

func system_close(_ fd: Int32) -> Result<Int32, Errno> {
    // close(2) must not be retried on EINTR on Linux: the fd is gone either way.
    valueOrErrno(retryOnInterrupt: false) { close(fd) }
}

func system_mmap_shared_readonly(_ fd: Int32, length: Int) -> Result<UnsafeRawPointer, Errno> {
    let p = mmap(nil, length, PROT_READ, MAP_SHARED, fd, 0)
    if p == MAP_FAILED || p == nil { return .failure(Errno(rawValue: errno)) }
    return .success(UnsafeRawPointer(p!))
}

func system_munmap(_ address: UnsafeRawPointer, length: Int) {
    _ = munmap(UnsafeMutableRawPointer(mutating: address), length)
}

extension Result {
    /// The error, if this is a failure.
    var failureValue: Failure? {
        if case .failure(let e) = self { return e }
        return nil
    }
}
