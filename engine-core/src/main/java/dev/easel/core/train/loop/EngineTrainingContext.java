package dev.easel.core.train.loop;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import dev.easel.api.adapter.AdapterType;
import dev.easel.api.format.ModelFormat;
import dev.easel.api.tensor.TensorInfo;
import dev.easel.api.tensor.TensorSource;
import dev.easel.api.training.DiffusionSchedule;
import dev.easel.api.training.NetworkHooks;
import dev.easel.api.training.TrainingContext;
import dev.easel.core.format.ModelFormats;
import dev.easel.core.plugin.PluginKind;
import dev.easel.core.plugin.PluginLease;
import dev.easel.core.plugin.PluginRegistry;
import dev.easel.core.sd.model.TensorReads;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

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
    public Map<String, NDArray> readTensors(Path file) throws IOException {
        List<ModelFormat> formats = ModelFormats.installed(registry);
        if (formats.isEmpty()) {
            formats = ModelFormats.builtIn();
        }
        Map<String, NDArray> out = new LinkedHashMap<>();
        try (TensorSource source = ModelFormats.open(formats, file)) {
            for (TensorInfo info : source.tensors()) {
                if (TensorReads.readable(info.dtype())) {
                    NDArray a = TensorReads.toFloat32(manager, source.read(info.name()), info.dtype(),
                            new Shape(info.shape()));
                    // the method keeps what it reads beyond the step or start scope it reads in
                    NDScope.unregister(a);
                    out.put(info.name(), a);
                }
            }
        }
        return out;
    }

    @Override
    public synchronized void close() {
        leases.forEach(PluginLease::close);
        leases.clear();
    }
}
