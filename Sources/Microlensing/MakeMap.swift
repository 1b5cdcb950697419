/// One magnification map for `model`: star field from `settings.seed`, shooting region from the
/// sizing conventions of `ShootingRegion`, rays shot on one thread.
public func makeMagnificationMap(model: MacroModel, settings: MapSettings) throws -> MagnificationMap {
    try RayShooter(model: model, settings: settings).makeMap()
}
