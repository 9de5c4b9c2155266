package dev.easel.core.train.model;

/**
 * How the job wants its model built.
 *
 * @param clipSkip         1 = last text-encoder layer, 2 = penultimate (+ final layer norm), ...
 * @param maxTokenLength   75, 150 or 225 prompt tokens (kohya's {@code max_token_length}; chunks of 75)
 * @param vPrediction      whether the checkpoint predicts velocity (kohya's {@code v_parameterization})
 * @param mixedPrecision   {@code no}, {@code fp16} or {@code bf16}: dtype of frozen weights where the device supports it
 */
public record ModelOptions(int clipSkip, int maxTokenLength, boolean vPrediction, String mixedPrecision) {
    /** SD1 defaults: no clip skip, 75 tokens, ε-prediction, fp32. */
    public static ModelOptions defaults() {
        return new ModelOptions(1, 75, false, "no");
    }
}
