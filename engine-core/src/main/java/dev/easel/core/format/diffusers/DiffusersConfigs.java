package dev.easel.core.format.diffusers;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.easel.api.tensor.TensorInfo;
import dev.easel.core.model.SdFamily;
import dev.easel.core.model.SdModelInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The JSON configs of a diffusers pipeline, derived from the weights' shapes (channels, layers, context width,
 * inpainting input) and the detected family, with the values diffusers' own single-file conversion writes
 * ({@code single_file_utils.py}: {@code create_unet_diffusers_config_from_ldm}, {@code SCHEDULER_DEFAULT_CONFIG}).
 */
final class DiffusersConfigs {
    static final String DIFFUSERS_VERSION = "0.27.2";
    static final String TRANSFORMERS_VERSION = "4.38.2";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private DiffusersConfigs() {
    }

    static void writeJson(Path file, ObjectNode node) throws IOException {
        Files.createDirectories(file.getParent());
        Files.writeString(file, JSON.writeValueAsString(node) + "\n");
    }

    static ObjectNode modelIndex(SdModelInfo info, List<String> components) {
        ObjectNode n = JSON.createObjectNode();
        n.put("_class_name", info.inpainting() ? "StableDiffusionInpaintPipeline" : "StableDiffusionPipeline");
        n.put("_diffusers_version", DIFFUSERS_VERSION);
        n.set("feature_extractor", pair(null, null));
        n.put("requires_safety_checker", false);
        n.set("safety_checker", pair(null, null));
        n.set("scheduler", pair("diffusers", "PNDMScheduler"));
        if (components.contains("text_encoder")) {
            n.set("text_encoder", pair("transformers", "CLIPTextModel"));
            n.set("tokenizer", pair("transformers", "CLIPTokenizer"));
        }
        if (components.contains("unet")) {
            n.set("unet", pair("diffusers", "UNet2DConditionModel"));
        }
        if (components.contains("vae")) {
            n.set("vae", pair("diffusers", "AutoencoderKL"));
        }
        return n;
    }

    private static ArrayNode pair(String a, String b) {
        ArrayNode arr = JSON.createArrayNode();
        if (a == null) {
            arr.addNull();
            arr.addNull();
        } else {
            arr.add(a);
            arr.add(b);
        }
        return arr;
    }

    static ObjectNode unet(SdModelInfo info, List<TensorInfo> tensors) {
        Map<String, TensorInfo> t = index(tensors);
        int levels = count(tensors, "down_blocks.", 0);
        ObjectNode n = JSON.createObjectNode();
        n.put("_class_name", "UNet2DConditionModel");
        n.put("_diffusers_version", DIFFUSERS_VERSION);
        n.put("act_fn", "silu");
        boolean sd2 = info.family() == SdFamily.SD2;
        ArrayNode heads = JSON.createArrayNode();
        ArrayNode channels = JSON.createArrayNode();
        ArrayNode down = JSON.createArrayNode();
        ArrayNode up = JSON.createArrayNode();
        for (int i = 0; i < levels; i++) {
            TensorInfo conv = t.get("down_blocks." + i + ".resnets.0.conv1.weight");
            long c = conv == null ? 0 : conv.dim(0);
            channels.add(c);
            heads.add(sd2 ? c / 64 : 8);
            down.add(t.containsKey("down_blocks." + i + ".attentions.0.norm.weight") ? "CrossAttnDownBlock2D" : "DownBlock2D");
        }
        for (int i = 0; i < levels; i++) {
            up.add(t.containsKey("up_blocks." + i + ".attentions.0.norm.weight") ? "CrossAttnUpBlock2D" : "UpBlock2D");
        }
        if (sd2) {
            n.set("attention_head_dim", heads);
        } else {
            n.put("attention_head_dim", 8);
        }
        n.set("block_out_channels", channels);
        n.put("center_input_sample", false);
        TensorInfo toK = tensors.stream().filter(x -> x.name().endsWith("attn2.to_k.weight")).findFirst().orElse(null);
        n.put("cross_attention_dim", toK == null ? 768 : toK.dim(1));
        n.set("down_block_types", down);
        n.put("downsample_padding", 1);
        n.put("dual_cross_attention", false);
        n.put("flip_sin_to_cos", true);
        n.put("freq_shift", 0);
        TensorInfo convIn = t.get("conv_in.weight");
        TensorInfo convOut = t.get("conv_out.weight");
        n.put("in_channels", convIn == null ? 4 : convIn.dim(1));
        n.put("layers_per_block", count(tensors, "down_blocks.0.resnets.", 0));
        n.put("mid_block_scale_factor", 1);
        n.put("norm_eps", 1e-5);
        n.put("norm_num_groups", 32);
        n.put("out_channels", convOut == null ? 4 : convOut.dim(0));
        boolean v = info.prediction().startsWith("v");
        n.put("sample_size", sd2 && v ? 96 : 64);
        n.set("up_block_types", up);
        n.put("upcast_attention", sd2 && v);
        TensorInfo projIn = t.get("down_blocks.0.attentions.0.proj_in.weight");
        n.put("use_linear_projection", projIn != null && projIn.rank() == 2);
        return n;
    }

