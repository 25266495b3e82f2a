import Foundation

/// Where socprof keeps what it measured for later commands (ceilings, counter checks):
/// `$XDG_CACHE_HOME/socprof/<kind>`, else `~/.cache/socprof/<kind>`.
public enum CacheDirectory {
    public static func url(_ kind: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        let base = environment["XDG_CACHE_HOME"].map { URL(fileURLWithPath: $0) } ??
            URL(fileURLWithPath: environment["HOME"] ?? NSTemporaryDirectory()).appendingPathComponent(".cache")
        return base.appendingPathComponent("socprof/\(kind)")
    }
}
