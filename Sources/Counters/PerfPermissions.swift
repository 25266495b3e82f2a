import LinuxSystem
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What perf_event lets this process count, from `/proc/sys/kernel/perf_event_paranoid` and
/// the process's capabilities.
public struct PerfPermissions: Sendable, Equatable {
    /// perf_event_paranoid: -1 everything; 0 no raw tracepoints for users; 1 user and kernel of
    /// one's own processes; 2 user space of one's own processes only (the usual default);
    /// 3 and above (a Debian/Android patch) nothing for unprivileged users. nil when unreadable.
    public let paranoid: Int?
    /// Whether the process has CAP_PERFMON or CAP_SYS_ADMIN (or runs as root), which overrides
    /// perf_event_paranoid.
    public let privileged: Bool

    public init(paranoid: Int?, privileged: Bool) {
        self.paranoid = paranoid
        self.privileged = privileged
    }

    /// Reads the paranoid level under `root`; privileges are this process's own.
    public static func current(root: SystemRoot) -> PerfPermissions {
        let p = root.readInt("proc/sys/kernel/perf_event_paranoid").map { Int($0) }
        return PerfPermissions(paranoid: p, privileged: processIsPrivileged())
    }

    /// CAP_PERFMON (38) or CAP_SYS_ADMIN (21) in CapEff of /proc/self/status, or euid 0.
    static func processIsPrivileged() -> Bool {
        if geteuid() == 0 { return true }
        guard let status = SystemRoot.live.read("proc/self/status"),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("CapEff:") }),
              let caps = UInt64(line.dropFirst("CapEff:".count).trimmed(), radix: 16)
        else { return false }
        return caps & (1 << 38) != 0 || caps & (1 << 21) != 0
    }

    /// The privilege levels socprof counts in when the user gave no `:u`/`:k`: user space only
    /// when paranoid >= 2 and unprivileged (kernel counting would fail with EACCES), else all.
    public var defaultLevels: PrivilegeLevels {
        if privileged { return .all }
        if let p = paranoid, p >= 2 { return .user }
        return paranoid == nil ? .user : .all
    }

    /// Whether counting everything on a CPU (system-wide, uncore PMUs) is allowed.
    public var allowsPerCPU: Bool { privileged || (paranoid ?? 2) <= 0 }

    /// Whether unprivileged counting is refused outright (perf_event_paranoid >= 3).
    public var forbidsAll: Bool { !privileged && (paranoid ?? 2) >= 3 }

    /// One line for `info` and error messages: what this level allows.
    public var summary: String {
        let level = paranoid.map(String.init) ?? "unreadable"
        // 3 is not a mainline level: Debian's and Android's kernels add it.
        let extra = (paranoid ?? 0) >= 3 ? " (Debian's and Android's extra level: no perf_event at all for unprivileged users)" : ""
        if privileged { return "perf_event_paranoid is \(level)\(extra); this process has CAP_PERFMON/CAP_SYS_ADMIN, so every event may be counted" }
        switch paranoid {
        case .some(let p) where p >= 3: return "perf_event_paranoid is \(p)\(extra): unprivileged users may not use perf_event at all; 2 lets them count their own processes in user space"
        case .some(2): return "perf_event_paranoid is 2: user-space counting of your own processes only"
        case .some(1): return "perf_event_paranoid is 1: user and kernel counting of your own processes; no per-CPU counting"
        case .some(let p): return "perf_event_paranoid is \(p): per-CPU and kernel counting allowed"
        case .none: return "perf_event_paranoid is unreadable; assuming user-space counting only"
        }
    }

    /// The command that would allow what `needed` describes.
    public static let fix = "run `sudo sysctl kernel.perf_event_paranoid=1` (or 0 / -1 for per-CPU counting), or grant the binary CAP_PERFMON: `sudo setcap cap_perfmon+ep <socprof>`"
}
