package dev.easel.core.train.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.easel.api.training.NetworkHooks;
import java.util.List;
import java.util.Optional;

/**
 * The Stable Diffusion model a training job drives: the three computations the loop needs and the hooks a
 * {@link dev.easel.api.training.TrainingMethod} installs its trainable parts through.
 *
 * <p>This is the whole integration contract between the training core and the networks code (tokenizer, CLIP,
 * UNet, VAE): implement it, and a {@link DiffusionModelLoader} that builds it from a checkpoint, and every training
 * method runs. Rules an implementation must keep (the loop relies on them; {@code docs/training.md} lists them):
 * <ul>
 *   <li>Every array is created in the manager the model was loaded with, on its device.</li>
 *   <li>{@link #predict} runs with every hook installed through {@link #hooks()} (module wrappers, context hooks);
 *       it must be differentiable w.r.t. whatever tensors those hooks train and w.r.t. the weights returned by
 *       {@link NetworkHooks#trainBaseWeights}. Frozen weights must not require gradients.</li>
 *   <li>{@link #encodeText} applies the job's clip skip and any added tokens, and is differentiable when a method
 *       trains text-encoder parts (LoRA on the text encoder, textual inversion).</li>
 *   <li>{@link #encodeImages} runs without gradients and is deterministic for the same pixels (posterior mean or
 *       a sample seeded from the pixels), because its result is cached on disk under {@link #vaeIdentity()}.</li>
 *   <li>No randomness of its own except through the engine's seeded generator: the loop reseeds the engine before
 *       each step so that a resumed run repeats an uninterrupted one exactly.</li>
 * </ul>
 */
public interface DiffusionModel extends AutoCloseable {
    /** The hooks into the text encoder(s), UNet and VAE that methods install their parts through. */
    NetworkHooks hooks();

    /**
     * A stable identity of the VAE weights (a hash of them, or of the file and its tensor offsets): the latent cache
     * key. Two models with the same VAE must return the same value; any change of VAE weights must change it.
     */
    String vaeIdentity();

    /** Pixel size of one latent cell (8 for SD). Bucket sizes are multiples of it. */
    default int latentScale() {
        return 8;
    }

    /**
     * Encodes images to scaled latents ({@code × 0.18215} for SD1/2) without gradients.
     *
     * @param pixels {@code [batch, 3, h, w]} in {@code [-1, 1]}
     * @return {@code [batch, 4, h / latentScale, w / latentScale]}
     */
    NDArray encodeImages(NDArray pixels);

    /**
     * Encodes prompts to the UNet's cross-attention context with every installed text hook.
     *
     * @return {@code [batch, tokens, width]}
     */
    NDArray encodeText(List<String> prompts);

    /**
     * The UNet prediction (noise for ε-models, velocity for v-models) with every installed hook.
     *
     * @param noisyLatents {@code [batch, 4, h, w]}
     * @param timesteps    {@code [batch]}, int64 or float32 timestep indices in {@code [0, 1000)}
     * @param context      {@code [batch, tokens, width]} from {@link #encodeText}
     */
    NDArray predict(NDArray noisyLatents, NDArray timesteps, NDArray context);

    /**
     * Metadata every result of a job on this model carries (a model whose architecture is not recognisable from its
     * keys stores its config there, so that a fine-tuned checkpoint loads without a config file). Empty by default.
     */
    default java.util.Map<String, String> provenance() {
        return java.util.Map.of();
    }

    /**
     * Where the arrays of the following calls are created until the next call ({@code null}: the model's own
     * manager again). The loop passes a manager per step and closes it after the optimiser step, so nothing a step
     * computed outlives it, whatever the networks do with NDScopes.
     */
    default void stepManager(NDManager manager) {
    }

    /** What the checkpoint was trained to predict: {@code epsilon} or {@code v_prediction}. */
    default String predictionType() {
        return "epsilon";
    }

    /**
     * Switches training mode: on around each step's forward and backward, off for previews, evaluation and export,
     * so the wrappers' dropouts act in training only (what a network's {@code training} flag is in torch).
     */
    default void setTraining(boolean training) {
    }

    /** The preview renderer, once the samplers exist; empty if this model cannot render. */
    default Optional<PreviewSampler> sampler() {
        return Optional.empty();
    }

    /** Frees the model's arrays that are not owned by the job's manager. */
    @Override
    default void close() {
    }
}
