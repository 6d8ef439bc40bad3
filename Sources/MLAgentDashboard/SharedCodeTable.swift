import MLAgentProtocol

/// The shared modules on `main`: one row per module and adopting direction, with the runs that
/// imported it and their best public score.
enum SharedCodeTable {
    static func render(_ m: DashboardModel) -> String {
        let modules = m.data.sharedModules
        guard !modules.isEmpty else { return "<p class=\"empty\">No shared module has landed on main yet.</p>\n" }
        var html = "<table class=\"shared\"><thead><tr><th>Module</th><th>Version</th><th>From</th><th>Summary</th>"
            + "<th>Used by</th><th>Runs</th><th class=\"num\">Best public</th></tr></thead><tbody>\n"
        for module in modules {
            let head = "<td><code>\(HTML.escape(module.name))</code></td><td class=\"num\">\(module.version)</td>"
                + "<td>\(swatch(module.direction, m))</td><td>\(HTML.escape(module.summary.split(separator: "\n").first.map(String.init) ?? ""))</td>"
            if module.adoptions.isEmpty {
                html += "<tr>\(head)<td>—</td><td>—</td><td class=\"num\">—</td></tr>\n"
            }
            for adoption in module.adoptions {
                html += "<tr>\(head)<td>\(swatch(adoption.direction, m))</td>"
                    + "<td>\(adoption.runs.map(String.init).joined(separator: ", "))</td>"
                    + "<td class=\"num\">\(adoption.best.map { m.score($0) } ?? "—")</td></tr>\n"
            }
        }
        return html + "</tbody></table>\n"
    }

    static func swatch(_ direction: String, _ m: DashboardModel) -> String {
        "<span class=\"swatch\" style=\"background:\(m.color(direction))\"></span>\(HTML.escape(direction))"
    }
}
