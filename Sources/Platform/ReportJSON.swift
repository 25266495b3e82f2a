import Foundation

/// How socprof writes every JSON document: pretty-printed with sorted keys, so that two reports
/// diff line by line and a key's place never depends on the build.
public enum ReportJSON {
    /// An encoder set up that way.
    public static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        return e
    }
}
