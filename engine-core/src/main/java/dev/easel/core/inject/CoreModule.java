package dev.easel.core.inject;

import com.google.inject.AbstractModule;
import dev.easel.core.EaselOptions;
import dev.easel.core.osgi.PluginHost;
import dev.easel.core.plugin.PluginRegistry;
import dev.easel.core.runtime.ComputeRuntime;

/** Binds the singletons of one engine: options, registry, compute runtime, plugin host. */
public final class CoreModule extends AbstractModule {
    private final EaselOptions options;

    public CoreModule(EaselOptions options) {
        this.options = options;
    }

    @Override
    protected void configure() {
        bind(EaselOptions.class).toInstance(options);
        bind(PluginRegistry.class).asEagerSingleton();
        bind(ComputeRuntime.class).asEagerSingleton();
        bind(PluginHost.class);
    }
}
