/// What Sortie needs to know about a service to reach and sign for it.
public struct AWSService: Sendable, Hashable, CustomStringConvertible {
    /// For messages: `DynamoDB`.
    public var name: String
    /// The SigV4 service name in the credential scope: `dynamodb`, `logs`.
    public var signingName: String
    /// The first label of the regional host: `dynamodb`.`us-east-1`.amazonaws.com.
    public var endpointPrefix: String
    /// The `<SERVICE>` of `AWS_ENDPOINT_URL_<SERVICE>`, as the SDKs spell it.
    public var environmentKey: String
    public var signingStyle: SigningStyle
    /// Global services (IAM) have one host and sign for one region.
    public var globalHost: String?
    public var globalSigningRegion: String?

    public init(
        name: String, signingName: String, endpointPrefix: String? = nil, environmentKey: String,
        signingStyle: SigningStyle = .standard, globalHost: String? = nil, globalSigningRegion: String? = nil
    ) {
        self.name = name
        self.signingName = signingName
        self.endpointPrefix = endpointPrefix ?? signingName
        self.environmentKey = environmentKey
        self.signingStyle = signingStyle
        self.globalHost = globalHost
        self.globalSigningRegion = globalSigningRegion
    }

    public var description: String { name }

    public static let ec2 = AWSService(name: "EC2", signingName: "ec2", environmentKey: "EC2")
    public static let dynamoDB = AWSService(name: "DynamoDB", signingName: "dynamodb", environmentKey: "DYNAMODB")
    public static let batch = AWSService(name: "Batch", signingName: "batch", environmentKey: "BATCH")
    public static let s3 = AWSService(name: "S3", signingName: "s3", environmentKey: "S3", signingStyle: .s3)
    public static let sqs = AWSService(name: "SQS", signingName: "sqs", environmentKey: "SQS")
    public static let sns = AWSService(name: "SNS", signingName: "sns", environmentKey: "SNS")
    /// CloudWatch signs and is reached as `monitoring`.
    public static let cloudWatch = AWSService(name: "CloudWatch", signingName: "monitoring", environmentKey: "CLOUDWATCH")
    public static let lambda = AWSService(name: "Lambda", signingName: "lambda", environmentKey: "LAMBDA")
    public static let cloudWatchLogs = AWSService(name: "CloudWatchLogs", signingName: "logs", environmentKey: "CLOUDWATCH_LOGS")
    public static let iam = AWSService(
        name: "IAM", signingName: "iam", environmentKey: "IAM", globalHost: "iam.amazonaws.com", globalSigningRegion: "us-east-1")
    public static let sts = AWSService(name: "STS", signingName: "sts", environmentKey: "STS")
    /// The Price List API: one endpoint, in us-east-1, answers for every region's prices.
    public static let pricing = AWSService(
        name: "Pricing", signingName: "pricing", endpointPrefix: "api.pricing", environmentKey: "PRICING",
        globalHost: "api.pricing.us-east-1.amazonaws.com", globalSigningRegion: "us-east-1")
    /// Its service id is "Secrets Manager": `AWS_ENDPOINT_URL_SECRETS_MANAGER`.
    public static let secretsManager = AWSService(name: "SecretsManager", signingName: "secretsmanager", environmentKey: "SECRETS_MANAGER")
    /// The SSO portal (GetRoleCredentials): bearer-token calls, not SigV4.
    public static let sso = AWSService(name: "SSO", signingName: "awsssoportal", endpointPrefix: "portal.sso", environmentKey: "SSO")
}
