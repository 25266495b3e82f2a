/// Padding for the fixed-width text tables.
extension String {
    /// Right-aligned in `n` characters (unchanged when longer).
    public func leftPad(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
    /// Left-aligned in `n` characters (unchanged when longer).
    public func rightPad(_ n: Int) -> String { count >= n ? self : self + String(repeating: " ", count: n - count) }
    /// Without the spaces at its end.
    public func trimmingTrailingSpaces() -> String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}
