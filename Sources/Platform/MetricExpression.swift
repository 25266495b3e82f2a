/// A parsed metric formula (docs/event-tables.md): numbers, names, + - * / and parentheses.
public indirect enum MetricExpression: Hashable, Sendable, CustomStringConvertible {
    case number(Double)
    /// An event of the core's table, a `pmu/alias/`, a generic perf name, a metric, or `line_size`.
    case name(String)
    case negate(MetricExpression)
    case binary(Character, MetricExpression, MetricExpression)

    /// Parses `text`. Throws `MetricSyntaxError` with the offset of the problem.
    public static func parse(_ text: String) throws(MetricSyntaxError) -> MetricExpression {
        var p = Parser(chars: Array(text), text: text)
        let e = try p.expression()
        p.skipSpaces()
        if p.pos < p.chars.count { throw p.error("unexpected '\(p.chars[p.pos])'") }
        return e
    }

    /// Every name the expression uses, in order of first use.
    public var names: [String] {
        var out: [String] = []
        func walk(_ e: MetricExpression) {
            switch e {
            case .number: break
            case .name(let n): if !out.contains(n) { out.append(n) }
            case .negate(let x): walk(x)
            case .binary(_, let a, let b): walk(a); walk(b)
            }
        }
        walk(self)
        return out
    }

    /// Evaluates with `value` giving each name's value; nil when a name has no value or a
    /// division by zero occurs (never infinity, never a made-up 0).
    public func evaluate(_ value: (String) -> Double?) -> Double? {
        switch self {
        case .number(let d): return d
        case .name(let n): return value(n)
        case .negate(let x): return x.evaluate(value).map { -$0 }
        case .binary(let op, let a, let b):
            guard let x = a.evaluate(value), let y = b.evaluate(value) else { return nil }
            switch op {
            case "+": return x + y
            case "-": return x - y
            case "*": return x * y
            default: return y == 0 ? nil : x / y
            }
        }
    }

    public var description: String {
        switch self {
        case .number(let d): return d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d)
        case .name(let n): return n
        case .negate(let x): return "-\(x.parenthesized)"
        case .binary(let op, let a, let b): return "\(a.parenthesized(for: op, right: false)) \(op) \(b.parenthesized(for: op, right: true))"
        }
    }

    private var parenthesized: String {
        if case .binary = self { return "(\(self))" }
        return description
    }

    private func parenthesized(for op: Character, right: Bool) -> String {
        guard case .binary(let inner, _, _) = self else { return description }
        let rank: (Character) -> Int = { "*/".contains($0) ? 2 : 1 }
        if rank(inner) < rank(op) || (right && rank(inner) == rank(op) && "-/".contains(op)) { return "(\(description))" }
        return description
    }

    struct Parser {
        let chars: [Character]
        let text: String
        var pos = 0

        func error(_ what: String) -> MetricSyntaxError { MetricSyntaxError(expression: text, offset: pos, problem: what) }

        mutating func skipSpaces() { while pos < chars.count && chars[pos].isWhitespace { pos += 1 } }

        mutating func expression() throws(MetricSyntaxError) -> MetricExpression {
            var lhs = try term()
            while true {
                skipSpaces()
                guard pos < chars.count, chars[pos] == "+" || chars[pos] == "-" else { return lhs }
                let op = chars[pos]
                pos += 1
                lhs = .binary(op, lhs, try term())
            }
        }

        mutating func term() throws(MetricSyntaxError) -> MetricExpression {
            var lhs = try factor()
            while true {
                skipSpaces()
                guard pos < chars.count, chars[pos] == "*" || chars[pos] == "/" else { return lhs }
                let op = chars[pos]
                pos += 1
                lhs = .binary(op, lhs, try factor())
            }
        }

        mutating func factor() throws(MetricSyntaxError) -> MetricExpression {
            skipSpaces()
            guard pos < chars.count else { throw error("expression ends where a number or name was expected") }
            let c = chars[pos]
            if c == "(" {
                pos += 1
                let e = try expression()
                skipSpaces()
                guard pos < chars.count, chars[pos] == ")" else { throw error("missing ')'") }
                pos += 1
                return e
            }
            if c == "-" {
                pos += 1
                return .negate(try factor())
            }
            if c.isNumber || c == "." {
                let start = pos
                if c == "0", pos + 1 < chars.count, chars[pos + 1] == "x" || chars[pos + 1] == "X" {
                    pos += 2
                    while pos < chars.count && chars[pos].isHexDigit { pos += 1 }
                    guard let v = UInt64(String(chars[(start + 2)..<pos]), radix: 16) else { throw error("bad hex number") }
                    return .number(Double(v))
                }
                while pos < chars.count && (chars[pos].isNumber || chars[pos] == "." ||
                        ((chars[pos] == "e" || chars[pos] == "E") && pos + 1 < chars.count) ||
                        ((chars[pos] == "+" || chars[pos] == "-") && (chars[pos - 1] == "e" || chars[pos - 1] == "E"))) { pos += 1 }
                guard let v = Double(String(chars[start..<pos])) else { throw error("bad number '\(String(chars[start..<pos]))'") }
                return .number(v)
            }
            if c.isLetter || c == "_" {
                let start = pos
                while pos < chars.count && (chars[pos].isLetter || chars[pos].isNumber || "_-.".contains(chars[pos])) { pos += 1 }
                // pmu/alias/
                if pos < chars.count, chars[pos] == "/" {
                    pos += 1
                    while pos < chars.count && chars[pos] != "/" && !chars[pos].isWhitespace { pos += 1 }
                    guard pos < chars.count, chars[pos] == "/" else { throw error("missing closing '/' of a pmu/event/ name") }
                    pos += 1
                }
                var name = String(chars[start..<pos])
                // A '-' is part of generic names (LLC-load-misses) but also subtraction: a name
                // never ends with '-'.
                while name.hasSuffix("-") { name.removeLast(); pos -= 1 }
                return .name(name)
            }
            throw error("unexpected '\(c)'")
        }
    }
}

/// A formula that does not parse.
public struct MetricSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    public let expression: String
    /// Character offset of the problem.
    public let offset: Int
    public let problem: String
    public var description: String { "formula '\(expression)', at character \(offset + 1): \(problem)" }
}
