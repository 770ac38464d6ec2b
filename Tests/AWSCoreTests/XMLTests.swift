import AWSCore
import Foundation
import Testing

@Suite("XML reader")
struct XMLTests {
    @Test("prolog, namespaces, attributes, entities (named and numeric), CDATA and comments")
    func document() throws {
        let root = try XML.parse("""
            \u{FEFF}<?xml version="1.0" encoding="UTF-8"?>
            <!DOCTYPE note [<!ELEMENT note ANY>]>
            <!-- a comment before the root -->
            <ns:RunInstancesResponse xmlns:ns="http://ec2.amazonaws.com/doc/2016-11-15/" a='x > y' b="1">
              <requestId>r-1</requestId>
              <text>a &lt; b &amp;&amp; c &gt; d &quot;q&quot; &apos;s&apos; &#233;&#x1F600;</text>
              <cdata><![CDATA[<not> & markup]]></cdata>
              <empty/>
              <empty2 attr="v" />
              <instancesSet>
                <item><instanceId>i-1</instanceId></item>
                <!-- inside -->
                <item><instanceId>i-2</instanceId></item>
              </instancesSet>
            </ns:RunInstancesResponse>
            <!-- trailing -->
            """)
        #expect(root.name == "RunInstancesResponse")
        #expect(root.string("requestId") == "r-1")
        #expect(root.string("text") == "a < b && c > d \"q\" 's' é😀")
        #expect(root.string("cdata") == "<not> & markup")
        #expect(root.string("empty") == "")
        #expect(root.child("empty2") != nil)
        #expect(root.items("instancesSet").map { $0.string("instanceId") } == ["i-1", "i-2"])
        #expect(root["instancesSet", "item", "instanceId"]?.text == "i-1")
        #expect(root.first(named: "instanceId")?.text == "i-1")
        #expect(root.child("missing") == nil)
    }

    @Test("malformed documents are refused", arguments: [
        "<a><b></a></b>", "<a>", "<a>&bogus;</a>", "text<a/>", "<a/><b/>", "", "<a><![CDATA[never closed</a>", "<a attr=\"unterminated></a>",
    ])
    func malformed(_ text: String) {
        #expect(throws: XML.ParseError.self) { try XML.parse(text) }
    }

    @Test("escaping for element text and attributes")
    func escape() throws {
        #expect(XML.escape(#"<a href="x">&'</a>"#) == "&lt;a href=&quot;x&quot;&gt;&amp;&apos;&lt;/a&gt;")
        let round = try XML.parse("<v>\(XML.escape("1 < 2 & \"ok\""))</v>")
        #expect(round.text == "1 < 2 & \"ok\"")
    }
}
