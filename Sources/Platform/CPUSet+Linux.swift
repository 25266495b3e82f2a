import CLinux
import Counters
import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// Why a thread could not be pinned.
public struct PinningError: Error, CustomStringConvertible {
    public let cpus: CPUSet
    public let errno: Errno
    public var description: String {
        "cannot pin to CPUs \(cpus) (errno \(CounterError.errnoName(errno))): " +
            (errno == .invalidArgument ? "none of them is online, or a number is beyond the kernel's CPU_SETSIZE" :
             errno == .notPermitted ? "not allowed to change this thread's affinity" : "sched_setaffinity failed")
    }
}

extension CPUSet {
    /// The CPUs the calling thread may run on (sched_getaffinity).
    public static func currentAffinity() -> CPUSet {
        var buf = [Int32](repeating: 0, count: Int(socprof_cpu_setsize()))
        let cap = Int32(buf.count)
        let n = buf.withUnsafeMutableBufferPointer { socprof_get_affinity(0, $0.baseAddress, cap) }
        return n < 0 ? [] : CPUSet(buf.prefix(Int(n)).map(Int.init))
    }

    /// Restricts the calling thread to these CPUs (sched_setaffinity on its tid).
    public func pinCurrentThread() throws(PinningError) {
        let c = cpus.map { Int32(truncatingIfNeeded: $0) }
        let r = c.withUnsafeBufferPointer { socprof_set_affinity(0, $0.baseAddress, Int32(c.count)) }
        if r != 0 { throw PinningError(cpus: self, errno: Errno(rawValue: Glibc.errno)) }
    }

    /// The CPU the calling thread is running on now, or nil.
    public static func currentCPU() -> Int? {
        let c = socprof_current_cpu()
        return c < 0 ? nil : Int(c)
    }
}
