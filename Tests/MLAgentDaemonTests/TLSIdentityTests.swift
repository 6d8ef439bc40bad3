import Crypto
import Foundation
@testable import MLAgentDaemon
import Testing
import X509

@Suite("TLS identity and TCP access")
struct TLSIdentityTests {
    @Test("the self-signed certificate names the advertised host, localhost and a specific listen IP")
    func subjectAlternativeNames() throws {
        let names = TLSIdentity.subjectAlternativeNames(advertise: "Node1.example", listenHost: "10.0.0.5")
        let (pem, _) = try TLSIdentity.generate(names: names)
        let certificate = try Certificate(pemEncoded: pem)
        let san = try #require(try certificate.extensions.subjectAlternativeNames)
        let listed = Array(san)
        #expect(listed.contains(.dnsName("node1.example")))
        #expect(listed.contains(.dnsName("localhost")))
        #expect(listed.contains(.ipAddress(.init(contentBytes: [10, 0, 0, 5]))))
        #expect(listed.count == 3)
        #expect(certificate.issuer == certificate.subject)

        let wildcard = TLSIdentity.subjectAlternativeNames(advertise: "::1", listenHost: "::")
        #expect(wildcard.count == 2)
        #expect(wildcard.contains(.ipAddress(.init(contentBytes: ([UInt8](repeating: 0, count: 15) + [1])[...]))))
        #expect(TLSIdentity.subjectAlternativeNames(advertise: "localhost", listenHost: "0.0.0.0") == [.dnsName("localhost")])
    }

    @Test("the pair is written once (key 0600) and reused, so the fingerprint survives restarts")
    func reusedAcrossStarts() throws {
        let directory = NSTemporaryDirectory() + "tls-identity-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let names = TLSIdentity.subjectAlternativeNames(advertise: "host", listenHost: "127.0.0.1")
        let first = try TLSIdentity.loadOrCreate(directory: directory, names: names)
        let second = try TLSIdentity.loadOrCreate(directory: directory, names: names)
        #expect(first.fingerprint == second.fingerprint)
        #expect(first.fingerprint.count == 64 && first.fingerprint.allSatisfy { "0123456789abcdef".contains($0) })
        let key = try FileManager.default.attributesOfItem(atPath: directory + "/key.pem")
        #expect((key[.posixPermissions] as? Int) == 0o600)
        // The fingerprint is the SHA-256 of the certificate's DER, as `openssl x509 -fingerprint -sha256` says.
        let pem = try String(contentsOfFile: directory + "/cert.pem", encoding: .utf8)
        let der = try #require(Data(base64Encoded: pem.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()))
        let certificate = try Certificate(derEncoded: Array(der))
        #expect(try certificate.extensions.subjectAlternativeNames != nil)
        #expect(SHA256.hash(data: der).map { String(format: "%02x", $0) }.joined() == first.fingerprint)
        let other = try TLSIdentity.loadOrCreate(directory: directory + "-other", names: names)
        defer { try? FileManager.default.removeItem(atPath: directory + "-other") }
        #expect(other.fingerprint != first.fingerprint)
    }

    @Test(
        "listen addresses",
        arguments: [
            ("0.0.0.0:7433", "0.0.0.0", 7433), ("[::]:7433", "::", 7433), ("127.0.0.1:0", "127.0.0.1", 0),
            ("node-1.cluster:80", "node-1.cluster", 80),
        ])
    func listenAddresses(text: String, host: String, port: Int) throws {
        let address = try #require(ListenAddress(parsing: text))
        #expect(address.host == host && address.port == port)
    }

    @Test("malformed listen addresses are refused", arguments: ["7433", ":7433", "::7433", "[::1]7433", "host:99999", "host:-1", "ho st:1", "[nothost]:1"])
    func badListenAddresses(text: String) {
        #expect(ListenAddress(parsing: text) == nil)
    }

    @Test("[daemon] listen, tls_cert/tls_key together, advertise")
    func config() throws {
        let config = try ConfigLoader.parse("[daemon]\nlisten = \"[::]:7433\"\nadvertise = \"head.example\"\n", source: "t.toml")
        #expect(config.listen == ListenAddress(host: "::", port: 7433) && config.advertisedHost == "head.example")
        #expect(throws: ConfigError.self) { try ConfigLoader.parse("[daemon]\ntls_cert = \"c.pem\"\n", source: "t.toml") }
        #expect(throws: ConfigError.self) { try ConfigLoader.parse("[daemon]\nlisten = \"nowhere\"\n", source: "t.toml") }
        #expect(throws: ConfigError.self) { try ConfigLoader.parse("[daemon]\nadvertise = \"a:1\"\n", source: "t.toml") }
        #expect(try ConfigLoader.parse("[daemon]\nlisten = \"\"\n", source: "t.toml").listen == nil)
    }

    @Test("the operator's secret compares whole")
    func operatorToken() {
        let access = RemoteAccess(operatorToken: "s3cret-operator-token")
        #expect(access.isOperatorToken("s3cret-operator-token"))
        #expect(!access.isOperatorToken("s3cret-operator-toke"))
        #expect(!access.isOperatorToken("s3cret-operator-token!"))
        #expect(!access.isOperatorToken(""))
        #expect(!RemoteAccess().isOperatorToken(""))
    }
}
