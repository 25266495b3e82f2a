import SystemPackage
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The directory under which socprof reads everything it reads from `/sys` and `/proc`.
///
/// `/` on a live system; a copy of a board's tree (a fixture) in tests or for offline analysis.
/// Paths given to its methods are relative to the root ("sys/bus/event_source/devices").
public struct SystemRoot: Sendable, Hashable, CustomStringConvertible {
    /// The root directory (`/` on the live system; no trailing slash otherwise).
    public let root: FilePath

    /// The live system's root, `/`.
    public static let live = SystemRoot(path: "/")

    /// A root at `path` (relative paths are taken from the current directory).
    public init(path: String) {
        var p = path.isEmpty ? "/" : path
        while p.utf8.count > 1 && p.hasSuffix("/") { p.removeLast() }
        self.root = FilePath(p)
    }

    /// A root at `root`.
    public init(_ root: FilePath) { self.init(path: root.string) }

    /// The root as text, as given (without a trailing slash except for `/` itself).
    public var path: String { root.string }

    /// The root named by `explicit` (`--root`), else the `SOCPROF_ROOT` environment variable,
    /// else `/`. `environment` replaces the process's environment (for tests).
    public static func resolve(explicit: String?, environment: [String: String]? = nil) -> SystemRoot {
        if let explicit, !explicit.isEmpty { return SystemRoot(path: explicit) }
        let env = environment.map { $0["SOCPROF_ROOT"] } ?? Environment.value(of: "SOCPROF_ROOT")
        if let env, !env.isEmpty { return SystemRoot(path: env) }
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

    /// The file path of `relative` under the root.
    public func filePath(_ relative: String) -> FilePath { FilePath(absolute(relative)) }

    /// Whether `relative` exists under the root (following symbolic links).
    public func exists(_ relative: String) -> Bool { mode(relative) != nil }

    /// Whether `relative` is a directory under the root (following symbolic links).
    public func isDirectory(_ relative: String) -> Bool {
        guard let m = mode(relative) else { return false }
        return m & S_IFMT == S_IFDIR
    }

    private func mode(_ relative: String) -> mode_t? {
        var st = stat()
        return stat(absolute(relative), &st) == 0 ? st.st_mode : nil
    }

    /// The contents of a text file under the root, or nil when it cannot be opened or read.
    /// Read to the end in 4 KiB steps (sysfs and procfs files do not know their size).
    public func read(_ relative: String) -> String? {
        guard let fd = try? FileDescriptor.open(filePath(relative), .readOnly, options: [.closeOnExec]) else { return nil }
        defer { try? fd.close() }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n: Int
            do {
                n = try chunk.withUnsafeMutableBytes { try fd.read(into: $0, retryOnInterrupt: true) }
            } catch {
                return nil
            }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The contents of a text file with surrounding whitespace (and NULs) removed.
    public func readTrimmed(_ relative: String) -> String? {
        read(relative).map { String($0.trimmed(also: 0)) }
    }

    /// A file holding one integer (decimal, or hex with 0x), or nil.
    public func readInt(_ relative: String) -> Int64? {
        guard let s = readTrimmed(relative) else { return nil }
        if s.hasPrefix("0x") || s.hasPrefix("0X") { return Int64(s.dropFirst(2), radix: 16) }
        return Int64(s)
    }

    /// The names in a directory under the root (without `.` and `..`), sorted; empty when it
    /// does not exist or cannot be read.
    public func list(_ relative: String) -> [String] {
        guard let dir = opendir(absolute(relative)) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }
}
