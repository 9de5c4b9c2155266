package dev.easel.core.convert;

import dev.easel.api.tensor.TensorInfo;
import dev.easel.core.model.SdFamily;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Tensor names of SD1.x/SD2.x checkpoints between the original (ldm) layout and the diffusers layout, as
 * diffusers' {@code convert_diffusers_to_original_stable_diffusion.py} and {@code single_file_utils.py} map them:
 * UNet blocks ({@code input_blocks.4.0.in_layers.0} ↔ {@code down_blocks.1.resnets.0.norm1}), VAE blocks with the
 * mid-attention 1×1 convolutions ↔ linear weights, the SD1 CLIP text encoder (same names under another prefix)
 * and SD2's OpenCLIP encoder ({@code in_proj} split into q/k/v, {@code text_projection} transposed).
 *
 * <p>Every mapping moves bytes unchanged (reshape, row slices, concatenation, transpose), so converting there and
 * back gives bit-identical tensors. In the flat diffusers namespace names carry their component folder as a
 * prefix ({@code unet.}, {@code vae.}, {@code text_encoder.}).
 */
public final class LdmDiffusersMapping {
    static final String UNET = "model.diffusion_model.";
    static final String VAE = "first_stage_model.";
    static final String CLIP_L = "cond_stage_model.transformer.";
    static final String OPEN_CLIP = "cond_stage_model.model.";

    private static final String[][] UNET_TOP = {
        {"time_embed.0.", "time_embedding.linear_1."}, {"time_embed.2.", "time_embedding.linear_2."},
        {"input_blocks.0.0.", "conv_in."}, {"out.0.", "conv_norm_out."}, {"out.2.", "conv_out."}};
    private static final String[][] RESNET = {
        {"in_layers.0.", "norm1."}, {"in_layers.2.", "conv1."}, {"out_layers.0.", "norm2."},
        {"out_layers.3.", "conv2."}, {"emb_layers.1.", "time_emb_proj."}, {"skip_connection.", "conv_shortcut."}};
    private static final String[][] VAE_ATTN = {
        {"norm.", "group_norm."}, {"q.", "to_q."}, {"k.", "to_k."}, {"v.", "to_v."}, {"proj_out.", "to_out.0."}};
    private static final String[][] VAE_ATTN_LEGACY = {
        {"query.", "to_q."}, {"key.", "to_k."}, {"value.", "to_v."}, {"proj_attn.", "to_out.0."}};
    private static final String[][] OPEN_CLIP_LAYER = {
        {"ln_1.", "layer_norm1."}, {"ln_2.", "layer_norm2."}, {"mlp.c_fc.", "mlp.fc1."}, {"mlp.c_proj.", "mlp.fc2."},
        {"attn.out_proj.", "self_attn.out_proj."}};

    private static final Pattern INPUT = Pattern.compile("input_blocks\\.(\\d+)\\.(\\d+)\\.(.*)");
    private static final Pattern MIDDLE = Pattern.compile("middle_block\\.(\\d+)\\.(.*)");
    private static final Pattern OUTPUT = Pattern.compile("output_blocks\\.(\\d+)\\.(\\d+)\\.(.*)");
    private static final Pattern DOWN = Pattern.compile("down_blocks\\.(\\d+)\\.(resnets|attentions|downsamplers)\\.(\\d+)\\.(.*)");
    private static final Pattern MID = Pattern.compile("mid_block\\.(resnets|attentions)\\.(\\d+)\\.(.*)");
    private static final Pattern UP = Pattern.compile("up_blocks\\.(\\d+)\\.(resnets|attentions|upsamplers)\\.(\\d+)\\.(.*)");
    private static final Pattern VAE_LDM = Pattern.compile("(encoder|decoder)\\.(down|up)\\.(\\d+)\\.(block\\.(\\d+)|downsample|upsample)\\.(.*)");
    private static final Pattern VAE_HF = Pattern.compile("(encoder|decoder)\\.(down_blocks|up_blocks)\\.(\\d+)\\.(resnets\\.(\\d+)|downsamplers\\.0|upsamplers\\.0)\\.(.*)");
    private static final Pattern RESBLOCK = Pattern.compile("transformer\\.resblocks\\.(\\d+)\\.(.*)");
    private static final Pattern HF_LAYER = Pattern.compile("text_model\\.encoder\\.layers\\.(\\d+)\\.(.*)");

