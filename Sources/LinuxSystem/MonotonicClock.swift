#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// CLOCK_MONOTONIC: a clock that only moves forward (NTP does not step it), for intervals. One
/// vDSO call, no system call; inlinable, so that spin loops and timed loops call it directly.
public enum MonotonicClock {
    /// Now, ns from an arbitrary start.
    @inlinable
    public static func nanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }

    /// Now, s from an arbitrary start.
    @inlinable
    public static func seconds() -> Double { Double(nanoseconds()) / 1e9 }
}
