import Foundation
import ImageStores
import Inference
import Plotting
import SceneFitting
import SceneModel
import SceneRuns
import SystemPackage
import TesseraFITS
import TesseraHDF5
import TesseraRun

/// The scene part of a run report (`optimize` and `sample` runs): patch timings, flags, mosaics
/// per exposure, per-source trace and corner plots, R-hat/ESS histograms, and flux pulls
/// against a truth catalog. Reads `params.json`, `results.h5` and `catalog.fits` of the run and
/// the pixel and PSF stores it names; the model is re-rendered from the final catalog with the
/// same `ExposureRenderer` that `postprocess` subtracts.
enum SceneReport {
    /// Adds the pictures to `page`; returns warnings and flags for the page's summary.
    static func build(_ page: inout HTMLPage, directory: String, options: RunReport.Options) throws -> [String] {
        let dir = FilePath(directory)
        let c = try ConfigLoader.load(SceneFitConfiguration.self, from: dir.appending(RunDirectory.paramsFile).string)
        let catalogPath = dir.appending("catalog.fits").string
        let resultsPath = dir.appending("results.h5").string
        var warnings: [String] = []
        guard FileManager.default.fileExists(atPath: catalogPath), FileManager.default.fileExists(atPath: resultsPath) else {
            page.paragraph("The run has no catalog.fits or results.h5 yet (not finished): no pictures.", className: "note")
            return ["no final catalog: the run has not finished (resume it first)"]
        }
        let catalog = try SceneCatalog.read(catalogPath, bands: c.bands)
        let results = try HDF5File.open(resultsPath)
        defer { try? results.close() }
        let mode = try results.attribute("mode").stringValue ?? "optimize"
        let iterations: [Int64] = (try? results.read(Int64.self, from: "/state/n_iter").values) ?? []
        let flaggedFlags: [Int64] = (try? results.read(Int64.self, from: "/state/flagged").values) ?? []
        let flagged = catalog.sources.indices.filter { $0 < flaggedFlags.count && flaggedFlags[$0] != 0 }.map { catalog.sources[$0].id }
        if !flagged.isEmpty {
            warnings.append("\(flagged.count) source(s) flagged (fit failed \(c.maxAttempts) times, or outside every exposure): ids \(flagged.prefix(30).map(String.init).joined(separator: ", "))\(flagged.count > 30 ? ", …" : "")")
        }
        warnings += patchLogWarnings(dir.appending("patches.jsonl").string)

        // Truth, matched by id.
        var truth: [Int64: Source] = [:]
        if let t = options.truthCatalog {
            for s in try SceneCatalog.read(t, bands: c.bands).sources { truth[s.id] = s }
            let matched = catalog.sources.filter { truth[$0.id] != nil }.count
            page.paragraph("Truth catalog: \(t) (\(matched) of \(catalog.sources.count) sources matched by id).", className: "note")
        }

        try timings(&page, results: results, warnings: &warnings)
        try mosaics(&page, directory: directory, config: c, catalog: catalog, truth: Array(truth.values), options: options, warnings: &warnings)

        // Posterior draws per source (sampling runs).
        var draws: [Int64: (names: [String], columns: [[Double]])] = [:]
        if mode == "sample" {
            for (i, s) in catalog.sources.enumerated() where try results.exists("/chains/\(s.id)") {
                let names = CatalogColumns.names(bands: c.bands, isPoint: s.isPoint)
                let chain = try results.read(Double.self, from: "/chains/\(s.id)")
                let n = min(i < iterations.count ? Int(iterations[i]) : 0, chain.shape[0])
                guard n > 0, chain.shape.count == 2, chain.shape[1] == names.count else { continue }
                draws[s.id] = (names, (0..<names.count).map { j in (0..<n).map { chain.values[$0 * names.count + j] } })
            }
            try samplingPictures(&page, catalog: catalog, draws: draws, truth: truth, options: options, warnings: &warnings)
        }
        if !truth.isEmpty {
            try fluxPulls(&page, catalogPath: catalogPath, catalog: catalog, bands: c.bands, draws: draws, truth: truth)
        }
        return warnings
    }

