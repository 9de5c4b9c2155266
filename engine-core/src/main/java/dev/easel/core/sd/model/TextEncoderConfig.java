package dev.easel.core.sd.model;

/**
 * Sizes of a CLIP text tower. {@code openClip} selects SD2's OpenCLIP key layout ({@code cond_stage_model.model.*},
 * fused {@code in_proj}, GELU) instead of SD1's Hugging Face {@code CLIPTextModel} layout (QuickGELU).
 * {@code defaultClipSkip} is 1 for SD1 (last layer) and 2 for SD2 ("penultimate").
 */
public record TextEncoderConfig(boolean openClip, int vocabSize, int maxPositions, int width, int layers, int heads,
                                int intermediate, String activation, float layerNormEps, int projectionDim,
                                int defaultClipSkip, int padTokenId) {
    public TextEncoderConfig {
        if (width % heads != 0) {
            throw new IllegalArgumentException("text width " + width + " is not divisible by " + heads + " heads");
        }
        if (!activation.equals("quick_gelu") && !activation.equals("gelu")) {
            throw new IllegalArgumentException("unknown text encoder activation '" + activation + "'");
        }
    }

    /** SD1.x: OpenAI CLIP ViT-L/14 text tower. */
    public static TextEncoderConfig sd1() {
        return new TextEncoderConfig(false, 49408, 77, 768, 12, 12, 3072, "quick_gelu", 1e-5f, 0, 1, 49407);
    }

    /** SD2.x: OpenCLIP ViT-H/14 text tower. */
    public static TextEncoderConfig sd2() {
        return new TextEncoderConfig(true, 49408, 77, 1024, 24, 16, 4096, "gelu", 1e-5f, 1024, 2, 0);
    }

    /** The ldm key prefix of the tower. */
    public String prefix() {
        return openClip ? "cond_stage_model.model." : "cond_stage_model.transformer.text_model.";
    }
}
