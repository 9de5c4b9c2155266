package dev.easel.core.sd.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.easel.api.training.NetworkHooks;
import dev.easel.core.sd.hooks.SdNetworkHooks;
import dev.easel.core.sd.model.SdModel;
import dev.easel.core.sd.sampling.GenerationRequest;
import dev.easel.core.sd.sampling.Images;
import dev.easel.core.sd.sampling.Pipeline;
import dev.easel.core.sd.sampling.SamplerKind;
import dev.easel.core.sd.sampling.StepListener;
import dev.easel.core.train.model.DiffusionModel;
import dev.easel.core.train.model.PreviewSampler;
import java.util.List;
import java.util.Optional;

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
    public void setTraining(boolean training) {
        model.state().setTraining(training);
    }

    /**
     * Previews with the current hooks through the sampling pipeline: kohya's sampler names map onto Easel's samplers
     * ({@link #samplerOf}), sizes are rounded down to what the model can render (kohya rounds to multiples of 8).
     */
    @Override
    public Optional<PreviewSampler> sampler() {
        return Optional.of(prompt -> {
            Pipeline pipeline = new Pipeline(model, hooks);
            int mult = pipeline.sizeMultiple();
            int w = Math.max(mult, prompt.width() - prompt.width() % mult);
            int h = Math.max(mult, prompt.height() - prompt.height() % mult);
            GenerationRequest r = GenerationRequest.txt2img(prompt.prompt(), prompt.negativePrompt(),
                    samplerOf(prompt.sampler()), prompt.steps(), (float) prompt.cfgScale(), prompt.seed(), w, h);
            try (NDManager m = model.manager().newSubManager()) {
                return Images.toImage(pipeline.generate(m, r, null, null, StepListener.NONE).image());
            } finally {
                // generate() points the hooks at its own manager; training steps need the model's again
                hooks.setWorkManager(model.manager());
            }
        });
    }

    /**
     * The sampler for a kohya {@code sample_sampler} / {@code --ss} name ({@code ddim}, {@code euler},
     * {@code k_euler_a}, {@code dpmsolver++}, ...) or an Easel sampler name; kohya's samplers Easel does not have
     * render with the nearest one (ancestral ones with Euler a, the others with Euler).
     */
    static SamplerKind samplerOf(String name) {
        String n = name == null ? "" : name.toLowerCase(java.util.Locale.ROOT).replace('-', '_');
        n = n.startsWith("k_") ? n.substring(2) : n;
        return switch (n) {
            case "ddim", "pndm" -> SamplerKind.DDIM;
            case "euler_a", "dpm_2_a", "dpmsingle_a" -> SamplerKind.EULER_A;
            case "dpmsolver++", "dpmsolver", "dpmsingle", "dpmpp_2m", "dpmpp_2m_karras" -> SamplerKind.DPMPP_2M_KARRAS;
            default -> {
                try {
                    yield SamplerKind.parse(n);
                } catch (IllegalArgumentException e) {
                    yield SamplerKind.EULER;
                }
            }
        };
    }

    @Override
    public void close() {
        model.close();
    }
}
