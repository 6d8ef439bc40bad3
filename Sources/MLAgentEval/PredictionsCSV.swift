public import Foundation

/// Parsing of the one-column CSV files the daemon scores: an agent's predictions and the
/// daemon's own targets.
///
/// `PredictionsCSV` owns the file format and its error messages. The format: a header line (any
/// single name that is not a number), then one number per line; `\n` or `\r\n` line endings; the
/// final newline optional and trailing empty lines ignored; a UTF-8 byte order mark tolerated;
/// values optionally wrapped in double quotes and surrounded by spaces or tabs. Numbers are
/// decimal (`0.5`, `-1`, `.5`, `1e-3`); NaN, infinities and hexadecimal floats are rejected.
///
/// Every error names the file and, where there is one, the line, and says what to write instead.
/// The parser scans bytes (`memchr` for line ends) and converts each value in place with
/// ``DecimalParser`` (correctly rounded, `strtod` as the fallback), without building a `String`
/// per line.
public enum PredictionsCSV {
    /// Parses an agent's predictions: exactly `expectedRows` values, each acceptable to `metric`
    /// (probabilities in [0, 1] for roc_auc and log_loss, 0/1 labels for f1, integer labels for
    /// accuracy).
    ///
    /// - Parameters:
    ///   - name: the file name used in messages, for example "preds.csv".
    ///   - rowsFile: the features file whose rows the predictions must follow, used in messages.
    public static func parse(
        _ data: Data,
        expectedRows: Int,
        metric: EvalMetric,
        name: String,
        rowsFile: String = "val_public_X.csv"
    ) throws(EvalError) -> [Double] {
        let split = "the split has \(EvalFormat.count(expectedRows, "row", "rows")), one per row of \(rowsFile) in order"
        guard
            let values = try scan(
                data, name: name, noun: "prediction", reserve: min(max(expectedRows, 0), data.count / 2 + 1))
        else {
            throw EvalError("\(name) is empty: write a header line and one prediction per row")
        }
        guard !values.isEmpty else {
            throw EvalError("\(name) has a header line but no prediction rows; \(split)")
        }
        guard values.count == expectedRows else {
            throw EvalError(
                "\(name) has \(EvalFormat.count(values.count, "prediction row", "prediction rows")); \(split)")
        }
        if let (first, rejected) = metric.rejectedPredictions(in: values) {
            let verb = metric.needsProbabilities ? "out of range" : "not"
            throw EvalError(
                "\(name) line \(first + 2): \(values[first]) is \(metric.rejectedPredictionPhrase); "
                    + "\(metric.displayName) needs \(metric.predictionRequirement), and "
                    + "\(EvalFormat.count(rejected)) of \(EvalFormat.count(values.count)) predictions "
                    + "\(rejected == 1 ? "is" : "are") \(verb)")
        }
        return values
    }

    /// Parses a targets file (the daemon's `val_*_y.csv`): any number of finite values after the
    /// header. Whether they suit a metric is checked when scoring.
    public static func parseTargets(_ data: Data, name: String) throws(EvalError) -> [Double] {
        guard let values = try scan(data, name: name, noun: "target", reserve: 0) else {
            throw EvalError("\(name) is empty: it needs a header line and one target per row")
        }
        guard !values.isEmpty else {
            throw EvalError("\(name) has a header line but no target rows")
        }
        return values
    }

    // MARK: - Scanning

    /// The values after the header, or nil when the file has no header (nothing but empty lines).
    /// Value `k` (from 0) is on line `k + 2`: the header must be line 1 and empty lines may only
    /// come at the end.
    private static func scan(_ data: Data, name: String, noun: String, reserve: Int) throws(EvalError) -> [Double]? {
        // A copy with a terminating NUL, so that strtod can never read past the end.
        var bytes: [UInt8] = []
        bytes.reserveCapacity(data.count + 1)
        data.withUnsafeBytes { bytes.append(contentsOf: $0) }
        bytes.append(0)
        let result = bytes.withUnsafeBufferPointer { buffer in
            Result { () throws(EvalError) -> [Double]? in
                var scanner = LineScanner(
                    bytes: buffer.baseAddress!, end: buffer.count - 1, name: name, noun: noun)
                return try scanner.run(reserve: reserve)
            }
        }
        return try result.get()
    }

    /// The byte-level state machine behind ``scan(_:name:noun:reserve:)``.
    private struct LineScanner {
        let bytes: UnsafePointer<UInt8>
        /// Index of the terminating NUL.
        let end: Int
        let name: String
        let noun: String

        init(bytes: UnsafePointer<UInt8>, end: Int, name: String, noun: String) {
            self.bytes = bytes
            self.end = end
            self.name = name
            self.noun = noun
        }

