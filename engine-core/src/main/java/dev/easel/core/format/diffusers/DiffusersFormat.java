package dev.easel.core.format.diffusers;

import dev.easel.api.PluginDescriptor;
import dev.easel.api.format.Detection;
import dev.easel.api.format.ModelFormat;
import dev.easel.api.tensor.TensorSource;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * diffusers folders ({@code format/diffusers}): a folder holding {@code model_index.json}, or a single component
 * folder ({@code config.json} beside its weights), read as one source with component-prefixed names. Writing goes
 * through {@code easel convert} ({@link DiffusersWriter}), which derives the configs from the whole model.
 */
public final class DiffusersFormat implements ModelFormat {
    private static final PluginDescriptor DESCRIPTOR = PluginDescriptor.of(DiffusersFolder.FORMAT_ID, "1.0.0",
            "diffusers pipeline folders (model_index.json, unet/, vae/, text_encoder/): safetensors or .bin weights");

    @Override
    public PluginDescriptor descriptor() {
        return DESCRIPTOR;
    }

    @Override
    public List<String> extensions() {
        return List.of();
    }

    @Override
    public Detection detect(Path path) throws IOException {
        return DiffusersFolder.looksLikeOne(path) ? Detection.CONTENT : Detection.NO;
    }

    @Override
    public TensorSource open(Path path) throws IOException {
        return DiffusersFolder.open(path);
    }
}
