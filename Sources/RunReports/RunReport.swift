import Foundation
import SystemPackage
import TesseraRun
import TesseraSupport

/// `tessera report RUN_DIR`: one self-contained HTML page, `RUN_DIR/report.html`, showing a
/// finished (or failed) run — metadata, configuration, timings, warnings and flags, and the
/// pictures of its kind of run:
///
/// - scene runs (`optimize`, `sample`): data/model/residual/χ mosaics per exposure with the
///   catalog overlaid, trace and corner plots per source, R-hat and ESS histograms, flux pulls
///   against a truth catalog (`SceneReport`);
/// - magnification tables and maps (`tabulate`, `magmap`): maps on a log scale with a colour
///   bar, PDFs across the grid (`LensingReport`);
/// - cluster comparisons (`clusters compare`): ΔΣ profiles with their fits, bias and scatter
///   posteriors against the truth (`ClusterReport`).
///
/// Pictures are embedded as `data:` URIs, so the page is one file that can be mailed or opened
/// anywhere; only a picture over 4 MB goes to `RUN_DIR/report/` and is linked. Large runs show
/// the first `maxSources` sources and `maxExposures` exposures and say so. The report only
/// reads the run: it never changes a result file, and it is written atomically.
public enum RunReport {
    public struct Options: Sendable {
        /// A truth catalog (FITS, same columns as the run's catalog) for the flux-pull plot.
        public var truthCatalog: String?
        public var maxSources = 6
        public var maxExposures = 8
        public var stretch = SceneMosaic.Stretching.asinh
        public init(truthCatalog: String? = nil) { self.truthCatalog = truthCatalog }
    }

    public struct Summary: Sendable {
        /// The page written.
        public var path: String
        /// What kind of page: scene, table, map, clusters, or generic.
        public var kind: String
        public var pictures: Int
        /// Pictures written to `RUN_DIR/report/` because they were too large to embed.
        public var linkedFiles: [String]
        public var seconds: Double
    }

    public static let fileName = "report.html"

    /// Builds the page of the run in `directory`.
    public static func write(runDirectory directory: String, options: Options = Options()) throws -> Summary {
        let start = Date()
        let dir = FilePath(directory)
        let metadataPath = dir.appending(RunDirectory.metadataFile).string
        guard FileManager.default.fileExists(atPath: metadataPath) else {
            throw ReportError(file: metadataPath, message: "no metadata.json: \(directory) is not a run directory")
        }
        let metadata = try JSONFile(path: metadataPath)
        let paramsPath = dir.appending(RunDirectory.paramsFile).string
        let params = FileManager.default.fileExists(atPath: paramsPath) ? try JSONFile(path: paramsPath) : nil
        let command = metadata.string("command") ?? "?"

        var page = HTMLPage(title: "tessera \(command): \(dir.lastComponent?.string ?? directory)",
                            assets: (dir.appending("report").string, "report"))
        page.heading("tessera \(command) — \(directory)", level: 1)
        page.raw("<p class=\"note\">Report made \(ISO8601DateFormatter().string(from: start)) by tessera \(TesseraVersionText.current). Contents: " +
                 "<a href=\"#run\">run</a> · <a href=\"#warnings\">warnings and flags</a> · <a href=\"#pictures\">pictures</a> · <a href=\"#files\">files</a> · <a href=\"#configuration\">configuration</a></p>")
        metadataSection(&page, metadata)

        var warnings: [String] = []
        if let status = metadata.string("status"), status != "finished" {
            warnings.append("run status is '\(status)'" + (metadata.string("error").map { ": \($0)" } ?? ""))
        }
        var body = HTMLPage(title: "", assets: page.assets)
        body.heading("Pictures", id: "pictures")
        let kind: String
        switch command {
        case "optimize", "sample":
            kind = "scene"
            warnings += try SceneReport.build(&body, directory: directory, options: options)
        case "tabulate":
            kind = "table"
            warnings += try LensingReport.table(&body, directory: directory, options: options)
        case "magmap":
            kind = "map"
            warnings += try LensingReport.map(&body, directory: directory)
        case "infer":
            kind = "inference"
            warnings += try InferenceReport.build(&body, directory: directory)
        case "clusters compare":
            kind = "clusters"
            warnings += try ClusterReport.compare(&body, directory: directory, options: options)
        default:
            kind = "generic"
            body.paragraph("No pictures for `\(command)` runs: this page shows the run's bookkeeping only.", className: "note")
        }
        page.heading("Warnings and flags", id: "warnings")
        page.warnings(warnings)
        page.raw(body.bodyHTML)
        page.adopt(body)

        filesSection(&page, directory: directory)
        page.heading("Configuration (params.json)", id: "configuration")
        if let params {
            page.keyValues(params.flattened())
        } else {
            page.paragraph("no params.json", className: "note")
        }
        let path = dir.appending(fileName).string
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw ReportError(file: path, message: "a directory of that name is in the way of the report")
        }
        guard FileManager.default.isWritableFile(atPath: directory) else {
            throw ReportError(file: directory, message: "the run directory is not writable: no report written")
        }
        do {
            try Data(page.html.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw ReportError(file: path, message: "cannot write the report: \(error.localizedDescription)")
        }
        return Summary(path: path, kind: kind, pictures: page.pictures, linkedFiles: page.linkedFiles, seconds: Date().timeIntervalSince(start))
    }

