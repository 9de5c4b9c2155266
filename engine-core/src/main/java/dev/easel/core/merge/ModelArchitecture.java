package dev.easel.core.merge;

import java.util.Collection;
import java.util.Optional;

/**
 * The model family a checkpoint's key names reveal, used to refuse merges of unrelated models before any work and
 * to pick the block list for per-block weights. Detection reads key names only (never tensors), in both the
 * original (ldm/sgm) and diffusers layouts.
 */
public enum ModelArchitecture {
    /** Stable Diffusion 1.x: CLIP-L text encoder, 4-level UNet. */
    SD1("SD1.x", BlockLayout.SD1),
    /** Stable Diffusion 2.x: OpenCLIP-H text encoder, SD1's UNet layout. */
    SD2("SD2.x", BlockLayout.SD1),
    /** Stable Diffusion XL: two text encoders, 3-level UNet. */
    SDXL("SDXL", BlockLayout.SDXL),
    /** Anything else (a bare UNet, a test model): merged without architecture checks or block weights. */
    UNKNOWN("unknown", null);

    private final String label;
    private final BlockLayout layout;

    ModelArchitecture(String label, BlockLayout layout) {
        this.label = label;
        this.layout = layout;
    }

    /** How users call it. */
    public String label() {
        return label;
    }

    /** The block list for per-block weights, if the architecture has one. */
    public Optional<BlockLayout> layout() {
        return Optional.ofNullable(layout);
    }

    /** Detects the architecture from key names. */
    public static ModelArchitecture detect(Collection<String> keys) {
        boolean sd1Te = false;
        boolean sd2Te = false;
        boolean xl = false;
        boolean ldmUnet = false;
        boolean diffusersLevel3 = false;
        boolean diffusersUnet = false;
        for (String k : keys) {
            if (k.startsWith("conditioner.embedders.") || k.contains("label_emb.") || k.contains("add_embedding.")
                    || k.startsWith("text_encoder_2.")) {
                xl = true;
            } else if (k.startsWith("cond_stage_model.model.")) {
                sd2Te = true;
            } else if (k.startsWith("cond_stage_model.transformer.")) {
                sd1Te = true;
            }
            if (k.startsWith("model.diffusion_model.input_blocks.")) {
                ldmUnet = true;
            }
            if (k.contains("down_blocks.") && !k.contains("encoder.")) {
                diffusersUnet = true;
                if (k.contains("down_blocks.3.")) {
                    diffusersLevel3 = true;
                }
            }
        }
        if (xl) {
            return SDXL;
        }
        if (sd2Te) {
            return SD2;
        }
        if (sd1Te || ldmUnet || (diffusersUnet && diffusersLevel3)) {
            return SD1;
        }
        return UNKNOWN;
    }
}
