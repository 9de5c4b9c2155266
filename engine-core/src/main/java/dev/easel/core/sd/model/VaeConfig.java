package dev.easel.core.sd.model;

import java.util.List;

/** ldm {@code AutoencoderKL} ddconfig and {@code embed_dim}; the latent scale factor of the model. */
public record VaeConfig(int ch, List<Integer> chMult, int numResBlocks, List<Integer> attnResolutions,
                        int resolution, int inChannels, int outCh, int zChannels, int embedDim, boolean doubleZ,
                        double scaleFactor) {
    public VaeConfig {
        chMult = List.copyOf(chMult);
        attnResolutions = List.copyOf(attnResolutions);
    }

    public static VaeConfig sd() {
        return new VaeConfig(128, List.of(1, 2, 4, 4), 2, List.of(), 256, 3, 3, 4, 4, true, 0.18215);
    }

    /** Pixels per latent cell: 2^(levels-1). */
    public int downsampleFactor() {
        return 1 << (chMult.size() - 1);
    }
}
