import Platform
import Testing

@Suite("Metric expressions")
struct MetricExpressionTests {
    @Test("parse and print", arguments: [
        ("L2D_CACHE_REFILL * line_size", "L2D_CACHE_REFILL * line_size"),
        ("(a + b) * 2", "(a + b) * 2"),
        ("a - (b - c)", "a - (b - c)"),
        ("a / b / c", "a / b / c"),
        ("rockchip_ddr/read-bytes/ * 1048576", "rockchip_ddr/read-bytes/ * 1048576"),
        ("LLC-load-misses*64", "LLC-load-misses * 64"),
        ("-x + 0x10", "-x + 16"),
        ("1e6 * cycles", "1000000 * cycles"),
    ])
    func roundTrip(text: String, printed: String) throws {
        #expect(try MetricExpression.parse(text).description == printed)
    }

    @Test func evaluation() throws {
        let e = try MetricExpression.parse("(L2D_CACHE_REFILL + L2D_CACHE_WB) * line_size / 2")
        #expect(e.names == ["L2D_CACHE_REFILL", "L2D_CACHE_WB", "line_size"])
        let values = ["L2D_CACHE_REFILL": 10.0, "L2D_CACHE_WB": 6.0, "line_size": 64.0]
        #expect(e.evaluate { values[$0] } == 512)
        #expect(e.evaluate { $0 == "L2D_CACHE_WB" ? nil : values[$0] } == nil, "a missing value gives no result, not 0")
        #expect(try MetricExpression.parse("a / b").evaluate { $0 == "a" ? 1 : 0 } == nil, "division by zero gives no result")
        #expect(try MetricExpression.parse("a - b").evaluate { $0 == "a" ? 5 : 7 } == -2)
    }

    @Test("syntax errors point at the place", arguments: [
        ("a +", "ends where"), ("(a + b", "missing ')'"), ("a $ b", "unexpected '$'"), ("pmu/ev", "missing closing '/'"), ("a b", "unexpected 'b'"),
    ])
    func errors(text: String, fragment: String) {
        #expect {
            try MetricExpression.parse(text)
        } throws: { error in "\(error)".contains(fragment) && "\(error)".contains("at character") }
    }
}
