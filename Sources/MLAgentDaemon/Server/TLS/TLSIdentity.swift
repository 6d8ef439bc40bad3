import Crypto
import Foundation
import NIOSSL
import SwiftASN1
import X509

/// The TCP listener's certificate and key: the operator's PEM files (`tls_cert`, `tls_key`), or
/// a self-signed P-256 certificate generated at the first start into `<state_dir>/tls`
/// (`cert.pem`, `key.pem` mode 0600) and reused afterwards, so its fingerprint, which clients
/// pin, survives restarts.
struct TLSIdentity: Sendable {
    /// The certificate chain, leaf first.
    let chain: [NIOSSLCertificate]
    let key: NIOSSLPrivateKey
    /// Lowercase hex SHA-256 of the leaf certificate's DER: what `MLAGENT_TLS_FINGERPRINT` pins.
    let fingerprint: String

    /// Loads the configured pair, or the generated one (creating it when missing).
    static func prepare(config: DaemonConfig) throws -> TLSIdentity {
        if !config.tlsCert.isEmpty {
            return try load(certificate: config.tlsCert, key: config.tlsKey)
        }
        let directory = (config.stateDir as NSString).appendingPathComponent("tls")
        return try loadOrCreate(
            directory: directory, names: subjectAlternativeNames(advertise: config.advertisedHost, listenHost: config.listen?.host))
    }

    static func load(certificate: String, key: String) throws -> TLSIdentity {
        let chain: [NIOSSLCertificate]
        let privateKey: NIOSSLPrivateKey
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificate)
        } catch {
            throw ConfigError("cannot read the TLS certificate \(certificate) (daemon.tls_cert): \(error)")
        }
        do {
            privateKey = try NIOSSLPrivateKey(file: key, format: .pem)
        } catch {
            throw ConfigError("cannot read the TLS key \(key) (daemon.tls_key): \(error)")
        }
        guard let leaf = chain.first else {
            throw ConfigError("the TLS certificate file \(certificate) holds no PEM certificate")
        }
        return TLSIdentity(chain: chain, key: privateKey, fingerprint: try fingerprint(of: leaf))
    }

    /// `directory/cert.pem` and `key.pem` when both exist, else a new pair written there.
    static func loadOrCreate(directory: String, names: [GeneralName]) throws -> TLSIdentity {
        let certificatePath = (directory as NSString).appendingPathComponent("cert.pem")
        let keyPath = (directory as NSString).appendingPathComponent("key.pem")
        let manager = FileManager.default
        if manager.fileExists(atPath: certificatePath), manager.fileExists(atPath: keyPath) {
            return try load(certificate: certificatePath, key: keyPath)
        }
        do {
            try manager.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let (certificate, key) = try generate(names: names)
            // The key first: a pair is complete once cert.pem exists.
            try writeAtomically(key, to: keyPath, mode: 0o600)
            try writeAtomically(certificate, to: certificatePath, mode: 0o644)
        } catch let error as ConfigError {
            throw error
        } catch {
            throw ConfigError("cannot create a TLS certificate in \(directory): \(error)")
        }
        return try load(certificate: certificatePath, key: keyPath)
    }

    /// A self-signed certificate (PEM) for `names` and its P-256 key (PEM, PKCS#8).
    static func generate(names: [GeneralName], now: Date = Date()) throws -> (certificate: String, key: String) {
        let signingKey = P256.Signing.PrivateKey()
        let key = Certificate.PrivateKey(signingKey)
        let subject = try DistinguishedName {
            CommonName("mlagentd")
        }
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.notCertificateAuthority)
            Critical(KeyUsage(digitalSignature: true))
            try ExtendedKeyUsage([.serverAuth])
            SubjectAlternativeNames(names)
        }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: key.publicKey,
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(20 * 365 * 86400),
            issuer: subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256, extensions: extensions,
            issuerPrivateKey: key)
        return (try certificate.serializeAsPEM().pemString, signingKey.pemRepresentation)
    }

    /// The names the certificate is for: the advertised host, `localhost`, and the listen
    /// address unless it is a wildcard; IP literals as IP addresses, the rest as DNS names.
    static func subjectAlternativeNames(advertise: String, listenHost: String?) -> [GeneralName] {
        var hosts = [advertise, "localhost"]
        if let listenHost, !ListenAddress(host: listenHost, port: 0).isWildcard { hosts.append(listenHost) }
        var names: [GeneralName] = []
        for host in hosts where !host.isEmpty {
            let name: GeneralName = ListenAddress.ipBytes(host).map { .ipAddress(ASN1OctetString(contentBytes: $0[...])) }
                ?? .dnsName(host.lowercased())
            if !names.contains(name) { names.append(name) }
        }
        return names
    }

    static func fingerprint(of certificate: NIOSSLCertificate) throws -> String {
        SHA256.hash(data: try certificate.toDERBytes()).map { String(format: "%02x", $0) }.joined()
    }

    /// Writes `text` to a temporary file created with `mode`, then renames it over `path`.
    static func writeAtomically(_ text: String, to path: String, mode: mode_t) throws {
        let temporary = path + ".tmp-\(getpid())"
        unlink(temporary)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw ConfigError("cannot create \(temporary): \(String(cString: strerror(errno)))") }
        let bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, bytes.count - written) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else {
                let reason = String(cString: strerror(errno))
                close(fd)
                unlink(temporary)
                throw ConfigError("cannot write \(temporary): \(reason)")
            }
            written += count
        }
        fchmod(fd, mode)
        fsync(fd)
        close(fd)
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw ConfigError("cannot rename \(temporary) to \(path): \(reason)")
        }
    }
}
