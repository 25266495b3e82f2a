import Foundation

/// Why a saved profile report cannot be used.
public struct ReportError: Error, Sendable, CustomStringConvertible, Equatable {
    public let file: String
    public let problem: String
    public init(file: String, problem: String) {
        self.file = file
        self.problem = problem
    }
    public var description: String { "\(file): \(problem)" }
}

extension NetworkProfile {
    /// The schema and versions this build reads.
    public static let schemaName = "socprof.profile"
    public static let readableVersions = 1...1

    /// Reads a report written by `profile --format json`, refusing another document, an unknown
    /// version, and figures no measurement can give (NaN or infinite, negative, or beyond 1e18),
    /// so that no renderer gets them.
    public static func load(_ data: Data, file: String) throws(ReportError) -> NetworkProfile {
        struct Header: Decodable { let schema: String?; let schema_version: Int? }
        guard let header = try? JSONDecoder().decode(Header.self, from: data) else {
            throw ReportError(file: file, problem: "not a socprof profile report (not JSON, or not a JSON object)")
        }
        guard header.schema == schemaName else {
            throw ReportError(file: file, problem: "not a socprof profile report (schema \(header.schema.map { "'\($0)'" } ?? "missing"), expected '\(schemaName)')")
        }
        guard let version = header.schema_version, readableVersions.contains(version) else {
            throw ReportError(file: file, problem: "schema_version \(header.schema_version.map(String.init) ?? "missing") of \(schemaName) is not one this socprof reads (\(readableVersions.lowerBound)...\(readableVersions.upperBound)); use the socprof that wrote it")
        }
        let p: NetworkProfile
        do { p = try JSONDecoder().decode(NetworkProfile.self, from: data) } catch {
            throw ReportError(file: file, problem: "not a socprof profile report (\(error.localizedDescription))")
        }
        func check(_ v: Double, _ place: String) throws(ReportError) {
            guard v.isFinite, v >= 0, v <= 1e18 else {
                throw ReportError(file: file, problem: "\(place) is \(v): a figure must be a finite number from 0 to 1e18")
            }
        }
        try check(p.throughput_ips, "throughput_ips")
        for (i, l) in p.layers.enumerated() {
            let at = "layers[\(i)] (\(l.name))"
            guard l.ops >= 0, l.ops <= 1_000_000_000_000_000_000, l.macs >= 0, l.macs <= 1_000_000_000_000_000_000 else {
                throw ReportError(file: file, problem: "\(at): ops \(l.ops) or macs \(l.macs) is outside 0...1e18")
            }
            try check(l.time_s, "\(at).time_s")
            try check(l.gops, "\(at).gops")
            try check(l.oi_theoretical, "\(at).oi_theoretical")
            if let e = l.oi_empirical.value { try check(e, "\(at).oi_empirical") }
        }
        if let r = p.roofline {
            guard r.peak_gflops.isFinite, r.peak_gflops > 0, r.peak_gflops <= 1e9, r.dram_gbs.isFinite, r.dram_gbs > 0, r.dram_gbs <= 1e9 else {
                throw ReportError(file: file, problem: "roofline: peak \(r.peak_gflops) GFLOP/s and DRAM \(r.dram_gbs) GB/s must be above 0 and at most 1e9")
            }
        }
        return p
    }
}
