package dev.easel.core.sd.train;

import ai.djl.ndarray.NDManager;
import dev.easel.api.tensor.TensorSource;
import dev.easel.core.format.ModelFormats;
import dev.easel.core.sd.model.ModelConfigs;
import dev.easel.core.sd.model.SdModel;
import dev.easel.core.sd.model.SdModelConfig;
import dev.easel.core.train.model.DiffusionModel;
import dev.easel.core.train.model.DiffusionModelLoader;
import dev.easel.core.train.model.ModelOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Loads SD checkpoints (safetensors, PyTorch {@code .ckpt}/{@code .pt}, diffusers folders) for training with the
 * formats built into the core. The model config comes from a {@code .json} beside the checkpoint or is recognised
 * from its keys, as {@code easel sample} does.
 */
public final class SdDiffusionModelLoader implements DiffusionModelLoader {
    /** What a {@link #wrapping} loader does with each model it has loaded. */
    @FunctionalInterface
    public interface Wrapper {
        /** @return the model the job trains: {@code model} itself or a wrapper of it */
        DiffusionModel wrap(SdDiffusionModel model) throws IOException;
    }

    /**
     * A loader of the same checkpoints that hands each loaded model to {@code wrapper} before the job sees it: how
     * tests probe the weights a job trains and benchmarks capture the model.
     */
    public static DiffusionModelLoader wrapping(String name, Wrapper wrapper) {
        SdDiffusionModelLoader real = new SdDiffusionModelLoader();
        return new DiffusionModelLoader() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public boolean accepts(String location) {
                return real.accepts(location);
            }

            @Override
            public DiffusionModel load(String location, ModelOptions options, NDManager manager) throws IOException {
                return wrapper.wrap(real.load(location, options, manager));
            }
        };
    }

    @Override
    public String name() {
        return "sd-checkpoint";
    }

    @Override
    public boolean accepts(String location) {
        String lower = location.toLowerCase(Locale.ROOT);
        if (lower.endsWith(".safetensors") || lower.endsWith(".ckpt") || lower.endsWith(".pt")
                || lower.endsWith(".pth") || lower.endsWith(".bin")) {
            return true;
        }
        try {
            Path p = Path.of(location);
            return Files.isDirectory(p) && (Files.isRegularFile(p.resolve("model_index.json"))
                    || Files.isDirectory(p.resolve("unet")));
        } catch (RuntimeException e) {
            return false;
        }
    }

    @Override
    public SdDiffusionModel load(String location, ModelOptions options, NDManager manager) throws IOException {
        Path path = Path.of(location);
        SdModel model;
        // the checkpoint is closed (unmapped) once its tensors are copied into the networks
        try (TensorSource source = ModelFormats.open(ModelFormats.builtIn(), path)) {
            SdModelConfig config = ModelConfigs.resolve(path, source, null);
            model = SdModel.load(source, config, manager);
        }
        return new SdDiffusionModel(model, options.clipSkip());
    }
}
