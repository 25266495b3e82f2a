extension StringProtocol {
    /// The text without leading and trailing ASCII whitespace (space, tab, newline, carriage
    /// return, vertical tab, form feed), and without `also` (a byte value such as 0, for the
    /// NUL that ends a device-tree string) at either end.
    ///
    /// sysfs, procfs and event-spec text is ASCII; other characters are kept as they are.
    public func trimmed(also extra: UInt8? = nil) -> Substring {
        let s = self[...]
        func isSpace(_ c: Character) -> Bool {
            guard let a = c.asciiValue else { return false }
            return a == 0x20 || (a >= 0x09 && a <= 0x0D) || a == extra
        }
        guard let first = s.firstIndex(where: { !isSpace($0) }) else { return Substring() }
        let last = s.lastIndex(where: { !isSpace($0) })!
        return Substring(s[first...last])
    }
}
