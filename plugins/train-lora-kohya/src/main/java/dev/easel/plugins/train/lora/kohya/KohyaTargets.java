package dev.easel.plugins.train.lora.kohya;

import dev.easel.api.model.Component;
import dev.easel.api.model.ModuleKind;
import dev.easel.api.model.NetworkModule;
import java.util.regex.Pattern;

/**
 * Which modules kohya's {@code networks.lora} adapts, by the diffusers class they sit in: every Linear and Conv2d of
 * a {@code Transformer2DModel} (attention projections, feed-forward, 1x1 {@code proj_in}/{@code proj_out}), of the
 * text encoder's {@code CLIPAttention} and {@code CLIPMLP}, and with {@code conv_dim} those of
 * {@code ResnetBlock2D}, {@code Downsample2D} and {@code Upsample2D} (3x3 convs at {@code conv_dim}, Linear and 1x1
 * convs there at {@code network_dim}). {@code conv_in}, {@code conv_out} and the time embedding are never adapted.
 */
final class KohyaTargets {
    private static final Pattern TRANSFORMER = Pattern.compile("^(down_blocks\\.\\d+|up_blocks\\.\\d+|mid_block)"
            + "\\.attentions\\.\\d+\\..*");
    private static final Pattern RESNET_OR_SAMPLER = Pattern.compile("^(down_blocks\\.\\d+|up_blocks\\.\\d+|mid_block)"
            + "\\.(resnets\\.\\d+|downsamplers\\.\\d+|upsamplers\\.\\d+)\\..*");
    private static final Pattern TEXT = Pattern.compile("^text_model\\.encoder\\.layers\\.\\d+\\.(self_attn|mlp)\\..*");

    private KohyaTargets() {
    }

    /** The rank for a module (0 = not adapted), given the job's {@code network_dim} and {@code conv_dim}. */
    static int rank(NetworkModule m, int networkDim, int convDim) {
        boolean linear = m.kind() == ModuleKind.LINEAR;
        boolean conv = m.kind() == ModuleKind.CONV2D;
        if (!linear && !conv) {
            return 0;
        }
        boolean oneByOne = conv && m.weightShape().length == 4 && m.weightShape()[2] == 1 && m.weightShape()[3] == 1;
        String name = m.diffusersName();
        if (m.component() == Component.TEXT_ENCODER || m.component() == Component.TEXT_ENCODER_2) {
            return linear && TEXT.matcher(name).matches() ? networkDim : 0;
        }
        if (m.component() != Component.UNET) {
            return 0;
        }
        if (TRANSFORMER.matcher(name).matches()) {
            return linear || oneByOne ? networkDim : 0;
        }
        if (convDim > 0 && RESNET_OR_SAMPLER.matcher(name).matches()) {
            return linear || oneByOne ? networkDim : convDim;
        }
        return 0;
    }

    /** Whether the module gets the LoCon (conv) rank and alpha. */
    static boolean isConvRank(NetworkModule m) {
        return m.kind() == ModuleKind.CONV2D && !(m.weightShape()[2] == 1 && m.weightShape()[3] == 1);
    }

    /**
     * The names a LoRA file may give the module: kohya's ({@link #kohyaName}), and for the UNet also the ldm spelling
     * ({@code lora_unet_input_blocks_1_1_proj_in}) that kohya writes for SDXL and A1111 and Easel's extract accept.
     */
    static java.util.List<String> namesInFiles(NetworkModule m, boolean sdxl) {
        String kohya = kohyaName(m, sdxl);
        String ldm = m.ldmName();
        if (m.component() == Component.UNET && ldm.startsWith("model.diffusion_model.")) {
            String alt = "lora_unet_" + ldm.substring("model.diffusion_model.".length()).replace('.', '_');
            if (!alt.equals(kohya)) {
                return java.util.List.of(kohya, alt);
            }
        }
        return java.util.List.of(kohya);
    }

    /** kohya's module name: the prefix, then the diffusers name with dots as underscores. */
    static String kohyaName(NetworkModule m, boolean sdxl) {
        String prefix = switch (m.component()) {
            case UNET -> "lora_unet_";
            case TEXT_ENCODER -> sdxl ? "lora_te1_" : "lora_te_";
            case TEXT_ENCODER_2 -> "lora_te2_";
            default -> throw new IllegalArgumentException("lora/kohya does not adapt " + m.component());
        };
        return prefix + m.diffusersName().replace('.', '_');
    }
}
