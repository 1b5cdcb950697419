import Foundation
import XCTest
@testable import TesseraRun

/// A configuration with a nested section, as scene and cluster configs will have.
struct SamplingSection: Configuration, Equatable {
    var warmup = 256
    var draws = 512
    init() {}
    typealias Key = CodingKeys
    enum CodingKeys: String, CodingKey, CaseIterable { case warmup, draws }
    static func describe(_ key: Key) -> String {
        switch key {
        case .warmup: return "Warm-up iterations per region."
        case .draws: return "Posterior draws per region."
        }
    }
    init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: Key.self)
        warmup = try c.decodeIfPresent(Int.self, forKey: .warmup) ?? 256
        draws = try c.decodeIfPresent(Int.self, forKey: .draws) ?? 512
    }
}

struct ExampleConfig: Configuration, Equatable {
    var bands: [String] = ["F200W"]
    var seed: UInt64 = 1
    var sampling = SamplingSection()
    init() {}
    typealias Key = CodingKeys
    enum CodingKeys: String, CodingKey, CaseIterable { case bands, seed, sampling }
    static func describe(_ key: Key) -> String {
        switch key {
        case .bands: return "Filter names to fit."
        case .seed: return "Random seed."
        case .sampling: return "HMC settings (mapping)."
        }
    }
    init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: Key.self)
        bands = try c.decodeIfPresent([String].self, forKey: .bands) ?? ["F200W"]
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? 1
        sampling = try c.decodeIfPresent(SamplingSection.self, forKey: .sampling) ?? SamplingSection()
    }
    func validate() throws {
        if bands.isEmpty { throw InvalidConfigValue(field: "bands", reason: "at least one band is needed") }
    }
}

final class ConfigurationTests: XCTestCase {
    func parse(_ yaml: String) throws -> ExampleConfig {
        try ConfigLoader.parse(ExampleConfig.self, yaml: yaml, file: "run.yaml")
    }

    func testValidConfigAndDefaults() throws {
        let c = try parse("bands: [F090W, F444W]\nsampling:\n  draws: 100\n")
        XCTAssertEqual(c.bands, ["F090W", "F444W"])
        XCTAssertEqual(c.sampling.draws, 100)
        XCTAssertEqual(c.sampling.warmup, 256)
        XCTAssertEqual(c.seed, 1)
        XCTAssertEqual(try parse(""), ExampleConfig())
    }

    func testUnknownTopLevelKeyNamesFileKeyAndSuggestion() {
        XCTAssertThrowsError(try parse("bands: [F090W]\nsede: 4\n")) { error in
            XCTAssertEqual(error as? ConfigError, .unknownKey(file: "run.yaml", field: "sede", suggestion: "seed"))
            XCTAssertTrue("\(error)".hasPrefix("run.yaml: unknown key 'sede' (did you mean 'seed'?)"), "\(error)")
        }
    }

    func testUnknownNestedKeyGivesDottedPath() {
        XCTAssertThrowsError(try parse("sampling:\n  warmpu: 10\n")) { error in
            XCTAssertEqual(error as? ConfigError, .unknownKey(file: "run.yaml", field: "sampling.warmpu", suggestion: "warmup"))
        }
    }

    func testMistypedValueNamesField() {
        XCTAssertThrowsError(try parse("sampling:\n  draws: lots\n")) { error in
            guard case let .wrongType(file, field, expected, _)? = error as? ConfigError else {
                return XCTFail("\(error)")
            }
            XCTAssertEqual(file, "run.yaml")
            XCTAssertEqual(field, "sampling.draws")
            XCTAssertEqual(expected, "an integer")
        }
        XCTAssertThrowsError(try parse("bands: F090W\n")) { error in
            XCTAssertTrue("\(error)".contains("field 'bands'"), "\(error)")
        }
    }

    func testInvalidValueAndSyntaxAndMissingFile() {
        XCTAssertThrowsError(try parse("bands: []\n")) { error in
            XCTAssertEqual(error as? ConfigError, .invalidValue(file: "run.yaml", field: "bands", reason: "at least one band is needed"))
        }
        XCTAssertThrowsError(try parse("bands: [F090W\nseed: 3\n")) { error in
            guard case .syntax(file: "run.yaml", _)? = error as? ConfigError else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try parse("- just\n- a list\n")) { error in
            XCTAssertTrue("\(error)".contains("must be a mapping"), "\(error)")
        }
        XCTAssertThrowsError(try ConfigLoader.load(ExampleConfig.self, from: "/nonexistent/run.yaml")) { error in
            XCTAssertEqual("\(error)", "/nonexistent/run.yaml: configuration file not found")
        }
    }

    /// The resolved configuration written as JSON (params.json) reads back as the same value.
    func testJSONParamsReadBackAsYAML() throws {
        var c = ExampleConfig()
        c.seed = 99
        c.sampling.draws = 7
        let json = String(decoding: try JSONEncoder().encode(c), as: UTF8.self)
        XCTAssertEqual(try parse(json), c)
    }

    func testTemplateDocumentsEveryKey() {
        let template = ExampleConfig.documentedTemplate(title: "example")
        for key in ExampleConfig.Key.allCases {
            XCTAssertTrue(template.contains("\n\(key.stringValue): "), "key \(key.stringValue) missing from template")
            XCTAssertTrue(template.contains("# " + ExampleConfig.describe(key)))
        }
        XCTAssertTrue(template.contains("seed: 1"))
    }
}
