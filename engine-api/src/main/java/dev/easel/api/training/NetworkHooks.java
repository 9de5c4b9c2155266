package dev.easel.api.training;

import ai.djl.ndarray.NDArray;
import dev.easel.api.model.Component;
import dev.easel.api.model.NetworkModule;
import java.util.List;
import java.util.function.Predicate;
import org.osgi.annotation.versioning.ProviderType;

/**
 * Where a method attaches to the networks of the job's base model. Every hook is installed during
 * {@link TrainingMethod#start}; the engine applies them in training and in the sample images it renders during the
 * job.
 */
@ProviderType
public interface NetworkHooks {
    /** The weight-bearing modules of one network, in checkpoint order. Empty if the model lacks that network. */
    List<NetworkModule> modules(Component component);

    /** Replaces the forward of a linear or conv module (LoRA family). One wrapper per module. */
    void wrap(NetworkModule module, ModuleWrapper wrapper);

    /**
     * Unfreezes the weights (and biases) of the selected modules and returns them as trainable tensors
     * (full fine-tuning, DreamBooth, Custom Diffusion's k/v projections, aesthetic gradients on the text encoder).
     */
    List<NDArray> trainBaseWeights(Predicate<NetworkModule> selection);

    /**
     * Adds a new word of {@code vectors} tokens to the tokenizer and embedding table, initialised from the
     * embedding of {@code initText} (repeated or truncated to fit).
     *
     * @throws IllegalArgumentException if the word is already a token of the vocabulary
     */
    TokenEmbedding addToken(String name, int vectors, String initText);

    /** Transforms the text context before cross-attention K/V projections (hypernetworks). */
    void onContext(ContextHook hook);

    /** Takes part in classifier-free guidance (Dream Artist, null-text inversion). */
    void onGuidance(GuidanceHook hook);

    /** Replaces or blends the text conditioning at sampling time (aesthetic gradients). */
    void onConditioning(ConditioningHook hook);

    /** Encodes prompts with the current (hooked) text encoder: {@code [batch, tokens, width]}. */
    NDArray encodeText(List<String> prompts);

    /**
     * The projected, pooled CLIP text features of prompts ({@code [batch, projection]}), pooled at the EOS token
     * found by id (added tokens shift argmax pooling). Used by CLIP inversion and aesthetic gradients.
     *
     * @throws UnsupportedOperationException if the model has no text projection
     */
    NDArray textFeatures(List<String> prompts);

    /**
     * The projected CLIP image features of images ({@code [batch, 3, h, w]} in [0, 1]) from a CLIP vision tower
     * configured for the job; SD checkpoints do not contain one.
     *
     * @throws UnsupportedOperationException if no CLIP vision model is configured
     */
    NDArray imageFeatures(NDArray images);
}
