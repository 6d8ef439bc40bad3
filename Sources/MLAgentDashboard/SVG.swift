/// A small builder of inline SVG: every attribute value and text is escaped, every number goes
/// through `Fmt.coord`, so no mark can carry a NaN coordinate or inject markup.
struct SVG {
    typealias Attrs = [(String, String)]

    let width: Double
    let height: Double
    private let head: String
    private var body = ""

    init(id: String?, width: Double, height: Double, label: String, cls: String = "chart") {
        self.width = width
        self.height = height
        let idAttr = id.map { " id=\"\(HTML.escape($0))\"" } ?? ""
        head = "<svg\(idAttr) class=\"\(cls)\" viewBox=\"0 0 \(Fmt.coord(width)) \(Fmt.coord(height))\" "
            + "role=\"img\" aria-label=\"\(HTML.escape(label))\">"
    }

    func render() -> String { head + body + "</svg>\n" }

    mutating func open(_ name: String, _ attrs: Attrs = []) { body += "<\(name)\(Self.attributes(attrs))>" }
    mutating func close(_ name: String) { body += "</\(name)>" }

    /// An element; `tip` becomes its `<title>` (a native tooltip, turned into a rich one by the page script).
    mutating func element(_ name: String, _ attrs: Attrs, tip: String? = nil, text: String? = nil) {
        body += "<\(name)\(Self.attributes(attrs))"
        guard tip != nil || text != nil else { body += "/>"; return }
        body += ">"
        if let tip { body += "<title>\(HTML.escape(tip))</title>" }
        if let text { body += HTML.escape(text) }
        body += "</\(name)>"
    }

    mutating func circle(_ cx: Double, _ cy: Double, _ r: Double, _ attrs: Attrs = [], tip: String? = nil) {
        element("circle", [("cx", Fmt.coord(cx)), ("cy", Fmt.coord(cy)), ("r", Fmt.coord(r))] + attrs, tip: tip)
    }

    mutating func rect(_ x: Double, _ y: Double, _ w: Double, _ h: Double, _ attrs: Attrs = [], tip: String? = nil) {
        element("rect", [("x", Fmt.coord(x)), ("y", Fmt.coord(y)), ("width", Fmt.coord(max(0, w))),
                         ("height", Fmt.coord(max(0, h)))] + attrs, tip: tip)
    }

    mutating func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, _ attrs: Attrs = []) {
        element("line", [("x1", Fmt.coord(x1)), ("y1", Fmt.coord(y1)), ("x2", Fmt.coord(x2)), ("y2", Fmt.coord(y2))] + attrs)
    }

    mutating func path(_ path: Path, _ attrs: Attrs = [], tip: String? = nil) {
        guard !path.d.isEmpty else { return }
        element("path", [("d", path.d)] + attrs, tip: tip)
    }

    mutating func text(_ x: Double, _ y: Double, _ text: String, _ attrs: Attrs = [], tip: String? = nil) {
        element("text", [("x", Fmt.coord(x)), ("y", Fmt.coord(y))] + attrs, tip: tip, text: text)
    }

    /// A short chart holding only a message, for when there is nothing to draw.
    static func empty(id: String, width: Double, message: String) -> String {
        var svg = SVG(id: id, width: width, height: 100, label: message)
        svg.text(width / 2, 55, message, [("class", "empty"), ("text-anchor", "middle")])
        return svg.render()
    }

    private static func attributes(_ attrs: Attrs) -> String {
        attrs.map { " \($0.0)=\"\(HTML.escape($0.1))\"" }.joined()
    }
}

/// Path data built from commands with safe coordinates.
struct Path {
    private(set) var d = ""
    mutating func move(_ x: Double, _ y: Double) { d += "M\(Fmt.coord(x)) \(Fmt.coord(y))" }
    mutating func line(_ x: Double, _ y: Double) { d += "L\(Fmt.coord(x)) \(Fmt.coord(y))" }
    mutating func closed() { d += "Z" }
}

/// The plotting rectangle of a chart.
struct PlotArea {
    var left: Double, top: Double, right: Double, bottom: Double
    var width: Double { right - left }
    var height: Double { bottom - top }
}

