import Foundation

/// What socprof's SVG charts share: escaping, coordinates with one decimal, and the document's
/// opening (white background, a title and an optional subtitle).
enum SVGDocument {
    /// Text safe inside an element or an attribute value.
    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// A coordinate, to 0.1 px.
    static func coordinate(_ v: Double) -> String { String(format: "%.1f", v) }

    /// The opening of a `width` x `height` document with `title` (17 px, bold) at (`left`, 28) and
    /// `subtitle` below it.
    static func open(width: Double, height: Double, left: Double, title: String, subtitle: String? = nil) -> String {
        var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(coordinate(left))" y="28" font-size="17" font-weight="bold">\(escape(title))</text>

        """
        if let subtitle { svg += "<text x=\"\(coordinate(left))\" y=\"48\" font-size=\"12\" fill=\"#444\">\(escape(subtitle))</text>\n" }
        return svg
    }
}
