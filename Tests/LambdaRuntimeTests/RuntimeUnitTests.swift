@testable import LambdaRuntime
import Foundation
import Testing
import WallTime

@Suite("Runtime pieces that need no process")
struct RuntimeUnitTests {
    struct Sample: Decodable {
        struct Record: Decodable { var key: String }
        var records: [Record]
    }

    @Test("decoding errors name the path to the field")
    func decodingErrorPaths() throws {
        let payload = Data(#"{"records":[{"key":"a"},{"nokey":1}]}"#.utf8)
        do {
            _ = try JSONDecoder().decode(Sample.self, from: payload)
            Issue.record("decoding should fail")
        } catch let error as DecodingError {
            let message = EventDecodingError(eventType: Sample.self, error: error).description
            #expect(message.contains("missing field 'records[1].key'"), "\(message)")
        }
    }

    @Test("AWS_LAMBDA_MAX_CONCURRENCY: absent, invalid or below 1 means 1",
          arguments: [(nil, 1), ("", 1), ("x", 1), ("0", 1), ("-3", 1), ("1", 1), ("4", 4), ("64", 64)] as [(String?, Int)])
    func concurrencySetting(value: String?, expected: Int) {
        #expect(RuntimeEnvironment.concurrency(value) == expected)
    }

    @Test("log levels map from Lambda's names")
    func logLevels() {
        #expect(LogLevelSetting("warn").level == .warning)
        #expect(LogLevelSetting("FATAL").level == .critical)
        #expect(LogLevelSetting(nil).level == .info)
        #expect(LogLevelSetting("bogus").level == .info)
        #expect(LogLevelSetting.lambdaName(.notice) == "INFO")
    }

    @Test("timestamps are UTC ISO 8601 with milliseconds")
    func timestamps() {
        #expect(WallClock.iso8601(milliseconds: 0) == "1970-01-01T00:00:00.000Z")
        #expect(WallClock.iso8601(milliseconds: 1_795_622_615_123) == "2026-11-25T16:03:35.123Z")
    }

    @Test("error reports use the error's own type name or its declared errorType")
    func errorReports() {
        struct Plain: Error {}
        #expect(ErrorReport(Plain()).errorType == "Plain")
        #expect(ErrorReport(EventDecodingError(eventType: Sample.self, error: .dataCorrupted(.init(codingPath: [], debugDescription: "x")))).errorType
                == "Runtime.UnmarshalError")
    }
}
