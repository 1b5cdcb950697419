import Foundation

/// One magnification map for `model`: star field from `settings.seed`, shooting region from the
/// sizing conventions of `ShootingRegion`, by `settings.method`. With `threads` > 1 the cell
/// rows are split into that many bands shot concurrently, each into its own array. Ray counts
/// are integers, so a ray-shooting map is identical to the single-threaded one; a polygon map's
/// sums are added band by band, so it equals the single-threaded one to rounding.
public func makeMagnificationMap(model: MacroModel, settings: MapSettings, threads: Int = 1) throws -> MagnificationMap {
    let shooter = try RayShooter(model: model, settings: settings)
    let bands = max(1, min(threads, shooter.cellRows))
    if settings.method == .polygonMapping {
        guard bands > 1 else { return shooter.makePolygonMap() }
        let n = settings.pixels * settings.pixels
        let rows = shooter.cellRows
        let results = BandResults<Double>(count: bands)
        DispatchQueue.concurrentPerform(iterations: bands) { band in
            var sums = [Double](repeating: 0, count: n)
            let bound = shooter.mapPolygons(cellRows: (band * rows / bands)..<((band + 1) * rows / bands), into: &sums)
            results.store(band, values: sums, bound: bound)
        }
        var total = [Double](repeating: 0, count: n)
        var bound = 0.0
        for band in 0..<bands {
            let (sums, b) = results.take(band)
            RayShooter.addSums(sums, into: &total)
            bound = max(bound, b)
        }
        return shooter.makePolygonMap(sums: total, deflectionErrorBound: bound)
    }
    guard bands > 1 else { return shooter.makeMap() }
    let n = settings.pixels * settings.pixels
    let rows = shooter.cellRows
    let results = BandResults<UInt32>(count: bands)
    DispatchQueue.concurrentPerform(iterations: bands) { band in
        var counts = [UInt32](repeating: 0, count: n)
        let bound = shooter.shoot(cellRows: (band * rows / bands)..<((band + 1) * rows / bands), into: &counts)
        results.store(band, values: counts, bound: bound)
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

/// Per-band results of a threaded map (counts or sums), filled from `concurrentPerform`.
private final class BandResults<Value>: @unchecked Sendable {
    private var counts: [[Value]]
    private var bounds: [Double]
    private let lock = NSLock()

    init(count: Int) {
        counts = Array(repeating: [], count: count)
        bounds = Array(repeating: 0, count: count)
    }

    func store(_ band: Int, values c: [Value], bound: Double) {
        lock.lock(); defer { lock.unlock() }
        counts[band] = c
        bounds[band] = bound
    }

    func take(_ band: Int) -> ([Value], Double) {
        lock.lock(); defer { lock.unlock() }
        let c = counts[band]
        counts[band] = []
        return (c, bounds[band])
    }
}
