package dev.easel.core.sd.train;

import ai.djl.ndarray.NDArray;
import dev.easel.api.training.NetworkHooks;
import dev.easel.core.sd.hooks.SdNetworkHooks;
import dev.easel.core.sd.model.SdModel;
import dev.easel.core.train.model.DiffusionModel;
import java.util.List;

/**
 * The training core's {@link DiffusionModel} over the SD networks: the tokenizer and CLIP text encoder, the UNet and
 * the VAE of one loaded checkpoint, with the hooks methods install their parts through. Everything it keeps between
 * steps (weights, the schedule, the tokenizer's tables) is created at load time, so the loop's per-step scope frees
 * only activations.
 */
public final class SdDiffusionModel implements DiffusionModel {
    private final SdModel model;
    private final SdNetworkHooks hooks;
    private final String vaeIdentity;

    /** Wraps a loaded model (clip skip 1 keeps the family's own: penultimate for SD2); the hooks create their per-call arrays in {@code model}'s manager (scoped per step). */
    public SdDiffusionModel(SdModel model, int clipSkip) {
        this.model = model;
        this.hooks = new SdNetworkHooks(model, model.manager());
        if (clipSkip > 1) {
            hooks.setClipSkip(clipSkip);
        }
        // hashed once: the VAE is never trained by a method, and hashing reads every VAE weight
        this.vaeIdentity = model.vaeFingerprint();
    }

    /** The networks behind this model. */
    public SdModel model() {
        return model;
    }

    @Override
    public NetworkHooks hooks() {
        return hooks;
    }

    /** The hooks with their SD-specific controls (clip skip, unwrap). */
    public SdNetworkHooks sdHooks() {
        return hooks;
    }

    @Override
    public void stepManager(ai.djl.ndarray.NDManager manager) {
        hooks.setWorkManager(manager == null ? model.manager() : manager);
    }

    @Override
    public String vaeIdentity() {
        return vaeIdentity;
    }

    @Override
    public int latentScale() {
        return model.latentScale();
    }

    @Override
    public NDArray encodeImages(NDArray pixels) {
        return model.encodeImages(pixels);
    }

    @Override
    public NDArray encodeText(List<String> prompts) {
        return hooks.encodeText(prompts);
    }

    @Override
    public NDArray predict(NDArray noisyLatents, NDArray timesteps, NDArray context) {
        return model.unet().forward(noisyLatents, timesteps, context);
    }

    /** A model whose architecture its keys do not tell carries its config in the metadata of what derives from it. */
    @Override
    public java.util.Map<String, String> provenance() {
        if (dev.easel.core.sd.model.ModelConfigs.isStandard(model.config())) {
            return java.util.Map.of();
        }
        return java.util.Map.of(dev.easel.core.sd.model.ModelConfigs.METADATA_KEY,
                dev.easel.core.sd.model.ModelConfigs.toJson(model.config()));
    }

    @Override
    public String predictionType() {
        return model.schedule().predictionType();
    }

    @Override
    public void close() {
        model.close();
    }
}
