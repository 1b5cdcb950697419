/// Square stamp footprints in one common pixel frame, and which of them overlap.
///
/// ngmixer's neighbour rule: a stamp is taken to be the extent of its object, so two objects are
/// neighbours when their stamps in the same (coadd) image, each grown by a buffer, overlap.

/// The footprint of one stamp in its parent image: pixel rows rowStart ..< rowStart + size and
/// columns colStart ..< colStart + size (0-based, MEDS `orig_start_row`, `orig_start_col`, `box_size`).
public struct StampBox: Sendable, Equatable {
    public var rowStart: Int
    public var colStart: Int
    public var size: Int

    public init(rowStart: Int, colStart: Int, size: Int) {
        self.rowStart = rowStart; self.colStart = colStart; self.size = size
    }

    /// Whether the two footprints, each grown by `buffer` pixels on every side, share a pixel.
    public func overlaps(_ other: StampBox, buffer: Int) -> Bool {
        let gap = 2 * buffer
        return rowStart < other.rowStart + other.size + gap && other.rowStart < rowStart + size + gap
            && colStart < other.colStart + other.size + gap && other.colStart < colStart + size + gap
    }
}
