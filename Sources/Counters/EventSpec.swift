import LinuxSystem

/// One event as a user typed it, parsed but not yet matched against this machine's PMUs.
///
/// Accepts every syntax `perf stat -e` users type:
/// - a generic name: `cycles`, `instructions`, `task-clock`, `L1-dcache-load-misses`;
/// - a PMU alias without its PMU: `l2d_cache_refill` (looked up in every PMU's `events/`);
/// - a raw code for the core PMU: `r17`, `r0011` (hex, no `0x`);
/// - the sysfs syntax: `armv8_cortex_a53/event=0x17/`, `armv7_cortex_a15/l2d_cache_refill/`,
///   `rockchip_ddr/read-bytes/`, with terms named by the PMU's `format/` files;
/// - a libpfm4 name: `perf::TASK-CLOCK`, `arm_ac15::L2D_CACHE_REFILL`;
/// each optionally followed by `:` and modifiers (`u` user only, `k` kernel only, `h` hypervisor
/// only, `D` pinned).
public struct EventSpec: Hashable, Sendable, CustomStringConvertible {
    /// A `name` or `name=value` term inside `pmu/.../`.
    public struct Term: Hashable, Sendable, CustomStringConvertible {
        /// The term's name: a format field, `config`/`config1`/`config2`, `name`, or an alias.
        public let name: String
        /// The value after `=`, if any.
        public let value: String?
        public init(name: String, value: String?) { self.name = name; self.value = value }
        public var description: String { value.map { "\(name)=\($0)" } ?? name }
    }

    /// The forms an event can take.
    public enum Kind: Hashable, Sendable {
        /// A generic hardware, software or cache event.
        case generic(GenericEvent)
        /// A bare name that is not generic: a PMU alias, resolved against sysfs.
        case alias(String)
        /// `rNNNN`: a raw event code for the core PMU.
        case raw(UInt64)
        /// `pmu/terms/`.
        case pmu(name: String, terms: [Term])
        /// `pmu::EVENT[:umask...]`, resolved by libpfm4.
        case pfm(String)
    }

    /// The text as typed (without surrounding spaces).
    public let text: String
    /// What the text names.
    public let kind: Kind
    /// Privilege levels from `:u`/`:k`/`:h`; nil when none was given (socprof then picks what
    /// perf_event_paranoid allows).
    public let levels: PrivilegeLevels?
    /// `:D`: pin the event to a counter (never multiplexed; not counted if it cannot be placed).
    public let pinned: Bool

    public var description: String { text }

