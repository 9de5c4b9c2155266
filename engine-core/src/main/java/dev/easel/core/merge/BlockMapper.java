package dev.easel.core.merge;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Maps a tensor key to its merge block, in the original (ldm/sgm) and diffusers UNet layouts.
 *
 * <p>Conventions, following SuperMerger and meh (the tools whose MBW strings users paste) rather than sd-mecha,
 * which disagrees on the first point:
 * <ul>
 *   <li>{@code time_embed} (diffusers {@code time_embedding}) and SDXL's {@code label_emb} ({@code add_embedding})
 *       belong to <b>IN00</b>, with {@code conv_in};</li>
 *   <li>the final {@code out.0}/{@code out.2} layers ({@code conv_norm_out}/{@code conv_out}) belong to the last
 *       output block: <b>OUT11</b> for SD1/SD2, <b>OUT08</b> for SDXL;</li>
 *   <li>text encoders, the VAE, EMA copies and anything outside the UNet belong to <b>BASE</b>;</li>
 *   <li>ldm {@code input_blocks.N} is IN N, {@code middle_block} M00, {@code output_blocks.N} OUT N; diffusers
 *       {@code down_blocks.i.(resnets|attentions).j} is IN (3i+j+1), {@code down_blocks.i.downsamplers} IN 3(i+1),
 *       {@code mid_block} M00, {@code up_blocks.i.(resnets|attentions).j} OUT (3i+j) and
 *       {@code up_blocks.i.upsamplers} OUT (3i+2).</li>
 * </ul>
 */
public final class BlockMapper {
    private static final List<String> UNET_PREFIXES = List.of("model.diffusion_model.", "unet.", "diffusion_model.");
    private static final Pattern LDM_BLOCK = Pattern.compile("^(input_blocks|output_blocks)\\.(\\d+)\\.");
    private static final Pattern DIFFUSERS_BLOCK =
            Pattern.compile("^(down_blocks|up_blocks)\\.(\\d+)\\.(resnets|attentions|downsamplers|upsamplers)\\.(\\d+)\\.");

    private final BlockLayout layout;

    public BlockMapper(BlockLayout layout) {
        this.layout = layout;
    }

    /** The layout blocks are named in. */
    public BlockLayout layout() {
        return layout;
    }

    /** The block of one key; {@code BASE} for everything outside the UNet. */
    public String blockOf(String key) {
        String rest = null;
        for (String p : UNET_PREFIXES) {
            if (key.startsWith(p)) {
                rest = key.substring(p.length());
                break;
            }
        }
        if (rest == null) {
            if (key.startsWith("down_blocks.") || key.startsWith("up_blocks.") || key.startsWith("mid_block.")
                    || key.startsWith("conv_in.") || key.startsWith("conv_out.") || key.startsWith("conv_norm_out.")
                    || key.startsWith("time_embedding.") || key.startsWith("add_embedding.")) {
                rest = key;
            } else {
                return "BASE";
            }
        }
        if (rest.startsWith("time_embed.") || rest.startsWith("time_embedding.") || rest.startsWith("label_emb.")
                || rest.startsWith("add_embedding.") || rest.startsWith("conv_in.")) {
            return "IN00";
        }
        if (rest.startsWith("out.") || rest.startsWith("conv_out.") || rest.startsWith("conv_norm_out.")) {
            return layout.lastOutputBlock();
        }
        if (rest.startsWith("middle_block.") || rest.startsWith("mid_block.")) {
            return "M00";
        }
        Matcher m = LDM_BLOCK.matcher(rest);
        if (m.find()) {
            int n = Integer.parseInt(m.group(2));
            return checked((m.group(1).equals("input_blocks") ? "IN" : "OUT") + String.format("%02d", n), key);
        }
        m = DIFFUSERS_BLOCK.matcher(rest);
        if (m.find()) {
            int i = Integer.parseInt(m.group(2));
            int j = Integer.parseInt(m.group(4));
            String kind = m.group(3);
            if (m.group(1).equals("down_blocks")) {
                int n = kind.equals("downsamplers") ? 3 * (i + 1) : 3 * i + j + 1;
                return checked(String.format("IN%02d", n), key);
            }
            int n = kind.equals("upsamplers") ? 3 * i + 2 : 3 * i + j;
            return checked(String.format("OUT%02d", n), key);
        }
        return "BASE";
    }

    private String checked(String block, String key) {
        if (!layout.blocks().contains(block)) {
            throw new MergeException("key '" + key + "' maps to block " + block + ", which " + layout
                    + " models do not have; is the architecture detected correctly?");
        }
        return block;
    }
}
