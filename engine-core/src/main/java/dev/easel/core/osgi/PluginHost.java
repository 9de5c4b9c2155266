package dev.easel.core.osgi;

import dev.easel.core.plugin.PluginKind;
import dev.easel.core.plugin.PluginOrigin;
import dev.easel.core.plugin.PluginRegistry;
import dev.easel.core.runtime.ComputeRuntime;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.Constants;
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.launch.Framework;
import org.osgi.framework.launch.FrameworkFactory;
import org.osgi.framework.wiring.FrameworkWiring;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded OSGi framework and the rules by which plugin bundles come and go.
 *
 * <ul>
 *   <li>The compute runtime is started first, on the host's class loader; the framework's system bundle then
 *       exports engine-api, DJL's api, Jackson and SLF4J ({@link SystemPackages}).</li>
 *   <li>A jar is read whole and checked ({@link BundleFile}); its imports of shared packages are checked against
 *       what the host exports, so an incompatible engine-api range is refused with the reason spelled out.</li>
 *   <li>A newer version of an installed bundle (same symbolic name) is installed side by side; once it is active,
 *       the old one drains: running jobs keep their leases on it, new jobs get the new one, and it is stopped,
 *       uninstalled and refreshed (alone) when its last lease closes. Removing the newer file brings the older file
 *       back, if it is still in the directory.</li>
 *   <li>Nothing a bundle does (a corrupt jar, a throwing activator, a failing constructor) stops the host; the
 *       problem is recorded as a refused entry of the registry and logged.</li>
 * </ul>
 */
