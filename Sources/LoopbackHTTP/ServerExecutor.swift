import NIOPosix

/// Runs the servers' tasks on threads of their own rather than Swift's cooperative pool: a test
/// that blocks every cooperative thread (two on a 2-core machine) in synchronous work must not
/// leave the fake endpoint it is talking to unable to answer until the client times out.
final class ServerExecutor: TaskExecutor {
    static let shared = ServerExecutor(threads: 8)

    private let pool: NIOThreadPool

    private init(threads: Int) {
        pool = NIOThreadPool(numberOfThreads: threads)
        pool.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        pool.submit { _ in job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
