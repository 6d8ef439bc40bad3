import Foundation
import MLAgentProtocol

/// The summary's account of which directions the paired bootstrap tells apart from the best.
extension SummaryReport {
    /// The directions whose best run is indistinguishable from the leader's, in rank order; nil
    /// when no direction could be compared with the leader (no interval, or fewer than two).
    static func indistinguishable(_ board: Leaderboard) -> [String]? {
        let compared = board.directions.filter { $0.vsLeader?.interval != nil }
        guard !compared.isEmpty else { return nil }
        return compared.filter { $0.vsLeader?.distinguishable == false }.map(\.direction)
    }

    /// "vs best −0.0120 [−0.0200, −0.0040]", with "≈" in front when indistinguishable; nil
    /// without a paired interval.
    static func versusBest(_ entry: LeaderboardEntry) -> String? {
        guard let versus = entry.vsLeader, let interval = versus.interval else { return nil }
        let mark = versus.distinguishable ? "" : "≈ "
        return "vs best \(mark)\(signed(versus.difference)) [\(signed(interval.low)), \(signed(interval.high))]"
    }

    /// The summary's sentence on significance, or nil when nothing was compared.
    static func significanceLine(_ board: Leaderboard) -> String? {
        guard let names = indistinguishable(board), let top = board.directions.first else { return nil }
        let method = "95% paired bootstrap of the public predictions, on the same rows"
        if names.isEmpty {
            return "Every other direction compared is distinguishable from the best, \(top.direction) (\(method))."
        }
        let listed = board.directions.filter { names.contains($0.direction) }.map { entry in
            "\(entry.direction) (\(signed(entry.vsLeader?.difference)))"
        }
        let verb = names.count == 1 ? "is" : "are"
        return "Indistinguishable from the best, \(top.direction) (\(method)): \(listed.joined(separator: ", ")) \(verb) within noise of it."
    }
}
