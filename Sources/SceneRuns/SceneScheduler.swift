import SceneFitting
import WorkQueue

/// The `SuperScene` as the work queue's scheduler; the closures run on rank 0 only.
struct SceneScheduler: WorkScheduler {
    typealias Item = SceneFitRunner.RegionTask
    typealias Result = SceneFitRunner.RegionOutcome
    var scene: SuperScene
    let next: (inout SuperScene) -> Item?
    let complete: (inout SuperScene, Item, Result, Double) throws -> Void
    let fail: (inout SuperScene, Item, String) throws -> Void

    mutating func nextItem(for rank: Int) -> Item? { next(&scene) }
    var isFinished: Bool { !scene.undone && scene.outstanding.isEmpty }
    mutating func complete(_ item: Item, result: Result, rank: Int, seconds: Double) throws { try complete(&scene, item, result, seconds) }
    mutating func fail(_ item: Item, message: String, rank: Int) throws { try fail(&scene, item, message) }
    func label(of item: Item) -> String {
        "patch \(item.region.patchID) (sources \(item.region.active.map(String.init).joined(separator: ", ")))"
    }
}
