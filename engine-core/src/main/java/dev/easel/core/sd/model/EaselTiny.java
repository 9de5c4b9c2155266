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

    /** File name of the weights in a distribution's (or a source checkout's) {@code models/} folder. */
    public static final String FILE_NAME = "easel-tiny.safetensors";
    /** System property naming the weights explicitly (tests, relocated installs). */
    public static final String PROPERTY = "easel.tiny";

    private EaselTiny() {
    }

    /**
     * Where the shipped weights are: {@code -Deasel.tiny}, else {@code HOME/models/easel-tiny.safetensors} of the
     * distribution, else {@code models/easel-tiny.safetensors} in the working folder or any folder above it (a
     * source checkout, where tests run).
     */
    public static java.util.Optional<java.nio.file.Path> locate(java.nio.file.Path home) {
        String explicit = System.getProperty(PROPERTY);
        if (explicit != null && !explicit.isBlank()) {
            return java.util.Optional.of(java.nio.file.Path.of(explicit));
        }
        if (home != null) {
            java.nio.file.Path p = home.resolve("models").resolve(FILE_NAME);
            if (java.nio.file.Files.isRegularFile(p)) {
                return java.util.Optional.of(p);
            }
        }
        for (java.nio.file.Path dir = java.nio.file.Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            java.nio.file.Path p = dir.resolve("models").resolve(FILE_NAME);
            if (java.nio.file.Files.isRegularFile(p)) {
                return java.util.Optional.of(p);
            }
        }
        return java.util.Optional.empty();
    }

    /** {@link #locate}, or a one-line error saying where it looked. */
    public static java.nio.file.Path require(java.nio.file.Path home) throws ModelLoadException {
        return locate(home).orElseThrow(() -> new ModelLoadException(home == null ? null
                : home.resolve("models").resolve(FILE_NAME), "no model given and Easel Tiny (models/" + FILE_NAME
                + ") was not found in the distribution or above the working folder; give a model with --model"));
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
