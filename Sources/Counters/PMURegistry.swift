import LinuxSystem
/// The PMUs registered with perf_event, read from `sys/bus/event_source/devices` under a root.
public struct PMURegistry: Sendable {
    /// The root they were read under.
    public let root: SystemRoot
    /// Every PMU, sorted by name.
    public let pmus: [PMU]
    /// Files that exist but could not be understood, as "path: problem" (shown by `socprof info`).
    public let problems: [String]

    /// The sysfs directory PMUs register under, relative to the root.
    public static let devicesPath = "sys/bus/event_source/devices"

    /// Reads every PMU under `root`. A PMU whose `type` file is missing or malformed is left out
    /// and named in `problems`; a malformed `format/` or `events/` entry is skipped the same way.
    public init(root: SystemRoot) {
        self.root = root
        var pmus: [PMU] = []
        var problems: [String] = []
        let base = Self.devicesPath
        for name in root.list(base) {
            let dir = "\(base)/\(name)"
            guard let typeText = root.readTrimmed("\(dir)/type") else {
                problems.append("\(root.absolute(dir))/type: missing")
                continue
            }
            guard let type = UInt32(typeText) else {
                problems.append("\(root.absolute(dir))/type: '\(typeText)' is not a number")
                continue
            }
            func cpuFile(_ file: String) -> [Int]? {
                guard let text = root.read("\(dir)/\(file)") else { return nil }
                do { return try CPUSet(parsing: text).cpus } catch {
                    problems.append("\(root.absolute(dir))/\(file): \(error)")
                    return nil
                }
            }
            var formats: [String: PMUFormatField] = [:]
            for f in root.list("\(dir)/format") {
                guard let text = root.read("\(dir)/format/\(f)") else { continue }
                if let field = PMUFormatField(parsing: text) {
                    formats[f] = field
                } else {
                    problems.append("\(root.absolute(dir))/format/\(f): '\(text.trimmed())' is not a format such as config:0-15")
                }
            }
            var aliases: [String: PMU.Alias] = [:]
            for e in root.list("\(dir)/events") where !e.hasSuffix(".scale") && !e.hasSuffix(".unit") && !e.hasSuffix(".snapshot") && !e.hasSuffix(".per-pkg") {
                guard let terms = root.readTrimmed("\(dir)/events/\(e)") else { continue }
                let scale = root.readTrimmed("\(dir)/events/\(e).scale").flatMap(Double.init)
                let unit = root.readTrimmed("\(dir)/events/\(e).unit")
                aliases[e.lowercased()] = PMU.Alias(name: e, terms: terms, scale: scale, unit: unit)
            }
            pmus.append(PMU(name: name, type: PerfEventType(rawValue: type), cpus: cpuFile("cpus"),
                            cpumask: cpuFile("cpumask"), formats: formats, aliases: aliases))
        }
        self.pmus = pmus
        self.problems = problems
    }

    /// A registry over given PMUs (for tests and tools that build one by hand).
    public init(root: SystemRoot, pmus: [PMU]) {
        self.root = root
        self.pmus = pmus.sorted { $0.name < $1.name }
        self.problems = []
    }

    /// The PMU with this name (exact match first, then ignoring case).
    public func pmu(named name: String) -> PMU? {
        pmus.first { $0.name == name } ?? pmus.first { $0.name.lowercased() == name.lowercased() }
    }

    /// The CPU core PMUs. More than one means a heterogeneous (big.LITTLE/DynamIQ) machine where
    /// each core type has its own PMU type.
    public var corePMUs: [PMU] { pmus.filter(\.isCore) }

    /// Whether each core type has its own PMU (big.LITTLE, DynamIQ, Intel hybrid).
    public var isHeterogeneous: Bool { corePMUs.count > 1 }

    /// The core PMU whose `cpus` file includes `cpu`, if any.
    public func corePMU(forCPU cpu: Int) -> PMU? {
        corePMUs.first { $0.cpus?.contains(cpu) ?? false }
    }
}