    /// Failures and retries logged in patches.jsonl (any event other than checkout/checkin).
    static func patchLogWarnings(_ path: String) -> [String] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        var events: [String: Int] = [:]
        var examples: [String] = []
        for line in text.split(separator: "\n") {
            guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], let e = o["event"] as? String else { continue }
            if e == "checkout" || e == "checkin" { continue }
            events[e, default: 0] += 1
            if examples.count < 3 { examples.append(String(line.prefix(200))) }
        }
        return events.keys.sorted().map { "patches.jsonl: \(events[$0]!) '\($0)' event(s)" } + examples.map { "e.g. \($0)" }
    }

    static func timings(_ page: inout HTMLPage, results: HDF5File, warnings: inout [String]) throws {
        guard try results.exists("/patches/rank") else { return }
        let rank = try results.read(Int64.self, from: "/patches/rank").values
        let seconds = try results.read(Double.self, from: "/patches/seconds").values
        let t0 = try results.read(Double.self, from: "/patches/t_start").values
        let t1 = try results.read(Double.self, from: "/patches/t_end").values
        let divergences = (try? results.read(Int64.self, from: "/patches/divergences").values) ?? []
        let used = rank.indices.filter { $0 < t1.count && t1[$0] > 0 && seconds[$0] >= 0 }
        page.heading("Timings", level: 3, id: "timings")
        guard !used.isEmpty else { page.paragraph("No patch records.", className: "note"); return }
        let origin = used.map { t0[$0] }.min()!
        let wall = used.map { t1[$0] }.max()! - origin
        var perRank: [Int64: (n: Int, busy: Double)] = [:]
        for i in used { perRank[rank[i], default: (0, 0)].n += 1; perRank[rank[i], default: (0, 0)].busy += seconds[i] }
        page.table(header: ["rank", "patches", "busy (s)", "busy fraction of the fitting wall time"], rows: perRank.keys.sorted().map { r in
            [String(r), String(perRank[r]!.n), String(format: "%.2f", perRank[r]!.busy), wall > 0 ? String(format: "%.0f%%", 100 * perRank[r]!.busy / wall) : "–"]
        })
        let totalDivergences = used.reduce(0) { $0 + ($1 < divergences.count ? Int(divergences[$1]) : 0) }
        if totalDivergences > 0 { warnings.append("\(totalDivergences) divergent NUTS transition(s) over \(used.count) patches") }
        // Each patch as a bar from its start to its end on its rank's row.
        var xs: [Double] = [], ys: [Double] = []
        for i in used.prefix(5000) { xs += [t0[i] - origin, t1[i] - origin, .nan]; ys += [Double(rank[i]), Double(rank[i]), .nan] }
        let ranks = perRank.keys.map { Double($0) }
        let panel = Panel(x: Axis("seconds since the first checkout"), y: Axis("rank", range: (ranks.min()! - 0.6)...(ranks.max()! + 0.6)),
                          series: [.line(x: xs, y: ys, label: nil, color: Palette.color(0), dashed: false)], legend: false)
        let figure = Figure.single(panel, width: 640, height: 120 + 24 * Double(perRank.count), title: "Patches per rank over time (\(used.count) patches, \(String(format: "%.1f", wall)) s)")
        try page.figure(figure, name: "timeline", caption: "Each segment is one patch (region) fitted on that rank, from checkout to check-in.")
    }

    /// Exposures larger than this (pixels on a side) are drawn block-averaged.
    static let maxPanelPixels = 400

    static func mosaics(_ page: inout HTMLPage, directory: String, config c: SceneFitConfiguration, catalog: SceneCatalog, truth: [Source],
                        options: RunReport.Options, warnings: inout [String]) throws {
        page.heading("Data, model, residual and χ per exposure", level: 3, id: "mosaics")
        let store: PixelStore, psfs: PSFStore
        do {
            store = try PixelStore(path: c.pixelStore)
            psfs = try PSFStore(contentsOf: URL(fileURLWithPath: c.psfStore))
        } catch {
            warnings.append("no mosaics: \(error)")
            page.paragraph("The pixel or PSF store is not readable here: \(error)", className: "note")
            return
        }
        let sersic = try c.sersicMixture()
        let exposures = store.exposures.filter { c.bands.contains($0.band) }
        let shown = Array(exposures.prefix(options.maxExposures))
        page.paragraph("Columns: data, model (rendered from the final catalog), residual = data − model (blue negative, red positive, ±3σ), χ (±5). " +
                       "Data and model share one \(options.stretch == .asinh ? "asinh stretch (zscale low cut to the 99.5th percentile)" : "zscale stretch"); " +
                       "red circles: fitted positions" + (truth.isEmpty ? "" : "; blue crosses: truth") + ". North up as stored (FITS row 0 at the bottom)." +
                       (shown.count < exposures.count ? " Showing the first \(shown.count) of \(exposures.count) exposures (--max-exposures)." : ""), className: "note")
        var rows: [[String]] = []
        for e in shown {
            let band = c.bands.firstIndex(of: e.band)!
            let wcs = try e.wcs
            let (data, ierr) = try store.readAll(exposure: e)
            let n = e.width * e.height
            // The model postprocess saved (newer than the catalog), else rendered here the same way.
            let model: [Double]
            if let saved = savedModel(directory: directory, exposure: e.name, pixels: n) {
                model = saved
            } else {
                model = try ExposureRenderer.render(catalog.sources, bands: c.bands, band: band, wcs: wcs, width: e.width, height: e.height,
                                                    psf: try psfs.psf(band: e.psfBand, exposure: e.name), calibration: e.calibration, sersic: sersic)
            }
            var chi2 = 0.0, used = 0
            for i in data.indices where ierr[i] > 0 { let x = (Double(data[i]) - model[i]) * Double(ierr[i]); chi2 += x * x; used += 1 }
            rows.append([e.name, e.band, "\(e.width)×\(e.height)", String(used), used > 0 ? String(format: "%.3f", chi2 / Double(used)) : "–"])
            let factor = (max(e.width, e.height) + maxPanelPixels - 1) / maxPanelPixels
            var image = (data: data.map(Double.init), model: model, inverseError: ierr.map(Double.init), width: e.width, height: e.height)
            if factor > 1 {
                image = SceneMosaic.binned(data: image.data, model: model, inverseError: image.inverseError, width: e.width, height: e.height, factor: factor)
            }
            func pixel(_ ra: Double, _ dec: Double) -> SceneMosaic.Position {
                let p = wcs.skyToPixel(ra: ra, dec: dec)
                return ((p.x + 0.5) / Double(factor) - 0.5, (p.y + 0.5) / Double(factor) - 0.5)
            }
            let scale = max(1, min(4, 240 / max(image.width, image.height)))
            let panels = SceneMosaic.panels(data: image.data, model: image.model, inverseError: image.inverseError, width: image.width, height: image.height,
                                            scale: scale, stretching: options.stretch,
                                            catalog: catalog.sources.map { pixel($0.ra, $0.dec) }, truth: truth.map { pixel($0.ra, $0.dec) })
            try page.picture(panels.mosaic, name: "mosaic-\(e.name)", caption: "\(e.name) (\(e.band)): data · model · residual · χ" +
                             (factor > 1 ? " (averaged in \(factor)×\(factor) blocks)" : ""))
        }
        page.table(header: ["exposure", "band", "pixels", "pixels with data", "χ²/pixel"], rows: rows)
    }

    /// The MODEL image of `postprocess/residuals/<exposure>.fits` if it is newer than the run's
    /// catalog (so it was rendered from this catalog) and has the exposure's size.
    static func savedModel(directory: String, exposure: String, pixels: Int) -> [Double]? {
        let path = FilePath(directory).appending("postprocess/residuals/\(exposure).fits").string
        let catalog = FilePath(directory).appending("catalog.fits").string
        let fm = FileManager.default
        guard let saved = (try? fm.attributesOfItem(atPath: path))?[.modificationDate] as? Date,
              let fitted = (try? fm.attributesOfItem(atPath: catalog))?[.modificationDate] as? Date, saved >= fitted,
              let fits = try? FITSFile(path: path) else { return nil }
        defer { try? fits.close() }
        guard let image = try? fits.readImage(Float.self, hdu: 2), image.pixels.count == pixels else { return nil }
        return image.pixels.map(Double.init)
    }

    static func samplingPictures(_ page: inout HTMLPage, catalog: SceneCatalog, draws: [Int64: (names: [String], columns: [[Double]])],
                                 truth: [Int64: Source], options: RunReport.Options, warnings: inout [String]) throws {
        var rhats: [Double] = [], esses: [Double] = []
        var bad: [String] = []
        for s in catalog.sources {
            guard let d = draws[s.id] else { continue }
            for (name, v) in zip(d.names, d.columns) where v.count >= 4 {
                let r = Diagnostics.splitRHat([v]), e = Diagnostics.effectiveSampleSize([v])
                if r.isFinite { rhats.append(r) }
                if e.isFinite { esses.append(e) }
                if r > 1.1 { bad.append("\(s.id).\(name)") }
            }
        }
        page.heading("Convergence: split R̂ and ESS", level: 3, id: "convergence")
        if !bad.isEmpty { warnings.append("\(bad.count) parameter(s) with split R-hat > 1.1: \(bad.prefix(12).joined(separator: ", "))\(bad.count > 12 ? ", …" : "")") }
        if !rhats.isEmpty {
            try page.figure(Plots.histogramFigure(rhats, bins: 20, xLabel: "split R̂", title: "Split R̂ of every source parameter (\(rhats.count))", markers: [(1.1, "1.1")]),
                            name: "rhat")
            try page.figure(Plots.histogramFigure(esses, bins: 20, xLabel: "bulk ESS", title: "Effective sample size of every source parameter", markers: [(100, "100")]),
                            name: "ess")
        }
        page.heading("Trace and corner plots", level: 3, id: "chains")
        let withDraws = catalog.sources.filter { draws[$0.id] != nil }
        let shown = withDraws.prefix(options.maxSources)
        page.paragraph("Showing the first \(shown.count) of \(withDraws.count) sampled sources (--max-sources); positions as offsets from the posterior median in arcsec" +
                       (truth.isEmpty ? "." : "; red lines: truth."), className: "note")
        for s in shown {
            let d = draws[s.id]!
            var columns = d.columns, names = d.names
            var truths = truth[s.id].map { CatalogColumns.values($0) } ?? [Double](repeating: .nan, count: names.count)
            // ra/dec in degrees are unreadable on an axis: offsets in arcsec from the median.
            if let ri = names.firstIndex(of: "ra"), let di = names.firstIndex(of: "dec") {
                let ra0 = median(columns[ri]), dec0 = median(columns[di])
                let cosd = cos(dec0 * .pi / 180)
                columns[ri] = columns[ri].map { ($0 - ra0) * 3600 * cosd }
                columns[di] = columns[di].map { ($0 - dec0) * 3600 }
                truths[ri] = (truths[ri] - ra0) * 3600 * cosd
                truths[di] = (truths[di] - dec0) * 3600
                names[ri] = "Δra·cosδ (″)"
                names[di] = "Δdec (″)"
            }
            try page.figure(Plots.trace(columns, names: names, truths: truths, title: "Source \(s.id): trace (\(columns[0].count) draws)"), name: "trace-\(s.id)")
            try page.figure(Plots.corner(columns, names: names, truths: truths, bins: 16, cell: 96, title: "Source \(s.id): corner plot"), name: "corner-\(s.id)")
        }
    }

    static func fluxPulls(_ page: inout HTMLPage, catalogPath: String, catalog: SceneCatalog, bands: [String],
                          draws: [Int64: (names: [String], columns: [[Double]])], truth: [Int64: Source]) throws {
        page.heading("Flux pulls against the truth", level: 3, id: "pulls")
        // σ: half the 68% interval of the draws (sampling), else the catalog's <band>_unc (Laplace).
        var uncertainty: [String: [Double]] = [:]
        let fits = try FITSFile(path: catalogPath)
        defer { try? fits.close() }
        guard let table = try (0..<fits.hduCount()).first(where: { try fits.hduType(at: $0) == .binaryTable }) else {
            throw ReportError(file: catalogPath, message: "no binary-table HDU (the fitted catalog)")
        }
        let names = try fits.columnNames(hdu: table)
        for b in bands where names.contains("\(b)_unc") {
            uncertainty[b] = try fits.readColumn("\(b)_unc", as: Double.self, hdu: table)
        }
        var series: [Series] = [], allPulls: [Double] = [], rows: [[String]] = []
        for (b, band) in bands.enumerated() {
            var xs: [Double] = [], pulls: [Double] = []
            for (i, s) in catalog.sources.enumerated() {
                guard let t = truth[s.id] else { continue }
                let fit: Double, sigma: Double
                if let d = draws[s.id], let j = d.names.firstIndex(of: band) {
                    let v = d.columns[j].sorted()
                    fit = quantile(v, 0.5)
                    sigma = 0.5 * (quantile(v, 0.84) - quantile(v, 0.16))
                } else if let u = uncertainty[band], i < u.count {
                    fit = s.flux[b]
                    sigma = u[i]
                } else { continue }
                guard sigma > 0, sigma.isFinite else { continue }
                xs.append(t.flux[b]); pulls.append((fit - t.flux[b]) / sigma)
            }
            guard !pulls.isEmpty else { continue }
            series.append(.scatter(x: xs, y: pulls, label: band, color: Palette.color(b), radius: 3))
            allPulls += pulls
            let mean = pulls.reduce(0, +) / Double(pulls.count)
            let sd = (pulls.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(max(pulls.count - 1, 1))).squareRoot()
            rows.append([band, String(pulls.count), String(format: "%+.2f", mean), String(format: "%.2f", sd),
                         String(pulls.filter { abs($0) > 3 }.count)])
        }
        guard !allPulls.isEmpty else { page.paragraph("No source has both a truth flux and an uncertainty.", className: "note"); return }
        page.table(header: ["band", "sources", "mean pull", "std of pulls (1 if σ is right)", "|pull| > 3"], rows: rows)
        series += [.hLine(y: 0, label: nil, color: "#444")]
        let panel = Panel(x: Axis("true flux", log: true), y: Axis("pull = (fit − truth) / σ"), series: series)
        try page.figure(.single(panel, width: 560, height: 340, title: "Flux pulls per source"), name: "pulls")
        let h = Plots.histogram(allPulls, bins: 16, range: -4...4)
        let w = h.edges[1] - h.edges[0]
        let gx = (0...80).map { -4 + Double($0) * 0.1 }
        let gy = gx.map { Double(allPulls.count) * w * exp(-0.5 * $0 * $0) / (2 * Double.pi).squareRoot() }
        let hist = Panel(x: Axis("pull"), y: Axis("count"), series: [
            .histogram(edges: h.edges, counts: h.counts, label: "all bands", color: Palette.color(0)),
            .line(x: gx, y: gy, label: "N(0, 1)", color: Palette.color(3), dashed: true),
        ])
        try page.figure(.single(hist, width: 440, height: 300, title: "Pull distribution"), name: "pull-histogram")
    }

    static func median(_ v: [Double]) -> Double { quantile(v.sorted(), 0.5) }

    static func quantile(_ sorted: [Double], _ p: Double) -> Double {
        guard !sorted.isEmpty else { return .nan }
        let x = p * Double(sorted.count - 1)
        let i = Int(x), f = x - Double(i)
        return i + 1 < sorted.count ? sorted[i] * (1 - f) + sorted[i + 1] * f : sorted[i]
    }
}
