import Foundation

/// A grouped bar chart as SVG (the study's Fig. 2): one group per category (a network), one bar
/// per series (a cluster) in each, a linear y axis from 0 with its unit, a legend, each bar's value
/// above it, and "n/a" where a value is missing.
public enum BarChartSVG {
    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#7f7f7f"]

    /// A round step for about `ticks` ticks up to `max`.
    static func step(for max: Double, ticks: Int = 5) -> Double {
        guard max > 0, max.isFinite else { return 1 }
        let raw = max / Double(ticks)
        let mag = pow(10, floor(log10(raw)))
        for m in [1.0, 2, 2.5, 5, 10] where raw <= m * mag { return m * mag }
        return 10 * mag
    }

    /// - Parameters:
    ///   - values: `values[g][s]` for category `g` and series `s`; nil is drawn as "n/a".
    ///   - yLabel: the y axis's quantity and unit ("images/s per W").
    public static func render(categories: [String], series: [String], values: [[Double?]], yLabel: String, title: String, subtitle: String) -> String {
        let width = 960.0, height = 560.0
        let left = 80.0, right = 170.0, top = 70.0, bottom = 80.0
        let plotW = width - left - right, plotH = height - top - bottom
        let maxValue = values.flatMap { $0.compactMap { $0 } }.filter(\.isFinite).max() ?? 1
        let tick = step(for: maxValue)
        let yMax = max(tick, (maxValue / tick).rounded(.up) * tick)
        func py(_ v: Double) -> Double { top + plotH * (1 - v / yMax) }
        let f = SVGDocument.coordinate, esc = SVGDocument.escape
        func g(_ v: Double) -> String { v >= 100 ? String(format: "%.0f", v) : v >= 10 ? String(format: "%.1f", v) : String(format: "%.2f", v) }
        var svg = SVGDocument.open(width: width, height: height, left: left, title: title, subtitle: subtitle)
        // The y axis: ticks, grid, label.
        var v = 0.0
        while v <= yMax + tick / 2 {
            svg += "<line x1=\"\(f(left))\" y1=\"\(f(py(v)))\" x2=\"\(f(left + plotW))\" y2=\"\(f(py(v)))\" stroke=\"#ddd\"/>\n"
            svg += "<text x=\"\(f(left - 6))\" y=\"\(f(py(v) + 4))\" text-anchor=\"end\">\(g(v))</text>\n"
            v += tick
        }
        svg += "<line x1=\"\(f(left))\" y1=\"\(f(top))\" x2=\"\(f(left))\" y2=\"\(f(top + plotH))\" stroke=\"black\"/>\n"
        svg += "<line x1=\"\(f(left))\" y1=\"\(f(top + plotH))\" x2=\"\(f(left + plotW))\" y2=\"\(f(top + plotH))\" stroke=\"black\"/>\n"
        svg += "<text class=\"ylabel\" transform=\"translate(\(f(left - 55)),\(f(top + plotH / 2))) rotate(-90)\" text-anchor=\"middle\">\(esc(yLabel))</text>\n"
        // The groups.
        let groupW = plotW / Double(max(1, categories.count))
        let barW = groupW * 0.8 / Double(max(1, series.count))
        for (gi, category) in categories.enumerated() {
            let x0 = left + groupW * Double(gi) + groupW * 0.1
            for (si, name) in series.enumerated() {
                let x = x0 + barW * Double(si)
                let value = gi < values.count && si < values[gi].count ? values[gi][si] : nil
                if let value, value.isFinite {
                    svg += "<rect class=\"bar\" data-category=\"\(esc(category))\" data-series=\"\(esc(name))\" data-value=\"\(value)\" x=\"\(f(x))\" y=\"\(f(py(value)))\" width=\"\(f(barW * 0.92))\" height=\"\(f(py(0) - py(value)))\" fill=\"\(palette[si % palette.count])\"/>\n"
                    svg += "<text x=\"\(f(x + barW * 0.46))\" y=\"\(f(py(value) - 4))\" text-anchor=\"middle\" font-size=\"10\">\(g(value))</text>\n"
                } else {
                    svg += "<text x=\"\(f(x + barW * 0.46))\" y=\"\(f(py(0) - 4))\" text-anchor=\"middle\" font-size=\"10\" fill=\"#888\">n/a</text>\n"
                }
            }
            svg += "<text x=\"\(f(x0 + groupW * 0.4))\" y=\"\(f(top + plotH + 20))\" text-anchor=\"middle\">\(esc(category))</text>\n"
        }
        // The legend.
        for (si, name) in series.enumerated() {
            let y = top + 10 + 22 * Double(si)
            svg += "<rect x=\"\(f(width - right + 20))\" y=\"\(f(y - 10))\" width=\"14\" height=\"14\" fill=\"\(palette[si % palette.count])\"/>\n"
            svg += "<text x=\"\(f(width - right + 40))\" y=\"\(f(y + 2))\">\(esc(name))</text>\n"
        }
        return svg + "</svg>\n"
    }
}
