import ArgumentParser

/// Global options written before the subcommand (`mlagentctl --socket PATH status`, as
/// `git -C DIR` and `kubectl --context NAME` work) are moved behind the subcommand's name, where
/// each command's `GlobalOptions` reads them.
enum LeadingOptions {
    /// Options that take a value, and flags, that every command accepts.
    static let valued: Set<String> = ["--socket"]
    static let flags: Set<String> = ["--json"]

    static func reorder(_ arguments: [String], root: any ParsableCommand.Type) -> [String] {
        var leading: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            let name = argument.split(separator: "=", maxSplits: 1).first.map(String.init) ?? argument
            if valued.contains(name) {
                if argument.contains("=") {
                    leading.append(argument)
                    index += 1
                } else if index + 1 < arguments.count {
                    leading += [argument, arguments[index + 1]]
                    index += 2
                } else {
                    break
                }
            } else if flags.contains(argument) {
                leading.append(argument)
                index += 1
            } else {
                break
            }
        }
        guard !leading.isEmpty else { return arguments }
        // The subcommand path that follows (e.g. `run start`), then the moved options.
        var path: [String] = []
        var command = root
        while index < arguments.count,
            let next = command.configuration.subcommands.first(where: { $0.configuration.commandName == arguments[index] })
        {
            path.append(arguments[index])
            command = next
            index += 1
        }
        // Without a subcommand (`mlagentctl --socket X` alone) the root's own parser answers.
        guard !path.isEmpty else { return arguments }
        return path + leading + arguments[index...]
    }
}
