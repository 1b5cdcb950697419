import Foundation
import Plotting
import TesseraPNG

/// One self-contained HTML page: headings, paragraphs, tables, warnings, and pictures embedded
/// as `data:` URIs (PNG rasters and SVG figures, each an `<img>` so the browser decodes it).
///
/// A picture larger than `inlineLimit` bytes is written to `assets` (the run's `report/`
/// folder) and linked relatively instead, so a huge mosaic does not make a page browsers choke
/// on; the page then needs that folder beside it.
struct HTMLPage {
    var title: String
    private var body: [String] = []
    private(set) var pictures = 0
    /// Files written beside the page (relative paths), for pictures over the inline limit.
    private(set) var linkedFiles: [String] = []
    let assets: (directory: String, relative: String)?
    var inlineLimit = 4 << 20

    init(title: String, assets: (directory: String, relative: String)? = nil) {
        self.title = title
        self.assets = assets
    }

    static func escape(_ s: String) -> String { SVGDocument.escape(s) }

    mutating func heading(_ text: String, level: Int = 2, id: String? = nil) {
        body.append("<h\(level)\(id.map { " id=\"\(Self.escape($0))\"" } ?? "")>\(Self.escape(text))</h\(level)>")
    }

    mutating func paragraph(_ text: String, className: String? = nil) {
        body.append("<p\(className.map { " class=\"\($0)\"" } ?? "")>\(Self.escape(text))</p>")
    }

    /// A bulleted list of warnings (shown in a highlighted box), or "none".
    mutating func warnings(_ items: [String]) {
        if items.isEmpty { body.append("<p class=\"ok\">No warnings or flags.</p>"); return }
        body.append("<ul class=\"warn\">" + items.map { "<li>\(Self.escape($0))</li>" }.joined() + "</ul>")
    }

    /// A table; `header` may be empty for key–value tables.
    mutating func table(header: [String], rows: [[String]], className: String = "data") {
        var s = "<table class=\"\(className)\">"
        if !header.isEmpty { s += "<tr>" + header.map { "<th>\(Self.escape($0))</th>" }.joined() + "</tr>" }
        for r in rows { s += "<tr>" + r.map { "<td>\(Self.escape($0))</td>" }.joined() + "</tr>" }
        body.append(s + "</table>")
    }

    mutating func keyValues(_ pairs: [(String, String)]) {
        table(header: [], rows: pairs.map { [$0.0, $0.1] }, className: "kv")
    }

    /// A raster as an embedded PNG.
    mutating func picture(_ raster: RGBRaster, name: String, caption: String, alt: String? = nil) throws {
        let png = try PNGImage(width: raster.width, height: raster.height, channels: .rgb, pixels: raster.pixels).encoded()
        try embed(bytes: png, mime: "image/png", name: name + ".png", caption: caption, alt: alt ?? caption, width: raster.width)
    }

    /// An SVG figure as an embedded image.
    mutating func figure(_ figure: Figure, name: String, caption: String? = nil) throws {
        try embed(bytes: Array(figure.svg.utf8), mime: "image/svg+xml", name: name + ".svg", caption: caption,
                  alt: caption ?? figure.title ?? name, width: Int(figure.width))
    }

    private mutating func embed(bytes: [UInt8], mime: String, name: String, caption: String?, alt: String, width: Int) throws {
        let src: String
        if bytes.count > inlineLimit, let assets {
            try FileManager.default.createDirectory(atPath: assets.directory, withIntermediateDirectories: true)
            try Data(bytes).write(to: URL(fileURLWithPath: assets.directory).appendingPathComponent(name), options: .atomic)
            src = assets.relative + "/" + name
            linkedFiles.append(src)
        } else {
            src = "data:\(mime);base64," + Data(bytes).base64EncodedString()
        }
        pictures += 1
        var s = "<figure><img src=\"\(Self.escape(src))\" alt=\"\(Self.escape(alt))\" style=\"max-width:100%;width:\(width)px\">"
        if let caption { s += "<figcaption>\(Self.escape(caption))</figcaption>" }
        body.append(s + "</figure>")
    }

    mutating func raw(_ html: String) { body.append(html) }

    /// The body elements so far (to move a section built separately into this page).
    var bodyHTML: String { body.joined(separator: "\n") }

    /// Counts `other`'s pictures and linked files as this page's (after `raw(other.bodyHTML)`).
    mutating func adopt(_ other: HTMLPage) {
        pictures += other.pictures
        linkedFiles += other.linkedFiles
    }

    var html: String {
        """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(Self.escape(title))</title>
        <style>
        body{font-family:Helvetica,Arial,sans-serif;margin:1.5em auto;max-width:1100px;padding:0 1em;color:#222}
        h1{font-size:1.5em;border-bottom:2px solid #1f77b4;padding-bottom:.2em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ccc}
        h3{font-size:1.05em}table{border-collapse:collapse;margin:.5em 0;font-size:.9em}td,th{border:1px solid #ddd;padding:.2em .6em;text-align:left}
        th{background:#f3f3f3}table.kv td:first-child{font-weight:bold;background:#fafafa}
        ul.warn{background:#fff4e5;border-left:4px solid #ff7f0e;padding:.6em 2em}p.ok{color:#2ca02c}p.note{color:#666;font-size:.9em}
        figure{margin:.8em 0}figcaption{font-size:.85em;color:#555}img{image-rendering:pixelated;border:1px solid #eee}
        </style></head><body>
        \(body.joined(separator: "\n"))
        </body></html>

        """
    }
}

/// PNG bytes of a raster as a `data:` URI (for pictures inside SVG figures).
enum PNGData {
    static func dataURI(_ raster: RGBRaster) throws -> String {
        let png = try PNGImage(width: raster.width, height: raster.height, channels: .rgb, pixels: raster.pixels).encoded()
        return "data:image/png;base64," + Data(png).base64EncodedString()
    }
}
