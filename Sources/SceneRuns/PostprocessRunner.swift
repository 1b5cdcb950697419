import Astrometry
import Foundation
import ImageStores
import Inference
import SceneFitting
import SceneModel
import SystemPackage
import TesseraFITS
import TesseraHDF5
import TesseraRun
import TesseraSupport

/// `tessera postprocess RUN_DIR`: for a finished (or partly finished) optimize/sample run,
/// - `postprocess/summary.fits` and `summary.csv`: per source and parameter the posterior median
///   and the 16th/84th percentiles (68% credible interval), split R̂ and ESS of its chain with
///   each sampling pass as one chain (`PassDiagnostics`; sampling runs), or the optimum with its
///   Laplace error (optimize runs);
/// - `postprocess/residuals/<exposure>.fits`: HDU 1 data − model, HDU 2 model, HDU 3 χ per
///   pixel (0 where dropped), the model rendered from the final state over the whole exposure.
public enum PostprocessRunner {
    public struct Summary: Sendable {
        public var sources: Int
        public var residualImages: [String]
        public var maxRHat: Double
        public var minESS: Double
    }

    public static func run(directory: String, residuals: Bool = true, log: (String) -> Void = { print($0) }) throws -> Summary {
        let params = FilePath(directory).appending(RunDirectory.paramsFile).string
        let c = try ConfigLoader.load(SceneFitConfiguration.self, from: params)
        let resultsPath = FilePath(directory).appending("results.h5").string
        let catalogPath = FilePath(directory).appending("catalog.fits").string
        guard FileManager.default.fileExists(atPath: catalogPath) else {
            throw SceneInputError(file: catalogPath, field: nil, message: "no final catalog: the run has not finished (resume it first)")
        }
        let catalog = try SceneCatalog.read(catalogPath, bands: c.bands)
        let out = FilePath(directory).appending("postprocess").string
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)

        // Posterior summaries from the chains (sampling runs).
        let results = try HDF5File.open(resultsPath)
        let mode = try results.attribute("mode").stringValue ?? "sample"
        let iterations: [Int64] = (try? results.read(Int64.self, from: "/state/n_iter").values) ?? []
        var rows: [[String: Double]] = []
        var maxRHat = 0.0, minESS = Double.infinity
        for (i, s) in catalog.sources.enumerated() {
            var row: [String: Double] = ["id": Double(s.id)]
            let names = CatalogColumns.names(bands: c.bands, isPoint: s.isPoint)
            if mode == "sample", try results.exists("/chains/\(s.id)") {
                let n = i < iterations.count ? Int(iterations[i]) : 0
                let chain = try results.read(Double.self, from: "/chains/\(s.id)")
                for (j, name) in names.enumerated() {
                    let v = (0..<min(n, chain.shape[0])).map { chain.values[$0 * names.count + j] }
                    guard v.count >= 4 else { continue }
                    let sorted = v.sorted()
                    row["\(name)_median"] = quantile(sorted, 0.5)
                    row["\(name)_p16"] = quantile(sorted, 0.16)
                    row["\(name)_p84"] = quantile(sorted, 0.84)
                    // Across passes: each pass's draws_per_patch draws are one chain (PassDiagnostics).
                    let (rhat, ess) = PassDiagnostics.rHatAndESS(v, passLength: c.drawsPerPatch)
                    row["\(name)_rhat"] = rhat
                    row["\(name)_ess"] = ess
                    if rhat.isFinite { maxRHat = max(maxRHat, rhat) }
                    if ess.isFinite { minESS = min(minESS, ess) }
                }
            } else {
                for (name, v) in zip(names, CatalogColumns.values(s)) { row["\(name)_median"] = v }
            }
            rows.append(row)
        }
        try results.close()
        let keys = rows.flatMap(\.keys).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        let ordered = ["id"] + keys.filter { $0 != "id" }.sorted()
        var csv = [ordered]
        for r in rows { csv.append(ordered.map { r[$0].map { "\($0)" } ?? "" }) }
        try CSVText.write(csv, to: FilePath(out).appending("summary.csv").string)
        let fitsPath = FilePath(out).appending("summary.fits").string
        try? FileManager.default.removeItem(atPath: fitsPath)
        let fits = try FITSFile(creatingAt: fitsPath, overwrite: true)
        var columns: [FITSColumn] = [.int64("id", catalog.sources.map(\.id))]
        for k in ordered where k != "id" { columns.append(.double(k, rows.map { $0[k] ?? .nan })) }
        _ = try fits.appendTable(columns, extname: "SUMMARY")
        try fits.close()
        log("postprocess: \(rows.count) sources -> \(fitsPath)" + (mode == "sample" ? String(format: " (max split R-hat %.3f, min ESS %.0f)", maxRHat, minESS) : ""))

        var images: [String] = []
        if residuals {
            images = try writeResiduals(c, sources: catalog.sources, to: FilePath(out).appending("residuals").string)
            log("postprocess: \(images.count) residual images in \(FilePath(out).appending("residuals").string)")
        }
        return Summary(sources: rows.count, residualImages: images, maxRHat: maxRHat, minESS: minESS)
    }

    static func quantile(_ sorted: [Double], _ p: Double) -> Double {
        let x = p * Double(sorted.count - 1)
        let i = Int(x), f = x - Double(i)
        return i + 1 < sorted.count ? sorted[i] * (1 - f) + sorted[i + 1] * f : sorted[i]
    }

    static func writeResiduals(_ c: SceneFitConfiguration, sources: [Source], to dir: String) throws -> [String] {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let store = try PixelStore(path: c.pixelStore)
        let psfs = try PSFStore(contentsOf: URL(fileURLWithPath: c.psfStore))
        let sersic = try c.sersicMixture()
        var written: [String] = []
        for e in store.exposures {
            guard let band = c.bands.firstIndex(of: e.band) else { continue }
            let wcs = try e.wcs
            let (data, ierr) = try store.readAll(exposure: e)
            let n = e.width * e.height
            let model = try ExposureRenderer.render(sources, bands: c.bands, band: band, wcs: wcs, width: e.width, height: e.height,
                                                   psf: try psfs.psf(band: e.psfBand, exposure: e.name),
                                                   calibration: e.calibration, sersic: sersic)
            let residual = (0..<n).map { Float(Double(data[$0]) - model[$0]) }
            let chi = (0..<n).map { ierr[$0] > 0 ? Float((Double(data[$0]) - model[$0]) * Double(ierr[$0])) : 0 }
            let path = FilePath(dir).appending("\(e.name).fits").string
            try? FileManager.default.removeItem(atPath: path)
            let fits = try FITSFile(creatingAt: path, overwrite: true)
            try fits.appendImage(FITSImage<Float>(shape: [1], pixels: [0]))
            let h = try fits.appendImage(FITSImage(width: e.width, height: e.height, pixels: residual), extname: "RESIDUAL")
            try fits.writeWCS(wcs, hdu: h)
            try fits.writeKeyword("FILTER", .string(e.band), hdu: h)
            try fits.appendImage(FITSImage(width: e.width, height: e.height, pixels: model.map(Float.init)), extname: "MODEL")
            try fits.appendImage(FITSImage(width: e.width, height: e.height, pixels: chi), extname: "CHI")
            try fits.close()
            written.append(path)
        }
        return written
    }
}
