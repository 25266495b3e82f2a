/// Comma-separated values as RFC 4180 writes them: a field with a comma, a quote, a carriage
/// return or a line feed is quoted, its quotes doubled. Every CSV socprof writes goes through here.
public enum CSV {
    /// One field.
    public static func field(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// One record: the fields quoted as needed, joined by commas, ended by a line feed.
    public static func row(_ fields: [String]) -> String {
        fields.map(field).joined(separator: ",") + "\n"
    }
}
