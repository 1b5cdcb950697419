/// Friends-of-friends groups: objects linked through chains of neighbours, fitted together.
///
/// Union–find with path halving and union by smallest index; group ids are then assigned in the
/// order of each group's smallest member index, so they depend only on the neighbour list, not
/// on the order links were made. Isolated objects are groups of one.
public struct FriendsOfFriends: Sendable, Equatable {
    /// groupOf[i]: 0-based group id of object i.
    public let groupOf: [Int]
    /// members[g]: object indices of group g, ascending; groups ordered by their first member.
    public let members: [[Int]]

    public init(_ list: NeighbourList) {
        var parent = Array(0..<list.count)
        func find(_ x: Int) -> Int {
            var x = x
            while parent[x] != x {
                parent[x] = parent[parent[x]]
                x = parent[x]
            }
            return x
        }
        for (i, neighbours) in list.neighbours.enumerated() {
            for j in neighbours {
                let a = find(i), b = find(j)
                if a != b { parent[max(a, b)] = min(a, b) }  // the root is always the smallest index
            }
        }
        var idOfRoot: [Int: Int] = [:]
        var groupOf = [Int](repeating: 0, count: list.count)
        var members: [[Int]] = []
        for i in 0..<list.count {
            let root = find(i)
            if let g = idOfRoot[root] {
                groupOf[i] = g
                members[g].append(i)
            } else {
                idOfRoot[root] = members.count
                groupOf[i] = members.count
                members.append([i])
            }
        }
        self.groupOf = groupOf
        self.members = members
    }

    public var groupCount: Int { members.count }

    /// Fraction of objects in groups of two or more.
    public var blendedFraction: Double {
        groupOf.isEmpty ? 0 : Double(members.filter { $0.count > 1 }.reduce(0) { $0 + $1.count }) / Double(groupOf.count)
    }
}
