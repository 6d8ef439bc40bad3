import Foundation
import MLAgentProtocol

/// The leaderboard's `VS LEADER` column: each best run against the leader's, paired on the same
/// public rows.
enum LeaderColumn {
    /// "-0.0120 [-0.0200, -0.0040]", marked "≈" when the interval includes 0; "leader" for the
    /// leader; "-" when there is nothing to compare.
    static func cell(_ entry: LeaderboardEntry, rank: Int) -> String {
        guard let versus = entry.vsLeader else { return rank == 1 && entry.publicScore != nil ? "leader" : "-" }
        guard let interval = versus.interval else { return signed(versus.difference) }
        let mark = versus.distinguishable ? "" : "≈ "
        return "\(mark)\(signed(versus.difference)) [\(signed(interval.low)), \(signed(interval.high))]"
    }

    /// What the column means, and who is indistinguishable from the leader; nil when nothing was
    /// compared.
    static func footnote(_ board: Leaderboard) -> String? {
        let compared = board.directions.filter { $0.vsLeader?.interval != nil }
        guard !compared.isEmpty, let leader = board.directions.first else { return nil }
        let same = compared.filter { $0.vsLeader?.distinguishable == false }.map(\.direction)
        let meaning =
            "VS LEADER: best run − the leader's on the same public rows (95% paired bootstrap); ≈ marks an interval that includes 0"
        let who = same.isEmpty
            ? "every direction compared is distinguishable from \(leader.direction)"
            : "indistinguishable from \(leader.direction): \(same.joined(separator: ", "))"
        return "\(meaning); \(who)."
    }

    static func signed(_ value: Double) -> String { String(format: "%+.4f", value) }
}
