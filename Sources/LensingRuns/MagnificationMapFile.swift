import Foundation
import Microlensing
import TesseraHDF5
import TesseraRun
import TesseraSupport

/// The HDF5 file of one magnification map, as `tessera magmap` writes it and `tabulate` keeps
/// it with `keep_maps: true`:
///
/// - `/magnification` [pixels, pixels], float32: μ per pixel (row = y, column = x, the shear
///   axis; not divided by μ_theory), with the map's facts as attributes (`facts`);
/// - `/histogram/pdf` [source size, bin]: density per unit log10(μ/μ_theory), with
///   `/histogram/log_mu_edges` and `/histogram/source_sizes`;
/// - `/stars/x`, `/stars/y` (Einstein radii) and `/stars/mass` (M☉): the star field that made
///   the map, with its disk radius as attribute `radius` of `/stars/x`, so that any other code
///   can re-shoot or check the map (`Benchmarks/map_mean_crosscheck.py` does).
///
/// Written to a temporary name and renamed, so a killed job never leaves a half-written map
/// under the final name.
public enum MagnificationMapFile {
    /// The map's provenance: macro model, geometry, stars, seed, rays, means, the mean-field
    /// compensation (its pre-image κ* and cancelled shear only when it was applied), timing and
    /// software version.
    public static func facts(map: MagnificationMap, massFunction: String, massRange: [Double], lightLoss: Double,
                             seconds: Double) -> [(String, HDF5AttributeValue)] {
        let version = SourceVersion.detect()
        var facts: [(String, HDF5AttributeValue)] = [
            ("kappa", .double(map.kappa)), ("gamma", .double(map.gamma)), ("s", .double(map.smoothFraction)),
            ("size_re", .double(map.sizeRE)), ("pixels", .int(Int64(map.width))), ("mass_function", .string(massFunction)),
            ("mass_range", .doubles(massFunction == "unit" ? [1, 1] : massRange)), ("stars", .int(Int64(map.starCount))),
            ("seed", .int(Int64(bitPattern: map.seed ?? 0))),
            ("rays_shot", .int(Int64(map.raysShot))), ("rays_per_pixel_unlensed", .double(map.raysPerPixelUnlensed)),
            ("mean_magnification", .double(map.mean)), ("theory_magnification", .double(map.theoreticalMagnification)),
            ("seconds", .double(seconds)), ("tessera_version", .string(TesseraVersion.string)),
            ("git_commit", .string(version.commit ?? "unknown")), ("created", .string(Timestamp.iso8601())),
            ("compensate_mean_field", .int(map.compensation == nil ? 0 : 1)), ("light_loss", .double(lightLoss)),
            ("method", .string(map.method.rawValue)),
        ]
        if let r = map.region {
            facts += [("source_margin", .double(r.sourceMargin)), ("shooting_half_width_x", .double(r.halfWidthX)),
                      ("shooting_half_width_y", .double(r.halfWidthY))]
        }
        if let stars = map.stars { facts.append(("star_field_radius", .double(stars.radius))) }
        if let c = map.compensation {
            facts += [("preimage_kappa_star", .double(c.realisedKappa)), ("cancelled_shear1", .double(c.gamma1)),
                      ("cancelled_shear2", .double(c.gamma2))]
        }
        return facts
    }

    /// Writes the map and its histograms (`pdf` flattened [size][bin]) to `path`.
    public static func write(map: MagnificationMap, pdf: [Double], sourceSizes: [Double], sourceProfile: String,
                             logMuRange: ClosedRange<Double>, bins: Int, facts: [(String, HDF5AttributeValue)],
                             to path: String) throws {
        let n = map.width
        try writeReplacing(path) { partial in
            let file = try HDF5File.create(partial)
            do {
                try file.write(map.pixels, shape: [n, n], to: "/magnification",
                               layout: DatasetLayout(chunks: [min(n, 256), min(n, 256)], compression: 4))
                for (name, value) in facts { try file.setAttribute(name, value, on: "/magnification") }
                try file.write(pdf, shape: [sourceSizes.count, bins], to: "/histogram/pdf")
                let (lo, hi) = (logMuRange.lowerBound, logMuRange.upperBound)
                try file.write((0...bins).map { lo + (hi - lo) * Double($0) / Double(bins) }, to: "/histogram/log_mu_edges")
                try file.write(sourceSizes, to: "/histogram/source_sizes")
                try file.setAttribute("variable", .string("log10(mu/mu_theory)"), on: "/histogram/pdf")
                try file.setAttribute("source_profile", .string(sourceProfile), on: "/histogram/pdf")
                if let stars = map.stars, stars.count > 0 {
                    try file.write(stars.x, to: "/stars/x")
                    try file.write(stars.y, to: "/stars/y")
                    try file.write(stars.mass, to: "/stars/mass")
                    try file.setAttribute("radius", .double(stars.radius), on: "/stars/x")
                    try file.setAttribute("units", .string("Einstein radii of 1 M_sun; mass in M_sun"), on: "/stars/x")
                }
                try file.close()
            } catch {
                try? file.close()
                throw error
            }
        }
    }
}