    /**
     * The outcome of a layout conversion.
     *
     * @param recipes one per output tensor, in input order
     * @param dropped input tensors the target layout has no place for (schedule buffers, EMA copies, unknown keys)
     */
    public record Conversion(List<TensorRecipe> recipes, List<String> dropped) {
    }

    private LdmDiffusersMapping() {
    }

    /** ldm → diffusers. */
    public static Conversion toDiffusers(List<TensorInfo> tensors, SdFamily family) {
        checkFamily(family);
        List<TensorRecipe> out = new ArrayList<>();
        List<String> dropped = new ArrayList<>();
        for (TensorInfo t : tensors) {
            String k = t.name();
            if (k.startsWith(UNET)) {
                String d = unetToDiffusers(k.substring(UNET.length()));
                add(out, dropped, t, d == null ? null : "unet." + d);
            } else if (k.startsWith(VAE)) {
                String rest = k.substring(VAE.length());
                String d = vaeToDiffusers(rest);
                if (d != null && isVaeAttnWeight(d) && t.rank() == 4) {
                    out.add(TensorRecipe.whole(t, "vae." + d, t.dim(0), t.dim(1)));
                } else {
                    add(out, dropped, t, d == null ? null : "vae." + d);
                }
            } else if (k.startsWith(CLIP_L)) {
                String rest = k.substring(CLIP_L.length());
                // Checkpoints made with transformers < 4.x lack the text_model level.
                add(out, dropped, t, "text_encoder." + (rest.startsWith("text_model.") ? rest : "text_model." + rest));
            } else if (k.startsWith(OPEN_CLIP)) {
                openClipToDiffusers(t, k.substring(OPEN_CLIP.length()), out, dropped);
            } else {
                dropped.add(k);
            }
        }
        return new Conversion(out, dropped);
    }

    /** diffusers → ldm; {@code family} decides the text encoder naming (CLIP-L for SD1, OpenCLIP for SD2). */
    public static Conversion toLdm(List<TensorInfo> tensors, SdFamily family) {
        checkFamily(family);
        List<TensorRecipe> out = new ArrayList<>();
        List<String> dropped = new ArrayList<>();
        Map<String, TensorInfo> byName = index(tensors);
        for (TensorInfo t : tensors) {
            String k = t.name();
            if (k.startsWith("unet.")) {
                String l = unetToLdm(k.substring(5));
                add(out, dropped, t, l == null ? null : UNET + l);
            } else if (k.startsWith("vae.")) {
                String l = vaeToLdm(k.substring(4));
                if (l != null && isVaeAttnWeight(vaeToDiffusers(l)) && t.rank() == 2) {
                    out.add(TensorRecipe.whole(t, VAE + l, t.dim(0), t.dim(1), 1, 1));
                } else {
                    add(out, dropped, t, l == null ? null : VAE + l);
                }
            } else if (k.startsWith("text_encoder.")) {
                String rest = k.substring("text_encoder.".length());
                if (family == SdFamily.SD2) {
                    diffusersToOpenClip(t, rest, byName, out, dropped);
                } else {
                    add(out, dropped, t, CLIP_L + rest);
                }
            } else {
                dropped.add(k);
            }
        }
        return new Conversion(out, dropped);
    }

    private static void checkFamily(SdFamily family) {
        if (family == SdFamily.SDXL) {
            throw new IllegalArgumentException("ldm <-> diffusers conversion covers SD1.x and SD2.x; this is an SDXL model");
        }
    }

    private static Map<String, TensorInfo> index(List<TensorInfo> tensors) {
        Map<String, TensorInfo> m = new HashMap<>(tensors.size() * 2);
        for (TensorInfo t : tensors) {
            m.put(t.name(), t);
        }
        return m;
    }

    private static void add(List<TensorRecipe> out, List<String> dropped, TensorInfo t, String name) {
        if (name == null) {
            dropped.add(t.name());
        } else {
            out.add(TensorRecipe.renamed(t, name));
        }
    }

    private static String rename(String rest, String[][] table, boolean forward) {
        for (String[] pair : table) {
            String from = forward ? pair[0] : pair[1];
            if (rest.startsWith(from)) {
                return (forward ? pair[1] : pair[0]) + rest.substring(from.length());
            }
        }
        return rest;
    }

