package dev.easel.core.model;

import java.util.List;

/**
 * What detection found out about a checkpoint.
 *
 * @param family     sd1, sd2, sdxl or unknown
 * @param layout     ldm or diffusers naming
 * @param components pipeline parts present: {@code unet}, {@code vae}, {@code text_encoder}, {@code text_encoder_2}
 * @param ema        whether EMA copies of the UNet weights are present ({@code model_ema.*})
 * @param inChannels UNet input channels (4 normal, 9 inpainting, 8 instruct-pix2pix; 0 without a UNet)
 * @param prediction the prediction type the weights suggest: {@code epsilon}, {@code v_prediction}, or a hedged
 *                   guess ({@code v_prediction?}) when weights cannot tell (SD2 768-v and 512-base look alike)
 */
public record SdModelInfo(SdFamily family, SdLayout layout, List<String> components, boolean ema, int inChannels,
        String prediction) {
    public SdModelInfo {
        components = List.copyOf(components);
    }

    /** Whether the UNet takes a masked image besides the latent (9 input channels). */
    public boolean inpainting() {
        return inChannels == 9;
    }
}
