import AWSCore
import AWSServices
import JobStore
import TableSchema

/// The job table as `sortie dev` makes it, from JobStore's own definition (keys, queue indexes, TTL):
/// every suite and benchmark that needs a table makes it here, so none can test against a shape the code never meets.
public func createJobTable(_ client: AWSClient, _ name: String) throws(AWSError) {
    let dynamoDB = DynamoDB(client: client)
    try dynamoDB.createTable(JobTable.definition(name))
    try dynamoDB.updateTimeToLive(tableName: name, attributeName: JobTable.ttlAttribute)
}
