package dev.easel.core.adapter;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * UNet module paths in the ldm (CompVis/SAI) layout and the diffusers layout, converted both ways by the rules
 * A1111's {@code convert_diffusers_name_to_compvis} and diffusers' SGM-block mapping use. Works for SD1.x, SD2.x and
 * SDXL, which share the numbering {@code input_blocks.(1+3i+j)}, {@code output_blocks.(3i+j)}; they differ only in
 * where an up block's upsampler sits ({@code .1} behind a block without attentions, {@code .2} behind one with).
 * Those numbers hold for SD's two resnets per level ({@code layers_per_block}); UNets with another count (the tiny
 * test and demo models have one) number {@code input_blocks.(1+(r+1)i+j)}, {@code output_blocks.((r+1)i+j)}, and the
 * overloads taking {@code layersPerBlock} convert those. Paths carry no {@code .weight}/{@code .bias} suffix.
 */
public final class UnetNames {
    private static final Pattern INPUT = Pattern.compile("input_blocks\\.(\\d+)\\.(\\d+)(?:\\.(.*))?");
    private static final Pattern OUTPUT = Pattern.compile("output_blocks\\.(\\d+)\\.(\\d+)(?:\\.(.*))?");
    private static final Pattern MIDDLE = Pattern.compile("middle_block\\.(\\d+)(?:\\.(.*))?");
    private static final Pattern DOWN = Pattern.compile("down_blocks\\.(\\d+)\\.(attentions|resnets)\\.(\\d+)(?:\\.(.*))?");
    private static final Pattern UP = Pattern.compile("up_blocks\\.(\\d+)\\.(attentions|resnets)\\.(\\d+)(?:\\.(.*))?");
    private static final Pattern MID = Pattern.compile("mid_block\\.(attentions|resnets)\\.(\\d+)(?:\\.(.*))?");
    private static final Pattern DOWNSAMPLER = Pattern.compile("down_blocks\\.(\\d+)\\.downsamplers\\.0\\.conv");
    private static final Pattern UPSAMPLER = Pattern.compile("up_blocks\\.(\\d+)\\.upsamplers\\.0\\.conv");
    private static final String[][] RESNET = {
        {"in_layers.0", "norm1"}, {"in_layers.2", "conv1"}, {"out_layers.0", "norm2"}, {"out_layers.3", "conv2"},
        {"emb_layers.1", "time_emb_proj"}, {"skip_connection", "conv_shortcut"}};

    /** SD's resnets per level (SD1, SD2, SDXL). */
    public static final int SD_LAYERS_PER_BLOCK = 2;

    private static final Pattern LDM_DOWNSAMPLER = Pattern.compile(
            "model\\.diffusion_model\\.input_blocks\\.(\\d+)\\.0\\.op\\.weight");
    private static final Pattern LDM_INPUT = Pattern.compile("model\\.diffusion_model\\.input_blocks\\.(\\d+)\\..*");
    private static final Pattern DIFFUSERS_RESNET = Pattern.compile("unet\\.down_blocks\\.0\\.resnets\\.(\\d+)\\..*");

    private UnetNames() {
    }

    /**
     * The resnets per level of the UNet whose checkpoint has these keys (ldm: the first downsampler is
     * {@code input_blocks.r+1}; diffusers: {@code down_blocks.0} has {@code r} resnets); SD's 2 if the keys do not
     * tell.
     */
    public static int layersPerBlock(Iterable<String> keys) {
        int firstDownsampler = Integer.MAX_VALUE;
        int lastInput = -1;
        int diffusersResnets = -1;
        for (String k : keys) {
            Matcher m = LDM_DOWNSAMPLER.matcher(k);
            if (m.matches()) {
                firstDownsampler = Math.min(firstDownsampler, Integer.parseInt(m.group(1)));
            }
            m = LDM_INPUT.matcher(k);
            if (m.matches()) {
                lastInput = Math.max(lastInput, Integer.parseInt(m.group(1)));
            }
            m = DIFFUSERS_RESNET.matcher(k);
            if (m.matches()) {
                diffusersResnets = Math.max(diffusersResnets, Integer.parseInt(m.group(1)));
            }
        }
        if (firstDownsampler != Integer.MAX_VALUE) {
            return firstDownsampler - 1;
        }
        if (diffusersResnets >= 0) {
            return diffusersResnets + 1;
        }
        // one level and no downsampler: every input block after conv_in is a resnet
        return lastInput > 0 ? lastInput : SD_LAYERS_PER_BLOCK;
    }

    /** The diffusers path of an ldm UNet path (below {@code model.diffusion_model.}) of SD's layout, or {@code null}. */
    public static String ldmToDiffusers(String p) {
        return ldmToDiffusers(p, SD_LAYERS_PER_BLOCK);
    }

