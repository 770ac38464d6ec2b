import ChildProcesses
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A moto server (a local AWS implementation) on 127.0.0.1, for tests and `sortie dev`, which talk
/// AWS's real wire protocols to it. `shared()` starts one per process, lazily; `start(environment:)`
/// starts a private one (for example with `INITIAL_NO_AUTH_ACTION_COUNT` to verify signatures).
/// Every server stops when the process that started it exits, however it exits: the child watches
/// its parent and quits when orphaned, and an exit handler terminates it on a normal exit.
public final class MotoServer: @unchecked Sendable {
    public let port: Int
    public let pid: Int32
    /// moto's own output, for diagnosing a failed start.
    public let logFile: URL

    public static let region = "us-east-1"
    /// moto's default account: every ARN it makes uses it.
    public static let accountID = "123456789012"
    /// The operator's credentials: with IAM enforced (`startConfigured`) an all-access user's
    /// (the CLI's and the tests' set-up), otherwise fake ones moto takes unchecked.
    public static let accessKeyID = "AKIAMOTOTESTING00000"
    public static let secretAccessKey = "moto-testing-secret"
    /// The IAM user those credentials belong to when IAM is enforced.
    public static let operatorUser = "sortie-operator"

    public var endpoint: String { "http://127.0.0.1:\(port)" }

    /// What a child process (a function, the launcher) needs in its environment to reach this
    /// server with the AWS SDK conventions: fake credentials, a region, `AWS_ENDPOINT_URL`, no IMDS.
    public var environment: [String: String] {
        [
            "AWS_ACCESS_KEY_ID": Self.accessKeyID,
            "AWS_SECRET_ACCESS_KEY": Self.secretAccessKey,
            "AWS_REGION": Self.region,
            "AWS_DEFAULT_REGION": Self.region,
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_EC2_METADATA_DISABLED": "true",
        ]
    }

    private init(port: Int, pid: Int32, logFile: URL) {
        self.port = port
        self.pid = pid
        self.logFile = logFile
    }

    private static let sharedLock = NSLock()
    nonisolated(unsafe) private static var sharedResults: [Bool: Result<MotoServer, any Error>] = [:]

    /// The process-wide server, started on first use with Batch and Lambda in their no-Docker
    /// mode; a failed start is remembered so every caller reports the same cause quickly.
    public static func shared() throws -> MotoServer {
        try lazilyStarted(serialized: false)
    }

    /// A second process-wide server that handles one request at a time. moto's threaded server
    /// checks a condition and writes in separate steps, and rolls a failed transaction back by
    /// restoring a copy of the whole table, undoing writes made meanwhile by other requests:
    /// concurrency tests that rely on DynamoDB's atomic conditional writes use this one.
    public static func serialized() throws -> MotoServer {
        try lazilyStarted(serialized: true)
    }

    /// `shared()` awaited off Swift's cooperative threads: the first use waits seconds for moto,
    /// and later ones wait on it, which on those few threads would stall every other task meanwhile.
    public static func shared() async throws -> MotoServer {
        try await blocking { try lazilyStarted(serialized: false) }
    }

    /// `serialized()` awaited off Swift's cooperative threads (see the async `shared()`).
    public static func serialized() async throws -> MotoServer {
        try await blocking { try lazilyStarted(serialized: true) }
    }

    private static func lazilyStarted(serialized: Bool) throws -> MotoServer {
        sharedLock.lock()
        defer { sharedLock.unlock() }
        if let result = sharedResults[serialized] { return try result.get() }
        let result = Result { try startConfigured(serialized: serialized) }
        sharedResults[serialized] = result
        return try result.get()
    }

