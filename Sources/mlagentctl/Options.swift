public import ArgumentParser
import Foundation
import MLAgentClient
public import MLAgentProtocol

/// Flags every command shares.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "Path of mlagentd's socket.")
    var socket: String?

    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false

    /// Connects, runs `body`, and turns every failure into a one-line message and exit code.
    /// With `idempotent` (calls that change nothing, or that the daemon deduplicates), an
    /// agent's call that loses its connection before the reply (a reset, or EOF from a daemon
    /// that died mid-request) is sent again once the daemon is back, for up to 90 seconds.
    func withClient<T>(timeout: Duration? = .seconds(60), idempotent: Bool = false, _ body: (Client) throws -> T) throws -> T {
        do {
            let token = ProcessInfo.processInfo.environment["MLAGENT_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
            let deadline = ContinuousClock.now + .seconds(90)
            var delay = 0.1
            while true {
                let client = try connect(timeout: timeout, patient: token != nil)
                client.connection.token = token
                do {
                    return try body(client)
                } catch let error as ClientError where error.isConnectionLoss {
                    client.connection.close()
                    guard idempotent, token != nil, ContinuousClock.now < deadline else { throw error }
                    Thread.sleep(forTimeInterval: delay)
                    delay = min(delay * 2, 2)
                }
            }
        } catch let error as ClientError {
            Output.error(error.description)
            if case .cannotConnect = error { throw ExitCode(69) }
            throw ExitCode.failure
        }
    }

    /// Agents (with a token) wait up to a minute for a daemon that is restarting; operators
    /// get the error at once.
    private func connect(timeout: Duration?, patient: Bool) throws -> Client {
        let deadline = ContinuousClock.now + .seconds(60)
        var delay = 0.1
        while true {
            do {
                return try Client(socket: socket, timeout: timeout)
            } catch let error as ClientError where error.isConnectionLoss {
                // A refused connection, or one the daemon accepted and lost before its hello
                // (it died or is restarting): an agent waits for the daemon to come back.
                guard patient, ContinuousClock.now < deadline else { throw error }
                Thread.sleep(forTimeInterval: delay)
                delay = min(delay * 2, 2)
            }
        }
    }

    /// Sends `request`, and after a lost connection reconnects (agents wait up to 90 seconds
    /// for a restarting daemon) and sends it again. Only for idempotent requests.
    func resending<Request, Reply>(
        request: Request, client: inout Client, _ call: (Client, Request) throws -> Reply
    ) throws -> Reply {
        let deadline = ContinuousClock.now + .seconds(90)
        let token = client.connection.token
        var delay = 0.1
        while true {
            do {
                return try call(client, request)
            } catch let error as ClientError where error.isConnectionLoss {
                client.connection.close()
                // A daemon killed mid-request may still accept a connection while it dies, so
                // failures while reconnecting are retried too.
                while true {
                    guard ContinuousClock.now < deadline else { throw error }
                    do {
                        client = try connect(timeout: .seconds(60), patient: true)
                        client.connection.token = token
                        break
                    } catch let retry as ClientError where retry.isConnectionLoss {
                        Thread.sleep(forTimeInterval: delay)
                        delay = min(delay * 2, 2)
                    }
                }
            }
        }
    }

    func printJSON(_ value: some Encodable) throws {
        let data = try JSONCoding.line(value)
        Output.line(String(decoding: data, as: UTF8.self))
    }
}

enum Output {
    static func line(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    /// `HH:MM:SS` (UTC) of a time, for progress lines.
    static func clock(_ date: Date) -> String {
        String(Timestamp.format(date).dropFirst(11).prefix(8))
    }

    static func progress(_ text: String) {
        FileHandle.standardError.write(Data("\(text)\n".utf8))
    }

    static func score(_ value: Double?) -> String {
        guard let value else { return "-" }
        return String(format: "%.4f", value)
    }

    static func interval(_ interval: ScoreInterval?) -> String {
        guard let interval else { return "" }
        return " (95% CI \(score(interval.low))–\(score(interval.high)))"
    }

    /// A titled list, skipped when empty.
    static func section(_ title: String, _ items: [String]) {
        guard !items.isEmpty else { return }
        line("  \(title):")
        for item in items { line("    \(item)") }
    }

    /// Prints `text` as an error and returns the exit code of a refused request (1): for
    /// input the daemon would refuse anyway (bad files, bad values).
    static func refuse(_ text: String) -> ExitCode {
        error(text)
        return ExitCode.failure
    }

    static func error(_ text: String) {
        FileHandle.standardError.write(Data("mlagentctl: \(text)\n".utf8))
    }

    /// Renders rows as an aligned table with a header.
    static func table(_ header: [String], _ rows: [[String]]) -> String {
        var widths = header.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count {
                widths[index] = max(widths[index], cell.count)
            }
        }
        func render(_ row: [String]) -> String {
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
        return ([render(header)] + rows.map(render)).joined(separator: "\n")
    }

    static func time(_ date: Date?) -> String {
        guard let date else { return "-" }
        return Timestamp.format(date)
    }

    static func duration(seconds: Double) -> String {
        var remaining = Int(seconds)
        let days = remaining / 86400
        remaining %= 86400
        let hours = remaining / 3600
        remaining %= 3600
        let minutes = remaining / 60
        let secs = remaining % 60
        if days > 0 { return "\(days)d\(hours)h\(minutes)m" }
        if hours > 0 { return "\(hours)h\(minutes)m\(secs)s" }
        if minutes > 0 { return "\(minutes)m\(secs)s" }
        return "\(secs)s"
    }

    static func direction(_ job: Job) -> String {
        job.direction.isEmpty ? "(agent picks)" : job.direction
    }
}

extension JobState: ExpressibleByArgument {}