@Singleton
public final class PluginHost implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PluginHost.class);
    private static final String LOCATION_PREFIX = "easel:";

    private final PluginRegistry registry;
    private final ComputeRuntime runtime;
    private final ExecutorService retirer = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "easel-plugin-retirer");
        t.setDaemon(true);
        return t;
    });
    /** Bundles this host installed, by framework id. Guarded by {@code this}. */
    private final Map<Long, BundleFile> installed = new LinkedHashMap<>();
    /** Files whose bundle lost to a newer version of the same symbolic name. Guarded by {@code this}. */
    private final Map<Path, BundleFile> superseded = new HashMap<>();
    private final List<AutoCloseable> trackers = new ArrayList<>();
    private Framework framework;
    private SystemPackages systemPackages;
    private Path cacheDir;
    private PluginDirectoryWatcher watcher;
    private BundleVerifier verifier = file -> java.util.Optional.empty();

    @Inject
    public PluginHost(PluginRegistry registry, ComputeRuntime runtime) {
        this.registry = registry;
        this.runtime = runtime;
        registry.onDrained(bundleId -> retirer.execute(() -> retire(bundleId)));
    }

    /** Starts the compute runtime, then the framework. Idempotent. */
    public synchronized PluginHost start() {
        if (framework != null) {
            return this;
        }
        runtime.start();
        systemPackages = SystemPackages.compute();
        try {
            cacheDir = Files.createTempDirectory("easel-felix-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the plugin cache directory", e);
        }
        Map<String, Object> config = new HashMap<>();
        config.put(Constants.FRAMEWORK_STORAGE, cacheDir.toString());
        config.put(Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT);
        config.put(Constants.FRAMEWORK_BSNVERSION, Constants.FRAMEWORK_BSNVERSION_MANAGED);
        config.put(Constants.FRAMEWORK_SYSTEMPACKAGES_EXTRA, systemPackages.header());
        config.put(Constants.FRAMEWORK_SYSTEMCAPABILITIES_EXTRA,
                "easel.host;easel.host=engine;version:Version=\"" + apiVersion() + "\"");
        config.put("felix.service.urlhandlers", "false");
        config.put("felix.log.logger", new FelixLogBridge());
        config.put("felix.log.level", "1");
        FrameworkFactory factory = ServiceLoader.load(FrameworkFactory.class, PluginHost.class.getClassLoader())
                .findFirst().orElseThrow(() -> new IllegalStateException("no OSGi framework on the class path"));
        @SuppressWarnings({"unchecked", "rawtypes"})
        Map<String, String> felixConfig = (Map) config;
        Framework fw = factory.newFramework(felixConfig);
        try {
            fw.init();
            fw.start();
        } catch (BundleException e) {
            throw new IllegalStateException("cannot start the OSGi framework: " + e.getMessage(), e);
        }
        framework = fw;
        BundleContext ctx = fw.getBundleContext();
        PluginExtender extender = new PluginExtender(ctx, registry);
        for (PluginKind kind : PluginKind.values()) {
            ServiceBridge bridge = new ServiceBridge(ctx, kind, registry);
            bridge.open(true);
            trackers.add(bridge::close);
        }
        extender.open();
        trackers.add(0, extender::close);
        LOG.info("plugin host started (engine-api {}, {} shared packages)", apiVersion(),
                systemPackages.versions().size());
        return this;
    }

    /** The version of the engine-api root package this host provides. */
    public String apiVersion() {
        return systemPackages == null ? "?" : systemPackages.versions().getOrDefault("dev.easel.api", "?");
    }

    /** Packages shared with bundles, with their versions. */
    public Map<String, String> sharedPackages() {
        return systemPackages.versions();
    }

    /** Sets the check every bundle file must pass before it is installed (the distribution lockfile). */
    public synchronized void verifyWith(BundleVerifier check) {
        this.verifier = java.util.Objects.requireNonNull(check, "check is null");
    }

    /** Installs every {@code *.jar} of a directory now, then watches it for changes. */
    public synchronized void watch(Path directory, Duration pollInterval) throws IOException {
        start();
        Files.createDirectories(directory);
        if (watcher != null) {
            throw new IllegalStateException("already watching " + watcher.directory());
        }
        watcher = new PluginDirectoryWatcher(directory, pollInterval, this);
        watcher.start();
    }

    /** Installs every jar of a directory once, without watching it. */
    public void installAll(Path directory) throws IOException {
        start();
        try (Stream<Path> files = Files.list(directory)) {
            for (Path jar : files.filter(PluginDirectoryWatcher::isJar).sorted().collect(Collectors.toList())) {
                install(jar);
            }
        }
    }

    /** What {@link #install(Path)} did. */
    public enum InstallOutcome {
        /** Installed and started; its services are registered. */
        INSTALLED,
        /** The same bytes are already installed. */
        UNCHANGED,
        /** A newer version of the bundle is installed; this file waits in case that one is removed. */
        SUPERSEDED,
        /** Refused; the registry has the reason. */
        REFUSED
    }

    /**
     * Installs and starts one bundle file, side by side with older versions of it, which then drain.
     */
    public synchronized InstallOutcome install(Path jar) {
        start();
        Path path = jar.toAbsolutePath().normalize();
        String location = path.toString();
        BundleFile file;
        try {
            file = BundleFile.read(path);
        } catch (BundleRejectedException e) {
            refuse(path, e.kinds(), path.getFileName().toString(), "?", e.reason());
            return InstallOutcome.REFUSED;
        } catch (IOException e) {
            refuse(path, List.of(), path.getFileName().toString(), "?", "cannot read: " + e.getMessage());
            return InstallOutcome.REFUSED;
        }
        registry.clearRefusals(location);
        superseded.remove(path);
        Optional<String> verdict = verifier.check(file);
        if (verdict.isPresent()) {
            refuse(path, file.kinds(), file.symbolicName(), file.version().toString(), verdict.get());
            return InstallOutcome.REFUSED;
        }

        for (Map.Entry<Long, BundleFile> e : installed.entrySet()) {
            BundleFile other = e.getValue();
            if (other.sha256().equals(file.sha256())) {
                return InstallOutcome.UNCHANGED;
            }
            if (other.symbolicName().equals(file.symbolicName())) {
                int cmp = file.version().compareTo(other.version());
                if (cmp < 0) {
                    LOG.info("{} is older than the installed {}; kept in reserve", file.label(), other.label());
                    superseded.put(path, file);
                    return InstallOutcome.SUPERSEDED;
                }
                if (cmp == 0) {
                    if (other.path().equals(path) && registry.leaseCount(e.getKey()) == 0) {
                        retireNow(e.getKey());
                        return install(jar);
                    }
                    refuse(path, file.kinds(), file.symbolicName(), file.version().toString(), "bundle "
                            + file.label() + " is already installed from " + other.path()
                            + (other.path().equals(path) ? " and in use by a running job" : "")
                            + "; give the new build a higher Bundle-Version to hot-update it");
                    return InstallOutcome.REFUSED;
                }
            }
        }

        List<String> importProblems = ImportDiagnostics.check(file.manifest(), systemPackages.versions());
        if (!importProblems.isEmpty()) {
            refuse(path, file.kinds(), file.symbolicName(), file.version().toString(),
                    "incompatible: " + String.join("; ", importProblems));
            return InstallOutcome.REFUSED;
        }

        Bundle bundle;
        try {
            bundle = framework.getBundleContext().installBundle(LOCATION_PREFIX + location + "#"
                    + file.sha256().substring(0, 16), new ByteArrayInputStream(file.bytes()));
        } catch (BundleException | RuntimeException e) {
            refuse(path, file.kinds(), file.symbolicName(), file.version().toString(),
                    "cannot install: " + e.getMessage());
            return InstallOutcome.REFUSED;
        }
        installed.put(bundle.getBundleId(), file);
        try {
            bundle.start();
        } catch (BundleException | RuntimeException e) {
            String reason = startFailure(e);
            installed.remove(bundle.getBundleId());
            uninstallQuietly(bundle);
            refuse(path, file.kinds(), file.symbolicName(), file.version().toString(), reason);
            return InstallOutcome.REFUSED;
        }
        LOG.info("installed {} from {}", file.label(), path.getFileName());

        for (Map.Entry<Long, BundleFile> e : new ArrayList<>(installed.entrySet())) {
            BundleFile other = e.getValue();
            if (e.getKey() != bundle.getBundleId() && other.symbolicName().equals(file.symbolicName())) {
                if (!other.path().equals(path)) {
                    superseded.put(other.path(), other);
                }
                if (registry.drain(e.getKey(), "superseded by " + file.label())) {
                    retireNow(e.getKey());
                } else {
                    LOG.info("{} drains: {} running job(s) hold it", other.label(), registry.leaseCount(e.getKey()));
                }
            }
        }
        return InstallOutcome.INSTALLED;
    }

    /**
     * Removes the bundle(s) installed from a file that disappeared: hidden from new jobs at once, uninstalled when
     * their last job ends. An older version of the same bundle kept in reserve comes back.
     */
    public synchronized void remove(Path jar) {
        Path path = jar.toAbsolutePath().normalize();
        registry.clearRefusals(path.toString());
        superseded.remove(path);
        for (Map.Entry<Long, BundleFile> e : new ArrayList<>(installed.entrySet())) {
            if (e.getValue().path().equals(path)) {
                if (registry.drain(e.getKey(), "file removed")) {
                    retireNow(e.getKey());
                } else {
                    LOG.info("{} removed; uninstalled when its {} running job(s) end", e.getValue().label(),
                            registry.leaseCount(e.getKey()));
                }
            }
        }
    }

    /** Bundles currently installed (including draining ones): symbolic name and version per framework id. */
    public synchronized Map<Long, String> installedBundles() {
        Map<Long, String> out = new LinkedHashMap<>();
        installed.forEach((id, f) -> out.put(id, f.label()));
        return out;
    }

    private void retire(long bundleId) {
        synchronized (this) {
            if (!installed.containsKey(bundleId) || registry.leaseCount(bundleId) > 0) {
                return;
            }
            retireNow(bundleId);
        }
    }

    /** Stops, uninstalls and refreshes one bundle, then restores a reserve version if its file was removed. */
    private void retireNow(long bundleId) {
        BundleFile file = installed.remove(bundleId);
        Bundle bundle = framework.getBundleContext().getBundle(bundleId);
        registry.removeBundle(bundleId);
        if (bundle != null) {
            uninstallQuietly(bundle);
            refresh(bundle);
        }
        if (file == null) {
            return;
        }
        LOG.info("retired {}", file.label());
        boolean newerInstalled = installed.values().stream()
                .anyMatch(f -> f.symbolicName().equals(file.symbolicName()));
        if (!newerInstalled) {
            Optional<BundleFile> reserve = superseded.values().stream()
                    .filter(f -> f.symbolicName().equals(file.symbolicName()) && Files.exists(f.path()))
                    .max(Comparator.comparing(BundleFile::version));
            reserve.ifPresent(f -> {
                LOG.info("restoring {} from {}", f.label(), f.path().getFileName());
                superseded.remove(f.path());
                install(f.path());
            });
        }
    }

    private void refresh(Bundle bundle) {
        FrameworkWiring wiring = framework.adapt(FrameworkWiring.class);
        CountDownLatch done = new CountDownLatch(1);
        wiring.refreshBundles(List.of(bundle), event -> {
            if (event.getType() == FrameworkEvent.PACKAGES_REFRESHED || event.getType() == FrameworkEvent.ERROR) {
                done.countDown();
            }
        });
        try {
            if (!done.await(10, TimeUnit.SECONDS)) {
                LOG.warn("refresh of {} did not finish in 10 s", bundle.getSymbolicName());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void refuse(Path path, List<PluginKind> kinds, String id, String version, String reason) {
        PluginOrigin origin = new PluginOrigin(id, version, -1, path.toString());
        if (kinds.isEmpty()) {
            registry.refuse(null, id, version, origin, reason);
        } else {
            for (PluginKind kind : kinds) {
                registry.refuse(kind, id, version, origin, reason);
            }
        }
    }

    private static String startFailure(Exception e) {
        if (e instanceof BundleException be && be.getType() == BundleException.ACTIVATOR_ERROR) {
            Throwable cause = be.getCause() != null ? be.getCause() : be;
            return "activator failed: " + cause;
        }
        if (e instanceof BundleException be && be.getType() == BundleException.RESOLVE_ERROR) {
            return "cannot resolve: " + be.getMessage();
        }
        return "cannot start: " + e.getMessage();
    }

    private static void uninstallQuietly(Bundle bundle) {
        try {
            if (bundle.getState() == Bundle.ACTIVE || bundle.getState() == Bundle.STARTING) {
                bundle.stop();
            }
        } catch (BundleException | RuntimeException e) {
            LOG.warn("stopping {} failed: {}", bundle.getSymbolicName(), e.getMessage());
        }
        try {
            bundle.uninstall();
        } catch (BundleException | RuntimeException e) {
            LOG.warn("uninstalling {} failed: {}", bundle.getSymbolicName(), e.getMessage());
        }
    }

    /** The origin record of a bundle's services. */
    static PluginOrigin origin(Bundle bundle) {
        String location = bundle.getLocation();
        if (location.startsWith(LOCATION_PREFIX)) {
            location = location.substring(LOCATION_PREFIX.length());
            int hash = location.lastIndexOf('#');
            if (hash > 0) {
                location = location.substring(0, hash);
            }
        }
        return new PluginOrigin(bundle.getSymbolicName(), bundle.getVersion().toString(), bundle.getBundleId(),
                location);
    }

    @Override
    public synchronized void close() {
        if (watcher != null) {
            watcher.close();
            watcher = null;
        }
        for (AutoCloseable t : trackers) {
            try {
                t.close();
            } catch (Exception e) {
                LOG.debug("closing tracker", e);
            }
        }
        trackers.clear();
        if (framework != null) {
            try {
                framework.stop();
                framework.waitForStop(10_000);
            } catch (BundleException | InterruptedException e) {
                LOG.warn("stopping the OSGi framework: {}", e.getMessage());
            }
            framework = null;
        }
        retirer.shutdownNow();
        if (cacheDir != null) {
            deleteTree(cacheDir);
        }
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            LOG.debug("cannot delete {}", dir, e);
        }
    }
}