    /// A new server with Batch and Lambda in their no-Docker mode and IAM enforced (see `iamPatches`);
    /// `serialized`: one request at a time (see `serialized()`).
    public static func startConfigured(serialized: Bool) throws -> MotoServer {
        var environment = ["SORTIE_MOTO_IAM": "1"]
        if serialized { environment["SORTIE_MOTO_SERIALIZED"] = "1" }
        let server = try start(environment: environment)
        try server.configure(#"{"batch": {"use_docker": false}, "lambda": {"use_docker": false}}"#)
        return server
    }

    /// A new server with `environment` added to moto's; waits at most `readiness` for it to answer.
    public static func start(environment extra: [String: String] = [:], readiness: TimeInterval = 60) throws -> MotoServer {
        var lastError: any Error = MotoError.notStarted("no attempt made")
        for _ in 0..<3 {  // a port taken between probing and binding: try another
            do {
                return try launch(environment: extra, readiness: readiness)
            } catch {
                lastError = error
            }
        }
        throw lastError
    }

    private static func launch(environment extra: [String: String], readiness: TimeInterval) throws -> MotoServer {
        let port = try LoopbackHTTP.freePort()
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("moto-\(port)-\(UUID().uuidString.prefix(8)).log")
        let exitStatus = Mutex<Int32?>(nil)
        let python = try pythonExecutable()
        let process = try ChildProcess.spawn(
            executable: python, arguments: ["-c", watchdogScript, String(port), iamPatches, transactionPatch + idempotencyPatch + ec2TagPatch],
            environment: ProcessInfo.processInfo.environment.merging(extra) { _, new in new }, output: .file(log.path)
        ) { status in exitStatus.withLock { $0 = status } }
        let server = MotoServer(port: port, pid: process.pid, logFile: log)
        register(server.pid)

        let deadline = Date().addingTimeInterval(readiness)
        while Date() < deadline {
            if let status = exitStatus.withLock({ $0 }) {
                throw MotoError.notStarted("moto exited with status \(status): \(server.logTail())")
            }
            if let answer = try? LoopbackHTTP.request(port: port, method: "GET", path: "/moto-api/", timeout: 2), answer.status == 200 {
                return server
            }
            usleep(100_000)
        }
        server.stop()
        throw MotoError.notStarted("moto did not answer on port \(port) within \(Int(readiness)) s: \(server.logTail())")
    }

    /// `python3` from PATH (posix_spawn does not search it).
    private static func pythonExecutable() throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for folder in path.split(separator: ":") where FileManager.default.isExecutableFile(atPath: "\(folder)/python3") {
            return "\(folder)/python3"
        }
        throw MotoError.notStarted("python3 is not on PATH")
    }

    /// POSTs moto's runtime configuration (`/moto-api/config`).
    public func configure(_ json: String) throws {
        let answer = try LoopbackHTTP.request(port: port, method: "POST", path: "/moto-api/config", body: Data(json.utf8))
        guard (200..<300).contains(answer.status) else { throw MotoError.notStarted("moto refused its configuration: HTTP \(answer.status)") }
    }

    public func stop() {
        kill(pid, SIGTERM)
        Self.unregister(pid)
    }

    public func logTail(_ characters: Int = 2000) -> String {
        guard let data = try? Data(contentsOf: logFile) else { return "(no log)" }
        return String(decoding: data.suffix(characters), as: UTF8.self)
    }

    public enum MotoError: Error, CustomStringConvertible {
        case notStarted(String)
        public var description: String {
            switch self {
            case .notStarted(let detail): "moto server not available: \(detail) (is `moto[server]` installed for python3?)"
            }
        }
    }

    /// Quits when its parent (the test or `sortie dev` process) is gone, then runs moto's server.
    private static let watchdogScript = """
        import json, os, sys, threading, time
        parent = os.getppid()
        def watch():
            while os.getppid() == parent:
                time.sleep(0.5)
            os._exit(0)
        threading.Thread(target=watch, daemon=True).start()
        if os.environ.get("SORTIE_MOTO_SERIALIZED") == "1":
            from moto.moto_server.werkzeug_app import DomainDispatcherApplication
            one_at_a_time = threading.Lock()
            dispatch = DomainDispatcherApplication.__call__
            def serialized(self, environ, start_response):
                with one_at_a_time:
                    return dispatch(self, environ, start_response)
            DomainDispatcherApplication.__call__ = serialized
        if os.environ.get("SORTIE_MOTO_IAM") == "1":
            exec(sys.argv[2])
        exec(sys.argv[3])
        from moto.server import main
        main(["-H", "127.0.0.1", "-p", sys.argv[1]])
        """

