import Foundation
import RunReports
import TesseraTestSupport
import XCTest

/// The page around the pictures: a clear error for a folder that is not a run, a page without
/// pictures for a kind of run that has none, and an unfinished scene run reported as such.
final class RunReportTests: XCTestCase {
    func testNotARunDirectory() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        XCTAssertThrowsError(try RunReport.write(runDirectory: dir.path)) { e in
            XCTAssertTrue("\(e)".contains("metadata.json"), "\(e)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.path("report.html")))
    }

    func testGenericAndUnfinishedRuns() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let metadata = #"{"command": "selftest", "status": "failed", "error": "rank 1 <lost>", "mpi_size": 2, "hosts": ["a", "a"], "start_time": "2026-01-01T00:00:00.000Z", "end_time": "2026-01-01T00:00:02.500Z"}"#
        try metadata.write(toFile: dir.path("metadata.json"), atomically: true, encoding: .utf8)
        try #"{"values_per_rank": 10, "nested": {"a": [1, 2]}, "dense": true}"#.write(toFile: dir.path("params.json"), atomically: true, encoding: .utf8)
        let s = try RunReport.write(runDirectory: dir.path)
        XCTAssertEqual(s.kind, "generic")
        XCTAssertEqual(s.pictures, 0)
        let html = try String(contentsOfFile: s.path, encoding: .utf8)
        XCTAssertTrue(html.contains("run status is &apos;failed&apos;: rank 1 &lt;lost&gt;"), "the failure is a warning, escaped")
        XCTAssertTrue(html.contains("2.5 s"))
        XCTAssertTrue(html.contains("nested.a</td><td>[1, 2]"))
        XCTAssertTrue(html.contains("dense</td><td>true"))

        // A sample run without its final catalog: a page that says so, not an error.
        let scene = #"{"command": "sample", "status": "running"}"#
        try scene.write(toFile: dir.path("metadata.json"), atomically: true, encoding: .utf8)
        try #"{"bands": ["F200W"]}"#.write(toFile: dir.path("params.json"), atomically: true, encoding: .utf8)
        let t = try RunReport.write(runDirectory: dir.path)
        XCTAssertEqual(t.kind, "scene")
        XCTAssertTrue(try String(contentsOfFile: t.path, encoding: .utf8).contains("the run has not finished"))
    }
}
