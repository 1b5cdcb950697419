import Foundation

/// One magnification map for `model`: star field from `settings.seed`, shooting region from the
/// sizing conventions of `ShootingRegion`. With `threads` > 1 the cell rows are split into that
/// many bands shot concurrently, each into its own count array; the counts are integers, so the
/// map is identical to the single-threaded one.
public func makeMagnificationMap(model: MacroModel, settings: MapSettings, threads: Int = 1) throws -> MagnificationMap {
    let shooter = try RayShooter(model: model, settings: settings)
    let bands = max(1, min(threads, shooter.cellRows))
    guard bands > 1 else { return shooter.makeMap() }
    let n = settings.pixels * settings.pixels
    let rows = shooter.cellRows
    let results = BandResults(count: bands)
    DispatchQueue.concurrentPerform(iterations: bands) { band in
        var counts = [UInt32](repeating: 0, count: n)
        let bound = shooter.shoot(cellRows: (band * rows / bands)..<((band + 1) * rows / bands), into: &counts)
        results.store(band, counts: counts, bound: bound)
    }
    var total = [UInt32](repeating: 0, count: n)
    var bound = 0.0
    for band in 0..<bands {
        let (counts, b) = results.take(band)
        RayShooter.addCounts(counts, into: &total)
        bound = max(bound, b)
    }
    return shooter.makeMap(counts: total, deflectionErrorBound: bound)
}

/// Per-band results of a threaded map, filled from `concurrentPerform`.
private final class BandResults: @unchecked Sendable {
    private var counts: [[UInt32]]
    private var bounds: [Double]
    private let lock = NSLock()

    init(count: Int) {
        counts = Array(repeating: [], count: count)
        bounds = Array(repeating: 0, count: count)
    }

    func store(_ band: Int, counts c: [UInt32], bound: Double) {
        lock.lock(); defer { lock.unlock() }
        counts[band] = c
        bounds[band] = bound
    }

    func take(_ band: Int) -> ([UInt32], Double) {
        lock.lock(); defer { lock.unlock() }
        let c = counts[band]
        counts[band] = []
        return (c, bounds[band])
    }
}
