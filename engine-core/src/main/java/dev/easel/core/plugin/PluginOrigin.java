package dev.easel.core.plugin;

import java.util.Objects;

/**
 * Where a plugin service came from: a bundle (symbolic name, version, framework id), the class path, or the core.
 *
 * @param bundle        bundle symbolic name, or {@code classpath}/{@code core}
 * @param bundleVersion bundle version, or the jar/engine version
 * @param bundleId      the framework's bundle id, or -1 outside OSGi
 * @param location      the file it was loaded from, or a description
 */
public record PluginOrigin(String bundle, String bundleVersion, long bundleId, String location) {
    public PluginOrigin {
        Objects.requireNonNull(bundle, "bundle is null");
        Objects.requireNonNull(bundleVersion, "bundleVersion is null");
        Objects.requireNonNull(location, "location is null");
    }

    /** Whether the service lives in an OSGi bundle (and can therefore be drained and retired). */
    public boolean isBundle() {
        return bundleId >= 0;
    }
}
