package dev.easel.core.dist;

import dev.easel.core.osgi.BundleFile;
import dev.easel.core.osgi.BundleVerifier;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The run-time side of a lockfile: a bundle named in it must have exactly the pinned bytes, or it is refused.
 * Bundles not named in it (a user's drop-ins) load as usual and are logged as unpinned.
 */
public final class CuratedPlugins implements BundleVerifier {
    private static final Logger LOG = LoggerFactory.getLogger(CuratedPlugins.class);

    private final Path lockfile;
    private final Map<String, Lockfile.Entry> byFile = new HashMap<>();

    private CuratedPlugins(Path lockfile, Lockfile lock) {
        this.lockfile = lockfile;
        for (Lockfile.Entry e : lock.plugins()) {
            byFile.put(e.file(), e);
        }
    }

    /** Reads the lockfile of a distribution. */
    public static CuratedPlugins read(Path lockfile) throws IOException {
        return new CuratedPlugins(lockfile, Lockfile.read(lockfile));
    }

    @Override
    public Optional<String> check(BundleFile file) {
        Lockfile.Entry pinned = byFile.get(file.path().getFileName().toString());
        if (pinned == null) {
            LOG.info("{} is not pinned by {}; loading it as a drop-in", file.path().getFileName(),
                    lockfile.getFileName());
            return Optional.empty();
        }
        if (!pinned.sha256().equalsIgnoreCase(file.sha256())) {
            return Optional.of("sha256 " + file.sha256() + " differs from the pin " + pinned.sha256() + " in "
                    + lockfile + " (" + pinned.groupId() + ":" + pinned.artifactId() + ":" + pinned.version() + ")");
        }
        return Optional.empty();
    }
}
