import ClusterFitting
import Foundation
import TesseraHDF5
import TesseraSupport

/// What a worker returns for one halo; the master writes it as `results/halo-<id>.h5`.
public struct HaloFitRecord: Codable, Sendable {
    public var id: String
    public var file: String
    public var redshift: Double
    public var log10TrueMass: Double?
    public var parameterNames: [String]
    public var estimate: [Double]
    /// Row-major covariance of the parameters.
    public var covariance: [Double]
    public var log10MassSamples: [Double]
    public var rHat: [Double]
    public var effectiveSampleSize: [Double]
    public var divergences: Int
    public var optimizerConverged: Bool
    public var method: String
    public var seconds: Double
    public var rank: Int

    public var log10Mass: Double { estimate[0] }
    public var log10MassError: Double { covariance[0].squareRoot() }

    /// Write atomically (temporary name, then rename): a crash never leaves half a result.
    public func write(to path: String) throws {
        try writeReplacing(path) { partial in
            let h5 = try HDF5File.create(partial)
            for (name, value) in [("id", HDF5AttributeValue.string(id)), ("input", .string(file)), ("redshift", .double(redshift)),
                                  ("method", .string(method)), ("divergences", .int(Int64(divergences))),
                                  ("optimizer_converged", .int(optimizerConverged ? 1 : 0)), ("seconds", .double(seconds)),
                                  ("rank", .int(Int64(rank)))] {
                try h5.setAttribute(name, value)
            }
            if let log10TrueMass { try h5.setAttribute("log10_true_mass", .double(log10TrueMass)) }
            try h5.writeStrings(parameterNames, to: "/parameter_names")
            try h5.write(estimate, to: "/estimate")
            try h5.write(covariance, shape: [estimate.count, estimate.count], to: "/covariance")
            try h5.write(rHat, to: "/diagnostics/r_hat")
            try h5.write(effectiveSampleSize, to: "/diagnostics/ess")
            if !log10MassSamples.isEmpty { try h5.write(log10MassSamples, to: "/samples/log10_mass") }
            try h5.close()
        }
    }

    /// Read a result file back (for the summary and `--resume`).
    public static func read(_ path: String) throws -> HaloFitRecord {
        let f = try HDF5File.open(path)
        defer { try? f.close() }
        let estimate = try f.read(Double.self, from: "/estimate").values
        let hasSamples = try f.exists("/samples/log10_mass")
        return HaloFitRecord(
            id: try f.attribute("id").stringValue ?? "", file: try f.attribute("input").stringValue ?? "",
            redshift: try f.attribute("redshift").doubleValue ?? .nan,
            log10TrueMass: try f.attributeNames().contains("log10_true_mass") ? try f.attribute("log10_true_mass").doubleValue : nil,
            parameterNames: try f.readStrings(from: "/parameter_names"), estimate: estimate,
            covariance: try f.read(Double.self, from: "/covariance").values,
            log10MassSamples: hasSamples ? try f.read(Double.self, from: "/samples/log10_mass").values : [],
            rHat: try f.read(Double.self, from: "/diagnostics/r_hat").values,
            effectiveSampleSize: try f.read(Double.self, from: "/diagnostics/ess").values,
            divergences: Int(try f.attribute("divergences").intValue ?? 0),
            optimizerConverged: try f.attribute("optimizer_converged").intValue == 1,
            method: try f.attribute("method").stringValue ?? "", seconds: try f.attribute("seconds").doubleValue ?? .nan,
            rank: Int(try f.attribute("rank").intValue ?? -1))
    }
}