    /// moto backs a table up before a transaction, to roll it back: a deep copy of the whole table,
    /// once per action (a transaction of 100 puts copied a 10,000-item table 100 times), and a
    /// terabyte's plan held that many copies at once until moto was killed for memory. A transaction
    /// can only change the items it names, so those are backed up instead, and restored when it is
    /// cancelled or refused; moto's own "copy" of a table is the table itself while it runs.
    private static let transactionPatch = """
        import copy, threading
        from moto.dynamodb import models as dynamodb_models
        from moto.dynamodb.models.dynamo_type import DynamoType
        from moto.dynamodb.models.table import Table
        class TablesKeptInPlace:
            def __init__(self):
                self.during = threading.local()
            def __getattr__(self, name):
                return getattr(copy, name)
            def deepcopy(self, value, memo=None):
                if getattr(self.during, "transaction", False) and isinstance(value, Table):
                    return value
                return copy.deepcopy(value, memo)
        kept = TablesKeptInPlace()
        dynamodb_models.copy = kept
        def named_items(backend, transact_items):
            for action in transact_items:
                for operation in action.values():
                    table = backend.tables.get(operation.get("TableName")) if isinstance(operation, dict) else None
                    attributes = (operation.get("Key") or operation.get("Item") or {}) if table else {}
                    if table is None or table.hash_key_attr not in attributes:
                        continue
                    if table.range_key_attr is not None and table.range_key_attr not in attributes:
                        continue
                    hash_value = DynamoType(attributes[table.hash_key_attr])
                    range_value = DynamoType(attributes[table.range_key_attr]) if table.range_key_attr else None
                    yield table, hash_value, range_value
        def restore(table, hash_value, range_value, item):
            if range_value is None:
                if item is None:
                    table.items.pop(hash_value, None)
                else:
                    table.items[hash_value] = item
            elif item is None:
                table.items.get(hash_value, {}).pop(range_value, None)
            else:
                table.items[hash_value][range_value] = item
        transact = dynamodb_models.DynamoDBBackend.transact_write_items
        def transact_write_items(self, transact_items, *arguments, **options):
            backups = [(table, hash_value, range_value, copy.deepcopy(table.get_item(hash_value, range_value)))
                       for table, hash_value, range_value in named_items(self, transact_items)]
            kept.during.transaction = True
            try:
                return transact(self, transact_items, *arguments, **options)
            except BaseException:
                for backup in reversed(backups):
                    restore(*backup)
                raise
            finally:
                kept.during.transaction = False
        dynamodb_models.DynamoDBBackend.transact_write_items = transact_write_items
        """

    /// An EC2 resource's tags read from its own entry: moto finds them by scanning every tag of every
    /// resource, so a DescribeInstances with a tag filter cost the square of the instances listed (an
    /// array of a thousand children spent 60% of moto's time there, and slowed to a crawl).
    private static let ec2TagPatch = """

        from moto.ec2.models.core import TaggedEC2Resource
        from moto.ec2.utils import EC2_PREFIX_TO_RESOURCE, get_prefix
        def own_tags(self):
            if not self.id:
                return []
            kind = EC2_PREFIX_TO_RESOURCE.get(get_prefix(self.id), "")
            return [{"resource_id": self.id, "key": key, "value": value, "resource_type": kind}
                    for key, value in self.ec2_backend.tags.get(self.id, {}).items()]
        TaggedEC2Resource.get_tags = own_tags
        """

