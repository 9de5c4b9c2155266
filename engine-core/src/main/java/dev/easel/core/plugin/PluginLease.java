package dev.easel.core.plugin;

import dev.easel.api.EaselPlugin;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A job's hold on one plugin service. While any lease on a bundle's service is open, the host keeps that bundle
 * (and its class loader) alive even if a newer version has been installed or its file removed; closing the last
 * lease of a draining bundle retires it.
 *
 * @param <T> the SPI type
 */
public final class PluginLease<T extends EaselPlugin> implements AutoCloseable {
    private final PluginRecord record;
    private final T plugin;
    private final PluginRegistry registry;
    private final AtomicBoolean closed = new AtomicBoolean();

    PluginLease(PluginRecord record, T plugin, PluginRegistry registry) {
        this.record = record;
        this.plugin = plugin;
        this.registry = registry;
    }

    /** The leased service. */
    public T get() {
        if (closed.get()) {
            throw new IllegalStateException("lease on " + record.id() + " " + record.version() + " is closed");
        }
        return plugin;
    }

    /** What was leased: id, version and bundle, for provenance. */
    public PluginRecord record() {
        return record;
    }

    /** Releases the hold; idempotent. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            registry.release(record);
        }
    }
}
