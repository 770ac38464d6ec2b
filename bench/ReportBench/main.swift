import Foundation
import JobReport
import SortieTestSupport

// report-bench FOLDER [--jobs N,N…] [--repeat N]: for each N, `sortie report`'s page of N sample
// jobs (ReportSamples.bulk) written to FOLDER/jobs-N.html, its size, and headless Chromium's time
// to draw it (from the page script's start, inflating and parsing its data included, to its last
// drawing task's end; and its longest task, what would freeze the page), by the wall-clock stamps
// of the console marks the page logs when opened as `…#timing`; the median of the repeats; a
// screenshot of the first count's page.
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

/// From the page's `#timing` console marks, in wall-clock milliseconds: start → done, and the longest task (and its name).
func timings(_ console: [(at: Double, message: String)]) -> (total: Double, longest: Double, task: String)? {
    let marks = console.filter { $0.message.hasPrefix("sortie-report: ") }.map { (at: $0.at, what: String($0.message.dropFirst("sortie-report: ".count))) }
    guard let start = marks.first(where: { $0.what == "start" }), let done = marks.last(where: { $0.what == "done" }) else { return nil }
    var longest = (0.0, "")
    var begun: (at: Double, what: String)?
    for mark in marks {
        if mark.what.hasPrefix("task-begin ") { begun = mark }
        if mark.what == "task-end", let began = begun, mark.at - began.at > longest.0 { longest = (mark.at - began.at, String(began.what.dropFirst("task-begin ".count))) }
    }
    return ((done.at - start.at) * 1000, longest.0 * 1000, longest.1)
}

for (position, count) in counts.enumerated() {
    let report = ReportSamples.bulk(jobs: count, now: 1_780_000_000_000)
    let page = folder.appendingPathComponent("jobs-\(count).html")
    let html = Data(try report.html().utf8)
    try html.write(to: page)
    var drawn: [Double] = []
    var longest: [Double] = []
    var tasks: [String] = []
    for _ in 0..<repeats {
        let timed = URL(string: page.absoluteString + "#timing") ?? page
        let (dom, console) = try HeadlessChromium.domAndConsole(timed, budget: .seconds(120), timeout: .seconds(240))
        guard dom.contains(#"data-rendered="done""#), let (total, task, name) = timings(console) else {
            print("\(count) jobs: the page did not finish drawing")
            exit(1)
        }
        drawn.append(total)
        longest.append(task)
        tasks.append(name)
    }
    let median = { (values: [Double]) in values.sorted()[values.count / 2] }
    print(String(
        format: "%6d jobs: page %9d bytes (%.2f MB), drawn in %5.0f ms, longest task %4.0f ms (median of %d; runs %@ ms; longest: %@)",
        count, html.count, Double(html.count) / 1e6, median(drawn), median(longest), repeats, drawn.map { String(format: "%.0f", $0) }.joined(separator: ", "),
        Set(tasks).sorted().joined(separator: ", ")))
    if position == 0 {
        let shot = folder.appendingPathComponent("jobs-\(count).png")
        try HeadlessChromium.screenshot(page, to: shot, width: 1400, height: 1000)
        print("        screenshot: \(shot.path)")
    }
}
