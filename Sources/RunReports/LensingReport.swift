import Foundation
import Plotting
import SystemPackage
import TesseraHDF5

/// The microlensing part of a run report: a `magmap` run's map (log10 μ, colour bar) and its
/// PDFs of log10(μ/μ_theory) per source size; a `tabulate` run's grid status, per-rank cell
/// times, its kept maps (`keep_maps: true`) and the PDFs across the (κ, γ) grid, one figure per
/// smooth fraction s. Files read are those `MagnificationMapFile` and `MagnificationTableFile`
/// document.
enum LensingReport {
    /// Maps wider than this are block-averaged (in μ) before drawing: a browser shows no more.
    static let maxMapPixels = 400

    static func map(_ page: inout HTMLPage, directory: String) throws -> [String] {
        let path = FilePath(directory).appending("map.h5").string
        guard FileManager.default.fileExists(atPath: path) else {
            page.paragraph("No map.h5 in the run (a FITS-format map, or an unfinished run): no pictures.", className: "note")
            return FileManager.default.fileExists(atPath: FilePath(directory).appending("map.fits").string) ? [] : ["no map file in the run directory"]
        }
        let f = try HDF5File.open(path)
        defer { try? f.close() }
        var facts: [(String, String)] = []
        for name in ["kappa", "gamma", "s", "size_re", "pixels", "stars", "method", "mean_magnification", "theory_magnification", "seconds"] {
            if let v = try? f.attribute(name, of: "/magnification") { facts.append((name, v.displayText)) }
        }
        page.heading("Map", level: 3, id: "maps")
        page.keyValues(facts)
        var warnings: [String] = []
        let mean = try? f.attribute("mean_magnification", of: "/magnification").doubleValue
        let theory = try? f.attribute("theory_magnification", of: "/magnification").doubleValue
        if let mean, let theory, theory > 0, abs(mean / theory - 1) > 0.1 {
            warnings.append(String(format: "the map's mean magnification %.4g is %+.1f%% from the theory %.4g (expected for small maps: see README)", mean, 100 * (mean / theory - 1), theory))
        }
        try mapFigure(&page, file: f, size: try mapSide(f, path: path), name: "map", title: "log10 μ")
        if try f.exists("/histogram/pdf") {
            try pdfFigure(&page, file: f, pdfPath: "/histogram/pdf", edgesPath: "/histogram/log_mu_edges", sizesPath: "/histogram/source_sizes", name: "map-pdf")
        }
        return warnings
    }

