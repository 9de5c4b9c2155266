package dev.easel.core.plugin;

import dev.easel.api.EaselPlugin;
import dev.easel.api.SemanticVersion;
import jakarta.inject.Singleton;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.LongConsumer;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every plugin service the process knows, by kind, id and version, with the leases jobs hold on them.
 *
 * <p>Selection picks, among {@link PluginState#ACTIVE} services of the kind whose id (or family) matches and whose
 * version is in range, the highest version; ties go to the most recently installed bundle. Draining and refused
 * entries are listed but never selected. Thread-safe.
 */
@Singleton
public final class PluginRegistry {
    private static final Logger LOG = LoggerFactory.getLogger(PluginRegistry.class);

    private final List<PluginRecord> records = new ArrayList<>();
    private final Map<Long, Integer> leasesByBundle = new HashMap<>();
    private final List<LongConsumer> drainedListeners = new CopyOnWriteArrayList<>();

    /**
     * Adds a live service. A second active service with the same kind, id and version from another origin is
     * recorded as refused: two identical claims cannot both be right.
     */
    public synchronized PluginRecord register(EaselPlugin plugin, PluginOrigin origin) {
        PluginKind kind = PluginKind.of(plugin).orElseThrow(() -> new IllegalArgumentException(
                plugin.getClass().getName() + " implements no Easel SPI"));
        PluginRecord record = PluginRecord.active(kind, plugin, origin);
        Optional<PluginRecord> clash = records.stream()
                .filter(r -> r.state() == PluginState.ACTIVE && r.kind() == kind && r.id().equals(record.id())
                        && r.version().equals(record.version()) && r.origin().bundleId() != origin.bundleId())
                .findFirst();
        if (clash.isPresent()) {
            PluginRecord refused = record.withState(PluginState.REFUSED, kind.label() + " " + record.id() + " "
                    + record.version() + " is already provided by " + clash.get().origin().bundle() + " "
                    + clash.get().origin().bundleVersion());
            records.add(refused);
            LOG.warn("refused {}: {}", record.id(), refused.reason());
            return refused;
        }
        records.add(record);
        LOG.debug("registered {} {} {} from {}", kind.label(), record.id(), record.version(), origin.bundle());
        return record;
    }

    /** Records a bundle or service that could not be loaded, replacing earlier refusals of the same origin. */
    public synchronized void refuse(PluginKind kind, String id, String version, PluginOrigin origin, String reason) {
        records.removeIf(r -> r.state() == PluginState.REFUSED && r.origin().location().equals(origin.location())
                && r.id().equals(id));
        records.add(new PluginRecord(kind, id, version, "", origin, PluginState.REFUSED, reason, null));
        LOG.warn("refused {} from {}: {}", id, origin.location(), reason);
    }

    /** Forgets the refusals recorded for a file location (it was removed or is being retried). */
    public synchronized void clearRefusals(String location) {
        records.removeIf(r -> r.state() == PluginState.REFUSED && r.origin().location().equals(location));
    }

    /** Removes the services of one plugin instance (its bundle unregistered it). */
    public synchronized void unregister(EaselPlugin plugin) {
        records.removeIf(r -> r.plugin() == plugin);
    }

    /** Removes every entry of a bundle (it was uninstalled). */
    public synchronized void removeBundle(long bundleId) {
        records.removeIf(r -> r.origin().bundleId() == bundleId);
    }

    /**
     * Marks every service of a bundle as draining: kept for running jobs, hidden from new ones.
     *
     * @return whether the bundle has no open lease, so it can be retired at once
     */
    public synchronized boolean drain(long bundleId, String reason) {
        records.replaceAll(r -> r.origin().bundleId() == bundleId && r.state() == PluginState.ACTIVE
                ? r.withState(PluginState.DRAINING, reason) : r);
        return leasesByBundle.getOrDefault(bundleId, 0) == 0;
    }

    /** Called with a bundle id when a draining bundle's last lease closes. */
    public void onDrained(LongConsumer listener) {
        drainedListeners.add(listener);
    }

    /** Open leases on a bundle's services. */
    public synchronized int leaseCount(long bundleId) {
        return leasesByBundle.getOrDefault(bundleId, 0);
    }

    /** A snapshot of every entry, sorted by kind, id and version. */
    public synchronized List<PluginRecord> list() {
        List<PluginRecord> copy = new ArrayList<>(records);
        copy.sort(Comparator.comparing(PluginRecord::kindLabel).thenComparing(PluginRecord::id)
                .thenComparing(r -> safeVersion(r.version())));
        return copy;
    }

    /** Every entry of one kind. */
    public List<PluginRecord> list(PluginKind kind) {
        return list().stream().filter(r -> r.kind() == kind).collect(Collectors.toList());
    }

    /** The active services of one kind, as instances. */
    public <T extends EaselPlugin> List<T> services(Class<T> spi) {
        return list().stream().filter(r -> r.state() == PluginState.ACTIVE && spi.isInstance(r.plugin()))
                .map(r -> spi.cast(r.plugin())).collect(Collectors.toList());
    }

    /**
     * The service a selector picks, without leasing it. For short calls that cannot outlive a bundle update.
     *
     * @throws PluginNotFoundException listing what is installed
     */
    public synchronized PluginRecord select(PluginKind kind, String selector) {
        PluginSelector sel = PluginSelector.parse(selector);
        List<PluginRecord> candidates = records.stream()
                .filter(r -> r.state() == PluginState.ACTIVE && r.kind() == kind)
                .filter(r -> sel.isFamily() ? r.id().substring(0, r.id().indexOf('/')).equals(sel.id())
                        || r.id().equals(sel.id()) : r.id().equals(sel.id()))
                .collect(Collectors.toList());
        if (sel.isFamily()) {
            long impls = candidates.stream().map(PluginRecord::id).distinct().count();
            if (impls > 1) {
                throw new PluginNotFoundException("'" + sel.id() + "' is ambiguous: " + candidates.stream()
                        .map(PluginRecord::id).distinct().sorted().collect(Collectors.joining(", "))
                        + " are installed; name one of them");
            }
        }
        return candidates.stream()
                .filter(r -> sel.range().includes(SemanticVersion.parse(r.version())))
                .max(Comparator.comparing((PluginRecord r) -> SemanticVersion.parse(r.version()))
                        .thenComparingLong(r -> r.origin().bundleId()))
                .orElseThrow(() -> notFound(kind, sel, candidates));
    }

    /** Selects and leases a service for a job. Close the lease when the job ends. */
    public synchronized <T extends EaselPlugin> PluginLease<T> lease(PluginKind kind, String selector, Class<T> spi) {
        PluginRecord record = select(kind, selector);
        leasesByBundle.merge(record.origin().bundleId(), 1, Integer::sum);
        return new PluginLease<>(record, spi.cast(record.plugin()), this);
    }

    void release(PluginRecord record) {
        long bundleId = record.origin().bundleId();
        boolean retire;
        synchronized (this) {
            int left = leasesByBundle.merge(bundleId, -1, Integer::sum);
            if (left <= 0) {
                leasesByBundle.remove(bundleId);
            }
            retire = left <= 0 && bundleId >= 0 && records.stream()
                    .anyMatch(r -> r.origin().bundleId() == bundleId && r.state() == PluginState.DRAINING);
        }
        if (retire) {
            drainedListeners.forEach(l -> l.accept(bundleId));
        }
    }

    private PluginNotFoundException notFound(PluginKind kind, PluginSelector sel, List<PluginRecord> sameId) {
        if (!sameId.isEmpty()) {
            return new PluginNotFoundException("no " + kind.label() + " '" + sel.id() + "' in version range "
                    + sel.range() + "; installed: " + sameId.stream().map(r -> r.id() + " " + r.version())
                    .collect(Collectors.joining(", ")));
        }
        String available = records.stream().filter(r -> r.kind() == kind && r.state() == PluginState.ACTIVE)
                .map(PluginRecord::id).distinct().sorted().collect(Collectors.joining(", "));
        return new PluginNotFoundException("no " + kind.label() + " '" + sel.id() + "' is installed; available: "
                + (available.isEmpty() ? "none" : available));
    }

    private static SemanticVersion safeVersion(String v) {
        try {
            return SemanticVersion.parse(v);
        } catch (IllegalArgumentException e) {
            return SemanticVersion.of(0, 0, 0);
        }
    }
}
