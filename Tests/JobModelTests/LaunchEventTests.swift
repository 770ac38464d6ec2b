import Foundation
import JobModel
import SortieTestSupport
import Testing

@Suite("Launch events")
struct LaunchEventTests {
    private func decode(_ json: String) throws -> LaunchEvent { try JSONDecoder().decode(LaunchEvent.self, from: Data(json.utf8)) }
    private func sample(_ name: String) throws -> LaunchEvent {
        try JSONDecoder().decode(LaunchEvent.self, from: Data(contentsOf: Repository.root.appendingPathComponent("events/\(name)")))
    }

    @Test("the sample EventBridge Scheduled Event names its job by its rule, arguments from detail.args")
    func scheduled() throws {
        let event = try sample("launcher-scheduled.json")
        #expect(event.job == "nightly-etl")
        #expect(event.arguments == ["date": "2024-04-30"])
        #expect(event.eventID == "89d1a02d-5ec7-412e-82f5-13505f849b41")
        #expect(event.trigger == .schedule(rule: "arn:aws:events:us-east-1:123456789012:rule/sortie-nightly-etl", time: "2024-05-01T02:00:00Z"))
        #expect(!event.dryRun)
    }

    @Test("detail.job wins over the rule's name; a Scheduler schedule's name works too")
    func scheduledNames() throws {
        let named = try decode(#"{"id":"1","detail-type":"Scheduled Event","resources":["arn:aws:events:us-east-1:1:rule/other"],"detail":{"job":"etl"}}"#)
        #expect(named.job == "etl")
        let scheduler = try decode(#"{"id":"2","detail-type":"Scheduled Event","resources":["arn:aws:scheduler:us-east-1:1:schedule/default/reports"],"detail":{}}"#)
        #expect(scheduler.job == "reports")
    }

    @Test("the sample manual event, with numbers and booleans taken as text")
    func manual() throws {
        let event = try sample("launcher-manual.json")
        #expect(event.job == "nightly-etl" && event.eventID == "backfill-2024-04-30" && event.trigger == .manual)
        #expect(event.arguments == ["date": "2024-04-30", "tables": "orders customers"])
        let typed = try decode(#"{"job":"x","args":{"n":42,"f":1.5,"b":true}}"#)
        #expect(typed.arguments == ["n": "42", "f": "1.5", "b": "true"])
        #expect(typed.eventID == nil)
    }

    @Test("malformed events say what was expected", arguments: [
        (#"{"hello":"world"}"#, "expected an EventBridge Scheduled Event or a manual event"),
        (#"{"job":"x","argz":{}}"#, "unknown field 'argz'"),
        (#"{"job":"x","args":{"a":[1]}}"#, "an argument's value must be text, a number or a boolean"),
        (#"{"job":"x","spec":{}}"#, "an inline spec is only for dry runs"),
        (#"{"id":"1","detail-type":"Object Created","detail":{}}"#, #"expected "Scheduled Event""#),
        (#"{"id":"1","detail-type":"Scheduled Event","resources":[]}"#, "names its job in detail.job"),
    ])
    func malformed(_ json: String, _ message: String) {
        do {
            _ = try decode(json)
            Issue.record("decoded \(json)")
        } catch let DecodingError.dataCorrupted(context) {
            #expect(context.debugDescription.contains(message), "\(context.debugDescription)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}
