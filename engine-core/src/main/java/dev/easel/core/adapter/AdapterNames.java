package dev.easel.core.adapter;

/**
 * Module names between the kohya spelling and the PEFT/diffusers spelling, without a checkpoint at hand, by the rules
 * diffusers' {@code _convert_non_diffusers_lora_to_diffusers} and {@code convert_state_dict_to_kohya} use. kohya
 * writes SD1/SD2 UNet names in diffusers spelling and SDXL UNet names in ldm spelling; PEFT always uses diffusers
 * paths under {@code unet.}, {@code text_encoder.} and {@code text_encoder_2.}.
 */
public final class AdapterNames {
    private AdapterNames() {
    }

    /** The PEFT module path of a kohya (or LyCORIS-wrapper) module name, or {@code null} if it has no such form. */
    public static String toPeft(String kohya) {
        String n = AdapterKeyMap.normalize(kohya);
        if (n.startsWith("unet.") || n.startsWith("text_encoder.") || n.startsWith("text_encoder_2.")) {
            return n;
        }
        String unet = null;
        if (n.startsWith("lora_unet_")) {
            unet = n.substring("lora_unet_".length());
        } else if (n.startsWith("lycoris_")) {
            unet = n.substring("lycoris_".length());
        }
        if (unet != null) {
            String dotted = KohyaNames.unflatten(unet);
            if (dotted.startsWith("input_blocks") || dotted.startsWith("middle_block")
                    || dotted.startsWith("output_blocks") || dotted.startsWith("time_embed")
                    || dotted.startsWith("label_emb") || dotted.startsWith("out.")) {
                dotted = UnetNames.ldmToDiffusers(dotted);
            }
            return dotted == null ? null : "unet." + dotted;
        }
        if (n.startsWith("lora_te2_")) {
            return "text_encoder_2." + KohyaNames.unflatten(n.substring("lora_te2_".length()));
        }
        if (n.startsWith("lora_te1_")) {
            return "text_encoder." + KohyaNames.unflatten(n.substring("lora_te1_".length()));
        }
        if (n.startsWith("lora_te_")) {
            return "text_encoder." + KohyaNames.unflatten(n.substring("lora_te_".length()));
        }
        return null;
    }

    /**
     * The kohya module name of a PEFT path or other spelling; SDXL UNet modules get kohya's ldm spelling.
     *
     * @param sdxl whether the adapter is for SDXL
     */
    public static String toKohya(String name, boolean sdxl) {
        String n = AdapterKeyMap.normalize(name);
        if (n.startsWith("lora_") || n.startsWith("oft_")) {
            return n;
        }
        if (n.startsWith("lycoris_")) {
            n = "unet." + KohyaNames.unflatten(n.substring("lycoris_".length()));
        }
        if (!n.startsWith("unet.") && !n.startsWith("text_encoder")) {
            n = "unet." + n;
        }
        if (n.startsWith("unet.")) {
            String d = n.substring("unet.".length());
            if (sdxl) {
                String ldm = UnetNames.diffusersToLdm(d, i -> true);
                if (ldm != null) {
                    return "lora_unet_" + KohyaNames.flatten(ldm);
                }
            }
            return "lora_unet_" + KohyaNames.flatten(d);
        }
        if (n.startsWith("text_encoder_2.")) {
            return "lora_te2_" + KohyaNames.flatten(n.substring("text_encoder_2.".length()));
        }
        return (sdxl ? "lora_te1_" : "lora_te_") + KohyaNames.flatten(n.substring("text_encoder.".length()));
    }

    /** Whether an adapter's module names say SDXL (a second text encoder, or kohya's ldm-spelled SDXL UNet). */
    public static boolean looksSdxl(Iterable<String> names, java.util.Map<String, String> metadata) {
        String version = metadata.getOrDefault("ss_base_model_version", "");
        if (version.startsWith("sdxl")) {
            return true;
        }
        if (version.startsWith("sd_v")) {
            return false;
        }
        for (String n : names) {
            if (n.startsWith("lora_te2_") || n.startsWith("text_encoder_2.")
                    || n.contains("transformer_blocks_9") || n.contains("transformer_blocks.9")) {
                return true;
            }
        }
        return false;
    }
}