    /// TransactWriteItems' `ClientRequestToken` as DynamoDB honours it (moto ignores it): within 10
    /// minutes, the same token with the same items is answered as the first call was, without
    /// running again; with other items it is `IdempotentParameterMismatchException`.
    private static let idempotencyPatch = """

        import json, threading, time
        from moto.dynamodb.exceptions import DynamodbException
        from moto.dynamodb.responses import DynamoHandler
        class IdempotentParameterMismatch(DynamodbException):
            def __init__(self):
                super().__init__("com.amazonaws.dynamodb.v20120810#IdempotentParameterMismatchException",
                                 "The request uses the same client token as a previous, but non-identical request.")
        answered, answered_lock = {}, threading.Lock()
        transact_answer = DynamoHandler.transact_write_items
        def idempotent_transact(self):
            token = self.body.get("ClientRequestToken")
            if token is None:
                return transact_answer(self)
            items = json.dumps(self.body["TransactItems"], sort_keys=True, default=repr)  # binary values are bytes
            with answered_lock:
                for old in [key for key, (_, at, _) in answered.items() if time.time() - at > 600]:
                    del answered[old]
                if token in answered:
                    if answered[token][0] != items:
                        raise IdempotentParameterMismatch()
                    return answered[token][2]
            answer = transact_answer(self)
            with answered_lock:
                answered[token] = (items, time.time(), answer)
            return answer
        DynamoHandler.transact_write_items = idempotent_transact
        """

