package dev.easel.core.train.model;

import java.awt.image.BufferedImage;
import java.io.IOException;

/**
 * Renders one preview image during training with the model's current (hooked) weights. Implemented by the
 * sampler code; the loop calls it every {@code sample_every_n_steps} for each prompt of {@code sample_prompts}.
 */
@FunctionalInterface
public interface PreviewSampler {
    /** Renders the prompt with its options (size, seed, steps, CFG scale, sampler). */
    BufferedImage render(SamplePrompt prompt) throws IOException;
}
