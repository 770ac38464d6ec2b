import AWSServices
import Deployment
import Foundation
import LocalAWS

extension DevEnvironment {
    /// What one function answered to an object's creation event.
    public struct Delivery: Sendable {
        public var function: String
        public var response: Data
    }

    /// Uploads `body` and, as the bucket's notification would, sends `ObjectCreated:Put` to every
    /// function whose bucket trigger matches (synchronously here, so the caller sees the answers).
    public func put(_ body: Data, bucket: String, key: String) async throws -> [Delivery] {
        let s3 = S3(client: client)
        let eTag = try await blocking { try s3.putObject(bucket: bucket, key: key, body: body).eTag ?? "" }
        return try await Self.deliverObjectCreated(to: definitions, bucket: bucket, key: key, eTag: eTag, size: body.count) { function, event in
            try await self.invoke(function, event, timeout: .seconds(900))
        }
    }

    /// S3's part after an upload, for `sortie dev` (here, and `sortie put` through the local Invoke API).
    public static func deliverObjectCreated(
        to definitions: [FunctionDefinition], bucket: String, key: String, eTag: String, size: Int,
        invoke: (_ function: String, _ event: Data) async throws -> Data
    ) async throws -> [Delivery] {
        // S3's sequencers grow with each change to a key: nanoseconds since 1970 do too.
        let sequencer = String(UInt64(Date().timeIntervalSince1970 * 1e9), radix: 16, uppercase: true)
        let event = S3Notifications.objectCreated(
            bucket: bucket, key: key, eTag: eTag.trimmingCharacters(in: CharacterSet(charactersIn: "\"")), size: size, sequencer: sequencer)
        var deliveries: [Delivery] = []
        for definition in definitions where (definition.triggers ?? []).contains(where: { $0.matches(bucket: bucket, key: key) }) {
            deliveries.append(Delivery(function: definition.name, response: try await invoke(definition.name, event)))
        }
        return deliveries
    }
}
