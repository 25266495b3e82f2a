import Foundation

/// The directory under which socprof reads everything it reads from `/sys` and `/proc`.
///
/// `/` on a live system; a copy of a board's tree (a fixture) in tests or for offline analysis.
/// Paths given to its methods are relative to the root ("sys/bus/event_source/devices").
public struct SystemRoot: Sendable, Hashable, CustomStringConvertible {
    /// The root directory, without a trailing slash except for `/` itself.
    public let path: String

    /// The live system's root, `/`.
    public static let live = SystemRoot(path: "/")

    /// A root at `path` (relative paths are taken from the current directory).
    public init(path: String) {
        var p = path.isEmpty ? "/" : path
        while p.count > 1 && p.hasSuffix("/") { p.removeLast() }
        self.path = p
    }

    /// The root named by `explicit` (`--root`), else `SOCPROF_ROOT`, else `/`.
    public static func resolve(explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> SystemRoot {
        if let explicit, !explicit.isEmpty { return SystemRoot(path: explicit) }
        if let env = environment["SOCPROF_ROOT"], !env.isEmpty { return SystemRoot(path: env) }
        return .live
    }

    /// Whether this is the live system's root (so that numbers read under it describe this kernel).
    public var isLive: Bool { path == "/" }

    public var description: String { path }

    /// The absolute path of `relative` under the root.
    public func absolute(_ relative: String) -> String {
        let rel = relative.drop(while: { $0 == "/" })
        return path == "/" ? "/" + rel : path + "/" + rel
    }

    /// Whether `relative` exists under the root.
    public func exists(_ relative: String) -> Bool {
        FileManager.default.fileExists(atPath: absolute(relative))
    }

    /// Whether `relative` is a directory under the root.
    public func isDirectory(_ relative: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: absolute(relative), isDirectory: &isDir) && isDir.boolValue
    }

    /// The contents of a text file under the root, or nil when it cannot be read.
    public func read(_ relative: String) -> String? {
        guard let data = FileManager.default.contents(atPath: absolute(relative)) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    /// The contents of a text file with surrounding whitespace (and NULs) removed.
    public func readTrimmed(_ relative: String) -> String? {
        read(relative)?.trimmingCharacters(in: CharacterSet.whitespacesAndNewlines.union(CharacterSet(charactersIn: "\0")))
    }

    /// A file holding one integer (decimal, or hex with 0x), or nil.
    public func readInt(_ relative: String) -> Int64? {
        guard let s = readTrimmed(relative) else { return nil }
        if s.hasPrefix("0x") || s.hasPrefix("0X") { return Int64(s.dropFirst(2), radix: 16) }
        return Int64(s)
    }

    /// The names in a directory under the root, sorted; empty when it does not exist.
    public func list(_ relative: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: absolute(relative))) ?? []).sorted()
    }
}
