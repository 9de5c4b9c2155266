package dev.easel.core.osgi;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Polls a plugins directory and tells the host about jars that appeared, changed or disappeared.
 *
 * <p>Polling rather than a {@link java.nio.file.WatchService}: it behaves the same on every file system (network
 * mounts, containers), and a file is acted on only once its size and modification time have held still for one
 * interval, so a half-copied jar is never installed. With the default 1 s interval a dropped bundle's services are
 * registered within about 2 s.
 */
final class PluginDirectoryWatcher implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PluginDirectoryWatcher.class);

    private record Stamp(long size, long modified) {
    }

    private final Path directory;
    private final Duration interval;
    private final PluginHost host;
    private final Thread thread;
    /** What the host was last told about each file. */
    private final Map<Path, Stamp> known = new HashMap<>();
    /** What the previous scan saw, to wait for files to hold still. */
    private Map<Path, Stamp> previous = new HashMap<>();
    private volatile boolean running = true;

    PluginDirectoryWatcher(Path directory, Duration interval, PluginHost host) {
        this.directory = directory.toAbsolutePath().normalize();
        this.interval = interval;
        this.host = host;
        this.thread = new Thread(this::loop, "easel-plugin-watcher");
        this.thread.setDaemon(true);
    }

    static boolean isJar(Path p) {
        return p.getFileName().toString().endsWith(".jar") && Files.isRegularFile(p);
    }

    Path directory() {
        return directory;
    }

    void start() {
        Map<Path, Stamp> now = scan();
        for (Map.Entry<Path, Stamp> e : new java.util.TreeMap<>(now).entrySet()) {
            host.install(e.getKey());
            known.put(e.getKey(), e.getValue());
        }
        previous = now;
        thread.start();
        LOG.info("watching {} for plugins", directory);
    }

    private void loop() {
        while (running) {
            try {
                Thread.sleep(interval.toMillis());
                poll();
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                LOG.warn("plugin directory scan failed: {}", e.toString());
            }
        }
    }

    /** One scan: acts on files that held still since the last scan, and on files that vanished. */
    void poll() {
        Map<Path, Stamp> now = scan();
        Set<Path> gone = new HashSet<>(known.keySet());
        gone.removeAll(now.keySet());
        for (Path p : gone) {
            known.remove(p);
            host.remove(p);
        }
        for (Map.Entry<Path, Stamp> e : now.entrySet()) {
            Path p = e.getKey();
            Stamp stamp = e.getValue();
            boolean settled = stamp.equals(previous.get(p));
            if (settled && !stamp.equals(known.get(p))) {
                known.put(p, stamp);
                host.install(p);
            }
        }
        previous = now;
    }

    private Map<Path, Stamp> scan() {
        Map<Path, Stamp> out = new HashMap<>();
        if (!Files.isDirectory(directory)) {
            return out;
        }
        try (Stream<Path> files = Files.list(directory)) {
            files.filter(PluginDirectoryWatcher::isJar).forEach(p -> {
                try {
                    BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
                    out.put(p.toAbsolutePath().normalize(), new Stamp(a.size(), a.lastModifiedTime().toMillis()));
                } catch (IOException vanished) {
                    // deleted between listing and stat: the next scan sees it gone
                }
            });
        } catch (IOException e) {
            LOG.warn("cannot list {}: {}", directory, e.getMessage());
        }
        return out;
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
    }
}
