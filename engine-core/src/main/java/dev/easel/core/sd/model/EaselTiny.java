package dev.easel.core.sd.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * Easel Tiny: Easel's own small pretrained model. SD 1.5's architecture and exact ldm key layout (UNet channel_mult
 * 1,2,4,4 with two res blocks per level and cross-attention at the first three; the 4-level VAE with its mid
 * attention; a CLIP text tower on the real CLIP tokenizer with 77 positions) at small widths, trained by Easel's
 * training core on the synthetic shapes dataset ({@code dev.easel.core.synth}). See {@code docs/easel-tiny.md}.
 */
public final class EaselTiny {
    /** The architecture, as a class-path resource in the ldm config layout. */
    public static final String CONFIG_RESOURCE = "/dev/easel/core/sd/configs/easel-tiny.json";

    private EaselTiny() {
    }

    /** The architecture's config file, as shipped beside the weights. */
    public static byte[] configBytes() {
        try (InputStream in = EaselTiny.class.getResourceAsStream(CONFIG_RESOURCE)) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The architecture. */
    public static SdModelConfig config() {
        try {
            return ModelConfigs.parse(new ObjectMapper().readTree(configBytes()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
