import Foundation
import SystemPackage
import WorkQueue

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
/// atomically the moment the cell's result reaches rank 0. They are the truth from which the table
/// is (re)written; resume lists them to skip finished cells (`ResumableListScheduler`). A damaged
/// file is an error naming it (`CheckpointError.damaged`), never silently recomputed over.
public typealias CellCheckpoints = JSONCheckpointDirectory<Int, CellResult>

extension JSONCheckpointDirectory where Key == Int, Value == CellResult {
    public init(runDirectory: String) {
        self.init(directory: FilePath(runDirectory).appending("checkpoint").string, itemName: "cell",
                  prefix: "cell-", digits: 6)
    }

    /// Saves a cell's result under its own index.
    public func save(_ result: CellResult) throws { try save(result, for: result.index) }

    /// Indices of the cells that have a checkpoint.
    public func finishedIndices() throws -> Set<Int> { try finishedKeys() }
}
