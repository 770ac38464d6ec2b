import Foundation
import JobReport
import SortieTestSupport

// report-bench FOLDER [--jobs N,N…] [--repeat N]: for each N, `sortie report`'s page of N sample
// jobs (ReportSamples.bulk) written to FOLDER/jobs-N.html, its size, and headless Chromium's time
// to draw it (navigation start to the page's own end-of-drawing mark, and its longest task), the
// median of the repeats; a screenshot of the first count's page.
var arguments = Array(CommandLine.arguments.dropFirst())
guard let folderPath = arguments.first else {
    FileHandle.standardError.write(Data("usage: report-bench FOLDER [--jobs 1000,10000] [--repeat 3]\n".utf8))
    exit(2)
}
arguments.removeFirst()
var counts = [1000, 10000]
var repeats = 3
while arguments.count >= 2 {
    switch arguments.removeFirst() {
    case "--jobs": counts = arguments.removeFirst().split(separator: ",").compactMap { Int($0) }
    case "--repeat": repeats = max(1, Int(arguments.removeFirst()) ?? 3)
    default: break
    }
}
let folder = URL(fileURLWithPath: folderPath)
try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)

func number(_ dom: String, after marker: String, until end: String) -> Int? {
    guard let from = dom.range(of: marker), let to = dom.range(of: end, range: from.upperBound..<dom.endIndex) else { return nil }
    return Int(dom[from.upperBound..<to.lowerBound])
}

for (position, count) in counts.enumerated() {
    let report = ReportSamples.bulk(jobs: count, now: 1_780_000_000_000)
    let page = folder.appendingPathComponent("jobs-\(count).html")
    let html = Data(try report.html().utf8)
    try html.write(to: page)
    var drawn: [Int] = []
    var longest: [Int] = []
    for _ in 0..<repeats {
        let dom = try HeadlessChromium.dom(page, budget: .seconds(120), timeout: .seconds(240))
        guard dom.contains(#"data-rendered="done""#), let total = number(dom, after: #"<output id="render-ms">"#, until: "<"),
              let task = number(dom, after: #"data-longest-task-ms=""#, until: "\"")
        else {
            print("\(count) jobs: the page did not finish drawing")
            exit(1)
        }
        drawn.append(total)
        longest.append(task)
    }
    let median = { (values: [Int]) in values.sorted()[values.count / 2] }
    print(String(
        format: "%6d jobs: page %9d bytes (%.2f MB), drawn %5d ms after navigation start, longest task %4d ms (median of %d; runs %@)",
        count, html.count, Double(html.count) / 1e6, median(drawn), median(longest), repeats, drawn.map(String.init).joined(separator: ", ")))
    if position == 0 {
        let shot = folder.appendingPathComponent("jobs-\(count).png")
        try HeadlessChromium.screenshot(page, to: shot, width: 1400, height: 1000)
        print("        screenshot: \(shot.path)")
    }
}