    static ObjectNode vae(SdModelInfo info, List<TensorInfo> tensors) {
        Map<String, TensorInfo> t = index(tensors);
        int levels = count(tensors, "encoder.down_blocks.", 0);
        ObjectNode n = JSON.createObjectNode();
        n.put("_class_name", "AutoencoderKL");
        n.put("_diffusers_version", DIFFUSERS_VERSION);
        n.put("act_fn", "silu");
        ArrayNode channels = JSON.createArrayNode();
        ArrayNode down = JSON.createArrayNode();
        ArrayNode up = JSON.createArrayNode();
        for (int i = 0; i < levels; i++) {
            TensorInfo conv = t.get("encoder.down_blocks." + i + ".resnets.0.conv1.weight");
            channels.add(conv == null ? 0 : conv.dim(0));
            down.add("DownEncoderBlock2D");
            up.add("UpDecoderBlock2D");
        }
        n.set("block_out_channels", channels);
        n.set("down_block_types", down);
        TensorInfo in = t.get("encoder.conv_in.weight");
        TensorInfo out = t.get("decoder.conv_out.weight");
        TensorInfo latent = t.get("decoder.conv_in.weight");
        n.put("in_channels", in == null ? 3 : in.dim(1));
        n.put("latent_channels", latent == null ? 4 : latent.dim(1));
        n.put("layers_per_block", count(tensors, "encoder.down_blocks.0.resnets.", 0));
        n.put("norm_num_groups", 32);
        n.put("out_channels", out == null ? 3 : out.dim(0));
        n.put("sample_size", info.family() == SdFamily.SD2 && info.prediction().startsWith("v") ? 768 : 512);
        n.put("scaling_factor", info.family() == SdFamily.SDXL ? 0.13025 : 0.18215);
        n.set("up_block_types", up);
        return n;
    }

