import AWSCore
import AWSServices
import DevEnvironment

/// The job table as `sortie dev` makes it (`DevResources.createJobTable`, from the schema's own definition).
public func createJobTable(_ client: AWSClient, _ name: String) throws(AWSError) {
    try DevResources.createJobTable(DynamoDB(client: client), name)
}
