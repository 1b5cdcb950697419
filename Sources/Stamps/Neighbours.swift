/// Neighbour lists: for each object, the other objects whose light may reach its stamps.
///
/// Two sources, as in ngmixer: overlapping stamps (geometry only) or segmentation maps (another
/// object's seg id inside an object's stamp). Lists are symmetric, sorted and free of
/// duplicates, so the same input always gives the same list.

/// A symmetric neighbour relation over objects 0..<count (indices, not catalogue numbers).
public struct NeighbourList: Sendable, Equatable {
    /// neighbours[i]: indices of i's neighbours, ascending, never containing i.
    public let neighbours: [[Int]]

    public var count: Int { neighbours.count }

    /// Builds the symmetric closure of `pairs` (i, j) over `count` objects; self-pairs are dropped.
    public init(count: Int, pairs: [(Int, Int)]) {
        var sets = [Set<Int>](repeating: [], count: count)
        for (i, j) in pairs where i != j {
            precondition(i >= 0 && i < count && j >= 0 && j < count, "NeighbourList: pair (\(i), \(j)) outside 0..<\(count)")
            sets[i].insert(j)
            sets[j].insert(i)
        }
        neighbours = sets.map { $0.sorted() }
    }

    /// Objects whose boxes (in one common frame) overlap when each is grown by `buffer` pixels.
    ///
    /// A sweep over boxes sorted by first row: only boxes whose row ranges can meet are compared,
    /// so a tile of N sparse objects costs about N log N, not N².
    public static func overlappingBoxes(_ boxes: [StampBox], buffer: Int) -> NeighbourList {
        let order = boxes.indices.sorted { (boxes[$0].rowStart, $0) < (boxes[$1].rowStart, $1) }
        var pairs: [(Int, Int)] = []
        for (k, i) in order.enumerated() {
            let reach = boxes[i].rowStart + boxes[i].size + 2 * buffer
            var m = k + 1
            while m < order.count, boxes[order[m]].rowStart < reach {
                let j = order[m]
                if boxes[i].overlaps(boxes[j], buffer: buffer) { pairs.append((i, j)) }
                m += 1
            }
        }
        return NeighbourList(count: boxes.count, pairs: pairs)
    }

    /// Objects named in each other's segmentation stamps: `segIDs[i]` holds the seg ids found in
    /// object i's stamp (0 is sky), `numbers[j]` is object j's seg number. Ids that belong to no
    /// object (e.g. objects cut from the catalogue) are ignored.
    public static func segmentation(segIDs: [Set<Int64>], numbers: [Int64]) -> NeighbourList {
        precondition(segIDs.count == numbers.count, "NeighbourList.segmentation: one id set per object")
        var index: [Int64: Int] = [:]
        for (i, n) in numbers.enumerated() { index[n] = index[n] ?? i }
        var pairs: [(Int, Int)] = []
        for (i, ids) in segIDs.enumerated() {
            for id in ids.sorted() where id != 0 && id != numbers[i] {
                if let j = index[id] { pairs.append((i, j)) }
            }
        }
        return NeighbourList(count: numbers.count, pairs: pairs)
    }

    /// The list as (object, neighbour) rows, object-major, both ascending; what a neighbour table stores.
    public var rows: [(object: Int, neighbour: Int)] {
        neighbours.enumerated().flatMap { i, list in list.map { (i, $0) } }
    }
}