    static String unetToDiffusers(String k) {
        for (String[] pair : UNET_TOP) {
            if (k.startsWith(pair[0])) {
                return pair[1] + k.substring(pair[0].length());
            }
        }
        Matcher m = INPUT.matcher(k);
        if (m.matches()) {
            int n = Integer.parseInt(m.group(1)) - 1;
            int sub = Integer.parseInt(m.group(2));
            String rest = m.group(3);
            int i = n / 3;
            int j = n % 3;
            if (n < 0) {
                return null;
            }
            if (j < 2 && sub == 0) {
                return "down_blocks." + i + ".resnets." + j + "." + rename(rest, RESNET, true);
            }
            if (j < 2 && sub == 1) {
                return "down_blocks." + i + ".attentions." + j + "." + rest;
            }
            if (j == 2 && sub == 0 && rest.startsWith("op.")) {
                return "down_blocks." + i + ".downsamplers.0.conv." + rest.substring(3);
            }
            return null;
        }
        m = MIDDLE.matcher(k);
        if (m.matches()) {
            return switch (m.group(1)) {
                case "0" -> "mid_block.resnets.0." + rename(m.group(2), RESNET, true);
                case "1" -> "mid_block.attentions.0." + m.group(2);
                case "2" -> "mid_block.resnets.1." + rename(m.group(2), RESNET, true);
                default -> null;
            };
        }
        m = OUTPUT.matcher(k);
        if (m.matches()) {
            int n = Integer.parseInt(m.group(1));
            int sub = Integer.parseInt(m.group(2));
            String rest = m.group(3);
            int i = n / 3;
            int j = n % 3;
            if (sub == 0) {
                return "up_blocks." + i + ".resnets." + j + "." + rename(rest, RESNET, true);
            }
            if (sub == 1 && i > 0) {
                return "up_blocks." + i + ".attentions." + j + "." + rest;
            }
            if (j == 2 && ((sub == 1 && i == 0) || sub == 2)) {
                return "up_blocks." + i + ".upsamplers.0." + rest;
            }
        }
        return null;
    }

    static String unetToLdm(String k) {
        for (String[] pair : UNET_TOP) {
            if (k.startsWith(pair[1])) {
                return pair[0] + k.substring(pair[1].length());
            }
        }
        Matcher m = DOWN.matcher(k);
        if (m.matches()) {
            int i = Integer.parseInt(m.group(1));
            int j = Integer.parseInt(m.group(3));
            String rest = m.group(4);
            return switch (m.group(2)) {
                case "resnets" -> "input_blocks." + (3 * i + j + 1) + ".0." + rename(rest, RESNET, false);
                case "attentions" -> "input_blocks." + (3 * i + j + 1) + ".1." + rest;
                default -> rest.startsWith("conv.") ? "input_blocks." + (3 * (i + 1)) + ".0.op." + rest.substring(5) : null;
            };
        }
        m = MID.matcher(k);
        if (m.matches()) {
            int j = Integer.parseInt(m.group(2));
            return m.group(1).equals("resnets") ? "middle_block." + (2 * j) + "." + rename(m.group(3), RESNET, false)
                    : "middle_block.1." + m.group(3);
        }
        m = UP.matcher(k);
        if (m.matches()) {
            int i = Integer.parseInt(m.group(1));
            int j = Integer.parseInt(m.group(3));
            String rest = m.group(4);
            return switch (m.group(2)) {
                case "resnets" -> "output_blocks." + (3 * i + j) + ".0." + rename(rest, RESNET, false);
                case "attentions" -> "output_blocks." + (3 * i + j) + ".1." + rest;
                default -> "output_blocks." + (3 * i + 2) + "." + (i == 0 ? 1 : 2) + "." + rest;
            };
        }
        return null;
    }

