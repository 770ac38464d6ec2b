/// The instance's network storage (`efs`, `s3_mounts`) and the private repository's token:
/// identifiers in AWS's shapes, and every mount on a path of its own.
extension SpecReader {
    /// Paths already mounted on, each with the field that mounts it (`data_volumes[0]`).
    typealias MountClaims = [String: String]

    /// Records that `owner` mounts on `path`, refusing (at `field`) a path another owner has.
    mutating func claim(_ path: String, by owner: String, field: String, location: SourceLocation?, _ claims: inout MountClaims) {
        let key = "/" + path.split(separator: "/").filter { $0 != "." }.joined(separator: "/")
        if let earlier = claims[key] {
            fail(field, location, "\(earlier) is already mounted on '\(path)': every mount needs a path of its own")
        } else {
            claims[key] = owner
        }
    }

    mutating func efsMounts(_ instance: Fields, _ claims: inout MountClaims) -> [InstanceSpec.EFSMount] {
        var mounts: [InstanceSpec.EFSMount] = []
        for item in list(instance, "efs") {
            guard let fields = fields(item.value, path: item.path, allowed: keys(InstanceSpec.EFSMount.CodingKeys.self)) else { continue }
            let fileSystem = string(fields, "file_system", required: true)
            if let fileSystem {
                require(Self.isID(fileSystem, prefix: "fs-", digits: 8...17), fields, "file_system",
                        "expected an EFS file system id (fs- and 8 to 17 hex digits), got '\(fileSystem)'")
            }
            let accessPoint = string(fields, "access_point")
            if let accessPoint {
                require(Self.isID(accessPoint, prefix: "fsap-", digits: 17...17), fields, "access_point",
                        "expected an EFS access point id (fsap- and 17 hex digits), got '\(accessPoint)'")
            }
            let mount = mountPath(fields, claims: &claims)
            let iam = bool(fields, "iam", default: true)
            guard let fileSystem, let mount else { continue }
            mounts.append(InstanceSpec.EFSMount(fileSystem: fileSystem, mount: mount, accessPoint: accessPoint, iam: iam))
        }
        return mounts
    }

    mutating func s3Mounts(_ instance: Fields, _ claims: inout MountClaims) -> [InstanceSpec.S3Mount] {
        var mounts: [InstanceSpec.S3Mount] = []
        for item in list(instance, "s3_mounts") {
            guard let fields = fields(item.value, path: item.path, allowed: keys(InstanceSpec.S3Mount.CodingKeys.self)) else { continue }
            let bucket = string(fields, "bucket", required: true)
            if let bucket {
                require(Self.isBucketName(bucket), fields, "bucket",
                        "expected an S3 bucket name (3 to 63 lower-case letters, digits, '.' and '-', starting and ending with a letter or digit, not an IP address), got '\(bucket)'")
            }
            let prefix = string(fields, "prefix")
            if let prefix {
                let valid = prefix.hasSuffix("/") && !prefix.hasPrefix("/") && prefix.utf8.count <= 1024 && !prefix.unicodeScalars.contains { $0.properties.generalCategory == .control }
                require(valid, fields, "prefix", "expected a key prefix ending in '/' (not starting with one), such as exports/daily/, got '\(prefix)'")
            }
            let mount = mountPath(fields, claims: &claims)
            let readOnly = bool(fields, "read_only", default: true)
            guard let bucket, let mount else { continue }
            mounts.append(InstanceSpec.S3Mount(bucket: bucket, prefix: prefix, mount: mount, readOnly: readOnly))
        }
        return mounts
    }

    /// `token_secret`: a Secrets Manager secret's ARN or name.
    mutating func tokenSecret(_ code: Fields) -> String? {
        guard let secret = string(code, "token_secret") else { return nil }
        require(Self.isSecretID(secret), code, "token_secret",
                "expected a Secrets Manager secret's ARN (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME) or name (letters, digits, /_+=.@-), got '\(secret)'")
        if let repository = code["git"].flatMap({ if case .scalar(let text, _) = $0.kind { text } else { nil } }) {
            require(repository.hasPrefix("https://"), code, "git", "a repository read with token_secret must be an https:// URL (the token is sent only over TLS), got '\(repository)'")
        }
        return secret
    }

    /// A new mount's path: absolute and plain, so no two fields can name one place differently.
    private mutating func mountPath(_ fields: Fields, claims: inout MountClaims) -> String? {
        guard let path = string(fields, "mount", required: true) else { return nil }
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        let plain = path.hasPrefix("/") && !parts.isEmpty && parts.allSatisfy { !$0.isEmpty && $0 != "." && $0 != ".." }
            && !path.unicodeScalars.contains { $0.properties.generalCategory == .control } && path.utf8.count <= 4096
        guard plain else {
            fail(fields.path("mount"), fields.location("mount"), "expected an absolute path such as /mnt/shared (no '.', '..', '//' or trailing '/'), got '\(path)'")
            return nil
        }
        claim(path, by: fields.path, field: fields.path("mount"), location: fields.location("mount"), &claims)
        return path
    }

    static func isID(_ text: String, prefix: String, digits: ClosedRange<Int>) -> Bool {
        guard text.hasPrefix(prefix) else { return false }
        let hex = text.utf8.dropFirst(prefix.utf8.count)
        return digits.contains(hex.count) && hex.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0) }
    }

    /// S3's rules for general purpose bucket names (AmazonS3/latest/userguide/bucketnamingrules.html).
    static func isBucketName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        let edge: (UInt8) -> Bool = JobSpec.isLowerAlphanumeric
        guard (3...63).contains(bytes.count), let first = bytes.first, let last = bytes.last, edge(first), edge(last),
              bytes.allSatisfy({ edge($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }), !name.contains("..") else { return false }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        let address = labels.count == 4 && labels.allSatisfy { UInt8($0) != nil }
        let reservedPrefixes = ["xn--", "sthree-", "amzn-s3-demo-"]
        let reservedSuffixes = ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"]
        return !address && !reservedPrefixes.contains { name.hasPrefix($0) } && !reservedSuffixes.contains { name.hasSuffix($0) }
    }

    /// A secret's full or partial ARN, or its name (GetSecretValue's SecretId takes either).
    static func isSecretID(_ id: String) -> Bool {
        let nameCharacters: (UInt8) -> Bool = { JobSpec.isLowerAlphanumeric($0) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) || "/_+=.@-".utf8.contains($0) }
        let parts = id.split(separator: ":", maxSplits: 6, omittingEmptySubsequences: false)
        if parts.first == "arn" {
            return parts.count == 7 && parts[1].hasPrefix("aws") && parts[2] == "secretsmanager" && !parts[3].isEmpty
                && parts[4].count == 12 && parts[4].allSatisfy(\.isNumber) && parts[5] == "secret" && !parts[6].isEmpty
                && parts[6].utf8.count <= 512 && parts[6].utf8.allSatisfy(nameCharacters)
        }
        return (1...512).contains(id.utf8.count) && id.utf8.allSatisfy(nameCharacters)
    }
}