    static func metadataSection(_ page: inout HTMLPage, _ m: JSONFile) {
        page.heading("Run", id: "run")
        var pairs: [(String, String)] = []
        for key in ["command", "status", "error", "start_time", "end_time"] { if let v = m.string(key) { pairs.append((key, v)) } }
        if let s = m.string("start_time").flatMap(parseDate), let e = m.string("end_time").flatMap(parseDate) {
            pairs.append(("wall time", String(format: "%.1f s", e.timeIntervalSince(s))))
        }
        if let n = m.value("mpi_size") { pairs.append(("MPI ranks", "\(n)")) }
        if let hosts = m.value("hosts") as? [String] {
            let counts = Dictionary(grouping: hosts, by: { $0 }).map { "\($0.key) × \($0.value.count)" }.sorted()
            pairs.append(("hosts", counts.joined(separator: ", ")))
        }
        for key in ["tessera_version", "git_commit", "git_dirty", "git_source", "seed", "working_directory", "executable", "table_version"] {
            if let v = m.value(key) { pairs.append((key, JSONFile.text(v))) }
        }
        if let args = m.value("arguments") as? [String] { pairs.append(("arguments", args.joined(separator: " "))) }
        if let libs = m.value("libraries") as? [String: Any] {
            pairs.append(("libraries", libs.keys.sorted().map { "\($0): \(libs[$0]!)" }.joined(separator: "; ")))
        }
        page.keyValues(pairs)
        if let inputs = m.value("inputs") as? [[String: Any]], !inputs.isEmpty {
            page.heading("Inputs", level: 3)
            page.table(header: ["path", "bytes", "SHA-256"], rows: inputs.map {
                ["\($0["path"] ?? "")", "\($0["bytes"] ?? "")", String("\($0["sha256"] ?? "")".prefix(16)) + "…"]
            })
        }
    }

    /// Links to the run's files (three levels deep, at most 60), so what the page only samples
    /// (the other sources' chains, every exposure's residual FITS) is one click away.
    static func filesSection(_ page: inout HTMLPage, directory: String) {
        let fm = FileManager.default
        var files: [(String, Int)] = []
        var more = 0
        func visit(_ relative: String, depth: Int) {
            let full = relative.isEmpty ? directory : FilePath(directory).appending(relative).string
            for name in ((try? fm.contentsOfDirectory(atPath: full)) ?? []).sorted() where name != fileName && !name.hasPrefix(".") {
                let rel = relative.isEmpty ? name : relative + "/" + name
                var isDirectory: ObjCBool = false
                guard fm.fileExists(atPath: FilePath(directory).appending(rel).string, isDirectory: &isDirectory) else { continue }
                if isDirectory.boolValue {
                    if depth < 3 { visit(rel, depth: depth + 1) }
                } else if files.count < 60 {
                    let size = (try? fm.attributesOfItem(atPath: FilePath(directory).appending(rel).string))?[.size] as? Int ?? 0
                    files.append((rel, size))
                } else { more += 1 }
            }
        }
        visit("", depth: 1)
        guard !files.isEmpty else { return }
        page.heading("Files of this run", id: "files")
        let rows = files.map { f in
            "<tr><td><a href=\"\(HTMLPage.escape(f.0.split(separator: "/").map { $0.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? String($0) }.joined(separator: "/")))\">\(HTMLPage.escape(f.0))</a></td><td>\(f.1)</td></tr>"
        }
        page.raw("<table class=\"data\"><tr><th>file (relative to the run directory)</th><th>bytes</th></tr>" + rows.joined() + "</table>")
        if more > 0 { page.paragraph("… and \(more) more files.", className: "note") }
    }

    static func parseDate(_ s: String) -> Date? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.date(from: s) ?? ISO8601DateFormatter().date(from: s)
    }
}

/// A report that could not be made, naming the file at fault.
public struct ReportError: Error, CustomStringConvertible, Sendable {
    public var file: String
    public var message: String
    public init(file: String, message: String) { self.file = file; self.message = message }
    public var description: String { "\(file): \(message)" }
}

/// The version string shown on the page.
enum TesseraVersionText {
    static var current: String { TesseraVersion.string }
}

/// A JSON object file (metadata.json, params.json) read for display.
struct JSONFile {
    let object: [String: Any]

    init(path: String) throws {
        guard let data = FileManager.default.contents(atPath: path),
              let o = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ReportError(file: path, message: "not a JSON object")
        }
        object = o
    }

    func value(_ key: String) -> Any? { object[key] }

    /// A scalar as shown on the page (JSON booleans as true/false).
    static func text(_ v: Any) -> String {
        if let n = v as? NSNumber, String(cString: n.objCType) == "c" { return n.boolValue ? "true" : "false" }
        return "\(v)"
    }
    func string(_ key: String) -> String? { object[key] as? String }

    /// Every leaf as (dotted key, value text), keys sorted; arrays of numbers or strings on one line.
    func flattened() -> [(String, String)] {
        var out: [(String, String)] = []
        func visit(_ prefix: String, _ v: Any) {
            if let d = v as? [String: Any] {
                for k in d.keys.sorted() { visit(prefix.isEmpty ? k : "\(prefix).\(k)", d[k]!) }
            } else if let a = v as? [Any] {
                if a.allSatisfy({ !($0 is [String: Any]) && !($0 is [Any]) }) {
                    out.append((prefix, "[" + a.map { "\($0)" }.joined(separator: ", ") + "]"))
                } else {
                    for (i, e) in a.enumerated() { visit("\(prefix)[\(i)]", e) }
                }
            } else if v is NSNull {
                out.append((prefix, "null"))
            } else if let n = v as? NSNumber, String(cString: n.objCType) == "c" {
                out.append((prefix, n.boolValue ? "true" : "false"))  // a JSON boolean, not the number 1
            } else {
                out.append((prefix, "\(v)"))
            }
        }
        visit("", object)
        return out
    }
}
