import Foundation

extension JobReport {
    /// The data as the page embeds it and the live page fetches it: compact JSON.
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    /// One self-contained HTML page: style, script and data inline, nothing fetched when viewed
    /// from a file (a page served with `live` set fetches only its own fresh data).
    public func html() throws -> String {
        // `</` inside the data would end its script element; `<\/` is the same JSON text.
        let data = String(decoding: try json(), as: UTF8.self).replacingOccurrences(of: "</", with: #"<\/"#)
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Sortie report</title>
            <style>\(Self.style)</style></head>
            <body data-rendered="no">
            <header><h1>Sortie jobs</h1><p id="window"></p><ul id="summary"></ul></header>
            <section><h2>Timeline</h2><p class="legend" id="legend"></p><div id="timeline-box"><svg id="timeline" xmlns="http://www.w3.org/2000/svg"></svg></div></section>
            <section><h2>Queue and running, against <code>max_concurrency</code></h2><div id="queues"></div></section>
            <section><h2>By job</h2><table id="names"></table></section>
            <section><h2>Files</h2><ul id="file-summary"></ul><table id="files"></table></section>
            <section><h2>Failures</h2><table id="failures"></table><table id="chunk-failures"></table></section>
            <footer>rendered in <output id="render-ms"></output> ms</footer>
            <script id="report-data" type="application/json">\(data)</script>
            <script>\(Self.script)</script>
            </body></html>

            """
    }
}
