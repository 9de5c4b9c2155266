package dev.easel.core;

import com.google.inject.Guice;
import com.google.inject.Injector;
import dev.easel.core.dist.CuratedPlugins;
import dev.easel.core.inject.CoreModule;
import dev.easel.core.osgi.PluginHost;
import dev.easel.core.plugin.ClasspathPlugins;
import dev.easel.core.plugin.PluginRegistry;
import dev.easel.core.runtime.ComputeRuntime;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;

/**
 * One running Easel engine: the compute runtime, the plugin registry and, when plugins come from bundles, the
 * OSGi plugin host. The CLI and the server each start one; tests and embedders start one with
 * {@link EaselOptions#embedded()}.
 */
public final class Easel implements AutoCloseable {
    private final Injector injector;
    private final EaselOptions options;

    private Easel(Injector injector, EaselOptions options) {
        this.injector = injector;
        this.options = options;
    }

    /** Starts the runtime and loads plugins as the options say. */
    public static Easel start(EaselOptions options) {
        Injector injector = Guice.createInjector(new CoreModule(options));
        Easel easel = new Easel(injector, options);
        PluginRegistry registry = easel.registry();
        ClasspathPlugins.loadBuiltIns(registry, Easel.class.getClassLoader());
        if (options.classpath()) {
            ClasspathPlugins.load(registry, Thread.currentThread().getContextClassLoader());
        }
        if (options.pluginsDir() != null) {
            PluginHost host = easel.host();
            host.start();
            try {
                if (options.lockfile() != null && Files.exists(options.lockfile())) {
                    host.verifyWith(CuratedPlugins.read(options.lockfile()));
                }
                if (options.watch()) {
                    host.watch(options.pluginsDir(), options.pollInterval());
                } else if (Files.isDirectory(options.pluginsDir())) {
                    host.installAll(options.pluginsDir());
                }
            } catch (IOException e) {
                easel.close();
                throw new UncheckedIOException("cannot load plugins from " + options.pluginsDir(), e);
            }
        }
        return easel;
    }

    /** The options it was started with. */
    public EaselOptions options() {
        return options;
    }

    /** Every plugin service, by kind, id and version. */
    public PluginRegistry registry() {
        return injector.getInstance(PluginRegistry.class);
    }

    /** The DJL engine of the process. */
    public ComputeRuntime runtime() {
        return injector.getInstance(ComputeRuntime.class);
    }

    /** The OSGi plugin host (started only when a plugins folder is configured). */
    public PluginHost host() {
        return injector.getInstance(PluginHost.class);
    }

    /** Any core service wired by Guice. */
    public <T> T get(Class<T> type) {
        return injector.getInstance(type);
    }

    @Override
    public void close() {
        if (options.pluginsDir() != null) {
            host().close();
        }
        runtime().close();
    }
}