    /// IAM as AWS enforces it, as far as moto can (`SORTIE_MOTO_IAM=1`): every request after
    /// start-up must be signed by a known user's key, or an assumed role's key with its session
    /// token, whose policies allow its action. The signature itself is not recomputed here: moto
    /// recomputes it from its parsed request (a form body re-encoded, a path decoded) and refuses
    /// valid ones; `SignatureVerificationTests` check signing on a server with moto's own check. moto 5.2.1 checks the action of every service, the resource only for S3
    /// (bucket, bucket/key), SQS (queue) and IAM/STS (role), and evaluates no condition outside
    /// trust policies. These patches add: each action named as IAM names it (moto says `batch:submitjob`, `sqs:SendMessageBatch`, `monitoring:PutMetricData`); DynamoDB's table or index as the resource, and a
    /// transaction authorized item by item (`PutItem`, `UpdateItem`, …: IAM has no
    /// `TransactWriteItems`); a resource moto cannot name is checked on the action alone; a
    /// missing key is 403 to a caller without `s3:ListBucket` on the bucket, as S3 answers.
    /// Then the operator user (`accessKeyID`, allowed everything) is made, and enforcement starts.
    private static let iamPatches = """
        from moto import settings
        from moto.core.authorization import ActionAuthenticatorMixin
        from moto.iam.access_control import IAMPolicyStatement, IAMRequest, IAMRequestBase, S3IAMRequest
        from moto.iam.models import iam_backends

        from urllib.parse import urlparse
        def _signed_path(self):
            parsed = urlparse(self.uri)
            return parsed.path + ("?" + parsed.query if parsed.query else "")

        def enforcing():
            return ActionAuthenticatorMixin.request_count >= settings.INITIAL_NO_AUTH_ACTION_COUNT

        # moto recomputes a signature from the request as it parsed it (a form body re-encoded from its
        # fields, a path decoded), which refuses valid signatures: the key and session token are still
        # checked, the signature by SignatureVerificationTests on a server of their own.
        IAMRequestBase.check_signature = lambda self: None

        # The IAM action a request needs, as AWS names it: moto names REST-JSON operations by their
        # lower-cased path (batch:submitjob), and SQS's batch operations by themselves.
        import botocore.session
        _operations = {}
        _IAM_ACTIONS = {"sqs:SendMessageBatch": "sqs:SendMessage", "sqs:DeleteMessageBatch": "sqs:DeleteMessage",
                        "sqs:ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility", "lambda:Invoke": "lambda:InvokeFunction"}
        def _operation(service, name):
            if service not in _operations:
                try:
                    model = botocore.session.get_session().get_service_model(service)
                    _operations[service] = {operation.lower(): operation for operation in model.operation_names}
                except Exception:
                    _operations[service] = {}
            return _operations[service].get(name, name)
        _request_init = IAMRequestBase.__init__
        def _init_with_iam_action(self, *arguments, **options):
            _request_init(self, *arguments, **options)
            service, _, name = self._action.partition(":")
            # CloudWatch is reached (and named by moto) as `monitoring`, authorized as `cloudwatch`.
            if service == "monitoring":
                service = "cloudwatch"
            if name.islower():
                name = _operation(service, name)
            self._action = _IAM_ACTIONS.get(f"{service}:{name}", f"{service}:{name}")
        IAMRequestBase.__init__ = _init_with_iam_action

        # moto names a request's resource only for S3, SQS, IAM roles and STS AssumeRole, and "*" for
        # every other service: a statement naming resources would then never match. "*" means unknown
        # here, so such a request is checked on its action alone.
        _matches = IAMPolicyStatement._check_element_matches
        def _check_element_matches(self, element, value):
            if element in ("Resource", "NotResource") and value == "*":
                return element == "Resource"
            return _matches(self, element, value)
        IAMPolicyStatement._check_element_matches = _check_element_matches

        # DynamoDB: the table (or index) a request names is its resource; a transaction is authorized
        # item by item, as the action each item is (IAM has no dynamodb:TransactWriteItems).
        from moto.dynamodb.responses import DynamoHandler
        def _table_arn(self, name, index=None):
            arn = f"arn:aws:dynamodb:{self.region}:{self.current_account}:table/{name}"
            return f"{arn}/index/{index}" if index else arn
        def _determine_resource(self):
            body = self.body if isinstance(self.body, dict) else {}
            name = body.get("TableName")
            return _table_arn(self, name, body.get("IndexName")) if isinstance(name, str) else "*"
        DynamoHandler._determine_resource = _determine_resource
        _TRANSACT = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem"}
        _authorize = DynamoHandler._authenticate_and_authorize_normal_action
        def _authorize_dynamodb(self, resource="*"):
            if self._get_action() != "TransactWriteItems" or not enforcing():
                return _authorize(self, resource)
            for item in (self.body or {}).get("TransactItems", []):
                for kind, detail in item.items():
                    request = IAMRequest(account_id=self.current_account, method=self.method, path=_signed_path(self), data=self.data,
                                         body=self.raw_body, headers=self.headers, action=_TRANSACT.get(kind, kind))
                    request.check_signature()
                    request.check_action_permitted(_table_arn(self, detail.get("TableName", "*")))
        DynamoHandler._authenticate_and_authorize_normal_action = _authorize_dynamodb

        # S3 answers a missing key with 403, not 404, to a caller that may not list the bucket.
        from moto.s3.exceptions import MissingKey
        from moto.s3.responses import S3Response
        def _require_listing(self):
            if not enforcing():
                return
            request = S3IAMRequest(account_id=self.current_account, method=self.method, path=_signed_path(self), data=self.data,
                                   body=self.raw_body, headers=self.headers, action="ListBucket")
            request.check_action_permitted(f"arn:aws:s3:::{self.bucket_name}")
        def _listing_required(method):
            def wrapped(self, *arguments, **options):
                try:
                    answer = method(self, *arguments, **options)
                except MissingKey:
                    _require_listing(self)
                    raise
                if isinstance(answer, tuple) and answer and answer[0] == 404:
                    _require_listing(self)
                return answer
            return wrapped
        S3Response._key_response_get = _listing_required(S3Response._key_response_get)
        S3Response.head_object = _listing_required(S3Response.head_object)

        # The operator: an all-access user whose key is the one `MotoServer` hands out.
        iam = iam_backends["\(accountID)"]["aws"]
        iam.create_user("us-east-1", "\(operatorUser)")
        iam.put_user_policy("\(operatorUser)", "all-access", json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
        key = iam.create_access_key("\(operatorUser)")
        key.access_key_id = "\(accessKeyID)"
        key.secret_access_key = "\(secretAccessKey)"
        settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
        """

