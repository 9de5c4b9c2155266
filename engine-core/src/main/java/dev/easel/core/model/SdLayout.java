package dev.easel.core.model;

import java.util.Locale;

/**
 * How a checkpoint names its tensors: {@link #LDM} is the original CompVis/Stability single-file naming
 * ({@code model.diffusion_model.*}, {@code first_stage_model.*}, {@code cond_stage_model.*}), {@link #DIFFUSERS}
 * the Hugging Face one ({@code unet.down_blocks.*}, ..., one prefix per pipeline component).
 */
public enum SdLayout {
    LDM, DIFFUSERS, UNKNOWN;

    /** Lower-case name, as the CLI takes and prints it. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses {@code ldm} or {@code diffusers}. */
    public static SdLayout parse(String s) {
        return switch (s.trim().toLowerCase(Locale.ROOT)) {
            case "ldm", "original", "sd" -> LDM;
            case "diffusers", "hf" -> DIFFUSERS;
            default -> throw new IllegalArgumentException("unknown layout '" + s + "'; expected ldm or diffusers");
        };
    }
}
