import XCTest

/// Fails the test unless `body` throws an error of type `E`, and returns that error for
/// inspection (nil after a failure). The XCTest form of Swift Testing's `#expect(throws: E.self)`.
@discardableResult
public func assertThrows<E: Error, R>(_ type: E.Type, file: StaticString = #filePath, line: UInt = #line,
                                      _ body: () throws -> R) -> E? {
    do {
        _ = try body()
        XCTFail("expected \(E.self), nothing was thrown", file: file, line: line)
    } catch let error as E {
        return error
    } catch {
        XCTFail("expected \(E.self), got \(Swift.type(of: error)): \(error)", file: file, line: line)
    }
    return nil
}

/// Fails the test unless `body` throws exactly `expected`. The XCTest form of Swift Testing's
/// `#expect(throws: expected)`.
@discardableResult
public func assertThrows<E: Error & Equatable, R>(_ expected: E, file: StaticString = #filePath, line: UInt = #line,
                                                  _ body: () throws -> R) -> E? {
    guard let error = assertThrows(E.self, file: file, line: line, body) else { return nil }
    XCTAssertEqual(error, expected, file: file, line: line)
    return error
}
