package dev.easel.api.model;

import org.osgi.annotation.versioning.ProviderType;

/**
 * One weight-bearing module of a network, under both names the ecosystem uses for it. Adapters derive their file
 * keys from these names (kohya: the diffusers name with dots as underscores behind {@code lora_unet_}/{@code lora_te_}).
 */
@ProviderType
public interface NetworkModule {
    /** Which network it belongs to. */
    Component component();

    /** What it computes. */
    ModuleKind kind();

    /** The name in the original (ldm) checkpoint layout, without {@code .weight}. */
    String ldmName();

    /** The name in the diffusers layout, relative to its component folder, without {@code .weight}. */
    String diffusersName();

    /** The shape of the weight. */
    long[] weightShape();

    /** Whether the module has a bias. */
    boolean hasBias();

    /** Convolution stride (1 for other kinds). */
    default int stride() {
        return 1;
    }

    /** Convolution padding (0 for other kinds). */
    default int padding() {
        return 0;
    }

    /** Whether the module sits in a cross-attention block and projects the text context (attn2 to_k / to_v). */
    default boolean projectsContext() {
        return false;
    }
}