    /** The diffusers path of an ldm UNet path of a UNet with {@code layersPerBlock} resnets per level, or {@code null}. */
    public static String ldmToDiffusers(String p, int layersPerBlock) {
        int per = layersPerBlock + 1;
        switch (p) {
            case "input_blocks.0.0": return "conv_in";
            case "time_embed.0": return "time_embedding.linear_1";
            case "time_embed.2": return "time_embedding.linear_2";
            case "out.0": return "conv_norm_out";
            case "out.2": return "conv_out";
            case "label_emb.0.0": return "add_embedding.linear_1";
            case "label_emb.0.2": return "add_embedding.linear_2";
            default: break;
        }
        Matcher m = INPUT.matcher(p);
        if (m.matches()) {
            int n = Integer.parseInt(m.group(1));
            int part = Integer.parseInt(m.group(2));
            String rest = m.group(3);
            if (n == 0) {
                return null;
            }
            int i = (n - 1) / per;
            int j = (n - 1) % per;
            if (j == layersPerBlock) {
                return part == 0 && "op".equals(rest) ? "down_blocks." + i + ".downsamplers.0.conv" : null;
            }
            if (rest == null) {
                return null;
            }
            return part == 0 ? "down_blocks." + i + ".resnets." + j + "." + resnetToDiffusers(rest)
                    : part == 1 ? "down_blocks." + i + ".attentions." + j + "." + rest : null;
        }
        m = MIDDLE.matcher(p);
        if (m.matches() && m.group(2) != null) {
            int n = Integer.parseInt(m.group(1));
            String rest = m.group(2);
            return n == 1 ? "mid_block.attentions.0." + rest : "mid_block.resnets." + (n / 2) + "."
                    + resnetToDiffusers(rest);
        }
        m = OUTPUT.matcher(p);
        if (m.matches() && m.group(3) != null) {
            int n = Integer.parseInt(m.group(1));
            int part = Integer.parseInt(m.group(2));
            String rest = m.group(3);
            int i = n / per;
            int j = n % per;
            if (part == 0) {
                return "up_blocks." + i + ".resnets." + j + "." + resnetToDiffusers(rest);
            }
            if (rest.equals("conv")) {
                return "up_blocks." + i + ".upsamplers.0.conv";
            }
            return part == 1 ? "up_blocks." + i + ".attentions." + j + "." + rest : null;
        }
        return null;
    }

    /**
     * The ldm path of a diffusers UNet path, or {@code null}.
     *
     * @param upsamplerAfterAttention whether up block {@code i}'s upsampler follows an attention ({@code .2}); SD1/SD2:
     *                                all but block 0, SDXL: all
     */
    public static String diffusersToLdm(String d, java.util.function.IntPredicate upsamplerAfterAttention) {
        return diffusersToLdm(d, SD_LAYERS_PER_BLOCK, upsamplerAfterAttention);
    }

    /** The ldm path of a diffusers UNet path of a UNet with {@code layersPerBlock} resnets per level, or {@code null}. */
    public static String diffusersToLdm(String d, int layersPerBlock,
                                        java.util.function.IntPredicate upsamplerAfterAttention) {
        int per = layersPerBlock + 1;
        switch (d) {
            case "conv_in": return "input_blocks.0.0";
            case "time_embedding.linear_1": return "time_embed.0";
            case "time_embedding.linear_2": return "time_embed.2";
            case "conv_norm_out": return "out.0";
            case "conv_out": return "out.2";
            case "add_embedding.linear_1": return "label_emb.0.0";
            case "add_embedding.linear_2": return "label_emb.0.2";
            default: break;
        }
        Matcher m = DOWNSAMPLER.matcher(d);
        if (m.matches()) {
            return "input_blocks." + (per + per * Integer.parseInt(m.group(1))) + ".0.op";
        }
        m = UPSAMPLER.matcher(d);
        if (m.matches()) {
            int i = Integer.parseInt(m.group(1));
            return "output_blocks." + (layersPerBlock + per * i) + "." + (upsamplerAfterAttention.test(i) ? 2 : 1)
                    + ".conv";
        }
        m = DOWN.matcher(d);
        if (m.matches() && m.group(4) != null) {
            int i = Integer.parseInt(m.group(1));
            int j = Integer.parseInt(m.group(3));
            boolean attn = m.group(2).equals("attentions");
            return "input_blocks." + (1 + per * i + j) + "." + (attn ? "1." + m.group(4) : "0." + resnetToLdm(m.group(4)));
        }
        m = UP.matcher(d);
        if (m.matches() && m.group(4) != null) {
            int i = Integer.parseInt(m.group(1));
            int j = Integer.parseInt(m.group(3));
            boolean attn = m.group(2).equals("attentions");
            return "output_blocks." + (per * i + j) + "." + (attn ? "1." + m.group(4) : "0." + resnetToLdm(m.group(4)));
        }
        m = MID.matcher(d);
        if (m.matches() && m.group(3) != null) {
            int j = Integer.parseInt(m.group(2));
            return m.group(1).equals("attentions") ? "middle_block.1." + m.group(3)
                    : "middle_block." + (2 * j) + "." + resnetToLdm(m.group(3));
        }
        return null;
    }

    private static String resnetToDiffusers(String rest) {
        for (String[] r : RESNET) {
            if (rest.equals(r[0]) || rest.startsWith(r[0] + ".")) {
                return r[1] + rest.substring(r[0].length());
            }
        }
        return rest;
    }

    private static String resnetToLdm(String rest) {
        for (String[] r : RESNET) {
            if (rest.equals(r[1]) || rest.startsWith(r[1] + ".")) {
                return r[0] + rest.substring(r[1].length());
            }
        }
        return rest;
    }
}