        mutating func run(reserve: Int) throws(EvalError) -> [Double]? {
            var values: [Double] = []
            values.reserveCapacity(reserve)
            var position = 0
            if end >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF {
                position = 3
            }
            var line = 0
            var sawHeader = false
            var firstEmptyLine = 0  // 0: no empty line since the last non-empty one
            while position < end {
                line += 1
                let lineEnd: Int
                if let newline = memchr(bytes + position, 0x0A, end - position) {
                    lineEnd = UnsafeRawPointer(newline) - UnsafeRawPointer(bytes)
                } else {
                    lineEnd = end
                }
                var low = position
                var high = lineEnd
                position = lineEnd + 1
                if high > low && bytes[high - 1] == 0x0D { high -= 1 }
                (low, high) = trimmed(low, high)

                if low == high {
                    if firstEmptyLine == 0 { firstEmptyLine = line }
                    continue
                }
                if firstEmptyLine != 0 {
                    throw emptyLine(firstEmptyLine, beforeHeader: !sawHeader)
                }

                // The common case, a bare number, needs no column or quote handling: a field
                // DecimalParser accepts holds no comma, quote or carriage return. (The byte at
                // `high` is a blank, line end or the final NUL, as DecimalParser requires.)
                if sawHeader, let value = DecimalParser.parse(bytes, low, high) {
                    guard value.isFinite else { throw tooLarge(low, high, line: line) }
                    values.append(value)
                    continue
                }
                let columns = try columnCount(low, high, line: line)
                let field = unquoted(low, high)
                if !sawHeader {
                    guard columns == 1 else {
                        throw EvalError(
                            "\(name) line 1 (the header) has \(columns) columns; the file needs exactly one "
                                + "column: a header line such as `\(noun)`, then one \(noun) per row")
                    }
                    if let field, DecimalParser.parse(bytes, field.low, field.high) != nil {
                        throw EvalError(
                            "\(name) line 1 is a number, not a header: \(quote(field.low, field.high)). "
                                + "Start the file with a header line such as `\(noun)`, then one \(noun) per row")
                    }
                    sawHeader = true
                    continue
                }
                guard columns == 1 else {
                    throw EvalError("\(name) line \(line) has \(columns) columns; \(noun)s need exactly one")
                }
                values.append(try number(field, rawLow: low, rawHigh: high, line: line))
            }
            return sawHeader ? values : nil
        }

        // MARK: Lines and fields

        private func isBlank(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }

        private func trimmed(_ low: Int, _ high: Int) -> (Int, Int) {
            var low = low
            var high = high
            while low < high && isBlank(bytes[low]) { low += 1 }
            while high > low && isBlank(bytes[high - 1]) { high -= 1 }
            return (low, high)
        }

        /// Columns separated by commas outside double quotes; a carriage return inside a line is
        /// an error of its own (old Mac line endings would otherwise make the file one line).
        private func columnCount(_ low: Int, _ high: Int, line: Int) throws(EvalError) -> Int {
            var columns = 1
            var inQuotes = false
            for index in low..<high {
                switch bytes[index] {
                case 0x22: inQuotes.toggle()
                case 0x2C where !inQuotes: columns += 1
                case 0x0D:
                    throw EvalError(
                        "\(name) line \(line) contains a carriage return (\\r) inside the line; "
                            + "end lines with \\n or \\r\\n")
                default: break
                }
            }
            return columns
        }

        /// The field without its surrounding double quotes (and blanks inside them); nil when a
        /// quote is not closed.
        private func unquoted(_ low: Int, _ high: Int) -> (low: Int, high: Int)? {
            guard bytes[low] == 0x22 else { return (low, high) }
            guard high - low >= 2 && bytes[high - 1] == 0x22 else { return nil }
            let (innerLow, innerHigh) = trimmed(low + 1, high - 1)
            return (innerLow, innerHigh)
        }

        private func emptyLine(_ line: Int, beforeHeader: Bool) -> EvalError {
            if beforeHeader {
                return EvalError(
                    "\(name) line \(line) is empty; the file must start with a header line such as "
                        + "`\(noun)`, then one \(noun) per row")
            }
            return EvalError(
                "\(name) line \(line) is empty; empty lines are only allowed at the end of the file")
        }

        // MARK: Numbers

        /// Whether the field spells NaN or an infinity the way strtod or Python would accept.
        private func isNonFiniteWord(_ low: Int, _ high: Int) -> Bool {
            var index = low
            if index < high && (bytes[index] == 0x2B || bytes[index] == 0x2D) { index += 1 }
            let word = String(decoding: UnsafeBufferPointer(start: bytes + index, count: high - index), as: UTF8.self)
            return ["nan", "inf", "infinity"].contains(word.lowercased())
        }

        private func number(
            _ field: (low: Int, high: Int)?, rawLow: Int, rawHigh: Int, line: Int
        ) throws(EvalError) -> Double {
            guard let field else {
                throw EvalError(
                    "\(name) line \(line): \(quote(rawLow, rawHigh)) is not a number (its quote is not closed)")
            }
            let (low, high) = field
            // The byte at `high` is a blank, quote, line end or the final NUL: it cannot extend
            // the number, as DecimalParser requires.
            guard let value = DecimalParser.parse(bytes, low, high) else {
                if low < high && isNonFiniteWord(low, high) {
                    throw EvalError(
                        "\(name) line \(line): \(quote(low, high)) is not a finite number; "
                            + "every \(noun) must be a finite number")
                }
                throw EvalError("\(name) line \(line): \(quote(low, high)) is not a number")
            }
            guard value.isFinite else { throw tooLarge(low, high, line: line) }
            return value
        }

        private func tooLarge(_ low: Int, _ high: Int, line: Int) -> EvalError {
            EvalError(
                "\(name) line \(line): \(quote(low, high)) is not a finite number "
                    + "(it is too large for a 64-bit float)")
        }

        private func quote(_ low: Int, _ high: Int) -> String {
            EvalFormat.quote(UnsafeRawBufferPointer(start: bytes + low, count: high - low))
        }
    }
}
