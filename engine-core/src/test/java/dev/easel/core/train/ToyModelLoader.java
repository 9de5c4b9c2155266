package dev.easel.core.train;

import ai.djl.ndarray.NDManager;
import dev.easel.core.train.model.DiffusionModel;
import dev.easel.core.train.model.DiffusionModelLoader;
import dev.easel.core.train.model.ModelOptions;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Loads {@code toy:SEED} as a {@link ToyDiffusionModel}; remembers the last model per location for assertions. */
public final class ToyModelLoader implements DiffusionModelLoader {
    static final Map<String, ToyDiffusionModel> LAST = new ConcurrentHashMap<>();

    @Override
    public String name() {
        return "toy";
    }

    @Override
    public boolean accepts(String location) {
        return location.startsWith("toy:");
    }

    @Override
    public DiffusionModel load(String location, ModelOptions options, NDManager manager) {
        ToyDiffusionModel m = new ToyDiffusionModel(manager, Long.parseLong(location.substring(4)));
        LAST.put(location, m);
        return m;
    }
}
