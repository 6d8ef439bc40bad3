import Foundation
import MLAgentEval
import Testing

@Suite struct PredictionsCSVTests {
    private func parse(
        _ text: String, rows: Int, metric: EvalMetric = .rocAUC, name: String = "preds.csv"
    ) throws(EvalError) -> [Double] {
        try PredictionsCSV.parse(Data(text.utf8), expectedRows: rows, metric: metric, name: name)
    }

    /// The message of the error `text` raises (nil when it parses).
    private func message(_ text: String, rows: Int, metric: EvalMetric = .rocAUC) -> String? {
        message(Data(text.utf8), rows: rows, metric: metric)
    }

    private func message(_ data: Data, rows: Int, metric: EvalMetric = .rocAUC) -> String? {
        do {
            _ = try PredictionsCSV.parse(data, expectedRows: rows, metric: metric, name: "preds.csv")
            return nil
        } catch {
            return error.message
        }
    }

    private func lines(_ values: [String], header: String = "prediction") -> String {
        ([header] + values).joined(separator: "\n") + "\n"
    }

    // MARK: - Accepted input

    @Test func plainFile() throws {
        #expect(try parse("prediction\n0.1\n0.9\n0.5\n", rows: 3) == [0.1, 0.9, 0.5])
    }

    @Test func lineEndingsBOMQuotesAndBlanks() throws {
        #expect(try parse("prediction\r\n0.1\r\n0.9\r\n", rows: 2) == [0.1, 0.9])
        #expect(try parse("prediction\n0.1\n0.9", rows: 2) == [0.1, 0.9])
        #expect(try parse("prediction\r\n0.1\r\n0.9", rows: 2) == [0.1, 0.9])
        #expect(try parse("\u{FEFF}prediction\n0.25\n", rows: 1) == [0.25])
        #expect(try parse("\"prediction\"\n\"0.25\"\n\" 0.5 \"\n", rows: 2) == [0.25, 0.5])
        #expect(try parse("prediction\n  0.25\t\n0.5 \n", rows: 2) == [0.25, 0.5])
        #expect(try parse("prediction\n0.1\n0.2\n\n\n  \r\n\n", rows: 2) == [0.1, 0.2])
        #expect(try parse("p\n1e-3\n.5\n1.\n+0.75\n0E0\n1.0e+0\n", rows: 6) == [0.001, 0.5, 1, 0.75, 0, 1])
    }

    @Test func anyHeaderName() throws {
        #expect(try parse("target_proba\n0.5\n", rows: 1) == [0.5])
        #expect(try parse("nan\n0.5\n", rows: 1) == [0.5])
        #expect(try parse("1st prediction\n0.5\n", rows: 1) == [0.5])
    }

    @Test func valuesParseExactly() throws {
        let values = [0.1, 1.0 / 3, 0.123456789012345678, .leastNonzeroMagnitude, 0.9999999999999999, 2.2250738585072014e-308]
        let text = lines(values.map { "\($0)" })
        #expect(try parse(text, rows: values.count) == values)
    }

    @Test func regressionMetricsAcceptAnyFiniteNumber() throws {
        #expect(try parse("y\n-3.5\n1e10\n", rows: 2, metric: .rmse) == [-3.5, 1e10])
        #expect(try parse("label\n0\n3\n-1\n", rows: 3, metric: .accuracy) == [0, 3, -1])
        #expect(try parse("label\n0\n1.0\n", rows: 2, metric: .f1) == [0, 1])
    }

    // MARK: - Errors

    @Test func emptyFile() {
        let expected = "preds.csv is empty: write a header line and one prediction per row"
        #expect(message("", rows: 3) == expected)
        #expect(message("\n\n\r\n", rows: 3) == expected)
        #expect(message("\u{FEFF}", rows: 3) == expected)
    }

