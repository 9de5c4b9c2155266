package dev.easel.core.plugin;

import dev.easel.api.EaselPlugin;
import java.net.URL;
import java.security.CodeSource;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fills a registry through {@link ServiceLoader}, with no OSGi: for unit tests and for embedding Easel as a
 * library. Reads the same {@code META-INF/services} files the OSGi host reads inside bundles.
 */
public final class ClasspathPlugins {
    private static final Logger LOG = LoggerFactory.getLogger(ClasspathPlugins.class);

    private ClasspathPlugins() {
    }

    /**
     * Registers the services built into the core itself (the formats the engine cannot work without: providers
     * listed in engine-core's own {@code META-INF/services}), with origin {@code core}.
     */
    public static void loadBuiltIns(PluginRegistry registry, ClassLoader coreLoader) {
        load(registry, coreLoader, true);
    }

    /**
     * Registers every provider of every SPI visible to the class loader, except the core's built-ins. Broken
     * providers are recorded refused.
     */
    public static void load(PluginRegistry registry, ClassLoader loader) {
        load(registry, loader, false);
    }

    private static void load(PluginRegistry registry, ClassLoader loader, boolean builtIns) {
        for (PluginKind kind : PluginKind.values()) {
            ServiceLoader<? extends EaselPlugin> services = ServiceLoader.load(kind.spi(), loader);
            var it = services.stream().iterator();
            while (true) {
                ServiceLoader.Provider<? extends EaselPlugin> provider;
                try {
                    if (!it.hasNext()) {
                        break;
                    }
                    provider = it.next();
                } catch (ServiceConfigurationError e) {
                    LOG.warn("skipping a broken {} provider: {}", kind.label(), e.getMessage());
                    registry.refuse(kind, "classpath/unknown", "0.0.0",
                            new PluginOrigin("classpath", "-", -1, "classpath"), e.getMessage());
                    continue;
                }
                if (isBuiltIn(provider.type()) != builtIns) {
                    continue;
                }
                String where = location(provider.type());
                PluginOrigin origin = builtIns
                        ? new PluginOrigin("core", dev.easel.core.BuildInfo.easelVersion(), -1, "engine-core")
                        : new PluginOrigin("classpath", "-", -1, where);
                try {
                    registry.register(provider.get(), origin);
                } catch (RuntimeException | ServiceConfigurationError e) {
                    registry.refuse(kind, provider.type().getName(), "0.0.0",
                            new PluginOrigin("classpath", "-", -1, where), describe(e));
                }
            }
        }
    }

    private static String describe(Throwable e) {
        String msg = String.valueOf(e.getMessage());
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root == e ? msg : msg + ": " + root;
    }

    /** Whether a class ships in engine-core itself (same jar or classes folder as this class). */
    private static boolean isBuiltIn(Class<?> type) {
        CodeSource mine = ClasspathPlugins.class.getProtectionDomain().getCodeSource();
        CodeSource theirs = type.getProtectionDomain().getCodeSource();
        return mine != null && theirs != null && mine.getLocation().equals(theirs.getLocation());
    }

    private static String location(Class<?> type) {
        CodeSource cs = type.getProtectionDomain().getCodeSource();
        URL url = cs == null ? null : cs.getLocation();
        return url == null ? type.getName() : url.toString();
    }
}