    /// Parses one event. Throws `EventSpecError` with a one-line message naming the problem.
    public static func parse(_ input: String) throws(EventSpecError) -> EventSpec {
        let text = String(input.trimmed())
        guard !text.isEmpty else { throw EventSpecError(text: input, problem: "empty event name") }

        // libpfm4: pmu::event[:umask[:umask]] — modifiers are libpfm4's own, so pass it whole.
        if text.contains("::") && !text.contains("/") {
            return EventSpec(text: text, kind: .pfm(text), levels: nil, pinned: false)
        }

        // pmu/terms/[:mods]
        if let slash = text.firstIndex(of: "/") {
            let pmu = String(text[..<slash])
            let rest = text[text.index(after: slash)...]
            guard let close = rest.lastIndex(of: "/") else {
                throw EventSpecError(text: text, problem: "missing closing '/': write \(pmu)/event=0x11/ or \(pmu)/alias/")
            }
            guard !pmu.isEmpty else { throw EventSpecError(text: text, problem: "no PMU name before '/'") }
            let body = rest[..<close]
            let after = rest[rest.index(after: close)...]
            guard after.isEmpty || after.first == ":" else {
                throw EventSpecError(text: text, problem: "unexpected '\(after)' after the closing '/'; modifiers follow a ':', as \(pmu)/.../:u")
            }
            let (levels, pinned) = try parseModifiers(after.isEmpty ? nil : String(after.dropFirst()), text: text)
            var terms: [Term] = []
            for raw in body.split(separator: ",", omittingEmptySubsequences: false) {
                let t = String(raw.trimmed())
                guard !t.isEmpty else { throw EventSpecError(text: text, problem: "empty term between '/' and '/'") }
                if let eq = t.firstIndex(of: "=") {
                    let name = String(t[..<eq]), value = String(t[t.index(after: eq)...])
                    guard !name.isEmpty, !value.isEmpty else {
                        throw EventSpecError(text: text, problem: "term '\(t)' needs a name and a value, as event=0x17")
                    }
                    terms.append(Term(name: name, value: value))
                } else {
                    terms.append(Term(name: t, value: nil))
                }
            }
            return EventSpec(text: text, kind: .pmu(name: pmu, terms: terms), levels: levels, pinned: pinned)
        }

        // name[:mods]
        var name = text
        var mods: String? = nil
        if let colon = text.lastIndex(of: ":") {
            name = String(text[..<colon])
            mods = String(text[text.index(after: colon)...])
            guard !name.isEmpty else { throw EventSpecError(text: text, problem: "no event name before ':'") }
        }
        let (levels, pinned) = try parseModifiers(mods, text: text)
        if let generic = GenericEvent.named(name) {
            return EventSpec(text: text, kind: .generic(generic), levels: levels, pinned: pinned)
        }
        if name.first == "r" || name.first == "R", name.count > 1 {
            let digits = name.dropFirst()
            if digits.allSatisfy(\.isHexDigit) {
                guard digits.count <= 16, let code = UInt64(digits, radix: 16) else {
                    throw EventSpecError(text: text, problem: "raw code '\(name)' does not fit in 64 bits")
                }
                return EventSpec(text: text, kind: .raw(code), levels: levels, pinned: pinned)
            }
            if digits.lowercased().hasPrefix("0x"), digits.dropFirst(2).allSatisfy(\.isHexDigit) {
                throw EventSpecError(text: text, problem: "raw codes are hex without 0x: write r\(digits.dropFirst(2))")
            }
        }
        guard name.allSatisfy({ $0.isLetter || $0.isNumber || "_-.".contains($0) }) else {
            throw EventSpecError(text: text, problem: "'\(name)' is not an event name (letters, digits, '_', '-', '.')")
        }
        return EventSpec(text: text, kind: .alias(name), levels: levels, pinned: pinned)
    }

    /// Parses a comma-separated list as `-e` takes it; commas inside `pmu/.../` separate terms.
    public static func parseList(_ list: String) throws(EventSpecError) -> [EventSpec] {
        var specs: [EventSpec] = []
        var current = ""
        var slashes = 0
        for ch in list {
            if ch == "/" { slashes += 1 }
            if ch == "," && slashes % 2 == 0 {
                specs.append(try parse(current))
                current = ""
            } else {
                current.append(ch)
            }
        }
        if slashes % 2 != 0 {
            throw EventSpecError(text: String(current.trimmed()), problem: "missing closing '/'")
        }
        specs.append(try parse(current))
        return specs
    }

    static func parseModifiers(_ mods: String?, text: String) throws(EventSpecError) -> (PrivilegeLevels?, Bool) {
        guard let mods else { return (nil, false) }
        guard !mods.isEmpty else { throw EventSpecError(text: text, problem: "nothing after ':'; modifiers are u, k, h, D") }
        var levels: PrivilegeLevels = []
        var pinned = false
        for m in mods {
            switch m {
            case "u": levels.insert(.user)
            case "k": levels.insert(.kernel)
            case "h": levels.insert(.hypervisor)
            case "D": pinned = true
            default:
                throw EventSpecError(text: text, problem: "unknown modifier '\(m)'; socprof accepts u (user), k (kernel), h (hypervisor), D (pinned)")
            }
        }
        return (levels.isEmpty ? nil : levels, pinned)
    }
}

/// An event that does not parse.
public struct EventSpecError: Error, Equatable, CustomStringConvertible {
    /// The event text.
    public let text: String
    /// What is wrong, as a sentence fragment.
    public let problem: String
    public var description: String { "bad event '\(text)': \(problem)" }
}
