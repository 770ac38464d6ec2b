// swift-tools-version: 6.1
import PackageDescription

// Every bootstrap links only FoundationEssentials, libcurl, libcrypto and zlib:
// full Foundation (and Yams, which needs it) stays in the developer tools.
let package = Package(
    name: "Sortie",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "echo", targets: ["EchoFunction"]),
        .executable(name: "sortie-local", targets: ["SortieLocal"]),
        .executable(name: "runtime-bench", targets: ["RuntimeBench"]),
        .executable(name: "aws-bench", targets: ["AWSBench"]),
        .executable(name: "launcher", targets: ["LauncherFunction"]),
        .executable(name: "sortie-runner", targets: ["SortieRunner"]),
        .executable(name: "sortie", targets: ["SortieCLI"]),
        .executable(name: "launcher-bench", targets: ["LauncherBench"]),
        .executable(name: "retry-reactor", targets: ["RetryReactorFunction"]),
        .executable(name: "reactor-bench", targets: ["ReactorBench"]),
        .executable(name: "array-bench", targets: ["ArrayBench"]),
        .executable(name: "s3-submitter", targets: ["S3SubmitterFunction"]),
        .executable(name: "chunk-processor", targets: ["ChunkProcessorFunction"]),
        .executable(name: "chunk-bench", targets: ["ChunkBench"]),
        .executable(name: "kafka-bench", targets: ["KafkaBench"]),
        .executable(name: "sortie-fuzz", targets: ["SortieFuzz"]),
        .executable(name: "planning-bench", targets: ["PlanningBench"]),
        .executable(name: "report-bench", targets: ["ReportBench"]),
        .executable(name: "file-bench", targets: ["FileBench"]),
        .library(name: "LambdaRuntime", targets: ["LambdaRuntime"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.81.0"),
        // YAML job specs: the `sortie` CLI only (Yams needs full Foundation).
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    ],
    targets: [
        // C libraries, found through pkg-config. build.sh points pkg-config at a static libcurl.
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CLibCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        // glibc's posix_spawn extensions, for starting function processes with nothing of ours inherited.
        .systemLibrary(name: "CSpawn"),

        // HTTP over one reusable libcurl easy handle.
        .target(name: "CurlHTTP", dependencies: ["WallTime", "CCurl"]),

        // Sortie's release number, for every program's --version without linking more than it.
        .target(name: "SortieVersion"),
        .target(name: "JSONText"),
        // The one clock: Unix and monotonic milliseconds without Foundation, injectable where a test plays through time.
        .target(name: "WallTime"),
        // The Lambda Runtime API loop, its context, handler protocols and logging.
        .target(name: "LambdaRuntime", dependencies: [
            "WallTime", "CurlHTTP", "SortieVersion", "JSONText",
            .product(name: "Logging", package: "swift-log"),
        ]),

        // An HTTP/1.1 server on 127.0.0.1 answering with an async closure (developer side and tests).
        .target(name: "LoopbackHTTP", dependencies: [
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
        // Child processes as Lambda and EC2 start them: posix_spawn, an empty signal mask, no inherited fds.
        .target(name: "ChildProcesses", dependencies: ["CSpawn"]),
        // A Runtime API emulator on 127.0.0.1 and the function process it drives (developer side).
        .target(name: "LocalRuntime", dependencies: ["LoopbackHTTP", "ChildProcesses"]),

        // AWS over its wire protocols: SigV4, credentials, endpoints, retries, errors.
        .target(name: "AWSCore", dependencies: [
            "CurlHTTP", "CLibCrypto",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The operations Sortie calls, one file per service.
        .target(name: "AWSServices", dependencies: ["AWSCore"]),
        // How every function starts: its configuration read from the environment (every problem at once),
        // its AWS client built, both handed to its handler. Linked into every bootstrap: keep it tiny.
        .target(name: "FunctionStartup", dependencies: ["LambdaRuntime", "AWSCore"]),

        // Every metric Sortie emits and its Embedded Metric Format line: no Foundation, no AWS, shared by every function.
        .target(name: "EmbeddedMetrics", dependencies: ["JSONText"]),
        // The job model every handler shares: specs, records, states, retry rules, UserData, events; values and
        // pure decisions, FoundationEssentials only and no AWS.
        .target(name: "JobModel"),
        // The job table's schema, every item kind's: key layout, attribute names, indexes; no job model, so the chunk
        // functions link it within their zip budget. Optimised for size: -Osize saves 1.2 KB of the chunk processor's zip.
        .target(name: "TableSchema", dependencies: ["AWSServices"], swiftSettings: [.unsafeFlags(["-Osize"], .when(configuration: .release))]),
        // Every read and conditional write of the job table's jobs, slots and events; records as items; failure notices.
        .target(name: "JobStore", dependencies: ["WallTime", "JobModel", "TableSchema", "AWSCore", "AWSServices"]),
        // YAML job specs with line-precise errors, for the developer tools only.
        .target(name: "JobSpecYAML", dependencies: ["JobModel", .product(name: "Yams", package: "Yams")]),
        // Starting one job: its slots, then its EC2 instance, or its queue place; the launcher and the reactor both call it.
        .target(name: "JobLaunch", dependencies: [
            "WallTime", "EmbeddedMetrics", "JobModel", "JobStore", "FunctionStartup", "AWSCore", "AWSServices",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // An operator's cancel of a job, an array's children with it (sortie cancel, the demo).
        .target(name: "JobCancel", dependencies: ["JobModel", "JobStore", "AWSCore", "AWSServices"]),
        // Launch events into jobs: idempotency, dependencies, chains, dry runs; each job started by JobLaunch.
        .target(name: "Launcher", dependencies: [
            "WallTime", "JobLaunch", "JobModel", "JobStore", "AWSCore", "AWSServices",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "LauncherFunction", dependencies: ["AWSCore", "JobModel", "Launcher", "FunctionStartup", "LambdaRuntime"]),
        // Instance endings into decisions: retries, completions, the next queued job; the sweep.
        // Optimised for size: it is linked into a bootstrap beside JobLaunch, within the zip budget.
        .target(name: "Reactor", dependencies: [
            "WallTime", "EmbeddedMetrics", "JobLaunch", "FunctionStartup", "JobModel", "JobStore", "AWSCore", "AWSServices",
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: [.unsafeFlags(["-Osize"], .when(configuration: .release))]),
        .executableTarget(
            name: "RetryReactorFunction", dependencies: ["AWSCore", "Reactor", "FunctionStartup", "LambdaRuntime"], swiftSettings: [.unsafeFlags(["-Osize"], .when(configuration: .release))]),
        // Running a job's steps on its instance (or locally) and reporting them.
        .target(name: "JobRunner", dependencies: ["WallTime", "JobModel", "JobStore", "AWSCore", "AWSServices"]),
        .executableTarget(name: "SortieRunner", dependencies: ["JobRunner", "SortieVersion"]),
        // moto on a free loopback port, and running blocking work off the concurrency pool (tests and `sortie dev`).
        .target(name: "LocalAWS", dependencies: ["ChildProcesses"]),
        // The deployment as a library (developer side, full Foundation): `functions/<fn>.json` as
        // `FunctionDefinition`, the chunk worker's Batch job definition and the CloudFormation template.
        .target(name: "Deployment", dependencies: [
            "EmbeddedMetrics", "JobModel", "JobStore", "TableSchema", "SortieVersion", "S3Submitter", "ChunkStore", "AWSServices", .product(name: "Yams", package: "Yams"),
        ]),
        // What a job cost: each attempt's hours at its on-demand (Price List) or spot (price history) price, kept in the job table.
        .target(name: "JobCost", dependencies: ["WallTime", "JobModel", "JobStore", "TableSchema", "AWSCore", "AWSServices"]),
        // `sortie report`: the jobs, queues, files and failures of a deployment gathered, and drawn as one self-contained HTML page.
        .target(name: "JobReport", dependencies: ["AWSCore", "AWSServices", "ChunkStore", "JobCost", "JobLaunch", "JobModel", "JobStore", "CZlib"]),
        // `sortie dev`: moto as AWS, the deployment's resources, every function under the local Runtime API, an EC2 stand-in.
        .target(name: "DevEnvironment", dependencies: [
            "WallTime", "Deployment", "JobCancel", "JobLaunch", "JobReport", "LocalAWS", "LocalRuntime", "ChildProcesses", "LoopbackHTTP", "CurlHTTP", "JobModel", "JobStore", "JobCost", "TableSchema", "ChunkStore", "ChunkPlanning", "AWSCore", "AWSServices",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The developer's tool: validate and publish specs, run `sortie dev`.
        .executableTarget(name: "SortieCLI", dependencies: [
            .product(name: "Logging", package: "swift-log"),
            "JobSpecYAML", "JobModel", "JobStore", "JobCancel", "JobCost", "JobReport", "JobLaunch", "WallTime", "AWSCore", "AWSServices", "CurlHTTP", "SortieVersion", "Deployment", "DevEnvironment", "LocalAWS", "ChunkStore",
            .product(name: "ArgumentParser", package: "swift-argument-parser"), .product(name: "Yams", package: "Yams"),
        ]),

        // Record files: streaming gzip, RFC 4180 CSV and JSON Lines on bytes, record boundaries.
        .target(name: "RecordFormats", dependencies: ["CZlib"]),
        // Counting a file's records and cutting it into chunks; the feeds document and the chunk payload.
        .target(name: "ChunkPlanning", dependencies: ["RecordFormats", "JSONText"]),
        // What the submitter and the processor share on AWS: ranged S3 reads, the job table's FILE#/CHUNK#/S3EVENT# items.
        .target(name: "ChunkStore", dependencies: ["RecordFormats", "WallTime", "FunctionStartup", "AWSCore", "AWSServices", "ChunkPlanning", "TableSchema"]),
        // A Kafka producer for the bootstraps: record batches v2, idempotent, acks=all, SASL (SCRAM, OAUTHBEARER), TLS by libcurl.
        // Optimised for size: it joins the chunk processor's bootstrap, within the zip budget.
        .target(name: "KafkaProducer", dependencies: ["WallTime", "CurlHTTP", "CLibCrypto", "RecordFormats"],
            swiftSettings: [.unsafeFlags(["-Osize"], .when(configuration: .release))]),
        // Reading, validating and delivering one chunk.
        .target(name: "ChunkProcessing", dependencies: ["EmbeddedMetrics", "AWSCore", "AWSServices", "WallTime", "ChunkStore", "FunctionStartup", "ChunkPlanning", "RecordFormats", "KafkaProducer"]),
        // Turning S3 events into plans, Lambda invocations and Batch jobs.
        .target(name: "S3Submitter", dependencies: ["EmbeddedMetrics", "AWSCore", "AWSServices", "ChunkStore", "FunctionStartup", "ChunkPlanning", "RecordFormats"]),

        // Record files of any size generated on demand, and S3's object reads of them on loopback (tests and benchmarks).
        .target(name: "SimulatedObjects", dependencies: ["LoopbackHTTP", "RecordFormats", "CZlib"]),

        .executableTarget(name: "EchoFunction", dependencies: ["LambdaRuntime"]),
        .executableTarget(name: "S3SubmitterFunction", dependencies: ["AWSCore", "AWSServices", "ChunkPlanning", "ChunkStore", "WallTime", "FunctionStartup", "LambdaRuntime", "S3Submitter"]),
        .executableTarget(name: "ChunkProcessorFunction", dependencies: ["AWSCore", "AWSServices", "ChunkPlanning", "ChunkStore", "WallTime", "FunctionStartup", "LambdaRuntime", "ChunkProcessing"]),
        .executableTarget(name: "SortieLocal", dependencies: [
            "LocalRuntime",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "RuntimeBench", dependencies: [
            "LocalRuntime",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], path: "bench/RuntimeBench"),

        .executableTarget(name: "AWSBench", dependencies: ["AWSCore", "AWSServices"], path: "bench/AWSBench"),
        .executableTarget(name: "LauncherBench", dependencies: [.product(name: "Logging", package: "swift-log"), "Launcher", "JobModel", "JobStore", "AWSCore", "AWSServices", "LocalRuntime", "SortieTestSupport"], path: "bench/LauncherBench"),
        .executableTarget(name: "ReactorBench", dependencies: [.product(name: "Logging", package: "swift-log"), "Reactor", "ReactorTestSupport", "Launcher", "JobModel", "JobStore", "TableSchema", "AWSCore", "AWSServices", "SortieTestSupport"], path: "bench/ReactorBench"),
        .executableTarget(name: "ReportBench", dependencies: ["JobReport", "SortieTestSupport"], path: "bench/ReportBench"),
        .executableTarget(name: "ArrayBench", dependencies: [
            .product(name: "Logging", package: "swift-log"), "DevEnvironment", "JobModel", "JobStore", "AWSCore", "AWSServices", "LocalAWS",
            "SortieTestSupport",
        ], path: "bench/ArrayBench"),
        .executableTarget(name: "KafkaBench", dependencies: ["KafkaProducer", "WallTime"], path: "bench/KafkaBench"),
        .executableTarget(name: "ChunkBench", dependencies: ["ChunkPlanning", "ChunkProcessing", "RecordFormats", "CZlib"], path: "bench/ChunkBench"),
        // Every decoder fed by the outside world as a fuzz target; bench/fuzz.sh runs them under libFuzzer.
        .target(name: "FuzzTargets", dependencies: [
            "JobModel", "JobSpecYAML", "Reactor", "S3Submitter", "ChunkPlanning", "ChunkProcessing", "RecordFormats",
            "AWSCore", "AWSServices", "CurlHTTP",
        ], path: "bench/FuzzTargets"),
        .executableTarget(name: "SortieFuzz", dependencies: ["FuzzTargets"], path: "bench/Fuzz"),
        .executableTarget(
            name: "PlanningBench", dependencies: ["ChunkPlanning", "RecordFormats", "S3Submitter", "ChunkStore", "SimulatedObjects", "LocalAWS", "SortieTestSupport", "AWSCore", "AWSServices"],
            path: "bench/PlanningBench"),
        .executableTarget(
            name: "FileBench", dependencies: ["ChunkStore", "SortieTestSupport", "AWSCore", "AWSServices", "CurlHTTP"],
            path: "bench/FileBench"),

        // Test-only function that reports its context, sleeps, logs and fails on request.
        .executableTarget(name: "RuntimeProbe", dependencies: ["LambdaRuntime"], path: "Tests/Fixtures/RuntimeProbe"),
        // Test-only function that streams a patterned response of any size, failing mid-stream on request.
        .executableTarget(name: "StreamProbe", dependencies: ["LambdaRuntime"], path: "Tests/Fixtures/StreamProbe"),
        // Shared by the test targets and the benchmarks: moto server on loopback, the job table and a job
        // deployment in it, built executables, free ports, scripted fake servers.
        .target(name: "SortieTestSupport", dependencies: [
            "LoopbackHTTP", "LocalAWS", "AWSCore", "AWSServices", "JobModel", "JobReport", "JobStore", "TableSchema", "Deployment", "DevEnvironment",
            "ChunkPlanning", "ChunkStore",
        ]),
        // The runner's table writes without a runner, for the reactor's tests and benchmark.
        .target(name: "ReactorTestSupport", dependencies: ["WallTime", "JobModel", "JobStore", "AWSCore"]),

        // What several test targets share and may record issues with (so it imports Testing): kept under Tests/, linked by no benchmark.
        // AWS clients on moto and expecting AWSErrors, for AWSCoreTests and AWSServicesTests.
        .target(name: "AWSTestSupport", dependencies: [
            "AWSCore", "AWSServices", "CurlHTTP", "RecordFormats", "SortieTestSupport", .product(name: "Logging", package: "swift-log"),
        ], path: "Tests/AWSTestSupport"),
        // A `sortie dev` around a test, for DevEnvironmentTests and the operator commands' suites in SortieCLITests.
        .target(name: "DevTestSupport", dependencies: [
            "DevEnvironment", "SortieTestSupport", .product(name: "Logging", package: "swift-log"),
        ], path: "Tests/DevTestSupport"),
        // The submitter's and processor's world on moto, and plans checked against a simulated object's own boundaries.
        .target(name: "ChunkTestSupport", dependencies: [
            "AWSCore", "AWSServices", "ChunkPlanning", "ChunkStore", "DevEnvironment", "LocalRuntime", "SimulatedObjects", "SortieTestSupport",
        ], path: "Tests/ChunkTestSupport"),

        // One test target per module, named for it, a function's end-to-end suites with its module (LambdaRuntimeTests
        // covers the local Runtime API too); PackagingTests checks what ships.
        .testTarget(name: "CurlHTTPTests", dependencies: ["CurlHTTP", "LoopbackHTTP", "SortieTestSupport"]),
        .testTarget(name: "LambdaRuntimeTests", dependencies: [
            "CurlHTTP", .product(name: "Logging", package: "swift-log"), "LoopbackHTTP", "WallTime",
            "LambdaRuntime", "LocalRuntime", "SortieTestSupport", "EchoFunction", "RuntimeProbe", "StreamProbe", "SortieLocal",
        ]),
        .testTarget(name: "LoopbackHTTPTests", dependencies: ["LoopbackHTTP", "CurlHTTP"]),
        .testTarget(name: "ChildProcessesTests", dependencies: ["ChildProcesses"]),
        .testTarget(name: "LocalAWSTests", dependencies: ["LocalAWS"]),
        .testTarget(name: "AWSCoreTests", dependencies: [
            "AWSCore", "AWSServices", "AWSTestSupport", "CurlHTTP", "SortieTestSupport", .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "AWSServicesTests", dependencies: ["AWSServices", "AWSCore", "AWSTestSupport", "SortieTestSupport"]),
        .testTarget(name: "JobModelTests", dependencies: ["JobModel", "JobStore", "TableSchema", "JobSpecYAML", "AWSServices", "SortieTestSupport"]),
        .testTarget(name: "JobCancelTests", dependencies: ["JobCancel", "JobStore", "JobModel", "AWSCore", "AWSServices", "SortieTestSupport"]),
        .testTarget(name: "JobStoreTests", dependencies: ["JobStore", "JobModel", "TableSchema", "AWSCore", "AWSServices", "AWSTestSupport", "SortieTestSupport"]),
        .testTarget(name: "JobSpecYAMLTests", dependencies: ["JobSpecYAML", "JobModel", "SortieTestSupport"]),
        .testTarget(name: "LauncherTests", dependencies: [
            "WallTime",
            "Launcher", "JobModel", "JobStore", "TableSchema", "AWSCore", "AWSServices", "CurlHTTP", "LocalRuntime", "SortieTestSupport",
            .product(name: "Logging", package: "swift-log"),
            "LauncherFunction", "SortieRunner",
        ]),
        .testTarget(name: "ReactorTests", dependencies: [
            .product(name: "Logging", package: "swift-log"), "WallTime",
            "Reactor", "ReactorTestSupport", "Launcher", "JobLaunch", "JobModel", "JobStore", "TableSchema", "AWSCore", "AWSServices", "AWSTestSupport", "LocalRuntime", "SortieTestSupport", "DevEnvironment",
            "RetryReactorFunction", "SortieRunner",
        ]),
        .testTarget(name: "JobRunnerTests", dependencies: ["WallTime", "JobModel", "JobStore", "TableSchema", "AWSCore", "AWSServices", "SortieTestSupport", "DevEnvironment", "SortieRunner", "Deployment"]),
        .testTarget(name: "DeploymentTests", dependencies: [
            "Deployment", "EmbeddedMetrics", "SortieVersion", "S3Submitter", "ChunkStore", "TableSchema", "AWSServices", "SortieTestSupport",
            .product(name: "Yams", package: "Yams"),
        ]),
        .testTarget(name: "JSONTextTests", dependencies: ["JSONText"]),
        .testTarget(name: "JobCostTests", dependencies: ["JobCost", "JobModel", "JobStore", "TableSchema", "AWSCore", "AWSServices", "WallTime", "DevEnvironment", "SortieTestSupport"]),
        .testTarget(name: "EmbeddedMetricsTests", dependencies: ["EmbeddedMetrics", "SortieTestSupport"]),
        .testTarget(name: "DevEnvironmentTests", dependencies: [
            "DevEnvironment", "DevTestSupport", "Deployment", "JobModel", "JobStore", "WallTime", "AWSCore", "AWSServices", "SortieTestSupport",
            "LauncherFunction", "RetryReactorFunction", "S3SubmitterFunction", "ChunkProcessorFunction", "SortieRunner",
        ]),
        .testTarget(name: "SortieCLITests", dependencies: [
            "SortieCLI", "DevEnvironment", "DevTestSupport", "JobModel", "JobStore", "TableSchema", "AWSServices", "S3Submitter", "ChunkStore", "SortieTestSupport",
            .product(name: "Yams", package: "Yams"),
            // The operator commands run against a whole `sortie dev`.
            "LauncherFunction", "RetryReactorFunction", "S3SubmitterFunction", "ChunkProcessorFunction", "SortieRunner",
        ]),
        .testTarget(name: "JobReportTests", dependencies: [
            "JobReport", "JobLaunch", "JobModel", "JobStore", "ChunkStore", "ChunkPlanning", "AWSCore", "AWSServices", "WallTime", "CZlib",
            "ReactorTestSupport", "SortieTestSupport",
        ]),
        .testTarget(name: "RecordFormatsTests", dependencies: ["RecordFormats"]),
        .testTarget(name: "ChunkPlanningTests", dependencies: ["ChunkPlanning", "ChunkTestSupport", "RecordFormats", "SimulatedObjects"]),
        .testTarget(name: "ChunkStoreTests", dependencies: [
            "ChunkStore", "ChunkPlanning", "TableSchema", "AWSCore", "AWSServices", "AWSTestSupport", "CurlHTTP", "RecordFormats", "SortieTestSupport",
        ]),
        .testTarget(name: "S3SubmitterTests", dependencies: [
            "S3Submitter", "ChunkTestSupport", "ChunkPlanning", "ChunkStore", "FunctionStartup", "AWSCore", "AWSServices", "LocalRuntime",
            "SimulatedObjects", "SortieTestSupport",
            "S3SubmitterFunction",
        ]),
        .testTarget(name: "ChunkProcessingTests", dependencies: [
            "ChunkProcessing", "ChunkTestSupport", "S3Submitter", "ChunkStore", "ChunkPlanning", "RecordFormats", "AWSCore", "AWSServices", "LocalAWS", "LoopbackHTTP",
            "LocalRuntime", "SortieTestSupport", "WallTime",
            "S3SubmitterFunction", "ChunkProcessorFunction",
        ]),
        .testTarget(name: "KafkaProducerTests", dependencies: ["KafkaProducer", "AWSCore", "SortieTestSupport"]),
        .testTarget(name: "PackagingTests", dependencies: ["SortieTestSupport", "Deployment"]),
        .testTarget(name: "FuzzTargetsTests", dependencies: ["FuzzTargets"]),
    ]
)
