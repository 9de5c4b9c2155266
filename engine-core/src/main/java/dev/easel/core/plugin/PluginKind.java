package dev.easel.core.plugin;

import dev.easel.api.EaselPlugin;
import dev.easel.api.adapter.AdapterType;
import dev.easel.api.format.ModelFormat;
import dev.easel.api.merge.MergeAlgorithm;
import dev.easel.api.training.TrainingMethod;
import java.util.Arrays;
import java.util.Optional;

/** The service provider interfaces of engine-api, with the names users see. */
public enum PluginKind {
    MODEL_FORMAT("model-format", ModelFormat.class),
    MERGE_ALGORITHM("merge-algorithm", MergeAlgorithm.class),
    ADAPTER_TYPE("adapter-type", AdapterType.class),
    TRAINING_METHOD("training-method", TrainingMethod.class);

    private final String label;
    private final Class<? extends EaselPlugin> spi;

    PluginKind(String label, Class<? extends EaselPlugin> spi) {
        this.label = label;
        this.spi = spi;
    }

    /** The name in listings and JSON ({@code merge-algorithm}). */
    public String label() {
        return label;
    }

    /** The SPI interface. */
    public Class<? extends EaselPlugin> spi() {
        return spi;
    }

    /** The kind whose SPI is named so, if any. */
    public static Optional<PluginKind> forSpiName(String className) {
        return Arrays.stream(values()).filter(k -> k.spi.getName().equals(className)).findFirst();
    }

    /** The kind of an implementation. */
    public static Optional<PluginKind> of(EaselPlugin plugin) {
        return Arrays.stream(values()).filter(k -> k.spi.isInstance(plugin)).findFirst();
    }
}
