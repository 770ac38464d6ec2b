import AWSCore

/// IAM, only for what a local deployment needs: the roles Batch and Lambda are given, and the
/// roles `sortie dev` and the tests run each function under.
public struct IAM: Sendable {
    let query: QueryProtocolClient

    public init(client: AWSClient) {
        query = QueryProtocolClient(client: client, service: .iam, version: "2010-05-08")
    }

    /// A role that `servicePrincipal` (e.g. `lambda.amazonaws.com`) may assume; returns its ARN.
    public func createRole(name: String, servicePrincipal: String) throws(AWSError) -> String {
        try createRole(name: name, trustPolicy: """
            {"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"\(servicePrincipal)"},"Action":"sts:AssumeRole"}]}
            """)
    }

    /// A role with the trust policy `trustPolicy` (a JSON policy document); returns its ARN.
    public func createRole(name: String, trustPolicy: String) throws(AWSError) -> String {
        var parameters = QueryParameters()
        parameters.add("RoleName", name)
        parameters.add("AssumeRolePolicyDocument", trustPolicy)
        let root = try query.call("CreateRole", parameters)
        guard let arn = root["CreateRoleResult", "Role", "Arn"]?.text, !arn.isEmpty else {
            throw AWSError(kind: .invalidResponse, service: "IAM", operation: "CreateRole", code: "InvalidResponse", message: "no Role Arn in the answer")
        }
        return arn
    }

    /// Sets the role's inline policy `policyName` to `document` (a JSON policy document).
    public func putRolePolicy(roleName: String, policyName: String, document: String) throws(AWSError) {
        var parameters = QueryParameters()
        parameters.add("RoleName", roleName)
        parameters.add("PolicyName", policyName)
        parameters.add("PolicyDocument", document)
        _ = try query.call("PutRolePolicy", parameters)
    }
}
