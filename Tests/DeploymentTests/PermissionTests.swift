import Deployment
import Foundation
import SortieTestSupport
import Testing

/// `functions/*.json`'s permissions where AWS authorizes more than an operation's own action: moto
/// checks the actions a test sends, but not tags at launch or on jobs, roles passed, a spot
/// service-linked role, or the listing that makes a missing spec 404. Which program sends what is
/// read from its code (`CodeOperations`).
@Suite("permissions")
struct PermissionTests {
    struct Statement {
        var actions: [String]
        var resources: [String]
        /// Test → key → values (one value or a list).
        var condition: [String: [String: [String]]]

        func condition(_ test: String, _ key: String) -> [String] { condition[test]?[key] ?? [] }
    }

    struct Definition {
        var name: String
        var product: String
        var kind: String
        var statements: [Statement]
        var allowed: Set<String> { Set(statements.flatMap(\.actions)) }
        func statements(with action: String) -> [Statement] { statements.filter { $0.actions.contains(action) } }
    }

    static let definitions: [Definition] = {
        let folder = Repository.root.appendingPathComponent("functions")
        let files = (try? FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)) ?? []
        return files.filter { $0.pathExtension == "json" }.sorted { $0.path < $1.path }.compactMap { file in
            guard let data = try? Data(contentsOf: file), let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let name = json["name"] as? String, let product = json["product"] as? String, let kind = json["kind"] as? String
            else { return nil }
            let statements = (json["permissions"] as? [[String: Any]] ?? []).map {
                Statement(
                    actions: $0["actions"] as? [String] ?? [], resources: $0["resources"] as? [String] ?? [],
                    condition: ($0["condition"] as? [String: [String: Any]] ?? [:]).mapValues { keys in
                        keys.mapValues { ($0 as? [String]) ?? ($0 as? String).map { [$0] } ?? [] }
                    })
            }
            return Definition(name: name, product: product, kind: kind, statements: statements)
        }
    }()

    static let code = Result { try CodeOperations(products: definitions.map(\.product)) }

    @Test("a SubmitJob that sends tags is allowed batch:TagResource on jobs")
    func tagsOnJobs() throws {
        let code = try Self.code.get()
        for definition in Self.definitions where code.actions[definition.product]?.contains("batch:SubmitJob") == true {
            guard code.names[definition.product]?.contains("tags") == true else { continue }
            let statements = definition.statements(with: "batch:TagResource")
            #expect(!statements.isEmpty, "\(definition.name) submits tagged jobs: without batch:TagResource Batch refuses every SubmitJob")
            for statement in statements {
                #expect(statement.resources.allSatisfy { $0.hasSuffix(":job/*") }, "\(definition.name): batch:TagResource only on jobs")
            }
        }
    }

    @Test("iam:PassRole names only the job instance profile's role, passed to EC2")
    func passRole() throws {
        let code = try Self.code.get()
        let instanceRoles = Set(Self.definitions.filter { $0.kind == "executable" }.map { "${\(FunctionDefinition.logicalID($0.name))Role.Arn}" })
        for definition in Self.definitions {
            let statements = definition.statements(with: "iam:PassRole")
            if code.actions[definition.product]?.contains("ec2:RunInstances") == true, code.names[definition.product]?.contains("instanceProfile") == true {
                #expect(!statements.isEmpty, "\(definition.name) launches instances with a profile: it needs iam:PassRole")
            }
            for statement in statements {
                #expect(statement.actions == ["iam:PassRole"], "\(definition.name): iam:PassRole in a statement of its own")
                #expect(!statement.resources.isEmpty && Set(statement.resources).isSubset(of: instanceRoles), "\(definition.name): passes \(statement.resources)")
                #expect(statement.condition("StringEquals", "iam:PassedToService") == ["ec2.amazonaws.com"], "\(definition.name)")
            }
        }
    }

    @Test("tags at launch: ec2:CreateTags only as part of RunInstances")
    func createTagsAtLaunch() throws {
        let code = try Self.code.get()
        for definition in Self.definitions {
            let statements = definition.statements(with: "ec2:CreateTags")
            if code.actions[definition.product]?.contains("ec2:RunInstances") == true {
                #expect(!statements.isEmpty, "\(definition.name) tags what it launches: EC2 needs ec2:CreateTags for it")
            }
            for statement in statements where code.actions[definition.product]?.contains("ec2:CreateTags") != true {
                #expect(statement.condition("StringEquals", "ec2:CreateAction") == ["RunInstances"], "\(definition.name): ec2:CreateTags without ec2:CreateAction")
            }
        }
    }

    @Test("spot: iam:CreateServiceLinkedRole for spot.amazonaws.com only")
    func spotServiceLinkedRole() throws {
        let code = try Self.code.get()
        for definition in Self.definitions {
            let statements = definition.statements(with: "iam:CreateServiceLinkedRole")
            if code.actions[definition.product]?.contains("ec2:RunInstances") == true, code.names[definition.product]?.contains("SpotOptions") == true {
                #expect(!statements.isEmpty, "\(definition.name) may launch spot: in an account that never used spot EC2 makes its role on the caller's permission")
            }
            for statement in statements {
                #expect(statement.actions == ["iam:CreateServiceLinkedRole"], "\(definition.name)")
                #expect(statement.condition("StringEquals", "iam:AWSServiceName") == ["spot.amazonaws.com"], "\(definition.name)")
                #expect(statement.resources.allSatisfy { $0.hasSuffix(":role/aws-service-role/spot.amazonaws.com/AWSServiceRoleForEC2Spot") }, "\(definition.name)")
            }
        }
    }

    @Test("whoever reads published specs may list specs/, so an unpublished one is 404, not 403")
    func specsListing() throws {
        let code = try Self.code.get()
        for definition in Self.definitions where code.names[definition.product]?.contains("SpecSource") == true {
            let listing = definition.statements(with: "s3:ListBucket").filter { $0.resources == ["arn:${AWS::Partition}:s3:::${ArtifactBucket}"] }
            #expect(listing.contains { $0.condition("StringLike", "s3:prefix") == ["specs/*"] }, "\(definition.name) reads specs without s3:ListBucket on specs/")
        }
    }
}
