import CFITSIO
import Foundation

/// The kind of a header-data unit.
public enum FITSHDUType: String, Sendable, Equatable {
    /// Primary array or IMAGE extension (possibly with no data, NAXIS = 0).
    case image
    /// BINTABLE extension.
    case binaryTable
    /// TABLE (ASCII table) extension.
    case asciiTable
}

/// Where a `FITSFile` currently points: which HDU, of what kind, and its EXTNAME if it has one.
public struct FITSHDU: Sendable, Equatable {
    /// 0-based HDU index (0 = primary HDU).
    public let index: Int
    public let type: FITSHDUType
    /// Value of EXTNAME (or HDUNAME) in this HDU's header, if present.
    public let extname: String?
}

/// An open FITS file.
///
/// Why a class: the file is a resource that must be closed exactly once. It is closed by
/// `close()` (which reports errors, e.g. a failed final flush) or, if that was never called, by
/// `deinit` (which cannot report them). Always call `close()` after writing.
///
/// Like CFITSIO, a `FITSFile` has a *current HDU*. Every method that works on an HDU takes an
/// optional 0-based `hdu:` index: pass it to say which HDU you mean (the file then stays there), or
/// omit it to use the current HDU. HDU index 0 is the primary HDU.
///
/// Paths are taken literally: CFITSIO's extended file-name syntax (`file.fits[1]`, `!file`,
/// `mem://`, compressed-file suffix handling, …) is deliberately not interpreted, so that a path
/// means exactly that file.
///
/// Not `Sendable`: a CFITSIO file handle must not be used from two threads at once. Open one
/// `FITSFile` per task instead.
public final class FITSFile {
    /// How an existing file is opened.
    public enum Mode: Sendable, Equatable {
        case readOnly
        case readWrite
    }

    /// The path this file was opened or created at, exactly as given.
    public let path: String
    /// Whether this file may be modified.
    public let mode: Mode
    private var handle: UnsafeMutablePointer<fitsfile>?

    /// Opens an existing FITS file.
    ///
    /// - Throws: `FITSError` with reason `.fileNotFound` (message contains "no such file") if the
    ///   path does not exist, `.notFITS` if the file does not start with a valid FITS header, or
    ///   `.cfitsio` for other failures (permissions, I/O errors).
    public init(path: String, mode: Mode = .readOnly) throws {
        self.path = path
        self.mode = mode
        guard FileManager.default.fileExists(atPath: path) else {
            throw FITSError(reason: .fileNotFound, path: path,
                            detail: "cannot open FITS file: no such file")
        }
        var status: Int32 = 0
        var opened: UnsafeMutablePointer<fitsfile>?
        ffdkopn(&opened, path, mode == .readOnly ? READONLY : READWRITE, &status)
        if status != 0 {
            if let opened {
                var ignored: Int32 = 0
                ffclos(opened, &ignored)
            }
            throw Self.openError(status: status, path: path)
        }
        handle = opened
    }

    /// Creates a new, empty FITS file (it has no HDUs until an image or table is appended).
    ///
    /// - Parameter overwrite: replace an existing file at `path`; if `false` an existing file is
    ///   an error (`.fileExists`) and is left untouched.
    public init(creatingAt path: String, overwrite: Bool = false) throws {
        self.path = path
        self.mode = .readWrite
        let fileManager = FileManager.default
        if fileManager.fileExists(atPath: path) {
            guard overwrite else {
                throw FITSError(reason: .fileExists, path: path,
                                detail: "cannot create FITS file: file exists (pass overwrite: true to replace it)")
            }
            do {
                try fileManager.removeItem(atPath: path)
            } catch {
                throw FITSError(reason: .cfitsio, path: path,
                                detail: "cannot create FITS file: could not remove the existing file (\(error.localizedDescription))")
            }
        }
        var status: Int32 = 0
        var created: UnsafeMutablePointer<fitsfile>?
        ffdkinit(&created, path, &status)
        if status != 0 {
            if let created {
                var ignored: Int32 = 0
                ffclos(created, &ignored)
            }
            throw CFITSIOCall.error(status: status, path: path, hdu: nil,
                                    detail: "cannot create FITS file")
        }
        handle = created
    }