    static func table(_ page: inout HTMLPage, directory: String, options: RunReport.Options) throws -> [String] {
        let dir = FilePath(directory)
        let path = dir.appending("table.h5").string
        guard FileManager.default.fileExists(atPath: path) else {
            page.paragraph("No table.h5 yet (the run has not finished; resume it): no pictures.", className: "note")
            return ["no table.h5: the run has not finished"]
        }
        let f = try HDF5File.open(path)
        defer { try? f.close() }
        let kappa = try f.read(Double.self, from: "/grid/kappa").values, gamma = try f.read(Double.self, from: "/grid/gamma").values
        let s = try f.read(Double.self, from: "/grid/s").values
        let kAxis = try f.read(Double.self, from: "/grid/kappa_axis").values, gAxis = try f.read(Double.self, from: "/grid/gamma_axis").values
        let sAxis = try f.read(Double.self, from: "/grid/s_axis").values
        let sizes = try f.read(Double.self, from: "/grid/source_sizes").values
        let status = try f.read(Int32.self, from: "/cells/status").values
        let seconds = try f.read(Double.self, from: "/cells/seconds").values
        let rank = try f.read(Int64.self, from: "/cells/rank").values
        let mean = try f.read(Double.self, from: "/cells/mean_magnification").values
        let theory = try f.read(Double.self, from: "/cells/theory_magnification").values
        let pdf = try f.read(Double.self, from: "/pdf")
        let edges = try f.read(Double.self, from: "/bins/log_mu_edges").values
        let bins = edges.count - 1, m = sizes.count

        var warnings: [String] = []
        let computed = status.filter { $0 == 1 }.count, skipped = status.filter { $0 == 0 }.count, missing = status.filter { $0 == -1 }.count
        if missing > 0 { warnings.append("\(missing) cell(s) failed or missing (status −1)") }
        page.heading("Grid", level: 3, id: "grid")
        page.keyValues([("cells", "\(status.count): \(computed) computed, \(skipped) skipped (critical line), \(missing) missing"),
                        ("κ", kAxis.map { "\($0)" }.joined(separator: ", ")), ("γ", gAxis.map { "\($0)" }.joined(separator: ", ")),
                        ("s", sAxis.map { "\($0)" }.joined(separator: ", ")), ("source sizes (θ_E)", sizes.map { "\($0)" }.joined(separator: ", "))])
        var perRank: [Int64: (n: Int, t: Double)] = [:]
        for i in status.indices where status[i] == 1 { perRank[rank[i], default: (0, 0)].n += 1; perRank[rank[i], default: (0, 0)].t += seconds[i] }
        page.heading("Timings", level: 3, id: "timings")
        page.table(header: ["rank", "cells", "seconds"], rows: perRank.keys.sorted().map { [String($0), String(perRank[$0]!.n), String(format: "%.2f", perRank[$0]!.t)] })
        let ratio = status.indices.filter { status[$0] == 1 && theory[$0] > 0 }
        if !ratio.isEmpty {
            let panel = Panel(x: Axis("cell index"), y: Axis("⟨μ⟩ / μ_theory"), series: [
                .scatter(x: ratio.map(Double.init), y: ratio.map { mean[$0] / theory[$0] }, label: "cells", color: Palette.color(0), radius: 3),
                .hLine(y: 1, label: nil, color: "#444"),
            ], legend: false)
            try page.figure(.single(panel, width: 520, height: 280, title: "Mean magnification of each cell's map over the theory"), name: "mean-ratio")
        }

        // PDFs across the grid: per s, a κ × γ array of panels, one line per source size.
        page.heading("PDFs of log10(μ/μ_theory) across the grid", level: 3, id: "pdfs")
        let centres = (0..<bins).map { 0.5 * (edges[$0] + edges[$0 + 1]) }
        // At most 6 values per axis (evenly picked, ends kept) so a big grid stays readable.
        func thin(_ axis: [Double]) -> [Double] {
            guard axis.count > 6 else { return axis }
            return (0..<6).map { axis[Int((Double($0) * Double(axis.count - 1) / 5).rounded())] }
        }
        let (kShown, gShown) = (thin(kAxis), thin(gAxis))
        if kShown.count < kAxis.count || gShown.count < gAxis.count {
            page.paragraph("Showing \(kShown.count) of \(kAxis.count) κ and \(gShown.count) of \(gAxis.count) γ values, evenly spaced.", className: "note")
        }
        for sv in sAxis.prefix(3) {
            let cell = 150.0, gap = 14.0, left = 60.0, top = 44.0
            var fig = Figure(width: left + Double(gShown.count) * (cell + gap) + 10, height: top + Double(kShown.count) * (cell + gap + 14) + 40,
                             title: "s = \(sv): rows κ, columns γ; lines: source sizes \(sizes.map { "\($0)" }.joined(separator: ", ")) θ_E")
            for (ki, k) in kShown.enumerated() {
                for (gi, g) in gShown.enumerated() {
                    guard let c = kappa.indices.first(where: { kappa[$0] == k && gamma[$0] == g && s[$0] == sv }) else { continue }
                    var series: [Series] = []
                    if status[c] == 1 {
                        for j in 0..<m {
                            let row = (0..<bins).map { pdf.values[(c * m + j) * bins + $0] }
                            series.append(.line(x: centres, y: row, label: ki == 0 && gi == 0 ? "\(sizes[j])" : nil, color: Palette.color(j), dashed: false))
                        }
                    }
                    let frame = Frame(x: left + Double(gi) * (cell + gap), y: top + Double(ki) * (cell + gap + 14), width: cell, height: cell)
                    let bottom = ki == kShown.count - 1
                    let panel = Panel(x: Axis(bottom ? "log10(μ/μ_th)" : "", range: edges.first!...edges.last!, tickLabels: bottom),
                                      y: Axis(gi == 0 ? "density" : "", tickLabels: gi == 0), series: series, legend: ki == 0 && gi == 0,
                                      title: "κ=\(k) γ=\(g)\(status[c] == 1 ? "" : status[c] == 0 ? " (skipped)" : " (missing)")")
                    fig.panels.append((panel, frame))
                }
            }
            try page.figure(fig, name: "pdfs-s\(sv)")
        }
        if sAxis.count > 3 { page.paragraph("Showing the first 3 of \(sAxis.count) values of s.", className: "note") }

        // Kept maps.
        let mapDir = dir.appending("maps").string
        let kept = ((try? FileManager.default.contentsOfDirectory(atPath: mapDir)) ?? []).filter { $0.hasSuffix(".h5") }.sorted()
        if !kept.isEmpty {
            page.heading("Kept maps", level: 3, id: "maps")
            let shown = kept.prefix(options.maxExposures)
            page.paragraph("Showing \(shown.count) of \(kept.count) maps in maps/ (--max-exposures), point source, log10 μ.", className: "note")
            for name in shown {
                let mf = try HDF5File.open(FilePath(mapDir).appending(name).string)
                defer { try? mf.close() }
                let k = (try? mf.attribute("kappa", of: "/magnification").doubleValue) ?? .nan
                let g = (try? mf.attribute("gamma", of: "/magnification").doubleValue) ?? .nan
                let sv = (try? mf.attribute("s", of: "/magnification").doubleValue) ?? .nan
                try mapFigure(&page, file: mf, size: try mapSide(mf, path: FilePath(mapDir).appending(name).string), name: "map-\(name)", title: "\(name): κ=\(k) γ=\(g) s=\(sv), log10 μ")
            }
        }
        return warnings
    }

