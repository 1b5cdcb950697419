import Foundation
import TesseraRun
import TesseraSupport
import TesseraTestSupport
import XCTest

/// `CSVText` writes RFC 4180: checked against Python's `csv` module (an independent reader) and
/// CSV.swift's own reader, and byte for byte against the comma-joined text Tessera wrote before
/// when no field needs quoting.
final class CSVTextTests: XCTestCase {
    /// Fields that break a comma-joined line: commas, quotes, line breaks, a lone empty field.
    let awkward: [[String]] = [
        ["id", "label", "value"],
        ["00001", "a,b", "1.5"],
        ["00002", "say \"hi\"", "-0.0"],
        ["00003", "two\nlines", ""],
        ["00004", "crlf\r\nend", "nan"],
        ["00005", " padded ", "1e-300"],
        [""],
        ["00006", "\"", ","],
    ]

    func testOrdinaryTableIsTheCommaJoinedText() throws {
        let rows = [["id", "redshift", "log10_mass", "method"],
                    ["00000", "\(0.1 + 0.2)", "\(14.0)", "nuts"],
                    ["00001", "\(1e-7)", "", "optimizer"]]
        let joined = rows.map { $0.joined(separator: ",") }.joined(separator: "\n") + "\n"
        XCTAssertEqual(try CSVText.render(rows), joined)
        XCTAssertEqual(try CSVText.render(rows), "id,redshift,log10_mass,method\n00000,0.30000000000000004,14.0,nuts\n00001,1e-07,,optimizer\n")
    }

    func testQuotesOnlyTheFieldsThatNeedIt() throws {
        XCTAssertEqual(try CSVText.render([["a,b", "say \"hi\"", "plain"], [""]]), "\"a,b\",\"say \"\"hi\"\"\",plain\n\"\"\n")
    }

    func testRoundTripThroughTheCSVReader() throws {
        XCTAssertEqual(try CSVText.parse(try CSVText.render(awkward)), awkward)
    }

    func testPythonCSVModuleReadsTheFile() throws {
        let directory = try makeTemporaryDirectory(prefix: "csv")
        let path = directory.path("awkward.csv")
        try CSVText.write(awkward, to: path)
        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        python.arguments = ["python3", "-c",
                            "import csv, json, sys; print(json.dumps(list(csv.reader(open(sys.argv[1], newline='', encoding='utf-8')))))",
                            path]
        let output = Pipe()
        python.standardOutput = output
        try python.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        python.waitUntilExit()
        XCTAssertEqual(python.terminationStatus, 0, "python3 failed")
        XCTAssertEqual(try JSONDecoder().decode([[String]].self, from: data), awkward)
    }
}
