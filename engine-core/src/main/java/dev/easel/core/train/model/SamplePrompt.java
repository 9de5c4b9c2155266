package dev.easel.core.train.model;

/**
 * One preview prompt, with kohya's inline options ({@code --n} negative, {@code --w}/{@code --h} size, {@code --d}
 * seed, {@code --l} CFG scale, {@code --s} steps, {@code --ss} sampler).
 *
 * @param seed -1 for a seed derived from the job's seed and the prompt's index
 */
public record SamplePrompt(String prompt, String negativePrompt, int width, int height, long seed, double cfgScale,
                           int steps, String sampler) {
}
