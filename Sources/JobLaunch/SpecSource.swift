import AWSCore
import AWSServices
import JobModel
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Where the launcher reads published specs (`sortie publish`): `<job>.json` under an S3
/// prefix, or in a local folder for development. Read on every launch, so a republished spec
/// takes effect at once.
public enum SpecSource: Sendable, Equatable {
    case s3(bucket: String, prefix: String)
    case folder(String)

    /// `s3://bucket/prefix/` or an absolute path.
    public init?(_ text: String) {
        if text.hasPrefix("s3://") {
            let rest = text.dropFirst("s3://".count)
            let bucket = String(rest.prefix { $0 != "/" })
            guard !bucket.isEmpty else { return nil }
            var prefix = String(rest.dropFirst(bucket.count + 1))
            if !prefix.isEmpty, !prefix.hasSuffix("/") { prefix += "/" }
            self = .s3(bucket: bucket, prefix: prefix)
        } else if text.hasPrefix("/") {
            self = .folder(text)
        } else {
            return nil
        }
    }

    /// The job's spec; `nil` when none is published under that name.
    public func spec(named job: String, s3: S3) throws(LaunchError) -> JobSpec? {
        guard JobSpec.isValidName(job) else { return nil }
        let data: Data
        switch self {
        case .s3(let bucket, let prefix):
            do {
                data = try s3.getObject(bucket: bucket, key: "\(prefix)\(job).json").body
            } catch where error.code == "NoSuchKey" || error.code == "NotFound" {
                return nil
            } catch {
                throw .aws(error)
            }
        case .folder(let path):
            let url = URL(fileURLWithPath: path).appendingPathComponent("\(job).json")
            guard FileManager.default.fileExists(atPath: url.path) else { return nil }
            do {
                data = try Data(contentsOf: url)
            } catch {
                throw .configuration("cannot read \(url.path): \(error)")
            }
        }
        do {
            return try JSONDecoder().decode(JobSpec.self, from: data)
        } catch let error as SpecError {
            throw .invalidSpec(job: job, error)
        } catch {
            throw .invalidSpec(job: job, SpecError([SpecIssue(field: "(file)", message: "not JSON: \(error)")]))
        }
    }
}
