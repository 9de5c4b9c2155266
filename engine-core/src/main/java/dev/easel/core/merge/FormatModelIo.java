package dev.easel.core.merge;

import dev.easel.api.tensor.TensorSink;
import dev.easel.api.tensor.TensorSource;
import dev.easel.api.tensor.WritePlan;
import dev.easel.core.format.ModelFormats;
import dev.easel.core.plugin.PluginRegistry;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The {@link ModelIo} of a running engine: inputs are opened by whichever installed format recognises them
 * (safetensors, and any format plugin), the output is written by the writable format its extension names.
 */
public final class FormatModelIo implements ModelIo {
    private final PluginRegistry registry;

    public FormatModelIo(PluginRegistry registry) {
        this.registry = registry;
    }

    @Override
    public TensorSource open(Path path) throws IOException {
        return ModelFormats.open(registry, path);
    }

    @Override
    public TensorSink create(Path target, WritePlan plan) throws IOException {
        return ModelFormats.forWriting(ModelFormats.installed(registry), target).create(target, plan);
    }
}
