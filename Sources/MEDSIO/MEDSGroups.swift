/// Neighbour lists and friends-of-friends groups of a MEDS file, and their FITS tables.
///
/// As ngmixer does: neighbours from each object's first cutout (the coadd) — stamps that overlap
/// with a buffer, or other objects' seg ids inside the stamp — then FoF groups linking each
/// object to its neighbours. Two tables, keyed by the seg `number`:
/// - neighbour list (EXTNAME `nbrs`): `number`, `nbr_number`, one row per ordered pair;
/// - group membership (EXTNAME `fofs`): `fofid`, `number`, one row per object, grouped by fofid.
/// Both are functions of the file and the settings only, so rerunning gives identical tables.
import Foundation
import Stamps
import TesseraFITS

public enum MEDSGroups {
    /// How neighbours are found.
    public enum Method: String, Sendable, CaseIterable, Codable {
        /// Cutout-0 footprints (`orig_start_row/col`, `box_size`) grown by the buffer overlap.
        case stamps
        /// Another object's seg number appears in the object's cutout-0 `seg_cutouts` stamp.
        case seg
    }

    /// The neighbour list of `file`'s objects (indices), from their first cutouts.
    ///
    /// With `.stamps`, footprints are compared only between objects whose cutout 0 comes from the
    /// same image (`file_id`), since positions in different images are not comparable.
    public static func neighbours(of file: MEDSFile, method: Method, buffer: Int = 0) throws -> NeighbourList {
        switch method {
        case .stamps:
            var byImage: [Int64: [Int]] = [:]
            for i in 0..<file.objectCount { byImage[file.fileIDs[i * file.maxCutouts], default: []].append(i) }
            var pairs: [(Int, Int)] = []
            for members in byImage.values {
                let boxes = members.map { i in
                    StampBox(rowStart: Int(file.origStartRows[i * file.maxCutouts]), colStart: Int(file.origStartCols[i * file.maxCutouts]),
                             size: file.boxSizes[i])
                }
                let local = NeighbourList.overlappingBoxes(boxes, buffer: buffer)
                pairs += local.rows.map { (members[$0.object], members[$0.neighbour]) }
            }
            return NeighbourList(count: file.objectCount, pairs: pairs)
        case .seg:
            guard file.cutoutHDUs[.seg] != nil else {
                throw MEDSError(path: file.path, hdu: "seg_cutouts", detail: "neighbours from segmentation need the seg_cutouts HDU")
            }
            let ids = try (0..<file.objectCount).map { Set(try file.intCutout(.seg, object: $0, cutout: 0).map { Int64($0) }) }
            return NeighbourList.segmentation(segIDs: ids, numbers: file.numbers)
        }
    }

    /// Writes the neighbour list as a FITS table (`number`, `nbr_number`) at `path`.
    public static func writeNeighbourTable(_ list: NeighbourList, numbers: [Int64], to path: String) throws {
        let rows = list.rows
        try writeTable([.int64("number", rows.map { numbers[$0.object] }), .int64("nbr_number", rows.map { numbers[$0.neighbour] })],
                       extname: "nbrs", to: path)
    }

    /// Writes the group membership as a FITS table (`fofid`, `number`) at `path`, rows ordered by
    /// fofid, then by object index.
    public static func writeGroupTable(_ groups: FriendsOfFriends, numbers: [Int64], to path: String) throws {
        let rows = groups.members.enumerated().flatMap { g, members in members.map { (g, $0) } }
        try writeTable([.int64("fofid", rows.map { Int64($0.0) }), .int64("number", rows.map { numbers[$0.1] })],
                       extname: "fofs", to: path)
    }

    /// Reads a group table written by `writeGroupTable` (or ngmixer): (fofid, number) per row.
    public static func readGroupTable(_ path: String) throws -> [(fofid: Int64, number: Int64)] {
        let fits = try FITSFile(path: path)
        defer { try? fits.close() }
        let hdu = try fits.moveToHDU(named: "fofs").index
        let fofid = try fits.readIntegerColumn("fofid", hdu: hdu).values
        let number = try fits.readIntegerColumn("number", hdu: hdu).values
        return Array(zip(fofid, number)).map { (fofid: $0.0, number: $0.1) }
    }

    private static func writeTable(_ columns: [FITSColumn], extname: String, to path: String) throws {
        let fits = try FITSFile(creatingAt: path)
        try fits.appendTable(columns, extname: extname)
        try fits.close()
    }
}
