#if canImport(Glibc)
import Glibc
#endif
import SystemPackage
import LinuxSystem

/// Why an event could not be opened or read, with what to do about it.
///
/// Its description is one line: "cannot count cycles on armv7_cortex_a15 (type 7): errno ENOENT
/// (No such file or directory): <what happened>; <fix>".
public struct CounterError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure, for callers that choose between `<not supported>` and an error.
    public enum Kind: Sendable, Equatable {
        /// The machine, PMU or core has no such event (including a VM without a PMU).
        case notSupported
        /// perf_event_paranoid or capabilities forbid it.
        case permission
        /// Out of counters, fds or memory; the event may work alone or later.
        case resources
        /// Anything else the kernel refused.
        case other
    }

    /// The event as shown to the user.
    public let event: String
    /// The PMU it was opened on ("software", "armv8_cortex_a53", "cpu"), if known.
    public let pmu: String?
    /// The errno, when a system call failed.
    public let errno: Errno?
    /// The classification.
    public let kind: Kind
    /// What happened, in words.
    public let reason: String
    /// What to do, in words (may be empty).
    public let hint: String

    public init(event: String, pmu: String?, errno: Errno?, kind: Kind, reason: String, hint: String) {
        self.event = event
        self.pmu = pmu
        self.errno = errno
        self.kind = kind
        self.reason = reason
        self.hint = hint
    }

    /// The reason and the fix, without the event name (for `<not supported>` lines).
    public var explanation: String { hint.isEmpty ? reason : "\(reason); \(hint)" }

    public var description: String {
        var s = "cannot count \(event)"
        if let pmu { s += " on \(pmu)" }
        if let errno { s += " (errno \(errno.name))" }
        return s + ": " + explanation
    }

    /// Turns a failed perf_event_open into an error that says what to do. EBADF and EFAULT are
    /// socprof's own bugs and stop the program; E2BIG (a group whose read would exceed the
    /// kernel's limit, or an attr the kernel finds too large) is an error.
    static func fromOpen(_ e: Errno, event: ResolvedEvent, target: CountingTarget, permissions: PerfPermissions,
                         registry: PMURegistry?) -> CounterError {
        let pmuName = event.pmuName
        func make(_ kind: Kind, _ reason: String, _ hint: String = "") -> CounterError {
            CounterError(event: event.name, pmu: pmuName, errno: e, kind: kind, reason: reason, hint: hint)
        }
        switch e {
        case .argListTooLong:
            return make(.resources, "the kernel refused it as too large (E2BIG): the group's read would exceed the kernel's limit, or its attributes are larger than this kernel knows",
                        "count fewer events at once")
        case .badFileDescriptor, .badAddress:
            preconditionFailure("perf_event_open(\(event.name)) failed with \(e.name): a socprof bug (attr or group fd)")
        case .permissionDenied, .notPermitted:
            if permissions.forbidsAll {
                return make(.permission, permissions.summary, PerfPermissions.fix)
            }
            if case .cpu = target {
                return make(.permission, "counting everything on a CPU needs perf_event_paranoid <= 0 or CAP_PERFMON (\(permissions.summary))", PerfPermissions.fix)
            }
            return make(.permission, "not allowed (\(permissions.summary))", PerfPermissions.fix)
        case .notSupported:
            return make(.notSupported, "the PMU does not support this mode (privilege exclusion such as :u/:k, per-task counting, or a 64-bit counter it cannot chain)",
                        "try without modifiers, or count per CPU")
        case .noSuchFileOrDirectory:
            let noCorePMU = registry.map { $0.corePMUs.isEmpty } ?? false
            if event.type.isHardware && noCorePMU && (event.pmuName == nil || event.pmuName == "cpu") {
                return make(.notSupported, "this machine has no hardware PMU that perf_event can use (a virtual machine without PMU passthrough?)",
                            "software events (task-clock, page-faults, context-switches) still count")
            }
            if event.type.isHardware {
                return make(.notSupported, "the PMU does not implement this event or mode", "list the events it has with `ls /sys/bus/event_source/devices/\(pmuName ?? "<pmu>")/events`")
            }
            return make(.notSupported, "the kernel does not support this event")
        case .operationNotSupportedByDevice:
            if case .cpu(let c) = target {
                return make(.notSupported, "cpu\(c) is offline or not covered by this PMU",
                            "bring it online (`echo 1 | sudo tee /sys/devices/system/cpu/cpu\(c)/online`) or open the event on a CPU the PMU's `cpus` file lists")
            }
            return make(.notSupported, "the PMU cannot count this task (a cluster's counters must be opened on that cluster's PMU)",
                        "open it on the PMU whose `cpus` file lists the CPUs the task runs on")
        case .invalidArgument:
            return make(.other, "the kernel rejected the encoding: bad config bits, a PMU that refuses the exclude_kernel/exclude_hv socprof adds at perf_event_paranoid >= 2 (uncore and msr PMUs do), the arm64 rdpmc bit on a per-CPU event, or a group larger than the PMU's counters",
                        "for uncore PMUs run with perf_event_paranoid <= 0 or CAP_PERFMON")
        case .resourceBusy:
            return make(.resources, "another user holds the PMU's counters exclusively (a pinned or exclusive event of another tool)", "stop the other tool")
        case .tooManyOpenFiles, .tooManyOpenFilesInSystem:
            var limit = rlimit()
            let soft = getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 ? " (this process may open \(limit.rlim_cur))" : ""
            return make(.resources, "out of file descriptors\(soft): each event needs one per thread or CPU counted",
                        "count fewer events at once, or raise the limit with `ulimit -n 65536`")
        case .noSpace:
            return make(.resources, "no free hardware counter for this event", "count fewer events at once")
        case .noSuchProcess:
            return make(.other, "the target process no longer exists")
        default:
            return make(.other, "perf_event_open failed")
        }
    }
}

/// An event name or encoding that does not match anything on this machine.
public struct EventResolutionError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The event text.
    public let event: String
    /// What is wrong.
    public let problem: String
    /// Names close to the one typed.
    public let suggestions: [String]

    public init(event: String, problem: String, suggestions: [String] = []) {
        self.event = event
        self.problem = problem
        self.suggestions = suggestions
    }

    public var description: String {
        var s = "unknown event '\(event)': \(problem)"
        if !suggestions.isEmpty { s += "; did you mean " + suggestions.map { "'\($0)'" }.joined(separator: " or ") + "?" }
        return s
    }
}
