package dev.easel.cli;

import dev.easel.core.Easel;
import dev.easel.core.EaselOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * Where the engine finds its plugins; shared by every command that starts one. Defaults to the distribution
 * folder the launcher runs from ({@code -Deasel.home}, set by {@code bin/easel}).
 */
public final class EngineOptions {
    @Option(names = "--plugins", paramLabel = "DIR",
            description = "Folder of plugin bundles (default: the distribution's plugins/ folder).")
    Path pluginsDir;

    @Option(names = "--home", paramLabel = "DIR", hidden = true,
            description = "The distribution folder (default: -Deasel.home).")
    Path home;

    /** The distribution folder, if known. */
    public Path home() {
        if (home != null) {
            return home;
        }
        String prop = System.getProperty("easel.home");
        return prop == null ? null : Path.of(prop);
    }

    /** The options these flags describe. */
    public EaselOptions options(boolean watch) {
        Path h = home();
        EaselOptions opts = h != null ? EaselOptions.distribution(h) : EaselOptions.embedded();
        if (pluginsDir != null) {
            if (!Files.isDirectory(pluginsDir)) {
                throw new IllegalArgumentException("plugins folder " + pluginsDir + " does not exist");
            }
            opts = opts.withPluginsDir(pluginsDir);
        }
        return opts.watching(watch && opts.pluginsDir() != null);
    }

    /** Starts an engine. */
    public Easel start(boolean watch) {
        return Easel.start(options(watch));
    }
}
