import Foundation

/// The identity register of an ARM core (MIDR_EL1 / MIDR): implementer, variant, architecture,
/// part number, revision.
public struct MIDR: Hashable, Sendable, CustomStringConvertible, Codable {
    /// The raw 32-bit register value (bits 63-32 of MIDR_EL1 are zero).
    public let rawValue: UInt32

    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Builds a MIDR from `/proc/cpuinfo` fields.
    public init(implementer: UInt32, variant: UInt32, part: UInt32, revision: UInt32, architecture: UInt32 = 0xF) {
        rawValue = (implementer & 0xFF) << 24 | (variant & 0xF) << 20 | (architecture & 0xF) << 16 | (part & 0xFFF) << 4 | (revision & 0xF)
    }

    /// Bits 31-24: 0x41 Arm, 0x51 Qualcomm, ...
    public var implementer: UInt32 { rawValue >> 24 }
    /// Bits 23-20: the major revision (the r in r2p3).
    public var variant: UInt32 { (rawValue >> 20) & 0xF }
    /// Bits 15-4: the part number (0xd03 Cortex-A53).
    public var part: UInt32 { (rawValue >> 4) & 0xFFF }
    /// Bits 3-0: the minor revision (the p in r2p3).
    public var revision: UInt32 { rawValue & 0xF }

    /// "r2p3".
    public var revisionName: String { "r\(variant)p\(revision)" }

    public var description: String { String(format: "0x%08x", rawValue) }
}

/// A core type: its identifier and display name.
public struct CoreType: Hashable, Sendable, Codable {
    /// The identifier used in board files, metric formulas and reports ("cortex-a15", "x86").
    public let id: String
    /// The display name ("Cortex-A15").
    public let name: String

    public init(id: String, name: String) {
        self.id = id
        self.name = name
    }

    /// An x86-64 core, named by its `model name`.
    public static func x86(model: String) -> CoreType { CoreType(id: "x86", name: model) }
}

/// The part-number table of `events/cores.csv`: (implementer, part) to core type.
public struct CoreCatalog: Sendable {
    private let table: [UInt32: CoreType] // implementer << 12 | part

    /// Reads `cores.csv`. Throws `DataFileError` naming the line of a malformed entry.
    public init(contentsOf url: URL) throws(DataFileError) {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            throw DataFileError(file: url.path, problem: "cannot read the file")
        }
        try self.init(csv: text, file: url.path)
    }

    public init(csv: String, file: String) throws(DataFileError) {
        var table: [UInt32: CoreType] = [:]
        for (n, raw) in csv.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix("implementer,") { continue }
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard f.count >= 4, let imp = Self.hex(f[0]), let part = Self.hex(f[1]), !f[2].isEmpty else {
                throw DataFileError(file: file, place: "line \(n + 1)", problem: "expected implementer,part,core,name with hex numbers, found '\(line)'")
            }
            table[imp << 12 | part] = CoreType(id: f[2], name: f[3...].joined(separator: ","))
        }
        self.table = table
    }

    static func hex(_ s: String) -> UInt32? {
        let t = s.lowercased()
        return t.hasPrefix("0x") ? UInt32(t.dropFirst(2), radix: 16) : UInt32(t, radix: 16)
    }

    /// The core type a MIDR names, or nil for an unknown part.
    public func core(for midr: MIDR) -> CoreType? { table[midr.implementer << 12 | midr.part] }

    /// Every known core identifier.
    public var coreIDs: [String] { Array(Set(table.values.map(\.id))).sorted() }
}
