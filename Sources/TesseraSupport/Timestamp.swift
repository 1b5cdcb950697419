import Foundation

/// ISO 8601 UTC timestamps with milliseconds, the format of every time in Tessera's bookkeeping.
public enum Timestamp {
    public static func iso8601(_ date: Date = Date()) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: date)
    }
}
