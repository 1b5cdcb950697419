import Foundation
import Plotting
import SystemPackage

/// The cluster part of a run report (`clusters compare` runs): per bin, the posteriors of the
/// mass bias b and log-normal scatter σ against the injected and realised truth
/// (`compare_curves.csv`), the joint draws (`compare_samples.csv`) with the truth marked, and
/// the summary table (`compare.csv`); then the ΔΣ profiles of the fit run's first halos with
/// their fitted models (`ClusterProfiles`), when the fit run is the compare directory's parent.
enum ClusterReport {
    static func compare(_ page: inout HTMLPage, directory: String, options: RunReport.Options) throws -> [String] {
        let dir = FilePath(directory)
        let summaryPath = dir.appending("compare.csv").string
        guard FileManager.default.fileExists(atPath: summaryPath) else {
            page.paragraph("No compare.csv (the run has not finished): no pictures.", className: "note")
            return ["no compare.csv: the run has not finished"]
        }
        var warnings: [String] = []
        let summary = try CSVTable(path: summaryPath)
        page.heading("Bias and scatter per bin", level: 3, id: "posteriors")
        let shownColumns = ["bin", "halos", "bias_true", "bias_realised", "bias_median", "bias_lo68", "bias_hi68",
                            "scatter_true", "scatter_realised", "scatter_median", "scatter_lo68", "scatter_hi68"]
        page.table(header: shownColumns, rows: summary.rows.map { r in shownColumns.map { c in summary.text(r, c).map(shortNumber) ?? "" } })
        for r in summary.rows {
            for p in ["bias", "scatter"] where summary.text(r, "\(p)_in68") == "false" {
                warnings.append("bin \(summary.text(r, "bin") ?? "?"): the true \(p) is outside the 68% interval")
            }
        }
        let curves = FileManager.default.fileExists(atPath: dir.appending("compare_curves.csv").string)
            ? try CSVTable(path: dir.appending("compare_curves.csv").string) : nil
        let samples = FileManager.default.fileExists(atPath: dir.appending("compare_samples.csv").string)
            ? try CSVTable(path: dir.appending("compare_samples.csv").string) : nil
        for r in summary.rows {
            guard let bin = summary.text(r, "bin") else { continue }
            var panels: [Panel] = []
            for (i, p) in ["bias", "scatter"].enumerated() {
                var series: [Series] = []
                if let curves {
                    let rows = curves.rows.filter { curves.text($0, "bin") == bin && curves.text($0, "parameter") == p }
                    series.append(.line(x: rows.map { curves.number($0, "value") }, y: rows.map { curves.number($0, "posterior_density") },
                                        label: "posterior", color: Palette.color(0), dashed: false))
                }
                series.append(.vLine(x: summary.number(r, "\(p)_true"), label: "injected", color: Palette.color(3)))
                series.append(.vLine(x: summary.number(r, "\(p)_realised"), label: "realised", color: Palette.color(2)))
                series.append(.vLine(x: summary.number(r, "\(p)_median"), label: "median", color: Palette.color(i == 0 ? 1 : 1)))
                panels.append(Panel(x: Axis(p == "bias" ? "bias b = M_WL / M_true" : "scatter σ (ln M)"), y: Axis("posterior density"), series: series, legend: i == 0))
            }
            var fig = Figure(width: 900, height: 320, title: "Bin \(bin): posteriors against the truth")
            fig.panels = [(panels[0], Frame(x: 64, y: 30, width: 340, height: 240)), (panels[1], Frame(x: 510, y: 30, width: 340, height: 240))]
            try page.figure(fig, name: "posterior-\(bin)")
            if let samples {
                let rows = samples.rows.filter { samples.text($0, "bin") == bin }
                if rows.count >= 10 {
                    let truths = [summary.number(r, "bias_true"), summary.number(r, "scatter_true")]
                    try page.figure(Plots.corner([rows.map { samples.number($0, "bias") }, rows.map { samples.number($0, "scatter") }],
                                                 names: ["bias b", "scatter σ"], truths: truths, bins: 24, cell: 150,
                                                 title: "Bin \(bin): draws of (b, σ) (\(rows.count)); red: injected truth"), name: "corner-\(bin)")
                }
            }
        }
        // The fit run whose halos were compared: by default this directory's parent.
        let parent = dir.removingLastComponent()
        if let meta = try? JSONFile(path: parent.appending("metadata.json").string), meta.string("command") == "clusters fit" {
            warnings += try ClusterProfiles.section(&page, fitRun: parent.string, maxHalos: options.maxSources)
        }
        return warnings
    }

    static func shortNumber(_ s: String) -> String {
        guard let d = Double(s), s.contains(".") || s.contains("e") else { return s }
        return String(format: "%.4g", d)
    }
}

/// A small CSV table (header row, comma-separated, no quoted commas) read for display.
struct CSVTable {
    let header: [String]
    let rows: [[String]]

    init(path: String) throws {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw ReportError(file: path, message: "cannot read") }
        let lines = text.split(whereSeparator: \.isNewline).map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        guard let first = lines.first else { throw ReportError(file: path, message: "empty CSV file") }
        header = first.map { $0.trimmingCharacters(in: .whitespaces) }
        rows = Array(lines.dropFirst())
    }

    func text(_ row: [String], _ column: String) -> String? {
        guard let i = header.firstIndex(of: column), i < row.count else { return nil }
        return row[i]
    }

    func number(_ row: [String], _ column: String) -> Double { text(row, column).flatMap(Double.init) ?? .nan }
}
