import AWSCore
import AWSServices
import CurlHTTP
import Foundation
import RecordFormats
import Synchronization

/// A transport in front of moto that refuses, as DynamoDB does (400 `ValidationException`), a
/// request beyond the limits botocore's `service-2.json` declares for DynamoDB, which moto does
/// not enforce: TransactWriteItems' `TransactWriteItemList`, BatchGetItem's `KeyList` (and its
/// map over tables), BatchWriteItem's `WriteRequests`. Every DynamoDB request is recorded. It can
/// also cancel the next transactions for a conflict, as DynamoDB does when another transaction is
/// on one of their items (moto, one request at a time, never does), and lose the answer of the next
/// requests of an operation after moto has carried them out, as a connection lost mid-response does.
public final class DynamoDBLimits: HTTPTransport {
    public struct Sent: Sendable {
        public var operation: String
        public var items: Int
        public var clientRequestToken: String?
        /// A single-item request's key, as sorted JSON.
        public var key: String?
    }

    public let transactionMax: Int
    public let batchGetMax: Int
    public let batchWriteMax: Int
    private let log = Mutex<[Sent]>([])
    /// Injections still to come: which operation they apply to, and how many are left.
    private let conflicts = Mutex((operation: "TransactWriteItems", count: 0))
    private let lostAnswers = Mutex((operation: "", count: 0))

    /// The next `count` requests of `operation` are carried out, then answered with a lost connection.
    public func loseAnswer(next count: Int, of operation: String = "TransactWriteItems") { lostAnswers.withLock { $0 = (operation, count) } }

    /// The next `count` TransactWriteItems are cancelled, each action `TransactionConflict`, without being sent on.
    public func conflict(next count: Int) { conflicts.withLock { $0.count = count } }
    private let forward = CurlTransport()

    public var sent: [Sent] { log.withLock { $0 } }

    public init() throws {
        let shapes = try Self.serviceShapes()
        func max(_ shape: String) throws -> Int {
            guard let limit = (shapes[shape] as? [String: Any])?["max"] as? Int else { throw LimitsError("service-2.json has no max for \(shape)") }
            return limit
        }
        transactionMax = try max("TransactWriteItemList")
        batchGetMax = min(try max("KeyList"), try max("BatchGetRequestMap"))
        batchWriteMax = min(try max("WriteRequests"), try max("BatchWriteItemRequestMap"))
    }

    public func send(_ request: HTTPRequest) throws(HTTPTransportError) -> HTTPResponse {
        guard let target = request.headers["X-Amz-Target"], target.hasPrefix("DynamoDB_20120810.") else { return try forward.send(request) }
        let operation = String(target.dropFirst("DynamoDB_20120810.".count))
        let body = (try? JSONSerialization.jsonObject(with: request.body)) as? [String: Any] ?? [:]
        let tables = (body["RequestItems"] as? [String: Any])?.values ?? [:].values
        let (items, limit): (Int, Int) = switch operation {
        case "TransactWriteItems": ((body["TransactItems"] as? [Any])?.count ?? 0, transactionMax)
        case "BatchGetItem": (tables.reduce(0) { $0 + ((($1 as? [String: Any])?["Keys"] as? [Any])?.count ?? 0) }, batchGetMax)
        case "BatchWriteItem": (tables.reduce(0) { $0 + (($1 as? [Any])?.count ?? 0) }, batchWriteMax)
        default: (1, 1)
        }
        let key = (body["Key"] as? [String: Any]).flatMap { try? JSONSerialization.data(withJSONObject: $0, options: .sortedKeys) }
        log.withLock { $0.append(Sent(operation: operation, items: items, clientRequestToken: body["ClientRequestToken"] as? String, key: key.map { String(decoding: $0, as: UTF8.self) })) }
        guard items <= limit else {
            let message = "1 validation error detected: Value at '\(operation)' failed to satisfy constraint: Member must have length less than or equal to \(limit)"
            return HTTPResponse(
                status: 400, headers: ["Content-Type": "application/x-amz-json-1.0"],
                body: Data(#"{"__type":"com.amazon.coral.validation#ValidationException","message":"\#(message)"}"#.utf8))
        }
        let conflicted = Self.takeOne(conflicts, for: operation)
        guard !conflicted else {
            let reasons = Array(repeating: #"{"Code":"TransactionConflict","Message":"Transaction is ongoing for the item"}"#, count: items)
            let codes = Array(repeating: "TransactionConflict", count: items).joined(separator: ", ")
            return HTTPResponse(
                status: 400, headers: ["Content-Type": "application/x-amz-json-1.0"],
                body: Data(#"{"__type":"com.amazonaws.dynamodb.v20120810#TransactionCanceledException","Message":"Transaction cancelled, please refer cancellation reasons for specific reasons [\#(codes)]","CancellationReasons":[\#(reasons.joined(separator: ","))]}"#.utf8))
        }
        let answer = try forward.send(request)
        let lost = Self.takeOne(lostAnswers, for: operation)
        guard !lost else {
            throw HTTPTransportError(kind: .connectionLost, curlCode: 56, message: "Connection reset by peer (the answer lost)", method: request.method, url: request.url)
        }
        return answer
    }

    /// Whether one of the injections `counter` holds for `operation` is left, counting it off.
    private static func takeOne(_ counter: borrowing Mutex<(operation: String, count: Int)>, for operation: String) -> Bool {
        counter.withLock { left in
            guard left.operation == operation, left.count > 0 else { return false }
            left.count -= 1
            return true
        }
    }

    /// DynamoDB's shapes from the `service-2.json(.gz)` of the botocore that came with moto.
    static func serviceShapes() throws -> [String: Any] {
        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        python.arguments = ["python3", "-c", "import botocore, os; print(os.path.dirname(botocore.__file__))"]
        let output = Pipe()
        python.standardOutput = output
        try python.run()
        let folder = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        python.waitUntilExit()
        let base = URL(fileURLWithPath: folder).appendingPathComponent("data/dynamodb/2012-08-10/service-2.json")
        let text: Data
        if let plain = try? Data(contentsOf: base) {
            text = plain
        } else {
            text = Data(try Gzip.decompress([UInt8](try Data(contentsOf: base.appendingPathExtension("gz")))))
        }
        guard let shapes = (try JSONSerialization.jsonObject(with: text) as? [String: Any])?["shapes"] as? [String: Any] else {
            throw LimitsError("\(base.path) has no shapes")
        }
        return shapes
    }
}

struct LimitsError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
