import Foundation
import HaloProfiles
import LensInference
import Microlensing
import TesseraHDF5
import TesseraMPI
import TesseraSupport

/// A bad input of `tessera infer`, naming the file it is about (printed as `tessera: error: FILE: …`).
public struct InferInputError: Error, CustomStringConvertible, Equatable {
    public let file: String
    public let message: String
    public init(file: String, message: String) {
        self.file = file
        self.message = message
    }
    public var description: String { "\(file): \(message)" }
}

/// The inputs of an inference run and how they are checked: the magnification table with its version, the lens
/// catalog (a file, or a mock drawn from the configured truth), and the selection table A(η) with its version.
public enum InferInputs {
    /// The cosmology of the mocks and the likelihood (as in the lens-inference tests: flat ΛCDM, H₀ = 70,
    /// Ω_cdm = 0.25, Ω_b = 0.05).
    public static func cosmology() throws -> Cosmology { try Cosmology(H0: 70, omegaCDM: 0.25, omegaBaryon: 0.05) }

    /// The `table_version` root attribute of a table file.
    public static func tableVersion(of path: String) throws -> String {
        let file: HDF5File
        do { file = try HDF5File.open(path) } catch {
            throw InferInputError(file: path, message: "cannot open the magnification table (\(error))")
        }
        defer { try? file.close() }
        guard let version = try? file.attribute("table_version").stringValue else {
            throw InferInputError(file: path, message: "has no table_version attribute (not a table written by `tessera tabulate`)")
        }
        return version
    }

    /// Refuses a version that differs from the expected one (empty `expected`: anything goes).
    /// - Parameter what: "table_version" or "selection-table version", for the message.
    public static func checkVersion(file: String, what: String, found: String, expected: String) throws {
        guard expected.isEmpty || found == expected else {
            throw InferInputError(file: file, message: "\(what) is '\(found)', but this run recorded '\(expected)'; "
                + "use the table the run was made with (or start a new run)")
        }
    }

    /// The table (checked against `expected`) and its version.
    public static func loadTable(_ path: String, expectedVersion: String) throws -> (MicrolensedFlux, String) {
        let version = try tableVersion(of: path)
        try checkVersion(file: path, what: "table_version", found: version, expected: expectedVersion)
        let table: MagnificationTableInterpolator
        do { table = try MagnificationTableInterpolator.load(path) } catch {
            throw InferInputError(file: path, message: "\(error)")
        }
        return (MicrolensedFlux(table: table), version)
    }

    /// The lens catalog: `configuration.catalog` (MockLensCatalog JSON) or a mock drawn from the true η.
    public static func catalog(_ c: InferConfiguration, microlensing: MicrolensedFlux, cosmology: Cosmology) throws -> MockLensCatalog {
        if !c.catalog.isEmpty {
            do {
                return try JSONDecoder().decode(MockLensCatalog.self, from: Data(contentsOf: URL(fileURLWithPath: c.catalog)))
            } catch {
                throw InferInputError(file: c.catalog, message: "not a lens catalog (MockLensCatalog JSON): \(error)")
            }
        }
        let population = try MockPopulation(hyperparameters: c.trueHyperparameters, survey: InferRunner.survey(c), cosmology: cosmology,
                                            microlensing: microlensing)
        return try population.catalog(count: c.mockLenses, seed: c.mockSeed)
    }

    /// What the in-memory selection table is computed from; its hash is the table's version.
    struct SelectionRecipe: Codable {
        var axes: [[Double]]
        var draws: Int
        var seed: UInt64
        var survey: SurveySettings
        var fixed: PopulationHyperparameters
        var tableVersion: String
    }

    /// The version of the selection table these settings give: "mc-" and 16 hex digits of the SHA-256 of the recipe.
    public static func selectionVersion(axes: [[Double]], draws: Int, seed: UInt64, survey: SurveySettings,
                                        fixed: PopulationHyperparameters, tableVersion: String) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let recipe = SelectionRecipe(axes: axes, draws: draws, seed: seed, survey: survey, fixed: fixed, tableVersion: tableVersion)
        return "mc-" + SHA256Digest.hex(of: try encoder.encode(recipe)).prefix(16)
    }

    /// The selection table A(η) on the configured grid, its nodes spread over the ranks (node k on rank k mod size;
    /// each node's Monte Carlo estimate uses the same draws, so the result does not depend on the number of ranks),
    /// combined with one all-reduce. Collective. A node where no draw is selected is an error naming it.
    public static func buildSelection(axes: [[Double]], draws: Int, seed: UInt64, population: MockPopulation,
                                      version: String, communicator comm: Communicator) throws -> SelectionTable {
        var nodes: [[Double]] = []
        for a in axes[0] { for b in axes[1] { for c in axes[2] { for d in axes[3] { nodes.append([a, b, c, d]) } } } }
        let estimator = SelectionFunction(population: population, draws: draws, seed: seed)
        var local = [Double](repeating: 0, count: nodes.count)
        var failure: String?
        for k in nodes.indices where k % comm.size == comm.rank {
            var eta = population.hyperparameters
            eta.inferred = nodes[k]
            do { local[k] = try estimator.estimate(eta).fraction } catch {
                failure = "selection node \(nodes[k]): \(error)"
                break
            }
        }
        let failed = try comm.allreduce(failure == nil ? 0 : 1, .max)
        if failed != 0 { throw InferInputError(file: "selection_axes", message: failure ?? "a selection node failed on another rank") }
        let fractions = try comm.allreduce(local, .sum)
        if let k = fractions.firstIndex(where: { !($0 > 0) }) {
            throw InferInputError(file: "selection_axes", message: "no draw of \(draws) is selected at η = \(nodes[k]) "
                + "(A(η) = 0 there); narrow the grid or add selection_draws")
        }
        return try SelectionTable(version: version, axes: axes, logA: fractions.map { log($0) })
    }
}
