import ArgumentParser
import Foundation
import LensingRuns
import Microlensing
import SystemPackage

extension Tessera {
    struct TableQuery: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "table-query",
            abstract: "Print the interpolated magnification PDF of a table at (κ, γ, s, source size).",
            discussion: """
            Prints one line per bin: log10(μ/μ_theory) at the bin centre, μ, and the density per \
            unit log10(μ/μ_theory). With --mu, prints only the density at those magnifications.
            """)

        @Argument(help: "A table.h5 written by `tessera tabulate` (or its run directory).")
        var table: String

        @Option(help: "Convergence κ.") var kappa: Double
        @Option(help: "Shear γ.") var gamma: Double
        @Option(help: "Smooth-matter fraction s.") var s: Double
        @Option(name: .customLong("source-size"), help: "Source size in Einstein radii (default 0).") var sourceSize = 0.0
        @Option(parsing: .upToNextOption, help: "Magnifications at which to print the density.") var mu: [Double] = []

        func run() throws {
            try failing {
                var path = table
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
                    path = FilePath(path).appending(MagnificationTableFile.name).string
                }
                let interpolator = try MagnificationTableInterpolator.load(path)
                let point = try interpolator.point(kappa: kappa, gamma: gamma, s: s, sourceSize: sourceSize)
                print("# κ=\(kappa) γ=\(gamma) s=\(s) source_size=\(sourceSize) μ_theory=\(point.theoryMagnification)")
                if !mu.isEmpty {
                    print("# mu density_per_log10_mu_ratio")
                    for m in mu { print("\(m) \(interpolator.density(mu: m, at: point))") }
                    return
                }
                print("# log10_mu_ratio mu density_per_log10_mu_ratio")
                let pdf = interpolator.pdf(at: point)
                for (b, density) in pdf.enumerated() {
                    let centre = (interpolator.logMuEdges[b] + interpolator.logMuEdges[b + 1]) / 2
                    print("\(centre) \(point.theoryMagnification * pow(10, centre)) \(density)")
                }
            }
        }
    }
}