struct LegendItem {
    var label: String
    var color: String
    /// Marks the item as a direction: clicking it highlights that direction.
    var direction: String? = nil
    var shape: Shape = .square
    enum Shape { case square, circle, ring, diamond, line, dashed, band }
}

extension SVG {
    /// Horizontal gridlines and labels for a value axis.
    mutating func yAxis(_ scale: LinearScale, _ area: PlotArea, title: String, count: Int = 5, minStep: Double = 0) {
        let ticks = scale.ticks(count, minStep: minStep)
        open("g", [("class", "axis")])
        for value in ticks.values {
            let y = scale(value)
            line(area.left, y, area.right, y, [("class", "grid")])
            text(area.left - 6, y + 3.5, Fmt.fixed(value, ticks.decimals), [("text-anchor", "end")])
        }
        line(area.left, area.top, area.left, area.bottom, [("class", "domain")])
        let midY = (area.top + area.bottom) / 2
        if !title.isEmpty {
            text(area.left - 48, midY, title, [("class", "axis-title"), ("text-anchor", "middle"),
                                            ("transform", "rotate(-90 \(Fmt.coord(area.left - 48)) \(Fmt.coord(midY)))")])
        }
        close("g")
    }

    /// Vertical gridlines and labels for a linear or time axis at the bottom of `area`.
    mutating func xAxis(_ ticks: [(value: Double, label: String)], _ scale: LinearScale, _ area: PlotArea,
                        gridTop: Double? = nil, title: String) {
        open("g", [("class", "axis")])
        for tick in ticks {
            let x = scale(tick.value)
            line(x, gridTop ?? area.top, x, area.bottom, [("class", "grid")])
            text(x, area.bottom + 15, tick.label, [("text-anchor", "middle")])
        }
        line(area.left, area.bottom, area.right, area.bottom, [("class", "domain")])
        text((area.left + area.right) / 2, area.bottom + 33, title, [("class", "axis-title"), ("text-anchor", "middle")])
        close("g")
    }

    /// A legend flowing left to right and wrapping; returns its height.
    @discardableResult
    mutating func legend(_ items: [LegendItem], x: Double, y: Double, maxWidth: Double) -> Double {
        guard !items.isEmpty else { return 0 }
        var (cx, cy) = (x, y)
        open("g", [("class", "legend")])
        for item in items {
            let label = HTML.truncate(item.label, 40)
            let width = 22 + Double(label.count) * 6.6 + 14
            if cx + width > x + maxWidth, cx > x { (cx, cy) = (x, cy + 18) }
            var attrs: Attrs = [("fill", item.color)]
            if let direction = item.direction { attrs += [("data-dir", direction), ("class", "pick")] }
            switch item.shape {
            case .square: rect(cx, cy - 9, 11, 11, attrs + [("rx", "2")])
            case .circle: circle(cx + 5.5, cy - 3.5, 5, attrs)
            case .ring: circle(cx + 5.5, cy - 3.5, 4.2, [("fill", "#fff"), ("stroke", item.color), ("stroke-width", "1.5")])
            case .diamond: path(Self.diamond(cx + 5.5, cy - 3.5, 6.5), attrs)
            case .line, .dashed:
                line(cx - 2, cy - 3.5, cx + 14, cy - 3.5, [("stroke", item.color), ("stroke-width", "2")]
                     + (item.shape == .dashed ? [("stroke-dasharray", "5 3")] : []))
            case .band: rect(cx - 2, cy - 9, 16, 11, [("fill", item.color), ("opacity", "0.35")])
            }
            text(cx + 18, cy, label, item.direction.map { [("data-dir", $0), ("class", "pick")] } ?? [],
                 tip: label == item.label ? nil : item.label)
            cx += width
        }
        close("g")
        return cy - y + 18
    }

    static func diamond(_ cx: Double, _ cy: Double, _ r: Double) -> Path {
        var p = Path()
        p.move(cx, cy - r)
        p.line(cx + r, cy)
        p.line(cx, cy + r)
        p.line(cx - r, cy)
        p.closed()
        return p
    }
}
