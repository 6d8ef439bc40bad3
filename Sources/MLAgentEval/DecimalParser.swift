import Foundation

/// Correctly rounded conversion of a decimal number in a byte buffer to a `Double`.
///
/// `DecimalParser` owns the number grammar of the CSV files (optional sign, digits with at most
/// one decimal point, optional exponent; no NaN, infinities or hexadecimal) and the conversion.
/// Values with at most 19 significant digits and a decimal exponent within ±22 (after the digits)
/// — every number
/// Python, numpy or pandas print for a probability — are converted without `strtod`: exactly when
/// the digits fit in 53 bits (Clinger's fast path), otherwise with one error-free
/// multiplication or division whose result is accepted only when it is provably the correctly
/// rounded one. Everything else, and the (astronomically rare) undecidable cases, go to `strtod`,
/// so the result always equals what `strtod` or Python's `float()` would give.
enum DecimalParser {
    /// Exact powers of ten as doubles: 10^0 … 10^22.
    private static let powersOfTen: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ]

    /// The value of `bytes[low..<high]`, or nil when those bytes are not a decimal number.
    /// `bytes[high]` must be readable and must not continue the number (a delimiter or the NUL
    /// that ends the buffer), because the fallback hands the text to `strtod`.
    static func parse(_ bytes: UnsafePointer<UInt8>, _ low: Int, _ high: Int) -> Double? {
        var index = low
        var negative = false
        if index < high && (bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-")) {
            negative = bytes[index] == UInt8(ascii: "-")
            index += 1
        }
        // Digits go into `mantissa` while it has fewer than 19 significant digits (leading zeros
        // add nothing); later digits only move the exponent, and make the result inexact unless
        // they are zeros. Runs of eight digits are converted at once (SWAR).
        var mantissa: UInt64 = 0
        var decimalExponent = 0
        var digits = 0
        var exact = true
        var seenPoint = false
        while index < high {
            if high &- index >= 8 && mantissa < 100_000_000_000 {
                let chunk = UInt64(
                    littleEndian: UnsafeRawPointer(bytes + index).loadUnaligned(as: UInt64.self))
                if isEightDigits(chunk) {
                    mantissa = mantissa &* 100_000_000 &+ eightDigitsValue(chunk)
                    decimalExponent &-= seenPoint ? 8 : 0
                    digits &+= 8
                    index &+= 8
                    continue
                }
            }
            let byte = bytes[index]
            let digit = byte &- UInt8(ascii: "0")
            if digit < 10 {
                if mantissa < 1_000_000_000_000_000_000 {
                    mantissa = mantissa &* 10 &+ UInt64(digit)
                    decimalExponent &-= seenPoint ? 1 : 0
                } else {
                    exact = exact && digit == 0
                    decimalExponent &+= seenPoint ? 0 : 1
                }
                digits &+= 1
            } else if byte == UInt8(ascii: ".") && !seenPoint {
                seenPoint = true
            } else {
                break
            }
            index &+= 1
        }
        guard digits > 0 else { return nil }
        if index < high && (bytes[index] | 0x20) == UInt8(ascii: "e") {
            index += 1
            var exponentNegative = false
            if index < high && (bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-")) {
                exponentNegative = bytes[index] == UInt8(ascii: "-")
                index += 1
            }
            var exponent = 0
            var exponentDigits = 0
            while index < high, case let digit = bytes[index] &- UInt8(ascii: "0"), digit < 10 {
                if exponent < 100_000 { exponent = exponent * 10 + Int(digit) }
                exponentDigits += 1
                index += 1
            }
            guard exponentDigits > 0 else { return nil }
            decimalExponent += exponentNegative ? -exponent : exponent
        }
        guard index == high else { return nil }

        if mantissa == 0 && exact {
            return negative ? -0.0 : 0.0
        }
        if exact, let value = fastPath(mantissa, decimalExponent) {
            return negative ? -value : value
        }
        return strtodFallback(bytes, low, high)
    }

    /// Whether all eight bytes of `chunk` are ASCII digits.
    @inline(__always)
    private static func isEightDigits(_ chunk: UInt64) -> Bool {
        ((chunk &+ 0x4646_4646_4646_4646) | (chunk &- 0x3030_3030_3030_3030)) & 0x8080_8080_8080_8080 == 0
    }

    /// The value of eight ASCII digits, the first in the lowest byte.
    @inline(__always)
    private static func eightDigitsValue(_ chunk: UInt64) -> UInt64 {
        var value = chunk &- 0x3030_3030_3030_3030
        value = (value &* 10) &+ (value >> 8)  // pairs of digits
        let mask: UInt64 = 0x0000_00FF_0000_00FF
        return ((value & mask) &* (100 &+ (1_000_000 << 32))
            &+ ((value >> 16) & mask) &* (1 &+ (10_000 << 32))) >> 32
    }

    /// `mantissa × 10^exponent` correctly rounded, or nil when this cannot be decided cheaply.
    private static func fastPath(_ mantissa: UInt64, _ exponent: Int) -> Double? {
        guard exponent >= -22 && exponent <= 22 else { return nil }
        let power = powersOfTen[abs(exponent)]
        if mantissa <= 1 << 53 {
            // Both operands are exact, so one IEEE operation rounds correctly (Clinger).
            return exponent >= 0 ? Double(mantissa) * power : Double(mantissa) / power
        }
        // Split the mantissa into an exact 53-bit head and a tail below the head's last bit.
        let shift = (64 - mantissa.leadingZeroBitCount) - 53
        let head = Double(mantissa >> UInt64(shift)) * Double(sign: .plus, exponent: shift, significand: 1)
        let tail = Double(mantissa & ((1 << UInt64(shift)) - 1))
        // value = main + correction, main exact-ish and correction tiny; only `correction` carries
        // a rounding error, of at most a few units in its last place.
        let main: Double
        let correction: Double
        if exponent >= 0 {
            main = head * power
            // head·power − main is exact (the error of a product), computed with one FMA.
            correction = (-main).addingProduct(head, power) + tail * power
        } else {
            main = head / power
            // head − main·power is exact (the remainder of a correctly rounded division).
            let remainder = head.addingProduct(-main, power)
            correction = (remainder + tail) / power
        }
        // Round main + correction once, and keep the exact rounding error of that sum (TwoSum).
        let result = main + correction
        let bVirtual = result - main
        let roundingError = (main - (result - bVirtual)) + (correction - bVirtual)
        // Accept only when the true value is clearly inside the rounding interval of `result`:
        // the error of `correction` is below 2^-50 of an ulp of the result, the margin 2^-40.
        guard result.isNormal else { return nil }
        let gapAbove = result.ulp
        let gapBelow = result.significandBitPattern == 0 ? result.ulp / 2 : result.ulp
        let halfGap = (roundingError >= 0 ? gapAbove : gapBelow) / 2
        let margin = (abs(correction) + result.ulp) * 0x1p-40
        guard abs(roundingError) + margin < halfGap else { return nil }
        return result
    }

    private static func strtodFallback(_ bytes: UnsafePointer<UInt8>, _ low: Int, _ high: Int) -> Double {
        let start = UnsafeRawPointer(bytes + low).assumingMemoryBound(to: CChar.self)
        var stop: UnsafeMutablePointer<CChar>?
        let value = strtod(start, &stop)
        if let stop, UnsafePointer(stop) == start + (high - low) {
            return value
        }
        // strtod follows the C locale's decimal point, which a host program may have changed; the
        // standard library's parser never does.
        let text = String(decoding: UnsafeBufferPointer(start: bytes + low, count: high - low), as: UTF8.self)
        return Double(text) ?? .nan
    }
}