    @Test func headerOnly() {
        #expect(
            message("prediction\n", rows: 5000)
                == "preds.csv has a header line but no prediction rows; the split has 5,000 rows, "
                + "one per row of val_public_X.csv in order")
        #expect(message("prediction", rows: 2)?.hasPrefix("preds.csv has a header line but no prediction rows") == true)
    }

    @Test func firstLineIsANumber() {
        #expect(
            message("0.5\n0.6\n", rows: 1)
                == "preds.csv line 1 is a number, not a header: \"0.5\". Start the file with a header line "
                + "such as `prediction`, then one prediction per row")
        #expect(message("\"0.5\"\n0.6\n", rows: 1)?.hasPrefix("preds.csv line 1 is a number, not a header") == true)
    }

    @Test func tooManyColumns() {
        var values = [String](repeating: "0.5", count: 15)
        values.append("16,0.5")
        values.append("0.5")
        #expect(message(lines(values), rows: 17) == "preds.csv line 17 has 2 columns; predictions need exactly one")
        #expect(
            message("id,prediction\n0,0.5\n", rows: 1)
                == "preds.csv line 1 (the header) has 2 columns; the file needs exactly one column: "
                + "a header line such as `prediction`, then one prediction per row")
        #expect(message(lines(["0.5,"]), rows: 1) == "preds.csv line 2 has 2 columns; predictions need exactly one")
        // A comma inside quotes does not split the column, and is not a number either.
        #expect(message(lines(["\"0,5\""]), rows: 1) == "preds.csv line 2: \"0,5\" is not a number")
    }

    @Test func nonNumericValues() {
        #expect(message(lines(["0.5", "abc"]), rows: 2) == "preds.csv line 3: \"abc\" is not a number")
        #expect(message(lines(["0x1p-2"]), rows: 1) == "preds.csv line 2: \"0x1p-2\" is not a number")
        #expect(message(lines(["1e"]), rows: 1) == "preds.csv line 2: \"1e\" is not a number")
        #expect(message(lines(["0.5.1"]), rows: 1) == "preds.csv line 2: \"0.5.1\" is not a number")
        #expect(message(lines(["\"\""]), rows: 1) == "preds.csv line 2: \"\" is not a number")
        #expect(message(lines(["\"0.5"]), rows: 1) == "preds.csv line 2: \"\\\"0.5\" is not a number (its quote is not closed)")
        let long = String(repeating: "x", count: 100)
        #expect(
            message(lines([long]), rows: 1)
                == "preds.csv line 2: \"\(String(repeating: "x", count: 40))\"… is not a number")
        #expect(message(lines(["a\u{1}b"]), rows: 1) == "preds.csv line 2: \"a\\u{01}b\" is not a number")
    }

    @Test func nonFiniteValues() {
        for word in ["nan", "NaN", "-nan", "inf", "-inf", "+Infinity", "INF"] {
            #expect(
                message(lines(["0.5", word]), rows: 2)
                    == "preds.csv line 3: \"\(word)\" is not a finite number; every prediction must be a finite number")
        }
        #expect(
            message(lines(["1e999"]), rows: 1, metric: .rmse)
                == "preds.csv line 2: \"1e999\" is not a finite number (it is too large for a 64-bit float)")
    }

    @Test func emptyLines() {
        #expect(
            message("prediction\n0.1\n\n0.2\n", rows: 2)
                == "preds.csv line 3 is empty; empty lines are only allowed at the end of the file")
        #expect(
            message("prediction\r\n0.1\r\n  \r\n0.2\r\n", rows: 2)
                == "preds.csv line 3 is empty; empty lines are only allowed at the end of the file")
        #expect(
            message("\nprediction\n0.1\n", rows: 1)
                == "preds.csv line 1 is empty; the file must start with a header line such as `prediction`, "
                + "then one prediction per row")
    }

    @Test func bareCarriageReturns() {
        #expect(
            message("prediction\r0.1\r0.2\r", rows: 2)
                == "preds.csv line 1 contains a carriage return (\\r) inside the line; end lines with \\n or \\r\\n")
    }

    @Test func wrongRowCount() {
        let text = lines([String](repeating: "0.5", count: 4999))
        #expect(
            message(text, rows: 5000)
                == "preds.csv has 4,999 prediction rows; the split has 5,000 rows, one per row of val_public_X.csv in order")
        #expect(
            message(lines(["0.5"]), rows: 2)
                == "preds.csv has 1 prediction row; the split has 2 rows, one per row of val_public_X.csv in order")
        do {
            _ = try PredictionsCSV.parse(
                Data(lines(["0.5"]).utf8), expectedRows: 1000, metric: .rocAUC, name: "private.csv",
                rowsFile: "val_private_X.csv")
            Issue.record("expected an error")
        } catch {
            #expect(
                error.message
                    == "private.csv has 1 prediction row; the split has 1,000 rows, one per row of val_private_X.csv in order")
        }
    }

    @Test func probabilitiesOutOfRange() {
        #expect(
            message(lines(["0.5", "1.2", "-0.1", "0.3"]), rows: 4)
                == "preds.csv line 3: 1.2 is outside [0, 1]; ROC AUC needs a probability of class 1 in [0, 1] per row, "
                + "and 2 of 4 predictions are out of range")
        #expect(
            message(lines(["0.5", "1.0000001"]), rows: 2, metric: .logLoss)
                == "preds.csv line 3: 1.0000001 is outside [0, 1]; log loss needs a probability of class 1 in [0, 1] "
                + "per row, and 1 of 2 predictions is out of range")
        #expect(message(lines(["0", "1", "-0"]), rows: 3) == nil)
    }

    @Test func labelsRequired() {
        #expect(
            message(lines(["0", "1", "0.7", "2"]), rows: 4, metric: .f1)
                == "preds.csv line 4: 0.7 is not a class label; F1 needs predicted class labels, 0 or 1 "
                + "(not probabilities), and 2 of 4 predictions are not")
        #expect(
            message(lines(["0", "1", "2", "0.5"]), rows: 4, metric: .accuracy)
                == "preds.csv line 5: 0.5 is not a class label; accuracy needs predicted class labels, integers "
                + "such as 0 or 1 (not probabilities), and 1 of 4 predictions is not")
    }

    // MARK: - Targets

    @Test func targets() throws {
        #expect(try PredictionsCSV.parseTargets(Data("target\n1\n0\n1\n".utf8), name: "val_public_y.csv") == [1, 0, 1])
        #expect(try PredictionsCSV.parseTargets(Data("y\n-2.5\n1e3".utf8), name: "y.csv") == [-2.5, 1000])
        #expect(throws: EvalError("y.csv is empty: it needs a header line and one target per row")) {
            try PredictionsCSV.parseTargets(Data(), name: "y.csv")
        }
        #expect(throws: EvalError("y.csv has a header line but no target rows")) {
            try PredictionsCSV.parseTargets(Data("target\r\n".utf8), name: "y.csv")
        }
        #expect(throws: EvalError("y.csv line 3 has 2 columns; targets need exactly one")) {
            try PredictionsCSV.parseTargets(Data("target\n1\n0,1\n".utf8), name: "y.csv")
        }
    }

    /// The byte-level number conversion agrees with the standard library's (correctly rounded)
    /// parser on printed doubles, long mantissas, wide exponents and rounding-boundary cases.
    @Test func conversionIsCorrectlyRounded() throws {
        var generator = SplitMix(seed: 7)
        var texts = [
            "9007199254740993", "9007199254740993e-5", "9007199254740995", "18014398509481985",
            "0.1000000000000000055511151231257827", "1e-22", "1e22", "1e23", "123456789012345678e-22",
            "9999999999999999999", "0.30000000000000004", "2.2250738585072011e-308", "4.9e-324",
            "1.7976931348623157e308", "0000.000000000000000000001234", "5e-1", "-0.0", "1234567890123456789012345",
            "0.1234567890123456789", "8.98846567431158e307", "0.50000000000000000000000", "1.00000000000000000001",
            "0.99999999999999999999", "00000000000000000000000000001", "12345678.87654321", "1234567812345678.5e-3",
        ]
        for _ in 0..<20_000 {
            // Doubles as Swift (like Python's repr) prints them.
            let bits = generator.next()
            let value = Double(bitPattern: bits & 0x7FFF_FFFF_FFFF_FFFF)
            if value.isFinite { texts.append("\(value)") }
            texts.append("\(generator.unit())")
            // 15 to 20 significant digits with a decimal exponent from -30 to 30.
            let digits = 15 + Int(generator.next() % 6)
            var mantissa = String(1 + generator.next() % 9)
            for _ in 1..<digits { mantissa += String(generator.next() % 10) }
            let exponent = Int(generator.next() % 61) - 30
            texts.append("\(mantissa)e\(exponent)")
            texts.append("0.\(mantissa)")
            texts.append("\(mantissa.prefix(3)).\(mantissa.dropFirst(3))")
            let zeros = String(repeating: "0", count: Int(generator.next() % 12))
            texts.append("0.\(zeros)\(mantissa)")
            texts.append("-\(mantissa)\(zeros)")
            texts.append("\(mantissa.prefix(1)).\(zeros)\(mantissa.dropFirst())e-\(generator.next() % 30)")
            texts.append("0.\(mantissa.prefix(4))\(zeros)\(zeros)\(zeros)1")
            // Exact halfway cases: 54-bit odd integers lie midway between two doubles, alone and
            // scaled by powers of ten (which keeps them near a boundary).
            let halfway = ((generator.next() >> 11) | 1 << 52) << 1 | 1
            texts.append("\(halfway)")
            texts.append("\(halfway)e-\(generator.next() % 23)")
            texts.append("\(halfway / 10)e\(generator.next() % 10)")
        }
        let data = Data((["value"] + texts).joined(separator: "\n").utf8)
        let parsed = try PredictionsCSV.parseTargets(data, name: "numbers.csv")
        #expect(parsed.count == texts.count)
        var mismatches = 0
        for (text, value) in zip(texts, parsed) {
            let expected = try #require(Double(text), "\(text)")
            if value.bitPattern != expected.bitPattern {
                mismatches += 1
                if mismatches <= 10 { Issue.record("\(text): parsed \(value), expected \(expected)") }
            }
        }
        #expect(mismatches == 0)
    }

    // MARK: - Size

    @Test func millionRows() throws {
        var generator = SplitMix(seed: 99)
        var text = "prediction\n"
        text.reserveCapacity(22_000_000)
        var expected: [Double] = []
        expected.reserveCapacity(1_000_000)
        for _ in 0..<1_000_000 {
            let value = generator.unit()
            expected.append(value)
            text += "\(value)\n"
        }
        let data = Data(text.utf8)
        let clock = ContinuousClock()
        var values: [Double] = []
        let elapsed = try clock.measure {
            values = try PredictionsCSV.parse(data, expectedRows: 1_000_000, metric: .logLoss, name: "big.csv")
        }
        #expect(values == expected)
        print("parsed 1,000,000 rows (\(data.count) bytes) in \(elapsed)")
    }
}
