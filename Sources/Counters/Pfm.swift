import CPfm
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Event names resolved by libpfm4 (`pmu::EVENT[:umask]`, e.g. `perf::TASK-CLOCK`,
/// `arm_ac15::L2D_CACHE_REFILL`), through `pfm_get_os_event_encoding(PFM_OS_PERF_EVENT_EXT)`.
///
/// libpfm4 carries tables only for the architecture it was built for: an x86-64 build knows
/// `perf::`, `perf_raw::` and Intel/AMD PMUs, an ARM build knows `arm_ac7`, `arm_ac15`,
/// `arm_ac53`, `arm_ac57`, ...
public enum Pfm {
    private static let initStatus: Int32 = pfm_initialize()
    /// libpfm4 is not thread-safe: every call into it holds this lock.
    private static let lock = Mutex(())

    /// libpfm4's API version (`pfm_get_version`) as "major.minor"; not the package version.
    public static var version: String {
        let v = pfm_get_version()
        return v < 0 ? "unknown" : "\(v >> 16).\(v & 0xffff)"
    }

    /// The names of the PMUs libpfm4 detected on this machine (`perf`, `perf_raw`, `arm_ac15`, ...).
    public static func activePMUs() -> [String] {
        lock.withLock { _ in initStatus == PFM_SUCCESS ? activePMUsUnlocked() : [] }
    }

    /// Resolves a libpfm4 event string into a perf_event encoding.
    public static func resolve(_ text: String) throws(EventResolutionError) -> ResolvedEvent {
        try lock.withLock { _ throws(EventResolutionError) in try resolveUnlocked(text) }
    }

    private static func resolveUnlocked(_ text: String) throws(EventResolutionError) -> ResolvedEvent {
        guard initStatus == PFM_SUCCESS else {
            throw EventResolutionError(event: text, problem: "libpfm4 did not initialise: \(String(cString: pfm_strerror(initStatus)))")
        }
        var attr = perf_event_attr()
        attr.size = UInt32(MemoryLayout<perf_event_attr>.size)
        var fstr: UnsafeMutablePointer<CChar>? = nil
        var arg = pfm_perf_encode_arg_t()
        arg.size = MemoryLayout<pfm_perf_encode_arg_t>.size
        let status: Int32 = withUnsafeMutablePointer(to: &attr) { attrPtr in
            withUnsafeMutablePointer(to: &fstr) { fstrPtr in
                arg.attr = attrPtr
                arg.fstr = fstrPtr
                return pfm_get_os_event_encoding(text, Int32(PFM_PLM0 | PFM_PLM3), PFM_OS_PERF_EVENT_EXT, &arg)
            }
        }
        defer { free(fstr) }
        guard status == PFM_SUCCESS else {
            let pmuPrefix = text.firstRange(of: "::").map { String(text[..<$0.lowerBound]) } ?? text
            let active = activePMUsUnlocked()
            var problem = "libpfm4 \(version): \(String(cString: pfm_strerror(status)))"
            if status == PFM_ERR_NOTFOUND && !active.contains(pmuPrefix) {
                problem += "; libpfm4 has no active PMU '\(pmuPrefix)' on this machine (its tables cover only the CPU it runs on; active here: \(active.joined(separator: ", ")))"
            }
            var candidates = active
            if active.contains(pmuPrefix) { candidates = [] }
            throw EventResolutionError(event: text, problem: problem,
                                       suggestions: candidates.isEmpty ? [] : Suggestions.closest(to: pmuPrefix, in: candidates))
        }
        var e = ResolvedEvent(name: text, pmuName: nil, type: PerfEventType(rawValue: attr.type), config: attr.config)
        e.config1 = attr.config1
        e.config2 = attr.config2
        // Modifiers given in the libpfm4 string (":u", ":k") arrive as exclude bits.
        if attr.exclude_user != 0 || attr.exclude_kernel != 0 || attr.exclude_hv != 0 {
            var levels: PrivilegeLevels = []
            if attr.exclude_user == 0 { levels.insert(.user) }
            if attr.exclude_kernel == 0 { levels.insert(.kernel) }
            if attr.exclude_hv == 0 { levels.insert(.hypervisor) }
            e.levels = levels
        }
        if e.type == .software {
            e.pmuName = "software"
            if attr.config == 0 || attr.config == 1 { e.unit = "ns" }
        }
        return e
    }

    private static func activePMUsUnlocked() -> [String] {
        var names: [String] = []
        for id in 0..<Int32(PFM_PMU_MAX.rawValue) {
            var info = pfm_pmu_info_t()
            info.size = MemoryLayout<pfm_pmu_info_t>.size
            guard pfm_get_pmu_info(pfm_pmu_t(rawValue: UInt32(id)), &info) == PFM_SUCCESS, info.is_present != 0,
                  let n = info.name else { continue }
            names.append(String(cString: n))
        }
        return names
    }
}
