public import Foundation

/// Shared encoder and decoder settings for the wire format: snake_case keys are spelled out
/// by `CodingKeys`, dates travel as ISO 8601 strings with milliseconds, output is compact.
public enum JSONCoding {
    public static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    public static var decoder: JSONDecoder {
        JSONDecoder()
    }

    /// Encodes one value as one line (without the trailing newline).
    public static func line(_ value: some Encodable) throws -> Data {
        try encoder.encode(value)
    }
}
