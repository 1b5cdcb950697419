import Foundation
import TesseraRun
import TesseraSupport

/// What one worker returns for one (κ, γ, s) cell: the magnification distributions for every
/// source size and the map's bookkeeping. Saved on rank 0 as a checkpoint file the moment it
/// arrives, so a killed tabulation loses only the cells in flight.
public struct CellResult: Codable, Sendable, Equatable {
    public var index: Int
    /// [source size][bin]: probability density per unit log10(μ/μ_theory), flattened row-major.
    public var pdf: [Double]
    /// Mean magnification of the point-source map (theory: `theoryMagnification`).
    public var meanMagnification: Double
    public var theoryMagnification: Double
    public var rays: Int64
    public var stars: Int64
    public var seed: UInt64
    public var seconds: Double
    public var rank: Int
}

/// The per-cell checkpoint files of a tabulation: `RUN/checkpoint/cell-000012.json`, each written
/// atomically. They are the truth from which the table is (re)written; resume reads them to skip
/// finished cells.
public struct CellCheckpoints {
    public let directory: String

    public init(runDirectory: String) {
        directory = (runDirectory as NSString).appendingPathComponent("checkpoint")
    }

    public func path(for index: Int) -> String {
        (directory as NSString).appendingPathComponent(String(format: "cell-%06d.json", index))
    }

    public func save(_ result: CellResult) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try RunDirectory.writeJSON(result, to: path(for: result.index))
    }

    /// The saved result of a cell, or nil if it has none. A damaged file is an error naming it
    /// (never silently recomputed over, so a real problem is seen).
    public func load(_ index: Int) throws -> CellResult? {
        let file = path(for: index)
        guard FileManager.default.fileExists(atPath: file) else { return nil }
        do {
            return try JSONDecoder().decode(CellResult.self, from: Data(contentsOf: URL(fileURLWithPath: file)))
        } catch {
            throw RunDirectoryError.malformed(file: file, reason: "unreadable cell checkpoint (\(error)); delete it to recompute the cell")
        }
    }

    /// Indices of the cells that have a checkpoint.
    public func finishedIndices() throws -> Set<Int> {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        return Set(names.compactMap { name -> Int? in
            guard name.hasPrefix("cell-"), name.hasSuffix(".json") else { return nil }
            return Int(name.dropFirst(5).dropLast(5))
        })
    }
}