    /// `/magnification` as a picture on a log scale with axes in Einstein radii and a colour bar.
    /// The map's side in Einstein radii (attribute `size_re` of `/magnification`, which every map
    /// file Tessera writes has); a file without it is named, not drawn on a guessed scale.
    static func mapSide(_ file: HDF5File, path: String) throws -> Double {
        guard let size = try? file.attribute("size_re", of: "/magnification").doubleValue, size > 0 else {
            throw ReportError(file: path, message: "/magnification has no positive size_re attribute (map side in Einstein radii)")
        }
        return size
    }

    static func mapFigure(_ page: inout HTMLPage, file: HDF5File, size: Double, name: String, title: String) throws {
        let a = try file.read(Float.self, from: "/magnification")
        guard a.shape.count == 2 else { return }
        let (h, w) = (a.shape[0], a.shape[1])
        let block = max(1, (max(w, h) + maxMapPixels - 1) / maxMapPixels)
        let (bw, bh) = (w / block, h / block)
        var mu = [Double](repeating: 0, count: bw * bh)
        for y in 0..<(bh * block) { for x in 0..<(bw * block) { mu[(y / block) * bw + x / block] += Double(a.values[y * w + x]) } }
        mu = mu.map { $0 / Double(block * block) }
        let positive = mu.filter { $0 > 0 }.sorted()
        guard !positive.isEmpty else { page.paragraph("\(name): the map is empty (no positive magnification).", className: "note"); return }
        let lo = positive[Int(0.005 * Double(positive.count - 1))], hi = positive[Int(0.995 * Double(positive.count - 1))]
        let stretch = Stretch(.log, lo: lo, hi: max(hi, lo * 1.0001))
        // Row 0 of the map is y = 0 (the bottom), as FITS images: drawn bottom-up.
        let raster = RGBRaster(image: mu, width: bw, height: bh, stretch: stretch, colorMap: .viridis)
        let png = try PNGData.dataURI(raster)
        let half = size / 2
        let panel = Panel(x: Axis("x (θ_E)"), y: Axis("y (θ_E)"), series: [.image(href: png, x: -half...half, y: -half...half)], legend: false)
        let fig = Figure.single(panel, width: 520, height: 460, title: title,
                                colorBar: ColorBar(colorMap: .viridis, range: log10(stretch.lo)...log10(stretch.hi), log: true, label: "μ"))
        try page.figure(fig, name: name, caption: block > 1 ? "\(w)×\(h) pixels shown as \(bw)×\(bh) (μ averaged in \(block)×\(block) blocks); colour range: 0.5–99.5th percentiles." : "Colour range: 0.5–99.5th percentiles of μ.")
    }

    static func pdfFigure(_ page: inout HTMLPage, file: HDF5File, pdfPath: String, edgesPath: String, sizesPath: String, name: String) throws {
        let pdf = try file.read(Double.self, from: pdfPath)
        let edges = try file.read(Double.self, from: edgesPath).values
        let sizes = try file.read(Double.self, from: sizesPath).values
        let bins = edges.count - 1
        let centres = (0..<bins).map { 0.5 * (edges[$0] + edges[$0 + 1]) }
        let series: [Series] = sizes.indices.map { j in
            .line(x: centres, y: (0..<bins).map { pdf.values[j * bins + $0] }, label: "source \(sizes[j]) θ_E", color: Palette.color(j), dashed: false)
        } + [.vLine(x: 0, label: nil, color: "#888")]
        let panel = Panel(x: Axis("log10(μ/μ_theory)"), y: Axis("density per unit log10 μ"), series: series)
        try page.figure(.single(panel, width: 560, height: 320, title: "Magnification PDF"), name: name)
    }
}

extension HDF5AttributeValue {
    /// The value as shown in a report table.
    var displayText: String {
        if let s = stringValue { return s }
        if let d = doubleValue { return d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(format: "%.6g", d) }
        return "\(self)"
    }
}
