package dev.easel.core;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * How to start an {@link Easel} process.
 *
 * @param home          the distribution folder ({@code bin/}, {@code lib/}, {@code plugins/}, {@code conf/}), or
 *                      {@code null} when embedded
 * @param pluginsDir    the bundles to load with OSGi, or {@code null} for none
 * @param watch         whether to keep watching {@code pluginsDir} for dropped, replaced and removed bundles
 * @param pollInterval  how often the watcher looks
 * @param classpath     whether to also register the SPI providers found on the class path (tests, embedding)
 */
public record EaselOptions(Path home, Path pluginsDir, boolean watch, Duration pollInterval, boolean classpath) {
    public EaselOptions {
        Objects.requireNonNull(pollInterval, "pollInterval is null");
    }

    /** Class-path plugins only: no OSGi framework. For unit tests and embedding. */
    public static EaselOptions embedded() {
        return new EaselOptions(null, null, false, Duration.ofSeconds(1), true);
    }

    /** The layout of an installed distribution: its {@code plugins/} loaded through OSGi. */
    public static EaselOptions distribution(Path home) {
        return new EaselOptions(home, home.resolve("plugins"), false, Duration.ofSeconds(1), false);
    }

    /** The same options with another plugins folder. */
    public EaselOptions withPluginsDir(Path dir) {
        return new EaselOptions(home, dir, watch, pollInterval, classpath);
    }

    /** The same options, watching the plugins folder. */
    public EaselOptions watching(boolean on) {
        return new EaselOptions(home, pluginsDir, on, pollInterval, classpath);
    }

    /** The lockfile of the curated plugin set, if this is a distribution. */
    public Path lockfile() {
        return home == null ? null : home.resolve("conf").resolve("distribution.lock.json");
    }
}
