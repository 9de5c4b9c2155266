package dev.easel.core.osgi;

import dev.easel.api.EaselPlugin;
import dev.easel.core.plugin.PluginKind;
import dev.easel.core.plugin.PluginOrigin;
import dev.easel.core.plugin.PluginRegistry;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Hashtable;
import java.util.List;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleEvent;
import org.osgi.framework.ServiceRegistration;
import org.osgi.util.tracker.BundleTracker;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The extender that makes one declaration serve both discovery paths: when a bundle becomes active, every class
 * its own {@code META-INF/services/dev.easel.api...} files list is instantiated in the bundle's class loader and
 * registered as an OSGi service in the bundle's name (so the framework unregisters it when the bundle stops).
 * Plugin authors write no activator; the same file lets {@link java.util.ServiceLoader} find the class without
 * OSGi. Bundles may also register services themselves (Declarative Services, an activator); the host tracks those
 * just the same.
 */
final class PluginExtender extends BundleTracker<List<ServiceRegistration<?>>> {
    private static final Logger LOG = LoggerFactory.getLogger(PluginExtender.class);

    static final String PROP_ID = "easel.id";
    static final String PROP_VERSION = "easel.version";

    private final PluginRegistry registry;

    PluginExtender(BundleContext context, PluginRegistry registry) {
        super(context, Bundle.ACTIVE, null);
        this.registry = registry;
    }

    @Override
    public List<ServiceRegistration<?>> addingBundle(Bundle bundle, BundleEvent event) {
        List<ServiceRegistration<?>> registrations = new ArrayList<>();
        if (bundle.getBundleId() == 0) {
            return registrations;
        }
        for (PluginKind kind : PluginKind.values()) {
            URL services = bundle.getEntry("META-INF/services/" + kind.spi().getName());
            if (services == null) {
                continue;
            }
            for (String className : readServiceFile(bundle, services)) {
                register(bundle, kind, className).ifPresent(registrations::add);
            }
        }
        return registrations;
    }

    private java.util.Optional<ServiceRegistration<?>> register(Bundle bundle, PluginKind kind, String className) {
        PluginOrigin origin = PluginHost.origin(bundle);
        Thread thread = Thread.currentThread();
        ClassLoader previous = thread.getContextClassLoader();
        try {
            Class<?> type = bundle.loadClass(className);
            if (!kind.spi().isAssignableFrom(type)) {
                String reason = className + " does not implement the host's " + kind.spi().getName()
                        + (implementsByName(type, kind) ? " (the bundle embeds its own copy of engine-api; import"
                        + " dev.easel.api packages instead)" : "");
                registry.refuse(kind, bundle.getSymbolicName(), bundle.getVersion().toString(), origin, reason);
                return java.util.Optional.empty();
            }
            thread.setContextClassLoader(type.getClassLoader());
            EaselPlugin plugin = (EaselPlugin) type.getConstructor().newInstance();
            Hashtable<String, Object> props = new Hashtable<>();
            props.put(PROP_ID, plugin.descriptor().id());
            props.put(PROP_VERSION, plugin.descriptor().version().toString());
            ServiceRegistration<?> reg = bundle.getBundleContext().registerService(kind.spi().getName(), plugin, props);
            LOG.info("{} {} {} from {} {}", kind.label(), plugin.descriptor().id(), plugin.descriptor().version(),
                    bundle.getSymbolicName(), bundle.getVersion());
            return java.util.Optional.of(reg);
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            Throwable cause = e instanceof java.lang.reflect.InvocationTargetException ite && ite.getCause() != null
                    ? ite.getCause() : e;
            registry.refuse(kind, bundle.getSymbolicName(), bundle.getVersion().toString(), origin,
                    "cannot create " + className + ": " + cause);
            return java.util.Optional.empty();
        } finally {
            thread.setContextClassLoader(previous);
        }
    }

    private static boolean implementsByName(Class<?> type, PluginKind kind) {
        for (Class<?> c = type; c != null; c = c.getSuperclass()) {
            for (Class<?> i : c.getInterfaces()) {
                if (i.getName().equals(kind.spi().getName())) {
                    return true;
                }
            }
        }
        return false;
    }

    private static List<String> readServiceFile(Bundle bundle, URL url) {
        List<String> names = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(url.openStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                int hash = line.indexOf('#');
                String name = (hash >= 0 ? line.substring(0, hash) : line).trim();
                if (!name.isEmpty()) {
                    names.add(name);
                }
            }
        } catch (IOException e) {
            LOG.warn("cannot read {} in {}: {}", url, bundle.getSymbolicName(), e.getMessage());
        }
        return names;
    }

    @Override
    public void removedBundle(Bundle bundle, BundleEvent event, List<ServiceRegistration<?>> registrations) {
        for (ServiceRegistration<?> reg : registrations) {
            try {
                reg.unregister();
            } catch (IllegalStateException alreadyGone) {
                // the framework unregisters a stopping bundle's services itself
            }
        }
    }
}
