package dev.easel.core.osgi;

import dev.easel.api.EaselPlugin;
import dev.easel.core.plugin.PluginKind;
import dev.easel.core.plugin.PluginRegistry;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.osgi.util.tracker.ServiceTracker;

/**
 * Mirrors the OSGi services of one SPI into the {@link PluginRegistry}, whoever registered them (the extender,
 * Declarative Services, an activator). Services registered by SPI Fly's ServiceLoader mediator are skipped: they
 * duplicate what the extender registers.
 */
final class ServiceBridge extends ServiceTracker<EaselPlugin, EaselPlugin> {
    private final PluginRegistry registry;
    private final PluginKind kind;

    ServiceBridge(BundleContext context, PluginKind kind, PluginRegistry registry) {
        super(context, kind.spi().getName(), null);
        this.registry = registry;
        this.kind = kind;
    }

    @Override
    public EaselPlugin addingService(ServiceReference<EaselPlugin> reference) {
        if (reference.getProperty("serviceloader.mediator") != null) {
            return null;
        }
        EaselPlugin plugin = context.getService(reference);
        if (plugin == null) {
            return null;
        }
        try {
            registry.register(plugin, PluginHost.origin(reference.getBundle()));
        } catch (RuntimeException e) {
            registry.refuse(kind, reference.getBundle().getSymbolicName(),
                    reference.getBundle().getVersion().toString(), PluginHost.origin(reference.getBundle()),
                    "invalid service: " + e.getMessage());
        }
        return plugin;
    }

    @Override
    public void removedService(ServiceReference<EaselPlugin> reference, EaselPlugin plugin) {
        registry.unregister(plugin);
        context.ungetService(reference);
    }
}
