package dev.easel.core.train.loop;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import dev.easel.api.adapter.AdapterType;
import dev.easel.api.training.DiffusionSchedule;
import dev.easel.api.training.NetworkHooks;
import dev.easel.api.training.TrainingContext;
import dev.easel.core.plugin.PluginKind;
import dev.easel.core.plugin.PluginLease;
import dev.easel.core.plugin.PluginRegistry;
import java.util.ArrayList;
import java.util.List;

/** What a method gets at {@code start}: the job's manager, seed, model hooks, schedule and adapter types. */
final class EngineTrainingContext implements TrainingContext, AutoCloseable {
    private final NDManager manager;
    private final long seed;
    private final NetworkHooks hooks;
    private final DiffusionSchedule schedule;
    private final PluginRegistry registry;
    private final List<PluginLease<?>> leases = new ArrayList<>();

    EngineTrainingContext(NDManager manager, long seed, NetworkHooks hooks, DiffusionSchedule schedule,
                          PluginRegistry registry) {
        this.manager = manager;
        this.seed = seed;
        this.hooks = hooks;
        this.schedule = schedule;
        this.registry = registry;
    }

    @Override
    public NDManager manager() {
        return manager;
    }

    @Override
    public Device device() {
        return manager.getDevice();
    }

    @Override
    public long seed() {
        return seed;
    }

    @Override
    public NetworkHooks network() {
        return hooks;
    }

    @Override
    public DiffusionSchedule schedule() {
        return schedule;
    }

    @Override
    public synchronized AdapterType adapterType(String selector) {
        // PluginNotFoundException is the NoSuchElementException the SPI promises, naming what is installed.
        PluginLease<AdapterType> lease = registry.lease(PluginKind.ADAPTER_TYPE, selector, AdapterType.class);
        leases.add(lease);
        return lease.get();
    }

    @Override
    public synchronized void close() {
        leases.forEach(PluginLease::close);
        leases.clear();
    }
}