    static String vaeToDiffusers(String k) {
        if (k.startsWith("quant_conv.") || k.startsWith("post_quant_conv.")) {
            return k;
        }
        int dot = k.indexOf('.');
        if (dot < 0) {
            return null;
        }
        String side = k.substring(0, dot);
        String rest = k.substring(dot + 1);
        if (!side.equals("encoder") && !side.equals("decoder")) {
            return null;
        }
        if (rest.startsWith("conv_in.") || rest.startsWith("conv_out.")) {
            return k;
        }
        if (rest.startsWith("norm_out.")) {
            return side + ".conv_norm_out." + rest.substring(9);
        }
        if (rest.startsWith("mid.block_1.") || rest.startsWith("mid.block_2.")) {
            return side + ".mid_block.resnets." + (rest.charAt(10) == '1' ? 0 : 1) + "."
                    + resnetVae(rest.substring(12), true);
        }
        if (rest.startsWith("mid.attn_1.")) {
            String a = rest.substring(11);
            String r = rename(a, VAE_ATTN, true);
            return r.equals(a) ? null : side + ".mid_block.attentions.0." + r;
        }
        Matcher m = VAE_LDM.matcher(k);
        if (!m.matches()) {
            return null;
        }
        int level = Integer.parseInt(m.group(3));
        boolean down = m.group(2).equals("down");
        int i = down ? level : 3 - level;
        String tail = m.group(6);
        if (m.group(5) != null) {
            return side + (down ? ".down_blocks." : ".up_blocks.") + i + ".resnets." + m.group(5) + "."
                    + resnetVae(tail, true);
        }
        return side + (down ? ".down_blocks." + i + ".downsamplers.0." : ".up_blocks." + i + ".upsamplers.0.") + tail;
    }

    static String vaeToLdm(String k) {
        if (k.startsWith("quant_conv.") || k.startsWith("post_quant_conv.")) {
            return k;
        }
        int dot = k.indexOf('.');
        if (dot < 0) {
            return null;
        }
        String side = k.substring(0, dot);
        String rest = k.substring(dot + 1);
        if (!side.equals("encoder") && !side.equals("decoder")) {
            return null;
        }
        if (rest.startsWith("conv_in.") || rest.startsWith("conv_out.")) {
            return k;
        }
        if (rest.startsWith("conv_norm_out.")) {
            return side + ".norm_out." + rest.substring(14);
        }
        if (rest.startsWith("mid_block.resnets.0.") || rest.startsWith("mid_block.resnets.1.")) {
            return side + ".mid.block_" + (rest.charAt(18) == '0' ? 1 : 2) + "." + resnetVae(rest.substring(20), false);
        }
        if (rest.startsWith("mid_block.attentions.0.")) {
            String a = rename(rest.substring(23), VAE_ATTN_LEGACY, true);
            String r = rename(a, VAE_ATTN, false);
            return r.equals(a) ? null : side + ".mid.attn_1." + r;
        }
        Matcher m = VAE_HF.matcher(k);
        if (!m.matches()) {
            return null;
        }
        int i = Integer.parseInt(m.group(3));
        boolean down = m.group(2).equals("down_blocks");
        int level = down ? i : 3 - i;
        String tail = m.group(6);
        if (m.group(5) != null) {
            return side + (down ? ".down." : ".up.") + level + ".block." + m.group(5) + "." + resnetVae(tail, false);
        }
        return side + (down ? ".down." + level + ".downsample." : ".up." + level + ".upsample.") + tail;
    }

    private static String resnetVae(String rest, boolean forward) {
        return rename(rest, new String[][] {{"nin_shortcut.", "conv_shortcut."}}, forward);
    }

    private static boolean isVaeAttnWeight(String diffusersName) {
        return diffusersName != null && diffusersName.contains("mid_block.attentions.0.")
                && diffusersName.endsWith(".weight") && !diffusersName.contains("group_norm");
    }

