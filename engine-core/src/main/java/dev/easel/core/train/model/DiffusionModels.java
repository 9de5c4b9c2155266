package dev.easel.core.train.model;

import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;

/** Finds the {@link DiffusionModelLoader} for a model location among those on the class path. */
public final class DiffusionModels {
    private final List<DiffusionModelLoader> loaders;

    public DiffusionModels(List<DiffusionModelLoader> loaders) {
        this.loaders = List.copyOf(loaders);
    }

    /** The loaders registered with {@link ServiceLoader} by the given class loader. */
    public static DiffusionModels discover(ClassLoader classLoader) {
        List<DiffusionModelLoader> found = new ArrayList<>();
        ServiceLoader.load(DiffusionModelLoader.class, classLoader).forEach(found::add);
        return new DiffusionModels(found);
    }

    /** Loads the model, or fails with a message naming the location and the loaders tried. */
    public DiffusionModel load(String location, ModelOptions options, NDManager manager) throws IOException {
        for (DiffusionModelLoader loader : loaders) {
            if (loader.accepts(location)) {
                return loader.load(location, options, manager);
            }
        }
        if (loaders.isEmpty()) {
            throw new IOException(location + ": no diffusion model backend is installed in this engine, so it cannot "
                    + "be trained on (the SD networks register one)");
        }
        List<String> names = loaders.stream().map(DiffusionModelLoader::name).toList();
        throw new IOException(location + ": not a model any installed backend can load (tried " + names + ")");
    }
}
