#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import LinuxSystem

/// One run of the counted command.
public struct StatRun {
    /// One reading per event, in the order given.
    public let readings: [Reading]
    /// Wall-clock, user and system time of the command, ns.
    public let elapsedNanoseconds: UInt64
    public let userNanoseconds: UInt64
    public let systemNanoseconds: UInt64
    public let termination: ChildProcess.Termination
    public let splits: [String: Int]

    /// `splits`: per PMU, the groups its events were split into (absent when they fit at once).
    public init(readings: [Reading], elapsedNanoseconds: UInt64, userNanoseconds: UInt64, systemNanoseconds: UInt64,
                termination: ChildProcess.Termination, splits: [String: Int]) {
        self.readings = readings
        self.elapsedNanoseconds = elapsedNanoseconds
        self.userNanoseconds = userNanoseconds
        self.systemNanoseconds = systemNanoseconds
        self.termination = termination
        self.splits = splits
    }
}

/// `socprof stat`'s loop: runs a command up to `repeats` times, each time with the events counted
/// on it and every thread it starts (inherited, enabled at exec), signals sent to socprof passed
/// on to it, and its wall-clock, user and system time.
public struct CommandCounting {
    public let command: [String]
    public let events: [ResolvedEvent]
    public let registry: PMURegistry
    public let permissions: PerfPermissions

    public init(command: [String], events: [ResolvedEvent], registry: PMURegistry, permissions: PerfPermissions) {
        self.command = command
        self.events = events
        self.registry = registry
        self.permissions = permissions
    }

    /// The runs, in order. Stops repeating after a run that Ctrl-C or a SIGTERM ended, or when
    /// socprof itself received a signal. `beforeRun` is called just before each run starts (start
    /// an energy sampler there), `afterRun` just after it ended, before the counters are read.
    /// - Throws: `ChildProcess.LaunchError` when the command cannot be started (its
    ///   `shellStatus` is what a shell would exit with: 127 not found, 126 not executable).
    public func run(repeats: Int, beforeRun: () -> Void = {}, afterRun: () -> Void = {}) throws(ChildProcess.LaunchError) -> [StatRun] {
        var runs: [StatRun] = []
        for _ in 0..<repeats {
            let child = try ChildProcess.spawn(command)
            let counters = CounterSet(events: events,
                                      options: CounterOptions(target: .thread(child.pid), inherit: true, enableOnExec: true, permissions: permissions),
                                      registry: registry)
            child.forwardSignals()
            beforeRun()
            var usageBefore = rusage()
            getrusage(__rusage_who_t(RUSAGE_CHILDREN.rawValue), &usageBefore)
            let t0 = MonotonicClock.nanoseconds()
            do {
                try child.start()
            } catch {
                child.stopForwardingSignals()
                counters.close()
                throw error
            }
            let termination = child.wait()
            let t1 = MonotonicClock.nanoseconds()
            afterRun()
            child.stopForwardingSignals()
            var usageAfter = rusage()
            getrusage(__rusage_who_t(RUSAGE_CHILDREN.rawValue), &usageAfter)
            let readings = counters.read()
            counters.close()
            runs.append(StatRun(readings: readings, elapsedNanoseconds: t1 - t0,
                                userNanoseconds: Self.nanoseconds(usageAfter.ru_utime) &- Self.nanoseconds(usageBefore.ru_utime),
                                systemNanoseconds: Self.nanoseconds(usageAfter.ru_stime) &- Self.nanoseconds(usageBefore.ru_stime),
                                termination: termination, splits: counters.splits))
            // Stop repeating on Ctrl-C or a TERM sent to socprof, whatever the child did with it.
            if case .signaled(let s) = termination, s == SIGINT || s == SIGTERM { break }
            if child.receivedSignal != 0 { break }
        }
        return runs
    }

    /// A `timeval` in nanoseconds (negative fields, which the kernel never gives, count as 0).
    static func nanoseconds(_ t: timeval) -> UInt64 {
        UInt64(max(0, Int64(t.tv_sec))) * 1_000_000_000 + UInt64(max(0, Int64(t.tv_usec))) * 1_000
    }
}
