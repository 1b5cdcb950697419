import Astrometry
import Foundation

/// Building a `WCS` (the pure TAN math lives in Astrometry) from FITS header keywords and writing
/// it back.
extension WCS {
    /// Reads a TAN WCS from `header` (primary WCS only; alternate WCSs such as CTYPE1A are ignored).
    ///
    /// Required: CTYPE1 = 'RA---TAN', CTYPE2 = 'DEC--TAN', CRVAL1/2 (deg), CRPIX1/2 (1-based).
    /// Linear part, in order of precedence:
    /// 1. CDi_j if any is present (absent elements are 0); PCi_j alongside is ambiguous and refused;
    /// 2. otherwise CDELT1/2 (required) times PCi_j if any is present (defaults: identity);
    /// 3. otherwise CDELT1/2 with the rotation CROTA2 (deg, default 0), the AIPS convention:
    ///    CD = [[CDELT1 cos ρ, −CDELT2 sin ρ], [CDELT1 sin ρ, CDELT2 cos ρ]].
    /// LONPOLE, if present, must be 180. CUNIT1/2, if present, must be 'deg'.
    ///
    /// - Throws: `FITSError` naming the header's file, HDU and the offending keyword:
    ///   `.missingKeyword`, `.wrongKeywordType`, or `.unsupportedWCS` (other projections,
    ///   -SIP or PV distortions, LONPOLE ≠ 180, …).
    public init(header: FITSHeader) throws {
        func unsupported(_ keyword: String, _ detail: String) -> FITSError {
            FITSError(reason: .unsupportedWCS, path: header.path, hdu: header.hdu, keyword: keyword, detail: detail)
        }
        for (axis, expected) in [(1, "RA---TAN"), (2, "DEC--TAN")] {
            let key = "CTYPE\(axis)"
            let ctype = try header.string(key).trimmingBlanks().uppercased()
            if ctype.hasSuffix("-SIP") {
                throw unsupported(key, "SIP distortion ('\(ctype)') is not supported; only undistorted '\(expected)'")
            }
            guard ctype == expected else {
                throw unsupported(key, "'\(ctype)' is not supported; only '\(expected)' (celestial TAN, RA first)")
            }
            if let unit = try header.string(ifPresent: "CUNIT\(axis)"), unit.trimmingBlanks().lowercased() != "deg" {
                throw unsupported("CUNIT\(axis)", "unit '\(unit)' is not supported; only 'deg'")
            }
        }
        for key in ["A_ORDER", "B_ORDER", "AP_ORDER", "BP_ORDER"] where header.contains(key) {
            throw unsupported(key, "SIP distortion keywords are not supported")
        }
        for card in header.cards where card.key.hasPrefix("PV1_") || card.key.hasPrefix("PV2_") {
            if case let .double(v) = card.value, v == 0 { continue }
            if case let .int(v) = card.value, v == 0 { continue }
            throw unsupported(card.key, "projection parameters / PV distortion are not supported")
        }
        if let lonpole = try header.double(ifPresent: "LONPOLE"), lonpole != 180 {
            throw unsupported("LONPOLE", "LONPOLE = \(lonpole) is not supported; only 180 (the TAN default)")
        }

        let crval1 = try header.double("CRVAL1")
        let crval2 = try header.double("CRVAL2")
        let crpix1 = try header.double("CRPIX1")
        let crpix2 = try header.double("CRPIX2")

        let cdKeys = ["CD1_1", "CD1_2", "CD2_1", "CD2_2"]
        let pcKeys = ["PC1_1", "PC1_2", "PC2_1", "PC2_2"]
        let cd: [Double]
        if let firstCD = cdKeys.first(where: header.contains) {
            if let pc = pcKeys.first(where: header.contains) {
                throw unsupported(pc, "header has both \(firstCD) and \(pc); CD and PC matrices are mutually exclusive")
            }
            cd = try cdKeys.map { try header.double(ifPresent: $0) ?? 0 }
        } else {
            let cdelt1 = try header.double("CDELT1")
            let cdelt2 = try header.double("CDELT2")
            if pcKeys.contains(where: header.contains) {
                let pc = try zip(pcKeys, [1.0, 0, 0, 1]).map { try header.double(ifPresent: $0) ?? $1 }
                cd = [cdelt1 * pc[0], cdelt1 * pc[1], cdelt2 * pc[2], cdelt2 * pc[3]]
            } else {
                let rho = (try header.double(ifPresent: "CROTA2") ?? 0) * (Double.pi / 180)
                cd = [cdelt1 * cos(rho), -cdelt2 * sin(rho), cdelt1 * sin(rho), cdelt2 * cos(rho)]
            }
        }
        do {
            try self.init(crval1: crval1, crval2: crval2, crpix1: crpix1, crpix2: crpix2,
                          cd11: cd[0], cd12: cd[1], cd21: cd[2], cd22: cd[3])
        } catch let error as WCSError {
            throw FITSError(reason: .unsupportedWCS, path: header.path, hdu: header.hdu, keyword: error.keyword,
                            detail: error.detail)
        }
    }

    /// The header cards that describe this WCS (CTYPE, CUNIT, CRVAL, CRPIX, CD), in standard order.
    public var headerCards: [FITSHeader.Card] {
        [
            .init(key: "CTYPE1", value: .string("RA---TAN"), comment: "gnomonic projection"),
            .init(key: "CTYPE2", value: .string("DEC--TAN"), comment: "gnomonic projection"),
            .init(key: "CUNIT1", value: .string("deg"), comment: ""),
            .init(key: "CUNIT2", value: .string("deg"), comment: ""),
            .init(key: "CRVAL1", value: .double(crval1), comment: "[deg] RA of reference point"),
            .init(key: "CRVAL2", value: .double(crval2), comment: "[deg] Dec of reference point"),
            .init(key: "CRPIX1", value: .double(crpix1), comment: "[pix] reference pixel x (1-based)"),
            .init(key: "CRPIX2", value: .double(crpix2), comment: "[pix] reference pixel y (1-based)"),
            .init(key: "CD1_1", value: .double(cd11), comment: "[deg/pix] linear transformation"),
            .init(key: "CD1_2", value: .double(cd12), comment: "[deg/pix] linear transformation"),
            .init(key: "CD2_1", value: .double(cd21), comment: "[deg/pix] linear transformation"),
            .init(key: "CD2_2", value: .double(cd22), comment: "[deg/pix] linear transformation"),
        ]
    }

    /// Keywords of other linear-transformation conventions that would contradict the CD matrix
    /// if left in a header next to it.
    static let conflictingKeywords = ["PC1_1", "PC1_2", "PC2_1", "PC2_2", "CDELT1", "CDELT2", "CROTA1", "CROTA2"]

    /// Writes this WCS into `header`: sets `headerCards` and removes PC, CDELT and CROTA keywords,
    /// which would contradict the CD matrix.
    public func write(into header: inout FITSHeader) {
        for key in Self.conflictingKeywords { header.remove(key) }
        for card in headerCards { header.set(card.key, card.value, comment: card.comment) }
    }
}

extension FITSFile {
    /// Writes `wcs` into the header of HDU `hdu` (0-based; nil = current), removing PC, CDELT
    /// and CROTA keywords that would contradict its CD matrix.
    public func writeWCS(_ wcs: WCS, hdu: Int? = nil) throws {
        for key in WCS.conflictingKeywords {
            while try deleteKeyword(key, hdu: hdu) {}
        }
        try writeKeywords(wcs.headerCards, hdu: hdu)
    }
}
