package dev.easel.core.adapter;

import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Every name an adapter file may use for a module of one checkpoint, built from the checkpoint's own keys as ComfyUI
 * builds its key map: for each weight, its kohya name in ldm spelling ({@code lora_unet_input_blocks_4_1_...}, what
 * kohya writes for SDXL and A1111 accepts for all), in diffusers spelling ({@code lora_unet_down_blocks_1_...}, what
 * kohya writes for SD1/SD2), the LyCORIS-wrapper {@code lycoris_} and kohya-OFT {@code oft_unet_} forms, the
 * PEFT/diffusers dotted names ({@code unet.down_blocks.1...}, {@code text_encoder.text_model...}), and for the text
 * encoders {@code lora_te_}/{@code lora_te1_}/{@code lora_te2_}. OpenCLIP encoders (SD2, SDXL's second) fuse q, k, v
 * into {@code in_proj_weight}; their HF-named modules map onto row thirds of it.
 *
 * <p>Works for checkpoints in the ldm layout ({@code model.diffusion_model.}, {@code cond_stage_model.},
 * {@code conditioner.embedders.N.}) and in the diffusers layout with component prefixes ({@code unet.},
 * {@code text_encoder.}, {@code text_encoder_2.}).
 */
public final class AdapterKeyMap {
    private static final String UNET = "model.diffusion_model.";
    private static final Pattern OPEN_CLIP = Pattern.compile(
            "(cond_stage_model\\.model\\.|conditioner\\.embedders\\.1\\.model\\.)transformer\\.resblocks\\.(\\d+)\\.(.+)");
    private static final Pattern PROCESSOR = Pattern.compile("\\.processor\\.(to_q|to_k|to_v|to_out)_lora$");
    private static final Pattern TE_OLD = Pattern.compile("\\.(to_q|to_k|to_v|to_out)_lora$");

    private final Map<String, AdapterTarget> aliases = new HashMap<>();
    private final Set<String> keys;
    private final Set<String> alternative = new HashSet<>();

    private AdapterKeyMap(Collection<String> modelKeys) {
        this.keys = new HashSet<>(modelKeys);
        int layersPerBlock = UnetNames.layersPerBlock(keys);
        Set<Integer> upWithAttention = new HashSet<>();
        for (String k : keys) {
            Matcher m = Pattern.compile("unet\\.up_blocks\\.(\\d+)\\.attentions\\..*").matcher(k);
            if (m.matches()) {
                upWithAttention.add(Integer.parseInt(m.group(1)));
            }
        }
        for (String key : keys) {
            if (key.startsWith("model_ema.")) {
                continue;
            }
            Matcher oc = OPEN_CLIP.matcher(key);
            if (oc.matches()) {
                openClip(key, oc);
                continue;
            }
            if (!key.endsWith(".weight")) {
                continue;
            }
            String path = key.substring(0, key.length() - ".weight".length());
            AdapterTarget target = new AdapterTarget(key, bias(path), 0, 1);
            if (path.startsWith(UNET)) {
                String p = path.substring(UNET.length());
                unet(p, UnetNames.ldmToDiffusers(p, layersPerBlock), target);
            } else if (path.startsWith("unet.")) {
                String d = path.substring("unet.".length());
                unet(UnetNames.diffusersToLdm(d, layersPerBlock, upWithAttention::contains), d, target);
            } else if (path.startsWith("cond_stage_model.transformer.text_model.")) {
                textEncoder(path.substring("cond_stage_model.transformer.".length()), target, "lora_te_", "lora_te1_",
                        "text_encoder.");
            } else if (path.startsWith("conditioner.embedders.0.transformer.text_model.")) {
                textEncoder(path.substring("conditioner.embedders.0.transformer.".length()), target, "lora_te1_",
                        "lora_te_", "text_encoder.");
            } else if (path.startsWith("text_encoder.text_model.")) {
                textEncoder(path.substring("text_encoder.".length()), target, "lora_te_", "lora_te1_", "text_encoder.");
            } else if (path.startsWith("text_encoder_2.text_model.")) {
                textEncoder(path.substring("text_encoder_2.".length()), target, "lora_te2_", null, "text_encoder_2.");
            }
        }
    }

    /** The map for a checkpoint with these keys. */
    public static AdapterKeyMap forModel(Collection<String> modelKeys) {
        return new AdapterKeyMap(modelKeys);
    }

    /** Where the module of this name (as grouped from an adapter file) lands, if anywhere. */
    public Optional<AdapterTarget> resolve(String moduleName) {
        String n = normalize(moduleName);
        AdapterTarget t = aliases.get(n);
        if (t == null && !n.contains(".")) {
            return Optional.empty();
        }
        if (t == null && !n.startsWith("unet.") && !n.startsWith("text_encoder")) {
            t = aliases.get("unet." + n);
        }
        return Optional.ofNullable(t);
    }

    /**
     * A1111's internal name of a checkpoint weight ({@code network_layer_mapping}): the module path without the
     * checkpoint's component wrapper, dots as underscores ({@code diffusion_model_input_blocks_4_1_..._to_k},
     * {@code transformer_text_model_encoder_layers_11_mlp_fc2}, {@code 0_transformer_text_model_...} for SDXL).
     */
    public static String a1111Name(String weightKey) {
        String p = weightKey.endsWith(".weight") ? weightKey.substring(0, weightKey.length() - 7) : weightKey;
        for (String wrapper : new String[] {"model.", "cond_stage_model.", "conditioner.embedders."}) {
            if (p.startsWith(wrapper)) {
                p = p.substring(wrapper.length());
                break;
            }
        }
        return KohyaNames.flatten(p);
    }

    /** How many distinct names are known (for diagnostics). */
    public int size() {
        return aliases.size();
    }

    /**
     * The spelling the alias table uses: without PEFT's {@code base_model.model.} wrapper, and with the old diffusers
     * attention-processor form ({@code attn1.processor.to_q_lora}) and old text-encoder form
     * ({@code self_attn.to_q_lora}) turned into module paths.
     */
    static String normalize(String name) {
        String n = name.startsWith("base_model.model.") ? name.substring("base_model.model.".length()) : name;
        Matcher p = PROCESSOR.matcher(n);
        if (p.find()) {
            String which = p.group(1);
            return n.substring(0, p.start()) + "." + (which.equals("to_out") ? "to_out.0" : which);
        }
        Matcher te = TE_OLD.matcher(n);
        if (te.find() && n.startsWith("text_encoder")) {
            String which = te.group(1);
            return n.substring(0, te.start()) + "." + (which.equals("to_out") ? "out_proj" : which.substring(3) + "_proj");
        }
        return n;
    }

    private String bias(String path) {
        String b = path + ".bias";
        return keys.contains(b) ? b : null;
    }

    private void unet(String ldm, String diffusers, AdapterTarget target) {
        if (ldm != null) {
            String flat = KohyaNames.flatten(ldm);
            put("lora_unet_" + flat, target);
            put("oft_unet_" + flat, target);
        }
        if (diffusers != null) {
            String flat = KohyaNames.flatten(diffusers);
            put("lora_unet_" + flat, target);
            put("lycoris_" + flat, target);
            put("oft_unet_" + flat, target);
            put("unet." + diffusers, target);
        }
    }

    private void textEncoder(String hfPath, AdapterTarget target, String kohya, String kohyaAlt, String peft) {
        String flat = KohyaNames.flatten(hfPath);
        put(kohya + flat, target);
        if (kohyaAlt != null) {
            putAlternative(kohyaAlt + flat, target);
        }
        put(peft + hfPath, target);
    }

    private void openClip(String key, Matcher m) {
        boolean sdxl = m.group(1).startsWith("conditioner");
        String layer = "text_model.encoder.layers." + m.group(2) + ".";
        String rest = m.group(3);
        String kohya = sdxl ? "lora_te2_" : "lora_te_";
        String kohyaAlt = sdxl ? null : "lora_te1_";
        String peft = sdxl ? "text_encoder_2." : "text_encoder.";
        if (rest.equals("attn.in_proj_weight")) {
            String base = key.substring(0, key.length() - "in_proj_weight".length());
            String biasKey = keys.contains(base + "in_proj_bias") ? base + "in_proj_bias" : null;
            String[] names = {"q_proj", "k_proj", "v_proj"};
            for (int i = 0; i < 3; i++) {
                textEncoder(layer + "self_attn." + names[i], new AdapterTarget(key, biasKey, i, 3), kohya, kohyaAlt,
                        peft);
            }
            return;
        }
        if (!rest.endsWith(".weight")) {
            return;
        }
        String module = rest.substring(0, rest.length() - ".weight".length());
        String hf = switch (module) {
            case "attn.out_proj" -> "self_attn.out_proj";
            case "mlp.c_fc" -> "mlp.fc1";
            case "mlp.c_proj" -> "mlp.fc2";
            case "ln_1" -> "layer_norm1";
            case "ln_2" -> "layer_norm2";
            default -> null;
        };
        if (hf != null) {
            textEncoder(layer + hf, new AdapterTarget(key, bias(key.substring(0, key.length() - ".weight".length())), 0,
                    1), kohya, kohyaAlt, peft);
        }
    }

    private void put(String alias, AdapterTarget target) {
        if (alternative.remove(alias)) {
            aliases.put(alias, target);
        } else {
            aliases.putIfAbsent(alias, target);
        }
    }

    /** A spelling some tools also accept (lora_te1_ for SD1): never displaces a primary spelling. */
    private void putAlternative(String alias, AdapterTarget target) {
        if (!aliases.containsKey(alias)) {
            aliases.put(alias, target);
            alternative.add(alias);
        }
    }
}
