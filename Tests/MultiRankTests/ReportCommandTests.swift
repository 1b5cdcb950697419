import Foundation
import XCTest

/// `tessera report` as users run it: a page for a finished multi-rank run, a clear error for a
/// folder that is not a run, and clean help.
final class ReportCommandTests: XCTestCase {
    func testReportOfASelftestRunAndErrors() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("report-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let run = try Launcher.run(["selftest", "--values-per-rank", "20", "--out", dir + "/run"], ranks: 2)
        XCTAssertEqual(run.status, 0, run.stderr)
        let report = try Launcher.run(["report", dir + "/run"])
        XCTAssertEqual(report.status, 0, report.stderr)
        XCTAssertTrue(report.stdout.contains("report: \(dir)/run/report.html (0 pictures"), report.stdout)
        let html = try String(contentsOfFile: dir + "/run/report.html", encoding: .utf8)
        XCTAssertTrue(html.contains("MPI ranks</td><td>2"), "metadata shown")

        let missing = try Launcher.run(["report", dir + "/nothing"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("\(dir)/nothing/metadata.json: no metadata.json"), missing.stderr)

        let help = try Launcher.run(["help", "report"])
        XCTAssertEqual(help.status, 0)
        XCTAssertFalse(help.stdout.contains("\\"), help.stdout)
    }
}