    private static void openClipToDiffusers(TensorInfo t, String rest, List<TensorRecipe> out, List<String> dropped) {
        String te = "text_encoder.";
        switch (rest) {
            case "token_embedding.weight" -> out.add(TensorRecipe.renamed(t, te + "text_model.embeddings.token_embedding.weight"));
            case "positional_embedding" -> out.add(TensorRecipe.renamed(t, te + "text_model.embeddings.position_embedding.weight"));
            case "ln_final.weight", "ln_final.bias" -> out.add(TensorRecipe.renamed(t,
                    te + "text_model.final_layer_norm." + rest.substring(9)));
            case "text_projection" -> {
                if (t.rank() != 2) {
                    dropped.add(t.name());
                    return;
                }
                out.add(new TensorRecipe(new TensorInfo(te + "text_projection.weight", t.dtype(), t.dim(1), t.dim(0)),
                        t.dtype(), List.of(new TensorRecipe.Part(t.name(), 0, t.byteSize())), true));
            }
            case "logit_scale" -> out.add(TensorRecipe.renamed(t, te + "logit_scale"));
            default -> {
                Matcher m = RESBLOCK.matcher(rest);
                if (!m.matches()) {
                    dropped.add(t.name());
                    return;
                }
                String layer = te + "text_model.encoder.layers." + m.group(1) + ".";
                String tail = m.group(2);
                if (tail.equals("attn.in_proj_weight") || tail.equals("attn.in_proj_bias")) {
                    long rows = t.dim(0) / 3;
                    long rowBytes = t.byteSize() / t.dim(0);
                    String suffix = tail.endsWith("weight") ? "weight" : "bias";
                    String[] qkv = {"q_proj", "k_proj", "v_proj"};
                    for (int i = 0; i < 3; i++) {
                        long[] shape = t.shape();
                        shape[0] = rows;
                        out.add(new TensorRecipe(new TensorInfo(layer + "self_attn." + qkv[i] + "." + suffix,
                                t.dtype(), shape), t.dtype(), List.of(new TensorRecipe.Part(t.name(),
                                i * rows * rowBytes, rows * rowBytes)), false));
                    }
                    return;
                }
                String r = rename(tail, OPEN_CLIP_LAYER, true);
                if (r.equals(tail)) {
                    dropped.add(t.name());
                } else {
                    out.add(TensorRecipe.renamed(t, layer + r));
                }
            }
        }
    }

    private static void diffusersToOpenClip(TensorInfo t, String rest, Map<String, TensorInfo> byName,
            List<TensorRecipe> out, List<String> dropped) {
        String oc = OPEN_CLIP;
        switch (rest) {
            case "text_model.embeddings.token_embedding.weight" -> out.add(TensorRecipe.renamed(t, oc + "token_embedding.weight"));
            case "text_model.embeddings.position_embedding.weight" -> out.add(TensorRecipe.renamed(t, oc + "positional_embedding"));
            case "text_model.final_layer_norm.weight", "text_model.final_layer_norm.bias" -> out.add(TensorRecipe.renamed(t,
                    oc + "ln_final." + rest.substring(rest.lastIndexOf('.') + 1)));
            case "text_projection.weight" -> out.add(new TensorRecipe(new TensorInfo(oc + "text_projection", t.dtype(),
                    t.dim(1), t.dim(0)), t.dtype(), List.of(new TensorRecipe.Part(t.name(), 0, t.byteSize())), true));
            case "logit_scale" -> out.add(TensorRecipe.renamed(t, oc + "logit_scale"));
            case "text_model.embeddings.position_ids" -> dropped.add(t.name());
            default -> {
                Matcher m = HF_LAYER.matcher(rest);
                if (!m.matches()) {
                    dropped.add(t.name());
                    return;
                }
                String block = oc + "transformer.resblocks." + m.group(1) + ".";
                String tail = m.group(2);
                if (tail.startsWith("self_attn.q_proj.") || tail.startsWith("self_attn.k_proj.")
                        || tail.startsWith("self_attn.v_proj.")) {
                    if (!tail.startsWith("self_attn.q_proj.")) {
                        return; // joined with q below
                    }
                    String suffix = tail.substring("self_attn.q_proj.".length());
                    String prefix = "text_encoder." + "text_model.encoder.layers." + m.group(1) + ".self_attn.";
                    TensorInfo k = byName.get(prefix + "k_proj." + suffix);
                    TensorInfo v = byName.get(prefix + "v_proj." + suffix);
                    if (k == null || v == null || !k.sameShape(t) || !v.sameShape(t) || k.dtype() != t.dtype()
                            || v.dtype() != t.dtype()) {
                        dropped.add(t.name());
                        return;
                    }
                    long[] shape = t.shape();
                    shape[0] *= 3;
                    out.add(new TensorRecipe(new TensorInfo(block + "attn.in_proj_" + suffix, t.dtype(), shape),
                            t.dtype(), List.of(new TensorRecipe.Part(t.name(), 0, t.byteSize()),
                            new TensorRecipe.Part(k.name(), 0, k.byteSize()),
                            new TensorRecipe.Part(v.name(), 0, v.byteSize())), false));
                    return;
                }
                String r = rename(tail, OPEN_CLIP_LAYER, false);
                if (r.equals(tail)) {
                    dropped.add(t.name());
                } else {
                    out.add(TensorRecipe.renamed(t, block + r));
                }
            }
        }
    }
}
