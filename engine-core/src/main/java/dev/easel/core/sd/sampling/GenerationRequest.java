package dev.easel.core.sd.sampling;

import java.util.Objects;

/**
 * What to generate: prompts, sampler, steps, guidance, seed and size; {@code clipSkip} 0 means the family default.
 * For img2img, {@code strength} is A1111's denoising strength (0..1).
 */
public record GenerationRequest(String prompt, String negative, SamplerKind sampler, int steps, float cfg, long seed,
                                int width, int height, int clipSkip, float strength) {
    public GenerationRequest {
        Objects.requireNonNull(prompt, "prompt");
        negative = negative == null ? "" : negative;
        if (steps < 1) {
            throw new IllegalArgumentException("steps must be at least 1, not " + steps);
        }
        if (width < 1 || height < 1) {
            throw new IllegalArgumentException("width and height must be positive");
        }
        if (strength < 0 || strength > 1) {
            throw new IllegalArgumentException("strength must be between 0 and 1, not " + strength);
        }
    }

    /** A txt2img request with the family default clip skip. */
    public static GenerationRequest txt2img(String prompt, String negative, SamplerKind sampler, int steps, float cfg,
                                            long seed, int width, int height) {
        return new GenerationRequest(prompt, negative, sampler, steps, cfg, seed, width, height, 0, 1f);
    }
}
