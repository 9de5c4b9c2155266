package dev.easel.core.model;

import dev.easel.api.tensor.TensorInfo;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Detects family, layout, components, EMA, inpainting and a prediction hint from tensor names and shapes only
 * (never tensor data), with the keys diffusers' single-file loader uses ({@code single_file_utils.py}
 * {@code CHECKPOINT_KEY_NAMES}): the cross-attention context width (768 SD1, 1024 SD2, 2048 SDXL), the OpenCLIP
 * text encoder of SD2 ({@code cond_stage_model.model.*}), SDXL's conditioner embedders and label embedding, and
 * the UNet's conv_in input channels.
 */
public final class SdDetector {
    private static final String LDM_UNET = "model.diffusion_model.";

    private SdDetector() {
    }

    /** Detects from the tensor list and the file's metadata ({@code modelspec.*}, {@code global_step}). */
    public static SdModelInfo detect(List<TensorInfo> tensors, Map<String, String> metadata) {
        Map<String, TensorInfo> byName = new HashMap<>(tensors.size() * 2);
        boolean ldm = false;
        boolean diffusers = false;
        boolean unet = false;
        boolean vae = false;
        boolean te = false;
        boolean te2 = false;
        boolean sd2Text = false;
        boolean xl = false;
        int emaKeys = 0;
        long context = 0;
        for (TensorInfo t : tensors) {
            String k = t.name();
            byName.put(k, t);
            if (k.startsWith(LDM_UNET)) {
                ldm = true;
                unet = true;
            } else if (k.startsWith("first_stage_model.")) {
                ldm = true;
                vae = true;
            } else if (k.startsWith("cond_stage_model.")) {
                ldm = true;
                te = true;
                sd2Text |= k.startsWith("cond_stage_model.model.");
            } else if (k.startsWith("conditioner.embedders.")) {
                ldm = true;
                xl = true;
                te = true;
                te2 |= k.startsWith("conditioner.embedders.1.");
            } else if (k.startsWith("model_ema.")) {
                emaKeys++;
            } else if (k.startsWith("unet.")) {
                diffusers = true;
                unet = true;
            } else if (k.startsWith("vae.")) {
                diffusers = true;
                vae = true;
            } else if (k.startsWith("text_encoder.")) {
                diffusers = true;
                te = true;
            } else if (k.startsWith("text_encoder_2.")) {
                diffusers = true;
                te2 = true;
                xl = true;
            } else if (k.startsWith("down_blocks.") || k.startsWith("mid_block.") || k.equals("conv_in.weight")) {
                diffusers = true;
                unet = true;
            }
            if (k.contains("label_emb.") || k.contains("add_embedding.")) {
                xl = true;
            }
            if (k.endsWith("attn2.to_k.weight") && t.rank() == 2) {
                context = Math.max(context, t.dim(1));
            }
        }
        SdFamily family;
        if (xl || context == 2048) {
            family = SdFamily.SDXL;
        } else if (sd2Text || context == 1024) {
            family = SdFamily.SD2;
        } else if (context == 768 || byName.containsKey("cond_stage_model.transformer.text_model.final_layer_norm.weight")
                || byName.containsKey(LDM_UNET + "output_blocks.11.0.skip_connection.weight")) {
            family = SdFamily.SD1;
        } else {
            family = SdFamily.UNKNOWN;
        }
        int inChannels = 0;
        for (String convIn : List.of(LDM_UNET + "input_blocks.0.0.weight", "unet.conv_in.weight", "conv_in.weight")) {
            TensorInfo t = byName.get(convIn);
            if (t != null && t.rank() == 4) {
                inChannels = (int) t.dim(1);
                break;
            }
        }
        List<String> components = new ArrayList<>();
        if (unet) {
            components.add("unet");
        }
        if (vae) {
            components.add("vae");
        }
        if (te) {
            components.add("text_encoder");
        }
        if (te2) {
            components.add("text_encoder_2");
        }
        SdLayout layout = ldm ? SdLayout.LDM : diffusers ? SdLayout.DIFFUSERS : SdLayout.UNKNOWN;
        return new SdModelInfo(family, layout, components, emaKeys > 2, inChannels,
                prediction(family, byName, metadata));
    }

    private static String prediction(SdFamily family, Map<String, TensorInfo> byName, Map<String, String> metadata) {
        String spec = metadata.get("modelspec.prediction_type");
        if (spec != null) {
            return spec.equals("v") ? "v_prediction" : spec;
        }
        String config = metadata.get("prediction_type");
        if (config != null) {
            return config;
        }
        if (byName.containsKey("v_pred")) {
            return "v_prediction";
        }
        return switch (family) {
            case SD1, SDXL -> "epsilon";
            // diffusers' rule for SD2 single files: step 875000 is the 512 base (epsilon), otherwise 768-v.
            case SD2 -> "875000".equals(metadata.get("global_step")) ? "epsilon" : "v_prediction?";
            default -> "unknown";
        };
    }
}
