package dev.easel.core.sd.model;

import java.util.List;

/**
 * ldm {@code UNetModel} hyper-parameters, named as in its yaml. {@code numHeadChannels} -1 means "{@code numHeads}
 * heads of {@code ch / numHeads}" (SD1); otherwise heads = ch / numHeadChannels (SD2: 64).
 * {@code transformerDepth} has one entry per level (a single yaml int repeated).
 */
public record UNetConfig(int inChannels, int outChannels, int modelChannels, List<Integer> channelMult,
                         int numResBlocks, List<Integer> attentionResolutions, int numHeads, int numHeadChannels,
                         int contextDim, List<Integer> transformerDepth, boolean useLinearInTransformer) {
    public UNetConfig {
        channelMult = List.copyOf(channelMult);
        attentionResolutions = List.copyOf(attentionResolutions);
        transformerDepth = List.copyOf(transformerDepth);
        if (transformerDepth.size() != channelMult.size()) {
            throw new IllegalArgumentException("transformer_depth needs one entry per level of channel_mult");
        }
        for (int m : channelMult) {
            if ((long) m * modelChannels % 32 != 0) {
                throw new IllegalArgumentException("UNet widths must be multiples of 32 (GroupNorm groups): "
                        + modelChannels + " x " + m);
            }
        }
        if (numHeadChannels == -1 && numHeads <= 0) {
            throw new IllegalArgumentException("UNet config needs num_heads or num_head_channels");
        }
    }

    public static UNetConfig sd1() {
        return new UNetConfig(4, 4, 320, List.of(1, 2, 4, 4), 2, List.of(4, 2, 1), 8, -1, 768,
                List.of(1, 1, 1, 1), false);
    }

    public static UNetConfig sd2() {
        return new UNetConfig(4, 4, 320, List.of(1, 2, 4, 4), 2, List.of(4, 2, 1), -1, 64, 1024,
                List.of(1, 1, 1, 1), true);
    }

    /** Heads of a transformer at width {@code ch}. */
    public int headsAt(int ch) {
        return numHeadChannels == -1 ? numHeads : ch / numHeadChannels;
    }

    /** Width of the time embedding. */
    public int timeEmbedDim() {
        return modelChannels * 4;
    }
}
