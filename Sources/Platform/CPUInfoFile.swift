import Foundation
import LinuxSystem

/// `/proc/cpuinfo`, split into one dictionary per processor (plus the trailing machine fields of
/// 32-bit ARM such as `Hardware`).
public struct CPUInfoFile: Sendable {
    /// Fields of each `processor` block, by CPU number.
    public let processors: [Int: [String: String]]
    /// Fields outside processor blocks (`Hardware`, `Revision`, `Serial` on 32-bit ARM).
    public let machine: [String: String]

    public init(text: String) {
        var processors: [Int: [String: String]] = [:]
        var machine: [String: String] = [:]
        var current: [String: String] = [:]
        var currentCPU: Int? = nil
        func flush() {
            if let c = currentCPU { processors[c] = current } else { machine.merge(current) { $1 } }
            current = [:]
            currentCPU = nil
        }
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.trimmingCharacters(in: .whitespaces).isEmpty { flush(); continue }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if key == "processor", let n = Int(value) {
                if currentCPU != nil || !current.isEmpty { flush() }
                currentCPU = n
            }
            current[key] = value
        }
        flush()
        self.processors = processors
        self.machine = machine
    }

    /// The MIDR of `cpu` assembled from `CPU implementer`, `CPU variant`, `CPU part`,
    /// `CPU revision` (ARM only).
    public func midr(cpu: Int) -> MIDR? {
        guard let f = processors[cpu], let imp = f["CPU implementer"].flatMap(CoreCatalog.hex),
              let part = f["CPU part"].flatMap(CoreCatalog.hex) else { return nil }
        let variant = f["CPU variant"].flatMap(CoreCatalog.hex) ?? 0
        let revision = f["CPU revision"].flatMap { UInt32($0) } ?? 0
        return MIDR(implementer: imp, variant: variant, part: part, revision: revision)
    }
}
