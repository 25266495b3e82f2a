/// One event's value from one read, with the times that say how much to trust it.
public struct Reading: Sendable, CustomStringConvertible {
    /// How the value came about.
    public enum Status: Sendable, Equatable {
        /// The event was on a counter the whole time it was enabled.
        case counted
        /// The event shared counters with others (time running < time enabled); the scaled value
        /// is an estimate.
        case multiplexed
        /// The event was opened but never got onto a counter (time running 0): perf's
        /// `<not counted>`. There is no value.
        case notCounted
        /// The event could not be opened at all: perf's `<not supported>`. There is no value.
        case notSupported(CounterError)

        public static func == (a: Status, b: Status) -> Bool {
            switch (a, b) {
            case (.counted, .counted), (.multiplexed, .multiplexed), (.notCounted, .notCounted): true
            case (.notSupported(let x), .notSupported(let y)): x.description == y.description
            default: false
            }
        }
    }

    /// The event.
    public let event: ResolvedEvent
    /// How it was counted.
    public let status: Status
    /// The count as the kernel returned it; nil when not counted or not supported.
    public let raw: UInt64?
    /// Nanoseconds the event was enabled.
    public let timeEnabled: UInt64
    /// Nanoseconds the event was on a hardware counter (equal to `timeEnabled` unless multiplexed).
    public let timeRunning: UInt64

    /// A reading from the kernel. A counter that never ran (time running 0) has no value.
    /// When the event is bound to one cluster's PMU on a heterogeneous machine and its group was
    /// not split, running < enabled means the thread ran elsewhere part of the time, not
    /// multiplexing: the count is then not scaled (`multiplexed: false`).
    public init(event: ResolvedEvent, raw: UInt64, timeEnabled: UInt64, timeRunning: UInt64, multiplexed: Bool = true) {
        self.event = event
        self.timeEnabled = timeEnabled
        self.timeRunning = timeRunning
        if timeRunning == 0 {
            status = .notCounted
            self.raw = nil
        } else {
            status = timeRunning < timeEnabled && multiplexed ? .multiplexed : .counted
            self.raw = raw
        }
        scalesWithTime = multiplexed
        neverEnabled = timeEnabled == 0 && timeRunning == 0
    }

    /// A counter that was opened but could not be read or scheduled.
    public init(notCounted event: ResolvedEvent, timeEnabled: UInt64 = 0) {
        self.event = event
        self.status = .notCounted
        self.raw = nil
        self.timeEnabled = timeEnabled
        self.timeRunning = 0
        scalesWithTime = true
    }

    public init(event: ResolvedEvent, error: CounterError) {
        self.event = event
        self.status = .notSupported(error)
        self.raw = nil
        self.timeEnabled = 0
        self.timeRunning = 0
        scalesWithTime = true
    }

    /// Whether running < enabled meant multiplexing (scale) rather than time on another cluster.
    public let scalesWithTime: Bool

    /// The kernel returned the event with no enabled time at all (not a failed read): a per-thread
    /// event whose thread never ran while it was enabled. perf prints `<not counted>`; the thread
    /// did nothing, so a sum over threads may take its count as 0.
    public private(set) var neverEnabled = false

    /// Whether the count covers only the share of time the thread ran on this PMU's CPUs.
    public var isClusterShare: Bool { !scalesWithTime && raw != nil && timeRunning < timeEnabled }

    /// The count scaled for multiplexing (raw x enabled / running); nil when there is no value.
    /// A cluster share is not scaled: it is what that cluster did.
    public var scaled: Double? {
        guard let raw else { return nil }
        guard scalesWithTime, timeRunning > 0, timeRunning < timeEnabled else { return Double(raw) }
        return Double(raw) * Double(timeEnabled) / Double(timeRunning)
    }

    /// The scaled count in the event's unit (times the sysfs `.scale`); nil when there is no value.
    public var value: Double? { scaled.map { $0 * event.scale } }

    /// Percentage of the enabled time the event was on a counter (100 when not multiplexed);
    /// nil when it never ran or was not opened.
    public var runningPercent: Double? {
        guard raw != nil else { return nil }
        guard timeEnabled > 0 else { return 100 }
        return 100 * Double(timeRunning) / Double(timeEnabled)
    }

    public var description: String {
        switch status {
        case .notSupported(let e): "\(event.name): <not supported> (\(e.explanation))"
        case .notCounted: "\(event.name): <not counted>"
        default: "\(event.name): \(raw ?? 0) (enabled \(timeEnabled) ns, running \(timeRunning) ns)"
        }
    }
}
