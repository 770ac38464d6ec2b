import CZlib
import Foundation

extension JobReport {
    /// The data as the live page fetches it: JSON.
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    public struct CompressionFailed: Error, CustomStringConvertible {
        public var status: Int32
        public var description: String { "zlib's compress2 failed with status \(status)" }
    }

    /// The data as the page embeds it: the JSON zlib-compressed, in base64, which the page's script
    /// inflates with the browser's own `DecompressionStream`. Jobs' JSON repeats itself (names,
    /// reasons, log paths), so this keeps 1,000 jobs' page well under 1 MB (`bench/report.sh`).
    public func embedded() throws -> String {
        let json = [UInt8](try json())
        var packed = [UInt8](repeating: 0, count: Int(compressBound(uLong(json.count))))
        var size = uLongf(packed.count)
        let status = packed.withUnsafeMutableBufferPointer { out in
            json.withUnsafeBufferPointer { input in compress2(out.baseAddress, &size, input.baseAddress, uLong(input.count), 9) }
        }
        guard status == Z_OK else { throw CompressionFailed(status: status) }
        return Data(packed.prefix(Int(size))).base64EncodedString()
    }

    /// One self-contained HTML page: style, script and data inline, nothing fetched when viewed
    /// from a file (a page served with `live` set fetches only its own fresh data).
    public func html() throws -> String {
        let data = try embedded()
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Sortie report</title>
            <style>\(Self.style)</style></head>
            <body data-rendered="no">
            <header><h1>Sortie jobs</h1><p id="window"></p><ul id="summary"></ul></header>
            <section><h2>Timeline</h2><p class="legend" id="legend"></p><svg id="timeline-axis"></svg><div id="timeline-box"><svg id="timeline"></svg></div></section>
            <section><h2>Queue and running, against <code>max_concurrency</code></h2><div id="queues"></div></section>
            <section><h2>By job</h2><table id="names"></table></section>
            <section><h2>Files</h2><ul id="file-summary"></ul><table id="files"></table><p class="more" id="files-more"></p></section>
            <section><h2>Failures</h2><table id="failures"></table><p class="more" id="failures-more"></p><table id="chunk-failures"></table></section>
            <footer>rendered in <output id="render-ms"></output> ms</footer>
            <script id="report-data" type="application/zlib+base64">\(data)</script>
            <script>\(Self.script)</script>
            </body></html>

            """
    }
}
