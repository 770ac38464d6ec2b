import AWSCore
import CurlHTTP
import Foundation
import Testing

/// One request of AWS's Signature Version 4 test suite (aws-sig-v4-test-suite, 2015-08-30) or of the
/// S3 SigV4 documentation examples, with the three published stages.
struct SigningVector: Sendable, CustomTestStringConvertible {
    var name: String
    var method: String
    var url: String
    var headers: [(String, String)] = []
    var body: String = ""
    var sessionToken: String?
    var canonicalRequest: String
    /// `nil` where the suite publishes only the canonical request and the signature.
    var stringToSign: String?
    var signature: String

    var testDescription: String { name }
}

private let suiteCredentials = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
private let suiteDate = AMZDate(timestamp: "20150830T123600Z")
private let host = ("Host", "example.amazonaws.com")
private let emptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
private let suiteToken = "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA=="

private func creq(_ lines: String...) -> String { lines.joined(separator: "\n") }
private func sts(_ hash: String) -> String {
    "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n\(hash)"
}

/// The suite's vectors, service `service`, region `us-east-1`, 2015-08-30T12:36:00Z.
let suiteVectors: [SigningVector] = [
    SigningVector(
        name: "get-vanilla", method: "GET", url: "https://example.amazonaws.com/", headers: [host],
        canonicalRequest: creq("GET", "/", "", "host:example.amazonaws.com", "x-amz-date:20150830T123600Z", "", "host;x-amz-date", emptyHash),
        stringToSign: sts("bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"),
        signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
    SigningVector(
        name: "get-vanilla-query-order-key-case", method: "GET", url: "https://example.amazonaws.com/?Param2=value2&Param1=value1", headers: [host],
        canonicalRequest: creq("GET", "/", "Param1=value1&Param2=value2", "host:example.amazonaws.com", "x-amz-date:20150830T123600Z", "", "host;x-amz-date", emptyHash),
        stringToSign: sts("816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0"),
        signature: "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"),
    SigningVector(
        name: "get-vanilla-query-unreserved", method: "GET",
        url: "https://example.amazonaws.com/?-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
        headers: [host],
        canonicalRequest: creq(
            "GET", "/", "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
            "host:example.amazonaws.com", "x-amz-date:20150830T123600Z", "", "host;x-amz-date", emptyHash),
        stringToSign: sts("c30d4703d9f799439be92736156d47ccfb2d879ddf56f5befa6d1d6aab979177"),
        signature: "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"),
    SigningVector(
        name: "get-vanilla-utf8-query", method: "GET", url: "https://example.amazonaws.com/?ሴ=bar", headers: [host],
        canonicalRequest: creq("GET", "/", "%E1%88%B4=bar", "host:example.amazonaws.com", "x-amz-date:20150830T123600Z", "", "host;x-amz-date", emptyHash),
        stringToSign: sts("eb30c5bed55734080471a834cc727ae56beb50e5f39d1bff6d0d38cb192a7073"),
        signature: "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"),
    SigningVector(
        name: "get-utf8", method: "GET", url: "https://example.amazonaws.com/ሴ", headers: [host],
        canonicalRequest: creq("GET", "/%E1%88%B4", "", "host:example.amazonaws.com", "x-amz-date:20150830T123600Z", "", "host;x-amz-date", emptyHash),
        stringToSign: sts("2a0a97d02205e45ce2e994789806b19270cfbbb0921b278ccf58f5249ac42102"),
        signature: "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"),
    SigningVector(
        name: "get-unreserved", method: "GET", url: "https://example.amazonaws.com/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
        headers: [host],
        canonicalRequest: creq(
            "GET", "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", "", "host:example.amazonaws.com",
            "x-amz-date:20150830T123600Z", "", "host;x-amz-date", emptyHash),
        stringToSign: sts("6a968768eefaa713e2a6b16b589a8ea192661f098f37349f4e2c0082757446f9"),
        signature: "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"),
    SigningVector(
        name: "normalize-path/get-space", method: "GET", url: "https://example.amazonaws.com/example space/", headers: [host],
        canonicalRequest: creq("GET", "/example%20space/", "", "host:example.amazonaws.com", "x-amz-date:20150830T123600Z", "", "host;x-amz-date", emptyHash),
        stringToSign: sts("63ee75631ed7234ae61b5f736dfc7754cdccfedbff4b5128a915706ee9390d86"),
        signature: "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741"),
    SigningVector(
        name: "normalize-path/get-slash-dot-slash", method: "GET", url: "https://example.amazonaws.com/./", headers: [host],
        canonicalRequest: creq("GET", "/", "", "host:example.amazonaws.com", "x-amz-date:20150830T123600Z", "", "host;x-amz-date", emptyHash),
        stringToSign: sts("bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"),
        signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
    SigningVector(
        name: "normalize-path/get-slashes", method: "GET", url: "https://example.amazonaws.com//example//", headers: [host],
        canonicalRequest: creq("GET", "/example/", "", "host:example.amazonaws.com", "x-amz-date:20150830T123600Z", "", "host;x-amz-date", emptyHash),
        signature: "9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84"),
    SigningVector(
        name: "normalize-path/get-slash-pointless-dot", method: "GET", url: "https://example.amazonaws.com/./example", headers: [host],
        canonicalRequest: creq("GET", "/example", "", "host:example.amazonaws.com", "x-amz-date:20150830T123600Z", "", "host;x-amz-date", emptyHash),
        signature: "ef75d96142cf21edca26f06005da7988e4f8dc83a165a80865db7089db637ec5"),
    SigningVector(
        name: "get-header-key-duplicate", method: "GET", url: "https://example.amazonaws.com/",
        headers: [host, ("My-Header1", "value2"), ("My-Header1", "value2"), ("My-Header1", "value1")],
        canonicalRequest: creq(
            "GET", "/", "", "host:example.amazonaws.com", "my-header1:value2,value2,value1", "x-amz-date:20150830T123600Z", "",
            "host;my-header1;x-amz-date", emptyHash),
        stringToSign: sts("dc7f04a3abfde8d472b0ab1a418b741b7c67174dad1551b4117b15527fbe966c"),
        signature: "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"),
    SigningVector(
        name: "get-header-value-order", method: "GET", url: "https://example.amazonaws.com/",
        headers: [host, ("My-Header1", "value4"), ("My-Header1", "value1"), ("My-Header1", "value3"), ("My-Header1", "value2")],
        canonicalRequest: creq(
            "GET", "/", "", "host:example.amazonaws.com", "my-header1:value4,value1,value3,value2", "x-amz-date:20150830T123600Z", "",
            "host;my-header1;x-amz-date", emptyHash),
        stringToSign: sts("31ce73cd3f3d9f66977ad3dd957dc47af14df92fcd8509f59b349e9137c58b86"),
        signature: "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01"),
    SigningVector(
        name: "get-header-value-trim", method: "GET", url: "https://example.amazonaws.com/",
        headers: [host, ("My-Header1", " value1"), ("My-Header2", " \"a   b   c\"")],
        canonicalRequest: creq(
            "GET", "/", "", "host:example.amazonaws.com", "my-header1:value1", "my-header2:\"a b c\"", "x-amz-date:20150830T123600Z", "",
            "host;my-header1;my-header2;x-amz-date", emptyHash),
        stringToSign: sts("a726db9b0df21c14f559d0a978e563112acb1b9e05476f0a6a1c7d68f28605c7"),
        signature: "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"),
    SigningVector(
        name: "post-vanilla", method: "POST", url: "https://example.amazonaws.com/", headers: [host],
        canonicalRequest: creq("POST", "/", "", "host:example.amazonaws.com", "x-amz-date:20150830T123600Z", "", "host;x-amz-date", emptyHash),
        stringToSign: sts("553f88c9e4d10fc9e109e2aeb65f030801b70c2f6468faca261d401ae622fc87"),
        signature: "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"),
    SigningVector(
        name: "post-vanilla-query", method: "POST", url: "https://example.amazonaws.com/?Param1=value1", headers: [host],
        canonicalRequest: creq("POST", "/", "Param1=value1", "host:example.amazonaws.com", "x-amz-date:20150830T123600Z", "", "host;x-amz-date", emptyHash),
        stringToSign: sts("9d659678c1756bb3113e2ce898845a0a79dbbc57b740555917687f1b3340fbbd"),
        signature: "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"),
    SigningVector(
        name: "post-header-key-sort", method: "POST", url: "https://example.amazonaws.com/", headers: [host, ("My-Header1", "value1")],
        canonicalRequest: creq(
            "POST", "/", "", "host:example.amazonaws.com", "my-header1:value1", "x-amz-date:20150830T123600Z", "", "host;my-header1;x-amz-date", emptyHash),
        stringToSign: sts("9368318c2967cf6de74404b30c65a91e8f6253e0a8659d6d5319f1a812f87d65"),
        signature: "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c"),
    SigningVector(
        name: "post-header-value-case", method: "POST", url: "https://example.amazonaws.com/", headers: [host, ("My-Header1", "VALUE1")],
        canonicalRequest: creq(
            "POST", "/", "", "host:example.amazonaws.com", "my-header1:VALUE1", "x-amz-date:20150830T123600Z", "", "host;my-header1;x-amz-date", emptyHash),
        signature: "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d"),
    SigningVector(
        name: "post-x-www-form-urlencoded", method: "POST", url: "https://example.amazonaws.com/",
        headers: [("Content-Type", "application/x-www-form-urlencoded"), host], body: "Param1=value1",
        canonicalRequest: creq(
            "POST", "/", "", "content-type:application/x-www-form-urlencoded", "host:example.amazonaws.com", "x-amz-date:20150830T123600Z", "",
            "content-type;host;x-amz-date", "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e"),
        stringToSign: sts("42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281"),
        signature: "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"),
    SigningVector(
        name: "post-x-www-form-urlencoded-parameters", method: "POST", url: "https://example.amazonaws.com/",
        headers: [("Content-Type", "application/x-www-form-urlencoded; charset=utf8"), host], body: "Param1=value1",
        canonicalRequest: creq(
            "POST", "/", "", "content-type:application/x-www-form-urlencoded; charset=utf8", "host:example.amazonaws.com",
            "x-amz-date:20150830T123600Z", "", "content-type;host;x-amz-date", "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e"),
        stringToSign: sts("2e1cf7ed91881a30569e46552437e4156c823447bf1781b921b5d486c568dd1c"),
        signature: "1a72ec8f64bd914b0e42e42607c7fbce7fb2c7465f63e3092b3b0d39fa77a6fe"),
    SigningVector(
        name: "post-sts-token/post-sts-header-before", method: "POST", url: "https://example.amazonaws.com/", headers: [host],
        sessionToken: suiteToken,
        canonicalRequest: creq(
            "POST", "/", "", "host:example.amazonaws.com", "x-amz-date:20150830T123600Z", "x-amz-security-token:\(suiteToken)", "",
            "host;x-amz-date;x-amz-security-token", emptyHash),
        stringToSign: sts("c237e1b440d4c63c32ca95b5b99481081cb7b13c7e40434868e71567c1a882f6"),
        signature: "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"),
]

private let s3Credentials = AWSCredentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
private func s3sts(_ hash: String) -> String { "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n\(hash)" }
private let s3Host = ("Host", "examplebucket.s3.amazonaws.com")

/// The S3 API reference's "Signature Calculations for the Authorization Header" examples,
/// 2013-05-24, us-east-1, `examplebucket`.
let s3Vectors: [SigningVector] = [
    SigningVector(
        name: "S3 GET Object with Range", method: "GET", url: "https://examplebucket.s3.amazonaws.com/test.txt",
        headers: [s3Host, ("Range", "bytes=0-9")],
        canonicalRequest: creq(
            "GET", "/test.txt", "", "host:examplebucket.s3.amazonaws.com", "range:bytes=0-9", "x-amz-content-sha256:\(emptyHash)",
            "x-amz-date:20130524T000000Z", "", "host;range;x-amz-content-sha256;x-amz-date", emptyHash),
        stringToSign: s3sts("7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972"),
        signature: "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"),
    SigningVector(
        name: "S3 PUT Object (key with $, signed once)", method: "PUT", url: "https://examplebucket.s3.amazonaws.com/test%24file.text",
        headers: [s3Host, ("Date", "Fri, 24 May 2013 00:00:00 GMT"), ("x-amz-storage-class", "REDUCED_REDUNDANCY")],
        body: "Welcome to Amazon S3.",
        canonicalRequest: creq(
            "PUT", "/test%24file.text", "", "date:Fri, 24 May 2013 00:00:00 GMT", "host:examplebucket.s3.amazonaws.com",
            "x-amz-content-sha256:44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072", "x-amz-date:20130524T000000Z",
            "x-amz-storage-class:REDUCED_REDUNDANCY", "", "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
            "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"),
        stringToSign: s3sts("9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d"),
        signature: "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"),
    SigningVector(
        name: "S3 GET Bucket Lifecycle (valueless query)", method: "GET", url: "https://examplebucket.s3.amazonaws.com/?lifecycle",
        headers: [s3Host],
        canonicalRequest: creq(
            "GET", "/", "lifecycle=", "host:examplebucket.s3.amazonaws.com", "x-amz-content-sha256:\(emptyHash)", "x-amz-date:20130524T000000Z",
            "", "host;x-amz-content-sha256;x-amz-date", emptyHash),
        stringToSign: s3sts("9766c798316ff2757b517bc739a67f6213b4ab36dd5da2f94eaebf79c77395ca"),
        signature: "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"),
    SigningVector(
        name: "S3 GET Bucket (List Objects)", method: "GET", url: "https://examplebucket.s3.amazonaws.com/?max-keys=2&prefix=J",
        headers: [s3Host],
        canonicalRequest: creq(
            "GET", "/", "max-keys=2&prefix=J", "host:examplebucket.s3.amazonaws.com", "x-amz-content-sha256:\(emptyHash)",
            "x-amz-date:20130524T000000Z", "", "host;x-amz-content-sha256;x-amz-date", emptyHash),
        stringToSign: s3sts("df57d21db20da04d7fa30298dd4488ba3a2b47ca3a489c74750e0f1e7df1b9b7"),
        signature: "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"),
]

@Suite("SigV4 signing")
struct SigV4Tests {
    private func sign(_ vector: SigningVector, credentials: AWSCredentials, region: String, service: String, style: SigningStyle, date: AMZDate)
        -> (HTTPRequest, SigV4Signer.Signature)
    {
        var request = HTTPRequest(method: vector.method, url: vector.url, headers: HTTPHeaders(vector.headers), body: Data(vector.body.utf8))
        var credentials = credentials
        credentials.sessionToken = vector.sessionToken
        let signature = SigV4Signer().sign(&request, credentials: credentials, region: region, service: service, style: style, date: date)
        return (request, signature)
    }

    @Test("aws-sig-v4-test-suite", arguments: suiteVectors)
    func suite(_ vector: SigningVector) {
        let (request, result) = sign(vector, credentials: suiteCredentials, region: "us-east-1", service: "service", style: .standard, date: suiteDate)
        #expect(result.canonicalRequest == vector.canonicalRequest)
        if let stringToSign = vector.stringToSign { #expect(result.stringToSign == stringToSign) }
        #expect(result.signature == vector.signature)
        let signedHeaders = vector.canonicalRequest.split(separator: "\n", omittingEmptySubsequences: false).dropLast().last.map(String.init) ?? ""
        #expect(request.headers["Authorization"] == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=\(signedHeaders), Signature=\(vector.signature)")
        #expect(request.headers["X-Amz-Date"] == "20150830T123600Z")
        #expect(request.headers["X-Amz-Content-Sha256"] == nil, "only S3 sends the payload hash header")
        #expect(request.headers["X-Amz-Security-Token"] == vector.sessionToken)
    }

    @Test("S3 documentation examples", arguments: s3Vectors)
    func s3(_ vector: SigningVector) {
        let (request, result) = sign(
            vector, credentials: s3Credentials, region: "us-east-1", service: "s3", style: .s3, date: AMZDate(timestamp: "20130524T000000Z"))
        #expect(result.canonicalRequest == vector.canonicalRequest)
        #expect(result.stringToSign == vector.stringToSign)
        #expect(result.signature == vector.signature)
        #expect(request.headers["X-Amz-Content-Sha256"] == Hashing.hex(Hashing.sha256(Data(vector.body.utf8))))
    }

    @Test("S3 keys are signed as sent; other services encode the path a second time and normalise it")
    func pathEncoding() {
        let wirePath: Substring = "/my%20bucket/a%2Bb/./c"
        #expect(SigV4Signer.canonicalURI(wirePath, style: .s3) == "/my%20bucket/a%2Bb/./c")
        #expect(SigV4Signer.canonicalURI(wirePath, style: .standard) == "/my%2520bucket/a%252Bb/c")
        // Lambda's function-name label: an ARN's colons travel as %3A and are signed as %253A.
        #expect(SigV4Signer.canonicalURI("/2015-03-31/functions/arn%3Aaws%3Alambda/invocations", style: .standard)
            == "/2015-03-31/functions/arn%253Aaws%253Alambda/invocations")
        #expect(URIEncoding.encode("photos/2024 üb$r.jpg", keepSlash: true) == "photos/2024%20%C3%BCb%24r.jpg")
        #expect(URIEncoding.encode("a/b") == "a%2Fb")
        #expect(URIEncoding.encode("a!b'c(d)e*f+g=h") == "a%21b%27c%28d%29e%2Af%2Bg%3Dh")
    }

    @Test("canonical query: decoded, re-encoded the AWS way, sorted by name then value")
    func canonicalQuery() {
        #expect(SigV4Signer.canonicalQuery("b=2&a=z&a=y&c") == "a=y&a=z&b=2&c=")
        #expect(SigV4Signer.canonicalQuery("key=a%20b&plus=1+2&slash=x/y") == "key=a%20b&plus=1%2B2&slash=x%2Fy")
        #expect(SigV4Signer.canonicalQuery("") == "")
    }

    @Test("the date stamp is computed without a formatter, across leap years and the epoch")
    func dates() {
        #expect(AMZDate(Date(timeIntervalSince1970: 1_440_938_160)).timestamp == "20150830T123600Z")
        #expect(AMZDate(Date(timeIntervalSince1970: 0)).timestamp == "19700101T000000Z")
        #expect(AMZDate(Date(timeIntervalSince1970: 951_782_399)).timestamp == "20000228T235959Z")
        #expect(AMZDate(Date(timeIntervalSince1970: 951_782_400)).timestamp == "20000229T000000Z")
        #expect(AMZDate(Date(timeIntervalSince1970: 4_107_542_400)).timestamp == "21000301T000000Z")
        #expect(AMZDate(Date(timeIntervalSince1970: 1_369_353_600.75)).dateStamp == "20130524")
    }

    @Test("a non-default port is part of the signed host; the default one is not")
    func hostHeader() {
        var request = HTTPRequest(method: "GET", url: "http://127.0.0.1:4566/")
        SigV4Signer().sign(&request, credentials: suiteCredentials, region: "us-east-1", service: "service", date: suiteDate)
        #expect(request.headers["Host"] == "127.0.0.1:4566")
        var tls = HTTPRequest(method: "GET", url: "https://sqs.eu-west-1.amazonaws.com:443/")
        SigV4Signer().sign(&tls, credentials: suiteCredentials, region: "eu-west-1", service: "sqs", date: suiteDate)
        #expect(tls.headers["Host"] == "sqs.eu-west-1.amazonaws.com")
    }
}
