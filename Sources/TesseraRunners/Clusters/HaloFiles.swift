import ClusterFitting
import Foundation
import TesseraHDF5
import TesseraLinAlg

/// The input layout of one halo for `tessera clusters fit`: `halo-<id>.h5` with
/// - root attributes `id` (string) and `redshift` (lens redshift), optionally `log10_true_mass`;
/// - `/delta_sigma/radii` [n] physical Mpc, `/delta_sigma/values` [n] M☉/Mpc², and either
///   `/delta_sigma/covariance` [n, n] or `/delta_sigma/errors` [n] (1σ, M☉/Mpc²).
public struct HaloInput: Sendable {
    public var id: String
    public var redshift: Double
    public var log10TrueMass: Double?
    public var observable: HaloObservable

    public static func fileName(id: String) -> String { "halo-\(id).h5" }

    public func write(to path: String) throws {
        let file = try HDF5File.create(path)
        try file.setAttribute("id", .string(id))
        try file.setAttribute("redshift", .double(redshift))
        if let log10TrueMass { try file.setAttribute("log10_true_mass", .double(log10TrueMass)) }
        try file.write(observable.radii, to: "/delta_sigma/radii")
        try file.write(observable.values, to: "/delta_sigma/values")
        try file.write(observable.covariance.values, shape: [observable.radii.count, observable.radii.count],
                       to: "/delta_sigma/covariance")
        try file.close()
    }

    /// Read and validate a halo file; every problem names the file and the dataset or field.
    public static func read(_ path: String) throws -> HaloInput {
        let file = try HDF5File.open(path)
        defer { try? file.close() }
        guard let id = try file.attribute("id").stringValue else {
            throw HDF5Error(file: path, object: "/ attribute 'id'", operation: "read", message: "must be a string")
        }
        guard let z = try file.attribute("redshift").doubleValue, z.isFinite, z > 0 else {
            throw HDF5Error(file: path, object: "/ attribute 'redshift'", operation: "read", message: "must be a positive number")
        }
        let trueMass = try file.attributeNames().contains("log10_true_mass") ? try file.attribute("log10_true_mass").doubleValue : nil
        let radii = try file.read(Double.self, from: "/delta_sigma/radii").values
        let values = try file.read(Double.self, from: "/delta_sigma/values").values
        do {
            let observable: HaloObservable
            if try file.exists("/delta_sigma/covariance") {
                let c = try file.read(Double.self, from: "/delta_sigma/covariance")
                guard c.shape == [radii.count, radii.count] else {
                    throw HDF5Error(file: path, object: "/delta_sigma/covariance", operation: "read",
                                    message: "shape \(c.shape), expected [\(radii.count), \(radii.count)]")
                }
                observable = try .excessSurfaceDensity(radii: radii, values: values,
                                                       covariance: Matrix(rows: radii.count, columns: radii.count, values: c.values))
            } else {
                let errors = try file.read(Double.self, from: "/delta_sigma/errors").values
                observable = try .excessSurfaceDensity(radii: radii, values: values, errors: errors)
            }
            try observable.validate(lensRedshift: z)
            return HaloInput(id: id, redshift: z, log10TrueMass: trueMass, observable: observable)
        } catch let error as ClusterFittingError {
            throw HDF5Error(file: path, object: "/delta_sigma", operation: "validate", message: "\(error)")
        }
    }
}

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
        let partial = path + ".partial"
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
        try? FileManager.default.removeItem(atPath: path)
        try FileManager.default.moveItem(atPath: partial, toPath: path)
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
