import Foundation
import ProfileModel
import Profiler

/// Draws profiles under a roofline as SVG: log-log axes (ops/byte, GOP/s), the bandwidth and
/// compute ceilings with the ridge point, each layer at OI_t (hollow) and OI_e (filled) joined by
/// a line, each network as one point (a diamond), a legend, and names on the costliest layers.
public enum RooflineSVG {
    /// One report to draw, in one colour.
    public struct Series {
        public let label: String
        public let profile: NetworkProfile
        public init(label: String, profile: NetworkProfile) {
            self.label = label
            self.profile = profile
        }
    }

    /// A layer name short enough for a label: deep paths keep their first two parts and the
    /// operation ("block3/unit2/bottleneck_v1/conv2/convolution" -> "block3/unit2/conv2").
    static func shortName(_ name: String) -> String {
        let parts = name.split(separator: "/").map(String.init)
        guard parts.count > 3 else { return name }
        return "\(parts[0])/\(parts[1])/\(parts[parts.count - 2])"
    }

    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]

    /// The SVG document. The roofline is the first series' (each series' own when overlaying
    /// reports measured under different ceilings is drawn too, dashed).
    public static func render(_ series: [Series], title: String) -> String {
        let width = 1000.0, height = 680.0
        let left = 80.0, right = 260.0, top = 50.0, bottom = 70.0
        let plotW = width - left - right, plotH = height - top - bottom

        // Ranges over everything drawn, widened to whole decades.
        var xs: [Double] = [], ys: [Double] = []
        for s in series {
            for l in s.profile.layers where l.gops > 0 && l.ops > 0 {
                xs.append(l.oi_theoretical)
                if let e = l.oi_empirical.value { xs.append(e) }
                ys.append(l.gops)
            }
            if let r = s.profile.roofline { xs.append(r.ridge); ys.append(r.peak_gflops) }
        }
        xs = xs.filter { $0 > 0 && $0.isFinite }
        ys = ys.filter { $0 > 0 && $0.isFinite }
        // Decades from 1e-6 to 1e9 at most (a figure outside is drawn at the edge): the grid loops
        // below stay short whatever a report holds.
        func decade(_ v: Double, _ round: (Double) -> Double) -> Double { pow(10, min(9, max(-6, round(log10(v))))) }
        let x0 = decade(xs.min() ?? 0.1, floor), x1 = max(x0 * 10, decade((xs.max() ?? 100) * 1.01, ceil))
        let y0 = decade(ys.min() ?? 0.1, floor), y1 = max(y0 * 10, decade((ys.max() ?? 100) * 1.5, ceil))
        func px(_ x: Double) -> Double { left + plotW * (log10(min(max(x, x0), x1)) - log10(x0)) / (log10(x1) - log10(x0)) }
        func py(_ y: Double) -> Double { top + plotH * (1 - (log10(min(max(y, y0), y1)) - log10(y0)) / (log10(y1) - log10(y0))) }
        let f = SVGDocument.coordinate, esc = SVGDocument.escape
        func label(_ v: Double) -> String { String(format: "%g", v) }

        var svg = SVGDocument.open(width: width, height: height, left: left, title: title)
        // Grid and axes.
        var d = x0
        while d <= x1 * 1.0001 {
            svg += "<line x1=\"\(f(px(d)))\" y1=\"\(f(top))\" x2=\"\(f(px(d)))\" y2=\"\(f(top + plotH))\" stroke=\"#ddd\"/>\n"
            svg += "<text x=\"\(f(px(d)))\" y=\"\(f(top + plotH + 18))\" text-anchor=\"middle\">\(label(d))</text>\n"
            d *= 10
        }
        d = y0
        while d <= y1 * 1.0001 {
            svg += "<line x1=\"\(f(left))\" y1=\"\(f(py(d)))\" x2=\"\(f(left + plotW))\" y2=\"\(f(py(d)))\" stroke=\"#ddd\"/>\n"
            svg += "<text x=\"\(f(left - 8))\" y=\"\(f(py(d) + 4))\" text-anchor=\"end\">\(label(d))</text>\n"
            d *= 10
        }
        svg += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(plotW))\" height=\"\(f(plotH))\" fill=\"none\" stroke=\"#333\"/>\n"
        svg += "<text x=\"\(f(left + plotW / 2))\" y=\"\(f(height - 22))\" text-anchor=\"middle\" font-size=\"13\">operational intensity (ops/byte, log)</text>\n"
        svg += "<text transform=\"translate(22 \(f(top + plotH / 2))) rotate(-90)\" text-anchor=\"middle\" font-size=\"13\">performance (GOP/s, log)</text>\n"

        // Ceilings.
        var legend: [(String, String)] = []
        for (k, s) in series.enumerated() {
            guard let r = s.profile.roofline else { continue }
            if k > 0, let first = series[0].profile.roofline, first.peak_gflops == r.peak_gflops, first.dram_gbs == r.dram_gbs { continue }
            let dash = k == 0 ? "" : " stroke-dasharray=\"6 4\""
            let xa = max(x0, y0 / r.dram_gbs)
            svg += "<polyline points=\"\(f(px(xa))),\(f(py(xa * r.dram_gbs))) \(f(px(r.ridge))),\(f(py(r.peak_gflops))) \(f(px(x1))),\(f(py(r.peak_gflops)))\" fill=\"none\" stroke=\"#000\" stroke-width=\"2.5\"\(dash)/>\n"
            svg += "<circle cx=\"\(f(px(r.ridge)))\" cy=\"\(f(py(r.peak_gflops)))\" r=\"4\" fill=\"#000\"/>\n"
            svg += "<text x=\"\(f(px(r.ridge) + 6))\" y=\"\(f(py(r.peak_gflops) + 16))\">ridge \(String(format: "%.2f", r.ridge)) ops/B</text>\n"
            svg += "<text x=\"\(f(px(x1) - 6))\" y=\"\(f(py(r.peak_gflops) - 6))\" text-anchor=\"end\">peak \(String(format: "%.1f", r.peak_gflops)) GFLOP/s</text>\n"
            let xm = sqrt(xa * r.ridge)
            svg += "<text x=\"\(f(px(xm)))\" y=\"\(f(py(xm * r.dram_gbs) - 8))\" text-anchor=\"end\">DRAM \(String(format: "%.1f", r.dram_gbs)) GB/s</text>\n"
            legend.append(("line" + (k == 0 ? "" : "-dashed"), "ceilings" + (series.count > 1 ? " (\(s.label))" : "")))
        }

        // Layers and networks.
        var placed: [(x: Double, y: Double, w: Double)] = []
        for (k, s) in series.enumerated() {
            let color = palette[k % palette.count]
            let layers = s.profile.layers.filter { $0.gops > 0 && $0.ops > 0 && $0.oi_theoretical > 0 }
            for l in layers {
                let y = py(l.gops)
                if let e = l.oi_empirical.value, e > 0 {
                    svg += "<line x1=\"\(f(px(l.oi_theoretical)))\" y1=\"\(f(y))\" x2=\"\(f(px(e)))\" y2=\"\(f(y))\" stroke=\"\(color)\" stroke-opacity=\"0.6\"/>\n"
                    svg += "<circle cx=\"\(f(px(e)))\" cy=\"\(f(y))\" r=\"4\" fill=\"\(color)\"><title>\(esc(l.name)): OI_e \(String(format: "%.2f", e)), \(String(format: "%.1f", l.gops)) GOP/s</title></circle>\n"
                }
                svg += "<circle cx=\"\(f(px(l.oi_theoretical)))\" cy=\"\(f(y))\" r=\"4\" fill=\"white\" stroke=\"\(color)\" stroke-width=\"1.5\"><title>\(esc(l.name)) (\(l.kind)): OI_t \(String(format: "%.2f", l.oi_theoretical)), \(String(format: "%.1f", l.gops)) GOP/s</title></circle>\n"
            }
            // Names on the costliest layers (by time), moved down until they do not overlap.
            for l in layers.sorted(by: { $0.time_s > $1.time_s }).prefix(series.count > 1 ? 3 : 6) {
                let name = shortName(l.name)
                let x = px(l.oi_theoretical) + 7
                var y = py(l.gops) - 6
                let w = Double(name.count) * 6
                while placed.contains(where: { abs($0.y - y) < 11 && x < $0.x + $0.w && $0.x < x + w }) { y += 12 }
                placed.append((x, y, w))
                svg += "<text x=\"\(f(x))\" y=\"\(f(y))\" font-size=\"10\" fill=\"\(color)\">\(esc(name))</text>\n"
            }
            // The whole network: total ops over total minimum bytes, total ops over total time.
            let ops = layers.reduce(0.0) { $0 + Double($1.ops) } // in Double: no overflow however large
            let bytes = layers.reduce(0.0) { $0 + Double($1.ops) / $1.oi_theoretical }
            let time = layers.reduce(0.0) { $0 + $1.time_s }
            if ops > 0, bytes > 0, time > 0 {
                let x = px(ops / bytes), y = py(ops / time / 1e9)
                svg += "<path d=\"M \(f(x)) \(f(y - 8)) L \(f(x + 8)) \(f(y)) L \(f(x)) \(f(y + 8)) L \(f(x - 8)) \(f(y)) Z\" fill=\"\(color)\" stroke=\"#000\"><title>\(esc(s.profile.network)): whole network</title></path>\n"
            }
            legend.append(("series:\(color)", "\(s.label): \(s.profile.network), \(s.profile.placement), \(s.profile.threads) thread(s)"))
        }
        legend.append(("hollow", "layer at OI_t (cost model)"))
        legend.append(("filled", "layer at OI_e (measured DRAM bytes)"))
        legend.append(("diamond", "whole network"))

        // Legend, right of the plot.
        var ly = top + 10
        let lx = left + plotW + 20
        svg += "<text x=\"\(f(lx))\" y=\"\(f(ly))\" font-weight=\"bold\">Legend</text>\n"
        for (kind, text) in legend {
            ly += 22
            switch kind {
            case "line": svg += "<line x1=\"\(f(lx))\" y1=\"\(f(ly - 4))\" x2=\"\(f(lx + 22))\" y2=\"\(f(ly - 4))\" stroke=\"#000\" stroke-width=\"2.5\"/>\n"
            case "line-dashed": svg += "<line x1=\"\(f(lx))\" y1=\"\(f(ly - 4))\" x2=\"\(f(lx + 22))\" y2=\"\(f(ly - 4))\" stroke=\"#000\" stroke-width=\"2.5\" stroke-dasharray=\"6 4\"/>\n"
            case "hollow": svg += "<circle cx=\"\(f(lx + 11))\" cy=\"\(f(ly - 4))\" r=\"4\" fill=\"white\" stroke=\"#555\" stroke-width=\"1.5\"/>\n"
            case "filled": svg += "<circle cx=\"\(f(lx + 11))\" cy=\"\(f(ly - 4))\" r=\"4\" fill=\"#555\"/>\n"
            case "diamond": svg += "<path d=\"M \(f(lx + 11)) \(f(ly - 12)) L \(f(lx + 19)) \(f(ly - 4)) L \(f(lx + 11)) \(f(ly + 4)) L \(f(lx + 3)) \(f(ly - 4)) Z\" fill=\"#555\" stroke=\"#000\"/>\n"
            default: svg += "<rect x=\"\(f(lx + 4))\" y=\"\(f(ly - 10))\" width=\"14\" height=\"12\" fill=\"\(kind.dropFirst("series:".count))\"/>\n"
            }
            // Wrap long entries.
            var words = text.split(separator: " ").map(String.init)
            var line = ""
            var first = true
            while !words.isEmpty {
                let w = words.removeFirst()
                if (line + " " + w).count > 30 && !line.isEmpty {
                    svg += "<text x=\"\(f(lx + 30))\" y=\"\(f(ly))\">\(esc(line))</text>\n"
                    ly += 15
                    line = w
                    first = false
                } else {
                    line = line.isEmpty ? w : line + " " + w
                }
            }
            _ = first
            svg += "<text x=\"\(f(lx + 30))\" y=\"\(f(ly))\">\(esc(line))</text>\n"
        }
        if series.allSatisfy({ $0.profile.roofline == nil }) {
            svg += "<text x=\"\(f(left + 10))\" y=\"\(f(top + 20))\" fill=\"#a00\">No measured ceilings: run `socprof ceilings` first.</text>\n"
        }
        svg += "</svg>\n"
        return svg
    }
}
