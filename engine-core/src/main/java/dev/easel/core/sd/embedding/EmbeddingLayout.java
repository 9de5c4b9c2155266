package dev.easel.core.sd.embedding;

/** The layouts of textual-inversion files in the ecosystem. */
public enum EmbeddingLayout {
    /** AUTOMATIC1111's dict: {@code string_to_token}, {@code string_to_param {"*": [n, width]}}, name, step, ... */
    A1111("A1111"),
    /** kohya's {@code {"emb_params": [n, width]}} (train_textual_inversion.py). */
    KOHYA("kohya emb_params"),
    /** diffusers' {@code {token: [n, width]}} (learned_embeds, sd-concepts-library). */
    DIFFUSERS("diffusers");

    private final String label;

    EmbeddingLayout(String label) {
        this.label = label;
    }

    /** A name for messages. */
    public String label() {
        return label;
    }
}
