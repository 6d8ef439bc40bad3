/// Names one internal failure: the daemon logs the details under the id and sends the client
/// only the id, so no SQL, state path or stack detail ever leaves the daemon.
enum InternalErrorID {
    static func next() -> String {
        let value = UInt32.random(in: 0...UInt32.max)
        let hex = String(value, radix: 16)
        return "E-" + String(repeating: "0", count: 8 - hex.count) + hex
    }
}