    deinit {
        guard let handle else { return }
        var status: Int32 = 0
        ffclos(handle, &status)
        if status != 0 { _ = CFITSIOCall.drainMessages() }
    }

    /// Flushes and closes the file. Safe to call more than once; later calls do nothing.
    ///
    /// A writable file that never received an HDU gets an empty primary HDU first, so that what
    /// is left on disk is a valid FITS file.
    public func close() throws {
        guard let fptr = handle else { return }
        handle = nil
        var status: Int32 = 0
        if mode == .readWrite {
            var count: Int32 = 0
            ffthdu(fptr, &count, &status)
            if status == 0 && count == 0 {
                ffcrim(fptr, 8, 0, nil, &status)
            }
        }
        var closeStatus: Int32 = 0
        ffclos(fptr, &closeStatus)
        let failed = status != 0 ? status : closeStatus
        if failed != 0 {
            throw CFITSIOCall.error(status: failed, path: path, hdu: nil,
                                    detail: "error while closing (data may not have been written completely)")
        }
    }

    /// Whether `close()` has been called.
    public var isClosed: Bool { handle == nil }

    // MARK: HDUs

    /// Number of HDUs in the file (0 for a freshly created file).
    public func hduCount() throws -> Int {
        try withHandle(hdu: nil) { fptr in
            var count: Int32 = 0
            var status: Int32 = 0
            ffthdu(fptr, &count, &status)
            try check(status, hdu: nil, "cannot count HDUs")
            return Int(count)
        }
    }

    /// The HDU the file currently points at.
    public func currentHDU() throws -> FITSHDU {
        try withHandle(hdu: nil) { fptr in
            let index = currentIndex(fptr)
            var type: Int32 = 0
            var status: Int32 = 0
            ffghdt(fptr, &type, &status)
            try check(status, hdu: index, "cannot read HDU type")
            return FITSHDU(index: index, type: try hduType(code: type, hdu: index),
                           extname: extname(fptr))
        }
    }

    /// Makes HDU `index` (0-based; 0 = primary) current and describes it.
    @discardableResult
    public func moveToHDU(_ index: Int) throws -> FITSHDU {
        try withHandle(hdu: index) { _ in }
        return try currentHDU()
    }

    /// Makes the first HDU whose EXTNAME (or HDUNAME) equals `extname` current and describes it.
    /// Matching follows CFITSIO: case-insensitive, trailing blanks ignored.
    @discardableResult
    public func moveToHDU(named extname: String) throws -> FITSHDU {
        try withHandle(hdu: nil) { fptr in
            var status: Int32 = 0
            var name = Array(extname.utf8CString)
            ffmnhd(fptr, ANY_HDU, &name, 0, &status)
            if status == BAD_HDU_NUM {
                _ = CFITSIOCall.drainMessages()
                throw FITSError(reason: .noSuchHDU, path: path,
                                detail: "no HDU has EXTNAME '\(extname)'")
            }
            try check(status, hdu: nil, "cannot move to HDU with EXTNAME '\(extname)'")
        }
        return try currentHDU()
    }

    /// The type of HDU `index` (0-based). Makes that HDU current.
    public func hduType(at index: Int) throws -> FITSHDUType {
        try moveToHDU(index).type
    }

    // MARK: Internal plumbing shared by the image, header and table extensions.