    static ObjectNode textEncoder(SdModelInfo info, List<TensorInfo> tensors) {
        Map<String, TensorInfo> t = index(tensors);
        TensorInfo tok = t.get("text_model.embeddings.token_embedding.weight");
        TensorInfo pos = t.get("text_model.embeddings.position_embedding.weight");
        TensorInfo fc1 = t.get("text_model.encoder.layers.0.mlp.fc1.weight");
        long hidden = tok == null ? 768 : tok.dim(1);
        int layers = count(tensors, "text_model.encoder.layers.", 0);
        boolean sd2 = info.family() == SdFamily.SD2;
        ObjectNode n = JSON.createObjectNode();
        n.putArray("architectures").add("CLIPTextModel");
        n.put("attention_dropout", 0.0);
        n.put("bos_token_id", 0);
        n.put("dropout", 0.0);
        n.put("eos_token_id", 2);
        n.put("hidden_act", sd2 ? "gelu" : "quick_gelu");
        n.put("hidden_size", hidden);
        n.put("initializer_factor", 1.0);
        n.put("initializer_range", 0.02);
        n.put("intermediate_size", fc1 == null ? hidden * 4 : fc1.dim(0));
        n.put("layer_norm_eps", 1e-5);
        n.put("max_position_embeddings", pos == null ? 77 : pos.dim(0));
        n.put("model_type", "clip_text_model");
        n.put("num_attention_heads", hidden / 64);
        // SD2 conditions on the penultimate layer: diffusers' text encoder stops there (the last layer's weights
        // stay in the file so that converting back is lossless; transformers ignores them).
        n.put("num_hidden_layers", sd2 ? layers - 1 : layers);
        n.put("pad_token_id", 1);
        n.put("projection_dim", sd2 ? 512 : 768);
        n.put("torch_dtype", "float32");
        n.put("transformers_version", TRANSFORMERS_VERSION);
        n.put("vocab_size", tok == null ? 49408 : tok.dim(0));
        return n;
    }

    static ObjectNode scheduler(SdModelInfo info) {
        ObjectNode n = JSON.createObjectNode();
        n.put("_class_name", "PNDMScheduler");
        n.put("_diffusers_version", DIFFUSERS_VERSION);
        n.put("beta_end", 0.012);
        n.put("beta_schedule", "scaled_linear");
        n.put("beta_start", 0.00085);
        n.put("clip_sample", false);
        n.put("num_train_timesteps", 1000);
        n.put("prediction_type", info.prediction().startsWith("v") ? "v_prediction" : "epsilon");
        n.put("set_alpha_to_one", false);
        n.put("skip_prk_steps", true);
        n.put("steps_offset", 1);
        n.put("timestep_spacing", "leading");
        n.putNull("trained_betas");
        return n;
    }

    static ObjectNode tokenizerConfig(SdModelInfo info) {
        boolean sd2 = info.family() == SdFamily.SD2;
        ObjectNode n = JSON.createObjectNode();
        n.put("add_prefix_space", false);
        n.put("bos_token", "<|startoftext|>");
        n.put("clean_up_tokenization_spaces", true);
        n.put("do_lower_case", true);
        n.put("eos_token", "<|endoftext|>");
        n.put("errors", "replace");
        n.put("model_max_length", 77);
        n.put("pad_token", sd2 ? "!" : "<|endoftext|>");
        n.put("tokenizer_class", "CLIPTokenizer");
        n.put("unk_token", "<|endoftext|>");
        return n;
    }

    static ObjectNode specialTokens(SdModelInfo info) {
        ObjectNode n = JSON.createObjectNode();
        n.put("bos_token", "<|startoftext|>");
        n.put("eos_token", "<|endoftext|>");
        n.put("pad_token", info.family() == SdFamily.SD2 ? "!" : "<|endoftext|>");
        n.put("unk_token", "<|endoftext|>");
        return n;
    }

    private static Map<String, TensorInfo> index(List<TensorInfo> tensors) {
        Map<String, TensorInfo> m = new HashMap<>();
        for (TensorInfo t : tensors) {
            m.put(t.name(), t);
        }
        return m;
    }

    /** Number of distinct integer indices after {@code prefix} (e.g. levels of {@code down_blocks.}). */
    private static int count(List<TensorInfo> tensors, String prefix, int unused) {
        TreeSet<Integer> seen = new TreeSet<>();
        for (TensorInfo t : tensors) {
            if (t.name().startsWith(prefix)) {
                String rest = t.name().substring(prefix.length());
                int dot = rest.indexOf('.');
                try {
                    seen.add(Integer.parseInt(dot < 0 ? rest : rest.substring(0, dot)));
                } catch (NumberFormatException ignored) {
                    // not an indexed child
                }
            }
        }
        return seen.size();
    }
}
