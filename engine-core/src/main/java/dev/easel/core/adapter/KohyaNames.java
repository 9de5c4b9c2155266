package dev.easel.core.adapter;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * kohya's flattened module names ({@code down_blocks_0_attentions_0_proj_in}) back to dotted paths
 * ({@code down_blocks.0.attentions.0.proj_in}). Flattening loses which underscores were dots; like diffusers'
 * {@code _convert_non_diffusers_lora_to_diffusers}, the words that contain underscores in SD module names are known
 * and kept together, every other underscore becomes a dot.
 */
public final class KohyaNames {
    private static final Set<String> WORDS = Set.of(
            "down_blocks", "up_blocks", "mid_block", "transformer_blocks", "input_blocks", "output_blocks",
            "middle_block", "in_layers", "out_layers", "emb_layers", "skip_connection", "time_emb_proj",
            "conv_shortcut", "proj_in", "proj_out", "to_q", "to_k", "to_v", "to_out", "conv_in", "conv_out",
            "conv_norm_out", "time_embedding", "time_embed", "linear_1", "linear_2", "label_emb", "add_embedding",
            "text_model", "self_attn", "q_proj", "k_proj", "v_proj", "out_proj", "final_layer_norm", "layer_norm1",
            "layer_norm2", "token_embedding", "position_embedding", "norm_out", "diffusion_model", "in_proj",
            "c_fc", "c_proj", "ln_1", "ln_2", "text_projection", "conv_act", "nin_shortcut");
    private static final int LONGEST = 3;

    private KohyaNames() {
    }

    /** The dotted path of a flattened name (without kohya's {@code lora_unet_}/{@code lora_te_} prefix). */
    public static String unflatten(String flat) {
        String[] tokens = flat.split("_");
        List<String> parts = new ArrayList<>();
        int i = 0;
        while (i < tokens.length) {
            int taken = 1;
            for (int n = Math.min(LONGEST, tokens.length - i); n >= 2; n--) {
                String word = String.join("_", java.util.Arrays.copyOfRange(tokens, i, i + n));
                if (WORDS.contains(word)) {
                    taken = n;
                    break;
                }
            }
            parts.add(String.join("_", java.util.Arrays.copyOfRange(tokens, i, i + taken)));
            i += taken;
        }
        return String.join(".", parts);
    }

    /** A dotted path flattened as kohya flattens it. */
    public static String flatten(String dotted) {
        return dotted.replace('.', '_');
    }
}
