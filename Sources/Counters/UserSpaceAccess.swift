import LinuxSystem

/// Whether the kernel lets a thread read its own hardware counters without a system call, from
/// the `perf_event_mmap_page` (`rdpmc` on x86, `PMEVCNTR<n>_EL0` on arm64).
public enum UserSpaceAccess {
    /// The setting that governs it on this machine and what it allows, in words.
    /// - arm64 (Linux 5.17+): `/proc/sys/kernel/perf_user_access` (0 off, 1 on), and the event must
    ///   be opened with the PMU's `rdpmc` format bit (`config1:1`), which socprof sets.
    /// - x86: `/sys/bus/event_source/devices/cpu/rdpmc` (0 off, 1 for mmap'ed events, 2 always).
    /// - 32-bit ARM: mainline kernels never enable it.
    public static func describe(root: SystemRoot) -> String {
        if let v = root.readInt("proc/sys/kernel/perf_user_access") {
            return v >= 1 ? "perf_user_access is \(v): user-space reads allowed for events opened with rdpmc"
                : "perf_user_access is 0: user-space reads are off; `sudo sysctl kernel.perf_user_access=1` turns them on"
        }
        if let v = root.readInt("\(PMURegistry.devicesPath)/cpu/rdpmc") {
            return v >= 1 ? "cpu/rdpmc is \(v): rdpmc allowed for mmap'ed events"
                : "cpu/rdpmc is 0: rdpmc is off; `echo 1 | sudo tee /sys/bus/event_source/devices/cpu/rdpmc` turns it on"
        }
        return "no user-space counter access on this kernel (no perf_user_access sysctl and no cpu/rdpmc file)"
    }

    /// Whether the kernel's setting allows user-space reads at all (perf_user_access >= 1 on
    /// arm64, cpu/rdpmc >= 1 on x86); each event must still be on a hardware counter.
    public static func allowed(root: SystemRoot) -> Bool {
        if let v = root.readInt("proc/sys/kernel/perf_user_access") { return v >= 1 }
        if let v = root.readInt("\(PMURegistry.devicesPath)/cpu/rdpmc") { return v >= 1 }
        return false
    }

    /// `event` with the bit that asks for user-space access set, when its PMU has an `rdpmc`
    /// format field (arm64 PMUv3); unchanged otherwise.
    public static func requesting(_ event: ResolvedEvent, on pmu: PMU?) -> ResolvedEvent {
        guard let field = pmu?.formats["rdpmc"], let bits = field.encode(1) else { return event }
        var e = event
        switch field.word {
        case 0: e.config |= bits
        case 1: e.config1 |= bits
        case 2: e.config2 |= bits
        default: break
        }
        return e
    }
}