    /// Runs `body` with the open CFITSIO handle, first moving to HDU `hdu` (0-based) if given.
    func withHandle<R>(hdu: Int?, _ body: (UnsafeMutablePointer<fitsfile>) throws -> R) throws -> R {
        guard let fptr = handle else {
            throw FITSError(reason: .fileClosed, path: path, hdu: hdu, detail: "the file has been closed")
        }
        if let hdu {
            var count: Int32 = 0
            var status: Int32 = 0
            ffthdu(fptr, &count, &status)
            try check(status, hdu: hdu, "cannot count HDUs")
            guard hdu >= 0, hdu < Int(count) else {
                throw FITSError(reason: .noSuchHDU, path: path, hdu: hdu,
                                detail: "no such HDU (the file has \(count) HDU\(count == 1 ? "" : "s"), indices are 0-based)")
            }
            ffmahd(fptr, Int32(hdu + 1), nil, &status)
            try check(status, hdu: hdu, "cannot move to HDU",
                      reason: status == END_OF_FILE ? .truncated : .cfitsio)
        }
        return try body(fptr)
    }

    /// Throws a `FITSError` (with CFITSIO's status text and messages) if `status` is non-zero.
    func check(_ status: Int32, hdu: Int?, keyword: String? = nil, column: String? = nil,
               _ detail: @autoclosure () -> String, reason: FITSError.Reason = .cfitsio) throws {
        guard status != 0 else { return }
        var hduIndex = hdu
        if hduIndex == nil, let fptr = handle { hduIndex = currentIndex(fptr) }
        throw CFITSIOCall.error(status: status, reason: reason, path: path, hdu: hduIndex,
                                keyword: keyword, column: column, detail: detail())
    }

    /// 0-based index of the current HDU.
    func currentIndex(_ fptr: UnsafeMutablePointer<fitsfile>) -> Int {
        var number: Int32 = 0
        ffghdn(fptr, &number)
        return Int(number) - 1
    }

    func hduType(code: Int32, hdu: Int) throws -> FITSHDUType {
        switch code {
        case IMAGE_HDU: return .image
        case BINARY_TBL: return .binaryTable
        case ASCII_TBL: return .asciiTable
        default:
            throw FITSError(reason: .cfitsio, path: path, hdu: hdu, detail: "unknown HDU type code \(code)")
        }
    }

    /// EXTNAME (or HDUNAME) of the current HDU, nil if absent.
    func extname(_ fptr: UnsafeMutablePointer<fitsfile>) -> String? {
        for key in ["EXTNAME", "HDUNAME"] {
            var status: Int32 = 0
            var value = CFITSIOCall.buffer(FLEN_VALUE)
            ffgkys(fptr, key, &value, nil, &status)
            if status == 0 { return CFITSIOCall.string(fromCBuffer: value) }
            _ = CFITSIOCall.drainMessages()
        }
        return nil
    }

    /// Classifies a failed open. Every FITS file starts with the card `SIMPLE  =`; a file that
    /// does not is "not FITS" whatever CFITSIO's status (it reports e.g. a read error for a short
    /// text file). One that does but runs out of bytes is truncated.
    private static func openError(status: Int32, path: String) -> FITSError {
        let signature = Array("SIMPLE  =".utf8)
        let start = FileHandle(forReadingAtPath: path).map { handle -> [UInt8] in
            defer { try? handle.close() }
            return [UInt8]((try? handle.read(upToCount: signature.count)) ?? Data())
        }
        if let start, start != signature {
            return CFITSIOCall.error(status: status, reason: .notFITS, path: path, hdu: nil,
                                     detail: "not a FITS file (it does not begin with the card 'SIMPLE  =')")
        }
        if status == END_OF_FILE || status == 108 /* READ_ERROR */ {
            return CFITSIOCall.error(status: status, reason: .truncated, path: path, hdu: nil,
                                     detail: "cannot open FITS file: it ends inside its first header (truncated)")
        }
        return CFITSIOCall.error(status: status, path: path, hdu: nil, detail: "cannot open FITS file")
    }
}

extension FITSFile {
    /// The CFITSIO version compiled against, e.g. "4.2.0", for `tessera info` and run metadata.
    public static var libraryVersion: String { "\(CFITSIO_MAJOR).\(CFITSIO_MINOR).\(CFITSIO_MICRO)" }
}
