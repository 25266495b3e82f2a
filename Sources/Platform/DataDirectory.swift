import Foundation

/// Where socprof's data lives: the `events/` and `boards/` directories of the source tree.
///
/// Looked up in order: `$SOCPROF_DATA`; the directories above the running executable (a build
/// under `.build/` of a checkout); the directory this file was compiled from (tests);
/// `/usr/local/share/socprof` and `/usr/share/socprof` (an installed copy).
public enum DataDirectory {
    /// The directory holding `events/` and `boards/`, or nil when none is found.
    public static func locate(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL? {
        var candidates: [URL] = []
        if let env = environment["SOCPROF_DATA"], !env.isEmpty { candidates.append(URL(fileURLWithPath: env)) }
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
            for _ in 0..<6 {
                candidates.append(dir)
                dir = dir.deletingLastPathComponent()
            }
        }
        candidates.append(URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent())
        candidates.append(URL(fileURLWithPath: "/usr/local/share/socprof"))
        candidates.append(URL(fileURLWithPath: "/usr/share/socprof"))
        return candidates.first { FileManager.default.fileExists(atPath: $0.appendingPathComponent("events/mapfile.csv").path) }
    }
}

/// A data file that could not be used; the message names the file, the place and the problem.
public struct DataFileError: Error, Sendable, CustomStringConvertible, Equatable {
    /// The file.
    public let file: String
    /// Where in it (a line number, a JSON path), if known.
    public let place: String?
    /// What is wrong.
    public let problem: String

    public init(file: String, place: String? = nil, problem: String) {
        self.file = file
        self.place = place
        self.problem = problem
    }

    public var description: String { "\(file)\(place.map { " (\($0))" } ?? ""): \(problem)" }

    /// Builds the error for a JSON decoding failure, with the coding path as the place.
    static func decoding(_ error: any Error, file: String) -> DataFileError {
        func path(_ p: [any CodingKey]) -> String {
            p.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().trimmingCharacters(in: CharacterSet(charactersIn: "."))
        }
        switch error as? DecodingError {
        case .keyNotFound(let key, let ctx)?:
            return DataFileError(file: file, place: path(ctx.codingPath), problem: "missing field '\(key.stringValue)'")
        case .typeMismatch(let type, let ctx)?:
            return DataFileError(file: file, place: path(ctx.codingPath), problem: "expected \(type): \(ctx.debugDescription)")
        case .valueNotFound(let type, let ctx)?:
            return DataFileError(file: file, place: path(ctx.codingPath), problem: "expected \(type), found null")
        case .dataCorrupted(let ctx)?:
            let underlying = (ctx.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
            return DataFileError(file: file, place: ctx.codingPath.isEmpty ? nil : path(ctx.codingPath),
                                 problem: "not valid JSON: \(underlying ?? ctx.debugDescription)")
        default:
            return DataFileError(file: file, problem: "\(error)")
        }
    }
}
