import CLinux
import SystemPackage
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The calling thread's CPU affinity (sched_getaffinity / sched_setaffinity on its own tid) and
/// the CPU it runs on. The one place socprof pins threads.
public enum Affinity {
    /// The CPUs the calling thread may run on; empty when the kernel refuses to say.
    public static func current() -> CPUSet {
        var buf = [Int32](repeating: 0, count: Int(socprof_cpu_setsize()))
        let cap = Int32(buf.count)
        let n = buf.withUnsafeMutableBufferPointer { socprof_get_affinity(0, $0.baseAddress, cap) }
        return n < 0 ? [] : CPUSet(buf.prefix(Int(n)).map(Int.init))
    }

    /// How many CPUs the calling thread may run on, at least 1.
    public static func usableCount() -> Int { max(1, current().count) }

    /// Restricts the calling thread to `cpus`.
    public static func pin(to cpus: CPUSet) throws(PinningError) {
        let c = cpus.cpus.map { Int32(truncatingIfNeeded: $0) }
        let r = c.withUnsafeBufferPointer { socprof_set_affinity(0, $0.baseAddress, Int32(c.count)) }
        if r != 0 { throw PinningError(cpus: cpus, errno: Errno(rawValue: errno)) }
    }

    /// Restricts the calling thread to one CPU; false when the kernel refuses. Allocates nothing
    /// (a pool's threads call it as they start).
    public static func pin(cpu: Int) -> Bool {
        var c = Int32(truncatingIfNeeded: cpu)
        return socprof_set_affinity(0, &c, 1) == 0
    }

    /// The CPU the calling thread is running on now, or nil.
    public static func currentCPU() -> Int? {
        let c = socprof_current_cpu()
        return c < 0 ? nil : Int(c)
    }

    /// Runs `body` and then gives the calling thread back the affinity it had before.
    public static func preserving<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        let saved = current()
        defer { if !saved.isEmpty { try? pin(to: saved) } }
        return try body()
    }
}

/// Why a thread could not be pinned.
public struct PinningError: Error, CustomStringConvertible {
    public let cpus: CPUSet
    public let errno: Errno
    public var description: String {
        "cannot pin to CPUs \(cpus) (errno \(errno.name)): " +
            (errno == .invalidArgument ? "none of them is online, or a number is beyond the kernel's CPU_SETSIZE" :
             errno == .notPermitted ? "not allowed to change this thread's affinity" : "sched_setaffinity failed")
    }
}

/// Thread ids.
public enum ThreadID {
    /// The calling thread's kernel thread id (gettid(2)): what perf counts a thread by.
    public static func current() -> pid_t { socprof_gettid() }
}