    // The servers still running, terminated by an exit handler.
    private static let registryLock = NSLock()
    nonisolated(unsafe) private static var running: Set<Int32> = []
    nonisolated(unsafe) private static var exitHandlerInstalled = false

    private static func register(_ pid: Int32) {
        registryLock.lock()
        defer { registryLock.unlock() }
        running.insert(pid)
        if !exitHandlerInstalled {
            exitHandlerInstalled = true
            atexit { MotoServer.terminateAll() }
        }
    }

    private static func unregister(_ pid: Int32) {
        registryLock.lock()
        running.remove(pid)
        registryLock.unlock()
    }

    private static func terminateAll() {
        registryLock.lock()
        let pids = running
        running.removeAll()
        registryLock.unlock()
        for pid in pids { kill(pid, SIGTERM) }
    }
}

/// A loopback socket or exchange failed.
public struct LoopbackHTTPError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// Loopback plumbing: a free port, and one blocking HTTP/1.0 exchange (moto's admin API).
public enum LoopbackHTTP {
    /// A TCP socket bound to 127.0.0.1 on a port the kernel chose; the caller closes it.
    public static func boundSocket() throws -> (descriptor: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw LoopbackHTTPError(message: "socket: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Int32 in
                guard bind(fd, pointer, length) == 0 else { return -1 }
                return getsockname(fd, pointer, &length)
            }
        }
        guard bound == 0 else {
            close(fd)
            throw LoopbackHTTPError(message: "bind/getsockname: errno \(errno)")
        }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }

    /// A port on 127.0.0.1 that nothing listens on right now.
    public static func freePort() throws -> Int {
        let socket = try boundSocket()
        close(socket.descriptor)
        return socket.port
    }

    private static func connect(_ fd: Int32, port: Int) -> Int32 {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
    }

    /// Whether something accepts TCP connections on 127.0.0.1:`port` now.
    public static func connects(port: Int) throws -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw LoopbackHTTPError(message: "socket: errno \(errno)") }
        defer { close(fd) }
        return connect(fd, port: port) == 0
    }

    public static func request(port: Int, method: String, path: String, body: Data = Data(), timeout: Int = 10) throws -> (status: Int, body: Data) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw LoopbackHTTPError(message: "socket: errno \(errno)") }
        defer { close(fd) }
        var limit = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        guard connect(fd, port: port) == 0 else { throw LoopbackHTTPError(message: "connect to 127.0.0.1:\(port): errno \(errno)") }
        var message = Data("\(method) \(path) HTTP/1.0\r\nHost: 127.0.0.1:\(port)\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n".utf8)
        message.append(body)
        let sent = message.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        guard sent == message.count else { throw LoopbackHTTPError(message: "send: errno \(errno)") }
        var answer = Data()
        var buffer = [UInt8](repeating: 0, count: 16_384)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count == 0 { break }
            guard count > 0 else { throw LoopbackHTTPError(message: "recv: errno \(errno)") }
            answer.append(contentsOf: buffer[0..<count])
        }
        guard let headerEnd = answer.firstRange(of: Data("\r\n\r\n".utf8)),
              let statusLine = String(data: answer[..<headerEnd.lowerBound], encoding: .utf8)?.split(separator: "\r\n").first,
              let status = statusLine.split(separator: " ").dropFirst().first.flatMap({ Int($0) })
        else { throw LoopbackHTTPError(message: "not an HTTP answer from 127.0.0.1:\(port)") }
        return (status, Data(answer[headerEnd.upperBound...]))
    }
}
