import Testing

/// Each definition's actions against the operations its program's code can send (`CodeOperations`):
/// an action missing is an AccessDenied in production, one no code needs is a grant to remove.
@Suite("action coverage")
struct ActionCoverageTests {
    /// An action granted though no operation the program sends is authorized as it. Where each
    /// is required, and on what, is PermissionTests' concern; here it is only let through.
    struct Companion {
        enum Evidence {
            /// An action the program sends: AWS checks the companion as part of it.
            case sends(String)
            /// A name the program's code reaches.
            case names(String)
            /// The role is an instance's (`kind: executable`): the user data runs under it before the program does.
            case instanceRole
        }

        var action: String
        var evidence: Evidence
        var why: String

        func holds(for definition: PermissionTests.Definition, sent: Set<String>, names: Set<String>) -> Bool {
            switch evidence {
            case .sends(let action): sent.contains(action)
            case .names(let name): names.contains(name)
            case .instanceRole: definition.kind == "executable"
            }
        }
    }

    static let companions: [Companion] = [
        // docs.aws.amazon.com/AWSEC2/latest/UserGuide/supported-iam-actions-tagging.html
        Companion(action: "ec2:CreateTags", evidence: .sends("ec2:RunInstances"), why: "RunInstances' TagSpecifications are authorized as ec2:CreateTags"),
        Companion(action: "iam:PassRole", evidence: .sends("ec2:RunInstances"), why: "an instance profile passes its role"),
        Companion(action: "iam:CreateServiceLinkedRole", evidence: .sends("ec2:RunInstances"), why: "the first spot launch in an account makes spot's role"),
        // AWSEC2/latest/UserGuide/finding-an-ami.html: `resolve:ssm:` images need ssm:GetParameters.
        Companion(action: "ssm:GetParameters", evidence: .sends("ec2:RunInstances"), why: "EC2 resolves a resolve:ssm: image with the caller's permission"),
        // The Service Authorization Reference for AWS Batch: SubmitJob with tags needs batch:TagResource.
        Companion(action: "batch:TagResource", evidence: .sends("batch:SubmitJob"), why: "a SubmitJob's tags are authorized as batch:TagResource"),
        // AmazonS3/latest/API/API_GetObject.html, API_HeadObject.html: "Permissions".
        Companion(action: "s3:ListBucket", evidence: .sends("s3:GetObject"), why: "without it a missing key is 403, not 404"),
        // JobModel's UserData: `aws s3 cp` of the runner (and of code published to S3).
        Companion(action: "s3:GetObject", evidence: .instanceRole, why: "the user data fetches the runner with the AWS CLI"),
        // JobModel's UserData mounts `instance.efs` and `instance.s3_mounts` before the runner starts: amazon-efs-utils
        // and Mountpoint for Amazon S3 act with the instance role (efs/latest/ug/iam-access-control-nfs-efs.html;
        // mountpoint-s3's doc/CONFIGURATION.md, "IAM permissions"), not Sortie's code.
        Companion(action: "elasticfilesystem:ClientMount", evidence: .instanceRole, why: "efs-utils mounts with -o iam"),
        Companion(action: "elasticfilesystem:ClientWrite", evidence: .instanceRole, why: "the job writes to its EFS mount"),
        Companion(action: "s3:ListBucket", evidence: .instanceRole, why: "Mountpoint lists a mounted bucket's keys"),
        Companion(action: "s3:DeleteObject", evidence: .instanceRole, why: "Mountpoint deletes in a writable mount (--allow-delete)"),
    ] + ["Connect", "DescribeTopic", "DescribeTopicDynamicConfiguration", "WriteData", "WriteDataIdempotently"].map {
        // Not AWS APIs: MSK authorizes the Kafka protocol's requests of a client signed in with an
        // IAM token (msk/latest/developerguide/kafka-actions.html, "Produce data idempotently").
        Companion(action: "kafka-cluster:\($0)", evidence: .names("MSKAuthToken"), why: "the Kafka producer signs in to MSK with IAM")
    }

    static let definitionNames = PermissionTests.definitions.map(\.name)

    @Test("every operation a program's code can send is allowed by its definition", arguments: definitionNames)
    func sentIsAllowed(_ name: String) throws {
        let definition = try #require(PermissionTests.definitions.first { $0.name == name })
        let code = try PermissionTests.code.get()
        let sent = try #require(code.sent[definition.product], "\(name): no product \(definition.product) in Package.swift")
        for (action, place) in sent.sorted(by: { $0.key < $1.key }) where !definition.allowed.contains(action) {
            Issue.record("\(name) lacks \(action): its code sends \(place)")
        }
    }

    @Test("every action a definition allows is sent by its program's code, or goes with one that is", arguments: definitionNames)
    func allowedIsSent(_ name: String) throws {
        let definition = try #require(PermissionTests.definitions.first { $0.name == name })
        let code = try PermissionTests.code.get()
        let sent = code.actions[definition.product] ?? []
        let names = code.names[definition.product] ?? []
        for action in definition.allowed.sorted() where !sent.contains(action) {
            let reasons = Self.companions.filter { $0.action == action && $0.holds(for: definition, sent: sent, names: names) }
            #expect(!reasons.isEmpty, "\(name) allows \(action), which no code of \(definition.product) sends: remove it")
        }
    }
}
